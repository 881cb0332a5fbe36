"""The Training panel: the form, Start/Pause/Stop, the run's progress, live plots, a sample.

It holds no run state: the run controller (gui.run) owns the training process and says what
happens; this panel shows it. The plots follow the session's history, which the controller
fills with the records the process sends (about five batches a second). After a run whose
best evaluation is not its last, the panel offers to keep the best weights instead of the last
(the controller's `keep`).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.config import ModelConfig, TrainConfig
from engine.training.job_messages import Started, TrainingResult
from gui import dialogs
from gui.panels.training.form import TrainingForm
from gui.panels.training.plots import TrainingPlots
from gui.panels.training.progress import RunProgress
from gui.panels.training.sample import SampleView
from gui.run import RunController, RunState, describe
from gui.session import Session
from gui.widgets.language import Translated


class TrainingPanel(Translated, QWidget):
    """Form, device, controls, progress and live plots of the run `controller` owns (a new
    controller of the session's when none is given; the window reaches it as `controller`)."""

    device_changed = Signal()  # the form's device was switched

    def __init__(self, session: Session, controller: RunController | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.controller = controller = controller or RunController(session, self)

        self.form = TrainingForm(session)
        self.start_button = QPushButton()
        self.pause_button = QPushButton()
        self.stop_button = QPushButton()
        for b in (self.start_button, self.pause_button, self.stop_button):
            b.setMinimumWidth(70)
        # After a run whose best evaluation is not its last: which weights to keep.
        self.keep_last = QRadioButton()
        self.keep_best = QRadioButton()
        self._keep_group = QButtonGroup(self)
        for b in (self.keep_last, self.keep_best):
            self._keep_group.addButton(b)
        self.keep_row = QWidget()
        self.progress = RunProgress()
        self._settings_from = None  # the followed run whose settings the form shows
        # Where the run's files are (engine.training.rundir): File → Open run opens them again.
        self.run_folder = QLabel()
        self.run_folder.setWordWrap(True)
        self.run_folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_folder.hide()
        self.plots = TrainingPlots(session)
        self.sample_title = QLabel()
        self.sample_view = SampleView()
        self._build_layout()

        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(controller.toggle_pause)
        self.stop_button.clicked.connect(controller.stop)
        self.form.changed.connect(self._update_buttons)
        self.form.device_box.currentIndexChanged.connect(self.device_changed)
        c = controller
        c.state_changed.connect(self._on_state_changed)
        c.pause_requested.connect(lambda: self.progress.say(
            lambda: self.tr("Pausing after this step…")))
        c.job_status.connect(self.progress.say)
        c.tokenizing.connect(self.progress.tokenizing)
        c.started.connect(self._on_started)
        c.progress.connect(self._on_progress)
        c.paused.connect(lambda step: self.progress.say(
            lambda: self.tr("Paused at step {step}. Resume or Stop.").format(step=f"{step:,}")))
        c.sample_ready.connect(self.sample_view.show_sample)
        c.sample_failed.connect(self.sample_view.show_failure)
        c.finished.connect(self._on_finished)
        c.failed.connect(self._on_failed)
        c.resumable_changed.connect(self._on_resumable_changed)
        c.choice_changed.connect(self._update_keep)
        c.follow_changed.connect(self._on_follow_changed)
        self.keep_best.toggled.connect(self._on_keep_toggled)
        self._on_resumable_changed()
        self._retranslate()

    def _build_layout(self) -> None:
        top = QWidget()
        v = QVBoxLayout(top)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        v.addWidget(self.form)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        v.addLayout(buttons)
        keep = QVBoxLayout(self.keep_row)
        keep.setContentsMargins(0, 0, 0, 0)
        keep.setSpacing(2)
        keep.addWidget(self.keep_last)
        keep.addWidget(self.keep_best)
        self.keep_row.hide()
        v.addWidget(self.progress)
        v.addWidget(self.run_folder)
        v.addWidget(self.keep_row)

        bottom = QWidget()
        b = QVBoxLayout(bottom)
        b.setContentsMargins(0, 0, 0, 0)
        b.addWidget(self.plots, 4)
        b.addWidget(self.sample_title)
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

    # -- what the window calls -------------------------------------------------------------------

    def start(self) -> bool:
        """Train with the form's settings on the session's text; False if refused."""
        form = self.form
        if self.controller.is_active or not form.validate():
            return False
        form.save_settings()  # remembered form values: saved when used and when closing
        if not self.controller.start(form.model_config(), form.train_config(),
                                     form.tokenizer_name(), continuing=form.continuing()):
            return False
        self.sample_view.clear()
        return True

    def tokenizer_name(self) -> str:
        """The form's tokenizer (what a text opened now is tokenized with)."""
        return self.form.tokenizer_name()

    def device_name(self) -> str:
        return self.form.device_name()

    def model_config(self) -> ModelConfig:
        """The form's model settings (vocab_size is a placeholder until a corpus is known)."""
        return self.form.model_config()

    def train_config(self) -> TrainConfig:
        return self.form.train_config()

    def apply_model_settings(self) -> None:
        """Fill the form with the settings of the model just opened (so Start retrains it).

        Not done for the bundled default model, so the form keeps the user's remembered values.
        """
        s = self.session
        if self.controller.is_active or s.model is None:
            return
        self.form.apply_model(s.model.config, s.tokenizer.name if s.tokenizer else None,
                              s.train_config)

    def keep(self, which: str) -> bool:
        """Keep the last run's "best" or "last" weights (as the choice under the buttons)."""
        return self.controller.keep(which)

    def _retranslate(self) -> None:
        """The panel's own texts in the installed language (its parts re-translate themselves)."""
        self.start_button.setToolTip(
            self.tr("Train a new model with these settings on the open text"))
        self.stop_button.setToolTip(
            self.tr("Stop after the current step; the weights so far are kept"))
        self.sample_title.setText(self.tr("Sample at the last evaluation"))
        self.keep_best.setToolTip(self.tr(
            "Validation loss was lowest at this evaluation: these weights generalise best. "
            "The session shows them and Save saves them, with their step and optimizer state."))
        self.keep_last.setToolTip(self.tr("The weights at the end of the run"))
        self._update_buttons()
        self._update_keep()
        self._show_run_folder()

    def shutdown(self) -> None:
        """Remember the form and stop the plots' timer (the window is closing; the window
        shuts the controller down)."""
        self.plots.stop()
        self.form.save_settings()

    # -- following the run -----------------------------------------------------------------------

    def _update_buttons(self) -> None:
        state = self.controller.state
        self.start_button.setEnabled(state is RunState.IDLE and self.form.ok)
        self.start_button.setText(self.tr("Continue") if self.form.continuing()
                                  else self.tr("Start"))
        self.pause_button.setEnabled(state in (RunState.RUNNING, RunState.PAUSED))
        self.pause_button.setText(self.tr("Resume") if state is RunState.PAUSED
                                  else self.tr("Pause"))
        self.stop_button.setText(self.tr("Stop"))
        self.stop_button.setEnabled(
            state in (RunState.PREPARING, RunState.RUNNING, RunState.PAUSED))

    def _on_state_changed(self, state: str) -> None:
        self.form.set_run_active(state != RunState.IDLE)
        self._update_buttons()
        if state == RunState.PREPARING:
            self.progress.busy(lambda: self.tr("Starting the training process…"))
        elif state == RunState.RUNNING:
            self.progress.resumed()  # the pace before a pause says nothing about the next one
        elif state == RunState.STOPPING:
            self.progress.say(lambda: self.tr("Stopping…"))

    def _show_run_folder(self) -> None:
        """The followed run's folder, or the one this window's run writes."""
        c = self.controller
        if c.follower is not None:
            text = self.tr("Following the run folder {0}").format(c.follower.directory)
        elif c.run_dir:
            text = self.tr("This run's folder: {0} (File → Open run opens it again)").format(
                c.run_dir)
        else:
            text = ""
        self.run_folder.setText(text)
        self.run_folder.setVisible(bool(text))

    def _on_follow_changed(self) -> None:
        follower = self.controller.follower
        if follower is not None:
            self.progress.say(follower.describe)
            if follower.has_model and self._settings_from is not follower:
                self._settings_from = follower  # once: the user may edit them afterwards
                self.apply_model_settings()
        self._show_run_folder()

    def _on_started(self, info: Started) -> None:
        self._show_run_folder()
        self.progress.steps(info.step, self.controller.total_steps)
        self.progress.say(lambda: self.tr("Training {params} parameters on {device}…").format(
            params=f"{info.params:,}", device=info.device))

    def _on_progress(self, row: dict) -> None:
        c = self.controller
        self.progress.record(row, c.total_steps, running=c.state is RunState.RUNNING)

    def _on_finished(self, result: TrainingResult | None) -> None:
        if result is None:
            return  # the process ended without a result: `failed` follows
        self.progress.say(lambda: describe(result))
        if result.error is not None:
            details = getattr(result.error, "details", None)
            if details:
                title, message = dialogs.explain(result.error)
                dialogs.show_error(self, title, message, details)
            else:
                dialogs.show_exception(self, result.error, self.tr("Training"))

    def _on_failed(self, exc: BaseException, had_started: bool) -> None:
        if had_started:
            self.progress.say(lambda: self.tr(
                "Training ended unexpectedly; the weights shown are the last ones it sent."))
        else:
            self.progress.clear(lambda: self.tr("Training could not start."))
        # Engine errors (bad file, setting, device, tokenizer) are ValueErrors with messages
        # written for people; anything else is a bug and keeps its traceback behind Details.
        if not had_started and isinstance(exc, (ValueError, OSError)):
            dialogs.show_exception(self, exc, self.tr("Starting training"))
        else:
            title, message = dialogs.explain(exc)
            dialogs.show_error(self, title, message, getattr(exc, "details", None))

    def _on_resumable_changed(self) -> None:
        self.form.set_resumable(self.controller.resumable is not None)

    # -- which weights to keep ---------------------------------------------------------------------

    def _update_keep(self) -> None:
        """Offer the choice while the last run has best weights other than its last."""
        c = self.controller
        best, result = c.best, c.run_result
        self.keep_row.setVisible(best is not None and not c.is_active)
        if best is None or result is None:
            return
        last_step = result.step
        last_loss = _last_val_loss(self.session.history, last_step)
        if last_loss is None:
            self.keep_last.setText(self.tr("Keep the last weights (step {step})").format(
                step=f"{last_step:,}"))
        else:
            self.keep_last.setText(self.tr(
                "Keep the last weights (step {step}, val loss {loss})").format(
                    step=f"{last_step:,}", loss=f"{last_loss:.3f}"))
        self.keep_best.setText(self.tr(
            "Keep the best weights (step {step}, val loss {loss})").format(
                step=f"{best.step:,}", loss=f"{best.val_loss:.3f}"))
        button = self.keep_best if c.kept == "best" else self.keep_last
        if not button.isChecked():
            for b in (self.keep_last, self.keep_best):
                b.blockSignals(True)
            button.setChecked(True)
            for b in (self.keep_last, self.keep_best):
                b.blockSignals(False)

    def _on_keep_toggled(self, best: bool) -> None:
        if not self.controller.keep("best" if best else "last"):
            self._update_keep()


def _last_val_loss(history: list[dict], step: int) -> float | None:
    """The validation loss of the evaluation at `step`, if there was one."""
    for row in reversed(history):
        if row.get("step") == step and row.get("val_loss") is not None:
            return row["val_loss"]
        if row.get("step", 0) < step:
            break
    return None
