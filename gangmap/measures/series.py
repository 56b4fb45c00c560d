"""Counts over time per area: rates, quarters, trends and a county trend chart.

Why a module of pure functions over a *series frame*? "Is it working, and
where is it getting worse?" is a question about change over months, and the
answer must not be bent by months a source did not publish. A series frame
has one row per area (index: area codes, in table order), one column per
period (``"YYYY-MM"``, ascending; ``"YYYY-Qn"`` after :func:`to_quarters`)
and counts as floats, where **NaN means no data** (police.uk has force
gaps), never 0. Every function here keeps that honest:

* a quarter is the sum of its three months, or no data if any month is
  missing (:func:`to_quarters`), never a partial sum;
* the county total of a period is no data if any area has no data then
  (:func:`county_series`);
* trends use only the periods with data, at their true positions in time
  (a gap does not pull the slope), and say how many periods they used.

Trends (:func:`trend`, :func:`county_trend`):

* **Mann-Kendall** (with the tie correction of the variance, normal
  approximation with continuity correction) for direction, and **Sen's
  slope** (median of pairwise slopes) for size, both robust to outliers;
* a **quasi-Poisson log-linear slope** (IRLS), reported as a rate ratio per
  year with a t-interval widened by the over-dispersion when counts vary
  more than Poisson.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..figures import literal_text
from .checks import check_per, some, subject

__all__ = ["MONTH_RE", "check_series", "period_numbers", "to_quarters", "series_rates", "county_series", "mann_kendall",
           "sens_slope", "poisson_trend", "trend", "county_trend", "trend_chart", "MannKendall", "PoissonTrend",
           "CountyTrend", "TREND_LABELS", "area_trend", "published_totals"]

#: A month as written everywhere in gangmap: ``YYYY-MM`` (month 01-12).
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
#: Labels of :func:`trend`'s ``direction`` column.
TREND_LABELS: tuple[str, ...] = ("rising", "falling", "no clear trend", "too few periods")
PER_YEAR = {"M": 12, "Q": 4}


def period_numbers(columns) -> tuple[np.ndarray, str]:
    """Integer positions of ``"YYYY-MM"`` (months) or ``"YYYY-Qn"`` (quarters) labels, and the frequency."""
    cols = [str(c) for c in columns]
    if all(MONTH_RE.match(c) for c in cols):
        return np.array([int(c[:4]) * 12 + int(c[5:7]) - 1 for c in cols], dtype=float), "M"
    if all(QUARTER_RE.match(c) for c in cols):
        return np.array([int(c[:4]) * 4 + int(c[-1]) - 1 for c in cols], dtype=float), "Q"
    bad = [c for c in cols if not (MONTH_RE.match(c) or QUARTER_RE.match(c))]
    raise InputError(f"series: columns must all be months 'YYYY-MM' or all quarters 'YYYY-Qn'; got {some(bad)}. "
                     "Make the series with AreaCube.series(...).")


def check_series(series: Any, *, counts: bool = True, func: str = "series", what: str | None = None) -> pd.DataFrame:
    """A validated float copy of a series frame (see the module notes); InputError names the problem.

    The one check of series frames (the campaign evaluation uses it too):
    errors start with ``what``, by default ``measures.{func}``.
    """
    where = what or f"measures.{func}"
    if not isinstance(series, pd.DataFrame):
        raise InputError(f"{where}: expected a series frame (rows: areas, columns: periods 'YYYY-MM'), "
                         f"got {type(series).__name__}. Make one with AreaCube.series(...).")
    if series.shape[1] == 0:
        raise InputError(f"{where}: the series frame has no periods.")
    nums, _ = period_numbers(series.columns)
    if np.any(np.diff(nums) <= 0):
        raise InputError(f"{where}: periods must be unique and ascending; got {some(series.columns)}. "
                         "Sort them: series.sort_index(axis=1).")
    if series.index.has_duplicates:
        dup = sorted(set(map(str, series.index[series.index.duplicated()])))
        raise InputError(f"{where}: area codes {some(dup)} appear more than once in the series index; give one "
                         "row per area.")
    try:
        out = series.apply(pd.to_numeric, errors="raise").astype(float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: the series holds values that are not numbers.") from exc
    if counts and (out < 0).to_numpy().any():
        bad = out.index[(out < 0).any(axis=1)].tolist()
        raise InputError(f"{where}: negative counts for areas {some(bad)}; counts are 0 or more "
                         "(NaN for no data).")
    return out


def to_quarters(series: pd.DataFrame) -> pd.DataFrame:
    """Monthly counts summed to calendar quarters (``"YYYY-Qn"``), keeping no-data honest.

    A quarter has a value only when all three of its months are columns of
    ``series`` and have data for the area; otherwise it is NaN (no data),
    never the sum of the months that happen to be there.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> s = pd.DataFrame({"2018-01": [1.0, 2.0], "2018-02": [1.0, np.nan], "2018-03": [1.0, 2.0],
    ...                   "2018-04": [5.0, 5.0]}, index=["A", "B"])
    >>> to_quarters(s)
       2018-Q1  2018-Q2
    A      3.0      NaN
    B      NaN      NaN
    """
    s = check_series(series, counts=False, func="to_quarters")
    nums, freq = period_numbers(s.columns)
    if freq != "M":
        raise InputError("measures.to_quarters: the series is already by quarter.")
    quarter = (nums // 3).astype(int)
    out = {}
    for q in np.unique(quarter):
        cols = s.columns[quarter == q]
        total = s[cols].sum(axis=1, min_count=1)
        complete = (len(cols) == 3) & s[cols].notna().all(axis=1)
        out[f"{q // 4}-Q{q % 4 + 1}"] = total.where(complete)
    return pd.DataFrame(out, index=s.index)


def series_rates(series: pd.DataFrame, population: Any, *, per: float = 1000) -> pd.DataFrame:
    """Rates per ``per`` people for each area and period.

    ``population`` is a Series (or mapping) of the population at risk by area
    code. Areas with no population, or a population of 0 or less, get NaN
    (no rate), as do periods with no data.
    """
    s = check_series(series, counts=False, func="series_rates")
    per = check_per(per, "series_rates")
    pop = _population(population)
    missing = [c for c in s.index if c not in pop.index]
    if missing:
        raise InputError(f"measures.series_rates: no population for areas {some(missing)}; give one per area "
                         "code of the series.")
    p = pop.reindex(s.index)
    p = p.where(p > 0)
    return s.div(p, axis=0) * per


def _population(population: Any) -> pd.Series:
    """The population by area code as floats; InputError names the values that are not numbers."""
    raw = population if isinstance(population, pd.Series) else pd.Series(population, dtype=object)
    pop = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = raw.notna() & pop.isna()
    if bad.any():
        name = f"population {raw.name!r}" if raw.name is not None else "population"
        first = [f"{code} ({value!r})" for code, value in raw[bad].items()]
        raise InputError(f"measures.series_rates: {name} holds values that are not numbers, for areas "
                         f"{some(first, 5)}. Give the number of people per area code (blank for unknown).")
    return pop


def county_series(series: pd.DataFrame) -> pd.Series:
    """The total over all areas per period; NaN (no data) for a period in which any area has no data."""
    s = check_series(series, counts=False, func="county_series")
    return s.sum(axis=0, min_count=1).where(s.notna().all(axis=0))


@dataclass(frozen=True)
class MannKendall:
    """Mann-Kendall test of a monotonic trend, with Sen's slope (per period)."""

    n: int
    s: float
    var_s: float
    z: float
    p: float
    tau: float
    slope: float


def _clean(values: Any, times: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(values, dtype=float)
    t = np.arange(len(y), dtype=float) if times is None else np.asarray(times, dtype=float)
    keep = np.isfinite(y)
    return y[keep], t[keep]


def sens_slope(values: Any, times: Any = None) -> float:
    """Sen's slope: the median of ``(y_j - y_i) / (t_j - t_i)`` over pairs with data (NaN skipped)."""
    y, t = _clean(values, times)
    if len(y) < 2:
        return float("nan")
    i, j = np.triu_indices(len(y), k=1)
    return float(np.median((y[j] - y[i]) / (t[j] - t[i])))


def mann_kendall(values: Any, times: Any = None) -> MannKendall:
    """Mann-Kendall trend test (tie-corrected variance, continuity-corrected normal approximation).

    ``S = sum_{i<j} sign(y_j - y_i)`` over the periods with data in time order;
    ``Var(S) = [n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18`` over groups of
    tied values; ``z = (S - sign(S)) / sqrt(Var(S))``; two-sided ``p``;
    ``tau = S / (n(n-1)/2)``. Fewer than 3 periods with data give NaN.

    Examples
    --------
    >>> r = mann_kendall([1, 2, 2, 3, 5, 4, 6])
    >>> r.s, round(r.z, 3), round(r.p, 4)
    (18.0, 2.582, 0.0098)
    """
    y, t = _clean(values, times)
    n = len(y)
    if n < 3:
        nan = float("nan")
        return MannKendall(n, nan, nan, nan, nan, nan, sens_slope(values, times))
    order = np.argsort(t, kind="stable")
    y = y[order]
    i, j = np.triu_indices(n, k=1)
    s = float(np.sign(y[j] - y[i]).sum())
    _, counts = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - float(np.sum(counts * (counts - 1) * (2 * counts + 5)))) / 18.0
    z = 0.0 if s == 0 or var <= 0 else (s - np.sign(s)) / np.sqrt(var)
    p = float(2 * stats.norm.sf(abs(z))) if var > 0 else 1.0
    return MannKendall(n, s, float(var), float(z), p, s / (n * (n - 1) / 2), sens_slope(values, times))


@dataclass(frozen=True)
class PoissonTrend:
    """A quasi-Poisson log-linear trend: ``log E[y_t] = a + b t (+ log exposure)``.

    ``slope`` is ``b`` per period; ``rate_ratio`` = ``exp(b k)`` per year
    (k = 12 months or 4 quarters) with a 95% interval and p-value from a
    t-test whose standard error is widened by ``sqrt(max(dispersion, 1))``.
    """

    n: int
    slope: float
    se: float
    rate_ratio: float
    lo: float
    hi: float
    p: float
    dispersion: float
    converged: bool


def _irls(y: np.ndarray, t: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    X = np.column_stack([np.ones_like(t), t - t.mean()])
    beta = np.array([np.log(y.mean()) - offset.mean(), 0.0])
    info = np.eye(2)
    for _ in range(100):
        mu = np.exp(X @ beta + offset)
        info = X.T @ (X * mu[:, None])
        try:
            step = np.linalg.solve(info, X.T @ (y - mu))
        except np.linalg.LinAlgError:
            return beta, info, False
        beta = beta + step
        if not np.all(np.isfinite(beta)) or abs(beta[1]) > 50:  # separated: all counts at one end
            return beta, info, False
        if np.max(np.abs(step)) < 1e-10:
            mu = np.exp(X @ beta + offset)
            return beta, X.T @ (X * mu[:, None]), True
    return beta, info, False


def poisson_trend(values: Any, times: Any = None, *, exposure: Any = None, per_year: int = 12) -> PoissonTrend:
    """Quasi-Poisson log-linear trend of counts (NaN periods skipped); see :class:`PoissonTrend`."""
    y = np.asarray(values, dtype=float)
    t = np.arange(len(y), dtype=float) if times is None else np.asarray(times, dtype=float)
    e = np.ones_like(y) if exposure is None else np.broadcast_to(np.asarray(exposure, dtype=float), y.shape)
    keep = np.isfinite(y) & np.isfinite(e) & (e > 0)
    y, t, offset = y[keep], t[keep], np.log(e[keep])
    n = len(y)
    nan = float("nan")
    if n < 3 or y.sum() <= 0:
        return PoissonTrend(n, nan, nan, nan, nan, nan, nan, nan, False)
    beta, info, ok = _irls(y, t, offset)
    if not ok:
        return PoissonTrend(n, nan, nan, nan, nan, nan, nan, nan, False)
    mu = np.exp(np.column_stack([np.ones_like(t), t - t.mean()]) @ beta + offset)
    phi = float(np.sum((y - mu) ** 2 / mu) / (n - 2)) if n > 2 else nan
    se = float(np.sqrt(np.linalg.inv(info)[1, 1] * max(phi, 1.0)))
    b = float(beta[1])
    q = stats.t.ppf(0.975, n - 2)
    p = float(2 * stats.t.sf(abs(b / se), n - 2)) if se > 0 else nan
    return PoissonTrend(n, b, se, float(np.exp(b * per_year)), float(np.exp((b - q * se) * per_year)),
                        float(np.exp((b + q * se) * per_year)), p, phi, True)


def _direction(mk: MannKendall, alpha: float) -> str:
    if not np.isfinite(mk.p):
        return "too few periods"
    if mk.p < alpha:
        return "rising" if mk.s > 0 else "falling"
    return "no clear trend"


def trend(series: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """A trend per area: Mann-Kendall direction, Sen's slope and a quasi-Poisson rate ratio per year.

    Parameters
    ----------
    series : DataFrame
        A series frame of counts (NaN = no data).
    alpha : float, default 0.05
        Level for the Mann-Kendall direction label.

    Returns
    -------
    DataFrame
        Indexed like ``series``: ``periods`` (with data), ``mk_s``, ``mk_z``,
        ``mk_p``, ``tau``, ``sen_slope`` (counts per period), ``rate_ratio``
        (per year), ``rr_lo``, ``rr_hi``, ``rr_p``, ``dispersion`` and
        ``direction`` (one of :data:`TREND_LABELS`).
    """
    s = check_series(series, func="trend")
    t, freq = period_numbers(s.columns)
    rows = []
    for _, values in s.iterrows():
        mk = mann_kendall(values.to_numpy(), t)
        pt = poisson_trend(values.to_numpy(), t, per_year=PER_YEAR[freq])
        rows.append({"periods": mk.n, "mk_s": mk.s, "mk_z": mk.z, "mk_p": mk.p, "tau": mk.tau,
                     "sen_slope": mk.slope, "rate_ratio": pt.rate_ratio, "rr_lo": pt.lo, "rr_hi": pt.hi,
                     "rr_p": pt.p, "dispersion": pt.dispersion, "direction": _direction(mk, alpha)})
    return pd.DataFrame(rows, index=s.index)


@dataclass(frozen=True)
class CountyTrend:
    """The whole-area trend: the county series, its Mann-Kendall test and its quasi-Poisson slope."""

    totals: pd.Series
    frequency: str
    mann_kendall: MannKendall
    poisson: PoissonTrend
    direction: str
    missing: tuple

    @property
    def sentence(self) -> str:
        """One plain sentence for a report."""
        mk, pt = self.mann_kendall, self.poisson
        used = f"{mk.n} of {len(self.totals)} periods with data"
        if self.direction == "too few periods":
            return f"Too few periods with data for a trend ({used})."
        size = f"{(pt.rate_ratio - 1) * 100:+.0f}% a year (95% CI {(pt.lo - 1) * 100:+.0f}% to " \
               f"{(pt.hi - 1) * 100:+.0f}%)" if pt.converged else "size not estimable"
        verdict = {"rising": "Counts are rising", "falling": "Counts are falling",
                   "no clear trend": "No clear trend"}[self.direction]
        return f"{verdict}: Mann-Kendall p = {mk.p:.3g}; {size}; {used}."


def county_trend(series: pd.DataFrame, *, alpha: float = 0.05) -> CountyTrend:
    """The county (whole-area) trend of a series frame of counts (see :func:`county_series`)."""
    totals = county_series(check_series(series, func="county_trend"))
    t, freq = period_numbers(totals.index)
    mk = mann_kendall(totals.to_numpy(), t)
    pt = poisson_trend(totals.to_numpy(), t, per_year=PER_YEAR[freq])
    return CountyTrend(totals, freq, mk, pt, _direction(mk, alpha), tuple(totals.index[totals.isna()]))


def published_totals(safes: Mapping[str, Any], column: str) -> pd.DataFrame:
    """A one-row series frame of the published county totals of ``column``, one per period.

    ``safes`` maps each period's label to its SafeTable (made safe together:
    see :func:`gangmap.disclosure.protect_linked`). Each total is the policy's
    published total (added up from raw counts, then rounded), never a sum of
    rounded areas; a hidden total is NaN. This is what a chart that leaves the
    machine may draw.
    """
    row = {}
    for label, safe in safes.items():
        t = safe.totals
        county = t[t["level"] == "county"]
        hidden = f"{column}_suppressed" in county and bool(county[f"{column}_suppressed"].iloc[0])
        row[str(label)] = float("nan") if county.empty or hidden else float(county[column].iloc[0])
    return pd.DataFrame([row], index=["county"])


@literal_text
def trend_chart(series: pd.DataFrame, *, title: str | None = None, launch: str | None = None,
                ylabel: str = "count", alpha: float = 0.05, figsize: tuple[float, float] = (9.0, 4.5)) -> Any:
    """A chart of the county trend: totals per period, gaps marked "no data", the fitted trend.

    Pure: it returns a standalone ``matplotlib.figure.Figure`` (Agg canvas,
    no pyplot state) and writes nothing (exports live in
    :mod:`gangmap.export`). ``launch`` (``"YYYY-MM"``) draws a vertical line.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ct = county_trend(series, alpha=alpha)
    t, freq = period_numbers(ct.totals.index)
    x = pd.PeriodIndex(list(ct.totals.index), freq="M" if freq == "M" else "Q").to_timestamp()
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(x, ct.totals.to_numpy(), color="black", marker="o", ms=3, lw=1, label="county total")
    for i in np.nonzero(ct.totals.isna().to_numpy())[0]:
        ax.axvspan(x[i] - pd.Timedelta(days=14), x[i] + pd.Timedelta(days=14), color="0.85", lw=0,
                   label="no data" if i == np.nonzero(ct.totals.isna().to_numpy())[0][0] else None)
    if ct.poisson.converged:
        y, tt = ct.totals.to_numpy(), t
        ok = np.isfinite(y)
        fit = np.exp(np.log(y[ok].mean()) + ct.poisson.slope * (tt - tt[ok].mean()))
        fit *= y[ok].sum() / fit[ok].sum()
        ax.plot(x, fit, color="tab:red", lw=1.2, ls="--", label="trend (quasi-Poisson)")
    if launch is not None:
        ax.axvline(pd.Period(launch, freq="M").to_timestamp(), color="tab:blue", lw=1, label=f"launch {launch}")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.set_title(title or "County trend")
    ax.text(0.01, 0.02, ct.sentence, transform=ax.transAxes, fontsize=7, color="dimgrey")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def area_trend(table: Any, count: str, series: pd.DataFrame, *, alpha: float = 0.05, exclude: Any = None):
    """The trend of each area's series as table columns (a categorical map layer).

    Adds ``f"{count}_trend"`` (``direction`` of :func:`trend`: rising,
    falling, no clear trend, too few periods), ``f"{count}_trend_rr"`` (rate
    ratio per year, quasi-Poisson) and ``f"{count}_trend_p"`` (Mann-Kendall
    p). On an AreaTable they are derived from ``count``; areas in
    ``exclude`` get no value.
    """
    s = subject(table, "area_trend")
    if s.table is not None:
        s.require([count])
    codes = [str(c) for c in s.ids]
    frame = check_series(series, func="area_trend")
    frame.index = [str(c) for c in frame.index]
    missing = [c for c in codes if c not in set(frame.index)]
    if missing:
        raise InputError(f"measures.area_trend: no series row for {s.areas(missing)}; make the series for the "
                         "same areas (AreaCube.series(...)).")
    tr = trend(frame.reindex(codes), alpha=alpha)
    skip = s.mask(exclude)
    direction = tr["direction"].to_numpy(dtype=object).copy()
    direction[skip] = None
    rr, p = tr["rate_ratio"].to_numpy(dtype=float).copy(), tr["mk_p"].to_numpy(dtype=float).copy()
    rr[skip], p[skip] = np.nan, np.nan
    notes = {"measure": "trend", "base": count, "alpha": float(alpha), "periods": [str(c) for c in frame.columns],
             "method": "Mann-Kendall direction; quasi-Poisson rate ratio per year", "left_out": int(skip.sum())}
    return s.finish({f"{count}_trend": pd.array(direction, dtype="object"), f"{count}_trend_rr": rr,
                     f"{count}_trend_p": p}, [count], notes)
