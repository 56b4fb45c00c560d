"""Benchmark: gangmap's offline maps against ``geopandas.explore`` (folium), from county wards to England's LSOAs.

Data sets (all built through the public API: ``gangmap.make_safe`` -> ``gangmap.maps.choropleth``):

* Northamptonshire's 146 wards and its 422 real LSOAs, with the March 2018 police.uk street crimes;
* England's 7,681 wards (2013), real boundaries, synthetic counts;
* England's LSOAs: **a synthetic proxy** (``benchmarks/lsoa_proxy.py``: every England ward cut into
  about 4.3 areas by wiggled Voronoi borders, about 32,700 areas with the vertex spacing of real
  generalised LSOA boundaries), synthetic counts. /work/shared/data has no England LSOAs.

Printed per data set and tool, in one run: HTML size; build time, wall and CPU (the machine is
shared, so wall time carries other sessions' load: the load average is printed); the time headless
Chromium takes from navigation to the first frame drawn after the map is ready (offline; explore's
Leaflet served locally from xstatic-leaflet, since its CDN copy cannot load offline; its d3 legend
stays missing); the deviation of the drawn outlines from the input, measured independently by
decoding the data embedded in the HTML: per-area Hausdorff distance in metres (max, p99) and
relative to each area's size, the square root of its area (max, p99, share of areas over 10%);
external resources; and the ratios against explore.

Then a measured plan for output areas (about 171,000 in England): an OA proxy for part of England
(the LSOA proxy's areas cut again into about 5.2) is mapped and its numbers scaled to England.

Budgets (issue 17): England LSOAs <= 4 MB, built in <= 5 s, drawn in <= 2 s; county maps <= 400 KB.

Usage::

    .venv/bin/python benchmarks/bench_maps.py [--no-england] [--no-lsoa] [--no-oa] [--no-browser]
                                              [--no-explore] [--repeat 2]

A script, not a test: it always exits 0 and says what it skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SHARED = ROOT.parent / "shared" / "data"
NORTHANTS = SHARED / "boundaries" / "northamptonshire_wards_2013.geojson"
NORTHANTS_LSOA = SHARED / "boundaries" / "northamptonshire_lsoa_2011.geojson"
POLICE = SHARED / "police" / "2018-03-northamptonshire-street.csv"
ENGLAND = SHARED / "boundaries" / "england_wards_2013.geojson.gz"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]

BUDGET = {"county_kb": 400, "england_wards_mb": 3.0, "lsoa_mb": 4.0, "lsoa_build_s": 5.0, "draw_s": 2.0}
SYNTHETIC = "England LSOAs (SYNTHETIC PROXY)"


# --------------------------------------------------------------------------- data
def northants():
    import gangmap

    table, _ = gangmap.join(NORTHANTS, reports=POLICE)
    return "Northants wards", gangmap.make_safe(table, ["reports"])


def northants_lsoa():
    import gangmap

    table, _ = gangmap.join(gangmap.read_areas(NORTHANTS_LSOA, "lsoa"), reports=POLICE)
    return "Northants LSOAs (real)", gangmap.make_safe(table, ["reports"])


def synthetic_counts(n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.poisson(rng.gamma(2.0, 12.0, n))


def england():
    import gangmap

    wards = gangmap.read_wards(ENGLAND).frame  # LAD13CD only: names default to codes
    wards["reports"] = synthetic_counts(len(wards), 20180301)
    return "England wards", gangmap.make_safe(wards, ["reports"])


def england_lsoa():
    import lsoa_proxy

    import gangmap
    from gangmap.table import from_frame

    g = lsoa_proxy.load()
    g["reports"] = synthetic_counts(len(g), 20180302)
    table = from_frame(g.drop(columns=["ward_code"]), counts=["reports"], geography="lsoa")
    return SYNTHETIC, gangmap.make_safe(table)


# --------------------------------------------------------------------------- measuring
def embedded(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="gm-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def drawn_geoms(html: str):
    """The areas exactly as the page draws them, as polygons in EPSG:27700 (one fixed transformation)."""
    import numpy as np
    import shapely

    from gangmap.maps import packing, topology

    data = embedded(html)
    q, arcs = data["q"], packing.read_arcs(data.get("arcs"))
    dec = topology.decode_arcs(q, arcs)
    to_m = topology._fixed_to_work()  # one fixed operation both ways round (see the tests)
    out = []
    for g in packing.read_geoms(data["areas"]["geoms"]):
        polys = []
        for rings in topology.decode(q, arcs, g, dec):
            rr = [np.column_stack(to_m.transform(r[:, 0], r[:, 1])) for r in rings]
            polys.append(shapely.Polygon(rr[0], rr[1:]))
        out.append(shapely.MultiPolygon(polys))
    return np.array(out, dtype=object)


def map_deviation(html: str, safe) -> dict:
    """Per-area Hausdorff distance between the input and what the page draws: metres and share of size."""
    import numpy as np
    import shapely

    from gangmap.maps import topology

    to_m = topology._fixed_to_work()
    fwd = topology._transformer("EPSG:27700", "EPSG:4326")

    def same_plane(xy):
        lon, lat = fwd.transform(xy[:, 0], xy[:, 1])
        return np.column_stack(to_m.transform(lon, lat))

    orig = shapely.transform(np.asarray(safe.frame.to_crs(27700).geometry.values, dtype=object), same_plane)
    h = shapely.hausdorff_distance(orig, drawn_geoms(html))
    rel = h / np.sqrt(shapely.area(orig))
    return {"dev_max": float(h.max()), "dev_p99": float(np.percentile(h, 99)), "rel_max": float(rel.max()),
            "rel_p99": float(np.percentile(rel, 99)), "rel_over_10": float((rel > 0.10).mean())}


def overlap_area(geoms) -> float:
    """Total area (m²) where two of ``geoms`` overlap (0 for a clean coverage)."""
    import numpy as np
    import shapely

    geoms = np.asarray([shapely.make_valid(g) for g in geoms], dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    m = left < right
    return float(shapely.area(shapely.intersection(geoms[left[m]], geoms[right[m]])).sum())


def _local_leaflet():
    """Leaflet's files from xstatic-leaflet, to serve explore's CDN URLs offline."""
    import xstatic.pkg.leaflet as xl

    base = Path(xl.BASE_DIR)
    return {"leaflet.js": (base / "leaflet.js").read_bytes(), "leaflet.css": (base / "leaflet.css").read_bytes()}


def draw_seconds(html: str, *, ready: str, runs: int = 2, serve_leaflet: bool = False) -> float | None:
    """Best of ``runs``: navigation to the first frame after ``ready`` is true, in headless Chromium.

    Every request but the page is refused (offline); with ``serve_leaflet`` Leaflet's CDN URLs are
    answered from the local copy.
    """
    if not Path(CHROMIUM).exists():
        return None
    from playwright.sync_api import sync_playwright

    files = _local_leaflet() if serve_leaflet else {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        path = Path(tmp) / "map.html"
        path.write_text(html, encoding="utf-8")
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        best = None
        try:
            for _ in range(runs):
                ctx = browser.new_context(viewport={"width": 1200, "height": 800})

                def route(r):
                    name = r.request.url.rsplit("/", 1)[-1]
                    if r.request.url.startswith("file://"):
                        return r.continue_()
                    if "/leaflet@" in r.request.url and name in files:
                        return r.fulfill(status=200, body=files[name],
                                         content_type="text/css" if name.endswith("css") else "application/javascript")
                    return r.abort()

                ctx.route("**/*", route)
                page = ctx.new_page()
                page.goto(path.as_uri(), wait_until="load", timeout=300_000)
                t0 = time.monotonic()
                while not page.evaluate(ready) and time.monotonic() - t0 < 300:
                    page.wait_for_timeout(20)
                t = page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
                                  "() => r(performance.now()))))") / 1000.0
                best = t if best is None else min(best, t)
                ctx.close()
        finally:
            browser.close()
    return best


def external_resources(html: str) -> tuple[int, int]:
    """(CDN scripts + stylesheets, tile servers) referenced by a page."""
    cdn = set(re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html))
    tiles = set(re.findall(r'https?://[^"\'\s]*\{z\}[^"\'\s]*', html))
    return len(cdn), len(tiles)


def timed(fn, repeat: int = 1):
    """Best wall and CPU seconds of ``repeat`` calls, and the last result."""
    best, cpu, out = None, None, None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        dt, dc = time.perf_counter() - t, time.process_time() - c
        best, cpu = (dt, dc) if best is None or dt < best else (best, cpu)
    return out, best, cpu


# --------------------------------------------------------------------------- the run
GM_READY = "window.gmReady === true"
EXPLORE_READY = "typeof L !== 'undefined' && document.querySelectorAll('path.leaflet-interactive').length > 0"


def gangmap_row(name: str, safe, *, browser: bool, repeat: int) -> tuple[dict, object]:
    from gangmap import maps

    doc, wall, cpu = timed(lambda: maps.choropleth(safe, "reports"), repeat)
    row = {"data": name, "what": "gangmap", "bytes": doc.size, "build_s": wall, "cpu_s": cpu,
           "draw_s": draw_seconds(doc.html, ready=GM_READY) if browser else None, "external": 0, "offline": True,
           "renderer": doc.data["options"]["renderer"], "areas": len(safe.frame), **map_deviation(doc.html, safe)}
    return row, doc


def encoder_row(name: str, safe, doc, *, overlaps: bool) -> dict:
    from gangmap import maps

    enc, wall, cpu = timed(lambda: maps.encode(safe))
    note = (f"tolerance {enc.tolerance_m:.1f} m (per arc: at most {enc.relative:.0%} of the smaller area's size), "
            f"grid {enc.quantum_m:.2f} m, points {enc.n_points_before:,} -> {enc.n_points_after:,}, arcs "
            f"{enc.n_arcs:,}, invalid {enc.n_invalid}, collapsed rings {enc.n_collapsed_rings}; own measure: "
            f"max {enc.hausdorff_max_m:.1f} m, rel max {enc.relative_max:.3f}, rel p99 {enc.relative_p99:.3f}; "
            f"stages {', '.join(f'{k} {v:.2f}' for k, v in enc.seconds.items())}")
    plain = maps.encode(safe, relative=None)
    note += (f"; without the relative bound: {(plain.relative_dev > 0.10).mean():.1%} of areas move by more than "
             f"10% of their size (rel max {plain.relative_max:.2f}), {plain.n_points_after:,} points")
    if overlaps:
        note += f"; overlap of drawn areas {overlap_area(drawn_geoms(doc.html)):.0f} m² (input 0)"
    return {"data": name, "what": "  maps.encode alone", "bytes": None, "build_s": wall, "cpu_s": cpu, "draw_s": None,
            "external": 0, "note": note}


def explore_row(name: str, safe, *, browser: bool, repeat: int) -> dict:
    big = len(safe.frame) > 5000  # explore takes minutes there: once
    html, wall, cpu = timed(lambda: safe.frame.explore(column="reports").get_root().render(), 1 if big else repeat)
    cdn, tiles = external_resources(html)
    offline = draws = None
    if browser:
        offline = _draws_offline(html)
        draws = draw_seconds(html, ready=EXPLORE_READY, runs=1, serve_leaflet=True)
    return {"data": name, "what": "geopandas.explore", "bytes": len(html.encode("utf-8")), "build_s": wall,
            "cpu_s": cpu, "draw_s": draws, "external": cdn + tiles, "offline": offline,
            "note": f"{cdn} CDN scripts/stylesheets + {tiles} tile server; blank offline; drawn with Leaflet served "
                    "locally (its d3 legend missing)"}


def _draws_offline(html: str) -> bool:
    """Does explore's page draw anything with every request refused? (Its Leaflet comes from a CDN.)"""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        path = Path(tmp) / "e.html"
        path.write_text(html, encoding="utf-8")
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(offline=True)
            page = ctx.new_page()
            page.goto(path.as_uri(), wait_until="load", timeout=300_000)
            return bool(page.evaluate(EXPLORE_READY))
        finally:
            browser.close()


def run(dataset, *, browser: bool, explore: bool, repeat: int, overlaps: bool = True) -> list[dict]:
    name, safe = dataset
    row, doc = gangmap_row(name, safe, browser=browser, repeat=repeat)
    rows = [row, encoder_row(name, safe, doc, overlaps=overlaps)]
    if explore:
        rows.append(explore_row(name, safe, browser=browser, repeat=repeat))
    return rows


# --------------------------------------------------------------------------- output areas: a measured plan
def oa_plan(lsoa_row: dict | None, *, browser: bool, repeat: int) -> list[str]:
    """Map an output-area proxy for part of England, scale its numbers to England's 171,372 OAs, and say what
    one offline file can hold."""
    import lsoa_proxy

    import gangmap
    from gangmap.table import from_frame

    oa = lsoa_proxy.load_oa()
    oa["reports"] = synthetic_counts(len(oa), 20180303)
    safe = gangmap.make_safe(from_frame(oa.drop(columns=["lsoa_code"]), counts=["reports"], geography="oa"))
    row, doc = gangmap_row("OA proxy", safe, browser=browser, repeat=repeat)
    n, total = len(oa), lsoa_proxy.N_OA
    data = doc.data
    words = len(json.dumps([data["areas"]["codes"], data["areas"]["names"]], ensure_ascii=False)) / n
    sizes = oa.groupby("lad_code").size()
    lad = sizes.index[sizes.argsort().iloc[len(sizes) // 2]]
    one = gangmap.make_safe(from_frame(oa[oa["lad_code"] == lad].drop(columns=["lsoa_code"]), counts=["reports"],
                                       geography="oa"))
    drow, _ = gangmap_row("OA proxy, one district", one, browser=browser, repeat=repeat)
    scale = total / n
    # The page without its data (Leaflet, the viewer, styles): a fixed cost of every file.
    fixed = row["bytes"] - len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    per_area = (row["bytes"] - fixed) / n
    lines = [
        f"OUTPUT AREAS (England: {total:,}), measured on a SYNTHETIC OA proxy: {n:,} areas in {len(sizes)} districts "
        f"(the LSOA proxy cut again into about 5.2):",
        f"  one file with every OA: {row['bytes'] / n:.0f} bytes, {1000 * row['cpu_s'] / n:.3f} ms build (CPU) "
        + (f"and {1000 * row['draw_s'] / n:.3f} ms draw " if row["draw_s"] else "") + "per area, measured on "
        f"{n:,}: {row['bytes'] / 1e6:.2f} MB, {row['cpu_s']:.1f} s CPU"
        + (f", {row['draw_s']:.2f} s draw" if row["draw_s"] else "") + ";",
        f"    scaled to England: about {row['bytes'] * scale / 1e6:.0f} MB, {row['cpu_s'] * scale:.0f} s CPU"
        + (f", {row['draw_s'] * scale:.0f} s draw" if row["draw_s"] else "")
        + f": over the {BUDGET['lsoa_mb']:.0f} MB / {BUDGET['lsoa_build_s']:.0f} s / {BUDGET['draw_s']:.0f} s "
        f"budgets (codes and names alone: {words * total / 1e6:.1f} MB).",
        f"    deviation: max {row['dev_max']:.1f} m, relative p99 {row['rel_p99']:.3f}.",
        "  PLAN: aggregated display. The England map shows LSOAs, each with the safe count of its OAs "
        + (f"(measured above: {lsoa_row['bytes'] / 1e6:.2f} MB" + (f", drawn in {lsoa_row['draw_s']:.2f} s"
                                                                    if lsoa_row.get('draw_s') else "") + ")"
           if lsoa_row else "(the LSOA map above)") + ";",
        f"    OA detail goes in district or county maps, which stay small: the median district here "
        f"({len(one.frame):,} OAs) is {drow['bytes'] / 1e3:.0f} KB"
        + (f", drawn in {drow['draw_s']:.2f} s" if drow["draw_s"] else "")
        + f"; a county of 2,300 OAs about {(fixed + 2300 * per_area) / 1e3:.0f} KB ({fixed / 1e3:.0f} KB of it the "
        f"viewer and Leaflet, {per_area:.0f} bytes per OA).",
        f"  Not the plan: OA tiles embedded in one England file (packed per district, decoded on zoom) would draw "
        f"one district at a time, but the file would still hold every OA: about {row['bytes'] * scale / 1e6:.0f} MB.",
    ]
    return lines


# --------------------------------------------------------------------------- report
def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def _size(b) -> str:
    return "-" if b is None else f"{b / 1e6:.2f} MB" if b >= 1e6 else f"{b / 1e3:.0f} KB"


def report(rows: list[dict]) -> None:
    head = (f"{'data':<32} {'what':<19} {'size':>8} {'build s':>8} {'cpu s':>6} {'draw s':>7} {'max m':>6} "
            f"{'p99 m':>6} {'rel max':>7} {'rel p99':>7} {'>10%':>5} {'ext':>4} {'offline':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        offline = r.get("offline")
        print(f"{r['data']:<32} {r['what']:<19} {_size(r['bytes']):>8} {fmt(r['build_s'], '8.2f')} "
              f"{fmt(r.get('cpu_s'), '6.2f')} {fmt(r['draw_s'], '7.2f')} {fmt(r.get('dev_max'), '6.1f')} "
              f"{fmt(r.get('dev_p99'), '6.1f')} {fmt(r.get('rel_max'), '7.3f')} {fmt(r.get('rel_p99'), '7.3f')} "
              f"{fmt(r.get('rel_over_10'), '5.1%')} {r['external']:>4} "
              f"{'-' if offline is None else ('yes' if offline else 'NO'):>7}")
    print()
    for r in rows:
        if r.get("note"):
            print(f"  {r['data']} / {r['what'].strip()}: {r['note']}")
    print()
    for data in dict.fromkeys(r["data"] for r in rows):
        mine = next((r for r in rows if r["data"] == data and r["what"] == "gangmap"), None)
        ex = next((r for r in rows if r["data"] == data and r["what"].startswith("geopandas")), None)
        if mine and ex:
            draw = (f", draw x{mine['draw_s'] / ex['draw_s']:.2f}" if mine["draw_s"] and ex["draw_s"] else "")
            print(f"{data}: gangmap vs explore: size x{mine['bytes'] / ex['bytes']:.2f}, build x"
                  f"{mine['build_s'] / ex['build_s']:.2f} (CPU x{mine['cpu_s'] / ex['cpu_s']:.2f}){draw}, external "
                  f"resources {mine['external']} vs {ex['external']}")
        if mine:
            print(f"  budgets ({mine['renderer']} renderer, {mine['areas']:,} areas): "
                  + ", ".join(f"{c} {'OK' if ok else 'MISSED'}" for c, ok in _checks(data, mine)))


def _checks(data: str, r: dict) -> list[tuple[str, bool]]:
    out = []
    if data.startswith("Northants"):
        out.append((f"size <= {BUDGET['county_kb']} KB", r["bytes"] <= BUDGET["county_kb"] * 1000))
    if data == "England wards":
        out.append((f"size <= {BUDGET['england_wards_mb']:.0f} MB", r["bytes"] <= BUDGET["england_wards_mb"] * 1e6))
    if data == SYNTHETIC:
        out += [(f"size <= {BUDGET['lsoa_mb']:.0f} MB", r["bytes"] <= BUDGET["lsoa_mb"] * 1e6),
                (f"build <= {BUDGET['lsoa_build_s']:.0f} s wall", r["build_s"] <= BUDGET["lsoa_build_s"]),
                (f"build <= {BUDGET['lsoa_build_s']:.0f} s CPU", r["cpu_s"] <= BUDGET["lsoa_build_s"])]
    if r.get("draw_s") is not None:
        out.append((f"draw <= {BUDGET['draw_s']:.0f} s", r["draw_s"] <= BUDGET["draw_s"]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-england", action="store_true", help="only Northamptonshire")
    parser.add_argument("--no-lsoa", action="store_true", help="skip the England LSOA proxy")
    parser.add_argument("--no-oa", action="store_true", help="skip the output-area plan")
    parser.add_argument("--no-browser", action="store_true", help="skip the headless Chromium timings")
    parser.add_argument("--no-explore", action="store_true", help="skip geopandas.explore")
    parser.add_argument("--repeat", type=int, default=2, help="time each map build this many times (best kept)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if not NORTHANTS.exists():
        print(f"bench_maps: {NORTHANTS} not found; nothing to benchmark.")
        return 0
    browser = not args.no_browser and Path(CHROMIUM).exists()
    if not args.no_browser and not browser:
        print(f"bench_maps: {CHROMIUM} not found; draw times skipped.")
    opts = {"browser": browser, "explore": not args.no_explore, "repeat": args.repeat}
    print(f"bench_maps: load average {', '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs "
          "(wall times include other sessions' load; CPU times do not)", flush=True)
    rows = run(northants(), **opts) + run(northants_lsoa(), **opts)
    if not args.no_england and ENGLAND.exists():
        rows += run(england(), **opts)
        if not args.no_lsoa:
            print(f"bench_maps: {SYNTHETIC}: a synthetic proxy, not real LSOAs (benchmarks/lsoa_proxy.py)",
                  flush=True)
            rows += run(england_lsoa(), **opts)
    elif not args.no_england:
        print(f"bench_maps: {ENGLAND} not found; England skipped.")
    print()
    report(rows)
    if not args.no_england and not args.no_oa and ENGLAND.exists():
        print()
        lsoa = next((r for r in rows if r["data"] == SYNTHETIC and r["what"] == "gangmap"), None)
        print("\n".join(oa_plan(lsoa, browser=browser, repeat=1)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
