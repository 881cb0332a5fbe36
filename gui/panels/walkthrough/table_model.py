"""The number table's model: a read-only 2-D slice of a step, formatted at a chosen precision.

Cells are formatted on demand, so a [64 × 3771] logits slice costs nothing until it is scrolled
into view.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

DEFAULT_PRECISION = 4
GREY = "#666666"

_NEG_INF, _POS_INF = float("-inf"), float("inf")


def format_number(v: float, precision: int) -> str:
    """Fixed-point text at `precision` decimals; the causal mask's −∞ as '-inf'."""
    if v == _NEG_INF:
        return "-inf"
    if v == _POS_INF:
        return "inf"
    if v != v:
        return "nan"
    return f"{v:.{precision}f}"


# Roles as plain ints: data() runs for every visible cell and role on each paint.
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_ALIGN = Qt.ItemDataRole.TextAlignmentRole.value
_FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)


class StepTableModel(QAbstractTableModel):
    """A step's 2-D slice as table cells, with row and column labels as headers."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._values = np.zeros((0, 0), dtype=np.float32)
        self._rows: list[str] = []
        self._cols: list[str] = []
        self._precision = DEFAULT_PRECISION
        self._integers = False
        self._tips: list[list[str]] | None = None
        self._grey = QBrush(QColor(GREY))

    def set_matrix(self, values: np.ndarray, row_labels: list[str], col_labels: list[str],
                   integers: bool = False, tooltips: list[list[str]] | None = None) -> None:
        """Show `values` (R, C); `integers` prints whole numbers (token ids) without decimals."""
        self.beginResetModel()
        self._values = np.asarray(values)
        self._rows, self._cols = list(row_labels), list(col_labels)
        self._integers = integers
        self._tips = tooltips
        self.endResetModel()

    def set_precision(self, precision: int) -> None:
        """Decimals of every cell from now on (the visible ones repaint)."""
        self._precision = int(precision)
        if self._values.size:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self.columnCount() - 1),
                                  [Qt.ItemDataRole.DisplayRole])

    def precision(self) -> int:
        return self._precision

    def matrix(self) -> np.ndarray:
        return self._values

    def row_labels(self) -> list[str]:
        return list(self._rows)

    def column_labels(self) -> list[str]:
        return list(self._cols)

    def text(self, row: int, col: int) -> str:
        """Exactly what the cell shows."""
        v = self._values.item(row, col)
        if self._integers and v == v and abs(v) != _POS_INF:
            return str(int(v))
        return format_number(v, self._precision)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else self._values.shape[0]

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() or self._values.ndim < 2 else self._values.shape[1]

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        role = getattr(role, "value", role)
        if role == _DISPLAY:
            return self.text(index.row(), index.column())
        if role == _ALIGN:
            return _RIGHT
        if role == _FOREGROUND:
            return self._grey if self._values.item(index.row(), index.column()) == _NEG_INF \
                else None
        if role == _TOOLTIP:
            r, c = index.row(), index.column()
            tip = f"{self._rows[r]}, {self._cols[c]}: {format_number(self._values.item(r, c), 9)}"
            if self._tips is not None:
                tip += f"\n{self._tips[r][c]}"
            return tip
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if getattr(role, "value", role) != _DISPLAY:
            return None
        labels = self._cols if orientation == Qt.Orientation.Horizontal else self._rows
        return labels[section] if 0 <= section < len(labels) else None
