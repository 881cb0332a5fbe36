"""The float64 checks of the vocabulary-sized steps never copy the whole token table or output
projection to float64 (1.1 GB at Qwen2.5-0.5B's 151,936 x 896, which pushed the window past
4 GB): the token lookup copies the rows it reads, the logits a slice of the vocabulary at a
time; and they still catch a wrong value."""
from __future__ import annotations

import numpy as np
import pytest

from engine.model import checks
from engine.model.checks import check_step
from engine.model.components import output_steps
from engine.model.trace import run_trace
from tests.helpers import tiny_model

VOCAB = 3000


@pytest.fixture
def traced(monkeypatch):
    model = tiny_model(VOCAB, d_model=32, tied=False).eval()
    trace = run_trace(model, np.arange(16) * 37 % VOCAB)
    whole = checks._Ctx.param
    asked: list[tuple] = []

    def param(self, name):
        if name in ("embed.wte.weight", "lm_head.weight"):
            raise AssertionError(f"a float64 copy of the whole of {name}")
        return whole(self, name)

    def param_rows(self, name, rows):
        out = original_rows(self, name, rows)
        asked.append((name, out.shape))
        return out

    original_rows = checks._Ctx.param_rows
    monkeypatch.setattr(checks._Ctx, "param", param)
    monkeypatch.setattr(checks._Ctx, "param_rows", param_rows)
    monkeypatch.setattr(output_steps, "VOCAB_VALUES", 32 * 700)  # slices of 700 tokens
    return model, trace, asked


def test_vocabulary_sized_checks_copy_slices_and_pass(traced):
    model, trace, asked = traced
    for name in ("embed.token", "logits"):
        assert check_step(model, trace, name).passed, name
    assert ("embed.wte.weight", (1, 16, 32)) in asked  # the rows of the context's tokens
    logits = [shape for name, shape in asked if name == "lm_head.weight"]
    assert logits[0] == (700, 32) and sum(s[0] for s in logits) == VOCAB


def test_a_wrong_logit_still_fails(traced):
    model, trace, _ = traced
    trace.values("logits")[0, 3, 2999] += 1.0  # the last slice of the vocabulary
    assert not check_step(model, trace, "logits").passed
