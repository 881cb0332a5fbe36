"""The app's one settings store (QSettings), so every panel reads and writes the same file.

Keys are grouped by who owns them: "ui/..." (language, layout), "paths/..." (last folder,
recent files), "training/..." (the form), "walkthrough/..." (precision, article mode).
"""
from __future__ import annotations

from typing import Any, TypeVar

from PySide6.QtCore import QSettings

ORGANIZATION = "TransformerExplorer"
APPLICATION = "TransformerExplorer"

T = TypeVar("T")


def settings() -> QSettings:
    """The store: named explicitly, so it is the same with or without a QApplication's names."""
    return QSettings(ORGANIZATION, APPLICATION)


def read(key: str, default: T) -> T:
    """The stored value as the type of `default` (QSettings hands back strings from INI files,
    and a one-item list as a bare string); `default` when absent or unreadable."""
    value = settings().value(key, None)
    if value is None:
        return default
    try:
        if isinstance(default, bool):
            return (value if isinstance(value, bool)
                    else str(value).lower() in ("1", "true", "yes")) # type: ignore[return-value]
        if isinstance(default, list):
            return ([value] if isinstance(value, str) else list(value))  # type: ignore[return-value]
        if isinstance(default, (int, float, str)):
            return type(default)(value)  # type: ignore[return-value]
    except (TypeError, ValueError):
        return default
    return value


def write(key: str, value: Any) -> None:
    """Store `value` under `key`."""
    settings().setValue(key, value)
