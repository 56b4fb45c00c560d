"""One home for each constant of the join: reasons, column names, months and quarters.

A source scan: the reason texts the report recognises are written once (in
:mod:`gangmap.joining.report`) and the placing code uses those constants; LSOA
column names come from :mod:`gangmap.io.columns` (no second alias list in
joining); the month pattern and the quarter label from :mod:`gangmap.table`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import gangmap.joining as joining
from gangmap.joining import join

JOINING = Path(joining.__file__).parent
SOURCES = {p.name: p.read_text(encoding="utf-8") for p in JOINING.glob("*.py")}


def _holders(pattern: str) -> list[str]:
    return sorted(name for name, text in SOURCES.items() if re.search(pattern, text))


def test_reason_texts_are_written_once_in_the_report():
    from gangmap.joining import report

    assert report.REASON_PREFIXES == (report.AMBIGUOUS, report.LSOA_UNKNOWN, report.URN_UNKNOWN,
                                      report.SCHOOL_OUTSIDE)
    for text in ("ambiguous:", "LSOA not in the bridge", "URN not in schools file", "school outside every"):
        assert _holders("(?<!`)" + re.escape(f'"{text}')) == ["report.py"], text  # (docstrings quote it in ``)


def test_the_reasons_given_are_the_constants(square_wards):
    from gangmap.joining.report import AMBIGUOUS, LSOA_UNKNOWN

    lookup = pd.DataFrame({"lsoa_code": ["E01000001"], "ward_code": ["E05100001"], "weight": [1.0]})
    _, rep = join(square_wards, reports=pd.DataFrame({"lsoa_code": ["E01000001", "E01999999"], "count": [1, 2]}),
                  lsoa=lookup, allow_unmatched=True)
    assert rep.sections["reports"].unmatched_values()["closest"].tolist() == [LSOA_UNKNOWN]
    _, rep = join(square_wards, reports=pd.DataFrame({"ward_name": ["Abbey"], "count": [1]}), allow_unmatched=True)
    assert rep.sections["reports"].unmatched_values()["closest"].iloc[0].startswith(AMBIGUOUS + " Abbey (")


def test_lsoa_column_names_have_one_home_in_io():
    from gangmap.io.columns import ALIASES

    assert "lsoa" in ALIASES["lsoa_code"]
    assert _holders(r"LSOA_ALIASES|LSOA_PATTERN|_COUNT_ALIASES|def squash") == []
    assert _holders(r"lsoa\\d\{2\}cd") == []  # the ONS pattern lives in gangmap.geography


@pytest.mark.parametrize("pattern", [r"0\[1-9\]\|1\[0-2\]", r"-Q\{"])
def test_months_and_quarters_come_from_the_table_module(pattern):
    assert _holders(pattern) == []


def test_quarter_of_agrees_with_pandas():
    from gangmap.table import MONTH_RE, quarter_of

    months = pd.period_range("2016-01", "2019-12", freq="M").strftime("%Y-%m")
    assert all(MONTH_RE.match(m) for m in months) and not MONTH_RE.match("2018-13")
    assert [quarter_of(m) for m in months] == [str(pd.Period(m, "M").asfreq("Q")).replace("Q", "-Q")
                                               for m in months]
