"""The training form: model and training settings, the device, and "continue training".

The fields are described once (MODEL_FIELDS, MODEL_CHOICES, TRAIN_FIELDS) and the widgets are
made from them; the form reads them back as a ModelConfig and a TrainConfig, validates them
inline (Start stays off while a setting is impossible), remembers them in the settings store
and speaks the installed language (labels and tooltips are marked with QT_TRANSLATE_NOOP and
translated when shown; a LanguageChange re-translates them).

Under the settings, a hint says when the model is too big for the text (engine.training.fit.suggest:
more than 10 parameters per token) and offers to apply a better-fitting model.
"""
from __future__ import annotations

import os

from dataclasses import fields
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import ConfigError, ModelConfig, TrainConfig
from engine.model.presets import ARCHES, PRESETS, arch_of, preset_config
from engine.training.fit import Suggestion, suggest
from engine.wording import in_language
from gui import i18n, settings
from gui.session import Session
from gui.widgets.language import Translated

from gui.panels.training.form_fields import (  # noqa: F401 (the tables, re-exported)
    ARCH_NAMES, ARCH_TIP, CHOICE_NAMES, CONTINUE, CONTINUE_TIP, CTX, KV_TIP, MODEL_CHOICES,
    MODEL_FIELDS, NO_CONTINUE_TIP, TRAIN_FIELDS)

_ERROR_STYLE = "border: 1px solid #b00020;"


def _tr(text: str) -> str:
    """A string of the field tables (form_fields) in the installed language."""
    return QCoreApplication.translate(CTX, text)


def _spin(kind: type, default: float, lo: float, hi: float) -> QSpinBox | QDoubleSpinBox:
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
    w.setMinimumWidth(64)  # below the "10,000,000" hint, so the dock can be narrow
    w.setKeyboardTracking(True)
    return w


class TrainingForm(Translated, QWidget):
    """The settings of the next run; `changed` fires when a value, the validity or the
    continue box changes."""

    changed = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._inputs: dict[str, QWidget] = {}
        # (widget, source text, what it sets): re-translated on a language switch.
        self._texts: list[tuple[QWidget, str, str]] = []
        self._ok = False
        self._active = False  # a run is active: the settings are greyed out
        self._resumable = False  # the session's model can continue training
        self._suggestion: Suggestion | None = None  # shown under the form, when there is one
        # Suggestions by config and text length: validate runs at every keystroke, and
        # counting a model's parameters costs ~20 ms.
        self._suggestions: dict[tuple, Suggestion | None] = {}

        from engine.text.tokenizers import available_tokenizers

        self.tokenizer_box = QComboBox()
        for name in available_tokenizers():  # names, the same in every language
            self.tokenizer_box.addItem(name, name)
        self._inputs["tokenizer"] = self.tokenizer_box
        self.tied_box = QCheckBox()
        self._inputs["tied"] = self.tied_box
        self.arch_box = QComboBox()
        for name in ARCHES:
            self.arch_box.addItem(name, name)  # named in _retranslate
        self._inputs["arch"] = self.arch_box
        self.kv_box = _spin(int, ModelConfig().n_head, 1, 64)  # shown for an architecture with K/V groups
        self._inputs["n_kv_head"] = self.kv_box
        self._labels: dict[str, QLabel] = {}  # each model field's label, hidden with its field
        self.model_box = self._model_box()
        self.device_box = self._device_box()
        self.train_box = self._train_box()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.hide()
        self.fit_label = QLabel()  # the model is too big for the text: what fits better
        self.fit_label.setWordWrap(True)
        self.fit_label.setStyleSheet("color: #8a5a00;")
        self.fit_button = QPushButton()
        self.fit_button.clicked.connect(self.apply_suggestion)
        self.fit_row = QWidget()
        row = QHBoxLayout(self.fit_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.fit_label, 1)
        row.addWidget(self.fit_button)
        self.fit_row.hide()
        self.continue_box = QCheckBox()

        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        for widget in (self.model_box, self.train_box, self.error_label, self.fit_row,
                       self.continue_box):
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
        # The hint counts the model's parameters with its vocabulary: a new text's model comes
        # just after its corpus (the status bar counts it), so count again then.
        session.model_changed.connect(self._update_suggestion)
        self._retranslate()  # and validate()

    # -- building --------------------------------------------------------------------------------

    def _label(self, text: str, tip: str = "") -> QLabel:
        """A field's label: `text` and `tip` are sources (translated when shown), except the
        symbols d_model and d_ff, which read the same in every language."""
        label = QLabel(text)
        if text not in ("d_model", "d_ff"):
            self._texts.append((label, text, "text"))
        if tip:
            self._texts.append((label, tip, "tip"))
        return label

    def _group(self, title: str) -> tuple[QGroupBox, QGridLayout]:
        box = QGroupBox()
        self._texts.append((box, title, "title"))
        grid = QGridLayout(box)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setVerticalSpacing(3)
        return box, grid

    def _model_box(self) -> QGroupBox:
        box, grid = self._group(QT_TRANSLATE_NOOP("TrainingForm", "Model"))
        grid.addWidget(self._label(QT_TRANSLATE_NOOP("TrainingForm", "tokenizer")), 0, 0)
        grid.addWidget(self.tokenizer_box, 0, 1, 1, 3)
        grid.addWidget(self._label(QT_TRANSLATE_NOOP("TrainingForm", "architecture"), ARCH_TIP),
                       1, 0)
        grid.addWidget(self.arch_box, 1, 1)
        self._texts.append((self.arch_box, ARCH_TIP, "tip"))
        self._labels["n_kv_head"] = self._label(QT_TRANSLATE_NOOP("TrainingForm", "K/V heads"),
                                                KV_TIP)
        grid.addWidget(self._labels["n_kv_head"], 1, 2)
        grid.addWidget(self.kv_box, 1, 3)
        self._texts.append((self.kv_box, KV_TIP, "tip"))
        cells = [(key, label, _spin(kind, d, lo, hi), tip)
                 for key, label, kind, d, lo, hi, tip in MODEL_FIELDS]
        for key, label, choices, default in MODEL_CHOICES:
            choice = QComboBox()
            for value in choices:
                choice.addItem(value, value)  # named in _retranslate
            choice.setCurrentIndex(choice.findData(default))
            cells.append((key, label, choice, ""))
        self._add_cells(grid, cells, first_row=2)
        grid.addWidget(self.tied_box, grid.rowCount(), 0, 1, 4)
        return box

    def _train_box(self) -> QGroupBox:
        box, grid = self._group(QT_TRANSLATE_NOOP("TrainingForm", "Training"))
        cells = [(key, label, _spin(kind, d, lo, hi), tip)
                 for key, label, kind, d, lo, hi, tip in TRAIN_FIELDS]
        self._add_cells(grid, cells, first_row=0)
        row = grid.rowCount()
        grid.addWidget(self._label(QT_TRANSLATE_NOOP("TrainingForm", "device")), row, 0)
        grid.addWidget(self.device_box, row, 1, 1, 3)
        return box

    def _device_box(self) -> QComboBox:
        from engine.devices import list_devices

        box = QComboBox()
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(8)
        for info in list_devices():
            box.addItem(info.label, info.name)
        # A GPU, when present, is what people with one expect to train on.
        box.setCurrentIndex(box.count() - 1 if box.count() > 1 else 0)
        return box

    def _add_cells(self, grid: QGridLayout, cells: list, first_row: int) -> None:
        """Two label/input pairs per row, so the form stays short in a narrow dock."""
        for i, (key, label, widget, tip) in enumerate(cells):
            row, col = first_row + i // 2, (i % 2) * 2
            self._labels[key] = self._label(label, tip)
            grid.addWidget(self._labels[key], row, col)
            grid.addWidget(widget, row, col + 1)
            if tip:
                self._texts.append((widget, tip, "tip"))
            self._inputs[key] = widget
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

    # -- values ----------------------------------------------------------------------------------

    def value(self, key: str) -> Any:
        """One field's value (by ModelConfig/TrainConfig name, or "tokenizer"/"tied")."""
        w = self._inputs[key]
        if isinstance(w, QComboBox):
            data = w.currentData()
            return w.currentText() if data is None else data
        if isinstance(w, QCheckBox):
            return w.isChecked()
        return w.value()

    def set_value(self, key: str, value: Any) -> None:
        """Set one form field (by ModelConfig/TrainConfig name, or "tokenizer"/"tied")."""
        w = self._inputs[key]
        if isinstance(w, QComboBox):
            if w.findData(str(value)) < 0:
                w.addItem(str(value), str(value))
            w.setCurrentIndex(w.findData(str(value)))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        else:
            w.setValue(value)

    def tokenizer_name(self) -> str:
        return self.value("tokenizer")

    def device_name(self) -> str:
        return self.device_box.currentData() or "cpu"

    def arch(self) -> str:
        """The chosen architecture (engine.model.presets)."""
        return self.value("arch")

    def model_config(self) -> ModelConfig:
        """The form's model settings (vocab_size is a placeholder until a corpus is known): the
        architecture's preset with the form's sizes and the choices it leaves free."""
        vocab = self.session.tokenizer.vocab_size if self.session.tokenizer else 1
        kwargs = {f.name: self.value(f.name) for f in fields(ModelConfig) if f.name in self._inputs}
        kv = kwargs.pop("n_kv_head")
        return preset_config(self.arch(), n_kv_head=kv if PRESETS[self.arch()].kv_heads else None,
                             vocab_size=vocab, **kwargs)

    def train_config(self) -> TrainConfig:
        """The form's training settings; warm-up never exceeds the steps (min_lr: lr/10)."""
        kwargs = {f.name: self.value(f.name) for f in fields(TrainConfig) if f.name in self._inputs}
        kwargs["warmup_steps"] = min(kwargs["warmup_steps"], kwargs["steps"])
        return TrainConfig(device=self.device_name(), **kwargs)

    def apply_model(self, config: ModelConfig, tokenizer: str | None,
                    train_config: TrainConfig | None) -> None:
        """Fill the form with a model's settings (so Start retrains it)."""
        self.set_value("arch", arch_of(config) or ARCHES[0])
        for f in fields(ModelConfig):
            if f.name in self._inputs and f.name != "n_kv_head":
                self.set_value(f.name, getattr(config, f.name))
        self.set_value("n_kv_head", config.kv_heads)
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
            # Worded by the engine, which names the field; said in the window's language.
            problem = in_language(exc, i18n.current())
            field = {"vocab_size": "tokenizer"}.get(exc.field, exc.field)
            if field in self._inputs:
                self._inputs[field].setStyleSheet(_ERROR_STYLE)
                if exc.field == "d_model":
                    self._inputs["n_head"].setStyleSheet(_ERROR_STYLE)
        if problem is None and not self.session.corpus_path and self.session.corpus is None:
            problem = self.tr("Open a text file (File → Open text…) to train on.")
        self.error_label.setText(problem or "")
        self.error_label.setVisible(problem is not None)
        self._ok = problem is None
        self._update_suggestion()
        self._update_enabled()
        self.changed.emit()
        return self._ok

    # -- does the model fit the text (engine.training.fit) --------------------------------------------------

    @property
    def suggestion(self) -> Suggestion | None:
        """What fits the open text better than the form's model, when it is too big for it."""
        return self._suggestion

    def _update_suggestion(self) -> None:
        corpus = self.session.corpus
        self._suggestion = None
        if self._ok and corpus is not None and not self.continuing():
            config = self.model_config()
            if corpus.tokenizer is not None and corpus.tokenizer.name == self.tokenizer_name():
                # The vocabulary Start will train with: the text's, not the model's before it.
                config.vocab_size = corpus.tokenizer.vocab_size
            key = (corpus.n_tokens, *sorted(config.to_dict().items()))
            if key not in self._suggestions:
                self._suggestions[key] = suggest(corpus.n_tokens, config)
            self._suggestion = self._suggestions[key]
        self._show_suggestion()

    def _show_suggestion(self) -> None:
        s = self._suggestion
        self.fit_row.setVisible(s is not None)
        if s is None:
            return
        c = s.config
        if not s.changes:  # already small, dropout already high: only more text helps
            self.fit_label.setText(self.tr(
                "This text has {tokens} tokens for {params} parameters: expect overfitting. A "
                "longer text would help.").format(tokens=f"{s.tokens:,}", params=f"{s.params:,}"))
            self.fit_button.hide()
            return
        self.fit_label.setText(self.tr(
            "This text has {tokens} tokens for {params} parameters: expect overfitting. Try "
            "dropout {dropout}, d_model {d_model} and {layers} layers (about {suggested} "
            "parameters).").format(tokens=f"{s.tokens:,}", params=f"{s.params:,}",
                                   dropout=f"{c.dropout:g}", d_model=c.d_model,
                                   layers=c.n_layer, suggested=f"{s.config_params:,}"))
        self.fit_button.show()

    def apply_suggestion(self) -> None:
        """Set the form to the suggested model (dropout, d_model, heads, d_ff, layers)."""
        s = self._suggestion
        if s is None or self._active:
            return
        for key, value in s.changes.items():
            self.set_value(key, value)
        self.validate()

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
        self._update_suggestion()  # a continued model keeps its size: nothing to suggest
        self._update_enabled()
        self.changed.emit()

    def _update_enabled(self) -> None:
        self.continue_box.setEnabled(not self._active and self._resumable)
        if not self._resumable:
            self.continue_box.setChecked(False)
        self.continue_box.setToolTip(_tr(CONTINUE_TIP if self._resumable else NO_CONTINUE_TIP))
        self.model_box.setEnabled(not self._active and not self.continuing())
        preset = PRESETS.get(self.arch(), PRESETS[ARCHES[0]])
        for key, *_ in MODEL_CHOICES:  # the parts the architecture fixes are not asked for
            self._inputs[key].setVisible(key in preset.free)
            self._labels[key].setVisible(key in preset.free)
        self.tied_box.setVisible("tied" in preset.free)
        self.kv_box.setVisible(preset.kv_heads)
        self._labels["n_kv_head"].setVisible(preset.kv_heads)
        self.train_box.setEnabled(not self._active)
        self.fit_button.setEnabled(not self._active)

    # -- language and remembered values ----------------------------------------------------------

    def _retranslate(self) -> None:
        """Every text of the form in the installed language."""
        for widget, text, what in self._texts:
            if what == "title":
                widget.setTitle(_tr(text))
            elif what == "tip":
                widget.setToolTip(_tr(text))
            else:
                widget.setText(_tr(text))
        for key, _label, _choices, _default in MODEL_CHOICES:
            box = self._inputs[key]
            for i in range(box.count()):
                value = box.itemData(i)
                box.setItemText(i, _tr(CHOICE_NAMES[value]) if value in CHOICE_NAMES else value)
        for i in range(self.arch_box.count()):
            self.arch_box.setItemText(i, _tr(ARCH_NAMES[self.arch_box.itemData(i)]))
        self.tokenizer_box.setToolTip(self.tr(
            "cl100k_base: GPT-4's BPE pieces (the articles' choice); char: one token per "
            "character"))
        self.device_box.setToolTip(self.tr("Only devices present on this machine are listed"))
        cpu = self.device_box.findData("cpu")  # the engine names it in English; GPUs by model
        if cpu >= 0:
            self.device_box.setItemText(cpu, self.tr("CPU ({0} cores)").format(os.cpu_count() or 1))
        self.tied_box.setText(self.tr("tie token table and output layer"))
        self.continue_box.setText(_tr(CONTINUE))
        self.fit_button.setText(self.tr("Apply"))
        self.fit_button.setToolTip(self.tr("Set the model to the suggested size and dropout"))
        self._show_suggestion()
        self._update_enabled()
        self.validate()  # the inline problem, in the new language

    def save_settings(self) -> None:
        """Remember the form's values (when a run starts and when the window closes)."""
        for key in self._inputs:
            settings.write(f"training/{key}", self.value(key))
        settings.write("training/device", self.device_name())

    def _load_settings(self) -> None:
        for key, w in self._inputs.items():
            value = settings.read(f"training/{key}", self.value(key))
            if isinstance(w, QComboBox) and w.findData(str(value)) < 0:
                continue  # e.g. a tokenizer no longer available offline
            self.set_value(key, value)
        i = self.device_box.findData(settings.read("training/device", self.device_name()))
        if i >= 0:
            self.device_box.setCurrentIndex(i)
