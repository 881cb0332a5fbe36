"""The state every panel shares: the model being inspected, its tokenizer, and the last trace.

Panels take the session in their constructor, subscribe to its signals in `__init__`, and only
read what the engine produced (napari's model/view split). All signals fire on the GUI thread.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.model import GPT
from engine.tokenizers import Tokenizer
from engine.trace import Trace


class Session(QObject):
    model_changed = Signal()  # model and/or tokenizer replaced: config and vocab may differ
    trace_changed = Signal()  # `trace` replaced (context edited, weights updated, ablation...)
    focus_changed = Signal(str)  # a step name the walkthrough moved to, e.g. blocks.2.attn.masked
    history_changed = Signal()  # training records appended or replaced

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.model: GPT | None = None  # the GUI's own copy, CPU, eval mode; read-only for views
        self.tokenizer: Tokenizer | None = None
        self.trace: Trace | None = None
        self.context_text: str = ""
        self.history: list[dict[str, Any]] = []  # StepRecord.to_dict() rows
        self.model_path: str | None = None  # where the model was loaded from / saved to
        self.corpus_path: str | None = None
        self.focus: str = ""

    # -- setters: the only places that emit -------------------------------------------------
    def set_model(self, model: GPT, tokenizer: Tokenizer, history: list[dict] | None = None) -> None:
        """Replace the inspected model (e.g. after loading, or a training snapshot)."""
        self.model = model.eval()
        self.tokenizer = tokenizer
        if history is not None:
            self.history = list(history)
            self.history_changed.emit()
        self.model_changed.emit()

    def set_trace(self, trace: Trace) -> None:
        self.trace = trace
        self.trace_changed.emit()

    def set_focus(self, step_name: str) -> None:
        if step_name != self.focus:
            self.focus = step_name
            self.focus_changed.emit(step_name)

    def append_history(self, rows: list[dict[str, Any]]) -> None:
        self.history.extend(rows)
        self.history_changed.emit()

    # -- derived, read-only -------------------------------------------------------------------
    def context_ids(self) -> np.ndarray:
        """Compact ids of the context text, cropped to the model's context length (the first T tokens)."""
        if self.tokenizer is None or self.model is None:
            return np.zeros(0, dtype=np.int64)
        ids = self.tokenizer.encode(self.context_text)
        return ids[: self.model.config.context_length]
