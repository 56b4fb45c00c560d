"""Join throughput and peak memory: gangmap against a plain geopandas ``sjoin``, side by side.

For each size (rows of synthetic police.uk months over all 7,681 England wards, see
``synthetic_police.py``) both are run in fresh interpreters, alternately, ``--repeat`` times:

* peer: ``pandas.read_csv`` -> ``points_from_xy`` (EPSG:4326) -> ``to_crs(27700)`` ->
  ``geopandas.sjoin(predicate="within")`` -> counts per ward (what a careful analyst writes);
* gangmap: the public join API on the same files, with its full JoinReport.

It prints the median seconds, the peak resident memory of each process (ru_maxrss), the ratio
gangmap / peer, and checks that the two give the same count in every ward. Targets (issue 17):
time ratio <= 1.3 at every size; gangmap's peak memory bounded whatever the number of rows.

    python benchmarks/bench_join.py [--sizes 1000000 3000000 12000000] [--repeat 3]

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

from synthetic_police import ENGLAND, build  # noqa: E402

TARGET_RATIO = 1.3

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
    files = sys.argv[2:]
    kw = {"allow_unmatched": True}
    try:
        table, report = gangmap.join(areas, reports=files if len(files) > 1 else files[0], **kw)
    except TypeError:
        table, report = gangmap.join(areas, reports=files[0])
    t2 = time.perf_counter()
    frame = table.frame if hasattr(table, "frame") else table
    print(json.dumps({"seconds": t2 - t1, "boundaries_s": t1 - t0,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "counts": {str(k): int(v) for k, v in zip(frame["ward_code"], frame["reports"]) if v}}))
""")


def run(code: str, files: list[Path]) -> dict:
    res = subprocess.run([sys.executable, "-c", code, str(ENGLAND), *map(str, files)], capture_output=True,
                         text=True, cwd=ROOT)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000, 12_000_000])
    ap.add_argument("--per-month", type=int, default=1_000_000, help="rows per monthly file")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "results" / "police")
    args = ap.parse_args()
    if not ENGLAND.exists():
        print(f"skipped: {ENGLAND} not found (../shared/data is beside the repository in CI)")
        return 0
    print(f"{'rows':>12} {'peer s':>8} {'gangmap s':>10} {'ratio':>6} {'peer MB':>8} {'gangmap MB':>11}  counts")
    for size in args.sizes:
        per = min(args.per_month, size)
        files = build(args.data / str(per), per, max(1, size // per))
        peer, ours = [], []
        for _ in range(args.repeat):
            peer.append(run(PEER, files))
            ours.append(run(GANGMAP, files))
        bad = [r["error"] for r in peer + ours if "error" in r]
        if bad:
            print(f"{size:>12,}  failed: {bad[0]}")
            continue
        ps = statistics.median(r["seconds"] for r in peer)
        gs = statistics.median(r["seconds"] for r in ours)
        pm = max(r["peak_mb"] for r in peer)
        gm = max(r["peak_mb"] for r in ours)
        same = "same" if peer[0]["counts"] == ours[0]["counts"] else "DIFFER"
        flag = "met" if gs / ps <= TARGET_RATIO else "NOT met"
        print(f"{size:>12,} {ps:>8.2f} {gs:>10.2f} {gs / ps:>6.2f} {pm:>8.0f} {gm:>11.0f}  {same}  (ratio target "
              f"<= {TARGET_RATIO}: {flag})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
