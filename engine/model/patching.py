"""Activation patching: which activation, copied from a clean run into a corrupted one, brings
the clean answer back.

Two prompts of the same token length differ in a word ("The Eiffel Tower is in" / "The
Colosseum is in"). The score is a logit difference at one position, target − foil, where the
target is the clean run's top prediction and the foil the corrupted run's (or the clean run's
second best, when both runs predict the same token). The corrupted prompt is run again with
one activation replaced by the clean run's value there, and

    restored = (patched − corrupt) / (clean − corrupt)

says how much of the clean score that one activation carries: 1 brings it all back, 0 nothing.
When the two prompts give the same score (the clean prompt against itself) there is nothing to
restore: `restored` is 0 everywhere, and `no_difference` says why.

What is patched (the `kind`):
- "residual": the residual stream entering block l (l = 0: the embeddings' output; l = n_layer:
  the last block's output), at one position: a map of layers (n_layer + 1) × positions.
- "heads": one attention head's output (its weighted values, before the output projection) at
  every position: layers × heads.
- "mlp": one feed-forward network's output at every position: layers.

The patched forwards are the model's own forward with a probe (engine.model.hooks) that replaces
one HookPoint's value; several patches run at once, one per row of a batch. Patching what the
clean run's score entirely depends on (every position of one residual layer; or the embeddings,
every head and every feed-forward network together) restores 1; patching nothing restores 0;
the clean prompt against itself restores 0 everywhere (`patching_checks`; tests/test_patching.py
checks them on every family).

Shapes: R = patched runs in one batch, T = tokens up to the position, C = d_model,
nh = heads, hs = head_size, V = vocab.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import torch

from engine.model.hooks import eval_mode, probing
from engine.model.registry import block_input
from engine.model.resume import Patch, record, resume
from engine.wording import say

if TYPE_CHECKING:
    from engine.model.decoder import GPT

KINDS = ("residual", "heads", "mlp")
BATCH = 16  # patched runs per forward
# |clean − corrupt| at or below this (relative to |clean|, at least 1) is no difference at all.
SAME = 1e-6
CHECK_TOLERANCE = 1e-3  # the checks' restored fractions: float32 forwards, in batches

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


class PatchingError(ValueError):
    """Prompts or options that cannot be patched; the message is a Said."""


class PatchingCancelled(Exception):
    """The caller's cancel() said stop; nothing was returned."""


@dataclass
class PatchingResult:
    """The restored fraction of the clean logit difference, per patched activation."""

    kind: str  # "residual" | "heads" | "mlp"
    clean_ids: list[int]
    corrupt_ids: list[int]
    target: int  # the logit difference is target − foil (compact ids)
    foil: int
    position: int  # the position whose next-token logits are compared
    clean_diff: float  # target − foil in the clean run
    corrupt_diff: float  # ... in the corrupted run
    restored: np.ndarray  # residual (n_layer + 1, T); heads (n_layer, nh); mlp (n_layer,)
    row_labels: list[str]
    col_labels: list[str]
    patched_diff: np.ndarray = field(default=None, repr=False)  # same shape: raw differences

    @property
    def no_difference(self) -> bool:
        """The two prompts give the same score: nothing to restore, `restored` is all 0."""
        return _same(self.clean_diff, self.corrupt_diff)

    def top(self, n: int = 10) -> list[tuple[str, float]]:
        """The n patches that restore most (by |restored|), as (label, restored)."""
        flat = np.asarray(self.restored).reshape(-1)
        order = np.argsort(-np.abs(flat), kind="stable")[:n]
        return [(self.label(int(i)), float(flat[i])) for i in order]

    def label(self, flat_index: int) -> str:
        """The name of one patch, by its index in the flattened `restored`."""
        if self.restored.ndim == 1:
            return self.row_labels[flat_index]
        row, col = divmod(flat_index, self.restored.shape[1])
        return f"{self.row_labels[row]} @ {self.col_labels[col]}"

    def to_dict(self) -> dict:
        """The JSON form."""
        return {"kind": self.kind, "clean_ids": list(self.clean_ids),
                "corrupt_ids": list(self.corrupt_ids), "target": self.target,
                "foil": self.foil, "position": self.position, "clean_diff": self.clean_diff,
                "corrupt_diff": self.corrupt_diff, "no_difference": self.no_difference,
                "restored": np.asarray(self.restored).tolist(),
                "patched_diff": None if self.patched_diff is None
                else np.asarray(self.patched_diff).tolist(),
                "row_labels": list(self.row_labels), "col_labels": list(self.col_labels),
                "formula": "restored = (patched − corrupt) / (clean − corrupt), of the logit "
                           "difference target − foil; 0 everywhere when clean = corrupt"}


def _same(clean: float, corrupt: float) -> bool:
    return abs(clean - corrupt) <= SAME * max(1.0, abs(clean))


def restored_fraction(patched: np.ndarray, clean: float, corrupt: float) -> np.ndarray:
    """(patched − corrupt) / (clean − corrupt); all 0 when clean and corrupt are the same."""
    patched = np.asarray(patched, dtype=np.float64)
    if _same(clean, corrupt):
        return np.zeros_like(patched)
    return (patched - corrupt) / (clean - corrupt)


def corrupt_by_replacing(tokenizer, text: str, word: str,
                         replacement: str) -> tuple[list[int], list[int]]:
    """The clean prompt `text` and a corrupted one with every `word` replaced, as compact ids;
    PatchingError when the word is absent or the two differ in token length."""
    if not word or word not in text:
        raise PatchingError(say("patching.no_word", word=word))
    corrupt = text.replace(word, replacement)
    encode = getattr(tokenizer, "encode_prompt", tokenizer.encode)
    clean_ids = [int(i) for i in encode(text)]
    corrupt_ids = [int(i) for i in encode(corrupt)]
    if len(clean_ids) != len(corrupt_ids):
        raise PatchingError(say("patching.replace_length", word=word, replacement=replacement,
                                n=len(clean_ids), m=len(corrupt_ids)))
    return clean_ids, corrupt_ids


def _check(model: "GPT", clean_ids: Sequence[int], corrupt_ids: Sequence[int], kind: str,
           position: int | None) -> int:
    if kind not in KINDS:
        raise PatchingError(say("patching.kind", kind=kind, kinds=", ".join(KINDS)))
    T = len(clean_ids)
    if T == 0:
        raise PatchingError(say("patching.empty"))
    if len(corrupt_ids) != T:
        raise PatchingError(say("patching.length", n=T, m=len(corrupt_ids)))
    if T > model.config.context_length:
        raise PatchingError(say("patching.too_long", n=T, t=model.config.context_length))
    V = model.config.vocab_size
    for i in list(clean_ids) + list(corrupt_ids):
        if not 0 <= int(i) < V:
            raise PatchingError(say("attribution.token_id", id=int(i), n=V))
    t = T - 1 if position is None else position
    if not -T <= t < T:
        raise PatchingError(say("attribution.position", position=t, n=T))
    return t % T


def _hooks(model: "GPT", kind: str) -> list[str]:
    """The hook names `kind` patches, in forward order."""
    cfg = model.config
    if kind == "residual":
        return [block_input(cfg, layer) for layer in range(cfg.n_layer + 1)]
    step = "attn.weighted" if kind == "heads" else "ffn.out"
    return [f"blocks.{layer}.{step}" for layer in range(cfg.n_layer)]


def patched_logits(model: "GPT", idx: torch.Tensor, clean: dict[str, torch.Tensor],
                   patches: Sequence[Sequence[Patch]], position: int) -> torch.Tensor:
    """The logits (R, V) at `position` of the prompt idx (1, T) run once per patch list, row r
    with every patch of patches[r] replaced by the clean value: (hook, positions or None for
    all, head or None for the whole tensor)."""
    R = len(patches)
    # hook -> [(row, positions, head)]: the probe then does one lookup per hook point.
    by_hook: dict[str, list[tuple[int, np.ndarray | None, int | None]]] = {}
    for r, plist in enumerate(patches):
        for name, positions, head in plist:
            by_hook.setdefault(name, []).append((r, positions, head))

    def probe(name: str, x: torch.Tensor) -> torch.Tensor:
        todo = by_hook.get(name)
        if not todo:
            return x
        x = x.clone()
        value = clean[name][0]  # (T, C) for the stream, (nh, T, hs) for the heads
        for r, positions, head in todo:
            if head is not None:  # (R, nh, T, hs): one head, its positions
                pos = slice(None) if positions is None else torch.as_tensor(positions)
                x[r, head, pos] = value[head, pos]
            elif positions is None:
                x[r] = value
            else:
                pos = torch.as_tensor(positions)
                x[r, pos] = value[pos]  # (n, C)
        return x

    with torch.no_grad(), eval_mode(model), probing(probe):
        logits, _ = model(idx.expand(R, -1))  # (R, T, V)
    return logits[:, position]  # (R, V)


def _diff(logits: torch.Tensor, target: int, foil: int) -> np.ndarray:
    """target − foil of logits (R, V), float64 (R,)."""
    row = logits.double()
    return (row[:, target] - row[:, foil]).cpu().numpy()


def _patch_lists(model: "GPT", kind: str, T: int) -> tuple[list[list[Patch]], tuple[int, ...],
                                                            list[str], list[str]]:
    """Every single patch of `kind`, in the order of the flattened result, its shape and
    labels."""
    cfg, hooks = model.config, _hooks(model, kind)
    if kind == "residual":
        lists = [[(h, np.array([t]), None)] for h in hooks for t in range(T)]
        rows = ["embed"] + [f"blocks.{layer}" for layer in range(cfg.n_layer)]
        return lists, (cfg.n_layer + 1, T), rows, [str(t) for t in range(T)]
    if kind == "heads":
        lists = [[(h, None, n)] for h in hooks for n in range(cfg.n_head)]
        rows = [f"blocks.{layer}" for layer in range(cfg.n_layer)]
        return lists, (cfg.n_layer, cfg.n_head), rows, [f"head.{n}" for n in range(cfg.n_head)]
    lists = [[(h, None, None)] for h in hooks]
    return lists, (cfg.n_layer,), [f"blocks.{layer}.mlp" for layer in range(cfg.n_layer)], \
        ["mlp"]


def _choose_tokens(clean_row: torch.Tensor, corrupt_row: torch.Tensor, target: int | None,
                   foil: int | None, V: int) -> tuple[int, int]:
    """Default target: the clean top prediction; default foil: the corrupted top prediction,
    or the clean second best when that is the target."""
    if target is None:
        target = int(clean_row.argmax())
    if foil is None:
        foil = int(corrupt_row.argmax())
        if foil == target:
            foil = int(clean_row.topk(2).indices[1]) if V > 1 else target
    for token in (target, foil):
        if not 0 <= token < V:
            raise PatchingError(say("attribution.token_id", id=token, n=V))
    if target == foil:
        raise PatchingError(say("patching.same_token"))
    return int(target), int(foil)


def _copies_nothing(patches: Sequence[Patch], clean: dict[str, torch.Tensor],
                    corrupt: dict[str, torch.Tensor]) -> bool:
    """Whether every patch puts in exactly the value the corrupted run already has."""
    for name, positions, head in patches:
        a, b = clean[name][0], corrupt[name][0]  # (T, C) or (nh, T, hs)
        if head is not None:
            a, b = a[head], b[head]  # (T, hs)
        if positions is not None:
            a, b = a[torch.as_tensor(positions)], b[torch.as_tensor(positions)]
        if not torch.equal(a, b):
            return False
    return True


def _jobs(kind: str, lists: list[list[Patch]], shape: tuple[int, ...],
          batch: int) -> list[tuple[int, list[int]]]:
    """The patched runs in batches: (first position computed, indices into `lists`). A
    residual patch at position t leaves the positions before t as they were, so each batch
    holds one position's layers; the others change every position."""
    if kind != "residual":
        return [(0, list(range(s, min(s + batch, len(lists))))) for s in range(0, len(lists),
                                                                               batch)]
    layers, T = shape
    jobs = []
    for t in range(T):
        flat = [layer * T + t for layer in range(layers)]
        jobs += [(t, flat[s:s + batch]) for s in range(0, layers, batch)]
    return jobs


def activation_patching(model: "GPT", clean_ids: Sequence[int], corrupt_ids: Sequence[int],
                        kind: str = "residual", position: int | None = None,
                        target: int | None = None, foil: int | None = None, batch: int = BATCH,
                        progress: Progress | None = None,
                        cancel: Cancel | None = None) -> PatchingResult:
    """The restored fraction of the clean logit difference target − foil at `position`
    (default: the last) for every single patch of `kind` ("residual", "heads", "mlp").

    `batch` patched runs go through the model at once. `progress(done, total)` is called
    before the first batch and after each; `cancel()` returning True stops before the next
    batch with PatchingCancelled.
    """
    t = _check(model, clean_ids, corrupt_ids, kind, position)
    device = next(model.parameters()).device
    # Later tokens cannot change the logits at t (the attention is causal): they are left out.
    clean = torch.as_tensor(np.asarray(clean_ids[: t + 1]), dtype=torch.long,
                            device=device)[None]  # (1, T)
    corrupt = torch.as_tensor(np.asarray(corrupt_ids[: t + 1]), dtype=torch.long,
                              device=device)[None]  # (1, T)
    lists, shape, rows, cols = _patch_lists(model, kind, t + 1)
    hooks = _hooks(model, kind)
    # Both runs probed like the patched ones, so all take the same attention path.
    clean_run = record(model, clean, set(hooks))
    base = record(model, corrupt, set(hooks))
    target, foil = _choose_tokens(clean_run.logits[0, t], base.logits[0, t], target, foil,
                                  model.config.vocab_size)
    clean_diff = float(_diff(clean_run.logits[:, t], target, foil)[0])
    corrupt_diff = float(_diff(base.logits[:, t], target, foil)[0])
    layer_of = {name: n for n, name in enumerate(hooks)}  # (residual: n is the block entered)
    # A patch that copies the value already there (every position before the first changed
    # token, say) changes nothing: its run is the corrupted one, and it is not run.
    diffs = np.full(len(lists), corrupt_diff, dtype=np.float64)
    needed = [not _copies_nothing(p, clean_run.hooks, base.hooks) for p in lists]
    total = len(lists)
    done = total - sum(needed)
    if progress is not None:
        progress(done, total)
    for start, members in _jobs(kind, lists, shape, max(1, int(batch))):
        members = [m for m in members if needed[m]]
        if not members:
            continue
        if cancel is not None and cancel():
            raise PatchingCancelled()
        runs = [(layer_of[lists[m][0][0]], lists[m]) for m in members]
        logits = resume(model, base, clean_run.hooks, runs, start)  # (R, V)
        diffs[members] = _diff(logits, target, foil)
        done += len(members)
        if progress is not None:
            progress(done, total)
    patched = diffs.reshape(shape)
    return PatchingResult(kind=kind, clean_ids=[int(i) for i in clean_ids],
                          corrupt_ids=[int(i) for i in corrupt_ids], target=target, foil=foil,
                          position=t, clean_diff=clean_diff, corrupt_diff=corrupt_diff,
                          restored=restored_fraction(patched, clean_diff, corrupt_diff),
                          row_labels=rows, col_labels=cols, patched_diff=patched)


@dataclass(frozen=True)
class PatchingChecks:
    """Activation patching's three checks on one pair of prompts (restored fractions)."""

    nothing: float  # nothing patched: the corrupted run itself, so 0
    everything: float  # the embeddings, every head and every MLP at every position: 1
    whole_layer: float  # every position of the stream entering the middle block: 1
    itself: float  # the largest |restored| of the clean prompt against itself: 0
    tolerance: float = CHECK_TOLERANCE

    @property
    def passed(self) -> bool:
        """All four within the tolerance of 0, 1, 1 and 0."""
        return (abs(self.nothing) <= self.tolerance and abs(self.everything - 1) <= self.tolerance
                and abs(self.whole_layer - 1) <= self.tolerance
                and abs(self.itself) <= self.tolerance)

    def to_dict(self) -> dict:
        return {"nothing": self.nothing, "everything": self.everything,
                "whole_layer": self.whole_layer, "itself": self.itself,
                "tolerance": self.tolerance, "passed": self.passed}


def patching_checks(model: "GPT", clean_ids: Sequence[int], corrupt_ids: Sequence[int],
                    position: int | None = None, target: int | None = None,
                    foil: int | None = None) -> PatchingChecks:
    """Patching nothing restores 0; patching every component's output (the embeddings, every
    head, every feed-forward network, at every position), or every position of one residual
    layer, restores 1; the clean prompt against itself restores 0 everywhere (there is no
    difference to restore). Whole forwards, patched by the probe, three in one batch."""
    t = _check(model, clean_ids, corrupt_ids, "heads", position)
    cfg = model.config
    device = next(model.parameters()).device
    clean = torch.as_tensor(np.asarray(clean_ids[: t + 1]), dtype=torch.long,
                            device=device)[None]  # (1, T)
    corrupt = torch.as_tensor(np.asarray(corrupt_ids[: t + 1]), dtype=torch.long,
                              device=device)[None]  # (1, T)
    components = [block_input(cfg, 0)] + _hooks(model, "heads") + _hooks(model, "mlp")
    middle = block_input(cfg, cfg.n_layer // 2)
    clean_run = record(model, clean, set(components) | {middle})
    base = record(model, corrupt)  # probed like the patched runs: the same attention path
    target, foil = _choose_tokens(clean_run.logits[0, t], base.logits[0, t], target, foil,
                                  cfg.vocab_size)
    clean_diff = float(_diff(clean_run.logits[:, t], target, foil)[0])
    corrupt_diff = float(_diff(base.logits[:, t], target, foil)[0])
    lists: list[list[Patch]] = [[], [(h, None, None) for h in components],
                                [(middle, None, None)]]
    logits = patched_logits(model, corrupt, clean_run.hooks, lists, t)  # (3, V)
    nothing, everything, layer = restored_fraction(_diff(logits, target, foil), clean_diff,
                                                   corrupt_diff)
    same = activation_patching(model, clean_ids, clean_ids, "residual", position=t,
                               target=target, foil=foil)
    return PatchingChecks(nothing=float(nothing), everything=float(everything),
                          whole_layer=float(layer), itself=float(np.abs(same.restored).max()))
