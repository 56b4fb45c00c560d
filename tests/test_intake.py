"""gangmap.intake: every shape of input, normalisation, rejected rows, bad files."""

from __future__ import annotations

import csv
import io
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gangmap import io as intake
from gangmap.errors import GangmapError, InputError
from gangmap.io import (
    POLICE_COLUMNS,
    Intake,
    read_police_csv,
    read_population,
    read_referrals,
    read_reports,
    read_schools,
    read_table,
)

POLICE_HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
                 "LSOA name,Crime type,Last outcome category,Context")
PNG_BYTES = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
             b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
             b"\x00\x00\x00\x00IEND\xaeB`\x82")


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


def lonlat(x, y):
    """EPSG:27700 -> (lon, lat)."""
    p = gpd.GeoSeries([shapely.Point(x, y)], crs=27700).to_crs(4326).iloc[0]
    return p.x, p.y


def balanced(it: Intake) -> bool:
    return len(it.data) + len(it.rejected) == it.rows_read


# --------------------------------------------------------------------------- counts by ward


def test_counts_by_ward_code_csv(tmp_path):
    path = write(tmp_path, "counts.csv", "ward_code,count\nE05100001,3\ne05100002 ,0\n E05100003,12\n")
    r = read_reports(path)
    assert isinstance(r, Intake)
    assert (r.kind, r.key, r.source, r.rows_read) == ("reports", "ward_code", str(path), 3)
    assert r.data["row"].tolist() == [1, 2, 3]
    assert r.data["ward_code"].tolist() == ["E05100001", "E05100002", "E05100003"]  # stripped, upper
    assert r.data["count"].tolist() == [3, 0, 12]
    assert list(r.data.columns) == ["row", "count", "ward_code"]
    assert r.rejected.empty and list(r.rejected.columns) == ["row", "reason", "count"]
    assert r.categories == [] and r.periods == []


@pytest.mark.parametrize("code_col", ["ward_code", "WD21CD", "WD13CD", "wd25cd", "Ward Code", "WARD_CODE"])
@pytest.mark.parametrize("count_col", ["count", "Reports", "n", "Value", "Number"])
def test_code_and_count_column_names(code_col, count_col):
    r = read_reports(pd.DataFrame({code_col: ["E05100001", "E05100002"], count_col: ["4", "1,234"]}))
    assert r.key == "ward_code"
    assert r.data["ward_code"].tolist() == ["E05100001", "E05100002"]
    assert r.data["count"].tolist() == [4, 1234]
    assert r.source == "<DataFrame>"


def test_explicit_columns():
    df = pd.DataFrame({"Area": ["E05100001", "E05100002"], "Cases": ["2", "5"], "Kind": ["a", "b"],
                       "When": ["2018-03", "2018-04"]})
    r = read_reports(df, ward_code="Area", count="Cases", category="Kind", period="When")
    assert r.data["count"].tolist() == [2, 5]
    assert r.data["category"].tolist() == ["a", "b"]
    assert r.data["period"].tolist() == ["2018-03", "2018-04"]


def test_explicit_column_missing():
    with pytest.raises(InputError, match=r"column 'Cases' not found.*ward_code"):
        read_reports(pd.DataFrame({"ward_code": ["E05100001"]}), count="Cases")


def test_no_count_column_means_one_per_row():
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001", "E05100001", "E05100002"]}))
    assert r.data["count"].tolist() == [1, 1, 1]


def test_counts_by_ward_name_with_district(tmp_path):
    path = write(tmp_path, "names.csv",
                 "Ward Name,District,Reports\nSt. Crispin & Kingsthorpe,Northwold,2\n  Abbey ,Southmere,5\n")
    r = read_reports(path)
    assert r.key == "ward_name"
    assert r.data["ward_name"].tolist() == ["St. Crispin & Kingsthorpe", "Abbey"]
    assert r.data["district"].tolist() == ["Northwold", "Southmere"]
    assert r.data["count"].tolist() == [2, 5]
    assert list(r.data.columns) == ["row", "count", "ward_name", "district"]


def test_counts_by_ons_ward_name_column():
    r = read_reports(pd.DataFrame({"WD21NM": ["Castle"], "LAD21CD": ["E07000201"], "count": [3]}))
    assert r.key == "ward_name"
    assert r.data["district"].tolist() == ["E07000201"]


def test_code_preferred_over_name():
    r = read_reports(pd.DataFrame({"ward_name": ["Castle"], "ward_code": ["E05100003"]}))
    assert r.key == "ward_code"


# --------------------------------------------------------------------------- records


def test_lat_lon_records():
    pts = [(480_500, 260_500), (482_500, 261_500)]
    ll = [lonlat(*p) for p in pts]
    df = pd.DataFrame({"Latitude": [f"{b:.7f}" for _, b in ll], "Longitude": [f"{a:.7f}" for a, _ in ll],
                       "Type": ["Drugs", "Robbery"]})
    r = read_reports(df)
    assert r.key == "point" and r.rows_read == 2
    np.testing.assert_allclose(r.data["x"], [p[0] for p in pts], atol=0.05)
    np.testing.assert_allclose(r.data["y"], [p[1] for p in pts], atol=0.05)
    assert r.data["count"].tolist() == [1, 1]
    assert r.data["category"].tolist() == ["Drugs", "Robbery"]
    assert list(r.data.columns) == ["row", "count", "category", "x", "y"]


@pytest.mark.parametrize("cols", [("easting", "northing"), ("Easting", "Northing"), ("x", "y"),
                                  ("EASTINGS", "NORTHINGS")])
def test_easting_northing_records(cols):
    df = pd.DataFrame({cols[0]: ["480500", "482999.5"], cols[1]: ["260500", "261000"], "count": ["1", "2"]})
    r = read_reports(df)
    assert r.key == "point"
    assert r.data["x"].tolist() == [480500.0, 482999.5]
    assert r.data["y"].tolist() == [260500.0, 261000.0]
    assert r.data["count"].tolist() == [1, 2]


def test_bad_coordinates_rejected():
    df = pd.DataFrame({"lat": ["52.2", "95", "", "abc", "52.3"], "lon": ["-0.9", "-0.9", "-0.9", "-0.9", "-181"]})
    r = read_reports(df)
    assert r.rows_read == 5 and balanced(r)
    assert r.data["row"].tolist() == [1]
    assert r.rejected["row"].tolist() == [2, 3, 4, 5]
    assert all(reason.startswith("no usable coordinates") for reason in r.rejected["reason"])
    assert "lat='95'" in r.rejected["reason"][0]
    assert "lon='-181'" in r.rejected["reason"][3]


def test_bad_eastings_rejected():
    df = pd.DataFrame({"Easting": ["480500", "-0.9", "9000000", "", "480500"],
                       "Northing": ["260500", "52.2", "260500", "260500", "2000000"]})
    r = read_reports(df)
    # -0.9/52.2 are plausible BNG metres (near the origin): only the out-of-range and blank rows go.
    assert r.rejected["row"].tolist() == [3, 4, 5]
    assert all("British National Grid" in reason for reason in r.rejected["reason"])
    assert balanced(r)


# --------------------------------------------------------------------------- police.uk


def police_csv(tmp_path, *, bom=False):
    """A small data.police.uk street-level file, exactly as published."""
    a, b = lonlat(480_500, 260_500), lonlat(482_500, 261_500)
    rows = [
        ["4ea8896c372bf97f32143d1dfc90200bf5f0fc614a949ba4cd503b93b97cff79", "2018-03",
         "Northamptonshire Police", "Northamptonshire Police", f"{a[0]:.6f}", f"{a[1]:.6f}",
         "On or near Secret Street", "E01027001", "Northampton 001A", "Drugs",
         "Investigation complete; no suspect identified", "Victim said something private"],
        ["", "2018-03", "Northamptonshire Police", "Northamptonshire Police", f"{b[0]:.6f}", f"{b[1]:.6f}",
         "On or near Hidden Lane", "E01027002", "Northampton 001B", "Anti-social behaviour", "", ""],
        ["9f00", "2018-03", "Northamptonshire Police", "Northamptonshire Police", "", "",
         "No Location", "", "", "Robbery", "Under investigation", ""],
        ["8e11", "2018-03", "Northamptonshire Police", "Northamptonshire Police", f"{a[0]:.6f}",
         f"{a[1]:.6f}", "On or near Secret Street", "E01027001", "Northampton 001A", "Drugs",
         "Status update unavailable", ""],
    ]
    buf = io.StringIO()
    buf.write(("\ufeff" if bom else "") + POLICE_HEADER + "\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    return write(tmp_path, "2018-03-test-street.csv", buf.getvalue())


def test_police_header_constant_matches_published():
    assert ",".join(POLICE_COLUMNS) == POLICE_HEADER


@pytest.mark.parametrize("reader", [read_police_csv, read_reports])
def test_police_csv_as_published(tmp_path, reader):
    path = police_csv(tmp_path)
    r = reader(path)
    assert (r.kind, r.key, r.rows_read) == ("reports", "point", 4)
    assert r.source == str(path)
    assert sorted(r.data.columns) == sorted(["row", "count", "category", "period", "x", "y", "lsoa_code"])
    for private in ("Crime ID", "Location", "Context", "LSOA name", "Last outcome category", "Reported by"):
        assert private not in r.data.columns
    text = r.data.to_csv()
    for secret in ("Secret Street", "Hidden Lane", "private", "4ea8896c", "8e11"):
        assert secret not in text
    assert r.data["row"].tolist() == [1, 2, 4]
    assert r.data["category"].tolist() == ["Drugs", "Anti-social behaviour", "Drugs"]
    assert r.data["period"].tolist() == ["2018-03"] * 3
    assert r.data["count"].tolist() == [1, 1, 1]
    assert r.data["lsoa_code"].tolist() == ["E01027001", "E01027002", "E01027001"]
    np.testing.assert_allclose(r.data["x"], [480_500, 482_500, 480_500], atol=0.5)
    np.testing.assert_allclose(r.data["y"], [260_500, 261_500, 260_500], atol=0.5)
    assert r.rejected["row"].tolist() == [3]
    assert "no usable coordinates" in r.rejected["reason"][0]
    assert r.categories == ["Anti-social behaviour", "Drugs"]
    assert r.periods == ["2018-03"]
    assert balanced(r)


def test_police_csv_with_bom(tmp_path):
    r = read_police_csv(police_csv(tmp_path, bom=True))
    assert r.rows_read == 4 and len(r.data) == 3
    assert "Crime ID" not in r.data.columns and "\ufeffCrime ID" not in r.data.columns


def test_read_police_csv_requires_police_columns(tmp_path):
    path = write(tmp_path, "notpolice.csv", "ward_code,count\nE05100001,3\n")
    with pytest.raises(InputError) as ei:
        read_police_csv(path)
    msg = str(ei.value)
    assert str(path) in msg and "data.police.uk" in msg
    assert "'Month'" in msg and "'Crime type'" in msg and "read_reports" in msg


# --------------------------------------------------------------------------- schools & referrals


def gias(tmp_path):
    text = ("URN,EstablishmentName,Easting,Northing,AdministrativeWard (code),TypeOfEstablishment (name)\n"
            "100001,Castle Primary,482500,260500,E05100003,Community school\n"
            "100002,Abbey Academy,481500,261500,,Academy converter\n"        # no ward code: by E/N
            "100003,Delapre School,,,E05100005,Community school\n"          # no E/N: by ward code
            "100004,Nowhere School,,,,Free school\n"                         # neither: rejected
            "100001,Castle Primary (dup),482500,260500,E05100003,Community school\n"  # duplicate URN
            ",No URN School,480500,260500,E05100001,Community school\n")    # blank URN
    return write(tmp_path, "edubasealldata.csv", text)


def test_gias_schools(tmp_path):
    path = gias(tmp_path)
    s = read_schools(path)
    assert (s.kind, s.key, s.source, s.rows_read) == ("schools", "urn", str(path), 6)
    assert list(s.data.columns) == ["row", "urn", "school_name", "x", "y", "ward_code"]
    assert s.data["urn"].tolist() == ["100001", "100002", "100003"]
    assert s.data["school_name"].tolist() == ["Castle Primary", "Abbey Academy", "Delapre School"]
    assert s.data["x"].tolist()[:2] == [482500.0, 481500.0] and np.isnan(s.data["x"].iloc[2])
    assert s.data["ward_code"].tolist()[0] == "E05100003"
    assert pd.isna(s.data["ward_code"].iloc[1]) and s.data["ward_code"].iloc[2] == "E05100005"
    rej = dict(zip(s.rejected["row"], s.rejected["reason"]))
    assert sorted(rej) == [4, 5, 6]
    assert "no usable coordinates" in rej[4]
    assert rej[5] == "duplicate URN 100001"
    assert rej[6] == "URN is blank"
    assert balanced(s)


def test_schools_without_urn_column(tmp_path):
    path = write(tmp_path, "schools.csv", "Name,Easting,Northing\nA,480000,260000\n")
    with pytest.raises(InputError) as ei:
        read_schools(path)
    assert str(path) in str(ei.value) and "URN" in str(ei.value)


def test_schools_without_location_columns(tmp_path):
    path = write(tmp_path, "schools.csv", "URN,EstablishmentName\n100001,A\n")
    with pytest.raises(InputError) as ei:
        read_schools(path)
    assert str(path) in str(ei.value) and "Easting/Northing" in str(ei.value)


def test_referrals_per_school(tmp_path):
    path = write(tmp_path, "referrals.csv",
                 "URN,period,concern,referrals\n100001,2017-09,Going missing,4\n100002,Mar 2018,Drugs,0\n"
                 "100003,2018-03,Drugs,-1\n,2018-03,Drugs,2\n")
    r = read_referrals(path)
    assert (r.kind, r.key, r.rows_read) == ("referrals", "urn", 4)
    assert r.data["urn"].tolist() == ["100001", "100002"]
    assert r.data["count"].tolist() == [4, 0]
    assert r.data["period"].tolist() == ["2017-09", "2018-03"]
    assert r.data["category"].tolist() == ["Going missing", "Drugs"]
    assert r.rejected["row"].tolist() == [3, 4]
    assert "referrals is '-1'" in r.rejected["reason"][0]
    assert r.rejected["reason"][1] == "URN is blank"
    assert balanced(r)


def test_referrals_by_home_ward():
    r = read_referrals(pd.DataFrame({"Home ward code": ["E05100001", "E05100004"], "Referrals": ["2", "7"]}),
                       ward_code="Home ward code")
    assert (r.kind, r.key) == ("referrals", "ward_code")
    assert r.data["count"].tolist() == [2, 7]
    r2 = read_referrals(pd.DataFrame({"ward_code": ["E05100001"], "referrals": ["3"]}))
    assert (r2.kind, r2.key) == ("referrals", "ward_code") and r2.data["count"].tolist() == [3]


def test_population_table(tmp_path):
    path = write(tmp_path, "pop.csv", "ward_code,ward_name,population\nE05100001,A,1200\nE05100002,B,\n"
                                      "E05100003,C,\"1,050\"\n")
    p = read_population(path)
    assert (p.kind, p.key, p.rows_read) == ("population", "ward_code", 3)
    assert p.data["ward_code"].tolist() == ["E05100001", "E05100003"]
    assert p.data["count"].tolist() == [1200, 1050]
    assert p.rejected["row"].tolist() == [2]
    assert "population is blank" in p.rejected["reason"][0]


def test_population_single_numeric_column_used():
    p = read_population(pd.DataFrame({"WD21CD": ["E05100001", "E05100002"], "All ages 10-17": ["800", "950"]}))
    assert p.data["count"].tolist() == [800, 950]


def test_population_column_not_found(tmp_path):
    path = write(tmp_path, "pop.csv", "ward_code,males,females\nE05100001,400,420\n")
    with pytest.raises(InputError) as ei:
        read_population(path)
    assert str(path) in str(ei.value) and "population='COLUMN'" in str(ei.value)


# --------------------------------------------------------------------------- category & period


def test_category_and_period_kept():
    df = pd.DataFrame({"ward_code": ["E05100001"] * 3, "Crime type": [" Drugs ", "Robbery", None],
                       "Month": ["2018-03", "2018-04", "2018-03"]})
    r = read_reports(df)
    assert r.data["category"].tolist()[:2] == ["Drugs", "Robbery"] and pd.isna(r.data["category"].iloc[2])
    assert r.categories == ["Drugs", "Robbery"]
    assert r.periods == ["2018-03", "2018-04"]


@pytest.mark.parametrize("value", ["2018-03", "2018-03-15", "2018-03-31", "Mar 2018", "March 2018",
                                   "15/03/2018", "31/03/2018", "2018-03-15 00:00:00", "2018-03-28T14:00:00",
                                   " 2018-03-20 "])
def test_period_normalised_to_year_month(value):
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001"], "period": [value]}))
    assert r.data["period"].tolist() == ["2018-03"]


@pytest.mark.parametrize("value", ["2018-03-05", "2018-03-01", "2018-03-12", "2018-03-01 00:00:00"])
def test_iso_dates_with_small_day_keep_their_month(value):
    """Regression: dayfirst=True used to swap day and month of ISO dates ('2018-03-05' -> '2018-05')."""
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001"], "date": [value]}))
    assert r.data["period"].tolist() == ["2018-03"]


def test_xlsx_dates_keep_their_month(tmp_path):
    """Regression: Excel dates arrive as 'YYYY-MM-DD 00:00:00' and used to have day and month swapped."""
    path = tmp_path / "reports.xlsx"
    pd.DataFrame({"ward_code": ["E05100001", "E05100002"], "count": [3, 4],
                  "period": pd.to_datetime(["2018-03-05", "2018-04-01"])}).to_excel(path, index=False)
    r = read_reports(path)
    assert r.data["period"].tolist() == ["2018-03", "2018-04"]


def test_unparseable_period_is_refused_never_kept_as_given():
    """Issue 16: a quarter used to pass through raw and never match a month filter; now it is refused by row."""
    with pytest.raises(InputError, match=r"row 1: period is 'Q1 2018/19': a quarter, not a month"):
        read_reports(pd.DataFrame({"ward_code": ["E05100001"], "period": ["Q1 2018/19"]}))
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001"] * 2, "period": ["2018-04", "Q1 2018/19"]}))
    assert r.data["period"].tolist() == ["2018-04"]
    assert r.rejected["row"].tolist() == [2] and "'Q1 2018/19': a quarter" in r.rejected["reason"][0]


# --------------------------------------------------------------------------- rejected rows


def test_rejected_rows_with_row_numbers_and_reasons(tmp_path):
    path = write(tmp_path, "mixed.csv",
                 "ward_code,count\n"
                 "E05100001,3\n"      # 1 ok
                 "E05100002,-2\n"     # 2 negative
                 "E05100003,abc\n"    # 3 not a number
                 "E05100004,2.5\n"    # 4 fraction
                 ",4\n"               # 5 blank code
                 "E05100005,\n"       # 6 blank count
                 "  ,x\n"             # 7 blank code and bad count: one reason
                 "E05100006,0\n")     # 8 ok
    r = read_reports(path)
    assert r.rows_read == 8
    assert r.data["row"].tolist() == [1, 8]
    assert r.data["count"].tolist() == [3, 0]
    reasons = dict(zip(r.rejected["row"], r.rejected["reason"]))
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert reasons[2] == "count is '-2': counts must be whole numbers 0 or more"
    assert reasons[3] == "count is 'abc': counts must be whole numbers 0 or more"
    assert reasons[4] == "count is '2.5': counts must be whole numbers 0 or more"
    assert reasons[5] == "ward_code is blank"
    assert reasons[6] == "count is blank: counts must be whole numbers 0 or more"
    assert r.rejected["row"].is_unique
    assert len(r.data) + len(r.rejected) == r.rows_read
    assert r.rejected["row"].dtype == "int64"


def test_row_numbers_follow_file_lines_after_a_blank_line(tmp_path):
    path = write(tmp_path, "gap.csv", "ward_code,count\nE05100001,1\n\nE05100002,x\n")
    r = read_reports(path)
    # The blank line is skipped with a note naming it (row 2 = line 3); the bad count keeps row 3 = line 4.
    assert r.rejected["row"].tolist() == [3]
    assert any("blank rows between the data skipped (row 2)" in n for n in r.notes)
    assert r.rows_read == 2 and len(r.data) == 1


def test_blank_ward_name_rejected():
    r = read_reports(pd.DataFrame({"ward_name": ["Castle", " ", None], "count": [1, 2, 3]}))
    assert r.rejected["row"].tolist() == [2, 3]
    assert set(r.rejected["reason"]) == {"ward_name is blank"}
    assert balanced(r)


@pytest.mark.parametrize("value", ["inf", "Infinity", "1e400"])
def test_infinite_counts_rejected(value):
    """Regression: 'inf' used to pass the whole-number check (floor(inf) == inf)."""
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001", "E05100002"], "count": [value, "2"]}))
    assert r.data["count"].tolist() == [2]
    assert r.rejected["row"].tolist() == [1]
    assert "counts must be whole numbers" in r.rejected["reason"][0]


def test_nan_and_negative_infinity_counts_rejected():
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001"] * 3, "count": ["nan", "-inf", "2"]}))
    assert r.data["count"].tolist() == [2]
    assert r.rejected["row"].tolist() == [1, 2]


def test_row_count_matches_a_large_file(tmp_path):
    lines = ["ward_code,count"] + [f"E05100{(i % 6) + 1:03d},{i if i % 7 else -i}" for i in range(1, 501)]
    r = read_reports(write(tmp_path, "big.csv", "\n".join(lines) + "\n"))
    assert r.rows_read == 500
    assert len(r.rejected) == 500 // 7 and balanced(r)
    assert r.data["count"].sum() == sum(i for i in range(1, 501) if i % 7)


# --------------------------------------------------------------------------- bad files

READERS = [read_reports, read_referrals, read_population, read_schools, read_police_csv]


@pytest.mark.parametrize("reader", READERS)
def test_empty_file(tmp_path, reader):
    path = write(tmp_path, "empty.csv", "")
    with pytest.raises(InputError) as ei:
        reader(path)
    assert str(path) in str(ei.value) and "empty" in str(ei.value)


@pytest.mark.parametrize("reader", READERS)
def test_blank_lines_only(tmp_path, reader):
    path = write(tmp_path, "blank.csv", "\n\n")
    with pytest.raises(InputError) as ei:
        reader(path)
    assert str(path) in str(ei.value)


@pytest.mark.parametrize("reader", READERS)
def test_png_bytes(tmp_path, reader):
    path = tmp_path / "reports.csv"
    path.write_bytes(PNG_BYTES)
    with pytest.raises(InputError) as ei:
        reader(path)
    msg = str(ei.value)
    assert str(path) in msg and "binary" in msg and "CSV" in msg


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_delimiters(tmp_path, reader, sep):
    text = sep.join(["ward_code", "count", "URN", "population"]) + "\n" + sep.join(
        ["E05100001", "3", "100001", "900"]) + "\n"
    path = write(tmp_path, "semi.csv", text)
    with pytest.raises(InputError) as ei:
        reader(path)
    msg = str(ei.value)
    assert str(path) in msg and "delimiter" in msg and "comma-separated" in msg


def test_semicolon_file_with_commas_in_values(tmp_path):
    path = write(tmp_path, "semi.csv", "ward_name;count\nSt Crispin, Kingsthorpe;3\nCastle;2\n")
    with pytest.raises(InputError, match="delimiter"):
        read_reports(path)


@pytest.mark.parametrize("reader", [read_reports, read_referrals])
def test_missing_columns(tmp_path, reader):
    path = write(tmp_path, "cols.csv", "Area,Cases\nNorth,3\n")
    with pytest.raises(InputError) as ei:
        reader(path)
    msg = str(ei.value)
    assert str(path) in msg and "Area, Cases" in msg and "ward_code=" in msg


@pytest.mark.parametrize("reader", READERS)
def test_missing_file(tmp_path, reader):
    path = tmp_path / "missing.csv"
    with pytest.raises(InputError) as ei:
        reader(path)
    assert str(path) in str(ei.value) and "not found" in str(ei.value)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        read_reports(tmp_path)


def test_wrong_type():
    with pytest.raises(InputError, match="file path or a DataFrame"):
        read_reports(42)


def test_intake_passed_to_reader():
    r = read_reports(pd.DataFrame({"ward_code": ["E05100001"]}))
    with pytest.raises(InputError, match="already an Intake"):
        read_table(r)
    assert intake.as_intake(r, "reports") is r


def test_unterminated_quote(tmp_path):
    path = write(tmp_path, "quote.csv", 'ward_code,count\nE05100001,"3\nE05100002,4\n')
    with pytest.raises(InputError) as ei:
        read_reports(path)
    assert str(path) in str(ei.value)


def test_errors_are_gangmap_errors():
    assert issubclass(InputError, GangmapError)


def test_cp1252_file(tmp_path):
    path = write(tmp_path, "names.csv", "ward_name,count\nCaf\u00e9 Quarter,2\n", encoding="cp1252")
    r = read_reports(path)
    assert r.data["ward_name"].tolist() == ["Caf\u00e9 Quarter"]


# --------------------------------------------------------------------------- XLSX


def test_xlsx_read(tmp_path):
    path = tmp_path / "reports.xlsx"
    pd.DataFrame({"Ward Code": ["E05100001", "E05100002", None], "Count": [3, 0, 2],
                  "Category": ["Drugs", "Robbery", "Drugs"]}).to_excel(path, index=False)
    r = read_reports(path)
    assert (r.key, r.source, r.rows_read) == ("ward_code", str(path), 3)
    assert r.data["ward_code"].tolist() == ["E05100001", "E05100002"]
    assert r.data["count"].tolist() == [3, 0]
    assert r.rejected["row"].tolist() == [3]


@pytest.mark.parametrize("reader", READERS)
def test_xlsx_not_a_workbook(tmp_path, reader):
    path = tmp_path / "reports.xlsx"
    path.write_text("ward_code,count\nE05100001,3\n")
    with pytest.raises(InputError) as ei:
        reader(path)
    msg = str(ei.value)
    assert str(path) in msg and "Excel" in msg and "CSV" in msg


@pytest.mark.parametrize("reader", READERS)
def test_xlsx_saved_as_csv(tmp_path, reader):
    xlsx = tmp_path / "book.xlsx"
    pd.DataFrame({"ward_code": ["E05100001"], "count": [3]}).to_excel(xlsx, index=False)
    assert zipfile.is_zipfile(xlsx)
    path = tmp_path / "reports.csv"
    path.write_bytes(xlsx.read_bytes())
    with pytest.raises(InputError) as ei:
        reader(path)
    assert str(path) in str(ei.value) and "binary" in str(ei.value)


@pytest.mark.parametrize("reader", [read_reports, read_schools, read_police_csv, read_population])
def test_xlsx_missing_columns(tmp_path, reader):
    path = tmp_path / "book.xlsx"
    pd.DataFrame({"Area": ["North"], "Things": ["x"]}).to_excel(path, index=False)
    with pytest.raises(InputError) as ei:
        reader(path)
    assert str(path) in str(ei.value)


def test_unquoted_comma_is_a_clear_error_not_a_shift(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("ward_name,count\nRushden, East,12\nCastle,3\n")
    with pytest.raises(InputError, match=r"line 2 has 3 fields.*double quotes"):
        read_reports(path)


def test_record_level_reports_cannot_become_map_points(tmp_path):
    r = read_reports(pd.DataFrame({"latitude": [52.2], "longitude": [-0.9]}))
    with pytest.raises(InputError, match="never leave the machine"):
        r.to_points()
