"""The Compare runs dock (issue 19 F): two runs' loss curves overlaid, by step or by tokens,
and each model's attention on the context side by side, each with its own blocks and heads."""
from __future__ import annotations

import numpy as np
import pytest

from engine.training.run_comparison import load_model, read_curves, attention_of
from gui.panels.runs import RunsPanel
from gui.session import Session
from gui.workers import running_threads
from tests.run_helpers import train_two_runs

CONTEXT = "the lazy dog 注意力"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A GPT run (4 heads, batch 4) and a Llama run (2 heads, 1 K/V head, batch 8)."""
    gpt, llama = train_two_runs(tmp_path_factory.mktemp("gui-runs"))
    return str(gpt), str(llama)


@pytest.fixture
def panel(qtbot):
    session = Session()
    session.set_context_text(CONTEXT)
    p = RunsPanel(session)
    qtbot.addWidget(p)
    p.resize(1100, 760)
    p.show()
    yield p
    p.shutdown()
    assert not running_threads()


def _loaded(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.is_updating() and all(
        panel.sides[x].attention() is not None for x in "AB"), timeout=20_000)


def test_two_curves_and_two_heatmaps_of_different_shapes(qtbot, panel, runs):
    panel.set_runs(*runs)
    _loaded(qtbot, panel)
    for letter, path in zip("AB", runs):
        curves = read_curves(path)
        x, y = panel.curves[letter, "train"].getData()
        assert np.array_equal(y, curves.train.loss) and np.array_equal(x, curves.train.step)
        x, y = panel.curves[letter, "val"].getData()
        assert np.array_equal(y, curves.val.loss) and len(y) == 4
        side = panel.sides[letter]
        expected = attention_of(load_model(path), CONTEXT)
        assert side.head_combo.count() == (4, 2)["AB".index(letter)]
        side.set_head(1, 1)
        assert np.array_equal(side.heatmap.current_image(), expected.head(1, 1))
        assert side.heatmap.row_labels() == [f"{t} {p}" for t, p in enumerate(expected.pieces)]
    legend = [label.text for _item, label in panel.legend.items]
    assert any("gpt" in t for t in legend) and any("llama" in t for t in legend)
    assert "1 K/V" in panel.sides["B"].label.text()
    assert "Head 1 reads K/V head 0 of 1." in panel.sides["B"].caption.text()


def test_the_tokens_axis_lines_up_runs_of_different_batches(qtbot, panel, runs):
    panel.set_runs(*runs)
    _loaded(qtbot, panel)
    by_step = panel.curves["B", "train"].getData()[0].copy()
    panel.axis_combo.setCurrentIndex(panel.axis_combo.findData("tokens"))
    by_tokens = panel.curves["B", "train"].getData()[0]
    assert not np.array_equal(by_step, by_tokens)
    assert np.array_equal(by_tokens, read_curves(runs[1]).train.tokens)
    assert panel.plot.getAxis("bottom").labelText == "training tokens"


def test_a_folder_that_is_not_a_run_says_so_and_keeps_the_other(qtbot, panel, runs, tmp_path):
    panel.set_runs(runs[0], str(tmp_path))
    qtbot.waitUntil(lambda: not panel.is_updating() and
                    panel.sides["A"].attention() is not None, timeout=20_000)
    qtbot.waitUntil(lambda: "is not a training run" in panel.sides["B"].label.text())
    assert panel.curves["B", "train"].getData()[1] is None or \
        len(panel.curves["B", "train"].getData()[1]) == 0
    assert len(panel.curves["A", "train"].getData()[1]) > 0


def test_the_chosen_runs_are_remembered(qtbot, runs):
    first = RunsPanel(Session())
    qtbot.addWidget(first)
    first.set_runs(*runs)
    first.shutdown()
    again = RunsPanel(Session())
    qtbot.addWidget(again)
    assert again.paths() == {"A": runs[0], "B": runs[1]}
    assert again.sides["A"].path() == runs[0]
    assert runs[1] in [again.sides["A"].picker.itemData(i)
                       for i in range(again.sides["A"].picker.count())]
    again.shutdown()


def test_a_run_with_no_model_yet_shows_its_curves_and_says_so(qtbot, panel, runs, tmp_path):
    import shutil

    young = tmp_path / "young"
    shutil.copytree(runs[1], young)
    for name in ("end.json", "model.safetensors"):
        (young / name).unlink()
    shutil.rmtree(young / "snapshots")
    panel.set_runs(runs[0], str(young))
    qtbot.waitUntil(lambda: not panel.is_updating() and
                    "saved no model yet" in panel.sides["B"].label.text(), timeout=20_000)
    assert np.array_equal(panel.curves["B", "train"].getData()[1],
                          read_curves(young).train.loss)
    assert panel.sides["B"].attention() is None and not panel.sides["B"].heatmap.isVisible()
    assert panel.sides["A"].attention() is not None


def test_nothing_loads_until_the_panel_is_on_screen(qtbot, runs):
    session = Session()
    session.set_context_text(CONTEXT)
    hidden = RunsPanel(session)
    qtbot.addWidget(hidden)
    hidden.set_runs(*runs)
    qtbot.wait(100)
    assert hidden._jobs is None and hidden.is_updating()  # waits to be shown
    try:
        hidden.show()
        qtbot.waitUntil(lambda: hidden.sides["B"].attention() is not None, timeout=20_000)
        session.set_context_text("")  # nothing to trace: said in one line, curves kept
        qtbot.waitUntil(lambda: "no tokens" in hidden.sides["A"].label.text(), timeout=20_000)
        assert len(hidden.curves["A", "val"].getData()[1]) == 4
    finally:
        hidden.shutdown()


def test_browse_takes_a_run_folder_or_a_saved_model(qtbot, panel, runs, monkeypatch):
    from gui import dialogs

    model = runs[1] + "/model.safetensors"
    monkeypatch.setattr(dialogs, "ask_directory", lambda parent, title, start: runs[0])
    monkeypatch.setattr(dialogs, "ask_open_path", lambda parent, title, start, filters: model)
    panel.sides["A"].browse_run.trigger()
    panel.sides["B"].browse_model.trigger()
    assert panel.paths() == {"A": runs[0], "B": model}
    _loaded(qtbot, panel)
    assert np.array_equal(panel.curves["B", "val"].getData()[1], read_curves(runs[1]).val.loss)
    assert panel.sides["B"].attention().label.arch == "llama"


def test_a_language_switch_rewords_the_panel_and_its_problems(qtbot, panel, runs, tmp_path,
                                                              zh_catalogue):
    from gui import i18n

    panel.set_runs(runs[0], str(tmp_path))
    qtbot.waitUntil(lambda: "is not a training run" in panel.sides["B"].label.text(),
                    timeout=20_000)
    i18n.switch(panel.session, "zh")
    qtbot.waitUntil(lambda: "不是训练运行" in panel.sides["B"].label.text())
    assert panel.axis_combo.currentText() == "步数" and panel.sides["A"].title() == "运行 A"
    i18n.switch(panel.session, "en")
    assert "is not a training run" in panel.sides["B"].label.text()
