"""The gangmap command: acceptance on real data, and one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from gangmap.cli import main

EXE = str(Path(sys.executable).with_name("gangmap"))


def run(*args):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True)


@pytest.mark.realdata
def test_join_real_northamptonshire_accounts_for_every_row(shared_data, tmp_path):
    wards = shared_data / "boundaries" / "northamptonshire_wards_2013.geojson"
    police = shared_data / "police" / "2018-03-northamptonshire-street.csv"
    out = tmp_path / "wards.csv"
    r = run("join", "--wards", wards, "--reports", police, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "146 wards" in r.stdout
    assert "6,370 rows read" in r.stdout
    nums = {line.split()[0]: int(line.split()[1].replace(",", "")) for line in r.stdout.splitlines()
            if line.strip().split(" ")[0] in ("matched", "unmatched", "outside", "rejected")}
    assert nums["matched"] + nums["unmatched"] + nums["outside"] + nums["rejected"] == 6370
    assert 25 <= nums["outside"] <= 45 and nums["unmatched"] == 0 and nums["rejected"] == 0
    table = pd.read_csv(out, dtype=str)
    assert len(table) == 146
    # Safe values only: counts are 0, the marker, or multiples of 5.
    assert table["reports"].map(lambda v: v == "0" or v == "*" or int(v) % 5 == 0).all()
    assert "Crime ID" not in table.columns and "Longitude" not in table.columns


@pytest.mark.realdata
def test_map_real_data(shared_data, tmp_path):
    out = tmp_path / "m.html"
    r = run("map", "--wards", shared_data / "boundaries" / "northamptonshire_wards_2013.geojson",
            "--reports", shared_data / "police" / "2018-03-northamptonshire-street.csv",
            "--category", "Drugs", "--out", out)
    assert r.returncode == 0, r.stderr
    assert out.exists() and "opens offline" in r.stdout
    assert "filtered" in r.stdout


def test_demo_command(tmp_path):
    r = run("demo", "--out", tmp_path / "d")
    assert r.returncode == 0, r.stderr
    assert "index.html" in r.stdout and "overview.html" in r.stdout
    for name in ("index.html", "overview.html", "weapons_hotspots.html", "overview.png", "summary.csv"):
        assert (tmp_path / "d" / name).exists(), name


@pytest.fixture
def demo_files():
    import gangmap

    return gangmap.demo.paths()


def _bad_inputs(tmp_path, demo_files):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    binary = tmp_path / "picture.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("foo,bar\n1,2\n")
    semi = tmp_path / "semi.csv"
    semi.write_text("ward_code;count\nE05900001;3\n")
    wrong_crs = tmp_path / "wrong_crs.geojson"
    import geopandas as gpd

    w = gpd.read_file(demo_files["wards"]).to_crs(27700).set_crs(4326, allow_override=True)
    w.to_file(wrong_crs)
    return {
        "empty": (["--reports", empty], "empty.csv", "empty"),
        "binary": (["--reports", binary], "picture.csv", "not a CSV"),
        "missing columns": (["--reports", nocols], "nocols.csv", "no ward code"),
        "semicolons": (["--reports", semi], "semi.csv", "delimiter"),
        "missing file": (["--reports", tmp_path / "nope.csv"], "nope.csv", "not found"),
        "wrong crs": (["--reports", demo_files["reports"], "--wards", wrong_crs], "wrong_crs.geojson", "CRS"),
    }


@pytest.mark.parametrize("case", ["empty", "binary", "missing columns", "semicolons", "missing file", "wrong crs"])
def test_bad_input_gives_one_line_error(case, tmp_path, demo_files):
    args, fname, words = _bad_inputs(tmp_path, demo_files)[case]
    if "--wards" not in args:
        args = ["--wards", demo_files["wards"], *args]
    r = run("join", *args)
    assert r.returncode == 2
    err = r.stderr.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert fname in err and words.lower() in err.lower(), err


def test_rate_without_population_is_a_clear_error(capsys, demo_files, tmp_path):
    code = main(["map", "--wards", str(demo_files["wards"]), "--reports", str(demo_files["reports"]),
                 "--measure", "rate", "--out", str(tmp_path / "x.html")])
    assert code == 2
    assert "--population" in capsys.readouterr().err


def test_policy_none_needs_allow_unsafe(capsys, demo_files, tmp_path):
    args = ["join", "--wards", str(demo_files["wards"]), "--reports", str(demo_files["reports"]),
            "--out", str(tmp_path / "x.csv"), "--policy", "none"]
    assert main(args) == 2
    assert "allow" in capsys.readouterr().err.lower()
    assert main(args + ["--allow-unsafe"]) == 0
    assert "UNSUPPRESSED" in (tmp_path / "x.csv").read_text()
