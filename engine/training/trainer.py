"""The training loop: a generator of `StepRecord`s that knows nothing about who listens.

As in minGPT's trainer, the caller decides what to do with progress: the CLI prints records,
the GUI turns each one into a signal. Pause, resume and stop may be requested from another
thread; they take effect between optimizer steps.

The step is overhead-bound at the sizes our users train (a few ms on a CPU), so the hot loop
avoids per-parameter Python work: public fused AdamW (foreach where no fused kernel exists),
foreach clipping, losses kept as tensors until a record is due. One host sync per step checks
that the loss and the gradient norm are finite before the update, so a non-finite step never
reaches the weights or the optimizer's state (on a CPU the sync is free: every op has finished).
"""
from __future__ import annotations

import math
import threading
import time
from typing import Any, Iterator

import torch

from engine.config import TrainConfig
from engine.text.corpus import Corpus
from engine.devices import amp_dtype, resolve_device
from engine.training.distributed import Shard, dropout_seed
from engine.training.allocator import keep_freed_memory
from engine.training.evaluation import mean_losses
from engine.training.gradients import Gradients
from engine.model.decoder import GPT
from engine.training.records import StepRecord, TrainingDiverged, TrainingError
from engine.wording import say
from engine.training.rng import seeded_rng_states, swapped_in

__all__ = ["Trainer", "StepRecord", "TrainingError", "TrainingDiverged"]

# Seeds of the trainer's three random streams are derived from cfg.seed so they differ.
_EVAL_SEED_OFFSET = 1  # fixed evaluation windows, the same at every evaluation
_DROPOUT_SEED_OFFSET = 2  # the global RNG state the trainer owns (dropout masks)

# A CPU copy of finite weights (restored if training diverges) is refreshed at records, at most
# this often (s), and less often for big models so that copying stays under ~1% of the time.
_SNAPSHOT_INTERVAL_S = 2.0


# Messages of CPU allocation failures: torch raises a plain RuntimeError for them, not
# torch.OutOfMemoryError as it does on CUDA and MPS.
_CPU_OOM = ("DefaultCPUAllocator", "can't allocate memory", "not enough memory")


class Trainer:
    """AdamW with warm-up and cosine decay over cfg.steps; run() yields StepRecords.

    `device` "auto" defers to cfg.device. `compile=True` trains through torch.compile (slow
    to start; measured no faster for the articles' model on a CPU, so it is opt-in).
    The trainer owns its random streams: batches (self.generator), evaluation windows, and a
    global-RNG state for dropout that it swaps in for each step and out again, so training
    is repeatable and resumable and the caller's torch.manual_seed stream is left alone.
    Do not run other forwards on the same model while it trains (e.g. a trace from the GUI
    thread switches it to eval mode); trace a copy made from weights_snapshot() instead.
    `shard` (under torchrun, engine.training.distributed) trains this rank's rows of each global batch
    through DistributedDataParallel; every rank then runs the same loop and yields the same
    records, and only the caller decides that rank 0 alone prints and saves.
    """

    def __init__(
        self,
        model: GPT,
        corpus: Corpus,
        cfg: TrainConfig,
        device: str | torch.device = "auto",
        *,
        compile: bool = False,
        shard: Shard | None = None,
    ):
        self.cfg = cfg.validate()
        self.shard = shard or Shard()
        # An explicit device argument wins; "auto" defers to the config (itself "auto" by default).
        if isinstance(device, str) and device.strip().lower() == "auto":
            device = cfg.device
        self.device = resolve_device(device)
        self.model = model.to(self.device)
        if self.device.type == "cpu":
            # Each step frees what the next allocates again: keep those pages (allocator).
            keep_freed_memory()
        self.corpus = corpus
        self.context_length = model.config.context_length
        if corpus.tokenizer.vocab_size > model.config.vocab_size:
            raise ValueError(say("train.vocab_too_large", ids=corpus.tokenizer.vocab_size,
                                 rows=model.config.vocab_size))
        for split in ("train", "val"):
            n = len(getattr(corpus, split))
            if n <= self.context_length:
                raise ValueError(say("train.split_too_short", split=split, n=n,
                                     context=self.context_length))

        self._params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = self._make_optimizer()
        dtype = amp_dtype(self.device, cfg.cpu_bf16) if cfg.amp else None
        # fp16 needs loss scaling; bf16 has fp32's range and does not.
        self._scaler = torch.amp.GradScaler(self.device.type) if dtype == torch.float16 else None
        self.gradients = Gradients(model, self.cfg, self.device, self.shard, compile=compile,
                                   scaler=self._scaler)

        self.generator = torch.Generator().manual_seed(cfg.seed)  # draws training batches
        self._rng = self._dropout_states(0)
        self.step = 0
        self.tokens = 0
        self.elapsed = 0.0
        self.history: list[StepRecord] = []

        self._lock = threading.Lock()  # held during each step, evaluation and state access
        self._resume = threading.Event()  # set = running, clear = paused
        self._resume.set()
        self._stop = threading.Event()
        # Device tensors of the steps since the last record; read (one sync) only when reporting.
        self._losses: list[torch.Tensor] = []
        self._last_norm: torch.Tensor | None = None
        self._last_lr = 0.0
        self._good: list[torch.Tensor] | None = None  # CPU copy of finite weights
        self._good_step = 0
        self._good_time = 0.0  # perf_counter() of the last snapshot
        self._good_cost = 0.0  # seconds the last snapshot took
        self._running = False

    # -- set-up ------------------------------------------------------------------------------

    def _make_optimizer(self) -> torch.optim.AdamW:
        # minGPT's rule: decay the weights of Linear layers only, not biases, norms or tables.
        # A tied table is also the output projection's weight, and is decayed as such.
        linear = {id(m.weight) for m in self.model.modules() if isinstance(m, torch.nn.Linear)}
        decay = [p for p in self._params if id(p) in linear]
        no_decay = [p for p in self._params if id(p) not in linear]
        groups = [
            {"params": decay, "weight_decay": self.cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        kwargs = dict(lr=self.cfg.lr, betas=(self.cfg.beta1, self.cfg.beta2))
        try:
            # One kernel per group for the whole update (CPU, CUDA and MPS in torch >= 2.4).
            return torch.optim.AdamW(groups, fused=True, **kwargs)
        except (RuntimeError, ValueError):  # a device or build without the fused kernel
            return torch.optim.AdamW(groups, foreach=True, **kwargs)

    # -- schedule ----------------------------------------------------------------------------

    def lr_at(self, step: int) -> float:
        """Learning rate of optimizer step `step` (0-based): linear warm-up, cosine to min_lr."""
        cfg = self.cfg
        if step < cfg.warmup_steps:
            return cfg.lr * (step + 1) / cfg.warmup_steps
        if step >= cfg.steps:
            return cfg.min_lr
        ratio = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
        coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))  # 1 -> 0
        return cfg.min_lr + coeff * (cfg.lr - cfg.min_lr)

    # -- control from other threads ----------------------------------------------------------

    def request_pause(self) -> None:
        """Block run() before its next step until resume or stop is requested."""
        self._resume.clear()

    def request_resume(self) -> None:
        """Let a paused run() continue."""
        self._resume.set()

    def request_stop(self) -> None:
        """End run() after the current step with a "stopped" record (also ends a pause)."""
        self._stop.set()
        self._resume.set()

    @property
    def paused(self) -> bool:
        """True from request_pause() until request_resume() or request_stop()."""
        return not self._resume.is_set()

    # -- the loop ----------------------------------------------------------------------------

    def _train_step(self) -> bool:
        """One optimizer step; False (nothing applied, nothing counted) if it was not finite."""
        cfg = self.cfg
        lr = self.lr_at(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        x, y = self.corpus.get_batch(
            "train", cfg.batch_size, self.context_length, self.generator, self.device
        )  # (B, T), (B, T): the global batch, the same on every rank
        loss = self.gradients.backward(x, y)  # mean over the global batch, as are the grads
        if self._scaler is not None:
            self._scaler.unscale_(self.optimizer)
        if cfg.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(self._params, cfg.grad_clip, foreach=True)
        else:
            grads = [p.grad for p in self._params if p.grad is not None]
            norm = torch.nn.utils.get_total_norm(grads, foreach=True)
        if self._scaler is not None:
            # Overflowing fp16 gradients are routine: the scaler skips those steps itself.
            finite = bool(torch.isfinite(loss))
            if finite:
                self._scaler.step(self.optimizer)
                self._scaler.update()
        else:
            finite = bool(torch.isfinite(loss + norm))  # the step's one host sync
            if finite:
                self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if not finite:
            return False
        self.step += 1
        self.tokens += cfg.batch_size * self.context_length
        self._losses.append(loss)
        self._last_norm = norm
        self._last_lr = lr
        return True

    def evaluate(self) -> dict[str, float]:
        """Mean loss over cfg.eval_batches fixed windows of each split (eval mode, no grad)."""
        with self._lock:
            return self._guard_oom(self._evaluate)

    def _evaluate(self) -> dict[str, float]:
        was_training = self.model.training
        self.model.eval()
        try:  # under torchrun every rank scores its share; all get the same numbers
            return mean_losses(self.model, self.corpus, self.cfg,
                               self.cfg.seed + _EVAL_SEED_OFFSET, self.device, self.shard)
        finally:
            self.model.train(was_training)

    def _dropout_states(self, step: int) -> dict[str, torch.Tensor]:
        # Rank 0 keeps the one saved stream (a single process is exactly resumable with
        # dropout); other ranks' masks cannot match across rank counts, so theirs are derived
        # afresh from (seed, rank, step) and a run is exact across rank counts at dropout 0.
        seed = self.cfg.seed + _DROPOUT_SEED_OFFSET
        if self.shard.rank:
            seed = dropout_seed(seed, self.shard.rank, step)
        return seeded_rng_states(self.device, seed)

    def run(self, steps: int | None = None, log_every: int = 1) -> Iterator[StepRecord]:
        """Train from self.step to cfg.steps (or `steps` more), yielding records as it goes.

        A record comes every `log_every` steps, at each evaluation (every cfg.eval_interval
        steps and at the last step), and finally a "done" or "stopped" one.
        Raises TrainingDiverged on NaN/inf and TrainingError on out-of-memory.
        """
        if log_every < 1:
            raise ValueError(f"log_every must be >= 1, got {log_every}")
        if self._running:
            raise RuntimeError("this trainer is already running")
        target = self.cfg.steps if steps is None else self.step + steps
        run_tokens, run_train_s = 0, 0.0
        self._running = True
        try:
            self.model.train()
            with self._lock:
                self._snapshot_good()
            while True:
                t0, paused_s, stopped = time.perf_counter(), 0.0, False
                start_tokens = self.tokens
                # Steps until a record is due: no host sync in here on the fused path.
                while self.step < target:
                    if not self._resume.is_set():
                        t_wait = time.perf_counter()
                        self._resume.wait()  # blocks without spinning; request_stop wakes it
                        paused_s += time.perf_counter() - t_wait
                    if self._stop.is_set():
                        stopped = True
                        break
                    with self._lock, swapped_in(self._rng, self.device):
                        finite = self._guard_oom(self._train_step)
                    if not finite:
                        self._diverged(self.step + 1)
                    if self.step % log_every == 0 or self._eval_due(self.step, target):
                        break
                records = []
                if self.tokens > start_tokens:
                    record, train_s = self._report(t0, paused_s, start_tokens)
                    run_tokens += self.tokens - start_tokens
                    run_train_s += train_s
                    if not stopped and self._eval_due(self.step, target):
                        t_eval = time.perf_counter()
                        losses = self.evaluate()
                        self.elapsed += time.perf_counter() - t_eval
                        record.val_loss, record.eval_train_loss = losses["val"], losses["train"]
                        record.event, record.elapsed = "eval", self.elapsed
                    records.append(record)
                    self._maybe_snapshot()  # finite so far: a state to fall back to
                finished = stopped or self.step >= target
                if finished:
                    rate = run_tokens / run_train_s if run_train_s > 0 else 0.0
                    history = records or self.history
                    latest = history[-1] if history else None
                    records.append(
                        self._final_record("stopped" if stopped else "done", rate, latest)
                    )
                for record in records:
                    self.history.append(record)
                    yield record
                if finished:
                    return
        finally:
            self._stop.clear()
            self._losses = []
            self._running = False

    def _eval_due(self, step: int, target: int) -> bool:
        return step % self.cfg.eval_interval == 0 or step == target

    def _report(
        self, t0: float, paused_s: float, start_tokens: int
    ) -> tuple[StepRecord, float]:
        """The record of the steps since the last one (the only host sync), and their time."""
        losses = torch.stack(self._losses)  # (n,)
        summary = torch.cat([losses.mean().view(1), self._last_norm.float().view(1)])
        values = summary.tolist()
        train_s = max(time.perf_counter() - t0 - paused_s, 1e-9)
        self._losses = []
        self.elapsed += train_s
        record = StepRecord(
            step=self.step,
            tokens=self.tokens,
            train_loss=values[0],
            lr=self._last_lr,
            grad_norm=values[1],
            tokens_per_s=(self.tokens - start_tokens) / train_s,
            elapsed=self.elapsed,
        )
        return record, train_s

    def _final_record(self, event: str, rate: float, last: StepRecord | None) -> StepRecord:
        # Repeats the latest numbers so a listener can read any record the same way.
        message = f"stopped at step {self.step}" if event == "stopped" else (
            f"finished at step {self.step}"
        )
        return StepRecord(
            step=self.step,
            tokens=self.tokens,
            train_loss=last.train_loss if last else math.nan,
            lr=last.lr if last else self.lr_at(self.step),
            grad_norm=last.grad_norm if last else math.nan,
            tokens_per_s=rate,
            elapsed=self.elapsed,
            event=event,
            message=message,
        )

    # -- failures ----------------------------------------------------------------------------

    def _guard_oom(self, fn):
        try:
            return fn()
        except (torch.OutOfMemoryError, MemoryError, RuntimeError) as e:
            if isinstance(e, RuntimeError) and not isinstance(e, torch.OutOfMemoryError) and \
                    not any(text in str(e) for text in _CPU_OOM):
                raise  # a bug, not a full memory: let it show
            self.optimizer.zero_grad(set_to_none=True)
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            raise TrainingError(say("train.out_of_memory", device=str(self.device),
                                    step=self.step + 1)) from None

    def _maybe_snapshot(self) -> None:
        # Copying costs time proportional to the model: at most ~1% of training time.
        wait = max(_SNAPSHOT_INTERVAL_S, 100 * self._good_cost)
        if time.perf_counter() - self._good_time >= wait:
            with self._lock:
                self._snapshot_good()

    @torch.no_grad()
    def _snapshot_good(self) -> None:
        """Keep a CPU copy of the weights if they are all finite (restored on divergence)."""
        t0 = time.perf_counter()
        copy = [p.detach().to("cpu", copy=True) for p in self._params]
        if all(bool(torch.isfinite(c).all()) for c in copy):
            self._good, self._good_step = copy, self.step
        self._good_time = time.perf_counter()
        self._good_cost = self._good_time - t0

    @torch.no_grad()
    def _diverged(self, step: int) -> None:
        """Leave finite weights in the model and raise TrainingDiverged."""
        self.optimizer.zero_grad(set_to_none=True)
        self._losses = []  # the steps since the last record are not in the history
        kept_step, resumable = self.step, False
        if all(bool(torch.isfinite(p).all()) for p in self._params):
            # The non-finite update was skipped: weights and optimizer are those of step - 1.
            kept, resumable = say("train.kept_last"), True
        elif self._good is not None:
            with self._lock:
                for p, good in zip(self._params, self._good):
                    p.copy_(good)
            kept_step = self._good_step
            kept = say("train.kept_restored", step=self._good_step)
        else:
            kept = say("train.kept_none")
        raise TrainingDiverged(
            say("train.diverged", step=step, kept=kept, lr=self.cfg.lr, lower=self.cfg.lr / 10),
            step=step, kept_step=kept_step, resumable=resumable,
        )

    # -- state -------------------------------------------------------------------------------

    def weights_snapshot(self) -> dict[str, torch.Tensor]:
        """CPU copies of model.state_dict(), consistent even while another thread trains."""
        with self._lock:
            return _cpu_state(self.model)

    def state_dict(self, with_weights: bool = False) -> dict[str, Any]:
        """Everything besides the weights that an exact resume needs (tensors on the CPU).

        `with_weights` adds "model": CPU copies of the weights taken under the same lock, so
        a checkpoint written while another thread trains is consistent.
        """
        with self._lock:
            optim = self.optimizer.state_dict()
            weights = _cpu_state(self.model) if with_weights else None
            state = {
                "step": self.step,
                "tokens": self.tokens,
                "elapsed": self.elapsed,
                "optimizer": {
                    "state": {
                        i: {k: _cpu_copy(v) for k, v in s.items()}
                        for i, s in optim["state"].items()
                    },
                    "param_groups": optim["param_groups"],
                },
                "generator": self.generator.get_state(),
                "rng": {k: v.clone() for k, v in self._rng.items()},
                "scaler": self._scaler.state_dict() if self._scaler is not None else None,
                "history": [r.to_dict() for r in self.history],
            }
        if weights is not None:
            state["model"] = weights
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue exactly where the trainer that produced `state` (same config) left off."""
        if self._running:
            raise RuntimeError("cannot load a training state while run() is active")
        with self._lock:
            optim = state["optimizer"]
            groups = []
            # The current config and device decide hyperparameters and kernels; the saved
            # groups only have to match in size, which load_state_dict checks.
            for saved, current in zip(optim["param_groups"], self.optimizer.param_groups):
                group = {k: v for k, v in current.items() if k != "params"}
                group["params"] = saved["params"]
                groups.append(group)
            if len(optim["param_groups"]) != len(groups):
                raise ValueError("optimizer state has a different number of parameter groups")
            self.optimizer.load_state_dict(
                {"state": {int(k): v for k, v in optim["state"].items()}, "param_groups": groups}
            )
            self.generator.set_state(state["generator"])
            self._rng = self._dropout_states(int(state["step"]))
            for key, value in state["rng"].items():
                # A CUDA state means nothing on the CPU, and vice versa; see _dropout_states.
                if key in self._rng and self.shard.is_main:
                    self._rng[key] = value.clone()
            if self._scaler is not None and state.get("scaler"):
                self._scaler.load_state_dict(state["scaler"])
            self.step = int(state["step"])
            self.tokens = int(state["tokens"])
            self.elapsed = float(state.get("elapsed", 0.0))
            self.history = [StepRecord.from_dict(d) for d in state.get("history", [])]


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """CPU copies of model.state_dict(); names that share a tensor (tied) still share one."""
    copies: dict[tuple[int, int, tuple[int, ...]], torch.Tensor] = {}
    out = {}
    for name, t in model.state_dict().items():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
        if key not in copies:
            copies[key] = t.detach().to("cpu", copy=True)
        out[name] = copies[key]
    return out


def _cpu_copy(value: Any) -> Any:
    return value.detach().to("cpu", copy=True) if isinstance(value, torch.Tensor) else value
