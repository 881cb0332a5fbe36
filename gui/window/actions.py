"""The window's commands: actions with their shortcuts, the menu bar and the toolbar."""
from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QStyle

from gui.strings import translate

LANGUAGES = (("en", "English"), ("zh", "中文"))


class WindowActions:
    """Every QAction of the window, and the menus and toolbar that show them.

    `docs` opens and saves (gui.window.documents), `training` is the training panel (Start
    reads its form) and `run` its run controller (gui.run); the window gives the rest.
    """

    def __init__(self, window: QMainWindow, docs, training, run, lang: str):
        self.window = window
        self._lang = lang
        P = QStyle.StandardPixmap
        self.open_text = self._action(
            "Open &text…", docs.open_text_dialog, QKeySequence.StandardKey.Open,
            P.SP_FileIcon, "Open a text file to train on (prepares a new untrained model)")
        self.open_text_encoded = self._action(
            "Open text with &encoding…", docs.open_text_with_encoding_dialog,
            tip="Open a text file, choosing how its characters are encoded (UTF-8, GBK, …) "
            "instead of detecting it")
        self.open_model = self._action(
            "Open &model…", docs.open_model_dialog, "Ctrl+Shift+O", P.SP_DirOpenIcon,
            "Open a model saved by Transformer Explorer (.safetensors)")
        self.save = self._action(
            "&Save model", docs.save_model, QKeySequence.StandardKey.Save,
            P.SP_DialogSaveButton, "Save the model, its tokenizer and its training history")
        self.save_as = self._action(
            "Save model &as…", docs.save_model_as, QKeySequence.StandardKey.SaveAs)
        self.export_history = self._action(
            "Export training &history (CSV)…", docs.export_history,
            tip="Every training record (step, losses, learning rate, tokens/s) as a CSV table")
        self.quit = self._action("&Quit", window.close, QKeySequence.StandardKey.Quit)
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)
        self.start = self._action("&Start training", training.start, "F5", P.SP_MediaPlay,
                                  "Train a new model with the Training panel's settings")
        self.pause = self._action("&Pause / resume", run.toggle_pause, "F6", P.SP_MediaPause,
                                  "Pause or resume training")
        self.stop = self._action("S&top training", run.stop, "Shift+F5", P.SP_MediaStop,
                                 "Stop after the current step; the weights are kept")
        self.reset_layout = self._action("&Reset layout", window.reset_layout)
        self.about = self._action("&About Transformer Explorer", window.show_about)
        self.about.setMenuRole(QAction.MenuRole.AboutRole)

    def _action(self, text: str, slot: Callable, shortcut=None, icon=None,
                tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.window.style().standardIcon(icon))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

    def file_actions(self) -> list[QAction]:
        """What cannot be done while training: opening or saving would race the run."""
        return [self.open_text, self.open_text_encoded, self.open_model, self.save, self.save_as]

    def build_menus(self, docks: dict[str, QDockWidget], recent_menu: QMenu,
                    set_language: Callable[[str], None]) -> None:
        """The menu bar; `recent_menu` is File → Open recent (gui.window.recent fills it)."""
        t = lambda text: translate(text, self._lang)  # noqa: E731
        bar = self.window.menuBar()
        file_menu = bar.addMenu(t("&File"))
        file_menu.addActions([self.open_text, self.open_text_encoded, self.open_model])
        file_menu.addMenu(recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.save, self.save_as, self.export_history])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)

        train_menu = bar.addMenu(t("&Training"))
        train_menu.addActions([self.start, self.pause, self.stop])

        view_menu = bar.addMenu(t("&View"))
        for dock in docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self.reset_layout)
        lang_menu = view_menu.addMenu(t("&Language"))
        group = QActionGroup(self.window)
        for code, label in LANGUAGES:
            action = group.addAction(label)
            action.setCheckable(True)
            action.setChecked(code == self._lang)
            action.triggered.connect(lambda _checked=False, c=code: set_language(c))
            lang_menu.addAction(action)
        self.menus = {"file": file_menu, "training": train_menu, "view": view_menu,
                      "language": lang_menu}

        help_menu = bar.addMenu(t("&Help"))
        help_menu.addAction(self.about)
        self.menus["help"] = help_menu

    def build_toolbar(self) -> None:
        from PySide6.QtCore import Qt

        tb = self.window.addToolBar("Main")
        tb.setObjectName("toolbar_main")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setMovable(False)
        tb.addActions([self.open_text, self.open_model, self.save])
        tb.addSeparator()
        tb.addActions([self.start, self.pause, self.stop])

    def retranslate(self, lang: str) -> None:
        """Menu titles in `lang` (the actions' own texts follow with the Qt Linguist issue)."""
        self._lang = lang
        for key, text in (("file", "&File"), ("training", "&Training"), ("view", "&View"),
                          ("language", "&Language"), ("help", "&Help")):
            self.menus[key].setTitle(translate(text, lang))
