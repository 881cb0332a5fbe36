"""The window's docks: which panel each holds, their titles, the default arrangement, and the
remembered layout."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QByteArray, QCoreApplication, Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

from gui import settings

LAYOUT_VERSION = 3  # bump when the docks change, so an old saved layout is not restored

# name -> dock title (English source, translated by title()). The names are the ones
# `--panel NAME` takes (gui.launcher.PANELS) and the View menu's order.
TITLES = {
    "context": QT_TRANSLATE_NOOP("docks", "Context"),
    "walkthrough": QT_TRANSLATE_NOOP("docks", "Walkthrough"),
    "tokens": QT_TRANSLATE_NOOP("docks", "Tokens"),
    "embeddings": QT_TRANSLATE_NOOP("docks", "Embeddings"),
    "positional": QT_TRANSLATE_NOOP("docks", "Positional encoding"),
    "attention": QT_TRANSLATE_NOOP("docks", "Attention"),
    "insights": QT_TRANSLATE_NOOP("docks", "Looking inside"),
    "generation": QT_TRANSLATE_NOOP("docks", "Generation"),
    "training": QT_TRANSLATE_NOOP("docks", "Training"),
    "history": QT_TRANSLATE_NOOP("docks", "Training history"),
}


def title(name: str) -> str:
    """The title of a panel's dock in the interface language."""
    return QCoreApplication.translate("docks", TITLES[name])


def retitle(docks: dict[str, QDockWidget]) -> None:
    """Every dock's title (and so its View-menu entry) in the interface language."""
    for name, dock in docks.items():
        dock.setWindowTitle(title(name))


def make_dock(window: QMainWindow, name: str, widget: QWidget, scroll: bool = True) -> QDockWidget:
    """A movable, floatable, closable dock named `dock_<name>` (saveState finds it by name)."""
    dock = QDockWidget(title(name), window)
    dock.setObjectName(f"dock_{name}")
    if scroll:
        # A panel squeezed below its minimum size scrolls instead of forcing the whole
        # window wider than the screen (docks can be rearranged into any shape).
        area = QScrollArea()
        area.setWidget(widget)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        dock.setWidget(area)
    else:
        dock.setWidget(widget)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    return dock


def arrange(window: QMainWindow, d: dict[str, QDockWidget]) -> None:
    """Default layout for DEFAULT_SIZE: context on top, then three columns.

    Left: the step-by-step walkthrough (tabbed with tokens) above the attention heads
    (tabbed with logit lens / ablation / per-token loss); middle: positional encoding
    (tabbed with generation) above embeddings; right: training (tabbed with its history).
    """
    for dock in d.values():
        dock.setFloating(False)
        dock.show()
    window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, d["context"])
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["walkthrough"])
    window.splitDockWidget(d["walkthrough"], d["positional"], Qt.Orientation.Horizontal)
    window.splitDockWidget(d["positional"], d["training"], Qt.Orientation.Horizontal)
    window.splitDockWidget(d["walkthrough"], d["attention"], Qt.Orientation.Vertical)
    window.splitDockWidget(d["positional"], d["embeddings"], Qt.Orientation.Vertical)
    window.tabifyDockWidget(d["walkthrough"], d["tokens"])
    window.tabifyDockWidget(d["attention"], d["insights"])
    window.tabifyDockWidget(d["positional"], d["generation"])
    window.tabifyDockWidget(d["training"], d["history"])
    for key in ("walkthrough", "attention", "positional", "training"):
        d[key].raise_()


def size(window: QMainWindow, d: dict[str, QDockWidget]) -> None:
    """Default dock proportions; only meaningful once the window has its size."""
    window.resizeDocks([d["context"]], [80], Qt.Orientation.Vertical)
    window.resizeDocks([d["walkthrough"], d["positional"], d["training"]], [880, 500, 400],
                       Qt.Orientation.Horizontal)
    window.resizeDocks([d["walkthrough"], d["attention"]], [400, 500], Qt.Orientation.Vertical)
    window.resizeDocks([d["positional"], d["embeddings"]], [420, 480], Qt.Orientation.Vertical)


def restore_layout(window: QMainWindow) -> bool:
    """The remembered geometry and docks; False if there was no usable saved layout."""
    s = settings.settings()
    geometry = s.value("window/geometry")
    state = s.value("window/state")
    if isinstance(geometry, (QByteArray, bytes)):
        window.restoreGeometry(geometry)
    if isinstance(state, (QByteArray, bytes)):
        return window.restoreState(state, LAYOUT_VERSION)
    return False


def save_layout(window: QMainWindow) -> None:
    s = settings.settings()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState(LAYOUT_VERSION))
