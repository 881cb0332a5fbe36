"""The interface language, by Qt's own mechanism: one compiled catalogue per language, loaded with
a QTranslator. Every user-visible string goes through `self.tr("...")` or
`QCoreApplication.translate("Context", "...")`; installing or removing the translator sends
every widget a LanguageChange event, and each re-translates itself in `changeEvent`.

English is the source language (no catalogue). The sources are the `.ts` files in
gui/translations/<lang>/ (one per area of the interface, made by `pyside6-lupdate` through
`scripts/translations.py update`); `scripts/translations.py build` compiles them with
`pyside6-lrelease` into gui/translations/<lang>.qm, which is committed.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QLocale, QTranslator

from gui import settings

if TYPE_CHECKING:
    from gui.session import Session

LANGUAGES = ("en", "zh")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
CATALOGUES = {"zh": TRANSLATIONS / "zh_CN.qm"}

# Qt's own catalogue for its standard texts (OK, Cancel, Save, Discard, the file dialogs),
# shipped with PySide6; named like ours.
QT_CATALOGUES = {"zh": "qtbase_zh_CN"}

_installed: list[QTranslator] = []
_current = "en"


def system_language() -> str:
    """The language of the system locale if the app has it, else English."""
    name = QLocale.system().name()  # e.g. "zh_CN", "en_US"
    return "zh" if name.lower().startswith("zh") else "en"


def initial_language(requested: str | None = None) -> str:
    """`requested` (--lang, for this launch only) if given, else the choice remembered from
    View → Language, else the system's. Nothing is written: a screenshot in Chinese must not
    make the next launch Chinese."""
    lang = requested or settings.read("ui/lang", "") or system_language()
    return lang if lang in LANGUAGES else "en"


def remember(lang: str) -> None:
    """The user chose `lang` (View → Language): later launches start in it."""
    settings.write("ui/lang", lang)


def switch(session: "Session", lang: str) -> str:
    """Make `lang` the interface's language and the session's, whose language the engine's
    own words (step titles, the guide) follow; returns the language installed."""
    lang = install(lang)
    session.set_language(lang)
    return lang


def current() -> str:
    """The language installed now: "en" or "zh"."""
    return _current


def install(lang: str) -> str:
    """Make `lang` the interface language (live: every widget gets a LanguageChange event).

    Returns the language actually installed ("en" when the catalogue cannot be loaded).
    """
    global _current
    app = QCoreApplication.instance()
    lang = lang if lang in LANGUAGES else "en"
    if app is None:
        raise RuntimeError("create the QApplication before installing a language")
    translators = []
    if lang != "en":
        ours = QTranslator(app)
        if ours.load(str(CATALOGUES[lang])):
            translators.append(ours)
            qt = QTranslator(app)
            if qt.load(QT_CATALOGUES[lang],
                       QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
                translators.append(qt)  # missing in a trimmed Qt: its buttons stay English
        else:
            lang = "en"
    for old in _installed:
        app.removeTranslator(old)
        old.deleteLater()
    _installed[:] = translators
    for translator in translators:
        app.installTranslator(translator)
    _current = lang  # before the events: a widget re-translating asks current()
    # Qt posts the LanguageChange events; delivered now, every widget reads the new language
    # when this returns (the window re-titles, tests and screenshots look right away).
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
    return lang
