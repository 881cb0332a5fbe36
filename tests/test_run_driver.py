"""The one run driver (issue 18.5) and the hostile pass's run cases (issue 21: 1, 6, 7, 10, 11):
a full disk mid-run, a folder that is not ours, two writers, a lost rank, Ctrl+C; and every
second of a run accounted for (issue 23.2), and a CLI that explains itself (issue 22.8)."""
from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
import warnings
from collections import OrderedDict
from pathlib import Path

import pytest
import safetensors

from engine.cli.commands import main
from engine.storage import checkpoint as checkpoint_mod
from engine.storage import outputs
from engine.storage.checkpoint import load_checkpoint
from engine.training import snapshots as snapshots_mod
from engine.training.distributed import RankFailure
from engine.training.rundir import END, RECORDS
from engine.training.runlock import LOCK
from engine.training.trainer import Trainer
from reliability_helpers import SMALL, book, digest, run, train

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("startup", "tokenizing", "training", "evaluation", "snapshots", "saves", "other")


def _end(out: Path) -> dict:
    return json.loads((out / END).read_text())


def _errors(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ": error:" in ln]


# -- 21.1: a disk that fills during a run -------------------------------------------------------


def test_a_disk_that_fills_mid_run_stops_training_and_rescues_the_newest_weights(
        tmp_path, capsys, monkeypatch):
    """The recipe: an evaluation every 20 steps, the disk full once model.safetensors exists.
    The snapshot's SafetensorError used to end the run in a traceback, end.json naming no
    checkpoint and the 20 steps since the last save lost."""
    text, out = book(tmp_path), tmp_path / "run"
    full = {"on": False}

    def fills(real):
        def save_file(tensors, filename, metadata=None):
            if full["on"] or (out / "model.safetensors").exists():
                full["on"] = True
                if Path(filename).is_relative_to(out):
                    raise safetensors.SafetensorError(
                        "Error while serializing: I/O error: No space left on device "
                        "(os error 28)")
            return real(tensors, filename, metadata=metadata)
        return save_file

    monkeypatch.setattr(snapshots_mod, "save_file", fills(snapshots_mod.save_file))
    monkeypatch.setattr(checkpoint_mod.safetensors.torch, "save_file",
                        fills(checkpoint_mod.safetensors.torch.save_file))
    rescue = tmp_path / "rescue" / "run-rescued.safetensors"
    monkeypatch.setattr(outputs, "rescue_paths", lambda path: [rescue])
    code, _, err = train(capsys, text, out, "--steps", "200", "--eval-interval", "20")
    assert code == 2 and "Traceback" not in err
    errors = _errors(err)
    assert len(errors) == 1, err
    assert "No space left on device" in errors[0] and str(rescue) in errors[0]
    # Training stopped at the evaluation whose snapshot failed: its weights are the rescued.
    rescued = load_checkpoint(rescue)
    assert rescued.step == 40 and rescued.trainer_state is not None
    assert load_checkpoint(out / "model.safetensors").step == 20  # the last good one, intact
    end = _end(out)
    assert end["outcome"] == "failed" and end["checkpoint"] == str(rescue)
    assert end["checkpoint_step"] == 40
    assert not (out / LOCK).exists()


def test_records_that_cannot_be_written_leave_no_half_line(tmp_path):
    """A full disk in the middle of an append: the file is cut back to its last whole line."""
    from engine.training.diskwrites import append_whole

    path = tmp_path / RECORDS
    path.write_bytes(b'{"step": 1}\n')
    real_write = os.write
    calls = {"n": 0}

    def half_then_full(fd, data):
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[:5]))
        raise OSError(28, "No space left on device")

    os_write = os.write
    try:
        os.write = half_then_full
        with pytest.raises(OSError):
            append_whole(path, b'{"step": 2}\n{"step": 3}\n')
    finally:
        os.write = os_write
    assert path.read_bytes() == b'{"step": 1}\n'


# -- 21.6: a folder is ours only if our run.json says so ---------------------------------------


def test_a_folder_with_someone_elses_run_files_is_refused_and_kept(tmp_path, capsys):
    u = tmp_path / "u"
    (u / "snapshots").mkdir(parents=True)
    (u / "end.json").write_text('{"mine": true}')
    (u / "snapshots" / "step_000001.safetensors").write_bytes(b"the user's own file")
    before = {p: digest(p) for p in u.rglob("*") if p.is_file()}
    for extra in ((), ("--overwrite",)):
        code, _, err = train(capsys, book(tmp_path), u, "--steps", "5", *extra)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "not ours" in err and "run.json" in err
        assert {p: digest(p) for p in u.rglob("*") if p.is_file()} == before


# -- 21.7: one writer per run folder -------------------------------------------------------------


def test_a_second_writer_is_refused_with_the_first_ones_pid(tmp_path, capsys):
    text, out = book(tmp_path), tmp_path / "run"
    assert train(capsys, text, out, "--steps", "10")[0] == 0
    before = digest(out / RECORDS), digest(out / END)
    first = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import socket

        (out / LOCK).write_text(json.dumps({"pid": first.pid, "host": socket.gethostname()}))
        code, _, err = train(capsys, text, out, "--steps", "20", "--resume",
                             out / "model.safetensors")
        assert code == 2 and len(_errors(err)) == 1, err
        assert f"process {first.pid}" in err and "being written by another run" in err
        assert (digest(out / RECORDS), digest(out / END)) == before  # the first run's, intact
    finally:
        first.kill()
        first.wait()
    # Its process gone, the lock is stale: taken over, and released at the end.
    code, _, err = train(capsys, text, out, "--steps", "20", "--resume",
                         out / "model.safetensors")
    assert code == 0, err
    assert _end(out)["step"] == 20 and not (out / LOCK).exists()


def test_the_lock_is_held_while_the_run_writes(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    seen = []
    real_run = Trainer.run

    def watching(self, *args, **kwargs):
        for record in real_run(self, *args, **kwargs):
            seen.append(json.loads((out / LOCK).read_text())["pid"])
            yield record

    monkeypatch.setattr(Trainer, "run", watching)
    assert train(capsys, book(tmp_path), out, "--steps", "10")[0] == 0
    assert seen and set(seen) == {os.getpid()} and not (out / LOCK).exists()


# -- 21.10: a lost rank --------------------------------------------------------------------------


def test_after_a_lost_rank_end_json_names_the_newest_valid_checkpoint(tmp_path, capsys,
                                                                      monkeypatch):
    real_run = Trainer.run

    def rank_lost(self, *args, **kwargs):
        evals = 0
        for record in real_run(self, *args, **kwargs):
            yield record
            evals += record.event == "eval"
            if evals == 2:
                raise RankFailure("rank 0 of 2: lost contact with another rank")

    monkeypatch.setattr(Trainer, "run", rank_lost)
    out = tmp_path / "run"
    code, _, err = train(capsys, book(tmp_path), out, "--steps", "100", "--eval-interval", "10")
    assert code == 2 and _errors(err)[-1].endswith("lost contact with another rank")
    end = _end(out)
    assert end["outcome"] == "failed" and end["checkpoint"] == "model.safetensors"
    assert end["checkpoint_step"] == 20 == load_checkpoint(out / "model.safetensors").step


# -- 21.11: Ctrl+C, and a pickle of protocol 5 ----------------------------------------------------


def test_sigint_saves_and_exits_130(tmp_path):
    text, out = book(tmp_path), tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "train", str(text), "--out", str(out), *SMALL,
         "--steps", "1000000", "--eval-interval", "20", "--no-token-cache"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            rows = (out / RECORDS).read_text().splitlines() if (out / RECORDS).exists() else []
            if any('"eval"' in r for r in rows):
                break
            time.sleep(0.2)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted at step" in err
    end = _end(out)
    assert end["outcome"] == "stopped" and end["checkpoint"] == "model.safetensors"
    assert load_checkpoint(out / "model.safetensors").step == end["step"] >= 20


def test_a_protocol_5_pickle_is_refused_without_torchs_warning(tmp_path, capsys):
    path = tmp_path / "ckpt.pt"
    path.write_bytes(pickle.dumps({"model": OrderedDict(), "x": 1}, protocol=5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _, err = run(capsys, "info", path)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert not [w for w in caught if "pickle protocol" in str(w.message)]


# -- 23.2: every second accounted for -------------------------------------------------------------


def test_every_second_of_a_run_is_in_one_part(tmp_path):
    text, out = book(tmp_path), tmp_path / "run"
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "train", str(text), "--out", str(out), *SMALL,
         "--steps", "60", "--eval-interval", "20", "--no-token-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    wall = time.time() - t0
    assert proc.returncode == 0, proc.stderr
    end = _end(out)
    seconds = end["seconds"]
    assert set(seconds) == {*PARTS, "total"}
    assert all(seconds[p] >= 0 for p in PARTS)
    assert seconds["startup"] > 0 and seconds["training"] > 0 and seconds["saves"] > 0
    assert abs(sum(seconds[p] for p in PARTS) - seconds["total"]) <= 0.02 * seconds["total"]
    # The whole is the process's own: from its start (the interpreter and the imports
    # included) to its end, which only the exit's own teardown follows.
    assert seconds["total"] <= wall
    assert seconds["total"] >= 0.98 * wall - 0.5
    # The reported rate is the training tokens over the training part's seconds.
    assert end["tokens"] == 60 * 4 * 8
    assert end["tokens_per_s"] == pytest.approx(end["tokens"] / seconds["training"], rel=0.02)
    last = json.loads((out / RECORDS).read_text().splitlines()[-1])
    assert last["event"] == "done" and set(last["seconds"]) == {*PARTS, "total"}
    line = proc.stdout.strip().splitlines()[-1]
    assert all(word in line for word in ("start-up", "tokenizing", "training", "evaluation",
                                         "snapshots", "saves", "in all"))


def test_a_window_run_accounts_for_its_seconds_too(tmp_path):
    from engine.config import ModelConfig, TrainConfig
    from engine.training.job import TrainingControl, TrainingRequest, training_job

    model = ModelConfig(vocab_size=1, d_model=16, n_head=2, n_layer=1, context_length=8, d_ff=32)
    cfg = TrainConfig(batch_size=4, steps=20, warmup_steps=2, eval_interval=10,
                      eval_batches=1, device="cpu")
    job = training_job(TrainingRequest(model, cfg, "cpu", str(book(tmp_path)), "char",
                                       run_dir=str(tmp_path / "run"), torch_threads=1),
                       TrainingControl())
    try:
        while True:
            next(job)
    except StopIteration as stop:
        result = stop.value
    assert result.outcome == "done" and result.step == 20
    seconds = _end(tmp_path / "run")["seconds"]
    assert abs(sum(seconds[p] for p in PARTS) - seconds["total"]) <= 0.02 * seconds["total"]
    assert seconds["tokenizing"] > 0 and seconds["training"] > 0
    assert not (tmp_path / "run" / LOCK).exists()


# -- 22.8: the CLI explains itself -----------------------------------------------------------------


def test_train_help_describes_the_command_and_its_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "Train a small GPT-like decoder" in text
    options = " ".join(text[text.index("options:"):].split())
    for option, default in (("--d-model", 64), ("--heads", 4), ("--layers", 8),
                            ("--context", 16), ("--lr", 0.001), ("--steps", 2000)):
        part = options[options.index(f"{option} {option[2:].upper().replace('-', '_')}"):]
        assert f"(default: {default})" in part[:150], option


def test_a_run_whose_output_is_not_a_terminal_prints_plain_progress_lines(tmp_path, capsys):
    code, _, err = train(capsys, book(tmp_path), tmp_path / "run", "--steps", "30",
                         "--eval-interval", "10")
    assert code == 0
    lines = [ln for ln in err.splitlines() if ln.startswith("step ")]
    assert [ln.split(":")[0] for ln in lines] == ["step 10/30", "step 20/30", "step 30/30"]
    assert all("loss" in ln and "val" in ln and "tokens/s" in ln for ln in lines)
    assert "\r" not in err  # no bar's carriage returns in a log


# -- the window's job, through the driver ------------------------------------------------------------


def test_the_windows_job_pauses_resumes_and_stops_through_the_driver(tmp_path):
    """The job's messages as the window's process sends them: paused, no records while held;
    resumed; stopped with its weights saved and end.json saying so."""
    import threading

    from engine.config import ModelConfig, TrainConfig
    from engine.training.job import TrainingControl, TrainingRequest, training_job
    from engine.training.job_messages import Paused, Records, Started

    model = ModelConfig(vocab_size=1, d_model=16, n_head=2, n_layer=1, context_length=8, d_ff=32)
    cfg = TrainConfig(batch_size=4, steps=100_000, warmup_steps=2, eval_interval=50,
                      eval_batches=1, device="cpu")
    control = TrainingControl()
    job = training_job(TrainingRequest(model, cfg, "cpu", str(book(tmp_path)), "char",
                                       run_dir=str(tmp_path / "run"), torch_threads=1,
                                       emit_interval_s=0.05), control)
    messages, steps = [], []
    held = threading.Event()

    def consume():
        try:
            while True:
                message = next(job)
                messages.append(message)
                if isinstance(message, Records):
                    steps.extend(r["step"] for r in message.rows)
                if isinstance(message, Paused):
                    held.set()
        except StopIteration as stop:
            messages.append(stop.value)

    worker = threading.Thread(target=consume)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while len(steps) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        control.pause()
        assert held.wait(30)
        frozen = len(steps)
        time.sleep(0.3)
        assert len(steps) == frozen and (tmp_path / "run" / LOCK).exists()
        control.resume()
        deadline = time.monotonic() + 30
        while len(steps) <= frozen + 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(steps) > frozen + 5
    finally:
        control.stop()
        worker.join(60)
    result = messages[-1]
    assert any(isinstance(m, Started) for m in messages)
    assert result.outcome == "stopped" and result.state["step"] == result.step
    end = _end(tmp_path / "run")
    assert end["outcome"] == "stopped" and end["step"] == result.step
    assert load_checkpoint(tmp_path / "run" / "model.safetensors").step == result.step
    assert not (tmp_path / "run" / LOCK).exists()
