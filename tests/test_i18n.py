"""The interface in both languages: the catalogues are complete and current, and in Chinese
no widget of the window shows a string of the English catalogue.

The walk covers what a user reads: widget texts, tooltips, status tips, placeholders, dock and
tab titles, group boxes, combo and list items, table headers, menus and toolbar actions, and
pyqtgraph's axis labels, legends, titles and text items. A string fails when it is (or, with
its {placeholders}, matches) a source string of the English catalogue, or an English step
title of the engine, and its Chinese exists but is not what is shown — that is, it was shown
untranslated. Proper names and formulas that stay as they are live in EXEMPT below (and in
engine.model.steps.EXEMPT_TERMS).
"""
from __future__ import annotations

import html
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import translations  # noqa: E402  (scripts/translations.py)

# Shown as they are in both languages: names, symbols, formulas (one place for the test).
EXEMPT = {
    "cl100k_base", "char", "gpt2", "r50k_base", "p50k_base", "o200k_base",
    "d_model", "d_ff", "CSV…", ".npy…", "PNG…", "SVG…", "English", "中文",
    "Transformer Explorer", "softmax", "relu", "gelu", "pre", "post", "sinusoidal", "learned",
}


def _normal(text: str) -> str:
    """What a reader sees: no mnemonic ampersands, no markup, single spaces."""
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text).replace("&&", "\0").replace("&", "").replace("\0", "&")
    return " ".join(text.split())


def _pattern(source: str) -> re.Pattern:
    """A source string as a pattern: its {placeholders} and %1-style arguments match anything."""
    text = _normal(source)
    parts = re.split(r"(\{[^{}]*\}|%\d)", text)
    body = "".join(".+?" if re.fullmatch(r"\{[^{}]*\}|%\d", p) else re.escape(p) for p in parts)
    return re.compile(body, re.S)


def catalogue() -> list[tuple[re.Pattern, str]]:
    """(pattern, source) of every English string that has its own Chinese."""
    out = []
    for ts in sorted(translations.TS_DIR.glob("*.ts")):
        for message in ET.parse(ts).getroot().iter("message"):
            source = message.findtext("source", "")
            zh = message.findtext("translation", "") or ""
            if _normal(source) and _normal(zh) != _normal(source) and _normal(source) not in EXEMPT:
                out.append((_pattern(source), source))
    from engine.model.registry import KINDS

    for title, title_zh in (k.title for k in KINDS.values()):
        if title_zh != title:
            out.append((_pattern(title), title))
            out.append((_pattern("Block {0}: " + title), "Block {0}: " + title))
    return out


def _pieces(text: str) -> list[str]:
    """The whole text and each of its lines (labels often hold a few sentences)."""
    lines = re.split(r"\n|<br\s*/?>|</p>|</div>", text)
    return [p for p in {_normal(text), *(_normal(line) for line in lines)} if p]


def _texts_of(widget) -> list[str]:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QComboBox,
        QDockWidget,
        QGroupBox,
        QLabel,
        QLineEdit,
        QMenu,
        QPlainTextEdit,
        QTabBar,
        QTabWidget,
        QTextEdit,
    )

    texts = [widget.toolTip(), widget.statusTip(), widget.whatsThis()]
    if isinstance(widget, QLabel):
        texts.append(widget.text())
    if isinstance(widget, QAbstractButton):
        texts.append(widget.text())
    if isinstance(widget, QGroupBox):
        texts.append(widget.title())
    if isinstance(widget, QDockWidget):
        texts.append(widget.windowTitle())
    if isinstance(widget, QMenu):
        texts.append(widget.title())
    if isinstance(widget, (QLineEdit, QPlainTextEdit, QTextEdit)):
        texts.append(widget.placeholderText())
    if isinstance(widget, QComboBox):
        texts += [widget.itemText(i) for i in range(widget.count())]
    if isinstance(widget, QTabWidget):
        texts += [widget.tabText(i) for i in range(widget.count())]
        texts += [widget.tabToolTip(i) for i in range(widget.count())]
    if isinstance(widget, QTabBar):
        texts += [widget.tabText(i) for i in range(widget.count())]
    if isinstance(widget, QAbstractItemView) and widget.model() is not None:
        texts += _model_texts(widget.model())
    return [t for t in texts if t]


def _count(call, parent) -> int:
    """rowCount/columnCount: some of Qt's item models keep the one-argument form private."""
    try:
        return call(parent)
    except TypeError:
        try:
            return call()
        except TypeError:
            return 1


def _model_texts(model, limit: int = 300) -> list[str]:
    from PySide6.QtCore import QModelIndex, Qt

    out = []
    root = QModelIndex()
    for orient, n in ((Qt.Orientation.Horizontal, _count(model.columnCount, root)),
                      (Qt.Orientation.Vertical, _count(model.rowCount, root))):
        for i in range(min(n, limit)):
            value = model.headerData(i, orient, Qt.ItemDataRole.DisplayRole)
            if isinstance(value, str):
                out.append(value)
    stack = [QModelIndex()]
    while stack and len(out) < limit * 4:
        parent = stack.pop()
        for row in range(min(_count(model.rowCount, parent), limit)):
            for col in range(min(_count(model.columnCount, parent), 4)):
                index = model.index(row, col, parent)
                for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                    value = model.data(index, role)
                    if isinstance(value, str):
                        out.append(value)
            child = model.index(row, 0, parent)
            if child.isValid() and parent == root and _count(model.rowCount, child) > 1:
                stack.append(child)
    return out


def _plot_texts(view) -> list[str]:
    """Axis labels, legends, titles and text items of a pyqtgraph view."""
    import pyqtgraph as pg

    out = []
    for item in view.scene().items() if view.scene() is not None else []:
        if isinstance(item, pg.AxisItem) and item.label.isVisible():
            out.append(item.labelText)
        elif isinstance(item, pg.LabelItem):
            out.append(item.text)
        elif isinstance(item, pg.TextItem):
            out.append(item.toPlainText())
    return [t for t in out if t]


def untranslated_in(root, patterns) -> set[str]:
    """Strings shown under `root` (a widget) that the English catalogue has, untranslated."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QWidget

    shown: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisibleTo(root) and widget is not root:
            continue
        shown += _texts_of(widget)
        if isinstance(widget, pg.GraphicsView):
            shown += _plot_texts(widget)
    bad = set()
    for text in shown:
        for piece in _pieces(text):
            if piece in EXEMPT:
                continue
            if any(p.fullmatch(piece) for p, _source in patterns):
                bad.add(piece)
    return bad


def test_every_catalogued_string_has_its_chinese():
    missing = {area: translations.untranslated(area) for area in translations.AREAS
               if translations.ts_path(area).exists()}
    assert {a: m for a, m in missing.items() if m} == {}


def test_the_catalogues_hold_every_string_of_the_code(tmp_path, monkeypatch):
    """pyside6-lupdate over today's code finds no string the committed .ts files lack."""
    committed = {area: {s for _c, s, _t in translations.messages(area)}
                 for area in translations.AREAS if translations.ts_path(area).exists()}
    monkeypatch.setattr(translations, "TS_DIR", tmp_path)
    translations.update(list(translations.AREAS))
    fresh = {area: {s for _c, s, _t in translations.messages(area)}
             for area in translations.AREAS if translations.ts_path(area).exists()}
    new = {area: sorted(fresh[area] - committed.get(area, set())) for area in fresh}
    assert {a: s for a, s in new.items() if s} == {}, "run scripts/translations.py update"


def test_the_compiled_catalogue_is_current(tmp_path):
    built = translations.build(tmp_path / "zh_CN.qm")
    assert built.read_bytes() == translations.QM.read_bytes(), "run scripts/translations.py build"


def test_the_whole_window_reads_in_chinese_after_a_live_switch(qtbot):
    """Switch a window showing the bundled model to 中文, then read every dock, every tab of
    every panel, the menus, the toolbar and the status bar."""
    from PySide6.QtWidgets import QTabWidget

    from gui import i18n
    from gui.app import create_app
    from gui.window import MainWindow

    create_app()
    window = MainWindow(restore_layout=False, load_default=True)
    window.show()
    try:
        with qtbot.waitSignal(window.first_trace_shown, timeout=60_000):
            pass
        window.set_language("zh")
        assert i18n.current() == "zh"
        patterns = catalogue()
        problems: dict[str, set[str]] = {}
        for name, dock in window.docks.items():
            window.raise_panel(name)
            qtbot.wait(60)
            tabs = [t for t in dock.findChildren(QTabWidget)]
            for tab in tabs or [None]:
                for index in range(tab.count()) if tab is not None else [None]:
                    if tab is not None:
                        tab.setCurrentIndex(index)
                        qtbot.wait(60)
                    bad = untranslated_in(dock, patterns)
                    if bad:
                        problems.setdefault(name, set()).update(bad)
        chrome = set()
        for action in window.findChildren(__import__("PySide6.QtGui", fromlist=["QAction"])
                                          .QAction):
            for text in (action.text(), action.toolTip(), action.statusTip()):
                chrome |= {p for p in _pieces(text) if p not in EXEMPT
                           and any(pat.fullmatch(p) for pat, _s in patterns)}
        chrome |= untranslated_in(window.menuBar(), patterns)
        chrome |= untranslated_in(window.statusBar(), patterns)
        if chrome:
            problems["window"] = chrome
        assert problems == {}
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()
        i18n.install("en")


def test_only_view_language_is_remembered(qtbot):
    """--lang (a screenshot in Chinese, say) is for one launch; View → Language is kept."""
    from gui import i18n, settings

    assert i18n.initial_language("zh") == "zh"
    assert settings.read("ui/lang", "") == ""  # nothing written
    assert i18n.initial_language() == i18n.system_language()
    i18n.remember("zh")
    assert i18n.initial_language() == "zh" and i18n.initial_language("en") == "en"
