"""File → Open model lists the models already on this computer (issue 19 B): a Hugging Face
cache, an Ollama store and an LM Studio folder made here, found off the GUI thread with their
family, size and quantization; double-click or Open loads one through the window's own open
path; the last choice and the dialog's size are remembered; an empty list says where it
looked; Browse opens any file."""
from __future__ import annotations

import hashlib
import json
import threading

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gui import dialogs
from gui.window.open_model_dialog import OpenModelDialog
from tests import tokenizer_helpers as th

transformers = pytest.importorskip("transformers")
gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as Q  # noqa: E402

from tests import gguf_helpers as gh  # noqa: E402
from tests.test_local_models import write_gguf as header_only_gguf  # noqa: E402


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """A Hugging Face cache with a real Llama-style folder and a Mixtral (not supported), an
    Ollama store whose manifest names a real Q8_0 GGUF blob, an LM Studio folder with a Q4_0
    header."""
    root = tmp_path_factory.mktemp("stores")
    torch.manual_seed(0)
    cfg = transformers.AutoConfig.for_model(
        "llama", vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)
    model = transformers.AutoModelForCausalLM.from_config(cfg).float().eval()
    snap = root / "home" / "hub" / "models--tiny--llama-2kv" / "snapshots" / "abc"
    model.save_pretrained(snap)
    tokenizer = th.byte_level(snap / "tokenizer.json", vocab_size=400)
    moe = root / "home" / "hub" / "models--mistralai--Mixtral" / "snapshots" / "def"
    moe.mkdir(parents=True)
    (moe / "config.json").write_text(json.dumps({"model_type": "mixtral"}))
    ollama = root / "ollama"
    (ollama / "blobs").mkdir(parents=True)
    blob = gh.write_gguf(ollama / "blobs" / "tmp", model, tokenizer, Q.Q8_0)
    digest = hashlib.sha256(blob.read_bytes()).hexdigest()
    blob.rename(ollama / "blobs" / f"sha256-{digest}")
    manifest = ollama / "manifests" / "registry.ollama.ai" / "library" / "tiny" / "q8"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}"}]}))
    lms = root / "home" / ".lmstudio" / "models" / "bartowski" / "gemma"
    lms.mkdir(parents=True)
    header_only_gguf(lms / "gemma-Q4_0.gguf", "gemma2", Q.Q4_0)
    return root


@pytest.fixture
def on_this_computer(stores, monkeypatch):
    """The stores where the programs themselves would look, named by the environment."""
    monkeypatch.setenv("HF_HUB_CACHE", str(stores / "home" / "hub"))
    monkeypatch.setenv("HF_HOME", str(stores / "no-hf-home"))
    monkeypatch.setenv("OLLAMA_MODELS", str(stores / "ollama"))
    monkeypatch.setenv("HOME", str(stores / "home"))
    return stores


def _rows(dialog) -> dict[str, list[str]]:
    t = dialog.table
    return {t.topLevelItem(i).text(0): [t.topLevelItem(i).text(c) for c in range(1, 5)]
            for i in range(t.topLevelItemCount())}


def _item(dialog, name):
    t = dialog.table
    return next(t.topLevelItem(i) for i in range(t.topLevelItemCount())
                if t.topLevelItem(i).text(0) == name)


def _dialog(qtbot, **kw) -> OpenModelDialog:
    d = OpenModelDialog(None, **kw)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: not d.searching, timeout=10_000)
    return d


def test_the_models_on_this_computer_are_listed_off_the_gui_thread(qtbot, on_this_computer,
                                                                   monkeypatch):
    from engine.storage.imports import local_models

    threads = []
    find = local_models.find_local_models
    monkeypatch.setattr(local_models, "find_local_models",
                        lambda **kw: threads.append(threading.current_thread()) or find(**kw))
    d = _dialog(qtbot)
    assert threads and threads[0] is not threading.main_thread()
    rows = _rows(d)
    assert rows["tiny/llama-2kv"][:2] == ["Hugging Face cache", "llama"]
    assert rows["tiny/llama-2kv"][3] == "float32"
    assert rows["ollama: tiny:q8"][:2] == ["Ollama", "llama"]
    assert rows["ollama: tiny:q8"][3].startswith("Q8_0")
    gemma = rows["lmstudio: bartowski/gemma/gemma-Q4_0.gguf"]
    assert gemma[0] == "LM Studio" and gemma[1] == "gemma2" and gemma[3].startswith("Q4_0")
    n = sum(p.numel() for p in transformers.AutoModelForCausalLM.from_pretrained(
        on_this_computer / "home" / "hub" / "models--tiny--llama-2kv" / "snapshots" / "abc"
    ).parameters())
    assert rows["tiny/llama-2kv"][2] == f"{n / 1e3:.0f}K"
    mixtral = _item(d, "mistralai/Mixtral")  # found, shown greyed with the reason
    assert not mixtral.flags() & Qt.ItemFlag.ItemIsEnabled
    assert "mixture-of-experts" in mixtral.toolTip(0)
    assert "Models found: 4; 3 of them can be opened" in d.state.text()


def test_an_empty_list_says_where_it_looked(qtbot, tmp_path):
    d = _dialog(qtbot, stores={"hf_caches": [tmp_path / "hub"], "ollama": tmp_path / "oll",
                               "lmstudio": [tmp_path / "lms"]})
    assert d.table.topLevelItemCount() == 0 and not d.open_button.isEnabled()
    text = d.state.text()
    assert "No models found" in text
    for folder in ("hub", "oll", "lms"):
        assert str(tmp_path / folder) in text


def test_the_headers_are_chinese_in_chinese(qtbot, tmp_path, zh_catalogue):
    from gui import i18n

    i18n.install("zh")
    d = _dialog(qtbot, stores={"hf_caches": [], "ollama": tmp_path, "lmstudio": []})
    headers = [d.table.headerItem().text(c) for c in range(5)]
    assert headers[0] != "Model" and headers[4] != "Quantization"
    assert "No models found" not in d.state.text() and str(tmp_path) in d.state.text()


@pytest.fixture
def window(qtbot, qapp):
    from gui.window import MainWindow

    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    yield w
    w.close()
    qtbot.wait(10)
    w.deleteLater()
    qtbot.wait(1)


def _ask(window, qtbot) -> OpenModelDialog:
    window.actions_.open_model.trigger()
    d = next(c for c in window.findChildren(OpenModelDialog) if c.isVisible())
    qtbot.waitUntil(lambda: not d.searching, timeout=10_000)
    return d


def test_double_click_opens_the_model_and_the_choice_and_size_are_remembered(
        qtbot, window, on_this_computer):
    d = _ask(window, qtbot)
    d.resize(700, 380)
    qtbot.waitExposed(d)
    item = _item(d, "tiny/llama-2kv")
    at = d.table.visualItemRect(item).center()
    with qtbot.waitSignal(window.session.trace_changed, timeout=60_000):
        QTest.mouseClick(d.table.viewport(), Qt.MouseButton.LeftButton, pos=at)
        QTest.mouseDClick(d.table.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert not any(c.isVisible() for c in window.findChildren(OpenModelDialog))
    cfg = window.session.model.config
    assert (cfg.positional, cfg.kv_heads, cfg.n_layer) == ("rotary", 2, 2)
    assert window.session.tokenizer.encode("hello world").size > 0
    assert "Quantized" not in window.statusBar().currentMessage()  # float32 safetensors

    d = _ask(window, qtbot)  # again: the last choice is selected, the size kept
    assert d.table.currentItem().text(0) == "tiny/llama-2kv"
    assert window.session.model_origin.endswith("abc")
    assert (d.width(), d.height()) == (700, 380)
    d.table.setCurrentItem(_item(d, "ollama: tiny:q8"))  # a GGUF blob with no .gguf suffix
    with qtbot.waitSignal(window.session.trace_changed, timeout=60_000):
        d.open_button.click()
    assert "sha256-" in window.session.model_origin  # Ollama's blob, read as GGUF
    assert window.session.model.config.kv_heads == 2
    # The window says the numbers come from quantized blocks, and which types.
    said = window.statusBar().currentMessage()
    assert "Quantized: stored as Q8_0 (" in said and "dequantized to float32" in said


def test_browse_opens_any_file(qtbot, window, on_this_computer, monkeypatch):
    folder = on_this_computer / "home" / "hub" / "models--tiny--llama-2kv" / "snapshots" / "abc"
    monkeypatch.setattr(dialogs, "ask_open_path", lambda *a: str(folder / "config.json"))
    d = _ask(window, qtbot)
    with qtbot.waitSignal(window.session.trace_changed, timeout=60_000):
        d.browse.click()
    assert window.session.model.config.kv_heads == 2
    assert not any(c.isVisible() for c in window.findChildren(OpenModelDialog))
