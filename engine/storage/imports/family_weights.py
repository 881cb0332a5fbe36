"""The weights of a family's Hugging Face checkpoint, as one table read both ways.

`links(cfg)` lists, for a model of a family (cfg.family), each of our parameters with the
Hugging Face tensors it is made of, their shapes, and how they join: the same tensor, rows
stacked (Wq | Wk | Wv from q_proj, k_proj, v_proj), or GPT-NeoX's query_key_value, fused head
by head. Importing reads the table forwards (`our_state`), exporting backwards
(`their_state`), and the names and shapes a checkpoint must hold (`expected_weights`, checked
against safetensors headers before any data is read) come from the same rows. Gemma's (1 + w)
norms need nothing here: our norm adds the 1 (ModelConfig.norm_offset), so w is stored as
transformers stores it. GGUF files are translated to the same names (engine.storage.imports.gguf).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import safetensors
import torch

from engine.config import ModelConfig
from engine.storage.imports.families import Architecture, model_config
from engine.storage.imports.hf_files import FolderError

# Buffers some checkpoints carry that are rebuilt, not read.
IGNORED = ("rotary_emb.inv_freq", "attention.bias", "attention.masked_bias")
# Older names of the same tensor (GPT-NeoX's head was embed_out before transformers 5).
ALIASES = {"embed_out.weight": "lm_head.weight"}


@dataclass(frozen=True)
class Link:
    """One of our parameters and the Hugging Face tensors it is made of."""

    ours: str
    theirs: tuple[tuple[str, tuple[int, ...]], ...]  # (name, shape), in the order they join
    join: str = "same"  # "same"; "rows": stacked by rows; "heads": GPT-NeoX's fused q, k, v


def _one(ours: str, theirs: str, shape: tuple[int, ...]) -> Link:
    return Link(ours, ((theirs, shape),))


def _llama_like(cfg: ModelConfig) -> list[Link]:
    C, hd, F, V = cfg.d_model, cfg.head_size, cfg.d_ff, cfg.vocab_size
    q, kv = cfg.n_head * hd, cfg.kv_heads * hd
    out = [_one("embed.wte.weight", "model.embed_tokens.weight", (V, C)),
           _one("norm_f.weight", "model.norm.weight", (C,))]
    for i in range(cfg.n_layer):
        p, o = f"model.layers.{i}.", f"blocks.{i}."
        a = p + "self_attn."
        kinds = ("weight", "bias") if cfg.attention_bias else ("weight",)
        for n in kinds:
            shapes = ((q, C), (kv, C), (kv, C)) if n == "weight" else ((q,), (kv,), (kv,))
            out.append(Link(o + f"attn.qkv.{n}", tuple(
                (a + f"{x}_proj.{n}", shape) for x, shape in zip("qkv", shapes)), "rows"))
        out.append(_one(o + "attn.proj.weight", a + "o_proj.weight", (C, q)))
        if cfg.qk_norm:
            out += [_one(o + "attn.qnorm.weight", a + "q_norm.weight", (hd,)),
                    _one(o + "attn.knorm.weight", a + "k_norm.weight", (hd,))]
        ffn = (("gate", "gate_proj", (F, C)), ("up", "up_proj", (F, C)),
               ("down", "down_proj", (C, F)))
        out += [_one(o + f"ffn.{ours}.weight", p + f"mlp.{theirs}.weight", shape)
                for ours, theirs, shape in ffn]
        if cfg.bias:  # on the attention output and the whole feed-forward, or on none
            out.append(_one(o + "attn.proj.bias", a + "o_proj.bias", (C,)))
            out += [_one(o + f"ffn.{ours}.bias", p + f"mlp.{theirs}.bias", shape[:1])
                    for ours, theirs, shape in ffn]
        norms = {"norm1": "input_layernorm", "norm2": "post_attention_layernorm"}
        if cfg.norm == "sandwich":  # Gemma 2/3: a norm before and after each part
            norms = {"norm1": "input_layernorm", "norm_pa": "post_attention_layernorm",
                     "norm2": "pre_feedforward_layernorm",
                     "norm_pf": "post_feedforward_layernorm"}
        out += [_one(o + f"{ours}.weight", p + f"{theirs}.weight", (C,))
                for ours, theirs in norms.items()]
    return out


def _layernorm(ours: str, theirs: str, C: int) -> list[Link]:
    return [_one(f"{ours}.{n}", f"{theirs}.{n}", (C,)) for n in ("weight", "bias")]


def _dense(ours: str, theirs: str, rows: int, cols: int) -> list[Link]:
    return [_one(ours + ".weight", theirs + ".weight", (rows, cols)),
            _one(ours + ".bias", theirs + ".bias", (rows,))]


def _neox(cfg: ModelConfig) -> list[Link]:
    C, F = cfg.d_model, cfg.d_ff
    out = [_one("embed.wte.weight", "gpt_neox.embed_in.weight", (cfg.vocab_size, C)),
           *_layernorm("norm_f", "gpt_neox.final_layer_norm", C)]
    for i in range(cfg.n_layer):
        p, o = f"gpt_neox.layers.{i}.", f"blocks.{i}."
        out += [Link(o + "attn.qkv.weight", ((p + "attention.query_key_value.weight",
                                              (3 * C, C)),), "heads"),
                Link(o + "attn.qkv.bias", ((p + "attention.query_key_value.bias", (3 * C,)),),
                     "heads"),
                *_dense(o + "attn.proj", p + "attention.dense", C, C),
                *_dense(o + "ffn.fc1", p + "mlp.dense_h_to_4h", F, C),
                *_dense(o + "ffn.fc2", p + "mlp.dense_4h_to_h", C, F),
                *_layernorm(o + "norm1", p + "input_layernorm", C),
                *_layernorm(o + "norm2", p + "post_attention_layernorm", C)]
    return out


def _phi(cfg: ModelConfig) -> list[Link]:
    C, F, hd = cfg.d_model, cfg.d_ff, cfg.head_size
    q, kv = cfg.n_head * hd, cfg.kv_heads * hd
    out = [_one("embed.wte.weight", "model.embed_tokens.weight", (cfg.vocab_size, C)),
           *_layernorm("norm_f", "model.final_layernorm", C),
           _one("lm_head.bias", "lm_head.bias", (cfg.vocab_size,))]  # its own, even if tied
    for i in range(cfg.n_layer):
        p, o = f"model.layers.{i}.", f"blocks.{i}."
        a = p + "self_attn."
        out += [Link(o + "attn.qkv.weight", ((a + "q_proj.weight", (q, C)),
                                             (a + "k_proj.weight", (kv, C)),
                                             (a + "v_proj.weight", (kv, C))), "rows"),
                Link(o + "attn.qkv.bias", ((a + "q_proj.bias", (q,)), (a + "k_proj.bias", (kv,)),
                                           (a + "v_proj.bias", (kv,))), "rows"),
                *_dense(o + "attn.proj", a + "dense", C, q),
                *_dense(o + "ffn.fc1", p + "mlp.fc1", F, C),
                *_dense(o + "ffn.fc2", p + "mlp.fc2", C, F),
                *_layernorm(o + "norm1", p + "input_layernorm", C)]
    return out


def links(cfg: ModelConfig) -> list[Link]:
    """Our parameters of a model of family `cfg.family`, each with its Hugging Face tensors.
    A tied model has no row for the head's matrix: it is the token table."""
    table = {"gpt_neox": _neox, "phi": _phi}.get(cfg.family or "", _llama_like)(cfg)
    if not cfg.tied:
        table.append(_one("lm_head.weight", "lm_head.weight", (cfg.vocab_size, cfg.d_model)))
    return table


def _neox_heads(fused: torch.Tensor, n_head: int, back: bool = False) -> torch.Tensor:
    """GPT-NeoX's query_key_value rows (or bias) <-> our Wq | Wk | Wv. Hugging Face views its
    output as (…, nh, 3·hs) and chunks the last axis in three, so its rows run head by head,
    each head's q, k and v rows together; ours run all q, then all k, then all v."""
    rows, rest = fused.shape[0], fused.shape[1:]
    hs = rows // (3 * n_head)
    if back:  # ours (3, nh, hs, …) -> theirs (nh, 3, hs, …), rows flattened again
        return fused.reshape(3, n_head, hs, *rest).transpose(0, 1).reshape(rows, *rest)
    # theirs (nh, 3, hs, …) -> ours (3, nh, hs, …), rows flattened again: (3·C, …)
    return fused.reshape(n_head, 3, hs, *rest).transpose(0, 1).reshape(rows, *rest)


def our_state(cfg: ModelConfig, hf: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Hugging Face's tensors (names and shapes already checked) -> our parameters."""
    out = {}
    for link in links(cfg):
        parts = [hf[name] for name, _ in link.theirs]
        if link.join == "rows":
            out[link.ours] = torch.cat(parts)  # (q + 2·kv rows, …): Wq | Wk | Wv
        elif link.join == "heads":
            out[link.ours] = _neox_heads(parts[0], cfg.n_head)  # (3·C, …)
        else:
            out[link.ours] = parts[0]  # the same shape
    return out


def their_state(cfg: ModelConfig, ours: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our parameters -> Hugging Face's tensors of family `cfg.family` (float32, contiguous)."""
    out = {}
    for link in links(cfg):
        t = ours[link.ours].detach().to("cpu", torch.float32)  # our shape
        if link.join == "rows":  # Wq | Wk | Wv -> (q rows, …), (kv rows, …), (kv rows, …)
            parts = t.split([shape[0] for _, shape in link.theirs])
        elif link.join == "heads":
            parts = (_neox_heads(t, cfg.n_head, back=True),)  # (3·C, …), head by head
        else:
            parts = (t,)
        for (name, _), part in zip(link.theirs, parts):
            out[name] = part.contiguous()
    return out


def expected_weights(arch: Architecture, where: str = "") -> dict[str, tuple[int, ...]]:
    """Every tensor name a checkpoint of `arch` holds, with its shape."""
    return {name: shape for link in links(model_config(arch, where or arch.family))
            for name, shape in link.theirs}


def check_weights(arch: Architecture, shapes: dict[str, tuple[int, ...]], where: str) -> None:
    """FolderError naming the first tensor missing, unexpected or of the wrong shape."""
    want = expected_weights(arch, where)
    shapes = {ALIASES.get(k, k): v for k, v in shapes.items()}
    if arch.tied:  # a tied model may still carry a copy of its head
        shapes = {k: v for k, v in shapes.items() if k != "lm_head.weight"}
    for name, shape in want.items():
        if name not in shapes:
            raise FolderError(f"'{where}' has no tensor {name!r}, which a {arch.family} model "
                              "of this config needs")
        if tuple(shapes[name]) != shape:
            raise FolderError(f"'{where}': tensor {name!r} is {list(shapes[name])}, the config "
                              f"needs {list(shape)}")
    extra = [k for k in shapes if k not in want and not k.endswith(IGNORED)]
    if extra:
        raise FolderError(f"'{where}' has a tensor this {arch.family} config does not explain "
                          f"({extra[0]!r})")


def read_safetensors(files: list[Path], arch: Architecture, where: str) -> dict[str, torch.Tensor]:
    """The float32 tensors of `files`, their names and shapes checked against `arch` from the
    headers before any data is read."""
    handles = []
    shapes: dict[str, tuple[int, ...]] = {}
    owner: dict[str, int] = {}
    stored: dict[str, str] = {}  # our name -> the name in the file
    try:
        for n, path in enumerate(files):
            f = safetensors.safe_open(str(path), framework="pt", device="cpu")
            handles.append(f)
            for key in f.keys():
                name = ALIASES.get(key, key)
                if name in owner:
                    raise FolderError(f"'{where}': tensor {key!r} is in two shards")
                shapes[name] = tuple(f.get_slice(key).get_shape())
                owner[name] = n
                stored[name] = key
        check_weights(arch, shapes, where)
        want = expected_weights(arch, where)
        return {k: handles[owner[k]].get_tensor(stored[k]).to(torch.float32) for k in want}
    except (safetensors.SafetensorError, OSError, RuntimeError, ValueError) as e:
        if isinstance(e, FolderError):
            raise
        raise FolderError(f"'{where}': the weights could not be read "
                          f"({' '.join(str(e).split())[:160]})") from None
