"""What training changed: the same text under two versions of one model (two snapshots of a run,
or a checkpoint before and after more training).

- The loss of each next token under both, side by side, and the tokens whose loss fell or rose
  most.
- For every attention head, how far its pattern moved: the Jensen–Shannon divergence (base 2,
  so between 0 for the same distribution and 1 for two with nothing in common) between the two
  versions' attention rows, averaged over the query positions. A query row is a probability
  distribution over the keys it may see, so the divergence is defined for every row; it is
  symmetric, and unlike the KL divergence it stays finite where one version puts zero weight.

Pure torch and numpy: the window's panel and the CLI's `compare` show these results. Shapes:
T = tokens, V = vocab, nh = heads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from engine.model.hooks import eval_mode, probing
from engine.wording import say

if TYPE_CHECKING:
    from engine.model.decoder import GPT

DISTANCE = "mean Jensen–Shannon divergence (bits) over query rows"
# What must match for the comparison to mean anything: the same token ids, the same heads.
SHAPE = ("vocab_size", "n_layer", "n_head", "d_model")


class TrainingDiffError(ValueError):
    """Two models or a text that cannot be compared; the message is a Said."""


@dataclass
class TrainingDiff:
    """The same token ids under model A and model B."""

    ids: list[int]  # (T,) compact ids
    loss_a: np.ndarray  # (T-1,) cross-entropy of token i+1 given tokens 0…i, under A
    loss_b: np.ndarray  # (T-1,) the same under B
    improved: np.ndarray  # indices i with loss_b < loss_a, the largest fall first
    worsened: np.ndarray  # indices i with loss_b > loss_a, the largest rise first
    head_distance: np.ndarray  # (n_layer, nh) DISTANCE between A's and B's patterns
    distance: str = DISTANCE

    @property
    def change(self) -> np.ndarray:
        """loss_b − loss_a per token (T-1,): negative where B predicts the token better."""
        return self.loss_b - self.loss_a

    @property
    def mean_loss_a(self) -> float:
        return float(self.loss_a.mean())

    @property
    def mean_loss_b(self) -> float:
        return float(self.loss_b.mean())

    def top_heads(self, n: int = 10) -> list[tuple[int, int, float]]:
        """The n heads whose pattern moved most, as (layer, head, distance)."""
        flat = self.head_distance.reshape(-1)
        order = np.argsort(-flat, kind="stable")[:n]
        nh = self.head_distance.shape[1]
        return [(int(i) // nh, int(i) % nh, float(flat[i])) for i in order]

    def to_dict(self, n: int = 10) -> dict:
        """The JSON form; `improved`/`worsened` list the n largest changes (predicted token
        index i + 1)."""
        def rows(order: np.ndarray) -> list[dict]:
            return [{"index": int(i), "token": int(self.ids[i + 1]),
                     "loss_a": float(self.loss_a[i]), "loss_b": float(self.loss_b[i]),
                     "change": float(self.change[i])} for i in order[:n]]
        return {"ids": list(self.ids), "loss_a": self.loss_a.tolist(),
                "loss_b": self.loss_b.tolist(), "mean_loss_a": self.mean_loss_a,
                "mean_loss_b": self.mean_loss_b, "improved": rows(self.improved),
                "worsened": rows(self.worsened),
                "head_distance": self.head_distance.tolist(), "distance": self.distance,
                "loss_note": "loss_a[i] is the cross-entropy of token i+1 given tokens 0..i"}


def same_shape(model_a: "GPT", model_b: "GPT") -> None:
    """Refuse (TrainingDiffError, one line) two models that differ in vocabulary or shape."""
    a, b = model_a.config, model_b.config
    for name in SHAPE:
        if getattr(a, name) != getattr(b, name):
            raise TrainingDiffError(say("training_diff.shape", field=name, a=getattr(a, name),
                                        b=getattr(b, name)))


def _run(model: "GPT", idx: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits (1, T, V) and every block's attention pattern (nh, T, T) of one forward."""
    patterns: dict[str, torch.Tensor] = {}

    def probe(name: str, x: torch.Tensor) -> torch.Tensor:
        if name.endswith(".attn.pattern"):
            patterns[name] = x[0].detach()  # (nh, T, T)
        return x

    with torch.no_grad(), eval_mode(model), probing(probe):
        logits, _ = model(idx)  # (1, T, V)
    return logits, [patterns[f"blocks.{n}.attn.pattern"] for n in range(len(model.blocks))]


def _token_loss(logits: torch.Tensor, idx: torch.Tensor) -> np.ndarray:
    """Cross-entropy (T-1,) of each next token, in float64."""
    return F.cross_entropy(logits[0, :-1].double(), idx[0, 1:],
                           reduction="none").cpu().numpy()  # (T-1,)


def jensen_shannon(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """JS divergence in bits between distributions along the last axis: (..., K) -> (...)."""
    p, q = p.double(), q.double()
    m = (p + q) / 2  # (..., K)

    def kl(x: torch.Tensor) -> torch.Tensor:
        # 0·log(0 / m) is 0: masked keys hold exact zeros in both patterns.
        terms = torch.where(x > 0, x * torch.log2(x / m.clamp_min(1e-300)), torch.zeros_like(x))
        return terms.sum(-1)  # (...)
    return ((kl(p) + kl(q)) / 2).clamp(0.0, 1.0)


def compare_models(model_a: "GPT", model_b: "GPT", ids: Sequence[int] | np.ndarray) -> TrainingDiff:
    """Per-token loss of `ids` under both models, the tokens that improved and worsened most,
    and each head's pattern distance (DISTANCE)."""
    same_shape(model_a, model_b)
    ids = [int(i) for i in np.asarray(ids).reshape(-1)]
    T, cfg = len(ids), model_a.config
    context = min(cfg.context_length, model_b.config.context_length)
    if T < 2:
        raise TrainingDiffError(say("training_diff.short", n=T))
    if T > context:
        raise TrainingDiffError(say("patching.too_long", n=T, t=context))
    for i in ids:
        if not 0 <= i < cfg.vocab_size:
            raise TrainingDiffError(say("attribution.token_id", id=i, n=cfg.vocab_size))
    device = next(model_a.parameters()).device
    idx = torch.as_tensor(ids, dtype=torch.long, device=device)[None]  # (1, T)
    logits_a, patterns_a = _run(model_a, idx)
    idx_b = idx.to(next(model_b.parameters()).device)
    logits_b, patterns_b = _run(model_b, idx_b)
    loss_a, loss_b = _token_loss(logits_a, idx), _token_loss(logits_b, idx_b)
    distance = torch.stack([jensen_shannon(pa, pb.to(pa.device)).mean(-1)  # (nh,)
                            for pa, pb in zip(patterns_a, patterns_b)])  # (n_layer, nh)
    change = loss_b - loss_a  # (T-1,)
    improved = np.flatnonzero(change < 0)
    worsened = np.flatnonzero(change > 0)
    return TrainingDiff(ids=ids, loss_a=loss_a, loss_b=loss_b,
                        improved=improved[np.argsort(change[improved], kind="stable")],
                        worsened=worsened[np.argsort(-change[worsened], kind="stable")],
                        head_distance=distance.cpu().numpy())
