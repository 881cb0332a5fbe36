"""`InsightsPanel`, the "Looking inside" dock: three tabs (logit lens, head ablation,
per-token loss) that follow the session.

Each tab is a LazyPanel: a new trace only marks the tabs that are not on screen stale (a
tabbed-away dock, or a tab behind another: measured ~85 ms per trace for the lens alone), and
they catch up when shown. The ablation's boxes are the exception: they mirror the ablation of
whatever trace is current at once, since setting a trace from here depends on them.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Slot
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from gui.session import Session
from gui.widgets import EmptyState
from gui.widgets.language import Translated

from .ablation_view import AblationView
from .lens_view import LensView
from .loss_view import LossView


class InsightsPanel(Translated, QWidget):
    """Three tabs: Logit lens, Head ablation, Per-token loss."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session

        self.lens = LensView(session)
        self.ablation = AblationView(session)
        self.loss = LossView(session)
        self.tabs = QTabWidget()
        for view in (self.lens, self.ablation, self.loss):
            self.tabs.addTab(view, "")
        self.empty = EmptyState(self.tabs, self._empty_message())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.empty)

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._on_trace_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._retranslate()
        self._on_model_changed()

    def _empty_message(self) -> str:
        return self.tr("No model yet: open or train a model and type a context to look inside "
                       "its predictions.")

    def _retranslate(self) -> None:
        """The tab titles and the empty state in the current language (the views re-translate
        themselves)."""
        for i, title in enumerate((self.tr("Logit lens"), self.tr("Head ablation"),
                                   self.tr("Per-token loss"))):
            self.tabs.setTabText(i, title)
        if self.empty.is_empty():
            self.empty.show_empty(self._empty_message())

    def shutdown(self) -> None:
        """Stop the ablation's and the lens's background work and wait for their threads."""
        self.ablation.shutdown()
        self.lens.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    @Slot()
    def _on_model_changed(self) -> None:
        s = self.session
        if s.model is None or s.tokenizer is None:
            self.empty.show_empty(self._empty_message())
        else:
            self.empty.show_content()
        self.ablation.on_model_changed()  # a new grid of heads; follows the trace itself
        self.lens.on_trace_changed()
        self.loss.on_trace_changed()

    @Slot()
    def _on_trace_changed(self) -> None:
        self.ablation.on_trace_changed()
        self.lens.on_trace_changed()
        self.loss.on_trace_changed()
