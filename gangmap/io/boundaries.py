"""Area boundaries of any geography, read into the canonical columns of an :class:`~gangmap.table.AreaTable`.

Why one reader for every geography? Police, councils and the ONS publish by
ward, LSOA, MSOA, output area and neighbourhood, in files whose columns carry
the vintage (``WD13CD``, ``LSOA11CD``, ``MSOA21NM``). :func:`read_areas`
finds those columns from the :class:`~gangmap.geography.Geography`
(``ons_code``/``ons_name``, the canonical names, or the names you give),
checks the codes (GSS codes with the geography's prefixes, e.g. ``E01``/``W01``
for LSOAs; any code when ``gss=False`` and always for neighbourhoods, areas
and custom layers) and returns ``code, name, parent_code, parent_name,
geometry`` in EPSG:27700 (metres), with the file in ``schema.sources`` and the
repaired areas in ``schema.repaired``. The geometry checks (CRS, polygons,
repairs, overlaps) are in :mod:`gangmap.io.shapes`.

Examples
--------
>>> import gangmap
>>> wards = gangmap.read_wards(gangmap.demo.paths()["wards"])
>>> wards.geography.label, list(wards.columns), wards.crs.to_epsg()
('ward', ['ward_code', 'ward_name', 'lad_code', 'lad_name', 'geometry'], 27700)
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import BoundaryError, ConfigError, where
from ..geography import GEOGRAPHIES, GSS_RE, MAP_CRS, WARD, WORK_CRS, Geography, entity_of, get_geography
from ..table import AreaTable, Schema
from .columns import code_column, find_column, name_column
from .shapes import BoundaryWarning, check_overlaps, polygons_only, repair, to_work_crs
from .text import clean_series

__all__ = ["read_areas", "read_wards", "districts", "to_map_crs", "BoundaryWarning", "WARD_COLUMNS", "GSS_RE",
           "WARD_GSS_RE", "WORK_CRS", "MAP_CRS", "FORMATS"]

#: Canonical ward columns, in order.
WARD_COLUMNS = list(WARD.identifiers)
#: A ward's GSS code (E05 England, W05 Wales, S13 Scotland, N08 Northern Ireland).
WARD_GSS_RE = re.compile(rf"^({'|'.join(WARD.prefixes)})\d{{6}}$")
#: Boundary file formats read.
FORMATS = ".geojson, .json, .gpkg, .shp, .zip (zipped Shapefile) or .geojson.gz"
_ROLES = ("code", "name", "parent_code", "parent_name")


def _open(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise BoundaryError(f"{path}: file not found. Check the path, or fetch boundaries with "
                            "`gangmap fetch boundaries`.")
    name = path.name.lower()
    target = str(path)
    if name.endswith(".gz"):
        target = f"/vsigzip/{path}"
    elif name.endswith(".zip"):
        target = f"/vsizip/{path}"
    elif not name.endswith((".geojson", ".json", ".gpkg", ".shp")):
        raise BoundaryError(f"{path}: unsupported boundary format; use {FORMATS}.")
    if name.endswith(".zip") and not zipfile.is_zipfile(path):
        raise BoundaryError(f"{path}: cannot read as boundaries: a damaged or incomplete zip archive (cut short "
                            f"while downloading or copying?). Download or copy it again; boundaries are {FORMATS}.")
    try:
        gdf = gpd.read_file(target)
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
        msg = str(exc).split("\n")[0]
        raise BoundaryError(f"{path}: cannot read as boundaries ({msg}). Use {FORMATS}.") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise BoundaryError(f"{path}: {_inside(path)} without geometry, not boundaries. Give the areas' "
                            f"boundary polygons: {FORMATS} (a zip holding the .shp, .shx, .dbf and .prj).")
    return gdf


def _inside(path: Path) -> str:
    """What a boundary file without geometry holds, for the message: the zip's members, or "a table"."""
    if path.name.lower().endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
        shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
        return f"the zip holds {shown or 'nothing'}: a table"
    return "a table"


def _load(obj, geo: Geography) -> tuple[gpd.GeoDataFrame, str | None]:
    if isinstance(obj, AreaTable):
        if not obj.has_geometry:
            raise BoundaryError(f"this {geo.label} table has no geometry; read the boundaries from a file.")
        return obj.frame.copy(), (obj.schema.sources[0] if obj.schema.sources else None)
    if isinstance(obj, gpd.GeoDataFrame):
        return obj.copy(), None
    if isinstance(obj, (str, Path)):
        return _open(Path(obj)), str(obj)
    raise BoundaryError(f"read_areas needs a file path or a GeoDataFrame, not {type(obj).__name__}.")


def _detect(cols, geo: Geography, given: dict, source: str | None, args: dict) -> dict:
    """The input column of each role (code, name, parent_code, parent_name), or None."""
    for role, col in given.items():
        if col is not None and col not in cols:
            raise BoundaryError(f"{where(source)}column {col!r} given for {args[role]} is not in the file; "
                                f"columns are: {', '.join(map(str, cols))}.")
    found = {
        "code": given["code"] or code_column(cols, geo),
        "name": given["name"] or name_column(cols, geo),
        "parent_code": given["parent_code"] or (geo.parent_code if geo.parent_code in cols else
                                                find_column(cols, "lad_code")),
        "parent_name": given["parent_name"] or (geo.parent_name if geo.parent_name in cols else
                                                find_column(cols, "lad_name")),
    }
    if found["code"] is None:
        example = re.sub(r"\\d\{2\}", "24", geo.ons_code.strip("^$")).upper() if geo.ons_code != "^$" else ""
        raise BoundaryError(f"{where(source)}no {geo.label} code column found (looked for {geo.code}"
                            f"{' or ' + example if example else ''}); columns are: "
                            f"{', '.join(str(c) for c in cols if c != 'geometry')}. "
                            f"Pass {args['code']}='YOUR_COLUMN'.")
    return found


def _check_codes(code: pd.Series, geo: Geography, column: str, source: str | None, args: dict) -> None:
    blank = code.isna().to_numpy()
    if blank.any():
        rows = (np.flatnonzero(blank) + 1).tolist()
        raise BoundaryError(f"{where(source)}blank {geo.label} code in row(s) {rows[:10]} of column {column!r}. "
                            f"Every {geo.label} needs a code.")
    bad = geo.bad_codes(code.tolist())
    if bad:
        entities = {entity_of(c) for c in bad}
        if len(entities) == 1 and None not in entities and "other" not in entities:
            kind = str(entities.pop())
            words = GEOGRAPHIES[kind].label if kind in GEOGRAPHIES else kind
            raise BoundaryError(f"{where(source)}{len(bad)} value(s) in column {column!r} are {words} codes, not "
                                f"{geo.label} codes ({geo.describe_codes()}): {bad[:5]}. Read them with "
                                f"level={kind!r} if they are, or pass gss=False to accept them as they are.")
        raise BoundaryError(f"{where(source)}{len(bad)} value(s) in column {column!r} are not GSS {geo.label} codes "
                            f"({geo.describe_codes()}): {bad[:5]}. Pass {args['code']}= the column that holds "
                            "the ONS codes, or gss=False for codes of your own.")
    dup = code.duplicated(keep=False)
    if dup.any():
        raise BoundaryError(f"{where(source)}duplicate {geo.label} codes: {sorted(set(code[dup]))[:10]}. Each "
                            f"{geo.label} must be one row: dissolve the parts first, e.g. "
                            f"gdf.dissolve({column!r}).reset_index().")


def _canonical(gdf, found: dict, geo: Geography, source: str | None) -> gpd.GeoDataFrame:
    """The four identifier columns (text, trimmed, NFC) and the geometry."""
    cols = dict(zip(_ROLES, geo.identifiers))
    data = {cols[role]: (clean_series(gdf[col]) if col else pd.array([pd.NA] * len(gdf), dtype="string"))
            for role, col in found.items()}
    out = gpd.GeoDataFrame(data, geometry=gdf.geometry.values, crs=gdf.crs)
    if found["name"] is None:
        out[geo.name] = out[geo.code]
    if found["parent_name"] is None and found["parent_code"] is not None:
        out[geo.parent_name] = out[geo.parent_code]
    if found["parent_code"] is None:
        warnings.warn(f"{where(source)}no {geo.parent_label} column (LADxxCD) found: all {geo.plural} are treated "
                      f"as one {geo.parent_label}. Pass parent_code='YOUR_COLUMN' to give "
                      f"{geo.parent_label}s.", BoundaryWarning, stacklevel=4)
        out[geo.parent_code] = "(none)"
        out[geo.parent_name] = f"(no {geo.parent_label} given)"
    return out


def read_areas(path_or_gdf, level: str | Geography = "ward", *, gss: bool | None = None, code: str | None = None,
               name: str | None = None, parent_code: str | None = None, parent_name: str | None = None,
               crs=None, allow_overlaps: bool = False, geography: str | Geography | None = None) -> AreaTable:
    """Read area boundaries of any geography into an :class:`~gangmap.table.AreaTable`.

    Parameters
    ----------
    path_or_gdf : str, Path, GeoDataFrame or AreaTable
        GeoJSON (``.geojson``, ``.json``, optionally ``.gz``), GeoPackage,
        Shapefile, or a zipped Shapefile; or a GeoDataFrame already loaded.
    level : str or Geography
        ``"ward"`` (default), ``"lsoa"``, ``"msoa"``, ``"oa"``,
        ``"neighbourhood"``, ``"area"``, or :func:`gangmap.geography.custom`.
    gss : bool, optional
        ``False`` accepts codes that are not GSS codes (neighbourhoods, areas
        and custom layers never need them).
    code, name, parent_code, parent_name : str, optional
        Column names to use. By default ONS columns of any vintage are
        detected (``WD13CD``, ``LSOA11CD``, ``MSOA21NM``, ``LADxxCD`` ...), or
        the canonical names if already present. Without a name column the
        code is the name.
    crs : optional
        CRS to assume when the file has none (for example ``27700``).
    allow_overlaps : bool
        Accept areas that overlap beyond the tolerance (a warning instead of an
        error; see :mod:`gangmap.io.shapes`).
    geography : str or Geography, optional
        The same as ``level``, by the name the readers and the join use.

    Returns
    -------
    AreaTable
        The geography's code, name, parent code and parent name columns and
        ``geometry`` in EPSG:27700, one row per area; ``schema.sources`` names
        the file, ``schema.repaired`` lists areas whose geometry was repaired
        (a :class:`BoundaryWarning` is also issued), and ``schema.notes``
        records, for each identifier, the column it was read from.

    Raises
    ------
    BoundaryError
        No CRS, coordinates that do not match the CRS, points or lines instead
        of polygons, overlapping areas, a missing code column, codes that do
        not fit the geography, duplicate codes or empty geometries. The message
        names the file, the column or codes, and the fix.
    """
    if geography is not None:
        if level not in ("ward", geography) and get_geography(level) != get_geography(geography):
            raise ConfigError(f"read_areas got level={level!r} and geography={geography!r}; give one of them.")
        level = geography
    columns = {"code": code, "name": name, "parent_code": parent_code, "parent_name": parent_name}
    return _read(path_or_gdf, get_geography(level, gss=gss), columns, crs, allow_overlaps,
                 {role: role for role in _ROLES})


def _read(path_or_gdf, geo: Geography, columns: dict, crs, allow_overlaps: bool, args: dict) -> AreaTable:
    """:func:`read_areas`; ``args`` names the column arguments in messages (``ward_code`` for read_wards)."""
    gdf, source = _load(path_or_gdf, geo)
    if len(gdf) == 0:
        raise BoundaryError(f"{where(source)}no {geo.plural} in the file. Check it is the right layer/file.")
    found = _detect(list(gdf.columns), geo, columns, source, args)
    out = _canonical(gdf, found, geo, source)
    codes = out[geo.code]
    _check_codes(codes, geo, found["code"], source, args)
    if geo.gss:
        out[geo.code] = codes = codes.str.upper()
    empty = (out.geometry.isna() | out.geometry.is_empty).to_numpy()
    if empty.any():
        raise BoundaryError(f"{where(source)}empty geometry for {geo.label}(s) {codes[empty].head(10).tolist()}. "
                            "Remove those rows or download the boundaries again.")
    out.geometry = polygons_only(out.geometry.values.to_numpy(), codes, source, geo.label, geo.plural)
    out = to_work_crs(out, crs, source, geo.plural)
    repaired = repair(out, codes, source, geo.label)
    overlaps = check_overlaps(out.geometry.values.to_numpy(), codes, source, geo.plural, allow_overlaps)
    notes: dict[str, dict] = {ident: {"read_from": str(col)}
                              for ident, col in zip(geo.identifiers, found.values()) if col}
    if overlaps:
        notes["geometry"] = {"overlaps": tuple(overlaps)}
    schema = Schema(geography=geo, sources=(source,) if source else (), repaired=tuple(repaired), notes=notes)
    return AreaTable(out.reset_index(drop=True), schema)


def read_wards(path_or_gdf, *, ward_code: str | None = None, ward_name: str | None = None,
               lad_code: str | None = None, lad_name: str | None = None, crs=None, gss: bool | None = None,
               allow_overlaps: bool = False) -> AreaTable:
    """Read ward boundaries: :func:`read_areas` with ``level="ward"``.

    ``ward_code``, ``ward_name``, ``lad_code`` and ``lad_name`` name the
    columns when they are not detected (ONS ``WD13CD`` ... ``WD25CD``,
    ``WDxxNM``, ``LADxxCD``, ``LADxxNM`` are).

    Examples
    --------
    >>> import gangmap
    >>> wards = gangmap.read_wards(gangmap.demo.paths()["wards"])
    >>> wards.schema.notes["ward_code"]["read_from"], wards.schema.repaired
    ('ward_code', ())
    """
    columns = {"code": ward_code, "name": ward_name, "parent_code": lad_code, "parent_name": lad_name}
    return _read(path_or_gdf, get_geography("ward", gss=gss), columns, crs, allow_overlaps,
                 dict(zip(_ROLES, WARD.identifiers)))


def _frame(areas) -> tuple[gpd.GeoDataFrame, Geography]:
    if isinstance(areas, AreaTable):
        return areas.frame, areas.geography
    return areas, WARD


def to_map_crs(areas) -> gpd.GeoDataFrame:
    """The areas (an AreaTable or GeoDataFrame) as a GeoDataFrame in EPSG:4326 for web maps."""
    return _frame(areas)[0].to_crs(MAP_CRS)


def districts(areas) -> gpd.GeoDataFrame:
    """Dissolve areas into their parent (district) outlines: parent code, parent name, geometry."""
    frame, geo = _frame(areas)
    keys = [geo.parent_code, geo.parent_name]
    return frame.dissolve(by=keys, as_index=False)[[*keys, "geometry"]]
