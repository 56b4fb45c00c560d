"""The viewer in a real (offline) Chromium: sizing, panels, search, wheel, labels, print, untrusted outputs.

Each test checks what the analyst or the meeting sees, measured in the page:
Leaflet's own bounds and container points, the panels' bounding boxes, the
marked polygons and open tooltips, the fitted bounds when printing against
the bounds of the decoded areas computed here in Python.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from browser import MAP_STATE, assert_drawn, frame_when_ready, intersect, offline_page, screenshot, wait_for

import gangmap
from gangmap import maps
from gangmap.maps import packing, topology

pytestmark = pytest.mark.browser

NAMES = ["Castle", "Abbey", "St. James", "Castle", "Saint Crispin's", "Abbey", "Ébène & Co"]


def grid(n=4, names=(), seed=3):
    cells = [shapely.box(480_000 + 1000 * i, 260_000 + 1000 * j, 481_000 + 1000 * i, 261_000 + 1000 * j)
             for j in range(n) for i in range(n)]
    k = len(cells)
    names = list(names) + [f"Ward {i}" for i in range(len(names), k)]
    g = gpd.GeoDataFrame({
        "ward_code": [f"E05{900001 + i}" for i in range(k)], "ward_name": names[:k],
        "lad_code": ["E07900001" if i % n < n // 2 else "E07900002" for i in range(k)],
        "lad_name": ["Northwold" if i % n < n // 2 else "Southmere" for i in range(k)],
        "geometry": cells}, crs=27700)
    g["reports"] = np.random.default_rng(seed).poisson(14, k)
    g.loc[[2, 9], "reports"] = 3  # suppressed under nhs
    return g


@pytest.fixture
def safe():
    return gangmap.make_safe(grid(names=NAMES), ["reports"])


def _data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="gm-data">(.*?)</script>', html, re.S).group(1))


def _with_data(html: str, data: dict) -> str:
    m = re.search(r'(<script type="application/json" id="gm-data">)(.*?)(</script>)', html, re.S)
    return html[:m.start(2)] + maps.json_for_html(data) + html[m.end(2):]


def decoded_bounds(data: dict) -> tuple[float, float, float, float]:
    """(west, south, east, north) of every area as the data encodes it, decoded here."""
    q, arcs = data["q"], packing.read_arcs(data["arcs"])
    dec = topology.decode_arcs(q, arcs)
    pts = np.concatenate([r for g in packing.read_geoms(data["areas"]["geoms"])
                          for poly in topology.decode(q, arcs, g, dec) for r in poly])
    return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


MARKED = """() => { let n = 0; window.gmMap.eachLayer(l => {
    if (l instanceof L.Polygon && l.options.interactive !== false && l.options.weight === 4) { n += 1; } });
    return n; }"""
#: Open tooltips (a closing one fades out for 200 ms first: it does not count).
OPEN_TIPS = """() => [...document.querySelectorAll('.leaflet-tooltip:not(.gm-label):not(.gm-area-label)')]
    .filter(t => getComputedStyle(t).opacity !== '0').length"""


def _search(page, text: str) -> tuple[int, str, str]:
    page.fill("#gm-search", text)
    page.keyboard.press("Enter")
    page.wait_for_timeout(100)
    tips = page.locator(".leaflet-tooltip:not(.gm-label):not(.gm-area-label)")
    tip = tips.last.inner_text() if tips.count() else ""
    return page.evaluate(MARKED), tip, page.locator("#gm-search-status").inner_text()


def test_search_tells_duplicates_apart_folds_names_and_clears(tmp_path, safe):
    path = maps.choropleth(safe, "reports").save(tmp_path / "s.html")
    with offline_page(path) as (page, requests):
        options = page.eval_on_selector_all("#gm-area-list option", "os => os.map(o => o.value)")
        for label in ("Castle (Northwold)", "Castle (Southmere)", "Abbey (Northwold, E05900002)",
                      "Abbey (Northwold, E05900006)", "St. James", "Ébène & Co"):
            assert label in options, options
        assert len(options) == len(set(options)) == 16
        # Every duplicate is reachable, alone, by its label.
        for label, code in (("Castle (Northwold)", "E05900001"), ("Castle (Southmere)", "E05900004"),
                            ("Abbey (Northwold, E05900002)", "E05900002"),
                            ("Abbey (Northwold, E05900006)", "E05900006")):
            marked, tip, _ = _search(page, label)
            assert marked == 1 and code in tip, (label, marked, tip)
            assert page.evaluate(OPEN_TIPS) == 1
        # A bare duplicate name shows all of them and says so.
        marked, _, status = _search(page, "castle")
        assert marked == 2 and "2 wards match" in status and "Castle (Southmere)" in status
        # Folding: punctuation, case, accents, "&"/"and", "St"/"St."/"Saint"; and codes.
        for query, code in (("st. james", "E05900003"), ("saint james", "E05900003"), ("ST JAMES", "E05900003"),
                            ("st crispins", "E05900005"), ("ebene and co", "E05900007"),
                            ("e05900010", "E05900010")):
            marked, tip, _ = _search(page, query)
            assert marked == 1 and code in tip, (query, marked, tip)
            assert page.evaluate(OPEN_TIPS) == 1  # the old highlight and tooltip are gone
        marked, _, status = _search(page, "no such place")
        assert marked == 0 and page.evaluate(OPEN_TIPS) == 0 and "No ward matches" in status
        assert page.get_attribute("#gm-search", "placeholder") == "Find a ward…"
        assert requests == [] and page.errors == []


def test_wheel_zooms_only_with_focus_and_reset_view(tmp_path, safe):
    path = maps.choropleth(safe, "reports").save(tmp_path / "w.html")
    with offline_page(path) as (page, requests):
        box = page.locator("#gm-map").bounding_box()
        x, y = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5
        z0 = page.evaluate("window.gmMap.getZoom()")
        page.mouse.move(x, y)
        page.mouse.wheel(0, -600)
        page.wait_for_timeout(400)
        assert page.evaluate("window.gmMap.getZoom()") == z0  # scrolling past never zooms
        assert "gm-show" in page.get_attribute(".gm-hint", "class")
        page.mouse.click(x, y)
        wait_for(page, "window.gmMap.scrollWheelZoom.enabled()")
        page.mouse.wheel(0, -600)
        assert wait_for(page, f"window.gmMap.getZoom() > {z0}", timeout_ms=30_000)
        page.wait_for_timeout(600)  # the rest of the wheel's zoom lands before the reset
        page.locator("#gm-reset").click()
        state = page.evaluate(MAP_STATE)
        assert state["zoom"] == pytest.approx(z0) and not state["user"]
        assert_drawn([state], "after reset")
        # Focus elsewhere: the wheel stops zooming again.
        page.locator("#gm-search").focus()
        page.mouse.move(x, y)
        page.mouse.wheel(0, -600)
        page.wait_for_timeout(400)
        assert page.evaluate("window.gmMap.getZoom()") == pytest.approx(z0)
        assert requests == [] and page.errors == []


def test_area_names_on_and_off(tmp_path, safe):
    path = maps.choropleth(safe, "reports").save(tmp_path / "l.html")
    on = maps.choropleth(safe, "reports", labels=True).save(tmp_path / "l_on.html")
    with offline_page(path) as (page, _):
        assert page.locator(".gm-area-label").count() == 0
        assert page.locator("label.gm-names-toggle").inner_text().strip() == "Ward names"
        page.locator("#gm-labels").check()
        assert page.locator(".gm-area-label").count() == 16
        assert "Ébène & Co" in page.locator(".gm-area-label").all_inner_texts()
        page.locator("#gm-labels").uncheck()
        wait_for(page, "document.querySelectorAll('.gm-area-label').length === 0")
    with offline_page(on) as (page, _):
        assert page.locator(".gm-area-label").count() == 16 and page.locator("#gm-labels").is_checked()
        screenshot(page, "viewer_area_names.png")


def _many_layers_doc(safe):
    g = grid(names=NAMES)
    pts = gpd.GeoDataFrame({"name": g["ward_name"]}, geometry=g.centroid, crs=27700).iloc[::3]
    layers = [maps.area_layer(safe, "reports", visible=True, k=7)]
    layers += [maps.area_layer(safe, "reports", layer_id=f"area-reports-{s}", name=f"Reports, {s.replace('_', ' ')}",
                               scheme=s) for s in ("equal_interval", "natural_breaks", "box_plot")]
    layers += [maps.district_outlines(safe),
               maps.outline_layer(g.iloc[:3][["geometry"]].dissolve(), name="Current campaign areas", color="#1b7837"),
               maps.outline_layer(g.iloc[9:11], name="Recommended next wards", label="ward_name", color="#762a83",
                                  dash="6 4", layer_id="outline-recommended"),
               maps.points_layer(pts, name="Schools", label="name", visible=True)]
    return maps.make_map(safe, layers, title="Many layers")


@pytest.mark.parametrize("size", [(1280, 800), (900, 560), (700, 460), (560, 380), (420, 320), (360, 260)])
def test_legend_and_layer_control_never_overlap(tmp_path, safe, size):
    path = _many_layers_doc(safe).save(tmp_path / "p.html")
    w, h = size
    with offline_page(path, width=w, height=h) as (page, requests):
        for opened in (None, True):
            if opened:  # the reader opens every panel: still apart, each scrolls inside the map
                page.evaluate("document.querySelectorAll('#gm-dock details').forEach(d => { d.open = true; })")
                page.wait_for_timeout(100)
            s = page.evaluate(MAP_STATE)
            assert_drawn([s], f"{w}x{h}")
            assert s["layers"] and s["legend"]
            assert not intersect(s["layers"], s["legend"]), s
            for panel in (s["layers"], s["legend"]):  # inside the map box
                m = s["map"]
                assert panel[0] >= m[0] - 1 and panel[1] >= m[1] - 1 and panel[2] <= m[2] + 1 and panel[3] <= m[3] + 1
        screenshot(page, f"viewer_panels_{w}x{h}.png")
        assert requests == [] and page.errors == []


def _host(tmp_path: Path, doc, *, hidden: bool) -> Path:
    style = "display:none" if hidden else ""
    host = tmp_path / "host.html"
    host.write_text(f'<!DOCTYPE html><html><body style="margin:0"><div id="wrap" style="{style};width:900px">'
                    f'{doc._repr_html_()}</div></body></html>', encoding="utf-8")
    return host


def test_a_frame_hidden_at_load_draws_when_shown_and_after_every_change(tmp_path, safe):
    """Notebook tabs and folded outputs: the frame starts with no size, is hidden and shown, resized."""
    doc = maps.choropleth(safe, "reports")
    with offline_page(_host(tmp_path, doc, hidden=True), ready=False) as (page, requests):
        console = []
        page.on("console", lambda m: console.append(m.text))
        frame = frame_when_ready(page)
        assert frame.evaluate("window.gmDrawn === false")
        page.evaluate("document.getElementById('wrap').style.display = 'block'")
        wait_for(frame, "window.gmDrawn === true")
        assert_drawn([frame.evaluate(MAP_STATE)], "shown")
        for width in ("500px", "1100px", "700px"):
            page.evaluate("document.getElementById('wrap').style.display = 'none'")
            page.wait_for_timeout(200)
            page.evaluate(f"document.getElementById('wrap').style.width = '{width}'")
            page.evaluate("document.getElementById('wrap').style.display = 'block'")
            wait_for(frame, f"Math.abs(window.gmMap.getSize().x - {int(width[:-2])}) < 4", timeout_ms=30_000)
            s = frame.evaluate(MAP_STATE)
            assert_drawn([s], f"shown again at {width}")
            assert abs(s["size"][0] - int(width[:-2])) < 4
        # A view the reader chose is kept through hiding and showing.
        frame.evaluate("window.gmMap.setZoom(window.gmMap.getZoom() + 1)")
        page.wait_for_timeout(400)
        zoom = frame.evaluate("window.gmMap.getZoom()")
        page.evaluate("document.getElementById('wrap').style.display = 'none'")
        page.wait_for_timeout(200)
        page.evaluate("document.getElementById('wrap').style.display = 'block'")
        page.wait_for_timeout(400)
        s = frame.evaluate(MAP_STATE)
        assert s["user"] and s["zoom"] == zoom and s["finite"] == 16
        assert not [c for c in console if "NaN" in c or "Invalid LatLng" in c], console
        assert requests == [] and page.errors == []
        screenshot(page, "viewer_hidden_then_shown.png")


def test_the_viewer_reads_the_class_codes_from_the_data(tmp_path, safe):
    """No number of the viewer's own: move the codes in the data and the map still draws the same."""
    doc = maps.choropleth(safe, "reports")
    data = _data(doc.html)
    expected = [data["styles"]["suppressed"] if c == maps.SUPPRESSED else data["layers"][0]["colors"][c]
                for c in data["layers"][0]["cls"]]
    assert expected.count(data["styles"]["suppressed"]) == 2
    moved = json.loads(json.dumps(data))
    moved["codes"] = {"suppressed": -70, "nodata": -80}
    for ly in moved["layers"]:
        if ly["kind"] == "area":
            ly["cls"] = [-70 if c == maps.SUPPRESSED else -80 if c == maps.NO_DATA else c for c in ly["cls"]]
    path = tmp_path / "codes.html"
    path.write_text(_with_data(doc.html, moved), encoding="utf-8")
    fills = """() => { const f = []; window.gmMap.eachLayer(l => {
        if (l instanceof L.Polygon && l.options.interactive !== false) {
            f.push([L.stamp(l), l.options.fillColor]); } });
        return f.sort((a, b) => a[0] - b[0]).map(x => x[1]); }"""
    with offline_page(path) as (page, _):
        assert page.evaluate(fills) == expected


def _print_check(page, data) -> dict:
    view = page.evaluate("window.gmPrintView")
    west, south, east, north = decoded_bounds(data)
    assert view["west"] <= west and view["south"] <= south and view["east"] >= east and view["north"] >= north, \
        (view, (west, south, east, north))
    return view


def _assert_print_layout(page) -> None:
    """In print layout: the map is the page box, every area inside it and clear of the legend."""
    s = page.evaluate(MAP_STATE)
    assert s["size"] == [1062, 529], s["size"]  # 281 mm x 140 mm at 96 px per inch
    x0, y0, x1, y1 = s["union"]
    assert x0 >= 0 and y0 >= 0 and x1 <= s["size"][0] and y1 <= s["size"][1], s
    legend_left = s["legend"][0] - s["map"][0]
    assert x1 <= legend_left + 1, (s["union"], s["legend"])


@pytest.mark.parametrize("zoomed", [False, True])
def test_print_fits_every_area_on_the_page(tmp_path, safe, zoomed):
    doc = maps.choropleth(safe, "reports", title="Print me")
    path = doc.save(tmp_path / "print.html")
    with offline_page(path) as (page, requests):
        if zoomed:  # the reader zoomed into one corner first: the print still shows everything
            # (no animation: a zoom still running when printing starts would land after the print fit)
            page.evaluate("window.gmMap.setView([52.25, -0.80], 15, {animate: false})")
        pdf = page.pdf(format="A4", landscape=True, print_background=True)
        _print_check(page, doc.data)
        after = page.evaluate(MAP_STATE)
        assert after["size"] != [1062, 529] and (after["user"] == zoomed)  # screen view given back
        page.emulate_media(media="print")
        wait_for(page, "document.body.classList.contains('gm-printing')")
        _assert_print_layout(page)
        _print_check(page, doc.data)
        screenshot(page, f"viewer_print{'_zoomed' if zoomed else ''}.png")
        page.emulate_media(media="screen")
        wait_for(page, "!document.body.classList.contains('gm-printing')")
        back = page.evaluate(MAP_STATE)
        assert back["user"] == zoomed and back["finite"] == 16
        if not zoomed:
            assert_drawn([back], "after print")
        assert requests == [] and page.errors == []
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


@pytest.mark.realdata
def test_print_fits_all_of_northamptonshire(shared_data, tmp_path):
    """The real county: no district may fall off the printed page."""
    table, _ = gangmap.join(shared_data / "boundaries" / "northamptonshire_wards_2013.geojson",
                            reports=shared_data / "police" / "2018-03-northamptonshire-street.csv")
    safe = gangmap.make_safe(table, ["reports"], period="2018-03")
    doc = maps.choropleth(safe, "reports", title="Northamptonshire")
    with offline_page(doc.save(tmp_path / "n.html")) as (page, requests):
        page.pdf(format="A4", landscape=True, print_background=True)
        _print_check(page, doc.data)
        page.emulate_media(media="print")
        wait_for(page, "document.body.classList.contains('gm-printing')")
        _assert_print_layout(page)
        s = page.evaluate(MAP_STATE)
        assert s["polygons"] == s["finite"] == 146
        screenshot(page, "viewer_print_northamptonshire.png")
        assert requests == []


def test_untrusted_output_shows_a_note_and_a_preview(tmp_path, safe):
    """Where the frame is stripped (untrusted notebook output) a note and a static preview show instead."""
    doc = maps.choropleth(safe, "reports", title="Saved elsewhere")
    html = doc._repr_html_()
    stripped = re.sub(r"<iframe.*?</iframe>", "", html, flags=re.S)
    for name, body in (("trusted", html), ("untrusted", stripped)):
        (tmp_path / f"{name}.html").write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    with offline_page(tmp_path / "untrusted.html", ready=False) as (page, requests):
        note = page.locator(".gm-untrusted")
        assert note.is_visible() and "not trusted" in note.inner_text()
        wait_for(page, "document.querySelector('img.gm-preview').naturalWidth > 300")
        screenshot(page, "viewer_untrusted_preview.png")
        assert requests == []
    with offline_page(tmp_path / "trusted.html", ready=False) as (page, requests):
        wait_for(page.frames[1], "window.gmDrawn === true")
        box = page.locator(".gm-untrusted").bounding_box()
        tag = page.evaluate(f"document.elementFromPoint({box['x'] + box['width'] / 2}, "
                            f"{box['y'] + box['height'] / 2}).tagName")
        assert tag == "IFRAME"  # the note is under the running map
        assert requests == []
