"""The application window. It only assembles: the context box, the panels in their docks, the
commands, the status bar, and the wiring between them and the session. What each part does
lives in its own module (gui.window.*, gui.panels.*, gui.run)."""
from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMenu

from gui import dialogs, i18n, runtime
from gui.panels.attention import AttentionPanel
from gui.panels.attribution import AttributionPanel
from gui.panels.embeddings import EmbeddingsPanel
from gui.panels.generation import GenerationPanel
from gui.panels.history import HistoryPanel
from gui.panels.insights import InsightsPanel
from gui.panels.positional import PositionalPanel
from gui.panels.runs import RunsPanel
from gui.panels.tokens import TokensPanel
from gui.panels.training import TrainingPanel
from gui.panels.walkthrough import WalkthroughPanel
from gui.run import RunController
from gui.session import Session
from gui.window import docks as dock_layout
from gui.window.actions import WindowActions
from gui.window.context import ContextBox
from gui.window.documents import APP_TITLE, Documents
from gui.window.followed import FollowedRuns
from gui.window.recent import RecentFiles
from gui.window.status import StatusFields
from gui.window.tracing import TraceService
from gui import plot_menus
from gui.widgets.language import Translated

DEFAULT_SIZE = (1800, 1050)  # fits a 1920x1080 screen; shows five panels with readable labels


class MainWindow(Translated, QMainWindow):
    """The application window. `open_path()` opens a text or model file."""

    first_trace_shown = Signal()  # emitted once, when the panels first show a trace

    def __init__(self, session: Session | None = None, lang: str = "en",
                 restore_layout: bool = True, load_default: bool = True):
        # The window's language is the application's: installed before the window exists, so
        # the LanguageChange it sends never reaches a half-built window; every part built below
        # reads the installed language.
        lang = i18n.install(lang)
        super().__init__()
        self.session = s = session or Session(self)
        s.set_language(lang)  # what the engine words itself (step titles, the guide)
        self._first_trace_done = False
        self._closing = False
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)

        self.trace_service = TraceService(s, self)
        self.context_box = ContextBox(s)
        self.context_edit, self.context_info = self.context_box.edit, self.context_box.info
        # The run controller is the window's: the Training panel, the toolbar and the status
        # bar all follow the one run (gui.run).
        self.run = RunController(s, self)
        self._build_panels()
        self.status = StatusFields(self, s)
        self.recent = RecentFiles(QMenu(self), self.open_path)  # titled by the actions
        self.followed = FollowedRuns(self, self.run, self.status, self.context_box,
                                     self.recent.last_dir)
        self.documents = Documents(self, s, self.training_panel, self.run, self.context_box,
                                   self.recent, open_run=self.followed.open_run)
        self.actions_ = WindowActions(self, self.documents, self.training_panel, self.run,
                                      self.followed.open_run_dialog, s.lang)
        self.actions_.build_menus(self.docks, self.recent.menu, self.set_language)
        self.actions_.build_toolbar()

        screen = QApplication.primaryScreen()
        width, height = DEFAULT_SIZE
        if screen is not None:  # never larger than the screen's free area
            free = screen.availableGeometry()
            width, height = min(width, free.width()), min(height, free.height())
        self.resize(width, height)
        self._default_state = self.saveState(dock_layout.LAYOUT_VERSION)
        # Dock proportions only take once the window is laid out: on first show, unless a
        # remembered layout was restored.
        self._restored = restore_layout and dock_layout.restore_layout(self)
        self._size_on_show = not self._restored
        self._connect()
        self._update_status()
        self.status.update_title()
        if load_default:
            QTimer.singleShot(0, self.documents.load_default)

    # -- building -------------------------------------------------------------------------------
    def _build_panels(self) -> None:
        s = self.session
        self.tokens_panel = TokensPanel(s)
        self.embeddings_panel = EmbeddingsPanel(s)
        self.positional_panel = PositionalPanel(s)
        self.attention_panel = AttentionPanel(s)
        self.training_panel = TrainingPanel(s, self.run)
        self.walkthrough_panel = WalkthroughPanel(s)
        self.generation_panel = GenerationPanel(s)
        self.insights_panel = InsightsPanel(s)
        self.attribution_panel = AttributionPanel(s)
        self.history_panel = HistoryPanel(s)
        self.runs_panel = RunsPanel(s, self.run)
        panels = {
            "walkthrough": self.walkthrough_panel, "tokens": self.tokens_panel,
            "embeddings": self.embeddings_panel, "positional": self.positional_panel,
            "attention": self.attention_panel, "insights": self.insights_panel,
            "attribution": self.attribution_panel,
            "generation": self.generation_panel, "training": self.training_panel,
            "history": self.history_panel, "runs": self.runs_panel,
        }
        self.docks: dict[str, QDockWidget] = {
            "context": dock_layout.make_dock(self, "context", self.context_box, scroll=False)}
        for name in dock_layout.TITLES:
            if name != "context":
                self.docks[name] = dock_layout.make_dock(self, name, panels[name])
        self.context_dock = self.docks["context"]
        self._retitle_docks()
        dock_layout.arrange(self, self.docks)

    def _connect(self) -> None:
        s = self.session
        s.model_changed.connect(self._on_model_changed)
        s.weights_changed.connect(self._on_weights_changed)
        s.history_changed.connect(self._update_status)
        s.trace_changed.connect(self._on_trace_changed)
        s.training_changed.connect(self._on_training_changed)
        s.document_changed.connect(self.status.update_title)
        s.corpus_changed.connect(self.status.update_title)
        self.context_box.edited.connect(self.trace_service.schedule)
        self.trace_service.counted.connect(self.context_box.show_counts)
        self.trace_service.failed.connect(self.context_box.show_failure)
        self.trace_service.traced.connect(self._on_traced)
        self.documents.status.connect(self.show_status)
        self.followed.status.connect(self.show_status)
        self.run.status_message.connect(self.show_status)
        self.run.finished.connect(self._update_status)
        self.training_panel.device_changed.connect(self._update_status)

    # -- layout, language -----------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._size_on_show:
            self._size_on_show = False
            QTimer.singleShot(0, self._first_show)

    def _first_show(self) -> None:
        """First launch: the whole window, title bar included, inside the screen's free area
        (the size asked before showing excludes the frame, which only exists once shown)."""
        screen = self.screen()
        if screen is not None and not self.isMaximized() and not self.isFullScreen():
            free = screen.availableGeometry()
            frame = self.frameGeometry()
            extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
            width = min(self.width(), free.width() - extra_w)
            height = min(self.height(), free.height() - extra_h)
            if (width, height) != (self.width(), self.height()):
                self.resize(width, height)
            if not free.contains(self.frameGeometry()):
                self.move(free.topLeft())
        dock_layout.size(self, self.docks)

    def reset_layout(self) -> None:
        """Back to the default arrangement of the docks."""
        self.restoreState(self._default_state, dock_layout.LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()
        dock_layout.size(self, self.docks)

    def dock(self, name: str) -> QDockWidget:
        """The dock of a panel by short name: context, tokens, embeddings, positional, ..."""
        return self.docks[name]

    def raise_panel(self, name: str) -> None:
        """Show a panel's dock and bring its tab to the front."""
        dock = self.docks[name]
        dock.show()
        dock.raise_()

    def set_language(self, lang: str) -> None:
        """Switch the interface between English and Chinese (remembered, live).

        Installing the catalogue sends every widget a LanguageChange (each re-translates in
        its changeEvent); the session's language_changed re-words what the engine words.
        """
        i18n.remember(i18n.switch(self.session, lang))

    def _retranslate(self) -> None:
        """The window's own texts: dock titles, actions, menus, status fields, the title."""
        self._retitle_docks()
        self.actions_.retranslate(i18n.current())
        self.status.retranslate()
        self.documents.retranslate(self.statusBar().currentMessage())
        plot_menus.retranslate(self)  # pyqtgraph's right-click menus, worded when made

    def _retitle_docks(self) -> None:
        dock_layout.retitle(self.docks)
        self.context_dock.setToolTip(self.context_box.tip())

    # -- files (gui.window.documents) -----------------------------------------------------------
    def open_path(self, path: str) -> None:
        """Open a text file as the corpus, or a .safetensors file / folder as the model."""
        self.documents.open_path(path)

    def open_text(self, path: str, note: str = "", encoding: str | None = None) -> None:
        self.documents.open_text(path, note, encoding)

    def open_model(self, path: str, corpus_path: str | None = None, default: bool = False) -> None:
        self.documents.open_model(path, corpus_path, default)

    def open_run(self, path: str) -> bool:
        """Follow the run directory `path` live (File → Open run)."""
        return self.followed.open_run(path)

    def load_default(self) -> None:
        self.documents.load_default()

    def save_model(self) -> bool:
        return self.documents.save_model()

    def save_model_as(self) -> bool:
        return self.documents.save_model_as()

    def export_history(self) -> bool:
        return self.documents.export_history()

    def recent_files(self) -> list[str]:
        return self.recent.files()

    # -- session events -------------------------------------------------------------------------
    def _on_traced(self, seconds: float) -> None:
        if self.session.training:
            self.run.note_redraw_cost(seconds)

    def _on_trace_changed(self) -> None:
        if not self._first_trace_done:
            self._first_trace_done = True
            # Let the panels paint first, so "shown" means drawn.
            QTimer.singleShot(0, self.first_trace_shown.emit)
            QTimer.singleShot(0, runtime.freeze_garbage_collector)

    def _on_model_changed(self) -> None:
        self._update_status()
        self.status.update_title()
        if self.session.model is not None:
            self.trace_service.schedule(now=True)

    def _on_weights_changed(self) -> None:
        """New weights (training): the context is traced through them at once."""
        self._update_status()
        self.trace_service.schedule(now=True)

    def _on_training_changed(self, active: bool) -> None:
        for action in self.actions_.file_actions():
            action.setEnabled(not active)
        self._update_status()
        self.status.update_title()

    # -- status ---------------------------------------------------------------------------------
    def show_status(self, text: str, timeout: int = 8000) -> None:
        self.status.show_message(text, timeout)

    def _update_status(self, *_args) -> None:
        self.status.update(self.training_panel.device_name(), self.run.total_steps)

    def show_about(self) -> None:
        dialogs.show_info(
            self, self.tr("About {0}").format(APP_TITLE),
            f"<h3>{APP_TITLE}</h3>" + self.tr(
                "<p>Load a text, train a small GPT-like decoder on it and watch every step: "
                "tokens, embeddings, positional encoding, Q·Kᵀ, the causal mask, softmax, and "
                "the training curves.</p><p>Everything shown is read from one traced forward "
                "pass of the model on the context text.</p><p>Drop a .txt file or a "
                ".safetensors model onto the window to open it.</p>"))

    # -- drag and drop --------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0].toLocalFile())

    # -- closing --------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._closing:
            event.accept()
            return
        if self.run.is_active:
            choice = dialogs.ask_close_during_training(self)
            if choice == "cancel":
                event.ignore()
                return
            self.run.stop()
            self.run.wait_finished()
            QApplication.processEvents()  # deliver the run's last records and result
        elif self.session.dirty:
            choice = dialogs.ask_save_changes(self)
            if choice == "cancel":
                event.ignore()
                return
        else:
            choice = "discard"
        if choice == "save" and not self.save_model():
            event.ignore()  # the save dialog was cancelled: keep the window
            return
        self._closing = True
        dock_layout.save_layout(self)
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop every background thread and timer this window started."""
        self.trace_service.shutdown()
        self.statusBar().clearMessage()  # its timeout timer
        self.run.shutdown()
        for panel in (self.walkthrough_panel, self.generation_panel, self.insights_panel,
                      self.attribution_panel,
                      self.history_panel, self.training_panel, self.embeddings_panel,
                      self.runs_panel):
            panel.shutdown()
        self.documents.shutdown()
        # Panels' own pending timers (debounces, re-reads) have nothing left to update.
        for timer in self.findChildren(QTimer):
            timer.stop()
