<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AblationView</name>
    <message>
        <source>probability</source>
        <translation>概率</translation>
    </message>
    <message>
        <source>intact</source>
        <translation>完整模型</translation>
    </message>
    <message>
        <source>heads ablated</source>
        <translation>消融注意力头后</translation>
    </message>
    <message>
        <source>Tick heads to switch them off: their weighted values (softmax·V) become zero before the heads are concatenated. Every panel then shows the ablated model.</source>
        <translation>勾选注意力头即可将其关闭：在各头拼接之前，它们的加权值（softmax·V）被置为零。随后所有面板显示的都是消融后的模型。</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>重置</translation>
    </message>
    <message>
        <source>Switch every head back on</source>
        <translation>重新打开所有注意力头</translation>
    </message>
    <message>
        <source>Measure validation loss</source>
        <translation>测量验证损失</translation>
    </message>
    <message>
        <source>block {0}</source>
        <translation>第 {0} 块</translation>
    </message>
    <message>
        <source>Switch off head {0} of block {1} ({2})</source>
        <translation>关闭第 {1} 块的第 {0} 个注意力头（{2}）</translation>
    </message>
    <message>
        <source>no heads</source>
        <translation>无注意力头</translation>
    </message>
    <message>
        <source>&lt;b&gt;ablated: {0}&lt;/b&gt; — every panel now shows the model without these heads.</source>
        <translation>&lt;b&gt;已消融：{0}&lt;/b&gt; — 所有面板现在显示的是去掉这些注意力头的模型。</translation>
    </message>
    <message>
        <source>No head ablated: the panels show the intact model.</source>
        <translation>未消融任何注意力头：各面板显示的是完整模型。</translation>
    </message>
    <message>
        <source>Could not apply the ablation: {0}</source>
        <translation>无法应用消融：{0}</translation>
    </message>
    <message>
        <source>&lt;b&gt;Next-token guesses after the last position ({0})&lt;/b&gt;: intact model (blue) vs. with {1} switched off (orange); top {2} of each.</source>
        <translation>&lt;b&gt;最后一个位置（{0}）之后的下一个词元预测&lt;/b&gt;：完整模型（蓝色）对比关闭 {1} 后（橙色）；各取前 {2} 个。</translation>
    </message>
    <message>
        <source>No tokenized corpus yet: open a text (or start training) so there is a validation set to measure on.</source>
        <translation>还没有分词后的语料：请打开一个文本（或开始训练），这样才有可供测量的验证集。</translation>
    </message>
    <message>
        <source>Measuring the validation loss with and without {0}…</source>
        <translation>正在测量有无 {0} 时的验证损失…</translation>
    </message>
    <message>
        <source>Could not measure: {0}</source>
        <translation>无法测量：{0}</translation>
    </message>
    <message>
        <source>Validation loss (10 batches × 8 windows, seed 0): intact &lt;b&gt;{0:.4f}&lt;/b&gt; → without {1} &lt;b&gt;{2:.4f}&lt;/b&gt;, change &lt;b style=&apos;color:{3}&apos;&gt;{4:+.4f}&lt;/b&gt; ({5:+.1f}%)</source>
        <translation>验证损失（10 个批次 × 8 个窗口，随机种子 0）：完整模型 &lt;b&gt;{0:.4f}&lt;/b&gt; → 去掉 {1} 后 &lt;b&gt;{2:.4f}&lt;/b&gt;，变化 &lt;b style=&apos;color:{3}&apos;&gt;{4:+.4f}&lt;/b&gt;（{5:+.1f}%）</translation>
    </message>
</context>
<context>
    <name>InsightsPanel</name>
    <message>
        <source>No model yet: open or train a model and type a context to look inside its predictions.</source>
        <translation>还没有模型：请打开或训练一个模型，并输入上下文，即可查看其预测的内部过程。</translation>
    </message>
    <message>
        <source>Logit lens</source>
        <translation>逻辑透镜</translation>
    </message>
    <message>
        <source>Head ablation</source>
        <translation>注意力头消融</translation>
    </message>
    <message>
        <source>Per-token loss</source>
        <translation>逐词元损失</translation>
    </message>
</context>
<context>
    <name>LensView</name>
    <message>
        <source>Position:</source>
        <translation>位置：</translation>
    </message>
    <message>
        <source>No trace yet: type a context to see the lens.</source>
        <translation>还没有追踪结果：输入上下文即可查看逻辑透镜。</translation>
    </message>
    <message>
        <source>The lens cannot read this trace: {0}</source>
        <translation>逻辑透镜无法读取此追踪：{0}</translation>
    </message>
    <message>
        <source>Reading the residual stream at every depth…</source>
        <translation>正在读取每一层深度的残差流…</translation>
    </message>
    <message>
        <source>guess {0}</source>
        <translation>预测 {0}</translation>
    </message>
    <message>
        <source>{0}: id {1}, piece &apos;{2}&apos;, p = {3:.6f}</source>
        <translation>{0}：id {1}，片段“{2}”，p = {3:.6f}</translation>
    </message>
    <message>
        <source>the next token is &apos;{0}&apos; (✓)</source>
        <translation>下一个词元是“{0}”（✓）</translation>
    </message>
    <message>
        <source>the last position: its guess is what generation would sample from</source>
        <translation>这是最后一个位置：它的预测就是生成时采样所依据的分布</translation>
    </message>
    <message>
        <source>&lt;b&gt;What the model would predict after position {0} (&apos;{1}&apos;)&lt;/b&gt;, read from the residual stream after the embedding and after each block; &lt;b&gt;final&lt;/b&gt; is the model&apos;s real prediction. Here {2}.</source>
        <translation>&lt;b&gt;模型在位置 {0}（“{1}”）之后会预测什么&lt;/b&gt;，从嵌入之后以及每个块之后的残差流中读出；&lt;b&gt;最终&lt;/b&gt;一行是模型真正的预测。此处{2}。</translation>
    </message>
    <message>
        <source>embed</source>
        <translation>嵌入</translation>
    </message>
    <message>
        <source>final</source>
        <translation>最终</translation>
    </message>
    <message>
        <source>block {0}</source>
        <translation>第 {0} 块</translation>
    </message>
    <message>
        <source>Cell colour: probability (white 0 → blue 1).</source>
        <translation>单元格颜色：概率（白 0 → 蓝 1）。</translation>
    </message>
    <message>
        <source>Heads ablated in this trace: {0}.</source>
        <translation>此追踪中已消融的注意力头：{0}。</translation>
    </message>
    <message>
        <source>⚠ The trace comes from other weights than the current model (e.g. a training snapshot); the lens decodes it with the current model&apos;s final layer, so its rows are only approximate.</source>
        <translation>⚠ 此追踪来自与当前模型不同的权重（例如训练快照）；逻辑透镜用当前模型的最后一层来解码，所以各行只是近似值。</translation>
    </message>
</context>
<context>
    <name>LossView</name>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>target token (position)</source>
        <translation>目标词元（位置）</translation>
    </message>
    <message>
        <source>uniform guess</source>
        <translation>均匀猜测</translation>
    </message>
    <message>
        <source>&lt;b&gt;How surprised the current model is by each token of the context&lt;/b&gt;: the loss of predicting it from the tokens before it (green: expected, red: surprising). Hover a token for its loss and target.</source>
        <translation>&lt;b&gt;当前模型对上下文中每个词元有多意外&lt;/b&gt;：即根据它之前的词元预测它的损失（绿色：意料之中，红色：出乎意料）。将鼠标悬停在词元上可查看其损失和目标。</translation>
    </message>
    <message>
        <source> Computed with every head on (the ablation applies to the trace only).</source>
        <translation> 计算时所有注意力头都处于打开状态（消融只作用于追踪）。</translation>
    </message>
    <message>
        <source>Colour scale: loss 0 → {0:.2f}. The black mark is ln(vocabulary) = {1:.2f}, the loss of a uniform guess over {2} tokens.</source>
        <translation>颜色刻度：损失 0 → {0:.2f}。黑色标记为 ln(词表大小) = {1:.2f}，即在 {2} 个词元上均匀猜测的损失。</translation>
    </message>
    <message>
        <source>Mean loss {0:.4f} over {1} predictions · most surprising: &apos;{2}&apos; at position {3} (loss {4:.3f})</source>
        <translation>{1} 次预测的平均损失 {0:.4f} · 最出乎意料的：位置 {3} 的“{2}”（损失 {4:.3f}）</translation>
    </message>
    <message>
        <source>Per-token loss needs a context of at least 2 tokens.</source>
        <translation>逐词元损失需要至少包含 2 个词元的上下文。</translation>
    </message>
    <message>
        <source>position 0 &apos;{0}&apos;: the first token, nothing predicts it</source>
        <translation>位置 0“{0}”：第一个词元，没有任何词元预测它</translation>
    </message>
    <message>
        <source>position {0}: target &apos;{1}&apos; (id {2}) predicted from tokens 0–{3}
loss = −ln p(target) = {4:.4f}   (p = {5:.4f})</source>
        <translation>位置 {0}：目标“{1}”（id {2}），由词元 0–{3} 预测
损失 = −ln p(目标) = {4:.4f}   (p = {5:.4f})</translation>
    </message>
</context>
</TS>
