"""Funnel plots with exact Poisson control limits.

Why its own module, and why not the rate intervals? A funnel plot asks a
different question from a confidence interval: *if this area's true rate
were the county's, how many events could it show by chance?* The first
release answered it with the interval of a count equal to the expected
count (``chi2(2E+2)``, Byar's from 10), which puts the limits 1-2 counts too
high and labelled every zero-count ward "below 99.8%": under a null with no
real differences up to 13.5% of wards were flagged "below" where 2.5% was
meant.

Here the control limits are exact Poisson limits, as in Spiegelhalter (2005,
Statistics in Medicine 24:1185) and the OHID Fingertips funnel tools:

* an area with count ``O`` and expected count ``E = m P`` (``m`` the overall
  rate, ``P`` its population) is **below** the level-``L`` limit when the
  exact lower tail ``P(Y <= O | E) < (1 - L) / 2`` and **above** it when the
  exact upper tail ``P(Y >= O | E) < (1 - L) / 2`` (``Y ~ Poisson(E)``). A
  zero-count area is therefore below only when ``exp(-E) < (1 - L) / 2``,
  i.e. when its expected count exceeds ``ln(2 / (1 - L))`` (3.69 for 95%,
  6.91 for 99.8%). The false-alarm rate never exceeds the nominal level;
  discreteness makes it smaller for small ``E``;
* the drawn limits are continuous in ``E`` by Spiegelhalter's interpolation:
  with ``r`` the smallest count whose cumulative probability ``F(r)``
  reaches ``p``, the interpolated quantile is
  ``y_p = r - (F(r) - p) / P(Y = r)``. The lower limit is ``y_a``
  (``a = (1 - L) / 2``); the upper limit is ``y_(1-a) + 1``, the line a
  count lies above exactly when ``P(Y >= O) < a``. (Read as "above if
  ``O > y_(1-a)``", the plain quantile would flag ``O = r``, whose upper
  tail exceeds ``a``: anti-conservative, as Seaton and Manktelow (2012)
  showed.) Both lines pass through the points the Fingertips tools plot,
  where a whole count sits exactly on the limit, so a point's label and its
  side of the drawn line always agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import GangmapError
from ..figures import literal_text
from ..geography import GEOGRAPHIES, WARD
from .checks import check_per, subject

__all__ = ["funnel", "funnel_limits", "funnel_plot", "poisson_limits", "interpolated_quantile", "exact_tails",
           "FUNNEL_LABELS", "FUNNEL_METHOD"]

#: Labels written by :func:`funnel`, from highest to lowest.
FUNNEL_LABELS: tuple[str, ...] = ("above 99.8%", "above 95%", "within", "below 95%", "below 99.8%")
FUNNEL_METHOD = "exact Poisson tails; limits by Spiegelhalter's (2005) interpolation, as in OHID Fingertips"
LEVELS = {"95": 0.95, "998": 0.998}


def interpolated_quantile(expected: Any, p: float) -> np.ndarray:
    """Spiegelhalter's interpolated ``p``-quantile of Poisson(``expected``): ``r - (F(r) - p) / P(Y = r)``.

    ``r`` is the smallest count with ``F(r) >= p``. The result is continuous
    and increasing in ``expected`` and lies in ``(r - 1, r]``.
    """
    E = np.atleast_1d(np.asarray(expected, dtype=float))
    r = stats.poisson.ppf(p, E)
    # guard the float edge of ppf: r must be the smallest count with F(r) >= p
    r = np.where(stats.poisson.cdf(r, E) < p, r + 1, r)
    r = np.where((r > 0) & (stats.poisson.cdf(r - 1, E) >= p), r - 1, r)
    F = stats.poisson.cdf(r, E)
    return r - (F - p) / stats.poisson.pmf(r, E)


def poisson_limits(expected: Any, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Funnel control limits (as counts) at expected count(s) ``expected`` for a two-sided ``level``.

    A whole count ``O`` is below the lower limit exactly when
    ``P(Y <= O) < a`` and above the upper limit exactly when
    ``P(Y >= O) < a`` (``a = (1 - level) / 2``; see the module notes). The
    lower limit is negative (no whole count below it) while ``exp(-E) >= a``.

    Examples
    --------
    >>> from gangmap.measures import poisson_limits
    >>> lo, hi = poisson_limits([2.0, 20.0], 0.95)
    >>> [round(float(v), 3) for v in lo], [round(float(v), 3) for v in hi]
    ([-0.815, 11.205], [5.766, 29.746])
    """
    a = (1.0 - float(level)) / 2.0
    return interpolated_quantile(expected, a), interpolated_quantile(expected, 1.0 - a) + 1.0


def exact_tails(observed: Any, expected: Any) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson tails ``(P(Y <= O), P(Y >= O))`` for ``Y ~ Poisson(expected)``."""
    obs = np.asarray(observed, dtype=float)
    exp = np.asarray(expected, dtype=float)
    return stats.poisson.cdf(obs, exp), stats.poisson.sf(obs - 1.0, exp)


def _inputs(table: Any, count: str, population: str, per: Any, on_zero: str, func: str, overall, exclude):
    s = subject(table, func)
    s.require([count, population])
    per = check_per(per, func)
    skip = s.mask(exclude)
    obs = s.counts(count, skip=skip)
    pop, ok, bad = s.population(population, on_zero, skip=skip)
    mean = obs[ok].sum() / pop[ok].sum() if overall is None else float(overall)  # events per person
    return s, per, obs, pop, ok, bad, mean, skip


def _labels(obs: np.ndarray, pop: np.ndarray, ok: np.ndarray, mean: float) -> np.ndarray:
    labels = np.full(len(obs), None, dtype=object)
    low, high = exact_tails(obs[ok], mean * pop[ok])
    lab = np.full(int(ok.sum()), "within", dtype=object)
    lab[low < (1 - 0.95) / 2] = "below 95%"
    lab[low < (1 - 0.998) / 2] = "below 99.8%"
    lab[high < (1 - 0.95) / 2] = "above 95%"
    lab[high < (1 - 0.998) / 2] = "above 99.8%"
    labels[ok] = lab
    return labels


def funnel_limits(table: Any, count: str, population: str, *, per: float = 1000, points: int = 200,
                  on_zero: str = "raise", overall: float | None = None, exclude: Any = None) -> pd.DataFrame:
    """Funnel-plot control limits around the overall rate, on a grid of populations.

    For a population ``P`` the expected count is ``E = m P`` with ``m`` the
    overall rate (total events / total population, or ``overall``). The
    limits are :func:`poisson_limits` at ``E``, divided by ``P`` (the lower
    one floored at 0).

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area.
    count, population : str
        Column names of the event counts and the population at risk.
    per : float, default 1000
        Rate multiplier.
    points : int, default 200
        Number of populations (log-spaced from half the smallest population to
        just over the largest).
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`~gangmap.measures.rate`.
    overall : float, optional
        The overall rate (events per person) to centre the funnel on, when
        the table holds only some of the areas (default: from the table).
    exclude : mask or codes, optional
        Areas left out of the overall rate and the population range.

    Returns
    -------
    DataFrame
        Columns ``population``, ``expected`` (count), ``mean`` (overall rate
        per ``per``), ``lo95``, ``hi95``, ``lo998``, ``hi998`` (rates per
        ``per``). A plain frame: limits are not area values.

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
    _, per, _, pop, ok, _, mean, _ = _inputs(table, count, population, per, on_zero, "funnel_limits", overall,
                                             exclude)
    grid = np.geomspace(max(pop[ok].min() / 2.0, 1e-9), pop[ok].max() * 1.05, max(int(points), 2))
    expected = mean * grid
    frame = pd.DataFrame({"population": grid, "expected": expected, "mean": mean * per})
    for suffix, level in LEVELS.items():
        lo, hi = poisson_limits(expected, level) if mean > 0 else (np.zeros_like(grid), np.zeros_like(grid))
        frame[f"lo{suffix}"] = np.maximum(lo, 0.0) / grid * per
        frame[f"hi{suffix}"] = hi / grid * per
    return frame


def funnel(table: Any, count: str, population: str, *, per: float = 1000, on_zero: str = "raise",
           overall: float | None = None, exclude: Any = None):
    """Place each area on the funnel plot: above, within or below the exact Poisson limits.

    An area is compared with the limits at its own expected count (see the
    module notes): ``"above 99.8%"`` when ``P(Y >= O) < 0.001``, else
    ``"above 95%"`` when ``< 0.025``; likewise ``"below 99.8%"`` and
    ``"below 95%"`` from ``P(Y <= O)``; otherwise ``"within"``.

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area.
    count, population : str
        Column names of the event counts and the population at risk.
    per : float, default 1000
        Rate multiplier (only recorded; the labels do not depend on it).
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`~gangmap.measures.rate`; excluded areas get a missing label.
    overall : float, optional
        Overall rate (events per person) to compare with (default: from the
        areas taking part).
    exclude : mask or codes, optional
        Areas left out (missing label, no part in the overall rate).

    Returns
    -------
    AreaTable or DataFrame
        With ``f"{count}_funnel"`` (one of :data:`FUNNEL_LABELS`).

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"reports": [10, 12, 9, 11, 10, 13, 3, 30, 0, 0],
    ...                   "population": [1000] * 9 + [100]})
    >>> measures.funnel(t, "reports", "population")["reports_funnel"].tolist()[-4:]
    ['below 95%', 'above 99.8%', 'below 99.8%', 'within']

    The zero among 1,000 people (expected 10.8) is far below; the zero among
    100 (expected 1.1) is not: ``exp(-1.1) = 0.33`` is no surprise.
    """
    s, per, obs, pop, ok, bad, mean, skip = _inputs(table, count, population, per, on_zero, "funnel", overall,
                                                    exclude)
    labels = _labels(obs, pop, ok, mean)
    notes = {"measure": "funnel", "base": count, "population": population, "per": per, "mean_rate": mean * per,
             "overall": None if overall is None else float(overall), "method": FUNNEL_METHOD, "excluded": bad,
             "left_out": int(skip.sum())}
    return s.finish({f"{count}_funnel": pd.array(labels, dtype="object")}, [count, population], notes)


_COLOURS = {"above 99.8%": "tab:red", "above 95%": "tab:orange", "within": "tab:grey", "below 95%": "tab:cyan",
            "below 99.8%": "tab:blue"}


@literal_text
def funnel_plot(table: Any, count: str, population: str, *, per: float = 1000, label: str | None = "auto",
                label_outside: float = 0.998, title: str | None = None, on_zero: str = "raise",
                figsize: tuple[float, float] = (9.0, 6.0)) -> Any:
    """Funnel plot of area rates against population.

    Draws each area's rate (per ``per``) against its population, the overall
    rate, and the 95% and 99.8% exact Poisson control limits of
    :func:`funnel_limits`; areas outside the ``label_outside`` limits are
    labelled. The function is pure: it builds a standalone
    ``matplotlib.figure.Figure`` (Agg canvas, no pyplot state) and writes
    nothing. To save a PNG that may leave the machine, draw it from a
    SafeTable and use :func:`gangmap.export.funnel_png`.

    Parameters
    ----------
    table : AreaTable, DataFrame, GeoDataFrame or SafeTable
        One row per area. From a :class:`~gangmap.disclosure.SafeTable` (made
        with ``keep=["population"]``) only areas whose count is shown are
        drawn, at their safe (rounded) counts, centred on the county's safe
        total, and the figure says how many were left out.
    count, population : str
        Column names of the event counts and the population at risk.
    per : float, default 1000
        Rate multiplier.
    label : str, "auto" or None, default "auto"
        Column used to label outlying areas ("auto": the geography's name
        column when present; None: no labels).
    label_outside : {0.998, 0.95}, default 0.998
        Label areas outside these limits.
    title : str, optional
        Figure title; defaults to ``"{count} per {per} {population}"``.
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`~gangmap.measures.rate`; excluded areas are not drawn.
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
    ...                   "reports": [10, 12, 9, 11, 10, 13, 2, 30],
    ...                   "population": [1000, 1100, 900, 1000, 950, 1050, 1000, 1000]})
    >>> fig = measures.funnel_plot(t, "reports", "population")
    >>> [x.get_text() for x in fig.axes[0].texts]
    ['G', 'H']
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if label_outside not in (0.998, 0.95):
        raise GangmapError(f"measures.funnel_plot: label_outside={label_outside!r} must be 0.998 or 0.95.")
    frame, hidden, overall, geo = shown_rows(table, count, population)
    s, per, obs, pop, ok, _, mean, _ = _inputs(frame, count, population, per, on_zero, "funnel_plot", overall,
                                               None)
    geo = geo or s.geography
    if label == "auto":
        label = next((c for c in (geo.name, *(g.name for g in GEOGRAPHIES.values())) if c in frame.columns), None)
    if label is not None:
        s.require([label])
    limits = funnel_limits(frame, count, population, per=per, on_zero=on_zero, overall=overall)
    labels = _labels(obs, pop, ok, mean)
    rate_v = np.where(ok, obs / np.where(ok, pop, 1.0) * per, np.nan)
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    _draw(ax, limits, mean * per, pop, rate_v, ok, labels)
    if label is not None:
        outside = {"above 99.8%", "below 99.8%"} | ({"above 95%", "below 95%"} if label_outside == 0.95 else set())
        names = frame[label].astype(str).to_numpy()
        for i in np.nonzero(ok)[0]:
            if labels[i] in outside:
                ax.annotate(names[i], (pop[i], rate_v[i]), xytext=(4, 3), textcoords="offset points", fontsize=7)
    ax.set_xlabel(f"{population}")
    ax.set_ylabel(f"{count} per {per:,.0f}")
    ax.set_title(title if title is not None else f"{count} per {per:,.0f} {population}")
    top = np.nanmax([np.nanmax(rate_v), float(limits["hi998"].iloc[len(limits) // 10])])
    ax.set_ylim(bottom=0, top=top * 1.1 if top > 0 else 1)
    ax.legend(fontsize=7, loc="upper right")
    if hidden:
        ax.text(0.01, 0.99, f"{geo.count_of(hidden)} with a suppressed count not shown", transform=ax.transAxes,
                fontsize=7, va="top", color="dimgrey")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig


def _draw(ax, limits: pd.DataFrame, centre: float, pop, rate_v, ok, labels) -> None:
    x = limits["population"]
    ax.plot(x, limits["mean"], color="black", lw=1.2, label=f"overall rate {centre:.3g}")
    ax.plot(x, limits["hi95"], color="tab:orange", lw=1, ls="--", label="95% limits (exact Poisson)")
    ax.plot(x, limits["lo95"], color="tab:orange", lw=1, ls="--")
    ax.plot(x, limits["hi998"], color="tab:red", lw=1, ls=":", label="99.8% limits (exact Poisson)")
    ax.plot(x, limits["lo998"], color="tab:red", lw=1, ls=":")
    for lab, colour in _COLOURS.items():
        sel = ok & (labels == lab)
        if sel.any():
            ax.scatter(pop[sel], rate_v[sel], s=18, color=colour, label=lab, zorder=3)


def shown_rows(table: Any, count: str, population: str):
    """Rows to draw, how many were hidden, the overall rate to centre on, and the geography.

    From a SafeTable: only the areas whose ``count`` is shown, centred on the
    county's safe total over the whole population (so leaving out the small
    areas does not move the centre line).
    """
    from ..disclosure import is_safe

    if not is_safe(table):
        return table, 0, None, None
    frame = table.frame
    if population not in frame:
        raise GangmapError(f"the SafeTable has no {population!r} column: make it with "
                           f"make_safe(table, counts=[...], keep=[{population!r}]).")
    if count not in table.suppressed:
        raise GangmapError(f"{count!r} is not a safe count column of this SafeTable (columns: {table.columns}).")
    shown = (~table.suppressed[count] & frame[count].notna()).to_numpy()
    rows = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).loc[shown]
    county = table.totals[table.totals["level"] == "county"][count]
    pop = pd.to_numeric(frame[population], errors="coerce")
    overall = float(county.iloc[0]) / float(pop[pop > 0].sum()) if len(county) and pd.notna(county.iloc[0]) \
        and pop[pop > 0].sum() > 0 else None
    return rows, int((~shown).sum()), overall, getattr(table, "geography", None) or WARD
