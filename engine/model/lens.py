"""Looking inside a model's predictions: logit lens, per-token loss, head ablation.

The logit lens decodes the residual stream after the embedding and after each block through the
model's own final path (GPT.final_norm, then GPT.unembed: a pre-norm model's final norm, none
for post-norm, whose blocks already end in one), so one can watch the prediction form layer by
layer. Everything here takes token ids or batches of them; drawing batches is the caller's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from engine.model.decoder import GPT
from engine.model.hooks import eval_mode
from engine.model.registry import block_input
from engine.model.trace import Trace, capture

Batch = tuple[torch.Tensor, torch.Tensor]  # x (B, T) ids and y (B, T) their next tokens

TopK = list[tuple[int, float]]


@dataclass
class LensRow:
    """The top next-token guesses read from the residual stream at one depth.

    `label` is "embed", "block 0" ... "block L-2", then "final" for the last block's output,
    which is exactly what the model predicts. `step` names the trace step that was decoded.
    """

    label: str
    top: TopK  # (compact id, probability), most likely first
    step: str = ""


def _device(model: GPT) -> torch.device:
    return next(model.parameters()).device


def _top(probs: torch.Tensor, k: int) -> TopK:
    p, i = torch.topk(probs, min(k, probs.shape[-1]))
    return [(int(a), float(b)) for a, b in zip(i.tolist(), p.tolist())]


@torch.no_grad()
def lens_probs(model: GPT, stream: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Next-token probabilities (…, V) of residual-stream vectors (…, C) via the final path."""
    x = torch.as_tensor(np.asarray(stream), dtype=torch.float32, device=_device(model))  # (…, C)
    # unembed caps the logits as the forward does (Gemma 2's final soft-cap), once.
    logits = model.unembed(model.final_norm(x)).float()  # (…, V)
    return F.softmax(logits, dim=-1)  # (…, V)


def lens_streams(model: GPT) -> list[tuple[str, str]]:
    """(label, trace step) of every depth the lens reads, shallowest first."""
    L = model.config.n_layer
    # What enters block 0: embed.sum, or the scaled token vectors of a rotary model (Gemma).
    rows = [("embed", block_input(model.config, 0))]
    rows += [(f"block {i}", block_input(model.config, i + 1)) for i in range(L - 1)]
    rows.append(("final", block_input(model.config, L)))  # the last block's output
    return rows


def logit_lens(
    model: GPT, trace: Trace, position: int, top_k: int = 5, batch: int = 0
) -> list[LensRow]:
    """Top-k guesses for the token after `position`, read after the embedding and each block."""
    T = trace.ids.shape[1]
    if not -T <= position < T:
        raise IndexError(f"position {position} outside a context of {T} tokens")
    depths = lens_streams(model)
    vecs = np.stack([trace.values(step)[batch, position] for _, step in depths])  # (L+1, C)
    # Every depth in one product: (L+1, C) · (C, V) is one pass over GPT-2's 154 MB table.
    probs = lens_probs(model, vecs)  # (L+1, V)
    return [LensRow(label=label, top=_top(probs[i], top_k), step=step)
            for i, (label, step) in enumerate(depths)]


@torch.no_grad()
def per_token_loss(model: GPT, ids: np.ndarray | Sequence[int]) -> np.ndarray:
    """Cross-entropy (T-1,) of predicting token t+1 from positions 0..t, for one sequence (T,)."""
    idx = torch.as_tensor(np.asarray(ids), dtype=torch.long, device=_device(model))
    if idx.ndim != 1 or idx.numel() < 2:
        raise ValueError("per_token_loss needs a 1-D sequence of at least 2 tokens")
    with eval_mode(model):
        logits, _ = model(idx[None])  # (1, T, V)
    loss = F.cross_entropy(logits[0, :-1].float(), idx[1:], reduction="none")  # (T-1,)
    return loss.cpu().numpy()


@torch.no_grad()
def _mean_loss(model: GPT, batches: list[Batch], heads: Iterable[tuple[int, int]]) -> float:
    total = 0.0
    with capture(model, ablate=heads, store=False):
        for x, y in batches:
            _, loss = model(x, y)
            total += float(loss)
    return total / len(batches)


def ablation_effect(
    model: GPT, batches: list[Batch], heads: list[tuple[int, int]]
) -> dict[str, float]:
    """Mean loss over `batches` with and without the given heads (the same batches for both:
    the caller draws them, e.g. Corpus.seeded_batches of the validation split)."""
    with eval_mode(model):
        # Both runs use the explicit attention path, so the ablation is the only difference.
        base = _mean_loss(model, batches, ())
        ablated = _mean_loss(model, batches, heads)
    return {"base_val_loss": base, "ablated_val_loss": ablated}


@torch.no_grad()
def next_token_shift(
    model: GPT, ids: np.ndarray | Sequence[int], heads: list[tuple[int, int]], top_k: int = 10
) -> dict[str, TopK]:
    """Top-k next-token guesses at the last position before and after ablating `heads`."""
    idx = torch.as_tensor(np.asarray(ids), dtype=torch.long, device=_device(model))
    if idx.ndim == 1:
        idx = idx[None]
    idx = idx[:, -model.config.context_length:]
    out = {}
    with eval_mode(model):
        for key, ablate in (("before", ()), ("after", heads)):
            with capture(model, ablate=ablate, store=False):
                logits, _ = model(idx)
            out[key] = _top(F.softmax(logits[0, -1].float(), dim=-1), top_k)
    return out
