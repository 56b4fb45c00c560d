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
   the per-ward Hausdorff distance in metres (EPSG:27700),
7. guards the result: arcs of rings left with fewer than 3 distinct points,
   arcs that cross another arc (a ward's own border, or a neighbouring
   ward's outer border across a narrow estuary, which no single ward's
   validity would reveal) and arcs of wards that became invalid are
   simplified again at a quarter of the tolerance, a few rounds, and what
   is left is reported (``n_invalid``, ``n_collapsed_rings``). What remains
   comes from rounding to the grid, not from simplification.

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

Bounds relative to each area's size
-----------------------------------
One tolerance for a whole country suits wards but not LSOAs: at about 95 m
nationally, a third of the areas of a synthetic England LSOA coverage moved
by more than 10% of their own size (issue 17 reports 60% of England's real
LSOAs). With ``relative=r`` each arc is simplified with at most
``r * size - 2 * rounding``, where ``size`` is the square root of the area
of the smaller of the two areas it separates, and the measured deviation of
every area is checked against ``r * size`` as well as ``max_deviation_m``
(see ``benchmarks/bench_maps.py`` for the numbers). The grid is then sized
for the smallest tolerances (the 1st percentile of ``r * size``).

The viewer receives the arcs and rings as packed text
(:mod:`gangmap.maps.packing`); :attr:`Encoded.arcs` and :attr:`Encoded.geoms`
stay plain lists, and arcs are numbered in order of first use so that the
packed deltas are small.

Quantisation: one grid step is ``max(tolerance / 20, 1 m)``, expressed in
degrees (``s``, the same for longitude and latitude, from 111.32 km per degree,
rounded down to 3 significant digits). A point moves at most
``s * 111.7 km * sqrt(2) / 2`` metres when rounded (0.035 x the tolerance);
the cap above reserves twice that for rounding. A coarser step makes the file
little smaller (the tolerance must then shrink) and leaves more narrow wards
self-intersecting after rounding.

Snapping: vertices are merged on a 1 mm grid in EPSG:27700. ONS coverages
(and the demo wards) repeat shared vertices exactly; the 2013 England file
also has 149 pairs of vertices less than 1 mm apart, which the grid merges,
after which no ward vertex lies on another ward's border without being one
of its vertices (no T-junctions), so shared borders are found exactly.

Examples
--------
>>> from gangmap import topology  # doctest: +SKIP
>>> enc = topology.encode_coverage(wards.geometry)  # doctest: +SKIP
>>> enc.hausdorff_max_m <= 100, enc.n_arcs  # doctest: +SKIP
(True, 23746)
>>> data = {"q": enc.q, "arcs": enc.arcs, "wards": {"geoms": enc.geoms}}  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely
from shapely import GeometryType

from ..errors import GangmapError
from ..geography import MAP_CRS, WORK_CRS

__all__ = ["Encoded", "encode_coverage", "group_outlines", "auto_tolerance", "quantiser_for", "decode",
           "decode_arcs"]

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
        (exterior first); a ring is a list of arc indices, ``~k`` meaning arc
        ``k`` reversed. Consecutive arcs of a ring share their joining point.
    hausdorff_max_m, hausdorff_p99_m : float
        Measured per-feature deviation between the input and the decoded
        output, metres (EPSG:27700): maximum and 99th percentile over
        features. Each feature's value is an upper bound of its Hausdorff
        distance (see :func:`encode_coverage`); ``hausdorff_m`` holds them all.
    n_arcs : int
        Arcs (shared borders are one arc).
    n_points_before : int
        Ring vertices of the input, closing points not counted (what a
        per-ring encoding stores).
    n_points_after : int
        Points stored in the arcs.
    tolerance_m : float
        Douglas-Peucker tolerance used (metres). Arcs of wards that would have
        collapsed or self-intersected use less (``n_arcs_refined`` of them).
    n_invalid : int
        Decoded features that are not valid polygons although their input is
        (self-intersections the guard could not remove).
    n_invalid_input : int
        Input features that were not valid (repaired with ``make_valid`` when
        ``repair=True``).
    n_collapsed_rings : int
        Rings left with fewer than 3 distinct points (0 unless a ring is
        smaller than the quantisation step).
    quantum_m : float
        Worst-case shift of one point by quantisation, metres.
    relative : float or None
        The relative bound asked for (see :func:`encode_coverage`).
    relative_max, relative_p99 : float
        Measured deviation of each feature divided by its size (the square
        root of its area): maximum and 99th percentile over features.
    relative_dev, size_m : ndarray
        Per feature: that ratio, and the size (m).
    seconds : dict
        Time per stage.
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
    relative: float | None = None
    relative_max: float = 0.0
    relative_p99: float = 0.0
    relative_dev: np.ndarray | None = field(default=None, repr=False)
    size_m: np.ndarray | None = field(default=None, repr=False)
    # Internals for group_outlines: flat ring refs, ring -> feature, arc end vertex ids,
    # decoded points (EPSG:27700) per arc.
    _ref: np.ndarray | None = field(default=None, repr=False)
    _ref_off: np.ndarray | None = field(default=None, repr=False)
    _ring_feature: np.ndarray | None = field(default=None, repr=False)
    _arc_ends: np.ndarray | None = field(default=None, repr=False)
    _arc_xy: np.ndarray | None = field(default=None, repr=False)
    _arc_off: np.ndarray | None = field(default=None, repr=False)

    def json_size(self) -> int:
        """Bytes of ``{"q", "arcs", "geoms"}`` as compact JSON."""
        return len(json.dumps({"q": self.q, "arcs": self.arcs, "geoms": self.geoms},
                              separators=(",", ":")))

    def add(self, geoms, *, tolerance_m: float | None = None, max_deviation_m: float | None = None) -> list:
        """Encode further polygons (an overlay: campaign areas, catchments...) into these arcs.

        They get their own arcs, appended to :attr:`arcs` with the same
        quantisation ``q``, so one ``D.arcs`` serves every layer of a map.
        Returns their geometry in the format of :attr:`geoms`.
        """
        extra = encode_coverage(geoms, quantisation=self.q, max_deviation_m=max_deviation_m,
                                tolerance_m=self.tolerance_m if tolerance_m is None else tolerance_m)
        base = len(self.arcs)
        self.arcs.extend(extra.arcs)
        self.n_arcs = len(self.arcs)
        self.n_points_after += extra.n_points_after

        def shift(k: int) -> int:
            return k + base if k >= 0 else ~(~k + base)

        return [[[[shift(k) for k in ring] for ring in poly] for poly in g] for g in extra.geoms]

    def stats(self) -> dict:
        """The measured numbers, for logs and benchmarks."""
        return {k: getattr(self, k) for k in (
            "tolerance_m", "quantum_m", "hausdorff_max_m", "hausdorff_p99_m", "relative", "relative_max",
            "relative_p99", "n_arcs",
            "n_points_before", "n_points_after", "n_invalid", "n_invalid_input", "n_arcs_refined",
            "n_collapsed_rings")}


# --------------------------------------------------------------------------- helpers
@lru_cache(maxsize=8)
def _transformer(src: str, dst: str):
    """The transformer geopandas' ``to_crs`` uses, so the wards line up with other layers."""
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


@lru_cache(maxsize=1)
def _fixed_to_work():
    """One fixed 4326 -> 27700 operation (no per-point fallback), for derivatives."""
    from pyproj.transformer import TransformerGroup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = TransformerGroup(MAP_CRS, WORK_CRS, always_xy=True)
    return group.transformers[0] if group.transformers else _transformer(MAP_CRS, WORK_CRS)


def _to_work(geoms) -> np.ndarray:
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
        b = shapely.total_bounds(arr)
        if np.all(np.isfinite(b)) and (np.abs(b[[0, 2]]).max() > 180 or np.abs(b[[1, 3]]).max() > 90):
            raise GangmapError("encode_coverage: geometries without a CRS must be longitude/latitude "
                               "(EPSG:4326); these look like metres. Pass a GeoSeries with its CRS "
                               "(e.g. EPSG:27700).")
        tr = _transformer(MAP_CRS, WORK_CRS)
        arr = shapely.transform(arr, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return arr


def _polygonal(geoms: np.ndarray, repair: bool) -> tuple[np.ndarray, int]:
    """Polygonal geometries, exteriors counter-clockwise; invalid ones repaired if asked."""
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms)
    if missing.any():
        geoms = np.where(missing, shapely.from_wkt("POLYGON EMPTY"), geoms)
    n_bad = 0
    if repair:
        bad = ~shapely.is_valid(geoms)
        n_bad = int(bad.sum())
        if n_bad:
            out = []
            for g in shapely.make_valid(geoms[bad]):
                parts = shapely.get_parts(g)
                parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
                out.append(shapely.union_all(parts) if len(parts) else shapely.from_wkt("POLYGON EMPTY"))
            geoms = geoms.copy()
            geoms[bad] = out
    return shapely.orient_polygons(geoms, exterior_cw=False), n_bad


def auto_tolerance(bounds_27700) -> float:
    """Tolerance (m): half a pixel when the extent's diagonal spans 3,000 px (``diagonal / 6000``)."""
    minx, miny, maxx, maxy = (float(v) for v in bounds_27700)
    return 0.5 * math.hypot(maxx - minx, maxy - miny) / _PIXELS


def quantiser_for(bounds_4326, tolerance_m: float) -> dict:
    """Quantisation ``{"x0", "y0", "s"}``: one step is ``max(tolerance / 20, 1 m)`` in degrees."""
    minx, miny = float(bounds_4326[0]), float(bounds_4326[1])
    s = max(tolerance_m / 20.0, 1.0) / _M_PER_DEG
    e = math.floor(math.log10(s)) - 2
    s = float(f"{math.floor(s / 10 ** e) * 10 ** e:.3g}")  # 3 significant digits, rounded down
    return {"x0": math.floor(minx * 1e6) / 1e6, "y0": math.floor(miny * 1e6) / 1e6, "s": s}


def _quantum_error_m(q) -> float:
    """Worst-case distance a point moves when rounded to the grid of ``q`` (m)."""
    return 0.5 * math.sqrt(2.0) * q["s"] * _M_PER_DEG_MAX


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + n)`` for each start ``s`` and length ``n``."""
    lengths = np.asarray(lengths, np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    first = np.cumsum(lengths) - lengths
    return np.arange(total) - first[owner] + np.asarray(starts, np.int64)[owner]


def _first_of_runs(sorted_keys: np.ndarray) -> np.ndarray:
    """Indices where a sorted key array starts a new value."""
    if len(sorted_keys) == 0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


# --------------------------------------------------------------------------- topology
@dataclass
class _Topology:
    xy: np.ndarray            # distinct snapped vertices, EPSG:27700
    arc_vids: np.ndarray      # vertex ids of the unique arcs, concatenated
    arc_off: np.ndarray       # offsets into arc_vids (n_arcs + 1)
    ref: np.ndarray           # arc refs (k or ~k) of every ring, concatenated
    ref_off: np.ndarray       # offsets into ref per ring (n_rings + 1)
    ring_part: np.ndarray     # per ring: part index (rings grouped by part, exterior first)
    part_feature: np.ndarray  # per part: feature index (parts grouped by feature)
    ring_feature: np.ndarray  # per ring: feature index
    n_features: int
    n_points_before: int

    @property
    def n_arcs(self) -> int:
        return len(self.arc_off) - 1

    @property
    def n_rings(self) -> int:
        return len(self.ref_off) - 1


def _ring_vertices(geoms: np.ndarray):
    """Polygon parts, their rings and the rings' vertices (closing points dropped)."""
    parts, part_feature = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, part_feature = parts[keep], part_feature[keep]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(cidx, minlength=len(rings))
    n_points_before = int(counts.sum() - np.count_nonzero(counts))
    mask = np.ones(len(coords), bool)  # drop each ring's closing point
    mask[(np.cumsum(counts) - 1)[counts > 0]] = False
    return parts, part_feature, ring_part, len(rings), coords[mask], cidx[mask], n_points_before


def _snap(coords: np.ndarray, snap_m: float):
    """Snap to the grid and number the distinct vertices: ``(vertex id per point, xy per vertex)``."""
    g = np.rint(coords / snap_m).astype(np.int64)
    if len(g):
        gx, gy = g[:, 0] - g[:, 0].min(), g[:, 1] - g[:, 1].min()
        span = int(gy.max()) + 1
        if (int(gx.max()) + 1) * span < 2 ** 62:
            key = gx * span + gy
            order = np.argsort(key, kind="stable")
            starts = _first_of_runs(key[order])
            vid = np.empty(len(key), np.int64)
            vid[order] = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(key)]))
            first = order[starts]
        else:  # pragma: no cover - extents beyond an int64 key
            _, first, vid = np.unique(g, axis=0, return_index=True, return_inverse=True)
            vid = vid.ravel()
    else:
        vid, first = np.zeros(0, np.int64), np.zeros(0, np.int64)
    return vid, g[first].astype(float) * snap_m


def _clean_rings(vid, cidx, ring_part, n_parts: int, n_rings0: int):
    """Drop repeats left by snapping, rings under 3 vertices, and parts whose exterior went.

    Returns ``(vid, ring of each vertex, ring_part of kept rings, ring offsets)``.
    """
    rs = _first_of_runs(cidx)                      # start of each non-empty ring
    re = np.r_[rs[1:], len(cidx)]
    prev = np.arange(len(cidx)) - 1
    prev[rs] = re - 1
    keep = vid != vid[prev]
    vid, cidx = vid[keep], cidx[keep]
    counts = np.bincount(cidx, minlength=n_rings0)
    ring_ok = counts >= 3
    first_ring = np.r_[True, ring_part[1:] != ring_part[:-1]] if n_rings0 else np.zeros(0, bool)
    part_ok = np.zeros(n_parts, bool)
    part_ok[ring_part[first_ring & ring_ok]] = True
    ring_ok &= part_ok[ring_part]
    sel = ring_ok[cidx]
    vid, cidx = vid[sel], cidx[sel]
    kept_rings = np.flatnonzero(ring_ok)
    renumber = np.full(n_rings0, -1, np.int64)
    renumber[kept_rings] = np.arange(len(kept_rings))
    cidx = renumber[cidx]
    counts = np.bincount(cidx, minlength=len(kept_rings)).astype(np.int64)
    return vid, cidx, ring_part[kept_rings], np.r_[0, np.cumsum(counts)]


def _junctions(vid, cidx, off, nv: int) -> np.ndarray:
    """Per vertex: joined to 3+ distinct neighbours, or visited twice by one ring."""
    n = len(vid)
    nxt = np.arange(1, n + 1)
    nxt[off[1:] - 1] = off[:-1]
    lo, hi = np.minimum(vid, vid[nxt]), np.maximum(vid, vid[nxt])
    e = np.sort(lo * nv + hi)
    e = e[_first_of_runs(e)]
    degree = np.bincount(e // nv, minlength=nv) + np.bincount(e % nv, minlength=nv)
    junction = degree >= 3
    rv = np.sort(cidx * nv + vid)
    dup = rv[1:][rv[1:] == rv[:-1]]
    junction[dup % nv] = True
    return junction


def _rotate_rings(vid, cidx, off, jpos):
    """Rotate each ring to start at its first junction (or, with none, at its smallest vertex id), close it.

    Returns ``(closed rings' vertex ids, cut flags, ring of each position)``.
    """
    n_rings = len(off) - 1
    counts = np.diff(off)
    jp = np.flatnonzero(jpos)
    start = np.full(n_rings, -1, np.int64)
    if len(jp):
        f = _first_of_runs(cidx[jp])
        start[cidx[jp][f]] = jp[f]
    has_j = start >= 0
    if (~has_j).any():
        ringmin = np.minimum.reduceat(vid, off[:-1]) if len(vid) else np.zeros(0, np.int64)
        at_min = np.flatnonzero(vid == ringmin[cidx])
        f = _first_of_runs(cidx[at_min])
        rr = cidx[at_min][f]
        nj = ~has_j[rr]
        start[rr[nj]] = at_min[f][nj]
    clen = counts + 1
    coff = np.r_[0, np.cumsum(clen)]
    cring = np.repeat(np.arange(n_rings), clen)
    t = np.arange(int(coff[-1])) - coff[cring]
    pos = off[cring] + (start[cring] - off[cring] + t) % counts[cring]
    cut = jpos[pos] | (t == 0) | (t == counts[cring])
    cut &= has_j[cring] | (t == 0) | (t == counts[cring])
    return vid[pos], cut, cring


def _unique_arcs(rv, cut, cring, n_rings: int, nv: int):
    """Pieces between consecutive cuts, each arc kept once: ``(arc_vids, arc_off, ref, ref_off)``."""
    c = np.flatnonzero(cut)
    same = cring[c[:-1]] == cring[c[1:]]
    ps, pe = c[:-1][same], c[1:][same]
    a, b, y, z = rv[ps], rv[ps + 1], rv[pe - 1], rv[pe]
    fwd = (a < z) | ((a == z) & (b <= y))
    # An arc runs from a junction through vertices of degree 2, so it is fixed by its first two
    # vertices: the key (first, second) in canonical direction identifies it.
    key = np.where(fwd, a * nv + b, z * nv + y)
    order = np.argsort(key, kind="stable")
    firsts = _first_of_runs(key[order])
    arc_of_piece = np.empty(len(key), np.int64)
    arc_of_piece[order] = np.repeat(np.arange(len(firsts)), np.diff(np.r_[firsts, len(key)]))
    rep = order[firsts]                            # the first piece of each arc (stable sort)
    # Number the arcs in order of first use (feature by feature), so that an area's arcs, and the
    # arcs it shares with the areas just before it, have nearby numbers: small deltas when packed.
    first_use = np.argsort(rep, kind="stable")
    renumber = np.empty(len(rep), np.int64)
    renumber[first_use] = np.arange(len(rep))
    arc_of_piece, rep = renumber[arc_of_piece], rep[first_use]
    ref = np.where(fwd, arc_of_piece, ~arc_of_piece)
    pieces_per_ring = np.bincount(cring[ps], minlength=n_rings)
    ref_off = np.r_[0, np.cumsum(pieces_per_ring)]
    lens = pe[rep] - ps[rep] + 1
    arc_off = np.r_[0, np.cumsum(lens)]
    tt = np.arange(int(arc_off[-1])) - np.repeat(arc_off[:-1], lens)
    rf = np.repeat(fwd[rep], lens)
    src = np.where(rf, np.repeat(ps[rep], lens) + tt, np.repeat(pe[rep], lens) - tt)
    return rv[src], arc_off, ref, ref_off


def _build_topology(geoms: np.ndarray, snap_m: float = SNAP_M) -> _Topology:
    """Snap, find junctions, cut rings into arcs and keep each arc once. All vectorised."""
    parts, part_feature, ring_part, n_rings0, coords, cidx, n_before = _ring_vertices(geoms)
    vid, xy = _snap(coords, snap_m)
    vid, cidx, ring_part, off = _clean_rings(vid, cidx, ring_part, len(parts), n_rings0)
    n_rings, nv = len(off) - 1, len(xy)
    jpos = _junctions(vid, cidx, off, nv)[vid]
    rv, cut, cring = _rotate_rings(vid, cidx, off, jpos)
    arc_vids, arc_off, ref, ref_off = _unique_arcs(rv, cut, cring, n_rings, nv)
    return _Topology(xy=xy, arc_vids=arc_vids, arc_off=arc_off, ref=ref, ref_off=ref_off,
                     ring_part=ring_part, part_feature=part_feature,
                     ring_feature=part_feature[ring_part] if n_rings else np.zeros(0, np.int64),
                     n_features=len(geoms), n_points_before=n_before)


def _ring_point_index(topo: _Topology, rings: np.ndarray, off: np.ndarray):
    """Positions (into a point array with arc offsets ``off``) of the given rings' points,
    joined as the viewer joins them (shared joints once; rings closed). Returns (index, ring_len)."""
    nref = topo.ref_off[rings + 1] - topo.ref_off[rings]
    ri = _ranges(topo.ref_off[rings], nref)
    r = topo.ref[ri]
    rev = r < 0
    k = np.where(rev, ~r, r)
    L = off[k + 1] - off[k]
    first = np.zeros(len(r), bool)
    first[(np.cumsum(nref) - nref)[nref > 0]] = True
    skip = (~first).astype(np.int64)
    contrib = np.maximum(L - skip, 0)
    owner = np.repeat(np.arange(len(r)), contrib)
    tt = np.arange(int(contrib.sum())) - (np.cumsum(contrib) - contrib)[owner] + skip[owner]
    idx = np.where(rev[owner], off[k[owner]] + L[owner] - 1 - tt, off[k[owner]] + tt)
    ring_of_ref = np.repeat(np.arange(len(rings)), nref)
    ring_len = np.bincount(ring_of_ref, weights=contrib, minlength=len(rings)).astype(np.int64)
    return idx, ring_len


def _build_polygons(topo: _Topology, features: np.ndarray, points: np.ndarray, off: np.ndarray):
    """MultiPolygons of the given features (sorted ids) from arc points; short rings padded."""
    fmask = np.zeros(topo.n_features, bool)
    fmask[features] = True
    rings = np.flatnonzero(fmask[topo.ring_feature])
    out = np.full(len(features), None, dtype=object)
    if not len(rings):
        return out
    idx, ring_len = _ring_point_index(topo, rings, off)
    short = np.flatnonzero(ring_len < 4)
    if len(short):  # too few points for a ring: repeat the last one (an invalid ring, still measurable)
        ends = np.cumsum(ring_len)
        extra = 4 - ring_len[short]
        last = idx[np.maximum(ends[short] - 1, 0)] if len(idx) else np.zeros(len(short), np.int64)
        idx = np.insert(idx, np.repeat(ends[short], extra), np.repeat(last, extra))
        ring_len = np.maximum(ring_len, 4)
    ring_off = np.r_[0, np.cumsum(ring_len)]
    rp = topo.ring_part[rings]
    pstart = _first_of_runs(rp)
    part_off = np.r_[pstart, len(rings)]
    pf = topo.part_feature[rp[pstart]]
    fstart = _first_of_runs(pf)
    feat_off = np.r_[fstart, len(pstart)]
    geoms = shapely.from_ragged_array(GeometryType.MULTIPOLYGON, points[idx], (ring_off, part_off, feat_off))
    out[np.searchsorted(features, pf[fstart])] = geoms
    return out


# --------------------------------------------------------------------------- simplify / quantise / measure
class _Arcs:
    """Simplification state of every arc: which original points are kept, and their encoding."""

    def __init__(self, topo: _Topology, q: dict):
        self.topo, self.q = topo, q
        self.pts = topo.xy[topo.arc_vids]                     # original arc points, EPSG:27700
        n = len(self.pts)
        self.lens = np.diff(topo.arc_off)
        self.arc_of = np.repeat(np.arange(topo.n_arcs), self.lens)
        self.kept = np.zeros(n, bool)
        self.done = np.zeros(n, bool)                          # projected already
        self.lonlat = np.zeros((n, 2))
        self.ints = np.zeros((n, 2), np.int64)
        self.dec = np.zeros((n, 2))                            # decoded position, EPSG:27700
        self._jac = None

    # Douglas-Peucker with GEOS; the point's index rides along as Z so no matching is needed.
    def simplify(self, arcs: np.ndarray, tols: np.ndarray) -> None:
        topo = self.topo
        lens = self.lens[arcs]
        rng = _ranges(topo.arc_off[arcs], lens)
        self.kept[rng] = False
        plain = (tols <= 0) | (lens <= 2)
        self.kept[_ranges(topo.arc_off[arcs[plain]], lens[plain])] = True
        do = arcs[~plain]
        if len(do):
            dl = self.lens[do]
            src = _ranges(topo.arc_off[do], dl)
            xyz = np.column_stack([self.pts[src], src.astype(float)])
            lines = shapely.linestrings(xyz, indices=np.repeat(np.arange(len(do)), dl))
            simp = shapely.simplify(lines, tols[~plain], preserve_topology=False)
            kz = shapely.get_coordinates(simp, include_z=True)[:, 2]
            self.kept[np.rint(kz).astype(np.int64)] = True
        # End points are fixed by Douglas-Peucker; make sure whatever the GEOS version.
        self.kept[topo.arc_off[arcs]] = True
        self.kept[topo.arc_off[arcs + 1] - 1] = True

    def _jacobian(self, lon, lat):
        """d(x, y)/d(lon, lat) of EPSG:4326 -> 27700 on a coarse lattice (nearest node)."""
        if self._jac is None:
            x0, x1 = float(lon.min()) - 0.1, float(lon.max()) + 0.1
            y0, y1 = float(lat.min()) - 0.1, float(lat.max()) + 0.1
            m = 24
            gx, gy = np.meshgrid(np.linspace(x0, x1, m), np.linspace(y0, y1, m), indexing="ij")
            gx, gy = gx.ravel(), gy.ravel()
            h = 1e-4
            tr = _fixed_to_work()
            X, Y = tr.transform(np.r_[gx, gx + h, gx], np.r_[gy, gy, gy + h])
            k = len(gx)
            J = np.stack([(X[k:2 * k] - X[:k]) / h, (X[2 * k:] - X[:k]) / h,
                          (Y[k:2 * k] - Y[:k]) / h, (Y[2 * k:] - Y[:k]) / h], axis=1)
            self._jac = (x0, y0, (x1 - x0) / (m - 1), (y1 - y0) / (m - 1), m, J)
        x0, y0, dx, dy, m, J = self._jac
        i = np.clip(np.rint((lon - x0) / dx).astype(np.int64), 0, m - 1)
        j = np.clip(np.rint((lat - y0) / dy).astype(np.int64), 0, m - 1)
        return J[i * m + j]

    def project(self) -> None:
        """Longitude/latitude, integers and decoded EPSG:27700 position of newly kept points."""
        new = np.flatnonzero(self.kept & ~self.done)
        if not len(new):
            return
        q = self.q
        lon, lat = _transformer(WORK_CRS, MAP_CRS).transform(self.pts[new, 0], self.pts[new, 1])
        lon, lat = np.asarray(lon), np.asarray(lat)
        ix = np.rint((lon - q["x0"]) / q["s"]).astype(np.int64)
        iy = np.rint((lat - q["y0"]) / q["s"]).astype(np.int64)
        # Decoded position: the original point moved by the rounding, converted to metres.
        # (Linearised: an inverse transform could pick a different PROJ operation than the
        # forward one near the edge of its area of use and report a spurious ~100 m.)
        dlon = q["x0"] + ix * q["s"] - lon
        dlat = q["y0"] + iy * q["s"] - lat
        J = self._jacobian(lon, lat)
        self.lonlat[new] = np.column_stack([lon, lat])
        self.ints[new] = np.column_stack([ix, iy])
        self.dec[new] = self.pts[new] + np.column_stack([J[:, 0] * dlon + J[:, 1] * dlat,
                                                         J[:, 2] * dlon + J[:, 3] * dlat])
        self.done[new] = True

    def output(self):
        """Positions of the points written (kept, minus repeats after rounding) and arc offsets."""
        K = np.flatnonzero(self.kept)
        ints = self.ints[K]
        arc = self.arc_of[K]
        rep = np.zeros(len(K), bool)
        rep[1:] = (arc[1:] == arc[:-1]) & np.all(ints[1:] == ints[:-1], axis=1)
        out = K[~rep]
        off = np.r_[0, np.cumsum(np.bincount(self.arc_of[out], minlength=self.topo.n_arcs))]
        return out, off

    def deviation(self) -> np.ndarray:
        """Per arc, an upper bound of the Hausdorff distance between original and decoded arc (m).

        Every original point lies between two kept points (Douglas-Peucker keeps a subsequence);
        its distance to that decoded chord bounds original -> decoded (distance to a segment is
        convex along an original segment). Decoded -> original is bounded by the same numbers
        plus twice the rounding shift of the chord's ends.
        """
        topo = self.topo
        n = len(self.pts)
        K = np.flatnonzero(self.kept)
        j = np.searchsorted(K, np.arange(n), side="right") - 1
        last = topo.arc_off[self.arc_of + 1] - 1
        j = np.where(K[j] == last, j - 1, j)
        A, B, P = self.dec[K[j]], self.dec[K[j + 1]], self.pts
        AB = B - A
        L2 = np.einsum("ij,ij->i", AB, AB)
        tpar = np.einsum("ij,ij->i", P - A, AB) / np.where(L2 > 0, L2, 1.0)
        tpar = np.clip(np.where(L2 > 0, tpar, 0.0), 0.0, 1.0)
        d = np.hypot(*(A + tpar[:, None] * AB - P).T)
        dev = np.maximum.reduceat(d, topo.arc_off[:-1]) if n else np.zeros(0)
        shift = np.hypot(*(self.dec[K] - self.pts[K]).T)
        arc_shift = np.zeros(topo.n_arcs)
        np.maximum.at(arc_shift, self.arc_of[K], shift)
        return np.maximum(dev, 2.0 * arc_shift)


def _arc_lines(points: np.ndarray, off: np.ndarray, arcs: np.ndarray) -> np.ndarray:
    """Linestrings of ``arcs`` (None where an arc has fewer than 2 points)."""
    out = np.full(len(arcs), None, dtype=object)
    lens = off[arcs + 1] - off[arcs]
    ok = lens >= 2
    if ok.any():
        out[ok] = shapely.linestrings(points[_ranges(off[arcs[ok]], lens[ok])],
                                      indices=np.repeat(np.arange(int(ok.sum())), lens[ok]))
    return out


def _crossing_arcs(lines: np.ndarray, subset: np.ndarray | None = None) -> np.ndarray:
    """Arcs (of ``subset``, or all) that cross or overlap another arc, or themselves.

    ``lines``: the linestring of every arc (None for arcs of fewer than 2 points).
    Arcs may only meet at the ends they share (Shapely's ``touches``). This catches
    simplified borders that cut across a neighbouring border of the same ward (a
    self-intersection) and also outer borders of two different wards crossing
    across a narrow gap such as an estuary (an overlap no single ward shows).
    """
    ids = np.flatnonzero(~shapely.is_missing(lines))
    if not len(ids):
        return ids
    live = lines[ids]
    if subset is None:
        qi = np.arange(len(ids))
    else:
        qi = np.searchsorted(ids, subset)
        qi = qi[(qi < len(ids)) & (ids[np.minimum(qi, len(ids) - 1)] == subset)]
    left, right = shapely.STRtree(live).query(live[qi], predicate="intersects")
    left = qi[left]
    m = (left < right) if subset is None else (left != right)  # each pair once
    left, right = left[m], right[m]
    bad = ~shapely.touches(live[left], live[right])
    selfx = qi[~shapely.is_simple(live[qi])]
    return ids[np.unique(np.concatenate([left[bad], right[bad], selfx]))]


def _offending_arcs(topo: _Topology, points: np.ndarray, off: np.ndarray, features: np.ndarray,
                    ref_arc: np.ndarray, ref_ring: np.ndarray) -> np.ndarray:
    """Arcs that make the given (invalid) features invalid.

    An arc offends when it crosses itself, or meets another arc of the same
    feature anywhere but at the ends they share. For a feature where no such
    arc is found (some other kind of invalidity), all its arcs are returned.
    """
    n_f = topo.n_features
    fmask = np.zeros(n_f, bool)
    fmask[features] = True
    sel = fmask[topo.ring_feature[ref_ring]]
    pairs = np.unique(np.column_stack([ref_arc[sel], topo.ring_feature[ref_ring[sel]]]), axis=0)
    arcs = np.unique(pairs[:, 0])
    lens = off[arcs + 1] - off[arcs]
    arcs, lens = arcs[lens >= 2], lens[lens >= 2]
    if not len(arcs):
        return pairs[:, 0]
    rank = np.searchsorted(arcs, pairs[:, 0])
    okp = (rank < len(arcs)) & (arcs[np.minimum(rank, len(arcs) - 1)] == pairs[:, 0])
    rank, pf = rank[okp], pairs[okp, 1]
    keys = np.sort(rank * n_f + pf)
    f1 = np.full(len(arcs), -1, np.int64)
    f2 = np.full(len(arcs), -1, np.int64)
    f1[rank[::-1]] = pf[::-1]                      # first feature of each arc
    second = pf != f1[rank]
    f2[rank[second]] = pf[second]
    lines = shapely.linestrings(points[_ranges(off[arcs], lens)], indices=np.repeat(np.arange(len(arcs)), lens))
    bad = ~shapely.is_simple(lines)
    left, right = shapely.STRtree(lines).query(lines, predicate="intersects")
    m = left < right
    left, right = left[m], right[m]

    def member(r, f):
        k = r * n_f + f
        i = np.searchsorted(keys, k)
        return (f >= 0) & (i < len(keys)) & (keys[np.minimum(i, len(keys) - 1)] == k)

    shared = member(right, f1[left]) | member(right, f2[left])
    left, right = left[shared], right[shared]
    if len(left):
        s0, s1 = points[off[arcs]], points[off[arcs + 1] - 1]
        a0, a1, b0, b1 = s0[left], s1[left], s0[right], s1[right]
        allow0 = np.all(a0 == b0, axis=1) | np.all(a0 == b1, axis=1)
        allow1 = np.all(a1 == b0, axis=1) | np.all(a1 == b1, axis=1)
        pts = np.concatenate([a0[allow0], a1[allow1]])
        owner = np.concatenate([np.flatnonzero(allow0), np.flatnonzero(allow1)])
        order = np.argsort(owner, kind="stable")
        allowed = np.full(len(left), shapely.from_wkt("MULTIPOINT EMPTY"), dtype=object)
        if len(owner):
            who, dense = np.unique(owner[order], return_inverse=True)
            allowed[who] = shapely.multipoints(pts[order], indices=dense.ravel())
        rest = shapely.difference(shapely.intersection(lines[left], lines[right]), allowed)
        hit = ~shapely.is_empty(rest)
        bad[left[hit]] = True
        bad[right[hit]] = True
    found = arcs[bad]
    # Features with nothing found: all their arcs.
    bf = np.zeros(n_f, bool)
    fb = np.concatenate([f1[bad], f2[bad]])
    bf[fb[fb >= 0]] = True
    missing = fmask & ~bf
    rest_arcs = ref_arc[missing[topo.ring_feature[ref_ring]]]
    return np.unique(np.concatenate([found, rest_arcs]))


def _feature_max(topo: _Topology, arc_values: np.ndarray) -> np.ndarray:
    """Per feature, the maximum of ``arc_values`` over the arcs of its rings (0 when none)."""
    out = np.zeros(topo.n_features)
    if len(topo.ref):
        k = np.where(topo.ref < 0, ~topo.ref, topo.ref)
        ring = np.repeat(np.arange(topo.n_rings), np.diff(topo.ref_off))
        np.maximum.at(out, topo.ring_feature[ring], arc_values[k])
    return out


def _grid(topo: _Topology, tolerance_m: float | None, max_dev: float, quantisation: dict | None,
          finest: float | None = None):
    """The Douglas-Peucker tolerance, the quantisation ``q`` and its worst rounding error (m).

    ``finest``: the smallest tolerance some arcs will need (relative bounds), which sizes the grid.
    """
    if len(topo.xy):
        lo, hi = topo.xy.min(axis=0), topo.xy.max(axis=0)
        bounds = (lo[0], lo[1], hi[0], hi[1])
    else:
        bounds = (0.0, 0.0, 0.0, 0.0)
    tol = auto_tolerance(bounds) if tolerance_m is None else float(tolerance_m)
    tol = max(min(tol, max_dev), 0.0)
    if quantisation is None:
        # South-west corner in degrees: transform the extent's outline, not every vertex.
        ex = np.linspace(bounds[0], bounds[2], 64)
        ey = np.linspace(bounds[1], bounds[3], 64)
        bx = np.r_[ex, ex, np.full(64, bounds[0]), np.full(64, bounds[2])]
        by = np.r_[np.full(64, bounds[1]), np.full(64, bounds[3]), ey, ey]
        lon, lat = _transformer(WORK_CRS, MAP_CRS).transform(bx, by)
        q = quantiser_for((float(np.min(lon)), float(np.min(lat))), tol if finest is None else min(tol, finest))
    else:
        q = {"x0": float(quantisation["x0"]), "y0": float(quantisation["y0"]), "s": float(quantisation["s"])}
    qerr = _quantum_error_m(q)
    # Douglas-Peucker tolerance + rounding (at most twice, see deviation()) within the bound.
    tol = max(min(tol, max_dev - 2 * qerr), 0.0) if max_dev > 0 else 0.0
    return tol, q, qerr


class _Guard:
    """Simplify every arc, then re-simplify (finer) the arcs that break something, and measure.

    Breaks: rings left with fewer than 3 distinct points, arcs crossing another arc, features
    made invalid (only failures the input does not have count), and a measured deviation over
    the bound.
    """

    def __init__(self, topo: _Topology, q: dict, tol: float, qerr: float, limit: np.ndarray):
        self.topo, self.qerr, self.tol = topo, qerr, tol
        self.state = _Arcs(topo, q)
        self.limit = limit  # per arc: the deviation allowed (absolute and relative bounds)
        self.arc_tol = np.clip(np.minimum(tol, limit - 2 * qerr), 0.0, None)
        self.arc_tol0 = self.arc_tol.copy()
        self.ref_arc = np.where(topo.ref < 0, ~topo.ref, topo.ref)
        self.ref_ring = np.repeat(np.arange(topo.n_rings), np.diff(topo.ref_off))
        self.valid = np.ones(topo.n_features, bool)
        self.valid_in: dict[int, bool] = {}
        self.collapsed = np.zeros(topo.n_rings, bool)
        self.feat_dev = np.zeros(topo.n_features)
        self.out: tuple = (np.zeros(0, np.int64), np.zeros(1, np.int64))
        self.lines = np.full(topo.n_arcs, None, dtype=object)

    def _touch(self, arcs: np.ndarray) -> np.ndarray:
        """Features whose rings use any of ``arcs``."""
        touched = np.zeros(self.topo.n_arcs, bool)
        touched[arcs] = True
        return np.unique(self.topo.ring_feature[self.ref_ring[touched[self.ref_arc]]])

    def _check_validity(self, check: np.ndarray, points: np.ndarray, off: np.ndarray) -> None:
        topo = self.topo
        polys = _build_polygons(topo, check, points, off)
        self.valid[check] = shapely.is_valid(polys) | shapely.is_missing(polys)
        bad_f = np.flatnonzero(~self.valid)
        if len(bad_f):  # only failures the input does not have count
            need = [f for f in bad_f.tolist() if f not in self.valid_in]
            if need:
                orig = _build_polygons(topo, np.array(need, np.int64), self.state.pts, topo.arc_off)
                for f, g in zip(need, orig):
                    self.valid_in[f] = g is None or bool(g.is_valid)
            self.valid[[f for f in bad_f.tolist() if not self.valid_in[f]]] = True

    def _round(self, changed: np.ndarray, check: np.ndarray, first: bool) -> np.ndarray:
        """One round: simplify ``changed``, check; return the arcs to simplify again (empty: done)."""
        st, topo = self.state, self.topo
        st.simplify(changed, self.arc_tol[changed])
        st.project()
        kept, off = st.output()
        self.out = (kept, off)
        k_len = np.diff(off)[self.ref_arc] - 1
        self.collapsed = np.bincount(self.ref_ring, weights=k_len, minlength=topo.n_rings) < 3
        self._check_validity(check, st.dec[kept], off)
        # Only the arcs simplified again have new lines: the others are kept from the round before.
        if first:
            self.lines = _arc_lines(st.dec[kept], off, np.arange(topo.n_arcs))
        else:
            self.lines[changed] = _arc_lines(st.dec[kept], off, changed)
        crossing = _crossing_arcs(self.lines, None if first else changed)
        crossing = crossing[self.arc_tol[crossing] > 0]
        if not (self.collapsed.any() or not self.valid.all() or len(crossing)):
            return np.zeros(0, np.int64)
        bad = np.unique(np.concatenate([
            self.ref_arc[self.collapsed[self.ref_ring]], crossing,
            _offending_arcs(topo, st.dec[kept], off, np.flatnonzero(~self.valid), self.ref_arc, self.ref_ring)]))
        return bad[self.arc_tol[bad] > 0]

    def run(self, refine_rounds: int) -> None:
        changed = np.arange(self.topo.n_arcs)
        check = np.arange(self.topo.n_features)
        for _attempt in range(6):
            for rnd in range(refine_rounds + 1):
                bad = self._round(changed, check, rnd == 0)
                if not len(bad) or rnd == refine_rounds:
                    break
                new = self.arc_tol[bad] / 4
                self.arc_tol[bad] = np.where(new < 2 * self.qerr, 0.0, new)
                changed, check = bad, self._touch(bad)
            arc_dev = self.state.deviation()
            self.feat_dev = _feature_max(self.topo, arc_dev)
            # A bound failed (it should not): simplify the offending arcs less and redo. Where
            # rounding alone exceeds a bound there is nothing left to give.
            over = np.flatnonzero((arc_dev > self.limit) & (self.arc_tol > 0))
            if not len(over):
                break
            self.arc_tol[over] = np.where(self.arc_tol[over] / 2 < 2 * self.qerr, 0.0, self.arc_tol[over] / 2)
            changed, check = over, self._touch(over)


def _delta_encode(topo: _Topology, ints: np.ndarray, off: np.ndarray) -> tuple[list, list]:
    """Arcs as ``[x0, y0, dx1, dy1, ...]`` and, per feature, polygons of rings of arc refs."""
    d = ints.copy()
    d[1:] -= ints[:-1]
    starts = off[:-1]
    d[starts] = ints[starts]
    flat = d.ravel().tolist()
    arcs = [flat[2 * a:2 * b] for a, b in zip(off[:-1].tolist(), off[1:].tolist())]
    refs = topo.ref.tolist()
    roff = topo.ref_off.tolist()
    out: list[list] = [[] for _ in range(topo.n_features)]
    last_part, poly = -1, None
    for r, p in enumerate(topo.ring_part.tolist()):
        if p != last_part:
            poly = []
            out[int(topo.part_feature[p])].append(poly)
            last_part = p
        poly.append(refs[roff[r]:roff[r + 1]])
    return arcs, out


def encode_coverage(geoms, *, tolerance_m: float | None = None, max_deviation_m: float | None = None,
                    quantisation: dict | None = None, snap_m: float = SNAP_M, repair: bool = True,
                    refine_rounds: int = 4, relative: float | None = None) -> Encoded:
    """Encode a polygon coverage as shared, simplified, quantised arcs, and measure the result.

    Parameters
    ----------
    geoms : GeoSeries, GeoDataFrame or sequence of shapely geometries
        A GeoSeries/GeoDataFrame in any CRS (converted to EPSG:27700), or
        plain geometries in longitude/latitude (EPSG:4326). Polygons and
        multipolygons; other geometry types are ignored.
    tolerance_m : float, optional
        Douglas-Peucker tolerance, metres. Default: from the extent,
        :func:`auto_tolerance` (``diagonal / 6000``). Always capped so that
        tolerance + rounding stays within ``max_deviation_m``.
    max_deviation_m : float, optional
        Bound on the measured per-feature deviation (default 100 m). ``0``
        keeps every vertex (only quantisation moves them).
    quantisation : dict, optional
        ``{"x0", "y0", "s"}`` to use, e.g. shared with other layers. Default:
        :func:`quantiser_for` the extent and tolerance.
    snap_m : float
        Vertices on the same ``snap_m`` grid (metres) are one vertex (1 mm).
    repair : bool
        Repair invalid input with ``shapely.make_valid`` (costs a validity
        check of every feature; pass False for wards from
        :func:`gangmap.read_wards`, which are repaired already).
    refine_rounds : int
        Rounds of re-simplifying, at a quarter of the tolerance each time,
        the arcs that cross another arc, belong to a collapsed ring or make
        a feature invalid (0 turns the guard off).
    relative : float, optional
        Bound each feature's deviation by this share of its size (the square
        root of its area) as well: an arc is simplified with at most
        ``relative * size - 2 * quantum`` for the smaller of the two areas it
        separates, so that a small town-centre area is drawn as faithfully,
        relative to its size, as a large rural one. (Below twice the
        rounding error a bound cannot hold: such tiny areas are only rounded.)
        The measured relative deviation is in ``relative_max``,
        ``relative_p99`` and ``relative_dev``.

    Returns
    -------
    Encoded

    Notes
    -----
    The deviation is measured on the decoded output: for every input vertex
    the distance to the decoded chord that replaced it, and for every chord
    the rounding of its ends; their maximum over a feature's arcs is an upper
    bound of its Hausdorff distance (shapely's discrete Hausdorff distance is
    never larger; the tests check this). Where an arc's deviation exceeds its
    bound (``max_deviation_m``, or the relative bound of an area it borders)
    its tolerance is reduced and it is simplified again.
    """
    t0 = time.perf_counter()
    sec: dict[str, float] = {}
    max_dev = MAX_DEVIATION_M if max_deviation_m is None else float(max_deviation_m)
    if relative is not None and not (0 < float(relative) < 1):
        raise GangmapError(f"encode_coverage: relative={relative!r} must be a share of an area's size, "
                           "between 0 and 1 (e.g. 0.05).")
    work, n_bad_in = _polygonal(_to_work(geoms), repair)
    sec["prepare"] = time.perf_counter() - t0
    t = time.perf_counter()
    topo = _build_topology(work, snap_m)
    sec["topology"] = time.perf_counter() - t
    t = time.perf_counter()
    size = np.sqrt(shapely.area(work))
    arc_size = _arc_min(topo, size)
    finest = None if relative is None or not len(arc_size) else float(relative) * float(np.quantile(arc_size, 0.01))
    tol, q, qerr = _grid(topo, tolerance_m, max_dev, quantisation, finest)
    limit = np.full(topo.n_arcs, max_dev)
    if relative is not None:
        limit = np.minimum(limit, np.maximum(float(relative) * arc_size, 2 * qerr))
    guard = _Guard(topo, q, tol if max_dev > 0 else 0.0, qerr, limit)
    guard.run(refine_rounds)
    sec["simplify+measure"] = time.perf_counter() - t
    feat_dev = guard.feat_dev
    if len(feat_dev) and float(feat_dev.max()) > max_dev and max_dev > 0:
        warnings.warn(f"encode_coverage: measured deviation {float(feat_dev.max()):.1f} m exceeds "
                      f"max_deviation_m={max_dev:g} because the quantisation step ({qerr:.1f} m per "
                      "point) is too coarse for it; pass a finer quantisation.", stacklevel=2)
    t = time.perf_counter()
    kept, off = guard.out
    arcs, out = _delta_encode(topo, guard.state.ints[kept], off)
    sec["encode"] = time.perf_counter() - t
    sec["total"] = time.perf_counter() - t0
    return _encoded(topo, guard, arcs, out, size, relative=relative, q=q, qerr=qerr, tol=tol, seconds=sec,
                    n_bad_in=n_bad_in if repair else None)


def _arc_min(topo: _Topology, feature_values: np.ndarray) -> np.ndarray:
    """Per arc, the minimum of ``feature_values`` over the features whose rings use it."""
    out = np.full(topo.n_arcs, np.inf)
    if len(topo.ref):
        k = np.where(topo.ref < 0, ~topo.ref, topo.ref)
        ring = np.repeat(np.arange(topo.n_rings), np.diff(topo.ref_off))
        np.minimum.at(out, k, feature_values[topo.ring_feature[ring]])
    return out


def _encoded(topo: _Topology, guard: _Guard, arcs: list, out: list, size: np.ndarray, *, relative, q, qerr, tol,
             seconds, n_bad_in) -> Encoded:
    """The :class:`Encoded` result with its measured deviation (absolute and relative to size)."""
    kept, off = guard.out
    feat_dev = guard.feat_dev
    ends = np.column_stack([topo.arc_vids[topo.arc_off[:-1]], topo.arc_vids[topo.arc_off[1:] - 1]]) \
        if topo.n_arcs else np.zeros((0, 2), np.int64)
    has = np.zeros(topo.n_features, bool)
    has[topo.ring_feature] = True
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(size > 0, feat_dev / size, 0.0)
    hv, rv = feat_dev[has], rel[has]

    def top(v, pct=None):
        return (float(v.max()) if pct is None else float(np.percentile(v, pct))) if len(v) else 0.0

    return Encoded(
        q=q, arcs=arcs, geoms=out, hausdorff_max_m=top(hv), hausdorff_p99_m=top(hv, 99),
        n_arcs=topo.n_arcs, n_points_before=topo.n_points_before, n_points_after=int(len(kept)),
        tolerance_m=float(tol), n_invalid=int((~guard.valid).sum()),
        n_invalid_input=n_bad_in if n_bad_in is not None else sum(not v for v in guard.valid_in.values()),
        n_arcs_refined=int((guard.arc_tol < guard.arc_tol0).sum()), n_collapsed_rings=int(guard.collapsed.sum()),
        quantum_m=qerr, seconds=seconds, hausdorff_m=feat_dev, relative=relative, relative_max=top(rv),
        relative_p99=top(rv, 99), relative_dev=rel, size_m=size,
        _ref=topo.ref, _ref_off=topo.ref_off, _ring_feature=topo.ring_feature, _arc_ends=ends,
        _arc_xy=guard.state.dec[kept], _arc_off=off,
    )


# --------------------------------------------------------------------------- outlines from arcs
def group_outlines(enc: Encoded, groups) -> tuple[list, list]:
    """Dissolved outlines of groups of features (e.g. districts) as rings of the same arcs.

    An arc used twice within a group lies inside it and is dropped; the others
    are chained into rings (counter-clockwise exteriors, clockwise holes, each
    hole put in the exterior that covers it). The outlines add no points to
    the file and coincide exactly with the ward borders.

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
    gid = {k: i for i, k in enumerate(keys)}
    fgroup = np.array([gid[g] for g in groups], np.int64)
    ref = enc._ref
    ring = np.repeat(np.arange(len(enc._ref_off) - 1), np.diff(enc._ref_off))
    rgroup = fgroup[enc._ring_feature[ring]] if len(ring) else np.zeros(0, np.int64)
    arc = np.where(ref < 0, ~ref, ref)
    n_arcs = len(enc._arc_off) - 1
    key = rgroup * (n_arcs + 1) + arc
    uk, cnt = np.unique(key, return_counts=True)
    once = np.isin(key, uk[cnt == 1])
    ends = enc._arc_ends
    xy, off = enc._arc_xy, enc._arc_off
    out: list[list] = [[] for _ in keys]
    for g in np.unique(rgroup[once]).tolist():
        rlist = ref[once & (rgroup == g)].tolist()
        head = {}
        tail = {}
        for r in rlist:
            a, b = (ends[r] if r >= 0 else ends[~r][::-1]).tolist()
            head[r], tail[r] = a, b
        by_start: dict[int, list[int]] = {}
        for r in rlist:
            by_start.setdefault(head[r], []).append(r)
        used: set[int] = set()
        rings = []
        for r0 in rlist:
            if r0 in used:
                continue
            chain, b = [r0], tail[r0]
            used.add(r0)
            while b != head[r0]:
                nxt = next((c for c in by_start.get(b, ()) if c not in used), None)
                if nxt is None:
                    break
                used.add(nxt)
                chain.append(nxt)
                b = tail[nxt]
            rings.append(chain)
        shells, holes = [], []
        for chain in rings:
            pts = []
            for c in chain:
                k = c if c >= 0 else ~c
                seg = xy[off[k]:off[k + 1]]
                pts.append((seg if c >= 0 else seg[::-1])[1 if pts else 0:])
            p = np.concatenate(pts)
            area = 0.5 * float(np.sum(p[:-1, 0] * p[1:, 1] - p[1:, 0] * p[:-1, 1]))
            (shells if area > 0 else holes).append((chain, p))
        polys = [[chain] for chain, _ in shells]
        shapes = [shapely.Polygon(p) if len(p) >= 4 else None for _, p in shells]
        for chain, p in holes:
            target = 0
            if len(shells) > 1:
                pt = shapely.Point(p[: max(len(p) - 1, 1)].mean(axis=0))
                dist = [np.inf if s is None else (0.0 if s.covers(pt) else s.distance(pt)) for s in shapes]
                target = int(np.argmin(dist))
            if polys:
                polys[target].append(chain)
            else:
                polys.append([chain])
        out[g] = polys
    return keys, out


# --------------------------------------------------------------------------- decode (Python)
def decode_arcs(q: dict, arcs) -> list:
    """Decode every arc like ``gangmap.js``: arrays of ``(lon, lat)``.

    ``arcs``: lists (:attr:`Encoded.arcs`) or the packed text of a map's data.
    """
    from .packing import read_arcs

    arcs = read_arcs(arcs)
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
