"""Where the bundled resources live: the default corpus and the model trained on it.

Looked up relative to the source tree (a checkout or an editable install), and under
`TRANSFORMER_EXPLORER_RESOURCES` when set, so a packager can move the folder elsewhere.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "TRANSFORMER_EXPLORER_RESOURCES"


def resources_dir() -> Path:
    """The folder holding corpus/ and model/ (it may be missing in a broken install)."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "resources"


def default_corpus_path() -> Path:
    """The bilingual guide the default model was trained on."""
    return resources_dir() / "corpus" / "transformer_guide.txt"


def default_model_path() -> Path:
    """The model trained on the default corpus (may not exist yet in a fresh checkout)."""
    return resources_dir() / "model" / "default.safetensors"


def icon_path() -> Path | None:
    """The application icon if one is bundled."""
    for name in ("icon.png", "icon.svg"):
        path = resources_dir() / name
        if path.is_file():
            return path
    return None
