"""Writing steps and training history to files a spreadsheet or NumPy can open.

CSV layout of a step (chosen to look like the tables the articles print): comment lines start
with `#`; the first says which step it is and its shape with named axes. An array of more than two
axes is written as one 2-D block per leading index, each introduced by a comment such as
`# batch 0, head 1` and followed by a blank line. Every block starts with a header row whose first
cell names the two axes (`query \\ key`) and whose other cells label the columns; each data row
starts with its row label. Labels are `index` for plain dimensions and `index:piece` for token
axes when token pieces are given. -inf (the causal mask) is written as `-inf`. Values use `%.9g`,
which round-trips float32 exactly.
"""
from __future__ import annotations

import csv
import itertools
import os
from typing import Any, Sequence

import numpy as np

from engine.model.trace import Step

TOKEN_AXES = ("context", "query", "key")
_SINGULAR = {"heads": "head"}


def _fmt(v: float) -> str:
    if np.isneginf(v):
        return "-inf"
    if np.isposinf(v):
        return "inf"
    return "%.9g" % v


def axis_labels(
    axis: str, size: int, batch: int = 0,
    token_pieces: Sequence[Sequence[str]] | None = None,
    vocab_pieces: Sequence[str] | None = None,
) -> list[str]:
    """Labels of one axis: token pieces on context/query/key, vocabulary pieces on vocab."""
    if axis in TOKEN_AXES and token_pieces is not None and batch < len(token_pieces):
        row = token_pieces[batch]
        return [f"{i}:{row[i]}" if i < len(row) else str(i) for i in range(size)]
    if axis == "vocab" and vocab_pieces is not None:
        return [f"{i}:{vocab_pieces[i]}" if i < len(vocab_pieces) else str(i) for i in range(size)]
    return [str(i) for i in range(size)]


def step_to_csv(
    step: Step,
    path: str | os.PathLike,
    token_pieces: Sequence[Sequence[str]] | None = None,
    vocab_pieces: Sequence[str] | None = None,
) -> None:
    """Write a step's values as labelled 2-D blocks (see the module docstring).

    token_pieces: per batch row, the display piece of each token (labels context/query/key).
    vocab_pieces: the display piece of each vocabulary id (labels the vocab axis).
    """
    values = np.asarray(step.values)
    axes = list(step.axes)
    shape = ", ".join(f"{a} {n}" for a, n in zip(axes, values.shape))
    if values.ndim == 1:
        values, axes = values[None], ["row"] + axes
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        f.write(f"# {step.name}: {step.title} | {step.formula} | shape [{shape}]\n")
        lead = values.shape[:-2]
        row_axis, col_axis = axes[-2], axes[-1]
        for index in itertools.product(*(range(n) for n in lead)):
            batch = index[axes.index("batch")] if "batch" in axes[:-2] else 0
            if index:
                parts = [f"{_SINGULAR.get(a, a)} {i}" for a, i in zip(axes, index)]
                f.write("# " + ", ".join(parts) + "\n")
            block = values[index]  # (rows, cols)
            # When rows are batch entries (the tokens step), each row has its own tokens, so the
            # columns are labelled by position only.
            pieces = None if row_axis == "batch" else token_pieces
            rows = axis_labels(row_axis, block.shape[0], batch, pieces, vocab_pieces)
            cols = axis_labels(col_axis, block.shape[1], batch, pieces, vocab_pieces)
            w.writerow([f"{row_axis} \\ {col_axis}"] + cols)
            for label, row in zip(rows, block):
                w.writerow([label] + [_fmt(v) for v in row])
            if index:
                f.write("\n")


def step_to_npy(step: Step, path: str | os.PathLike) -> None:
    """Save a step's values as a float32 .npy array (axes in the step's order)."""
    np.save(path, np.asarray(step.values, dtype=np.float32))


def history_to_csv(history: list[dict[str, Any]], path: str | os.PathLike) -> None:
    """Training records as one CSV row each; columns are every key seen, in first-seen order."""
    columns: list[str] = []
    for row in history:
        for key in row:
            if key not in columns:
                columns.append(key)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, restval="")
        w.writeheader()
        for row in history:
            w.writerow({k: ("" if v is None else v) for k, v in row.items()})
