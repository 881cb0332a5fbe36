"""Read-only analyses of a model's tables (token embeddings, positional encodings).

Pure numpy: the GUI shows these results, it never computes them. Each function takes a plain
(rows, C) array so it works the same on the token table, the positional table or any trace step.
"""
from __future__ import annotations

import numpy as np


MAP_SAMPLE = 2000  # rows a PCA map is fitted on and shows; GPT-2's 50,257 would take seconds


def _pca_axes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean (C,), the two main axes (r, C) signed so each one's largest loading is positive,
    their singular values (r,) and the variance they explain (2,) of the float64 rows x."""
    mean = x.mean(axis=0)  # (C,)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)  # s (r,), vt (r, C)
    r = min(2, s.shape[0])
    axes = vt[:r].copy()
    for j in range(r):
        if axes[j, np.argmax(np.abs(axes[j]))] < 0:
            axes[j] = -axes[j]
    ratio = np.zeros(2, dtype=np.float64)
    total = float(np.sum(s**2))
    if total > 0:
        ratio[:r] = s[:r] ** 2 / total
    return mean, axes, s[:r], ratio


def pca_2d(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project rows onto the two main axes of variation: coords (V, 2), explained ratio (2,).

    SVD of the centred table; each axis is signed so its largest loading is positive, so the
    same table always gives the same picture (SVD alone may flip an axis between runs).
    """
    x = np.asarray(table, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"pca_2d needs a (rows, columns) table, got shape {x.shape}")
    coords = np.zeros((x.shape[0], 2), dtype=np.float64)
    if x.shape[0] == 0:
        return coords, np.zeros(2, dtype=np.float64)
    mean, axes, _, ratio = _pca_axes(x)
    coords[:, :axes.shape[0]] = (x - mean) @ axes.T  # (V, r)
    return coords, ratio


def map_sample(n_rows: int, max_rows: int = MAP_SAMPLE, seed: int = 0) -> np.ndarray:
    """The rows (sorted) a map of an n_rows table is fitted on: all of them up to max_rows,
    else a seeded random max_rows, the same every time for the same table size."""
    if n_rows <= max_rows:
        return np.arange(n_rows, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_rows, size=max_rows, replace=False)).astype(np.int64)


def pca_sampled(table: np.ndarray, max_rows: int = MAP_SAMPLE,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA fitted on map_sample's rows only, every row projected onto its two axes: coords
    (V, 2), explained ratio (2,) of the sample, and the sampled rows. Up to max_rows rows it
    is exactly pca_2d."""
    x = np.asarray(table)
    rows = map_sample(x.shape[0], max_rows, seed)
    if len(rows) == x.shape[0]:
        coords, ratio = pca_2d(x)
        return coords, ratio, rows
    mean, axes, _, ratio = _pca_axes(x[rows].astype(np.float64))
    w = axes.T.astype(np.float32)  # (C, r); float32 so the whole table is never copied
    coords = np.zeros((x.shape[0], 2), dtype=np.float64)
    coords[:, :w.shape[1]] = x @ w - (mean @ axes.T)  # (V, r) = (x - mean) · axesᵀ
    return coords, ratio, rows


def cosine_to_all(table: np.ndarray, index: int) -> np.ndarray:
    """Cosine similarity of row `index` with every row (V,); rows of zero length give 0."""
    x = np.asarray(table, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1)  # (V,)
    q = x[index]
    denom = norms * norms[index]
    dots = x @ q  # (V,)
    return np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)


def nearest_tokens(table: np.ndarray, index: int, k: int = 10) -> list[tuple[int, float]]:
    """The k rows most similar to row `index` by cosine, best first, excluding the row itself."""
    return CosineIndex(table).nearest(index, k)


class CosineIndex:
    """Nearest rows of a (V, C) table by cosine, over every row, without a float64 copy of it.

    Candidates come from one float32 product (18 ms for GPT-2's 50,257 x 768); the best of
    them are then scored again in float64 and ranked as a float64 brute force would rank them
    (ties: the lower index first). CANDIDATES x k candidates leave room for float32 rounding,
    which is about 1e-7 where neighbouring similarities differ by far more.
    """

    CANDIDATES = 8

    def __init__(self, table: np.ndarray):
        self.table = np.asarray(table)
        if self.table.ndim != 2:
            raise ValueError(f"a (rows, columns) table is needed, got {self.table.shape}")
        # Summed in float64 (einsum casts in buffered chunks, never the whole table).
        self.norms = np.sqrt(np.einsum("ij,ij->i", self.table, self.table,
                                       dtype=np.float64, casting="safe"))  # (V,)

    def nearest(self, index: int, k: int = 10) -> list[tuple[int, float]]:
        """The k rows most similar to row `index`, best first, excluding the row itself."""
        x = self.table
        n = x.shape[0]
        if not 0 <= index < n:
            raise IndexError(f"row {index} outside a table of {n} rows")
        q = x[index]
        m = min(n, self.CANDIDATES * (k + 1))
        if m < n:
            rough = (x @ q.astype(x.dtype)) / np.maximum(self.norms, 1e-30)  # (V,) float32
            pool = np.argpartition(-rough, m - 1)[:m]
        else:
            pool = np.arange(n)
        q64 = q.astype(np.float64)
        dots = x[pool].astype(np.float64) @ q64  # (m,)
        denom = self.norms[pool] * self.norms[index]
        sims = np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)
        order = np.lexsort((pool, -sims))  # best first; ties keep the lower index first
        out = [(int(pool[j]), float(sims[j])) for j in order if pool[j] != index]
        return out[:k]


def spread_subset(coords: np.ndarray, k: int, include: np.ndarray | None = None) -> np.ndarray:
    """Up to k row indices spread over a 2-D map (farthest-point sampling), for labelling.

    Rows in `include` are always taken (even beyond k); the rest are added one at a time, each
    the point farthest from everything chosen so far, so labels cover the map, not one corner.
    """
    pts = np.asarray(coords, dtype=np.float64)
    n = pts.shape[0]
    k = min(k, n)
    chosen: list[int] = []
    if include is not None:
        for i in np.asarray(include, dtype=np.int64).ravel():
            if 0 <= i < n and int(i) not in chosen:
                chosen.append(int(i))
    if k <= 0 or n == 0:
        return np.asarray(chosen, dtype=np.int64)
    if not chosen:
        centre = pts.mean(axis=0)
        chosen.append(int(np.argmax(np.sum((pts - centre) ** 2, axis=1))))
    dist = np.full(n, np.inf)
    for i in chosen:
        dist = np.minimum(dist, np.sum((pts - pts[i]) ** 2, axis=1))
    while len(chosen) < k:
        j = int(np.argmax(dist))
        if dist[j] <= 0:  # every remaining point sits on a chosen one
            break
        chosen.append(j)
        dist = np.minimum(dist, np.sum((pts - pts[j]) ** 2, axis=1))
    return np.asarray(chosen, dtype=np.int64)
