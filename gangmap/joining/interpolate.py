"""Areal interpolation: move counts from one set of polygons to another by overlapping area.

Boundaries change: a partner sends counts by 2013 wards while the map uses
2024 wards, or counts by MSOA must be shown on wards. Each source polygon's
counts are shared among the target polygons it overlaps, in proportion to the
overlapping area (counts assumed spread evenly over each source polygon),
with areas measured in EPSG:27700. What cannot be moved (source area that no
target covers) is reported, never silently dropped.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from ..errors import InputError, where
from .geo import overlap_pairs, to_work
from .lsoa import BridgeWarning

__all__ = ["Interpolation", "interpolate_counts"]


@dataclass
class Interpolation:
    """Counts moved between polygon layers.

    Attributes
    ----------
    frame : DataFrame
        The target code column and the moved counts (float), one row per
        target polygon in the order of the target layer.
    uncovered_share : float
        Share of the total source area not covered by any target.
    uncovered : DataFrame
        Source polygons with more than ``tolerance`` of their area uncovered:
        code and ``share_uncovered``.
    totals : dict
        ``{column: {"source": .., "target": .., "lost": ..}}``.
    """

    frame: pd.DataFrame
    uncovered_share: float
    uncovered: pd.DataFrame
    totals: dict

    def __repr__(self) -> str:
        return repr(self.frame)


def _check_layer(gdf, code: str, what: str, source) -> None:
    if code not in gdf.columns:
        raise InputError(f"{where(source)}{what} polygons have no {code!r} column; columns are: "
                         f"{', '.join(str(c) for c in gdf.columns if c != gdf.geometry.name)}. Pass "
                         f"{what}_code='COLUMN'.")
    dup = gdf[code].duplicated()
    if dup.any():
        raise InputError(f"{where(source)}duplicate {what} codes in {code!r}: {gdf.loc[dup, code].head(5).tolist()}. "
                         f"Dissolve them first, e.g. gdf.dissolve({code!r}).reset_index().")


def _values(src, cols, source_code, source) -> dict[str, np.ndarray]:
    missing = [c for c in cols if c not in src.columns]
    if missing:
        raise InputError(f"{where(source)}count column(s) {missing} not in the source polygons; columns "
                         f"are: {', '.join(str(c) for c in src.columns if c != src.geometry.name)}.")
    values = {}
    for c in cols:
        num = pd.to_numeric(src[c], errors="coerce")
        if num.isna().any():
            raise InputError(f"{where(source)}count column {c!r} has blank or non-numeric values for "
                             f"{src.loc[num.isna(), source_code].head(5).tolist()}. Fill them (0?) first.")
        values[c] = num.to_numpy(dtype="float64")
    return values


def interpolate_counts(source_gdf, target_gdf, columns, *, source_code: str = "ward_code",
                       target_code: str = "ward_code", renormalise: bool = False,
                       tolerance: float = 1e-5, source: str | None = None) -> Interpolation:
    """Move counts from one set of polygons to another by area (old wards to new wards).

    Totals are conserved wherever the source is fully covered by the target.
    Counts on source area that no target covers are lost (and reported),
    unless ``renormalise=True`` (shares are then taken of the covered area:
    use it when the gaps are slivers between differently generalised
    boundaries).

    Parameters
    ----------
    source_gdf, target_gdf : GeoDataFrame
        Polygons with a CRS (converted to EPSG:27700).
    columns : str or list of str
        Count columns of ``source_gdf`` to move.
    source_code, target_code : str
        Identifier columns (default ``ward_code``).
    renormalise : bool
        Share counts by covered area instead of whole area.
    tolerance : float
        Share of a source polygon's area that may be uncovered before it is
        listed in ``uncovered`` and a :class:`BridgeWarning` is issued.
    source : str, optional
        File name of the source polygons, for messages.

    Returns
    -------
    Interpolation

    Examples
    --------
    >>> import geopandas as gpd
    >>> src = gpd.GeoDataFrame({"ward_code": ["A"], "n": [10]}, geometry=[shapely.box(0, 0, 2, 1)],
    ...                        crs=27700)
    >>> tgt = gpd.GeoDataFrame({"ward_code": ["L", "R"]},
    ...                        geometry=[shapely.box(0, 0, 0.5, 1), shapely.box(0.5, 0, 2, 1)], crs=27700)
    >>> interpolate_counts(src, tgt, "n").frame
      ward_code    n
    0         L  2.5
    1         R  7.5
    """
    cols = [columns] if isinstance(columns, str) else list(columns)
    src = to_work(source_gdf, "source polygons", source)
    tgt = to_work(target_gdf, "target polygons")
    _check_layer(src, source_code, "source", source)
    _check_layer(tgt, target_code, "target", None)
    values = _values(src, cols, source_code, source)
    src, tgt = src.reset_index(drop=True), tgt.reset_index(drop=True)
    s_area = shapely.area(src.geometry.values)
    pairs = overlap_pairs(src, tgt)
    covered = np.minimum(np.bincount(pairs["i"], weights=pairs["area"], minlength=len(src)), s_area)
    denom = (covered if renormalise else s_area)[pairs["i"].to_numpy()]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(denom > 0, pairs["area"].to_numpy() / denom, 0.0)
        share_un = np.where(s_area > 0, 1.0 - covered / s_area, 0.0)
    out = pd.DataFrame({target_code: tgt[target_code].to_numpy()})
    totals = {}
    for c in cols:
        out[c] = np.bincount(pairs["j"], weights=values[c][pairs["i"]] * w, minlength=len(tgt))
        totals[c] = {"source": float(values[c].sum()), "target": float(out[c].sum()),
                     "lost": float(values[c].sum() - out[c].sum())}
    uncovered = pd.DataFrame({source_code: src[source_code].to_numpy(), "share_uncovered": share_un})
    uncovered = uncovered[uncovered["share_uncovered"] > tolerance].reset_index(drop=True)
    total_area = float(s_area.sum())
    result = Interpolation(out, float(1.0 - covered.sum() / total_area) if total_area else 0.0, uncovered, totals)
    _warn_lost(result, cols[0], renormalise, covered, src, source_code)
    return result


def _warn_lost(result: Interpolation, c: str, renormalise: bool, covered, src, source_code) -> None:
    t = result.totals[c]
    if len(result.uncovered) and not renormalise:
        warnings.warn(f"{result.uncovered_share:.2%} of the source area is not covered by the target "
                      f"polygons, so {t['lost']:,.1f} of {t['source']:,.0f} {c} were not "
                      f"placed ({len(result.uncovered)} source polygon(s) affected, see result.uncovered); "
                      "pass renormalise=True if the gaps are only slivers", BridgeWarning, stacklevel=3)
    elif renormalise and (covered <= 0).any():
        none = src.loc[covered <= 0, source_code].astype(str).tolist()
        warnings.warn(f"{len(none)} source polygon(s) touch no target polygon ({', '.join(none[:5])}"
                      f"{' ...' if len(none) > 5 else ''}), so {t['lost']:,.1f} of "
                      f"{t['source']:,.0f} {c} were not placed; see result.uncovered",
                      BridgeWarning, stacklevel=3)
