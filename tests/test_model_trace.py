"""The model and its traced forward: the promises the articles' readers rely on."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from engine.config import ConfigError, ModelConfig
from engine.model.decoder import GPT, causal_mask
from engine.model.trace import capture, hook_points, run_trace

VARIANTS = [
    dict(),
    dict(norm="pre"),
    dict(positional="learned", activation="gelu"),
    dict(tied=True, norm="pre", positional="learned"),
]


def small(**kw) -> ModelConfig:
    base = dict(vocab_size=50, d_model=32, n_head=4, n_layer=2, context_length=12, d_ff=64)
    base.update(kw)
    return ModelConfig(**base)


def model_for(cfg: ModelConfig, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    model = GPT(cfg).eval()
    # Random init leaves LayerNorm at identity and biases at zero; perturb so checks bite.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


@pytest.mark.parametrize("kw", VARIANTS)
def test_traced_logits_equal_fast_path(kw):
    model = model_for(small(**kw))
    ids = torch.randint(0, 50, (3, 12))
    with torch.no_grad():
        fast, _ = model(ids)
    trace = run_trace(model, ids)
    assert np.abs(trace["logits"].values - fast.numpy()).max() <= 1e-5
    # Capturing left the model as it was: the fast path is still fast and still equal.
    with torch.no_grad():
        again, _ = model(ids)
    assert torch.equal(again, fast)
    assert all(not hp._forward_hooks for hp in hook_points(model).values())


def test_a_trace_never_changes_what_another_thread_computes():
    """The probe belongs to the tracing thread: a forward of the same model on another
    thread, while a capture is open, records nothing and is not ablated."""
    import threading

    torch.manual_seed(0)
    model = GPT(small()).eval()
    ids = torch.randint(0, 50, (1, 12))
    with torch.no_grad():
        plain, _ = model(ids)
    seen = {}

    def other_thread() -> None:
        with torch.no_grad():
            seen["logits"], _ = model(ids)

    with capture(model, ablate=[(0, 0), (1, 1)]) as cache:
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert cache == {}  # the other thread's forward was not probed
        with torch.no_grad():
            ablated, _ = model(ids)
    assert torch.equal(seen["logits"], plain)
    assert not torch.allclose(ablated, plain)  # this thread's forward was ablated
    assert [n for n in cache][:3] == ["embed.token", "embed.position", "embed.sum"]


@pytest.mark.parametrize("kw", VARIANTS)
def test_pattern_rows_sum_to_one_and_zero_above_diagonal(kw):
    model = model_for(small(**kw))
    trace = run_trace(model, torch.randint(0, 50, (2, 10)))
    upper = np.triu(np.ones((10, 10), dtype=bool), k=1)
    for layer in range(2):
        pattern = trace[f"blocks.{layer}.attn.pattern"].values  # (B, nh, T, T)
        np.testing.assert_allclose(pattern.sum(-1), 1.0, atol=1e-5)
        assert np.all(pattern[..., upper] == 0.0)
        masked = trace[f"blocks.{layer}.attn.masked"].values
        assert np.all(np.isneginf(masked[..., upper]))
        assert np.all(np.isfinite(masked[..., ~upper]))


@pytest.mark.parametrize("kw", VARIANTS)
def test_causality_future_token_never_changes_the_past(kw):
    model = model_for(small(**kw))
    ids = torch.randint(0, 50, (1, 12))
    changed = ids.clone()
    changed[0, 7] = (ids[0, 7] + 1) % 50
    a, b = run_trace(model, ids), run_trace(model, changed)
    for step in a:
        va, vb = step.values, b[step.name].values
        if "query" in step.axes:  # scores exist for future keys too; the past rows/cols don't move
            va, vb = va[..., :7, :7], vb[..., :7, :7]
        elif "context" in step.axes:
            axis = step.axes.index("context")
            va, vb = np.take(va, range(7), axis=axis), np.take(vb, range(7), axis=axis)
        else:
            continue
        assert np.array_equal(va, vb), step.name
    assert not np.array_equal(a["logits"].values[0, 7], b["logits"].values[0, 7])


def test_sinusoidal_row_one_matches_the_article():
    model = GPT(ModelConfig(vocab_size=10, d_model=64, context_length=16))
    trace = run_trace(model, [1, 2, 3])
    row1 = trace["embed.position"].values[1, :6]
    np.testing.assert_allclose(
        row1, [0.841471, 0.540302, 0.681561, 0.731761, 0.533168, 0.846009], atol=1e-6
    )


def test_article_shapes_and_names_in_order():
    cfg = ModelConfig()  # the article's configuration
    trace = run_trace(GPT(cfg), torch.randint(0, cfg.vocab_size, (4, 16)))
    assert trace["embed.sum"].shape == (4, 16, 64)
    assert trace["blocks.0.attn.q"].shape == (4, 4, 16, 16)
    assert trace["blocks.0.attn.scores"].shape == (4, 4, 16, 16)
    assert trace["blocks.7.attn.concat"].shape == (4, 16, 64)
    assert trace["blocks.0.ffn.hidden"].shape == (4, 16, 256)
    assert trace["logits"].shape == (4, 16, cfg.vocab_size)
    block = [
        "attn.q", "attn.k", "attn.v", "attn.scores", "attn.scaled", "attn.masked",
        "attn.pattern", "attn.weighted", "attn.concat", "attn.out",
        "resid1", "ln1", "ffn.hidden", "ffn.act", "ffn.out", "resid2", "ln2",
    ]
    expected = ["tokens", "embed.token", "embed.position", "embed.sum"]
    for i in range(8):
        expected += [f"blocks.{i}.{s}" for s in block]
    expected += ["logits", "probs"]
    assert trace.names() == expected  # golden list: renaming a step is a deliberate act


def test_pre_norm_order_has_final_layernorm():
    trace = run_trace(model_for(small(norm="pre", n_layer=1)), [1, 2, 3])
    names = trace.names()
    assert names.index("blocks.0.ln1") < names.index("blocks.0.attn.q")
    assert names[-3:] == ["ln_f", "logits", "probs"]


def test_ablation_zeroes_exactly_that_head():
    model = model_for(small())
    ids = torch.randint(0, 50, (1, 12))
    base, ablated = run_trace(model, ids), run_trace(model, ids, ablate=[(1, 2)])
    w0, w1 = base["blocks.1.attn.weighted"].values, ablated["blocks.1.attn.weighted"].values
    assert np.all(w1[:, 2] == 0.0)
    for h in (0, 1, 3):
        assert np.array_equal(w0[:, h], w1[:, h])
    assert np.array_equal(base["blocks.0.attn.out"].values, ablated["blocks.0.attn.out"].values)
    assert not np.array_equal(base["logits"].values, ablated["logits"].values)
    with pytest.raises(ValueError, match="no head 9"):
        run_trace(model, ids, ablate=[(0, 9)])


def test_causal_mask_is_one_minus_triu():
    m = causal_mask(4)
    assert m.tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]


@pytest.mark.parametrize(
    "kw, field",
    [
        (dict(d_model=65, n_head=4), "d_model"),
        (dict(n_layer=0), "n_layer"),
        (dict(d_ff=-1), "d_ff"),
        (dict(context_length=100000), "context_length"),
        (dict(dropout=1.5), "dropout"),
        (dict(norm="middle"), "norm"),
    ],
)
def test_impossible_config_names_the_field(kw, field):
    with pytest.raises(ConfigError) as err:
        small(**kw).validate()
    assert err.value.field == field
    assert field in str(err.value)


def test_too_long_input_is_refused():
    with pytest.raises(ValueError, match="context_length"):
        run_trace(model_for(small()), list(range(13)))


def test_engine_never_imports_qt():
    code = (
        "import sys, engine, engine.model.decoder, engine.model.trace, engine.config;"
        "import pkgutil, importlib;"
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(engine.__path__, 'engine.') if m.name != 'engine.cli.__main__'];"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'gui')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("kw", VARIANTS)
def test_the_parameter_count_from_the_config_is_the_models(kw):
    """engine.training.memory counts parameters without building a model (the window asks it on the
    GUI thread); it must agree with the model itself."""
    from engine.training.memory import param_count

    cfg = small(**kw)
    assert param_count(cfg) == GPT(cfg).num_params()
