"""Layers over time in a pack: trends and emerging hotspots from the *published* period counts.

A trend or an emerging-hotspot label is computed from a count's series over
periods. Computed from the raw monthly counts it would carry what the
policy hides (a ward's months below 8) into a published label. So a pack
first makes every period view safe together with the rest of the pack, then
works these layers out from the published period tables only: shown counts
as published (rounded), hidden counts at the middle of the policy's hidden
range (public knowledge: 4 for 1–7), no data left out. The labels are then
added to the unfiltered table with the same suppression pattern, through a
recipe that returns them as computed (they depend on published values only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TIME_SUFFIXES", "time_layers", "published_series", "add_time_layers"]

#: Layers computed over a series of periods.
TIME_SUFFIXES = ("_trend", "_ehsa")


def time_layers(layers: Iterable[str]) -> list[str]:
    """The layers among ``layers`` that need a series."""
    return [layer for layer in layers if layer.endswith(TIME_SUFFIXES)]


def published_series(safes: Mapping[str, Any], count: str) -> pd.DataFrame:
    """A series frame (areas x periods) of ``count`` from period SafeTables, published values only."""
    cols = {}
    for label, safe in safes.items():
        lo, hi = safe.policy.primary_range
        mid = (max(lo, 1) + hi) / 2 if hi >= lo else np.nan
        values = safe.frame[count].to_numpy(dtype=float, na_value=np.nan)
        hidden = safe.suppressed[count].to_numpy()
        cols[str(label)] = np.where(hidden, mid, values)
    first = next(iter(safes.values()))
    return pd.DataFrame(cols, index=first.frame[first.geography.code].astype(str).to_numpy())


def add_time_layers(table: Any, safe: Any, layers: Iterable[str], safes: Mapping[str, Any], opts: dict) -> Any:
    """``safe`` remade with the time ``layers`` worked out from the published ``safes`` by period.

    The suppression pattern of ``safe`` is kept (``pattern=safe``: its hidden
    areas *and* hidden totals, see :func:`gangmap.disclosure.pattern.as_pattern`),
    so no cell ``safe`` hides is shown by the remade table; each new column is declared derived from its
    count and carries a recipe returning the values computed here.
    """
    from .. import measures
    from ..disclosure import make_safe

    wanted = time_layers(layers)
    if not wanted:
        return safe
    series = {c: published_series(safes, c) for c in table.counts if all(c in s.columns for s in safes.values())}
    computed = measures.ensure_all(table, wanted, series=series)
    new = [c for c in computed.columns if c not in table.columns]
    notes = {c: {**computed.schema.notes.get(c, {}), "recipe": _stored(computed.frame[c]),
                 "published_from": "published period counts (hidden at the middle of the hidden range)"}
             for c in new}
    computed = computed.with_schema(notes={**computed.schema.notes, **notes})
    return make_safe(computed, pattern=safe, period=safe.provenance.period, **opts)


def _stored(values: pd.Series):
    """A recipe returning ``values`` (already computed from published values only)."""
    frozen = values.copy()

    def recipe(published: Any) -> pd.Series:
        return pd.Series(frozen.to_numpy(), index=published.frame.index, name=frozen.name)

    return recipe
