"""Pack config errors for k and min_range name the config file, the key and the fix."""

from __future__ import annotations

import re

import pytest

from gangmap.errors import ConfigError
from gangmap.pack.config import load_config

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
