"""Reading a user's text file in whatever encoding it was saved in, and saying which.

The encoding is chosen by evidence over the whole file, never by "UTF-8 failed somewhere, so
GB18030": a byte-order mark decides at once; otherwise one streaming pass counts the bytes that
are not valid UTF-8 and the characters that are. A file that is mostly UTF-8 with a few stray
bytes (a Latin-1 "ï" in an English text, one damaged byte in a Chinese article) is read as
UTF-8 with those bytes replaced by U+FFFD, and the count and the first offset are reported.
GB18030 is chosen only when the file decodes as GB18030 and reads as Chinese (GB2312
characters), UTF-16 without a mark only when its zero bytes or its characters say so.
"""
from __future__ import annotations

import codecs
import itertools
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from engine.text.filetype import foreign_model_message, special_kind
from engine.wording import say

CHUNK_BYTES = 1 << 20  # decoded per step: memory stays bounded (~25x this) for any file size
_HEAD_BYTES = 64 << 10  # zero bytes and UTF-16 patterns are judged on this much
_FEW_BAD = 16  # up to this many stray bytes (or 1 in 1,000) still make a file "mostly UTF-8"
_LONE = re.compile("[\udc80-\udcff]")  # surrogateescape's stand-ins for undecodable bytes
# Characters a real UTF-16 text without a byte-order mark consists of.
_PLAUSIBLE_16 = re.compile(
    "[\t\n\r\x20-\x7e\u00a0-\u024f\u2000-\u206f\u3000-\u303f\u4e00-\u9fff\uff01-\uff5e]"
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")  # never in text (\f allowed)

# Names the detector chooses -> (Python codec, bytes of byte-order mark to skip)
_DETECTED = {
    "utf-8": ("utf-8", 0),
    "utf-8-sig": ("utf-8", len(codecs.BOM_UTF8)),
    "utf-16-le": ("utf-16-le", 0),
    "utf-16-be": ("utf-16-be", 0),
    "gb18030": ("gb18030", 0),  # a superset of GBK and GB2312
    "cp1252": ("cp1252", 0),  # Western European text saved by older Windows programs
}


class CorpusError(ValueError):
    """The file cannot be used as (training) text; the message says why and what to do."""


@dataclass(frozen=True)
class Decoding:
    """How a file's bytes became text: the encoding, why it was chosen, what was replaced."""

    name: str  # "utf-8", "utf-8-sig", "utf-16-le", "gb18030", "cp1252", or the user's choice
    chosen_by: str = "evidence"  # "bom", "evidence" or "user" (--encoding / the Open dialog)
    bom: int = 0  # bytes of byte-order mark skipped at the start
    replaced: int = 0  # bytes that were not valid in this encoding; each became U+FFFD
    first_bad: int | None = None  # byte offset of the first of them

    @property
    def codec(self) -> str:
        """The Python codec that decodes the file."""
        return _DETECTED[self.name][0] if self.name in _DETECTED else self.name

    def describe(self) -> str:
        """One phrase for a status line: "utf-8 (detected; 1 invalid byte replaced, at 1,204)"."""
        how = say(f"decoding.{self.chosen_by}")  # "bom", "evidence" or "user"
        if not self.replaced:
            return say("decoding.clean", name=self.name, how=how)
        if self.replaced == 1:
            return say("decoding.replaced_one", name=self.name, how=how, first=self.first_bad)
        return say("decoding.replaced", name=self.name, how=how, n=self.replaced,
                   first=self.first_bad)


@dataclass
class TextFile:
    """A whole decoded file (for files small enough to hold; large ones are streamed)."""

    text: str
    decoding: Decoding


def check_file(path: Path) -> int:
    """The size of a readable, non-empty file; CorpusError naming the problem otherwise."""
    if not path.exists():
        raise CorpusError(say("text.missing", path=str(path)))
    if path.is_dir():
        raise CorpusError(say("text.folder", path=str(path)))
    special = special_kind(path)
    if special is not None:
        raise CorpusError(say("file.not_regular", name=path.name, kind=special))
    size = path.stat().st_size
    if size == 0:
        raise CorpusError(say("text.empty", name=path.name))
    return size


def binary_error(path: Path) -> CorpusError:
    """The refusal of bytes that are not text in any encoding we read."""
    return CorpusError(say("text.binary", name=path.name))


# ---------------------------------------------------------------------------------------------
# Choosing the encoding.


def _chunks(path: Path, start: int, chunk_bytes: int) -> Iterator[bytes]:
    with open(path, "rb") as f:
        f.seek(start)
        while raw := f.read(chunk_bytes):
            yield raw


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


@dataclass
class _Evidence:
    bad: int = 0  # bytes that are not valid UTF-8
    first_bad: int | None = None
    valid: int = 0  # non-ASCII characters that are valid UTF-8


def _utf8_evidence(path: Path, chunk_bytes: int) -> _Evidence:
    """One pass over the file counting invalid bytes and valid non-ASCII characters."""
    ev = _Evidence()
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    read = 0
    for raw in _chunks(path, 0, chunk_bytes):
        pending = len(decoder.getstate()[0])
        text = decoder.decode(raw)
        _count_lone(text, read - pending, "utf-8", ev)
        read += len(raw)
    _count_lone(decoder.decode(b"", final=True), read - len(decoder.getstate()[0]), "utf-8", ev)
    return ev


def _count_lone(text: str, offset: int, codec: str, ev: _Evidence) -> str:
    """Count (and replace by U+FFFD) surrogateescape stand-ins in a decoded chunk."""
    non_ascii = _non_ascii(text)
    m = _LONE.search(text)
    if m is None:
        ev.valid += non_ascii
        return text
    cleaned = _LONE.sub("\ufffd", text)
    n = len(text) - len(_LONE.sub("", text))
    if ev.first_bad is None:
        try:
            ev.first_bad = offset + len(text[: m.start()].encode(codec, "surrogateescape"))
        except UnicodeError:  # a codec that cannot re-encode its own output: chunk start
            ev.first_bad = offset
    ev.bad += n
    ev.valid += non_ascii - n
    return cleaned


def _gb_evidence(path: Path, chunk_bytes: int) -> tuple[bool, int, int]:
    """(decodes strictly as GB18030, its GB2312 characters, its non-ASCII characters)."""
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    gb2312 = multi = 0
    try:
        for raw in itertools.chain(_chunks(path, 0, chunk_bytes), [b""]):
            text = decoder.decode(raw, final=not raw)
            n_ascii = len(text.encode("ascii", "ignore"))
            multi += len(text) - n_ascii
            # Real Chinese lives in GB2312 (two bytes >= 0xA1); Latin-1 bytes misread as
            # GBK land in its extension, so they do not count as evidence.
            gb2312 += (len(text.encode("gb2312", "ignore")) - n_ascii) // 2
    except UnicodeDecodeError:
        return False, gb2312, multi
    return True, gb2312, multi


def _utf16_without_bom(head: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when the head is clearly UTF-16 text without a mark."""
    even = head[: len(head) // 2 * 2]
    if len(even) < 8:
        return None
    zeros_lo, zeros_hi = even[0::2].count(0), even[1::2].count(0)
    half = len(even) // 2
    # ASCII in UTF-16-LE puts its zero in the second byte of each pair; the first is zero only
    # for U+xx00 characters (such as 一, U+4E00), which are a few per cent of a text at most.
    # The characters themselves then decide.
    candidates = [name for name, zeros in (("utf-16-le", zeros_lo), ("utf-16-be", zeros_hi))
                  if zeros <= 0.1 * half]
    for name in candidates:
        text = codecs.getincrementaldecoder(name)("replace").decode(even)
        plausible = len(text) - len(_PLAUSIBLE_16.sub("", text))
        # A repeated pair of bytes reads as one character: real text has many different ones.
        varied = len(set(text)) >= min(16, len(text) // 2)
        if text and plausible >= 0.95 * len(text) and varied and "\ufffd" not in text:
            return name
    return None


def detect_encoding(path: str | Path, chunk_bytes: int = CHUNK_BYTES) -> Decoding:
    """The encoding of a text file, chosen by evidence over all of it; CorpusError if none."""
    path = Path(path)
    check_file(path)
    with open(path, "rb") as f:
        head = f.read(_HEAD_BYTES)
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            return Decoding(name, "bom", bom=len(bom))
    foreign = foreign_model_message(path.name, head)
    if foreign is not None:
        raise CorpusError(foreign)
    if b"\0" in head:
        name = _utf16_without_bom(head)
        if name is None:
            raise binary_error(path)
        return Decoding(name)
    ev = _utf8_evidence(path, chunk_bytes)
    if ev.bad == 0:
        return Decoding("utf-8")
    size = path.stat().st_size
    gb_ok, gb2312, multi = _gb_evidence(path, chunk_bytes)
    if gb_ok and gb2312 >= 0.8 * multi and gb2312 > ev.valid and ev.bad > ev.valid:
        return Decoding("gb18030")
    if ev.valid == 0 and size % 2 == 0:
        name = _utf16_without_bom(head)
        if name is not None:
            return Decoding(name)
    if ev.valid >= ev.bad or ev.bad <= max(_FEW_BAD, size // 1000):
        return Decoding("utf-8", replaced=ev.bad, first_bad=ev.first_bad)
    if _reads_as_cp1252(path, chunk_bytes):
        return Decoding("cp1252")
    raise binary_error(path)


def _reads_as_cp1252(path: Path, chunk_bytes: int) -> bool:
    """Western text: decodes, mostly ASCII (accents are a few letters), no control bytes."""
    decoder = codecs.getincrementaldecoder("cp1252")("strict")
    chars = non_ascii = 0
    try:
        for raw in _chunks(path, 0, chunk_bytes):
            text = decoder.decode(raw)
            if _CONTROL.search(text):
                return False
            chars += len(text)
            non_ascii += _non_ascii(text)
    except UnicodeDecodeError:
        return False
    return chars > 0 and non_ascii <= 0.3 * chars


def user_decoding(path: str | Path, encoding: str) -> Decoding:
    """The Decoding for an encoding the user named (any Python codec name, e.g. "gbk")."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise CorpusError(say("text.unknown_encoding", encoding=encoding)) from None
    bom = 0
    if name == "utf-8":
        with open(path, "rb") as f:
            bom = len(codecs.BOM_UTF8) if f.read(3) == codecs.BOM_UTF8 else 0
    return Decoding(name, "user", bom=bom)


def choose_decoding(path: str | Path, encoding: str | None = None) -> Decoding:
    """The user's encoding when given, else the detected one."""
    path = Path(path)
    check_file(path)
    return detect_encoding(path) if encoding is None else user_decoding(path, encoding)


# ---------------------------------------------------------------------------------------------
# Decoding, streamed.


class DecodedStream:
    """The text of a file in chunks; `decoding` gains the replacement count as it goes.

    Bytes invalid in the chosen encoding become U+FFFD (the detector already decided the file
    is text), so a stream never fails half-way through a long file.
    """

    def __init__(self, path: Path, decoding: Decoding, chunk_bytes: int = CHUNK_BYTES):
        self.path, self.chunk_bytes = path, chunk_bytes
        self.decoding = decoding
        self.bytes_done = decoding.bom  # of the file, for progress

    def __iter__(self) -> Iterator[str]:
        d = self.decoding
        decoder = codecs.getincrementaldecoder(d.codec)("surrogateescape")
        ev = _Evidence()
        read = d.bom
        for raw in itertools.chain(_chunks(self.path, d.bom, self.chunk_bytes), [b""]):
            try:
                pending = len(decoder.getstate()[0])
            except (AttributeError, TypeError):  # codecs without readable state
                pending = 0
            text = decoder.decode(raw, final=not raw)
            text = _count_lone(text, read - pending, d.codec, ev)
            read += len(raw)
            self.bytes_done = read
            if ev.bad:
                self.decoding = replace(d, replaced=ev.bad, first_bad=ev.first_bad)
            if text or raw:
                yield text


def open_text(path: str | Path, encoding: str | None = None) -> TextFile:
    """The whole text of a file and how it was decoded; CorpusError if it is not text."""
    path = Path(path)
    stream = DecodedStream(path, choose_decoding(path, encoding))
    text = "".join(stream)
    if not text:
        raise CorpusError(say("text.empty", name=path.name))
    return TextFile(text, stream.decoding)
