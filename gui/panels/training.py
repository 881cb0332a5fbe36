"""The Training panel: a validated form, the device, Start/Pause/Stop, and live loss plots.

Training runs `engine.job.training_job` in a child process (`gui.workers.ProcessWorker`), so
redraws here never hold the trainer's interpreter lock. Records arrive batched (about five times
a second) and go into `session.history`; the plots read the history and redraw on a timer
(create curves once, then setData). The newest weights arrive every few seconds and at each
evaluation; the window re-traces the context through them and this panel writes a sample from
them, both on this process's threads, so the other panels follow the training live.
"""
from __future__ import annotations

import math
import shutil
import tempfile
import time
from dataclasses import fields
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine import cores
from engine.config import ACTIVATIONS, NORMS, POSITIONAL, ConfigError, ModelConfig, TrainConfig
from engine.job import StartFrom, TrainingRequest, serve
from gui import dialogs
from gui.app import freeze_garbage_collector
from gui.session import Session
from gui.widgets.export import install_export_menu
from gui.workers import (
    Cancelled,
    FunctionWorker,
    PanelThreads,
    ProcessWorker,
    start_worker,
    stop_worker,
)

EMA_ALPHA = 0.05  # smoothing of the per-step loss curve (about the last 20 records)
# Plots redraw at most twice a second: a repaint after new data costs ~20 ms when idle, and
# 60-110 ms on 2 cores while a training thread competes for the GIL (each QPainter call lets go
# of it); at 5 Hz these repaints alone pushed the event loop's p99 stall to ~115 ms.
REDRAW_MS = 500
LABEL_MS = 500  # progress text and ETA change at most twice a second
# Live panel refreshes while training: as often as every MIN_REFRESH_S, but the GUI thread may
# spend at most REFRESH_DUTY of its time redrawing the panels. Measured: one refresh costs the
# GUI thread 40-100 ms, so about every 2 s.
MIN_REFRESH_S, MAX_REFRESH_S, REFRESH_DUTY = 2.0, 10.0, 0.05
# Samples at each evaluation: up to SAMPLE_TOKENS, fewer (at least 8) when writing them would
# take more than SAMPLE_BUDGET of the time between evaluations. Measured: 48 tokens of the
# default model took ~0.3 s of the core this process shares with its redraws.
SAMPLE_TOKENS, SAMPLE_BUDGET = 48, 0.05

# Form fields: (key, label, kind, default, min, max, tooltip). Defaults are the article's.
_M, _T = ModelConfig(), TrainConfig()
MODEL_FIELDS = [
    ("d_model", "d_model", int, _M.d_model, 4, 2048, "width of every token vector"),
    ("n_head", "heads", int, _M.n_head, 1, 64, "attention heads; d_model must divide by it"),
    ("n_layer", "layers", int, _M.n_layer, 1, 64, "transformer blocks stacked"),
    ("context_length", "context", int, _M.context_length, 2, 4096, "tokens the model sees (T)"),
    ("d_ff", "d_ff", int, _M.d_ff, 4, 16384, "hidden width of the feed-forward network"),
    ("dropout", "dropout", float, _M.dropout, 0.0, 0.9, "dropout while training"),
]
MODEL_CHOICES = [
    ("positional", "positional", POSITIONAL, _M.positional),
    ("norm", "norm", NORMS, _M.norm),
    ("activation", "activation", ACTIVATIONS, _M.activation),
]
TRAIN_FIELDS = [
    ("batch_size", "batch", int, _T.batch_size, 1, 4096, "windows per step (B)"),
    ("steps", "steps", int, _T.steps, 1, 10_000_000, "optimizer steps in total"),
    ("lr", "learning rate", float, _T.lr, 1e-6, 1.0, "peak learning rate (cosine decay to lr/10)"),
    ("warmup_steps", "warm-up", int, _T.warmup_steps, 0, 1_000_000, "linear warm-up steps"),
    ("eval_interval", "eval every", int, _T.eval_interval, 1, 1_000_000,
     "steps between evaluations and samples"),
    ("seed", "seed", int, _T.seed, 0, 2**31 - 1, "same seed, same run"),
]


# The form in Chinese (View → Language). Symbols of the articles' formulas (d_model, d_ff)
# stay as they are, so the form still reads next to the walkthrough's equations.
_ZH = {
    "Model": "模型", "Training": "训练", "tokenizer": "分词器", "heads": "注意力头数",
    "layers": "层数", "context": "上下文长度", "dropout": "丢弃率", "positional": "位置编码",
    "norm": "归一化", "activation": "激活函数",
    "tie token table and output layer": "词嵌入表与输出层共享权重",
    "batch": "批大小", "steps": "步数", "learning rate": "学习率", "warm-up": "预热步数",
    "eval every": "评估间隔", "seed": "随机种子", "device": "设备",
    "Start": "开始", "Continue": "接着训练", "Pause": "暂停", "Resume": "继续", "Stop": "停止",
    "Continue training the current model (steps = more steps)":
        "接着训练当前模型（步数 = 再训练的步数）",
    "Sample at the last evaluation": "最近一次评估时生成的样例", "Not training.": "未在训练。",
    "loss": "损失", "tokens/s": "词元/秒", "step": "步",
    "Text generated from the context at each evaluation.": "每次评估时，从上下文接着生成的文字。",
    "train (per step)": "训练（每步）", "train (smoothed)": "训练（平滑）", "validation": "验证",
}


_CONTINUE_TIP = ("Keep training the model shown, from its saved optimizer state and step, on the "
                 "open text. Its architecture stays; the training settings apply from here on.")
_NO_CONTINUE_TIP = ("Available after a training run, or for a model file saved after training "
                    "(it holds the optimizer state). A new model, or one saved without that state "
                    "such as the bundled model, starts with Start.")


def _fmt_duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class _Series:
    """A growing float array (amortised O(1) append), handed to setData without copies."""

    def __init__(self) -> None:
        self.x = np.empty(1024)
        self.y = np.empty(1024)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n == len(self.x):
            self.x = np.resize(self.x, 2 * self.n)
            self.y = np.resize(self.y, 2 * self.n)
        self.x[self.n], self.y[self.n] = x, y
        self.n += 1

    def clear(self) -> None:
        self.n = 0

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


class TrainingPanel(QWidget):
    """Form, device, controls, progress and live plots of one training run."""

    training_started = Signal()
    training_finished = Signal(object)  # engine.job.TrainingResult
    status_message = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.worker: ProcessWorker | None = None
        self.last_result = None  # TrainingResult of the last run (its state can be saved)
        # The session's model with its trainer state, when it can keep training exactly: the
        # last run's result, or a model opened from a file saved with its optimizer state.
        self.resumable: StartFrom | None = None
        self._samples = PanelThreads()
        self._all_cores = cores.available()  # this process's cores again after a run
        self._shown_step = -1  # step of the weights the session holds
        self._sample_s_per_token = 0.0  # measured on the last sample
        self._last_sample = 0.0
        self._sample_worker: FunctionWorker | None = None
        self._state = "idle"  # "idle" | "preparing" | "running" | "paused" | "stopping"
        self._total_steps = 0
        self._rate: list[tuple[float, int]] = []  # (time, step) of recent records, for the ETA
        self._label_time = 0.0
        self._consumed = 0  # rows of session.history already in the plots
        self._history_id = 0
        self._ema: float | None = None
        self._ema_n = 0
        self._plots_dirty = False
        self._inputs: dict[str, QWidget] = {}

        self._build_form()
        self._build_controls()
        self._build_plots()
        self._build_layout()
        self._load_settings()

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)

        session.history_changed.connect(self._on_history_changed)
        session.corpus_changed.connect(self._validate)
        self._on_history_changed()
        self._validate()

    # -- building -----------------------------------------------------------------------------

    def _spin(self, kind: type, default: float, lo: float, hi: float, tip: str) -> QWidget:
        if kind is int:
            w = QSpinBox()
            w.setRange(int(lo), int(hi))
            w.setValue(int(default))
            w.setGroupSeparatorShown(True)
        else:
            w = QDoubleSpinBox()
            small = lo < 1e-3 and lo > 0  # the learning rate: 1e-6 .. 1
            w.setDecimals(6 if small else 2)
            w.setRange(lo, hi)
            w.setSingleStep(1e-4 if small else 0.05)
            w.setValue(default)
        w.setToolTip(tip)
        w.setMinimumWidth(64)  # below the "10,000,000" hint, so the dock can be narrow
        w.setKeyboardTracking(True)
        w.valueChanged.connect(self._validate)
        return w

    def _build_form(self) -> None:
        from engine.tokenizers import available_tokenizers

        self.tokenizer_box = QComboBox()
        self.tokenizer_box.addItems(available_tokenizers())
        self.tokenizer_box.setToolTip(
            "cl100k_base: GPT-4's BPE pieces (the articles' choice); char: one token per character")
        self.tokenizer_box.currentIndexChanged.connect(self._validate)
        self._inputs["tokenizer"] = self.tokenizer_box

        self.lang = "en"
        self._texts: list[tuple[Any, str]] = []  # (widget, English text) relabelled by language
        model_box = QGroupBox("Model")
        self._texts.append((model_box, "Model"))
        grid = QGridLayout(model_box)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setVerticalSpacing(3)
        grid.addWidget(self._label("tokenizer"), 0, 0)
        grid.addWidget(self.tokenizer_box, 0, 1, 1, 3)
        cells = [(key, label, self._spin(kind, d, lo, hi, tip))
                 for key, label, kind, d, lo, hi, tip in MODEL_FIELDS]
        for key, label, choices, default in MODEL_CHOICES:
            box = QComboBox()
            box.addItems(list(choices))
            box.setCurrentText(default)
            box.currentIndexChanged.connect(self._validate)
            cells.append((key, label, box))
        self.tied_box = QCheckBox("tie token table and output layer")
        self._texts.append((self.tied_box, "tie token table and output layer"))
        self.tied_box.toggled.connect(self._validate)
        self._add_cells(grid, cells, first_row=1)
        grid.addWidget(self.tied_box, grid.rowCount(), 0, 1, 4)
        self._inputs["tied"] = self.tied_box
        self.model_box = model_box

        train_box = QGroupBox("Training")
        self._texts.append((train_box, "Training"))
        grid = QGridLayout(train_box)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setVerticalSpacing(3)
        cells = [(key, label, self._spin(kind, d, lo, hi, tip))
                 for key, label, kind, d, lo, hi, tip in TRAIN_FIELDS]
        self._add_cells(grid, cells, first_row=0)
        self.device_box = QComboBox()
        self.device_box.setToolTip("Only devices present on this machine are listed")
        self.device_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_box.setMinimumContentsLength(8)
        row = grid.rowCount()
        grid.addWidget(self._label("device"), row, 0)
        grid.addWidget(self.device_box, row, 1, 1, 3)
        self.train_box = train_box
        self._fill_devices()

        self.form_error = QLabel()
        self.form_error.setWordWrap(True)
        self.form_error.setStyleSheet("color: #b00020;")
        self.form_error.hide()

    def _label(self, text: str) -> QLabel:
        label = QLabel(text)
        self._texts.append((label, text))
        return label

    def _t(self, text: str) -> str:
        return _ZH.get(text, text) if getattr(self, "lang", "en") == "zh" else text

    def set_language(self, lang: str) -> None:
        """Labels, buttons and plot axes in English ("en") or Chinese ("zh")."""
        self.lang = lang
        for widget, text in self._texts:
            if widget is self.progress_label and self._state != "idle":
                continue  # it shows the run's progress, not its idle text
            if isinstance(widget, QGroupBox):
                widget.setTitle(self._t(text))
            else:
                widget.setText(self._t(text))
        for plot, side, text in ((self.loss_plot, "left", "loss"), (self.lr_plot, "left", "lr"),
                                 (self.speed_plot, "left", "tokens/s"),
                                 (self.speed_plot, "bottom", "step")):
            plot.setLabel(side, self._t(text))
        self.sample_view.setPlaceholderText(
            self._t("Text generated from the context at each evaluation."))
        legend = self.loss_plot.legend
        for curve, text in ((self.curve_raw, "train (per step)"),
                            (self.curve_ema, "train (smoothed)"), (self.curve_val, "validation")):
            legend.removeItem(curve)
            legend.addItem(curve, self._t(text))
        self._update_buttons()

    def _add_cells(self, grid: QGridLayout, cells: list, first_row: int) -> None:
        """Two label/input pairs per row, so the form stays short in a narrow dock."""
        for i, (key, label, widget) in enumerate(cells):
            row, col = first_row + i // 2, (i % 2) * 2
            lab = self._label(label)
            lab.setToolTip(widget.toolTip())
            grid.addWidget(lab, row, col)
            grid.addWidget(widget, row, col + 1)
            self._inputs[key] = widget
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

    def _fill_devices(self) -> None:
        from engine.devices import list_devices

        for info in list_devices():
            self.device_box.addItem(info.label, info.name)
        # A GPU, when present, is what people with one expect to train on.
        self.device_box.setCurrentIndex(self.device_box.count() - 1 if self.device_box.count() > 1 else 0)

    def _build_controls(self) -> None:
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train a new model with these settings on the open text")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current step; the weights so far are kept")
        self.start_button.clicked.connect(self.start)
        self.continue_box = QCheckBox("Continue training the current model (steps = more steps)")
        self.continue_box.toggled.connect(self._update_buttons)
        self._texts.append((self.continue_box,
                            "Continue training the current model (steps = more steps)"))
        self.pause_button.clicked.connect(self._toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        for b in (self.start_button, self.pause_button, self.stop_button):
            b.setMinimumWidth(70)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)  # no "0 / 1 steps" before the first run
        self.progress_label = QLabel("Not training.")
        self._texts.append((self.progress_label, "Not training."))
        self.progress_label.setWordWrap(True)
        self._update_buttons()

    def _build_plots(self) -> None:
        pg.setConfigOptions(antialias=False)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.plots.setMinimumHeight(180)
        install_export_menu(self.plots, "training curves")
        self.loss_plot = self.plots.addPlot(row=0, col=0)
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        legend = self.loss_plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
        legend.setBrush(pg.mkBrush(255, 255, 255, 210))  # readable over the curves
        self.lr_plot = self.plots.addPlot(row=1, col=0)
        self.lr_plot.setLabel("left", "lr")
        self.lr_plot.setXLink(self.loss_plot)
        for plot in (self.loss_plot, self.lr_plot):
            plot.hideAxis("bottom")  # one step axis, under the last plot: fewer axes to redraw
        self.speed_plot = self.plots.addPlot(row=2, col=0)
        self.speed_plot.setLabel("left", "tokens/s")
        self.speed_plot.setLabel("bottom", "step")
        self.speed_plot.setXLink(self.loss_plot)
        layout = self.plots.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 1)
        layout.setRowStretchFactor(2, 1)
        for plot in (self.loss_plot, self.lr_plot, self.speed_plot):
            plot.setDownsampling(mode="peak")
            plot.setClipToView(True)
            plot.getAxis("left").setWidth(48)

        def curve(plot, name, color, width=1, symbol=None):
            item = plot.plot([], [], name=name, pen=pg.mkPen(color, width=width),
                             symbol=symbol, symbolSize=5, symbolBrush=color, symbolPen=None)
            item.setSkipFiniteCheck(True)
            return item

        self.curve_raw = curve(self.loss_plot, "train (per step)", (120, 160, 220, 110))
        self.curve_ema = curve(self.loss_plot, "train (smoothed)", (25, 90, 200), 2)
        self.curve_val = curve(self.loss_plot, "validation", (220, 80, 30), 2, "o")
        self.curve_lr = curve(self.lr_plot, None, (60, 140, 60), 1)
        self.curve_speed = curve(self.speed_plot, None, (130, 80, 170), 1)
        self.series = {k: _Series() for k in ("raw", "ema", "val", "lr", "speed")}

        self.sample_view = QPlainTextEdit()
        self.sample_view.setReadOnly(True)
        self.sample_view.setPlaceholderText("Text generated from the context at each evaluation.")
        self.sample_view.setMaximumBlockCount(200)
        self.sample_view.setMinimumHeight(48)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.sample_view.setFont(font)

    def _build_layout(self) -> None:
        top = QWidget()
        v = QVBoxLayout(top)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        v.addWidget(self.model_box)
        v.addWidget(self.train_box)
        v.addWidget(self.form_error)
        v.addWidget(self.continue_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.stop_button)
        v.addLayout(buttons)
        v.addWidget(self.progress)
        v.addWidget(self.progress_label)

        bottom = QWidget()
        b = QVBoxLayout(bottom)
        b.setContentsMargins(0, 0, 0, 0)
        b.addWidget(self.plots, 4)
        sample_label = self._label("Sample at the last evaluation")
        b.addWidget(sample_label)
        b.addWidget(self.sample_view, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(splitter)
        top.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    # -- form <-> configs ----------------------------------------------------------------------

    def _value(self, key: str) -> Any:
        w = self._inputs[key]
        if isinstance(w, QComboBox):
            return w.currentText()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        return w.value()

    def set_value(self, key: str, value: Any) -> None:
        """Set one form field (by ModelConfig/TrainConfig name, or "tokenizer"/"tied")."""
        w = self._inputs[key]
        if isinstance(w, QComboBox):
            if w.findText(str(value)) < 0:
                w.addItem(str(value))
            w.setCurrentText(str(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        else:
            w.setValue(value)

    def tokenizer_name(self) -> str:
        return self.tokenizer_box.currentText()

    def device_name(self) -> str:
        return self.device_box.currentData() or "cpu"

    def model_config(self) -> ModelConfig:
        """The form's model settings (vocab_size is a placeholder until a corpus is known)."""
        vocab = self.session.tokenizer.vocab_size if self.session.tokenizer else 1
        kwargs = {f.name: self._value(f.name) for f in fields(ModelConfig) if f.name in self._inputs}
        return ModelConfig(vocab_size=vocab, **kwargs)

    def train_config(self) -> TrainConfig:
        """The form's training settings; min_lr is lr/10 and warm-up never exceeds the steps."""
        kwargs = {f.name: self._value(f.name) for f in fields(TrainConfig) if f.name in self._inputs}
        kwargs["warmup_steps"] = min(kwargs["warmup_steps"], kwargs["steps"])
        kwargs["min_lr"] = kwargs["lr"] / 10
        kwargs["eval_batches"] = TrainConfig.eval_batches
        return TrainConfig(device=self.device_name(), **kwargs)

    def _validate(self) -> bool:
        """Check the form; show the first problem inline and enable Start only when valid."""
        for w in self._inputs.values():
            w.setStyleSheet("")
        problem = None
        try:
            self.model_config().validate()
            self.train_config().validate()
        except ConfigError as exc:
            problem = str(exc)
            field = {"vocab_size": "tokenizer"}.get(exc.field, exc.field)
            if field in self._inputs:
                self._inputs[field].setStyleSheet("border: 1px solid #b00020;")
                if exc.field == "d_model":
                    self._inputs["n_head"].setStyleSheet("border: 1px solid #b00020;")
        if problem is None and not self.session.corpus_path and self.session.corpus is None:
            problem = "Open a text file (File → Open text…) to train on."
        self.form_error.setText(problem or "")
        self.form_error.setVisible(problem is not None)
        self._form_ok = problem is None
        self._update_buttons()
        return self._form_ok

    def apply_model_settings(self) -> None:
        """Fill the form with the settings of the model just opened (so Start retrains it).

        Not done for the bundled default model, so the form keeps the user's remembered values.
        """
        if self._state != "idle" or self.session.model is None:
            return
        cfg = self.session.model.config
        for f in fields(ModelConfig):
            if f.name in self._inputs:
                self.set_value(f.name, getattr(cfg, f.name))
        if self.session.tokenizer is not None:
            self.set_value("tokenizer", self.session.tokenizer.name)
        tcfg = self.session.train_config
        if tcfg is not None:
            for f in fields(TrainConfig):
                if f.name in self._inputs:
                    self.set_value(f.name, getattr(tcfg, f.name))
        self._validate()

    # -- settings --------------------------------------------------------------------------------

    def _save_settings(self) -> None:
        if getattr(self, "_loading", False):
            return
        s = QSettings()
        for key in self._inputs:
            s.setValue(f"training/{key}", self._value(key))
        s.setValue("training/device", self.device_name())

    def _load_settings(self) -> None:
        s = QSettings()
        self._loading = True
        try:
            for key, w in self._inputs.items():
                value = s.value(f"training/{key}")
                if value is None:
                    continue
                try:
                    if isinstance(w, QCheckBox):
                        value = value in (True, "true", "1", 1)
                    elif isinstance(w, QSpinBox):
                        value = int(value)
                    elif isinstance(w, QDoubleSpinBox):
                        value = float(value)
                    if isinstance(w, QComboBox) and w.findText(str(value)) < 0:
                        continue  # e.g. a tokenizer no longer available offline
                    self.set_value(key, value)
                except (TypeError, ValueError):
                    continue
            device = s.value("training/device")
            i = self.device_box.findData(device)
            if i >= 0:
                self.device_box.setCurrentIndex(i)
        finally:
            self._loading = False

    # -- controls ------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """"idle", "preparing", "running", "paused" or "stopping"."""
        return self._state

    def is_active(self) -> bool:
        return self._state != "idle"

    def _set_state(self, state: str) -> None:
        self._state = state
        self._update_buttons()

    def _update_buttons(self) -> None:
        active = self._state != "idle"
        self.start_button.setEnabled(not active and getattr(self, "_form_ok", False))
        self.pause_button.setEnabled(self._state in ("running", "paused"))
        self.pause_button.setText(self._t("Resume" if self._state == "paused" else "Pause"))
        self.stop_button.setText(self._t("Stop"))
        self.stop_button.setEnabled(self._state in ("preparing", "running", "paused"))
        resumable = getattr(self, "resumable", None) is not None
        if hasattr(self, "continue_box"):
            self.continue_box.setEnabled(not active and resumable)
            if not resumable:
                self.continue_box.setChecked(False)
            self.continue_box.setToolTip(_CONTINUE_TIP if resumable else _NO_CONTINUE_TIP)
        continuing = self.continuing()
        for box in (getattr(self, "model_box", None), getattr(self, "train_box", None)):
            if box is not None:
                box.setEnabled(not active and not (continuing and box is self.model_box))
        self.start_button.setText(self._t("Continue" if continuing else "Start"))

    def continuing(self) -> bool:
        """Start continues the current model (instead of training a new one)."""
        box = getattr(self, "continue_box", None)
        return box is not None and box.isChecked() and getattr(self, "resumable", None) is not None

    def set_resumable(self, start: StartFrom | None) -> None:
        """The session's model can (or, with None, can no longer) continue training."""
        self.resumable = start
        self._update_buttons()

    def _new_snapshot_dir(self) -> str:
        """A fresh folder for this run's snapshots; the previous run's is removed (bounded disk)."""
        self._remove_snapshot_dir()
        self._snapshot_dir = tempfile.mkdtemp(prefix="transformer-explorer-snapshots-")
        return self._snapshot_dir

    def _remove_snapshot_dir(self) -> None:
        old = getattr(self, "_snapshot_dir", None)
        if old:
            shutil.rmtree(old, ignore_errors=True)
            self._snapshot_dir = None

    def start(self) -> bool:
        """Train a new model with the form's settings on the session's text; False if refused."""
        if self._state != "idle" or not self._validate():
            return False
        self._save_settings()  # remembered form values: saved when used and when closing
        session = self.session
        viewer_cores, training_cores = cores.split(self._all_cores)
        start_from = self.resumable if self.continuing() else None
        train_config = self.train_config()
        if start_from is not None:  # the form's steps are more steps from where it stopped
            train_config.steps += int(start_from.trainer_state["step"])
        request = TrainingRequest(
            model_config=self.model_config(), train_config=train_config,
            device=self.device_name(), corpus_path=session.corpus_path,
            tokenizer=self.tokenizer_name(), corpus=session.corpus, start_from=start_from,
            snapshot_dir=self._new_snapshot_dir(),
        )
        # This process (redraws, traces, samples) keeps to its core while the run lasts.
        cores.pin_process(viewer_cores)
        freeze_garbage_collector()  # what exists now (e.g. the opened model) stays
        self._total_steps = request.train_config.steps
        self._rate = []
        self._shown_step = -1
        self.worker = ProcessWorker(serve, request, prepare=_ModelBuilder(),
                                    child_cores=training_cores)
        # Explicitly queued: these run on the GUI thread whatever PySide6 infers from the slot.
        queued = Qt.ConnectionType.QueuedConnection
        self.worker.yielded.connect(self._on_message, queued)
        self.worker.returned.connect(self._on_returned, queued)
        self.worker.errored.connect(self._on_errored, queued)
        self.worker.finished.connect(self._on_worker_finished, queued)
        self._set_state("preparing")
        self.progress.setRange(0, 0)  # busy until the process reports
        self.progress.setTextVisible(False)
        self.progress_label.setText("Starting the training process…")
        self.sample_view.clear()
        session.set_training(True)
        start_worker(self.worker, "training")
        return True

    def _toggle_pause(self) -> None:
        if self._state == "running":
            self.pause()
        elif self._state == "paused":
            self.resume()

    def pause(self) -> None:
        if self.worker is not None and self._state == "running":
            self.worker.send("pause")
            self.progress_label.setText("Pausing after this step…")

    def resume(self) -> None:
        if self.worker is not None and self._state == "paused":
            self.worker.send("resume")
            self._rate = []
            self._set_state("running")

    def stop(self) -> None:
        """Stop after the current step; the run ends with its weights so far."""
        if self.worker is not None and self._state in ("preparing", "running", "paused"):
            self.worker.send("stop")
            self._set_state("stopping")
            self.progress_label.setText("Stopping…")

    def note_redraw_cost(self, seconds: float) -> None:
        """The window redrew every panel from new weights in `seconds`: pace the next ones."""
        if self.worker is not None:
            self.worker.send("interval",
                             min(MAX_REFRESH_S, max(MIN_REFRESH_S, seconds / REFRESH_DUTY)))

    def wait_finished(self, timeout_ms: int = 30_000) -> bool:
        """Block until the training process and its thread have ended (used when quitting)."""
        self._samples.stop(self._sample_worker)
        if self.worker is None:
            return True
        # No abort: after a stop request the job ends at a step boundary and returns its result.
        return stop_worker(self.worker, timeout_ms, abort=False)

    # -- messages from the training process (GUI thread) ---------------------------------------

    def _on_message(self, message: tuple) -> None:
        kind = message[0]
        session = self.session
        if kind == "records":
            rows = message[1]
            session.append_history(rows)
            self._update_progress(rows[-1])
        elif kind == "weights":
            _, step, (model, sample_model), _reason, _show = message
            if model is not None:
                self._shown_step = step
                session.set_weights(model)  # the window re-traces the context through them
            if sample_model is not None:
                self._write_sample(step, sample_model)
        elif kind == "snapshots":
            from engine.snapshots import SnapshotStore

            store = session.snapshots
            if store is None or str(store.directory) != message[1]:
                store = SnapshotStore(message[1])  # a new run; later ones only add files
            session.set_snapshots(store)
        elif kind == "paused":
            self._set_state("paused")
            self.progress_label.setText(f"Paused at step {message[1]:,}. Resume or Stop.")
            self.status_message.emit(f"Training paused at step {message[1]:,}")
        elif kind == "progress":
            _, done, total = message
            if total:
                self.progress.setRange(0, 1000)
                self.progress.setValue(int(1000 * done / total))
                self.progress.setFormat(f"tokenizing {100 * done / total:.0f}%")
                self.progress.setTextVisible(True)
        elif kind == "status":
            self.progress_label.setText(message[1])
            self.status_message.emit(message[1])
        elif kind == "started":
            self._on_started(message[1])

    def _on_started(self, info: dict) -> None:
        session = self.session
        session.train_config = info["train_config"]
        if info["corpus"] is not None:
            session.corpus = info["corpus"]  # same file, now tokenized with the form's tokenizer
        session.set_model(info["model"], info["tokenizer"], history=info["history"])
        session.dirty = True
        self.progress.setRange(0, self._total_steps)
        self.progress.setFormat("%v / %m steps")
        self.progress.setValue(info["step"])
        self.progress.setTextVisible(True)
        if self._state == "preparing":
            self._set_state("running")
        self.progress_label.setText(
            f"Training {info['params']:,} parameters on {info['device']}…")
        self.status_message.emit(f"Training on {info['device']}")
        self.training_started.emit()

    def _write_sample(self, step: int, model) -> None:
        """Text generated from the context by `model` (the weights of evaluation `step`, a copy
        of its own), off this thread. A sample still being written is abandoned for newer ones.
        """
        session = self.session
        if self._sample_worker is not None:
            self._sample_worker.quit()
        seed = session.train_config.seed if session.train_config else 0
        now = time.monotonic()
        n = SAMPLE_TOKENS
        if self._sample_s_per_token > 0:
            budget = SAMPLE_BUDGET * (now - self._last_sample)
            n = max(8, min(n, int(budget / self._sample_s_per_token)))
        self._last_sample = now
        worker = FunctionWorker(_sample_job, model, session.tokenizer,
                                session.context_text or "\n", n, seed, step)
        # A bound method (not a lambda): the panel is the receiver, so it runs on this thread.
        worker.returned.connect(self._on_sample, Qt.ConnectionType.QueuedConnection)
        worker.errored.connect(self._on_sample_failed, Qt.ConnectionType.QueuedConnection)
        self._sample_worker = worker
        self._samples.start(worker, "training-sample")

    def _on_sample(self, result: tuple[int, str, float]) -> None:
        step, text, s_per_token = result
        self._sample_s_per_token = s_per_token
        self.sample_view.setPlainText(f"step {step:,}, continuing the context:\n{text}")

    def _on_sample_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, Cancelled):  # abandoned for newer weights: nothing to say
            self.sample_view.setPlainText(f"No sample: {exc}")

    def _update_progress(self, row: dict) -> None:
        step = int(row["step"])
        self.progress.setValue(min(step, self.progress.maximum()))
        now = time.monotonic()
        if now - self._label_time < LABEL_MS / 1000 and row.get("event") == "step":
            return
        self._label_time = now
        self._rate.append((now, step))
        self._rate = [r for r in self._rate if now - r[0] <= 10.0]  # rate over the last 10 s
        eta = math.inf
        if len(self._rate) >= 2 and self._rate[-1][1] > self._rate[0][1]:
            steps_per_s = (self._rate[-1][1] - self._rate[0][1]) / (self._rate[-1][0] - self._rate[0][0])
            eta = (self._total_steps - step) / steps_per_s
        if self._state == "running":
            loss = row.get("train_loss")
            self.progress_label.setText(
                f"step {step:,} / {self._total_steps:,} · loss {loss:.3f} · "
                f"{row.get('tokens_per_s', 0):,.0f} tokens/s · ETA {_fmt_duration(eta)}")

    def _on_returned(self, result) -> None:
        self.last_result = result
        session = self.session
        if result.state is not None and session.model is not None:
            session.train_config = result.train_config
            self.set_resumable(StartFrom(session.model.config, session.tokenizer,
                                         result.state["model"], result.state))
            # A finished run's last weights are usually its last evaluation's, shown already;
            # a failed one may have gone back to earlier weights.
            if result.outcome not in ("done", "stopped") or self._shown_step != result.step:
                session.set_weights(_model(session.model.config, result.state["model"]))
        outcome = result.outcome
        steps = result.step
        text = {
            "done": f"Training finished after {steps:,} steps.",
            "stopped": f"Training stopped at step {steps:,}; the weights so far are kept.",
            "diverged": f"Training diverged at step {steps:,}; the last good weights are kept.",
            "failed": f"Training failed at step {steps:,}; the last good weights are kept.",
        }[outcome]
        if result.state is not None:
            text += " Save it with File → Save model (Ctrl+S)."
        self.progress_label.setText(text)
        self.status_message.emit(text)
        if result.error is not None:
            details = getattr(result.error, "details", None)
            if details:
                title, message = dialogs.explain(result.error)
                dialogs.show_error(self, title, message, details)
            else:
                dialogs.show_exception(self, result.error, "Training")

    def _on_errored(self, exc: BaseException) -> None:
        self.progress_label.setText("Training could not start.")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.last_result = None
        self._set_state("idle")
        self.session.set_training(False)
        # Engine errors (bad file, setting, device, tokenizer) are ValueErrors with messages
        # written for people; anything else is a bug and keeps its traceback behind Details.
        if isinstance(exc, (ValueError, OSError)):
            dialogs.show_exception(self, exc, "Starting training")
        else:
            title, message = dialogs.explain(exc)
            dialogs.show_error(self, title, message, getattr(exc, "details", None))

    def _on_worker_finished(self) -> None:
        self.worker = None
        cores.pin_process(self._all_cores)
        self._redraw()  # the last records, without waiting for the timer
        self._redraw_timer.stop()
        if self._state != "idle":
            self._set_state("idle")
            self.session.set_training(False)
            self.training_finished.emit(self.last_result)

    # -- plots -----------------------------------------------------------------------------------

    def _on_history_changed(self) -> None:
        history = self.session.history
        if id(history) != self._history_id or len(history) < self._consumed:
            self._history_id = id(history)
            self._consumed = 0
            self._ema, self._ema_n = None, 0
            for s in self.series.values():
                s.clear()
        for row in history[self._consumed:]:
            self._add_row(row)
        self._consumed = len(history)
        self._plots_dirty = True
        if self._state == "idle":
            self._redraw()  # no stream of records to wait for
        elif not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _add_row(self, row: dict) -> None:
        step = float(row.get("step", 0))
        event = row.get("event", "step")
        if event in ("done", "stopped"):
            return  # run summaries repeat the last step's numbers
        loss = row.get("train_loss")
        if loss is not None and math.isfinite(loss):
            self.series["raw"].append(step, loss)
            self._ema_n += 1
            # Starts at the first loss rather than 0, so the curve has no ramp-up artefact.
            self._ema = loss if self._ema is None else self._ema + EMA_ALPHA * (loss - self._ema)
            self.series["ema"].append(step, self._ema)
        if row.get("val_loss") is not None:
            self.series["val"].append(step, row["val_loss"])
        if row.get("lr") is not None:
            self.series["lr"].append(step, row["lr"])
        if row.get("tokens_per_s"):
            self.series["speed"].append(step, row["tokens_per_s"])

    def _redraw(self) -> None:
        if not self._plots_dirty:
            if self._state == "idle":
                self._redraw_timer.stop()
            return
        self._plots_dirty = False
        self.curve_raw.setData(*self.series["raw"].data())
        self.curve_ema.setData(*self.series["ema"].data())
        self.curve_val.setData(*self.series["val"].data())
        self.curve_lr.setData(*self.series["lr"].data())
        self.curve_speed.setData(*self.series["speed"].data())

    def loss_points(self) -> int:
        """Points in the per-step loss curve as drawn (for tests and the benchmark)."""
        x, _ = self.curve_raw.getData()
        return 0 if x is None else len(x)

    def shutdown(self) -> None:
        """Stop training (if any) and the redraw timer; called when the window closes."""
        self._redraw_timer.stop()
        self._save_settings()
        if self.worker is not None:
            self.worker.send("stop")
        self.wait_finished()
        self._remove_snapshot_dir()


def _sample_job(report, model, tokenizer, prompt: str, n: int, seed: int, step: int
                ) -> tuple[int, str, float]:
    """(step, text generated after `prompt`, seconds per token), on a worker thread;
    `report` aborts it."""
    from engine.sample import generate

    t0 = time.perf_counter()
    cores.lower_thread_priority()  # it shares this process's core with the panels' redraws
    text = ""
    for i, sampled in enumerate(generate(model, tokenizer, prompt, max_new_tokens=n,
                                         temperature=0.8, top_k=40, seed=seed, top_n=0)):
        report(i + 1, n)
        text = sampled.text
    return step, text, (time.perf_counter() - t0) / max(1, n)


def _model(config: ModelConfig, weights: dict):
    """A model of `config` holding `weights`, in eval mode."""
    from engine.model import GPT

    model = GPT(config)
    model.load_state_dict(weights)
    return model.eval()


class _ModelBuilder:
    """Turns the training process's weights into models, on the worker's thread (~12 ms each).

    "started" gains info["model"]; ("weights", step, state, reason, show) becomes
    ("weights", step, (model | None, sample_model | None), reason, show): a model to show when
    `show`, and a separate one for an evaluation's sample, since a trace adds hooks to the
    model it reads. Weights nobody will use are not built.
    """

    def __init__(self) -> None:
        self.config: ModelConfig | None = None

    def __call__(self, message: tuple) -> tuple:
        if message[0] == "started":
            info = message[1]
            self.config = info["model_config"]
            info["model"] = _model(self.config, info.pop("weights"))
        elif message[0] == "weights":
            _, step, state, reason, show = message
            models = (_model(self.config, state) if show else None,
                      _model(self.config, state) if reason == "eval" else None)
            return ("weights", step, models, reason, show)
        return message
