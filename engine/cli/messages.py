"""How the CLI speaks: its name, the flags behind config fields, and errors on one line.

The CLI speaks English unless `--lang zh` (engine.cli.commands sets `language` once, for the
whole process): the engine's refusals and warnings are Saids (engine.wording), said here in
that language. The CLI's own progress lines stay English.
"""
from __future__ import annotations

from engine.wording import LANGUAGES, in_language

PROG = "transformer-explorer"

# The language of this process's refusals and warnings ("en" or "zh"), set from --lang.
language = "en"


def set_language(lang: str) -> None:
    """Say the engine's refusals and warnings in `lang` from now on ("en" or "zh")."""
    global language
    language = lang if lang in LANGUAGES else "en"


def words(thing: object) -> str:
    """An engine Said, exception or warning in the CLI's language (plain text as it is)."""
    return in_language(thing, language)


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

    text = words(exc) or type(exc).__name__
    if isinstance(exc, ConfigError) and exc.field in FLAGS:  # "--batch (batch_size): ..."
        text = f"{FLAGS[exc.field]} ({exc.field}){text[len(exc.field):]}"
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    return " ".join(text.split())


def fmt(x: float | None) -> str:
    """A loss with four decimals, or n/a."""
    return "n/a" if x is None else f"{x:.4f}"
