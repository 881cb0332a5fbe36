"""The engine's words for people, in English and Chinese: one catalogue, and `Said`, a sentence
that remembers its key and fields.

One mechanism, and why this one. The engine says things to people in two places: a terminal
(the CLI, English unless `--lang zh`) and the window (English or Chinese, switchable while it
runs). The window's own words go through Qt Linguist (gui.i18n), but the engine imports no Qt,
and its sentences are made where the problem is found, often in another process (training) or
before any window exists. So the engine never picks a language: a refusal, a condition or a
warning is a `Said(key, fields)`, and whoever shows it picks the language at that moment
(`said.text("zh")`). A Said *is* its English sentence (a `str`), so `str(exc)`, an equality
with the English text, a log line, JSON and every caller that took the English text keep
working unchanged; only the places that show it to people ask for another language, through
`in_language(thing, lang)`. The alternative, passing `lang` into every function that might
refuse something, would thread a display choice through the whole engine, and a message made
in the training process could not follow a language switched after it was made.

Fields are names, numbers and sizes, which read the same in both languages. A field that is
itself a Said (a clause such as "the weights of step 40 were restored") is said in the same
language, and a list of Saids is joined with that language's separator. A test holds every
entry to non-empty English and Chinese with the same {fields}.
"""
from __future__ import annotations

import string
from typing import Any, Mapping

LANGUAGES = ("en", "zh")


def plural(n: int, noun: str, many: str | None = None) -> str:
    """"1 token", "2 tokens", "1,200 tokens" (`many` for irregular plurals)."""
    return f"{n:,} {noun if n == 1 else (many or noun + 's')}"


# key -> (English, Chinese). Keys are grouped by the part of the engine that says them.
CATALOGUE: dict[str, tuple[str, str]] = {
    # -- shared pieces ----------------------------------------------------------------------
    "list.separator": ("; ", "；"),
    "count.token": ("{n:,} token", "{n:,} 个词元"),
    "count.tokens": ("{n:,} tokens", "{n:,} 个词元"),

    # -- impossible settings (engine.config.ConfigError: "field: problem") -------------------
    "config.field": ("{field}: {problem}", "{field}：{problem}"),
    "config.positive_integer": ("must be a positive integer, got {value!r}",
                                "必须是正整数，现为 {value!r}"),
    "config.not_divisible": ("{d_model} is not divisible by n_head={n_head}",
                             "{d_model} 不能被 n_head={n_head} 整除"),
    "config.context_too_long": ("{context_length} exceeds the positional table ({limit})",
                                "{context_length} 超出了位置表的长度（{limit}）"),
    "config.true_or_false": ("must be true or false, got {value!r}",
                             "必须是 true 或 false，现为 {value!r}"),
    "config.open_unit": ("must be a number in (0, 1), got {value!r}",
                         "必须是 (0, 1) 之间的数，现为 {value!r}"),
    "config.dropout": ("must be in [0, 1), got {value}", "必须在 [0, 1) 之内，现为 {value}"),
    "config.one_of": ("must be one of {allowed}, got {value!r}",
                      "必须是 {allowed} 之一，现为 {value!r}"),
    "config.accum_split": ("batch_size {batch} does not split into {accum} equal micro-batches; "
                           "choose a divisor of the batch",
                           "batch_size {batch} 无法平均分成 {accum} 个微批次；请选择批次大小的因数"),
    "file.not_regular": ("'{name}' is {kind}, not a file; it is never opened for reading (it "
                         "could wait for a writer for ever)",
                         "“{name}”是{kind}，不是普通文件；它从不被打开读取（否则可能永远等待写入方）"),
    "config.kv_divisor": ("must be a positive divisor of n_head={n_head}, got {value!r}",
                          "必须是 n_head={n_head} 的正因数，现为 {value!r}"),
    "config.kv_needs_arch": ("grouped K/V heads are a Llama-style choice, not {arch}'s "
                             "(choose --arch llama)",
                             "分组 K/V 头属于 Llama 式架构，{arch} 没有（请选择 --arch llama）"),
    "config.arch_fixes": ("{arch} fixes this part ({fixed!r}); choose it with --arch gpt",
                          "{arch} 固定了这一部分（{fixed!r}）；要自行选择请用 --arch gpt"),
    "config.even": ("must be even, got {value}", "必须是偶数，现为 {value}"),
    "config.one_per_block": ("must list {n_layer} blocks", "必须列出 {n_layer} 个块"),
    "config.whole_number": ("must be a whole number, got {value!r}",
                            "必须是整数，现为 {value!r}"),
    "config.number": ("must be a number, got {value!r}", "必须是数字，现为 {value!r}"),
    "config.not_negative": ("must be >= 0", "必须 >= 0"),
    "config.positive": ("must be > 0, got {value}", "必须 > 0，现为 {value}"),
    "config.min_lr": ("must be between 0 and lr ({lr})", "必须在 0 与 lr（{lr}）之间"),
    "config.val_fraction": ("must be in (0, 0.5)", "必须在 (0, 0.5) 之内"),
    "config.seconds": ("must be > 0 seconds, got {value}", "必须大于 0 秒，现为 {value}"),
    "config.no_steps_left": (
        "the model has already trained {done:,} steps and steps is the total to reach, so "
        "nothing is left to do; give more than {done:,} (e.g. {double:,})",
        "模型已经训练了 {done:,} 步，而 steps 是要达到的总步数，所以没有剩下要做的；"
        "请给出大于 {done:,} 的值（例如 {double:,}）"),
    "config.batch_ranks": (
        "the global batch {batch} must split evenly into {ranks} rank(s) x {accum} "
        "micro-batch(es) = {parts} parts; choose a multiple of {parts}, e.g. {larger}",
        "全局批次 {batch} 必须能平均分成 {ranks} 个进程 × {accum} 个微批次 = {parts} 份；"
        "请选择 {parts} 的倍数，例如 {larger}"),

    # -- memory (engine.training.memory, the trainer) -----------------------------------------
    "memory.model": (
        "the model's {params:,} parameters need {need} for weights, gradients and AdamW, but "
        "only {free} of memory are free on {device}; choose a smaller d_model, n_layer or d_ff",
        "模型的 {params:,} 个参数需要 {need} 来存放权重、梯度和 AdamW 状态，但 {device} 上只有 "
        "{free} 可用内存；请选择更小的 d_model、n_layer 或 d_ff"),
    "memory.batch": (
        "{batch:,} windows of {context} tokens need about {need} for one training step "
        "(activations {activations}), but only {free} of memory are free on {device}; {advice}",
        "{batch:,} 个长 {context} 个词元的窗口训练一步约需 {need}（其中激活值 {activations}），"
        "但 {device} 上只有 {free} 可用内存；{advice}"),
    "memory.largest_batch": ("the largest batch that fits is about {fits:,}",
                             "能放下的最大批次约为 {fits:,}"),
    "memory.no_window": ("even one window does not fit; choose a smaller context_length or model",
                         "连一个窗口都放不下；请选择更小的 context_length 或模型"),
    "train.vocab_too_large": ("the corpus has {ids} token ids but the model's table has only "
                              "{rows} rows",
                              "语料有 {ids} 个词元编号，但模型的词表只有 {rows} 行"),
    "train.split_too_short": ("the {split} split has {n} tokens; it needs more than "
                              "context_length={context}",
                              "{split} 部分只有 {n} 个词元；需要多于 context_length={context} 个"),
    "train.out_of_memory": (
        "out of memory on {device} at step {step}: try a smaller batch size, context length or "
        "model",
        "{device} 在第 {step} 步内存不足：请试试更小的批次大小、上下文长度或模型"),

    # -- divergence (engine.training.trainer) --------------------------------------------------
    "train.diverged": (
        "training diverged at step {step}: the loss or gradient became NaN/inf; {kept}. Try a "
        "lower learning rate (lr is {lr:g}; e.g. {lower:g}).",
        "训练在第 {step} 步发散：损失或梯度变成了 NaN/inf；{kept}。请试试更低的学习率"
        "（lr 现为 {lr:g}，例如 {lower:g}）。"),
    "train.kept_last": ("the last finite weights were kept", "已保留最后一组有限的权重"),
    "train.kept_restored": ("the weights of step {step} were restored",
                            "已恢复第 {step} 步的权重"),
    "train.kept_none": ("no finite weights were available to restore",
                        "没有可恢复的有限权重"),

    # -- devices (engine.devices) ---------------------------------------------------------------
    "device.unknown": ("unknown device {name!r}; available: {available}",
                       "未知的设备 {name!r}；可用的有：{available}"),
    "device.absent": ("device {name!r} is not available on this machine; available: {available}",
                      "这台机器上没有设备 {name!r}；可用的有：{available}"),

    # -- text files (engine.text.textfile, filetype) ------------------------------------------
    "text.missing": ("'{path}' does not exist; choose an existing text file",
                     "“{path}”不存在；请选择一个已有的文本文件"),
    "text.folder": ("'{path}' is a folder; choose a text file inside it",
                    "“{path}”是一个文件夹；请选择其中的一个文本文件"),
    "text.empty": ("'{name}': file is empty; choose a file with some text in it",
                   "“{name}”：文件是空的；请选择一个有文字的文件"),
    "text.binary": (
        "'{name}' looks like a binary file, not text (it is not UTF-8, UTF-16, GBK/GB18030 or "
        "Windows-1252); choose a plain-text file, or name its encoding",
        "“{name}”看起来是二进制文件而不是文本（它不是 UTF-8、UTF-16、GBK/GB18030 或 "
        "Windows-1252）；请选择一个纯文本文件，或指定它的编码"),
    "text.unknown_encoding": ("unknown encoding {encoding!r}; try utf-8, utf-16, gbk, gb18030 "
                              "or cp1252",
                              "未知的编码 {encoding!r}；请试试 utf-8、utf-16、gbk、gb18030 或 cp1252"),
    "text.pickle": (
        "'{name}' is a Python pickle (e.g. a PyTorch .pt file), not text or a safetensors "
        "model; open it as a model (a nanoGPT ckpt.pt or Hugging Face pytorch_model.bin): only "
        "its tensors are read, nothing in it is run",
        "“{name}”是一个 Python pickle（例如 PyTorch 的 .pt 文件），不是文本，也不是 safetensors "
        "模型；请把它作为模型打开（nanoGPT 的 ckpt.pt 或 Hugging Face 的 pytorch_model.bin）："
        "只读取其中的张量，不运行其中的任何东西"),
    "text.zip": (
        "'{name}' is a zip archive (e.g. a PyTorch .pt file), not text or a safetensors model; "
        "open it as a model (a nanoGPT ckpt.pt or Hugging Face pytorch_model.bin): only its "
        "tensors are read, nothing in it is run",
        "“{name}”是一个 zip 压缩包（例如 PyTorch 的 .pt 文件），不是文本，也不是 safetensors "
        "模型；请把它作为模型打开（nanoGPT 的 ckpt.pt 或 Hugging Face 的 pytorch_model.bin）："
        "只读取其中的张量，不运行其中的任何东西"),
    # How a file was decoded (engine.text.textfile.Decoding.describe).
    "decoding.bom": ("byte-order mark", "字节顺序标记"),
    "decoding.evidence": ("detected", "自动检测"),
    "decoding.user": ("chosen", "手动选择"),
    "decoding.clean": ("{name} ({how})", "{name}（{how}）"),
    "decoding.replaced_one": (
        "{name} ({how}; 1 invalid byte replaced by U+FFFD, the first at byte {first:,})",
        "{name}（{how}；1 个无效字节被替换为 U+FFFD，位于第 {first:,} 字节）"),
    "decoding.replaced": (
        "{name} ({how}; {n:,} invalid bytes replaced by U+FFFD, the first at byte {first:,})",
        "{name}（{how}；{n:,} 个无效字节被替换为 U+FFFD，第一个位于第 {first:,} 字节）"),

    # -- corpora and the token cache (engine.text.corpus, tokenfile) --------------------------
    "corpus.too_short": (
        "'{label}' has only {tokens}; training with context {context} needs at least {need:,} "
        "tokens (choose a longer file or a smaller context)",
        "“{label}”只有 {tokens}；上下文长度为 {context} 的训练至少需要 {need:,} 个词元"
        "（请选择更长的文件或更小的上下文长度）"),
    "corpus.val_fraction": ("val_fraction must be between 0 and 1, not {value}",
                            "val_fraction 必须在 0 与 1 之间，现为 {value}"),
    "corpus.context_length": ("context_length must be at least 1, not {value}",
                              "context_length 至少为 1，现为 {value}"),
    "corpus.token_file_unreadable": (
        "the token file '{path}' of '{source}' cannot be read ({reason}); open the text again",
        "“{source}”的词元文件“{path}”无法读取（{reason}）；请重新打开这段文本"),
    "cache.unwritable": (
        "could not write the token cache in '{folder}' ({reason}); free some space, choose "
        "another folder (--token-cache DIR) or use --no-token-cache",
        "无法在“{folder}”中写入词元缓存（{reason}）；请腾出一些空间、另选文件夹"
        "（--token-cache DIR）或使用 --no-token-cache"),
    "cache.off": ("the token cache is switched off (TRANSFORMER_EXPLORER_TOKEN_CACHE)",
                  "词元缓存已关闭（TRANSFORMER_EXPLORER_TOKEN_CACHE）"),
    "cache.in_memory": ("{problem}; tokenizing into memory instead", "{problem}；改为在内存中切分词元"),

    # -- model files whose settings cannot be run (engine.storage) -----------------------------
    "checkpoint.invalid_config": ("'{name}' has an invalid configuration: {problem}",
                                  "“{name}”的配置无效：{problem}"),
    "checkpoint.unrunnable_config": ("'{name}' has a configuration this program cannot run: "
                                     "{problem}",
                                     "“{name}”的配置是本程序无法运行的：{problem}"),

    # -- attribution (engine.model.attribution) -------------------------------------------
    "attribution.position": ("there is no position {position} in a prompt of {n} tokens",
                             "在 {n} 个词元的提示中没有位置 {position}"),
    "attribution.token_id": ("token id {id} is not in the vocabulary of {n} tokens",
                             "词元编号 {id} 不在 {n} 个词元的词表中"),
    "attribution.same_token": ("the target and the --versus token are the same token",
                               "目标词元与 --versus 词元是同一个词元"),
    "attribution.steps": ("the integrated gradients' steps must be a positive number, not "
                          "{value}", "积分梯度的步数必须是正整数，而不是 {value}"),
    "attribution.not_one_token": (
        "'{text}' is {n} tokens for this model's tokenizer; give a text that is one token",
        "对此模型的分词器而言，“{text}”是 {n} 个词元；请给出恰好一个词元的文本"),

    # -- activation patching (engine.model.patching) ----------------------------------------
    "patching.kind": ("there is no patching kind '{kind}'; choose one of {kinds}",
                      "没有“{kind}”这种修补方式；请从 {kinds} 中选择"),
    "patching.empty": ("the prompt to patch is empty", "要修补的提示是空的"),
    "patching.length": (
        "the clean prompt is {n} tokens and the corrupted one {m}; activation patching needs "
        "two prompts of the same token length",
        "干净提示有 {n} 个词元，损坏提示有 {m} 个；激活修补需要两个词元长度相同的提示"),
    "patching.too_long": ("the prompts are {n} tokens, longer than the model's context of {t}",
                          "提示有 {n} 个词元，超过了模型 {t} 个词元的上下文"),
    "patching.same_token": ("the target and the foil are the same token; choose two tokens",
                            "目标词元与对照词元是同一个词元；请选择两个不同的词元"),
    "patching.no_word": ("the prompt does not contain '{word}', so there is nothing to replace",
                         "提示中不含“{word}”，没有可替换的内容"),
    "patching.replace_length": (
        "replacing '{word}' by '{replacement}' changes the prompt from {n} to {m} tokens; "
        "choose a replacement of the same token length",
        "把“{word}”替换为“{replacement}”会使提示从 {n} 个词元变为 {m} 个；请选择词元长度相同的替换"),

    # -- what training changed (engine.model.training_diff, engine.training.snapshots) -------
    "training_diff.shape": (
        "the two models differ in {field} ({a} and {b}); only two versions of the same model "
        "can be compared",
        "两个模型的 {field} 不同（{a} 与 {b}）；只能比较同一个模型的两个版本"),
    "training_diff.short": ("the text is {n} tokens; comparing losses needs at least 2",
                            "文本只有 {n} 个词元；比较损失至少需要 2 个"),
    "training_diff.tokenizer": (
        "the two models use different tokenizers, so the same text is not the same tokens",
        "两个模型使用不同的分词器，同一段文本不会得到相同的词元"),
    "snapshot.missing": ("'{run}' has no snapshot of step {step}; it has steps {steps}",
                         "“{run}”没有第 {step} 步的快照；它有这些步：{steps}"),
    "snapshot.no_config": ("'{run}' has no readable model settings (run.json), so its snapshots "
                           "cannot be built into a model",
                           "“{run}”没有可读的模型设置（run.json），无法用它的快照构建模型"),
    # -- two runs side by side (engine.training.run_comparison) ----------------------------
    "runs.missing": ("'{path}' does not exist", "“{path}”不存在"),
    "runs.not_a_run": ("'{path}' is not a training run: it has no {configs} or {records}",
                       "“{path}”不是训练运行的文件夹：其中没有 {configs} 或 {records}"),
    "runs.no_model": ("'{path}' has saved no model yet (no snapshot, no checkpoint); its loss "
                      "curves are shown, its attention once it has saved one",
                      "“{path}”还没有保存模型（没有快照，也没有检查点）；只显示它的损失曲线，"
                      "保存模型后才能显示注意力"),
    "runs.no_block": ("there is no block {block}; the model has {n}",
                      "没有第 {block} 个块；该模型共有 {n} 个"),
    "runs.no_head": ("there is no head {head}; the block has {n}",
                     "没有第 {head} 个头；该块共有 {n} 个"),
    "runs.empty_text": ("the text has no tokens to trace", "文本中没有可以追踪的词元"),

    # -- article mode (engine.model.article) ---------------------------------------------------
    "article.no_model": ("No model is loaded: create or open one first.",
                         "尚未加载模型：请先创建或打开一个模型。"),
    "article.cannot": (
        "This model cannot reproduce the article's shapes [4,16,64] → [4,4,16,16]: {problems}. "
        "Create a model with d_model 64, 4 heads and a context of at least 16 (the default "
        "settings).",
        "此模型无法重现文章中的形状 [4,16,64] → [4,4,16,16]：{problems}。请创建一个 d_model 为 "
        "64、4 个头、上下文长度至少为 16 的模型（即默认设置）。"),
    "article.d_model": ("d_model is {d}, the article uses {a}", "d_model 为 {d}，文章中为 {a}"),
    "article.heads": ("it has {n} heads, the article uses {a} (head_size {hs})",
                      "它有 {n} 个头，文章中为 {a} 个（head_size {hs}）"),
    "article.context": ("its context is {t} tokens, the article needs {a}",
                        "它的上下文长度为 {t} 个词元，文章需要 {a} 个"),
}


class Said(str):
    """A sentence for people: its English text (this str), its catalogue key and its fields.

    Immutable like the str it is; it pickles as (key, fields), so it crosses the training
    process's pipe and keeps its Chinese. `text(lang)` says it in "en" or "zh".
    """

    key: str
    fields: Mapping[str, Any]

    def __new__(cls, key: str, fields: Mapping[str, Any] | None = None) -> "Said":
        fields = dict(fields or {})
        said = super().__new__(cls, _render(key, fields, "en"))
        said.__dict__.update(key=key, fields=fields)
        return said

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Said is immutable (cannot set {name!r})")

    def __reduce__(self) -> tuple:
        return (type(self), (self.key, self.fields))

    def text(self, lang: str = "en") -> str:
        """The sentence in `lang` ("zh"; anything else is English), its fields filled in."""
        return _render(self.key, self.fields, lang)


def say(key: str, **fields: Any) -> Said:
    """`Said(key, fields)`, the way call sites write it: say("text.empty", name=path.name)."""
    return Said(key, fields)


def count(n: int, noun: str) -> Said:
    """"1 token", "2 tokens" ("count.<noun>" and its plural in the catalogue)."""
    return say(f"count.{noun}" if n == 1 else f"count.{noun}s", n=n)


def said_of(thing: object) -> Said | None:
    """The Said in `thing`: itself, an exception's `said`, or an exception (or warning) made
    from one Said; None when it holds only plain text."""
    if isinstance(thing, Said):
        return thing
    if isinstance(thing, BaseException):
        said = getattr(thing, "said", None)
        if isinstance(said, Said):
            return said
        if len(thing.args) == 1 and isinstance(thing.args[0], Said):
            return thing.args[0]
    return None


def in_language(thing: object, lang: str) -> str:
    """What `thing` (a Said, an engine exception or warning, any text) says, in `lang` when it
    is worded by the catalogue; its plain str otherwise (a path, an OS message)."""
    said = said_of(thing)
    return said.text(lang) if said is not None else str(thing)


def field_names(template: str) -> set[str]:
    """The {fields} a catalogue template fills (tests hold English and Chinese to the same)."""
    return {name.split(".")[0].split("[")[0]
            for _, name, _, _ in string.Formatter().parse(template) if name}


def _render(key: str, fields: Mapping[str, Any], lang: str) -> str:
    en, zh = CATALOGUE[key]
    values = {name: _value(v, lang) for name, v in fields.items()}
    return (zh if lang == "zh" else en).format(**values)


def _value(value: Any, lang: str) -> Any:
    """A field as it is filled in: a Said in the same language; a list of them joined."""
    if isinstance(value, Said):
        return value.text(lang)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Said) for v in value):
        separator = _render("list.separator", {}, lang)
        return separator.join(v.text(lang) for v in value)
    return value
