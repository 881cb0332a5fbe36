"""Sampling, one token at a time: the prompt, the text as it grows, and for each new token the
distribution it was drawn from (top candidates as bars, the chosen one highlighted).

Tokens come from `engine.sample.generate` on a worker thread. One engine generator lives across
Step and Run, so a fixed seed gives the same text whether the tokens were asked for one by one
or in a run. The temperature / top-k / top-p controls re-shape the shown distribution at once
with `engine.sample.next_token_probs`, from the logits the model produced at that position (the
worker runs that forward after each batch of tokens); nothing here computes model maths.
"""
from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.model import GPT
from engine.sample import SampleStep, generate, next_token_probs
from gui.session import Session
from gui.widgets import EmptyState, elide, on_screen, static_plot
from gui.workers import GeneratorWorker, PanelThreads

TOP_N = 10  # candidates drawn as bars
REDRAW_MS = 33  # tokens can arrive much faster than a screen refresh: redraw at most ~30 Hz
PROMPT_DEBOUNCE_MS = 250
BAR_COLOUR = QColor(150, 170, 200)
CHOSEN_COLOUR = QColor(230, 120, 30)
GENERATED_BG = ("#fff3c4", "#ffe0a3")  # alternating, so token boundaries stay visible
NEWEST_BG = "#ffb74d"


@dataclass
class _Logits:
    """Logits (V,) of the model at the end of ids[:n_ids]: the distribution of token n_ids."""

    n_ids: int
    values: torch.Tensor


@torch.no_grad()
def _last_logits(model: GPT, ids: list[int], vocab_size: int) -> torch.Tensor:
    """The model's logits for the token after `ids` (cropped to the context window), as generate
    computes them."""
    T = model.config.context_length
    idx = torch.tensor([ids[-T:]], dtype=torch.long)  # (1, t)
    logits, _ = model(idx)  # (1, t, V)
    return logits[0, -1, :vocab_size].float().clone()  # (V,)


def _generation_job(
    steps: Iterator[SampleStep] | None,
    n: int,
    model: GPT,
    ids: list[int],
    vocab_size: int,
    has_chosen: bool,
    stop: threading.Event,
):
    """Worker side: up to n tokens from `steps`, then the logits behind the newest token.

    Stop is a soft stop: the loop ends at the next token and the logits are still computed, so
    the controls keep working on what is shown. (The worker's own quit() ends at once.)
    """
    ids = list(ids)
    for _ in range(n):
        if stop.is_set() or steps is None:
            break
        step = next(steps, None)
        if step is None:
            break
        ids.append(step.token_id)
        has_chosen = True
        yield ("token", step)
    context = ids[:-1] if has_chosen else ids
    yield ("logits", _Logits(len(context), _last_logits(model, context, vocab_size)))


class GenerationPanel(QWidget):
    """Prompt, Step / Run / Stop, sampling controls, the growing text and the candidate bars."""

    generation_finished = Signal()  # a Step / Run / preview job ended and its results are shown

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._model: GPT | None = None  # private copy the worker samples from
        self._steps: Iterator[SampleStep] | None = None  # the engine generator, kept across runs
        self._steps_key: tuple | None = None
        self._prompt = ""  # the prompt the current text started from
        self._ids: list[int] = []  # the ids the engine holds: prompt then every sampled token
        self._gen_ids: list[int] = []
        self._epoch = 0  # bumped by every reset: a job started before it reports nothing
        self._job_epoch = 0
        self._last: SampleStep | None = None
        self._logits: _Logits | None = None
        self._worker: GeneratorWorker | None = None
        self._threads = PanelThreads()
        self._stop = threading.Event()
        self._preview_pending = False
        self._queued_run: int | None = None  # a Step/Run asked for while a preview computes
        self._job_tokens_asked = 0
        self._prompt_edited = False  # the user typed a prompt: stop following the context
        self._job_started = 0.0
        self._job_tokens = 0
        self._ms_per_token: float | None = None
        self._shown_values = np.zeros(0)
        self._shown_labels: list[str] = []
        self._shown_chosen: int | None = None

        # -- controls ---------------------------------------------------------------------
        self.prompt_edit = QLineEdit()
        self.prompt_edit.setPlaceholderText(self.tr("Type a prompt (empty: start from a newline)"))
        self.prompt_edit.textEdited.connect(self._on_prompt_edited)

        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.0, 5.0)
        self.temperature_spin.setSingleStep(0.1)
        self.temperature_spin.setDecimals(2)
        self.temperature_spin.setValue(1.0)
        self.temperature_spin.setSpecialValueText(self.tr("0 (greedy)"))
        self.temperature_spin.setToolTip(self.tr(
            "Logits are divided by the temperature before the softmax: below 1 sharpens the "
            "distribution, above 1 flattens it, 0 always takes the most likely token."))
        self.top_k_spin = QSpinBox()
        self.top_k_spin.setRange(0, 1_000_000)
        self.top_k_spin.setSpecialValueText(self.tr("off"))
        self.top_k_spin.setToolTip(self.tr("Keep only the k most likely tokens (off: keep all)."))
        self.top_p_spin = QDoubleSpinBox()
        self.top_p_spin.setRange(0.01, 1.0)
        self.top_p_spin.setSingleStep(0.05)
        self.top_p_spin.setDecimals(2)
        self.top_p_spin.setValue(1.0)
        self.top_p_spin.setToolTip(self.tr(
            "Nucleus sampling: keep the smallest set of tokens whose probabilities add up to p "
            "(1.00: keep all)."))
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(0)
        self.seed_spin.setToolTip(self.tr(
            "The same seed, prompt and settings give the same text, one Step at a time or in a Run."))
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 5000)
        self.count_spin.setValue(50)
        self.count_spin.setToolTip(self.tr("Tokens added by Run"))
        for w in (self.temperature_spin, self.top_k_spin, self.top_p_spin):
            w.valueChanged.connect(self._on_sampling_changed)
        self.seed_spin.valueChanged.connect(self._on_seed_changed)

        self.step_button = QPushButton(self.tr("Step"))
        self.step_button.setToolTip(self.tr("Add one token"))
        self.step_button.clicked.connect(self.step)
        self.run_button = QPushButton(self.tr("Run"))
        self.run_button.clicked.connect(lambda: self.run())
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.clicked.connect(self.stop)
        self.clear_button = QPushButton(self.tr("Clear"))
        self.clear_button.setToolTip(self.tr("Forget the generated text and start again from the prompt"))
        self.clear_button.clicked.connect(self.clear)

        prompt_row = QHBoxLayout()
        prompt_row.addWidget(QLabel(self.tr("Prompt:")))
        prompt_row.addWidget(self.prompt_edit, 1)

        controls = QHBoxLayout()
        for text, w in ((self.tr("Temperature"), self.temperature_spin),
                        (self.tr("Top-k"), self.top_k_spin),
                        (self.tr("Top-p"), self.top_p_spin),
                        (self.tr("Seed"), self.seed_spin)):
            controls.addWidget(QLabel(text))
            controls.addWidget(w)
            controls.addSpacing(6)
        controls.addStretch(1)
        controls.addWidget(self.step_button)
        controls.addWidget(self.run_button)
        controls.addWidget(self.count_spin)
        controls.addWidget(QLabel(self.tr("tokens")))
        controls.addWidget(self.stop_button)
        controls.addWidget(self.clear_button)

        # -- text -------------------------------------------------------------------------
        self.text_view = QTextBrowser()
        self.text_view.setOpenLinks(False)
        font = QFont()
        font.setPointSizeF(12.0)
        self.text_view.setFont(font)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #444;")

        # -- distribution: items created once, only their data changes ----------------------
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.plot_widget = static_plot(self.tr("probability"), tick_pt=10.0, axis_pen=(90, 90, 90))
        plot = self.plot_widget.getPlotItem()
        value_font = QFont()  # the numbers above the bars, as large as the tick labels
        value_font.setPointSizeF(10.0)
        self.bars = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=0.7,
                                    pen=pg.mkPen(80, 80, 80))
        plot.addItem(self.bars)
        self._value_labels: list[pg.TextItem] = []
        for _ in range(TOP_N + 1):
            t = pg.TextItem(color=(30, 30, 30), anchor=(0.5, 1.0))
            t.setFont(value_font)
            t.hide()
            plot.addItem(t)
            self._value_labels.append(t)

        chart = QWidget()
        chart_layout = QVBoxLayout(chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addWidget(self.caption)
        chart_layout.addWidget(self.plot_widget, 1)
        text_box = QWidget()
        text_layout = QVBoxLayout(text_box)
        text_layout.setContentsMargins(0, 0, 0, 0)
        text_layout.addWidget(self.text_view, 1)
        text_layout.addWidget(self.status)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(text_box)
        splitter.addWidget(chart)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(prompt_row)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)
        self.empty = EmptyState.fill(self, content, self.tr(
            "No model yet: open or train a model, then generate text from it here."))

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self._prompt_timer = QTimer(self)
        self._prompt_timer.setSingleShot(True)
        self._prompt_timer.setInterval(PROMPT_DEBOUNCE_MS)
        self._prompt_timer.timeout.connect(self._on_prompt_settled)

        session.model_changed.connect(self._on_model_changed)
        session.weights_changed.connect(self._on_weights_changed)
        session.context_changed.connect(self._on_context_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._on_model_changed()

    # -- public API ---------------------------------------------------------------------------
    def prompt(self) -> str:
        return self.prompt_edit.text()

    def set_prompt(self, text: str) -> None:
        """Use `text` as the prompt (as if typed); the generated text starts again from it."""
        self._prompt_edited = True
        self.prompt_edit.setText(text)
        self._on_prompt_settled()

    def sampling(self) -> dict:
        """The current temperature / top_k / top_p as engine.sample arguments."""
        k = self.top_k_spin.value()
        p = self.top_p_spin.value()
        return {
            "temperature": float(self.temperature_spin.value()),
            "top_k": int(k) if k > 0 else None,
            "top_p": float(p) if p < 1.0 else None,
        }

    @Slot()
    def step(self) -> None:
        """Add one token (continuing whatever was generated before)."""
        self.run(1)

    def run(self, n: int | None = None) -> None:
        """Add n tokens (default: the Tokens box) on a worker; each one is shown as it comes."""
        if self.session.model is None or self.session.tokenizer is None:
            return
        n = self.count_spin.value() if n is None else int(n)
        if self.is_running():
            if self._job_tokens_asked == 0:  # only a preview: sample right after it
                self._queued_run = n
            return
        if self.prompt_edit.text() != self._prompt:
            self._reset(self.prompt_edit.text())
        self._ensure_steps()
        self._start_job(n)

    @Slot()
    def stop(self) -> None:
        """Stop a Run after the token being computed; Step then continues from there."""
        self._queued_run = None
        self._stop.set()
        self._update_buttons()

    @Slot()
    def clear(self) -> None:
        """Forget the generated text; the next Step/Run starts from the prompt with the seed."""
        if self._sampling_busy():
            return
        self._reset(self.prompt_edit.text())
        self._request_preview()

    def is_running(self) -> bool:
        """A job (tokens or the logits preview) is running or a Step/Run waits for one."""
        return self._worker is not None or self._queued_run is not None

    def generated_ids(self) -> list[int]:
        """Compact ids of the generated tokens (prompt excluded)."""
        return list(self._gen_ids)

    def generated_text(self) -> str:
        """The generated continuation as text (prompt excluded)."""
        tok = self.session.tokenizer
        if tok is None or not self._gen_ids:
            return ""
        return tok.decode(np.array(self._gen_ids, dtype=np.int64))

    def full_text(self) -> str:
        return self._prompt + self.generated_text()

    def bar_values(self) -> np.ndarray:
        """Probabilities drawn as bars, in order (a copy)."""
        return self._shown_values.copy()

    def bar_labels(self) -> list[str]:
        """Token pieces under the bars."""
        return list(self._shown_labels)

    def chosen_bar(self) -> int | None:
        """Index of the highlighted (sampled) bar, or None before any token was sampled."""
        return self._shown_chosen

    def has_logits(self) -> bool:
        """The logits of the shown position are here: the controls re-shape the bars at once."""
        return self._logits is not None and self._logits.n_ids == self._shown_position()

    def shutdown(self) -> None:
        """Stop any worker and wait for its thread (call before the panel is destroyed)."""
        self._queued_run = None
        self._preview_pending = False
        self._stop.set()
        self._threads.stop(self._worker)
        self._worker = None

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    # -- state --------------------------------------------------------------------------------
    def _reset(self, prompt: str) -> None:
        self._epoch += 1
        self._prompt = prompt
        self._steps = None
        self._steps_key = None
        self._gen_ids = []
        self._last = None
        self._logits = None
        self._ms_per_token = None
        tok = self.session.tokenizer
        self._ids = self._engine_prompt_ids(prompt) if tok is not None else []
        self._redraw()

    def _engine_prompt_ids(self, prompt: str) -> list[int]:
        """The ids generate() starts from for `prompt` (an empty prompt starts at a newline)."""
        tok = self.session.tokenizer
        ids = tok.encode(prompt).tolist()
        if not ids:
            newline = tok.encode("\n").tolist()
            if newline and tok.unk_id not in newline:
                ids = newline
        return ids

    def _ensure_steps(self) -> None:
        """The engine generator for the current text and settings (rebuilt when they changed)."""
        s = self.session
        if self._model is None:
            self._model = s.model
        settings = self.sampling()
        key = (id(self._model), tuple(sorted(settings.items())), self.seed_spin.value())
        if self._steps is not None and key == self._steps_key:
            return
        # Continue from the text so far; the seed is offset by the tokens already drawn so a
        # re-built generator stays deterministic without repeating the first draws.
        text = self._prompt + self.generated_text()
        try:
            self._steps = generate(self._model, s.tokenizer, text, max_new_tokens=10**9,
                                   seed=self.seed_spin.value() + len(self._gen_ids), top_n=TOP_N,
                                   **settings)
        except ValueError as exc:
            self._steps = None
            self.status.setText(str(exc))
            return
        self._steps_key = key
        self._ids = self._engine_prompt_ids(text)

    def _start_job(self, n: int) -> None:
        s = self.session
        if self._model is None:
            self._model = s.model
        if not self._ids:
            self.status.setText(self.tr("The prompt is empty and the vocabulary has no newline to start from."))
            return
        self._stop = threading.Event()
        worker = GeneratorWorker(_generation_job, self._steps if n > 0 else None, n, self._model,
                                 list(self._ids), s.tokenizer.vocab_size, bool(self._gen_ids),
                                 self._stop)
        worker.yielded.connect(self._on_item, Qt.ConnectionType.QueuedConnection)
        worker.errored.connect(self._on_error, Qt.ConnectionType.QueuedConnection)
        worker.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._worker = worker
        self._job_started = time.perf_counter()
        self._job_tokens = 0
        self._job_tokens_asked = n
        self._job_epoch = self._epoch
        self._update_buttons()
        self._threads.start(worker, "generation")

    def _request_preview(self) -> None:
        """Logits of the shown position (after the prompt, or behind the newest token), so the
        bars can be drawn and re-shaped without sampling anything."""
        s = self.session
        if s.model is None or s.tokenizer is None:
            return
        if self._worker is not None:
            self._preview_pending = True
            return
        self._preview_pending = False
        self._start_job(0)

    # -- worker results (GUI thread) ------------------------------------------------------------
    @Slot(object)
    def _on_item(self, item) -> None:
        kind, value = item
        if self.sender() is not self._worker or self._job_epoch != self._epoch:
            return  # started before the text was reset (e.g. a preview of the old prompt)
        if kind == "token":
            self._gen_ids.append(value.token_id)
            self._ids.append(value.token_id)
            self._last = value
            self._job_tokens += 1
        else:
            self._logits = value
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    @Slot(object)
    def _on_error(self, exc: BaseException) -> None:
        if self.sender() is not self._worker:
            return
        self.status.setText(self.tr("Generation failed: {0}").format(exc))
        self.status.setStyleSheet("color: #b00020;")

    @Slot()
    def _on_finished(self) -> None:
        if self.sender() is not self._worker:
            return  # a job stopped by shutdown() whose last signal arrives late
        if self._job_tokens:
            self._ms_per_token = (time.perf_counter() - self._job_started) * 1000 / self._job_tokens
        self._worker = None
        self._redraw_timer.stop()
        queued, self._queued_run = self._queued_run, None
        if queued is not None:
            self._preview_pending = False  # the run ends with the logits a preview would give
            self.run(queued)
        elif self._preview_pending:
            self._request_preview()
        self._redraw()
        self._update_buttons()
        self.generation_finished.emit()

    # -- session ------------------------------------------------------------------------------
    @Slot()
    def _on_model_changed(self) -> None:
        self.shutdown()
        self._model = None
        s = self.session
        if s.model is None or s.tokenizer is None:
            self.empty.show_empty()
            self._update_buttons()
            return
        self.empty.show_content()
        self.top_k_spin.setMaximum(s.tokenizer.vocab_size)
        if not self._prompt_edited:
            self.prompt_edit.setText(first_line(s.context_text))
        self._reset(self.prompt_edit.text())
        self._update_buttons()
        self._preview_when_seen()

    @Slot()
    def _on_weights_changed(self) -> None:
        # New weights (training): the text stays, the next token is drawn from the new weights.
        # A running job keeps its own copy to the end; the shown logits are refreshed after it.
        self._model = None
        self._steps = None
        if self.isVisible() and self.session.model is not None:
            self._preview_when_seen()

    def _preview_when_seen(self) -> None:
        """Request the preview now, or on the next paint while the dock is behind a tab.

        Qt moves tabbed-away docks out of the window instead of hiding them; the preview's
        model copy costs the GUI thread ~60 ms (measured), for bars nobody sees.
        """
        if self.isVisible() and not on_screen(self):
            self._preview_deferred = True
            return
        self._preview_deferred = False
        self._request_preview()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        if getattr(self, "_preview_deferred", False):
            self._preview_deferred = False
            QTimer.singleShot(0, self, self._request_preview)

    @Slot(str)
    def _on_context_changed(self, text: str) -> None:
        if self._prompt_edited or self._sampling_busy():
            return
        line = first_line(text)
        if line != self.prompt_edit.text():
            self.prompt_edit.setText(line)
            self._prompt_timer.start()

    def _on_prompt_edited(self, _text: str) -> None:
        self._prompt_edited = True
        self._prompt_timer.start()

    def _on_prompt_settled(self) -> None:
        if self._sampling_busy() or self.session.tokenizer is None:
            return
        if self.prompt_edit.text() != self._prompt:
            self._reset(self.prompt_edit.text())
            self._preview_when_seen()

    def _on_sampling_changed(self, *_args) -> None:
        # The next token is drawn with the new settings; the shown one is re-shaped right now.
        self._steps = None
        self._redraw()

    def _on_seed_changed(self, *_args) -> None:
        self._steps = None

    # -- drawing ------------------------------------------------------------------------------
    def _shown_position(self) -> int:
        """Index of the token whose distribution is shown: the newest one, or the next one."""
        return len(self._ids) - 1 if self._gen_ids else len(self._ids)

    def _sampling_busy(self) -> bool:
        """Tokens are being drawn (a logits preview alone does not count)."""
        return (self._worker is not None and self._job_tokens_asked > 0) or \
            self._queued_run is not None

    def _update_buttons(self) -> None:
        ready = self.session.model is not None and not self._sampling_busy()
        self.step_button.setEnabled(ready)
        self.run_button.setEnabled(ready)
        self.clear_button.setEnabled(ready)
        self.stop_button.setEnabled(self._sampling_busy())

    def _redraw(self) -> None:
        self._draw_text()
        self._draw_distribution()

    def _draw_text(self) -> None:
        tok = self.session.tokenizer
        if tok is None:
            self.text_view.clear()
            return
        parts = [_html(self._prompt)]
        gen = np.array(self._gen_ids, dtype=np.int64)
        whole = tok.decode(gen) if len(gen) else ""
        pieces = [tok.decode(gen[i:i + 1]) for i in range(len(gen))]
        if "".join(pieces) != whole:
            # Tokens that are parts of one character (bytes) only decode together.
            pieces = [whole]
        for i, piece in enumerate(pieces):
            bg = NEWEST_BG if i == len(pieces) - 1 else GENERATED_BG[i % 2]
            parts.append(f'<span style="background-color:{bg};">{_html(piece)}</span>')
        self.text_view.setHtml(
            f'<div style="white-space: pre-wrap;">{"".join(parts)}</div>')
        bar = self.text_view.verticalScrollBar()
        bar.setValue(bar.maximum())
        status = self.tr("{0} tokens generated after a prompt of {1} tokens").format(
            len(self._gen_ids), len(self._ids) - len(self._gen_ids))
        if self._ms_per_token is not None:
            status += self.tr(" · {0:.1f} ms per token").format(self._ms_per_token)
        if self._sampling_busy():
            status += self.tr(" · running…")
        self.status.setText(status)
        self.status.setStyleSheet("color: #444;")

    def _candidates(self) -> tuple[list[tuple[int, str, float]], bool]:
        """(id, piece, p) to draw, and whether they follow the current controls."""
        tok = self.session.tokenizer
        if self.has_logits():
            probs = next_token_probs(self._logits.values, **self.sampling()).numpy()
            order = np.argsort(-probs, kind="stable")[:TOP_N]
            cands = [(int(i), tok.piece(int(i)), float(probs[i])) for i in order if probs[i] > 0]
            if self._last is not None and self._last.token_id not in [c[0] for c in cands]:
                j = self._last.token_id
                cands.append((j, tok.piece(j), float(probs[j])))
            return cands, True
        if self._last is not None:
            cands = list(self._last.candidates)
            if self._last.token_id not in [c[0] for c in cands]:
                cands.append((self._last.token_id, self._last.piece, self._last.prob))
            return cands, False
        return [], False

    def _draw_distribution(self) -> None:
        tok = self.session.tokenizer
        cands, live = self._candidates() if tok is not None else ([], False)
        values = np.array([c[2] for c in cands], dtype=np.float64)
        labels = [c[1] for c in cands]
        chosen = None
        if self._last is not None:
            chosen = next((i for i, c in enumerate(cands) if c[0] == self._last.token_id), None)
        self._shown_values, self._shown_labels, self._shown_chosen = values, labels, chosen

        x = np.arange(len(values), dtype=np.float64)
        brushes = [pg.mkBrush(CHOSEN_COLOUR if i == chosen else BAR_COLOUR) for i in range(len(values))]
        self.bars.setOpts(x=x, height=values, width=0.7, brushes=brushes)
        # Head room for the value labels above the bars.
        top = max(0.05, min(float(values.max()) * 1.18, float(values.max()) + 0.08)) \
            if len(values) else 1.0
        plot = self.plot_widget.getPlotItem()
        plot.setXRange(-0.6, max(len(values), 1) - 0.4, padding=0)
        plot.setYRange(0, top, padding=0)
        plot.getAxis("bottom").setTicks([[(i, elide(s, 10)) for i, s in enumerate(labels)]])
        for i, label in enumerate(self._value_labels):
            if i < len(values):
                label.setText(f"{values[i]:.3f}")
                label.setPos(float(i), float(values[i]))
                label.show()
            else:
                label.hide()
        self.caption.setText(self._caption(live))

    def _caption(self, live: bool) -> str:
        if self.session.tokenizer is None:
            return ""
        s = self.sampling()
        knobs = self.tr("temperature {0:g}, top-k {1}, top-p {2}").format(
            s["temperature"], s["top_k"] or self.tr("off"),
            f'{s["top_p"]:.2f}' if s["top_p"] else self.tr("off"))
        if self._last is None:
            if not self.has_logits():
                return self.tr("Next-token distribution after the prompt: computing…")
            return self.tr("<b>Next token after the prompt</b> (nothing sampled yet) with {0}."
                           ).format(knobs)
        pos = len(self._ids) - 1
        head = self.tr("<b>Token {0}</b>: sampled <b>{1}</b> (orange) with p = {2:.3f}").format(
            pos, html.escape(self._last.piece), self._last.prob)
        if live:
            shown = self.tr("Bars: the top {0} candidates of that position, re-shaped with {1}."
                            ).format(TOP_N, knobs)
        else:
            shown = self.tr("Bars: the top {0} candidates as sampled.").format(TOP_N)
        return f"{head}<br>{shown}"


def first_line(text: str) -> str:
    """The first line of `text` that is not blank ('' if none): a prompt taken from a context."""
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")
