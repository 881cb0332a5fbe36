"""`Translated`: a widget whose words follow the interface language.

Installing a catalogue (gui.i18n) sends every widget a LanguageChange event; a `Translated`
widget then runs its `_retranslate()`, the one method that sets its words (also called at the
end of its __init__). Words drawn from data are re-drawn there too.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent


class Translated:
    """Mixin (before the Qt base class): `_retranslate()` on every language switch."""

    def _retranslate(self) -> None:
        raise NotImplementedError

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)  # type: ignore[misc]
