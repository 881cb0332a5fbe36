"""The logit-lens tab: for one position, a table of depth (rows) × top-k next-token guesses.

The residual stream after the embedding and after each block is decoded through the model's
own final path (engine.model.lens.logit_lens), so a prediction can be watched forming.
"""
from __future__ import annotations

import html
import weakref

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.model.lens import LensRow, logit_lens
from gui.latest import Latest, worth_a_thread
from gui.pieces import piece
from gui.session import Session
from gui.widgets import LazyPanel
from gui.widgets.flow import text_colour
from gui.widgets.language import Translated

from .readings import head_names, lens_agrees, lens_colour, next_id


class LensView(Translated, LazyPanel):
    """For one position: a table of depth (rows) × top-k guesses for the next token."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._rows: list[LensRow] = []
        self._ids: list[int] = []  # the ids the position list was made for
        # A large model's lens is read off the GUI thread: (trace, model, position, k, rows or
        # the exception) of the newest answer, the trace and model held weakly (a strong hold
        # kept a replaced trace, ~130 MB at GPT-2 size, alive while the view was hidden); the
        # jobs are made on first use.
        self._answer: tuple | None = None
        self._asked: tuple | None = None  # (trace ref, model ref, pos, k) of the running job
        self._jobs: Latest | None = None

        self.position_combo = QComboBox()
        self.position_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.position_combo.setMaxVisibleItems(20)
        self.position_combo.currentIndexChanged.connect(self._redraw)
        self.top_k_spin = QSpinBox()
        self.top_k_spin.setRange(1, 10)
        self.top_k_spin.setValue(5)
        self.top_k_spin.valueChanged.connect(self._redraw)
        top = QHBoxLayout()
        self.position_label = QLabel()
        top.addWidget(self.position_label)
        top.addWidget(self.position_combo)
        top.addSpacing(12)
        top.addWidget(QLabel("top-k:"))  # a name, the same in every language
        top.addWidget(self.top_k_spin)
        top.addStretch(1)

        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        font = QFont()
        font.setPointSizeF(10.5)
        self.table.setFont(font)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #444;")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self._retranslate()

    def _retranslate(self) -> None:
        self.position_label.setText(self.tr("Position:"))
        self._redraw()  # the table, its headers and the caption are drawn from data

    # -- public -------------------------------------------------------------------------------
    def position(self) -> int:
        """The position whose next-token guesses are shown."""
        self._flush()
        return max(self.position_combo.currentIndex(), 0)

    def set_position(self, position: int) -> None:
        self._flush()  # the list of positions follows the current trace first
        self.position_combo.setCurrentIndex(position)

    def rows(self) -> list[LensRow]:
        """The LensRows shown (label, top [(id, p)]), shallowest first."""
        self._flush()
        return list(self._rows)

    def cell_text(self, row: int, col: int) -> str:
        self._flush()
        item = self.table.item(row, col)
        return item.text() if item is not None else ""

    def on_trace_changed(self) -> None:
        """The session's trace was replaced: redraw when on screen."""
        self._redraw()

    # -- drawing ------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        self._follow_positions()
        self._draw_table()

    def _follow_positions(self) -> None:
        """One entry per traced token; the selection stays put, or at the end if it was there."""
        s = self.session
        ids = [] if s.trace is None else s.trace.ids[0].tolist()
        if ids == self._ids:
            return
        old = self.position_combo.currentIndex()
        at_end = old < 0 or old == len(self._ids) - 1
        self._ids = ids
        tok = s.tokenizer
        self.position_combo.blockSignals(True)
        self.position_combo.clear()
        pieces = [piece(tok, i) for i in ids] if tok is not None else [str(i) for i in ids]
        self.position_combo.addItems([f"{t}  {p}" for t, p in enumerate(pieces)])
        if ids:
            self.position_combo.setCurrentIndex(len(ids) - 1 if at_end else min(old, len(ids) - 1))
        self.position_combo.blockSignals(False)

    def _draw_table(self) -> None:
        s = self.session
        if s.model is None or s.trace is None or not self._ids:
            self._show_nothing(self.tr("No trace yet: type a context to see the lens."))
            return
        tok = s.tokenizer
        pos = max(self.position_combo.currentIndex(), 0)
        k = self.top_k_spin.value()
        try:
            rows = self._lens(pos, k)
        except (KeyError, IndexError, RuntimeError) as exc:
            # E.g. the trace of the previous model, between set_model and its new trace.
            self._show_nothing(self.tr("The lens cannot read this trace: {0}").format(exc))
            return
        if rows is None:
            self._show_nothing(self.tr("Reading the residual stream at every depth…"))
            return
        self._rows = rows
        actual = next_id(self._ids, pos)
        self.table.setRowCount(len(self._rows))
        self.table.setColumnCount(k)
        self.table.setHorizontalHeaderLabels([self.tr("guess {0}").format(i + 1) for i in range(k)])
        labels = [self._depth(r.label) for r in self._rows]
        self.table.setVerticalHeaderLabels(labels)
        bold = QFont(self.table.font())
        bold.setBold(True)
        for r, (row, label) in enumerate(zip(self._rows, labels)):
            for c in range(k):
                if c >= len(row.top):
                    self.table.setItem(r, c, QTableWidgetItem(""))
                    continue
                tid, p = row.top[c]
                text = piece(tok, tid)
                mark = "  ✓" if tid == actual else ""
                item = QTableWidgetItem(f"{text}   {p:.3f}{mark}")
                colour = lens_colour(p)
                item.setBackground(colour)
                item.setForeground(text_colour(colour))
                if tid == actual:
                    item.setFont(bold)
                item.setToolTip(self.tr("{0}: id {1}, piece '{2}', p = {3:.6f}").format(
                    label, tid, text, p))
                self.table.setItem(r, c, item)
        here = piece(tok, self._ids[pos])
        nxt = self.tr("the next token is '{0}' (✓)").format(piece(tok, actual)) \
            if actual is not None \
            else self.tr("the last position: its guess is what generation would sample from")
        self.caption.setText(self.tr(
            "<b>What the model would predict after position {0} ('{1}')</b>, read from the "
            "residual stream after the embedding and after each block; <b>final</b> is the "
            "model's real prediction. Here {2}.").format(pos, html.escape(here), html.escape(nxt)))
        self.note.setText(self._consistency_note(pos))

    def _lens(self, pos: int, k: int) -> list[LensRow] | None:
        """The lens at `pos`: computed here for a small model; for a large one (13 products
        with GPT-2's 154 MB table) asked for in the background, None until it arrives."""
        s = self.session
        if not worth_a_thread(s.model):
            return logit_lens(s.model, s.trace, pos, top_k=k)
        a = self._answer
        if a is not None and a[0]() is s.trace and a[1]() is s.model and a[2:4] == (pos, k):
            if isinstance(a[4], Exception):
                raise a[4]
            return a[4]
        asked = self._asked
        if (asked is not None and asked[0]() is s.trace and asked[1]() is s.model
                and asked[2:] == (pos, k)):
            return None  # asked already (a redraw while it runs): not a second run
        self._asked = (weakref.ref(s.trace), weakref.ref(s.model), pos, k)
        if self._jobs is None:
            self._jobs = Latest("logit-lens", parent=self)
            self._jobs.done.connect(self._on_lens)
            self._jobs.failed.connect(self._on_lens)
        self._jobs.submit(_lens_job, s.model, s.trace, pos, k)
        return None

    def _on_lens(self, _key: str, answer) -> None:
        self._asked = None
        if not isinstance(answer, tuple):  # an unexpected failure: shown, not asked again
            self._show_nothing(self.tr("The lens cannot read this trace: {0}").format(answer))
            return
        trace, model, *rest = answer
        self._answer = (weakref.ref(trace), weakref.ref(model), *rest)
        self._redraw()

    def shutdown(self) -> None:
        """End the background thread, if one was started."""
        if self._jobs is not None:
            self._jobs.shutdown()

    def _depth(self, label: str) -> str:
        """engine.model.lens's name of a depth ("embed", "block 0", "final") in the current language."""
        if label == "embed":
            return self.tr("embed")
        if label == "final":
            return self.tr("final")
        if label.startswith("block ") and label[6:].isdigit():
            return self.tr("block {0}").format(int(label[6:]))
        return label

    def _show_nothing(self, caption: str) -> None:
        self._rows = []
        self.table.setRowCount(0)
        self.caption.setText(caption)

    def _consistency_note(self, pos: int) -> str:
        """Warn when the trace was made by other weights than the model decoding it."""
        trace = self.session.trace
        if not self._rows or "probs" not in trace:
            return ""
        try:
            probs = trace.next_token_probs(pos)  # (V,)
        except RuntimeError:  # recomputing it needs weights that have changed since
            probs = None
        if probs is not None and lens_agrees(self._rows[-1].top, probs):
            note = self.tr("Cell colour: probability (white 0 → blue 1).")
            if trace.ablated:
                note += " " + self.tr("Heads ablated in this trace: {0}.").format(
                    head_names(trace.ablated))
            return note
        return self.tr("⚠ The trace comes from other weights than the current model (e.g. a "
                       "training snapshot); the lens decodes it with the current model's final "
                       "layer, so its rows are only approximate.")


def _lens_job(model, trace, position: int, k: int) -> tuple:
    """engine.model.lens.logit_lens off the GUI thread, with what it is the answer to."""
    try:
        return trace, model, position, k, logit_lens(model, trace, position, top_k=k)
    except (KeyError, IndexError, RuntimeError) as exc:  # kept without its frames (their trace)
        return trace, model, position, k, exc.with_traceback(None)
