"""How the Embeddings pages stack their parts."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


def column(*widgets: QWidget) -> QWidget:
    """Widgets stacked without margins; the ones that are not labels share the spare height."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        layout.addWidget(w, 0 if isinstance(w, QLabel) else 1)
    return box
