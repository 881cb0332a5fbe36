"""The walkthrough's button row: Previous / Next with the step counter, article mode, and the
export buttons for the step (CSV, .npy) and its heatmap (PNG, SVG)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from gui.widgets.language import Translated


class Toolbar(Translated, QWidget):
    """The buttons; the panel connects their `clicked` signals."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.prev_button = QPushButton()
        self.next_button = QPushButton()
        self.counter = QLabel()
        self._position = (-1, 0)  # the step counter's (index, count), re-worded on a switch
        self.article_button = QPushButton()
        self.export_label = QLabel()
        self.csv_button, self.npy_button = QPushButton("CSV…"), QPushButton(".npy…")
        self.picture_label = QLabel()
        self.png_button, self.svg_button = QPushButton("PNG…"), QPushButton("SVG…")
        for b in (self.prev_button, self.next_button, self.article_button, self.csv_button,
                  self.npy_button, self.png_button, self.svg_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # arrow keys stay with the walkthrough
        # The export buttons sit on the first row when it is wide enough, else on a second
        # one: at 1366 px the walkthrough's dock is ~600 px and one row forced it to scroll.
        self.exports = QWidget()
        row = QHBoxLayout(self.exports)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.export_label, self.csv_button, self.npy_button, self.picture_label,
                  self.png_button, self.svg_button):
            row.addWidget(w)
        self._first = QHBoxLayout()
        self._first.setContentsMargins(0, 0, 0, 0)
        self._first.addWidget(self.prev_button)
        self._first.addWidget(self.next_button)
        self._first.addWidget(self.counter)
        self._first.addStretch(1)
        self._first.addWidget(self.article_button)
        self._second = QHBoxLayout()
        self._second.setContentsMargins(0, 0, 0, 0)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        rows.addLayout(self._first)
        rows.addLayout(self._second)
        self._one_row = True
        self._first.addWidget(self.exports)
        self._retranslate()

    def _retranslate(self) -> None:
        """The words in the interface language (the format names stay as they are)."""
        self.prev_button.setText(self.tr("◀ Previous"))
        self.next_button.setText(self.tr("Next ▶"))
        self.article_button.setText(self.tr("Article mode"))
        self.article_button.setToolTip(
            self.tr("Trace 4 windows of 16 tokens from the training text, as in the articles"))
        self.export_label.setText(self.tr("Export step:"))
        self.picture_label.setText(self.tr("Heatmap:"))
        if self._position[0] >= 0:
            self.show_position(*self._position)

    def show_position(self, index: int, count: int) -> None:
        """'Step 3 of 142', with Previous / Next enabled where they lead somewhere."""
        self._position = (index, count)
        self.counter.setText(self.tr("Step {i} of {n}").format(i=index + 1, n=count))
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index + 1 < count)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._place_exports(event.size().width())

    def _place_exports(self, width: int) -> None:
        """The export buttons on the first row if it holds them, else on the second."""
        needed = sum(w.sizeHint().width() + 6 for w in (
            self.prev_button, self.next_button, self.counter, self.article_button,
            self.exports)) + 12
        one_row = width >= needed
        if one_row == self._one_row:
            return
        self._one_row = one_row
        (self._second if one_row else self._first).removeWidget(self.exports)
        if one_row:
            self._first.addWidget(self.exports)
        else:
            self._second.addWidget(self.exports)
            self._second.addStretch(1)
        if one_row:  # the second row's stretch goes with it
            while self._second.count():
                self._second.takeAt(0)

    def minimumSizeHint(self):  # noqa: N802 (Qt override)
        """As narrow as the wider of the two rows (the exports can move to the second)."""
        hint = super().minimumSizeHint()
        first = sum(w.minimumSizeHint().width() + 6 for w in (
            self.prev_button, self.next_button, self.counter, self.article_button))
        hint.setWidth(max(first, self.exports.minimumSizeHint().width()))
        return hint
