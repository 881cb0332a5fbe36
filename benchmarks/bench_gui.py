"""GUI responsiveness while training, training throughput with and without the GUI, the
context-edit -> all-panels-redrawn latency, and the launch time. Prints one JSON object.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py [--steps 400]

Targets (issue 3): event-loop stall p99 <= 50 ms and max <= 200 ms while training; GUI
throughput >= 90 % of a headless Trainer in the same process; edit -> redraw <= 150 ms for 64
tokens (a model with context 64); launch -> window with the default model shown <= 4 s.
Issue 12: launch -> a first window (the loading window) painted <= 1.5 s.
`--launch-only` measures only the launch.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as gui.launcher does for the app
os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PROBE_MS = 10


def _percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q)) if values else 0.0


# The app's own start-up (gui.app.run), with two reports added: when the loading window has
# painted, and when the main window shows the default model's trace (then it quits).
LAUNCH_CODE = """
import sys, time
import gui.app as app

show_loading = app.show_loading
def reporting_show_loading():
    loading = show_loading()
    print("WINDOW", loading.painted_at or time.time(), flush=True)
    return loading
app.show_loading = reporting_show_loading

create_window = app.create_window
def reporting_create_window(*args, **kwargs):
    window = create_window(*args, **kwargs)
    def shown():
        print("SHOWN", time.time(), flush=True)
        window.close()
        app.QApplication.instance().exit(0)
    window.first_trace_shown.connect(shown)
    return window
app.create_window = reporting_create_window
sys.exit(app.run())
"""


def measure_launch() -> dict:
    """Seconds from spawning the app until its first window (the loading window) has painted,
    and until its main window shows the default model's trace."""
    import tempfile

    env = dict(os.environ, XDG_CONFIG_HOME=str(Path("/tmp") / "bench_gui_settings"))
    with tempfile.TemporaryDirectory() as recovery:
        env["TRANSFORMER_EXPLORER_RECOVERY"] = recovery  # no recovery copy is offered
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", LAUNCH_CODE], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=300)
    stamps = dict(line.split()[:2] for line in out.stdout.splitlines()
                  if line.startswith(("WINDOW ", "SHOWN ")))
    if "SHOWN" not in stamps or "WINDOW" not in stamps:
        raise RuntimeError(f"launch failed: {out.stderr[-2000:]}")
    return {"launch_to_window_shown_s": round(float(stamps["WINDOW"]) - t0, 2),
            "launch_to_default_shown_s": round(float(stamps["SHOWN"]) - t0, 2)}


def _form(form, steps: int, eval_interval: int) -> None:
    """The article's configuration (the form's defaults) with a shorter run."""
    from engine.config import ModelConfig, TrainConfig

    m, t = ModelConfig(), TrainConfig()
    for key in ("d_model", "n_head", "n_layer", "context_length", "d_ff", "dropout",
                "positional", "norm", "activation"):
        form.set_value(key, getattr(m, key))
    form.set_value("tokenizer", "cl100k_base")
    for key in ("batch_size", "lr", "warmup_steps", "seed"):
        form.set_value(key, getattr(t, key))
    form.set_value("steps", steps)
    form.set_value("eval_interval", eval_interval)
    form.device_box.setCurrentIndex(form.device_box.findData("cpu"))


def measure_headless(corpus, steps: int, eval_interval: int, threads: int) -> tuple[float, float]:
    """Tokens/s of a Trainer with nobody listening: wall clock (evaluations included), and the
    median its records report (training steps only).

    On a plain thread of this (otherwise idle) process with `threads` torch threads, the
    policy of the GUI's training process.
    """
    import threading

    import torch

    from engine.config import ModelConfig, TrainConfig
    from engine.model.decoder import new_model
    from engine.training.trainer import Trainer

    cfg = TrainConfig(steps=steps, eval_interval=eval_interval, device="cpu")  # min_lr: lr/10
    cfg.warmup_steps = min(cfg.warmup_steps, steps)
    box = {}

    def run() -> None:
        torch.set_num_threads(threads)
        model = new_model(ModelConfig(vocab_size=corpus.tokenizer.vocab_size), cfg.seed)
        trainer = Trainer(model, corpus, cfg, device="cpu")
        t0 = time.perf_counter()
        reported = [r.tokens_per_s for r in trainer.run() if r.event == "step" and r.tokens_per_s]
        box["rate"] = trainer.tokens / (time.perf_counter() - t0)
        box["reported"] = _percentile(reported, 50)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return box["rate"], box["reported"]


def measure_training(window, qtbot_wait, steps: int, eval_interval: int) -> dict:
    """Event-loop stalls (10 ms probe) and tokens/s while the GUI trains the default config."""
    from PySide6.QtCore import QTimer

    panel, run = window.training_panel, window.run
    _form(panel.form, steps, eval_interval)
    intervals: list[float] = []
    last = [time.perf_counter()]

    def probe() -> None:
        now = time.perf_counter()
        intervals.append((now - last[0]) * 1000)
        last[0] = now

    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(probe)
    started, done = {}, {}
    run.started.connect(lambda _info: started.setdefault("t", time.perf_counter()))

    def on_history() -> None:
        history = window.session.history
        if history and history[-1].get("event") in ("done", "stopped"):
            done.setdefault("t", time.perf_counter())

    # The run's wall clock, like the headless one: from the trainer's start to its last record
    # (the training process then still sends its final state and shuts down: not training).
    window.session.history_changed.connect(on_history)
    cpu0 = time.process_time()
    assert panel.start(), panel.form.error_label.text()
    last[0] = time.perf_counter()
    timer.start()
    qtbot_wait(lambda: run.state == "idle", 600)
    idle = time.perf_counter()
    end = done.get("t", idle)
    cpu = time.process_time() - cpu0
    timer.stop()
    window.session.history_changed.disconnect(on_history)
    result = run.last_result
    stalls = [max(0.0, i - PROBE_MS) for i in intervals]
    # The trainer's own measure (tokens per second of training steps, evaluations excluded).
    reported = [r["tokens_per_s"] for r in window.session.history
                if r.get("event") == "step" and r.get("tokens_per_s")]
    tokens = result.tokens
    return {
        "outcome": result.outcome,
        "steps": result.step,
        "stall_p50_ms": round(_percentile(stalls, 50), 1),
        "stall_p99_ms": round(_percentile(stalls, 99), 1),
        "stall_max_ms": round(max(stalls), 1),
        "probe_ticks": len(intervals),
        "gui_tokens_per_s": round(tokens / (end - started["t"]), 1),
        "trainer_reported_tokens_per_s_median": round(_percentile(reported, 50), 1),
        "training_wall_s": round(end - started["t"], 2),
        # CPU seconds this (GUI) process used per second of the run: its redraws, traces,
        # samples and message handling, which share the machine with the trainer.
        "gui_process_cpu_share": round(cpu / (idle - started["t"]), 3),
        "corpus": window.session.corpus,
    }


def measure_edit_latency(window, qtbot_wait, repeats: int = 20) -> dict:
    """Context edit -> trace -> every panel updated and painted, for 64 tokens (context 64)."""
    from PySide6.QtWidgets import QApplication

    from engine.config import ModelConfig
    from engine.model.decoder import new_model

    from gui.widgets.lazy import LazyPanel

    s = window.session
    lazy = window.findChildren(LazyPanel)
    model = new_model(ModelConfig(vocab_size=s.tokenizer.vocab_size, context_length=64), 0)
    s.set_model(model, s.tokenizer, history=[])
    qtbot_wait(lambda: s.trace is not None and s.trace.ids.shape[1] > 0, 30)
    base = ("Attention lets every position gather information from the positions before it, "
            "and a small feed-forward network reworks each position on its own. ") * 3
    handled: dict[str, float] = {}
    s.trace_changed.connect(lambda: handled.setdefault("t", time.perf_counter()))
    traced, painted, tokens = [], [], []
    for i in range(repeats):
        text = f"{i} {base}"
        time.sleep(0.2)  # a pause between edits, as between a reader's changes
        QApplication.processEvents()
        handled.clear()
        t0 = time.perf_counter()
        window.context_edit.setPlainText(text)
        qtbot_wait(lambda: "t" in handled, 10)
        # Every panel has redrawn (each in its own event-loop turn), then the paint events.
        qtbot_wait(lambda: not any(p._flush_posted for p in lazy), 10)
        QApplication.processEvents()
        t2 = time.perf_counter()
        traced.append((handled["t"] - t0) * 1000)
        painted.append((t2 - t0) * 1000)
        tokens.append(int(s.trace.ids.shape[1]))
    return {
        "edit_tokens": tokens[-1],
        "edit_to_trace_handled_ms_median": round(_percentile(traced, 50), 1),
        "edit_to_redrawn_ms_median": round(_percentile(painted, 50), 1),
        "edit_to_redrawn_ms_p90": round(_percentile(painted, 90), 1),
        "edit_to_redrawn_ms_max": round(max(painted), 1),
    }


def _launch_targets(out: dict) -> dict:
    """Each launch target: met (true/false), or null when it was not measured (--skip-launch),
    never reported as met without a figure."""
    def met(key: str, limit: float) -> bool | None:
        value = out.get(key)
        return None if value is None else value <= limit

    return {
        "launch_window<=1.5s": met("launch_to_window_shown_s", 1.5),
        "launch<=4s": met("launch_to_default_shown_s", 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--eval-interval", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-launch", action="store_true")
    parser.add_argument("--launch-only", action="store_true")
    args = parser.parse_args()
    if args.launch_only:
        out = measure_launch()
        out["targets_met"] = _launch_targets(out)
        print(json.dumps(out, indent=2))
        return 0

    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                      "/tmp/bench_gui_settings")
    out: dict = {}
    if not args.skip_launch:
        out.update(measure_launch())

    from gui import dialogs
    from gui.app import create_app
    from gui.window import MainWindow

    app = create_app()
    dialogs.show_error = lambda parent, title, message, details=None: print(
        f"dialog: {title}: {message}", file=sys.stderr)
    dialogs.ask_save_changes = lambda parent: "discard"
    dialogs.ask_close_during_training = lambda parent: "discard"

    def wait(condition, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("benchmark step timed out")
            app.processEvents()
            time.sleep(0.002)

    window = MainWindow(restore_layout=False)
    window.resize(1600, 1000)
    window.show()
    wait(lambda: window.session.trace is not None, 120)

    import torch

    from engine.training.job import TrainingRequest

    policy = TrainingRequest(None, None, "cpu", None, "char").torch_threads
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    out["torch_threads_default"] = torch.get_num_threads()
    out["torch_threads_training"] = policy
    # Rounds of (GUI run, headless run right after): on this shared machine the speed of the
    # same headless run varied from 3,000 to 4,600 tokens/s between minutes, so each GUI run is
    # compared with its neighbour, and the median ratio is reported.
    rounds = []
    for _ in range(args.rounds):
        training = measure_training(window, wait, args.steps, args.eval_interval)
        corpus = training.pop("corpus")
        # The same thread policy as the GUI's training process, with nobody listening.
        headless, reported = measure_headless(corpus, args.steps, args.eval_interval, policy)
        training["headless_tokens_per_s"] = round(headless, 1)
        training["headless_reported_tokens_per_s_median"] = round(reported, 1)
        training["gui_vs_headless"] = round(training["gui_tokens_per_s"] / headless, 3)
        rounds.append(training)
    out["rounds"] = rounds
    out["stall_p99_ms"] = max(r["stall_p99_ms"] for r in rounds)  # the worst round
    out["stall_max_ms"] = max(r["stall_max_ms"] for r in rounds)
    out["gui_vs_headless"] = round(_percentile([r["gui_vs_headless"] for r in rounds], 50), 3)
    out.update(measure_edit_latency(window, wait))
    window.close()
    app.processEvents()
    out["targets_met"] = {
        "stall_p99<=50ms": out["stall_p99_ms"] <= 50,
        "stall_max<=200ms": out["stall_max_ms"] <= 200,
        "throughput>=90%": out["gui_vs_headless"] >= 0.9,
        "edit_to_redrawn<=150ms": out["edit_to_redrawn_ms_median"] <= 150,
        **_launch_targets(out),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
