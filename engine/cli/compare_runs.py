"""`transformer-explorer compare-runs A B`: two training runs' losses at equal steps and tokens.

A and B are run folders (or model files, whose history is their run's records), e.g. a GPT and
a Llama-style model trained on the same text (engine.training.run_comparison). Runs with
different batch sizes line up by training tokens, not by steps, so both are printed.
"""
from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when the command runs: the CLI starts without torch
    from engine.training.run_comparison import LossesAt, RunCurves


def add_parser(sub: argparse._SubParsersAction, lang: argparse.ArgumentParser) -> None:
    """The `compare-runs` subcommand and its options."""
    p = sub.add_parser(
        "compare-runs", parents=[lang], help="two training runs' losses side by side",
        description="Two training runs (folders written by `train --out` or the window, or "
        "saved models) side by side: each one's architecture and size, and its train loss, "
        "validation loss and best validation loss at the furthest step both runs reached and "
        "at the most training tokens both saw (runs with different batch sizes line up by "
        "tokens). A killed run is read as far as its records go.")
    p.add_argument("a", metavar="RUN_A")
    p.add_argument("b", metavar="RUN_B")
    p.add_argument("--json", action="store_true")


def _losses(at: "LossesAt") -> dict:
    return {"train_loss": at.train, "val_loss": at.val, "best_val_loss": at.best_val}


def _run(curves: "RunCurves") -> dict:
    from engine.training.run_comparison import LossesAt

    return {"path": str(curves.path), **curves.label.to_dict(), "outcome": curves.outcome,
            "last_step": curves.last_step, "last_tokens": curves.last_tokens,
            "final": _losses(LossesAt.of(curves, "step", curves.last_step))}


def _number(x: float | None) -> str:
    return "—" if x is None else f"{x:.4f}"


def cmd_compare_runs(args: argparse.Namespace) -> int:
    """Run `compare-runs`; user errors raise (commands.main prints them on one line)."""
    from engine.training.run_comparison import LossesAt, equal_points, read_curves

    a, b = read_curves(args.a), read_curves(args.b)
    points = equal_points(a, b)
    if args.json:
        print(json.dumps({"a": _run(a), "b": _run(b), "equal": [
            {"axis": p.axis, "at": p.at, "a": _losses(p.a), "b": _losses(p.b)}
            for p in points]}, ensure_ascii=False))
        return 0
    for name, c in (("A", a), ("B", b)):
        ended = c.outcome or "not ended (running or killed)"
        print(f"{name}: {c.path}\n   {c.label.shape()}; {c.last_step:,} steps, "
              f"{c.last_tokens:,} tokens; {ended}")
    print(f"{'':<22}{'train A':>9}{'train B':>9}{'val A':>9}{'val B':>9}"
          f"{'best val A':>12}{'best val B':>12}")
    rows = [("final", LossesAt.of(a, "step", a.last_step), LossesAt.of(b, "step", b.last_step))]
    rows += [(f"at step {p.at:,}" if p.axis == "step" else f"at {p.at:,} tokens", p.a, p.b)
             for p in points]
    for title, x, y in rows:
        print(f"{title:<22}{_number(x.train):>9}{_number(y.train):>9}{_number(x.val):>9}"
              f"{_number(y.val):>9}{_number(x.best_val):>12}{_number(y.best_val):>12}")
    return 0
