"""A map cannot take a file name the pack uses for its own files (index.html, trend.png, ...)."""

from __future__ import annotations

import pytest

from gangmap.errors import ConfigError
from gangmap.pack.config import RESERVED_FILES, load_config

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
    for name in ("wards.geojson", "reports.csv"):
        (tmp_path / name).write_text("x")
    return tmp_path


def _error(folder, text) -> str:
    p = folder / "pack.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}:")           # the config file, first
    return msg


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
