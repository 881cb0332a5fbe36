"""Activation patching (issue 20, item 3): its three checks on the bundled model and on every
wiring the model supports (post-norm, pre-norm, Llama-style rotary GQA gated RMSNorm, Gemma
2-style sandwich norms with soft-caps): patching everything restores 100 %, patching nothing
0 %, and the clean prompt against itself gives 0 everywhere. Also the options, the progress
and cancel callbacks, and the one-line refusals."""
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.model.patching import (PatchingCancelled, PatchingError, activation_patching,
                                   corrupt_by_replacing, patched_logits, patching_checks)
from tests.test_attribution import VARIANTS, _model

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "resources" / "model" / "default.safetensors"


def _prompts(model, T: int = 8, seed: int = 1) -> tuple[list[int], list[int]]:
    """A random clean prompt and a corrupted one that differs in three tokens (the last one
    among them, so that the two runs' scores differ clearly even in a random model)."""
    rng = np.random.default_rng(seed)
    clean = rng.integers(0, model.config.vocab_size, T).tolist()
    corrupt = list(clean)
    for t in (1, 3, T - 1):
        corrupt[t] = (clean[t] + 7) % model.config.vocab_size
    return clean, corrupt


def _checks(model, clean, corrupt) -> None:
    checks = patching_checks(model, clean, corrupt)
    assert abs(checks.nothing) < 1e-4 and abs(checks.everything - 1) < 1e-4
    assert abs(checks.whole_layer - 1) < 1e-4 and checks.itself == 0 and checks.passed
    cfg, T = model.config, len(clean)
    res = activation_patching(model, clean, corrupt, "residual", batch=5)
    assert res.restored.shape == (cfg.n_layer + 1, T)
    assert abs(res.clean_diff - res.corrupt_diff) > 1e-3
    # The last block's output reaches the logits at its own position only.
    last = res.restored[-1]
    assert abs(last[-1] - 1) < 1e-4 and np.abs(last[:-1]).max() < 1e-4
    # Positions the two prompts share, before the first changed token, carry nothing yet.
    assert np.abs(res.restored[:, 0]).max() < 1e-4
    for kind, shape in (("heads", (cfg.n_layer, cfg.n_head)), ("mlp", (cfg.n_layer,))):
        got = activation_patching(model, clean, corrupt, kind)
        assert got.restored.shape == shape and np.all(np.isfinite(got.restored))
        assert got.target == res.target and got.foil == res.foil
    same = activation_patching(model, clean, clean, "residual")
    assert same.no_difference and np.all(same.restored == 0)
    assert same.foil != same.target


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_three_checks_hold_on_every_wiring(variant):
    model = _model(variant)
    _checks(model, *_prompts(model))


def test_the_three_checks_hold_on_the_bundled_model():
    if not BUNDLED.is_file():
        pytest.skip("no bundled model")
    from engine.storage.imports import open_model

    ckpt = open_model(str(BUNDLED))
    clean, corrupt = corrupt_by_replacing(
        ckpt.tokenizer, "Each token looks at the tokens before it and the", "token", "word")
    assert clean != corrupt and len(clean) == len(corrupt)
    _checks(ckpt.model, clean, corrupt)


def test_a_patch_is_exactly_the_corrupted_run_with_that_value_replaced():
    """The batched patched forwards equal one forward, patched by hand, per patch."""
    model = _model("llama")
    clean, corrupt = _prompts(model)
    res = activation_patching(model, clean, corrupt, "mlp", batch=2)
    with torch.no_grad():
        clean_out = {}
        from engine.model.hooks import probing

        def keep(name, x):
            clean_out[name] = x.clone()
            return x
        with probing(keep):
            model(torch.tensor([clean]))

        def swap(name, x):
            return clean_out[name] if name == "blocks.1.ffn.out" else x
        with probing(swap):
            logits, _ = model(torch.tensor([corrupt]))
    row = logits[0, -1].double()
    assert abs(float(row[res.target] - row[res.foil]) - res.patched_diff[1]) < 1e-4


def test_progress_counts_every_patch_and_cancel_stops():
    model = _model("pre")
    clean, corrupt = _prompts(model)
    seen = []
    res = activation_patching(model, clean, corrupt, "heads", batch=4,
                              progress=lambda done, total: seen.append((done, total)))
    total = model.config.n_layer * model.config.n_head
    assert seen[0] == (0, total) and seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(res.to_dict()["restored"]) == model.config.n_layer
    seen.clear()  # the clean prompt against itself: every patch copies what is there
    activation_patching(model, clean, clean, "heads", progress=lambda *a: seen.append(a))
    assert seen == [(total, total)]
    calls = []
    with pytest.raises(PatchingCancelled):
        activation_patching(model, clean, corrupt, "residual", batch=4,
                            cancel=lambda: calls.append(1) or len(calls) > 2)
    assert len(calls) == 3


def test_options_position_target_and_foil():
    model = _model("post")
    clean, corrupt = _prompts(model)
    res = activation_patching(model, clean, corrupt, "residual", position=4, target=3, foil=9)
    assert res.position == 4 and res.target == 3 and res.foil == 9
    assert res.restored.shape == (model.config.n_layer + 1, 5)  # later tokens cannot matter
    assert res.row_labels[0] == "embed" and len(res.col_labels) == 5
    assert res.top(3)[0][0].count("@") == 1


def test_refusals_are_one_line():
    model = _model("pre")
    clean, corrupt = _prompts(model)
    for args, kwargs in (((clean, corrupt[:-1]), {}), ((clean, corrupt), {"kind": "neurons"}),
                         ((clean, corrupt), {"position": 40}),
                         ((clean, corrupt), {"target": 2, "foil": 2}),
                         (([], []), {})):
        with pytest.raises(PatchingError) as err:
            activation_patching(model, *args, **kwargs)
        assert "\n" not in str(err.value) and str(err.value)


def test_corrupt_by_replacing_needs_the_same_token_length():
    from engine.text.tokenizers import build_tokenizer

    tok = build_tokenizer("char", "the cat sat on a mat; dogs")
    clean, corrupt = corrupt_by_replacing(tok, "the cat sat", "cat", "dog")
    assert len(clean) == len(corrupt) == 11 and clean[:4] == corrupt[:4] and clean != corrupt
    with pytest.raises(PatchingError, match="token"):
        corrupt_by_replacing(tok, "the cat sat", "cat", "dogs")
    with pytest.raises(PatchingError, match="does not contain"):
        corrupt_by_replacing(tok, "the cat sat", "mouse", "horse")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_resumed_runs_equal_whole_patched_forwards(variant):
    """activation_patching resumes each run at its block and computes only the positions the
    patch can change; the whole corrupted forward, patched by the probe, gives the same."""
    from engine.model.patching import _hooks, _patch_lists
    from engine.model.resume import record

    model = _model(variant)
    clean, corrupt = _prompts(model)
    idx = torch.tensor([corrupt])
    for kind in ("residual", "heads", "mlp"):
        res = activation_patching(model, clean, corrupt, kind, batch=7)
        values = record(model, torch.tensor([clean]), set(_hooks(model, kind))).hooks
        lists, shape, _, _ = _patch_lists(model, kind, len(clean))
        whole = patched_logits(model, idx, values, lists, len(clean) - 1).double()  # (R, V)
        expected = (whole[:, res.target] - whole[:, res.foil]).numpy().reshape(shape)
        assert np.allclose(res.patched_diff, expected, atol=2e-5), (variant, kind)
