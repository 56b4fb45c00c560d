"""Readers: reports, referrals, population and schools, each as an :class:`Intake`.

Every reader returns the rows kept (normalised to a few columns) and the rows
rejected, each with its row number and a reason. Nothing is dropped
silently: ``len(data) + len(rejected) == rows_read``.

Rows find their area by the geography's code or name (``geography="lsoa"``
reads ``lsoa_code``, ``LSOA code``, ``LSOA11CD``, ...; wards by default), by a
point (latitude/longitude or easting/northing), by an LSOA code for wards
(through an LSOA-to-ward bridge), or by a school (URN). Category (``category``,
``Crime type``, ``concern``) and period (``period``, ``Month``, ``date``: read
by :mod:`gangmap.io.periods`) columns are kept so results can be filtered.
Record-level detail (coordinates, crime IDs, free text) stays inside the
:class:`Intake` and never reaches an export.

Row numbers are 1-based data rows: row 1 is the first row under the header.

Examples
--------
>>> import pandas as pd
>>> r = read_reports(pd.DataFrame({"LSOA11CD": ["E01000001", "E01000002"], "n": ["3", "0"]}), geography="lsoa")
>>> r.key, r.data["lsoa_code"].tolist(), r.data["count"].tolist()
('lsoa_code', ['E01000001', 'E01000002'], [3, 0])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, where
from ..geography import GSS_RE, MAP_CRS, WARD, WORK_CRS, Geography, get_geography
from .columns import (
    code_column,
    columns_text,
    find_column,
    is_known_column,
    name_column,
    norm_column,
    parent_columns,
)
from .options import cli_flag, pass_hint
from .periods import parse_periods
from .tables import Table, load_table
from .values import key_values, parse_counts, parse_numbers, text_values

__all__ = ["Intake", "read_reports", "read_referrals", "read_population", "read_schools", "as_intake",
           "rejections", "combine_intakes", "reason_in_file", "count_note", "POLICE_REQUIRED", "GIAS_COLUMNS"]

#: Columns that mark a data.police.uk street-level CSV.
POLICE_REQUIRED = ("Month", "Longitude", "Latitude", "Crime type")
#: The columns of a Get Information about Schools extract that :func:`read_schools` uses.
GIAS_COLUMNS = ["URN", "EstablishmentName", "Easting", "Northing", "AdministrativeWard (code)"]


#: The reason a row with no value at all gets; such rows are skipped with a note, not rejected.
BLANK_LINE = "blank line"


def rejections(items=(), counts: Any = None) -> pd.DataFrame:
    """An empty (or filled) table of rejected rows: ``row`` (int), ``reason`` and ``count``.

    ``count`` is what the row held, so a join can say how much was not placed
    (a row refused for a blank code still held its 7 reports): ``counts`` is
    one number for every row (1 for a record such as a police.uk crime) or a
    Series by row number; NaN where the count itself could not be read (a
    word, a negative or a fraction), never 0.
    """
    frame = pd.DataFrame(list(items), columns=["row", "reason"]).astype({"row": "int64", "reason": "object"})
    held = frame["row"].map(counts) if isinstance(counts, pd.Series) else counts
    held = pd.to_numeric(pd.Series(held, index=frame.index, dtype="object"), errors="coerce").astype("float64")
    frame["count"] = held.where((held >= 0) & (held == held.round()))
    return frame


@dataclass
class Intake:
    """Rows read from one input, normalised, with the rows rejected.

    Attributes
    ----------
    kind : str
        ``"reports"``, ``"referrals"``, ``"population"`` or ``"schools"``.
    key : str
        How rows find their area: the geography's code or name column
        (``"ward_code"``, ``"ward_name"``, ``"lsoa_code"`` ...), ``"point"``
        (coordinates), ``"lsoa_code"`` for wards (through an LSOA-to-ward
        bridge) or ``"urn"`` (a school).
    source : str
        File name, or ``"<DataFrame>"``.
    rows_read : int
        Data rows in the input (blank rows between them not included).
    data : DataFrame
        Kept rows with ``row`` (1-based data row), the key column(s),
        ``count`` and, where given, ``category`` and ``period``; for
        ``key="point"`` also ``x``/``y`` in EPSG:27700.
    rejected : DataFrame
        ``row`` and ``reason`` for each row that could not be used.
    geography : Geography
        The areas the key columns name (wards by default).
    notes : tuple of str
        How the file was read (lines decoded as cp1252, title lines skipped,
        sheet, files of an archive ...).
    missing_periods : tuple of str
        Months (``YYYY-MM``) asked for, or inside the span read, that some
        source did not publish (police.uk: a force without a file for the
        month; which force is in the notes): no data, never zero.
    blank_rows : tuple of int
        Row numbers of blank rows between the data: skipped (a note says
        so), neither kept nor rejected, so ``row`` keeps following the file.
    """

    kind: str
    key: str
    source: str
    rows_read: int
    data: pd.DataFrame
    rejected: pd.DataFrame = field(default_factory=rejections)
    geography: Geography = WARD
    notes: tuple[str, ...] = ()
    missing_periods: tuple[str, ...] = ()
    blank_rows: tuple[int, ...] = ()

    @property
    def categories(self) -> list[str]:
        """Distinct categories, sorted (empty if the input had none)."""
        if "category" not in self.data:
            return []
        return sorted(self.data["category"].dropna().unique().tolist())

    @property
    def periods(self) -> list[str]:
        """Distinct periods (``YYYY-MM``), sorted (empty if the input had none)."""
        if "period" not in self.data:
            return []
        return sorted(self.data["period"].dropna().unique().tolist())

    def to_points(self):
        """Rows with coordinates as points (EPSG:27700), e.g. schools for a map layer.

        Only for schools: record-level reports and referrals never go on a map.
        """
        import geopandas as gpd

        if self.kind != "schools":
            raise InputError(f"{self.source}: {self.kind} are record-level and never leave the machine as "
                             f"points; map them as counts per {self.geography.label} (gangmap.join, then make_safe).")
        if "x" not in self.data:
            raise InputError(f"{self.source}: these {self.kind} have no coordinates to map.")
        d = self.data.dropna(subset=["x", "y"])
        return gpd.GeoDataFrame(d.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(d["x"], d["y"]),
                                crs=WORK_CRS)

    def _repr_html_(self) -> str:
        from ..reprs import card

        facts = [("input", self.kind), ("source", self.source), ("placed by", self.key),
                 ("rows read", f"{self.rows_read:,}"), ("kept", f"{len(self.data):,}"),
                 ("rejected", f"{len(self.rejected):,}"),
                 ("categories", ", ".join(self.categories[:12]) + (" …" if len(self.categories) > 12 else "")
                  if self.categories else None),
                 ("periods", f"{self.periods[0]} to {self.periods[-1]} ({len(self.periods)})" if self.periods
                  else None),
                 ("months with no data", ", ".join(self.missing_periods) or None)]
        return card("Intake", facts, "; ".join(self.notes), [("Rejected rows", self.rejected)])

    def __repr__(self) -> str:
        return (f"Intake({self.kind!r}, key={self.key!r}, source={self.source!r}, "
                f"rows_read={self.rows_read}, kept={len(self.data)}, rejected={len(self.rejected)})")


# ---------------------------------------------------------------------------- shared steps
def _missing(source, what, needs: str, columns, hint: str) -> InputError:
    return InputError(f"{where(source)}cannot tell how to place the {what}: no {needs} column found. Columns "
                      f"are: {columns_text(columns)}. Rename a column or pass its name (for example {hint}).")


def _looks_like_codes(values: pd.Series) -> bool:
    """True when most non-blank values are GSS codes (``E05012345``)."""
    v = values.dropna().astype("string").str.strip()
    v = v[v != ""]
    return v.empty or v.str.upper().str.match(GSS_RE.pattern).mean() >= 0.5


def _finish(kind, key, table: Table, out: pd.DataFrame, keep, bad, geo: Geography, notes=()) -> Intake:
    blank = sorted({r for r, why in bad if why == BLANK_LINE})
    if blank:  # a blank line between rows (Excel exports, hand-made lists) holds nothing: skipped, and said
        bad = [(r, why) for r, why in bad if r not in blank]
        out = out[~out["row"].isin(blank)]
        shown = ", ".join(map(str, blank[:8])) + (f" ... ({len(blank):,} in all)" if len(blank) > 8 else "")
        notes = (*notes, f"blank rows between the data skipped (row{'s' if len(blank) > 1 else ''} {shown}).")
    rejected_rows = {r for r, _ in bad}
    kept = out[~out["row"].isin(rejected_rows)][keep].reset_index(drop=True)
    if "count" in kept:
        kept["count"] = kept["count"].astype("int64") if kept["count"].notna().all() else kept["count"]
    seen, reasons = set(), []
    for r, why in sorted(bad, key=lambda t: t[0]):  # one reason per row: the first found
        if r not in seen:
            seen.add(r)
            reasons.append((r, why))
    held = out.set_index("row")["count"] if "count" in out else None
    return Intake(kind=kind, key=key, source=table.source, rows_read=len(out), data=kept,
                  rejected=rejections(reasons, held), geography=geo, notes=(*table.notes, *notes),
                  blank_rows=tuple(blank))


def _with_common(df, out, source, category, period, bad, count=None, *, kind="reports", periods=True,
                 dayfirst=None, notes=None):
    """Fill ``out`` with row, count, category and period columns from ``df``.

    Returns the names filled and the count column read (None when each row
    counts one: ``count=False``, or no count column found; see
    :func:`count_note`).
    """
    out["row"] = np.arange(1, len(df) + 1, dtype="int64")
    for r in out["row"][df.isna().all(axis=1).to_numpy()]:
        bad.append((int(r), BLANK_LINE))
    ccol = None if count is False else find_column(df.columns, "count", count, source)
    out["count"] = parse_counts(df[ccol], ccol, out["row"], bad, source) if ccol is not None else 1
    cat = find_column(df.columns, "category", category, source) if periods or category else None
    if cat is not None:
        out["category"] = text_values(df[cat])
    per = find_column(df.columns, "period", period, source) if periods or period else None
    if per is not None:
        out["period"] = parse_periods(df[per], per, out["row"], bad, source, kind=kind, dayfirst=dayfirst,
                                      notes=notes)
    return [c for c in ("row", "count", "category", "period") if c in out], ccol


def _numeric(values: pd.Series) -> bool:
    """Whether every non-blank value is a number (thousands commas allowed) and some value is there."""
    s = values.dropna().astype("string").str.strip()
    s = s[s != ""]
    return bool(len(s)) and bool(pd.to_numeric(s.str.replace(",", "", regex=False), errors="coerce").notna().all())


def count_note(df: pd.DataFrame, ccol, count, given, source: str, kind: str) -> tuple[str, ...]:
    """Check that rows without a count column are records; the note saying so.

    A file of counts whose count column has a name gangmap does not know
    (``Cases``, ``Total`` are known; ``Q1``, ``Crimes 2018`` are not) would
    otherwise count each row as one, silently. So when no count column was
    found and another column (not a code, name, month, category, coordinate
    or other known column, nor one named in ``given``) holds only numbers,
    the reader stops and names those columns: give the count column
    (``count=``), or say each row is one record (``count=False``). When no
    such column is there, the rows are records and a note says each counts
    as one.

    Raises
    ------
    InputError
        No count column, and some other column holds numbers.
    """
    if ccol is not None or count is False:
        return ()
    others = [c for c in df.columns if c not in given and not is_known_column(c)]
    numeric = [str(c) for c in others if _numeric(df[c])]
    what = kind.rstrip("s")
    if numeric:
        raise InputError(f"{where(source)}no count column found, but column(s) {', '.join(map(repr, numeric))} "
                         f"hold numbers. If one is the number of {kind} in each row, pass "
                         f"{pass_hint(kind, 'count', numeric[0])}; if each row is one {what}, pass "
                         f"{pass_hint(kind, 'count', False)}.")
    return (f"no count column: each row counts as one {what}",)


def add_points(df, out, source, bad, *, lat=None, lon=None, easting=None, northing=None) -> bool:
    """Add x/y (EPSG:27700) from lat/lon or easting/northing; False if neither found.

    A decimal comma in a coordinate is an error for the file (see :mod:`gangmap.io.values`).
    """
    cols = df.columns
    la, lo = find_column(cols, "lat", lat, source), find_column(cols, "lon", lon, source)
    ea, no = find_column(cols, "easting", easting, source), find_column(cols, "northing", northing, source)
    if la is not None and lo is not None:
        y = parse_numbers(df[la], la, out["row"], source, thousands=False)
        x = parse_numbers(df[lo], lo, out["row"], source, thousands=False)
        ok = x.between(-180, 180) & y.between(-90, 90)
        for r, a, b in zip(out["row"][~ok], df[lo][~ok], df[la][~ok]):
            bad.append((int(r), f"no usable coordinates ({lo}={_shown(a)}, {la}={_shown(b)})"))
        east, north = _to_work_crs().transform(x.where(ok, 0).to_numpy(), y.where(ok, 0).to_numpy())
        out["x"], out["y"] = pd.Series(east, index=out.index).where(ok), pd.Series(north, index=out.index).where(ok)
        return True
    if ea is not None and no is not None:
        x = parse_numbers(df[ea], ea, out["row"], source)
        y = parse_numbers(df[no], no, out["row"], source)
        ok = x.between(-100_000, 800_000) & y.between(-100_000, 1_300_000)
        for r, a, b in zip(out["row"][~ok], df[ea][~ok], df[no][~ok]):
            bad.append((int(r), f"no usable coordinates ({ea}={_shown(a)}, {no}={_shown(b)}); expected "
                                "British National Grid metres"))
        out["x"], out["y"] = x.where(ok), y.where(ok)
        return True
    return False


@functools.lru_cache(maxsize=1)
def _to_work_crs():
    """Longitude/latitude (EPSG:4326) to EPSG:27700, built once (pyproj, as geopandas' to_crs uses)."""
    from pyproj import Transformer

    return Transformer.from_crs(MAP_CRS, WORK_CRS, always_xy=True)


def _shown(value) -> str:
    return "''" if pd.isna(value) else repr(str(value))


# ---------------------------------------------------------------------------- readers
def _blank_codes(df, cc: str, nc, source, geo: Geography, kind: str, by, notes: list) -> None:
    """A code column blank in every row: place by name (with a note) when there is a name column, else raise.

    Raises
    ------
    InputError
        Naming the file, the column, its rows and the fix (``by="code"``
        asked, or no name column to fall back on).
    """
    if nc is not None and by != "code":
        notes.append(f"column {cc!r} is blank in every row, so the {kind} are placed by {geo.label} name "
                     f"(column {nc!r})")
        return
    n = len(df)
    rows = f"rows 1-{n}" if n > 1 else "row 1"
    other = f"place them by name (by='name', command line --by name; column {nc!r})" if nc is not None else \
        "give their coordinates or names"
    raise InputError(f"{source}: column {cc!r} holds the {geo.label} codes but is blank in every row ({rows}), so "
                     f"the {kind} cannot be placed by code. Fill in the codes, name the column that holds them "
                     f"({pass_hint(kind, 'code', 'COLUMN')}), or {other}.")


def _area_key(df, out, bad, source, geo: Geography, code, name, *, kind: str = "reports", by=None,
              notes: list | None = None) -> tuple[str, list[str]] | None:
    """Place rows by the geography's code or name column: ``(key, extra columns)``, or None.

    ``by="code"`` or ``"name"`` says which (see :func:`_blank_codes` for a
    code column with no code at all).
    """
    cols = df.columns
    cc = code_column(cols, geo, code, source) if by != "name" else None
    if cc is not None and code is None and geo.gss and not _looks_like_codes(df[cc]):
        # e.g. a column called "Ward" that holds names: match by name instead.
        name = name or (cc if name_column(cols, geo, None, source) is None else None)
        cc = None
    if cc is not None and not df[cc].astype("string").str.strip().replace("", pd.NA).notna().any():
        _blank_codes(df, cc, name_column(cols, geo, name, source), source, geo, kind, by,
                     notes if notes is not None else [])
        cc = None
    if cc is None and by == "code":
        raise InputError(f"{where(source)}cannot place the {kind} by {geo.label} code: no code column with codes "
                         f"found. Columns are: {columns_text(cols)}. Name it ({pass_hint(kind, 'code', 'COLUMN')}).")
    if cc is not None:
        out[geo.code] = key_values(df[cc], cc, out["row"], bad, upper=geo.gss)
        return geo.code, [geo.code]
    nc = name_column(cols, geo, name, source)
    if nc is None:
        return None
    out[geo.name] = key_values(df[nc], nc, out["row"], bad)
    extra = [geo.name]
    pcode, pname = parent_columns(cols, geo)
    parent = pname or pcode
    if parent is not None and parent != nc:
        out["district"] = text_values(df[parent])
        extra.append("district")
    return geo.name, extra


def _by_lsoa_code(df, out, bad, source, kind: str, points: dict) -> tuple[str, list[str]]:
    """Place rows by their LSOA code only (``by="lsoa"``): coordinates are kept where usable, never required."""
    lc = code_column(df.columns, get_geography("lsoa"))
    if lc is None:
        raise InputError(f"{where(source)}cannot place the {kind} by LSOA: no LSOA code column found. Columns are: "
                         f"{columns_text(df.columns)}.")
    out["lsoa_code"] = key_values(df[lc], lc, out["row"], bad, upper=True)
    ignored: list = []  # a row without coordinates is still placed by its LSOA code
    return "lsoa_code", (["x", "y"] if add_points(df, out, source, ignored, **points) else []) + ["lsoa_code"]


def _placed(df, out, bad, source, geo: Geography, kind: str, police: bool, code, name, points: dict, *,
            by=None, notes: list | None = None):
    """How rows find their area: ``(key, columns added)``; raises when no column can place them."""
    found = None if police else _area_key(df, out, bad, source, geo, code, name, kind=kind, by=by, notes=notes)
    if found is not None:
        return found
    if add_points(df, out, source, bad, **points):
        lsoa = code_column(df.columns, get_geography("lsoa"))
        if lsoa is not None:
            out["lsoa_code"] = text_values(df[lsoa]).str.upper()
        return "point", ["x", "y"] + (["lsoa_code"] if lsoa else [])
    lc = code_column(df.columns, get_geography("lsoa")) if geo.level != "lsoa" else None
    if lc is not None:
        out["lsoa_code"] = key_values(df[lc], lc, out["row"], bad, upper=True)
        return "lsoa_code", ["lsoa_code"]
    column = f"{geo.label[:1].upper()}{geo.label[1:]} code"
    flag = cli_flag(kind, "code", column)
    hint = f"{'ward_code' if geo.level == 'ward' else 'code'}={column!r}" + (f" (command line: {flag})" if flag else "")
    raise _missing(source, kind, f"{geo.label} code, {geo.label} name, latitude/longitude, easting/northing"
                   + (" or LSOA code" if geo.level != "lsoa" else ""), df.columns, hint)


def read_reports(path_or_df, *, geography=None, code=None, name=None, ward_code=None, ward_name=None,
                 lat=None, lon=None, easting=None, northing=None, count=None, category=None, period=None,
                 kind="reports", sheet=None, by=None, dayfirst=None) -> Intake:
    """Read report counts or record-level reports.

    The shape is detected from the columns, in this order: a data.police.uk
    street-level CSV (placed by point); the geography's code column; its name
    column (with a district column, when there is one, to tell apart areas of
    the same name); latitude and longitude; easting and northing; for wards,
    an LSOA code column (joined through ``gangmap.join(..., lsoa=...)``). Pass
    a column name to override detection.

    Parameters
    ----------
    path_or_df : str, Path or DataFrame
        CSV or XLSX file, or a DataFrame.
    geography : str or Geography, optional
        The areas the code and name columns name: ``"ward"`` (default),
        ``"lsoa"``, ``"msoa"``, ``"oa"``, ``"neighbourhood"``, or a custom one.
    code, name : str, optional
        The code or name column (``ward_code=``/``ward_name=`` are the same for wards).
    count : str or False, optional
        The count column. Detected by name (``count``, ``reports``, ``Total``,
        ``Incidents``, ``Count of Crime ID`` ...); without one each row counts
        as one, which is said in the notes, and a file with another column of
        numbers is refused until you say which it is: ``count="COLUMN"``, or
        ``count=False`` for rows that are records (see :func:`count_note`).
    lat, lon, easting, northing, category, period : str, optional
        Column names, when they are not detected.
    sheet : str or int, optional
        The worksheet of a workbook with several sheets.
    dayfirst : bool, optional
        Whether dates like ``01/03/2018`` are day first; by default decided
        over the whole column (see :mod:`gangmap.io.periods`).
    by : {"lsoa", "code", "name"}, optional
        ``"lsoa"``: the rows will be placed by their LSOA code (``gangmap.join(...,
        by="lsoa")``), so a row needs only its LSOA code; coordinates are kept
        where usable and a row without them is not rejected. ``"code"`` or
        ``"name"``: by the area code or name column. Without it, a code column
        blank in every row gives way to the name column (with a note).

    Returns
    -------
    Intake

    Raises
    ------
    InputError
        The file is missing, empty, not a CSV, has a decimal comma, month/day
        dates, numbers but no count column, or no column to place the reports
        by. Bad values in single rows are not errors: those rows are listed
        in ``Intake.rejected``.

    Examples
    --------
    >>> r = read_reports(pd.DataFrame({"ward_code": ["E05900001", "E05900002"], "count": [3, 0]}))
    >>> r.key, r.rows_read, r.data["count"].tolist()
    ('ward_code', 2, [3, 0])
    """
    geo = get_geography(geography or "ward")
    code, name = code if code is not None else ward_code, name if name is not None else ward_name
    table = load_table(path_or_df, what=kind, sheet=sheet)
    df, source = table.frame, table.source
    if df.columns.empty:
        raise InputError(f"{source}: no columns found. Export the {kind} again with a header row.")
    police = all(c in df.columns for c in POLICE_REQUIRED)
    bad: list = []
    out = pd.DataFrame(index=df.index)
    if police:  # data.police.uk: each row is one crime; Crime ID, Location, Context are never kept
        category, period, count = category or "Crime type", period or "Month", False
    notes: list[str] = []
    common, ccol = _with_common(df, out, source, category, period, bad, count, kind=kind,
                                periods=kind != "population", dayfirst=dayfirst, notes=notes)
    points = {"lat": lat, "lon": lon, "easting": easting, "northing": northing}
    if by == "lsoa" and geo.level != "lsoa":
        key, extra = _by_lsoa_code(df, out, bad, source, kind, points)
    else:
        key, extra = _placed(df, out, bad, source, geo, kind, police, code, name, points, by=by, notes=notes)
    given = {c for c in (code, name, category, period, *points.values()) if c is not None}
    notes += count_note(df, ccol, count, given, source, kind)
    return _finish(kind, key, table, out, common + extra, bad, geo, tuple(notes))


def read_schools(path_or_df, *, urn=None, name=None, easting=None, northing=None, ward_code=None,
                 sheet=None) -> Intake:
    """Read a schools file with GIAS column names.

    Uses ``URN``, ``EstablishmentName``, ``Easting``, ``Northing`` and
    ``AdministrativeWard (code)`` (the names in the Get Information about
    Schools extract); other names can be passed.

    Returns
    -------
    Intake
        ``kind="schools"``; ``data`` has ``row``, ``urn``, ``school_name``,
        ``x``, ``y`` (EPSG:27700) and ``ward_code`` where given.
    """
    table = load_table(path_or_df, what="schools file", sheet=sheet)
    df, source = table.frame, table.source
    cols = df.columns
    ucol = find_column(cols, "urn", urn, source)
    if ucol is None:
        raise InputError(f"{source}: no URN column in the schools file; columns are "
                         f"{columns_text(cols)}. GIAS extracts name it 'URN'.")
    ncol = name or find_column(cols, "school_name")
    bad: list = []
    out = pd.DataFrame({"row": np.arange(1, len(df) + 1, dtype="int64")}, index=df.index)
    out["urn"] = text_values(df[ucol])
    out["school_name"] = text_values(df[ncol]) if ncol else out["urn"]
    wcol = ward_code or next((c for c in cols if norm_column(c) == "administrativeward(code)"), None)
    wcol = wcol or code_column(cols, WARD)
    if wcol is not None:
        out["ward_code"] = text_values(df[wcol]).str.upper()
    if not add_points(df, out, source, bad, easting=easting, northing=northing):
        if wcol is None:
            raise _missing(source, "schools", "Easting/Northing or AdministrativeWard (code)", cols,
                           "easting='X'")
        out["x"] = out["y"] = np.nan
    dup = out["urn"].duplicated(keep="first") & out["urn"].notna()
    for r, u in zip(out["row"][dup], out["urn"][dup]):
        bad.append((int(r), f"duplicate URN {u}"))
    for r in out["row"][out["urn"].isna()]:
        bad.append((int(r), "URN is blank"))
    keep = ["row", "urn", "school_name", "x", "y"] + (["ward_code"] if wcol else [])
    if wcol is not None:  # a school without coordinates is still usable through its ward code
        bad = [(r, why) for r, why in bad
               if not (why.startswith("no usable coordinates") and pd.notna(out.loc[r - 1, "ward_code"]))]
    return _finish("schools", "urn", table, out, keep, bad, WARD)


def read_referrals(path_or_df, *, urn=None, geography=None, code=None, name=None, ward_code=None, ward_name=None,
                   count=None, category=None, period=None, sheet=None, dayfirst=None) -> Intake:
    """Read school referrals: per school (``URN``) or by the pupil's home area.

    Per-school referrals are placed through a schools file given to
    :func:`gangmap.join` (``schools=``): by the school's
    ``AdministrativeWard (code)`` or, failing that, its Easting/Northing.

    Examples
    --------
    >>> r = read_referrals(pd.DataFrame({"URN": ["100001"], "referrals": ["4"]}))
    >>> r.key, r.data["count"].tolist()
    ('urn', [4])
    """
    table = load_table(path_or_df, what="referrals", sheet=sheet)
    df, source = table.frame, table.source
    ucol = find_column(df.columns, "urn", urn, source)
    if ucol is None or any(v is not None for v in (code, name, ward_code, ward_name)):
        return read_reports(table, geography=geography, code=code, name=name, ward_code=ward_code,
                            ward_name=ward_name, count=count, category=category, period=period, kind="referrals",
                            dayfirst=dayfirst)
    bad: list = []
    out = pd.DataFrame(index=df.index)
    notes: list[str] = []
    common, ccol = _with_common(df, out, source, category, period, bad, count=count, kind="referrals",
                                dayfirst=dayfirst, notes=notes)
    out["urn"] = key_values(df[ucol], ucol, out["row"], bad)
    notes += count_note(df, ccol, count, {c for c in (ucol, category, period) if c}, source, "referrals")
    return _finish("referrals", "urn", table, out, common + ["urn"], bad, get_geography(geography or "ward"),
                   tuple(notes))


def read_population(path_or_df, *, geography=None, code=None, name=None, ward_code=None, ward_name=None,
                    population=None, sheet=None) -> Intake:
    """Read a population table per area (for example children aged 10-17 per ward or LSOA).

    Returns
    -------
    Intake
        ``kind="population"``; the population is in ``data["count"]``.

    Examples
    --------
    >>> p = read_population(pd.DataFrame({"ward_code": ["E05900001"], "population": ["1200"]}))
    >>> p.data["count"].tolist()
    [1200]
    """
    table = load_table(path_or_df, what="population table", sheet=sheet)
    df, source = table.frame, table.source
    pcol = find_column(df.columns, "population", population, source)
    if pcol is None:
        numeric = [c for c in df.columns if pd.to_numeric(df[c], errors="coerce").notna().all()]
        if len(numeric) != 1:
            raise InputError(f"{source}: no population column found; columns are "
                             f"{columns_text(df.columns)}. Pass population='COLUMN'.")
        pcol = numeric[0]
    return read_reports(table, geography=geography, code=code, name=name, ward_code=ward_code,
                        ward_name=ward_name, count=pcol, kind="population")


def reason_in_file(label: str, row: int, why: str, several: bool) -> str:
    """A rejected row's reason: prefixed with its file and row there when rows of several files are numbered on."""
    return f"{label} row {row}: {why}" if several else why


def combine_intakes(parts: list[tuple[str, Intake]], source: str) -> Intake:
    """One Intake from several ``(label, intake)`` read from different files.

    Rows are numbered on across the files in the order given, so every row
    read is accounted for once; a rejected row's reason names its file and
    its row there (when there are several files), and notes are prefixed by
    their file. The parts must place their rows the same way (same ``key``
    and geography).

    Raises
    ------
    InputError
        The parts are placed differently (e.g. one by code, one by point).
    """
    first = parts[0][1]
    for label, it in parts[1:]:
        if (it.key, it.kind, it.geography) != (first.key, first.kind, first.geography):
            raise InputError(f"{label}: its {it.kind} are placed by {it.key}, those of {parts[0][0]} by {first.key}; "
                             "files read together must have the same columns to place their rows. Read them "
                             "separately, or give them the same area columns.")
    data: list[pd.DataFrame] = []
    rejected: list[pd.DataFrame] = []
    notes: list[str] = []
    offset = read = 0
    several = len(parts) > 1
    blank: list[int] = []
    for label, it in parts:
        blank += [r + offset for r in it.blank_rows]
        data.append(it.data.assign(row=it.data["row"] + offset))
        if len(it.rejected):
            rejected.append(it.rejected.assign(row=it.rejected["row"] + offset, reason=[
                reason_in_file(label, r, why, several) for r, why in zip(it.rejected["row"], it.rejected["reason"])]))
        notes.extend(f"{label}: {n}" for n in it.notes)
        read += it.rows_read  # rows numbered on past the last one of each file (skipped blank lines included)
        offset += max([it.rows_read, *it.data["row"].nlargest(1), *it.rejected["row"].nlargest(1)])
    frame = pd.concat(data, ignore_index=True) if len(data) > 1 else data[0]
    rej = rejections() if not rejected else pd.concat(rejected, ignore_index=True).astype({"row": "int64"})
    missing = tuple(sorted({m for _, it in parts for m in it.missing_periods}))
    return Intake(kind=first.kind, key=first.key, source=parts[0][0] if not several else source, rows_read=read,
                  data=frame, rejected=rej, geography=first.geography, notes=tuple(notes), missing_periods=missing,
                  blank_rows=tuple(blank))


def as_intake(obj, kind: str, **kwargs) -> Intake:
    """``obj`` as an :class:`Intake`, read with the reader of ``kind`` unless it already is one.

    A list of files is read file by file and combined
    (:func:`gangmap.io.sources.read_inputs`).
    """
    if isinstance(obj, Intake):
        return obj
    if isinstance(obj, (list, tuple)):
        from .sources import read_inputs

        return read_inputs(obj, kind, **kwargs)
    readers: dict[str, Callable[..., Intake]] = {"reports": read_reports, "referrals": read_referrals,
                                                 "population": read_population, "schools": read_schools}
    if kind not in readers:
        raise InputError(f"unknown input kind {kind!r}; use one of {', '.join(readers)}.")
    return readers[kind](obj, **kwargs)
