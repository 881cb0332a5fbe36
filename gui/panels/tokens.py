"""Step 1 of the pipeline, tokenize: the context text cut into tokens, each on its own pastel
background, with ids and bytes on hover, statistics, and the same text under other tokenizers.

Whitespace is made visible (· space, ↵ newline) and a token that is only part of a character
(common for Chinese under cl100k_base) is shown as its bytes, e.g. <e6 8e>, never as garbage.
"""
from __future__ import annotations

import bisect
import html
import weakref
from collections import Counter
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableWidget,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from engine.tokenizers import (
    Tokenizer,
    TokenizerUnavailable,
    available_tokenizers,
    display_bytes,
    get_base,
)
from gui.session import Session
from gui.widgets import EmptyState, LazyPanel, NoteLabel, fill_table

PASTELS = ("#ffe0b2", "#c8e6c9", "#bbdefb", "#f8bbd0", "#fff59d", "#d1c4e9")
OUTSIDE = ("#eeeeee", "#dcdcdc")  # tokens after the model's context window, alternating
UNKNOWN = "#ff8a80"  # the compact vocabulary's unknown id
MAX_SHOWN = 4000  # tokens drawn in the text view; statistics still count all of them
TOP_K = 12


# Display pieces per tokenizer, filled on first use: Tokenizer.piece validates its argument on
# every call, which adds up to milliseconds per redraw when four panels label 64 tokens.
_PIECES: "weakref.WeakKeyDictionary[Tokenizer, dict[int, str]]" = weakref.WeakKeyDictionary()
_BASE_PIECES: dict[tuple[str, int], tuple[str, bytes]] = {}


def piece(tokenizer: Tokenizer, compact_id: int) -> str:
    """tokenizer.piece(compact_id), remembered."""
    cache = _PIECES.get(tokenizer)
    if cache is None:
        cache = _PIECES[tokenizer] = {}
    text = cache.get(compact_id)
    if text is None:
        text = cache[compact_id] = tokenizer.piece(compact_id)
    return text


def _base_piece(name: str, base, original_id: int) -> tuple[str, bytes]:
    key = (name, original_id)
    hit = _BASE_PIECES.get(key)
    if hit is None:
        data = base.token_bytes(original_id)
        hit = _BASE_PIECES[key] = (display_bytes(data), data)
    return hit


def context_pieces(session: Session, with_position: bool = True) -> list[str]:
    """Labels of the traced tokens (batch row 0): 'position piece', e.g. '3 ·the'."""
    trace, tok = session.trace, session.tokenizer
    if trace is None:
        return []
    ids = trace.ids[0].tolist()
    pieces = [piece(tok, i) for i in ids] if tok is not None else [str(i) for i in ids]
    if not with_position:
        return pieces
    return [f"{t} {p}" for t, p in enumerate(pieces)]


def trace_fits_model(session: Session) -> bool:
    """Whether session.trace came from session.model (between set_model and the next
    set_trace, the old trace may have other widths, heads or vocabulary)."""
    trace, model = session.trace, session.model
    if trace is None or model is None:
        return False
    cfg = model.config
    n_layer = sum(1 for name in trace.names() if name.endswith(".attn.pattern"))
    q = trace["blocks.0.attn.q"].values if "blocks.0.attn.q" in trace else None
    return (
        trace["embed.token"].values.shape[-1] == cfg.d_model
        and n_layer == cfg.n_layer
        and (q is None or q.shape[1] == cfg.n_head)
        and int(trace.ids.max(initial=0)) < cfg.vocab_size
        and trace.ids.shape[1] <= cfg.context_length
    )


def show_if_traced(session: Session, empty: EmptyState) -> bool:
    """Show a trace view's content if the session holds a trace of its current model, else
    say why not; True when the content is shown."""
    if session.model is None or session.trace is None:
        empty.show_empty()
        return False
    if not trace_fits_model(session):
        empty.show_empty(empty.tr("Waiting for a trace of the new model…"))
        return False
    empty.show_content()
    return True


def _utf16_len(text: str) -> int:
    """Length in QTextDocument positions (UTF-16 code units: an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class TokenRow:
    """One token as shown: its display piece, ids and exact bytes."""

    piece: str
    original_id: int  # tiktoken id or code point; -1 for the unknown id
    compact_id: int | None  # row of the model's token table; None under another tokenizer
    data: bytes

    @property
    def is_fragment(self) -> bool:
        """True when the bytes are not whole UTF-8 characters (part of a character)."""
        try:
            self.data.decode("utf-8")
            return False
        except UnicodeDecodeError:
            return True


class TokensPanel(LazyPanel):
    """The current context, tokenized by the model's tokenizer or any other available one."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._rows: list[TokenRow] = []
        self._starts: list[int] = []  # document position where each shown token begins
        self._window = 0  # tokens inside the model's context window
        self._text = ""
        self._tokenizer_name = ""

        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.currentIndexChanged.connect(self._redraw)
        self.note = NoteLabel(lines=2)
        self.note.setStyleSheet("color: #444;")

        self.view = QTextBrowser()
        self.view.setReadOnly(True)
        self.view.setOpenLinks(False)
        font = QFont()
        font.setPointSizeF(12.0)
        self.view.setFont(font)
        self.view.viewport().setMouseTracking(True)
        self.view.viewport().installEventFilter(self)

        self.stats = {key: NoteLabel("–") for key in ("chars", "tokens", "distinct", "ratio")}
        form = QFormLayout()
        form.addRow(self.tr("Characters:"), self.stats["chars"])
        form.addRow(self.tr("Tokens:"), self.stats["tokens"])
        form.addRow(self.tr("Distinct tokens:"), self.stats["distinct"])
        form.addRow(self.tr("Characters per token:"), self.stats["ratio"])
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("piece"), self.tr("count"), self.tr("original id"), self.tr("compact id")]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 0, 0, 0)
        side_layout.addLayout(form)
        side_layout.addWidget(QLabel(self.tr("Most frequent tokens:")))
        side_layout.addWidget(self.table, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Tokenizer:")))
        top.addWidget(self.combo)
        top.addStretch(1)
        legend = QLabel(self.tr("· space   ↵ newline   <e6 8e> bytes of a partial character"))
        legend.setStyleSheet("color: #666;")
        top.addWidget(legend)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(splitter, 1)
        self.empty = EmptyState.fill(self, content, self.tr(
            "No text yet: load a model and type a context to see its tokens."))

        session.model_changed.connect(self._on_model_changed)
        session.trace_changed.connect(self._redraw)
        self._on_model_changed()

    # -- public accessors (tests, other views) -----------------------------------------------
    def tokenizer_name(self) -> str:
        """Name of the tokenizer whose split is shown."""
        return self.combo.currentData() or ""

    def set_tokenizer(self, name: str) -> None:
        """Show the split under `name` (one of the combo's entries)."""
        i = self.combo.findData(name)
        if i < 0:
            raise ValueError(f"tokenizer {name!r} is not offered here")
        self.combo.setCurrentIndex(i)

    def token_count(self) -> int:
        self._flush()
        return len(self._rows)

    def pieces(self) -> list[str]:
        """Display pieces of every token of the text, in order."""
        self._flush()
        return [r.piece for r in self._rows]

    def rows(self) -> list[TokenRow]:
        self._flush()
        return list(self._rows)

    def tooltip_for(self, index: int) -> str:
        """The hover text of token `index`: ids, piece and bytes."""
        self._flush()
        r = self._rows[index]
        lines = [self.tr("token {0} of {1}").format(index, len(self._rows))]
        lines.append(self.tr("piece: {0}").format(r.piece))
        if r.original_id < 0:
            lines.append(self.tr("original id: none (unknown to the model's vocabulary)"))
        elif self._tokenizer_name == "char":
            lines.append(self.tr("original id: {0} (U+{1})").format(
                r.original_id, f"{r.original_id:04X}"))
        else:
            lines.append(self.tr("original id ({0}): {1}").format(
                self._tokenizer_name, r.original_id))
        if r.compact_id is not None:
            lines.append(self.tr("compact id (row of the token table): {0}").format(r.compact_id))
        hex_bytes = " ".join(f"{b:02x}" for b in r.data) or "–"
        lines.append(self.tr("bytes: {0}").format(hex_bytes))
        if r.is_fragment:
            whole = self._characters_of(index)
            if whole:
                lines.append(self.tr("part of the character(s) {0}: shown as its UTF-8 "
                                     "bytes").format(whole))
            else:
                lines.append(self.tr("part of a character: shown as its UTF-8 bytes"))
        if index >= self._window:
            lines.append(self.tr("outside the model's context window"))
        return "\n".join(lines)

    def token_at(self, doc_position: int) -> int | None:
        """Index of the token drawn at a document character position, or None."""
        self._flush()
        i = bisect.bisect_right(self._starts, doc_position) - 1
        if 0 <= i < len(self._starts) and doc_position < self._end_of(i):
            return i
        return None

    # -- updates ---------------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        tok = self.session.tokenizer
        names = available_tokenizers()
        if tok is not None and tok.name not in names:
            names.insert(0, tok.name)
        self.combo.blockSignals(True)
        self.combo.clear()
        for name in names:
            label = self.tr("{0} (the model's)").format(name) if tok and name == tok.name else name
            self.combo.addItem(label, name)
        default = tok.name if tok is not None else names[0]
        self.combo.setCurrentIndex(max(self.combo.findData(default), 0))
        self.combo.blockSignals(False)
        self._redraw()

    def _current_text(self) -> str:
        s = self.session
        if s.context_text:
            return s.context_text
        if s.trace is not None and s.tokenizer is not None:
            return s.tokenizer.decode(s.trace.ids[0])
        return ""

    def _rebuild(self) -> None:
        name = self.combo.currentData() or ""
        self._tokenizer_name = name
        text = self._current_text()
        self._text = text
        if not text:
            self._rows, self._starts = [], []
            self.empty.show_empty()
            return
        self.empty.show_content()
        tok = self.session.tokenizer
        own = tok is not None and name == tok.name
        note = ""
        try:
            if own:
                rows, self._window, note = self._model_rows(text)
            else:
                base = get_base(name)
                rows = []
                for i in base.encode(text).tolist():
                    shown, data = _base_piece(name, base, i)
                    rows.append(TokenRow(shown, i, None, data))
                self._window = len(rows)
                if tok is not None:
                    note = self.tr("How {0} splits the same text (its own ids; the model uses "
                                   "{1}).").format(name, tok.name)
        except TokenizerUnavailable as e:
            self._rows, self._starts = [], []
            self.view.clear()
            self.note.setText(str(e))
            self.note.setVisible(True)
            return
        self._rows = rows
        self.table.setColumnHidden(3, not own)
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self._draw_text()
        self._update_stats(text)

    def _model_rows(self, text: str) -> tuple[list[TokenRow], int, str]:
        """Tokens under the model's tokenizer, the size of the model's window, and a note."""
        s, tok = self.session, self.session.tokenizer
        ids = tok.encode(text)
        window = len(ids)
        note = ""
        if s.trace is not None and int(s.trace.ids.max(initial=0)) <= tok.unk_id:
            traced = s.trace.ids[0]
            window = len(traced)
            if not np.array_equal(ids[:window], traced):
                ids = traced  # the trace came from other text: show what the model actually saw
                window = len(ids)
            elif len(ids) > window:
                note = self.tr(
                    "The model sees the first {0} tokens (its context length); the {1} after "
                    "them are greyed."
                ).format(window, len(ids) - window)
        original = tok.to_original(ids)
        unk = tok.unk_id
        rows = [
            TokenRow(piece(tok, c), o, c, b"" if c == unk else tok.piece_bytes(c))
            for c, o in zip(ids.tolist(), original.tolist())
        ]
        return rows, window, note

    def _draw_text(self) -> None:
        """One HTML document: a span per token (escaped), whose positions are recorded."""
        parts, starts, pos = [], [], 0
        for i, r in enumerate(self._rows[:MAX_SHOWN]):
            if r.original_id < 0:
                style = f"background-color:{UNKNOWN};"
            elif i >= self._window:
                style = f"background-color:{OUTSIDE[i % 2]};color:#888888;"
            else:
                style = f"background-color:{PASTELS[i % len(PASTELS)]};"
            if r.is_fragment:
                style += "color:#7a1f1f;font-family:monospace;font-size:10pt;"
            starts.append(pos)
            parts.append(f'<span style="{style}">{html.escape(r.piece)}</span>')
            pos += _utf16_len(r.piece)
            if r.data.endswith(b"\n"):
                parts.append("<br>")  # keep the text's lines, after the visible ↵
                pos += 1
        if len(self._rows) > MAX_SHOWN:
            more = self.tr("… {0} more tokens not drawn").format(len(self._rows) - MAX_SHOWN)
            parts.append(f"<br><i>{html.escape(more)}</i>")
        self.view.setHtml('<p style="white-space:pre-wrap">' + "".join(parts) + "</p>")
        self._starts = starts

    def _update_stats(self, text: str) -> None:
        n = len(self._rows)
        self.stats["chars"].setText(f"{len(text):,}")
        window = "" if self._window >= n else self.tr(" ({0} in the model's window)").format(
            self._window)
        self.stats["tokens"].setText(f"{n:,}{window}")
        counts = Counter((r.original_id, r.compact_id) for r in self._rows)
        self.stats["distinct"].setText(f"{len(counts):,}")
        self.stats["ratio"].setText(f"{len(text) / n:.2f}" if n else "–")
        shown = {(r.original_id, r.compact_id): r.piece for r in self._rows}
        fill_table(self.table, [
            (shown[key], str(count), str(key[0]) if key[0] >= 0 else "–",
             str(key[1]) if key[1] is not None else "–")
            for key, count in counts.most_common(TOP_K)
        ])

    def _characters_of(self, index: int) -> str:
        """The whole characters a fragment token's bytes belong to, e.g. '“喜” (e5 96 9c)'."""
        start = sum(len(r.data) for r in self._rows[:index])
        end = start + len(self._rows[index].data)
        data = b"".join(r.data for r in self._rows)
        out, pos = [], 0
        for ch in data.decode("utf-8", errors="replace"):
            n = len(ch.encode("utf-8")) if ch != "\ufffd" else 1
            if pos < end and pos + n > start and ch != "\ufffd":
                out.append(f"“{ch}” ({data[pos:pos + n].hex(' ')})")
            pos += n
            if pos >= end:
                break
        return ", ".join(out)

    # -- hover -----------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if obj is self.view.viewport() and event.type() == QEvent.Type.ToolTip:
            pos = event.pos()
            # Document coordinates: the viewport shows the document scrolled by the bars.
            point = QPointF(pos.x() + self.view.horizontalScrollBar().value(),
                            pos.y() + self.view.verticalScrollBar().value())
            hit = self.view.document().documentLayout().hitTest(
                point, Qt.HitTestAccuracy.ExactHit)
            index = self.token_at(hit) if hit >= 0 else None
            if index is not None:
                QToolTip.showText(event.globalPos(), self.tooltip_for(index), self.view)
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(obj, event)

    def _end_of(self, index: int) -> int:
        return self._starts[index] + _utf16_len(self._rows[index].piece)
