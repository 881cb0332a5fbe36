"""The Positional panel's rotary numbers and the GQA figures, from a small random Llama-style
model: the waves are the model's own angle table, the arrows are the trace's q and k, the
relative table is constant along each row (the property) and not trivially so, and the K/V
cache bytes follow the config."""
import numpy as np
import pytest
import torch

from engine.config import ModelConfig
from engine.model.decoder import new_model
from engine.model.grouped_query import kv_cache_bytes_per_token, kv_cache_saving, kv_groups
from engine.model.rotary_readings import angle_waves, pair_arrows, relative_scores
from engine.model.trace import run_trace


def llama(**extra):
    cfg = ModelConfig(vocab_size=50, d_model=32, n_head=4, n_kv_head=2, n_layer=2,
                      context_length=32, d_ff=64, dropout=0.0, positional="rotary",
                      norm="pre", norm_kind="rmsnorm", activation="silu", gated=True,
                      bias=False, **extra).validate()
    return new_model(cfg, seed=3).eval()


@pytest.fixture(scope="module")
def traced():
    model = llama(rope_scaling={"kind": "linear", "factor": 4.0})
    ids = torch.arange(1, 13)[None]
    return model, run_trace(model, ids)


def test_waves_are_the_models_own_angle_table_with_its_scaling(traced):
    model, trace = traced
    theta, cos, sin = angle_waves(model.config, 12)
    np.testing.assert_allclose(theta, model.rotary.theta.numpy() if hasattr(model, "rotary")
                               else trace["rope.freq"].values, rtol=1e-6)
    np.testing.assert_allclose(theta[0], 0.25)  # θ₀ = 1, slowed 4× by the linear scaling
    half = theta.shape[0]
    np.testing.assert_allclose(cos, trace["rope.cos"].values[:, :half], atol=1e-6)
    np.testing.assert_allclose(sin, trace["rope.sin"].values[:, :half], atol=1e-6)


def test_arrows_are_the_traces_q_and_k_turned_by_position_angle(traced):
    model, trace = traced
    a = pair_arrows(model.config, trace, layer=1, head=3, pair=0)
    assert a.kv_head == 1 and a.q_before.shape == (12, 2)
    angle = np.arange(12) * a.theta
    c, s = np.cos(angle), np.sin(angle)
    # (x, y) turned by t·θ: (x cos − y sin, x sin + y cos)
    want = np.stack([a.q_before[:, 0] * c - a.q_before[:, 1] * s,
                     a.q_before[:, 0] * s + a.q_before[:, 1] * c], -1)
    np.testing.assert_allclose(a.q_after, want, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(a.k_after, axis=1),
                               np.linalg.norm(a.k_before, axis=1), rtol=1e-5)
    assert not np.allclose(a.q_after[5:], a.q_before[5:], atol=1e-3)  # it did turn
    with pytest.raises(ValueError):
        pair_arrows(model.config, trace, 0, 0, pair=4)


def test_relative_scores_depend_on_the_distance_only(traced):
    model, trace = traced
    table = relative_scores(model.config, trace, layer=0, head=1, query_pos=7, key_pos=3)
    assert table.scores.shape == (5, 5)
    assert table.spread().max() < 1e-9  # equal along every row: (m, n) ≡ (m + s, n + s)
    assert np.ptp(table.scores[:, 0]) > 1e-3  # but the distance changes the score
    # Row Δ = 0 is q·k unturned (both turned by the same angle).
    np.testing.assert_allclose(table.scores[0], table.unturned, atol=1e-9)
    # The trace's own scaled score of query 7, key 3 is row Δ = 4 (any shift).
    scaled = trace["blocks.0.attn.scaled"].values[0][1][7, 3]
    np.testing.assert_allclose(table.scores[table.offsets.index(4)], scaled, rtol=1e-4)


def test_gqa_groups_and_cache_bytes_follow_the_config():
    smol = ModelConfig(d_model=576, n_head=9, n_kv_head=3, n_layer=30, positional="rotary")
    assert kv_groups(smol) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert kv_cache_bytes_per_token(smol) == 2 * 30 * 3 * 64 * 2 == 23040
    assert kv_cache_saving(smol) == 3
    qwen = ModelConfig(d_model=896, n_head=14, n_kv_head=2, n_layer=24)
    assert kv_cache_bytes_per_token(qwen, bytes_per_value=4) == 2 * 24 * 2 * 64 * 4
    assert kv_groups(ModelConfig(n_head=4))[3] == 3  # no GQA: one K/V head each


def test_logit_lens_reads_a_rotary_model_and_its_soft_cap():
    from engine.model.lens import lens_probs, lens_streams, logit_lens

    model = llama(final_softcap=2.0)
    ids = torch.arange(1, 9)[None]
    trace = run_trace(model, ids)
    assert lens_streams(model)[0] == ("embed", "embed.token")  # no table is added
    rows = logit_lens(model, trace, position=5)
    assert len(rows) == model.config.n_layer + 1
    with torch.no_grad():
        want = torch.softmax(model(ids)[0][0, 5].double(), -1)  # the capped forward
    final = lens_probs(model, trace["blocks.1.resid2"].values[0, 5])
    np.testing.assert_allclose(final.numpy(), want.numpy(), atol=1e-6)
