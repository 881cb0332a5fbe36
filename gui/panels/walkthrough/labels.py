"""What the walkthrough calls things: the step list's outline (steps grouped by block), the
rows and columns of a step's 2-D slice, and the caption of that slice.

Token and vocabulary labels are computed once per trace and tokenizer: the logits step alone
labels thousands of vocabulary columns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QCoreApplication

from engine.model.steps import axis_name, short_shape, step_formula, step_title
from engine.model.trace import Step, Trace
from gui.pieces import piece
from gui.session import Session

TOKEN_AXES = ("context", "query", "key")


@dataclass(frozen=True)
class Header:
    """A group's heading in the step list: the input, one block, or the output."""

    text: str
    group: int  # counts the groups from 1, so alternate groups can be shaded


@dataclass(frozen=True)
class Entry:
    """One step in the step list."""

    name: str
    text: str  # "5. Block 0: Queries, split into heads [1,4,16,16]"
    tooltip: str
    group: int


def outline(trace: Trace | None, lang: str) -> list[Header | Entry]:
    """The step list's rows: each group's header, then its numbered steps; the headers in the
    interface language, the steps' titles and formulas (the engine's) in `lang`."""
    rows: list[Header | Entry] = []
    if trace is None:
        return rows
    current: object = None
    group = 0
    for i, step in enumerate(trace):
        layer = step.layer
        key: object = layer if layer is not None else (
            "embed" if step.name.startswith(("tokens", "embed")) else "out")
        if key != current:
            current = key
            group += 1
            if key == "embed":
                text = QCoreApplication.translate("StepOutline", "Input · Embedding")
            elif key == "out":
                text = QCoreApplication.translate("StepOutline", "Output")
            else:
                text = QCoreApplication.translate("StepOutline", "Block {i}").format(i=layer)
            rows.append(Header(text, group))
        title = step_title(step.name, lang, trace.config)
        name = QCoreApplication.translate("StepOutline", "trace name: {name}").format(
            name=step.name)
        rows.append(Entry(step.name, f"{i + 1}. {title} {short_shape(step.shape)}",
                          f"{name}\n{step_formula(step.name, lang, trace.config)}", group))
    return rows


def slice_index(step: Step, batch: int, head: int) -> tuple[tuple[int, ...], int]:
    """The leading indices of the 2-D slice shown of `step` (batch entry `batch`, head `head`),
    and the batch entry whose tokens label it."""
    index: list[int] = []
    shown_batch = 0
    if step.values.ndim > 2:
        for axis in step.axes[:-2]:
            if axis == "batch":
                shown_batch = batch
                index.append(batch)
            elif axis == "heads":
                index.append(head)
            else:
                index.append(0)
    return tuple(index), shown_batch


def selection(axes: tuple[str, ...], index: tuple[int, ...]) -> str:
    """Which slice `index` is, in the interface language: 'batch 0, head 1', 'batch 2'."""
    picked = dict(zip(axes, index))
    if set(picked) == {"batch", "heads"}:
        return QCoreApplication.translate("StepLabels", "batch {b}, head {h}").format(
            b=picked["batch"], h=picked["heads"])
    if set(picked) == {"batch"}:
        return QCoreApplication.translate("StepLabels", "batch {b}").format(b=picked["batch"])
    if set(picked) == {"heads"}:
        return QCoreApplication.translate("StepLabels", "head {h}").format(h=picked["heads"])
    # No step has other leading axes today; name them as the engine does.
    return ", ".join(f"{a} {i}" for a, i in picked.items())


def slice_caption(step: Step, index: tuple[int, ...], rows: int, cols: int,
                  lang: str) -> tuple[str, str]:
    """('shown: batch 0, head 1 → [query 7 × key 7]', 'batch 0, head 1'): the caption of the
    slice, and which slice it is ('' for a 2-D step); the axes named in `lang`."""
    row_axis, col_axis = axis_name(step.axes[-2], lang), axis_name(step.axes[-1], lang)
    sel = selection(step.axes, index)
    matrix = f"[{row_axis} {rows} × {col_axis} {cols}]"
    if not sel:
        return matrix, ""
    return QCoreApplication.translate("StepLabels", "shown: {sel} → {matrix}").format(
        sel=sel, matrix=matrix), sel


class TraceLabels:
    """Labels of a session's trace: token pieces per batch row and the vocabulary's entries."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._pieces: list[list[str]] | None = None  # per batch row of the trace
        self._vocab: list[str] | None = None
        self._vocab_labels: list[str] | None = None  # "id piece", the logits' columns

    def trace(self) -> Trace | None:
        """The session's trace (its steps titled as its model has them)."""
        return self._session.trace

    def forget_trace(self) -> None:
        """The trace changed: its token labels are computed again on next use."""
        self._pieces = None

    def forget_model(self) -> None:
        """The tokenizer may have changed: every label is computed again on next use."""
        self._pieces = None
        self._vocab = self._vocab_labels = None

    def token_pieces(self) -> list[list[str]]:
        """Display pieces of the trace's tokens, one list per batch row."""
        if self._pieces is None:
            trace = self._session.trace
            rows = trace.ids if trace is not None else []
            self._pieces = [self._display(row) for row in rows]
        return self._pieces

    def vocab_pieces(self) -> list[str]:
        """The display piece of every vocabulary entry, by compact id."""
        if self._vocab is None:
            tok = self._session.tokenizer
            n = tok.vocab_size if tok is not None else 0
            self._vocab = self._display(np.arange(n))
        return self._vocab

    def axis(self, axis: str, n: int, batch: int, token_rows: bool = False) -> list[str]:
        """The `n` labels along `axis` of a slice of batch entry `batch` ('3 ·the', 'batch 0',
        '17 ing', or the index); `token_rows`: the token-id step, whose cells are the tokens."""
        trace = self._session.trace
        if axis == "batch":
            row = QCoreApplication.translate("StepLabels", "batch {b}")
            return [row.format(b=b) for b in range(n)]
        if axis in TOKEN_AXES and not token_rows and trace is not None:
            pieces = self.token_pieces()[min(batch, len(trace.ids) - 1)]
            return [f"{t} {p}" for t, p in enumerate(pieces[:n])]
        if axis == "vocab":
            if self._vocab_labels is None:
                self._vocab_labels = [f"{i} {p}" for i, p in enumerate(self.vocab_pieces())]
            vocab = self._vocab_labels
            return [vocab[i] if i < len(vocab) else str(i) for i in range(n)]
        return [str(i) for i in range(n)]

    def _display(self, ids: np.ndarray) -> list[str]:
        tok = self._session.tokenizer
        out = []
        for i in np.asarray(ids).astype(np.int64).tolist():
            try:
                out.append(piece(tok, i) if tok is not None else str(i))
            except (ValueError, IndexError):  # an id of another vocabulary (a stale trace)
                out.append(str(i))
        return out
