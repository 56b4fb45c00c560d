"""gangmap.pack.config: one-line errors for every bad config, names that stay inside the output folder."""

from __future__ import annotations

import re

import pytest

from gangmap.errors import ConfigError
from gangmap.pack.config import RESERVED_FILES, MapSpec, load_config

BASE = """title = "T"
[inputs]
wards = "wards.geojson"
reports = "reports.csv"
"""
MAP = """
[[maps]]
file = "overview"
layers = ["reports"]
"""


@pytest.fixture
def folder(tmp_path):
    for name in ("wards.geojson", "reports.csv", "campaign.toml"):
        (tmp_path / name).write_text("x")
    return tmp_path


def _load(folder, text):
    p = folder / "pack.toml"
    p.write_text(text, encoding="utf-8")
    return load_config(p)


def test_demo_config_reads(demo_paths):
    cfg = load_config(demo_paths["pack"])
    assert [m.file for m in cfg.maps] == ["overview", "hubs", "weapons_hotspots", "over_time", "emerging_hotspots"]
    assert cfg.maps[3].timed and cfg.maps[3].freq == "Q" and cfg.labels["population"] == "children aged 10–17"
    assert cfg.maps[2].category == ("Weapons concern",) and cfg.planning.recommend == 6
    assert cfg.inputs["areas"].name == "wards.geojson" and cfg.inputs["areas"].is_absolute()


@pytest.mark.parametrize("file", ['"../../x"', '"/abs/x"', '""', '"a/b"', '".hidden"'])
def test_map_files_stay_inside_the_output_folder(folder, file):
    with pytest.raises(ConfigError, match="entry 1 file"):
        _load(folder, BASE + MAP.replace('"overview"', file))


@pytest.mark.parametrize("snippet, message", [
    ('policy = 3\n', "policy should be text in quotes"),
    ('policy = "strict"\n', "use one of nhs, threshold, none"),
    ('k = 5\n', "only applies to policy"),
    ('allow_unsafe = true\n', "--allow-unsafe"),
    ('allow_unmatched = true\n', "--allow-unmatched"),
    ('titel = "x"\n', "Did you mean 'title'"),
    ('min_range = 1\n', "at least 2 possible values"),
])
def test_top_level_errors(folder, snippet, message):
    with pytest.raises(ConfigError, match=message):
        _load(folder, snippet + BASE + MAP)


@pytest.mark.parametrize("snippet, message", [
    ('classes = "5"\n', "classes should be a whole number"),
    ('classes = 12\n', "between 2 and 9"),
    ('overlays = ["district"]\n', "unknown overlays"),
    ('overlay = ["districts"]\n', "Did you mean 'overlays'"),
    ('layers = []\n', None),
    ('scheme = "jenks"\n', "unknown scheme"),
    ('bins = ["a"]\n', "bins should be numbers"),
    ('kind = "movie"\n', 'use "map" or "time"'),
])
def test_map_entry_errors(folder, snippet, message):
    text = BASE + MAP.replace('layers = ["reports"]\n', "") + ('layers = ["reports"]\n' if "layers" not in snippet
                                                               else "") + snippet
    with pytest.raises(ConfigError, match=message or "layers"):
        _load(folder, text)


def test_duplicate_map_files_and_missing_inputs(folder):
    with pytest.raises(ConfigError, match="used by an earlier map"):
        _load(folder, BASE + MAP + MAP.replace("overview", "Overview"))
    with pytest.raises(ConfigError, match="no such file"):
        _load(folder, BASE.replace("reports.csv", "nope.csv") + MAP)
    with pytest.raises(ConfigError, match=r"needs 'reports"):
        _load(folder, 'title = "T"\n[inputs]\nwards = "wards.geojson"\n' + MAP)
    with pytest.raises(ConfigError, match="no \\[\\[maps\\]\\]"):
        _load(folder, BASE)


def test_cp1252_config_is_a_clear_error(folder):
    p = folder / "pack.toml"
    p.write_bytes((BASE + MAP).replace('title = "T"', 'title = "Caf\xe9"').encode("cp1252"))
    with pytest.raises(ConfigError, match="line 1 is not UTF-8.*save the config as UTF-8"):
        load_config(p)


def test_planning_section(folder):
    cfg = _load(folder, BASE + MAP + '[planning]\ncampaign = "campaign.toml"\nrecommend = 4\n')
    assert cfg.planning.recommend == 4 and cfg.planning.campaign.name == "campaign.toml"
    with pytest.raises(ConfigError, match="recommend = 0 must be 1 or more"):
        _load(folder, BASE + MAP + '[planning]\ncampaign = "campaign.toml"\nrecommend = 0\n')
    with pytest.raises(ConfigError, match="hub_radius_m should be"):
        _load(folder, BASE + MAP + '[planning]\ncampaign = "campaign.toml"\nhub_radius_m = "6km"\n')


def test_dict_config_resolves_against_base(folder):
    cfg = load_config({"inputs": {"areas": "wards.geojson", "reports": ["reports.csv"]},
                       "maps": [{"file": "a", "layers": ["reports"]}]}, base=folder)
    assert cfg.inputs["reports"] == [folder / "reports.csv"]
    assert isinstance(cfg.maps[0], MapSpec) and cfg.maps[0].overlays == ("districts",)
    assert folder / "reports.csv" in cfg.input_paths


# ---------------------------------------------------------------- k, min_range and reserved names
def _error(folder, text) -> str:
    p = folder / "pack.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}:")           # the config file, first
    return msg


@pytest.mark.parametrize("k", [0, 1, 2, -4])
def test_k_below_three_names_the_file_the_key_and_the_fix(folder, k):
    msg = _error(folder, f'policy = "threshold"\nk = {k}\n' + BASE + MAP)
    assert f"k = {k}" in msg and "at least 3" in msg and "k = 10" in msg


@pytest.mark.parametrize("value", [0, 1, -3, 1001])
def test_min_range_out_of_bounds_names_the_file_the_key_and_the_fix(folder, value):
    msg = _error(folder, f"min_range = {value}\n" + BASE + MAP)
    assert f"min_range = {value}" in msg and "min_range = 3" in msg and re.search(r"2 .*1,?000", msg)


def test_good_k_and_min_range_still_read(folder):
    p = folder / "pack.toml"
    p.write_text('policy = "threshold"\nk = 3\nmin_range = 2\n' + BASE + MAP, encoding="utf-8")
    cfg = load_config(p)
    assert (cfg.k, cfg.min_range) == (3, 2)


@pytest.mark.parametrize("name", ["index", "trend", "campaign_effect", "Index", "TREND"])
def test_a_map_named_like_a_pack_file_is_refused(folder, name):
    maps = MAP + MAP.replace('"overview"', f'"{name}"')
    msg = _error(folder, BASE + maps)
    assert "[[maps]] entry 2" in msg and repr(name) in msg and "reserved" in msg
    assert RESERVED_FILES[name.lower()] in msg and "another file name" in msg


def test_a_map_named_like_another_maps_funnel_plot_is_refused(folder):
    msg = _error(folder, BASE + MAP + MAP.replace('"overview"', '"overview_funnel_reports"'))
    assert "[[maps]] entry 2" in msg and "_funnel_" in msg


def test_reserved_names_are_the_files_the_pack_writes():
    # The oracle: the names build.py and draw.py write for the pack itself.
    import inspect

    from gangmap.pack import build, draw

    src = inspect.getsource(build) + inspect.getsource(draw)
    for stem, file in RESERVED_FILES.items():
        assert file.startswith(stem + ".") and file in src


def test_a_dict_config_with_a_reserved_map_fails_before_anything_is_written(tmp_path, demo_paths):
    from gangmap.pack import build_pack

    cfg = {"inputs": {"wards": str(demo_paths["wards"]), "reports": str(demo_paths["reports"])},
           "maps": [{"file": "index", "layers": ["reports"]}]}
    with pytest.raises(ConfigError, match="reserved"):
        build_pack(cfg, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_config_built_past_the_checks_still_cannot_overwrite_a_pack_file(tmp_path, demo_paths):
    # A PackConfig changed in code skips load_config's check; the build itself refuses the clash.
    from dataclasses import replace

    from gangmap.pack import build_pack
    from gangmap.pack.config import MapSpec

    cfg = load_config({"inputs": {"wards": str(demo_paths["wards"]), "reports": str(demo_paths["reports"])},
                       "maps": [{"file": "overview", "layers": ["reports"]}]})
    forged = replace(cfg, maps=(MapSpec(file="index", layers=("reports",)),))
    with pytest.raises(ConfigError, match="two files of the pack are named 'index.html'"):
        build_pack(forged, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert build_pack(cfg, tmp_path / "ok").index.name == "index.html"
