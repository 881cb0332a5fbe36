"""What the insights views show, computed without widgets: colours, head names, the ids to
work on, the lens's agreement with its trace, the loss reading and the before/after bars.

Everything here can be tested without a window; the views only turn it into table cells,
boxes and bars.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from engine.model.lens import TopK, per_token_loss
from engine.model.decoder import GPT
from gui.session import Session

LENS_CMAP = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (33, 102, 172)])  # p = 0 white, 1 blue
LOSS_CMAP = pg.ColorMap([0.0, 0.35, 0.7, 1.0],
                        [(200, 240, 205), (255, 240, 160), (250, 150, 90), (205, 45, 45)])
BEFORE_COLOUR = (120, 150, 200)
AFTER_COLOUR = (235, 130, 40)


# -- names and inputs ---------------------------------------------------------------------------

def head_name(layer: int, head: int) -> str:
    """'L0H1': the short name of a head used in notes and tooltips."""
    return f"L{layer}H{head}"


def head_names(heads: Iterable[Sequence[int]]) -> str:
    """'L0H0, L1H1' ('' for no heads)."""
    return ", ".join(head_name(*h) for h in heads)


def trace_ids(session: Session) -> np.ndarray:
    """The ids the session's trace was made from (B, T), else the context (1, T)."""
    if session.trace is not None:
        return session.trace.ids
    ids = session.context_ids()
    return ids[None] if len(ids) else np.zeros((1, 0), dtype=np.int64)


# -- colours ------------------------------------------------------------------------------------

def lens_colour(p: float) -> QColor:
    """The lens cell colour of probability `p` (white 0 → blue 1)."""
    return LENS_CMAP.map(np.array([min(max(p, 0.0), 1.0)]), mode="qcolor")[0]


# -- the logit lens -----------------------------------------------------------------------------

def next_id(ids: Sequence[int], position: int) -> int | None:
    """The token that really follows `position`, or None at the last position."""
    return ids[position + 1] if position + 1 < len(ids) else None


def lens_agrees(final: TopK, probs: np.ndarray, atol: float = 1e-4) -> bool:
    """Whether the lens's final row matches the trace's own prediction `probs` (V,): if not,
    the trace was made by other weights than the model decoding it (e.g. a snapshot)."""
    return all(abs(float(probs[i]) - p) < atol for i, p in final)


# -- per-token loss -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LossReading:
    """The loss of every predicted token of one sequence, and the scale it is coloured on."""

    loss: np.ndarray  # (T-1,) loss of token t+1 given tokens 0..t
    uniform: float  # ln(vocabulary): the loss of a uniform guess
    high: float  # top of the colour scale: the worst loss or the uniform one, whichever is more

    @classmethod
    def of(cls, model: GPT, ids: np.ndarray, vocab_size: int) -> LossReading:
        """Measure `ids` (T,) with `model` (T ≥ 2)."""
        return cls.of_losses(per_token_loss(model, ids), vocab_size)

    @classmethod
    def of_losses(cls, loss: np.ndarray, vocab_size: int) -> LossReading:
        """The reading of losses already measured (T-1,), e.g. by the trace."""
        uniform = math.log(vocab_size)
        return cls(loss=loss, uniform=uniform, high=max(float(loss.max()), uniform))

    def fractions(self) -> np.ndarray:
        """Each loss as a fraction (0..1) of the scale, for LOSS_CMAP."""
        return np.clip(self.loss / self.high, 0, 1)

    def colours(self) -> list[QColor]:
        """One colour per predicted token, in order."""
        return list(LOSS_CMAP.map(self.fractions(), mode="qcolor"))

    def worst(self) -> int:
        """Index into `loss` of the most surprising prediction (its target is position +1)."""
        return int(np.argmax(self.loss))


def nice_step(high: float) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10ⁿ) giving about six ticks from 0 to `high`."""
    raw = high / 6
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def scale_ticks(high: float) -> list[float]:
    """The tick values 0, step, 2·step … ≤ `high` of the loss colour bar."""
    step = nice_step(high)
    ticks, v = [], 0.0
    while v <= high + 1e-9:
        ticks.append(v)
        v += step
    return ticks


# -- the next-token shift -----------------------------------------------------------------------

@dataclass(frozen=True)
class ShiftBars:
    """The before/after chart: tokens along x, a bar per side where that side reported one."""

    order: list[int]  # token ids, one per x position
    before_x: np.ndarray
    before_height: np.ndarray
    after_x: np.ndarray
    after_height: np.ndarray
    top: float  # the highest bar (1.0 when there is none)


def shift_bars(shift: dict[str, TopK], offset: float = 0.2) -> ShiftBars:
    """Bars of engine.model.lens.next_token_shift: the intact model's guesses in order, then any
    that only ablation brings; a token outside one side's top-k has no bar on that side (its
    probability was not reported)."""
    before, after = dict(shift["before"]), dict(shift["after"])
    order = [i for i, _ in shift["before"]]
    order += [i for i, _ in shift["after"] if i not in before]
    x = np.arange(len(order), dtype=np.float64)
    hb = np.array([before.get(i, np.nan) for i in order])
    ha = np.array([after.get(i, np.nan) for i in order])
    top = float(np.nanmax(np.concatenate([hb, ha]))) if order else 1.0
    return ShiftBars(order=order,
                     before_x=x[~np.isnan(hb)] - offset, before_height=hb[~np.isnan(hb)],
                     after_x=x[~np.isnan(ha)] + offset, after_height=ha[~np.isnan(ha)],
                     top=top)
