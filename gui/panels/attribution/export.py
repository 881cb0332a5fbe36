"""Saving what an attribution tab shows: its numbers as CSV, its picture as PNG or SVG.

A row of three buttons under each tab; the folder last saved to is remembered
("attribution/export_dir"). Writing a file that fails says so in a dialog and loses nothing.
"""
from __future__ import annotations

import errno
import os
from typing import Callable, Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from gui import dialogs, settings
from gui.widgets.export import export_view, file_filter, render_svg
from gui.widgets.language import Translated

from .readings import write_csv

EXPORT_DIR_KEY = "attribution/export_dir"

Table = tuple[Sequence[str], Sequence[Sequence]]  # header, rows


class ExportRow(Translated, QWidget):
    """"Export: CSV… PNG… SVG…" for one tab: `table()` gives the CSV, `view()` the picture."""

    def __init__(self, name: str, table: Callable[[], Table | None],
                 view: Callable[[], QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self._name, self._table, self._view = name, table, view
        self.label = QLabel()
        self.csv_button, self.png_button = QPushButton("CSV…"), QPushButton("PNG…")
        self.svg_button = QPushButton("SVG…")
        self.csv_button.clicked.connect(self.save_csv)
        self.png_button.clicked.connect(lambda: self.save_image("png"))
        self.svg_button.clicked.connect(lambda: self.save_image("svg"))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.label, self.csv_button, self.png_button, self.svg_button):
            row.addWidget(w)
        row.addStretch(1)
        self._retranslate()

    def _retranslate(self) -> None:
        self.label.setText(self.tr("Export:"))
        self.csv_button.setToolTip(self.tr("The numbers shown, as a CSV table"))
        self.png_button.setToolTip(self.tr("The picture, as a PNG image"))
        self.svg_button.setToolTip(self.tr("The picture, as an SVG drawing"))

    def save_csv(self, path: str = "") -> str:
        """Write the tab's numbers (ask where unless `path`); '' if nothing was written."""
        table = self._table()
        if table is None:
            return ""
        path = path or self._ask("csv", self.tr("CSV table (*.csv)"))
        if not path:
            return ""
        try:
            write_csv(path, *table)
        except OSError as exc:
            dialogs.show_exception(self, exc, headline=self.tr("Saving the table failed."))
            return ""
        return path

    def save_image(self, fmt: str, path: str = "") -> str:
        """Write the tab's picture as `fmt` ("png" or "svg"); '' if nothing was written."""
        path = path or self._ask(fmt, file_filter(fmt))
        if not path:
            return ""
        try:
            view = self._view()
            if isinstance(view, pg.GraphicsView):
                export_view(view, path)
            else:
                save_widget(view, path)
        except (OSError, ValueError) as exc:
            dialogs.show_exception(self, exc, headline=self.tr("Saving the picture failed."))
            return ""
        return path

    def _ask(self, suffix: str, filters: str) -> str:
        folder = settings.read(EXPORT_DIR_KEY, os.path.expanduser("~"))
        suggested = os.path.join(folder, f"{self._name}.{suffix}")
        path = dialogs.ask_save_path(self, self.tr("Save the attribution"), suggested, filters)
        if path:
            if not os.path.splitext(path)[1]:
                path += "." + suffix
            settings.write(EXPORT_DIR_KEY, os.path.dirname(os.path.abspath(path)))
        return path


def save_widget(widget: QWidget, path: str) -> None:
    """A plain widget (not a plot) as it is drawn: PNG pixels, or SVG vectors by Qt's own
    generator."""
    if path.lower().endswith(".svg"):
        render_svg(widget, path)
        return
    if not widget.grab().save(path, "PNG"):
        raise OSError(errno.EIO, os.strerror(errno.EIO), path)
