"""What the Compare runs panel asks off the GUI thread: one side's curves, model and attention
on the context text (engine.training.run_comparison), and the runs it offers. No widgets."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.training.run_comparison import (
    RunAttention,
    RunCurves,
    RunModel,
    attention_of,
    load_model,
    read_curves,
)
from engine.training.runreader import is_run

RECENT_MAX = 12  # runs offered in each picker


@dataclass
class SideResult:
    """One side, loaded: its curves and attention, or the one line that says why not."""

    path: str
    curves: RunCurves | None
    attention: RunAttention | None
    problem: object = None  # the exception (a Said where the engine worded it), or None


def _stamp(path: str) -> tuple:
    """What changes when a run saves new weights (its end, its snapshots, the file itself)."""
    p = Path(path)
    parts = []
    for part in (p, p / "end.json", p / "snapshots"):
        try:
            st = part.stat()
            parts.append((st.st_mtime_ns, st.st_size))
        except OSError:
            parts.append(None)
    return tuple(parts)


def load_side(path: str, text: str, models: dict[str, tuple[tuple, RunModel]],
              keep: tuple[str, ...] = ()) -> SideResult:
    """Read a side's curves, open (or reuse from `models`) its model, trace `text` through it.

    A run folder's records are read again each time (a run still going has more); a model
    file is opened once until it changes. `models` holds the models of `path` and `keep` only
    (the runs chosen now), and is only touched on the worker's thread (one job at a time), so
    the GUI never shares a model with it."""
    for old in [p for p in models if p != path and p not in keep]:
        del models[old]
    folder = Path(path).is_dir()
    curves = None
    try:
        if folder:
            curves = read_curves(path)
        stamp = _stamp(path)
        cached = models.get(path)
        if cached is None or cached[0] != stamp:
            models.pop(path, None)  # the old weights go before the new ones are read
            models[path] = (stamp, load_model(path))
        side = models[path][1]
        curves = curves if folder else side.curves
        return SideResult(path, curves, attention_of(side, text))
    except (ValueError, OSError) as exc:
        return SideResult(path, curves, None, exc)


def recent_runs(remembered: list[str], runs_folder: Path | None) -> list[str]:
    """Runs to offer, newest first: those chosen before, then the window's own runs."""
    found = [p for p in remembered if p and os.path.exists(p)]
    try:
        own = sorted((p for p in runs_folder.iterdir() if p.is_dir() and is_run(p)),
                     key=lambda p: p.name, reverse=True) if runs_folder else []
    except OSError:
        own = []
    for p in own:
        if str(p) not in found:
            found.append(str(p))
    return found[:RECENT_MAX]
