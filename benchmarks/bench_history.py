"""Scrubbing the training history: a slider move to every visible panel redrawn.

The whole main window (every dock) shows a default-size model (8 blocks, d_model 64, 4 heads)
with a 64-token context; a snapshot store holds weights of several training steps. Each scrub
moves the History slider to another snapshot and waits until the panels have the new trace
and the window has repainted. Target: <= 300 ms. Prints one JSON object; run from the repo root:
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_history.py
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.config import ModelConfig  # noqa: E402
from engine.model.decoder import GPT  # noqa: E402
from engine.training.snapshots import SnapshotStore  # noqa: E402
from engine.text.tokenizers import build_tokenizer  # noqa: E402

TARGET_MS = 300.0
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-history-"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp))
    app = QApplication.instance() or QApplication([])
    from gui.window import DEFAULT_SIZE, MainWindow

    text = (ROOT / "resources" / "corpus" / "transformer_guide.txt").read_text(encoding="utf-8")
    tokenizer = build_tokenizer("cl100k_base", text)
    cfg = ModelConfig(context_length=64, vocab_size=tokenizer.vocab_size)
    torch.manual_seed(0)
    model = GPT(cfg).eval()
    # Snapshots that differ the way training steps do: the weights drift a little each time.
    store = SnapshotStore(tmp / "snapshots")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    steps = [0, 100, 200, 300, 400, 500]
    for step in steps:
        store.add(step, state, {"step": step, "val_loss": 5.0 - step / 200})
        state = {k: v + 0.01 * torch.randn_like(v) if v.is_floating_point() else v
                 for k, v in state.items()}

    window = MainWindow(restore_layout=False, load_default=False)
    window.resize(*DEFAULT_SIZE)
    window.show()
    s = window.session
    s.set_model(model, tokenizer, history=[])
    window.context_edit.setPlainText(tokenizer.decode(tokenizer.encode(text)[:64]))
    deadline = time.perf_counter() + 30
    while (s.trace is None or s.trace.ids.shape[1] < 64) and time.perf_counter() < deadline:
        app.processEvents()
    s.set_snapshots(store)
    window.docks["history"].raise_()
    app.processEvents()
    panel = window.history_panel

    timings = []
    order = steps[1:] + steps[:1] + steps[1:]  # uncached first, then a cached second pass
    for i, step in enumerate(order):
        shown = []
        panel.snapshot_shown.connect(shown.append)
        t0 = time.perf_counter()
        panel.set_step(step)
        while not shown and time.perf_counter() - t0 < 10:
            app.processEvents()
        window.repaint()  # the whole window, every visible dock, painted now
        app.processEvents()
        timings.append((time.perf_counter() - t0) * 1000)
        panel.snapshot_shown.disconnect(shown.append)
    first = timings[: len(steps)]
    second = timings[len(steps):]
    result = {
        "context_tokens": int(s.trace.ids.shape[1]),
        "snapshots": len(store),
        "scrub_ms_median_uncached": round(statistics.median(first), 1),
        "scrub_ms_max_uncached": round(max(first), 1),
        "scrub_ms_median_cached": round(statistics.median(second), 1),
        "target_ms": TARGET_MS,
        "met_target": max(timings) <= TARGET_MS,
    }
    window.shutdown()
    window.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
