"""Benchmark: gangmap's offline ward maps against ``geopandas.explore`` (folium).

For (a) the 146 Northamptonshire wards with the March 2018 police.uk street crimes
and (b) all 7,681 wards in England (2013) with synthetic counts, prints:

* the gangmap map built through the public API (``gangmap.join`` ->
  ``gangmap.make_safe`` -> ``gangmap.maps.choropleth``): HTML size, build
  time, deviation of the drawn ward outlines from the input (max / p99 of the
  per-ward Hausdorff distance, metres, measured independently by decoding the
  data embedded in the HTML) and, optionally, the time headless Chromium
  takes from navigation to ``window.gmReady === true``;
* the encoder's own numbers (``gangmap.topology.encode_coverage``);
* ``GeoDataFrame.explore`` on the same table in the same run: HTML size,
  build time (to rendered HTML), external resources it loads (CDN scripts and
  stylesheets, plus the tile server), and whether it draws offline;
* ratios, and the budgets: Northamptonshire map <= 400 KB with Leaflet;
  England <= 3 MB, <= 100 m deviation, built in <= 3 s; drawn in <= 2 s.

Usage::

    .venv/bin/python benchmarks/bench_maps.py [--no-england] [--no-browser] [--no-explore]

A script, not a test: it always exits 0 and says what it skipped.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data"
NORTHANTS = SHARED / "boundaries" / "northamptonshire_wards_2013.geojson"
POLICE = SHARED / "police" / "2018-03-northamptonshire-street.csv"
ENGLAND = SHARED / "boundaries" / "england_wards_2013.geojson.gz"
CHROMIUM = "/usr/bin/chromium"

BUDGET = {"northants_kb": 400, "england_mb": 3.0, "england_dev_m": 100.0, "england_build_s": 3.0, "draw_s": 2.0}


# --------------------------------------------------------------------------- data
def northants():
    import gangmap

    table, _ = gangmap.join(NORTHANTS, reports=POLICE)
    return "Northamptonshire", gangmap.make_safe(table, ["reports"])


def england():
    import numpy as np

    import gangmap

    wards = gangmap.read_wards(ENGLAND)  # LAD13CD only: names default to codes
    wards["reports"] = np.random.default_rng(20180301).poisson(12, len(wards))
    return "England", gangmap.make_safe(wards, ["reports"])


# --------------------------------------------------------------------------- measuring
def embedded(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="gm-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def map_deviation(html: str, safe) -> tuple[float, float]:
    """Max and p99 of the per-ward Hausdorff distance (m) between the input and what the page draws."""
    import numpy as np
    import shapely

    from gangmap.maps import topology

    data = embedded(html)
    q, arcs, geoms = data["q"], data.get("arcs"), data["areas"]["geoms"]
    dec = topology.decode_arcs(q, arcs) if arcs else None
    to_m = topology._fixed_to_work()  # one fixed operation both ways round (see the tests)
    fwd = topology._transformer("EPSG:27700", "EPSG:4326")
    out = []
    for g in geoms:
        polys = []
        if arcs:
            shapes = topology.decode(q, arcs, g, dec)
        else:
            shapes = [[q_ring(q, r) for r in poly] for poly in g]
        for rings in shapes:
            rr = [np.column_stack(to_m.transform(r[:, 0], r[:, 1])) for r in rings]
            polys.append(shapely.Polygon(rr[0], rr[1:]))
        out.append(shapely.MultiPolygon(polys))

    def same_plane(xy):
        lon, lat = fwd.transform(xy[:, 0], xy[:, 1])
        return np.column_stack(to_m.transform(lon, lat))

    orig = shapely.transform(np.asarray(safe.frame.to_crs(27700).geometry.values, dtype=object), same_plane)
    h = shapely.hausdorff_distance(orig, np.array(out, dtype=object))
    return float(np.max(h)), float(np.percentile(h, 99))


def overlap_area(geoms) -> float:
    """Total area (m²) where two of ``geoms`` overlap (0 for a clean coverage)."""
    import numpy as np
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    m = left < right
    return float(shapely.area(shapely.intersection(geoms[left[m]], geoms[right[m]])).sum())


def encoder_overlap(enc) -> float:
    """Overlap area (m²) of the decoded wards of an encoding (what slivers the page would draw)."""
    import numpy as np
    import shapely

    from gangmap.maps import topology

    to_m = topology._fixed_to_work()
    dec = topology.decode_arcs(enc.q, enc.arcs)
    out = []
    for g in enc.geoms:
        polys = []
        for rings in topology.decode(enc.q, enc.arcs, g, dec):
            rr = [np.column_stack(to_m.transform(r[:, 0], r[:, 1])) for r in rings if len(r) >= 4]
            if rr and len(rings[0]) >= 4:
                polys.append(shapely.Polygon(rr[0], rr[1:]))
        out.append(shapely.make_valid(shapely.MultiPolygon(polys)))
    return overlap_area(out)


def q_ring(q, r):
    import numpy as np

    v = np.cumsum(np.asarray(r, np.int64).reshape(-1, 2), axis=0)
    pts = np.column_stack([q["x0"] + v[:, 0] * q["s"], q["y0"] + v[:, 1] * q["s"]])
    return np.vstack([pts, pts[:1]])


def draw_seconds(html: str, runs: int = 2) -> float | None:
    """Best of ``runs``: navigation start to ``window.gmReady === true`` in headless Chromium, offline."""
    if not Path(CHROMIUM).exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "map.html"
        path.write_text(html, encoding="utf-8")
        best = None
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                for _ in range(runs):
                    ctx = browser.new_context(viewport={"width": 1200, "height": 800}, offline=True)
                    page = ctx.new_page()
                    page.add_init_script(
                        "(() => { let v = false; Object.defineProperty(window, 'gmReady', {configurable: true,"
                        " get() { return v; }, set(x) { v = x; if (x === true) { window.__gmReadyAt ="
                        " performance.now(); } } }); })();")
                    page.goto(path.as_uri(), wait_until="domcontentloaded")
                    page.wait_for_function("window.gmReady === true", timeout=60_000)
                    # Let one frame paint after ready, then read the time the page recorded.
                    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                    t = page.evaluate("window.__gmReadyAt") / 1000.0
                    best = t if best is None else min(best, t)
                    ctx.close()
            finally:
                browser.close()
        return best


def explore_offline_draws(html: str) -> bool | None:
    """Does the folium page draw with the network blocked? (Leaflet comes from a CDN.)"""
    if not Path(CHROMIUM).exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "explore.html"
        path.write_text(html, encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                ctx = browser.new_context(offline=True)
                page = ctx.new_page()
                page.goto(path.as_uri(), wait_until="load", timeout=60_000)
                return bool(page.evaluate(
                    "typeof L !== 'undefined' && document.querySelectorAll('path').length > 0"))
            finally:
                browser.close()


def external_resources(html: str) -> tuple[int, int]:
    """(CDN scripts + stylesheets, tile servers) referenced by a page."""
    cdn = set(re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html))
    tiles = set(re.findall(r'https?://[^"\'\s]*\{z\}[^"\'\s]*', html))
    return len(cdn), len(tiles)


def timed(fn, repeat: int = 1):
    best, out = None, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return out, best


# --------------------------------------------------------------------------- the run
def run(dataset, *, browser: bool, explore: bool, repeat: int) -> list[dict]:
    from gangmap import maps
    from gangmap.maps import topology

    name, safe = dataset
    rows = []

    def gangmap_row(label):
        m, secs = timed(lambda: maps.choropleth(safe, "reports"), repeat)
        dmax, dp99 = map_deviation(m.html, safe)
        data = embedded(m.html)
        return {"data": name, "what": label, "bytes": m.size, "build_s": secs, "dev_max": dmax, "dev_p99": dp99,
                "external": 0, "draw_s": draw_seconds(m.html) if browser else None,
                "arcs": "arcs" in data, "offline": True}

    rows.append(gangmap_row("gangmap (public API)"))
    enc, secs = timed(lambda: topology.encode_coverage(safe.frame.geometry, repair=False), repeat)
    overlap_in = overlap_area(safe.frame.geometry.values)
    overlap_out = encoder_overlap(enc)
    rows.append({"data": name, "what": "encode_coverage alone", "bytes": enc.json_size(), "build_s": secs,
                 "dev_max": enc.hausdorff_max_m, "dev_p99": enc.hausdorff_p99_m, "external": 0, "draw_s": None,
                 "note": (f"tol {enc.tolerance_m:.1f} m, step {enc.q['s'] * 111_320:.1f} m, points "
                          f"{enc.n_points_before:,}->{enc.n_points_after:,}, arcs {enc.n_arcs:,}, "
                          f"invalid {enc.n_invalid}, collapsed {enc.n_collapsed_rings}, overlaps "
                          f"{overlap_in:.0f} m² in -> {overlap_out:.0f} m² out, "
                          f"stages {', '.join(f'{k} {v:.2f}' for k, v in enc.seconds.items())}")})
    if explore:
        html, secs = timed(lambda: safe.frame.explore(column="reports").get_root().render(), 1)
        cdn, tiles = external_resources(html)
        rows.append({"data": name, "what": "geopandas.explore (folium)", "bytes": len(html.encode("utf-8")),
                     "build_s": secs, "dev_max": None, "dev_p99": None, "external": cdn + tiles,
                     "draw_s": None, "offline": explore_offline_draws(html) if browser else None,
                     "note": f"{cdn} CDN scripts/stylesheets + {tiles} tile server"})
    return rows


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def report(rows: list[dict]) -> None:
    head = (f"{'data':<17} {'what':<29} {'size':>10} {'build s':>8} {'max m':>7} {'p99 m':>7} {'ext':>4} "
            f"{'draw s':>7} {'offline':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        size = r["bytes"]
        size_s = f"{size / 1e6:.2f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"
        offline = r.get("offline")
        print(f"{r['data']:<17} {r['what']:<29} {size_s:>10} {fmt(r['build_s'], '8.2f')} "
              f"{fmt(r['dev_max'], '7.1f')} {fmt(r['dev_p99'], '7.1f')} {r['external']:>4} "
              f"{fmt(r['draw_s'], '7.2f')} {'-' if offline is None else ('yes' if offline else 'NO'):>7}")
    notes = [r for r in rows if r.get("note")]
    if notes:
        print()
        for r in notes:
            print(f"  {r['data']} / {r['what']}: {r['note']}")
    print()
    # Ratios and budgets.
    for data in dict.fromkeys(r["data"] for r in rows):
        mine = [r for r in rows if r["data"] == data and r["what"].startswith("gangmap")]
        best = mine[-1] if mine else None
        ex = next((r for r in rows if r["data"] == data and r["what"].startswith("geopandas")), None)
        if best and ex:
            print(f"{data}: {best['what']} vs explore: size x{best['bytes'] / ex['bytes']:.2f}, "
                  f"build time x{best['build_s'] / ex['build_s']:.2f}, external resources "
                  f"{best['external']} vs {ex['external']}")
        for r in mine:
            checks = []
            if data == "Northamptonshire":
                checks.append(("size <= 400 KB", r["bytes"] <= BUDGET["northants_kb"] * 1000))
            if data == "England":
                checks += [("size <= 3 MB", r["bytes"] <= BUDGET["england_mb"] * 1e6),
                           ("deviation <= 100 m",
                            r["dev_max"] is not None and r["dev_max"] <= BUDGET["england_dev_m"]),
                           ("build <= 3 s", r["build_s"] <= BUDGET["england_build_s"])]
            if r.get("draw_s") is not None:
                checks.append(("draw <= 2 s", r["draw_s"] <= BUDGET["draw_s"]))
            print(f"  budget {r['what']}: " + ", ".join(f"{c} {'OK' if ok else 'MISSED'}" for c, ok in checks))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-england", action="store_true", help="only Northamptonshire")
    parser.add_argument("--no-browser", action="store_true", help="skip the headless Chromium timings")
    parser.add_argument("--no-explore", action="store_true", help="skip geopandas.explore")
    parser.add_argument("--repeat", type=int, default=2, help="time the map build this many times (best kept)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if not NORTHANTS.exists():
        print(f"bench_maps: {NORTHANTS} not found; nothing to benchmark.")
        return 0
    browser = not args.no_browser and Path(CHROMIUM).exists()
    if not args.no_browser and not browser:
        print(f"bench_maps: {CHROMIUM} not found; draw times skipped.")
    rows = run(northants(), browser=browser, explore=not args.no_explore, repeat=args.repeat)
    if not args.no_england:
        if ENGLAND.exists():
            rows += run(england(), browser=browser, explore=not args.no_explore, repeat=args.repeat)
        else:
            print(f"bench_maps: {ENGLAND} not found; England skipped.")
    print()
    report(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
