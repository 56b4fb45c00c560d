"""The planning package shares its plumbing with the measures instead of keeping copies (one home each)."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from gangmap.errors import InputError
from gangmap.measures import checks as measure_checks
from gangmap.measures import series as measure_series
from gangmap.planning import common
from gangmap.planning import series as planning_series

PKG = Path(__file__).resolve().parents[1] / "gangmap" / "planning"


def _defined(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    names |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    return names


def test_message_lists_months_and_area_readers_have_one_home():
    defined = {p.name: _defined(p) for p in PKG.glob("*.py")}
    for name in ("some", "MONTH_RE"):                      # upstream, in gangmap.measures
        assert not [f for f, names in defined.items() if name in names], name
    assert common.some is measure_checks.some and common.MONTH_RE is measure_series.MONTH_RE
    readers = [f for f, names in defined.items() if names & {"_read_areas", "_areas_for_targets"}]
    assert readers == [] and "read_area_table" in defined["common.py"]
    assert not [f for f, names in defined.items() if names & {"_accepts_tables", "_queen"}]   # dead branches


def test_the_evaluation_series_check_is_the_measures_check_on_months():
    s = pd.DataFrame({"2018-03": [1, 2], "2018-01": [3, 4]}, index=[1, 2])
    out = planning_series.check_series(s)
    assert out.columns.tolist() == ["2018-01", "2018-02", "2018-03"] and out.index.tolist() == ["1", "2"]
    assert out["2018-02"].isna().all() and out["2018-01"].tolist() == [3.0, 4.0]   # a missing month is no data
    with pytest.raises(InputError, match=r"^planning.evaluate: the series frame's columns must be months.*2018-Q1"):
        planning_series.check_series(s.rename(columns={"2018-01": "2018-Q1"}))
    with pytest.raises(InputError, match=r"^planning.evaluate: area codes 1 appear more than once"):
        planning_series.check_series(pd.DataFrame({"2018-01": [1, 2]}, index=["1", 1]))
    with pytest.raises(InputError, match=r"^planning.evaluate: periods must be unique"):
        planning_series.check_series(pd.DataFrame([[1, 2]], columns=["2018-01", "2018-01"]))
    with pytest.raises(InputError, match=r"^planning.evaluate: negative counts for areas 1, 2"):
        planning_series.check_series(-s)
    with pytest.raises(InputError, match=r"columns must all be months 'YYYY-MM'.*got 2018-13"):
        measure_series.check_series(pd.DataFrame({"2018-13": [1.0]}), func="trend")   # month 13 is no month
