"""Step 1 of the pipeline, tokenize: the context text cut into tokens, each on its own pastel
background, with ids and bytes on hover, statistics, and the same text under other tokenizers.

`rows` makes the tokens (no widgets); `text_view` draws them, `stats_view` counts them,
`form` chooses the tokenizer, and `panel` assembles the dock.
"""
from gui.panels.tokens.panel import TokensPanel

__all__ = ["TokensPanel"]
