"""A weighted composite need index on a 0-100 scale.

Why its own module? The index is where judgement enters (which components,
what weights), so its rules are kept short and in one place, and each
area's index comes with one contribution column per component that adds up
to it, so a planner can see why an area ranks where it does. Scaling uses
only the areas that take part: with ``exclude=`` (e.g. suppressed areas) the
minimum and maximum come from the shown areas alone, so a published index
never pins a hidden value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import stats

from ..errors import GangmapError, InputError
from .checks import Subject, check_choice, some, subject

__all__ = ["need_index", "DEFAULT_INDEX_WEIGHTS", "INDEX_METHODS"]

#: Default components of :func:`need_index` and their weights. The rates carry
#: most of the weight (need relative to population); the raw report count keeps
#: a little weight so that areas with many reports but a large population are
#: not ranked as low need. Any numeric columns can be used instead.
DEFAULT_INDEX_WEIGHTS: dict[str, float] = {
    "reports_rate": 0.4,
    "referrals_rate": 0.4,
    "reports": 0.2,
}
INDEX_METHODS = ("minmax", "zscore", "rank")


def _weights(s: Subject, components: Mapping[str, float]) -> dict[str, float]:
    missing = [c for c in components if c not in s.frame.columns]
    if missing:
        hint = ""
        if set(missing) & set(DEFAULT_INDEX_WEIGHTS):
            hint = (" The default components need rates: run measures.rate(table, 'reports', 'population') and "
                    "measures.rate(table, 'referrals', 'population') first (or measures.ensure(table, "
                    "'need_index')), or pass components={column: weight}.")
        raise InputError(f"measures.need_index: component column(s) {some(missing)} not found. The table has "
                         f"columns {some(list(s.frame.columns), 20)}.{hint}")
    s.require(components)
    wts = {}
    for col, wt in components.items():
        try:
            value = float(wt)
        except (TypeError, ValueError):
            value = float("nan")
        if not (np.isfinite(value) and value >= 0):
            raise GangmapError(f"measures.need_index: weight {wt!r} for {col!r} must be a number 0 or more.")
        wts[col] = value
    total = sum(wts.values())
    if total <= 0:
        raise GangmapError("measures.need_index: the weights add up to 0; give at least one positive weight.")
    return {c: v / total for c, v in wts.items()}


def _scaled(X: np.ndarray, wvec: np.ndarray, method: str) -> np.ndarray:
    """Contributions (areas x components) on the 0-100 scale."""
    if method == "minmax":
        lo, hi = X.min(axis=0), X.max(axis=0)
        S = np.where(hi > lo, (X - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0)
        return 100.0 * S * wvec
    if method == "rank":
        m = len(X)
        ranks = np.column_stack([stats.rankdata(X[:, j]) for j in range(X.shape[1])])
        S = (ranks - 1.0) / (m - 1.0) if m > 1 else np.zeros_like(X)
        S = np.where(X.max(axis=0) > X.min(axis=0), S, 0.0)
        return 100.0 * S * wvec
    mu, sd = X.mean(axis=0), X.std(axis=0)
    comp = np.where(sd > 0, (X - mu) / np.where(sd > 0, sd, 1.0), 0.0) * wvec
    score = comp.sum(axis=1)
    span = score.max() - score.min()
    base = comp[int(np.argmin(score))]
    return 100.0 * (comp - base) / span if span > 0 else np.zeros_like(comp)


def need_index(table: Any, components: Mapping[str, float] | None = None, *, method: str = "minmax",
               name: str = "need_index", exclude: Any = None):
    """Weighted composite need index on a 0-100 scale.

    Each component column is put on a common scale, multiplied by its weight
    (weights are normalised to sum to 1) and added up:

    * ``"minmax"``: ``(x - min) / (max - min)``; index = 100 * sum(w * scaled).
      An area that is highest on every component scores 100, lowest on all 0.
    * ``"rank"``: percentile rank ``(rank - 1) / (n - 1)`` (ties averaged);
      index = 100 * sum(w * scaled). Robust to outliers.
    * ``"zscore"``: ``S = sum(w * z)`` with ``z = (x - mean) / sd``, then
      rescaled so the lowest area is 0 and the highest 100. Contributions are
      measured from the lowest-scoring area, so a component can contribute a
      negative amount where the area is below that area on it.

    A component that is constant across areas contributes 0.

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area.
    components : dict {column: weight}, optional
        Columns and their (positive) weights; defaults to
        :data:`DEFAULT_INDEX_WEIGHTS`. Any numeric columns may be used.
    method : {"minmax", "zscore", "rank"}, default "minmax"
    name : str, default "need_index"
        Name of the index column; contributions are ``f"{name}_{component}"``.
    exclude : mask or codes, optional
        Areas left out of the scaling and given NaN.

    Returns
    -------
    AreaTable or DataFrame
        With ``name`` (0-100) and one contribution column per component; the
        contributions of an area add up to its index. Areas missing any
        component get NaN and are listed in the note (``"excluded"``). On an
        AreaTable every new column is derived from the union of the
        components' sources (the scaling of each depends on all of them).

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
    check_choice(method, INDEX_METHODS, "method", "need_index")
    s = subject(table, "need_index")
    wts = _weights(s, components)
    skip = s.mask(exclude)
    X = np.column_stack([s.numeric(c) for c in components])
    complete = np.isfinite(X).all(axis=1) & ~skip
    if not complete.any():
        raise InputError(f"measures.need_index: no {s.geography.label} has a value for every component "
                         f"({some(list(components))}). Check the component columns.")
    contrib = _scaled(X[complete], np.array([wts[c] for c in components]), method)
    index = np.full(len(s.frame), np.nan)
    index[complete] = contrib.sum(axis=1)
    new = {name: index}
    for j, col in enumerate(components):
        v = np.full(len(s.frame), np.nan)
        v[complete] = contrib[:, j]
        new[f"{name}_{col}"] = v
    notes = {"measure": "need_index", "base": None, "components": dict(components), "method": method,
             "name": name, "weights": wts, "excluded": s.codes_where(~complete & ~skip),
             "left_out": int(skip.sum())}
    return s.finish(new, list(components), notes)
