"""Spatial weights between areas, and a typed record of how they were built.

Why a :class:`Weights` class? The first release stuck ``gangmap_islands``,
``gangmap_islands_policy`` and ``gangmap_kind`` onto libpysal ``W`` objects,
which a copy or a transform silently drops, so a hotspot measure could not
tell an island joined to its nearest neighbour from an ordinary area. Here
the libpysal ``W`` travels inside a frozen dataclass that says what it is.
Every measure that takes weights accepts a :class:`Weights` or a plain ``W``
(read as user weights: its islands are the ids that have no neighbour).

The helpers :func:`positions` and :func:`subgraph` line weights up with the
rows of a table (by area code, else by index) and copy them onto a subset of
rows, never touching the caller's ``W`` (esda sets ``w.transform`` in place).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import GangmapError, InputError
from .checks import Subject, check_choice, some, subject

__all__ = ["Weights", "weights", "as_weights", "positions", "subgraph", "KINDS", "ISLAND_POLICIES"]

KINDS = ("queen", "rook", "knn", "distance")
ISLAND_POLICIES = ("nearest", "exclude")


@dataclass(frozen=True)
class Weights:
    """Spatial weights and how they were made.

    Attributes
    ----------
    w : libpysal.weights.W
        The weights; ``id_order`` follows the rows of the table they were
        built from.
    kind : str
        ``"queen"``, ``"rook"``, ``"knn"``, ``"distance"``, or ``"user"`` for
        weights built elsewhere.
    islands : tuple of str
        Areas that had no neighbour before the island policy was applied.
        Hotspot measures label them ``"island"`` unless ``test_islands=True``.
    islands_policy : {"nearest", "exclude"}
        ``"nearest"``: each island was joined (both ways) to the area with the
        nearest centroid; ``"exclude"``: islands were left without neighbours.

    The common ``W`` attributes (``neighbors``, ``id_order``, ``n``,
    ``cardinalities``, ``weights``) are readable here directly.
    """

    w: Any
    kind: str = "user"
    islands: tuple = ()
    islands_policy: str = "exclude"

    def __post_init__(self) -> None:
        object.__setattr__(self, "islands", tuple(self.islands))

    @property
    def neighbors(self) -> dict:
        return self.w.neighbors

    @property
    def weights(self) -> dict:
        return self.w.weights

    @property
    def id_order(self) -> list:
        return list(self.w.id_order)

    @property
    def n(self) -> int:
        return int(self.w.n)

    @property
    def cardinalities(self) -> dict:
        return self.w.cardinalities

    @property
    def unconnected(self) -> tuple:
        """Ids with no neighbour in ``w`` now (islands left alone by ``"exclude"``)."""
        return tuple(c for c in self.w.id_order if len(self.w.neighbors[c]) == 0)

    def __repr__(self) -> str:
        return (f"Weights({self.kind}, {self.n} areas, {len(self.islands)} island(s), "
                f"islands_policy={self.islands_policy!r})")


def as_weights(w: Any) -> Weights:
    """``w`` as :class:`Weights` (a plain libpysal ``W`` is read as user weights)."""
    if isinstance(w, Weights):
        return w
    if not hasattr(w, "neighbors") or not hasattr(w, "id_order"):
        raise GangmapError(f"spatial weights must be gangmap.measures.Weights or a libpysal W, not "
                           f"{type(w).__name__}; build them with measures.weights(table).")
    unconnected = tuple(c for c in w.id_order if len(w.neighbors[c]) == 0)
    return Weights(w, "user", unconnected, "exclude")


def _check_geometry(s: Subject, kind: str, ids: str) -> list:
    if not hasattr(s.frame, "geometry") or "geometry" not in s.frame.columns:
        raise InputError("measures.weights: the table has no geometry. Pass the joined table from "
                         "gangmap.join() (it keeps the boundaries) or the areas from gangmap.read_areas().")
    codes = s.frame[ids].tolist()
    dup = sorted({str(c) for c in s.frame.loc[s.frame[ids].duplicated(keep=False), ids]})
    if dup:
        raise InputError(f"measures.weights: column {ids!r} has duplicated {s.geography.label} codes "
                         f"{some(dup)}. Weights need one row per {s.geography.label}: dissolve or drop the "
                         "duplicates.")
    if len(s.frame) < 2:
        raise InputError(f"measures.weights: spatial weights need at least 2 {s.geography.plural}.")
    empty = [c for c, geom in zip(codes, s.frame.geometry) if geom is None or geom.is_empty]
    if empty:
        raise InputError(f"measures.weights: {s.areas(empty)} have no geometry. Drop them or fix the boundary "
                         "file.")
    crs = getattr(s.frame, "crs", None)
    if kind in ("knn", "distance") and crs is not None and crs.is_geographic:
        raise InputError(f"measures.weights: kind={kind!r} needs distances in metres but the table is in "
                         f"{crs.to_string()}. Reproject first: df.to_crs(27700).")
    return codes


def _contiguity(frame: pd.DataFrame, codes: list, kind: str, k: int, threshold: float | None, plural: str):
    import libpysal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "queen":
            return libpysal.weights.Queen.from_dataframe(frame, ids=codes, silence_warnings=True)
        if kind == "rook":
            return libpysal.weights.Rook.from_dataframe(frame, ids=codes, silence_warnings=True)
        if kind == "knn":
            if int(k) < 1 or int(k) >= len(frame):
                raise GangmapError(f"measures.weights: k={k!r} must be between 1 and {len(frame) - 1} "
                                   f"(the number of {plural} minus one).")
            return libpysal.weights.KNN.from_dataframe(frame, k=int(k), ids=codes, silence_warnings=True)
        if threshold is None or not float(threshold) > 0:
            raise GangmapError("measures.weights: kind='distance' needs threshold=<metres>, e.g. threshold=2000.")
        return libpysal.weights.DistanceBand.from_dataframe(frame, threshold=float(threshold), binary=True,
                                                            ids=codes, silence_warnings=True)


def _join_islands(frame: pd.DataFrame, codes: list, neighbors: dict, islands: list) -> None:
    """Link each island, both ways, to the area with the nearest centroid (in place)."""
    from scipy.spatial import cKDTree

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # centroid in a geographic CRS: nearest is still fine
        cent = frame.geometry.centroid
    xy = np.column_stack([cent.x.to_numpy(), cent.y.to_numpy()])
    tree = cKDTree(xy)
    where = {c: i for i, c in enumerate(codes)}
    for c in islands:
        i = where[c]
        _, idx = tree.query(xy[i], k=min(3, len(codes)))
        other = codes[next(int(t) for t in np.atleast_1d(idx) if int(t) != i)]
        if other not in neighbors[c]:
            neighbors[c].append(other)
        if c not in neighbors[other]:
            neighbors[other].append(c)


def weights(table: Any, kind: str = "queen", *, k: int = 5, threshold: float | None = None,
            islands: str = "nearest", ids: str | None = None) -> Weights:
    """Spatial weights between areas (binary), as a :class:`Weights`.

    Parameters
    ----------
    table : AreaTable or GeoDataFrame
        One row per area, projected CRS (EPSG:27700, metres) for ``knn`` and
        ``distance``.
    kind : {"queen", "rook", "knn", "distance"}, default "queen"
        ``queen``: areas sharing a boundary point; ``rook``: sharing a boundary
        edge; ``knn``: each area's ``k`` nearest areas by centroid (not
        symmetric); ``distance``: areas whose centroids are within
        ``threshold`` metres.
    k : int, default 5
        Number of neighbours for ``kind="knn"``.
    threshold : float, optional
        Distance in metres for ``kind="distance"`` (required there).
    islands : {"nearest", "exclude"}, default "nearest"
        Areas with no neighbour (e.g. an offshore ward). ``"nearest"`` links
        each one, both ways, to the area with the nearest centroid;
        ``"exclude"`` leaves them without neighbours, so the hotspot measures
        leave them out and label them ``"island"``.
    ids : str, optional
        Column holding the ids (default: the geography's code column).

    Returns
    -------
    Weights
        ``w.id_order`` follows the rows of ``table``; ``islands`` lists the
        areas that had no neighbour.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from gangmap import measures
    >>> g = gpd.GeoDataFrame({"ward_code": ["A", "B", "C"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(10, 0, 11, 1)], crs=27700)
    >>> w = measures.weights(g)
    >>> w.islands, dict(w.neighbors)
    (('C',), {'A': ['B'], 'B': ['A', 'C'], 'C': ['B']})
    >>> measures.weights(g, islands="exclude").neighbors["C"]
    []
    """
    from libpysal.weights import W

    s = subject(table, "weights")
    ids = ids or s.geography.code
    s.require([ids])
    kind = check_choice(str(kind).lower(), KINDS, "kind", "weights")
    check_choice(islands, ISLAND_POLICIES, "islands", "weights")
    codes = _check_geometry(s, kind, ids)
    w0 = _contiguity(s.frame, codes, kind, k, threshold, s.geography.plural)
    neighbors = {c: [j for j in w0.neighbors[c] if j != c] for c in codes}
    island_codes = [c for c in codes if not neighbors[c]]
    if island_codes and islands == "nearest":
        _join_islands(s.frame, codes, neighbors, island_codes)
    w = W(neighbors, {c: [1.0] * len(neighbors[c]) for c in codes}, id_order=codes, silence_warnings=True)
    return Weights(w, kind, tuple(island_codes), islands)


def positions(w: Any, s: Subject) -> dict:
    """Map each id of ``w`` to a row position of the table (by area code, else by index)."""
    w = as_weights(w).w
    ids = list(w.id_order)
    for candidate in (s.ids, s.frame.index.tolist()):
        if len(candidate) == len(ids) and set(candidate) == set(ids) and len(set(candidate)) == len(candidate):
            return {c: i for i, c in enumerate(candidate)}
    idset = set(ids)
    missing = [c for c in s.ids if c not in idset]
    extra = [c for c in ids if c not in set(s.ids)]
    raise InputError(f"measures.{s.func}: the weights do not match the {s.geography.plural} of the table "
                     f"({w.n} ids in the weights, {len(s.frame)} rows). {s.geography.title}s without weights: "
                     f"{some(missing) or 'none'}; weights ids not in the table: {some(extra) or 'none'}. "
                     "Build the weights from this table: measures.weights(table).")


def subgraph(w: Any, s: Subject, keep: Sequence[int]) -> tuple[Any, list]:
    """A fresh ``W`` (original weights, no transform) over the rows ``keep``, in that order,
    and its ids. The caller's weights are never touched."""
    from libpysal.weights import W

    w = as_weights(w).w
    pos = positions(w, s)
    by_pos = {p: c for c, p in pos.items()}
    order = [by_pos[p] for p in keep]
    kept = set(order)
    original = w.transformations.get("O", w.weights) if hasattr(w, "transformations") else w.weights
    neighbors, wts = {}, {}
    for c in order:
        pairs = [(j, float(v)) for j, v in zip(w.neighbors[c], original[c]) if j in kept and j != c]
        neighbors[c] = [j for j, _ in pairs]
        wts[c] = [v for _, v in pairs]
    return W(neighbors, wts, id_order=order, silence_warnings=True), order
