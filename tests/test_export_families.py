"""A model imported from any family's Hugging Face folder goes back out as that family: the
folder transformers loads as the same class with the same next-token distribution (within
1e-4), tensors equal to those transformers itself saved, our importer re-opening it with the
same configuration and weights, and its own tokenizer files beside it (issue 19, E and F)."""
import json
from dataclasses import replace

import numpy as np
import pytest
import safetensors.torch
import torch

from engine.model.decoder import GPT
from engine.storage.checkpoint import load_checkpoint, save_checkpoint
from engine.storage.imports import open_model
from engine.storage.imports.hf_export import ExportError, check_exportable, export_hf
from tests.test_families_bar import (FAMILIES, PROMPT, distributions, model_type, saved,
                                     tokenizer_file)  # noqa: F401 (a fixture)

transformers = pytest.importorskip("transformers")


def _theirs(folder):
    model = transformers.AutoModelForCausalLM.from_pretrained(folder,
                                                              attn_implementation="eager")
    return model.float().eval()


@pytest.mark.parametrize("kind", list(FAMILIES))
def test_an_imported_model_goes_back_out_as_its_own_family(tmp_path, tokenizer_file, kind):
    ref, folder = saved(tmp_path, kind, tokenizer_file)
    settings = json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 99,
                           "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"})
    (folder / "tokenizer_config.json").write_text(settings)
    ckpt = open_model(folder)
    assert ckpt.model_config.family == model_type(kind)
    done = export_hf(ckpt.model, ckpt.tokenizer, tmp_path / "out")
    assert done.files == ["config.json", "model.safetensors", "tokenizer.json",
                          "tokenizer_config.json"] and not done.notes
    for name in ("tokenizer.json", "tokenizer_config.json"):  # the model's own, as they were
        assert (tmp_path / "out" / name).read_bytes() == (folder / name).read_bytes()
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["model_type"] == model_type(kind)
    # The family's own names and layouts (GPT-NeoX's fused heads, Gemma's norm weights w of
    # (1 + w)): every tensor equals the one transformers saved.
    written = safetensors.torch.load_file(tmp_path / "out" / "model.safetensors")
    want = {k: v for k, v in ref.state_dict().items()
            if k != "lm_head.weight" or not ref.config.tie_word_embeddings}
    assert set(written) == set(want)
    assert all(torch.equal(written[k], want[k]) for k in want)
    theirs = _theirs(tmp_path / "out")
    assert type(theirs) is type(ref)
    ids = torch.as_tensor(ckpt.tokenizer.encode(PROMPT))[None]
    with torch.no_grad():
        loaded, original = (distributions(m(ids).logits) for m in (theirs, ref))
        ours = distributions(ckpt.model(ids)[0])
    assert np.abs(loaded - original).max() < 1e-4 and np.abs(loaded - ours).max() < 1e-4
    again = open_model(tmp_path / "out")  # the round trip: the same model, weight for weight
    assert again.model_config == ckpt.model_config
    before, after = ckpt.model.state_dict(), again.model.state_dict()
    assert set(before) == set(after) and all(torch.equal(before[k], after[k]) for k in before)
    assert again.tokenizer.encode(PROMPT).tolist() == ids[0].tolist()
    tok = transformers.AutoTokenizer.from_pretrained(tmp_path / "out")
    assert tok(PROMPT, add_special_tokens=False)["input_ids"] == ids[0].tolist()


def test_the_family_survives_saving_as_our_model_and_fine_tuning(tmp_path, tokenizer_file):
    ref, folder = saved(tmp_path, "gemma2", tokenizer_file)
    ckpt = open_model(folder)
    path = save_checkpoint(tmp_path / "ours.safetensors", ckpt.model, ckpt.tokenizer)
    mine = load_checkpoint(path)
    assert mine.model_config.family == "gemma2" and check_exportable(mine.model) == "gemma2"
    with torch.no_grad():  # a changed weight goes out as it is now
        mine.model.blocks[0].norm1.weight.add_(0.5)
    export_hf(mine.model, mine.tokenizer, tmp_path / "out")
    ids = torch.as_tensor(mine.tokenizer.encode(PROMPT))[None]
    with torch.no_grad():
        assert np.abs(distributions(_theirs(tmp_path / "out")(ids).logits)
                      - distributions(mine.model(ids)[0])).max() < 1e-4
        assert (ref(ids).logits - mine.model(ids)[0]).abs().max() > 1e-2  # not the original


def test_a_users_folder_is_kept_unless_overwrite_is_asked(tmp_path, tokenizer_file):
    _, folder = saved(tmp_path, "qwen2", tokenizer_file)
    ckpt = open_model(folder)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty") as e:
        export_hf(ckpt.model, ckpt.tokenizer, dest)
    assert "\n" not in str(e.value) and sorted(p.name for p in dest.iterdir()) == ["notes.txt"]
    export_hf(ckpt.model, ckpt.tokenizer, dest, overwrite=True)
    assert (dest / "notes.txt").read_text() == "mine"
    assert open_model(dest).model_config == ckpt.model_config
    with pytest.raises(ExportError, match="not empty"):  # the export itself is a user's folder
        export_hf(ckpt.model, ckpt.tokenizer, folder)


@pytest.mark.parametrize("kind,change,words", [
    ("qwen2", dict(final_softcap=3.0), "final_softcap=3.0"),
    ("mistral", dict(qkv_bias=True, bias=True), "mistral folder: a mistral model has no biases"),
    ("gemma", dict(norm="sandwich"), "norm='sandwich'"),
    ("phi", dict(rope_scaling={"kind": "divisors", "divisors": [1.0] * 16}),
     "rope_freqs"),
    ("llama", dict(family="mixtral"), "mixtral models cannot be written"),
])
def test_what_a_family_cannot_hold_is_one_line_and_nothing_is_written(
        tmp_path, tokenizer_file, kind, change, words):
    _, folder = saved(tmp_path, kind, tokenizer_file)
    cfg = replace(open_model(folder).model_config, **change)
    with pytest.raises(ExportError, match=words) as e:
        export_hf(GPT(cfg), None, tmp_path / "out")
    assert "\n" not in str(e.value) and not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["qwen2", "gemma3_text"])
def test_a_model_read_from_gguf_goes_out_as_its_family(tmp_path, tokenizer_file, kind):
    from gguf import GGMLQuantizationType as Q

    from tests import gguf_helpers as gh
    from tests.test_families_bar import GGUF_GEMMA3, reference

    model = reference(kind, GGUF_GEMMA3 if kind == "gemma3_text" else None)
    ckpt = open_model(gh.write_gguf(tmp_path / "m.gguf", model, tokenizer_file, Q.Q8_0,
                                    kind=kind))
    export_hf(ckpt.model, ckpt.tokenizer, tmp_path / "out")  # dequantized, as the model runs
    theirs = _theirs(tmp_path / "out")
    assert theirs.config.model_type == kind
    ids = torch.as_tensor(ckpt.tokenizer.encode(PROMPT))[None]
    with torch.no_grad():
        assert np.abs(distributions(theirs(ids).logits)
                      - distributions(ckpt.model(ids)[0])).max() < 1e-4
    again = open_model(tmp_path / "out")
    assert again.model_config == ckpt.model_config
