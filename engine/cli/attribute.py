"""`transformer-explorer attribute`: why the model chose a token, for one prompt.

Prints the direct logit attribution (engine.model.attribution) of the next-token logit at one
position: every component's share, largest first, and the check that the shares add up to the
real logit. `--json` writes the parts as a map, so anyone can add them up without our code.
Then each input token's share by gradient × input and integrated gradients
(engine.model.input_attribution), with integrated gradients' completeness check.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from engine.cli.messages import PROG
from engine.model.input_attribution import STEPS
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
                              "pieces": pieces[:dla.position + 1]}},
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
    return 0


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
