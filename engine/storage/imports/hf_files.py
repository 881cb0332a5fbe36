"""The files of a Hugging Face model folder: config.json, and its safetensors (one file or
shards named by model.safetensors.index.json), read without trusting what they say.

An index entry must name a file inside the folder: `../` and absolute paths are refused, not
quietly renamed. Nothing is read before it is checked; nothing runs code.
"""
from __future__ import annotations

import json
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

MAX_CONFIG_BYTES = 4 << 20  # a config.json is a few kilobytes
MAX_INDEX_BYTES = 64 << 20
INDEX = "model.safetensors.index.json"
SINGLE = "model.safetensors"


class FolderError(ValueError):
    """A model folder whose files cannot be used; one line naming the file."""


def read_json(path: Path, limit: int) -> Any:
    """A JSON file of at most `limit` bytes; FolderError (one line) otherwise."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise FolderError(f"'{path.name}' is {size:,} bytes; a file of this kind has at "
                              f"most {limit:,}")
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        if isinstance(e, FolderError):
            raise
        raise FolderError(f"'{path.name}' could not be read as JSON "
                          f"({' '.join(str(e).split())[:160]})") from None


def read_config_json(folder: Path) -> dict[str, Any]:
    """config.json of a model folder, as a dict."""
    data = read_json(folder / "config.json", MAX_CONFIG_BYTES)
    if not isinstance(data, dict):
        raise FolderError(f"'{folder.name}/config.json' is not a model configuration")
    return data


def _inside(folder: Path, name: Any) -> Path:
    """The shard `name` as a path inside `folder`; FolderError if it points anywhere else."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise FolderError(f"'{INDEX}' names a shard {name!r} that is not a file name")
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if PureWindowsPath(name).drive or name.startswith(("/", "\\")) or ".." in parts:
        raise FolderError(f"'{INDEX}' names a shard outside the model's folder ({name!r}); "
                          "only files inside it are read")
    path = folder.joinpath(*parts)
    try:
        if not path.resolve().is_relative_to(folder.resolve()):  # a link leading out
            raise FolderError(f"'{INDEX}' names a shard that leads outside the model's folder "
                              f"({name!r})")
    except OSError as e:
        raise FolderError(f"'{INDEX}': shard {name!r} cannot be reached ({e})") from None
    return path


def safetensor_files(folder: Path) -> list[Path]:
    """The safetensors holding a folder's weights: model.safetensors, or the shards its index
    names (each once, in order); FolderError if none or if the index is not to be trusted."""
    index = folder / INDEX
    if (folder / SINGLE).is_file():
        return [folder / SINGLE]
    if not index.is_file():
        raise FolderError(f"'{folder.name}' has config.json but no weights ({SINGLE} or "
                          f"{INDEX})")
    data = read_json(index, MAX_INDEX_BYTES)
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise FolderError(f"'{INDEX}' has no weight_map naming the shards")
    files = [_inside(folder, n) for n in dict.fromkeys(weight_map.values())]
    missing = [p.name for p in files if not p.is_file()]
    if missing:
        raise FolderError(f"'{INDEX}' names {missing[0]!r}, which is not in the folder")
    return files
