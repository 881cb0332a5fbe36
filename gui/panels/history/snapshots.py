"""The history panel's work, without Qt: LRU caches of one SnapshotStore, the model whose
weights are swapped per snapshot, and the jobs `gui.latest.Latest` runs off the GUI thread.

Scrubbing stays snappy because loaded state dicts and traces are kept in small LRU caches: going
back to a step already seen reads no file and runs no forward pass.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generator

import numpy as np

from engine.model.decoder import GPT
from engine.model.sample import generate
from engine.training.snapshots import SnapshotStore
from engine.text.tokenizers import Tokenizer
from engine.model.trace import Trace, run_trace

STATE_CACHE = 4  # loaded snapshot state dicts kept in memory
TRACE_CACHE = 12  # traces kept, keyed by (step, context ids)
SAMPLE_TOKENS = 48
SAMPLE_SEED = 0
SAMPLE_TEMPERATURE = 0.8
SAMPLE_TOP_K = 40


class SnapshotCache:
    """LRU caches of snapshot state dicts, metrics, traces and samples of one SnapshotStore.

    Used from the job thread and read from the GUI thread, so every access takes the lock.
    """

    def __init__(self, store: SnapshotStore, max_states: int = STATE_CACHE,
                 max_traces: int = TRACE_CACHE):
        self.store = store
        self.max_states, self.max_traces = max_states, max_traces
        self._lock = threading.Lock()
        self._states: OrderedDict[int, dict] = OrderedDict()
        self._traces: OrderedDict[tuple, Trace] = OrderedDict()
        self._metrics: dict[int, dict] = {}
        self.samples: dict[int, str] = {}
        self.loads = 0  # snapshot files read from disk (for tests and timing)

    def without_traces(self) -> SnapshotCache:
        """A cache for a new model: the same snapshots loaded, no traces and no samples.

        A new object rather than cleared in place, so a job of the old model that is still
        ending writes its trace into the old cache, never into this one.
        """
        fresh = SnapshotCache(self.store, self.max_states, self.max_traces)
        with self._lock:
            fresh._states = OrderedDict(self._states)
            fresh._metrics = dict(self._metrics)
            fresh.loads = self.loads
        return fresh

    def state(self, step: int) -> dict:
        """The state dict saved at `step` (read from disk once, then kept)."""
        with self._lock:
            if step in self._states:
                self._states.move_to_end(step)
                return self._states[step]
        state = self.store.load(step)
        with self._lock:
            self.loads += 1
            self._states[step] = state
            while len(self._states) > self.max_states:
                self._states.popitem(last=False)
        return state

    def metrics(self, step: int) -> dict:
        """The metrics saved with `step` ({} when unreadable)."""
        with self._lock:
            if step in self._metrics:
                return self._metrics[step]
        try:
            m = self.store.metrics(step)
        except (KeyError, OSError, ValueError):
            m = {}
        with self._lock:
            self._metrics[step] = m
        return m

    def cached_trace(self, key: tuple) -> Trace | None:
        with self._lock:
            if key in self._traces:
                self._traces.move_to_end(key)
                return self._traces[key]
        return None

    def keep_trace(self, key: tuple, trace: Trace) -> None:
        with self._lock:
            self._traces[key] = trace
            while len(self._traces) > self.max_traces:
                self._traces.popitem(last=False)


class Loader:
    """A model of the panel's own whose weights are swapped per snapshot (never the session's,
    which other panels read at the same time)."""

    def __init__(self, model: GPT):
        self.model = model
        self.loaded: Any = None  # the step whose weights are in `model`, or None

    def load(self, cache: SnapshotCache, step: int) -> GPT:
        """The model with the weights of `step`."""
        if self.loaded != step:
            self.loaded = None  # a failed load leaves unknown weights
            self.model.load_state_dict(cache.state(step))
            self.loaded = step
        return self.model

    def trace(self, cache: SnapshotCache, step: int, ids: np.ndarray) -> Trace:
        """The trace of `ids` (1, T) through the weights of `step` (cached)."""
        key = (step, ids.shape, ids.tobytes())
        trace = cache.cached_trace(key)
        if trace is None:
            trace = run_trace(self.load(cache, step), ids)
            cache.keep_trace(key, trace)
        return trace


@dataclass(frozen=True)
class Shown:
    """A scrub's trace: the context through the weights of `step`."""

    step: int
    trace: Trace
    metrics: dict


@dataclass(frozen=True)
class Sample:
    """Text sampled at `step` so far (`done`: all of it)."""

    step: int
    text: str
    done: bool


@dataclass(frozen=True)
class Compared:
    """The context traced through the weights of steps a and b."""

    a: int
    b: int
    ids: np.ndarray
    trace_a: Trace
    trace_b: Trace


def scrub_job(loader: Loader, cache: SnapshotCache, step: int, ids: np.ndarray,
              prompt: str | None, tokenizer: Tokenizer) -> Generator[Shown | Sample, None, None]:
    """The trace at `step` first (what every panel shows), then a seeded sample from `prompt`
    token by token (none when `prompt` is None)."""
    yield Shown(step, loader.trace(cache, step, ids), cache.metrics(step))
    if prompt is None:
        return
    if step in cache.samples:
        yield Sample(step, cache.samples[step], True)
        return
    model = loader.load(cache, step)
    text = ""
    for s in generate(model, tokenizer, prompt, SAMPLE_TOKENS, temperature=SAMPLE_TEMPERATURE,
                      top_k=SAMPLE_TOP_K, seed=SAMPLE_SEED):
        text = s.text
        yield Sample(step, text, False)
    cache.samples[step] = text
    yield Sample(step, text, True)


def compare_job(loader: Loader, cache: SnapshotCache, a: int, b: int, ids: np.ndarray) -> Compared:
    """The context through the weights of steps a and b."""
    return Compared(a, b, ids, loader.trace(cache, a, ids), loader.trace(cache, b, ids))


def measured_losses(m: dict) -> tuple[float | None, float | None]:
    """(validation loss, training loss) saved with a snapshot, None for one not measured."""
    val = m.get("val_loss")
    train = m.get("train_loss", m.get("loss"))
    return (float(val) if isinstance(val, (int, float)) else None,
            float(train) if isinstance(train, (int, float)) else None)
