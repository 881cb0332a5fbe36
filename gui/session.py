"""The state every panel shares: the model being inspected, its tokenizer, and the last trace.

Panels take the session in their constructor, subscribe to its signals in `__init__`, and only
read what the engine produced (napari's model/view split). All signals fire on the GUI thread.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.model.decoder import GPT
from engine.text.tokenizers import Tokenizer
from engine.model.trace import Trace


class Session(QObject):
    model_changed = Signal()  # model and/or tokenizer replaced: config and vocab may differ
    trace_changed = Signal()  # `trace` replaced (context edited, weights updated, ablation...)
    focus_changed = Signal(str)  # a step name the walkthrough moved to, e.g. blocks.2.attn.masked
    history_changed = Signal()  # training records appended or replaced
    # Added for the application shell:
    weights_changed = Signal()  # same config and vocab, new weights (training snapshot)
    context_changed = Signal(str)  # the context box text was edited
    corpus_changed = Signal()  # the training text (corpus_path / corpus) was replaced
    training_changed = Signal(bool)  # training started (True) or ended (False)
    snapshots_changed = Signal()  # the SnapshotStore was replaced or holds new snapshots
    document_changed = Signal()  # model_path, train_config or dirty changed (title, Save)
    language_changed = Signal(str)  # "en" or "zh": every view re-translates

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.model: GPT | None = None  # the GUI's own copy, CPU, eval mode; read-only for views
        self.tokenizer: Tokenizer | None = None
        self.trace: Trace | None = None
        self.context_text: str = ""
        self.history: list[dict[str, Any]] = []  # StepRecord.to_dict() rows
        self.model_path: str | None = None  # where the model was loaded from / saved to
        # The file or folder the shown model was opened from, also when it is not its document
        # (an imported GPT-2 folder is never saved over): the window's title names it.
        self.model_origin: str | None = None
        self.corpus_path: str | None = None
        self.focus: str = ""
        self.corpus = None  # engine.text.corpus.Corpus of corpus_path once tokenized, else None
        self.corpus_encoding: str | None = None  # the user's choice for corpus_path; None: detect
        self.train_config = None  # engine.config.TrainConfig the model was trained with, if known
        self.training: bool = False  # a training run is active (running or paused)
        self.dirty: bool = False  # the model has changes that were not saved
        self.lang: str = "en"  # language of explanations: "en" or "zh"
        self.snapshots = None  # engine.training.snapshots.SnapshotStore of the training run, if any

    # -- setters: the only places that emit -------------------------------------------------
    def set_model(self, model: GPT, tokenizer: Tokenizer, history: list[dict] | None = None) -> None:
        """Replace the inspected model (e.g. after loading, or a training snapshot)."""
        self.model = model.eval()
        self.tokenizer = tokenizer
        if history is not None:
            self.history = list(history)
            self.history_changed.emit()
        self.model_changed.emit()

    def set_document(self, model_path: str | None, train_config: Any = None,
                     dirty: bool = False) -> None:
        """Where the model lives on disk (None: nowhere yet), how it was trained, and whether
        it has changes that were not saved."""
        self.model_path = model_path
        self.train_config = train_config
        self.dirty = dirty
        self.document_changed.emit()

    def mark_trained(self, train_config: Any) -> None:
        """Training changed the weights: they are unsaved, and trained with `train_config`."""
        self.set_document(self.model_path, train_config, dirty=True)

    def mark_saved(self, model_path: str) -> None:
        self.set_document(model_path, self.train_config, dirty=False)

    def set_language(self, lang: str) -> None:
        lang = lang if lang in ("en", "zh") else "en"
        if lang != self.lang:
            self.lang = lang
            self.language_changed.emit(lang)

    def set_trace(self, trace: Trace) -> None:
        self.trace = trace
        self.trace_changed.emit()

    def set_focus(self, step_name: str) -> None:
        if step_name != self.focus:
            self.focus = step_name
            self.focus_changed.emit(step_name)

    def set_history(self, rows: list[dict[str, Any]]) -> None:
        """Replace the training records (e.g. a followed run's, before it has a model)."""
        self.history = rows
        self.history_changed.emit()

    def append_history(self, rows: list[dict[str, Any]]) -> None:
        self.history.extend(rows)
        self.history_changed.emit()

    def set_weights(self, model: GPT) -> None:
        """The current model with new weights (same config and vocab), e.g. from training.

        `model` is a new object, never changed afterwards: a trace or sample still running on
        another thread keeps reading the old one, never half-loaded weights.
        """
        if self.model is None:
            return
        self.model = model.eval()
        self.weights_changed.emit()

    def set_context_text(self, text: str) -> None:
        """The text being inspected; the window re-traces it (debounced) after this."""
        if text != self.context_text:
            self.context_text = text
            self.context_changed.emit(text)

    def set_corpus(self, path: str | None, corpus=None, encoding: str | None = None) -> None:
        """The training text: its path, the tokenized Corpus if already made, and the encoding
        the user chose for it (None: detected, as every later read of it will be too)."""
        self.corpus_path = path
        self.corpus = corpus
        self.corpus_encoding = encoding
        self.corpus_changed.emit()

    def set_tokenized_corpus(self, corpus) -> None:
        """The same training text, tokenized anew (e.g. by a run with another tokenizer)."""
        self.set_corpus(self.corpus_path, corpus, self.corpus_encoding)

    def set_snapshots(self, store) -> None:
        """The training run's SnapshotStore (or None); call again after adding snapshots."""
        self.snapshots = store
        self.snapshots_changed.emit()

    def set_training(self, active: bool) -> None:
        if active != self.training:
            self.training = active
            self.training_changed.emit(active)

    # -- derived, read-only -------------------------------------------------------------------
    def context_ids(self) -> np.ndarray:
        """Compact ids of the context text: its first context_length tokens."""
        if self.tokenizer is None or self.model is None:
            return np.zeros(0, dtype=np.int64)
        ids = self.tokenizer.encode(self.context_text)
        return ids[: self.model.config.context_length]
