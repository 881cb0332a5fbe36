"""The last folder used and the recently opened files (File → Open recent), remembered."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMenu

from gui import settings

MAX_RECENT = 8


class RecentFiles:
    """Keeps `paths/recent` and `paths/last_dir` and the menu that lists them."""

    def __init__(self, menu: QMenu, open_path: Callable[[str], None]):
        self.menu = menu
        self._open_path = open_path
        self.rebuild_menu()

    def last_dir(self) -> str:
        return settings.read("paths/last_dir", str(Path.home()))

    def files(self) -> list[str]:
        return [str(v) for v in settings.read("paths/recent", []) if v]

    def remember(self, path: str) -> None:
        settings.write("paths/last_dir", str(Path(path).parent))
        recent = [p for p in self.files() if p != path]
        settings.write("paths/recent", [path, *recent][:MAX_RECENT])
        self.rebuild_menu()

    def clear(self) -> None:
        settings.write("paths/recent", [])
        self.rebuild_menu()

    def rebuild_menu(self) -> None:
        """The menu's entries (file names are names; "Clear list" in the interface language)."""
        self.menu.clear()
        recent = self.files()
        for i, path in enumerate(recent):
            action = self.menu.addAction(f"&{i + 1} {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self._open_path(p))
        if recent:
            self.menu.addSeparator()
            self.menu.addAction(QCoreApplication.translate("RecentFiles", "Clear list"),
                                self.clear)
        self.menu.setEnabled(bool(recent))
