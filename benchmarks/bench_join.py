"""Join throughput and peak memory: gangmap against a plain geopandas ``sjoin``, side by side.

For each size (rows of synthetic police.uk months over all 7,681 England wards, see
``synthetic_police.py``; one file of ``--per-month`` rows per month) both are run in fresh
interpreters, alternately, ``--repeat`` times:

* peer: ``pandas.read_csv`` -> ``points_from_xy`` (EPSG:4326) -> ``to_crs(27700)`` ->
  ``geopandas.sjoin(predicate="within")`` -> counts per ward (what a careful analyst writes);
* gangmap: ``gangmap.join(areas, reports=[files])``, the public API, which streams police.uk files
  in chunks (``--chunksize``), with its full JoinReport (every row accounted for).

Timings exclude reading the ward boundaries (both read them the same way). It prints the median
seconds, the peak resident memory of each process (ru_maxrss), the ratio gangmap / peer, and checks
that the two give the same count in every ward; then a memory-scaling table (rows against peak MB)
that shows whether gangmap's memory is bounded. Targets (issue 17): time ratio <= 1.3 at every size;
gangmap's peak memory bounded whatever the number of rows (20M rows within 1.5 GB).

    python benchmarks/bench_join.py [--sizes 1000000 3000000 12000000] [--repeat 3]
    python benchmarks/bench_join.py --sizes 20000000 --repeat 1 --peer-max 12000000   # memory bound only
    python benchmarks/bench_join.py --sizes 4000000 --per-month 4000000 --peer-max 0  # rows in one month

gangmap's memory grows with the cube it keeps (areas x months x categories: about 8 MB a month
for 7,681 wards and 14 crime types), not with the rows: one month of 1M or 4M rows peaks alike.

A script, not a test: it always exits 0 and says what it skipped.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synthetic_police import ENGLAND  # noqa: E402

TARGET_RATIO = 1.3
MEMORY_TARGET_MB = 1500

PEER = textwrap.dedent("""
    import json, resource, sys, time
    import geopandas as gpd, pandas as pd
    t0 = time.perf_counter()
    wards = gpd.read_file("/vsigzip/" + sys.argv[1]).to_crs(27700)[["WD13CD", "geometry"]]
    t1 = time.perf_counter()
    frames = [pd.read_csv(f, usecols=["Longitude", "Latitude", "Month", "Crime type"]) for f in sys.argv[2:]]
    rec = pd.concat(frames, ignore_index=True)
    rec = rec.dropna(subset=["Longitude", "Latitude"])
    pts = gpd.GeoDataFrame(rec, geometry=gpd.points_from_xy(rec["Longitude"], rec["Latitude"]), crs=4326)
    pts = pts.to_crs(27700)
    hit = gpd.sjoin(pts, wards, how="inner", predicate="within")
    counts = hit.groupby("WD13CD").size()
    t2 = time.perf_counter()
    print(json.dumps({"seconds": t2 - t1, "boundaries_s": t1 - t0,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "counts": {k: int(v) for k, v in counts.items()}}))
""")

GANGMAP = textwrap.dedent("""
    import json, resource, sys, time
    import gangmap
    t0 = time.perf_counter()
    areas = gangmap.read_areas(sys.argv[1]) if hasattr(gangmap, "read_areas") else gangmap.read_wards(sys.argv[1])
    t1 = time.perf_counter()
    chunksize, files = int(sys.argv[2]), sys.argv[3:]
    table, report = gangmap.join(areas, reports=files if len(files) > 1 else files[0], allow_unmatched=True,
                                 chunksize=chunksize or None)
    t2 = time.perf_counter()
    frame = table.frame
    assert report.balanced
    print(json.dumps({"seconds": t2 - t1, "boundaries_s": t1 - t0,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rows": report.rows_read, "matched": report.matched, "outside": report.outside,
                      "rejected": report.rejected,
                      "counts": {str(k): int(v) for k, v in zip(frame["ward_code"], frame["reports"]) if v}}))
""")


def run(code: str, files: list[Path], *extra: str) -> dict:
    res = subprocess.run([sys.executable, "-c", code, str(ENGLAND), *extra, *map(str, files)], capture_output=True,
                         text=True, cwd=ROOT)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def synthetic_files(data: Path, per: int, months: int) -> list[Path]:
    """The synthetic months, made (or reused) in a separate process.

    Made here, the generator's gigabytes would count in the peak memory of the
    processes measured next (Linux carries the parent's high-water mark into
    a forked child).
    """
    res = subprocess.run([sys.executable, str(HERE / "synthetic_police.py"), "--rows", str(per), "--months",
                          str(months), "--out", str(data)], capture_output=True, text=True, check=True)
    return [Path(line) for line in res.stdout.split()]


def measure(size: int, args) -> dict:
    """Both joins on ``size`` rows, ``args.repeat`` times alternately; medians and peaks."""
    per = min(args.per_month, size)
    files = synthetic_files(args.data, per, max(1, size // per))
    with_peer = size <= args.peer_max
    peer, ours = [], []
    for _ in range(args.repeat):
        if with_peer:
            peer.append(run(PEER, files))
        ours.append(run(GANGMAP, files, str(args.chunksize)))
    bad = [r["error"] for r in peer + ours if "error" in r]
    if bad:
        return {"size": size, "error": bad[0]}
    out = {"size": size, "gs": statistics.median(r["seconds"] for r in ours),
           "gm": max(r["peak_mb"] for r in ours), "rows": ours[0]["rows"]}
    if with_peer:
        out.update(ps=statistics.median(r["seconds"] for r in peer), pm=max(r["peak_mb"] for r in peer),
                   same=all(r["counts"] == peer[0]["counts"] for r in ours))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000, 12_000_000])
    ap.add_argument("--per-month", type=int, default=1_000_000, help="rows per monthly file")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunksize", type=int, default=0, help="rows per chunk for gangmap (0: its default)")
    ap.add_argument("--peer-max", type=int, default=12_000_000, help="skip the peer above this many rows")
    ap.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "results" / "police")
    args = ap.parse_args()
    if not ENGLAND.exists():
        print(f"skipped: {ENGLAND} not found (../shared/data is beside the repository in CI)")
        return 0
    print(f"{'rows':>12} {'peer s':>8} {'gangmap s':>10} {'ratio':>6} {'peer MB':>8} {'gangmap MB':>11}  counts",
          flush=True)
    results = []
    for size in args.sizes:
        r = measure(size, args)
        results.append(r)
        if "error" in r:
            print(f"{size:>12,}  failed: {r['error']}", flush=True)
        elif "ps" not in r:
            print(f"{r['rows']:>12,} {'-':>8} {r['gs']:>10.2f} {'-':>6} {'-':>8} {r['gm']:>11.0f}  (peer skipped)",
                  flush=True)
        else:
            flag = "met" if r["gs"] / r["ps"] <= TARGET_RATIO else "NOT met"
            print(f"{r['rows']:>12,} {r['ps']:>8.2f} {r['gs']:>10.2f} {r['gs'] / r['ps']:>6.2f} {r['pm']:>8.0f} "
                  f"{r['gm']:>11.0f}  {'same' if r['same'] else 'DIFFER'}  (ratio target <= {TARGET_RATIO}: {flag})",
                  flush=True)
    ok = [r for r in results if "error" not in r]
    if len(ok) > 1:
        print(f"\nmemory scaling (peak MB; target: gangmap bounded, 20M rows within {MEMORY_TARGET_MB:,} MB)")
        print(f"{'rows':>12} {'gangmap MB':>11} {'peer MB':>8}")
        for r in ok:
            print(f"{r['rows']:>12,} {r['gm']:>11.0f} {r.get('pm', float('nan')):>8.0f}")
        first, last = ok[0], ok[-1]
        grow = (last["gm"] - first["gm"]) / max(last["rows"] - first["rows"], 1) * 1e6
        print(f"gangmap grows {grow:,.1f} MB per million rows from {first['rows']:,} to {last['rows']:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
