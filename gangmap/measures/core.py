"""Ward-level risk measures: rates with confidence intervals, smoothed rates,
spatial weights, hotspots, a composite need index and funnel plots.

Every function here follows one pattern:

* it takes a (Geo)DataFrame with one row per ward (the joined ward table, see
  ``docs/ARCHITECTURE.md``) and the *names* of the columns to use, so the same
  function works for ``reports``, ``referrals`` or any other count column;
* it never changes its input: it returns a **new** frame, in the same row order,
  with added columns named after the source column (``reports_rate``,
  ``reports_eb``, ``reports_lisa`` ...);
* it records, in ``result.attrs["gangmap_derived"]``, the count column(s) each
  new column was computed from (``{"reports_rate": ["reports"], ...}``), so the
  disclosure policy can suppress a derived value whose numerator is suppressed.
  Sources follow through chains: ``local_moran(df, "reports_rate")`` records
  ``["reports"]``, not ``["reports_rate"]``;
* it records how it was computed (settings, excluded wards, islands,
  thresholds) in ``result.attrs["gangmap_notes"][new_column]``;
* bad input raises :class:`gangmap.errors.InputError` (a :class:`GangmapError`)
  whose message names the column, the ward codes involved and the fix.

Population denominators
-----------------------
Rates are per ``per`` people (default 1,000). A ward with zero, negative or
missing population cannot have a rate: by default (``on_zero="raise"``) the
functions stop with an error listing those wards; with ``on_zero="exclude"``
those wards get NaN in the new columns, take no part in any overall rate, and
are listed in ``result.attrs["gangmap_notes"][column]["excluded"]``.

Confidence intervals
--------------------
:func:`poisson_ci` follows the OHID Fingertips convention: exact Poisson limits
(chi-square / gamma quantiles) for fewer than 10 events and Byar's approximation
from 10 events up.

Hotspots
--------
:func:`local_moran` (LISA) and :func:`getis_ord` (Gi*) wrap ``esda`` with
conditional permutation inference. Both take a ``seed`` (default
:data:`DEFAULT_SEED`) so the same inputs give the same labels every run, and
neither changes the caller's weights object nor numpy's global random state.
Wards without neighbours (*islands*) are never reported as significant unless
explicitly asked for: see :func:`weights` and the ``test_islands`` argument.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import GangmapError, InputError

__all__ = [
    "DEFAULT_INDEX_WEIGHTS",
    "DEFAULT_SEED",
    "FUNNEL_LABELS",
    "GI_LABELS",
    "LISA_LABELS",
    "derived_sources",
    "eb_global",
    "eb_spatial",
    "excess_risk",
    "funnel",
    "funnel_limits",
    "funnel_plot",
    "getis_ord",
    "local_moran",
    "need_index",
    "poisson_ci",
    "rate",
    "weights",
]

#: Seed used by :func:`local_moran` and :func:`getis_ord` when none is given,
#: so that repeated runs on the same data give the same hotspots.
DEFAULT_SEED: int = 12345

#: Default components of :func:`need_index` and their weights. The rates carry
#: most of the weight (need relative to population); the raw report count keeps
#: a little weight so that wards with many reports but a large population are
#: not ranked as low need. Any numeric columns can be used instead.
DEFAULT_INDEX_WEIGHTS: dict[str, float] = {
    "reports_rate": 0.4,
    "referrals_rate": 0.4,
    "reports": 0.2,
}

#: Labels written by :func:`local_moran`.
LISA_LABELS: tuple[str, ...] = ("HH", "LL", "HL", "LH", "ns", "island")
#: Labels written by :func:`getis_ord`.
GI_LABELS: tuple[str, ...] = ("hot", "cold", "ns", "island")
#: Labels written by :func:`funnel`, from highest to lowest.
FUNNEL_LABELS: tuple[str, ...] = (
    "above 99.8%",
    "above 95%",
    "within",
    "below 95%",
    "below 99.8%",
)

_BYAR_FROM = 10  # Fingertips: exact Poisson below 10 events, Byar's from 10 up
_LEVELS = {"95": 0.95, "998": 0.998}
_WARD_CODE = "ward_code"

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _ward_ids(df: pd.DataFrame) -> list:
    """Ward codes if the frame has them, else the index labels."""
    if _WARD_CODE in df.columns:
        return df[_WARD_CODE].tolist()
    return df.index.tolist()


def _some(items: Sequence, limit: int = 10) -> str:
    items = [str(i) for i in items]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" ... and {len(items) - limit} more"


def _require(df: Any, columns: Iterable[str], func: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"measures.{func}: expected a pandas or geopandas DataFrame with one row "
            f"per ward, got {type(df).__name__}. Pass the joined ward table from "
            f"gangmap.join.join()."
        )
    if len(df) == 0:
        raise InputError(f"measures.{func}: the ward table has no rows. Pass at least one ward.")
    for col in columns:
        if col not in df.columns:
            raise InputError(
                f"measures.{func}: column {col!r} not found. The table has columns "
                f"{_some(list(df.columns), 20)}. Pass the name of one of them."
            )


def _numeric(df: pd.DataFrame, col: str, func: str) -> np.ndarray:
    try:
        return pd.to_numeric(df[col], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        bad = [
            code
            for code, v in zip(_ward_ids(df), df[col])
            if pd.notna(v) and pd.isna(pd.to_numeric(v, errors="coerce"))
        ]
        raise InputError(
            f"measures.{func}: column {col!r} is not numeric (wards {_some(bad)}). "
            f"Convert it to numbers first, e.g. pd.to_numeric(df[{col!r}])."
        ) from exc


def _counts(df: pd.DataFrame, col: str, func: str, *, whole: bool = True) -> np.ndarray:
    """Validated event counts: finite, not negative and (by default) whole."""
    values = _numeric(df, col, func)
    ids = _ward_ids(df)
    missing = [c for c, v in zip(ids, values) if not np.isfinite(v)]
    if missing:
        raise InputError(
            f"measures.{func}: count column {col!r} is missing for ward(s) {_some(missing)}. "
            f"A ward with no events should have count 0: fill with df[{col!r}].fillna(0)."
        )
    negative = [c for c, v in zip(ids, values) if v < 0]
    if negative:
        raise InputError(
            f"measures.{func}: count column {col!r} is negative for ward(s) {_some(negative)}. "
            f"Counts must be 0 or more: check how {col!r} was built."
        )
    if whole:
        fractional = [c for c, v in zip(ids, values) if v != np.floor(v)]
        if fractional:
            raise InputError(
                f"measures.{func}: count column {col!r} has non-whole values for ward(s) "
                f"{_some(fractional)}. Poisson intervals need whole event counts: pass the "
                f"raw count column, not a rate or an estimate."
            )
    return values


def _population(
    df: pd.DataFrame, col: str, func: str, on_zero: str
) -> tuple[np.ndarray, np.ndarray, list]:
    """Population values, a mask of usable wards and the codes of the unusable ones."""
    if on_zero not in ("raise", "exclude"):
        raise GangmapError(
            f"measures.{func}: on_zero={on_zero!r} is not one of 'raise', 'exclude'."
        )
    values = _numeric(df, col, func)
    ok = np.isfinite(values) & (values > 0)
    bad = [c for c, good in zip(_ward_ids(df), ok) if not good]
    if bad and on_zero == "raise":
        raise InputError(
            f"measures.{func}: population column {col!r} is zero, negative or missing for "
            f"{len(bad)} ward(s): {_some(bad)}. A rate needs a population above zero: fix "
            f"the population table for these wards, or pass on_zero='exclude' to leave "
            f"them out (their values become NaN and are listed in "
            f"result.attrs['gangmap_notes'])."
        )
    if not ok.any():
        raise InputError(
            f"measures.{func}: no ward has a population above zero in column {col!r}. "
            f"Check that the population table was joined (gangmap.join.join(population=...))."
        )
    return values, ok, bad


def _check_per(per: float, func: str) -> float:
    try:
        per = float(per)
    except (TypeError, ValueError):
        per = float("nan")
    if not (np.isfinite(per) and per > 0):
        raise GangmapError(f"measures.{func}: per={per!r} must be a positive number, e.g. 1000.")
    return per


def derived_sources(df: pd.DataFrame, column: str) -> list[str]:
    """Count columns that ``column`` was computed from.

    Parameters
    ----------
    df : DataFrame
        A frame returned by a gangmap measure (or any frame).
    column : str
        Column name.

    Returns
    -------
    list of str
        ``df.attrs["gangmap_derived"][column]`` when ``column`` is a derived
        column, else ``[column]`` (a raw count is its own source).

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"ward_code": ["E05000001"], "reports": [3], "population": [1500]})
    >>> measures.derived_sources(measures.rate(t, "reports", "population"), "reports_rate")
    ['reports']
    """
    derived = df.attrs.get("gangmap_derived", {}) or {}
    return list(derived.get(column, [column]))


def _finish(
    df: pd.DataFrame,
    new: Mapping[str, Any],
    sources: Sequence[str],
    notes: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Copy ``df``, add the ``new`` columns, and record sources and notes in attrs."""
    result = df.copy()
    for col, values in new.items():
        result[col] = values
    srcs = list(dict.fromkeys(sources))
    old_derived = dict(df.attrs.get("gangmap_derived", {}) or {})
    old_notes = dict(df.attrs.get("gangmap_notes", {}) or {})
    result.attrs["gangmap_derived"] = {**old_derived, **{c: list(srcs) for c in new}}
    if notes is not None:
        result.attrs["gangmap_notes"] = {**old_notes, **{c: dict(notes) for c in new}}
    else:
        result.attrs["gangmap_notes"] = old_notes
    return result


# ---------------------------------------------------------------------------
# Poisson confidence intervals and rates
# ---------------------------------------------------------------------------


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
        Number of events (0 or more). Non-whole values are accepted (they are
        used for funnel-plot limits around an expected count).
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
        raise GangmapError(
            f"measures.poisson_ci: level={level!r} must be between 0 and 1, e.g. 0.95 or 0.998."
        )
    scalar = np.ndim(observed) == 0
    o = np.asarray(observed, dtype=float)
    if np.any(~np.isfinite(o)) or np.any(o < 0):
        raise InputError(
            "measures.poisson_ci: observed counts must be finite and 0 or more; "
            "fill missing counts with 0 first."
        )
    o = np.atleast_1d(o)
    alpha = 1.0 - level
    z = _z(level)
    lo = np.empty_like(o)
    hi = np.empty_like(o)
    exact = o < _BYAR_FROM
    if exact.any():
        oe = o[exact]
        with np.errstate(invalid="ignore"):
            lo_e = np.where(oe > 0, stats.gamma.ppf(alpha / 2.0, np.where(oe > 0, oe, 1.0)), 0.0)
        hi_e = stats.gamma.ppf(1.0 - alpha / 2.0, oe + 1.0)
        lo[exact] = lo_e
        hi[exact] = hi_e
    if (~exact).any():
        ob = o[~exact]
        lo[~exact] = ob * (1.0 - 1.0 / (9.0 * ob) - z / (3.0 * np.sqrt(ob))) ** 3
        ob1 = ob + 1.0
        hi[~exact] = ob1 * (1.0 - 1.0 / (9.0 * ob1) + z / (3.0 * np.sqrt(ob1))) ** 3
    if scalar:
        return float(lo[0]), float(hi[0])
    return lo.reshape(np.shape(observed)), hi.reshape(np.shape(observed))


def rate(
    df: pd.DataFrame,
    count: str,
    population: str,
    *,
    per: float = 1000,
    name: str | None = None,
    on_zero: str = "raise",
) -> pd.DataFrame:
    """Crude rate per ``per`` people with 95% and 99.8% confidence intervals.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per ward.
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
        What to do with wards whose population is zero, negative or missing:
        stop with an error listing them, or give them NaN and list them in
        ``result.attrs["gangmap_notes"][name]["excluded"]``.

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy of ``df`` with the five new columns. Intervals use
        :func:`poisson_ci` (exact Poisson below 10 events, Byar's from 10 up).

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
    >>> out.attrs["gangmap_derived"]["reports_rate"]
    ['reports']
    """
    _require(df, [count, population], "rate")
    per = _check_per(per, "rate")
    obs = _counts(df, count, "rate")
    pop, ok, bad = _population(df, population, "rate", on_zero)
    name = name or f"{count}_rate"
    new: dict[str, np.ndarray] = {}
    r = np.full(len(df), np.nan)
    r[ok] = obs[ok] / pop[ok] * per
    new[name] = r
    for suffix, level in _LEVELS.items():
        lo_c, hi_c = poisson_ci(obs[ok], level)
        lo = np.full(len(df), np.nan)
        hi = np.full(len(df), np.nan)
        lo[ok] = lo_c / pop[ok] * per
        hi[ok] = hi_c / pop[ok] * per
        new[f"{name}_lo{suffix}"] = lo
        new[f"{name}_hi{suffix}"] = hi
    notes = {
        "measure": "rate",
        "count": count,
        "population": population,
        "per": per,
        "ci": "exact Poisson below 10 events, Byar's from 10 (OHID Fingertips)",
        "excluded": bad,
    }
    return _finish(df, new, derived_sources(df, count), notes)


# ---------------------------------------------------------------------------
# smoothing
# ---------------------------------------------------------------------------


def excess_risk(
    df: pd.DataFrame, count: str, population: str, *, on_zero: str = "raise"
) -> pd.DataFrame:
    """Excess risk: observed over expected events (a standardised ratio).

    The expected count of a ward is its population times the overall rate
    (total events / total population over the usable wards). 1 means "as
    expected", 2 means twice as many events as expected. Same as
    ``esda.Excess_Risk``.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per ward.
    count, population : str
        Column names of the event counts and the population at risk.
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`rate`.

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy of ``df`` with ``f"{count}_excess"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"reports": [2, 6], "population": [1000, 1000]})
    >>> measures.excess_risk(t, "reports", "population")["reports_excess"].tolist()
    [0.5, 1.5]
    """
    _require(df, [count, population], "excess_risk")
    obs = _counts(df, count, "excess_risk", whole=False)
    pop, ok, bad = _population(df, population, "excess_risk", on_zero)
    overall = obs[ok].sum() / pop[ok].sum()
    out = np.full(len(df), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[ok] = obs[ok] / (pop[ok] * overall) if overall > 0 else 0.0
    notes = {"measure": "excess_risk", "overall_rate": float(overall), "excluded": bad}
    return _finish(df, {f"{count}_excess": out}, derived_sources(df, count), notes)


def _marshall(obs: np.ndarray, pop: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """Marshall's global empirical Bayes rates (per person), clamped.

    Returns (smoothed rates, mean rate, raw between-area variance, used variance).
    """
    m = obs.sum() / pop.sum()
    r = obs / pop
    s2 = np.sum(pop * (r - m) ** 2) / pop.sum()
    var_raw = s2 - m / pop.mean()
    var = max(var_raw, 0.0)
    if m == 0:
        return np.zeros_like(r), float(m), float(var_raw), float(var)
    shrink = var / (var + m / pop)
    return shrink * r + (1.0 - shrink) * m, float(m), float(var_raw), float(var)


def eb_global(
    df: pd.DataFrame,
    count: str,
    population: str,
    *,
    per: float = 1000,
    on_zero: str = "raise",
) -> pd.DataFrame:
    """Global empirical Bayes smoothed rate (Marshall, 1991).

    Each ward's crude rate ``r_i = O_i / P_i`` is shrunk towards the overall rate
    ``m = sum(O) / sum(P)`` with weight ``C_i = A / (A + m / P_i)``, where
    ``A = sum(P_i (r_i - m)**2) / sum(P) - m / mean(P)`` is the method-of-moments
    estimate of the between-ward variance of the true rates. Wards with small
    populations (unstable rates) are pulled further towards ``m``.

    When ``A`` comes out negative (the crude rates vary *less* than Poisson noise
    alone would make them) it is set to 0, as GeoDa does, so every ward gets the
    overall rate. ``esda.Empirical_Bayes`` does not clamp and can then give
    weights outside [0, 1] (even negative rates); with ``A > 0`` the two agree.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per ward.
    count, population : str
        Column names of the event counts and the population at risk.
    per : float, default 1000
        Rate multiplier.
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`rate`. Excluded wards take no part in ``m`` or ``A``.

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy of ``df`` with ``f"{count}_eb"`` (events per ``per`` people).
        ``attrs["gangmap_notes"][f"{count}_eb"]`` holds ``mean_rate``,
        ``between_variance`` (before clamping) and ``clamped``.

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"reports": [0, 10, 40], "population": [500, 5000, 5000]})
    >>> measures.eb_global(t, "reports", "population")["reports_eb"].round(3).tolist()
    [2.538, 2.283, 7.668]
    """
    _require(df, [count, population], "eb_global")
    per = _check_per(per, "eb_global")
    obs = _counts(df, count, "eb_global", whole=False)
    pop, ok, bad = _population(df, population, "eb_global", on_zero)
    out = np.full(len(df), np.nan)
    smoothed, m, var_raw, var = _marshall(obs[ok], pop[ok])
    out[ok] = smoothed * per
    notes = {
        "measure": "eb_global",
        "per": per,
        "mean_rate": m * per,
        "between_variance": var_raw,
        "clamped": bool(var_raw < 0),
        "excluded": bad,
    }
    return _finish(df, {f"{count}_eb": out}, derived_sources(df, count), notes)


def eb_spatial(
    df: pd.DataFrame,
    count: str,
    population: str,
    *,
    w: Any = None,
    per: float = 1000,
    on_zero: str = "raise",
) -> pd.DataFrame:
    """Spatial empirical Bayes smoothed rate.

    As :func:`eb_global`, but each ward is shrunk towards the rate of its own
    neighbourhood (the ward and its neighbours in ``w``) rather than the overall
    rate, with the between-ward variance also estimated in that neighbourhood
    and clamped at 0. Reproduces ``esda.Spatial_Empirical_Bayes`` (neighbour
    weights are used as 0/1, as esda effectively does) but never changes the
    caller's ``w`` (esda sets ``w.transform``).

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per ward.
    count, population : str
        Column names of the event counts and the population at risk.
    w : libpysal.weights.W, optional
        Spatial weights whose ids are the ``ward_code`` values (or the index)
        of ``df``. Defaults to ``weights(df)`` (queen contiguity, islands
        joined to their nearest ward).
    per : float, default 1000
        Rate multiplier.
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`rate`. Excluded wards take no part in any neighbourhood.

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy of ``df`` with ``f"{count}_seb"`` (events per ``per`` people).
        A ward with no neighbours keeps its crude rate (as in esda).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from gangmap import measures
    >>> g = gpd.GeoDataFrame({"ward_code": ["A", "B", "C"], "reports": [1, 5, 9],
    ...                       "population": [1000, 1000, 1000]},
    ...                      geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
    ...                      crs=27700)
    >>> measures.eb_spatial(g, "reports", "population")["reports_seb"].round(3).tolist()
    [2.5, 5.0, 7.0]
    """
    _require(df, [count, population], "eb_spatial")
    per = _check_per(per, "eb_spatial")
    obs = _counts(df, count, "eb_spatial", whole=False)
    pop, ok, bad = _population(df, population, "eb_spatial", on_zero)
    if w is None:
        w = weights(df)
    pos = _positions(w, df, "eb_spatial")
    ids = list(w.id_order)
    n = len(df)
    valid = ok
    out = np.full(n, np.nan)
    r = np.zeros(n)
    r[ok] = obs[ok] / pop[ok]
    no_neighbours = []
    for code in ids:
        i = pos[code]
        if not valid[i]:
            continue
        hood = [i] + [pos[j] for j in w.neighbors[code] if valid[pos[j]] and pos[j] != i]
        if len(hood) == 1:
            no_neighbours.append(code)
        e_h, b_h = obs[hood], pop[hood]
        b_sum = b_h.sum()
        m = e_h.sum() / b_sum
        var = np.sum(b_h * (r[hood] - m) ** 2) / b_sum - m / (b_sum / len(hood))
        var = max(var, 0.0)
        if m == 0:
            out[i] = 0.0
        else:
            out[i] = (m + (r[i] - m) * (var / (var + m / pop[i]))) * per
    notes = {
        "measure": "eb_spatial",
        "per": per,
        "no_neighbours": no_neighbours,
        "islands": list(getattr(w, "gangmap_islands", [])),
        "excluded": bad,
    }
    return _finish(df, {f"{count}_seb": out}, derived_sources(df, count), notes)


# ---------------------------------------------------------------------------
# spatial weights
# ---------------------------------------------------------------------------


def weights(
    df: pd.DataFrame,
    kind: str = "queen",
    *,
    k: int = 5,
    threshold: float | None = None,
    islands: str = "nearest",
    ids: str = _WARD_CODE,
) -> Any:
    """Spatial weights between wards (a ``libpysal.weights.W``).

    Parameters
    ----------
    df : GeoDataFrame
        One row per ward, projected CRS (EPSG:27700, metres).
    kind : {"queen", "rook", "knn", "distance"}, default "queen"
        ``queen``: wards sharing a boundary point; ``rook``: sharing a boundary
        edge; ``knn``: each ward's ``k`` nearest wards by centroid (not
        symmetric); ``distance``: wards whose centroids are within
        ``threshold`` metres (binary weights).
    k : int, default 5
        Number of neighbours for ``kind="knn"``.
    threshold : float, optional
        Distance in metres for ``kind="distance"`` (required there).
    islands : {"nearest", "exclude"}, default "nearest"
        Wards with no neighbour (e.g. an offshore ward). ``"nearest"`` links
        each one, both ways, to the ward with the nearest centroid;
        ``"exclude"`` leaves them without neighbours, so :func:`local_moran`
        and :func:`getis_ord` leave them out of the analysis and label them
        ``"island"``.
    ids : str, default "ward_code"
        Column holding the ids of the weights (unique).

    Returns
    -------
    libpysal.weights.W
        ``id_order`` follows the rows of ``df``. Extra attributes:
        ``gangmap_islands`` (list of the ward codes that had no neighbour),
        ``gangmap_islands_policy`` and ``gangmap_kind``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from gangmap import measures
    >>> g = gpd.GeoDataFrame({"ward_code": ["A", "B", "C"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(10, 0, 11, 1)], crs=27700)
    >>> w = measures.weights(g)
    >>> w.gangmap_islands, dict(w.neighbors)
    (['C'], {'A': ['B'], 'B': ['A', 'C'], 'C': ['B']})
    >>> measures.weights(g, islands="exclude").neighbors["C"]
    []
    """
    import libpysal
    from libpysal.weights import W

    _require(df, [ids], "weights")
    if not hasattr(df, "geometry"):
        raise InputError(
            "measures.weights: the table has no geometry. Pass the GeoDataFrame from "
            "gangmap.boundaries.read_wards() (or the joined table, which keeps the geometry)."
        )
    kind = str(kind).lower()
    if kind not in ("queen", "rook", "knn", "distance"):
        raise GangmapError(
            f"measures.weights: kind={kind!r} is not one of 'queen', 'rook', 'knn', 'distance'."
        )
    if islands not in ("nearest", "exclude"):
        raise GangmapError(
            f"measures.weights: islands={islands!r} is not one of 'nearest', 'exclude'."
        )
    codes = df[ids].tolist()
    dup = sorted({str(c) for c in df.loc[df[ids].duplicated(keep=False), ids]})
    if dup:
        raise InputError(
            f"measures.weights: column {ids!r} has duplicated ward codes {_some(dup)}. "
            f"Weights need one row per ward: dissolve or drop the duplicates."
        )
    if len(df) < 2:
        raise InputError("measures.weights: spatial weights need at least 2 wards.")
    empty = [c for c, geom in zip(codes, df.geometry) if geom is None or geom.is_empty]
    if empty:
        raise InputError(
            f"measures.weights: ward(s) {_some(empty)} have no geometry. Drop them or fix "
            f"the boundary file."
        )
    crs = getattr(df, "crs", None)
    if kind in ("knn", "distance") and crs is not None and crs.is_geographic:
        raise InputError(
            f"measures.weights: kind={kind!r} needs distances in metres but the table is "
            f"in {crs.to_string()}. Reproject first: df.to_crs(27700)."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "queen":
            w0 = libpysal.weights.Queen.from_dataframe(df, ids=codes, silence_warnings=True)
        elif kind == "rook":
            w0 = libpysal.weights.Rook.from_dataframe(df, ids=codes, silence_warnings=True)
        elif kind == "knn":
            if int(k) < 1 or int(k) >= len(df):
                raise GangmapError(
                    f"measures.weights: k={k!r} must be between 1 and {len(df) - 1} "
                    f"(the number of wards minus one)."
                )
            w0 = libpysal.weights.KNN.from_dataframe(df, k=int(k), ids=codes, silence_warnings=True)
        else:
            if threshold is None or not float(threshold) > 0:
                raise GangmapError(
                    "measures.weights: kind='distance' needs threshold=<metres>, e.g. "
                    "threshold=2000."
                )
            w0 = libpysal.weights.DistanceBand.from_dataframe(
                df, threshold=float(threshold), binary=True, ids=codes, silence_warnings=True
            )
    neighbors = {c: [j for j in w0.neighbors[c] if j != c] for c in codes}
    wts = {c: [1.0] * len(neighbors[c]) for c in codes}
    island_codes = [c for c in codes if not neighbors[c]]
    if island_codes and islands == "nearest":
        from scipy.spatial import cKDTree

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # centroid of geographic CRS: nearest is still fine
            cent = df.geometry.centroid
        xy = np.column_stack([cent.x.to_numpy(), cent.y.to_numpy()])
        tree = cKDTree(xy)
        where = {c: i for i, c in enumerate(codes)}
        for c in island_codes:
            i = where[c]
            _, idx = tree.query(xy[i], k=min(3, len(codes)))
            j = next(int(t) for t in np.atleast_1d(idx) if int(t) != i)
            other = codes[j]
            if other not in neighbors[c]:
                neighbors[c].append(other)
                wts[c].append(1.0)
            if c not in neighbors[other]:
                neighbors[other].append(c)
                wts[other].append(1.0)
    w = W(neighbors, wts, id_order=codes, silence_warnings=True)
    w.gangmap_islands = list(island_codes)
    w.gangmap_islands_policy = islands
    w.gangmap_kind = kind
    return w


def _positions(w: Any, df: pd.DataFrame, func: str) -> dict:
    """Map each id of ``w`` to a row position of ``df`` (by ward code or index)."""
    ids = list(w.id_order)
    for candidate in (_ward_ids(df), df.index.tolist()):
        if len(candidate) == len(ids) and set(candidate) == set(ids) and len(set(candidate)) == len(candidate):
            return {c: i for i, c in enumerate(candidate)}
    codes = set(_ward_ids(df))
    missing = [c for c in _ward_ids(df) if c not in set(ids)]
    extra = [c for c in ids if c not in codes]
    raise InputError(
        f"measures.{func}: the weights do not match the wards of the table "
        f"({w.n} ids in the weights, {len(df)} rows). Wards without weights: "
        f"{_some(missing) or 'none'}; weights ids not in the table: {_some(extra) or 'none'}. "
        f"Build the weights from this table: measures.weights(df)."
    )


def _aligned_copy(w: Any, df: pd.DataFrame, keep: Sequence[int], func: str) -> tuple[Any, list]:
    """A fresh W (original weights, no transform) over the rows ``keep`` of ``df``,
    in that order, plus its ids. The caller's ``w`` is never touched."""
    from libpysal.weights import W

    pos = _positions(w, df, func)
    by_pos = {p: c for c, p in pos.items()}
    order = [by_pos[p] for p in keep]
    kept = set(order)
    original = w.transformations.get("O", w.weights) if hasattr(w, "transformations") else w.weights
    neighbors, wts = {}, {}
    for c in order:
        nb, wt = [], []
        for j, v in zip(w.neighbors[c], original[c]):
            if j in kept and j != c:
                nb.append(j)
                wt.append(float(v))
        neighbors[c], wts[c] = nb, wt
    return W(neighbors, wts, id_order=order, silence_warnings=True), order


def _island_codes(w: Any) -> set:
    """Ids that had (``gangmap_islands``) or have no neighbours."""
    out = {c for c in w.id_order if len(w.neighbors[c]) == 0}
    out.update(getattr(w, "gangmap_islands", []) or [])
    return out


# ---------------------------------------------------------------------------
# hotspots
# ---------------------------------------------------------------------------


def _bh_threshold(p: np.ndarray, alpha: float) -> float:
    """Benjamini-Hochberg: the largest p-value cut-off controlling the FDR at alpha
    (0.0 when nothing can be declared significant)."""
    p = np.sort(np.asarray(p, dtype=float))
    n = len(p)
    if n == 0:
        return 0.0
    crit = alpha * np.arange(1, n + 1) / n
    ok = np.nonzero(p <= crit)[0]
    return float(p[ok[-1]]) if len(ok) else 0.0


def _check_hotspot_args(alpha: float, permutations: int, alternative: str, func: str) -> None:
    if alternative not in ("two-sided", "directed"):
        raise GangmapError(
            f"measures.{func}: alternative={alternative!r} is not one of 'two-sided', 'directed'."
        )
    if not (0.0 < float(alpha) < 1.0):
        raise GangmapError(f"measures.{func}: alpha={alpha!r} must be between 0 and 1, e.g. 0.05.")
    if int(permutations) < 99:
        raise GangmapError(
            f"measures.{func}: permutations={permutations!r} is too few for a pseudo p-value; "
            f"use 999 (the default) or at least 99."
        )
    smallest = (2.0 if alternative == "two-sided" else 1.0) / (int(permutations) + 1)
    if float(alpha) < smallest:
        raise GangmapError(
            f"measures.{func}: alpha={alpha} is below the smallest possible pseudo p-value "
            f"{smallest:.4g} with {permutations} permutations; raise permutations."
        )


def _hotspot_setup(
    df: pd.DataFrame, column: str, w: Any, test_islands: bool, func: str
) -> tuple[np.ndarray, Any, list, list, list]:
    """Values, aligned weights copy over the analysed wards, their row positions,
    the island codes, and the codes reported as 'island'."""
    _require(df, [column], func)
    y = _numeric(df, column, func)
    ids = _ward_ids(df)
    missing = [c for c, v in zip(ids, y) if not np.isfinite(v)]
    if missing:
        raise InputError(
            f"measures.{func}: column {column!r} is missing for ward(s) {_some(missing)}. "
            f"Hotspot statistics need a value for every ward: fill them, or compute the "
            f"measure on a table without these wards (and weights built from it)."
        )
    if w is None:
        w = weights(df)
    pos = _positions(w, df, func)
    isl = _island_codes(w)
    unconnected = {c for c in w.id_order if len(w.neighbors[c]) == 0}
    analysed = sorted(pos[c] for c in w.id_order if c not in unconnected)
    if len(analysed) < 3:
        raise InputError(
            f"measures.{func}: fewer than 3 wards have neighbours; hotspot statistics need more wards."
        )
    w_copy, _ = _aligned_copy(w, df, analysed, func)
    reported_islands = [c for c in w.id_order if c in unconnected or (c in isl and not test_islands)]
    return y, w_copy, analysed, sorted(isl, key=str), reported_islands


def _pseudo_p(
    observed: np.ndarray, sims: np.ndarray, alternative: str
) -> tuple[np.ndarray, np.ndarray]:
    """Permutation pseudo p-values with ties counted in both tails.

    ``sims`` is (n, permutations). ``p_ge = (#sim >= obs + 1) / (P + 1)`` and
    ``p_le = (#sim <= obs + 1) / (P + 1)``; "directed" is ``min(p_ge, p_le)``
    (GeoDa's one-sided p in the direction of the data), "two-sided" is twice that
    (capped at 1). esda folds the count instead, which makes a ward whose statistic
    ties with the bulk of its reference distribution (e.g. zero counts all around)
    look extreme (p = 0.001); counting ties on both sides does not.
    """
    obs = np.asarray(observed, dtype=float)[:, None]
    sims = np.asarray(sims, dtype=float)
    scale = np.maximum(np.abs(obs), np.abs(sims).mean(axis=1, keepdims=True))
    tol = 1e-9 * np.where(scale > 0, scale, 1.0)
    perms = sims.shape[1]
    p_ge = ((sims >= obs - tol).sum(axis=1) + 1.0) / (perms + 1.0)
    p_le = ((sims <= obs + tol).sum(axis=1) + 1.0) / (perms + 1.0)
    p = np.minimum(p_ge, p_le)
    if alternative == "two-sided":
        p = np.minimum(1.0, 2.0 * p)
    return p, p_ge <= p_le


def _significance(p: np.ndarray, report: np.ndarray, alpha: float, fdr: bool) -> tuple[np.ndarray, float]:
    thr = _bh_threshold(p[report], alpha) if fdr else float(alpha)
    return report & (p <= thr), thr


def _flag(df, p: np.ndarray, reported_islands, alpha: float, fdr: bool):
    """Island mask, significance and the p cut-off used, shared by the hotspot measures."""
    isl_mask = np.isin(np.asarray(_ward_ids(df), dtype=object), list(reported_islands))
    sig, thr = _significance(p, np.isfinite(p) & ~isl_mask, float(alpha), fdr)
    return isl_mask, sig, thr


def _hotspot_notes(measure, w, permutations, seed, alpha, fdr, alternative, thr, islands, reported, **extra):
    return {"measure": measure, **extra, "permutations": int(permutations), "seed": seed,
            "alpha": float(alpha), "fdr": bool(fdr), "alternative": alternative, "p_threshold": thr,
            "islands": islands, "reported_as_island": list(reported),
            "weights": getattr(w, "gangmap_kind", "queen" if w is None else "user")}


class _QuietRandom:
    """Keep numpy's global random state as it was (esda reseeds it)."""

    def __enter__(self) -> None:
        self._state = np.random.get_state()
        self._warn = warnings.catch_warnings()
        self._warn.__enter__()
        warnings.filterwarnings("ignore", message=".*alternative hypothesis.*")
        warnings.filterwarnings("ignore", message=".*island.*")
        warnings.filterwarnings("ignore", message=".*not fully connected.*")

    def __exit__(self, *exc: Any) -> None:
        self._warn.__exit__(*exc)
        np.random.set_state(self._state)


def local_moran(
    df: pd.DataFrame,
    column: str,
    *,
    w: Any = None,
    permutations: int = 999,
    seed: int | None = DEFAULT_SEED,
    alpha: float = 0.05,
    fdr: bool = False,
    alternative: str = "two-sided",
    test_islands: bool = False,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Local Moran's I (LISA) cluster labels with permutation p-values.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per ward.
    column : str
        Column to test, e.g. ``"reports_rate"`` or ``"reports_eb"``.
    w : libpysal.weights.W, optional
        Weights with ids matching ``ward_code`` (or the index). Defaults to
        ``weights(df)``. Row-standardised on a private copy; never changed.
    permutations : int, default 999
        Conditional permutations for the pseudo p-values (at least 99).
    seed : int or None, default DEFAULT_SEED
        Seed given to esda so results repeat; ``None`` for a random run.
    alpha : float, default 0.05
        Significance level.
    fdr : bool, default False
        Control the false discovery rate (Benjamini-Hochberg over the reported
        wards) instead of testing each ward at ``alpha``.
    alternative : {"two-sided", "directed"}, default "two-sided"
        ``"directed"`` is GeoDa's one-sided pseudo p-value in the direction of
        the observed statistic, ``min(p_ge, p_le)``; ``"two-sided"`` doubles it
        (capped at 1), as esda recommends. Ties with the simulated values count
        in both tails, so a ward surrounded by identical values (e.g. zeros) is
        not reported as significant (esda's own ``p_sim`` would give it 0.001).
    test_islands : bool, default False
        Wards that had no neighbour (``w.gangmap_islands``) are labelled
        ``"island"`` even when :func:`weights` joined them to their nearest
        ward, because a statistic over a single borrowed neighbour is not
        evidence of a cluster. Set True to test those joined wards like any
        other. Wards that still have no neighbour are always ``"island"``.
    n_jobs : int, default 1
        Passed to esda (1 is fastest without numba on two cores).

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy with ``f"{column}_lisa"`` (``"HH"`` high among high, ``"LL"``,
        ``"HL"`` high among low, ``"LH"``, ``"ns"`` not significant,
        ``"island"``) and ``f"{column}_lisa_p"`` (pseudo p-value, see
        ``alternative``; NaN for islands). The cut-off used is in
        ``attrs["gangmap_notes"]``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from gangmap import measures
    >>> g = gpd.GeoDataFrame({"ward_code": [f"W{i}" for i in range(25)],
    ...     "reports": [9 if (i % 5 < 2 and i < 10) else 1 for i in range(25)]},
    ...     geometry=[box(i % 5, i // 5, i % 5 + 1, i // 5 + 1) for i in range(25)], crs=27700)
    >>> out = measures.local_moran(g, "reports")
    >>> sorted(set(out["reports_lisa"]) - {"ns"})
    ['HH']
    """
    import esda

    _check_hotspot_args(alpha, permutations, alternative, "local_moran")
    y, w_copy, analysed, islands, reported_islands = _hotspot_setup(
        df, column, w, test_islands, "local_moran"
    )
    n = len(df)
    with _QuietRandom():
        lm = esda.Moran_Local(
            y[analysed],
            w_copy,
            transformation="r",
            permutations=int(permutations),
            n_jobs=n_jobs,
            keep_simulations=True,
            seed=seed,
        )
    p = np.full(n, np.nan)
    q = np.zeros(n, dtype=int)
    p[analysed], _ = _pseudo_p(lm.Is, lm.rlisas, alternative)
    q[analysed] = lm.q
    isl_mask, sig, thr = _flag(df, p, reported_islands, alpha, fdr)
    quad = np.array(["ns", "HH", "LH", "LL", "HL"], dtype=object)
    labels = np.where(sig, quad[q], "ns").astype(object)
    labels[isl_mask] = "island"
    p[isl_mask] = np.nan
    notes = _hotspot_notes("local_moran", w, permutations, seed, alpha, fdr, alternative, thr, islands,
                           reported_islands)
    new = {f"{column}_lisa": pd.array(labels, dtype="object"), f"{column}_lisa_p": p}
    return _finish(df, new, derived_sources(df, column), notes)


def getis_ord(
    df: pd.DataFrame,
    column: str,
    *,
    w: Any = None,
    permutations: int = 999,
    seed: int | None = DEFAULT_SEED,
    alpha: float = 0.05,
    fdr: bool = False,
    alternative: str = "two-sided",
    test_islands: bool = False,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Getis-Ord Gi* hot and cold spots (binary weights, ward included in its
    own neighbourhood), with permutation p-values.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per ward.
    column : str
        Column to test; values must be 0 or more (counts, rates).
    w, permutations, seed, alpha, fdr, alternative, test_islands, n_jobs
        As in :func:`local_moran`. The weights are used as 0/1 with a self
        weight of 1 on a private copy.

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy with ``f"{column}_gi"`` (``"hot"``: significant and above its
        permutation distribution, ``"cold"``: significant and below, ``"ns"``,
        ``"island"``), ``f"{column}_gi_z"`` (standardised Gi*, positive for
        high-value clusters) and ``f"{column}_gi_p"`` (pseudo p-value; NaN for
        islands).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from gangmap import measures
    >>> g = gpd.GeoDataFrame({"ward_code": [f"W{i}" for i in range(25)],
    ...     "reports": [9 if (i % 5 < 2 and i < 10) else 1 for i in range(25)]},
    ...     geometry=[box(i % 5, i // 5, i % 5 + 1, i // 5 + 1) for i in range(25)], crs=27700)
    >>> out = measures.getis_ord(g, "reports")
    >>> out.loc[0, "reports_gi"], out.loc[24, "reports_gi"]
    ('hot', 'ns')
    """
    import esda

    _check_hotspot_args(alpha, permutations, alternative, "getis_ord")
    y, w_copy, analysed, islands, reported_islands = _hotspot_setup(
        df, column, w, test_islands, "getis_ord"
    )
    negative = [c for c, v in zip(_ward_ids(df), y) if v < 0]
    if negative:
        raise InputError(
            f"measures.getis_ord: column {column!r} is negative for ward(s) {_some(negative)}. "
            f"Gi* needs values of 0 or more (counts or rates); use local_moran for "
            f"centred values such as z-scores."
        )
    if y[analysed].sum() <= 0:
        raise InputError(
            f"measures.getis_ord: column {column!r} is 0 for every ward; there is nothing to test."
        )
    # binary weights: Gi* uses 0/1 neighbours plus the ward itself
    from libpysal.weights import W

    w_bin = W(
        {c: list(w_copy.neighbors[c]) for c in w_copy.id_order},
        {c: [1.0] * len(w_copy.neighbors[c]) for c in w_copy.id_order},
        id_order=list(w_copy.id_order),
        silence_warnings=True,
    )
    n = len(df)
    with _QuietRandom():
        gi = esda.G_Local(
            y[analysed],
            w_bin,
            transform="B",
            permutations=int(permutations),
            star=True,
            keep_simulations=True,
            n_jobs=n_jobs,
            seed=seed,
        )
    p = np.full(n, np.nan)
    z = np.full(n, np.nan)
    upper = np.zeros(n, dtype=bool)
    p[analysed], upper[analysed] = _pseudo_p(gi.Gs, gi.rGs, alternative)
    z[analysed] = gi.Zs
    isl_mask, sig, thr = _flag(df, p, reported_islands, alpha, fdr)
    labels = np.full(n, "ns", dtype=object)
    labels[sig & upper] = "hot"
    labels[sig & ~upper] = "cold"
    labels[isl_mask] = "island"
    p[isl_mask] = np.nan
    z[isl_mask] = np.nan
    notes = _hotspot_notes("getis_ord", w, permutations, seed, alpha, fdr, alternative, thr, islands,
                           reported_islands, star=True)
    new = {
        f"{column}_gi": pd.array(labels, dtype="object"),
        f"{column}_gi_z": z,
        f"{column}_gi_p": p,
    }
    return _finish(df, new, derived_sources(df, column), notes)


# ---------------------------------------------------------------------------
# composite need index
# ---------------------------------------------------------------------------


def need_index(
    df: pd.DataFrame,
    components: Mapping[str, float] | None = None,
    *,
    method: str = "minmax",
    name: str = "need_index",
) -> pd.DataFrame:
    """Weighted composite need index on a 0-100 scale.

    Each component column is put on a common scale, multiplied by its weight
    (weights are normalised to sum to 1) and added up:

    * ``"minmax"``: ``(x - min) / (max - min)``; index = 100 * sum(w * scaled).
      A ward that is highest on every component scores 100, lowest on all 0.
    * ``"rank"``: percentile rank ``(rank - 1) / (n - 1)`` (ties averaged);
      index = 100 * sum(w * scaled). Robust to outliers.
    * ``"zscore"``: ``S = sum(w * z)`` with ``z = (x - mean) / sd``, then
      rescaled so the lowest ward is 0 and the highest 100. Contributions are
      measured from the lowest-scoring ward, so a component can contribute a
      negative amount where the ward is below that ward on it.

    A component that is constant across wards contributes 0.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per ward.
    components : dict {column: weight}, optional
        Columns and their (positive) weights; defaults to
        :data:`DEFAULT_INDEX_WEIGHTS`. Any numeric columns may be used.
    method : {"minmax", "zscore", "rank"}, default "minmax"
    name : str, default "need_index"
        Name of the index column; contributions are ``f"{name}_{component}"``.

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy with ``name`` (0-100) and one contribution column per component;
        the contributions of a ward add up to its index. Wards missing any
        component get NaN and are listed in ``attrs["gangmap_notes"]``. The
        recorded sources are the union of the components' sources.

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"a": [0.0, 5.0, 10.0], "b": [1.0, 3.0, 2.0]})
    >>> out = measures.need_index(t, {"a": 3, "b": 1})
    >>> out[["need_index", "need_index_a", "need_index_b"]]
       need_index  need_index_a  need_index_b
    0         0.0           0.0           0.0
    1        62.5          37.5          25.0
    2        87.5          75.0          12.5
    """
    components = dict(DEFAULT_INDEX_WEIGHTS if components is None else components)
    if not components:
        raise GangmapError("measures.need_index: components is empty; give {column: weight, ...}.")
    if method not in ("minmax", "zscore", "rank"):
        raise GangmapError(
            f"measures.need_index: method={method!r} is not one of 'minmax', 'zscore', 'rank'."
        )
    missing_cols = [c for c in components if c not in df.columns] if isinstance(df, pd.DataFrame) else []
    if missing_cols:
        hint = ""
        if components == DEFAULT_INDEX_WEIGHTS or set(missing_cols) & set(DEFAULT_INDEX_WEIGHTS):
            hint = (
                " The default components need rates: run measures.rate(df, 'reports', "
                "'population') and measures.rate(df, 'referrals', 'population') first, or pass "
                "components={column: weight}."
            )
        raise InputError(
            f"measures.need_index: component column(s) {_some(missing_cols)} not found. "
            f"The table has columns {_some(list(df.columns), 20)}.{hint}"
        )
    _require(df, components, "need_index")
    wts = {}
    for col, wt in components.items():
        try:
            wt = float(wt)
        except (TypeError, ValueError):
            wt = float("nan")
        if not (np.isfinite(wt) and wt >= 0):
            raise GangmapError(
                f"measures.need_index: weight {components[col]!r} for {col!r} must be a number "
                f"0 or more."
            )
        wts[col] = wt
    total = sum(wts.values())
    if total <= 0:
        raise GangmapError("measures.need_index: the weights add up to 0; give at least one positive weight.")
    wts = {c: v / total for c, v in wts.items()}

    X = np.column_stack([_numeric(df, c, "need_index") for c in components])
    complete = np.isfinite(X).all(axis=1)
    if not complete.any():
        raise InputError(
            f"measures.need_index: no ward has a value for every component "
            f"({_some(list(components))}). Check the component columns."
        )
    excluded = [c for c, ok in zip(_ward_ids(df), complete) if not ok]
    Xc = X[complete]
    wvec = np.array([wts[c] for c in components])
    if method in ("minmax", "rank"):
        if method == "minmax":
            lo, hi = Xc.min(axis=0), Xc.max(axis=0)
            span = np.where(hi > lo, hi - lo, 1.0)
            S = np.where(hi > lo, (Xc - lo) / span, 0.0)
        else:
            m = len(Xc)
            ranks = np.column_stack([stats.rankdata(Xc[:, j]) for j in range(Xc.shape[1])])
            S = (ranks - 1.0) / (m - 1.0) if m > 1 else np.zeros_like(Xc)
            S = np.where(Xc.max(axis=0) > Xc.min(axis=0), S, 0.0)
        contrib = 100.0 * S * wvec
    else:
        mu, sd = Xc.mean(axis=0), Xc.std(axis=0)
        Z = np.where(sd > 0, (Xc - mu) / np.where(sd > 0, sd, 1.0), 0.0)
        comp = Z * wvec
        score = comp.sum(axis=1)
        span = score.max() - score.min()
        base = comp[int(np.argmin(score))]
        contrib = 100.0 * (comp - base) / span if span > 0 else np.zeros_like(comp)
    index = np.full(len(df), np.nan)
    index[complete] = contrib.sum(axis=1)
    new = {name: index}
    for j, col in enumerate(components):
        v = np.full(len(df), np.nan)
        v[complete] = contrib[:, j]
        new[f"{name}_{col}"] = v
    sources: list[str] = []
    for col in components:
        sources.extend(derived_sources(df, col))
    notes = {
        "measure": "need_index",
        "method": method,
        "weights": wts,
        "excluded": excluded,
    }
    return _finish(df, new, sources, notes)


# ---------------------------------------------------------------------------
# funnel plots
# ---------------------------------------------------------------------------


def _funnel_inputs(df, count, population, per, on_zero, func, overall=None):
    _require(df, [count, population], func)
    per = _check_per(per, func)
    obs = _counts(df, count, func)
    pop, ok, bad = _population(df, population, func, on_zero)
    mean = obs[ok].sum() / pop[ok].sum() if overall is None else float(overall)  # events per person
    return per, obs, pop, ok, bad, mean


def _limits_at(expected: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for suffix, level in _LEVELS.items():
        lo, hi = poisson_ci(np.asarray(expected, dtype=float), level)
        out[f"lo{suffix}"], out[f"hi{suffix}"] = lo, hi
    return out


def funnel_limits(
    df: pd.DataFrame,
    count: str,
    population: str,
    *,
    per: float = 1000,
    points: int = 200,
    on_zero: str = "raise",
    overall: float | None = None,
) -> pd.DataFrame:
    """Funnel-plot control limits around the overall rate.

    For a population ``P`` the expected count is ``E = m P`` with ``m`` the
    overall rate (total events / total population). The limits are
    :func:`poisson_ci` applied to ``E`` (exact Poisson below 10, Byar's from 10
    up, as in the APHO/OHID funnel-plot tools), divided by ``P``.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per ward.
    count, population : str
        Column names of the event counts and the population at risk.
    per : float, default 1000
        Rate multiplier.
    points : int, default 200
        Number of populations (log-spaced from half the smallest ward
        population to just over the largest).
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`rate`.
    overall : float, optional
        The overall rate (events per person) to centre the funnel on, when
        ``df`` holds only some of the wards (default: from ``df``).

    Returns
    -------
    DataFrame
        Columns ``population``, ``expected`` (count), ``mean`` (overall rate per
        ``per``), ``lo95``, ``hi95``, ``lo998``, ``hi998`` (rates per ``per``).

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"reports": [5, 20], "population": [1000, 3000]})
    >>> lim = measures.funnel_limits(t, "reports", "population", points=5)
    >>> list(lim.columns)
    ['population', 'expected', 'mean', 'lo95', 'hi95', 'lo998', 'hi998']
    >>> float(lim["mean"].iloc[0])
    6.25
    """
    per, obs, pop, ok, bad, mean = _funnel_inputs(df, count, population, per, on_zero, "funnel_limits", overall)
    points = max(int(points), 2)
    lo_p = max(pop[ok].min() / 2.0, 1e-9)
    hi_p = pop[ok].max() * 1.05
    grid = np.geomspace(lo_p, hi_p, points)
    expected = mean * grid
    lim = _limits_at(expected)
    frame = pd.DataFrame({"population": grid, "expected": expected, "mean": mean * per})
    for key in ("lo95", "hi95", "lo998", "hi998"):
        frame[key] = lim[key] / grid * per
    frame.attrs["gangmap_derived"] = {
        c: derived_sources(df, count) for c in ("expected", "mean", "lo95", "hi95", "lo998", "hi998")
    }
    frame.attrs["gangmap_notes"] = {"funnel_limits": {"per": per, "excluded": bad}}
    return frame


def _funnel_labels(obs, pop, ok, mean):
    labels = np.full(len(obs), None, dtype=object)
    expected = mean * pop[ok]
    lim = _limits_at(expected)
    o = obs[ok]
    lab = np.full(len(o), "within", dtype=object)
    lab[o < lim["lo95"]] = "below 95%"
    lab[o < lim["lo998"]] = "below 99.8%"
    lab[o > lim["hi95"]] = "above 95%"
    lab[o > lim["hi998"]] = "above 99.8%"
    labels[ok] = lab
    return labels


def funnel(
    df: pd.DataFrame,
    count: str,
    population: str,
    *,
    per: float = 1000,
    on_zero: str = "raise",
) -> pd.DataFrame:
    """Place each ward on the funnel plot: above/within/below the control limits.

    A ward is compared with the limits at its own population (see
    :func:`funnel_limits`): its count above the 99.8% upper limit gives
    ``"above 99.8%"``, else above the 95% upper limit ``"above 95%"``; likewise
    ``"below 99.8%"`` and ``"below 95%"``; otherwise ``"within"``.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per ward.
    count, population : str
        Column names of the event counts and the population at risk.
    per : float, default 1000
        Rate multiplier (only recorded; the labels do not depend on it).
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`rate`; excluded wards get a missing label.

    Returns
    -------
    DataFrame or GeoDataFrame
        A copy with ``f"{count}_funnel"`` (one of :data:`FUNNEL_LABELS`).

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"reports": [10, 12, 9, 11, 10, 13, 3, 30],
    ...                   "population": [1000] * 8})
    >>> measures.funnel(t, "reports", "population")["reports_funnel"].tolist()[-3:]
    ['within', 'below 99.8%', 'above 99.8%']
    """
    per, obs, pop, ok, bad, mean = _funnel_inputs(df, count, population, per, on_zero, "funnel")
    labels = _funnel_labels(obs, pop, ok, mean)
    notes = {"measure": "funnel", "per": per, "mean_rate": mean * per, "excluded": bad}
    return _finish(
        df, {f"{count}_funnel": pd.array(labels, dtype="object")}, derived_sources(df, count), notes
    )


def funnel_plot(
    df: pd.DataFrame,
    count: str,
    population: str,
    *,
    per: float = 1000,
    label: str | None = "ward_name",
    label_outside: float = 0.998,
    title: str | None = None,
    on_zero: str = "raise",
    figsize: tuple[float, float] = (9.0, 6.0),
) -> Any:
    """Funnel plot of ward rates against population.

    Draws each ward's rate (per ``per``) against its population, the overall
    rate, and the 95% and 99.8% control limits of :func:`funnel_limits`; wards
    outside the ``label_outside`` limits are labelled. The function is pure: it
    builds a standalone ``matplotlib.figure.Figure`` (Agg canvas, no pyplot
    state) and writes nothing. To save a PNG that may leave the machine, draw
    it from a SafeTable and use :func:`gangmap.export.funnel_png`.

    Parameters
    ----------
    df : DataFrame, GeoDataFrame or SafeTable
        One row per ward. From a :class:`~gangmap.disclosure.SafeTable`
        (made with ``keep=["population"]``) only wards whose count is shown
        are drawn, at their safe (rounded) counts, and the figure says how
        many were left out.
    count, population : str
        Column names of the event counts and the population at risk.
    per : float, default 1000
        Rate multiplier.
    label : str or None, default "ward_name"
        Column used to label outlying wards (None: no labels).
    label_outside : {0.998, 0.95}, default 0.998
        Label wards outside these limits.
    title : str, optional
        Figure title; defaults to ``"{count} per {per} population"``.
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`rate`; excluded wards are not drawn.
    figsize : (float, float)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"ward_name": list("ABCDEFGH"),
    ...                   "reports": [10, 12, 9, 11, 10, 13, 3, 30],
    ...                   "population": [1000, 1100, 900, 1000, 950, 1050, 1000, 1000]})
    >>> fig = measures.funnel_plot(t, "reports", "population")
    >>> [x.get_text() for x in fig.axes[0].texts]
    ['G', 'H']
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if label_outside not in (0.998, 0.95):
        raise GangmapError(
            f"measures.funnel_plot: label_outside={label_outside!r} must be 0.998 or 0.95."
        )
    df, hidden, overall = _shown_rows(df, count, population)
    if label is not None:
        _require(df, [label], "funnel_plot")
    per, obs, pop, ok, bad, mean = _funnel_inputs(df, count, population, per, on_zero, "funnel_plot", overall)
    limits = funnel_limits(df, count, population, per=per, on_zero=on_zero, overall=overall)
    labels = _funnel_labels(obs, pop, ok, mean)
    rate_v = np.where(ok, obs / np.where(ok, pop, 1.0) * per, np.nan)

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x = limits["population"]
    ax.plot(x, limits["mean"], color="black", lw=1.2, label=f"overall rate {mean * per:.3g}")
    ax.plot(x, limits["hi95"], color="tab:orange", lw=1, ls="--", label="95% limits")
    ax.plot(x, limits["lo95"], color="tab:orange", lw=1, ls="--")
    ax.plot(x, limits["hi998"], color="tab:red", lw=1, ls=":", label="99.8% limits")
    ax.plot(x, limits["lo998"], color="tab:red", lw=1, ls=":")
    colours = {
        "above 99.8%": "tab:red",
        "above 95%": "tab:orange",
        "within": "tab:grey",
        "below 95%": "tab:cyan",
        "below 99.8%": "tab:blue",
    }
    for lab, colour in colours.items():
        sel = ok & (labels == lab)
        if sel.any():
            ax.scatter(pop[sel], rate_v[sel], s=18, color=colour, label=lab, zorder=3)
    if label is not None:
        outside = (
            {"above 99.8%", "below 99.8%"}
            if label_outside == 0.998
            else {"above 99.8%", "below 99.8%", "above 95%", "below 95%"}
        )
        names = df[label].astype(str).to_numpy()
        for i in np.nonzero(ok)[0]:
            if labels[i] in outside:
                ax.annotate(
                    names[i],
                    (pop[i], rate_v[i]),
                    xytext=(4, 3),
                    textcoords="offset points",
                    fontsize=7,
                )
    ax.set_xlabel(f"{population}")
    ax.set_ylabel(f"{count} per {per:,.0f}")
    ax.set_title(title if title is not None else f"{count} per {per:,.0f} {population}")
    top = np.nanmax([np.nanmax(rate_v), float(limits["hi998"].iloc[len(limits) // 10])])
    ax.set_ylim(bottom=0, top=top * 1.1 if top > 0 else 1)
    ax.legend(fontsize=7, loc="upper right")
    if hidden:
        ax.text(0.01, 0.99, f"{hidden} ward(s) with a suppressed count not shown", transform=ax.transAxes,
                fontsize=7, va="top", color="dimgrey")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig


def _shown_rows(df: Any, count: str, population: str) -> tuple[pd.DataFrame, int, float | None]:
    """Rows of ``df`` to draw and the overall rate to centre on.

    From a SafeTable: only the wards whose ``count`` is shown, centred on the
    county's safe total over the whole population (so leaving out the small
    wards does not move the centre line).
    """
    from ..disclosure import is_safe

    if not is_safe(df):
        return df, 0, None
    frame = df.frame
    if population not in frame:
        raise GangmapError(f"the SafeTable has no {population!r} column: make it with "
                           f"make_safe(table, counts=[...], keep=[{population!r}]).")
    if count not in df.suppressed:
        raise GangmapError(f"{count!r} is not a safe count column of this SafeTable "
                           f"(columns: {df.columns}).")
    shown = (~df.suppressed[count] & frame[count].notna()).to_numpy()
    rows = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).loc[shown]
    county = df.totals[df.totals["level"] == "county"][count]
    pop = pd.to_numeric(frame[population], errors="coerce")
    overall = float(county.iloc[0]) / float(pop[pop > 0].sum()) if len(county) and pd.notna(county.iloc[0]) \
        and pop[pop > 0].sum() > 0 else None
    return rows, int((~shown).sum()), overall
