"""The headless command line: `transformer-explorer-cli train|tokenize|inspect|attribute|sample|info|export-hf`.

The top layer of the engine: it may import every other engine package, and nothing imports it
(but `gui.launcher`, which hands it the command line). `commands` parses and dispatches,
`train` drives a training run from the terminal, `attribute` says why the model chose a
token, `compare` what training changed, `compare_runs` two runs' losses side by side,
`messages` holds how the CLI speaks.
"""
from engine.cli.commands import main

__all__ = ["main"]
