"""Offline HTML maps: self-contained, safe values only, escaped text, drawn in a real browser."""

from __future__ import annotations

import json
import re
from html import unescape

import geopandas as gpd
import pytest
import shapely
from browser import offline_page, screenshot

import gangmap
from gangmap import maps
from gangmap.disclosure import make_safe
from gangmap.errors import DisclosureError

HOSTILE = "<img src=x onerror=window.pwned=1>"
HOSTILE_2 = "${window.pwned2=1}`\"'</script><script>window.pwned3=1</script>"


def _grid(n=4, names=None):
    cells = [shapely.box(480_000 + 1000 * i, 260_000 + 1000 * j, 481_000 + 1000 * i, 261_000 + 1000 * j)
             for j in range(n) for i in range(n)]
    k = len(cells)
    names = list(names or []) + [f"Ward {i}" for i in range(len(names or []), k)]
    return gpd.GeoDataFrame({
        "ward_code": [f"E05{900001 + i}" for i in range(k)],
        "ward_name": names[:k],
        "lad_code": ["E07900001" if i % n < n // 2 else "E07900002" for i in range(k)],
        "lad_name": ["West<b>" if i % n < n // 2 else "East & Co" for i in range(k)],
        "geometry": cells}, crs=27700)


def _data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="gm-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


@pytest.fixture
def hostile_safe():
    g = _grid(names=[HOSTILE, HOSTILE_2])
    g["reports"] = [3, 0, 40, 12, 55, 8, 1, 7, 100, 23, 0, 64, 19, 5, 31, 16]
    return make_safe(g, ["reports"])


def test_map_refuses_unsafe_table():
    g = _grid()
    g["reports"] = 1
    with pytest.raises(DisclosureError, match="make_safe"):
        maps.choropleth(g, "reports")


def test_html_is_self_contained(hostile_safe):
    html = maps.choropleth(hostile_safe, "reports", title="T").html
    # No external resources in the markup: no src/href to a URL, no <link>, no @import, no url(http).
    # (Script bodies are checked at run time by the browser tests, which block every request.)
    markup = re.sub(r"<script[^>]*>.*?</script>", "<script></script>", html, flags=re.S)
    assert not re.search(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', markup, re.I)
    assert "<script src" not in markup.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html
    assert not re.search(r"url\(\s*['\"]?https?:", html)
    assert "Content-Security-Policy" in html and "default-src 'none'" in unescape(html)
    # Leaflet itself is inlined from xstatic-leaflet.
    assert "Leaflet" in html and "L.map" in html


def test_embedded_data_holds_safe_values_only(hostile_safe):
    data = _data(maps.choropleth(hostile_safe, "reports").html)
    layer = next(ly for ly in data["layers"] if ly["kind"] == "area")
    raw = [3, 0, 40, 12, 55, 8, 1, 7, 100, 23, 0, 64, 19, 5, 31, 16]
    # The class codes travel in the data (the viewer has no numbers of its own), from maps.classify.
    assert data["codes"] == {"suppressed": maps.SUPPRESSED, "nodata": maps.NO_DATA}
    for r, shown, cls in zip(raw, layer["values"], layer["cls"]):
        if 1 <= r <= 7:
            assert shown == hostile_safe.policy.marker and cls == data["codes"]["suppressed"]
        else:
            assert int(shown) % 5 == 0 and abs(int(shown) - r) <= 2
    # Nothing but names, codes, districts, geometry and label points about the areas.
    assert set(data["areas"]) == {"codes", "names", "parents", "geoms", "label_at"}
    assert all(len(p) == 2 and all(isinstance(v, int) for v in p) for p in data["areas"]["label_at"])
    # The legend has a suppressed class labelled with the rule.
    labels = [it["label"] for it in layer["legend"]["items"]]
    assert "1–7 (suppressed)" in labels


def test_class_breaks_come_from_safe_values(hostile_safe):
    layer = maps.area_layer(hostile_safe, "reports", scheme="equal_interval", k=4)
    shown = hostile_safe.frame["reports"].dropna()
    assert layer.classes.bins[-1] == shown.max() == 100
    assert min(layer.classes.assignment) == maps.SUPPRESSED  # suppressed class used
    assert layer.to_json()["bins"][-1] == 100


def test_hostile_names_do_not_run_and_show_as_text(tmp_path, hostile_safe):
    path = maps.choropleth(hostile_safe, "reports", title=HOSTILE, subtitle=HOSTILE_2).save(tmp_path / "h.html")
    html = path.read_text()
    assert HOSTILE not in html  # never raw in the markup
    with offline_page(path) as (page, requests):
        assert page.evaluate("typeof window.pwned") == "undefined"
        assert page.evaluate("typeof window.pwned2") == "undefined"
        assert page.evaluate("typeof window.pwned3") == "undefined"
        assert page.locator(".gm-title").inner_text() == HOSTILE
        # Hover the hostile ward: its name appears as text in the tooltip.
        first = page.locator("path.leaflet-interactive").nth(0)
        first.hover()
        tip = page.locator(".leaflet-tooltip:not(.gm-label)").first
        assert HOSTILE in tip.inner_text()
        assert page.locator(".leaflet-tooltip img").count() == 0
        assert page.evaluate("typeof window.pwned") == "undefined"
        assert requests == []
        assert page.errors == []
        screenshot(page, "hostile_names.png")


def test_demo_map_offline_hover_and_legend_toggle(tmp_path):
    files = gangmap.pack.build_demo(tmp_path)
    html_path = next(f for f in files if f.name == "overview.html")
    with offline_page(html_path) as (page, requests):
        assert page.locator("path.leaflet-interactive").count() == 60
        legend = page.locator("#gm-legend")
        assert "Need index" in legend.inner_text()
        # Hover a ward: the tooltip shows its name, code and the safe value.
        page.locator("path.leaflet-interactive").nth(5).hover()
        tip = page.locator(".leaflet-tooltip:not(.gm-label)").first.inner_text()
        assert "E059" in tip and "Need index" in tip
        # Switch the area layer: the legend swaps to the new layer's.
        page.locator("#gm-layers input[data-layer='area-reports']").check()
        text = legend.inner_text()
        assert "Reports (count)" in text and "Need index" not in text
        # Overlays from the planner: current campaign areas and recommended wards.
        assert "Current campaign areas" in text and "Recommended next wards" in text
        # Hide district outlines: their legend goes too.
        assert "District boundary" in text
        page.locator("#gm-layers input[data-layer='outline-districts']").uncheck()
        assert "District boundary" not in legend.inner_text()
        # Search a ward by name.
        page.fill("#gm-search", "Kingsford Mill")
        page.keyboard.press("Enter")
        assert "Kingsford Mill" in page.locator(".leaflet-tooltip:not(.gm-label)").last.inner_text()
        screenshot(page, "demo_map.png")
        assert requests == [], requests
        assert page.errors == []


@pytest.mark.realdata
def test_northamptonshire_map_offline(shared_data, tmp_path):
    table, report = gangmap.join(shared_data / "boundaries" / "northamptonshire_wards_2013.geojson",
                                 reports=shared_data / "police" / "2018-03-northamptonshire-street.csv")
    safe = make_safe(table, ["reports"], period="2018-03")
    path = maps.choropleth(safe, "reports", title="Northamptonshire, police.uk March 2018").save(tmp_path / "n.html")
    with offline_page(path) as (page, requests):
        assert page.locator("path.leaflet-interactive").count() == 146
        assert requests == []
        shot = screenshot(page, "northamptonshire_offline.png")
    assert shot.stat().st_size > 10_000


def test_prints_on_one_a4_landscape_page(tmp_path, hostile_safe):
    path = maps.choropleth(hostile_safe, "reports", title="Print me").save(tmp_path / "p.html")
    with offline_page(path) as (page, requests):
        pdf = page.pdf(format="A4", landscape=True, print_background=True)
        page.emulate_media(media="print")
        # Title, footer and marking stay visible in print; controls are hidden.
        assert page.locator(".gm-title").is_visible() and page.locator(".gm-footer").is_visible()
        assert page.locator(".gm-marking").first.is_visible()
        assert not page.locator("#gm-search").is_visible()
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    box = [float(v) for v in re.search(rb"/MediaBox \[([^\]]*)\]", pdf).group(1).split()]
    assert box[2] > box[3]  # landscape


def test_online_basemap_fails_gracefully(tmp_path, hostile_safe):
    """With an online basemap and no network the map is still drawn and usable."""
    doc = maps.choropleth(hostile_safe, "reports", tiles="https://tiles.invalid/{z}/{x}/{y}.png")
    path = doc.save(tmp_path / "tiles.html")
    with offline_page(path) as (page, requests):
        assert page.locator("path.leaflet-interactive").count() == 16
        assert any("tiles.invalid" in r for r in requests)  # tried, and blocked
        assert page.errors == []
        page.locator("path.leaflet-interactive").nth(3).hover()
        assert "Ward 3" in page.locator(".leaflet-tooltip:not(.gm-label)").first.inner_text()
        # District labels give context without the basemap.
        assert page.locator(".gm-label").count() == 2
    with pytest.raises(gangmap.GangmapError, match="https"):
        maps.choropleth(hostile_safe, "reports", tiles="http://tiles.invalid/{z}/{x}/{y}.png")


def test_subdomain_basemap_template_is_allowed_by_one_wildcard_source(hostile_safe):
    """The usual ``https://{s}.tile...`` template: the CSP allows ``https://*.tile...`` and nothing wider."""
    html = maps.choropleth(hostile_safe, "reports", tiles="https://{s}.tile.example.org/{z}/{x}/{y}.png").html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    assert "img-src data: https://*.tile.example.org;" in csp
    for bad in ("https://{s}/{z}/{x}/{y}.png", "https://{s}.{s}.example.org/{z}.png", "https://x.org{s}/{z}.png"):
        with pytest.raises(gangmap.GangmapError, match="URL template"):
            maps.choropleth(hostile_safe, "reports", tiles=bad)


@pytest.fixture(scope="module")
def demo_pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack")
    return gangmap.pack.build_demo(out)


def test_every_pack_map_opens_offline_and_draws(demo_pack):
    htmls = [f for f in demo_pack if f.suffix == ".html" and f.name != "index.html"]
    assert len(htmls) == len(gangmap.pack.load_config(gangmap.demo.paths()["pack"]).maps) == 5
    for f in htmls:
        with offline_page(f) as (page, requests):
            assert page.locator("path.leaflet-interactive").count() >= 60, f.name
            assert requests == [] and page.errors == [], f.name
            screenshot(page, f"pack_{f.stem}.png")
        assert f.stat().st_size < 400_000, f.name


def test_pack_index_links_and_thumbnails(demo_pack):
    index = demo_pack[0]
    assert index.name == "index.html"
    html = index.read_text()
    for name in ("overview.html", "hubs.html", "weapons_hotspots.html", "over_time.html", "emerging_hotspots.html",
                 "summary.csv"):
        assert name in html
    assert html.count("data:image/png;base64,") == 5
    for word in ("Methods", "Caveats", "Where next", "OFFICIAL-SENSITIVE", "Disclosure: nhs"):
        assert word in html
    with offline_page(index, ready=False) as (page, requests):
        assert requests == []
        assert page.locator("figure img").count() == 5


def test_pack_png_uses_the_map_classes(demo_pack):
    from PIL import Image

    png = next(f for f in demo_pack if f.name == "overview.png")
    img = Image.open(png).convert("RGB")
    colours = {c for _, c in img.getcolors(maxcolors=1_000_000)}
    # The first class colours of the YlOrRd palette used by the HTML legend are in the image.
    for hexcol in ("#ffffb2", "#bd0026"):
        rgb = tuple(int(hexcol[i:i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, hexcol


def test_dollar_signs_in_titles_and_names_are_drawn_as_written(tmp_path, hostile_safe):
    """matplotlib would read ``$...$`` as TeX: ``$\\nope{$`` fails to draw and ``$x_1$`` becomes a formula."""
    bad = r"Rate $\nope{$ and $x_1$"
    doc = maps.choropleth(hostile_safe, "reports", title=bad)
    fig = doc.figure()
    fig.canvas.draw()  # raises ValueError if any text is parsed as mathtext
    assert bad in [t.get_text() for t in fig.texts]
    assert doc.to_png(tmp_path / "bad.png").stat().st_size > 0
    g = _grid(names=[r"Ward $\nope{$"])
    g["reports"] = [30] * 16
    g["population"] = 1000
    fig = gangmap.measures.funnel_plot(g, "reports", "population", title=bad, label="ward_name")
    fig.canvas.draw()
