"""Small gaps of issue 19: a step's title and formula follow the model's norm kind (an RMSNorm
model's ln1 is "RMSNorm 1", not "LayerNorm 1"), and the logit lens decodes through Gemma 2's
final soft-cap as the forward does."""
import numpy as np
import torch

from engine.config import ModelConfig
from engine.model.decoder import GPT
from engine.model.lens import logit_lens
from engine.model.presets import preset_config
from engine.model.steps import step_formula, step_title
from engine.model.trace import run_trace

GEMMA2 = dict(vocab_size=40, d_model=16, n_head=4, n_kv_head=2, n_layer=3, context_length=8,
              d_ff=32, dropout=0.0, positional="rotary", activation="gelu_tanh", norm="sandwich",
              norm_kind="rmsnorm", norm_offset=1.0, bias=False, gated=True, tied=True,
              embed_scale=4.0, query_scale=0.3, attn_softcap=5.0, final_softcap=1.5,
              sliding_window=4, sliding_layers=[True, False, True])


def test_titles_and_formulas_follow_the_norm_kind():
    layer = ModelConfig(vocab_size=9)
    rms = preset_config("llama", vocab_size=9).validate()
    gemma = ModelConfig(**GEMMA2).validate()
    assert step_title("blocks.0.ln1", cfg=layer) == "Block 0: LayerNorm 1"
    assert step_title("blocks.0.ln1") == "Block 0: LayerNorm 1"  # no model: the articles'
    assert step_title("blocks.0.ln1", cfg=rms) == "Block 0: RMSNorm 1"
    assert step_title("blocks.2.ln2", "zh", rms) == "第 2 块：RMS 归一化 2"
    assert step_title("ln_f", cfg=rms) == "Final RMSNorm"
    assert step_title("ln_f", "zh", rms) == "最终 RMS 归一化"
    assert step_formula("ln_f", cfg=layer) == "γ·(x−μ)/√(σ²+ε) + β"
    assert step_formula("blocks.1.ln1", cfg=rms) == "γ·x/√(mean(x²)+ε)"
    assert step_formula("blocks.1.ln_pa", "zh", gemma) == "(1+γ)·x/√(mean(x²)+ε)"
    assert step_title("blocks.1.ln_pa", cfg=gemma) == "Block 1: Norm after attention"


def test_a_trace_titles_its_steps_as_its_model_has_them():
    torch.manual_seed(0)
    model = GPT(preset_config("llama", n_kv_head=2, vocab_size=30, d_model=16, n_head=4,
                              n_layer=1, context_length=8, d_ff=32).validate()).eval()
    trace = run_trace(model, np.arange(8)[None] % 30)
    assert trace["blocks.0.ln1"].title == "Block 0: RMSNorm 1"
    assert trace["ln_f"].formula == "γ·x/√(mean(x²)+ε)"
    assert trace.config == model.config


def test_the_lens_decodes_through_the_final_softcap():
    torch.manual_seed(0)
    model = GPT(ModelConfig(**GEMMA2))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    model.eval()
    ids = (np.arange(16).reshape(2, 8) * 7) % 40
    trace = run_trace(model, ids)
    probs = trace.values("probs")[0]  # (T, V), the forward's, capped
    for position in (0, 7):
        rows = logit_lens(model, trace, position, top_k=40)
        final = dict(rows[-1].top)
        got = np.array([final[i] for i in range(40)])
        np.testing.assert_allclose(got, probs[position], atol=1e-6)
    # Uncapped the final row would differ: the cap matters at this scale.
    with torch.no_grad():
        x = torch.as_tensor(trace.values(rows[-1].step)[0, 7])
        raw = torch.softmax(model.lm_head(model.final_norm(x)), -1).numpy()
    assert np.abs(raw - probs[7]).max() > 1e-3


def test_the_walkthrough_names_an_rmsnorm_models_norms(qtbot):
    from helpers import tiny_model, traced_session

    from engine.text.corpus import corpus_from_text
    from gui import i18n
    from gui.panels.walkthrough import WalkthroughPanel

    corpus = corpus_from_text("the cat sat on the mat. " * 20, tokenizer="char", context_length=8)
    llama = {k: v for k, v in preset_config("llama", vocab_size=1).to_dict().items()
             if k in ("norm_kind", "positional", "norm", "activation", "gated", "bias")}
    model = tiny_model(corpus.tokenizer.vocab_size, n_layer=2, context_length=8, **llama)
    session = traced_session(model, corpus.tokenizer, "the cat sat")
    panel = WalkthroughPanel(session)
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    panel.go_to("blocks.0.ln1")
    labels = [b.label for b in panel.model_map.layout_.boxes]
    assert "RMSNorm" in labels and "LayerNorm" not in labels and "Final RMSNorm" in labels
    outline_titles = [panel.step_list.item(i).text()
                      for i in range(panel.step_list.count())]
    assert any("Block 0: RMSNorm 1" in t for t in outline_titles)
    try:
        i18n.switch(session, "zh")
        labels = [b.label for b in panel.model_map.layout_.boxes]
        assert "最终 RMS 归一化" in labels
    finally:
        i18n.switch(session, "en")
