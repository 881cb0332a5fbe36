"""The "What training changed" tab: the context under two versions of the model (two snapshots
of the run's history, the model in the window, or a checkpoint file), token by token.

Each next token's loss under both, side by side, the tokens that improved or got worse most,
and how far each head's attention pattern moved (engine.model.training_diff, off the GUI
thread).
"""
from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from engine.model.training_diff import TrainingDiff
from engine.wording import in_language
from gui import dialogs, i18n
from gui.latest import Latest
from gui.pieces import piece
from gui.session import Session
from gui.widgets import Heatmap, LazyPanel, static_plot
from gui.widgets.language import Translated

from .explanation import Explanation
from .export import ExportRow
from .jobs import Source, compare_job
from .readings import tick_labels
from .target_bar import current_trace

A_COLOUR, B_COLOUR = (120, 150, 200), (235, 130, 40)
LISTED = 5  # tokens named in each of "improved most" and "worse most"
WIDE = 760  # px: from this width the heatmap stands beside the loss bars


class ChangesView(Translated, LazyPanel):
    """Two sources, their per-token losses as bars, the biggest changes, the head distances."""

    shown = Signal()  # a comparison was drawn

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._diff: TrainingDiff | None = None
        self._error: BaseException | None = None
        self._ticks: list[str] = []  # the predicted tokens under the bars
        self._files: list[str] = []  # checkpoint files chosen, offered in both lists
        # The sources the user chose for A and B (None: the default, which follows the
        # history: its oldest snapshot against the model in the window).
        self._chosen: list[Source | None] = [None, None]
        self._jobs = Latest("attribution-changes", supersede=True, low_priority=True)
        self._jobs.done.connect(self._on_done)
        self._jobs.failed.connect(self._on_failed)

        self.intro = Explanation()
        self.a_label, self.b_label = QLabel(), QLabel()
        self.a_combo, self.b_combo = QComboBox(), QComboBox()
        for combo in (self.a_combo, self.b_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.activated.connect(self._on_activated)
        row = QHBoxLayout()
        for w in (self.a_label, self.a_combo, self.b_label, self.b_combo):
            row.addWidget(w)
        row.addStretch(1)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #a04000; background: #fff3e0; padding: 3px;")
        self.note.hide()
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.changes_label = QLabel()
        self.changes_label.setWordWrap(True)
        self.changes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.plot_widget = static_plot(self.tr("loss"), tick_pt=9.0)
        plot = self.plot_widget.getPlotItem()
        self.legend = plot.addLegend(offset=(-10, 10))
        self.a_bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.38,
                                      brush=pg.mkBrush(*A_COLOUR))
        self.b_bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.38,
                                      brush=pg.mkBrush(*B_COLOUR))
        plot.addItem(self.a_bars)
        plot.addItem(self.b_bars)
        self.legend.addItem(self.a_bars, "A")
        self.legend.addItem(self.b_bars, "B")
        self.heatmap = Heatmap(cell_values=True, max_label_chars=9)
        self.heatmap.setMinimumHeight(140)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.plot_widget)
        self.split.addWidget(self.heatmap)
        self.split.setChildrenCollapsible(False)
        self.picture = QWidget()  # what PNG / SVG save: the bars and the heatmap
        inner = QVBoxLayout(self.picture)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.split)
        self.export = ExportRow("training_changes", self.csv_table, lambda: self.picture)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(row)
        layout.addWidget(self.note)
        layout.addWidget(self.headline)
        layout.addWidget(self.changes_label)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.export)
        session.snapshots_changed.connect(self.refill)
        self._retranslate()

    def _retranslate(self) -> None:
        self.intro.set_text(self.tr(
            "<b>What training changed:</b> the context under two versions of the model, "
            "token by token, and the heads whose attention moved most."), self.tr(
            "A and B are two versions of the same model: two snapshots from the training "
            "history, the model in the window, or a checkpoint file (for example before and "
            "after Continue training). The bars are the loss of each next token under A and B "
            "(lower: predicted better). The heatmap is how far each head's attention pattern "
            "moved: the Jensen–Shannon divergence between A's and B's attention rows, in bits "
            "(0: the same, 1: nothing in common), averaged over the positions.<br><br>What it "
            "does not prove: one context is one sample; a token that improved here may be worse "
            "elsewhere. A head whose pattern moved did not necessarily change what it writes, "
            "and one that kept its pattern may have changed its values."))
        self.a_label.setText(self.tr("A (before):"))
        self.b_label.setText(self.tr("B (after):"))
        plot = self.plot_widget.getPlotItem()
        plot.setLabel("left", self.tr("loss"))
        self.heatmap.set_axis_titles(self.tr("block"), self.tr("head"))
        self.refill()
        self._draw()

    # -- public ---------------------------------------------------------------------------------
    def diff(self) -> TrainingDiff | None:
        self._flush()
        return self._diff

    def is_updating(self) -> bool:
        return self._jobs.pending

    def sources(self) -> tuple[Source | None, Source | None]:
        return self.a_combo.currentData(), self.b_combo.currentData()

    def set_sources(self, a: Source, b: Source) -> None:
        """Compare `a` with `b` (a file source is added to the lists)."""
        for source in (a, b):
            if source.kind == "file" and source.path not in self._files:
                self._files.append(source.path)
        self._chosen = [a, b]
        self.refill()
        self._redraw()

    def csv_table(self) -> tuple[list[str], list[list]] | None:
        """Each predicted token's loss under A and B, then each head's pattern distance."""
        d, tok = self._diff, self.session.tokenizer
        if d is None or tok is None:
            return None
        rows: list[list] = [[f"token {i + 1}", piece(tok, d.ids[i + 1]), d.loss_a[i], d.loss_b[i]]
                            for i in range(len(d.loss_a))]
        for layer, heads in enumerate(d.head_distance):
            rows += [[f"blocks.{layer}.attn.head.{h}", "", float(v), ""]
                     for h, v in enumerate(heads)]
        return ["what", "token", "loss_a (or head distance)", "loss_b"], rows

    def forget(self) -> None:
        """A new model: drop what is on its way and what is shown (the old model's numbers,
        in the old vocabulary)."""
        self._jobs.reset()
        self._diff, self._error = None, None
        self._draw()

    def shutdown(self) -> None:
        self._jobs.shutdown()

    def refill(self) -> None:
        """The sources on offer: the window's model, every snapshot, the files chosen."""
        store = self.session.snapshots
        steps = store.steps() if store is not None else []
        items = [(self.tr("the model in the window"), Source("window"))]
        items += [(self.tr("snapshot at step {0}").format(step), Source("snapshot", step=step))
                  for step in steps]
        items += [(self.tr("file: {0}").format(os.path.basename(path.rstrip("/"))),
                   Source("file", path=path)) for path in self._files]
        items.append((self.tr("a checkpoint file…"), None))
        for combo, keep, default in ((self.a_combo, self._chosen[0], 1 if steps else 0),
                                     (self.b_combo, self._chosen[1], 0)):
            combo.blockSignals(True)
            combo.clear()
            for text, source in items:
                combo.addItem(text, source)
            found = _find(combo, keep) if keep is not None else -1
            combo.setCurrentIndex(found if found >= 0 else default)
            combo.blockSignals(False)

    # -- drawing --------------------------------------------------------------------------------
    def _on_activated(self, _index: int) -> None:
        combo = self.sender()
        if isinstance(combo, QComboBox) and combo.currentData() is None:
            path = dialogs.ask_open_path(self, self.tr("Open a checkpoint of the same model"),
                                         os.path.expanduser("~"),
                                         self.tr("Models (*.safetensors *.pt *.gguf);;All "
                                                 "files (*)"))
            if not path:
                self.refill()
                return
            a, b = self.sources()
            chosen = Source("file", path=path)
            self.set_sources(chosen if combo is self.a_combo else a or Source("window"),
                             chosen if combo is self.b_combo else b or Source("window"))
            return
        self._chosen = [self.a_combo.currentData(), self.b_combo.currentData()]
        self._redraw()

    def _rebuild(self) -> None:
        s = self.session
        a, b = self.sources()
        trace = current_trace(s)
        if s.model is None or trace is None or a is None or b is None:
            self._diff, self._error = None, None
            self._draw()
            return
        self.headline.setText(self.tr("comparing…"))
        self._jobs.submit(compare_job, a, b, s.model, s.tokenizer, s.snapshots, trace.ids[0])

    @Slot(str, object)
    def _on_done(self, _key: str, diff: TrainingDiff) -> None:
        self._diff, self._error = diff, None
        self._draw()
        self.shown.emit()

    @Slot(str, object)
    def _on_failed(self, _key: str, exc: BaseException) -> None:
        self._diff, self._error = None, exc
        self._draw()

    def _update_note(self) -> None:
        """Say why a comparison shows nothing: no history to pick from, or A is B."""
        store = self.session.snapshots
        a, b = self.sources()
        text = ""
        if a is not None and a == b:
            if store is None or not store.steps():
                text = self.tr("This session has no training history: train (or continue "
                               "training), follow a run, or choose a checkpoint file as A.")
            else:
                text = self.tr("A and B are the same model: nothing changed between them.")
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def _draw(self) -> None:
        self._update_note()
        d, tok = self._diff, self.session.tokenizer
        if d is None or tok is None:
            self.headline.setText(self.tr("Could not compare: {0}").format(
                in_language(self._error, i18n.current())) if self._error is not None else "")
            self.changes_label.clear()
            for bars in (self.a_bars, self.b_bars):
                bars.setOpts(x=np.zeros(0), height=np.zeros(0))
            return
        self.headline.setText(self.tr(
            "Mean loss over the {0} predicted tokens: A <b>{1:.4f}</b> → B <b>{2:.4f}</b>.")
            .format(len(d.loss_a), d.mean_loss_a, d.mean_loss_b))

        def named(order: np.ndarray) -> str:
            return ", ".join(f"{piece(tok, d.ids[i + 1])!r} ({d.loss_a[i]:.2f} → "
                             f"{d.loss_b[i]:.2f})" for i in order[:LISTED]) or "—"

        self.changes_label.setText(self.tr("<b>Improved most:</b> {0}<br><b>Worse most:</b> {1}")
                                   .format(named(d.improved), named(d.worsened)))
        x = np.arange(len(d.loss_a), dtype=np.float64)
        self.a_bars.setOpts(x=x - 0.2, height=d.loss_a, width=0.38)
        self.b_bars.setOpts(x=x + 0.2, height=d.loss_b, width=0.38)
        plot = self.plot_widget.getPlotItem()
        self._ticks = [piece(tok, d.ids[i + 1]) for i in range(len(d.loss_a))]
        self._set_ticks()
        plot.setXRange(-0.7, max(len(d.loss_a), 1) - 0.3, padding=0)
        top = float(max(d.loss_a.max(), d.loss_b.max())) if len(d.loss_a) else 1.0
        plot.setYRange(0, max(top * 1.1, 0.1), padding=0)
        n_layer, n_head = d.head_distance.shape
        self.heatmap.set_matrix(d.head_distance, [self.tr("block {0}").format(layer)
                                                  for layer in range(n_layer)],
                                [f"H{h}" for h in range(n_head)], colormap="viridis",
                                levels=(0.0, max(float(d.head_distance.max()), 1e-6)),
                                title=self.tr("How far each head's attention moved (bits)"))

    def _set_ticks(self) -> None:
        plot = self.plot_widget.getPlotItem()
        width = plot.getViewBox().width() or self.plot_widget.width()
        plot.getAxis("bottom").setTicks([tick_labels(self._ticks, width)])

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._set_ticks()
        wide = event.size().width() >= WIDE
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.split.orientation() != orientation:
            self.split.setOrientation(orientation)


def _find(combo: QComboBox, source: Source) -> int:
    """The index of `source` in `combo` by equality (findData compares Python objects by
    identity), or -1."""
    return next((i for i in range(combo.count()) if combo.itemData(i) == source), -1)
