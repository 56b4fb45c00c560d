"""data.police.uk street-level data: one CSV, a folder, a glob or the archive zip, as published.

Why a reader of its own? data.police.uk publishes one CSV per force and month
(``2018-03/2018-03-northamptonshire-street.csv``), and its monthly archive is
one zip of every force and month (with ``-outcomes`` and ``-stop-and-search``
files beside them). An analyst wants "Northamptonshire, March 2017 to February
2019" without unpacking gigabytes, so :func:`read_police` reads the members
straight from the zip (or a folder, or a glob), keeps only the street files of
the forces and months asked for, and says which asked-for months were not
published: those stay missing downstream, never zero.

Each row is one crime or anti-social behaviour incident at its (already
anonymised) map point. Only ``Month`` (as ``period``), ``Crime type`` (as
``category``), the point (as ``x``/``y`` in EPSG:27700) and ``LSOA code``
(as ``lsoa_code``) are kept; ``Crime ID``, ``Location``, ``Context``, the
outcome and the LSOA name never leave the file. Row numbers run across the
files in the order read (by month, then force); a rejected row's reason
names its file and the row within it.

Examples
--------
>>> parse_street_name("2018-03/2018-03-northamptonshire-street.csv")
('2018-03', 'northamptonshire')
>>> force_slug("Northamptonshire Police"), force_slug("avon-and-somerset")
('northamptonshire', 'avon-and-somerset')
"""

from __future__ import annotations

import contextlib
import glob as globlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from ..errors import InputError
from .periods import parse_period
from .readers import POLICE_REQUIRED, Intake, combine_intakes, read_reports, reason_in_file
from .tables import Table, load_table, load_table_text

__all__ = ["POLICE_COLUMNS", "read_police", "read_police_csv", "parse_street_name", "force_slug",
           "month_range", "StreetFile", "StreetFiles", "street_files", "read_street_file", "reason_in_file"]

#: The columns of a street-level CSV, exactly as published.
POLICE_COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                  "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category",
                  "Context"]
_STREET = re.compile(r"(?:^|/)(\d{4}-\d{2})-([a-z0-9-]+?)-street\.csv$", re.I)


@dataclass(frozen=True)
class StreetFile:
    """One street CSV: where it is (a file, or a member of a zip) and its month and force."""

    label: str
    month: str
    force: str
    path: Path
    member: str | None = None

    def read(self) -> bytes:
        if self.member is None:
            return self.path.read_bytes()
        with zipfile.ZipFile(self.path) as z:
            return z.read(self.member)

    @contextlib.contextmanager
    def stream(self):
        """A binary stream of the file (a zip member is decompressed as it is read)."""
        if self.member is None:
            with open(self.path, "rb") as f:
                yield f
        else:
            with zipfile.ZipFile(self.path) as z, z.open(self.member) as f:
                yield f


@dataclass
class StreetFiles:
    """The street files selected at a path, in reading order (month, then force), and what is missing.

    ``missing`` maps each month asked for (or inside the span read) to the
    forces without a file for it; ``notes`` open with the files read and end
    with the months not published.
    """

    files: list[StreetFile]
    source: str
    missing: dict[str, list[str]]
    forces: list[str]

    @property
    def missing_periods(self) -> tuple[str, ...]:
        return tuple(self.missing)

    def notes(self, member_notes=()) -> tuple[str, ...]:
        """The Intake notes: files read, each file's own notes, then the months not published."""
        months = sorted({m.month for m in self.files if m.month})
        if any(m.force for m in self.files):
            head = f"{len(self.files)} street file(s) read: {', '.join(f for f in self.forces if f)}; {_span(months)}"
        else:
            head = f"{len(self.files)} file(s) read (force and month not in the file name)"
        notes = [head, *member_notes]
        if self.missing:
            shown = [m if len(absent) == len(self.forces) else f"{m} ({', '.join(absent)})"
                     for m, absent in self.missing.items()]
            notes.append(f"not published (no data, not zero): {', '.join(shown)}")
        return tuple(notes)


#: data.police.uk's files that are not street crimes (read for nothing, left out of a folder).
_OTHER_KINDS = re.compile(r"\d{4}-\d{2}-[a-z0-9-]+-(?:outcomes|stop-and-search)\.csv$", re.IGNORECASE)


def parse_street_name(name: str) -> tuple[str, str] | None:
    """``(month, force)`` of a street-level file name, or None for any other file."""
    hit = _STREET.search(str(name).replace("\\", "/"))
    return (hit.group(1), hit.group(2).lower()) if hit else None


def force_slug(force: str) -> str:
    """A force as in data.police.uk file names: ``"Northamptonshire Police"`` -> ``"northamptonshire"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(force).strip().lower()).strip("-")
    return re.sub(r"-(police|constabulary|police-service)$", "", slug)


def month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (``YYYY-MM``), both included."""
    a, b = pd.Period(first, "M"), pd.Period(last, "M")
    return [str(p) for p in pd.period_range(a, b, freq="M")]


def read_police_csv(path_or_df, *, sheet=None, by=None) -> Intake:
    """Read one data.police.uk street-level CSV exactly as published.

    ``Crime type`` becomes ``category`` and ``Month`` becomes ``period``; rows
    without coordinates are rejected with a reason (with ``by="lsoa"``, rows
    without an LSOA code instead: see :func:`read_police`).

    Raises
    ------
    InputError
        If the police.uk columns are not all there.
    """
    table = load_table(path_or_df, what="police.uk CSV", sheet=sheet)
    missing = [c for c in POLICE_REQUIRED if c not in table.frame.columns]
    if missing:
        raise InputError(f"{table.source}: not a data.police.uk street-level CSV; missing column(s) "
                         f"{missing}. Download 'street' files from data.police.uk, or use "
                         "read_reports for other shapes.")
    return read_reports(table, by=by)


def _months(months) -> list[str]:
    """Months asked for (``"2018-03"`` or a list, any format of :mod:`gangmap.io.periods`) as ``YYYY-MM``."""
    parsed = []
    for m in [months] if isinstance(months, str) else list(months):
        p, why = parse_period(m)
        if p is None:
            raise InputError(f"read_police: month {m!r} is {why}.")
        parsed.append(p)
    return sorted(set(parsed))


def _collect(path) -> tuple[list[StreetFile], str]:
    """Every street CSV at ``path`` (a CSV, a folder, a glob, a zip, or a list of these) and a source label."""
    if isinstance(path, (list, tuple)):
        found: list[StreetFile] = []
        for p in path:
            found.extend(_collect(p)[0])
        return found, ", ".join(map(str, path))
    text = str(path)
    if any(ch in text for ch in "*?["):
        hits = sorted(globlib.glob(text, recursive=True))
        if not hits:
            raise InputError(f"{text}: no file matches this pattern. Check the folder and the pattern.")
        return [m for h in hits for m in _collect(h)[0]], text
    p = Path(text)
    if not p.exists():
        raise InputError(f"{text}: file or folder not found. Check the path, or fetch police data first.")
    if p.is_dir():  # every CSV but police.uk's other kinds: a renamed month ('april crimes.csv') is read, not lost
        files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")
                       and f.suffix.lower() in (".csv", ".zip") and not _OTHER_KINDS.search(f.name))
        return [m for f in files for m in _collect(f)[0]], text
    if zipfile.is_zipfile(p):
        return _zip_members(p), text
    if p.suffix.lower() == ".zip":
        raise InputError(f"{text}: a damaged or incomplete zip archive (cut short while downloading or copying?). "
                         "Download or copy it again.")
    parsed = parse_street_name(p.name) or ("", "")
    return [StreetFile(text, parsed[0], parsed[1], p)], text


def _zip_members(path: Path) -> list[StreetFile]:
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: cannot open the zip archive ({exc}). Download it again.") from None
    out = []
    for n in names:
        parsed = parse_street_name(n)
        if parsed and not PurePosixPath(n).name.startswith("."):
            out.append(StreetFile(f"{path}:{n}", parsed[0], parsed[1], path, n))
    return out


def _select(members: list[StreetFile], source: str, forces, months) -> list[StreetFile]:
    if not members:
        raise InputError(f"{source}: no data.police.uk street-level CSV (YYYY-MM-force-street.csv) found. Give "
                         "the archive zip, a folder or a glob of street files.")
    unnamed = next((m for m in members if not m.month), None)
    if unnamed is not None and (forces is not None or months is not None):
        raise InputError(f"{unnamed.label}: the force and month cannot be told from this file name, so force= and "
                         "months can not be applied to it. Keep the published name (YYYY-MM-force-street.csv), or "
                         "read it whole and filter with gangmap.join(period=...).")
    if forces is not None:
        wanted = {force_slug(f) for f in ([forces] if isinstance(forces, str) else forces)}
        known = sorted({m.force for m in members if m.force})
        unknown = sorted(wanted - set(known))
        if unknown:
            raise InputError(f"{source}: no street files of force(s) {unknown}; the forces here are "
                             f"{', '.join(known[:50])}. Use the names in the file names (e.g. 'northamptonshire').")
        members = [m for m in members if m.force in wanted]
    if months is not None:
        members = [m for m in members if m.month in months]
    dup = _duplicates(members)
    if dup:
        raise InputError(f"{source}: the same force and month is given twice ({dup[0].label} and {dup[1].label}); "
                         "its crimes would be counted twice. Keep one copy and try again.")
    return sorted(members, key=lambda m: (m.month, m.force, m.label))


def _duplicates(members: list[StreetFile]) -> tuple[StreetFile, StreetFile] | None:
    seen: dict[tuple[str, str], StreetFile] = {}
    for m in members:
        if not m.month:
            continue
        key = (m.month, m.force)
        if key in seen:
            return seen[key], m
        seen[key] = m
    return None


def read_police(path, *, force=None, months=None, month_from: str | None = None,
                month_to: str | None = None, by: str | None = None) -> Intake:
    """Read data.police.uk street-level crimes from a CSV, a folder, a glob or the archive zip.

    Parameters
    ----------
    path : str, Path or list
        One ``YYYY-MM-force-street.csv``; a folder holding them (in
        ``YYYY-MM/`` sub-folders, as unpacked, or zips); a glob
        (``"police/**/*-street.csv"``); the archive zip as downloaded from
        data.police.uk (members are read directly); or a list of these.
    force : str or list of str, optional
        Forces to keep, as in the file names or in words
        (``"northamptonshire"``, ``"Avon and Somerset"``).
    months : str or list of str, optional
        Months to keep (``"2018-03"`` or a list).
    month_from, month_to : str, optional
        A range of months to keep, both included; months of the range that
        have no file are listed in ``Intake.missing_periods`` and the notes.
    by : {"lsoa"}, optional
        ``"lsoa"``: the rows will be placed by their LSOA code
        (``gangmap.join(..., by="lsoa")``), so a crime without coordinates but
        with its LSOA code is kept (``x``/``y`` missing), and one without an
        LSOA code is rejected; ``key`` is then ``"lsoa_code"``.

    Returns
    -------
    Intake
        ``kind="reports"``, ``key="point"``; ``data`` has ``row``, ``count``,
        ``category``, ``period``, ``x``, ``y`` and ``lsoa_code``.

    Raises
    ------
    InputError
        No street file found, an unknown force, the same force and month given
        twice, or a file that is not a street-level CSV.
    """
    files = street_files(path, force=force, months=months, month_from=month_from, month_to=month_to)
    parts = [read_street_file(m, by=by) for m in files.files]
    intake = _combine(parts, files.source)
    intake.notes = files.notes(intake.notes)
    intake.missing_periods = files.missing_periods
    return intake


def street_files(path, *, force=None, months=None, month_from: str | None = None,
                 month_to: str | None = None) -> StreetFiles:
    """The street files :func:`read_police` reads at ``path`` (same arguments), without reading them."""
    wanted = _wanted_months(months, month_from, month_to)
    members, source = _collect(path)
    members = _select(members, source, force, wanted)
    if not members:
        raise InputError(f"{source}: no street files for the force(s) and month(s) asked for "
                         f"({_asked(force, wanted)}). Check the months and force names.")
    forces = sorted({m.force for m in members})
    return StreetFiles(members, source, _missing_months(members, wanted), forces)


def _wanted_months(months, month_from, month_to) -> set[str] | None:
    wanted = set(_months(months)) if months is not None else None
    if month_from or month_to:
        if not (month_from and month_to):
            raise InputError("read_police: give both month_from= and month_to= (e.g. '2017-03' and '2019-02').")
        rng = month_range(*(_months([month_from]) + _months([month_to])))
        if not rng:
            raise InputError(f"read_police: month_from={month_from!r} is after month_to={month_to!r}.")
        wanted = set(rng) if wanted is None else wanted & set(rng)
    return wanted


def _asked(force, wanted) -> str:
    return f"force {force or 'any'}, months {_span(sorted(wanted)) if wanted else 'any'}"


def _span(months: list[str]) -> str:
    if not months:
        return "no month in the file names"
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]} ({len(months)} months)"


def _missing_months(members: list[StreetFile], wanted: set[str] | None) -> dict[str, list[str]]:
    """``{month: [forces without a file]}`` for months asked for (or inside the span read)."""
    bounds = _bounds(members)
    months = sorted(wanted) if wanted else month_range(*bounds) if bounds else []
    forces = sorted({m.force for m in members if m.force})
    have = {(m.month, m.force) for m in members}
    missing = {month: [f for f in forces if (month, f) not in have] for month in months}
    return {month: absent for month, absent in missing.items() if absent}


def _bounds(members: list[StreetFile]) -> tuple[str, str] | None:
    months = sorted({m.month for m in members if m.month})
    return (months[0], months[-1]) if months else None


def read_street_file(m: StreetFile, *, by: str | None = None) -> tuple[StreetFile, Intake]:
    """One street file read whole (the reference reader: every check of :mod:`gangmap.io.tables`)."""
    table = load_table_text(m.read(), m.label, what="police.uk street CSV")
    missing = [c for c in POLICE_REQUIRED if c not in table.frame.columns]
    if missing:
        raise InputError(f"{m.label}: not a data.police.uk street-level CSV; missing column(s) {missing}. "
                         "Download the street files again.")
    other = sorted(v for v in table.frame["Month"].dropna().unique() if parse_period(v)[0] not in (m.month, None))
    if m.month and other:
        raise InputError(f"{m.label}: the file is named for {m.month} but holds Month {other[0]!r}; it was edited "
                         "or renamed. Download it again.")
    return m, read_reports(Table(table.frame, m.label, table.notes), by=by)


def _combine(parts: list[tuple[StreetFile, Intake]], source: str) -> Intake:
    """One Intake from several: rows numbered on across files; reasons name the file and its row."""
    return combine_intakes([(m.label, it) for m, it in parts], source)
