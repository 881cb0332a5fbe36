"""`AttributionPanel`, the "Why this token?" dock: the target bar above tabs that each answer
the question one way (direct logit attribution, gradient × input, activation patching, what
training changed).

Each tab is a LazyPanel: a new trace only marks the hidden ones stale, and they catch up when
shown. Every computation runs off the GUI thread.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Slot
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from gui.pieces import show_if_traced
from gui.session import Session
from gui.widgets import EmptyState
from gui.widgets.language import Translated

from .changes_view import ChangesView
from .input_view import InputView
from .logit_view import LogitView
from .patching_view import PatchingView
from .target_bar import TargetBar


class AttributionPanel(Translated, QWidget):
    """The target bar and the attribution tabs, following the session."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.bar = TargetBar(session)
        self.logit = LogitView(session, self.bar)
        self.inputs = InputView(session, self.bar)
        self.patching = PatchingView(session, self.bar)
        self.changes = ChangesView(session)
        self.tabs = QTabWidget()
        for view in self._views():
            self.tabs.addTab(view, "")
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.bar)
        inner.addWidget(self.tabs, 1)
        self.empty = EmptyState(content, self._empty_message())
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

    def _views(self) -> list[QWidget]:
        return [self.logit, self.inputs, self.patching, self.changes]

    def _empty_message(self) -> str:
        return self.tr("No model yet: open or train a model and type a context to ask why it "
                       "predicts its next token.")

    def _retranslate(self) -> None:
        titles = (self.tr("Logit attribution"), self.tr("Input tokens"),
                  self.tr("Patching"), self.tr("What training changed"))
        for i, title in enumerate(titles):
            self.tabs.setTabText(i, title)
        if self.empty.is_empty():
            self.empty.show_empty(self._empty_message())

    def is_updating(self) -> bool:
        """The tab on show waits for its numbers."""
        view = self.tabs.currentWidget()
        return bool(view is not None and view.is_updating())

    def shutdown(self) -> None:
        """End every view's background work and wait for its threads."""
        for view in self._views():
            view.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    @Slot()
    def _on_model_changed(self) -> None:
        for view in self._views():  # their numbers (and the work under way) were the old model's
            view.forget()
        self._on_trace_changed()

    @Slot()
    def _on_trace_changed(self) -> None:
        show_if_traced(self.session, self.empty)  # or why not: no model, or its trace to come
        self.bar.on_trace_changed()
        for view in self._views():
            view._redraw()
