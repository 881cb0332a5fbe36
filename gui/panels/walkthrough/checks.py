"""The walkthrough's checks: each step of a trace recomputed independently (engine.model.checks) the
first time it is shown, kept for that trace, and the sentence that reports the verdict.

A large model's checks run off the GUI thread (gui.latest): checking GPT-2 small's logits
redoes a (T x 768) · (768 x 50,257) product in float64 and the model's forward, seconds of work
that must not hold up stepping; the verdict reads "checking…" until it arrives.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, Signal

from engine.model.checks import Check, check_step
from engine.model.decoder import GPT
from engine.model.trace import Trace
from gui.latest import Latest, worth_a_thread

NO_MODEL = QT_TRANSLATE_NOOP("StepChecks", "no model is loaded")
PENDING = "pending"  # result() of a check still running in the background


class StepChecks(QObject):
    """The check of every step shown so far, for one trace.

    `stale` is set when the weights change after the trace was taken: the trace's numbers no
    longer follow from the model's weights, so no check is run until the next trace.
    `checked(name)` fires when a check run in the background has arrived.
    """

    checked = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._results: dict[str, Check | str] = {}  # a Check, or why the step could not be checked
        self.stale = False
        self._jobs: Latest | None = None  # made for the first large model, ended by shutdown()
        self._trace: Trace | None = None  # the trace the background checks are of
        self._asked: str | None = None  # the step whose check is running for that trace

    def reset(self, stale: bool = False) -> None:
        """Forget every result (a new trace, or new weights when `stale`)."""
        self._results.clear()
        self.stale = stale
        self._trace = self._asked = None
        if self._jobs is not None:
            self._jobs.reset()

    def result(self, model: GPT | None, trace: Trace | None, name: str) -> Check | str:
        """The check of step `name`, run on first request: a Check, the error's text, or
        PENDING while a large model's check runs in the background."""
        result = self._results.get(name)
        if result is not None:
            return result
        # Off the GUI thread for a large model, and for any step the trace recomputes when
        # read (a 50k vocabulary's logits cost seconds whatever the model's width).
        if trace is not None and name in trace and (worth_a_thread(model)
                                                    or not trace[name].kept):
            if trace is self._trace and name == self._asked:
                return PENDING  # asked already (a redraw while it runs): not a second run
            if self._jobs is None:
                self._jobs = Latest("walkthrough-checks", parent=self)
                self._jobs.done.connect(self._on_done)
            self._trace, self._asked = trace, name
            self._jobs.submit(_checked, model, trace, name)
            return PENDING
        result = self._results[name] = _run(model, trace, name)
        return result

    def _on_done(self, _key: str, answer: tuple) -> None:
        trace, name, result = answer
        if trace is self._trace and not self.stale:
            if name == self._asked:
                self._asked = None
            self._results[name] = result
            self.checked.emit(name)

    def shutdown(self) -> None:
        """End the background thread, if one was started."""
        if self._jobs is not None:
            self._jobs.shutdown()

    def known(self, name: str) -> Check | None:
        """The check of `name` if it was run and gave a verdict, else None."""
        result = self._results.get(name)
        return result if isinstance(result, Check) else None


def _checked(model: GPT, trace: Trace, name: str) -> tuple[Trace, str, Check | str]:
    """A background check's answer, with what it is the answer to."""
    return trace, name, _run(model, trace, name)


def _run(model: GPT | None, trace: Trace | None, name: str) -> Check | str:
    if model is None or trace is None:
        return NO_MODEL  # translated when shown
    try:
        return check_step(model, trace, name)
    except Exception as exc:  # noqa: BLE001 - a mismatched model/trace must not crash the view
        return f"{type(exc).__name__}: {exc}"


def verdict(result: Check | str | None, lang: str) -> tuple[str, str]:
    """The sentence for a check result (the check's description in `lang`, the sentence in the
    interface language), and its kind: "pass", "fail" or "stale" (None: the weights changed
    since the trace)."""
    if result is None:
        return QCoreApplication.translate(
            "StepChecks",
            "Weights changed since this trace; the check runs again on the next trace."), "stale"
    if result == PENDING:
        return QCoreApplication.translate(
            "StepChecks", "Checking this step (recomputing it in float64)…"), "stale"
    if isinstance(result, str):
        err = QCoreApplication.translate("StepChecks", result) if result == NO_MODEL else result
        return QCoreApplication.translate(
            "StepChecks", "✗ Could not check this step: {err}").format(err=err), "fail"
    fields = dict(desc=result.description_in(lang), diff=f"{result.max_abs_diff:.2e}",
                  tol=f"{result.tolerance:.0e}")
    if result.passed:
        return QCoreApplication.translate(
            "StepChecks", "✓ Check passed — {desc}. Max |difference| {diff} (tolerance {tol})."
        ).format(**fields), "pass"
    return QCoreApplication.translate(
        "StepChecks",
        "✗ Check FAILED — {desc}. Max |difference| {diff} exceeds the tolerance {tol}."
    ).format(**fields), "fail"
