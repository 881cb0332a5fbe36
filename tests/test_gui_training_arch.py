"""The Training form's architecture choice (issue 19 F): GPT, GPT-2 or Llama from the engine's
one table of presets; K/V heads asked for only where they apply; a model's settings read back."""
from __future__ import annotations

import pytest

from engine.config import ModelConfig
from engine.model.presets import ARCHES, preset_config


@pytest.fixture
def form(qtbot):
    from gui.app import create_app
    from gui.panels.training.form import TrainingForm
    from gui.session import Session

    create_app()
    session = Session()
    form = TrainingForm(session)
    qtbot.addWidget(form)
    form.show()
    return form


def test_the_architecture_sets_the_model_and_shows_only_its_choices(form):
    arch = form._inputs["arch"]
    assert [arch.itemData(i) for i in range(arch.count())] == list(ARCHES)
    assert form.value("arch") == "gpt" and form.model_config() == ModelConfig(vocab_size=1)
    assert not form.kv_box.isVisible() and form._inputs["positional"].isVisible()

    form.set_value("arch", "llama")
    form.set_value("n_head", 4)
    form.set_value("n_kv_head", 2)
    cfg = form.model_config()
    assert (cfg.norm_kind, cfg.positional, cfg.gated, cfg.activation, cfg.bias, cfg.kv_heads) \
        == ("rmsnorm", "rotary", True, "silu", False, 2)
    assert form.kv_box.isVisible() and form.tied_box.isVisible()
    assert not form._inputs["positional"].isVisible() and not form._inputs["norm"].isVisible()
    assert form.ok or "text" in form.error_label.text()  # no corpus yet: the only problem

    form.set_value("n_kv_head", 3)  # not a divisor of 4 heads: said inline, on that field
    assert not form.validate() and "n_kv_head" in form.error_label.text()
    assert form.kv_box.styleSheet()

    form.set_value("arch", "gpt2")
    cfg = form.model_config()
    assert (cfg.positional, cfg.norm, cfg.activation, cfg.tied, cfg.kv_heads) == \
        ("learned", "pre", "gelu_tanh", True, cfg.n_head)
    assert not form.kv_box.isVisible() and not form.tied_box.isVisible()


def test_a_models_settings_fill_the_form_with_its_architecture(form):
    llama = preset_config("llama", n_kv_head=1, vocab_size=1, d_model=32, n_head=4, n_layer=2,
                          tied=True).validate()
    form.apply_model(llama, None, None)
    assert form.value("arch") == "llama" and form.value("n_kv_head") == 1
    assert form.model_config() == llama
    form.apply_model(ModelConfig(vocab_size=1), None, None)
    assert form.value("arch") == "gpt" and form.model_config() == ModelConfig(vocab_size=1)


def test_the_architecture_speaks_chinese(form, qtbot):
    from gui import i18n

    i18n.install("zh")
    try:
        qtbot.waitUntil(lambda: form._inputs["arch"].itemText(0) != "GPT (the articles)",
                        timeout=5_000)
        texts = {label.text() for label in form._labels.values()}
        assert "K/V 头数" in texts
        assert form._inputs["arch"].itemText(1) == "GPT-2"
    finally:
        i18n.install("en")
