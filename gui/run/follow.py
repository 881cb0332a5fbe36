"""`RunFollower`: a run directory (engine.training.rundir) shown live as another process writes it.

The writer may be a CLI run on this machine, or a cluster run on a shared or synced folder, so
the follower polls (a QTimer, every POLL_MS) instead of waiting for file-system events. Each
poll reads only what was added (engine.training.runreader.RunReader) and builds the newest snapshot's model
on a helper thread (gui.latest.Latest): the GUI thread never touches the disk. What a poll
found reaches the window through the run controller's own paths (Records, WeightsModel,
SnapshotWritten), exactly as a run of the window's would.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from engine.config import ModelConfig, TrainConfig
from engine.text.filetype import NotARegularFile
from engine.text.fullvocab import tokenizer_from_dict
from engine.training.job_messages import Records, SnapshotWritten
from engine.model.decoder import GPT
from engine.training.runreader import RunReader, RunUpdate
from engine.text.tokenizers import Tokenizer
from gui.latest import Latest
from gui.run.relay import WeightsModel, model_from_weights
from gui.session import Session

POLL_MS = 1000  # a run records a few lines a second; a second's delay is what a user sees
QUIET_POLL_MS = 5000  # once nothing new arrived for QUIET_S: cheaper on a network folder
QUIET_S = 60.0


@dataclass(frozen=True)
class Polled:
    """One poll, read and built off the GUI thread."""

    update: RunUpdate
    config: ModelConfig | None  # the run's model config, when (re)read in this poll
    tokenizer: Tokenizer | None  # likewise
    train_config: TrainConfig | None
    step: int | None  # the step of `model`
    model: GPT | None  # the newest snapshot's weights, when newer than the ones shown


def poll_run(reader: RunReader, config: ModelConfig | None, shown_step: int | None) -> Polled:
    """Read what is new in the run; build the newest snapshot into a model (helper thread)."""
    update = reader.poll()
    fresh_config = tokenizer = train_config = None
    if update.configs and (config is None or update.reset):
        try:
            fresh_config = ModelConfig.from_dict(update.configs["model_config"])
            tokenizer = tokenizer_from_dict(update.configs["tokenizer"])
            train_config = TrainConfig.from_dict(update.configs.get("train_config") or {})
        except (KeyError, TypeError, ValueError, AttributeError):
            fresh_config = tokenizer = train_config = None  # loss curves only
        config = fresh_config or (None if update.reset else config)
    step = model = None
    if config is not None and update.snapshots:
        newest = update.snapshots[-1]
        if newest != shown_step or fresh_config is not None:
            try:
                weights = reader.snapshots.load(newest)
            except NotARegularFile:
                weights = None
                reader.snapshots.mark_bad(newest)
            except (KeyError, OSError):
                weights = None  # thinned away, or the folder went away: the next poll tries
            except Exception:  # noqa: BLE001 - any unreadable file (SafetensorError too)
                weights = None
                reader.snapshots.mark_bad(newest)  # skipped and counted, not retried
            try:
                if weights is not None:
                    model, step = model_from_weights(config, weights), newest
            except (KeyError, RuntimeError, ValueError):  # weights of another shape
                reader.snapshots.mark_bad(newest)
    update.bad_snapshots = reader.snapshots.bad  # with any marked just now
    return Polled(update, fresh_config, tokenizer, train_config, step, model)


class RunFollower(QObject):
    """Follows one run directory until stopped; `changed` whenever what `describe()` says or
    `title()` shows may differ."""

    changed = Signal()

    def __init__(self, session: Session, deliver: Callable[[object], None],
                 parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._deliver = deliver  # the run controller's: RunController.deliver
        self.reader: RunReader | None = None
        self._config: ModelConfig | None = None
        self._tokenizer: Tokenizer | None = None
        self._train_config: TrainConfig | None = None
        self._shown_step: int | None = None
        self._has_model = False  # the session shows this run's model
        self.records = 0
        self.end: dict | None = None
        self.quiet = False
        self._last_news = time.monotonic()
        self._polling = False
        self._poll_started = 0.0
        self.last_poll_s = 0.0  # how long the helper thread took for the last poll
        self._last: RunUpdate | None = None  # the newest poll's update (its skipped counts)
        self._jobs = Latest("run-follow", parent=self)
        self._jobs.done.connect(self._on_polled)
        self._jobs.failed.connect(self._on_failed)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    # -- what the window reads ------------------------------------------------------------------
    @property
    def directory(self) -> Path | None:
        return None if self.reader is None else self.reader.directory

    @property
    def ended(self) -> bool:
        return self.end is not None

    @property
    def has_model(self) -> bool:
        """A snapshot of the run is the session's model (else only its loss curves show)."""
        return self._has_model

    @property
    def step(self) -> int:
        rows = self.session.history
        return int(rows[-1].get("step", 0)) if rows else 0

    def describe(self) -> str:
        """One sentence for the status bar and the Training panel, in the installed language;
        what was skipped (bad record lines, bad snapshots, files that are not files) after it."""
        skipped = self.skipped()
        return self._state() + (" " + skipped if skipped else "")

    def skipped(self) -> str:
        """"Skipped: 2 bad record lines, 1 bad snapshot.", or "" when nothing was."""
        u = self._last
        if u is None or not (u.bad_lines or u.bad_snapshots or u.refused):
            return ""
        parts = []
        if u.bad_lines:
            parts.append(self.tr("{n} bad record lines").format(n=f"{u.bad_lines:,}"))
        if u.bad_snapshots:
            parts.append(self.tr("{n} bad snapshots").format(n=f"{u.bad_snapshots:,}"))
        if u.refused:
            parts.append(self.tr("{names} not regular files (never opened)").format(
                names=", ".join(u.refused)))
        return self.tr("Skipped: {what}.").format(what="; ".join(parts))

    def _state(self) -> str:
        name = self.directory.name if self.directory else ""
        if self.ended:
            outcome = str(self.end.get("outcome", ""))
            words = {"done": self.tr("finished"), "stopped": self.tr("stopped"),
                     "diverged": self.tr("diverged"), "failed": self.tr("failed")}
            return self.tr("Run {name} has ended ({outcome}) at step {step}; following "
                           "stopped.").format(name=name, outcome=words.get(outcome, outcome),
                                              step=f"{self.step:,}")
        if self.quiet:
            return self.tr("Run {name}: no new records for a minute; it may have stopped "
                           "without ending. Still watching.").format(name=name)
        if not self._has_model:
            return self.tr(
                "Following run {name}: {records} records, no snapshots yet. The loss curves are "
                "the run's; the other panels keep the model shown before until its first "
                "snapshot arrives.").format(name=name, records=f"{self.records:,}")
        return self.tr("Following run {name}: step {step}, {records} records, {snapshots} "
                       "snapshots; the panels show step {shown}.").format(
            name=name, step=f"{self.step:,}", records=f"{self.records:,}",
            snapshots=len(self.reader.snapshots.steps()), shown=f"{self._shown_step:,}")

    def title(self) -> str:
        """The window title's name for the run."""
        name = self.directory.name if self.directory else ""
        if self.ended:
            return self.tr("run {name} (ended)").format(name=name)
        return self.tr("following run {name}").format(name=name)

    # -- control --------------------------------------------------------------------------------
    def start(self, directory: str) -> None:
        """Follow `directory` (engine.training.rundir.NotARun when it is not a run; nothing changed)."""
        self.reader = RunReader(directory)
        s = self.session
        s.set_document(None)  # what is shown is the run's, saved nowhere yet
        s.set_history([])  # the run's records replace the curves shown before
        s.set_snapshots(self.reader.snapshots)
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        """Stop polling; a poll still running is dropped."""
        self._timer.stop()
        self._jobs.shutdown()

    def poll(self) -> None:
        """Read the folder again (off the GUI thread), unless the last read has not returned."""
        if self._polling or self.reader is None:
            return
        self._polling = True
        self._poll_started = time.monotonic()
        self._jobs.submit(poll_run, self.reader, self._config, self._shown_step)

    # -- a poll's answer (GUI thread) -----------------------------------------------------------
    def _on_polled(self, _key: str, polled: Polled) -> None:
        self._polling = False
        self.last_poll_s = time.monotonic() - self._poll_started
        u, s = polled.update, self.session
        self._last = u
        if polled.config is not None:
            self._config, self._tokenizer = polled.config, polled.tokenizer
            self._train_config = polled.train_config
            self._has_model = False  # a (new) run: its model replaces the session's
        if u.reset:
            self.records = len(u.records)
            s.set_history(list(u.records))
        elif u.records:
            self.records += len(u.records)
            self._deliver(Records(u.records))
        if polled.model is not None:
            self._shown_step = polled.step
            if not self._has_model:
                s.set_model(polled.model, self._tokenizer)
                s.set_document(None, self._train_config)
                self._has_model = True
                # Shown already: only the Training panel's sample is written from it.
                self._deliver(WeightsModel(polled.step, polled.model, "eval", False))
            else:
                # "eval": the Training panel writes a sample from these weights too.
                self._deliver(WeightsModel(polled.step, polled.model, "eval", True))
        if u.new_snapshots or u.reset:
            self._deliver(SnapshotWritten(str(self.reader.snapshots.directory)))
        now = time.monotonic()
        if u.changed:
            self._last_news = now
        quiet = now - self._last_news > QUIET_S
        if quiet != self.quiet:
            self.quiet = quiet
            self._timer.setInterval(QUIET_POLL_MS if quiet else POLL_MS)
        if u.end is not None:
            self.end = u.end
            self._timer.stop()  # everything the run wrote has been read with its end
        self.changed.emit()

    def _on_failed(self, _key: str, exc: BaseException) -> None:
        # A read that failed (e.g. the network folder went away) is tried again next time.
        self._polling = False
