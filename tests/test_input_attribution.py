"""Gradient × input and integrated gradients per input token: completeness holds within the
stated tolerance at the default steps on every variant, the error shrinks with more steps, and
the gradients are the model's own (a finite difference agrees)."""
import numpy as np
import pytest
import torch

from engine.model.attribution import AttributionError
from engine.model.input_attribution import STEPS, input_attribution
from tests.test_attribution import VARIANTS, _model

IDS = [3, 5, 7, 9, 11, 13, 2, 4, 6]


def _strong(variant: str, seed: int = 0):
    """The test model with its matrices 4× larger and its token vectors 25× (larger than the
    biases), so the scores depend on the tokens."""
    model = _model(variant, seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 2:
                p.mul_(25.0 if name == "embed.wte.weight" else 4.0)
    return model


def _score(model, ids, token_scale: np.ndarray, target: int) -> float:
    """The output logit of `target` at the last position, token i's vector times scale[i]."""
    from engine.model.hooks import probing

    idx = torch.as_tensor(ids)[None]  # (1, T)
    s = torch.as_tensor(token_scale, dtype=torch.float32)[None, :, None]  # (1, T, 1)
    with torch.no_grad(), probing(lambda n, y: y * s if n == "embed.token" else y):
        logits, _ = model(idx)  # (1, T, V)
    return float(logits[0, -1, target])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_integrated_gradients_are_complete_within_the_stated_tolerance(variant):
    model = _strong(variant)
    got = input_attribution(model, IDS, position=-1, target=7, versus=11)
    assert got.steps == STEPS and len(got.integrated_gradients) == len(IDS)
    assert abs(got.score - got.baseline_score) > 0.05  # a check on a real difference
    assert got.completeness_error < got.tolerance
    coarse = input_attribution(model, IDS, position=-1, target=7, versus=11, steps=2)
    if variant != "post":  # smooth: the quadrature's error falls with more points (a ReLU's
        assert coarse.completeness_error > 10 * got.completeness_error  # kinks: not always)
    with torch.no_grad():
        logits, _ = model(torch.as_tensor(IDS)[None])  # (1, T, V), capped where it caps
    assert got.score == pytest.approx(float(logits[0, -1, 7] - logits[0, -1, 11]), abs=1e-5)


@pytest.mark.parametrize("variant", ["post", "llama"])
def test_gradient_x_input_is_the_models_own_derivative(variant):
    """Token i's gradient × input is d score / dε with its vector times (1 + ε), at ε = 0."""
    model = _strong(variant)
    ids = IDS[:6]
    got = input_attribution(model, ids, position=5, target=7)
    eps = 1e-3
    for i in range(len(ids)):
        up, down = np.ones(len(ids)), np.ones(len(ids))
        up[i], down[i] = 1 + eps, 1 - eps
        slope = (_score(model, ids, up, 7) - _score(model, ids, down, 7)) / (2 * eps)
        assert got.gradient_x_input[i] == pytest.approx(slope, abs=2e-3, rel=2e-2), i


def test_only_tokens_up_to_the_position_are_attributed():
    model = _strong("pre")
    got = input_attribution(model, IDS, position=3, target=7)
    assert got.position == 3 and len(got.gradient_x_input) == 4
    later = input_attribution(model, IDS[:4] + [1, 1], position=3, target=7)
    assert later.integrated_gradients == pytest.approx(got.integrated_gradients, abs=1e-6)


@pytest.mark.parametrize("kw", [dict(position=9), dict(steps=0)])
def test_impossible_requests_are_one_line(kw):
    with pytest.raises(AttributionError) as err:
        input_attribution(_model("pre"), IDS, **{"position": -1, "target": 1, **kw})
    assert "\n" not in str(err.value)
