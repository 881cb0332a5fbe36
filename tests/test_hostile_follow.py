"""A followed run cannot be stopped, nor the window hung, by what is in its folder (issue 21,
failures 4 and 5): a bad records line or a bad snapshot is skipped and counted while the rest
is shown, and a FIFO (or any file that is not a regular one) is refused before it is opened,
by the follower, `info` and `train --out`.

Every read that could hang runs on a daemon thread (or in a child process) with a deadline,
so today's code fails these tests instead of hanging the suite.
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from engine.config import TrainConfig
from engine.model.decoder import new_model
from engine.storage.imports import open_model
from engine.storage.checkpoint import CheckpointError
from engine.text.tokenizers import build_tokenizer
from engine.training.rundir import END, RECORDS, SNAPSHOTS, RunWriter, run_configs
from engine.training.runreader import RunReader
from gui.workers import running_threads
from run_writer_script import TEXT, model_config, record

REPO = Path(__file__).resolve().parents[1]
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


def _within(seconds: float, func, *args):
    """func(*args) on a daemon thread; its result (or its exception, raised here), or a
    failure if it has not returned."""
    out: list = []

    def call() -> None:
        try:
            out.append((True, func(*args)))
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            out.append((False, e))

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{func.__name__} still blocked after {seconds} s"
    ok, value = out[0]
    if not ok:
        raise value
    return value


def _run(folder: Path) -> tuple[RunWriter, object]:
    tok = build_tokenizer("char", TEXT)
    cfg = model_config(tok.vocab_size)
    writer = RunWriter(folder)
    writer.start(run_configs(cfg, TrainConfig(steps=50), tok, None, source="test"))
    return writer, cfg


def _header_only(path: Path, header) -> None:
    """A file named as a snapshot whose header is `header` (JSON), with no data after it."""
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)


def test_a_records_line_of_100000_brackets_is_skipped_and_counted(tmp_path):
    """Today: RecursionError out of RunReader.poll(), on every poll, for good."""
    run = tmp_path / "run"
    writer, _ = _run(run)
    writer.records([record(1)])
    with open(run / RECORDS, "a") as f:
        f.write("[" * 100_000 + "\n")
        f.write("[1, 2]\n")  # JSON, but not a record
    writer.records([record(2), record(3)])
    reader = RunReader(run)
    update = reader.poll()
    assert [r["step"] for r in update.records] == [1, 2, 3]
    assert update.bad_lines == 2 == reader.bad_lines


@pytest.mark.parametrize("header", [
    [1, 2, 3],
    {"w": {"dtype": "F32", "shape": [1], "data_offsets": 5}},
    {"w": {"dtype": "F32", "shape": [1], "data_offsets": ["0", 4]}},
    {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "v": 7},
    {"w": "not a tensor"},
])
def test_a_snapshot_with_a_bad_header_is_skipped_and_counted(tmp_path, header):
    """Today: AttributeError or TypeError out of poll(), and the run was never shown."""
    run = tmp_path / "run"
    writer, cfg = _run(run)
    writer.snapshot(0, new_model(cfg, 0).state_dict(), {"step": 0})
    _header_only(run / SNAPSHOTS / "step_000005.safetensors", header)
    writer.records([record(1)])
    reader = RunReader(run)
    update = reader.poll()
    assert update.snapshots == [0] and [r["step"] for r in update.records] == [1]
    assert update.bad_snapshots == 1
    # Asked once per version of the file: the next poll neither rereads nor recounts it.
    assert reader.poll().bad_snapshots == 1


@needs_fifo
@pytest.mark.parametrize("name", [RECORDS, END, "run.json", f"{SNAPSHOTS}/step_000007.safetensors"])
def test_a_fifo_in_a_run_is_never_opened(tmp_path, name):
    """Today: poll() blocked for ever on the FIFO, and quitting the window then aborted."""
    run = tmp_path / "run"
    writer, cfg = _run(run)
    writer.records([record(1)])
    writer.snapshot(0, new_model(cfg, 0).state_dict(), {"step": 0})
    target = run / name
    target.unlink(missing_ok=True)
    if name == RECORDS:  # still a run: its run.json says so
        pass
    os.mkfifo(target)
    reader = RunReader(run)
    update = _within(10, reader.poll)
    assert update.snapshots == [0]
    if name == RECORDS:
        assert update.refused == (RECORDS,)
    elif name.startswith(SNAPSHOTS):
        assert update.bad_snapshots == 1 and [r["step"] for r in update.records] == [1]
    else:
        assert update.refused == (Path(name).name,)


@needs_fifo
def test_info_and_open_of_a_fifo_are_refused_at_once(tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match="'model.safetensors' is a FIFO"):
        _within(10, open_model, fifo)
    config = tmp_path / "hf"
    config.mkdir()
    os.mkfifo(config / "config.json")
    with pytest.raises(CheckpointError, match="is a FIFO"):
        _within(10, open_model, config / "config.json")


def _cli(*argv, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "engine.cli", *map(str, argv)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=timeout)


@needs_fifo
def test_the_cli_refuses_a_fifo_for_info_and_for_train_out(tmp_path):
    """Today: `info FIFO` and `train … --out FIFO` hung (the timeout fails them)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    done = _cli("info", fifo)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "transformer-explorer: error: 'pipe' is a FIFO (named pipe), not a file; it is never "
        "opened for reading (it could wait for a writer for ever)"]
    text = tmp_path / "t.txt"
    text.write_text(TEXT)
    out = tmp_path / "out.safetensors"
    os.mkfifo(out)
    done = _cli("train", text, "--out", out, "--steps", "1")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    line, = done.stderr.strip().splitlines()[-1:]
    assert "out.safetensors' already exists and is not a Transformer Explorer model" in line
    # And as the text to train on.
    done = _cli("train", fifo, "--out", tmp_path / "o")
    assert done.returncode == 2 and "'pipe' is a FIFO" in done.stderr


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
    assert running_threads() == []  # the follower's thread stopped, FIFO or not
    w.deleteLater()
    qtbot.wait(1)


@needs_fifo
def test_the_window_shows_the_rest_of_a_run_and_counts_what_it_skipped(window, qtbot,
                                                                      tmp_path):
    run = tmp_path / "run"
    writer, cfg = _run(run)
    writer.records([record(1), record(2)])
    with open(run / RECORDS, "a") as f:
        f.write("[" * 100_000 + "\n")
    writer.records([record(3)])
    writer.snapshot(0, new_model(cfg, 0).state_dict(), {"step": 0})
    _header_only(run / SNAPSHOTS / "step_000002.safetensors", [1, 2, 3])
    os.mkfifo(run / SNAPSHOTS / "step_000003.safetensors")
    assert window.open_run(str(run))
    follower = window.run.follower
    qtbot.waitUntil(lambda: follower.has_model and len(window.session.history) == 3,
                    timeout=20_000)
    assert [r["step"] for r in window.session.history] == [1, 2, 3]
    message = window.statusBar().currentMessage()
    assert "Following run run" in message
    assert "Skipped: 1 bad record lines; 2 bad snapshots." in message
    # A snapshot that passes its header but whose tensors cannot be read: skipped, counted.
    bad = run / SNAPSHOTS / "step_000004.safetensors"
    _header_only(bad, {"w": {"dtype": "NOPE", "shape": [1], "data_offsets": [0, 0]}})
    qtbot.waitUntil(lambda: "3 bad snapshots" in window.statusBar().currentMessage(),
                    timeout=20_000)
    assert follower.has_model and window.session.history[-1]["step"] == 3
