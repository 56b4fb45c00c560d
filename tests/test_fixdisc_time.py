"""A total hidden in a pack's main table stays hidden wherever the pack shows that table again.

The time layers (trends, emerging hotspots) remake the table they are added
to with the suppression pattern of the linked, protected table. The pattern
once carried only the hidden *area* cells, so a district total that the
linked check had hidden came back in the remade table (summary.xlsx's totals
sheet) and in the planning tables made with ``pattern=summary``.
"""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

import gangmap
import gangmap.disclosure as disclosure
from gangmap.disclosure import Pattern, make_safe
from gangmap.disclosure.pattern import as_pattern


def _district_of(safe) -> str:
    t = safe.totals
    return str(t.loc[t["level"] == "district", "code"].iloc[0])


@pytest.fixture(scope="module")
def demo_table():
    from gangmap import joining
    from gangmap.pack.config import load_config
    from gangmap.pack.views import read_inputs

    cfg = load_config(gangmap.demo.paths()["pack"])
    inputs = read_inputs(cfg)
    cube, _ = joining.build_cube(inputs.areas, reports=inputs.reports, population=inputs.population)
    return cube.table()


def test_a_safe_tables_pattern_carries_its_hidden_totals(demo_table):
    """``pattern=safe`` means every cell ``safe`` hides, its totals included."""
    first = make_safe(demo_table, ["reports"])
    code = _district_of(first)
    hiding = make_safe(demo_table, ["reports"], pattern=Pattern.from_cells(totals={"reports": [("district", code)]}))
    assert ("district", code) in as_pattern(hiding).totals["reports"]
    again = make_safe(demo_table, ["reports"], pattern=hiding)
    hidden = again.totals.set_index("code")["reports_suppressed"]
    assert bool(hidden[code])
    # and no cell hidden before is shown now
    assert not (hiding.suppressed["reports"] & ~again.suppressed["reports"]).any()
    assert (hiding.totals["reports_suppressed"].to_numpy() <= again.totals["reports_suppressed"].to_numpy()).all()


def _totals_sheet(path) -> pd.DataFrame:
    wb = openpyxl.load_workbook(path, data_only=True)
    rows = list(wb["totals"].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_a_total_the_linked_check_hides_stays_hidden_in_the_time_views(tmp_path, monkeypatch):
    """The demo pack, with the linked check made to hide one district total of the unfiltered view
    (as it does when another view would give that total away): the emerging-hotspot layers remake that
    view, and the total must stay hidden in everything written from it."""
    real = disclosure.protect_linked
    hidden: dict[str, str] = {}

    def hiding_a_total(tables, links, *, options, **kw):
        linked = real(tables, links, options=options, **kw)
        safe = linked.safe["all"]
        code = hidden.setdefault("code", _district_of(safe))
        pattern = Pattern.of(safe, totals=True).union(Pattern.from_cells(totals={"reports": [("district", code)]}))
        linked.safe["all"] = make_safe(tables["all"], pattern=pattern, **kw, **options["all"])
        assert bool(linked.safe["all"].totals.set_index("code").loc[code, "reports_suppressed"])
        return linked

    monkeypatch.setattr(disclosure, "protect_linked", hiding_a_total)
    out = tmp_path / "pack"
    result = gangmap.pack.build_demo(out)
    assert "code" in hidden, "the pack did not run the linked check"
    totals = _totals_sheet(out / "summary.xlsx").set_index("code")
    assert totals.loc[hidden["code"], "reports"] == "*", totals  # shown (a number) before the fix
    assert result.audit is not None and result.audit.ok
