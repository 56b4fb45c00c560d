"""A messy analyst folder (issue 16): the files analysts really get, read end to end through gangmap.io.

Each file is written the way a tool or a person writes it (Excel exports, an old laptop's cp1252, a Mac, Excel's
"Unicode text", hand-made lists, a workbook with a notes sheet, a police.uk file re-saved by Excel). The oracle is
the planted content: the totals per area and month the file was made from, compared with what the reader kept.
Files that cannot be read safely must fail with one line naming the file, the row or line and the fix.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter

import pandas as pd
import pytest

from gangmap.errors import GangmapError
from gangmap.io import (
    POLICE_COLUMNS,
    read_areas,
    read_police,
    read_population,
    read_referrals,
    read_reports,
)

# What the files were made from: (ward code, ward name, district, month, category, count).
PLANTED = [
    ("E05100001", "St. Crispin & Kingsthorpe", "Northwold", "2018-03", "Drugs", 1234),
    ("E05100002", "Abbey", "Northwold", "2018-03", "Weapons concern", 3),
    ("E05100003", "Castle", "Northwold", "2018-04", "Drugs", 0),
    ("E05100004", "Abbey", "Southmere", "2018-04", "Drugs", 12),
    ("E05100005", "Tŷ Ddewi", "Southmere", "2018-03", "Weapons concern", 7),
    ("E05100006", "Ynys Môn", "Southmere", "2018-05", "Drugs", 25),
]


def totals(rows, key):
    out: Counter = Counter()
    for r in rows:
        out[key(r)] += r[5]
    return dict(out)


def kept_totals(it, *cols):
    """Totals of the kept rows by one column, or by a tuple of columns."""
    key = list(cols) if len(cols) > 1 else cols[0]
    return {k: int(v) for k, v in it.data.groupby(key)["count"].sum().items()}


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "Analyst shared drive" / "gangs 2018"
    d.mkdir(parents=True)
    return d


def test_excel_export_with_title_bom_crlf_thousands_and_mmm_yy(folder):
    lines = ["Reports by ward - March to May 2018,,,,,", "Source: MASH,,,,,", ",,,,,",
             "Ward Code,Ward Name,District,Month,Concern,Reports,"]
    for code, name, district, month, cat, n in PLANTED:
        mmm = pd.Period(month).strftime("%b-%y")
        lines.append(f'{code},"{name}",{district},{mmm},{cat},"{n:,}",')
    path = folder / "Reports by ward - Mar-May 2018.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n")
    r = read_reports(path)
    assert r.key == "ward_code" and r.rejected.empty and r.rows_read == len(PLANTED)
    assert kept_totals(r, "ward_code") == totals(PLANTED, lambda p: p[0])
    assert kept_totals(r, "period", "category") == totals(PLANTED, lambda p: (p[3], p[4]))
    assert "title" in r.notes[0]


def test_old_laptop_cp1252_referrals(folder):
    text = "URN,School,Month,Concern,Referrals\r\n"
    rows = [("100001", "St Mary’s Primary", "01/03/2018", "Going missing – repeat", 4),
            ("100002", "Café Academy", "15/03/2018", "Drugs", 2),
            ("100003", "Ecole Français", "01/04/2018", "Drugs", 5)]
    text += "".join(f"{u},{s},{m},{c},{n}\r\n" for u, s, m, c, n in rows)
    path = folder / "referrals 2017-18 (old laptop).csv"
    path.write_bytes(text.encode("cp1252"))
    r = read_referrals(path)
    assert r.key == "urn" and r.data["count"].tolist() == [4, 2, 5]
    assert r.data["period"].tolist() == ["2018-03", "2018-03", "2018-04"]
    assert r.data["category"].tolist()[0] == "Going missing – repeat"
    assert any("cp1252" in n for n in r.notes)


def test_welsh_names_with_one_pasted_cp1252_line_match_the_boundaries(folder, square_wards_factory):
    names = [p[1] for p in PLANTED]
    wards = read_areas(square_wards_factory(names=names), "ward")
    body = [f'"{p[1]}",{p[2]},{p[5]}\n'.encode() for p in PLANTED]
    body.append("Café Quarter,Northwold,1\n".encode("cp1252"))  # pasted from an old e-mail
    path = folder / "welsh wards.csv"
    path.write_bytes(b"Ward Name,District,Count\n" + b"".join(body))
    r = read_reports(path)
    kept = r.data["ward_name"].tolist()
    assert kept[:-1] == names and kept[-1] == "Café Quarter"
    assert set(kept[:-1]) <= set(wards.frame["ward_name"])  # every planted name matches exactly
    assert r.notes == ("line 8 not valid UTF-8 and read as Windows-1252 (cp1252); the rest is UTF-8",)


def test_mac_names_decomposed_and_cr_only(folder, square_wards_factory):
    wards = read_areas(square_wards_factory(names=[p[1] for p in PLANTED]), "ward")
    text = "ward_name,lad_name,count\r" + "".join(f"{unicodedata.normalize('NFD', p[1])},{p[2]},{p[5]}\r"
                                                  for p in PLANTED)
    path = folder / "names from Mac.csv"
    path.write_bytes(text.encode("utf-8"))
    r = read_reports(path)
    assert r.data["ward_name"].tolist() == list(wards.frame["ward_name"])
    assert list(zip(r.data["ward_name"], r.data["district"])) == [(p[1], p[2]) for p in PLANTED]


def test_excel_unicode_text(folder):
    text = "Ward Code\tWard Name\tReports\r\n" + "".join(f"{p[0]}\t{p[1]}\t{p[5]}\r\n" for p in PLANTED)
    path = folder / "Book1 (Unicode Text).txt"
    path.write_bytes(text.encode("utf-16"))
    r = read_reports(path)
    assert kept_totals(r, "ward_code") == totals(PLANTED, lambda p: p[0])


def test_hand_made_list_with_blank_lines_notes_and_tbc(folder):
    text = ("ward name , count ,notes\n\n"
            "Abbey ,3, ok\n"
            "Castle,TBC,ask Sam\n"
            "  Ynys Môn\t,  25 ,\x07bell\n"
            "\n"
            "Delapre,\"1,234\",\n\n\n")
    path = folder / "hand made list.csv"
    path.write_text(text, encoding="utf-8")
    r = read_reports(path)
    assert r.rows_read == 4  # the blank lines between rows are skipped and said, not rejected
    assert r.data["ward_name"].tolist() == ["Abbey", "Ynys Môn", "Delapre"]
    assert r.data["count"].tolist() == [3, 25, 1234]
    assert dict(zip(r.rejected["row"], r.rejected["reason"])) == {
        3: "count is 'TBC': counts must be whole numbers 0 or more"}
    assert any("blank rows between the data skipped (rows 1, 5)" in n for n in r.notes)


def test_workbook_with_notes_sheet_and_title(folder):
    path = folder / "children 10-17 by ward.xlsx"
    pop = pd.DataFrame({"Ward code": [p[0] for p in PLANTED], "Children aged 10-17": [1500 + i for i in range(6)]})
    with pd.ExcelWriter(path) as xw:
        about = pd.DataFrame({"About": ["ONS mid-2017 estimates", "Aged 10 to 17"]})
        about.to_excel(xw, sheet_name="About", index=False)
        pop.to_excel(xw, sheet_name="Data", index=False, startrow=2)
        xw.sheets["Data"]["A1"] = "Children aged 10-17, mid-2017"
    with pytest.raises(GangmapError, match=r"2 sheets with data: 'About' \(3 rows\), 'Data'"):
        read_population(path)
    p = read_population(path, sheet="Data", population="Children aged 10-17")
    assert dict(zip(p.data["ward_code"], p.data["count"])) == {c[0]: 1500 + i for i, c in enumerate(PLANTED)}
    assert p.source.endswith("[Data]")


def test_police_file_resaved_by_excel_in_a_folder(folder):
    """A month folder where one street file went through Excel (Mar-18, CRLF, cp1252) and one did not."""
    month_dir = folder / "police" / "2018-03"
    month_dir.mkdir(parents=True)
    for name, month, enc in (("2018-03-northamptonshire-street.csv", "Mar-18", "cp1252"),
                             ("2018-03-leicestershire-street.csv", "2018-03", "utf-8")):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(POLICE_COLUMNS)
        for i, cat in enumerate(["Drugs", "Robbery", "Drugs"]):
            w.writerow(["", month, "P", "P", f"{-0.9 + i / 100:.6f}", "52.200000", "On or near Café", "E01027001",
                        "N 001A", cat, "", ""])
        (month_dir / name).write_bytes(buf.getvalue().encode(enc))
    r = read_police(folder / "police")
    assert r.rows_read == 6 and r.periods == ["2018-03"] and r.rejected.empty
    assert r.data["category"].value_counts().to_dict() == {"Drugs": 4, "Robbery": 2}


@pytest.mark.parametrize("name,data,where", [
    ("european.csv", 'ward_code;count\nE05100001;"3,5"\n', "delimiter"),
    ("european commas.csv", 'ward_code,count\nE05100001,2\nE05100002,"3,5"\n', "row 2: count is '3,5'"),
    ("stray quote.csv", 'ward_code,count\nE05100001,"2\n' + "E05100002,3\n" * 300, "line 2: a double quote"),
    ("header only.csv", "ward_code,count\r\n", "no data rows"),
    ("picture.csv", "\x89PNG\r\n\x1a\n", "binary"),
    ("quarters.csv", "ward_code,period,count\nE05100001,Q1 2018,3\n", "row 1: period is 'Q1 2018': a quarter"),
    ("US dates.csv", "ward_code,date,count\nE05100001,13/01/2018,3\nE05100001,03/25/2018,3\n", "mixes date orders"),
])
def test_files_that_cannot_be_read_safely(folder, name, data, where):
    path = folder / name
    path.write_bytes(data.encode("latin-1"))
    with pytest.raises(GangmapError) as ei:
        read_reports(path)
    msg = str(ei.value)
    assert msg.startswith(str(path)) and where in msg and "\n" not in msg


def test_every_file_of_the_folder_adds_up(folder, square_wards_factory):
    """All the readable files above, read together: nothing dropped silently."""
    for fn in (test_excel_export_with_title_bom_crlf_thousands_and_mmm_yy, test_old_laptop_cp1252_referrals,
               test_excel_unicode_text, test_hand_made_list_with_blank_lines_notes_and_tbc):
        fn(folder)
    for path in sorted(folder.iterdir()):
        reader = read_referrals if "referrals" in path.name else read_reports
        it = reader(path)
        assert len(it.data) + len(it.rejected) == it.rows_read > 0
