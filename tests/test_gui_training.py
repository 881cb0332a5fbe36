"""Training from the GUI: form validation, live plots, pause/resume/stop, failures, closing.

A tiny model (char tokenizer, d_model 16, one layer) keeps every run short on 2 shared cores.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from engine.model.trace import run_trace

import training_faults
from engine.training.job import TrainingControl, TrainingRequest, training_job
from engine.training.job_messages import Records, Started, Status, Tokenizing, Weights
from gui import dialogs
from gui.workers import running_threads

TINY = dict(tokenizer="char", d_model=16, n_head=2, n_layer=1, context_length=8, d_ff=32,
            dropout=0.0, batch_size=4, warmup_steps=2, eval_interval=10, seed=7)


@pytest.fixture
def text_file(tmp_path) -> Path:
    path = tmp_path / "train.txt"
    path.write_text("the cat sat on the mat. the dog sat on the log. " * 60, encoding="utf-8")
    return path


@pytest.fixture
def window(qtbot, text_file):
    """A window with a tiny untrained model on a small text, ready to train."""
    from gui.app import create_app
    from gui.window import MainWindow

    create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    for key, value in TINY.items():
        w.training_panel.form.set_value(key, value)
    with qtbot.waitSignal(w.session.trace_changed, timeout=90_000):
        w.open_path(str(text_file))
    yield w
    w.close()
    qtbot.wait(10)
    assert not [t for t in w.findChildren(QTimer) if t.isActive()]
    assert running_threads() == []
    w.deleteLater()
    qtbot.wait(1)


def _start(window, qtbot, steps: int) -> None:
    panel = window.training_panel
    panel.form.set_value("steps", steps)
    assert panel.start_button.isEnabled()
    with qtbot.waitSignal(window.run.started, timeout=90_000):
        assert panel.start()


def _wait_idle(window, qtbot, timeout: int = 60_000) -> None:
    qtbot.waitUntil(lambda: window.run.state == "idle", timeout=timeout)


def test_a_short_run_fills_the_plots_and_updates_the_session(window, qtbot):
    panel, s = window.training_panel, window.session
    before = s.model
    _start(window, qtbot, steps=30)
    assert s.training and s.model is not before  # a fresh model for this run
    _wait_idle(window, qtbot)
    result = window.run.last_result
    assert result.outcome == "done" and result.step == 30
    assert not s.training and s.dirty
    steps = [r["step"] for r in s.history if r["event"] in ("step", "eval")]
    assert steps[-1] == 30
    assert panel.plots.loss_points() == len(steps)
    assert len(panel.plots.curve_val.getData()[0]) == 3  # evaluations at 10, 20, 30
    # The sample of the last evaluation is written off the GUI thread, from its weights.
    qtbot.waitUntil(lambda: panel.sample_view.toPlainText().startswith("step 30"),
                    timeout=10_000)
    # The session's model holds the trained weights and the trace was made from them.
    trained = result.state["model"]
    for key, value in s.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), trained[key].numpy())
    qtbot.waitUntil(lambda: not window.trace_service.pending, timeout=10_000)
    T = s.model.config.context_length
    ids = s.tokenizer.encode(s.context_text)[:T]
    np.testing.assert_array_equal(s.trace.ids[0], ids)
    np.testing.assert_array_equal(s.trace.values("logits"), run_trace(s.model, ids).values("logits"))
    assert "trained 30 steps" in window.status.step_label.text()
    assert "Save it" in panel.progress.label.text()
    # Snapshots at the start and at each evaluation feed the Training history panel, and the
    # last one holds exactly the trained weights.
    assert s.snapshots.steps() == [0, 10, 20, 30]
    assert window.history_panel.steps() == [0, 10, 20, 30]
    last = s.snapshots.load(30)
    for key, value in trained.items():
        np.testing.assert_array_equal(last[key].numpy(), value.numpy())
    last_eval = [r for r in s.history if r["val_loss"] is not None][-1]
    assert s.snapshots.metrics(30)["val_loss"] == last_eval["val_loss"]


def test_pause_resume_and_stop(window, qtbot):
    panel, s = window.training_panel, window.session
    _start(window, qtbot, steps=100_000)
    qtbot.waitUntil(lambda: panel.plots.loss_points() > 5, timeout=90_000)
    window.run.pause()
    qtbot.waitUntil(lambda: window.run.state == "paused", timeout=10_000)
    assert panel.pause_button.text() == "Resume"
    frozen = len(s.history)
    qtbot.wait(300)
    assert len(s.history) == frozen, "no steps while paused"
    # While paused, context edits are still traced (by this process, through the paused weights).
    with qtbot.waitSignal(s.trace_changed, timeout=10_000):
        window.context_edit.setPlainText("a dog")
    assert s.trace.ids.shape[1] == len("a dog")
    window.run.resume()
    qtbot.waitUntil(lambda: len(s.history) > frozen + 5, timeout=10_000)
    window.run.stop()
    _wait_idle(window, qtbot)
    assert window.run.last_result.outcome == "stopped"
    assert s.history[-1]["event"] == "stopped"
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()


def test_training_runs_in_its_own_process_and_leaves_none(window, qtbot):
    """The trainer never waits for this process's interpreter lock; no process outlives a run."""
    panel, s = window.training_panel, window.session
    _start(window, qtbot, steps=100_000)
    pid = window.run.process_id
    assert pid is not None and pid != os.getpid()
    os.kill(pid, 0)  # alive (raises if not)
    # Context edits while training are traced here, through the newest weights sent over.
    window.context_edit.setPlainText("a mat")
    qtbot.waitUntil(lambda: s.trace.ids.shape[1] == 5, timeout=10_000)
    window.run.stop()
    _wait_idle(window, qtbot)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_training_process_that_dies_leaves_the_window_and_the_weights(
        window, qtbot, monkeypatch, no_leftovers):
    from gui.run import controller

    monkeypatch.setattr(controller, "serve", training_faults.dying_serve)
    s = window.session
    shown = []  # every model the run put in the session, newest last
    s.model_changed.connect(lambda: shown.append(s.model))
    s.weights_changed.connect(lambda: shown.append(s.model))
    _start(window, qtbot, steps=100_000)
    _wait_idle(window, qtbot)
    title, message, _ = no_leftovers[0]
    assert "ended unexpectedly" in message
    assert window.isVisible() and s.model is not None
    assert window.training_panel.start_button.isEnabled()
    assert not s.training and window.run.last_result is None
    assert "ended unexpectedly" in window.training_panel.progress.label.text()
    # The process died right after sending the weights of its first evaluation (step 10), so
    # the window keeps showing exactly those: the ones written to the snapshot at step 10.
    assert s.model is shown[-1]
    assert s.snapshots.steps() == [0, 10]
    last_sent = s.snapshots.load(10)
    for key, value in s.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), last_sent[key].numpy())
    assert any(not np.array_equal(v.numpy(), s.snapshots.load(0)[k].numpy())
               for k, v in s.model.state_dict().items()), "not the initial weights"


def test_invalid_settings_are_shown_inline_and_block_start(window):
    panel = window.training_panel
    form = panel.form
    form.set_value("d_model", 30)
    form.set_value("n_head", 4)
    assert not panel.start_button.isEnabled()
    assert form.error_label.isVisibleTo(panel)
    assert "d_model" in form.error_label.text() and "n_head" in form.error_label.text()
    assert not panel.start()
    form.set_value("n_head", 3)
    assert panel.start_button.isEnabled() and not form.error_label.isVisibleTo(panel)


def test_a_diverging_run_keeps_the_window_and_the_weights(window, qtbot, monkeypatch,
                                                          no_leftovers):
    from gui.run import controller

    monkeypatch.setattr(controller, "serve", training_faults.diverging_serve)
    _start(window, qtbot, steps=50)
    _wait_idle(window, qtbot)
    result = window.run.last_result
    assert result.outcome == "diverged" and result.state is not None
    for key, value in window.session.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), result.state["model"][key].numpy())
    title, message, _ = no_leftovers[0]
    assert title == "Training diverged" and "learning rate" in message
    assert window.isVisible() and window.session.trace is not None
    assert "diverged" in window.training_panel.progress.label.text()


def test_closing_during_training_stops_and_saves(window, qtbot, monkeypatch, tmp_path):
    from engine.storage.checkpoint import load_checkpoint

    target = tmp_path / "model.safetensors"
    monkeypatch.setattr(dialogs, "ask_close_during_training", lambda parent: "save")
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    _start(window, qtbot, steps=100_000)
    qtbot.waitUntil(lambda: window.training_panel.plots.loss_points() > 3, timeout=90_000)
    window.close()
    assert not window.isVisible()
    assert running_threads() == []
    ckpt = load_checkpoint(target)
    assert ckpt.step > 0 and ckpt.trainer_state is not None
    assert ckpt.tokenizer.name == "char"


def test_the_training_job_runs_without_qt_widgets(text_file):
    """The generator behind the process: messages in order, stop honoured between steps."""
    from engine.config import ModelConfig, TrainConfig

    request = TrainingRequest(
        ModelConfig(vocab_size=1, d_model=16, n_head=2, n_layer=1, context_length=8, d_ff=32),
        TrainConfig(batch_size=4, steps=1000, warmup_steps=2, eval_interval=5, eval_batches=2),
        device="cpu", corpus_path=str(text_file), tokenizer="char", refresh_interval_s=0.0)
    control = TrainingControl()
    job = training_job(request, control)
    messages = []
    try:
        while True:
            messages.append(next(job))
            if sum(isinstance(m, Records) for m in messages) == 3:
                control.stop()
    except StopIteration as stop:
        result = stop.value
    kinds = [type(m) for m in messages]
    assert kinds[:2] == [Status, Tokenizing] and Started in kinds
    reasons = {m.reason for m in messages if isinstance(m, Weights)}
    assert reasons == {"refresh", "eval"}
    assert result.outcome == "stopped" and 0 < result.step < 1000
    assert set(result.state) >= {"model", "optimizer", "step"}


def test_the_training_job_reads_the_text_in_the_encoding_the_user_chose(tmp_path):
    """Opened with File → Open text with encoding…, the run re-reads the text the same way."""
    from engine.config import ModelConfig, TrainConfig

    path = tmp_path / "latin.txt"
    path.write_bytes(("le café où la chatte dort. " * 40).encode("cp1252"))
    request = TrainingRequest(
        ModelConfig(vocab_size=1, d_model=16, n_head=2, n_layer=1, context_length=8, d_ff=32),
        TrainConfig(batch_size=2, steps=2, warmup_steps=1, eval_interval=1, eval_batches=1),
        device="cpu", corpus_path=str(path), tokenizer="char", encoding="latin-1")
    control = TrainingControl()
    job = training_job(request, control)
    started = None
    try:
        while started is None:
            message = next(job)
            if isinstance(message, Started):
                started = message
        control.stop()
        while True:
            next(job)
    except StopIteration:
        pass
    decoding = started.corpus.decoding
    assert decoding.name == "iso8859-1" and decoding.chosen_by == "user"
    assert "é" in started.corpus.tokenizer.decode(started.corpus.train[:200])


def test_continue_training_picks_up_where_the_run_stopped(window, qtbot, tmp_path, monkeypatch):
    panel, s = window.training_panel, window.session
    assert not panel.form.continue_box.isEnabled()  # a new, untrained model has no trainer state
    assert "optimizer state" in panel.form.continue_box.toolTip()  # it says why
    _start(window, qtbot, steps=20)
    _wait_idle(window, qtbot)
    first = [dict(r) for r in s.history]
    after_20 = {k: v.clone() for k, v in s.model.state_dict().items()}
    assert panel.form.continue_box.isEnabled()
    panel.form.continue_box.setChecked(True)
    assert panel.start_button.text() == "Continue" and not panel.form.model_box.isEnabled()
    _start(window, qtbot, steps=10)  # ten more
    _wait_idle(window, qtbot)
    result = window.run.last_result
    assert result.outcome == "done" and result.step == 30
    steps = [r["step"] for r in s.history if r["event"] in ("step", "eval")]
    assert steps == sorted(steps) and steps[0] == 1 and steps[-1] == 30
    assert s.history[: len(first)] == first  # the earlier run's records are kept
    assert any(not np.array_equal(v.numpy(), after_20[k].numpy())
               for k, v in s.model.state_dict().items())
    # Saved, reopened: still continuable, from step 30.
    target = tmp_path / "continued.safetensors"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    assert window.save_model()
    with qtbot.waitSignal(s.model_changed, timeout=90_000):
        window.open_path(str(target))
    assert window.run.resumable is not None and window.run.resumable.trainer_state["step"] == 30


def test_the_form_speaks_chinese(window, qtbot):
    """A live switch (Qt posts LanguageChange to every widget) re-words the whole panel."""
    panel = window.training_panel
    window.set_language("zh")
    qtbot.waitUntil(lambda: panel.start_button.text() == "开始", timeout=5_000)
    labels = {w.text() for w in panel.findChildren(QLabel)}
    assert {"分词器", "层数", "学习率", "设备"} <= labels
    assert panel.form.model_box.title() == "模型"
    assert panel.form.value("positional") in ("sinusoidal", "learned")  # values stay
    positional = panel.form._inputs["positional"]
    assert {positional.itemText(i) for i in range(positional.count())} == {"正弦", "可学习"}
    assert panel.progress.label.text() == "未在训练。"
    assert panel.plots.loss_plot.getAxis("left").labelText == "损失"
    assert "分词器" not in panel.form.tokenizer_box.toolTip()  # a tooltip, in Chinese
    assert "分词" in panel.form.tokenizer_box.toolTip()
    window.set_language("en")
    qtbot.waitUntil(lambda: panel.start_button.text() == "Start", timeout=5_000)
    assert panel.form.model_box.title() == "Model"
    assert "learning rate" in {w.text() for w in panel.findChildren(QLabel)}
    assert panel.progress.label.text() == "Not training."
    assert panel.plots.loss_plot.getAxis("left").labelText == "loss"
