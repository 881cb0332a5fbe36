"""gui.latest.Latest: work off the GUI thread where only the newest request counts."""
from __future__ import annotations

import threading
import time

import pytest

from gui.latest import Latest


def _gate():
    """A job that blocks until released, so a test controls what is running."""
    release = threading.Event()
    started = threading.Event()

    def job(value):
        started.set()
        release.wait(5)
        return value

    return job, started, release


@pytest.fixture
def latest(qtbot):
    helpers = []

    def make(**kw) -> Latest:
        helper = Latest("test", **kw)
        helpers.append(helper)
        return helper

    yield make
    for helper in helpers:
        helper.shutdown()


def test_a_burst_of_requests_runs_the_first_and_the_last_only(latest, qtbot):
    helper = latest()
    job, started, release = _gate()
    ran: list[int] = []
    shown: list[int] = []
    helper.done.connect(lambda _key, value: shown.append(value))

    def record(value):
        ran.append(value)
        return value

    helper.submit(job, 0)
    assert started.wait(5)
    for i in range(1, 6):  # all asked while job 0 runs: only the newest waits
        helper.submit(record, i)
    release.set()
    qtbot.waitUntil(lambda: not helper.pending, timeout=5_000)
    assert ran == [5]
    assert shown == [0, 5]  # without supersede, the running job's answer is still shown


def test_supersede_stops_a_stale_generator_and_drops_its_items(latest, qtbot):
    helper = latest(supersede=True)
    started = threading.Event()
    release = threading.Event()
    closed = threading.Event()
    items: list[tuple[str, int]] = []
    helper.yielded.connect(lambda _key, item: items.append(("yielded", item)))
    helper.done.connect(lambda _key, value: items.append(("done", value)))

    def slow():
        try:
            yield 1
            started.set()
            release.wait(5)
            yield 2
            return 3
        finally:
            closed.set()

    def fast():
        yield 10
        return 11

    helper.submit(slow)
    assert started.wait(5)
    helper.submit(fast)
    release.set()
    qtbot.waitUntil(lambda: not helper.pending, timeout=5_000)
    assert closed.wait(5)  # the stale generator was closed at its next yield
    # Its first item may have been shown before it went stale; nothing after that.
    assert items[-2:] == [("yielded", 10), ("done", 11)]
    assert ("yielded", 2) not in items and ("done", 3) not in items


def test_keys_run_in_priority_order_and_reset_forgets_everything(latest, qtbot):
    helper = latest(priorities=("live", "scrub"))
    job, started, release = _gate()
    order: list[str] = []
    helper.done.connect(lambda key, _value: order.append(key))
    helper.submit(job, "first", key="scrub")
    assert started.wait(5)
    helper.submit(lambda: "s", key="scrub")
    helper.submit(lambda: "l", key="live")
    release.set()
    qtbot.waitUntil(lambda: not helper.pending, timeout=5_000)
    assert order == ["scrub", "live", "scrub"]  # the waiting live request went first

    job, started, release = _gate()
    helper.submit(job, "old", key="live")
    assert started.wait(5)
    helper.reset()
    assert not helper.pending
    release.set()
    time.sleep(0.2)
    qtbot.wait(50)
    assert order == ["scrub", "live", "scrub"]  # the reset job's answer never arrived
    with pytest.raises(ValueError):
        helper.submit(lambda: None, key="compare")


def test_failures_arrive_with_their_traceback(latest, qtbot):
    helper = latest()
    errors = []
    helper.failed.connect(lambda _key, exc: errors.append(exc))

    def boom():
        raise RuntimeError("no such head")

    helper.submit(boom)
    qtbot.waitUntil(lambda: bool(errors), timeout=5_000)
    assert str(errors[0]) == "no such head"
    assert "boom" in errors[0].details


def test_cancel_drops_one_key_and_keeps_the_others(latest, qtbot):
    helper = latest(priorities=("live", "scrub"), supersede=True)
    job, started, release = _gate()
    shown: list[str] = []
    helper.done.connect(lambda key, value: shown.append(f"{key}:{value}"))
    helper.submit(job, "stale", key="scrub")
    assert started.wait(5)
    helper.submit(lambda: "waiting", key="scrub")
    helper.submit(lambda: "kept", key="live")
    helper.cancel("scrub")
    release.set()
    qtbot.waitUntil(lambda: not helper.pending, timeout=5_000)
    qtbot.wait(50)
    assert shown == ["live:kept"]
