"""Writing a model out as a Hugging Face folder that `transformers` loads: its own family's,
GPT-2, or Llama.

A model imported from a family's folder or GGUF file (ModelConfig.family: llama, mistral,
qwen2, qwen3, gemma, gemma2, gemma3_text, gpt_neox, phi) goes back out as that family: the
config.json of engine.storage.imports.family_config, the weights under the family's names and
layouts from the table the import read (engine.storage.imports.family_weights), and its own
tokenizer.json and tokenizer_config.json. Llama-shaped models this program built (RMSNorm,
rotary, a gated feed-forward, any K/V heads: engine.storage.imports.hf_llama) are written the
same way as LlamaForCausalLM. GPT-2-shaped models (pre-norm, learned positions, GELU exact or
tanh) become GPT2LMHeadModel: config.json, model.safetensors (HF's names, Conv1D weights as
(in, out)), and vocab.json + merges.txt when the model's tokenizer is a GPT-2-style BPE; a
bias-free model is written with zero biases, which computes the same thing. A model trained
with a tiktoken or character tokenizer is written without tokenizer files (a note says so),
since transformers has no tokenizer class that reads those.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import safetensors.torch
import torch

from engine.text.bpe import BpeBase
from engine.text.filetype import classify
from engine.text.fullvocab import FullTokenizer
from engine.model.decoder import GPT
from engine.text.tokenizers import Tokenizer
from engine.storage.imports.family_config import ExportError, as_family, family_config
from engine.storage.imports.family_weights import their_state
from engine.storage.imports.hf_llama import llama_mismatch
from engine.storage.imports.weights import BLOCK_NAMES, CONV1D, TOP_NAMES
from engine.text.tokenizer_json import TokenizerJsonBase

HF_ACTIVATION = {"gelu_tanh": "gelu_new", "gelu": "gelu"}


@dataclass
class Exported:
    folder: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. why no tokenizer files were written


def check_exportable(model: GPT) -> str:
    """The Hugging Face model_type the model is written as: its own family's, "llama" or
    "gpt2"; ExportError naming what that family's folder cannot hold."""
    cfg = model.config
    if cfg.family:  # an imported model goes back out as its own family
        family_config(cfg, cfg.family)
        return cfg.family
    if cfg.norm_kind == "rmsnorm" or cfg.positional == "rotary" or cfg.gated:
        wrong = llama_mismatch(cfg)
        if wrong:
            raise ExportError("this model can be written for Hugging Face only as Llama, and "
                              "it differs from Llama in " + ", ".join(wrong))
        family_config(as_family(cfg, "llama"), "llama")
        return "llama"
    wrong = [f"{name}={getattr(cfg, name)!r} (GPT-2: {want})" for name, ok, want in (
        ("norm", cfg.norm == "pre", "'pre'"),
        ("positional", cfg.positional == "learned", "'learned'"),
        ("activation", cfg.activation in HF_ACTIVATION, "'gelu' or 'gelu_tanh'"),
        ("n_kv_head", cfg.kv_heads == cfg.n_head, "as many as n_head"),
        ("head_bias", not cfg.head_bias, "False"),
    ) if not ok]
    if wrong:
        raise ExportError("only GPT-2- or Llama-shaped models can be written for Hugging Face; "
                          "as GPT-2: " + ", ".join(wrong))
    return "gpt2"


FILES = ("config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer.json",
         "tokenizer_config.json")
# Files of an earlier model that transformers would read before (or beside) ours; removed by
# --overwrite so the folder never pairs new weights with an old tokenizer or old shards.
STALE = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
         "generation_config.json", "pytorch_model.bin", "model.safetensors.index.json",
         "pytorch_model.bin.index.json", "vocab.json", "merges.txt")


def _check_folder(folder: Path, overwrite: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"'{folder}' is a file; choose a folder to write the model into")
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    if not overwrite:
        raise ExportError(f"'{folder}' is not empty; choose an empty folder, or --overwrite to "
                          "replace its model files")
    for name in FILES:  # --overwrite replaces these files only, and never one of our models
        target = folder / name
        if target.is_dir() or (name == "model.safetensors" and classify(target) == "checkpoint"):
            raise ExportError(f"'{target}' is a Transformer Explorer model (or a folder); "
                              "writing there would destroy it, choose another folder")


def _write(path: Path, data: bytes | None = None, tensors: dict | None = None) -> None:
    """Write beside, then rename: a failed export never leaves half a file under the name."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if tensors is not None:
            safetensors.torch.save_file(tensors, str(tmp), metadata={"format": "pt"})
        else:
            tmp.write_bytes(data or b"")
        os.replace(tmp, path)
    except OSError as e:
        raise ExportError(f"could not write '{path}' ({e.strerror or e})") from None
    finally:
        tmp.unlink(missing_ok=True)


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
    """Write `model` as a Hugging Face folder of its own family, GPT-2 or Llama; ExportError
    (one line) if it cannot be."""
    kind = check_exportable(model)
    folder = Path(folder)
    _check_folder(folder, overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    done = Exported(folder)
    if kind == "gpt2":
        _write_gpt2(model, tokenizer, folder, done)
    else:
        _write_family(model, kind, tokenizer, folder, done)
    if overwrite:
        for name in STALE:
            if name not in done.files and (folder / name).is_file():
                (folder / name).unlink()
    return done


def _write_family(model: GPT, family: str, tokenizer: Tokenizer | None, folder: Path,
                  done: Exported) -> None:
    base = tokenizer.base if isinstance(tokenizer, FullTokenizer) else None
    own = base if isinstance(base, TokenizerJsonBase) else None
    cfg = as_family(model.config, family)
    config = family_config(cfg, family, bos=own.bos_id if own else None,
                           eos=own.eos_id if own else None)
    _write(folder / "model.safetensors", tensors=their_state(cfg, model.state_dict()))
    _write(folder / "config.json", (json.dumps(config, indent=2) + "\n").encode("utf-8"))
    done.files += ["config.json", "model.safetensors"]
    if own is not None:
        _write(folder / "tokenizer.json", own.text.encode("utf-8"))
        settings = own.settings or json.dumps({  # the model's own, or the least transformers reads
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": model.config.context_length}, indent=2) + "\n"
        _write(folder / "tokenizer_config.json", settings.encode("utf-8"))
        done.files += ["tokenizer.json", "tokenizer_config.json"]
    elif tokenizer is not None:
        done.notes.append(
            f"no tokenizer files written: {tokenizer.name!r} is not a tokenizer.json tokenizer "
            "(only a model read with its tokenizer.json gets one); the weights alone are written")


def _write_gpt2(model: GPT, tokenizer: Tokenizer | None, folder: Path, done: Exported) -> None:
    _write(folder / "model.safetensors", tensors=hf_state(model))
    config = json.dumps(hf_config(model, tokenizer), indent=2) + "\n"
    _write(folder / "config.json", config.encode("utf-8"))
    done.files += ["config.json", "model.safetensors"]
    base = tokenizer.base if isinstance(tokenizer, FullTokenizer) else None
    if isinstance(base, BpeBase):
        vocab = json.dumps(base.vocab_json, ensure_ascii=False)
        _write(folder / "vocab.json", vocab.encode("utf-8"))
        merges = "#version: 0.2\n" + "\n".join(base.merges) + "\n"
        _write(folder / "merges.txt", merges.encode("utf-8"))
        done.files += ["vocab.json", "merges.txt"]
    elif tokenizer is not None:
        done.notes.append(
            f"no tokenizer files written: {tokenizer.name!r} is not a GPT-2-style BPE of the "
            "model's own ids (vocab.json/merges.txt); the weights alone are written")
