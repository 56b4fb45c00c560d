"""Intake: read reports, referrals, schools and population in the shapes real data come in.

Every reader returns an :class:`Intake`: the rows kept (normalised to a few
columns) and the rows rejected, each with its row number and a reason. Nothing
is dropped silently: ``len(kept rows) + len(rejected) == rows_read``.

Shapes understood
-----------------
* counts by ward code (``ward_code`` or ``WDxxCD``) or by ward name
  (``ward_name`` or ``WDxxNM``), with an optional count column
  (``count``, ``reports``, ``n``, ``value``); without one every row is one report;
* record-level reports with ``latitude``/``longitude`` or ``easting``/``northing``;
* data.police.uk street-level CSVs exactly as published;
* referrals per school (``URN``) joined through a GIAS schools file, or by the
  pupil's home ward;
* a population table per ward.

Category (``category``, ``Crime type``, ``concern``) and period (``period``,
``Month``, ``month``, ``date``) columns are kept so results can be filtered.
Record-level detail (coordinates, crime IDs, free text) stays inside the
:class:`Intake` and never reaches an export.

Row numbers are 1-based data rows: row 1 is the first row after the header
(line 2 of a CSV file).

Examples
--------
>>> from gangmap import intake
>>> reports = intake.read_reports("data/demo/reports.csv")  # doctest: +SKIP
>>> reports.rows_read, len(reports.rejected)  # doctest: +SKIP
(1234, 0)
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError, where
from .boundaries import WORK_CRS

POLICE_COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                  "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category",
                  "Context"]
GIAS_COLUMNS = ["URN", "EstablishmentName", "Easting", "Northing", "AdministrativeWard (code)"]

# Recognised column names, lower-cased with spaces/underscores removed -> role.
_ALIASES = {
    "ward_code": ["wardcode", "ward", "wdcd", "administrativeward(code)"],
    "ward_name": ["wardname", "wdnm", "administrativeward(name)", "administrativeward"],
    "lad_code": ["ladcode", "districtcode"],
    "lad_name": ["ladname", "district", "districtname", "localauthority"],
    "count": ["count", "reports", "n", "value", "referrals", "number"],
    "category": ["category", "crimetype", "concern", "concerntype", "type"],
    "period": ["period", "month", "date"],
    "lat": ["latitude", "lat"],
    "lon": ["longitude", "lon", "lng", "long"],
    "easting": ["easting", "x", "eastings"],
    "northing": ["northing", "y", "northings"],
    "urn": ["urn", "schoolurn"],
    "population": ["population", "pop", "children", "population1017", "children1017"],
    "lsoa_code": ["lsoacode", "lsoa11cd", "lsoa21cd"],
}
_VINTAGE = {
    "ward_code": re.compile(r"^wd\d{2}cd$"),
    "ward_name": re.compile(r"^wd\d{2}nm$"),
    "lad_code": re.compile(r"^lad\d{2}cd$"),
    "lad_name": re.compile(r"^lad\d{2}nm$"),
    "lsoa_code": re.compile(r"^lsoa\d{2}cd$"),
}


@dataclass
class Intake:
    """Rows read from one input, normalised, with the rows rejected.

    Attributes
    ----------
    kind : str
        ``"reports"``, ``"referrals"``, ``"population"`` or ``"schools"``.
    key : str
        How rows find their ward: ``"ward_code"``, ``"ward_name"``,
        ``"point"`` (coordinates), ``"lsoa_code"`` (through an LSOA-to-ward
        bridge) or ``"urn"`` (a school).
    source : str
        File name, or ``"<DataFrame>"``.
    rows_read : int
        Data rows in the input.
    data : DataFrame
        Kept rows with ``row`` (1-based data row), the key column(s),
        ``count`` and, where given, ``category`` and ``period``; for
        ``key="point"`` also ``x``/``y`` in EPSG:27700.
    rejected : DataFrame
        ``row`` and ``reason`` for each row that could not be used.
    """

    kind: str
    key: str
    source: str
    rows_read: int
    data: pd.DataFrame
    rejected: pd.DataFrame = field(default_factory=lambda: _rejections([]))

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

    def to_points(self) -> gpd.GeoDataFrame:
        """Rows with coordinates as points (EPSG:27700), e.g. schools for a map layer.

        Only for schools: record-level reports and referrals never go on a map.
        """
        if self.kind != "schools":
            raise InputError(f"{self.source}: {self.kind} are record-level and never leave the machine as "
                             "points; map them as counts per ward (gangmap.join, then make_safe).")
        if "x" not in self.data:
            raise InputError(f"{self.source}: these {self.kind} have no coordinates to map.")
        d = self.data.dropna(subset=["x", "y"])
        return gpd.GeoDataFrame(d.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(d["x"], d["y"]),
                                crs=WORK_CRS)

    def __repr__(self) -> str:
        return (f"Intake({self.kind!r}, key={self.key!r}, source={self.source!r}, "
                f"rows_read={self.rows_read}, kept={len(self.data)}, rejected={len(self.rejected)})")


def _rejections(items) -> pd.DataFrame:
    return pd.DataFrame(items, columns=["row", "reason"]).astype({"row": "int64", "reason": "object"})


def _norm_col(name) -> str:
    return re.sub(r"[\s_\-]", "", str(name)).lower()


def find_column(columns, role: str, given: str | None = None, source: str | None = None):
    """Return the column in ``columns`` that plays ``role``, or None.

    ``given`` overrides detection and must exist.
    """
    if given is not None:
        if given not in columns:
            raise InputError(f"{where(source)}column {given!r} not found; columns are: "
                             f"{', '.join(map(str, columns))}.")
        return given
    normed = {_norm_col(c): c for c in columns}
    if role in columns:
        return role
    for alias in _ALIASES.get(role, []):
        if alias in normed:
            return normed[alias]
    if role in _VINTAGE:
        hits = sorted((c for n, c in normed.items() if _VINTAGE[role].match(n)), reverse=True)
        if hits:
            return hits[0]
    return None


def read_table(path_or_df, *, what: str = "input") -> tuple[pd.DataFrame, str]:
    """Read a CSV/XLSX file (or take a DataFrame) as strings; return ``(frame, source)``.

    Raises :class:`InputError` with the file name and the fix for a missing,
    empty, binary or malformed file.
    """
    if isinstance(path_or_df, Intake):
        raise InputError(f"{what} is already an Intake; pass it to gangmap.join directly.")
    if isinstance(path_or_df, pd.DataFrame):
        return path_or_df.reset_index(drop=True).copy(), path_or_df.attrs.get("source", "<DataFrame>")
    if not isinstance(path_or_df, (str, Path)):
        raise InputError(f"{what} must be a file path or a DataFrame, not {type(path_or_df).__name__}.")
    path = Path(path_or_df)
    source = str(path)
    if not path.exists():
        raise InputError(f"{source}: file not found. Check the path.")
    if path.is_dir():
        raise InputError(f"{source}: is a folder; give the {what} file inside it.")
    if path.stat().st_size == 0:
        raise InputError(f"{source}: the file is empty. Export the {what} again with a header row.")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            df = pd.read_excel(path, dtype=str)
        except Exception as exc:
            raise InputError(f"{source}: cannot read as an Excel workbook ({exc}). Save it as "
                             "CSV (UTF-8) and try again.") from None
    else:
        raw = path.read_bytes()
        if b"\x00" in raw[:4096]:
            raise InputError(f"{source}: this is not a CSV text file (it looks binary). Save the "
                             f"{what} as CSV (UTF-8) and try again.")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
        _check_field_counts(text, source)
        try:
            # Blank lines are kept (as empty rows, rejected later) so row N is always line N+1.
            with warnings.catch_warnings():  # extra fields are caught above or by the delimiter check below
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""],
                                 skip_blank_lines=False, index_col=False)
            while len(df) and df.iloc[-1].isna().all():  # trailing blank lines at the end of the file
                df = df.iloc[:-1]
        except (pd.errors.ParserError, csv.Error) as exc:
            msg = str(exc).strip().split("\n")[0]
            raise InputError(f"{source}: not a well-formed CSV ({msg}). Check the delimiter is a "
                             "comma and quoted fields are closed.") from None
        except pd.errors.EmptyDataError:
            raise InputError(f"{source}: the file has no header row or data. Export it again.") from None
    if len(df.columns) == 1 and len(df) and any(d in str(df.columns[0]) for d in ";\t|"):
        raise InputError(f"{source}: only one column found ({df.columns[0]!r}); the file seems to "
                         "use ';', tab or '|' as delimiter. Save it as comma-separated CSV.")
    df.attrs["source"] = source
    return df, source


def _check_field_counts(text: str, source: str) -> None:
    """Refuse rows with more fields than the header (an unquoted comma would shift every column)."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header or (len(header) == 1 and any(d in header[0] for d in ";\t|")):
        return  # empty, or another delimiter: reported by read_table
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        raise InputError(f"{source}: the header repeats column(s) {dups}; give each column its own name.")
    for line, row in enumerate(rows, start=2):
        if len(row) > len(header):
            raise InputError(f"{source}: line {line} has {len(row)} fields but the header has {len(header)}: "
                             "a value probably contains an unquoted comma. Put such values in double quotes "
                             '(e.g. "Rushden, East") and try again.')


def _missing(source, what, needs: str, columns) -> InputError:
    return InputError(
        f"{where(source)}cannot tell how to place the {what}: no {needs} column found. Columns "
        f"are: {', '.join(map(str, columns)) or '(none)'}. Rename a column or pass its name "
        "(for example ward_code='Ward Code')."
    )


def _key(df: pd.DataFrame, column: str, out: pd.DataFrame, bad: list, *, upper: bool = False) -> pd.Series:
    """The trimmed values of a key column (code, name, URN); blank ones are listed in ``bad``."""
    values = df[column].astype("string").str.strip()
    values = values.str.upper() if upper else values
    for r in out["row"][(values.isna() | (values == "")).to_numpy()]:
        bad.append((int(r), f"{column} is blank"))
    return values


def _looks_like_codes(values: pd.Series) -> bool:
    """True when most non-blank values are GSS codes (``E05012345``)."""
    v = values.dropna().astype("string").str.strip()
    v = v[v != ""]
    return v.empty or v.str.upper().str.match(r"^[ENSWK]\d{8}$").mean() >= 0.5


def _parse_counts(values: pd.Series, column: str, rows: pd.Series, bad: list) -> pd.Series:
    """Parse counts as non-negative integers; record bad rows in ``bad``."""
    num = pd.to_numeric(values.astype("string").str.replace(",", "").str.strip(), errors="coerce")
    finite = num.notna() & np.isfinite(num.fillna(0))
    ok = finite & (num >= 0) & (np.floor(num.where(finite, 0)) == num.where(finite, 0))
    for r, v in zip(rows[~ok], values[~ok]):
        shown = "blank" if pd.isna(v) or str(v).strip() == "" else repr(v)
        bad.append((int(r), f"{column} is {shown}: counts must be whole numbers 0 or more"))
    return num.where(ok)


def _parse_period(values: pd.Series) -> pd.Series:
    """Periods as ``YYYY-MM``: ISO dates keep their month; other dates are read day-first (UK)."""
    s = values.astype("string").str.strip()
    iso = s.str.match(r"^\d{4}-\d{2}(-\d{2})?([ T].*)?$").fillna(False)
    dt = pd.to_datetime(s.where(~iso), errors="coerce", format="mixed", dayfirst=True)
    other = dt.dt.strftime("%Y-%m").astype("string").where(dt.notna(), s)
    return s.str.slice(0, 7).where(iso, other)


def _finish(kind, key, source, df, keep_cols, bad) -> Intake:
    rejected_rows = {r for r, _ in bad}
    kept = df[~df["row"].isin(rejected_rows)][keep_cols].reset_index(drop=True)
    # One reason per row: the first found.
    seen, reasons = set(), []
    for r, why in sorted(bad, key=lambda t: t[0]):
        if r not in seen:
            seen.add(r)
            reasons.append((r, why))
    return Intake(kind=kind, key=key, source=source, rows_read=len(df), data=kept,
                  rejected=_rejections(reasons))


def _with_common(df, out, source, category, period, bad, count=None, default_count=1):
    """Fill ``out`` with row, count, category and period columns from ``df``."""
    out["row"] = np.arange(1, len(df) + 1)
    for r in out["row"][df.isna().all(axis=1).to_numpy()]:
        bad.append((int(r), "blank line"))
    ccol = find_column(df.columns, "count", count, source)
    if ccol is not None:
        out["count"] = _parse_counts(df[ccol], ccol, out["row"], bad)
    else:
        out["count"] = default_count
    cat = find_column(df.columns, "category", category, source)
    if cat is not None:
        out["category"] = df[cat].astype("string").str.strip()
    per = find_column(df.columns, "period", period, source)
    if per is not None:
        out["period"] = _parse_period(df[per])
    return [c for c in ("row", "count", "category", "period") if c in out]


def _points(df, out, source, bad, *, lat=None, lon=None, easting=None, northing=None) -> bool:
    """Add x/y (EPSG:27700) from lat/lon or easting/northing; False if neither found."""
    cols = df.columns
    la, lo = find_column(cols, "lat", lat, source), find_column(cols, "lon", lon, source)
    ea, no = find_column(cols, "easting", easting, source), find_column(cols, "northing", northing, source)
    if la is not None and lo is not None:
        y = pd.to_numeric(df[la], errors="coerce")
        x = pd.to_numeric(df[lo], errors="coerce")
        ok = x.between(-180, 180) & y.between(-90, 90)
        for r, a, b in zip(out["row"][~ok], df[lo][~ok], df[la][~ok]):
            bad.append((int(r), f"no usable coordinates ({lo}={a!r}, {la}={b!r})"))
        pts = gpd.GeoSeries(gpd.points_from_xy(x.where(ok, 0), y.where(ok, 0)), crs="EPSG:4326").to_crs(WORK_CRS)
        out["x"], out["y"] = pts.x.where(ok), pts.y.where(ok)
        return True
    if ea is not None and no is not None:
        x = pd.to_numeric(df[ea], errors="coerce")
        y = pd.to_numeric(df[no], errors="coerce")
        ok = x.between(-100_000, 800_000) & y.between(-100_000, 1_300_000)
        for r, a, b in zip(out["row"][~ok], df[ea][~ok], df[no][~ok]):
            bad.append((int(r), f"no usable coordinates ({ea}={a!r}, {no}={b!r}); expected "
                                "British National Grid metres"))
        out["x"], out["y"] = x.where(ok), y.where(ok)
        return True
    return False


def read_reports(path_or_df, *, ward_code=None, ward_name=None, lat=None, lon=None, easting=None,
                 northing=None, count=None, category=None, period=None, kind="reports") -> Intake:
    """Read report counts or record-level reports.

    The shape is detected from the columns, in this order: a data.police.uk
    street-level CSV; a ward code column; a ward name column; latitude and
    longitude; easting and northing; an LSOA code column (joined through
    ``gangmap.join(..., lsoa=...)``). Pass a column name to override detection.

    Parameters
    ----------
    path_or_df : str, Path or DataFrame
        CSV or XLSX file, or a DataFrame.
    ward_code, ward_name, lat, lon, easting, northing, count, category, period : str, optional
        Column names, when they are not detected.

    Returns
    -------
    Intake

    Raises
    ------
    InputError
        The file is missing, empty, not a CSV, or has no column to place the
        reports by. Bad values in single rows are not errors: those rows are
        listed in ``Intake.rejected``.

    Examples
    --------
    >>> r = read_reports(pd.DataFrame({"ward_code": ["E05900001", "E05900002"], "count": [3, 0]}))
    >>> r.key, r.rows_read, r.data["count"].tolist()
    ('ward_code', 2, [3, 0])
    """
    df, source = read_table(path_or_df, what=kind)
    if df.columns.empty:
        raise InputError(f"{source}: no columns found. Export the {kind} again with a header row.")
    cols = df.columns
    bad: list = []
    out = pd.DataFrame(index=df.index)
    police = all(c in cols for c in ("Longitude", "Latitude", "Crime type", "Month"))
    if police:  # data.police.uk: each row is one crime; Crime ID, Location, Context are never kept
        category = category or "Crime type"
        period = period or "Month"
        if "LSOA code" in cols:
            out["lsoa_code"] = df["LSOA code"].astype("string")
    common = _with_common(df, out, source, category, period, bad, count=None if police else count)

    wc = None if police else find_column(cols, "ward_code", ward_code, source)
    if wc is not None and ward_code is None and not _looks_like_codes(df[wc]):
        # e.g. a column called "Ward" that holds names: match by name instead.
        ward_name = ward_name or (wc if find_column(cols, "ward_name", None, source) is None else None)
        wc = None
    wn = None if (police or wc is not None) else find_column(cols, "ward_name", ward_name, source)
    if wc is not None:
        out["ward_code"] = _key(df, wc, out, bad, upper=True)
        keep = common + ["ward_code"]
        key = "ward_code"
    elif wn is not None:
        out["ward_name"] = _key(df, wn, out, bad)
        keep = common + ["ward_name"]
        lad = find_column(cols, "lad_name", None, source) or find_column(cols, "lad_code", None, source)
        if lad is not None:
            out["district"] = df[lad].astype("string").str.strip()
            keep.append("district")
        key = "ward_name"
    elif _points(df, out, source, bad, lat=lat, lon=lon, easting=easting, northing=northing):
        keep = common + ["x", "y"] + (["lsoa_code"] if "lsoa_code" in out else [])
        key = "point"
    elif (lc := find_column(cols, "lsoa_code", None, source)) is not None:
        out["lsoa_code"] = _key(df, lc, out, bad, upper=True)
        keep = common + ["lsoa_code"]
        key = "lsoa_code"
    else:
        raise _missing(source, kind, "ward code, ward name, latitude/longitude, easting/northing or LSOA code",
                       cols)
    return _finish(kind, key, source, out, keep, bad)


def read_police_csv(path_or_df) -> Intake:
    """Read a data.police.uk street-level CSV exactly as published.

    Each row is one crime or anti-social behaviour incident placed at its
    (already anonymised) map point. ``Crime type`` becomes ``category`` and
    ``Month`` becomes ``period``. Rows without coordinates are rejected with a
    reason.

    Raises
    ------
    InputError
        If the police.uk columns are not all there.
    """
    df, source = read_table(path_or_df, what="police.uk CSV")
    missing = [c for c in ("Month", "Longitude", "Latitude", "Crime type") if c not in df.columns]
    if missing:
        raise InputError(f"{source}: not a data.police.uk street-level CSV; missing column(s) "
                         f"{missing}. Download 'street' files from data.police.uk, or use "
                         "read_reports for other shapes.")
    return read_reports(df)


def read_schools(path_or_df, *, urn=None, name=None, easting=None, northing=None, ward_code=None) -> Intake:
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
    df, source = read_table(path_or_df, what="schools file")
    cols = df.columns
    ucol = find_column(cols, "urn", urn, source)
    if ucol is None:
        raise InputError(f"{source}: no URN column in the schools file; columns are "
                         f"{', '.join(map(str, cols))}. GIAS extracts name it 'URN'.")
    ncol = name or next((c for c in cols if _norm_col(c) in ("establishmentname", "schoolname", "name")), None)
    bad: list = []
    out = pd.DataFrame({"row": np.arange(1, len(df) + 1)}, index=df.index)
    out["urn"] = df[ucol].astype("string").str.strip()
    out["school_name"] = df[ncol].astype("string") if ncol else out["urn"]
    wcol = ward_code or next((c for c in cols if _norm_col(c) == "administrativeward(code)"), None)
    if wcol is None:
        wcol = find_column(cols, "ward_code", None, source)
    if wcol is not None:
        out["ward_code"] = df[wcol].astype("string").str.strip().str.upper()
    if not _points(df, out, source, bad, easting=easting, northing=northing):
        if wcol is None:
            raise _missing(source, "schools", "Easting/Northing or AdministrativeWard (code)", cols)
        out["x"] = out["y"] = np.nan
    dup = out["urn"].duplicated(keep="first")
    for r, u in zip(out["row"][dup], out["urn"][dup]):
        bad.append((int(r), f"duplicate URN {u}"))
    for r in out["row"][out["urn"].isna() | (out["urn"] == "")]:
        bad.append((int(r), "URN is blank"))
    if "ward_code" in out:
        out["ward_code"] = out["ward_code"].replace("", pd.NA)
    keep = ["row", "urn", "school_name", "x", "y"] + (["ward_code"] if wcol else [])
    # A school without coordinates is still usable through its ward code.
    if wcol is not None:
        bad = [(r, why) for r, why in bad
               if not (why.startswith("no usable coordinates") and pd.notna(out.loc[r - 1, "ward_code"]))]
    return _finish("schools", "urn", source, out, keep, bad)


def read_referrals(path_or_df, *, urn=None, ward_code=None, ward_name=None, count=None,
                   category=None, period=None) -> Intake:
    """Read school referrals: per school (``URN``) or by the pupil's home ward.

    Per-school referrals are placed through a schools file given to
    :func:`gangmap.join` (``schools=``): by the school's
    ``AdministrativeWard (code)`` or, failing that, its Easting/Northing.

    Examples
    --------
    >>> r = read_referrals(pd.DataFrame({"URN": ["100001"], "referrals": ["4"]}))
    >>> r.key, r.data["count"].tolist()
    ('urn', [4])
    """
    df, source = read_table(path_or_df, what="referrals")
    ucol = find_column(df.columns, "urn", urn, source)
    if ucol is None or ward_code or ward_name:
        return read_reports(df, ward_code=ward_code, ward_name=ward_name, count=count,
                            category=category, period=period, kind="referrals")
    bad: list = []
    out = pd.DataFrame(index=df.index)
    common = _with_common(df, out, source, category, period, bad, count=count)
    out["urn"] = _key(df, ucol, out, bad)
    return _finish("referrals", "urn", source, out, common + ["urn"], bad)


def read_population(path_or_df, *, ward_code=None, ward_name=None, population=None) -> Intake:
    """Read a population table per ward (for example children aged 10-17).

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
    df, source = read_table(path_or_df, what="population table")
    pcol = find_column(df.columns, "population", population, source)
    if pcol is None:
        numeric = [c for c in df.columns if pd.to_numeric(df[c], errors="coerce").notna().all()]
        if len(numeric) == 1:
            pcol = numeric[0]
        else:
            raise InputError(f"{source}: no population column found; columns are "
                             f"{', '.join(map(str, df.columns))}. Pass population='COLUMN'.")
    return read_reports(df, ward_code=ward_code, ward_name=ward_name, count=pcol, kind="population")


def as_intake(obj, kind: str, **kwargs) -> Intake:
    """Return ``obj`` as an :class:`Intake`, reading it with the right reader."""
    if isinstance(obj, Intake):
        return obj
    reader = {"reports": read_reports, "referrals": read_referrals,
              "population": read_population, "schools": read_schools}[kind]
    return reader(obj, **kwargs)
