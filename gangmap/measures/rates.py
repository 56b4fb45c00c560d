"""Crude rates with Poisson confidence intervals.

Why its own module? The interval convention (OHID Fingertips: exact Poisson
below 10 events, Byar's approximation from 10 up) is used by the rates and by
nothing else, and it is the one place to read when a published interval is
questioned. Funnel-plot control limits are a different question (where would
an area's count fall if its rate were the county's?) and live in
:mod:`gangmap.measures.funnel`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ..errors import GangmapError, InputError
from .checks import check_per, subject

__all__ = ["poisson_ci", "rate", "LEVELS", "CI_METHOD"]

BYAR_FROM = 10  # Fingertips: exact Poisson below 10 events, Byar's from 10 up
#: Interval levels written by :func:`rate` (column suffix -> level).
LEVELS = {"95": 0.95, "998": 0.998}
CI_METHOD = "exact Poisson below 10 events, Byar's from 10 (OHID Fingertips)"


def _z(level: float) -> float:
    return float(stats.norm.ppf(1.0 - (1.0 - level) / 2.0))


def poisson_ci(observed: Any, level: float = 0.95) -> tuple[Any, Any]:
    """Confidence interval for a Poisson count (OHID Fingertips convention).

    Below 10 events the exact limits are used,
    ``lo = chi2.ppf(a/2, 2 O) / 2`` and ``hi = chi2.ppf(1 - a/2, 2 O + 2) / 2``
    (``a = 1 - level``; ``lo = 0`` when ``O = 0``). From 10 events up, Byar's
    approximation is used::

        lo = O (1 - 1/(9 O) - z / (3 sqrt(O)))**3
        hi = (O + 1) (1 - 1/(9 (O + 1)) + z / (3 sqrt(O + 1)))**3

    Parameters
    ----------
    observed : int, float or array-like
        Number of events (0 or more).
    level : float, default 0.95
        Confidence level, strictly between 0 and 1 (e.g. 0.95 or 0.998).

    Returns
    -------
    (lo, hi)
        Lower and upper limits as *counts*; floats for a scalar input, arrays
        otherwise. Divide by the population (and multiply by ``per``) for rate
        limits.

    Examples
    --------
    >>> from gangmap.measures import poisson_ci
    >>> [round(v, 4) for v in poisson_ci(3)]        # exact
    [0.6187, 8.7673]
    >>> [round(v, 4) for v in poisson_ci(65)]       # Byar
    [50.1632, 82.8491]
    >>> [round(v, 4) for v in poisson_ci(0)]
    [0.0, 3.6889]
    """
    try:
        level = float(level)
    except (TypeError, ValueError):
        level = float("nan")
    if not (0.0 < level < 1.0):
        raise GangmapError(f"measures.poisson_ci: level={level!r} must be between 0 and 1, e.g. 0.95 or 0.998.")
    scalar = np.ndim(observed) == 0
    o = np.asarray(observed, dtype=float)
    if np.any(~np.isfinite(o)) or np.any(o < 0):
        raise InputError("measures.poisson_ci: observed counts must be finite and 0 or more; "
                         "fill missing counts with 0 first.")
    o = np.atleast_1d(o)
    alpha = 1.0 - level
    z = _z(level)
    lo = np.empty_like(o)
    hi = np.empty_like(o)
    exact = o < BYAR_FROM
    if exact.any():
        oe = o[exact]
        with np.errstate(invalid="ignore"):
            lo[exact] = np.where(oe > 0, stats.gamma.ppf(alpha / 2.0, np.where(oe > 0, oe, 1.0)), 0.0)
        hi[exact] = stats.gamma.ppf(1.0 - alpha / 2.0, oe + 1.0)
    if (~exact).any():
        ob = o[~exact]
        lo[~exact] = ob * (1.0 - 1.0 / (9.0 * ob) - z / (3.0 * np.sqrt(ob))) ** 3
        ob1 = ob + 1.0
        hi[~exact] = ob1 * (1.0 - 1.0 / (9.0 * ob1) + z / (3.0 * np.sqrt(ob1))) ** 3
    if scalar:
        return float(lo[0]), float(hi[0])
    return lo.reshape(np.shape(observed)), hi.reshape(np.shape(observed))


def rate(table: Any, count: str, population: str, *, per: float = 1000, name: str | None = None,
         on_zero: str = "raise", exclude: Any = None):
    """Crude rate per ``per`` people with 95% and 99.8% confidence intervals.

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area.
    count : str
        Column of event counts (whole numbers, 0 or more), e.g. ``"reports"``.
    population : str
        Column of population at risk, e.g. ``"population"``.
    per : float, default 1000
        Rate multiplier: events per ``per`` people.
    name : str, optional
        Name of the rate column; defaults to ``f"{count}_rate"``. The interval
        columns are ``f"{name}_lo95"``, ``_hi95``, ``_lo998``, ``_hi998``.
    on_zero : {"raise", "exclude"}, default "raise"
        What to do with areas whose population is zero, negative or missing:
        stop with an error listing them, or give them NaN and list them in the
        column's note (``"excluded"``).
    exclude : mask or codes, optional
        Areas left out (e.g. whose count is suppressed): NaN in every new
        column. Their counts are not read, so they may be NaN.

    Returns
    -------
    AreaTable or DataFrame
        The same kind as ``table``, with the five new columns. On an AreaTable
        they are derived from ``count`` (and ``population``), with the note
        ``{"measure": "rate", "base": count, "population": ..., "per": ...}``.

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"ward_code": ["E05000001", "E05000002"],
    ...                   "reports": [3, 65], "population": [1000, 10000]})
    >>> out = measures.rate(t, "reports", "population")
    >>> out[["reports_rate", "reports_rate_lo95", "reports_rate_hi95"]].round(4)
       reports_rate  reports_rate_lo95  reports_rate_hi95
    0           3.0             0.6187             8.7673
    1           6.5             5.0163             8.2849
    """
    s = subject(table, "rate")
    s.require([count, population])
    per = check_per(per, "rate")
    skip = s.mask(exclude)
    obs = s.counts(count, skip=skip)
    pop, ok, bad = s.population(population, on_zero, skip=skip)
    name = name or f"{count}_rate"
    n = len(s.frame)
    r = np.full(n, np.nan)
    r[ok] = obs[ok] / pop[ok] * per
    new: dict[str, np.ndarray] = {name: r}
    for suffix, level in LEVELS.items():
        lo_c, hi_c = poisson_ci(obs[ok], level)
        lo, hi = np.full(n, np.nan), np.full(n, np.nan)
        lo[ok] = lo_c / pop[ok] * per
        hi[ok] = hi_c / pop[ok] * per
        new[f"{name}_lo{suffix}"], new[f"{name}_hi{suffix}"] = lo, hi
    notes = {"measure": "rate", "base": count, "population": population, "per": per, "name": name,
             "ci": CI_METHOD, "excluded": bad, "left_out": int(skip.sum())}
    return s.finish(new, [count, population], notes)
