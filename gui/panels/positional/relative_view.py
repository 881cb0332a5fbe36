"""The rotary "Relative position" tab: the model's q (one head, one token) and k (its K/V
head, another token), turned to positions (n + s + Δ, n + s) and scored. Each row is one
distance Δ, each column one shift s: equal along a row, the property that makes rotary
positions relative. The numbers are engine.model.rotary_readings.relative_scores'."""
from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QLabel, QSpinBox, QTableWidget, QTableWidgetItem, \
    QVBoxLayout, QWidget

from engine.model.rotary_readings import RelativeTable, RotaryTable
from gui.panels.positional.rotary import block_table_sentence, two_sentences
from gui.widgets import NoteLabel, format_value
from gui.widgets.language import Translated


class RelativeView(Translated, QWidget):
    """Layer, head, query and key boxes above the table of scores."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layer, self.head = QSpinBox(), QSpinBox()
        self.query_pos, self.key_pos = QSpinBox(), QSpinBox()
        self.titles = [QLabel() for _ in range(4)]
        row = QGridLayout()  # two by two, so the tab fits a narrow dock
        for k, (title, box) in enumerate(zip(self.titles, (self.layer, self.head,
                                                            self.query_pos, self.key_pos))):
            box.setKeyboardTracking(False)
            row.addWidget(title, k // 2, 2 * (k % 2))
            row.addWidget(box, k // 2, 2 * (k % 2) + 1)
        row.setColumnStretch(4, 1)
        self.table = QTableWidget()
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.table.setFont(mono)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.heading = NoteLabel(lines=3)
        self.note = NoteLabel(lines=3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self._shown: RelativeTable | None = None
        self._table: RotaryTable | None = None
        self._retranslate()

    def _retranslate(self) -> None:
        for title, text in zip(self.titles, (self.tr("Block:"), self.tr("Head:"),
                                             self.tr("q from token:"), self.tr("k from token:"))):
            title.setText(text)
        if self._shown is not None:
            self.show_table(self._shown, self._table)

    def set_ranges(self, n_layer: int, n_head: int, T: int) -> None:
        """The boxes' limits for the current model and context (values kept where they fit)."""
        for box, n in ((self.layer, n_layer), (self.head, n_head), (self.query_pos, T),
                       (self.key_pos, T)):
            box.blockSignals(True)
            box.setRange(0, max(n - 1, 0))
            box.blockSignals(False)

    def shown(self) -> RelativeTable | None:
        """What is drawn."""
        return self._shown

    def show_table(self, r: RelativeTable, table: RotaryTable | None = None) -> None:
        """Rows Δ = m − n, columns shift s, and a last column: largest − smallest of the row;
        `table`: the block's angle table, named in the heading (for a model with two)."""
        self._shown, self._table = r, table
        self.table.setRowCount(len(r.offsets))
        self.table.setColumnCount(len(r.shifts) + 1)
        self.table.setHorizontalHeaderLabels(
            [self.tr("(Δ+{0}, {0})").format(s) for s in r.shifts] + [self.tr("spread")])
        self.table.setVerticalHeaderLabels([self.tr("Δ = {0}").format(d) for d in r.offsets])
        spread = r.spread()
        for i in range(len(r.offsets)):
            for j in range(len(r.shifts)):
                self.table.setItem(i, j, QTableWidgetItem(f"{r.scores[i, j]:+.9f}"))
            self.table.setItem(i, len(r.shifts), QTableWidgetItem(f"{spread[i]:.1e}"))
        self.table.resizeColumnsToContents()
        heading = self.tr(
            "The model's own q (head {0}, token {1}) and k (token {2}), before turning, placed "
            "at query position m = n + Δ and key position n, then turned and scored "
            "(q·k × scale). Column (Δ+s, s): both positions moved by s.").format(
            self.head.value(), r.query_pos, r.key_pos)
        self.heading.setText(heading if table is None else two_sentences(
            heading, block_table_sentence(self.layer.value(), table)))
        self.note.setText(self.tr(
            "Each row holds one distance Δ: its scores agree to {0} whatever the shift, so the "
            "score depends on m − n only. Across rows the score changes with the distance. "
            "Δ = 0 gives q·k unturned: {1}.").format(
            format_value(float(spread.max())), format_value(r.unturned)))
