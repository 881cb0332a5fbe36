"""A model's own `tokenizer.json` (the Hugging Face `tokenizers` library), as a base encoder.

Two kinds of tokenizer.json cover today's decoders:
- byte-level BPE (GPT-2, Llama 3, Qwen, SmolLM2): a token is written through GPT-2's
  byte-to-unicode table ("Ġ" is a space), the pre-tokenizer splits text with a regex;
- SentencePiece BPE with byte fallback (Llama 2, Gemma, TinyLlama): "▁" stands for a space, and
  a character the vocabulary lacks is spelled by byte tokens "<0xE6>" "<0x88>" "<0x91>".

Encoding is the `tokenizers` library itself (Rust), so ids are exactly the model's own. The bytes
of each token are worked out here, so the Tokens panel shows them honestly: "▁" as a space
(shown "·"), a byte token as that byte, and a piece of a character as its bytes (<e6>).
Special tokens typed in a text are plain text (a corpus may quote "<|endoftext|>");
`encode_prompt` reads them as the model's tokens and adds what the model adds (BOS).
Nothing is ever downloaded, and a tokenizer.json runs no code.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import tokenizers

from engine.text.bpe import token_bytes_of
from engine.text.tokenizers import _cut_at_space

MAX_TOKENIZER_BYTES = 256 << 20  # Gemma 3's tokenizer.json is 33 MB; more is not a tokenizer
BYTE_TOKEN = re.compile(r"<0x([0-9A-Fa-f]{2})>")
SPACE_MARK = "\u2581"  # "▁", SentencePiece's space


class TokenizerJsonError(ValueError):
    """A tokenizer.json that cannot be used; one line naming the file and the reason."""


def _uses(node: Any, kind: str) -> bool:
    """True if a tokenizer.json component (or a Sequence of them) has a part of type `kind`."""
    if isinstance(node, dict):
        if node.get("type") == kind:
            return True
        return any(_uses(v, kind) for v in node.values() if isinstance(v, (dict, list)))
    if isinstance(node, list):
        return any(_uses(v, kind) for v in node)
    return False


def _strip_start(decoder: Any) -> int:
    """Leading spaces the decoder strips from a whole decode (SentencePiece's prepended "▁")."""
    if isinstance(decoder, dict):
        if decoder.get("type") == "Strip" and decoder.get("content", " ") == " ":
            return int(decoder.get("start", 0))
        if decoder.get("type") == "Metaspace" and decoder.get("prepend_scheme", "always") != "never":
            return 1
        return sum(_strip_start(d) for d in decoder.get("decoders") or [])
    return 0


class TokenizerJsonBase:
    """A tokenizer.json as a base encoder: original ids are the model's own token ids."""

    kind = "tokenizer.json"

    def __init__(self, name: str, text: str, settings: str | None = None,
                 from_gguf: bool = False):
        self.name, self.text = name, text
        # tokenizer_config.json's text when the model came with one: nothing here reads it
        # (its chat template is never run); an export writes it back beside tokenizer.json.
        self.settings = settings
        self.from_gguf = from_gguf  # rebuilt from a GGUF file's vocabulary, not a file of its own
        try:
            data = json.loads(text)
            self._tok = tokenizers.Tokenizer.from_str(text)
        except Exception as e:  # the Rust library raises plain Exception on a malformed file
            raise TokenizerJsonError(
                f"'{name}' is not a usable tokenizer.json ({' '.join(str(e).split())[:160]})"
            ) from None
        model = data.get("model") or {}
        self.model_type = str(model.get("type"))
        self.byte_level = _uses(data.get("pre_tokenizer"), "ByteLevel") or _uses(
            data.get("decoder"), "ByteLevel")
        self.byte_fallback = bool(model.get("byte_fallback")) or _uses(
            data.get("decoder"), "ByteFallback")
        self._strip = 0 if self.byte_level else _strip_start(data.get("decoder"))
        # Cutting a long text into parts is safe only where no normalizer or prefix space
        # is added to each part (see safe_cut).
        self._cuttable = (self.byte_level and data.get("normalizer") is None
                          and not _uses(data.get("pre_tokenizer"), "Metaspace")
                          and '"add_prefix_space": true' not in json.dumps(
                              data.get("pre_tokenizer")).replace("True", "true"))
        added = self._tok.get_added_tokens_decoder()  # id -> AddedToken
        self.special_ids = {int(i) for i, t in added.items() if t.special}
        vocab = self._tok.get_vocab(with_added_tokens=True)  # token -> id
        self.n_ids = max(vocab.values(), default=-1) + 1
        self._table: list[bytes | None] = [None] * self.n_ids
        for token, i in vocab.items():
            self._table[i] = self._bytes_of(token, i in added)
        self.bos_id = self._first_of(("<s>", "<bos>", "<|begin_of_text|>"))
        self.eos_id = self._first_of(("</s>", "<eos>", "<|end_of_text|>", "<|endoftext|>"))

    def _bytes_of(self, token: str, added: bool) -> bytes:
        if added:  # an added token is written plainly
            return token.encode("utf-8")
        if self.byte_level:
            return token_bytes_of(token)
        m = BYTE_TOKEN.fullmatch(token) if self.byte_fallback else None
        if m:
            return bytes([int(m.group(1), 16)])
        return token.replace(SPACE_MARK, " ").encode("utf-8")

    def _first_of(self, names: tuple[str, ...]) -> int | None:
        # tokenizer.json has no bos/eos field: the usual names find them (generation takes
        # them from the model's own config when it has them).
        for name in names:
            i = self._tok.token_to_id(name)
            if i is not None:
                return int(i)
        return None

    # ---- encoding ----------------------------------------------------------------------

    def encode(self, text: str) -> np.ndarray:
        """The model's ids of `text` (int64); special tokens in the text are plain text."""
        self._tok.encode_special_tokens = True
        return np.asarray(self._tok.encode(text, add_special_tokens=False).ids, dtype=np.int64)

    def encode_prompt(self, text: str) -> np.ndarray:
        """Ids as the model's own tokenizer gives them for a prompt: special tokens written in
        the text are tokens, and BOS is added when the tokenizer adds it."""
        self._tok.encode_special_tokens = False
        ids = self._tok.encode(text, add_special_tokens=True).ids
        return np.asarray(ids, dtype=np.int64)

    def encode_large(self, text: str, num_threads: int = 2,
                     part_chars: int = 1 << 18) -> np.ndarray:
        """Ids (uint32) of a long text; parts cut at safe places are encoded in parallel."""
        parts, start = [], 0
        while len(text) - start > part_chars:
            cut = self.safe_cut(text, start, start + part_chars)
            if cut < 0:
                break
            parts.append(text[start:cut])
            start = cut
        parts.append(text[start:])
        self._tok.encode_special_tokens = True
        out = self._tok.encode_batch(parts, add_special_tokens=False)
        return np.concatenate([np.asarray(e.ids, dtype=np.uint32) for e in out])

    def safe_cut(self, text: str, start: int, end: int) -> int:
        """An index in (start, end) where cutting leaves the tokens unchanged, or -1.

        Only a byte-level BPE with no normalizer is cut: at a single newline between a
        non-space and a letter (every GPT-2, Llama 3 and Qwen pattern ends a pre-token there
        on both sides), else at a single space between two non-spaces. SentencePiece adds
        "▁" at the start of each text, so it is never cut."""
        if not self._cuttable:
            return -1
        hi = end - 1
        while (q := text.rfind("\n", start + 1, hi)) >= 0:
            if not text[q - 1].isspace() and text[q + 1].isalpha():
                return q + 1
            hi = q
        return _cut_at_space(text, start, end)

    # ---- bytes -------------------------------------------------------------------------

    def decode_bytes(self, ids: np.ndarray) -> bytes:
        """The joined bytes of ids, as the model's decoder gives them (SentencePiece's
        leading space of the text removed); ids with no token add nothing."""
        data = b"".join(self._table[i] or b"" if 0 <= i < self.n_ids else b""
                        for i in np.asarray(ids, dtype=np.int64).ravel().tolist())
        for _ in range(self._strip):
            if data.startswith(b" "):
                data = data[1:]
        return data

    def token_bytes(self, original_id: int) -> bytes:
        """Exact bytes of one token ("▁" as a space, <0xE6> as that byte); ValueError if the
        tokenizer has no such id."""
        i = int(original_id)
        if not 0 <= i < self.n_ids or self._table[i] is None:
            raise ValueError(f"id {original_id} does not exist in {self.name}")
        return self._table[i]

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild it elsewhere (a training process, a checkpoint)."""
        out = {"type": "tokenizer.json", "name": self.name, "json": self.text}
        if self.settings is not None:
            out["settings"] = self.settings
        if self.from_gguf:
            out["gguf"] = True
        return out


def read_tokenizer_json(path: str | Path, name: str | None = None) -> TokenizerJsonBase:
    """The tokenizer.json at `path`, with the tokenizer_config.json beside it kept as text
    (`settings`) when that is a JSON object; TokenizerJsonError (one line) if the tokenizer is
    unreadable or malformed."""
    path = Path(path)
    text = _read_text(path)
    return TokenizerJsonBase(name or f"{path.parent.name}/{path.name}", text,
                             _settings(path.parent / "tokenizer_config.json"))


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_TOKENIZER_BYTES:
            raise TokenizerJsonError(f"'{path.name}' is {size:,} bytes, too large for a "
                                     f"tokenizer (at most {MAX_TOKENIZER_BYTES:,})")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TokenizerJsonError(f"'{path.name}' could not be read ({e})") from None


def _settings(path: Path) -> str | None:
    """tokenizer_config.json's text, or None where there is none usable (the model runs
    without it: only an export writes it back)."""
    if not path.is_file():
        return None
    try:
        text = _read_text(path)
        return text if isinstance(json.loads(text), dict) else None
    except (TokenizerJsonError, ValueError):
        return None
