"""gangmap fetch schools against a local GIAS replay (tests/gias_server.py); never the network."""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta

import pandas as pd
import pytest
from gias_server import WARDS_2013, GiasServer, extract_bytes
from replay_server import block_network

import gangmap
from gangmap.errors import ConfigError, DownloadError
from gangmap.fetch import add_cli, fetch_schools
from gangmap.fetch.client import sidecar_path
from gangmap.fetch.schools import OUTPUT_COLUMNS, decode_extract

pytestmark = pytest.mark.skipif(not WARDS_2013.is_file(), reason="needs ../shared/data/boundaries")
FAST = dict(retries=1, backoff=0.01, timeout=10)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    block_network(monkeypatch)


@pytest.fixture(scope="module")
def gias():
    srv = GiasServer(days=["20240105"]).start()
    yield srv
    srv.stop()


def expected(rows, las, statuses=("Open", "Open, but proposed to close")):
    return sorted(r["URN"] for r in rows if r["LA (code)"] in las and r["EstablishmentStatus (name)"] in statuses)


def test_open_schools_of_the_las_with_gias_columns(gias, tmp_path):
    res = fetch_schools(["928", "940", "941"], tmp_path / "schools.csv", day="20240105", base_url=gias.base_url,
                        cache_dir=tmp_path / "c", **FAST)
    out = pd.read_csv(tmp_path / "schools.csv", dtype=str, keep_default_na=False)
    assert list(out.columns) == OUTPUT_COLUMNS
    assert sorted(out["URN"]) == expected(gias.rows, {"928", "940", "941"})
    assert res.by_la == {"928": 0, "940": (out["LA (code)"] == "940").sum(), "941": (out["LA (code)"] == "941").sum()}
    # cp1252 in, UTF-8 out, characters intact
    names = out["EstablishmentName"]
    assert names.str.contains("St Mary’s").any() and names.str.contains("Café").any()
    side = json.loads(sidecar_path(tmp_path / "schools.csv").read_text())
    assert side["source_encoding"] == "cp1252" and side["licence"] == "Open Government Licence v3.0"
    assert side["source_url"].endswith("/edubasealldata20240105.csv") and side["empty_las"] == ["928"]
    # the schools reader takes it as it is, and every school lands in a 2013 ward by its coordinates
    sch = gangmap.io.read_schools(tmp_path / "schools.csv")
    assert len(sch.rejected) == 0 and len(sch.data) == len(out)
    wards = gangmap.read_wards(WARDS_2013)
    from gangmap.joining import place
    refs = gangmap.io.read_referrals(pd.DataFrame({"URN": out["URN"], "referrals": 1}))
    placed, rep = place(refs, wards, schools=sch)
    assert rep.matched == len(out)


def test_latest_day_is_found_by_going_back_and_the_extract_is_cached(tmp_path):
    day = (date.today() - timedelta(days=2)).strftime("%Y%m%d")
    with GiasServer(days=[day]) as srv:
        res = fetch_schools("940,941", tmp_path / "s.csv", base_url=srv.base_url, cache_dir=tmp_path / "c", **FAST)
        assert [p.rsplit("data", 1)[1] for p in srv.paths(".csv")] == [
            (date.today() - timedelta(days=k)).strftime("%Y%m%d") + ".csv" for k in range(3)]
        assert res.extract.endswith(f"edubasealldata{day}.csv")
        n = len(srv.requests)
        fetch_schools(["940"], tmp_path / "s2.csv", day=day, base_url=srv.base_url, cache_dir=tmp_path / "c", **FAST)
        assert len(srv.requests) == n  # the cached extract, checksum verified
        cached = tmp_path / "c" / "gias" / f"edubasealldata{day}.csv"
        cached.write_bytes(cached.read_bytes()[:-50])  # damaged: downloaded again
        fetch_schools(["940"], tmp_path / "s2.csv", day=day, base_url=srv.base_url, cache_dir=tmp_path / "c", **FAST)
        assert len(srv.requests) == n + 1 and cached.read_bytes() == srv.body
    with GiasServer(days=[]) as srv:
        with pytest.raises(DownloadError, match="no GIAS extract found.*--date.*get-information-schools"):
            fetch_schools(["940"], tmp_path / "s.csv", base_url=srv.base_url, cache_dir=tmp_path / "d",
                          days_back=1, **FAST)
        with pytest.raises(DownloadError, match="HTTP 404.*no extract for 20200101"):
            fetch_schools(["940"], tmp_path / "s.csv", day="20200101", base_url=srv.base_url,
                          cache_dir=tmp_path / "d", **FAST)


def test_local_extract_phases_closed_and_bad_codes(gias, tmp_path):
    ext = tmp_path / "edubasealldata.csv"
    ext.write_bytes(gias.body)
    res = fetch_schools(["928"], tmp_path / "s.csv", extract=ext, include_closed=True)
    assert res.schools == len([r for r in gias.rows if r["LA (code)"] == "928"]) > 0
    sec = fetch_schools(["940", "941"], tmp_path / "sec.csv", extract=ext, phases=["secondary"])
    assert set(pd.read_csv(sec.path)["PhaseOfEducation (name)"]) == {"Secondary"}
    with pytest.raises(DownloadError, match="no open establishments with LA .code. 928"):
        fetch_schools(["928"], tmp_path / "s.csv", extract=ext)
    with pytest.raises(ConfigError, match="three-digit"):
        fetch_schools(["Northamptonshire"], tmp_path / "s.csv", extract=ext)
    with pytest.raises(ConfigError, match="one of the inputs"):
        fetch_schools(["940"], ext, extract=ext)
    bad = tmp_path / "notgias.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(DownloadError, match="not a GIAS establishment extract.*URN"):
        fetch_schools(["940"], tmp_path / "s.csv", extract=bad)


def test_decode_extract():
    rows = [{"URN": "1", "EstablishmentName": "Café ’"}]
    data = extract_bytes([dict(dict.fromkeys(__import__("gias_server").COLUMNS, ""), **r) for r in rows])
    text, enc = decode_extract(data, "x")
    assert enc == "cp1252" and "Café ’" in text
    assert decode_extract("Café".encode(), "x") == ("Café", "utf-8")
    assert decode_extract(b"\xef\xbb\xbfCaf\xc3\xa9", "x") == ("Café", "utf-8-sig")


def test_cli_fetch_schools(gias, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="gangmap")
    add_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["fetch", "schools", "--la", "928", "940", "941", "--out", str(tmp_path / "s.csv"),
                              "--date", "20240105", "--base-url", gias.base_url, "--cache", str(tmp_path / "c")])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "LA 928: 0" in out and "Open Government Licence" in out
