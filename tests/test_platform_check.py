"""The launcher's check of Qt's xcb plugin (gui.platform_check): a missing system library is
named with the apt and dnf commands that install it, and the window is not attempted.

No Qt is loaded here; the linker's answer is simulated (ldd replaced), so the tests hold on any
machine.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gui import launcher, platform_check

PLUGIN = Path("/opt/PySide6/Qt/plugins/platforms/libqxcb.so")
LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /opt/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f12)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f12)
\tlibxcb-icccm.so.4 => not found
\tlibfoo-unknown.so.3 => not found
"""
LDD_COMPLETE = "\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f12)\n"
X11 = {"DISPLAY": ":0"}


def test_missing_libraries_are_read_from_ldd_once_each():
    missing = platform_check.check(X11, ldd=lambda path: LDD_MISSING, plugin=PLUGIN,
                                   platform="linux")
    assert missing is not None
    assert missing.sonames == ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libfoo-unknown.so.3")
    assert missing.packages("apt") == ["libxcb-cursor0", "libxcb-icccm4"]
    assert missing.packages("dnf") == ["xcb-util-cursor", "xcb-util-wm"]


def test_the_message_names_the_libraries_and_both_install_commands():
    text = platform_check.Missing(PLUGIN, ("libxcb-cursor.so.0", "libxcb-icccm.so.4")).message()
    assert "libxcb-cursor.so.0" in text and "libxcb-icccm.so.4" in text
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4" in text
    assert "sudo dnf install xcb-util-cursor xcb-util-wm" in text
    assert str(PLUGIN) in text


def test_nothing_missing_or_no_xcb_means_no_complaint():
    def never(path):
        raise AssertionError("ldd ran although xcb is not used")

    ok = dict(ldd=lambda path: LDD_COMPLETE, plugin=PLUGIN, platform="linux")
    assert platform_check.check(X11, **ok) is None
    # Offscreen (tests, screenshots), no display, a Wayland session, or not Linux: not checked.
    for env, system in [({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "linux"),
                        ({}, "linux"),
                        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux"),
                        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, "linux"),
                        (X11, "darwin"), (X11, "win32")]:
        assert platform_check.check(env, ldd=never, plugin=PLUGIN, platform=system) is None, env
    # Asked for explicitly, it is checked even in a Wayland session.
    forced = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}
    assert platform_check.check(forced, ldd=lambda path: LDD_MISSING, plugin=PLUGIN,
                                platform="linux") is not None


def test_no_ldd_is_no_verdict(monkeypatch):
    monkeypatch.setattr(platform_check.shutil, "which", lambda name: None)
    assert platform_check.run_ldd(PLUGIN) == ""
    assert platform_check.missing_libraries(PLUGIN) == ()


def test_the_real_plugin_is_found_without_loading_qt():
    import sys

    plugin = platform_check.xcb_plugin()
    if sys.platform.startswith("linux"):
        assert plugin is not None and plugin.name == "libqxcb.so" and plugin.is_file()


def test_the_launcher_prints_the_hint_and_exits_2_instead_of_starting_qt(monkeypatch, capsys):
    """The window path with a simulated missing library: stderr names the libraries and the
    commands, exit code 2, and gui.app (Qt) is never started."""
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(platform_check.sys, "platform", "linux")
    monkeypatch.setattr(platform_check, "xcb_plugin", lambda: PLUGIN)
    monkeypatch.setattr(platform_check, "run_ldd", lambda path: LDD_MISSING)
    import gui.app

    def no_window(**kwargs):
        raise AssertionError("the app was started although its plugin cannot load")

    monkeypatch.setattr(gui.app, "run", no_window)
    assert launcher.main(["transformer-explorer"]) == platform_check.EXIT_CODE
    err = capsys.readouterr().err
    assert "libxcb-cursor.so.0" in err and "libxcb-icccm.so.4" in err
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4" in err
    assert "sudo dnf install xcb-util-cursor xcb-util-wm" in err


@pytest.mark.parametrize("argv", [["transformer-explorer", "info", "--help"]])
def test_the_command_line_is_never_checked(monkeypatch, argv):
    """Subcommands need no display: the check does not run for them."""
    monkeypatch.setattr(platform_check, "check", lambda *a, **k: pytest.fail("checked"))
    with pytest.raises(SystemExit) as exit_:
        launcher.main(argv)
    assert exit_.value.code == 0
