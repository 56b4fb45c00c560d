"""The worked example (data/examples/northamptonshire): its README's commands against the replay servers.

The fetch commands are read from the example's README, run in-process against
local replays of the ONS portal, data.police.uk, Nomis and GIAS (built from the
real data in ../shared/data at test time), and the example's pack config is
then built with :func:`gangmap.pack.build_pack`: a Northamptonshire pack with
rates per 1,000 children aged 10-17. No test touches the network.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
from pathlib import Path

import pandas as pd
import pytest
from gias_server import GiasServer
from nomis_server import LSOA_2011, NomisServer, estimate, shared_areas
from ons_server import OnsServer
from police_server import MARCH_2018, PoliceServer
from replay_server import block_network

from gangmap.fetch import add_cli
from gangmap.fetch.client import sidecar_path

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "examples" / "northamptonshire"
WARDS_2013 = LSOA_2011.parent / "northamptonshire_wards_2013.geojson"
pytestmark = pytest.mark.skipif(not (MARCH_2018.is_file() and WARDS_2013.is_file() and LSOA_2011.is_file()),
                                reason="needs ../shared/data (real Northamptonshire boundaries and police CSV)")


def readme_commands() -> list[list[str]]:
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, flags=re.S).group(1)
    return [shlex.split(line) for line in block.splitlines() if line.startswith("gangmap ")]


def ons_features_2018() -> list[dict]:
    """The real 2013 wards, served as the ONS 2018 layer (columns WD18CD..., the seven districts)."""
    data = json.loads(WARDS_2013.read_text(encoding="utf-8"))
    out = []
    for fid, f in enumerate(data["features"], start=1):
        p = f["properties"]
        out.append({"type": "Feature", "id": fid, "geometry": f["geometry"],
                    "properties": {"FID": fid, "WD18CD": p["WD13CD"], "WD18NM": p["WD13NM"], "WD18NMW": " ",
                                   "LAD18CD": p["LAD13CD"], "LAD18NM": p["LAD13NM"]}})
    return out


def test_readme_commands_build_the_northamptonshire_pack(tmp_path, monkeypatch):
    block_network(monkeypatch)
    commands = readme_commands()
    assert [c[:3] for c in commands[:4]] == [["gangmap", "fetch", "boundaries"], ["gangmap", "fetch", "police"],
                                             ["gangmap", "fetch", "population"], ["gangmap", "fetch", "schools"]]
    assert commands[4][:2] == ["gangmap", "pack"]
    # the repository layout the README assumes, in a temporary root
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "data" / "examples" / "northamptonshire" / "pack.toml"
    config.parent.mkdir(parents=True)
    shutil.copy(EXAMPLE / "pack.toml", config)
    private = tmp_path / "data" / "private" / "northamptonshire"
    private.mkdir(parents=True)
    shutil.copy(LSOA_2011, private / "lsoa_2011.geojson")  # the LSOA file the README downloads by hand

    parser = argparse.ArgumentParser(prog="gangmap")
    add_cli(parser.add_subparsers(dest="command"))
    with OnsServer(year=2018, features=ons_features_2018()) as ons, \
            PoliceServer(latest="2019-06") as police, \
            NomisServer(shared_areas(LSOA_2011, "LSOA11CD", "LSOA11NM"), years=[2018]) as nomis, \
            GiasServer(days=["20240105"]) as gias:
        extra = {"boundaries": ["--base-url", ons.base_url],
                 "police": ["--base-url", police.archive_url, "--cache", str(tmp_path / "cache")],
                 "population": ["--base-url", nomis.base_url],
                 "schools": ["--base-url", gias.base_url, "--date", "20240105", "--cache", str(tmp_path / "cache")]}
        for argv in commands[:4]:
            args = parser.parse_args(argv[1:] + extra[argv[2]] + ["--retries", "0"])
            assert args.func(args) == 0
    # every input the pack config names now exists, each with its provenance sidecar
    for name in ("wards_2018_BGC_E07000150-and-6-more-82224d00.geojson", "police_2017-03_2019-02.csv",
                 "population_10-17_2018.csv", "schools.csv"):
        assert (private / name).is_file() and sidecar_path(private / name).is_file(), name
    manifest = json.loads((private / "police" / "manifest.json").read_text())
    assert len(manifest["files"]) == 24 and manifest["missing_periods"] == {"northamptonshire": []}

    from gangmap.pack import build_pack

    out = tmp_path / commands[4][commands[4].index("--out") + 1]
    reports = {}
    assert "--allow-unmatched" in commands[4]  # police.uk files hold rows from over the county border
    files = build_pack(config, out, allow_unmatched=True,
                       on_report=lambda name, rep: reports.setdefault(name, rep))
    assert (out / "index.html") in files and (out / "all_crime.html").is_file()
    # trends over the 24 months: a period slider over 8 quarters, small multiples and the county trend
    assert (out / "over_time.html").is_file() and (out / "over_time.png").is_file() and (out / "trend.png").is_file()
    summary = pd.read_csv(out / "summary.csv")
    assert "reports_rate" in summary.columns and len(summary) == 146
    # the denominator: every 2011 LSOA's children aged 10-17 in mid-2018, recomputed independently
    children = sum(estimate(c, a, 2018) for c in shared_areas(LSOA_2011, "LSOA11CD", "LSOA11NM")
                   for a in range(10, 18))
    pop = pd.read_csv(private / "population_10-17_2018.csv")
    assert pop["population"].sum() == children and len(pop) == 146
    # every police row accounted for: placed in a ward by an independent point-in-polygon count, or outside
    import geopandas as gpd

    rows = pd.read_csv(private / "police_2017-03_2019-02.csv")
    assert set(rows["Month"]) == set(manifest["months"])
    wards = gpd.read_file(WARDS_2013).to_crs(27700)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rows["Longitude"], rows["Latitude"]), crs=4326).to_crs(27700)
    inside = gpd.sjoin(pts, wards[["geometry"]], predicate="intersects").index.unique()
    rep = reports["all categories and periods"].sections["reports"]
    assert rep.rows_read == len(rows) and rep.matched == len(inside)
    assert rep.matched + rep.outside + rep.rejected == len(rows)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "per 1,000 children aged 10" in index and "Open Government Licence" in index
