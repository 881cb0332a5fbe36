"""What the attribution views show, computed without widgets: the blocks × heads grid of a
direct logit attribution, its sorted table, the colour of a token's share and the CSV rows.

Everything here can be tested without a window; the views only turn it into cells and text.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from engine.model.attribution import CONSTANTS, LogitAttribution

# Signed shares: blue below zero, white at zero, red above (as the app's signed heatmaps).
SHARE_CMAP = pg.ColorMap([0.0, 0.5, 1.0], [(33, 102, 172), (255, 255, 255), (178, 24, 43)])
GREEN, RED, GREY = "#1b7f2a", "#c62828", "#555555"
CHECK_STYLE = {"pass": f"color: {GREEN}; font-weight: bold;",
               "fail": f"color: {RED}; font-weight: bold;",
               "wait": f"color: {GREY};"}
TARGET_CHOICES = 12  # next-token guesses offered as the target (and as the "versus" token)


def head_part(layer: int, head: int) -> str:
    """The engine's name of a head's part, e.g. 'blocks.3.attn.head.5'."""
    return f"blocks.{layer}.attn.head.{head}"


def mlp_part(layer: int) -> str:
    return f"blocks.{layer}.mlp"


def short_name(part: str) -> str:
    """'blocks.3.attn.head.5' -> 'L3H5', 'blocks.3.mlp' -> 'L3 MLP'; others unchanged."""
    bits = part.split(".")
    if len(bits) == 5 and bits[0] == "blocks" and bits[2:4] == ["attn", "head"]:
        return f"L{bits[1]}H{bits[4]}"
    if len(bits) == 3 and bits[0] == "blocks" and bits[2] == "mlp":
        return f"L{bits[1]} MLP"
    return part


@dataclass(frozen=True)
class Grid:
    """The blocks × (heads + MLP) matrix of a direct logit attribution."""

    values: np.ndarray  # (n_layer, n_head + 1) float64: heads, then the MLP in the last column
    row_labels: list[str]  # "block 0" …
    col_labels: list[str]  # "H0" … "MLP"


def dla_grid(attribution: LogitAttribution, n_layer: int, n_head: int,
             block_word: str = "block {0}") -> Grid:
    """The heads' and MLPs' shares laid out as blocks (rows) × heads plus an MLP column."""
    parts = attribution.parts
    m = np.zeros((n_layer, n_head + 1))  # (L, nh + 1)
    for layer in range(n_layer):
        for h in range(n_head):
            m[layer, h] = parts[head_part(layer, h)]
        m[layer, n_head] = parts[mlp_part(layer)]
    rows = [block_word.format(layer) for layer in range(n_layer)]
    cols = [f"H{h}" for h in range(n_head)] + ["MLP"]
    return Grid(values=m, row_labels=rows, col_labels=cols)


@dataclass(frozen=True)
class PartRow:
    """One line of the sorted table: a part, its share of the logit, and that as a percent."""

    name: str
    share: float
    percent: float | None  # share / logit × 100; None when the logit is (nearly) zero


def sorted_parts(attribution: LogitAttribution) -> list[PartRow]:
    """Every part, the largest |share| first."""
    logit = attribution.logit
    return [PartRow(name, share, share / logit * 100 if abs(logit) > 1e-9 else None)
            for name, share in attribution.top()]


def head_rank(attribution: LogitAttribution, layer: int, head: int) -> int:
    """Where head (layer, head) stands among the heads by |share| (1 = largest)."""
    heads = [(n, abs(v)) for n, v in attribution.parts.items() if ".attn.head." in n]
    heads.sort(key=lambda nv: -nv[1])
    return 1 + [n for n, _ in heads].index(head_part(layer, head))


def tick_labels(labels: Sequence[str], pixels: float, per_label: float = 48.0
                ) -> list[tuple[float, str]]:
    """Bottom-axis ticks for bars 0, 1, …: every label when they fit in `pixels`, else every
    k-th one (the others would be drawn over each other)."""
    n = len(labels)
    step = max(1, int(np.ceil(n * per_label / max(pixels, 1.0))))
    return [(float(i), labels[i]) for i in range(0, n, step)]


def check_passed(error: float, tolerance: float) -> bool:
    return bool(np.isfinite(error)) and error <= tolerance


# -- token shares --------------------------------------------------------------------------------

def share_colours(values: Sequence[float]) -> list[QColor]:
    """One colour per value, on a scale symmetric about zero (white 0, red +, blue −)."""
    v = np.asarray(values, dtype=np.float64)
    top = float(np.abs(v).max()) if v.size else 0.0
    frac = 0.5 + 0.5 * v / top if top > 0 else np.full(v.shape, 0.5)  # (T,) in 0..1
    return list(SHARE_CMAP.map(np.clip(frac, 0, 1), mode="qcolor")) if v.size else []


# -- CSV -----------------------------------------------------------------------------------------

def write_csv(path: str | os.PathLike, header: Sequence[str], rows: Sequence[Sequence]) -> None:
    """A header line and `rows`, floats written in full (repr) so a reader can redo the sums."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow([repr(float(x)) if isinstance(x, (float, np.floating)) else x
                        for x in row])


def dla_csv_rows(attribution: LogitAttribution) -> list[list]:
    """part, share: every part in forward order, then the sum and the real logit."""
    rows: list[list] = [[name, share] for name, share in attribution.parts.items()]
    rows.append(["sum_of_parts", attribution.total])
    rows.append(["logit", attribution.logit])
    return rows


def is_constants(part: str) -> bool:
    return part == CONSTANTS


# -- activation patching -------------------------------------------------------------------------

def patch_grid(result, block_word: str = "block {0}", after_word: str = "after block {0}",
               pieces: Sequence[str] | None = None, embed_word: str = "embed") -> Grid:
    """engine.model.patching's restored fractions as a matrix with readable labels: residual
    (embed, after block 0 …) × positions; blocks × heads; blocks × one MLP column."""
    restored = np.asarray(result.restored, dtype=np.float64)
    if result.kind == "residual":
        rows = [embed_word] + [after_word.format(layer) for layer in range(restored.shape[0] - 1)]
        T = restored.shape[1]
        cols = [f"{t} {pieces[t]}" if pieces is not None and t < len(pieces) else str(t)
                for t in range(T)]
        return Grid(values=restored, row_labels=rows, col_labels=cols)
    if result.kind == "heads":
        rows = [block_word.format(layer) for layer in range(restored.shape[0])]
        return Grid(values=restored, row_labels=rows,
                    col_labels=[f"H{h}" for h in range(restored.shape[1])])
    rows = [block_word.format(layer) for layer in range(restored.shape[0])]
    return Grid(values=restored[:, None], row_labels=rows, col_labels=["MLP"])


def shown_checks(patched) -> list[tuple[str, float, bool]]:
    """engine.model.patching's checks that mean something for a run (jobs.Patched), as (name,
    value, passed): with two prompts that give the same score only "the clean prompt against
    itself restores 0" (there is nothing for the others to restore); otherwise all four:
    nothing 0, everything 1, a whole layer 1, itself 0."""
    c, r = patched.checks, patched.result
    itself = ("itself", c.itself, abs(c.itself) <= c.tolerance)
    if r.no_difference:
        return [itself]
    return [("nothing", c.nothing, abs(c.nothing) <= c.tolerance),
            ("everything", c.everything, abs(c.everything - 1) <= c.tolerance),
            ("layer", c.whole_layer, abs(c.whole_layer - 1) <= c.tolerance), itself]
