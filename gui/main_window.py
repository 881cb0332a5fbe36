"""The main window: a context box, one dock per panel, menus, toolbar and status bar.

Every panel reads the same `Session`. Editing the context re-runs one traced forward off the GUI
thread (`TraceService`), and every panel redraws from that single trace. Opening a text file
prepares a new, untrained model for it; opening a model file shows that model.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QProgressDialog,
    QScrollArea,
    QStyle,
    QWidget,
)

from engine.job import StartFrom
from gui import dialogs, resources
from gui.app import freeze_garbage_collector
from gui.panels.attention import AttentionPanel
from gui.panels.embeddings import EmbeddingsPanel
from gui.panels.generation import GenerationPanel
from gui.panels.history import HistoryPanel
from gui.panels.insights import InsightsPanel
from gui.panels.positional import PositionalPanel
from gui.panels.tokens import TokensPanel
from gui.panels.training import TrainingPanel
from gui.panels.walkthrough import WalkthroughPanel
from gui.run import RunController
from gui.session import Session
from gui.workers import Cancelled, FunctionWorker, TraceService, start_worker, stop_worker

APP_TITLE = "Transformer Explorer"
MODEL_SUFFIXES = (".safetensors",)
TEXT_FILTER = "Text files (*.txt *.md *.csv *.tsv *.json *.log);;All files (*)"
MODEL_FILTER = "Transformer Explorer models (*.safetensors);;All files (*)"
DEBOUNCE_MS = 150  # context edits closer together than this are traced once
MAX_RECENT = 8
DEFAULT_SIZE = (1800, 1050)  # fits a 1920x1080 screen; shows five panels with readable labels
LAYOUT_VERSION = 3  # bump when the docks change, so an old saved layout is not restored

# Dock titles and menu names in Chinese (--lang zh); explanations come from engine.guide.
_ZH = {
    "Context": "上下文", "Tokens": "分词", "Embeddings": "词嵌入",
    "Positional encoding": "位置编码", "Attention": "注意力", "Training": "训练",
    "Walkthrough": "逐步讲解", "Generation": "生成", "Looking inside": "模型内部",
    "Training history": "训练历史", "&Language": "语言(&L)",
    "&File": "文件(&F)", "&View": "视图(&V)", "&Training": "训练(&T)", "&Help": "帮助(&H)",
}


def first_lines(text: str, tokenizer, n_tokens: int, max_chars: int = 400) -> str:
    """The start of `text` that fills about `n_tokens` tokens, ended at a word boundary.

    Leading heading/markup lines ("## overview", "@title-en ...") are skipped: prose makes a
    better first example (a text made only of such lines keeps them).
    """
    lines = text.lstrip("\ufeff").splitlines()
    start = next((i for i, line in enumerate(lines)
                  if line.strip() and line.lstrip()[0] not in "#@<"), 0)
    body = "\n".join(lines[start:]).strip()[: max_chars * 4]
    if tokenizer is None or not body:
        return body[:max_chars]
    ids = tokenizer.encode(body)
    if len(ids) <= n_tokens:
        return body[:max_chars]
    # The decoded first n_tokens tokens, so the context box holds what the model will read.
    head = tokenizer.decode(ids[:n_tokens]).replace("\ufffd", "")
    cut = max(head.rfind(" "), head.rfind("\n"))
    if cut > len(head) // 2 and not head[len(head) - 1].isspace() \
            and not body[len(head):len(head) + 1].isspace():
        head = head[:cut]  # do not end in the middle of a word
    return head.rstrip()[:max_chars]


class MainWindow(QMainWindow):
    """The application window. `open_path()` opens a text or model file."""

    first_trace_shown = Signal()  # emitted once, when the panels first show a trace

    def __init__(self, session: Session | None = None, lang: str = "en",
                 restore_layout: bool = True, load_default: bool = True):
        super().__init__()
        self.session = session or Session(self)
        self.session.lang = lang
        self.lang = lang
        self._worker: FunctionWorker | None = None  # open-text / open-model job
        self._progress_dialog: QProgressDialog | None = None
        self._last_trace_request = 0.0
        self._first_trace_done = False
        self._closing = False
        self._counted_model = False  # the model whose parameter count the status bar shows

        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.setDocumentMode(False)

        self.trace_service = TraceService(self)
        self.trace_service.traced.connect(self._on_traced)  # both on the GUI thread
        self.trace_service.failed.connect(self._on_trace_failed)

        self._build_context()
        self._build_panels()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        screen = QApplication.primaryScreen()
        width, height = DEFAULT_SIZE
        if screen is not None:  # never larger than the screen's free area
            free = screen.availableGeometry()
            width, height = min(width, free.width()), min(height, free.height())
        self.resize(width, height)
        self._default_state = self.saveState(LAYOUT_VERSION)
        # Dock proportions only take once the window is laid out: on first show, unless a
        # remembered layout was restored.
        self._size_on_show = not (restore_layout and self._restore_layout())

        self._trace_timer = QTimer(self)
        self._trace_timer.setSingleShot(True)
        self._trace_timer.timeout.connect(self._request_trace)

        s = self.session
        s.model_changed.connect(self._on_model_changed)
        s.weights_changed.connect(self._on_weights_changed)
        s.history_changed.connect(self._update_status)
        s.trace_changed.connect(self._on_trace_changed)
        s.training_changed.connect(self._on_training_changed)
        self.run.status_message.connect(self.show_status)
        self.run.finished.connect(self._on_training_finished)
        self.training_panel.form.device_box.currentIndexChanged.connect(self._update_status)
        self._update_status()
        self._update_title()
        if load_default:
            QTimer.singleShot(0, self.load_default)

    # -- building ----------------------------------------------------------------------------------

    def _t(self, text: str) -> str:
        return _ZH.get(text, text) if self.lang == "zh" else text

    def _dock(self, title: str, widget: QWidget, name: str, scroll: bool = True) -> QDockWidget:
        dock = QDockWidget(self._t(title), self)
        dock.setObjectName(name)  # saveState/restoreState find docks by object name
        if scroll:
            # A panel squeezed below its minimum size scrolls instead of forcing the whole
            # window wider than the screen (docks can be rearranged into any shape).
            area = QScrollArea()
            area.setWidget(widget)
            area.setWidgetResizable(True)
            area.setFrameShape(QFrame.Shape.NoFrame)
            dock.setWidget(area)
        else:
            dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        return dock

    def _build_context(self) -> None:
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(4, 2, 4, 2)
        self.context_edit = QPlainTextEdit()
        self.context_edit.setPlaceholderText(
            "Type or paste the text to look at; every panel shows how the model processes it.")
        self.context_edit.setTabChangesFocus(True)
        self.context_edit.setMinimumHeight(44)
        # A few lines are enough to edit the context; the panels below need the height.
        box.setMaximumHeight(150)
        self.context_edit.textChanged.connect(self._on_context_edited)
        self.context_info = QLabel()
        self.context_info.setWordWrap(True)
        self.context_info.setMinimumWidth(220)
        self.context_info.setMaximumWidth(320)
        self.context_info.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.context_edit, 1)
        layout.addWidget(self.context_info)
        self.context_dock = self._dock("Context", box, "dock_context", scroll=False)
        self.context_dock.setToolTip("The text every panel traces through the model")

    def _build_panels(self) -> None:
        s = self.session
        self.tokens_panel = TokensPanel(s)
        self.embeddings_panel = EmbeddingsPanel(s)
        self.positional_panel = PositionalPanel(s)
        self.attention_panel = AttentionPanel(s)
        self.run = RunController(s, self)  # owns the training process and the run's state
        self.training_panel = TrainingPanel(s, self.run)
        self.training_panel.set_language(self.lang)
        self.walkthrough_panel = WalkthroughPanel(s)
        self.walkthrough_panel.set_language(self.lang)
        self.generation_panel = GenerationPanel(s)
        self.insights_panel = InsightsPanel(s)
        self.history_panel = HistoryPanel(s)
        self.docks: dict[str, QDockWidget] = {
            "context": self.context_dock,
            "tokens": self._dock("Tokens", self.tokens_panel, "dock_tokens"),
            "embeddings": self._dock("Embeddings", self.embeddings_panel, "dock_embeddings"),
            "positional": self._dock("Positional encoding", self.positional_panel,
                                     "dock_positional"),
            "attention": self._dock("Attention", self.attention_panel, "dock_attention"),
            "training": self._dock("Training", self.training_panel, "dock_training"),
            "walkthrough": self._dock("Walkthrough", self.walkthrough_panel, "dock_walkthrough"),
            "generation": self._dock("Generation", self.generation_panel, "dock_generation"),
            "insights": self._dock("Looking inside", self.insights_panel, "dock_insights"),
            "history": self._dock("Training history", self.history_panel, "dock_history"),
        }
        self._arrange_docks()

    def _arrange_docks(self) -> None:
        """Default layout for DEFAULT_SIZE: context on top, then three columns.

        Left: the step-by-step walkthrough (tabbed with tokens) above the attention heads
        (tabbed with logit lens / ablation / per-token loss); middle: positional encoding
        (tabbed with generation) above embeddings; right: training (tabbed with its history).
        """
        d = self.docks
        for dock in d.values():
            dock.setFloating(False)
            dock.show()
        self.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, d["context"])
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["walkthrough"])
        self.splitDockWidget(d["walkthrough"], d["positional"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["positional"], d["training"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["walkthrough"], d["attention"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["positional"], d["embeddings"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(d["walkthrough"], d["tokens"])
        self.tabifyDockWidget(d["attention"], d["insights"])
        self.tabifyDockWidget(d["positional"], d["generation"])
        self.tabifyDockWidget(d["training"], d["history"])
        for key in ("walkthrough", "attention", "positional", "training"):
            d[key].raise_()

    def _size_docks(self) -> None:
        """Default dock proportions; only meaningful once the window has its size."""
        d = self.docks
        self.resizeDocks([d["context"]], [80], Qt.Orientation.Vertical)
        self.resizeDocks([d["walkthrough"], d["positional"], d["training"]], [880, 500, 400],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([d["walkthrough"], d["attention"]], [400, 500], Qt.Orientation.Vertical)
        self.resizeDocks([d["positional"], d["embeddings"]], [420, 480], Qt.Orientation.Vertical)

    def _action(self, text: str, slot, shortcut=None, icon=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        P = QStyle.StandardPixmap
        self.open_text_action = self._action(
            "Open &text…", self.open_text_dialog, QKeySequence.StandardKey.Open,
            P.SP_FileIcon, "Open a text file to train on (prepares a new untrained model)")
        self.open_model_action = self._action(
            "Open &model…", self.open_model_dialog, "Ctrl+Shift+O", P.SP_DirOpenIcon,
            "Open a model saved by Transformer Explorer (.safetensors)")
        self.save_action = self._action(
            "&Save model", self.save_model, QKeySequence.StandardKey.Save,
            P.SP_DialogSaveButton, "Save the model, its tokenizer and its training history")
        self.save_as_action = self._action(
            "Save model &as…", self.save_model_as, QKeySequence.StandardKey.SaveAs)
        self.export_history_action = self._action(
            "Export training &history (CSV)…", self.export_history,
            tip="Every training record (step, losses, learning rate, tokens/s) as a CSV table")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        tp = self.training_panel
        self.start_action = self._action("&Start training", tp.start, "F5", P.SP_MediaPlay,
                                         "Train a new model with the Training panel's settings")
        self.pause_action = self._action("&Pause / resume", self.run.toggle_pause, "F6",
                                         P.SP_MediaPause, "Pause or resume training")
        self.stop_action = self._action("S&top training", self.run.stop, "Shift+F5", P.SP_MediaStop,
                                        "Stop after the current step; the weights are kept")
        self.reset_layout_action = self._action("&Reset layout", self.reset_layout)
        self.about_action = self._action("&About Transformer Explorer", self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        tp.start_button.setToolTip(f"{tp.start_button.toolTip()} (F5)")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self._t("&File"))
        file_menu.addActions([self.open_text_action, self.open_model_action])
        self.recent_menu = QMenu("Open &recent", self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.save_action, self.save_as_action])
        file_menu.addAction(self.export_history_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self._rebuild_recent_menu()

        train_menu = bar.addMenu(self._t("&Training"))
        train_menu.addActions([self.start_action, self.pause_action, self.stop_action])

        view_menu = bar.addMenu(self._t("&View"))
        for key in ("context", "walkthrough", "tokens", "embeddings", "positional", "attention",
                    "insights", "generation", "training", "history"):
            view_menu.addAction(self.docks[key].toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self.reset_layout_action)
        lang_menu = view_menu.addMenu(self._t("&Language"))
        group = QActionGroup(self)
        for code, label in (("en", "English"), ("zh", "中文")):
            action = group.addAction(label)
            action.setCheckable(True)
            action.setChecked(code == self.lang)
            action.triggered.connect(lambda _checked=False, c=code: self.set_language(c))
            lang_menu.addAction(action)

        help_menu = bar.addMenu(self._t("&Help"))
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("toolbar_main")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setMovable(False)
        tb.addActions([self.open_text_action, self.open_model_action, self.save_action])
        tb.addSeparator()
        tb.addActions([self.start_action, self.pause_action, self.stop_action])

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.device_label = QLabel()
        self.params_label = QLabel()
        self.step_label = QLabel()
        self.status_progress = QProgressBar()
        self.status_progress.setMaximumWidth(160)
        self.status_progress.setMaximumHeight(16)
        self.status_progress.setTextVisible(False)
        self.status_progress.hide()
        for w in (self.device_label, self.params_label, self.step_label, self.status_progress):
            bar.addPermanentWidget(w)

    # -- layout and settings -----------------------------------------------------------------------

    def _restore_layout(self) -> bool:
        """The remembered geometry and docks; False if there was no usable saved layout."""
        s = QSettings()
        geometry = s.value("window/geometry")
        state = s.value("window/state")
        if isinstance(geometry, (QByteArray, bytes)):
            self.restoreGeometry(geometry)
        if isinstance(state, (QByteArray, bytes)):
            return self.restoreState(state, LAYOUT_VERSION)
        return False

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._size_on_show:
            self._size_on_show = False
            QTimer.singleShot(0, self._size_docks)

    def _save_layout(self) -> None:
        s = QSettings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(LAYOUT_VERSION))

    def set_language(self, lang: str) -> None:
        """Switch dock titles and explanations between English and Chinese (remembered)."""
        self.lang = self.session.lang = lang
        QSettings().setValue("ui/lang", lang)
        titles = {"context": "Context", "tokens": "Tokens", "embeddings": "Embeddings",
                  "positional": "Positional encoding", "attention": "Attention",
                  "training": "Training", "walkthrough": "Walkthrough",
                  "generation": "Generation", "insights": "Looking inside",
                  "history": "Training history"}
        for key, title in titles.items():
            self.docks[key].setWindowTitle(self._t(title))
        self.walkthrough_panel.set_language(lang)
        self.training_panel.set_language(lang)

    def reset_layout(self) -> None:
        """Back to the default arrangement of the docks."""
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()
        self._size_docks()

    def dock(self, name: str) -> QDockWidget:
        """The dock of a panel by short name: context, tokens, embeddings, positional, ..."""
        return self.docks[name]

    def raise_panel(self, name: str) -> None:
        """Show a panel's dock and bring its tab to the front."""
        dock = self.docks[name]
        dock.show()
        dock.raise_()

    def _last_dir(self) -> str:
        return str(QSettings().value("paths/last_dir", str(Path.home())))

    def _remember(self, path: str) -> None:
        s = QSettings()
        s.setValue("paths/last_dir", str(Path(path).parent))
        recent = [p for p in self.recent_files() if p != path]
        s.setValue("paths/recent", [path, *recent][:MAX_RECENT])
        self._rebuild_recent_menu()

    def recent_files(self) -> list[str]:
        value = QSettings().value("paths/recent", [])
        if isinstance(value, str):  # QSettings returns a bare string for a one-item list
            value = [value]
        return [str(v) for v in (value or [])]

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for i, path in enumerate(recent):
            action = self.recent_menu.addAction(f"&{i + 1} {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        QSettings().setValue("paths/recent", [])
        self._rebuild_recent_menu()

    # -- opening files -----------------------------------------------------------------------------

    def load_default(self) -> None:
        """The bundled model and its corpus; an untrained model on the corpus if no model file."""
        corpus_path = resources.default_corpus_path()
        model_path = resources.default_model_path()
        if model_path.is_file():
            self.open_model(str(model_path), corpus_path=str(corpus_path), default=True)
        elif corpus_path.is_file():
            self.open_text(str(corpus_path), note=(
                f"No bundled model at {model_path}: showing an untrained model on the default "
                "text. Press Start in the Training panel to train it."))
        else:
            self.show_status(
                f"Bundled resources not found in {resources.resources_dir()}; "
                "open a text file (Ctrl+O) to begin.")

    def open_path(self, path: str) -> None:
        """Open a text file as the corpus, or a .safetensors file / folder as the model."""
        p = Path(path)
        if p.is_dir() or p.suffix.lower() in MODEL_SUFFIXES:
            self.open_model(str(p))
        else:
            self.open_text(str(p))

    def open_text_dialog(self) -> None:
        path = dialogs.ask_open_path(self, "Open a text file to train on", self._last_dir(),
                                     TEXT_FILTER)
        if path:
            self.open_text(path)

    def open_model_dialog(self) -> None:
        path = dialogs.ask_open_path(self, "Open a model", self._last_dir(), MODEL_FILTER)
        if path:
            self.open_model(path)

    def _busy(self, what: str) -> bool:
        if self.run.is_active:
            dialogs.show_error(self, "Training is running",
                               f"Stop training (Shift+F5) before {what}.")
            return True
        if self._worker is not None:
            self.show_status("Still opening the previous file…")
            return True
        return False

    def _run_job(self, func, label: str, on_done, on_error, cancellable: bool = True) -> None:
        """Run func(report) on a worker thread with a progress dialog (shown after 400 ms).

        The worker's signals go to this window's bound methods, so they are delivered queued on
        the GUI thread (a lambda would run on the worker's thread).
        """
        worker = FunctionWorker(func)
        dialog = QProgressDialog(label, "Cancel", 0, 1000, self)
        dialog.setWindowTitle(APP_TITLE)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        if not cancellable:
            dialog.setCancelButton(None)
        dialog.canceled.connect(self._cancel_job)
        dialog.setValue(0)
        self._job_callbacks = (on_done, on_error)
        queued = Qt.ConnectionType.QueuedConnection  # GUI thread, whatever PySide6 infers
        worker.progress.connect(self._on_job_progress, queued)
        worker.returned.connect(self._on_job_returned, queued)
        worker.errored.connect(self._on_job_errored, queued)
        worker.finished.connect(self._on_job_finished, queued)
        self._worker = worker
        self._progress_dialog = dialog
        start_worker(worker, "open-file")

    def _cancel_job(self) -> None:
        if self._worker is not None:
            self._worker.quit()  # direct call: the worker's own thread is busy with the job

    def _on_job_progress(self, done: int, total: int) -> None:
        if self._progress_dialog is not None and total > 0:
            self._progress_dialog.setValue(int(1000 * min(done, total) / total))

    def _on_job_returned(self, result) -> None:
        self._close_progress()
        self._job_callbacks[0](result)

    def _on_job_errored(self, exc: BaseException) -> None:
        self._close_progress()
        self._job_callbacks[1](exc)

    def _on_job_finished(self) -> None:
        if self.sender() is self._worker:  # not a job started by the callback just run
            self._close_progress()
            self._worker = None

    def _close_progress(self) -> None:
        dialog, self._progress_dialog = self._progress_dialog, None
        if dialog is not None:
            dialog.canceled.disconnect(self._cancel_job)
            dialog.reset()
            dialog.hide()
            dialog.deleteLater()

    def open_text(self, path: str, note: str = "") -> None:
        """Tokenize a text file (in the background) and prepare a new untrained model for it."""
        if self._busy("opening another file"):
            return
        from engine.corpus import load_corpus

        form = self.training_panel.form
        tokenizer = form.tokenizer_name()
        context_length = form.model_config().context_length
        val_fraction = form.train_config().val_fraction

        def job(report):
            return load_corpus(path, tokenizer=tokenizer, context_length=context_length,
                               val_fraction=val_fraction, progress=report)

        self.show_status(f"Tokenizing {Path(path).name} with {tokenizer}…")
        self._run_job(job, f"Tokenizing {Path(path).name} with {tokenizer}…",
                      lambda corpus: self._on_text_opened(path, corpus, note),
                      lambda exc: self._on_open_failed(exc, f"Opening {Path(path).name}"))

    def _on_text_opened(self, path: str, corpus, note: str) -> None:
        import torch

        from engine.model import GPT

        form = self.training_panel.form
        try:
            cfg = form.model_config()
            cfg.vocab_size = corpus.tokenizer.vocab_size
            torch.manual_seed(form.train_config().seed)
            model = GPT(cfg)
        except ValueError as exc:  # ConfigError: the form's settings are impossible
            dialogs.show_exception(self, exc, "Preparing a model")
            return
        s = self.session
        s.set_corpus(path, corpus)
        s.model_path = None
        s.train_config = None
        s.dirty = False
        self.run.clear_result()
        self.run.set_resumable(None)
        s.set_snapshots(None)  # they belong to another model
        s.set_model(model, corpus.tokenizer, history=[])
        self._set_context(first_lines(corpus.tokenizer.decode(corpus.train[:512]),
                                      corpus.tokenizer, cfg.context_length))
        default = Path(path) == resources.default_corpus_path()
        if not default:
            self._remember(path)
        self.show_status(note or (
            f"Opened {Path(path).name}: {corpus.n_tokens:,} tokens, vocabulary "
            f"{corpus.tokenizer.vocab_size:,} ({corpus.tokenizer.name}). A new UNTRAINED model "
            f"({model.num_params():,} parameters) was made for this vocabulary — press Start in "
            "the Training panel to train it."), timeout=0)
        self._update_title()

    def open_model(self, path: str, corpus_path: str | None = None, default: bool = False) -> None:
        """Load a saved model (in the background) and show it; its form settings are applied."""
        if self._busy("opening another model"):
            return
        from engine.checkpoint import load_checkpoint

        def job(report):
            return load_checkpoint(path)

        self.show_status(f"Opening {Path(path).name}…")
        self._run_job(job, f"Opening {Path(path).name}…",
                      lambda ckpt: self._on_model_opened(path, ckpt, corpus_path, default),
                      lambda exc: self._on_open_failed(exc, f"Opening {Path(path).name}"),
                      cancellable=False)

    def _on_model_opened(self, path: str, ckpt, corpus_path: str | None, default: bool) -> None:
        s = self.session
        s.model_path = None if default else str(ckpt.path)
        s.train_config = ckpt.train_config
        s.dirty = False
        self.run.clear_result()
        self.run.set_resumable(None if ckpt.trainer_state is None else StartFrom(
            ckpt.model_config, ckpt.tokenizer, ckpt.model.state_dict(), ckpt.trainer_state))
        if corpus_path is None:
            saved = (getattr(ckpt, "metadata", None) or {}).get("corpus")
            if isinstance(saved, str) and Path(saved).is_file() and s.corpus_path is None:
                corpus_path = saved
        if corpus_path is not None and corpus_path != s.corpus_path:
            s.set_corpus(corpus_path, None)  # tokenized when training starts
        s.set_snapshots(None)  # they belong to another model
        s.set_model(ckpt.model, ckpt.tokenizer, history=list(ckpt.history or []))
        if not default:
            self.training_panel.apply_model_settings()
            self._remember(path)
        if default or not s.context_text.strip():
            self._set_context(self._default_context(ckpt.tokenizer, corpus_path,
                                                    ckpt.model.config.context_length))
        # A bundle saved without its trainer has step 0 but keeps the history of its run.
        history_steps = [r.get("step", 0) for r in (ckpt.history or []) if isinstance(r, dict)]
        steps = max([ckpt.step or 0, *history_steps])
        what = "the bundled model" if default else Path(path).name
        self.show_status(
            f"Opened {what}: {ckpt.model.num_params():,} parameters, trained {steps:,} steps, "
            f"vocabulary {ckpt.tokenizer.vocab_size:,} ({ckpt.tokenizer.name}).", timeout=0)
        self._update_title()

    def _default_context(self, tokenizer, corpus_path: str | None, n_tokens: int) -> str:
        if corpus_path and Path(corpus_path).is_file():
            try:
                with open(corpus_path, "rb") as f:
                    head = f.read(4096)  # the first lines are all we need, even of a huge file
            except OSError:
                return self.session.context_text
            try:
                text = head.decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.start >= len(head) - 3:  # only a character cut at the 4 KB boundary
                    text = head[: exc.start].decode("utf-8")
                else:  # the engine reads such files as GBK/GB18030
                    text = head.decode("gb18030", errors="ignore")
            return first_lines(text.lstrip("\ufeff"), tokenizer, n_tokens)
        return self.session.context_text

    def _on_open_failed(self, exc: BaseException, doing: str) -> None:
        if isinstance(exc, Cancelled):
            self.show_status("Cancelled.")
            return
        self.show_status(f"{doing} failed.")
        if isinstance(exc, (ValueError, OSError)):
            dialogs.show_exception(self, exc, doing)
        else:
            title, message = dialogs.explain(exc)
            dialogs.show_error(self, title, message, getattr(exc, "details", None))

    # -- saving ------------------------------------------------------------------------------------

    def save_model(self) -> bool:
        """Save to the model's file (asks for one the first time); True if saved."""
        if self.session.model_path:
            return self._save_to(self.session.model_path)
        return self.save_model_as()

    def save_model_as(self) -> bool:
        if self.session.model is None:
            return False
        if self.run.is_active:
            dialogs.show_error(self, "Training is running",
                               "Stop training (Shift+F5) before saving; the weights are kept.")
            return False
        start = self.session.model_path or str(Path(self._last_dir()) / "model.safetensors")
        path = dialogs.ask_save_path(self, "Save model", start, MODEL_FILTER)
        if not path:
            return False
        if not path.lower().endswith(".safetensors"):
            path += ".safetensors"
        return self._save_to(path)

    def export_history(self) -> bool:
        """Write the loss history of the current model to a CSV file the user picks."""
        from engine.export import history_to_csv

        if not self.session.history:
            dialogs.show_error(self, "No training history",
                               "This model has no training records yet. Train it first (F5).")
            return False
        start = str(Path(self._last_dir()) / "training_history.csv")
        path = dialogs.ask_save_path(self, "Export training history", start,
                                     "CSV files (*.csv);;All files (*)")
        if not path:
            return False
        try:
            history_to_csv(self.session.history, path)
        except OSError as exc:
            dialogs.show_exception(self, exc, "Exporting the training history")
            return False
        self.show_status(f"Exported {len(self.session.history):,} training records to {path}")
        return True

    def _save_to(self, path: str) -> bool:
        from engine.checkpoint import save_checkpoint

        s = self.session
        if s.model is None:
            return False
        result = self.run.last_result
        state = result.state if result is not None else None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if state is not None:
                # The run's final trainer state (its weights are the session's) so the
                # optimizer state, step and history are saved and training can continue.
                saved = save_checkpoint(path, s.model, s.tokenizer, trainer_state=state,
                                        train_cfg=s.train_config,
                                        extra={"corpus": s.corpus_path})
            else:
                extra = {"history": s.history, "corpus": s.corpus_path}
                step = max((int(r.get("step", 0)) for r in s.history), default=0)
                saved = save_checkpoint(path, s.model, s.tokenizer, train_cfg=s.train_config,
                                        extra=extra, step=step)
        except (ValueError, OSError) as exc:
            QApplication.restoreOverrideCursor()
            dialogs.show_exception(self, exc, "Saving the model")
            return False
        QApplication.restoreOverrideCursor()
        s.model_path = str(saved)
        s.dirty = False
        self._remember(str(saved))
        self.show_status(f"Saved {saved}")
        self._update_title()
        return True

    # -- context and tracing -----------------------------------------------------------------------

    def _set_context(self, text: str) -> None:
        if self.context_edit.toPlainText() == text:
            self._on_context_edited()  # same text, new model: trace again
        else:
            self.context_edit.setPlainText(text)

    def _on_context_edited(self) -> None:
        self.session.set_context_text(self.context_edit.toPlainText())
        # Leading edge: the first edit after a quiet spell is traced at once; a burst of typing
        # is then traced at most every DEBOUNCE_MS.
        quiet = (time.monotonic() - self._last_trace_request) * 1000 > DEBOUNCE_MS
        self._trace_timer.start(0 if quiet and not self.trace_service.pending else DEBOUNCE_MS)

    def _request_trace(self) -> None:
        self._last_trace_request = time.monotonic()
        s = self.session
        if s.model is None or s.tokenizer is None:
            return
        all_ids = s.tokenizer.encode(s.context_text)
        ids = all_ids[: s.model.config.context_length]
        self._update_context_info(len(all_ids), len(ids))
        if not len(ids):
            return
        self.trace_service.request(s.model, ids)

    def _update_context_info(self, n_all: int, n_used: int) -> None:
        s = self.session
        T = s.model.config.context_length if s.model is not None else 0
        if n_all == 0:
            text = "Type some text: the panels show how the model reads it."
        elif n_all > n_used:
            text = (f"{n_all:,} tokens; the model reads the first {n_used} "
                    f"(context_length {T}).")
        else:
            text = f"{n_all} tokens (context_length {T})."
        unk = 0
        if s.tokenizer is not None and n_all:
            ids = s.tokenizer.encode(s.context_text)[:T]
            unk = int((ids == s.tokenizer.unk_id).sum())
        if unk:
            text += f" {unk} not in the model's vocabulary (shown as <unk>)."
        self.context_info.setText(text)
        self.context_info.setStyleSheet("")

    def _on_traced(self, trace) -> None:
        t0 = time.perf_counter()
        self.session.set_trace(trace)
        if self.session.training:
            self.run.note_redraw_cost(time.perf_counter() - t0)

    def _on_trace_failed(self, exc: BaseException) -> None:
        self.context_info.setText(f"Could not trace this text: {exc}")
        self.context_info.setStyleSheet("color: #b00020;")

    def _on_trace_changed(self) -> None:
        if not self._first_trace_done:
            self._first_trace_done = True
            # Let the panels paint first, so "shown" means drawn.
            QTimer.singleShot(0, self.first_trace_shown.emit)
            QTimer.singleShot(0, freeze_garbage_collector)

    def _on_model_changed(self) -> None:
        self._update_status()
        self._update_title()
        if self.session.model is not None:
            self._trace_timer.start(0)

    def _on_weights_changed(self) -> None:
        """New weights (training): the context is traced through them at once."""
        self._update_status()
        self._trace_timer.start(0)

    # -- training ----------------------------------------------------------------------------------

    def _on_training_changed(self, active: bool) -> None:
        for action in (self.open_text_action, self.open_model_action, self.save_action,
                       self.save_as_action):
            action.setEnabled(not active)
        self.status_progress.setVisible(active)
        self._update_status()
        self._update_title()

    def _on_training_finished(self, result) -> None:
        self._update_status()
        self._update_title()

    # -- status ------------------------------------------------------------------------------------

    def show_status(self, text: str, timeout: int = 8000) -> None:
        self.statusBar().showMessage(text, timeout)

    def _update_status(self) -> None:
        s = self.session
        device = self.training_panel.form.device_box.currentText() or "cpu"
        self.device_label.setText(f"Device: {device}")
        # Called for every batch of training records: count parameters once per model.
        if s.model is not self._counted_model:
            self._counted_model = s.model
            count = "no model" if s.model is None else f"{s.model.num_params():,} parameters"
            self.params_label.setText(count)
        step = int(s.history[-1]["step"]) if s.history else 0
        if s.training:
            total = self.run.total_steps or 1
            self.step_label.setText(f"step {step:,} / {total:,}")
            self.status_progress.setRange(0, total)
            self.status_progress.setValue(min(step, total))
        else:
            self.step_label.setText(f"trained {step:,} steps" if step else "untrained")

    def _update_title(self) -> None:
        s = self.session
        if s.model_path:
            name = Path(s.model_path).name
        elif s.corpus_path and Path(s.corpus_path) != resources.default_corpus_path():
            name = f"new model on {Path(s.corpus_path).name}"
        else:
            name = "bundled model" if s.history else "untrained model"
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}")
        self.setWindowModified(bool(s.dirty))

    def show_about(self) -> None:
        dialogs.show_info(
            self, f"About {APP_TITLE}",
            f"<h3>{APP_TITLE}</h3><p>Load a text, train a small GPT-like decoder on it and "
            "watch every step: tokens, embeddings, positional encoding, Q·Kᵀ, the causal mask, "
            "softmax, and the training curves.</p><p>Everything shown is read from one traced "
            "forward pass of the model on the context text.</p>"
            "<p>Drop a .txt file or a .safetensors model onto the window to open it.</p>")

    # -- drag and drop -----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0].toLocalFile())

    # -- closing -----------------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
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
        self._save_layout()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop every background thread and timer this window started."""
        self._trace_timer.stop()
        self.statusBar().clearMessage()  # its timeout timer
        self.training_panel.shutdown()
        self.run.shutdown()
        for panel in (self.walkthrough_panel, self.generation_panel, self.insights_panel,
                      self.history_panel):
            panel.shutdown()
        if self._worker is not None:
            stop_worker(self._worker)
            self._worker = None
        self.trace_service.shutdown()
        # Panels' own pending timers (debounces, re-reads) have nothing left to update.
        for timer in self.findChildren(QTimer):
            timer.stop()
