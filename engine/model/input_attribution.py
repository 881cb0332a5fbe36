"""Which earlier token mattered: gradient × input and integrated gradients, per input token.

The score is the model's output logit of a target token at one position (after a soft cap,
where the model has one: the number the model really predicts with), or the difference of two
such logits. A token's input is its vector from the token table (times the embedding scale,
where the model has one, which is linear); the positions stay as they are.

- Gradient × input: ∂score/∂xᵢ · xᵢ, summed over the vector's C numbers. A first-order guess,
  exact only for a linear model.
- Integrated gradients (Sundararajan et al., 2017): (xᵢ − b) · the mean gradient along the
  straight path from a baseline b to the input, the mean taken over n points of the path by
  Gauss–Legendre quadrature. Its shares add up to score(input) − score(baseline)
  (completeness), up to the error of the n-point rule: `completeness_error` measures it, and
  more steps make it smaller.

The baseline puts the average row of the token table at every position, a token that says
nothing in particular. Not the zero vector: in a model whose positions are rotary there is then
nothing at all in the residual stream, and an RMSNorm of a stream near zero jumps from 0 to a
unit vector, a step no n-point rule integrates.

Shapes: n = path steps in one batch, T = tokens up to the position, C = d_model, V = vocab.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from engine.model.attribution import AttributionError
from engine.model.hooks import eval_mode, probing
from engine.model.registry import final_stream
from engine.wording import say

if TYPE_CHECKING:
    from engine.model.decoder import GPT

STEPS = 64  # integrated gradients' default path steps
BATCH = 16  # path points per forward
# Completeness must hold within this, relative to |score − baseline score| (plus 1e-4 absolute
# for float32 rounding). At STEPS points a smooth model (GELU, SiLU) is 1e-5 of it or closer; a
# ReLU's kinks converge more slowly (the bundled model: 0.5 % of 12.8 at 64, 0.1 % at 128).
RELATIVE_TOLERANCE = 0.01


@dataclass(frozen=True)
class InputAttribution:
    """Each input token's share of a score, by gradient × input and by integrated gradients."""

    position: int
    target: int
    versus: int | None
    score: float  # the output logit (or difference) of the real input, after any soft cap
    baseline_score: float  # the same with the average token vector at every position
    gradient_x_input: list[float]  # (T,) tokens 0 … position
    integrated_gradients: list[float]  # (T,)
    steps: int

    @property
    def completeness_error(self) -> float:
        """|Σ integrated gradients − (score − baseline score)|."""
        return abs(sum(self.integrated_gradients) - (self.score - self.baseline_score))

    @property
    def tolerance(self) -> float:
        """What completeness must hold within at this many steps."""
        return RELATIVE_TOLERANCE * abs(self.score - self.baseline_score) + 1e-4

    def to_dict(self) -> dict:
        """The JSON form (the shares per token, the check and its tolerance)."""
        return {"position": self.position, "target": self.target, "versus": self.versus,
                "score": self.score, "baseline_score": self.baseline_score,
                "baseline": "the token table's average row at every position (positions "
                            "kept)",
                "gradient_x_input": self.gradient_x_input,
                "integrated_gradients": self.integrated_gradients, "steps": self.steps,
                "completeness_error": self.completeness_error, "tolerance": self.tolerance,
                "score_note": "the model's output logit, after any final soft cap"}


def path_points(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Where on the path from the baseline (0) to the input (1) the gradient is taken, and the
    weight of each point (they sum to 1): Gauss–Legendre's nodes, exact for a polynomial of
    degree 2n − 1, so far fewer steps reach a given error than the midpoint rule's."""
    nodes, weights = np.polynomial.legendre.leggauss(steps)  # on [−1, 1]
    return (nodes + 1) / 2, weights / 2  # (n,), (n,) on [0, 1]


def _scores(model: "GPT", idx: torch.Tensor, tok: torch.Tensor, base: torch.Tensor,
            alphas: Sequence[float], target: int, versus: int | None,
            grad: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """The score at the last position with the token vectors base + α(tok − base) for each α,
    and (with `grad`) its gradient with respect to those vectors: (n,) and (n, T, C),
    float64."""
    n = len(alphas)
    a = torch.tensor(alphas, dtype=tok.dtype, device=tok.device)  # (n,)
    x = (base + a[:, None, None] * (tok - base)).requires_grad_(grad)  # (n, T, C): a leaf

    final = final_stream(model.config)

    def probe(name: str, y: torch.Tensor) -> torch.Tensor:
        if name == "embed.token":
            return x  # the token vectors, replaced
        if name == final:  # only the last position's logits are read: project only it
            return y[:, -1:]  # (n, 1, C); a (T, V) projection was a fifth of the work
        return y

    with eval_mode(model), torch.set_grad_enabled(grad), probing(probe):
        logits, _ = model(idx.expand(n, -1))  # (n, 1, V), capped where the model caps
        row = logits[:, -1]  # (n, V)
        score = row[:, target] - (row[:, versus] if versus is not None else 0.0)  # (n,)
        slope = torch.autograd.grad(score.sum(), x)[0] if grad else None  # (n, T, C)
    score = score.detach().double().cpu().numpy()
    return score, None if slope is None else slope.double().cpu().numpy()


def _inputs(model: "GPT", ids: Sequence[int] | np.ndarray, position: int
            ) -> tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The position (from 0), the ids (1, T) up to it, their token vectors (T, C) and the
    baseline, the average token vector (C,)."""
    ids = np.asarray(ids)
    T = len(ids)
    if not -T <= position < T:
        raise AttributionError(say("attribution.position", position=position, n=T))
    t = position % T
    device = next(model.parameters()).device
    idx = torch.as_tensor(ids[: t + 1], dtype=torch.long, device=device)[None]  # (1, T)
    table = model.token_table().detach()  # (V, C)
    tok = table[idx[0]]  # (T, C)
    base = table.mean(0, dtype=torch.float64).to(tok.dtype)  # (C,) the average token
    return t, idx, tok, base


def gradient_x_input(model: "GPT", ids: Sequence[int] | np.ndarray, position: int,
                     target: int, versus: int | None = None) -> tuple[float, list[float]]:
    """The score of `target` (minus `versus`) after `position` and each token's gradient ×
    input up to it (T,): one forward and one backward."""
    t, idx, tok, base = _inputs(model, ids, position)
    score, slope = _scores(model, idx, tok, base, [1.0], target, versus)  # (1,), (1, T, C)
    grad_x = (slope[0] * tok.double().cpu().numpy()).sum(-1)  # (T,)
    return float(score[0]), [float(v) for v in grad_x]


def input_attribution(model: "GPT", ids: Sequence[int] | np.ndarray, position: int,
                      target: int, versus: int | None = None,
                      steps: int = STEPS) -> InputAttribution:
    """Gradient × input and integrated gradients (`steps` path points) of the score of `target`
    (minus `versus`) after `position`, for each token up to it."""
    if not isinstance(steps, int) or steps < 1:
        raise AttributionError(say("attribution.steps", value=steps))
    score, grad_x = gradient_x_input(model, ids, position, target, versus)
    t, idx, tok, base = _inputs(model, ids, position)
    tok64 = tok.double().cpu().numpy()  # (T, C)
    baseline, _ = _scores(model, idx, tok, base, [0.0], target, versus, grad=False)  # (1,)
    alphas, weights = path_points(steps)  # (n,), (n,)
    mean = np.zeros_like(tok64)  # (T, C): the mean gradient along the path
    for start in range(0, steps, BATCH):
        chunk = slice(start, start + BATCH)
        _, grads = _scores(model, idx, tok, base, alphas[chunk].tolist(), target, versus)
        mean += np.einsum("n,ntc->tc", weights[chunk], grads)  # (T, C)
    integrated = (mean * (tok64 - base.double().cpu().numpy())).sum(-1)  # (T,)
    return InputAttribution(position=t, target=int(target), versus=versus,
                            score=score, baseline_score=float(baseline[0]),
                            gradient_x_input=grad_x,
                            integrated_gradients=[float(v) for v in integrated], steps=steps)
