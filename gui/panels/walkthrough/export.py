"""Saving the step on show: its values as CSV or .npy (engine.storage.export), its heatmap as PNG or SVG
(the shared exporter). The folder last saved to is remembered ("walkthrough/export_dir").
"""
from __future__ import annotations

import os

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from engine.storage.export import step_to_csv, step_to_npy
from engine.model.trace import Step
from gui import dialogs, settings
from gui.widgets import Heatmap
from gui.widgets.export import export_view

EXPORT_DIR_KEY = "walkthrough/export_dir"


class StepExport:
    """Asks where to save (dialogs.ask_save_path) and writes; each method returns the path
    written, or '' when the user cancelled or writing failed (the failure is shown)."""

    def __init__(self, parent: QWidget) -> None:
        self._parent = parent  # the dialogs' parent

    def csv(self, step: Step, title: str, token_pieces: list[list[str]],
            vocab_pieces: list[str]) -> str:
        """All of `step` (every batch entry and head) as CSV, labelled with the tokens."""
        path = self._ask(title, step.name, "csv", "CSV (*.csv)")
        if path:
            try:
                step_to_csv(step, path, token_pieces=token_pieces,
                            vocab_pieces=vocab_pieces or None)
            except OSError as exc:
                dialogs.show_exception(self._parent, exc, headline=QCoreApplication.translate(
                    "StepExport", "Exporting the step failed."))
                return ""
        return path

    def npy(self, step: Step, title: str) -> str:
        """`step`'s values as a .npy array."""
        path = self._ask(title, step.name, "npy",
                         QCoreApplication.translate("StepExport", "NumPy array (*.npy)"))
        if path:
            try:
                step_to_npy(step, path)
            except OSError as exc:
                dialogs.show_exception(self._parent, exc, headline=QCoreApplication.translate(
                    "StepExport", "Exporting the step failed."))
                return ""
        return path

    def image(self, heatmap: Heatmap, name: str, fmt: str, title: str) -> str:
        """The heatmap as it is shown, `fmt` "png" or "svg"."""
        if fmt == "png":
            filters = QCoreApplication.translate("StepExport", "PNG image (*.png)")
        else:
            filters = QCoreApplication.translate("StepExport", "SVG drawing (*.svg)")
        path = self._ask(title, name, fmt, filters)
        if path:
            try:
                export_view(heatmap.graphics, path)
            except (OSError, ValueError) as exc:
                dialogs.show_exception(self._parent, exc, headline=QCoreApplication.translate(
                    "StepExport", "Exporting the heatmap failed."))
                return ""
        return path

    def _ask(self, title: str, name: str, suffix: str, filters: str) -> str:
        folder = settings.read(EXPORT_DIR_KEY, os.path.expanduser("~"))
        suggested = os.path.join(folder, f"{name or 'step'}.{suffix}")
        path = dialogs.ask_save_path(self._parent, title, suggested, filters)
        if path:
            if not os.path.splitext(path)[1]:
                path += "." + suffix
            settings.write(EXPORT_DIR_KEY, os.path.dirname(os.path.abspath(path)))
        return path
