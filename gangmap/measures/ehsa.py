"""Emerging hotspot analysis: where clusters are new, growing, fading or coming and going.

Why? A single hotspot map pools every month; a campaign needs to know which
clusters are *new*, which are *intensifying* and which are *historical*.
This follows ArcGIS Pro's Emerging Hot Spot Analysis:

1. a **space-time cube**: one Gi* per area and period (binary weights, the
   area in its own neighbourhood, conditional permutation p-values with the
   Benjamini-Hochberg FDR per period, the permutation floor handled as in
   :mod:`gangmap.measures.inference`), computed by the same engine as
   :func:`~gangmap.measures.getis_ord`;
2. a **Mann-Kendall** test on each area's series of Gi* z-scores;
3. Esri's **categories**, from their published definitions ("How Emerging
   Hot Spot Analysis works"), with "90 percent of the time-step intervals"
   read as ``hot periods / periods >= 0.9``:

   * *new*: hot in the final period and never hot before;
   * *consecutive*: a single uninterrupted run of at least two hot periods
     ending in the final period, never hot before the run, hot in less than
     90% of periods;
   * *intensifying*: hot in at least 90% of periods including the final one,
     and the Gi* z-scores rise significantly (Mann-Kendall);
   * *persistent*: hot in at least 90% of periods including the final one,
     with no significant trend;
   * *diminishing*: as intensifying, but the z-scores fall significantly;
   * *sporadic*: hot in the final period, on and off before (not new or
     consecutive), hot in less than 90% of periods, never a cold spot;
   * *oscillating*: hot in the final period, hot in less than 90% of
     periods, and a cold spot in some earlier period;
   * *historical*: not hot in the final period, but hot in at least 90% of
     periods;

   and the same for cold spots (intensifying: z-scores falling). Where two
   definitions overlap, the current state decides (an area hot in the final
   period gets a hot category, cold a cold one; historical only applies when
   the final period is neither), then Esri's order above (new before
   consecutive before the others). Areas without neighbours are
   ``"island"``; the rest ``"no pattern detected"``.

**Untested periods.** An area is *tested* in a period when it has data there
and a neighbour with data (and the period has enough areas with data for a
Gi*). A period in which it was not tested is not "not hot": we do not know.
So the definitions above are applied to the area's *tested* periods only,
in time order, as if the untested ones were not in the cube: "final" is its
last tested period, "90% of periods" is 90% of its tested periods, a run of
hot periods is not broken by an untested one, and Mann-Kendall uses the
z-scores of tested periods only. If an area's last tested period is not the
cube's final period, its category describes the series up to that period
(the layer's note lists these areas with their last tested period under
``last_tested_before_final``), never "historical" for want of data. An area
tested in fewer than two periods has no history to classify: ``"no pattern
detected"`` (a single hot period is not a "new" hot spot when nothing is
known of the periods before it).

Differences from ArcGIS, on purpose: the space-time neighbourhood is the
period itself (ArcGIS may also include earlier periods), and p-values come
from permutations rather than the normal approximation. A period in which
the source published nothing for any area (a force gap) is dropped from the
cube and listed; an area with no data in a period is not tested there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .checks import Subject, some, subject
from .hotspots import DEFAULT_SEED, gi_star, prepare
from .inference import MAX_PERMUTATIONS, check_hotspot_args
from .series import check_series, mann_kendall
from .weights import subgraph

__all__ = ["emerging_hotspots", "space_time_cube", "classify_ehsa", "SpaceTimeCube", "EHSA_LABELS",
           "PATTERNS"]

PATTERNS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating",
            "historical")
#: Categories written by :func:`emerging_hotspots`.
EHSA_LABELS: tuple[str, ...] = (*(f"{p} hot spot" for p in PATTERNS), *(f"{p} cold spot" for p in PATTERNS),
                                "no pattern detected", "island")


def _family(flags: np.ndarray, other: np.ndarray, trend_z: float, trend_p: float, alpha: float,
            rising: bool) -> str | None:
    """The pattern of an area whose final period is significant in ``flags`` (hot or cold)."""
    n = len(flags)
    share = flags.sum() / n
    if not flags[:-1].any():
        return "new"
    run = n - (np.nonzero(~flags)[0].max() + 1) if (~flags).any() else n
    if run >= 2 and not flags[: n - run].any() and share < 0.9:
        return "consecutive"
    if share >= 0.9:
        significant = np.isfinite(trend_p) and trend_p < alpha and trend_z != 0
        if not significant:
            return "persistent"
        return "intensifying" if (trend_z > 0) == rising else "diminishing"
    return "oscillating" if other.any() else "sporadic"


def classify_ehsa(hot: Any, cold: Any, trend_z: float, trend_p: float, *, alpha: float = 0.05,
                  tested: Any = None) -> str:
    """Esri's emerging hotspot category of one area (see the module notes).

    ``hot`` and ``cold`` are the per-period significance flags in time order;
    ``trend_z``/``trend_p`` the Mann-Kendall test of its Gi* z-scores (of
    the tested periods). ``tested`` marks the periods in which the area was
    tested (default: all); the others are left out before classifying, so
    the last tested period acts as the final one. Fewer than two tested
    periods: ``"no pattern detected"``.

    Examples
    --------
    >>> classify_ehsa([0, 0, 0, 1], [0, 0, 0, 0], 1.0, 0.3)
    'new hot spot'
    >>> classify_ehsa([1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [0] * 10, -2.0, 0.01)
    'historical hot spot'
    >>> classify_ehsa([0, 1, 0, 1, 0, 1], [1, 0, 0, 0, 0, 0], 0.5, 0.6)
    'oscillating hot spot'
    >>> classify_ehsa([1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [0] * 10, 0.3, 0.7, tested=[1] * 9 + [0])
    'persistent hot spot'
    """
    h = np.asarray(hot, dtype=bool)
    c = np.asarray(cold, dtype=bool)
    if tested is not None:
        m = np.asarray(tested, dtype=bool)
        if not (m.shape == h.shape == c.shape):
            raise InputError(f"measures.classify_ehsa: hot, cold and tested need one flag per period each; got "
                             f"{h.size}, {c.size} and {m.size}.")
        h, c = h[m], c[m]
    if len(h) < 2:
        return "no pattern detected"
    if h[-1]:
        return f"{_family(h, c, trend_z, trend_p, alpha, rising=True)} hot spot"
    if c[-1]:
        return f"{_family(c, h, trend_z, trend_p, alpha, rising=False)} cold spot"
    if h.sum() / len(h) >= 0.9:
        return "historical hot spot"
    if c.sum() / len(c) >= 0.9:
        return "historical cold spot"
    return "no pattern detected"


@dataclass(frozen=True)
class SpaceTimeCube:
    """Gi* per area and period, the trend of each area's z-scores, and its category.

    ``z``, ``p``, ``hot``, ``cold`` and ``tested`` are frames (rows: area
    codes in table order, columns: the periods analysed); ``tested`` is True
    where the area's significance was tested (``hot``/``cold`` are False
    elsewhere, meaning *unknown*, not "not hot"); ``trend`` has ``mk_s``,
    ``mk_z``, ``mk_p`` and ``tau`` per area (over its tested periods);
    ``categories`` one of :data:`EHSA_LABELS` (None for areas left out).
    ``dropped`` lists periods with no data at all.
    """

    z: pd.DataFrame
    p: pd.DataFrame
    hot: pd.DataFrame
    cold: pd.DataFrame
    tested: pd.DataFrame
    trend: pd.DataFrame
    categories: pd.Series
    dropped: tuple
    notes: dict

    @property
    def periods(self) -> tuple:
        return tuple(self.z.columns)


def _aligned(s: Subject, series: Any, skip: np.ndarray) -> pd.DataFrame:
    frame = check_series(series, func="emerging_hotspots")
    codes = [str(c) for c in s.ids]
    index = [str(c) for c in frame.index]
    extra = sorted(set(index) - set(codes))
    missing = [c for c, sk in zip(codes, skip) if not sk and c not in set(index)]
    if extra or missing:
        raise InputError(f"measures.emerging_hotspots: the series does not match the {s.geography.plural} of the "
                         f"table: {s.geography.plural} without a series row: {some(missing) or 'none'}; series rows "
                         f"not in the table: {some(extra) or 'none'}. Make it with AreaCube.series(...) for the "
                         "same areas.")
    frame.index = index
    return frame.reindex(codes)


def _period(s: Subject, st, y: np.ndarray, isl: np.ndarray, t: int, opts: dict):
    """Gi* of one period over the analysed areas that have data; (rows, GiResult) or None."""
    keep = [i for i in st.analysed if np.isfinite(y[i])]
    if len(keep) < 3:
        return None
    sub, order = subgraph(st.weights, s, keep)
    keep = [i for i, c in zip(keep, order) if len(sub.neighbors[c]) > 0]
    if len(keep) < 3 or y[keep].sum() <= 0:
        return None
    w_t, _ = subgraph(st.weights, s, keep)
    seed = None if opts["seed"] is None else int(opts["seed"]) + t
    r = gi_star(y[keep], w_t, tested=~isl[keep], permutations=opts["permutations"], seed=seed,
                alpha=opts["alpha"], fdr=opts["fdr"], alternative="two-sided", n_jobs=opts["n_jobs"],
                max_permutations=opts["max_permutations"], what="measures.emerging_hotspots")
    return keep, r


def space_time_cube(table: Any, series: pd.DataFrame, *, w: Any = None, permutations: int = 999,
                    seed: int | None = DEFAULT_SEED, alpha: float = 0.05, fdr: bool = True,
                    trend_alpha: float = 0.05, test_islands: bool = False, n_jobs: int = 1,
                    max_permutations: int = MAX_PERMUTATIONS, exclude: Any = None) -> SpaceTimeCube:
    """Gi* per period with permutation inference, Mann-Kendall on each area's z-scores, categories.

    Parameters are as in :func:`emerging_hotspots`; returns a :class:`SpaceTimeCube`.
    """
    check_hotspot_args(alpha, permutations, "two-sided", "emerging_hotspots")
    s = subject(table, "emerging_hotspots")
    skip = s.mask(exclude)
    frame = _aligned(s, series, skip)
    empty = frame.columns[frame[~skip].isna().all(axis=0).to_numpy()] if (~skip).any() else frame.columns
    frame = frame.drop(columns=empty)
    if frame.shape[1] < 2:
        raise InputError("measures.emerging_hotspots: fewer than 2 periods with data; an emerging hotspot "
                         "analysis needs a series of periods.")
    st = prepare(s, w, test_islands, skip, "emerging_hotspots")
    isl = st.island_mask(s)
    n, T = len(s.frame), frame.shape[1]
    Z, P = np.full((n, T), np.nan), np.full((n, T), np.nan)
    H, C, X = np.zeros((n, T), bool), np.zeros((n, T), bool), np.zeros((n, T), bool)
    opts = dict(permutations=permutations, seed=seed, alpha=alpha, fdr=fdr, n_jobs=n_jobs,
                max_permutations=max_permutations)
    unresolved, refined = [], 0
    for t, col in enumerate(frame.columns):
        out = _period(s, st, frame[col].to_numpy(dtype=float), isl, t, opts)
        if out is None:
            continue
        keep, r = out
        Z[keep, t], P[keep, t] = r.z, r.p
        H[keep, t], C[keep, t] = r.significant & r.upper, r.significant & ~r.upper
        X[keep, t] = ~isl[keep]
        refined += len(r.refined)
        if r.floor_binding:
            unresolved.append(col)
    return _cube(s, st, frame, (Z, P, H, C, X), isl, trend_alpha, dict(
        opts, test_islands=bool(test_islands), dropped=list(map(str, empty)), refined_at_floor=refined,
        floor_binding_periods=unresolved, weights=st.weights.kind, islands=list(st.islands),
        reported_as_island=list(st.reported_islands)))


#: How untested periods are treated, recorded in every ``_ehsa`` layer's note.
UNTESTED_RULE = ("categories use only the periods in which the area was tested (it had data and a neighbour "
                 "with data); its last tested period acts as the final one; Mann-Kendall uses the tested "
                 "z-scores only; fewer than two tested periods: no pattern detected")


def _cube(s: Subject, st, frame, arrays, isl, trend_alpha, notes) -> SpaceTimeCube:
    Z, P, H, C, X = arrays
    codes = [str(c) for c in s.ids]
    periods = [str(c) for c in frame.columns]
    analysed = set(st.analysed)
    rows: list[dict] = []
    cats: list[str | None] = []
    early: dict[str, str] = {}
    for i in range(len(codes)):
        mk = mann_kendall(np.where(X[i], Z[i], np.nan))  # untested periods are skipped, never read as 0
        rows.append({"mk_s": mk.s, "mk_z": mk.z, "mk_p": mk.p, "tau": mk.tau})
        if st.skip[i]:
            cats.append(None)
        elif isl[i] or i not in analysed:
            cats.append("island")
        else:
            cats.append(classify_ehsa(H[i], C[i], mk.z, mk.p, alpha=trend_alpha, tested=X[i]))
            if X[i].sum() >= 2 and not X[i, -1]:
                early[codes[i]] = periods[int(np.nonzero(X[i])[0].max())]
    df = lambda a: pd.DataFrame(a, index=codes, columns=list(frame.columns))  # noqa: E731
    return SpaceTimeCube(df(Z), df(P), df(H), df(C), df(X), pd.DataFrame(rows, index=codes),
                         pd.Series(cats, index=codes, dtype="object"), tuple(notes["dropped"]),
                         dict(notes, trend_alpha=trend_alpha, untested_periods=UNTESTED_RULE,
                              last_tested_before_final=early))


def emerging_hotspots(table: Any, count: str, series: pd.DataFrame, *, w: Any = None, permutations: int = 999,
                      seed: int | None = DEFAULT_SEED, alpha: float = 0.05, fdr: bool = True,
                      trend_alpha: float = 0.05, test_islands: bool = False, n_jobs: int = 1,
                      max_permutations: int = MAX_PERMUTATIONS, exclude: Any = None):
    """Emerging hotspot categories of each area, as table columns (a categorical map layer).

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area (with geometry unless ``w`` is given).
    count : str
        The count the series is of (e.g. ``"reports"``): names the new columns
        and, on an AreaTable, is their source.
    series : DataFrame
        A series frame of that count (rows: the table's area codes, columns:
        ``"YYYY-MM"`` ascending, NaN = no data), e.g.
        ``cube.series("reports")``.
    w : Weights or libpysal.weights.W, optional
        Spatial weights (default: queen contiguity of ``table``).
    permutations, seed, alpha, fdr, test_islands, n_jobs, max_permutations
        Per-period Gi* inference, as in :func:`~gangmap.measures.getis_ord`;
        ``fdr`` defaults to True (as ArcGIS corrects each period).
    trend_alpha : float, default 0.05
        Level of the Mann-Kendall test on the Gi* z-scores.
    exclude : mask or codes, optional
        Areas left out entirely (no category).

    Returns
    -------
    AreaTable or DataFrame
        With ``f"{count}_ehsa"`` (one of :data:`EHSA_LABELS`),
        ``f"{count}_ehsa_trend_z"`` and ``_trend_p`` (Mann-Kendall on the Gi*
        z-scores of its tested periods), ``f"{count}_ehsa_hot"`` and ``_cold``
        (number of periods the area was a significant hot/cold spot). The
        note records how untested periods are treated (``untested_periods``)
        and the areas classified on an earlier last period
        (``last_tested_before_final``). Use :func:`space_time_cube` for the
        per-period values and the ``tested`` mask.
    """
    s = subject(table, "emerging_hotspots")
    if s.table is not None:
        s.require([count])  # the categories are derived from this count: hidden wherever it is
    cube = space_time_cube(table, series, w=w, permutations=permutations, seed=seed, alpha=alpha, fdr=fdr,
                           trend_alpha=trend_alpha, test_islands=test_islands, n_jobs=n_jobs,
                           max_permutations=max_permutations, exclude=exclude)
    left = s.mask(exclude)
    hot = cube.hot.sum(axis=1).to_numpy(dtype=float).copy()
    cold = cube.cold.sum(axis=1).to_numpy(dtype=float).copy()
    hot[left], cold[left] = np.nan, np.nan
    new = {f"{count}_ehsa": pd.array(cube.categories.to_numpy(), dtype="object"),
           f"{count}_ehsa_trend_z": cube.trend["mk_z"].to_numpy(),
           f"{count}_ehsa_trend_p": cube.trend["mk_p"].to_numpy(),
           f"{count}_ehsa_hot": hot, f"{count}_ehsa_cold": cold}
    notes = {"measure": "ehsa", "base": count, **cube.notes, "periods": list(cube.periods),
             "left_out": int(left.sum())}
    return s.finish(new, [count], notes)
