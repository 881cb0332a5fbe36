"""The models already on this computer, for File → Open model: found in seconds, never by
reading weights.

Three stores are looked in:
- the Hugging Face hub cache (`models--org--name/snapshots/<hash>/config.json`, and any
  .gguf file there);
- Ollama's store (`~/.ollama/models`, or $OLLAMA_MODELS): each manifest
  `manifests/<registry>/<namespace>/<model>/<tag>` names its GGUF blob by digest, as the layer
  of media type `application/vnd.ollama.image.model`;
- LM Studio's models folder (`~/.lmstudio/models`, or the older `~/.cache/lm-studio/models`):
  `<publisher>/<repo>/<file>.gguf`.
A config.json gives the family and, through `Architecture`, the size; a GGUF file's header
(checked, its tensor data never read) gives family, parameters and quantization types.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from engine.storage.imports.families import ArchitectureError, architecture_from_config
from engine.storage.imports.gguf import FAMILY_OF
from engine.storage.imports.gguf_header import GgufError, check_header
from engine.storage.imports.hf_files import FolderError, read_config_json
from engine.text.bpe import hf_cache_dirs

OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
_DIGEST = re.compile(r"^sha256[:-]([0-9a-f]{64})$")
MAX_MANIFEST_BYTES = 1 << 20


@dataclass(frozen=True)
class LocalModel:
    """One model found on this computer."""

    name: str  # "Qwen/Qwen2.5-0.5B", "ollama: qwen2.5:0.5b", "lmstudio: org/repo/file.gguf"
    path: Path  # what open_model is given: a folder or a .gguf file
    store: str  # "huggingface", "ollama", "lmstudio"
    family: str  # "qwen2", ... or the unsupported type as the files name it
    parameters: int | None
    quantization: str  # "BF16", "Q4_K (Q6_K, F32)", "float32", ...
    supported: bool
    note: str = ""  # why it cannot be opened, when it cannot


def _ollama_root() -> Path:
    env = os.environ.get("OLLAMA_MODELS")
    return Path(env) if env else Path.home() / ".ollama" / "models"


def _lmstudio_roots() -> list[Path]:
    return [Path.home() / ".lmstudio" / "models", Path.home() / ".cache" / "lm-studio" / "models"]


def describe_gguf(path: Path, name: str, store: str) -> LocalModel:
    """A GGUF file from its checked header alone."""
    try:
        header = check_header(path)
    except GgufError as e:
        return LocalModel(name, path, store, "?", None, "?", False, str(e))
    arch = str(header.values.get("general.architecture", "?"))
    family = FAMILY_OF.get(arch, arch)
    by_bytes = sorted(header.quantization().items(), key=lambda kv: -kv[1])
    quant = by_bytes[0][0] if by_bytes else "?"
    if len(by_bytes) > 1:
        quant += f" ({', '.join(k for k, _ in by_bytes[1:])})"
    supported = arch in FAMILY_OF
    note = "" if supported else f"GGUF architecture {arch!r} is not opened"
    return LocalModel(name, path, store, family, header.parameters(), quant, supported, note)


def describe_folder(folder: Path, name: str, store: str = "huggingface") -> LocalModel:
    """A Hugging Face folder from its config.json alone."""
    try:
        hf = read_config_json(folder)
    except FolderError as e:
        return LocalModel(name, folder, store, "?", None, "?", False, str(e))
    family = str(hf.get("model_type", "?"))
    dtype = str(hf.get("dtype") or hf.get("torch_dtype") or "float32")
    quant = str((hf.get("quantization_config") or {}).get("quant_method", dtype)) \
        if isinstance(hf.get("quantization_config"), dict) else dtype
    if family == "gpt2":
        n = hf.get("n_embd", 768), hf.get("n_layer", 12), hf.get("vocab_size", 50257)
        params = 12 * n[0] * n[0] * n[1] + n[0] * n[2] if all(isinstance(x, int) for x in n) \
            else None
        return LocalModel(name, folder, store, family, params, quant, True)
    try:
        arch = architecture_from_config(hf, name)
        return LocalModel(name, folder, store, family, arch.parameters(), quant, True)
    except ArchitectureError as e:
        return LocalModel(name, folder, store, family, None, quant, False, str(e))


def _huggingface(cache: Path) -> Iterator[LocalModel]:
    if not cache.is_dir():
        return
    for repo in sorted(cache.glob("models--*")):
        snapshots = repo / "snapshots"
        if not snapshots.is_dir():
            continue
        name = repo.name[len("models--"):].replace("--", "/")
        snaps = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        for snap in snaps[:1]:  # the newest snapshot
            if (snap / "config.json").is_file():
                yield describe_folder(snap, name)
            for gguf in sorted(snap.glob("*.gguf")):
                yield describe_gguf(gguf, f"{name}/{gguf.name}", "huggingface")


def _ollama(root: Path) -> Iterator[LocalModel]:
    manifests = root / "manifests"
    if not manifests.is_dir():
        return
    for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()):
        rel = manifest.relative_to(manifests).parts  # registry, namespace, model, tag
        if len(rel) < 3:
            continue
        model, tag = rel[-2], rel[-1]
        ns = rel[-3] if len(rel) >= 4 else ""
        name = f"ollama: {model if ns in ('library', '') else ns + '/' + model}:{tag}"
        try:
            if manifest.stat().st_size > MAX_MANIFEST_BYTES:
                continue
            layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers") or []
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            continue
        for layer in layers:
            if not isinstance(layer, dict) or layer.get("mediaType") != OLLAMA_MODEL_LAYER:
                continue
            m = _DIGEST.match(str(layer.get("digest", "")))
            blob = root / "blobs" / f"sha256-{m.group(1)}" if m else None
            if blob is not None and blob.is_file():
                yield describe_gguf(blob, name, "ollama")


def _lmstudio(root: Path) -> Iterator[LocalModel]:
    if not root.is_dir():
        return
    for gguf in sorted(root.glob("*/*/*.gguf")):
        if gguf.name.startswith("mmproj"):  # a vision projector, not a model
            continue
        rel = gguf.relative_to(root)
        yield describe_gguf(gguf, f"lmstudio: {rel.as_posix()}", "lmstudio")


def store_folders(hf_caches: list[Path] | None = None, ollama: Path | None = None,
                  lmstudio: list[Path] | None = None) -> list[tuple[str, Path]]:
    """(store, folder) for every folder looked in: the defaults (from the environment, as each
    program resolves them), or the folders given."""
    return ([("huggingface", c) for c in (hf_caches if hf_caches is not None
                                          else hf_cache_dirs())]
            + [("ollama", ollama if ollama is not None else _ollama_root())]
            + [("lmstudio", r) for r in (lmstudio if lmstudio is not None
                                         else _lmstudio_roots())])


_LISTERS = {"huggingface": _huggingface, "ollama": _ollama, "lmstudio": _lmstudio}


def find_local_models(hf_caches: list[Path] | None = None, ollama: Path | None = None,
                      lmstudio: list[Path] | None = None) -> list[LocalModel]:
    """Every model in the three stores (the defaults, or the folders given), supported ones
    first; a store that is absent or unreadable is simply empty."""
    found: list[LocalModel] = []
    for store, folder in store_folders(hf_caches, ollama, lmstudio):
        found += _LISTERS[store](folder)
    return sorted(found, key=lambda m: (not m.supported, m.store, m.name))
