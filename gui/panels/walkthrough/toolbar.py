"""The walkthrough's button row: Previous / Next with the step counter, article mode, and the
export buttons for the step (CSV, .npy) and its heatmap (PNG, SVG)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget
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
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        bar.addWidget(self.counter)
        bar.addStretch(1)
        bar.addWidget(self.article_button)
        bar.addSpacing(12)
        for w in (self.export_label, self.csv_button, self.npy_button, self.picture_label,
                  self.png_button, self.svg_button):
            bar.addWidget(w)
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
