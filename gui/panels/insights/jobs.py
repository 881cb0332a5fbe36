"""The work the head-ablation view runs off the GUI thread: plain functions, no Qt.

They read the session's model directly: a model in the session is never changed (new weights
are a new object, and a trace probes through a context variable), so a job on another thread
cannot see it half-updated and needs no private copy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from engine.text.corpus import Corpus
from engine.model.lens import TopK, ablation_effect, next_token_shift
from engine.model.decoder import GPT
from engine.model.trace import Trace, run_trace

SHIFT_TOP_K = 8  # next-token guesses drawn per side in the ablation chart

Heads = list[tuple[int, int]]  # (layer, head) pairs


@dataclass(frozen=True)
class ShiftResult:
    """What a tick of a head box produces: the next-token shift and, if asked, the trace."""

    shift: dict[str, TopK]  # engine.model.lens.next_token_shift: {"before": [(id, p)], "after": ...}
    trace: Trace | None  # the ablated trace of the same ids, when re-traced


def shift_job(model: GPT, ids: np.ndarray, heads: Heads, retrace: bool) -> ShiftResult:
    """The ablated trace of `ids` (B, T) when `retrace`, and the next-token shift of row 0."""
    trace = run_trace(model, ids, ablate=heads) if retrace else None
    shift = next_token_shift(model, ids[0], heads, top_k=SHIFT_TOP_K)
    return ShiftResult(shift=shift, trace=trace)


ABLATION_BATCHES, ABLATION_BATCH_SIZE = 10, 8  # validation windows an ablation is measured on


def validation_batches(model: GPT, corpus: Corpus) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The seeded validation batches every ablation of `model` is measured on."""
    device = next(model.parameters()).device
    return corpus.seeded_batches("val", ABLATION_BATCHES, ABLATION_BATCH_SIZE,
                                 model.config.context_length, seed=0, device=device)


def measure_job(report: Callable[[int, int], None], model: GPT, corpus: Corpus,
                heads: Heads) -> dict[str, float]:
    """engine.model.lens.ablation_effect, for a FunctionWorker (`report` raises once cancelled)."""
    report(0, 1)
    result = ablation_effect(model, validation_batches(model, corpus), heads)
    report(1, 1)
    return result
