"""Ward boundaries: read any ONS vintage into canonical columns.

gangmap works in British National Grid (EPSG:27700) inside the package, so that
distances and areas are in metres, and converts to WGS84 (EPSG:4326) only when
drawing a map.

Examples
--------
>>> import gangmap
>>> wards = gangmap.read_wards(gangmap.demo.paths()["wards"])  # doctest: +SKIP
>>> list(wards.columns)  # doctest: +SKIP
['ward_code', 'ward_name', 'lad_code', 'lad_name', 'geometry']
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from ..errors import BoundaryError, where

#: CRS used for every computation inside gangmap (metres).
WORK_CRS = "EPSG:27700"
#: CRS used on web maps.
MAP_CRS = "EPSG:4326"
#: Canonical ward columns, in order.
WARD_COLUMNS = ["ward_code", "ward_name", "lad_code", "lad_name"]

#: GSS codes: a letter, two digits of entity type, six digits (E05 = English ward).
GSS_RE = re.compile(r"^[ENSWK]\d{8}$")
WARD_GSS_RE = re.compile(r"^(E05|W05|S13|N08)\d{6}$")

# ONS column names of any vintage: WD13CD ... WD25CD, LAD13CD, LAD24NM, ...
_PATTERNS = {
    "ward_code": re.compile(r"^wd\d{2}cd$", re.I),
    "ward_name": re.compile(r"^wd\d{2}nm$", re.I),
    "lad_code": re.compile(r"^(lad|lau1)\d{2}cd$", re.I),
    "lad_name": re.compile(r"^(lad|lau1)\d{2}nm$", re.I),
}
_FORMATS = ".geojson, .json, .gpkg, .shp, .zip (zipped Shapefile) or .geojson.gz"

# Great Britain and Northern Ireland in EPSG:27700, with a margin (metres).
_GB_BOUNDS = (-250_000, -50_000, 800_000, 1_300_000)


class BoundaryWarning(UserWarning):
    """Boundaries were usable but something was changed (e.g. geometry repaired)."""


def _detect(columns, role: str, given: str | None, source: str | None) -> str | None:
    if given is not None:
        if given not in columns:
            raise BoundaryError(
                f"{where(source)}column {given!r} given for {role} is not in the file; "
                f"columns are: {', '.join(map(str, columns))}."
            )
        return given
    if role in columns:
        return role
    hits = [c for c in columns if _PATTERNS[role].match(str(c))]
    if len(hits) > 1:
        # Several vintages in one file: prefer the newest (highest two digits).
        hits.sort(key=lambda c: re.sub(r"\D", "", str(c)), reverse=True)
    return hits[0] if hits else None


def _open(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise BoundaryError(f"{path}: file not found. Check the path, or fetch boundaries with "
                            "`gangmap boundaries fetch`.")
    name = path.name.lower()
    target = str(path)
    if name.endswith(".gz"):
        target = f"/vsigzip/{path}"
    elif name.endswith(".zip"):
        target = f"/vsizip/{path}"
    elif not name.endswith((".geojson", ".json", ".gpkg", ".shp")):
        raise BoundaryError(f"{path}: unsupported boundary format; use {_FORMATS}.")
    try:
        return gpd.read_file(target)
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
        msg = str(exc).split("\n")[0]
        raise BoundaryError(
            f"{path}: cannot read as boundaries ({msg}). Use {_FORMATS}."
        ) from None


def _repair(gdf: gpd.GeoDataFrame, source: str | None) -> list[str]:
    """Repair invalid geometries in place; return the ward codes repaired."""
    invalid = ~gdf.geometry.is_valid
    if not invalid.any():
        return []
    fixed = [_polygonal(g) for g in shapely.make_valid(gdf.geometry[invalid].values)]
    gdf.loc[invalid, "geometry"] = fixed
    codes = gdf.loc[invalid, "ward_code"].tolist()
    warnings.warn(
        f"{where(source)}repaired {len(codes)} invalid ward geometr"
        f"{'y' if len(codes) == 1 else 'ies'} with shapely.make_valid: {', '.join(codes[:10])}"
        f"{' ...' if len(codes) > 10 else ''}",
        BoundaryWarning,
        stacklevel=3,
    )
    return codes


def _polygonal(geom):
    """The polygonal part of ``geom`` (make_valid can leave stray lines and points)."""
    parts = shapely.get_parts(geom)
    polys = parts[shapely.get_type_id(parts) == 3]  # 3 = Polygon (multi-parts are split above)
    return shapely.union_all(polys) if len(polys) != 1 else polys[0]


def read_wards(
    path_or_gdf,
    *,
    ward_code: str | None = None,
    ward_name: str | None = None,
    lad_code: str | None = None,
    lad_name: str | None = None,
    crs=None,
) -> gpd.GeoDataFrame:
    """Read ward boundaries into canonical columns in EPSG:27700.

    Parameters
    ----------
    path_or_gdf : str, Path or GeoDataFrame
        GeoJSON (``.geojson``, ``.json``, optionally ``.gz``), GeoPackage,
        Shapefile, or a zipped Shapefile; or a GeoDataFrame already loaded.
    ward_code, ward_name, lad_code, lad_name : str, optional
        Column names to use. By default ONS columns of any vintage are
        detected (``WD13CD`` ... ``WD25CD``, ``WDxxNM``, ``LADxxCD``,
        ``LADxxNM``), or canonical names if already present.
    crs : optional
        CRS to assume when the file has none (for example ``27700``).

    Returns
    -------
    GeoDataFrame
        Columns ``ward_code``, ``ward_name``, ``lad_code``, ``lad_name`` and
        ``geometry`` in EPSG:27700, one row per ward. ``attrs["repaired"]``
        lists the codes of wards whose geometry was repaired (a
        :class:`BoundaryWarning` is also issued); ``attrs["source"]`` names
        the file.

    Raises
    ------
    BoundaryError
        No CRS, coordinates that do not match the CRS, missing code column,
        codes that are not GSS codes, duplicate codes or empty geometries.
        The message names the file, the column or codes, and the fix.

    Examples
    --------
    >>> import gangmap
    >>> wards = gangmap.read_wards(gangmap.demo.paths()["wards"])  # doctest: +SKIP
    >>> wards.crs.to_epsg()  # doctest: +SKIP
    27700
    """
    if isinstance(path_or_gdf, gpd.GeoDataFrame):
        gdf, source = path_or_gdf.copy(), path_or_gdf.attrs.get("source")
    elif isinstance(path_or_gdf, (str, Path)):
        source = str(path_or_gdf)
        gdf = _open(Path(path_or_gdf))
    else:
        raise BoundaryError(
            f"read_wards needs a file path or a GeoDataFrame, not {type(path_or_gdf).__name__}."
        )
    if len(gdf) == 0:
        raise BoundaryError(f"{where(source)}no wards in the file. Check it is the right layer/file.")

    cols = list(gdf.columns)
    found = {
        role: _detect(cols, role, given, source)
        for role, given in [("ward_code", ward_code), ("ward_name", ward_name),
                            ("lad_code", lad_code), ("lad_name", lad_name)]
    }
    if found["ward_code"] is None:
        raise BoundaryError(
            f"{where(source)}no ward code column found (looked for ward_code or WDxxCD, e.g. "
            f"WD24CD); columns are: {', '.join(c for c in cols if c != 'geometry')}. "
            "Pass ward_code='YOUR_COLUMN'."
        )

    out = gpd.GeoDataFrame(
        {role: (gdf[col].astype("string").str.strip() if col else pd.array([pd.NA] * len(gdf), dtype="string"))
         for role, col in found.items()},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    if found["ward_name"] is None:
        out["ward_name"] = out["ward_code"]
    if found["lad_name"] is None and found["lad_code"] is not None:
        out["lad_name"] = out["lad_code"]
    if found["lad_code"] is None:
        warnings.warn(
            f"{where(source)}no district column (LADxxCD) found: all wards are treated as one "
            "district. Pass lad_code='YOUR_COLUMN' to give districts.",
            BoundaryWarning,
            stacklevel=2,
        )
        out["lad_code"] = "(none)"
        out["lad_name"] = "(no district given)"

    # Codes: present, GSS, unique.
    code = out["ward_code"]
    blank = code.isna() | (code == "")
    if blank.any():
        rows = (blank[blank].index + 1).tolist()
        raise BoundaryError(f"{where(source)}blank ward code in row(s) {rows[:10]} of column "
                            f"{found['ward_code']!r}. Every ward needs a GSS code.")
    bad = ~code.str.match(GSS_RE.pattern)
    if bad.any():
        examples = code[bad].head(5).tolist()
        raise BoundaryError(
            f"{where(source)}{int(bad.sum())} value(s) in column {found['ward_code']!r} are not GSS "
            f"codes (9 characters like E05012345): {examples}. Pass ward_code= the column that "
            "holds the ONS codes."
        )
    dup = code.duplicated(keep=False)
    if dup.any():
        raise BoundaryError(
            f"{where(source)}duplicate ward codes: {sorted(set(code[dup]))[:10]}. Each ward must be "
            "one row: dissolve the parts first, e.g. gdf.dissolve('WD24CD').reset_index()."
        )
    empty = out.geometry.isna() | out.geometry.is_empty
    if empty.any():
        raise BoundaryError(
            f"{where(source)}empty geometry for ward(s) {code[empty].head(10).tolist()}. Remove "
            "those rows or download the boundaries again."
        )

    out = _to_work_crs(out, crs, source)
    repaired = _repair(out, source)
    out.attrs = {"source": source, "repaired": repaired,
                 "columns_used": {k: v for k, v in found.items() if v}}
    return out


def _to_work_crs(gdf: gpd.GeoDataFrame, crs, source: str | None) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        if crs is None:
            raise BoundaryError(
                f"{where(source)}the boundaries have no CRS. Pass crs=27700 (British National "
                "Grid) or crs=4326 (longitude/latitude), whichever the coordinates are in."
            )
        gdf = gdf.set_crs(crs)
    minx, miny, maxx, maxy = gdf.total_bounds
    if gdf.crs.is_geographic and (abs(minx) > 180 or abs(maxx) > 180 or abs(miny) > 90 or abs(maxy) > 90):
        raise BoundaryError(
            f"{where(source)}the file says its CRS is {gdf.crs.to_string()} (degrees) but the "
            f"coordinates go up to {maxx:,.0f}, {maxy:,.0f}: they look like metres (British "
            "National Grid). Fix the file's CRS, or read it with crs=27700 after removing the "
            "wrong one."
        )
    if not gdf.crs.is_geographic and max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90:
        raise BoundaryError(
            f"{where(source)}the CRS is {gdf.crs.to_string()} (metres) but every coordinate is "
            "between -180 and 180: they look like longitude/latitude degrees. Set the CRS to "
            "EPSG:4326 (crs=4326 when the file has none)."
        )
    try:
        out = gdf.to_crs(WORK_CRS)
    except Exception as exc:
        raise BoundaryError(f"{where(source)}cannot convert from {gdf.crs} to {WORK_CRS}: {exc}") from None
    minx, miny, maxx, maxy = out.total_bounds
    gx0, gy0, gx1, gy1 = _GB_BOUNDS
    if not (gx0 <= minx and maxx <= gx1 and gy0 <= miny and maxy <= gy1):
        raise BoundaryError(
            f"{where(source)}after converting from {gdf.crs.to_string()} the wards lie outside "
            "Great Britain: the CRS in the file is probably wrong. Check it (e.g. with "
            "`ogrinfo -so`) and fix it, or pass crs= when the file has none."
        )
    return out


def to_map_crs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4326 for web maps (the input is not changed)."""
    return gdf.to_crs(MAP_CRS)


def districts(wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve wards into district (``lad_code``) outlines.

    Examples
    --------
    >>> d = districts(wards)  # doctest: +SKIP
    """
    return wards.dissolve(by=["lad_code", "lad_name"], as_index=False)[["lad_code", "lad_name", "geometry"]]
