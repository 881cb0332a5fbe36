"""The `train` command: validate everything up front, train, save at every evaluation.

Nothing a user made is lost: --out is checked before training (never the input, never an
unrelated file, an existing model only with --resume or --overwrite), a failed save leaves the
previous file intact and puts the weights somewhere the message names, and a diverged or
out-of-memory run still saves its last good weights. When the run's best evaluation (lowest
validation loss) is not its last, its weights are saved too, beside --out as
`<name>.best.safetensors`: an exact checkpoint of that step, marked with "best".

The run itself is driven by engine.training.driver (the one driver, shared with the window):
this module checks the inputs, tokenizes, and prints the driver's events.

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
    from engine.storage.outputs import OutputPlan
    from engine.training.distributed import Session
    from engine.training.driver import RunFinished
    from engine.training.runclock import RunClock
    from engine.training.runlock import RunLock
    from engine.training.trainer import Trainer


def cmd_train(args: argparse.Namespace, session: Session | None = None) -> int:
    """`session` (engine.training.distributed.Session) under torchrun: every rank trains its share,
    rank 0 alone prints, checks --out and saves."""
    from engine.storage.imports import training_start  # any format: ours, nanoGPT, Hugging Face
    from engine.config import ModelConfig, TrainConfig
    from engine.model.presets import check_choices, preset_config
    from engine.devices import resolve_device
    from engine.training.distributed import per_process
    from engine.training.memory import check_memory, param_count
    from engine.wording import plural
    from engine.storage.outputs import check_output, checkpoint_bytes
    from engine.training.runs import build_trainer, check_more_steps
    from engine.training.runclock import RunClock

    clock = RunClock.of_process()  # the run's seconds count from the process's start
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
        defaults = ModelConfig()
        check_choices(args.arch, {k: getattr(args, k) for k in ("positional", "norm", "activation")
                                  if getattr(args, k) != getattr(defaults, k)})
        mcfg = preset_config(
            args.arch, n_kv_head=args.kv_heads,
            vocab_size=1, d_model=args.d_model, n_head=args.heads, n_layer=args.layers,
            context_length=args.context, d_ff=args.ffn, dropout=args.dropout,
            positional=args.positional, activation=args.activation, norm=args.norm,
            tied=args.tied, bias=args.bias,
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

    lock = None
    if main:  # only rank 0 writes, so only its --out and run directory matter
        from engine.training.rundir import check_run_dir, run_directory
        from engine.training.runlock import RunLock

        first = plan_output(mcfg.vocab_size)  # refused now, not after the run
        check_run_dir(run_directory(first.path), replace=bool(args.resume or args.overwrite))
        # One writer per run folder, taken before the (possibly long) tokenization.
        lock = RunLock(run_directory(first.path)).acquire()
    try:
        clock.switch("tokenizing")
        corpus = _tokenize(args, mcfg, tcfg, tokenizer_name, ckpt, main)
        clock.switch("startup")  # building the model and the trainer
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
        plan = plan_output(trainer.model.config.vocab_size) if main else None
        if main and not args.json:  # like the encoding, what happens to --out is always said
            print(f"{plan.describe()}", file=sys.stderr)
        if main and not args.json:
            print(
                f"{plural(corpus.n_tokens, 'token')}, vocabulary "
                f"{corpus.tokenizer.vocab_size:,}, {plural(trainer.model.num_params(), 'parameter')}"
                f", device {trainer.device}"
                + ("" if session is None else f", {plural(world, 'rank')} ({session.backend})"),
                file=sys.stderr,
            )
        return _drive(args, trainer, plan, session, clock, lock)
    finally:
        if lock is not None:
            lock.release()


def _tokenize(args: argparse.Namespace, mcfg, tcfg, tokenizer_name: str, ckpt, main: bool):
    """The corpus of args.file (a bar on a terminal); a full cache folder is one line."""
    from tqdm import tqdm

    from engine.text.corpus import TokenCacheWarning, load_corpus
    from engine.text.tokenfile import cache_choice

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
    return corpus


def _drive(args: argparse.Namespace, trainer: Trainer, plan: OutputPlan | None,
           session: Session | None, clock: RunClock, lock: RunLock | None) -> int:
    """Run the driver, printing its events; the exit status."""
    import signal

    from engine.cli.progress import TrainProgress
    from engine.training.driver import (CheckpointSaved, RunDriver, RunFinished, RunOutputs,
                                        RunWarning, StepDone)
    from engine.training.rundir import run_directory

    main = plan is not None
    outputs = RunOutputs(
        checkpoint=plan.path if main else None,
        run_dir=run_directory(plan.path) if main else None, corpus_path=str(args.file),
        source="cli", world_size=1 if session is None else session.world_size,
        start=(plan.path, trainer.step) if main and plan.replaces == "resume" else None,
        bundle=args.bundle, log_every=10)
    driver = RunDriver(trainer, outputs, main=main, clock=clock, lock=lock)
    show = TrainProgress(trainer.cfg.steps, trainer.step, enabled=main and not args.json)
    interrupted = []

    def on_sigint(signum, frame) -> None:  # the first Ctrl+C: finish the step, save, exit 130
        interrupted.append(trainer.step)
        driver.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second one: at once

    # Under torchrun every rank gets the Ctrl+C and must stop at the same step, so there the
    # KeyboardInterrupt goes through the step (the driver saves what there is).
    previous = signal.signal(signal.SIGINT, on_sigint) if session is None and \
        _main_thread() else None
    end = None
    try:
        for event in driver.events():
            if isinstance(event, StepDone) and event.record.event in ("step", "eval"):
                show.update(event.record)
            elif isinstance(event, RunWarning) and main:
                still = ", the checkpoint is still saved" if event.kind == "run_dir_failed" else ""
                print(f"{PROG}: warning: {event.text}{still}", file=sys.stderr)
            elif isinstance(event, CheckpointSaved) and event.kind == "final":
                show.close()  # the bar ends where training did, before the last lines
            elif isinstance(event, RunFinished):
                end = event
    finally:
        show.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if interrupted and main:
        print(f"{PROG}: interrupted at step {interrupted[0]}; saved", file=sys.stderr)
    return _report(args, trainer, end, interrupted=bool(interrupted) or end.interrupted)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _report(args: argparse.Namespace, trainer: Trainer, end: RunFinished,
            interrupted: bool) -> int:
    """Say how the run ended (rank 0) and return the exit status."""
    from engine.training.records import TrainingDiverged
    from engine.wording import plural

    if end.error is not None and not end.explained:
        raise end.error  # a lost rank (one line from the commands), or a bug (a traceback)
    if trainer.shard.rank:  # a rank > 0 trains in step with rank 0 and leaves the saying to it
        if end.error is not None and not isinstance(end.error, TrainingDiverged):
            print(f"{PROG}: error: rank {trainer.shard.rank}: {one_line(end.error)}",
                  file=sys.stderr)
        return 130 if interrupted else (2 if end.error is not None else 0)
    if isinstance(end.error, TrainingDiverged):
        also = "" if end.periodic is None else (
            f" The checkpoint of the last evaluation (step {end.periodic[1]}) is "
            f"{end.periodic[0]}.")
        print(f"{PROG}: error: {one_line(end.error)} The weights of step {end.error.kept_step} "
              f"and the history up to them were saved to {end.checkpoint}, marked as diverged."
              f"{also}", file=sys.stderr)
        return 2
    if end.error is not None:
        if end.outcome == "failed" and _is_oom(end.error):
            if end.checkpoint_step == trainer.step and end.checkpoint is not None and \
                    trainer.step > 0:
                tail = f"the weights of step {trainer.step} were saved to {end.checkpoint}"
            else:
                tail = "nothing was trained, nothing saved"
            print(f"{PROG}: error: {one_line(end.error)}; {tail}", file=sys.stderr)
        else:
            print(f"{PROG}: error: {one_line(end.error)}", file=sys.stderr)
        return 2
    evals = [r for r in trainer.history if r.val_loss is not None]
    last = end.last
    summary: dict[str, Any] = {
        "steps": trainer.step,
        "tokens_per_s": round(end.tokens_per_s, 1),
        "train_loss": evals[-1].eval_train_loss if evals else (last.train_loss if last else None),
        "val_loss": evals[-1].val_loss if evals else None,
        "last_batch_loss": last.train_loss if last else None,
        "parameters": trainer.model.num_params(),
        "vocab_size": trainer.corpus.tokenizer.vocab_size,
        "corpus_tokens": trainer.corpus.n_tokens,
        "encoding": trainer.corpus.decoding.name,
        "replaced_bytes": trainer.corpus.decoding.replaced,
        "device": str(trainer.device),
        "checkpoint": str(end.checkpoint),
        "seconds": end.seconds.to_dict(),
    }
    if end.rescued_from is not None:
        print(f"{PROG}: error: {end.rescued_from}; the trained weights were saved to "
              f"{end.checkpoint} instead", file=sys.stderr)
        return 2
    if end.best_file is not None:
        best = end.best
        summary.update(best_checkpoint=str(end.best_file), best_step=best.step,
                       best_val_loss=best.val_loss)
        if not args.json:
            print(f"validation loss was lowest at step {best.step:,} "
                  f"({best.val_loss:.4f}): those weights were saved to {end.best_file}",
                  file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    else:
        # Every second of the run in the end line: the tokens/s are the training part's.
        print(
            f"saved {end.checkpoint} after {plural(summary['steps'], 'step')}: train loss "
            f"{fmt(summary['train_loss'])}, val loss {fmt(summary['val_loss'])}, "
            f"{summary['tokens_per_s']:,.0f} tokens/s; {end.seconds.total:.1f} s in all: "
            f"{end.seconds.describe()}"
        )
    return 130 if interrupted else 0


def _is_oom(exc: BaseException) -> bool:
    from engine.training.saves import OutOfRoom
    from engine.training.records import TrainingError

    return isinstance(exc, TrainingError) and not isinstance(exc, OutOfRoom)
