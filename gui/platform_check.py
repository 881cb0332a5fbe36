"""Before Qt starts on Linux: can its X11 (xcb) platform plugin load?

The xcb plugin links system libraries (libxcb-cursor0, libxcb-icccm4, ...) that a minimal Linux
may not have. Qt then aborts with its generic "could not load the Qt platform plugin "xcb"",
which does not say what is missing. This check asks the dynamic linker (`ldd` on the plugin)
which libraries it cannot find, and names them with the apt and dnf commands that install them.
It imports no Qt, so it runs before anything could abort.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

EXIT_CODE = 2

# soname -> (Debian/Ubuntu package, Fedora/RHEL package): what Qt 6's xcb plugin needs beyond a
# base system (Qt's own "X11 requirements" page), plus the libraries those pull in.
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libXau.so.6": ("libxau6", "libXau"),
    "libXdmcp.so.6": ("libxdmcp6", "libXdmcp"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")

# Runs `ldd PATH` and returns its standard output; replaced in tests.
LddRunner = Callable[[Path], str]


@dataclass(frozen=True)
class Missing:
    """Libraries the xcb plugin needs and the system lacks."""

    plugin: Path
    sonames: tuple[str, ...]

    def packages(self, system: str) -> list[str]:
        """Package names for "apt" or "dnf", in order, once each (unknown sonames left out)."""
        column = 0 if system == "apt" else 1
        out: list[str] = []
        for soname in self.sonames:
            package = PACKAGES.get(soname, (None, None))[column]
            if package and package not in out:
                out.append(package)
        return out

    def message(self) -> str:
        """What to tell the user: which libraries, and how to install them."""
        lines = [
            "Transformer Explorer cannot open its window: Qt's X11 platform plugin (xcb) needs "
            "system libraries that are not installed:",
            *(f"  {soname}" for soname in self.sonames),
            "",
            "Install them, then start the app again:",
        ]
        apt, dnf = self.packages("apt"), self.packages("dnf")
        if apt:
            lines.append(f"  Debian/Ubuntu:  sudo apt install {' '.join(apt)}")
        if dnf:
            lines.append(f"  Fedora/RHEL:    sudo dnf install {' '.join(dnf)}")
        unknown = [s for s in self.sonames if s not in PACKAGES]
        if unknown:
            lines.append(f"  (find the package that holds {', '.join(unknown)} for your "
                         "system, e.g. `apt-file search` or `dnf provides`)")
        lines += [
            "",
            f"(checked with ldd on {self.plugin}; the command line, e.g. "
            "`transformer-explorer train --help`, needs none of these.)",
        ]
        return "\n".join(lines)


def xcb_plugin() -> Path | None:
    """PySide6's libqxcb.so, found without importing PySide6 (that would load Qt)."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def uses_xcb(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """True when Qt will start on the xcb plugin: Linux, QT_QPA_PLATFORM unset or xcb, and an
    X display (a Wayland session with the variable unset may use Qt's wayland plugin)."""
    env = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        # "xcb" or "xcb:option=..."; a list such as "wayland;xcb" tries wayland first.
        return chosen.split(";")[0].split(":")[0] == "xcb" and bool(env.get("DISPLAY"))
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def run_ldd(path: Path) -> str:
    """`ldd path`'s output ("" when ldd is not there or fails)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return ""
    try:
        proc = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout


def missing_libraries(plugin: Path, ldd: LddRunner | None = None) -> tuple[str, ...]:
    """Sonames the linker reports as "not found" for `plugin`, each once, in its order."""
    found: list[str] = []
    for line in (ldd or run_ldd)(plugin).splitlines():
        match = _NOT_FOUND.match(line)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return tuple(found)


def check(environ: Mapping[str, str] | None = None, ldd: LddRunner | None = None,
          plugin: Path | None = None, platform: str | None = None) -> Missing | None:
    """What keeps the xcb plugin from loading, or None (nothing missing, or xcb not used)."""
    if not uses_xcb(environ, platform):
        return None
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return None  # no PySide6 here: the import will say so itself
    sonames = missing_libraries(plugin, ldd)
    return Missing(plugin, sonames) if sonames else None


def ensure_display_libraries() -> int | None:
    """Print what is missing and return the exit code, or None when the window can start."""
    missing = check()
    if missing is None:
        return None
    print(missing.message(), file=sys.stderr)
    return EXIT_CODE
