"""pyqtgraph's own right-click menus speak the interface's language (#22.7): every menu of a
plot, its submenus and the forms inside them, made in Chinese or switched to it live."""
from __future__ import annotations

import re

import pyqtgraph as pg
import pytest

from gui import i18n, plot_menus

CJK = re.compile(r"[\u4e00-\u9fff]")
# Texts that are symbols in every language: a range field's "0", the derivative, pyqtgraph's
# window title.
SYMBOLS = {"0", "PyQtGraph", "dy/dx"}


@pytest.fixture
def chinese(qapp):
    i18n.install("zh")
    yield
    i18n.install("en")


def _every_menu(plot: pg.PlotWidget) -> list[str]:
    """The texts of every menu a right click on the plot can show."""
    item = plot.getPlotItem()
    texts = plot_menus.menu_texts(item.getViewBox().menu)
    texts += plot_menus.menu_texts(item.ctrlMenu)
    texts += [a.text() for a in plot.scene().contextMenu]
    return texts


def _english(texts: list[str]) -> list[str]:
    return [t for t in texts if t not in SYMBOLS and not CJK.search(t)]


def test_every_menu_of_a_plot_made_in_chinese_is_chinese(qtbot, chinese):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    texts = _every_menu(plot)
    assert len(texts) > 60  # titles, entries, labels, check boxes and their tooltips
    assert _english(texts) == []
    assert "反转坐标轴" in texts and "取每 N 个样本的平均值来降采样。" in texts
    assert plot.getPlotItem().ctrlMenu.title() == "绘图选项"


def test_the_menus_follow_a_switch_of_language(qtbot, qapp):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    english = _every_menu(plot)
    assert "Invert Axis" in english and "Plot Options" in english
    i18n.install("zh")
    try:
        assert plot_menus.retranslate(plot) > 60
        assert _english(_every_menu(plot)) == []
    finally:
        i18n.install("en")
    plot_menus.retranslate(plot)
    assert _every_menu(plot) == english, "back to English, word for word"
    # pyqtgraph finds its menu entries by their translated name: that still works.
    plot.getPlotItem().setContextMenuActionVisible("Grid", False)
    grid = [a for a in plot.getPlotItem().ctrlMenu.actions() if a.text() == "Grid"]
    assert grid and not grid[0].isVisible()


def test_the_window_rewords_its_plots_menus_on_a_switch(qtbot):
    from gui.app import create_app
    from gui.window import MainWindow

    create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    try:
        w.set_language("zh")
        plots = w.findChildren(pg.PlotWidget) + w.findChildren(pg.GraphicsLayoutWidget)
        assert plots
        for view in plots:
            for item in view.scene().items():
                if isinstance(item, pg.ViewBox) and item.menu is not None:
                    assert _english(plot_menus.menu_texts(item.menu)) == [], view
    finally:
        w.set_language("en")
        w.close()
        w.deleteLater()
        qtbot.wait(1)
