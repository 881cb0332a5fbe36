"""A trace at GPT-2's shape keeps only what is cheap to hold; the rest is recomputed on demand
and equals what the full forward gives (engine.model.ondemand)."""
import numpy as np
import pytest
import torch

from benchmarks.gpt2_small import GPT2_HEADS, GPT2_LAYERS, GPT2_VOCAB, gpt2_model
from engine.model.checks import check_step
from engine.model.trace import TOP_K, run_trace

T = 160  # 12 heads x 160 x 160 = 307k numbers a stage; logits 160 x 50,258 = 8M


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return gpt2_model(d_model=96, seed=1)


@pytest.fixture(scope="module")
def ids():
    return torch.randint(0, GPT2_VOCAB, (T,), generator=torch.Generator().manual_seed(2))


@pytest.fixture(scope="module")
def trace(model, ids):
    return run_trace(model, ids)


def test_the_helper_has_gpt2s_shape(model):
    cfg = model.config
    assert (cfg.n_layer, cfg.n_head, cfg.vocab_size) == (GPT2_LAYERS, GPT2_HEADS, GPT2_VOCAB + 1)
    assert (cfg.context_length, cfg.positional, cfg.norm, cfg.tied) == (1024, "learned", "pre",
                                                                        True)


def test_full_probabilities_and_logits_are_not_kept(trace):
    assert not trace["probs"].kept and not trace["logits"].kept
    assert trace["probs"].shape == (1, T, GPT2_VOCAB + 1)
    # What it keeps instead: the top guesses at every position.
    assert trace.top_ids.shape == trace.top_probs.shape == (1, T, TOP_K)
    # Everything it does keep is far below one full (T, V) matrix of probabilities.
    assert trace.kept_bytes() < T * (GPT2_VOCAB + 1) * 4


def test_top_k_equals_the_full_softmax(model, ids, trace):
    with torch.no_grad():
        logits, _ = model(ids[None])  # (1, T, V) the fast forward
    probs = torch.softmax(logits, dim=-1).numpy()
    order = np.argsort(-probs, axis=-1, kind="stable")[..., :TOP_K]
    np.testing.assert_allclose(trace.top_probs, np.take_along_axis(probs, order, -1),
                               atol=1e-6)
    # Ids agree wherever the probabilities are not tied.
    assert (trace.top_ids[..., :5] == order[..., :5]).mean() > 0.99
    np.testing.assert_allclose(trace.values("probs"), probs, atol=1e-6)
    np.testing.assert_allclose(trace.next_token_probs(T - 1), probs[0, -1], atol=1e-6)
    np.testing.assert_allclose(trace.values("logits"), logits.numpy(), atol=1e-4)


def test_large_attention_is_recomputed_and_equals_the_forward(model, ids):
    small = run_trace(model, ids, keep_max=1 << 30)  # everything kept, as a small model would
    big = run_trace(model, ids, keep_max=100_000)
    name = "blocks.7.attn.pattern"
    assert small[name].kept and not big[name].kept
    for stage in ("scores", "scaled", "masked", "pattern"):
        a, b = small.values(f"blocks.7.attn.{stage}"), big.values(f"blocks.7.attn.{stage}")
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(small.values("blocks.3.ffn.act"),
                                  big.values("blocks.3.ffn.act"))
    assert big.kept_bytes() < small.kept_bytes() / 2


def test_every_recomputed_step_passes_its_check(model, ids):
    trace = run_trace(model, ids[:24], keep_max=1000)
    lazy = [s.name for s in trace if not s.kept]
    assert {"logits", "probs", "blocks.11.attn.pattern", "blocks.0.ffn.act"} <= set(lazy)
    for name in ["blocks.11.attn.scores", "blocks.11.attn.masked", "blocks.11.attn.pattern",
                 "blocks.11.attn.weighted", "blocks.0.ffn.act", "logits", "probs"]:
        check = check_step(model, trace, name)
        assert check.passed, (name, check.max_abs_diff)


def test_recomputing_after_the_weights_changed_is_refused():
    model = gpt2_model(d_model=24, seed=0, context_length=64)
    trace = run_trace(model, np.arange(40), keep_max=1000)
    with torch.no_grad():
        model.lm_head.weight.add_(1.0)
    with pytest.raises(RuntimeError, match="weights changed"):
        trace.values("logits")


def test_previews_of_every_attention_stage_are_small_and_faithful(trace, model, ids):
    from engine.model.ondemand import PREVIEW_SIZE

    names = [f"blocks.{i}.attn.{s}" for i in range(GPT2_LAYERS)
             for s in ("scores", "scaled", "masked", "pattern")]
    assert sorted(trace.previews) == sorted(names)
    t = -(-T // -(-T // PREVIEW_SIZE))  # ceil(T / ceil(T / size))
    for name in names:
        assert trace.previews[name].shape == (GPT2_HEADS, t, t)
    full = trace.values("blocks.5.attn.pattern")[0]  # (nh, T, T)
    block = -(-T // PREVIEW_SIZE)
    # Each preview cell is the largest value of its block of queries x keys.
    assert trace.previews["blocks.5.attn.pattern"][3, 1, 0] == full[3, block:2 * block,
                                                                  :block].max()
    assert np.isneginf(trace.previews["blocks.5.attn.masked"][0, 0, -1])  # all in the future
    small = run_trace(model, ids[:20])
    np.testing.assert_array_equal(small.previews["blocks.0.attn.pattern"],
                                  small.values("blocks.0.attn.pattern")[0])


def test_the_trace_measures_each_next_tokens_loss(model, ids):
    from engine.model.lens import per_token_loss

    trace = run_trace(model, ids[:50])
    np.testing.assert_allclose(trace.next_loss[0], per_token_loss(model, ids[:50]), atol=1e-4)
    ablated = run_trace(model, ids[:50], ablate=[(0, 1), (5, 5)])
    assert not np.allclose(ablated.next_loss, trace.next_loss)  # the ablated model's loss


def test_vocabulary_sized_checks_done_in_slices_agree_with_whole_ones(model, ids, monkeypatch):
    import engine.model.checks as checks

    trace = run_trace(model, ids[:40], keep_max=1000)
    whole = {n: check_step(model, trace, n) for n in ("logits", "probs")}
    monkeypatch.setattr(checks, "CHUNK_VALUES", 7 * (GPT2_VOCAB + 1))  # 7 positions a slice
    for name, check in whole.items():
        sliced = check_step(model, trace, name)
        assert sliced.passed and check.passed
        assert sliced.max_abs_diff == pytest.approx(check.max_abs_diff, rel=1e-6, abs=1e-12)
        assert sliced.tolerance == pytest.approx(check.tolerance)
    # A wrong value in one slice is still found.
    trace["logits"]._values = trace.values("logits").copy()
    trace["logits"]._values[0, 33, 5] += 1.0
    assert not check_step(model, trace, "logits").passed
