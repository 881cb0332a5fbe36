"""The Attribution panel (issue 20): what it shows is the engine's attribution, its checks are
shown passing, a new choice recomputes, and it works on a rotary GQA family model."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import CAT_TEXT, tiny_model, traced_session

from engine.model.attribution import direct_logit_attribution
from engine.model.input_attribution import input_attribution
from engine.model.trace import run_trace
from engine.text.tokenizers import build_tokenizer
from gui.panels.attribution import AttributionPanel
from gui.panels.attribution.readings import dla_grid, share_colours, short_name, sorted_parts
from gui.workers import running_threads


def _session(**config):
    tok = build_tokenizer("char", CAT_TEXT)
    model = tiny_model(tok.vocab_size, **config)
    with torch.no_grad():  # larger writes than the init, so the parts differ visibly
        for block in model.blocks:
            block.attn.proj.weight.normal_(0, 0.5)
    return traced_session(model, tok, "the cat sat on")


@pytest.fixture
def session():
    return _session()


def _panel(qtbot, session) -> AttributionPanel:
    p = AttributionPanel(session)
    qtbot.addWidget(p)
    p.resize(1000, 700)
    p.show()
    return p


@pytest.fixture
def panel(qtbot, session):
    p = _panel(qtbot, session)
    yield p
    p.shutdown()
    assert not running_threads()


def _logit(qtbot, panel):
    view = panel.logit
    qtbot.waitUntil(lambda: view.attribution() is not None and not view.is_updating(),
                    timeout=10_000)
    return view.attribution()


def test_heatmap_shows_the_engines_parts_and_the_sum_check_passes(qtbot, panel, session):
    got = _logit(qtbot, panel)
    T = session.trace.ids.shape[1]
    expected = direct_logit_attribution(session.model, session.trace)
    assert got.position == T - 1 and got.target == int(session.trace.top_ids[0, -1, 0])
    assert got.parts == expected.parts
    cfg = session.model.config
    shown = panel.logit.heatmap.current_image()
    assert shown.shape == (cfg.n_layer, cfg.n_head + 1)
    for layer in range(cfg.n_layer):
        for h in range(cfg.n_head):
            assert shown[layer, h] == pytest.approx(
                expected.parts[f"blocks.{layer}.attn.head.{h}"], rel=1e-6, abs=1e-6)
        assert shown[layer, -1] == pytest.approx(expected.parts[f"blocks.{layer}.mlp"],
                                                 rel=1e-6, abs=1e-6)
    assert panel.logit.heatmap.col_labels()[-1] == "MLP"
    # The sorted table: every part, the largest share first.
    table = panel.logit.table
    assert table.rowCount() == len(expected.parts)
    first = max(expected.parts.items(), key=lambda kv: abs(kv[1]))
    assert f"“{first[0]}”" in table.item(0, 0).toolTip()  # the engine's name of the part
    assert short_name(first[0]) in table.item(0, 0).text() or first[0] in ("embed", "constants")
    assert float(table.item(0, 1).text()) == pytest.approx(first[1], abs=1e-4)
    # The check: green, and saying the engine's own error figure.
    assert panel.logit.check_kind() == "pass"
    assert "✓" in panel.logit.check_text() and f"{expected.error:.1e}" in panel.logit.check_text()


def test_choosing_another_target_or_a_versus_token_recomputes(qtbot, panel, session):
    first = _logit(qtbot, panel)
    second = panel.bar.choices()[1]
    panel.bar.set_target(second)
    qtbot.waitUntil(lambda: panel.logit.attribution().target == second, timeout=10_000)
    got = panel.logit.attribution()
    assert got.target != first.target
    expected = direct_logit_attribution(session.model, session.trace, target=second)
    assert got.parts == expected.parts
    np.testing.assert_allclose(panel.logit.heatmap.current_image()[0, 0],
                               expected.parts["blocks.0.attn.head.0"], rtol=1e-6, atol=1e-6)
    # Versus the top guess: a logit difference, still adding up.
    panel.bar.set_versus(first.target)
    qtbot.waitUntil(lambda: panel.logit.attribution().versus == first.target, timeout=10_000)
    diff = panel.logit.attribution()
    assert diff.logit == pytest.approx(expected.logit - first.logit, abs=1e-4)
    assert panel.logit.check_kind() == "pass"
    assert "difference" in panel.logit.headline.text()
    # Another position: the choices are that position's guesses.
    panel.bar.set_position(2)
    qtbot.waitUntil(lambda: panel.logit.attribution().position == 2, timeout=10_000)
    assert panel.bar.choices()[0] == int(session.trace.top_ids[0, 2, 0])


def test_input_tokens_show_the_engines_shares_and_completeness(qtbot, panel, session):
    panel.tabs.setCurrentWidget(panel.inputs)
    view = panel.inputs
    view.set_steps(32)
    qtbot.waitUntil(lambda: view.attribution() is not None and view.attribution().steps == 32
                    and not view.is_updating(), timeout=20_000)
    got = view.attribution()
    T = session.trace.ids.shape[1]
    target = int(session.trace.top_ids[0, -1, 0])
    expected = input_attribution(session.model, session.trace.ids[0], T - 1, target, steps=32)
    np.testing.assert_allclose(got.integrated_gradients, expected.integrated_gradients,
                               rtol=1e-6, atol=1e-7)
    assert view.ig_cells.numbers() == [f"{v:+.3f}" for v in expected.integrated_gradients]
    assert view.grad_cells.numbers() == [f"{v:+.3f}" for v in expected.gradient_x_input]
    # The token pushing the target up most is the reddest cell.
    colours = view.ig_cells.colours()
    top = int(np.argmax(expected.integrated_gradients))
    assert colours[top] == share_colours(expected.integrated_gradients)[top]
    assert view.check_kind() == "pass" and "✓" in view.check_text()


def test_exports_write_the_numbers_shown(qtbot, panel, session, tmp_path):
    got = _logit(qtbot, panel)
    path = panel.logit.export.save_csv(str(tmp_path / "dla.csv"))
    lines = (tmp_path / "dla.csv").read_text(encoding="utf-8").splitlines()
    assert path and lines[0] == "part,share"
    rows = dict(line.rsplit(",", 1) for line in lines[1:])
    assert float(rows["logit"]) == got.logit
    assert sum(float(rows[n]) for n in got.parts) == pytest.approx(got.logit, abs=1e-4)
    for fmt in ("png", "svg"):
        out = panel.logit.export.save_image(fmt, str(tmp_path / f"dla.{fmt}"))
        assert out and (tmp_path / f"dla.{fmt}").stat().st_size > 0


def test_readings_without_widgets(session):
    trace, model = session.trace, session.model
    dla = direct_logit_attribution(model, trace)
    grid = dla_grid(dla, 2, 2)
    assert grid.values.shape == (2, 3) and grid.row_labels == ["block 0", "block 1"]
    assert grid.values[1, 2] == dla.parts["blocks.1.mlp"]
    ranked = sorted_parts(dla)
    assert [abs(r.share) for r in ranked] == sorted((abs(v) for v in dla.parts.values()),
                                                    reverse=True)
    assert short_name("blocks.3.attn.head.5") == "L3H5" and short_name("embed") == "embed"
    white = share_colours([0.0, 1.0, -1.0])
    assert white[0].red() == white[0].green() == white[0].blue() == 255
    assert white[1].red() > white[1].blue() and white[2].blue() > white[2].red()


def test_a_rotary_gqa_model_is_attributed(qtbot):
    s = _session(positional="rotary", norm="pre", norm_kind="rmsnorm", activation="silu",
                 gated=True, bias=False, n_head=4, n_kv_head=2)
    assert s.model.config.positional == "rotary" and s.model.config.n_kv_head == 2
    p = _panel(qtbot, s)
    try:
        got = _logit(qtbot, p)
        assert got.parts == direct_logit_attribution(s.model, s.trace).parts
        assert p.logit.heatmap.current_image().shape == (2, 5)
        assert p.logit.check_kind() == "pass"
    finally:
        p.shutdown()


def _run_patching(qtbot, panel, corrupted: str, kind: str):
    panel.tabs.setCurrentWidget(panel.patching)
    view = panel.patching
    view.set_corrupted(corrupted)
    view.set_kind(kind)
    with qtbot.waitSignal(view.finished, timeout=30_000):
        view.run_button.click()
    return view


def test_patching_shows_the_restored_fraction_and_its_checks(qtbot, panel, session):
    from engine.model.patching import activation_patching

    view = panel.patching
    panel.tabs.setCurrentWidget(view)
    view.word_edit.setText("cat")
    view.replacement_edit.setText("dog")
    view.replace_button.click()
    assert view.corrupt_edit.text() == "the dog sat on"
    assert view.lengths_match() and view.run_button.isEnabled()
    _run_patching(qtbot, panel, "the dog sat on", "heads")
    got = view.patched().result
    expected = activation_patching(session.model, view.clean_ids(), view.corrupt_ids(),
                                   kind="heads")
    np.testing.assert_allclose(view.heatmap.current_image(), expected.restored, rtol=1e-5,
                               atol=1e-6)
    assert got.target == expected.target and got.foil == expected.foil
    assert view.check_kind() == "pass" and view.check_label.text().count("✓") == 4
    # The residual stream: layers (embed and after each block) × positions.
    _run_patching(qtbot, panel, "the dog sat on", "residual")
    T = len(view.clean_ids())
    assert view.heatmap.current_image().shape == (session.model.config.n_layer + 1, T)
    assert view.check_kind() == "pass"


def test_patching_the_clean_prompt_against_itself_restores_nothing(qtbot, panel, session):
    view = _run_patching(qtbot, panel, session.context_text, "mlp")
    assert view.patched().result.no_difference
    assert np.all(view.heatmap.current_image() == 0)
    assert view.check_kind() == "pass" and "itself" in view.check_label.text()
    assert "nothing" not in view.check_label.text()  # nothing to restore: only that check


def test_a_corrupted_prompt_of_another_length_is_refused_in_one_line(qtbot, panel):
    view = panel.patching
    panel.tabs.setCurrentWidget(view)
    view.set_corrupted("the elephant sat on")
    assert not view.run_button.isEnabled()
    assert "✗" in view.length_label.text() and "tokens" in view.length_label.text()
    view.word_edit.setText("zebra")
    view.replace_button.click()
    assert "zebra" in view.length_label.text()


def test_cancel_stops_the_patching_worker(qtbot, panel, monkeypatch):
    import time

    from gui.panels.attribution import jobs

    real = jobs.activation_patching

    def slow(*args, progress=None, **kwargs):  # each batch takes a while: time to cancel
        def report(done, total):
            time.sleep(0.05)
            progress(done, total)
        return real(*args, progress=report, **kwargs)

    monkeypatch.setattr(jobs, "activation_patching", slow)
    view = panel.patching
    panel.tabs.setCurrentWidget(view)
    view.batch = 1
    view.set_corrupted("the dog sat on")
    view.set_kind("residual")
    view.run_button.click()
    assert view.is_running() and view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: view.progress.maximum() > 1 and view.progress.value() >= 1,
                    timeout=10_000)
    with qtbot.waitSignal(view.finished, timeout=10_000):
        view.cancel_button.click()
    assert not view.is_running() and view.patched() is None
    assert view.progress.value() < view.progress.maximum()
    assert "Cancelled" in view.headline.text()
    qtbot.waitUntil(lambda: not running_threads_of(view), timeout=5_000)


def running_threads_of(view):
    return view._threads.running()


def test_what_training_changed_compares_a_snapshot_with_the_window(qtbot, panel, session,
                                                                  tmp_path):
    from engine.model.training_diff import compare_models
    from engine.training.snapshots import SnapshotStore
    from gui.panels.attribution.jobs import Source

    before = tiny_model(session.model.config.vocab_size, seed=7)
    store = SnapshotStore(tmp_path / "snapshots")
    store.add(10, before.state_dict(), {})
    store.add(20, session.model.state_dict(), {})
    session.set_snapshots(store)
    view = panel.changes
    panel.tabs.setCurrentWidget(view)
    # By default: the oldest snapshot (A) against the model in the window (B).
    assert view.sources() == (Source("snapshot", step=10), Source("window"))
    qtbot.waitUntil(lambda: view.diff() is not None and not view.is_updating(), timeout=20_000)
    ids = session.trace.ids[0]
    expected = compare_models(before, session.model, ids)
    got = view.diff()
    np.testing.assert_allclose(got.loss_a, expected.loss_a, rtol=1e-6)
    np.testing.assert_allclose(got.loss_b, expected.loss_b, rtol=1e-6)
    np.testing.assert_allclose(view.heatmap.current_image(), expected.head_distance, rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(view.a_bars.opts["height"], expected.loss_a, rtol=1e-6)
    worst = int(expected.worsened[0]) if len(expected.worsened) else None
    if worst is not None:
        assert repr(session.tokenizer.piece(ids[worst + 1])) in view.changes_label.text()
    # The last snapshot holds the window's weights: nothing changed between them.
    view.set_sources(Source("snapshot", step=20), Source("window"))
    qtbot.waitUntil(lambda: view.sources()[0].step == 20 and view.diff() is not None
                    and not view.is_updating()
                    and np.allclose(view.diff().loss_a, view.diff().loss_b), timeout=20_000)
    assert np.allclose(view.heatmap.current_image(), 0, atol=1e-6)


def test_a_checkpoint_of_another_model_is_refused_in_one_line(qtbot, panel, session, tmp_path):
    from engine.storage.checkpoint import save_checkpoint
    from gui.panels.attribution.jobs import Source

    other_tok = build_tokenizer("char", "abcdefgh " * 4)
    other = tiny_model(other_tok.vocab_size)
    path = tmp_path / "other.safetensors"
    save_checkpoint(path, other, other_tok)
    view = panel.changes
    panel.tabs.setCurrentWidget(view)
    view.set_sources(Source("file", path=str(path)), Source("window"))
    qtbot.waitUntil(lambda: "Could not compare" in view.headline.text(), timeout=20_000)
    assert view.diff() is None and "\n" not in view.headline.text()


def test_every_tab_switches_to_chinese_live(qtbot, panel, session, zh_catalogue):
    import re
    import sys
    from pathlib import Path

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QTabWidget

    from gui import i18n

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import translations

    def normal(text):
        return " ".join(re.sub(r"<[^>]+>", " ", text).split())

    patterns = []
    for _context, source, _tr in translations.messages("attribution"):
        parts = re.split(r"(\{[^{}]*\})", normal(source))
        if "".join(p for p in parts if not p.startswith("{")).strip():
            patterns.append(re.compile("".join(
                ".+?" if re.fullmatch(r"\{[^{}]*\}", x) else re.escape(x) for x in parts), re.S))

    def english():
        shown = []
        for w in [*panel.findChildren(QLabel), *panel.findChildren(QPushButton)]:
            if w.isVisibleTo(panel) and w.text():
                shown += [normal(x) for x in re.split(r"<br\s*/?>", w.text())]
        for combo in panel.findChildren(QComboBox):
            shown += [combo.itemText(i) for i in range(combo.count())]
        tabs = panel.findChildren(QTabWidget)[0]
        shown += [tabs.tabText(i) for i in range(tabs.count())]
        return {t for t in shown if t and any(p.fullmatch(t) for p in patterns)}

    _logit(qtbot, panel)
    assert "Logit attribution" in english()  # the check sees English
    assert i18n.install("zh") == "zh"
    QCoreApplication.processEvents()
    qtbot.wait(20)
    for view in (panel.logit, panel.inputs, panel.patching, panel.changes):
        panel.tabs.setCurrentWidget(view)
        view.intro.more.setChecked(True)
        qtbot.waitUntil(lambda v=view: not v.is_updating(), timeout=20_000)
        qtbot.wait(20)
        assert not english(), view
    assert panel.tabs.tabText(0) == "logit 归因"
    assert panel.logit.check_text().startswith("✓ 校验通过")
    assert panel.inputs.check_text().startswith("✓ 完备性成立")


def test_the_window_attributes_an_imported_llama_style_model(qtbot, qapp, tmp_path):
    """A random Llama-style folder made by transformers (RMSNorm, rotary, SwiGLU, 2 K/V heads
    for 4 query heads) opens in the window; its Attribution dock adds up."""
    transformers = pytest.importorskip("transformers")
    from gui.window import MainWindow
    from tests import tokenizer_helpers as th

    torch.manual_seed(0)
    config = transformers.AutoConfig.for_model(
        "llama", vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        tie_word_embeddings=False)
    folder = tmp_path / "tiny-llama"
    transformers.AutoModelForCausalLM.from_config(config).float().save_pretrained(folder)
    th.byte_level(folder / "tokenizer.json", vocab_size=400)
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    try:
        with qtbot.waitSignal(w.session.trace_changed, timeout=60_000):
            w.open_model(str(folder))
        cfg = w.session.model.config
        assert cfg.positional == "rotary" and cfg.n_kv_head == 2
        w.raise_panel("attribution")
        p = w.attribution_panel
        got = _logit(qtbot, p)
        expected = direct_logit_attribution(w.session.model, w.session.trace)
        assert got.parts == expected.parts and p.logit.check_kind() == "pass"
        assert p.logit.heatmap.current_image().shape == (cfg.n_layer, cfg.n_head + 1)
        p.tabs.setCurrentWidget(p.inputs)
        qtbot.waitUntil(lambda: p.inputs.attribution() is not None
                        and not p.inputs.is_updating(), timeout=30_000)
        assert p.inputs.check_kind() == "pass"
    finally:
        w.close()
        qtbot.wait(10)
        w.deleteLater()
        qtbot.wait(1)



def test_a_new_model_with_another_vocabulary_waits_for_its_trace(qtbot, panel, session):
    _logit(qtbot, panel)
    tok = build_tokenizer("char", "xyz ")
    model = tiny_model(tok.vocab_size, seed=3)
    session.set_model(model, tok)  # the old trace (other vocabulary) is still the session's
    qtbot.wait(50)
    assert panel.logit.attribution() is None and panel.bar.request() is None
    session.context_text = "xyz zy"
    session.set_trace(run_trace(model, session.context_ids()))
    qtbot.waitUntil(lambda: panel.logit.attribution() is not None, timeout=10_000)
    assert panel.logit.attribution().parts == direct_logit_attribution(model,
                                                                       session.trace).parts


def test_every_tab_exports_its_numbers_and_picture(qtbot, panel, session, tmp_path):
    import csv

    view = panel.inputs
    panel.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.attribution() is not None and not view.is_updating(),
                    timeout=20_000)
    assert view.export.save_csv(str(tmp_path / "inputs.csv"))
    rows = list(csv.reader(open(tmp_path / "inputs.csv", encoding="utf-8")))
    assert rows[0] == ["position", "token", "gradient_x_input", "integrated_gradients"]
    assert [float(r[3]) for r in rows[1:]] == view.attribution().integrated_gradients
    for fmt in ("png", "svg"):
        assert view.export.save_image(fmt, str(tmp_path / f"inputs.{fmt}"))
        assert (tmp_path / f"inputs.{fmt}").stat().st_size > 0
    patching = _run_patching(qtbot, panel, "the dog sat on", "mlp")
    assert patching.export.save_csv(str(tmp_path / "patching.csv"))
    rows = list(csv.reader(open(tmp_path / "patching.csv", encoding="utf-8")))
    restored = patching.patched().result.restored
    assert [float(r[1]) for r in rows[1:1 + len(restored)]] == list(restored)
    assert patching.export.save_image("png", str(tmp_path / "patching.png"))
