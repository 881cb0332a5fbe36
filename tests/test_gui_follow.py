"""File → Open run: the window follows a run directory written by another process, live; the
window's own runs write the same directories, which it can open again afterwards."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from engine.model.decoder import new_model
from engine.training.rundir import RECORDS, SNAPSHOTS
from engine.training.runreader import RunReader
from engine.training.snapshots import SnapshotStore
from engine.model.trace import run_trace
from gui import dialogs, settings
from gui.workers import running_threads

HERE = Path(__file__).parent
REPO = HERE.parent
TINY = dict(tokenizer="char", d_model=16, n_head=2, n_layer=1, context_length=8, d_ff=32,
            dropout=0.0, batch_size=4, warmup_steps=2, eval_interval=10, seed=7)


@pytest.fixture
def window(qtbot):
    from gui.app import create_app
    from gui.window import MainWindow

    create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    yield w
    w.close()
    qtbot.wait(10)
    assert not [t for t in w.findChildren(QTimer) if t.isActive()]
    assert running_threads() == []
    w.deleteLater()
    qtbot.wait(1)


def _process(*args: str) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / RECORDS).read_text().splitlines()]


def _same_weights(model, state) -> None:
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy(), err_msg=key)


def _traced_from_current_model(window, qtbot) -> None:
    s = window.session
    qtbot.waitUntil(lambda: not window.trace_service.pending and s.trace is not None
                    and np.array_equal(s.trace.values("logits"),
                                       run_trace(s.model, s.context_ids()).values("logits")),
                    timeout=20_000)


def test_the_window_follows_a_run_another_process_writes(window, qtbot, tmp_path):
    run, go = tmp_path / "run", tmp_path / "go"
    writer = _process(str(HERE / "run_writer_script.py"), str(run), str(go))
    try:
        qtbot.waitUntil(lambda: (run / "phase1").exists(), timeout=60_000)
        s, follower_ready = window.session, window.open_run(str(run))
        assert follower_ready and window.run.follower is not None
        follower = window.run.follower
        # Phase 1 arrives: ten records in the plots, two snapshots in the history, and the
        # newest snapshot's weights are the model every panel traces.
        qtbot.waitUntil(lambda: len(s.history) == 10 and window.history_panel.steps() == [0, 10]
                        and follower.has_model, timeout=20_000)
        plots = window.training_panel.plots
        assert plots.loss_points() == 10
        assert len(plots.curve_val.getData()[0]) == 1
        from run_writer_script import model_config
        cfg = model_config(s.tokenizer.vocab_size)
        _same_weights(s.model, new_model(cfg, 10).state_dict())
        window.context_box.set_text("the cat sat on the mat")
        _traced_from_current_model(window, qtbot)
        assert "following run run" in window.windowTitle()
        assert "Following run run" in window.statusBar().currentMessage()
        assert str(run) in window.training_panel.run_folder.text()
        # Phase 2, with a line written in two halves: it is read once whole, never half.
        go.write_text("go")
        qtbot.waitUntil(lambda: follower.ended, timeout=90_000)
        assert writer.wait(30) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert s.history == _rows(run) and [r["step"] for r in s.history] == list(range(1, 21))
    assert plots.loss_points() == 20 and len(plots.curve_val.getData()[0]) == 2
    qtbot.waitUntil(lambda: window.history_panel.steps() == [0, 10, 20], timeout=10_000)
    _same_weights(s.model, new_model(cfg, 20).state_dict())
    _traced_from_current_model(window, qtbot)
    assert "(ended)" in window.windowTitle()
    assert "has ended (finished) at step 20" in window.statusBar().currentMessage()
    # Scrubbing the History panel shows a snapshot of the followed run.
    window.history_panel.set_step(0)
    qtbot.waitUntil(lambda: window.history_panel.current_step() == 0, timeout=20_000)


def test_following_a_cli_run_as_it_trains(window, qtbot, tmp_path):
    """Records and a snapshot's model are shown while the CLI is still training (no end.json
    yet, the process alive); then Ctrl+C ends the run and the window has all of it."""
    text = tmp_path / "cat.txt"
    text.write_text("the cat sat on the mat. the dog sat on the log. " * 60, encoding="utf-8")
    run = tmp_path / "cli-run"
    cli = _process("-m", "engine.cli", "train", str(text), "--out", str(run), "--steps",
                   "1000000", "--eval-interval", "20", "--eval-batches", "2", "--tokenizer",
                   "char", "--d-model", "16", "--heads", "2", "--layers", "1", "--context", "8",
                   "--ffn", "32", "--batch", "4", "--device", "cpu")
    seen_live = []
    try:
        qtbot.waitUntil(lambda: (run / "run.json").exists(), timeout=60_000)
        assert window.open_run(str(run))
        follower, s = window.run.follower, window.session

        def shown_while_training() -> bool:
            if not (s.history and follower.has_model):
                return False
            # Asked after what the window shows: the run was still going when it showed it.
            live = cli.poll() is None and not (run / "end.json").exists()
            seen_live.append((live, len(s.history), follower.step))
            return True

        qtbot.waitUntil(shown_while_training, timeout=120_000)
        assert seen_live[-1][0], "the window showed the run only after it had ended"
        assert not follower.ended
        # More arrives while it trains: a later poll shows more records, still not ended.
        first = seen_live[-1][1]
        qtbot.waitUntil(lambda: len(s.history) > first, timeout=60_000)
        assert cli.poll() is None and not follower.ended
        cli.send_signal(signal.SIGINT)
        qtbot.waitUntil(lambda: follower.ended, timeout=120_000)
        assert cli.wait(60) in (0, 130), cli.stderr.read().decode()
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert follower.end["outcome"] == "stopped"
    assert s.history == _rows(run) and len(s.history) > first
    store = SnapshotStore(run / SNAPSHOTS)
    qtbot.waitUntil(lambda: window.history_panel.steps() == store.steps(), timeout=10_000)
    _same_weights(s.model, store.load(store.steps()[-1]))
    assert RunReader(run).checkpoint(follower.end) == run / "model.safetensors"


def test_the_windows_own_run_writes_a_run_directory_it_can_open_again(window, qtbot, tmp_path):
    text = tmp_path / "train.txt"
    text.write_text("the cat sat on the mat. the dog sat on the log. " * 60, encoding="utf-8")
    panel = window.training_panel
    for key, value in TINY.items():
        panel.form.set_value(key, value)
    with qtbot.waitSignal(window.session.trace_changed, timeout=90_000):
        window.open_path(str(text))
    panel.form.set_value("steps", 20)
    with qtbot.waitSignal(window.run.started, timeout=90_000):
        assert panel.start()
    qtbot.waitUntil(lambda: window.run.state == "idle", timeout=60_000)
    run = Path(window.run.run_dir)
    assert run.parent == Path(settings.read("paths/runs_folder", ""))
    assert str(run) in panel.run_folder.text()
    s = window.session
    trained_history, trained = list(s.history), window.run.last_result.state["model"]
    assert _rows(run) == trained_history
    assert SnapshotStore(run / SNAPSHOTS).steps() == [0, 10, 20]
    assert (run / "model.safetensors").is_file()
    # Another model, then the run again: File → Open run reads what the window wrote.
    other = tmp_path / "other.txt"
    other.write_text("a different text altogether, with other letters: xyzqv! " * 20)
    with qtbot.waitSignal(s.trace_changed, timeout=90_000):
        window.open_path(str(other))
    assert s.history == []
    assert window.open_run(str(run))
    qtbot.waitUntil(lambda: window.run.follower.ended and window.run.follower.has_model,
                    timeout=20_000)
    assert s.history == trained_history
    _same_weights(s.model, trained)
    assert window.history_panel.steps() == [0, 10, 20]
    assert settings.read("paths/last_run_dir", "") == str(run.absolute())


def test_a_folder_that_is_not_a_run_gets_a_message_and_opening_a_model_stops_following(
        window, qtbot, tmp_path, no_leftovers):
    assert not window.open_run(str(tmp_path))
    title, message, _ = no_leftovers[-1]
    assert title == "Not a training run" and "records.jsonl" in message
    assert window.run.follower is None
    run, go = tmp_path / "run", tmp_path / "go"
    writer = _process(str(HERE / "run_writer_script.py"), str(run), str(go))
    try:
        qtbot.waitUntil(lambda: (run / "phase1").exists(), timeout=60_000)
        window.open_path(str(run))  # a run folder dropped or picked from the recent list
        assert window.run.follower is not None
        qtbot.waitUntil(lambda: window.run.follower.has_model, timeout=20_000)
        text = tmp_path / "t.txt"
        text.write_text("the cat sat on the mat. " * 40)
        for key, value in {**TINY, "d_model": 32}.items():
            window.training_panel.form.set_value(key, value)
        window.open_path(str(text))
        qtbot.waitUntil(lambda: window.session.corpus_path == str(text), timeout=90_000)
        assert window.run.follower is None and "following" not in window.windowTitle()
        assert window.session.history == [] and window.session.model.config.d_model == 32
        go.write_text("go")
        assert writer.wait(30) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()


def test_the_folder_dialog_starts_at_the_last_run(window, monkeypatch, tmp_path):
    settings.write("paths/last_run_dir", str(tmp_path))
    asked = []
    monkeypatch.setattr(dialogs, "ask_directory",
                        lambda parent, title, start: asked.append(start) or "")
    window.actions_.open_run.trigger()
    assert asked == [str(tmp_path)]
    assert window.actions_.open_run.shortcut().toString() == "Ctrl+Shift+R"


def test_a_run_without_snapshots_shows_its_loss_curves_and_says_why(window, qtbot, tmp_path):
    from engine.config import TrainConfig
    from engine.training.rundir import RunWriter, run_configs
    from engine.text.tokenizers import build_tokenizer
    from run_writer_script import TEXT, model_config, record

    tok = build_tokenizer("char", TEXT)
    cfg = model_config(tok.vocab_size)
    run = tmp_path / "young"
    writer = RunWriter(run)
    writer.start(run_configs(cfg, TrainConfig(steps=50), tok, None, source="test"))
    writer.records([record(s) for s in range(1, 6)])
    assert window.open_run(str(run))
    follower = window.run.follower
    plots = window.training_panel.plots
    qtbot.waitUntil(lambda: plots.loss_points() == 5, timeout=20_000)
    assert not follower.has_model and window.session.model is None
    assert "no snapshots yet" in window.statusBar().currentMessage()
    assert "no snapshots yet" in window.training_panel.progress.label.text()
    assert window.history_panel.steps() == []
    writer.snapshot(5, new_model(cfg, 5).state_dict(), {"step": 5})
    qtbot.waitUntil(lambda: follower.has_model, timeout=20_000)
    _same_weights(window.session.model, new_model(cfg, 5).state_dict())
    # The form shows the run's settings, so Start trains a model like it.
    assert window.training_panel.form.model_config().d_model == 16
    assert window.training_panel.tokenizer_name() == "char"
    assert "step 5" in window.statusBar().currentMessage()


def test_following_a_two_rank_torchrun_run(window, qtbot, tmp_path):
    """#10's promise end to end: the README's torchrun command on this machine, followed live;
    rank 0 alone writes the run directory, which says how many ranks trained it."""
    text = tmp_path / "cat.txt"
    text.write_text("the cat sat on the mat. the dog sat on the log. " * 60, encoding="utf-8")
    run = tmp_path / "torchrun-run"
    torchrun = Path(sys.executable).with_name("torchrun")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "engine.cli", "train",
         str(text), "--out", str(run), "--steps", "60", "--eval-interval", "20",
         "--eval-batches", "2", "--tokenizer", "char", "--d-model", "16", "--heads", "2",
         "--layers", "1", "--context", "8", "--ffn", "32", "--batch", "4", "--device", "cpu"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        qtbot.waitUntil(lambda: (run / "run.json").exists(), timeout=120_000)
        assert window.open_run(str(run))
        follower = window.run.follower
        qtbot.waitUntil(lambda: follower.ended, timeout=180_000)
        assert proc.wait(60) == 0, proc.stderr.read().decode()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert json.loads((run / "run.json").read_text())["world_size"] == 2
    s = window.session
    assert s.history == _rows(run) and s.history[-1]["step"] == 60
    store = SnapshotStore(run / SNAPSHOTS)
    qtbot.waitUntil(lambda: window.history_panel.steps() == store.steps() == [0, 20, 40, 60],
                    timeout=20_000)
    _same_weights(s.model, store.load(60))
