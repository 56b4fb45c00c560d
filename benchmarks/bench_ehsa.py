"""Benchmark: emerging hotspot analysis on the real Northamptonshire wards, against esda.

Loads ``../shared/data/boundaries/northamptonshire_wards_2013.geojson`` (146
wards), builds queen weights, draws 24 months of synthetic Poisson counts with
a fixed seed (a cluster near Northampton that grows from month 12) and times
``measures.space_time_cube`` (Gi* per month with 999 permutations and the
per-month FDR, re-testing at the permutation floor, then Mann-Kendall and the
categories). The peer, measured in the same run, is the bare esda loop:
``esda.G_Local`` per month with the same permutations and no FDR, trend or
categories. Prints (step, seconds, ratio to the peer) and the categories.

Usage::

    .venv/bin/python benchmarks/bench_ehsa.py [--path FILE] [--months 24] [--permutations 999]

A script, not a test: it always exits 0, and says so when the data file is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_PATH = ROOT.parent / "shared" / "data" / "boundaries" / "northamptonshire_wards_2013.geojson"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--permutations", type=int, default=999)
    args = parser.parse_args(argv)
    if not args.path.exists():
        print(f"bench_ehsa: {args.path} not found; nothing to benchmark.")
        return 0

    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from gangmap import measures
    from gangmap.table import from_frame

    wards = gpd.read_file(args.path).rename(columns={"WD13CD": "ward_code", "WD13NM": "ward_name"}).to_crs(27700)
    rng = np.random.default_rng(20180301)
    months = [str(p) for p in pd.period_range("2017-03", periods=args.months, freq="M")]
    cx, cy = wards.geometry.centroid.x.to_numpy(), wards.geometry.centroid.y.to_numpy()
    near = np.hypot(cx - 475_000, cy - 260_000) < 4_000  # around Northampton
    growth = np.clip(np.arange(args.months) - args.months // 2, 0, None) * 1.2
    mu = 2.0 + np.outer(near, growth)
    series = pd.DataFrame(rng.poisson(mu).astype(float), index=wards["ward_code"], columns=months)
    wards["reports"] = series.sum(axis=1).to_numpy()
    table = from_frame(wards, counts=["reports"])
    w = measures.weights(table)

    rows: list[tuple[str, float]] = []

    def timed(label, fn):
        t0 = time.perf_counter()
        value = fn()
        rows.append((label, time.perf_counter() - t0))
        return value

    cube = timed(f"space_time_cube, FDR ({args.permutations} perms)",
                 lambda: measures.space_time_cube(table, series, w=w, permutations=args.permutations))
    timed(f"space_time_cube, no FDR ({args.permutations} perms)",
          lambda: measures.space_time_cube(table, series, w=w, permutations=args.permutations, fdr=False))
    timed(f"  peer: esda.G_Local x {args.months} months", lambda: esda_loop(series, w.w, args.permutations))
    peer = rows[-1][1]

    print(f"gangmap emerging hotspot benchmark: {len(wards)} wards x {args.months} months (synthetic counts), "
          f"{cube.notes['refined_at_floor']} area-months re-tested at the permutation floor")
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'step':<{width}}{'seconds':>9}{'x esda':>9}")
    print("-" * (width + 18))
    for label, secs in rows:
        print(f"{label:<{width}}{secs:>9.2f}{secs / peer:>9.2f}")
    print("-" * (width + 18))
    print("x esda: time over the bare esda loop measured in this run (no FDR, trend or categories there).")
    print()
    print("categories:", cube.categories.value_counts().to_dict())
    print("planted cluster:", cube.categories[near].value_counts().to_dict())
    return 0


def esda_loop(series, w, permutations: int) -> None:
    import esda
    from libpysal.weights import W

    ids = list(w.id_order)
    wb = W({c: list(w.neighbors[c]) for c in ids}, {c: [1.0] * len(w.neighbors[c]) for c in ids}, id_order=ids,
           silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for col in series.columns:
            esda.G_Local(series[col].to_numpy(), wb, transform="B", permutations=permutations, star=True,
                         keep_simulations=True, n_jobs=1, seed=1)


if __name__ == "__main__":
    sys.exit(main())
