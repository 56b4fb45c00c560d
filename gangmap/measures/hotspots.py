"""Hotspots: local Moran's I (LISA) clusters and Getis-Ord Gi* hot and cold spots.

Why its own module? Both statistics wrap esda with conditional permutation
inference, and both must get the same three things right, which live here
(with the permutation and FDR code in :mod:`gangmap.measures.inference`):

* **islands**: an area with no neighbour, or joined to its nearest area only
  by :func:`~gangmap.measures.weights`, is labelled ``"island"`` and never
  reported significant unless asked (``test_islands=True``); a statistic over
  one borrowed neighbour is not evidence of a cluster;
* **repeatability**: a ``seed`` (default :data:`DEFAULT_SEED`) gives the same
  labels every run, and neither the caller's weights nor numpy's global
  random state is changed;
* **left-out areas**: ``exclude=`` drops areas (e.g. suppressed ones) from the
  analysis entirely: they are not drawn into any permutation and get no
  label, so a published label never rests on a hidden value.

:func:`gi_star` is the per-period engine the emerging hotspot analysis
reuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .checks import Subject, subject
from .inference import MAX_PERMUTATIONS, QuietRandom, check_hotspot_args, decide, lag_simulator, pseudo_p
from .weights import Weights, as_weights, positions, subgraph, weights

__all__ = ["local_moran", "getis_ord", "gi_star", "GiResult", "prepare", "Setup", "DEFAULT_SEED", "LISA_LABELS",
           "GI_LABELS"]

#: Seed used by the hotspot measures when none is given, so repeated runs on
#: the same data give the same hotspots.
DEFAULT_SEED: int = 12345
#: Labels written by :func:`local_moran`.
LISA_LABELS: tuple[str, ...] = ("HH", "LL", "HL", "LH", "ns", "island")
#: Labels written by :func:`getis_ord`.
GI_LABELS: tuple[str, ...] = ("hot", "cold", "ns", "island")


@dataclass(frozen=True)
class Setup:
    """What a hotspot run works on: the weights over the analysed rows, and the islands."""

    weights: Weights
    w: Any                   # libpysal W over the analysed rows, in that order
    analysed: list           # row positions analysed
    islands: list            # codes that had or have no neighbour
    reported_islands: list   # codes labelled "island"
    skip: np.ndarray         # rows left out by the caller

    def island_mask(self, s: Subject) -> np.ndarray:
        return np.isin(np.asarray(s.ids, dtype=object), list(self.reported_islands))


def prepare(s: Subject, w: Any, test_islands: bool, skip: np.ndarray, func: str | None = None) -> Setup:
    """Line the weights up with the table, drop the rows in ``skip`` and the areas left without a
    neighbour, and decide which areas are reported as islands."""
    wt = as_weights(w) if w is not None else weights(s.table if s.table is not None else s.frame)
    pos = positions(wt, s)
    candidates = sorted(pos[c] for c in wt.id_order if not skip[pos[c]])  # table order: results do not
    # depend on the order of the weights' ids
    sub, order = subgraph(wt, s, candidates)
    unconnected = {c for c in order if len(sub.neighbors[c]) == 0}
    analysed = [pos[c] for c in order if c not in unconnected]
    if len(analysed) < 3:
        raise InputError(f"measures.{func or s.func}: fewer than 3 {s.geography.plural} have neighbours; hotspot "
                         "statistics need more areas.")
    w_copy = sub if not unconnected else subgraph(wt, s, analysed)[0]
    isl = set(wt.islands) | set(wt.unconnected)
    reported = [c for c in order if c in unconnected or (c in isl and not test_islands)]
    return Setup(wt, w_copy, analysed, sorted(isl, key=str), reported, skip)


def _values(s: Subject, column: str, exclude: Any) -> tuple[np.ndarray, np.ndarray]:
    s.require([column])
    skip = s.mask(exclude)
    y = s.numeric(column)
    missing = s.codes_where(~skip & ~np.isfinite(y))
    if missing:
        raise InputError(f"measures.{s.func}: column {column!r} is missing for {s.areas(missing)}. Hotspot "
                         "statistics need a value for every area: fill them, or leave those areas out with "
                         "exclude= (they then take no part and get no label).")
    return y, skip


def _arrays(w_copy: Any, row_standardise: bool) -> tuple[list, list]:
    """Neighbour positions and weights per analysed area (in ``w_copy.id_order``)."""
    where = {c: i for i, c in enumerate(w_copy.id_order)}
    nbrs, wts = [], []
    for c in w_copy.id_order:
        wv = np.asarray(w_copy.weights[c], dtype=float)
        if row_standardise and wv.sum() > 0:
            wv = wv / wv.sum()
        nbrs.append(np.array([where[j] for j in w_copy.neighbors[c]], dtype=int))
        wts.append(wv)
    return nbrs, wts


def _simulator(values: np.ndarray, w_copy: Any, row_standardise: bool, statistic):
    """Conditional permutations of one area at a time, for re-testing at the floor (FDR only)."""
    nbrs, wts = _arrays(w_copy, row_standardise)
    return lag_simulator(values, nbrs, wts, statistic)


@dataclass(frozen=True)
class GiResult:
    """Gi* over the analysed areas (in the order of the weights): analytic z, pseudo p,
    upper-tail flags, permutations used per area, significance and the cut-off."""

    z: np.ndarray
    p: np.ndarray
    upper: np.ndarray
    permutations: np.ndarray
    significant: np.ndarray
    threshold: float
    refined: tuple
    floor_binding: bool


def gi_star(y: np.ndarray, w_copy: Any, *, tested: np.ndarray | None = None, permutations: int = 999,
            seed: int | None = DEFAULT_SEED, alpha: float = 0.05, fdr: bool = False,
            alternative: str = "two-sided", n_jobs: int = 1, max_permutations: int = MAX_PERMUTATIONS,
            what: str = "getis_ord") -> GiResult:
    """Gi* (binary weights, the area in its own neighbourhood) with conditional permutation p-values.

    ``y`` is in the order of ``w_copy.id_order`` (a private W from
    :func:`~gangmap.measures.weights.subgraph`); ``tested`` marks the areas
    whose significance is reported (default all). With ``fdr`` the areas
    stuck at the permutation floor are re-tested with more permutations
    (see :mod:`gangmap.measures.inference`).
    """
    import esda
    from libpysal.weights import W

    ids = list(w_copy.id_order)
    w_bin = W({c: list(w_copy.neighbors[c]) for c in ids}, {c: [1.0] * len(w_copy.neighbors[c]) for c in ids},
              id_order=ids, silence_warnings=True)
    with QuietRandom():
        gi = esda.G_Local(y, w_bin, transform="B", permutations=int(permutations), star=True,
                          keep_simulations=True, n_jobs=n_jobs, seed=seed)
    p, upper = pseudo_p(gi.Gs, gi.rGs, alternative)
    perms = np.full(len(y), int(permutations))
    tested = np.ones(len(y), bool) if tested is None else np.asarray(tested, bool)
    sim = _simulator(np.asarray(y, float), w_bin, False, lambda i, lags: y[i] + lags) if fdr else None
    d = decide(p, upper, perms, tested, alpha=alpha, fdr=fdr, alternative=alternative, simulate=sim, seed=seed,
               max_permutations=max_permutations, what=f"measures.{what}")
    return GiResult(np.asarray(gi.Zs, float), p, upper, perms, d.significant, d.threshold, d.refined,
                    d.floor_binding)


def _notes(measure: str, column: str, st: Setup, permutations: int, seed, alpha, fdr, alternative, thr,
           test_islands: bool, refined, binding: bool, max_permutations: int, **extra) -> dict:
    return {"measure": measure, "base": column, **extra, "permutations": int(permutations), "seed": seed,
            "alpha": float(alpha), "fdr": bool(fdr), "alternative": alternative, "p_threshold": float(thr),
            "max_permutations": int(max_permutations), "refined_at_floor": len(refined),
            "floor_binding": bool(binding), "islands": list(st.islands),
            "reported_as_island": list(st.reported_islands), "test_islands": bool(test_islands),
            "weights": st.weights.kind, "left_out": int(st.skip.sum())}


def _scatter(n: int, analysed: list, values: np.ndarray, fill=np.nan, dtype=float) -> np.ndarray:
    out = np.full(n, fill, dtype=dtype)
    out[analysed] = values
    return out


def local_moran(table: Any, column: str, *, w: Any = None, permutations: int = 999,
                seed: int | None = DEFAULT_SEED, alpha: float = 0.05, fdr: bool = False,
                alternative: str = "two-sided", test_islands: bool = False, n_jobs: int = 1,
                max_permutations: int = MAX_PERMUTATIONS, exclude: Any = None):
    """Local Moran's I (LISA) cluster labels with permutation p-values.

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area.
    column : str
        Column to test, e.g. ``"reports_rate"`` or ``"reports_eb"``.
    w : Weights or libpysal.weights.W, optional
        Weights with ids matching the area codes (or the index). Defaults to
        ``weights(table)``. Row-standardised on a private copy; never changed.
    permutations : int, default 999
        Conditional permutations for the pseudo p-values (at least 99).
    seed : int or None, default DEFAULT_SEED
        Seed given to esda (and to any extra permutations) so results repeat;
        ``None`` for a random run.
    alpha : float, default 0.05
        Significance level.
    fdr : bool, default False
        Control the false discovery rate (Benjamini-Hochberg over the reported
        areas) instead of testing each area at ``alpha``. With FDR, areas at
        the permutation floor are re-tested with enough permutations to put
        the floor below ``alpha / m`` (at most ``max_permutations``); if that
        is not enough a :class:`~gangmap.measures.PermutationFloorWarning` is
        issued and the note says ``floor_binding``.
    alternative : {"two-sided", "directed"}, default "two-sided"
        ``"directed"`` is GeoDa's one-sided pseudo p-value in the direction of
        the observed statistic, ``min(p_ge, p_le)``; ``"two-sided"`` doubles it
        (capped at 1), as esda recommends. Ties with the simulated values count
        in both tails, so an area surrounded by identical values (e.g. zeros)
        is not reported as significant (esda's own ``p_sim`` would give 0.001).
    test_islands : bool, default False
        Areas that had no neighbour (``Weights.islands``) are labelled
        ``"island"`` even when :func:`~gangmap.measures.weights` joined them to
        their nearest area. Set True to test those joined areas like any other.
        Areas that still have no neighbour are always ``"island"``.
    n_jobs : int, default 1
        Passed to esda (1 is fastest without numba on two cores).
    max_permutations : int, default 99,999
        Cap on the permutations used to re-test areas at the floor (FDR only).
    exclude : mask or codes, optional
        Areas left out of the analysis: no label (missing) and no part in
        any neighbourhood or permutation.

    Returns
    -------
    AreaTable or DataFrame
        With ``f"{column}_lisa"`` (``"HH"`` high among high, ``"LL"``, ``"HL"``
        high among low, ``"LH"``, ``"ns"`` not significant, ``"island"``) and
        ``f"{column}_lisa_p"`` (pseudo p-value; NaN for islands).

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

    check_hotspot_args(alpha, permutations, alternative, "local_moran")
    s = subject(table, "local_moran")
    y, skip = _values(s, column, exclude)
    st = prepare(s, w, test_islands, skip)
    n, ya = len(s.frame), y[st.analysed]
    with QuietRandom():
        lm = esda.Moran_Local(ya, st.w, transformation="r", permutations=int(permutations), n_jobs=n_jobs,
                              keep_simulations=True, seed=seed)
    p_a, upper_a = pseudo_p(lm.Is, lm.rlisas, alternative)
    perms_a = np.full(len(ya), int(permutations))
    isl_mask = st.island_mask(s)
    tested_a = ~isl_mask[st.analysed]
    zs = (ya - ya.mean()) / ya.std() if ya.std() > 0 else np.zeros_like(ya)
    sim = _simulator(zs, st.w, True, lambda i, lags: zs[i] * lags) if fdr else None
    d = decide(p_a, upper_a, perms_a, tested_a, alpha=alpha, fdr=fdr, alternative=alternative, simulate=sim,
               seed=seed, max_permutations=max_permutations, what="measures.local_moran")
    p = _scatter(n, st.analysed, p_a)
    q = _scatter(n, st.analysed, lm.q, fill=0, dtype=int)
    sig = _scatter(n, st.analysed, d.significant, fill=False, dtype=bool)
    quad = np.array(["ns", "HH", "LH", "LL", "HL"], dtype=object)
    labels = np.where(sig, quad[q], "ns").astype(object)
    labels[isl_mask] = "island"
    labels[st.skip] = None
    p[isl_mask | st.skip] = np.nan
    notes = _notes("lisa", column, st, permutations, seed, alpha, fdr, alternative, d.threshold, test_islands,
                   d.refined, d.floor_binding, max_permutations)
    new = {f"{column}_lisa": pd.array(labels, dtype="object"), f"{column}_lisa_p": p}
    return s.finish(new, [column], notes)


def getis_ord(table: Any, column: str, *, w: Any = None, permutations: int = 999,
              seed: int | None = DEFAULT_SEED, alpha: float = 0.05, fdr: bool = False,
              alternative: str = "two-sided", test_islands: bool = False, n_jobs: int = 1,
              max_permutations: int = MAX_PERMUTATIONS, exclude: Any = None):
    """Getis-Ord Gi* hot and cold spots (binary weights, the area included in its own
    neighbourhood), with permutation p-values.

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area.
    column : str
        Column to test; values must be 0 or more (counts, rates).
    w, permutations, seed, alpha, fdr, alternative, test_islands, n_jobs, max_permutations, exclude
        As in :func:`local_moran`. The weights are used as 0/1 with a self
        weight of 1 on a private copy.

    Returns
    -------
    AreaTable or DataFrame
        With ``f"{column}_gi"`` (``"hot"``: significant and above its
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
    check_hotspot_args(alpha, permutations, alternative, "getis_ord")
    s = subject(table, "getis_ord")
    y, skip = _values(s, column, exclude)
    st = prepare(s, w, test_islands, skip)
    negative = s.codes_where(~st.skip & (y < 0))
    if negative:
        raise InputError(f"measures.getis_ord: column {column!r} is negative for {s.areas(negative)}. Gi* needs "
                         "values of 0 or more (counts or rates); use local_moran for centred values such as "
                         "z-scores.")
    if y[st.analysed].sum() <= 0:
        raise InputError(f"measures.getis_ord: column {column!r} is 0 for every {s.geography.label}; there is "
                         "nothing to test.")
    n = len(s.frame)
    isl_mask = st.island_mask(s)
    r = gi_star(y[st.analysed], st.w, tested=~isl_mask[st.analysed], permutations=permutations, seed=seed,
                alpha=alpha, fdr=fdr, alternative=alternative, n_jobs=n_jobs, max_permutations=max_permutations)
    p, z = _scatter(n, st.analysed, r.p), _scatter(n, st.analysed, r.z)
    upper = _scatter(n, st.analysed, r.upper, fill=False, dtype=bool)
    sig = _scatter(n, st.analysed, r.significant, fill=False, dtype=bool)
    labels = np.full(n, "ns", dtype=object)
    labels[sig & upper] = "hot"
    labels[sig & ~upper] = "cold"
    labels[isl_mask] = "island"
    labels[st.skip] = None
    p[isl_mask | st.skip] = np.nan
    z[isl_mask | st.skip] = np.nan
    notes = _notes("gi", column, st, permutations, seed, alpha, fdr, alternative, r.threshold, test_islands,
                   r.refined, r.floor_binding, max_permutations, star=True)
    new = {f"{column}_gi": pd.array(labels, dtype="object"), f"{column}_gi_z": z, f"{column}_gi_p": p}
    return s.finish(new, [column], notes)
