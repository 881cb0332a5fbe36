"""Following a run directory (engine.training.rundir) that another process writes, by polling.

`RunReader.poll()` reads only what was added since the last poll: whole record lines, whole
snapshots, the configs and the end. Nothing in a run folder can stop a follower: a record line
that is not a JSON object (even 100,000 "[") and a snapshot whose header is not a map of
tensors are skipped and counted (`RunUpdate.bad_lines`, `bad_snapshots`) while the rest of the
run is shown, and a run file that is a FIFO or a device is never opened (opening a FIFO for
reading waits for a writer, for ever: the poll, then the window's quit, hung on it).
"""
from __future__ import annotations

import json
import os
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from engine.text.filetype import NotARegularFile, open_regular, special_kind
from engine.training.rundir import CONFIGS, END, RECORDS, SNAPSHOTS, NotARun
from engine.training.snapshots import SnapshotStore
from engine.training.snapshots import _NAME as _SNAPSHOT_NAME

__all__ = ["snapshot_state", "snapshot_complete", "RunSnapshots", "RunUpdate", "is_run",
           "RunReader", "follow", "run_snapshot"]


def snapshot_state(path: str | os.PathLike) -> str:
    """"complete": the safetensors file is whole (its header parses and the file holds every
    byte its offsets name); "incomplete": shorter, still being copied or synced, or not there;
    "bad": never a snapshot (a FIFO, a header that is not a map of tensors)."""
    try:
        with open_regular(path) as f:
            head = f.read(8)
            if len(head) < 8:
                return "incomplete"
            (n,) = struct.unpack("<Q", head)
            if n > 100_000_000:
                return "bad"
            raw = f.read(n)
            size = os.fstat(f.fileno()).st_size
    except NotARegularFile:
        return "bad"
    except OSError:
        return "incomplete"
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        return "incomplete" if len(raw) < n else "bad"
    if not isinstance(header, dict):
        return "bad"
    ends = []
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(
                isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            return "bad"
        ends.append(offsets[1])
    if size > 8 + n + max(ends, default=0):
        return "bad"  # longer than its header says: not a file this program wrote
    return "complete" if size == 8 + n + max(ends, default=0) else "incomplete"


def snapshot_complete(path: str | os.PathLike) -> bool:
    """The safetensors file is whole (see snapshot_state)."""
    return snapshot_state(path) == "complete"


class RunSnapshots(SnapshotStore):
    """The snapshots of a run someone else writes, read-only: only complete files count, and
    the list is re-read by `refresh()` (off the GUI thread), never by `steps()`."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)  # no mkdir: the folder may be read-only or not yet there
        self.max_snapshots = 0
        self._complete: dict[int, Path] = {}
        self._checked: dict[str, tuple[int, int]] = {}  # name -> (size, mtime) found complete
        self._bad: dict[str, tuple[int, int]] = {}  # name -> (size, mtime) found bad: skipped

    @property
    def bad(self) -> int:
        """Snapshots skipped as never readable (until the file changes)."""
        return len(self._bad)

    def mark_bad(self, step: int) -> None:
        """A snapshot whose header passed but whose tensors could not be read: skipped."""
        path = self._complete.pop(step, None)
        if path is not None:
            self._bad[path.name] = self._checked.pop(path.name, (0, 0))

    def load(self, step: int) -> dict[str, Any]:
        """As SnapshotStore.load, refusing a file that is no longer a regular one."""
        special = special_kind(self._path(step))
        if special is not None:
            raise NotARegularFile(f"snapshot {step} is {special}")
        return super().load(step)

    def _files(self) -> dict[int, Path]:
        return dict(self._complete)

    def refresh(self) -> list[int]:
        """Re-list the folder; the complete snapshots' steps, oldest first."""
        found: dict[int, Path] = {}
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            entries = []
        checked, bad = {}, {}
        for entry in entries:
            m = _SNAPSHOT_NAME.match(entry.name)  # temporary names (.tmp_*) never match
            if not m:
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            key = (st.st_size, st.st_mtime_ns)
            if self._bad.get(entry.name) == key:  # asked once per version of the file
                bad[entry.name] = key
                continue
            state = "complete" if self._checked.get(entry.name) == key else \
                snapshot_state(entry.path)
            if state == "complete":
                checked[entry.name] = key
                found[int(m.group(1))] = Path(entry.path)
            elif state == "bad":
                bad[entry.name] = key
        self._checked, self._bad = checked, bad
        self._complete = dict(sorted(found.items()))  # one assignment: readers see old or new
        return list(self._complete)

    def add(self, *args: Any, **kwargs: Any) -> Path:
        raise TypeError("a followed run's snapshots are read-only")

    def clear(self) -> None:
        raise TypeError("a followed run's snapshots are read-only")


@dataclass
class RunUpdate:
    """What one poll found. `reset`: the records were replaced (a new or continued run in the
    same folder): `records` is then all of them, not only the new ones."""

    configs: dict[str, Any] | None
    records: list[dict[str, Any]] = field(default_factory=list)
    reset: bool = False
    snapshots: list[int] = field(default_factory=list)  # every complete snapshot's step
    new_snapshots: list[int] = field(default_factory=list)
    end: dict[str, Any] | None = None  # end.json once the run has ended
    # Skipped, not fatal: record lines that are not JSON objects, snapshots that are not
    # readable, and the run's files that are not regular files (a FIFO is never opened).
    bad_lines: int = 0
    bad_snapshots: int = 0
    refused: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.records or self.reset or self.new_snapshots or self.end)


def is_run(directory: str | os.PathLike) -> bool:
    """The folder holds a run's configs or records."""
    d = Path(directory)
    return d.is_dir() and ((d / CONFIGS).is_file() or (d / RECORDS).is_file())


def _read_json(path: Path, refused: set[str]) -> dict | None:
    try:
        with open_regular(path) as f:
            data = json.loads(f.read().decode("utf-8"))
    except NotARegularFile:
        refused.add(path.name)
        return None
    except (OSError, ValueError, RecursionError):
        return None  # absent, or (a foreign copy tool's) half-written: read it next time
    return data if isinstance(data, dict) else None


class RunReader:
    """Follows a run directory by polling: each `poll()` reads only what was added since."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        if not is_run(self.directory):
            raise NotARun(f"'{self.directory}' is not a training run: it has no {CONFIGS} or "
                          f"{RECORDS}")
        self.snapshots = RunSnapshots(self.directory / SNAPSHOTS)
        self.configs: dict[str, Any] | None = None
        self.bad_lines = 0  # complete lines that were not JSON records (skipped)
        self.refused: set[str] = set()  # the run's files that are FIFOs or devices (unread)
        self._offset = 0  # bytes of records.jsonl consumed: always at a line's end
        self._run_id: str | None = None
        self._steps: list[int] = []

    def poll(self) -> RunUpdate:
        """Read what is new: complete record lines, complete snapshots, the configs and the end."""
        reset = False
        # The end first: the writer writes it after its last records, so when it is there
        # before the records are read, this poll reads every record of the run.
        end = _read_json(self.directory / END, self.refused)
        configs = _read_json(self.directory / CONFIGS, self.refused)
        if configs is not None:
            if self._run_id is not None and configs.get("run_id") != self._run_id:
                reset = True  # the writer started the records anew
            self._run_id = configs.get("run_id")
            self.configs = configs
        rows, shrunk = self._read_records(reset)
        steps = self.snapshots.refresh()
        new = sorted(set(steps) - set(self._steps))
        if reset or shrunk:
            new = steps
        self._steps = steps
        return RunUpdate(self.configs, rows, reset or shrunk, steps, new, end, self.bad_lines,
                         self.snapshots.bad, tuple(sorted(self.refused)))

    def _read_records(self, reset: bool) -> tuple[list[dict], bool]:
        path = self.directory / RECORDS
        try:
            with open_regular(path) as f:  # a FIFO would block this poll, and the window
                size = os.fstat(f.fileno()).st_size
                shrunk = size < self._offset  # replaced by a shorter file: start over
                if reset or shrunk:
                    self._offset = 0
                f.seek(self._offset)
                data = f.read()
        except NotARegularFile:
            self.refused.add(path.name)
            return [], False
        except OSError:
            return [], False
        end = data.rfind(b"\n")
        if end < 0:
            return [], shrunk  # not even one whole line yet
        rows = []
        for line in data[:end].split(b"\n"):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):  # 100,000 "[" recurse past Python's limit
                row = None
            if isinstance(row, dict):
                rows.append(row)
            else:
                self.bad_lines += 1
        self._offset += end + 1
        return rows, shrunk

    def checkpoint(self, end: dict | None) -> Path | None:
        """The ended run's checkpoint file, if it names one that exists."""
        if not end or not end.get("checkpoint"):
            return None
        path = Path(end["checkpoint"])
        path = path if path.is_absolute() else self.directory / path
        return path if path.is_file() else None


def follow(directory: str | os.PathLike, interval_s: float = 1.0,
           idle_s: float | None = None) -> Iterator[RunUpdate]:
    """Poll a run directory, yielding each update that changed something, until it has ended
    (or nothing new arrived for `idle_s` seconds)."""
    reader = RunReader(directory)
    last = time.monotonic()
    while True:
        update = reader.poll()
        if update.changed:
            last = time.monotonic()
            yield update
        if update.end is not None or (idle_s is not None and time.monotonic() - last > idle_s):
            return
        time.sleep(interval_s)


def run_snapshot(directory: str | os.PathLike, step: int | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) of a run folder's snapshot of `step` (None: the newest), built from
    its run.json; NotARun or ValueError with one line when it cannot be."""
    from engine.config import ModelConfig
    from engine.text.fullvocab import tokenizer_from_dict
    from engine.training.snapshots import snapshot_model
    from engine.wording import say

    d = Path(directory)
    if not is_run(d):
        raise NotARun(f"'{d}' is not a training run: it has no {CONFIGS} or {RECORDS}")
    configs = _read_json(d / CONFIGS, set())
    try:
        config = ModelConfig.from_dict(configs["model_config"])
        tokenizer = tokenizer_from_dict(configs["tokenizer"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ValueError(say("snapshot.no_config", run=d)) from None
    store = RunSnapshots(d / SNAPSHOTS)
    steps = store.refresh()
    chosen = (steps[-1] if steps else -1) if step is None else step
    if chosen not in steps:
        listed = ", ".join(map(str, steps[:8])) + (" …" if len(steps) > 8 else "")
        raise ValueError(say("snapshot.missing", run=d, step=chosen, steps=listed or "—"))
    return snapshot_model(store, chosen, config), tokenizer
