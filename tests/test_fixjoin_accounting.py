"""Every input row and its count is placed, not placed for a named reason, or filtered.

The oracle is the input itself, recounted here without gangmap: the rows
read and the counts that can be read. The report must add up to both:
``rows_read == matched + unmatched + outside + rejected + filtered`` and
``total_read == total + not_placed_total + filtered_total == (readable counts
of the input)``, where the rejected rows' counts are in ``not_placed_total``
(they were left out of it: a row refused for a blank code lost its count).
"""

from __future__ import annotations

import csv
import io as _io

import numpy as np
import pandas as pd

from gangmap.io import Intake
from gangmap.joining import join
from gangmap.joining.cube import KindCube
from gangmap.joining.place import assign
from gangmap.joining.tally import Tally

CODES = ["E05100001", "E05100002", "E05100003", "E05100004", "E05100005", "E05100006"]


def _readable(value: str) -> float:
    """The count a cell holds when it is a whole number 0 or more (the reader's rule), else NaN."""
    text = str(value).strip()
    return float(text) if text.isdigit() else np.nan


def _hand_intake() -> tuple[Intake, float]:
    """Reports as a reader gives them: kept rows, and rejected rows carrying the count they held."""
    data = pd.DataFrame({"row": [1, 2, 3, 5, 7], "ward_code": ["E05100001", "E05100002", "E05999999",
                                                              "E05100003", "E05100004"],
                         "count": [2, 3, 5, 4, 6], "category": ["Drugs", "Drugs", "Drugs", "Robbery", "Drugs"],
                         "period": ["2018-03"] * 5})
    rejected = pd.DataFrame({"row": [4, 6, 8], "count": [7.0, np.nan, 11.0],
                             "reason": ["ward_code is blank", "count is 'three': counts must be whole numbers",
                                        "Month is 'Q1 2018': a quarter"]})
    intake = Intake(kind="reports", key="ward_code", source="hand.csv", rows_read=8, data=data, rejected=rejected)
    return intake, float(data["count"].sum() + rejected["count"].sum())


def test_rejected_rows_counts_are_in_the_not_placed_total(square_wards):
    intake, readable = _hand_intake()
    table, rep = join(square_wards, reports=intake, allow_unmatched=True)
    sec = rep.sections["reports"]
    assert sec.matched + sec.not_placed_rows + sec.filtered == sec.rows_read == 8
    # 2 + 3 + 4 + 6 placed; 5 unmatched; 7 and 11 rejected with a count, one rejected without.
    assert table["reports"].sum() == 15 and sec.not_placed_total == 5 + 7 + 11
    assert table["reports"].sum() + sec.not_placed_total + sec.filtered_total == readable == sec.total_read
    assert sec.rejected_total == 18 and sec.rejected_no_count == 1
    assert sec.not_placed == "4 rows (total 23) not placed, 1 with no readable count"
    assert "counts read 38 = placed 15 + not placed 23" in sec.summary()


def test_accounting_lists_every_reason_and_adds_up(square_wards):
    intake, readable = _hand_intake()
    _, rep = join(square_wards, reports=intake, category="Drugs", allow_unmatched=True)
    acc = rep.sections["reports"].accounting()
    assert acc["rows"].sum() == 8 and acc["total"].sum() == readable
    by = acc.set_index("reason")
    assert by.loc["on a ward", "total"] == 11
    assert by.loc["ward_code matches no ward", "total"] == 5
    assert by.loc["rejected: ward_code is blank", "total"] == 7
    assert by.loc["rejected: Month is …: a quarter", "total"] == 11
    assert by.loc["rejected: count is …: counts must be whole numbers", ["total", "no_count"]].tolist() == [0, 1]
    assert by.loc["left out by the category/period filter", ["rows", "total"]].tolist() == [1, 4]
    assert set(acc["status"]) == {"placed", "not placed", "filtered"}


def test_rejected_totals_survive_chunks_merged(square_wards):
    """The streaming join merges tallies chunk by chunk: the rejected totals must add up the same."""
    from gangmap.joining.areas import as_areas

    areas = as_areas(square_wards)
    intake, _ = _hand_intake()
    whole = Tally(len(areas))
    whole.add(intake.data, intake.rejected, intake.rows_read, assign(intake, areas))
    halves = []
    for first in (1, 5):
        rows = range(first, first + 4)
        part_data = intake.data[intake.data["row"].isin(rows)]
        part_data = part_data.assign(row=part_data["row"] - first + 1)
        part_rej = intake.rejected[intake.rejected["row"].isin(rows)]
        part_rej = part_rej.assign(row=part_rej["row"] - first + 1)
        part = Intake("reports", "ward_code", "hand.csv", 4, part_data.reset_index(drop=True),
                      part_rej.reset_index(drop=True))
        t = Tally(len(areas))
        t.add(part.data, part.rejected, 4, assign(part, areas))
        halves.append(t)
    merged = halves[0].merge(halves[1])
    pd.testing.assert_frame_equal(merged.rejected_reasons(), whole.rejected_reasons())
    pd.testing.assert_frame_equal(merged.rejected_rows(), whole.rejected_rows())
    a = KindCube.from_tally(merged, areas, kind="reports", source="x", key="ward_code").report()
    assert a.not_placed_total == 23 and a.rejected_no_count == 1


def test_second_population_row_keeps_its_value_in_the_account(square_wards):
    pop = pd.DataFrame({"ward_code": ["E05100001", "E05100001", "E05100002"], "population": [900, 950, 800]})
    _, rep = join(square_wards, population=pop, allow_unmatched=True)
    sec = rep.sections["population"]
    assert sec.rejected == 1 and sec.rejected_total == 950 and sec.rejected_no_count == 0
    assert sec.total + sec.not_placed_total == 900 + 950 + 800


MESSY = """ward_code,count,category,period
E05100001,2,Drugs,2018-03
e05100002 ,3,Drugs,2018-03
E05999999,5,Drugs,2018-03
,7,Drugs,2018-03
E05100003,three,Drugs,2018-03
E05100004,-1,Drugs,2018-03
E05100005,4,Robbery,2018-03
E05100006,11,Drugs,Q1 2018
E05100006,2.5,Drugs,2018-03
E0510002,9,Drugs,2018-03
"""


def test_messy_file_every_row_and_count_accounted_for(square_wards, tmp_path):
    path = tmp_path / "messy.csv"
    path.write_text(MESSY, encoding="utf-8")
    raw = list(csv.DictReader(_io.StringIO(MESSY)))
    readable = sum(v for v in (_readable(r["count"]) for r in raw) if not np.isnan(v))
    table, rep = join(square_wards, reports=path, category="Drugs", allow_unmatched=True)
    sec = rep.sections["reports"]
    acc = sec.accounting()
    assert sec.rows_read == len(raw) == acc["rows"].sum()
    assert sec.matched + sec.unmatched + sec.outside + sec.rejected + sec.filtered == len(raw)
    assert table["reports"].sum() + sec.not_placed_total + sec.filtered_total == readable == acc["total"].sum()
    unreadable = sum(1 for r in raw if np.isnan(_readable(r["count"])))
    assert sec.rejected_no_count == unreadable


def test_messy_file_rows_accounted_for(square_wards, tmp_path):
    """What holds whatever the reader gives: every row under one reason, and the placed and unmatched
    counts recounted from the file."""
    path = tmp_path / "messy.csv"
    path.write_text(MESSY, encoding="utf-8")
    raw = list(csv.DictReader(_io.StringIO(MESSY)))
    table, rep = join(square_wards, reports=path, category="Drugs", allow_unmatched=True)
    sec = rep.sections["reports"]
    acc = sec.accounting()
    assert acc["rows"].sum() == sec.rows_read == len(raw)
    by = acc.set_index("reason")
    assert by.loc["on a ward", "total"] == table["reports"].sum() == 2 + 3
    assert by.loc["ward_code matches no ward", ["rows", "total"]].tolist() == [2, 5 + 9]
    assert by.loc["left out by the category/period filter", ["rows", "total"]].tolist() == [1, 4]
    rejected = acc[acc["reason"].str.startswith("rejected: ")]
    assert rejected["rows"].sum() == sec.rejected == 5
    # A rejected row's count is in the total (7 for the blank code, 11 for the quarter), or the row is
    # said to have no readable count ('three', -1, 2.5): never silently 0.
    assert (sec.rejected_total, sec.rejected_no_count) == (7 + 11, 3)
    assert sec.not_placed == "7 rows (total 32) not placed, 3 with no readable count"
