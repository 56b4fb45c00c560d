"""Joining onto any geography: LSOAs, MSOAs, neighbourhoods with their own codes; point location helpers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gangmap.errors import InputError
from gangmap.geography import custom
from gangmap.joining import NotPlacedError, join, locate_points, place, point_index
from gangmap.table import from_frame

X0, Y0 = 480_000, 260_000


def squares(n, columns=2, side=1000):
    return [shapely.box(X0 + side * (i % columns), Y0 + side * (i // columns),
                        X0 + side * (i % columns + 1), Y0 + side * (i // columns + 1)) for i in range(n)]


@pytest.fixture
def lsoas():
    """Four LSOAs in a 2 x 2 km block; the two west ones in MSOA E02000001, the east ones in E02000002."""
    return gpd.GeoDataFrame({"lsoa_code": ["E01000001", "E01000002", "E01000003", "E01000004"],
                             "lsoa_name": ["Alpha 001A", "Alpha 001B", "Beta 002A", "Beta 002B"],
                             "lad_code": ["E07000001"] * 4, "lad_name": ["Testshire"] * 4},
                            geometry=squares(4), crs=27700)


@pytest.fixture
def msoas():
    return gpd.GeoDataFrame({"msoa_code": ["E02000001", "E02000002"], "msoa_name": ["West", "East"]},
                            geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 2000),
                                      shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 2000)], crs=27700)


def test_counts_by_lsoa_code_onto_lsoas(lsoas):
    areas = from_frame(lsoas, geography="lsoa")
    rows = pd.DataFrame({"lsoa_code": ["E01000002", "e01000002", "E01000004", "E01009999"], "count": [1, 2, 4, 8]})
    with pytest.raises(NotPlacedError, match="on no LSOA of 4 LSOAs"):
        join(areas, reports=rows)
    table, rep = join(areas, reports=rows, allow_unmatched=True)
    assert table["reports"].tolist() == [0, 3, 0, 4]
    assert table.geography.label == "LSOA" and list(table.columns[:4]) == ["lsoa_code", "lsoa_name", "lad_code",
                                                                          "lad_name"]
    s = rep.summary()
    assert s.startswith("4 LSOAs") and "outside every LSOA" in s and "closest LSOA names/codes" in s
    assert rep.not_placed == "1 row (total 8) not placed"


def test_points_onto_lsoas(lsoas):
    pts = pd.DataFrame({"easting": [X0 + 500, X0 + 1500, X0 + 1500, X0 + 5000],
                        "northing": [Y0 + 500, Y0 + 1500, Y0 + 1600, Y0 + 500]})
    table, rep = join(from_frame(lsoas, geography="lsoa"), reports=pts)
    assert table["reports"].tolist() == [1, 0, 0, 2] and rep.outside == 1


def test_lsoa_counts_bridged_onto_msoas(lsoas, msoas):
    rows = pd.DataFrame({"LSOA code": ["E01000001", "E01000003", "E01000004", "E01000004"], "count": [1, 2, 4, 8]})
    table, rep = join(from_frame(msoas, geography="msoa"), reports=rows, lsoa=lsoas)
    assert table["reports"].tolist() == [1 + 2, 4 + 8]
    assert rep.summary().startswith("2 MSOAs")
    assert any("LSOAs placed on MSOAs" in n for n in rep.sections["reports"].notes)


def test_neighbourhoods_with_their_own_codes_by_code_and_name():
    geo = custom("neighbourhood", label="neighbourhood", gss=False, parent_code="sector_code",
                 parent_name="sector_name", parent_label="sector")
    hoods = gpd.GeoDataFrame({"neighbourhood_code": ["NN01", "NN02", "NN03"],
                              "neighbourhood_name": ["Town Centre", "Riverside", "Riverside"],
                              "sector_code": ["S1", "S1", "S2"], "sector_name": ["North", "North", "South"]},
                             geometry=squares(3, columns=3), crs=27700)
    areas = from_frame(hoods, geography=geo)
    by_code = pd.DataFrame({"neighbourhood_code": ["nn02", "NN03"], "count": [2, 3]})
    from gangmap import io as intake
    it = intake.Intake("reports", "neighbourhood_code", "<codes>", 2,
                       pd.DataFrame({"row": [1, 2], "count": [2, 3], "neighbourhood_code": by_code.iloc[:, 0]}))
    table, _ = join(areas, reports=it)
    assert table["reports"].tolist() == [0, 2, 3]
    names = intake.Intake("reports", "neighbourhood_name", "<names>", 2,
                          pd.DataFrame({"row": [1, 2], "count": [5, 7], "neighbourhood_name": ["Riverside"] * 2,
                                        "district": ["north", "South"]}))
    table, rep = join(areas, reports=names)
    assert table["reports"].tolist() == [0, 5, 7]
    with pytest.raises(NotPlacedError, match=r"ambiguous: Riverside \(North\), Riverside \(South\); add a sector"):
        join(areas, reports=names.data.drop(columns="district").pipe(
            lambda d: intake.Intake("reports", "neighbourhood_name", "<names>", 2, d)))


def test_rows_keyed_by_another_geography_are_refused(lsoas):
    # The join reads the rows with the areas' geography, so a ward-keyed table finds no LSOA column...
    with pytest.raises(InputError, match=r"no LSOA code, LSOA name, .* column found. Columns are: ward_code"):
        join(from_frame(lsoas, geography="lsoa"), reports=pd.DataFrame({"ward_code": ["E05000001"]}))
    # ... and rows already read as ward-keyed are refused when placed.
    from gangmap.io import read_reports

    ward_rows = read_reports(pd.DataFrame({"ward_code": ["E05000001"]}))
    with pytest.raises(InputError, match="keyed by ward_code, but the areas are LSOAs"):
        join(from_frame(lsoas, geography="lsoa"), reports=ward_rows)


# --------------------------------------------------------------------------- point location


def test_locate_points_shared_edges_go_to_the_first_area_in_table_order(lsoas):
    x = [X0 + 1000, X0 + 1000, X0 + 500, X0 + 9000]  # the edge between 1 and 2; the corner of all four
    y = [Y0 + 500, Y0 + 1000, Y0 + 500, Y0]
    got = locate_points(x, y, lsoas)
    assert got.tolist()[:3] == ["E01000001", "E01000001", "E01000001"] and got.isna().tolist()[3]
    flipped = lsoas.iloc[::-1].reset_index(drop=True)
    assert locate_points(x, y, flipped).tolist()[0] == "E01000002"  # edge of 1 and 2: 2 comes first now
    assert locate_points(x, y, flipped).tolist()[1] == "E01000004"  # the corner: 4 comes first now


def test_locate_points_agrees_with_brute_force(lsoas):
    rng = np.random.default_rng(2)
    x = X0 - 200 + rng.uniform(0, 2400, 500)
    y = Y0 - 200 + rng.uniform(0, 2400, 500)
    got = locate_points(x, y, lsoas)
    polys = lsoas.geometry.to_numpy()
    for xi, yi, code in zip(x, y, got):
        hits = [c for c, p in zip(lsoas["lsoa_code"], polys) if p.intersects(shapely.Point(xi, yi))]
        assert (code if pd.notna(code) else None) == (hits[0] if hits else None)


def test_point_index_is_built_once_per_frame(lsoas):
    assert point_index(lsoas) is point_index(lsoas)
    assert point_index(lsoas) is not point_index(lsoas.copy())


def test_place_gives_the_geography_code_column(lsoas):
    rows, rep = place(pd.DataFrame({"easting": [X0 + 500, X0 + 9000], "northing": [Y0 + 500, Y0]}),
                      from_frame(lsoas, geography="lsoa"))
    assert rows["lsoa_code"].tolist()[0] == "E01000001" and pd.isna(rows["lsoa_code"].iloc[1])
    assert rows["status"].tolist() == ["matched", "outside"] and rep.balanced
