"""gangmap fetch population against a local Nomis replay (tests/nomis_server.py); never the network."""

from __future__ import annotations

import argparse
import json

import geopandas as gpd
import pandas as pd
import pytest
from nomis_server import LSOA_2011, WARDS_2013, NomisServer, estimate, shared_areas
from replay_server import block_network

import gangmap
from gangmap.errors import ConfigError, DownloadError
from gangmap.fetch import add_cli, fetch_population
from gangmap.fetch.client import sidecar_path
from gangmap.fetch.population import c_age_range, parse_ages

pytestmark = pytest.mark.skipif(not (LSOA_2011.is_file() and WARDS_2013.is_file()),
                                reason="needs ../shared/data/boundaries (real 2013 wards, 2011 LSOAs)")
FAST = dict(retries=1, backoff=0.01, timeout=10)
AGES = range(10, 18)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    block_network(monkeypatch)


@pytest.fixture(scope="module")
def lsoa_oracle():
    """LSOA -> 2013 ward by representative point, computed here without gangmap's bridge."""
    lsoas = gpd.read_file(LSOA_2011).to_crs(27700)
    wards = gpd.read_file(WARDS_2013).to_crs(27700)
    pts = gpd.GeoDataFrame({"lsoa": lsoas["LSOA11CD"]}, geometry=lsoas.representative_point(), crs=27700)
    hit = gpd.sjoin(pts, wards[["WD13CD", "geometry"]], predicate="within")
    return dict(zip(hit["lsoa"], hit["WD13CD"])), sorted(wards["WD13CD"])


def lsoa_server(drop=()):
    areas = shared_areas(LSOA_2011, "LSOA11CD", "LSOA11NM")
    for c in drop:
        areas.pop(c)
    return NomisServer(areas)


def test_ages_and_codes():
    assert parse_ages("10-17") == (10, 17) and parse_ages("14") == (14, 14) and parse_ages((0, 90)) == (0, 90)
    assert c_age_range(10, 17) == "111...118" and c_age_range(90, 90) == "191"
    for bad in ("17-10", "ten", "10-95"):
        with pytest.raises(ConfigError, match="--age"):
            parse_ages(bad)


def test_ward_estimates_when_nomis_has_every_ward(tmp_path):
    with NomisServer(shared_areas(WARDS_2013, "WD13CD", "WD13NM")) as srv:
        res = fetch_population(WARDS_2013, tmp_path / "pop.csv", ages="10-17", year=2020,
                               base_url=srv.base_url, **FAST)
        params = srv.requests[0][1]
    assert res.method == "ward" and not res.missing
    out = pd.read_csv(tmp_path / "pop.csv", dtype={"ward_code": str})
    assert list(out.columns) == ["ward_code", "population"]
    expect = {c: sum(estimate(c, a, 2020) for a in AGES) for c in shared_areas(WARDS_2013, "WD13CD", "WD13NM")}
    assert dict(zip(out["ward_code"], out["population"])) == expect
    assert params["c_age"] == "111...118" and params["gender"] == "0" and params["measures"] == "20100"
    assert params["date"] == "2020" and "obs_value" in params["select"]
    side = json.loads(sidecar_path(tmp_path / "pop.csv").read_text())
    assert side["dataset"] == "NM_2010_1" and side["method"] == "ward" and side["ages"] == "10-17"
    assert side["table"].startswith("Population estimates - small area based by single year of age")
    assert side["licence"] == "Open Government Licence v3.0" and side["fetched_utc"]
    assert side["queries"][0].startswith(srv.base_url + "NM_2010_1.data.csv?geography=")


def test_lsoa_estimates_through_the_bridge_match_an_independent_sum(tmp_path, lsoa_oracle):
    to_ward, ward_codes = lsoa_oracle
    dropped = sorted(to_ward)[:3]  # three LSOAs Nomis has no estimate for
    with lsoa_server(drop=dropped) as srv:
        res = fetch_population(WARDS_2013, tmp_path / "pop.csv", ages="10-17", year=2020, lsoa=LSOA_2011,
                               base_url=srv.base_url, **FAST)
    assert res.method == "lsoa"
    expect: dict = {}
    for lsoa, ward in to_ward.items():
        if lsoa not in dropped:
            expect[ward] = expect.get(ward, 0) + sum(estimate(lsoa, a, 2020) for a in AGES)
    out = pd.read_csv(tmp_path / "pop.csv", dtype={"ward_code": str})
    assert dict(zip(out["ward_code"], out["population"])) == expect
    # wards that no LSOA lands in are not written (unknown, never 0) and are listed
    assert res.missing == sorted(set(ward_codes) - set(expect))
    assert (out["population"] > 0).all()
    side = json.loads(sidecar_path(tmp_path / "pop.csv").read_text())
    assert side["missing_areas"] == res.missing and side["lsoas_without_estimate"] == dropped
    b = side["bridge"]
    assert b["method"] == "centroid" and b["lsoas"] == 422 and b["straddling"] > 0
    assert 0 < b["max_share_outside"] <= 1 and "straddling" in res.summary()
    pop = gangmap.io.read_population(tmp_path / "pop.csv")
    assert len(pop.rejected) == 0 and pop.data["count"].sum() == sum(expect.values())


def test_lookup_file_wins_over_geometry(tmp_path, lsoa_oracle):
    to_ward, _ = lsoa_oracle
    lookup = pd.DataFrame({"LSOA11CD": list(to_ward), "WD13CD": list(to_ward.values())})
    first, second = sorted(to_ward)[:2]
    lookup.loc[lookup["LSOA11CD"] == first, "WD13CD"] = to_ward[second]  # a deliberate difference
    lookup.to_csv(tmp_path / "lookup.csv", index=False)
    with lsoa_server() as srv:
        res = fetch_population(WARDS_2013, tmp_path / "pop.csv", year=2020, lookup=tmp_path / "lookup.csv",
                               lsoa=LSOA_2011, base_url=srv.base_url, **FAST)
    moved = dict(to_ward, **{first: to_ward[second]})
    expect: dict = {}
    for lsoa, ward in moved.items():
        expect[ward] = expect.get(ward, 0) + sum(estimate(lsoa, a, 2020) for a in AGES)
    out = pd.read_csv(tmp_path / "pop.csv", dtype={"ward_code": str})
    assert dict(zip(out["ward_code"], out["population"])) == expect
    assert res.meta["bridge"]["method"] == "lookup"


def test_other_vintage_without_lsoa_is_one_clear_error(tmp_path):
    with lsoa_server() as srv:
        with pytest.raises(ConfigError) as exc:
            fetch_population(WARDS_2013, tmp_path / "pop.csv", year=2020, base_url=srv.base_url, **FAST)
    msg = str(exc.value)
    assert "\n" not in msg and "0 of the 146" in msg and "--lsoa" in msg and "--lookup" in msg
    assert not (tmp_path / "pop.csv").exists()


def test_nomis_errors_and_outputs_that_would_replace_an_input(tmp_path):
    with lsoa_server() as srv:
        with pytest.raises(DownloadError, match=r"HTTP 400 from .*NM_2010_1\.data\.csv.*nomisweb"):
            fetch_population(WARDS_2013, tmp_path / "pop.csv", year=1999, base_url=srv.base_url, **FAST)
        srv.fail_statuses = [503, 503]
        with pytest.raises(DownloadError, match="HTTP 503, 2 attempts.*pestsyoaoa"):
            fetch_population(WARDS_2013, tmp_path / "pop.csv", year=2020, lsoa=LSOA_2011,
                             base_url=srv.base_url, **FAST)
    with pytest.raises(ConfigError, match="one of the inputs"):
        fetch_population(WARDS_2013, WARDS_2013, year=2020)


def test_cli_fetch_population(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="gangmap")
    add_cli(parser.add_subparsers(dest="command"))
    with lsoa_server() as srv:
        args = parser.parse_args(["fetch", "population", "--age", "10-17", "--year", "2020", "--wards",
                                  str(WARDS_2013), "--lsoa", str(LSOA_2011), "--out", str(tmp_path / "p.csv"),
                                  "--base-url", srv.base_url, "--retries", "0"])
        assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "from lsoa estimates (NM_2010_1)" in out and "Open Government Licence" in out


def test_area_bridge_gives_every_ward_a_share_and_conserves_the_total(tmp_path, lsoa_oracle):
    to_ward, ward_codes = lsoa_oracle
    with lsoa_server() as srv:
        res = fetch_population(WARDS_2013, tmp_path / "pop.csv", year=2020, lsoa=LSOA_2011, bridge="area",
                               base_url=srv.base_url, **FAST)
    out = pd.read_csv(tmp_path / "pop.csv", dtype={"ward_code": str})
    assert sorted(out["ward_code"]) == ward_codes and not res.missing
    total = sum(estimate(code, a, 2020) for code in shared_areas(LSOA_2011, "LSOA11CD", "LSOA11NM")
                for a in AGES)
    assert out["population"].sum() == total  # shares rounded to whole people, total kept
    assert out["population"].dtype.kind == "i" and "largest remainder" in res.meta["rounding"]
    assert res.meta["bridge"]["method"] == "area" and res.meta["bridge"]["split"] > 0
    with pytest.raises(ConfigError, match="--bridge"):
        fetch_population(WARDS_2013, tmp_path / "p.csv", year=2020, lsoa=LSOA_2011, bridge="nearest")
