"""Transitional aliases for code written against the old ``gangmap.joining.core``.

Planning, pack and the CLI imported ``join``, ``place``, ``normalise_name``,
``period_label`` and three private helpers from here before joining was split
into modules by concern. Until they import the public names
(``gangmap.joining.join``, ``place``, ``locate_points``, ``filter_rows``,
``as_areas``; ``AreaTable.schema.period_label``), these aliases keep them
importable. Nothing in :mod:`gangmap.joining` uses this module; delete it once
nothing imports it.
"""

from __future__ import annotations

import geopandas as gpd

from ..table import Schema
from .joins import join
from .locate import locate_points
from .match import filter_rows, normalise_name
from .place import place

__all__ = ["join", "place", "normalise_name"]


def period_label(periods) -> str:
    """Deprecated: use ``table.schema.period_label``."""
    return Schema(periods=tuple(periods or ())).period_label


def _locate_points(x, y, areas):
    return locate_points(x, y, areas)


def _apply_filter(data, column, wanted, intake, notes):
    return filter_rows(data, column, wanted, strict=intake.kind == "reports", source=intake.source, notes=notes)


def _is_canonical(obj) -> bool:
    return (isinstance(obj, gpd.GeoDataFrame) and "ward_code" in obj
            and obj.crs is not None and obj.crs.to_epsg() == 27700)
