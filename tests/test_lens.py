"""Logit lens, per-token loss and head ablation."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.config import ModelConfig
from engine.text.corpus import corpus_from_text
from engine.model.lens import ablation_effect, logit_lens, next_token_shift, per_token_loss
from engine.model.decoder import GPT
from engine.model.trace import run_trace

TEXT = "the cat sat on the mat. the dog sat on the log. " * 20


@pytest.fixture(scope="module")
def corpus():
    return corpus_from_text(TEXT, tokenizer="char", context_length=8)


def _model(vocab, norm="post", seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_size=vocab, d_model=16, n_head=4, n_layer=3, context_length=8,
                      d_ff=32, norm=norm)
    model = GPT(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return model.eval()


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_last_lens_row_equals_probs(corpus, norm):
    model = _model(corpus.tokenizer.vocab_size, norm)
    ids = corpus.train[:8].astype(np.int64)
    trace = run_trace(model, ids)
    for position in (0, 5, 7):
        rows = logit_lens(model, trace, position, top_k=5)
        assert [r.label for r in rows] == ["embed", "block 0", "block 1", "final"]
        probs = trace.values("probs")[0, position]
        expect = np.argsort(-probs, kind="stable")[:5]
        assert [i for i, _ in rows[-1].top] == expect.tolist()
        np.testing.assert_allclose([p for _, p in rows[-1].top], probs[expect], atol=1e-6)
        assert all(len(r.top) == 5 for r in rows)
        assert rows[0].top != rows[-1].top  # the embedding alone predicts something else


def test_per_token_loss_mean_is_the_model_loss(corpus):
    model = _model(corpus.tokenizer.vocab_size, "pre")
    ids = corpus.train[:8].astype(np.int64)
    losses = per_token_loss(model, ids)
    assert losses.shape == (7,) and (losses > 0).all()
    x = torch.as_tensor(ids[:-1])[None]
    y = torch.as_tensor(ids[1:])[None]
    with torch.no_grad():
        _, loss = model(x, y)
    assert losses.mean() == pytest.approx(float(loss), abs=1e-5)


def test_ablation_changes_exactly_that_head(corpus):
    model = _model(corpus.tokenizer.vocab_size, "post")
    ids = corpus.train[:16].astype(np.int64).reshape(2, 8)
    base = run_trace(model, ids)
    off = run_trace(model, ids, ablate=[(1, 2)])
    for name in base.names():
        layer = base[name].layer
        if layer is not None and layer < 1 or name.startswith(("tokens", "embed")):
            np.testing.assert_array_equal(base.values(name), off.values(name), err_msg=name)
    # Inside layer 1 everything up to the pattern is unchanged; weighted differs in head 2 only.
    for kind in ("q", "k", "v", "scores", "pattern"):
        np.testing.assert_array_equal(base.values(f"blocks.1.attn.{kind}"),
                                      off.values(f"blocks.1.attn.{kind}"))
    w0, w1 = base.values("blocks.1.attn.weighted"), off.values("blocks.1.attn.weighted")
    others = [h for h in range(4) if h != 2]
    np.testing.assert_array_equal(w0[:, others], w1[:, others])
    assert np.all(w1[:, 2] == 0) and np.any(w0[:, 2] != 0)
    assert not np.allclose(base.values("logits"), off.values("logits"))

    effect = ablation_effect(model, _batches(corpus, model), [(1, 2)])
    assert effect["base_val_loss"] != pytest.approx(effect["ablated_val_loss"], abs=1e-6)
    again = ablation_effect(model, _batches(corpus, model), [(1, 2)])
    assert again == effect  # the same seeded batches
    none = ablation_effect(model, _batches(corpus, model), [])
    assert none["ablated_val_loss"] == none["base_val_loss"] == effect["base_val_loss"]


def _batches(corpus, model):
    """Three seeded validation batches of 4 (the caller draws them, not the lens)."""
    return corpus.seeded_batches("val", 3, 4, model.config.context_length, seed=0)


def test_next_token_shift(corpus):
    model = _model(corpus.tokenizer.vocab_size, "pre")
    ids = corpus.train[:8].astype(np.int64)
    shift = next_token_shift(model, ids, [(0, 0), (2, 3)], top_k=4)
    assert len(shift["before"]) == len(shift["after"]) == 4
    probs = run_trace(model, ids).values("probs")[0, -1]
    assert shift["before"][0][0] == int(np.argmax(probs))
    assert shift["before"] != shift["after"]
    # The ablation lived only inside its capture: the model's own forward is unablated again.
    with torch.no_grad():
        logits, _ = model(torch.as_tensor(ids)[None])
    assert np.allclose(F.softmax(logits[0, -1], -1).numpy(), probs, atol=1e-6)
