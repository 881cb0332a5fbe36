"""The guide's explanations print its worked example's shapes (article mode's batch of 4 × 16):
outside article mode the walkthrough says so and gives the step's real shape (#22.4)."""
from __future__ import annotations

import numpy as np
from helpers import tiny_model

from engine.model.steps import named_shape
from engine.model.trace import run_trace
from gui.panels.walkthrough.describe import describe


def test_the_explanation_names_the_real_shape_outside_article_mode(qapp):
    model = tiny_model(30, context_length=16)
    one = run_trace(model, np.arange(12)[None] % 30)  # (1, 12)
    for name, example in (("probs", "[4, 16, V]"), ("blocks.0.attn.pattern", "[4, 4, 16, 16]")):
        text = describe(one, model, name, "en").help_text
        assert example in text  # the guide's example, still there
        first = text.split("\n\n")[0]
        assert first.startswith("The shapes in this explanation are the guide's worked example")
        assert named_shape(one[name].axes, one[name].shape) in first
    article = run_trace(model, np.arange(64).reshape(4, 16) % 30)  # the example's own batch
    assert not describe(article, model, "probs", "en").help_text.startswith("The shapes")
