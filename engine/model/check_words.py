"""What each honesty check (engine.model.checks) says it recomputed, in English and Chinese.

The fields are names of trace steps, sizes and symbols, which read the same in both languages.
"""
from __future__ import annotations

from dataclasses import dataclass

DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "tokens": ("the ids fed to the model, all within the vocabulary of {V}",
               "输入模型的编号，全部在大小为 {V} 的词表之内"),
    "embed.token": ("wte[ids]: rows of the token table looked up again",
                    "wte[ids]：重新查出词元表中的这些行"),
    "embed.position.sinusoidal": ("sin(pos/10000^(2i/d)) and cos(...) recomputed in float64",
                                  "用 float64 重新计算 sin(pos/10000^(2i/d)) 和 cos(...)"),
    "embed.position.learned": ("the first T rows of the learned position table",
                               "可学习位置表的前 T 行"),
    "embed.sum": ("token embedding + positional encoding (broadcast over batch)",
                  "词嵌入 + 位置编码（在批次上广播）"),
    "qkv": ("{x}·W{w}ᵀ + b, then view [B,T,heads,head_size] and transpose(1,2)",
            "{x}·W{w}ᵀ + b，然后 view 成 [B,T,头,head_size] 并 transpose(1,2)"),
    "attn.scores": ("Q·Kᵀ for every batch and head", "对每个批次、每个头计算 Q·Kᵀ"),
    "attn.scaled": ("scores ÷ √{hs}", "分数 ÷ √{hs}"),
    "attn.masked": ("equal to the scaled scores on and below the diagonal, −∞ above it",
                    "对角线及以下等于缩放后的分数，对角线以上为 −∞"),
    "attn.pattern": ("softmax recomputed; every row sums to 1; zero weight on future positions",
                     "重新计算 softmax；每行之和为 1；未来位置的权重为零"),
    "attn.weighted": ("pattern·V", "注意力权重·V"),
    "attn.weighted.ablated": ("pattern·V; ablated heads {off} are zero",
                              "注意力权重·V；被消融的头 {off} 为零"),
    "attn.concat": ("transpose(1,2) back to [B,T,heads,head_size], then reshape to [B,T,d_model]",
                    "transpose(1,2) 变回 [B,T,头,head_size]，再 reshape 成 [B,T,d_model]"),
    "attn.out": ("concat·Woᵀ + bo", "concat·Woᵀ + bo"),
    "resid": ("{a} + {b}", "{a} + {b}"),
    "ln": ("LayerNorm of {x} recomputed with γ, β and ε={eps}",
           "用 γ、β 和 ε={eps} 重新计算 {x} 的层归一化"),
    "ffn.hidden": ("{x}·W1ᵀ + b1", "{x}·W1ᵀ + b1"),
    "ffn.act.gelu": ("GELU: x·Φ(x) with the error function", "GELU：用误差函数计算 x·Φ(x)"),
    "ffn.act.gelu_tanh": ("GELU, tanh approximation: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))",
                          "GELU：用双曲正切近似重新计算 x·Φ(x)"),
    "ffn.act.relu": ("ReLU: max(x, 0)", "ReLU：max(x, 0)"),
    "ffn.out": ("act·W2ᵀ + b2", "act·W2ᵀ + b2"),
    "logits": ("{x}·W_vocabᵀ, and equal to the fast forward model(ids) (max diff {fast})",
               "{x}·W_vocabᵀ，且与快速前向 model(ids) 一致（最大差值 {fast}）"),
    "probs": ("softmax of the logits recomputed; every row sums to 1",
              "重新计算 logits 的 softmax；每行之和为 1"),
    "probs.top": ("softmax of the logits recomputed; every row sums to 1; the {k} guesses kept "
                  "per position are its largest",
                  "重新计算 logits 的 softmax；每行之和为 1；每个位置保留的 {k} 个候选正是其中最大的"),
}


@dataclass(frozen=True)
class Said:
    """A check's description: its DESCRIPTIONS key and fields."""

    key: str
    fields: dict

    def text(self, lang: str = "en") -> str:
        """The description in `lang` ("zh", else English), its fields filled in."""
        en, zh = DESCRIPTIONS[self.key]
        return (zh if lang == "zh" else en).format(**self.fields)
