"""`transformer-explorer attribute`: why the model chose a token, for one prompt.

Prints the direct logit attribution (engine.model.attribution) of the next-token logit at one
position: every component's share, largest first, and the check that the shares add up to the
real logit. `--json` writes the parts as a map, so anyone can add them up without our code.
Then each input token's share by gradient × input and integrated gradients
(engine.model.input_attribution), with integrated gradients' completeness check. With
`--patch CORRUPT_PROMPT`, activation patching (engine.model.patching) between the prompt and a
corrupted one of the same token length: how much of the logit difference each residual
stream position, head or MLP brings back.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from engine.cli.messages import PROG
from engine.model.input_attribution import STEPS
from engine.model.patching import KINDS
from engine.wording import say

SHOWN = 15  # parts listed in the plain output


def add_parser(sub: argparse._SubParsersAction, lang: argparse.ArgumentParser) -> None:
    """The `attribute` subcommand and its options."""
    p = sub.add_parser(
        "attribute", parents=[lang], help="split a next-token logit into each component's share",
        description="Direct logit attribution: the next-token logit at one position (by "
        "default the last) split into what the embeddings, every attention head and every MLP "
        "wrote into the residual stream, each carried through the norms with their scales "
        "frozen at the real forward's values; the norms' and layers' constants are one more "
        "part. The parts add up to the real logit.")
    p.add_argument("checkpoint", metavar="MODEL")
    p.add_argument("--tokenizer-from", metavar="PATH",
                   help="the model's tokenizer when its file has none")
    p.add_argument("--prompt", required=True)
    p.add_argument("--target", metavar="TOKEN",
                   help="the token whose logit is split, as text that is one token (default: "
                   "the model's top prediction)")
    p.add_argument("--versus", metavar="TOKEN",
                   help="a second token: split the logit difference target − versus")
    p.add_argument("--position", type=int, default=-1, metavar="N",
                   help="the prompt position whose next token is predicted (0 is the first "
                   "token, negative counts from the end; default: the last)")
    p.add_argument("--steps", type=int, default=STEPS, metavar="N",
                   help=f"integrated gradients' path steps (default {STEPS}; 0: no gradient "
                   "methods)")
    p.add_argument("--patch", metavar="CORRUPT_PROMPT",
                   help="activation patching: a corrupted prompt of the same token length "
                   "(for example the prompt with one word replaced); the corrupted run is "
                   "patched with the clean run's values, one activation at a time")
    p.add_argument("--patch-kind", choices=KINDS, default="residual",
                   help="what is patched: the residual stream at each layer × position "
                   "(default), each head's output, or each MLP's output")
    p.add_argument("--json", action="store_true")


def _one_token(tok, text: str) -> int:
    """The compact id of `text`, which must be exactly one token."""
    from engine.model.attribution import AttributionError

    ids = tok.encode(text)
    if len(ids) != 1:
        raise AttributionError(say("attribution.not_one_token", text=text, n=len(ids)))
    return int(ids[0])


def cmd_attribute(args: argparse.Namespace) -> int:
    """Run `attribute`; user errors raise (commands.main prints them on one line)."""
    from engine.cli.commands import _encode_prompt
    from engine.model.attribution import TOLERANCE, direct_logit_attribution
    from engine.model.input_attribution import input_attribution
    from engine.model.trace import run_trace
    from engine.storage.imports import open_model

    ckpt = open_model(args.checkpoint, tokenizer_from=args.tokenizer_from)
    tok = ckpt.tokenizer
    target = None if args.target is None else _one_token(tok, args.target)
    versus = None if args.versus is None else _one_token(tok, args.versus)
    ids = _encode_prompt(ckpt, args.prompt)
    trace = run_trace(ckpt.model, ids)
    dla = direct_logit_attribution(ckpt.model, trace, position=args.position, target=target,
                                   versus=versus)
    pieces = [tok.piece(int(i)) for i in ids]
    inputs = None
    if args.steps:  # the same target (the top prediction resolved) and the same position
        inputs = input_attribution(ckpt.model, ids, dla.position, dla.target, dla.versus,
                                   steps=args.steps)
    patching = checks = None
    if args.patch is not None:  # the same position, target and second token as the split
        patching, checks = _patch(ckpt, ids, args, dla)
    original = tok.to_original(np.asarray(ids)).tolist()

    def token(compact: int | None) -> dict | None:
        if compact is None:
            return None
        return {"piece": tok.piece(compact),
                "id": int(tok.to_original(np.asarray([compact]))[0]), "compact_id": compact}

    if args.json:
        out = dla.to_dict()
        out.update(target=token(dla.target), versus=token(dla.versus))
        print(json.dumps({"tokens": {"ids": original, "compact_ids": np.asarray(ids).tolist(),
                                     "pieces": pieces},
                          "position": dla.position, "direct_logit_attribution": out,
                          "input_attribution": None if inputs is None else {
                              **inputs.to_dict(), "target": out["target"],
                              "versus": out["versus"],
                              "pieces": pieces[:dla.position + 1]},
                          "activation_patching": None if patching is None else {
                              **patching.to_dict(), "target": token(patching.target),
                              "foil": token(patching.foil), "checks": checks.to_dict(),
                              "corrupt_pieces": [tok.piece(i) for i in patching.corrupt_ids]}},
                         ensure_ascii=False))
        return 0
    what = repr(tok.piece(dla.target))
    if dla.versus is not None:
        what += f" − {tok.piece(dla.versus)!r}"
    print("tokens: " + " ".join(f"{p}[{i}]" for p, i in zip(pieces, original)))
    print(f"position {dla.position} ({pieces[dla.position]!r}), next token {what}")
    print(f"logit {dla.logit:.6f}, sum of the parts {dla.total:.6f} "
          f"(difference {dla.error:.1e})")
    if dla.softcap is not None:
        print(f"the final logits are soft-capped at {dla.softcap:g}: the split is before the "
              f"cap, which makes it {dla.capped:.6f}")
    width = max(len(name) for name, _ in dla.top(SHOWN))
    for name, share in dla.top(SHOWN):
        print(f"  {name:<{width}}  {share:+.6f}")
    if len(dla.parts) > SHOWN:
        print(f"  ... ({len(dla.parts) - SHOWN} smaller parts; --json lists them all)")
    if dla.error > TOLERANCE:  # the check itself: never expected, said if it happens
        print(f"{PROG}: warning: the parts differ from the logit by {dla.error:.1e}",
              file=sys.stderr)
    if inputs is not None:
        _print_inputs(inputs, pieces)
    if patching is not None:
        _print_patching(patching, tok)
        c = checks
        print(f"checks: nothing patched {c.nothing:+.4f} (0), everything {c.everything:+.4f} "
              f"(1), one whole layer {c.whole_layer:+.4f} (1), the prompt against itself "
              f"{c.itself:+.4f} (0): {'passed' if c.passed else 'NOT passed'}")
    return 0


def _patch(ckpt, ids: np.ndarray, args: argparse.Namespace, dla):
    """activation_patching of the prompt against --patch (with a bar on a terminal), and its
    checks (engine.model.patching.patching_checks) on the same prompts."""
    from tqdm import tqdm

    from engine.cli.commands import _encode_prompt
    from engine.model.patching import activation_patching, patching_checks

    corrupt = _encode_prompt(ckpt, args.patch)
    with tqdm(desc="patching", unit="run", disable=args.json or not sys.stderr.isatty(),
              file=sys.stderr) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
        result = activation_patching(ckpt.model, np.asarray(ids).tolist(),
                                     np.asarray(corrupt).tolist(), args.patch_kind,
                                     position=dla.position, target=dla.target,
                                     foil=dla.versus, progress=progress)
    checks = patching_checks(ckpt.model, result.clean_ids, result.corrupt_ids, result.position,
                             result.target, result.foil)
    return result, checks


def _print_patching(result, tok) -> None:
    """The patches that bring back most of the clean logit difference."""
    print(f"\nactivation patching ({result.kind}), logit difference "
          f"{tok.piece(result.target)!r} − {tok.piece(result.foil)!r}: clean "
          f"{result.clean_diff:.6f}, corrupted {result.corrupt_diff:.6f}")
    if result.no_difference:
        print("the two prompts give the same difference: nothing to restore (0 everywhere)")
        return
    corrupt = [tok.piece(i) for i in result.corrupt_ids]
    print(f"corrupted: {' '.join(corrupt)}")
    print("restored fraction, largest first (1: the whole clean difference comes back):")
    for label, value in result.top(SHOWN):
        if result.kind == "residual":  # "blocks.3 @ 5": name the token at position 5
            position = int(label.rsplit(" ", 1)[1])
            label += f" ({tok.piece(result.clean_ids[position])!r})"
        print(f"  {label:<28} {value:+.4f}")


def _print_inputs(inputs, pieces: list[str]) -> None:
    """Each input token's share by gradient × input and by integrated gradients."""
    print(f"\ninput tokens (score {inputs.score:.6f}; baseline, the average token at every "
          f"position, {inputs.baseline_score:.6f}):")
    print(f"  {'token':<12} {'gradient×input':>15} {'integrated':>12}")
    for n, (g, ig) in enumerate(zip(inputs.gradient_x_input, inputs.integrated_gradients)):
        print(f"  {repr(pieces[n]):<12} {g:+15.6f} {ig:+12.6f}")
    verdict = "within" if inputs.completeness_error <= inputs.tolerance else "NOT within"
    print(f"integrated gradients ({inputs.steps} steps) add up to score − baseline with "
          f"error {inputs.completeness_error:.1e}, {verdict} the tolerance "
          f"{inputs.tolerance:.1e}")
