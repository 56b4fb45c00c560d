"""The Tally behind every cube: any split into chunks, merged in order, gives the same cube as one chunk.

Oracle: the one-chunk tally (the in-memory join), and independent counts of planted rows.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gangmap.joining.tally as tally_module
from gangmap.io.readers import Intake
from gangmap.joining.areas import as_areas
from gangmap.joining.cube import KindCube
from gangmap.joining.place import place_rows
from gangmap.joining.tally import Tally

N = 12
CODES = [f"E05400{i:03d}" for i in range(N)]


@pytest.fixture(scope="module")
def areas():
    geoms = [shapely.box(1000 * i, 0, 1000 * (i + 1), 1000) for i in range(N)]
    frame = gpd.GeoDataFrame({"ward_code": CODES, "ward_name": CODES}, geometry=geoms, crs=27700)
    return as_areas(frame)


@pytest.fixture(scope="module")
def intake():
    rng = np.random.default_rng(7)
    n = 2000
    x = rng.uniform(-500, 1000 * N + 500, n)  # some outside either end
    data = pd.DataFrame({"row": np.arange(1, n + 1), "count": rng.integers(1, 4, n),
                         "category": pd.array(rng.choice(["A", "B", None], n), dtype="string"),
                         "period": pd.array(rng.choice(["2018-01", "2018-02", "2018-03"], n), dtype="string"),
                         "x": x, "y": rng.uniform(1, 999, n)})
    bad = rng.random(n) < 0.05
    rejected = pd.DataFrame({"row": data["row"][bad].to_numpy(),
                             "reason": [f"no usable coordinates (x='{i}')" for i in range(int(bad.sum()))]})
    return Intake("reports", "point", "<planted>", n, data[~bad].reset_index(drop=True), rejected)


def chunked(intake: Intake, areas, cuts) -> Tally:
    """Tallies of consecutive row ranges of ``intake``, rows renumbered per chunk, merged in order."""
    edges = [0, *cuts, intake.rows_read]
    parts = []
    for a, b in zip(edges[:-1], edges[1:]):
        d = intake.data[(intake.data["row"] > a) & (intake.data["row"] <= b)]
        r = intake.rejected[(intake.rejected["row"] > a) & (intake.rejected["row"] <= b)]
        chunk = Intake("reports", "point", "<planted>", b - a, d.assign(row=d["row"] - a).reset_index(drop=True),
                       r.assign(row=r["row"] - a).reset_index(drop=True))
        t = Tally(len(areas))
        placement, _, _ = place_rows(chunk, areas)
        t.add(chunk.data, chunk.rejected, chunk.rows_read, placement)
        parts.append(t)
    total = parts[0]
    for t in parts[1:]:
        total.merge(t)
    return total


def same_cube(a: KindCube, b: KindCube):
    for attr in ("groups", "unplaced", "listed", "rejected", "reasons"):
        x, y = getattr(a, attr), getattr(b, attr)
        if attr == "unplaced":  # first-appearance order may differ between splits; the content may not
            x, y = (f.sort_values(list(f.columns[:5]), kind="stable").reset_index(drop=True) for f in (x, y))
        pd.testing.assert_frame_equal(x, y, obj=attr)
    for attr in ("rows_read", "has", "available", "published", "notes", "hint"):
        assert getattr(a, attr) == getattr(b, attr), attr


@pytest.mark.parametrize("cuts", [[1], [999], [1, 2, 3], list(range(100, 2000, 100)), [1500, 1999]])
def test_any_split_merges_to_the_one_chunk_cube(areas, intake, cuts):
    placement, _, _ = place_rows(intake, areas)
    whole = KindCube.build(intake, areas, placement)
    parts = KindCube.from_tally(chunked(intake, areas, cuts), areas, kind="reports", source="<planted>", key="point")
    same_cube(whole, parts)


def test_compaction_and_small_listings_change_nothing(areas, intake, monkeypatch):
    placement, _, _ = place_rows(intake, areas)
    monkeypatch.setattr(tally_module, "LIST_ROWS", 4)
    monkeypatch.setattr(tally_module, "LIST_TOTAL", 9)
    whole = KindCube.build(intake, areas, placement)
    monkeypatch.setattr(tally_module, "_COMPACT", 10)  # add up the groups again after nearly every chunk
    parts = KindCube.from_tally(chunked(intake, areas, list(range(50, 2000, 50))), areas, kind="reports",
                                source="<planted>", key="point")
    same_cube(whole, parts)
    assert len(parts.rejected) == 4 and parts.rejected_count == len(intake.rejected)  # one reason kind
    assert len(parts.listed) == 4  # the outside rows: 4 listed, all counted
    assert parts.report().outside == int((parts.unplaced["rows"]).sum())


def test_counts_against_planted_rows(areas, intake):
    t = chunked(intake, areas, [333, 1234])
    groups = t.matched_groups()
    d = intake.data
    inside = (d["x"] >= 0) & (d["x"] <= 1000 * N)
    ward = np.minimum((d["x"][inside] // 1000).astype(int), N - 1)  # the edge x = 1000 i goes to ward i - 1 first
    ward = np.where((d["x"][inside] % 1000 == 0) & (d["x"][inside] > 0), ward - 1, ward)
    want = pd.Series(d["count"][inside].to_numpy(), index=ward).groupby(level=0).sum()
    got = groups.groupby("pos")["count"].sum()
    assert got.to_dict() == want.astype(float).to_dict()
    assert t.rows_read == intake.rows_read and t.rejected_count == len(intake.rejected)
    assert groups["rows"].sum() + int(sum(f["rows"].sum() for f in t.unplaced)) == len(d)
