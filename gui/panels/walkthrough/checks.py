"""The walkthrough's checks: each step of a trace recomputed independently (engine.checks) the
first time it is shown, kept for that trace, and the sentence that reports the verdict.
"""
from __future__ import annotations

from engine.checks import Check, check_step
from engine.model import GPT
from engine.trace import Trace
from gui.strings import translate

PASSED = "✓ Check passed — {desc}. Max |difference| {diff} (tolerance {tol})."
FAILED = "✗ Check FAILED — {desc}. Max |difference| {diff} exceeds the tolerance {tol}."
ERROR = "✗ Could not check this step: {err}"
STALE = "Weights changed since this trace; the check runs again on the next trace."


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
        return "no model"
    try:
        return check_step(model, trace, name)
    except Exception as exc:  # noqa: BLE001 - a mismatched model/trace must not crash the view
        return f"{type(exc).__name__}: {exc}"


def verdict(result: Check | str | None, lang: str) -> tuple[str, str]:
    """The sentence for a check result in `lang`, and its kind: "pass", "fail" or "stale"
    (None: the weights changed since the trace)."""
    if result is None:
        return translate(STALE, lang), "stale"
    if isinstance(result, str):
        return translate(ERROR, lang).format(err=result), "fail"
    sentence = PASSED if result.passed else FAILED
    text = translate(sentence, lang).format(desc=result.description,
                                            diff=f"{result.max_abs_diff:.2e}",
                                            tol=f"{result.tolerance:.0e}")
    return text, "pass" if result.passed else "fail"
