"""The context box: the text every panel traces through the model, and what the model reads
of it. Also where a newly opened text's first context comes from."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QWidget

from gui.session import Session
from gui.strings import translate


def first_lines(text: str, tokenizer, n_tokens: int, max_chars: int = 400) -> str:
    """The start of `text` that fills about `n_tokens` tokens, ended at a word boundary.

    Leading heading/markup lines ("## overview", "@title-en ...") are skipped: prose makes a
    better first example (a text made only of such lines keeps them).
    """
    lines = text.lstrip("\ufeff").splitlines()
    start = next((i for i, line in enumerate(lines)
                  if line.strip() and line.lstrip()[0] not in "#@<"), 0)
    body = "\n".join(lines[start:]).strip()[: max_chars * 4]
    if tokenizer is None or not body:
        return body[:max_chars]
    ids = tokenizer.encode(body)
    if len(ids) <= n_tokens:
        return body[:max_chars]
    # The decoded first n_tokens tokens, so the context box holds what the model will read.
    head = tokenizer.decode(ids[:n_tokens]).replace("\ufffd", "")
    cut = max(head.rfind(" "), head.rfind("\n"))
    if cut > len(head) // 2 and not head[len(head) - 1].isspace() \
            and not body[len(head):len(head) + 1].isspace():
        head = head[:cut]  # do not end in the middle of a word
    return head.rstrip()[:max_chars]


class ContextBox(QWidget):
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
        session.language_changed.connect(self.retranslate)
        self.retranslate()

    def _t(self, text: str) -> str:
        return translate(text, self.session.lang)

    def retranslate(self, *_args) -> None:
        self.edit.setPlaceholderText(self._t(
            "Type or paste the text to look at; every panel shows how the model processes it."))
        self.setToolTip(self._t("The text every panel traces through the model"))

    def set_text(self, text: str) -> None:
        """Replace the context; the same text again still counts as an edit (new model)."""
        if self.edit.toPlainText() == text:
            self._on_edited()
        else:
            self.edit.setPlainText(text)

    def _on_edited(self) -> None:
        self.session.set_context_text(self.edit.toPlainText())
        self.edited.emit()

    def show_counts(self, n_all: int, n_used: int) -> None:
        """What the model reads of the context: all of it, or its first context_length tokens."""
        s = self.session
        T = s.model.config.context_length if s.model is not None else 0
        if n_all == 0:
            text = "Type some text: the panels show how the model reads it."
        elif n_all > n_used:
            text = (f"{n_all:,} tokens; the model reads the first {n_used} "
                    f"(context_length {T}).")
        else:
            text = f"{n_all:,} {'token' if n_all == 1 else 'tokens'} (context_length {T})."
        unk = 0
        if s.tokenizer is not None and n_all:
            ids = s.tokenizer.encode(s.context_text)[:T]
            unk = int((ids == s.tokenizer.unk_id).sum())
        if unk:
            text += f" {unk} not in the model's vocabulary (shown as <unk>)."
        self.info.setText(text)
        self.info.setStyleSheet("")

    def show_failure(self, exc: BaseException) -> None:
        self.info.setText(f"Could not trace this text: {exc}")
        self.info.setStyleSheet("color: #b00020;")
