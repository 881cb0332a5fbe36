<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ArrowsView</name>
    <message>
        <source>Block:</source>
        <translation>块：</translation>
    </message>
    <message>
        <source>Head:</source>
        <translation>头：</translation>
    </message>
    <message>
        <source>Pair:</source>
        <translation>维度对：</translation>
    </message>
    <message>
        <source>one token at every position:</source>
        <translation>同一个词放到每个位置：</translation>
    </message>
    <message>
        <source>q of head {0}, pair {1}</source>
        <translation>头 {0} 的 q，第 {1} 对</translation>
    </message>
    <message>
        <source>k of K/V head {0}, pair {1}</source>
        <translation>K/V 头 {0} 的 k，第 {1} 对</translation>
    </message>
    <message>
        <source>Dashed: the pair (dims {0} and {1}) of token {2}'s q and k; solid: the same pair turned as if the token sat at position t, by t·θ (θ = {3} rad, once round in {4} positions). Only the angle changes with the position.</source>
        <translation>虚线：词 {2} 的 q 和 k 中的这一对（第 {0} 和第 {1} 维）；实线：把这个词放在位置 t 时，同一对被转过 t·θ（θ = {3} 弧度，每 {4} 个位置转一整圈）。随位置变化的只有角度。</translation>
    </message>
    <message>
        <source>Dashed: the pair (dims {0} and {1}) as computed from the token at position t; solid, same colour: the pair turned by t·θ (the arc) (θ = {2} rad, once round in {3} positions). The length never changes, only the angle. First {4} positions of the context.</source>
        <translation>虚线：由位置 t 上的词算出的这一对（第 {0} 和第 {1} 维）；同色实线：这一对转过 t·θ 之后（圆弧）（θ = {2} 弧度，每 {3} 个位置转一整圈）。长度不变，只有角度变。显示上下文的前 {4} 个位置。</translation>
    </message>
</context>
<context>
    <name>AttentionForm</name>
    <message>
        <source>All blocks</source>
        <translation>所有块</translation>
    </message>
    <message>
        <source>Every head of every block at once; click a head to enlarge it</source>
        <translation>一次显示所有块的所有头；点击一个头可将其放大</translation>
    </message>
    <message>
        <source>Layer:</source>
        <translation>层：</translation>
    </message>
    <message>
        <source>Stage:</source>
        <translation>阶段：</translation>
    </message>
    <message>
        <source>Block {0}</source>
        <translation>第 {0} 块</translation>
    </message>
</context>
<context>
    <name>AttentionPanel</name>
    <message>
        <source>No model yet: create or load a model, then type a context to see its attention.</source>
        <translation>还没有模型：请创建或加载一个模型，再输入上下文，即可查看它的注意力。</translation>
    </message>
    <message>
        <source>This trace has no step {0}.</source>
        <translation>此追踪中没有步骤 {0}。</translation>
    </message>
    <message>
        <source>{0}:  {1}   [heads {2} × query {3} × key {4}], head_size {5}, √{5} = {6:.6g}; batch row 0 of {7}</source>
        <translation>{0}：  {1}   [头 {2} × 查询 {3} × 键 {4}]，head_size {5}，√{5} = {6:.6g}；{7} 个批次中的第 0 行</translation>
    </message>
    <message>
        <source>{0}:  {1}   [heads {2} × query {3} × key {4}], head_size {5}, √{5} = {6:.6g}</source>
        <translation>{0}：  {1}   [头 {2} × 查询 {3} × 键 {4}]，head_size {5}，√{5} = {6:.6g}</translation>
    </message>
    <message>
        <source>{0} — head {1}</source>
        <translation>{0} — 头 {1}</translation>
    </message>
    <message>
        <source>Block {0}, head {1}</source>
        <translation>第 {0} 块，头 {1}</translation>
    </message>
    <message>
        <source>This trace has no overview of its heads.</source>
        <translation>这次追踪没有各个头的总览。</translation>
    </message>
    <message>
        <source>{0}: every block ({1}) × every head ({2}), query × key {3} × {3}</source>
        <translation>{0}：所有块（{1}）× 所有头（{2}），查询 × 键 {3} × {3}</translation>
    </message>
    <message>
        <source>Each pixel is the largest value of a block of {0} × {0} tokens; click a head to see all of its values.</source>
        <translation>每个像素是一个 {0} × {0} 词元区块中的最大值；点击一个头可查看它的全部数值。</translation>
    </message>
    <message>
        <source>M[i, j] = 1 if j ≤ i else 0  (query i may look at key j only if j is not in its future)</source>
        <translation>M[i, j] = 1（若 j ≤ i），否则为 0  （只有当键 j 不在查询 i 的未来时，查询 i 才能看到它）</translation>
    </message>
    <message>
        <source>Block {0} has a sliding window of {1}: M[i, j] = 1 if i − {1} &lt; j ≤ i else 0 (query i sees itself and the {2} keys before it, no further back)</source>
        <translation>块 {0} 有大小为 {1} 的滑动窗口：M[i, j] = 1 当 i − {1} &lt; j ≤ i，否则为 0（查询 i 只看见自己和它前面的 {2} 个键，再往前就看不见）</translation>
    </message>
</context>
<context>
    <name>AttentionStages</name>
    <message>
        <source>scores QKᵀ</source>
        <translation>分数 QKᵀ</translation>
    </message>
    <message>
        <source>scaled ÷√hs</source>
        <translation>缩放 ÷√hs</translation>
    </message>
    <message>
        <source>masked +M</source>
        <translation>加掩码 +M</translation>
    </message>
    <message>
        <source>causal mask M</source>
        <translation>因果掩码 M</translation>
    </message>
    <message>
        <source>Row i: how strongly query i matches every key (dot products q_i·k_j). Not yet scaled or masked.</source>
        <translation>第 i 行：查询 i 与每个键的匹配程度（点积 q_i·k_j）。尚未缩放，也未加掩码。</translation>
    </message>
    <message>
        <source>The scores divided by √head_size so the softmax does not saturate.</source>
        <translation>分数除以 √head_size，使 softmax 不会饱和。</translation>
    </message>
    <message>
        <source>Future positions (above the diagonal) set to −∞, drawn hatched: the model cannot look ahead.</source>
        <translation>未来的位置（对角线以上）被设为 −∞，以斜线阴影表示：模型不能向后偷看。</translation>
    </message>
    <message>
        <source>softmax over each row: the weights query i gives to each key. Every row sums to 1; masked cells are exactly 0.</source>
        <translation>对每一行做 softmax：查询 i 分给每个键的权重。每行之和为 1；被掩码的格子恰好为 0。</translation>
    </message>
</context>
<context>
    <name>EmbeddingsPanel</name>
    <message>
        <source>No model yet: create or load a model, then type a context to see its token embeddings.</source>
        <translation>还没有模型：请创建或加载一个模型，再输入上下文，即可查看它的词嵌入。</translation>
    </message>
    <message>
        <source>Token:</source>
        <translation>词元：</translation>
    </message>
    <message>
        <source>Lookup E[ids]</source>
        <translation>查表 E[ids]</translation>
    </message>
    <message>
        <source>Vocabulary map</source>
        <translation>词表分布图</translation>
    </message>
    <message>
        <source>table E: {0} tokens × {1} dimensions</source>
        <translation>嵌入表 E：{0} 个词元 × {1} 维</translation>
    </message>
    <message>
        <source>table E: {0} tokens × {1} dimensions (projecting its map…)</source>
        <translation>表 E：{0} 个词元 × {1} 维（正在投影它的地图…）</translation>
    </message>
    <message>
        <source>{0}: {1}  (id {2})</source>
        <translation>{0}：{1}  （编号 {2}）</translation>
    </message>
    <message>
        <source>context position {0}</source>
        <translation>上下文位置 {0}</translation>
    </message>
    <message>
        <source>not in the context</source>
        <translation>不在上下文中</translation>
    </message>
    <message>
        <source>E[{0}] = vector of “{1}” ({2}), {3} values</source>
        <translation>E[{0}] = “{1}”的向量（{2}），共 {3} 个值</translation>
    </message>
</context>
<context>
    <name>GqaMap</name>
    <message>
        <source>K/V {0}</source>
        <translation>K/V {0}</translation>
    </message>
    <message>
        <source>{0} query heads, each with its own K/V head.
K/V cache: {1} per token</source>
        <translation>{0} 个查询头，各有自己的 K/V 头。
K/V 缓存：每个词 {1}</translation>
    </message>
    <message>
        <source>{0} query heads share {1} K/V heads, {2} each.
K/V cache: {3} per token, {2}× less</source>
        <translation>{0} 个查询头共用 {1} 个 K/V 头，每个 K/V 头服务 {2} 个。
K/V 缓存：每个词 {3}，少到 1/{2}</translation>
    </message>
    <message>
        <source>{0} per token = {1} blocks × {2} K/V heads × {3} numbers × 2 (K and V) × 2 bytes (float16)</source>
        <translation>每个词 {0} = {1} 个块 × {2} 个 K/V 头 × {3} 个数 × 2（K 和 V）× 2 字节（float16）</translation>
    </message>
</context>
<context>
    <name>HeadGrid</name>
    <message>
        <source>query</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>Hover a cell for its value; click a head to enlarge it.</source>
        <translation>将鼠标悬停在格子上可查看数值；点击某个头可将其放大。</translation>
    </message>
    <message>
        <source>head {0}</source>
        <translation>头 {0}</translation>
    </message>
    <message>
        <source>head {0}: {1}</source>
        <translation>头 {0}：{1}</translation>
    </message>
</context>
<context>
    <name>LayerHeadOverview</name>
    <message>
        <source>Every head of every block (rows: blocks, columns: heads). Hover a head for its name; click it to enlarge it.</source>
        <translation>所有块的所有头（行：块，列：头）。悬停在一个头上可看到它的名称；点击可将其放大。</translation>
    </message>
    <message>
        <source>block {0}</source>
        <translation>第 {0} 块</translation>
    </message>
    <message>
        <source>head</source>
        <translation>头</translation>
    </message>
    <message>
        <source>Block {0}, head {1}: click to enlarge.</source>
        <translation>第 {0} 块，头 {1}：点击放大。</translation>
    </message>
</context>
<context>
    <name>LookupPage</name>
    <message>
        <source>position · token</source>
        <translation>位置 · 词元</translation>
    </message>
    <message>
        <source>dimension</source>
        <translation>维度</translation>
    </message>
    <message>
        <source>dim</source>
        <translation>维度</translation>
    </message>
    <message>
        <source>E[ids]: the {0} rows looked up for the context [{0} × {1}]; click a row for its vector</source>
        <translation>E[ids]：为上下文查出的 {0} 行 [{0} × {1}]；点击某一行可查看其向量</translation>
    </message>
    <message>
        <source>“{0}”, dim {1}: {2}</source>
        <translation>“{0}”，维度 {1}：{2}</translation>
    </message>
    <message>
        <source>Hover a cell or a bar for its exact value.</source>
        <translation>将鼠标悬停在格子或柱子上可查看精确数值。</translation>
    </message>
</context>
<context>
    <name>MapPage</name>
    <message>
        <source>piece</source>
        <translation>片段</translation>
    </message>
    <message>
        <source>compact id</source>
        <translation>紧凑编号</translation>
    </message>
    <message>
        <source>id</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>original id</source>
        <translation>原始编号</translation>
    </message>
    <message>
        <source>cosine</source>
        <translation>余弦</translation>
    </message>
    <message>
        <source>Nearest tokens by cosine similarity (double-click one to show it):</source>
        <translation>余弦相似度最高的词元（双击可显示）：</translation>
    </message>
    <message>
        <source>PC1 ({0:.1f}% of variance)</source>
        <translation>PC1（占方差的 {0:.1f}%）</translation>
    </message>
    <message>
        <source>PC2 ({0:.1f}% of variance)</source>
        <translation>PC2（占方差的 {0:.1f}%）</translation>
    </message>
    <message>
        <source>All {0} tokens on the two main axes of E (PCA); orange: the context. Wheel: zoom, drag: pan. Hover a point to name it, click it to show it.</source>
        <translation>全部 {0} 个词元在 E 的两个主轴上（PCA）；橙色：上下文中的词元。滚轮：缩放，拖动：平移。悬停在点上可显示其名称，点击可显示该词元。</translation>
    </message>
    <message>
        <source>{0} of the {1} tokens (a fixed random sample, plus the context in orange) on the two main axes of that sample (PCA). Wheel: zoom, drag: pan. Hover a point to name it, click it to show it; the nearest tokens are searched in the whole table.</source>
        <translation>{1} 个词元中的 {0} 个（固定的随机样本，另加橙色的上下文）画在该样本的两条主轴上（PCA）。滚轮：缩放，拖动：平移。悬停在一个点上可看到它的名称，点击可显示它；最近的词元在整张表中搜索。</translation>
    </message>
    <message>
        <source>While training, the map is re-projected at most every {0:.0f} s; the lookups, the bars and the nearest tokens always use the newest weights.</source>
        <translation>训练期间，分布图最多每 {0:.0f} 秒重新投影一次；查表、柱状图和最近词元始终使用最新的权重。</translation>
    </message>
    <message>
        <source>“{0}”  id {1}
PC1 {2}, PC2 {3}</source>
        <translation>“{0}”  编号 {1}
PC1 {2}，PC2 {3}</translation>
    </message>
    <message>
        <source>“{0}”  compact id {1}
PC1 {2}, PC2 {3}</source>
        <translation>“{0}”  紧凑编号 {1}
PC1 {2}，PC2 {3}</translation>
    </message>
    <message>
        <source>context position {0}</source>
        <translation>上下文位置 {0}</translation>
    </message>
</context>
<context>
    <name>PositionalPanel</name>
    <message>
        <source>No model yet: create or load a model to see its positional encodings.</source>
        <translation>还没有模型：请创建或加载一个模型，即可查看它的位置编码。</translation>
    </message>
    <message>
        <source>Waves</source>
        <translation>波形</translation>
    </message>
    <message>
        <source>Table</source>
        <translation>编码表</translation>
    </message>
    <message>
        <source>Token + position = input</source>
        <translation>词元 + 位置 = 输入</translation>
    </message>
    <message>
        <source>Frequencies</source>
        <translation>频率</translation>
    </message>
    <message>
        <source>q and k turning</source>
        <translation>q 和 k 的旋转</translation>
    </message>
    <message>
        <source>Relative position</source>
        <translation>相对位置</translation>
    </message>
    <message>
        <source>Positional encoding (learned): one row per position, {0} dimensions, added to every sequence's token embeddings.</source>
        <translation>位置编码（可学习）：每个位置一行，共 {0} 维，加到每个序列的词嵌入上。</translation>
    </message>
    <message>
        <source>Positional encoding (sinusoidal): one row per position, {0} dimensions, added to every sequence's token embeddings.</source>
        <translation>位置编码（正弦）：每个位置一行，共 {0} 维，加到每个序列的词嵌入上。</translation>
    </message>
    <message>
        <source>PE table (learned) for the context: [{0} × {1}]</source>
        <translation>上下文的位置编码表 PE（可学习）：[{0} × {1}]</translation>
    </message>
    <message>
        <source>PE table (sinusoidal) for the context: [{0} × {1}]</source>
        <translation>上下文的位置编码表 PE（正弦）：[{0} × {1}]</translation>
    </message>
    <message>
        <source>Rotary positions: this model has no position table, and nothing is added to its token embeddings. Each head's q and k are turned instead, pair by pair, by an angle that grows with the position ({0} pairs per head).</source>
        <translation>旋转位置编码：这个模型没有位置表，词嵌入上什么也不加。它把每个头的 q 和 k 逐对旋转，角度随位置增大（每个头 {0} 对）。</translation>
    </message>
</context>
<context>
    <name>RelativeView</name>
    <message>
        <source>Block:</source>
        <translation>块：</translation>
    </message>
    <message>
        <source>Head:</source>
        <translation>头：</translation>
    </message>
    <message>
        <source>q from token:</source>
        <translation>q 取自词：</translation>
    </message>
    <message>
        <source>k from token:</source>
        <translation>k 取自词：</translation>
    </message>
    <message>
        <source>(Δ+{0}, {0})</source>
        <translation>(Δ+{0}, {0})</translation>
    </message>
    <message>
        <source>spread</source>
        <translation>最大差</translation>
    </message>
    <message>
        <source>Δ = {0}</source>
        <translation>Δ = {0}</translation>
    </message>
    <message>
        <source>The model's own q (head {0}, token {1}) and k (token {2}), before turning, placed at query position m = n + Δ and key position n, then turned and scored (q·k × scale). Column (Δ+s, s): both positions moved by s.</source>
        <translation>取模型自己的 q（头 {0}，词 {1}）和 k（词 {2}）旋转前的值，放到查询位置 m = n + Δ 和键位置 n，旋转后计算得分（q·k × 缩放）。列 (Δ+s, s)：两个位置都移动 s。</translation>
    </message>
    <message>
        <source>Each row holds one distance Δ: its scores agree to {0} whatever the shift, so the score depends on m − n only. Across rows the score changes with the distance. Δ = 0 gives q·k unturned: {1}.</source>
        <translation>每一行是一个距离 Δ：不管移动多少，这一行的得分相差不超过 {0}，所以得分只取决于 m − n。不同的行之间，得分随距离变化。Δ = 0 就是不旋转的 q·k：{1}。</translation>
    </message>
</context>
<context>
    <name>RotaryTable</name>
    <message>
        <source>Local table: base {0}, unscaled; sliding-window blocks {1}</source>
        <translation>局部角度表：base = {0}，不缩放；用于滑动窗口块 {1}</translation>
    </message>
    <message>
        <source>Global table: base {0}{1}; full-attention blocks {2}</source>
        <translation>全局角度表：base = {0}{1}；用于全注意力块 {2}</translation>
    </message>
    <message>
        <source>Block {0} is a sliding-window block: it turns with the local table (base {1}, unscaled).</source>
        <translation>块 {0} 是滑动窗口块：它用局部角度表旋转（base = {1}，不缩放）。</translation>
    </message>
    <message>
        <source>Block {0} is a full-attention block: it turns with the global table (base {1}{2}).</source>
        <translation>块 {0} 是全注意力块：它用全局角度表旋转（base = {1}{2}）。</translation>
    </message>
</context>
<context>
    <name>RotaryWavesView</name>
    <message>
        <source>position m</source>
        <translation>位置 m</translation>
    </message>
    <message>
        <source>cos ─  sin ┄</source>
        <translation>cos ─  sin ┄</translation>
    </message>
    <message>
        <source>Pairs i:</source>
        <translation>维度对 i：</translation>
    </message>
    <message>
        <source>Angle table:</source>
        <translation>角度表：</translation>
    </message>
    <message>
        <source>Positions:</source>
        <translation>位置数：</translation>
    </message>
    <message>
        <source>local (sliding-window blocks)</source>
        <translation>局部（滑动窗口块）</translation>
    </message>
    <message>
        <source>global (full-attention blocks)</source>
        <translation>全局（全注意力块）</translation>
    </message>
    <message>
        <source>{0}: θ = {1}</source>
        <translation>{0}：θ = {1}</translation>
    </message>
    <message>
        <source>pair {0}: θ = {1}, once round in {2} positions</source>
        <translation>第 {0} 对：θ = {1}，每 {2} 个位置转一整圈</translation>
    </message>
    <message>
        <source>Rotary positions add nothing to the token vectors: pair i of every head's q and k turns by the angle m·θᵢ at position m, θᵢ = base^(−2i/d), base {0}, d = {1}{2}. Fast pairs tell near positions apart, slow pairs far ones.</source>
        <translation>旋转位置编码不给词向量加任何东西：在位置 m，每个头的 q 和 k 的第 i 对转过角度 m·θᵢ，θᵢ = base^(−2i/d)，base = {0}，d = {1}{2}。转得快的对区分相近的位置，转得慢的对区分远的位置。</translation>
    </message>
    <message>
        <source>This model has two tables: shown, the local one of its sliding-window blocks ({0}); the global one (base {1}) turns its full-attention blocks ({2}).</source>
        <translation>这个模型有两张角度表：图中是滑动窗口块（{0}）用的局部表；全局表（base = {1}）用于全注意力块（{2}）。</translation>
    </message>
    <message>
        <source>This model has two tables: shown, the global one of its full-attention blocks ({0}); the local one (base {1}) turns its sliding-window blocks ({2}).</source>
        <translation>这个模型有两张角度表：图中是全注意力块（{0}）用的全局表；局部表（base = {1}）用于滑动窗口块（{2}）。</translation>
    </message>
    <message>
        <source>, scaled ({0})</source>
        <translation>，经过缩放（{0}）</translation>
    </message>
</context>
<context>
    <name>SingleView</name>
    <message>
        <source>← All heads</source>
        <translation>← 所有头</translation>
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
        <source>Sliding-window mask of block {0}: window {1}, T = {2}</source>
        <translation>第 {0} 块的滑动窗口掩码：窗口 {1}，T = {2}</translation>
    </message>
    <message>
        <source>1 (light) = the query in this row may attend to the key in this column. 0 (dark) above the diagonal: the future; 0 below the light band: keys {0} or more positions back, outside the window. Each query sees at most {0} keys, itself included. Where M is 0 the score becomes −∞ (stage “masked”).</source>
        <translation>1（浅色）= 这一行的查询可以关注这一列的键。对角线以上的 0（深色）：未来的位置；浅色带以下的 0：往前 {0} 个或更多位置的键，在窗口之外。每个查询最多看见 {0} 个键（包括它自己）。M 为 0 的地方得分变成 −∞（“加掩码”阶段）。</translation>
    </message>
    <message>
        <source>Causal mask M = 1 − triu(ones({0}, {0}), k=1)</source>
        <translation>因果掩码 M = 1 − triu(ones({0}, {0}), k=1)</translation>
    </message>
    <message>
        <source>Causal mask for T = {0}</source>
        <translation>T = {0} 时的因果掩码</translation>
    </message>
    <message>
        <source>Shown for the current context, T = {0} (the article draws it for T = 20). 1 (light) = the query in this row may attend to the key in this column; 0 (dark) = a future position, blocked. Where M is 0 the scaled score becomes −∞ (stage “masked”), so after the softmax its weight is exactly 0. Every head of every layer uses this same mask.</source>
        <translation>按当前上下文显示，T = {0}（文章中画的是 T = 20）。1（浅色）= 这一行的查询可以关注这一列的键；0（深色）= 未来的位置，被屏蔽。M 为 0 的地方，缩放后的分数变为 −∞（“加掩码”阶段），因此 softmax 之后其权重恰好为 0。每一层的每个头都使用同一个掩码。</translation>
    </message>
</context>
<context>
    <name>SumView</name>
    <message>
        <source>dim</source>
        <translation>维度</translation>
    </message>
    <message>
        <source>pos</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>One colour scale for all three</source>
        <translation>三者共用一个色标</translation>
    </message>
    <message>
        <source>token embedding E[ids]</source>
        <translation>词嵌入 E[ids]</translation>
    </message>
    <message>
        <source>positional encoding PE</source>
        <translation>位置编码 PE</translation>
    </message>
    <message>
        <source>input X = E[ids] + PE</source>
        <translation>输入 X = E[ids] + PE</translation>
    </message>
    <message>
        <source>Each row: the token's vector plus the vector of its position, element by element ([{0} × {1}] + [{0} × {1}] = [{0} × {1}]). Largest |value|: token {2}, position {3}.</source>
        <translation>每一行：词元的向量加上其位置的向量，逐元素相加（[{0} × {1}] + [{0} × {1}] = [{0} × {1}]）。最大 |值|：词元 {2}，位置 {3}。</translation>
    </message>
    <message>
        <source>Hover a cell to read its exact value.</source>
        <translation>将鼠标悬停在格子上可读取精确数值。</translation>
    </message>
</context>
<context>
    <name>TableView</name>
    <message>
        <source>position</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>dimension</source>
        <translation>维度</translation>
    </message>
    <message>
        <source>pos</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>dim</source>
        <translation>维度</translation>
    </message>
    <message>
        <source>Hover a cell to read its exact value.</source>
        <translation>将鼠标悬停在格子上可读取精确数值。</translation>
    </message>
    <message>
        <source>PE[{0}] = {1}</source>
        <translation>PE[{0}] = {1}</translation>
    </message>
</context>
<context>
    <name>TokenStatsView</name>
    <message>
        <source>Characters:</source>
        <translation>字符数：</translation>
    </message>
    <message>
        <source>Tokens:</source>
        <translation>词元数：</translation>
    </message>
    <message>
        <source>Distinct tokens:</source>
        <translation>不同词元数：</translation>
    </message>
    <message>
        <source>Characters per token:</source>
        <translation>每个词元的字符数：</translation>
    </message>
    <message>
        <source>piece</source>
        <translation>片段</translation>
    </message>
    <message>
        <source>count</source>
        <translation>次数</translation>
    </message>
    <message>
        <source>original id</source>
        <translation>原始编号</translation>
    </message>
    <message>
        <source>compact id</source>
        <translation>紧凑编号</translation>
    </message>
    <message>
        <source>Most frequent tokens:</source>
        <translation>最常见的词元：</translation>
    </message>
    <message>
        <source>{0} ({1} in the model's window)</source>
        <translation>{0}（其中 {1} 个在模型的窗口内）</translation>
    </message>
</context>
<context>
    <name>TokenTextView</name>
    <message>
        <source>… {0} more tokens not drawn</source>
        <translation>… 另有 {0} 个词元未绘制</translation>
    </message>
    <message>
        <source>token {0} of {1}</source>
        <translation>第 {0} 个词元，共 {1} 个</translation>
    </message>
    <message>
        <source>piece: {0}</source>
        <translation>片段：{0}</translation>
    </message>
    <message>
        <source>id (row of the token table): {0}</source>
        <translation>编号（词元表中的行）：{0}</translation>
    </message>
    <message>
        <source>original id: none (unknown to the model's vocabulary)</source>
        <translation>原始编号：无（模型词表中没有）</translation>
    </message>
    <message>
        <source>original id: {0} (U+{1})</source>
        <translation>原始编号：{0}（U+{1}）</translation>
    </message>
    <message>
        <source>original id ({0}): {1}</source>
        <translation>原始编号（{0}）：{1}</translation>
    </message>
    <message>
        <source>compact id (row of the token table): {0}</source>
        <translation>紧凑编号（词元表中的行）：{0}</translation>
    </message>
    <message>
        <source>bytes: {0}</source>
        <translation>字节：{0}</translation>
    </message>
    <message>
        <source>part of the character(s) {0}: shown as its UTF-8 bytes</source>
        <translation>字符 {0} 的一部分：以其 UTF-8 字节显示</translation>
    </message>
    <message>
        <source>part of a character: shown as its UTF-8 bytes</source>
        <translation>某个字符的一部分：以其 UTF-8 字节显示</translation>
    </message>
    <message>
        <source>outside the model's context window</source>
        <translation>在模型的上下文窗口之外</translation>
    </message>
</context>
<context>
    <name>TokenizerForm</name>
    <message>
        <source>· space   ↵ newline   &lt;e6 8e&gt; bytes of a partial character</source>
        <translation>· 空格   ↵ 换行   &lt;e6 8e&gt; 不完整字符的字节</translation>
    </message>
    <message>
        <source>Tokenizer:</source>
        <translation>分词器：</translation>
    </message>
    <message>
        <source>{0} (the model's)</source>
        <translation>{0}（模型所用）</translation>
    </message>
</context>
<context>
    <name>TokensPanel</name>
    <message>
        <source>No text yet: load a model and type a context to see its tokens.</source>
        <translation>还没有文本：请加载一个模型并输入上下文，即可查看它的词元。</translation>
    </message>
    <message>
        <source>The model sees the first {0} tokens (its context length); the {1} after them are greyed.</source>
        <translation>模型只看前 {0} 个词元（它的上下文长度）；之后的 {1} 个显示为灰色。</translation>
    </message>
    <message>
        <source>How {0} splits the same text (its own ids; the model uses {1}).</source>
        <translation>{0} 如何切分同一段文本（用它自己的编号；模型使用的是 {1}）。</translation>
    </message>
</context>
<context>
    <name>WavesView</name>
    <message>
        <source>position</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>PE value</source>
        <translation>PE 值</translation>
    </message>
    <message>
        <source>Dimensions:</source>
        <translation>维度：</translation>
    </message>
    <message>
        <source>Positions:</source>
        <translation>位置数：</translation>
    </message>
    <message>
        <source>dim {0} (learned)</source>
        <translation>维度 {0}（可学习）</translation>
    </message>
    <message>
        <source>dim {0} ({1}, i={2})</source>
        <translation>维度 {0}（{1}，i={2}）</translation>
    </message>
    <message>
        <source>context ends (T = {0})</source>
        <translation>上下文结束（T = {0}）</translation>
    </message>
    <message>
        <source>This model has no position table: its positions turn each head's q and k instead (rotary).</source>
        <translation>这个模型没有位置表：位置信息通过旋转每个头的 q 和 k 加入（旋转位置编码）。</translation>
    </message>
    <message>
        <source>learned (trained parameters)</source>
        <translation>可学习（训练得到的参数）</translation>
    </message>
    <message>
        <source>sinusoidal: PE(pos,2i) = sin(pos/10000^(2i/d)), PE(pos,2i+1) = cos(pos/10000^(2i/d))</source>
        <translation>正弦：PE(pos,2i) = sin(pos/10000^(2i/d))，PE(pos,2i+1) = cos(pos/10000^(2i/d))</translation>
    </message>
    <message>
        <source>Each curve is one column of the positional table: {0}.</source>
        <translation>每条曲线是位置编码表中的一列：{0}。</translation>
    </message>
    <message>
        <source>The shaded part lies beyond the context length ({0}); the model never sees those positions.</source>
        <translation>阴影部分超出了上下文长度（{0}）；模型从不会看到这些位置。</translation>
    </message>
</context>
</TS>