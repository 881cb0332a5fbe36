"""`transformer-explorer attribute`: the JSON's parts add up to its logit without our code, the
plain output lists the largest parts, and bad requests are one line."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli.commands import main

ROOT = Path(__file__).resolve().parent.parent
TEXT = "the cat sat on the mat. the dog ran to the cat. " * 4


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A small post-norm model (the articles' wiring) with a character tokenizer."""
    from engine.config import ModelConfig
    from engine.model.decoder import new_model
    from engine.storage.checkpoint import save_checkpoint
    from engine.text.tokenizers import build_tokenizer

    tok = build_tokenizer("char", TEXT)
    cfg = ModelConfig(vocab_size=tok.vocab_size, d_model=16, n_head=2, n_layer=2,
                      context_length=32, d_ff=32, dropout=0.0)
    model = new_model(cfg, 3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith(".bias"):
                p.add_(0.3 * torch.randn_like(p))
    return save_checkpoint(tmp_path_factory.mktemp("attr") / "m.safetensors", model, tok)


def _logits(path: Path, prompt: str) -> tuple[np.ndarray, object]:
    from engine.storage.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    ids = torch.as_tensor(ckpt.tokenizer.encode(prompt))[None]  # (1, T)
    with torch.no_grad():
        logits, _ = ckpt.model.eval()(ids)  # (1, T, V)
    return logits[0].double().numpy(), ckpt.tokenizer


def test_json_parts_add_up_to_the_models_own_logit(saved, capsys):
    code, out, err = run(capsys, "attribute", str(saved), "--prompt", "the cat", "--json")
    assert code == 0, err
    data = json.loads(out)
    dla = data["direct_logit_attribution"]
    assert abs(sum(dla["parts"].values()) - dla["logit"]) < 1e-4
    logits, tok = _logits(saved, "the cat")
    top = int(np.argmax(logits[-1]))  # the default target: the top prediction at the last token
    assert dla["target"]["compact_id"] == top and dla["target"]["piece"] == tok.piece(top)
    assert dla["logit"] == pytest.approx(logits[-1, top], abs=1e-5)
    assert data["position"] == len(data["tokens"]["pieces"]) - 1 == 6
    assert {"embed", "blocks.0.attn.head.1", "blocks.1.mlp", "constants"} <= set(dla["parts"])


def test_a_difference_at_a_chosen_position(saved, capsys):
    code, out, err = run(capsys, "attribute", str(saved), "--prompt", "the dog", "--target",
                         "a", "--versus", "o", "--position", "2", "--json")
    assert code == 0, err
    dla = json.loads(out)["direct_logit_attribution"]
    logits, tok = _logits(saved, "the dog")
    a, o = (int(tok.encode(c)[0]) for c in "ao")
    assert dla["position"] == 2 and dla["versus"]["piece"] == "o"
    assert dla["logit"] == pytest.approx(logits[2, a] - logits[2, o], abs=1e-5)
    assert abs(sum(dla["parts"].values()) - dla["logit"]) < 1e-4


def test_plain_output_lists_the_largest_parts_first(saved, capsys):
    code, out, err = run(capsys, "attribute", str(saved), "--prompt", "the cat")
    assert code == 0, err
    parts, inputs = out.split("\ninput tokens", 1)
    rows = [ln.split() for ln in parts.splitlines() if ln.startswith("  ") and "..." not in ln]
    shares = [abs(float(r[1])) for r in rows]
    assert len(rows) == 8 and shares == sorted(shares, reverse=True)  # embed, 2 × 3, constants
    assert "sum of the parts" in out
    assert len([ln for ln in inputs.splitlines() if ln.startswith("  '")]) == 7  # "the cat"
    assert "within the tolerance" in inputs


@pytest.mark.parametrize("argv, fragment", [
    (["--prompt", "the", "--target", "ca"], "'ca' is 2 tokens"),
    (["--prompt", "the", "--position", "3"], "no position 3"),
    (["--prompt", "the", "--target", "a", "--versus", "a"], "same token"),
    (["--prompt", ""], "empty"),
])
def test_bad_requests_are_one_line(saved, argv, fragment):
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "attribute", str(saved), *argv],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and fragment in lines[0], proc.stderr


def test_a_file_that_is_not_a_model_is_one_line(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a model", encoding="utf-8")
    code, _, err = run(capsys, "attribute", str(bad), "--prompt", "x")
    assert code == 2 and "notes.txt" in err and len(err.strip().splitlines()) == 1


def test_json_input_attribution_is_complete_per_token(saved, capsys):
    code, out, err = run(capsys, "attribute", str(saved), "--prompt", "the cat", "--position",
                         "4", "--steps", "32", "--json")
    assert code == 0, err
    data = json.loads(out)
    inputs, dla = data["input_attribution"], data["direct_logit_attribution"]
    assert inputs["target"] == dla["target"] and inputs["steps"] == 32
    assert inputs["pieces"] == data["tokens"]["pieces"][:5]
    assert len(inputs["gradient_x_input"]) == len(inputs["integrated_gradients"]) == 5
    gap = sum(inputs["integrated_gradients"]) - (inputs["score"] - inputs["baseline_score"])
    assert abs(gap) <= inputs["tolerance"] and inputs["score"] == pytest.approx(dla["logit"],
                                                                                abs=1e-5)
    code, out, _ = run(capsys, "attribute", str(saved), "--prompt", "the", "--steps", "0",
                       "--json")
    assert code == 0 and json.loads(out)["input_attribution"] is None


def test_json_activation_patching_restores_the_whole_difference_at_the_last_layer(saved,
                                                                                capsys):
    code, out, err = run(capsys, "attribute", str(saved), "--prompt", "the cat", "--patch",
                         "the dog", "--steps", "0", "--json")
    assert code == 0, err
    data = json.loads(out)
    patch, dla = data["activation_patching"], data["direct_logit_attribution"]
    assert patch["kind"] == "residual" and patch["target"] == dla["target"]
    assert patch["corrupt_pieces"][-3:] == ["d", "o", "g"]
    restored = np.asarray(patch["restored"])  # (n_layer + 1, T)
    assert restored.shape == (3, 7) and abs(restored[-1, -1] - 1) < 1e-4
    assert np.abs(restored[:, :4]).max() < 1e-4  # "the " is the same in both prompts
    assert patch["checks"]["passed"] and abs(patch["checks"]["everything"] - 1) < 1e-4
    code, out, err = run(capsys, "attribute", str(saved), "--prompt", "the cat", "--patch",
                         "the dog", "--patch-kind", "heads", "--steps", "0")
    assert code == 0, err
    assert "activation patching (heads)" in out and "blocks.1 @ head.0" in out
    assert "checks: nothing patched" in out and ": passed" in out


def test_patching_prompts_of_different_lengths_is_one_line(saved, capsys):
    code, _, err = run(capsys, "attribute", str(saved), "--prompt", "the cat", "--patch",
                       "the cats", "--steps", "0")
    assert code == 2 and "same token length" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "--lang", "zh", "attribute", str(saved), "--prompt", "the cat",
                       "--patch", "a", "--steps", "0")
    assert code == 2 and "词元长度相同" in err


def test_compare_two_versions_of_one_model(saved, tmp_path, capsys):
    from engine.storage.checkpoint import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(saved)
    with torch.no_grad():
        ckpt.model.blocks[1].attn.qkv.weight.mul_(3.0)
    later = save_checkpoint(tmp_path / "later.safetensors", ckpt.model, ckpt.tokenizer)
    code, out, err = run(capsys, "compare", str(saved), str(later), "--prompt", TEXT[:20],
                         "--json")
    assert code == 0, err
    data = json.loads(out)
    distance = np.asarray(data["head_distance"])
    assert distance.shape == (2, 2) and np.all(distance[0] == 0) and np.all(distance[1] > 0)
    assert len(data["loss_a"]) == len(data["loss_b"]) == 19
    assert data["top_heads"][0]["layer"] == 1
    code, out, err = run(capsys, "compare", str(saved), str(saved), "--prompt", TEXT[:20])
    assert code == 0 and "change +0.0000" in out
    code, _, err = run(capsys, "compare", str(saved), str(saved), "--prompt", "t")
    assert code == 2 and "at least 2" in err and len(err.strip().splitlines()) == 1
