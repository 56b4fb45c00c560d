"""Smoothed rates: excess risk, global and spatial empirical Bayes.

Why its own module? Small areas have unstable rates: two events in a ward of
300 children is a rate no one should act on. These estimators borrow
strength from the county (global EB), from the neighbours (spatial EB), or
simply compare with the county rate (excess risk). All of them pool areas,
so each takes ``exclude=``: an area left out (e.g. whose count is
suppressed) gets NaN and takes no part in any pooled figure, which is what
lets the disclosure stage publish a smoothed rate computed only from what is
shown.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import check_per, subject
from .weights import as_weights, positions, weights

__all__ = ["excess_risk", "eb_global", "eb_spatial", "marshall"]


def excess_risk(table: Any, count: str, population: str, *, on_zero: str = "raise", exclude: Any = None):
    """Excess risk: observed over expected events (a standardised ratio).

    The expected count of an area is its population times the overall rate
    (total events / total population over the usable areas). 1 means "as
    expected", 2 means twice as many events as expected. Same as
    ``esda.Excess_Risk``.

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area.
    count, population : str
        Column names of the event counts and the population at risk.
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`~gangmap.measures.rate`.
    exclude : mask or codes, optional
        Areas left out of the overall rate and given NaN.

    Returns
    -------
    AreaTable or DataFrame
        With ``f"{count}_excess"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"reports": [2, 6], "population": [1000, 1000]})
    >>> measures.excess_risk(t, "reports", "population")["reports_excess"].tolist()
    [0.5, 1.5]
    """
    s = subject(table, "excess_risk")
    s.require([count, population])
    skip = s.mask(exclude)
    obs = s.counts(count, whole=False, skip=skip)
    pop, ok, bad = s.population(population, on_zero, skip=skip)
    overall = obs[ok].sum() / pop[ok].sum()
    out = np.full(len(s.frame), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[ok] = obs[ok] / (pop[ok] * overall) if overall > 0 else 0.0
    notes = {"measure": "excess", "base": count, "population": population, "overall_rate": float(overall),
             "excluded": bad, "left_out": int(skip.sum())}
    return s.finish({f"{count}_excess": out}, [count, population], notes)


def marshall(obs: np.ndarray, pop: np.ndarray) -> tuple[np.ndarray, float, float, float]:
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


def eb_global(table: Any, count: str, population: str, *, per: float = 1000, on_zero: str = "raise",
              exclude: Any = None):
    """Global empirical Bayes smoothed rate (Marshall, 1991).

    Each area's crude rate ``r_i = O_i / P_i`` is shrunk towards the overall
    rate ``m = sum(O) / sum(P)`` with weight ``C_i = A / (A + m / P_i)``, where
    ``A = sum(P_i (r_i - m)**2) / sum(P) - m / mean(P)`` is the
    method-of-moments estimate of the between-area variance of the true rates.
    Areas with small populations (unstable rates) are pulled further towards
    ``m``.

    When ``A`` comes out negative (the crude rates vary *less* than Poisson
    noise alone would make them) it is set to 0, as GeoDa does, so every area
    gets the overall rate. ``esda.Empirical_Bayes`` does not clamp and can then
    give weights outside [0, 1] (even negative rates); with ``A > 0`` the two
    agree.

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area.
    count, population : str
        Column names of the event counts and the population at risk.
    per : float, default 1000
        Rate multiplier.
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`~gangmap.measures.rate`. Excluded areas take no part in
        ``m`` or ``A``.
    exclude : mask or codes, optional
        Areas left out of ``m`` and ``A`` and given NaN.

    Returns
    -------
    AreaTable or DataFrame
        With ``f"{count}_eb"`` (events per ``per`` people). The note holds
        ``mean_rate``, ``between_variance`` (before clamping) and ``clamped``.

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> t = pd.DataFrame({"reports": [0, 10, 40], "population": [500, 5000, 5000]})
    >>> measures.eb_global(t, "reports", "population")["reports_eb"].round(3).tolist()
    [2.538, 2.283, 7.668]
    """
    s = subject(table, "eb_global")
    s.require([count, population])
    per = check_per(per, "eb_global")
    skip = s.mask(exclude)
    obs = s.counts(count, whole=False, skip=skip)
    pop, ok, bad = s.population(population, on_zero, skip=skip)
    out = np.full(len(s.frame), np.nan)
    smoothed, m, var_raw, _ = marshall(obs[ok], pop[ok])
    out[ok] = smoothed * per
    notes = {"measure": "eb", "base": count, "population": population, "per": per, "mean_rate": m * per,
             "between_variance": var_raw, "clamped": bool(var_raw < 0), "excluded": bad,
             "left_out": int(skip.sum())}
    return s.finish({f"{count}_eb": out}, [count, population], notes)


def eb_spatial(table: Any, count: str, population: str, *, w: Any = None, per: float = 1000,
               on_zero: str = "raise", exclude: Any = None):
    """Spatial empirical Bayes smoothed rate.

    As :func:`eb_global`, but each area is shrunk towards the rate of its own
    neighbourhood (the area and its neighbours in ``w``) rather than the
    overall rate, with the between-area variance also estimated in that
    neighbourhood and clamped at 0. Reproduces ``esda.Spatial_Empirical_Bayes``
    (neighbour weights are used as 0/1, as esda effectively does) but never
    changes the caller's weights (esda sets ``w.transform``).

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area.
    count, population : str
        Column names of the event counts and the population at risk.
    w : Weights or libpysal.weights.W, optional
        Weights whose ids are the area codes (or the index) of ``table``.
        Defaults to ``weights(table)`` (queen contiguity, islands joined to
        their nearest area).
    per : float, default 1000
        Rate multiplier.
    on_zero : {"raise", "exclude"}, default "raise"
        See :func:`~gangmap.measures.rate`. Excluded areas take no part in any
        neighbourhood.
    exclude : mask or codes, optional
        Areas left out of every neighbourhood and given NaN.

    Returns
    -------
    AreaTable or DataFrame
        With ``f"{count}_seb"`` (events per ``per`` people). An area with no
        usable neighbour keeps its crude rate (as in esda).

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
    s = subject(table, "eb_spatial")
    s.require([count, population])
    per = check_per(per, "eb_spatial")
    skip = s.mask(exclude)
    obs = s.counts(count, whole=False, skip=skip)
    pop, ok, bad = s.population(population, on_zero, skip=skip)
    wt = as_weights(w) if w is not None else weights(table)
    pos = positions(wt, s)
    out = np.full(len(s.frame), np.nan)
    r = np.zeros(len(s.frame))
    r[ok] = obs[ok] / pop[ok]
    no_neighbours = []
    for code in wt.id_order:
        i = pos[code]
        if not ok[i]:
            continue
        hood = [i] + [pos[j] for j in wt.neighbors[code] if ok[pos[j]] and pos[j] != i]
        if len(hood) == 1:
            no_neighbours.append(code)
        e_h, b_h = obs[hood], pop[hood]
        m = e_h.sum() / b_h.sum()
        var = max(np.sum(b_h * (r[hood] - m) ** 2) / b_h.sum() - m / (b_h.sum() / len(hood)), 0.0)
        out[i] = 0.0 if m == 0 else (m + (r[i] - m) * (var / (var + m / pop[i]))) * per
    notes = {"measure": "seb", "base": count, "population": population, "per": per, "weights": wt.kind,
             "no_neighbours": no_neighbours, "islands": list(wt.islands), "excluded": bad,
             "left_out": int(skip.sum())}
    return s.finish({f"{count}_seb": out}, [count, population], notes)
