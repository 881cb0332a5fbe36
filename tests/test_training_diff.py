"""What training changed (issue 20, item 4): a model against itself has zero pattern distance
and equal losses; a snapshot trained for longer has a lower mean loss on its training text; the
distance is the Jensen–Shannon divergence its docstring says; different models are refused in
one line; a run's snapshots are built back into models."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.cli.commands import main
from engine.model.training_diff import (TrainingDiffError, compare_models, jensen_shannon)
from engine.training.runreader import run_snapshot
from tests.test_attribution import _model

TEXT = "the cat sat on the mat. the dog sat on the log. " * 60
TINY = ["--tokenizer", "char", "--d-model", "16", "--heads", "2", "--layers", "2", "--context",
        "16", "--ffn", "32", "--batch", "8", "--eval-interval", "40", "--eval-batches", "2",
        "--device", "cpu", "--warmup", "2", "--lr", "3e-3"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny run with snapshots at steps 0, 40 and 80."""
    folder = tmp_path_factory.mktemp("diff")
    text = folder / "cat.txt"
    text.write_text(TEXT, encoding="utf-8")
    assert main(["train", str(text), "--out", str(folder / "run"), "--steps", "80",
                 *TINY]) == 0
    return folder / "run"


@pytest.mark.parametrize("variant", ["post", "gemma"])
def test_a_model_against_itself_changed_nothing(variant):
    model = _model(variant)
    ids = np.random.default_rng(0).integers(0, model.config.vocab_size, 10)
    diff = compare_models(model, model, ids)
    assert diff.loss_a.shape == (9,) and np.array_equal(diff.loss_a, diff.loss_b)
    assert diff.head_distance.shape == (model.config.n_layer, model.config.n_head)
    assert np.all(diff.head_distance == 0)
    assert len(diff.improved) == len(diff.worsened) == 0


def test_a_changed_head_has_the_largest_distance_and_losses_are_per_token():
    model_a = _model("llama")
    model_b = _model("llama")
    with torch.no_grad():  # two heads' queries in layer 1 change: layer 0 cannot move
        model_b.blocks[1].attn.qkv.weight[:16].mul_(4.0)  # heads 0 and 1 (head_size 8)
    ids = np.random.default_rng(0).integers(0, model_a.config.vocab_size, 10)
    diff = compare_models(model_a, model_b, ids)
    assert np.all(diff.head_distance[0] == 0)
    assert np.all(diff.head_distance[1, :2] > 0) and np.all(diff.head_distance[1, 2:] == 0)
    assert diff.top_heads(1)[0][0] >= 1
    with torch.no_grad():
        logits, _ = model_a(torch.as_tensor(ids)[None])
    manual = torch.nn.functional.cross_entropy(logits[0, :-1], torch.as_tensor(ids[1:]),
                                               reduction="none")
    assert np.allclose(diff.loss_a, manual.numpy(), atol=1e-5)
    change = diff.loss_b - diff.loss_a
    assert list(diff.improved) == sorted(np.flatnonzero(change < 0), key=lambda i: change[i])
    assert list(diff.worsened) == sorted(np.flatnonzero(change > 0), key=lambda i: -change[i])
    assert set(diff.to_dict()) >= {"loss_a", "loss_b", "head_distance", "distance"}


def test_the_distance_is_jensen_shannon_in_bits():
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]])
    q = torch.tensor([[0.0, 1.0], [0.5, 0.5], [0.75, 0.25]])
    got = jensen_shannon(p, q).numpy()
    m = np.array([0.5, 0.5])
    kl = lambda a, b: float(np.sum(a * np.log2(a / b)))  # noqa: E731
    expected = 0.5 * kl(np.array([0.25, 0.75]), m) + 0.5 * kl(np.array([0.75, 0.25]), m)
    assert np.allclose(got, [1.0, 0.0, expected])


def test_a_snapshot_trained_longer_has_lower_loss_on_its_text(run):
    first, tok = run_snapshot(run, 0)
    last, tok_last = run_snapshot(run)  # the newest
    assert tok.to_dict() == tok_last.to_dict()
    ids = tok.encode(TEXT[:16])
    diff = compare_models(first, last, ids)
    assert diff.mean_loss_b < diff.mean_loss_a - 0.3
    assert diff.head_distance.max() > 0 and len(diff.improved) > len(diff.worsened)


def test_refusals_are_one_line(run):
    a = _model("pre")  # context 12, vocabulary 50
    for other, ids in ((_different(a), [1, 2, 3]), (a, [1]), (a, list(range(20))),
                       (a, [1, 999])):
        with pytest.raises(TrainingDiffError) as err:
            compare_models(a, other, ids)
        assert "\n" not in str(err.value) and str(err.value)
    with pytest.raises(ValueError, match="no snapshot of step 7"):
        run_snapshot(run, 7)


def _different(model):
    from engine.config import ModelConfig
    from engine.model.decoder import GPT
    from dataclasses import asdict

    fields = asdict(model.config)
    fields["n_head"] = 2
    return GPT(ModelConfig(**fields)).eval()


def test_compare_reads_a_runs_snapshots(run, capsys):
    import json

    capsys.readouterr()
    code = main(["compare", f"{run}@0", str(run), "--prompt", TEXT[:16], "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["mean_loss_b"] < data["mean_loss_a"] and len(data["pieces"]) == 16
    code = main(["compare", f"{run}@7", str(run), "--prompt", TEXT[:16]])
    assert code == 2 and "no snapshot of step 7" in capsys.readouterr().err
