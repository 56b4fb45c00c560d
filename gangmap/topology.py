"""Topology: small, fast, gap-free ward geometry for offline maps.

Ward boundaries form a *coverage*: neighbouring wards share their borders
vertex for vertex. Simplifying each ward on its own moves the two copies of a
shared border differently and opens gaps and slivers between wards. This
module instead

1. snaps every vertex to a 1 mm grid in British National Grid (EPSG:27700),
2. finds the *junctions*: vertices joined to three or more distinct
   neighbours (where three wards meet, or where a shared border becomes an
   outer border), plus any vertex a ring passes twice,
3. cuts every ring at its junctions into *arcs* and keeps each arc once: a
   border shared by two wards is one arc, used forwards by one ward and
   backwards (``~k``) by the other,
4. simplifies each arc once with Douglas-Peucker, its end points fixed, so
   shared borders stay shared: no gaps, no slivers,
5. converts the simplified points to WGS84 (EPSG:4326), quantises them to
   integers and delta-encodes each arc, the TopoJSON-like format that
   ``gangmap.js`` decodes (``D.q``, ``D.arcs`` and rings of arc indices),
6. decodes the result again and **measures** the deviation from the input:
   the per-ward Hausdorff distance in metres (EPSG:27700). It guards against
   rings that collapse and against self-intersections by simplifying the
   arcs of offending wards less, and reports what is left.

Choice of tolerance
-------------------
Unless ``tolerance_m`` is given the tolerance is chosen from the map extent::

    tolerance = diagonal_m / 6000 = 0.5 * (diagonal_m / 3000 px)

i.e. half a pixel when the whole extent spans 3,000 screen pixels: about
three times closer than the zoom that fits the map in a 1,000 px window, so
the simplification cannot be seen at the fitting zoom or two steps in. It is
then capped so that the Douglas-Peucker tolerance plus the worst quantisation
error stays within ``max_deviation_m`` (default 100 m). Douglas-Peucker with
tolerance ``t`` keeps every dropped vertex within ``t`` of the simplified arc
(and every point of the simplified arc within ``t`` of the original), so the
Hausdorff distance per ward is at most ``t`` plus the rounding error. The
bound is *measured*, not trusted: when the measured maximum exceeds
``max_deviation_m`` the tolerance is reduced and the encoding redone.

Quantisation: one grid step is ``max(tolerance / 10, 1 m)``, expressed in
degrees (``s``, the same for longitude and latitude, from 111.32 km per degree,
rounded down to 3 significant digits). A point moves at most
``s * 111.7 km * sqrt(2) / 2`` metres when rounded: 0.07 x the tolerance.

Examples
--------
>>> from gangmap import topology  # doctest: +SKIP
>>> enc = topology.encode_coverage(wards.geometry)  # doctest: +SKIP
>>> enc.hausdorff_max_m <= 100, enc.n_arcs  # doctest: +SKIP
(True, 23001)
>>> data = {"q": enc.q, "arcs": enc.arcs, "wards": {"geoms": enc.geoms}}  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import GeometryType

__all__ = ["Encoded", "encode_coverage", "group_outlines", "auto_tolerance", "quantiser_for", "decode", "decode_arcs"]

WORK_CRS = "EPSG:27700"
MAP_CRS = "EPSG:4326"
#: Default bound on the measured Hausdorff distance, metres.
MAX_DEVIATION_M = 100.0
#: Vertices closer than this (metres, EPSG:27700) are the same vertex.
SNAP_M = 0.001
#: Metres per degree used to size the quantisation step (equator / meridian, generous).
_M_PER_DEG = 111_320.0
_M_PER_DEG_MAX = 111_700.0
#: Screen pixels the tolerance formula assumes the extent diagonal spans.
_PIXELS = 3000.0


# --------------------------------------------------------------------------- result
@dataclass
class Encoded:
    """Topology-encoded polygons, ready for ``gangmap.js``, with measured quality.

    Attributes
    ----------
    q : dict
        ``{"x0", "y0", "s"}``: longitude/latitude of integer (0, 0) and degrees per unit.
    arcs : list of list of int
        Each arc ``[x0, y0, dx1, dy1, ...]``: first point absolute (units from
        ``q``), then deltas.
    geoms : list
        Per input feature, a list of polygons; a polygon is a list of rings
        (exterior first, counter-clockwise; holes clockwise); a ring is a list
        of arc indices, ``~k`` meaning arc ``k`` reversed. Consecutive arcs
        share their joining point.
    hausdorff_max_m, hausdorff_p99_m : float
        Measured per-feature Hausdorff distance between input and decoded
        output, metres (EPSG:27700): maximum and 99th percentile.
    n_arcs, n_points_before, n_points_after : int
        Arcs; ring vertices of the input (closing points not counted); points
        stored in the arcs.
    tolerance_m : float
        Douglas-Peucker tolerance used (metres); some arcs of wards that would
        have collapsed or self-intersected use less (``n_arcs_refined``).
    n_invalid : int
        Decoded features that are not valid polygons (0 unless the input had
        rings too thin to survive quantisation).
    n_invalid_input : int
        Input features that were invalid and were repaired with ``make_valid``.
    quantum_m : float
        Worst-case shift of one point by quantisation, metres.
    seconds : dict
        Time spent per stage.
    """

    q: dict
    arcs: list
    geoms: list
    hausdorff_max_m: float
    hausdorff_p99_m: float
    n_arcs: int
    n_points_before: int
    n_points_after: int
    tolerance_m: float
    n_invalid: int = 0
    n_invalid_input: int = 0
    n_arcs_refined: int = 0
    n_collapsed_rings: int = 0
    quantum_m: float = 0.0
    seconds: dict = field(default_factory=dict)
    hausdorff_m: np.ndarray | None = field(default=None, repr=False)
    # Internals used by group_outlines: per ring, feature index and arc refs;
    # per arc, snapped vertex ids of its ends; simplified output in 27700.
    _ring_feature: np.ndarray | None = field(default=None, repr=False)
    _ring_refs: list | None = field(default=None, repr=False)
    _arc_ends: np.ndarray | None = field(default=None, repr=False)
    _arc_xy: np.ndarray | None = field(default=None, repr=False)
    _arc_off: np.ndarray | None = field(default=None, repr=False)

    def json_size(self) -> int:
        """Bytes of ``{"q", "arcs", "geoms"}`` as compact JSON."""
        return len(json.dumps({"q": self.q, "arcs": self.arcs, "geoms": self.geoms},
                              separators=(",", ":")))

    def stats(self) -> dict:
        """The measured numbers, for logs and benchmarks."""
        return {k: getattr(self, k) for k in (
            "tolerance_m", "quantum_m", "hausdorff_max_m", "hausdorff_p99_m", "n_arcs",
            "n_points_before", "n_points_after", "n_invalid", "n_invalid_input", "n_arcs_refined",
            "n_collapsed_rings")}


# --------------------------------------------------------------------------- helpers
def _transformer(src: str, dst: str):
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def _to_work(geoms):
    """Geometry array in EPSG:27700 from a GeoSeries/GeoDataFrame (any CRS) or 4326 geometries."""
    import geopandas as gpd

    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    if isinstance(geoms, (gpd.GeoSeries, gpd.array.GeometryArray)) and geoms.crs is not None:
        if geoms.crs.to_epsg() != 27700:
            geoms = geoms.to_crs(WORK_CRS)
        return np.asarray(geoms, dtype=object)
    arr = np.asarray(list(geoms), dtype=object)
    if len(arr):
        tr = _transformer(MAP_CRS, WORK_CRS)
        arr = shapely.transform(arr, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return arr


def _polygonal(geoms) -> tuple[np.ndarray, int]:
    """Valid, polygonal geometries (make_valid; stray lines/points dropped), rings oriented."""
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms)
    geoms = np.where(missing, shapely.from_wkt("POLYGON EMPTY"), geoms)
    bad = ~shapely.is_valid(geoms)
    n_bad = int(bad.sum())
    if n_bad:
        fixed = shapely.make_valid(geoms[bad])
        out = []
        for g in fixed:
            parts = shapely.get_parts(g)
            parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
            out.append(shapely.union_all(parts) if len(parts) else shapely.from_wkt("POLYGON EMPTY"))
        geoms = geoms.copy()
        geoms[bad] = out
    # Exteriors counter-clockwise, holes clockwise: needed to chain arcs into outlines.
    return shapely.orient_polygons(geoms, exterior_cw=False), n_bad


def auto_tolerance(bounds_27700) -> float:
    """Tolerance (m) that is half a pixel when the extent diagonal spans 3,000 px."""
    minx, miny, maxx, maxy = bounds_27700
    diag = math.hypot(maxx - minx, maxy - miny)
    return 0.5 * diag / _PIXELS


def quantiser_for(bounds_4326, tolerance_m: float) -> dict:
    """Quantisation ``{"x0", "y0", "s"}``: step ``max(tolerance / 10, 1 m)`` in degrees."""
    minx, miny = float(bounds_4326[0]), float(bounds_4326[1])
    step_m = max(tolerance_m / 10.0, 1.0)
    s = step_m / _M_PER_DEG
    e = math.floor(math.log10(s))
    s = math.floor(s / 10 ** (e - 2)) * 10 ** (e - 2)  # 3 significant digits, rounded down
    s = float(f"{s:.3g}")
    return {"x0": math.floor(minx * 1e6) / 1e6, "y0": math.floor(miny * 1e6) / 1e6, "s": s}


def _quantum_error_m(q) -> float:
    """Worst-case distance a point moves when rounded to the grid of ``q`` (m)."""
    return 0.5 * math.sqrt(2.0) * q["s"] * _M_PER_DEG_MAX


# --------------------------------------------------------------------------- topology
@dataclass
class _Topology:
    xy: np.ndarray            # snapped vertex coordinates, EPSG:27700
    arc_vids: np.ndarray      # concatenated vertex ids of the unique arcs
    arc_off: np.ndarray       # offsets into arc_vids (n_arcs + 1)
    ring_refs: list           # per ring: list of arc refs (k or ~k)
    ring_part: np.ndarray     # per ring: part index
    part_feature: np.ndarray  # per part: feature index
    ring_feature: np.ndarray  # per ring: feature index
    n_features: int
    n_points_before: int


def _build_topology(geoms: np.ndarray, snap_m: float = SNAP_M) -> _Topology:
    n_features = len(geoms)
    parts, part_feature = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, part_feature = parts[keep], part_feature[keep]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(cidx, minlength=len(rings))
    n_points_before = int(counts.sum() - len(rings))
    # Drop each ring's closing point.
    ends = np.cumsum(counts) - 1
    mask = np.ones(len(coords), bool)
    mask[ends[counts > 0]] = False
    coords, cidx = coords[mask], cidx[mask]

    # Snap to the grid and number the distinct vertices.
    g = np.rint(coords / snap_m).astype(np.int64)
    gx, gy = g[:, 0] - g[:, 0].min(initial=0), g[:, 1] - g[:, 1].min(initial=0)
    span = int(gy.max(initial=0)) + 1
    if (int(gx.max(initial=0)) + 1) * span < 2 ** 62:
        _, first, vid = np.unique(gx * span + gy, return_index=True, return_inverse=True)
    else:  # pragma: no cover - extents beyond the grid of an int64 key
        _, first, vid = np.unique(g, axis=0, return_index=True, return_inverse=True)
    vid = vid.ravel()
    xy = g[first].astype(float) * snap_m

    # Remove consecutive repeats (cyclically) left by snapping; drop rings under 3 vertices.
    n = len(vid)
    pos = np.arange(n)
    starts = np.r_[0, np.flatnonzero(np.diff(cidx)) + 1] if n else np.zeros(0, np.int64)
    ring_of_start = cidx[starts] if n else starts
    rstart = np.empty(len(rings), np.int64)
    rend = np.empty(len(rings), np.int64)
    rstart[:] = -1
    rend[:] = -1
    if n:
        rstart[ring_of_start] = starts
        rend[ring_of_start] = np.r_[starts[1:], n]
    prev = pos - 1
    prev[starts] = rend[ring_of_start] - 1
    keep = vid != vid[prev] if n else np.zeros(0, bool)
    vid, cidx = vid[keep], cidx[keep]
    counts = np.bincount(cidx, minlength=len(rings))
    ring_ok = counts >= 3
    # A part whose exterior collapsed goes altogether.
    first_ring = np.r_[True, ring_part[1:] != ring_part[:-1]] if len(rings) else np.zeros(0, bool)
    part_ok = np.zeros(len(parts), bool)
    part_ok[ring_part[first_ring & ring_ok]] = True
    ring_ok &= part_ok[ring_part]
    sel = ring_ok[cidx]
    vid, cidx = vid[sel], cidx[sel]
    kept_rings = np.flatnonzero(ring_ok)
    new_index = np.full(len(rings), -1, np.int64)
    new_index[kept_rings] = np.arange(len(kept_rings))
    cidx = new_index[cidx]
    ring_part = ring_part[kept_rings]
    counts = np.bincount(cidx, minlength=len(kept_rings))
    off = np.r_[0, np.cumsum(counts)]

    # Junctions: vertices with 3+ distinct neighbours, or visited twice by one ring.
    nv = len(xy)
    n = len(vid)
    nxt = np.arange(1, n + 1)
    nxt[off[1:] - 1] = off[:-1]
    a, b = vid, vid[nxt]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    edges = np.unique(lo * nv + hi)
    degree = np.bincount(edges // nv, minlength=nv) + np.bincount(edges % nv, minlength=nv)
    junction = degree >= 3
    rv, rc = np.unique(cidx * nv + vid, return_counts=True)
    junction[(rv[rc > 1] % nv)] = True

    # Cut rings at junctions; keep each arc once (canonical direction).
    jpos = junction[vid]
    table: dict[bytes, int] = {}
    arc_list: list[np.ndarray] = []
    ring_refs: list[list[int]] = []
    for r in range(len(counts)):
        v = vid[off[r]:off[r + 1]]
        js = np.flatnonzero(jpos[off[r]:off[r + 1]])
        if len(js) == 0:  # a ring with no junction: one closed arc, from its smallest vertex
            i = int(np.argmin(v))
            v = np.r_[v[i:], v[:i + 1]]
            pieces = [v]
        else:
            j0 = js[0]
            v = np.r_[v[j0:], v[:j0 + 1]]
            cuts = np.r_[js - j0, len(v) - 1]
            pieces = [v[cuts[k]:cuts[k + 1] + 1] for k in range(len(cuts) - 1)]
        refs = []
        for p in pieces:
            if p[0] < p[-1] or (p[0] == p[-1] and p[1] <= p[-2]):
                key, fwd = p, True
            else:
                key, fwd = p[::-1], False
            kb = key.tobytes()
            k = table.get(kb)
            if k is None:
                k = table[kb] = len(arc_list)
                arc_list.append(key)
            refs.append(k if fwd else ~k)
        ring_refs.append(refs)
    arc_len = np.fromiter((len(x) for x in arc_list), np.int64, len(arc_list))
    arc_off = np.r_[0, np.cumsum(arc_len)]
    arc_vids = np.concatenate(arc_list) if arc_list else np.zeros(0, np.int64)
    return _Topology(xy=xy, arc_vids=arc_vids, arc_off=arc_off, ring_refs=ring_refs, ring_part=ring_part,
                     part_feature=part_feature, ring_feature=part_feature[ring_part],
                     n_features=n_features, n_points_before=n_points_before)


# --------------------------------------------------------------------------- simplify / encode
def _simplify(topo: _Topology, arc_tol: np.ndarray):
    """Douglas-Peucker per arc, end points fixed. Returns (xy, offsets) in EPSG:27700."""
    n_arcs = len(topo.arc_off) - 1
    lens = np.diff(topo.arc_off)
    pts = topo.xy[topo.arc_vids]
    idx = np.repeat(np.arange(n_arcs), lens)
    do = (arc_tol > 0) & (lens > 2)
    out_xy = [None] * n_arcs
    if do.any():
        sel = do[idx]
        rank = np.cumsum(do) - 1
        lines = shapely.linestrings(pts[sel], indices=rank[idx[sel]])
        simp = shapely.simplify(lines, arc_tol[do], preserve_topology=False)
        sxy, sidx = shapely.get_coordinates(simp, return_index=True)
        scount = np.bincount(sidx, minlength=len(simp))
    else:
        sxy, scount = np.zeros((0, 2)), np.zeros(0, np.int64)
    # Assemble: unsimplified arcs as they are, simplified ones from GEOS.
    new_len = lens.copy()
    new_len[do] = scount
    new_off = np.r_[0, np.cumsum(new_len)]
    xy = np.empty((int(new_off[-1]), 2))
    keep_plain = np.repeat(~do, lens)
    dst_plain = np.repeat(~do, new_len)
    xy[dst_plain] = pts[keep_plain]
    xy[~dst_plain] = sxy
    # End points are fixed by DP; make it exact whatever the GEOS version.
    xy[new_off[:-1]] = pts[topo.arc_off[:-1]]
    xy[new_off[1:] - 1] = pts[topo.arc_off[1:] - 1]
    return xy, new_off


def _quantise(xy27700: np.ndarray, off: np.ndarray, q: dict):
    """Arcs to integer grid in 4326; repeats removed.

    Returns (ints, offsets, kept, lonlat): ``kept`` marks the input points kept
    and ``lonlat`` holds every input point's exact longitude/latitude.
    """
    tr = _transformer(WORK_CRS, MAP_CRS)
    lon, lat = tr.transform(xy27700[:, 0], xy27700[:, 1])
    ix = np.rint((np.asarray(lon) - q["x0"]) / q["s"]).astype(np.int64)
    iy = np.rint((np.asarray(lat) - q["y0"]) / q["s"]).astype(np.int64)
    ints = np.column_stack([ix, iy])
    exact = np.column_stack([lon, lat])
    n = len(ints)
    first = np.zeros(n, bool)
    first[off[:-1][np.diff(off) > 0]] = True
    same = np.zeros(n, bool)
    same[1:] = np.all(ints[1:] == ints[:-1], axis=1)
    keep = first | ~same
    arc_id = np.repeat(np.arange(len(off) - 1), np.diff(off))
    new_off = np.r_[0, np.cumsum(np.bincount(arc_id[keep], minlength=len(off) - 1))]
    return ints[keep], new_off, keep, exact


def _ring_points(ring_refs: list, off: np.ndarray, pad: bool = True):
    """Indices into the arc point array for each ring, as the viewer joins them.

    Returns (index, ring_offsets): every ring closed (last point == first).
    """
    ref = np.fromiter((k for refs in ring_refs for k in refs), np.int64)
    nref = np.fromiter((len(refs) for refs in ring_refs), np.int64, len(ring_refs))
    ref_ring_start = np.zeros(len(ref), bool)
    ref_ring_start[np.r_[0, np.cumsum(nref)[:-1]][nref > 0]] = True
    rev = ref < 0
    k = np.where(rev, ~ref, ref)
    L = off[k + 1] - off[k]
    skip = (~ref_ring_start).astype(np.int64)
    contrib = np.maximum(L - skip, 0)
    total = int(contrib.sum())
    owner = np.repeat(np.arange(len(ref)), contrib)
    starts = np.r_[0, np.cumsum(contrib)[:-1]]
    j = np.arange(total) - starts[owner] + skip[owner]
    idx = np.where(rev[owner], off[k[owner]] + L[owner] - 1 - j, off[k[owner]] + j)
    ring_len = np.add.reduceat(contrib, np.r_[0, np.cumsum(nref)[:-1]]) if len(nref) else nref
    ring_len = np.where(nref > 0, ring_len, 0)
    short = np.flatnonzero(ring_len < 4)
    if pad and len(short):
        # Rings that collapsed below 4 points (3 distinct): repeat their last point so that
        # they can still be built (as invalid rings) and measured.
        ends = np.r_[0, np.cumsum(ring_len)]
        extra = 4 - ring_len[short]
        ins_at = np.repeat(ends[short + 1], extra)
        ins_val = np.repeat(idx[np.maximum(ends[short + 1] - 1, 0)], extra)
        idx = np.insert(idx, ins_at, ins_val)
        ring_len = np.maximum(ring_len, 4)
    return idx, np.r_[0, np.cumsum(ring_len)]


def _polygons(xy: np.ndarray, ring_idx, ring_off, topo: _Topology):
    """MultiPolygons (one per feature) from ring point indices; features without rings are empty."""
    ring_xy = xy[ring_idx]
    n_rings = len(ring_off) - 1
    part_ids, part_first = np.unique(topo.ring_part, return_index=True) if n_rings else ([], [])
    part_off = np.r_[part_first, n_rings] if n_rings else np.zeros(1, np.int64)
    feat_of_part = topo.part_feature[part_ids] if n_rings else np.zeros(0, np.int64)
    feat_off = np.searchsorted(feat_of_part, np.arange(topo.n_features + 1))
    return shapely.from_ragged_array(GeometryType.MULTIPOLYGON, ring_xy,
                                     (ring_off, part_off, feat_off))


def _originals(topo: _Topology):
    idx = topo.arc_vids
    ring_idx, ring_off = _ring_points(topo.ring_refs, topo.arc_off)
    return _polygons(topo.xy[idx], ring_idx, ring_off, topo)


def _measure(topo: _Topology, sxy, ints, qoff, kept, exact, q, originals):
    """Decoded polygons in 27700, per-feature Hausdorff, validity and collapsed rings.

    The decoded points are placed at ``simplified + (inverse(decoded) - inverse(exact))``:
    the quantisation shift measured in metres with one transformation for both,
    because PROJ may pick a different operation (Helmert or ballpark) per point
    near the edge of a transformation's area of use, and would otherwise add a
    spurious difference of ~100 m between the two directions.
    """
    tr = _transformer(MAP_CRS, WORK_CRS)
    lon = q["x0"] + ints[:, 0] * q["s"]
    lat = q["y0"] + ints[:, 1] * q["s"]
    ex = exact[kept]
    x, y = tr.transform(np.r_[lon, ex[:, 0]], np.r_[lat, ex[:, 1]])
    m = len(lon)
    xy = sxy[kept] + np.column_stack([x[:m] - x[m:], y[:m] - y[m:]])
    ring_idx, ring_off = _ring_points(topo.ring_refs, qoff, pad=False)
    # Distinct points per ring: closed rings repeat the first point at the end.
    collapsed = np.diff(ring_off) - 1 < 3
    if collapsed.any():
        ring_idx, ring_off = _ring_points(topo.ring_refs, qoff)
    simplified = _polygons(xy, ring_idx, ring_off, topo)
    h = shapely.hausdorff_distance(originals, simplified)
    h = np.where(shapely.is_empty(originals) & shapely.is_empty(simplified), 0.0, h)
    valid = shapely.is_valid(simplified) | shapely.is_empty(originals)
    return simplified, h, valid, collapsed


def encode_coverage(geoms, *, tolerance_m: float | None = None, max_deviation_m: float | None = None,
                    quantisation: dict | None = None, snap_m: float = SNAP_M, refine_rounds: int = 4,
                    measure: bool = True) -> Encoded:
    """Encode polygons as shared, simplified, quantised arcs.

    Parameters
    ----------
    geoms : GeoSeries, GeoDataFrame or sequence of shapely geometries
        A GeoSeries/GeoDataFrame in any CRS (converted to EPSG:27700), or
        plain geometries in longitude/latitude (EPSG:4326). Polygons and
        multipolygons; invalid ones are repaired with ``shapely.make_valid``.
    tolerance_m : float, optional
        Douglas-Peucker tolerance in metres. Default: from the extent
        (:func:`auto_tolerance`). Always capped by ``max_deviation_m``.
    max_deviation_m : float, optional
        Bound on the measured per-feature Hausdorff distance (default 100 m).
        ``0`` keeps every vertex (apart from quantisation).
    quantisation : dict, optional
        ``{"x0", "y0", "s"}`` to use (e.g. shared with other layers).
        Default: :func:`quantiser_for` the extent and tolerance.
    snap_m : float
        Vertices closer than this grid (metres) are merged (default 1 mm).
    refine_rounds : int
        Rounds of re-simplifying (at a quarter of the tolerance) the arcs of
        wards whose rings collapsed or became invalid.
    measure : bool
        Measure the Hausdorff distance (needed for the guarantee; costs time).

    Returns
    -------
    Encoded
    """
    t0 = time.perf_counter()
    sec = {}
    max_dev = MAX_DEVIATION_M if max_deviation_m is None else float(max_deviation_m)
    work = _to_work(geoms)
    work, n_bad_in = _polygonal(work)
    sec["prepare"] = time.perf_counter() - t0

    t = time.perf_counter()
    topo = _build_topology(work, snap_m)
    sec["topology"] = time.perf_counter() - t
    n_arcs = len(topo.arc_off) - 1

    bounds = shapely.total_bounds(work) if len(work) else np.zeros(4)
    if not np.all(np.isfinite(bounds)):
        bounds = np.zeros(4)
    tol = auto_tolerance(bounds) if tolerance_m is None else float(tolerance_m)
    tol = max(min(tol, max_dev), 0.0)
    if quantisation is None:
        tr = _transformer(WORK_CRS, MAP_CRS)
        if len(topo.xy):
            lon, lat = tr.transform(topo.xy[:, 0], topo.xy[:, 1])
            b4326 = (float(np.min(lon)), float(np.min(lat)))
        else:
            b4326 = (0.0, 0.0)
        q = quantiser_for(b4326, tol)
    else:
        q = {"x0": float(quantisation["x0"]), "y0": float(quantisation["y0"]), "s": float(quantisation["s"])}
    qerr = _quantum_error_m(q)
    if max_dev > 0:
        tol = max(min(tol, max_dev - qerr), 0.0)
    else:
        tol = 0.0

    originals = _originals(topo) if measure else None
    arc_tol = np.full(n_arcs, tol)
    ref_ring = np.repeat(np.arange(len(topo.ring_refs)), [len(r) for r in topo.ring_refs])
    ref_arc = np.fromiter((k if k >= 0 else ~k for refs in topo.ring_refs for k in refs), np.int64,
                          len(ref_ring))
    for attempt in range(8):
        t = time.perf_counter()
        for rnd in range(refine_rounds + 1):
            sxy, soff = _simplify(topo, arc_tol)
            ints, qoff, kept, exact = _quantise(sxy, soff, q)
            if not measure:
                h = np.zeros(topo.n_features)
                valid = np.ones(topo.n_features, bool)
                collapsed = np.zeros(len(topo.ring_refs), bool)
                break
            _, h, valid, collapsed = _measure(topo, sxy, ints, qoff, kept, exact, q, originals)
            bad_ring = collapsed | ~valid[topo.ring_feature]
            if not bad_ring.any() or rnd == refine_rounds:
                break
            arcs_bad = np.unique(ref_arc[bad_ring[ref_ring]])
            arcs_bad = arcs_bad[arc_tol[arcs_bad] > 0]
            if not len(arcs_bad):
                break
            new = arc_tol[arcs_bad] / 4
            arc_tol[arcs_bad] = np.where(new < 2 * qerr, 0.0, new)
        sec[f"simplify+measure[{attempt}]"] = time.perf_counter() - t
        hmax = float(np.nanmax(h)) if len(h) else 0.0
        if not measure or hmax <= max_dev or tol == 0:
            break
        # The bound failed (it should not): simplify less and redo.
        scale = 0.9 * max(max_dev - qerr, 0.0) / max(hmax, 1e-9)
        tol = tol * scale if tol * scale >= 2 * qerr else 0.0
        arc_tol = np.minimum(arc_tol, tol)

    # Delta-encode each arc: first point absolute, then differences.
    t = time.perf_counter()
    d = ints.copy()
    d[1:] -= ints[:-1]
    d[qoff[:-1][np.diff(qoff) > 0]] = ints[qoff[:-1][np.diff(qoff) > 0]]
    flat = d.ravel().tolist()
    arcs = [flat[2 * qoff[i]:2 * qoff[i + 1]] for i in range(n_arcs)]
    # Geometry: feature -> polygons -> rings of arc refs.
    out = [[] for _ in range(topo.n_features)]
    last_part = -1
    for r, refs in enumerate(topo.ring_refs):
        p = int(topo.ring_part[r])
        if p != last_part:
            poly = []
            out[int(topo.part_feature[p])].append(poly)
            last_part = p
        poly.append(list(refs))
    sec["encode"] = time.perf_counter() - t
    hv = h[np.isfinite(h)] if len(h) else h
    sec["total"] = time.perf_counter() - t0
    ends = np.column_stack([topo.arc_vids[topo.arc_off[:-1]], topo.arc_vids[topo.arc_off[1:] - 1]]) \
        if n_arcs else np.zeros((0, 2), np.int64)
    return Encoded(
        q=q, arcs=arcs, geoms=out,
        hausdorff_max_m=float(hv.max()) if len(hv) and measure else float("nan"),
        hausdorff_p99_m=float(np.percentile(hv, 99)) if len(hv) and measure else float("nan"),
        n_arcs=n_arcs, n_points_before=topo.n_points_before, n_points_after=int(len(ints)),
        tolerance_m=float(tol), n_invalid=int((~valid).sum()), n_invalid_input=n_bad_in,
        n_arcs_refined=int((arc_tol < tol).sum()), n_collapsed_rings=int(collapsed.sum()),
        quantum_m=qerr, seconds=sec, hausdorff_m=h if measure else None,
        _ring_feature=topo.ring_feature, _ring_refs=topo.ring_refs, _arc_ends=ends,
        _arc_xy=sxy, _arc_off=soff,
    )


# --------------------------------------------------------------------------- outlines from arcs
def group_outlines(enc: Encoded, groups) -> tuple[list, list]:
    """Dissolved outlines of groups of features (e.g. districts), as rings of the same arcs.

    An arc used by two features of the same group is inside the group and
    dropped; the rest are chained into rings. The outlines cost no new
    points and coincide exactly with the ward borders.

    Parameters
    ----------
    enc : Encoded
        From :func:`encode_coverage`.
    groups : sequence
        One group key per feature (e.g. ``lad_code``).

    Returns
    -------
    (keys, geoms)
        Group keys in order of first appearance, and per group a list of
        polygons of rings of arc refs (the format of ``Encoded.geoms``).
    """
    groups = list(groups)
    if len(groups) != len(enc.geoms):
        raise ValueError(f"groups has {len(groups)} entries for {len(enc.geoms)} features")
    keys = list(dict.fromkeys(groups))
    gid_of = {k: i for i, k in enumerate(keys)}
    fgroup = np.array([gid_of[g] for g in groups], np.int64)
    refs = np.fromiter((k for r in enc._ring_refs for k in r), np.int64)
    ref_ring = np.repeat(np.arange(len(enc._ring_refs)), [len(r) for r in enc._ring_refs])
    ref_group = fgroup[enc._ring_feature[ref_ring]]
    arc = np.where(refs < 0, ~refs, refs)
    # Count uses of each arc by each group: keep the arcs used once.
    n_arcs = len(enc._arc_off) - 1
    key = ref_group * (n_arcs + 1) + arc
    uk, cnt = np.unique(key, return_counts=True)
    once = set(uk[cnt == 1].tolist())
    ends = enc._arc_ends
    xy, off = enc._arc_xy, enc._arc_off
    out = [[] for _ in keys]
    by_group: dict[int, list[int]] = {}
    for r_, g_, k_ in zip(refs.tolist(), ref_group.tolist(), key.tolist()):
        if k_ in once:
            by_group.setdefault(g_, []).append(r_)
    for g_, rlist in by_group.items():
        start = {}
        for r_ in rlist:
            a, b = ends[r_] if r_ >= 0 else ends[~r_][::-1]
            start.setdefault(int(a), []).append(r_)
        rings = []
        used = set()
        for r0 in rlist:
            if r0 in used:
                continue
            ring = [r0]
            used.add(r0)
            a0 = int(ends[r0][0] if r0 >= 0 else ends[~r0][1])
            b = int(ends[r0][1] if r0 >= 0 else ends[~r0][0])
            while b != a0:
                cand = [c for c in start.get(b, ()) if c not in used]
                if not cand:
                    break
                c = cand[0]
                used.add(c)
                ring.append(c)
                b = int(ends[c][1] if c >= 0 else ends[~c][0])
            rings.append(ring)
        # Exterior (counter-clockwise, area > 0) or hole; holes go in the exterior covering them.
        polys = []
        for ring in rings:
            pts = []
            for c in ring:
                k = c if c >= 0 else ~c
                seg = xy[off[k]:off[k + 1]]
                seg = seg if c >= 0 else seg[::-1]
                pts.append(seg if not pts else seg[1:])
            p = np.concatenate(pts)
            area = 0.5 * float(np.sum(p[:-1, 0] * p[1:, 1] - p[1:, 0] * p[:-1, 1]))
            polys.append((area, ring, p))
        shells = [(ring, shapely.Polygon(p)) for a, ring, p in polys if a > 0 and len(p) >= 4]
        holes = [(ring, p) for a, ring, p in polys if a <= 0]
        result = [[ring] for ring, _ in shells]
        for ring, p in holes:
            target = 0
            if len(shells) > 1:
                pt = shapely.Point(p[len(p) // 2])
                d = [s.distance(pt) if not s.covers(pt) else -1 for _, s in shells]
                target = int(np.argmin(d))
            if result:
                result[target].append(ring)
            else:
                result.append([ring])
        out[g_] = result
    return keys, out


# --------------------------------------------------------------------------- decode (Python)
def decode_arcs(q: dict, arcs: list) -> list:
    """Decode every arc like ``gangmap.js``: ``(lon, lat)`` arrays."""
    dec = []
    for a in arcs:
        v = np.cumsum(np.asarray(a, np.int64).reshape(-1, 2), axis=0)
        dec.append(np.column_stack([q["x0"] + v[:, 0] * q["s"], q["y0"] + v[:, 1] * q["s"]]))
    return dec


def decode(q: dict, arcs: list, geom: list, decoded: list | None = None) -> list:
    """Decode one feature like ``gangmap.js``: polygons of rings of ``(lon, lat)`` arrays.

    Pass ``decoded=decode_arcs(q, arcs)`` when decoding many features.
    """
    dec = decode_arcs(q, arcs) if decoded is None else decoded
    out = []
    for poly in geom:
        rings = []
        for ring in poly:
            pts = []
            for k in ring:
                p = dec[k] if k >= 0 else dec[~k][::-1]
                pts.append(p if not pts else p[1:])
            rings.append(np.concatenate(pts) if pts else np.zeros((0, 2)))
        out.append(rings)
    return out
