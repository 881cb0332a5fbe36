"""The window's commands: actions with their shortcuts, the menu bar and the toolbar."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QStyle

LANGUAGES = (("en", "English"), ("zh", "中文"))  # each in its own language, never translated

# key -> (text, tip): English sources, translated by retranslate() (context "WindowActions").
TEXTS: dict[str, tuple[str, str]] = {
    "open_text": (QT_TRANSLATE_NOOP("WindowActions", "Open &text…"), QT_TRANSLATE_NOOP(
        "WindowActions", "Open a text file to train on (prepares a new untrained model)")),
    "open_text_encoded": (QT_TRANSLATE_NOOP("WindowActions", "Open text with &encoding…"),
                          QT_TRANSLATE_NOOP(
        "WindowActions", "Open a text file, choosing how its characters are encoded (UTF-8, "
                         "GBK, …) instead of detecting it")),
    "open_model": (QT_TRANSLATE_NOOP("WindowActions", "Open &model…"), QT_TRANSLATE_NOOP(
        "WindowActions", "Open a model: saved by Transformer Explorer (.safetensors), a nanoGPT "
        "run's ckpt.pt, or a Hugging Face GPT-2 folder (choose its config.json or weights)")),
    "open_run": (QT_TRANSLATE_NOOP("WindowActions", "Open r&un…"), QT_TRANSLATE_NOOP(
        "WindowActions", "Follow a training run's folder live (records, snapshots), written by "
                         "the command line, a cluster on a shared folder, or this window")),
    "save": (QT_TRANSLATE_NOOP("WindowActions", "&Save model"), QT_TRANSLATE_NOOP(
        "WindowActions", "Save the model, its tokenizer and its training history")),
    "save_as": (QT_TRANSLATE_NOOP("WindowActions", "Save model &as…"), ""),
    "export_history": (QT_TRANSLATE_NOOP("WindowActions", "Export training &history (CSV)…"),
                       QT_TRANSLATE_NOOP(
        "WindowActions", "Every training record (step, losses, learning rate, tokens/s) as a "
                         "CSV table")),
    "export_hf": (QT_TRANSLATE_NOOP("WindowActions", "Export as Hugging &Face folder…"),
                  QT_TRANSLATE_NOOP(
        "WindowActions", "Write a GPT-2- or Llama-shaped model as a folder that transformers "
                         "loads (config.json, model.safetensors, its tokenizer files)")),
    "quit": (QT_TRANSLATE_NOOP("WindowActions", "&Quit"), ""),
    "start": (QT_TRANSLATE_NOOP("WindowActions", "&Start training"), QT_TRANSLATE_NOOP(
        "WindowActions", "Train a new model with the Training panel's settings")),
    "pause": (QT_TRANSLATE_NOOP("WindowActions", "&Pause / resume"), QT_TRANSLATE_NOOP(
        "WindowActions", "Pause or resume training")),
    "stop": (QT_TRANSLATE_NOOP("WindowActions", "S&top training"), QT_TRANSLATE_NOOP(
        "WindowActions", "Stop after the current step; the weights are kept")),
    "reset_layout": (QT_TRANSLATE_NOOP("WindowActions", "&Reset layout"), ""),
    "about": (QT_TRANSLATE_NOOP("WindowActions", "&About Transformer Explorer"), ""),
}
MENUS: dict[str, str] = {
    "file": QT_TRANSLATE_NOOP("WindowActions", "&File"),
    "recent": QT_TRANSLATE_NOOP("WindowActions", "Open &recent"),
    "training": QT_TRANSLATE_NOOP("WindowActions", "&Training"),
    "view": QT_TRANSLATE_NOOP("WindowActions", "&View"),
    "language": QT_TRANSLATE_NOOP("WindowActions", "&Language"),
    "help": QT_TRANSLATE_NOOP("WindowActions", "&Help"),
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("WindowActions", text)


class WindowActions:
    """Every QAction of the window, and the menus and toolbar that show them.

    `docs` opens and saves (gui.window.documents), `training` is the training panel (Start
    reads its form), `run` its run controller (gui.run) and `open_run` asks for a run folder
    to follow (gui.window.followed); the window gives the rest.
    Texts are set by `retranslate()`, which the window calls again on a language switch.
    """

    def __init__(self, window: QMainWindow, docs, training, run, open_run: Callable[[], None],
                 lang: str = "en"):
        self.window = window
        self._lang = lang
        self.menus: dict[str, QMenu] = {}
        self.toolbar = None
        P = QStyle.StandardPixmap
        self.open_text = self._action("open_text", docs.open_text_dialog,
                                      QKeySequence.StandardKey.Open, P.SP_FileIcon)
        self.open_text_encoded = self._action("open_text_encoded",
                                              docs.open_text_with_encoding_dialog)
        self.open_model = self._action("open_model", docs.open_model_dialog, "Ctrl+Shift+O",
                                       P.SP_DirOpenIcon)
        # Ctrl+Shift+O is Open model's; R for run.
        self.open_run = self._action("open_run", open_run, "Ctrl+Shift+R",
                                     P.SP_DirLinkIcon)
        self.save = self._action("save", docs.save_model, QKeySequence.StandardKey.Save,
                                 P.SP_DialogSaveButton)
        self.save_as = self._action("save_as", docs.save_model_as,
                                    QKeySequence.StandardKey.SaveAs)
        self.export_history = self._action("export_history", docs.export_history)
        self.export_hf = self._action("export_hf", docs.export_hf)
        self.quit = self._action("quit", window.close, QKeySequence.StandardKey.Quit)
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)
        self.start = self._action("start", training.start, "F5", P.SP_MediaPlay)
        self.pause = self._action("pause", run.toggle_pause, "F6", P.SP_MediaPause)
        self.stop = self._action("stop", run.stop, "Shift+F5", P.SP_MediaStop)
        self.reset_layout = self._action("reset_layout", window.reset_layout)
        self.about = self._action("about", window.show_about)
        self.about.setMenuRole(QAction.MenuRole.AboutRole)
        self._retranslate_actions()

    def _action(self, key: str, slot: Callable, shortcut=None, icon=None) -> QAction:
        action = QAction(self.window)
        action.setObjectName(f"action_{key}")
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.window.style().standardIcon(icon))
        action.triggered.connect(slot)
        return action

    def actions(self) -> dict[str, QAction]:
        """Every command by its key in TEXTS."""
        return {key: getattr(self, key) for key in TEXTS}

    def file_actions(self) -> list[QAction]:
        """What cannot be done while training: opening or saving would race the run."""
        return [self.open_text, self.open_text_encoded, self.open_model, self.open_run,
                self.save, self.save_as, self.export_hf]

    def build_menus(self, docks: dict[str, QDockWidget], recent_menu: QMenu,
                    set_language: Callable[[str], None]) -> None:
        """The menu bar; `recent_menu` is File → Open recent (gui.window.recent fills it)."""
        bar = self.window.menuBar()
        file_menu = bar.addMenu("")
        file_menu.addActions([self.open_text, self.open_text_encoded, self.open_model,
                              self.open_run])
        file_menu.addMenu(recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.save, self.save_as, self.export_history, self.export_hf])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)

        train_menu = bar.addMenu("")
        train_menu.addActions([self.start, self.pause, self.stop])

        view_menu = bar.addMenu("")
        # The docks' own toggle actions: their texts are the dock titles (gui.window.docks).
        for dock in docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self.reset_layout)
        lang_menu = view_menu.addMenu("")
        group = QActionGroup(self.window)
        self.language_actions: dict[str, QAction] = {}
        for code, label in LANGUAGES:
            action = group.addAction(label)
            action.setCheckable(True)
            action.setChecked(code == self._lang)
            action.triggered.connect(lambda _checked=False, c=code: set_language(c))
            lang_menu.addAction(action)
            self.language_actions[code] = action

        help_menu = bar.addMenu("")
        help_menu.addAction(self.about)
        self.menus = {"file": file_menu, "recent": recent_menu, "training": train_menu,
                      "view": view_menu, "language": lang_menu, "help": help_menu}
        self._retranslate_menus()

    def build_toolbar(self) -> None:
        from PySide6.QtCore import Qt

        tb = self.toolbar = self.window.addToolBar("")
        tb.setObjectName("toolbar_main")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setMovable(False)
        tb.addActions([self.open_text, self.open_model, self.save])
        tb.addSeparator()
        tb.addActions([self.start, self.pause, self.stop])
        self._retranslate_menus()

    def retranslate(self, lang: str | None = None) -> None:
        """Every action and menu title in the installed language (after a LanguageChange)."""
        if lang is not None:
            self._lang = lang
            for code, action in self.language_actions.items():
                action.setChecked(code == lang)
        self._retranslate_actions()
        self._retranslate_menus()

    def _retranslate_actions(self) -> None:
        for key, (text, tip) in TEXTS.items():
            action: QAction = getattr(self, key)
            action.setText(_tr(text))
            if tip:
                action.setStatusTip(_tr(tip))
                action.setToolTip(_tr(tip))
        # The shortcut is part of the tooltip of the commands a toolbar button shows.
        for action in (self.start, self.pause, self.stop, self.open_text, self.open_model,
                       self.save):
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys and action.toolTip():
                action.setToolTip(f"{action.statusTip() or action.toolTip()} ({keys})")

    def _retranslate_menus(self) -> None:
        for key, menu in self.menus.items():
            menu.setTitle(_tr(MENUS[key]))
        if self.toolbar is not None:
            self.toolbar.setWindowTitle(
                QCoreApplication.translate("WindowActions", "Main toolbar"))
