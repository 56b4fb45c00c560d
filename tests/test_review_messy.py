"""Review as an analyst on a fresh machine: messy files that gangmap mishandles today.

Each test plants a small input an analyst really gets (a police.uk folder with a renamed month, counts
coded to another ward vintage, a saved HTML error page, an Excel export with blank separator rows, a
workbook with several sheets, a boundary file with one self-crossing polygon) and asserts the behaviour
the README and issue 16 promise: nothing dropped silently, and a one-line error that names the file
and the fix in the words of the interface being used.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import shapely
from pyproj import Transformer

from gangmap.cli import main
from gangmap.io import POLICE_COLUMNS

REPO_ROOT = Path(__file__).resolve().parents[1]


def centre(i: int) -> tuple[float, float]:
    """Centre of square ward ``i`` of the conftest's ``square_wards`` (3 columns, 1 km, from 480000, 260000)."""
    return 480_500 + 1_000 * (i % 3), 260_500 + 1_000 * (i // 3)


@pytest.fixture
def wards(tmp_path, square_wards):
    path = tmp_path / "wards.geojson"
    square_wards.to_file(path, driver="GeoJSON")
    return path


def matched(out: str) -> tuple[int, float]:
    """Rows matched and their total, from the printed JoinReport."""
    hit = re.search(r"matched\s+([\d,]+)\s+\(total count ([\d,.]+)\)", out)
    assert hit, out
    return int(hit.group(1).replace(",", "")), float(hit.group(2).replace(",", ""))


def street_csv(month: str, wards_hit: list[int]) -> str:
    """A data.police.uk street CSV with one crime at the centre of each square ward listed."""
    to_wgs = Transformer.from_crs(27700, 4326, always_xy=True)
    lines = [",".join(POLICE_COLUMNS)]
    for n, i in enumerate(wards_hit):
        lon, lat = to_wgs.transform(*centre(i))
        lines.append(f"id{month}{n},{month},Northamptonshire Police,Northamptonshire Police,{lon:.6f},{lat:.6f},"
                     f"On or near X,E01000001,Somewhere 001A,Drugs,Under investigation,")
    return "\n".join(lines) + "\n"


def test_police_folder_does_not_skip_a_renamed_month(tmp_path, wards, capsys):
    """A folder holding a month saved under another name ('april crimes.csv', or a browser's
    '... (1).csv') was skipped without a word: 2 crimes lost, exit 0, '1 street file(s) read'.
    Every CSV in the folder must be read, or the skipped file named (a note or an error)."""
    folder = tmp_path / "police"
    folder.mkdir()
    (folder / "2018-03-northamptonshire-street.csv").write_text(street_csv("2018-03", [0, 1, 2]))
    (folder / "april crimes.csv").write_text(street_csv("2018-04", [3, 4]))
    rc = main(["join", "--wards", str(wards), "--reports", str(folder), "--allow-unmatched"])
    cap = capsys.readouterr()
    said = "april crimes.csv" in cap.out + cap.err
    assert said or (rc == 0 and matched(cap.out) == (5, 5)), (
        "a CSV in the police folder was neither read nor named:\n" + cap.out + cap.err)


def test_codes_of_another_vintage_stop_with_the_vintage_advice(tmp_path, wards, capsys):
    """Counts coded to newer wards stop the join (right), but the error only offers 'did you mean
    E05100006?' for each code; the vintage advice ('ward codes from a newer vintage ... use the
    boundaries of that year') is computed but shown only after --allow-unmatched has written a table
    of zeros. The stopping error must carry it."""
    path = tmp_path / "counts.csv"
    path.write_text("ward_code,reports\nE05200001,10\nE05200002,20\nE05200003,3\n")
    assert main(["join", "--wards", str(wards), "--reports", str(path)]) == 2
    err = capsys.readouterr().err.replace(str(tmp_path), "TMP")  # the test's folder name holds 'vintage'
    assert "vintage" in err, err


def test_saved_html_error_page_is_called_html(tmp_path, wards, capsys):
    """A download that saved a web server's error page as 'reports.csv' is diagnosed as a CSV with a
    column '<!DOCTYPE html>' to be renamed. It must say the file is an HTML (web) page, not a table."""
    path = tmp_path / "reports.csv"
    path.write_text("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
                    "<body><h1>Bad Gateway</h1></body></html>\n")
    assert main(["join", "--wards", str(wards), "--reports", str(path)]) == 2
    err = capsys.readouterr().err.replace(str(tmp_path), "TMP")
    assert re.search(r"\bHTML\b|web page", err), err
    assert "Rename a column" not in err, err


def test_blank_separator_lines_do_not_stop_the_join(tmp_path, wards, capsys):
    """Blank lines between data rows (Excel exports, hand-made lists) hold no count, yet each is
    'rejected' and the join stops until --allow-unmatched (which then also lets real unmatched rows
    through, and stamps 'rows not placed' on every output). The same blank lines at the end of the
    file are dropped quietly. Blank lines must be skipped (with a note) wherever they are."""
    path = tmp_path / "counts.csv"
    path.write_text("ward_code,reports\n\nE05100001,10\n,\n\nE05100002,20\n")
    rc = main(["join", "--wards", str(wards), "--reports", str(path)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert matched(cap.out) == (2, 30)


def test_cli_names_the_sheet_flag(tmp_path, wards, capsys):
    """On the command line, a workbook with several sheets says "Pass sheet='NAME'" (the Python
    keyword); every other CLI error names its flag ('command line: --day-first'). It must name --sheet."""
    import pandas as pd

    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"note": ["made by hand"]}).to_excel(xw, sheet_name="Notes", index=False)
        pd.DataFrame({"ward_code": ["E05100001", "E05100003"], "reports": [4, 6]}).to_excel(
            xw, sheet_name="Counts", index=False)
    assert main(["join", "--wards", str(wards), "--reports", str(path)]) == 2
    err = capsys.readouterr().err.replace(str(tmp_path), "TMP")
    assert "--sheet" in err, err


def test_cli_boundary_repair_is_a_line_not_python_source(tmp_path, square_wards):
    """Real boundaries often hold one invalid polygon (Northamptonshire's LSOAs, England's wards). The
    CLI then prints Python's warning format: the path of gangmap/cli/commands.py, a line number and the
    source line 'return io.read_areas(args.areas, **opts)'. It must print one plain line."""
    bad = square_wards.copy()
    x0, y0, x1, y1 = bad.geometry.iloc[0].bounds
    bad.loc[0, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # a bow tie
    wards = tmp_path / "wards.geojson"
    bad.to_file(wards, driver="GeoJSON")
    counts = tmp_path / "counts.csv"
    counts.write_text("ward_code,reports\nE05100002,10\n")
    proc = subprocess.run([sys.executable, "-m", "gangmap.cli", "join", "--wards", str(wards), "--reports",
                           str(counts), "--out", str(tmp_path / "out.csv")],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "repaired" in proc.stderr + proc.stdout
    assert ".py:" not in proc.stderr and "args.areas" not in proc.stderr, proc.stderr
