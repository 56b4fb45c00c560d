"""The permutation floor under the false discovery rate (issue 14).

With P permutations no two-sided pseudo p-value is below 2/(P+1). When that
floor is above alpha/m, Benjamini-Hochberg passes areas at the floor only
when enough of them tie there: the permutation count, not the data, decides.
gangmap re-tests the areas at the floor with enough permutations (up to a
cap) and warns when the cap is not enough.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from gangmap import measures
from gangmap.measures.inference import (
    bh_threshold,
    decide,
    floor_binds,
    lag_simulator,
    needed_permutations,
    sample_without_replacement,
)


def _grid(vals, n=10):
    geoms = [box(i % n, i // n, i % n + 1, i // n + 1) for i in range(n * n)]
    return gpd.GeoDataFrame({"ward_code": [f"E05{i:06d}" for i in range(n * n)], "reports": vals},
                            geometry=geoms, crs=27700)


def _planted():
    rng = np.random.default_rng(5)
    vals = rng.poisson(4, 100)
    for i in (0, 1, 2, 10, 11, 12, 20, 21, 22):
        vals[i] += 9
    return _grid(vals)


def _weak_areas(q: float = 0.002):
    """100 areas: six whose one-sided tail is q (two-sided p = 2q = 0.004), the rest unremarkable;
    a first pass of 999 permutations put the six at the floor 0.002."""
    m = 100
    p = np.r_[np.full(6, 0.002), np.linspace(0.2, 1.0, m - 6)]
    upper = np.ones(m, bool)
    perms = np.full(m, 999)

    def simulate(i, count, rng):
        tail = q if i < 6 else 0.5
        return 0.0, np.where(rng.random(count) < tail, 1.0, -1.0)

    return p, upper, perms, np.ones(m, bool), simulate


def test_the_floor_decides_without_more_permutations_and_a_warning_says_so():
    p, upper, perms, tested, sim = _weak_areas()
    assert floor_binds(p, perms, tested, 0.05, "two-sided")  # 0.002 > 0.05 / 100
    # six ties at the floor: BH passes all six (0.002 <= 6 * 0.0005) although their p is 0.004
    assert bh_threshold(p, 0.05) == 0.002
    with pytest.warns(measures.PermutationFloorWarning, match="smallest p-value 999"):
        d = decide(p.copy(), upper.copy(), perms.copy(), tested, alpha=0.05, fdr=True, alternative="two-sided",
                   simulate=sim, seed=1, max_permutations=999, what="test")
    assert d.significant.sum() == 6 and d.floor_binding and d.refined == ()


def test_raising_the_permutations_at_the_floor_removes_the_artefact():
    p, upper, perms, tested, sim = _weak_areas()
    with warnings.catch_warnings():
        warnings.simplefilter("error", measures.PermutationFloorWarning)
        d = decide(p, upper, perms, tested, alpha=0.05, fdr=True, alternative="two-sided", simulate=sim, seed=1,
                   max_permutations=99_999, what="test")
    assert needed_permutations(100, 0.05, "two-sided") == 3999  # floor 2/4000 = alpha/m
    assert set(d.refined) == set(range(6)) and (perms[:6] == 3999).all() and (perms[6:] == 999).all()
    assert np.all(np.abs(p[:6] - 0.004) < 0.003)  # re-estimated near the true 0.004
    assert d.significant.sum() == 0 and not d.floor_binding


def test_getis_ord_and_local_moran_refine_at_the_floor():
    g = _planted()
    for fn, col in ((measures.getis_ord, "reports_gi"), (measures.local_moran, "reports_lisa")):
        with pytest.warns(measures.PermutationFloorWarning):
            capped = fn(g, "reports", fdr=True, max_permutations=999)
        with warnings.catch_warnings():
            warnings.simplefilter("error", measures.PermutationFloorWarning)
            refined = fn(g, "reports", fdr=True)
        p = refined[f"{col}_p"].dropna()
        assert (p >= 2 / 4000 - 1e-12).all() and np.isclose(p.min(), 2 / 4000)  # 3,999 at the floor areas
        assert (refined[col] != "ns").sum() >= 1
        # the strong cluster is found either way; refining never adds a finding the capped run lacked here
        assert set(refined.index[refined[col] != "ns"]) <= set(capped.index[capped[col] != "ns"])


def test_refined_p_values_follow_esdas_reference_distribution():
    """The numpy conditional permutations give the same p-value as esda's, within Monte Carlo error."""
    import esda
    from libpysal.weights import W

    g = _planted()
    w = measures.weights(g).w
    y = g["reports"].to_numpy(dtype=float)
    ids = list(w.id_order)
    where = {c: i for i, c in enumerate(ids)}
    nbrs = [np.array([where[j] for j in w.neighbors[c]]) for c in ids]
    sim = lag_simulator(y, nbrs, [np.ones(len(k)) for k in nbrs], lambda i, lags: y[i] + lags)
    wb = W({c: list(w.neighbors[c]) for c in ids}, {c: [1.0] * len(w.neighbors[c]) for c in ids}, id_order=ids)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gi = esda.G_Local(y, wb, transform="B", star=True, permutations=9999, seed=4, n_jobs=1)
    rng = np.random.default_rng(9)
    for i in (33, 44, 45, 70):  # areas with p well away from 0 and 1
        obs, sims = sim(i, 9999, rng)
        p_ge = ((sims >= obs - 1e-9).sum() + 1) / 10000
        esda_ge = ((gi.rGs[i] >= gi.Gs[i] - 1e-12).sum() + 1) / 10000
        assert abs(p_ge - esda_ge) < 4 * np.sqrt(esda_ge * (1 - esda_ge) / 10000) + 1e-3


def test_sampling_without_replacement_is_distinct_and_uniform():
    rng = np.random.default_rng(0)
    s = sample_without_replacement(rng, 9, 4, 30_000)
    assert s.shape == (30_000, 4)
    assert (np.sort(s, axis=1)[:, 1:] != np.sort(s, axis=1)[:, :-1]).all()
    counts = np.bincount(s.ravel(), minlength=9) / s.size
    assert np.allclose(counts, 1 / 9, atol=0.005)
    first = np.bincount(s[:, 0], minlength=9) / len(s)  # each position uniform too (random order)
    assert np.allclose(first, 1 / 9, atol=0.01)
