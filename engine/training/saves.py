"""A run's checkpoint saves, one rule for the CLI and the window: at every evaluation, at the
end, its best evaluation beside it, and after a divergence; never silently lost.

Every save goes through `engine.storage.outputs.save_with_rescue` at the end of a run, so a
full disk puts the weights in the rescue folder and says where. A periodic save that fails
for want of room stops training (going on would only lose more); any other failure is said
once and training goes on, the final save trying again.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.storage.checkpoint import SaveError, save_checkpoint
from engine.storage.outputs import save_with_rescue
from engine.training.job_messages import BestEvaluation
from engine.training.records import TrainingError

if TYPE_CHECKING:
    from engine.training.trainer import Trainer

class OutOfRoom(TrainingError):
    """A write of the run found the disk full, so training stopped; one-line message."""


class RunSaves:
    """The checkpoint saves of one run to `path` (`bundle`: weights only, no trainer state).

    `saved`/`saved_step`: the newest checkpoint this run wrote that holds good weights (or
    the file it continues, given as `start`), for end.json whatever happens next.
    """

    def __init__(self, trainer: Trainer, path: Path, *, corpus: str | None, bundle: bool,
                 start: tuple[Path, int] | None = None):
        self.trainer, self.path, self.corpus, self.bundle = trainer, path, corpus, bundle
        self.saved, self.saved_step = start if start is not None else (None, None)
        self.periodic_step: int | None = None  # of the last periodic save that succeeded
        self.warned = False

    def _kwargs(self, **extra: Any) -> dict[str, Any]:
        t = self.trainer
        history = extra.pop("history", [r.to_dict() for r in t.history])
        return dict(trainer=None if self.bundle else t, train_cfg=t.cfg, step=t.step,
                    extra={**self._corpus(), "history": history, **extra})

    def _corpus(self) -> dict[str, Any]:
        return {} if self.corpus is None else {"corpus": self.corpus}

    def _mark(self, path: Path, step: int) -> Path:
        self.saved, self.saved_step = path, step
        return path

    def periodic(self) -> Path:
        """Save at an evaluation, in place; SaveError when the disk refuses."""
        t = self.trainer
        path = save_checkpoint(self.path, t.model, t.corpus.tokenizer, **self._kwargs())
        self.periodic_step = t.step
        return self._mark(path, t.step)

    def final(self) -> tuple[Path, SaveError | None]:
        """(where the weights went, the first failure or None): a rescue path if need be.
        SaveError when no place at all would take them."""
        t = self.trainer
        path, failure = save_with_rescue(self.path, t.model, t.corpus.tokenizer,
                                         **self._kwargs())
        return self._mark(path, t.step), failure

    def diverged(self, exc: Any) -> Path:
        """The last finite weights beside the checkpoint, marked as diverged."""
        t = self.trainer
        marker = {"at_step": exc.step, "kept_step": exc.kept_step, "lr": t.cfg.lr}
        target = self.path.with_name(f"{self.path.stem}.diverged{self.path.suffix}")
        if exc.resumable:
            kwargs = self._kwargs(diverged=marker)
        else:  # restored from an older copy: the optimizer state belongs to later weights
            history = [r.to_dict() for r in t.history if r.step <= exc.kept_step]
            kwargs = dict(train_cfg=t.cfg, step=exc.kept_step, extra={
                **self._corpus(), "history": history, "diverged": marker})
        path, _ = save_with_rescue(target, t.model, t.corpus.tokenizer, **kwargs)
        return self._mark(path, exc.kept_step)

    def best(self, best: BestEvaluation) -> Path:
        """The best evaluation's weights beside the checkpoint, marked with "best"."""
        from engine.model.decoder import GPT

        t = self.trainer
        state = best.state
        target = self.path.with_name(f"{self.path.stem}.best{self.path.suffix}")
        marker = {"step": best.step, "val_loss": best.val_loss, "run_steps": t.step}
        if self.bundle:  # weights only
            model = GPT(t.model.config)
            model.load_state_dict(state["model"])
            kwargs = dict(train_cfg=t.cfg, step=best.step, extra={
                **self._corpus(), "best": marker, "history": list(state["history"])})
        else:
            model = t.model  # its config and vocabulary; the weights are the state's
            kwargs = dict(trainer_state=state, train_cfg=t.cfg,
                          extra={**self._corpus(), "best": marker})
        path, _ = save_with_rescue(target, model, t.corpus.tokenizer, **kwargs)
        return path
