"""The context drawn as tokens: each on its own pastel background, greyed after the model's
context window, red for the unknown id, and its ids and bytes on hover."""
from __future__ import annotations

import bisect
import html

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QTextBrowser, QToolTip, QWidget

from gui.panels.tokens.rows import TokenRow, characters_of, utf16_len

PASTELS = ("#ffe0b2", "#c8e6c9", "#bbdefb", "#f8bbd0", "#fff59d", "#d1c4e9")
OUTSIDE = ("#eeeeee", "#dcdcdc")  # tokens after the model's context window, alternating
UNKNOWN = "#ff8a80"  # the compact vocabulary's unknown id
MAX_SHOWN = 4000  # tokens drawn in the text view; statistics still count all of them


class TokenTextView(QTextBrowser):
    """One HTML document of token spans whose document positions are recorded, so a hover
    maps back to its token."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._rows: list[TokenRow] = []
        self._starts: list[int] = []  # document position where each shown token begins
        self._window = 0
        self._tokenizer_name = ""
        self._full = False
        self.setReadOnly(True)
        self.setOpenLinks(False)
        font = QFont()
        font.setPointSizeF(12.0)
        self.setFont(font)
        self.viewport().setMouseTracking(True)
        self.viewport().installEventFilter(self)

    def show_rows(self, rows: list[TokenRow], window: int, tokenizer_name: str,
                  full: bool = False) -> None:
        """Draw `rows`; those from index `window` on lie outside the model's context. `full`:
        the model's own full vocabulary, whose ids are the rows (no compact id to show)."""
        self._rows, self._window, self._tokenizer_name = rows, window, tokenizer_name
        self._full = full
        parts, starts, pos = [], [], 0
        for i, r in enumerate(rows[:MAX_SHOWN]):
            if r.original_id < 0:
                style = f"background-color:{UNKNOWN};"
            elif i >= window:
                style = f"background-color:{OUTSIDE[i % 2]};color:#888888;"
            else:
                style = f"background-color:{PASTELS[i % len(PASTELS)]};"
            if r.is_fragment:
                style += "color:#7a1f1f;font-family:monospace;font-size:10pt;"
            starts.append(pos)
            parts.append(f'<span style="{style}">{html.escape(r.piece)}</span>')
            pos += utf16_len(r.piece)
            if r.data.endswith(b"\n"):
                parts.append("<br>")  # keep the text's lines, after the visible ↵
                pos += 1
        if len(rows) > MAX_SHOWN:
            more = self.tr("… {0} more tokens not drawn").format(len(rows) - MAX_SHOWN)
            parts.append(f"<br><i>{html.escape(more)}</i>")
        self.setHtml('<p style="white-space:pre-wrap">' + "".join(parts) + "</p>")
        self._starts = starts

    def show_nothing(self) -> None:
        """No tokens (e.g. the tokenizer is unavailable)."""
        self._rows, self._starts = [], []
        self.clear()

    def start_of(self, index: int) -> int:
        """The document position where token `index` begins."""
        return self._starts[index]

    def token_at(self, doc_position: int) -> int | None:
        """Index of the token drawn at a document character position, or None."""
        i = bisect.bisect_right(self._starts, doc_position) - 1
        if 0 <= i < len(self._starts) and doc_position < self._end_of(i):
            return i
        return None

    def tooltip_for(self, index: int) -> str:
        """The hover text of token `index`: ids, piece and bytes."""
        r = self._rows[index]
        lines = [self.tr("token {0} of {1}").format(index, len(self._rows))]
        lines.append(self.tr("piece: {0}").format(r.piece))
        if self._full and r.compact_id is not None:
            lines.append(self.tr("id (row of the token table): {0}").format(r.compact_id))
        elif r.original_id < 0:
            lines.append(self.tr("original id: none (unknown to the model's vocabulary)"))
        elif self._tokenizer_name == "char":
            lines.append(self.tr("original id: {0} (U+{1})").format(
                r.original_id, f"{r.original_id:04X}"))
        else:
            lines.append(self.tr("original id ({0}): {1}").format(
                self._tokenizer_name, r.original_id))
        if r.compact_id is not None and not self._full:
            lines.append(self.tr("compact id (row of the token table): {0}").format(r.compact_id))
        hex_bytes = " ".join(f"{b:02x}" for b in r.data) or "–"
        lines.append(self.tr("bytes: {0}").format(hex_bytes))
        if r.is_fragment:
            whole = characters_of(self._rows, index)
            if whole:
                lines.append(self.tr("part of the character(s) {0}: shown as its UTF-8 "
                                     "bytes").format(whole))
            else:
                lines.append(self.tr("part of a character: shown as its UTF-8 bytes"))
        if index >= self._window:
            lines.append(self.tr("outside the model's context window"))
        return "\n".join(lines)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if obj is self.viewport() and event.type() == QEvent.Type.ToolTip:
            pos = event.pos()
            # Document coordinates: the viewport shows the document scrolled by the bars.
            point = QPointF(pos.x() + self.horizontalScrollBar().value(),
                            pos.y() + self.verticalScrollBar().value())
            hit = self.document().documentLayout().hitTest(point, Qt.HitTestAccuracy.ExactHit)
            index = self.token_at(hit) if hit >= 0 else None
            if index is not None:
                QToolTip.showText(event.globalPos(), self.tooltip_for(index), self)
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(obj, event)

    def _end_of(self, index: int) -> int:
        return self._starts[index] + utf16_len(self._rows[index].piece)
