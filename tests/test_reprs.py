"""Rich notebook displays (issue 13): every result a notebook shows is a card of facts and tables, escaped.

Oracle: the HTML parses, carries the result's own headline figures, and a name holding markup comes out
as text (``&lt;script&gt;``), never as a tag.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

import pandas as pd
import pytest

import gangmap
from gangmap import demo, measures, planning
from gangmap.notebook import notebook_inputs
from gangmap.reprs import card


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def tags(html: str) -> list[str]:
    p = _Tags()
    p.feed(html)
    return p.tags


def test_card_escapes_every_field_and_cuts_long_tables():
    evil = "<script>alert(1)</script>"
    frame = pd.DataFrame({"name": [evil] * 30, "n": range(30)})
    html = card(evil, [(evil, evil), ("skipped", None)], evil, [(evil, frame)], rows=5)
    assert "script" not in tags(html) and html.count("&lt;script&gt;") == 1 + 2 + 1 + 1 + 5
    assert "skipped" not in html and "25 more rows" in html
    assert tags(html).count("tr") == 1 + 1 + 5  # one fact row, the table's header row, five data rows


@pytest.fixture(scope="module")
def demo_table():
    p = demo.paths()
    t, _ = gangmap.join(p["wards"], reports=p["reports"], referrals=p["referrals"], schools=p["schools"],
                        population=p["population"])
    t = measures.rate(t, "reports", "population")
    t = measures.rate(t, "referrals", "population")
    return measures.need_index(t)


def test_intake_card_shows_what_was_read():
    intake = gangmap.io.read_reports(demo.paths()["reports"])
    html = intake._repr_html_()
    assert html.startswith("<div") and "Intake" in html and f"{len(intake.data):,}" in html
    assert "pre" not in tags(html)


def test_planning_results_show_as_cards(demo_table):
    p = demo.paths()
    targets = planning.read_targets(p["campaign"], demo_table)
    rec = planning.recommend(demo_table, targets, k=4, draws=0)
    sens = planning.weight_sensitivity(demo_table, k=4, targets=targets, draws=20)
    pilot = pd.read_csv(p["pilot_hub"], dtype=str)["URN"].tolist()
    hubs = planning.plan_hubs(p["schools"], p["referrals"], existing_urns={"pilot": pilot}, p=1, radius_m=6000,
                              capacity=20)
    effect = planning.evaluate_reports(p["reports"], targets)
    for result, title, figure in [
        (targets, "Targets", f"{len(targets.codes):,}"),
        (rec, "Recommendation", f"{rec.after:.0%}"),
        (sens, "Sensitivity", str(sens.k)),
        (hubs, "Hub plan", f"{hubs.need_served:,.1f}"),
        (effect, "Campaign effect", effect.verdict),
        (effect.did, "Before and after", f"{effect.did.ratio:.2f}"),
    ]:
        html = result._repr_html_()
        assert html.startswith("<div") and f"<b>{title}</b>" in html, title
        assert escape(figure) in html, (title, figure)
        assert "table" in tags(html) and "script" not in tags(html), title


def test_notebook_inputs_card_names_missing_inputs(tmp_path):
    (tmp_path / "wards.geojson").write_text("{}")
    (tmp_path / "reports.csv").write_text("x")
    nb = notebook_inputs(use_demo=False, base=tmp_path, areas="wards.geojson", reports="reports.csv", output="out")
    html = nb._repr_html_()
    assert "Notebook inputs" in html and "not given" in html
