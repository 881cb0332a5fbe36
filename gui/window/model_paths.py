"""Where Save model proposes to write a model that has no file of ours yet."""
from __future__ import annotations

from pathlib import Path

# Files that stand for their folder when a model is opened by one of them (hf_gpt2/config.json).
FOLDER_FILES = ("config.json", "meta.pkl", "vocab.json", "merges.txt", "tokenizer.json",
                "model.safetensors", "pytorch_model.bin")


def proposed_model_path(origin: str | None, last_dir: str) -> str:
    """A path Save will accept: for a model imported from `origin`, beside that folder or file
    (never into it: a Hugging Face folder's model.safetensors is not ours, and Save refuses to
    replace it), else `last_dir`/model.safetensors; a name not taken yet in either case."""
    if origin:
        source = Path(origin)
        if source.is_dir():
            folder, stem = source.parent, source.name
        elif source.name in FOLDER_FILES:
            folder, stem = source.parent.parent, source.parent.name
        else:
            folder, stem = source.parent, source.stem  # out/ckpt.pt
        base = folder / f"{stem}-tuned.safetensors"
    else:
        base = Path(last_dir) / "model.safetensors"
    candidate, n = base, 2
    while candidate.exists():
        candidate = base.with_name(f"{base.stem}-{n}{base.suffix}")
        n += 1
    return str(candidate)
