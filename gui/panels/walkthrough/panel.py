"""The walkthrough dock: every step of the session's trace, one at a time.

The step list on the left holds the trace's steps grouped by block; Previous/Next (or ←/→,
↑/↓ in the list) move through them and tell the session, so the other panels follow. For the
current step the panel shows its words (describe), its numbers (values) and an independent
float64 recomputation of the step (checks) with its largest difference.

"Article mode" re-traces a batch of 4 windows of 16 tokens so the shapes are the articles' own.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from engine.model.checks import Check
from engine.model.trace import Trace
from gui.panels.walkthrough import article
from gui.panels.walkthrough.checks import StepChecks, verdict
from gui.panels.walkthrough.describe import describe
from gui.panels.walkthrough.export import StepExport
from gui.panels.walkthrough.labels import TraceLabels, outline
from gui.panels.walkthrough.model_map import ModelMap
from gui.panels.walkthrough.step_list import StepList
from gui.panels.walkthrough.table_model import StepTableModel
from gui.panels.walkthrough.toolbar import Toolbar
from gui.panels.walkthrough.values import ValuesView
from gui.panels.walkthrough.words import WordsView
from gui.session import Session
from gui.widgets import EmptyState
from gui.widgets.lazy import FitsDock
from gui.workers import FunctionWorker, start_worker, stop_worker
from gui.widgets.language import Translated

_BANNER_STYLE = {
    "info": "background: #e8f1fb; color: #123a63; border: 1px solid #bcd4ee;",
    "problem": "background: #fdecea; color: #8a1c1c; border: 1px solid #f5c2c0;",
}


class WalkthroughPanel(Translated, FitsDock, QWidget):
    """Every step of the session's trace, one at a time, with its numbers, picture and check.

    Two languages meet here: the interface's own words follow the installed catalogue (tr(),
    re-set on LanguageChange) and the engine's (step titles, formulas, notes, the guide) follow
    `session.lang` (re-drawn on language_changed). Either event re-draws everything shown.
    """

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._names: list[str] = []  # trace step names in order
        self._list_layout: list[tuple] = []  # (name, shape, title) of the steps listed
        self._index = -1
        self._banner: Callable[[], str] | None = None  # makes the banner's text, in the language
        self._labels = TraceLabels(session)
        self._checks = StepChecks(self)
        self._checks.checked.connect(self._on_checked)
        self._export = StepExport(self)
        self._article_worker: FunctionWorker | None = None
        self._article_source = ""

        self._build()
        session.trace_changed.connect(self._on_trace_changed)
        session.model_changed.connect(self._on_model_changed)
        session.weights_changed.connect(self._on_weights_changed)
        session.focus_changed.connect(self._on_focus_changed)
        session.language_changed.connect(self._on_language_changed)
        self._on_trace_changed()

    def _build(self) -> None:
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.toolbar = Toolbar()
        self.toolbar.prev_button.clicked.connect(self.previous)
        self.toolbar.next_button.clicked.connect(self.next)
        self.toolbar.article_button.clicked.connect(self.run_article_mode)
        self.toolbar.csv_button.clicked.connect(self.export_csv)
        self.toolbar.npy_button.clicked.connect(self.export_npy)
        self.toolbar.png_button.clicked.connect(lambda: self.export_image("png"))
        self.toolbar.svg_button.clicked.connect(lambda: self.export_image("svg"))
        self.step_list = StepList()
        self.step_list.currentRowChanged.connect(self._on_row_changed)
        # ← → from any widget of the panel (gui keys go to the focused widget first).
        QApplication.instance().installEventFilter(self)
        self.model_map = ModelMap(self.session.lang)
        self.model_map.step_clicked.connect(self.go_to)
        self.words = WordsView()
        self.values = ValuesView(self._labels)
        self.values.form.slice_changed.connect(self._show_values)

        # Widgets the tests and the window reach for, under the names they had in one module.
        self.next_button, self.article_button = self.toolbar.next_button, self.toolbar.article_button
        self.shapes, self.note, self.explanation = (self.words.shapes, self.words.note,
                                                    self.words.explanation)
        self.batch_spin, self.head_spin = self.values.form.batch_spin, self.values.form.head_spin
        self.heatmap = self.values.heatmap

        # The words above the numbers, in a splitter: in the default layout the dock is ~300 px
        # tall, and a fixed column of words left the table one row and the heatmap a sliver.
        # The words scroll; the numbers keep most of the height, and the user can drag the line.
        detail = QSplitter(Qt.Orientation.Vertical)
        detail.setContentsMargins(6, 0, 0, 0)
        detail.addWidget(self.words)
        detail.addWidget(self.values)
        detail.setStretchFactor(0, 1)
        detail.setStretchFactor(1, 1)
        detail.setSizes([170, 150])  # the default dock: the check and guide text's first lines
        detail.setChildrenCollapsible(False)
        # The model map under the step list: the whole model at a glance, the step lit, a click
        # goes to a step (gui.panels.walkthrough.model_map).
        steps = QSplitter(Qt.Orientation.Vertical)
        steps.addWidget(self.step_list)
        steps.addWidget(self.model_map)
        steps.setStretchFactor(0, 2)
        steps.setStretchFactor(1, 3)
        steps.setChildrenCollapsible(False)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(steps)
        split.addWidget(detail)
        split.setStretchFactor(1, 1)
        split.setSizes([250, 1000])
        split.setChildrenCollapsible(False)
        steps.setSizes([240, 360])

        content = QWidget()
        cl = QVBoxLayout(content)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.toolbar)
        cl.addWidget(split, 1)
        self.empty = EmptyState(content, self._empty_text)  # asked again on a switch
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.empty, 1)

    # -- language -----------------------------------------------------------------------------
    @property
    def lang(self) -> str:
        """The session's language, "en" or "zh"."""
        return self.session.lang

    @Slot()
    def _on_language_changed(self, *_args: object) -> None:
        self.model_map.set_language(self.lang)
        self._retranslate()

    def _empty_text(self) -> str:
        return self.tr("No trace yet. Load or create a model and type some context text: every "
                       "step of its forward pass will be listed here.")

    def _retranslate(self) -> None:
        """Every text in the languages now chosen: the banner, the step list and the step on
        show (the toolbar, the form and the empty state re-set their own labels)."""
        if self._banner is not None:
            self.banner.setText(self._banner())
        if self.session.trace is not None:
            self.step_list.show_outline(outline(self.session.trace, self.lang))  # headers too
        if self.current_name():
            self._set_index(self._index, notify=False)

    # -- public API ---------------------------------------------------------------------------
    def current_name(self) -> str:
        """The step shown now ('' when there is no trace)."""
        return self._names[self._index] if 0 <= self._index < len(self._names) else ""

    def step_names(self) -> list[str]:
        """The trace's step names in order."""
        return list(self._names)

    def go_to(self, name: str) -> None:
        """Show step `name` and tell the session (other panels follow)."""
        if name not in self.step_list.row_of:
            raise KeyError(f"no step {name!r} in the current trace")
        self._set_index(self._names.index(name), notify=True)

    def next(self) -> None:
        """Show the next step, if any."""
        if self._index + 1 < len(self._names):
            self._set_index(self._index + 1, notify=True)

    def previous(self) -> None:
        """Show the previous step, if any."""
        if self._index > 0:
            self._set_index(self._index - 1, notify=True)

    def table_model(self) -> StepTableModel:
        return self.values.table_model

    def check_label_text(self) -> str:
        return self.words.check_label.text()

    def check_result(self) -> Check | None:
        """The check of the current step (computed when the step was shown)."""
        return self._checks.known(self.current_name())

    def set_precision(self, precision: int) -> None:
        """Decimals shown in the table (0-8), remembered across sessions."""
        self.values.form.set_precision(precision)

    def set_slice(self, batch: int | None = None, head: int | None = None) -> None:
        """Choose which batch entry / head of a >2-D step is shown."""
        self.values.form.select(batch, head)

    def current_slice(self) -> tuple[np.ndarray, list[str], list[str]]:
        """The 2-D values in the table and heatmap, with their row and column labels."""
        model = self.values.table_model
        return model.matrix(), model.row_labels(), model.column_labels()

    def show_banner(self, text: str | Callable[[], str], kind: str = "info") -> None:
        """A message above the walkthrough ('' hides it); kind: info or problem. A callable
        makes the text, again on a language switch."""
        self._banner = text if callable(text) else None
        text = text() if callable(text) else text
        self.banner.setVisible(bool(text))
        self.banner.setText(text)
        self.banner.setStyleSheet(_BANNER_STYLE[kind] + " padding: 6px; border-radius: 4px;")

    # -- navigation ---------------------------------------------------------------------------
    def _set_index(self, index: int, notify: bool) -> None:
        if not 0 <= index < len(self._names):
            return
        self._index = index
        name = self._names[index]
        self.step_list.select(name)
        self.model_map.show_current(name)
        self._show_current()
        if notify:
            self.session.set_focus(name)

    @Slot(int)
    def _on_row_changed(self, row: int) -> None:
        name = self.step_list.name_at(row)
        if name:
            self._set_index(self._names.index(name), notify=True)

    @Slot(str)
    def _on_focus_changed(self, name: str) -> None:
        if name in self.step_list.row_of and name != self.current_name():
            self._set_index(self._names.index(name), notify=False)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        # ShortcutOverride comes first to the focused widget (spin boxes, the table, buttons,
        # the heatmap): ← and → move the walkthrough from anywhere in it but a text field.
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) \
                and isinstance(obj, QWidget) and self._owns_keys(obj) \
                and self._is_arrow(event):
            if event.type() == QEvent.Type.KeyPress:
                self._arrow(event)
            event.accept()
            return True
        return super().eventFilter(obj, event)

    def _owns_keys(self, widget: QWidget) -> bool:
        """Whether ← → in `widget` belong to the walkthrough: inside it, and not where they
        move a text cursor (a line edit, a spin box's digits, a text box)."""
        if widget is not self and not self.isAncestorOf(widget):
            return False
        return not isinstance(widget, (QLineEdit, QAbstractSpinBox, QPlainTextEdit, QTextEdit))

    @staticmethod
    def _is_arrow(event: QEvent) -> bool:
        return (isinstance(event, QKeyEvent)
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
                and event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if not self._arrow(event):
            super().keyPressEvent(event)

    def _arrow(self, event: QKeyEvent) -> bool:
        """← and → step through the trace (↑ and ↓ stay the list's own)."""
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if event.key() == Qt.Key.Key_Right:
            self.next()
            return True
        if event.key() == Qt.Key.Key_Left:
            self.previous()
            return True
        return False

    # -- showing the current step -------------------------------------------------------------
    def _show_current(self) -> None:
        trace = self.session.trace
        name = self.current_name()
        if trace is None or not name:
            return
        self.toolbar.show_position(self._index, len(self._names))
        self.words.show_words(describe(trace, self.session.model, name, self.lang,
                                       self.session.tokenizer))
        self.values.form.configure(trace[name])
        self._show_values()
        self._show_check()

    @Slot()
    def _show_values(self, *_args: object) -> None:
        trace, name = self.session.trace, self.current_name()
        if trace is not None and name:
            self.values.show_step(trace[name], self.lang,
                                  token_tips=self.session.tokenizer is not None)

    def _show_check(self) -> None:
        if self._checks.stale:
            result = None
        else:
            result = self._checks.result(self.session.model, self.session.trace,
                                         self.current_name())
        self.words.show_verdict(*verdict(result, self.lang))

    # -- session events -----------------------------------------------------------------------
    @Slot()
    def _on_model_changed(self) -> None:
        self._labels.forget_model()
        self._on_weights_changed()

    @Slot()
    def _on_weights_changed(self) -> None:
        self._checks.reset(stale=True)
        if self.current_name():
            self._show_check()

    @Slot()
    def _on_trace_changed(self) -> None:
        trace = self.session.trace
        keep = self.current_name()
        self._labels.forget_trace()
        self._checks.reset()
        self._names = trace.names() if trace is not None else []
        # The list depends only on the steps' names and shapes: a new trace of the same model
        # and context length (every refresh while training) keeps it, saving ~15 ms a trace.
        layout = [(step.name, step.shape, step.title) for step in trace] if trace else []
        if layout != self._list_layout:
            self._list_layout = layout
            self.step_list.show_outline(outline(trace, self.lang))
            self.model_map.show_steps([(name, shape) for name, shape, _title in layout],
                                      keep, trace.config if trace else None)
        if not self._names:
            self._index = -1
            self.empty.show_empty()
            return
        self.empty.show_content()
        row_of = self.step_list.row_of
        if keep in row_of:
            index = self._names.index(keep)
        elif self.session.focus in row_of:
            index = self._names.index(self.session.focus)
        else:
            index = 0
        self._index = -1
        self._set_index(index, notify=False)

    # -- article mode -------------------------------------------------------------------------
    @Slot()
    def run_article_mode(self) -> None:
        """Trace the articles' batch (4 windows × 16 tokens) in the background."""
        model = self.session.model
        if article.problem(model) is not None:
            self.show_banner(lambda: article.problem(model) or "", "problem")
            return
        try:
            ids, self._article_source = article.article_ids(self.session)
        except ValueError as exc:
            self.show_banner(lambda text=str(exc): article.message(text), "problem")
            return
        stop_worker(self._article_worker)
        worker = FunctionWorker(article.trace_job, model, ids)
        # Bound methods of this panel: queued, so they run on the GUI thread, which owns the
        # session and the widgets.
        worker.returned.connect(self._on_article_trace, Qt.ConnectionType.QueuedConnection)
        worker.errored.connect(self._on_article_failed, Qt.ConnectionType.QueuedConnection)
        self._article_worker = worker
        self.article_button.setEnabled(False)
        self.show_banner(article.tracing)
        start_worker(worker, "article-trace")

    @Slot(object)
    def _on_article_trace(self, trace: Trace) -> None:
        self.article_button.setEnabled(True)
        self.session.set_trace(trace)
        source = self._article_source
        self.show_banner(lambda: article.summary(trace, source))

    @Slot(object)
    def _on_article_failed(self, exc: BaseException) -> None:
        self.article_button.setEnabled(True)
        self.show_banner(lambda: article.failed(exc), "problem")

    def shutdown(self) -> None:
        """Stop background work (the window calls this on close)."""
        stop_worker(self._article_worker)
        self._checks.shutdown()
        QApplication.instance().removeEventFilter(self)

    @Slot(str)
    def _on_checked(self, name: str) -> None:
        if name == self.current_name():
            self._show_check()

    # -- export -------------------------------------------------------------------------------
    @Slot()
    def export_csv(self) -> str:
        """Save the current step (all batch entries and heads) as CSV; returns the path or ''."""
        trace, name = self.session.trace, self.current_name()
        if trace is None or not name:
            return ""
        return self._export.csv(trace[name], "CSV…", self._labels.token_pieces(),
                                self._labels.vocab_pieces())

    @Slot()
    def export_npy(self) -> str:
        """Save the current step's values as a .npy array; returns the path or ''."""
        trace, name = self.session.trace, self.current_name()
        if trace is None or not name:
            return ""
        return self._export.npy(trace[name], ".npy…")

    def export_image(self, fmt: str) -> str:
        """Save the heatmap as PNG or SVG (pyqtgraph exporters); returns the path or ''."""
        name = self.current_name()
        if not name:
            return ""
        return self._export.image(self.heatmap, name, fmt, f"{fmt.upper()}…")
