"""Resuming a recorded forward: the rest of a run, from one block on and for the later positions
only, with some activations replaced (what activation patching runs thousands of times).

A patched run equals the recorded (corrupted) run up to the block where its first replaced
value sits, and at every position before the first replaced position (attention is causal).
So a patched run starts at that block, from the recorded stream entering it, and computes only
positions `start` … T−1; the earlier positions' keys and values, which it cannot change, are
the recorded ones, put in front of the new ones by the probe at each block's last key hook and
its value hook (engine.model.hooks). Rows that start at later blocks join the batch as the
sweep reaches their block, so each costs only the blocks after its own: about half of a whole
forward, times the share of positions computed.

The model's own blocks, final norm and output projection run every step; nothing of the forward
is written again here. tests/test_patching.py checks that a resumed run equals the whole
patched forward on every wiring.

Shapes: R = rows (patched runs), T = tokens, S = T − start (positions computed), C = d_model,
nh = heads, nkv = key/value heads, hs = head_size, V = vocab.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from engine.model.hooks import eval_mode, probing
from engine.model.registry import block_input

if TYPE_CHECKING:
    from engine.model.decoder import GPT

# One replacement: (hook name, positions or None for every position, head or None for all).
Patch = tuple[str, "np.ndarray | None", "int | None"]
_KEYS = re.compile(r"^blocks\.(\d+)\.attn\.(k|k_normed|k_rot|v)$")


@dataclass
class Recorded:
    """What a resumed run reads from the recorded run: the logits (1, T, V), the stream entering
    each block and leaving the last (1, T, C) x (n_layer + 1), each block's keys as attention
    uses them (after any QK-norm and rotation) and values (1, nkv, T, hs), and the values of
    the hooks a caller asked for."""

    logits: torch.Tensor
    stream_names: list[str]  # the hook holding the stream entering block l (engine.registry)
    streams: list[torch.Tensor]
    keys: list[tuple[str, torch.Tensor]]  # (the hook that last set them, keys)
    values: list[torch.Tensor]
    hooks: dict[str, torch.Tensor]


def record(model: "GPT", idx: torch.Tensor, hooks: set[str] = frozenset()) -> Recorded:
    """One probed forward of idx (1, T), keeping what `resume` and the caller need."""
    cfg = model.config
    streams = {block_input(cfg, layer): layer for layer in range(cfg.n_layer + 1)}
    kept: dict[str, torch.Tensor] = {}
    keys: dict[int, tuple[str, torch.Tensor]] = {}
    values: dict[int, torch.Tensor] = {}

    def probe(name: str, x: torch.Tensor) -> torch.Tensor:
        if name in streams or name in hooks:
            kept[name] = x.detach()
        m = _KEYS.match(name)
        if m:  # the last key hook of a block fires after any norm and rotation
            layer, what = int(m.group(1)), m.group(2)
            if what == "v":
                values[layer] = x.detach()  # (1, nkv, T, hs)
            else:
                keys[layer] = (name, x.detach())  # (1, nkv, T, hs)
        return x

    with torch.no_grad(), eval_mode(model), probing(probe):
        logits, _ = model(idx)  # (1, T, V)
    return Recorded(logits=logits, stream_names=list(streams),
                    streams=[kept[n] for n in streams],
                    keys=[keys[n] for n in range(cfg.n_layer)],
                    values=[values[n] for n in range(cfg.n_layer)],
                    hooks={n: kept[n] for n in hooks})


def _set(x: torch.Tensor, r: int, patch: Patch, value: torch.Tensor, start: int) -> None:
    """Row r of x (R, S, C) or (R, nh, S, hs) takes the clean `value` (T, C) or (nh, T, hs) at
    the patch's positions (at or after `start`)."""
    _, positions, head = patch
    if positions is None:
        pos: slice | torch.Tensor = slice(start, None)
        here: slice | torch.Tensor = slice(None)
    else:
        pos = torch.as_tensor(positions)
        here = pos - start
    if head is None:
        x[r, here] = value[pos]  # (n, C)
    else:
        x[r, head, here] = value[head, pos]  # (n, hs)


def resume(model: "GPT", base: Recorded, clean: dict[str, torch.Tensor],
           rows: Sequence[tuple[int, Sequence[Patch]]], start: int) -> torch.Tensor:
    """The logits (R, V) at the last position of runs that equal the recorded one except for
    their patches, each row (layer, patches) replacing values by `clean`'s (hook name ->
    (1, ...)) in block `layer` only: the stream entering it (layer = n_layer: the last block's
    output), or hooks inside it. Positions before `start` must be unpatched; they are not
    computed."""
    cfg = model.config
    L, T = cfg.n_layer, base.streams[0].shape[1]
    order = sorted(range(len(rows)), key=lambda r: rows[r][0])
    joined: list[int] = []  # original row index of each row of x, in order
    x = base.streams[0][:, start:][:0]  # (0, S, C)
    turns = [None if t is None else (t[0][start:], t[1][start:])  # (S, d) each: the
             for t in model.rotations(T)]  # computed positions only, per block
    nxt = 0
    with torch.no_grad(), eval_mode(model):
        for layer in range(L + 1):
            new: list[int] = []
            while nxt < len(order) and rows[order[nxt]][0] == layer:
                new.append(order[nxt])
                nxt += 1
            if new:
                x = torch.cat([x, _entering(base, clean, rows, new, layer, start)])  # (R, S, C)
                joined += new
            if layer == L or not joined:
                continue
            inside = {r_x: rows[r][1] for r_x, r in enumerate(joined)
                      if rows[r][0] == layer}  # rows whose patches sit inside this block
            with probing(_probe(base, clean, layer, inside, start, x.shape[0])):
                x = model.blocks[layer](x, turns[layer])  # (R, S, C)
        last = model.final_norm(x[:, -1])  # (R, C): the position whose logits are compared
        logits = model.unembed(last)  # (R, V)
    out = torch.empty_like(logits)
    out[torch.as_tensor(joined)] = logits
    return out  # (R, V), in the order of `rows`


def _entering(base: Recorded, clean: dict[str, torch.Tensor],
              rows: Sequence[tuple[int, Sequence[Patch]]], new: list[int], layer: int,
              start: int) -> torch.Tensor:
    """The stream entering block `layer` (n, S, C) of the rows that start there: recorded, with
    any patch of that stream applied."""
    x = base.streams[layer][:, start:].expand(len(new), -1, -1).clone()  # (n, S, C)
    for i, r in enumerate(new):
        for patch in rows[r][1]:
            if patch[0] == base.stream_names[layer]:
                _set(x, i, patch, clean[patch[0]][0], start)
    return x


def _probe(base: Recorded, clean: dict[str, torch.Tensor], layer: int,
           inside: dict[int, Sequence[Patch]], start: int, R: int):
    """The probe of block `layer`: the recorded keys and values of the positions before `start`
    go in front of the computed ones, and the rows starting here get their patches."""
    key_name, keys = base.keys[layer]
    value_name = f"blocks.{layer}.attn.v"
    by_hook: dict[str, list[tuple[int, Patch]]] = {}
    for r, patches in inside.items():
        for patch in patches:
            if patch[0].startswith(f"blocks.{layer}."):  # (the stream's went in on entry)
                by_hook.setdefault(patch[0], []).append((r, patch))

    def probe(name: str, x: torch.Tensor) -> torch.Tensor:
        if start and name in (key_name, value_name):
            before = (keys if name == key_name else base.values[layer])[:, :, :start]
            x = torch.cat([before.expand(R, -1, -1, -1), x], dim=2)  # (R, nkv, T, hs)
        todo = by_hook.get(name)
        if todo:
            x = x.clone()
            for r, patch in todo:
                _set(x, r, patch, clean[name][0], start)
        return x

    return probe
