"""Fix wave on intake (issues 15, 16): files that were read wrong silently, now read right or refused by name.

Each test was checked to fail on the main branch before the fix (see the helper's report) and plants the
answer it checks: the counts, months and rows are written into the file by the test itself.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest

import gangmap
from gangmap.errors import GangmapError, InputError
from gangmap.io import POLICE_COLUMNS, read_areas, read_police, read_reports, reports_input
from gangmap.io.stream import read_police_chunked

SQ = ["E05100001", "E05100002", "E05100003", "E05100004", "E05100005", "E05100006"]


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def street_csv(tmp_path, rows, name="2018-03-testshire-street.csv"):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(POLICE_COLUMNS)
    w.writerows(rows)
    return write(tmp_path, name, buf.getvalue())


def crime(lon, lat, lsoa, kind="Burglary", month="2018-03"):
    return ["", month, "Testshire Police", "Testshire Police", lon, lat, "On or near X", lsoa, "Somewhere 001A",
            kind, "", ""]


# ---------------------------------------------------------------------------- 1. count columns
@pytest.mark.parametrize("column", ["Total", "Incidents", "Count of Crime ID", "Number of reports"])
def test_count_column_with_a_common_name_is_the_count(tmp_path, column):
    """Each row used to count 1 whatever its Total: 5 + 7 read as 2."""
    path = write(tmp_path, "pivot.csv", f"Ward code,{column}\nE05100001,5\nE05100002,7\n")
    r = read_reports(path)
    assert r.data["count"].tolist() == [5, 7]


def test_unknown_numeric_column_is_an_error_naming_it_and_the_fix(tmp_path):
    path = write(tmp_path, "q.csv", "Ward code,Q1\nE05100001,5\nE05100002,7\n")
    with pytest.raises(InputError) as ei:
        read_reports(path)
    msg = str(ei.value)
    assert msg.startswith(str(path)) and "'Q1'" in msg and "count='Q1'" in msg and "--count Q1" in msg
    assert "count=False" in msg and "--count-rows" in msg
    assert read_reports(path, count="Q1").data["count"].tolist() == [5, 7]
    assert read_reports(path, count=False).data["count"].tolist() == [1, 1]


def test_records_without_numbers_count_one_each_with_a_note(tmp_path):
    r = read_reports(write(tmp_path, "rec.csv", "Ward code,what\nE05100001,x\nE05100001,y\n"))
    assert r.data["count"].tolist() == [1, 1] and any("each row counts as one" in n for n in r.notes)


# ---------------------------------------------------------------------------- 2. day or month first
def test_us_month_starts_are_refused_naming_file_column_and_the_way_to_say(tmp_path):
    """3/1/2018, 4/1/2018, 12/1/2018 used to be read as three days of January 2018."""
    path = write(tmp_path, "us.csv", "ward_code,date,count\nE05100001,3/1/2018,1\nE05100001,4/1/2018,2\n"
                                     "E05100001,12/1/2018,3\n")
    with pytest.raises(InputError) as ei:
        read_reports(path)
    msg = str(ei.value)
    assert msg.startswith(str(path)) and "'date'" in msg and "dayfirst=False" in msg and "--month-first" in msg
    r = read_reports(path, dayfirst=False)
    assert r.data["period"].tolist() == ["2018-03", "2018-04", "2018-12"]
    assert read_reports(path, dayfirst=True).data["period"].tolist() == ["2018-01"] * 3


def test_order_is_decided_by_the_whole_column():
    month_first = read_reports(pd.DataFrame({"ward_code": ["E05100001"] * 2, "date": ["3/1/2018", "3/15/2018"]}))
    assert month_first.data["period"].tolist() == ["2018-03", "2018-03"]
    assert any("month first" in n for n in month_first.notes)
    day_first = read_reports(pd.DataFrame({"ward_code": ["E05100001"] * 2, "date": ["3/1/2018", "15/3/2018"]}))
    assert day_first.data["period"].tolist() == ["2018-01", "2018-03"]


def test_all_ambiguous_dates_are_read_day_first_and_said_so():
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001"] * 2, "date": ["01/03/2018", "02/04/2018"]}))
    assert r.data["period"].tolist() == ["2018-03", "2018-04"]
    note = " ".join(r.notes)
    assert "day first" in note and "'date'" in note and "--month-first" in note


# ---------------------------------------------------------------------------- 3. blank months
def test_blank_month_is_kept_in_totals_and_reported(square_wards):
    df = pd.DataFrame({"ward_code": ["E05100001", "E05100002", "E05100002"], "count": [3, 4, 5],
                       "month": ["2018-03", "", "2018-03"]})
    r = read_reports(df)
    assert r.data["count"].sum() == 12  # nothing dropped
    assert any("1 row(s) with a blank month (rows 2)" in n for n in r.notes)
    _, rep = gangmap.join(square_wards, reports=df, period="2018-03")
    text = rep.summary()
    assert "blank month" in text and "rows 2" in text


# ---------------------------------------------------------------------------- 4. zips as boundaries
def test_zip_of_csvs_as_areas_is_a_clear_error(tmp_path):
    path = tmp_path / "wards.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("wards.csv", "ward_code,ward_name\nE05100001,Abbey\n")
    with pytest.raises(GangmapError) as ei:  # used to be an AttributeError
        read_areas(path)
    msg = str(ei.value)
    assert msg.startswith(str(path)) and "wards.csv" in msg and ".shp" in msg


def test_truncated_zip_says_so(tmp_path, square_wards):
    good = tmp_path / "good.zip"
    shp = tmp_path / "shp"
    shp.mkdir()
    square_wards.to_file(shp / "wards.shp")
    with zipfile.ZipFile(good, "w") as z:
        for f in shp.iterdir():
            z.write(f, f.name)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(GangmapError) as ei:
        read_areas(cut)
    msg = str(ei.value)
    assert msg.startswith(str(cut)) and "damaged or incomplete" in msg and "again" in msg
    assert len(read_areas(good)) == 6


# ---------------------------------------------------------------------------- 5. shifted rows
def test_police_row_shifted_by_an_extra_field_is_refused_naming_its_line(tmp_path):
    """An extra empty field after Location put the LSOA name under Crime type: read silently as a crime type."""
    good = crime(-0.88, 52.23, "E01027000")
    shifted = good[:7] + [""] + good[7:]  # 13 fields, the last (Context) empty
    path = street_csv(tmp_path, [good, shifted, good])
    for reader in (read_police, read_police_chunked):
        with pytest.raises(InputError) as ei:
            reader(path)
        msg = str(ei.value)
        assert msg.startswith(str(path)) and "line(s) 3 " in msg and "extra" in msg


def test_row_shifted_into_an_unnamed_column_is_refused(tmp_path):
    path = write(tmp_path, "p.csv", "ward_code,name,count,\nE05100001,Foo,3,\nE05100002,,Bar,4\n")
    with pytest.raises(InputError, match=r"line\(s\) 3 have an extra field"):
        read_reports(path)


def test_excel_padding_is_still_read(tmp_path):
    path = write(tmp_path, "x.csv", "ward_code,count,,\nE05100001,3,,\nE05100002,4,,\n")
    assert read_reports(path).data["count"].tolist() == [3, 4]


# ---------------------------------------------------------------------------- 6. by LSOA
def test_by_lsoa_keeps_rows_without_coordinates(tmp_path):
    path = street_csv(tmp_path, [crime(-0.88, 52.23, "E01027000"), crime("", "", "E01027001"),
                                 crime("", "", "")])
    r = read_police(path, by="lsoa")
    assert r.key == "lsoa_code" and r.data["lsoa_code"].tolist() == ["E01027000", "E01027001"]
    assert r.data["x"].notna().tolist() == [True, False]
    assert r.rejected["row"].tolist() == [3] and "LSOA code" in r.rejected["reason"].iloc[0]
    assert len(read_police(path).data) == 1  # by point, the row without coordinates is rejected


# ---------------------------------------------------------------------------- 7. separators
@pytest.mark.parametrize("value", ["1.000", "12.000", "1.000.000"])
def test_thousands_dot_in_a_count_is_an_error(tmp_path, value):
    """'1.000' used to be read as 1."""
    path = write(tmp_path, "eu.csv", f'ward_code,count\nE05100001,5\nE05100002,"{value}"\n')
    with pytest.raises(InputError) as ei:
        read_reports(path)
    msg = str(ei.value)
    assert msg.startswith(str(path)) and "row 2" in msg and "count" in msg and repr(value) in msg
    assert "1000, not 1.000" in msg


def test_dot_is_a_decimal_point_when_the_column_shows_it():
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001", "E05100002"], "count": ["12.0", "1.000"]}))
    assert r.data["count"].tolist() == [12, 1]


def test_decimal_comma_with_three_digits_is_an_error(tmp_path):
    """'0,750' used to be read as 750 (a thousands comma)."""
    path = write(tmp_path, "c.csv", 'ward_code,count\nE05100001,"0,750"\n')
    with pytest.raises(InputError, match=r"row 1: count is '0,750'"):
        read_reports(path)


# ---------------------------------------------------------------------------- 8. several files
def test_several_count_files_are_one_input_with_every_row(tmp_path, square_wards):
    a = write(tmp_path, "a.csv", "ward_code,count\nE05100001,3\nE05100002,4\n")
    b = write(tmp_path, "b.csv", "ward_code,count\nE05100001,10\nE09999999,1\n")
    intake = reports_input([a, b])
    assert intake.rows_read == 4 and intake.data["count"].sum() == 18
    assert any("2 files read" in n for n in intake.notes)
    table, rep = gangmap.join(square_wards, reports=intake, allow_unmatched=True)
    assert dict(zip(table.codes, table["reports"]))["E05100001"] == 13
    assert rep.sections["reports"].unmatched == 1


def test_count_files_mixed_with_police_files_are_refused(tmp_path):
    a = write(tmp_path, "a.csv", "ward_code,count\nE05100001,3\n")
    p = street_csv(tmp_path, [crime(-0.88, 52.23, "E01027000")])
    with pytest.raises(InputError, match="read them separately"):
        reports_input([p, a])


# ---------------------------------------------------------------------------- 10. blank code column
def test_blank_code_column_names_file_column_rows_and_fix(tmp_path):
    path = write(tmp_path, "b.csv", "ward_code,count\n,3\n,4\n")
    with pytest.raises(InputError) as ei:
        read_reports(path, by="code")
    msg = str(ei.value)
    assert msg.startswith(str(path)) and "'ward_code'" in msg and "rows 1-2" in msg and "--code" in msg


def test_blank_code_column_gives_way_to_names(tmp_path):
    path = write(tmp_path, "n.csv", "ward_code,ward_name,count\n,Castle,3\n,Delapre,4\n")
    r = read_reports(path)
    assert r.key == "ward_name" and any("blank in every row" in n for n in r.notes)
    with pytest.raises(InputError, match="by='name'"):
        read_reports(path, by="code")


# ---------------------------------------------------------------------------- 11. one home per constant
def test_one_home_for_the_police_columns_and_geographies():
    import gangmap.cli.args as cli_args
    import gangmap.fetch.police as fetch_police
    from gangmap.cli import build_parser
    from gangmap.geography import GEOGRAPHIES

    assert not hasattr(fetch_police, "STREET_COLUMNS") or fetch_police.STREET_COLUMNS is POLICE_COLUMNS
    assert not hasattr(cli_args, "GEOGRAPHIES")
    join = build_parser()._subparsers._group_actions[0].choices["join"]
    geo = next(a for a in join._actions if "--geography" in a.option_strings)
    assert tuple(geo.choices) == tuple(GEOGRAPHIES)
