"""The generation panel: seeded repeatability, Step continuing a Run, live re-shaping of the bars."""
import numpy as np
import pytest
import torch
from helpers import CAT_TEXT, tiny_model, traced_session

from engine.model.decoder import GPT
from engine.model.sample import generate, next_token_probs
from engine.text.tokenizers import build_tokenizer
from gui.panels.generation import GenerationPanel
from gui.session import Session
from gui.workers import running_threads


@pytest.fixture
def session():
    tok = build_tokenizer("char", CAT_TEXT)
    return traced_session(tiny_model(tok.vocab_size), tok, "the cat sat\nsecond line")


@pytest.fixture
def panel(qtbot, session):
    p = GenerationPanel(session)
    qtbot.addWidget(p)
    p.resize(900, 500)
    qtbot.waitUntil(lambda: not p.is_running() and p.has_logits())
    yield p
    p.shutdown()
    assert not running_threads()  # shutdown waits for every thread the panel started


def _run(qtbot, panel, n):
    panel.run(n)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=10_000)


def test_prompt_defaults_to_the_context_first_line(panel):
    assert panel.prompt() == "the cat sat"
    assert panel.chosen_bar() is None  # nothing sampled yet: the next-token distribution
    assert 0 < panel.bar_values().sum() <= 1 + 1e-6


def test_fixed_seed_is_repeatable_and_matches_the_engine(qtbot, panel, session):
    panel.form.temperature_spin.setValue(0.9)
    panel.form.seed_spin.setValue(7)
    _run(qtbot, panel, 12)
    first = panel.generated_text()
    assert len(panel.generated_ids()) == 12
    panel.clear()
    _run(qtbot, panel, 12)
    assert panel.generated_text() == first
    steps = list(generate(session.model, session.tokenizer, "the cat sat", 12,
                          temperature=0.9, seed=7))
    assert [s.token_id for s in steps] == panel.generated_ids()


def test_step_after_run_continues_the_same_sequence(qtbot, panel):
    _run(qtbot, panel, 5)
    after_run = panel.generated_ids()
    panel.step()
    qtbot.waitUntil(lambda: not panel.is_running())
    assert panel.generated_ids()[:5] == after_run and len(panel.generated_ids()) == 6
    stepped = panel.generated_ids()
    panel.clear()
    _run(qtbot, panel, 6)  # one generator across Step and Run: the same six tokens
    assert panel.generated_ids() == stepped


def test_step_continues_after_stop(qtbot, panel):
    panel.run(3000)
    qtbot.waitUntil(lambda: len(panel.generated_ids()) >= 3, timeout=10_000)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=10_000)
    stopped = panel.generated_ids()
    assert 3 <= len(stopped) < 3000
    panel.step()
    qtbot.waitUntil(lambda: not panel.is_running())
    assert panel.generated_ids()[:-1] == stopped
    assert panel.full_text().startswith("the cat sat")


def test_bars_show_the_sampled_token_and_temperature_reshapes_them(qtbot, panel):
    _run(qtbot, panel, 3)
    qtbot.waitUntil(panel.has_logits)
    before = panel.bar_values()
    chosen = panel.chosen_bar()
    assert chosen is not None
    assert abs(before[chosen] - panel.text.last.prob) < 1e-5  # same distribution the engine drew from
    panel.form.temperature_spin.setValue(0.3)  # redrawn at once, no new token
    after = panel.bar_values()
    assert len(panel.generated_ids()) == 3
    assert not np.allclose(before[: len(after)], after[: len(before)])
    assert after.sum() <= 1 + 1e-6 and after.max() > before.max()
    expected = next_token_probs(panel.text.logits.values, temperature=0.3).numpy()
    assert np.allclose(np.sort(after)[::-1][:5], np.sort(expected)[::-1][:5], atol=1e-6)
    panel.form.top_k_spin.setValue(2)
    assert len(panel.bar_values()) <= 3  # two kept, plus the chosen one if it fell out
    assert panel.bar_values().sum() <= 1 + 1e-6


def test_a_new_model_mid_run_stops_it_and_starts_over(qtbot, panel, session):
    panel.run(3000)
    qtbot.waitUntil(lambda: len(panel.generated_ids()) >= 2, timeout=10_000)
    torch.manual_seed(1)
    other = GPT(session.model.config)
    session.set_model(other, session.tokenizer)  # waits for the old worker, then previews
    assert panel.generated_ids() == []
    qtbot.waitUntil(lambda: not panel.is_running() and panel.has_logits(), timeout=10_000)
    _run(qtbot, panel, 4)
    steps = list(generate(other, session.tokenizer, "the cat sat", 4, seed=0))
    assert panel.generated_ids() == [s.token_id for s in steps]


def test_empty_state_without_a_model(qtbot):
    p = GenerationPanel(Session())
    qtbot.addWidget(p)
    assert p.empty.is_empty()
    p.run(3)  # nothing to sample from: ignored
    assert not p.is_running()


def test_text_and_job_without_widgets(session):
    """The plain logic: one engine generator continues the text, the job's logits belong to
    the shown position, and the bars are re-shaped from them."""
    import threading

    from gui.panels.generation.job import generation_job
    from gui.panels.generation.text import GeneratedText

    tok, model = session.tokenizer, session.model
    text = GeneratedText()
    text.reset("the cat sat", tok)
    settings = {"temperature": 0.9, "top_k": None, "top_p": None}
    text.ensure_steps(model, tok, settings, seed=3)
    job = generation_job(text.steps, 4, model, list(text.ids), tok.vocab_size, False,
                         threading.Event())
    while True:
        try:
            text.add(next(job))
        except StopIteration as stop:
            end = stop.value
            break
    expected = list(generate(model, tok, "the cat sat", 4, temperature=0.9, seed=3))
    assert text.gen_ids == [s.token_id for s in expected] and end.tokens == 4
    text.logits = end.logits
    assert text.has_logits()  # the distribution the newest token was drawn from
    bars = text.bars(tok, settings)
    assert bars.live and bars.chosen is not None
    assert abs(bars.values[bars.chosen] - text.last.prob) < 1e-5
    text.reset("the cat sat", tok)
    assert text.gen_ids == [] and text.steps is None and not text.has_logits()
