"""One writer per run folder: a lock file holding the writing process's id.

Two runs writing one folder interleave their records, and the first to end writes end.json
while the other keeps writing. So a run takes `DIR/.run.lock` before it writes anything and
removes it when it ends. A lock whose process is gone (killed, machine restarted) is stale and
is taken over; a live one refuses the second writer, naming the first one's pid.

A process is recognised by its pid and, on Linux, its start time, so a pid reused by another
program after a crash does not keep the folder locked for ever. A lock written on another
machine (a shared folder) cannot be checked from here and is respected.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

LOCK = ".run.lock"


class RunLocked(ValueError):
    """Another live process is writing this run folder; one-line message naming its pid."""


def _started(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from its last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    try:
        return int(fields[19])  # field 22 of the whole line: starttime
    except (IndexError, ValueError):
        return None


def _alive(pid: int, started: int | None) -> bool:
    """The process `pid` exists and is the one that took the lock (same start time)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's live process
    except OSError:
        return False
    now = _started(pid)
    return started is None or now is None or now == started


class RunLock:
    """The lock of one run folder, held by this process until `release()`."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.path = self.directory / LOCK
        self.held = False
        self.took_over: int | None = None  # the pid of a stale lock this one replaced
        self._made = False

    def _mine(self) -> dict:
        return {"pid": os.getpid(), "started": _started(os.getpid()),
                "host": socket.gethostname()}

    def holder(self) -> dict | None:
        """What the lock file says (None: no lock, or an unreadable one)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def acquire(self) -> "RunLock":
        """Take the lock; RunLocked when a live process holds it. Returns self."""
        self._made = not self.directory.exists()  # removed again if nothing else was written
        self.directory.mkdir(parents=True, exist_ok=True)
        mine = json.dumps(self._mine())
        for _ in range(3):  # a lost race to a stale lock's take-over is tried again
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._check_stale()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(mine)
            self.held = True
            return self
        raise RunLocked(f"'{self.directory}' is being set up by another run at this moment; "
                        "try again, or choose another --out")

    def _check_stale(self) -> None:
        """Remove the lock when its process is gone; RunLocked when it is alive."""
        data = self.holder()
        if data is None:
            # Being written this instant by its taker (or damaged): respect it unless empty.
            try:
                empty = self.path.stat().st_size == 0
            except OSError:
                return  # gone already: try again
            if not empty:
                raise RunLocked(f"'{self.directory}' has a damaged lock {LOCK}; if no run is "
                                f"writing it, delete that file")
        else:
            pid = data.get("pid")
            here = data.get("host") in (None, socket.gethostname())
            if not isinstance(pid, int) or not here or _alive(pid, data.get("started")):
                who = f"process {pid}" if isinstance(pid, int) else "another process"
                where = "" if here else f" on {data.get('host')}"
                raise RunLocked(
                    f"'{self.directory}' is being written by another run ({who}{where}); wait "
                    "for it to end, stop it, or choose another --out")
            self.took_over = pid
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def release(self) -> None:
        """Remove the lock if this process still holds it (never another's)."""
        if not self.held:
            return
        self.held = False
        data = self.holder()
        if data is not None and data.get("pid") == os.getpid():
            try:
                self.path.unlink()
                if self._made:  # a run refused before it wrote anything leaves no folder
                    self.directory.rmdir()
            except OSError:
                pass  # not empty (the run's files), or gone: the next run finds it stale
