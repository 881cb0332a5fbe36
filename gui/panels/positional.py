"""Step 4 of the pipeline, positional encoding: the waves PE(pos, 2i) = sin(pos/10000^(2i/d)),
PE(pos, 2i+1) = cos(...), the [context × d_model] table as numbers and colours, and
token embedding + PE = the input of the first block, side by side.

The table and the sum come from the trace; the waves read the model's positional table (or,
to look past the context length of a sinusoidal model, the engine's formula).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.config import MAX_CONTEXT
from engine.model import sinusoidal_table
from gui.widgets.export import install_export_menu
from gui.panels.tokens import context_pieces, trace_fits_model
from gui.session import Session
from gui.widgets import (
    SIGNED_CMAP,
    EmptyState,
    Heatmap,
    LazyPanel,
    NoteLabel,
    format_value,
    symmetric_levels,
)

DEFAULT_DIMS = (0, 1, 2, 3, 8, 9)
# Distinct, print-safe line colours (matplotlib's tab10), readable on white.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


class PositionalPanel(LazyPanel):
    """Positional encodings of the current model and context."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._curves: dict[int, pg.PlotDataItem] = {}
        self._wave_table = np.zeros((0, 0), dtype=np.float32)  # (positions, C) drawn as waves
        self._table_row = 1  # row of the PE table printed in full (the article prints row 1)

        # -- Waves tab ---------------------------------------------------------------------
        self.dim_list = QListWidget()
        self.dim_list.setMaximumWidth(190)
        self.dim_list.itemChanged.connect(self._on_dim_toggled)
        self.positions = QSpinBox()
        self.positions.setRange(1, MAX_CONTEXT)
        self.positions.setKeyboardTracking(False)
        self.positions.valueChanged.connect(self._draw_waves)
        self.wave_plot = pg.PlotWidget(background="w")
        install_export_menu(self.wave_plot, "positional waves")
        self.wave_plot.setMenuEnabled(False)
        self.wave_plot.showGrid(x=True, y=True, alpha=0.25)
        self.wave_plot.setLabel("bottom", self.tr("position"))
        self.wave_plot.setLabel("left", self.tr("PE value"))
        for name in ("left", "bottom"):
            self.wave_plot.getAxis(name).enableAutoSIPrefix(False)
        self.legend = self.wave_plot.addLegend(offset=(-8, 8), labelTextColor=(30, 30, 30),
                                               brush=pg.mkBrush(255, 255, 255, 225),
                                               pen=pg.mkPen(180, 180, 180))
        # Label to the left of the line, at the bottom, clear of the legend in the top corner.
        self.context_line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(200, 30, 30, style=Qt.PenStyle.DashLine),
            label="", labelOpts={"position": 0.04, "color": (200, 30, 30),
                                 "fill": (255, 255, 255, 200), "anchors": [(1, 1), (1, 1)]})
        self.wave_plot.addItem(self.context_line, ignoreBounds=True)
        self.beyond = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(0, 0, 0, 18),
                                          pen=pg.mkPen(None))
        self.wave_plot.addItem(self.beyond, ignoreBounds=True)
        self.wave_note = NoteLabel(lines=2)
        self.wave_note.setStyleSheet("color: #444;")

        dims_box = QWidget()
        dims_layout = QVBoxLayout(dims_box)
        dims_layout.setContentsMargins(0, 0, 0, 0)
        dims_layout.addWidget(QLabel(self.tr("Dimensions:")))
        dims_layout.addWidget(self.dim_list, 1)
        pos_row = QHBoxLayout()
        pos_row.addWidget(QLabel(self.tr("Positions:")))
        pos_row.addWidget(self.positions)
        dims_layout.addLayout(pos_row)
        waves = QWidget()
        waves_layout = QHBoxLayout(waves)
        waves_layout.setContentsMargins(2, 2, 2, 2)
        waves_layout.addWidget(dims_box)
        plot_box = QVBoxLayout()
        plot_box.addWidget(self.wave_plot, 1)
        plot_box.addWidget(self.wave_note)
        waves_layout.addLayout(plot_box, 1)

        # -- Table tab ---------------------------------------------------------------------
        self.table = Heatmap(row_title=self.tr("position"), col_title=self.tr("dimension"),
                             hover_names=(self.tr("pos"), self.tr("dim")))
        self.table.clicked.connect(lambda r, _c: self.show_table_row(r))
        # Every value of one row, selectable, scrolling when d_model is large.
        self.row_values = QPlainTextEdit()
        self.row_values.setReadOnly(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.row_values.setFont(mono)
        self.row_values.setFixedHeight(QFontMetrics(mono).lineSpacing() * 4 + 12)
        table_tab = QWidget()
        table_layout = QVBoxLayout(table_tab)
        table_layout.setContentsMargins(2, 2, 2, 2)
        table_layout.addWidget(self.table, 1)
        table_layout.addWidget(self.row_values)

        # -- Sum tab -----------------------------------------------------------------------
        self.sum_token = Heatmap(readout=False, max_label_chars=7, hover_names=("", self.tr("dim")))
        self.sum_position = Heatmap(readout=False, max_label_chars=7,
                                    hover_names=(self.tr("pos"), self.tr("dim")))
        self.sum_input = Heatmap(readout=False, max_label_chars=7, hover_names=("", self.tr("dim")))
        self.shared_scale = QCheckBox(self.tr("One colour scale for all three"))
        self.shared_scale.toggled.connect(self._redraw)
        self.sum_readout = NoteLabel(self.tr("Hover a cell to read its exact value."))
        row = QHBoxLayout()
        for i, hm in enumerate((self.sum_token, self.sum_position, self.sum_input)):
            if i:
                sign = QLabel("+" if i == 1 else "=")
                sign.setStyleSheet("font-size: 26pt; font-weight: bold; color: #333;")
                row.addWidget(sign)
            row.addWidget(hm, 1)
            hm.hovered.connect(self._on_sum_hover)
        self.sum_note = NoteLabel(lines=2)
        sum_tab = QWidget()
        sum_layout = QVBoxLayout(sum_tab)
        sum_layout.setContentsMargins(2, 2, 2, 2)
        sum_layout.addWidget(self.sum_note)
        sum_layout.addLayout(row, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.sum_readout, 1)
        bottom.addWidget(self.shared_scale)
        sum_layout.addLayout(bottom)

        self.tabs = QTabWidget()
        self.tabs.addTab(waves, self.tr("Waves"))
        self.tabs.addTab(table_tab, self.tr("Table"))
        self.tabs.addTab(sum_tab, self.tr("Token + position = input"))
        self.title = NoteLabel(lines=1)
        self.title.setStyleSheet("font-size: 11pt;")

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.tabs, 1)
        self.empty = EmptyState.fill(self, content, self.tr(
            "No model yet: create or load a model to see its positional encodings."))

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._redraw)
        self._on_model_changed()

    # -- public ----------------------------------------------------------------------------
    def table_image(self) -> np.ndarray:
        """Exactly the PE table drawn in the Table tab (context × d_model)."""
        self._flush()
        return self.table.current_image()

    def sum_images(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three matrices of token embedding + PE = input, as drawn."""
        self._flush()
        return (self.sum_token.current_image(), self.sum_position.current_image(),
                self.sum_input.current_image())

    def set_dims(self, dims: list[int]) -> None:
        """Draw waves for exactly these dimensions."""
        wanted = set(dims)
        self.dim_list.blockSignals(True)
        for j in range(self.dim_list.count()):
            item = self.dim_list.item(j)
            item.setCheckState(Qt.CheckState.Checked if j in wanted else Qt.CheckState.Unchecked)
        self.dim_list.blockSignals(False)
        self._draw_waves()

    def shown_dims(self) -> list[int]:
        return sorted(self._curves)

    def wave(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, values) of the curve drawn for `dim`."""
        x, y = self._curves[dim].getData()
        return np.asarray(x), np.asarray(y)

    def show_table_row(self, row: int) -> None:
        """Print every value of one PE row under the table (the articles print row 1)."""
        values = self.table.current_image()
        if not 0 <= row < values.shape[0]:
            return
        self._table_row = row
        self.table.select_row(row)
        nums = "  ".join(f"{v:.6f}" for v in values[row].tolist())
        self.row_values.setPlainText(self.tr("PE[{0}] = {1}").format(row, nums))

    # -- slots -----------------------------------------------------------------------------
    def _learned(self) -> bool:
        m = self.session.model
        return m is not None and m.config.positional == "learned"

    def dim_label(self, j: int) -> str:
        """Legend text: 'dim 4 (sin, i=2)' for sinusoidal tables, 'dim 4 (learned)' otherwise."""
        if self._learned():
            return self.tr("dim {0} (learned)").format(j)
        kind = "sin" if j % 2 == 0 else "cos"
        return self.tr("dim {0} ({1}, i={2})").format(j, kind, j // 2)

    def _on_model_changed(self) -> None:
        model = self.session.model
        for curve in self._curves.values():
            self.wave_plot.removeItem(curve)
        self._curves = {}
        self.dim_list.blockSignals(True)
        self.dim_list.clear()
        if model is not None:
            C, T = model.config.d_model, model.config.context_length
            for j in range(C):
                item = QListWidgetItem(self.dim_label(j))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if j in DEFAULT_DIMS
                                   else Qt.CheckState.Unchecked)
                self.dim_list.addItem(item)
            self.positions.blockSignals(True)
            # A learned table has only context_length rows; the formula goes on for ever.
            self.positions.setMaximum(T if self._learned() else MAX_CONTEXT)
            self.positions.setValue(T)
            self.positions.blockSignals(False)
        self.dim_list.blockSignals(False)
        self._draw_waves()
        self._redraw()

    def _on_dim_toggled(self, _item: QListWidgetItem) -> None:
        self._draw_waves()

    def _on_sum_hover(self, text: str) -> None:
        self.sum_readout.setText(text or self.tr("Hover a cell to read its exact value."))

    # -- drawing ---------------------------------------------------------------------------
    def _draw_waves(self, *_args) -> None:
        model = self.session.model
        if model is None:
            return
        T_max = model.config.context_length
        n = self.positions.value()
        table = model.embed.position_table().detach().cpu().numpy()  # (T_max, C)
        if n > table.shape[0] and not self._learned():
            table = sinusoidal_table(n, model.config.d_model).numpy()  # same formula, longer
        self._wave_table = table[:n]
        x = np.arange(n)
        checked = [j for j in range(self.dim_list.count())
                   if self.dim_list.item(j).checkState() == Qt.CheckState.Checked]
        for j in list(self._curves):
            if j not in checked:
                self.wave_plot.removeItem(self._curves.pop(j))
        symbols = n <= 64  # dots mark the positions that exist; too many would blur the wave
        for k, j in enumerate(checked):
            pen = pg.mkPen(PALETTE[k % len(PALETTE)], width=2)
            opts = dict(pen=pen, symbol="o" if symbols else None, symbolSize=5,
                        symbolBrush=pen.color(), symbolPen=None)
            if j not in self._curves:
                self._curves[j] = self.wave_plot.plot(x, self._wave_table[:, j],
                                                      name=self.dim_label(j), **opts)
            else:
                self._curves[j].setData(x, self._wave_table[:, j], **opts)
        beyond = n > T_max
        self.beyond.setVisible(beyond)
        if beyond:
            self.beyond.setRegion((T_max - 0.5, n - 0.5))
        self.wave_plot.setXRange(-0.5, n - 0.5, padding=0.02)
        self._place_context_line()
        kind = self.tr("learned (trained parameters)") if self._learned() else self.tr(
            "sinusoidal: PE(pos,2i) = sin(pos/10000^(2i/d)), PE(pos,2i+1) = cos(pos/10000^(2i/d))")
        note = self.tr("Each curve is one column of the positional table: {0}.").format(kind)
        if beyond:
            note += " " + self.tr("The shaded part lies beyond the context length ({0}); the "
                                  "model never sees those positions.").format(T_max)
        self.wave_note.setText(note)

    def _place_context_line(self) -> None:
        trace = self.session.trace
        if trace is None:
            self.context_line.setVisible(False)
            return
        T = trace.ids.shape[1]
        self.context_line.setVisible(True)
        self.context_line.setValue(T - 1)
        self.context_line.label.setFormat(self.tr("context ends (T = {0})").format(T))

    def _rebuild(self) -> None:
        s = self.session
        if s.model is None:
            self.empty.show_empty()
            return
        self.empty.show_content()
        learned = self._learned()
        kind = self.tr("learned") if learned else self.tr("sinusoidal")
        C = s.model.config.d_model
        self.title.setText(self.tr("Positional encoding ({0}): one row per position, {1} "
                                   "dimensions, added to every sequence's token embeddings."
                                   ).format(kind, C))
        self._place_context_line()
        if s.trace is None or not trace_fits_model(s):
            self.tabs.setTabEnabled(1, False)
            self.tabs.setTabEnabled(2, False)
            return
        self.tabs.setTabEnabled(1, True)
        self.tabs.setTabEnabled(2, True)
        pe = s.trace["embed.position"].values  # (T, C)
        tok = s.trace["embed.token"].values[0]  # (T, C), batch row 0
        x = s.trace["embed.sum"].values[0]  # (T, C)
        T = pe.shape[0]
        dims = [str(j) for j in range(C)]
        pos_labels = [str(t) for t in range(T)]
        tok_labels = context_pieces(s)
        pe_levels = symmetric_levels(pe)
        self.table.set_matrix(
            pe, pos_labels, dims, SIGNED_CMAP, pe_levels,
            title=self.tr("PE table ({0}) for the context: [{1} × {2}]").format(kind, T, C))
        self.show_table_row(min(self._table_row, T - 1))

        if self.shared_scale.isChecked():
            shared = symmetric_levels(np.concatenate([tok.ravel(), pe.ravel(), x.ravel()]))
            levels = (shared, shared, shared)
        else:
            levels = (symmetric_levels(tok), pe_levels, symmetric_levels(x))
        self.sum_token.set_matrix(tok, tok_labels, dims, SIGNED_CMAP, levels[0],
                                  title=self.tr("token embedding E[ids]"))
        self.sum_position.set_matrix(pe, pos_labels, dims, SIGNED_CMAP, levels[1],
                                     title=self.tr("positional encoding PE"))
        self.sum_input.set_matrix(x, tok_labels, dims, SIGNED_CMAP, levels[2],
                                  title=self.tr("input X = E[ids] + PE"))
        self.sum_note.setText(self.tr(
            "Each row: the token's vector plus the vector of its position, element by element "
            "([{0} × {1}] + [{0} × {1}] = [{0} × {1}]). Largest |value|: token {2}, position {3}."
        ).format(T, C, format_value(float(np.abs(tok).max())),
                 format_value(float(np.abs(pe).max()))))
