"""Property-based fuzzing of intake (issue 16): any input gives a clean GangmapError or an Intake that adds up.

"Adds up" is checked strictly: kept and rejected rows are disjoint, together exactly rows 1..rows_read, every
kept count is a whole number 0 or more, and every rejected row has a reason.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gangmap.errors import GangmapError
from gangmap.io import (
    Intake,
    read_police,
    read_police_csv,
    read_population,
    read_referrals,
    read_reports,
    read_schools,
)

READERS = [read_reports, read_referrals, read_population, read_schools, read_police_csv]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_adds_up(it: Intake) -> None:
    assert isinstance(it, Intake)
    kept, rejected = it.data["row"].tolist(), it.rejected["row"].tolist()
    assert len(kept) + len(rejected) == it.rows_read
    assert not set(kept) & set(rejected)
    blank = list(it.blank_rows)  # skipped with a note: every row number is kept, rejected or a blank row
    assert sorted(kept + rejected + blank) == list(range(1, it.rows_read + len(blank) + 1))
    assert not blank or any("blank rows between the data skipped" in n for n in it.notes)
    assert all(isinstance(r, str) and r for r in it.rejected["reason"])
    if "count" in it.data and it.kind != "schools":
        counts = pd.to_numeric(it.data["count"])
        assert counts.notna().all() and (counts >= 0).all() and (np.floor(counts) == counts).all()
    if "period" in it.data:
        p = it.data["period"].dropna()
        assert p.str.fullmatch(r"(19[5-9]\d|20\d\d)-(0[1-9]|1[0-2])").all()


def run(reader, path) -> None:
    try:
        it = reader(path)
    except GangmapError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and "Traceback" not in msg
        return
    assert_adds_up(it)


def run_bytes(reader, data: bytes, name: str = "input.csv") -> None:
    """``run`` on a file holding ``data`` (in a temporary folder, removed after)."""
    with tempfile.TemporaryDirectory(prefix="gangmap-fuzz-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        run(reader, path)


# --------------------------------------------------------------------------- any bytes


@FUZZ
@given(data=st.binary(max_size=600), reader=st.sampled_from(READERS))
def test_any_bytes(data, reader):
    run_bytes(reader, data)


@FUZZ
@given(prefix=st.sampled_from([b"ward_code,count\n", b"ward_name,count\r", b"\xef\xbb\xbfURN,referrals\r\n",
                               b"\xff\xfe", b"Title\n\nward_code,Month,count\n", b"lat,lon\n"]),
       data=st.binary(max_size=400), reader=st.sampled_from(READERS))
def test_bytes_after_a_plausible_start(prefix, data, reader):
    run_bytes(reader, prefix + data)


# --------------------------------------------------------------------------- CSV-shaped text

NASTY = ["", " ", "3", "0", "-1", "2.5", "3,5", "1,234", "1 234", "1e400", "nan", "inf", '"', '""', "a,b", "x\ny",
         "\r", "\t", "\x00", "\x1f", "\u200b", "\ufeff", "E05100001", "e05100002 ", "E01026949", "Abbey", "Tŷ Ddewi",
         "Mo\u0302n", "Café", "2018-03", "Mar-18", "43160", "Q1 2018", "2018", "03/15/2018", "31/02/2018", "52.2",
         "-0.9", "52,2", "480500", "260500", "100001", "=HYPERLINK(\"x\")", "ward_code", "count", "Month"]
COLUMNS = ["ward_code", "ward_name", "count", "Month", "Crime type", "URN", "referrals", "population", "Latitude",
           "Longitude", "Easting", "Northing", "LSOA code", "lad_name", "notes", "", "Ward Code", "WD24CD"]


@st.composite
def csv_text(draw) -> bytes:
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(st.sampled_from(NASTY), min_size=0, max_size=len(header) + 2), max_size=12))
    quote = draw(st.booleans())

    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if quote or any(c in v for c in ',"\n\r') and draw(
            st.booleans()) else v

    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    title = draw(st.sampled_from(["", "Reports by ward" + eol, "Title, with comma" + eol + eol]))
    text = title + eol.join(",".join(cell(v) for v in r) for r in [header, *rows]) + draw(st.sampled_from(["", eol]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


@FUZZ
@given(data=csv_text(), reader=st.sampled_from(READERS))
def test_csv_shaped_text(data, reader):
    run_bytes(reader, data)


@FUZZ
@given(frame=st.lists(st.tuples(st.sampled_from(NASTY + [None]), st.one_of(
    st.sampled_from(NASTY), st.integers(-5, 10**12), st.floats(allow_nan=True, allow_infinity=True), st.none())),
    max_size=10), columns=st.sampled_from([("ward_code", "count"), ("ward_name", "reports"), ("URN", "referrals"),
                                            ("lsoa_code", "n"), ("Month", "count"), ("Easting", "Northing")]))
def test_dataframes_with_any_values(frame, columns):
    df = pd.DataFrame(frame, columns=list(columns), dtype=object)
    for reader in (read_reports, read_referrals):
        run(reader, df)


# --------------------------------------------------------------------------- workbooks and archives


def _workbook() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"ward_code": ["E05100001", "E05100002"], "count": [3, 4],
                  "Month": ["Mar-18", "2018-04"]}).to_excel(buf, index=False)
    return buf.getvalue()


WORKBOOK = _workbook()


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.tuples(st.integers(0, len(WORKBOOK) - 1), st.binary(min_size=1, max_size=16)), max_size=4))
def test_damaged_workbooks(cuts):
    data = bytearray(WORKBOOK)
    for at, junk in cuts:
        data[at: at + len(junk)] = junk
    run_bytes(read_reports, bytes(data), "book.xlsx")


@settings(max_examples=40, deadline=None)
@given(members=st.lists(st.tuples(st.sampled_from(["2018-03/2018-03-kent-street.csv", "2018-04-kent-street.csv",
                                                   "x/2018-05-essex-street.csv", "2018-03/2018-03-kent-outcomes.csv"]),
                                  st.binary(max_size=300)), min_size=1, max_size=3, unique_by=lambda m: m[0]))
def test_archives_with_any_members(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            z.writestr(name, b"Crime ID,Month,Longitude,Latitude,Crime type\n" + data)
    run_bytes(read_police, buf.getvalue(), "archive.zip")


def test_the_properties_can_fail():
    """The oracle is not vacuous: an Intake that loses a row is caught."""
    it = read_reports(pd.DataFrame({"ward_code": ["E05100001", "E05100002"], "count": ["1", "x"]}))
    lost = Intake(it.kind, it.key, it.source, it.rows_read, it.data, it.rejected.iloc[:0])
    with pytest.raises(AssertionError):
        assert_adds_up(lost)
