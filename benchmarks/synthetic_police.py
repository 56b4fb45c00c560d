"""Synthetic police.uk street-level months over every ward in England, for the join benchmarks.

The real national month is not beside the repository (only Northamptonshire's March 2018 is), so
the benchmarks build months in the published format: the same 12 columns, points drawn uniformly
inside the real 2013 England wards (../shared/data/boundaries/england_wards_2013.geojson.gz) with
ward sizes weighted like crime (more in denser, smaller wards), about 2% of rows with no location
(as police.uk publishes some anti-social behaviour), 0.5% out at sea (outside every ward), crime
types in the proportions of the real Northamptonshire month. Files are cached by size and seed.

    python benchmarks/synthetic_police.py --rows 1000000 --months 3 --out /tmp/police
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ENGLAND = SHARED / "boundaries" / "england_wards_2013.geojson.gz"
REAL = SHARED / "police" / "2018-03-northamptonshire-street.csv"
COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location", "LSOA code",
           "LSOA name", "Crime type", "Last outcome category", "Context"]


def _wards():
    import geopandas as gpd

    w = gpd.read_file(f"/vsigzip/{ENGLAND}")
    w = w.to_crs(27700)
    w["geometry"] = w.geometry.make_valid()
    return w


def _sample_points(wards, n: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points (EPSG:27700) inside wards chosen with weight ~ sqrt(1/area); returns x, y, ward index."""
    import shapely

    area = wards.geometry.area.to_numpy()
    weight = 1.0 / np.sqrt(area)
    which = rng.choice(len(wards), size=n, p=weight / weight.sum())
    xs, ys = np.empty(n), np.empty(n)
    order = np.argsort(which, kind="stable")
    counts = np.bincount(which, minlength=len(wards))
    start = 0
    geoms = wards.geometry.to_numpy()
    for i, k in enumerate(counts):
        if not k:
            continue
        g = geoms[i]
        shapely.prepare(g)
        x0, y0, x1, y1 = g.bounds
        got_x, got_y = [], []
        need = k
        while need > 0:
            m = max(16, int(need * 2.5))
            cx, cy = rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)
            ok = shapely.contains_xy(g, cx, cy)
            got_x.append(cx[ok][:need])
            got_y.append(cy[ok][:need])
            need -= int(min(ok.sum(), need))
        idx = order[start:start + k]
        xs[idx], ys[idx] = np.concatenate(got_x), np.concatenate(got_y)
        start += k
    return xs, ys, which


def _crime_types(rng, n: int) -> np.ndarray:
    import pandas as pd

    real = pd.read_csv(REAL, usecols=["Crime type"])["Crime type"].value_counts(normalize=True)
    return rng.choice(real.index.to_numpy(), size=n, p=real.to_numpy())


def make_month(wards, month: str, n: int, seed: int) -> object:
    """One month of ``n`` rows as a DataFrame in the published column order."""
    import pandas as pd
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    x, y, _ = _sample_points(wards, n, rng)
    sea = rng.random(n) < 0.005
    x[sea], y[sea] = rng.uniform(700_000, 750_000, sea.sum()), rng.uniform(100_000, 300_000, sea.sum())
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(x, y)
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    blank = rng.random(n) < 0.02
    kind = _crime_types(rng, n)
    frame = pd.DataFrame({c: "" for c in COLUMNS}, index=range(n))
    frame["Month"] = month
    frame["Reported by"] = frame["Falls within"] = "Synthetic Police"
    frame["Longitude"] = np.where(blank, "", lon.astype(str))
    frame["Latitude"] = np.where(blank, "", lat.astype(str))
    frame["Location"] = "On or near Synthetic Street"
    frame["Crime type"] = kind
    frame["Crime ID"] = np.where(kind == "Anti-social behaviour", "",
                                 pd.util.hash_array(np.arange(n) + seed * 10**9).astype(str))
    return frame


def build(out: Path, rows_per_month: int, months: int, seed: int = 20180301) -> list[Path]:
    """Write ``months`` monthly files of ``rows_per_month`` rows into ``out``; reuse them if present."""
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    periods = [str(p) for p in pd.period_range("2018-01", periods=months, freq="M")]
    files = [out / f"{p}/{p}-synthetic-street.csv" for p in periods]
    todo = [(p, f) for p, f in zip(periods, files) if not f.exists()]
    if todo:
        wards = _wards()
        for i, (p, f) in enumerate(todo):
            f.parent.mkdir(parents=True, exist_ok=True)
            tmp = f.with_suffix(".part")
            make_month(wards, p, rows_per_month, seed + i).to_csv(tmp, index=False)
            tmp.replace(f)
            print(f"  wrote {f} ({rows_per_month:,} rows)", file=sys.stderr)
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows per month")
    ap.add_argument("--months", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "police")
    args = ap.parse_args()
    if not ENGLAND.exists():
        print(f"skipped: {ENGLAND} not found (../shared/data is beside the repository in CI)")
        return 0
    for f in build(args.out / f"{args.rows}", args.rows, args.months):
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
