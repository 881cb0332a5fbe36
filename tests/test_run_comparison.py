"""Two runs side by side (issue 19 F): a GPT and a Llama-style run trained on the same text,
their loss curves by step and by tokens, and each model's attention on one text."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli.commands import main
from engine.model.trace import run_trace
from engine.training.run_comparison import (
    MAX_TOKENS,
    NoModelYet,
    attention_of,
    equal_points,
    load_model,
    pattern_step,
    read_curves,
)
from engine.training.rundir import NotARun
from tests.run_helpers import COMMON, TEXT, train_two_runs

PROMPT = "the lazy fox 注意力"


def _records(run) -> list[dict]:
    return [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A GPT run (4 heads, batch 4) and a Llama run (2 heads, 1 K/V head, batch 8)."""
    return train_two_runs(tmp_path_factory.mktemp("runs"))


def test_the_curves_are_the_records_losses_by_step_and_by_tokens(runs):
    for run in runs:
        curves = read_curves(run)
        rows = [r for r in _records(run) if r.get("event", "step") not in ("done", "stopped")]
        train = [r for r in rows if r.get("train_loss") is not None]
        val = [r for r in rows if r.get("val_loss") is not None]
        assert curves.train.loss.tolist() == [r["train_loss"] for r in train]
        assert curves.train.step.tolist() == [r["step"] for r in train]
        assert curves.train.tokens.tolist() == [r["tokens"] for r in train]
        assert curves.val.loss.tolist() == [r["val_loss"] for r in val]
        assert curves.val.x("tokens").tolist() == [r["tokens"] for r in val]
        assert curves.outcome == "done" and curves.last_step == 20
    gpt, llama = read_curves(runs[0]), read_curves(runs[1])
    assert (gpt.label.arch, gpt.label.n_head, gpt.label.n_kv_head) == ("gpt", 4, 4)
    assert (llama.label.arch, llama.label.n_head, llama.label.n_kv_head) == ("llama", 2, 1)
    assert llama.label.params > 0 and "1 K/V" in llama.label.shape()
    # Batch 8 against batch 4: the same steps are twice the tokens.
    assert llama.last_tokens == 2 * gpt.last_tokens


def test_equal_points_compare_where_both_runs_have_been(runs):
    gpt, llama = read_curves(runs[0]), read_curves(runs[1])
    by_step, by_tokens = equal_points(gpt, llama)
    assert (by_step.axis, by_step.at) == ("step", 20)
    assert by_step.a.val == gpt.val.loss[-1] and by_step.b.val == llama.val.loss[-1]
    assert by_tokens.at == gpt.last_tokens  # the Llama run is cut at the GPT run's tokens
    half = llama.val.loss[llama.val.tokens <= gpt.last_tokens]
    assert by_tokens.b.val == half[-1] and by_tokens.b.best_val == half.min()
    assert by_tokens.b.train == llama.train.loss[llama.train.tokens <= gpt.last_tokens][-1]


def test_attention_is_the_traced_pattern_causal_and_rows_sum_to_one(runs):
    for run, n_head in zip(runs, (4, 2)):
        side = load_model(run)
        assert side.step == 20 and side.label.n_head == n_head
        att = attention_of(side, PROMPT)
        assert att.pieces == side.tokenizer.pieces(side.tokenizer.encode(PROMPT))
        trace = run_trace(side.model, att.ids)
        assert len(att.patterns) == 2
        for block in range(2):
            assert att.patterns[block].shape == (n_head, len(att.ids), len(att.ids))
            np.testing.assert_array_equal(att.patterns[block],
                                          trace.values(pattern_step(block))[0])
            for head in range(n_head):
                p = att.head(block, head)  # (T, T)
                np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-5)
                assert np.all(np.triu(p, 1) == 0)  # no query sees a later key
        with pytest.raises(ValueError, match="no head 9"):
            att.head(0, 9)


def test_a_long_text_is_cut_to_the_context(runs):
    side = load_model(runs[0])
    att = attention_of(side, "abc " * 100)
    assert len(att.ids) == min(24, MAX_TOKENS) and att.cut == 400 - 24


def test_a_killed_run_reads_what_is_there(runs, tmp_path):
    import shutil

    killed = tmp_path / "killed"
    shutil.copytree(runs[0], killed)
    (killed / "end.json").unlink()
    (killed / "model.safetensors").unlink()
    raw = (killed / "records.jsonl").read_bytes()
    lines = raw.splitlines(keepends=True)
    (killed / "records.jsonl").write_bytes(b"".join(lines[:2]) + lines[2][:9])  # torn line
    curves = read_curves(killed)
    assert curves.outcome is None and len(curves.train.loss) == 2 and curves.bad_lines == 0
    side = load_model(killed)  # no checkpoint: the newest snapshot
    assert side.source == "snapshot" and side.step == 20
    shutil.rmtree(killed / "snapshots")
    with pytest.raises(NoModelYet) as caught:
        load_model(killed)
    assert "no model yet" in str(caught.value) and "\n" not in str(caught.value)


def test_a_folder_that_is_not_a_run_is_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    for call in (read_curves, load_model):
        with pytest.raises(NotARun) as caught:
            call(tmp_path)
        assert "is not a training run" in str(caught.value) and "\n" not in str(caught.value)
        with pytest.raises(NotARun, match="does not exist"):
            call(tmp_path / "nowhere")


def test_a_checkpoint_file_is_a_side_too(runs):
    curves = read_curves(runs[1] / "model.safetensors")
    assert curves.train.loss.tolist() == read_curves(runs[1]).train.loss.tolist()
    side = load_model(runs[1] / "model.safetensors")
    assert side.label.arch == "llama" and side.label.n_kv_head == 1


def test_compare_runs_prints_both_runs_at_equal_steps_and_tokens(runs, capsys, tmp_path):
    assert main(["compare-runs", str(runs[0]), str(runs[1]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    gpt, llama = read_curves(runs[0]), read_curves(runs[1])
    assert (out["a"]["arch"], out["b"]["arch"], out["b"]["n_kv_head"]) == ("gpt", "llama", 1)
    assert out["a"]["final"]["val_loss"] == gpt.val.loss[-1]
    step, tokens = out["equal"]
    assert (step["axis"], step["at"], tokens["axis"], tokens["at"]) == \
        ("step", 20, "tokens", gpt.last_tokens)
    assert tokens["b"]["val_loss"] == llama.val.loss[llama.val.tokens <= gpt.last_tokens][-1]
    assert main(["compare-runs", str(runs[0]), str(runs[1])]) == 0
    text = capsys.readouterr().out
    assert "llama · d 32 · 2 layers · 2 heads (1 K/V)" in text and "at step 20" in text
    assert main(["compare-runs", str(runs[0]), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "is not a training run" in err


def test_two_tokenizers_each_side_shows_its_own_tokens(runs, tmp_path):
    text = tmp_path / "t.txt"
    text.write_text(TEXT, encoding="utf-8")
    assert main(["train", str(text), "--out", str(tmp_path / "bpe"), "--arch", "gpt2",
                 "--heads", "2", "--batch", "4", *COMMON, "--tokenizer", "cl100k_base",
                 "--steps", "5"]) == 0
    char, bpe = load_model(runs[0]), load_model(tmp_path / "bpe")
    assert bpe.label.arch == "gpt2" and bpe.tokenizer.name != char.tokenizer.name
    a, b = attention_of(char, PROMPT), attention_of(bpe, PROMPT)
    assert a.pieces == char.tokenizer.pieces(char.tokenizer.encode(PROMPT))
    assert b.pieces == bpe.tokenizer.pieces(bpe.tokenizer.encode(PROMPT))
    assert len(b.pieces) < len(a.pieces)  # BPE joins characters into words
    assert b.head(1, 1).shape == (len(b.ids), len(b.ids))
