"""Group totals (the campaign evaluation's targeted/other before/after) are part of the audited system.

With public knowledge of the campaign's areas, a group total minus the
published counts of the group's other areas gives a hidden cell back. The
auditor used to skip any table without area codes silently; it now links a
group-totals table into its system when it knows the groups, and lists every
published table or figure it cannot model in :attr:`AuditResult.unread`.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from gangmap.disclosure import audit_pack

FOOTER = "Data: 2018 · Disclosure: threshold (0 stays 0; 1–9 suppressed; others exact, with secondary suppression)"
TRUTH = {"E05000001": 40, "E05000002": 4, "E05000003": 30, "E05000004": 31, "E05000005": 25, "E05000006": 22}
TARGETED = ["E05000001", "E05000002", "E05000003"]


def _csv(path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    side = path.with_name(path.name + "-metadata.json")
    side.write_text(json.dumps({"url": path.name, "dc:source": FOOTER}, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def pack(tmp_path):
    """Six wards under threshold (exact counts; E05000002's 4 hidden), and the evaluation's group totals."""
    rows = "".join(f"{c},{'*' if v < 10 else v}\n" for c, v in TRUTH.items())
    _csv(tmp_path / "summary.csv", "ward_code,reports\n" + rows)
    targeted = sum(TRUTH[c] for c in TARGETED)  # 74 = 30 before + 44 after
    other = sum(TRUTH.values()) - targeted
    _csv(tmp_path / "campaign_effect.csv", "group,targeted_before,targeted_after,other_before,other_after,evidence\n"
         f"targeted vs other,30,{targeted - 30},40,{other - 40},weak\n")
    return tmp_path


def _raw():
    return {"all": pd.DataFrame({"ward_code": list(TRUTH), "reports": list(TRUTH.values())})}


def test_group_totals_minus_shown_areas_pin_a_hidden_cell(pack):
    result = audit_pack(pack, _raw(), families={"summary": "all", "campaign_effect": "all"},
                        groups={"targeted": TARGETED})
    cell = result.cells.set_index("code").loc["E05000002"]
    assert (cell["low"], cell["high"]) == (4, 4)  # 74 - 40 - 30: given back exactly
    assert not cell["ok"] and not result.ok
    # the same pack without the group table: the hidden cell is unbounded (so the group table is what pins it)
    (pack / "campaign_effect.csv").unlink()
    alone = audit_pack(pack, _raw(), families={"summary": "all"}, groups={"targeted": TARGETED})
    assert alone.ok and alone.cells.set_index("code").loc["E05000002", "values"] > 1000


def test_without_the_groups_the_table_is_listed_not_skipped(pack):
    result = audit_pack(pack, _raw(), families={"summary": "all", "campaign_effect": "all"})
    assert any(f == "campaign_effect.csv" and "group totals" in what for f, what in result.unread)
    assert "campaign_effect.csv" in result.summary()
    assert result.cells.set_index("code").loc["E05000002", "ok"]  # the auditor cannot see it: it says so above


def test_group_totals_that_leave_months_out_are_an_upper_bound(pack):
    """When the raw counts add up to more than the published totals allow (months left out), the link is <=."""
    raw = _raw()
    raw["all"]["reports"] = raw["all"]["reports"] + [0, 0, 9, 0, 0, 0]  # the group's areas hold 9 more
    result = audit_pack(pack, raw, families={"summary": "all", "campaign_effect": "all"},
                        groups={"targeted": TARGETED})
    assert result.problems == []
    assert result.cells.set_index("code").loc["E05000002", "ok"]


def test_images_and_untabled_files_are_listed(pack):
    (pack / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    _csv(pack / "hubs.csv", "hub,schools_served\nnew hub 1,18\n")
    result = audit_pack(pack, _raw(), families={"summary": "all", "campaign_effect": "all"},
                        groups={"targeted": TARGETED})
    listed = {f for f, _ in result.unread}
    assert {"chart.png", "hubs.csv"} <= listed
