"""gangmap.export: tidy tables any tool reads, numbers as numbers, no formula or row injection, whole files."""

from __future__ import annotations

import csv
import json

import openpyxl
import pandas as pd
import pytest

import gangmap
from gangmap import export
from gangmap.table import from_frame

EVIL = '=HYPERLINK("http://x","click")\n=1+1,"\r@SUM(A1)'


@pytest.fixture
def safe():
    frame = pd.DataFrame({"ward_code": ["E05000001", "E05000002", "E05000003", "E05000004"],
                          "ward_name": ["Abbey", "=cmd|' /C calc'!A0", "St\u0001 James\nEnd", "-Castle"],
                          "lad_code": ["E07000001"] * 4, "lad_name": ["D"] * 4,
                          "reports": [3, 120, 0, 47], "population": [1000, 2000, 1500, 900]})
    table = gangmap.measures.rate(from_frame(frame, counts=["reports"], context=["population"]), "reports",
                                  "population")
    return gangmap.make_safe(table, marking=EVIL, period=EVIL)


def test_csv_reads_with_pandas_defaults_and_numbers_are_numbers(safe, tmp_path):
    path = export.write_table(safe, tmp_path / "wards.csv")
    df = pd.read_csv(path)
    assert list(df.columns[:4]) == ["ward_code", "ward_name", "lad_code", "lad_name"]
    assert df["population"].dtype.kind == "i"
    shown = df.loc[df["ward_code"] == "E05000002", "reports"].iloc[0]
    assert str(shown) == "120"
    assert df.loc[df["ward_code"] == "E05000001", "reports"].iloc[0] == "*"  # hidden: the marker, never 3
    meta = json.loads((tmp_path / "wards.csv-metadata.json").read_text(encoding="utf-8"))
    assert meta["url"] == "wards.csv" and "*" in meta["null"] and meta["gangmap:policy"] == "nhs"
    assert meta["dc:rights"].startswith("'=")


def test_no_text_can_become_a_formula_or_a_new_row(safe, tmp_path):
    path = export.write_table(safe, tmp_path / "wards.csv")
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    assert len(rows) == 1 + len(safe)  # nothing broke out into a row of its own
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@")), cell
            assert "\n" not in cell and "\r" not in cell and "\x01" not in cell
    assert all("-Castle" not in r for r in rows)  # a text starting with '-' is defused too
    assert any("'-Castle" in r for r in rows)


def test_xlsx_numbers_are_numbers_and_text_is_inert(safe, tmp_path):
    path = export.write_table(safe, tmp_path / "wards.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["wards"]
    header = [c.value for c in ws[1]]
    pop = [ws.cell(row=r, column=header.index("population") + 1) for r in range(2, ws.max_row + 1)]
    assert all(c.data_type == "n" for c in pop)
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{sheet.title}!{c.coordinate} is a formula: {c.value!r}"
                if isinstance(c.value, str):
                    assert not c.value.startswith(("=", "+", "@")) and "\n" not in c.value
    about = [c.value for c in wb["about"]["A"]]
    assert about[1].startswith("'=")
    assert all(not str(c.value).startswith("=") for c in wb["totals"]["A"])


def test_a_crash_while_writing_a_workbook_leaves_nothing(safe, tmp_path, monkeypatch):
    target = tmp_path / "wards.xlsx"
    target.write_bytes(b"previous")

    def boom(*a, **k):
        raise RuntimeError("crash in the middle")

    monkeypatch.setattr(export, "provenance_lines", boom)
    with pytest.raises(RuntimeError):
        export.write_table(safe, target)
    assert target.read_bytes() == b"previous" and [p.name for p in tmp_path.iterdir()] == ["wards.xlsx"]


def test_exporters_refuse_what_is_not_safe(tmp_path):
    with pytest.raises(gangmap.errors.DisclosureError):
        export.write_table(pd.DataFrame({"ward_code": ["E05000001"], "reports": [3]}), tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_rows_not_placed_are_said_in_every_file(tmp_path, demo_paths):
    reports = pd.DataFrame({"ward_code": ["E05900001", "E05900002", "E05999999"], "count": [12, 9, 4]})
    table, report = gangmap.join(demo_paths["wards"], reports=reports, allow_unmatched=True)
    assert report.not_placed == "1 row (total 4) not placed"
    safe = gangmap.make_safe(table)
    footer = safe.provenance.footer()
    assert "Not placed on any ward: some reports (too few to publish)" in footer and "total 4" not in footer
    export.write_table(safe, tmp_path / "w.csv")
    export.write_table(safe, tmp_path / "w.xlsx")
    meta = json.loads((tmp_path / "w.csv-metadata.json").read_text(encoding="utf-8"))
    assert "some reports (too few to publish)" in meta["dc:source"] and "total 4" not in meta["dc:source"]
    about = [c.value for c in openpyxl.load_workbook(tmp_path / "w.xlsx")["about"]["A"]]
    assert any("some reports (too few to publish)" in str(v) for v in about)
    assert not any("total 4" in str(v) for v in about)
    html = gangmap.maps.choropleth(safe, "reports").html
    assert "some reports (too few to publish)" in html and "total 4" not in html
