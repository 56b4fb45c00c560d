"""What is probably wrong when most coordinates fall outside every area.

A file whose latitude and longitude columns are swapped, whose eastings are
in the northing column, which holds degrees labelled as metres, or which comes
from another police force, puts (nearly) every row outside the areas. Without
a word, that would be a map of zeros. :func:`outside_hint` tries the usual
mistakes on the rows' own coordinates and says which one fits.
"""

from __future__ import annotations

import numpy as np

from ..geography import MAP_CRS, WORK_CRS
from ..table import AreaTable
from .locate import point_index

__all__ = ["outside_hint", "MOSTLY_OUTSIDE"]

#: Share of the located rows outside every area above which the join explains what is likely wrong.
MOSTLY_OUTSIDE = 0.5


def _inside_share(areas: AreaTable, x, y) -> float:
    if len(x) == 0:
        return 0.0
    return float((point_index(areas).positions(x, y) >= 0).mean())


def _swapped_degrees(x, y):
    """The points as they would be if the file's longitude and latitude were the other way round."""
    from pyproj import Transformer

    back = Transformer.from_crs(WORK_CRS, MAP_CRS, always_xy=True)
    lon, lat = back.transform(x, y)
    fwd = Transformer.from_crs(MAP_CRS, WORK_CRS, always_xy=True)
    ok = (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
    sx, sy = fwd.transform(np.where(ok, lat, 0.0), np.where(ok, lon, 0.0))
    return np.where(ok, sx, np.nan), np.where(ok, sy, np.nan)


def outside_hint(areas: AreaTable, x, y, share: float) -> str | None:
    """A one-line diagnosis when more than :data:`MOSTLY_OUTSIDE` of the points are outside, else None.

    ``share`` is the share of all rows with coordinates that fall outside
    every area; ``x``/``y`` are the first points with coordinates (EPSG:27700,
    as the intake converted them; :data:`~gangmap.joining.tally.HINT_SAMPLE`
    of them, in row order), on which the usual mistakes are tried. A sample
    of the first points keeps the diagnosis bounded for any number of rows,
    and the streaming and in-memory joins give the same one.
    """
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() == 0 or share <= MOSTLY_OUTSIDE:
        return None
    x, y = x[ok], y[ok]
    geo = areas.geography
    share_text = f"{share:.0%} of the rows with coordinates fall outside every {geo.label}"
    if _inside_share(areas, *_swapped_degrees(x, y)) > MOSTLY_OUTSIDE:
        return f"{share_text}; with latitude and longitude swapped most fall inside: the two columns are probably " \
               "the wrong way round (rename them, or pass lat=/lon=)"
    if _inside_share(areas, y, x) > MOSTLY_OUTSIDE:
        return f"{share_text}; with easting and northing swapped most fall inside: the two columns are probably " \
               "the wrong way round (rename them, or pass easting=/northing=)"
    if np.nanmax(np.abs(x)) <= 180 and np.nanmax(np.abs(y)) <= 90:
        return f"{share_text}; the coordinates look like degrees (longitude/latitude) given as eastings/northings " \
               "(metres): name the columns latitude/longitude, or pass lat=/lon="
    return _elsewhere(areas, x, y, share_text)


def _elsewhere(areas: AreaTable, x, y, share: str) -> str:
    geo = areas.geography
    minx, miny, maxx, maxy = areas.frame.total_bounds
    mx, my = float(np.median(x)), float(np.median(y))
    dx = max(minx - mx, 0.0, mx - maxx)
    dy = max(miny - my, 0.0, my - maxy)
    km = (dx * dx + dy * dy) ** 0.5 / 1000
    if not (-100_000 <= mx <= 800_000 and -100_000 <= my <= 1_300_000):
        return f"{share}, and most lie outside Great Britain: the coordinates are probably in another CRS than " \
               "declared (check the columns' units: degrees or British National Grid metres)"
    return f"{share}; most lie around easting {mx:,.0f}, northing {my:,.0f}, about {km:,.0f} km from the " \
           f"{geo.plural}: the file is probably for another area (another police force?) or the boundaries are " \
           "of another place"
