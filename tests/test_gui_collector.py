"""The window's process collects cyclic garbage on the GUI thread only.

A collection that fires in a worker thread (opening a model allocates a lot) can free a cycle
holding a Qt object, which Qt then deletes from that thread while the GUI thread paints it: the
app crashed so about once in ten slow launches. Run in a child process, because the collector
setting is process-wide and the test process keeps Python's default."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import gc, threading, weakref
from PySide6.QtCore import QTimer
from gui import runtime
from gui.app import create_app

app = create_app()
runtime.collect_garbage_on_gui_thread()
assert not gc.isenabled()
main = threading.get_ident()
threads = []
gc.callbacks.append(lambda phase, info: phase == "start" and threads.append(threading.get_ident()))

class Node:
    pass

def garbage(n):
    for _ in range(n):  # cycles only the cyclic collector frees
        a, b = Node(), Node()
        a.other, b.other = b, a

worker = threading.Thread(target=garbage, args=(200_000,))
worker.start(); worker.join()
probe = Node(); probe.me = probe
alive = weakref.ref(probe); del probe
QTimer.singleShot(2500, app.quit)
app.exec()
assert threads, "nothing was collected"
assert set(threads) == {main}, "a collection ran outside the GUI thread"
assert alive() is None, "a cycle was left uncollected"
print("OK", len(threads))
"""


def test_garbage_is_collected_on_the_gui_thread_only():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("OK"), done.stderr[-2000:]
