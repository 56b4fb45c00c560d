"""The index page's Methods describe what the pack shows, not every method gangmap has."""

from __future__ import annotations

from gangmap.pack.page import METHODS, methods_for


def test_methods_follow_the_layers_and_files_of_the_pack():
    titles = lambda used: [t for t, _ in methods_for(used)]  # noqa: E731
    assert titles(["reports"]) == ["Disclosure"]
    assert titles(["reports_rate", "overview_funnel_reports.png"]) == ["Rates", "Funnel plots", "Disclosure"]
    assert titles(["reports_ehsa", "campaign_effect.csv"]) == ["Emerging hot spots", "Campaign effect", "Disclosure"]
    assert titles(["reports_rate_lisa", "time"]) == ["Rates", "Hotspots", "Trends", "Disclosure"]
    assert titles(None) == [t for t, _, _ in METHODS]  # no list given: every method


def test_the_demo_index_names_its_methods(tmp_path):
    import gangmap

    result = gangmap.pack.build_demo(tmp_path / "pack")
    page = result.index.read_text(encoding="utf-8")
    for title in ("Rates", "Emerging hot spots", "Campaign effect", "Funnel plots", "Disclosure"):
        assert f"<dt>{title}</dt>" in page
