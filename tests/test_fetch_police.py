"""gangmap fetch police against a local data.police.uk replay (tests/police_server.py); never the network."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import socket

import pytest
from police_server import MARCH_2018, PoliceServer, street_bytes

from gangmap.errors import ConfigError, DownloadError
from gangmap.fetch import add_cli, combine_police, fetch_police, months_between, read_manifest
from gangmap.fetch.client import sidecar_path

pytestmark = pytest.mark.skipif(not MARCH_2018.is_file(),
                                reason="needs ../shared/data/police (the real March 2018 street CSV)")
FAST = dict(retries=2, backoff=0.01, timeout=10)
WARDS_2013 = MARCH_2018.parents[1] / "boundaries" / "northamptonshire_wards_2013.geojson"


@pytest.fixture
def police():
    srv = PoliceServer(latest="2019-06", unpublished={("northamptonshire", "2018-07")}).start()
    try:
        yield srv
    finally:
        srv.stop()


def run(srv, tmp_path, **kw):
    opts = dict(base_url=srv.archive_url, api_url=srv.api_url, cache_dir=tmp_path / "cache", **FAST)
    opts.update(kw)
    return fetch_police("northamptonshire", "2017-03", "2019-02", tmp_path / "police", **opts)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def closed_port() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/data/archive/"


def test_months_between():
    assert len(months_between("2017-03", "2019-02")) == 24
    assert months_between("2018-11", "2019-02") == ["2018-11", "2018-12", "2019-01", "2019-02"]
    with pytest.raises(ConfigError, match="YYYY-MM"):
        months_between("March 2018", "2019-02")
    with pytest.raises(ConfigError, match="after"):
        months_between("2019-02", "2017-03")


def test_archive_months_are_written_byte_for_byte_and_missing_months_stay_missing(police, tmp_path):
    res = run(police, tmp_path)
    # one archive, named by the last month asked for (it holds the 36 months up to it)
    assert police.paths(".zip") == ["/data/archive/2019-02.zip"]
    assert res.missing == [("northamptonshire", "2018-07")]
    assert len(res.files) == 23
    march = tmp_path / "police" / "2018-03" / "2018-03-northamptonshire-street.csv"
    assert march.read_bytes() == MARCH_2018.read_bytes()  # exactly as published
    for (force, month), path in res.files.items():
        assert path.read_bytes() == street_bytes(force, month)
        assert path.relative_to(tmp_path / "police").as_posix() == f"{month}/{month}-{force}-street.csv"
    man = read_manifest(tmp_path / "police")
    assert man["missing_periods"] == {"northamptonshire": ["2018-07"]}
    assert man["missing"][0]["reason"].startswith("no northamptonshire street file for 2018-07 in 2019-02.zip")
    assert man["months"] == months_between("2017-03", "2019-02") and man["as_published"] is True
    by_month = {e["month"]: e for e in man["files"]}
    assert "2018-07" not in by_month  # missing is not a file of 0 rows
    assert by_month["2018-03"]["sha256"] == sha(MARCH_2018.read_bytes())
    assert by_month["2018-03"]["rows"] == 6370  # the README's row count, recounted
    assert man["licence"] == "Open Government Licence v3.0"
    # the archive is cached with its checksum
    cached_zip = tmp_path / "cache" / "police" / "2019-02.zip"
    meta = json.loads(sidecar_path(cached_zip).read_text())
    assert meta["sha256"] == sha(cached_zip.read_bytes()) == sha(police.archive_bytes("2019-02"))
    assert not list((tmp_path / "police").rglob(".*part*"))


def test_rerun_uses_the_files_without_network_and_repairs_a_corrupted_one(police, tmp_path):
    run(police, tmp_path)
    police.stop()
    again = run(police, tmp_path)  # server gone: everything comes from the verified files
    assert again.cached == 23 and again.missing == [("northamptonshire", "2018-07")]
    # corrupt one month: the checksum no longer matches, so it is extracted again from the cached archive
    f = tmp_path / "police" / "2018-03" / "2018-03-northamptonshire-street.csv"
    f.write_bytes(f.read_bytes()[:-100])
    third = run(police, tmp_path)
    assert third.cached == 22 and f.read_bytes() == MARCH_2018.read_bytes()


def test_corrupted_cached_archive_is_downloaded_again(police, tmp_path):
    run(police, tmp_path)
    z = tmp_path / "cache" / "police" / "2019-02.zip"
    z.write_bytes(z.read_bytes()[:1000])
    res = run(police, tmp_path)  # the unpublished month is looked for again: the bad zip is noticed
    assert police.paths(".zip").count("/data/archive/2019-02.zip") == 2
    assert res.cached == 23 and sha(z.read_bytes()) == sha(police.archive_bytes("2019-02"))
    res = run(police, tmp_path, refresh=True)
    assert police.paths(".zip").count("/data/archive/2019-02.zip") == 3
    assert res.cached == 0 and len(res.files) == 23


def test_a_narrower_rerun_removes_the_months_no_longer_asked_for(police, tmp_path):
    run(police, tmp_path)
    mine = tmp_path / "police" / "notes.txt"
    mine.write_text("the analyst's own file")
    res = fetch_police("northamptonshire", "2018-01", "2018-06", tmp_path / "police", base_url=police.archive_url,
                       cache_dir=tmp_path / "cache", **FAST)
    csvs = sorted(p.relative_to(tmp_path / "police").as_posix() for p in (tmp_path / "police").rglob("*.csv"))
    assert csvs == [f"{m}/{m}-northamptonshire-street.csv" for m in months_between("2018-01", "2018-06")]
    assert res.cached == 6 and mine.is_file()  # files gangmap did not write are left alone
    assert sorted(p.name for p in (tmp_path / "police").iterdir() if p.is_dir()) == months_between("2018-01", "2018-06")


def test_ranges_longer_than_one_archive_use_two(police, tmp_path):
    res = fetch_police(["northamptonshire"], "2015-01", "2019-02", tmp_path / "p", base_url=police.archive_url,
                       cache_dir=tmp_path / "c", **FAST)
    assert police.paths(".zip") == ["/data/archive/2019-02.zip", "/data/archive/2016-02.zip"]
    assert len(res.files) + len(res.missing) == len(months_between("2015-01", "2019-02"))
    assert res.missing == [("northamptonshire", "2018-07")]


def test_broken_transfer_is_retried_and_leaves_no_partial_file(police, tmp_path, monkeypatch):
    police.truncate = 5000  # the first archive download breaks off
    res = run(police, tmp_path)
    assert police.paths(".zip").count("/data/archive/2019-02.zip") == 2 and len(res.files) == 23
    assert not list((tmp_path / "cache").rglob(".*part*"))


def test_server_errors_then_offline_give_one_line_naming_the_manual_page(police, tmp_path):
    police.fail_statuses = [502, 503, 500]
    with pytest.raises(DownloadError) as exc:
        run(police, tmp_path, retries=2)
    msg = str(exc.value)
    assert "\n" not in msg and "HTTP 500" in msg and "3 attempts" in msg
    assert "https://data.police.uk/data/" in msg
    assert not (tmp_path / "police").exists() or not list((tmp_path / "police").rglob("*.csv"))
    with pytest.raises(DownloadError, match=r"^cannot reach 127\.0\.0\.1.*https://data\.police\.uk/data/"):
        run(police, tmp_path, base_url=closed_port(), retries=0)


def test_unknown_archive_and_unknown_force(police, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404.*no archive 2031-01.zip.*data/archive"):
        fetch_police("northamptonshire", "2030-01", "2031-01", tmp_path / "p", base_url=police.archive_url,
                     cache_dir=tmp_path / "c", **FAST)
    with pytest.raises(ConfigError, match="no street files for force northants.*northamptonshire"):
        fetch_police("northants", "2018-01", "2018-03", tmp_path / "p", base_url=police.archive_url,
                     cache_dir=tmp_path / "c", **FAST)
    with pytest.raises(ConfigError, match="data.police.uk ids"):
        fetch_police("Northamptonshire Police", "2018-01", "2018-03", tmp_path / "p", base_url=closed_port())


def test_local_archive_and_latest(police, tmp_path):
    z = tmp_path / "2019-06.zip"
    z.write_bytes(police.archive_bytes("2019-06"))
    res = fetch_police("northamptonshire", "2016-05", "2016-08", tmp_path / "p", archive=z,
                       cache_dir=tmp_path / "c", **FAST)
    assert police.requests == []  # a local archive needs no network
    assert [m for _, m in res.missing] == ["2016-05", "2016-06"]  # outside the archive's 36 months
    assert "is not in 2019-06.zip" in read_manifest(res.out_dir)["missing"][0]["reason"]
    res = fetch_police("northamptonshire", "2019-05", "2019-06", tmp_path / "q", archive="latest",
                       base_url=police.archive_url, cache_dir=tmp_path / "c", **FAST)
    assert police.paths(".zip") == ["/data/archive/latest.zip"] and len(res.files) == 2


def test_combined_file_keeps_rows_and_records_missing_months(police, tmp_path):
    res = run(police, tmp_path)
    out = combine_police(res.out_dir, tmp_path / "police_all.csv")
    data = out.read_bytes()
    header = MARCH_2018.read_bytes().split(b"\r\n", 1)[0]
    assert data.startswith(header + b"\r\n") and data.count(header) == 1
    body = b"".join(p.read_bytes().split(b"\r\n", 1)[1] for _, p in sorted(res.files.items(),
                                                                           key=lambda kv: kv[0][1]))
    assert data == header + b"\r\n" + body
    side = json.loads(sidecar_path(out).read_text())
    assert side["missing_periods"] == {"northamptonshire": ["2018-07"]} and len(side["months"]) == 23
    with pytest.raises(ConfigError, match="one of the monthly files"):
        combine_police(res.out_dir, res.files[("northamptonshire", "2018-03")])


@pytest.mark.skipif(not WARDS_2013.is_file(), reason="needs ../shared/data/boundaries")
def test_api_splits_busy_areas_and_keeps_only_crimes_inside(tmp_path):
    import geopandas as gpd
    import shapely

    with PoliceServer(latest="2019-06", api_limit=400, api_months=["2018-02", "2018-03"]) as srv:
        res = fetch_police("northamptonshire", "2018-01", "2018-03", tmp_path / "api", source="api",
                           api_url=srv.api_url, area=WARDS_2013, **FAST)
        polys = srv.paths("/crimes-street/")
    assert res.missing == [("northamptonshire", "2018-01")]  # not in crimes-street-dates
    assert len(polys) > 2  # 503 above the limit: the area was split into quarters
    rows = list(csv.DictReader(open(res.files[("northamptonshire", "2018-03")], encoding="utf-8")))
    assert list(rows[0].keys()) == ["Crime ID", "Month", "Reported by", "Falls within", "Longitude",
                                    "Latitude", "Location", "LSOA code", "LSOA name", "Crime type",
                                    "Last outcome category", "Context"]
    # independent oracle: the real rows with coordinates inside the county outline
    county = gpd.read_file(WARDS_2013).union_all()
    real = list(csv.DictReader(open(MARCH_2018, encoding="utf-8")))
    inside = [r for r in real if r["Longitude"] and county.intersects(
        shapely.Point(float(r["Longitude"]), float(r["Latitude"])))]
    assert len(rows) == len(inside)
    assert sorted((r["Crime type"], r["Longitude"], r["Latitude"]) for r in rows) == \
        sorted((r["Crime type"], r["Longitude"], r["Latitude"]) for r in inside)
    assert read_manifest(res.out_dir)["as_published"] is False
    with pytest.raises(ConfigError, match="--area"):
        fetch_police("northamptonshire", "2018-03", "2018-03", tmp_path / "x", source="api")
    with PoliceServer() as srv, pytest.raises(ConfigError, match="forces has no force northants; ids there: "
                                                                 "leicestershire, northamptonshire"):
        fetch_police("northants", "2018-03", "2018-03", tmp_path / "x", source="api", api_url=srv.api_url,
                     area=WARDS_2013, **FAST)


def cli(argv):
    parser = argparse.ArgumentParser(prog="gangmap")
    add_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_fetch_police(police, tmp_path, capsys):
    argv = ["fetch", "police", "--force", "northamptonshire", "--from", "2017-03", "--to", "2019-02",
            "--out", str(tmp_path / "p"), "--base-url", police.archive_url, "--cache", str(tmp_path / "c"),
            "--retries", "0", "--combined", str(tmp_path / "all.csv")]
    assert cli(argv) == 0
    out = capsys.readouterr().out
    assert "northamptonshire: 23 month(s)" in out and "2018-07" in out and "not 0" in out
    assert "Open Government Licence" in out and (tmp_path / "all.csv").is_file()
