"""The engine's words in one place (engine.wording): one bilingual catalogue, Saids that are
their English sentence and say themselves in Chinese, every refusal worded by the catalogue,
and the CLI's --lang zh."""
from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from engine.cli.commands import main
from engine.config import ConfigError, ModelConfig, TrainConfig
from engine.text.corpus import CorpusError, corpus_from_text
from engine.text.textfile import open_text
from engine.training.memory import check_memory
from engine.training.records import TrainingDiverged
from engine.wording import CATALOGUE, Said, field_names, in_language, said_of, say

ENGINE = Path(__file__).resolve().parent.parent / "engine"
# Variables a refusal is raised with that hold a Said made elsewhere:
# `foreign` = engine.text.filetype.foreign_model_message(...) (a pickle or zip, not text).
WORDED_NAMES = {"foreign"}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_entry_has_english_and_chinese_with_the_same_fields(key):
    en, zh = CATALOGUE[key]
    assert en.strip() and zh.strip(), key
    assert field_names(en) == field_names(zh), key
    assert zh != en or not any(c.isalpha() for c in en.replace("{", "").replace("}", "")), \
        f"{key}: the Chinese is the English"


def test_a_said_is_its_english_sentence_and_says_itself_in_chinese():
    said = say("text.empty", name="notes.txt")
    assert said == "'notes.txt': file is empty; choose a file with some text in it"
    assert isinstance(said, str) and said.key == "text.empty"
    assert said.text("zh") == "“notes.txt”：文件是空的；请选择一个有文字的文件"
    back = pickle.loads(pickle.dumps(said))  # as it crosses the training process's pipe
    assert back == said and back.text("zh") == said.text("zh")
    with pytest.raises(AttributeError):
        said.key = "text.folder"
    # A clause inside a sentence is said in the same language; a list is joined in it.
    diverged = say("train.diverged", step=7, kept=say("train.kept_restored", step=5), lr=0.1,
                   lower=0.01)
    assert "the weights of step 5 were restored" in diverged
    assert "已恢复第 5 步的权重" in diverged.text("zh")
    assert in_language(ValueError("plain words"), "zh") == "plain words"


def _raises(path: Path, name: str) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.exc for node in ast.walk(tree) if isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name)
            and node.exc.func.id == name]


@pytest.mark.parametrize("error, position", [("ConfigError", 1), ("CorpusError", 0),
                                             ("TrainingError", 0), ("TrainingDiverged", 0)])
def test_every_engine_refusal_the_window_shows_is_worded_by_the_catalogue(error, position):
    """A refusal written as an English f-string would show in English in a Chinese window."""
    sites = []
    for path in ENGINE.rglob("*.py"):
        for call in _raises(path, error):
            sites.append(path)
            message = call.args[position] if len(call.args) > position else None
            if isinstance(message, ast.Name) and message.id in WORDED_NAMES:
                continue
            assert (isinstance(message, ast.Call) and isinstance(message.func, ast.Name)
                    and message.func.id == "say"), \
                f"{path.relative_to(ENGINE.parent)}:{call.lineno}: {error} not worded by say()"
    assert sites  # the check found the raise sites it speaks of


def test_config_errors_name_the_field_in_both_languages_and_cross_processes():
    with pytest.raises(ConfigError) as caught:
        ModelConfig(d_model=30, n_head=4).validate()
    exc = caught.value
    assert str(exc) == "d_model: 30 is not divisible by n_head=4"  # unchanged English
    assert in_language(exc, "zh") == "d_model：30 不能被 n_head=4 整除"
    back = pickle.loads(pickle.dumps(exc))  # the training process sends its errors pickled
    assert type(back) is ConfigError and back.field == "d_model"
    assert in_language(back, "zh") == in_language(exc, "zh")
    with pytest.raises(ConfigError) as caught:
        TrainConfig(batch_size=6, grad_accum=4).validate()
    assert in_language(caught.value, "zh").startswith("grad_accum：batch_size 6 无法平均分成 4")


def test_corpus_problems_in_chinese(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(CorpusError) as caught:
        open_text(empty)
    assert in_language(caught.value, "zh") == "“empty.txt”：文件是空的；请选择一个有文字的文件"
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(CorpusError) as caught:
        open_text(blob)
    assert "binary file" in str(caught.value)
    assert in_language(caught.value, "zh").startswith("“blob.bin”看起来是二进制文件")
    pickled = tmp_path / "ckpt.pt"
    pickled.write_bytes(pickle.dumps({"model": 1}))
    with pytest.raises(CorpusError) as caught:
        open_text(pickled)
    assert in_language(caught.value, "zh").startswith("“ckpt.pt”是一个 Python pickle")
    cafe = tmp_path / "cafe.txt"  # UTF-8 with one stray Latin-1 byte: read, the byte counted
    cafe.write_bytes(("the café and the cat sat on the mat. " * 30).encode("utf-8") + b"na\xefve")
    how = open_text(cafe).decoding.describe()
    assert how.startswith("utf-8 (detected; 1 invalid byte replaced")
    assert how.text("zh").startswith("utf-8（自动检测；1 个无效字节被替换为 U+FFFD")
    with pytest.raises(CorpusError) as caught:
        corpus_from_text("too short", tokenizer="char", context_length=16)
    zh = in_language(caught.value, "zh")
    assert "只有 9 个词元" in zh and "至少需要" in zh, zh


def test_out_of_memory_and_divergence_in_chinese():
    import torch

    with pytest.raises(ConfigError) as caught:
        check_memory(ModelConfig(vocab_size=100), TrainConfig(batch_size=100_000),
                     torch.device("cpu"), free=200_000_000)
    zh = in_language(caught.value, "zh")
    assert zh.startswith("batch_size：100,000 个长 16 个词元的窗口") and "能放下的最大批次约为" in zh
    exc = TrainingDiverged(say("train.diverged", step=9, kept=say("train.kept_last"), lr=0.5,
                               lower=0.05), step=9, kept_step=8, resumable=True)
    back = pickle.loads(pickle.dumps(exc))
    assert (back.step, back.kept_step, back.resumable) == (9, 8, True)
    assert str(back).startswith("training diverged at step 9")
    assert in_language(back, "zh").startswith("训练在第 9 步发散")
    assert said_of(back).key == "train.diverged"


def test_the_cli_speaks_chinese_with_lang_zh(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert main(["--lang", "zh", "train", str(empty), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "transformer-explorer: error: “empty.txt”：文件是空的；请选择一个有文字的文件"
    # After the command too; a config field is still named by the flag the user typed.
    short = tmp_path / "short.txt"
    short.write_text("too short", encoding="utf-8")
    code = main(["train", str(short), "--out", str(tmp_path / "o"), "--d-model", "65",
                 "--lang", "zh"])
    assert code == 2
    assert capsys.readouterr().err.strip() == \
        "transformer-explorer: error: --d-model (d_model)：65 不能被 n_head=4 整除"
    # Without --lang the next command speaks English again.
    assert main(["train", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "file is empty" in capsys.readouterr().err


def test_the_launcher_passes_lang_to_the_cli(tmp_path, capsys):
    from gui.launcher import is_cli
    from gui.launcher import main as launch

    assert is_cli(["--lang", "zh", "train", "x.txt"]) and is_cli(["--lang=zh", "info", "m"])
    assert not is_cli(["--lang", "zh"]) and not is_cli(["--lang", "zh", "notes.txt"])
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert launch(["transformer-explorer", "--lang", "zh", "train", str(empty), "--out",
                   str(tmp_path / "o")]) == 2
    assert "文件是空的" in capsys.readouterr().err
