<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ProcessWorker</name>
    <message>
        <source>The training process ended unexpectedly (exit code {code}); the weights shown are the last ones it sent.</source>
        <translation>训练进程意外结束（退出码 {code}）；显示的是它最后发送的权重。</translation>
    </message>
</context>
<context>
    <name>RunController</name>
    <message>
        <source>Training finished after {steps} steps.</source>
        <translation>训练完成，共 {steps} 步。</translation>
    </message>
    <message>
        <source>Training stopped at step {steps}; the weights so far are kept.</source>
        <translation>训练在第 {steps} 步停止；已保留目前的权重。</translation>
    </message>
    <message>
        <source>Training diverged at step {steps}; the last good weights are kept.</source>
        <translation>训练在第 {steps} 步发散；已保留最后一组正常的权重。</translation>
    </message>
    <message>
        <source>Training failed at step {steps}; the last good weights are kept.</source>
        <translation>训练在第 {steps} 步失败；已保留最后一组正常的权重。</translation>
    </message>
    <message>
        <source>Validation loss was lowest at step {step} ({loss}): you can keep those weights instead.</source>
        <translation>验证损失在第 {step} 步最低（{loss}）：也可以改为保留那组权重。</translation>
    </message>
    <message>
        <source>Save it with File → Save model (Ctrl+S).</source>
        <translation>可用 文件 → 保存模型（Ctrl+S）保存。</translation>
    </message>
    <message>
        <source>Kept the best weights (step {step}, validation loss {loss}); Save saves these.</source>
        <translation>已保留最佳权重（第 {step} 步，验证损失 {loss}）；“保存”将保存这组权重。</translation>
    </message>
    <message>
        <source>Kept the last weights (step {step}); Save saves these.</source>
        <translation>已保留最后的权重（第 {step} 步）；“保存”将保存这组权重。</translation>
    </message>
    <message>
        <source>Training paused at step {step}</source>
        <translation>训练已在第 {step} 步暂停</translation>
    </message>
    <message>
        <source>Training on {device}</source>
        <translation>正在 {device} 上训练</translation>
    </message>
    <message>
        <source>Tokenizing {path} with {tokenizer}…</source>
        <translation>正在用 {tokenizer} 对 {path} 分词…</translation>
    </message>
    <message>
        <source>Writing the run folder {path} failed ({reason}); training goes on without it.</source>
        <translation>写入运行文件夹 {path} 失败（{reason}）；训练将继续，但不再写入该文件夹。</translation>
    </message>
    <message>
        <source>This run is not written to disk ({reason}); File → Open run cannot open it later.</source>
        <translation>本次运行未写入磁盘（{reason}）；之后无法用“文件 → 打开运行”打开它。</translation>
    </message>
</context>
<context>
    <name>RunFollower</name>
    <message>
        <source>{n} bad record lines</source>
        <translation>{n} 行损坏的记录</translation>
    </message>
    <message>
        <source>{n} bad snapshots</source>
        <translation>{n} 个损坏的快照</translation>
    </message>
    <message>
        <source>{names} not regular files (never opened)</source>
        <translation>{names} 不是普通文件（从未打开）</translation>
    </message>
    <message>
        <source>Skipped: {what}.</source>
        <translation>已跳过：{what}。</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>diverged</source>
        <translation>已发散</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Run {name} has ended ({outcome}) at step {step}; following stopped.</source>
        <translation>运行 {name} 已在第 {step} 步结束（{outcome}）；已停止跟踪。</translation>
    </message>
    <message>
        <source>Run {name}: no new records for a minute; it may have stopped without ending. Still watching.</source>
        <translation>运行 {name}：一分钟内没有新记录；它可能未正常结束就停止了。仍在继续观察。</translation>
    </message>
    <message>
        <source>Following run {name}: {records} records, no snapshots yet. The loss curves are the run&apos;s; the other panels keep the model shown before until its first snapshot arrives.</source>
        <translation>正在跟踪运行 {name}：{records} 条记录，尚无快照。损失曲线来自该运行；在它的第一个快照到达之前，其他面板仍显示之前的模型。</translation>
    </message>
    <message>
        <source>Following run {name}: step {step}, {records} records, {snapshots} snapshots; the panels show step {shown}.</source>
        <translation>正在跟踪运行 {name}：第 {step} 步，{records} 条记录，{snapshots} 个快照；各面板显示第 {shown} 步。</translation>
    </message>
    <message>
        <source>run {name} (ended)</source>
        <translation>运行 {name}（已结束）</translation>
    </message>
    <message>
        <source>following run {name}</source>
        <translation>正在跟踪运行 {name}</translation>
    </message>
</context>
<context>
    <name>RunProgress</name>
    <message>
        <source>Not training.</source>
        <translation>未在训练。</translation>
    </message>
    <message>
        <source>tokenizing {percent}%</source>
        <translation>分词中 {percent}%</translation>
    </message>
    <message>
        <source>%v / %m steps</source>
        <translation>%v / %m 步</translation>
    </message>
    <message>
        <source>step {step} / {total} · loss {loss} · {speed} tokens/s · ETA {eta}</source>
        <translation>第 {step} / {total} 步 · 损失 {loss} · {speed} 词元/秒 · 预计剩余 {eta}</translation>
    </message>
</context>
<context>
    <name>SampleView</name>
    <message>
        <source>Text generated from the context at each evaluation.</source>
        <translation>每次评估时，从上下文接着生成的文字。</translation>
    </message>
    <message>
        <source>step {step}, continuing the context:</source>
        <translation>第 {step} 步，接着上下文生成：</translation>
    </message>
    <message>
        <source>No sample: {error}</source>
        <translation>没有样例：{error}</translation>
    </message>
</context>
<context>
    <name>TrainingForm</name>
    <message>
        <source>width of every token vector</source>
        <translation>每个词元向量的宽度</translation>
    </message>
    <message>
        <source>heads</source>
        <translation>注意力头数</translation>
    </message>
    <message>
        <source>attention heads; d_model must divide by it</source>
        <translation>注意力头的数量；d_model 必须能被它整除</translation>
    </message>
    <message>
        <source>layers</source>
        <translation>层数</translation>
    </message>
    <message>
        <source>transformer blocks stacked</source>
        <translation>堆叠的 Transformer 块数</translation>
    </message>
    <message>
        <source>context</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <source>tokens the model sees (T)</source>
        <translation>模型一次看到的词元数（T）</translation>
    </message>
    <message>
        <source>hidden width of the feed-forward network</source>
        <translation>前馈网络隐藏层的宽度</translation>
    </message>
    <message>
        <source>dropout</source>
        <translation>丢弃率</translation>
    </message>
    <message>
        <source>dropout while training</source>
        <translation>训练时的丢弃率（dropout）</translation>
    </message>
    <message>
        <source>positional</source>
        <translation>位置编码</translation>
    </message>
    <message>
        <source>norm</source>
        <translation>归一化</translation>
    </message>
    <message>
        <source>activation</source>
        <translation>激活函数</translation>
    </message>
    <message>
        <source>GPT (the articles)</source>
        <translation>GPT（文章中的模型）</translation>
    </message>
    <message>
        <source>GPT: the articles&apos; model, its parts chosen below. GPT-2: pre-norm, learned positions, GELU, tied. Llama: RMSNorm, rotary positions, SwiGLU, no biases, grouped K/V heads</source>
        <translation>GPT：文章中的模型，各部分在下方选择。GPT-2：前置归一化、可学习位置、GELU、共享词表。Llama：RMSNorm、旋转位置编码、SwiGLU、无偏置、分组 K/V 头</translation>
    </message>
    <message>
        <source>key/value heads, each shared by a group of query heads (grouped-query attention); heads must divide by it</source>
        <translation>键/值头数，每个由一组查询头共享（分组查询注意力）；头数必须能被它整除</translation>
    </message>
    <message>
        <source>sinusoidal</source>
        <translation>正弦</translation>
    </message>
    <message>
        <source>learned</source>
        <translation>可学习</translation>
    </message>
    <message>
        <source>pre</source>
        <translation>前置（pre）</translation>
    </message>
    <message>
        <source>post</source>
        <translation>后置（post）</translation>
    </message>
    <message>
        <source>batch</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>windows per step (B)</source>
        <translation>每步的窗口数（B）</translation>
    </message>
    <message>
        <source>steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>optimizer steps in total</source>
        <translation>优化器总步数</translation>
    </message>
    <message>
        <source>learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>peak learning rate (cosine decay to lr/10)</source>
        <translation>峰值学习率（余弦衰减到 lr/10）</translation>
    </message>
    <message>
        <source>warm-up</source>
        <translation>预热步数</translation>
    </message>
    <message>
        <source>linear warm-up steps</source>
        <translation>线性预热的步数</translation>
    </message>
    <message>
        <source>eval every</source>
        <translation>评估间隔</translation>
    </message>
    <message>
        <source>steps between evaluations and samples</source>
        <translation>两次评估（及生成样例）之间的步数</translation>
    </message>
    <message>
        <source>seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>same seed, same run</source>
        <translation>种子相同，训练过程就相同</translation>
    </message>
    <message>
        <source>Continue training the current model (steps = more steps)</source>
        <translation>接着训练当前模型（步数 = 再训练的步数）</translation>
    </message>
    <message>
        <source>Keep training the model shown on the open text: from its saved optimizer state and step when it has them, otherwise (a nanoGPT or Hugging Face model) fine-tuning its weights with a new optimizer. Its architecture and tokenizer stay; the training settings apply from here on.</source>
        <translation>在打开的文本上继续训练当前显示的模型：若模型保存了优化器状态和步数，就从那里精确接着训练；否则（nanoGPT 或 Hugging Face 模型）用新的优化器微调它的权重。模型结构和分词器保持不变；训练设置从现在起生效。</translation>
    </message>
    <message>
        <source>Available after a training run, or for a model file saved after training (it holds the optimizer state). A new model, or one saved without that state such as the bundled model, starts with Start.</source>
        <translation>训练结束后可用，或用于训练后保存的模型文件（其中含有优化器状态）。新模型，或不含该状态的模型（例如内置模型），请用“开始”训练。</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>tokenizer</source>
        <translation>分词器</translation>
    </message>
    <message>
        <source>architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <source>K/V heads</source>
        <translation>K/V 头数</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Open a text file (File → Open text…) to train on.</source>
        <translation>请打开一个文本文件（文件 → 打开文本…）作为训练文本。</translation>
    </message>
    <message>
        <source>This text has {tokens} tokens for {params} parameters: expect overfitting. A longer text would help.</source>
        <translation>这段文本只有 {tokens} 个词元，模型却有 {params} 个参数：很可能会过拟合。换一段更长的文本会有帮助。</translation>
    </message>
    <message>
        <source>This text has {tokens} tokens for {params} parameters: expect overfitting. Try dropout {dropout}, d_model {d_model} and {layers} layers (about {suggested} parameters).</source>
        <translation>这段文本只有 {tokens} 个词元，模型却有 {params} 个参数：很可能会过拟合。可以试试丢弃率 {dropout}、d_model {d_model}、{layers} 层（约 {suggested} 个参数）。</translation>
    </message>
    <message>
        <source>cl100k_base: GPT-4&apos;s BPE pieces (the articles&apos; choice); char: one token per character</source>
        <translation>cl100k_base：GPT-4 的 BPE 分词（文章中的选择）；char：每个字符一个词元</translation>
    </message>
    <message>
        <source>Only devices present on this machine are listed</source>
        <translation>只列出本机上存在的设备</translation>
    </message>
    <message>
        <source>CPU ({0} cores)</source>
        <translation>CPU（{0} 核）</translation>
    </message>
    <message>
        <source>tie token table and output layer</source>
        <translation>词嵌入表与输出层共享权重</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <source>Set the model to the suggested size and dropout</source>
        <translation>把模型设为建议的大小和丢弃率</translation>
    </message>
</context>
<context>
    <name>TrainingPanel</name>
    <message>
        <source>Pausing after this step…</source>
        <translation>本步结束后暂停…</translation>
    </message>
    <message>
        <source>Paused at step {step}. Resume or Stop.</source>
        <translation>已在第 {step} 步暂停。可以继续或停止。</translation>
    </message>
    <message>
        <source>Train a new model with these settings on the open text</source>
        <translation>用这些设置在打开的文本上训练一个新模型</translation>
    </message>
    <message>
        <source>Stop after the current step; the weights so far are kept</source>
        <translation>在当前步结束后停止；保留目前的权重</translation>
    </message>
    <message>
        <source>Sample at the last evaluation</source>
        <translation>最近一次评估时生成的样例</translation>
    </message>
    <message>
        <source>Validation loss was lowest at this evaluation: these weights generalise best. The session shows them and Save saves them, with their step and optimizer state.</source>
        <translation>这次评估时验证损失最低：这组权重的泛化能力最好。选中后界面显示这组权重，“保存”也保存它们，连同其步数和优化器状态。</translation>
    </message>
    <message>
        <source>The weights at the end of the run</source>
        <translation>训练结束时的权重</translation>
    </message>
    <message>
        <source>Continue</source>
        <translation>接着训练</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Starting the training process…</source>
        <translation>正在启动训练进程…</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>Following the run folder {0}</source>
        <translation>正在跟踪运行文件夹 {0}</translation>
    </message>
    <message>
        <source>This run&apos;s folder: {0} (File → Open run opens it again)</source>
        <translation>本次运行的文件夹：{0}（可用“文件 → 打开运行”再次打开）</translation>
    </message>
    <message>
        <source>Training {params} parameters on {device}…</source>
        <translation>正在 {device} 上训练 {params} 个参数…</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Training ended unexpectedly; the weights shown are the last ones it sent.</source>
        <translation>训练意外结束；显示的是它最后发送的权重。</translation>
    </message>
    <message>
        <source>Training could not start.</source>
        <translation>训练无法开始。</translation>
    </message>
    <message>
        <source>Starting training</source>
        <translation>启动训练</translation>
    </message>
    <message>
        <source>Keep the last weights (step {step})</source>
        <translation>保留最后的权重（第 {step} 步）</translation>
    </message>
    <message>
        <source>Keep the last weights (step {step}, val loss {loss})</source>
        <translation>保留最后的权重（第 {step} 步，验证损失 {loss}）</translation>
    </message>
    <message>
        <source>Keep the best weights (step {step}, val loss {loss})</source>
        <translation>保留最佳权重（第 {step} 步，验证损失 {loss}）</translation>
    </message>
</context>
<context>
    <name>TrainingPlots</name>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>tokens/s</source>
        <translation>词元/秒</translation>
    </message>
    <message>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>train (per step)</source>
        <translation>训练（每步）</translation>
    </message>
    <message>
        <source>train (smoothed)</source>
        <translation>训练（平滑）</translation>
    </message>
    <message>
        <source>validation</source>
        <translation>验证</translation>
    </message>
    <message>
        <source>Overfitting since step {step} ★</source>
        <translation>自第 {step} 步起过拟合 ★</translation>
    </message>
    <message>
        <source>Validation loss has risen for {n} evaluations since step {step}: the model is memorising the text (overfitting).</source>
        <translation>自第 {step} 步以来，验证损失已连续 {n} 次评估上升：模型在死记硬背这段文本（过拟合）。</translation>
    </message>
</context>
</TS>
