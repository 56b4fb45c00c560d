"""Join: put reports, referrals and population onto wards, accounting for every row.

:func:`join` returns one row per ward (every ward present, zero where there
are no reports) and a :class:`JoinReport` that accounts for every input row:
``matched + unmatched + outside + rejected + filtered == rows_read`` for each
input. ``filtered`` counts rows left out on purpose by ``category=`` or
``period=`` and is 0 without a filter.

Examples
--------
>>> import gangmap
>>> p = gangmap.demo.paths()  # doctest: +SKIP
>>> table, report = gangmap.join(p["wards"], reports=p["reports"])  # doctest: +SKIP
>>> print(report.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.boundaries import WARD_COLUMNS, read_wards
from ..io.intake import Intake, as_intake
from .bridge import detect_vintage

# Unmatched hints that are reasons, not candidate names.
_REASONS = ("ambiguous:", "LSOA not", "URN not")


@dataclass
class SourceReport:
    """How the rows of one input were placed on wards."""

    kind: str
    source: str
    key: str
    rows_read: int
    matched: int = 0
    total: float = 0
    unmatched_rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "value", "closest"]))
    outside_rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row"]))
    rejected_rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "reason"]))
    filtered: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def unmatched(self) -> int:
        """Rows whose ward code, name or school matched no ward."""
        return len(self.unmatched_rows)

    @property
    def outside(self) -> int:
        """Rows whose coordinates fall outside every ward."""
        return len(self.outside_rows)

    @property
    def rejected(self) -> int:
        """Rows that could not be read (bad count, blank code, no coordinates...)."""
        return len(self.rejected_rows)

    @property
    def balanced(self) -> bool:
        """True when every row read is accounted for exactly once."""
        return self.matched + self.unmatched + self.outside + self.rejected + self.filtered == self.rows_read

    def summary(self) -> str:
        lines = [f"{self.kind} ({self.source}): {self.rows_read:,} rows read, by {self.key}",
                 f"  matched   {self.matched:>8,}   (total count {self.total:,.0f})",
                 f"  unmatched {self.unmatched:>8,}",
                 f"  outside   {self.outside:>8,}   (coordinates outside every ward)",
                 f"  rejected  {self.rejected:>8,}"]
        if self.filtered:
            lines.append(f"  filtered  {self.filtered:>8,}   (left out by category/period filter)")
        if not self.balanced:  # pragma: no cover - guarded by tests
            lines.append("  WARNING: rows do not add up; please report this as a bug")
        if self.unmatched:
            lines.append("  unmatched values (closest ward names/codes):")
            groups = self.unmatched_rows.groupby("value", sort=True)
            for value, grp in list(groups)[:15]:
                closest = grp["closest"].iloc[0]
                if not closest:
                    hint = ""
                elif closest.startswith(_REASONS):
                    hint = f" -> {closest}"
                else:
                    hint = f" -> did you mean {closest}?"
                lines.append(f"    {value!s} ({len(grp)} row{'s' if len(grp) > 1 else ''}){hint}")
            if groups.ngroups > 15:
                lines.append(f"    ... and {groups.ngroups - 15} more values (see report.unmatched_rows)")
        if self.rejected:
            lines.append("  rejected rows:")
            for _, r in self.rejected_rows.head(10).iterrows():
                lines.append(f"    row {r['row']}: {r['reason']}")
            if self.rejected > 10:
                lines.append(f"    ... and {self.rejected - 10} more (see report.rejected_rows)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


@dataclass
class JoinReport:
    """What :func:`join` did with every input row.

    ``report.sections`` maps ``"reports"``, ``"referrals"`` and
    ``"population"`` to a :class:`SourceReport`. The attributes
    ``rows_read``, ``matched``, ``unmatched``, ``outside`` and ``rejected``
    are those of the first section (normally the reports).
    """

    wards: int
    sections: dict[str, SourceReport] = field(default_factory=dict)

    def _first(self) -> SourceReport:
        if not self.sections:
            raise AttributeError("no inputs were joined")
        return next(iter(self.sections.values()))

    def __getattr__(self, name):
        if name in ("rows_read", "matched", "unmatched", "outside", "rejected", "filtered",
                    "unmatched_rows", "outside_rows", "rejected_rows", "balanced", "total"):
            return getattr(self._first(), name)
        raise AttributeError(name)

    def summary(self) -> str:
        """A plain-text account of every input row, for the console or a notebook."""
        head = f"{self.wards:,} wards"
        return "\n".join([head] + [s.summary() for s in self.sections.values()])

    def _repr_html_(self) -> str:  # notebooks
        import html
        return f"<pre>{html.escape(self.summary())}</pre>"

    def __str__(self) -> str:
        return self.summary()


def normalise_name(name) -> str:
    """Normalise a ward name for matching: case, spaces, '&'/'and', punctuation.

    Examples
    --------
    >>> normalise_name("  St. Crispin & Kingsthorpe ")
    'st crispin and kingsthorpe'
    """
    s = re.sub(r"['’`]", "", str(name).casefold()).replace("&", " and ")
    s = re.sub(r"[^\w]+", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def _match_names(intake: Intake, wards: gpd.GeoDataFrame):
    """Return ward codes for ``intake.data["ward_name"]`` (NA if none) and closest candidates."""
    wn = wards["ward_name"].map(normalise_name)
    by_name: dict[str, list[int]] = {}
    for i, n in enumerate(wn):
        by_name.setdefault(n, []).append(i)
    dist_keys = [wards["lad_name"].map(normalise_name), wards["lad_code"].map(normalise_name)]
    codes, why = [], []
    has_district = "district" in intake.data
    for j, name in enumerate(intake.data["ward_name"]):
        n = normalise_name(name)
        idx = by_name.get(n, [])
        if len(idx) > 1 and has_district:
            d = normalise_name(intake.data["district"].iloc[j])
            idx = [i for i in idx if d in (dist_keys[0].iloc[i], dist_keys[1].iloc[i])]
        if len(idx) == 1:
            codes.append(wards["ward_code"].iloc[idx[0]])
            why.append("")
        elif len(idx) > 1:
            codes.append(pd.NA)
            why.append("ambiguous: " + ", ".join(
                f"{wards['ward_name'].iloc[i]} ({wards['lad_name'].iloc[i]})" for i in idx)
                + "; add a district column")
        else:
            codes.append(pd.NA)
            close = difflib.get_close_matches(n, list(by_name), n=3, cutoff=0.6)
            why.append(", ".join(wards["ward_name"].iloc[by_name[c][0]] for c in close))
    return pd.Series(codes, index=intake.data.index, dtype="string"), why


def _locate_points(x, y, wards: gpd.GeoDataFrame) -> pd.Series:
    """Ward code of each point (NA outside every ward). Points on a shared edge go to one ward."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=wards.crs, index=np.arange(len(x)))
    hit = gpd.sjoin(pts, wards[["ward_code", "geometry"]], how="left", predicate="intersects")
    hit = hit[~hit.index.duplicated(keep="first")]
    return pd.Series(hit["ward_code"].to_numpy(), dtype="string")


def _apply_filter(data: pd.DataFrame, column: str, wanted, intake: Intake, notes: list) -> pd.Series:
    """Rows to keep for a category/period filter.

    For the reports a filter that cannot apply is an error (it would silently
    map everything); for referrals it is a note in the report.
    """
    if wanted is None:
        return pd.Series(True, index=data.index)
    strict = intake.kind == "reports"
    if column not in data:
        if strict:
            raise InputError(f"{intake.source}: cannot filter by {column}: the input has no {column} "
                             "column. Remove the filter or add the column.")
        notes.append(f"no {column} column, so the {column} filter was not applied to this input")
        return pd.Series(True, index=data.index)
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    have = data[column].astype("string")
    keep = have.str.casefold().isin({str(w).casefold() for w in wanted}).fillna(False)
    present = set(have.dropna().str.casefold())
    missing = [w for w in wanted if str(w).casefold() not in present]
    if missing:
        avail = sorted(have.dropna().unique().tolist())
        msg = (f"{column} {missing} not found. Available: {avail[:30]}"
               f"{' ...' if len(avail) > 30 else ''}")
        if strict:
            raise InputError(f"{intake.source}: {msg}.")
        notes.append(msg)
    return keep


def place(intake: Intake, wards: gpd.GeoDataFrame, *, schools: Intake | None = None,
          category=None, period=None, lsoa: pd.DataFrame | None = None) -> tuple[pd.DataFrame, SourceReport]:
    """Give each kept row of ``intake`` a ward code; return the rows and a :class:`SourceReport`.

    The returned frame has the intake's columns plus ``ward_code`` (NA where
    unmatched or outside) and ``status`` (``matched``, ``unmatched``,
    ``outside``, ``filtered``).
    """
    rep = SourceReport(kind=intake.kind, source=intake.source, key=intake.key,
                       rows_read=intake.rows_read, rejected_rows=intake.rejected.copy())
    data = intake.data.copy()
    keep = _apply_filter(data, "category", category, intake, rep.notes) & \
        _apply_filter(data, "period", period, intake, rep.notes)
    closest = [""] * len(data)
    value = pd.Series(pd.NA, index=data.index, dtype="string")
    valid = set(wards["ward_code"])
    if intake.key == "ward_code":
        code = data["ward_code"].astype("string")
        value = code
        known = code.isin(valid)
        code = code.where(known)
        for i in np.flatnonzero(~known.to_numpy()):
            closest[i] = ", ".join(difflib.get_close_matches(str(value.iloc[i]), list(valid), n=3, cutoff=0.7))
    elif intake.key == "ward_name":
        code, closest = _match_names(intake, wards)
        value = data["ward_name"].astype("string")
    elif intake.key == "point":
        code = _locate_points(data["x"].to_numpy(), data["y"].to_numpy(), wards)
        code.index = data.index
    elif intake.key == "lsoa_code":
        if lsoa is None:
            raise InputError(f"{intake.source}: the {intake.kind} are coded by LSOA, not ward. Pass lsoa= "
                             "(CLI: --lsoa FILE): LSOA boundaries (e.g. LSOA 2011 GeoJSON) or an ONS "
                             "LSOA-to-ward lookup CSV, and gangmap will bridge them to wards.")
        value = data["lsoa_code"].astype("string")
        best = lsoa.sort_values("weight", ascending=False).drop_duplicates("lsoa_code")
        code = value.map(dict(zip(best["lsoa_code"], best["ward_code"]))).astype("string")
        code = code.where(code.isin(valid))
        closest = ["LSOA not in the bridge" if pd.isna(c) else "" for c in code]
    elif intake.key == "urn":
        if schools is None:
            raise InputError(f"{intake.source}: referrals are given per school (URN), so a schools "
                             "file is needed: pass schools='schools.csv' (GIAS columns URN, "
                             "EstablishmentName, Easting, Northing, AdministrativeWard (code)).")
        sch = schools.data.set_index("urn")
        sch_code = sch["ward_code"].where(sch["ward_code"].isin(valid)) if "ward_code" in sch else \
            pd.Series(pd.NA, index=sch.index, dtype="string")
        need = sch_code.isna() & sch["x"].notna()
        if need.any():
            sch_code = sch_code.copy()
            sch_code[need] = _locate_points(sch.loc[need, "x"].to_numpy(), sch.loc[need, "y"].to_numpy(),
                                            wards).to_numpy()
        value = data["urn"].astype("string")
        code = value.map(sch_code.to_dict()).astype("string")
        for i in np.flatnonzero(code.isna().to_numpy()):
            closest[i] = "" if value.iloc[i] in sch.index else "URN not in schools file"
    else:  # pragma: no cover
        raise InputError(f"unknown intake key {intake.key!r}")

    data["ward_code"] = code
    status = np.where(~keep, "filtered", np.where(code.notna(), "matched",
                      "outside" if intake.key == "point" else "unmatched"))
    data["status"] = status
    rep.filtered = int((status == "filtered").sum())
    rep.matched = int((status == "matched").sum())
    rep.total = float(data.loc[status == "matched", "count"].sum())
    um = status == "unmatched"
    rep.unmatched_rows = pd.DataFrame({"row": data.loc[um, "row"].to_numpy(),
                                       "value": value[um].to_numpy(),
                                       "closest": np.asarray(closest, dtype=object)[um]})
    rep.outside_rows = pd.DataFrame({"row": data.loc[status == "outside", "row"].to_numpy()})
    return data, rep


def join(wards, reports=None, referrals=None, population=None, *, schools=None,
         category=None, period=None, lsoa=None) -> tuple[gpd.GeoDataFrame, JoinReport]:
    """Join report, referral and population inputs onto wards.

    Parameters
    ----------
    wards : path or GeoDataFrame
        Ward boundaries (anything :func:`gangmap.read_wards` reads).
    reports, referrals, population : path, DataFrame or Intake, optional
        Inputs in any shape :mod:`gangmap.intake` reads.
    schools : path, DataFrame or Intake, optional
        GIAS schools file, needed when referrals are given per school (URN).
    category, period : str or list of str, optional
        Keep only these categories / periods (``YYYY-MM``) of the reports
        and referrals. Rows left out are counted as ``filtered``.
    lsoa : path or (Geo)DataFrame, optional
        For inputs coded by LSOA: LSOA boundaries (each LSOA goes to the ward
        holding its representative point) or an ONS LSOA-to-ward lookup
        table (best fit). See :func:`gangmap.bridge.lsoa_to_ward`.

    Returns
    -------
    table : GeoDataFrame
        One row per ward in the order of ``wards``: the canonical ward
        columns, ``reports`` and ``referrals`` (int, 0 where none) and
        ``population`` (float, NaN where missing), in EPSG:27700.
    report : JoinReport
        Counts of matched, unmatched, outside, rejected and filtered rows
        for each input; every row read is in exactly one of them.

    Examples
    --------
    >>> table, report = join(wards, reports="reports.csv")  # doctest: +SKIP
    >>> report.matched + report.unmatched + report.outside + report.rejected == report.rows_read  # doctest: +SKIP
    True
    """
    wards = wards if _is_canonical(wards) else read_wards(wards)
    table = wards[WARD_COLUMNS + ["geometry"]].copy()
    report = JoinReport(wards=len(table))
    sch = as_intake(schools, "schools") if schools is not None else None
    bridge, bridge_note = _bridge(lsoa, wards) if lsoa is not None else (None, None)
    periods: set[str] = set()
    for kind, obj in (("reports", reports), ("referrals", referrals), ("population", population)):
        if obj is None:
            continue
        intake = as_intake(obj, kind)
        flt = dict(category=category, period=period) if kind != "population" else {}
        placed, rep = place(intake, wards, schools=sch, lsoa=bridge, **flt)
        if intake.key == "lsoa_code" and bridge_note:
            rep.notes.append(bridge_note)
        if rep.unmatched and intake.key == "ward_code":
            guess = detect_vintage(rep.unmatched_rows["value"], wards)
            if guess is not None:
                rep.notes.append(guess.message)
        matched = placed[placed["status"] == "matched"]
        if kind == "population":
            dup = matched["ward_code"].duplicated(keep="first")
            if dup.any():  # a second population row for a ward is an error in that row
                extra = pd.DataFrame({"row": matched.loc[dup, "row"].to_numpy(),
                                      "reason": "second population row for ward " + matched.loc[dup, "ward_code"].astype(str)})
                rep.rejected_rows = pd.concat([rep.rejected_rows, extra], ignore_index=True)
                rep.matched -= int(dup.sum())
                matched = matched[~dup]
            values = matched.set_index("ward_code")["count"]
            table["population"] = table["ward_code"].map(values).astype("float64")
            missing = table["population"].isna().sum()
            if missing:
                rep.notes.append(f"{missing} ward(s) have no population: their rates will be missing")
        else:
            if "period" in matched:
                periods.update(matched["period"].dropna().astype(str))
            sums = matched.groupby("ward_code")["count"].sum()
            table[kind] = table["ward_code"].map(sums).fillna(0).astype("int64")
        report.sections[kind] = rep
    table.attrs = {"source": wards.attrs.get("source"), "category": category,
                   "periods": sorted(periods),
                   "gangmap_counts": [k for k in ("reports", "referrals") if k in table]}
    return table, report


def _bridge(lsoa, wards):
    """An LSOA-to-ward lookup from LSOA boundaries or a lookup table, and a one-line note."""
    from pathlib import Path

    from .bridge import lsoa_to_ward

    is_table = isinstance(lsoa, pd.DataFrame) and not isinstance(lsoa, gpd.GeoDataFrame)
    if is_table or (isinstance(lsoa, (str, Path)) and Path(lsoa).suffix.lower() in (".csv", ".xlsx")):
        lookup, rep = lsoa_to_ward(None, wards, lookup=lsoa)
        return lookup, f"LSOA codes bridged to wards with the lookup table {getattr(rep, 'source', '')}".strip()
    lookup, rep = lsoa_to_ward(lsoa, wards)
    return lookup, ("LSOAs bridged to wards by representative point: " + rep.summary().splitlines()[0])


def period_label(periods) -> str:
    """Describe a list of ``YYYY-MM`` periods: ``"2018-03"`` or ``"2018-01 to 2018-06"``."""
    periods = sorted(periods or [])
    if not periods:
        return "period not given"
    return periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"


def _is_canonical(obj) -> bool:
    return (isinstance(obj, gpd.GeoDataFrame) and all(c in obj for c in WARD_COLUMNS)
            and obj.crs is not None and obj.crs.to_epsg() == 27700)
