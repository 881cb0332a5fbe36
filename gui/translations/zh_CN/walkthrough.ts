<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ArticleMode</name>
    <message>
        <source>Article mode needs text: load a training corpus or type some context text.</source>
        <translation>文章模式需要文本：请加载训练语料或输入一些上下文文本。</translation>
    </message>
    <message>
        <source>Article mode: tracing 4 windows of 16 tokens…</source>
        <translation>文章模式：正在追踪 4 个长度为 16 的窗口…</translation>
    </message>
    <message>
        <source>Article mode: {err}</source>
        <translation>文章模式：{err}</translation>
    </message>
    <message>
        <source>Article mode: {b} windows of {t} tokens from the training text (seed {seed}). X is {x}, Q split into heads is {q}, the scores are {s}.</source>
        <translation>文章模式：来自训练文本的 {b} 个长度为 {t} 的窗口（种子 {seed}）。X 为 {x}，Q 拆分成多头后为 {q}，注意力分数为 {s}。</translation>
    </message>
    <message>
        <source>Article mode: {b} windows of {t} tokens from the context text (repeated) (seed {seed}). X is {x}, Q split into heads is {q}, the scores are {s}.</source>
        <translation>文章模式：来自上下文文本（重复）的 {b} 个长度为 {t} 的窗口（种子 {seed}）。X 为 {x}，Q 拆分成多头后为 {q}，注意力分数为 {s}。</translation>
    </message>
</context>
<context>
    <name>ModelMap</name>
    <message>
        <source>mask</source>
        <translation>掩码</translation>
    </message>
    <message>
        <source>activation</source>
        <translation>激活</translation>
    </message>
    <message>
        <source>positions</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Token ids</source>
        <translation>词元编号</translation>
    </message>
    <message>
        <source>Add (residual)</source>
        <translation>相加（残差）</translation>
    </message>
    <message>
        <source>Final LayerNorm</source>
        <translation>最终 LayerNorm</translation>
    </message>
    <message>
        <source>Attention</source>
        <translation>注意力</translation>
    </message>
    <message>
        <source>Feed-forward</source>
        <translation>前馈网络</translation>
    </message>
    <message>
        <source>Embedding</source>
        <translation>嵌入</translation>
    </message>
    <message>
        <source>Attn</source>
        <translation>注意</translation>
    </message>
    <message>
        <source>FFN</source>
        <translation>前馈</translation>
    </message>
    <message>
        <source>Block {0}</source>
        <translation>第 {0} 块</translation>
    </message>
</context>
<context>
    <name>SliceForm</name>
    <message>
        <source>batch entry</source>
        <translation>批次</translation>
    </message>
    <message>
        <source>head</source>
        <translation>头</translation>
    </message>
    <message>
        <source>decimals</source>
        <translation>小数位</translation>
    </message>
</context>
<context>
    <name>StepChecks</name>
    <message>
        <source>no model is loaded</source>
        <translation>尚未加载模型</translation>
    </message>
    <message>
        <source>Weights changed since this trace; the check runs again on the next trace.</source>
        <translation>此追踪之后权重已改变；下一次追踪时会重新校验。</translation>
    </message>
    <message>
        <source>Checking this step (recomputing it in float64)…</source>
        <translation>正在检验这一步（用 float64 重新计算）…</translation>
    </message>
    <message>
        <source>✗ Could not check this step: {err}</source>
        <translation>✗ 无法校验此步：{err}</translation>
    </message>
    <message>
        <source>✓ Check passed — {desc}. Max |difference| {diff} (tolerance {tol}).</source>
        <translation>✓ 校验通过 — {desc}。最大 |差值| {diff}（容差 {tol}）。</translation>
    </message>
    <message>
        <source>✗ Check FAILED — {desc}. Max |difference| {diff} exceeds the tolerance {tol}.</source>
        <translation>✗ 校验失败 — {desc}。最大 |差值| {diff} 超过容差 {tol}。</translation>
    </message>
</context>
<context>
    <name>StepExport</name>
    <message>
        <source>Exporting the step failed.</source>
        <translation>导出此步失败。</translation>
    </message>
    <message>
        <source>NumPy array (*.npy)</source>
        <translation>NumPy 数组 (*.npy)</translation>
    </message>
    <message>
        <source>PNG image (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <source>SVG drawing (*.svg)</source>
        <translation>SVG 矢量图 (*.svg)</translation>
    </message>
    <message>
        <source>Exporting the heatmap failed.</source>
        <translation>导出热力图失败。</translation>
    </message>
</context>
<context>
    <name>StepLabels</name>
    <message>
        <source>batch {b}, head {h}</source>
        <translation>批次 {b}，头 {h}</translation>
    </message>
    <message>
        <source>batch {b}</source>
        <translation>批次 {b}</translation>
    </message>
    <message>
        <source>head {h}</source>
        <translation>头 {h}</translation>
    </message>
    <message>
        <source>shown: {sel} → {matrix}</source>
        <translation>显示：{sel} → {matrix}</translation>
    </message>
</context>
<context>
    <name>StepOutline</name>
    <message>
        <source>Input · Embedding</source>
        <translation>输入 · 嵌入</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>Block {i}</source>
        <translation>第 {i} 块</translation>
    </message>
    <message>
        <source>trace name: {name}</source>
        <translation>追踪名称：{name}</translation>
    </message>
</context>
<context>
    <name>StepWords</name>
    <message>
        <source>The shapes in this explanation are the guide&apos;s worked example (Article mode: {batch} windows of {context} tokens). Here this step is {shape}.</source>
        <translation>这段讲解里的形状取自指南的示例（文章模式：{batch} 个窗口，每个 {context} 个词元）。此处这一步的形状是 {shape}。</translation>
    </message>
    <message>
        <source>weights: {w}</source>
        <translation>权重: {w}</translation>
    </message>
</context>
<context>
    <name>Toolbar</name>
    <message>
        <source>◀ Previous</source>
        <translation>◀ 上一步</translation>
    </message>
    <message>
        <source>Next ▶</source>
        <translation>下一步 ▶</translation>
    </message>
    <message>
        <source>Article mode</source>
        <translation>文章模式</translation>
    </message>
    <message>
        <source>Trace 4 windows of 16 tokens from the training text, as in the articles</source>
        <translation>像文章中那样，从训练文本中取 4 个长度为 16 的窗口进行追踪</translation>
    </message>
    <message>
        <source>Export step:</source>
        <translation>导出此步：</translation>
    </message>
    <message>
        <source>Heatmap:</source>
        <translation>热力图：</translation>
    </message>
    <message>
        <source>Step {i} of {n}</source>
        <translation>第 {i} 步，共 {n} 步</translation>
    </message>
</context>
<context>
    <name>ValuesView</name>
    <message>
        <source>— heatmap of rows 0–{0} of {1}; the table has them all</source>
        <translation>— 热力图只画出第 0–{0} 行（共 {1} 行）；表格中有全部数值</translation>
    </message>
</context>
<context>
    <name>WalkthroughPanel</name>
    <message>
        <source>No trace yet. Load or create a model and type some context text: every step of its forward pass will be listed here.</source>
        <translation>还没有追踪结果。加载或创建一个模型并输入一些上下文文本：前向传播的每一步都会列在这里。</translation>
    </message>
</context>
</TS>
