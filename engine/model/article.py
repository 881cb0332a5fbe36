"""Article mode: reproduce the articles' worked example (SEEDS.md) on the user's own text.

The articles feed a batch of 4 random windows of 16 tokens through a model with d_model 64 and
4 heads of 16, so every step has the shapes they print: X [4,16,64], Q split into heads
[4,4,16,16], a 16x16 score matrix per head.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from engine.text.corpus import Corpus
from engine.model.decoder import GPT
from engine.wording import Said, say

ARTICLE_BATCH = 4
ARTICLE_CONTEXT = 16
ARTICLE_D_MODEL = 64
ARTICLE_HEADS = 4
ARTICLE_SEED = 1337


def article_batch(
    corpus: Corpus, batch_size: int = ARTICLE_BATCH, context_length: int = ARTICLE_CONTEXT,
    seed: int = ARTICLE_SEED,
) -> np.ndarray:
    """(batch_size, context_length) compact ids: seeded random windows of the training split."""
    g = torch.Generator().manual_seed(seed)
    x, _ = corpus.get_batch("train", batch_size, context_length, g)  # (B, T)
    return x.numpy()


def windows_batch(
    ids: np.ndarray | Sequence[int], batch_size: int = ARTICLE_BATCH,
    context_length: int = ARTICLE_CONTEXT, seed: int = ARTICLE_SEED,
) -> np.ndarray:
    """Seeded windows of a short id sequence (repeated until it is long enough), when no corpus
    is loaded: (batch_size, context_length) compact ids."""
    ids = np.asarray(ids, dtype=np.int64).ravel()
    if ids.size == 0:
        raise ValueError("no tokens to cut windows from; type some context text first")
    need = context_length + batch_size  # room for windows that start at different places
    reps = -(-need // ids.size)
    data = np.tile(ids, reps)
    g = torch.Generator().manual_seed(seed)
    starts = torch.randint(len(data) - context_length + 1, (batch_size,), generator=g).numpy()
    return data[starts[:, None] + np.arange(context_length)]  # (B, T)


def article_mode_problem(model: GPT | None) -> Said | None:
    """Why this model cannot show the articles' shapes, or None when it can: the one place
    that decides it. A Said (engine.wording): the English sentence, which the window says in
    its own language (`.text("zh")`)."""
    if model is None:
        return say("article.no_model")
    cfg = model.config
    problems = []
    if cfg.d_model != ARTICLE_D_MODEL:
        problems.append(say("article.d_model", d=cfg.d_model, a=ARTICLE_D_MODEL))
    if cfg.n_head != ARTICLE_HEADS:
        problems.append(say("article.heads", n=cfg.n_head, a=ARTICLE_HEADS,
                            hs=ARTICLE_D_MODEL // ARTICLE_HEADS))
    if cfg.context_length < ARTICLE_CONTEXT:
        problems.append(say("article.context", t=cfg.context_length, a=ARTICLE_CONTEXT))
    return say("article.cannot", problems=problems) if problems else None
