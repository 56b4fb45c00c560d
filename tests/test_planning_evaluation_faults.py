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
