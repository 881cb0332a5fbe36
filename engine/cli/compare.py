"""`transformer-explorer compare A B`: what training changed between two versions of one model.

A and B are model files (a checkpoint before and after Continue training) or snapshots of a
training run: `RUN_DIR` (its newest snapshot) or `RUN_DIR@STEP`. The same text goes through
both (engine.model.training_diff): the loss of every next token under each, the tokens that
improved and worsened most, and the heads whose attention pattern moved most.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from engine.cli.messages import PROG
from engine.wording import say

SHOWN = 8  # tokens and heads listed in the plain output


def add_parser(sub: argparse._SubParsersAction, lang: argparse.ArgumentParser) -> None:
    """The `compare` subcommand and its options."""
    p = sub.add_parser(
        "compare", parents=[lang], help="what training changed between two versions of a model",
        description="The same text under two versions of one model: the loss of every next "
        "token under each, the tokens that improved and worsened most, and each head's "
        "attention-pattern distance (the mean Jensen–Shannon divergence over query rows, in "
        "bits). A version is a model file, or a training run's folder (its newest snapshot) "
        "or RUN_DIR@STEP (the snapshot of that step).")
    p.add_argument("a", metavar="A", help="the earlier version")
    p.add_argument("b", metavar="B", help="the later version")
    p.add_argument("--tokenizer-from", metavar="PATH",
                   help="the models' tokenizer when their files have none")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", metavar="FILE", help="a UTF-8 text file (its first tokens, up "
                     "to the context, are compared)")
    src.add_argument("--prompt", help="the text itself")
    p.add_argument("--json", action="store_true")


def open_version(spec: str, tokenizer_from: str | None = None):
    """(model, tokenizer) of a model file, a run folder (newest snapshot) or RUN_DIR@STEP."""
    from engine.storage.imports import open_model
    from engine.training.runreader import is_run, run_snapshot

    path, step = Path(spec), None
    if not path.exists() and "@" in spec:
        folder, _, number = spec.rpartition("@")
        if Path(folder).is_dir() and number.lstrip("-").isdigit():
            path, step = Path(folder), int(number)
    if path.is_dir() and is_run(path):
        return run_snapshot(path, step)
    ckpt = open_model(spec, tokenizer_from=tokenizer_from)
    return ckpt.model, ckpt.tokenizer


def _text(args: argparse.Namespace) -> str:
    if args.prompt is not None:
        return args.prompt
    return Path(args.text).read_text(encoding="utf-8")


def cmd_compare(args: argparse.Namespace) -> int:
    """Run `compare`; user errors raise (commands.main prints them on one line)."""
    from engine.model.training_diff import TrainingDiffError, compare_models, same_shape

    model_a, tok = open_version(args.a, args.tokenizer_from)
    model_b, tok_b = open_version(args.b, args.tokenizer_from)
    same_shape(model_a, model_b)
    if hasattr(tok, "to_dict") and hasattr(tok_b, "to_dict") and tok.to_dict() != tok_b.to_dict():
        raise TrainingDiffError(say("training_diff.tokenizer"))
    ids = np.asarray(tok.encode(_text(args)))
    context = min(model_a.config.context_length, model_b.config.context_length)
    if len(ids) > context:
        print(f"{PROG}: the text has {len(ids)} tokens; comparing the first {context} (the "
              "models' context)", file=sys.stderr)
        ids = ids[:context]
    diff = compare_models(model_a, model_b, ids)
    pieces = [tok.piece(int(i)) for i in ids]
    if args.json:
        out = diff.to_dict(n=SHOWN)
        for row in out["improved"] + out["worsened"]:
            row["piece"] = pieces[row["index"] + 1]
        out["pieces"] = pieces
        out["top_heads"] = [{"layer": layer, "head": head, "distance": d}
                            for layer, head, d in diff.top_heads(SHOWN)]
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"{len(ids)} tokens; mean loss A {diff.mean_loss_a:.4f}, B {diff.mean_loss_b:.4f} "
          f"(change {diff.mean_loss_b - diff.mean_loss_a:+.4f})")
    for title, order in (("improved most", diff.improved), ("worsened most", diff.worsened)):
        print(f"{title} ({len(order)} tokens):")
        for i in order[:SHOWN]:
            print(f"  {i + 1:>5} {pieces[i + 1]!r:<14} A {diff.loss_a[i]:.4f}  "
                  f"B {diff.loss_b[i]:.4f}  ({diff.change[i]:+.4f})")
    print(f"heads whose pattern moved most ({diff.distance}):")
    for layer, head, d in diff.top_heads(SHOWN):
        print(f"  blocks.{layer}.attn.head.{head}  {d:.4f}")
    return 0
