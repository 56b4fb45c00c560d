"""Bridges between geographies: LSOAs to wards, old wards to new wards.

Counts often arrive on another geography than the ward boundaries in use:
police.uk rows carry an LSOA code, a partner sends counts by 2013 wards while
the map uses 2024 wards. This module

* recognises what unmatched codes look like (:func:`detect_vintage`), so a
  JoinReport can say "41 of 52 codes look like LSOA 2011 codes" instead of
  just "unmatched";
* builds an LSOA-to-ward lookup (:func:`lsoa_to_ward`) by representative
  point, by area, by population, or from an ONS lookup table, and reports how
  badly LSOAs straddle wards (:class:`BridgeReport`);
* moves counts through such a lookup conserving totals (:func:`apply_bridge`);
* moves counts between any two sets of polygons by area
  (:func:`interpolate_counts`), for boundary changes.

All areas are measured in EPSG:27700 (British National Grid, metres).

Examples
--------
>>> from gangmap.joining import bridge
>>> bridge.detect_vintage(["E01026949", "E01026950", "E05005926"]).message  # doctest: +ELLIPSIS
'2 of 3 codes look like LSOA 2011 codes (E01...); ...'
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import ConfigError, InputError, where
from ..io.boundaries import WARD_COLUMNS, WORK_CRS, read_wards

__all__ = ["VintageGuess", "detect_vintage", "BridgeReport", "lsoa_to_ward", "apply_bridge",
           "interpolate_counts", "BridgeWarning"]

GSS_RE = re.compile(r"^[ENSWK]\d{8}$")

#: Highest LSOA / MSOA / OA codes of the 2011 census geography; higher codes were issued for 2021.
LAST_2011 = {"E01": 33768, "W01": 1958, "E02": 6934, "W02": 423}
_WARD_PREFIXES = ("E05", "W05", "S13", "N08")


class BridgeWarning(UserWarning):
    """Counts were moved between geographies but some could not be placed."""


# ----------------------------------------------------------------------------- detect_vintage

# kind -> (label, advice)
_KINDS = {
    "lsoa11": ("LSOA 2011 codes (E01...)",
               "bridge them to wards with LSOA 2011 boundaries (gangmap.bridge.lsoa_to_ward) or an ONS "
               "LSOA-to-ward lookup"),
    "lsoa21": ("LSOA 2021 codes (E01...)",
               "bridge them to wards with LSOA 2021 boundaries (gangmap.bridge.lsoa_to_ward) or an ONS "
               "LSOA-to-ward lookup"),
    "datazone": ("Scottish data zone codes (S01...)",
                 "bridge them to wards with data zone boundaries (gangmap.bridge.lsoa_to_ward)"),
    "msoa11": ("MSOA 2011 codes (E02...)",
               "MSOAs are larger than wards: spread them with gangmap.bridge.interpolate_counts and MSOA "
               "boundaries, or map at MSOA level"),
    "msoa21": ("MSOA 2021 codes (E02...)",
               "MSOAs are larger than wards: spread them with gangmap.bridge.interpolate_counts and MSOA "
               "boundaries, or map at MSOA level"),
    "oa": ("output area codes (E00...)",
           "aggregate them to wards with an ONS output-area-to-ward lookup"),
    "ward": ("ward codes from another vintage (e.g. 2013-era)",
             "use the boundaries of that year (gangmap boundaries fetch --year YYYY) or move the counts "
             "onto these wards with gangmap.bridge.interpolate_counts"),
    "district": ("district or unitary authority codes (E06/E07/E08/E09)",
                 "these counts are per district, not per ward, so they cannot be placed on wards; ask "
                 "for ward-level (or LSOA-level) counts"),
    "county": ("county codes (E10)",
               "these counts are per county, far coarser than wards; ask for ward-level counts"),
    "region": ("region or country codes (E12/E92)",
               "these counts are per region or country; ask for ward-level counts"),
    "constituency": ("Westminster constituency codes (E14)",
                     "constituencies are not made of wards exactly; spread them with "
                     "gangmap.bridge.interpolate_counts and constituency boundaries"),
    "police": ("police force area codes (E23)",
               "these counts are per police force area; ask for ward-level or LSOA-level counts"),
    "parish": ("civil parish codes (E04)",
               "aggregate them with an ONS parish-to-ward lookup, or interpolate with parish boundaries"),
    "other_gss": ("other GSS codes", "check which geography the codes belong to"),
    "not_gss": ("not GSS codes",
                "GSS codes are a letter and 8 digits such as E05012345; if these are ward names, give "
                "them as names (ward_name=)"),
}
_PREFIX_KIND = {
    "E01": "lsoa", "W01": "lsoa", "S01": "datazone", "E02": "msoa", "W02": "msoa", "E00": "oa",
    "W00": "oa", "E05": "ward", "W05": "ward", "S13": "ward", "N08": "ward",
    "E06": "district", "E07": "district", "E08": "district", "E09": "district", "W06": "district",
    "S12": "district", "N09": "district", "E10": "county", "E11": "county", "E12": "region",
    "E92": "region", "W92": "region", "S92": "region", "N92": "region", "K02": "region", "K03": "region",
    "K04": "region", "E14": "constituency", "W07": "constituency", "S14": "constituency",
    "N06": "constituency", "E23": "police", "W15": "police", "E04": "parish", "W04": "parish",
}


@dataclass
class VintageGuess:
    """What a set of unmatched codes looks like.

    Attributes
    ----------
    kind : str
        ``lsoa11``, ``lsoa21``, ``datazone``, ``msoa11``, ``msoa21``, ``oa``, ``ward``,
        ``district``, ``county``, ``region``, ``constituency``, ``police``, ``parish``,
        ``other_gss`` or ``not_gss``: the most common kind.
    label : str
        Human description of that kind.
    count : int
        Distinct codes of that kind.
    total : int
        Distinct codes looked at.
    examples : list of str
        Up to three codes of that kind.
    breakdown : dict
        ``{kind: distinct codes}`` for every kind found.
    message : str
        One line for the JoinReport notes.
    """

    kind: str
    label: str
    count: int
    total: int
    examples: list[str]
    breakdown: dict[str, int]
    message: str

    def __str__(self) -> str:
        return self.message


def _classify(code: str) -> str:
    if not GSS_RE.match(code):
        return "not_gss"
    # "lsoa"/"msoa" get their census year (11 or 21) for the whole group in detect_vintage.
    return _PREFIX_KIND.get(code[:3], "other_gss")


def detect_vintage(codes, wards=None) -> VintageGuess | None:
    """Work out what codes that matched no ward look like.

    Each distinct code is classified by its GSS prefix: ``E01``/``W01`` LSOA
    (2011, or 2021 when any code is above the last 2011 code E01033768 /
    W01001958), ``E02``/``W02`` MSOA, ``E00`` output area, ``E05``/``W05``/
    ``S13``/``N08`` ward codes not in ``wards`` (another vintage),
    ``E06``/``E07``/``E08``/``E09`` district or unitary authority, ``E10``
    county, ``E14`` constituency, ``E23`` police force area, and so on.

    Parameters
    ----------
    codes : iterable of str
        The unmatched codes (duplicates are counted once; blanks ignored).
    wards : GeoDataFrame, optional
        The boundaries used (canonical, from :func:`gangmap.read_wards`). Ward
        codes found in them are not counted; their vintage (``WD24CD`` ...)
        and code range help describe the others.

    Returns
    -------
    VintageGuess or None
        None when there is nothing to explain (no codes, or all of them are
        wards of ``wards``). ``.message`` is one line, for example
        ``"41 of 52 codes look like LSOA 2011 codes (E01...); bridge them ..."``.

    Examples
    --------
    >>> g = detect_vintage(["E01026949", "E01026950", "E07000154", "E01026949"])
    >>> g.kind, g.count, g.total
    ('lsoa11', 2, 3)
    >>> print(g.message)  # doctest: +NORMALIZE_WHITESPACE
    2 of 3 codes look like LSOA 2011 codes (E01...); bridge them to wards with LSOA 2011 boundaries
    (gangmap.bridge.lsoa_to_ward) or an ONS LSOA-to-ward lookup (also 1 district or unitary
    authority codes (E06/E07/E08/E09))
    >>> detect_vintage([]) is None
    True
    """
    if codes is None:
        return None
    values = pd.Series(list(codes), dtype="object").dropna().astype(str).str.strip().str.upper()
    values = values[values != ""].drop_duplicates()
    known: set[str] = set()
    if wards is not None and "ward_code" in getattr(wards, "columns", []):
        known = set(wards["ward_code"].astype(str).str.upper())
        values = values[~values.isin(known)]
    if values.empty:
        return None
    kinds = values.map(_classify)
    # Census year of LSOA / MSOA / OA groups: 2021 if any code was issued after 2011.
    for kind in ("lsoa", "msoa"):
        sel = kinds == kind
        if sel.any():
            newer = any(int(c[3:]) > LAST_2011.get(c[:3], 10**9) for c in values[sel])
            kinds[sel] = kind + ("21" if newer else "11")
    counts = kinds.value_counts()
    # Prefer a recognised kind over "not_gss"/"other_gss" only on a tie.
    order = sorted(counts.index, key=lambda k: (-counts[k], k in ("not_gss", "other_gss"), k))
    top = order[0]
    label, advice = _KINDS[top]
    examples = values[kinds == top].head(3).tolist()
    total = len(values)
    if top == "ward":
        label = _ward_label(values[kinds == top], wards, known)
    elif top == "not_gss":
        advice = f"e.g. {', '.join(repr(e) for e in examples[:2])}: " + advice
    msg = f"{counts[top]} of {total} codes look like {label}; {advice}"
    others = [f"{counts[k]} {_KINDS[k][0] if k != 'ward' else 'ward codes of another vintage'}"
              for k in order[1:]]
    if others:
        msg += " (also " + ", ".join(others[:3]) + (", ..." if len(others) > 3 else "") + ")"
    return VintageGuess(kind=top, label=label, count=int(counts[top]), total=total, examples=examples,
                        breakdown={k: int(v) for k, v in counts.items()}, message=msg)


def _ward_label(codes: pd.Series, wards, known: set[str]) -> str:
    """Describe ward codes that are not in the boundaries: older or newer, if it can be told."""
    if wards is None or not known:
        return _KINDS["ward"][0]
    used = (getattr(wards, "attrs", {}) or {}).get("columns_used", {}).get("ward_code")
    this = f" than these {used} boundaries" if used and re.match(r"(?i)^wd\d\dcd$", str(used)) else \
        " than these boundaries"
    nums_here = [int(c[3:]) for c in known if GSS_RE.match(c)]
    nums = [int(c[3:]) for c in codes]
    if nums_here and max(nums) < max(nums_here):
        return f"ward codes from an older vintage{this} (e.g. 2013-era)"
    if nums_here and min(nums) > max(nums_here):
        return f"ward codes from a newer vintage{this}"
    return _KINDS["ward"][0]


# ----------------------------------------------------------------------------- helpers

def _to_work(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame (read it with geopandas.read_file), not "
                         f"{type(gdf).__name__}.")
    source = gdf.attrs.get("source")
    if gdf.crs is None:
        raise InputError(f"{where(source)}{what} have no CRS; set it first, e.g. "
                         "gdf.set_crs(27700) or gdf.set_crs(4326).")
    out = gdf.to_crs(WORK_CRS) if gdf.crs.to_epsg() != 27700 else gdf.copy()
    geoms = out.geometry.values
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        fixed = shapely.make_valid(geoms[bad])
        out.loc[bad, out.geometry.name] = fixed
    return out


def _read_geo(obj, what: str) -> gpd.GeoDataFrame:
    if isinstance(obj, (str, Path)):
        path = Path(obj)
        if not path.exists():
            raise InputError(f"{path}: file not found ({what}). Check the path.")
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises several types
            raise InputError(f"{path}: cannot read {what} ({str(exc).splitlines()[0]}). Use GeoJSON, "
                             "GeoPackage or Shapefile.") from None
        gdf.attrs["source"] = str(path)
        return gdf
    return obj


def _code_column(columns, given: str | None, pattern: str, aliases, what: str, source=None) -> str:
    cols = list(columns)
    if given is not None:
        if given not in cols:
            raise InputError(f"{where(source)}column {given!r} ({what}) not found; columns are: "
                             f"{', '.join(map(str, cols))}.")
        return given
    norm = {re.sub(r"[\s_\-]", "", str(c)).lower(): c for c in cols}
    for a in aliases:
        if a in cols:
            return a
        if re.sub(r"[\s_\-]", "", a).lower() in norm:
            return norm[re.sub(r"[\s_\-]", "", a).lower()]
    hits = sorted((c for c in cols if re.match(pattern, str(c), re.I)),
                  key=lambda c: re.sub(r"\D", "", str(c)), reverse=True)
    if hits:
        return hits[0]
    raise InputError(f"{where(source)}no {what} column found; columns are: "
                     f"{', '.join(str(c) for c in cols if c != 'geometry')}. Pass its name.")


_LSOA_PATTERN = r"^lsoa\d{2}cd$"
_LSOA_ALIASES = ["lsoa_code", "LSOA code", "lsoacode"]
_WARD_PATTERN = r"^wd\d{2}cd$"
_WARD_ALIASES = ["ward_code", "ward code"]


def _pairs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> pd.DataFrame:
    """Positional pairs (i in a, j in b) whose geometries overlap, with the overlap area (m²)."""
    ia, jb = b.sindex.query(a.geometry.values, predicate="intersects")
    if len(ia) == 0:
        return pd.DataFrame({"i": np.array([], int), "j": np.array([], int), "area": np.array([], float)})
    inter = shapely.intersection(a.geometry.values[ia], b.geometry.values[jb])
    area = shapely.area(inter)
    keep = area > 0
    return pd.DataFrame({"i": ia[keep], "j": jb[keep], "area": area[keep]})


def _largest_remainder(values: np.ndarray) -> np.ndarray:
    """Round non-negative values to integers keeping their (rounded) sum."""
    values = np.asarray(values, dtype="float64")
    floor = np.floor(values + 1e-9)
    short = int(round(values.sum() - floor.sum()))
    if short > 0:
        order = np.argsort(-(values - floor), kind="stable")
        floor[order[:short]] += 1
    return floor.astype("int64")


# ----------------------------------------------------------------------------- LSOA -> ward

@dataclass
class BridgeReport:
    """How LSOAs were bridged to wards, and how well they fit.

    Attributes
    ----------
    method : str
        ``centroid``, ``area``, ``population`` or ``lookup``.
    lsoas : int
        LSOAs given.
    assigned : int
        LSOAs in the lookup (given a ward).
    unassigned : list of str
        LSOAs not placed in any ward (their point or area is outside every ward,
        or the lookup has no row for them).
    split : int
        LSOAs spread over more than one ward (weights below 1).
    fit : DataFrame
        Per LSOA with geometry: ``lsoa_code``, ``ward_code`` (the ward with the
        largest weight) and ``share_outside``: the share of the LSOA's area
        outside that ward (0 = nests exactly).
    tolerance : float
        Share outside above which an LSOA counts as straddling.
    unknown_wards : list of str
        Ward codes of a lookup table that are not in the boundaries.
    notes : list of str
        Anything else worth knowing (fallbacks, missing population).
    """

    method: str
    lsoas: int
    assigned: int
    unassigned: list[str] = field(default_factory=list)
    split: int = 0
    fit: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["lsoa_code", "ward_code", "share_outside"]))
    tolerance: float = 0.01
    unknown_wards: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def straddling(self) -> int:
        """LSOAs with more than ``tolerance`` of their area outside their assigned ward."""
        return int((self.fit["share_outside"] > self.tolerance).sum()) if len(self.fit) else 0

    @property
    def over_10pct(self) -> int:
        """LSOAs with more than 10% of their area outside their assigned ward."""
        return int((self.fit["share_outside"] > 0.10).sum()) if len(self.fit) else 0

    @property
    def median_outside(self) -> float:
        """Median share of LSOA area outside the assigned ward (NaN without geometry)."""
        return float(self.fit["share_outside"].median()) if len(self.fit) else float("nan")

    @property
    def max_outside(self) -> float:
        """Largest share of an LSOA's area outside its assigned ward."""
        return float(self.fit["share_outside"].max()) if len(self.fit) else float("nan")

    def summary(self) -> str:
        """A few plain lines for the console or a notebook."""
        lines = [f"LSOA -> ward bridge by {self.method}: {self.lsoas:,} LSOAs, {self.assigned:,} "
                 f"assigned, {len(self.unassigned):,} unassigned"
                 + (f" ({', '.join(self.unassigned[:5])}{' ...' if len(self.unassigned) > 5 else ''})"
                    if self.unassigned else "")]
        if self.split:
            lines.append(f"  {self.split:,} LSOAs split between wards")
        if len(self.fit):
            lines.append(f"  straddling (> {self.tolerance:.0%} of area outside the assigned ward): "
                         f"{self.straddling:,}; > 10%: {self.over_10pct:,}; share outside median "
                         f"{self.median_outside:.1%}, max {self.max_outside:.1%}")
        if self.unknown_wards:
            lines.append(f"  {len(self.unknown_wards)} lookup ward codes are not in the boundaries: "
                         f"{', '.join(self.unknown_wards[:5])}{' ...' if len(self.unknown_wards) > 5 else ''}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:  # notebooks
        import html
        return f"<pre>{html.escape(self.summary())}</pre>"


def _as_wards(wards) -> gpd.GeoDataFrame:
    if isinstance(wards, gpd.GeoDataFrame) and all(c in wards for c in WARD_COLUMNS) \
            and wards.crs is not None and wards.crs.to_epsg() == 27700:
        return wards
    return read_wards(wards)


def _population_points(population, lsoas: gpd.GeoDataFrame, lsoa_col: str,
                       population_column: str | None) -> gpd.GeoDataFrame:
    """Population points with ``pop`` and ``lsoa_code`` (by code column or by location)."""
    population = _read_geo(population, "population points")
    source = getattr(population, "attrs", {}).get("source")
    if not isinstance(population, gpd.GeoDataFrame):
        raise ConfigError(
            f"{where(source)}method='population' needs population *inside* each LSOA: a GeoDataFrame of "
            "points or small areas with a population column (for example output-area "
            "population-weighted centroids with Census counts, or address points). A single "
            "population figure per LSOA cannot say how an LSOA divides between wards; use "
            "method='area' (even spread) or method='centroid' instead.")
    pts = _to_work(population, "population points")
    if population_column is None:
        cand = [c for c in pts.columns if re.sub(r"[\s_\-]", "", str(c)).lower()
                in ("population", "pop", "count", "persons", "people", "value", "n", "usualresidents")]
        population_column = cand[0] if cand else None
    if population_column is not None and population_column not in pts:
        raise InputError(f"{where(source)}population column {population_column!r} not found; columns "
                         f"are: {', '.join(map(str, pts.columns))}.")
    pop = (pd.to_numeric(pts[population_column], errors="coerce").fillna(0).clip(lower=0)
           if population_column else pd.Series(1.0, index=pts.index))
    geoms = pts.geometry.values
    poly = shapely.get_type_id(geoms) >= 3
    geoms = np.where(poly, shapely.point_on_surface(geoms), geoms)
    out = gpd.GeoDataFrame({"pop": pop.to_numpy(dtype="float64")}, geometry=geoms, crs=WORK_CRS)
    try:
        col = _code_column(pts.columns, None, _LSOA_PATTERN, _LSOA_ALIASES, "LSOA code")
        out["lsoa_code"] = pts[col].astype("string").str.strip().str.upper().to_numpy()
    except InputError:
        hit = gpd.sjoin(out, lsoas[[lsoa_col, "geometry"]], how="left", predicate="within")
        hit = hit[~hit.index.duplicated(keep="first")]
        out["lsoa_code"] = hit[lsoa_col].astype("string").to_numpy()
    return out


def lsoa_to_ward(lsoas_gdf, wards_gdf, *, method: str = "centroid", population=None, lookup=None,
                 lsoa_code: str | None = None, population_column: str | None = None,
                 tolerance: float = 0.01) -> tuple[pd.DataFrame, BridgeReport]:
    """Build an LSOA-to-ward lookup and report how well LSOAs fit in wards.

    Methods
    -------
    ``centroid`` (default)
        Each LSOA goes wholly (weight 1) to the ward containing its
        representative point (``representative_point()``, always inside the
        LSOA). The ONS "best fit" idea, without population data.
    ``area``
        Each LSOA is split between the wards it overlaps in proportion to the
        overlapping area (people assumed spread evenly over the LSOA). Pieces
        smaller than ``tolerance`` of the LSOA's area are slivers between
        differently generalised boundaries and are dropped.
    ``population``
        Each LSOA is split in proportion to the population inside it that falls
        in each ward. ``population`` must locate people *within* LSOAs: a
        GeoDataFrame of points (output-area population-weighted centroids,
        address points) or small polygons (output areas; their representative
        points are used), with a population column (``population_column``, or
        one named population/pop/count/persons...; without one every point
        weighs 1). Points are given to LSOAs by an LSOA code column when they
        have one, otherwise by location. LSOAs with no population fall back to
        the centroid rule (noted in the report). A single figure per LSOA
        cannot split an LSOA and is refused with a ConfigError.
    ``lookup`` (when ``lookup=`` is given)
        An ONS lookup table (CSV path or DataFrame) with an LSOA code column
        (``LSOA11CD``, ``LSOA21CD``, ``lsoa_code``) and a ward code column
        (``WD13CD`` ... ``WD24CD``, ``ward_code``), and optionally ``weight``.
        ONS best-fit lookups have one row per LSOA (weight 1).

    Parameters
    ----------
    lsoas_gdf : GeoDataFrame, path or None
        LSOA boundaries with an LSOA code column (``LSOA11CD``/``LSOA21CD``/
        ``lsoa_code`` or ``lsoa_code=``). May be None with ``lookup=`` (no
        area report then).
    wards_gdf : GeoDataFrame or path
        Ward boundaries (anything :func:`gangmap.read_wards` reads).
    method : {"centroid", "area", "population"}
        See above; ignored when ``lookup`` is given.
    population : GeoDataFrame or path, optional
        Population points or small areas, for ``method="population"``.
    lookup : DataFrame or path, optional
        An LSOA-to-ward lookup table to use instead of geometry.
    lsoa_code, population_column : str, optional
        Column names, when not detected.
    tolerance : float
        Share of an LSOA's area outside its ward above which it counts as
        straddling (default 1%, which ignores slivers from generalised
        boundaries).

    Returns
    -------
    lookup : DataFrame
        ``lsoa_code``, ``ward_code``, ``weight`` (the weights of each LSOA sum
        to 1), sorted by LSOA then ward.
    report : BridgeReport
        Assigned and unassigned LSOAs, splits, and the straddling statistics
        (median and max share of LSOA area outside the assigned ward, count
        over 10%).

    Examples
    --------
    >>> lookup, rep = lsoa_to_ward("lsoa_2011.geojson", wards)  # doctest: +SKIP
    >>> print(rep.summary())  # doctest: +SKIP
    LSOA -> ward bridge by centroid: 422 LSOAs, 422 assigned, 0 unassigned
      straddling (> 1% of area outside the assigned ward): 57; > 10%: 21; ...
    >>> by_ward = apply_bridge(police_rows, lookup)  # doctest: +SKIP
    """
    wards = _as_wards(wards_gdf)
    lsoas_gdf = _read_geo(lsoas_gdf, "LSOA boundaries") if lsoas_gdf is not None else None
    if lookup is not None:
        return _from_lookup(lsoas_gdf, wards, lookup, lsoa_code, tolerance)
    if method not in ("centroid", "area", "population"):
        raise ConfigError(f"method must be 'centroid', 'area' or 'population', not {method!r}.")
    if lsoas_gdf is None:
        raise ConfigError("LSOA boundaries are needed (or pass lookup= an LSOA-to-ward lookup table).")
    source = lsoas_gdf.attrs.get("source") if hasattr(lsoas_gdf, "attrs") else None
    lsoas = _to_work(lsoas_gdf, "LSOA boundaries")
    col = _code_column(lsoas.columns, lsoa_code, _LSOA_PATTERN, _LSOA_ALIASES, "LSOA code", source)
    lsoas = gpd.GeoDataFrame({"lsoa_code": lsoas[col].astype("string").str.strip().str.upper()},
                             geometry=lsoas.geometry.values, crs=WORK_CRS).reset_index(drop=True)
    dup = lsoas["lsoa_code"].duplicated()
    if dup.any():
        raise InputError(f"{where(source)}duplicate LSOA codes in {col!r}: "
                         f"{lsoas.loc[dup, 'lsoa_code'].head(5).tolist()}. Dissolve the parts first.")
    ward_codes = wards["ward_code"].to_numpy()
    pairs = _pairs(lsoas, wards)
    pairs["lsoa_code"] = lsoas["lsoa_code"].to_numpy()[pairs["i"]]
    pairs["ward_code"] = ward_codes[pairs["j"]]
    lsoa_area = shapely.area(lsoas.geometry.values)
    notes: list[str] = []

    if method == "centroid":
        table = _centroid_rows(lsoas, wards)
    elif method == "area":
        table = pairs[["lsoa_code", "ward_code", "area"]].rename(columns={"area": "weight"})
        # Pieces smaller than `tolerance` of the LSOA are slivers from boundaries generalised
        # differently, not real splits: drop them (the rest is renormalised) unless nothing is left.
        share = table["weight"] / lsoa_area[pairs["i"].to_numpy()]
        biggest = share.groupby(table["lsoa_code"]).transform("max")
        table = table[(share > tolerance) | (share == biggest)]
    else:
        if population is None:
            raise ConfigError("method='population' needs population= (points or small areas with a "
                              "population column, e.g. output-area population-weighted centroids).")
        pts = _population_points(population, lsoas, "lsoa_code", population_column)
        hit = gpd.sjoin(pts, wards[["ward_code", "geometry"]], how="left", predicate="within")
        hit = hit[~hit.index.duplicated(keep="first")]
        pts["ward_code"] = hit["ward_code"].astype("string").to_numpy()
        ok = pts["lsoa_code"].isin(set(lsoas["lsoa_code"])) & pts["ward_code"].notna() & (pts["pop"] > 0)
        table = (pts[ok].groupby(["lsoa_code", "ward_code"], as_index=False)["pop"].sum()
                 .rename(columns={"pop": "weight"}))
        table["lsoa_code"] = table["lsoa_code"].astype("string")
        table["ward_code"] = table["ward_code"].astype("string")
        missing = lsoas[~lsoas["lsoa_code"].isin(set(table["lsoa_code"]))]
        if len(missing):
            table = pd.concat([table, _centroid_rows(missing, wards)], ignore_index=True)
            notes.append(f"{len(missing)} LSOA(s) have no population inside them (in any ward): placed "
                         f"by representative point ({', '.join(missing['lsoa_code'].head(5))}"
                         f"{' ...' if len(missing) > 5 else ''})")
        outside = float(pts.loc[pts["ward_code"].isna(), "pop"].sum())
        if outside > 0:
            notes.append(f"population {outside:,.0f} lies outside every ward and was not used")

    table = _normalise_weights(table)
    assigned = set(table["lsoa_code"])
    unassigned = [c for c in lsoas["lsoa_code"] if c not in assigned]
    fit = _fit(table, pairs, lsoas, lsoa_area)
    rep = BridgeReport(method=method, lsoas=len(lsoas), assigned=len(assigned), unassigned=unassigned,
                       split=int((table.groupby("lsoa_code").size() > 1).sum()), fit=fit,
                       tolerance=tolerance, notes=notes)
    if unassigned:
        rep.notes.append(f"{len(unassigned)} LSOA(s) lie outside every ward: their counts cannot be "
                         "placed (check the wards cover the LSOAs' area)")
    return table, rep


def _centroid_rows(lsoas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    pts = gpd.GeoDataFrame({"lsoa_code": lsoas["lsoa_code"].to_numpy()},
                           geometry=lsoas.geometry.representative_point().values, crs=WORK_CRS)
    hit = gpd.sjoin(pts, wards[["ward_code", "geometry"]], how="inner", predicate="intersects")
    hit = hit[~hit.index.duplicated(keep="first")]
    return pd.DataFrame({"lsoa_code": hit["lsoa_code"].astype("string").to_numpy(),
                         "ward_code": hit["ward_code"].astype("string").to_numpy(), "weight": 1.0})


def _normalise_weights(table: pd.DataFrame) -> pd.DataFrame:
    table = table[table["weight"] > 0].copy()
    table["weight"] = table["weight"].astype("float64")
    table["weight"] = table["weight"] / table.groupby("lsoa_code")["weight"].transform("sum")
    table["lsoa_code"] = table["lsoa_code"].astype("string")
    table["ward_code"] = table["ward_code"].astype("string")
    return table.sort_values(["lsoa_code", "ward_code"]).reset_index(drop=True)[
        ["lsoa_code", "ward_code", "weight"]]


def _fit(table: pd.DataFrame, pairs: pd.DataFrame, lsoas: gpd.GeoDataFrame, lsoa_area) -> pd.DataFrame:
    """Per LSOA: its main ward and the share of its area outside that ward."""
    if table.empty:
        return pd.DataFrame(columns=["lsoa_code", "ward_code", "share_outside"])
    main = table.sort_values(["lsoa_code", "weight"], ascending=[True, False]).drop_duplicates("lsoa_code")
    inside = pairs.groupby(["lsoa_code", "ward_code"])["area"].sum()
    area = pd.Series(lsoa_area, index=lsoas["lsoa_code"].to_numpy())
    keys = list(zip(main["lsoa_code"], main["ward_code"]))
    got = inside.reindex(keys).fillna(0.0).to_numpy()
    tot = area.reindex(main["lsoa_code"].to_numpy()).to_numpy()
    share = np.clip(1.0 - got / np.where(tot > 0, tot, np.nan), 0.0, 1.0)
    return pd.DataFrame({"lsoa_code": main["lsoa_code"].to_numpy(), "ward_code": main["ward_code"].to_numpy(),
                         "share_outside": share}).reset_index(drop=True)


def _from_lookup(lsoas_gdf, wards, lookup, lsoa_code, tolerance) -> tuple[pd.DataFrame, BridgeReport]:
    source = str(lookup) if isinstance(lookup, (str, Path)) else "<lookup>"
    if isinstance(lookup, (str, Path)):
        from ..io.intake import read_table
        lookup, source = read_table(lookup, what="LSOA-to-ward lookup")
    if not isinstance(lookup, pd.DataFrame):
        raise ConfigError(f"lookup must be a CSV path or a DataFrame, not {type(lookup).__name__}.")
    lcol = _code_column(lookup.columns, lsoa_code, _LSOA_PATTERN, _LSOA_ALIASES, "LSOA code", source)
    wcol = _code_column(lookup.columns, None, _WARD_PATTERN, _WARD_ALIASES, "ward code", source)
    table = pd.DataFrame({"lsoa_code": lookup[lcol].astype("string").str.strip().str.upper(),
                          "ward_code": lookup[wcol].astype("string").str.strip().str.upper()})
    wcols = [c for c in lookup.columns if str(c).lower() in ("weight", "weights", "share", "proportion")]
    if wcols:
        table["weight"] = pd.to_numeric(lookup[wcols[0]], errors="coerce")
        bad = table["weight"].isna() | (table["weight"] < 0)
        if bad.any():
            raise InputError(f"{source}: column {wcols[0]!r} has blank or negative weights in row(s) "
                             f"{(np.flatnonzero(bad.to_numpy()) + 1)[:10].tolist()}.")
    else:
        dup = table["lsoa_code"].duplicated(keep=False)
        if dup.any():
            raise InputError(f"{source}: LSOA(s) {sorted(set(table.loc[dup, 'lsoa_code']))[:5]} appear in "
                             "several rows but the lookup has no weight column: use a best-fit lookup "
                             "(one row per LSOA) or add a 'weight' column.")
        table["weight"] = 1.0
    table = table.dropna(subset=["lsoa_code", "ward_code"]).drop_duplicates(["lsoa_code", "ward_code"])
    valid = set(wards["ward_code"])
    unknown = sorted(set(table["ward_code"]) - valid)
    notes = []
    if unknown:
        notes.append(f"{len(unknown)} ward code(s) of the lookup ({wcol}) are not in the boundaries: "
                     "the lookup is probably for another ward vintage; LSOAs mapped only to them are "
                     "unassigned")
    table = _normalise_weights(table[table["ward_code"].isin(valid)])
    fit = pd.DataFrame(columns=["lsoa_code", "ward_code", "share_outside"])
    n = table["lsoa_code"].nunique()
    unassigned: list[str] = []
    if lsoas_gdf is not None:
        src = lsoas_gdf.attrs.get("source")
        lsoas = _to_work(lsoas_gdf, "LSOA boundaries")
        col = _code_column(lsoas.columns, None, _LSOA_PATTERN, _LSOA_ALIASES, "LSOA code", src)
        lsoas = gpd.GeoDataFrame({"lsoa_code": lsoas[col].astype("string").str.strip().str.upper()},
                                 geometry=lsoas.geometry.values, crs=WORK_CRS).reset_index(drop=True)
        pairs = _pairs(lsoas, wards)
        pairs["lsoa_code"] = lsoas["lsoa_code"].to_numpy()[pairs["i"]]
        pairs["ward_code"] = wards["ward_code"].to_numpy()[pairs["j"]]
        in_lsoas = table["lsoa_code"].isin(set(lsoas["lsoa_code"]))
        fit = _fit(table[in_lsoas], pairs, lsoas, shapely.area(lsoas.geometry.values))
        have = set(table["lsoa_code"])
        unassigned = [c for c in lsoas["lsoa_code"] if c not in have]
        n = len(lsoas)
    rep = BridgeReport(method="lookup", lsoas=n, assigned=int(table["lsoa_code"].nunique()),
                       unassigned=unassigned, split=int((table.groupby("lsoa_code").size() > 1).sum()),
                       fit=fit, tolerance=tolerance, unknown_wards=unknown, notes=notes)
    return table, rep


# ----------------------------------------------------------------------------- apply_bridge

_COUNT_ALIASES = ("count", "counts", "reports", "n", "value", "referrals", "number")


def apply_bridge(counts_by_lsoa, lookup: pd.DataFrame, *, columns=None, lsoa_code: str | None = None,
                 integer: bool = False) -> pd.DataFrame:
    """Move counts per LSOA onto wards through a lookup, conserving totals.

    Parameters
    ----------
    counts_by_lsoa : Series, DataFrame or path
        A Series indexed by LSOA code; or a table with an LSOA code column
        (``lsoa_code``, ``LSOA code`` as in police.uk files, ``LSOA11CD`` ...)
        and count column(s). Without ``columns`` a column named count/reports/
        n/value is used, and failing that every row counts as one (so a raw
        police.uk CSV works as it is).
    lookup : DataFrame
        ``lsoa_code``, ``ward_code``, ``weight`` from :func:`lsoa_to_ward`.
    columns : str or list of str, optional
        The count columns to move.
    lsoa_code : str, optional
        The LSOA code column, when not detected.
    integer : bool
        Round the ward counts to whole numbers with the largest-remainder
        method, which keeps each column's total exactly.

    Returns
    -------
    DataFrame
        ``ward_code`` and the count columns (float, or int with
        ``integer=True``), one row per ward reached, sorted by ward code.
        ``attrs["unmatched"]`` holds the counts of LSOA codes missing from the
        lookup (a :class:`BridgeWarning` names how many); ``attrs["totals"]``
        is ``{column: {"in": .., "out": .., "unmatched": ..}}`` with
        ``in == out + unmatched``.

    Examples
    --------
    >>> lk = pd.DataFrame({"lsoa_code": ["E01000001", "E01000002", "E01000002"],
    ...                    "ward_code": ["E05000001", "E05000001", "E05000002"],
    ...                    "weight": [1.0, 0.5, 0.5]})
    >>> apply_bridge(pd.Series({"E01000001": 3, "E01000002": 4}), lk)
       ward_code  count
    0  E05000001    5.0
    1  E05000002    2.0
    """
    counts = _counts_frame(counts_by_lsoa, columns, lsoa_code)
    cols = [c for c in counts.columns if c != "lsoa_code"]
    for need in ("lsoa_code", "ward_code", "weight"):
        if need not in lookup.columns:
            raise ConfigError(f"lookup has no {need!r} column; build it with gangmap.bridge.lsoa_to_ward.")
    by_lsoa = counts.groupby("lsoa_code")[cols].sum()
    lk = lookup[["lsoa_code", "ward_code", "weight"]].copy()
    lk["lsoa_code"] = lk["lsoa_code"].astype("string").str.upper()
    known = by_lsoa.index.isin(set(lk["lsoa_code"]))
    unmatched = by_lsoa[~known]
    merged = lk.merge(by_lsoa[known], left_on="lsoa_code", right_index=True, how="inner")
    for c in cols:
        merged[c] = merged[c] * merged["weight"]
    out = merged.groupby("ward_code", as_index=False)[cols].sum().sort_values("ward_code")
    out = out.reset_index(drop=True)
    if integer:
        for c in cols:
            out[c] = _largest_remainder(out[c].to_numpy())
    totals = {c: {"in": float(by_lsoa[c].sum()), "out": float(out[c].sum()),
                  "unmatched": float(unmatched[c].sum())} for c in cols}
    out.attrs = {"unmatched": unmatched.reset_index(), "totals": totals}
    if len(unmatched):
        first = cols[0]
        warnings.warn(f"{len(unmatched)} LSOA code(s) are not in the lookup and were not placed "
                      f"({first} {totals[first]['unmatched']:,.0f} of {totals[first]['in']:,.0f}), e.g. "
                      f"{', '.join(unmatched.index[:3].astype(str))}; see result.attrs['unmatched'] "
                      "(LSOAs outside the boundaries' area, or another LSOA vintage)",
                      BridgeWarning, stacklevel=2)
    return out


def _counts_frame(obj, columns, lsoa_code) -> pd.DataFrame:
    if isinstance(obj, (str, Path)):
        from ..io.intake import read_table
        obj, _ = read_table(obj, what="counts by LSOA")
    if isinstance(obj, pd.Series):
        name = obj.name if obj.name is not None else "count"
        df = pd.DataFrame({"lsoa_code": obj.index.astype(str), name: obj.to_numpy()})
        cols = [name]
    elif isinstance(obj, pd.DataFrame):
        source = obj.attrs.get("source")
        lcol = _code_column(obj.columns, lsoa_code, _LSOA_PATTERN, _LSOA_ALIASES, "LSOA code", source)
        if columns is None:
            norm = {re.sub(r"[\s_\-]", "", str(c)).lower(): c for c in obj.columns}
            hit = next((norm[a] for a in _COUNT_ALIASES if a in norm), None)
            cols = [hit] if hit is not None else []
        else:
            cols = [columns] if isinstance(columns, str) else list(columns)
            missing = [c for c in cols if c not in obj.columns]
            if missing:
                raise InputError(f"{where(source)}count column(s) {missing} not found; columns are: "
                                 f"{', '.join(map(str, obj.columns))}.")
        df = pd.DataFrame({"lsoa_code": obj[lcol].to_numpy()})
        if cols:
            for c in cols:
                df[c] = obj[c].to_numpy()
        else:
            df["count"] = 1
            cols = ["count"]
    else:
        raise InputError(f"counts_by_lsoa must be a Series, DataFrame or CSV path, not {type(obj).__name__}.")
    df["lsoa_code"] = df["lsoa_code"].astype("string").str.strip().str.upper()
    for c in cols:
        num = pd.to_numeric(df[c], errors="coerce")
        if num.isna().any() or (num < 0).any():
            rows = (np.flatnonzero((num.isna() | (num < 0)).to_numpy()) + 1)[:10].tolist()
            raise InputError(f"count column {c!r} has blank, non-numeric or negative values in row(s) {rows}.")
        df[c] = num.astype("float64")
    blank = df["lsoa_code"].isna() | (df["lsoa_code"] == "")
    return df[~blank].reset_index(drop=True)


# ----------------------------------------------------------------------------- interpolate

def interpolate_counts(source_gdf, target_gdf, columns, *, source_code: str = "ward_code",
                       target_code: str = "ward_code", renormalise: bool = False,
                       tolerance: float = 1e-5) -> pd.DataFrame:
    """Move counts from one set of polygons to another by area (old wards to new wards).

    Each source polygon's counts are shared among the target polygons it
    overlaps, in proportion to the overlapping area (areal weighting: counts
    are assumed spread evenly over each source polygon), with areas measured
    in EPSG:27700.

    Totals are conserved wherever the source is fully covered by the target.
    Counts on source area that no target covers are lost, unless
    ``renormalise=True`` (shares are then taken of the covered area, so any
    source touching the target keeps its whole count: use it when the gaps are
    slivers between differently generalised boundaries).

    Parameters
    ----------
    source_gdf, target_gdf : GeoDataFrame
        Polygons with a CRS (converted to EPSG:27700).
    columns : str or list of str
        Count columns of ``source_gdf`` to move.
    source_code, target_code : str
        Identifier columns (default ``ward_code``; may be the same name).
    renormalise : bool
        Share counts by covered area instead of whole area (see above).
    tolerance : float
        Share of a source polygon's area that may be uncovered (rounding from
        reprojection) before it is listed in ``attrs["uncovered"]`` and a
        warning is issued.

    Returns
    -------
    DataFrame
        ``target_code`` and ``columns`` (float), one row per target polygon in
        the order of ``target_gdf``. ``attrs``: ``uncovered_share`` (share of
        the total source area not covered by any target), ``uncovered`` (per
        source polygon above ``tolerance``: code and share), ``totals``
        (``{column: {"source": .., "target": .., "lost": ..}}``). A
        :class:`BridgeWarning` is issued when some source polygon is not
        fully covered (counts are lost unless ``renormalise=True``).

    Raises
    ------
    InputError
        Missing columns, no CRS, duplicate codes or non-numeric counts.

    Examples
    --------
    >>> import shapely
    >>> src = gpd.GeoDataFrame({"ward_code": ["A"], "n": [10]}, geometry=[shapely.box(0, 0, 2, 1)],
    ...                        crs=27700)
    >>> tgt = gpd.GeoDataFrame({"ward_code": ["L", "R"]},
    ...                        geometry=[shapely.box(0, 0, 0.5, 1), shapely.box(0.5, 0, 2, 1)], crs=27700)
    >>> interpolate_counts(src, tgt, "n")
      ward_code    n
    0         L  2.5
    1         R  7.5
    """
    cols = [columns] if isinstance(columns, str) else list(columns)
    src = _to_work(source_gdf, "source polygons")
    tgt = _to_work(target_gdf, "target polygons")
    s_source, t_source = source_gdf.attrs.get("source"), target_gdf.attrs.get("source")
    for gdf, code, what, s in ((src, source_code, "source", s_source), (tgt, target_code, "target", t_source)):
        if code not in gdf.columns:
            raise InputError(f"{where(s)}{what} polygons have no {code!r} column; columns are: "
                             f"{', '.join(str(c) for c in gdf.columns if c != gdf.geometry.name)}. Pass "
                             f"{what}_code='COLUMN'.")
        dup = gdf[code].duplicated()
        if dup.any():
            raise InputError(f"{where(s)}duplicate {what} codes in {code!r}: {gdf.loc[dup, code].head(5).tolist()}. "
                             f"Dissolve them first, e.g. gdf.dissolve({code!r}).reset_index().")
    missing = [c for c in cols if c not in src.columns]
    if missing:
        raise InputError(f"{where(s_source)}count column(s) {missing} not in the source polygons; columns "
                         f"are: {', '.join(str(c) for c in src.columns if c != src.geometry.name)}.")
    values = {}
    for c in cols:
        num = pd.to_numeric(src[c], errors="coerce")
        if num.isna().any():
            raise InputError(f"{where(s_source)}count column {c!r} has blank or non-numeric values for "
                             f"{src.loc[num.isna(), source_code].head(5).tolist()}. Fill them (0?) first.")
        values[c] = num.to_numpy(dtype="float64")
    src = src.reset_index(drop=True)
    tgt = tgt.reset_index(drop=True)
    s_area = shapely.area(src.geometry.values)
    pairs = _pairs(src, tgt)
    covered = np.bincount(pairs["i"], weights=pairs["area"], minlength=len(src)) if len(pairs) else \
        np.zeros(len(src))
    covered = np.minimum(covered, s_area)
    denom = covered if renormalise else s_area
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(denom[pairs["i"]] > 0, pairs["area"] / denom[pairs["i"]], 0.0) if len(pairs) else \
            np.array([])
    out = pd.DataFrame({target_code: tgt[target_code].to_numpy()})
    totals = {}
    for c in cols:
        moved = np.bincount(pairs["j"], weights=values[c][pairs["i"]] * w, minlength=len(tgt)) \
            if len(pairs) else np.zeros(len(tgt))
        out[c] = moved
        totals[c] = {"source": float(values[c].sum()), "target": float(moved.sum()),
                     "lost": float(values[c].sum() - moved.sum())}
    with np.errstate(divide="ignore", invalid="ignore"):
        share_un = np.where(s_area > 0, 1.0 - covered / s_area, 0.0)
    uncovered = pd.DataFrame({source_code: src[source_code].to_numpy(), "share_uncovered": share_un})
    uncovered = uncovered[uncovered["share_uncovered"] > tolerance].reset_index(drop=True)
    total_area = float(s_area.sum())
    out.attrs = {"uncovered_share": float(1.0 - covered.sum() / total_area) if total_area else 0.0,
                 "uncovered": uncovered, "totals": totals}
    c = cols[0]
    if len(uncovered) and not renormalise:
        warnings.warn(f"{out.attrs['uncovered_share']:.2%} of the source area is not covered by the target "
                      f"polygons, so {totals[c]['lost']:,.1f} of {totals[c]['source']:,.0f} {c} were not "
                      f"placed ({len(uncovered)} source polygon(s) affected, see result.attrs['uncovered']); "
                      "pass renormalise=True if the gaps are only slivers", BridgeWarning, stacklevel=2)
    elif renormalise and (covered <= 0).any():
        none = src.loc[covered <= 0, source_code].astype(str).tolist()
        warnings.warn(f"{len(none)} source polygon(s) touch no target polygon ({', '.join(none[:5])}"
                      f"{' ...' if len(none) > 5 else ''}), so {totals[c]['lost']:,.1f} of "
                      f"{totals[c]['source']:,.0f} {c} were not placed; see result.attrs['uncovered']",
                      BridgeWarning, stacklevel=2)
    return out
