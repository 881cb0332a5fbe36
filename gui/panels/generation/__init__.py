"""Sampling, one token at a time: the prompt, the text as it grows, and for each new token the
distribution it was drawn from (top candidates as bars, the chosen one highlighted).

`job` is the work off the GUI thread and `text` the generated text and its candidates (no
widgets); `form` holds the prompt and sampling controls, `text_view` and `bars_view` draw, and
`panel` assembles the dock and subscribes to the session. Nothing here computes model maths:
tokens and probabilities come from `engine.model.sample`.
"""
from gui.panels.generation.panel import GenerationPanel

__all__ = ["GenerationPanel"]
