"""The activation-patching tab: which activation, copied from the clean prompt into a corrupted
one, brings the clean answer back.

The clean prompt is the context; the corrupted one is typed, or made by replacing a word (the
two must have the same number of tokens). A run patches every residual position, head or MLP
off the GUI thread in batches, with a progress bar and Cancel, and shows the restored fraction
as a heatmap with the checks of its two ends.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.training.job import Cancelled
from engine.model.patching import PatchingCancelled
from engine.wording import in_language
from gui import i18n
from gui.pieces import piece
from gui.session import Session
from gui.widgets import SIGNED_CMAP, Heatmap, LazyPanel
from gui.widgets.language import Translated
from gui.workers import FunctionWorker, PanelThreads

from .explanation import Explanation
from .export import ExportRow
from .jobs import Patched, patching_job
from .readings import CHECK_STYLE, patch_grid, shown_checks
from .target_bar import TargetBar

KINDS = ("residual", "heads", "mlp")


class PatchingView(Translated, LazyPanel):
    """Clean and corrupted prompts, the kind of patch, Run / Cancel and the restored map."""

    finished = Signal()  # a run ended (with a result, an error, or cancelled)

    def __init__(self, session: Session, bar: TargetBar, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.bar = session, bar
        self._worker: FunctionWorker | None = None
        self._threads = PanelThreads()
        self._patched: Patched | None = None
        self._state: tuple = ("idle",)  # ("idle",) ("running",) ("cancelled",) ("failed", exc)
        self.batch = 16  # patched forwards per batch

        self.intro = Explanation()
        self.clean_label = QLabel()
        self.clean_label.setWordWrap(True)
        self.corrupt_label = QLabel()
        self.corrupt_edit = QLineEdit()
        self.corrupt_edit.textChanged.connect(self._update_lengths)
        corrupt_row = QHBoxLayout()
        corrupt_row.addWidget(self.corrupt_label)
        corrupt_row.addWidget(self.corrupt_edit, 1)
        self.replace_label, self.with_label = QLabel(), QLabel()
        self.word_edit, self.replacement_edit = QLineEdit(), QLineEdit()
        self.replace_button = QPushButton()
        self.replace_button.clicked.connect(self.replace_word)
        replace_row = QHBoxLayout()
        for w in (self.replace_label, self.word_edit, self.with_label, self.replacement_edit,
                  self.replace_button):
            replace_row.addWidget(w)
        self.length_label = QLabel()
        self.length_label.setWordWrap(True)
        self.kind_combo = QComboBox()
        for _ in KINDS:
            self.kind_combo.addItem("")
        self.run_button, self.cancel_button = QPushButton(), QPushButton()
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        run_row = QHBoxLayout()
        for w in (self.kind_combo, self.run_button, self.cancel_button):
            run_row.addWidget(w)
        run_row.addWidget(self.progress, 1)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.heatmap = Heatmap(cell_values=True, max_label_chars=9)
        self.heatmap.setMinimumHeight(160)
        self.export = ExportRow("activation_patching", self.csv_table,
                                lambda: self.heatmap.graphics)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.clean_label)
        layout.addLayout(corrupt_row)
        layout.addLayout(replace_row)
        layout.addWidget(self.length_label)
        layout.addLayout(run_row)
        layout.addWidget(self.headline)
        layout.addWidget(self.check_label)
        layout.addWidget(self.heatmap, 1)
        layout.addWidget(self.export)
        self._retranslate()

    def _retranslate(self) -> None:
        self.intro.set_text(self.tr(
            "<b>Activation patching:</b> run a corrupted prompt, copy in one activation from "
            "the clean prompt, and see how much of the clean answer comes back."), self.tr(
            "The score is the logit difference target − foil at the position: the target is "
            "the clean prompt's top guess, the foil the corrupted prompt's (or the tokens chosen "
            "above). Restored = (patched − corrupted) / (clean − corrupted): 1 (red) brings "
            "the whole clean score back, 0 (white) nothing, below 0 (blue) pushes the other "
            "way. The residual stream is patched at one layer and one position, a head or an "
            "MLP at every position.<br><br>What it does not prove: one patch at a time misses "
            "parts that only matter together, or that back each other up; and the answer "
            "depends on the corrupted prompt you chose: another word asks another question."))
        self.corrupt_label.setText(self.tr("Corrupted prompt:"))
        self.corrupt_edit.setPlaceholderText(self.tr("the context with one word changed"))
        self.replace_label.setText(self.tr("Replace"))
        self.with_label.setText(self.tr("with"))
        self.word_edit.setPlaceholderText(self.tr("word"))
        self.replacement_edit.setPlaceholderText(self.tr("another word"))
        self.replace_button.setText(self.tr("Replace"))
        self.replace_button.setToolTip(self.tr("Make the corrupted prompt: the context with "
                                               "every such word replaced"))
        for i, text in enumerate((self.tr("Residual stream (layer × position)"),
                                  self.tr("Attention heads (layer × head)"),
                                  self.tr("MLPs (layer)"))):
            self.kind_combo.setItemText(i, text)
        self.run_button.setText(self.tr("Run patching"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.heatmap.set_hover_names("", "")
        self._update_lengths()
        self._draw()

    # -- public ---------------------------------------------------------------------------------
    def clean_ids(self) -> list[int]:
        return [int(i) for i in self.session.context_ids()]

    def corrupt_ids(self) -> list[int]:
        """The corrupted prompt's token ids (cut at the model's context, as the clean one)."""
        s = self.session
        if s.tokenizer is None or s.model is None:
            return []
        ids = s.tokenizer.encode(self.corrupt_edit.text())
        return [int(i) for i in ids[: s.model.config.context_length]]

    def set_corrupted(self, text: str) -> None:
        self.corrupt_edit.setText(text)

    def set_kind(self, kind: str) -> None:
        self.kind_combo.setCurrentIndex(KINDS.index(kind))

    def kind(self) -> str:
        return KINDS[self.kind_combo.currentIndex()]

    def patched(self) -> Patched | None:
        return self._patched

    def is_running(self) -> bool:
        return self._worker is not None

    def is_updating(self) -> bool:
        return self.is_running()

    def lengths_match(self) -> bool:
        clean, corrupt = self.clean_ids(), self.corrupt_ids()
        return bool(clean) and len(clean) == len(corrupt)

    def replace_word(self) -> None:
        """The corrupted prompt := the context with every `word` replaced by the other word."""
        word, other = self.word_edit.text(), self.replacement_edit.text()
        text = self.session.context_text
        if not word or word not in text:
            self._show_length(self.tr("The context has no “{0}” to replace.").format(word), False)
            return
        self.corrupt_edit.setText(text.replace(word, other))

    def run(self) -> None:
        """Patch every activation of the chosen kind, on a worker thread."""
        s = self.session
        request = self.bar.request()
        if s.model is None or request is None or self.is_running() or not self.lengths_match():
            return
        clean, corrupt = self.clean_ids(), self.corrupt_ids()
        worker = FunctionWorker(patching_job, s.model, clean, corrupt, self.kind(), request,
                                self.batch)
        worker.progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        worker.returned.connect(self._on_returned, Qt.ConnectionType.QueuedConnection)
        worker.errored.connect(self._on_errored, Qt.ConnectionType.QueuedConnection)
        worker.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._worker = worker
        self._state = ("running",)
        self.progress.setRange(0, 0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._draw()
        self._threads.start(worker, "attribution-patching")

    def cancel(self) -> None:
        """Stop a run after its current batch; nothing of it is shown."""
        if self._worker is not None:
            self._worker.quit()

    def forget(self) -> None:
        """A new model: stop a run, drop its result (the old model's numbers)."""
        self.cancel()
        self._patched, self._state = None, ("idle",)
        self.check_label.clear()
        self._draw()

    def csv_table(self) -> tuple[list[str], list[list]] | None:
        """One row per patch: its name and the restored fraction (and the raw difference)."""
        if self._patched is None:
            return None
        r = self._patched.result
        flat = np.asarray(r.restored).reshape(-1)
        raw = np.asarray(r.patched_diff).reshape(-1)
        rows = [[r.label(i), float(flat[i]), float(raw[i])] for i in range(flat.size)]
        rows += [["clean", 1.0, r.clean_diff], ["corrupted", 0.0, r.corrupt_diff]]
        return ["patch", "restored", "target_minus_foil"], rows

    def shutdown(self) -> None:
        self._threads.stop(self._worker)
        self._worker = None

    # -- following the session ------------------------------------------------------------------
    def _rebuild(self) -> None:
        """A new context: a corrupted prompt made for the old one no longer fits it."""
        s = self.session
        self.clean_label.setText(self.tr("Clean prompt (the context): {0}").format(
            repr(s.context_text)))
        if not self.corrupt_edit.text():
            self.corrupt_edit.setText(s.context_text)
        self._update_lengths()

    def _update_lengths(self) -> None:
        clean, corrupt = self.clean_ids(), self.corrupt_ids()
        if not clean:
            self._show_length("", True)
        elif len(clean) != len(corrupt):
            self._show_length(self.tr(
                "✗ The corrupted prompt has {0} tokens, the clean one {1}: patching needs the "
                "same number of tokens.").format(len(corrupt), len(clean)), False)
        elif clean == corrupt:
            self._show_length(self.tr(
                "The prompts are the same ({0} tokens): there is nothing to restore, so every "
                "patch must give 0 (a check). Change a word to ask a question.").format(
                len(clean)), True)
        else:
            self._show_length(self.tr("Both prompts have {0} tokens.").format(len(clean)), True)

    def _show_length(self, text: str, ok: bool) -> None:
        self.length_label.setText(text)
        self.length_label.setStyleSheet("" if ok else CHECK_STYLE["fail"])
        self.run_button.setEnabled(ok and self.lengths_match() and not self.is_running())

    # -- the run --------------------------------------------------------------------------------
    def _on_progress(self, done: int, total: int) -> None:
        if self.sender() is self._worker:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)

    def _on_returned(self, patched: Patched) -> None:
        if self.sender() is self._worker:
            self._patched, self._state = patched, ("done",)

    def _on_errored(self, exc: BaseException) -> None:
        if self.sender() is self._worker:
            cancelled = isinstance(exc, (Cancelled, PatchingCancelled))
            self._state = ("cancelled",) if cancelled else ("failed", exc)

    def _on_finished(self) -> None:
        if self.sender() is not self._worker:
            return
        self._worker = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self._state[0] == "done" else 0)
        self.cancel_button.setEnabled(False)
        self._update_lengths()
        self._draw()
        self.finished.emit()

    def _draw(self) -> None:
        state, p, tok = self._state, self._patched, self.session.tokenizer
        if state[0] == "running":
            self.headline.setText(self.tr("Patching… (Cancel stops after the current batch)"))
        elif state[0] == "cancelled":
            self.headline.setText(self.tr("Cancelled: nothing was patched to the end."))
        elif state[0] == "failed":
            self.headline.setText(self.tr("Could not patch: {0}").format(
                in_language(state[1], i18n.current())))
        elif p is None or tok is None:
            self.headline.setText(self.tr("Type or make a corrupted prompt, then Run."))
        if p is None or tok is None:
            self.check_label.clear()
            return
        r = p.result
        if state[0] == "done":
            self.headline.setText(self.tr(
                "Target {0} versus foil {1} after position {2}: clean {3:.4f}, corrupted "
                "{4:.4f}.").format(repr(piece(tok, r.target)), repr(piece(tok, r.foil)),
                                   r.position, r.clean_diff, r.corrupt_diff))
        pieces = [piece(tok, i) for i in r.clean_ids]
        grid = patch_grid(r, self.tr("block {0}"), self.tr("after block {0}"), pieces,
                          self.tr("embeddings"))
        titles = {"residual": (self.tr("residual stream"), self.tr("position")),
                  "heads": (self.tr("block"), self.tr("head")),
                  "mlp": (self.tr("block"), "")}[r.kind]
        self.heatmap.set_axis_titles(*titles)
        top = max(1.0, float(np.abs(grid.values).max()) if grid.values.size else 1.0)
        self.heatmap.set_matrix(grid.values, grid.row_labels, grid.col_labels,
                                colormap=SIGNED_CMAP, levels=(-top, top))
        checks = shown_checks(p)
        words = {
            "itself": self.tr("the clean prompt against itself restores at most {0:.4f} (0 "
                              "expected)"),
            "nothing": self.tr("patching nothing restores {0:.4f} (0 expected)"),
            "everything": self.tr("patching everything restores {0:.4f} (1 expected)"),
            "layer": self.tr("patching a whole layer restores {0:.4f} (1 expected)"),
        }
        # -0.0000 reads as a sign where there is only rounding.
        parts = [("✓ " if ok else "✗ ") + words[name].format(value if abs(value) >= 5e-5
                                                            else 0.0)
                 for name, value, ok in checks]
        passed = all(ok for _, _, ok in checks)
        self.check_label.setText(self.tr("Checks: {0}").format(self.tr("; ").join(parts)))
        self.check_label.setProperty("kind", "pass" if passed else "fail")
        self.check_label.setStyleSheet(CHECK_STYLE["pass" if passed else "fail"])

    def check_kind(self) -> str:
        return self.check_label.property("kind") or "wait"
