"""The command line with imported models: info, inspect, sample, train --init-from, export-hf."""
import json

import numpy as np
import pytest
import torch

from engine.storage.checkpoint import load_checkpoint
from engine.cli.commands import main
from engine.text.fullvocab import FullTokenizer
from engine.storage.imports import open_model
from tests.import_helpers import TEXTS, hf_gpt2, train_bpe

transformers = pytest.importorskip("transformers")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    bpe = train_bpe(root / "bpe")
    ref = hf_gpt2(400)
    folder = root / "gpt2"
    ref.save_pretrained(folder)
    for name in ("vocab.json", "merges.txt"):
        (folder / name).write_bytes((bpe / name).read_bytes())
    return folder


def _loss(model, ids, T=32):
    x = torch.from_numpy(np.stack([ids[i:i + T] for i in range(0, len(ids) - T - 1, T)]))
    y = torch.from_numpy(np.stack([ids[i + 1:i + T + 1] for i in range(0, len(ids) - T - 1, T)]))
    with torch.no_grad():
        return model(x, y)[1].item()


def test_info_inspect_sample_read_a_huggingface_folder(capsys, hf_folder):
    code, out, _ = run(capsys, "info", hf_folder, "--json")
    info = json.loads(out)
    assert code == 0 and info["origin"] == "huggingface" and info["tokenizer"]["vocab_size"] == 400
    code, out, _ = run(capsys, "inspect", hf_folder, "--prompt", "The quick fox", "--json")
    steps = json.loads(out)["steps"]
    assert code == 0 and steps[-1]["name"] == "probs" and len(steps[-1]["values"][0]) == 400
    code, out, _ = run(capsys, "sample", hf_folder, "--prompt", "The", "--tokens", "5",
                       "--seed", "1", "--json")
    assert code == 0 and len(json.loads(out)["tokens"]) == 5


def test_a_foreign_file_is_one_line_on_the_command_line(capsys, tmp_path):
    bad = tmp_path / "ckpt.pt"
    bad.write_bytes(b"\x80\x02K\x01.")  # a pickle of the number 1
    code, _, err = run(capsys, "info", bad)
    assert code == 2 and err.count("\n") == 1 and "ckpt.pt" in err


def test_fine_tune_an_imported_model_save_and_reopen(capsys, tmp_path, hf_folder):
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(TEXTS * 4), encoding="utf-8")
    before = open_model(hf_folder)
    ids = before.tokenizer.encode(text.read_text(encoding="utf-8"))
    out = tmp_path / "ft"
    code, stdout, err = run(capsys, "train", text, "--init-from", hf_folder, "--out", out,
                            "--steps", "40", "--batch", "8", "--lr", "3e-3", "--warmup", "0",
                            "--eval-interval", "20", "--eval-batches", "2", "--device", "cpu",
                            "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["vocab_size"] == 400 and summary["steps"] == 40
    after = load_checkpoint(out / "model.safetensors")
    assert isinstance(after.tokenizer, FullTokenizer)
    assert after.model_config == before.model_config and after.origin == "transformer-explorer"
    assert after.tokenizer.encode("注意力 fox").tolist() == before.tokenizer.encode(
        "注意力 fox").tolist()
    assert _loss(after.model, ids) < _loss(before.model, ids) - 0.1
    code, stdout, _ = run(capsys, "info", out, "--json")
    assert code == 0 and json.loads(stdout)["tokenizer"] == {
        "name": before.tokenizer.name, "vocab_size": 400, "full": True}
    # Resuming the fine-tuned run continues it; an imported model resumes like --init-from.
    code, _, err = run(capsys, "train", text, "--resume", out / "model.safetensors", "--out",
                       out, "--steps", "45", "--batch", "8", "--eval-interval", "5",
                       "--eval-batches", "1", "--device", "cpu", "--json")
    assert code == 0, err
    final = load_checkpoint(out / "model.safetensors")
    assert final.step == 45
    code, _, err = run(capsys, "train", text, "--resume", hf_folder, "--out", tmp_path / "r",
                       "--steps", "3", "--batch", "2", "--eval-interval", "3",
                       "--eval-batches", "1", "--device", "cpu", "--json")
    assert code == 0, err
    # And it goes back out to transformers.
    code, stdout, err = run(capsys, "export-hf", out / "model.safetensors", tmp_path / "hf_out")
    assert code == 0, err
    again = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "hf_out").eval()
    x = torch.from_numpy(ids[:32])[None]
    with torch.no_grad():
        assert (again(x).logits - final.model(x)[0]).abs().max().item() <= 1e-4
    code, _, err = run(capsys, "export-hf", out / "model.safetensors", tmp_path / "hf_out")
    assert code == 2 and "not empty" in err


def test_both_resume_and_init_from_is_refused(capsys, tmp_path, hf_folder):
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(TEXTS * 4), encoding="utf-8")
    code, _, err = run(capsys, "train", text, "--init-from", hf_folder, "--resume", hf_folder,
                       "--out", tmp_path / "x", "--steps", "2")
    assert code == 2 and "not both" in err
