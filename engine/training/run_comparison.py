"""Two training runs side by side: their loss curves, and their attention on one text.

A side is a run folder (engine.training.rundir: run.json, records.jsonl, snapshots, end.json)
or a model file (a checkpoint holds its run's records as its history). The two may differ in
everything: architecture (engine.model.presets), blocks, heads, K/V heads, tokenizer, batch
size. So
- the losses come by step *and* by training tokens (two runs with different batches line up
  only by tokens), each with a label naming its shape (`RunLabel`);
- the attention is each model's own: the text goes through each side's tokenizer, and the
  pattern is the traced step `blocks.{n}.attn.pattern` (engine.model.trace), so a side shows
  its own tokens, blocks and heads.

A run that was killed reads as far as its records.jsonl goes (engine.training.runreader skips a
torn last line); one with no model yet has curves but no attention (`NoModelYet`).
Shapes: T = tokens, nh = query heads.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.config import ModelConfig
from engine.model.decoder import param_count
from engine.model.hooks import eval_mode
from engine.model.presets import arch_of
from engine.model.trace import capture
from engine.training.rundir import CONFIGS, RECORDS, SNAPSHOTS, NotARun
from engine.training.runreader import RunReader, RunSnapshots, is_run
from engine.wording import say

if TYPE_CHECKING:
    from engine.model.decoder import GPT
    from engine.text.tokenizers import Tokenizer

AXES = ("step", "tokens")  # what a loss curve's x can be
# A heatmap of more tokens than this is unreadable, and every block's patterns are kept
# (n_layer x nh x T x T floats): the text's first MAX_TOKENS tokens are compared.
MAX_TOKENS = 128


class NoModelYet(ValueError):
    """A run folder that has saved no weights yet (no snapshot, no checkpoint); one line."""


def pattern_step(block: int) -> str:
    """The traced step whose values a side's heatmap shows (its stable name)."""
    return f"blocks.{block}.attn.pattern"


@dataclass(frozen=True)
class RunLabel:
    """What tells two runs apart at a glance: where they are and their model's shape."""

    name: str  # the run folder's (or model file's) name
    arch: str | None  # engine.model.presets name ("gpt", "gpt2", "llama"); None: another shape
    d_model: int
    n_layer: int
    n_head: int
    n_kv_head: int  # n_head without grouped-query attention
    params: int

    @classmethod
    def of(cls, name: str, config: ModelConfig) -> "RunLabel":
        return cls(name=name, arch=arch_of(config), d_model=config.d_model,
                   n_layer=config.n_layer, n_head=config.n_head, n_kv_head=config.kv_heads,
                   params=param_count(config))

    def shape(self) -> str:
        """"llama · d 32 · 2 layers · 4 heads (1 K/V) · 12,345 parameters" (English; the
        window words its own)."""
        kv = f" ({self.n_kv_head} K/V)" if self.n_kv_head != self.n_head else ""
        return (f"{self.arch or 'custom'} · d {self.d_model} · {self.n_layer} layers · "
                f"{self.n_head} heads{kv} · {self.params:,} parameters")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arch": self.arch, "d_model": self.d_model,
                "n_layer": self.n_layer, "n_head": self.n_head, "n_kv_head": self.n_kv_head,
                "params": self.params}


@dataclass(frozen=True)
class LossSeries:
    """One loss curve: its points by optimizer step and by training tokens seen."""

    step: np.ndarray  # (n,) int64
    tokens: np.ndarray  # (n,) int64
    loss: np.ndarray  # (n,) float64, exactly the records' numbers

    def x(self, axis: str) -> np.ndarray:
        """The x values on `axis` ("step" or "tokens")."""
        if axis not in AXES:
            raise ValueError(f"axis must be one of {AXES}, not {axis!r}")
        return self.step if axis == "step" else self.tokens

    def upto(self, axis: str, limit: float) -> np.ndarray:
        """The losses of the points at or before `limit` on `axis`."""
        return self.loss[self.x(axis) <= limit]


@dataclass(frozen=True)
class RunCurves:
    """A run's train and validation losses as its records give them."""

    path: Path
    label: RunLabel
    train: LossSeries  # every logged step's mean batch loss
    val: LossSeries  # every evaluation's validation loss
    outcome: str | None  # end.json's "done"/"stopped"...; None: not ended (running or killed)
    bad_lines: int = 0  # record lines that were not records (a killed run's torn line: 0)

    @property
    def last_step(self) -> int:
        return int(self.train.step[-1]) if len(self.train.step) else 0

    @property
    def last_tokens(self) -> int:
        return int(self.train.tokens[-1]) if len(self.train.tokens) else 0


@dataclass(frozen=True)
class LossesAt:
    """One run's losses up to a point: the last logged train loss and evaluation, the best."""

    train: float | None
    val: float | None
    best_val: float | None

    @classmethod
    def of(cls, curves: RunCurves, axis: str, limit: float) -> "LossesAt":
        train, val = curves.train.upto(axis, limit), curves.val.upto(axis, limit)
        return cls(train=float(train[-1]) if len(train) else None,
                   val=float(val[-1]) if len(val) else None,
                   best_val=float(val.min()) if len(val) else None)


@dataclass(frozen=True)
class EqualPoint:
    """Both runs' losses at the same point: the furthest step (or token count) both reached."""

    axis: str  # "step" or "tokens"
    at: int
    a: LossesAt
    b: LossesAt


def equal_points(a: RunCurves, b: RunCurves) -> list[EqualPoint]:
    """The runs compared where both have been: at equal steps and at equal training tokens."""
    points = []
    for axis, reached in (("step", (a.last_step, b.last_step)),
                          ("tokens", (a.last_tokens, b.last_tokens))):
        at = min(reached)
        points.append(EqualPoint(axis, at, LossesAt.of(a, axis, at), LossesAt.of(b, axis, at)))
    return points


def _series(rows: list[dict], key: str) -> LossSeries:
    step, tokens, loss = [], [], []
    for row in rows:
        value = row.get(key)
        if row.get("event", "step") in ("done", "stopped"):
            continue  # a run's summary repeats its last step's numbers
        if not isinstance(value, (int, float)) or isinstance(value, bool) or \
                not math.isfinite(value):
            continue
        try:
            s, t = int(row.get("step", 0)), int(row.get("tokens", 0))
        except (TypeError, ValueError):
            continue
        step.append(s)
        tokens.append(t)
        loss.append(float(value))
    return LossSeries(np.asarray(step, dtype=np.int64), np.asarray(tokens, dtype=np.int64),
                      np.asarray(loss, dtype=np.float64))


def _curves(path: Path, config: ModelConfig, rows: list[dict], outcome: str | None,
            bad_lines: int = 0) -> RunCurves:
    return RunCurves(path=path, label=RunLabel.of(path.name, config),
                     train=_series(rows, "train_loss"), val=_series(rows, "val_loss"),
                     outcome=outcome, bad_lines=bad_lines)


def _run_config(d: Path, configs: dict[str, Any] | None) -> ModelConfig:
    try:
        return ModelConfig.from_dict(configs["model_config"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ValueError(say("snapshot.no_config", run=d)) from None


def _check_side(path: Path) -> None:
    if not path.exists():
        raise NotARun(say("runs.missing", path=path))
    if path.is_dir() and not is_run(path) and not (path / "config.json").is_file():
        raise NotARun(say("runs.not_a_run", path=path, configs=CONFIGS, records=RECORDS))


def read_curves(path: str | Path) -> RunCurves:
    """The loss curves of a run folder (or of a model file's history), as far as they go."""
    path = Path(path)
    _check_side(path)
    if path.is_dir() and is_run(path):
        reader = RunReader(path)
        update = reader.poll()  # whole lines only: a killed run's torn last line is left out
        end = update.end
        return _curves(path, _run_config(path, update.configs), update.records,
                       end.get("outcome") if end else None, update.bad_lines)
    return load_model(path).curves


def _open_file(path: Path):
    from engine.storage.imports import open_model

    return open_model(path)


@dataclass
class RunModel:
    """The model a side shows: the run's final checkpoint, else its newest snapshot."""

    model: "GPT"
    tokenizer: "Tokenizer"
    label: RunLabel
    step: int  # the step its weights are from
    source: str  # "checkpoint" or "snapshot"
    curves: RunCurves | None = None  # a model file's own history (a run folder's: read_curves)


def load_model(path: str | Path) -> RunModel:
    """A side's model (NoModelYet when a run has saved none; NotARun for another folder)."""
    from engine.training.runreader import run_snapshot

    path = Path(path)
    _check_side(path)
    if not (path.is_dir() and is_run(path)):
        ckpt = _open_file(path)
        return RunModel(ckpt.model.eval(), ckpt.tokenizer,
                        RunLabel.of(path.name, ckpt.model_config), ckpt.step, "checkpoint",
                        _curves(path, ckpt.model_config, list(ckpt.history), "saved"))
    reader = RunReader(path)
    saved = reader.checkpoint(reader.poll().end)
    if saved is not None:
        ckpt = _open_file(saved)
        return RunModel(ckpt.model.eval(), ckpt.tokenizer,
                        RunLabel.of(path.name, ckpt.model_config), ckpt.step, "checkpoint")
    steps = RunSnapshots(path / SNAPSHOTS).refresh()
    if not steps:
        raise NoModelYet(say("runs.no_model", path=path))
    model, tokenizer = run_snapshot(path, steps[-1])
    return RunModel(model.eval(), tokenizer, RunLabel.of(path.name, model.config), steps[-1],
                    "snapshot")


@dataclass
class RunAttention:
    """One model's attention on one text, every block's pattern, through its own tokenizer."""

    label: RunLabel
    ids: np.ndarray  # (T,) its compact ids of the text
    pieces: list[str]  # (T,) its tokens as shown
    patterns: list[np.ndarray]  # n_layer x (nh, T, T): the step pattern_step(n), batch row 0
    cut: int = 0  # tokens of the text left out (beyond MAX_TOKENS or the context)

    def head(self, block: int, head: int) -> np.ndarray:
        """(T, T) query x key probabilities of one head; each row sums to 1 over keys <= query."""
        if not 0 <= block < len(self.patterns):
            raise ValueError(say("runs.no_block", block=block, n=len(self.patterns)))
        if not 0 <= head < self.patterns[block].shape[0]:
            raise ValueError(say("runs.no_head", head=head, n=self.patterns[block].shape[0]))
        return self.patterns[block][head]


@torch.no_grad()
def attention_of(side: RunModel, text: str, max_tokens: int = MAX_TOKENS) -> RunAttention:
    """Trace `text` through a side's model and keep every block's attention pattern."""
    ids = np.asarray(side.tokenizer.encode(text), dtype=np.int64)  # (T,)
    keep_n = min(max_tokens, side.model.config.context_length)
    cut = max(0, len(ids) - keep_n)
    ids = ids[:keep_n]
    if len(ids) == 0:
        raise ValueError(say("runs.empty_text"))
    device = next(side.model.parameters()).device
    idx = torch.as_tensor(ids, device=device)[None]  # (1, T)
    wanted = {pattern_step(n) for n in range(side.model.config.n_layer)}
    with eval_mode(side.model), capture(side.model, keep=lambda name, _x: name in wanted) as cache:
        side.model(idx)  # (1, T, V) logits, unused: the probe kept the patterns
    patterns = [cache[pattern_step(n)][0].float().cpu().numpy()  # (nh, T, T)
                for n in range(side.model.config.n_layer)]
    return RunAttention(side.label, ids, side.tokenizer.pieces(ids), patterns, cut)
