"""gangmap.fetch against a local ArcGIS-like server (tests/ons_server.py); never the network."""

from __future__ import annotations

import argparse
import json
import socket
from datetime import UTC, datetime

import pytest
import requests
from ons_server import NORTH, WEST, OnsServer, build_features

import gangmap
from gangmap.errors import ConfigError, DownloadError, GangmapError
from gangmap.fetch import boundaries as fetch

LADS = ["E06000061", "E06000062"]
FAST = dict(retries=2, backoff=0.01, timeout=5)


@pytest.fixture
def ons_server():
    """The fake ONS service (maxRecordCount 50), stopped after the test."""
    srv = OnsServer(year=2024, max_record_count=50).start()
    try:
        yield srv
    finally:
        srv.stop()


def expected_count(srv, lads=LADS) -> int:
    return sum(f["properties"]["LAD24CD"] in lads for f in srv.features)


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused at once)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/arcgis/rest/services"


def one_line(exc) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


# --------------------------------------------------------------------- naming

def test_service_name_and_url_pattern():
    assert fetch.service_name(2024, "BGC") == "Wards_December_2024_Boundaries_UK_BGC"
    assert fetch.service_name(2023, "bfc") == "Wards_December_2023_Boundaries_UK_BFC"
    assert fetch.layer_url(2022, "BSC", "http://x/rest/services/") == \
        "http://x/rest/services/Wards_December_2022_Boundaries_UK_BSC/FeatureServer/0"
    assert fetch.output_path(["E06000062", "e06000061"], 2024, "BGC", "d").name == \
        "wards_2024_BGC_E06000061-E06000062.geojson"
    many = fetch.output_path([f"E0700015{i}" for i in range(7)], 2020, "BGC", "d").name
    assert many.startswith("wards_2020_BGC_E07000150-and-6-more-") and len(many) < 80
    with pytest.raises(ConfigError, match="BUC"):
        fetch.service_name(2024, "BUC")
    with pytest.raises(ConfigError, match="district GSS codes"):
        fetch.normalise_lad_codes(["E06000061'); DROP TABLE x; --"])


# --------------------------------------------------------------------- download

def test_fetch_pages_through_every_feature_and_writes_sidecar(ons_server, tmp_path):
    path = fetch.fetch_wards(LADS, year=2024, out_dir=tmp_path, base_url=ons_server.base_url, **FAST)
    assert path == tmp_path / "wards_2024_BGC_E06000061-E06000062.geojson"
    n = expected_count(ons_server)
    assert n > 100  # several pages of 50

    data = json.loads(path.read_text())
    assert len(data["features"]) == n
    assert len({f["properties"]["WD24CD"] for f in data["features"]}) == n
    assert {f["properties"]["LAD24CD"] for f in data["features"]} == set(LADS)

    pages = ons_server.queries("page")
    assert len(pages) == -(-n // 50)
    assert [int(p["resultOffset"]) for p in pages] == [0, 50, 100][: len(pages)]
    assert all(p["resultRecordCount"] == "50" and p["outSR"] == "4326" and p["f"] == "geojson"
               and p["outFields"] == "*" for p in pages)
    assert pages[0]["where"] == "LAD24CD IN ('E06000061','E06000062')"
    assert len(ons_server.queries("count")) == 1 and len(ons_server.queries("meta")) == 1

    side = json.loads(fetch.sidecar_path(path).read_text())
    assert side["feature_count"] == n and side["server_count"] == n
    assert side["service"] == "Wards_December_2024_Boundaries_UK_BGC"
    assert side["source_url"].startswith(ons_server.base_url + "/Wards_December_2024_Boundaries_UK_BGC/"
                                         "FeatureServer/0/query?")
    assert side["query"]["where"] == "LAD24CD IN ('E06000061','E06000062')"
    assert side["query"]["outSR"] == "4326" and side["query"]["f"] == "geojson"
    assert side["attribution"] == ("Source: Office for National Statistics licensed under the Open "
                                   "Government Licence v3.0. Contains OS data © Crown copyright and "
                                   "database right 2024")
    assert side["licence"] == "Open Government Licence v3.0"
    fetched = datetime.fromisoformat(side["fetched_utc"])
    assert fetched.tzinfo is not None and abs((datetime.now(UTC) - fetched).total_seconds()) < 600
    assert side["columns"]["ward_code"] == "WD24CD"
    assert fetch.read_source(path)["sha256"] == side["sha256"]

    wards = gangmap.read_wards(path)
    assert len(wards) == n and wards.crs.to_epsg() == 27700
    assert set(wards["lad_code"]) == set(LADS)
    assert not list(tmp_path.glob(".*part*"))  # no temporary files left


@pytest.mark.parametrize("limit_flag,truncate", [("properties", None), ("top", 37)])
def test_exceeded_transfer_limit_in_properties_and_short_pages(tmp_path, limit_flag, truncate):
    with OnsServer(max_record_count=50, limit_flag=limit_flag, truncate_to=truncate) as srv:
        path = fetch.fetch_wards(["E06000061"], out_dir=tmp_path, base_url=srv.base_url, **FAST)
        n = expected_count(srv, ["E06000061"])
        offsets = [int(p["resultOffset"]) for p in srv.queries("page")]
    step = truncate or 50
    assert offsets == list(range(0, n, step))  # short pages: the offset follows what was received
    feats = json.loads(path.read_text())["features"]
    assert len(feats) == n and {f["properties"]["LAD24CD"] for f in feats} == {NORTH[0]}


def test_without_count_support_the_download_still_works(tmp_path):
    with OnsServer(supports_count=False) as srv:
        path = fetch.fetch_wards(["E06000062"], out_dir=tmp_path, base_url=srv.base_url, **FAST)
        n = expected_count(srv, [WEST[0]])
    side = fetch.read_source(path)
    assert side["server_count"] is None and side["feature_count"] == n


def test_cache_is_used_without_network(tmp_path):
    srv = OnsServer().start()
    base = srv.base_url
    try:
        first = fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=base, **FAST)
    finally:
        srv.stop()  # the server is gone: any request would now be refused
    stamp = first.stat().st_mtime_ns

    class NoNetwork(requests.Session):
        def get(self, *a, **k):  # pragma: no cover - failing here is the test failing
            raise AssertionError("the cache should not touch the network")

    second = fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=base, **FAST)
    assert second == first and second.stat().st_mtime_ns == stamp
    assert fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=base, session=NoNetwork(), **FAST) == first
    # A different query (other districts) is not served from this cache, and fails offline.
    with pytest.raises(DownloadError, match="cannot reach"):
        fetch.fetch_wards(["E06000061"], out_dir=tmp_path, base_url=base, **FAST)
    # refresh=True goes to the network again.
    with pytest.raises(DownloadError, match="cannot reach"):
        fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=base, refresh=True, **FAST)
    assert first.exists()  # a failed refresh leaves the cached copy alone


def test_tampered_cache_is_downloaded_again(ons_server, tmp_path):
    path = fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=ons_server.base_url, **FAST)
    path.write_text(path.read_text()[:-10])  # truncated file: checksum no longer matches
    before = len(ons_server.requests)
    fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=ons_server.base_url, **FAST)
    assert len(ons_server.requests) > before
    assert len(json.loads(path.read_text())["features"]) == expected_count(ons_server)


# --------------------------------------------------------------------- failures

def test_server_errors_are_retried(ons_server, tmp_path, monkeypatch):
    sleeps = []
    monkeypatch.setattr(fetch.time, "sleep", lambda s: sleeps.append(s))
    ons_server.fail_statuses = [500, 503]  # the first two query requests fail
    path = fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=ons_server.base_url, retries=3,
                             backoff=0.5, timeout=5)
    assert path.exists()
    counts = ons_server.queries("count")
    assert len(counts) == 3  # 500, 503, then the answer
    assert sleeps[:2] == [0.5, 1.0]  # exponential backoff
    assert fetch.read_source(path)["requests"] == len(ons_server.requests)


def test_429_is_retried_and_too_many_failures_give_one_line(ons_server, tmp_path, monkeypatch):
    monkeypatch.setattr(fetch.time, "sleep", lambda s: None)
    ons_server.fail_statuses = [429, 500, 500]
    with pytest.raises(DownloadError) as exc:
        fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=ons_server.base_url, retries=2, timeout=5)
    msg = one_line(exc)
    assert "HTTP 500" in msg and "3 attempts" in msg and "geoportal.statistics.gov.uk" in msg
    assert not list(tmp_path.iterdir())


def test_client_errors_are_not_retried(ons_server, tmp_path):
    ons_server.fail_statuses = [403, 403, 403]
    with pytest.raises(DownloadError, match="HTTP 403") as exc:
        fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=ons_server.base_url, **FAST)
    one_line(exc)
    assert len(ons_server.queries("count")) == 1


def test_arcgis_error_page_with_http_200_is_reported(ons_server, tmp_path):
    ons_server.error_body = {"error": {"code": 400, "message": "Unable to complete operation.",
                                       "details": ["'Invalid field: LAD24CD' parameter is invalid"]}}
    with pytest.raises(DownloadError) as exc:
        fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=ons_server.base_url, **FAST)
    msg = one_line(exc)
    assert "error 400" in msg and "Unable to complete operation" in msg and "Invalid field" in msg
    assert len(ons_server.queries("page")) == 1  # the count was skipped, the page query failed once


def test_wrong_service_name_names_the_fix(ons_server, tmp_path):
    with pytest.raises(DownloadError) as exc:
        fetch.fetch_wards(LADS, year=2023, out_dir=tmp_path, base_url=ons_server.base_url, **FAST)
    msg = one_line(exc)
    assert "Invalid URL" in msg and "--service-url" in msg
    # service_url= overrides the pattern (here pointing the 2023 request at the 2024 layer is wrong,
    # so use the right year's layer under another name).
    url = f"{ons_server.base_url}/Wards_December_2024_Boundaries_UK_BGC_V2/FeatureServer/0"
    path = fetch.fetch_wards(["E06000061"], year=2024, out_dir=tmp_path, service_url=url, **FAST)
    assert fetch.read_source(path)["service"] == "Wards_December_2024_Boundaries_UK_BGC_V2"


def test_unknown_districts_give_no_wards_error(ons_server, tmp_path):
    with pytest.raises(DownloadError, match="no wards found") as exc:
        fetch.fetch_wards(["E07000154"], out_dir=tmp_path, base_url=ons_server.base_url, **FAST)
    assert "E06000061" in one_line(exc)


def test_timeout_is_one_clear_line(ons_server, tmp_path):
    ons_server.slow = 1.0
    with pytest.raises(DownloadError) as exc:
        fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=ons_server.base_url, timeout=0.2,
                          retries=1, backoff=0.01)
    msg = one_line(exc)
    assert "did not answer within 0.2 s" in msg and "2 attempts" in msg
    assert "https://geoportal.statistics.gov.uk/" in msg and '"Wards December 2024 Boundaries"' in msg


def test_unreachable_network_is_one_clear_line(tmp_path):
    with pytest.raises(DownloadError) as exc:
        fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=closed_port_url(), retries=1, backoff=0.01,
                          timeout=2)
    msg = one_line(exc)
    assert msg.startswith("cannot reach 127.0.0.1:") and "unreachable" in msg
    assert "https://geoportal.statistics.gov.uk/" in msg and '"Wards December 2024 Boundaries"' in msg
    assert isinstance(exc.value, GangmapError)


def test_result_rejected_by_read_wards_is_not_cached(tmp_path):
    feats = build_features(2024, use_shared=False)
    for f in feats:
        f["properties"]["WD24CD"] = "not-a-code"
    with OnsServer(features=feats) as srv:
        with pytest.raises(DownloadError, match="cannot be used.*not GSS") as exc:
            fetch.fetch_wards(LADS, out_dir=tmp_path, base_url=srv.base_url, **FAST)
    one_line(exc)
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------- CLI

def cli(argv):
    parser = argparse.ArgumentParser(prog="gangmap")
    gangmap.fetch.add_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_boundaries_fetch(ons_server, tmp_path, capsys):
    out = tmp_path / "b"
    argv = ["fetch", "boundaries", "--lad", "E06000061", "E06000062", "--year", "2024",
            "--resolution", "bgc", "--out", str(out), "--base-url", ons_server.base_url, "--retries", "0"]
    assert cli(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    path = out / "wards_2024_BGC_E06000061-E06000062.geojson"
    assert lines[0] == str(path) and path.exists()
    assert "Open Government Licence" in lines[1]
    assert cli(argv) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"cached: {path}"


def test_cli_help_and_errors(capsys):
    with pytest.raises(SystemExit):
        cli(["fetch", "boundaries", "--help"])
    text = capsys.readouterr().out
    for opt in ("--lad", "--year", "--resolution", "--out", "--base-url", "--service-url", "--refresh",
                "BGC", "BSC", "BFC", "geoportal.statistics.gov.uk"):
        assert opt in text
    assert cli(["fetch"]) == 1  # no action: prints help
    with pytest.raises(ConfigError, match="district GSS codes"):
        cli(["fetch", "boundaries", "--lad", "Northampton", "--base-url", closed_port_url()])
    with pytest.raises(DownloadError, match="cannot reach"):
        cli(["fetch", "boundaries", "--lad", "E06000061,E06000062", "--retries", "0",
             "--base-url", closed_port_url(), "--out", "/nonexistent-never-written"])
