"""engine.training.cores: the viewer's and the trainer's cores, and pinning threads to them."""
from __future__ import annotations

import os
import threading

import pytest

from engine.training import cores


def test_split_keeps_one_core_for_the_viewer():
    assert cores.split({0, 1}) == ({0}, {1})
    assert cores.split({2, 5, 7}) == ({2}, {5, 7})
    assert cores.split({3}) == ({3}, {3})  # a single core is shared


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_a_pinned_thread_runs_where_it_was_told_and_can_go_back():
    box = {}

    def work():
        mine = cores.available()
        target = {min(mine)}
        previous = cores.pin_thread(target)
        box["pinned"] = set(os.sched_getaffinity(0))
        cores.pin_thread(previous)
        box["restored"] = set(os.sched_getaffinity(0))
        box["previous"] = previous

    thread = threading.Thread(target=work)  # on its own thread: the test's stays untouched
    thread.start()
    thread.join()
    assert box["pinned"] == {min(box["previous"])}
    assert box["restored"] == box["previous"]
