"""The LSOA bridge: counts coded by LSOA onto wards, MSOAs or any other areas.

police.uk rows carry an LSOA code, and many partners publish counts per LSOA,
while the map may be of wards, MSOAs, neighbourhoods or a custom layer. An
LSOA bridge is a lookup ``lsoa_code -> area code`` with weights (each LSOA's
weights sum to 1), built from geometry or read from an ONS lookup table:

* ``centroid`` (default): each LSOA goes wholly to the area holding its
  representative point (the ONS "best fit" idea, without population data);
* ``area``: each LSOA is split by overlapping area;
* ``population``: each LSOA is split by the population inside it that falls
  in each area (output-area centroids, address points);
* a lookup table (``lookup=``): an ONS best-fit CSV, or any table with an
  LSOA code column, an area code column and optionally ``weight``.

:class:`BridgeReport` says how badly the LSOAs straddle the areas (the share
of each LSOA's area outside its main area), so the analyst can judge whether
the LSOA path is exact (LSOAs nest) or approximate. :func:`apply_bridge`
moves counts per LSOA through a lookup, conserving totals.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import ConfigError, InputError, where
from ..geography import GEOGRAPHIES, WORK_CRS, normalise_codes
from ..io.columns import find_column, norm_column
from ..table import AreaTable
from .areas import as_areas
from .geo import code_column, largest_remainder, overlap_pairs, read_geo, to_work
from .locate import point_index

__all__ = ["BridgeReport", "BridgeWarning", "BridgedCounts", "bridge_lsoas", "lsoa_to_ward", "apply_bridge",
           "target_column"]

#: LSOA code columns are recognised as every input's are (gangmap.io.columns), from the LSOA geography.
_LSOA = GEOGRAPHIES["lsoa"]


class BridgeWarning(UserWarning):
    """Counts were moved between geographies but some could not be placed."""


@dataclass
class BridgeReport:
    """How LSOAs were bridged to the areas, and how well they fit.

    Attributes
    ----------
    method : str
        ``centroid``, ``area``, ``population`` or ``lookup``.
    lsoas, assigned : int
        LSOAs given, and LSOAs in the lookup (given an area).
    unassigned : list of str
        LSOAs not placed in any area.
    split : int
        LSOAs spread over more than one area (weights below 1).
    fit : DataFrame
        Per LSOA with geometry: ``lsoa_code``, the target code column (the
        area with the largest weight) and ``share_outside``, the share of the
        LSOA's area outside that area (0 = nests exactly).
    tolerance : float
        Share outside above which an LSOA counts as straddling.
    unknown_areas : list of str
        Area codes of a lookup table that are not in the areas.
    notes : list of str
        Anything else worth knowing (fallbacks, missing population).
    label, plural : str
        The target areas' words ("ward", "wards").
    """

    method: str
    lsoas: int
    assigned: int
    unassigned: list[str] = field(default_factory=list)
    split: int = 0
    fit: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["lsoa_code", "share_outside"]))
    tolerance: float = 0.01
    unknown_areas: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    label: str = "ward"
    plural: str = "wards"
    source: str | None = None

    @property
    def unknown_wards(self) -> list[str]:
        """:attr:`unknown_areas` (the name from when bridges went only to wards)."""
        return self.unknown_areas

    @property
    def straddling(self) -> int:
        """LSOAs with more than ``tolerance`` of their area outside their assigned area."""
        return int((self.fit["share_outside"] > self.tolerance).sum()) if len(self.fit) else 0

    @property
    def over_10pct(self) -> int:
        """LSOAs with more than 10% of their area outside their assigned area."""
        return int((self.fit["share_outside"] > 0.10).sum()) if len(self.fit) else 0

    @property
    def median_outside(self) -> float:
        """Median share of LSOA area outside the assigned area (NaN without geometry)."""
        return float(self.fit["share_outside"].median()) if len(self.fit) else float("nan")

    @property
    def max_outside(self) -> float:
        """Largest share of an LSOA's area outside its assigned area."""
        return float(self.fit["share_outside"].max()) if len(self.fit) else float("nan")

    def summary(self) -> str:
        """A few plain lines for the console or a notebook."""
        more = f" ({', '.join(self.unassigned[:5])}{' ...' if len(self.unassigned) > 5 else ''})" \
            if self.unassigned else ""
        lines = [f"LSOA -> {self.label} bridge by {self.method}: {self.lsoas:,} LSOAs, {self.assigned:,} "
                 f"assigned, {len(self.unassigned):,} unassigned{more}"]
        if self.split:
            lines.append(f"  {self.split:,} LSOAs split between {self.plural}")
        if len(self.fit):
            lines.append(f"  straddling (> {self.tolerance:.0%} of area outside the assigned {self.label}): "
                         f"{self.straddling:,}; > 10%: {self.over_10pct:,}; share outside median "
                         f"{self.median_outside:.1%}, max {self.max_outside:.1%}")
        if self.unknown_areas:
            lines.append(f"  {len(self.unknown_areas)} lookup {self.label} codes are not in the boundaries: "
                         f"{', '.join(self.unknown_areas[:5])}{' ...' if len(self.unknown_areas) > 5 else ''}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:  # notebooks
        e = html.escape
        facts = pd.DataFrame({"": ["method", "LSOAs", "assigned", "unassigned", "split", "straddling",
                                   "> 10% outside", "median share outside", "max share outside"],
                              "value": [self.method, self.lsoas, self.assigned, len(self.unassigned), self.split,
                                        self.straddling, self.over_10pct, f"{self.median_outside:.1%}",
                                        f"{self.max_outside:.1%}"]})
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        return (f"<div><b>BridgeReport</b>: LSOA -> {e(self.label)}" + facts.to_html(index=False, border=0)
                + (f"<ul>{notes}</ul>" if notes else "") + "</div>")


def _lsoa_layer(lsoas_gdf, source, lsoa_code) -> gpd.GeoDataFrame:
    lsoas = to_work(lsoas_gdf, "LSOA boundaries", source)
    col = code_column(lsoas.columns, lsoa_code, _LSOA, "LSOA code", source, lsoas)
    out = gpd.GeoDataFrame({"lsoa_code": normalise_codes(lsoas[col])},
                           geometry=lsoas.geometry.values, crs=WORK_CRS).reset_index(drop=True)
    dup = out["lsoa_code"].duplicated()
    if dup.any():
        raise InputError(f"{where(source)}duplicate LSOA codes in {col!r}: "
                         f"{out.loc[dup, 'lsoa_code'].head(5).tolist()}. Dissolve the parts first.")
    return out


def _area_layer(areas: AreaTable) -> gpd.GeoDataFrame:
    frame = areas.frame
    return gpd.GeoDataFrame({"code": frame[areas.geography.code].astype("string").to_numpy()},
                            geometry=frame.geometry.values, crs=WORK_CRS)


def bridge_lsoas(lsoas, areas, *, method: str = "centroid", population=None, lookup=None,
                 lsoa_code: str | None = None, population_column: str | None = None,
                 tolerance: float = 0.01) -> tuple[pd.DataFrame, BridgeReport]:
    """Build an LSOA-to-area lookup for any target areas, and report how well LSOAs fit.

    Parameters
    ----------
    lsoas : GeoDataFrame, path or None
        LSOA boundaries with an LSOA code column (``LSOA11CD``/``LSOA21CD``/
        ``lsoa_code`` or ``lsoa_code=``). May be None with ``lookup=``.
    areas : AreaTable, GeoDataFrame or path
        The target areas (wards, MSOAs, neighbourhoods ...).
    method : {"centroid", "area", "population"}
        See the module docstring; ignored when ``lookup`` is given.
    population : GeoDataFrame or path, optional
        Population points or small areas, for ``method="population"``.
    lookup : DataFrame or path, optional
        An LSOA-to-area lookup table to use instead of geometry.
    tolerance : float
        Share of an LSOA's area outside its area above which it counts as
        straddling (default 1%, which ignores slivers).

    Returns
    -------
    lookup : DataFrame
        ``lsoa_code``, the areas' code column (``ward_code``, ``msoa_code`` ...)
        and ``weight`` (each LSOA's weights sum to 1), sorted.
    report : BridgeReport
    """
    table = as_areas(areas)
    lsoas, source = read_geo(lsoas, "LSOA boundaries") if lsoas is not None else (None, None)
    if lookup is not None:
        return _from_lookup(lsoas, source, table, lookup, lsoa_code, tolerance)
    if method not in ("centroid", "area", "population"):
        raise ConfigError(f"method must be 'centroid', 'area' or 'population', not {method!r}.")
    if lsoas is None:
        raise ConfigError("LSOA boundaries are needed (or pass lookup= an LSOA-to-area lookup table).")
    layer = _lsoa_layer(lsoas, source, lsoa_code)
    target = _area_layer(table)
    pairs = overlap_pairs(layer, target)
    pairs["lsoa_code"] = layer["lsoa_code"].to_numpy()[pairs["i"]]
    pairs["code"] = target["code"].to_numpy()[pairs["j"]]
    lsoa_area = shapely.area(layer.geometry.values)
    notes: list[str] = []
    if method == "centroid":
        rows = _centroid_rows(layer, table)
    elif method == "area":
        rows = pairs[["lsoa_code", "code", "area"]].rename(columns={"area": "weight"})
        # Pieces smaller than `tolerance` of the LSOA are slivers, not real splits.
        share = rows["weight"] / lsoa_area[pairs["i"].to_numpy()]
        biggest = share.groupby(rows["lsoa_code"]).transform("max")
        rows = rows[(share > tolerance) | (share == biggest)]
    else:
        rows = _population_rows(population, population_column, layer, table, notes)
    rows = _normalise_weights(rows)
    assigned = set(rows["lsoa_code"])
    unassigned = [c for c in layer["lsoa_code"] if c not in assigned]
    geo = table.geography
    rep = BridgeReport(method=method, lsoas=len(layer), assigned=len(assigned), unassigned=unassigned,
                       split=int((rows.groupby("lsoa_code").size() > 1).sum()),
                       fit=_fit(rows, pairs, layer, lsoa_area, geo.code), tolerance=tolerance, notes=notes,
                       label=geo.label, plural=geo.plural, source=source)
    if unassigned:
        rep.notes.append(f"{len(unassigned)} LSOA(s) lie outside every {geo.label}: their counts cannot be "
                         f"placed (check the {geo.plural} cover the LSOAs' area)")
    return rows.rename(columns={"code": geo.code}), rep


def lsoa_to_ward(lsoas_gdf, wards_gdf, **kwargs) -> tuple[pd.DataFrame, BridgeReport]:
    """:func:`bridge_lsoas` onto wards (``ward_code`` in the lookup).

    Examples
    --------
    >>> lookup, rep = lsoa_to_ward("lsoa_2011.geojson", wards)  # doctest: +SKIP
    >>> print(rep.summary())  # doctest: +SKIP
    LSOA -> ward bridge by centroid: 422 LSOAs, 422 assigned, 0 unassigned
    """
    return bridge_lsoas(lsoas_gdf, wards_gdf, **kwargs)


def _centroid_rows(layer: gpd.GeoDataFrame, table: AreaTable) -> pd.DataFrame:
    pts = layer.geometry.representative_point()
    index = point_index(table)
    codes = index.codes_of(index.positions(pts.x.to_numpy(), pts.y.to_numpy()))
    ok = codes.notna().to_numpy()
    return pd.DataFrame({"lsoa_code": layer["lsoa_code"].to_numpy()[ok], "code": codes[ok].to_numpy(),
                         "weight": 1.0})


def _population_rows(population, population_column, layer, table: AreaTable, notes: list[str]) -> pd.DataFrame:
    if population is None:
        raise ConfigError("method='population' needs population= (points or small areas with a "
                          "population column, e.g. output-area population-weighted centroids).")
    pts = _population_points(population, layer, population_column)
    index = point_index(table)
    pts["code"] = index.codes_of(index.positions(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())).to_numpy()
    ok = pts["lsoa_code"].isin(set(layer["lsoa_code"])) & pts["code"].notna() & (pts["pop"] > 0)
    rows = pts[ok].groupby(["lsoa_code", "code"], as_index=False)["pop"].sum().rename(columns={"pop": "weight"})
    missing = layer[~layer["lsoa_code"].isin(set(rows["lsoa_code"]))]
    if len(missing):
        rows = pd.concat([rows, _centroid_rows(missing, table)], ignore_index=True)
        notes.append(f"{len(missing)} LSOA(s) have no population inside them (in any {table.geography.label}): "
                     f"placed by representative point ({', '.join(missing['lsoa_code'].head(5))}"
                     f"{' ...' if len(missing) > 5 else ''})")
    outside = float(pts.loc[pts["code"].isna(), "pop"].sum())
    if outside > 0:
        notes.append(f"population {outside:,.0f} lies outside every {table.geography.label} and was not used")
    return rows


def _population_points(population, layer: gpd.GeoDataFrame, population_column: str | None) -> gpd.GeoDataFrame:
    """Population points with ``pop`` and ``lsoa_code`` (by code column or by location)."""
    population, source = read_geo(population, "population points")
    if not isinstance(population, gpd.GeoDataFrame):
        raise ConfigError(
            f"{where(source)}method='population' needs population *inside* each LSOA: a GeoDataFrame of "
            "points or small areas with a population column (for example output-area "
            "population-weighted centroids with Census counts, or address points). A single "
            "population figure per LSOA cannot say how an LSOA divides between areas; use "
            "method='area' (even spread) or method='centroid' instead.")
    pts = to_work(population, "population points", source)
    if population_column is None:
        cand = [c for c in pts.columns if norm_column(c) in ("population", "pop", "count", "persons", "people", "value",
                                                        "n", "usualresidents")]
        population_column = cand[0] if cand else None
    if population_column is not None and population_column not in pts:
        raise InputError(f"{where(source)}population column {population_column!r} not found; columns "
                         f"are: {', '.join(map(str, pts.columns))}.")
    pop = (pd.to_numeric(pts[population_column], errors="coerce").fillna(0).clip(lower=0)
           if population_column else pd.Series(1.0, index=pts.index))
    geoms = pts.geometry.values
    geoms = np.where(shapely.get_type_id(geoms) >= 3, shapely.point_on_surface(geoms), geoms)
    out = gpd.GeoDataFrame({"pop": pop.to_numpy(dtype="float64")}, geometry=geoms, crs=WORK_CRS)
    try:
        col = code_column(pts.columns, None, _LSOA, "LSOA code", None, pts)
        out["lsoa_code"] = normalise_codes(pts[col]).to_numpy()
    except InputError:
        hit_pt, hit_lsoa = layer.sindex.query(out.geometry.values, predicate="within")
        codes = pd.Series(pd.NA, index=range(len(out)), dtype="string")
        first = pd.Series(hit_lsoa).groupby(hit_pt).first()
        codes.iloc[first.index.to_numpy()] = layer["lsoa_code"].to_numpy()[first.to_numpy()]
        out["lsoa_code"] = codes.to_numpy()
    return out


def _normalise_weights(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows[rows["weight"] > 0].copy()
    rows["weight"] = rows["weight"].astype("float64")
    rows["weight"] = rows["weight"] / rows.groupby("lsoa_code")["weight"].transform("sum")
    rows["lsoa_code"] = rows["lsoa_code"].astype("string")
    rows["code"] = rows["code"].astype("string")
    return rows.sort_values(["lsoa_code", "code"]).reset_index(drop=True)[["lsoa_code", "code", "weight"]]


def _fit(rows: pd.DataFrame, pairs: pd.DataFrame, layer, lsoa_area, code: str) -> pd.DataFrame:
    """Per LSOA: its main area and the share of its area outside that area."""
    if rows.empty:
        return pd.DataFrame(columns=["lsoa_code", code, "share_outside"])
    main = rows.sort_values(["lsoa_code", "weight"], ascending=[True, False]).drop_duplicates("lsoa_code")
    inside = pairs.groupby(["lsoa_code", "code"])["area"].sum()
    area = pd.Series(lsoa_area, index=layer["lsoa_code"].to_numpy())
    got = inside.reindex(list(zip(main["lsoa_code"], main["code"]))).fillna(0.0).to_numpy()
    tot = area.reindex(main["lsoa_code"].to_numpy()).to_numpy()
    share = np.clip(1.0 - got / np.where(tot > 0, tot, np.nan), 0.0, 1.0)
    return pd.DataFrame({"lsoa_code": main["lsoa_code"].to_numpy(), code: main["code"].to_numpy(),
                         "share_outside": share}).reset_index(drop=True)


def _lookup_rows(lookup, source, lsoa_code, table: AreaTable) -> pd.DataFrame:
    geo = table.geography
    lcol = code_column(lookup.columns, lsoa_code, _LSOA, "LSOA code", source, lookup,
                       fix="or pass lsoa_code= to gangmap.joining.bridge_lsoas")
    acol = code_column(lookup.columns, None, geo, f"{geo.label} code", source, lookup, skip=[lcol], fix="")
    rows = pd.DataFrame({"lsoa_code": normalise_codes(lookup[lcol]),
                         "code": normalise_codes(lookup[acol])})
    wcols = [c for c in lookup.columns if str(c).lower() in ("weight", "weights", "share", "proportion")]
    if wcols:
        rows["weight"] = pd.to_numeric(lookup[wcols[0]], errors="coerce")
        bad = rows["weight"].isna() | (rows["weight"] < 0)
        if bad.any():
            raise InputError(f"{source}: column {wcols[0]!r} has blank or negative weights in row(s) "
                             f"{(np.flatnonzero(bad.to_numpy()) + 1)[:10].tolist()}.")
    else:
        dup = rows["lsoa_code"].duplicated(keep=False)
        if dup.any():
            raise InputError(f"{source}: LSOA(s) {sorted(set(rows.loc[dup, 'lsoa_code']))[:5]} appear in "
                             "several rows but the lookup has no weight column: use a best-fit lookup "
                             "(one row per LSOA) or add a 'weight' column.")
        rows["weight"] = 1.0
    return rows.dropna(subset=["lsoa_code", "code"]).drop_duplicates(["lsoa_code", "code"])


def _from_lookup(lsoas, lsoa_source, table: AreaTable, lookup, lsoa_code, tolerance):
    source = str(lookup) if isinstance(lookup, (str, Path)) else "<lookup>"
    if isinstance(lookup, (str, Path)):
        from ..io import read_table
        lookup, source = read_table(lookup, what="LSOA lookup")
    if not isinstance(lookup, pd.DataFrame):
        raise ConfigError(f"lookup must be a CSV path or a DataFrame, not {type(lookup).__name__}.")
    geo = table.geography
    rows = _lookup_rows(lookup, source, lsoa_code, table)
    valid = set(normalise_codes(table.codes))
    unknown = sorted(set(rows["code"]) - valid)
    notes = [f"{len(unknown)} {geo.label} code(s) of the lookup are not in the boundaries: the lookup is "
             f"probably for another vintage; LSOAs mapped only to them are unassigned"] if unknown else []
    rows = _normalise_weights(rows[rows["code"].isin(valid)])
    fit = pd.DataFrame(columns=["lsoa_code", geo.code, "share_outside"])
    n, unassigned = rows["lsoa_code"].nunique(), []
    if lsoas is not None:
        layer = _lsoa_layer(lsoas, lsoa_source, None)
        target = _area_layer(table)
        pairs = overlap_pairs(layer, target)
        pairs["lsoa_code"] = layer["lsoa_code"].to_numpy()[pairs["i"]]
        pairs["code"] = target["code"].to_numpy()[pairs["j"]]
        in_layer = rows["lsoa_code"].isin(set(layer["lsoa_code"]))
        fit = _fit(rows[in_layer], pairs, layer, shapely.area(layer.geometry.values), geo.code)
        have = set(rows["lsoa_code"])
        unassigned = [c for c in layer["lsoa_code"] if c not in have]
        n = len(layer)
    rep = BridgeReport(method="lookup", lsoas=n, assigned=int(rows["lsoa_code"].nunique()), unassigned=unassigned,
                       split=int((rows.groupby("lsoa_code").size() > 1).sum()), fit=fit, tolerance=tolerance,
                       unknown_areas=unknown, notes=notes, label=geo.label, plural=geo.plural, source=source)
    return rows.rename(columns={"code": geo.code}), rep


# ----------------------------------------------------------------------------- apply_bridge

@dataclass
class BridgedCounts:
    """Counts moved through an LSOA lookup: the result and what could not be moved.

    Attributes
    ----------
    frame : DataFrame
        The target code column and the count columns, one row per area reached.
    unmatched : DataFrame
        ``lsoa_code`` and the counts of LSOA codes missing from the lookup.
    totals : dict
        ``{column: {"in": .., "out": .., "unmatched": ..}}`` with ``in == out + unmatched``.
    """

    frame: pd.DataFrame
    unmatched: pd.DataFrame
    totals: dict

    def __repr__(self) -> str:
        return repr(self.frame)


def target_column(lookup: pd.DataFrame) -> str:
    """The area code column of a lookup (the one that is neither ``lsoa_code`` nor ``weight``)."""
    cols = [c for c in lookup.columns if c not in ("lsoa_code", "weight")]
    if "lsoa_code" not in lookup.columns or "weight" not in lookup.columns or len(cols) != 1:
        raise ConfigError(f"a lookup needs 'lsoa_code', one area code column and 'weight' (it has "
                          f"{list(lookup.columns)}); build it with gangmap.joining.bridge_lsoas.")
    return cols[0]


def apply_bridge(counts_by_lsoa, lookup: pd.DataFrame, *, columns=None, lsoa_code: str | None = None,
                 integer: bool = False) -> BridgedCounts:
    """Move counts per LSOA onto areas through a lookup, conserving totals.

    Parameters
    ----------
    counts_by_lsoa : Series, DataFrame or path
        A Series indexed by LSOA code; or a table with an LSOA code column and
        count column(s). Without ``columns`` a column named count/reports/n/
        value is used, and failing that every row counts as one (so a raw
        police.uk CSV works as it is).
    lookup : DataFrame
        From :func:`bridge_lsoas`.
    integer : bool
        Round with the largest-remainder method, which keeps each total.

    Returns
    -------
    BridgedCounts
        ``.frame`` (area code and counts, sorted by code), ``.unmatched`` and
        ``.totals``. A :class:`BridgeWarning` names LSOAs not in the lookup.

    Examples
    --------
    >>> lk = pd.DataFrame({"lsoa_code": ["E01000001", "E01000002", "E01000002"],
    ...                    "ward_code": ["E05000001", "E05000001", "E05000002"],
    ...                    "weight": [1.0, 0.5, 0.5]})
    >>> apply_bridge(pd.Series({"E01000001": 3, "E01000002": 4}), lk).frame
       ward_code  count
    0  E05000001    5.0
    1  E05000002    2.0
    """
    target = target_column(lookup)
    counts = _counts_frame(counts_by_lsoa, columns, lsoa_code)
    cols = [c for c in counts.columns if c != "lsoa_code"]
    by_lsoa = counts.groupby("lsoa_code")[cols].sum()
    lk = lookup[["lsoa_code", target, "weight"]].copy()
    lk["lsoa_code"] = normalise_codes(lk["lsoa_code"])
    known = by_lsoa.index.isin(set(lk["lsoa_code"]))
    unmatched = by_lsoa[~known]
    merged = lk.merge(by_lsoa[known], left_on="lsoa_code", right_index=True, how="inner")
    for c in cols:
        merged[c] = merged[c] * merged["weight"]
    out = merged.groupby(target, as_index=False)[cols].sum().sort_values(target).reset_index(drop=True)
    if integer:
        for c in cols:
            out[c] = largest_remainder(out[c].to_numpy())
    totals = {c: {"in": float(by_lsoa[c].sum()), "out": float(out[c].sum()),
                  "unmatched": float(unmatched[c].sum())} for c in cols}
    if len(unmatched):
        first = cols[0]
        warnings.warn(f"{len(unmatched)} LSOA code(s) are not in the lookup and were not placed "
                      f"({first} {totals[first]['unmatched']:,.0f} of {totals[first]['in']:,.0f}), e.g. "
                      f"{', '.join(unmatched.index[:3].astype(str))}; see result.unmatched "
                      "(LSOAs outside the boundaries' area, or another LSOA vintage)",
                      BridgeWarning, stacklevel=2)
    return BridgedCounts(out, unmatched.reset_index(), totals)


def _count_columns(obj: pd.DataFrame, columns, source) -> list[str]:
    if columns is None:
        hit = find_column(obj.columns, "count")
        return [hit] if hit is not None else []
    cols = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in cols if c not in obj.columns]
    if missing:
        raise InputError(f"{where(source)}count column(s) {missing} not found; columns are: "
                         f"{', '.join(map(str, obj.columns))}.")
    return cols


def _counts_frame(obj, columns, lsoa_code) -> pd.DataFrame:
    source = None
    if isinstance(obj, (str, Path)):
        from ..io import read_table
        obj, source = read_table(obj, what="counts by LSOA")
    if isinstance(obj, pd.Series):
        name = obj.name if obj.name is not None else "count"
        df = pd.DataFrame({"lsoa_code": obj.index.astype(str), name: obj.to_numpy()})
        cols = [name]
    elif isinstance(obj, pd.DataFrame):
        lcol = code_column(obj.columns, lsoa_code, _LSOA, "LSOA code", source, obj)
        cols = _count_columns(obj, columns, source)
        df = pd.DataFrame({"lsoa_code": obj[lcol].to_numpy(), **{c: obj[c].to_numpy() for c in cols}})
        if not cols:
            df["count"] = 1
            cols = ["count"]
    else:
        raise InputError(f"counts_by_lsoa must be a Series, DataFrame or CSV path, not {type(obj).__name__}.")
    df["lsoa_code"] = normalise_codes(df["lsoa_code"])
    for c in cols:
        num = pd.to_numeric(df[c], errors="coerce")
        if num.isna().any() or (num < 0).any():
            rows = (np.flatnonzero((num.isna() | (num < 0)).to_numpy()) + 1)[:10].tolist()
            raise InputError(f"{where(source)}count column {c!r} has blank, non-numeric or negative values in "
                             f"row(s) {rows}.")
        df[c] = num.astype("float64")
    blank = df["lsoa_code"].isna() | (df["lsoa_code"] == "")
    return df[~blank].reset_index(drop=True)

