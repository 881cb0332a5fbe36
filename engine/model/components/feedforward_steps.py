"""The steps the feed-forward network emits: hidden layer, activation, output. Torch-free.
The activation's float64 formula is chosen from the config's name, never from the module."""
from __future__ import annotations

from engine.model import numerics as num
from engine.model.stepkind import StepKind

_AXES_F = ("batch", "context", "d_ff")
_AXES_C = ("batch", "context", "d_model")

# ModelConfig.activation -> (float64 formula, description key).
ACTIVATIONS = {
    "silu": (num.silu, "ffn.act.silu"),
    "relu": (num.relu, "ffn.act.relu"),
    "gelu": (num.gelu, "ffn.act.gelu"),
    "gelu_tanh": (num.gelu_tanh, "ffn.act.gelu_tanh"),
}


def _hidden(c):
    return (num.linear(c.x(0), c.param("ffn.fc1.weight"), c.param("ffn.fc1.bias")), [],
            ("ffn.hidden", dict(x=c.inputs[0])))


def _act(c):
    formula, key = ACTIVATIONS[c.cfg.activation]
    return formula(c.x(0)), [], (key, {})


def _out(c):
    if c.cfg.gated:
        return (num.linear(c.x(0), c.param("ffn.down.weight"), c.param("ffn.down.bias")), [],
                ("ffn.out.gated", {}))
    return (num.linear(c.x(0), c.param("ffn.fc2.weight"), c.param("ffn.fc2.bias")), [],
            ("ffn.out", {}))


def _gate(c):
    return (num.linear(c.x(0), c.param("ffn.gate.weight"), c.param("ffn.gate.bias")), [],
            ("ffn.gated_in", dict(x=c.inputs[0])))


def _up(c):
    return (num.linear(c.x(0), c.param("ffn.up.weight"), c.param("ffn.up.bias")), [],
            ("ffn.up_in", dict(x=c.inputs[0])))


def _product(c):
    return c.x(0) * c.x(1), [], ("ffn.product", {})


def _pre_activation(cfg) -> str:
    """The step the activation reads: the hidden layer, or in a gated FFN the gate."""
    return "ffn.gated_in" if cfg is not None and cfg.gated else "ffn.hidden"


def _recompute_act(r):
    """A dropped activation, again from its pre-activation, by the block's own module."""
    from engine.model import ondemand

    return ondemand.activation(r.model.blocks[r.layer].ffn.activate,
                               r.kept(r.here(_pre_activation(r.model.config))))


_GATED_WEIGHTS = lambda which: lambda cfg, zh: f"W{which} [{cfg.d_model}×{cfg.d_ff}]"  # noqa: E731

KINDS = (
    StepKind(
        "ffn.gated_in", True, ("FFN gate", "前馈网络门控"), ("G = x·Wg",) * 2, _AXES_F,
        inputs=lambda p: [p.ffn_in], check=_gate,
        words={"ffn.gated_in": ("{x}·Wgᵀ", "{x}·Wgᵀ")}, weights=_GATED_WEIGHTS("g"),
        guide="gated_ffn"),
    StepKind(
        "ffn.up_in", True, ("FFN up projection", "前馈网络上投影"), ("U = x·Wu",) * 2, _AXES_F,
        inputs=lambda p: [p.ffn_in], check=_up,
        words={"ffn.up_in": ("{x}·Wuᵀ", "{x}·Wuᵀ")}, weights=_GATED_WEIGHTS("u"),
        guide="gated_ffn"),
    StepKind(
        "ffn.product", True, ("Gate times up", "门控乘以上投影"),
        ("act(G) ⊙ U  (element by element)", "act(G) ⊙ U（逐元素相乘）"), _AXES_F,
        inputs=lambda p: [p.here("ffn.act"), p.here("ffn.up_in")], check=_product,
        words={"ffn.product": ("act(gate) ⊙ up, element by element",
                               "act(门控) ⊙ 上投影，逐元素相乘")}, guide="gated_ffn"),
    StepKind(
        "ffn.hidden", True, ("FFN hidden", "前馈网络隐藏层"), ("H = x·W1 + b1",) * 2, _AXES_F,
        inputs=lambda p: [p.ffn_in], check=_hidden,
        words={"ffn.hidden": ("{x}·W1ᵀ + b1", "{x}·W1ᵀ + b1")},
        weights=lambda cfg, zh: f"W1 [{cfg.d_model}×{cfg.d_ff}] + b1 [{cfg.d_ff}]"),
    StepKind(
        "ffn.act", True, ("FFN activation", "前馈网络激活"), ("act(H)",) * 2, _AXES_F,
        inputs=lambda p: [p.here(_pre_activation(p.cfg))], check=_act,
        words={"ffn.act.silu": ("SiLU: x·σ(x) = x / (1 + e^(−x))", "SiLU：x·σ(x) = x / (1 + e^(−x))"),
               "ffn.act.gelu": ("GELU: x·Φ(x) with the error function",
                                "GELU：用误差函数计算 x·Φ(x)"),
               "ffn.act.gelu_tanh": ("GELU, tanh approximation: 0.5x(1 + tanh(√(2/π)(x + "
                                     "0.044715x³)))", "GELU：用双曲正切近似重新计算 x·Φ(x)"),
               "ffn.act.relu": ("ReLU: max(x, 0)", "ReLU：max(x, 0)")},
        recompute=_recompute_act),
    StepKind(
        "ffn.out", True, ("FFN output", "前馈网络输出"), ("act(H)·W2 + b2",) * 2, _AXES_C,
        inputs=lambda p: [p.here("ffn.product" if p.cfg is not None and p.cfg.gated
                                 else "ffn.act")], check=_out,
        words={"ffn.out": ("act·W2ᵀ + b2", "act·W2ᵀ + b2"),
               "ffn.out.gated": ("(act ⊙ up)·Wdᵀ", "(act ⊙ up)·Wdᵀ")},
        weights=lambda cfg, zh: f"W2 [{cfg.d_ff}×{cfg.d_model}] + b2 [{cfg.d_model}]"),
)
