"""The areas rows are placed on, as an :class:`~gangmap.table.AreaTable` of any geography.

Every joining function accepts the areas as an AreaTable (from
``gangmap.read_areas`` or an earlier join), as a GeoDataFrame, or as a path.
:func:`as_areas` turns any of them into one AreaTable once, so the placing code
reads the code, name and parent columns and the words ("ward", "LSOA") from the
table's geography instead of assuming wards.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..errors import BoundaryError
from ..geography import WORK_CRS, Geography, detect_geography, get_geography
from ..table import AreaTable, as_table, from_frame

__all__ = ["as_areas", "areas_source", "identifier_columns"]


def as_areas(obj, *, geography: str | Geography | None = None) -> AreaTable:
    """``obj`` as an AreaTable of areas in EPSG:27700.

    An AreaTable is used as it is (its frame is converted to EPSG:27700 if it
    has another CRS). A GeoDataFrame that already has a canonical code column
    (``ward_code``, ``lsoa_code`` ...) in EPSG:27700 is wrapped as it is; any
    other frame or path is read with ``gangmap.io.read_areas`` (or
    ``read_wards`` while that is the reader available).
    """
    if isinstance(obj, AreaTable):
        table = obj
    elif isinstance(obj, gpd.GeoDataFrame) and detect_geography(obj.columns) is not None \
            and obj.crs is not None and obj.crs.to_epsg() == 27700:
        table = from_frame(obj, geography=geography)
    else:
        table = _read(obj, geography)
    if geography is not None and get_geography(geography).level != table.geography.level:
        table = from_frame(table, geography=geography)
    frame = table.frame
    if table.has_geometry and frame.crs is not None and frame.crs.to_epsg() != 27700:
        table = AreaTable(frame.to_crs(WORK_CRS), table.schema)
    return table


def _read(obj, geography) -> AreaTable:
    from .. import io

    reader = getattr(io, "read_areas", None)
    if reader is not None:
        kwargs = {"geography": geography} if geography is not None else {}
        return as_table(reader(obj, **kwargs))
    if isinstance(obj, pd.DataFrame) and not isinstance(obj, gpd.GeoDataFrame):
        return from_frame(obj, geography=geography)
    if geography is not None and get_geography(geography).level != "ward":
        raise BoundaryError(f"reading {get_geography(geography).plural} needs gangmap.io.read_areas; pass an "
                            "AreaTable or a GeoDataFrame with canonical columns instead.")
    frame = io.read_wards(obj)
    source = str(obj) if isinstance(obj, (str, Path)) else None
    return from_frame(frame, geography="ward", sources=[source] if source else ())


def areas_source(table: AreaTable) -> str | None:
    """The file the areas came from, when known."""
    return table.schema.sources[0] if table.schema.sources else None


def identifier_columns(table: AreaTable) -> list[str]:
    """The identifier columns present in the table, in the geography's order, then the geometry."""
    cols = [c for c in table.geography.identifiers if c in table.frame.columns]
    return cols + (["geometry"] if table.has_geometry else [])
