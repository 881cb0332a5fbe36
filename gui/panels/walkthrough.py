"""The walkthrough: every step of one traced forward pass, in order, with its real numbers.

The left list holds the trace's steps grouped by block; Previous/Next (or ←/→, ↑/↓ in the list)
move through them and tell the session, so the other panels follow. For the current step the panel
shows its formula, input and output shapes with named axes, what a reshape did, the values as a
number table and as a heatmap of the same 2-D slice, the guide's explanation, and an independent
float64 recomputation of the step (engine.checks) with its largest difference.

"Article mode" re-traces a batch of 4 windows of 16 tokens so the shapes are the articles' own.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSettings,
    Qt,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QScrollArea,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.article import (
    ARTICLE_BATCH,
    ARTICLE_CONTEXT,
    ARTICLE_SEED,
    article_batch,
    article_mode_problem,
    windows_batch,
)
from engine.checks import Check, check_step, step_inputs
from engine.export import step_to_csv, step_to_npy
from engine.trace import Step, Trace, run_trace, step_kind
from gui import dialogs
from gui.widgets.export import export_view
from gui.widgets.lazy import FitsDock
from gui.session import Session
from gui.widgets import PATTERN_CMAP, SIGNED_CMAP, EmptyState, Heatmap, symmetric_levels
from gui.workers import FunctionWorker, start_worker, stop_worker

SETTINGS_ORG = "Transformer Explorer"
SETTINGS_APP = "Transformer Explorer"
PRECISION_KEY = "walkthrough/precision"
EXPORT_DIR_KEY = "walkthrough/export_dir"
DEFAULT_PRECISION = 4
TOKEN_AXES = ("context", "query", "key")
GREEN, RED, GREY = "#1b7f2a", "#c62828", "#666666"
_GROUP_BG = ("#eef3fb", "#f7f7f7")  # alternating block backgrounds in the step list

# UI strings per language; the step explanations come from the guide (engine.guide).
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "previous": "◀ Previous", "next": "Next ▶", "article": "Article mode",
        "article_tip": "Trace 4 windows of 16 tokens from the training text, as in the articles",
        "csv": "CSV…", "npy": ".npy…", "png": "PNG…", "svg": "SVG…",
        "export": "Export step:", "picture": "Heatmap:", "batch": "batch", "head": "head",
        "precision": "decimals", "counter": "Step {i} of {n}", "embedding": "Embedding",
        "block": "Block {i}", "output": "Output", "input": "Input",
        "empty": "No trace yet. Load or create a model and type some context text: every step of "
                 "its forward pass will be listed here.",
        "pass": "✓ Check passed — {desc}. Max |difference| {diff} (tolerance {tol}).",
        "fail": "✗ Check FAILED — {desc}. Max |difference| {diff} exceeds the tolerance {tol}.",
        "error": "✗ Could not check this step: {err}",
        "stale": "Weights changed since this trace; the check runs again on the next trace.",
        "tracing": "Article mode: tracing 4 windows of 16 tokens…",
        "article_done": "Article mode: {b} windows of {t} tokens from {src} (seed {seed}). "
                        "X is {x}, Q split into heads is {q}, the scores are {s}.",
        "no_text": "Article mode needs text: load a training corpus or type some context text.",
        "the_corpus": "the training text", "the_context": "the context text (repeated)",
        "weights": "weights", "slice": "shown: {sel}",
    },
    "zh": {
        "previous": "◀ 上一步", "next": "下一步 ▶", "article": "文章模式",
        "article_tip": "像文章中那样，从训练文本中取 4 个长度为 16 的窗口进行追踪",
        "csv": "CSV…", "npy": ".npy…", "png": "PNG…", "svg": "SVG…",
        "export": "导出此步：", "picture": "热力图：", "batch": "批次", "head": "头",
        "precision": "小数位", "counter": "第 {i} 步，共 {n} 步", "embedding": "嵌入",
        "block": "第 {i} 块", "output": "输出", "input": "输入",
        "empty": "还没有追踪结果。加载或创建一个模型并输入一些上下文文本：前向传播的每一步都会列在这里。",
        "pass": "✓ 校验通过 — {desc}。最大 |差值| {diff}（容差 {tol}）。",
        "fail": "✗ 校验失败 — {desc}。最大 |差值| {diff} 超过容差 {tol}。",
        "error": "✗ 无法校验此步：{err}",
        "stale": "此追踪之后权重已改变；下一次追踪时会重新校验。",
        "tracing": "文章模式：正在追踪 4 个长度为 16 的窗口…",
        "article_done": "文章模式：来自{src}的 {b} 个长度为 {t} 的窗口（种子 {seed}）。"
                        "X 为 {x}，Q 拆分成多头后为 {q}，分数为 {s}。",
        "no_text": "文章模式需要文本：请加载训练语料或输入一些上下文文本。",
        "the_corpus": "训练文本", "the_context": "上下文文本（重复）",
        "weights": "权重", "slice": "显示：{sel}",
    },
}


# ---------------------------------------------------------------------------------------------
# Describing a step in words: shapes with named axes, and what a reshape did.


def named_shape(axes: tuple[str, ...] | list[str], shape: tuple[int, ...]) -> str:
    """'[batch 4, context 16, d_model 64]'."""
    return "[" + ", ".join(f"{a} {n}" for a, n in zip(axes, shape)) + "]"


def short_shape(shape: tuple[int, ...]) -> str:
    """'[4,4,16,16]'."""
    return "[" + ",".join(str(n) for n in shape) + "]"


def shapes_text(trace: Trace, model: Any, name: str) -> str:
    """Inputs → output with named axes, e.g. '[batch 4, context 16, d_model 64] → [...]'."""
    step = trace[name]
    out = named_shape(step.axes, step.shape)
    try:
        inputs = step_inputs(model, name) if model is not None else []
    except (KeyError, AttributeError):
        inputs = []
    ins = [trace[i] for i in inputs if i in trace]
    if not ins:
        return out
    parts = [f"{s.name} {named_shape(s.axes, s.shape)}" for s in ins]
    return " , ".join(parts) + "  →  " + out


def weights_text(model: Any, name: str) -> str:
    """The weight matrices a step multiplies by, with their shapes ('' when none)."""
    if model is None:
        return ""
    cfg = model.config
    C, F, V = cfg.d_model, cfg.d_ff, cfg.vocab_size
    kind = step_kind(name)
    table = {
        "embed.token": f"E [{V}×{C}] (token table, one row per id)",
        "embed.position": (f"PE [{cfg.context_length}×{C}] (fixed sinusoidal table)"
                           if cfg.positional == "sinusoidal"
                           else f"PE [{cfg.context_length}×{C}] (learned table)"),
        "attn.q": f"Wq [{C}×{C}] + bq [{C}]  (rows 0–{C - 1} of qkv.weight)",
        "attn.k": f"Wk [{C}×{C}] + bk [{C}]  (rows {C}–{2 * C - 1} of qkv.weight)",
        "attn.v": f"Wv [{C}×{C}] + bv [{C}]  (rows {2 * C}–{3 * C - 1} of qkv.weight)",
        "attn.out": f"Wo [{C}×{C}] + bo [{C}]",
        "ln1": f"γ [{C}], β [{C}]", "ln2": f"γ [{C}], β [{C}]", "ln_f": f"γ [{C}], β [{C}]",
        "ffn.hidden": f"W1 [{C}×{F}] + b1 [{F}]",
        "ffn.out": f"W2 [{F}×{C}] + b2 [{C}]",
        "logits": f"W_vocab [{C}×{V}]" + (" (tied: the token table E)" if cfg.tied else ""),
    }
    return table.get(kind, "")


def reshape_note(step: Step, n_head: int | None, lang: str = "en") -> str:
    """One sentence on what a view/transpose/broadcast did in this step ('' when nothing)."""
    kind, shape = step.kind, step.shape
    zh = lang == "zh"
    if kind in ("attn.q", "attn.k", "attn.v"):
        B, nh, T, hs = shape
        C = nh * hs
        if zh:
            return (f"view [{B},{T},{nh},{hs}] 然后 transpose(1,2) → [{B},{nh},{T},{hs}]："
                    f"每个词元的 {C} 个数被切成 {nh} 个头、每头 {hs} 个，"
                    f"再把头的轴移到上下文轴之前，于是每个头各有一个 [{T},{hs}] 矩阵。")
        return (f"view [{B},{T},{nh},{hs}] then transpose(1,2) → [{B},{nh},{T},{hs}]: each "
                f"token's {C} numbers are cut into {nh} heads of {hs}, then the heads axis moves "
                f"in front of the context axis, so every head holds its own [{T},{hs}] matrix.")
    if kind == "attn.scores":
        B, nh, T, _ = shape
        hs = "head_size"
        if zh:
            return (f"Kᵀ 交换 K 的最后两个轴：[{T},{hs}] → [{hs},{T}]，"
                    f"所以每个批次、每个头得到一个 [{T},{T}] 的矩阵（查询 × 键）。")
        return (f"Kᵀ swaps K's last two axes, [{T},{hs}] → [{hs},{T}], so every batch entry and "
                f"head gets a [{T},{T}] matrix (query × key).")
    if kind == "attn.masked":
        T = shape[-1]
        if zh:
            return (f"[{T},{T}] 的因果掩码 1 − triu(ones, k=1) 广播到所有批次和头：对角线以上（未来位置）变为 −∞。")
        return (f"The [{T},{T}] causal mask 1 − triu(ones, k=1) is broadcast over every batch "
                f"entry and head: entries above the diagonal (the future) become −∞.")
    if kind == "attn.concat":
        B, T, C = shape
        nh = n_head or 1
        hs = C // nh
        if zh:
            return (f"transpose(1,2) 变回 [{B},{T},{nh},{hs}]，再 reshape 成 [{B},{T},{C}]："
                    f"{nh} 个头各自的 {hs} 个数重新并排在一起。")
        return (f"transpose(1,2) back to [{B},{T},{nh},{hs}], then reshape to [{B},{T},{C}]: "
                f"the {nh} heads' {hs} numbers are laid side by side again.")
    if kind == "embed.position":
        T, C = shape
        if zh:
            return f"只有一张 [{T},{C}] 的表：同样的行被加到批次中的每个序列上（广播）。"
        return f"One [{T},{C}] table: the same rows are added to every sequence of the batch (broadcast)."
    if kind == "embed.token":
        B, T, C = shape
        if zh:
            return f"{B}×{T} 个 id 中的每一个都取出词元表中的一行（{C} 个数）。"
        return f"Each of the {B}×{T} ids picks one row ({C} numbers) of the token table."
    return ""


# ---------------------------------------------------------------------------------------------
# The number table.


_NEG_INF, _POS_INF = float("-inf"), float("inf")


def format_number(v: float, precision: int) -> str:
    """Fixed-point text at `precision` decimals; the causal mask's −∞ as '-inf'."""
    if v == _NEG_INF:
        return "-inf"
    if v == _POS_INF:
        return "inf"
    if v != v:
        return "nan"
    return f"{v:.{precision}f}"


# Roles as plain ints: data() runs for every visible cell and role on each paint.
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_ALIGN = Qt.ItemDataRole.TextAlignmentRole.value
_FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)


class StepTableModel(QAbstractTableModel):
    """A read-only 2-D slice of a step, formatted at a chosen precision (cells are computed on
    demand, so a [64 × 3771] logits slice costs nothing until it is scrolled into view)."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._values = np.zeros((0, 0), dtype=np.float32)
        self._rows: list[str] = []
        self._cols: list[str] = []
        self._precision = DEFAULT_PRECISION
        self._integers = False
        self._tips: list[list[str]] | None = None
        self._grey = QBrush(QColor(GREY))

    def set_matrix(self, values: np.ndarray, row_labels: list[str], col_labels: list[str],
                   integers: bool = False, tooltips: list[list[str]] | None = None) -> None:
        """Show `values` (R, C); `integers` prints whole numbers (token ids) without decimals."""
        self.beginResetModel()
        self._values = np.asarray(values)
        self._rows, self._cols = list(row_labels), list(col_labels)
        self._integers = integers
        self._tips = tooltips
        self.endResetModel()

    def set_precision(self, precision: int) -> None:
        self._precision = int(precision)
        if self._values.size:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self.columnCount() - 1),
                                  [Qt.ItemDataRole.DisplayRole])

    def precision(self) -> int:
        return self._precision

    def matrix(self) -> np.ndarray:
        return self._values

    def text(self, row: int, col: int) -> str:
        """Exactly what the cell shows."""
        v = self._values.item(row, col)
        if self._integers and v == v and abs(v) != _POS_INF:
            return str(int(v))
        return format_number(v, self._precision)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else self._values.shape[0]

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() or self._values.ndim < 2 else self._values.shape[1]

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        role = getattr(role, "value", role)
        if role == _DISPLAY:
            return self.text(index.row(), index.column())
        if role == _ALIGN:
            return _RIGHT
        if role == _FOREGROUND:
            return self._grey if self._values.item(index.row(), index.column()) == _NEG_INF \
                else None
        if role == _TOOLTIP:
            r, c = index.row(), index.column()
            tip = f"{self._rows[r]}, {self._cols[c]}: {format_number(self._values.item(r, c), 9)}"
            if self._tips is not None:
                tip += f"\n{self._tips[r][c]}"
            return tip
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if getattr(role, "value", role) != _DISPLAY:
            return None
        labels = self._cols if orientation == Qt.Orientation.Horizontal else self._rows
        return labels[section] if 0 <= section < len(labels) else None


# ---------------------------------------------------------------------------------------------


class WalkthroughPanel(FitsDock, QWidget):
    """Every step of the session's trace, one at a time, with its numbers, picture and check."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.lang: str = getattr(session, "lang", "en") or "en"
        self._names: list[str] = []  # trace step names in order
        self._list_layout: list[tuple] = []  # (name, shape, title) of the steps listed
        self._row_of: dict[str, int] = {}  # step name -> list row (headers take rows too)
        self._index = -1
        self._checks: dict[str, Check | str] = {}  # per trace: Check, or the error text
        self._stale = False  # the weights changed after this trace was taken
        self._vocab_labels: list[str] | None = None
        self._token_pieces: list[list[str]] | None = None  # per batch row of the trace
        self._article_worker: FunctionWorker | None = None
        self._article_source = ""
        self._settings = QSettings(SETTINGS_ORG, SETTINGS_APP)

        self._build()
        session.trace_changed.connect(self._on_trace_changed)
        session.model_changed.connect(self._on_model_changed)
        if hasattr(session, "weights_changed"):
            session.weights_changed.connect(self._on_weights_changed)
        session.focus_changed.connect(self._on_focus_changed)
        self._apply_language()
        self._on_trace_changed()

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.prev_button = QPushButton()
        self.next_button = QPushButton()
        self.prev_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.counter = QLabel()
        self.article_button = QPushButton()
        self.article_button.clicked.connect(self.run_article_mode)
        self.export_label = QLabel()
        self.csv_button, self.npy_button = QPushButton(), QPushButton()
        self.picture_label = QLabel()
        self.png_button, self.svg_button = QPushButton(), QPushButton()
        self.csv_button.clicked.connect(self.export_csv)
        self.npy_button.clicked.connect(self.export_npy)
        self.png_button.clicked.connect(lambda: self.export_image("png"))
        self.svg_button.clicked.connect(lambda: self.export_image("svg"))
        for b in (self.prev_button, self.next_button, self.article_button, self.csv_button,
                  self.npy_button, self.png_button, self.svg_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # arrow keys stay with the walkthrough
        bar = QHBoxLayout()
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        bar.addWidget(self.counter)
        bar.addStretch(1)
        bar.addWidget(self.article_button)
        bar.addSpacing(12)
        for w in (self.export_label, self.csv_button, self.npy_button, self.picture_label,
                  self.png_button, self.svg_button):
            bar.addWidget(w)

        self.step_list = QListWidget()
        self.step_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.step_list.setUniformItemSizes(True)
        self.step_list.currentRowChanged.connect(self._on_row_changed)
        self.step_list.installEventFilter(self)
        self.step_list.setMinimumWidth(280)

        self.title = QLabel()
        f = QFont()
        f.setPointSizeF(16)
        f.setBold(True)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        self.formula = QLabel()
        ff = QFont("DejaVu Serif")
        ff.setStyleHint(QFont.StyleHint.Serif)
        ff.setPointSizeF(17)
        self.formula.setFont(ff)
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.shapes = QLabel()
        self.shapes.setWordWrap(True)
        self.shapes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.weights = QLabel()
        self.weights.setStyleSheet(f"color: {GREY};")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("font-style: italic;")
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation = QTextBrowser()
        self.explanation.setOpenExternalLinks(False)
        self.explanation.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.explanation.setStyleSheet("background: transparent;")

        self.batch_label, self.head_label = QLabel(), QLabel()
        self.batch_spin, self.head_spin = QSpinBox(), QSpinBox()
        self.batch_spin.valueChanged.connect(self._show_values)
        self.head_spin.valueChanged.connect(self._show_values)
        self.precision_label = QLabel()
        self.precision_spin = QSpinBox()
        self.precision_spin.setRange(0, 8)
        saved = self._settings.value(PRECISION_KEY, DEFAULT_PRECISION)
        try:
            saved = int(saved)
        except (TypeError, ValueError):
            saved = DEFAULT_PRECISION
        self.precision_spin.setValue(min(max(saved, 0), 8))
        self.precision_spin.valueChanged.connect(self.set_precision)
        self.slice_label = QLabel()
        self.slice_label.setStyleSheet(f"color: {GREY};")
        selectors = QHBoxLayout()
        for w in (self.batch_label, self.batch_spin, self.head_label, self.head_spin):
            selectors.addWidget(w)
        selectors.addWidget(self.slice_label)
        selectors.addStretch(1)
        selectors.addWidget(self.precision_label)
        selectors.addWidget(self.precision_spin)

        self._table_model = StepTableModel(self)
        self._table_model.set_precision(self.precision_spin.value())
        self.table = QTableView()
        self.table.setModel(self._table_model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.horizontalHeader().setDefaultSectionSize(66)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.heatmap = Heatmap(cell_values=True, max_label_chars=10)

        values = QSplitter(Qt.Orientation.Horizontal)
        values.addWidget(self.table)
        values.addWidget(self.heatmap)
        values.setStretchFactor(0, 1)
        values.setStretchFactor(1, 1)
        values.setSizes([520, 600])

        # The step's words (title, formula, shapes, check, guide text) above its numbers, in a
        # splitter: in the default layout the dock is ~300 px tall, and a fixed column of words
        # left the table one row and the heatmap a sliver. The words scroll; the numbers keep
        # most of the height, and the user can drag the line.
        words = QWidget()
        wl = QVBoxLayout(words)
        wl.setContentsMargins(0, 0, 0, 0)
        for w in (self.title, self.formula, self.shapes, self.weights, self.note,
                  self.check_label):
            wl.addWidget(w)
        wl.addWidget(self.explanation, 1)
        self.explanation.setMinimumHeight(60)
        words_scroll = QScrollArea()
        words_scroll.setWidget(words)
        words_scroll.setWidgetResizable(True)
        words_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        numbers = QWidget()
        nl = QVBoxLayout(numbers)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.addLayout(selectors)
        nl.addWidget(values, 1)
        detail = QSplitter(Qt.Orientation.Vertical)
        detail.setContentsMargins(6, 0, 0, 0)
        detail.addWidget(words_scroll)
        detail.addWidget(numbers)
        detail.setStretchFactor(0, 1)
        detail.setStretchFactor(1, 1)
        detail.setSizes([170, 150])  # the default dock: the check and guide text's first lines
        detail.setChildrenCollapsible(False)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.step_list)
        split.addWidget(detail)
        split.setStretchFactor(1, 1)
        split.setSizes([340, 1000])

        content = QWidget()
        cl = QVBoxLayout(content)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addLayout(bar)
        cl.addWidget(split, 1)
        self.empty = EmptyState(content, "")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.empty, 1)

    def _t(self, key: str, **kw: Any) -> str:
        table = _TEXT.get(self.lang, _TEXT["en"])
        return table.get(key, _TEXT["en"][key]).format(**kw)

    def _apply_language(self) -> None:
        self.prev_button.setText(self._t("previous"))
        self.next_button.setText(self._t("next"))
        self.article_button.setText(self._t("article"))
        self.article_button.setToolTip(self._t("article_tip"))
        self.export_label.setText(self._t("export"))
        self.picture_label.setText(self._t("picture"))
        self.csv_button.setText(self._t("csv"))
        self.npy_button.setText(self._t("npy"))
        self.png_button.setText(self._t("png"))
        self.svg_button.setText(self._t("svg"))
        self.batch_label.setText(self._t("batch"))
        self.head_label.setText(self._t("head"))
        self.precision_label.setText(self._t("precision"))
        self.empty.message.setText(self._t("empty"))

    # -- public API ---------------------------------------------------------------------------
    def current_name(self) -> str:
        """The step shown now ('' when there is no trace)."""
        return self._names[self._index] if 0 <= self._index < len(self._names) else ""

    def step_names(self) -> list[str]:
        return list(self._names)

    def go_to(self, name: str) -> None:
        """Show step `name` and tell the session (other panels follow)."""
        if name not in self._row_of:
            raise KeyError(f"no step {name!r} in the current trace")
        self._set_index(self._names.index(name), notify=True)

    def next(self) -> None:
        if self._index + 1 < len(self._names):
            self._set_index(self._index + 1, notify=True)

    def previous(self) -> None:
        if self._index > 0:
            self._set_index(self._index - 1, notify=True)

    def table_model(self) -> StepTableModel:
        return self._table_model

    def check_label_text(self) -> str:
        return self.check_label.text()

    def check_result(self) -> Check | None:
        """The check of the current step (computed when the step was shown)."""
        result = self._checks.get(self.current_name())
        return result if isinstance(result, Check) else None

    def set_language(self, lang: str) -> None:
        """Switch UI strings and explanations to "en" or "zh"."""
        self.lang = lang if lang in _TEXT else "en"
        self._apply_language()
        if self.current_name():
            self._rebuild_list()  # group headers are translated too
            self._set_index(self._index, notify=False)

    def set_precision(self, precision: int) -> None:
        """Decimals shown in the table (0-8), remembered across sessions."""
        precision = min(max(int(precision), 0), 8)
        if self.precision_spin.value() != precision:
            self.precision_spin.setValue(precision)  # comes back here via valueChanged
            return
        self._table_model.set_precision(precision)
        self._settings.setValue(PRECISION_KEY, precision)

    def set_slice(self, batch: int | None = None, head: int | None = None) -> None:
        """Choose which batch entry / head of a >2-D step is shown."""
        if batch is not None:
            self.batch_spin.setValue(batch)
        if head is not None:
            self.head_spin.setValue(head)

    def current_slice(self) -> tuple[np.ndarray, list[str], list[str]]:
        """The 2-D values in the table and heatmap, with their row and column labels."""
        return (self._table_model.matrix(), list(self._table_model._rows),
                list(self._table_model._cols))

    # -- navigation ---------------------------------------------------------------------------
    def _set_index(self, index: int, notify: bool) -> None:
        if not 0 <= index < len(self._names):
            return
        self._index = index
        name = self._names[index]
        row = self._row_of[name]
        if self.step_list.currentRow() != row:
            self.step_list.blockSignals(True)
            self.step_list.setCurrentRow(row)
            self.step_list.blockSignals(False)
        self.step_list.scrollToItem(self.step_list.item(row))
        self._show_current()
        if notify:
            self.session.set_focus(name)

    @Slot(int)
    def _on_row_changed(self, row: int) -> None:
        item = self.step_list.item(row)
        if item is None:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        if name:
            self._set_index(self._names.index(name), notify=True)

    @Slot(str)
    def _on_focus_changed(self, name: str) -> None:
        if name in self._row_of and name != self.current_name():
            self._set_index(self._names.index(name), notify=False)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if obj is self.step_list and event.type() == QEvent.Type.KeyPress:
            if self._arrow(event):
                return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if not self._arrow(event):
            super().keyPressEvent(event)

    def _arrow(self, event: QKeyEvent) -> bool:
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if event.key() == Qt.Key.Key_Right:
            self.next()
            return True
        if event.key() == Qt.Key.Key_Left:
            self.previous()
            return True
        return False

    # -- session events -----------------------------------------------------------------------
    @Slot()
    def _on_model_changed(self) -> None:
        self._vocab_labels = None
        self._token_pieces = None
        self._stale = True
        self._checks.clear()
        if self.current_name():
            self._show_check()

    @Slot()
    def _on_weights_changed(self) -> None:
        self._stale = True
        self._checks.clear()
        if self.current_name():
            self._show_check()

    @Slot()
    def _on_trace_changed(self) -> None:
        trace = self.session.trace
        keep = self.current_name()
        self._token_pieces = None
        self._checks.clear()
        self._stale = False
        self._names = trace.names() if trace is not None else []
        # The list depends only on the steps' names and shapes: a new trace of the same model
        # and context length (every refresh while training) keeps it, saving ~15 ms a trace.
        layout = [(step.name, step.shape, step.title) for step in trace] if trace else []
        if layout != self._list_layout:
            self._list_layout = layout
            self._rebuild_list()
        if not self._names:
            self._index = -1
            self.empty.show_empty(self._t("empty"))
            return
        self.empty.show_content()
        if keep in self._row_of:
            index = self._names.index(keep)
        elif self.session.focus in self._row_of:
            index = self._names.index(self.session.focus)
        else:
            index = 0
        self._index = -1
        self._set_index(index, notify=False)

    def _rebuild_list(self) -> None:
        trace = self.session.trace
        lst = self.step_list
        lst.blockSignals(True)
        lst.clear()
        self._row_of = {}
        group: object = "none"
        bold = QFont()
        bold.setBold(True)
        n_group = 0
        for i, name in enumerate(self._names):
            step = trace[name]
            layer = step.layer
            if layer is not None:
                key: object = layer
            else:
                key = "embed" if name.startswith(("tokens", "embed")) else "out"
            if key != group:
                group = key
                n_group += 1
                if key == "embed":
                    text = self._t("input") + " · " + self._t("embedding")
                elif key == "out":
                    text = self._t("output")
                else:
                    text = self._t("block", i=layer)
                header = QListWidgetItem(text)
                header.setFont(bold)
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                header.setForeground(QBrush(QColor("#1a3d6d")))
                header.setBackground(QBrush(QColor("#d6e2f3")))
                lst.addItem(header)
            item = QListWidgetItem(f"{i + 1}. {step.title} {short_shape(step.shape)}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setBackground(QBrush(QColor(_GROUP_BG[n_group % 2])))
            item.setToolTip(f"{name}\n{step.formula}")
            self._row_of[name] = lst.count()
            lst.addItem(item)
        lst.blockSignals(False)

    # -- showing the current step -------------------------------------------------------------
    def _show_current(self) -> None:
        trace, model = self.session.trace, self.session.model
        name = self.current_name()
        if trace is None or not name:
            return
        step = trace[name]
        self.counter.setText(self._t("counter", i=self._index + 1, n=len(self._names)))
        self.prev_button.setEnabled(self._index > 0)
        self.next_button.setEnabled(self._index + 1 < len(self._names))
        self.title.setText(step.title)
        self.formula.setText(step.formula)
        self.shapes.setText(shapes_text(trace, model, name))
        w = weights_text(model, name)
        self.weights.setText(f"{self._t('weights')}: {w}" if w else "")
        _show(self.weights, bool(w))
        n_head = model.config.n_head if model is not None else None
        note = reshape_note(step, n_head, self.lang)
        self.note.setText(note)
        _show(self.note, bool(note))
        self._show_explanation(name)
        self._configure_selectors(step)
        self._show_values()
        self._show_check()

    def _show_explanation(self, name: str) -> None:
        try:
            from engine.guide import help_text

            title, text = help_text(name, self.lang)
        except (ImportError, OSError, ValueError):
            title, text = "", ""
        _show(self.explanation, bool(text))
        if text:
            paras = "".join(f"<p>{_escape(p)}</p>" for p in text.split("\n\n") if p.strip())
            self.explanation.setHtml(f"<b>{_escape(title)}</b>{paras}")

    def _configure_selectors(self, step: Step) -> None:
        axes, shape = step.axes, step.shape
        lead = axes[:-2] if len(shape) > 2 else ()
        for axis, label, spin in (("batch", self.batch_label, self.batch_spin),
                                  ("heads", self.head_label, self.head_spin)):
            on = axis in lead
            _show(label, on)
            _show(spin, on)
            if on:
                n = shape[axes.index(axis)]
                spin.blockSignals(True)
                spin.setRange(0, n - 1)
                spin.blockSignals(False)

    def _slice_index(self, step: Step) -> tuple[tuple[int, ...], int]:
        """The leading indices of the shown 2-D slice, and its batch entry (for token labels)."""
        index: list[int] = []
        batch = 0
        if step.values.ndim > 2:
            for axis in step.axes[:-2]:
                if axis == "batch":
                    batch = self.batch_spin.value()
                    index.append(batch)
                elif axis == "heads":
                    index.append(self.head_spin.value())
                else:
                    index.append(0)
        return tuple(index), batch

    @Slot()
    def _show_values(self, *_args: Any) -> None:
        trace = self.session.trace
        name = self.current_name()
        if trace is None or not name:
            return
        step = trace[name]
        index, batch = self._slice_index(step)
        m = step.values[index] if index else step.values
        if m.ndim == 1:
            m = m[None]
        row_axis, col_axis = step.axes[-2], step.axes[-1]
        is_tokens = step.kind == "tokens"
        rows = self._labels(row_axis, m.shape[0], batch, token_rows=is_tokens)
        cols = self._labels(col_axis, m.shape[1], batch, token_rows=is_tokens)
        tips = None
        if is_tokens and self.session.tokenizer is not None:
            tips = self._trace_pieces()
        self._table_model.set_matrix(m, rows, cols, integers=is_tokens, tooltips=tips)
        sel = ", ".join(f"{_SINGULAR.get(a, a)} {i}" for a, i in zip(step.axes, index))
        self.slice_label.setText(
            self._t("slice", sel=f"{sel} → [{row_axis} {m.shape[0]} × {col_axis} {m.shape[1]}]")
            if sel else f"[{row_axis} {m.shape[0]} × {col_axis} {m.shape[1]}]")
        cmap, levels = _colour_scale(step.kind, m)
        title = f"{step.title}  {('(' + sel + ')') if sel else ''}".strip()
        self.heatmap.set_matrix(m, rows, cols, colormap=cmap, levels=levels, title=title)
        self.heatmap.set_axis_titles(row_axis, col_axis)

    def _labels(self, axis: str, n: int, batch: int, token_rows: bool = False) -> list[str]:
        trace = self.session.trace
        if axis == "batch":
            return [f"{self._t('batch')} {b}" for b in range(n)]
        if axis in TOKEN_AXES and not token_rows and trace is not None:
            pieces = self._trace_pieces()[min(batch, len(trace.ids) - 1)]
            return [f"{t} {p}" for t, p in enumerate(pieces[:n])]
        if axis == "vocab":
            vocab = self._vocab()
            return [vocab[i] if i < len(vocab) else str(i) for i in range(n)]
        return [str(i) for i in range(n)]

    def _trace_pieces(self) -> list[list[str]]:
        """Display pieces of the trace's tokens, per batch row (computed once per trace)."""
        if self._token_pieces is None:
            trace = self.session.trace
            rows = trace.ids if trace is not None else []
            self._token_pieces = [self._pieces(row) for row in rows]
        return self._token_pieces

    def _pieces(self, ids: np.ndarray) -> list[str]:
        tok = self.session.tokenizer
        out = []
        for i in np.asarray(ids).astype(np.int64).tolist():
            try:
                out.append(tok.piece(i) if tok is not None else str(i))
            except (ValueError, IndexError):
                out.append(str(i))
        return out

    def _vocab(self) -> list[str]:
        if self._vocab_labels is None:
            tok = self.session.tokenizer
            n = tok.vocab_size if tok is not None else 0
            self._vocab_labels = [f"{i} {p}" for i, p in enumerate(self._pieces(np.arange(n)))]
        return self._vocab_labels

    def _show_check(self) -> None:
        name = self.current_name()
        if self._stale:
            self.check_label.setText(self._t("stale"))
            self.check_label.setStyleSheet(f"color: {GREY};")
            return
        result = self._checks.get(name)
        if result is None:
            result = self._run_check(name)
            self._checks[name] = result
        if isinstance(result, str):
            text, colour = self._t("error", err=result), RED
        else:
            key = "pass" if result.passed else "fail"
            text = self._t(key, desc=result.description, diff=f"{result.max_abs_diff:.2e}",
                           tol=f"{result.tolerance:.0e}")
            colour = GREEN if result.passed else RED
        self.check_label.setText(text)
        self.check_label.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def _run_check(self, name: str) -> Check | str:
        model, trace = self.session.model, self.session.trace
        if model is None or trace is None:
            return "no model"
        try:
            return check_step(model, trace, name)
        except Exception as exc:  # noqa: BLE001 - a mismatched model/trace must not crash the view
            return f"{type(exc).__name__}: {exc}"

    # -- article mode -------------------------------------------------------------------------
    def show_banner(self, text: str, kind: str = "info") -> None:
        """A message above the walkthrough ('' hides it); kind: info or problem."""
        self.banner.setVisible(bool(text))
        self.banner.setText(text)
        style = ("background: #fdecea; color: #8a1c1c; border: 1px solid #f5c2c0;"
                 if kind == "problem" else
                 "background: #e8f1fb; color: #123a63; border: 1px solid #bcd4ee;")
        self.banner.setStyleSheet(style + " padding: 6px; border-radius: 4px;")

    def article_ids(self) -> tuple[np.ndarray, str]:
        """The article batch (4, 16) for the current model, and where its text came from."""
        model = self.session.model
        corpus = getattr(self.session, "corpus", None)
        tok = self.session.tokenizer
        if (corpus is not None and len(corpus.train) > ARTICLE_CONTEXT
                and corpus.tokenizer.vocab_size <= model.config.vocab_size
                and (tok is None or corpus.tokenizer.vocab_size == tok.vocab_size)):
            return article_batch(corpus, ARTICLE_BATCH, ARTICLE_CONTEXT, ARTICLE_SEED), \
                self._t("the_corpus")
        text = getattr(self.session, "context_text", "")
        if tok is None or not text:
            raise ValueError(self._t("no_text"))
        ids = tok.encode(text)
        return windows_batch(ids, ARTICLE_BATCH, ARTICLE_CONTEXT, ARTICLE_SEED), \
            self._t("the_context")

    @Slot()
    def run_article_mode(self) -> None:
        """Trace the articles' batch (4 windows × 16 tokens) in the background."""
        model = self.session.model
        problem = article_mode_problem(model)
        if problem is not None:
            self.show_banner(problem, "problem")
            return
        try:
            ids, source = self.article_ids()
        except ValueError as exc:
            self.show_banner(str(exc), "problem")
            return
        stop_worker(self._article_worker)
        # A private copy: the worker must never touch the model other panels are reading.
        snapshot = model
        worker = FunctionWorker(_trace_job, snapshot, ids)
        self._article_source = source
        # Bound methods of this panel: queued, so they run on the GUI thread, which owns the
        # session and the widgets.
        worker.returned.connect(self._on_article_trace, Qt.ConnectionType.QueuedConnection)
        worker.errored.connect(self._on_article_failed, Qt.ConnectionType.QueuedConnection)
        self._article_worker = worker
        self.article_button.setEnabled(False)
        self.show_banner(self._t("tracing"))
        start_worker(worker, "article-trace")

    @Slot(object)
    def _on_article_trace(self, trace: Trace) -> None:
        self.article_button.setEnabled(True)
        source = self._article_source
        x, q, s = trace["embed.sum"], trace["blocks.0.attn.q"], trace["blocks.0.attn.scores"]
        self.session.set_trace(trace)
        self.show_banner(self._t("article_done", b=trace.ids.shape[0], t=trace.ids.shape[1],
                                 src=source, seed=ARTICLE_SEED, x=short_shape(x.shape),
                                 q=short_shape(q.shape), s=short_shape(s.shape)))

    @Slot(object)
    def _on_article_failed(self, exc: BaseException) -> None:
        self.article_button.setEnabled(True)
        self.show_banner(f"{self._t('article')}: {exc}", "problem")

    def shutdown(self) -> None:
        """Stop background work (the window calls this on close)."""
        stop_worker(self._article_worker)

    # -- export -------------------------------------------------------------------------------
    def _ask_path(self, title: str, suffix: str, filters: str) -> str:
        folder = str(self._settings.value(EXPORT_DIR_KEY, os.path.expanduser("~")))
        suggested = os.path.join(folder, f"{self.current_name() or 'step'}.{suffix}")
        path = dialogs.ask_save_path(self, title, suggested, filters)
        if path:
            if not os.path.splitext(path)[1]:
                path += "." + suffix
            self._settings.setValue(EXPORT_DIR_KEY, os.path.dirname(os.path.abspath(path)))
        return path

    @Slot()
    def export_csv(self) -> str:
        """Save the current step (all batch entries and heads) as CSV; returns the path or ''."""
        trace, name = self.session.trace, self.current_name()
        if trace is None or not name:
            return ""
        path = self._ask_path(self._t("csv"), "csv", "CSV (*.csv)")
        if not path:
            return ""
        vocab = [lab.split(" ", 1)[1] if " " in lab else lab for lab in self._vocab()]
        pieces = self._trace_pieces()
        try:
            step_to_csv(trace[name], path, token_pieces=pieces, vocab_pieces=vocab or None)
        except OSError as exc:
            dialogs.show_exception(self, exc, "exporting the step")
            return ""
        return path

    @Slot()
    def export_npy(self) -> str:
        """Save the current step's values as a .npy array; returns the path or ''."""
        trace, name = self.session.trace, self.current_name()
        if trace is None or not name:
            return ""
        path = self._ask_path(self._t("npy"), "npy", "NumPy array (*.npy)")
        if not path:
            return ""
        try:
            step_to_npy(trace[name], path)
        except OSError as exc:
            dialogs.show_exception(self, exc, "exporting the step")
            return ""
        return path

    def export_image(self, fmt: str) -> str:
        """Save the heatmap as PNG or SVG (pyqtgraph exporters); returns the path or ''."""
        if not self.current_name():
            return ""
        filters = "PNG image (*.png)" if fmt == "png" else "SVG drawing (*.svg)"
        path = self._ask_path(self._t(fmt), fmt, filters)
        if not path:
            return ""
        try:
            export_view(self.heatmap.graphics, path)
        except (OSError, ValueError) as exc:
            dialogs.show_exception(self, exc, "exporting the heatmap")
            return ""
        return path


_SINGULAR = {"heads": "head"}


def _show(widget: QWidget, on: bool) -> None:
    """setVisible only on a change: each call re-lays out the panel even when nothing changes."""
    if widget.isHidden() == on:
        widget.setVisible(on)


def _trace_job(_report: Any, model: Any, ids: np.ndarray) -> Trace:
    """Runs on the worker thread: the traced forward of the article batch."""
    return run_trace(model, ids)


def _colour_scale(kind: str, m: np.ndarray) -> tuple[str, tuple[float, float] | None]:
    """Probabilities on a 0-based sequential scale; signed values on a diverging scale around 0."""
    if kind == "attn.pattern":
        return PATTERN_CMAP, (0.0, 1.0)
    if kind in ("probs", "tokens"):
        return PATTERN_CMAP, None
    return SIGNED_CMAP, symmetric_levels(m)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
