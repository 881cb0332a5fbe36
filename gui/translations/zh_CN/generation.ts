<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>BarsView</name>
    <message>
        <source>probability</source>
        <translation>概率</translation>
    </message>
</context>
<context>
    <name>CompareView</name>
    <message>
        <source>Compare two snapshots</source>
        <translation>比较两个快照</translation>
    </message>
    <message>
        <source>Block:</source>
        <translation>块：</translation>
    </message>
    <message>
        <source>Head:</source>
        <translation>注意力头：</translation>
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
        <source>step {0}</source>
        <translation>第 {0} 步</translation>
    </message>
    <message>
        <source>B − A (step {0} − step {1})</source>
        <translation>B − A（第 {0} 步 − 第 {1} 步）</translation>
    </message>
    <message>
        <source>Attention pattern (softmax) of block {0}, head {1} on the current context at step {2} (A) and step {3} (B); right: B − A, red where B attends more, blue where less (largest change {4:.3f}).</source>
        <translation>第 {0} 块第 {1} 个注意力头在当前上下文上的注意力模式（softmax），分别取第 {2} 步（A）和第 {3} 步（B）；右图：B − A，红色表示 B 的注意力更多，蓝色表示更少（最大变化 {4:.3f}）。</translation>
    </message>
</context>
<context>
    <name>GenerationPanel</name>
    <message>
        <source>The prompt is empty and the vocabulary has no newline to start from.</source>
        <translation>提示为空，而词表中没有可作为起点的换行符。</translation>
    </message>
    <message>
        <source>Generation failed: {0}</source>
        <translation>生成失败：{0}</translation>
    </message>
    <message>
        <source>No model yet: open or train a model, then generate text from it here.</source>
        <translation>还没有模型：请打开或训练一个模型，然后在这里用它生成文本。</translation>
    </message>
    <message>
        <source>{0} tokens generated after a prompt of {1} tokens</source>
        <translation>在 {1} 个词元的提示之后生成了 {0} 个词元</translation>
    </message>
    <message>
        <source>{0} tokens generated after a prompt of {1} tokens · running…</source>
        <translation>在 {1} 个词元的提示之后生成了 {0} 个词元 · 运行中…</translation>
    </message>
    <message>
        <source>{0} tokens generated after a prompt of {1} tokens · {2:.1f} ms per token</source>
        <translation>在 {1} 个词元的提示之后生成了 {0} 个词元 · 每个词元 {2:.1f} 毫秒</translation>
    </message>
    <message>
        <source>{0} tokens generated after a prompt of {1} tokens · {2:.1f} ms per token · running…</source>
        <translation>在 {1} 个词元的提示之后生成了 {0} 个词元 · 每个词元 {2:.1f} 毫秒 · 运行中…</translation>
    </message>
    <message>
        <source>temperature {0:g}, top-k {1}, top-p {2}</source>
        <translation>温度 {0:g}、top-k {1}、top-p {2}</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <source>Next-token distribution after the prompt: computing…</source>
        <translation>提示之后的下一个词元分布：计算中…</translation>
    </message>
    <message>
        <source>&lt;b&gt;Next token after the prompt&lt;/b&gt; (nothing sampled yet) with {0}.</source>
        <translation>&lt;b&gt;提示之后的下一个词元&lt;/b&gt;（尚未采样），设置为{0}。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Token {0}&lt;/b&gt;: sampled &lt;b&gt;{1}&lt;/b&gt; (orange) with p = {2:.3f}</source>
        <translation>&lt;b&gt;第 {0} 个词元&lt;/b&gt;：采样得到 &lt;b&gt;{1}&lt;/b&gt;（橙色），p = {2:.3f}</translation>
    </message>
    <message>
        <source>Bars: the top {0} candidates of that position, re-shaped with {1}.</source>
        <translation>柱形：该位置概率最高的 {0} 个候选词元，按{1}重新计算。</translation>
    </message>
    <message>
        <source>Bars: the top {0} candidates as sampled.</source>
        <translation>柱形：采样时概率最高的 {0} 个候选词元。</translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <source>No model yet: open or train a model first.</source>
        <translation>还没有模型：请先打开或训练一个模型。</translation>
    </message>
    <message>
        <source>No training snapshots yet. Train a model: its weights are saved every evaluation, and here you can scrub back through them and watch the same text through the model as it learned.</source>
        <translation>还没有训练快照。训练一个模型：每次评估时都会保存其权重，你可以在这里来回拖动浏览，观察模型在学习过程中如何看待同一段文本。</translation>
    </message>
    <message>
        <source>Type a context first: the snapshot traces it.</source>
        <translation>请先输入上下文：快照会对它进行追踪。</translation>
    </message>
    <message>
        <source>this snapshot does not fit the current model (it was saved from a model of another shape)</source>
        <translation>此快照与当前模型不匹配（它保存自结构不同的模型）</translation>
    </message>
    <message>
        <source>Could not load the snapshot: {0}</source>
        <translation>无法加载快照：{0}</translation>
    </message>
    <message>
        <source>Showing snapshot: step {0} · val loss {1:.4f} · train loss {2:.4f}</source>
        <translation>显示快照：第 {0} 步 · 验证损失 {1:.4f} · 训练损失 {2:.4f}</translation>
    </message>
    <message>
        <source>Showing snapshot: step {0} · val loss {1:.4f}</source>
        <translation>显示快照：第 {0} 步 · 验证损失 {1:.4f}</translation>
    </message>
    <message>
        <source>Showing snapshot: step {0} · val loss not measured · train loss {1:.4f}</source>
        <translation>显示快照：第 {0} 步 · 未测量验证损失 · 训练损失 {1:.4f}</translation>
    </message>
    <message>
        <source>Showing snapshot: step {0} · val loss not measured</source>
        <translation>显示快照：第 {0} 步 · 未测量验证损失</translation>
    </message>
    <message>
        <source>Every panel shows the model as it was at this step. Press Live to return to the current model.</source>
        <translation>所有面板都显示模型在这一步时的样子。点击“实时”回到当前模型。</translation>
    </message>
    <message>
        <source>Showing the live model</source>
        <translation>显示实时模型</translation>
    </message>
    <message>
        <source>{0} snapshots saved during training. Move the slider to see the context through the model at that step.</source>
        <translation>训练期间保存了 {0} 个快照。拖动滑块，查看模型在那一步时如何处理上下文。</translation>
    </message>
</context>
<context>
    <name>SampleView</name>
    <message>
        <source>&lt;b&gt;Sample at step {0}&lt;/b&gt; (seed {1}, temperature {2:g}, top-k {3}), after the context&apos;s first line:</source>
        <translation>&lt;b&gt;第 {0} 步的生成样例&lt;/b&gt;（随机种子 {1}，温度 {2:g}，top-k {3}），接在上下文第一行之后：</translation>
    </message>
</context>
<context>
    <name>SamplingForm</name>
    <message>
        <source>Prompt:</source>
        <translation>提示：</translation>
    </message>
    <message>
        <source>Type a prompt (empty: start from a newline)</source>
        <translation>输入提示（留空：从换行符开始）</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>0 (greedy)</source>
        <translation>0（贪心）</translation>
    </message>
    <message>
        <source>Logits are divided by the temperature before the softmax: below 1 sharpens the distribution, above 1 flattens it, 0 always takes the most likely token.</source>
        <translation>在 softmax 之前，logits 会除以温度：小于 1 使分布更尖锐，大于 1 使分布更平缓，为 0 时总是选取可能性最大的词元。</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <source>Keep only the k most likely tokens (off: keep all).</source>
        <translation>只保留可能性最大的 k 个词元（关：全部保留）。</translation>
    </message>
    <message>
        <source>Nucleus sampling: keep the smallest set of tokens whose probabilities add up to p (1.00: keep all).</source>
        <translation>核采样：保留概率之和达到 p 的最小词元集合（1.00：全部保留）。</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>The same seed, prompt and settings give the same text, one Step at a time or in a Run.</source>
        <translation>相同的随机种子、提示和设置会生成相同的文本，无论是逐个“单步”还是一次“运行”。</translation>
    </message>
    <message>
        <source>Tokens added by Run</source>
        <translation>“运行”一次添加的词元数</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>个词元</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>单步</translation>
    </message>
    <message>
        <source>Add one token</source>
        <translation>添加一个词元</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Add as many tokens as the box beside it says</source>
        <translation>添加旁边输入框中指定数量的词元</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the Run after the token being drawn</source>
        <translation>在当前词元采样完后停止“运行”</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Forget the generated text and start again from the prompt</source>
        <translation>丢弃已生成的文本，从提示重新开始</translation>
    </message>
</context>
<context>
    <name>Scrubber</name>
    <message>
        <source>Live</source>
        <translation>实时</translation>
    </message>
    <message>
        <source>Back to the current model</source>
        <translation>回到当前模型</translation>
    </message>
    <message>
        <source>Snapshot:</source>
        <translation>快照：</translation>
    </message>
    <message>
        <source>step {0}</source>
        <translation>第 {0} 步</translation>
    </message>
</context>
</TS>
