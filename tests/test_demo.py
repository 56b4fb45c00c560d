"""gangmap.demo: the fictional county is deterministic, shipped as generated, and joins cleanly."""

from __future__ import annotations

import json
import tomllib
import warnings

import pandas as pd
import pytest

import gangmap
from gangmap import demo
from gangmap.io.boundaries import read_wards

KEYS = ["campaign", "pack", "pilot_hub", "population", "readme", "referrals", "reports", "schools", "wards"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return demo.generate(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo_join(demo_paths):
    p = demo_paths
    return gangmap.join(p["wards"], reports=p["reports"], referrals=p["referrals"],
                        population=p["population"], schools=p["schools"])


def test_paths(demo_paths):
    assert sorted(demo_paths) == KEYS
    for key, path in demo_paths.items():
        assert path.is_file(), key
        assert path.parent.name == "demo" and path.parent.parent.name == "data"


def test_generate_returns_all_files(generated):
    assert sorted(generated) == KEYS
    assert all(p.is_file() and p.stat().st_size > 0 for p in generated.values())


def test_shipped_files_are_byte_identical_to_generated(demo_paths, generated):
    for key in KEYS:
        assert generated[key].read_bytes() == demo_paths[key].read_bytes(), (
            f"data/demo/{demo_paths[key].name} differs from gangmap.demo.generate(): regenerate it")


def test_generate_is_deterministic(generated, tmp_path):
    again = demo.generate(tmp_path / "again")
    for key in KEYS:
        assert again[key].read_bytes() == generated[key].read_bytes(), key


def test_paths_generates_into_empty_folder(tmp_path):
    p = demo.paths(tmp_path / "fresh")
    assert sorted(p) == KEYS and all(v.is_file() for v in p.values())
    assert p["wards"].parent == tmp_path / "fresh"


def test_60_wards_in_3_districts(demo_paths):
    w = read_wards(demo_paths["wards"]).frame
    assert len(w) == 60
    assert w["ward_code"].is_unique and w["ward_name"].is_unique
    per = w.groupby("lad_name", sort=False).size()
    assert per.to_dict() == {"Castleford": 26, "Wellmere": 16, "Rushby Vale": 18}
    assert w.groupby("lad_code").size().to_dict() == {"E07900001": 26, "E07900002": 16, "E07900003": 18}
    assert read_wards(demo_paths["wards"]).schema.repaired == ()
    assert w.geometry.is_valid.all()


def test_codes_are_in_fictional_range(demo_paths):
    w = read_wards(demo_paths["wards"]).frame
    assert w["ward_code"].str.fullmatch(r"E059\d{5}").all()
    assert w["ward_code"].tolist() == [f"E05{900001 + i}" for i in range(60)]
    assert w["lad_code"].str.fullmatch(r"E079\d{5}").all()
    for key in ("reports", "population", "schools"):
        df = pd.read_csv(demo_paths[key], dtype=str)
        col = "AdministrativeWard (code)" if key == "schools" else "ward_code"
        assert df[col].str.fullmatch(r"E059\d{5}").all(), key


def test_files_say_fictional(demo_paths):
    readme = demo_paths["readme"].read_text()
    assert readme.startswith("# Wyvernshire: FICTIONAL DEMO DATA")
    assert "invented" in readme and "Do not use it for decisions" in readme
    fc = json.loads(demo_paths["wards"].read_text())
    assert "FICTIONAL" in fc["description"] and "fictional" in fc["name"]
    campaign = demo_paths["campaign"].read_text()
    assert campaign.startswith("# FICTIONAL DEMO DATA")
    assert tomllib.loads(campaign)["campaign"]["launch"] == "2018-03"


BNG_REASON = ("BUG: demo._county is centred at (650000, 400000); its east (x up to ~671,650 m, about 2.09 E) is "
              "beyond EPSG:27700's area of use (east bound 2.01 E), where pyproj switches to another "
              "transformation: 27700 -> 4326 -> 27700 moves those points by ~134 m, so the shipped 4326 "
              "wards.geojson read back has wards overlapping by up to 5.7 ha (E05900040/E05900044) and shifted "
              "from the BNG wards the reports/schools were generated on. Keep the county west of ~2.0 E "
              "(e.g. centre x <= ~630,000 m) and regenerate")


def _generated_bng_wards():
    return demo._wards()  # the wards in EPSG:27700 before they are written to the 4326 GeoJSON


def test_demo_is_in_the_north_sea(demo_paths):
    w = read_wards(demo_paths["wards"]).frame
    minx, miny, maxx, maxy = w.total_bounds
    # Off the Lincolnshire coast (east of Skegness, ~556 km E) and north of the Norfolk coast (~345 km N).
    assert minx > 590_000 and miny > 360_000 and maxy < 430_000


def test_demo_within_bng_area_of_use(demo_paths):
    import pyproj
    west, south, east, north = pyproj.CRS(27700).area_of_use.bounds
    lon0, lat0, lon1, lat1 = read_wards(demo_paths["wards"]).frame.to_crs(4326).total_bounds
    assert west <= lon0 and lon1 <= east and south <= lat0 and lat1 <= north, (lon1, east)


def test_demo_wards_survive_the_wgs84_file(demo_paths):
    """The shipped EPSG:4326 wards, read back to 27700, are the BNG wards the data were generated on."""
    shipped = read_wards(demo_paths["wards"]).frame
    bng = _generated_bng_wards()
    assert shipped["ward_code"].tolist() == bng["ward_code"].tolist()
    moved = [a.hausdorff_distance(b) for a, b in zip(shipped.geometry, bng.geometry)]
    assert max(moved) < 1.0, max(moved)


def test_demo_wards_do_not_overlap(demo_paths):
    w = read_wards(demo_paths["wards"]).frame
    # Wards tile the county: the area of their union equals the sum of their areas (to 10 m2 per ward).
    assert w.area.sum() - w.union_all().area < 600


def test_generated_bng_wards_do_not_overlap():
    w = _generated_bng_wards()
    assert len(w) == 60 and w.geometry.is_valid.all()
    assert w.area.sum() - w.union_all().area < 600


@pytest.mark.realdata
def test_demo_overlaps_no_real_ward(demo_paths, shared_data):
    """Regression: the county used to cover ~348 km2 of East Lindsey (Skegness, Mablethorpe, Alford)."""
    w = read_wards(demo_paths["wards"]).frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        england = read_wards(shared_data / "boundaries" / "england_wards_2013.geojson.gz").frame
    hits = england.sindex.query(w.union_all(), predicate="intersects")
    assert len(hits) == 0, england["ward_name"].iloc[hits].tolist()


def test_demo_join_is_clean(demo_join):
    table, report = demo_join
    assert len(table) == 60 and report.wards == 60
    assert list(report.sections) == ["reports", "referrals", "population"]
    for kind, sec in report.sections.items():
        assert sec.unmatched == 0, kind
        assert sec.rejected == 0, kind
        assert sec.outside == 0, kind
        assert sec.filtered == 0, kind
        assert sec.matched == sec.rows_read > 0, kind
        assert sec.balanced
    assert report.sections["referrals"].key == "urn"
    assert table["population"].notna().all()


def test_demo_join_totals_match_the_files(demo_paths, demo_join):
    table, report = demo_join
    reports = pd.read_csv(demo_paths["reports"])
    referrals = pd.read_csv(demo_paths["referrals"])
    population = pd.read_csv(demo_paths["population"])
    schools = pd.read_csv(demo_paths["schools"], dtype={"URN": str})
    assert report.sections["reports"].rows_read == len(reports)
    assert table["reports"].sum() == reports["count"].sum()
    assert table["referrals"].sum() == referrals["referrals"].sum()
    assert table["population"].sum() == population["population"].sum()
    per_ward = reports.groupby("ward_code")["count"].sum()
    frame = table.frame.set_index("ward_code")
    assert frame["reports"].to_dict() == per_ward.reindex(frame.index, fill_value=0).to_dict()
    # Referrals through the schools' AdministrativeWard (code), computed independently.
    ref = referrals.astype({"URN": str}).merge(schools, on="URN")
    per_ward = ref.groupby("AdministrativeWard (code)")["referrals"].sum()
    assert frame["referrals"].to_dict() == per_ward.reindex(frame.index, fill_value=0).to_dict()


def test_demo_schools_lie_in_their_ward(demo_paths):
    """Placing schools by Easting/Northing agrees with their AdministrativeWard (code)."""
    schools = pd.read_csv(demo_paths["schools"], dtype=str)
    by_point = schools.drop(columns=["AdministrativeWard (code)"])
    referrals = pd.DataFrame({"URN": schools["URN"], "referrals": range(1, len(schools) + 1)})
    t1, r1 = gangmap.join(demo_paths["wards"], referrals=referrals, schools=schools)
    t2, r2 = gangmap.join(demo_paths["wards"], referrals=referrals, schools=by_point)
    assert r1.matched == r2.matched == len(schools)
    assert t1["referrals"].tolist() == t2["referrals"].tolist()


def test_demo_categories_and_periods(demo_paths):
    from gangmap import io as intake
    r = intake.read_reports(demo_paths["reports"])
    assert r.categories == sorted(demo.CONCERNS)
    assert r.periods == demo.MONTHS and r.periods[0] == "2017-03" and r.periods[-1] == "2019-02"
    table, rep = gangmap.join(demo_paths["wards"], reports=r, category="drugs concern", period="2018-03")
    sec = rep.sections["reports"]
    assert sec.balanced and sec.matched > 0 and sec.filtered == r.rows_read - sec.matched
    want = pd.read_csv(demo_paths["reports"]).query("category == 'Drugs concern' and period == '2018-03'")
    assert table["reports"].sum() == want["count"].sum()


def test_demo_category_filter_with_referrals(demo_paths):
    """Regression: a category filter used to raise for referrals, which have no category column."""
    p = demo_paths
    table, rep = gangmap.join(p["wards"], reports=p["reports"], referrals=p["referrals"], schools=p["schools"],
                              category="Drugs concern")
    assert rep.sections["reports"].filtered > 0
    assert rep.sections["referrals"].matched == rep.sections["referrals"].rows_read
    assert any("category filter was not applied" in n for n in rep.sections["referrals"].notes)
    want = pd.read_csv(p["reports"]).query("category == 'Drugs concern'")["count"].sum()
    assert table["reports"].sum() == want
    assert table["referrals"].sum() == pd.read_csv(p["referrals"])["referrals"].sum()
