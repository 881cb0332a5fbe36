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
