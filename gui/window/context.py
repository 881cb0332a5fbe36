"""The context box: the text every panel traces through the model, and what the model reads
of it. Also where a newly opened text's first context comes from."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QWidget

from gui.session import Session
from gui.widgets.language import Translated


_MARKUP = "#@<"  # heading and markup lines: "## overview", "@title-en ...", "<h1>"
_SENTENCE_END = ".!?;:。！？；：…\"'”’)）"
HEADING_CHARS = 60  # a shorter line that ends without punctuation reads as a heading
HEAD_BYTES = 16_384  # of a text, for the first context of a model opened with it
LONG_ENOUGH = 32  # tokens a paragraph needs to start the context (or the whole window, if less)


def _is_heading(line: str) -> bool:
    s = line.strip()
    return (not s or s[0] in _MARKUP
            or (len(s) < HEADING_CHARS and not s.endswith(tuple(_SENTENCE_END))))


def _paragraph_starts(lines: list[str]) -> list[tuple[int, int]]:
    """(first line, end line) of each paragraph once its leading headings are skipped."""
    out, i = [], 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        end = i + 1  # a markup line ends a paragraph as a blank line does
        while end < len(lines) and lines[end].strip() and lines[end].lstrip()[0] not in _MARKUP:
            end += 1
        start = next((j for j in range(i, end) if not _is_heading(lines[j])), None)
        if start is not None:
            out.append((start, end))
        i = end
    return out


def first_lines(text: str, tokenizer, n_tokens: int, max_chars: int = 0) -> str:
    """A full context window of `text`: `n_tokens` tokens from the start of the first paragraph
    that is long enough, running on into the next paragraphs if it is shorter than that.

    Headings and markup lines ("Transformer Architecture", "## overview", "@title-en ...") are
    skipped: a 2-token heading would make 2 x 2 attention maps. Long enough means at least
    LONG_ENOUGH tokens (or the whole window, when that is smaller); if no paragraph is, the
    first from which the text still fills the window; a text shorter than the window is taken
    whole from its first prose line. `max_chars` (0: none) caps the result in characters.
    """
    lines = text.lstrip("\ufeff").splitlines()
    paragraphs = _paragraph_starts(lines)
    cap = (lambda t: t[:max_chars]) if max_chars else (lambda t: t)
    if not paragraphs:  # only headings and markup: keep them
        return cap(text.lstrip("\ufeff").strip())
    if tokenizer is None:
        return cap("\n".join(lines[paragraphs[0][0]:]).strip())

    def count(t: str) -> int:  # enough of `t` to tell (a token is at least half a character)
        return len(tokenizer.encode(t[: 12 * n_tokens]))

    need = min(n_tokens, LONG_ENOUGH)
    start = next((first for first, end in paragraphs
                  if count("\n".join(lines[first:end])) >= need), None)
    if start is None:  # no long paragraph: the first from which the rest fills the window
        start = next((first for first, _end in paragraphs
                      if count("\n".join(lines[first:])) >= n_tokens), paragraphs[0][0])
    # Markup lines met on the way are left out: the context is prose the model was trained on.
    body = "\n".join(line for line in lines[start:]
                     if not line.strip() or line.lstrip()[0] not in _MARKUP).strip()
    ids = tokenizer.encode(body)
    if len(ids) <= n_tokens:
        return cap(body)
    return cap(_decoded_window(tokenizer, ids, n_tokens))


def _decoded_window(tokenizer, ids, n_tokens: int) -> str:
    """The text of the first `n_tokens` tokens, such that it encodes to `n_tokens` tokens
    again (a character split between tokens is completed by the next token)."""
    fallback = ""
    for m in range(n_tokens, min(n_tokens + 8, len(ids)) + 1):
        head = tokenizer.decode(ids[:m]).replace("\ufffd", "").rstrip()
        k = len(tokenizer.encode(head))
        if k == n_tokens:
            return head
        if k < n_tokens:
            fallback = head
            continue
        break
    return fallback or tokenizer.decode(ids[:n_tokens]).replace("\ufffd", "")


class ContextBox(Translated, QWidget):
    """The editable context and a line saying how many of its tokens the model reads."""

    edited = Signal()  # the user (or set_text) changed the text; session already updated

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.edit = QPlainTextEdit()
        self.edit.setTabChangesFocus(True)
        self.edit.setMinimumHeight(44)
        # A few lines are enough to edit the context; the panels below need the height.
        self.setMaximumHeight(150)
        self.edit.textChanged.connect(self._on_edited)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setMinimumWidth(220)
        self.info.setMaximumWidth(320)
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.info)
        self._counts: tuple[int, int, int] | None = None  # the last counts shown, redrawn on a switch
        self._failure: BaseException | None = None
        self._retranslate()

    def _retranslate(self) -> None:
        self.edit.setPlaceholderText(self.tr(
            "Type or paste the text to look at; every panel shows how the model processes it."))
        self.setToolTip(self.tip())
        if self._failure is not None:
            self.show_failure(self._failure)
        elif self._counts is not None:
            self.show_counts(*self._counts)

    def tip(self) -> str:
        """The box's tooltip in the interface language (its dock shows it too)."""
        return self.tr("The text every panel traces through the model")

    def set_text(self, text: str) -> None:
        """Replace the context; the same text again still counts as an edit (new model)."""
        if self.edit.toPlainText() == text:
            self._on_edited()
        else:
            self.edit.setPlainText(text)

    def _on_edited(self) -> None:
        self.session.set_context_text(self.edit.toPlainText())
        self.edited.emit()

    def show_counts(self, n_all: int, n_used: int, unk: int = 0) -> None:
        """What the model reads of the context: all of it, or its first context_length tokens,
        and how many of those the vocabulary lacks."""
        self._counts, self._failure = (n_all, n_used, unk), None
        s = self.session
        T = s.model.config.context_length if s.model is not None else 0
        if n_all == 0:
            text = self.tr("Type some text: the panels show how the model reads it.")
        elif n_all > n_used:
            text = self.tr("{0} tokens; the model reads the first {1} (context_length {2}).") \
                .format(f"{n_all:,}", n_used, T)
        elif n_all == 1:
            text = self.tr("1 token (context_length {0}).").format(T)
        else:
            text = self.tr("{0} tokens (context_length {1}).").format(f"{n_all:,}", T)
        if unk:
            text += " " + self.tr(
                "{0} not in the model's vocabulary (shown as <unk>).").format(unk)
        self.info.setText(text)
        self.info.setStyleSheet("")

    def show_failure(self, exc: BaseException) -> None:
        self._failure = exc
        self.info.setText(self.tr("Could not trace this text: {0}").format(exc))
        self.info.setStyleSheet("color: #b00020;")


def head_context(tokenizer, corpus_path: str | None, n_tokens: int) -> str:
    """The first lines of the text at `corpus_path` as a first context ("" when unreadable)."""
    if not (corpus_path and Path(corpus_path).is_file()):
        return ""
    from engine.text.textfile import DecodedStream, choose_decoding

    try:
        # Decoded as training would decode it (one home for the encoding rules); only the
        # first chunk is read: the first lines are all we need, even of a huge file.
        stream = DecodedStream(Path(corpus_path), choose_decoding(corpus_path),
                               chunk_bytes=HEAD_BYTES)
        text = next(iter(stream), "")
    except (OSError, ValueError):
        return ""
    return first_lines(text, tokenizer, n_tokens)
