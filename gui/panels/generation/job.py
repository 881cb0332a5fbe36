"""The generation panel's work off the GUI thread: tokens from the engine's generator, then the
logits behind the newest token (so the controls can re-shape the shown distribution without
sampling again). No Qt: `gui.latest.Latest` runs it and hands its items to the panel."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Generator, Iterator

import torch

from engine.model.decoder import GPT
from engine.model.sample import SampleStep

TOP_N = 10  # candidates drawn as bars (and asked of the engine per sampled token)


@dataclass(frozen=True)
class Logits:
    """Logits (V,) of the model at the end of ids[:n_ids]: the distribution of token n_ids."""

    n_ids: int
    values: torch.Tensor


@dataclass(frozen=True)
class JobEnd:
    """What a job returns once its tokens (maybe none: a preview) were yielded."""

    logits: Logits
    tokens: int  # tokens sampled by this job
    seconds: float  # the job's wall time, logits included


@torch.no_grad()
def last_logits(model: GPT, ids: list[int], vocab_size: int) -> torch.Tensor:
    """The model's logits for the token after `ids` (cropped to the context window), as
    engine.model.sample.generate computes them."""
    T = model.config.context_length
    idx = torch.tensor([ids[-T:]], dtype=torch.long)  # (1, t)
    logits, _ = model(idx)  # (1, t, V)
    return logits[0, -1, :vocab_size].float().clone()  # (V,)


def generation_job(steps: Iterator[SampleStep] | None, n: int, model: GPT, ids: list[int],
                   vocab_size: int, has_chosen: bool,
                   stop: threading.Event) -> Generator[SampleStep, None, JobEnd]:
    """Up to n tokens from `steps` (each yielded as it comes), then the logits behind the
    newest token; `steps=None` or n=0 is a preview: the logits alone.

    Stop is a soft stop: the loop ends at the next token and the logits are still computed, so
    the controls keep working on what is shown.
    """
    started = time.perf_counter()
    ids = list(ids)
    tokens = 0
    for _ in range(n):
        if stop.is_set() or steps is None:
            break
        step = next(steps, None)
        if step is None:
            break
        ids.append(step.token_id)
        has_chosen = True
        tokens += 1
        yield step
    # The shown distribution is the one the newest token was drawn from, or the next one.
    context = ids[:-1] if has_chosen else ids
    logits = Logits(len(context), last_logits(model, context, vocab_size))
    return JobEnd(logits, tokens, time.perf_counter() - started)
