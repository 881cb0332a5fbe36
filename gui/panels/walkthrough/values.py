"""The step's numbers: the chosen 2-D slice as a number table beside a heatmap of the same
slice, under the slice and precision controls (form.SliceForm)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QSplitter, QTableView, QVBoxLayout, QWidget

from engine.model.steps import axis_name, step_title
from engine.model.trace import Step
from gui.panels.walkthrough.form import SliceForm
from gui.panels.walkthrough.labels import TraceLabels, slice_caption
from gui.panels.walkthrough.table_model import StepTableModel
from gui.widgets import PATTERN_CMAP, SIGNED_CMAP, Heatmap, symmetric_levels

# A slice with more cells than this has only its first rows drawn as a heatmap (the table still
# holds every number): GPT-2's logits of 1,024 positions x 50,258 are 51 M cells, a gigabyte
# and seconds to render, on a widget a thousand pixels wide.
HEATMAP_MAX_CELLS = 2_000_000


def colour_scale(kind: str, m: np.ndarray) -> tuple[str, tuple[float, float] | None]:
    """Probabilities on a 0-based sequential scale; signed values on a diverging scale around 0."""
    if kind == "attn.pattern":
        return PATTERN_CMAP, (0.0, 1.0)
    if kind in ("probs", "tokens"):
        return PATTERN_CMAP, None
    return SIGNED_CMAP, symmetric_levels(m)


class ValuesView(QWidget):
    """Form, table and heatmap of one step; `show_step` draws the slice the form selects."""

    def __init__(self, labels: TraceLabels, parent: QWidget | None = None):
        super().__init__(parent)
        self._labels = labels
        self.form = SliceForm()
        self.table_model = StepTableModel(self)
        self.table_model.set_precision(self.form.precision())
        self.form.precision_changed.connect(self.table_model.set_precision)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.horizontalHeader().setDefaultSectionSize(66)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.heatmap = Heatmap(cell_values=True, max_label_chars=10)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.heatmap)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([520, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form)
        layout.addWidget(split, 1)

    def show_step(self, step: Step, lang: str, token_tips: bool) -> None:
        """Table and heatmap of the form's slice of `step`, the engine's words in `lang`;
        `token_tips` adds each token's piece to the token-id cells' tooltips."""
        index, batch = self.form.index_for(step)
        m = step.values[index] if index else step.values
        if m.ndim == 1:
            m = m[None]
        row_axis, col_axis = step.axes[-2], step.axes[-1]
        is_tokens = step.kind == "tokens"
        rows = self._labels.axis(row_axis, m.shape[0], batch, token_rows=is_tokens)
        cols = self._labels.axis(col_axis, m.shape[1], batch, token_rows=is_tokens)
        tips = self._labels.token_pieces() if is_tokens and token_tips else None
        self.table_model.set_matrix(m, rows, cols, integers=is_tokens, tooltips=tips)
        caption, sel = slice_caption(step, index, m.shape[0], m.shape[1], lang)
        self.form.caption.setText(caption)
        drawn = m.shape[0]
        if m.size > HEATMAP_MAX_CELLS:
            drawn = max(1, HEATMAP_MAX_CELLS // m.shape[1])
        cmap, levels = colour_scale(step.kind, m[:drawn])
        trace = self._labels.trace()
        title = step_title(step.name, lang, trace.config if trace is not None else None)
        title = f"{title}  ({sel})" if sel else title
        if drawn < m.shape[0]:
            title += "  " + self.tr("— heatmap of rows 0–{0} of {1}; the table has them all"
                                    ).format(drawn - 1, m.shape[0])
        self.heatmap.set_matrix(m[:drawn], rows[:drawn], cols, colormap=cmap, levels=levels,
                                title=title)
        self.heatmap.set_axis_titles(axis_name(row_axis, lang), axis_name(col_axis, lang))
