"""What the rotary tabs of the Positional panel need besides the engine's numbers, with no
widgets: whether a model turns q and k instead of adding a table, the pairs offered first,
arrows as line segments from the origin, and the words that name an angle table."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication

from engine.model.decoder import GPT
from engine.model.rotary_readings import RotaryTable
from gui import i18n

MAX_ARROWS = 8  # positions drawn as arrows; more would hide each other
DEFAULT_PAIRS = (0, 1, 2, 4)  # the fastest-turning pairs, plus a slower one


def is_rotary(model: GPT | None) -> bool:
    """The model turns each head's q and k by position (no table added to the tokens)."""
    return model is not None and model.config.positional == "rotary"


def default_pairs(n_pairs: int) -> list[int]:
    """The pairs drawn for a new model: the fast ones and the slowest (last) one."""
    return sorted({p for p in DEFAULT_PAIRS if p < n_pairs} | {n_pairs - 1})


def segments(tips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of lines from the origin to each tip (P, 2), for connect='pairs'."""
    xy = np.zeros((2 * len(tips), 2))  # (2P, 2): origin, tip, origin, tip ...
    xy[1::2] = tips
    return xy[:, 0], xy[:, 1]


def wavelength(theta: float) -> float:
    """Positions for pair θ to turn once round (2π / θ)."""
    return float(2 * np.pi / theta)


def turn_arc(start: np.ndarray, angle: float, steps: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """x and y of an arc at 40 % of the arrow's length, from its direction before turning
    through `angle` (taken round once at most, counter-clockwise as rotary turns)."""
    r = 0.4 * float(np.hypot(*start))
    a0 = float(np.arctan2(start[1], start[0]))
    a = a0 + np.linspace(0.0, angle % (2 * np.pi), steps)  # (steps,)
    return r * np.cos(a), r * np.sin(a)


def format_value(v: float) -> str:
    """A base as the panel's numbers are written (six significant digits, as the views'
    format_value; this module imports no widget code)."""
    return f"{float(v):.6g}"


def scaling_text(t: RotaryTable) -> str:
    """", scaled (linear ×8)" for a scaled table, "" for an unscaled one."""
    if not t.scaling:
        return ""
    kind = t.scaling if t.factor is None else f"{t.scaling} ×{t.factor:g}"
    return QCoreApplication.translate("RotaryWavesView", ", scaled ({0})").format(kind)


def table_label(t: RotaryTable) -> str:
    """One line naming a table: which, its base and scaling, and the blocks that use it."""
    if t.local:
        return QCoreApplication.translate(
            "RotaryTable", "Local table: base {0}, unscaled; sliding-window blocks {1}").format(
            format_value(t.base), t.blocks_text())
    return QCoreApplication.translate(
        "RotaryTable", "Global table: base {0}{1}; full-attention blocks {2}").format(
        format_value(t.base), scaling_text(t), t.blocks_text())


def block_table_sentence(layer: int, t: RotaryTable) -> str:
    """Which table block `layer` turns with, as one sentence (for a model with two)."""
    if t.local:
        return QCoreApplication.translate(
            "RotaryTable", "Block {0} is a sliding-window block: it turns with the local table "
            "(base {1}, unscaled).").format(layer, format_value(t.base))
    return QCoreApplication.translate(
        "RotaryTable", "Block {0} is a full-attention block: it turns with the global table "
        "(base {1}{2}).").format(layer, format_value(t.base), scaling_text(t))


def two_sentences(first: str, second: str) -> str:
    """Two sentences one after the other: a space between them in English, none in Chinese."""
    return first + ("" if i18n.current() == "zh" else " ") + second
