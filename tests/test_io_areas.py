"""gangmap.io.read_areas: any geography into an AreaTable; geometry checks at read time (issues 11 and 16)."""

from __future__ import annotations

import itertools
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gangmap.errors import BoundaryError, ConfigError
from gangmap.geography import custom, get_geography
from gangmap.io import BoundaryWarning, districts, read_areas, read_reports, read_wards
from gangmap.io.shapes import OVERLAP_M2, OVERLAP_SHARE, overlapping_pairs
from gangmap.table import AreaTable

X0, Y0 = 480_000, 260_000


def squares(n=4, side=1_000.0):
    return [shapely.box(X0 + side * i, Y0, X0 + side * (i + 1), Y0 + side) for i in range(n)]


def layer(codes, names=None, *, prefix="LSOA11", geoms=None, lad=True):
    geoms = geoms if geoms is not None else squares(len(codes))
    data = {f"{prefix}CD": codes}
    if names is not None:
        data[f"{prefix}NM"] = names
    if lad:
        data["LAD11CD"] = ["E07000150"] * len(codes)
        data["LAD11NM"] = ["Corby"] * len(codes)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=27700)


LSOA = ["E01026949", "E01026950", "E01026951", "E01026952"]


# --------------------------------------------------------------------------- geographies


def test_lsoa_layer_canonical_columns():
    t = read_areas(layer(LSOA, ["Corby 001A", "Corby 001B", "Corby 001C", "Corby 001D"]), "lsoa")
    assert isinstance(t, AreaTable) and t.geography.level == "lsoa"
    assert list(t.columns) == ["lsoa_code", "lsoa_name", "lad_code", "lad_name", "geometry"]
    assert t.codes.tolist() == LSOA and t.crs.to_epsg() == 27700
    assert t.schema.sources == () and t.schema.repaired == ()
    assert t.schema.notes["lsoa_code"]["read_from"] == "LSOA11CD"
    assert repr(t) == "<AreaTable 4 LSOAs>"


@pytest.mark.parametrize("level,prefix,codes", [
    ("msoa", "MSOA21", ["E02000001", "W02000002"]), ("oa", "OA11", ["E00000001", "W00000002"]),
    ("lsoa", "LSOA21", ["E01000001", "W01000002"]), ("ward", "WD24", ["E05000001", "W05000002"]),
])
def test_ons_columns_of_any_vintage_per_geography(level, prefix, codes):
    t = read_areas(layer(codes, ["a", "b"], prefix=prefix), level)
    geo = get_geography(level)
    assert t.codes.tolist() == codes and t.frame[geo.name].tolist() == ["a", "b"]
    assert t.schema.notes[geo.code]["read_from"] == f"{prefix}CD"


@pytest.mark.parametrize("level,wrong", [("lsoa", "E05000001"), ("msoa", "E01000001"), ("oa", "E02000001"),
                                         ("ward", "E00000001")])
def test_gss_prefix_checked_per_geography(level, wrong):
    g = layer(["E01000000", wrong], prefix="X")
    g["X" + "CD"] = [get_geography(level).prefixes[0] + "000009", wrong]
    with pytest.raises(BoundaryError) as ei:
        read_areas(g, level, code="XCD")
    msg = str(ei.value)
    assert repr(wrong) in msg and f"not {get_geography(level).label} codes" in msg and "gss=False" in msg


def test_geography_keyword_as_the_readers_and_join_spell_it():
    assert read_areas(layer(LSOA), geography="lsoa").geography.level == "lsoa"
    assert read_areas(layer(LSOA), "lsoa", geography="LSOAs").geography.level == "lsoa"
    with pytest.raises(ConfigError, match="give one of them"):
        read_areas(layer(LSOA), "msoa", geography="lsoa")


def test_lsoa_codes_read_as_wards_say_so():
    with pytest.raises(BoundaryError, match=r"are LSOA codes, not ward codes.*level='lsoa'"):
        read_wards(layer(LSOA, prefix="LSOA11"), ward_code="LSOA11CD")


def test_non_gss_codes_when_the_user_says_so():
    g = layer(["B1", "B2", "B3", "B4"], ["North", "South", "East", "West"], prefix="BEAT")
    with pytest.raises(BoundaryError, match="not GSS"):
        read_areas(g, "ward", code="BEATCD")
    t = read_areas(g, "ward", code="BEATCD", name="BEATNM", gss=False)
    assert t.codes.tolist() == ["B1", "B2", "B3", "B4"]
    n = read_areas(g.rename(columns={"BEATCD": "neighbourhood_code"}), "neighbourhood")
    assert n.geography.label == "neighbourhood" and n.codes.tolist() == ["B1", "B2", "B3", "B4"]
    c = read_areas(g, custom("beat", code="BEATCD", name="BEATNM"))
    assert c.names.tolist() == ["North", "South", "East", "West"]


def test_name_defaults_to_code():
    t = read_areas(layer(LSOA, prefix="LSOA11"), "lsoa")
    assert t.frame["lsoa_name"].tolist() == LSOA


def test_no_district_warns_in_the_geography_words():
    with pytest.warns(BoundaryWarning, match="all LSOAs are treated as one district"):
        t = read_areas(layer(LSOA, lad=False), "lsoa")
    assert set(t.frame["lad_code"]) == {"(none)"}


def test_names_nfc_and_control_characters_cleaned():
    g = layer(LSOA, ["Ynys Mo\u0302n", "Ab\x01bey", " Castle ", "Delapre"])
    assert read_areas(g, "lsoa").frame["lsoa_name"].tolist() == ["Ynys Môn", "Abbey", "Castle", "Delapre"]


def test_districts_of_lsoas():
    d = districts(read_areas(layer(LSOA), "lsoa"))
    assert d["lad_code"].tolist() == ["E07000150"] and d.area.iloc[0] == pytest.approx(4e6)


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("geom,kind", [(shapely.Point(X0, Y0), "points"),
                                       (shapely.LineString([(X0, Y0), (X0 + 10, Y0)]), "lines"),
                                       (shapely.MultiPoint([(X0, Y0), (X0 + 5, Y0)]), "points")])
def test_points_or_lines_are_not_boundaries(tmp_path, geom, kind):
    """Issue 16: points given as boundaries used to draw a blank map."""
    g = layer(LSOA, geoms=[geom] * 4)
    path = tmp_path / "points.geojson"
    g.to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError) as ei:
        read_areas(path, "lsoa")
    msg = str(ei.value)
    assert str(path) in msg and f"4 of 4 features are {kind}, not polygons" in msg and "E01026949" in msg


def test_one_line_among_polygons_is_named():
    geoms = squares(4)
    geoms[2] = shapely.LineString([(X0, Y0), (X0 + 10, Y0)])
    with pytest.raises(BoundaryError, match=r"1 of 4 features are lines.*E01026951"):
        read_areas(layer(LSOA, geoms=geoms), "lsoa")


def test_collection_reduced_to_its_polygons():
    geoms = squares(4)
    geoms[0] = shapely.GeometryCollection([geoms[0], shapely.Point(X0, Y0)])
    t = read_areas(layer(LSOA, geoms=geoms), "lsoa")
    assert t.geometry.iloc[0].geom_type == "Polygon" and t.geometry.iloc[0].area == pytest.approx(1e6)


def brute_force_overlaps(geoms):
    """Every pair, shared area by shapely.intersection, tolerance as documented."""
    out = set()
    for i, j in itertools.combinations(range(len(geoms)), 2):
        shared = geoms[i].intersection(geoms[j]).area
        if shared > min(OVERLAP_M2, OVERLAP_SHARE * min(geoms[i].area, geoms[j].area)):
            out.add((i, j))
    return out


def test_overlap_detection_matches_brute_force():
    rng = np.random.default_rng(5)
    geoms = [shapely.box(x, y, x + w, y + h) for x, y, w, h in zip(
        rng.uniform(0, 5_000, 60), rng.uniform(0, 5_000, 60), rng.uniform(5, 900, 60), rng.uniform(5, 900, 60))]
    i, j, shared = overlapping_pairs(np.array(geoms, dtype=object))
    assert set(zip(i.tolist(), j.tolist())) == brute_force_overlaps(geoms)
    assert len(i) > 5  # the planted layer does overlap


@pytest.mark.parametrize("side,dx,overlaps", [
    (1000, 0.0, True), (1000, 999.95, False), (1000, 999.85, True),  # 1 km²: more than 100 m² is an overlap
    (50, 49.6, False), (50, 49.4, True),  # 2,500 m²: more than 1% (25 m²) is an overlap
])
def test_overlap_tolerance(side, dx, overlaps):
    """Two squares of ``side`` shifted by dx share (side - dx) x side m²."""
    geoms = [shapely.box(X0, Y0, X0 + side, Y0 + side), shapely.box(X0 + dx, Y0, X0 + dx + side, Y0 + side)]
    g = layer(LSOA[:2], geoms=geoms)
    if overlaps:
        with pytest.raises(BoundaryError) as ei:
            read_areas(g, "lsoa")
        msg = str(ei.value)
        assert "E01026949 and E01026950" in msg and "allow_overlaps=True" in msg
        assert f"{(side - dx) * side:,.0f} m²" in msg
    else:
        assert len(read_areas(g, "lsoa")) == 2


def test_duplicated_polygon_under_another_code_then_allowed():
    geoms = squares(3) + [squares(3)[1]]
    g = layer(LSOA, geoms=geoms)
    with pytest.raises(BoundaryError,
                       match=r"1 pair\(s\) of LSOAs overlap.*E01026950 and E01026952 \(1,000,000 m², 100%"):
        read_areas(g, "lsoa")
    with pytest.warns(BoundaryWarning, match="accepted"):
        t = read_areas(g, "lsoa", allow_overlaps=True)
    assert t.schema.notes["geometry"]["overlaps"][0].startswith("E01026950 and E01026952")


def test_header_only_geojson_is_an_error(tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(BoundaryError) as ei:
        read_areas(path, "lsoa")
    assert str(path) in str(ei.value) and "no LSOAs" in str(ei.value)


def test_area_table_can_be_read_again():
    t = read_areas(layer(LSOA), "lsoa")
    again = read_areas(t, "lsoa")
    assert again.codes.tolist() == LSOA


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_real_northamptonshire_lsoas(shared_data):
    path = shared_data / "boundaries" / "northamptonshire_lsoa_2011.geojson"
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        t = read_areas(path, "lsoa")
    assert len(t) == 422 and t.geography.level == "lsoa"
    assert list(t.columns) == ["lsoa_code", "lsoa_name", "lad_code", "lad_name", "geometry"]
    assert {c: n["read_from"] for c, n in t.schema.notes.items()} == {
        "lsoa_code": "LSOA11CD", "lsoa_name": "LSOA11NM", "lad_code": "LAD11CD", "lad_name": "LAD11NM"}
    assert t.codes.str.match(r"^E01\d{6}$").all() and t.codes.is_unique
    assert sorted(t.frame["lad_code"].unique()) == [f"E0700015{i}" for i in range(7)]
    assert t.frame["lsoa_name"].str.match(r"^(Corby|Daventry|East Northamptonshire|Kettering|Northampton|"
                                          r"South Northamptonshire|Wellingborough) \d{3}[A-Z]$").all()
    assert t.schema.sources == (str(path),) and t.crs.to_epsg() == 27700
    assert t.geometry.is_valid.all() and t.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    # Repairs, if any, are warned about and listed (the file holds one self-intersecting LSOA).
    warned = [str(w.message) for w in rec if issubclass(w.category, BoundaryWarning)]
    assert len(t.schema.repaired) == sum("repaired" in m for m in warned)
    # Real boundaries share edges only: no overlap, and the county is covered once (area adds up).
    minx, miny, maxx, maxy = t.frame.total_bounds
    assert 420_000 < minx < maxx < 540_000 and 220_000 < miny < maxy < 320_000
    assert t.frame.area.sum() == pytest.approx(shapely.union_all(t.geometry.values).area, rel=1e-4)


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore::gangmap.io.BoundaryWarning")
def test_real_police_counts_by_lsoa_code_match_the_lsoa_layer(shared_data):
    """Counts by LSOA code onto LSOA boundaries: read_reports(geography='lsoa') keys by lsoa_code."""
    import pandas as pd

    lsoas = read_areas(shared_data / "boundaries" / "northamptonshire_lsoa_2011.geojson", "lsoa")
    police = pd.read_csv(shared_data / "police" / "2018-03-northamptonshire-street.csv", dtype=str)
    counts = police.groupby("LSOA code").size().rename("count").reset_index()
    r = read_reports(counts, geography="lsoa")
    assert r.key == "lsoa_code" and r.data["count"].sum() == police["LSOA code"].notna().sum()
    assert r.data["lsoa_code"].tolist() == counts["LSOA code"].tolist()
    # Oracle: an LSOA code is in the layer exactly when police.uk names it after a Northamptonshire district.
    county = ("Corby ", "Daventry ", "East Northamptonshire ", "Kettering ", "Northampton ",
              "South Northamptonshire ", "Wellingborough ")
    names = police.dropna(subset=["LSOA code"]).groupby("LSOA code")["LSOA name"].first()
    in_layer = r.data["lsoa_code"].isin(lsoas.codes)
    assert in_layer.tolist() == [names[c].startswith(county) for c in r.data["lsoa_code"]]
    assert in_layer.sum() > 400
