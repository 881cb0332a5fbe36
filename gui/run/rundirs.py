"""Where the window's own training runs write their run directories (engine.training.rundir).

Each run gets a folder of its own under the runs folder (settings "paths/runs_folder", by
default the user's data folder), named by its start time and text, so File → Open run can open
it again after the window closed. Only the newest KEEP_RUNS of the window's runs are kept:
older ones are removed when a new run starts (a long day of experiments stays bounded on disk).
"""
from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from engine.training.rundir import CONFIGS
from gui import settings

KEEP_RUNS = 10  # up to ~120 MB each for the default model (40 snapshots of 3 MB)
_NAME = re.compile(r"^run-\d{8}-\d{6}")  # the folders this module makes


def runs_folder() -> Path:
    """The folder that holds the window's runs."""
    chosen = settings.read("paths/runs_folder", "")
    if chosen:
        return Path(chosen)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home()) / "TransformerExplorer" / "runs"


def new_run_dir(corpus_path: str | None, keep: tuple[str, ...] = ()) -> str:
    """A fresh, empty folder for a run on `corpus_path`; older window runs beyond KEEP_RUNS go
    (except those in `keep`, e.g. the run being followed)."""
    root = runs_folder()
    root.mkdir(parents=True, exist_ok=True)
    _prune(root, {str(Path(k).absolute()) for k in keep})
    stem = re.sub(r"[^\w.-]+", "_", Path(corpus_path).stem)[:40] if corpus_path else "text"
    name = f"run-{time.strftime('%Y%m%d-%H%M%S')}-{stem}"
    for i in range(1000):  # two runs started within a second get distinct folders
        path = root / (name if i == 0 else f"{name}-{i}")
        try:
            path.mkdir()
            return str(path)
        except FileExistsError:
            continue
    raise OSError(f"cannot make a run folder in {root}")


def _prune(root: Path, keep: set[str]) -> None:
    runs = sorted(p for p in root.iterdir() if p.is_dir() and _NAME.match(p.name))
    for old in runs[:max(0, len(runs) - (KEEP_RUNS - 1))]:
        if str(old.absolute()) in keep or not _is_window_run(old):
            continue
        shutil.rmtree(old, ignore_errors=True)


def _is_window_run(path: Path) -> bool:
    """Made by the window: its run.json says so, or it is empty (the run failed before it)."""
    try:
        return json.loads((path / CONFIGS).read_text(encoding="utf-8")).get("source") == "window"
    except FileNotFoundError:
        return not any(path.iterdir())
    except (OSError, ValueError, AttributeError):
        return False
