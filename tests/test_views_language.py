"""The Tokens, Embeddings, Positional encoding and Attention panels in both languages: a live
switch re-translates their labels, buttons, tabs, tables, lists, plot axis titles and legends
and the texts drawn from the data (the engine's step titles included), and switching back
gives the English again."""
from __future__ import annotations


import pytest
from helpers import redrawn, tiny_model, traced_session
from PySide6.QtCore import QCoreApplication

from engine.model.steps import step_title
from engine.text.tokenizers import build_tokenizer
from gui import i18n
from gui.panels.attention import AttentionPanel
from gui.panels.embeddings import EmbeddingsPanel
from gui.panels.positional import PositionalPanel
from gui.panels.tokens import TokensPanel

TEXT = "To be, or not to be: that is the question. 注意力机制是变换器的核心。"
PANELS = (TokensPanel, EmbeddingsPanel, PositionalPanel, AttentionPanel)


def switch(qtbot, session, lang: str, *panels) -> None:
    """As View → Language does: the translator (LanguageChange to every widget), then the
    session's language (the engine's words); wait for the redraws."""
    assert i18n.install(lang) == lang
    session.set_language(lang)
    QCoreApplication.processEvents()  # the LanguageChange events are posted
    qtbot.wait(20)
    redrawn(qtbot, *panels)


def make_panels(qtbot):
    tok = build_tokenizer("char", TEXT)
    session = traced_session(tiny_model(tok.vocab_size), tok, TEXT)
    panels = [cls(session) for cls in PANELS]
    for p in panels:
        qtbot.addWidget(p)
        p.resize(900, 600)
        p.show()
        qtbot.waitExposed(p)
    redrawn(qtbot, *panels)
    return session, panels


def axis_title(plot, name: str) -> str:
    axis = plot.getAxis(name)
    return axis.labelText if axis.label.isVisible() else ""


def legend_texts(plot) -> list[str]:
    legend = plot.getPlotItem().legend
    return [label.text for _sample, label in legend.items]


def test_a_live_switch_translates_the_tokens_panel(qtbot, zh_catalogue):
    session, (tokens, *_rest) = make_panels(qtbot)
    assert tokens.form.label.text() == "Tokenizer:"
    switch(qtbot, session, "zh", tokens)
    assert tokens.form.label.text() == "分词器："
    assert "空格" in tokens.form.legend.text()
    assert tokens.side.names["chars"].text() == "字符数："
    assert tokens.side.frequent_title.text() == "最常见的词元："
    headers = [tokens.side.table.horizontalHeaderItem(i).text() for i in range(4)]
    assert headers == ["片段", "次数", "原始编号", "紧凑编号"]
    assert tokens.form.combo.currentText() == "char（模型所用）"
    assert tokens.tooltip_for(0).startswith("第 0 个词元")
    switch(qtbot, session, "en", tokens)
    assert tokens.form.combo.currentText() == "char (the model's)"
    assert tokens.side.table.horizontalHeaderItem(0).text() == "piece"


def test_a_live_switch_translates_the_embeddings_panel(qtbot, zh_catalogue):
    session, (_t, emb, *_rest) = make_panels(qtbot)
    page, vocab = emb.lookup_page, emb.map_page
    assert axis_title(page.heatmap.plot, "bottom") == "dimension"
    switch(qtbot, session, "zh", emb)
    assert emb.token_label.text() == "词元："
    assert [emb.tabs.tabText(i) for i in range(emb.tabs.count())] == ["查表 E[ids]", "词表分布图"]
    assert axis_title(page.heatmap.plot, "left") == "位置 · 词元"
    assert axis_title(page.heatmap.plot, "bottom") == "维度"
    assert axis_title(page.bar_plot, "bottom") == "维度"
    assert "方差" in axis_title(vocab.plot, "bottom") and "方差" in axis_title(vocab.plot, "left")
    assert vocab.note.full_text().startswith("全部 ")
    assert page.caption.full_text().startswith("E[ids]：")
    assert emb.lookup_note.full_text().startswith("嵌入表 E")
    assert "（编号 " in emb.token_combo.itemText(0)
    assert vocab.nearest.horizontalHeaderItem(3).text() == "余弦"
    switch(qtbot, session, "en", emb)
    assert axis_title(vocab.plot, "bottom").endswith("% of variance)")
    assert emb.tabs.tabText(1) == "Vocabulary map"


def test_a_live_switch_translates_the_positional_panel(qtbot, zh_catalogue):
    session, (_t, _e, pos, _a) = make_panels(qtbot)
    waves = pos.waves
    assert legend_texts(waves.plot)[0] == "dim 0 (sin, i=0)"
    switch(qtbot, session, "zh", pos)
    assert [pos.tabs.tabText(i) for i in range(3)] == ["波形", "编码表", "词元 + 位置 = 输入"]
    assert pos.title.full_text().startswith("位置编码（正弦）")
    assert axis_title(waves.plot, "bottom") == "位置"
    assert axis_title(waves.plot, "left") == "PE 值"
    assert waves.dim_list.item(0).text() == "维度 0（sin，i=0）"
    assert legend_texts(waves.plot)[0] == "维度 0（sin，i=0）"
    assert len(legend_texts(waves.plot)) == len(waves.shown_dims())  # no English left behind
    assert waves.context_line.label.format.startswith("上下文结束")
    assert waves.note.full_text().startswith("每条曲线")
    assert axis_title(pos.table.heatmap.plot, "left") == "位置"
    assert pos.table.row_values.toPlainText().startswith("PE[1] = ")
    assert pos.sum.shared_scale.text() == "三者共用一个色标"
    assert pos.sum.token.title() == "词嵌入 E[ids]"
    switch(qtbot, session, "en", pos)
    assert legend_texts(waves.plot)[0] == "dim 0 (sin, i=0)"
    assert pos.tabs.tabText(0) == "Waves"


def test_a_live_switch_translates_the_attention_panel(qtbot, zh_catalogue):
    session, (*_rest, att) = make_panels(qtbot)
    en_title = step_title("blocks.0.attn.pattern", "en")
    assert att.formula.full_text().startswith(en_title + ":")
    switch(qtbot, session, "zh", att)
    assert att.form.layer_label.text() == "层："
    assert att.form.layer_combo.itemText(0) == "第 0 块"
    assert att.form.stage_buttons["scores"].text() == "分数 QKᵀ"
    assert att.form.stage_buttons["pattern"].text() == "softmax"
    assert att.formula.full_text().startswith(step_title("blocks.0.attn.pattern", "zh") + "：")
    assert "[头 2 × 查询 " in att.formula.full_text()
    assert att.grid_page.readout.full_text().startswith("将鼠标悬停")
    assert att.head_heatmap(0).title() == "头 0"
    att.enlarge(1)
    redrawn(qtbot, att)
    assert att.single_page.title.full_text() == "第 0 块，头 1"
    assert att.single_page.back_button.text() == "← 所有头"
    assert axis_title(att.single_page.heatmap.plot, "left") == "查询"
    assert att.single_page.note.full_text().startswith("对每一行做 softmax")
    att.set_stage("mask")
    redrawn(qtbot, att)
    assert att.single_page.title.full_text().startswith("T = ")
    switch(qtbot, session, "en", att)
    assert att.single_page.title.full_text().startswith("Causal mask for T = ")
    assert att.form.stage_buttons["scores"].text() == "scores QKᵀ"


def _flat_model_texts(model, limit: int = 300) -> list[str]:
    """test_i18n's item reader for flat models (tables, lists: all these panels have), without
    hasChildren, which PySide6 6.11 makes private on QTableWidget's and QListWidget's models."""
    from PySide6.QtCore import QModelIndex, Qt

    top = QModelIndex()
    try:
        cols = model.columnCount(top)
    except TypeError:  # a list model's columnCount is private: one column
        cols = 1
    out = [model.headerData(i, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
           for i in range(min(cols, limit))]
    for row in range(min(model.rowCount(top), limit)):
        for col in range(min(cols, 4)):
            index = model.index(row, col, top)
            out += [model.data(index, role) for role in (Qt.ItemDataRole.DisplayRole,
                                                         Qt.ItemDataRole.ToolTipRole)]
    return [t for t in out if isinstance(t, str)]


def test_no_english_is_left_in_the_views_after_a_switch(qtbot, zh_catalogue, monkeypatch):
    """The window-wide check of tests/test_i18n.py, on these four panels, every tab shown."""
    from PySide6.QtWidgets import QTabWidget
    import test_i18n
    from test_i18n import catalogue, untranslated_in

    monkeypatch.setattr(test_i18n, "_model_texts", _flat_model_texts)

    session, panels = make_panels(qtbot)
    switch(qtbot, session, "zh", *panels)
    patterns = catalogue()
    bad = {}
    for panel in panels:
        tabs = panel.findChildren(QTabWidget)
        for tab in tabs or [None]:
            for index in range(tab.count()) if tab is not None else [None]:
                if tab is not None:
                    tab.setCurrentIndex(index)
                    qtbot.wait(20)
                found = untranslated_in(panel, patterns)
                if found:
                    bad.setdefault(type(panel).__name__, set()).update(found)
    assert bad == {}


@pytest.mark.parametrize("panel", PANELS)
def test_built_in_chinese_a_panel_without_a_model_explains_itself_in_chinese(qtbot, zh_catalogue,
                                                                             panel):
    from gui.session import Session

    i18n.install("zh")
    view = panel(Session())
    qtbot.addWidget(view)
    assert view.empty.is_empty()
    assert view.empty.message.text().startswith("还没有")
    i18n.install("en")
    QCoreApplication.processEvents()
    assert view.empty.message.text().startswith("No ")
