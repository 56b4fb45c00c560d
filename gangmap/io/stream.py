"""data.police.uk street files read in chunks: the same rows as :func:`read_police`, in bounded memory.

Why a second reader? :func:`~gangmap.io.police.read_police` reads each file
whole through the careful reader of :mod:`gangmap.io.tables` (every encoding,
title rows, stray quotes, ragged rows), which holds every cell as a Python
string: about 1.7 KB a row once joined, so three national years do not fit in
24 GB. Published street files are plain: one header, twelve fields a row, no
quotes, UTF-8. This reader reads those with pandas' C parser in chunks
(``chunksize`` rows), only the five columns the join needs, months, crime
types and LSOA codes as categoricals (each distinct value cleaned and parsed
once, then mapped), coordinates as floats, reprojected with pyproj on whole
arrays.

Every file is checked as it streams (UTF-8, no NUL byte, no quote, no bare
CR, every line twelve fields, header exactly as published, months readable and
those of the file's name, coordinates either both blank or a usable point, no
row blank in every column read). A file that fails any check is read again by
the reference reader (:func:`~gangmap.io.police.read_street_file`), whole,
and given out in chunks: :data:`RESTART` tells the consumer to drop what it
had from that file. So the rows, their numbers, the rejected rows and their
reasons, and the notes are exactly those of :func:`read_police`, whatever the
file; only the memory differs (bounded by one file when a file is read again).

Examples
--------
>>> from gangmap.io.stream import open_police  # doctest: +SKIP
>>> stream = open_police("police/2018-03")  # doctest: +SKIP
>>> for f in stream.files:  # doctest: +SKIP
...     for chunk in stream.chunks(f):  # each an Intake of at most 500,000 rows
...         ...
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..geography import MAP_CRS, WORK_CRS
from .periods import parse_period
from .police import POLICE_COLUMNS, StreetFile, StreetFiles, read_street_file, reason_in_file, street_files
from .readers import POLICE_REQUIRED, Intake, rejections
from .text import clean_text

__all__ = ["open_police", "PoliceStream", "is_police_source", "read_police_chunked", "RESTART", "CHUNK_ROWS"]

#: Rows per chunk by default: about 40 MB of working memory per chunk.
CHUNK_ROWS = 500_000
#: Given out by :meth:`PoliceStream.chunks` when a file is read again whole: drop what came from it so far.
RESTART = object()

_USE = ["Month", "Longitude", "Latitude", "Crime type", "LSOA code"]
_TYPES = {"Month": "category", "Crime type": "category", "LSOA code": "category", "Longitude": "float64",
          "Latitude": "float64"}
_HEADER = ",".join(POLICE_COLUMNS).encode()
_FIELDS = len(POLICE_COLUMNS)
_BLOCK = 1 << 20


class _NotPlain(Exception):
    """The file is not a plain published street file: read it with the reference reader."""


class _Checked(io.RawIOBase):
    """A binary stream that checks, as pandas reads it, that the file is plain (see the module docstring)."""

    def __init__(self, raw):
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.lines = self.commas = self.cr = self.crlf = 0
        self.last = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        block = self.raw.read(len(buffer))
        n = len(block)
        buffer[:n] = block
        if n:
            self._check(block)
        return n

    def _check(self, block: bytes) -> None:
        if b'"' in block or b"\x00" in block:
            raise _NotPlain("quote or NUL")
        if not block.isascii():
            try:
                self.decoder.decode(block)
            except UnicodeDecodeError:
                raise _NotPlain("not UTF-8") from None
        self.lines += block.count(b"\n")
        self.commas += block.count(b",")
        if b"\r" in block or self.last == b"\r":
            self.cr += block.count(b"\r")
            self.crlf += block.count(b"\r\n") + (self.last == b"\r" and block[:1] == b"\n")
        self.last = block[-1:]

    def finish(self) -> int:
        """The number of data rows the file holds; raises :class:`_NotPlain` if a line is not 12 fields."""
        lines = self.lines + (self.last not in (b"\n", b""))
        if self.cr != self.crlf or self.commas != (_FIELDS - 1) * lines:
            raise _NotPlain("ragged lines or CR line ends")
        return lines - 1


@dataclass
class _Values:
    """Each distinct raw value of a categorical column, cleaned (or parsed) once and kept across chunks."""

    convert: Callable[[object], str | None]
    seen: dict = field(default_factory=dict)

    def map(self, column: pd.Series) -> pd.Categorical:
        out = []
        for raw in column.cat.categories:
            if raw not in self.seen:
                self.seen[raw] = self.convert(raw)
            out.append(self.seen[raw])
        new_codes, new_cats = pd.factorize(pd.Series(out, dtype=object), use_na_sentinel=True)
        table = np.append(new_codes, -1).astype("int64")
        codes = column.cat.codes.to_numpy()
        return pd.Categorical.from_codes(table[np.where(codes < 0, len(out), codes)], categories=pd.Index(new_cats))


@functools.lru_cache(maxsize=1)
def to_work_crs():
    """Longitude/latitude (EPSG:4326) to EPSG:27700, built once: the transformation the reference reader uses."""
    from pyproj import Transformer

    return Transformer.from_crs(MAP_CRS, WORK_CRS, always_xy=True)


def _text(raw) -> str | None:
    return clean_text(str(raw)) or None


def _code(raw) -> str | None:
    return clean_text(str(raw)).upper() or None


def _month_of(month: str):
    def convert(raw) -> str | None:
        text = str(raw).strip()
        if not text:
            return None
        parsed, _ = parse_period(clean_text(text))
        if parsed is None or (month and parsed != month):
            raise _NotPlain("a month to check")
        return parsed

    return convert


def is_police_source(obj) -> bool:
    """Whether ``obj`` names data.police.uk street files to stream: a list, folder, glob, zip or street CSV."""
    if isinstance(obj, (list, tuple)):  # police.uk only if every item is (a list may mix count files in)
        return bool(obj) and all(isinstance(o, (str, Path)) and is_police_source(o) for o in obj)
    if not isinstance(obj, (str, Path)):
        return False
    text = str(obj)
    if any(ch in text for ch in "*?["):
        return True
    path = Path(text)
    if path.is_dir():
        return True
    if not path.is_file() or path.suffix.lower() in (".xlsx", ".xlsm"):
        return False
    if path.suffix.lower() == ".zip":
        return True
    with open(path, "rb") as f:
        head = f.read(65536).splitlines()[:30]  # the header may sit under a title (see gangmap.io.tables)
    for line in head:
        names = next(csv.reader([line.decode("utf-8", "replace").lstrip("\ufeff")]), [])
        if all(c in [n.strip() for n in names] for c in POLICE_REQUIRED):
            return True
    return False


@dataclass
class PoliceStream:
    """The street files at a path, each read in chunks (see the module docstring)."""

    selection: StreetFiles
    chunksize: int = CHUNK_ROWS
    by: str | None = None

    @property
    def files(self) -> list[StreetFile]:
        return self.selection.files

    @property
    def source(self) -> str:
        return self.selection.source if len(self.files) > 1 else self.files[0].label

    @property
    def missing_periods(self) -> tuple[str, ...]:
        return self.selection.missing_periods

    def notes(self, file_notes=()) -> tuple[str, ...]:
        """The notes :func:`read_police` gives, with the notes of the chunks' files (``Intake.notes``)."""
        return self.selection.notes(file_notes)

    def chunks(self, member: StreetFile) -> Iterator:
        """Chunks of one file as :class:`Intake` objects (rows numbered from 1 in each chunk), or :data:`RESTART`.

        Rejected reasons name the file's own row (and the file, when several
        are read), as :func:`read_police` does.
        """
        several = len(self.files) > 1
        try:
            yield from self._plain(member, several)
            return
        except _NotPlain:
            pass
        except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
            pass
        yield RESTART
        _, intake = read_street_file(member, by=self.by)
        yield from _slices(intake, member, several, self.chunksize)

    def _plain(self, member: StreetFile, several: bool) -> Iterator[Intake]:
        with member.stream() as raw:
            if raw.read(len(_HEADER) + 1).rstrip(b"\r\n") != _HEADER:
                raise _NotPlain("header")
        with member.stream() as raw:
            checked = _Checked(raw)
            reader = pd.read_csv(io.BufferedReader(checked, _BLOCK), usecols=_USE, dtype=_TYPES, engine="c",
                                 keep_default_na=False, na_values=[""], skip_blank_lines=False, index_col=False,
                                 chunksize=self.chunksize, encoding="utf-8", encoding_errors="strict")
            values = {"Month": _Values(_month_of(member.month)), "Crime type": _Values(_text),
                      "LSOA code": _Values(_code)}
            done = 0
            with reader:
                for frame in reader:
                    yield _plain_chunk(frame, values, done, member, several, self.by)
                    done += len(frame)
            if done == 0 or checked.finish() != done:
                raise _NotPlain("rows")


def _plain_chunk(frame: pd.DataFrame, values: dict, done: int, member: StreetFile, several: bool,
                 by: str | None = None) -> Intake:
    """One chunk of a plain file as the reference reader gives it (checks that need it raise :class:`_NotPlain`).

    With ``by="lsoa"`` a row needs its LSOA code, not its point (a chunk with
    a row without one is read by the reference reader, which words the
    rejection).
    """
    n = len(frame)
    if frame[_USE].isna().all(axis=1).any() or frame["Month"].isna().any():
        raise _NotPlain("blank row or month")  # rejected rows: the reference reader words them
    lon, lat = frame["Longitude"].to_numpy(), frame["Latitude"].to_numpy()
    ok = (lon >= -180) & (lon <= 180) & (lat >= -90) & (lat <= 90)
    blank = np.isnan(lon) & np.isnan(lat)
    if not (ok | blank).all():
        raise _NotPlain("coordinates")
    period = values["Month"].map(frame["Month"])
    category = values["Crime type"].map(frame["Crime type"])
    lsoa = values["LSOA code"].map(frame["LSOA code"])
    if by == "lsoa":
        return _lsoa_chunk(lon, lat, ok, period, category, lsoa, member)
    rows = np.arange(1, n + 1, dtype="int64")
    bad = np.flatnonzero(~ok)
    why = "no usable coordinates (Longitude='', Latitude='')"
    rejected = rejections(((int(r) + 1, reason_in_file(member.label, done + int(r) + 1, why, several)) for r in bad),
                          1)  # each street-level row is one crime
    keep = ok if len(bad) else slice(None)
    east, north = to_work_crs().transform(lon[keep], lat[keep])
    data = pd.DataFrame({"row": rows[keep], "count": np.ones(n, dtype="int64")[keep],
                         "category": category[keep], "period": period[keep], "x": east, "y": north,
                         "lsoa_code": lsoa[keep]})
    return Intake(kind="reports", key="point", source=member.label, rows_read=n, data=data, rejected=rejected)


def _lsoa_chunk(lon, lat, ok, period, category, lsoa, member: StreetFile) -> Intake:
    """A plain chunk kept whole for placing by LSOA code: points where usable, missing elsewhere."""
    n = len(lon)
    if pd.isna(np.asarray(lsoa, dtype=object)).any():
        raise _NotPlain("a blank LSOA code")
    east, north = np.full(n, np.nan), np.full(n, np.nan)
    east[ok], north[ok] = to_work_crs().transform(lon[ok], lat[ok])
    data = pd.DataFrame({"row": np.arange(1, n + 1, dtype="int64"), "count": np.ones(n, dtype="int64"),
                         "category": category, "period": period, "x": east, "y": north, "lsoa_code": lsoa})
    return Intake(kind="reports", key="lsoa_code", source=member.label, rows_read=n, data=data)


def _slices(intake: Intake, member: StreetFile, several: bool, size: int) -> Iterator[Intake]:
    """A file read whole, given out as chunks like :meth:`PoliceStream._plain` (rows from 1 in each)."""
    rej = intake.rejected
    rej = rej.assign(reason=[reason_in_file(member.label, int(r), why, several)
                             for r, why in zip(rej["row"], rej["reason"])])
    # Positions run past rows_read when blank lines were skipped; each chunk counts the rows it holds and
    # numbers them so that a reader adding up rows_read gets the file's own row numbers back.
    total = max([intake.rows_read, *intake.data["row"].nlargest(1), *rej["row"].nlargest(1)])
    notes = tuple(f"{member.label}: {n}" for n in intake.notes)
    done = 0
    for start in range(0, max(total, 1), size):
        stop = min(start + size, total)
        d = intake.data[(intake.data["row"] > start) & (intake.data["row"] <= stop)]
        r = rej[(rej["row"] > start) & (rej["row"] <= stop)]
        yield Intake(kind="reports", key=intake.key, source=member.label, rows_read=len(d) + len(r),
                     data=d.assign(row=d["row"] - done).reset_index(drop=True),
                     rejected=r.assign(row=r["row"] - done).reset_index(drop=True), notes=notes if not start else ())
        done += len(d) + len(r)


def open_police(path, *, chunksize: int | None = None, force=None, months=None, month_from: str | None = None,
                month_to: str | None = None, by: str | None = None) -> PoliceStream:
    """The street files at ``path`` (as for :func:`read_police`, ``by`` too), ready to be read in chunks."""
    selection = street_files(path, force=force, months=months, month_from=month_from, month_to=month_to)
    return PoliceStream(selection, int(chunksize or CHUNK_ROWS), by)


def read_police_chunked(path, *, chunksize: int | None = None, **kwargs) -> Intake:
    """:func:`read_police` through the chunked reader, gathered in one Intake (for tests and comparisons)."""
    stream = open_police(path, chunksize=chunksize, **kwargs)
    data: list[pd.DataFrame] = []
    rejected: list[pd.DataFrame] = []
    notes: list[str] = []
    offset = 0
    for member in stream.files:
        mine_d: list[pd.DataFrame] = []
        mine_r: list[pd.DataFrame] = []
        mine_n: list[str] = []
        done = 0
        for chunk in stream.chunks(member):
            if chunk is RESTART:
                mine_d, mine_r, mine_n, done = [], [], [], 0
                continue
            mine_d.append(chunk.data.assign(row=chunk.data["row"] + offset + done))
            mine_r.append(chunk.rejected.assign(row=chunk.rejected["row"] + offset + done))
            mine_n.extend(chunk.notes)
            done += chunk.rows_read
        data += mine_d
        rejected += mine_r
        notes += mine_n
        offset += done
    frame = pd.concat(data, ignore_index=True)
    for c in ("category", "period", "lsoa_code"):
        frame[c] = frame[c].astype("string")
    rejected = [r for r in rejected if len(r)]
    rej = pd.concat(rejected, ignore_index=True) if rejected else rejections()
    rej = rej.astype({"row": "int64", "reason": "object"})
    return Intake(kind="reports", key="lsoa_code" if stream.by == "lsoa" else "point", source=stream.source,
                  rows_read=offset, data=frame, rejected=rej, notes=stream.notes(notes),
                  missing_periods=stream.missing_periods)

