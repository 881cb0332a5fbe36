"""Saving any plot or heatmap as PNG or SVG, and the right-click menu that offers it.

pyqtgraph's own "Export..." entry lives in the view-box menu, which our plots switch off (they
are not for zooming), so every pyqtgraph view gets this small menu instead.
"""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters as exporters
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView, QMenu, QWidget

from gui import dialogs

# The save dialog's filters: English sources; file_filter() gives them translated.
PNG_FILTER = QT_TRANSLATE_NOOP("export", "PNG image (*.png)")
SVG_FILTER = QT_TRANSLATE_NOOP("export", "SVG drawing (*.svg)")


def file_filter(fmt: str) -> str:
    """The save dialog's filter for "png" or "svg", in the interface language."""
    return QCoreApplication.translate("export", PNG_FILTER if fmt == "png" else SVG_FILTER)



def export_view(view: pg.GraphicsView, path: str) -> str:
    """Write everything `view` shows (plot, ticks, colour bar) to `path` (.png or .svg)."""
    if isinstance(view, pg.PlotWidget):
        item = view.getPlotItem()
    elif hasattr(view, "ci"):  # GraphicsLayoutWidget: the whole layout
        item = view.ci
    else:
        item = view.scene()
    if path.lower().endswith(".svg"):
        try:
            exporters.SVGExporter(item).export(path)
        except ValueError:
            # pyqtgraph's SVGExporter cannot parse the closed paths ("... Z") Qt 6 writes
            # (pyqtgraph issue #3495); Qt's own SVG generator draws the same widget as vectors.
            render_svg(view, path)
        return path
    exporter = exporters.ImageExporter(item)
    # Twice the on-screen size (at least 800 px wide), so a saved heatmap stays sharp.
    exporter.parameters()["width"] = max(int(item.boundingRect().width()) * 2, 800)
    exporter.export(path)
    return path


def render_svg(widget: QWidget, path: str) -> None:
    """`widget` as it is drawn, as SVG vectors by Qt's own generator (a plot view or any
    plain widget)."""
    from PySide6.QtSvg import QSvgGenerator

    gen = QSvgGenerator()
    gen.setFileName(path)
    gen.setSize(QSize(widget.width(), widget.height()))
    gen.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    gen.setTitle("Transformer Explorer")
    painter = QPainter(gen)
    try:
        if isinstance(widget, QGraphicsView):
            widget.render(painter)  # the scene, fitted to the painter's device
        else:  # QWidget.render with a painter takes the offset
            widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()


def ask_and_export(view: pg.GraphicsView, fmt: str, name: str = "plot") -> str:
    """Ask where to save, then export; returns the path, or "" if cancelled or failed.

    `name` is the suggested file name (without its suffix)."""
    if fmt == "png":
        title = QCoreApplication.translate("export", "Save as a PNG image")
    else:
        title = QCoreApplication.translate("export", "Save as an SVG drawing")
    path = dialogs.ask_save_path(view, title, f"{name}.{fmt}", file_filter(fmt))
    if not path:
        return ""
    if Path(path).suffix.lower() != f".{fmt}":
        path += f".{fmt}"
    try:
        return export_view(view, path)
    except (OSError, ValueError) as exc:
        dialogs.show_exception(view, exc, headline=QCoreApplication.translate(
            "export", "Saving the image failed."))
        return ""


def install_export_menu(view: pg.GraphicsView, name: str = "plot") -> None:
    """Right-click on `view` offers "Save as PNG…" and "Save as SVG…"."""
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show_menu(pos: QPoint) -> None:
        menu = QMenu(view)
        menu.addAction(QCoreApplication.translate("export", "Save as PNG…"),
                       lambda: ask_and_export(view, "png", name))
        menu.addAction(QCoreApplication.translate("export", "Save as SVG…"),
                       lambda: ask_and_export(view, "svg", name))
        menu.exec(view.mapToGlobal(pos))

    view.customContextMenuRequested.connect(show_menu)
