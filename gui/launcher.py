"""`transformer-explorer`: the desktop app, or the command line when given a subcommand.

`transformer-explorer train corpus.txt --out model/` runs the headless CLI (engine.cli.commands) without
importing Qt, so scripted training starts fast and works on machines without a display.
Anything else opens the window: `transformer-explorer [PATH] [--screenshot PNG] [--lang zh]`.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

# Kept in step with engine.cli.commands.COMMANDS (not imported: that would load the engine for the GUI
# path's argument parsing and slow every launch).
CLI_COMMANDS = ("train", "tokenize", "inspect", "attribute", "compare", "compare-runs",
                "sample", "info", "export-hf")
PANELS = (
    "context", "walkthrough", "tokens", "embeddings", "positional", "attention", "training",
    "generation", "insights", "attribution", "history", "runs",
)


def is_cli(args: Sequence[str]) -> bool:
    """True for `COMMAND ...`, `--lang zh COMMAND ...` and `-h COMMAND` / `--help COMMAND`."""
    args = _after_lang(args)
    if not args:
        return False
    if args[0] in CLI_COMMANDS:
        return True
    return args[0] in ("-h", "--help") and any(a in CLI_COMMANDS for a in args[1:])


def _after_lang(args: Sequence[str]) -> Sequence[str]:
    """`args` without a leading `--lang X` / `--lang=X` (the CLI takes it before its command)."""
    if list(args[:1]) == ["--lang"]:
        return args[2:]
    return args[1:] if args and args[0].startswith("--lang=") else args


def _size(text: str) -> tuple[int, int]:
    """`1366x768` -> (1366, 768), for --size."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 200 \
            or int(height) < 200:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 1366x768")
    return int(width), int(height)


def build_parser() -> argparse.ArgumentParser:
    """Options of the desktop app (the CLI has its own parser in engine.cli.commands)."""
    parser = argparse.ArgumentParser(
        prog="transformer-explorer",
        description="Train a small GPT-like decoder on your text and watch every step of it. "
        f"Command-line use: transformer-explorer {{{','.join(CLI_COMMANDS)}}} --help",
    )
    parser.add_argument("path", nargs="?", metavar="PATH",
                        help="a text file to train on, or a saved model (.safetensors or folder)")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="open, wait until the panels are drawn, save the window to PNG, exit")
    parser.add_argument("--panel", choices=PANELS,
                        help="with --screenshot: bring this panel to the front first")
    parser.add_argument("--size", type=_size, metavar="WxH",
                        help="with --screenshot: the window's size (default: 1800x1050, "
                        "less what the screen has)")
    parser.add_argument("--lang", choices=("en", "zh"), default=None,
                        help="language of panel titles and explanations (default: remembered, "
                        "else en)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `transformer-explorer` gui-script; argv[0] is the program name."""
    argv = list(sys.argv if argv is None else argv)
    args = argv[1:]
    if is_cli(args):
        from engine.cli.commands import main as cli_main

        if _after_lang(args)[0] in ("-h", "--help"):  # `-h train` means `train -h`
            command = next(a for a in args if a in CLI_COMMANDS)
            args = [command, "--help"]
        return cli_main(args)
    options = build_parser().parse_args(args)
    if (options.panel or options.size) and not options.screenshot:
        build_parser().error("--panel and --size only apply with --screenshot")

    # numpy's OpenBLAS defaults to one thread per core and spins while waiting; next to torch's
    # pool on a busy 2-core machine a 2,586 x 64 SVD (the embeddings map) took 1.4 s instead of
    # 27 ms. The app's matrices are small, so one BLAS thread is faster everywhere.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # This process's own torch work (traces, samples, ablations of a small model) is fastest on
    # one thread (a 64-token trace: 9.3 ms at 1, 10.9 ms at 2), and training runs in its own
    # process on the other cores (engine.training.job), which two pools here would fight for.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # Before Qt loads: a missing X11 library would make Qt abort with a message that does not
    # say which one; this names them and the command that installs them.
    from gui.platform_check import ensure_display_libraries

    failed = ensure_display_libraries()
    if failed is not None:
        return failed
    from gui.app import run

    return run(path=options.path, screenshot=options.screenshot, panel=options.panel,
               lang=options.lang, size=options.size)


if __name__ == "__main__":
    sys.exit(main())
