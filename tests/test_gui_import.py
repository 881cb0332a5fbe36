"""Bring your own model, window side (#9): a Hugging Face GPT-2 folder or a nanoGPT ckpt.pt opens
by File → Open model / drag and drop / PATH, a run without a vocabulary asks for one, and an
imported model fine-tunes on the open text from the Training panel, then saves and reopens."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gui import dialogs
from tests.import_helpers import hf_gpt2, hf_logits, train_bpe
from tests.test_import_nanogpt import _nanogpt_dict, _reference

pytest.importorskip("transformers")  # the dev extra: the independent reference


@pytest.fixture(scope="module")
def bpe_dir(tmp_path_factory) -> Path:
    return train_bpe(tmp_path_factory.mktemp("bpe"))


@pytest.fixture
def hf_folder(tmp_path, bpe_dir):
    """A random GPT-2 saved by transformers, with its own vocab.json + merges.txt."""
    vocab = len(__import__("json").loads((bpe_dir / "vocab.json").read_text()))
    ref = hf_gpt2(vocab, activation_function="gelu_new", layer_norm_epsilon=1e-6)
    folder = tmp_path / "my-gpt2"
    ref.save_pretrained(folder)
    for name in ("vocab.json", "merges.txt"):
        (folder / name).write_bytes((bpe_dir / name).read_bytes())
    return folder, ref


def _open(window, qtbot, path: Path) -> None:
    with qtbot.waitSignal(window.session.trace_changed, timeout=60_000):
        window.open_path(str(path))


@pytest.fixture
def text(tmp_path) -> Path:
    path = tmp_path / "mine.txt"
    path.write_text("The quick brown fox jumps over the lazy dog. " * 80, encoding="utf-8")
    return path


@pytest.fixture
def window(qtbot, text):
    """A window with a text open (the one to fine-tune on, and the context's first lines)."""
    from gui.app import create_app
    from gui.window import MainWindow

    create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    w.training_panel.form.set_value("tokenizer", "char")
    _open(w, qtbot, text)
    yield w
    w.close()
    qtbot.wait(10)
    w.deleteLater()
    qtbot.wait(1)


def _shown_logits(window, ref, text: str) -> float:
    """Largest difference between the opened model's logits and the reference's."""
    s = window.session
    ids = torch.from_numpy(s.tokenizer.encode(text))[None]  # (1, T)
    with torch.no_grad():
        ours = s.model(ids)[0]
    return (ours - hf_logits(ref, ids)).abs().max().item()


def test_a_hugging_face_folder_opens_traces_and_can_fine_tune(window, qtbot, hf_folder):
    folder, ref = hf_folder
    _open(window, qtbot, folder / "config.json")  # its config, as given on the command line
    assert window.session.model.config.ln_eps == 1e-6
    _open(window, qtbot, folder)  # the folder, as dropped onto the window
    s = window.session
    assert s.model.config.activation == "gelu_tanh" and s.model.config.ln_eps == 1e-6
    assert _shown_logits(window, ref, "The quick brown fox") <= 1e-4
    assert s.trace is not None and s.trace.ids.shape[1] > 0  # the panels have a trace of it
    # No optimizer state of ours, yet the Training panel offers to continue: fine-tuning.
    start = window.run.resumable
    assert start is not None and start.trainer_state is None
    assert window.training_panel.form.continue_box.isEnabled()


def test_a_nanogpt_run_without_a_vocabulary_asks_for_one(window, qtbot, tmp_path, bpe_dir,
                                                         monkeypatch, no_leftovers):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no GPT-2 files in a standard place
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken"))
    ref = _reference(50304)
    ckpt = tmp_path / "out" / "ckpt.pt"
    ckpt.parent.mkdir()
    torch.save(_nanogpt_dict(ref), ckpt)
    asked: list[tuple] = []

    def choose(parent, title, directory, filters):
        asked.append((title, directory))
        return str(bpe_dir / "vocab.json")

    monkeypatch.setattr(dialogs, "ask_open_path", choose)
    _open(window, qtbot, ckpt)
    assert asked and asked[0][1] == str(ckpt.parent)  # the dialog starts beside the model
    assert any("vocabulary" in title for title, *_ in no_leftovers)  # the reason came first
    s = window.session
    assert s.model.config.vocab_size == 50304  # nanoGPT's padded table, kept whole
    assert _shown_logits(window, ref, "The quick brown fox") <= 1e-4


def test_fine_tuning_an_imported_model_in_the_window_saves_and_reopens(
        window, qtbot, hf_folder, tmp_path, monkeypatch):
    folder, _ = hf_folder
    _open(window, qtbot, folder)  # the text opened first stays open: it is trained on
    s, panel = window.session, window.training_panel
    before = {k: v.clone() for k, v in s.model.state_dict().items()}
    for key, value in dict(steps=6, batch_size=2, eval_interval=3, warmup_steps=1).items():
        panel.form.set_value(key, value)
    panel.form.continue_box.setChecked(True)
    with qtbot.waitSignal(window.run.started, timeout=90_000):
        assert panel.start()
    qtbot.waitUntil(lambda: window.run.state == "idle", timeout=120_000)
    result = window.run.last_result
    assert result.outcome == "done" and result.step == 6, result.error
    assert s.tokenizer.vocab_size == len(before["embed.wte.weight"])  # its own vocabulary
    assert any(not torch.equal(v, before[k]) for k, v in s.model.state_dict().items())
    target = tmp_path / "fine-tuned.safetensors"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: str(target))
    assert window.save_model()
    weights = {k: v.clone() for k, v in s.model.state_dict().items()}
    ids = s.tokenizer.encode("The quick brown fox 我们").tolist()
    with qtbot.waitSignal(s.model_changed, timeout=60_000):
        window.open_path(str(target))
    assert all(np.array_equal(v.numpy(), weights[k].numpy())
               for k, v in s.model.state_dict().items())
    assert s.tokenizer.encode("The quick brown fox 我们").tolist() == ids  # the BPE was saved
    assert window.run.resumable.trainer_state["step"] == 6  # now ours: continues exactly


def test_file_export_writes_a_folder_transformers_loads(window, qtbot, hf_folder, tmp_path,
                                                        monkeypatch, no_leftovers):
    from transformers import GPT2LMHeadModel

    # The articles' model (post-norm, sinusoidal, ReLU) is not GPT-2: said before any dialog.
    window.actions_.export_hf.trigger()
    assert no_leftovers and no_leftovers[-1][0] == "This model cannot be written as a Hugging Face folder"
    assert "norm" in no_leftovers[-1][1]
    folder, ref = hf_folder
    _open(window, qtbot, folder)
    out = tmp_path / "exported"
    out.mkdir()
    monkeypatch.setattr(dialogs, "ask_directory", lambda *a: str(out))
    window.actions_.export_hf.trigger()
    qtbot.waitUntil(lambda: (out / "config.json").is_file() and not window.documents.jobs.busy,
                    timeout=60_000)
    back = GPT2LMHeadModel.from_pretrained(out).eval()
    assert {"vocab.json", "merges.txt", "model.safetensors"} <= {p.name for p in out.iterdir()}
    ids = torch.from_numpy(window.session.tokenizer.encode("The quick brown fox"))[None]
    assert (hf_logits(back, ids) - hf_logits(ref, ids)).abs().max().item() <= 1e-4
