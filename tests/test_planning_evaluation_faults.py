"""Faults a review found in the campaign evaluation (gangmap.planning.evaluation), each with its repro.

Oracles: planted panels whose answer is known by construction (a group with no counts after the
launch has no finite rate ratio; a month in which half the areas published nothing has no county
total), totals recomputed independently from the series frame, and the words of the verdict checked
against what was actually fitted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gangmap import planning
from gangmap.errors import ConfigError, GangmapError, InputError

CODES = [f"E0500{i:04d}" for i in range(40)]


def _series(seed=1, T=24, start="2017-01", base=(2, 8), n=40):
    rng = np.random.default_rng(seed)
    cols = [str(m) for m in pd.period_range(start, periods=T, freq="M")]
    lam = np.outer(rng.uniform(*base, n), np.ones(T))
    return pd.DataFrame(rng.poisson(lam).astype(float), index=CODES[:n], columns=cols)


# --------------------------------------------------------------------------- 1. no verdict without a fit
def test_targeted_areas_with_no_counts_after_the_launch_get_no_verdict():
    s = _series()
    s.iloc[:12, 12:] = 0  # the 12 targeted areas report nothing from the launch: the ratio is 0, not estimable
    with pytest.raises(InputError) as err:
        planning.evaluate(s, CODES[:12], "2018-01")
    text = str(err.value)
    assert "targeted" in text and "2018-01" in text and "2018-12" in text  # which group, which months
    assert "no reports" in text or "no counts" in text


@pytest.mark.parametrize("cell, rows, months", [("other", slice(12, 40), slice(12, 24)),
                                                ("targeted", slice(0, 12), slice(0, 12)),
                                                ("other", slice(12, 40), slice(0, 12))])
def test_every_empty_cell_of_the_comparison_is_named(cell, rows, months):
    s = _series()
    s.iloc[rows, months] = 0
    with pytest.raises(InputError, match=f"{cell} wards"):
        planning.evaluate(s, CODES[:12], "2018-01")


def test_a_fit_that_does_not_converge_is_refused(monkeypatch):
    from gangmap.planning import fepoisson

    real = fepoisson.fit

    def stalled(Y, X, **kw):
        f = real(Y, X, **kw)
        return fepoisson.Fit(coef=f.coef, cov=f.cov, clusters=f.clusters, dispersion=f.dispersion,
                             observations=f.observations, converged=False, vcov=f.vcov)

    monkeypatch.setattr(fepoisson, "fit", stalled)
    with pytest.raises(InputError, match="did not converge"):
        planning.evaluate(_series(), CODES[:12], "2018-01")


def test_an_empty_quarter_or_placebo_side_is_recorded_not_fatal():
    s = _series(base=(4, 8))
    s.iloc[:12, 15:18] = 0  # targeted areas report nothing in the second quarter after the launch
    e = planning.evaluate(s, CODES[:12], "2018-01")
    ev = e.events.set_index("quarter")
    assert np.isnan(ev.loc[1, "rate_ratio"]) and np.isfinite(ev.loc[0, "rate_ratio"])
    assert np.isfinite(ev.loc[2, "rate_ratio"]) and ev.loc[-1, "rate_ratio"] == 1
    assert any("2018-04" in n and "event study" in n for n in e.notes), e.notes
    # a placebo whose pretend 'after' months have no targeted counts: a NaN row and a weakness, not a crash
    p = _series(base=(4, 8))
    p.iloc[:12, 8:12] = 0
    e = planning.evaluate(p, CODES[:12], "2018-01", placebos=["2017-09"])
    assert np.isnan(e.placebos["rate_ratio"].iloc[0]) and e.evidence == "weak"
    assert any("placebo launch in 2017-09 could not be fitted" in w for w in e.weaknesses), e.weaknesses


def test_a_pretrend_that_cannot_be_fitted_is_a_weakness(monkeypatch):
    from gangmap.planning import fepoisson

    real = fepoisson.fit

    def trend_stalls(Y, X, **kw):  # only the pre-trend has a regressor that is not 0/1
        f = real(Y, X, **kw)
        binary = np.isin(np.asarray(X), [0.0, 1.0]).all()
        return f if binary else fepoisson.Fit(coef=f.coef, cov=f.cov, clusters=f.clusters, dispersion=f.dispersion,
                                              observations=f.observations, converged=False, vcov=f.vcov)

    monkeypatch.setattr(fepoisson, "fit", trend_stalls)
    rng = np.random.default_rng(5)
    lam = np.outer(rng.uniform(20, 40, 40), np.ones(24))
    lam[:15, 12:] *= 1.6
    s = pd.DataFrame(rng.poisson(lam).astype(float), index=CODES, columns=_series().columns)
    e = planning.evaluate(s, CODES[:15], "2018-01")
    assert e.pretrend is None and e.evidence == "weak" and "did not converge" in e.weaknesses[0], e.weaknesses
    assert "could not be compared" in e.published_message(e.result_safe())


# --------------------------------------------------------------------------- 2. a gap is not a fall
def test_a_month_without_data_is_blank_in_the_monthly_table_and_left_out_of_the_totals():
    s = _series(base=(5, 8))
    s.iloc[20:, 5] = np.nan  # areas 20-39 published nothing in 2017-06
    e = planning.evaluate(s, CODES[:15], "2018-01")
    m = e.monthly.frame.set_index("period")
    assert np.isnan(m.loc["2017-06", "other"])  # not 25-odd: a gap is not a fall
    assert m.loc["2017-06", "targeted"] == s.loc[CODES[:15], "2017-06"].sum()  # targeted areas all have data
    assert m.drop(index="2017-06").notna().all().all()
    # the totals leave the month out for both groups (the ratio compares like with like) and a note says so
    kept = [c for c in s.columns if c != "2017-06"]
    before, after = [c for c in kept if c < "2018-01"], [c for c in kept if c >= "2018-01"]
    t, o = s.loc[CODES[:15]], s.loc[CODES[15:]]
    assert e.totals == {"targeted_before": t[before].to_numpy().sum(), "targeted_after": t[after].to_numpy().sum(),
                        "other_before": o[before].to_numpy().sum(), "other_after": o[after].to_numpy().sum()}
    assert any("2017-06" in n and "totals" in n for n in e.notes), e.notes
    # the totals are the sums of the monthly table over the months both groups have data
    both = m.dropna()
    assert both.loc[both["window"] == "before", "other"].sum() == e.totals["other_before"]
    # published and drawn: the blank month stays blank (a gap in the line), it is not published as a count
    safe = e.monthly_safe()
    assert np.isnan(safe.frame.set_index("period").loc["2017-06", "other"])
    line = planning.did_chart(e, safe).axes[0].lines[1].get_ydata()
    assert np.isnan(line[5]) and np.isfinite(np.delete(line, 5)).all()


def test_did_totals_follow_the_same_rule_and_say_which_months_they_leave_out():
    s = _series(base=(5, 8))
    s["2018-03"] = np.nan  # a month in which the source published nothing (no rows at all)
    rows = [(c, m, v) for c in s.index for m, v in s.loc[c].items() if np.isfinite(v)]
    reports = pd.DataFrame(rows, columns=["ward_code", "period", "count"])
    d = planning.did(reports, CODES[:15], launch="2018-01")
    t = d.table.frame.set_index("group")
    after = [c for c in s.columns if c >= "2018-01" and c != "2018-03"]
    assert t.loc["other", "after"] == s.loc[CODES[15:], after].to_numpy().sum()
    assert t.loc["targeted", "after"] == s.loc[CODES[:15], after].to_numpy().sum()
    assert np.isnan(d.monthly.frame.set_index("period").loc["2018-03", "other"])
    assert any("2018-03" in n and "totals" in n for n in d.notes), d.notes
    e = planning.evaluate_reports(reports, CODES[:15], launch="2018-01")
    assert any("2018-03" in n and "totals" in n for n in e.notes), e.notes
    assert e.totals["other_after"] == t.loc["other", "after"]


# --------------------------------------------------------------------------- 3. no placebo, no claim
@pytest.mark.parametrize("how", ["none given", "too few months"])
def test_clear_verdict_needs_a_placebo_that_ran(how):
    rng = np.random.default_rng(5)
    T, L = (24, 12) if how == "none given" else (17, 5)
    lam = np.outer(rng.uniform(20, 40, 40), np.ones(T))
    lam[:15, L:] *= 1.6
    cols = [str(m) for m in pd.period_range("2017-01", periods=T, freq="M")]
    s = pd.DataFrame(rng.poisson(lam).astype(float), index=CODES, columns=cols)
    placebos = [] if how == "none given" else None
    e = planning.evaluate(s, CODES[:15], cols[L], placebos=placebos)
    assert e.placebos.empty and e.estimate.lo > 1
    assert e.evidence == "weak" and "no placebo launch" in e.verdict, e.message
    assert "no placebo launch shows a change as large" not in e.message
    published = e.published_message(e.result_safe())  # the words that leave the machine say so too
    assert published is not None and "no placebo launch could be fitted" in published, published


# --------------------------------------------------------------------------- 4. arguments
@pytest.mark.parametrize("bad", [0, -3, 1.5, "3", True])
def test_bin_months_must_be_a_positive_whole_number(bad):
    with pytest.raises(ConfigError, match="bin_months"):
        planning.evaluate(_series(), CODES[:15], "2018-01", bin_months=bad)


@pytest.mark.parametrize("bad", ["x", None, 0, 1, 95, float("nan")])
def test_level_must_be_a_number_between_0_and_1(bad):
    with pytest.raises(GangmapError, match="level"):
        planning.evaluate(_series(), CODES[:15], "2018-01", level=bad)
    with pytest.raises(GangmapError, match="level"):
        planning.did(pd.DataFrame({"ward_code": CODES[:2] * 2, "period": ["2018-01"] * 2 + ["2018-02"] * 2,
                                   "count": [3, 4, 5, 6]}), CODES[:1], launch="2018-02", level=bad)


def test_bin_months_one_and_six_run():
    e = planning.evaluate(_series(), CODES[:15], "2018-01", bin_months=6, placebos=[])
    assert e.events["quarter"].tolist() == [-2, -1, 0, 1]


# --------------------------------------------------------------------------- 5. the card says what the rows are
@pytest.mark.parametrize("bins, caption", [(3, "Event study by quarter"), (1, "Event study by month"),
                                           (6, "Event study by 6-month period")])
def test_card_captions_the_event_study_by_its_period(bins, caption):
    e = planning.evaluate(_series(), CODES[:15], "2018-01", bin_months=bins, placebos=[])
    html = e._repr_html_()
    assert caption in html and "Months since launch" not in html
