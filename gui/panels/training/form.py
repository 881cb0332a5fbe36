"""The training form: model and training settings, the device, and "continue training".

The fields are described once (MODEL_FIELDS, MODEL_CHOICES, TRAIN_FIELDS) and the widgets are
made from them; the form reads them back as a ModelConfig and a TrainConfig, validates them
inline (Start stays off while a setting is impossible), remembers them in the settings store
and speaks the window's language.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import ACTIVATIONS, NORMS, POSITIONAL, ConfigError, ModelConfig, TrainConfig
from gui import settings
from gui.session import Session
from gui.strings import translate

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
CONTINUE = "Continue training the current model (steps = more steps)"
_CONTINUE_TIP = ("Keep training the model shown, from its saved optimizer state and step, on the "
                 "open text. Its architecture stays; the training settings apply from here on.")
_NO_CONTINUE_TIP = ("Available after a training run, or for a model file saved after training "
                    "(it holds the optimizer state). A new model, or one saved without that state "
                    "such as the bundled model, starts with Start.")
_ERROR_STYLE = "border: 1px solid #b00020;"


def _spin(kind: type, default: float, lo: float, hi: float, tip: str) -> QSpinBox | QDoubleSpinBox:
    if kind is int:
        w = QSpinBox()
        w.setRange(int(lo), int(hi))
        w.setValue(int(default))
        w.setGroupSeparatorShown(True)
    else:
        w = QDoubleSpinBox()
        small = 0 < lo < 1e-3  # the learning rate: 1e-6 .. 1
        w.setDecimals(6 if small else 2)
        w.setRange(lo, hi)
        w.setSingleStep(1e-4 if small else 0.05)
        w.setValue(default)
    w.setToolTip(tip)
    w.setMinimumWidth(64)  # below the "10,000,000" hint, so the dock can be narrow
    w.setKeyboardTracking(True)
    return w


class TrainingForm(QWidget):
    """The settings of the next run; `changed` fires when a value, the validity or the
    continue box changes."""

    changed = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.lang = session.lang
        self._inputs: dict[str, QWidget] = {}
        self._texts: list[tuple[QWidget, str]] = []  # (widget, English text) relabelled by language
        self._ok = False
        self._active = False  # a run is active: the settings are greyed out
        self._resumable = False  # the session's model can continue training

        from engine.tokenizers import available_tokenizers

        self.tokenizer_box = QComboBox()
        self.tokenizer_box.addItems(available_tokenizers())
        self.tokenizer_box.setToolTip(
            "cl100k_base: GPT-4's BPE pieces (the articles' choice); char: one token per character")
        self._inputs["tokenizer"] = self.tokenizer_box
        self.tied_box = QCheckBox("tie token table and output layer")
        self._texts.append((self.tied_box, "tie token table and output layer"))
        self._inputs["tied"] = self.tied_box
        self.model_box = self._model_box()
        self.device_box = self._device_box()
        self.train_box = self._train_box()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.hide()
        self.continue_box = QCheckBox(CONTINUE)
        self._texts.append((self.continue_box, CONTINUE))

        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        for widget in (self.model_box, self.train_box, self.error_label, self.continue_box):
            v.addWidget(widget)

        self._load_settings()
        # Connected once every widget exists and holds its remembered value.
        for w in self._inputs.values():
            if isinstance(w, QComboBox):
                w.currentIndexChanged.connect(self.validate)
            elif isinstance(w, QCheckBox):
                w.toggled.connect(self.validate)
            else:
                w.valueChanged.connect(self.validate)
        self.continue_box.toggled.connect(self._on_continue_toggled)
        session.corpus_changed.connect(self.validate)
        self.set_language(self.lang)  # later switches come through the panel
        self.validate()

    # -- building --------------------------------------------------------------------------------

    def _label(self, text: str) -> QLabel:
        label = QLabel(text)
        self._texts.append((label, text))
        return label

    def _group(self, title: str) -> tuple[QGroupBox, QGridLayout]:
        box = QGroupBox(title)
        self._texts.append((box, title))
        grid = QGridLayout(box)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setVerticalSpacing(3)
        return box, grid

    def _model_box(self) -> QGroupBox:
        box, grid = self._group("Model")
        grid.addWidget(self._label("tokenizer"), 0, 0)
        grid.addWidget(self.tokenizer_box, 0, 1, 1, 3)
        cells = [(key, label, _spin(kind, d, lo, hi, tip))
                 for key, label, kind, d, lo, hi, tip in MODEL_FIELDS]
        for key, label, choices, default in MODEL_CHOICES:
            choice = QComboBox()
            choice.addItems(list(choices))
            choice.setCurrentText(default)
            cells.append((key, label, choice))
        self._add_cells(grid, cells, first_row=1)
        grid.addWidget(self.tied_box, grid.rowCount(), 0, 1, 4)
        return box

    def _train_box(self) -> QGroupBox:
        box, grid = self._group("Training")
        cells = [(key, label, _spin(kind, d, lo, hi, tip))
                 for key, label, kind, d, lo, hi, tip in TRAIN_FIELDS]
        self._add_cells(grid, cells, first_row=0)
        row = grid.rowCount()
        grid.addWidget(self._label("device"), row, 0)
        grid.addWidget(self.device_box, row, 1, 1, 3)
        return box

    def _device_box(self) -> QComboBox:
        from engine.devices import list_devices

        box = QComboBox()
        box.setToolTip("Only devices present on this machine are listed")
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(8)
        for info in list_devices():
            box.addItem(info.label, info.name)
        # A GPU, when present, is what people with one expect to train on.
        box.setCurrentIndex(box.count() - 1 if box.count() > 1 else 0)
        return box

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

    # -- values ----------------------------------------------------------------------------------

    def value(self, key: str) -> Any:
        """One field's value (by ModelConfig/TrainConfig name, or "tokenizer"/"tied")."""
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
        kwargs = {f.name: self.value(f.name) for f in fields(ModelConfig) if f.name in self._inputs}
        return ModelConfig(vocab_size=vocab, **kwargs)

    def train_config(self) -> TrainConfig:
        """The form's training settings; warm-up never exceeds the steps (min_lr: lr/10)."""
        kwargs = {f.name: self.value(f.name) for f in fields(TrainConfig) if f.name in self._inputs}
        kwargs["warmup_steps"] = min(kwargs["warmup_steps"], kwargs["steps"])
        return TrainConfig(device=self.device_name(), **kwargs)

    def apply_model(self, config: ModelConfig, tokenizer: str | None,
                    train_config: TrainConfig | None) -> None:
        """Fill the form with a model's settings (so Start retrains it)."""
        for f in fields(ModelConfig):
            if f.name in self._inputs:
                self.set_value(f.name, getattr(config, f.name))
        if tokenizer is not None:
            self.set_value("tokenizer", tokenizer)
        if train_config is not None:
            for f in fields(TrainConfig):
                if f.name in self._inputs:
                    self.set_value(f.name, getattr(train_config, f.name))
        self.validate()

    # -- validity and what can be changed ----------------------------------------------------------

    @property
    def ok(self) -> bool:
        """The settings make a run (as of the last validate)."""
        return self._ok

    def validate(self) -> bool:
        """Check the form; show the first problem inline; True when a run can start."""
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
                self._inputs[field].setStyleSheet(_ERROR_STYLE)
                if exc.field == "d_model":
                    self._inputs["n_head"].setStyleSheet(_ERROR_STYLE)
        if problem is None and not self.session.corpus_path and self.session.corpus is None:
            problem = "Open a text file (File → Open text…) to train on."
        self.error_label.setText(problem or "")
        self.error_label.setVisible(problem is not None)
        self._ok = problem is None
        self._update_enabled()
        self.changed.emit()
        return self._ok

    def continuing(self) -> bool:
        """Start continues the current model (instead of training a new one)."""
        return self._resumable and self.continue_box.isChecked()

    def set_resumable(self, available: bool) -> None:
        """Whether the session's model can continue training (the continue box)."""
        self._resumable = available
        self._update_enabled()
        self.changed.emit()

    def set_run_active(self, active: bool) -> None:
        """Grey the settings out while a run lasts."""
        self._active = active
        self._update_enabled()

    def _on_continue_toggled(self) -> None:
        self._update_enabled()
        self.changed.emit()

    def _update_enabled(self) -> None:
        self.continue_box.setEnabled(not self._active and self._resumable)
        if not self._resumable:
            self.continue_box.setChecked(False)
        self.continue_box.setToolTip(_CONTINUE_TIP if self._resumable else _NO_CONTINUE_TIP)
        self.model_box.setEnabled(not self._active and not self.continuing())
        self.train_box.setEnabled(not self._active)

    # -- language and remembered values ----------------------------------------------------------

    def set_language(self, lang: str) -> None:
        """Labels in English ("en") or Chinese ("zh")."""
        self.lang = lang
        for widget, text in self._texts:
            if isinstance(widget, QGroupBox):
                widget.setTitle(translate(text, lang))
            else:
                widget.setText(translate(text, lang))

    def save_settings(self) -> None:
        """Remember the form's values (when a run starts and when the window closes)."""
        for key in self._inputs:
            settings.write(f"training/{key}", self.value(key))
        settings.write("training/device", self.device_name())

    def _load_settings(self) -> None:
        for key, w in self._inputs.items():
            value = settings.read(f"training/{key}", self.value(key))
            if isinstance(w, QComboBox) and w.findText(str(value)) < 0:
                continue  # e.g. a tokenizer no longer available offline
            self.set_value(key, value)
        i = self.device_box.findData(settings.read("training/device", self.device_name()))
        if i >= 0:
            self.device_box.setCurrentIndex(i)
