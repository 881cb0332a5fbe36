"""Every traced step, recomputed independently in float64, matches the trace."""
import itertools
import re

import numpy as np
import pytest
import torch

from engine.model.checks import check_all, check_step, step_inputs
from engine.config import ModelConfig
from engine.model.decoder import GPT
from engine.model.trace import run_trace

VARIANTS = list(itertools.product(("post", "pre"), ("sinusoidal", "learned"), ("relu", "gelu"),
                                  (False, True)))


def _model(norm="post", positional="sinusoidal", activation="relu", tied=False, seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_size=40, d_model=16, n_head=4, n_layer=2, context_length=8, d_ff=32,
                      norm=norm, positional=positional, activation=activation, tied=tied)
    model = GPT(cfg)
    # Random init is small (std 0.02); larger weights make the check less trivial.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return model.eval()


def _ids(seed=1, B=2, T=8, V=40):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, V, (B, T), generator=g)


@pytest.mark.parametrize("norm,positional,activation,tied", VARIANTS)
def test_check_all_passes(norm, positional, activation, tied):
    model = _model(norm, positional, activation, tied)
    trace = run_trace(model, _ids())
    checks = check_all(model, trace)
    assert [c.name for c in checks] == trace.names()
    failed = [(c.name, c.max_abs_diff, c.tolerance) for c in checks if not c.passed]
    assert not failed
    assert all(np.isfinite(c.max_abs_diff) for c in checks)


def test_check_passes_with_an_ablated_head():
    model = _model("pre")
    trace = run_trace(model, _ids(), ablate=[(1, 2)])
    assert all(c.passed for c in check_all(model, trace))


@pytest.mark.parametrize("name", ["embed.sum", "blocks.0.attn.q", "blocks.0.attn.scores",
                                  "blocks.1.attn.pattern", "blocks.1.attn.concat",
                                  "blocks.0.ln1", "blocks.1.ffn.act", "logits", "probs"])
def test_corrupted_value_fails_that_step(name):
    model = _model("post", activation="gelu")
    trace = run_trace(model, _ids())
    trace[name].values[(0,) * trace[name].values.ndim] += 0.01
    check = check_step(model, trace, name)
    assert not check.passed and check.max_abs_diff >= 0.009
    # Only this step and the steps computed from it can notice; every other step still passes.
    readers = {n for n in trace.names() if name in step_inputs(model, n)}
    for n in trace.names():
        if n != name and n not in readers:
            assert check_step(model, trace, n).passed, n


def test_finite_value_above_the_diagonal_fails_masked():
    model = _model()
    trace = run_trace(model, _ids())
    trace["blocks.0.attn.masked"].values[0, 0, 0, 5] = -1e9  # "-1e9" instead of −∞
    assert not check_step(model, trace, "blocks.0.attn.masked").passed
    trace2 = run_trace(model, _ids())
    p = trace2["blocks.1.attn.pattern"].values
    p[0, 1, 2, 6] = 0.001  # attention leaking into the future
    assert not check_step(model, trace2, "blocks.1.attn.pattern").passed


def test_weights_changed_after_tracing_fail():
    model = _model("pre")
    trace = run_trace(model, _ids())
    with torch.no_grad():
        model.blocks[0].attn.qkv.weight[20, 3] += 0.5  # a Wk entry
    assert check_step(model, trace, "blocks.0.attn.q").passed
    assert not check_step(model, trace, "blocks.0.attn.k").passed
    assert not check_step(model, trace, "logits").passed  # the fast forward disagrees now


CJK = "[\u4e00-\u9fff]"


def _words(text: str) -> list[str]:
    """The English words of a description, without the symbols that read the same in both."""
    from engine.model.steps import EXEMPT_TERMS

    # Fields, step names (blocks.0.ln1) and code (wte[ids], model(ids)) are not words.
    plain = re.sub(r"\{\w+\}|[a-z_]\w*(?:\.\w+)+|\w+\[\w+\]|\w+\(\w*\)", " ", text)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_]*", plain)
            if sum(c.isalpha() for c in w) >= 4 and w not in EXEMPT_TERMS]


def test_every_description_reads_in_both_languages():
    """Each description has its Chinese with the same {fields}, and the Chinese keeps no English
    word (only symbols): the walkthrough's check line is Chinese in Chinese mode."""
    from engine.model.registry import KINDS

    for key, (en, zh) in ((k, w) for kind in KINDS.values() for k, w in kind.words.items()):
        assert sorted(re.findall(r"{\w+}", en)) == sorted(re.findall(r"{\w+}", zh)), key
        assert _words(zh) == [], (key, zh)
        if _words(en):
            assert re.search(CJK, zh), key


@pytest.mark.parametrize("norm,positional,activation,tied", [VARIANTS[0], VARIANTS[-1]])
def test_every_check_of_a_trace_describes_itself_in_chinese(norm, positional, activation, tied):
    model = _model(norm, positional, activation, tied)
    trace = run_trace(model, _ids())
    for check in check_all(model, trace):
        zh = check.description_in("zh")
        assert check.description_in("en") == check.description, check.name
        assert check.description_in("fr") == check.description  # unknown language: English
        assert _words(zh) == [], (check.name, zh)
        assert re.search(CJK, zh) or not _words(check.description), check.name
        assert "{" not in zh and "{" not in check.description
    tokens = check_step(model, trace, "tokens")
    assert tokens.description_in("zh") == "输入模型的编号，全部在大小为 40 的词表之内"
