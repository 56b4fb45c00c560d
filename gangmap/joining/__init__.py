"""Joining: put every input row on an area of any geography, and account for each one.

Modules by concern:

* :mod:`.joins` -- :func:`join` and :func:`build_cube` (read and place every input once);
* :mod:`.streaming` -- police.uk files read, placed and counted chunk by chunk in bounded memory,
  in process or on dask (``engine="dask"``; how to run it on a cluster is in its docstring);
* :mod:`.tally` -- the mergeable, bounded running count of one input that the cube is made from;
* :mod:`.cube` -- the area × period × category aggregation behind tables, reports and series;
* :mod:`.place` -- placing rows by code, name, point, LSOA or school (:func:`place`);
* :mod:`.match` -- code and name matching, category/period filters;
* :mod:`.locate` -- point location with one spatial index per set of areas (:func:`locate_points`);
* :mod:`.report` -- :class:`JoinReport`, :class:`SourceReport`, :class:`NotPlacedError`;
* :mod:`.hints` -- what is wrong when most coordinates fall outside every area;
* :mod:`.lsoa`, :mod:`.interpolate`, :mod:`.vintage` (gathered in :mod:`.bridge`) -- between geographies;
* :mod:`.agreement` -- the LSOA path against the point path.
"""

from __future__ import annotations

from .agreement import PathAgreement, compare_paths, path_agreement
from .areas import as_areas
from .bridge import (
    GSS_RE,
    LAST_2011,
    BridgedCounts,
    BridgeReport,
    BridgeWarning,
    Interpolation,
    VintageGuess,
    apply_bridge,
    bridge_lsoas,
    detect_vintage,
    interpolate_counts,
    lsoa_to_ward,
)
from .joins import AreaCube, build_cube, join, period_buckets
from .locate import PointIndex, locate_points, point_index
from .match import filter_rows, normalise_name
from .place import Bridge, make_bridge, place, place_rows
from .report import JoinReport, NotPlacedError, SourceReport
from .streaming import ENGINES, stream_kind
from .tally import Tally

__all__ = [
    "join", "build_cube", "AreaCube", "period_buckets", "JoinReport", "SourceReport", "NotPlacedError", "place",
    "locate_points",
    "point_index", "PointIndex", "filter_rows", "normalise_name", "as_areas", "make_bridge", "Bridge",
    "bridge_lsoas", "lsoa_to_ward", "apply_bridge", "BridgedCounts", "BridgeReport", "BridgeWarning",
    "interpolate_counts", "Interpolation", "detect_vintage", "VintageGuess", "GSS_RE", "LAST_2011",
    "PathAgreement", "compare_paths", "path_agreement", "Tally", "stream_kind", "place_rows", "ENGINES",
]
