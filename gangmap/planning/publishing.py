"""How planning tables are published: every figure worked out again from the published values.

Why a module of its own: the disclosure policy publishes a derived figure
only by computing it again from what a reader already has (the rounded
counts, with hidden and no-data counts left out, and the public context; see
:mod:`gangmap.disclosure.derived`). A planning figure (a need value, a rank, a
share of resamples, a hub's need served) is derived from counts like any
rate, so every planning table that goes through ``.safe()`` declares, for
each of its figures, a *recipe*: a callable that takes the published
:class:`~gangmap.table.AreaTable` and returns the column. A recipe reads
only published values, the public context and the rule's public settings
(the targets, ``k``, the weights, the seed), so the figure it returns is a
function of what is already shown and cannot carry a finer count than the
table shows. The analyst's own results (the decisions and figures on the
raw counts) are left as they are; only what is published changes.

This module holds the plumbing the planning modules share: a memo so that
one published computation serves every column of a table, the columns a
measure's recipe reads, whole-number and coarsened columns, and the
ordering of published ranked tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import GangmapError
from ..table import AreaTable

__all__ = ["RECIPE", "SHARE_STEP", "Computed", "recipe", "with_recipes", "measure_columns", "area_inputs",
           "whole", "coarse_share", "ordinal_rank", "published_values", "require_published", "LIST_ORDER"]

#: The schema-note key the disclosure policy reads for a derived column's recipe.
RECIPE = "recipe"
#: Resampling shares are published rounded down to this step (10%): see :func:`coarse_share`.
SHARE_STEP = 0.1
#: The column that gives the position of a row in a published ranked planning table.
LIST_ORDER = "order"


class Computed:
    """One computation on a published table, shared by the recipes of all its columns.

    ``compute(published) -> DataFrame`` (one row per row of the table) runs
    once per distinct set of published input values (``keys``): the
    disclosure policy calls one recipe per column, each time on the
    published table with one more column filled in.
    """

    def __init__(self, compute: Callable[[AreaTable], pd.DataFrame], keys: Sequence[str]):
        self._compute = compute
        self._keys = tuple(keys)
        self._seen: tuple | None = None
        self._value: pd.DataFrame | None = None

    def __call__(self, published: AreaTable) -> pd.DataFrame:
        f = published.frame
        key = tuple(pd.to_numeric(f[c], errors="coerce").to_numpy(dtype=float).tobytes() if c in f else b""
                    for c in self._keys)
        if key != self._seen or self._value is None:
            self._value = self._compute(published)
            self._seen = key
        return self._value


def recipe(computed: Computed, column: str, why: str) -> Callable[[AreaTable], pd.Series]:
    """The recipe of ``column``: its values from ``computed``, with ``why`` as the docstring."""
    def published_figure(published: AreaTable) -> pd.Series:
        out = computed(published)[column]
        return pd.Series(out.to_numpy(), index=published.frame.index, name=column)

    published_figure.__doc__ = why
    published_figure.__name__ = f"published_{column}"
    return published_figure


def with_recipes(table: AreaTable, raw: Mapping[str, Any], recipes: Mapping[str, Callable], *,
                 sources: Sequence[str]) -> AreaTable:
    """``table`` with the derived columns ``raw`` (the analyst's values) and their recipes in the notes.

    Columns are added in the order of ``raw``: a recipe may read the columns
    published before it (the disclosure policy fills them in that order).
    """
    out = table.with_columns(dict(raw), sources=list(sources))
    notes = {**out.schema.notes, **{c: {RECIPE: recipes[c]} for c in raw}}
    return out.with_schema(notes=notes)


def measure_columns(table: AreaTable, measure: str) -> list[str]:
    """``measure`` and the derived columns its recorded recipe reads (a need index's rates), in table order.

    Read from the schema notes the measures write (``components``/``weights``,
    ``base``, ``population``), so the disclosure policy can work the measure
    out again from the published counts with :func:`gangmap.measures.recompute`.
    """
    wanted, todo = {measure}, [measure]
    while todo:
        note = table.schema.notes.get(todo.pop(), {})
        inputs = [*(note.get("components") or note.get("weights") or {}), note.get("base"), note.get("population")]
        for c in inputs:
            if isinstance(c, str) and c in table and c not in wanted:
                wanted.add(c)
                todo.append(c)
    return [c for c in table.columns if c in wanted]


def area_inputs(table: AreaTable, columns: Sequence[str]) -> AreaTable:
    """The identifiers, the counts and public context behind ``columns``, and ``columns`` (roles and notes kept).

    No geometry: a published planning table is a list. Undeclared columns are
    left out (nothing computed from them can be published).
    """
    schema = table.schema
    srcs = schema.expand([c for c in columns if schema.role(c) is not None], what="a planning table")
    ids = [c for c in table.geography.identifiers if c in table]
    wanted = set(ids) | set(srcs) | set(columns) | {c for c in schema.context if c in table}
    keep = [c for c in table.columns if c in wanted and c != "geometry"]
    frame = pd.DataFrame(table.frame[keep]).copy()
    return AreaTable(frame, schema.without([c for c in table.columns if c not in keep]))


def published_values(published: AreaTable, column: str) -> np.ndarray:
    """A published column as floats (NaN where hidden, no data or not published)."""
    if column not in published.frame:
        return np.full(len(published), np.nan)
    return pd.to_numeric(published.frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def whole(values: Any) -> pd.arrays.IntegerArray:
    """Whole numbers (ranks, counts of schools) with NA where missing, so they are shown unrounded."""
    a = np.asarray(values, dtype=float)
    return pd.array([int(round(x)) if np.isfinite(x) else pd.NA for x in a], dtype="Int64")


def coarse_share(values: Any, step: float = SHARE_STEP) -> np.ndarray:
    """Shares (0-1) rounded *down* to ``step`` (10%): a resampled share is published no finer than that.

    A share of 200 resamples moves by 0.5% per resample; to 10% it says
    robust, likely or a coin-flip and no more. Down, not to the nearest:
    the labels (:func:`gangmap.planning.uncertainty.robustness`) are cut at
    90% and 70%, multiples of the step, so the label of the shown share is
    the label of the unrounded share. Rounded to the nearest step, 86% would
    show as 90% and read as robust, although robust means at least 90%; a
    label taken from the unrounded share instead would contradict the shown
    90% and tell which half of the band the share is in. Rounded down, the
    shown 80% stands for 80% to under 90%: a band as wide as before, and a
    label that follows from the number and the definition alike.

    Examples
    --------
    >>> coarse_share([0.86, 0.66, 0.7, 0.9, 0.995, 1.0]).tolist()
    [0.8, 0.6, 0.7, 0.9, 0.9, 1.0]
    """
    a = np.asarray(values, dtype=float)
    bands = np.floor(np.round(a / step, 9))   # 0.7 / 0.1 is 6.999...: a share on a band edge is in that band
    return np.round(bands * step, 12)


def ordinal_rank(values: np.ndarray, codes: Sequence[str], *, ascending: bool = False) -> np.ndarray:
    """1, 2, 3 ... by ``values`` (highest first unless ``ascending``); ties by code; NaN stays NaN.

    Ties are broken by the area code (public), never by a raw value, so the
    order of a published list says nothing the published values do not.
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    out = np.full(len(v), np.nan)
    if ok.any():
        idx = np.flatnonzero(ok)
        keys = v[idx] if ascending else -v[idx]
        order = idx[np.lexsort((np.asarray(codes, dtype=str)[idx], keys))]
        out[order] = np.arange(1, len(order) + 1)
    return out


def require_published(safe: Any, column: str, what: str) -> None:
    """Raise a :class:`GangmapError` naming why ``column`` of a planning table was not published."""
    if column in safe.suppressed:
        return
    why = safe.withheld.get(column, "it is not among the published columns")
    raise GangmapError(f"the {what} cannot be published: {column!r} could not be worked out from the published "
                       f"counts ({why}). Plan with a measure gangmap.measures made (its note records how), or "
                       "declare a recipe for it.")
