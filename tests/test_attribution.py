"""Direct logit attribution: the parts add up to the real logit (or logit difference) within
1e-4 in float64 on every wiring and norm the model supports, and only with the real forward's
frozen norm scales."""
import numpy as np
import pytest
import torch

from engine.config import ModelConfig
from engine.model.attribution import (CONSTANTS, TOLERANCE, AttributionError,
                                      direct_logit_attribution)
from engine.model.decoder import GPT
from engine.model.trace import run_trace

BASE = dict(vocab_size=50, d_model=32, n_head=4, n_layer=3, context_length=12, d_ff=48,
            dropout=0.0)
VARIANTS = {
    # The articles' and the bundled model's wiring: every later block's norms count.
    "post": dict(norm="post"),
    "pre": dict(norm="pre", positional="learned", activation="gelu_tanh"),
    # Llama-style: RMSNorm, rotary, grouped-query attention, a gated FFN, no biases.
    "llama": dict(norm="pre", norm_kind="rmsnorm", positional="rotary", n_kv_head=2,
                  gated=True, activation="silu", bias=False, tied=True),
    # Gemma 2-style: sandwich norms, (1 + γ), √d embedding scale, capped scores and logits.
    "gemma": dict(norm="sandwich", norm_kind="rmsnorm", norm_offset=1.0, positional="rotary",
                  n_kv_head=1, gated=True, activation="gelu_tanh", bias=False, tied=True,
                  embed_scale=32 ** 0.5, attn_softcap=50.0, final_softcap=30.0, head_dim=16,
                  qk_norm=True),
}


def _model(variant: str, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    model = GPT(ModelConfig(**{**BASE, **VARIANTS[variant]}))
    with torch.no_grad():  # non-trivial norm weights and biases, so each term is exercised
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith(".bias"):
                p.add_(0.3 * torch.randn_like(p))
    return model.eval()


def _trace(model: GPT, T: int = 9, seed: int = 1):
    ids = np.random.default_rng(seed).integers(0, model.config.vocab_size, T)
    return run_trace(model, ids)


def _forward_logits(model: GPT, trace, t: int) -> np.ndarray:
    with torch.no_grad():
        logits, _ = model(torch.as_tensor(trace.ids))  # (1, T, V), capped where it caps
    return logits[0, t].double().numpy()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_parts_add_up_to_the_real_logit(variant):
    model = _model(variant)
    trace = _trace(model)
    cfg = model.config
    got = direct_logit_attribution(model, trace)
    assert got.position == trace.ids.shape[1] - 1
    assert got.target == int(trace.top_ids[0, -1, 0])  # the top prediction by default
    expected = {"embed", CONSTANTS} | {f"blocks.{L}.mlp" for L in range(cfg.n_layer)} | {
        f"blocks.{L}.attn.head.{h}" for L in range(cfg.n_layer) for h in range(cfg.n_head)}
    assert set(got.parts) == expected
    assert got.error < TOLERANCE
    # The real logit is the model's own: the forward pass's logit (before a soft cap).
    real = _forward_logits(model, trace, got.position)[got.target]
    if cfg.final_softcap:
        assert got.capped == pytest.approx(real, abs=1e-4)
        assert got.logit == pytest.approx(cfg.final_softcap * np.arctanh(
            real / cfg.final_softcap), abs=1e-3)
    else:
        assert got.logit == pytest.approx(real, abs=1e-5)
    # A split where one part carries everything would pass the sum: each part is its own.
    assert sum(abs(v) > 1e-6 for v in got.parts.values()) > cfg.n_layer * cfg.n_head


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_logit_difference_at_an_earlier_position_adds_up(variant):
    model = _model(variant, seed=2)
    trace = _trace(model, seed=3)
    got = direct_logit_attribution(model, trace, position=4, target=7, versus=11)
    real = _forward_logits(model, trace, 4)
    if model.config.final_softcap:
        assert got.capped == pytest.approx(real[7] - real[11], abs=1e-4)
    else:
        assert got.logit == pytest.approx(real[7] - real[11], abs=1e-5)
    assert got.error < TOLERANCE
    # The difference is the split of each logit, part by part.
    alone = [direct_logit_attribution(model, trace, position=4, target=k) for k in (7, 11)]
    for name, share in got.parts.items():
        assert share == pytest.approx(alone[0].parts[name] - alone[1].parts[name], abs=1e-9)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_wrong_frozen_scale_breaks_the_sum(variant):
    """The check can fail: with any one norm's σ halved, the parts no longer add up."""
    model = _model(variant)
    trace = _trace(model)
    right = direct_logit_attribution(model, trace)
    assert right.scales  # every variant has norms between the parts and the logits
    for module, sigma in right.scales.items():
        wrong = direct_logit_attribution(model, trace, scales={module: sigma * 0.5})
        assert wrong.error > TOLERANCE, module


def test_post_norm_parts_pass_through_every_later_norm():
    """In a post-norm model the embedding goes through all 2·n_layer block norms: their σ
    are all frozen, and there is no final norm of its own."""
    model = _model("post")
    got = direct_logit_attribution(model, _trace(model))
    assert set(got.scales) == {f"blocks.{L}.norm{i}" for L in range(3) for i in (1, 2)}
    sandwich = direct_logit_attribution(_model("gemma"), _trace(_model("gemma")))
    assert set(sandwich.scales) == {"norm_f"} | {
        f"blocks.{L}.norm_p{k}" for L in range(3) for k in "af"}


def test_the_json_form_lets_anyone_check_the_sum():
    model = _model("gemma")
    got = direct_logit_attribution(model, _trace(model)).to_dict()
    assert abs(sum(got["parts"].values()) - got["logit"]) < got["tolerance"]
    assert got["final_softcap"] == 30.0 and "before the cap" in got["softcap_note"]


@pytest.mark.parametrize("kw", [dict(position=9), dict(position=-10), dict(target=50),
                                dict(target=3, versus=3), dict(versus=-1)])
def test_impossible_requests_are_one_line(kw):
    model = _model("pre")
    with pytest.raises(AttributionError) as err:
        direct_logit_attribution(model, _trace(model), **kw)
    assert "\n" not in str(err.value) and err.value.args[0].text("zh")


@pytest.mark.parametrize("variant", ["pre", "llama"])
def test_each_head_gets_its_own_write(variant):
    """A head's share is what switching that head off removes from the stream (ablation, read
    at its block's resid1), through the final norm: the heads are not mixed up (GQA included)."""
    model = _model(variant)
    trace = _trace(model)
    got = direct_logit_attribution(model, trace)
    cfg, t = model.config, got.position
    gamma = model.norm_f.weight.detach().double().numpy()  # (C,)
    u = model.unembedding()[got.target].detach().double().numpy()  # (C,)
    for layer, head in [(0, 0), (1, 3), (2, 1)]:
        off = run_trace(model, trace.ids, ablate=[(layer, head)])
        name = f"blocks.{layer}.resid1"
        v = (trace.values(name)[0, t] - off.values(name)[0, t]).astype(np.float64)  # (C,)
        if cfg.norm_kind == "layernorm":
            v = v - v.mean()
        expected = float(u @ (gamma * v)) / got.scales["norm_f"]
        assert got.parts[f"blocks.{layer}.attn.head.{head}"] == pytest.approx(expected,
                                                                                abs=1e-5)
