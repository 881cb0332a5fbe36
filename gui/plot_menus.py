"""pyqtgraph's own right-click menus in the interface language.

pyqtgraph words its menus through Qt's translator (QCoreApplication.translate in the contexts
"ViewBox", "PlotItem", "GraphicsScene" and, for its Designer forms, "Form"), so our catalogue
carries their Chinese (gui/translations/zh_CN/plots.ts and the "Form" strings listed here).
A menu is worded once, when its plot is made: `retranslate(root)` re-words the menus of every
plot under `root` after a switch of language, reading each text's English source back.
"""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QTranslator
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QGroupBox,
    QLabel,
    QMenu,
    QWidget,
    QWidgetAction,
)

# The forms inside pyqtgraph's menus (an axis's range, the plot options). pyqtgraph translates
# them as `_translate("Form", ...)`, which lupdate cannot see there: they are listed here.
FORM = (
    QT_TRANSLATE_NOOP("Form", "Link Axis:"),
    QT_TRANSLATE_NOOP("Form", "<html><head/><body><p>Links this axis with another view. When linked, both views will display the same data range.</p></body></html>"),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "<html><head/><body><p>Percent of data to be visible when auto-scaling. It may be useful to decrease this value for data with spiky noise.</p></body></html>"),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "<html><head/><body><p>Automatically resize this axis whenever the displayed data is changed.</p></body></html>"),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Auto"),
    QT_TRANSLATE_NOOP("Form", "<html><head/><body><p>Set the range for this axis manually. This disables automatic scaling. </p></body></html>"),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Manual"),
    QT_TRANSLATE_NOOP("Form", "<html><head/><body><p>Minimum value to display for this axis.</p></body></html>"),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "<html><head/><body><p>Maximum value to display for this axis.</p></body></html>"),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "<html><head/><body><p>Inverts the display of this axis. (+y points downward instead of upward)</p></body></html>"),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Invert Axis"),
    QT_TRANSLATE_NOOP("Form", "<html><head/><body><p>Enables mouse interaction (panning, scaling) for this axis.</p></body></html>"),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Mouse Enabled"),
    QT_TRANSLATE_NOOP("Form", "<html><head/><body><p>When checked, the axis will only auto-scale to data that is visible along the orthogonal axis.</p></body></html>"),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Visible Data Only"),
    QT_TRANSLATE_NOOP("Form", "<html><head/><body><p>When checked, the axis will automatically pan to center on the current data, but the scale along this axis will not change.</p></body></html>"),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Auto Pan Only"),
    QT_TRANSLATE_NOOP("Form", "Display averages of the curves displayed in this plot. The parameter list allows you to choose parameters to average over (if any are available)."),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Average"),
    QT_TRANSLATE_NOOP("Form", "Plot only the portion of each curve that is visible. This assumes X values are uniformly spaced."),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Clip to View"),
    QT_TRANSLATE_NOOP("Form", "If multiple curves are displayed in this plot, check this box to limit the number of traces that are displayed."),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Max Traces:"),
    QT_TRANSLATE_NOOP("Form", "Downsample"),
    QT_TRANSLATE_NOOP("Form", "Downsample by drawing a saw wave that follows the min and max of the original data. This method produces the best visual representation of the data but is slower."),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Peak"),
    QT_TRANSLATE_NOOP("Form", "If multiple curves are displayed in this plot, check \"Max Traces\" and set this value to limit the number of traces that are displayed."),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "If MaxTraces is checked, remove curves from memory after they are hidden (saves memory, but traces can not be un-hidden)."),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Forget hidden traces"),
    QT_TRANSLATE_NOOP("Form", "Downsample by taking the mean of N samples."),
    QT_TRANSLATE_NOOP("Form", "Mean"),
    QT_TRANSLATE_NOOP("Form", "Downsample by taking the first of N samples. This method is fastest and least accurate."),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Subsample"),
    QT_TRANSLATE_NOOP("Form", "Automatically downsample data based on the visible range. This assumes X values are uniformly spaced."),  # noqa: E501
    QT_TRANSLATE_NOOP("Form", "Downsample data before plotting. (plot every Nth sample)"),
    QT_TRANSLATE_NOOP("Form", "Log X"),
    QT_TRANSLATE_NOOP("Form", "Y vs. Y'"),
    QT_TRANSLATE_NOOP("Form", "Power Spectrum (FFT)"),
    QT_TRANSLATE_NOOP("Form", "Log Y"),
    QT_TRANSLATE_NOOP("Form", "Subtract Mean"),
    QT_TRANSLATE_NOOP("Form", "Points"),
    QT_TRANSLATE_NOOP("Form", "Show X Grid"),
    QT_TRANSLATE_NOOP("Form", "Show Y Grid"),
    QT_TRANSLATE_NOOP("Form", "Opacity"),
    QT_TRANSLATE_NOOP("Form", "Alpha"),
)
# The menus' own entries (lupdate reads them from pyqtgraph's sources into plots.ts).
MENUS = {
    "ViewBox": ("ViewBox options", "View All", "Mouse Mode", "3 button", "1 button", "axis"),
    "PlotItem": ("Plot Options", "Transforms", "Downsample", "Average", "Alpha", "Grid",
                 "Points"),
    "GraphicsScene": ("Export...",),
}
AXIS_WORD = QT_TRANSLATE_NOOP("ViewBox", "axis")  # "X axis": pyqtgraph joins it in an f-string


def _sources() -> list[tuple[str, str]]:
    return [("Form", s) for s in FORM] + [(c, s) for c, names in MENUS.items() for s in names]


def _catalogue_words() -> dict[str, tuple[str, str]]:
    """Every wording of every source (English, and each catalogue's) -> (context, source)."""
    from gui import i18n

    words: dict[str, tuple[str, str]] = {}
    translators = []
    for path in i18n.CATALOGUES.values():
        translator = QTranslator()
        if translator.load(str(path)):
            translators.append(translator)
    for context, source in _sources():
        words.setdefault(source, (context, source))
        for translator in translators:
            text = translator.translate(context, source)
            if text:
                words.setdefault(text, (context, source))
    return words


def retranslate(root: QWidget) -> int:
    """Re-word the right-click menus of every pyqtgraph plot under `root` in the installed
    language; returns how many texts changed."""
    import pyqtgraph as pg

    words = _catalogue_words()
    axis_words = {text for text, (ctx, src) in words.items() if (ctx, src) == ("ViewBox", "axis")}
    changed = 0
    views = [root] if isinstance(root, pg.GraphicsView) else []
    for view in views + root.findChildren(pg.GraphicsView):
        scene = view.scene()
        if scene is None:
            continue
        menus: list[QMenu] = []
        for item in scene.items():
            if isinstance(item, pg.ViewBox) and item.menu is not None:
                menus.append(item.menu)
            if isinstance(item, pg.PlotItem):
                menus.append(item.ctrlMenu)
        for menu in menus:
            changed += _reword_menu(menu, words, axis_words)
        for action in getattr(scene, "contextMenu", []):
            changed += _reword(action.text(), action.setText, words)
    return changed


def menu_texts(menu: QMenu) -> list[str]:
    """Every text a menu shows, its submenus' and forms' included (titles, entries, labels,
    check boxes, group titles, tooltips, suffixes)."""
    out = [menu.title()]
    for action in menu.actions():
        if action.menu() is not None:
            out += menu_texts(action.menu())
        elif isinstance(action, QWidgetAction) and action.defaultWidget() is not None:
            out += form_texts(action.defaultWidget())
        elif action.text():
            out.append(action.text())
    return [t for t in out if t]


def form_texts(form: QWidget) -> list[str]:
    out = []
    for widget in [form, *form.findChildren(QWidget)]:
        out.append(widget.toolTip())
        if isinstance(widget, (QLabel, QAbstractButton)):
            out.append(widget.text())
        elif isinstance(widget, QGroupBox):
            out.append(widget.title())
    return [t for t in out if t]


def _reword(text: str, setter, words: dict[str, tuple[str, str]]) -> int:
    found = words.get(text)
    if found is None:
        return 0
    new = QCoreApplication.translate(*found)
    if new == text:
        return 0
    setter(new)
    return 1


def _reword_menu(menu: QMenu, words, axis_words: set[str]) -> int:
    changed = 0
    title = menu.title()
    axis, _, word = title.partition(" ")
    if axis in ("X", "Y") and word in axis_words:
        new = f"{axis} {QCoreApplication.translate('ViewBox', 'axis')}"
        if new != title:
            menu.setTitle(new)
            changed += 1
    else:
        changed += _reword(title, menu.setTitle, words)
    for action in menu.actions():
        sub = action.menu()
        if sub is not None:
            changed += _reword_menu(sub, words, axis_words)
            # A submenu's entry shows its title (PlotItem's ctrlMenu adds them by name).
            if action.text() != sub.title():
                action.setText(sub.title())
        elif isinstance(action, QWidgetAction) and action.defaultWidget() is not None:
            changed += _reword_form(action.defaultWidget(), words)
        else:
            changed += _reword(action.text(), action.setText, words)
    return changed


def _reword_form(form: QWidget, words) -> int:
    changed = 0
    for widget in [form, *form.findChildren(QWidget)]:
        changed += _reword(widget.toolTip(), widget.setToolTip, words)
        if isinstance(widget, (QLabel, QAbstractButton)):
            changed += _reword(widget.text(), widget.setText, words)
        elif isinstance(widget, QGroupBox):
            changed += _reword(widget.title(), widget.setTitle, words)
        elif isinstance(widget, QAbstractSpinBox) and hasattr(widget, "suffix"):
            pass  # "%" and "x" read the same in every language
    return changed
