"""What the window opens and saves: texts, models, the bundled default, and the training
history as CSV. Long loads run off the GUI thread (gui.window.jobs); failures become dialogs."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow

from engine.training.job import Cancelled, StartFrom
from engine.wording import in_language
from gui import dialogs, i18n, resources
from gui.session import Session
from gui.window.context import ContextBox, first_lines, head_context
from gui.window.model_paths import proposed_model_path
from gui.window.jobs import FileJobs
from gui.window.recent import RecentFiles
from gui.window.status import APP_TITLE, stored_as

MODEL_SUFFIXES = (".safetensors", ".pt", ".bin", ".gguf")  # ours, nanoGPT's, HF's, llama.cpp's
# Text files by their bytes, but a Hugging Face model's config or a nanoGPT vocabulary: opened
# as a model (engine.storage.imports says what to open for a vocabulary file).
MODEL_NAMES = ("config.json", "meta.pkl", "vocab.json", "merges.txt", "tokenizer.json")
HEAD_WINDOWS = 16  # a newly opened text's first context is read from this many windows of it
# The first context of an opened model fills its window up to this many tokens: GPT-2 small
# reads 1,024, whose trace takes seconds and a gigabyte; the user can paste more.
FIRST_CONTEXT_TOKENS = 256


class Documents(QObject):
    """Opening and saving for the window. `training` is the training panel (its form gives
    the settings of a new model) and `run` its run controller (active run, last result)."""

    status = Signal(str, int)  # text, timeout in ms (0: until replaced)
    open_failed = Signal(str)  # the engine's refusal of a file, one line (a screenshot exits)

    def __init__(self, window: QMainWindow, session: Session, training, run,
                 context: ContextBox, recent: RecentFiles,
                 open_run: Callable[[str], object] | None = None):
        super().__init__(window)
        self._open_run = open_run  # a run directory opened by path (gui.window.followed)
        self.window = window
        self.session = session
        self.training = training
        self.run = run
        self.context = context
        self.recent = recent
        self._lasting: tuple[str, Callable[[], str]] | None = None  # (text, how to re-word it)
        # A path given at launch stands for the bundled model: refused, the bundled model is
        # shown instead of an empty window (once; gui.app sets it).
        self.default_if_refused = False
        self.jobs = FileJobs(window, APP_TITLE)  # a proper name: the same in every language
        # False: a failure to open is only signalled (open_failed), never a dialog (--screenshot).
        self.dialogs = True

    def _status(self, text: str, timeout: int = 8000,
                reword: Callable[[], str] | None = None) -> None:
        """Show `text`; a lasting one (timeout 0) with `reword` is re-worded on a language
        switch while it still shows (retranslate)."""
        self._lasting = (text, reword) if timeout == 0 and reword is not None else None
        self.status.emit(text, timeout)

    def retranslate(self, shown: str) -> None:
        """The lasting message again in the interface language, if `shown` is still it."""
        if self._lasting is not None and self._lasting[0] == shown:
            self._status(self._lasting[1](), 0, self._lasting[1])

    def _text_filter(self) -> str:
        return self.tr("Text files (*.txt *.md *.csv *.tsv *.json *.log);;All files (*)")

    def _model_filter(self) -> str:
        return self.tr("Models: Transformer Explorer, nanoGPT, Hugging Face, GGUF "
                       "(*.safetensors *.pt *.bin *.gguf config.json);;All files (*)")

    def _vocabulary_filter(self) -> str:
        return self.tr("Vocabularies (meta.pkl vocab.json tokenizer.json);;All files (*)")

    # -- opening --------------------------------------------------------------------------------
    def load_default(self) -> None:
        """The bundled model and its corpus; an untrained model on the corpus if no model file."""
        corpus_path = resources.default_corpus_path()
        model_path = resources.default_model_path()
        if model_path.is_file():
            self.open_model(str(model_path), corpus_path=str(corpus_path), default=True)
        elif corpus_path.is_file():
            self.open_text(str(corpus_path), note=self.tr(
                "No bundled model at {0}: showing an untrained model on the default text. "
                "Press Start in the Training panel to train it.").format(model_path))
        else:
            self._status(self.tr("Bundled resources not found in {0}; open a text file "
                                 "(Ctrl+O) to begin.").format(resources.resources_dir()))

    def open_path(self, path: str) -> None:
        """Open a text file as the corpus, or a model file / folder as the model.

        Decided by what the file holds, not its name: a PyTorch .pt (pickle or zip) goes the
        model way and is refused there with the reason, never decoded as text.
        """
        from engine.text.filetype import classify

        from engine.training.runreader import is_run

        p = Path(path)
        if self._open_run is not None and is_run(p):  # dropped or recent: follow it
            self._open_run(str(p))
            return
        kind = classify(p)
        if kind in ("checkpoint", "safetensors", "pickle", "zip", "folder") \
                or p.suffix.lower() in MODEL_SUFFIXES or p.name in MODEL_NAMES:
            self.open_model(str(p))
        else:
            self.open_text(str(p))

    def open_text_dialog(self) -> None:
        self._ask_text(choose_encoding=False)

    def open_text_with_encoding_dialog(self) -> None:
        """Open a text, choosing how its characters are encoded instead of detecting it."""
        self._ask_text(choose_encoding=True)

    def _ask_text(self, choose_encoding: bool) -> None:
        path = dialogs.ask_open_path(self.window, self.tr("Open a text file to train on"),
                                     self.recent.last_dir(), self._text_filter())
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
        """File → Open model: the models already on this computer, or any by Browse."""
        from gui.window.open_model_dialog import show_open_model_dialog

        show_open_model_dialog(self.window, self.recent.last_dir(), self._model_filter(),
                               self.open_model)

    def _busy(self, message: str) -> bool:
        """True (and `message` shown) while training runs or another file is opening."""
        if self.run.is_active:
            dialogs.show_error(self.window, self.tr("Training is running"), message)
            return True
        if self.jobs.busy:
            self._status(self.tr("Still opening the previous file…"))
            return True
        return False

    def open_text(self, path: str, note: str = "", encoding: str | None = None) -> None:
        """Tokenize a text file (in the background) and prepare a new untrained model for it.

        `encoding` overrides detection (File → Open text with encoding…). Until the new model
        is ready nothing changes: a failure leaves what was open before.
        """
        if self._busy(self.tr("Stop training (Shift+F5) before opening another file.")):
            return
        from engine.text.corpus import load_corpus

        form = self.training
        tokenizer = form.tokenizer_name()
        context_length = form.model_config().context_length
        val_fraction = form.train_config().val_fraction
        # An imported model's own vocabulary (a GPT-2 folder's vocab.json) has no registry
        # name: the text is read with that model's tokenizer, and the model stays to be
        # trained on it (Continue training).
        own = self.session.tokenizer if self._keeps_model() else None

        def job(report):
            return load_corpus(path, tokenizer=tokenizer, context_length=context_length,
                               val_fraction=val_fraction, progress=report, encoding=encoding,
                               vocab_from=own)

        name = Path(path).name
        label = self.tr("Tokenizing {0} with {1}…").format(name, tokenizer)
        self._status(label)
        opened = self._on_text_for_model if own is not None else self._on_text_opened
        self.jobs.run(job, label,
                      lambda corpus: opened(path, corpus, note, encoding),
                      lambda exc: self._on_open_failed(
                          exc, self.tr("Opening {0} failed.").format(name)))

    def _keeps_model(self) -> bool:
        """Whether a text opened now is for the model shown: an imported model whose own
        vocabulary no registry tokenizer could rebuild (engine.text.corpus keeps it)."""
        s = self.session
        return (s.model is not None and s.tokenizer is not None
                and s.tokenizer.name == self.training.tokenizer_name()
                and hasattr(s.tokenizer.base, "to_dict") and self.run.resumable is not None)

    def _on_text_for_model(self, path: str, corpus, note: str, encoding: str | None) -> None:
        """The text of an imported model, in its own tokens: the model, its weights and its
        Continue training stay; the context becomes the text's first lines."""
        s = self.session
        s.set_corpus(path, corpus, encoding)
        config = s.model.config
        head = corpus.tokenizer.decode(corpus.train[: HEAD_WINDOWS * config.context_length + 512])
        self.context.set_text(first_lines(head, corpus.tokenizer,
                                          min(config.context_length, FIRST_CONTEXT_TOKENS)))
        self.recent.remember(path)
        n_tokens = corpus.n_tokens
        model_name = corpus.tokenizer.name

        def message() -> str:
            return self.tr("Opened {0}: {1} tokens in the model's own vocabulary ({2}). "
                           "Continue training trains this model on it.").format(
                Path(path).name, f"{n_tokens:,}", model_name)

        self._status(note or message(), 0, None if note else message)

    def _on_text_opened(self, path: str, corpus, note: str, encoding: str | None) -> None:
        from engine.model.decoder import new_model

        form = self.training
        try:
            cfg = form.model_config()
            cfg.vocab_size = corpus.tokenizer.vocab_size
            model = new_model(cfg, form.train_config().seed)
        except ValueError as exc:  # ConfigError: the form's settings are impossible
            dialogs.show_exception(self.window, exc,
                                   headline=self.tr("Preparing a model failed."))
            return
        s = self.session
        self.run.stop_following()  # this model replaces the followed run's
        s.set_corpus(path, corpus, encoding)
        s.set_document(None)
        self.run.clear_result()
        self.run.set_resumable(None)
        s.set_snapshots(None)  # they belong to another model
        s.model_origin = None  # a new model, named after its text
        s.set_model(model, corpus.tokenizer, history=[])
        # A full context window of the text, from its first paragraph of prose.
        head = corpus.tokenizer.decode(corpus.train[: HEAD_WINDOWS * cfg.context_length + 512])
        self.context.set_text(first_lines(head, corpus.tokenizer, cfg.context_length))
        if Path(path) != resources.default_corpus_path():
            self.recent.remember(path)
        decoding = getattr(corpus, "decoding", None)
        n_params = model.num_params()

        def message() -> str:
            tokens = (self.tr("1 token") if corpus.n_tokens == 1
                      else self.tr("{0} tokens").format(f"{corpus.n_tokens:,}"))
            opened = self.tr("Opened {0}: {1}, vocabulary {2} ({3}).").format(
                Path(path).name, tokens, f"{corpus.tokenizer.vocab_size:,}",
                corpus.tokenizer.name)
            read_as = "" if decoding is None else " " + self.tr("Read as {0}.").format(
                in_language(decoding.describe(), i18n.current()))  # the engine's phrase
            untrained = self.tr(
                "A new UNTRAINED model ({0} parameters) was made for this vocabulary — press "
                "Start in the Training panel to train it.").format(f"{n_params:,}")
            return f"{opened}{read_as} {untrained}"

        if note:
            self._status(note, 0)
        else:
            self._status(message(), 0, message)

    def open_model(self, path: str, corpus_path: str | None = None, default: bool = False,
                   tokenizer_from: str | None = None) -> None:
        """Load a model (in the background) and show it; its form settings are applied.

        Our checkpoints, nanoGPT's ckpt.pt and Hugging Face GPT-2 folders or files all open
        (engine.storage.imports.open_model, which never runs code from a file). A nanoGPT run with no
        vocabulary beside it asks for one (its meta.pkl, or GPT-2's vocab.json)."""
        if self._busy(self.tr("Stop training (Shift+F5) before opening another model.")):
            return
        from engine.storage.imports import TokenizerNeeded, open_model

        def job(report):
            return open_model(path, tokenizer_from=tokenizer_from)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, TokenizerNeeded) and tokenizer_from is None:
                # After this job has ended: the next open must not find the window busy.
                QTimer.singleShot(0, lambda: self._ask_vocabulary(path, str(exc), corpus_path))
                return
            self._on_open_failed(exc, self.tr("Opening {0} failed.").format(name))

        name = Path(path).name
        label = self.tr("Opening {0}…").format(name)
        self._status(label)
        self.jobs.run(job, label,
                      lambda ckpt: self._on_model_opened(path, ckpt, corpus_path, default),
                      failed, cancellable=False)

    def _ask_vocabulary(self, path: str, reason: str, corpus_path: str | None) -> None:
        """The model has no vocabulary of its own: the user chooses one, or nothing opens."""
        dialogs.show_error(self.window, self.tr("Choose the model's vocabulary"), self.tr(
            "{0} holds weights but no vocabulary ({1}). Choose its vocabulary next: a "
            "character-level run's meta.pkl, or GPT-2's vocab.json (merges.txt beside it) or "
            "tokenizer.json.").format(Path(path).name, reason))
        chosen = dialogs.ask_open_path(self.window, self.tr("Choose the model's vocabulary"),
                                       str(Path(path).parent), self._vocabulary_filter())
        if chosen:
            self.open_model(path, corpus_path, tokenizer_from=chosen)

    def _on_model_opened(self, path: str, ckpt, corpus_path: str | None, default: bool) -> None:
        s = self.session
        self.run.stop_following()  # this model replaces the followed run's
        imported = getattr(ckpt, "origin", "transformer-explorer") != "transformer-explorer"
        # An imported model is not a document of ours: Save asks where (never over the
        # nanoGPT or Hugging Face file, which engine.storage.outputs would refuse anyway).
        s.set_document(None if default or imported else str(ckpt.path), ckpt.train_config)
        self.run.clear_result()
        # Our file with its optimizer state continues exactly; an imported model (no trainer
        # state of ours) fine-tunes from its weights with a new optimizer.
        self.run.set_resumable(StartFrom(
            ckpt.model_config, ckpt.tokenizer, ckpt.model.state_dict(), ckpt.trainer_state)
            if ckpt.trainer_state is not None or imported else None)
        if corpus_path is None:
            saved = (getattr(ckpt, "metadata", None) or {}).get("corpus")
            if isinstance(saved, str) and Path(saved).is_file() and s.corpus_path is None:
                corpus_path = saved
        if corpus_path is not None and corpus_path != s.corpus_path:
            s.set_corpus(corpus_path, None)  # tokenized when training starts
        s.set_snapshots(None)  # they belong to another model
        s.model_origin = None if default else path
        s.set_model(ckpt.model, ckpt.tokenizer, history=list(ckpt.history or []))
        if not default:
            self.training.apply_model_settings()
            self.recent.remember(path)
        if default or not s.context_text.strip():
            # A model saved without its text (or imported) still opens on something to trace:
            # the first lines of the bundled guide.
            first_text = corpus_path or str(resources.default_corpus_path())
            n_tokens = min(ckpt.model.config.context_length, FIRST_CONTEXT_TOKENS)
            self.context.set_text(self._default_context(ckpt.tokenizer, first_text, n_tokens))
        # A bundle saved without its trainer has step 0 but keeps the history of its run.
        history_steps = [r.get("step", 0) for r in (ckpt.history or []) if isinstance(r, dict)]
        steps = max([ckpt.step or 0, *history_steps])
        numbers = (f"{ckpt.model.num_params():,}", f"{steps:,}",
                   f"{ckpt.tokenizer.vocab_size:,}", ckpt.tokenizer.name)

        def message() -> str:
            if default:
                return self.tr("Opened the bundled model: {0} parameters, trained {1} steps, "
                               "vocabulary {2} ({3}).").format(*numbers)
            return self.tr("Opened {0}: {1} parameters, trained {2} steps, vocabulary {3} "
                           "({4}).").format(Path(path).name, *numbers) + stored_as(ckpt.metadata)

        self._status(message(), 0, message)

    def _default_context(self, tokenizer, corpus_path: str | None, n_tokens: int) -> str:
        """The first context of a model opened with its text: that text's first lines."""
        return head_context(tokenizer, corpus_path, n_tokens) or self.session.context_text

    def _on_open_failed(self, exc: BaseException, failed: str) -> None:
        """`failed` is the whole sentence, e.g. "Opening notes.txt failed."."""
        if isinstance(exc, Cancelled):
            self._status(self.tr("Cancelled."))
            return
        self._status(failed)
        self.open_failed.emit(" ".join((str(exc).strip() or type(exc).__name__).split()))
        if not self.dialogs:
            return
        if self.session.model is None and self.default_if_refused:
            self.default_if_refused = False  # once, should the bundled model fail too
            QTimer.singleShot(0, self.load_default)
        if isinstance(exc, (ValueError, OSError)):
            dialogs.show_exception(self.window, exc, headline=failed)
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
            dialogs.show_error(self.window, self.tr("Training is running"), self.tr(
                "Stop training (Shift+F5) before saving; the weights are kept."))
            return False
        start = self.session.model_path or proposed_model_path(self.session.model_origin,
                                                               self.recent.last_dir())
        path = dialogs.ask_save_path(self.window, self.tr("Save model"), start,
                                     self._model_filter())
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
        from engine.storage.export import history_to_csv

        if not self.session.history:
            dialogs.show_error(self.window, self.tr("No training history"), self.tr(
                "This model has no training records yet. Train it first (F5)."))
            return False
        start = str(Path(self.recent.last_dir()) / "training_history.csv")
        path = dialogs.ask_save_path(self.window, self.tr("Export training history"), start,
                                     self.tr("CSV files (*.csv);;All files (*)"))
        if not path:
            return False
        try:
            history_to_csv(self.session.history, path)
        except OSError as exc:
            dialogs.show_exception(self.window, exc, headline=self.tr(
                "Exporting the training history failed."))
            return False
        self._status(self.tr("Exported {0} training records to {1}").format(
            f"{len(self.session.history):,}", path))
        return True

    def export_hf(self) -> None:
        """Write the model as a Hugging Face folder: its own family's, GPT-2 or Llama."""
        from engine.storage.imports.hf_export import ExportError, check_exportable, export_hf

        s = self.session
        if s.model is None:
            return
        try:
            check_exportable(s.model)  # said before a folder is asked for
        except ExportError as exc:
            dialogs.show_error(self.window, self.tr("This model cannot be written as a Hugging Face folder"), str(exc))
            return
        folder = dialogs.ask_directory(self.window, self.tr(
            "Export as a Hugging Face folder (choose an empty folder)"), self.recent.last_dir())
        if not folder:
            return
        model, tokenizer = s.model, s.tokenizer

        def job(report):
            return export_hf(model, tokenizer, folder)  # refuses a folder that is not empty

        def done(exported) -> None:
            notes = " ".join(exported.notes)
            self._status(self.tr("Exported the model to {0} ({1}). {2}").format(
                exported.folder, ", ".join(exported.files), notes), 0)

        label = self.tr("Exporting to {0}…").format(folder)
        self._status(label)
        self.jobs.run(job, label, done, lambda exc: self._on_open_failed(
            exc, self.tr("Exporting the model failed.")), cancellable=False)

    def _save_to(self, path: str, overwrite: bool) -> bool:
        """Save under the CLI's rules (engine.storage.outputs): never over the training text or a file
        that is not a model, an existing model only when it is this one's file or the user
        said to replace it; checked before writing. A failed write leaves the old file as it
        was and puts the weights in a rescue file the message names."""
        from engine.storage.outputs import check_output, checkpoint_bytes, save_with_rescue

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
            dialogs.show_exception(self.window, exc, headline=self.tr("Saving the model failed."))
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
            dialogs.show_exception(self.window, exc, headline=self.tr("Saving the model failed."))
            return False
        QApplication.restoreOverrideCursor()
        if failure is not None:
            # Saved, but not where asked: the model stays unsaved at its own place.
            dialogs.show_error(self.window, self.tr("The model was saved elsewhere"), self.tr(
                "{0}\n\nThe file there is unchanged. The model was saved to {1} instead; open it "
                "from there or save again elsewhere.").format(failure, saved))
            self._status(self.tr("Saved to {0} instead of {1}").format(saved, plan.path), 0)
            return False
        s.mark_saved(str(saved))
        self.recent.remember(str(saved))
        self._status(self.tr("Saved {0}").format(saved))
        return True

    def shutdown(self) -> None:
        self.jobs.shutdown()
