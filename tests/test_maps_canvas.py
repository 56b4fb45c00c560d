"""The viewer's own canvas renderer (maps of many areas), checked in offline Chromium on a small map.

Oracles, all computed here in Python, independently of the viewer:
* the area under a point: shapely's containment on the input polygons;
* the colour under a point: the class of that area in the map's data, read
  back from the canvas's pixels;
* what the reader sees on hover: the area's code and value in the tooltip;
* sizing, printing and search: the same checks as for the SVG renderer.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from browser import (
    CANVAS_PIXEL,
    MAP_STATE,
    assert_drawn,
    expected_fills,
    frame_when_ready,
    hex_rgb,
    offline_page,
    screenshot,
    wait_for,
)

import gangmap
from gangmap import maps
from gangmap.errors import GangmapError

pytestmark = pytest.mark.browser

X0, Y0, SIDE, N = 480_000, 260_000, 1000, 6
#: The hover/search tooltip (not the permanent district labels).
TIP = ".leaflet-tooltip:not(.gm-label):not(.gm-area-label)"


def coverage() -> gpd.GeoDataFrame:
    """A 6 x 6 grid of 1 km wards: one with a hole filled by an enclave ward, two cells that are one ward."""
    cells = {(i, j): shapely.box(X0 + SIDE * i, Y0 + SIDE * j, X0 + SIDE * (i + 1), Y0 + SIDE * (j + 1))
             for j in range(N) for i in range(N)}
    hole = shapely.box(X0 + 2300, Y0 + 2300, X0 + 2700, Y0 + 2700)
    geoms = []
    for key, cell in cells.items():
        if key == (5, 2):
            continue  # part of (5, 0)
        if key == (2, 2):
            cell = cell.difference(hole)
        if key == (5, 0):
            cell = shapely.MultiPolygon([cell, cells[(5, 2)]])
        geoms.append(cell)
    geoms.append(hole)
    k = len(geoms)
    g = gpd.GeoDataFrame({
        "ward_code": [f"E05{900001 + i}" for i in range(k)], "ward_name": [f"Ward {i}" for i in range(k)],
        "lad_code": ["E07900001" if shapely.centroid(x).x < X0 + 3000 else "E07900002" for x in geoms],
        "lad_name": ["Westmere" if shapely.centroid(x).x < X0 + 3000 else "Eastmere" for x in geoms],
        "geometry": geoms}, crs=27700)
    g["reports"] = np.random.default_rng(7).poisson(30, k).astype(float)
    g.loc[[3, 10, 17], "reports"] = 4  # suppressed under nhs
    g.loc[22, "reports"] = np.nan      # no data
    return g


@pytest.fixture(scope="module")
def areas():
    return coverage()


@pytest.fixture(scope="module")
def safe(areas):
    return gangmap.make_safe(areas, ["reports"])


def probe_points(areas: gpd.GeoDataFrame) -> list[tuple[int, float, float]]:
    """(area, lon, lat): a point well inside each area (at least 100 m from any border)."""
    out = []
    for i, geom in enumerate(areas.geometry):
        part = max(shapely.get_parts(geom), key=lambda p: p.area)
        p = shapely.ops.polylabel(part, tolerance=1.0)
        assert shapely.distance(p, geom.boundary) >= 100
        out.append((i, p))
    pts = gpd.GeoSeries([p for _, p in out], crs=27700).to_crs(4326)
    return [(i, pt.x, pt.y) for (i, _), pt in zip(out, pts)]


def test_canvas_draws_each_area_in_its_class_colour_and_hover_finds_it(tmp_path, areas, safe):
    doc = maps.choropleth(safe, "reports", renderer="canvas")
    data = doc.data
    assert data["options"]["renderer"] == "canvas"
    layer = next(ly for ly in data["layers"] if ly["kind"] == "area")
    fills = expected_fills(data, layer)
    assert data["styles"]["suppressed"] in fills and data["styles"]["nodata"] in fills
    alpha = round(data["style"]["area"]["fill_opacity"] * 255)
    with offline_page(doc.save(tmp_path / "c.html")) as (page, requests):
        s = page.evaluate(MAP_STATE)
        assert s["canvas"]
        assert_drawn([s], "canvas map")
        assert page.locator("path.leaflet-interactive").count() == 0  # no SVG element per area
        for i, lon, lat in probe_points(areas):
            r, g, b, a, x, y = page.evaluate(CANVAS_PIXEL, [lon, lat])
            want = hex_rgb(fills[i])
            close = abs(a - alpha) <= 3 and all(abs(u - v) <= 3 for u, v in zip((r, g, b), want))
            assert close, (i, (r, g, b, a), want)
            page.mouse.move(x, y)
            tip = wait_for(page, f"(document.querySelector('{TIP}') || {{}}).innerText")
            assert safe.frame["ward_code"].iloc[i] in tip and layer["values"][i] in tip, (i, tip)
        # Outside every area: no tooltip.
        page.mouse.move(5, s["map"][1] + 5)
        wait_for(page, f"!document.querySelector('{TIP}')")
        screenshot(page, "canvas_map.png")
        assert requests == [] and page.errors == []


def test_point_in_polygon_agrees_with_shapely(tmp_path, areas, safe):
    """The renderer's hit test on the decoded geometry, at random points, against shapely's containment."""
    doc = maps.choropleth(safe, "reports", renderer="canvas")
    rng = np.random.default_rng(3)
    xy = rng.uniform((X0 - 300, Y0 - 300), (X0 + N * SIDE + 300, Y0 + N * SIDE + 300), (600, 2))
    pts = shapely.points(xy)
    geoms = areas.geometry.values
    border = shapely.union_all(shapely.boundary(geoms))
    clear = shapely.distance(pts, border) > 5  # quantisation moves borders by about a metre
    truth = np.full(len(pts), -1)
    for i, g in enumerate(geoms):
        truth[shapely.contains(g, pts)] = i
    lonlat = gpd.GeoSeries(pts, crs=27700).to_crs(4326)
    with offline_page(doc.save(tmp_path / "p.html")) as (page, _):
        got = page.evaluate("(pts) => pts.map(([x, y]) => window.gmAreas.hit(L.latLng(y, x)))",
                            [[p.x, p.y] for p in lonlat])
    got = np.asarray(got)
    assert clear.sum() > 500 and (truth[clear] >= 0).sum() > 400 and (truth[clear] == -1).sum() > 20
    assert (got[clear] == truth[clear]).all(), np.flatnonzero(got[clear] != truth[clear])


def _host(tmp_path, doc):
    host = tmp_path / "host.html"
    host.write_text(f'<!DOCTYPE html><html><body style="margin:0"><div id="wrap" style="display:none;width:900px">'
                    f'{doc._repr_html_()}</div></body></html>', encoding="utf-8")
    return host


def test_canvas_map_hidden_at_load_draws_when_shown_and_prints_every_area(tmp_path, safe):
    doc = maps.choropleth(safe, "reports", renderer="canvas")
    with offline_page(_host(tmp_path, doc), ready=False) as (page, requests):
        frame = frame_when_ready(page)
        assert frame.evaluate("window.gmDrawn === false")
        page.evaluate("document.getElementById('wrap').style.display = 'block'")
        wait_for(frame, "window.gmDrawn === true")
        assert_drawn([frame.evaluate(MAP_STATE)], "shown")
        assert requests == []
    with offline_page(doc.save(tmp_path / "print.html")) as (page, requests):
        page.evaluate("window.gmMap.setView([52.25, -0.80], 15, {animate: false})")  # the reader zoomed in
        page.emulate_media(media="print")
        wait_for(page, "document.body.classList.contains('gm-printing')")
        s = page.evaluate(MAP_STATE)
        x0, y0, x1, y1 = s["union"]
        assert x0 >= 0 and y0 >= 0 and x1 <= s["size"][0] and y1 <= s["size"][1], s
        assert s["polygons"] == s["areas"], s  # every area painted on the printed page
        screenshot(page, "canvas_print.png")
        assert requests == [] and page.errors == []


def test_canvas_search_marks_and_clears(tmp_path, safe):
    doc = maps.choropleth(safe, "reports", renderer="canvas")
    outlines = """() => { let n = 0; window.gmMap.eachLayer(l => {
        if (l instanceof L.Polygon && l.options.weight === window.gmStyle.marked.weight) { n += 1; } }); return n; }"""
    with offline_page(doc.save(tmp_path / "s.html")) as (page, requests):
        page.evaluate("window.gmStyle = JSON.parse(document.getElementById('gm-data').textContent).style")
        assert page.locator("#gm-area-list option").count() == 0  # built when the search box is first used
        page.fill("#gm-search", "Ward 12")
        page.keyboard.press("Enter")
        assert page.locator("#gm-area-list option").count() == len(safe.frame)
        tip = wait_for(page, f"(document.querySelector('{TIP}') || {{}}).innerText")
        assert "E05900013" in tip and page.evaluate(outlines) == 1
        page.fill("#gm-search", "")
        page.dispatch_event("#gm-search", "search")
        wait_for(page, f"({outlines})() === 0")
        assert requests == [] and page.errors == []


def test_renderer_is_chosen_by_size_or_asked_for(safe, monkeypatch):
    assert maps.choropleth(safe, "reports").data["options"]["renderer"] == "svg"
    monkeypatch.setattr(maps.document, "CANVAS_ABOVE", 10)
    assert maps.choropleth(safe, "reports").data["options"]["renderer"] == "canvas"
    assert maps.choropleth(safe, "reports", renderer="svg").data["options"]["renderer"] == "svg"
    with pytest.raises(GangmapError, match="renderer"):
        maps.choropleth(safe, "reports", renderer="webgl")
