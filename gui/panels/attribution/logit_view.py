"""The direct-logit-attribution tab: which component wrote the chosen logit.

A blocks × heads heatmap with an MLP column (the numbers in the cells), every part in a table
sorted by size, and the check that the parts add up to the real logit. The split itself is the
engine's (engine.model.attribution), computed off the GUI thread.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from engine.model.attribution import TOLERANCE, LogitAttribution
from engine.wording import in_language
from gui import i18n
from gui.latest import Latest
from gui.pieces import piece
from gui.session import Session
from gui.widgets import SIGNED_CMAP, Heatmap, LazyPanel, fill_table, symmetric_levels
from gui.widgets.language import Translated

from .explanation import Explanation
from .export import ExportRow
from .jobs import logit_job
from .readings import CHECK_STYLE, check_passed, dla_csv_rows, dla_grid, short_name, sorted_parts
from .target_bar import TargetBar

WIDE = 760  # px: from this width the table stands beside the heatmap, not under it


class LogitView(Translated, LazyPanel):
    """Direct logit attribution of the target bar's choice, for the session's trace."""

    shown = Signal()  # a new attribution was drawn

    def __init__(self, session: Session, bar: TargetBar, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.bar = session, bar
        self._result: LogitAttribution | None = None
        self._error: BaseException | None = None  # why the last request failed
        self._jobs = Latest("attribution-logit", supersede=True, low_priority=True)
        self._jobs.done.connect(self._on_done)
        self._jobs.failed.connect(self._on_failed)

        self.intro = Explanation()
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.heatmap = Heatmap(cell_values=True, max_label_chars=9)
        self.heatmap.setMinimumHeight(160)
        self.table = QTableWidget(0, 3)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.heatmap)
        self.split.addWidget(self.table)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([600, 300])
        self.export = ExportRow("logit_attribution", self.csv_table, lambda: self.heatmap.graphics)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.headline)
        layout.addWidget(self.check_label)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.export)
        bar.changed.connect(self._redraw)
        self._retranslate()

    def _retranslate(self) -> None:
        self.intro.set_text(self.tr(
            "<b>Direct logit attribution:</b> how much of the target's logit each head and "
            "each MLP wrote straight into the residual stream."), self.tr(
            "The residual stream at this position is a sum of what the embeddings, every head "
            "and every MLP wrote into it. Each part is carried through the norms that follow "
            "it, their scales frozen at the values the real forward computed, and read by the "
            "target's row of the output matrix, so the parts add up exactly to the logit (the "
            "check below). Red cells push the target up, blue ones push it down.<br><br>"
            "What it does not prove: that a part matters. A part also acts through the layers "
            "after it (a head can write something a later head reads), and the frozen scales "
            "hide how the norms would change if a part were gone. To ask what happens without a "
            "part, switch it off (Looking inside → Head ablation) or patch it."))
        self.heatmap.set_axis_titles(self.tr("block"), self.tr("head (and the MLP)"))
        self.heatmap.set_hover_names(self.tr("block"), "")
        self.table.setHorizontalHeaderLabels(
            [self.tr("part"), self.tr("share of the logit"), self.tr("% of the logit")])
        self._draw()

    # -- public ---------------------------------------------------------------------------------
    def attribution(self) -> LogitAttribution | None:
        """The attribution on show (None before the first arrives, or after a failure)."""
        self._flush()
        return self._result

    def is_updating(self) -> bool:
        return self._jobs.pending

    def check_text(self) -> str:
        return self.check_label.text()

    def check_kind(self) -> str:
        """"pass", "fail" or "wait": the colour of the check line."""
        return self.check_label.property("kind") or "wait"

    def csv_table(self) -> tuple[list[str], list[list]] | None:
        """Every part's share in forward order, then their sum and the real logit."""
        if self._result is None:
            return None
        return ["part", "share"], dla_csv_rows(self._result)

    def forget(self) -> None:
        """A new model: drop what is on its way and what is shown (the old model's numbers,
        in the old vocabulary)."""
        self._jobs.reset()
        self._result, self._error = None, None
        self._draw()

    def shutdown(self) -> None:
        self._jobs.shutdown()

    # -- drawing --------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        s = self.session
        request = self.bar.request()
        if s.model is None or s.trace is None or request is None:
            self._result, self._error = None, None
            self._draw()
            return
        self._jobs.submit(logit_job, s.model, s.trace, request)

    @Slot(str, object)
    def _on_done(self, _key: str, result: LogitAttribution) -> None:
        self._result, self._error = result, None
        self._draw()
        self.shown.emit()

    @Slot(str, object)
    def _on_failed(self, _key: str, exc: BaseException) -> None:
        self._result, self._error = None, exc
        self._draw()

    def _draw(self) -> None:
        r, s = self._result, self.session
        if r is None or s.model is None or s.tokenizer is None:
            self.headline.setText(self.tr("Could not attribute: {0}").format(
                in_language(self._error, i18n.current())) if self._error is not None else "")
            self._set_check("", "wait")
            fill_table(self.table, [])
            return
        cfg = s.model.config
        grid = dla_grid(r, cfg.n_layer, cfg.n_head, self.tr("block {0}"))
        self.heatmap.set_matrix(grid.values, grid.row_labels, grid.col_labels,
                                colormap=SIGNED_CMAP, levels=symmetric_levels(grid.values))
        tok = s.tokenizer
        what = repr(piece(tok, r.target)) if r.versus is None else "{0} − {1}".format(
            repr(piece(tok, r.target)), repr(piece(tok, r.versus)))
        if r.versus is None:
            text = self.tr("The logit of {0} after position {1}: <b>{2:.4f}</b>")
        else:
            text = self.tr("The logit difference {0} after position {1}: <b>{2:.4f}</b>")
        text = text.format(what, r.position, r.logit)
        if r.capped is not None:
            text += self.tr(" (before the final soft cap; after it: {0:.4f})").format(r.capped)
        self.headline.setText(text)
        if check_passed(r.error, TOLERANCE):
            self._set_check(self.tr(
                "✓ Check passed — the {0} parts add up to {1:.6f}; the real logit is {2:.6f}: "
                "difference {3:.1e} (tolerance {4:.0e}, float64).").format(
                len(r.parts), r.total, r.logit, r.error, TOLERANCE), "pass")
        else:
            self._set_check(self.tr(
                "✗ Check FAILED — the {0} parts add up to {1:.6f}, but the real logit is "
                "{2:.6f}: difference {3:.1e} exceeds the tolerance {4:.0e}.").format(
                len(r.parts), r.total, r.logit, r.error, TOLERANCE), "fail")
        ranked = sorted_parts(r)
        words = {"embed": self.tr("embeddings"), "constants": self.tr("biases and β")}
        fill_table(self.table, [[words.get(row.name, short_name(row.name)), f"{row.share:+.4f}",
                                 "—" if row.percent is None else f"{row.percent:+.1f}%"]
                                for row in ranked])
        for i, row in enumerate(ranked):  # the engine's own name, as the JSON and CSV say it
            tip = self.tr("“{0}” in the JSON and CSV").format(row.name)
            self.table.item(i, 0).setToolTip(tip)

    def _set_check(self, text: str, kind: str) -> None:
        self.check_label.setText(text)
        self.check_label.setProperty("kind", kind)
        self.check_label.setStyleSheet(CHECK_STYLE[kind])

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        wide = event.size().width() >= WIDE
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.split.orientation() != orientation:
            self.split.setOrientation(orientation)
