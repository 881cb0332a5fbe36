"""The Tokens dock: the tokenizer choice above the drawn tokens and their statistics,
redrawn whenever the model or its trace changes."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from engine.text.tokenizers import TokenizerUnavailable
from engine.text.vocabulary_kind import is_full
from gui.panels.tokens.form import TokenizerForm
from gui.panels.tokens.rows import (
    TokenRow,
    base_rows,
    model_rows,
    offered_tokenizers,
    token_stats,
)
from gui.panels.tokens.stats_view import TokenStatsView
from gui.panels.tokens.text_view import TokenTextView
from gui.session import Session
from gui.widgets import EmptyState, LazyPanel, NoteLabel
from gui.widgets.language import Translated

TOP_K = 12  # rows of the most-frequent table


class TokensPanel(Translated, LazyPanel):
    """The current context, tokenized by the model's tokenizer or any other available one."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._rows: list[TokenRow] = []

        self.form = TokenizerForm()
        self.form.changed.connect(self._redraw)
        self.note = NoteLabel(lines=2)
        self.note.setStyleSheet("color: #444;")
        self.view = TokenTextView()
        self.side = TokenStatsView()

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form)
        layout.addWidget(self.note)
        layout.addWidget(splitter, 1)
        self.empty = EmptyState.fill(self, content, self._empty_text)

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._redraw)
        session.language_changed.connect(self._redraw)
        self._on_model_changed()

    def _empty_text(self) -> str:
        return self.tr("No text yet: load a model and type a context to see its tokens.")

    def _retranslate(self) -> None:
        """Words drawn in the interface language (also on every language switch)."""
        self._redraw()  # the notes and statistics are drawn from the data

    # -- public accessors (tests, other views) -----------------------------------------------
    def tokenizer_name(self) -> str:
        """Name of the tokenizer whose split is shown."""
        return self.form.name()

    def set_tokenizer(self, name: str) -> None:
        """Show the split under `name` (one of the offered tokenizers)."""
        self.form.choose(name)

    def token_count(self) -> int:
        """How many tokens the text has under the shown tokenizer."""
        self._flush()
        return len(self._rows)

    def pieces(self) -> list[str]:
        """Display pieces of every token of the text, in order."""
        self._flush()
        return [r.piece for r in self._rows]

    def rows(self) -> list[TokenRow]:
        """Every token of the text, in order."""
        self._flush()
        return list(self._rows)

    def tooltip_for(self, index: int) -> str:
        """The hover text of token `index`: ids, piece and bytes."""
        self._flush()
        return self.view.tooltip_for(index)

    def token_at(self, doc_position: int) -> int | None:
        """Index of the token drawn at a document character position, or None."""
        self._flush()
        return self.view.token_at(doc_position)

    # -- updates ---------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        tok = self.session.tokenizer
        own = tok.name if tok is not None else None
        self.form.offer(offered_tokenizers(own), own)
        self._redraw()

    def _current_text(self) -> str:
        s = self.session
        if s.context_text:
            return s.context_text
        if s.trace is not None and s.tokenizer is not None:
            return s.tokenizer.decode(s.trace.ids[0])
        return ""

    def _rebuild(self) -> None:
        name = self.form.name()
        text = self._current_text()
        if not text:
            self._rows = []
            self.view.show_nothing()
            self.empty.show_empty()
            return
        self.empty.show_content()
        s, tok = self.session, self.session.tokenizer
        own = tok is not None and name == tok.name
        note = ""
        try:
            if own:
                split = model_rows(tok, text, s.trace.ids[0] if s.trace is not None else None)
                rows, window = split.rows, split.window
                if split.greyed:
                    note = self.tr(
                        "The model sees the first {0} tokens (its context length); the {1} after "
                        "them are greyed.").format(window, split.greyed)
            else:
                rows = base_rows(name, text)
                window = len(rows)
                if tok is not None:
                    note = self.tr("How {0} splits the same text (its own ids; the model uses "
                                   "{1}).").format(name, tok.name)
        except TokenizerUnavailable as e:
            self._rows = []
            self.view.show_nothing()
            self.note.setText(str(e))
            self.note.setVisible(True)
            return
        self._rows = rows
        self.note.setText(note)
        self.note.setVisible(bool(note))
        full = own and is_full(tok)  # the model's own vocabulary: its ids are its rows
        self.view.show_rows(rows, window, name, full=full)
        self.side.show_stats(token_stats(text, rows, TOP_K), window, compact_ids=own and not full)
