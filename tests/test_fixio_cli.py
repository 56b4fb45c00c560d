"""Fix wave on the command line: reader options as flags, several count files, --by lsoa and --by code.

The flags are thin layers over the readers' keywords (declared once in :data:`gangmap.io.OPTIONS`); each test
plants counts in its files and checks the totals the join prints, or the one-line error.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from gangmap.cli import main
from gangmap.io import POLICE_COLUMNS


@pytest.fixture
def wards(tmp_path, square_wards):
    path = tmp_path / "wards.geojson"
    square_wards.to_file(path, driver="GeoJSON")
    return path


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def matched(out: str) -> tuple[int, float]:
    """Rows matched and their total, from the printed JoinReport."""
    hit = re.search(r"matched\s+([\d,]+)\s+\(total count ([\d,.]+)\)", out)
    assert hit, out
    return int(hit.group(1).replace(",", "")), float(hit.group(2).replace(",", ""))


def test_count_flag(tmp_path, wards, capsys):
    path = write(tmp_path, "q.csv", "Ward code,Q1\nE05100001,5\nE05100002,7\n")
    assert main(["join", "--wards", str(wards), "--reports", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--count Q1" in err and "\n" not in err.strip()
    assert main(["join", "--wards", str(wards), "--reports", str(path), "--count", "Q1"]) == 0
    assert matched(capsys.readouterr().out) == (2, 12)
    assert main(["join", "--wards", str(wards), "--reports", str(path), "--count-rows"]) == 0
    assert matched(capsys.readouterr().out) == (2, 2)


def test_sheet_flag(tmp_path, wards, capsys):
    import pandas as pd

    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"about": ["made by hand"]}).to_excel(xw, sheet_name="About", index=False)
        pd.DataFrame({"ward_code": ["E05100001", "E05100003"], "count": [4, 6]}).to_excel(
            xw, sheet_name="Counts", index=False)
    assert main(["join", "--wards", str(wards), "--reports", str(path), "--sheet", "Counts"]) == 0
    assert matched(capsys.readouterr().out) == (2, 10)


def test_code_flag(tmp_path, wards, capsys):
    path = write(tmp_path, "c.csv", "Place,Reports\nE05100001,2\nE05100004,3\n")
    assert main(["join", "--wards", str(wards), "--reports", str(path), "--code", "Place"]) == 0
    assert matched(capsys.readouterr().out) == (2, 5)


def test_month_first_flag(tmp_path, wards, capsys):
    path = write(tmp_path, "us.csv", "ward_code,date,count\nE05100001,3/1/2018,1\nE05100002,4/1/2018,2\n")
    assert main(["join", "--wards", str(wards), "--reports", str(path)]) == 2
    assert "--month-first" in capsys.readouterr().err
    assert main(["join", "--wards", str(wards), "--reports", str(path), "--month-first",
                 "--period", "2018-04"]) == 0
    assert matched(capsys.readouterr().out) == (1, 2)


def test_several_count_files(tmp_path, wards, capsys):
    a = write(tmp_path, "a.csv", "ward_code,count\nE05100001,3\nE05100002,4\n")
    b = write(tmp_path, "b.csv", "ward_code,count\nE05100001,10\n")
    assert main(["join", "--wards", str(wards), "--reports", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert matched(out) == (3, 17) and "3 rows read" in out


def test_by_lsoa_places_rows_without_coordinates(tmp_path, wards, capsys):
    rows = [["", "2018-03", "F", "F", "", "", "No location", "E01000001", "A 001A", "Drugs", "", ""],
            ["", "2018-03", "F", "F", "", "", "No location", "E01000002", "A 001B", "Drugs", "", ""]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(POLICE_COLUMNS)
    w.writerows(rows)
    police = write(tmp_path, "2018-03-testshire-street.csv", buf.getvalue())
    lookup = write(tmp_path, "lookup.csv", "LSOA11CD,WD21CD\nE01000001,E05100001\nE01000002,E05100002\n")
    assert main(["join", "--wards", str(wards), "--reports", str(police), "--by", "lsoa", "--lsoa",
                 str(lookup)]) == 0, capsys.readouterr().err
    assert matched(capsys.readouterr().out) == (2, 2)


def test_by_code_with_a_blank_code_column(tmp_path, wards, capsys):
    path = write(tmp_path, "b.csv", "ward_code,ward_name,count\n,Castle,3\n,Delapre,4\n")
    assert main(["join", "--wards", str(wards), "--reports", str(path), "--by", "code"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "'ward_code'" in err and "rows 1-2" in err and "--by name" in err
