"""The bilingual step guide: help text for every step of the walkthrough.

The guide lives in ``resources/corpus/transformer_guide.txt``. It doubles as the default
training corpus, so it is plain prose with a very small amount of markup::

    ## <key>
    @title-en <short English title>
    @title-zh <short Chinese title>
    @en
    <English paragraphs, blank lines between paragraphs>
    @zh
    <Chinese paragraphs>

A section starts at a ``## `` line. ``@title-<lang>`` lines give one-line titles and a bare
``@<lang>`` line opens a block of body text that runs until the next directive or section.
Every section needs an English title and English text; other languages are optional, and
lookups fall back to English. This module is pure Python (no Qt, no torch).

The guide is written for the bundled model, whose tokenizer is the app's compact vocabulary of
cl100k_base. Any other tokenizer (a model's own full vocabulary from a tokenizer.json, a GGUF
file, GPT-2's files; a compact one of characters or of another tiktoken encoding) gets the
paragraphs that describe it instead, from ``resources/guide/vocabularies.txt`` (not training
text): a section ``<key>/<kind>#<n>`` replaces paragraph n of section <key> for a vocabulary of
that kind (engine.text.vocabulary_kind), ``<key>/full#<n>`` or ``<key>/compact#<n>`` for every
kind of that group, ``<key>/any#<n>`` for all of them; ``origin/<origin>`` is the sentence that
says where a full vocabulary came from. Their ``{placeholders}`` take the model's own figures.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

from engine.model.registry import KINDS
from engine.text.vocabulary_kind import COMPACT, VocabularyFacts

# The sections the app expects, in the order the file presents them.
SECTION_KEYS: tuple[str, ...] = (
    "overview", "tokens", "batch",
    "embed.token", "embed.position", "embed.sum",
    "attn.q", "attn.k", "attn.v", "attn.scores", "attn.scaled", "attn.mask", "attn.masked",
    "attn.pattern", "attn.weighted", "attn.concat", "attn.out",
    "resid1", "ln1", "ffn.hidden", "ffn.act", "ffn.out", "resid2", "ln2",
    "ln_f", "repeat", "logits", "probs", "loss",
    "training", "sampling", "logit_lens", "ablation", "per_token_loss",
    "post_vs_pre_norm", "positional_learned",
    "rotary", "qk_norm", "gated_ffn", "parallel_residual",
)

DEFAULT_LANG = "en"

_SECTION = re.compile(r"^##\s+(\S+)\s*$")
_TITLE = re.compile(r"^@title-([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\s+(\S.*?)\s*$")
_TEXT = re.compile(r"^@([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\s*$")
_BLOCK_PREFIX = re.compile(r"^blocks\.\d+\.")


@dataclass(frozen=True)
class GuideSection:
    """One section of the guide: its key, and title and text per language ("en", "zh")."""

    key: str
    title: dict[str, str]
    text: dict[str, str]

    def title_for(self, lang: str = DEFAULT_LANG) -> str:
        """The title in `lang`, falling back to English."""
        return _pick(self.title, lang)

    def text_for(self, lang: str = DEFAULT_LANG) -> str:
        """The body text in `lang`, falling back to English."""
        return _pick(self.text, lang)


def guide_path() -> Path:
    """Where the bundled guide (and default training corpus) lives."""
    return Path(__file__).resolve().parents[2] / "resources" / "corpus" / "transformer_guide.txt"


def vocabularies_path() -> Path:
    """Where the paragraphs for a model's own vocabulary live (not training text)."""
    return Path(__file__).resolve().parents[2] / "resources" / "guide" / "vocabularies.txt"


def load_guide(path: Path | None = None) -> dict[str, GuideSection]:
    """Parse the guide at `path` (default: the bundled one) into sections, in file order.

    The bundled guide is parsed once and cached; each call returns a fresh dict of the
    (immutable) sections, so callers may modify the dict freely.
    Raises ValueError naming the file and line when the input is malformed.
    """
    if path is None:
        return dict(_load_default())
    return _parse_file(Path(path))


def section_for_step(step_name: str) -> str | None:
    """The guide key for a trace step name, or None if the guide has no such section.

    A leading ``blocks.<n>.`` is dropped, so ``blocks.3.attn.scores`` maps to ``attn.scores``
    and ``blocks.2.ln1`` to ``ln1``; names outside the blocks (``tokens``, ``embed.token``,
    ``ln_f``, ``logits``, ``probs`` ...) map to themselves.
    """
    key = _BLOCK_PREFIX.sub("", step_name.strip())
    declared = KINDS.get(key)  # a step kind names its section in the registry
    key = declared.section if declared is not None else key
    try:
        sections = _load_default()
    except (OSError, ValueError):
        return None
    return key if key in sections else None


def help_text(step_name: str, lang: str = DEFAULT_LANG,
              vocabulary: VocabularyFacts | None = None) -> tuple[str, str]:
    """(title, text) of the help for a step, in `lang` or else English; ("", "") if none.
    With `vocabulary` (the model's tokenizer's facts), a full vocabulary's paragraphs replace
    those written for the app's compact one, with the model's figures."""
    key = section_for_step(step_name)
    if key is None:
        return "", ""
    section = _load_default()[key]
    text = section.text_for(lang)
    if vocabulary is not None and vocabulary.kind != COMPACT:
        text = _for_vocabulary(key, text, lang, vocabulary)
    return section.title_for(lang), text


def _for_vocabulary(key: str, text: str, lang: str, facts: VocabularyFacts) -> str:
    """`text` (section `key`) with each paragraph the vocabulary file has for this kind of
    vocabulary put in its place, its placeholders filled."""
    variants = _load_vocabularies()
    fields = {**facts.fields(), "log_rows": f"{math.log(max(facts.rows, 1)):.1f}"}
    origin = variants.get(f"origin/{facts.origin}")
    fields["origin"] = _fill(origin.text_for(lang), fields) if origin is not None else ""
    paragraphs = text.split("\n\n")
    for n in range(len(paragraphs)):
        for kind in (facts.kind, facts.group, "any"):
            variant = variants.get(f"{key}/{kind}#{n + 1}")
            if variant is not None:
                paragraphs[n] = _fill(variant.text_for(lang), fields)
                break
    return "\n\n".join(paragraphs)


def _fill(text: str, fields: dict[str, str]) -> str:
    """{name} placeholders replaced by their fields (an unknown one is left as written)."""
    return re.sub(r"\{(\w+)\}", lambda m: fields.get(m.group(1), m.group(0)), text)


# --------------------------------------------------------------------------- internals


@functools.lru_cache(maxsize=1)
def _load_default() -> dict[str, GuideSection]:
    return _parse_file(guide_path())


@functools.lru_cache(maxsize=1)
def _load_vocabularies() -> dict[str, GuideSection]:
    return _parse_file(vocabularies_path())


def _pick(table: dict[str, str], lang: str) -> str:
    """table[lang], else its primary language ("zh" for "zh_CN"), else English, else ""."""
    lang = (lang or DEFAULT_LANG).strip()
    for candidate in (lang, lang.lower(), re.split(r"[-_]", lang.lower())[0], DEFAULT_LANG):
        if table.get(candidate):
            return table[candidate]
    return ""


def _parse_file(path: Path) -> dict[str, GuideSection]:
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not valid UTF-8 ({exc})") from exc
    return parse_guide(raw, source=str(path))


class _Draft:
    """A section while it is being read."""

    def __init__(self, key: str, line: int):
        self.key = key
        self.line = line
        self.title: dict[str, str] = {}
        self.text: dict[str, list[str]] = {}

    def finish(self, where) -> GuideSection:
        if not self.title.get(DEFAULT_LANG):
            raise ValueError(where(self.line, f"section '{self.key}' has no @title-{DEFAULT_LANG}"))
        body = {lang: _tidy(lines) for lang, lines in self.text.items()}
        for lang, text in body.items():
            if not text:
                message = f"section '{self.key}' has an empty @{lang} block"
                raise ValueError(where(self.line, message))
        if DEFAULT_LANG not in body:
            raise ValueError(where(self.line, f"section '{self.key}' has no @{DEFAULT_LANG} text"))
        return GuideSection(key=self.key, title=dict(self.title), text=body)


def parse_guide(raw: str, source: str = "<guide>") -> dict[str, GuideSection]:
    """Parse guide text (see the module docstring) into sections keyed by section key.

    Raises ValueError with the source name and 1-based line number of the first problem.
    """

    def where(line: int, message: str) -> str:
        return f"{source}, line {line}: {message}"

    sections: dict[str, GuideSection] = {}
    draft: _Draft | None = None
    block: list[str] | None = None  # the text block being filled, if any

    for number, line in enumerate(raw.splitlines(), start=1):
        line = line.rstrip()
        if line.startswith("##"):
            m = _SECTION.match(line)
            if not m:
                raise ValueError(where(number, f"malformed section header {line!r}"))
            if draft is not None:
                sections[draft.key] = draft.finish(where)
            key = m.group(1)
            if key in sections:
                raise ValueError(where(number, f"duplicate section '{key}'"))
            draft, block = _Draft(key, number), None
            continue
        if line.startswith("@"):
            if draft is None:
                raise ValueError(where(number, f"directive {line!r} before the first section"))
            if m := _TITLE.match(line):
                lang, title = m.group(1), m.group(2)
                if lang in draft.title:
                    raise ValueError(where(number, f"second @title-{lang} in '{draft.key}'"))
                draft.title[lang], block = title, None
            elif m := _TEXT.match(line):
                lang = m.group(1)
                if lang in draft.text:
                    raise ValueError(where(number, f"second @{lang} block in '{draft.key}'"))
                block = draft.text[lang] = []
            else:
                raise ValueError(where(number, f"unknown or malformed directive {line!r}"))
            continue
        if block is not None:
            block.append(line)
        elif line.strip():
            if draft is None:
                what = "before the first section"
            else:
                what = f"outside a text block in '{draft.key}'"
            raise ValueError(where(number, f"text {what}: {line[:40]!r}"))

    if draft is not None:
        sections[draft.key] = draft.finish(where)
    if not sections:
        raise ValueError(f"{source}: no sections found (expected '## <key>' headers)")
    return sections


def _tidy(lines: list[str]) -> str:
    """Join a block's lines, dropping blank lines at the ends and collapsing blank runs to one."""
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1]):
            out.append(line if line.strip() else "")
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
