"""Issue 16, join side: rows not placed are never a silent zero.

By default a join with unmatched, ambiguous or rejected rows fails with the
rows listed; with ``allow_unmatched=True`` the report and the table carry the
line "N rows (total X) not placed". Coordinates mostly outside every area get
a diagnosis (swapped columns, degrees as metres, another place).
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gangmap.errors import InputError
from gangmap.joining import NotPlacedError, join

CODES = ["E05100001", "E05100002", "E05100003", "E05100004", "E05100005", "E05100006"]


def centre(i):
    return 480_500 + 1_000 * (i % 3), 260_500 + 1_000 * (i // 3)


def lonlat(points):
    g = gpd.GeoSeries([shapely.Point(x, y) for x, y in points], crs=27700).to_crs(4326)
    return g.x.to_numpy(), g.y.to_numpy()


def test_unmatched_codes_fail_by_default_naming_value_rows_total_and_candidates(square_wards):
    df = pd.DataFrame({"ward_code": ["E05100001", "E05100007", "E05100007", "E05100002"], "count": [1, 3, 4, 2]})
    with pytest.raises(NotPlacedError) as ei:
        join(square_wards, reports=df)
    msg = str(ei.value)
    assert isinstance(ei.value, InputError)
    assert "2 rows (total 7) not placed" in msg
    assert "unmatched 'E05100007': 2 rows (row 2, 3), total 7 -> did you mean E051000" in msg
    assert "allow_unmatched=True" in msg and "--allow-unmatched" in msg
    rep = ei.value.report
    assert rep.sections["reports"].unmatched == 2 and rep.balanced


def test_allowed_join_says_what_was_not_placed_and_keeps_it_off_the_map(square_wards):
    df = pd.DataFrame({"ward_code": ["E05100001", "E05100007", "E05100007", "E05100002"], "count": [1, 3, 4, 2]})
    table, rep = join(square_wards, reports=df, allow_unmatched=True)
    assert rep.not_placed == "2 rows (total 7) not placed"
    assert table.schema.notes["reports"]["not_placed"] == rep.not_placed
    # Never a silent zero: what is on the map plus what was not placed is the whole input.
    assert table["reports"].sum() + rep.sections["reports"].not_placed_total == df["count"].sum()
    assert table["reports"].tolist() == [1, 2, 0, 0, 0, 0]


def test_clean_join_has_no_not_placed_line(square_wards):
    table, rep = join(square_wards, reports=pd.DataFrame({"ward_code": CODES, "count": [1] * 6}))
    assert rep.not_placed == "" and "not_placed" not in table.schema.notes["reports"]


def test_ambiguous_name_fails_by_default_and_a_district_column_resolves_it(square_wards):
    df = pd.DataFrame({"ward_name": ["Abbey", "Castle"], "count": [5, 1]})
    with pytest.raises(NotPlacedError) as ei:
        join(square_wards, reports=df)
    msg = str(ei.value)
    assert "unmatched 'Abbey': 1 row (row 1), total 5 -> ambiguous: Abbey (Northwold), Abbey (Southmere)" in msg
    assert "add a district column" in msg
    table, rep = join(square_wards, reports=df.assign(district=["Southmere", "Northwold"]))
    assert table["reports"].tolist() == [0, 0, 1, 5, 0, 0] and rep.not_placed == ""


def test_rejected_rows_fail_by_default(square_wards):
    df = pd.DataFrame({"ward_code": ["E05100001", "E05100002"], "count": ["2", "three"]})
    with pytest.raises(NotPlacedError, match=r"rejected row 2: count is 'three'"):
        join(square_wards, reports=df)
    table, rep = join(square_wards, reports=df, allow_unmatched=True)
    assert rep.not_placed == "1 row (total 0) not placed, 1 with no readable count" and table["reports"].sum() == 2


def test_population_with_two_rows_for_one_ward_fails_by_default(square_wards):
    pop = pd.DataFrame({"ward_code": ["E05100001", "E05100001"], "population": [900, 950]})
    with pytest.raises(NotPlacedError, match="second population row for ward E05100001"):
        join(square_wards, population=pop)


def test_unmatched_rows_left_out_by_the_filter_do_not_fail(square_wards):
    df = pd.DataFrame({"ward_code": ["E05100001", "E05999999"], "category": ["Drugs", "Robbery"], "count": [2, 9]})
    table, rep = join(square_wards, reports=df, category="Drugs")
    assert rep.not_placed == "" and rep.filtered == 1 and table["reports"].sum() == 2
    with pytest.raises(NotPlacedError):
        join(square_wards, reports=df, category="Robbery")


def test_a_few_points_outside_do_not_fail_but_are_reported(square_wards):
    pts = [centre(i) for i in range(6)] * 3 + [(470_000, 250_000)]
    table, rep = join(square_wards, reports=pd.DataFrame({"easting": [p[0] for p in pts],
                                                          "northing": [p[1] for p in pts]}))
    assert rep.outside == 1 and rep.hint is None
    assert rep.not_placed == "1 row (total 1) not placed"
    assert "outside every ward" in rep.summary()


def test_swapped_latitude_longitude_columns_get_a_hint(square_wards):
    pts = [centre(i % 6) for i in range(30)]
    lon, lat = lonlat(pts)
    swapped = pd.DataFrame({"Latitude": lon, "Longitude": lat})  # the columns the wrong way round
    with pytest.raises(NotPlacedError, match="latitude and longitude swapped most fall inside") as ei:
        join(square_wards, reports=swapped)
    assert "100% of the rows with coordinates fall outside every ward" in str(ei.value)
    table, rep = join(square_wards, reports=swapped, allow_unmatched=True)
    assert "wrong way round" in rep.hint and table["reports"].sum() == 0
    assert rep.not_placed == "30 rows (total 30) not placed"
    right, rep2 = join(square_wards, reports=pd.DataFrame({"Latitude": lat, "Longitude": lon}))
    assert right["reports"].tolist() == [5] * 6 and rep2.hint is None


def test_swapped_easting_northing_get_a_hint(square_wards):
    pts = [centre(i % 6) for i in range(12)]
    df = pd.DataFrame({"easting": [p[1] for p in pts], "northing": [p[0] for p in pts]})
    _, rep = join(square_wards, reports=df, allow_unmatched=True)
    assert "easting and northing swapped" in rep.hint


def test_degrees_given_as_metres_get_a_hint(square_wards):
    lon, lat = lonlat([centre(i) for i in range(6)])
    _, rep = join(square_wards, reports=pd.DataFrame({"easting": lon, "northing": lat}), allow_unmatched=True)
    assert "look like degrees" in rep.hint


def test_points_from_another_place_get_a_hint(square_wards):
    df = pd.DataFrame({"easting": [430_000.0 + i for i in range(10)], "northing": [380_000.0] * 10})
    with pytest.raises(NotPlacedError) as ei:
        join(square_wards, reports=df)
    assert "another area (another police force?)" in str(ei.value)
    # median point (430004.5, 380000) to the nearest corner of the squares (480000, 262000)
    assert "about 128 km from the wards" in str(ei.value)


def test_duplicate_area_rows_are_summed_with_a_note(square_wards):
    df = pd.DataFrame({"ward_code": ["E05100001", "E05100001", "E05100002", "E05100002", "E05100003"],
                       "period": ["2018-03", "2018-03", "2018-03", "2018-04", "2018-03"], "count": [2, 3, 1, 1, 4]})
    table, rep = join(square_wards, reports=df)
    assert table["reports"].tolist() == [5, 2, 4, 0, 0, 0]  # summed
    notes = rep.sections["reports"].notes
    assert notes == ["1 ward appears in more than one row with the same period (E05100001): their counts were summed"]


def test_html_report_lists_unmatched_values_as_a_table(square_wards):
    df = pd.DataFrame({"ward_name": ["Castel", "Castel", "<b>Zz</b>"], "count": [1, 2, 3]})
    _, rep = join(square_wards, reports=df, allow_unmatched=True)
    page = rep._repr_html_()
    assert "<pre>" not in page
    assert page.count("<table") == 2  # counts per status, unmatched values
    assert "<td>Castel</td>" in page and "<td>Castle, Eastfield</td>" in page
    assert "&lt;b&gt;Zz&lt;/b&gt;" in page and "<b>Zz</b>" not in page
    first = page.split("</table>")[0]
    heads = re.findall(r"<th>(.*?)</th>", first)
    cells = dict(zip(heads, re.findall(r"<td>(.*?)</td>", first)))
    assert cells["unmatched"] == "3" and cells["rows read"] == "3" and cells["matched"] == "0"


def test_balance_holds_for_random_bad_inputs(square_wards):
    """Whatever mix of good and bad rows: every row in exactly one bucket, and the table holds the matched total."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(1, 40))
        codes = rng.choice(CODES + ["E05999999", "", "Abbey"], size=n)
        counts = rng.choice(["1", "2", "x", "-1", "7"], size=n)
        df = pd.DataFrame({"ward_code": codes, "count": counts})
        table, rep = join(square_wards, reports=df, allow_unmatched=True)
        sec = rep.sections["reports"]
        assert sec.balanced and table["reports"].sum() == sec.total
        good = df[df["ward_code"].isin(CODES) & df["count"].isin(["1", "2", "7"])]
        assert sec.total == good["count"].astype(int).sum()
