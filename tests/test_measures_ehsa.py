"""Emerging hotspot analysis (issue 14): space-time cube, Mann-Kendall on Gi*, Esri's categories.

Oracles: Getis-Ord's Gi* z-score written out with numpy on neighbours found
from the grid geometry directly; a brute-force classifier that collects every
category whose published definition holds and then applies the documented
tie-break; and planted patterns whose answer is known.
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from gangmap import measures
from gangmap.errors import InputError
from gangmap.table import AreaTable, from_frame

N, T = 7, 10
MONTHS = [str(p) for p in pd.period_range("2018-01", periods=T, freq="M")]
CODES = [f"E05{i:06d}" for i in range(N * N)]
BLOCK = [(3 + dy) * N + (3 + dx) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
CENTRE = 3 * N + 3


def _areas(extra_island: bool = False) -> gpd.GeoDataFrame:
    geoms = [box(i % N, i // N, i % N + 1, i // N + 1) for i in range(N * N)]
    codes = list(CODES)
    if extra_island:
        geoms.append(box(20, 20, 21, 21))
        codes.append("E05999999")
    return gpd.GeoDataFrame({"ward_code": codes}, geometry=geoms, crs=27700)


def _planted(values, seed=7, background=12.0):
    rng = np.random.default_rng(seed)
    y = rng.poisson(background, (N * N, T)).astype(float)
    for i in BLOCK:
        y[i] = rng.poisson(np.asarray(values, dtype=float))
    g = _areas()
    g["reports"] = y.sum(axis=1)
    return from_frame(g, counts=["reports"]), pd.DataFrame(y, index=CODES, columns=MONTHS)


# ---------------------------------------------------------------------- Gi* z, independently
def _gi_star_z(x: np.ndarray) -> np.ndarray:
    """Getis & Ord (1992, 1995) G*_i as a z-score, binary queen neighbours of a regular grid plus self."""
    n = len(x)
    xbar, s = x.mean(), math.sqrt((x ** 2).mean() - x.mean() ** 2)
    out = np.empty(n)
    for i in range(n):
        hood = [j for j in range(n) if abs(j % N - i % N) <= 1 and abs(j // N - i // N) <= 1]
        w = len(hood)
        out[i] = (x[hood].sum() - xbar * w) / (s * math.sqrt((n * w - w * w) / (n - 1)))
    return out


def test_cube_z_scores_are_getis_ords_gi_star():
    table, series = _planted([12, 30, 45, 20, 12, 60, 12, 12, 40, 12])
    cube = measures.space_time_cube(table, series, permutations=199)
    for t in MONTHS:
        np.testing.assert_allclose(cube.z[t].to_numpy(), _gi_star_z(series[t].to_numpy()), rtol=1e-9)
    # the trend is Mann-Kendall on each area's z-scores
    mk = measures.mann_kendall(cube.z.loc[CODES[CENTRE]].to_numpy())
    assert cube.trend.loc[CODES[CENTRE], "mk_z"] == pytest.approx(mk.z)


# ---------------------------------------------------------------------- categories, brute force
def _candidates(hot, cold, trend):
    """Every category whose published definition (Esri, "How Emerging Hot Spot Analysis works") holds.
    trend: +1 significant rise of the z-scores, -1 significant fall, 0 none."""
    n, out = len(hot), []
    for kind, f, other, up in (("hot", hot, cold, 1), ("cold", cold, hot, -1)):
        share = sum(f) / n
        before = f[:-1]
        run = 0
        for v in reversed(f):
            if not v:
                break
            run += 1
        if f[-1] and not any(before):
            out.append(f"new {kind} spot")
        if f[-1] and run >= 2 and not any(f[: n - run]) and share < 0.9:
            out.append(f"consecutive {kind} spot")
        if share >= 0.9 and f[-1] and trend == up:
            out.append(f"intensifying {kind} spot")
        if share >= 0.9 and trend == 0:
            out.append(f"persistent {kind} spot")
        if share >= 0.9 and f[-1] and trend == -up:
            out.append(f"diminishing {kind} spot")
        if f[-1] and any(before) and share < 0.9 and not any(other):
            out.append(f"sporadic {kind} spot")
        if f[-1] and share < 0.9 and any(other[:-1]):
            out.append(f"oscillating {kind} spot")
        if not f[-1] and share >= 0.9:
            out.append(f"historical {kind} spot")
    return out


ORDER = [f"{p} {k} spot" for k in ("hot", "cold") for p in measures.ehsa.PATTERNS]


def _brute(hot, cold, trend):
    """The documented tie-break: the final period's state decides the family (historical only when
    it is neither hot nor cold), then Esri's order."""
    cands = _candidates(hot, cold, trend)
    if hot[-1]:
        cands = [c for c in cands if c.endswith("hot spot") and not c.startswith("historical")]
    elif cold[-1]:
        cands = [c for c in cands if c.endswith("cold spot") and not c.startswith("historical")]
    else:
        cands = [c for c in cands if c.startswith("historical")]
    return min(cands, key=ORDER.index) if cands else "no pattern detected"


def _check(hot, cold, trend):
    z, p = {1: (2.5, 0.01), -1: (-2.5, 0.01), 0: (0.4, 0.6)}[trend]
    got = measures.classify_ehsa(hot, cold, z, p, alpha=0.05)
    assert got == _brute(list(hot), list(cold), trend), (hot, cold, trend, got)
    return got


def test_categories_match_the_definitions_for_every_short_history():
    seen = set()
    for states in itertools.product((0, 1, -1), repeat=5):  # none, hot, cold per period
        hot = [s == 1 for s in states]
        cold = [s == -1 for s in states]
        for trend in (1, -1, 0):
            seen.add(_check(hot, cold, trend))
    # with 5 periods "90%" means all 5, so a historical spot (not hot in the last) cannot happen
    assert seen == set(ORDER) - {"historical hot spot", "historical cold spot"} | {"no pattern detected"}


def test_categories_match_the_definitions_for_random_long_histories():
    rng = np.random.default_rng(14)
    seen = set()
    for _ in range(3000):
        n = int(rng.integers(2, 25))
        mode = rng.random()
        p_hot = 0.95 if mode < 0.3 else (0.05 if mode < 0.6 else 0.4)
        states = rng.choice([1, 0, -1], size=n, p=[p_hot, (1 - p_hot) * 0.7, (1 - p_hot) * 0.3])
        if rng.random() < 0.3:
            states = -states
        seen.add(_check(states == 1, states == -1, int(rng.integers(-1, 2))))
    assert seen == set(ORDER) | {"no pattern detected"}  # every branch was compared


# ---------------------------------------------------------------------- planted patterns
H, L, B = 45, 0, 12
PLANTED = {
    "new hot spot": [B] * 9 + [H],
    "consecutive hot spot": [B] * 7 + [H] * 3,
    "persistent hot spot": [H] * 10,
    "intensifying hot spot": list(np.linspace(30, 90, 10)),
    "diminishing hot spot": list(np.linspace(90, 30, 10)),
    "sporadic hot spot": [B, H, B, B, H, B, B, H, B, H],
    "oscillating hot spot": [B, L, B, H, L, B, B, B, B, H],
    "historical hot spot": [H] * 9 + [B],
    "persistent cold spot": [L] * 10,
    "new cold spot": [B] * 9 + [L],
}


@pytest.mark.parametrize("pattern", list(PLANTED))
def test_planted_patterns_are_found(pattern):
    table, series = _planted(PLANTED[pattern])
    out = measures.emerging_hotspots(table, "reports", series)
    assert out["reports_ehsa"].iloc[CENTRE] == pattern
    # far from the block, nothing planted: mostly no pattern
    far = [i for i in range(N * N) if abs(i % N - 3) >= 3 or abs(i // N - 3) >= 3]
    assert (out["reports_ehsa"].iloc[far] == "no pattern detected").mean() > 0.8


# ---------------------------------------------------------------------- gaps, exclusions, layer
def test_a_month_with_no_data_anywhere_is_dropped_and_listed():
    table, series = _planted(PLANTED["consecutive hot spot"])
    gap = series.copy()
    gap["2018-05"] = np.nan
    a = measures.space_time_cube(table, gap)
    b = measures.space_time_cube(table, series.drop(columns="2018-05"))
    assert a.dropped == ("2018-05",) and "2018-05" not in a.periods
    pd.testing.assert_series_equal(a.categories, b.categories)
    pd.testing.assert_frame_equal(a.z, b.z)


def test_an_area_with_no_data_in_a_month_is_not_tested_then():
    table, series = _planted(PLANTED["persistent hot spot"])
    part = series.copy()
    part.iloc[CENTRE, 2] = np.nan
    cube = measures.space_time_cube(table, part)
    assert np.isnan(cube.z.iloc[CENTRE, 2]) and not cube.hot.iloc[CENTRE, 2]
    assert np.isfinite(cube.z.iloc[CENTRE + 1, 2])


def test_exclusions_islands_and_the_map_layer():
    table, series = _planted(PLANTED["new hot spot"])
    hidden = [CODES[0], CODES[1]]
    out = measures.ensure(table, "reports_ehsa", series={"reports": series}, exclude=hidden)
    assert isinstance(out, AreaTable) and out["reports_ehsa"].iloc[:2].isna().all()
    assert out["reports_ehsa"].iloc[CENTRE] == "new hot spot"
    assert out.schema.derived["reports_ehsa"] == ("reports",) == out.schema.derived["reports_ehsa_trend_z"]
    note = out.schema.notes["reports_ehsa"]
    assert note["measure"] == "ehsa" and note["base"] == "reports" and note["periods"] == MONTHS
    assert set(out["reports_ehsa"].dropna()) <= set(measures.EHSA_LABELS)
    assert measures.is_categorical("reports_ehsa")
    # an area with no neighbour is an island, never a pattern
    g = _areas(extra_island=True)
    s2 = pd.concat([series, pd.DataFrame([[90.0] * T], index=["E05999999"], columns=MONTHS)])
    g["reports"] = s2.sum(axis=1).to_numpy()
    isl = measures.emerging_hotspots(from_frame(g, counts=["reports"]), "reports", s2,
                                     w=measures.weights(g, islands="exclude"))
    assert isl["reports_ehsa"].iloc[-1] == "island"


def test_series_must_match_the_table():
    table, series = _planted(PLANTED["new hot spot"])
    with pytest.raises(InputError, match="without a series row: E05000000"):
        measures.emerging_hotspots(table, "reports", series.iloc[1:])
    with pytest.raises(InputError, match="fewer than 2 periods"):
        measures.emerging_hotspots(table, "reports", series.iloc[:, :1])
