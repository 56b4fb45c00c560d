"""Open exported HTML in Debian's headless Chromium with the network blocked.

Used by the browser tests. Skips cleanly when Chromium or playwright is missing.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def require_chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed: .ci/run installs Debian's chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')")


@contextlib.contextmanager
def offline_page(path: Path, *, width: int = 1200, height: int = 800, ready: bool = True):
    """Yield ``(page, requests)``: the page opened from file:// with every other request blocked.

    ``requests`` lists every URL the page asked for, apart from the page itself.
    """
    require_chromium()
    from playwright.sync_api import sync_playwright

    url = Path(path).resolve().as_uri()
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": width, "height": height}, offline=True)

        def guard(route):
            if route.request.url != url:
                requests.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", guard)
        page = context.new_page()
        page.on("request", lambda r: r.url != url and r.url not in requests and requests.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        if ready:
            try:
                wait_for(page, "window.gmReady === true", 10_000)
            except AssertionError:
                raise AssertionError(f"{path}: the map never got ready; page errors: {errors}") from None
        else:
            page.wait_for_load_state("load")
        page.errors = errors
        try:
            yield page, requests
        finally:
            context.close()
            browser.close()


def wait_for(target, expression: str, timeout_ms: int = 10_000, interval_ms: int = 100):
    """Poll ``expression`` in a page or frame until it is truthy; return its value.

    The maps' Content-Security-Policy forbids ``eval``, which Playwright's
    ``wait_for_function`` uses to poll; ``evaluate`` goes through the
    DevTools protocol, which the policy allows.
    """
    page = getattr(target, "page", target)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        value = target.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_ms} ms waiting for {expression!r}")
        page.wait_for_timeout(interval_ms)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / name
    page.screenshot(path=str(out))
    return out


#: The state of one map frame, through Leaflet's API (SVG or canvas alike).
MAP_STATE = """() => {
    const m = window.gmMap;
    if (!m || !window.gmDrawn) { return {drawn: false}; }
    const box = s => { const e = document.querySelector(s); if (!e || !e.offsetParent) { return null; }
                       const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    const c = m.getCenter(), size = m.getSize();
    const mapBox = box('#gm-map');
    let n = 0, finite = 0, union = [Infinity, Infinity, -Infinity, -Infinity];
    const add = b => {
        const p = m.latLngToContainerPoint(b.getNorthWest()), q = m.latLngToContainerPoint(b.getSouthEast());
        if ([p.x, p.y, q.x, q.y].every(Number.isFinite)) {
            finite += 1;
            union = [Math.min(union[0], p.x), Math.min(union[1], p.y),
                     Math.max(union[2], q.x), Math.max(union[3], q.y)];
        }
    };
    const canvas = window.gmAreas && window.gmAreas.mode === 'canvas';
    if (canvas) {  // the canvas renderer: areas painted in the last frame, bounds of the decoded areas
        const count = JSON.parse(document.getElementById('gm-data').textContent).areas.codes.length;
        n = window.gmAreas.painted();
        for (let i = 0; i < count; i++) { add(window.gmAreas.bounds(i)); }
    } else {
        m.eachLayer(l => {
            if (!(l instanceof L.Polygon) || l.options.interactive === false) { return; }
            n += 1;
            add(l.getBounds());
        });
    }
    const bad = [...document.querySelectorAll('path')].filter(p => /NaN/.test(p.getAttribute('d') || '')).length;
    const data = JSON.parse(document.getElementById('gm-data').textContent);
    return {drawn: true, areas: data.areas.codes.length, polygons: n, finite, union, bad, canvas,
            center: [c.lat, c.lng], zoom: m.getZoom(), size: [size.x, size.y], map: mapBox,
            layers: box('#gm-layers'), legend: box('#gm-legend'), user: window.gmView.state.user,
            legendText: (document.querySelector('#gm-legend') || {}).innerText || ''};
}"""


def intersect(a, b) -> bool:
    return bool(a and b) and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def assert_drawn(states: list[dict], when: str, expect: int | None = None) -> None:
    """Every map drawn: every area with finite bounds; fitted into the map unless the user moved it;
    legend and layer control apart. ``states`` come from ``frame.evaluate(MAP_STATE)``."""
    assert states, f"{when}: no map output found"
    if expect is not None:
        assert len(states) == expect, f"{when}: {len(states)} map outputs, expected {expect}"
    for s in states:
        what = f"{when}, map {s.get('title')!r}"
        assert s["drawn"], f"{what}: not drawn"
        assert s["polygons"] == s["areas"] == s["finite"] > 0, f"{what}: {s}"
        assert s["bad"] == 0, f"{what}: {s['bad']} paths with NaN"
        assert all(map(lambda v: v == v, s["center"])) and s["size"][0] > 0 and s["size"][1] > 0, f"{what}: {s}"
        x0, y0, x1, y1 = s["union"]
        w, h = s["size"]
        if not s["user"]:  # fitted: every area inside the map, and the areas fill a fair share of it
            assert x0 >= -2 and y0 >= -2 and x1 <= w + 2 and y1 <= h + 2, f"{what}: areas off the map {s}"
            assert max((x1 - x0) / w, (y1 - y0) / h) > 0.5, f"{what}: areas drawn too small {s}"
        assert not intersect(s["layers"], s["legend"]), f"{what}: legend over the layer control {s}"


#: The canvas renderer's pixel at a longitude/latitude, and where that is on the page: [r, g, b, a, x, y].
CANVAS_PIXEL = """([lng, lat]) => {
    const m = window.gmMap, c = window.gmAreas.canvas(), p = m.latLngToContainerPoint([lat, lng]);
    const mr = m.getContainer().getBoundingClientRect(), cr = c.getBoundingClientRect();
    const x = Math.floor((mr.left + p.x - cr.left) * c.width / cr.width),
          y = Math.floor((mr.top + p.y - cr.top) * c.height / cr.height);
    const d = c.getContext('2d').getImageData(x, y, 1, 1).data;
    return [d[0], d[1], d[2], d[3], mr.left + p.x, mr.top + p.y];
}"""


def hex_rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def expected_fills(data: dict, layer: dict, period: int | None = None) -> list[str]:
    """The fill colour of every area from the map's data: its class in ``layer`` (a period of a time layer)."""
    cls = layer["cls"] if period is None else layer["cls"][period]
    codes, styles = data["codes"], data["styles"]
    return [styles["suppressed"] if c == codes["suppressed"] else styles["nodata"] if c == codes["nodata"]
            else layer["colors"][c] for c in cls]


#: Fill colours of the SVG area polygons, in the order they were made (area order).
SVG_FILLS = """() => { const f = []; window.gmMap.eachLayer(l => {
    if (l instanceof L.Polygon && l.options.interactive !== false) { f.push([L.stamp(l), l.options.fillColor]); } });
    return f.sort((a, b) => a[0] - b[0]).map(x => x[1]); }"""


def frame_when_ready(page, timeout_s: float = 30.0):
    """The map's frame once its script has run (polled: a loaded machine may take seconds)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if len(page.frames) > 1 and page.frames[1].evaluate("window.gmReady === true"):
                return page.frames[1]
        except Exception:  # noqa: BLE001  (the frame is still navigating: its context comes and goes)
            pass
        assert time.monotonic() < deadline, "the map's frame never became ready"
        page.wait_for_timeout(100)
