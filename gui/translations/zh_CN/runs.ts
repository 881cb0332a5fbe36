<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>RunSide</name>
    <message>
        <source>Run {0}</source>
        <translation>运行 {0}</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Choose a run…</source>
        <translation>选择一个运行…</translation>
    </message>
    <message>
        <source>Choose a training run&apos;s folder (written by the window or by `train --out`), or a model saved after training</source>
        <translation>选择一个训练运行的文件夹（由本窗口或 `train --out` 写出），或训练后保存的模型</translation>
    </message>
    <message>
        <source>Training run folder…</source>
        <translation>训练运行文件夹…</translation>
    </message>
    <message>
        <source>Saved model…</source>
        <translation>已保存的模型…</translation>
    </message>
    <message>
        <source>The context goes through each model&apos;s own tokenizer, so the two maps may show different tokens. With grouped-query attention several query heads read one K/V head.</source>
        <translation>上下文经过每个模型自己的分词器，所以两张图的词元可能不同。分组查询注意力中，多个查询头读取同一个 K/V 头。</translation>
    </message>
    <message>
        <source>Block:</source>
        <translation>块：</translation>
    </message>
    <message>
        <source>Head:</source>
        <translation>头：</translation>
    </message>
    <message>
        <source>query</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>Choose a training run</source>
        <translation>选择一个训练运行</translation>
    </message>
    <message>
        <source>Choose a saved model</source>
        <translation>选择一个已保存的模型</translation>
    </message>
    <message>
        <source>Saved models (*.safetensors)</source>
        <translation>已保存的模型 (*.safetensors)</translation>
    </message>
    <message>
        <source> ({0} K/V heads)</source>
        <translation>（{0} 个 K/V 头）</translation>
    </message>
    <message>
        <source>{0} · d {1} · {2} layers · {3} heads{4} · {5} parameters</source>
        <translation>{0} · d {1} · {2} 层 · {3} 个头{4} · {5} 个参数</translation>
    </message>
    <message>
        <source>custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <source>Attention (softmax), block {0}, head {1}</source>
        <translation>注意力（softmax），块 {0}，头 {1}</translation>
    </message>
    <message>
        <source>{0} tokens of its own ({1} more left out).</source>
        <translation>按它自己的分词共 {0} 个词元（另有 {1} 个未包括在内）。</translation>
    </message>
    <message>
        <source>{0} tokens of its own.</source>
        <translation>按它自己的分词共 {0} 个词元。</translation>
    </message>
    <message>
        <source>Head {0} reads K/V head {1} of {2}.</source>
        <translation>头 {0} 读取 {2} 个 K/V 头中的第 {1} 个。</translation>
    </message>
</context>
<context>
    <name>RunsPanel</name>
    <message>
        <source>x axis:</source>
        <translation>横轴：</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Training tokens</source>
        <translation>训练词元数</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>Runs with different batch sizes (or contexts) line up by training tokens, not by steps</source>
        <translation>批次大小（或上下文长度）不同的运行按训练词元数对齐，而不是按步数</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Choose a run.</source>
        <translation>请选择一个运行。</translation>
    </message>
    <message>
        <source>Choose two training runs (for example a GPT and a Llama-style model trained on the same text) to compare their losses and their attention on the context.</source>
        <translation>选择两个训练运行（例如在同一文本上训练的 GPT 和 Llama 风格模型），比较它们的损失和在上下文上的注意力。</translation>
    </message>
    <message>
        <source>custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <source>{0}: {1}, train</source>
        <translation>{0}：{1}，训练</translation>
    </message>
    <message>
        <source>{0}: {1}, validation</source>
        <translation>{0}：{1}，验证</translation>
    </message>
    <message>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>training tokens</source>
        <translation>训练词元数</translation>
    </message>
</context>
</TS>
