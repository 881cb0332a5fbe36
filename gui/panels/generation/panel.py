"""The Generation dock: the sampling form above the growing text and the distribution bars.

Tokens come from `engine.model.sample.generate` off the GUI thread (`gui.latest.Latest`): a Step or
Run is one job that yields its tokens, then returns the logits the model produced at the shown
position, so temperature / top-k / top-p re-shape the bars at once with
`engine.model.sample.next_token_probs`. A "preview" is the same job with no tokens: the logits after
the prompt, or after the newest token once the weights changed. Resetting the text resets the
jobs too, so a job asked for before (a preview of the old prompt) reports nothing.
"""
from __future__ import annotations

import html
import threading

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from gui.latest import Latest
from gui.panels.generation.bars_view import BarsView
from gui.panels.generation.form import SamplingForm
from gui.panels.generation.job import TOP_N, JobEnd, generation_job
from gui.panels.generation.text import GeneratedText
from gui.panels.generation.text_view import GeneratedTextView
from gui.pieces import first_line
from gui.session import Session
from gui.widgets import EmptyState, LazyPanel
from gui.widgets.language import Translated

REDRAW_MS = 33  # tokens can arrive much faster than a screen refresh: redraw at most ~30 Hz
PROMPT_DEBOUNCE_MS = 250


class GenerationPanel(Translated, LazyPanel):
    """Prompt, Step / Run / Stop, sampling controls, the growing text and the candidate bars."""

    generation_finished = Signal()  # a Step / Run / preview job ended and its results are shown

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.text = GeneratedText()
        self._jobs: Latest | None = None  # made on first use, ended by shutdown()
        self._stop = threading.Event()  # the soft stop of the running Step / Run
        self._sampling = False  # a Step / Run was asked for and has not ended
        # The bars want the logits of the shown position (new prompt, new weights): asked for
        # when the panel is drawn and no job runs, as a job's own logits would make it moot.
        self._want_preview = False
        self._prompt_edited = False  # the user typed a prompt: stop following the context

        self.form = SamplingForm()
        f = self.form
        f.prompt_edit.textEdited.connect(self._on_prompt_edited)
        for w in (f.temperature_spin, f.top_k_spin, f.top_p_spin):
            w.valueChanged.connect(self._on_sampling_changed)
        f.seed_spin.valueChanged.connect(self._on_seed_changed)
        f.step_button.clicked.connect(self.step)
        f.run_button.clicked.connect(lambda: self.run())
        f.stop_button.clicked.connect(self.stop)
        f.clear_button.clicked.connect(self.clear)
        self.text_view = GeneratedTextView()
        self.bars_view = BarsView()

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.text_view)
        splitter.addWidget(self.bars_view)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form)
        layout.addWidget(splitter, 1)
        self.empty = EmptyState.fill(self, content, self._empty_message())

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
        return self.form.prompt_edit.text()

    def set_prompt(self, text: str) -> None:
        """Use `text` as the prompt (as if typed); the generated text starts again from it."""
        self._prompt_edited = True
        self.form.prompt_edit.setText(text)
        self._on_prompt_settled()

    def sampling(self) -> dict:
        """The current temperature / top_k / top_p as engine.model.sample arguments."""
        return self.form.sampling()

    @Slot()
    def step(self) -> None:
        """Add one token (continuing whatever was generated before)."""
        self.run(1)

    def run(self, n: int | None = None) -> None:
        """Add n tokens (default: the Tokens box) off the GUI thread; each is shown as it comes.

        Asked for while a preview computes, the tokens are drawn right after it.
        """
        s = self.session
        if s.model is None or s.tokenizer is None or self._sampling:
            return
        n = self.form.count_spin.value() if n is None else int(n)
        if self.prompt() != self.text.prompt:
            self._reset(self.prompt())
        try:
            self.text.ensure_steps(s.model, s.tokenizer, self.sampling(), self.form.seed_spin.value())
        except ValueError as exc:
            self.text_view.set_status(str(exc))
            return
        if self._submit(n):
            self._sampling = True
            self._want_preview = False  # the run ends with the logits a preview would give
            self._update_buttons()

    @Slot()
    def stop(self) -> None:
        """Stop a Run after the token being computed; Step then continues from there."""
        self._stop.set()
        self._update_buttons()

    @Slot()
    def clear(self) -> None:
        """Forget the generated text; the next Step/Run starts from the prompt with the seed."""
        if self._sampling:
            return
        self._reset(self.prompt())

    def is_running(self) -> bool:
        """A job (tokens or the logits preview) is running, or a Step/Run waits for one."""
        return self._jobs is not None and self._jobs.pending

    def generated_ids(self) -> list[int]:
        """Compact ids of the generated tokens (prompt excluded)."""
        return list(self.text.gen_ids)

    def generated_text(self) -> str:
        """The generated continuation as text (prompt excluded)."""
        return self.text.generated_text(self.session.tokenizer)

    def full_text(self) -> str:
        return self.text.prompt + self.generated_text()

    def bar_values(self) -> np.ndarray:
        """Probabilities drawn as bars, in order (a copy)."""
        self._flush()
        return self.bars_view.shown().values.copy()

    def bar_labels(self) -> list[str]:
        """Token pieces under the bars."""
        self._flush()
        return list(self.bars_view.shown().labels)

    def chosen_bar(self) -> int | None:
        """Index of the highlighted (sampled) bar, or None before any token was sampled."""
        self._flush()
        return self.bars_view.shown().chosen

    def has_logits(self) -> bool:
        """The logits of the shown position are here: the controls re-shape the bars at once."""
        self._flush()  # a panel never drawn has not asked for them yet
        return self.text.has_logits()

    def shutdown(self) -> None:
        """Stop any job and wait for its thread (call before the panel is destroyed)."""
        self._stop.set()
        self._sampling = False
        self._want_preview = False
        if self._jobs is not None:
            self._jobs.shutdown()
            self._jobs = None

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        super().closeEvent(event)

    # -- jobs ---------------------------------------------------------------------------------
    def _latest(self) -> Latest:
        if self._jobs is None:
            # Previews first: a Step asked for during one waits for it, never the reverse.
            self._jobs = Latest("generation", priorities=("preview", "tokens"), parent=self)
            self._jobs.yielded.connect(self._on_token)
            self._jobs.done.connect(self._on_done)
            self._jobs.failed.connect(self._on_failed)
        return self._jobs

    def _submit(self, n: int) -> bool:
        """Ask for n tokens (0: a preview) and the logits behind them; False if impossible."""
        s = self.session
        if not self.text.ids:
            self.text_view.set_status(self.tr(
                "The prompt is empty and the vocabulary has no newline to start from."), error=True)
            return False
        if n > 0:
            self._stop = threading.Event()
        self._latest().submit(generation_job, self.text.steps if n > 0 else None, n, s.model,
                              list(self.text.ids), s.tokenizer.vocab_size,
                              bool(self.text.gen_ids), self._stop,
                              key="tokens" if n > 0 else "preview")
        return True

    def _request_preview(self) -> None:
        """Logits of the shown position, so the bars can be drawn and re-shaped without
        sampling anything; after the running job if there is one."""
        s = self.session
        if s.model is None or s.tokenizer is None or not self._want_preview or self.is_running():
            return
        self._want_preview = False
        self._submit(0)

    @Slot(str, object)
    def _on_token(self, _key: str, step) -> None:
        self.text.add(step)
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    @Slot(str, object)
    def _on_done(self, key: str, end: JobEnd) -> None:
        self.text.logits = end.logits
        if key == "tokens" and end.tokens:
            self.text.ms_per_token = end.seconds * 1000 / end.tokens
        self._job_ended(key)

    @Slot(str, object)
    def _on_failed(self, key: str, exc: BaseException) -> None:
        self._job_ended(key)
        self._flush()  # the status below would be overwritten by the posted redraw
        self.text_view.set_status(self.tr("Generation failed: {0}").format(exc), error=True)

    def _job_ended(self, key: str) -> None:
        if key == "tokens":
            self._sampling = False
        self._redraw_timer.stop()
        self._redraw()  # and a preview wanted meanwhile is asked for now
        self._update_buttons()
        self.generation_finished.emit()

    # -- session ------------------------------------------------------------------------------
    @Slot()
    def _on_model_changed(self) -> None:
        s = self.session
        if s.model is None or s.tokenizer is None:
            self._reset("")
            self._want_preview = False
            self.empty.show_empty(self._empty_message())
            self._update_buttons()
            return
        self.empty.show_content()
        self.form.top_k_spin.setMaximum(s.tokenizer.vocab_size)
        if not self._prompt_edited:
            self.form.prompt_edit.setText(first_line(s.context_text))
        self._reset(self.prompt())
        self._update_buttons()

    @Slot()
    def _on_weights_changed(self) -> None:
        # New weights (training): the text stays, the next token is drawn from the new weights.
        # A running job keeps the model it started with; the shown logits are refreshed after.
        self.text.forget_steps()
        if self.session.model is not None:
            self._want_preview = True
            self._redraw()

    @Slot(str)
    def _on_context_changed(self, text: str) -> None:
        if self._prompt_edited or self._sampling:
            return
        line = first_line(text)
        if line != self.prompt():
            self.form.prompt_edit.setText(line)
            self._prompt_timer.start()

    def _on_prompt_edited(self, _text: str) -> None:
        self._prompt_edited = True
        self._prompt_timer.start()

    def _on_prompt_settled(self) -> None:
        if self._sampling or self.session.tokenizer is None:
            return
        if self.prompt() != self.text.prompt:
            self._reset(self.prompt())

    def _on_sampling_changed(self, *_args) -> None:
        # The next token is drawn with the new settings; the shown one is re-shaped right now.
        self.text.forget_steps()
        self._redraw()

    def _on_seed_changed(self, *_args) -> None:
        self.text.forget_steps()

    def _reset(self, prompt: str) -> None:
        """Start again from `prompt`: every job asked so far is dropped, a preview is wanted."""
        if self._jobs is not None:
            self._jobs.reset()
        self._stop.set()
        self._sampling = False
        self.text.reset(prompt, self.session.tokenizer)
        self._want_preview = True
        self._redraw()

    # -- drawing ------------------------------------------------------------------------------
    def _empty_message(self) -> str:
        return self.tr("No model yet: open or train a model, then generate text from it here.")

    def _retranslate(self) -> None:
        """Words drawn in the interface language (also on every language switch)."""
        if self.empty.is_empty():
            self.empty.show_empty(self._empty_message())
        self._redraw()  # the status and the caption are drawn from data

    def _update_buttons(self) -> None:
        self.form.set_busy(self.session.model is not None, self._sampling)

    def _rebuild(self) -> None:
        self._request_preview()
        self._draw_text()
        tok = self.session.tokenizer
        bars = self.text.bars(tok, self.sampling())
        self.bars_view.show_bars(bars, self._caption(bars.live) if tok is not None else "")

    def _draw_text(self) -> None:
        tok = self.session.tokenizer
        if tok is None:
            self.text_view.clear()
            return
        t = self.text
        self.text_view.show_text(t.prompt, t.pieces(tok))
        n, prompt = len(t.gen_ids), len(t.ids) - len(t.gen_ids)
        ms = t.ms_per_token
        if ms is None and not self._sampling:
            status = self.tr("{0} tokens generated after a prompt of {1} tokens").format(n, prompt)
        elif ms is None:
            status = self.tr("{0} tokens generated after a prompt of {1} tokens · running…"
                             ).format(n, prompt)
        elif not self._sampling:
            status = self.tr("{0} tokens generated after a prompt of {1} tokens · {2:.1f} ms per "
                             "token").format(n, prompt, ms)
        else:
            status = self.tr("{0} tokens generated after a prompt of {1} tokens · {2:.1f} ms per "
                             "token · running…").format(n, prompt, ms)
        self.text_view.set_status(status)

    def _caption(self, live: bool) -> str:
        s = self.sampling()
        knobs = self.tr("temperature {0:g}, top-k {1}, top-p {2}").format(
            s["temperature"], s["top_k"] or self.tr("off"),
            f'{s["top_p"]:.2f}' if s["top_p"] else self.tr("off"))
        last = self.text.last
        if last is None:
            if not self.text.has_logits():
                return self.tr("Next-token distribution after the prompt: computing…")
            return self.tr("<b>Next token after the prompt</b> (nothing sampled yet) with {0}."
                           ).format(knobs)
        pos = len(self.text.ids) - 1
        head = self.tr("<b>Token {0}</b>: sampled <b>{1}</b> (orange) with p = {2:.3f}").format(
            pos, html.escape(last.piece), last.prob)
        if live:
            shown = self.tr("Bars: the top {0} candidates of that position, re-shaped with {1}."
                            ).format(TOP_N, knobs)
        else:
            shown = self.tr("Bars: the top {0} candidates as sampled.").format(TOP_N)
        return f"{head}<br>{shown}"
