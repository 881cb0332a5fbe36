"""Hostile and foreign files: one line saying what the file is, and no code ever runs."""
import json
import os
import pickle
import zipfile

import pytest
import torch

from engine.storage.checkpoint import CheckpointError
from engine.storage.imports import open_model
from engine.storage.imports.pickles import PickleRefused, read_plain_pickle


class Payload:
    """Unpickling this would create the marker file (through os.system)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def _refused(path, marker, **kw):
    with pytest.raises(CheckpointError) as err:
        open_model(path, **kw)
    message = str(err.value)
    assert "\n" not in message
    assert not marker.exists(), "the payload ran"
    return message


def test_the_payload_works_when_unpickled_plainly(tmp_path):
    """The control: the payload is real, so the tests below would see it run."""
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


@pytest.mark.parametrize("name", ["ckpt.pt", "model.pt", "pytorch_model.bin"])
def test_a_pickle_with_a_payload_never_runs(tmp_path, name):
    marker = tmp_path / "marker"
    path = tmp_path / name
    path.write_bytes(pickle.dumps({"model": Payload(marker)}, protocol=2))
    if name == "pytorch_model.bin":
        (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_embd": 32,
                                                          "n_layer": 1, "n_head": 2}))
    message = _refused(path, marker)
    assert "not loaded" in message and "system" in message and "run code" in message


def test_a_torch_zip_with_a_malicious_class_never_runs(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "ckpt.pt"
    torch.save({"model_args": {}, "model": {"x": torch.zeros(2)}, "evil": Payload(marker)},
               path)
    assert zipfile.is_zipfile(path)
    message = _refused(path, marker)
    assert "not loaded" in message and "system" in message


def test_a_meta_pkl_with_a_payload_never_runs(tmp_path):
    marker = tmp_path / "marker"
    meta = tmp_path / "meta.pkl"
    meta.write_bytes(pickle.dumps({"itos": Payload(marker)}))
    with pytest.raises(PickleRefused, match="asks for posix.system|asks for nt.system"):
        read_plain_pickle(meta)
    assert not marker.exists()
    # Opened directly it is named for what it is, without being read.
    assert "vocabulary, not a model" in _refused(meta, marker)
    # Beside a nanoGPT checkpoint (where its vocabulary is looked for) it is refused.
    from tests.test_import_nanogpt import CHARS, _nanogpt_dict, _reference

    torch.save(_nanogpt_dict(_reference(len(CHARS))), tmp_path / "ckpt.pt")
    message = _refused(tmp_path / "ckpt.pt", marker)
    assert "meta.pkl" in message and "run code" in message


def test_plain_data_pickles_still_read(tmp_path):
    path = tmp_path / "meta.pkl"
    data = {"vocab_size": 3, "itos": {0: "a", 1: "b", 2: "c"}, "stoi": {"a": 0}, "x": [1.5, (2,)]}
    path.write_bytes(pickle.dumps(data))
    assert read_plain_pickle(path) == data


def test_foreign_files_get_one_line_each(tmp_path):
    marker = tmp_path / "marker"
    docx = tmp_path / "notes.pt"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", "<xml/>")
    assert "zip archive but not a PyTorch file" in _refused(docx, marker)
    random = tmp_path / "weights.bin"
    random.write_bytes(os.urandom(300))
    assert "not a model file" in _refused(random, marker)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    assert "empty" in _refused(empty, marker)
    plain = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, plain)
    assert "not a nanoGPT checkpoint" in _refused(plain, marker)
    folder = tmp_path / "nothing"
    folder.mkdir()
    assert "no model in it" in _refused(folder, marker)
    assert "does not exist" in _refused(tmp_path / "missing.pt", marker)
