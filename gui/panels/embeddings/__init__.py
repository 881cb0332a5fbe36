"""Step 3 of the pipeline, token embedding: each token id picks one row of the table E
(vocab × d_model). Shows the rows looked up for the current context, one token's vector as bars,
its nearest tokens by cosine similarity, and a 2-D PCA map of the whole vocabulary.

The lookup values come from the trace ("embed.token"); the vocabulary-wide views read the
model's token table, analysed once per set of weights (`analysis`, no widgets). The map's
labels are chosen by `labels` (no widgets) and painted by `map_labels`; `lookup_page` and
`map_page` are the two views, and `panel` assembles the dock.
"""
from gui.panels.embeddings.panel import EmbeddingsPanel

__all__ = ["EmbeddingsPanel"]
