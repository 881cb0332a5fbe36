"""How the CLI speaks: its name, the flags behind config fields, and errors on one line."""
from __future__ import annotations

PROG = "transformer-explorer"

# The flag a user typed for each config field, so a ConfigError names what they can change.
FLAGS = {"batch_size": "--batch", "steps": "--steps", "lr": "--lr", "min_lr": "--min-lr",
         "d_model": "--d-model", "n_head": "--heads", "n_layer": "--layers",
         "context_length": "--context", "d_ff": "--ffn", "dropout": "--dropout",
         "warmup_steps": "--warmup", "eval_interval": "--eval-interval",
         "eval_batches": "--eval-batches", "grad_clip": "--grad-clip",
         "grad_accum": "--grad-accum", "dist_timeout": "--dist-timeout"}


def one_line(exc: BaseException) -> str:
    """The error as one line: a config field named by its flag, a file by its path."""
    from engine.config import ConfigError

    text = str(exc) or type(exc).__name__
    if isinstance(exc, ConfigError) and exc.field in FLAGS:  # "--batch (batch_size): ..."
        text = f"{FLAGS[exc.field]} ({exc.field}){text[len(exc.field):]}"
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    return " ".join(text.split())


def fmt(x: float | None) -> str:
    """A loss with four decimals, or n/a."""
    return "n/a" if x is None else f"{x:.4f}"
