"""engine.model.analysis: PCA map and nearest neighbours of token tables (no Qt)."""
import numpy as np
import pytest

from engine.model.analysis import cosine_to_all, nearest_tokens, pca_2d, spread_subset


def test_points_on_a_line_have_one_component():
    rng = np.random.default_rng(0)
    direction = rng.normal(size=8)
    t = np.linspace(-3, 5, 50)
    table = 2.0 + t[:, None] * direction[None, :]  # (50, 8), all on one line
    coords, ratio = pca_2d(table)
    assert coords.shape == (50, 2) and ratio.shape == (2,)
    assert ratio[0] == pytest.approx(1.0, abs=1e-9)
    assert ratio[1] == pytest.approx(0.0, abs=1e-9)
    # The first coordinate is the position along the line (up to scale), centred.
    scale = np.linalg.norm(direction)
    assert np.allclose(np.abs(coords[:, 0]), np.abs((t - t.mean()) * scale), atol=1e-9)
    assert np.allclose(coords[:, 1], 0.0, atol=1e-9)


def test_pca_matches_covariance_eigenvalues_and_is_deterministic():
    rng = np.random.default_rng(1)
    table = rng.normal(size=(40, 6)) * np.array([5.0, 3.0, 1.0, 0.5, 0.2, 0.1])
    coords, ratio = pca_2d(table)
    eig = np.sort(np.linalg.eigvalsh(np.cov(table.T)))[::-1]
    assert np.allclose(ratio, eig[:2] / eig.sum())
    assert np.allclose(coords.var(axis=0, ddof=1), eig[:2])
    again, _ = pca_2d(table.copy())
    assert np.array_equal(coords, again)
    # Flipping the table's sign flips the data, not the chosen axis directions' convention.
    flipped, _ = pca_2d(-table)
    assert np.allclose(np.abs(flipped), np.abs(coords))


def test_pca_of_tiny_tables():
    coords, ratio = pca_2d(np.ones((1, 4)))
    assert coords.shape == (1, 2) and np.all(ratio == 0)
    coords, ratio = pca_2d(np.array([[0.0], [1.0], [3.0]]))  # one column: one component
    assert ratio[0] == pytest.approx(1.0) and ratio[1] == 0
    with pytest.raises(ValueError):
        pca_2d(np.zeros(5))


def test_nearest_finds_duplicate_first_with_cosine_one():
    rng = np.random.default_rng(2)
    table = rng.normal(size=(30, 16)).astype(np.float32)
    table[17] = table[4]  # a duplicated row
    table[9] = 3.0 * table[4]  # same direction, longer: cosine 1 too
    near = nearest_tokens(table, 4, k=5)
    assert len(near) == 5
    assert {near[0][0], near[1][0]} == {9, 17}
    assert near[0][1] == pytest.approx(1.0, abs=1e-6)
    assert near[1][1] == pytest.approx(1.0, abs=1e-6)
    assert all(i != 4 for i, _ in near)
    sims = [c for _, c in near]
    assert sims == sorted(sims, reverse=True)


def test_nearest_matches_bruteforce_cosine_and_handles_zero_rows():
    rng = np.random.default_rng(3)
    table = rng.normal(size=(12, 5))
    table[3] = 0.0
    near = nearest_tokens(table, 0, k=11)
    expected = [
        float(table[0] @ table[j] / (np.linalg.norm(table[0]) * np.linalg.norm(table[j])))
        if j != 3 else 0.0
        for j in range(12)
    ]
    for j, cos in near:
        assert cos == pytest.approx(expected[j])
    assert cosine_to_all(table, 3)[5] == 0.0  # no NaN from a zero-length row
    with pytest.raises(IndexError):
        nearest_tokens(table, 12)


def test_spread_subset_covers_extremes_and_keeps_included():
    coords = np.array([[0, 0], [10, 0], [0, 10], [0.1, 0.1], [5, 5], [0.2, 0]], dtype=float)
    chosen = spread_subset(coords, 3)
    assert len(chosen) == 3 and len(set(chosen.tolist())) == 3
    assert 3 not in chosen and 5 not in chosen  # crowded points are not labelled first
    with_included = spread_subset(coords, 3, include=np.array([3]))
    assert with_included[0] == 3 and len(with_included) == 3
    assert len(spread_subset(np.zeros((4, 2)), 3)) == 1  # identical points: one label


def test_pca_of_a_large_table_is_fitted_on_a_bounded_sample():
    from engine.model.analysis import MAP_SAMPLE, map_sample, pca_sampled

    rng = np.random.default_rng(0)
    table = rng.normal(size=(6000, 12)).astype(np.float32)
    table[:, 0] *= 5  # one clear main axis
    coords, ratio, rows = pca_sampled(table, max_rows=1000)
    assert len(rows) == 1000 and np.array_equal(rows, map_sample(6000, 1000))
    assert coords.shape == (6000, 2)  # every row placed, only the sample fitted
    # The sample's own PCA gives the same picture for the sampled rows.
    own, own_ratio = pca_2d(table[rows])
    np.testing.assert_allclose(coords[rows] - coords[rows].mean(0), own, atol=1e-4)
    np.testing.assert_allclose(ratio, own_ratio)
    assert ratio[0] > 0.5
    small = table[:300]
    c, r, all_rows = pca_sampled(small, max_rows=MAP_SAMPLE)
    assert len(all_rows) == 300
    np.testing.assert_array_equal(c, pca_2d(small)[0])


def test_nearest_over_a_large_table_equals_brute_force():
    from engine.model.analysis import CosineIndex, cosine_to_all

    rng = np.random.default_rng(1)
    table = rng.normal(size=(20000, 48)).astype(np.float32)
    index = CosineIndex(table)
    for token in (0, 777, 19999):
        sims = cosine_to_all(table, token)
        brute = [int(j) for j in np.argsort(-sims, kind="stable") if j != token][:10]
        assert [i for i, _ in index.nearest(token, 10)] == brute
