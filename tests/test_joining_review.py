"""Review fixes of the join: blank periods, AreaTable.merge, "not placed" totals, name folding, lookups.

Each test plants its answer (the rows and counts that must appear, the
values that must be named) and fails on the behaviour the review found.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gangmap
from gangmap.errors import InputError, SchemaError
from gangmap.geography import GEOGRAPHIES, get_geography
from gangmap.io import Intake
from gangmap.joining import Tally, build_cube
from gangmap.joining.cube import KindCube
from gangmap.joining.place import assign
from gangmap.table import from_frame

REPO = Path(__file__).resolve().parents[1]
CODES = ["E05100001", "E05100002", "E05100003", "E05100004", "E05100005", "E05100006"]


# --------------------------------------------------------------------------- 1. blank periods in a series


def test_series_with_a_blank_period_is_an_input_error_naming_file_rows_and_fix(square_wards, tmp_path):
    path = tmp_path / "blankper.csv"
    path.write_text("ward_code,period,count\nE05100001,,50\nE05100002,2018-03,25\nE05100003,,4\n")
    cube, _ = build_cube(square_wards, reports=path)
    with pytest.raises(InputError) as ei:
        cube.series()
    msg = str(ei.value)
    assert "blankper.csv" in msg
    assert "2 placed rows" in msg and "(blank)" in msg  # the two rows with no month, counted
    assert "rows 1, 3" in msg  # and named
    assert "YYYY-MM" in msg


def test_series_with_a_period_that_is_not_a_month_names_it(square_wards):
    df = pd.DataFrame({"ward_code": CODES[:3], "period": ["2018-03", "2018-Q1", "2018-04"], "count": [1, 2, 3]})
    intake = Intake("reports", "ward_code", "<planted>", 3, df.assign(row=[1, 2, 3]))
    table = gangmap.joining.as_areas(square_wards)
    cube = KindCube.build(intake, table, assign(intake, table))
    with pytest.raises(InputError,
                       match=r"1 placed row has a period that is not a month \(e.g. \['2018-Q1'\]; row 2\)"):
        cube.series()


def test_rows_without_a_month_are_named_across_merged_chunks(square_wards):
    """The streaming join merges tallies: the rows named are those of the whole input."""
    table = gangmap.joining.as_areas(square_wards)
    periods = ["2018-03", None, "2018-03", "2018 March"]
    tallies = []
    for part in (slice(0, 2), slice(2, 4)):
        d = pd.DataFrame({"row": [1, 2], "ward_code": CODES[part], "period": periods[part], "count": [1, 1]})
        intake = Intake("reports", "ward_code", "<planted>", 2, d)
        tally = Tally(len(table))
        tally.add(d, intake.rejected, 2, assign(intake, table))
        tallies.append(tally)
    merged = tallies[0].merge(tallies[1])
    assert merged.odd_period_rows()["row"].tolist() == [2, 4]
    cube = KindCube.from_tally(merged, table, kind="reports", source="<planted>", key="ward_code")
    with pytest.raises(InputError, match=r"2 placed rows have .*\['\(blank\)', '2018 March'\]; rows 2, 4\)"):
        cube.series()


# --------------------------------------------------------------------------- 2. AreaTable.merge drops nothing


def _table():
    return from_frame(pd.DataFrame({"ward_code": ["E05000001", "E05000002", "E05000003"], "reports": [3, 12, 0]}),
                      counts=["reports"])


def test_merge_matches_codes_as_the_join_does():
    extra = pd.DataFrame({"ward_code": [" e05000003", "E05000001 "], "schools": [4, 1]})
    m = _table().merge(extra, context=["schools"])
    assert m["schools"].tolist()[0] == 1 and m["schools"].tolist()[2] == 4 and np.isnan(m["schools"].tolist()[1])


def test_merge_refuses_rows_that_match_no_area_and_names_them():
    extra = pd.DataFrame({"ward_code": ["E05000001", "E05999999", None, "E05000002"], "x": [1, 2, 3, 4]})
    with pytest.raises(SchemaError) as ei:
        _table().merge(extra)
    msg = str(ei.value)
    assert "2 rows of the other table match no ward" in msg
    assert "row 2 ('E05999999')" in msg and "row 3 (blank)" in msg
    assert "unmatched='drop'" in msg


def test_merge_drop_is_explicit_and_recorded():
    extra = pd.DataFrame({"ward_code": ["E05000001", "E05999999"], "x": [1, 2]})
    m = _table().merge(extra, context=["x"], unmatched="drop")
    assert m["x"].tolist()[0] == 1 and np.isnan(m["x"].tolist()[1:]).all()
    note = m.schema.notes["x"]["merge"]
    assert "1 row of the other table matched no ward and was left out" in note and "E05999999" in note
    with pytest.raises(SchemaError, match="unmatched must be 'raise' or 'drop'"):
        _table().merge(extra, unmatched="ignore")


def test_merge_codes_equal_once_normalised_are_duplicates():
    extra = pd.DataFrame({"ward_code": ["E05000001", "e05000001"], "x": [1, 2]})
    with pytest.raises(SchemaError, match="one row per ward"):
        _table().merge(extra)


# --------------------------------------------------------------------------- 6. one home for each constant


def _assigned(path: Path, name: str) -> int:
    tree = ast.parse(path.read_text())
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.Assign)
               for t in node.targets if isinstance(t, ast.Name) and t.id == name)


def test_cube_and_tally_share_one_keys_constant():
    joining = REPO / "gangmap" / "joining"
    assert _assigned(joining / "tally.py", "_KEYS") + _assigned(joining / "cube.py", "_KEYS") <= 1
    assert not re.search(r"\(\s*\"period\",\s*\"category\"\s*\)", (joining / "cube.py").read_text())


def test_geography_aliases_come_from_the_geographies():
    text = (REPO / "gangmap" / "geography.py").read_text()
    assert "police neighbourhood\": \"neighbourhood\"" not in text  # no second list of the same words
    for key, geo in GEOGRAPHIES.items():
        for word in (key, geo.label, geo.plural, *geo.aliases):
            assert get_geography(word.upper()) is geo, word
    assert get_geography("neighborhoods") is GEOGRAPHIES["neighbourhood"]
    assert get_geography("OAs") is GEOGRAPHIES["oa"]
