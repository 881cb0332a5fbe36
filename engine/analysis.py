"""Read-only analyses of a model's tables (token embeddings, positional encodings).

Pure numpy: the GUI shows these results, it never computes them. Each function takes a plain
(rows, C) array so it works the same on the token table, the positional table or any trace step.
"""
from __future__ import annotations

import numpy as np


def pca_2d(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project rows onto the two main axes of variation: coords (V, 2), explained ratio (2,).

    SVD of the centred table; each axis is signed so its largest loading is positive, so the
    same table always gives the same picture (SVD alone may flip an axis between runs).
    """
    x = np.asarray(table, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"pca_2d needs a (rows, columns) table, got shape {x.shape}")
    n, _ = x.shape
    coords = np.zeros((n, 2), dtype=np.float64)
    ratio = np.zeros(2, dtype=np.float64)
    if n == 0:
        return coords, ratio
    xc = x - x.mean(axis=0, keepdims=True)  # (V, C)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)  # u (V, r), s (r,), vt (r, C)
    r = min(2, s.shape[0])
    for j in range(r):
        if vt[j, np.argmax(np.abs(vt[j]))] < 0:
            u[:, j], vt[j] = -u[:, j], -vt[j]
    coords[:, :r] = u[:, :r] * s[:r]  # (V, r) = xc · vt[:r].T
    total = float(np.sum(s**2))
    if total > 0:
        ratio[:r] = s[:r] ** 2 / total
    return coords, ratio


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
    x = np.asarray(table)
    n = x.shape[0]
    if not 0 <= index < n:
        raise IndexError(f"row {index} outside a table of {n} rows")
    sims = cosine_to_all(x, index)
    order = np.argsort(-sims, kind="stable")  # ties keep the lower index first
    out: list[tuple[int, float]] = []
    for j in order:
        if j == index:
            continue
        out.append((int(j), float(sims[j])))
        if len(out) >= k:
            break
    return out


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
