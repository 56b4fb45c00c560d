"""Published derived figures come from published counts.

A figure computed from a raw count can give the count back. A rate to three
significant figures times a public population is the count; the bounds of
its confidence interval pin it as well; a smoothed rate or an index scaled
over every area (hidden ones included) carries the hidden counts into the
figures that are shown. Hiding a derived figure only where its own count is
hidden is therefore not enough.

The rule: **every published derived figure is worked out again from the
published values alone** (the rounded counts, with hidden and no-data counts
left out, and the public context columns), so it is a function of what a
reader already has and cannot tell them more. Then it is hidden wherever a
count it uses is hidden in that row, and rounded to ``policy.sig_figs``
significant figures.

How each figure is published:

============================  ==============================================================
figure                        published as
============================  ==============================================================
count                         the policy's value: hidden (1–7 under ``nhs``), else rounded
rate (per 1,000)              the published (rounded) count / population × 1,000
rate interval bounds          the Poisson interval of the published count
excess risk                   published count / expected at the rate of the shown areas
smoothed rates (EB, spatial)  smoothed over the shown areas only; no hidden area is pooled
need index                    scaled (min–max) over the shown areas only
hotspot labels (LISA, Gi*)    computed on the published rates; hidden where the count is
rank, order                   ranked among the shown rows only; hidden rows are left out
                              (:meth:`SafeTable.ranked`)
anything else                 withheld (left out, with the reason in ``SafeTable.withheld``)
============================  ==============================================================

How a figure is worked out again: its schema note (the ``notes`` the
measures record for every computed column) names the measure,
``{"measure": name, "base": column, ...parameters}``, and
:func:`gangmap.measures.recompute` recomputes it on the published table; or
the note holds ``{"recipe": callable}``, called with that table (an
:class:`~gangmap.table.AreaTable`) and returning the column. The published
table holds the published counts (float; NaN where hidden or no data: a
recipe must leave NaN out, never treat it as 0), the public context columns
and the derived columns already published (in column order); every other
count and derived column is NaN. A figure with no recipe, or whose recipe
fails, is *coarsened* to nothing: it is withheld, and the reason recorded.

Under the unsafe policy ``none`` derived figures pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..table import AreaTable
from .formatting import round_sig
from .policy import Policy
from .roles import Columns

__all__ = ["recipe_of", "recompute_column", "published_table", "publish_derived", "Published", "RECIPE"]

#: The schema-note key of a derived column's own recipe: ``notes={"recipe": callable(table)}``.
RECIPE = "recipe"


def _measures_recompute() -> Callable[[AreaTable, str], Any] | None:
    """:func:`gangmap.measures.recompute`, when the installed measures provide it."""
    try:
        from .. import measures
    except ImportError:  # pragma: no cover
        return None
    fn = getattr(measures, "recompute", None)
    return fn if callable(fn) else None


def recipe_of(table: AreaTable, column: str) -> Callable[[AreaTable], Any] | None:
    """How to work ``column`` out again from a published table, or None (no recipe known)."""
    note = table.schema.notes.get(column, {})
    own = note.get(RECIPE)
    if callable(own):
        return own
    if note.get("measure"):
        recompute = _measures_recompute()
        if recompute is not None:
            return lambda t: recompute(t, column)
    return None


def _as_values(result: Any, column: str, n: int, index: pd.Index) -> pd.Series:
    if isinstance(result, AreaTable):
        result = result.frame[column]
    elif isinstance(result, pd.DataFrame):
        result = result[column]
    if isinstance(result, pd.Series):
        if len(result) != n:
            raise ValueError(f"the recipe gave {len(result)} values for {n} rows")
        return pd.Series(result.to_numpy(), index=index, name=column)
    values = np.asarray(result)
    if values.shape != (n,):
        raise ValueError(f"the recipe gave values of shape {values.shape} for {n} rows")
    return pd.Series(values, index=index, name=column)


def recompute_column(table: AreaTable, column: str) -> tuple[pd.Series | None, str]:
    """``column`` worked out again on ``table`` (a published table): ``(values, "")`` or ``(None, why not)``."""
    recipe = recipe_of(table, column)
    if recipe is None:
        return None, ("no recipe: its schema note names no measure that gangmap.measures.recompute knows, "
                      "and no 'recipe', so it cannot be worked out from the published counts")
    try:
        return _as_values(recipe(table), column, len(table), table.frame.index), ""
    except Exception as exc:  # fail closed: a figure that cannot be recomputed is not published
        return None, f"its recipe failed on the published counts ({type(exc).__name__}: {exc})"


def published_table(cols: Columns, shown: Mapping[str, np.ndarray]) -> AreaTable:
    """The table a reader could rebuild: published counts, public context, nothing else.

    Counts hold the published values (NaN where hidden or no data); counts
    and derived columns that are not published are NaN; undeclared columns
    are left out. Derived columns start as NaN and are filled in as they are
    published, so a recipe never reads a raw derived value.
    """
    t = cols.table
    schema = t.schema
    keep = [c for c in t.frame.columns if schema.role(c) is not None or c == cols.geometry]
    frame = t.frame[keep].copy()
    for c in schema.counts:
        frame[c] = np.asarray(shown[c], dtype=float) if c in shown else np.nan
    for c in schema.derived:
        frame[c] = np.nan
    return AreaTable(frame, schema)


@dataclass
class Published:
    """The derived columns as published: values, masks and what was withheld."""

    values: dict[str, pd.Series] = field(default_factory=dict)
    suppressed: dict[str, np.ndarray] = field(default_factory=dict)
    nodata: dict[str, np.ndarray] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)
    withheld: dict[str, str] = field(default_factory=dict)


def _is_number(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _finish(out: Published, col: str, values: pd.Series, mask: np.ndarray, raw: pd.Series, sig: int | None):
    """Hide ``values`` where a source is hidden, round numbers, and record the column."""
    if _is_number(raw) and pd.api.types.is_integer_dtype(raw):
        out.whole.add(col)
    if _is_number(values):
        vals = values.to_numpy(dtype=float, na_value=np.nan)
        out.nodata[col] = np.isnan(vals) & ~mask
        vals = np.where(mask, np.nan, vals)
        if col not in out.whole and not pd.api.types.is_integer_dtype(values):
            vals = round_sig(vals, sig)
        out.values[col] = pd.Series(vals, index=values.index, name=col)
    else:
        out.nodata[col] = values.isna().to_numpy() & ~mask
        out.values[col] = values.mask(pd.Series(mask, index=values.index))
    out.suppressed[col] = mask


def publish_derived(cols: Columns, shown: Mapping[str, np.ndarray], hidden: Mapping[str, np.ndarray],
                    policy: Policy) -> Published:
    """Publish every derived column of ``cols`` from the published counts (see the module docstring)."""
    out = Published()
    t = cols.table
    pub = published_table(cols, shown)
    n = len(t)
    for col in [c for c in t.frame.columns if c in cols.derived]:
        mask = np.zeros(n, dtype=bool)
        for s in cols.derived[col]:
            mask |= np.asarray(hidden[s], dtype=bool)
        raw = t.frame[col]
        if policy.safe:
            values, why = recompute_column(pub, col)
            if values is None:
                out.withheld[col] = why
                continue
        else:
            values = raw
        _finish(out, col, values, mask, raw, policy.sig_figs)
        frame = pub.frame.copy()
        frame[col] = out.values[col].to_numpy()
        pub = AreaTable(frame, pub.schema)
    return out
