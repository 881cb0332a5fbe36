"""Training throughput: our Trainer against a plain hand-written PyTorch loop of the same model.

Prints one JSON object. Two configurations:
  article  the articles' worked example: vocab 3771, d_model 64, 4 heads, 8 layers, context 16,
           batch 4, d_ff 256, dropout 0.1 (overhead-bound: many tiny kernels per step)
  nanogpt  nanoGPT's CPU recipe: char vocab 65, d_model 128, 4 heads, 4 layers, context 64,
           batch 12, d_ff 512, dropout 0.0 (more of the time in real matmuls)
The plain loop is what a tutorial would write: separate Wq/Wk/Wv, explicit masked softmax,
torch.optim.AdamW with defaults, clip_grad_norm_ with defaults, loss.item() every step. Both
start from the same weights and see the same batches; they run in alternating blocks so that
load from other processes on a shared machine hits both alike.

Both loops use the same torch thread count (--threads; default torch's own choice).

Usage: python benchmarks/bench_train.py [--steps 200] [--block 10] [--warmup 20] [--threads N]
                                        [--log-every 5] [--configs article,nanogpt] [--compile]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import ModelConfig, TrainConfig  # noqa: E402
from engine.text.corpus import Corpus, load_corpus  # noqa: E402
from engine.model.decoder import GPT, sinusoidal_table  # noqa: E402
from engine.text.tokenizers import Tokenizer  # noqa: E402
from engine.training.trainer import Trainer  # noqa: E402

CORPUS = ROOT / "resources" / "corpus" / "transformer_guide.txt"

CONFIGS = {
    "article": (
        ModelConfig(vocab_size=3771, d_model=64, n_head=4, n_layer=8, context_length=16,
                    d_ff=256, dropout=0.1),
        4,  # batch size
        "cl100k_base",
    ),
    "nanogpt": (
        ModelConfig(vocab_size=65, d_model=128, n_head=4, n_layer=4, context_length=64,
                    d_ff=512, dropout=0.0),
        12,
        "char",
    ),
}


# ---------------------------------------------------------------------------------------------
# The plain loop's model, written the way a tutorial would.


class PlainAttention(nn.Module):
    def __init__(self, d_model: int, n_head: int, context_length: int, dropout: float):
        super().__init__()
        self.n_head = n_head
        self.Wq = nn.Linear(d_model, d_model)
        self.Wk = nn.Linear(d_model, d_model)
        self.Wv = nn.Linear(d_model, d_model)
        self.Wo = nn.Linear(d_model, d_model)
        self.attn_drop = nn.Dropout(dropout)
        self.resid_drop = nn.Dropout(dropout)
        self.register_buffer("mask", torch.tril(torch.ones(context_length, context_length)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        hs = C // self.n_head
        q = self.Wq(x).view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = self.Wk(x).view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = self.Wv(x).view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        scores = q @ k.transpose(-2, -1) / math.sqrt(hs)  # (B, nh, T, T)
        scores = scores.masked_fill(self.mask[:T, :T] == 0, float("-inf"))
        weights = self.attn_drop(F.softmax(scores, dim=-1))  # (B, nh, T, T)
        y = (weights @ v).transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.resid_drop(self.Wo(y))


class PlainBlock(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.attn = PlainAttention(cfg.d_model, cfg.n_head, cfg.context_length, cfg.dropout)
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.ffn = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_ff), nn.ReLU(),
                                 nn.Linear(cfg.d_ff, cfg.d_model), nn.Dropout(cfg.dropout))
        self.ln2 = nn.LayerNorm(cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.attn(x))  # post-norm, as in the paper
        return self.ln2(x + self.ffn(x))


class PlainGPT(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.register_buffer("pe", sinusoidal_table(cfg.context_length, cfg.d_model))
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(PlainBlock(cfg) for _ in range(cfg.n_layer))
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        x = self.drop(self.tok(idx) + self.pe[:T])  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        return self.head(x)  # (B, T, V)

    @torch.no_grad()
    def copy_from(self, gpt: GPT) -> None:
        """Start from exactly the same weights as our model (qkv split into Wq, Wk, Wv)."""
        self.tok.weight.copy_(gpt.embed.wte.weight)
        self.head.weight.copy_(gpt.lm_head.weight)
        for mine, theirs in zip(self.blocks, gpt.blocks):
            wq, wk, wv = theirs.attn.qkv.weight.chunk(3, dim=0)
            bq, bk, bv = theirs.attn.qkv.bias.chunk(3, dim=0)
            for lin, w, b in ((mine.attn.Wq, wq, bq), (mine.attn.Wk, wk, bk),
                              (mine.attn.Wv, wv, bv)):
                lin.weight.copy_(w)
                lin.bias.copy_(b)
            mine.attn.Wo.load_state_dict(theirs.attn.proj.state_dict())
            mine.ffn[0].load_state_dict(theirs.ffn.fc1.state_dict())
            mine.ffn[2].load_state_dict(theirs.ffn.fc2.state_dict())
            mine.ln1.load_state_dict(theirs.norm1.state_dict())
            mine.ln2.load_state_dict(theirs.norm2.state_dict())


# ---------------------------------------------------------------------------------------------
# Data


def make_corpus(name: str, cfg: ModelConfig, tokenizer: str) -> tuple[Corpus, str]:
    """The real guide text if present (ids fitted into the config's vocabulary), else random."""
    if CORPUS.exists():
        corpus = load_corpus(CORPUS, tokenizer=tokenizer, context_length=cfg.context_length)
        if corpus.tokenizer.vocab_size > cfg.vocab_size:
            # Keep the config's vocabulary size (it sets the cost): the most frequent ids keep
            # their own rows, the rest share the last one.
            old = corpus.tokenizer
            ids = np.concatenate([corpus.train, corpus.val]).astype(np.int64)
            counts = np.bincount(ids, minlength=old.vocab_size)[: old.unk_id]
            top = np.sort(old.vocab[np.argsort(-counts, kind="stable")[: cfg.vocab_size - 1]])
            new = Tokenizer(old.name, top)  # unk (the last row) takes everything else
            remap = np.append(new.to_compact(old.vocab), new.unk_id)  # old compact -> new
            corpus.tokenizer = new
            corpus.train = remap[corpus.train.astype(np.int64)].astype(np.uint16)
            corpus.val = remap[corpus.val.astype(np.int64)].astype(np.uint16)
            source = f"{CORPUS.name} ({tokenizer}, top {cfg.vocab_size - 1} ids + 1 shared)"
        else:
            source = f"{CORPUS.name} ({tokenizer}, {corpus.tokenizer.vocab_size} ids used)"
        return corpus, source
    rng = np.random.default_rng(0)
    data = rng.integers(0, cfg.vocab_size, 200_000).astype(np.uint16)
    tok = Tokenizer("char", np.arange(cfg.vocab_size - 1, dtype=np.int64))
    return Corpus(tok, data[:180_000], data[180_000:], "<random>", "none", 0), (
        f"random tokens (vocab {cfg.vocab_size})"
    )


# ---------------------------------------------------------------------------------------------
# Measuring


DEFAULT_THREADS = torch.get_num_threads()


def matmul_peak_gflops(n: int = 1024, repeats: int = 30) -> float:
    """fp32 matmul throughput with the default thread count (best of several timings)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(DEFAULT_THREADS)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        for _ in range(3):
            a @ b
        best = math.inf
        for _ in range(repeats):
            t = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t)
        return 2 * n**3 / best / 1e9
    finally:
        torch.set_num_threads(threads)


def flops_per_token(model: GPT) -> float:
    """6·N (non-embedding parameters, lm_head included) + 12·n_layer·d_model·context."""
    cfg = model.config
    embedding = model.embed.wte.weight.numel()
    if cfg.positional == "learned":
        embedding += model.embed.wpe.weight.numel()
    n = model.num_params() - embedding
    if cfg.tied:
        n += model.lm_head.weight.numel()  # the table is also a real matmul at the output
    return 6 * n + 12 * cfg.n_layer * cfg.d_model * cfg.context_length


def bench_config(name: str, args: argparse.Namespace) -> dict:
    mcfg, batch, tokenizer = CONFIGS[name]
    corpus, source = make_corpus(name, mcfg, tokenizer)
    T = mcfg.context_length
    total = args.warmup + args.steps
    # The plain loop's optimizer is AdamW with defaults; ours is set to match it (constant lr,
    # same betas and decay), so the loss curves are comparable.
    tcfg = TrainConfig(batch_size=batch, steps=total, lr=1e-3, min_lr=1e-3, warmup_steps=0,
                       weight_decay=0.01, beta1=0.9, beta2=0.999, grad_clip=1.0,
                       eval_interval=10**9, eval_batches=1, seed=1337, device="cpu")
    torch.manual_seed(1337)
    ours = GPT(mcfg)
    plain = PlainGPT(mcfg)
    plain.copy_from(ours)
    trainer = Trainer(ours, corpus, tcfg, device="cpu", compile=args.compile)
    records = trainer.run(log_every=args.log_every)
    ours_losses: list[float] = []

    opt = torch.optim.AdamW(plain.parameters())
    plain_gen = torch.Generator().manual_seed(tcfg.seed)  # the same batches as the trainer
    plain_losses: list[float] = []
    plain.train()

    def ours_steps(n: int) -> None:
        start = trainer.step
        while trainer.step < start + n:
            record = next(records)
            ours_losses.append(record.train_loss)

    def plain_steps(n: int) -> None:
        for _ in range(n):
            x, y = corpus.get_batch("train", batch, T, plain_gen, "cpu")
            logits = plain(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(plain.parameters(), 1.0)
            opt.step()
            plain_losses.append(loss.item())

    ours_steps(args.warmup)
    plain_steps(args.warmup)
    ours_t, plain_t = [], []
    for i in range(args.steps // args.block):
        # Alternate which goes first, so neither always follows the other's cache state.
        for which in ((ours_steps, ours_t), (plain_steps, plain_t))[:: 1 if i % 2 == 0 else -1]:
            fn, times = which
            t = time.perf_counter()
            fn(args.block)
            times.append(time.perf_counter() - t)
    for _ in records:  # finish the run (its final evaluation is not timed)
        pass

    tokens_block = args.block * batch * T
    # Other processes share this machine: a burst of load can hit any block. The median block
    # (and the median of adjacent pairs' ratios) ignores such bursts; the totals do not.
    ours_rate = tokens_block / statistics.median(ours_t)
    plain_rate = tokens_block / statistics.median(plain_t)
    pair_ratios = [p / o for o, p in zip(ours_t, plain_t)]
    ratio = statistics.median(pair_ratios)
    fpt = flops_per_token(ours)
    tail = 50
    # Ours reports one mean per log_every steps; compare means over the same last steps.
    ours_tail = statistics.fmean(ours_losses[-(tail // args.log_every):])
    plain_tail = statistics.fmean(plain_losses[-tail:])
    target = 1.25 if name == "article" else 1.0
    return {
        "model": mcfg.to_dict(),
        "batch_size": batch,
        "data": source,
        "steps_timed": args.block * len(ours_t),
        "ours_tokens_per_s": round(ours_rate, 1),
        "plain_tokens_per_s": round(plain_rate, 1),
        "ratio": round(ratio, 3),
        "target_ratio": target,
        "met_target": ratio >= target,
        "ratio_of_totals": round(sum(plain_t) / sum(ours_t), 3),
        "ours_ms_per_step": round(1e3 * statistics.median(ours_t) / args.block, 3),
        "plain_ms_per_step": round(1e3 * statistics.median(plain_t) / args.block, 3),
        "ours_ms_per_step_best": round(1e3 * min(ours_t) / args.block, 3),
        "plain_ms_per_step_best": round(1e3 * min(plain_t) / args.block, 3),
        "pair_ratio_quartiles": [round(q, 3) for q in statistics.quantiles(pair_ratios, n=4)],
        "flops_per_token": fpt,
        "achieved_gflops_ours": round(ours_rate * fpt / 1e9, 2),
        "achieved_gflops_plain": round(plain_rate * fpt / 1e9, 2),
        "first_record_loss": round(ours_losses[0], 4),
        "loss_last50_ours": round(ours_tail, 4),
        "loss_last50_plain": round(plain_tail, 4),
        "ln_vocab": round(math.log(mcfg.vocab_size), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="timed steps per loop")
    parser.add_argument("--block", type=int, default=10, help="steps per alternating block")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--log-every", type=int, default=5, help="trainer record interval")
    parser.add_argument("--configs", default="article,nanogpt")
    parser.add_argument("--compile", action="store_true", help="torch.compile our model")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch intra-op threads for both loops (default: torch's choice)")
    args = parser.parse_args()
    if args.block % args.log_every or args.warmup % args.log_every:
        parser.error("--block and --warmup must be multiples of --log-every")

    t0 = time.perf_counter()
    peak = matmul_peak_gflops()  # with the default thread count, as the MFU reference
    if args.threads:
        torch.set_num_threads(args.threads)
    out = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "matmul_peak_gflops": round(peak, 1),
        },
        "log_every": args.log_every,
        "compile": args.compile,
        "notes": [
            "tokens/s from the median block of --block steps; ratio = median over adjacent "
            "(ours, plain) block pairs of plain_time / ours_time (robust to load bursts)",
            "mfu = flops_per_token * tokens/s / best fp32 1024^3 matmul rate (default threads)",
            "loss_last50: mean training loss of the last 50 steps; same initial weights and "
            "batches; plain AdamW decays every tensor (default 0.01), ours Linear weights only",
        ],
    }
    peaks = [peak]
    for name in args.configs.split(","):
        out[name] = bench_config(name, args)
        peaks.append(matmul_peak_gflops())
    # The best of several peak measurements: a loaded moment must not inflate the MFU.
    peak = max(peaks)
    out["machine"]["matmul_peak_gflops"] = round(peak, 1)
    out["machine"]["matmul_peak_samples"] = [round(p, 1) for p in peaks]
    for name in args.configs.split(","):
        for loop in ("ours", "plain"):
            out[name][f"mfu_{loop}"] = round(out[name][f"achieved_gflops_{loop}"] / peak, 4)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out))  # one line: run_all.py reads the last line


if __name__ == "__main__":
    main()
