"""Small geometry and column helpers shared by the joining modules.

They live here, public, so that the placing, bridging and interpolation
modules share one implementation each (reading a layer, converting it to
EPSG:27700, finding a code column, measuring overlaps, rounding shares to whole
counts) without importing each other's private names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InputError, where
from ..geography import WORK_CRS

__all__ = ["read_geo", "to_work", "code_column", "overlap_pairs", "largest_remainder", "squash"]


def squash(name) -> str:
    """A column name without case, spaces, underscores or hyphens (``"LSOA code"`` -> ``"lsoacode"``)."""
    return re.sub(r"[\s_\-]", "", str(name)).lower()


def read_geo(obj, what: str) -> tuple[gpd.GeoDataFrame, str | None]:
    """A polygon layer from a path or a frame, and its source (the path, or None)."""
    if isinstance(obj, (str, Path)):
        path = Path(obj)
        if not path.exists():
            raise InputError(f"{path}: file not found ({what}). Check the path.")
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises several types
            raise InputError(f"{path}: cannot read {what} ({str(exc).splitlines()[0]}). Use GeoJSON, "
                             "GeoPackage or Shapefile.") from None
        return gdf, str(path)
    return obj, None


def to_work(gdf, what: str, source: str | None = None) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:27700 with invalid geometries repaired (a copy)."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{where(source)}{what} must be a GeoDataFrame (read it with geopandas.read_file), "
                         f"not {type(gdf).__name__}.")
    if gdf.crs is None:
        raise InputError(f"{where(source)}{what} have no CRS; set it first, e.g. "
                         "gdf.set_crs(27700) or gdf.set_crs(4326).")
    out = gdf.to_crs(WORK_CRS) if gdf.crs.to_epsg() != 27700 else gdf.copy()
    geoms = out.geometry.values
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        out.loc[bad, out.geometry.name] = shapely.make_valid(geoms[bad])
    return out


def code_column(columns: Iterable, given: str | None, pattern: str, aliases: Iterable[str], what: str,
                source: str | None = None) -> str:
    """The column holding ``what``: ``given``, a known alias, or the newest ONS-style name matching ``pattern``."""
    cols = list(columns)
    if given is not None:
        if given not in cols:
            raise InputError(f"{where(source)}column {given!r} ({what}) not found; columns are: "
                             f"{', '.join(map(str, cols))}.")
        return given
    norm = {squash(c): c for c in cols}
    for a in aliases:
        if a in cols:
            return a
        if squash(a) in norm:
            return norm[squash(a)]
    hits = sorted((c for c in cols if re.match(pattern, str(c), re.I)),
                  key=lambda c: re.sub(r"\D", "", str(c)), reverse=True)
    if hits:
        return hits[0]
    raise InputError(f"{where(source)}no {what} column found; columns are: "
                     f"{', '.join(str(c) for c in cols if c != 'geometry')}. Pass its name.")


def overlap_pairs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> pd.DataFrame:
    """Positional pairs (i in a, j in b) whose geometries overlap, with the overlap area (m²)."""
    ia, jb = b.sindex.query(a.geometry.values, predicate="intersects")
    if len(ia) == 0:
        return pd.DataFrame({"i": np.array([], int), "j": np.array([], int), "area": np.array([], float)})
    area = shapely.area(shapely.intersection(a.geometry.values[ia], b.geometry.values[jb]))
    keep = area > 0
    return pd.DataFrame({"i": ia[keep], "j": jb[keep], "area": area[keep]})


def largest_remainder(values) -> np.ndarray:
    """Round non-negative values to integers keeping their (rounded) sum.

    >>> largest_remainder([0.5, 0.5, 1.0]).tolist()
    [1, 0, 1]
    """
    values = np.asarray(values, dtype="float64")
    floor = np.floor(values + 1e-9)
    short = int(round(values.sum() - floor.sum()))
    if short > 0:
        order = np.argsort(-(values - floor), kind="stable")
        floor[order[:short]] += 1
    return floor.astype("int64")
