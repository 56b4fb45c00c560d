"""Links between a pack's views cover only the counts their filters cut.

Referrals have no category: a "Weapons concern" view holds every referral. Linking referrals as a
part of the all-categories view made every ward look as if all its referrals fell in one category
(a false group disclosure), so ``build_demo(policy="threshold")`` was refused.
"""

from __future__ import annotations

import gangmap
from gangmap.pack.views import View, links_of


def test_a_category_link_covers_only_the_counts_with_categories():
    views = {"all": View("all"), "weapons": View("weapons", category=("Weapons concern",))}
    counts = {"category": ("reports",), "period": ("reports", "referrals")}
    (link,) = links_of(views, ["Weapons concern", "Drugs"], ["2018-01"], counts)
    assert link.columns == ("reports",) and link.groups and not link.complete
    # without the counts each filter cuts, every count is linked (the old behaviour, still the default)
    assert links_of(views, ["Weapons concern", "Drugs"], ["2018-01"])[0].columns is None
    # a filter that cuts no count links nothing
    assert links_of(views, ["Weapons concern"], [], {"category": (), "period": ()}) == []


def test_a_period_link_covers_the_counts_with_periods():
    views = {"all": View("all"), "q1": View("q1", period=("2018-01", "2018-02", "2018-03"))}
    counts = {"category": ("reports",), "period": ("reports", "referrals")}
    (link,) = links_of(views, [], ["2018-01", "2018-02", "2018-03", "2018-04"], counts)
    assert link.columns == ("reports", "referrals") and not link.groups


def test_the_threshold_demo_pack_builds_and_passes_its_own_audit(tmp_path):
    result = gangmap.pack.build_demo(tmp_path / "pack", policy="threshold")
    assert result.audit is not None and result.audit.ok
    assert (tmp_path / "pack" / "weapons_hotspots.html").exists()
    # every file in the folder is listed (the CLI's "Map pack written (N files)" counts them), index first
    shown = sorted(p.name for p in (tmp_path / "pack").iterdir() if not p.name.startswith("."))
    assert sorted(p.name for p in result.files) == shown and any(n.endswith("-metadata.json") for n in shown)
    assert result.files[0].name == "index.html"
