"""Maps with time: one legend (one set of classes over every period's safe values), a slider and a play
button in offline Chromium, the period in the tooltip and in print, and small multiples for slides.

Oracles: class breaks recomputed here from every period's shown values (equal intervals by hand),
legend ranges that must hold every shown value of every period, fill colours read back from the page
(SVG polygons, canvas pixels) against the classes in the map's data, and PNG pixels against the
class colours.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from browser import (
    CANVAS_PIXEL,
    MAP_STATE,
    SVG_FILLS,
    assert_drawn,
    expected_fills,
    hex_rgb,
    offline_page,
    screenshot,
    wait_for,
)
from test_maps_layers import parse_range
from test_maps_viewer import grid

import gangmap
from gangmap import maps
from gangmap.errors import DisclosureError, GangmapError

MONTHS = {"2018-01": 4, "2018-02": 9, "2018-03": 20, "2018-04": 45}
TIP = ".leaflet-tooltip:not(.gm-label):not(.gm-area-label)"


def periods(means=MONTHS, seed=11, **kw) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for label, mean in means.items():
        g = grid(names=[])
        g["reports"] = rng.poisson(mean, len(g)).astype(float)
        out[label] = gangmap.make_safe(g, ["reports"], period=label, **kw)
    return out


@pytest.fixture(scope="module")
def safes():
    return periods()


# --------------------------------------------------------------------------- the layer (no browser)
def test_one_set_of_classes_from_every_periods_safe_values(safes):
    layer = maps.time_layer(safes, "reports", scheme="equal_interval", k=4)
    shown = np.concatenate([s.frame["reports"].to_numpy()[~s.suppressed["reports"].to_numpy()] for s in safes.values()])
    shown = shown[np.isfinite(shown)]
    nonzero = shown[shown > 0]
    # Equal intervals by hand over all periods (0 is a class of its own for counts under nhs, if present).
    zero = (shown == 0).any()
    k = 4 - zero
    lo, hi = nonzero.min(), nonzero.max()
    edges = lo + (hi - lo) * np.arange(1, k + 1) / k
    cls = layer.assignment()
    for p, safe in enumerate(safes.values()):
        v = safe.frame["reports"].to_numpy()
        sup = safe.suppressed["reports"].to_numpy()
        for i in range(len(v)):
            if sup[i]:
                assert cls[p, i] == maps.SUPPRESSED
            elif v[i] == 0:
                assert cls[p, i] == 0
            else:
                want = int(np.searchsorted(edges, v[i], side="left")) + zero
                assert cls[p, i] == min(want, layer.classes.k - 1), (p, i, v[i], edges)
            if cls[p, i] >= 0:  # the one legend holds the value of every period
                a, b = parse_range(layer.classes.labels[cls[p, i]])
                assert a <= v[i] <= b
    # Different periods use different classes: the scale is shared, not per period.
    assert len({tuple(np.unique(c[c >= 0])) for c in cls}) > 1
    assert cls[0][cls[0] >= 0].max() < cls[-1].max()


def test_layer_serialises_values_and_class_codes_per_period(safes):
    layer = maps.time_layer(safes, "reports", start="2018-02", interval_ms=300)
    j = layer.to_json()
    assert j["kind"] == "time" and j["periods"] == list(MONTHS) and j["start"] == 1 and j["interval_ms"] == 300
    assert [len(v) for v in j["values"]] == [16] * 4 and np.asarray(j["cls"]).shape == (4, 16)
    for p, safe in enumerate(safes.values()):
        assert j["values"][p] == safe.display["reports"].tolist()
    one = layer.at("2018-03")
    assert list(one.classes.assignment) == j["cls"][2] and one.classes.colors == layer.classes.colors
    assert one.legend == layer.legend


def test_periods_must_be_safe_alike_and_of_the_same_areas(safes):
    g = grid(names=[])
    g["reports"] = 10
    with pytest.raises(DisclosureError):
        maps.time_map({"a": safes["2018-01"], "b": g}, "reports")
    fewer = gangmap.make_safe(grid(names=[]).iloc[:12].assign(reports=10), ["reports"])
    with pytest.raises(GangmapError, match="same wards"):
        maps.time_map({"a": safes["2018-01"], "b": fewer}, "reports")
    other = gangmap.make_safe(g, ["reports"], policy="threshold")
    with pytest.raises(GangmapError, match="together"):
        maps.time_map({"a": safes["2018-01"], "b": other}, "reports")
    with pytest.raises(GangmapError, match="value column"):
        maps.time_map(safes, "ward_name")
    with pytest.raises(GangmapError, match="at least one"):
        maps.time_map({}, "reports")


def test_footer_spans_the_periods_and_static_images_show_one(safes, tmp_path):
    doc = maps.time_map(safes, "reports", title="By month")
    assert "Data: 2018-01 to 2018-04 (4 periods)" in doc.html
    assert "Data: 2018-04 ·" not in doc.html  # not one period's footer
    assert doc.to_png(tmp_path / "one.png").stat().st_size > 10_000
    fig = doc.figure()
    assert "2018-04" in fig._suptitle.get_text()
    from gangmap.maps.preview import svg_preview

    svg = svg_preview(doc.data)
    name = next(ly for ly in doc.items if isinstance(ly, maps.TimeLayer)).name
    assert svg and f"{name}: 2018-04" in svg


def test_small_multiples_same_classes_and_colours_marking_and_footer(safes, tmp_path, monkeypatch):
    from gangmap import export
    from gangmap.maps.static import multiples_figure

    layer = maps.time_layer(safes, "reports")
    base = safes["2018-01"]
    fig = multiples_figure(base, layer, title="T", ncols=2)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[:, :, :3]
    height = img.shape[0]
    centres = base.frame.geometry.centroid
    for p, ax in enumerate(fig.axes):
        assert ax.get_title() == layer.periods[p]
        for i, c in enumerate(centres):
            x, y = ax.transData.transform((c.x + 200, c.y + 200))  # off the centre: clear of the hatch lines
            got = img[int(round(height - y)), int(round(x))]
            code = layer.assignment()[p, i]
            want = hex_rgb(layer.classes.color_of(int(code)))
            if code != maps.SUPPRESSED:
                assert np.abs(got.astype(int) - want).max() <= 2, (p, i, got, want)
    stamped = {}
    real = export.to_png

    def spy(fig, safe, path, **kw):
        stamped["provenance"] = kw.get("provenance")
        out = real(fig, safe, path, **kw)
        stamped["texts"] = [t.get_text() for t in fig.texts]
        return out

    monkeypatch.setattr(export, "to_png", spy)
    path = maps.small_multiples(safes, "reports", tmp_path / "multiples.png")
    from PIL import Image

    png = Image.open(path)
    assert png.size[0] > 800 and png.info.get("Software", "").startswith("gangmap")
    assert stamped["provenance"].period == "2018-01 to 2018-04 (4 periods)"
    assert base.provenance.marking in stamped["texts"]
    assert any("Data: 2018-01 to 2018-04" in t for t in stamped["texts"])


# --------------------------------------------------------------------------- in the browser
def _goto(page, t: int) -> None:
    """Move the slider to period ``t`` with the keyboard."""
    page.locator("#gm-slider").focus()
    page.keyboard.press("Home")
    for _ in range(t):
        page.keyboard.press("ArrowRight")


#: Records, in the page, the play button's state changes and the periods shown, in order.
RECORD_PLAY = """() => {
  window.gmPlayed = [];
  const play = document.querySelector('#gm-play');
  new MutationObserver(() => window.gmPlayed.push(document.body.dataset.gmPeriod))
    .observe(document.body, {attributes: true, attributeFilter: ['data-gm-period']});
  new MutationObserver(() => window.gmPlayed.push(
      play.getAttribute('aria-pressed') === 'true' ? 'playing' : 'stopped'))
    .observe(play, {attributes: true, attributeFilter: ['aria-pressed']});
}"""


@pytest.mark.browser
def test_slider_play_tooltip_and_one_legend(tmp_path, safes):
    doc = maps.time_map(safes, "reports", title="Reports by month", interval_ms=200, start=0)
    data = doc.data
    layer = next(ly for ly in data["layers"] if ly["kind"] == "time")
    with offline_page(doc.save(tmp_path / "t.html")) as (page, requests):
        assert_drawn([page.evaluate(MAP_STATE)], "time map")
        legend = page.locator("#gm-legend").inner_text()
        assert page.locator("#gm-legend .gm-legend-block[data-layer='time-reports']").count() == 1
        for t, label in enumerate(MONTHS):
            _goto(page, t)
            assert page.evaluate(SVG_FILLS) == expected_fills(data, layer, t), label
            assert page.locator("#gm-period").inner_text() == f"Period: {label}"
            assert page.get_attribute("#gm-slider", "aria-valuetext") == label
            assert page.locator("#gm-period-label").inner_text() == label
            assert page.locator("#gm-legend").inner_text() == legend  # one legend for every period
            page.locator("path.leaflet-interactive").nth(5).hover()
            tip = page.locator(TIP).last.inner_text()
            assert f"{layer['name']}, {label}: {layer['values'][t][5]}" in tip, tip
        # Play from the first period: it steps through and stops at the last.
        # The page records each change itself, so a slow machine cannot make the test miss a step.
        _goto(page, 0)
        page.evaluate(RECORD_PLAY)
        page.locator("#gm-play").focus()
        page.keyboard.press("Enter")
        wait_for(page, "window.gmPlayed.includes('stopped')", timeout_ms=30_000)
        assert page.evaluate("window.gmPlayed") == ["playing", "2018-02", "2018-03", "2018-04", "stopped"]
        assert page.get_attribute("body", "data-gm-period") == "2018-04"
        assert page.evaluate(SVG_FILLS) == expected_fills(data, layer, 3)
        screenshot(page, "time_map.png")
        assert requests == [] and page.errors == []


@pytest.mark.browser
def test_canvas_renderer_follows_the_slider(tmp_path, safes):
    import geopandas as gpd

    doc = maps.time_map(safes, "reports", renderer="canvas")
    data = doc.data
    layer = next(ly for ly in data["layers"] if ly["kind"] == "time")
    centres = gpd.GeoSeries(safes["2018-01"].frame.geometry.centroid, crs=27700).to_crs(4326)
    with offline_page(doc.save(tmp_path / "c.html")) as (page, requests):
        for t in range(len(MONTHS)):
            _goto(page, t)
            fills = expected_fills(data, layer, t)
            for i, c in enumerate(centres):
                r, g, b, *_ = page.evaluate(CANVAS_PIXEL, [c.x, c.y])
                assert np.abs(np.subtract((r, g, b), hex_rgb(fills[i]))).max() <= 3, (t, i)
        assert requests == [] and page.errors == []


@pytest.mark.browser
def test_print_shows_the_current_period_and_every_area(tmp_path, safes):
    doc = maps.time_map(safes, "reports", title="Print a month")
    with offline_page(doc.save(tmp_path / "p.html")) as (page, requests):
        _goto(page, 1)
        pdf = page.pdf(format="A4", landscape=True, print_background=True)
        page.emulate_media(media="print")
        wait_for(page, "document.body.classList.contains('gm-printing')")
        assert page.locator("#gm-period").is_visible() and page.locator("#gm-period").inner_text() == "Period: 2018-02"
        assert not page.locator("#gm-time").is_visible()
        s = page.evaluate(MAP_STATE)
        x0, y0, x1, y1 = s["union"]
        assert x0 >= 0 and y0 >= 0 and x1 <= s["size"][0] and y1 <= s["size"][1], s
        screenshot(page, "time_map_print.png")
        assert requests == []
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


@pytest.mark.browser
def test_time_map_in_a_notebook_frame_hidden_then_shown(tmp_path, safes):
    doc = maps.time_map(safes, "reports")
    host = tmp_path / "host.html"
    host.write_text(f'<!DOCTYPE html><html><body><div id="wrap" style="display:none;width:800px">{doc._repr_html_()}'
                    "</div></body></html>", encoding="utf-8")
    with offline_page(host, ready=False) as (page, requests):
        page.wait_for_timeout(400)
        frame = page.frames[1]
        page.evaluate("document.getElementById('wrap').style.display = 'block'")
        wait_for(frame, "window.gmDrawn === true")
        assert_drawn([frame.evaluate(MAP_STATE)], "shown")
        frame.locator("#gm-slider").focus()
        frame.press("#gm-slider", "Home")
        assert frame.get_attribute("body", "data-gm-period") == "2018-01"
        assert requests == []
