"""The headless command line: train, tokenize, inspect, attribute, sample, info, export-hf.

Every user error ends with one line on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.cli.compare import add_parser as add_compare, cmd_compare
from engine.cli.compare_runs import add_parser as add_compare_runs, cmd_compare_runs
from engine.cli.messages import PROG, one_line, set_language
from engine.wording import LANGUAGES

COMMANDS = ("train", "tokenize", "inspect", "attribute", "compare", "compare-runs", "sample",
            "info", "export-hf")
_LANG_HELP = "language of error messages and warnings: en (default) or zh (Chinese)"
# Where a model file has no vocabulary of its own (a nanoGPT run without meta.pkl).
_TOKENIZER_FROM = dict(metavar="PATH", help="the model's tokenizer when its file has none: a "
                       "meta.pkl, GPT-2's vocab.json (with merges.txt) or tokenizer.json")


class UsageError(Exception):
    """A user-facing problem with a one-line message."""


class _DefaultsShown(argparse.HelpFormatter):
    """Help that gives each option's default, where it has one its help does not already say
    (a flag's False and an unset None are no default worth a word)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if default in (None, False, argparse.SUPPRESS) or "default" in text \
                or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)" if text else "default: %(default)s"


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and options; `transformer-explorer` with none opens the GUI."""
    from engine.config import ModelConfig, TrainConfig
    from engine.model.presets import ARCHES
    from engine.text.tokenfile import add_cache_options

    m, t = ModelConfig(), TrainConfig()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train a small GPT-like decoder on your text and look inside it. "
        "Without a command, the desktop app opens.",
    )
    # --lang before or after the command: `--lang zh train ...` and `train ... --lang zh`.
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help=_LANG_HELP)
    lang = argparse.ArgumentParser(add_help=False)
    lang.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help=_LANG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "train", parents=[lang], help="train a model on a text file",
        formatter_class=_DefaultsShown,
        description="Train a small GPT-like decoder on a text file. The run is written as it "
        "goes to a run folder (--out): the model, saved again at every evaluation; "
        "records.jsonl; weight snapshots; run.json; and end.json, which says how the run ended "
        "and where its seconds went. A terminal shows a progress bar, a log gets a line at "
        "every evaluation. Ctrl+C stops after the current step and saves (exit status 130).")
    p.add_argument("file", help="a text file (UTF-8, UTF-16, GBK/GB18030, Windows-1252)")
    p.add_argument("--out", required=True, help="the run directory (or a .safetensors path, "
                   "whose run directory is NAME.run/ beside it): model.safetensors saved again "
                   "at every evaluation, records.jsonl, snapshots/, run.json")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a model already at --out (it is kept otherwise)")
    p.add_argument("--encoding", help="the text's encoding (default: detected), e.g. gbk")
    add_cache_options(p)
    p.add_argument("--tokenizer", default="cl100k_base",
                   help="cl100k_base (default), char, or another tiktoken encoding name")
    p.add_argument("--d-model", type=int, default=m.d_model,
                   help="width of every token's vector (the residual stream)")
    p.add_argument("--heads", type=int, default=m.n_head,
                   help="attention heads per layer (must divide --d-model)")
    p.add_argument("--layers", type=int, default=m.n_layer, help="transformer blocks")
    p.add_argument("--context", type=int, default=m.context_length,
                   help="tokens the model sees at once (the context window)")
    p.add_argument("--ffn", type=int, default=m.d_ff, help="feed-forward hidden width")
    p.add_argument("--dropout", type=float, default=m.dropout,
                   help="fraction of activations dropped while training")
    p.add_argument("--arch", choices=ARCHES, default=ARCHES[0],
                   help="gpt: the articles' model (the options below choose its parts); gpt2: "
                   "pre-norm, learned positions, GELU (tanh), tied; llama: RMSNorm, rotary "
                   "positions, SwiGLU, no biases, grouped K/V heads (--kv-heads)")
    p.add_argument("--kv-heads", type=int, default=None, metavar="N",
                   help="--arch llama: key/value heads, each shared by --heads/N query heads "
                   "(grouped-query attention; default: as many as --heads)")
    p.add_argument("--positional", choices=("sinusoidal", "learned"), default=m.positional,
                   help="how positions are encoded: the paper's sines or a learned table")
    p.add_argument("--norm", choices=("post", "pre"), default=m.norm,
                   help="layer norm after each sub-layer (the paper) or before it (GPT-2)")
    p.add_argument("--activation", choices=("relu", "gelu"), default=m.activation,
                   help="the feed-forward network's activation")
    p.add_argument("--tied", action="store_true", help="share token table and output layer")
    p.add_argument("--no-bias", dest="bias", action="store_false",
                   help="no biases in the linear layers and layer norms (nanoGPT's bias=False)")
    p.add_argument("--batch", type=int, default=t.batch_size,
                   help="windows per optimizer step, over all ranks under torchrun")
    p.add_argument("--grad-accum", type=int, default=t.grad_accum, metavar="N",
                   help="split each batch into N micro-batches whose gradients add up")
    p.add_argument("--lr", type=float, default=t.lr, help="peak learning rate (AdamW)")
    p.add_argument("--min-lr", type=float, default=None, help="cosine floor (default lr/10)")
    p.add_argument("--warmup", type=int, default=t.warmup_steps,
                   help="steps of linear warm-up to --lr, then cosine decay to --min-lr")
    p.add_argument("--steps", type=int, default=t.steps, help="total optimizer steps")
    p.add_argument("--eval-interval", type=int, default=t.eval_interval,
                   help="steps between evaluations (each also saves the model)")
    p.add_argument("--eval-batches", type=int, default=t.eval_batches,
                   help="batches of each split scored at an evaluation")
    p.add_argument("--weight-decay", type=float, default=t.weight_decay,
                   help="AdamW weight decay of the linear layers' weights")
    p.add_argument("--grad-clip", type=float, default=t.grad_clip,
                   help="clip the gradient's global norm to this (0: no clipping)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--seed", type=int, default=t.seed,
                   help="seed of the initial weights, the batches and dropout")
    p.add_argument("--compile", action="store_true",
                   help="train through torch.compile (slow first step; often faster on GPUs)")
    p.add_argument("--no-amp", dest="amp", action="store_false",
                   help="no mixed precision (by default bf16, or fp16, on CUDA)")
    p.add_argument("--dist-timeout", type=float, default=None, metavar="SECONDS",
                   help="under torchrun: how long a rank waits for the others before the run "
                   "stops (default 300)")
    p.add_argument("--resume", metavar="CKPT", help="continue from a saved checkpoint")
    p.add_argument("--init-from", metavar="MODEL",
                   help="fine-tune a model (ours, a nanoGPT ckpt.pt or a Hugging Face GPT-2 "
                   "folder): its weights, config and tokenizer, a new optimizer")
    p.add_argument("--tokenizer-from", **_TOKENIZER_FROM)
    p.add_argument("--bundle", action="store_true",
                   help="save weights, tokenizer and history only (no optimizer state)")
    p.add_argument("--json", action="store_true", help="print one final JSON object")

    p = sub.add_parser("tokenize", parents=[lang], help="show how a text splits into tokens")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("file", nargs="?", help="a text file")
    src.add_argument("--text", help="the text itself")
    p.add_argument("--tokenizer", default="cl100k_base")
    p.add_argument("--encoding", help="the file's encoding (default: detected), e.g. gbk")
    p.add_argument("--limit", type=int, default=200, help="tokens listed in text output")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("inspect", parents=[lang],
                       help="print every step of one traced forward pass")
    p.add_argument("checkpoint")
    p.add_argument("--tokenizer-from", **_TOKENIZER_FROM)
    p.add_argument("--prompt", required=True)
    p.add_argument("--ablate", default="", metavar="L:H,...",
                   help="heads to switch off, e.g. 0:1,2:3")
    p.add_argument("--json", action="store_true")

    from engine.cli.attribute import add_parser as add_attribute

    add_attribute(sub, lang)
    add_compare(sub, lang)
    add_compare_runs(sub, lang)

    p = sub.add_parser("sample", parents=[lang], help="generate text from a prompt")
    p.add_argument("checkpoint")
    p.add_argument("--tokenizer-from", **_TOKENIZER_FROM)
    p.add_argument("--prompt", required=True)
    p.add_argument("--tokens", type=int, default=100)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--top-p", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--show-probs", action="store_true", help="print each step's top candidates")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export-hf", parents=[lang],
                       help="write a model as a Hugging Face folder: an imported model in "
                       "its own family (Qwen, Gemma, Phi...), ours as GPT-2 or Llama")
    p.add_argument("checkpoint", metavar="MODEL")
    p.add_argument("folder", metavar="DIR", help="an empty (or new) folder")
    p.add_argument("--overwrite", action="store_true",
                   help="write into a folder that is not empty (its model files are replaced)")
    p.add_argument("--tokenizer-from", **_TOKENIZER_FROM)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("info", parents=[lang], help="describe a saved model")
    p.add_argument("checkpoint")
    p.add_argument("--tokenizer-from", **_TOKENIZER_FROM)
    p.add_argument("--json", action="store_true")
    return parser


def main_and_exit() -> None:
    """The process's entry: main(), then exit at once with its status.

    Once the command is done, nothing is left to write (every file was closed, a torchrun
    group was destroyed), but the interpreter's teardown of torch still took 0.2-4 s, which
    no figure of a run's seconds could show. A run compiled by torch.compile exits normally:
    its compiler's worker processes are shut down at exit.
    """
    import os

    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if _compiled:
        sys.exit(code)
    os._exit(code)


_compiled = False  # a run trained through torch.compile: its process exits normally


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `transformer-explorer-cli` (and of `transformer-explorer COMMAND`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    set_language(args.lang)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return {
            "train": _cmd_train,
            "tokenize": cmd_tokenize,
            "inspect": cmd_inspect,
            "attribute": _cmd_attribute,
            "compare": cmd_compare,
            "compare-runs": cmd_compare_runs,
            "sample": cmd_sample,
            "info": cmd_info,
            "export-hf": cmd_export_hf,
        }[args.command](args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - user errors become one line; bugs still show
        if not _is_user_error(exc):
            raise
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 2


def _cmd_attribute(args: argparse.Namespace) -> int:
    from engine.cli.attribute import cmd_attribute

    return cmd_attribute(args)


# Config fields -> the train options that set them, so a refusal names what the user typed.


def _cmd_train(args: argparse.Namespace) -> int:
    import gc

    global _compiled
    _compiled = _compiled or args.compile

    from engine.cli.train import cmd_train
    from engine.training.distributed import DEFAULT_TIMEOUT_S, torchrun_session

    # Under torchrun this process joins the others for the run (engine.training.distributed).
    timeout = DEFAULT_TIMEOUT_S if args.dist_timeout is None else args.dist_timeout
    with torchrun_session(args.device, timeout) as session:
        code = cmd_train(args, session)
        if session is not None and code == 0:
            # A finished run's ranks leave together, and the run's DistributedDataParallel
            # (kept alive by the trainer's reference cycles) goes while its group still
            # exists: otherwise gloo's teardown could abort a rank at exit ("terminate called
            # without an active exception"; 1 in 20 two-rank runs on one core, 0 in 80 with
            # both). A failed rank does neither: torchrun ends the rest, and a SIGTERM then
            # must find it printing its one line, not collecting.
            session.barrier()
            gc.collect()
        return code


def _is_user_error(exc: BaseException) -> bool:
    # Every engine error class the user can cause derives from ValueError/RuntimeError with a
    # message written for people; OSError covers missing files and permissions.
    from engine.training.distributed import RankFailure
    from engine.training.trainer import TrainingDiverged, TrainingError

    return isinstance(exc, (UsageError, ValueError, OSError, TrainingDiverged, TrainingError,
                            RankFailure))


# --------------------------------------------------------------------------- tokenize
def cmd_tokenize(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engine.text.corpus import stream_tokens, token_counts
    from engine.text.tokenizers import display_bytes, get_base

    base = get_base(args.tokenizer)
    encoding = "text"
    if args.text is not None:
        ids, n_chars = base.encode_large(args.text), len(args.text)
    else:
        # Streamed: memory is 4 bytes per token plus one chunk, whatever the file's size.
        quiet = args.json or not sys.stderr.isatty()
        size = Path(args.file).stat().st_size if Path(args.file).is_file() else 0
        with tqdm(total=size, unit="B", unit_scale=True, desc="tokenizing", disable=quiet,
                  leave=False) as bar:
            def progress(done: int, total: int) -> None:
                bar.update(done - bar.n)

            got = stream_tokens(args.file, base, progress, encoding=args.encoding)
        ids, n_chars, encoding = got.ids, got.n_chars, got.decoding.describe()
    counts = token_counts(ids)  # statistics on the array: no Python object per token
    order = np.argsort(-counts, kind="stable")[:20]
    pieces: dict[int, str] = {}

    def piece(i: int) -> str:  # formatted once per distinct id, only when shown
        if i not in pieces:
            pieces[i] = display_bytes(base.token_bytes(i))
        return pieces[i]

    top = [{"id": int(i), "piece": piece(int(i)), "count": int(counts[i])}
           for i in order if counts[i]]
    stats = {
        "tokenizer": base.name,
        "encoding": encoding,
        "characters": n_chars,
        "tokens": int(len(ids)),
        "distinct": int(np.count_nonzero(counts)),
        "chars_per_token": round(n_chars / max(len(ids), 1), 3),
    }
    if args.json:
        _write_tokens_json(stats, top, ids, piece)
        return 0
    shown = ids[: args.limit].tolist()
    print(" ".join(f"{piece(i)}[{i}]" for i in shown))
    if len(ids) > args.limit:
        print(f"... ({len(ids) - args.limit:,} more; --limit N to show more)")
    print(", ".join(f"{k.replace('_', ' ')}: {v:,}" if isinstance(v, int) else
                    f"{k.replace('_', ' ')}: {v}" for k, v in stats.items()))
    print("most common: " + ", ".join(f"{t['piece']} x{t['count']:,}" for t in top[:10]))
    return 0


def _write_tokens_json(stats: dict, top: list, ids: np.ndarray, piece) -> None:
    """One JSON object, written in blocks so a large file's ids never become one string."""
    out = sys.stdout
    out.write(json.dumps({**stats, "most_common": top}, ensure_ascii=False)[:-1])
    for key in ("ids", "pieces"):
        out.write(f', "{key}": [')
        for start in range(0, len(ids), 1 << 16):
            block = ids[start : start + (1 << 16)].tolist()
            values = block if key == "ids" else [piece(i) for i in block]
            out.write((", " if start else "") + json.dumps(values, ensure_ascii=False)[1:-1])
        out.write("]")
    out.write("}\n")


# --------------------------------------------------------------------------- inspect
def _encode_prompt(ckpt, prompt: str) -> np.ndarray:
    ids = ckpt.tokenizer.encode(prompt)
    if len(ids) == 0:
        raise UsageError("the prompt is empty")
    T = ckpt.model_config.context_length
    if len(ids) > T:
        print(f"{PROG}: prompt has {len(ids)} tokens; using the first {T} (the model's context)",
              file=sys.stderr)
        ids = ids[:T]
    return ids


def _parse_heads(spec: str) -> list[tuple[int, int]]:
    heads = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        try:
            layer, head = (int(x) for x in part.split(":"))
        except ValueError:
            raise UsageError(f"--ablate expects LAYER:HEAD pairs like 0:1,2:3, got {part!r}")
        heads.append((layer, head))
    return heads


def cmd_inspect(args: argparse.Namespace) -> int:
    from engine.storage.imports import open_model
    from engine.model.trace import run_trace

    ckpt = open_model(args.checkpoint, tokenizer_from=args.tokenizer_from)
    ids = _encode_prompt(ckpt, args.prompt)
    trace = run_trace(ckpt.model, ids, ablate=_parse_heads(args.ablate))
    tok = ckpt.tokenizer
    pieces = [tok.piece(int(i)) for i in ids]
    if args.json:
        steps = []
        for step in trace:
            values, axes = step.values, list(step.axes)
            if axes and axes[0] == "batch":  # a single prompt: drop the batch of one
                values, axes = values[0], axes[1:]
            steps.append({
                "name": step.name, "title": step.title, "formula": step.formula,
                "axes": axes, "shape": list(values.shape), "values": values.tolist(),
            })
        out = {
            "tokens": {"ids": tok.to_original(ids).tolist(), "compact_ids": ids.tolist(),
                       "pieces": pieces},
            "steps": steps,
        }
        # -inf (the causal mask) is written as -Infinity, which Python's json reads back.
        json.dump(out, sys.stdout, ensure_ascii=False)
        print()
        return 0
    print("tokens: " + " ".join(f"{p}[{i}]" for p, i in zip(pieces, tok.to_original(ids))))
    with np.printoptions(precision=4, suppress=True, linewidth=110, threshold=200, edgeitems=3):
        for n, step in enumerate(trace, 1):
            values = step.values[0] if step.axes[0] == "batch" else step.values
            axes = step.axes[1:] if step.axes[0] == "batch" else step.axes
            shape = ", ".join(f"{a} {s}" for a, s in zip(axes, values.shape))
            print(f"\n{n:3d}. {step.name} — {step.title}\n     {step.formula}\n     [{shape}]")
            print("     " + str(values).replace("\n", "\n     "))
    return 0


# --------------------------------------------------------------------------- sample
def cmd_sample(args: argparse.Namespace) -> int:
    from engine.storage.imports import open_model
    from engine.model.sample import generate

    if args.tokens <= 0:
        raise UsageError("--tokens must be a positive number")
    ckpt = open_model(args.checkpoint, tokenizer_from=args.tokenizer_from)
    steps = generate(
        ckpt.model, ckpt.tokenizer, args.prompt, args.tokens, temperature=args.temperature,
        top_k=args.top_k, top_p=args.top_p, seed=args.seed,
    )
    records = []
    if not args.json:
        sys.stdout.write(args.prompt)
    shown = ""
    for step in steps:
        records.append(step)
        if args.json:
            continue
        if args.show_probs:
            cands = "  ".join(f"{piece} {p:.3f}" for _, piece, p in step.candidates[:5])
            print(f"\n[{step.piece} p={step.prob:.3f}]  {cands}", end="")
        else:
            # Print only what is now complete text; a Chinese character may span tokens.
            sys.stdout.write(step.text[len(shown):])
            shown = step.text
        sys.stdout.flush()
    if args.json:
        text = records[-1].text if records else ""
        print(json.dumps({
            "prompt": args.prompt, "text": text,
            "tokens": [{"id": r.token_id, "piece": r.piece, "prob": r.prob} for r in records],
        }, ensure_ascii=False))
    else:
        print()
    return 0


# --------------------------------------------------------------------------- info
def cmd_info(args: argparse.Namespace) -> int:
    from engine.storage.imports import model_info

    # Our own file is verified against its checksum (a damaged file is refused).
    info = model_info(args.checkpoint, tokenizer_from=args.tokenizer_from)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, default=str))
        return 0
    for key, value in info.items():
        if key == "diverged" and value is None:
            continue  # said only of a run that diverged
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, float) and math.isfinite(value):
            value = f"{value:.4f}"
        print(f"{key:>16}: {value}")
    return 0


# --------------------------------------------------------------------------- export-hf
def cmd_export_hf(args: argparse.Namespace) -> int:
    from engine.storage.imports import open_model
    from engine.storage.imports.hf_export import export_hf

    ckpt = open_model(args.checkpoint, tokenizer_from=args.tokenizer_from)
    done = export_hf(ckpt.model, ckpt.tokenizer, args.folder, overwrite=args.overwrite)
    if args.json:
        print(json.dumps({"folder": str(done.folder), "files": done.files, "notes": done.notes}))
        return 0
    for note in done.notes:
        print(f"{PROG}: note: {note}", file=sys.stderr)
    print(f"wrote {done.folder}: {', '.join(done.files)}")
    return 0


if __name__ == "__main__":
    main_and_exit()
