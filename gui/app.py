"""The QApplication: its names, the process runtime, the error hook, the loading window, the
quit signals (SIGTERM, SIGHUP) and recovery, and the window (or a screenshot). Only the launcher
imports this module.

Start-up order matters for what the user sees: this module imports only Qt, so the loading
window is on screen a few tenths of a second after launch; torch is then imported in the
background while that window stays live, and only then the main window (pyqtgraph, the panels).
"""
from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier, Qt, QTimer
from PySide6.QtGui import QIcon, QPainter
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from gui import runtime, settings

SCREENSHOT_TIMEOUT_S = 120
LOADING_PAINT_TIMEOUT_S = 2.0  # how long to wait for the loading window's first paint
# Imported off the GUI thread while the loading window shows (no Qt in them: Qt objects belong
# to the thread that made them). torch is most of the launch time.
BACKGROUND_IMPORTS = ("torch", "engine.model.decoder", "engine.model.trace", "engine.storage.checkpoint")
QUIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                     if hasattr(signal, name))



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


# -- the loading window --------------------------------------------------------------------------


class LoadingWindow(QWidget):
    """A small window on screen at once: the app's name, and that it is loading."""

    def __init__(self):
        super().__init__(None, Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("loading")
        self.setWindowTitle("Transformer Explorer")
        self.painted_at: float | None = None  # time.time() of the first paint
        title = QLabel("Transformer Explorer")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        self.message = QLabel(QCoreApplication.translate("App", "Loading the model…"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSizeConstraint(QVBoxLayout.SizeConstraint.SetNoConstraint)  # a fixed size
        for label in (title, self.message):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        self.setAutoFillBackground(True)
        self.resize(420, 140)
        screen = QApplication.primaryScreen()
        if screen is not None:
            self.move(screen.availableGeometry().center() - self.rect().center())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        painter = QPainter(self)  # the frame: a frameless window needs its own edge
        painter.setPen(self.palette().mid().color())
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()
        if self.painted_at is None:
            self.painted_at = time.time()

    def wait_painted(self, timeout_s: float = LOADING_PAINT_TIMEOUT_S) -> bool:
        """Process events until the window has painted once (or `timeout_s` passed)."""
        deadline = time.monotonic() + timeout_s
        while self.painted_at is None and time.monotonic() < deadline:
            QApplication.processEvents()
            if self.painted_at is None:
                time.sleep(0.005)
        return self.painted_at is not None


def show_loading() -> LoadingWindow:
    """Show the loading window and return once it has painted."""
    loading = LoadingWindow()
    loading.show()
    loading.wait_painted()
    return loading


def import_in_background(modules=BACKGROUND_IMPORTS) -> None:
    """Import `modules` on a helper thread while the GUI thread keeps processing events (the
    loading window stays live). An import that fails is left for the caller's own import to
    raise, with its traceback where it belongs."""
    import importlib

    def work() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 (raised again by the main thread's import)
                return

    worker = threading.Thread(target=work, name="imports", daemon=True)
    worker.start()
    while worker.is_alive():
        QApplication.processEvents()
        worker.join(0.02)


# -- the window ----------------------------------------------------------------------------------


def create_window(path: str | None = None, lang: str | None = None, restore_layout: bool = True,
                  load_default: bool | None = None):
    """The main window, opening `path` (text or model) or else the bundled default
    (`load_default=False`: neither, e.g. while a recovery copy is offered)."""
    from gui import i18n
    from gui.window import MainWindow

    # --lang, else the remembered choice, else the system locale on first launch.
    window = MainWindow(lang=i18n.initial_language(lang), restore_layout=restore_layout,
                        load_default=path is None if load_default is None else load_default)
    if path is not None:
        window.documents.default_if_refused = True  # never an empty window at launch
        QTimer.singleShot(0, lambda: window.open_path(path))
    return window


def run(path: str | None = None, screenshot: str | None = None, panel: str | None = None,
        lang: str | None = None, size: tuple[int, int] | None = None) -> int:
    """Show the window and run the event loop; with `screenshot`, save a PNG and exit."""
    t0 = time.perf_counter()
    app = create_app()
    from gui import i18n

    # The loading window speaks the window's language: the catalogue is installed first.
    lang = i18n.initial_language(lang)
    i18n.install(lang)
    loading = show_loading()
    import_in_background()
    from gui import dialogs, recovery

    # A screenshot shows what the arguments ask for; a question would block it.
    offers = [] if screenshot else recovery.pending()
    window = create_window(None if offers else path, lang, restore_layout=screenshot is None,
                           load_default=False if offers else None)
    dialogs.install_excepthook(lambda: window)
    guard = TerminationGuard(app, window)
    window.show()
    loading.close()
    loading.deleteLater()
    restored: list[recovery.Restored] = []

    def offer() -> None:
        watcher = offer_recovery(window, offers[0], path)
        if watcher is not None:
            restored.append(watcher)

    if offers:
        QTimer.singleShot(0, offer)  # once the window is on screen, as the dialog's parent
    if screenshot:
        _arrange_screenshot(app, window, screenshot, panel, t0, size)
    try:
        return app.exec()
    finally:
        guard.uninstall()
        for watcher in restored:
            # The user quit having decided (saved, or discarded when asked), or a new copy
            # holds the model now; a copy never shown, or not replaced, is kept.
            if watcher.opened and not guard.save_failed:
                watcher.finish()
        dialogs.uninstall_excepthook()


def offer_recovery(window, info, path: str | None = None):
    """Ask whether to restore the recovery copy `info`: open it (unsaved), or discard it and
    open `path` or the bundled default. The Restored watcher when restoring, else None."""
    from gui import recovery

    if not recovery.ask_restore(window, info):
        recovery.discard(info.path)
        if path is not None:
            window.open_path(path)
        else:
            window.load_default()
        return None

    def opened(info) -> None:
        if info.context.strip():
            window.context_box.set_text(info.context)
        window.show_status(QCoreApplication.translate(
            "App", "Restored the model that was not saved; save it with File → Save model."), 0)

    restored = recovery.Restored(window.session, info, opened)
    window.open_model(str(info.path))
    return restored


class TerminationGuard(QObject):
    """SIGTERM and SIGHUP (a logout, `kill`) close the app cleanly, and a model that was not
    saved is first written as a recovery copy (gui.recovery).

    Python runs its signal handlers only between bytecodes, never while Qt's event loop sleeps
    in C++; the signal's wake-up byte goes to a socket that a QSocketNotifier watches, so the
    event loop wakes and the work happens here, on the GUI thread, between events.
    """

    def __init__(self, app: QApplication, window):
        super().__init__(window)
        self.app = app
        self.window = window
        self.received: int | None = None
        self.save_failed = False
        self.saved_to: Path | None = None
        self._previous: dict[int, object] = {}
        self._old_wakeup = -1
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        try:
            self._old_wakeup = signal.set_wakeup_fd(self._writer.fileno(),
                                                    warn_on_full_buffer=False)
        except ValueError:  # not the main thread: no signals here
            self._notifier = None
            return
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._wake)
        for signum in QUIT_SIGNALS:
            # The handler itself does nothing: the wake-up byte carries the signal.
            self._previous[signum] = signal.signal(signum, lambda *_: None)

    def _wake(self, *_args) -> None:
        try:
            data = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        for signum in data:
            if signum in QUIT_SIGNALS:
                self.terminate(signum)
                return

    def terminate(self, signum: int) -> None:
        """Save a recovery copy of an unsaved model, then close without asking."""
        if self.received is not None:
            return
        self.received = signum
        window, session = self.window, self.window.session
        name = signal.Signals(signum).name
        if session.model is not None and (session.dirty or session.training):
            from gui import recovery

            run = window.run
            result = None if run.is_active else run.last_result
            try:
                self.saved_to = recovery.save_recovery(
                    session, trainer_state=result.state if result is not None else None)
                print(f"{name}: the unsaved model was kept in {self.saved_to}; it is offered "
                      "at the next launch", file=sys.stderr)
            except (OSError, ValueError) as exc:
                self.save_failed = True
                print(f"{name}: could not keep the unsaved model: {exc}", file=sys.stderr)
        try:
            from gui.window import docks

            docks.save_layout(window)
        except Exception:  # noqa: BLE001 (the layout is a convenience; quitting is not)
            pass
        window.shutdown()
        self.app.exit(0)

    def uninstall(self) -> None:
        """Back to the signal handling before (the app has left its event loop)."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            signal.set_wakeup_fd(self._old_wakeup)
            self._notifier = None
        self._reader.close()
        self._writer.close()


def _arrange_screenshot(app: QApplication, window, png: str, panel: str | None, t0: float,
                        size: tuple[int, int] | None = None) -> None:
    """Once the first trace is drawn: raise `panel`, grab the window into `png`, quit."""
    from gui.window import DEFAULT_SIZE

    size = size or DEFAULT_SIZE
    window.resize(*size)

    waited = [0]

    def grab() -> None:
        app.processEvents()
        # A panel whose numbers are computed off the GUI thread (attribution) is shown with
        # them, not half-drawn: wait for it, a few seconds at most.
        shown = getattr(window, f"{panel}_panel", None) if panel else None
        if shown is not None and hasattr(shown, "is_updating") and shown.is_updating() \
                and waited[0] < 50:
            waited[0] += 1
            QTimer.singleShot(100, grab)
            return
        ok = window.grab().save(png)
        print(f"screenshot {png} ({'saved' if ok else 'FAILED'}) "
              f"{time.perf_counter() - t0:.1f}s after launch", file=sys.stderr)
        window.close()
        app.exit(0 if ok else 1)

    def ready() -> None:
        from gui.window import docks

        window.resize(*size)  # the asked size, whatever screen the platform pretends to have
        app.processEvents()
        docks.size(window, window.docks)  # the default proportions at that size
        if panel:
            window.raise_panel(panel)
        QTimer.singleShot(300, grab)  # let the raised panel lay out and paint

    def timeout() -> None:
        print(f"no trace within {SCREENSHOT_TIMEOUT_S}s; no screenshot", file=sys.stderr)
        window.close()
        app.exit(1)

    def refused(message: str) -> None:
        # The file the screenshot was to show was refused: say why at once, as the CLI does
        # (one line, status 2), instead of waiting for a trace that will never come.
        print(f"transformer-explorer: error: {message}; no screenshot", file=sys.stderr)
        timer.stop()
        window.close()
        app.exit(2)

    window.documents.dialogs = False  # nobody is there to answer one
    # The exit status is ours to set: closing the last window would otherwise quit with 0 at
    # a moment of its own (a race that turned a refusal's status 2 into 0 under load).
    app.setQuitOnLastWindowClosed(False)
    window.documents.open_failed.connect(refused)
    window.first_trace_shown.connect(ready)
    timer = QTimer(window)
    timer.setSingleShot(True)
    timer.timeout.connect(timeout)
    timer.start(SCREENSHOT_TIMEOUT_S * 1000)
    Path(png).parent.mkdir(parents=True, exist_ok=True)
