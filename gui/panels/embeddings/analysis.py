"""The token table E as the Embeddings panel analyses it, with no widgets: its 2-D PCA map
(fitted on, and showing, at most engine.model.analysis.MAP_SAMPLE rows: GPT-2's 50,257 would cost
seconds a projection and a crowd of points) and each token's nearest tokens over the whole
table, kept while the weights they came from are unchanged, and re-projected at most every
MAP_INTERVAL_S while training."""
from __future__ import annotations

import time

import numpy as np

from engine.model.analysis import CosineIndex, pca_sampled
from engine.model.decoder import GPT

MAP_INTERVAL_S = 3.0  # while training, the vocabulary map is re-projected at most this often


def token_table(model: GPT) -> np.ndarray:
    """The model's token table E (V, C) as float32."""
    # No copy: a model the app shows is never changed in place (new weights are a new model).
    return model.token_table().detach().cpu().numpy().astype(np.float32, copy=False)


def weights_version(model: GPT) -> int:
    """Changes whenever E's weights change: in-place updates (optimizer steps,
    load_state_dict) bump the tensor's version counter."""
    return model.token_table()._version


class TableAnalysis:
    """The token table and its PCA, kept while the weights they came from are unchanged."""

    def __init__(self, model: GPT, table: np.ndarray, now: float | None = None):
        self.model = model
        self.version = weights_version(model)
        self.table = table  # (V, C)
        self._index = CosineIndex(table)
        # coords of every row (V, 2) on the axes of the sampled rows `shown`, which the map draws
        self.coords, self.explained, self.shown = pca_sampled(table)
        self.map_version = self.version  # the weights the map (coords) was made from
        self.map_time = time.monotonic() if now is None else now

    def matches(self, model: GPT) -> bool:
        """The analysis is of `model`'s current weights."""
        return model is self.model and weights_version(model) == self.version

    def map_current(self) -> bool:
        """The map was projected from the newest weights (not kept back while training)."""
        return self.map_version == self.version

    def update_table(self, table: np.ndarray) -> None:
        """New weights for the table only: the map keeps the projection it was made from."""
        self.version = weights_version(self.model)
        self.table = table
        self._index = CosineIndex(table)

    def nearest(self, token: int, k: int) -> list[tuple[int, float]]:
        """(compact id, cosine) of the k tokens nearest to `token` in the newest table."""
        return self._index.nearest(token, k)


def refreshed(current: TableAnalysis | None, model: GPT, training: bool,
              now: float | None = None) -> tuple[TableAnalysis, bool]:
    """The analysis of `model`'s current weights, and whether its map was (re-)projected.

    Re-projecting the map costs far more than the rest of a redraw; while training sends new
    weights every few seconds, the map follows more slowly. The table itself (lookups,
    neighbours, bars) always has the newest weights.
    """
    if current is not None and current.matches(model):
        return current, False
    now = time.monotonic() if now is None else now
    table = token_table(model)
    if (current is not None and current.model is model and training
            and now - current.map_time < MAP_INTERVAL_S):
        current.update_table(table)
        return current, False
    return TableAnalysis(model, table, now), True


def distinct_in_order(ids: np.ndarray) -> list[int]:
    """The distinct ids of `ids`, in order of first occurrence."""
    return list(dict.fromkeys(np.asarray(ids).tolist()))
