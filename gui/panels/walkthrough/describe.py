"""A step in words: what the walkthrough writes above the numbers for the step on show.

The facts come from the engine (engine.model.steps: title, formula, axes, weights, reshape note;
engine.model.guide: the explanation in English or Chinese); this module only puts them together for
one step of one trace, so the words view has nothing to compute.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from engine.model.article import ARTICLE_BATCH, ARTICLE_CONTEXT  # the guide's example's
from engine.model.checks import step_inputs
from engine.model.guide import help_text
from engine.model.decoder import GPT
from PySide6.QtCore import QCoreApplication

from engine.model.steps import named_shape, reshape_note, step_formula, step_title, weights_note
from engine.model.trace import Trace
from engine.text.tokenizers import Tokenizer
from engine.text.vocabulary_kind import vocabulary_facts


_EXAMPLE_SHAPE = re.compile(r"\[\d+(?:,\s*(?:\d+|V))+\]")  # "[4, 16, V]", "[4, 4, 16, 16]"


def _is_worked_example(trace: Trace) -> bool:
    """Whether `trace` has the guide's batch and context (article mode's)."""
    return "tokens" in trace and tuple(trace["tokens"].shape) == (ARTICLE_BATCH, ARTICLE_CONTEXT)


@dataclass(frozen=True)
class StepWords:
    """Everything the words view shows for one step ('' where a line has nothing to say)."""

    title: str
    formula: str
    shapes: str  # inputs → output, with named axes
    weights: str  # "weights: Wq [64×64] + ..." or ''
    note: str  # what a reshape did, or ''
    help_title: str  # the guide's section title and text
    help_text: str


def shapes_text(trace: Trace, model: GPT | None, name: str, lang: str = "en") -> str:
    """Inputs → output with named axes (named in `lang`), e.g. 'embed.sum [batch 4, context 16,
    d_model 64]  → [...]'; only the output when the step's inputs are unknown or not in the
    trace."""
    step = trace[name]
    out = named_shape(step.axes, step.shape, lang)
    try:
        inputs = step_inputs(model, name) if model is not None else []
    except (KeyError, AttributeError):  # a trace of another architecture than the model
        inputs = []
    ins = [trace[i] for i in inputs if i in trace]
    if not ins:
        return out
    parts = [f"{s.name} {named_shape(s.axes, s.shape, lang)}" for s in ins]
    return " , ".join(parts) + "  →  " + out


def describe(trace: Trace, model: GPT | None, name: str, lang: str,
             tokenizer: Tokenizer | None = None) -> StepWords:
    """The words for step `name` of `trace` (read against `model`, whose text `tokenizer`
    reads: the explanation describes that tokenizer): the engine's in `lang`, the interface's
    own in the interface language."""
    step = trace[name]
    weights = weights_note(model.config, step.kind, lang) if model is not None else ""
    n_head = model.config.n_head if model is not None else None
    try:
        facts = vocabulary_facts(tokenizer) if tokenizer is not None else None
        title, text = help_text(name, lang, facts)
    except (OSError, ValueError):  # the guide file is missing or malformed: no explanation
        title, text = "", ""
    if text and _EXAMPLE_SHAPE.search(text) and not _is_worked_example(trace):
        # The guide's shapes are its worked example's (article mode's batch): say so, with
        # this step's own, before a reader takes [4, 16, V] for what is on screen.
        text = QCoreApplication.translate(
            "StepWords", "The shapes in this explanation are the guide's worked example "
            "(Article mode: {batch} windows of {context} tokens). Here this step is {shape}."
        ).format(batch=ARTICLE_BATCH, context=ARTICLE_CONTEXT,
                 shape=named_shape(step.axes, step.shape, lang)) + "\n\n" + text
    return StepWords(
        title=step_title(name, lang, trace.config),
        formula=step_formula(name, lang, trace.config),
        shapes=shapes_text(trace, model, name, lang),
        weights=(QCoreApplication.translate("StepWords", "weights: {w}").format(w=weights)
                 if weights else ""),
        note=reshape_note(step.kind, step.shape, n_head, lang),
        help_title=title,
        help_text=text,
    )
