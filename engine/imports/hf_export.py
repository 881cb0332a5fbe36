"""Writing a model out as a Hugging Face GPT-2 folder that `transformers` loads.

config.json, model.safetensors (HF's names, Conv1D weights as (in, out)), and vocab.json +
merges.txt when the model's tokenizer is a GPT-2-style BPE. Only GPT-2-shaped models can be
written: pre-norm, learned positions, GELU (exact or tanh). A bias-free model is written with
zero biases, which computes the same thing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import safetensors.torch
import torch

from ..bpe import BpeBase
from ..fullvocab import FullTokenizer
from ..model import GPT
from ..tokenizers import Tokenizer
from .weights import BLOCK_NAMES, CONV1D, TOP_NAMES

HF_ACTIVATION = {"gelu_tanh": "gelu_new", "gelu": "gelu"}


class ExportError(ValueError):
    """The model cannot be written as GPT-2, or the folder is not free; one line."""


@dataclass
class Exported:
    folder: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. why no tokenizer files were written


def check_exportable(model: GPT) -> None:
    """ExportError naming what makes the model's configuration not GPT-2's."""
    cfg = model.config
    wrong = [f"{name}={getattr(cfg, name)!r} (GPT-2: {want})" for name, ok, want in (
        ("norm", cfg.norm == "pre", "'pre'"),
        ("positional", cfg.positional == "learned", "'learned'"),
        ("activation", cfg.activation in HF_ACTIVATION, "'gelu' or 'gelu_tanh'"),
    ) if not ok]
    if wrong:
        raise ExportError("only GPT-2-shaped models can be written for Hugging Face: "
                          + ", ".join(wrong))


def _check_folder(folder: Path, overwrite: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"'{folder}' is a file; choose a folder to write the model into")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise ExportError(f"'{folder}' is not empty; choose an empty folder, or --overwrite to "
                          "replace its model files")


def hf_state(model: GPT) -> dict[str, torch.Tensor]:
    """The model's weights under GPT-2's names (Conv1D: transposed), biases zero if absent."""
    ours = model.state_dict()
    back = {v: k for k, v in TOP_NAMES.items()}
    state: dict[str, torch.Tensor] = {}
    for key, ours_key in back.items():
        if key in ours:
            state[f"transformer.{ours_key}"] = ours[key]
    C = model.config.d_model
    for i in range(model.config.n_layer):
        for hf_suffix, our_suffix in BLOCK_NAMES.items():
            t = ours.get(f"blocks.{i}.{our_suffix}")
            if t is None:  # bias=False: a zero bias computes the same
                weight = ours[f"blocks.{i}.{our_suffix[:-len('bias')]}weight"]
                t = torch.zeros(weight.shape[0] if weight.dim() == 2 else C)
            elif hf_suffix in CONV1D:
                t = t.t()
            state[f"transformer.h.{i}.{hf_suffix}"] = t
    if "norm_f.bias" not in ours:
        state["transformer.ln_f.bias"] = torch.zeros(C)
    if not model.config.tied:
        state["lm_head.weight"] = ours["lm_head.weight"]
    return {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in state.items()}


def hf_config(model: GPT, tokenizer: Tokenizer | None = None) -> dict:
    """GPT-2's config.json of the model."""
    cfg = model.config
    out = {
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
        "vocab_size": cfg.vocab_size, "n_positions": cfg.context_length, "n_embd": cfg.d_model,
        "n_layer": cfg.n_layer, "n_head": cfg.n_head, "n_inner": cfg.d_ff,
        "activation_function": HF_ACTIVATION[cfg.activation],
        "layer_norm_epsilon": cfg.ln_eps, "resid_pdrop": cfg.dropout,
        "embd_pdrop": cfg.dropout, "attn_pdrop": cfg.dropout,
        "tie_word_embeddings": cfg.tied, "scale_attn_weights": True,
    }
    if isinstance(tokenizer, FullTokenizer) and isinstance(tokenizer.base, BpeBase):
        eos = tokenizer.base.vocab_json.get("<|endoftext|>")
        if eos is not None:
            out["bos_token_id"] = out["eos_token_id"] = eos
    return out


def export_hf(
    model: GPT, tokenizer: Tokenizer | None, folder: str | Path, *, overwrite: bool = False
) -> Exported:
    """Write `model` as a Hugging Face GPT-2 folder; ExportError (one line) if it cannot be."""
    check_exportable(model)
    folder = Path(folder)
    _check_folder(folder, overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    done = Exported(folder)
    (folder / "config.json").write_text(json.dumps(hf_config(model, tokenizer), indent=2) + "\n",
                                        encoding="utf-8")
    safetensors.torch.save_file(hf_state(model), str(folder / "model.safetensors"),
                                metadata={"format": "pt"})
    done.files += ["config.json", "model.safetensors"]
    base = tokenizer.base if isinstance(tokenizer, FullTokenizer) else None
    if isinstance(base, BpeBase):
        (folder / "vocab.json").write_text(json.dumps(base.vocab_json, ensure_ascii=False),
                                           encoding="utf-8")
        (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(base.merges) + "\n",
                                           encoding="utf-8")
        done.files += ["vocab.json", "merges.txt"]
    elif tokenizer is not None:
        done.notes.append(
            f"no tokenizer files written: {tokenizer.name!r} is not a GPT-2-style BPE of the "
            "model's own ids (vocab.json/merges.txt); the weights alone are written")
    return done
