"""Does the model fit the text? Two plain rules, for the window and the command line.

- `overfitting(history)`: validation loss has risen for RISES evaluations in a row since its
  best, and the newest one is at least MIN_RISE above it: the model is memorising the text.
  (On the article, 20k tokens for 646k parameters, validation rose from about step 300 while
  training loss fell for 1,700 more steps.)
- `suggest(tokens, config)`: when a model has more than PARAMS_PER_TOKEN parameters for each
  token of its text, expect overfitting; suggest dropout SUGGESTED_DROPOUT and a model half as
  wide and half as deep (d_model and d_ff halved, at least MIN_D_MODEL; layers halved).

No Qt, no wording: the viewer words what these return, in its language.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import gcd
from typing import Any, Sequence

from engine.config import ModelConfig

RISES = 3  # evaluations in a row above the best before we call it overfitting
MIN_RISE = 0.01  # ... and the newest at least 1% above the best (not noise around a plateau)
PARAMS_PER_TOKEN = 10  # more parameters than this per token of text: expect overfitting
SUGGESTED_DROPOUT = 0.2
MIN_D_MODEL = 16


@dataclass(frozen=True)
class Overfitting:
    """Validation loss was lowest at `best_step` (`best_val`) and has been above it for
    `evaluations` evaluations since, up to `last_val` at `last_step`."""

    best_step: int
    best_val: float
    evaluations: int
    last_step: int
    last_val: float


def evaluations(history: list[dict[str, Any]]) -> list[tuple[int, float]]:
    """(step, val_loss) of every evaluation record in `history`, in order."""
    return [(int(r["step"]), float(r["val_loss"])) for r in history
            if r.get("val_loss") is not None and r.get("event", "step") == "eval"]


def best_evaluation(history: list[dict[str, Any]]) -> tuple[int, float] | None:
    """(step, val_loss) of the evaluation with the lowest validation loss (the first such)."""
    evals = evaluations(history)
    return min(evals, key=lambda e: e[1]) if evals else None


def overfitting(history: list[dict[str, Any]], rises: int = RISES,
                min_rise: float = MIN_RISE) -> Overfitting | None:
    """Overfitting when every one of at least `rises` evaluations since the best is above it
    and the newest is `min_rise` (relative) above it; else None."""
    evals = evaluations(history)
    return overfitting_in([s for s, _ in evals], [v for _, v in evals], rises, min_rise)


def overfitting_in(steps: Sequence[float], val_losses: Sequence[float], rises: int = RISES,
                   min_rise: float = MIN_RISE) -> Overfitting | None:
    """`overfitting` of evaluations given as steps and validation losses (e.g. arrays)."""
    n = len(val_losses)
    if n == 0:
        return None
    best = min(range(n), key=lambda i: val_losses[i])  # the first lowest
    best_val, last_val = float(val_losses[best]), float(val_losses[-1])
    if n - 1 - best < rises or last_val < best_val * (1 + min_rise):
        return None
    return Overfitting(int(steps[best]), best_val, n - 1 - best, int(steps[-1]), last_val)


@dataclass(frozen=True)
class Suggestion:
    """The text has `tokens` tokens for the model's `params` parameters; `config` fits it
    better (`config_params` parameters). `changes`: the fields that differ, name -> value."""

    tokens: int
    params: int
    config: ModelConfig
    config_params: int
    changes: dict[str, Any]


def too_big(tokens: int, params: int) -> bool:
    """More than PARAMS_PER_TOKEN parameters for each token of text."""
    return tokens > 0 and params > PARAMS_PER_TOKEN * tokens


def smaller(config: ModelConfig) -> ModelConfig:
    """Dropout at least SUGGESTED_DROPOUT; d_model and d_ff halved (d_model at least
    MIN_D_MODEL, heads reduced when they no longer divide it); half the layers (at least 1)."""
    d_model = max(MIN_D_MODEL, config.d_model // 2) if config.d_model > MIN_D_MODEL \
        else config.d_model
    n_head = gcd(config.n_head, d_model)
    d_ff = max(1, config.d_ff * d_model // config.d_model)
    return replace(config, d_model=d_model, n_head=n_head, d_ff=d_ff,
                   n_layer=max(1, config.n_layer // 2),
                   dropout=max(config.dropout, SUGGESTED_DROPOUT))


def suggest(tokens: int, config: ModelConfig, params: int | None = None) -> Suggestion | None:
    """A better-fitting config when `config` (of `params` parameters, counted if None) is
    too big for `tokens` tokens of text; None when it is not."""
    from engine.training.memory import param_count

    params = param_count(config) if params is None else params
    if not too_big(tokens, params):
        return None
    better = smaller(config)
    changes = {name: getattr(better, name) for name in
               ("dropout", "d_model", "n_head", "d_ff", "n_layer")
               if getattr(better, name) != getattr(config, name)}
    return Suggestion(tokens, params, better, param_count(better), changes)
