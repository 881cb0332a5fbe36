"""The row above the attribution tabs: which position, which target token, and optionally which
second token the target is measured against (a logit difference).

The tokens offered are the model's own top guesses at that position (the trace keeps them), so
the default target is the top prediction and a "versus" token is the next one down.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from engine.model.trace import Trace
from gui.pieces import piece, trace_fits_model
from gui.session import Session
from gui.widgets.language import Translated

from .jobs import Request
from .readings import TARGET_CHOICES


def current_trace(session: Session) -> Trace | None:
    """The session's trace if it is of the session's model (between a new model and its first
    trace, the old trace has another vocabulary and shape), else None."""
    trace, model = session.trace, session.model
    if trace is None or model is None or trace.ids.shape[1] == 0:
        return None
    if trace.config is not None and trace.config != model.config:
        return None
    return trace if trace_fits_model(session) else None


class TargetBar(Translated, QWidget):
    """Position spin box, target and "versus" choices; `changed` when any of them changes."""

    changed = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._follow_last = True  # the position stays on the last token as the context grows
        self._filling = False
        # Tokens the user picked (None: the top guess, and the second for "versus"), kept
        # while the position's guesses still offer them.
        self._picked: int | None = None
        self._picked_versus: int | None = None
        self.position_label = QLabel()
        self.position_spin = QSpinBox()
        self.position_spin.setMinimum(0)
        self.position_spin.valueChanged.connect(self._on_position)
        self.target_label = QLabel()
        self.target_combo = QComboBox()
        self.target_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.target_combo.currentIndexChanged.connect(self._on_target)
        self.versus_box = QCheckBox()
        self.versus_box.toggled.connect(self._on_versus)
        self.versus_combo = QComboBox()
        self.versus_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.versus_combo.setEnabled(False)
        self.versus_combo.currentIndexChanged.connect(self._on_versus_choice)
        # Two groups side by side, or one above the other in a narrow dock (about 330 px at
        # 1366 x 768 where the combo boxes and "versus" do not fit on one line).
        self.groups = []
        for widgets in ((self.position_label, self.position_spin, self.target_label,
                         self.target_combo), (self.versus_box, self.versus_combo)):
            group = QWidget()
            row = QHBoxLayout(group)
            row.setContentsMargins(0, 0, 0, 0)
            for w in widgets:
                row.addWidget(w)
            row.addStretch(1)
            self.groups.append(group)
        self.rows = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.rows.setSpacing(2)
        for group in self.groups:
            self.rows.addWidget(group)
        self._retranslate()

    def _retranslate(self) -> None:
        self.position_label.setText(self.tr("Position:"))
        self.position_spin.setToolTip(self.tr("The position whose next-token logit is explained "
                                              "(the last one by default)"))
        self.target_label.setText(self.tr("Target:"))
        self.target_combo.setToolTip(self.tr("The token whose logit is split (the model's top "
                                             "guesses at this position, most likely first)"))
        self.versus_box.setText(self.tr("versus"))
        self.versus_box.setToolTip(self.tr("Explain the logit difference target − this token "
                                           "instead of the target's logit alone"))
        self._fill()

    # -- public ---------------------------------------------------------------------------------
    def request(self) -> Request | None:
        """The position and tokens chosen, or None without a trace."""
        if current_trace(self.session) is None:
            return None
        target = self.target_combo.currentData()
        versus = self.versus_combo.currentData() if self.versus_box.isChecked() else None
        if versus is not None and versus == target:
            versus = None
        return Request(position=self.position_spin.value(), target=target, versus=versus)

    def set_position(self, position: int) -> None:
        self.position_spin.setValue(position)

    def set_target(self, token: int) -> None:
        """Choose `token` as the target (it must be one of the guesses offered)."""
        self.target_combo.setCurrentIndex(self.target_combo.findData(token))

    def set_versus(self, token: int | None) -> None:
        """Measure against `token` (one of the guesses offered), or against nothing."""
        if token is None:
            self.versus_box.setChecked(False)
            return
        self.versus_combo.setCurrentIndex(self.versus_combo.findData(token))
        self.versus_box.setChecked(True)

    def choices(self) -> list[int]:
        """The token ids offered, most likely first."""
        return [self.target_combo.itemData(i) for i in range(self.target_combo.count())]

    def on_trace_changed(self) -> None:
        """A new context (or model): the positions it has, and its guesses at the chosen one."""
        trace = current_trace(self.session)
        T = trace.ids.shape[1] if trace is not None else 0
        self._filling = True
        try:
            self.position_spin.setMaximum(max(T - 1, 0))
            if self._follow_last:
                self.position_spin.setValue(max(T - 1, 0))
        finally:
            self._filling = False
        self._fill()

    # -- layout ---------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        needed = sum(g.sizeHint().width() for g in self.groups) + 8
        wide = event.size().width() >= needed
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self.rows.direction() != direction:
            self.rows.setDirection(direction)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """As narrow as the wider group (the second can go under the first)."""
        hint = super().minimumSizeHint()
        hint.setWidth(max(g.minimumSizeHint().width() for g in self.groups))
        return hint

    # -- internals ------------------------------------------------------------------------------
    def _on_position(self, value: int) -> None:
        if self._filling:
            return
        self._follow_last = value == self.position_spin.maximum()
        self._fill()
        self.changed.emit()

    def _on_versus(self, on: bool) -> None:
        self.versus_combo.setEnabled(on)
        if not self._filling:
            self.changed.emit()

    def _on_target(self, index: int) -> None:
        if not self._filling:
            self._picked = self.target_combo.itemData(index) if index > 0 else None
            self.changed.emit()

    def _on_versus_choice(self, index: int) -> None:
        if not self._filling:
            self._picked_versus = self.versus_combo.itemData(index) if index != 1 else None
            if self.versus_box.isChecked():
                self.changed.emit()

    def _fill(self) -> None:
        """The guesses at the chosen position, keeping the tokens chosen where still offered."""
        s, trace = self.session, current_trace(self.session)
        self._filling = True
        try:
            self.target_combo.clear()
            self.versus_combo.clear()
            if trace is None or trace.top_ids is None or s.tokenizer is None:
                return
            t = min(self.position_spin.value(), trace.ids.shape[1] - 1)
            ids = trace.top_ids[0, t, :TARGET_CHOICES].tolist()
            probs = trace.top_probs[0, t, :TARGET_CHOICES].tolist()
            for i, (tid, p) in enumerate(zip(ids, probs)):
                text = self.tr("{0}  {1:.1%}").format(repr(piece(s.tokenizer, tid)), p)
                self.target_combo.addItem(text, tid)
                self.versus_combo.addItem(text, tid)
            found = self.target_combo.findData(self._picked) if self._picked is not None else 0
            self.target_combo.setCurrentIndex(max(found, 0))
            fallback = 1 if self.versus_combo.count() > 1 else 0
            found = self.versus_combo.findData(self._picked_versus) \
                if self._picked_versus is not None else -1
            self.versus_combo.setCurrentIndex(found if found >= 0 else fallback)
        finally:
            self._filling = False
