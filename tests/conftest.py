"""Shared fixtures for the gangmap tests.

Fixture names are deliberately specific (``shared_data``, ``demo_paths``,
``square_wards``, ``square_wards_factory``) so that test modules written by
others can add their own fixtures without clashes.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import gangmap

REPO_ROOT = Path(__file__).resolve().parents[1]
#: ``make test-fast`` sets GANGMAP_FAST=1: real-data and browser tests skip, whatever their markers.
FAST = bool(os.environ.get("GANGMAP_FAST"))
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

#: South-west corner of the square wards (EPSG:27700, Northamptonshire-ish).
SQUARE_X0, SQUARE_Y0 = 480_000, 260_000
#: Side of one square ward, metres.
SQUARE_SIDE = 1_000
#: Default square wards: 2 districts x 3 wards. "Abbey" exists in both districts on purpose
#: (ambiguous name), and ward 1 carries punctuation and an ampersand.
SQUARE_CODES = ["E05100001", "E05100002", "E05100003", "E05100004", "E05100005", "E05100006"]
SQUARE_NAMES = ["St. Crispin & Kingsthorpe", "Abbey", "Castle", "Abbey", "Delapre", "Eastfield"]
SQUARE_LADS = [("E07000201", "Northwold")] * 3 + [("E07000202", "Southmere")] * 3


def build_square_wards(vintage: str = "21", *, codes=None, names=None, lads=None, columns: int = 3,
                       crs=27700) -> gpd.GeoDataFrame:
    """Square 1 km wards with ONS-style columns (``WD{vintage}CD`` ...) in EPSG:27700.

    Ward ``i`` is the square at column ``i % columns`` and row ``i // columns`` whose
    south-west corner is ``(SQUARE_X0 + 1000 * col, SQUARE_Y0 + 1000 * row)``.
    """
    codes = list(SQUARE_CODES if codes is None else codes)
    names = list(SQUARE_NAMES if names is None else names)
    lads = list(SQUARE_LADS if lads is None else lads)
    geoms = [square(i, columns) for i in range(len(codes))]
    return gpd.GeoDataFrame(
        {f"WD{vintage}CD": codes, f"WD{vintage}NM": names,
         f"LAD{vintage}CD": [c for c, _ in lads], f"LAD{vintage}NM": [n for _, n in lads]},
        geometry=geoms, crs=crs,
    )


def square(i: int, columns: int = 3):
    """The square of ward ``i`` (see :func:`build_square_wards`)."""
    col, row = i % columns, i // columns
    x0, y0 = SQUARE_X0 + SQUARE_SIDE * col, SQUARE_Y0 + SQUARE_SIDE * row
    return shapely.box(x0, y0, x0 + SQUARE_SIDE, y0 + SQUARE_SIDE)


def centre(i: int, columns: int = 3) -> tuple[float, float]:
    """Centre (easting, northing) of square ward ``i``."""
    c = square(i, columns).centroid
    return c.x, c.y


@pytest.fixture
def square_wards() -> gpd.GeoDataFrame:
    """Six square wards (2 districts x 3) with WD21CD/WD21NM/LAD21CD/LAD21NM, EPSG:27700."""
    return build_square_wards()


@pytest.fixture
def square_wards_factory():
    """The builder behind ``square_wards``, for other vintages, names or districts."""
    return build_square_wards


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the repository (real public data), or skip."""
    if FAST:
        pytest.skip("GANGMAP_FAST is set (make test-fast): real-data tests run in make test")
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data not present: real Northamptonshire data is only beside the repo "
                    "in CI and dev machines")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_paths() -> dict[str, Path]:
    """Paths of the shipped fictional demo files (``gangmap.demo.paths()``)."""
    return gangmap.demo.paths()


def pytest_collection_modifyitems(config, items):
    """Tests that read ../shared/data carry the ``realdata`` marker, whether or not they say so."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realdata)
