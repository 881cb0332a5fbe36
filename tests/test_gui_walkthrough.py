"""The walkthrough panel: stepping through every step, checks, article mode, table, export."""
import numpy as np
import pytest
from helpers import tiny_model, traced_session
from PySide6.QtCore import QSettings, Qt, QThread
from PySide6.QtWidgets import QApplication

from engine.model.article import article_mode_problem
from engine.text.corpus import corpus_from_text
from engine.model.trace import run_trace
from gui import dialogs, i18n, settings
from gui.panels.walkthrough import WalkthroughPanel
from gui.session import Session
from gui.workers import running_threads

TEXT = ("The cat sat on the mat. The dog sat on the log. 猫坐在垫子上。" * 12)


@pytest.fixture(scope="module")
def corpus():
    return corpus_from_text(TEXT, tokenizer="cl100k_base", context_length=16)


def _session(corpus, **cfg):
    cfg.setdefault("context_length", 12)
    model = tiny_model(corpus.tokenizer.vocab_size, **cfg)
    return traced_session(model, corpus.tokenizer, "The cat sat on the log.")


def _switch(session, lang):
    """What View → Language does (without remembering it): install the catalogue, every widget
    re-translates, and the session re-words the engine's text."""
    i18n.switch(session, lang)


def _panel(qtbot, session):
    panel = WalkthroughPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    return panel


def _go_to(panel, name):
    """go_to, then check that the user sees that step: list row, title, formula, output shape."""
    panel.go_to(name)
    step = panel.session.trace[name]
    assert panel.current_name() == name and panel.session.focus == name
    assert panel.step_list.currentItem().data(Qt.ItemDataRole.UserRole) == name
    assert panel.words.title.text() == step.title
    assert panel.words.formula.text() == step.formula
    out = "[" + ", ".join(f"{a} {n}" for a, n in zip(step.axes, step.shape)) + "]"
    assert panel.shapes.text().endswith(out)


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_next_walks_every_step_once_in_order_and_every_check_passes(qtbot, corpus, norm):
    session = _session(corpus, norm=norm, activation="gelu" if norm == "pre" else "relu")
    panel = _panel(qtbot, session)
    focused = []
    session.focus_changed.connect(focused.append)
    seen = [panel.current_name()]
    while True:
        before = panel.current_name()
        panel.next()
        if panel.current_name() == before:
            break
        seen.append(panel.current_name())
        assert "✓" in panel.check_label_text(), (panel.current_name(), panel.check_label_text())
    assert seen == session.trace.names()
    assert focused == seen[1:]
    assert panel.check_result().passed
    panel.previous()
    assert panel.current_name() == seen[-2] and session.focus == seen[-2]


def test_keys_and_list_move_and_focus_follows(qtbot, corpus):
    session = _session(corpus)
    panel = _panel(qtbot, session)
    names = session.trace.names()
    with qtbot.waitSignal(session.focus_changed) as sig:
        qtbot.keyClick(panel, Qt.Key.Key_Right)
    assert sig.args == [names[1]] and panel.current_name() == names[1]
    qtbot.keyClick(panel.step_list, Qt.Key.Key_Right)
    assert panel.current_name() == names[2]
    qtbot.keyClick(panel.step_list, Qt.Key.Key_Left)
    assert panel.current_name() == names[1]
    _go_to(panel, "embed.sum")
    qtbot.keyClick(panel.step_list, Qt.Key.Key_Down)  # crosses the "Block 0" header
    assert panel.current_name() == "blocks.0.attn.q"
    qtbot.keyClick(panel.step_list, Qt.Key.Key_Up)
    assert panel.current_name() == "embed.sum"
    session.set_focus("blocks.1.attn.pattern")  # another panel moved: the walkthrough follows
    assert panel.current_name() == "blocks.1.attn.pattern"
    item = panel.step_list.currentItem()
    assert item.text().startswith(f"{names.index('blocks.1.attn.pattern') + 1}. Block 1: ")
    assert item.text().endswith("[1,2,7,7]")


def test_table_shows_the_numbers_at_the_chosen_precision(qtbot, corpus):
    session = _session(corpus)
    panel = _panel(qtbot, session)
    _go_to(panel, "blocks.0.attn.masked")
    panel.set_slice(batch=0, head=1)
    panel.set_precision(3)
    model = panel.table_model()
    values = session.trace.values("blocks.0.attn.masked")[0, 1]
    assert model.rowCount() == model.columnCount() == values.shape[0]
    idx = model.index(4, 2)
    assert model.data(idx) == f"{values[4, 2]:.3f}"
    assert model.data(model.index(2, 4)) == "-inf"
    panel.set_precision(6)
    assert model.data(idx) == f"{values[4, 2]:.6f}"
    pieces = corpus.tokenizer.pieces(session.trace.ids[0])
    assert model.headerData(3, Qt.Orientation.Vertical) == f"3 {pieces[3]}"
    np.testing.assert_array_equal(panel.heatmap.current_image(), values)
    # The precision is remembered by the next panel.
    again = _panel(qtbot, session)
    assert again.table_model().precision() == 6
    assert settings.read("walkthrough/precision", 0) == 6  # in the app's one store
    assert QSettings("Transformer Explorer", "Transformer Explorer").allKeys() == []
    # Changing the head redraws table and heatmap.
    panel.set_slice(head=0)
    np.testing.assert_array_equal(panel.heatmap.current_image(),
                                  session.trace.values("blocks.0.attn.masked")[0, 0])
    _go_to(panel, "embed.position")  # 2-D: no selectors
    assert panel.batch_spin.isHidden() and panel.head_spin.isHidden()


def test_corrupted_value_shows_a_red_cross(qtbot, corpus):
    session = _session(corpus)
    trace = session.trace
    trace["blocks.1.ffn.hidden"].values[0, 0, 0] += 0.5
    panel = _panel(qtbot, session)
    _go_to(panel, "blocks.1.ffn.hidden")
    assert panel.check_label_text().startswith("✗") and "FAILED" in panel.check_label_text()
    # Recomputed from the corrupted hidden step, the activation no longer matches the trace's.
    _go_to(panel, "blocks.1.ffn.act")
    assert panel.check_label_text().startswith("✗") and not panel.check_result().passed
    _go_to(panel, "blocks.1.attn.q")
    assert panel.check_label_text().startswith("✓")


def test_article_mode_reproduces_the_article_shapes(qtbot, corpus):
    session = _session(corpus, d_model=64, n_head=4, context_length=16, n_layer=1, d_ff=64)
    session.set_corpus(None, corpus)
    panel = _panel(qtbot, session)
    _go_to(panel, "blocks.0.attn.q")
    on_gui_thread = []
    session.trace_changed.connect(
        lambda: on_gui_thread.append(QThread.currentThread() == QApplication.instance().thread()))
    with qtbot.waitSignal(session.trace_changed, timeout=20000):
        panel.article_button.click()
    assert on_gui_thread == [True]  # the result came back to the GUI thread
    qtbot.waitUntil(lambda: not running_threads(), timeout=5000)
    trace = session.trace
    assert trace["embed.sum"].shape == (4, 16, 64)
    assert trace["blocks.0.attn.q"].shape == (4, 4, 16, 16)
    assert trace["blocks.0.attn.scores"].shape == (4, 4, 16, 16)
    assert panel.current_name() == "blocks.0.attn.q"
    assert "[batch 4, context 16, d_model 64]" in panel.shapes.text()
    assert "[batch 4, heads 4, context 16, head_size 16]" in panel.shapes.text()
    assert "view [4,16,4,16] then transpose(1,2)" in panel.note.text()
    assert "[4,4,16,16]" in panel.banner.text() and panel.banner.isVisibleTo(panel)
    assert "from the training text" in panel.banner.text()
    assert panel.check_label_text().startswith("✓")
    panel.set_slice(batch=3, head=2)
    np.testing.assert_array_equal(panel.table_model().matrix(), trace.values("blocks.0.attn.q")[3, 2])


def test_article_mode_explains_when_the_model_cannot(qtbot, corpus):
    session = _session(corpus)  # d_model 16, 2 heads, context 12
    panel = _panel(qtbot, session)
    before = session.trace
    panel.article_button.click()
    assert session.trace is before
    text = panel.banner.text()
    assert "d_model is 16" in text and "2 heads" in text and "context is 12" in text
    assert text == article_mode_problem(session.model)  # the engine's reasons, worded here


def test_article_mode_explains_itself_in_chinese(qtbot, corpus, zh_catalogue):
    session = _session(corpus)  # d_model 16, 2 heads, context 12
    panel = _panel(qtbot, session)
    panel.article_button.click()
    _switch(session, "zh")  # the banner shown is re-worded
    assert panel.banner.text() == (
        "此模型无法重现文章中的形状 [4,16,64] → [4,4,16,16]：d_model 为 16，文章中为 64；"
        "它有 2 个头，文章中为 4 个（head_size 16）；它的上下文长度为 12 个词元，文章需要 16 个。"
        "请创建一个 d_model 为 64、4 个头、上下文长度至少为 16 的模型（即默认设置）。")
    empty = _panel(qtbot, Session())
    empty.article_button.click()
    assert empty.banner.text() == "尚未加载模型：请先创建或打开一个模型。"


def test_exports_go_through_the_dialog(qtbot, corpus, tmp_path, monkeypatch):
    session = _session(corpus)
    panel = _panel(qtbot, session)
    _go_to(panel, "blocks.0.attn.pattern")
    targets = iter([tmp_path / "p.csv", tmp_path / "p.npy", tmp_path / "p.png",
                    tmp_path / "p.svg"])
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(next(targets)))
    assert panel.export_csv().endswith("p.csv")
    assert (tmp_path / "p.csv").read_text(encoding="utf-8").startswith("# blocks.0.attn.pattern")
    panel.export_npy()
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"),
                                  session.trace.values("blocks.0.attn.pattern"))
    panel.export_image("png")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    panel.export_image("svg")
    assert "<svg" in (tmp_path / "p.svg").read_text(encoding="utf-8")
    # The next dialog opens in the folder last saved to, suggesting the step's name.
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: asked.append(a[2]) or "")
    assert panel.export_npy() == ""
    assert asked == [str(tmp_path / "blocks.0.attn.pattern.npy")]
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: "")  # cancelled
    assert panel.export_csv() == ""


def test_language_and_empty_state(qtbot, corpus, zh_catalogue):
    session = Session()
    panel = _panel(qtbot, session)
    assert panel.empty.is_empty() and panel.current_name() == ""
    panel.next()  # nothing to do, no crash
    s2 = _session(corpus)
    p2 = _panel(qtbot, s2)
    _go_to(p2, "blocks.0.attn.scores")
    english = p2.explanation.toPlainText()
    _switch(s2, "zh")
    assert p2.next_button.text() == "下一步 ▶"
    assert p2.explanation.toPlainText() != english
    assert "通过" in p2.check_label_text()
    # The step list's headers, counter, selectors and empty state follow the language too.
    assert p2.step_list.item(0).text() == "输入 · 嵌入"
    assert any(p2.step_list.item(r).text() == "第 0 块" for r in range(p2.step_list.count()))
    assert p2.toolbar.counter.text().startswith("第 ") and p2.batch_spin.isVisibleTo(p2)
    assert p2.values.form.batch_label.text() == "批次"
    assert p2.table_model().headerData(0, Qt.Orientation.Vertical) == "0 The"
    assert s2.lang == "zh"
    _switch(session, "zh")
    assert panel.empty.message.text().startswith("还没有追踪结果")


def test_the_session_language_switches_the_panel(qtbot, corpus, zh_catalogue):
    session = _session(corpus)
    panel = _panel(qtbot, session)
    _go_to(panel, "blocks.0.attn.q")
    english_note = panel.note.text()
    _switch(session, "zh")  # e.g. View → Language: every view follows
    assert panel.toolbar.prev_button.text() == "◀ 上一步"
    assert "然后 transpose(1,2)" in panel.note.text() and panel.note.text() != english_note
    assert panel.words.weights.text().startswith("权重: Wq [16×16]")
    _switch(session, "en")
    assert panel.toolbar.prev_button.text() == "◀ Previous" and panel.note.text() == english_note
    assert panel.current_name() == "blocks.0.attn.q"


def test_new_weights_make_the_checks_wait_for_the_next_trace(qtbot, corpus):
    session = _session(corpus)
    panel = _panel(qtbot, session)
    _go_to(panel, "blocks.0.attn.scores")
    assert panel.check_label_text().startswith("✓")
    session.set_weights(tiny_model(corpus.tokenizer.vocab_size, seed=1, context_length=12))
    assert panel.check_label_text().startswith("Weights changed since this trace")
    assert panel.check_result() is None
    session.set_trace(run_trace(session.model, session.context_ids()))
    assert panel.current_name() == "blocks.0.attn.scores"
    assert panel.check_label_text().startswith("✓") and panel.check_result().passed


def test_article_mode_without_text_says_so(qtbot, corpus, zh_catalogue):
    session = _session(corpus, d_model=64, n_head=4, context_length=16, n_layer=1, d_ff=64)
    session.set_context_text("")
    panel = _panel(qtbot, session)
    panel.article_button.click()
    assert panel.banner.text().startswith("Article mode needs text")
    _switch(session, "zh")
    assert panel.banner.text().startswith("文章模式需要文本")  # the banner re-worded live
    panel.article_button.click()
    assert panel.banner.text().startswith("文章模式需要文本")


def test_every_walkthrough_string_has_its_chinese():
    """Each source of the walkthrough's catalogue has its Chinese with the same {fields}, so a
    Chinese sentence is never missing a number; and no walkthrough module uses the old table."""
    import importlib.util
    import re
    from pathlib import Path

    from gui.panels.walkthrough import panel

    script = Path(__file__).resolve().parents[1] / "scripts" / "translations.py"
    spec = importlib.util.spec_from_file_location("translations_script", script)
    catalogue = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(catalogue)

    messages = catalogue.messages("walkthrough")
    assert len(messages) >= 35 and catalogue.untranslated("walkthrough") == []
    for _context, source, translation in messages:
        assert re.search(r"[\u4e00-\u9fff；]", translation.text), source
        assert sorted(re.findall(r"{\w+}", source)) == sorted(re.findall(r"{\w+}",
                                                                          translation.text))
    for path in Path(panel.__file__).parent.glob("*.py"):
        assert "gui.strings" not in path.read_text(encoding="utf-8"), path.name


def test_in_chinese_the_engine_words_are_chinese_and_switch_back_live(qtbot, corpus,
                                                                       zh_catalogue):
    """Step titles (list, heading, heatmap), formula captions, named axes, weights and the
    check's description come from the engine in the session's language; a switch back to
    English restores every one of them."""
    from engine.model.steps import step_formula, step_title

    session = _session(corpus)
    panel = _panel(qtbot, session)
    _go_to(panel, "blocks.0.attn.pattern")
    english = (panel.words.title.text(), panel.words.formula.text(), panel.shapes.text(),
               panel.check_label_text(), panel.values.form.caption.text(),
               panel.step_list.currentItem().text())
    _switch(session, "zh")
    assert panel.words.title.text() == step_title("blocks.0.attn.pattern", "zh")
    assert panel.words.formula.text() == step_formula("blocks.0.attn.pattern", "zh")
    assert "（每行之和为 1）" in panel.words.formula.text()
    assert panel.shapes.text().endswith("[批次 1, 头 2, 查询 7, 键 7]")
    assert panel.check_label_text().startswith("✓ 校验通过 — 重新计算 softmax；每行之和为 1")
    assert panel.values.form.caption.text() == "显示：批次 0，头 0 → [查询 7 × 键 7]"
    assert panel.step_list.currentItem().text().startswith("11. 第 0 块：注意力权重（softmax）")
    assert panel.step_list.item(1).text() == "1. 词元编号 [1,7]"
    assert panel.step_list.item(1).toolTip() == "追踪名称：tokens\n" + step_formula("tokens", "zh")
    plot = panel.heatmap.plot
    assert plot.getAxis("left").labelText == "查询" and plot.getAxis("bottom").labelText == "键"
    assert panel.heatmap.title() == "第 0 块：注意力权重（softmax）  (批次 0，头 0)"
    panel.step_list.setCurrentRow(panel.step_list.row_of["blocks.0.attn.q"])  # a click
    assert panel.words.weights.text() == "权重: Wq [16×16] + bq [16]  （qkv.weight 的第 0–15 行）"
    assert panel.toolbar.counter.text() == "第 5 步，共 {} 步".format(len(panel.step_names()))
    panel.go_to("blocks.0.attn.pattern")
    _switch(session, "en")
    assert (panel.words.title.text(), panel.words.formula.text(), panel.shapes.text(),
            panel.check_label_text(), panel.values.form.caption.text(),
            panel.step_list.currentItem().text()) == english
    assert plot.getAxis("left").labelText == "query"


def test_a_language_change_alone_retranslates_the_panel(qtbot, corpus, zh_catalogue):
    """Qt's LanguageChange (the catalogue installed, the session untouched) re-sets the
    interface's own words: buttons, tooltips, labels, list headers, the counter."""
    session = _session(corpus)
    panel = _panel(qtbot, session)
    _go_to(panel, "blocks.0.attn.q")
    i18n.install("zh")
    QApplication.sendPostedEvents()
    assert session.lang == "en"
    assert panel.article_button.toolTip().startswith("像文章中那样")
    assert panel.toolbar.export_label.text() == "导出此步："
    assert panel.values.form.precision_label.text() == "小数位"
    assert panel.step_list.item(0).text() == "输入 · 嵌入"
    assert panel.toolbar.counter.text().startswith("第 5 步")
    assert panel.values.form.caption.text().startswith("显示：批次 0，头 0")
    assert panel.words.title.text() == "Block 0: Queries, split into heads"  # the session's
    i18n.install("en")
    QApplication.sendPostedEvents()
    assert panel.toolbar.export_label.text() == "Export step:"
    assert panel.toolbar.counter.text().startswith("Step 5 of")
