"""`LazyPanel`: a panel that draws only while it is on screen.

Every context edit changes the trace, and most panels sit hidden in tabbed docks. Redrawing
those would cost the edit its redraw budget for nothing, so a change that arrives while a panel
is hidden only marks it stale; it catches up when it is shown, or when a public accessor needs
what it would draw (call `_flush()` first).

"Hidden" has to mean "not on screen", not `not isVisible()`: Qt 6 keeps the docks behind a tab
visible and only moves them outside the window (measured: the tabbed-away panels all had
`isVisible()` true, an empty `visibleRegion()` and negative dock coordinates), and brings them
back with a move, not a show. So a stale panel catches up on its first paint as well.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, QTimer
from PySide6.QtWidgets import QWidget


def on_screen(widget: QWidget) -> bool:
    """True if some part of `widget` can be seen (visible, and not moved away behind a tab)."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


class FitsDock:
    """Mixin for a panel shown in a dock's scroll area: it fills the dock instead of scrolling.

    The scroll area asks for the height at its width, and a layout holding a word-wrapped label
    answers with its *preferred* height (two rows of 480 px heatmaps: 1,100 px in a 510 px dock,
    measured). A panel fills the space it is given, so it needs only its minimum; below that
    the dock scrolls.
    """

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        return self.minimumSizeHint().height()


class LazyPanel(FitsDock, QWidget):
    """Base of the trace views: connect changes to `_redraw`, implement `_rebuild`.

    A change only marks the panel stale and posts its rebuild: each panel redraws in an
    event-loop turn of its own, so one new trace never holds the loop for every panel at once
    (the p99 stall while training went from ~55 to ~20 ms, benchmarks/bench_gui.py), and
    changes that arrive together (a new model, then its trace) cost one rebuild. Public
    accessors call `_flush()` first, so they always answer for the current state.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._stale = False  # a change arrived while hidden: rebuild when shown
        self._flush_posted = False

    def _rebuild(self) -> None:
        """Draw everything from the session's current state (the subclass's one drawing path)."""
        raise NotImplementedError

    def _redraw(self, *_args) -> None:
        """Rebuild in the next event-loop turn if on screen, else when next shown or flushed
        (usable as any slot)."""
        self._stale = True
        if on_screen(self):
            self._post_flush()

    def _flush(self) -> None:
        """Catch up on a change that arrived while hidden."""
        if self._stale:
            self._stale = False
            self._rebuild()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        # Constant, so new content never makes the surrounding layout resize every plot.
        return QSize(900, 600)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._flush()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        # Painted while stale: its tab was brought to the front. Rebuilding inside a paint
        # event would re-enter painting, so it happens right after.
        if self._stale:
            self._post_flush()

    def _post_flush(self) -> None:
        if not self._flush_posted:
            self._flush_posted = True
            QTimer.singleShot(0, self, self._posted_flush)

    def _posted_flush(self) -> None:
        self._flush_posted = False
        self._flush()
