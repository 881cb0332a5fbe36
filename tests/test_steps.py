"""engine.model.steps: every step kind of a real trace has its facts (title, formula, axes, the
guide's help in both languages), and the reshape and weight notes match the real shapes."""
import re
import subprocess
import sys

import pytest
import torch

import engine.model.trace
from engine.config import ModelConfig
from engine.model.guide import SECTION_KEYS, help_text
from engine.model.decoder import new_model
from engine.model.steps import (
    AXES_ZH,
    EXEMPT_TERMS,
    axis_name,
    named_shape,
    reshape_note,
    shape_symbols,
    short_shape,
    step_kind,
    step_formula,
    step_layer,
    step_title,
    weights_note,
)
from engine.model.registry import KINDS
from engine.model.trace import run_trace

torch.set_num_threads(1)

CONFIGS = {
    "post": dict(norm="post", activation="relu", positional="sinusoidal", tied=False),
    "pre": dict(norm="pre", activation="gelu", positional="learned", tied=True),
}


def _trace(batch=2, context=6, **overrides):
    fields = dict(vocab_size=40, d_model=16, n_head=2, n_layer=2, context_length=8, d_ff=24)
    fields.update(overrides)
    model = new_model(ModelConfig(**fields), 0)
    ids = torch.randint(0, fields["vocab_size"], (batch, context),
                        generator=torch.Generator().manual_seed(0))
    return model, run_trace(model, ids)


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def traced(request):
    return _trace(**CONFIGS[request.param])


def test_every_step_kind_of_a_real_trace_has_its_facts(traced):
    _, trace = traced
    kinds = {step.kind for step in trace}
    assert kinds <= set(KINDS)
    for step in trace:
        kind = KINDS[step.kind]
        title, formula, axes = kind.title[0], kind.formula[0], kind.axes
        assert title and formula
        assert step.title.endswith(title) and step.formula == formula
        assert step.axes == axes and len(axes) == step.values.ndim, step.name
    for kind in kinds:
        (en_title, en), (zh_title, zh) = help_text(kind, "en"), help_text(kind, "zh")
        assert en_title and en and zh_title and zh, kind
        assert zh != en and re.search(r"[\u4e00-\u9fff]", zh), kind


def test_every_step_kind_has_a_section_in_the_guide():
    """The explanations' one home is the guide; each kind of this table has its section."""
    assert {kind.section for kind in KINDS.values()} <= set(SECTION_KEYS)


def test_the_trace_stamps_its_steps_from_this_table():
    assert engine.model.trace.KINDS is KINDS
    assert engine.model.trace.step_kind is step_kind and engine.model.trace.step_layer is step_layer


def test_kind_and_layer_of_a_name():
    assert step_kind("blocks.3.attn.scores") == "attn.scores" and step_layer("blocks.3.ln1") == 3
    assert step_kind("embed.sum") == "embed.sum" and step_layer("logits") is None


def test_shapes_in_words():
    assert named_shape(("batch", "context", "d_model"), (4, 16, 64)) == \
        "[batch 4, context 16, d_model 64]"
    assert short_shape((4, 4, 16, 16)) == "[4,4,16,16]"
    assert shape_symbols("attn.q", (4, 4, 16, 16)) == {"B": 4, "nh": 4, "T": 16, "hs": 16,
                                                       "C": 64}
    assert shape_symbols("attn.concat", (4, 16, 64), n_head=4) == {"B": 4, "T": 16, "C": 64,
                                                                   "nh": 4, "hs": 16}


def test_reshape_notes_match_the_real_shapes(traced):
    model, trace = traced
    nh = model.config.n_head
    noted = set()
    for step in trace:
        en = reshape_note(step.kind, step.shape, nh, "en")
        zh = reshape_note(step.kind, step.shape, nh, "zh")
        if KINDS[step.kind].reshape is None:
            assert en == zh == "", step.name
            continue
        noted.add(step.kind)
        assert en and zh and en != zh, step.name
        # Every bracketed shape of the English note is in the Chinese one as well.
        assert set(re.findall(r"\[[^\]]*\]", en)) <= set(re.findall(r"\[[^\]]*\]", zh))
        if step.kind in ("attn.q", "attn.k", "attn.v"):
            B, H, T, hs = step.shape
            before = trace[f"blocks.{step.layer}.attn.q"].shape  # (B, nh, T, hs)
            assert before == step.shape
            assert en.startswith(f"view [{B},{T},{H},{hs}] then transpose(1,2) → "
                                 f"{short_shape(step.shape)}")
        if step.kind == "attn.concat":
            weighted = trace[f"blocks.{step.layer}.attn.weighted"].shape  # (B, nh, T, hs)
            B, H, T, hs = weighted
            assert f"back to [{B},{T},{H},{hs}], then reshape to {short_shape(step.shape)}" in en
        if step.kind == "attn.masked":
            T = step.shape[-1]
            assert f"The [{T},{T}] causal mask" in en
        if step.kind == "embed.token":
            assert f"{step.shape[0]}×{step.shape[1]} ids" in en
    assert noted == {k for k, v in KINDS.items() if v.reshape}


def test_the_article_shapes_read_as_in_the_articles():
    model, trace = _trace(batch=4, context=16, d_model=64, n_head=4, n_layer=1,
                          context_length=16, d_ff=64)
    q = trace["blocks.0.attn.q"]
    note = reshape_note(q.kind, q.shape, 4)
    assert note.startswith("view [4,16,4,16] then transpose(1,2) → [4,4,16,16]: each token's 64 "
                           "numbers are cut into 4 heads of 16")
    assert reshape_note(q.kind, q.shape, 4, "fr") == note  # unknown language: English


def test_weights_notes_match_the_parameters(traced):
    model, trace = traced
    cfg = model.config
    C, F, V = cfg.d_model, cfg.d_ff, cfg.vocab_size
    block = model.blocks[0]
    assert tuple(block.ffn.fc1.weight.shape) == (F, C)  # nn.Linear stores (out, in)
    assert weights_note(cfg, "ffn.hidden") == f"W1 [{C}×{F}] + b1 [{F}]"
    assert weights_note(cfg, "attn.k") == f"Wk [{C}×{C}] + bk [{C}]  (rows {C}–{2 * C - 1} " \
                                          "of qkv.weight)"
    assert tuple(block.attn.qkv.weight.shape) == (3 * C, C)
    assert weights_note(cfg, "logits").startswith(f"W_vocab [{C}×{V}]")
    assert ("tied" in weights_note(cfg, "logits")) == cfg.tied
    table = "learned" if cfg.positional == "learned" else "fixed sinusoidal"
    assert table in weights_note(cfg, "embed.position")
    for kind in ("tokens", "attn.scores", "attn.pattern", "resid1", "probs"):
        assert weights_note(cfg, kind) == ""
    assert {s.kind for s in trace if weights_note(cfg, s.kind)} == {
        "embed.token", "embed.position", "attn.q", "attn.k", "attn.v", "attn.out", "ln1",
        "ffn.hidden", "ffn.out", "ln2", "logits"} | ({"ln_f"} if cfg.norm == "pre" else set())


def test_the_step_facts_import_neither_torch_nor_qt():
    code = ("import sys, engine.model.steps; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


CJK = re.compile(r"[\u4e00-\u9fff]")


def _words(text):
    """The English words of a caption: what is left without symbols, code and numbers."""
    plain = re.sub(r"[a-z_]\w*(?:\.\w+)+|\w+\[\w+\]", " ", text)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_]*", plain)
            if sum(c.isalpha() for c in w) >= 4 and w not in EXEMPT_TERMS]


def test_every_title_formula_and_axis_has_its_chinese():
    """In Chinese the walkthrough shows no English word of the engine's: titles, formula
    captions and axis names are Chinese, or symbols listed once in EXEMPT_TERMS."""
    assert all(k.title[0] and k.title[1] and k.formula[1] for k in KINDS.values())
    for kind, k in KINDS.items():
        formula, axes = k.formula[0], k.axes
        assert CJK.search(step_title(kind, "zh")), kind
        zh = step_formula(kind, "zh")
        assert _words(zh) == [], (kind, zh)
        if _words(formula):
            assert CJK.search(zh), kind
        else:
            assert zh == formula or CJK.search(zh), kind
        assert step_formula(kind, "en") == step_formula(kind, "fr") == formula
        for axis in axes:
            assert CJK.search(axis_name(axis, "zh")) or axis in EXEMPT_TERMS, axis
            assert axis_name(axis, "en") == axis
    assert set(AXES_ZH) | {a for k in KINDS.values() for a in k.axes if a in EXEMPT_TERMS} \
        == {a for k in KINDS.values() for a in k.axes}
    assert step_title("blocks.2.attn.q", "zh") == "第 2 块：查询 Q，按头拆分"
    assert step_formula("blocks.2.attn.pattern", "zh") == KINDS["attn.pattern"].formula[1]


def test_named_shapes_and_weights_in_chinese(traced):
    model, trace = traced
    q = trace["blocks.0.attn.q"]
    assert named_shape(q.axes, q.shape, "zh") == "[批次 2, 头 2, 上下文 6, head_size 8]"
    assert named_shape(q.axes, q.shape) == "[batch 2, heads 2, context 6, head_size 8]"
    cfg = model.config
    for kind in KINDS:
        en, zh = weights_note(cfg, kind), weights_note(cfg, kind, "zh")
        assert bool(en) == bool(zh), kind
        # The same matrices and shapes; the words in Chinese.
        assert re.findall(r"\[[^\]]*\]", en) == re.findall(r"\[[^\]]*\]", zh), kind
        assert _words(zh) == [], (kind, zh)
        assert bool(_words(en)) <= bool(CJK.search(zh)), kind
