"""File → Open model: the models already on this computer (the Hugging Face cache, Ollama's
store, LM Studio's folder), listed with family, size and quantization, or any file or folder
by Browse. The list is found off the GUI thread by engine.storage.imports.local_models, which
reads only config.json files and GGUF headers, never weights."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QByteArray, QEvent, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout,
                               QHeaderView, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from gui import dialogs, settings
from gui.workers import FunctionWorker, PanelThreads

LAST_KEY = "paths/local_model_last"  # the path of the model last opened from this list
GEOMETRY_KEY = "ui/open_model_dialog"  # the dialog's size and place, as Qt saves them
PATH_ROLE = Qt.ItemDataRole.UserRole


def parameters_text(n: int | None) -> str:
    """135M, 1.5B: the size as model names write it; "?" when the files do not say."""
    if n is None:
        return "?"
    if n >= 10**9:
        return f"{n / 1e9:.1f}B"
    if n >= 10**6:
        return f"{n / 1e6:.0f}M"
    return f"{n / 1e3:.0f}K" if n >= 10**3 else str(n)


def _find(report, stores: dict):
    from engine.storage.imports.local_models import find_local_models, store_folders

    return find_local_models(**stores), store_folders(**stores)


class OpenModelDialog(QDialog):
    """The list of local models; `chosen` carries the path to open (a folder or a file).

    `stores` are find_local_models' arguments (the folders to look in); empty: the defaults,
    from the environment. Browse asks for any model file (`file_filter`) or folder, starting in
    `last_dir`."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None, last_dir: str = "", file_filter: str = "",
                 stores: dict | None = None):
        super().__init__(parent)
        self._last_dir, self._filter = last_dir, file_filter
        self._threads = PanelThreads()
        self._worker: FunctionWorker | None = None
        self._looked: list[tuple[str, Path]] = []
        self.found: list = []  # the LocalModel items listed, once the search has ended
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)  # Latin and CJK fonts differ in height
        self.table.setColumnCount(5)  # before the header's modes: they are per column
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemDoubleClicked.connect(lambda item, _col: self._open(item))
        self.table.itemSelectionChanged.connect(self._selection_changed)
        header = self.table.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, 5):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.browse = QPushButton()
        self.browse.clicked.connect(lambda: self._browse(lambda: dialogs.ask_open_path(
            self, self.tr("Open a model"), self._last_dir, self._filter)))
        self.browse_dir = QPushButton()
        self.browse_dir.clicked.connect(lambda: self._browse(lambda: dialogs.ask_directory(
            self, self.tr("Open a model folder"), self._last_dir)))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.open_button = self.buttons.button(QDialogButtonBox.StandardButton.Open)
        self.open_button.setEnabled(False)
        self.buttons.accepted.connect(lambda: self._open(self.table.currentItem()))
        self.buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.browse)
        row.addWidget(self.browse_dir)
        row.addStretch(1)
        row.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.state)
        layout.addLayout(row)
        self.resize(820, 420)
        geometry = settings.read(GEOMETRY_KEY, QByteArray())
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        self._retranslate()
        self._search(stores or {})

    # -- the search, off the GUI thread -----------------------------------------------------------
    def _search(self, stores: dict) -> None:
        self._worker = FunctionWorker(_find, stores)
        self._worker.returned.connect(self._on_found)
        self._worker.errored.connect(self._on_failed)
        self._threads.start(self._worker, "local-models")
        self._show_state()

    @property
    def searching(self) -> bool:
        return self._worker is not None

    def _on_found(self, result) -> None:
        self._worker = None
        self.found, self._looked = result
        last = settings.read(LAST_KEY, "")
        for m in self.found:
            item = QTreeWidgetItem([m.name, self._store_name(m.store), m.family,
                                    parameters_text(m.parameters), m.quantization])
            item.setData(0, PATH_ROLE, str(m.path))
            item.setToolTip(0, str(m.path) if m.supported else f"{m.path}\n{m.note}")
            if not m.supported:  # listed, so the user sees it was found, but not opened
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                for col in range(5):
                    item.setToolTip(col, m.note)
            self.table.addTopLevelItem(item)
            if m.supported and str(m.path) == last:
                self.table.setCurrentItem(item)
        if self.table.currentItem() is None and self.found and self.found[0].supported:
            self.table.setCurrentItem(self.table.topLevelItem(0))
        self._show_state()

    def _on_failed(self, exc: BaseException) -> None:
        self._worker = None
        self.state.setText(self.tr("Looking for models failed: {0}").format(exc))

    # -- texts ----------------------------------------------------------------------------------
    def _store_name(self, store: str) -> str:
        return {"huggingface": self.tr("Hugging Face cache"), "ollama": "Ollama",
                "lmstudio": "LM Studio"}.get(store, store)

    def _show_state(self) -> None:
        if self._worker is not None:
            self.state.setText(self.tr("Looking for models on this computer…"))
        elif not self.found:
            folders = "\n".join(f"  {self._store_name(s)}: {p}" for s, p in self._looked)
            self.state.setText(self.tr(
                "No models found. Looked in:\n{0}\nUse Browse to open a model file or folder "
                "from anywhere.").format(folders))
        else:
            n_ok = sum(m.supported for m in self.found)
            self.state.setText(self.tr(
                "Models found: {0}; {1} of them can be opened (the others are greyed: point at "
                "one to see why).").format(len(self.found), n_ok))

    def _retranslate(self) -> None:
        self.setWindowTitle(self.tr("Open a model"))
        self.intro.setText(self.tr(
            "Models already on this computer: the Hugging Face cache, Ollama and LM Studio. "
            "Double-click one to open it, or browse for any model file or folder."))
        self.table.setHeaderLabels([self.tr("Model"), self.tr("Store"), self.tr("Family"),
                                    self.tr("Parameters"), self.tr("Quantization")])
        self.browse.setText(self.tr("Browse file…"))
        self.browse_dir.setText(self.tr("Browse folder…"))
        self.open_button.setText(self.tr("Open"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("Cancel"))
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            m = next((m for m in self.found if str(m.path) == item.data(0, PATH_ROLE)), None)
            if m is not None:
                item.setText(1, self._store_name(m.store))
        self._show_state()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    # -- choosing -------------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        item = self.table.currentItem()
        self.open_button.setEnabled(item is not None and bool(
            item.flags() & Qt.ItemFlag.ItemIsEnabled))

    def _open(self, item: QTreeWidgetItem | None) -> None:
        if item is None or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return
        path = item.data(0, PATH_ROLE)
        settings.write(LAST_KEY, path)
        self._finish(path)

    def _browse(self, ask) -> None:
        path = ask()
        if path:
            self._finish(path)

    def _finish(self, path: str) -> None:
        self.accept()
        self.chosen.emit(path)

    def done(self, result: int) -> None:  # noqa: D102 - every way of closing comes here
        settings.write(GEOMETRY_KEY, self.saveGeometry())
        if self._worker is not None:
            self._worker.quit()  # its answer is not wanted any more; the thread ends by itself
        self._threads.stop()
        super().done(result)


def show_open_model_dialog(parent: QWidget, last_dir: str, file_filter: str,
                           open_model: Callable[[str], object]) -> OpenModelDialog:
    """The dialog, window-modal (no nested event loop): `open_model(path)` is called with the
    choice once it has closed; the dialog is deleted then."""
    dialog = OpenModelDialog(parent, last_dir, file_filter)
    dialog.chosen.connect(open_model)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog
