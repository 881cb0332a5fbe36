"""Set-up shared by the panels' pyqtgraph plots (bar charts and line plots, not heatmaps)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont

from gui.widgets.export import install_export_menu

TEXT_PEN = (30, 30, 30)  # tick labels: near black, readable on white


def static_plot(left_label: str = "", bottom_label: str = "", tick_pt: float | None = 10.0,
                grid_alpha: float = 0.25,
                axis_pen: tuple[int, int, int] | None = None) -> pg.PlotWidget:
    """A white plot that is read, not explored: no pan/zoom, menu or buttons; a y grid.

    Tick labels are dark and `tick_pt` points (None: the default font); `axis_pen` colours the
    axis lines (None: pyqtgraph's grey). Axes never use an SI prefix: "(x0.001)" next to a
    probability only confuses.
    """
    widget = pg.PlotWidget(background="w")
    install_export_menu(widget, left_label or "plot")
    plot = widget.getPlotItem()
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.showGrid(y=True, alpha=grid_alpha)
    # Only labels that exist: an empty one would still take room beside the axis.
    if left_label:
        plot.setLabel("left", left_label)
    if bottom_label:
        plot.setLabel("bottom", bottom_label)
    font = None
    if tick_pt is not None:
        font = QFont()
        font.setPointSizeF(tick_pt)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        if font is not None:
            axis.setStyle(tickFont=font)
        axis.enableAutoSIPrefix(False)
        if axis_pen is not None:
            axis.setPen(pg.mkPen(*axis_pen))
        # After setPen, which also recolours the axis title: the title stays as dark as the ticks.
        axis.setTextPen(pg.mkPen(*TEXT_PEN))
    return widget


def fix_axes(plot: pg.PlotWidget, left_width: int) -> None:
    """Axes that never resize themselves, with dark tick labels and no SI prefix.

    Auto-expanding axes re-lay out the plot when new tick labels arrive, which paints it twice
    per context edit.
    """
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setStyle(autoExpandTextSpace=False, autoReduceTextSpace=False)
        axis.enableAutoSIPrefix(False)
        axis.setTextPen(pg.mkPen(*TEXT_PEN))
    plot.getAxis("left").setWidth(left_width)
