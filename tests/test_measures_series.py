"""Series per area over time (issue 14): quarters, rates, Mann-Kendall, Sen's slope, quasi-Poisson trend.

Oracles: double loops and tie counts written out here, scipy's independent
Theil-Sen and Kendall's tau, a direct numerical maximisation of the Poisson
likelihood, simulations with a known answer, and the demo's monthly counts
read straight from its CSV.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from gangmap import measures
from gangmap.errors import InputError
from gangmap.table import AreaTable, from_frame

ROOT = Path(__file__).resolve().parents[1]
MONTHS = [str(p) for p in pd.period_range("2017-03", "2019-02", freq="M")]


def demo_series() -> pd.DataFrame:
    """Monthly report counts per demo ward straight from data/demo/reports.csv (every month was
    published, so a ward with no row in a month had 0 reports)."""
    rep = pd.read_csv(ROOT / "data" / "demo" / "reports.csv")
    wards = gpd.read_file(ROOT / "data" / "demo" / "wards.geojson")["ward_code"]
    s = rep.pivot_table(index="ward_code", columns="period", values="count", aggfunc="sum")
    return s.reindex(index=wards, columns=MONTHS).fillna(0.0)


def _mk_oracle(y):
    y = [float(v) for v in y if not math.isnan(v)]
    n = len(y)
    s = sum((y[j] > y[i]) - (y[j] < y[i]) for i in range(n) for j in range(i + 1, n))
    ties = sum(t * (t - 1) * (2 * t + 5) for t in Counter(y).values())
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18
    z = 0.0 if s == 0 else (s - (1 if s > 0 else -1)) / math.sqrt(var)
    return s, var, z, math.erfc(abs(z) / math.sqrt(2))


def test_mann_kendall_matches_the_definition_with_ties_and_gaps():
    rng = np.random.default_rng(11)
    for _ in range(30):
        y = rng.poisson(4, 20).astype(float) + np.arange(20) * rng.choice([-0.2, 0, 0.3])
        y = np.round(y)
        y[rng.random(20) < 0.15] = np.nan
        r = measures.mann_kendall(y)
        s, var, z, p = _mk_oracle(list(y))
        assert (r.s, r.n) == (s, int(np.isfinite(y).sum()))
        assert r.var_s == pytest.approx(var) and r.z == pytest.approx(z) and r.p == pytest.approx(p)
        assert r.tau == pytest.approx(s / (r.n * (r.n - 1) / 2))


def test_mann_kendall_tau_is_kendalls_tau_without_ties():
    rng = np.random.default_rng(2)
    y = rng.normal(size=25) + np.linspace(0, 1.5, 25)
    assert measures.mann_kendall(y).tau == pytest.approx(stats.kendalltau(np.arange(25), y).statistic)
    assert np.isnan(measures.mann_kendall([1.0, np.nan, 2.0]).p)  # two periods with data: no test


def test_sens_slope_matches_scipy_theil_sen_with_gaps():
    rng = np.random.default_rng(3)
    t = np.arange(30, dtype=float)
    y = 0.7 * t + rng.standard_t(2, 30)
    y[[4, 5, 17]] = np.nan
    ok = np.isfinite(y)
    assert measures.sens_slope(y, t) == pytest.approx(stats.theilslopes(y[ok], t[ok]).slope)
    assert measures.mann_kendall(y, t).slope == pytest.approx(stats.theilslopes(y[ok], t[ok]).slope)


def test_poisson_trend_is_the_maximum_likelihood_slope():
    rng = np.random.default_rng(4)
    t = np.arange(24, dtype=float)
    y = rng.poisson(np.exp(2.0 + 0.03 * t)).astype(float)
    y[[6, 7]] = np.nan
    ok = np.isfinite(y)

    def nll(b):
        eta = b[0] + b[1] * t[ok]
        return -(y[ok] * eta - np.exp(eta)).sum()

    b = optimize.minimize(nll, [1.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12,
                                                                          "maxiter": 20000}).x
    r = measures.poisson_trend(y, t)
    assert r.converged and r.n == 22
    assert r.slope == pytest.approx(b[1], abs=1e-6)
    assert r.rate_ratio == pytest.approx(math.exp(12 * b[1]), rel=1e-5)
    mu = np.exp(b[0] + b[1] * t[ok])
    assert r.dispersion == pytest.approx(((y[ok] - mu) ** 2 / mu).sum() / (22 - 2), rel=1e-4)
    assert r.lo < r.rate_ratio < r.hi
    # counts all at one end have no finite slope: reported as not estimable, not as a number
    assert not measures.poisson_trend([0, 0, 0, 0, 0, 7]).converged


@pytest.mark.parametrize("dispersion", [None, 4.0])
def test_quasi_poisson_trend_test_holds_its_level(dispersion):
    """Flat series, Poisson or over-dispersed (negative binomial, size 4): about 5% have p < 0.05."""
    rng = np.random.default_rng(7)
    mean, n = 20.0, 500
    if dispersion is None:
        y = rng.poisson(mean, (n, 24)).astype(float)
    else:
        y = rng.negative_binomial(dispersion, dispersion / (dispersion + mean), (n, 24)).astype(float)
    s = pd.DataFrame(y, columns=MONTHS)
    tr = measures.trend(s)
    assert 0.02 < (tr["rr_p"] < 0.05).mean() < 0.09
    if dispersion is not None:
        assert tr["dispersion"].median() > 3  # the over-dispersion is seen and widens the interval
        naive = []
        for row in y[:200]:
            r = measures.poisson_trend(row)
            naive.append(2 * stats.norm.sf(abs(r.slope / (r.se / math.sqrt(max(r.dispersion, 1))))))
        assert np.mean(np.array(naive) < 0.05) > 0.2  # pure Poisson errors would flag far too many


def test_to_quarters_keeps_no_data_honest():
    s = pd.DataFrame({"2018-02": [1.0, 1.0], "2018-03": [1.0, 1.0], "2018-04": [2.0, 2.0], "2018-05": [3.0, np.nan],
                      "2018-06": [4.0, 4.0], "2018-07": [9.0, 9.0]}, index=["A", "B"])
    q = measures.to_quarters(s)
    assert list(q.columns) == ["2018-Q1", "2018-Q2", "2018-Q3"]
    assert q.loc["A"].tolist()[1] == 9.0 and q.loc["A"].isna().tolist() == [True, False, True]  # edges partial
    assert q.loc["B"].isna().all()  # B has no data for May: no Q2 total
    with pytest.raises(InputError, match="already by quarter"):
        measures.to_quarters(q)


def test_county_series_and_rates():
    s = pd.DataFrame({"2018-01": [1.0, 2.0], "2018-02": [np.nan, 2.0], "2018-03": [0.0, 0.0]}, index=["A", "B"])
    assert measures.county_series(s).tolist()[0] == 3.0 and np.isnan(measures.county_series(s).iloc[1])
    assert measures.county_series(s).iloc[2] == 0.0  # a published zero stays zero
    r = measures.series_rates(s, pd.Series({"A": 500.0, "B": 0.0}), per=1000)
    assert r.loc["A", "2018-01"] == 2.0 and r.loc["B"].isna().all() and np.isnan(r.loc["A", "2018-02"])
    with pytest.raises(InputError, match="no population for areas C"):
        measures.series_rates(s.rename(index={"B": "C"}), {"A": 1.0})
    with pytest.raises(InputError, match=r"population 'population' holds values that are not numbers, for areas "
                                         r"B \('lots'\)"):
        measures.series_rates(s, pd.Series({"A": "500", "B": "lots"}, name="population"))
    with pytest.raises(InputError, match=r"population holds values that are not numbers, for areas A \('x'\)"):
        measures.series_rates(s, {"A": "x", "B": 1000})
    text = measures.series_rates(s, pd.Series({"A": "500", "B": None}))    # numbers as text are numbers
    assert text.loc["A", "2018-01"] == 2.0 and text.loc["B"].isna().all()


def test_trend_directions_and_gaps():
    t = np.arange(24)
    s = pd.DataFrame([2 + t, 30 - t, np.r_[[5, 6] * 12]], index=["up", "down", "flat"], columns=MONTHS,
                     dtype=float)
    tr = measures.trend(s)
    assert tr["direction"].tolist() == ["rising", "falling", "no clear trend"]
    assert tr.loc["up", "sen_slope"] == pytest.approx(1.0) and tr.loc["up", "rate_ratio"] > 1
    # a month with no data is skipped, at its true position: the same as dropping it
    gap = s.copy()
    gap["2018-01"] = np.nan
    a, b = measures.trend(gap), measures.trend(s.drop(columns="2018-01"))
    pd.testing.assert_frame_equal(a, b)
    assert (a["periods"] == 23).all()
    assert measures.trend(s.iloc[:, :2])["direction"].tolist() == ["too few periods"] * 3


def test_series_frames_are_checked():
    with pytest.raises(InputError, match="YYYY-MM"):
        measures.trend(pd.DataFrame({"Jan": [1.0]}))
    with pytest.raises(InputError, match="ascending"):
        measures.trend(pd.DataFrame({"2018-02": [1.0], "2018-01": [1.0]}))
    with pytest.raises(InputError, match="more than once"):
        measures.trend(pd.DataFrame({"2018-01": [1.0, 2.0]}, index=["A", "A"]))
    with pytest.raises(InputError, match="negative"):
        measures.trend(pd.DataFrame({"2018-01": [-1.0], "2018-02": [1.0]}, index=["A"]))


def test_county_trend_and_chart_on_the_demo(tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    s = demo_series()
    ct = measures.county_trend(s)
    totals = s.sum(axis=0)
    pd.testing.assert_series_equal(ct.totals, totals, check_names=False)
    assert ct.mann_kendall.s == _mk_oracle(list(totals))[0]
    assert ct.direction in measures.TREND_LABELS and "Mann-Kendall" in ct.sentence
    gap = s.copy()
    gap["2018-07"] = np.nan  # a month the source did not publish
    before = plt.get_fignums()
    fig = measures.trend_chart(gap, title="Reports", launch="2018-03")
    assert isinstance(fig, Figure) and plt.get_fignums() == before and not list(tmp_path.iterdir())
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "no data" in legend and "launch 2018-03" in legend
    assert "23 of 24 periods" in measures.county_trend(gap).sentence


def test_trend_as_a_map_layer():
    s = demo_series()
    wards = gpd.read_file(ROOT / "data" / "demo" / "wards.geojson")
    wards["reports"] = s.sum(axis=1).to_numpy()
    table = from_frame(wards, counts=["reports"])
    out = measures.ensure(table, "reports_trend", series={"reports": s})
    assert isinstance(out, AreaTable) and out.schema.derived["reports_trend"] == ("reports",)
    assert out.schema.notes["reports_trend_rr"]["measure"] == "trend"
    expected = measures.trend(s)["direction"].tolist()
    assert out["reports_trend"].tolist() == expected
    assert set(out["reports_trend"]) <= set(measures.TREND_LABELS)
