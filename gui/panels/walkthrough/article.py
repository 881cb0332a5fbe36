"""Article mode's batch: the articles' 4 windows of 16 tokens, cut from the training text when
one is loaded (else from the context text, repeated), and the sentences that report it: the
shapes, or why this model cannot show them.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from engine.model.article import (
    ARTICLE_BATCH,
    ARTICLE_CONTEXT,
    ARTICLE_SEED,
    article_batch,
    article_mode_problem,
    windows_batch,
)
from engine.model.decoder import GPT
from engine.model.steps import short_shape
from engine.model.trace import Trace, run_trace
from gui import i18n
from gui.session import Session

# Raised as a ValueError's text, translated where it is shown (message()).
NO_TEXT = QT_TRANSLATE_NOOP("ArticleMode",
                            "Article mode needs text: load a training corpus or type some "
                            "context text.")


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


def message(text: str) -> str:
    """A message of this module (NO_TEXT) in the interface language."""
    return QCoreApplication.translate("ArticleMode", text)


def tracing() -> str:
    """What the banner says while the batch is traced."""
    return QCoreApplication.translate("ArticleMode", "Article mode: tracing 4 windows of 16 "
                                                     "tokens…")


def failed(err: BaseException) -> str:
    """What the banner says when the trace failed."""
    return QCoreApplication.translate("ArticleMode", "Article mode: {err}").format(err=err)


def problem(model: GPT | None) -> str | None:
    """Why this model cannot show the articles' shapes, in the interface language; None when
    it can. engine.model.article decides and words it (its catalogue has the Chinese)."""
    said = article_mode_problem(model)
    return None if said is None else said.text(i18n.current())


def summary(trace: Trace, source: str) -> str:
    """'Article mode: 4 windows of 16 tokens from ... X is [4,16,64], ...' in the interface
    language; one whole sentence per source of the windows ("corpus" or "context")."""
    x, q, s = trace["embed.sum"], trace["blocks.0.attn.q"], trace["blocks.0.attn.scores"]
    fields: dict[str, Any] = dict(b=trace.ids.shape[0], t=trace.ids.shape[1], seed=ARTICLE_SEED,
                                  x=short_shape(x.shape), q=short_shape(q.shape),
                                  s=short_shape(s.shape))
    if source == "corpus":
        text = QCoreApplication.translate(
            "ArticleMode",
            "Article mode: {b} windows of {t} tokens from the training text (seed {seed}). "
            "X is {x}, Q split into heads is {q}, the scores are {s}.")
    else:
        text = QCoreApplication.translate(
            "ArticleMode",
            "Article mode: {b} windows of {t} tokens from the context text (repeated) "
            "(seed {seed}). X is {x}, Q split into heads is {q}, the scores are {s}.")
    return text.format(**fields)
