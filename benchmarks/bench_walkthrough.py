"""Walkthrough responsiveness: time to move to the next step and redraw, and check_all's time.

Model: the default config (8 blocks, d_model 64, 4 heads, vocab 3771) with a 64-token context,
tracing one 64-token window. Prints one JSON object. Run from the repo root:
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_walkthrough.py
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.model.checks import check_all  # noqa: E402
from engine.config import ModelConfig  # noqa: E402
from engine.model.decoder import GPT  # noqa: E402
from engine.text.tokenizers import build_tokenizer  # noqa: E402
from engine.model.trace import run_trace  # noqa: E402
from gui.panels.walkthrough import WalkthroughPanel  # noqa: E402
from gui.session import Session  # noqa: E402

TARGET_MS = 50.0


def main() -> None:
    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    text = (Path(__file__).resolve().parent.parent / "resources" / "corpus" /
            "transformer_guide.txt").read_text(encoding="utf-8")
    tokenizer = build_tokenizer("cl100k_base", text)
    cfg = ModelConfig(context_length=64, vocab_size=max(3771, tokenizer.vocab_size))
    torch.manual_seed(0)
    model = GPT(cfg).eval()
    session = Session()
    session.set_model(model, tokenizer)
    ids = tokenizer.encode(text)[:64]
    trace = run_trace(model, ids)
    session.set_trace(trace)

    panel = WalkthroughPanel(session)
    panel.resize(1500, 950)
    panel.show()
    app.processEvents()

    cpu: dict[str, list[float]] = {}

    def walk(label: str, full_repaint: bool) -> dict[str, float]:
        """Visit every step once from the first; wall ms per step for next() plus the redraw
        (CPU ms of this process go to `cpu[label]`: on a shared machine, wall time also counts
        the time other processes held the cores)."""
        panel.go_to(trace.names()[0])
        panel.repaint()
        app.processEvents()
        out, cpu[label] = {}, []
        for _ in range(len(trace) - 1):
            t0, c0 = time.perf_counter(), time.process_time()
            panel.next()
            if full_repaint:
                panel.repaint()  # every child repainted synchronously, changed or not
            app.processEvents()  # the app's own path: the update requests of what changed
            out[panel.current_name()] = (time.perf_counter() - t0) * 1000
            cpu[label].append((time.process_time() - c0) * 1000)
        return out

    # First visit: each step's check is computed then (the logits check also runs a forward).
    first = walk("first", full_repaint=False)
    # Revisits: checks are cached, so this is the redraw alone.
    revisit = list(walk("revisit", full_repaint=False).values())
    full = list(walk("full", full_repaint=True).values())

    t0 = time.perf_counter()
    checks = check_all(model, trace)
    check_all_ms = (time.perf_counter() - t0) * 1000

    times = list(first.values())
    slowest = sorted(first.items(), key=lambda kv: -kv[1])[:3]
    result = {
        "model": {"d_model": cfg.d_model, "n_head": cfg.n_head, "n_layer": cfg.n_layer,
                  "vocab_size": cfg.vocab_size, "context": int(trace.ids.shape[1])},
        "steps": len(trace),
        "next_redraw_ms_median": round(statistics.median(times), 2),
        "next_redraw_ms_p90": round(float(np.percentile(times, 90)), 2),
        "next_redraw_ms_max": round(max(times), 2),
        "slowest_steps_ms": {k: round(v, 2) for k, v in slowest},
        "revisit_redraw_ms_median": round(statistics.median(revisit), 2),
        "full_repaint_ms_median": round(statistics.median(full), 2),
        "cpu_ms_median": {k: round(statistics.median(v), 2) for k, v in cpu.items()},
        "target_ms": TARGET_MS,
        "within_target_fraction": round(sum(t <= TARGET_MS for t in times) / len(times), 3),
        "check_all_ms": round(check_all_ms, 1),
        "checks_passed": sum(c.passed for c in checks),
        "checks_total": len(checks),
        "max_abs_diff": max(c.max_abs_diff for c in checks),
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    panel.close()


if __name__ == "__main__":
    main()
