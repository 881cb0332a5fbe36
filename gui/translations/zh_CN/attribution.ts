<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AttributionPanel</name>
    <message>
        <source>No model yet: open or train a model and type a context to ask why it predicts its next token.</source>
        <translation>还没有模型：打开或训练一个模型，再输入一段上下文，就可以问它为什么预测下一个词元。</translation>
    </message>
    <message>
        <source>Logit attribution</source>
        <translation>logit 归因</translation>
    </message>
    <message>
        <source>Input tokens</source>
        <translation>输入词元</translation>
    </message>
    <message>
        <source>Patching</source>
        <translation>激活修补</translation>
    </message>
    <message>
        <source>What training changed</source>
        <translation>训练改变了什么</translation>
    </message>
</context>
<context>
    <name>ChangesView</name>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>&lt;b&gt;What training changed:&lt;/b&gt; the context under two versions of the model, token by token, and the heads whose attention moved most.</source>
        <translation>&lt;b&gt;训练改变了什么：&lt;/b&gt;同一段上下文在模型两个版本下的表现，逐个词元比较，并找出注意力变化最大的头。</translation>
    </message>
    <message>
        <source>A and B are two versions of the same model: two snapshots from the training history, the model in the window, or a checkpoint file (for example before and after Continue training). The bars are the loss of each next token under A and B (lower: predicted better). The heatmap is how far each head&apos;s attention pattern moved: the Jensen–Shannon divergence between A&apos;s and B&apos;s attention rows, in bits (0: the same, 1: nothing in common), averaged over the positions.&lt;br&gt;&lt;br&gt;What it does not prove: one context is one sample; a token that improved here may be worse elsewhere. A head whose pattern moved did not necessarily change what it writes, and one that kept its pattern may have changed its values.</source>
        <translation>A 和 B 是同一个模型的两个版本：训练历史中的两个快照、窗口中的模型，或一个检查点文件（例如“继续训练”之前和之后）。柱子是 A 和 B 下每个下一词元的损失（越低，预测得越好）。热图是每个头的注意力模式移动了多远：A 与 B 的注意力行之间的 Jensen–Shannon 散度，单位为比特（0：相同，1：毫无共同之处），在各位置上取平均。&lt;br&gt;&lt;br&gt;它不能证明什么：一段上下文只是一个样本；在这里变好的词元，在别处可能变差。注意力模式变了的头，写入的内容不一定变了；模式没变的头，其值也可能变了。</translation>
    </message>
    <message>
        <source>A (before):</source>
        <translation>A（之前）：</translation>
    </message>
    <message>
        <source>B (after):</source>
        <translation>B（之后）：</translation>
    </message>
    <message>
        <source>block</source>
        <translation>块</translation>
    </message>
    <message>
        <source>head</source>
        <translation>头</translation>
    </message>
    <message>
        <source>the model in the window</source>
        <translation>窗口中的模型</translation>
    </message>
    <message>
        <source>snapshot at step {0}</source>
        <translation>第 {0} 步的快照</translation>
    </message>
    <message>
        <source>file: {0}</source>
        <translation>文件：{0}</translation>
    </message>
    <message>
        <source>a checkpoint file…</source>
        <translation>检查点文件…</translation>
    </message>
    <message>
        <source>Open a checkpoint of the same model</source>
        <translation>打开同一模型的检查点</translation>
    </message>
    <message>
        <source>Models (*.safetensors *.pt *.gguf);;All files (*)</source>
        <translation>模型 (*.safetensors *.pt *.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <source>comparing…</source>
        <translation>正在比较…</translation>
    </message>
    <message>
        <source>This session has no training history: train (or continue training), follow a run, or choose a checkpoint file as A.</source>
        <translation>本次会话没有训练历史：请训练（或继续训练）、跟踪一个训练运行，或选择一个检查点文件作为 A。</translation>
    </message>
    <message>
        <source>A and B are the same model: nothing changed between them.</source>
        <translation>A 和 B 是同一个模型：两者之间没有任何变化。</translation>
    </message>
    <message>
        <source>Could not compare: {0}</source>
        <translation>无法比较：{0}</translation>
    </message>
    <message>
        <source>Mean loss over the {0} predicted tokens: A &lt;b&gt;{1:.4f}&lt;/b&gt; → B &lt;b&gt;{2:.4f}&lt;/b&gt;.</source>
        <translation>{0} 个被预测词元的平均损失：A &lt;b&gt;{1:.4f}&lt;/b&gt; → B &lt;b&gt;{2:.4f}&lt;/b&gt;。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Improved most:&lt;/b&gt; {0}&lt;br&gt;&lt;b&gt;Worse most:&lt;/b&gt; {1}</source>
        <translation>&lt;b&gt;改善最多：&lt;/b&gt;{0}&lt;br&gt;&lt;b&gt;变差最多：&lt;/b&gt;{1}</translation>
    </message>
    <message>
        <source>block {0}</source>
        <translation>第 {0} 块</translation>
    </message>
    <message>
        <source>How far each head&apos;s attention moved (bits)</source>
        <translation>每个头的注意力移动了多远（比特）</translation>
    </message>
</context>
<context>
    <name>Explanation</name>
    <message>
        <source>Less</source>
        <translation>收起</translation>
    </message>
    <message>
        <source>More</source>
        <translation>更多</translation>
    </message>
    <message>
        <source>What this method shows, and what it does not prove</source>
        <translation>这种方法显示了什么，又不能证明什么</translation>
    </message>
</context>
<context>
    <name>ExportRow</name>
    <message>
        <source>Export:</source>
        <translation>导出：</translation>
    </message>
    <message>
        <source>The numbers shown, as a CSV table</source>
        <translation>显示的数字，保存为 CSV 表格</translation>
    </message>
    <message>
        <source>The picture, as a PNG image</source>
        <translation>图片，保存为 PNG 图像</translation>
    </message>
    <message>
        <source>The picture, as an SVG drawing</source>
        <translation>图片，保存为 SVG 矢量图</translation>
    </message>
    <message>
        <source>CSV table (*.csv)</source>
        <translation>CSV 表格 (*.csv)</translation>
    </message>
    <message>
        <source>Saving the table failed.</source>
        <translation>保存表格失败。</translation>
    </message>
    <message>
        <source>Saving the picture failed.</source>
        <translation>保存图片失败。</translation>
    </message>
    <message>
        <source>Save the attribution</source>
        <translation>保存归因结果</translation>
    </message>
</context>
<context>
    <name>InputView</name>
    <message>
        <source>share of the score</source>
        <translation>在得分中的份额</translation>
    </message>
    <message>
        <source>&lt;b&gt;Which earlier token mattered:&lt;/b&gt; each token&apos;s share of the target&apos;s score, by gradient × input and by integrated gradients.</source>
        <translation>&lt;b&gt;哪个前面的词元起了作用：&lt;/b&gt;每个词元在目标得分中所占的份额，分别用梯度 × 输入和积分梯度计算。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Gradient × input&lt;/b&gt; multiplies each token&apos;s vector by how fast the score changes with it: a first guess, exact only for a model that is a straight line. &lt;b&gt;Integrated gradients&lt;/b&gt; walk in n steps from a neutral input (the average token at every position, the positions kept) to the real one and add up the gradients on the way, so the shares add up to the score&apos;s change from that baseline (the check). Red tokens push the target up, blue ones down.&lt;br&gt;&lt;br&gt;What it does not prove: that the model reads a token the way a person would, or that removing the token would change the answer by that much. Another baseline gives other numbers, and a share is about the token&apos;s vector, not its meaning.</source>
        <translation>&lt;b&gt;梯度 × 输入&lt;/b&gt;把每个词元的向量乘以得分随它变化的快慢：这是一阶的估计，只有当模型是一条直线时才精确。&lt;b&gt;积分梯度&lt;/b&gt;从一个中性的输入（每个位置都放平均词元，位置保持不变）分 n 步走到真实输入，把沿途的梯度累加起来，因此各份额加起来正好等于得分相对这个基线的变化（即校验）。红色词元把目标推高，蓝色的把它压低。&lt;br&gt;&lt;br&gt;它不能证明什么：模型像人一样读懂了这个词元，或者去掉这个词元答案就会改变这么多。换一个基线会得到别的数字，而且份额说的是词元的向量，不是它的含义。</translation>
    </message>
    <message>
        <source>Integrated gradients&apos; steps n:</source>
        <translation>积分梯度的步数 n：</translation>
    </message>
    <message>
        <source>Points taken on the path from the baseline to the input; more steps, smaller completeness error</source>
        <translation>在从基线到输入的路径上取的点数；步数越多，完备性误差越小</translation>
    </message>
    <message>
        <source>gradient × input</source>
        <translation>梯度 × 输入</translation>
    </message>
    <message>
        <source>integrated gradients</source>
        <translation>积分梯度</translation>
    </message>
    <message>
        <source>computing…</source>
        <translation>正在计算…</translation>
    </message>
    <message>
        <source>Could not attribute: {0}</source>
        <translation>无法归因：{0}</translation>
    </message>
    <message>
        <source>The score of {0} after position {1}: &lt;b&gt;{2:.4f}&lt;/b&gt;; with the average token everywhere (the baseline): {3:.4f}.</source>
        <translation>位置 {1} 之后 {0} 的得分：&lt;b&gt;{2:.4f}&lt;/b&gt;；每个位置都换成平均词元（基线）时：{3:.4f}。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Gradient × input&lt;/b&gt; (sum {0:.4f})</source>
        <translation>&lt;b&gt;梯度 × 输入&lt;/b&gt;（总和 {0:.4f}）</translation>
    </message>
    <message>
        <source>&lt;b&gt;Integrated gradients&lt;/b&gt;, {0} steps (sum {1:.4f})</source>
        <translation>&lt;b&gt;积分梯度&lt;/b&gt;，{0} 步（总和 {1:.4f}）</translation>
    </message>
    <message>
        <source>position {0} {1}: {2:.6g}</source>
        <translation>位置 {0} {1}：{2:.6g}</translation>
    </message>
    <message>
        <source>✓ Completeness holds — the integrated gradients add up to {0:.4f}, the score&apos;s change from the baseline is {1:.4f}: difference {2:.1e} (tolerance {3:.1e} at n = {4}).</source>
        <translation>✓ 完备性成立 — 积分梯度之和为 {0:.4f}，得分相对基线的变化为 {1:.4f}：差值 {2:.1e}（n = {4} 时容差 {3:.1e}）。</translation>
    </message>
    <message>
        <source>✗ Completeness FAILS — the integrated gradients add up to {0:.4f}, the score&apos;s change from the baseline is {1:.4f}: difference {2:.1e} exceeds the tolerance {3:.1e} at n = {4}. More steps make it smaller.</source>
        <translation>✗ 完备性不成立 — 积分梯度之和为 {0:.4f}，得分相对基线的变化为 {1:.4f}：差值 {2:.1e} 超过了 n = {4} 时的容差 {3:.1e}。增加步数可以减小它。</translation>
    </message>
</context>
<context>
    <name>LogitView</name>
    <message>
        <source>&lt;b&gt;Direct logit attribution:&lt;/b&gt; how much of the target&apos;s logit each head and each MLP wrote straight into the residual stream.</source>
        <translation>&lt;b&gt;直接 logit 归因：&lt;/b&gt;目标的 logit 中，有多少是每个头、每个 MLP 直接写进残差流的。</translation>
    </message>
    <message>
        <source>The residual stream at this position is a sum of what the embeddings, every head and every MLP wrote into it. Each part is carried through the norms that follow it, their scales frozen at the values the real forward computed, and read by the target&apos;s row of the output matrix, so the parts add up exactly to the logit (the check below). Red cells push the target up, blue ones push it down.&lt;br&gt;&lt;br&gt;What it does not prove: that a part matters. A part also acts through the layers after it (a head can write something a later head reads), and the frozen scales hide how the norms would change if a part were gone. To ask what happens without a part, switch it off (Looking inside → Head ablation) or patch it.</source>
        <translation>这个位置的残差流，是嵌入、每个头和每个 MLP 写入内容的总和。每一部分都穿过它后面的归一化层（其缩放冻结在真实前向计算出的值上），再由输出矩阵中目标那一行读出，因此各部分加起来正好等于 logit（见下面的校验）。红色格子把目标推高，蓝色的把它压低。&lt;br&gt;&lt;br&gt;它不能证明什么：某一部分真的重要。一个部分还会通过它后面的层起作用（一个头写下的东西可能被后面的头读取），而冻结的缩放也掩盖了：如果去掉这部分，归一化会怎样变化。想知道没有某部分会怎样，就把它关掉（“模型内部 → 注意力头消融”）或对它做激活修补。</translation>
    </message>
    <message>
        <source>block</source>
        <translation>块</translation>
    </message>
    <message>
        <source>head (and the MLP)</source>
        <translation>头（以及 MLP）</translation>
    </message>
    <message>
        <source>part</source>
        <translation>部分</translation>
    </message>
    <message>
        <source>share of the logit</source>
        <translation>在 logit 中的份额</translation>
    </message>
    <message>
        <source>% of the logit</source>
        <translation>占 logit 的 %</translation>
    </message>
    <message>
        <source>Could not attribute: {0}</source>
        <translation>无法归因：{0}</translation>
    </message>
    <message>
        <source>block {0}</source>
        <translation>第 {0} 块</translation>
    </message>
    <message>
        <source>The logit of {0} after position {1}: &lt;b&gt;{2:.4f}&lt;/b&gt;</source>
        <translation>位置 {1} 之后 {0} 的 logit：&lt;b&gt;{2:.4f}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>The logit difference {0} after position {1}: &lt;b&gt;{2:.4f}&lt;/b&gt;</source>
        <translation>位置 {1} 之后的 logit 差 {0}：&lt;b&gt;{2:.4f}&lt;/b&gt;</translation>
    </message>
    <message>
        <source> (before the final soft cap; after it: {0:.4f})</source>
        <translation>（最终软上限之前；之后为 {0:.4f}）</translation>
    </message>
    <message>
        <source>✓ Check passed — the {0} parts add up to {1:.6f}; the real logit is {2:.6f}: difference {3:.1e} (tolerance {4:.0e}, float64).</source>
        <translation>✓ 校验通过 — {0} 个部分之和为 {1:.6f}；真实的 logit 为 {2:.6f}：差值 {3:.1e}（容差 {4:.0e}，float64）。</translation>
    </message>
    <message>
        <source>✗ Check FAILED — the {0} parts add up to {1:.6f}, but the real logit is {2:.6f}: difference {3:.1e} exceeds the tolerance {4:.0e}.</source>
        <translation>✗ 校验失败 — {0} 个部分之和为 {1:.6f}，但真实的 logit 为 {2:.6f}：差值 {3:.1e} 超过了容差 {4:.0e}。</translation>
    </message>
    <message>
        <source>embeddings</source>
        <translation>嵌入</translation>
    </message>
    <message>
        <source>biases and β</source>
        <translation>偏置与 β</translation>
    </message>
    <message>
        <source>“{0}” in the JSON and CSV</source>
        <translation>JSON 和 CSV 中的名称：“{0}”</translation>
    </message>
</context>
<context>
    <name>PatchingView</name>
    <message>
        <source>&lt;b&gt;Activation patching:&lt;/b&gt; run a corrupted prompt, copy in one activation from the clean prompt, and see how much of the clean answer comes back.</source>
        <translation>&lt;b&gt;激活修补：&lt;/b&gt;运行被破坏的提示，从干净提示中复制进一个激活，看干净的答案能恢复多少。</translation>
    </message>
    <message>
        <source>The score is the logit difference target − foil at the position: the target is the clean prompt&apos;s top guess, the foil the corrupted prompt&apos;s (or the tokens chosen above). Restored = (patched − corrupted) / (clean − corrupted): 1 (red) brings the whole clean score back, 0 (white) nothing, below 0 (blue) pushes the other way. The residual stream is patched at one layer and one position, a head or an MLP at every position.&lt;br&gt;&lt;br&gt;What it does not prove: one patch at a time misses parts that only matter together, or that back each other up; and the answer depends on the corrupted prompt you chose: another word asks another question.</source>
        <translation>得分是该位置上的 logit 差：目标 − 对照。目标是干净提示的首选猜测，对照是被破坏提示的首选（或上面选定的词元）。恢复比例 = (修补后 − 被破坏) / (干净 − 被破坏)：1（红）表示干净的得分全部回来了，0（白）表示没有恢复，小于 0（蓝）表示推向了另一边。残差流按某一层、某一位置修补；头或 MLP 则在所有位置上修补。&lt;br&gt;&lt;br&gt;它不能证明什么：一次只修补一处，会漏掉只有一起才起作用、或互为备份的部分；而且答案取决于你选的被破坏提示：换一个词，问的就是另一个问题。</translation>
    </message>
    <message>
        <source>Corrupted prompt:</source>
        <translation>被破坏的提示：</translation>
    </message>
    <message>
        <source>the context with one word changed</source>
        <translation>把上下文中的一个词换掉</translation>
    </message>
    <message>
        <source>Replace</source>
        <translation>替换</translation>
    </message>
    <message>
        <source>with</source>
        <translation>为</translation>
    </message>
    <message>
        <source>word</source>
        <translation>词</translation>
    </message>
    <message>
        <source>another word</source>
        <translation>另一个词</translation>
    </message>
    <message>
        <source>Make the corrupted prompt: the context with every such word replaced</source>
        <translation>生成被破坏的提示：把上下文中每个这样的词都替换掉</translation>
    </message>
    <message>
        <source>Residual stream (layer × position)</source>
        <translation>残差流（层 × 位置）</translation>
    </message>
    <message>
        <source>Attention heads (layer × head)</source>
        <translation>注意力头（层 × 头）</translation>
    </message>
    <message>
        <source>MLPs (layer)</source>
        <translation>MLP（层）</translation>
    </message>
    <message>
        <source>Run patching</source>
        <translation>运行修补</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>The context has no “{0}” to replace.</source>
        <translation>上下文中没有可替换的“{0}”。</translation>
    </message>
    <message>
        <source>Clean prompt (the context): {0}</source>
        <translation>干净的提示（即上下文）：{0}</translation>
    </message>
    <message>
        <source>✗ The corrupted prompt has {0} tokens, the clean one {1}: patching needs the same number of tokens.</source>
        <translation>✗ 被破坏的提示有 {0} 个词元，干净的有 {1} 个：修补需要两者词元数相同。</translation>
    </message>
    <message>
        <source>The prompts are the same ({0} tokens): there is nothing to restore, so every patch must give 0 (a check). Change a word to ask a question.</source>
        <translation>两个提示相同（{0} 个词元）：没有什么可恢复的，所以每处修补都必须得到 0（这是一项校验）。换掉一个词才能提出问题。</translation>
    </message>
    <message>
        <source>Both prompts have {0} tokens.</source>
        <translation>两个提示都有 {0} 个词元。</translation>
    </message>
    <message>
        <source>Patching… (Cancel stops after the current batch)</source>
        <translation>正在修补…（“取消”会在当前批次结束后停止）</translation>
    </message>
    <message>
        <source>Cancelled: nothing was patched to the end.</source>
        <translation>已取消：没有完成修补。</translation>
    </message>
    <message>
        <source>Could not patch: {0}</source>
        <translation>无法修补：{0}</translation>
    </message>
    <message>
        <source>Type or make a corrupted prompt, then Run.</source>
        <translation>输入或生成一个被破坏的提示，然后运行。</translation>
    </message>
    <message>
        <source>Target {0} versus foil {1} after position {2}: clean {3:.4f}, corrupted {4:.4f}.</source>
        <translation>位置 {2} 之后，目标 {0} 对比对照 {1}：干净 {3:.4f}，被破坏 {4:.4f}。</translation>
    </message>
    <message>
        <source>block {0}</source>
        <translation>第 {0} 块</translation>
    </message>
    <message>
        <source>after block {0}</source>
        <translation>第 {0} 块之后</translation>
    </message>
    <message>
        <source>embeddings</source>
        <translation>嵌入</translation>
    </message>
    <message>
        <source>residual stream</source>
        <translation>残差流</translation>
    </message>
    <message>
        <source>position</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>block</source>
        <translation>块</translation>
    </message>
    <message>
        <source>head</source>
        <translation>头</translation>
    </message>
    <message>
        <source>the clean prompt against itself restores at most {0:.4f} (0 expected)</source>
        <translation>干净提示对它自己修补，最多恢复 {0:.4f}（应为 0）</translation>
    </message>
    <message>
        <source>patching nothing restores {0:.4f} (0 expected)</source>
        <translation>什么都不修补，恢复 {0:.4f}（应为 0）</translation>
    </message>
    <message>
        <source>patching everything restores {0:.4f} (1 expected)</source>
        <translation>全部修补，恢复 {0:.4f}（应为 1）</translation>
    </message>
    <message>
        <source>patching a whole layer restores {0:.4f} (1 expected)</source>
        <translation>修补一整层，恢复 {0:.4f}（应为 1）</translation>
    </message>
    <message>
        <source>Checks: {0}</source>
        <translation>校验：{0}</translation>
    </message>
    <message>
        <source>; </source>
        <translation>；</translation>
    </message>
</context>
<context>
    <name>TargetBar</name>
    <message>
        <source>Position:</source>
        <translation>位置：</translation>
    </message>
    <message>
        <source>The position whose next-token logit is explained (the last one by default)</source>
        <translation>要解释其下一词元 logit 的位置（默认为最后一个）</translation>
    </message>
    <message>
        <source>Target:</source>
        <translation>目标：</translation>
    </message>
    <message>
        <source>The token whose logit is split (the model&apos;s top guesses at this position, most likely first)</source>
        <translation>要拆分其 logit 的词元（模型在这个位置的首选猜测，最可能的在前）</translation>
    </message>
    <message>
        <source>versus</source>
        <translation>对比</translation>
    </message>
    <message>
        <source>Explain the logit difference target − this token instead of the target&apos;s logit alone</source>
        <translation>解释 logit 差“目标 − 这个词元”，而不只是目标的 logit</translation>
    </message>
    <message>
        <source>{0}  {1:.1%}</source>
        <translation>{0}  {1:.1%}</translation>
    </message>
</context>
</TS>
