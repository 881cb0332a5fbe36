"""Snapshots on disk (bounded, exact) and exports of steps and history."""
import csv
import io

import numpy as np
import pytest
import torch

from engine.model.article import article_batch, article_mode_problem, windows_batch
from engine.config import ModelConfig
from engine.text.corpus import corpus_from_text
from engine.storage.export import history_to_csv, step_to_csv, step_to_npy
from engine.model.decoder import GPT
from engine.training.snapshots import SnapshotStore
from engine.model.trace import run_trace


def _model(tied=False, seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_size=30, d_model=16, n_head=4, n_layer=2, context_length=8, d_ff=32,
                      tied=tied)
    return GPT(cfg).eval()


def test_store_is_bounded_and_evenly_spread(tmp_path):
    store = SnapshotStore(tmp_path / "snaps", max_snapshots=5)
    model = _model()
    for step in range(0, 200, 10):
        store.add(step, model.state_dict(), {"step": step, "loss": 1.0 / (step + 1)})
        assert len(store.steps()) <= 5
        assert store.steps()[-1] == step  # the newest is never dropped
    steps = store.steps()
    assert steps[0] == 0 and steps[-1] == 190 and len(steps) == 5
    gaps = np.diff(steps)
    assert gaps.max() <= 2 * gaps.min() + 10  # roughly even, not all bunched at the end
    assert store.metrics(190) == {"step": 190, "loss": 1.0 / 191}
    assert store.total_bytes() > 0
    assert not [p for p in (tmp_path / "snaps").iterdir() if p.name.startswith(".tmp_")]
    store.clear()
    assert store.steps() == [] and store.total_bytes() == 0


@pytest.mark.parametrize("tied", [False, True])
def test_loaded_snapshot_reproduces_the_trace(tmp_path, tied):
    store = SnapshotStore(tmp_path)
    model = _model(tied)
    ids = torch.randint(0, 30, (2, 8), generator=torch.Generator().manual_seed(0))
    store.add(3, model.state_dict(), {"val_loss": 2.5})
    expected = run_trace(model, ids)
    with torch.no_grad():  # training moves on...
        for p in model.parameters():
            p.add_(0.1)
    fresh = _model(tied, seed=99)
    fresh.load_state_dict(store.load(3))
    got = run_trace(fresh, ids)
    assert got.names() == expected.names()
    for name in expected.names():
        np.testing.assert_array_equal(got.values(name), expected.values(name), err_msg=name)
    assert all(t.dtype == torch.float32 for t in store.load(3).values())
    with pytest.raises(KeyError):
        store.load(4)


def test_step_to_csv_blocks_and_labels(tmp_path):
    model = _model()
    ids = np.array([[1, 2, 3, 4, 5, 6, 7, 8], [8, 7, 6, 5, 4, 3, 2, 1]])
    trace = run_trace(model, ids)
    step = trace["blocks.0.attn.masked"]
    pieces = [[f"t{i}" for i in row] for row in ids]
    path = tmp_path / "masked.csv"
    step_to_csv(step, path, token_pieces=pieces)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# blocks.0.attn.masked:")
    assert "# batch 1, head 3\n" in text
    # Parse the block of batch 1, head 3 and compare with the values.
    block = text.split("# batch 1, head 3\n")[1].split("\n\n")[0]
    rows = list(csv.reader(io.StringIO(block)))
    assert rows[0][0] == "query \\ key" and rows[0][1] == "0:t8"
    assert rows[2][0] == "1:t7" and rows[2][3] == "-inf"
    got = np.array([[float(v) for v in r[1:]] for r in rows[1:]], dtype=np.float32)
    np.testing.assert_array_equal(got, step.values[1, 3])

    step_to_npy(trace["embed.sum"], tmp_path / "x.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), trace.values("embed.sum"))

    step_to_csv(trace["embed.position"], tmp_path / "pe.csv")  # 2-D: a single block
    lines = (tmp_path / "pe.csv").read_text().splitlines()
    assert len(lines) == 2 + 8 and lines[1].startswith("context \\ d_model,0,1,")


def test_history_to_csv(tmp_path):
    rows = [{"step": 1, "loss": 3.5}, {"step": 2, "loss": 3.1, "val_loss": 3.3}]
    history_to_csv(rows, tmp_path / "h.csv")
    got = list(csv.DictReader(open(tmp_path / "h.csv", encoding="utf-8")))
    assert list(got[0]) == ["step", "loss", "val_loss"]
    assert got[0]["val_loss"] == "" and got[1]["val_loss"] == "3.3"


def test_article_batch_and_problem():
    corpus = corpus_from_text("abcdefghij klmnop qrstuv wxyz. " * 10, tokenizer="char",
                              context_length=16)
    a = article_batch(corpus)
    assert a.shape == (4, 16)
    np.testing.assert_array_equal(a, article_batch(corpus))  # seeded
    train = corpus.train.astype(np.int64)
    for row in a:  # each row is a window of the training split
        starts = [s for s in range(len(train) - 15) if np.array_equal(train[s:s + 16], row)]
        assert starts
    w = windows_batch([1, 2, 3], 4, 16)
    assert w.shape == (4, 16) and set(w.ravel()) == {1, 2, 3}

    assert article_mode_problem(GPT(ModelConfig(vocab_size=10, n_layer=1))) is None
    msg = article_mode_problem(GPT(ModelConfig(vocab_size=10, d_model=32, n_head=2,
                                               context_length=8, n_layer=1)))
    assert "d_model is 32" in msg and "2 heads" in msg and "context is 8" in msg
