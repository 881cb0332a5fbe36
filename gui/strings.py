"""The one place for the strings a user reads in Chinese (View → Language → 中文).

English is the source text everywhere; `translate(text, lang)` gives the Chinese of a whole
phrase when the catalogue has it, else the English. Views call it through their session's
language and re-translate on `Session.language_changed`. Symbols of the articles' formulas
(d_model, d_ff, QKᵀ) stay as they are, so the form and captions still read next to the
equations. The explanations of the steps are not here: they are facts about the steps and live
with them in the engine (engine.guide, engine.steps).
"""
from __future__ import annotations

ZH: dict[str, str] = {
    # -- the window: dock titles and menus
    "Context": "上下文", "Tokens": "分词", "Embeddings": "词嵌入",
    "Positional encoding": "位置编码", "Attention": "注意力", "Training": "训练",
    "Walkthrough": "逐步讲解", "Generation": "生成", "Looking inside": "模型内部",
    "Training history": "训练历史", "&Language": "语言(&L)",
    "&File": "文件(&F)", "&View": "视图(&V)", "&Training": "训练(&T)", "&Help": "帮助(&H)",
    # -- the training form
    "Model": "模型", "Training": "训练", "tokenizer": "分词器", "heads": "注意力头数",
    "layers": "层数", "context": "上下文长度", "dropout": "丢弃率", "positional": "位置编码",
    "norm": "归一化", "activation": "激活函数",
    "tie token table and output layer": "词嵌入表与输出层共享权重",
    "batch": "批大小", "steps": "步数", "learning rate": "学习率", "warm-up": "预热步数",
    "eval every": "评估间隔", "seed": "随机种子", "device": "设备",
    "Start": "开始", "Continue": "接着训练", "Pause": "暂停", "Resume": "继续", "Stop": "停止",
    "Continue training the current model (steps = more steps)":
        "接着训练当前模型（步数 = 再训练的步数）",
    "Sample at the last evaluation": "最近一次评估时生成的样例", "Not training.": "未在训练。",
    "loss": "损失", "tokens/s": "词元/秒", "step": "步",
    "Text generated from the context at each evaluation.": "每次评估时，从上下文接着生成的文字。",
    "train (per step)": "训练（每步）", "train (smoothed)": "训练（平滑）", "validation": "验证",
    # -- the walkthrough
    "◀ Previous": "◀ 上一步", "Next ▶": "下一步 ▶", "Step {i} of {n}": "第 {i} 步，共 {n} 步",
    "Article mode": "文章模式",
    "Trace 4 windows of 16 tokens from the training text, as in the articles":
        "像文章中那样，从训练文本中取 4 个长度为 16 的窗口进行追踪",
    "Export step:": "导出此步：", "Heatmap:": "热力图：",
    "batch entry": "批次", "batch {b}": "批次 {b}", "head": "头", "decimals": "小数位",
    "shown: {sel}": "显示：{sel}", "weights: {w}": "权重: {w}",
    "Input · Embedding": "输入 · 嵌入", "Block {i}": "第 {i} 块", "Output": "输出",
    "No trace yet. Load or create a model and type some context text: every step of its "
    "forward pass will be listed here.":
        "还没有追踪结果。加载或创建一个模型并输入一些上下文文本：前向传播的每一步都会列在这里。",
    "✓ Check passed — {desc}. Max |difference| {diff} (tolerance {tol}).":
        "✓ 校验通过 — {desc}。最大 |差值| {diff}（容差 {tol}）。",
    "✗ Check FAILED — {desc}. Max |difference| {diff} exceeds the tolerance {tol}.":
        "✗ 校验失败 — {desc}。最大 |差值| {diff} 超过容差 {tol}。",
    "✗ Could not check this step: {err}": "✗ 无法校验此步：{err}",
    "Weights changed since this trace; the check runs again on the next trace.":
        "此追踪之后权重已改变；下一次追踪时会重新校验。",
    "Article mode: tracing 4 windows of 16 tokens…": "文章模式：正在追踪 4 个长度为 16 的窗口…",
    "Article mode: {b} windows of {t} tokens from the training text (seed {seed}). "
    "X is {x}, Q split into heads is {q}, the scores are {s}.":
        "文章模式：来自训练文本的 {b} 个长度为 {t} 的窗口（种子 {seed}）。"
        "X 为 {x}，Q 拆分成多头后为 {q}，分数为 {s}。",
    "Article mode: {b} windows of {t} tokens from the context text (repeated) (seed {seed}). "
    "X is {x}, Q split into heads is {q}, the scores are {s}.":
        "文章模式：来自上下文文本（重复）的 {b} 个长度为 {t} 的窗口（种子 {seed}）。"
        "X 为 {x}，Q 拆分成多头后为 {q}，分数为 {s}。",
    "Article mode needs text: load a training corpus or type some context text.":
        "文章模式需要文本：请加载训练语料或输入一些上下文文本。",
    "Article mode: {err}": "文章模式: {err}",
}


def translate(text: str, lang: str) -> str:
    """`text` in `lang` ("en" or "zh"): the catalogue's Chinese, or the English source."""
    return ZH.get(text, text) if lang == "zh" else text
