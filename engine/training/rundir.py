"""A run directory: everything one training run writes, in files another machine can follow.

Layout (the same for the CLI's `train --out DIR` and the window's own runs):

    DIR/run.json            configs, written once at the start (model, training, tokenizer,
                            corpus path and sha256, command line, world size, a run id)
    DIR/records.jsonl       one StepRecord.to_dict() per line, appended as training goes
    DIR/snapshots/          step_000123.safetensors at the start and at each evaluation
                            (engine.training.snapshots: float32, metrics in the header, at most 40)
    DIR/model.safetensors   the checkpoint (the CLI rewrites it at every evaluation)
    DIR/end.json            written last: how the run ended, and its checkpoint

A reader never sees a half-written file: every whole file is written under a temporary name
(`.tmp_*`) and renamed; records.jsonl is only appended to, whole lines at a time, and a reader
keeps the byte offset of the last complete line, so a line still being written (or synced by
rsync) is read on the next poll instead of failing. Followers poll (`RunReader.poll`, in
engine.training.runreader) rather than wait for file-system events: those do not cross a
network or synced folder.
"""
from __future__ import annotations

import errno
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from safetensors import SafetensorError

from engine.training.diskwrites import append_whole, errno_of, reason_of
from engine.training.snapshots import SNAPSHOT_NAME, SnapshotStore, share_mode

FORMAT = "transformer-explorer-run"
VERSION = 1
CONFIGS = "run.json"
RECORDS = "records.jsonl"
SNAPSHOTS = "snapshots"
CHECKPOINT = "model.safetensors"
END = "end.json"


class NotARun(ValueError):
    """A folder that is not a run directory (no run.json nor records.jsonl); one-line message."""


# -- where a run's files go -----------------------------------------------------------------------


def run_directory(checkpoint: str | os.PathLike) -> Path:
    """The run directory of a save to `checkpoint` (the file `engine.storage.checkpoint.output_path`
    chose): its folder when it is `model.safetensors` (what `--out DIR` writes), else
    `<name>.run/` beside it, so two models saved into one folder never share a run."""
    path = Path(checkpoint)
    if path.name == CHECKPOINT:
        return path.parent
    return path.with_name(f"{path.stem}.run")


def check_run_dir(directory: str | os.PathLike, replace: bool) -> None:
    """Refuse (engine.storage.outputs.OutputError) to write a run where a user's files would be lost:
    records.jsonl that no run wrote, or another run's files unless `replace` (--resume or
    --overwrite) says so."""
    from engine.storage.outputs import OutputError

    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise OutputError(f"'{d}' is a file, so it cannot be the run folder; choose another --out")
    has_configs, has_records = (d / CONFIGS).is_file(), (d / RECORDS).exists()
    if has_records and not has_configs:
        raise OutputError(f"'{d / RECORDS}' exists and was not written by a run; it is never "
                          "replaced. Choose another --out")
    theirs = _run_files(d)
    if theirs and not has_configs:  # a folder is ours only when our run.json says so
        raise OutputError(f"'{d}' holds {' and '.join(theirs)} but no {CONFIGS} of a Transformer "
                          "Explorer run, so they are not ours; they are never replaced. Choose "
                          "another --out")
    if has_configs and _format(d / CONFIGS) != FORMAT:
        raise OutputError(f"'{d / CONFIGS}' was written by another program, not a Transformer "
                          "Explorer run; it is never replaced. Choose another --out")
    if has_configs and not replace:
        raise OutputError(f"'{d}' already holds a training run; it is kept. Pass --overwrite to "
                          "replace it, --resume its model to continue it, or choose another --out")


def _run_files(d: Path) -> list[str]:
    """The names a run would replace or delete that exist in `d` (end.json, snapshots)."""
    found = [END] if (d / END).exists() else []
    try:
        if any(SNAPSHOT_NAME.match(p.name) for p in (d / SNAPSHOTS).iterdir()):
            found.append(f"{SNAPSHOTS}/")
    except OSError:
        pass
    return found


def _format(path: Path) -> str | None:
    """The "format" of a run.json, None when it is not a JSON object (or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("format") if isinstance(data, dict) else None


def file_sha256(path: str | os.PathLike) -> str | None:
    """sha256 of a file's bytes (None when it cannot be read)."""
    from engine.text.tokenfile import content_sha256  # the one home of hashing a text

    try:
        return content_sha256(path)
    except OSError:
        return None


def run_configs(model_config: Any, train_config: Any, tokenizer: Any, corpus_path: str | None,
                *, source: str, device: str = "cpu", world_size: int = 1, start_step: int = 0,
                command: list[str] | None = None, corpus_sha256: str | None = None
                ) -> dict[str, Any]:
    """What run.json holds: everything needed to read the run's snapshots back (the model
    config and the tokenizer's vocabulary) and to tell where it came from. `corpus_sha256`:
    the text's hash when known (its token file has it), so a GB-sized text is not read again."""
    corpus = None
    if corpus_path:
        p = Path(corpus_path)
        corpus = {"path": str(p.absolute()), "bytes": p.stat().st_size if p.is_file() else None,
                  "sha256": corpus_sha256 or file_sha256(p)}

    def plain(cfg: Any) -> Any:
        return asdict(cfg) if is_dataclass(cfg) else cfg

    return {"format": FORMAT, "version": VERSION, "source": source,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "model_config": plain(model_config), "train_config": plain(train_config),
            "tokenizer": tokenizer.to_dict() if hasattr(tokenizer, "to_dict") else tokenizer,
            "corpus": corpus, "device": device, "world_size": int(world_size),
            "start_step": int(start_step),
            "command": list(sys.argv if command is None else command)}


def _write_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary name beside `path`, then rename it over `path`."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp_", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        share_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(row: Any) -> dict:
    return row.to_dict() if hasattr(row, "to_dict") else dict(row)


# -- writing ----------------------------------------------------------------------------------------


# Snapshots of one run stay within this many bytes: 40 of the articles' model are ~120 MB, but
# one of GPT-2 small is ~500 MB, so a fine-tuned GPT-2 keeps 4 (the first and newest among them).
SNAPSHOT_BYTES_BUDGET = 2 << 30


def snapshot_limit(weights: Mapping[str, Any], max_snapshots: int,
                   budget: int = SNAPSHOT_BYTES_BUDGET) -> int:
    """How many snapshots of these weights (stored as float32) fit the budget: 2 to max."""
    nbytes = sum(4 * int(t.numel()) for t in weights.values())
    return max(2, min(max_snapshots, budget // max(nbytes, 1)))


class RunWriter:
    """Writes one run directory. `write=False` (e.g. every rank but 0 under torchrun) makes each
    method do nothing, so callers never branch on it.

    With `on_error`, a write that fails (a full disk, a folder gone) is handed to it once and
    writing stops, so training goes on without its files; without it, the OSError is raised.
    """

    def __init__(self, directory: str | os.PathLike, write: bool = True, max_snapshots: int = 40,
                 on_error: Callable[[OSError], None] | None = None):
        self.directory = Path(directory)
        self.write = write
        self.max_snapshots = max_snapshots
        self.on_error = on_error
        self.error: OSError | None = None  # the write that failed, when on_error took it
        self._store: SnapshotStore | None = None

    def _failed(self, exc: OSError) -> None:
        if self.on_error is None:
            raise exc
        self.write, self.error = False, exc
        self.on_error(exc)

    @property
    def snapshot_dir(self) -> Path:
        return self.directory / SNAPSHOTS

    def start(self, configs: dict[str, Any], history: Iterable[Any] = ()) -> None:
        """Begin the run: run.json (with a new run id), records.jsonl holding only `history`
        (the earlier records of a continued model), no snapshots or end of an earlier run."""
        if not self.write:
            return
        try:
            self._start(configs, history)
        except OSError as exc:
            self._failed(exc)

    def _start(self, configs: dict[str, Any], history: Iterable[Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if _format(self.directory / CONFIGS) != FORMAT and _run_files(self.directory):
            # Someone's end.json or snapshots without our run.json: never deleted (the CLI
            # refuses such a folder up front, engine.training.rundir.check_run_dir).
            raise FileExistsError(errno.EEXIST, "it holds files that no run of ours wrote",
                                  str(self.directory))
        (self.directory / END).unlink(missing_ok=True)
        # A continued run keeps its snapshots up to where it continues (they are its history;
        # later ones, e.g. of an abandoned run resumed from its .best file, are not); a new
        # run starts empty.
        self._store = SnapshotStore(self.snapshot_dir, self.max_snapshots)
        start = int(configs.get("start_step") or 0)
        if not start:
            self._store.clear()
        for step in self._store.steps():
            if step > start:
                self._store.remove(step)
        # Records first, run id last: a follower that sees the new id re-reads the records.
        lines = "".join(json.dumps(_jsonable(r)) + "\n" for r in history)
        _write_atomic(self.directory / RECORDS, lines)
        _write_atomic(self.directory / CONFIGS,
                      json.dumps({**configs, "run_id": uuid.uuid4().hex}, indent=1))

    def records(self, rows: Iterable[Any]) -> None:
        """Append StepRecords (or their dicts), one JSON line each, flushed together."""
        if not self.write:
            return
        text = "".join(json.dumps(_jsonable(r)) + "\n" for r in rows)
        if text:
            try:
                append_whole(self.directory / RECORDS, text.encode("utf-8"))
            except OSError as exc:
                self._failed(exc)

    def snapshot(self, step: int, weights: Mapping[str, Any], metrics: dict[str, Any]
                 ) -> Path | None:
        """Add a weight snapshot (atomic; the store thins itself to `max_snapshots`)."""
        if not self.write:
            return None
        try:
            if self._store is None:
                self._store = SnapshotStore(self.snapshot_dir, self.max_snapshots)
            self._store.max_snapshots = snapshot_limit(weights, self.max_snapshots)
            return self._store.add(step, weights, metrics)
        except OSError as exc:
            self._failed(exc)
        except SafetensorError as exc:  # safetensors' own error for a disk that refused
            self._failed(OSError(errno_of(str(exc)), reason_of(str(exc))))
        return None

    def begin(self, trainer: Any, corpus_path: str | None, *, source: str,
              world_size: int = 1, command: list[str] | None = None,
              weights: Mapping[str, Any] | None = None) -> Path | None:
        """Start the run of `trainer` (engine.training.trainer.Trainer): run.json from its configs, its
        earlier history, and the snapshot of its first weights (`weights`, else the model's).
        The one start of a run, for the CLI and the window alike."""
        t = trainer
        text_file = getattr(t.corpus, "token_file", None)  # its sha256: the text is not re-read
        self.start(run_configs(t.model.config, t.cfg, t.corpus.tokenizer, corpus_path,
                               source=source, device=str(t.device), world_size=world_size,
                               start_step=t.step, command=command,
                               corpus_sha256=getattr(text_file, "content_sha256", None)),
                   history=t.history)
        first = weights if weights is not None else t.model.state_dict()
        return self.snapshot(t.step, first, {"step": t.step})

    def evaluation(self, record: Any, weights: Mapping[str, Any]) -> Path | None:
        """The snapshot of an evaluation (a StepRecord with val_loss), its losses in the header."""
        return self.snapshot(record.step, weights, {
            "step": record.step, "val_loss": record.val_loss,
            "train_loss": record.eval_train_loss})

    def final(self, outcome: str, step: int, checkpoint: str | os.PathLike | None = None,
              **more: Any) -> None:
        """The run has ended: end.json says how, and where its checkpoint is (relative to the
        run directory when inside it, so a synced copy finds it too); `more`: other figures
        of the run (its seconds, its tokens)."""
        if not self.write:
            return
        where = None
        if checkpoint is not None:
            path = Path(checkpoint).absolute()
            try:
                where = str(path.relative_to(self.directory.absolute()))
            except ValueError:
                where = str(path)
        try:
            _write_atomic(self.directory / END, json.dumps({
                "outcome": outcome, "step": int(step), "checkpoint": where,
                "ended": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **more}))
        except OSError as exc:
            self._failed(exc)
