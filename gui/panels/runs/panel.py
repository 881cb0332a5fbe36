"""The Compare runs dock: two training runs side by side (issue 19 F).

Pick run A and run B (the window's own runs, ones chosen before, or Browse…): one loss plot
overlays both (train solid, validation dashed), by optimizer step or by training tokens, and
under it each run's model shows one head's attention on the window's context text, in its own
tokens, with its own block and head. Loading and tracing run off the GUI thread through one
`gui.latest.Latest` (only the newest request per side counts), and only while the panel is
on screen.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.wording import in_language
from gui import settings
from gui.latest import Latest
from gui.panels.runs.loading import SideResult, load_side, recent_runs
from gui.panels.runs.side import RunSide, wrapped
from gui.run import RunController, rundirs
from gui.session import Session
from gui.widgets.export import install_export_menu
from gui.widgets.language import Translated
from gui.widgets.lazy import LazyPanel
from gui.widgets.plots import fix_axes

STACK_BELOW_PX = 560  # a narrower panel shows side B under side A, not beside it
COLORS = {"A": (25, 90, 200), "B": (220, 80, 30)}
KEYS = {"A": "runs/compare_a", "B": "runs/compare_b"}
RECENT_KEY = "runs/compare_recent"


class RunsPanel(Translated, LazyPanel):
    """Two run pickers, one loss plot over both runs, and two attention heatmaps."""

    def __init__(self, session: Session, run: RunController | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._jobs: Latest | None = None  # made on first use, ended by shutdown()
        self._models: dict = {}  # the worker's cache of opened models (gui.panels.runs.loading)
        self._results: dict[str, SideResult | None] = {"A": None, "B": None}
        self._dirty_letters: set[str] = set(COLORS)  # the sides to (re)load when on screen
        self._stale = True
        self.axis_label = QLabel()
        self.axis_combo = QComboBox()
        self.axis_combo.currentIndexChanged.connect(self._draw_curves)
        self.hint = wrapped(QLabel(), 2)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        install_export_menu(self.plots, "compared losses")
        self.plots.setMinimumHeight(160)
        # The legend has a row of its own above the curves: over them it hid them.
        self.legend = pg.LegendItem(colCount=4, labelTextSize="8pt", labelTextColor=(30, 30, 30),
                                     verSpacing=-6)
        self.plots.addItem(self.legend, row=0, col=0)
        self.plot = self.plots.addPlot(row=1, col=0)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        fix_axes(self.plot, 44)
        self.plots.ci.layout.setRowStretchFactor(1, 1)
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        for letter, color in COLORS.items():
            for kind in ("train", "val"):
                pen = pg.mkPen(color, width=2 if kind == "val" else 1,
                               style=Qt.PenStyle.DashLine if kind == "val" else
                               Qt.PenStyle.SolidLine)
                item = self.plot.plot([], [], pen=pen, symbol="o" if kind == "val" else None,
                                      symbolSize=5, symbolBrush=color, symbolPen=None)
                self.curves[letter, kind] = item
        self.sides = {letter: RunSide(letter) for letter in COLORS}
        for letter, side in self.sides.items():
            side.chosen.connect(lambda path, x=letter: self.choose(x, path))
        top = QHBoxLayout()
        top.addWidget(self.hint, 1)
        top.addStretch(0)
        top.addWidget(self.axis_label)
        top.addWidget(self.axis_combo)
        self.maps = maps = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        maps.addWidget(self.sides["A"], 1)
        maps.addWidget(self.sides["B"], 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.plots, 2)
        layout.addLayout(maps, 3)
        session.context_changed.connect(self._on_context)
        # A problem (a Said) is worded in the session's language, set with the switch.
        session.language_changed.connect(self._show_results)
        if run is not None:  # a run of this window ended: offer it
            run.finished.connect(self._on_run_finished)
        self._paths = {x: settings.read(KEYS[x], "") for x in COLORS}
        self._offer()
        self._retranslate()

    # -- words ------------------------------------------------------------------------------
    def _retranslate(self) -> None:
        self.axis_label.setText(self.tr("x axis:"))
        keep = max(self.axis_combo.currentIndex(), 0)
        self.axis_combo.blockSignals(True)
        self.axis_combo.clear()
        self.axis_combo.addItem(self.tr("Steps"), "step")
        self.axis_combo.addItem(self.tr("Training tokens"), "tokens")
        self.axis_combo.setCurrentIndex(keep)
        self.axis_combo.blockSignals(False)
        self.plot.setLabel("left", self.tr("loss"))
        self.axis_combo.setToolTip(self.tr(
            "Runs with different batch sizes (or contexts) line up by training tokens, not by "
            "steps"))
        self._show_results()

    # -- choosing runs ----------------------------------------------------------------------
    def paths(self) -> dict[str, str]:
        return dict(self._paths)

    def choose(self, letter: str, path: str) -> None:
        """Compare `path` as side `letter` ("A" or "B"); remembered in the settings."""
        self._paths[letter] = path
        settings.write(KEYS[letter], path)
        recent = [path, *[p for p in settings.read(RECENT_KEY, []) if p != path]]
        settings.write(RECENT_KEY, recent[:20])
        self._offer()
        self._request(letter)

    def set_runs(self, a: str, b: str) -> None:
        """Choose both runs at once (tests, scripts)."""
        self.choose("A", a)
        self.choose("B", b)

    def _offer(self) -> None:
        offered = recent_runs(settings.read(RECENT_KEY, []), self._runs_folder())
        for letter, side in self.sides.items():
            side.set_choices(offered, self._paths[letter])

    @staticmethod
    def _runs_folder():
        try:
            return rundirs.runs_folder()
        except OSError:
            return None

    def _on_run_finished(self, *_args) -> None:
        self._offer()
        self._request()

    # -- loading off the GUI thread ---------------------------------------------------------
    def _on_context(self, *_args) -> None:
        self._request()

    def _request(self, *letters: str) -> None:
        self._dirty_letters |= set(letters or COLORS)
        self._redraw()  # now if on screen (a tab behind another is not), else when shown

    def _rebuild(self) -> None:
        letters, self._dirty_letters = self._dirty_letters, set()
        for letter in sorted(letters):
            path = self._paths.get(letter)
            if not path:
                continue
            if self._jobs is None:
                self._jobs = Latest("compare-runs", supersede=True, priorities=("A", "B"),
                                    parent=self)
                self._jobs.done.connect(self._on_done)
                self._jobs.failed.connect(self._on_failed)
            self._jobs.submit(load_side, path, self.session.context_text, self._models,
                              tuple(self._paths.values()), key=letter)
        self._show_results()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.maps.setDirection(QBoxLayout.Direction.TopToBottom
                               if self.width() < STACK_BELOW_PX
                               else QBoxLayout.Direction.LeftToRight)

    def is_updating(self) -> bool:
        """A side is still loading, or waits to be (the screenshot waits for it)."""
        waiting = self._stale and any(self._paths.get(x) for x in self._dirty_letters)
        return waiting or (self._jobs is not None and self._jobs.pending)

    def _on_done(self, letter: str, result: SideResult) -> None:
        if result.path == self._paths.get(letter):
            self._results[letter] = result
            self._show_results()

    def _on_failed(self, letter: str, exc: BaseException) -> None:
        self._results[letter] = SideResult(self._paths.get(letter, ""), None, None, exc)
        self._show_results()

    # -- drawing ----------------------------------------------------------------------------
    def _show_results(self, *_args) -> None:
        lang = self.session.lang
        for letter, side in self.sides.items():
            r = self._results[letter]
            if r is None or r.path != self._paths.get(letter):
                side.show_attention(None, self.tr("Loading…") if self._paths.get(letter)
                                    else self.tr("Choose a run."))
                continue
            message = in_language(r.problem, lang) if r.problem is not None else ""
            side.show_attention(r.attention, message)
        # Once both are chosen the legend says what each line is: the room goes to the maps.
        self.hint.setText(self.tr(
            "Choose two training runs (for example a GPT and a Llama-style model trained on the "
            "same text) to compare their losses and their attention on the context."))
        self.hint.setVisible(not all(self._paths.get(x) for x in COLORS))
        self._draw_curves()

    def axis(self) -> str:
        return self.axis_combo.currentData() or "step"

    def _draw_curves(self, *_args) -> None:
        axis = self.axis()
        self.legend.clear()
        for (letter, kind), item in self.curves.items():
            r = self._results[letter]
            c = r.curves if r is not None and r.path == self._paths.get(letter) else None
            if c is None:
                item.setData([], [])
                continue
            series = c.train if kind == "train" else c.val
            item.setData(series.x(axis).astype(float), series.loss)
            arch = c.label.arch or self.tr("custom")
            name = (self.tr("{0}: {1}, train") if kind == "train" else
                    self.tr("{0}: {1}, validation")).format(letter, arch)
            self.legend.addItem(item, name)
        self.plot.setLabel("bottom", self.tr("step") if axis == "step"
                           else self.tr("training tokens"))

    def shutdown(self) -> None:
        """End the worker thread (the window is closing)."""
        if self._jobs is not None:
            self._jobs.shutdown()
