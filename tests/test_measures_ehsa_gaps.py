"""Emerging hotspots with gaps: an area's untested periods are not "not hot"; registry options arrive.

An area with no data in a period (or no neighbour with data) has no Gi*
there. Its category is worked out from the periods in which it was tested,
the last tested period acting as the final one; Mann-Kendall skips the
untested periods. Oracles: the tested mask recomputed from the series, the
brute-force classifier of tests/test_measures_ehsa.py applied to the tested
periods only, and planted patterns on a 6 x 6 grid whose answer is known.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box
from test_measures_ehsa import _brute

from gangmap import measures
from gangmap.errors import InputError
from gangmap.measures import ehsa as ehsa_module
from gangmap.table import from_frame

N, T = 6, 10
MONTHS = [str(p) for p in pd.period_range("2018-01", periods=T, freq="M")]
CODES = [f"E05{i:06d}" for i in range(N * N)]
CLUSTER = [0, 1, N, N + 1]  # a 2 x 2 block in the corner; W00 (CODES[0]) sees only the block
W00 = 0


def _grid(extra_island: bool = False) -> gpd.GeoDataFrame:
    geoms = [box(i % N, i // N, i % N + 1, i // N + 1) for i in range(N * N)]
    codes = list(CODES)
    if extra_island:
        geoms.append(box(20, 20, 21, 21))
        codes.append("E05999999")
    return gpd.GeoDataFrame({"ward_code": codes}, geometry=geoms, crs=27700)


def _planted(values, seed=3, background=12.0):
    """Poisson background, the corner block exactly ``values`` each month."""
    rng = np.random.default_rng(seed)
    y = rng.poisson(background, (N * N, T)).astype(float)
    for i in CLUSTER:
        y[i] = np.asarray(values, dtype=float)
    g = _grid()
    g["reports"] = y.sum(axis=1)
    return from_frame(g, counts=["reports"]), pd.DataFrame(y, index=CODES, columns=MONTHS)


def _trend_sign(z: float, p: float, alpha: float = 0.05) -> int:
    return 0 if not (np.isfinite(p) and p < alpha and z != 0) else (1 if z > 0 else -1)


def _check_against_brute_force(cube, series):
    """Every area's category is the definitions applied to its tested periods alone."""
    tested = series.notna().to_numpy()  # on this grid every area has neighbours with data each month
    np.testing.assert_array_equal(cube.tested.to_numpy(), tested)
    for i, code in enumerate(CODES):
        m = tested[i]
        z = cube.z.loc[code].to_numpy()[m]
        mk = measures.mann_kendall(z)  # the trend uses the tested z-scores only
        assert cube.trend.loc[code, "mk_z"] == pytest.approx(mk.z, nan_ok=True)
        hot, cold = cube.hot.loc[code].to_numpy()[m], cube.cold.loc[code].to_numpy()[m]
        want = _brute(list(hot), list(cold), _trend_sign(mk.z, mk.p)) if m.sum() >= 2 else "no pattern detected"
        assert cube.categories[code] == want, (code, list(hot), list(cold), cube.categories[code])


# ---------------------------------------------------------------------- the classifier alone
def test_an_untested_final_period_is_not_read_as_not_hot():
    hot = [1] * 9 + [0]
    # hot in every period with data: persistent, not "historical" (which says it stopped being hot)
    assert measures.classify_ehsa(hot, [0] * 10, 0.3, 0.7, tested=[1] * 9 + [0]) == "persistent hot spot"
    assert measures.classify_ehsa(hot, [0] * 10, 0.3, 0.7) == "historical hot spot"  # when it was tested


def test_an_untested_middle_period_does_not_break_a_run():
    hot = [0] * 6 + [1, 0, 1, 1]
    tested = [1] * 7 + [0, 1, 1]
    assert measures.classify_ehsa(hot, [0] * 10, 0.3, 0.7, tested=tested) == "consecutive hot spot"
    assert measures.classify_ehsa(hot, [0] * 10, 0.3, 0.7) == "sporadic hot spot"  # a tested gap breaks it
    # persistent: hot in all 8 tested periods of 10
    hot = [1, 1, 1, 1, 0, 1, 1, 0, 1, 1]
    tested = [1, 1, 1, 1, 0, 1, 1, 0, 1, 1]
    assert measures.classify_ehsa(hot, [0] * 10, 0.3, 0.7, tested=tested) == "persistent hot spot"
    assert measures.classify_ehsa([0] * 10, hot, -0.3, 0.7, tested=tested) == "persistent cold spot"


def test_no_history_from_periods_without_data():
    # tested only in the final period: "never hot before" is unknown, so no "new hot spot"
    assert measures.classify_ehsa([0] * 9 + [1], [0] * 10, 0.0, 1.0, tested=[0] * 9 + [1]) == "no pattern detected"
    assert measures.classify_ehsa([0] * 10, [0] * 10, 0.0, 1.0, tested=[0] * 10) == "no pattern detected"
    # not hot before, but only untested before: still not new
    assert measures.classify_ehsa([0, 0, 1], [0, 0, 0], 0.0, 1.0, tested=[0, 0, 1]) == "no pattern detected"
    # a flag in an untested period is ignored (no test, no hot spot)
    assert measures.classify_ehsa([1, 0, 0, 1], [0] * 4, 0.0, 1.0, tested=[0, 1, 1, 1]) == "new hot spot"


def test_tested_periods_match_the_definitions_for_random_histories():
    rng = np.random.default_rng(41)
    for _ in range(3000):
        n = int(rng.integers(2, 20))
        states = rng.choice([1, 0, -1], size=n, p=[0.6, 0.3, 0.1])
        if rng.random() < 0.3:
            states = -states
        tested = rng.random(n) < rng.choice([0.5, 0.8, 0.95])
        trend = int(rng.integers(-1, 2))
        z, p = {1: (2.5, 0.01), -1: (-2.5, 0.01), 0: (0.4, 0.6)}[trend]
        got = measures.classify_ehsa(states == 1, states == -1, z, p, tested=tested)
        h, c = list(states[tested] == 1), list(states[tested] == -1)
        want = _brute(h, c, trend) if tested.sum() >= 2 else "no pattern detected"
        assert got == want, (states, tested, trend, got)


def test_tested_must_match_the_flags():
    with pytest.raises(InputError, match="tested"):
        measures.classify_ehsa([1, 1, 1], [0, 0, 0], 0.0, 1.0, tested=[1, 1])


# ---------------------------------------------------------------------- planted, end to end
def test_a_persistent_hot_spot_with_no_data_in_the_final_month_stays_persistent():
    table, series = _planted([60] * T)
    full = measures.space_time_cube(table, series)
    assert full.categories[CODES[W00]] == "persistent hot spot" and full.hot.loc[CODES[W00]].all()
    gap = series.copy()
    gap.iloc[W00, -1] = np.nan
    cube = measures.space_time_cube(table, gap)
    assert not cube.tested.iloc[W00, -1] and cube.tested.iloc[W00, :-1].all()
    assert cube.hot.loc[CODES[W00]].iloc[:-1].all()
    assert cube.categories[CODES[W00]] == "persistent hot spot"  # was "historical hot spot"
    _check_against_brute_force(cube, gap)
    # the layer's note says which areas were classified on an earlier final period, and the rule
    out = measures.emerging_hotspots(table, "reports", gap)
    note = out.schema.notes["reports_ehsa"]
    assert note["last_tested_before_final"] == {CODES[W00]: MONTHS[-2]}
    assert "tested" in note["untested_periods"]


def test_untested_middle_months_do_not_break_consecutive_or_persistent():
    table, series = _planted([12] * 6 + [60] * 4)
    assert measures.space_time_cube(table, series).categories[CODES[W00]] == "consecutive hot spot"
    gap = series.copy()
    gap.iloc[W00, 7] = np.nan
    cube = measures.space_time_cube(table, gap)
    assert cube.categories[CODES[W00]] == "consecutive hot spot"  # was "sporadic hot spot"
    _check_against_brute_force(cube, gap)

    table, series = _planted([60] * T)
    gap = series.copy()
    gap.iloc[W00, [4, 7]] = np.nan
    cube = measures.space_time_cube(table, gap)
    assert cube.hot.loc[CODES[W00]][cube.tested.loc[CODES[W00]]].all()
    assert cube.categories[CODES[W00]] == "persistent hot spot"  # was "sporadic hot spot"
    _check_against_brute_force(cube, gap)
    assert measures.emerging_hotspots(table, "reports", gap).schema.notes["reports_ehsa"][
        "last_tested_before_final"] == {}


def test_mann_kendall_skips_untested_months_rather_than_reading_zero():
    table, series = _planted(list(np.linspace(30, 90, T)))
    gap = series.copy()
    gap.iloc[W00, [2, 5]] = np.nan
    cube = measures.space_time_cube(table, gap)
    z = cube.z.loc[CODES[W00]].to_numpy()
    assert np.isnan(z[[2, 5]]).all()
    tested_only = measures.mann_kendall(z[np.isfinite(z)])
    as_zero = measures.mann_kendall(np.nan_to_num(z, nan=0.0))
    assert tested_only.n == T - 2 and tested_only.s != as_zero.s
    assert cube.trend.loc[CODES[W00], "mk_s"] == tested_only.s


def test_an_area_never_tested_has_no_pattern():
    table, series = _planted([60] * T)
    gap = series.copy()
    gap.iloc[W00, :-1] = np.nan  # data in the final month only
    cube = measures.space_time_cube(table, gap)
    assert cube.tested.loc[CODES[W00]].sum() == 1
    assert cube.categories[CODES[W00]] == "no pattern detected"  # was "new hot spot"
    _check_against_brute_force(cube, gap)

# ---------------------------------------------------------------------- registry options reach the computation
def _with_island():
    table, series = _planted([60] * T)
    g = _grid(extra_island=True)
    s2 = pd.concat([series, pd.DataFrame([[14.0] * T], index=["E05999999"], columns=MONTHS)])
    g["reports"] = s2.sum(axis=1).to_numpy()
    return from_frame(g, counts=["reports"]), s2


def test_ensure_passes_test_islands_and_max_permutations_to_ehsa(monkeypatch):
    table, series = _with_island()  # default weights join the island to its nearest area
    seen: list[int] = []
    real = ehsa_module.gi_star

    def spy(*args, **kwargs):
        seen.append(kwargs["max_permutations"])
        return real(*args, **kwargs)

    monkeypatch.setattr(ehsa_module, "gi_star", spy)
    plain = measures.ensure(table, "reports_ehsa", series={"reports": series})
    assert plain["reports_ehsa"].iloc[-1] == "island" and set(seen) == {measures.inference.MAX_PERMUTATIONS}
    seen.clear()
    out = measures.ensure(table, "reports_ehsa", series={"reports": series}, test_islands=True,
                          max_permutations=4999)
    assert set(seen) == {4999}
    assert out["reports_ehsa"].iloc[-1] != "island"
    assert out["reports_ehsa"].iloc[-1] == measures.emerging_hotspots(
        table, "reports", series, test_islands=True)["reports_ehsa"].iloc[-1]
    note = out.schema.notes["reports_ehsa"]
    assert note["test_islands"] is True and note["max_permutations"] == 4999
    # the recipe keeps them: recomputing does not fall back to the defaults
    seen.clear()
    again = measures.recompute(out, "reports_ehsa", series={"reports": series})
    assert set(seen) == {4999} and again["reports_ehsa"].iloc[-1] == out["reports_ehsa"].iloc[-1]
    assert again.schema.notes["reports_ehsa"]["test_islands"] is True
