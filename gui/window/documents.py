"""What the window opens and saves: texts, models, the bundled default, and the training
history as CSV. Long loads run off the GUI thread (gui.window.jobs); failures become dialogs."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMainWindow

from engine.job import Cancelled, StartFrom
from engine.wording import plural
from gui import dialogs, resources
from gui.session import Session
from gui.window.context import ContextBox, first_lines
from gui.window.jobs import FileJobs
from gui.window.recent import RecentFiles

APP_TITLE = "Transformer Explorer"
MODEL_SUFFIXES = (".safetensors",)
TEXT_FILTER = "Text files (*.txt *.md *.csv *.tsv *.json *.log);;All files (*)"
MODEL_FILTER = "Transformer Explorer models (*.safetensors);;All files (*)"
HEAD_BYTES = 16_384  # of a text, for the first context of a model opened with it


class Documents(QObject):
    """Opening and saving for the window. `training` is the training panel (its form gives
    the settings of a new model) and `run` its run controller (active run, last result)."""

    status = Signal(str, int)  # text, timeout in ms (0: until replaced)

    def __init__(self, window: QMainWindow, session: Session, training, run,
                 context: ContextBox, recent: RecentFiles):
        super().__init__(window)
        self.window = window
        self.session = session
        self.training = training
        self.run = run
        self.context = context
        self.recent = recent
        self.jobs = FileJobs(window, APP_TITLE)

    def _status(self, text: str, timeout: int = 8000) -> None:
        self.status.emit(text, timeout)

    # -- opening --------------------------------------------------------------------------------
    def load_default(self) -> None:
        """The bundled model and its corpus; an untrained model on the corpus if no model file."""
        corpus_path = resources.default_corpus_path()
        model_path = resources.default_model_path()
        if model_path.is_file():
            self.open_model(str(model_path), corpus_path=str(corpus_path), default=True)
        elif corpus_path.is_file():
            self.open_text(str(corpus_path), note=(
                f"No bundled model at {model_path}: showing an untrained model on the default "
                "text. Press Start in the Training panel to train it."))
        else:
            self._status(f"Bundled resources not found in {resources.resources_dir()}; "
                         "open a text file (Ctrl+O) to begin.")

    def open_path(self, path: str) -> None:
        """Open a text file as the corpus, or a model file / folder as the model.

        Decided by what the file holds, not its name: a PyTorch .pt (pickle or zip) goes the
        model way and is refused there with the reason, never decoded as text.
        """
        from engine.filetype import classify

        p = Path(path)
        kind = classify(p)
        if kind in ("checkpoint", "safetensors", "pickle", "zip", "folder") \
                or p.suffix.lower() in MODEL_SUFFIXES:
            self.open_model(str(p))
        else:
            self.open_text(str(p))

    def open_text_dialog(self) -> None:
        self._ask_text(choose_encoding=False)

    def open_text_with_encoding_dialog(self) -> None:
        """Open a text, choosing how its characters are encoded instead of detecting it."""
        self._ask_text(choose_encoding=True)

    def _ask_text(self, choose_encoding: bool) -> None:
        path = dialogs.ask_open_path(self.window, "Open a text file to train on",
                                     self.recent.last_dir(), TEXT_FILTER)
        if not path:
            return
        encoding = None
        if choose_encoding:
            choice = dialogs.ask_encoding(self.window, Path(path).name)
            if choice is None:
                return
            encoding = None if choice == "detect" else choice
        self.open_text(path, encoding=encoding)

    def open_model_dialog(self) -> None:
        path = dialogs.ask_open_path(self.window, "Open a model", self.recent.last_dir(),
                                     MODEL_FILTER)
        if path:
            self.open_model(path)

    def _busy(self, what: str) -> bool:
        if self.run.is_active:
            dialogs.show_error(self.window, "Training is running",
                               f"Stop training (Shift+F5) before {what}.")
            return True
        if self.jobs.busy:
            self._status("Still opening the previous file…")
            return True
        return False

    def open_text(self, path: str, note: str = "", encoding: str | None = None) -> None:
        """Tokenize a text file (in the background) and prepare a new untrained model for it.

        `encoding` overrides detection (File → Open text with encoding…). Until the new model
        is ready nothing changes: a failure leaves what was open before.
        """
        if self._busy("opening another file"):
            return
        from engine.corpus import load_corpus

        form = self.training
        tokenizer = form.tokenizer_name()
        context_length = form.model_config().context_length
        val_fraction = form.train_config().val_fraction

        def job(report):
            return load_corpus(path, tokenizer=tokenizer, context_length=context_length,
                               val_fraction=val_fraction, progress=report, encoding=encoding)

        label = f"Tokenizing {Path(path).name} with {tokenizer}…"
        self._status(label)
        self.jobs.run(job, label,
                      lambda corpus: self._on_text_opened(path, corpus, note, encoding),
                      lambda exc: self._on_open_failed(exc, f"Opening {Path(path).name}"))

    def _on_text_opened(self, path: str, corpus, note: str, encoding: str | None) -> None:
        from engine.model import new_model

        form = self.training
        try:
            cfg = form.model_config()
            cfg.vocab_size = corpus.tokenizer.vocab_size
            model = new_model(cfg, form.train_config().seed)
        except ValueError as exc:  # ConfigError: the form's settings are impossible
            dialogs.show_exception(self.window, exc, "Preparing a model")
            return
        s = self.session
        s.set_corpus(path, corpus, encoding)
        s.set_document(None)
        self.run.clear_result()
        self.run.set_resumable(None)
        s.set_snapshots(None)  # they belong to another model
        s.set_model(model, corpus.tokenizer, history=[])
        self.context.set_text(first_lines(corpus.tokenizer.decode(corpus.train[:512]),
                                          corpus.tokenizer, cfg.context_length))
        if Path(path) != resources.default_corpus_path():
            self.recent.remember(path)
        decoding = getattr(corpus, "decoding", None)
        read_as = f" Read as {decoding.describe()}." if decoding is not None else ""
        self._status(note or (
            f"Opened {Path(path).name}: {plural(corpus.n_tokens, 'token')}, vocabulary "
            f"{corpus.tokenizer.vocab_size:,} ({corpus.tokenizer.name}).{read_as} A new UNTRAINED "
            f"model ({model.num_params():,} parameters) was made for this vocabulary — press "
            "Start in the Training panel to train it."), 0)

    def open_model(self, path: str, corpus_path: str | None = None, default: bool = False) -> None:
        """Load a saved model (in the background) and show it; its form settings are applied."""
        if self._busy("opening another model"):
            return
        from engine.checkpoint import load_checkpoint

        def job(report):
            return load_checkpoint(path)

        self._status(f"Opening {Path(path).name}…")
        self.jobs.run(job, f"Opening {Path(path).name}…",
                      lambda ckpt: self._on_model_opened(path, ckpt, corpus_path, default),
                      lambda exc: self._on_open_failed(exc, f"Opening {Path(path).name}"),
                      cancellable=False)

    def _on_model_opened(self, path: str, ckpt, corpus_path: str | None, default: bool) -> None:
        s = self.session
        s.set_document(None if default else str(ckpt.path), ckpt.train_config)
        self.run.clear_result()
        self.run.set_resumable(None if ckpt.trainer_state is None else StartFrom(
            ckpt.model_config, ckpt.tokenizer, ckpt.model.state_dict(), ckpt.trainer_state))
        if corpus_path is None:
            saved = (getattr(ckpt, "metadata", None) or {}).get("corpus")
            if isinstance(saved, str) and Path(saved).is_file() and s.corpus_path is None:
                corpus_path = saved
        if corpus_path is not None and corpus_path != s.corpus_path:
            s.set_corpus(corpus_path, None)  # tokenized when training starts
        s.set_snapshots(None)  # they belong to another model
        s.set_model(ckpt.model, ckpt.tokenizer, history=list(ckpt.history or []))
        if not default:
            self.training.apply_model_settings()
            self.recent.remember(path)
        if default or not s.context_text.strip():
            self.context.set_text(self._default_context(ckpt.tokenizer, corpus_path,
                                                        ckpt.model.config.context_length))
        # A bundle saved without its trainer has step 0 but keeps the history of its run.
        history_steps = [r.get("step", 0) for r in (ckpt.history or []) if isinstance(r, dict)]
        steps = max([ckpt.step or 0, *history_steps])
        what = "the bundled model" if default else Path(path).name
        self._status(
            f"Opened {what}: {ckpt.model.num_params():,} parameters, trained {steps:,} steps, "
            f"vocabulary {ckpt.tokenizer.vocab_size:,} ({ckpt.tokenizer.name}).", 0)

    def _default_context(self, tokenizer, corpus_path: str | None, n_tokens: int) -> str:
        """The first context of a model opened with its text: that text's first lines."""
        if not (corpus_path and Path(corpus_path).is_file()):
            return self.session.context_text
        from engine.textfile import DecodedStream, choose_decoding

        try:
            # Decoded as training would decode it (one home for the encoding rules); only the
            # first chunk is read: the first lines are all we need, even of a huge file.
            stream = DecodedStream(Path(corpus_path), choose_decoding(corpus_path),
                                   chunk_bytes=HEAD_BYTES)
            text = next(iter(stream), "")
        except (OSError, ValueError):
            return self.session.context_text
        return first_lines(text, tokenizer, n_tokens)

    def _on_open_failed(self, exc: BaseException, doing: str) -> None:
        if isinstance(exc, Cancelled):
            self._status("Cancelled.")
            return
        self._status(f"{doing} failed.")
        if isinstance(exc, (ValueError, OSError)):
            dialogs.show_exception(self.window, exc, doing)
        else:
            title, message = dialogs.explain(exc)
            dialogs.show_error(self.window, title, message, getattr(exc, "details", None))

    # -- saving ---------------------------------------------------------------------------------
    def save_model(self) -> bool:
        """Save to the model's file (asks for one the first time); True if saved."""
        if self.session.model_path:
            return self._save_to(self.session.model_path, overwrite=False)
        return self.save_model_as()

    def save_model_as(self) -> bool:
        if self.session.model is None:
            return False
        if self.run.is_active:
            dialogs.show_error(self.window, "Training is running",
                               "Stop training (Shift+F5) before saving; the weights are kept.")
            return False
        start = self.session.model_path or str(Path(self.recent.last_dir()) / "model.safetensors")
        path = dialogs.ask_save_path(self.window, "Save model", start, MODEL_FILTER)
        if not path:
            return False
        # The save dialog asked before replacing the file it showed; a name it did not show
        # (the suffix added here) is asked about separately.
        if not path.lower().endswith(".safetensors"):
            path += ".safetensors"
            if Path(path).exists() and not dialogs.ask_replace(self.window, path):
                return False
        return self._save_to(path, overwrite=True)

    def export_history(self) -> bool:
        """Write the loss history of the current model to a CSV file the user picks."""
        from engine.export import history_to_csv

        if not self.session.history:
            dialogs.show_error(self.window, "No training history",
                               "This model has no training records yet. Train it first (F5).")
            return False
        start = str(Path(self.recent.last_dir()) / "training_history.csv")
        path = dialogs.ask_save_path(self.window, "Export training history", start,
                                     "CSV files (*.csv);;All files (*)")
        if not path:
            return False
        try:
            history_to_csv(self.session.history, path)
        except OSError as exc:
            dialogs.show_exception(self.window, exc, "Exporting the training history")
            return False
        self._status(f"Exported {len(self.session.history):,} training records to {path}")
        return True

    def _save_to(self, path: str, overwrite: bool) -> bool:
        """Save under the CLI's rules (engine.outputs): never over the training text or a file
        that is not a model, an existing model only when it is this one's file or the user
        said to replace it; checked before writing. A failed write leaves the old file as it
        was and puts the weights in a rescue file the message names."""
        from engine.outputs import check_output, checkpoint_bytes, save_with_rescue

        s = self.session
        if s.model is None:
            return False
        result = self.run.last_result
        state = result.state if result is not None else None
        try:
            plan = check_output(
                path, inputs=[s.corpus_path] if s.corpus_path else [], resume=s.model_path,
                overwrite=overwrite,
                need_bytes=checkpoint_bytes(s.model.num_params(), s.tokenizer.vocab_size,
                                            resumable=state is not None))
        except ValueError as exc:  # OutputError
            dialogs.show_exception(self.window, exc, "Saving the model")
            return False
        if state is not None:
            # The run's final trainer state (its weights are the session's) so the optimizer
            # state, step and history are saved and training can continue.
            kwargs = dict(trainer_state=state, train_cfg=s.train_config,
                          extra={"corpus": s.corpus_path})
        else:
            step = max((int(r.get("step", 0)) for r in s.history), default=0)
            kwargs = dict(train_cfg=s.train_config, step=step,
                          extra={"history": s.history, "corpus": s.corpus_path})
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            saved, failure = save_with_rescue(plan.path, s.model, s.tokenizer, **kwargs)
        except (ValueError, OSError) as exc:
            QApplication.restoreOverrideCursor()
            dialogs.show_exception(self.window, exc, "Saving the model")
            return False
        QApplication.restoreOverrideCursor()
        if failure is not None:
            # Saved, but not where asked: the model stays unsaved at its own place.
            dialogs.show_error(self.window, "The model was saved elsewhere",
                               f"{failure}\n\nThe file there is unchanged. The model was saved to "
                               f"{saved} instead; open it from there or save again elsewhere.")
            self._status(f"Saved to {saved} instead of {plan.path}", 0)
            return False
        s.mark_saved(str(saved))
        self.recent.remember(str(saved))
        self._status(f"Saved {saved}")
        return True

    def shutdown(self) -> None:
        self.jobs.shutdown()
