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
from ..geography import GSS_RE, WORK_CRS, Geography, normalise_codes
from ..io.columns import code_column as io_code_column

__all__ = ["read_geo", "to_work", "code_column", "ons_example", "overlap_pairs", "largest_remainder"]


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


def code_column(columns: Iterable, given: str | None, geography: Geography, what: str,
                source: str | None = None, frame: pd.DataFrame | None = None, *, skip: Iterable = (),
                fix: str = "or pass its name") -> str:
    """The column holding the codes of ``geography`` in a lookup, a layer or a table of counts.

    ``given`` wins. Otherwise a name gangmap knows for those codes
    (:func:`gangmap.io.columns.code_column`: ``lsoa_code``, ONS
    ``LSOA21CD``/``WD23CD`` of any vintage, or a plainer ``LSOA code``,
    ``lsoa``, ``ward``); a plainer name is checked, when ``frame`` is given and
    the codes are GSS codes, against its values: a column called ``ward`` that
    holds names is no ward code column.
    Failing that, the one column of ``frame`` whose values are mostly codes of
    the geography (``E05…`` for wards). Columns in ``skip`` (one found
    already) are not candidates. Anything else is an
    :class:`~gangmap.errors.InputError` naming the file, the columns found and
    the fix (ending with ``fix``: how the caller can name the column).
    """
    shown = list(columns)
    cols = [c for c in shown if c not in set(skip)]
    if given is not None:
        if given not in shown:
            raise InputError(f"{where(source)}column {given!r} ({what}) not found; columns are: "
                             f"{', '.join(map(str, shown))}.")
        return given
    named = io_code_column(cols, geography)
    exact = named is not None and (named == geography.code or re.match(geography.ons_code, str(named), re.I))
    if named is not None and (exact or frame is None or not geography.gss
                              or _share_of_codes(frame[named], geography) > .5):
        return named
    by_values = [c for c in cols if frame is not None and geography.gss and c != named
                 and _share_of_codes(frame[c], geography) > .5]
    if len(by_values) == 1:
        return by_values[0]
    tail = f", {fix}." if fix else "."
    raise InputError(_no_code_column(shown, named, by_values, geography, what, source, frame) + tail)


def _share_of_codes(values: pd.Series, geography: Geography) -> float:
    """The share of non-blank values that are GSS codes of ``geography`` (its entity prefixes)."""
    if isinstance(values, pd.DataFrame):  # two columns of one name
        return 0.0
    v = normalise_codes(values.dropna().astype("string").head(1000))
    v = v[v != ""]
    if v.empty:
        return 0.0
    ok = v.str.match(GSS_RE.pattern)
    if geography.prefixes:
        ok &= v.str[:3].isin(geography.prefixes)
    return float(ok.fillna(False).mean())


def ons_example(geography: Geography) -> str:
    """An ONS column name for the codes of ``geography`` (``WD23CD``, ``LSOA21CD``), or its canonical name."""
    m = re.fullmatch(r"\^([a-z]+)\\d\{2\}cd\$", geography.ons_code)
    return f"{m.group(1).upper()}{23 if geography.level == 'ward' else 21}CD" if m else geography.code


def _no_code_column(cols, named, by_values, geography: Geography, what, source, frame) -> str:
    shown = ", ".join(str(c) for c in cols if c != "geometry") or "(none)"
    if named is not None:
        sample = ", ".join(repr(str(v)) for v in frame[named].dropna().astype(str).unique()[:3])
        why = (f"column {named!r} should hold {what}s ({'/'.join(geography.prefixes)}…) but holds e.g. "
               f"{sample}")
    elif by_values:
        why = f"no {what} column found by name, and several hold {what}s ({', '.join(map(str, by_values))})"
    else:
        why = f"no {what} column found"
    return (f"{where(source)}{why}; columns are: {shown}. Name the column of {what}s {geography.code!r} (or "
            f"{ons_example(geography)}, as ONS files do)")


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
