"""Run every benchmark in this folder, one process at a time (they measure the machine, so
they must not share its two cores), and print each one's JSON under its name.

bench_nanogpt runs nanoGPT's own train.py beside ours when NANOGPT_DIR names a checkout with its
shakespeare_char data prepared (`make bench NANOGPT_DIR=...`); without one it says so and is
skipped."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    results, failed = {}, []
    for script in sorted(here.glob("bench_*.py")):
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        if proc.returncode != 0:
            failed.append(script.name)
            results[script.stem] = {"error": proc.stderr.strip().splitlines()[-1:]}
            continue
        # Each benchmark ends its output with one JSON object (on one line or indented).
        lines = proc.stdout.rstrip().splitlines()
        start = max(i for i, line in enumerate(lines) if line.startswith("{"))
        results[script.stem] = json.loads("\n".join(lines[start:]))
    print(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
