"""The parallel residual (GPT-NeoX, Phi), Gemma 3's local rotary base and Phi's output bias,
on small models built from our own config (no transformers needed): each is a step of the
trace with its words in both languages, and every float64 check passes."""
import numpy as np
import pytest
import torch

from engine.config import ModelConfig
from engine.model.checks import check_all, step_inputs
from engine.model.decoder import GPT, param_count
from engine.model.steps import step_formula, step_title
from engine.model.trace import run_trace

NEOX = dict(vocab_size=50, d_model=16, n_head=4, n_layer=2, context_length=12, d_ff=32,
            dropout=0.0, positional="rotary", rotary_dim=2, activation="gelu", norm="parallel",
            norm_kind="layernorm", bias=True)


def _perturbed(cfg):
    torch.manual_seed(0)
    model = GPT(ModelConfig(**cfg).validate())
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return model.eval()


@pytest.mark.parametrize("shared", [False, True])
def test_a_parallel_block_is_one_checked_sum_of_both_parts(shared):
    model = _perturbed({**NEOX, "shared_norm": shared, "head_bias": shared})
    assert model.num_params() == param_count(model.config)
    trace = run_trace(model, np.arange(12) * 3 % 50)
    failed = [(c.name, c.max_abs_diff) for c in check_all(model, trace) if not c.passed]
    assert not failed
    names = trace.names()
    assert "blocks.1.resid_parallel" in names and "blocks.1.resid1" not in names
    assert ("blocks.0.ln2" in names) != shared
    # Both parts read the block's input: the FFN never sees the attention's output.
    ffn_in = step_inputs(model, "blocks.1.ffn.hidden")
    assert ffn_in == ["blocks.1.ln1" if shared else "blocks.1.ln2"]
    assert step_inputs(model, "blocks.1.ln1") == ["blocks.0.resid_parallel"]
    assert step_inputs(model, "blocks.1.resid_parallel") == [
        "blocks.0.resid_parallel", "blocks.1.attn.out", "blocks.1.ffn.out"]
    zh = step_title("blocks.1.resid_parallel", "zh", model.config)
    assert zh.startswith("第 1 块：并行残差")
    formula = step_formula("blocks.1.resid_parallel", "en", model.config)
    assert formula == ("x + Attention(LN(x)) + FFN(LN(x))" if shared
                       else "x + Attention(LN₁(x)) + FFN(LN₂(x))")
    out = {c.name: c for c in check_all(model, trace)}
    assert "共用" in out["blocks.0.resid_parallel"].description_in("zh") or not shared
    if shared:  # the output bias is in the logits and in their check's words
        assert "b_vocab" in out["logits"].description
        assert step_formula("logits", "en", model.config) == "x·W_vocab + b_vocab"


def test_gemma3_sliding_blocks_turn_with_their_own_base():
    cfg = dict(vocab_size=50, d_model=16, n_head=2, n_layer=3, context_length=12, d_ff=32,
               dropout=0.0, positional="rotary", activation="gelu_tanh", norm="sandwich",
               norm_kind="rmsnorm", norm_offset=1.0, bias=False, gated=True, qk_norm=True,
               rope_theta=1e4, rope_scaling={"kind": "linear", "factor": 2.0},
               rope_local_theta=10.0, sliding_window=4, sliding_layers=[True, False, True])
    model = _perturbed(cfg)
    trace = run_trace(model, np.arange(12) * 7 % 50)
    assert not [c.name for c in check_all(model, trace) if not c.passed]
    local, full = trace.values("rope_local.freq"), trace.values("rope.freq")
    np.testing.assert_allclose(local, 10.0 ** (-np.arange(0, 8, 2) / 8), rtol=1e-6)
    np.testing.assert_allclose(full, 1e4 ** (-np.arange(0, 8, 2) / 8) / 2, rtol=1e-6)
    assert step_inputs(model, "blocks.2.attn.q_rot")[1:] == ["rope_local.cos", "rope_local.sin"]
    assert step_inputs(model, "blocks.1.attn.q_rot")[1:] == ["rope.cos", "rope.sin"]
    # The Positional panel's arrows of a sliding block turn with the local angle.
    from engine.model.rotary_readings import pair_arrows
    for layer, theta in ((0, local), (1, full)):
        a = pair_arrows(model.config, trace, layer=layer, head=1, pair=1)
        assert a.theta == pytest.approx(theta[1], rel=1e-6)
        angle = np.arange(12) * a.theta
        want = np.stack([a.q_before[:, 0] * np.cos(angle) - a.q_before[:, 1] * np.sin(angle),
                         a.q_before[:, 0] * np.sin(angle) + a.q_before[:, 1] * np.cos(angle)], -1)
        np.testing.assert_allclose(a.q_after, want, atol=1e-5)
    # Each block turns with the table it names: the local table changed, the checks (from the
    # config) fail on the sliding blocks' rotations only.
    model.rope_local.theta.mul_(1.5)
    again = run_trace(model, np.arange(12) * 7 % 50)
    failed = {c.name for c in check_all(model, again) if not c.passed}
    assert {"rope_local.freq", "blocks.0.attn.q_rot", "blocks.2.attn.k_rot"} <= failed
    assert not {"rope.freq", "blocks.1.attn.q_rot", "blocks.1.attn.k_rot"} & failed


def test_old_configs_read_as_before():
    cfg = ModelConfig.from_dict({k: v for k, v in ModelConfig().to_dict().items()
                                 if k not in ("rope_local_theta", "shared_norm", "head_bias")})
    assert cfg.rope_local_theta is None and not cfg.shared_norm and not cfg.head_bias
    assert GPT(cfg).lm_head.bias is None and GPT(cfg).rope_local is None
