"""The list of the trace's steps, grouped under a header per block (labels.outline)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from gui.panels.walkthrough.labels import Entry, Header

_GROUP_BG = ("#eef3fb", "#f7f7f7")  # alternating block backgrounds
_HEADER_FG, _HEADER_BG = "#1a3d6d", "#d6e2f3"


class StepList(QListWidget):
    """One row per step (headers are rows too, but cannot be selected); `row_of` maps a step
    name to its row, and each step row holds its name as UserRole data."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(True)
        self.setMinimumWidth(200)
        self.row_of: dict[str, int] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    def show_outline(self, rows: list[Header | Entry]) -> None:
        """Replace the rows (emits no currentRowChanged)."""
        self.blockSignals(True)
        self.clear()
        self.row_of = {}
        for row in rows:
            if isinstance(row, Header):
                item = QListWidgetItem(row.text)
                item.setFont(self._bold)
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setForeground(QBrush(QColor(_HEADER_FG)))
                item.setBackground(QBrush(QColor(_HEADER_BG)))
            else:
                item = QListWidgetItem(row.text)
                item.setData(Qt.ItemDataRole.UserRole, row.name)
                item.setBackground(QBrush(QColor(_GROUP_BG[row.group % 2])))
                item.setToolTip(row.tooltip)
                self.row_of[row.name] = self.count()
            self.addItem(item)
        self.blockSignals(False)

    def select(self, name: str) -> None:
        """Make step `name` the current row, scrolled into view (emits no currentRowChanged)."""
        row = self.row_of[name]
        if self.currentRow() != row:
            self.blockSignals(True)
            self.setCurrentRow(row)
            self.blockSignals(False)
        self.scrollToItem(self.item(row))

    def name_at(self, row: int) -> str:
        """The step in `row` ('' for a header or no row)."""
        item = self.item(row)
        return (item.data(Qt.ItemDataRole.UserRole) or "") if item is not None else ""
