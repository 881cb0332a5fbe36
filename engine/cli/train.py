"""The `train` command: validate everything up front, train, save at every evaluation.

Nothing a user made is lost: --out is checked before training (never the input, never an
unrelated file, an existing model only with --resume or --overwrite), a failed save leaves the
previous file intact and puts the weights somewhere the message names, and a diverged or
out-of-memory run still saves its last good weights. When the run's best evaluation (lowest
validation loss) is not its last, its weights are saved too, beside --out as
`<name>.best.safetensors`: an exact checkpoint of that step, marked with "best".

The run is written as a run directory (engine.training.rundir) as it goes: `--out DIR` is that directory
(DIR/model.safetensors, records.jsonl, snapshots/, run.json); `--out NAME.safetensors` writes it
to `NAME.run/` beside the file (`model.safetensors` is in its own folder's run).
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.cli.messages import PROG, fmt, one_line, words

if TYPE_CHECKING:
    from engine.training.distributed import Session
    from engine.training.trainer import Trainer


def cmd_train(args: argparse.Namespace, session: Session | None = None) -> int:
    """`session` (engine.training.distributed.Session) under torchrun: every rank trains its share,
    rank 0 alone prints, checks --out and saves."""
    from tqdm import tqdm

    from engine.storage.imports import training_start  # any format: ours, nanoGPT, Hugging Face
    from engine.config import ModelConfig, TrainConfig
    from engine.text.corpus import TokenCacheWarning, load_corpus
    from engine.devices import resolve_device
    from engine.training.distributed import per_process
    from engine.training.memory import check_memory, param_count
    from engine.wording import plural
    from engine.storage.outputs import check_output, checkpoint_bytes
    from engine.training.runs import build_trainer, check_more_steps
    from engine.text.tokenfile import cache_choice
    from engine.training.trainer import TrainingDiverged, TrainingError

    tcfg = TrainConfig(
        batch_size=args.batch, steps=args.steps, lr=args.lr, min_lr=args.min_lr,
        warmup_steps=min(args.warmup, args.steps), weight_decay=args.weight_decay,
        grad_clip=args.grad_clip, eval_interval=args.eval_interval,
        eval_batches=args.eval_batches, seed=args.seed, device=args.device,
        grad_accum=args.grad_accum, amp=args.amp,
    ).validate()
    main = session is None or session.is_main
    world = 1 if session is None else session.world_size
    one_process = per_process(tcfg, world)  # a batch that does not divide is refused now
    # An absent device is refused before a long tokenization (under torchrun, already was).
    device = resolve_device(args.device) if session is None else session.device
    ckpt = training_start(args.resume, args.init_from, args.tokenizer_from)
    if ckpt is not None:
        mcfg = ckpt.model_config
        tokenizer_name = ckpt.tokenizer.name
        if ckpt.trainer_state is not None:
            check_more_steps(ckpt.step, tcfg.steps)
    else:
        mcfg = ModelConfig(
            vocab_size=1, d_model=args.d_model, n_head=args.heads, n_layer=args.layers,
            context_length=args.context, d_ff=args.ffn, dropout=args.dropout,
            positional=args.positional, activation=args.activation, norm=args.norm,
            tied=args.tied,
        ).validate()  # checked before the (possibly long) tokenization
        tokenizer_name = args.tokenizer
    # A floor before the vocabulary is known (again after); one process holds one micro-batch.
    check_memory(mcfg, one_process, device)

    def plan_output(vocab_size: int):
        need = checkpoint_bytes(param_count(replace(mcfg, vocab_size=vocab_size)), vocab_size,
                                resumable=not args.bundle)
        inputs = [args.file, *([args.init_from] if args.init_from else [])]
        return check_output(args.out, inputs=inputs, resume=args.resume,
                            overwrite=args.overwrite, need_bytes=need)

    if main:  # only rank 0 writes, so only its --out and run directory matter
        first = plan_output(mcfg.vocab_size)  # refused now, not after the run
        from engine.training.rundir import check_run_dir, run_directory

        check_run_dir(run_directory(first.path), replace=bool(args.resume or args.overwrite))
    quiet = args.json or not sys.stderr.isatty() or not main
    with tqdm(total=Path(args.file).stat().st_size if Path(args.file).is_file() else 0,
              unit="B", unit_scale=True, desc="tokenizing", disable=quiet, leave=False) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TokenCacheWarning)
            corpus = load_corpus(
                args.file, tokenizer=tokenizer_name, context_length=mcfg.context_length,
                val_fraction=tcfg.val_fraction, progress=progress,
                vocab_from=ckpt.tokenizer if ckpt else None, encoding=args.encoding,
                token_cache=cache_choice(args),
            )
    for w in caught:  # a full cache folder: one line of ours, not Python's warning format
        if issubclass(w.category, TokenCacheWarning):
            if main:
                print(f"{PROG}: warning: {words(w.message)}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if session is not None:
        session.barrier()  # every rank has the corpus (a rank-0-only load would wait here)
    if not args.json and main:  # the encoding is always reported, a terminal or not
        print(f"{Path(args.file).name}: {corpus.decoding.describe()}", file=sys.stderr)
        if corpus.token_file is not None:
            print(corpus.token_file.describe(), file=sys.stderr)
    trainer = build_trainer(
        mcfg, tcfg, corpus, device=device,
        weights=ckpt.model.state_dict() if ckpt is not None else None,
        trainer_state=ckpt.trainer_state if ckpt is not None else None,
        compile=args.compile, shard=None if session is None else session.shard,
    )
    model = trainer.model
    if not main:  # the same steps as rank 0, silent, writing nothing
        return _follow(trainer)
    plan = plan_output(model.config.vocab_size)
    if not args.json:  # like the encoding, what happens to --out is always said
        print(f"{plan.describe()}", file=sys.stderr)
    if not quiet:
        print(
            f"{plural(corpus.n_tokens, 'token')}, vocabulary {corpus.tokenizer.vocab_size:,}, "
            f"{plural(model.num_params(), 'parameter')}, device {trainer.device}"
            + ("" if session is None else f", {plural(world, 'rank')} ({session.backend})"),
            file=sys.stderr,
        )
    save = _Saver(args, trainer, plan.path)
    run = _run_writer(args, trainer, plan.path, world_size=world)

    last = None
    start = trainer.step
    with tqdm(total=tcfg.steps, initial=start, desc="training", disable=quiet,
              unit="step") as bar:
        try:
            for rec in trainer.run(log_every=10):
                last = rec
                run.record(rec)
                bar.update(rec.step - bar.n)
                post = {"loss": f"{rec.train_loss:.4f}", "tok/s": f"{rec.tokens_per_s:,.0f}"}
                if rec.val_loss is not None:
                    post["val"] = f"{rec.val_loss:.4f}"
                    save.note_evaluation(rec.step, rec.val_loss)
                    if rec.step < tcfg.steps:  # the last one is the final save below
                        save.periodic(rec.step)  # a crash loses at most one interval
                bar.set_postfix(post, refresh=False)
        except KeyboardInterrupt:
            trainer.request_stop()
            print(f"{PROG}: interrupted at step {trainer.step}; saving", file=sys.stderr)
        except TrainingDiverged as exc:
            bar.close()
            run.end("diverged")
            return save.diverged(exc)
        except TrainingError as exc:  # out of memory: the weights of the last step are intact
            bar.close()
            run.end("failed")
            return save.failed(exc)
        except BaseException:
            # A lost rank (engine.training.distributed turns it into one line above us), a bug: the
            # run directory says the run ended, so a follower does not wait for it forever.
            # Nothing is saved: a step was half done, and its batch already drawn.
            bar.close()
            run.end("failed")
            raise
    path, failure = save.final()
    run.end("done" if trainer.step >= tcfg.steps else "stopped", path)  # stopped: Ctrl+C
    evals = [r for r in trainer.history if r.val_loss is not None]
    summary: dict[str, Any] = {
        "steps": trainer.step,
        "tokens_per_s": round(last.tokens_per_s, 1) if last else 0.0,
        "train_loss": evals[-1].eval_train_loss if evals else (last.train_loss if last else None),
        "val_loss": evals[-1].val_loss if evals else None,
        "last_batch_loss": last.train_loss if last else None,
        "parameters": model.num_params(),
        "vocab_size": corpus.tokenizer.vocab_size,
        "corpus_tokens": corpus.n_tokens,
        "encoding": corpus.decoding.name,
        "replaced_bytes": corpus.decoding.replaced,
        "device": str(trainer.device),
        "checkpoint": str(path),
    }
    if failure is not None:
        print(f"{PROG}: error: {failure}; the trained weights were saved to {path} instead",
              file=sys.stderr)
        return 2
    best = save.best_file()
    if best is not None:
        summary.update(best_checkpoint=str(best), best_step=save.best_step,
                       best_val_loss=save.best_val)
        if not args.json:
            print(f"validation loss was lowest at step {save.best_step:,} "
                  f"({save.best_val:.4f}): those weights were saved to {best}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"saved {path} after {plural(summary['steps'], 'step')}: train loss "
            f"{fmt(summary['train_loss'])}, val loss {fmt(summary['val_loss'])}, "
            f"{summary['tokens_per_s']:,.0f} tokens/s"
        )
    return 0


class _RunFeed:
    """Feeds the run directory from the record loop: records in batches, a snapshot per
    evaluation (rank 0 only: the other ranks never reach the loop that feeds it)."""

    def __init__(self, writer, trainer):
        self.writer, self.trainer = writer, trainer
        self._pending: list = []
        self._flushed = 0.0

    def record(self, rec) -> None:
        import time

        self._pending.append(rec)
        now = time.monotonic()
        if rec.event != "step" or now - self._flushed >= 1.0:  # whole batches, ~1 a second
            self.flush()
            self._flushed = now
        if rec.event == "eval":
            self.writer.evaluation(rec, self.trainer.model.state_dict())

    def flush(self) -> None:
        self.writer.records(self._pending)
        self._pending = []

    def end(self, outcome: str, checkpoint: Path | None = None) -> None:
        self.flush()
        self.writer.final(outcome, self.trainer.step, checkpoint)


def _run_writer(args: argparse.Namespace, trainer, checkpoint: Path,
                world_size: int = 1) -> _RunFeed:
    """Start the run directory of a save to `checkpoint` (engine.training.rundir.run_directory)."""
    from engine.training.rundir import RunWriter, run_directory

    def warn(exc: OSError) -> None:
        print(f"{PROG}: warning: writing the run directory failed ({exc}); training goes on, "
              "the checkpoint is still saved", file=sys.stderr)

    writer = RunWriter(run_directory(checkpoint), on_error=warn)
    writer.begin(trainer, args.file, source="cli", world_size=world_size)
    return _RunFeed(writer, trainer)


def _follow(trainer: Trainer) -> int:
    """A rank > 0: train in step with rank 0 and leave the saying and saving to it."""
    from engine.training.trainer import TrainingDiverged, TrainingError

    try:
        for _ in trainer.run(log_every=10):
            pass
    except KeyboardInterrupt:
        return 130
    except TrainingDiverged:  # every rank diverges at the same step; rank 0 says so
        return 2
    except TrainingError as exc:  # out of memory here, perhaps not on rank 0
        rank = trainer.shard.rank
        print(f"{PROG}: error: rank {rank}: {one_line(exc)}", file=sys.stderr)
        return 2
    return 0


class _Saver:
    """The train command's saves: at evaluations, at the end, and after a failure."""

    def __init__(self, args: argparse.Namespace, trainer, path: Path):
        self.args, self.trainer, self.path = args, trainer, path
        self._warned = False
        self.saved_step: int | None = None  # of the last periodic save that succeeded
        # This run's lowest validation loss, with the trainer's state then (snapshots of it
        # would be gone by the end: the file is overwritten at every evaluation).
        self.best_step: int | None = None
        self.best_val = float("inf")
        self._best_state: dict | None = None

    def note_evaluation(self, step: int, val_loss: float) -> None:
        """Remember the trainer's state when validation loss is the run's lowest so far."""
        if val_loss < self.best_val:
            self.best_step, self.best_val = step, val_loss
            self._best_state = self.trainer.state_dict(with_weights=True)

    def best_file(self) -> Path | None:
        """Save the best evaluation's weights beside --out when they are not the last ones."""
        from engine.model.decoder import GPT
        from engine.storage.outputs import save_with_rescue

        t = self.trainer
        if self._best_state is None or self.best_step == t.step:
            return None
        state = self._best_state
        target = self.path.with_name(f"{self.path.stem}.best{self.path.suffix}")
        marker = {"step": self.best_step, "val_loss": self.best_val, "run_steps": t.step}
        if self.args.bundle:  # weights only
            model = GPT(t.model.config)
            model.load_state_dict(state["model"])
            kwargs = dict(train_cfg=t.cfg, step=self.best_step, extra={
                "corpus": str(self.args.file), "best": marker,
                "history": list(state["history"])})
        else:
            model = t.model  # its config and vocabulary; the weights are the state's
            kwargs = dict(trainer_state=state, train_cfg=t.cfg,
                          extra={"corpus": str(self.args.file), "best": marker})
        path, _ = save_with_rescue(target, model, t.corpus.tokenizer, **kwargs)
        return path

    def _kwargs(self, **extra: Any) -> dict[str, Any]:
        t = self.trainer
        history = extra.pop("history", [r.to_dict() for r in t.history])
        return dict(trainer=None if self.args.bundle else t, train_cfg=t.cfg, step=t.step,
                    extra={"corpus": str(self.args.file), "history": history, **extra})

    def periodic(self, step: int) -> None:
        """Save at an evaluation; a failure is reported once and training goes on."""
        from engine.storage.checkpoint import SaveError, save_checkpoint

        try:
            save_checkpoint(self.path, self.trainer.model, self.trainer.corpus.tokenizer,
                            **self._kwargs())
            self.saved_step = step
        except SaveError as exc:
            if not self._warned:
                print(f"{PROG}: warning: {exc} (at step {step}; training goes on, the final "
                      "save will try again)", file=sys.stderr)
                self._warned = True

    def final(self):
        """(path, the first failure or None): the weights go to a rescue path if need be."""
        from engine.storage.outputs import save_with_rescue

        return save_with_rescue(self.path, self.trainer.model, self.trainer.corpus.tokenizer,
                                **self._kwargs())

    def diverged(self, exc) -> int:
        """Save the last finite weights beside --out, marked as diverged; exit status 2."""
        from engine.storage.outputs import save_with_rescue

        t = self.trainer
        marker = {"at_step": exc.step, "kept_step": exc.kept_step, "lr": t.cfg.lr}
        target = self.path.with_name(f"{self.path.stem}.diverged{self.path.suffix}")
        if exc.resumable:
            kwargs = self._kwargs(diverged=marker)
        else:  # restored from an older copy: the optimizer state belongs to later weights
            history = [r.to_dict() for r in t.history if r.step <= exc.kept_step]
            kwargs = dict(train_cfg=t.cfg, step=exc.kept_step, extra={
                "corpus": str(self.args.file), "history": history, "diverged": marker})
        path, _ = save_with_rescue(target, t.model, t.corpus.tokenizer, **kwargs)
        also = "" if self.saved_step is None else (
            f" The checkpoint of the last evaluation (step {self.saved_step}) is {self.path}.")
        print(f"{PROG}: error: {one_line(exc)} The weights of step {exc.kept_step} and the "
              f"history up to them were saved to {path}, marked as diverged.{also}",
              file=sys.stderr)
        return 2

    def failed(self, exc) -> int:
        """After an out-of-memory error: save what was trained (if anything); status 2."""
        if self.trainer.step == 0:
            print(f"{PROG}: error: {one_line(exc)}; nothing was trained, nothing saved",
                  file=sys.stderr)
            return 2
        path, _ = self.final()
        print(f"{PROG}: error: {one_line(exc)}; the weights of step {self.trainer.step} were "
              f"saved to {path}", file=sys.stderr)
        return 2
