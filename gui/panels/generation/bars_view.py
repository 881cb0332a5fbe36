"""The distribution a token was drawn from: the top candidates as bars with their
probabilities above them, the sampled one highlighted, and a caption saying what is shown.

The plot items are created once; a redraw only changes their data.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.panels.generation.job import TOP_N
from gui.panels.generation.text import Bars
from gui.widgets import elide, static_plot
from gui.widgets.language import Translated

BAR_COLOUR = QColor(150, 170, 200)
CHOSEN_COLOUR = QColor(230, 120, 30)


class BarsView(Translated, QWidget):
    """Caption above a bar chart of up to TOP_N + 1 candidates."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._shown = Bars()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.plot_widget = static_plot(self.tr("probability"), tick_pt=10.0, axis_pen=(90, 90, 90))
        plot = self.plot_widget.getPlotItem()
        value_font = QFont()  # the numbers above the bars, as large as the tick labels
        value_font.setPointSizeF(10.0)
        self.bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.7,
                                    pen=pg.mkPen(80, 80, 80))
        plot.addItem(self.bars)
        self._value_labels: list[pg.TextItem] = []
        for _ in range(TOP_N + 1):  # the top candidates, and the sampled one if it fell out
            t = pg.TextItem(color=(30, 30, 30), anchor=(0.5, 1.0))
            t.setFont(value_font)
            t.hide()
            plot.addItem(t)
            self._value_labels.append(t)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot_widget, 1)

    def _retranslate(self) -> None:
        """Words drawn in the interface language (also on every language switch)."""
        self.plot_widget.getPlotItem().setLabel("left", self.tr("probability"))

    def shown(self) -> Bars:
        """What the bars show now."""
        return self._shown

    def show_bars(self, bars: Bars, caption: str) -> None:
        self._shown = bars
        values = bars.values
        x = np.arange(len(values), dtype=np.float64)
        brushes = [pg.mkBrush(CHOSEN_COLOUR if i == bars.chosen else BAR_COLOUR)
                   for i in range(len(values))]
        self.bars.setOpts(x=x, height=values, width=0.7, brushes=brushes)
        # Head room for the value labels above the bars.
        top = max(0.05, min(float(values.max()) * 1.18, float(values.max()) + 0.08)) \
            if len(values) else 1.0
        plot = self.plot_widget.getPlotItem()
        plot.setXRange(-0.6, max(len(values), 1) - 0.4, padding=0)
        plot.setYRange(0, top, padding=0)
        plot.getAxis("bottom").setTicks([[(i, elide(s, 10)) for i, s in enumerate(bars.labels)]])
        for i, label in enumerate(self._value_labels):
            if i < len(values):
                label.setText(f"{values[i]:.3f}")
                label.setPos(float(i), float(values[i]))
                label.show()
            else:
                label.hide()
        self.caption.setText(caption)
