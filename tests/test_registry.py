"""The step registry (engine.model.registry): every step any model variant traces is declared
once, with a check, a formula in English and Chinese, and axes; and the float64 checks take
every variant from the config, so a module mis-built after construction fails its check."""
import itertools

import pytest
import torch

from engine.config import ModelConfig
from engine.model.checks import check_step
from engine.model.decoder import GPT, param_count
from engine.model.guide import load_guide
from engine.model.registry import KINDS, kind_of, step_inputs
from engine.model.trace import run_trace

torch.set_num_threads(1)

AXES = {"batch", "context", "d_model", "d_ff", "heads", "head_size", "query", "key", "vocab"}


def _model(seed=0, **kw):
    fields = dict(vocab_size=30, d_model=16, n_head=4, n_layer=2, context_length=8, d_ff=24)
    fields.update(kw)
    torch.manual_seed(seed)
    model = GPT(ModelConfig(**fields)).eval()
    with torch.no_grad():  # off LayerNorm's identity and zero biases, so the checks bite
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return model


VARIANTS = list(itertools.product(("post", "pre"), ("sinusoidal", "learned"),
                                  ("relu", "gelu", "gelu_tanh"), (True, False), (False, True),
                                  (None, 2, 1)))


@pytest.mark.parametrize("norm,positional,activation,bias,tied,kv", VARIANTS)
def test_every_traced_step_of_every_variant_is_declared_and_passes(norm, positional, activation,
                                                                   bias, tied, kv):
    model = _model(norm=norm, positional=positional, activation=activation, bias=bias,
                   tied=tied, n_kv_head=kv)
    assert param_count(model.config) == model.num_params()
    trace = run_trace(model, torch.randint(0, 30, (2, 8), generator=torch.Generator()
                                           .manual_seed(1)))
    sections = load_guide()
    for step in trace:
        kind = kind_of(step.name)  # KeyError: a step no component declared
        assert callable(kind.check) and kind.words, step.name
        assert kind.title[0] and kind.title[1] and kind.title[0] != kind.title[1], step.name
        assert kind.formula[0] and kind.formula[1], step.name
        assert len(kind.axes) == step.values.ndim and set(kind.axes) <= AXES, step.name
        assert kind.section in sections, step.name
        for name in step_inputs(model.config, step.name):
            assert name in trace and trace.names().index(name) < trace.names().index(step.name)
        assert check_step(model, trace, step.name).passed, step.name


def test_grouped_kv_heads_are_traced_once_each():
    model = _model(n_kv_head=2)
    trace = run_trace(model, torch.arange(8) % 30)
    assert trace["blocks.0.attn.q"].shape == (1, 4, 8, 4)
    assert trace["blocks.0.attn.k"].shape == trace["blocks.0.attn.v"].shape == (1, 2, 8, 4)
    assert trace["blocks.0.attn.scores"].shape == (1, 4, 8, 8)
    assert tuple(model.blocks[0].attn.qkv.weight.shape) == ((4 + 2 * 2) * 4, 16)


def test_full_kv_heads_keep_todays_names_and_shapes():
    model = _model(n_kv_head=4)
    plain = _model()
    assert {k: v.shape for k, v in model.state_dict().items()} == \
        {k: v.shape for k, v in plain.state_dict().items()}


def _swap_activation(model):
    model.blocks[1].ffn.act_fn = torch.nn.GELU(approximate="tanh")  # the config says exact GELU


def _swap_eps(model):
    model.blocks[0].norm2.eps = 0.5  # the config says 1e-5


def _swap_wiring(model):
    model.blocks[0].__class__ = type(_model(norm="pre").blocks[0])  # the config says post-norm


@pytest.mark.parametrize("mutate,step", [
    (_swap_activation, "blocks.1.ffn.act"),
    (_swap_eps, "blocks.0.ln2"),
    (_swap_wiring, "blocks.0.attn.q"),
])
def test_a_module_mis_built_after_construction_fails_its_check(mutate, step):
    """The checks read the activation, ε and wiring from the config, never from the modules
    they check: a module that disagrees with its config is caught."""
    model = _model(activation="gelu")
    ids = torch.randint(0, 30, (2, 8), generator=torch.Generator().manual_seed(1))
    assert all(check_step(model, run_trace(model, ids), n).passed for n in (step, "logits"))
    mutate(model)
    trace = run_trace(model, ids)
    assert not check_step(model, trace, step).passed


def test_stage_kinds_recompute_and_are_previewed():
    stages = [k for k in KINDS.values() if k.stage]
    assert [k.stage for k in stages] == ["scores", "scaled", "masked", "pattern"]
    assert all(k.recompute is not None for k in stages)
