"""Topology encoding: shared arcs, simplified once, no gaps, measured deviation, small output."""

from __future__ import annotations

import json
import math
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

import gangmap
from gangmap.maps import topology
from gangmap.maps.topology import encode_coverage, group_outlines

X0, Y0, SIDE = 480_000.0, 260_000.0, 1_000.0


# --------------------------------------------------------------------------- the viewer's decoder, ported
def js_decode_arc(q, a):
    """``decodeArc`` of gangmap.js, point for point (as (lon, lat), not Leaflet's (lat, lon))."""
    out, x, y = [], 0, 0
    for i in range(0, len(a), 2):
        x += a[i]
        y += a[i + 1]
        out.append((q["x0"] + x * q["s"], q["y0"] + y * q["s"]))
    return out


def js_ring(arcs_dec, r):
    """``ring`` of gangmap.js with ``D.arcs``: consecutive arcs share their joining point."""
    out = []
    for k in r:
        pts = arcs_dec[k] if k >= 0 else arcs_dec[~k][::-1]
        for j in range(1 if out else 0, len(pts)):
            out.append(pts[j])
    return out


def js_shapes(enc):
    arcs_dec = [js_decode_arc(enc.q, a) for a in enc.arcs]
    return [[[js_ring(arcs_dec, r) for r in poly] for poly in g] for g in enc.geoms]


def _to_27700():
    """One fixed EPSG:4326 -> 27700 operation, applied alike to originals and decoded points."""
    return topology._fixed_to_work()


def decoded_geoms(enc):
    """Decoded features as shapely geometries in metres (see :func:`_to_27700`)."""
    tr = _to_27700()
    out = []
    for shape in js_shapes(enc):
        polys = []
        for rings in shape:
            rr = []
            for ring in rings:
                lon, lat = np.asarray(ring).T
                x, y = tr.transform(lon, lat)
                rr.append(np.column_stack([x, y]))
            polys.append(shapely.Polygon(rr[0], rr[1:]))
        out.append(shapely.MultiPolygon(polys) if polys else shapely.from_wkt("MULTIPOLYGON EMPTY"))
    return np.array(out, dtype=object)


def originals_in_same_plane(geoms_27700):
    """Originals sent through the encoder's EPSG:27700 -> 4326 and the same fixed way back."""
    fwd = topology._transformer("EPSG:27700", "EPSG:4326")
    back = _to_27700()

    def f(xy):
        lon, lat = fwd.transform(xy[:, 0], xy[:, 1])
        return np.column_stack(back.transform(lon, lat))

    return shapely.transform(np.asarray(geoms_27700, dtype=object), f)


def independent_hausdorff(enc, geoms_27700, densify=None):
    return shapely.hausdorff_distance(originals_in_same_plane(geoms_27700), decoded_geoms(enc), densify=densify)


# --------------------------------------------------------------------------- a synthetic coverage
def _wiggle(p, q, n=24, amp=25.0):
    """Points from p to q (q excluded), wiggling; the same edge walked backwards gives the same points."""
    a, b = (p, q) if p <= q else (q, p)
    t = np.linspace(0.0, 1.0, n + 1)
    d = np.subtract(b, a)
    nrm = np.array([-d[1], d[0]]) / math.hypot(*d)
    phase = (a[0] * 7 + a[1] * 13 + b[0] * 3 + b[1]) % 17
    off = amp * np.sin(3 * math.pi * t + phase) * np.sin(math.pi * t)
    pts = np.asarray(a) + t[:, None] * d + off[:, None] * nrm
    pts[0], pts[-1] = a, b
    if p > q:
        pts = pts[::-1]
    return pts[:-1]


def _corner(i, j):
    return (X0 + SIDE * i, Y0 + SIDE * j)


def _cell_ring(i, j):
    c = [_corner(i, j), _corner(i + 1, j), _corner(i + 1, j + 1), _corner(i, j + 1)]
    pts = np.concatenate([_wiggle(c[k], c[(k + 1) % 4]) for k in range(4)])
    return np.vstack([pts, pts[:1]])


def _cell(i, j):
    return shapely.Polygon(_cell_ring(i, j))


def _blob(cx, cy, r, n=40, amp=0.15):
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    rr = r * (1 + amp * np.sin(5 * t))
    pts = np.column_stack([cx + rr * np.cos(t), cy + rr * np.sin(t)])
    return np.vstack([pts, pts[:1]])


def synthetic():
    """A GeoDataFrame (EPSG:27700) exercising every case.

    * a 4 x 3 grid of wiggly cells, some merged into an L-shape;
    * a cell with a hole exactly filled by an island ward (a ring with no junction);
    * a cell with an unfilled hole (a lake);
    * a multipolygon: a cell plus a detached island;
    * a "cap" whose ring is just two arcs (one shared with the cell below, one outer),
      both nearly straight, so a coarse simplification would collapse it;
    * a tiny island (15 m) far smaller than the tolerance.
    """
    feats, names, groups = [], [], []

    def add(g, name, group):
        feats.append(g)
        names.append(name)
        groups.append(group)

    for j in range(3):
        for i in range(4):
            if (i, j) in {(2, 0), (3, 0), (3, 1), (1, 1), (0, 1), (0, 2)}:
                continue
            add(_cell(i, j), f"cell {i},{j}", "west" if i < 2 else "east")
    add(shapely.union_all([_cell(2, 0), _cell(3, 0), _cell(3, 1)]), "L-shape", "east")
    hole = _blob(*_corner(1.5, 1.5), 200)
    add(shapely.Polygon(_cell_ring(1, 1), [hole[::-1]]), "holed", "west")
    add(shapely.Polygon(hole), "island in hole", "west")
    lake = _blob(*_corner(0.5, 1.5), 150)
    add(shapely.Polygon(_cell_ring(0, 1), [lake[::-1]]), "lake", "west")
    add(shapely.MultiPolygon([_cell(0, 2), shapely.Polygon(_blob(X0 - 3000, Y0 + 2500, 300))]),
        "multi", "west")
    # Cap over the top edge of cell (0, 2): its outer arc bulges only 45 m (the edge wiggles 25 m).
    top = np.concatenate([_wiggle(_corner(1, 3), _corner(0, 3))])
    xs = np.linspace(X0, X0 + SIDE, 30)
    bump = np.column_stack([xs, Y0 + 3 * SIDE + 45 * np.sin(np.linspace(0, math.pi, 30))])
    cap = np.vstack([bump[:-1], top, bump[:1]])
    add(shapely.Polygon(cap), "cap", "north")
    add(shapely.Polygon(_blob(X0 + 6000, Y0 + 500, 7.5, n=12)), "tiny", "north")
    g = gpd.GeoDataFrame({"name": names, "group": groups}, geometry=feats, crs=27700)
    assert g.is_valid.all(), g[~g.is_valid]
    return g


@pytest.fixture(scope="module")
def cover():
    return synthetic()


# --------------------------------------------------------------------------- round trip and topology
def test_synthetic_coverage_is_a_coverage(cover):
    u = shapely.union_all(cover.geometry.values)
    assert u.area == pytest.approx(cover.area.sum(), rel=1e-12)


def test_round_trip_without_simplification(cover):
    enc = encode_coverage(cover, max_deviation_m=0)
    assert enc.tolerance_m == 0
    # Every vertex survives (shared ones stored once), within quantisation.
    assert enc.n_points_after <= enc.n_points_before + 2 * enc.n_arcs
    dec = decoded_geoms(enc)
    orig = originals_in_same_plane(cover.geometry.values)
    h = shapely.hausdorff_distance(orig, dec)
    assert h.max() <= enc.quantum_m + 1e-3
    assert enc.hausdorff_max_m <= 2 * enc.quantum_m + 1e-3
    for o, d in zip(orig, dec):
        assert d.is_valid
        assert shapely.symmetric_difference(o, d).area <= o.length * enc.quantum_m
        # Same vertices: each decoded vertex is an original one, rounded.
        oc, dc = shapely.get_coordinates(o), shapely.get_coordinates(d)
        dist = np.hypot(*(dc[:, None, :] - oc[None, :, :]).transpose(2, 0, 1)).min(axis=1)
        assert dist.max() <= enc.quantum_m + 1e-3
        assert len(np.unique(np.round(dc), axis=0)) == len(np.unique(np.round(oc), axis=0))


def test_decoder_port_matches_module_decoder(cover):
    enc = encode_coverage(cover, tolerance_m=40)
    arcs = topology.decode_arcs(enc.q, enc.arcs)
    for g, shape in zip(enc.geoms, js_shapes(enc)):
        mine = topology.decode(enc.q, enc.arcs, g, arcs)
        assert len(mine) == len(shape)
        for p1, p2 in zip(mine, shape):
            for r1, r2 in zip(p1, p2):
                np.testing.assert_allclose(r1, np.asarray(r2), atol=1e-12)


def _uses(enc):
    """arc -> list of (feature, sign)."""
    uses: dict[int, list] = {}
    for f, g in enumerate(enc.geoms):
        for poly in g:
            for ring in poly:
                for k in ring:
                    uses.setdefault(k if k >= 0 else ~k, []).append((f, 1 if k >= 0 else -1))
    return uses


def test_shared_edges_are_one_arc(cover):
    enc = encode_coverage(cover, max_deviation_m=0)
    uses = _uses(enc)
    assert set(uses) == set(range(enc.n_arcs))  # every arc used
    for k, u in uses.items():
        assert len(u) <= 2, (k, u)
        if len(u) == 2:  # once each way, by two different features
            assert {s for _, s in u} == {1, -1} and u[0][0] != u[1][0]
    # Each pair of neighbours shares exactly the arcs of their common border, once.
    names = list(cover["name"])
    a, b = names.index("cell 0,0"), names.index("cell 1,0")
    shared = [k for k, u in uses.items() if {f for f, _ in u} == {a, b}]
    assert len(shared) == 1
    # The hole and the island that fills it: one closed arc, used by both.
    h, i = names.index("holed"), names.index("island in hole")
    (ring_island,) = enc.geoms[i][0]
    assert len(ring_island) == 1
    k = ring_island[0]
    assert k in enc.geoms[h][0][1] or ~k in enc.geoms[h][0][1]
    # Arcs shared by two features = borders between pairs (computed independently).
    gv = cover.geometry.values
    tree = shapely.STRtree(gv)
    pairs = {tuple(sorted(p)) for p in zip(*tree.query(gv, predicate="touches"))
             if p[0] != p[1] and shapely.intersection(gv[p[0]], gv[p[1]]).length > 0}
    arc_pairs = {tuple(sorted(f for f, _ in u)) for u in uses.values() if len(u) == 2}
    assert arc_pairs == pairs


@pytest.mark.parametrize("tol", [10.0, 40.0, 90.0])
def test_simplified_coverage_has_no_gaps_or_overlaps(cover, tol):
    enc = encode_coverage(cover, tolerance_m=tol)
    assert enc.n_points_after < enc.n_points_before
    assert enc.n_invalid == 0 and enc.n_collapsed_rings == 0
    dec = decoded_geoms(enc)
    assert shapely.is_valid(dec).all()
    areas = shapely.area(dec)
    union = shapely.union_all(dec)
    assert union.area == pytest.approx(areas.sum(), rel=1e-9)  # no overlaps
    tree = shapely.STRtree(dec)
    left, right = tree.query(dec, predicate="intersects")
    for x, y in zip(left, right):
        if x < y:
            assert shapely.intersection(dec[x], dec[y]).area < 1e-6 * min(areas[x], areas[y])
    # No gaps: holes of the union are only the lake (and nothing new between wards).
    holes = [r for p in shapely.get_parts(union) for r in shapely.get_rings(p)[1:]]
    assert len(holes) == 1
    # Neighbours still share identical border points.
    names = list(cover["name"])
    a, b = dec[names.index("cell 0,0")], dec[names.index("cell 1,0")]
    common = shapely.intersection(a.boundary, b.boundary)
    assert common.length == pytest.approx(SIDE, rel=0.08)
    # Deviation measured, within the requested tolerance plus rounding.
    h = independent_hausdorff(enc, cover.geometry.values, densify=0.25)
    assert h.max() <= enc.hausdorff_max_m + 0.05
    assert enc.hausdorff_max_m <= tol + 2 * enc.quantum_m + 1e-6


def test_small_rings_do_not_collapse(cover):
    enc = encode_coverage(cover, tolerance_m=90)
    names = list(cover["name"])
    shapes = js_shapes(enc)
    for name in ("cap", "tiny", "island in hole"):
        for poly in shapes[names.index(name)]:
            for ring in poly:
                assert len(set(ring)) >= 3, name
    dec = decoded_geoms(enc)
    for name in ("cap", "tiny"):
        g = dec[names.index(name)]
        assert g.is_valid and g.area > 0.2 * cover.geometry.values[names.index(name)].area
    assert enc.n_arcs_refined > 0  # the guard had to act on the cap


def jagged_cells(n=300, seed=1, size=3000.0, seg=15.0, amp=5.0):
    """A jagged Voronoi coverage: ``n`` cells with borders densified every ``seg`` m and
    each vertex moved up to ``amp`` m (the same way in both wards that share it)."""
    rng = np.random.default_rng(seed)
    box = shapely.box(X0, Y0, X0 + size, Y0 + size)
    pts = shapely.multipoints(rng.uniform([X0, Y0], [X0 + size, Y0 + size], (n, 2)))
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box)), box)
    cells = shapely.transform(shapely.segmentize(cells, seg), lambda xy: np.round(xy, 2))

    def move(xy):
        f = np.modf(np.abs(np.sin(xy @ [12.9898, 78.233]) * 43758.5453))[0]
        g = np.modf(np.abs(np.sin(xy @ [39.346, 11.135]) * 24634.6345))[0]
        edge = np.isclose(xy[:, 0], X0) | np.isclose(xy[:, 0], X0 + size) | \
            np.isclose(xy[:, 1], Y0) | np.isclose(xy[:, 1], Y0 + size)
        d = (np.column_stack([f, g]) - 0.5) * 2 * amp
        d[edge] = 0
        return xy + d

    cells = shapely.transform(cells, move)
    cells = cells[shapely.is_valid(cells)]
    # Moving vertices can fold a ward over its neighbour near a sharp corner: drop such pairs.
    left, right = shapely.STRtree(cells).query(cells, predicate="intersects")
    m = left < right
    over = shapely.area(shapely.intersection(cells[left[m]], cells[right[m]])) > 0
    keep = np.ones(len(cells), bool)
    keep[left[m][over]] = keep[right[m][over]] = False
    return gpd.GeoSeries(cells[keep], crs=27700)


@pytest.mark.parametrize("n, seed", [(300, 1), (500, 2), (800, 3)])
def test_self_intersections_are_guarded(n, seed):
    cells = jagged_cells(n, seed)
    fine = {"x0": -1.0, "y0": 52.0, "s": 1e-7}  # ~1 cm: only simplification can break validity
    unguarded = encode_coverage(cells, tolerance_m=90, quantisation=fine, refine_rounds=0)
    guarded = encode_coverage(cells, tolerance_m=90, quantisation=fine, refine_rounds=8)
    print(f"\n{len(cells)} jagged cells: invalid {unguarded.n_invalid} -> {guarded.n_invalid} "
          f"({guarded.n_arcs_refined} arcs refined)")
    assert guarded.n_invalid <= unguarded.n_invalid
    dec = decoded_geoms(guarded)
    assert (~shapely.is_valid(dec)).sum() <= guarded.n_invalid
    assert guarded.n_invalid == 0
    if unguarded.n_invalid:
        assert 0 < guarded.n_arcs_refined < 0.05 * guarded.n_arcs  # only the offending arcs
    assert guarded.n_points_after < 0.4 * guarded.n_points_before
    # Still a coverage: no gaps, no overlaps.
    assert shapely.union_all(dec).area == pytest.approx(shapely.area(dec).sum(), rel=1e-6)


def overlap_area(geoms) -> float:
    geoms = shapely.make_valid(np.asarray(geoms, dtype=object))
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    m = left < right
    return float(shapely.area(shapely.intersection(geoms[left[m]], geoms[right[m]])).sum())


def test_wards_across_a_narrow_gap_do_not_overlap():
    """Two wards facing each other across a 10 m estuary: their borders are separate (outer)
    arcs, so no ward turns invalid when the simplified borders cross; the guard still finds it."""
    # Both banks bulge 300 m east; simplified, each sags up to 62 m west of its bank. The west
    # bank has a 400 m deep creek at y = 500 that keeps its line on the bank there, so the
    # east bank's sagging chord would cut through the west ward.
    y = np.linspace(0, 2000, 101)
    bank = np.column_stack([X0 + 1000 + 300 * np.sin(np.pi * y / 2000), Y0 + y])
    at = np.searchsorted(y, 500)
    creek = [[bank[at, 0] - 400, Y0 + 505], [bank[at, 0], Y0 + 510]]
    west = np.vstack([[X0, Y0], bank[:at + 1], creek, bank[at + 1:], [X0, Y0 + 2000], [X0, Y0]])
    east_bank = np.column_stack([bank[:, 0] + 10, bank[:, 1]])[::-1]
    east = np.vstack([[X0 + 2500, Y0 + 2000], east_bank, [X0 + 2500, Y0], [X0 + 2500, Y0 + 2000]])
    g = gpd.GeoSeries([shapely.Polygon(west), shapely.Polygon(east)], crs=27700)
    assert g.is_valid.all() and g[0].distance(g[1]) > 9
    bare = encode_coverage(g, tolerance_m=90, refine_rounds=0)
    guarded = encode_coverage(g, tolerance_m=90)
    assert bare.n_invalid == 0 and overlap_area(decoded_geoms(bare)) > 100  # the failure guarded against
    dec = decoded_geoms(guarded)
    assert overlap_area(dec) == 0 and not dec[0].intersects(dec[1])
    assert guarded.n_points_after < 0.5 * guarded.n_points_before
    assert guarded.hausdorff_max_m <= 90 + 2 * guarded.quantum_m


def test_group_outlines_follow_the_ward_arcs(cover):
    enc = encode_coverage(cover, tolerance_m=40)
    keys, outlines = group_outlines(enc, cover["group"])
    assert keys == ["west", "east", "north"]
    dec = decoded_geoms(enc)
    tr = _to_27700()
    arcs_dec = [js_decode_arc(enc.q, a) for a in enc.arcs]
    for key, geom in zip(keys, outlines):
        polys = []
        for poly in geom:
            rings = [np.column_stack(tr.transform(*np.asarray(js_ring(arcs_dec, r)).T)) for r in poly]
            polys.append(shapely.Polygon(rings[0], rings[1:]))
        outline = shapely.MultiPolygon(polys)
        assert outline.is_valid
        members = shapely.union_all(dec[(cover["group"] == key).to_numpy()])
        assert shapely.symmetric_difference(outline, members).area < 1e-6 * members.area
        # Only arcs of the group's own features: no new points.
        used = {k if k >= 0 else ~k for poly in geom for ring in poly for k in ring}
        assert used <= set(range(enc.n_arcs))


def test_add_overlay_shares_quantisation(cover):
    enc = encode_coverage(cover, tolerance_m=40)
    n = enc.n_arcs
    overlay = gpd.GeoSeries([shapely.box(X0 + 300, Y0 + 300, X0 + 2500, Y0 + 1800)], crs=27700)
    geoms = enc.add(overlay)
    assert enc.n_arcs == len(enc.arcs) > n
    (poly,), = geoms
    arcs_dec = [js_decode_arc(enc.q, a) for a in enc.arcs]
    ring = np.asarray(js_ring(arcs_dec, poly[0]))
    x, y = _to_27700().transform(*ring.T)
    assert shapely.Polygon(np.column_stack([x, y])).area == pytest.approx(overlay.area[0], rel=1e-3)


def test_plain_4326_geometries_and_fixed_quantisation(cover):
    g4326 = cover.to_crs(4326)
    a = encode_coverage(g4326.geometry, tolerance_m=40)
    b = encode_coverage(list(g4326.geometry), tolerance_m=40, quantisation=a.q)
    assert b.q == a.q
    assert a.n_arcs == b.n_arcs and a.geoms == b.geoms
    assert max(abs(u - v) for x, y in zip(a.arcs, b.arcs) for u, v in zip(x, y)) <= 1


def test_tolerance_and_quantisation_rules():
    # diagonal / 6000: 60 km of diagonal -> 10 m.
    assert topology.auto_tolerance((0, 0, 36_000, 48_000)) == pytest.approx(10.0)
    q = topology.quantiser_for((-1.23456789, 52.1), 100)
    assert q["s"] <= 5.0 / 111_320 and q["s"] > 4.4 / 111_320  # 5 m steps, rounded down
    assert q["x0"] <= -1.23456789 and q["x0"] > -1.234570
    assert topology.quantiser_for((0, 0), 2)["s"] == pytest.approx(1 / 111_320, rel=0.01)  # >= 1 m


def test_collapsed_input_rings_and_empty_features():
    tiny = shapely.box(X0, Y0, X0 + 0.0004, Y0 + 0.0004)  # below the 1 mm snap grid
    ok = shapely.box(X0 + 10, Y0, X0 + 500, Y0 + 500)
    enc = encode_coverage(gpd.GeoSeries([ok, tiny, None], crs=27700))
    assert len(enc.geoms) == 3 and enc.geoms[1] == [] and enc.geoms[2] == []
    assert len(enc.geoms[0]) == 1


def test_invalid_input_is_repaired():
    bow = shapely.Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    enc = encode_coverage(gpd.GeoSeries([bow], crs=27700))
    assert enc.n_invalid_input == 1
    assert len(enc.geoms[0]) == 2 and enc.n_invalid == 0


# --------------------------------------------------------------------------- deviation on real shapes
def _check_real(wards, max_dev, *, tolerance_m=None):
    enc = encode_coverage(wards.geometry, max_deviation_m=max_dev, tolerance_m=tolerance_m)
    assert enc.hausdorff_max_m <= max_dev
    assert enc.hausdorff_p99_m <= enc.hausdorff_max_m
    h = independent_hausdorff(enc, wards.geometry.values)
    assert np.all(h <= enc.hausdorff_m + 0.05), (h - enc.hausdorff_m).max()
    assert h.max() <= max_dev
    return enc, h


@pytest.mark.parametrize("max_dev", [100.0, 20.0, 5.0])
def test_deviation_bound_on_demo_wards(max_dev):
    wards = gangmap.read_wards(gangmap.demo.paths()["wards"])
    enc, _ = _check_real(wards, max_dev, tolerance_m=200.0)
    assert enc.n_invalid == 0 and enc.n_collapsed_rings == 0
    dec = decoded_geoms(enc)
    assert shapely.union_all(dec).area == pytest.approx(shapely.area(dec).sum(), rel=1e-9)


def test_demo_wards_share_vertices_exactly():
    """The shipped demo wards form a clean coverage: a vertex on k ward boundaries is a vertex of all k."""
    wards = gpd.read_file(gangmap.demo.paths()["wards"])
    geoms = wards.geometry.values
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    u, inv = np.unique(coords, axis=0, return_inverse=True)
    pairs = np.unique(np.column_stack([inv.ravel(), owner]), axis=0)
    as_vertex = np.bincount(pairs[:, 0], minlength=len(u))
    tree = shapely.STRtree(shapely.boundary(geoms))
    on_boundary = np.bincount(tree.query(shapely.points(u), predicate="dwithin", distance=1e-9)[0],
                              minlength=len(u))
    assert np.array_equal(as_vertex, on_boundary)
    assert (as_vertex >= 2).sum() > 0.5 * len(u)  # most vertices are shared


@pytest.mark.realdata
def test_northamptonshire_deviation_and_size(shared_data):
    path = shared_data / "boundaries" / "northamptonshire_wards_2013.geojson"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wards = gangmap.read_wards(path)
    enc, h = _check_real(wards, 100.0)
    size = len(json.dumps({"q": enc.q, "arcs": enc.arcs, "geoms": enc.geoms}, separators=(",", ":")))
    print(f"\nNorthamptonshire: {len(wards)} wards, {size / 1024:.1f} KB of JSON, tolerance "
          f"{enc.tolerance_m:.1f} m, max {enc.hausdorff_max_m:.1f} m (shapely {h.max():.1f} m), "
          f"points {enc.n_points_before} -> {enc.n_points_after}, arcs {enc.n_arcs}")
    assert size < 200_000
    assert enc.n_invalid == 0 and enc.n_collapsed_rings == 0
    dec = decoded_geoms(enc)
    assert shapely.union_all(dec).area == pytest.approx(shapely.area(dec).sum(), rel=1e-7)
    assert overlap_area(dec) < 1.0
    _check_real(wards, 25.0)


@pytest.mark.realdata
def test_england_within_bound(shared_data):
    path = shared_data / "boundaries" / "england_wards_2013.geojson.gz"
    wards = gpd.read_file(f"/vsigzip/{path}").to_crs(27700)  # as read_wards gives them
    enc = encode_coverage(wards.geometry)  # repaired here (one invalid ward); timings: benchmarks/bench_maps.py
    size = enc.json_size()
    print(f"\nEngland: {len(wards)} wards ({enc.seconds}), {size / 1e6:.2f} MB, "
          f"max {enc.hausdorff_max_m:.1f} m, p99 {enc.hausdorff_p99_m:.1f} m, invalid {enc.n_invalid}")
    assert enc.n_invalid_input == 1
    assert enc.hausdorff_max_m <= 100.0
    assert size < 2_500_000
    assert enc.n_invalid < 0.01 * len(wards)
    overlap = overlap_area(decoded_geoms(enc))
    print(f"overlap between decoded wards: {overlap:.0f} m² (input: 0)")
    assert overlap < 5_000  # a few slivers where rounding to the 5 m grid crosses borders


# --------------------------------------------------------------------------- the real viewer decodes it
@pytest.mark.browser
def test_viewer_draws_the_arcs(cover, tmp_path):
    """gangmap.js, unchanged, draws wards and district outlines from arcs exactly as the port decodes them."""
    import re

    from browser import offline_page

    from gangmap import maps

    g = cover.copy()
    g["ward_code"] = [f"E05{900001 + i}" for i in range(len(g))]
    g["ward_name"] = g["name"]
    g["lad_code"] = g["group"].map({"west": "E07900001", "east": "E07900002", "north": "E07900003"})
    g["lad_name"] = g["group"]
    g["reports"] = [10 * (i + 1) for i in range(len(g))]
    safe = gangmap.make_safe(g[["ward_code", "ward_name", "lad_code", "lad_name", "reports", "geometry"]],
                             ["reports"])
    html = maps.choropleth(safe, "reports").html
    enc = encode_coverage(safe.frame.geometry, tolerance_m=40)
    keys, outlines = group_outlines(enc, safe.frame["lad_code"])
    m = re.search(r'(<script type="application/json" id="gm-data">)(.*?)(</script>)', html, re.S)
    data = json.loads(m.group(2))
    data["q"], data["arcs"], data["areas"]["geoms"] = enc.q, enc.arcs, enc.geoms
    (district,) = [ly for ly in data["layers"] if ly["id"] == "outline-districts"]
    by_name = dict(zip(keys, outlines))
    lad_of_label = dict(zip(safe.frame["lad_name"], safe.frame["lad_code"]))
    district["geoms"] = [by_name[lad_of_label[lab]] for lab in district["labels"]]
    district["topo"] = True  # the layer's rings are arc refs (see the proposed gangmap.js change)
    path = tmp_path / "arcs.html"
    path.write_text(html[:m.start(2)] + maps.json_for_html(data) + html[m.end(2):], encoding="utf-8")

    with offline_page(path) as (page, requests):
        drawn = page.evaluate("""() => {
            const wards = [], outlines = [];
            window.gmMap.eachLayer(l => {
                if (!(l instanceof L.Polygon)) { return; }
                const ll = l.getLatLngs().map(p => p.map(r => r.map(x => [x.lng, x.lat])));
                (l.options.interactive === false ? outlines : wards).push([L.stamp(l), ll]);
            });
            wards.sort((a, b) => a[0] - b[0]);
            return {wards: wards.map(w => w[1]), outlines: outlines.length};
        }""")
        assert not page.errors and not requests
    assert drawn["outlines"] == len(keys)
    expected = js_shapes(enc)
    assert len(drawn["wards"]) == len(expected)
    for got, want in zip(drawn["wards"], expected):
        assert len(got) == len(want)
        for pg, pw in zip(got, want):
            for rg, rw in zip(pg, pw):
                rw = np.asarray(rw)[:-1]  # Leaflet drops the closing point
                np.testing.assert_allclose(np.asarray(rg), rw, atol=1e-9)


# --------------------------------------------------------------------------- bounds relative to each area's size
def test_relative_bound_holds_per_area_and_is_needed(cover):
    """Each area moves by at most ``relative`` times its size (sqrt of its area), measured independently;
    without the relative bound the small island moves by more than that (the bound is not idle)."""
    rel, tol = 0.05, 60.0
    size = np.sqrt(cover.area.to_numpy())
    plain = encode_coverage(cover.geometry, tolerance_m=tol)
    h_plain = independent_hausdorff(plain, cover.geometry.values)
    island = cover.index[cover["name"] == "island in hole"][0]
    assert h_plain[island] > rel * size[island]  # the failure guarded against
    enc = encode_coverage(cover.geometry, tolerance_m=tol, relative=rel)
    h = independent_hausdorff(enc, cover.geometry.values)
    bound = np.maximum(rel * size, 2 * enc.quantum_m)
    assert (h <= bound + 0.05).all(), list(zip(cover["name"], h.round(1), bound.round(1)))
    assert (h <= enc.hausdorff_m + 0.05).all()  # the encoder's own measure is an upper bound
    np.testing.assert_allclose(enc.relative_dev, enc.hausdorff_m / size)
    assert enc.relative_max == pytest.approx(enc.relative_dev.max())
    assert enc.relative_max <= max(rel, float((2 * enc.quantum_m / size).max())) + 1e-9
    big = size > 900
    assert (h[big] <= tol + 2 * enc.quantum_m).all() and h[big].max() > 0.5 * rel * size[big].min()
    assert overlap_area(decoded_geoms(enc)) < 1.0  # still gap- and overlap-free


def test_relative_bound_is_checked():
    with pytest.raises(gangmap.GangmapError, match="relative"):
        encode_coverage(synthetic().geometry, relative=1.5)


# --------------------------------------------------------------------------- packed text
@pytest.mark.parametrize("seed", range(4))
def test_packing_round_trips(seed):
    from gangmap.maps import packing

    rng = np.random.default_rng(seed)
    values = np.concatenate([rng.integers(-40, 40, 200), rng.integers(-2**40, 2**40, 50), [0, -1, 2**52, -2**52]])
    text = packing.pack_ints(values)
    assert set(text) <= set(packing.ALPHABET) and packing.unpack_ints(text).tolist() == values.tolist()
    arcs = [[int(x) for x in rng.integers(-10**6, 10**6, 2 * int(n))] for n in rng.integers(1, 9, 60)]
    assert packing.unpack_arcs(packing.pack_arcs(arcs)) == arcs
    geoms = [[[[int(k) if rng.random() < 0.5 else ~int(k) for k in rng.integers(0, 500, int(rng.integers(1, 6)))]
               for _ in range(int(rng.integers(1, 3)))] for _ in range(int(rng.integers(0, 3)))] for _ in range(40)]
    assert packing.unpack_geoms(packing.pack_geoms(geoms)) == geoms
    with pytest.raises(ValueError):
        packing.unpack_ints(text + "g")  # ends inside a number


def test_arcs_are_numbered_by_first_use(cover):
    enc = encode_coverage(cover.geometry, tolerance_m=40)
    seen, order = set(), []
    for g in enc.geoms:
        for poly in g:
            for ring in poly:
                for k in ring:
                    a = k if k >= 0 else ~k
                    if a not in seen:
                        seen.add(a)
                        order.append(a)
    assert order == list(range(enc.n_arcs))


@pytest.mark.browser
def test_viewer_decodes_the_packed_geometry_exactly(cover, tmp_path):
    """The page's polygons, vertex for vertex, are the Python decoding of the packed text in the page."""
    from browser import offline_page

    from gangmap import maps
    from gangmap.maps import packing

    g = cover.assign(ward_code=[f"E05{900001 + i}" for i in range(len(cover))], reports=30)
    safe = gangmap.make_safe(g[["ward_code", "reports", "geometry"]], ["reports"])
    doc = maps.choropleth(safe, "reports")
    data = doc.data
    assert isinstance(data["arcs"], str) and isinstance(data["areas"]["geoms"], str)
    arcs = packing.read_arcs(data["arcs"])
    want = [topology.decode(data["q"], arcs, gm) for gm in packing.read_geoms(data["areas"]["geoms"])]
    with offline_page(doc.save(tmp_path / "packed.html")) as (page, requests):
        drawn = page.evaluate("""() => { const out = []; window.gmMap.eachLayer(l => {
            if (l instanceof L.Polygon && l.options.interactive !== false) {
                out.push([L.stamp(l), l.getLatLngs().map(p => p.map(r => r.map(x => [x.lng, x.lat])))]); } });
            return out.sort((a, b) => a[0] - b[0]).map(x => x[1]); }""")
        assert not page.errors and not requests
    assert len(drawn) == len(want) == len(cover)
    for got, shape in zip(drawn, want):
        assert len(got) == len(shape)
        for pg, pw in zip(got, shape):
            for rg, rw in zip(pg, pw):
                np.testing.assert_allclose(np.asarray(rg), np.asarray(rw)[:-1], atol=1e-12)


@pytest.mark.realdata
def test_northamptonshire_lsoa_map_is_small_and_faithful(shared_data):
    """The real county LSOAs: a small file, every LSOA within 5% of its size (or twice the rounding),
    measured independently on the geometry the page draws."""
    from gangmap import maps
    from gangmap.maps import packing

    areas = gangmap.read_areas(shared_data / "boundaries" / "northamptonshire_lsoa_2011.geojson", "lsoa")
    table, _ = gangmap.join(areas, reports=shared_data / "police" / "2018-03-northamptonshire-street.csv")
    safe = gangmap.make_safe(table, ["reports"])
    doc = maps.choropleth(safe, "reports")
    assert doc.size <= 400_000 and doc.data["geography"]["label"] == "LSOA"
    data = doc.data
    arcs = packing.read_arcs(data["arcs"])
    dec = topology.decode_arcs(data["q"], arcs)
    tr = _to_27700()
    drawn = []
    for gm in packing.read_geoms(data["areas"]["geoms"]):
        polys = [shapely.Polygon(*[np.column_stack(tr.transform(*np.asarray(r).T)) for r in rings[:1]],
                                 [np.column_stack(tr.transform(*np.asarray(r).T)) for r in rings[1:]])
                 for rings in topology.decode(data["q"], arcs, gm, dec)]
        drawn.append(shapely.MultiPolygon(polys))
    orig = originals_in_same_plane(safe.frame.to_crs(27700).geometry.values)
    h = shapely.hausdorff_distance(orig, np.array(drawn, dtype=object))
    size = np.sqrt(shapely.area(orig))
    quantum = topology._quantum_error_m(data["q"])
    assert (h <= np.maximum(0.05 * size, 2 * quantum) + 0.05).all()
    assert h.max() <= 100.0
    print(f"Northamptonshire LSOAs: {doc.size / 1e3:.0f} KB, max {h.max():.1f} m, relative max "
          f"{(h / size).max():.3f}, p99 {np.percentile(h / size, 99):.3f}")
