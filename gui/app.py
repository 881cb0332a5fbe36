"""The QApplication: its names, the process runtime, the error hook, and the window (or a
screenshot). Only the launcher imports this module."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from gui import runtime, settings

SCREENSHOT_TIMEOUT_S = 120


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), named so QSettings has a stable home."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationDisplayName("Transformer Explorer")
    runtime.configure_interpreter()
    from gui import resources

    icon = resources.icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    return app


def create_window(path: str | None = None, lang: str | None = None, restore_layout: bool = True):
    """The main window, opening `path` (text or model) or else the bundled default."""
    from gui import i18n
    from gui.window import MainWindow

    # --lang, else the remembered choice, else the system locale on first launch.
    window = MainWindow(lang=i18n.initial_language(lang), restore_layout=restore_layout,
                        load_default=path is None)
    if path is not None:
        QTimer.singleShot(0, lambda: window.open_path(path))
    return window


def run(path: str | None = None, screenshot: str | None = None, panel: str | None = None,
        lang: str | None = None) -> int:
    """Show the window and run the event loop; with `screenshot`, save a PNG and exit."""
    t0 = time.perf_counter()
    app = create_app()
    from gui import dialogs

    window = create_window(path, lang, restore_layout=screenshot is None)
    dialogs.install_excepthook(lambda: window)
    window.show()
    if screenshot:
        _arrange_screenshot(app, window, screenshot, panel, t0)
    try:
        return app.exec()
    finally:
        dialogs.uninstall_excepthook()


def _arrange_screenshot(app: QApplication, window, png: str, panel: str | None, t0: float) -> None:
    """Once the first trace is drawn: raise `panel`, grab the window into `png`, quit."""
    from gui.window import DEFAULT_SIZE

    window.resize(*DEFAULT_SIZE)

    def grab() -> None:
        app.processEvents()
        ok = window.grab().save(png)
        print(f"screenshot {png} ({'saved' if ok else 'FAILED'}) "
              f"{time.perf_counter() - t0:.1f}s after launch", file=sys.stderr)
        window.close()
        app.exit(0 if ok else 1)

    def ready() -> None:
        if panel:
            window.raise_panel(panel)
        QTimer.singleShot(300, grab)  # let the raised panel lay out and paint

    def timeout() -> None:
        print(f"no trace within {SCREENSHOT_TIMEOUT_S}s; no screenshot", file=sys.stderr)
        window.close()
        app.exit(1)

    window.first_trace_shown.connect(ready)
    timer = QTimer(window)
    timer.setSingleShot(True)
    timer.timeout.connect(timeout)
    timer.start(SCREENSHOT_TIMEOUT_S * 1000)
    Path(png).parent.mkdir(parents=True, exist_ok=True)
