"""Issue 11, cases 1 and 3: --out never destroys a file, and a failed save loses nothing."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import safetensors

import engine.text.corpus
from engine.storage import checkpoint as checkpoint_mod
from engine.storage import outputs
from engine.storage.checkpoint import load_checkpoint, save_checkpoint
from engine.storage.outputs import OutputError, check_output
from reliability_helpers import SMALL, book, digest, run, train

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_tokenizing(monkeypatch):
    """Fail the test if the run got as far as reading the text (refusals come first)."""
    def refuse(*args, **kwargs):
        raise AssertionError("tokenized before the output was validated")

    monkeypatch.setattr(engine.text.corpus, "load_corpus", refuse)


# -- case 1: what --out may replace ---------------------------------------------------------


def test_out_equal_to_the_input_is_refused_and_the_text_kept(tmp_path, capsys, no_tokenizing):
    text = book(tmp_path)
    before = digest(text)
    code, _, err = train(capsys, text, text, "--steps", "20")
    assert code == 2
    assert "is the input file" in err and len(err.strip().splitlines()) == 1
    assert digest(text) == before


def test_an_existing_model_is_kept_unless_resume_or_overwrite(tmp_path, capsys):
    text, out = book(tmp_path), tmp_path / "run"
    assert train(capsys, text, out, "--steps", "10")[0] == 0
    model = out / "model.safetensors"
    first = digest(model)

    code, _, err = train(capsys, text, out, "--steps", "10")
    assert code == 2 and "already holds a model; it is kept" in err and "--overwrite" in err
    assert digest(model) == first

    code, _, err = train(capsys, text, out, "--steps", "10", "--seed", "2", "--overwrite")
    assert code == 0 and f"replacing the model at {model} (--overwrite)" in err
    assert digest(model) != first

    code, _, err = train(capsys, text, out, "--steps", "15", "--resume", model)
    assert code == 0 and "continuing" in err and "in place" in err
    assert load_checkpoint(model).step == 15


def test_resume_into_another_existing_model_needs_overwrite(tmp_path, capsys):
    text = book(tmp_path)
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    assert train(capsys, text, a, "--steps", "10")[0] == 0
    assert train(capsys, text, b, "--steps", "10")[0] == 0
    kept = digest(b)
    code, _, err = train(capsys, text, b, "--steps", "20", "--resume", a)
    assert code == 2 and "already holds a model" in err
    assert digest(b) == kept


def test_an_unrelated_existing_file_is_never_replaced(tmp_path, capsys, no_tokenizing):
    text, notes = book(tmp_path), tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    for extra in ([], ["--overwrite"]):
        code, _, err = train(capsys, text, notes, "--steps", "20", *extra)
        assert code == 2 and "is not a Transformer Explorer model" in err
    assert notes.read_text(encoding="utf-8") == "my notes\n"


def test_a_path_under_a_file_is_refused_before_training(tmp_path, capsys, no_tokenizing):
    text, notes = book(tmp_path), tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    code, _, err = train(capsys, text, notes / "sub", "--steps", "20")
    assert code == 2 and "is a file, so" in err and "cannot be a folder" in err


def test_an_unwritable_folder_is_refused_before_training(tmp_path, capsys, no_tokenizing):
    # Root ignores permission bits, so the test uses a folder nobody may create files in.
    probe = Path("/sys/transformer-explorer-test")
    try:
        probe.mkdir()
    except OSError:
        pass
    else:
        probe.rmdir()
        pytest.skip("/sys is writable here")
    code, _, err = train(capsys, book(tmp_path), probe / "run", "--steps", "20")
    assert code == 2 and "cannot write in '/sys'" in err


def test_too_little_disk_space_is_refused_before_training(tmp_path, capsys, monkeypatch):
    class Usage:
        total, used, free = 10**9, 10**9 - 1000, 1000

    monkeypatch.setattr(outputs.shutil, "disk_usage", lambda path: Usage)
    code, _, err = train(capsys, book(tmp_path), tmp_path / "run", "--steps", "20")
    assert code == 2 and "not enough disk space" in err and "MB are free" in err
    assert not (tmp_path / "run").exists()


def test_check_output_for_the_window_save(tmp_path):
    """The GUI's Save calls the same rules (overwrite=True once the user confirmed)."""
    text = book(tmp_path)
    plan = check_output(tmp_path / "new")
    assert plan.path == tmp_path / "new" / "model.safetensors" and plan.replaces is None
    with pytest.raises(OutputError, match="not a Transformer Explorer model"):
        check_output(text, overwrite=True)
    with pytest.raises(OutputError, match="input file"):
        check_output(text, inputs=[text])


# -- case 3: a failed save ------------------------------------------------------------------


_FSIZE_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, as a full disk gives ENOSPC
limit = int(sys.argv[1])  # bytes any file of this process may reach
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from engine.cli.commands import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_full_disk_is_one_line_rc_2_and_the_previous_checkpoint_intact(tmp_path, capsys):
    text, out = book(tmp_path), tmp_path / "run"
    assert train(capsys, text, out, "--steps", "10")[0] == 0
    model = out / "model.safetensors"
    before = digest(model)
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-c", _FSIZE_LIMITED, str(model.stat().st_size // 2), "train",
         str(text), "--out", str(out), *SMALL, "--steps", "20", "--eval-interval", "5",
         "--resume", str(model)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ": error:" in ln]
    assert len(errors) == 1 and "File too large" in errors[0] and "unchanged" in errors[0]
    assert digest(model) == before
    names = [p.name for p in out.rglob("*")]
    assert "model.safetensors" in names and not [n for n in names if "tmp" in n]  # none left


def test_a_failed_save_puts_the_weights_where_the_message_says(tmp_path, capsys, monkeypatch):
    text, out = book(tmp_path), tmp_path / "full"
    real = checkpoint_mod.safetensors.torch.save_file

    def disk_full_in_out(tensors, filename, metadata=None):
        if Path(filename).parent == out:
            raise safetensors.SafetensorError(
                "Error while serializing: I/O error: No space left on device (os error 28)")
        return real(tensors, filename, metadata=metadata)

    monkeypatch.setattr(checkpoint_mod.safetensors.torch, "save_file", disk_full_in_out)
    rescue = tmp_path / "rescue" / "full-rescued.safetensors"
    monkeypatch.setattr(outputs, "rescue_paths", lambda path: [rescue])
    code, _, err = train(capsys, text, out, "--steps", "12", "--eval-interval", "100")
    assert code == 2
    errors = [ln for ln in err.splitlines() if ": error:" in ln]
    assert len(errors) == 1 and "No space left on device" in errors[0]
    assert f"the trained weights were saved to {rescue} instead" in errors[0]
    assert load_checkpoint(rescue).step == 12


def test_the_next_save_removes_temporary_files_of_a_killed_one(tmp_path):
    from engine.config import ModelConfig
    from engine.text.corpus import corpus_from_text
    from engine.model.decoder import new_model

    corpus = corpus_from_text("abcdefgh" * 100, tokenizer="char", context_length=8)
    model = new_model(ModelConfig(vocab_size=corpus.tokenizer.vocab_size, d_model=16, n_head=2,
                                  n_layer=1, context_length=8, d_ff=32), seed=0)
    stale = tmp_path / ".model.safetensors.0badc0de.tmp"
    stale.write_bytes(b"half a checkpoint")
    other = tmp_path / ".notes.txt.0badc0de.tmp"
    other.write_bytes(b"someone else's")
    save_checkpoint(tmp_path, model, corpus.tokenizer)
    assert not stale.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".notes.txt.0badc0de.tmp", "model.safetensors"]


# -- smaller ones ---------------------------------------------------------------------------


def test_info_verifies_the_checksum(tmp_path, capsys):
    text, out = book(tmp_path), tmp_path / "m.safetensors"
    assert train(capsys, text, out, "--steps", "5")[0] == 0
    code, stdout, _ = run(capsys, "info", out)
    assert code == 0 and "checksum: verified" in stdout
    data = bytearray(out.read_bytes())
    data[-10] ^= 0xFF  # inside the last tensor
    out.write_bytes(bytes(data))
    code, _, err = run(capsys, "info", out)
    assert code == 2 and "does not match its checksum" in err


def test_resume_with_fewer_steps_than_done(tmp_path, capsys):
    text, out = book(tmp_path), tmp_path / "m.safetensors"
    assert train(capsys, text, out, "--steps", "20")[0] == 0
    before = digest(out)
    code, _, err = train(capsys, text, out, "--steps", "20", "--resume", out)
    assert code == 2 and "already trained 20 steps" in err and "--steps" in err
    assert digest(out) == before


def test_one_token_is_singular(tmp_path):
    from engine.text.corpus import CorpusError, load_corpus

    p = tmp_path / "one.txt"
    p.write_text("a", encoding="utf-8")
    with pytest.raises(CorpusError, match="has only 1 token;"):
        load_corpus(p)


def test_a_hugging_face_models_weights_are_never_replaced(tmp_path):
    """`train --init-from gpt2/ --out gpt2/ --overwrite` would have put our checkpoint over the
    model it started from: a safetensors file with config.json beside it is someone's model."""
    from safetensors.torch import save_file

    from engine.storage.outputs import OutputError, check_output

    folder = tmp_path / "gpt2"
    folder.mkdir()
    save_file({"wte.weight": torch.zeros(2, 2)}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text('{"model_type": "gpt2"}')
    before = (folder / "model.safetensors").read_bytes()
    for target in (folder, folder / "model.safetensors"):
        with pytest.raises(OutputError, match="Hugging Face model's weights"):
            check_output(target, inputs=[tmp_path / "text.txt"], overwrite=True)
    assert (folder / "model.safetensors").read_bytes() == before
