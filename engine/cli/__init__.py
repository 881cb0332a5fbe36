"""The headless command line: `transformer-explorer-cli train|tokenize|inspect|sample|info|export-hf`.

The top layer of the engine: it may import every other engine package, and nothing imports it
(but `gui.launcher`, which hands it the command line). `commands` parses and dispatches,
`train` drives a training run from the terminal, `messages` holds how the CLI speaks.
"""
from engine.cli.commands import main

__all__ = ["main"]
