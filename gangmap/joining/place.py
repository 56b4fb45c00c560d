"""Placing rows on areas: by code, by name, by point, by LSOA through a bridge, or by school.

:func:`assign` decides, for every kept row of one input, which area it goes
to (a row position in the areas' table, -1 for none) and, for rows that go
nowhere, why: a code or name that fits no area (with the closest candidates),
a name two areas share, an LSOA the bridge does not know, a school that is not
in the schools file, coordinates outside every area. Everything works on whole
columns (codes and names are matched per distinct value, points through one
spatial index query).

How rows are placed follows from the input (its ``key``) and the areas'
geography: rows keyed by the areas' own code or name are matched directly;
rows with coordinates are located; rows with an LSOA code go through an LSOA
bridge (``lsoa=``), or directly when the areas are LSOAs; referrals by URN go
through a schools file. ``by=`` chooses the path explicitly when the rows
carry more than one (police.uk rows have coordinates *and* an LSOA code).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from ..geography import GEOGRAPHIES, normalise_codes
from ..io import Intake, as_intake
from ..table import AreaTable
from .areas import as_areas
from .locate import point_index
from .lsoa import BridgeReport, bridge_lsoas, target_column
from .match import filter_rows, match_codes, match_names
from .report import LSOA_UNKNOWN, SCHOOL_OUTSIDE, URN_UNKNOWN, SourceReport

__all__ = ["Placement", "Bridge", "make_bridge", "assign", "place", "place_by", "place_rows", "both_ways", "BY"]

#: The ways a row can be placed (``by=``).
BY = ("code", "name", "point", "lsoa", "urn")


@dataclass
class Bridge:
    """An LSOA-to-area lookup ready for placing rows: each LSOA's best-fit area position."""

    lookup: pd.DataFrame
    best: pd.Series  # lsoa_code -> area row position
    note: str
    report: BridgeReport | None = None


@dataclass
class Placement:
    """Where each kept row of one input went (arrays aligned with ``intake.data``)."""

    pos: np.ndarray
    status: np.ndarray
    value: pd.Series
    closest: pd.Series
    by: str
    notes: list[str] = field(default_factory=list)
    key: str = ""

    def __post_init__(self) -> None:
        self.key = self.key or {"lsoa": GEOGRAPHIES["lsoa"].code}.get(self.by, self.by)

    def codes(self, areas: AreaTable) -> pd.Series:
        """The area code of each row (NA where not placed)."""
        codes = areas.codes.astype("string").to_numpy()
        out = np.where(self.pos >= 0, codes[np.clip(self.pos, 0, None)] if len(codes) else None, None)
        return pd.Series(out, dtype="string")


def make_bridge(lsoa, areas: AreaTable) -> Bridge:
    """A :class:`Bridge` from LSOA boundaries (path or GeoDataFrame), a lookup table, or a built lookup."""
    geo = areas.geography
    is_frame = isinstance(lsoa, pd.DataFrame) and not isinstance(lsoa, gpd.GeoDataFrame)
    if is_frame and "weight" in lsoa.columns and "lsoa_code" in lsoa.columns:
        lookup, rep = lsoa, None
        note = f"LSOA codes placed on {geo.plural} with the lookup given"
    elif is_frame or (isinstance(lsoa, (str, Path)) and Path(lsoa).suffix.lower() in (".csv", ".xlsx")):
        lookup, rep = bridge_lsoas(None, areas, lookup=lsoa)
        note = f"LSOA codes placed on {geo.plural} with the lookup table {rep.source or ''}".strip()
    else:
        lookup, rep = bridge_lsoas(lsoa, areas)
        note = f"LSOAs placed on {geo.plural} by representative point: " + rep.summary().splitlines()[0]
    col = target_column(lookup)
    best = lookup.sort_values("weight", ascending=False, kind="stable").drop_duplicates("lsoa_code")
    where = pd.Series(np.arange(len(areas)), index=normalise_codes(areas.codes).to_numpy())
    pos = normalise_codes(best[col]).map(where)
    best_pos = pd.Series(pos.to_numpy(), index=normalise_codes(best["lsoa_code"]).to_numpy()).dropna()
    return Bridge(lookup, best_pos.astype("int64"), note, rep)


def place_by(intake: Intake, areas: AreaTable, by: str | None = None) -> str:
    """How the rows of ``intake`` go onto ``areas``: one of :data:`BY` (checked against what the rows hold)."""
    geo = areas.geography
    data = intake.data
    if by is not None:
        if by not in BY:
            raise ConfigError(f"by must be one of {', '.join(BY)}, not {by!r}.")
        columns: dict[str, list[str | None]] = {"point": ["x", "y"], "lsoa": ["lsoa_code"], "urn": ["urn"],
                                                 "code": [_code_col(intake, geo)], "name": [_name_col(intake, geo)]}
        need = columns[by]
        if any(c is None or c not in data for c in need):
            wanted = {"code": f"{geo.label} code", "name": f"{geo.label} name"}.get(by, " / ".join(map(str, need)))
            raise InputError(f"{intake.source}: cannot place the {intake.kind} by {by}: the rows have no {wanted} "
                             f"column (they are keyed by {intake.key}). Read the file with by={by!r}, name its "
                             f"column (code=/name=, command line --code/--name), or place the rows by "
                             f"{intake.key} instead.")
        return by
    key = intake.key
    if key in ("point", "urn"):
        return key
    if key == geo.code or key in ("code", "area_code"):
        return "code"
    if key == geo.name or key in ("name", "area_name"):
        return "name"
    if key == "lsoa_code":
        return "lsoa"
    raise InputError(f"{intake.source}: the {intake.kind} are keyed by {key}, but the areas are {geo.plural} "
                     f"(code column {geo.code}); give rows keyed by {geo.label} code or name, coordinates or "
                     "LSOA codes, or move the counts with gangmap.joining.interpolate_counts.")


def _code_col(intake: Intake, geo) -> str | None:
    for c in (geo.code, intake.key if intake.key.endswith("code") else None, "code"):
        if c and c in intake.data:
            return c
    return None


def _name_col(intake: Intake, geo) -> str | None:
    for c in (geo.name, intake.key if intake.key.endswith("name") else None, "name"):
        if c and c in intake.data:
            return c
    return None


def _unmatched(pos: np.ndarray, value: pd.Series, closest, by: str, notes=None) -> Placement:
    status = np.where(pos >= 0, "matched", "unmatched")
    closest = pd.Series(np.asarray(closest, dtype=object), index=value.index)
    return Placement(pos, status, value, closest, by, notes or [])


def _distinct(values: pd.Series, clean) -> tuple[np.ndarray, pd.Series]:
    """Codes into the distinct values (-1 for missing) and those values cleaned once each."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, clean(pd.Series(np.asarray(uniques, dtype=object), dtype="string"))


def _by_lsoa(intake: Intake, areas: AreaTable, bridge: Bridge | None) -> Placement:
    codes, uniques = _distinct(intake.data["lsoa_code"], normalise_codes)
    table = np.array([*uniques.to_numpy(dtype=object), pd.NA], dtype=object)
    value = pd.Series(table[np.where(codes < 0, len(uniques), codes)], index=intake.data.index, dtype="string")
    if areas.geography.level == "lsoa":
        pos_u, why_u = match_codes(uniques, areas.codes)
        pos = np.append(pos_u, -1)[np.where(codes < 0, len(uniques), codes)]
        why = np.append(why_u.to_numpy(dtype=object), "")[np.where(codes < 0, len(uniques), codes)]
        return _unmatched(pos, value, why, "lsoa")
    if bridge is None:
        geo = areas.geography
        raise InputError(f"{intake.source}: the {intake.kind} are coded by LSOA, not {geo.label}. Pass lsoa= "
                         "(CLI: --lsoa FILE): LSOA boundaries (e.g. LSOA 2011 GeoJSON) or an ONS LSOA lookup "
                         f"CSV, and gangmap will bridge them to the {geo.plural}.")
    pos_u = uniques.map(bridge.best).fillna(-1).astype("int64").to_numpy()
    pos = np.append(pos_u, -1)[np.where(codes < 0, len(uniques), codes)]
    why = np.where(pos >= 0, "", LSOA_UNKNOWN)
    return _unmatched(pos, value, why, "lsoa", [bridge.note])


def _by_urn(intake: Intake, areas: AreaTable, schools: Intake | None) -> Placement:
    if schools is None:
        raise InputError(f"{intake.source}: referrals are given per school (URN), so a schools "
                         "file is needed: pass schools='schools.csv' (GIAS columns URN, "
                         "EstablishmentName, Easting, Northing, AdministrativeWard (code)).")
    geo = areas.geography
    sch = schools.data.drop_duplicates("urn").reset_index(drop=True)
    pos = np.full(len(sch), -1, dtype="int64")
    if geo.code in sch:  # the school's own area code (GIAS gives its ward), when it is one of the areas
        pos, _ = match_codes(sch[geo.code].fillna(""), areas.codes)
    need = (pos < 0) & sch["x"].notna().to_numpy()
    if need.any() and areas.has_geometry:
        pos[need] = point_index(areas).positions(sch.loc[need, "x"], sch.loc[need, "y"])
    by_urn = pd.Series(pos, index=sch["urn"].astype(str).to_numpy())
    value = intake.data["urn"].astype("string")
    row_pos = value.map(by_urn).fillna(-1).astype("int64").to_numpy()
    known = value.isin(set(by_urn.index)).to_numpy()
    why = np.where(row_pos >= 0, "", np.where(known, SCHOOL_OUTSIDE + geo.label, URN_UNKNOWN))
    return _unmatched(row_pos, value, why, "urn")


def assign(intake: Intake, areas: AreaTable, *, schools: Intake | None = None, bridge: Bridge | None = None,
           by: str | None = None) -> Placement:
    """Place every kept row of ``intake`` on ``areas`` (see the module docstring)."""
    how = place_by(intake, areas, by)
    data = intake.data
    geo = areas.geography
    if how == "point":
        pos = point_index(areas).positions(data["x"], data["y"])
        value = pd.Series(pd.NA, index=data.index, dtype="string")
        return Placement(pos, np.where(pos >= 0, "matched", "outside"), value,
                         pd.Series("", index=data.index, dtype=object), "point")
    if how == "code":
        column = str(_code_col(intake, geo))
        pos, why = match_codes(data[column].astype("string"), areas.codes)
        placement = _unmatched(pos, data[column].astype("string"), why, "code")
        placement.key = column
        return placement
    if how == "name":
        column = str(_name_col(intake, geo))
        district = data["district"] if "district" in data else None
        pos, why = match_names(data[column].astype("string"), areas.frame, geo, district)
        placement = _unmatched(pos, data[column].astype("string"), why.to_numpy(), "name")
        placement.key = column
        return placement
    if how == "lsoa":
        return _by_lsoa(intake, areas, bridge)
    return _by_urn(intake, areas, schools)


def both_ways(intake: Intake, areas: AreaTable, bridge: Bridge | None) -> bool:
    """Whether rows could go by LSOA code and by point: they carry both, and a bridge (or LSOA areas) is there."""
    data = intake.data
    return ("x" in data and "lsoa_code" in data and areas.has_geometry
            and (bridge is not None or areas.geography.level == "lsoa"))


def place_rows(intake: Intake, areas: AreaTable, *, schools: Intake | None = None, bridge: Bridge | None = None,
               by: str | None = None) -> tuple[Placement, np.ndarray | None, np.ndarray | None]:
    """:func:`assign`, plus both placements (point, LSOA) when the rows could go both ways.

    Rows placed by LSOA whose LSOA the bridge does not know and whose point is
    outside every area too are outside, not a typo.
    """
    placement = assign(intake, areas, schools=schools, bridge=bridge, by=by)
    if placement.by not in ("point", "lsoa") or not both_ways(intake, areas, bridge):
        return placement, None, None
    data = intake.data
    if placement.by == "lsoa":
        point_pos, lsoa_pos = point_index(areas).positions(data["x"], data["y"]), placement.pos
        beyond = (placement.status == "unmatched") & (point_pos < 0) & np.isfinite(data["x"].to_numpy(float))
        placement.status = np.where(beyond, "outside", placement.status)
    else:
        point_pos, lsoa_pos = placement.pos, _by_lsoa(intake, areas, bridge).pos
    return placement, point_pos, lsoa_pos


def place(intake, areas, *, schools=None, category=None, period=None, lsoa=None,
          by: str | None = None) -> tuple[pd.DataFrame, SourceReport]:
    """Give each kept row of ``intake`` an area code; return the rows and a :class:`SourceReport`.

    Parameters
    ----------
    intake : Intake, path or DataFrame
        The rows (read as reports when not already an Intake).
    areas : AreaTable, GeoDataFrame or path
        The areas (any geography).
    schools, lsoa, by :
        As for :func:`gangmap.joining.join`.
    category, period : str or list of str, optional
        Rows outside the filter get status ``filtered``.

    Returns
    -------
    rows : DataFrame
        The intake's columns plus the areas' code column (NA where not
        placed) and ``status`` (``matched``, ``unmatched``, ``outside``,
        ``filtered``).
    report : SourceReport
        The same report :func:`gangmap.joining.join` gives for this input.
    """
    from .cube import KindCube

    table = as_areas(areas)
    intake = as_intake(intake, "reports")
    sch = as_intake(schools, "schools") if schools is not None else None
    bridge = make_bridge(lsoa, table) if lsoa is not None else None
    placement, point_pos, lsoa_pos = place_rows(intake, table, schools=sch, bridge=bridge, by=by)
    kind = KindCube.build(intake, table, placement, point_pos=point_pos, lsoa_pos=lsoa_pos)
    report = kind.report(category, period)
    data = intake.data.copy()
    strict = intake.kind == "reports"
    keep = filter_rows(data, "category", category, strict=strict, source=intake.source) & \
        filter_rows(data, "period", period, strict=strict, source=intake.source)
    data[table.geography.code] = placement.codes(table).to_numpy()
    data["status"] = np.where(keep.to_numpy(), placement.status, "filtered")
    return data, report
