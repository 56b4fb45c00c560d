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
