"""Benchmark: LISA and Gi* hotspots on every ward in England through gangmap's API, against esda.

Loads ``../shared/data/boundaries/england_wards_2013.geojson.gz`` (7,681 wards,
EPSG:4326, one invalid geometry), projects it to EPSG:27700, repairs the
geometry, builds queen weights, draws synthetic Poisson counts with a fixed
seed and times ``measures.local_moran`` and ``measures.getis_ord`` with 999
permutations, and, in the same run on the same data and weights, esda's own
``Moran_Local`` and ``G_Local`` (the peer). Prints a table of (step, seconds,
ratio to the peer): the ratio is what to compare across machines, since the
project's 2-core machine is shared.

Usage::

    .venv/bin/python benchmarks/bench_hotspots.py [--path FILE] [--permutations 999]
        [--n-jobs 1] [--repeat 1]

It is a script, not a test: it always exits 0, and says so when the data file
is absent.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_PATH = ROOT.parent / "shared" / "data" / "boundaries" / "england_wards_2013.geojson.gz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="time the hotspot steps this many times (best kept)")
    args = parser.parse_args(argv)

    if not args.path.exists():
        print(f"bench_hotspots: {args.path} not found; nothing to benchmark.")
        return 0

    import geopandas as gpd
    import numpy as np

    from gangmap import measures

    try:
        import numba  # noqa: F401

        numba_note = f"numba {numba.__version__}"
    except ImportError:
        numba_note = "numba not installed (esda runs its pure-Python fallback)"

    rows: list[tuple[str, float]] = []

    def timed(label, fn, repeat=1):
        best, value = float("inf"), None
        for _ in range(repeat):
            t0 = time.perf_counter()
            value = fn()
            best = min(best, time.perf_counter() - t0)
        rows.append((label, best))
        return value

    def load():
        with gzip.open(args.path, "rb") as fh:
            return gpd.read_file(fh.read())

    wards = timed("read geojson.gz", load)

    def prepare():
        g = wards.to_crs(27700)
        invalid = int((~g.geometry.is_valid).sum())
        g["geometry"] = g.geometry.make_valid()
        g = g.rename(columns={"WD13CD": "ward_code", "WD13NM": "ward_name", "LAD13CD": "lad_code"})
        g["lad_name"] = g["lad_code"]  # the England file carries codes only
        return g, invalid

    wards, invalid = timed("to_crs(27700) + make_valid", prepare)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = timed("queen weights (measures.weights)", lambda: measures.weights(wards))

    rng = np.random.default_rng(20180301)
    # synthetic counts with some spatial structure: Poisson around a smooth east-west trend
    cx = wards.geometry.centroid.x.to_numpy()
    mu = 3.0 + 4.0 * (cx - cx.min()) / (cx.max() - cx.min())
    wards["reports"] = rng.poisson(mu)

    lisa = timed(
        f"local_moran ({args.permutations} perms)",
        lambda: measures.local_moran(
            wards, "reports", w=w, permutations=args.permutations, seed=1, n_jobs=args.n_jobs
        ),
        args.repeat,
    )
    gi = timed(
        f"getis_ord Gi* ({args.permutations} perms)",
        lambda: measures.getis_ord(
            wards, "reports", w=w, permutations=args.permutations, seed=1, n_jobs=args.n_jobs
        ),
        args.repeat,
    )
    esda_peers(wards["reports"].to_numpy(dtype=float), w.w, args, timed)
    (lm_label, lm_s), (gi_label, gi_s), (_, peer_lm), (_, peer_gi) = rows[-4:]
    ratios = {lm_label: lm_s / peer_lm, gi_label: gi_s / peer_gi}

    print(f"gangmap hotspot benchmark: {len(wards):,} wards, {invalid} invalid geometry repaired,")
    print(f"  {len(w.islands)} island ward(s) joined to nearest ({', '.join(w.islands)}),")
    print(f"  {os.cpu_count()} CPU(s), n_jobs={args.n_jobs}, {numba_note}")
    print()
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'step':<{width}}{'seconds':>9}{'x esda':>9}")
    print("-" * (width + 18))
    for label, secs in rows:
        ratio = f"{ratios[label]:>9.2f}" if label in ratios else ""
        print(f"{label:<{width}}{secs:>9.2f}{ratio}")
    print("-" * (width + 18))
    print("x esda: gangmap's time over esda's on the same values, weights, permutations and seed, measured")
    print("in this run (gangmap adds input checks, island handling, tie-aware p-values and labels).")
    print()
    print("LISA labels:", lisa["reports_lisa"].value_counts().to_dict())
    print("Gi* labels: ", gi["reports_gi"].value_counts().to_dict())
    return 0


def esda_peers(y, w, args, timed) -> None:
    """Time esda's Moran_Local and G_Local (star, binary) directly: the peer of the two steps above."""
    import copy

    import esda
    from libpysal.weights import W

    ids = list(w.id_order)
    connected = [i for i, c in enumerate(ids) if w.neighbors[c]]
    keep = [ids[i] for i in connected]
    kept = set(keep)
    sub = W({c: [j for j in w.neighbors[c] if j in kept] for c in keep},
            {c: [1.0] * len([j for j in w.neighbors[c] if j in kept]) for c in keep}, id_order=keep,
            silence_warnings=True)
    ys = y[connected]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timed(f"  peer: esda.Moran_Local ({args.permutations} perms)",
              lambda: esda.Moran_Local(ys, copy.deepcopy(sub), transformation="r", permutations=args.permutations,
                                       n_jobs=args.n_jobs, keep_simulations=True, seed=1), args.repeat)
        timed(f"  peer: esda.G_Local star ({args.permutations} perms)",
              lambda: esda.G_Local(ys, copy.deepcopy(sub), transform="B", permutations=args.permutations,
                                   star=True, keep_simulations=True, n_jobs=args.n_jobs, seed=1), args.repeat)


if __name__ == "__main__":
    sys.exit(main())
