"""How many rows were not placed is itself a small count: published files carry it only as the rule allows.

The analyst's JoinReport keeps the exact figures ("2 rows (total 3) not
placed"); every published footer, CSV/XLSX note, map and the pack index
states the total only under the disclosure rule (hidden below the floor,
rounded as the counts are), never the number of rows, and filtered views
(per category, per period) state no number at all, so figures of several
views cannot be taken from one another.
"""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import gangmap
from gangmap.disclosure import make_safe

GONE = "E05999999"   # a ward code the demo boundaries do not have


def _join(demo_paths, counts):
    rows = [{"ward_code": "E05900001", "count": 12}, {"ward_code": "E05900002", "count": 9}]
    rows += [{"ward_code": GONE, "count": c} for c in counts]
    return gangmap.join(demo_paths["wards"], reports=pd.DataFrame(rows), allow_unmatched=True)


@pytest.mark.parametrize("counts, policy, options, shown", [
    ([1, 2], "nhs", {}, "some reports (too few to publish)"),          # 3: hidden like a cell of 3
    ([10, 7], "nhs", {}, "about 15 reports (rounded to 5)"),           # 17 -> 15, as a count of 17 shows
    ([10, 7], "threshold", {}, "17 reports"),                          # threshold shows 17 exactly
    ([4, 5], "threshold", {"k": 10}, "some reports (too few to publish)"),
    ([0], "nhs", {"suppress_zero": True}, "some reports (too few to publish)"),
])
def test_footer_states_the_not_placed_total_under_the_rule(demo_paths, counts, policy, options, shown):
    table, report = _join(demo_paths, counts)
    exact = f"(total {sum(counts)}) not placed"
    assert exact in report.not_placed                     # the analyst's report keeps the exact figure
    footer = make_safe(table, policy=policy, **options).provenance.footer()
    assert f"Not placed on any ward: {shown}" in footer
    assert exact not in footer and "row" not in footer.split("Not placed")[1].split("·")[0]


def test_unsafe_internal_tables_keep_the_exact_figure(demo_paths):
    table, report = _join(demo_paths, [1, 2])
    footer = make_safe(table, policy="none", allow_unsafe=True).provenance.footer()
    assert "2 rows (total 3) not placed" in footer and "INTERNAL ONLY" in footer


def _published_text(folder: Path) -> dict[str, str]:
    """Every published file as text; XLSX (zip) members are read one by one."""
    out = {}
    for f in sorted(folder.iterdir()):
        data = f.read_bytes()
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                out[f.name] = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            out[f.name] = html.unescape(data.decode("utf-8", "replace"))  # &#x27; is not a figure
    return out


def test_a_built_pack_never_publishes_the_small_not_placed_figures(tmp_path, demo_paths):
    reports = pd.read_csv(demo_paths["reports"], dtype=str)
    extra = pd.DataFrame({"ward_code": [GONE, GONE], "period": ["2018-03", "2018-02"],
                          "category": ["Going missing", "Going missing"], "count": ["1", "2"]})
    src = tmp_path / "reports.csv"
    pd.concat([reports, extra]).to_csv(src, index=False)
    cfg = {"title": "T", "inputs": {"wards": str(demo_paths["wards"]), "reports": str(src),
                                    "population": str(demo_paths["population"])},
           "maps": [{"file": "overview", "layers": ["reports_rate", "reports"]},
                    {"file": "missing", "category": ["Going missing"], "layers": ["reports"]},
                    {"file": "quarters", "kind": "time", "freq": "Q", "layers": ["reports"]}]}
    seen = {}
    result = gangmap.pack.build_pack(cfg, tmp_path / "pack", allow_unmatched=True,
                                     on_report=lambda name, rep: seen.setdefault(name, rep))
    assert "2 rows (total 3) not placed" in next(iter(seen.values())).not_placed   # exact for the analyst
    texts = _published_text(tmp_path / "pack")
    assert {"index.html", "overview.html", "missing.html", "quarters.html", "summary.csv"} <= set(texts)
    said = 0
    for name, text in texts.items():
        assert "(total 3)" not in text and "2 rows" not in text and "total 3" not in text, name
        for m in re.finditer(r"Not placed[^<\n\"·]{0,200}", text):
            said += 1
            assert not re.search(r"\d", m.group(0)), (name, m.group(0))   # 3 is below the floor: no number
    assert said >= 4          # the footers do say that something was not placed (not silently dropped)
    assert result.index.exists()
