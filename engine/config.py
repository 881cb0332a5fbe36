"""Configuration dataclasses for the model and for training.

Defaults reproduce the worked example in the articles our users read (see shared/SEEDS.md):
batch 4 x context 16 x d_model 64, 4 heads of 16, FFN 64 -> 256 -> 64, 8 blocks.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from engine.wording import Said, say


class ConfigError(ValueError):
    """An impossible configuration value; the message names the field.

    `message` is a Said (engine.wording) wherever the engine refuses a setting: str(exc) is the
    English "field: problem", and `exc.said` says it in Chinese too, the field's name kept.
    """

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        self.said = say("config.field", field=field, problem=message) \
            if isinstance(message, Said) else None
        super().__init__(self.said or f"{field}: {message}")

    def __reduce__(self) -> tuple:  # survives pickling to the viewer process, Said and all
        return (type(self), (self.field, self.message))


POSITIONAL = ("sinusoidal", "learned")  # the choices the Training form offers
# Imported families (issue 19) add these; the Training form does not offer them yet.
POSITIONAL_ALL = POSITIONAL + ("rotary",)  # rotary: no table, q and k are turned
NORMS = ("post", "pre")
# sandwich: Gemma 2/3, a norm before and after each part; parallel: GPT-NeoX and Phi,
# x + attn(LN(x)) + FFN(LN'(x)), both parts reading the block's input side by side.
NORMS_ALL = NORMS + ("sandwich", "parallel")
ACTIVATIONS = ("relu", "gelu", "gelu_tanh")  # gelu_tanh: GPT-2's tanh approximation
ACTIVATIONS_ALL = ACTIVATIONS + ("silu",)
NORM_KINDS = ("layernorm", "rmsnorm")

# Sinusoidal tables are computed up to this length; learned tables are sized to context_length.
MAX_CONTEXT = 4096


@dataclass
class ModelConfig:
    vocab_size: int = 3771  # rows of the token table (compact vocabulary of the corpus)
    d_model: int = 64  # width of every token vector in the residual stream
    n_head: int = 4  # attention heads per block; head_size = d_model // n_head
    # Key/value heads (grouped-query attention: each K/V head serves n_head // n_kv_head query
    # heads, as in Llama 2 70B, Qwen, Mistral); None: as many as query heads, the articles' model.
    n_kv_head: int | None = None
    n_layer: int = 8  # number of transformer blocks stacked
    context_length: int = 16  # longest window the model sees (T)
    d_ff: int = 256  # hidden width of the feed-forward network (4 x d_model in the articles)
    dropout: float = 0.1  # on attention probabilities and residual branches during training
    positional: str = "sinusoidal"  # "sinusoidal" as in the paper, or "learned" as in GPT-2
    activation: str = "relu"  # FFN non-linearity: "relu" (paper), "gelu" (exact, as nanoGPT)
    # or "gelu_tanh" (the tanh approximation GPT-2 was trained with, HF's "gelu_new")
    norm: str = "post"  # "post": LN(x + f(x)) as in the paper; "pre": x + f(LN(x)) as in GPT-2
    tied: bool = False  # share the token table with the output projection
    bias: bool = True  # Linear and LayerNorm biases (nanoGPT's bias=False drops them)
    ln_eps: float = 1e-5  # LayerNorm epsilon; imported models keep theirs (HF layer_norm_epsilon)
    # Today's decoder families (issue 19: Llama, Qwen, Mistral, Gemma); the defaults are the
    # articles' model, so a saved model without these fields reads as before.
    norm_kind: str = "layernorm"  # "rmsnorm": x / √(mean(x²) + ε) · (norm_offset + γ)
    norm_offset: float = 0.0  # Gemma's RMSNorm multiplies by (1 + γ)
    head_dim: int | None = None  # None: d_model // n_head (Qwen3 and Gemma choose their own)
    rope_theta: float = 10000.0  # rotary base: θᵢ = base^(−2i/d)
    rotary_dim: int | None = None  # dims of each head that turn (None: all; GPT-NeoX: a part)
    rope_scaling: dict | None = None  # {"kind": "linear" | "llama3", "factor": ...}
    gated: bool = False  # FFN: down(act(x·Wg) ⊙ x·Wu) (SwiGLU, GeGLU) instead of act(x·W1)·W2
    qkv_bias: bool | None = None  # biases of Wq, Wk, Wv (None: as `bias`; Qwen2: only these)
    qk_norm: bool = False  # RMSNorm of each head's q and k before rotation (Qwen3, Gemma 3)
    sliding_window: int | None = None  # a query sees at most this many keys (itself included)
    sliding_layers: list | None = None  # per block: attends within the window (None: all)
    embed_scale: float = 1.0  # token vectors times this (Gemma: √d_model) before block 0
    query_scale: float | None = None  # scores times this (None: 1/√head_size; Gemma 2's own)
    attn_softcap: float | None = None  # scores become c·tanh(scores / c) (Gemma 2)
    final_softcap: float | None = None  # logits become c·tanh(logits / c) (Gemma 2)
    # Gemma 3: the sliding blocks turn q and k with their own rotary base (the full-attention
    # blocks keep rope_theta and its scaling); None: every block turns with rope_theta.
    rope_local_theta: float | None = None
    shared_norm: bool = False  # a parallel block with one norm feeding both parts (Phi)
    head_bias: bool = False  # the output projection adds a bias b_vocab (Phi)
    # The Hugging Face model_type an imported model was read as ("qwen2", "gemma2", ...), kept
    # so an export writes that family's folder back; None: a model this program built.
    family: str | None = None

    @property
    def head_size(self) -> int:
        return self.head_dim if self.head_dim else self.d_model // self.n_head

    @property
    def rotary_size(self) -> int:
        """Dims of each head that rotary positions turn (even)."""
        return self.rotary_dim if self.rotary_dim else self.head_size

    @property
    def attention_bias(self) -> bool:
        """Whether Wq, Wk and Wv have biases."""
        return self.bias if self.qkv_bias is None else bool(self.qkv_bias)

    @property
    def score_scale(self) -> float:
        """The factor on q·k."""
        return self.query_scale if self.query_scale else 1.0 / math.sqrt(self.head_size)

    def window_of(self, layer: int | None) -> int | None:
        """The sliding window of block `layer`'s attention, or None (the whole past)."""
        if self.sliding_window is None or layer is None:
            return None
        if self.sliding_layers is not None and not self.sliding_layers[layer]:
            return None
        return self.sliding_window

    def local_rope(self, layer: int | None) -> bool:
        """Whether block `layer` turns q and k with the local rotary base (Gemma 3's sliding
        blocks)."""
        if self.rope_local_theta is None or layer is None:
            return False
        return self.sliding_layers is None or bool(self.sliding_layers[layer])

    @property
    def kv_heads(self) -> int:
        """Key/value heads: n_kv_head, or n_head when unset."""
        return self.n_head if self.n_kv_head is None else self.n_kv_head

    def validate(self) -> "ModelConfig":
        """Raise ConfigError naming the first impossible field; return self for chaining."""
        for name in ("vocab_size", "d_model", "n_head", "n_layer", "context_length", "d_ff"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(name, say("config.positive_integer", value=value))
        if self.d_model % self.n_head and not self.head_dim:
            raise ConfigError("d_model", say("config.not_divisible", d_model=self.d_model,
                                              n_head=self.n_head))
        kv = self.n_kv_head
        if kv is not None and (not isinstance(kv, int) or isinstance(kv, bool) or kv <= 0
                               or self.n_head % kv):
            raise ConfigError("n_kv_head", say("config.kv_divisor", n_head=self.n_head, value=kv))
        if self.context_length > MAX_CONTEXT:
            raise ConfigError("context_length", say(
                "config.context_too_long", context_length=self.context_length, limit=MAX_CONTEXT))
        if not isinstance(self.bias, bool):
            raise ConfigError("bias", say("config.true_or_false", value=self.bias))
        if (isinstance(self.ln_eps, bool) or not isinstance(self.ln_eps, (int, float))
                or not 0.0 < self.ln_eps < 1.0):
            raise ConfigError("ln_eps", say("config.open_unit", value=self.ln_eps))
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError("dropout", say("config.dropout", value=self.dropout))
        if self.positional == "rotary" and self.rotary_size % 2:
            raise ConfigError("rotary_dim", say("config.even", value=self.rotary_size))
        if self.rope_local_theta is not None and not (
                isinstance(self.rope_local_theta, (int, float)) and self.rope_local_theta > 0):
            raise ConfigError("rope_local_theta", say("config.positive",
                                                      value=self.rope_local_theta))
        if self.sliding_layers is not None and len(self.sliding_layers) != self.n_layer:
            raise ConfigError("sliding_layers", say("config.one_per_block", n_layer=self.n_layer))
        for name, allowed in (
            ("positional", POSITIONAL_ALL),
            ("norm", NORMS_ALL),
            ("activation", ACTIVATIONS_ALL),
            ("norm_kind", NORM_KINDS),
        ):
            if getattr(self, name) not in allowed:
                raise ConfigError(name, say("config.one_of", allowed=allowed,
                                            value=getattr(self, name)))
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        return cls(**_known(cls, data)).validate()


@dataclass
class TrainConfig:
    batch_size: int = 4  # windows per optimizer step (B), over all ranks and micro-batches
    grad_accum: int = 1  # micro-batches whose gradients add up to one step (memory, not maths)
    steps: int = 2000  # optimizer steps in total
    lr: float = 1e-3  # peak learning rate after warm-up
    min_lr: float | None = None  # floor of the cosine decay; None: lr / 10, as in nanoGPT
    warmup_steps: int = 100  # linear warm-up from 0 to lr
    weight_decay: float = 0.1  # AdamW decay on matrices (not on biases, norms, tables)
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping
    eval_interval: int = 100  # steps between train/val evaluations
    eval_batches: int = 20  # batches averaged per evaluation
    val_fraction: float = 0.1  # tail of the corpus held out for validation
    seed: int = 1337
    device: str = "auto"
    amp: bool = True  # mixed precision where the device supports it (CUDA bf16/fp16)
    # bf16 autocast on the CPU too, fp32 master weights (with amp). Off by default: it changes
    # the numbers, and a CPU without native bf16 (engine.devices.cpu_has_bf16) emulates it.
    cpu_bf16: bool = False

    def __post_init__(self) -> None:
        # The one home of the lr/10 rule: the CLI, the window and the benchmarks all leave
        # min_lr unset unless the user chose it.
        if self.min_lr is None:
            self.min_lr = self.lr / 10

    def validate(self) -> "TrainConfig":
        """Raise ConfigError naming the first impossible field; return self for chaining."""
        for name in ("batch_size", "steps", "eval_interval", "eval_batches"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(name, say("config.positive_integer", value=value))
        if not isinstance(self.grad_accum, int) or self.grad_accum <= 0:
            raise ConfigError("grad_accum", say("config.positive_integer",
                                                value=self.grad_accum))
        if self.batch_size % self.grad_accum:
            raise ConfigError("grad_accum", say("config.accum_split", batch=self.batch_size,
                                                accum=self.grad_accum))
        if self.warmup_steps < 0:
            raise ConfigError("warmup_steps", say("config.not_negative"))
        if not self.lr > 0:
            raise ConfigError("lr", say("config.positive", value=self.lr))
        if self.min_lr < 0 or self.min_lr > self.lr:
            raise ConfigError("min_lr", say("config.min_lr", lr=self.lr))
        if not 0.0 < self.val_fraction < 0.5:
            raise ConfigError("val_fraction", say("config.val_fraction"))
        if self.grad_clip < 0:
            raise ConfigError("grad_clip", say("config.not_negative"))
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        return cls(**_known(cls, data)).validate()



def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """Keep only keys the dataclass knows, so older/newer checkpoints still load."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}
