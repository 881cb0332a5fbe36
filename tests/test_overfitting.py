"""Overfitting (issue 12, newcomer item 3): the best-validation weights are kept beside the
last, the user chooses which the session holds and Save writes, the loss plot says when
validation has risen for several evaluations, and the form suggests a model that fits the text.

The overfitting run: 300 random letters from 8 (nothing to learn beyond their frequencies) and a
model of ~50k parameters with lr 5e-3: validation loss is lowest near step 50 and rises from
there while training loss falls (about 1 s for 120 steps on one core).
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from engine.config import ModelConfig, TrainConfig
from engine.training.fit import (
    PARAMS_PER_TOKEN,
    RISES,
    SUGGESTED_DROPOUT,
    best_evaluation,
    overfitting,
    suggest,
)

MODEL = ModelConfig(vocab_size=1, d_model=64, n_head=2, n_layer=1, context_length=16, d_ff=256,
                    dropout=0.0)
TRAIN = TrainConfig(batch_size=16, steps=120, warmup_steps=5, lr=5e-3, eval_interval=10,
                    eval_batches=2, seed=1, device="cpu")
FORM = dict(tokenizer="char", d_model=64, n_head=2, n_layer=1, context_length=16, d_ff=256,
            dropout=0.0, batch_size=16, steps=120, warmup_steps=5, lr=5e-3, eval_interval=10,
            seed=1)


@pytest.fixture
def random_text(tmp_path) -> Path:
    rng = random.Random(0)
    path = tmp_path / "letters.txt"
    path.write_text("".join(rng.choice("abcdefgh") for _ in range(300)), encoding="utf-8")
    return path


def _evals(*losses: float, every: int = 100) -> list[dict]:
    rows = []
    for i, loss in enumerate(losses, start=1):
        rows.append({"step": i * every - 50, "event": "step", "train_loss": 9.0, "val_loss": None})
        rows.append({"step": i * every, "event": "eval", "train_loss": 9.0 - i, "val_loss": loss})
    return rows


# -- the rules, without Qt ----------------------------------------------------------------------


def test_overfitting_is_several_evaluations_above_the_best():
    falling = _evals(5.0, 4.0, 3.5, 3.2)
    assert overfitting(falling) is None
    assert overfitting(_evals(5.0, 4.0, 3.0, 3.1, 3.2)) is None  # two rises: not yet
    o = overfitting(_evals(5.0, 4.0, 3.0, 3.1, 3.2, 3.4, 3.5))
    assert (o.best_step, o.best_val, o.evaluations, o.last_step) == (300, 3.0, 4, 700)
    assert o.evaluations >= RISES
    # Wobbling around a plateau is not overfitting: the newest is within 1% of the best.
    assert overfitting(_evals(5.0, 3.0, 3.01, 3.005, 3.02)) is None
    assert best_evaluation(_evals(5.0, 3.0, 3.2)) == (200, 3.0)
    assert overfitting([]) is None and best_evaluation([]) is None
    # Run summaries ("done") repeat numbers and are not evaluations.
    assert overfitting(_evals(5.0, 3.0, 3.2, 3.3, 3.4)
                       + [{"step": 500, "event": "done", "val_loss": None}]).evaluations == 3


def test_the_suggestion_rule_for_the_articles_text():
    article = ModelConfig(vocab_size=2586, d_model=64, n_head=4, n_layer=8, d_ff=256,
                          dropout=0.1)
    s = suggest(20_312, article)
    assert s is not None and s.params > PARAMS_PER_TOKEN * 20_312
    assert s.changes == {"dropout": SUGGESTED_DROPOUT, "d_model": 32, "d_ff": 128, "n_layer": 4}
    assert s.config.validate().n_head == 4 and s.config_params < s.params
    # A text with enough tokens for the model: nothing to suggest.
    assert suggest(s.params // PARAMS_PER_TOKEN + 1, article, s.params) is None
    # Already small, dropout already high: the warning stays, with nothing left to change.
    tiny = ModelConfig(vocab_size=50, d_model=16, n_head=2, n_layer=1, d_ff=32,
                       dropout=0.3)
    t = suggest(10, tiny)
    assert t is not None and t.changes == {} and t.config.dropout == 0.3
    # Heads that no longer divide the halved width are reduced.
    odd = suggest(100, ModelConfig(vocab_size=50, d_model=48, n_head=16, n_layer=2, d_ff=96))
    assert odd.config.d_model == 24 and odd.config.n_head == 8 and odd.config.validate()


def test_the_run_returns_the_best_evaluations_weights(random_text, tmp_path):
    from engine.training.job import TrainingControl, TrainingRequest, training_job
    from engine.training.snapshots import SnapshotStore

    request = TrainingRequest(MODEL, TRAIN, device="cpu", corpus_path=str(random_text),
                              tokenizer="char", run_dir=str(tmp_path / "run"),
                              torch_threads=1)
    job = training_job(request, TrainingControl())
    try:
        while True:
            next(job)
    except StopIteration as stop:
        result = stop.value
    history = result.state["history"]
    best_step, best_val = best_evaluation(history)
    assert overfitting(history) is not None, "the fixture run must overfit"
    best = result.best
    assert best is not None and best.step == best_step < result.step == 120
    assert best.val_loss == best_val
    # An exact checkpoint of that step: its weights are the snapshot written at it, its
    # trainer state and history stop there.
    snapshot = SnapshotStore(tmp_path / "run" / "snapshots").load(best.step)
    for key, value in best.state["model"].items():
        np.testing.assert_array_equal(value.numpy(), snapshot[key].numpy())
    assert best.state["step"] == best.step and best.state["history"][-1]["step"] == best.step
    assert best.state["history"][-1]["val_loss"] == best.val_loss
    assert any(not np.array_equal(v.numpy(), result.state["model"][k].numpy())
               for k, v in best.state["model"].items())


# -- in the window ------------------------------------------------------------------------------


@pytest.fixture
def window(qtbot, random_text):
    from gui.app import create_app
    from gui.window import MainWindow

    create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    for key, value in FORM.items():
        w.training_panel.form.set_value(key, value)
    with qtbot.waitSignal(w.session.trace_changed, timeout=30_000):
        w.open_path(str(random_text))
    yield w
    w.close()
    w.deleteLater()
    qtbot.wait(1)


def _weights_equal(model, weights) -> bool:
    return all(np.array_equal(v.numpy(), weights[k].numpy())
               for k, v in model.state_dict().items())


def test_keeping_the_best_weights_puts_them_in_the_session_and_the_file(
        window, qtbot, tmp_path, monkeypatch):
    from engine.storage.checkpoint import load_checkpoint
    from gui import dialogs

    panel, s, run = window.training_panel, window.session, window.run
    assert not panel.keep_row.isVisibleTo(panel)
    with qtbot.waitSignal(run.started, timeout=90_000):
        assert panel.start()
    qtbot.waitUntil(lambda: run.state == "idle", timeout=60_000)
    result, best = run.last_result, run.best
    assert best is not None and best.step < result.step
    # Offered after the run, naming the step and loss; the last weights are kept until chosen.
    assert panel.keep_row.isVisibleTo(panel) and panel.keep_last.isChecked()
    assert f"step {best.step}" in panel.keep_best.text()
    assert f"{best.val_loss:.3f}" in panel.keep_best.text()
    assert "Keep the best weights" in panel.keep_best.text()
    assert _weights_equal(s.model, result.state["model"])
    assert f"step {best.step}" in panel.progress.label.text()  # the end of run says so too
    # The plot says the model overfits, and marks the best evaluation.
    plots = panel.plots
    assert plots.overfit is not None and plots.overfit.best_step == best.step
    assert plots.note.isVisible() and "Overfitting" in plots.note.toPlainText()
    assert plots.best_marker.isVisible()

    panel.keep_best.click()
    assert run.kept == "best" and _weights_equal(s.model, best.state["model"])
    assert run.last_result.state is best.state and run.last_result.step == best.step
    assert run.resumable.trainer_state["step"] == best.step and s.dirty
    # Save writes those weights, as an exact checkpoint of their step.
    target = tmp_path / "best.safetensors"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    assert window.save_model()
    ckpt = load_checkpoint(target)
    assert ckpt.step == best.step and ckpt.trainer_state["step"] == best.step
    assert ckpt.history[-1]["step"] == best.step
    assert ckpt.history[-1]["val_loss"] == best.val_loss
    assert _weights_equal(ckpt.model, best.state["model"])

    # And back: the last weights again.
    panel.keep_last.click()
    assert run.kept == "last" and _weights_equal(s.model, result.state["model"])
    assert run.last_result is result and s.dirty
    # Opening another file forgets the choice.
    run.clear_result()
    assert run.best is None and not panel.keep_row.isVisibleTo(panel)


def test_the_note_appears_after_several_rises_in_both_languages(qtbot):
    from gui import i18n
    from gui.app import create_app
    from gui.panels.training.plots import TrainingPlots
    from gui.session import Session

    create_app()
    session = Session()
    plots = TrainingPlots(session)
    qtbot.addWidget(plots)
    session.append_history(_evals(5.0, 4.0, 3.0, 3.1, 3.2))
    assert plots.overfit is None and not plots.note.isVisible()
    assert not plots.best_marker.isVisible()
    session.append_history(_evals(3.3, every=600)[1:])  # the third evaluation above the best
    session.append_history(_evals(3.5, every=700)[1:])
    assert plots.overfit.evaluations == 4
    assert plots.note.toPlainText() == "Overfitting since step 300 ★"
    assert plots.note.toolTip() == (
        "Validation loss has risen for 4 evaluations since step 300: the model is memorising "
        "the text (overfitting).")
    x, y = plots.best_marker.getData()
    assert list(x) == [300] and list(y) == [3.0]
    try:
        i18n.install("zh")
        qtbot.waitUntil(lambda: "过拟合" in plots.note.toPlainText(), timeout=5_000)
        assert "300" in plots.note.toPlainText()
        assert "300" in plots.note.toolTip() and "4" in plots.note.toolTip()
        assert "过拟合" in plots.note.toolTip()
    finally:
        i18n.install("en")
    qtbot.waitUntil(lambda: "Overfitting" in plots.note.toPlainText(), timeout=5_000)
    plots.stop()


def test_the_form_suggests_a_model_that_fits_the_text(window, qtbot):
    form = window.training_panel.form
    s = window.session
    assert s.corpus is not None and s.corpus.n_tokens == 300
    suggestion = form.suggestion
    assert suggestion is not None and form.fit_row.isVisibleTo(form)
    assert "300 tokens" in form.fit_label.text() and "expect overfitting" in form.fit_label.text()
    assert f"{suggestion.params:,} parameters" in form.fit_label.text()
    form.fit_button.click()
    assert form.value("d_model") == 32 and form.value("dropout") == pytest.approx(0.2)
    assert form.value("d_ff") == 128 and form.value("n_layer") == 1
    assert form.ok
    # Still too big for 300 tokens, but the suggestion moves on from the applied one.
    assert form.suggestion is None or form.suggestion.config.d_model <= 32
    # Enough text for a small model: no hint.
    form.set_value("d_model", 4)
    form.set_value("n_head", 1)
    form.set_value("d_ff", 4)
    assert form.suggestion is None and not form.fit_row.isVisibleTo(form)


def test_the_cli_saves_the_best_weights_beside_the_last(random_text, tmp_path, capsys):
    """`train` writes <name>.best.safetensors when the best evaluation is not the last one."""
    import json

    from engine.storage.checkpoint import load_checkpoint
    from engine.cli.commands import main

    out = tmp_path / "run" / "model.safetensors"
    out.parent.mkdir()
    code = main(["train", str(random_text), "--out", str(out), "--tokenizer", "char",
                 "--d-model", "64", "--heads", "2", "--layers", "1", "--context", "16",
                 "--ffn", "256", "--dropout", "0", "--batch", "16", "--steps", "120",
                 "--warmup", "5", "--lr", "5e-3", "--eval-interval", "10",
                 "--eval-batches", "2", "--seed", "1", "--device", "cpu", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    last = load_checkpoint(out)
    best_step, best_val = best_evaluation(last.history)
    assert summary["best_step"] == best_step < last.step == 120
    best = load_checkpoint(summary["best_checkpoint"])
    assert Path(summary["best_checkpoint"]).name == "model.best.safetensors"
    assert best.step == best_step and best.trainer_state["step"] == best_step
    assert best.history[-1]["val_loss"] == best_val == summary["best_val_loss"]
    assert best.metadata["best"] == {"step": best_step, "val_loss": best_val, "run_steps": 120}
    assert any(not np.array_equal(v.numpy(), last.model.state_dict()[k].numpy())
               for k, v in best.model.state_dict().items())
