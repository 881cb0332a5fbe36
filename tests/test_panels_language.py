"""The Looking-inside, Generation and Training-history panels switch language live: tabs,
buttons, axis titles, legends, empty states and the captions drawn from data are Chinese after
View → Language → 中文 and English again after switching back.

The catalogue is compiled from the .ts sources into a temporary .qm, so these tests read what
the code and its .ts say now, whatever .qm is committed.
"""
import html
import re
import sys
from pathlib import Path
from typing import Callable

import pyqtgraph as pg
import pytest
from helpers import CAT_TEXT, redrawn, tiny_model, traced_session
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QComboBox, QTableWidget, QTabWidget, QTextBrowser, QWidget

from engine.training.snapshots import SnapshotStore
from engine.text.tokenizers import build_tokenizer
from gui import i18n
from gui.panels.generation import GenerationPanel
from gui.panels.history import HistoryPanel
from gui.panels.insights import InsightsPanel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import translations  # noqa: E402  (scripts/translations.py)


@pytest.fixture
def switch(qtbot, zh_catalogue):
    """switch("zh" | "en"): install the language and let every widget re-translate."""

    def to(lang):
        assert i18n.install(lang) == lang
        QCoreApplication.processEvents()  # the LanguageChange events are posted
        qtbot.wait(20)  # and the redraws they post

    yield to


@pytest.fixture
def session():
    tok = build_tokenizer("char", CAT_TEXT)
    return traced_session(tiny_model(tok.vocab_size), tok, "the cat sat on the mat.")


def _shown(qtbot, panel, size=(900, 600)):
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _axis(plot, name):
    """The title of axis `name` of a PlotWidget or PlotItem."""
    plot = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot
    return plot.getAxis(name).labelText


def _normal(text):
    """What a reader sees: no markup, single spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def _patterns():
    """The English sources of this part's catalogues as patterns ({0} matches anything)."""
    out = []
    for area in ("insights", "generation"):
        for _context, source, _tr in translations.messages(area):
            parts = re.split(r"(\{[^{}]*\})", _normal(source))
            out.append(re.compile("".join(".+?" if re.fullmatch(r"\{[^{}]*\}", x)
                                          else re.escape(x) for x in parts), re.S))
    return out


def _texts(widget):
    """The texts a widget shows: its own, its items', its plots' axis titles and legends."""
    texts = [widget.toolTip()]
    for getter in ("text", "title", "placeholderText", "specialValueText"):
        if isinstance(getattr(widget, getter, None), Callable) and not isinstance(
                widget, (QTextBrowser,)):
            try:
                value = getattr(widget, getter)()
            except TypeError:
                continue
            if isinstance(value, str):
                texts.append(value)
    if isinstance(widget, QComboBox):
        texts += [widget.itemText(i) for i in range(widget.count())]
    if isinstance(widget, QTabWidget):
        texts += [widget.tabText(i) for i in range(widget.count())]
    if isinstance(widget, QTableWidget):
        for r in range(widget.rowCount()):
            for c in range(widget.columnCount()):
                item = widget.item(r, c)
                texts += [item.text(), item.toolTip()] if item is not None else []
        for header, n in ((widget.horizontalHeaderItem, widget.columnCount()),
                          (widget.verticalHeaderItem, widget.rowCount())):
            texts += [header(i).text() for i in range(n) if header(i) is not None]
    if isinstance(widget, pg.GraphicsView) and widget.scene() is not None:
        for item in widget.scene().items():
            if isinstance(item, pg.AxisItem) and item.label.isVisible():
                texts.append(item.labelText)
            elif isinstance(item, pg.LabelItem):
                texts.append(item.text)
            elif isinstance(item, pg.TextItem):
                texts.append(item.toPlainText())
    return [t for t in texts if t]


def _untranslated(panel):
    """Texts shown under `panel` that are (or, with their {placeholders}, match) an English
    source of this part's catalogues: shown untranslated (the per-panel form of the
    window-wide tests/test_i18n.py)."""
    patterns = _patterns()
    bad = set()
    for widget in [panel, *panel.findChildren(QWidget)]:
        if widget is not panel and not widget.isVisibleTo(panel):
            continue
        for text in _texts(widget):
            for piece in {_normal(text), *(_normal(x) for x in re.split(r"\n|<br\s*/?>", text))}:
                if piece and any(p.fullmatch(piece) for p in patterns):
                    bad.add(piece)
    return bad


def test_insights_tabs_buttons_and_plots_switch_live(qtbot, switch, session):
    p = _shown(qtbot, InsightsPanel(session))
    try:
        tabs = [p.tabs.tabText(i) for i in range(p.tabs.count())]
        assert tabs == ["Logit lens", "Head ablation", "Per-token loss"]
        assert {"Logit lens", "Position:"} <= _untranslated(p)  # the check sees English
        switch("zh")
        assert [p.tabs.tabText(i) for i in range(p.tabs.count())] == ["逻辑透镜", "注意力头消融",
                                                                       "逐词元损失"]
        # The lens: its depth names and caption are drawn from data, in Chinese.
        redrawn(qtbot, p.lens)
        depths = [p.lens.table.verticalHeaderItem(r).text()
                  for r in range(p.lens.table.rowCount())]
        assert depths == ["嵌入", "第 0 块", "最终"]
        assert "模型在位置" in p.lens.caption.text()
        assert p.lens.position_label.text() == "位置："
        assert not _untranslated(p)
        # The ablation tab: buttons, note, axis title, legend.
        p.tabs.setCurrentIndex(1)
        redrawn(qtbot, p.ablation)
        a = p.ablation
        assert (a.reset_button.text(), a.measure_button.text()) == ("重置", "测量验证损失")
        assert a.note.text().startswith("未消融")
        assert _axis(a.plot_widget, "left") == "概率"
        assert a.legend.getLabel(a.before_bars).text == "完整模型"
        assert a.checkbox(1, 0).toolTip() == "关闭第 1 块的第 0 个注意力头（L1H0）"
        a.set_heads([(1, 0)])
        qtbot.waitUntil(lambda: not a.is_updating(), timeout=10_000)
        assert "已消融：L1H0" in a.note.text()
        assert not _untranslated(p)
        # The per-token loss: axis titles, the uniform mark and the captions.
        p.tabs.setCurrentIndex(2)
        redrawn(qtbot, p.loss)
        assert _axis(p.loss.plot_widget, "left") == "损失"
        assert _axis(p.loss.plot_widget, "bottom") == "目标词元（位置）"
        assert p.loss.uniform_line.label.format == "均匀猜测"
        assert re.match(r"\d+ 次预测的平均损失 ", p.loss.summary.text())
        assert not _untranslated(p)
        # And back.
        switch("en")
        redrawn(qtbot, p.loss)
        assert p.tabs.tabText(2) == "Per-token loss"
        assert _axis(p.loss.plot_widget, "bottom") == "target token (position)"
        assert p.loss.summary.text().startswith("Mean loss")
        assert a.reset_button.text() == "Reset" and "ablated: L1H0" in a.note.text()
        assert a.legend.getLabel(a.after_bars).text == "heads ablated"
    finally:
        p.shutdown()


def test_insights_empty_state_switches_live(qtbot, switch):
    from gui.session import Session

    p = _shown(qtbot, InsightsPanel(Session()))
    try:
        assert p.empty.is_empty() and p.empty.message.text().startswith("No model yet")
        switch("zh")
        assert p.empty.message.text().startswith("还没有模型")
        switch("en")
        assert p.empty.message.text().startswith("No model yet")
    finally:
        p.shutdown()


def test_generation_form_status_and_bars_switch_live(qtbot, switch, session):
    p = _shown(qtbot, GenerationPanel(session), (900, 500))
    try:
        qtbot.waitUntil(lambda: not p.is_running() and p.has_logits(), timeout=10_000)
        p.run(3)
        qtbot.waitUntil(lambda: not p.is_running(), timeout=10_000)
        f = p.form
        assert (f.step_button.text(), f.run_button.text()) == ("Step", "Run")
        switch("zh")
        redrawn(qtbot, p)
        texts = [b.text() for b in (f.step_button, f.run_button, f.stop_button, f.clear_button)]
        assert texts == ["单步", "运行", "停止", "清除"]
        assert f.prompt_edit.placeholderText() == "输入提示（留空：从换行符开始）"
        assert f.temperature_label.text() == "温度" and f.top_k_spin.specialValueText() == "关"
        assert _axis(p.bars_view.plot_widget, "left") == "概率"
        assert p.text_view.status.text().startswith("在 ")  # "在 N 个词元的提示之后生成了 3 个词元"
        assert "采样得到" in p.bars_view.caption.text()
        assert not _untranslated(p)
        switch("en")
        redrawn(qtbot, p)
        assert f.clear_button.text() == "Clear"
        assert p.text_view.status.text().startswith("3 tokens generated")
        assert _axis(p.bars_view.plot_widget, "left") == "probability"
    finally:
        p.shutdown()


@pytest.fixture
def store(tmp_path, session):
    store = SnapshotStore(tmp_path / "snaps")
    for i, step in enumerate((0, 50)):
        store.add(step, tiny_model(session.tokenizer.vocab_size, 100 + i).state_dict(),
                  {"val_loss": 3.0 - i / 2, "train_loss": 2.9 - i / 2})
    return store


def test_history_scrubber_compare_and_sample_switch_live(qtbot, switch, session, store):
    session.set_snapshots(store)
    p = _shown(qtbot, HistoryPanel(session), (1000, 700))
    try:
        assert p.scrubber.title.text() == "Showing the live model"
        switch("zh")
        assert p.scrubber.title.text() == "显示实时模型"
        assert p.scrubber.live_button.text() == "实时"
        assert p.scrubber.snapshot_label.text() == "快照："
        assert p.compare.title() == "比较两个快照"
        assert p.scrubber.note.text().startswith("训练期间保存了 2 个快照")
        assert not _untranslated(p)
        p.set_step(0)
        qtbot.waitUntil(lambda: p.current_step() == 0 and not p.is_busy(), timeout=10_000)
        assert p.scrubber.title.text() == "显示快照：第 0 步 · 验证损失 3.0000 · 训练损失 2.9000"
        assert p.sample.title.text().startswith("<b>第 0 步的生成样例</b>")
        p.set_compare(0, 50)
        qtbot.waitUntil(lambda: p.compare.compared() is not None, timeout=10_000)
        assert p.compare.heatmap_a.title() == "第 0 步"
        assert _axis(p.compare.heatmap_a.plot, "left") == "查询"
        assert not _untranslated(p)
        switch("en")
        assert p.scrubber.title.text() == ("Showing snapshot: step 0 · val loss 3.0000 · "
                                           "train loss 2.9000")
        assert p.sample.title.text().startswith("<b>Sample at step 0</b>")
        assert p.compare.title() == "Compare two snapshots"
        assert p.compare.heatmap_b.title() == "step 50"
        assert _axis(p.compare.heatmap_diff.plot, "bottom") == "key"
    finally:
        p.shutdown()
