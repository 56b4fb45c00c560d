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


def test_a_bad_layer_names_its_maps_entry(tmp_path):
    """The error names the [[maps]] entry by its file, not the internal filter name ('all')."""
    import pytest

    import gangmap
    from gangmap.errors import ConfigError

    paths = gangmap.demo.paths()
    cfg = {"title": "T", "inputs": {"wards": str(paths["wards"]), "reports": str(paths["reports"])},
           "maps": [{"file": "overview", "layers": ["reports"]},
                    {"file": "weapons", "layers": ["reports_nonsense"], "category": "Weapons concern"}]}
    with pytest.raises(ConfigError) as e:
        gangmap.pack.build_pack(cfg, tmp_path / "pack")
    assert "[[maps]] file = 'weapons'" in str(e.value) and "reports_nonsense" in str(e.value)
    assert not (tmp_path / "pack").exists()
