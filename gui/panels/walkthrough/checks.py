"""The walkthrough's checks: each step of a trace recomputed independently (engine.checks) the
first time it is shown, kept for that trace, and the sentence that reports the verdict.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from engine.checks import Check, check_step
from engine.model import GPT
from engine.trace import Trace

NO_MODEL = QT_TRANSLATE_NOOP("StepChecks", "no model is loaded")


class StepChecks:
    """The check of every step shown so far, for one trace.

    `stale` is set when the weights change after the trace was taken: the trace's numbers no
    longer follow from the model's weights, so no check is run until the next trace.
    """

    def __init__(self) -> None:
        self._results: dict[str, Check | str] = {}  # a Check, or why the step could not be checked
        self.stale = False

    def reset(self, stale: bool = False) -> None:
        """Forget every result (a new trace, or new weights when `stale`)."""
        self._results.clear()
        self.stale = stale

    def result(self, model: GPT | None, trace: Trace | None, name: str) -> Check | str:
        """The check of step `name`, run on first request: a Check, or the error's text."""
        result = self._results.get(name)
        if result is None:
            result = self._results[name] = _run(model, trace, name)
        return result

    def known(self, name: str) -> Check | None:
        """The check of `name` if it was run and gave a verdict, else None."""
        result = self._results.get(name)
        return result if isinstance(result, Check) else None


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
