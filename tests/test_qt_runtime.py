"""Guards against a Qt binding that corrupts Python's reference counts: PySide6 6.12.0 on
Python 3.11 dropped a reference to None per void call and to True per Signal.emit(), and the
app aborted ("none_dealloc") after tens of thousands of calls. 6.11.3 is pinned for this."""
import sys

import pytest
from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    ping = Signal()


# From Python 3.12 None and True are immortal: their reference count is a constant, so the bug
# can neither be seen nor crash the app there, and this check would pass whatever Qt did.
@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None/True are immortal on 3.12+")
def test_void_qt_calls_and_emits_keep_singletons_alive(qtbot):
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        label.setText("a")
        label.setEnabled(True)
        probe.setObjectName("probe")
        probe.ping.emit()
    assert sys.getrefcount(None) >= none_before - 10
    assert sys.getrefcount(True) >= true_before - 10
