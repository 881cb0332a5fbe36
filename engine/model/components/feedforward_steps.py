"""The steps the feed-forward network emits: hidden layer, activation, output. Torch-free.
The activation's float64 formula is chosen from the config's name, never from the module."""
from __future__ import annotations

from engine.model import numerics as num
from engine.model.stepkind import StepKind

_AXES_F = ("batch", "context", "d_ff")
_AXES_C = ("batch", "context", "d_model")

# ModelConfig.activation -> (float64 formula, description key).
ACTIVATIONS = {
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
    return (num.linear(c.x(0), c.param("ffn.fc2.weight"), c.param("ffn.fc2.bias")), [],
            ("ffn.out", {}))


def _recompute_act(r):
    """A dropped activation, again from its pre-activation, by the block's own module."""
    from engine.model import ondemand

    return ondemand.activation(r.model.blocks[r.layer].ffn.activate,
                               r.kept(r.here("ffn.hidden")))


KINDS = (
    StepKind(
        "ffn.hidden", True, ("FFN hidden", "前馈网络隐藏层"), ("H = x·W1 + b1",) * 2, _AXES_F,
        inputs=lambda p: [p.ffn_in], check=_hidden,
        words={"ffn.hidden": ("{x}·W1ᵀ + b1", "{x}·W1ᵀ + b1")},
        weights=lambda cfg, zh: f"W1 [{cfg.d_model}×{cfg.d_ff}] + b1 [{cfg.d_ff}]"),
    StepKind(
        "ffn.act", True, ("FFN activation", "前馈网络激活"), ("act(H)",) * 2, _AXES_F,
        inputs=lambda p: [p.here("ffn.hidden")], check=_act,
        words={"ffn.act.gelu": ("GELU: x·Φ(x) with the error function",
                                "GELU：用误差函数计算 x·Φ(x)"),
               "ffn.act.gelu_tanh": ("GELU, tanh approximation: 0.5x(1 + tanh(√(2/π)(x + "
                                     "0.044715x³)))", "GELU：用双曲正切近似重新计算 x·Φ(x)"),
               "ffn.act.relu": ("ReLU: max(x, 0)", "ReLU：max(x, 0)")},
        recompute=_recompute_act),
    StepKind(
        "ffn.out", True, ("FFN output", "前馈网络输出"), ("act(H)·W2 + b2",) * 2, _AXES_C,
        inputs=lambda p: [p.here("ffn.act")], check=_out,
        words={"ffn.out": ("act·W2ᵀ + b2", "act·W2ᵀ + b2")},
        weights=lambda cfg, zh: f"W2 [{cfg.d_ff}×{cfg.d_model}] + b2 [{cfg.d_model}]"),
)
