"""The run controller without widgets, and the typed messages it speaks with the process.

A tiny model (char tokenizer, d_model 16, one layer) keeps every run short on 2 shared cores.
"""
from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pytest

from engine.config import ModelConfig, TrainConfig
from engine.training.job import TrainingControl
from engine.training.job_messages import (
    Pause,
    Records,
    Resume,
    SetRefreshInterval,
    Started,
    Stop,
    TrainingResult,
    Weights,
)

MODEL = ModelConfig(vocab_size=1, d_model=16, n_head=2, n_layer=1, context_length=8, d_ff=32,
                    dropout=0.0)


def _train(steps: int) -> TrainConfig:
    return TrainConfig(batch_size=4, steps=steps, warmup_steps=2, eval_interval=10,
                       eval_batches=2, seed=7, device="cpu")


@pytest.fixture
def text_file(tmp_path) -> Path:
    path = tmp_path / "train.txt"
    path.write_text("the cat sat on the mat. the dog sat on the log. " * 60, encoding="utf-8")
    return path


@pytest.fixture
def run(qtbot, text_file):
    """A controller over a session that holds a text and no model yet."""
    from gui.run import RunController
    from gui.session import Session

    session = Session()
    session.set_corpus(str(text_file), None)
    controller = RunController(session)
    states: list[str] = []
    controller.state_changed.connect(states.append)
    controller.states = states  # type: ignore[attr-defined] - what the test saw, in order
    yield controller
    controller.shutdown()
    assert not controller.is_active


def _start(run, qtbot, steps: int, continuing: bool = False) -> None:
    with qtbot.waitSignal(run.started, timeout=90_000):
        assert run.start(MODEL, _train(steps), "char", continuing=continuing)


def _finish(run, qtbot) -> TrainingResult:
    with qtbot.waitSignal(run.finished, timeout=60_000) as blocker:
        pass
    return blocker.args[0]


def test_a_tiny_run_ends_with_its_result_in_the_session(run, qtbot):
    s = run.session
    assert run.state == "idle" and run.resumable is None and run.last_result is None
    _start(run, qtbot, steps=20)
    assert s.training and run.is_active and run.total_steps == 20
    assert s.model is not None and s.tokenizer.name == "char"
    assert s.corpus is not None  # tokenized by the run, handed to the session
    result = _finish(run, qtbot)
    assert result is run.last_result
    assert result.outcome == "done" and result.step == 20
    assert run.states == ["preparing", "running", "idle"]
    assert not s.training and not run.is_active and s.dirty
    assert s.train_config == result.train_config
    assert [r["step"] for r in s.history if r["event"] in ("step", "eval")][-1] == 20
    # The session shows the trained weights, and the model can keep training from them.
    for key, value in s.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), result.state["model"][key].numpy())
    assert run.resumable is not None and run.resumable.trainer_state["step"] == 20
    assert s.snapshots.steps() == [0, 10, 20]
    run.clear_result()
    assert run.last_result is None


def test_pause_resume_stop_and_the_states_between(run, qtbot):
    s = run.session
    _start(run, qtbot, steps=100_000)
    assert not run.start(MODEL, _train(10), "char"), "one run at a time"
    qtbot.waitUntil(lambda: len(s.history) > 5, timeout=30_000)
    with qtbot.waitSignal(run.paused, timeout=10_000):
        run.toggle_pause()
    assert run.state == "paused"
    frozen = len(s.history)
    qtbot.wait(300)
    assert len(s.history) == frozen, "no steps while paused"
    run.toggle_pause()
    assert run.state == "running"
    qtbot.waitUntil(lambda: len(s.history) > frozen + 5, timeout=10_000)
    run.stop()
    assert run.state == "stopping"
    result = _finish(run, qtbot)
    assert result.outcome == "stopped" and 0 < result.step < 100_000
    assert run.states == ["preparing", "running", "paused", "running", "stopping", "idle"]
    assert s.history[-1]["event"] == "stopped"
    assert run.process_id is None


def test_continuing_counts_the_steps_as_more_steps(run, qtbot):
    _start(run, qtbot, steps=10)
    _finish(run, qtbot)
    _start(run, qtbot, steps=5, continuing=True)
    assert run.total_steps == 15
    result = _finish(run, qtbot)
    assert result.outcome == "done" and result.step == 15


def test_the_newest_sample_arrives_for_an_evaluation(run, qtbot):
    with qtbot.waitSignal(run.sample_ready, timeout=60_000) as blocker:
        _start(run, qtbot, steps=20)
    sample = blocker.args[0]
    assert sample.step in (10, 20) and isinstance(sample.text, str) and sample.s_per_token > 0
    _finish(run, qtbot)


def test_a_process_that_cannot_start_says_so(run, qtbot, tmp_path):
    run.session.set_corpus(str(tmp_path / "missing.txt"), None)
    with qtbot.waitSignal(run.failed, timeout=60_000) as blocker:
        assert run.start(MODEL, _train(10), "char")
    exc, had_started = blocker.args
    assert not had_started and isinstance(exc, (OSError, ValueError))
    assert run.state == "idle" and run.last_result is None and not run.session.training


# -- the messages, without Qt ------------------------------------------------------------------


def test_requests_are_applied_by_type():
    control = TrainingControl()
    control.apply(Pause())
    assert control.paused
    control.apply(Resume())
    assert not control.paused
    control.apply(SetRefreshInterval(3.5))
    assert control.refresh_interval_s == 3.5
    control.apply(Stop())
    assert control.stopped
    with pytest.raises(TypeError):
        control.apply(("pause",))  # the old tuple protocol is gone


def test_messages_are_frozen_and_cross_a_process_boundary():
    records = Records([{"step": 1, "event": "step"}])
    with pytest.raises(FrozenInstanceError):
        records.rows = []  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(records)) == records
    result = TrainingResult("stopped", step=3, error=ValueError("x"))
    back = pickle.loads(pickle.dumps(result))
    assert back.outcome == "stopped" and back.step == 3 and str(back.error) == "x"


def test_the_relay_builds_only_the_models_someone_uses():
    import torch

    from engine.model.decoder import new_model
    from engine.text.tokenizers import build_tokenizer
    from gui.run.relay import ModelBuilder, StartedModel, WeightsModel

    config = MODEL.validate()
    weights = {k: v.clone() for k, v in new_model(config, 1).state_dict().items()}
    build = ModelBuilder()
    started = build(Started(config, build_tokenizer("char", "ab"), 0, [], None, "cpu", 1,
                            _train(1), weights))
    assert isinstance(started, StartedModel) and not started.model.training
    hidden = build(Weights(3, weights, "refresh", False))
    assert isinstance(hidden, WeightsModel) and hidden.model is None
    for reason, show in (("refresh", True), ("eval", False)):
        built = build(Weights(5, weights, reason, show)).model
        assert all(torch.equal(built.state_dict()[k], v) for k, v in weights.items())
    other = Records([])
    assert build(other) is other


def test_pacing_follows_the_measured_costs():
    from gui.run import pacing

    assert pacing.refresh_interval(0.0) == pacing.MIN_REFRESH_S
    assert pacing.refresh_interval(0.2) == pytest.approx(0.2 / pacing.REFRESH_DUTY)
    assert pacing.refresh_interval(100.0) == pacing.MAX_REFRESH_S
    assert pacing.sample_tokens(0.0, 1.0) == pacing.SAMPLE_TOKENS  # nothing measured yet
    assert pacing.sample_tokens(0.01, 1.0) == pacing.MIN_SAMPLE_TOKENS  # 5 tokens' budget
    assert pacing.sample_tokens(0.001, 100.0) == pacing.SAMPLE_TOKENS
