"""Funnel plots with exact Poisson control limits (issue 14).

The oracles are computed here, independently of gangmap and of scipy: Poisson
tail probabilities by summing the pmf term by term in plain Python, and the
points where a whole count sits exactly on a limit (the points the OHID
Fingertips funnel tools plot) by bisection on those sums.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gangmap import measures
from gangmap.measures.funnel import interpolated_quantile

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _pmf_terms(mu: float, upto: int) -> list[float]:
    pmf, out = math.exp(-mu), []
    for j in range(upto + 1):
        out.append(pmf)
        pmf *= mu / (j + 1)
    return out


def _cdf(k: int, mu: float) -> float:
    """P(Y <= k), Y ~ Poisson(mu), summed term by term."""
    return math.fsum(_pmf_terms(mu, k)) if k >= 0 else 0.0


def _sf(k: int, mu: float) -> float:
    """P(Y >= k) = 1 - P(Y <= k - 1)."""
    return 1.0 - _cdf(k - 1, mu)


def _solve(f, lo: float, hi: float) -> float:
    """Root of an increasing function by bisection."""
    for _ in range(200):
        mid = (lo + hi) / 2
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _label(k: int, mu: float) -> str:
    for a, name in ((0.001, "99.8%"), (0.025, "95%")):
        if _cdf(k, mu) < a:
            return f"below {name}"
        if _sf(k, mu) < a:
            return f"above {name}"
    return "within"


@pytest.mark.parametrize("level", [0.95, 0.998])
@pytest.mark.parametrize("x", [0, 1, 2, 3, 5, 8, 13, 21, 40, 75])
def test_limits_pass_through_the_fingertips_points(x, level):
    """At the expected count where a whole count x is exactly on the limit (found by
    bisection on hand-summed tails), the interpolated limit equals x."""
    a = (1 - level) / 2
    # lower limit: P(Y <= x | E) = a  (the Fingertips point (E = U_x, x), U_x the exact upper CI of x)
    e_low = _solve(lambda mu: a - _cdf(x, mu), 1e-9, 400.0)
    lo, _ = measures.poisson_limits(e_low, level)
    assert lo[0] == pytest.approx(x, abs=1e-6)
    if x >= 1:
        # upper limit: P(Y >= x | E) = a  (the Fingertips point (E = L_x, x), L_x the exact lower CI of x)
        e_up = _solve(lambda mu: _sf(x, mu) - a, 1e-9, 400.0)
        _, hi = measures.poisson_limits(e_up, level)
        assert hi[0] == pytest.approx(x, abs=1e-6)


def test_interpolated_quantile_is_spiegelhalters_formula():
    # r = smallest count with F(r) >= p; y_p = r - (F(r) - p) / P(Y = r), all by hand
    for mu in (0.3, 2.0, 7.5, 20.0, 64.0):
        for p in (0.001, 0.025, 0.975, 0.999):
            r = 0
            while _cdf(r, mu) < p:
                r += 1
            expected = r - (_cdf(r, mu) - p) / _pmf_terms(mu, r)[-1]
            assert interpolated_quantile(mu, p)[0] == pytest.approx(expected, abs=1e-9)


def test_labels_and_drawn_limits_agree_with_exact_tails():
    rng = np.random.default_rng(14)
    expected = rng.uniform(0.2, 120.0, 300)
    counts = rng.poisson(expected * rng.choice([0.3, 1.0, 1.8], 300))
    t = pd.DataFrame({"reports": counts, "population": expected * 100.0})
    out = measures.funnel(t, "reports", "population", overall=0.01)
    assert out["reports_funnel"].tolist() == [_label(int(k), mu) for k, mu in zip(counts, expected)]
    for level in (0.95, 0.998):
        lo, hi = measures.poisson_limits(expected, level)
        a = (1 - level) / 2
        below = np.array([_cdf(int(k), mu) < a for k, mu in zip(counts, expected)])
        above = np.array([_sf(int(k), mu) < a for k, mu in zip(counts, expected)])
        np.testing.assert_array_equal(counts < lo, below)  # a point's side of the line = its label
        np.testing.assert_array_equal(counts > hi, above)
    assert {"below 99.8%", "above 99.8%", "within"} <= set(out["reports_funnel"])


def test_a_zero_is_below_only_when_exact_poisson_says_so():
    # expected counts from 0.5 to 12: a zero is below 95% iff exp(-E) < 0.025 (E > ln 40 = 3.689),
    # and below 99.8% iff exp(-E) < 0.001 (E > ln 1000 = 6.908)
    expected = np.array([0.5, 1.0, 2.0, 3.6, 3.8, 5.0, 6.8, 7.0, 9.0, 12.0])
    t = pd.DataFrame({"reports": 0, "population": expected * 1000.0})
    out = measures.funnel(t, "reports", "population", overall=0.001)["reports_funnel"].tolist()
    assert out == ["within"] * 4 + ["below 95%"] * 3 + ["below 99.8%"] * 3
    assert out == [_label(0, mu) for mu in expected]


def _null(populations: np.ndarray, rate: float, reps: int, seed: int):
    rng = np.random.default_rng(seed)
    flagged_low = flagged_high = total = 0
    for _ in range(reps):
        counts = rng.poisson(rate * populations)
        t = pd.DataFrame({"reports": counts, "population": populations})
        lab = measures.funnel(t, "reports", "population")["reports_funnel"]
        flagged_low += int(lab.isin(["below 95%", "below 99.8%"]).sum())
        flagged_high += int(lab.isin(["above 95%", "above 99.8%"]).sum())
        total += len(t)
    return flagged_low / total, flagged_high / total


def test_null_simulation_flags_below_near_the_nominal_rate():
    """No real differences: the share of areas flagged "below 95%" (and "above 95%") stays at or
    under the nominal 2.5%, close to the exact rate discreteness allows (the first release flagged
    up to 13.5%)."""
    populations = np.geomspace(800, 6000, 150)
    rate = 0.008  # expected counts 6.4 .. 48
    low, high = _null(populations, rate, reps=40, seed=2005)
    # the exact attainable rate, by hand: P(Y <= r - 1) with r the first count not flagged
    exact_low = np.mean([max((_cdf(k, m) for k in range(200) if _cdf(k, m) < 0.025), default=0.0)
                         for m in rate * populations])
    n = 40 * 150
    assert exact_low <= 0.025
    assert abs(low - exact_low) < 4 * math.sqrt(exact_low * (1 - exact_low) / n) + 0.004  # overall rate estimated
    assert 0.012 < low <= 0.026 and 0.012 < high <= 0.026


def test_funnel_limits_centre_and_floor():
    t = pd.DataFrame({"reports": [0, 1, 2, 30], "population": [100.0, 200.0, 400.0, 3000.0]})
    lim = measures.funnel_limits(t, "reports", "population", points=40)
    assert np.allclose(lim["mean"], 33 / 3700 * 1000)
    assert (lim["lo998"] >= 0).all() and (lim["lo998"] <= lim["lo95"]).all()
    assert (lim["hi95"] <= lim["hi998"]).all()
    # no lower limit where even a zero is not surprising: E < ln 40
    small = lim["expected"] < math.log(40)
    assert (lim.loc[small, "lo95"] == 0).all() and (lim.loc[~small, "lo95"] > 0).all()


def test_funnel_plot_points_sit_on_the_side_of_the_lines_their_labels_say():
    rng = np.random.default_rng(3)
    pops = rng.uniform(300, 4000, 60)
    counts = rng.poisson(0.01 * pops)
    counts[:3] = [0, 0, 90]
    t = pd.DataFrame({"ward_name": [f"W{i}" for i in range(60)], "reports": counts, "population": pops})
    fig = measures.funnel_plot(t, "reports", "population", label_outside=0.95)
    labels = measures.funnel(t, "reports", "population")["reports_funnel"]
    texts = {x.get_text() for x in fig.axes[0].texts}
    outside = set(t.loc[labels != "within", "ward_name"])
    assert texts == outside and "W2" in texts


@pytest.mark.realdata
def test_real_drugs_zero_wards_are_not_all_below():
    """Northamptonshire, police.uk Drugs offences, March 2018, with a synthetic population of 1,500
    children per ward: 124 offences over 146 wards is 0.85 expected per ward, so no zero ward is
    surprising (the first release labelled every zero ward "below 99.8%")."""
    import geopandas as gpd

    wards_path = DATA / "boundaries" / "northamptonshire_wards_2013.geojson"
    police_path = DATA / "police" / "2018-03-northamptonshire-street.csv"
    if not (wards_path.exists() and police_path.exists()):
        pytest.skip(f"real reference data not found under {DATA} (../shared/data beside the repo)")
    wards = gpd.read_file(wards_path).rename(columns={"WD13CD": "ward_code"}).to_crs(27700)
    crimes = pd.read_csv(police_path)
    crimes = crimes[crimes["Crime type"] == "Drugs"]
    pts = gpd.GeoDataFrame(crimes, geometry=gpd.points_from_xy(crimes["Longitude"], crimes["Latitude"]), crs=4326)
    joined = gpd.sjoin(pts.to_crs(27700), wards[["ward_code", "geometry"]], predicate="within")
    wards["drugs"] = wards["ward_code"].map(joined.groupby("ward_code").size()).fillna(0).astype(int)
    wards["population"] = 1500.0
    out = measures.funnel(wards, "drugs", "population")
    zeros = out["drugs"] == 0
    assert zeros.sum() > 50
    assert (out.loc[zeros, "drugs_funnel"] == "within").all()
    expected = 124 / 146
    assert out["drugs_funnel"].tolist() == [_label(int(k), expected) for k in out["drugs"]]
