"""The window's docks: which panel each holds, their titles, the default arrangement, and the
remembered layout."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QByteArray, QCoreApplication, QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

from gui import settings

LAYOUT_VERSION = 6  # bump when the docks change, so an old saved layout is not restored

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
    "attribution": QT_TRANSLATE_NOOP("docks", "Attribution"),
    "generation": QT_TRANSLATE_NOOP("docks", "Generation"),
    "training": QT_TRANSLATE_NOOP("docks", "Training"),
    "history": QT_TRANSLATE_NOOP("docks", "Training history"),
    "runs": QT_TRANSLATE_NOOP("docks", "Compare runs"),
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


# The tab groups of the default layout: each is one place on screen, so at most four panels
# share the window at once and each has room at 1366 x 768. The first of each group is raised.
GROUPS = {
    # Attribution sits in the widest column, beside "Looking inside": the heads that its
    # ablation marks can be compared with their direct share of the logit at a glance.
    # Compare runs too: two heatmaps side by side need the widest column.
    "learn": ("walkthrough", "tokens", "embeddings", "generation", "attribution", "runs"),
    "look": ("attention", "insights"),  # inside the model
    "waves": ("positional",),
    "train": ("training", "history"),
}


def arrange(window: QMainWindow, d: dict[str, QDockWidget]) -> None:
    """Default layout: the context on top, then three columns of tab groups (GROUPS).

    Left, the widest: the walkthrough (tabbed with tokens, embeddings, generation,
    attribution); middle:
    attention (tabbed with looking inside) above positional encoding; right: training
    (tabbed with its history), the full height for its form and curves.
    """
    for dock in d.values():
        dock.setFloating(False)
        dock.show()
    window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, d["context"])
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["walkthrough"])
    window.splitDockWidget(d["walkthrough"], d["attention"], Qt.Orientation.Horizontal)
    window.splitDockWidget(d["attention"], d["training"], Qt.Orientation.Horizontal)
    window.splitDockWidget(d["attention"], d["positional"], Qt.Orientation.Vertical)
    for names in GROUPS.values():
        for name in names[1:]:
            window.tabifyDockWidget(d[names[0]], d[name])
    for names in GROUPS.values():
        d[names[0]].raise_()


def column_widths(width: int) -> list[int]:
    """The three columns' widths for a window `width` px wide: the training form needs about
    400 px (its Chinese labels too), the middle column a readable attention grid, and the
    walkthrough the rest (its step list, map, words and numbers)."""
    train = max(400, int(width * 0.25))
    middle = max(320, int(width * 0.26))
    return [max(300, width - train - middle), middle, train]


def size(window: QMainWindow, d: dict[str, QDockWidget]) -> None:
    """Default dock proportions; only meaningful once the window has its size."""
    window.resizeDocks([d["walkthrough"], d["attention"], d["training"]],
                       column_widths(window.width()), Qt.Orientation.Horizontal)
    # Halves in pixels: sizes that only give a ratio ([1, 1]) handed the column's height to
    # the context above it.
    half = max(100, (window.height() - 220) // 2)
    window.resizeDocks([d["attention"], d["positional"]], [half, half], Qt.Orientation.Vertical)
    # There is no central widget: the columns take every pixel the context leaves (sized in
    # one call, and last: the context alone gave its extra height to an empty middle).
    window.resizeDocks([d["context"], d["walkthrough"]], [70, window.height()],
                       Qt.Orientation.Vertical)


def restore_layout(window: QMainWindow) -> bool:
    """The remembered geometry and docks; False if there was no usable saved layout."""
    s = settings.settings()
    geometry = s.value("window/geometry")
    state = s.value("window/state")
    if isinstance(geometry, (QByteArray, bytes)):
        window.restoreGeometry(geometry)
    if isinstance(state, (QByteArray, bytes)):
        restored = window.restoreState(state, LAYOUT_VERSION)
        keep_floating_on_screen(window)
        return restored
    return False


def keep_floating_on_screen(window: QMainWindow) -> None:
    """A dock left floating comes back on a screen that is still there and no larger than it
    (a screen unplugged since, or a smaller one, would put it out of reach or over everything);
    one whose screen is gone docks back into the window."""
    for dock in window.findChildren(QDockWidget):
        if not dock.isFloating():
            continue
        frame = dock.frameGeometry()
        screen = QGuiApplication.screenAt(frame.center())
        if screen is None:
            dock.setFloating(False)
            continue
        free = screen.availableGeometry()
        inner = dock.geometry()  # the frame (its title and edges) is around this
        left, top = inner.x() - frame.x(), inner.y() - frame.y()
        edges_w, edges_h = frame.width() - inner.width(), frame.height() - inner.height()
        width, height = min(frame.width(), free.width()), min(frame.height(), free.height())
        x = min(max(frame.x(), free.left()), free.right() - width + 1)
        y = min(max(frame.y(), free.top()), free.bottom() - height + 1)
        dock.setGeometry(QRect(x + left, y + top, width - edges_w, height - edges_h))


def save_layout(window: QMainWindow) -> None:
    s = settings.settings()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState(LAYOUT_VERSION))
