"""Issue 17 item 2 in the streaming join: the LSOA path, and its agreement with the point path, chunk by chunk.

Oracles: the in-memory join of ``read_police`` (same rows, whole), and on the real Northamptonshire month the
agreement recomputed independently from the two placements.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_stream_join import CODES, folder, grid, month_rows, same_reports  # noqa: F401  (fixtures)

import gangmap
from gangmap.io import read_police
from gangmap.joining import join, place

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="module")
def lookup():
    """The seven LSOA codes of the synthetic rows, each on one ward (E01000006 on none: not in the bridge)."""
    codes = [f"E0100{i:04d}" for i in range(6)]
    return pd.DataFrame({"lsoa_code": codes, "ward_code": CODES[:6], "weight": 1.0})


@pytest.mark.parametrize("by", ["lsoa", None])
def test_lsoa_path_streamed_equals_in_memory(grid, folder, lookup, by):  # noqa: F811
    root, _ = folder
    t1, r1 = join(grid, reports=root, lsoa=lookup, by=by, chunksize=6, allow_unmatched=True)
    t2, r2 = join(grid, reports=read_police(root, by=by), lsoa=lookup, by=by, allow_unmatched=True)
    pd.testing.assert_frame_equal(t1.frame, t2.frame)
    same_reports(r1, r2)
    a1, a2 = r1.sections["reports"].agreement, r2.sections["reports"].agreement
    assert a1 is not None and (a1.rows, a1.same, a1.correlation, a1.moved) == (a2.rows, a2.same, a2.correlation,
                                                                            a2.moved)
    pd.testing.assert_frame_equal(a1.per_area, a2.per_area)
    # Reported in the notes whichever path placed the rows.
    assert any(n.startswith("LSOA path vs point path:") for n in r1.sections["reports"].notes)


def test_agreement_recomputed_from_both_placements(grid, folder, lookup):  # noqa: F811
    root, _ = folder
    _, rep = join(grid, reports=root, lsoa=lookup, chunksize=5, allow_unmatched=True)
    a = rep.sections["reports"].agreement
    rows = read_police(root)
    pt, _ = place(rows, grid)
    ls, _ = place(rows, grid, lsoa=lookup, by="lsoa")
    both = pt["ward_code"].notna() & ls["ward_code"].notna()
    assert a.rows == int(both.sum())
    assert a.same == pytest.approx(float((pt.loc[both, "ward_code"] == ls.loc[both, "ward_code"]).mean()))
    per_pt = pt["ward_code"].value_counts().reindex(CODES, fill_value=0)
    per_ls = ls["ward_code"].value_counts().reindex(CODES, fill_value=0)
    assert a.per_area["point"].tolist() == per_pt.astype(float).tolist()
    assert a.per_area["lsoa"].tolist() == per_ls.astype(float).tolist()
    assert a.correlation == pytest.approx(np.corrcoef(per_pt, per_ls)[0, 1])


def test_no_agreement_without_a_bridge(grid, folder):  # noqa: F811
    root, _ = folder
    _, rep = join(grid, reports=root, chunksize=5, allow_unmatched=True)
    assert rep.sections["reports"].agreement is None


@pytest.mark.realdata
def test_real_month_lsoa_path_streamed(tmp_path):
    if not SHARED.is_dir():
        pytest.skip("../shared/data not present: real Northamptonshire data is only beside the repo")
    wards = gangmap.read_wards(SHARED / "boundaries" / "northamptonshire_wards_2013.geojson")
    lsoa = SHARED / "boundaries" / "northamptonshire_lsoa_2011.geojson"
    police = SHARED / "police" / "2018-03-northamptonshire-street.csv"
    t1, r1 = join(wards, reports=police, lsoa=lsoa, by="lsoa", chunksize=500)
    t2, r2 = join(wards, reports=read_police(police), lsoa=lsoa, by="lsoa")
    pd.testing.assert_frame_equal(t1.frame, t2.frame)
    same_reports(r1, r2)
    a = r1.sections["reports"].agreement
    assert t1["reports"].sum() == 6335 and a.rows == 6335
    assert 0.86 <= a.same <= 0.91 and a.correlation > 0.97  # measured 0.884 and 0.984 (2011 LSOAs, 2013 wards)
    # The point path (the default) reports the same agreement when lsoa= is given.
    _, r3 = join(wards, reports=police, lsoa=lsoa, chunksize=500)
    assert r3.sections["reports"].agreement.same == a.same
    assert any("in the same ward" in n for n in r3.sections["reports"].notes)


def test_streamed_by_lsoa_keeps_rows_without_coordinates(tmp_path, grid, lookup):  # noqa: F811
    """Placed by LSOA code, a crime without coordinates but with its LSOA code is counted, streamed or not."""
    from test_stream_join import write_csv

    rows, _ = month_rows("2018-01", 12, seed=5)
    rows[0][4] = rows[0][5] = ""  # coordinates withheld, LSOA code kept
    lsoa = rows[0][7]
    (tmp_path / "2018-01").mkdir()
    (tmp_path / "2018-01" / "2018-01-testshire-street.csv").write_bytes(write_csv(rows))
    streamed, rep = join(grid, reports=tmp_path, lsoa=lookup, by="lsoa", chunksize=4, allow_unmatched=True)
    whole, _ = join(grid, reports=read_police(tmp_path, by="lsoa"), lsoa=lookup, by="lsoa", allow_unmatched=True)
    pd.testing.assert_frame_equal(streamed.frame, whole.frame)
    assert not any("no usable coordinates" in str(r) for r in rep.sections["reports"].rejected_rows["reason"])
    on = lookup.set_index("lsoa_code")["ward_code"][lsoa]
    assert streamed.frame.set_index("ward_code").loc[on, "reports"] >= 1
