"""A synthetic stand-in for England's 32,844 LSOAs, made from England's 7,681 real wards.

/work/shared/data holds England's wards but not its LSOAs, so the LSOA-scale
map benchmark (``bench_maps.py``) runs on a **synthetic proxy**: every ward is
cut into areas (32,844 in all, 4.3 per ward on average; more in small town
wards, as real LSOAs hold about 1,500 people each) by the Voronoi diagram of random
points inside it. The Voronoi edges are densified and bent (a smooth random
wiggle, zero at the ends) so that the inner borders have roughly the vertex
spacing of real generalised LSOA boundaries (Northamptonshire's 422 real
LSOAs: about 145 m of boundary per vertex), then clipped to the ward and
polygonised with the ward's own boundary.

The result is a gap-free coverage: where an inner border meets the ward's
boundary, the meeting point becomes a vertex of the ward boundary; the same
point is then inserted (``shapely.snap`` with a micrometre tolerance) into
the neighbouring ward's areas, so that neighbours share every vertex of
their common border (no T-junctions), as ONS coverages do.

It is a proxy: real LSOAs follow streets and population, these follow random
points. Its numbers are printed next to the real Northamptonshire LSOAs'.

Usage::

    .venv/bin/python benchmarks/lsoa_proxy.py [--split 4.276] [--seed 1]   # builds and caches it

The coverage is cached in ``~/.cache/gangmap-bench/`` (a few tens of MB).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data"
ENGLAND = SHARED / "boundaries" / "england_wards_2013.geojson.gz"
NORTHANTS_LSOA = SHARED / "boundaries" / "northamptonshire_lsoa_2011.geojson"
CACHE = Path.home() / ".cache" / "gangmap-bench"

#: England's LSOAs (2011) and wards (2013): the proxy has as many areas as England has LSOAs.
N_LSOA, N_WARDS = 32_844, 7_681
#: Metres of inner border per vertex (real generalised LSOAs: about 145 m, see ``stats``).
SPACING_M = 125.0
#: Minimum segments per inner border, and the wiggle's amplitude as a share of the border's length.
MIN_SEGMENTS, WIGGLE = 4, 0.06
#: Areas per ward fall with the ward's area as ``area ** -URBAN`` (median proxy area 0.57 km²).
URBAN = 0.4
#: Tolerance (m) within which a neighbour's border node is inserted into an area's ring.
SNAP_M = 1e-6


def _counts(area_km2: np.ndarray, total: int, rng) -> np.ndarray:
    """Areas per ward, adding up to ``total``: one each, the rest shared in proportion to ``area ** -URBAN``.

    Real LSOAs hold about 1,500 people each, so town wards (small in area,
    large in population) hold many and rural wards one or two. With no
    population at hand, the share falls with the ward's area.
    """
    weight = area_km2 ** -URBAN
    k = 1 + np.floor((total - len(area_km2)) * weight / weight.sum() + rng.random(len(area_km2))).astype(int)
    while k.sum() != total:
        i = rng.integers(len(k))
        if k.sum() > total and k[i] > 1:
            k[i] -= 1
        elif k.sum() < total:
            k[i] += 1
    return k


def _points_inside(geom, k: int, rng) -> np.ndarray:
    import shapely

    x0, y0, x1, y1 = geom.bounds
    out = np.zeros((0, 2))
    while len(out) < k:
        p = rng.uniform((x0, y0), (x1, y1), (8 * k, 2))
        out = np.vstack([out, p[shapely.contains_xy(geom, p[:, 0], p[:, 1])]])
    return out[:k]


def _wiggle(line, rng):
    """The line densified to about SPACING_M per vertex and bent smoothly; its ends stay put."""
    import shapely

    (ax, ay), (bx, by) = np.asarray(line.coords)[[0, -1]]
    length = math.hypot(bx - ax, by - ay)
    if length == 0:
        return line
    n = max(MIN_SEGMENTS, math.ceil(length / SPACING_M))
    t = np.linspace(0.0, 1.0, n + 1)
    phase = rng.uniform(0, 2 * math.pi, 3)
    bend = sum(np.sin((j + 1) * math.pi * t + phase[j]) / (j + 1) for j in range(3)) * np.sin(math.pi * t) ** 2
    off = WIGGLE * length * bend
    nx, ny = -(by - ay) / length, (bx - ax) / length
    return shapely.LineString(np.column_stack([ax + t * (bx - ax) + off * nx, ay + t * (by - ay) + off * ny]))


def subdivide(geom, k: int, rng):
    """``geom`` cut into about ``k`` areas (Voronoi of random points, wiggled, polygonised with its boundary)."""
    import shapely

    if k <= 1:
        return [geom]
    pts = _points_inside(geom, k, rng)
    edges = shapely.voronoi_polygons(shapely.multipoints(pts), only_edges=True,
                                     extend_to=shapely.box(*geom.bounds).buffer(10.0))
    # Not clipped first: the noder must see each inner border cross the ward boundary.
    inner = shapely.multilinestrings([_wiggle(e, rng) for e in shapely.get_parts(edges)])
    net = shapely.unary_union([geom.boundary, inner])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(net)))
    at = shapely.point_on_surface(faces)
    faces, at = faces[shapely.contains(geom, at)], at[shapely.contains(geom, at)]
    if not len(faces):
        return [geom]
    # A Voronoi cell can cut a concave ward into several faces: they are one area (the seed's).
    xy = shapely.get_coordinates(at)
    seed = np.argmin(((xy[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2), axis=1)
    groups = [faces[seed == s] for s in np.unique(seed)]
    return [g[0] if len(g) == 1 else shapely.union_all(g) for g in groups]


def _nodes(geom, pieces) -> np.ndarray:
    """Vertices of ``pieces`` on the boundary of ``geom`` that are not vertices of ``geom``."""
    import shapely

    own = shapely.get_coordinates(geom)
    got = np.unique(np.concatenate([shapely.get_coordinates(p) for p in pieces]), axis=0)
    new = got[~np.isin(got[:, 0] + 1j * got[:, 1], own[:, 0] + 1j * own[:, 1])]
    if not len(new):
        return new
    on = shapely.distance(geom.boundary, shapely.points(new)) < SNAP_M
    return new[on]


def build(wards, *, split: float = N_LSOA / N_WARDS, seed: int = 1, progress: bool = True):
    """The proxy coverage: a GeoDataFrame (EPSG:27700) with lsoa_code, lsoa_name, lad_code, ward_code."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    w = wards.to_crs(27700).reset_index(drop=True)
    k = _counts(w.area.to_numpy() / 1e6, round(split * len(w)), rng)
    pieces, nodes, t0 = [], [], time.perf_counter()
    for i, geom in enumerate(w.geometry.values):
        parts = subdivide(geom, int(k[i]), rng)
        pieces.append(parts)
        nodes.append(_nodes(geom, parts) if len(parts) > 1 else np.zeros((0, 2)))
        if progress and i % 1000 == 999:
            print(f"  lsoa_proxy: {i + 1:,} wards cut, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    _share_nodes(w, pieces, nodes)
    rows = []
    for i, parts in enumerate(pieces):
        for j, p in enumerate(parts):
            rows.append((w.at[i, "ward_code"], w.at[i, "lad_code"], f"{w.at[i, 'ward_name']} {_letters(j)}", p))
    out = gpd.GeoDataFrame({"ward_code": [r[0] for r in rows], "lad_code": [r[1] for r in rows],
                            "lsoa_name": [r[2] for r in rows]}, geometry=[r[3] for r in rows], crs=27700)
    out.insert(0, "lsoa_code", [f"E01{i + 1:06d}" for i in range(len(out))])
    out["geometry"] = shapely.orient_polygons(_fix_t_junctions(out.geometry.values), exterior_cw=False)
    return out


def _share_nodes(w, pieces, nodes) -> None:
    """Insert every ward's border nodes into the neighbouring wards' areas (no T-junctions)."""
    import shapely

    tree = shapely.STRtree(w.geometry.values)
    for i, pts in enumerate(nodes):
        if not len(pts):
            continue
        mp = shapely.multipoints(pts)
        for j in tree.query(mp, predicate="dwithin", distance=SNAP_M):
            if j == i:
                continue
            mine = pts[shapely.distance(w.geometry.values[j].boundary, shapely.points(pts)) < SNAP_M]
            if len(mine):
                ref = shapely.multipoints(mine)
                pieces[j] = [shapely.snap(p, ref, SNAP_M) for p in pieces[j]]


def _letters(j: int) -> str:
    return chr(ord("A") + j % 26) + (str(j // 26) if j >= 26 else "")


def _t_pairs(geoms) -> tuple[np.ndarray, np.ndarray]:
    """(vertex xy, area) pairs where the vertex lies on the area's border without being one of its vertices.

    Vertices are compared on the encoder's 1 mm grid (``gangmap.maps.topology.SNAP_M``), as the map sees them.
    """
    import shapely

    from gangmap.maps.topology import SNAP_M as GRID

    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    grid = np.rint(xy / GRID)
    _, first, vid = np.unique(grid[:, 0] + 1j * grid[:, 1], return_index=True, return_inverse=True)
    has = set(zip(owner.tolist(), vid.ravel().tolist()))
    vi, ai = shapely.STRtree(shapely.boundary(geoms)).query(shapely.points(xy[first]), predicate="dwithin",
                                                            distance=SNAP_M)
    bad = np.array([(a, v) not in has for v, a in zip(vi.tolist(), ai.tolist())], bool)
    return xy[first][vi[bad]], ai[bad]


def t_junctions(gdf) -> int:
    """Vertices that lie on another area's border without being one of its vertices (0: gap-free sharing)."""
    return len(_t_pairs(gdf.to_crs(27700).geometry.values)[1])


def _fix_t_junctions(geoms: np.ndarray) -> np.ndarray:
    """Insert every remaining T-junction vertex into the area it touches (a few, from float noise)."""
    import shapely

    xy, area = _t_pairs(geoms)
    geoms = geoms.copy()
    for a in np.unique(area):
        geoms[a] = shapely.snap(geoms[a], shapely.multipoints(xy[area == a]), SNAP_M)
    return geoms


def stats(gdf) -> dict:
    """Vertices per area, metres of boundary per vertex, median area (km²)."""
    import shapely

    g = gdf.to_crs(27700).geometry.values
    n = shapely.get_num_coordinates(g)
    return {"areas": len(g), "vertices": int(n.sum()), "per_area": float(n.mean()),
            "m_per_vertex": float(shapely.length(g).sum() / n.sum()),
            "median_km2": float(np.median(shapely.area(g)) / 1e6)}


def load(*, split: float = N_LSOA / N_WARDS, seed: int = 1, refresh: bool = False):
    """The cached proxy (built on first use: a few minutes), or None without England's wards."""
    import geopandas as gpd

    import gangmap

    if not ENGLAND.exists():
        return None
    import pandas as pd

    path = CACHE / f"lsoa_proxy_{split:.3f}_{seed}.pkl"
    if path.exists() and not refresh:  # geometry as WKB in a pickled frame (no pyarrow needed)
        df = pd.read_pickle(path)
        return gpd.GeoDataFrame(df.drop(columns="wkb"), geometry=gpd.GeoSeries.from_wkb(df["wkb"]), crs=27700)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wards = gangmap.read_wards(ENGLAND).frame
    out = build(wards, split=split, seed=seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    pd.DataFrame(out.drop(columns="geometry")).assign(wkb=out.geometry.to_wkb().values).to_pickle(tmp)
    tmp.replace(path)
    return out


#: England's output areas (2011) per LSOA.
N_OA = 171_372


def load_oa(*, lsoas: int = 5000, seed: int = 2, refresh: bool = False):
    """An output-area proxy for part of England: the LSOA proxy's first districts (by code) up to
    ``lsoas`` LSOAs, each cut again into about 5.2 areas (171,372 OAs / 32,844 LSOAs). Cached."""
    import geopandas as gpd
    import pandas as pd

    base = load()
    if base is None:
        return None
    path = CACHE / f"oa_proxy_{lsoas}_{seed}.pkl"
    if path.exists() and not refresh:
        df = pd.read_pickle(path)
        return gpd.GeoDataFrame(df.drop(columns="wkb"), geometry=gpd.GeoSeries.from_wkb(df["wkb"]), crs=27700)
    sizes = base.groupby("lad_code").size().sort_index()
    lads = sizes.index[: int(np.searchsorted(sizes.cumsum().to_numpy(), lsoas)) + 1]
    part = base[base["lad_code"].isin(lads)].drop(columns="ward_code").rename(
        columns={"lsoa_code": "ward_code", "lsoa_name": "ward_name"})
    out = build(part[["ward_code", "ward_name", "lad_code", "geometry"]], split=N_OA / N_LSOA, seed=seed)
    out = out.rename(columns={"lsoa_code": "oa_code", "lsoa_name": "oa_name", "ward_code": "lsoa_code"})
    out["oa_code"] = [f"E00{i + 1:06d}" for i in range(len(out))]
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    pd.DataFrame(out.drop(columns="geometry")).assign(wkb=out.geometry.to_wkb().values).to_pickle(tmp)
    tmp.replace(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", type=float, default=N_LSOA / N_WARDS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--refresh", action="store_true")
    args = parser.parse_args(argv)
    t = time.perf_counter()
    gdf = load(split=args.split, seed=args.seed, refresh=args.refresh)
    if gdf is None:
        print(f"lsoa_proxy: {ENGLAND} not found")
        return 0
    print(f"synthetic LSOA proxy ({time.perf_counter() - t:.0f} s): {stats(gdf)}")
    if NORTHANTS_LSOA.exists():
        import geopandas as gpd

        print(f"real Northamptonshire LSOAs: {stats(gpd.read_file(NORTHANTS_LSOA))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
