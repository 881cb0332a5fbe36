"""A Chinese window shows the engine's errors and conditions in Chinese (engine.wording): an
impossible setting in the Training form, a run the device cannot hold (refused in the training
process), an empty text opened, article mode's conditions, divergence."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import training_faults
from gui import dialogs, i18n

TINY = dict(tokenizer="char", d_model=16, n_head=2, n_layer=1, context_length=8, d_ff=32,
            dropout=0.0, batch_size=4, warmup_steps=2, eval_interval=10, seed=7)


@pytest.fixture
def window(qtbot, zh_catalogue):
    """A window in Chinese, with nothing open."""
    from gui.app import create_app
    from gui.window import MainWindow

    create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    for key, value in TINY.items():
        w.training_panel.form.set_value(key, value)
    i18n.switch(w.session, "zh")
    yield w
    w.close()
    qtbot.wait(10)
    w.deleteLater()
    qtbot.wait(1)


def _tr(context: str, text: str) -> str:
    """A dialog title in the installed language (the GUI's own catalogue)."""
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate(context, text)


def _open(window, qtbot, path: Path) -> None:
    with qtbot.waitSignal(window.session.trace_changed, timeout=30_000):
        window.open_path(str(path))


def test_an_impossible_setting_is_explained_in_chinese(window, qtbot):
    form = window.training_panel.form
    form.set_value("d_model", 30)
    form.set_value("n_head", 4)
    assert form.error_label.text() == "d_model：30 不能被 n_head=4 整除"
    i18n.switch(window.session, "en")  # switched live, the line follows
    assert form.error_label.text() == "d_model: 30 is not divisible by n_head=4"
    i18n.switch(window.session, "zh")
    assert form.error_label.text() == "d_model：30 不能被 n_head=4 整除"


def test_an_empty_text_is_refused_in_chinese(window, qtbot, tmp_path, no_leftovers):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    window.open_path(str(empty))
    qtbot.waitUntil(lambda: bool(no_leftovers), timeout=30_000)
    title, message, _ = no_leftovers[0]
    assert "“empty.txt”：文件是空的；请选择一个有文字的文件" in message, message
    assert "file is empty" not in message
    assert title == _tr("dialogs", "This text file can't be used")


def test_a_run_the_device_cannot_hold_is_refused_in_chinese(window, qtbot, tmp_path,
                                                            monkeypatch, no_leftovers):
    from gui.run import controller

    text = tmp_path / "train.txt"
    text.write_text("the cat sat on the mat. the dog sat on the log. " * 60, encoding="utf-8")
    _open(window, qtbot, text)
    read_as = window.statusBar().currentMessage()
    assert "utf-8（自动检测）" in read_as, read_as  # how the text was read, in Chinese too
    monkeypatch.setattr(controller, "serve", training_faults.memory_short_serve)
    window.training_panel.form.set_value("steps", 20)
    assert window.training_panel.start()
    qtbot.waitUntil(lambda: window.run.state == "idle" and bool(no_leftovers), timeout=120_000)
    title, message, _ = no_leftovers[-1]
    assert "d_model：模型的 " in message and "个参数需要" in message, message
    assert "但 cpu 上只有 1.0 kB 可用内存" in message and "memory are free" not in message
    assert title == _tr("dialogs", "Invalid setting") != "Invalid setting"


def test_article_mode_conditions_come_from_the_engine(qtbot, zh_catalogue, monkeypatch):
    """The walkthrough does not decide article mode's conditions a second time: it says what
    engine.model.article decided, in the window's language."""
    from engine.model.decoder import GPT
    from engine.config import ModelConfig
    from engine.wording import say
    from gui.panels.walkthrough import article

    model = GPT(ModelConfig(vocab_size=10, d_model=32, n_head=4, context_length=16, n_layer=1))
    i18n.install("zh")
    assert article.problem(model) == (
        "此模型无法重现文章中的形状 [4,16,64] → [4,4,16,16]：d_model 为 32，文章中为 64。"
        "请创建一个 d_model 为 64、4 个头、上下文长度至少为 16 的模型（即默认设置）。")
    monkeypatch.setattr(article, "article_mode_problem",
                        lambda m: say("article.context", t=3, a=16))
    assert article.problem(model) == "它的上下文长度为 3 个词元，文章需要 16 个"
    monkeypatch.setattr(article, "article_mode_problem", lambda m: None)
    assert article.problem(model) is None


def test_divergence_from_the_training_process_is_explained_in_chinese(qtbot, zh_catalogue):
    from engine.training.records import TrainingDiverged
    from engine.wording import say

    i18n.install("zh")
    exc = TrainingDiverged(say("train.diverged", step=12, kept=say("train.kept_restored", step=10),
                               lr=0.3, lower=0.03), step=12, kept_step=10)
    title, message = dialogs.explain(pickle.loads(pickle.dumps(exc)))
    assert title == _tr("dialogs", "Training diverged") != \
        "Training diverged"
    assert message.startswith("训练在第 12 步发散：损失或梯度变成了 NaN/inf；已恢复第 10 步的权重。")
