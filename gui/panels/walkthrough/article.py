"""Article mode's batch: the articles' 4 windows of 16 tokens, cut from the training text when
one is loaded (else from the context text, repeated), and the sentence that reports the shapes.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from engine.article import (
    ARTICLE_BATCH,
    ARTICLE_CONTEXT,
    ARTICLE_SEED,
    article_batch,
    windows_batch,
)
from engine.model import GPT
from engine.steps import short_shape
from engine.trace import Trace, run_trace
from gui.session import Session
from gui.strings import translate

NO_TEXT = "Article mode needs text: load a training corpus or type some context text."
TRACING = "Article mode: tracing 4 windows of 16 tokens…"
FAILED = "Article mode: {err}"
# One whole sentence per source of the windows, so a translation never splices fragments.
_DONE = {
    "corpus": "Article mode: {b} windows of {t} tokens from the training text (seed {seed}). "
              "X is {x}, Q split into heads is {q}, the scores are {s}.",
    "context": "Article mode: {b} windows of {t} tokens from the context text (repeated) "
               "(seed {seed}). X is {x}, Q split into heads is {q}, the scores are {s}.",
}


def article_ids(session: Session) -> tuple[np.ndarray, str]:
    """The article batch (4, 16) for the session's model, and its source: "corpus" or
    "context". Raises ValueError (NO_TEXT) when there is no text to cut it from."""
    model, corpus, tok = session.model, session.corpus, session.tokenizer
    if (corpus is not None and model is not None and len(corpus.train) > ARTICLE_CONTEXT
            and corpus.tokenizer.vocab_size <= model.config.vocab_size
            and (tok is None or corpus.tokenizer.vocab_size == tok.vocab_size)):
        return article_batch(corpus, ARTICLE_BATCH, ARTICLE_CONTEXT, ARTICLE_SEED), "corpus"
    text = session.context_text
    if tok is None or not text:
        raise ValueError(NO_TEXT)
    return windows_batch(tok.encode(text), ARTICLE_BATCH, ARTICLE_CONTEXT, ARTICLE_SEED), "context"


def trace_job(_report: Callable[[int, int], None], model: GPT, ids: np.ndarray) -> Trace:
    """Runs on a worker thread (gui.workers.FunctionWorker): the traced forward of the batch.
    A trace never changes the model, so it reads the session's model directly."""
    return run_trace(model, ids)


def summary(trace: Trace, source: str, lang: str) -> str:
    """'Article mode: 4 windows of 16 tokens from ... X is [4,16,64], ...' in `lang`."""
    x, q, s = trace["embed.sum"], trace["blocks.0.attn.q"], trace["blocks.0.attn.scores"]
    fields: dict[str, Any] = dict(b=trace.ids.shape[0], t=trace.ids.shape[1], seed=ARTICLE_SEED,
                                  x=short_shape(x.shape), q=short_shape(q.shape),
                                  s=short_shape(s.shape))
    return translate(_DONE[source], lang).format(**fields)
