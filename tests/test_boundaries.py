"""gangmap.io.read_wards (read_areas for wards): formats, ONS vintages, canonical output, errors, repair.

read_wards returns an AreaTable since issue 11: the frame is ``w.frame``, the file ``w.schema.sources``,
the repaired wards ``w.schema.repaired`` and the columns read ``w.schema.notes[col]["read_from"]``
(these were ``attrs`` before).
"""

from __future__ import annotations

import gzip
import re
import shutil
import warnings
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gangmap.errors import BoundaryError, GangmapError
from gangmap.io.boundaries import BoundaryWarning, districts, read_wards, to_map_crs
from gangmap.table import AreaTable

CANONICAL = ["ward_code", "ward_name", "lad_code", "lad_name", "geometry"]
CODES = ["E05100001", "E05100002", "E05100003", "E05100004", "E05100005", "E05100006"]
NAMES = ["St. Crispin & Kingsthorpe", "Abbey", "Castle", "Abbey", "Delapre", "Eastfield"]
LAD_CODES = ["E07000201"] * 3 + ["E07000202"] * 3
LAD_NAMES = ["Northwold"] * 3 + ["Southmere"] * 3


def columns_used(t: AreaTable) -> dict:
    """The input column each identifier was read from (was ``attrs["columns_used"]``)."""
    return {c: n["read_from"] for c, n in t.schema.notes.items() if "read_from" in n}


def assert_canonical(t, *, tol=0.0):
    """The six square wards, canonical columns and order, EPSG:27700, exact squares."""
    assert isinstance(t, AreaTable) and t.geography.level == "ward"
    w = t.frame
    assert isinstance(w, gpd.GeoDataFrame)
    assert list(w.columns) == CANONICAL
    assert w.geometry.name == "geometry"
    assert w.crs.to_epsg() == 27700
    assert w["ward_code"].tolist() == CODES
    assert w["ward_name"].tolist() == NAMES
    assert w["lad_code"].tolist() == LAD_CODES
    assert w["lad_name"].tolist() == LAD_NAMES
    np.testing.assert_allclose(w.total_bounds, [480_000, 260_000, 483_000, 262_000], atol=tol)
    np.testing.assert_allclose(w.area.to_numpy(), np.full(6, 1e6), rtol=1e-6 if tol else 0)
    assert t.schema.repaired == ()


def msg_names(exc_info, path) -> str:
    """Assert the error message names the file; return the message."""
    msg = str(exc_info.value)
    assert str(path) in msg, msg
    return msg


# --------------------------------------------------------------------------- formats


def _write_shp(gdf, folder):
    folder.mkdir()
    path = folder / "wards.shp"
    gdf.to_file(path, driver="ESRI Shapefile")
    return path


def test_geodataframe_input(square_wards):
    assert_canonical(read_wards(square_wards))


def test_geojson(square_wards, tmp_path):
    path = tmp_path / "wards.geojson"
    square_wards.to_file(path, driver="GeoJSON")
    w = read_wards(path)
    assert_canonical(w)
    assert w.schema.sources == (str(path),)


def test_geojson_in_wgs84_converted_to_bng(square_wards, tmp_path):
    path = tmp_path / "wards.json"
    square_wards.to_crs(4326).to_file(path, driver="GeoJSON")
    w = read_wards(str(path))
    assert_canonical(w, tol=0.01)


def test_geopackage(square_wards, tmp_path):
    path = tmp_path / "wards.gpkg"
    square_wards.to_file(path, driver="GPKG")
    assert_canonical(read_wards(path))


def test_shapefile(square_wards, tmp_path):
    path = _write_shp(square_wards, tmp_path / "shp")
    assert_canonical(read_wards(path))


def test_zipped_shapefile(square_wards, tmp_path):
    shp = _write_shp(square_wards, tmp_path / "shp")
    parts = sorted(p.suffix for p in shp.parent.iterdir())
    assert {".shp", ".shx", ".dbf", ".prj"} <= set(parts)
    zpath = tmp_path / "wards.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for ext in (".shp", ".shx", ".dbf", ".prj"):
            z.write(shp.with_suffix(ext), arcname="wards" + ext)
    assert_canonical(read_wards(zpath))


def test_gzipped_geojson(square_wards, tmp_path):
    plain = tmp_path / "wards.geojson"
    square_wards.to_file(plain, driver="GeoJSON")
    gz = tmp_path / "wards.geojson.gz"
    with open(plain, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    plain.unlink()
    w = read_wards(gz)
    assert_canonical(w)
    assert w.schema.sources == (str(gz),)


def test_uppercase_extension(square_wards, tmp_path):
    path = tmp_path / "WARDS.GEOJSON"
    square_wards.to_file(path, driver="GeoJSON")
    assert_canonical(read_wards(path))


# --------------------------------------------------------------------------- columns


@pytest.mark.parametrize("vintage", ["13", "19", "21", "25"])
def test_ons_vintages_detected(square_wards_factory, vintage, tmp_path):
    path = tmp_path / f"wd{vintage}.gpkg"
    square_wards_factory(vintage).to_file(path)
    w = read_wards(path)
    assert_canonical(w)
    assert columns_used(w) == {"ward_code": f"WD{vintage}CD", "ward_name": f"WD{vintage}NM",
                                       "lad_code": f"LAD{vintage}CD", "lad_name": f"LAD{vintage}NM"}


def test_lower_case_ons_columns(square_wards):
    g = square_wards.rename(columns={"WD21CD": "wd21cd", "WD21NM": "wd21nm",
                                     "LAD21CD": "lad21cd", "LAD21NM": "lad21nm"})
    assert_canonical(read_wards(g))


def test_two_vintages_prefers_newest(square_wards):
    g = square_wards.copy()
    g["WD19CD"] = [f"E0500000{i}" for i in range(1, 7)]  # older codes
    g["WD19NM"] = list("ABCDEF")
    w = read_wards(g[["WD19CD", "WD19NM", "WD21CD", "WD21NM", "LAD21CD", "LAD21NM", "geometry"]])
    assert w["ward_code"].tolist() == CODES
    assert w["ward_name"].tolist() == NAMES
    assert columns_used(w)["ward_code"] == "WD21CD"


def test_canonical_columns_already_present(square_wards):
    g = square_wards.rename(columns={"WD21CD": "ward_code", "WD21NM": "ward_name",
                                     "LAD21CD": "lad_code", "LAD21NM": "lad_name"})
    assert_canonical(read_wards(g))


def test_explicit_column_arguments(square_wards):
    g = square_wards.rename(columns={"WD21CD": "code", "WD21NM": "label",
                                     "LAD21CD": "dist", "LAD21NM": "dist_label"})
    g["extra"] = 1
    g = g[["extra", "dist_label", "label", "geometry", "dist", "code"]]  # shuffled, extra column
    w = read_wards(g, ward_code="code", ward_name="label", lad_code="dist", lad_name="dist_label")
    assert_canonical(w)


def test_explicit_column_overrides_detection(square_wards):
    g = square_wards.copy()
    g["other_name"] = list("UVWXYZ")
    w = read_wards(g, ward_name="other_name")
    assert w["ward_name"].tolist() == list("UVWXYZ")
    assert w["ward_code"].tolist() == CODES


def test_explicit_column_missing_names_column(square_wards, tmp_path):
    path = tmp_path / "wards.gpkg"
    square_wards.to_file(path)
    with pytest.raises(BoundaryError) as ei:
        read_wards(path, ward_code="WARD_CODE")
    msg = msg_names(ei, path)
    assert "'WARD_CODE'" in msg and "WD21CD" in msg


def test_codes_and_names_are_stripped(square_wards):
    g = square_wards.copy()
    g["WD21CD"] = [f"  {c} " for c in CODES]
    g["WD21NM"] = [f" {n}  " for n in NAMES]
    assert_canonical(read_wards(g))


def test_no_ward_name_uses_code(square_wards):
    w = read_wards(square_wards.drop(columns=["WD21NM"]))
    assert list(w.columns) == CANONICAL
    assert w["ward_name"].tolist() == CODES


def test_lad_code_only_names_district_by_code(square_wards):
    w = read_wards(square_wards.drop(columns=["LAD21NM"]))
    assert w["lad_code"].tolist() == LAD_CODES
    assert w["lad_name"].tolist() == LAD_CODES


def test_no_district_column_warns_and_uses_one_district(square_wards):
    with pytest.warns(BoundaryWarning, match="no district column"):
        w = read_wards(square_wards.drop(columns=["LAD21CD", "LAD21NM"]))
    assert list(w.columns) == CANONICAL
    assert set(w["lad_code"]) == {"(none)"}
    assert w["ward_code"].tolist() == CODES


def test_clean_wards_issue_no_warning(square_wards):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = read_wards(square_wards)
    assert w.schema.repaired == ()


def test_input_geodataframe_not_modified(square_wards):
    before = square_wards.copy()
    read_wards(square_wards)
    pd.testing.assert_frame_equal(pd.DataFrame(square_wards), pd.DataFrame(before))


def test_to_map_crs_and_districts(square_wards):
    w = read_wards(square_wards)
    m = to_map_crs(w)
    assert m.crs.to_epsg() == 4326 and w.crs.to_epsg() == 27700
    d = districts(w)
    assert list(d.columns) == ["lad_code", "lad_name", "geometry"]
    assert d["lad_code"].tolist() == ["E07000201", "E07000202"]
    np.testing.assert_allclose(d.area, [3e6, 3e6])


# --------------------------------------------------------------------------- errors


def test_errors_are_gangmap_errors():
    assert issubclass(BoundaryError, GangmapError) and issubclass(GangmapError, ValueError)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_no_crs_shapefile_then_crs_argument_fixes_it(square_wards, tmp_path):
    path = _write_shp(square_wards.set_crs(None, allow_override=True), tmp_path / "shp")
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert "no CRS" in msg and "crs=27700" in msg
    assert_canonical(read_wards(path, crs=27700))


def test_no_crs_geodataframe(square_wards):
    g = square_wards.set_crs(None, allow_override=True)
    with pytest.raises(BoundaryError, match=r"no CRS.*crs=27700"):
        read_wards(g)
    assert_canonical(read_wards(g, crs="EPSG:27700"))


def test_crs_argument_does_not_override_file_crs(square_wards):
    # crs= is only an assumption for files without one.
    assert_canonical(read_wards(square_wards.to_crs(4326), crs=27700), tol=0.01)


def test_metres_labelled_wgs84(square_wards, tmp_path):
    path = tmp_path / "wrong_crs.geojson"
    square_wards.set_crs(4326, allow_override=True).to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert "metres" in msg and "crs=27700" in msg and "4326" in msg


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_degrees_labelled_bng_rejected(square_wards, tmp_path):
    """Regression: lon/lat degrees read with crs=27700 used to pass as sub-metre wards near the BNG origin."""
    degrees = square_wards.to_crs(4326).set_crs(None, allow_override=True)
    with pytest.raises(BoundaryError, match=r"look like longitude/latitude degrees.*crs=4326"):
        read_wards(degrees, crs=27700)
    path = _write_shp(degrees, tmp_path / "shp")
    with pytest.raises(BoundaryError) as ei:
        read_wards(path, crs=27700)
    assert "degrees" in msg_names(ei, path)
    assert_canonical(read_wards(path, crs=4326), tol=0.01)


def test_wards_outside_great_britain(square_wards):
    # Squares of 1 km in France (EPSG:2154, Lambert 93) labelled correctly: convertible, not GB.
    france = square_wards.copy()
    france.geometry = france.geometry.translate(xoff=652_000 - 480_000, yoff=6_862_000 - 260_000)
    france = france.set_crs(2154, allow_override=True)
    with pytest.raises(BoundaryError, match="outside Great Britain"):
        read_wards(france)


def test_duplicate_codes(square_wards, tmp_path):
    g = square_wards.copy()
    g.loc[4, "WD21CD"] = "E05100002"
    path = tmp_path / "dups.geojson"
    g.to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert "duplicate" in msg and "E05100002" in msg and "dissolve" in msg
    assert "E05100001" not in msg


def test_null_geometry(square_wards, tmp_path):
    g = square_wards.copy()
    g.loc[2, "geometry"] = None
    path = tmp_path / "null.geojson"
    g.to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert "empty geometry" in msg and "E05100003" in msg and "Remove" in msg


def test_empty_geometry(square_wards):
    g = square_wards.copy()
    g.loc[5, "geometry"] = shapely.Polygon()
    with pytest.raises(BoundaryError, match=r"empty geometry.*E05100006"):
        read_wards(g)


@pytest.mark.parametrize("bad", ["Ward 1", "E0510000", "E051000011", "05100003", "LSOA1"])
def test_non_gss_codes(square_wards, tmp_path, bad):
    g = square_wards.copy()
    g.loc[2, "WD21CD"] = bad
    path = tmp_path / "codes.gpkg"
    g.to_file(path)
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert "not GSS" in msg and repr(bad) in msg and "'WD21CD'" in msg and "ward_code=" in msg


def test_non_gss_codes_in_name_column_chosen_by_mistake(square_wards):
    with pytest.raises(BoundaryError, match=r"6 value\(s\) in column 'WD21NM' are not GSS"):
        read_wards(square_wards, ward_code="WD21NM")


def test_blank_code(square_wards, tmp_path):
    g = square_wards.copy()
    g.loc[3, "WD21CD"] = "  "
    path = tmp_path / "blank.gpkg"
    g.to_file(path)
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert "blank ward code in row(s) [4]" in msg


def test_missing_code_column(square_wards, tmp_path):
    g = square_wards.rename(columns={"WD21CD": "CODE"})
    path = tmp_path / "nocode.geojson"
    g.to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert "no ward code column" in msg and "CODE" in msg and "ward_code='YOUR_COLUMN'" in msg


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "wards.geojson"
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert "not found" in msg and "gangmap fetch boundaries" in msg


@pytest.mark.parametrize("name", ["wards.kml", "wards.txt", "wards"])
def test_unsupported_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text("whatever")
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert "unsupported" in msg and ".geojson" in msg and ".gpkg" in msg and ".zip" in msg


def test_csv_passed_as_boundaries(tmp_path):
    path = tmp_path / "reports.csv"
    path.write_text("ward_code,count\nE05100001,3\n")
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert ".geojson" in msg and ".shp" in msg


@pytest.mark.parametrize("name,content", [("wards.geojson", b"ward_code,count\nE05100001,3\n"),
                                          ("wards.geojson.gz", b"not gzip at all"),
                                          ("wards.zip", b"PK not a zip")])
def test_unreadable_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    msg = msg_names(ei, path)
    assert "cannot read" in msg and ".geojson" in msg


def test_no_features(square_wards, tmp_path):
    path = tmp_path / "empty.gpkg"
    square_wards.iloc[:0].to_file(path)
    with pytest.raises(BoundaryError) as ei:
        read_wards(path)
    assert "no wards" in msg_names(ei, path)


@pytest.mark.parametrize("obj", [42, None, pd.DataFrame({"WD21CD": CODES})])
def test_wrong_type(obj):
    with pytest.raises(BoundaryError, match="file path or a GeoDataFrame"):
        read_wards(obj)


# --------------------------------------------------------------------------- repair


def _bowtie(i):
    x0, y0 = 480_000 + 1_000 * (i % 3), 260_000 + 1_000 * (i // 3)
    return shapely.Polygon([(x0, y0), (x0 + 1_000, y0 + 1_000), (x0 + 1_000, y0), (x0, y0 + 1_000)])


def test_bowtie_repaired_and_reported(square_wards, tmp_path):
    g = square_wards.copy()
    g.loc[4, "geometry"] = _bowtie(4)
    assert not g.geometry.iloc[4].is_valid
    path = tmp_path / "bowtie.gpkg"
    g.to_file(path)
    with pytest.warns(BoundaryWarning) as rec:
        w = read_wards(path)
    msgs = [str(r.message) for r in rec if issubclass(r.category, BoundaryWarning)]
    assert len(msgs) == 1 and "repaired 1 invalid ward geometry" in msgs[0]
    assert "E05100005" in msgs[0] and str(path) in msgs[0]
    assert w.schema.repaired == ("E05100005",)
    assert w.geometry.is_valid.all()
    geom = w.geometry.iloc[4]
    assert geom.geom_type in ("Polygon", "MultiPolygon")
    assert geom.area == pytest.approx(500_000)  # the two triangles of the bow-tie
    assert w["ward_code"].tolist() == CODES
    np.testing.assert_allclose(w.frame.area.drop(index=4), np.full(5, 1e6))


def test_repair_keeps_only_polygonal_parts(square_wards):
    """Regression: make_valid's stray lines used to stay in a GeometryCollection."""
    g = square_wards.copy()
    x0, y0 = 480_000, 260_000
    g.loc[0, "geometry"] = shapely.Polygon([  # a square with two zero-width spikes
        (x0, y0), (x0 + 1000, y0), (x0 + 1000, y0 + 1000), (x0 + 1500, y0 + 1000), (x0 + 1000, y0 + 1000),
        (x0, y0 + 1000), (x0, y0 + 500), (x0 - 500, y0 + 500), (x0, y0 + 500)])
    with pytest.warns(BoundaryWarning, match="E05100001"):
        w = read_wards(g)
    assert w.schema.repaired == ("E05100001",)
    assert w.geometry.iloc[0].geom_type == "Polygon"
    assert w.geometry.iloc[0].area == pytest.approx(1e6)


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_real_northamptonshire_wards(shared_data):
    path = shared_data / "boundaries" / "northamptonshire_wards_2013.geojson"
    w = read_wards(path)
    assert len(w) == 146
    assert list(w.columns) == CANONICAL
    assert w.crs.to_epsg() == 27700
    assert columns_used(w) == {"ward_code": "WD13CD", "ward_name": "WD13NM",
                               "lad_code": "LAD13CD", "lad_name": "LAD13NM"}
    assert w["ward_code"].str.match(r"^E05\d{6}$").all()
    assert w["ward_code"].is_unique
    assert sorted(w["lad_code"].unique()) == [f"E0700015{i}" for i in range(7)]
    assert dict(zip(w["lad_code"], w["lad_name"]))["E07000154"] == "Northampton"
    # Northamptonshire lies roughly between 420 and 540 km east, 220 and 320 km north.
    minx, miny, maxx, maxy = w.frame.total_bounds
    assert 420_000 < minx < maxx < 540_000 and 220_000 < miny < maxy < 320_000
    assert w.schema.repaired == ()


@pytest.mark.realdata
def test_real_england_wards_gz(shared_data):
    path = shared_data / "boundaries" / "england_wards_2013.geojson.gz"
    with pytest.warns(BoundaryWarning) as rec:
        w = read_wards(path)
    assert len(w) == 7681
    assert list(w.columns) == CANONICAL
    assert w.crs.to_epsg() == 27700
    assert columns_used(w) == {"ward_code": "WD13CD", "ward_name": "WD13NM", "lad_code": "LAD13CD"}
    assert (w["lad_name"] == w["lad_code"]).all()  # LAD13CD only: names fall back to codes
    assert len(w.schema.repaired) == 1
    assert w.geometry.is_valid.all()
    assert w.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    texts = [str(r.message) for r in rec if issubclass(r.category, BoundaryWarning)]
    assert any(w.schema.repaired[0] in t and "repaired 1 invalid" in t for t in texts)
    assert not any("no district column" in t for t in texts)
    assert w["ward_code"].str.match(r"^E05\d{6}$").all()
    assert re.fullmatch(r"E05\d{6}", w.schema.repaired[0])
