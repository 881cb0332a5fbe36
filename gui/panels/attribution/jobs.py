"""The work the attribution views run off the GUI thread: plain functions, no Qt.

They read the session's model directly: a model in the session is never changed in place (new
weights are a new object), so a job on another thread needs no private copy. Each runs its
torch work on at most two threads (`few_threads`): the app shares the CPU with a training run
and with the other panels' work.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from engine.model.attribution import LogitAttribution, direct_logit_attribution
from engine.model.decoder import GPT
from engine.model.input_attribution import InputAttribution, input_attribution
from engine.model.patching import (
    PatchingChecks,
    PatchingResult,
    activation_patching,
    patching_checks,
)
from engine.model.trace import Trace, run_trace
from engine.model.training_diff import TrainingDiff, TrainingDiffError, compare_models
from engine.training.snapshots import snapshot_model
from engine.wording import say

TORCH_THREADS = 2  # what one attribution job may use of the machine's cores

_lock = threading.Lock()
_users = 0
_previous = 0


@contextmanager
def few_threads(n: int = TORCH_THREADS) -> Iterator[None]:
    """Torch's intra-op threads capped at `n` while inside (the setting is the process's: the
    first job in lowers it, the last one out puts the old value back)."""
    global _users, _previous
    with _lock:
        if _users == 0:
            _previous = torch.get_num_threads()
            torch.set_num_threads(max(1, min(n, _previous)))
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                torch.set_num_threads(_previous)


@dataclass(frozen=True)
class Request:
    """What to attribute: the logit of `target` (minus `versus`) after `position`."""

    position: int
    target: int | None  # None: the top prediction
    versus: int | None = None


def own_trace(model: GPT, trace: Trace) -> Trace:
    """`trace` if `model` made it, else a fresh trace of its first row (a snapshot's trace
    holds other weights' values, which would not add up to this model's logit)."""
    if trace.made_by(model):
        return trace
    return run_trace(model, trace.ids[:1], ablate=trace.ablated)


def logit_job(model: GPT, trace: Trace, request: Request) -> LogitAttribution:
    """engine.model.attribution.direct_logit_attribution of the request."""
    with few_threads():
        return direct_logit_attribution(model, own_trace(model, trace), position=request.position,
                                        target=request.target, versus=request.versus)


def input_job(model: GPT, ids: np.ndarray, request: Request, steps: int) -> InputAttribution:
    """engine.model.input_attribution.input_attribution of the request (target required)."""
    with few_threads():
        return input_attribution(model, ids, request.position, int(request.target),
                                 versus=request.versus, steps=steps)


@dataclass(frozen=True)
class Patched:
    """A patching run and the checks of its two ends on the same prompts and tokens."""

    result: PatchingResult
    checks: PatchingChecks  # nothing 0, everything 1, a whole layer 1, clean vs itself 0


def patching_job(report: Callable[[int, int], None], model: GPT, clean: Sequence[int],
                 corrupt: Sequence[int], kind: str, request: Request,
                 batch: int = 16) -> Patched:
    """engine.model.patching.activation_patching, for a FunctionWorker: `report(done, total)`
    after each batch of patched forwards raises once the user cancelled."""
    with few_threads():
        result = activation_patching(model, clean, corrupt, kind=kind, position=request.position,
                                     target=request.target, foil=request.versus, batch=batch,
                                     progress=report)
        checks = patching_checks(model, clean, corrupt, position=result.position,
                                 target=result.target, foil=result.foil)
    return Patched(result=result, checks=checks)


# -- what training changed ------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """One side of a comparison: the model in the window, a snapshot of the run, or a file."""

    kind: str  # "window" | "snapshot" | "file"
    step: int | None = None  # the snapshot's step
    path: str | None = None  # the checkpoint file or folder


def _same_tokens(a: Any, b: Any) -> bool:
    """Whether two tokenizers turn a text into the same ids (their saved forms agree)."""
    if a is None or b is None or a is b:
        return True
    da, db = getattr(a, "to_dict", None), getattr(b, "to_dict", None)
    if da is not None and db is not None:
        return da() == db()
    return type(a) is type(b) and a.vocab_size == b.vocab_size


def source_model(source: Source, model: GPT, tokenizer: Any, store: Any) -> GPT:
    """The model a source names (a snapshot is built on `model`'s settings; a file must have
    the window's tokenizer, TrainingDiffError otherwise)."""
    if source.kind == "window":
        return model
    if source.kind == "snapshot":
        return snapshot_model(store, int(source.step), model.config)
    # Imported here, as gui.window.documents does: imported with the window, the importers
    # kept a training run's process from ever starting (test_gui_follow, test_gui_training).
    from engine.storage.imports import open_model

    ckpt = open_model(str(source.path))
    if not _same_tokens(ckpt.tokenizer, tokenizer):
        raise TrainingDiffError(say("training_diff.tokenizer"))
    return ckpt.model.eval()


def compare_job(a: Source, b: Source, model: GPT, tokenizer: Any, store: Any,
                ids: np.ndarray) -> TrainingDiff:
    """engine.model.training_diff.compare_models of the two sources on `ids` (T,)."""
    with few_threads():
        model_a = source_model(a, model, tokenizer, store)
        model_b = source_model(b, model, tokenizer, store)
        return compare_models(model_a, model_b, ids)
