"""Benchmark: loading a large text file as a corpus, against tiktoken's own batch encoder, and
the `tokenize` command on a 300 MB file.

    python benchmarks/bench_tokenize.py [--mb 50] [--cli-mb 300]

Generates mixed English/Chinese files in a temp dir, then runs each measurement in its own
subprocess so that peak memory (ru_maxrss of that process) belongs to one measurement only.
Prints one JSON object. Targets: ours within 2x of the direct tiktoken call; <= 4 bytes/token;
`tokenize` on 300 MB at >= 10 MB/s with peak RSS <= 1 GB (issue 11).
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

ENGLISH = (
    "the model reads a window of tokens and predicts the next one attention lets every position "
    "look back at earlier positions through queries keys and values the softmax turns scores "
    "into probabilities that sum to one a residual connection adds the input back layer norm "
    "keeps the numbers in range training lowers the cross entropy loss step by step"
).split()
CHINESE = (
    "前面我们完成了自己训练一个小模型，今天我们结合论文来学习一下理论知识。"
    "该模型由两部分组成：编码器和解码器。注意力就是你所需要的一切。"
    "位置编码让模型知道每个词的位置，多头注意力把向量分成几份分别计算。"
    "残差连接和层归一化让深层网络更容易训练，前馈网络先放大再缩小维度。"
)


SYLLABLES = "ka ro mi ten sol vi der an ex pre tion ing ly ber gra phi lo qu st ur".split()


def _paragraph(rng: random.Random, lexicon: list[str]) -> str:
    if rng.random() < 0.5:
        words = [rng.choice(lexicon) for _ in range(rng.randint(20, 120))]
        words[0] = words[0].capitalize()
        return " ".join(words) + ".\n\n"
    start = rng.randrange(len(CHINESE))
    length = rng.randint(20, 200)
    return (CHINESE * 3)[start : start + length] + "\n\n"


def generate(path: Path, mb: float, seed: int = 0) -> None:
    """Write about `mb` MB of shuffled paragraphs: a pool is made once and reshuffled per pass."""
    rng = random.Random(seed)
    # Made-up words beside real ones give a vocabulary of a few thousand ids, like real text.
    made_up = ["".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(3000)]
    lexicon = ENGLISH * 20 + made_up
    pool = [_paragraph(rng, lexicon) for _ in range(4000)]
    target = int(mb * 1e6)
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        while written < target:
            rng.shuffle(pool)
            block = "".join(pool).encode("utf-8")[: target - written]
            block = block.decode("utf-8", "ignore")  # do not end inside a character
            f.write(block)
            written += len(block.encode("utf-8"))


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def worker(kind: str, path: Path) -> dict:
    """One measurement, run in a fresh process; peak memory is this process's ru_maxrss."""
    from engine.text.corpus import load_corpus
    from engine.text.tokenizers import get_base

    enc = get_base("cl100k_base").encoding  # loading the tokenizer (~0.2 s) is not timed
    baseline = _maxrss_mb()
    start = time.perf_counter()
    result: dict = {}
    if kind == "cli":
        import contextlib
        import io

        from engine.cli.commands import main as cli_main

        out = io.StringIO()
        with contextlib.redirect_stdout(out):  # printed: 200 tokens and two lines of statistics
            code = cli_main(["tokenize", str(path), "--limit", "200"])
        assert code == 0
        stats = out.getvalue().splitlines()[-2]
        # "tokenizer: cl100k_base, encoding: ..., characters: 1,234, tokens: 5,678, distinct: ..."
        n_tokens = int(stats.split("tokens: ")[1].split(", distinct")[0].replace(",", ""))
        result["stats_line"] = stats
    elif kind == "ours":
        # Tokenizing itself, every time (the token cache is bench_tokenfile's).
        corpus = load_corpus(path, "cl100k_base", context_length=16, token_cache=False)
        n_tokens = corpus.n_tokens
        result["vocab_size"] = corpus.tokenizer.vocab_size
        result["stored_dtype"] = str(corpus.train.dtype)
        result["bytes_per_stored_token"] = (corpus.train.nbytes + corpus.val.nbytes) / n_tokens
        result["bytes_per_token_while_tokenizing"] = 4  # the growing uint32 array
    else:
        text = path.read_text(encoding="utf-8")
        lists = enc.encode_ordinary_batch(text.splitlines(keepends=True), num_threads=2)
        n_tokens = sum(len(ids) for ids in lists)
    seconds = time.perf_counter() - start
    size = path.stat().st_size
    result.update(seconds=round(seconds, 3), mb_per_s=round(size / 1e6 / seconds, 2),
                  n_tokens=n_tokens, peak_rss_mb=round(_maxrss_mb(), 1),
                  peak_rss_over_baseline_mb=round(_maxrss_mb() - baseline, 1))
    return result


def _run_worker(kind: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", kind, str(path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    """Parse arguments, generate the file, measure both paths and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the generated file")
    parser.add_argument("--cli-mb", type=float, default=300.0,
                        help="size of the file for the tokenize command (0: skip)")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.txt"
        start = time.perf_counter()
        generate(path, args.mb)
        gen_s = time.perf_counter() - start
        ours = _run_worker("ours", path)
        direct = _run_worker("direct", path)
        size = path.stat().st_size
        cli = None
        if args.cli_mb:
            path.unlink()
            big = Path(tmp) / "big.txt"
            generate(big, args.cli_mb, seed=1)
            cli = _run_worker("cli", big)
            cli["file_mb"] = round(big.stat().st_size / 1e6, 1)
    print(json.dumps({
        "file_mb": round(size / 1e6, 2),
        "generate_s": round(gen_s, 2),
        "ours_load_corpus": ours,
        "tiktoken_encode_ordinary_batch_lines": direct,
        "ratio_ours_over_direct_time": round(ours["seconds"] / direct["seconds"], 3),
        "cli_tokenize": cli,
        "bytes_per_stored_token": ours["bytes_per_stored_token"],
        "peak_memory_method": "ru_maxrss of a separate subprocess per measurement (MB); "
                              "over_baseline subtracts the RSS after imports and tiktoken load",
        "notes": "ours = tokenize_file (1 MB chunks, encode_ordinary_batch, 2 threads) + "
                 "compact vocab + uint16 split; direct = read + splitlines + "
                 "encode_ordinary_batch(2 threads)",
    }, indent=2))


if __name__ == "__main__":
    main()
