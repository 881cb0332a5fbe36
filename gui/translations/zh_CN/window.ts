<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>App</name>
    <message>
        <source>Loading the model…</source>
        <translation>正在载入模型…</translation>
    </message>
    <message>
        <source>Restored the model that was not saved; save it with File → Save model.</source>
        <translation>已恢复上次未保存的模型；请用 文件 → 保存模型 保存它。</translation>
    </message>
</context>
<context>
    <name>ContextBox</name>
    <message>
        <source>Type or paste the text to look at; every panel shows how the model processes it.</source>
        <translation>输入或粘贴要查看的文本；每个面板都会展示模型如何处理它。</translation>
    </message>
    <message>
        <source>The text every panel traces through the model</source>
        <translation>各面板送入模型进行追踪的文本</translation>
    </message>
    <message>
        <source>Type some text: the panels show how the model reads it.</source>
        <translation>请输入一些文本：各面板会展示模型如何读取它。</translation>
    </message>
    <message>
        <source>{0} tokens; the model reads the first {1} (context_length {2}).</source>
        <translation>{0} 个词元；模型读取前 {1} 个（context_length {2}）。</translation>
    </message>
    <message>
        <source>1 token (context_length {0}).</source>
        <translation>1 个词元（context_length {0}）。</translation>
    </message>
    <message>
        <source>{0} tokens (context_length {1}).</source>
        <translation>{0} 个词元（context_length {1}）。</translation>
    </message>
    <message>
        <source>{0} not in the model&apos;s vocabulary (shown as &lt;unk&gt;).</source>
        <translation>其中 {0} 个不在模型的词表中（显示为 &lt;unk&gt;）。</translation>
    </message>
    <message>
        <source>Could not trace this text: {0}</source>
        <translation>无法追踪此文本：{0}</translation>
    </message>
</context>
<context>
    <name>Documents</name>
    <message>
        <source>Text files (*.txt *.md *.csv *.tsv *.json *.log);;All files (*)</source>
        <translation>文本文件 (*.txt *.md *.csv *.tsv *.json *.log);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Models: Transformer Explorer, nanoGPT, Hugging Face, GGUF (*.safetensors *.pt *.bin *.gguf config.json);;All files (*)</source>
        <translation>模型：Transformer Explorer、nanoGPT、Hugging Face、GGUF (*.safetensors *.pt *.bin *.gguf config.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Vocabularies (meta.pkl vocab.json tokenizer.json);;All files (*)</source>
        <translation>词表 (meta.pkl vocab.json tokenizer.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>No bundled model at {0}: showing an untrained model on the default text. Press Start in the Training panel to train it.</source>
        <translation>{0} 处没有内置模型：现在显示的是默认文本上一个未训练的模型。在“训练”面板中按“开始”即可训练它。</translation>
    </message>
    <message>
        <source>Bundled resources not found in {0}; open a text file (Ctrl+O) to begin.</source>
        <translation>在 {0} 中找不到内置资源；请打开一个文本文件（Ctrl+O）开始。</translation>
    </message>
    <message>
        <source>Open a text file to train on</source>
        <translation>打开用于训练的文本文件</translation>
    </message>
    <message>
        <source>Training is running</source>
        <translation>正在训练</translation>
    </message>
    <message>
        <source>Still opening the previous file…</source>
        <translation>仍在打开上一个文件…</translation>
    </message>
    <message>
        <source>Stop training (Shift+F5) before opening another file.</source>
        <translation>打开其他文件之前，请先停止训练（Shift+F5）。</translation>
    </message>
    <message>
        <source>Tokenizing {0} with {1}…</source>
        <translation>正在用 {1} 对 {0} 分词…</translation>
    </message>
    <message>
        <source>Opening {0} failed.</source>
        <translation>打开 {0} 失败。</translation>
    </message>
    <message>
        <source>Opened {0}: {1} tokens in the model&apos;s own vocabulary ({2}). Continue training trains this model on it.</source>
        <translation>已打开 {0}：按模型自己的词表（{2}）共 {1} 个词元。“接着训练”会用它训练这个模型。</translation>
    </message>
    <message>
        <source>Preparing a model failed.</source>
        <translation>准备模型失败。</translation>
    </message>
    <message>
        <source>1 token</source>
        <translation>1 个词元</translation>
    </message>
    <message>
        <source>{0} tokens</source>
        <translation>{0} 个词元</translation>
    </message>
    <message>
        <source>Opened {0}: {1}, vocabulary {2} ({3}).</source>
        <translation>已打开 {0}：{1}，词表大小 {2}（{3}）。</translation>
    </message>
    <message>
        <source>Read as {0}.</source>
        <translation>按 {0} 读取。</translation>
    </message>
    <message>
        <source>A new UNTRAINED model ({0} parameters) was made for this vocabulary — press Start in the Training panel to train it.</source>
        <translation>已为此词表新建一个【未训练】的模型（{0} 个参数）——在“训练”面板中按“开始”即可训练它。</translation>
    </message>
    <message>
        <source>Stop training (Shift+F5) before opening another model.</source>
        <translation>打开其他模型之前，请先停止训练（Shift+F5）。</translation>
    </message>
    <message>
        <source>Opening {0}…</source>
        <translation>正在打开 {0}…</translation>
    </message>
    <message>
        <source>Choose the model&apos;s vocabulary</source>
        <translation>选择模型的词表</translation>
    </message>
    <message>
        <source>{0} holds weights but no vocabulary ({1}). Choose its vocabulary next: a character-level run&apos;s meta.pkl, or GPT-2&apos;s vocab.json (merges.txt beside it) or tokenizer.json.</source>
        <translation>{0} 只有权重，没有词表（{1}）。接下来请选择它的词表：字符级训练的 meta.pkl，或 GPT-2 的 vocab.json（旁边需有 merges.txt）或 tokenizer.json。</translation>
    </message>
    <message>
        <source>Opened the bundled model: {0} parameters, trained {1} steps, vocabulary {2} ({3}).</source>
        <translation>已打开内置模型：{0} 个参数，已训练 {1} 步，词表大小 {2}（{3}）。</translation>
    </message>
    <message>
        <source>Opened {0}: {1} parameters, trained {2} steps, vocabulary {3} ({4}).</source>
        <translation>已打开 {0}：{1} 个参数，已训练 {2} 步，词表大小 {3}（{4}）。</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>Stop training (Shift+F5) before saving; the weights are kept.</source>
        <translation>保存之前请先停止训练（Shift+F5）；权重会保留。</translation>
    </message>
    <message>
        <source>Save model</source>
        <translation>保存模型</translation>
    </message>
    <message>
        <source>No training history</source>
        <translation>没有训练历史</translation>
    </message>
    <message>
        <source>This model has no training records yet. Train it first (F5).</source>
        <translation>此模型还没有训练记录。请先训练它（F5）。</translation>
    </message>
    <message>
        <source>Export training history</source>
        <translation>导出训练历史</translation>
    </message>
    <message>
        <source>CSV files (*.csv);;All files (*)</source>
        <translation>CSV 文件 (*.csv);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Exporting the training history failed.</source>
        <translation>导出训练历史失败。</translation>
    </message>
    <message>
        <source>Exported {0} training records to {1}</source>
        <translation>已将 {0} 条训练记录导出到 {1}</translation>
    </message>
    <message>
        <source>This model cannot be written as a Hugging Face folder</source>
        <translation>此模型无法写成 Hugging Face 文件夹</translation>
    </message>
    <message>
        <source>Export as a Hugging Face folder (choose an empty folder)</source>
        <translation>导出为 Hugging Face 文件夹（请选择一个空文件夹）</translation>
    </message>
    <message>
        <source>Exported the model to {0} ({1}). {2}</source>
        <translation>模型已导出到 {0}（{1}）。{2}</translation>
    </message>
    <message>
        <source>Exporting to {0}…</source>
        <translation>正在导出到 {0}…</translation>
    </message>
    <message>
        <source>Exporting the model failed.</source>
        <translation>导出模型失败。</translation>
    </message>
    <message>
        <source>Saving the model failed.</source>
        <translation>保存模型失败。</translation>
    </message>
    <message>
        <source>The model was saved elsewhere</source>
        <translation>模型已保存到别处</translation>
    </message>
    <message>
        <source>{0}

The file there is unchanged. The model was saved to {1} instead; open it from there or save again elsewhere.</source>
        <translation>{0}

那里的文件没有改动。模型改为保存到了 {1}；可以从那里打开它，或另存到别处。</translation>
    </message>
    <message>
        <source>Saved to {0} instead of {1}</source>
        <translation>已保存到 {0}，而不是 {1}</translation>
    </message>
    <message>
        <source>Saved {0}</source>
        <translation>已保存 {0}</translation>
    </message>
    <message>
        <source>{0} ({1} tensors)</source>
        <translation>{0}（{1} 个张量）</translation>
    </message>
    <message>
        <source>Quantized: stored as {0}; shown dequantized to float32.</source>
        <translation>已量化：文件中存为 {0}；此处显示的是反量化为 float32 的权重。</translation>
    </message>
</context>
<context>
    <name>FileJobs</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>FollowedRuns</name>
    <message>
        <source>Open a training run folder</source>
        <translation>打开训练运行文件夹</translation>
    </message>
    <message>
        <source>Training is running</source>
        <translation>正在训练</translation>
    </message>
    <message>
        <source>Stop training (Shift+F5) before opening a run.</source>
        <translation>打开运行之前，请先停止训练（Shift+F5）。</translation>
    </message>
    <message>
        <source>Not a training run</source>
        <translation>不是训练运行</translation>
    </message>
    <message>
        <source>{folder} is not a training run folder: it has neither {configs} nor {records}. Choose the folder a run writes, e.g. the --out folder of `transformer-explorer train`, or a run folder of the window&apos;s (its path is shown in the Training panel).</source>
        <translation>{folder} 不是训练运行文件夹：其中既没有 {configs} 也没有 {records}。请选择训练运行写入的文件夹，例如 `transformer-explorer train` 的 --out 文件夹，或本窗口训练的运行文件夹（其路径显示在“训练”面板中）。</translation>
    </message>
    <message>
        <source>Opening the run {0} failed.</source>
        <translation>打开运行 {0} 失败。</translation>
    </message>
</context>
<context>
    <name>Heatmap</name>
    <message>
        <source>Hover a cell to read its exact value.</source>
        <translation>将鼠标悬停在单元格上可查看其精确值。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>About {0}</source>
        <translation>关于 {0}</translation>
    </message>
    <message>
        <source>&lt;p&gt;Load a text, train a small GPT-like decoder on it and watch every step: tokens, embeddings, positional encoding, Q·Kᵀ, the causal mask, softmax, and the training curves.&lt;/p&gt;&lt;p&gt;Everything shown is read from one traced forward pass of the model on the context text.&lt;/p&gt;&lt;p&gt;Drop a .txt file or a .safetensors model onto the window to open it.&lt;/p&gt;</source>
        <translation>&lt;p&gt;载入一段文本，在上面训练一个类似 GPT 的小型解码器，并观察每一步：词元、词嵌入、位置编码、Q·Kᵀ、因果掩码、softmax，以及训练曲线。&lt;/p&gt;&lt;p&gt;所显示的一切，都读自模型在上下文文本上的一次被追踪的前向传播。&lt;/p&gt;&lt;p&gt;把 .txt 文件或 .safetensors 模型拖到窗口上即可打开。&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>OpenModelDialog</name>
    <message>
        <source>Looking for models failed: {0}</source>
        <translation>查找模型失败：{0}</translation>
    </message>
    <message>
        <source>Hugging Face cache</source>
        <translation>Hugging Face 缓存</translation>
    </message>
    <message>
        <source>Looking for models on this computer…</source>
        <translation>正在查找本机上的模型…</translation>
    </message>
    <message>
        <source>No models found. Looked in:
{0}
Use Browse to open a model file or folder from anywhere.</source>
        <translation>未找到模型。查找过的位置：
{0}
可用“浏览”打开任意位置的模型文件或文件夹。</translation>
    </message>
    <message>
        <source>Models found: {0}; {1} of them can be opened (the others are greyed: point at one to see why).</source>
        <translation>找到模型 {0} 个，其中 {1} 个可以打开（其余显示为灰色：鼠标指向可查看原因）。</translation>
    </message>
    <message>
        <source>Open a model</source>
        <translation>打开模型</translation>
    </message>
    <message>
        <source>Open a model folder</source>
        <translation>打开模型文件夹</translation>
    </message>
    <message>
        <source>Models already on this computer: the Hugging Face cache, Ollama and LM Studio. Double-click one to open it, or browse for any model file or folder.</source>
        <translation>本机已有的模型：Hugging Face 缓存、Ollama 和 LM Studio。双击即可打开，也可以浏览任意模型文件或文件夹。</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Store</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Family</source>
        <translation>家族</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Browse file…</source>
        <translation>浏览文件…</translation>
    </message>
    <message>
        <source>Browse folder…</source>
        <translation>浏览文件夹…</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>RecentFiles</name>
    <message>
        <source>Clear list</source>
        <translation>清空列表</translation>
    </message>
</context>
<context>
    <name>Recovery</name>
    <message>
        <source>Transformer Explorer was closed on %1 while a model was not saved (%2 parameters, trained %3 steps).</source>
        <translation>Transformer Explorer 于 %1 关闭时，有一个模型尚未保存（%2 个参数，已训练 %3 步）。</translation>
    </message>
    <message>
        <source>It came from %1.</source>
        <translation>它来自 %1。</translation>
    </message>
    <message>
        <source>Restore it? Discard deletes the copy.</source>
        <translation>要恢复它吗？选择“丢弃”会删除这份副本。</translation>
    </message>
    <message>
        <source>Restore the unsaved model?</source>
        <translation>恢复未保存的模型？</translation>
    </message>
    <message>
        <source>Restore</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Discard</source>
        <translation>丢弃</translation>
    </message>
</context>
<context>
    <name>StatusFields</name>
    <message>
        <source>Device: {0}</source>
        <translation>设备：{0}</translation>
    </message>
    <message>
        <source>no model</source>
        <translation>没有模型</translation>
    </message>
    <message>
        <source>{0} parameters</source>
        <translation>{0} 个参数</translation>
    </message>
    <message>
        <source>step {0} / {1}</source>
        <translation>第 {0} / {1} 步</translation>
    </message>
    <message>
        <source>trained {0} steps</source>
        <translation>已训练 {0} 步</translation>
    </message>
    <message>
        <source>untrained</source>
        <translation>未训练</translation>
    </message>
    <message>
        <source>new model on {0}</source>
        <translation>基于 {0} 的新模型</translation>
    </message>
    <message>
        <source>bundled model</source>
        <translation>内置模型</translation>
    </message>
    <message>
        <source>untrained model</source>
        <translation>未训练的模型</translation>
    </message>
</context>
<context>
    <name>WindowActions</name>
    <message>
        <source>Open &amp;text…</source>
        <translation>打开文本(&amp;T)…</translation>
    </message>
    <message>
        <source>Open a text file to train on (prepares a new untrained model)</source>
        <translation>打开用于训练的文本文件（会准备一个新的未训练模型）</translation>
    </message>
    <message>
        <source>Open text with &amp;encoding…</source>
        <translation>按指定编码打开文本(&amp;E)…</translation>
    </message>
    <message>
        <source>Open a text file, choosing how its characters are encoded (UTF-8, GBK, …) instead of detecting it</source>
        <translation>打开文本文件，并自行选择字符编码（UTF-8、GBK 等），而不是自动检测</translation>
    </message>
    <message>
        <source>Open &amp;model…</source>
        <translation>打开模型(&amp;M)…</translation>
    </message>
    <message>
        <source>Open a model: saved by Transformer Explorer (.safetensors), a nanoGPT run&apos;s ckpt.pt, or a Hugging Face GPT-2 folder (choose its config.json or weights)</source>
        <translation>打开模型：Transformer Explorer 保存的模型（.safetensors）、nanoGPT 训练的 ckpt.pt，或 Hugging Face GPT-2 文件夹（选择其中的 config.json 或权重文件）</translation>
    </message>
    <message>
        <source>Open r&amp;un…</source>
        <translation>打开运行(&amp;U)…</translation>
    </message>
    <message>
        <source>Follow a training run&apos;s folder live (records, snapshots), written by the command line, a cluster on a shared folder, or this window</source>
        <translation>实时跟踪一个训练运行的文件夹（记录、快照），它可以由命令行、共享文件夹上的集群或本窗口写入</translation>
    </message>
    <message>
        <source>&amp;Save model</source>
        <translation>保存模型(&amp;S)</translation>
    </message>
    <message>
        <source>Save the model, its tokenizer and its training history</source>
        <translation>保存模型及其分词器和训练历史</translation>
    </message>
    <message>
        <source>Save model &amp;as…</source>
        <translation>模型另存为(&amp;A)…</translation>
    </message>
    <message>
        <source>Export training &amp;history (CSV)…</source>
        <translation>导出训练历史（CSV）(&amp;H)…</translation>
    </message>
    <message>
        <source>Every training record (step, losses, learning rate, tokens/s) as a CSV table</source>
        <translation>把每条训练记录（步数、损失、学习率、词元/秒）导出为 CSV 表格</translation>
    </message>
    <message>
        <source>Export as Hugging &amp;Face folder…</source>
        <translation>导出为 Hugging Face 文件夹(&amp;F)…</translation>
    </message>
    <message>
        <source>Write a GPT-2- or Llama-shaped model as a folder that transformers loads (config.json, model.safetensors, its tokenizer files)</source>
        <translation>把 GPT-2 或 Llama 结构的模型写成 transformers 能加载的文件夹（config.json、model.safetensors 及其分词器文件）</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Start training</source>
        <translation>开始训练(&amp;S)</translation>
    </message>
    <message>
        <source>Train a new model with the Training panel&apos;s settings</source>
        <translation>按“训练”面板中的设置训练一个新模型</translation>
    </message>
    <message>
        <source>&amp;Pause / resume</source>
        <translation>暂停 / 继续(&amp;P)</translation>
    </message>
    <message>
        <source>Pause or resume training</source>
        <translation>暂停或继续训练</translation>
    </message>
    <message>
        <source>S&amp;top training</source>
        <translation>停止训练(&amp;T)</translation>
    </message>
    <message>
        <source>Stop after the current step; the weights are kept</source>
        <translation>在当前这一步之后停止；权重会保留</translation>
    </message>
    <message>
        <source>&amp;Reset layout</source>
        <translation>重置布局(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;About Transformer Explorer</source>
        <translation>关于 Transformer Explorer(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Training</source>
        <translation>训练(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Main toolbar</source>
        <translation>主工具栏</translation>
    </message>
</context>
<context>
    <name>cells</name>
    <message>
        <source>−∞ (masked)</source>
        <translation>−∞（已掩码）</translation>
    </message>
</context>
<context>
    <name>dialogs</name>
    <message>
        <source>This text file can&apos;t be used</source>
        <translation>无法使用此文本文件</translation>
    </message>
    <message>
        <source>Choose a plain-text file (UTF-8 or GBK) with at least a few sentences of text.</source>
        <translation>请选择一个至少含有几句文字的纯文本文件（UTF-8 或 GBK）。</translation>
    </message>
    <message>
        <source>The model was not saved</source>
        <translation>模型未保存</translation>
    </message>
    <message>
        <source>Your file was left as it was. Choose another file name (File → Save model as…).</source>
        <translation>你的文件保持原样。请换一个文件名（文件 → 模型另存为…）。</translation>
    </message>
    <message>
        <source>The model could not be saved</source>
        <translation>无法保存模型</translation>
    </message>
    <message>
        <source>The model is still open. Free some disk space or choose another place (File → Save model as…).</source>
        <translation>模型仍然打开着。请释放一些磁盘空间，或选择其他位置（文件 → 模型另存为…）。</translation>
    </message>
    <message>
        <source>This model file can&apos;t be opened</source>
        <translation>无法打开此模型文件</translation>
    </message>
    <message>
        <source>Choose a model saved by Transformer Explorer (.safetensors), a nanoGPT run&apos;s ckpt.pt, or a Hugging Face GPT-2 folder (config.json with model.safetensors or pytorch_model.bin).</source>
        <translation>请选择 Transformer Explorer 保存的模型（.safetensors）、nanoGPT 训练的 ckpt.pt，或 Hugging Face GPT-2 文件夹（含 config.json 以及 model.safetensors 或 pytorch_model.bin）。</translation>
    </message>
    <message>
        <source>Invalid setting</source>
        <translation>设置无效</translation>
    </message>
    <message>
        <source>Correct the named field in the Training panel and try again.</source>
        <translation>请在“训练”面板中改正所指出的字段，然后重试。</translation>
    </message>
    <message>
        <source>Device not available</source>
        <translation>设备不可用</translation>
    </message>
    <message>
        <source>Pick another device in the Training panel; CPU always works.</source>
        <translation>请在“训练”面板中选择其他设备；CPU 总是可用的。</translation>
    </message>
    <message>
        <source>Tokenizer not available</source>
        <translation>分词器不可用</translation>
    </message>
    <message>
        <source>Choose cl100k_base or char in the Training panel; both work offline.</source>
        <translation>请在“训练”面板中选择 cl100k_base 或 char；两者都可离线使用。</translation>
    </message>
    <message>
        <source>Training diverged</source>
        <translation>训练发散了</translation>
    </message>
    <message>
        <source>The last good weights were kept. Lower the learning rate or use more warm-up steps, then press Start again.</source>
        <translation>已保留最后一组正常的权重。请降低学习率或增加预热步数，然后再按“开始”。</translation>
    </message>
    <message>
        <source>Training stopped with an error</source>
        <translation>训练因错误而停止</translation>
    </message>
    <message>
        <source>The last good weights were kept. If the device ran out of memory, use a smaller batch, context or model, or train on the CPU.</source>
        <translation>已保留最后一组正常的权重。如果设备内存不足，请减小批大小、上下文长度或模型规模，或改用 CPU 训练。</translation>
    </message>
    <message>
        <source>Permission denied</source>
        <translation>权限不足</translation>
    </message>
    <message>
        <source>Choose a file or folder you are allowed to read and write.</source>
        <translation>请选择你有读写权限的文件或文件夹。</translation>
    </message>
    <message>
        <source>File not found</source>
        <translation>找不到文件</translation>
    </message>
    <message>
        <source>The file may have been moved or deleted; open it again from its new place.</source>
        <translation>文件可能已被移动或删除；请从它的新位置重新打开。</translation>
    </message>
    <message>
        <source>The file could not be read or written</source>
        <translation>无法读写该文件</translation>
    </message>
    <message>
        <source>Check the path and try again.</source>
        <translation>请检查路径后重试。</translation>
    </message>
    <message>
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
    <message>
        <source>Your work is still open; you can try again.</source>
        <translation>你的工作仍然打开着；可以再试一次。</translation>
    </message>
    <message>
        <source>{0} failed.</source>
        <translation>{0}失败。</translation>
    </message>
    <message>
        <source>Training is running</source>
        <translation>正在训练</translation>
    </message>
    <message>
        <source>Training is still running. Stop it and save the model before quitting?</source>
        <translation>训练仍在进行。要先停止训练并保存模型再退出吗？</translation>
    </message>
    <message>
        <source>Save &amp;&amp; quit</source>
        <translation>保存并退出</translation>
    </message>
    <message>
        <source>Quit without saving</source>
        <translation>退出且不保存</translation>
    </message>
    <message>
        <source>Save the trained model?</source>
        <translation>保存训练过的模型？</translation>
    </message>
    <message>
        <source>The model was trained but not saved. Save it before quitting?</source>
        <translation>模型已训练但尚未保存。退出前要保存吗？</translation>
    </message>
    <message>
        <source>Detect from the whole file (recommended)</source>
        <translation>根据整个文件自动检测（推荐）</translation>
    </message>
    <message>
        <source>Text encoding</source>
        <translation>文本编码</translation>
    </message>
    <message>
        <source>How are the characters of {0} encoded?</source>
        <translation>{0} 的字符采用哪种编码？</translation>
    </message>
    <message>
        <source>Replace the model?</source>
        <translation>替换模型？</translation>
    </message>
    <message>
        <source>{0} already holds a model. Replace it?</source>
        <translation>{0} 中已有一个模型。要替换它吗？</translation>
    </message>
    <message>
        <source>Unexpected error</source>
        <translation>意外错误</translation>
    </message>
    <message>
        <source>{0}

The app is still running. If this keeps happening, save your model and restart, and please report the details below.</source>
        <translation>{0}

程序仍在运行。如果这种情况反复出现，请保存模型后重新启动，并报告下面的详细信息。</translation>
    </message>
</context>
<context>
    <name>docks</name>
    <message>
        <source>Context</source>
        <translation>上下文</translation>
    </message>
    <message>
        <source>Walkthrough</source>
        <translation>逐步讲解</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>分词</translation>
    </message>
    <message>
        <source>Embeddings</source>
        <translation>词嵌入</translation>
    </message>
    <message>
        <source>Positional encoding</source>
        <translation>位置编码</translation>
    </message>
    <message>
        <source>Attention</source>
        <translation>注意力</translation>
    </message>
    <message>
        <source>Looking inside</source>
        <translation>模型内部</translation>
    </message>
    <message>
        <source>Attribution</source>
        <translation>归因</translation>
    </message>
    <message>
        <source>Generation</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Training history</source>
        <translation>训练历史</translation>
    </message>
    <message>
        <source>Compare runs</source>
        <translation>比较运行</translation>
    </message>
</context>
<context>
    <name>export</name>
    <message>
        <source>PNG image (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <source>SVG drawing (*.svg)</source>
        <translation>SVG 矢量图 (*.svg)</translation>
    </message>
    <message>
        <source>Save as a PNG image</source>
        <translation>保存为 PNG 图像</translation>
    </message>
    <message>
        <source>Save as an SVG drawing</source>
        <translation>保存为 SVG 矢量图</translation>
    </message>
    <message>
        <source>Saving the image failed.</source>
        <translation>保存图像失败。</translation>
    </message>
    <message>
        <source>Save as PNG…</source>
        <translation>保存为 PNG…</translation>
    </message>
    <message>
        <source>Save as SVG…</source>
        <translation>保存为 SVG…</translation>
    </message>
</context>
<context>
    <name>pieces</name>
    <message>
        <source>Waiting for a trace of the new model…</source>
        <translation>正在等待新模型的追踪结果…</translation>
    </message>
</context>
</TS>
