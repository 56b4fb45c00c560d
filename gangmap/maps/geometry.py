"""Geometry for the viewer: the areas as shared arcs, overlays as quantised rings, label points.

The areas of a map are encoded once by :mod:`gangmap.maps.topology` (shared,
simplified, quantised arcs, measured deviation). Overlays (campaign areas,
catchments) are delta-encoded rings on the same quantisation grid ``q``, so
one decoder in ``gangmap.js`` serves every layer. A layer serialised without
a map (``layer.to_json()`` alone) carries its own ``q``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely

from ..disclosure import SafeTable, require_safe
from ..errors import GangmapError
from ..geography import MAP_CRS
from .naming import geography_of
from .topology import Encoded, encode_coverage, quantiser_for

__all__ = ["ATTRIBUTION_ONS", "encode", "encode_geometries", "own_quantiser", "label_points", "attribution_for",
           "MAX_LABELLED_AREAS", "RELATIVE_DEVIATION"]

ATTRIBUTION_ONS = ("Contains OS data © Crown copyright and database right; "
                   "contains ONS data, Open Government Licence v3.0")
#: Above this many areas the map carries no label points (names would be unreadable anyway).
MAX_LABELLED_AREAS = 5000
#: Area outlines may move by at most this share of the area's size (the square root of its area),
#: besides the absolute bound (see :func:`gangmap.maps.topology.encode_coverage`).
RELATIVE_DEVIATION = 0.05


def _encode_ring(coords: np.ndarray, q) -> list[int]:
    xy = np.rint((coords - [q["x0"], q["y0"]]) / q["s"]).astype(np.int64)
    keep = np.r_[True, np.any(np.diff(xy, axis=0) != 0, axis=1)]  # drop repeats after rounding
    xy = xy[keep]
    d = np.diff(xy, axis=0, prepend=[[0, 0]])
    return d.ravel().tolist()


def encode_geometries(geoms, q) -> list:
    """Encode polygons (longitude/latitude) as lists of polygons of rings of delta-encoded integers."""
    out = []
    for g in geoms:
        polys = []
        for part in shapely.get_parts(g):
            if part.geom_type != "Polygon" or part.is_empty:
                continue
            rings = [part.exterior, *part.interiors]
            polys.append([_encode_ring(np.asarray(r.coords)[:-1, :2], q) for r in rings])
        out.append(polys)
    return out


def own_quantiser(geoms_4326) -> dict:
    """A quantisation grid (1 m steps) for polygons encoded without a map."""
    bounds = shapely.total_bounds(np.asarray(geoms_4326, dtype=object))
    if not np.all(np.isfinite(bounds)):
        bounds = (0.0, 0.0, 0.0, 0.0)
    return quantiser_for(bounds, 0.0)


def encode(safe: SafeTable, **options) -> Encoded:
    """Encode the areas of ``safe`` as shared, simplified, quantised arcs (see :mod:`gangmap.maps.topology`).

    The deviation from the true boundaries is measured, not assumed:
    ``encode(safe).hausdorff_max_m`` (metres) and ``.relative_max`` (share of
    each area's size). ``options`` go to
    :func:`~gangmap.maps.topology.encode_coverage`; by default each area may
    move by at most :data:`RELATIVE_DEVIATION` of its size as well as by the
    absolute bound, so small town areas keep their shape.
    """
    options.setdefault("relative", RELATIVE_DEVIATION)
    require_safe(safe, "a map")
    frame = safe.frame
    if getattr(frame, "geometry", None) is None or not hasattr(frame, "crs"):
        geo = geography_of(safe)
        raise GangmapError(f"the SafeTable has no geometry; make it from the joined {geo.label} table "
                           "(with its boundaries), not a plain DataFrame.")
    return encode_coverage(frame.geometry, repair=False, **options)


def label_points(safe: SafeTable, q: dict) -> list | None:
    """A point inside each area (quantised like the arcs), where its name label goes; None for big maps."""
    frame = safe.frame
    if len(frame) > MAX_LABELLED_AREAS:
        return None
    pts = shapely.point_on_surface(np.asarray(frame.geometry.values, dtype=object))
    lonlat = shapely.get_coordinates(
        shapely.transform(pts, _to_map(frame.crs)), include_z=False) if len(pts) else np.zeros((0, 2))
    ok = ~(shapely.is_empty(pts) | shapely.is_missing(pts))
    out: list = []
    j = 0
    for good in ok:
        if good:
            x, y = lonlat[j]
            out.append([int(round((x - q["x0"]) / q["s"])), int(round((y - q["y0"]) / q["s"]))])
            j += 1
        else:
            out.append(None)
    return out


@lru_cache(maxsize=8)
def _transformer(crs):
    from pyproj import Transformer

    return Transformer.from_crs(crs, MAP_CRS, always_xy=True)


def _to_map(crs):
    tr = _transformer(crs)

    def fn(xy):
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return fn


def attribution_for(safe: SafeTable) -> str:
    """The data attribution for a map: the fictional-demo note for demo areas, else ONS/OS."""
    from ..demo import ATTRIBUTION, is_fictional

    code = geography_of(safe).code
    codes = safe.frame[code] if code in safe.frame.columns else []
    return ATTRIBUTION if is_fictional(codes) else ATTRIBUTION_ONS
