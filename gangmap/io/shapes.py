"""Geometry checks on boundaries at read time: CRS, polygons only, repairs, overlaps.

Why at read time? Every later stage trusts the boundaries: a point layer given
as boundaries drew a blank map ("Bounds are not valid"), and two copies of an
area (two vintages in one file, a duplicated polygon under another code) sent
every report in the overlap to one copy, without a word. Here:

* the CRS must be known and match the coordinates (degrees labelled metres and
  the reverse are errors), and the areas must land in Great Britain once in
  EPSG:27700;
* every feature must be a polygon or multipolygon; points or lines are a
  :class:`~gangmap.errors.BoundaryError` naming the areas and the fix;
* invalid polygons (self-intersections) are repaired with
  ``shapely.make_valid`` (keeping only the polygonal parts), reported in a
  :class:`BoundaryWarning` and listed in ``schema.repaired``;
* two areas **overlap** when the area they share is more than 100 m² or more
  than 1% of the smaller of the two, whichever is less. Real ONS boundaries
  share edges only (measured: 0 m² over 7,681 English wards and 422
  Northamptonshire LSOAs), so anything above that tolerance is a broken
  layer: an error naming the pairs, unless ``allow_overlaps=True`` (then a
  warning, and each point in an overlap still goes to one area only).
"""

from __future__ import annotations

import warnings

import numpy as np
import shapely

from ..errors import BoundaryError, where
from ..geography import WORK_CRS

__all__ = ["BoundaryWarning", "to_work_crs", "polygons_only", "repair", "check_overlaps", "OVERLAP_M2",
           "OVERLAP_SHARE"]

#: Overlap tolerance: an overlap counts when larger than this many square metres ...
OVERLAP_M2 = 100.0
#: ... or than this share of the smaller area (whichever is less).
OVERLAP_SHARE = 0.01
# Great Britain and Northern Ireland in EPSG:27700, with a margin (metres).
_GB_BOUNDS = (-250_000, -50_000, 800_000, 1_300_000)


class BoundaryWarning(UserWarning):
    """Boundaries were usable but something was changed or is doubtful (e.g. geometry repaired)."""


def _codes_text(codes, limit: int = 10) -> str:
    codes = list(codes)
    return ", ".join(map(str, codes[:limit])) + (" ..." if len(codes) > limit else "")


def to_work_crs(gdf, crs, source: str | None, plural: str = "areas"):
    """``gdf`` in EPSG:27700; ``crs`` is assumed only when the file has none."""
    if gdf.crs is None:
        if crs is None:
            raise BoundaryError(f"{where(source)}the boundaries have no CRS. Pass crs=27700 (British National "
                                "Grid) or crs=4326 (longitude/latitude), whichever the coordinates are in.")
        gdf = gdf.set_crs(crs)
    minx, miny, maxx, maxy = gdf.total_bounds
    if gdf.crs.is_geographic and (abs(minx) > 180 or abs(maxx) > 180 or abs(miny) > 90 or abs(maxy) > 90):
        raise BoundaryError(f"{where(source)}the file says its CRS is {gdf.crs.to_string()} (degrees) but the "
                            f"coordinates go up to {maxx:,.0f}, {maxy:,.0f}: they look like metres (British "
                            "National Grid). Fix the file's CRS, or read it with crs=27700 after removing the "
                            "wrong one.")
    if not gdf.crs.is_geographic and max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90:
        raise BoundaryError(f"{where(source)}the CRS is {gdf.crs.to_string()} (metres) but every coordinate is "
                            "between -180 and 180: they look like longitude/latitude degrees. Set the CRS to "
                            "EPSG:4326 (crs=4326 when the file has none).")
    try:
        out = gdf.to_crs(WORK_CRS)
    except Exception as exc:
        raise BoundaryError(f"{where(source)}cannot convert from {gdf.crs} to {WORK_CRS}: {exc}") from None
    minx, miny, maxx, maxy = out.total_bounds
    gx0, gy0, gx1, gy1 = _GB_BOUNDS
    if not (gx0 <= minx and maxx <= gx1 and gy0 <= miny and maxy <= gy1):
        raise BoundaryError(f"{where(source)}after converting from {gdf.crs.to_string()} the {plural} lie outside "
                            "Great Britain: the CRS in the file is probably wrong (or longitude and latitude are "
                            "swapped). Check it (e.g. with `ogrinfo -so`) and fix it, or pass crs= when the file "
                            "has none.")
    return out


def polygons_only(geoms: np.ndarray, codes, source: str | None, label: str, plural: str) -> np.ndarray:
    """The geometries with collections reduced to their polygons; points or lines are an error."""
    types = shapely.get_type_id(geoms)
    collection = types == 7
    if collection.any():
        geoms = geoms.copy()
        geoms[collection] = [_polygonal(g) for g in geoms[collection]]
        types = shapely.get_type_id(geoms)
    bad = ~np.isin(types, (3, 6)) | shapely.is_empty(geoms)
    if bad.any():
        kinds = sorted({shapely.get_type_id(g) for g in geoms[bad]})
        names = ", ".join(_TYPE_NAMES.get(k, "other") for k in kinds)
        raise BoundaryError(f"{where(source)}{int(bad.sum())} of {len(geoms)} features are {names}, not polygons "
                            f"({label} {_codes_text(np.asarray(codes)[bad], 5)}): boundaries must be polygons. This "
                            f"looks like a file of points or lines; give the {plural}' boundary polygons.")
    return geoms


_TYPE_NAMES = {0: "points", 1: "lines", 2: "rings", 4: "points", 5: "lines", 7: "empty collections"}


def _polygonal(geom):
    """The polygonal part of ``geom`` (make_valid can leave stray lines and points)."""
    parts = shapely.get_parts(geom)
    polys = parts[shapely.get_type_id(parts) == 3]  # 3 = Polygon (multi-parts are split above)
    if len(polys) == 0:
        return geom
    return shapely.union_all(polys) if len(polys) != 1 else polys[0]


def repair(gdf, codes, source: str | None, label: str) -> list[str]:
    """Repair invalid geometries in place; return the codes repaired (and warn)."""
    invalid = ~gdf.geometry.is_valid.to_numpy()
    if not invalid.any():
        return []
    fixed = [_polygonal(g) for g in shapely.make_valid(gdf.geometry.values[invalid])]
    gdf.loc[invalid, "geometry"] = fixed
    repaired = [str(c) for c in np.asarray(codes)[invalid]]
    warnings.warn(f"{where(source)}repaired {len(repaired)} invalid {label} geometr"
                  f"{'y' if len(repaired) == 1 else 'ies'} with shapely.make_valid: {_codes_text(repaired)}",
                  BoundaryWarning, stacklevel=4)
    return repaired


def overlapping_pairs(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(i, j, shared area)`` for pairs (i < j) whose overlap exceeds the tolerance."""
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    inner = shapely.relate_pattern(geoms[i], geoms[j], "2********")
    i, j = i[inner], j[inner]
    shared = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    areas = shapely.area(geoms)
    smaller = np.minimum(areas[i], areas[j])
    over = shared > np.minimum(OVERLAP_M2, OVERLAP_SHARE * smaller)
    return i[over], j[over], shared[over]


def check_overlaps(geoms: np.ndarray, codes, source: str | None, plural: str, allow: bool = False) -> list[str]:
    """Raise (or warn, with ``allow``) when areas overlap beyond the tolerance; return the pairs as text."""
    i, j, shared = overlapping_pairs(geoms)
    if not len(i):
        return []
    codes = np.asarray(codes)
    areas = shapely.area(geoms)
    order = np.argsort(-shared)
    pairs = [f"{codes[i[k]]} and {codes[j[k]]} ({shared[k]:,.0f} m², "
             f"{shared[k] / min(areas[i[k]], areas[j[k]]):.0%} of the smaller)" for k in order]
    text = (f"{where(source)}{len(pairs)} pair(s) of {plural} overlap (share more than {OVERLAP_M2:g} m² or "
            f"{OVERLAP_SHARE:.0%} of the smaller): {'; '.join(pairs[:5])}{' ...' if len(pairs) > 5 else ''}")
    if not allow:
        raise BoundaryError(text + ". A report in an overlap would go to one of them only. Fix the layer (remove "
                            "duplicated areas, keep one vintage), or pass allow_overlaps=True to accept it.")
    warnings.warn(text + "; accepted (allow_overlaps=True): a point in an overlap goes to one area only.",
                  BoundaryWarning, stacklevel=4)
    return pairs
