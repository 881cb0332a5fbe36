"""Attribution on models imported from transformers (issue 19's families, made by transformers
with random weights and perturbed norms and biases): the direct logit attribution adds up to
the real logit within 1e-4, and integrated gradients are complete within their tolerance."""
import pytest

from engine.model.attribution import TOLERANCE, direct_logit_attribution
from engine.model.input_attribution import input_attribution
from engine.model.trace import run_trace
from engine.storage.imports import open_model

pytest.importorskip("transformers")
from tests.test_families_bar import FAMILIES, PROMPT, saved, tokenizer_file  # noqa: E402,F401


@pytest.mark.parametrize("kind", list(FAMILIES))
def test_every_imported_family_splits_exactly(tmp_path, tokenizer_file, kind):  # noqa: F811
    _, folder = saved(tmp_path, kind, tokenizer_file)
    ckpt = open_model(folder)
    ids = ckpt.tokenizer.encode(PROMPT)[:40]
    trace = run_trace(ckpt.model, ids)
    for position, versus in ((-1, None), (20, 5)):
        got = direct_logit_attribution(ckpt.model, trace, position=position, versus=versus)
        assert got.error < TOLERANCE, (kind, position, got.error)
    assert (got.softcap is not None) == (kind == "gemma2")
    inputs = input_attribution(ckpt.model, ids, 20, got.target, versus=5)
    assert inputs.completeness_error < inputs.tolerance, (kind, inputs.completeness_error)


@pytest.mark.parametrize("kind", list(FAMILIES))
def test_every_imported_family_passes_the_patching_checks(tmp_path, tokenizer_file,
                                                          kind):  # noqa: F811
    """Patching everything restores 1, nothing 0, the prompt against itself 0; and the
    resumed runs (later positions only, recorded keys and values in front: sliding windows,
    QK-norm, soft-caps) equal whole patched forwards."""
    import numpy as np
    import torch

    from engine.model.patching import (_hooks, _patch_lists, activation_patching,
                                       patched_logits, patching_checks)
    from engine.model.resume import record

    _, folder = saved(tmp_path, kind, tokenizer_file)
    ckpt = open_model(folder)
    clean = [int(i) for i in ckpt.tokenizer.encode(PROMPT)[:24]]
    corrupt = list(clean)
    for t in (3, 12, 23):
        corrupt[t] = (clean[t] + 11) % ckpt.model.config.vocab_size
    checks = patching_checks(ckpt.model, clean, corrupt)
    assert checks.passed, (kind, checks)
    res = activation_patching(ckpt.model, clean, corrupt, "residual", batch=9)
    values = record(ckpt.model, torch.tensor([clean]), set(_hooks(ckpt.model, "residual"))).hooks
    lists, shape, _, _ = _patch_lists(ckpt.model, "residual", len(clean))
    whole = patched_logits(ckpt.model, torch.tensor([corrupt]), values, lists,
                           len(clean) - 1).double()  # (R, V)
    expected = (whole[:, res.target] - whole[:, res.foil]).numpy().reshape(shape)
    assert np.allclose(res.patched_diff, expected, atol=5e-5), kind
