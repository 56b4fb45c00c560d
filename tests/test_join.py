"""gangmap.join: every ward present, every input row accounted for, names, filters, schools."""

from __future__ import annotations

import functools
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gangmap
from gangmap import io as intake
from gangmap.errors import InputError
from gangmap.io.boundaries import read_wards
from gangmap.joining import JoinReport, SourceReport, join, normalise_name
from gangmap.table import AreaTable

#: The join with rows left unplaced allowed (the tests of bad rows).
join_all = functools.partial(join, allow_unmatched=True)

CODES = ["E05100001", "E05100002", "E05100003", "E05100004", "E05100005", "E05100006"]


def centre(i):
    """Centre (easting, northing) of square ward i of the ``square_wards`` fixture."""
    return 480_500 + 1_000 * (i % 3), 260_500 + 1_000 * (i // 3)


def lonlat(points):
    g = gpd.GeoSeries([shapely.Point(x, y) for x, y in points], crs=27700).to_crs(4326)
    return g.x.tolist(), g.y.tolist()


def assert_balanced(sec: SourceReport, *, matched, unmatched=0, outside=0, rejected=0, filtered=0):
    """Every row in exactly one bucket, and the buckets hold exactly the expected numbers."""
    got = (sec.matched, sec.unmatched, sec.outside, sec.rejected, sec.filtered)
    assert got == (matched, unmatched, outside, rejected, filtered), got
    assert sec.matched + sec.unmatched + sec.outside + sec.rejected + sec.filtered == sec.rows_read
    assert sec.balanced


# --------------------------------------------------------------------------- table shape


def test_every_ward_present_zero_where_none(square_wards):
    reports = pd.DataFrame({"ward_code": ["E05100002", "E05100005", "E05100002"], "count": [3, 4, 1]})
    table, rep = join(square_wards, reports=reports)
    assert isinstance(table, AreaTable) and isinstance(rep, JoinReport)
    assert isinstance(table.frame, gpd.GeoDataFrame)
    assert list(table.columns) == ["ward_code", "ward_name", "lad_code", "lad_name", "geometry", "reports"]
    assert table["ward_code"].tolist() == CODES
    assert table["reports"].tolist() == [0, 4, 0, 0, 4, 0]
    assert table["reports"].dtype == "int64"
    assert table.crs.to_epsg() == 27700
    assert rep.wards == 6 and rep.total == 8 and rep.matched == 3
    assert table["reports"].sum() == rep.total


def test_ward_order_preserved(square_wards):
    order = [4, 0, 5, 2, 1, 3]
    wards = square_wards.iloc[order].reset_index(drop=True)
    reports = pd.DataFrame({"ward_code": CODES, "count": [10, 20, 30, 40, 50, 60]})
    table, _ = join(wards, reports=reports)
    assert table["ward_code"].tolist() == [CODES[i] for i in order]
    assert table["reports"].tolist() == [10 * (i + 1) for i in order]
    np.testing.assert_allclose(table.geometry.centroid.x, [centre(i)[0] for i in order])


def test_ward_order_preserved_for_points(square_wards):
    order = [5, 3, 1, 0, 2, 4]
    wards = square_wards.iloc[order]  # index kept as 5, 3, 1, ...
    pts = [centre(i) for i in (0, 0, 0, 1, 4, 4, 5)]
    table, rep = join(wards, reports=pd.DataFrame({"easting": [p[0] for p in pts],
                                                   "northing": [p[1] for p in pts]}))
    expected = {0: 3, 1: 1, 4: 2, 5: 1}
    assert table["ward_code"].tolist() == [CODES[i] for i in order]
    assert table["reports"].tolist() == [expected.get(i, 0) for i in order]
    assert_balanced(rep.sections["reports"], matched=7)


def test_no_inputs(square_wards):
    table, rep = join(square_wards)
    assert table["ward_code"].tolist() == CODES
    assert list(table.columns) == ["ward_code", "ward_name", "lad_code", "lad_name", "geometry"]
    assert rep.sections == {}
    with pytest.raises(AttributeError):
        rep.rows_read  # noqa: B018


def test_wards_from_file_and_canonical(square_wards, tmp_path):
    path = tmp_path / "wards.gpkg"
    square_wards.to_file(path)
    reports = pd.DataFrame({"ward_code": ["E05100003"], "count": [7]})
    t1, _ = join(path, reports=reports)
    t2, _ = join(read_wards(path), reports=reports)
    assert t1["reports"].tolist() == t2["reports"].tolist() == [0, 0, 7, 0, 0, 0]
    assert t1.schema.sources[0] == str(path)


def test_input_not_modified(square_wards):
    reports = pd.DataFrame({"ward_code": ["E05100003"], "count": [7]})
    before_w, before_r = square_wards.copy(), reports.copy()
    join(square_wards, reports=reports)
    pd.testing.assert_frame_equal(reports, before_r)
    assert square_wards.columns.tolist() == before_w.columns.tolist()


# --------------------------------------------------------------------------- balance


def test_balance_codes_with_bad_rows(square_wards, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("ward_code,count\n"
                    "E05100001,2\n"       # matched
                    "e05100001 ,1\n"      # matched (case, spaces)
                    "E05999999,5\n"       # unmatched
                    ",4\n"                # rejected: blank code
                    "E05100004,-1\n"      # rejected: negative
                    "E05100006,0\n"       # matched, zero
                    "E05100005,2.5\n"     # rejected: fraction
                    "E0510002,9\n")       # unmatched (typo)
    table, rep = join_all(square_wards, reports=path)
    sec = rep.sections["reports"]
    assert sec.rows_read == 8
    assert_balanced(sec, matched=3, unmatched=2, rejected=3)
    assert table["reports"].tolist() == [3, 0, 0, 0, 0, 0]
    assert sec.unmatched_rows["row"].tolist() == [3, 8]
    assert sec.unmatched_rows["value"].tolist() == ["E05999999", "E0510002"]
    assert sec.rejected_rows["row"].tolist() == [4, 5, 7]
    assert sec.total == 3


def test_balance_names_with_bad_rows(square_wards):
    reports = pd.DataFrame({"ward_name": ["st crispin AND kingsthorpe", "Castel", "Abbey", "Eastfield",
                                          "", "Delapre", "  EASTFIELD  "],
                            "count": ["2", "1", "6", "4", "3", "x", "1"]})
    table, rep = join_all(square_wards, reports=reports)
    assert_balanced(rep.sections["reports"], matched=3, unmatched=2, rejected=2)
    assert table["reports"].tolist() == [2, 0, 0, 0, 0, 5]


def test_balance_points_with_filter(square_wards):
    pts = [centre(0), centre(0), centre(5), (520_000, 300_000), centre(1), centre(2), centre(3)]
    lon, lat = lonlat(pts)
    lon[4] = "not a number"
    lat[5] = 95.0
    df = pd.DataFrame({"Longitude": lon, "Latitude": lat,
                       "Crime type": ["Drugs", "Drugs", "Robbery", "Drugs", "Drugs", "Drugs", "Burglary"],
                       "Month": ["2018-03"] * 7})
    table, rep = join_all(square_wards, reports=df, category="drugs")
    assert_balanced(rep.sections["reports"], matched=2, outside=1, rejected=2, filtered=2)
    assert table["reports"].tolist() == [2, 0, 0, 0, 0, 0]
    table, rep = join_all(square_wards, reports=df)
    assert_balanced(rep.sections["reports"], matched=4, outside=1, rejected=2)
    assert table["reports"].tolist() == [2, 0, 0, 1, 0, 1]
    assert rep.sections["reports"].outside_rows["row"].tolist() == [4]


def test_balance_eastings_with_period_filter(square_wards):
    df = pd.DataFrame({"Easting": [centre(1)[0], centre(1)[0], 700_000, centre(4)[0], "", centre(4)[0]],
                       "Northing": [centre(1)[1], centre(1)[1], 100_000, centre(4)[1], "1", centre(4)[1]],
                       "date": ["2018-03-15", "15/04/2018", "March 2018", "Mar 2018", "2018-03-20", "2018-04-20"]})
    table, rep = join_all(square_wards, reports=df, period="2018-03")
    assert_balanced(rep.sections["reports"], matched=2, outside=1, rejected=1, filtered=2)
    assert table["reports"].tolist() == [0, 1, 0, 0, 1, 0]
    assert table.schema.periods == ("2018-03",)
    table, rep = join_all(square_wards, reports=df, period=["2018-03", "2018-04"])
    assert_balanced(rep.sections["reports"], matched=4, outside=1, rejected=1)
    assert table.schema.periods == ("2018-03", "2018-04")


def test_points_on_shared_edges_counted_once(square_wards):
    pts = [(481_000, 260_500), (481_000, 261_000), (482_000, 262_000), (480_000, 260_000), (483_000, 262_000)]
    df = pd.DataFrame({"easting": [p[0] for p in pts], "northing": [p[1] for p in pts]})
    table, rep = join(square_wards, reports=df)
    assert_balanced(rep.sections["reports"], matched=5)
    assert table["reports"].sum() == 5


def test_points_in_many_wards_land_in_the_right_ward(square_wards):
    rng = np.random.default_rng(7)
    idx = rng.integers(0, 7, size=400)  # 6 = outside
    xs = np.where(idx < 6, 480_000 + 1_000 * (idx % 3) + rng.uniform(1, 999, 400), 470_000.0)
    ys = np.where(idx < 6, 260_000 + 1_000 * (idx // 3) + rng.uniform(1, 999, 400), 250_000.0)
    table, rep = join(square_wards, reports=pd.DataFrame({"x": xs, "y": ys}))
    assert table["reports"].tolist() == [int((idx == i).sum()) for i in range(6)]
    assert_balanced(rep.sections["reports"], matched=int((idx < 6).sum()), outside=int((idx == 6).sum()))


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("given", ["St. Crispin & Kingsthorpe", "st crispin AND kingsthorpe",
                                   "  ST CRISPIN  &  KINGSTHORPE ", "St Crispin and Kingsthorpe",
                                   "st.crispin & kingsthorpe", "St-Crispin & Kingsthorpe"])
def test_name_matching_is_lenient(square_wards, given):
    table, rep = join(square_wards, reports=pd.DataFrame({"ward_name": [given], "count": [3]}))
    assert table["reports"].tolist() == [3, 0, 0, 0, 0, 0]
    assert_balanced(rep.sections["reports"], matched=1)


def test_normalise_name():
    assert normalise_name("  St. Crispin & Kingsthorpe ") == "saint crispin and kingsthorpe"
    assert normalise_name("st crispin AND kingsthorpe") == "saint crispin and kingsthorpe"
    assert normalise_name("Brixworth-with-Spratton") == "brixworth with spratton"


def test_name_matching_ignores_apostrophes(square_wards_factory):
    """Regression: "St Mary's" used to normalise to 'st mary s' and not match 'St Marys'."""
    wards = square_wards_factory(names=["St Mary's", "Queen's Park", "Castle", "Abbey", "Delapre", "Eastfield"])
    table, rep = join(wards, reports=pd.DataFrame({"ward_name": ["St Marys", "Queens Park"], "count": [3, 4]}))
    assert table["reports"].tolist()[:2] == [3, 4]
    assert_balanced(rep.sections["reports"], matched=2)


def test_ward_column_holding_names(square_wards):
    table, rep = join(square_wards, reports=pd.DataFrame({"Ward": ["Castle", "Eastfield"], "Count": [3, 4]}))
    assert table["reports"].tolist() == [0, 0, 3, 0, 0, 4]
    assert_balanced(rep.sections["reports"], matched=2)


def test_unmatched_names_listed_with_closest(square_wards):
    reports = pd.DataFrame({"ward_name": ["Castel", "Castel", "Delaprey", "Zzyzx"], "count": [1, 2, 3, 4]})
    _, rep = join_all(square_wards, reports=reports)
    sec = rep.sections["reports"]
    assert_balanced(sec, matched=0, unmatched=4)
    um = sec.unmatched_rows
    assert um["row"].tolist() == [1, 2, 3, 4]
    assert um["value"].tolist() == ["Castel", "Castel", "Delaprey", "Zzyzx"]
    assert [c.split(", ")[0] for c in um["closest"].iloc[:3]] == ["Castle", "Castle", "Delapre"]
    assert "St. Crispin & Kingsthorpe" not in um["closest"].iloc[0]
    assert um["closest"].iloc[3] == ""
    s = sec.summary()
    assert "Castel (2 rows) -> did you mean Castle" in s
    assert "Delaprey (1 row) -> did you mean Delapre?" in s
    assert "Zzyzx (1 row)" in s and "Zzyzx (1 row) ->" not in s


def test_unmatched_codes_listed_with_closest(square_wards):
    _, rep = join_all(square_wards, reports=pd.DataFrame({"ward_code": ["E05100007"], "count": [1]}))
    um = rep.unmatched_rows
    assert um["value"].tolist() == ["E05100007"]
    closest = um["closest"].iloc[0].split(", ")
    assert 1 <= len(closest) <= 3 and set(closest) <= set(CODES)


def test_ambiguous_name_without_district(square_wards):
    table, rep = join_all(square_wards, reports=pd.DataFrame({"ward_name": ["Abbey"], "count": [5]}))
    assert table["reports"].sum() == 0
    sec = rep.sections["reports"]
    assert_balanced(sec, matched=0, unmatched=1)
    why = sec.unmatched_rows["closest"].iloc[0]
    assert why.startswith("ambiguous")
    assert "Abbey (Northwold)" in why and "Abbey (Southmere)" in why and "district" in why


@pytest.mark.parametrize("col,district,expected", [
    ("district", "Southmere", 3), ("District", "northwold", 1), ("lad_code", "E07000202", 3),
    ("Local Authority", " SOUTHMERE ", 3), ("LAD21NM", "Northwold", 1)])
def test_ambiguous_name_resolved_by_district(square_wards, col, district, expected):
    df = pd.DataFrame({"ward_name": ["Abbey", "Castle"], col: [district, "Northwold"], "count": [5, 1]})
    table, rep = join(square_wards, reports=df)
    want = [0, 0, 1, 0, 0, 0]
    want[expected] += 5
    assert table["reports"].tolist() == want
    assert_balanced(rep.sections["reports"], matched=2)


def test_ambiguous_name_wrong_district_unmatched(square_wards):
    df = pd.DataFrame({"ward_name": ["Abbey"], "district": ["Westshire"], "count": [5]})
    table, rep = join_all(square_wards, reports=df)
    assert table["reports"].sum() == 0
    assert_balanced(rep.sections["reports"], matched=0, unmatched=1)


# --------------------------------------------------------------------------- filters


def _categorised():
    return pd.DataFrame({"ward_code": ["E05100001", "E05100002", "E05100002", "E05100003", "E05100004"],
                         "category": ["Drugs", "drugs", "Robbery", "Violence and sexual offences", "DRUGS "],
                         "period": ["2018-03", "2018-03", "2018-04", "2018-03", "2018-04"],
                         "count": [1, 2, 4, 8, 16]})


@pytest.mark.parametrize("cat", ["Drugs", "drugs", "DRUGS"])
def test_category_filter_case_insensitive(square_wards, cat):
    table, rep = join(square_wards, reports=_categorised(), category=cat)
    assert table["reports"].tolist() == [1, 2, 0, 16, 0, 0]
    assert_balanced(rep.sections["reports"], matched=3, filtered=2)
    assert table.schema.categories == (cat,)


def test_category_and_period_filters_combined(square_wards):
    table, rep = join(square_wards, reports=_categorised(), category=["drugs", "robbery"], period="2018-04")
    assert table["reports"].tolist() == [0, 4, 0, 16, 0, 0]
    assert_balanced(rep.sections["reports"], matched=2, filtered=3)


def test_unknown_category_lists_available(square_wards):
    with pytest.raises(InputError) as ei:
        join(square_wards, reports=_categorised(), category="Weapons")
    msg = str(ei.value)
    assert "['Weapons'] not found" in msg
    for c in ("'Drugs'", "'drugs'", "'Robbery'", "'Violence and sexual offences'"):
        assert c in msg


def test_unknown_period(square_wards):
    with pytest.raises(InputError, match=r"period \['2019-01'\] not found.*'2018-03', '2018-04'"):
        join(square_wards, reports=_categorised(), period="2019-01")


def test_filter_without_category_column(square_wards):
    with pytest.raises(InputError, match="no category column"):
        join(square_wards, reports=pd.DataFrame({"ward_code": ["E05100001"]}), category="Drugs")


def test_infinite_count_does_not_reach_the_table(square_wards):
    """Regression: count 'inf' used to reach the table as -9223372036854775808."""
    table, rep = join_all(square_wards, reports=pd.DataFrame({"ward_code": ["E05100001", "E05100002"],
                                                          "count": ["inf", "2"]}))
    assert table["reports"].tolist() == [0, 2, 0, 0, 0, 0]
    assert_balanced(rep.sections["reports"], matched=1, rejected=1)


def test_referrals_without_category_are_not_filtered(square_wards):
    reports = _categorised()
    referrals = pd.DataFrame({"ward_code": ["E05100001", "E05100006"], "referrals": [2, 3],
                              "period": ["2018-03", "2018-09"]})
    table, rep = join(square_wards, reports=reports, referrals=referrals, category="robbery")
    assert table["reports"].tolist() == [0, 4, 0, 0, 0, 0]
    assert table["referrals"].tolist() == [2, 0, 0, 0, 0, 3]
    sec = rep.sections["referrals"]
    assert_balanced(sec, matched=2)
    assert any("category filter was not applied" in n for n in sec.notes)
    assert "category filter was not applied" in rep.summary()


def test_referrals_period_filter(square_wards):
    referrals = pd.DataFrame({"ward_code": ["E05100001", "E05100006"], "referrals": [2, 3],
                              "period": ["2018-03", "2018-09"]})
    table, rep = join(square_wards, reports=_categorised(), referrals=referrals, period="2018-03")
    assert table["reports"].tolist() == [1, 2, 8, 0, 0, 0]
    assert table["referrals"].tolist() == [2, 0, 0, 0, 0, 0]
    assert_balanced(rep.sections["referrals"], matched=1, filtered=1)
    assert_balanced(rep.sections["reports"], matched=3, filtered=2)


def test_filter_with_bad_rows_still_balanced(square_wards):
    df = _categorised()
    df.loc[5] = ["E05999999", "Drugs", "2018-03", 3]    # unmatched
    df.loc[6] = ["E05100005", "Drugs", "2018-03", -3]   # rejected
    df.loc[7] = ["E05999999", "Robbery", "2018-03", 3]  # unmatched but filtered out
    table, rep = join_all(square_wards, reports=df, category="drugs")
    assert_balanced(rep.sections["reports"], matched=3, unmatched=1, rejected=1, filtered=3)
    assert table["reports"].tolist() == [1, 2, 0, 16, 0, 0]


# --------------------------------------------------------------------------- schools & referrals


@pytest.fixture
def schools():
    return pd.DataFrame({
        "URN": ["100001", "100002", "100003", "100004", "100005"],
        "EstablishmentName": ["Castle Primary", "Abbey Academy", "Old Code School", "Delapre School",
                              "Far Away School"],
        "Easting": [centre(5)[0], centre(4)[0], centre(5)[0], None, 600_000],
        "Northing": [centre(5)[1], centre(4)[1], centre(5)[1], None, 200_000],
        # 100001: ward code wins over coordinates; 100002: no code -> by E/N; 100003: stale code -> by E/N;
        # 100004: code only; 100005: no code and outside every ward.
        "AdministrativeWard (code)": ["E05100003", None, "E05000999", "E05100005", None],
    })


def test_referrals_by_urn_through_schools(square_wards, schools):
    referrals = pd.DataFrame({"URN": ["100001", "100002", "100003", "100004", "999999", "100005", "100001"],
                              "referrals": [1, 2, 4, 8, 16, 32, 64]})
    table, rep = join_all(square_wards, referrals=referrals, schools=schools)
    assert table["referrals"].tolist() == [0, 0, 65, 0, 2 + 8, 4]
    sec = rep.sections["referrals"]
    assert sec.key == "urn"
    assert_balanced(sec, matched=5, unmatched=2)
    um = sec.unmatched_rows.set_index("row")
    assert um.loc[5, "value"] == "999999" and um.loc[5, "closest"] == "URN not in schools file"
    assert um.loc[6, "value"] == "100005" and um.loc[6, "closest"] == "school outside every ward"
    assert "reports" not in table.columns


def test_referrals_by_urn_from_files(square_wards, schools, tmp_path):
    schools.to_csv(tmp_path / "schools.csv", index=False)
    (tmp_path / "referrals.csv").write_text("URN,period,referrals\n100001,2018-03,3\n100004,2018-03,x\n"
                                            "100002,2018-09,1\n")
    table, rep = join_all(square_wards, referrals=tmp_path / "referrals.csv", schools=tmp_path / "schools.csv")
    assert table["referrals"].tolist() == [0, 0, 3, 0, 1, 0]
    assert_balanced(rep.sections["referrals"], matched=2, rejected=1)
    table, rep = join_all(square_wards, referrals=tmp_path / "referrals.csv", schools=tmp_path / "schools.csv",
                      period="2018-03")
    assert table["referrals"].tolist() == [0, 0, 3, 0, 0, 0]
    assert_balanced(rep.sections["referrals"], matched=1, rejected=1, filtered=1)


def test_referrals_by_urn_need_schools(square_wards):
    with pytest.raises(InputError, match="schools="):
        join(square_wards, referrals=pd.DataFrame({"URN": ["100001"], "referrals": [1]}))


def test_referrals_by_home_ward(square_wards):
    referrals = pd.DataFrame({"ward_code": ["E05100002", "E05100002", "E05100009"], "referrals": [1, 2, 3]})
    table, rep = join_all(square_wards, referrals=referrals)
    assert table["referrals"].tolist() == [0, 3, 0, 0, 0, 0]
    assert_balanced(rep.sections["referrals"], matched=2, unmatched=1)


def test_reports_referrals_population_together(square_wards, schools):
    reports = pd.DataFrame({"ward_code": ["E05100001", "E05100006"], "count": [5, 6]})
    referrals = pd.DataFrame({"URN": ["100002"], "referrals": [7]})
    population = pd.DataFrame({"ward_code": CODES, "population": [100, 200, 300, 400, 500, 600]})
    table, rep = join(square_wards, reports, referrals, population, schools=schools)
    assert list(table.columns)[-3:] == ["reports", "referrals", "population"]
    assert table["reports"].tolist() == [5, 0, 0, 0, 0, 6]
    assert table["referrals"].tolist() == [0, 0, 0, 0, 7, 0]
    assert table["population"].tolist() == [100.0, 200.0, 300.0, 400.0, 500.0, 600.0]
    assert table["population"].dtype == "float64"
    assert list(rep.sections) == ["reports", "referrals", "population"]
    assert rep.rows_read == 2  # first section
    for sec in rep.sections.values():
        assert sec.balanced


def test_population_duplicates_rejected(square_wards):
    population = pd.DataFrame({"ward_code": ["E05100001", "E05100002", "E05100001", "E05109999", "E05100003"],
                               "population": ["900", "800", "950", "500", "x"]})
    table, rep = join_all(square_wards, population=population)
    sec = rep.sections["population"]
    assert_balanced(sec, matched=2, unmatched=1, rejected=2)
    assert table["population"].tolist()[:2] == [900.0, 800.0]
    assert table["population"].iloc[2:].isna().all()
    rej = dict(zip(sec.rejected_rows["row"], sec.rejected_rows["reason"]))
    assert sorted(rej) == [3, 5]
    assert rej[3] == "second population row for ward E05100001"
    assert "4 wards have no population" in sec.summary()


def test_population_not_filtered(square_wards):
    population = pd.DataFrame({"ward_code": CODES, "population": [1] * 6})
    table, rep = join(square_wards, reports=_categorised(), population=population, category="robbery")
    assert table["population"].tolist() == [1.0] * 6
    assert_balanced(rep.sections["population"], matched=6)
    assert_balanced(rep.sections["reports"], matched=1, filtered=4)


def test_join_accepts_intakes(square_wards):
    it = intake.read_reports(pd.DataFrame({"ward_code": ["E05100004"], "count": [2]}))
    table, rep = join(square_wards, reports=it)
    assert table["reports"].tolist() == [0, 0, 0, 2, 0, 0]
    assert rep.sections["reports"].source == "<DataFrame>"


# --------------------------------------------------------------------------- summary


def _line_count(summary: str, label: str) -> int:
    m = re.search(rf"^\s+{label}\s+([\d,]+)", summary, flags=re.M)
    assert m, (label, summary)
    return int(m.group(1).replace(",", ""))


def test_summary_mentions_each_count(square_wards):
    # points: 7 matched, 2 outside, 3 rejected, 4 filtered
    inside = [centre(i % 6) for i in range(11)]
    pts = inside[:7] + [(450_000, 250_000), (451_000, 250_000)] + [("", "")] * 3 + inside[7:]
    cat = ["Drugs"] * 12 + ["Robbery"] * 4
    df = pd.DataFrame({"easting": [p[0] for p in pts], "northing": [p[1] for p in pts], "category": cat})
    _, rep = join_all(square_wards, reports=df, category="Drugs")
    s = rep.summary()
    assert s.splitlines()[0] == "6 wards"
    assert "16 rows read, by point" in s
    assert (_line_count(s, "matched"), _line_count(s, "unmatched"), _line_count(s, "outside"),
            _line_count(s, "rejected"), _line_count(s, "filtered")) == (7, 0, 2, 3, 4)
    assert "WARNING" not in s
    assert s.count("row ") >= 3 and "no usable coordinates" in s
    assert str(rep) == s
    page = rep._repr_html_()
    assert "<pre>" not in page and page.count("<table") == 2  # counts per status, rejected rows
    # 2 outside + 3 rejected, each row one report: the rejected rows' counts once the reader gives them.
    assert "no usable coordinates" in page and "5 rows (total 5) not placed" in page


def test_summary_unmatched_and_rejected(square_wards):
    df = pd.DataFrame({"ward_code": ["E05100001"] * 5 + ["E05999999"] * 11 + [""] * 12,
                       "count": [1] * 28})
    _, rep = join_all(square_wards, reports=df)
    s = rep.summary()
    assert (_line_count(s, "matched"), _line_count(s, "unmatched"), _line_count(s, "rejected")) == (5, 11, 12)
    assert "total count 5" in s
    assert "E05999999 (11 rows)" in s
    assert "row 17: ward_code is blank" in s and "... and 2 more" in s
    assert "filtered" not in s


def test_period_label_comes_from_the_schema(square_wards):
    """joining no longer has period_label: the table's schema says which months it covers."""
    import gangmap.joining
    assert not hasattr(gangmap.joining, "period_label")
    df = _categorised()
    assert join(square_wards, reports=df)[0].schema.period_label == "2018-03 to 2018-04"
    assert join(square_wards, reports=df, period="2018-04")[0].schema.period_label == "2018-04"
    assert join(square_wards, reports=df.drop(columns="period"))[0].schema.period_label == "period not given"


# --------------------------------------------------------------------------- real data

WARDS_2013 = "boundaries/northamptonshire_wards_2013.geojson"
POLICE_2018_03 = "police/2018-03-northamptonshire-street.csv"


@pytest.mark.realdata
def test_real_police_march_2018(shared_data):
    table, report = gangmap.join(shared_data / WARDS_2013, reports=shared_data / POLICE_2018_03)
    assert len(table) == 146 and report.wards == 146
    assert table["ward_code"].is_unique
    assert report.rows_read == 6370
    assert 25 <= report.outside <= 45
    assert report.unmatched == 0 and report.rejected == 0 and report.filtered == 0
    assert report.matched + report.outside == 6370
    assert table["reports"].sum() == report.matched
    assert report.balanced
    assert table.schema.periods == ("2018-03",)
    # Outside rows are the cross-border ones (e.g. Aylesbury Vale LSOAs), not Northamptonshire LSOAs.
    assert (table["reports"] > 0).sum() > 130


@pytest.mark.realdata
def test_real_police_drugs(shared_data):
    table, report = gangmap.join(shared_data / WARDS_2013, reports=str(shared_data / POLICE_2018_03),
                                 category="Drugs")
    assert report.matched + report.outside == 124
    assert report.filtered == 6370 - 124
    assert report.balanced and report.rejected == 0
    assert table["reports"].sum() == report.matched


@pytest.mark.realdata
def test_real_police_by_name_and_code_agree(shared_data):
    """Counting the police points per ward, then joining those counts by name with district, gives the
    same table as joining by code."""
    table, _ = gangmap.join(shared_data / WARDS_2013, reports=shared_data / POLICE_2018_03)
    by_code = pd.DataFrame({"ward_code": table["ward_code"], "count": table["reports"]})
    by_name = pd.DataFrame({"Ward name": table["ward_name"].str.upper(), "District": table["lad_name"],
                            "count": table["reports"]})
    t1, r1 = gangmap.join(table, reports=by_code)
    t2, r2 = gangmap.join(table, reports=by_name)
    assert r1.matched == r2.matched == 146 and r2.unmatched == 0
    assert t1["reports"].tolist() == t2["reports"].tolist() == table["reports"].tolist()


@pytest.mark.realdata
def test_lsoa_coded_counts_are_bridged_to_wards(shared_data, tmp_path):
    police = pd.read_csv(shared_data / "police" / "2018-03-northamptonshire-street.csv")
    counts = police.groupby("LSOA code").size().rename("count").reset_index()
    path = tmp_path / "lsoa_counts.csv"
    counts.to_csv(path, index=False)
    wards = shared_data / "boundaries" / "northamptonshire_wards_2013.geojson"
    with pytest.raises(InputError, match="--lsoa"):
        join(wards, reports=path)
    table, rep = join_all(wards, reports=path, lsoa=shared_data / "boundaries" / "northamptonshire_lsoa_2011.geojson")
    sec = rep.sections["reports"]
    assert sec.key == "lsoa_code" and sec.balanced
    assert sec.matched + sec.unmatched == len(counts)
    # The same 6,335 crimes as the point path: the 29 cross-border LSOAs are listed as unmatched.
    assert table["reports"].sum() == 6335 and sec.unmatched == 29
    assert "LSOA not in the bridge" in sec.summary()
