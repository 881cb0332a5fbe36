"""Run directories (engine.training.rundir): what a run writes, and a reader that never reads half a file."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from engine.storage.checkpoint import load_checkpoint
from engine.cli.commands import main
from engine.config import ModelConfig, TrainConfig
from engine.model.decoder import new_model
from engine.storage.outputs import OutputError
from engine.training.records import StepRecord
from engine.training.rundir import (CONFIGS, END, RECORDS, SNAPSHOTS, NotARun, RunWriter,
                           check_run_dir, run_configs, run_directory)
from engine.training.runreader import RunReader, follow, is_run, snapshot_complete
from engine.training.snapshots import SnapshotStore
from engine.text.tokenizers import build_tokenizer

TEXT = "the cat sat on the mat. the dog sat on the log. " * 60
TINY = ["--tokenizer", "char", "--d-model", "16", "--heads", "2", "--layers", "1", "--context",
        "8", "--ffn", "32", "--batch", "4", "--eval-interval", "10", "--eval-batches", "2",
        "--device", "cpu", "--warmup", "2"]


@pytest.fixture
def text(tmp_path) -> Path:
    path = tmp_path / "cat.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def _rows(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / RECORDS).read_text().splitlines()]


def _record(step: int, **kw) -> dict:
    return StepRecord(step=step, tokens=32 * step, train_loss=3.0 - step / 100, lr=1e-3,
                      grad_norm=1.0, tokens_per_s=100.0, elapsed=step / 10, **kw).to_dict()


def _writer(directory: Path, **kw) -> tuple[RunWriter, object]:
    tok = build_tokenizer("char", TEXT)
    cfg = ModelConfig(vocab_size=tok.vocab_size, d_model=16, n_head=2, n_layer=1,
                      context_length=8, d_ff=32)
    writer = RunWriter(directory, **kw)
    writer.start(run_configs(cfg, TrainConfig(steps=100), tok, None, source="test"))
    return writer, cfg


def test_the_cli_writes_a_run_directory(text, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(text), "--out", str(out), "--steps", "30", *TINY]) == 0
    configs = json.loads((out / CONFIGS).read_text())
    assert configs["format"] == "transformer-explorer-run" and configs["source"] == "cli"
    assert configs["model_config"]["d_model"] == 16 and configs["world_size"] == 1
    assert configs["tokenizer"]["kind"] == "char" and configs["train_config"]["steps"] == 30
    assert configs["corpus"]["path"] == str(text.absolute())
    assert len(configs["corpus"]["sha256"]) == 64 and configs["command"]
    # records.jsonl holds exactly the trainer's records: the checkpoint's history.
    ckpt = load_checkpoint(out / "model.safetensors")
    assert _rows(out) == ckpt.history
    assert [r["step"] for r in _rows(out) if r["event"] == "eval"] == [10, 20, 30]
    store = SnapshotStore(out / SNAPSHOTS)
    assert store.steps() == [0, 10, 20, 30]
    last = store.load(30)
    for key, value in ckpt.model.state_dict().items():
        torch.testing.assert_close(last[key], value.float())
    evals = [r for r in ckpt.history if r["val_loss"] is not None]
    assert store.metrics(30)["val_loss"] == evals[-1]["val_loss"]
    end = json.loads((out / END).read_text())
    assert end["outcome"] == "done" and end["step"] == 30 and end["checkpoint"] == "model.safetensors"
    assert RunReader(out).checkpoint(end) == out / "model.safetensors"
    # Files are readable by whoever follows the run on a shared folder (not mkstemp's 0600).
    mode = (out / RECORDS).stat().st_mode & 0o777
    assert mode & 0o044 == 0o644 & 0o044 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_the_cli_never_overwrites_a_run_and_a_file_name_gets_its_own_run(text, tmp_path,
                                                                        capsys):
    out = tmp_path / "run"
    assert main(["train", str(text), "--out", str(out), "--steps", "10", *TINY]) == 0
    (out / "model.safetensors").unlink()  # a run without its model is still a run
    assert main(["train", str(text), "--out", str(out), "--steps", "10", *TINY]) != 0
    assert "already holds a training run" in capsys.readouterr().err
    assert main(["train", str(text), "--out", str(out), "--steps", "20", "--overwrite",
                 *TINY]) == 0
    assert [r["step"] for r in _rows(out)][-1] == 20 and _rows(out)[0]["step"] == 10
    assert SnapshotStore(out / SNAPSHOTS).steps() == [0, 10, 20]
    # A named .safetensors file: its run is NAME.run/ beside it.
    named = tmp_path / "models" / "small.safetensors"
    assert main(["train", str(text), "--out", str(named), "--steps", "10", *TINY]) == 0
    assert named.is_file() and is_run(tmp_path / "models" / "small.run")
    assert run_directory(tmp_path / "a" / "model.safetensors") == tmp_path / "a"
    # records.jsonl that no run wrote is never replaced.
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / RECORDS).write_text("mine\n")
    with pytest.raises(OutputError, match="not written by a run"):
        check_run_dir(foreign, replace=True)


def test_resuming_into_the_run_continues_its_records(text, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(text), "--out", str(out), "--steps", "20", *TINY]) == 0
    first = _rows(out)
    assert main(["train", str(text), "--out", str(out), "--steps", "40", "--resume",
                 str(out / "model.safetensors"), *TINY]) == 0
    rows = _rows(out)
    assert rows[:len(first)] == first and rows[-1]["step"] == 40
    assert rows == load_checkpoint(out / "model.safetensors").history
    assert SnapshotStore(out / SNAPSHOTS).steps() == [0, 10, 20, 30, 40]


def test_snapshots_are_bounded_and_a_writer_that_must_not_write_writes_nothing(tmp_path):
    writer, cfg = _writer(tmp_path / "run", max_snapshots=4)
    for step in range(0, 100, 10):
        writer.snapshot(step, new_model(cfg, step).state_dict(), {"step": step})
    steps = SnapshotStore(tmp_path / "run" / SNAPSHOTS).steps()
    assert len(steps) == 4 and steps[0] == 0 and steps[-1] == 90
    other = RunWriter(tmp_path / "rank1", write=False)  # e.g. torchrun rank 1
    other.start({"source": "test"})
    other.records([_record(1)])
    other.snapshot(0, new_model(cfg, 0).state_dict(), {})
    other.final("done", 1)
    assert not (tmp_path / "rank1").exists()


def test_the_reader_skips_a_truncated_last_line_and_reads_it_once_complete(tmp_path):
    run = tmp_path / "run"
    writer, _ = _writer(run)
    reader = RunReader(run)
    assert reader.poll().records == []
    writer.records([_record(1), _record(2)])
    line = json.dumps(_record(3)) + "\n"
    with open(run / RECORDS, "a") as f:  # half a line, as a writer or rsync leaves it
        f.write(line[:17])
    update = reader.poll()
    assert [r["step"] for r in update.records] == [1, 2] and not update.reset
    assert reader.poll().records == []  # still half: nothing, and no failure
    with open(run / RECORDS, "a") as f:
        f.write(line[17:])
    assert [r["step"] for r in reader.poll().records] == [3]
    with open(run / RECORDS, "a") as f:
        f.write("{not json}\n")
    writer.records([_record(4)])
    assert [r["step"] for r in reader.poll().records] == [4] and reader.bad_lines == 1


def test_the_reader_ignores_half_written_snapshots(tmp_path):
    run = tmp_path / "run"
    writer, cfg = _writer(run)
    writer.snapshot(0, new_model(cfg, 0).state_dict(), {"step": 0})
    reader = RunReader(run)
    assert reader.poll().new_snapshots == [0]
    whole = writer.snapshot(10, new_model(cfg, 1).state_dict(), {"step": 10})
    data = whole.read_bytes()
    whole.unlink()
    snapshots = run / SNAPSHOTS
    (snapshots / ".tmp_abc.safetensors").write_bytes(data)  # a writer's temporary name
    truncated = snapshots / "step_000020.safetensors"  # copied or synced halfway
    truncated.write_bytes(data[: len(data) // 2])
    (snapshots / "step_000030.safetensors").write_bytes(data[:5])  # not even a header
    update = reader.poll()
    assert update.snapshots == [0] and update.new_snapshots == []
    assert not snapshot_complete(truncated) and snapshot_complete(snapshots / "step_000000.safetensors")
    truncated.write_bytes(data)  # the copy completes
    update = reader.poll()
    assert update.snapshots == [0, 20] and update.new_snapshots == [20]
    assert reader.snapshots.steps() == [0, 20]
    assert set(reader.snapshots.load(20)) == set(new_model(cfg, 1).state_dict())
    with pytest.raises(TypeError):
        reader.snapshots.add(40, {}, {})  # a followed run is never written by its reader


def test_a_new_run_in_the_folder_resets_the_reader_and_the_end_is_read(tmp_path):
    run = tmp_path / "run"
    writer, cfg = _writer(run)
    writer.records([_record(s) for s in (1, 2, 3)])
    reader = RunReader(run)
    assert len(reader.poll().records) == 3
    writer, _ = _writer(run)  # started again: new run id, records anew
    writer.records([_record(9)])
    update = reader.poll()
    assert update.reset and [r["step"] for r in update.records] == [9]
    assert update.end is None
    writer.final("done", 9)
    updates = list(follow(run, interval_s=0.01))
    assert updates[-1].end["outcome"] == "done" and updates[-1].end["step"] == 9


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    with pytest.raises(NotARun, match="not a training run"):
        RunReader(tmp_path)
    shutil.rmtree(tmp_path)
    assert not is_run(tmp_path)


def test_a_run_directory_that_cannot_be_written_never_stops_training(text, tmp_path):
    from engine.training.job import TrainingControl, TrainingRequest, training_job
    from engine.training.job_messages import Records, Status

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    errors = []
    writer = RunWriter(blocker / "run", on_error=errors.append)
    writer.start({"source": "test"})
    writer.records([_record(1)])
    assert len(errors) == 1 and writer.error is errors[0] and not writer.write
    with pytest.raises(OSError):
        RunWriter(blocker / "run").start({"source": "test"})  # without on_error: raised
    model = ModelConfig(vocab_size=1, d_model=16, n_head=2, n_layer=1, context_length=8, d_ff=32)
    train = TrainConfig(batch_size=4, steps=10, warmup_steps=2, eval_interval=5, eval_batches=1,
                        device="cpu")
    job = training_job(TrainingRequest(model, train, "cpu", str(text), "char",
                                       run_dir=str(blocker / "run"), torch_threads=1),
                       TrainingControl())
    messages = []
    try:
        while True:
            messages.append(next(job))
    except StopIteration as stop:
        result = stop.value
    assert result.outcome == "done" and result.step == 10
    failed = [m for m in messages if isinstance(m, Status) and m.kind == "run_dir_failed"]
    assert len(failed) == 1 and failed[0].args["path"] == str(blocker / "run")
    assert sum(len(m.rows) for m in messages if isinstance(m, Records)) >= 2


def test_snapshots_of_a_big_model_stay_within_the_byte_budget():
    """A GPT-2-sized model's snapshots are ~500 MB each: a run keeps few of them, never one."""
    import torch

    from engine.training.rundir import SNAPSHOT_BYTES_BUDGET, snapshot_limit

    def zeros(n):  # sizes only: meta tensors allocate nothing
        return torch.zeros(n, device="meta")

    small = {"w": zeros(1000)}
    gpt2 = {"w": zeros(1)} | {f"b{i}": zeros(124_000_000 // 4) for i in range(4)}
    assert snapshot_limit(small, 40) == 40
    kept = snapshot_limit(gpt2, 40)
    assert kept == SNAPSHOT_BYTES_BUDGET // (4 * (124_000_000 + 1)) == 4
    assert snapshot_limit({"w": zeros(10**9)}, 40) == 2  # the first and the newest


def test_another_programs_run_json_is_never_replaced(tmp_path):
    d = tmp_path / "theirs"
    d.mkdir()
    (d / CONFIGS).write_text('{"format": "wandb", "id": 7}')
    with pytest.raises(OutputError, match="another program"):
        check_run_dir(d, replace=True)  # even with --overwrite
    check_run_dir(tmp_path / "fresh", replace=False)  # a new folder is fine


def test_a_continued_run_drops_the_snapshots_after_its_start(tmp_path):
    """Resumed from step 20 (e.g. a .best file of a run that went on to 40): the abandoned
    steps' snapshots would otherwise show as the newest."""
    writer, cfg = _writer(tmp_path / "run")
    for step in (0, 10, 20, 30, 40):
        writer.snapshot(step, new_model(cfg, step).state_dict(), {"step": step})
    tok = build_tokenizer("char", TEXT)
    again = RunWriter(tmp_path / "run")
    again.start(run_configs(cfg, TrainConfig(steps=100), tok, None, source="test",
                            start_step=20))
    assert SnapshotStore(tmp_path / "run" / SNAPSHOTS).steps() == [0, 10, 20]
