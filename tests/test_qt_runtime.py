"""Guards against a Qt binding that corrupts Python's reference counts (PySide6 6.12.0 on
Python 3.11 dropped a reference to None per void call and aborted the app after ~60k calls)."""
import sys


def test_void_qt_calls_keep_none_alive(qtbot):
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("a")
        label.setEnabled(True)
    assert sys.getrefcount(None) >= before - 10
