"""The generation panel's controls: the prompt, the sampling settings (temperature, top-k,
top-p, seed) and Step / Run / Stop / Clear."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from gui.widgets.language import Translated


class SamplingForm(Translated, QWidget):
    """Two rows: the prompt, then the sampling settings and the buttons; the panel connects
    to the widgets."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.prompt_edit = QLineEdit()

        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.0, 5.0)
        self.temperature_spin.setSingleStep(0.1)
        self.temperature_spin.setDecimals(2)
        self.temperature_spin.setValue(1.0)
        self.top_k_spin = QSpinBox()
        self.top_k_spin.setRange(0, 1_000_000)
        self.top_p_spin = QDoubleSpinBox()
        self.top_p_spin.setRange(0.01, 1.0)
        self.top_p_spin.setSingleStep(0.05)
        self.top_p_spin.setDecimals(2)
        self.top_p_spin.setValue(1.0)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(0)
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 5000)
        self.count_spin.setValue(50)

        self.step_button = QPushButton()
        self.run_button = QPushButton()
        self.stop_button = QPushButton()
        self.clear_button = QPushButton()

        self.prompt_label = QLabel()
        prompt_row = QHBoxLayout()
        prompt_row.addWidget(self.prompt_label)
        prompt_row.addWidget(self.prompt_edit, 1)
        self.temperature_label, self.seed_label, self.tokens_label = QLabel(), QLabel(), QLabel()
        controls = QHBoxLayout()
        # top-k and top-p are names, the same in every language.
        for label, w in ((self.temperature_label, self.temperature_spin),
                         (QLabel("top-k"), self.top_k_spin),
                         (QLabel("top-p"), self.top_p_spin),
                         (self.seed_label, self.seed_spin)):
            controls.addWidget(label)
            controls.addWidget(w)
            controls.addSpacing(6)
        controls.addStretch(1)
        # The buttons on a row of their own: beside the settings they were pushed out of a
        # 600 px dock (the default layout at 1366 x 768).
        actions = QHBoxLayout()
        actions.addWidget(self.step_button)
        actions.addWidget(self.run_button)
        actions.addWidget(self.count_spin)
        actions.addWidget(self.tokens_label)
        actions.addSpacing(6)
        actions.addWidget(self.stop_button)
        actions.addWidget(self.clear_button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(prompt_row)
        layout.addLayout(controls)
        layout.addLayout(actions)
        self._retranslate()

    def _retranslate(self) -> None:
        """Every text of the form in the current language."""
        self.prompt_label.setText(self.tr("Prompt:"))
        self.prompt_edit.setPlaceholderText(self.tr("Type a prompt (empty: start from a newline)"))
        self.temperature_label.setText(self.tr("Temperature"))
        self.temperature_spin.setSpecialValueText(self.tr("0 (greedy)"))
        self.temperature_spin.setToolTip(self.tr(
            "Logits are divided by the temperature before the softmax: below 1 sharpens the "
            "distribution, above 1 flattens it, 0 always takes the most likely token."))
        self.top_k_spin.setSpecialValueText(self.tr("off"))
        self.top_k_spin.setToolTip(self.tr("Keep only the k most likely tokens (off: keep all)."))
        self.top_p_spin.setToolTip(self.tr(
            "Nucleus sampling: keep the smallest set of tokens whose probabilities add up to p "
            "(1.00: keep all)."))
        self.seed_label.setText(self.tr("Seed"))
        self.seed_spin.setToolTip(self.tr(
            "The same seed, prompt and settings give the same text, one Step at a time or in a "
            "Run."))
        self.count_spin.setToolTip(self.tr("Tokens added by Run"))
        self.tokens_label.setText(self.tr("tokens"))
        self.step_button.setText(self.tr("Step"))
        self.step_button.setToolTip(self.tr("Add one token"))
        self.run_button.setText(self.tr("Run"))
        self.run_button.setToolTip(self.tr("Add as many tokens as the box beside it says"))
        self.stop_button.setText(self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop the Run after the token being drawn"))
        self.clear_button.setText(self.tr("Clear"))
        self.clear_button.setToolTip(self.tr(
            "Forget the generated text and start again from the prompt"))

    def sampling(self) -> dict:
        """The current temperature / top_k / top_p as engine.model.sample arguments."""
        k = self.top_k_spin.value()
        p = self.top_p_spin.value()
        return {
            "temperature": float(self.temperature_spin.value()),
            "top_k": int(k) if k > 0 else None,
            "top_p": float(p) if p < 1.0 else None,
        }

    def set_busy(self, has_model: bool, sampling: bool) -> None:
        """Step / Run / Clear need a model and no tokens being drawn; Stop needs a run."""
        ready = has_model and not sampling
        self.step_button.setEnabled(ready)
        self.run_button.setEnabled(ready)
        self.clear_button.setEnabled(ready)
        self.stop_button.setEnabled(sampling)
