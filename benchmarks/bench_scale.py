"""Scale and memory (issue 19 G): today's decoders at their real shapes, random weights, no
download. Two shapes are built from their configs by transformers:
- Qwen2.5-0.5B: 24 blocks, 14 heads, 2 K/V heads, d 896, FFN 4,864, vocabulary 151,936, tied,
  Q/K/V biases; written as a Hugging Face folder (bfloat16 safetensors, config.json, a
  byte-level tokenizer.json of 151,936 tokens) and as a Q4_0 GGUF;
- SmolLM2-135M (benchmarks/bench_gguf.py's SMOLLM2), as a folder.
Every figure is measured in a fresh child process (so one figure's memory never helps or hurts
the next), through the window's own open path (engine.storage.imports.open_model), and printed
as one JSON object with its target:

| figure                                         | target  |
| open 0.5B from safetensors                     | <= 5 s  |
| open 0.5B from a Q4 GGUF                       | <= 8 s  |
| trace of 64 tokens, 0.5B                       | <= 1.5 s |
| edit -> every panel redrawn, 0.5B, 64 tokens   | <= 2.5 s |
| walkthrough step median, 0.5B                  | <= 100 ms |
| window peak RSS, 0.5B opened, traced, walked   | <= 4 GB |
| trace of 64 tokens, SmolLM2-135M shape         | <= 600 ms |

    OMP_NUM_THREADS=2 QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_scale.py

Threads: OMP_NUM_THREADS (default 2, the machine's cores). The machine may be shared: the
1-minute load average is printed beside the figures, and each timing has its CPU seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as gui.launcher does for the app
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

QWEN05 = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
              num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
              rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True)
TOKENS = 64
TARGETS = {"open_safetensors_s": 5.0, "open_gguf_q4_s": 8.0, "trace_64_s": 1.5,
           "edit_to_redrawn_s": 2.5, "walkthrough_step_ms_median": 100.0,
           "window_peak_rss_gb": 4.0, "smollm2_trace_64_ms": 600.0}
TEXT = ("Attention lets every position gather information from the positions before it, and a "
        "small feed-forward network reworks each position on its own. 注意力让每个位置从前面的位置"
        "收集信息。") * 4


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def _rss_now_gb() -> float:
    """This process's resident memory now (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) * 1024 / 1e9, 2)
    except OSError:
        pass
    return 0.0


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


# -- the files ---------------------------------------------------------------------------------
def build(tmp: Path) -> dict[str, str]:
    """The two shapes as files, from random weights (seeded)."""
    import torch
    import transformers
    from gguf import GGMLQuantizationType as Q

    from bench_gguf import SMOLLM2, vocabulary
    from tests.gguf_helpers import write_gguf

    torch.manual_seed(0)
    out = {}
    qwen = transformers.Qwen2ForCausalLM(transformers.Qwen2Config(**QWEN05)).eval()
    folder = tmp / "qwen2.5-0.5b-shape"
    folder.mkdir()
    tokenizer = vocabulary(QWEN05["vocab_size"], folder / "tokenizer.json")
    out["qwen_gguf"] = str(write_gguf(tmp / "qwen2.5-0.5b-shape-q4_0.gguf", qwen, tokenizer,
                                      Q.Q4_0, kind="qwen2", pre="qwen2"))
    qwen.to(torch.bfloat16).save_pretrained(folder)  # as the hub ships it
    out["qwen_folder"] = str(folder)
    out["qwen_parameters"] = sum(p.numel() for p in qwen.parameters())
    del qwen
    smol = transformers.LlamaForCausalLM(transformers.LlamaConfig(**SMOLLM2)).eval()
    folder = tmp / "smollm2-135m-shape"
    smol.to(torch.bfloat16).save_pretrained(folder)
    vocabulary(SMOLLM2["vocab_size"], folder / "tokenizer.json")
    out["smol_folder"] = str(folder)
    return out


# -- the children --------------------------------------------------------------------------------
def child_open(path: str) -> dict:
    """Seconds to open `path` as the window does."""
    from engine.storage.imports import open_model

    ckpt, wall, cpu = _timed(lambda: open_model(path))
    return {"open_s": round(wall, 2), "open_cpu_s": round(cpu, 2),
            "parameters": sum(p.numel() for p in ckpt.model.parameters()),
            "peak_rss_gb": round(_peak_rss_bytes() / 1e9, 2)}


def child_trace(path: str, repeats: int = 3) -> dict:
    """Seconds of one traced forward (every intermediate kept) of 64 tokens, median of a few
    after one warm-up, as gui.window.tracing runs it."""
    from engine.model.trace import run_trace
    from engine.storage.imports import open_model

    ckpt = open_model(path)
    ids = ckpt.tokenizer.encode(TEXT * 4)[:TOKENS]
    assert len(ids) == TOKENS, len(ids)
    run_trace(ckpt.model, ids)
    walls, cpus = [], []
    for _ in range(repeats):
        trace, wall, cpu = _timed(lambda: run_trace(ckpt.model, ids))
        walls.append(wall)
        cpus.append(cpu)
    return {"trace_s_median": round(statistics.median(walls), 3),
            "trace_cpu_s_median": round(statistics.median(cpus), 3),
            "steps": len(trace), "trace_kept_mb": round(trace.kept_bytes() / 1e6, 1)}


def child_window(path: str, edits: int = 5, steps: int = 40) -> dict:
    """The window with the model opened through File → Open model's path: open to first
    trace shown, context edit to every panel redrawn, walkthrough steps, and the peak RSS."""
    from PySide6.QtWidgets import QApplication

    from gui.app import create_app
    from gui.widgets.lazy import LazyPanel
    from gui.window import MainWindow

    app = create_app()
    w = MainWindow(restore_layout=False, load_default=False)
    w.show()
    w.resize(1800, 1050)
    s = w.session
    lazy = w.findChildren(LazyPanel)

    def wait(cond, timeout_s: float) -> None:
        end = time.perf_counter() + timeout_s
        while not cond():
            if time.perf_counter() > end:
                raise TimeoutError("the window did not get there in time")
            app.processEvents()
            time.sleep(0.002)

    shown: dict[str, float] = {}
    s.trace_changed.connect(lambda: shown.setdefault("t", time.perf_counter()))
    t0 = time.perf_counter()
    w.open_model(path)
    wait(lambda: "t" in shown, 300)
    open_to_trace = shown["t"] - t0
    rss = {"opened": _rss_now_gb(), "opened_peak": round(_peak_rss_bytes() / 1e9, 2)}
    first_tokens = int(s.trace.ids.shape[1])
    wait(lambda: not any(p._flush_posted for p in lazy), 60)
    # Edits of exactly TOKENS tokens (the text decoded from that many ids).
    ids = s.tokenizer.encode(TEXT * 4)
    texts = [s.tokenizer.decode(ids[i:i + TOKENS]) for i in range(edits)]
    redrawn, traced, cpu = [], [], []
    for text in texts:
        time.sleep(0.3)  # a pause between edits, as between a reader's changes
        QApplication.processEvents()
        shown.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        w.context_edit.setPlainText(text)
        wait(lambda: "t" in shown, 60)
        wait(lambda: not any(p._flush_posted for p in lazy), 60)
        QApplication.processEvents()
        redrawn.append(time.perf_counter() - t0)
        traced.append(shown["t"] - t0)
        cpu.append(time.process_time() - c0)
    rss["edited"] = _rss_now_gb()
    # The walkthrough: a first visit of steps spread over the whole trace.
    w.raise_panel("walkthrough")
    panel = w.walkthrough_panel
    names = s.trace.names()
    app.processEvents()
    step_ms = []
    for i in range(0, len(names) - 1, max(1, (len(names) - 1) // steps)):
        panel.go_to(names[i])
        app.processEvents()
        t0 = time.perf_counter()
        panel.next()
        app.processEvents()
        step_ms.append((time.perf_counter() - t0) * 1000)
    slowest = sorted(zip(step_ms, names[1::max(1, (len(names) - 1) // steps)]),
                     reverse=True)[:3]
    out = {"open_to_first_trace_shown_s": round(open_to_trace, 2),
           "first_trace_tokens": first_tokens, "edit_tokens": int(s.trace.ids.shape[1]),
           "edit_to_trace_shown_s_median": round(statistics.median(traced), 2),
           "edit_to_redrawn_s_median": round(statistics.median(redrawn), 2),
           "edit_to_redrawn_s_max": round(max(redrawn), 2),
           "edit_cpu_s_median": round(statistics.median(cpu), 2),
           "walkthrough_steps_visited": len(step_ms),
           "walkthrough_step_ms_median": round(statistics.median(step_ms), 1),
           "walkthrough_step_ms_p90": round(sorted(step_ms)[int(0.9 * len(step_ms))], 1),
           "walkthrough_slowest_ms": {n: round(t, 1) for t, n in slowest},
           "window_peak_rss_gb": round(_peak_rss_bytes() / 1e9, 2),
           "rss_gb": {**rss, "walked": _rss_now_gb()}}
    w.close()
    return out


CHILDREN = {"open": child_open, "trace": child_trace, "window": child_window}


def run_child(kind: str, path: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, path], cwd=REPO,
                          capture_output=True, text=True, timeout=1800,
                          env=dict(os.environ, XDG_CONFIG_HOME=str(Path(path).parent / "cfg")))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} {Path(path).name}: {proc.stderr.strip()[-2000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--keep", metavar="DIR", help="build the files in DIR and keep them "
                        "(reused when already there)")
    args = parser.parse_args()
    if args.child:
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        print(json.dumps(CHILDREN[args.child[0]](args.child[1])))
        return
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.keep) if args.keep else Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        index = where / "files.json"
        t0 = time.perf_counter()
        files = json.loads(index.read_text()) if index.is_file() else build(where)
        index.write_text(json.dumps(files))
        built_s = time.perf_counter() - t0
        load = os.getloadavg()[0]
        opened = run_child("open", files["qwen_folder"])
        opened_gguf = run_child("open", files["qwen_gguf"])
        traced = run_child("trace", files["qwen_folder"])
        window = run_child("window", files["qwen_folder"])
        smol = run_child("trace", files["smol_folder"])
        figures = {"open_safetensors_s": opened["open_s"],
                   "open_gguf_q4_s": opened_gguf["open_s"],
                   "trace_64_s": traced["trace_s_median"],
                   "edit_to_redrawn_s": window["edit_to_redrawn_s_median"],
                   "walkthrough_step_ms_median": window["walkthrough_step_ms_median"],
                   "window_peak_rss_gb": window["window_peak_rss_gb"],
                   "smollm2_trace_64_ms": round(smol["trace_s_median"] * 1000)}
        print(json.dumps({
            "shape": "Qwen2.5-0.5B (and SmolLM2-135M)", "parameters": files["qwen_parameters"],
            "threads": int(os.environ["OMP_NUM_THREADS"]), "cpus": os.cpu_count(),
            "load_average_1min_before": round(load, 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
            "files_built_s": round(built_s, 1),
            "figures": figures, "targets": TARGETS,
            "met": {k: figures[k] <= TARGETS[k] for k in TARGETS},
            "detail": {"open_safetensors": opened, "open_gguf_q4_0": opened_gguf,
                       "trace_0.5b": traced, "window_0.5b": window, "trace_smollm2": smol},
        }, indent=2))


if __name__ == "__main__":
    main()
