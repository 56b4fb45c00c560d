"""gangmap.io.periods: every common month format read, everything else refused by row (issue 16)."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io

import pandas as pd
import pytest

from gangmap.errors import InputError
from gangmap.io import parse_period, read_police_csv, read_reports
from gangmap.io.periods import parse_periods

MONTHS = [dt.date(y, m, 1) for y in range(2008, 2027) for m in range(1, 13)]
DAYS = [1, 5, 12, 13, 28]


def formats(d: dt.date, day: int) -> list[str]:
    """The same month as analysts' files write it (built with strftime and calendar, not with gangmap)."""
    full = d.replace(day=min(day, calendar.monthrange(d.year, d.month)[1]))
    return [
        d.strftime("%Y-%m"), d.strftime("%Y/%m"), d.strftime("%YM%m"), d.strftime("%Y%m"),
        full.strftime("%Y-%m-%d"), full.strftime("%Y-%m-%d 00:00:00"), full.strftime("%Y-%m-%dT14:30:00"),
        full.strftime("%d/%m/%Y"), full.strftime("%d/%m/%y"), f"{full.day}/{full.month}/{full.year}",
        full.strftime("%d.%m.%Y"), full.strftime("%d-%m-%Y"), full.strftime("%d/%m/%Y %H:%M"),
        d.strftime("%m/%Y"),
        d.strftime("%b-%y"), d.strftime("%b %Y"), d.strftime("%B %Y"), d.strftime("%B-%y"), d.strftime("%b-%Y"),
        d.strftime("%Y %b"), d.strftime("%Y-%b"), d.strftime("%b %y").upper(), d.strftime("%B %Y").lower(),
        full.strftime("%d-%b-%y"), full.strftime("%d %B %Y"), f"{full.day} {full.strftime('%b')} {full.year}",
        f"{full.strftime('%B')} {full.day}, {full.year}",
        str((full - dt.date(1899, 12, 30)).days),  # Excel serial date, computed independently
        f"{(full - dt.date(1899, 12, 30)).days}.5",
    ]


@pytest.mark.parametrize("day", DAYS)
def test_every_format_of_every_month(day):
    for d in MONTHS:
        want = f"{d.year:04d}-{d.month:02d}"
        for text in formats(d, day):
            if text == d.strftime("%Y/%m") and d.month == (d.year + 1) % 100:
                # 2008/09 is also the financial year 2008-09: refused, never guessed (documented).
                assert parse_period(text)[0] is None and "financial year" in parse_period(text)[1]
                continue
            assert parse_period(text) == (want, None), text


@pytest.mark.parametrize("value,why", [
    ("Q1 2018", "a quarter"), ("2018 Q1", "a quarter"), ("q4 2017/18", "a quarter"), ("Quarter 2 2018", "a quarter"),
    ("2018", "a year"), ("FY2018", "a year"), ("2018/19", "a financial year"), ("FY 2018-19", "a financial year"),
    ("2018/2019", "a financial year"), ("2002/03", "a financial year"),
    ("18-Mar", "without a year"), ("Mar 5", "without a year"),
    ("2018-02-30", "not a possible date"), ("2018-13", "not a possible date"), ("31/02/2018", "not a possible date"),
    ("1850-03", "not a possible date"), ("12345", "not a month"), ("banana", "not a month"), ("March", "not a month"),
])
def test_refused(value, why):
    month, reason = parse_period(value)
    assert month is None and why in reason


def test_two_digit_year_pivot():
    assert parse_period("Mar-68")[0] == "2068-03" and parse_period("Mar-69")[0] == "1969-03"
    assert parse_period("01/03/99")[0] == "1999-03" and parse_period("01/03/00")[0] == "2000-03"


def test_refused_rows_name_row_and_value():
    df = pd.DataFrame({"ward_code": ["E05100001"] * 5, "Month": ["Mar-18", "2018", "Q2 2018", "", "43191"]})
    r = read_reports(df)
    assert r.data["row"].tolist() == [1, 4, 5]
    assert r.data["period"].iloc[0] == "2018-03" and pd.isna(r.data["period"].iloc[1])
    assert r.data["period"].iloc[2] == "2018-04"
    reasons = dict(zip(r.rejected["row"], r.rejected["reason"]))
    assert reasons == {2: "Month is '2018': a year, not a month; give the month (e.g. 2018-03) of each row",
                       3: "Month is 'Q2 2018': a quarter, not a month; give the month (e.g. 2018-01) of each row"}
    assert len(r.data) + len(r.rejected) == r.rows_read


def test_us_order_column_is_read_month_first_for_the_whole_column():
    """One value that can only be month/day/year decides the whole column, and a note says so (it used to be an
    error; the lead's fix wave asks for the column's order to be detected)."""
    df = pd.DataFrame({"ward_code": ["E05100001"] * 3, "date": ["03/01/2018", "02/01/2018", "03/15/2018"]})
    r = read_reports(df)
    assert r.data["period"].tolist() == ["2018-03", "2018-02", "2018-03"]
    assert any("month first" in n and "'03/15/2018'" in n for n in r.notes)
    mixed = pd.DataFrame({"ward_code": ["E05100001"] * 2, "date": ["15/01/2018", "03/15/2018"]})
    with pytest.raises(InputError, match=r"mixes date orders: row 1: '15/01/2018'.*row 2: '03/15/2018'"):
        read_reports(mixed)


def test_column_without_any_month_is_an_error():
    with pytest.raises(InputError) as ei:
        read_reports(pd.DataFrame({"ward_code": ["E05100001"] * 2, "period": ["", "2017/18"]}))
    msg = str(ei.value)
    assert "row 2" in msg and "'2017/18'" in msg and "financial year" in msg and "period=" in msg


def test_blank_period_stays_missing_not_refused():
    bad: list = []
    out = parse_periods(pd.Series(["2018-03", None, " "]), "month", pd.Series([1, 2, 3]), bad, "x")
    assert out.iloc[0] == "2018-03" and out.iloc[1:].isna().all() and bad == []


def test_police_csv_resaved_by_excel(tmp_path):
    """Issue 16: a police.uk CSV re-saved by Excel has Month 'Mar-18' (it used to become '0001-03')."""
    header = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
              "Crime type,Last outcome category,Context")
    buf = io.StringIO()
    buf.write(header + "\r\n")
    w = csv.writer(buf, lineterminator="\r\n")
    for month in ("Mar-18", "Apr-18", "01/05/2018"):
        w.writerow(["", month, "N", "N", "-0.900000", "52.200000", "On or near X", "E01027001", "N 001A", "Drugs",
                    "", ""])
    path = tmp_path / "2018-03-northamptonshire-street.csv"
    path.write_bytes(buf.getvalue().encode("cp1252"))
    r = read_police_csv(path)
    assert r.data["period"].tolist() == ["2018-03", "2018-04", "2018-05"]
