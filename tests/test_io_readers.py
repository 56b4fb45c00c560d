"""gangmap.io readers: numbers (decimal commas, thousands), readers keyed by any geography, the Intake contract."""

from __future__ import annotations

import pandas as pd
import pytest

import gangmap.io as gio
from gangmap.errors import InputError
from gangmap.geography import custom
from gangmap.io import Intake, read_population, read_referrals, read_reports


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def balanced(it: Intake) -> bool:
    return len(it.data) + len(it.rejected) == it.rows_read


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("value,expected", [("1,234", 1234), ("12,345,678", 12345678), ("1 234", 1234),
                                            ("1\u00a0234", 1234), ("1\u202f234", 1234), ("+7", 7), ("3.0", 3),
                                            ("1e3", 1000), (" 42 ", 42)])
def test_whole_numbers_and_unambiguous_thousands(value, expected):
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001", "E05100002"], "count": [value, "2"]}))
    assert r.data["count"].tolist() == [expected, 2] and r.rejected.empty


@pytest.mark.parametrize("value", ["3,5", "0,75", "12,50", "1,2345", "-2,5", ",5"])
def test_decimal_comma_is_an_error_naming_row_and_value(tmp_path, value):
    """Issue 16: '3,5' used to be read as 35."""
    path = write(tmp_path, "c.csv", f'ward_code,count\nE05100001,2\nE05100002,"{value}"\n')
    with pytest.raises(InputError) as ei:
        read_reports(path)
    msg = str(ei.value)
    assert str(path) in msg and "row 2" in msg and repr(value) in msg and "decimal comma" in msg
    assert "\n" not in msg


def test_decimal_comma_makes_thousands_ambiguous_for_the_whole_file(tmp_path):
    """'1,234' beside '3,5' may be 1.234: the file is refused at the decimal comma, not half-read."""
    path = write(tmp_path, "c.csv", 'ward_code,count\nE05100001,"1,234"\nE05100002,"3,5"\n')
    with pytest.raises(InputError, match=r"row 2: count is '3,5'"):
        read_reports(path)


def test_population_thousands_and_decimal_commas():
    p = read_population(pd.DataFrame({"ward_code": ["E05100001", "E05100002"], "population": ["1,050", "980"]}))
    assert p.data["count"].tolist() == [1050, 980]
    with pytest.raises(InputError, match=r"row 1: population is '1050,5'"):
        read_population(pd.DataFrame({"ward_code": ["E05100001"], "population": ["1050,5"]}))


def test_decimal_comma_in_coordinates_is_an_error():
    with pytest.raises(InputError, match=r"row 2: Latitude is '52,2', a decimal comma; write 52.2"):
        read_reports(pd.DataFrame({"Latitude": ["52.2", "52,2"], "Longitude": ["-0.9", "-0.9"]}))


def test_eastings_with_thousands_separators():
    r = read_reports(pd.DataFrame({"Easting": ["480,500", "481 500"], "Northing": ["260,500", "260500"]}))
    assert r.data["x"].tolist() == [480500.0, 481500.0] and r.data["y"].tolist() == [260500.0, 260500.0]


def test_fractions_and_negatives_still_rejected_by_row():
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001"] * 4, "count": ["2.5", "-1", "1.234", "4"]}))
    assert r.data["count"].tolist() == [4] and r.rejected["row"].tolist() == [1, 2, 3] and balanced(r)


# --------------------------------------------------------------------------- geographies


@pytest.mark.parametrize("column", ["lsoa_code", "LSOA code", "LSOA11CD", "lsoa21cd", "LSOA Code"])
def test_counts_by_lsoa_code(column):
    r = read_reports(pd.DataFrame({column: ["e01026949 ", "E01026950"], "n": ["3", "0"]}), geography="lsoa")
    assert (r.key, r.geography.level) == ("lsoa_code", "lsoa")
    assert r.data["lsoa_code"].tolist() == ["E01026949", "E01026950"] and r.data["count"].tolist() == [3, 0]


def test_counts_by_lsoa_name_with_district():
    df = pd.DataFrame({"LSOA11NM": ["Corby 001A", "Corby 001B"], "LAD11NM": ["Corby", "Corby"], "count": [1, 2]})
    r = read_reports(df, geography="lsoa")
    assert r.key == "lsoa_name" and list(r.data.columns) == ["row", "count", "lsoa_name", "district"]


def test_msoa_and_oa_codes_of_any_vintage():
    assert read_reports(pd.DataFrame({"MSOA21CD": ["E02000001"]}), geography="msoa").key == "msoa_code"
    assert read_reports(pd.DataFrame({"OA11CD": ["E00000001"]}), geography="oa").key == "oa_code"


def test_neighbourhood_codes_are_not_upper_cased_or_checked():
    r = read_reports(pd.DataFrame({"neighbourhood_code": ["NC12a", "Beat 7"], "count": [1, 2]}),
                     geography="neighbourhood")
    assert r.key == "neighbourhood_code" and r.data["neighbourhood_code"].tolist() == ["NC12a", "Beat 7"]


def test_custom_geography_and_explicit_code_column():
    beat = custom("beat", code="beat_id")
    r = read_reports(pd.DataFrame({"Beat": ["B1", "B2"], "count": [4, 5]}), geography=beat, code="Beat")
    assert r.key == "beat_id" and r.data["beat_id"].tolist() == ["B1", "B2"] and r.geography is beat


def test_ons_code_column_preferred_to_a_column_called_ward():
    r = read_reports(pd.DataFrame({"Ward": ["Abbey", "Castle"], "WD21CD": ["E05100002", "E05100003"]}))
    assert r.key == "ward_code" and r.data["ward_code"].tolist() == ["E05100002", "E05100003"]


def test_ward_default_unchanged_lsoa_column_goes_through_bridge():
    r = read_reports(pd.DataFrame({"LSOA code": ["E01026949"], "count": [1]}))
    assert (r.key, r.geography.level) == ("lsoa_code", "ward")


def test_referrals_and_population_by_lsoa():
    ref = read_referrals(pd.DataFrame({"lsoa_code": ["E01026949"], "referrals": [2]}), geography="lsoa")
    pop = read_population(pd.DataFrame({"LSOA11CD": ["E01026949"], "children": ["120"]}), geography="lsoa")
    assert (ref.kind, ref.key, pop.kind, pop.key) == ("referrals", "lsoa_code", "population", "lsoa_code")
    assert pop.data["count"].tolist() == [120]


def test_missing_columns_message_follows_the_geography():
    with pytest.raises(InputError) as ei:
        read_reports(pd.DataFrame({"Area": ["x"], "Cases": [1]}), geography="lsoa")
    msg = str(ei.value)
    assert "LSOA code, LSOA name" in msg and "code='LSOA code'" in msg and "Area, Cases" in msg


def test_population_ignores_month_like_columns():
    """A population table's 'date' (mid-year estimate) is not a month filter column."""
    p = read_population(pd.DataFrame({"ward_code": ["E05100001"], "population": ["900"], "date": ["mid-2020"]}))
    assert p.data["count"].tolist() == [900] and "period" not in p.data


# --------------------------------------------------------------------------- the Intake contract


def test_intake_fields_and_notes(tmp_path):
    path = write(tmp_path, "r.csv", "Title\nward_code,count\nE05100001,3\n")
    r = read_reports(path)
    assert (r.kind, r.key, r.source, r.rows_read) == ("reports", "ward_code", str(path), 1)
    assert list(r.rejected.columns) == ["row", "reason", "count"] and r.notes and r.missing_periods == ()
    assert repr(r) == f"Intake('reports', key='ward_code', source='{path}', rows_read=1, kept=1, rejected=0)"


def test_dataframe_input_not_modified_and_no_attrs_used():
    df = pd.DataFrame({"ward_code": ["E05100001"], "count": ["3"]})
    df.attrs["source"] = "elsewhere.csv"
    before = df.copy()
    r = read_reports(df)
    pd.testing.assert_frame_equal(df, before)
    assert r.source == "<DataFrame>"  # attrs are never read


def test_public_api_is_curated():
    for name in ("read_areas", "read_wards", "read_reports", "read_police", "Intake", "load_table", "parse_period"):
        assert name in gio.__all__ and hasattr(gio, name)
    assert all(not n.startswith("_") for n in gio.__all__)


def test_a_rejected_row_keeps_the_count_it_held(tmp_path):
    """So a join can say how much was not placed: the blank code's 7, not 0; an unreadable count is NaN."""
    path = write(tmp_path, "r.csv", "ward_code,count\n,7\nE05100001,three\nE05100002,-1\nE05100003,2.5\nE05100004,4\n")
    rej = read_reports(path).rejected.set_index("row")["count"]
    assert rej[1] == 7 and rej[[2, 3, 4]].isna().all()
    from gangmap.io import read_inputs

    combined = read_inputs([path, path]).rejected  # several files: the counts follow their rows
    assert combined["count"].sum() == 14 and combined["count"].isna().sum() == 6
