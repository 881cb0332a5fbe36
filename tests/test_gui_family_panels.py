"""Every panel works for a family model (issue 19 E): a random Llama-style folder made by
transformers (RMSNorm, rotary, SwiGLU, 2 K/V heads for 4 query heads, untied head) opens in the
window, and each dock draws it without an error: embeddings from its own token table, the
logit lens through its own final norm, ablation, generation from the model's own BOS and
stopping at its own end token, history, saving and a step's CSV export. The same for a Phi
folder (a parallel block with one shared norm, partial rotary, an output bias)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import redrawn

from engine.model.sample import end_id, generate, start_ids
from engine.storage.checkpoint import load_checkpoint
from engine.storage.export import step_to_csv
from gui import dialogs
from tests import tokenizer_helpers as th

transformers = pytest.importorskip("transformers")


# Phi: a parallel block with one shared LayerNorm, partial rotary, an output bias.
@pytest.fixture(scope="module", params=["llama", "phi"])
def llama_folder(tmp_path_factory, request):
    torch.manual_seed(0)
    cfg = transformers.AutoConfig.for_model(
        request.param, vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        tie_word_embeddings=False)
    folder = tmp_path_factory.mktemp(request.param) / f"tiny-{request.param}"
    transformers.AutoModelForCausalLM.from_config(cfg).float().save_pretrained(folder)
    th.byte_level(folder / "tokenizer.json", vocab_size=400)
    return folder


@pytest.fixture
def window(qtbot, qapp, llama_folder):
    from gui.window import MainWindow

    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    with qtbot.waitSignal(w.session.trace_changed, timeout=60_000):
        w.open_model(str(llama_folder))
    yield w
    w.close()
    qtbot.wait(10)
    w.deleteLater()
    qtbot.wait(1)


def test_every_panel_draws_a_llama_style_model(qtbot, window, tmp_path, monkeypatch):
    w, s = window, window.session
    cfg = s.model.config
    assert cfg.positional == "rotary" and cfg.kv_heads == 2 and not cfg.tied
    for name in w.docks:  # every dock, brought to the front and drawn
        w.raise_panel(name)
        qtbot.wait(20)
    for panel in (w.tokens_panel, w.embeddings_panel, w.positional_panel, w.attention_panel,
                  w.walkthrough_panel):
        panel.grab()
    assert w.positional_panel.rotary_shown()
    assert w.attention_panel.gqa.groups() == [0, 0, 1, 1]

    # A full vocabulary: an id is its row, so no "compact id" anywhere (one id column).
    tokens = w.tokens_panel
    tip = tokens.tooltip_for(0)
    assert f"id (row of the token table): {tokens.rows()[0].compact_id}" in tip
    assert "compact id" not in tip and "original id" not in tip
    assert tokens.side.table.isColumnHidden(3)
    near = w.embeddings_panel.map_page.nearest
    assert near.horizontalHeaderItem(1).text() == "id" and near.isColumnHidden(2)

    # Embeddings: the untied model's own token table (not its output head).
    emb = w.embeddings_panel
    emb.select_token(5)
    table = s.model.token_table().detach().numpy()
    np.testing.assert_allclose(emb.selected_vector(), table[5], rtol=1e-6)
    assert not np.allclose(table, s.model.unembedding().detach().numpy())

    # Logit lens: through the family's final norm; its last row is the model's prediction.
    insights = w.insights_panel
    w.raise_panel("insights")
    redrawn(qtbot, insights.lens)
    qtbot.waitUntil(lambda: len(insights.lens.rows()) > 0, timeout=20_000)
    rows = insights.lens.rows()
    assert len(rows) == cfg.n_layer + 1
    assert rows[-1].top[0][0] == int(s.trace.top_ids[0, insights.lens.position(), 0])

    # Ablation: one query head off (its K/V head still serves the other of its group).
    insights.tabs.setCurrentWidget(insights.ablation)
    insights.ablation.set_heads([(0, 1)])
    qtbot.waitUntil(lambda: s.trace.ablated == ((0, 1),), timeout=20_000)
    weighted = s.trace.values("blocks.0.attn.weighted")  # (B, nh, T, hs)
    assert np.all(weighted[0, 1] == 0) and np.any(weighted[0, 0] != 0)
    insights.ablation.reset()
    qtbot.waitUntil(lambda: s.trace.ablated == (), timeout=20_000)

    # Generation: from the model's own BOS, three tokens.
    gen = w.generation_panel
    w.raise_panel("generation")
    gen.set_prompt("The cat")
    assert start_ids(s.tokenizer, "The cat")[0] == s.tokenizer.bos_id
    gen.run(3)
    qtbot.waitUntil(lambda: not gen.is_running() and len(gen.generated_ids()) > 0,
                    timeout=20_000)
    assert 1 <= len(gen.generated_ids()) <= 3

    # History: the dock draws an imported model with no snapshots.
    w.raise_panel("history")
    qtbot.wait(50)
    w.history_panel.grab()

    # Export: our checkpoint, reopened with equal logits; a rotary step as CSV.
    target = tmp_path / "mine.safetensors"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    assert w.save_model_as()
    again = load_checkpoint(target)
    ids = torch.as_tensor(s.trace.ids)
    with torch.no_grad():
        np.testing.assert_allclose(again.model.eval()(ids)[0].numpy(),
                                   s.model.eval()(ids)[0].numpy(), atol=1e-5)
    step_to_csv(s.trace["blocks.0.attn.q_rot"], tmp_path / "q_rot.csv")
    assert (tmp_path / "q_rot.csv").read_text().count("\n") > cfg.n_head


def test_generation_starts_at_the_models_bos_and_stops_at_its_end_token(llama_folder):
    from engine.storage.imports import open_model

    ckpt = open_model(llama_folder)
    tok, model = ckpt.tokenizer, ckpt.model.eval()
    assert tok.eos_id is not None and end_id(tok) == tok.eos_id
    ids = start_ids(tok, "The cat")
    assert ids[0] == tok.bos_id and ids[1:] == tok.encode("The cat").tolist()
    greedy = [st.token_id for st in generate(model, tok, "The cat", 4, top_k=1, seed=0)]
    # Made the end token, the greedy first choice ends the text at once.
    tok._base.eos_id = greedy[0]  # (the wrapped tokenizer.json names it)
    steps = list(generate(model, tok, "The cat", 4, top_k=1, seed=0))
    assert [st.token_id for st in steps] == greedy[:1]
