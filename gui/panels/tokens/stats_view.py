"""The side of the Tokens panel: how many characters, tokens and distinct tokens the text has,
and its most frequent tokens."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QLabel,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from gui.panels.tokens.rows import TokenStats
from gui.widgets import NoteLabel, fill_table
from gui.widgets.language import Translated


class TokenStatsView(Translated, QWidget):
    """Four figures above a table of the most frequent tokens."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.stats = {key: NoteLabel("–") for key in ("chars", "tokens", "distinct", "ratio")}
        self.names = {key: QLabel() for key in self.stats}
        form = QFormLayout()
        for key, value in self.stats.items():
            form.addRow(self.names[key], value)
        self.table = QTableWidget(0, 4)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addLayout(form)
        self.frequent_title = QLabel()
        layout.addWidget(self.frequent_title)
        layout.addWidget(self.table, 1)
        self._retranslate()

    def _retranslate(self) -> None:
        self.names["chars"].setText(self.tr("Characters:"))
        self.names["tokens"].setText(self.tr("Tokens:"))
        self.names["distinct"].setText(self.tr("Distinct tokens:"))
        self.names["ratio"].setText(self.tr("Characters per token:"))
        self.table.setHorizontalHeaderLabels(
            [self.tr("piece"), self.tr("count"), self.tr("original id"), self.tr("compact id")]
        )
        self.frequent_title.setText(self.tr("Most frequent tokens:"))

    def show_stats(self, stats: TokenStats, window: int, compact_ids: bool) -> None:
        """Print `stats`; `window` tokens are inside the model's context; the compact-id
        column shows only under the model's own tokenizer."""
        n = stats.tokens
        self.stats["chars"].setText(f"{stats.chars:,}")
        self.stats["tokens"].setText(f"{n:,}" if window >= n else self.tr(
            "{0} ({1} in the model's window)").format(f"{n:,}", window))
        self.stats["distinct"].setText(f"{stats.distinct:,}")
        ratio = stats.chars_per_token
        self.stats["ratio"].setText(f"{ratio:.2f}" if ratio is not None else "–")
        self.table.setColumnHidden(3, not compact_ids)
        fill_table(self.table, [
            (r.piece, str(count), str(r.original_id) if r.original_id >= 0 else "–",
             str(r.compact_id) if r.compact_id is not None else "–")
            for r, count in stats.frequent
        ])
