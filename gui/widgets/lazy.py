"""`LazyPanel`: a panel that draws only while it is visible.

Every context edit changes the trace, and most panels sit hidden in tabbed docks. Redrawing
those would cost the edit its redraw budget for nothing, so a change that arrives while a panel
is hidden only marks it stale; it catches up when it is shown, or when a public accessor needs
what it would draw (call `_flush()` first).
"""
from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget


class LazyPanel(QWidget):
    """Base of the trace views: connect changes to `_redraw`, implement `_rebuild`."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._stale = False  # a change arrived while hidden: rebuild when shown

    def _rebuild(self) -> None:
        """Draw everything from the session's current state (the subclass's one drawing path)."""
        raise NotImplementedError

    def _redraw(self, *_args) -> None:
        """Rebuild now if visible, else when next shown or flushed (usable as any slot)."""
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self._rebuild()

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
