"""The live training plots: loss (per step, smoothed, validation), learning rate, tokens/s.

Curves are created once and fed with setData from the session's history. While a run lasts
they redraw on a timer, not per batch of records; when idle, at once. When validation loss has
risen for several evaluations since its best (engine.training.fit.overfitting), a note on the loss plot
says so and a marker shows the best evaluation.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

from engine.training.fit import Overfitting, overfitting_in
from gui.panels.training.curves import TrainingCurves
from gui.session import Session
from gui.widgets.export import install_export_menu
from gui.widgets.language import Translated

# Plots redraw at most twice a second: a repaint after new data costs ~20 ms when idle, and
# 60-110 ms on 2 cores while a training thread competes for the GIL (each QPainter call lets go
# of it); at 5 Hz these repaints alone pushed the event loop's p99 stall to ~115 ms.
REDRAW_MS = 500
_NOTE_COLOR = (170, 40, 0)
FOLD_BELOW_PX = 330  # a shorter widget shows the loss plot alone (taller again: all three)


def _curve(plot: pg.PlotItem, name: str | None, color: tuple, width: int = 1,
           symbol: str | None = None) -> pg.PlotDataItem:
    item = plot.plot([], [], name=name, pen=pg.mkPen(color, width=width),
                     symbol=symbol, symbolSize=5, symbolBrush=color, symbolPen=None)
    item.setSkipFiniteCheck(True)
    return item


class TrainingPlots(Translated, pg.GraphicsLayoutWidget):
    """Three stacked plots sharing one step axis, following `session.history`."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        pg.setConfigOptions(antialias=False)
        super().__init__(parent)
        self.session = session
        self.curves = TrainingCurves()
        self._dirty = False
        self.setBackground("w")
        self.setMinimumHeight(180)
        install_export_menu(self, "training curves")
        # The legend and the overfitting note sit in rows of their own above the curves: over
        # them, a legend hid half the curves of a 50 px plot.
        self.legend = pg.LegendItem(colCount=3, labelTextSize="8pt")
        self.addItem(self.legend, row=0, col=0)
        self._note_row = pg.GraphicsWidget()
        self.addItem(self._note_row, row=1, col=0)
        self.loss_plot = self.addPlot(row=2, col=0)
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        self.lr_plot = self.addPlot(row=3, col=0)
        self.lr_plot.setXLink(self.loss_plot)
        for plot in (self.loss_plot, self.lr_plot):
            plot.hideAxis("bottom")  # one step axis, under the last plot: fewer axes to redraw
        self.speed_plot = self.addPlot(row=4, col=0)
        self.speed_plot.setXLink(self.loss_plot)
        layout = self.ci.layout
        layout.setRowStretchFactor(2, 3)
        layout.setRowStretchFactor(3, 1)
        layout.setRowStretchFactor(4, 1)
        self._short: bool | None = None  # lr and tokens/s folded away (too short a widget)
        for plot in (self.loss_plot, self.lr_plot, self.speed_plot):
            plot.setDownsampling(mode="peak")
            plot.setClipToView(True)
            plot.getAxis("left").setWidth(48)
        self.items = {
            "raw": _curve(self.loss_plot, "raw", (120, 160, 220, 110)),  # legend: _retranslate
            "ema": _curve(self.loss_plot, "ema", (25, 90, 200), 2),
            "val": _curve(self.loss_plot, "val", (220, 80, 30), 2, "o"),
            "lr": _curve(self.lr_plot, None, (60, 140, 60), 1),
            "speed": _curve(self.speed_plot, None, (130, 80, 170), 1),
        }
        self.curve_raw, self.curve_val = self.items["raw"], self.items["val"]
        # Overfitting: a marker at the best evaluation and a note in the plot's corner (in the
        # view box's pixels, so it stays put while the curves pan and zoom).
        self.overfit: Overfitting | None = None
        self.best_marker = pg.ScatterPlotItem(size=14, symbol="star", pen=pg.mkPen(_NOTE_COLOR),
                                              brush=pg.mkBrush(255, 210, 0))
        self.best_line = pg.InfiniteLine(angle=90, movable=False,
                                         pen=pg.mkPen(_NOTE_COLOR, style=Qt.PenStyle.DashLine))
        for item in (self.best_line, self.best_marker):
            self.loss_plot.addItem(item, ignoreBounds=True)
            item.hide()
        self.note = pg.TextItem(color=_NOTE_COLOR, anchor=(0, 0))
        font = self.note.textItem.font()
        font.setPointSizeF(8.0)
        self.note.setFont(font)
        self.note.setParentItem(self._note_row)
        self.note.hide()
        self._note_row.setMaximumHeight(0)
        self._retranslate()

        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        session.history_changed.connect(self._on_history_changed)
        session.training_changed.connect(self._on_training_changed)
        self._on_history_changed()

    def _retranslate(self) -> None:
        """Axis titles, legend and note in the installed language (pyqtgraph items are not
        widgets: they get no LanguageChange of their own)."""
        self.loss_plot.setLabel("left", self.tr("loss"))
        self.lr_plot.setLabel("left", "lr")  # the symbol of the formulas
        self.speed_plot.setLabel("left", self.tr("tokens/s"))
        self.speed_plot.setLabel("bottom", self.tr("step"))
        if self._short:
            self.loss_plot.setLabel("bottom", self.tr("step"))
        legend = self.legend
        for key, text in (("raw", self.tr("train (per step)")),
                          ("ema", self.tr("train (smoothed)")), ("val", self.tr("validation"))):
            legend.removeItem(self.items[key])
            legend.addItem(self.items[key], text)
        self._show_overfitting()

    def _show_overfitting(self) -> None:
        o = self.overfit
        for item in (self.note, self.best_marker, self.best_line):
            item.setVisible(o is not None)
        line = self.note.boundingRect().height() if o is not None else 0
        self._note_row.setMinimumHeight(line)
        self._note_row.setMaximumHeight(line)
        if o is None:
            return
        # One short line on the small plot; the whole sentence as its tooltip.
        self.note.setText(self.tr("Overfitting since step {step} ★").format(
            step=f"{o.best_step:,}"))
        self.note.setToolTip(self.tr(
            "Validation loss has risen for {n} evaluations since step {step}: the model is "
            "memorising the text (overfitting).").format(n=o.evaluations,
                                                         step=f"{o.best_step:,}"))
        self.best_marker.setData([o.best_step], [o.best_val])
        self.best_line.setValue(o.best_step)
        height = self.note.boundingRect().height()
        self._note_row.setMinimumHeight(height)
        self._note_row.setMaximumHeight(height)
        self.note.setPos(44, 0)  # under the legend, in line with the loss axis

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if event is not None and hasattr(self, "_short"):  # pyqtgraph calls it with None
            self._fold(event.size().height() < FOLD_BELOW_PX)

    def _fold(self, short: bool) -> None:
        """Below FOLD_BELOW_PX only the loss plot is drawn (with the step axis): three plots
        in 200 px gave each ~50 px and their axis titles printed over each other."""
        if short == self._short:
            return
        self._short = short
        for plot in (self.lr_plot, self.speed_plot):
            plot.setVisible(not short)
            plot.setMaximumHeight(0 if short else 1e6)
            plot.setMinimumHeight(0 if short else 60)
        if short:
            self.loss_plot.showAxis("bottom")
            self.loss_plot.setLabel("bottom", self.tr("step"))
        else:
            self.loss_plot.hideAxis("bottom")

    def loss_points(self) -> int:
        """Points in the per-step loss curve as drawn (for tests and the benchmark)."""
        x, _ = self.curve_raw.getData()
        return 0 if x is None else len(x)

    def redraw(self) -> None:
        """Draw what the history added since the last redraw (nothing if it added nothing)."""
        if not self._dirty:
            if not self.session.training:
                self._timer.stop()
            return
        self._dirty = False
        for key, item in self.items.items():
            item.setData(*self.curves.series[key].data())
        overfit = overfitting_in(*self.curves.series["val"].data())
        if overfit != self.overfit:
            self.overfit = overfit
            self._show_overfitting()

    def stop(self) -> None:
        """Stop the redraw timer (the window is closing)."""
        self._timer.stop()

    def _on_history_changed(self) -> None:
        self.curves.follow(self.session.history)
        self._dirty = True
        if not self.session.training:
            self.redraw()  # no stream of records to wait for
        elif not self._timer.isActive():
            self._timer.start()

    def _on_training_changed(self, active: bool) -> None:
        if not active:
            self.redraw()  # the last records, without waiting for the timer
            self._timer.stop()
