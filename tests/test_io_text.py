"""gangmap.io.text and gangmap.io.tables: encodings, Unicode, line ends, file structure, workbooks (issue 16)."""

from __future__ import annotations

import codecs
import unicodedata

import pandas as pd
import pytest

from gangmap.errors import InputError
from gangmap.io import load_table, read_population, read_reports, read_schools
from gangmap.io.text import clean_text, decode_bytes

WELSH = ["Tŷ Ddewi", "Ynys Môn", "Llanfair Pwllgwyngyll", "Pen-y-ffordd", "Ŵyl Fair", "Llandŵ"]


def write_bytes(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def names_csv(names, counts=None, *, eol="\n") -> str:
    counts = counts or list(range(1, len(names) + 1))
    return eol.join(["ward_name,count", *(f"{n},{c}" for n, c in zip(names, counts))]) + eol


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8", codecs.BOM_UTF8),
                                          ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                          ("utf-32-le", codecs.BOM_UTF32_LE)])
def test_unicode_encodings_read_exactly(tmp_path, encoding, bom):
    text = names_csv(WELSH, eol="\r\n")
    path = write_bytes(tmp_path, "wards.csv", bom + text.encode(encoding))
    r = read_reports(path)
    assert r.data["ward_name"].tolist() == WELSH
    assert r.data["count"].tolist() == list(range(1, 7))
    assert r.rows_read == 6 and r.rejected.empty


def test_excel_unicode_text_is_utf16_tab_separated_not_binary(tmp_path):
    """Issue 16: Excel's 'Unicode text' (UTF-16 with a BOM, tabs) used to be called binary."""
    text = "ward_name\tcount\r\n" + "".join(f"{n}\t{i}\r\n" for i, n in enumerate(WELSH, 1))
    path = write_bytes(tmp_path, "Book1.txt", text.encode("utf-16"))
    assert path.read_bytes()[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    r = read_reports(path)
    assert r.data["ward_name"].tolist() == WELSH
    assert any("UTF-16" in n for n in r.notes)


def test_utf16_without_bom_recognised(tmp_path):
    path = write_bytes(tmp_path, "x.csv", names_csv(WELSH).encode("utf-16-le"))
    assert read_reports(path).data["ward_name"].tolist() == WELSH


def test_cp1252_file_read_as_cp1252_with_a_note(tmp_path):
    names = ["Café Quarter", "St. Peter’s", "Bishop’s Stortford – North"]  # é, curly quote, en dash: cp1252 bytes
    path = write_bytes(tmp_path, "old.csv", names_csv(names).encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    r = read_reports(path)
    assert r.data["ward_name"].tolist() == names
    assert any("cp1252" in n for n in r.notes)


def test_one_cp1252_line_does_not_redecode_the_welsh_names(tmp_path):
    """Issue 16: one cp1252 byte used to re-decode the whole UTF-8 file, so 'Tŷ Ddewi' became 'TÅ· Ddewi'."""
    lines = [f"{n},{i}\n".encode() for i, n in enumerate(WELSH, 1)]
    lines.insert(3, "Café,9\n".encode("cp1252"))
    data = b"ward_name,count\n" + b"".join(lines)
    path = write_bytes(tmp_path, "mixed.csv", data)
    r = read_reports(path)
    # Oracle: every line but one decodes as UTF-8 on its own; that one is cp1252.
    expected = [line.decode("utf-8") if i != 3 else line.decode("cp1252") for i, line in enumerate(lines)]
    assert r.data["ward_name"].tolist() == [e.split(",")[0] for e in expected]
    assert "Tŷ Ddewi" in r.data["ward_name"].tolist() and "Café" in r.data["ward_name"].tolist()
    assert r.notes == ("line 5 not valid UTF-8 and read as Windows-1252 (cp1252); the rest is UTF-8",)
    assert decode_bytes(data, "x").cp1252_lines == (5,)


def test_decode_keeps_every_utf8_line_byte_for_byte():
    good = [f"{n},{i}".encode() for i, n in enumerate(WELSH * 20)]
    bad_at = {7, 33, 101}
    raw = b"\n".join(b"Caf\xe9" if i in bad_at else line for i, line in enumerate(good))
    d = decode_bytes(raw, "x")
    assert d.cp1252_lines == tuple(i + 1 for i in sorted(bad_at))
    for i, line in enumerate(d.text.split("\n")):
        assert line == ("Café" if i in bad_at else good[i].decode("utf-8"))


def test_decomposed_unicode_is_nfc(tmp_path):
    """Issue 16: names written by macOS (decomposed) must equal the composed names of the boundaries."""
    nfd = [unicodedata.normalize("NFD", n) for n in WELSH]
    assert nfd != WELSH
    path = write_bytes(tmp_path, "mac.csv", names_csv(nfd).encode())
    assert read_reports(path).data["ward_name"].tolist() == WELSH
    df = pd.DataFrame({"ward_name": nfd, "count": [1] * 6})
    assert read_reports(df).data["ward_name"].tolist() == WELSH


def test_control_characters_stripped(tmp_path):
    dirty = ["Ab\x00bey"[:2] + "\x01bey", "Cas\x1ftle\x7f", "\u200bDelapre\ufeff", "East\x0bfield\x85"]
    path = write_bytes(tmp_path, "ctl.csv", names_csv(dirty).encode())
    r = read_reports(path)
    assert r.data["ward_name"].tolist() == ["Abbey", "Castle", "Delapre", "Eastfield"]
    assert clean_text(" a\tb\r\nc\u00a0 ") == "a b c"


def test_nul_in_text_is_binary(tmp_path):
    path = write_bytes(tmp_path, "nul.csv", b"ward_name,count\nAb\x00bey,3\n")
    with pytest.raises(InputError, match="binary"):
        read_reports(path)


@pytest.mark.parametrize("eol", ["\r", "\r\n", "\n"])
def test_line_ends(tmp_path, eol):
    """Issue 16: Mac CR-only CSVs used to end in a traceback."""
    path = write_bytes(tmp_path, "eol.csv", names_csv(WELSH, eol=eol).encode())
    r = read_reports(path)
    assert r.data["ward_name"].tolist() == WELSH and r.data["row"].tolist() == list(range(1, 7))


def test_mixed_line_ends_and_quoted_line_break(tmp_path):
    text = 'ward_name,count,note\r\nAbbey,1,"two\rlines"\nCastle,2,x\r'
    r = read_reports(write_bytes(tmp_path, "m.csv", text.encode()))
    assert r.data["ward_name"].tolist() == ["Abbey", "Castle"] and r.data["count"].tolist() == [1, 2]


# --------------------------------------------------------------------------- structure


def test_stray_quote_with_a_long_tail_is_a_one_line_error(tmp_path):
    """Issue 16: a stray quote swallowed the rest of the file (and gave a traceback)."""
    body = "".join(f"Ward {i},{i}\n" for i in range(500))
    path = write_bytes(tmp_path, "q.csv", ('ward_name,count\nAbbey,1\n"Castle,2\n' + body).encode())
    with pytest.raises(InputError) as ei:
        read_reports(path)
    msg = str(ei.value)
    assert "\n" not in msg and str(path) in msg
    assert "line 3:" in msg and "stray quote" in msg and "end of the file" in msg


def test_stray_quote_with_a_tail_beyond_the_csv_field_limit(tmp_path):
    body = "".join(f"Ward {i},{i}\n" for i in range(20_000))  # about 250 kB after the quote
    path = write_bytes(tmp_path, "q.csv", ('ward_name,count\nAbbey,1\n"Castle,2\n' + body).encode())
    with pytest.raises(InputError, match=r"q.csv: line 3: a double quote opens a value that runs on for more than"):
        read_reports(path)


def test_many_trailing_blank_lines(tmp_path):
    path = write_bytes(tmp_path, "b.csv", b"ward_code,count\nE05100001,3\n" + b"\n" * 50_000)
    r = read_reports(path)
    assert r.rows_read == 1 and r.data["count"].tolist() == [3]


def test_stray_quote_closed_later_swallowing_rows(tmp_path):
    text = 'ward_name,count\nAbbey,1\n"Castle,2\nDelapre,3\nEast"field,4\nWest,5\n'
    with pytest.raises(InputError, match=r"line 3: a double quote opens a value that runs to line 5"):
        read_reports(write_bytes(tmp_path, "q.csv", text.encode()))


def test_quoted_multiline_value_is_fine(tmp_path):
    text = 'ward_name,count,note\nAbbey,1,"first line\nsecond line"\nCastle,2,\n'
    r = read_reports(write_bytes(tmp_path, "q.csv", text.encode()))
    assert r.data["ward_name"].tolist() == ["Abbey", "Castle"]


def test_title_rows_above_the_header_are_skipped_and_explained(tmp_path):
    """Issue 16: title rows used to be reported as a repeated header or an unquoted comma."""
    text = ("Reports by ward, March 2018,,\nProduced by the analysis team,,,\n,,,\n"
            "Ward Code,Ward Name,Reports,\nE05100001,Abbey,3,\nE05100002,Castle,4,\n")
    r = read_reports(write_bytes(tmp_path, "export.csv", text.encode()))
    assert r.data["ward_code"].tolist() == ["E05100001", "E05100002"] and r.data["count"].tolist() == [3, 4]
    assert r.notes[0] == "lines 1, 2, 3 above the header (line 4) look like a title and were skipped"
    assert "empty column" in r.notes[1]
    assert r.rows_read == 2


def test_single_cell_title_above_unknown_columns(tmp_path):
    text = "Cases by area\n\nArea,Cases\nE05100001,3\n"
    r = read_reports(write_bytes(tmp_path, "t.csv", text.encode()), ward_code="Area", count="Cases")
    assert r.data["count"].tolist() == [3] and "line 3" in r.notes[0]


def test_trailing_empty_columns_are_not_an_unquoted_comma(tmp_path):
    """Excel leaves 'ward_code,count,,,' and 'E05...,3,,,' (or data rows longer than the header, all empty)."""
    text = "ward_code,count\nE05100001,3,,,\nE05100002,4,\n"
    r = read_reports(write_bytes(tmp_path, "t.csv", text.encode()))
    assert r.data["count"].tolist() == [3, 4] and r.rejected.empty
    text = "ward_code,count,,,\nE05100001,3,,,\nE05100002,4,,,\n"
    r = read_reports(write_bytes(tmp_path, "t2.csv", text.encode()))
    assert r.data["count"].tolist() == [3, 4] and "4 empty column(s)" not in " ".join(r.notes)
    assert any("3 empty column(s)" in n for n in r.notes)


def test_unnamed_column_with_values_is_named_by_position(tmp_path):
    text = "ward_code,count,\nE05100001,3,note\n"
    t = load_table(write_bytes(tmp_path, "t.csv", text.encode()))
    assert list(t.frame.columns) == ["ward_code", "count", "column 3"]
    assert any("column 3 has values but no name" in n for n in t.notes)


def test_unquoted_comma_still_an_error_under_a_title(tmp_path):
    text = "Reports\nward_name,count\nRushden, East,12\n"
    with pytest.raises(InputError, match=r"line 3 has 3 fields but the header has 2"):
        read_reports(write_bytes(tmp_path, "t.csv", text.encode()))


@pytest.mark.parametrize("reader", [read_reports, read_population, read_schools])
def test_header_only_file_is_an_error(tmp_path, reader):
    """Issue 16: a header-only file used to give all zeros with no hint."""
    path = write_bytes(tmp_path, "h.csv", b"ward_code,count,URN,population,Easting,Northing\r\n\r\n")
    with pytest.raises(InputError) as ei:
        reader(path)
    msg = str(ei.value)
    assert str(path) in msg and "header" in msg and "no data rows" in msg


def test_rows_after_a_title_are_numbered_from_the_header(tmp_path):
    text = "Title\nward_code,count\nE05100001,3\nE05100002,x\n"
    r = read_reports(write_bytes(tmp_path, "t.csv", text.encode()))
    assert r.rejected["row"].tolist() == [2] and r.rows_read == 2


# --------------------------------------------------------------------------- workbooks


def workbook(path, sheets: dict):
    with pd.ExcelWriter(path) as xw:
        for name, (df, startrow) in sheets.items():
            df.to_excel(xw, sheet_name=name, index=False, startrow=startrow)
    return path


def test_xlsx_several_sheets_need_a_choice(tmp_path):
    data = pd.DataFrame({"ward_code": ["E05100001", "E05100002"], "count": [3, 4]})
    notes = pd.DataFrame({"Notes": ["Counts by ward", "Source: team"]})
    path = workbook(tmp_path / "book.xlsx", {"Notes": (notes, 0), "Data": (data, 0)})
    with pytest.raises(InputError) as ei:
        read_reports(path)
    msg = str(ei.value)
    assert str(path) in msg and "'Notes'" in msg and "'Data'" in msg and "sheet=" in msg
    r = read_reports(path, sheet="Data")
    assert r.data["count"].tolist() == [3, 4] and r.source == f"{path}[Data]"
    assert read_reports(path, sheet=1).data["count"].tolist() == [3, 4]
    with pytest.raises(InputError, match=r"no sheet 'Summary'; the workbook's sheets are 'Notes', 'Data'"):
        read_reports(path, sheet="Summary")


def test_xlsx_empty_sheets_do_not_count(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Data"
    wb.active.append(["ward_code", "count"])
    wb.active.append(["E05100001", 5])
    wb.create_sheet("Sheet2")
    wb.save(tmp_path / "b.xlsx")
    assert read_reports(tmp_path / "b.xlsx").data["count"].tolist() == [5]


def test_xlsx_title_rows_and_typed_cells(tmp_path):
    from datetime import datetime

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Reports by ward"])
    ws.append([])
    ws.append(["Ward Code", "Reports", "Month"])
    ws.append(["E05100001", 3.0, datetime(2018, 3, 5)])
    ws.append(["E05100002", 4, 43191])  # an Excel serial date in a number cell: 2018-04-01
    ws.append(["E05100003", "1,234", "Mar-18"])
    wb.save(tmp_path / "t.xlsx")
    r = read_reports(tmp_path / "t.xlsx")
    assert r.data["count"].tolist() == [3, 4, 1234]
    assert r.data["period"].tolist() == ["2018-03", "2018-04", "2018-03"]
    assert "line 3" in r.notes[0]


def test_sheet_for_a_csv_is_an_error(tmp_path):
    path = write_bytes(tmp_path, "x.csv", b"ward_code,count\nE05100001,1\n")
    with pytest.raises(InputError, match="not an Excel workbook"):
        read_reports(path, sheet="Data")


def test_damaged_workbook_is_a_clean_error(tmp_path):
    path = tmp_path / "b.xlsx"
    workbook(path, {"Data": (pd.DataFrame({"ward_code": ["E05100001"], "count": [1]}), 0)})
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2: len(raw) // 2 + 200] = b"\x00" * 200
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="Excel"):
        read_reports(path)
