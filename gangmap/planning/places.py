"""Which area a point (a school) falls in.

Why here: the hub plan places schools that have no area code (or whose code
is of another geography, such as a ward code on an LSOA table) on the area
table by their Easting/Northing. The join helper is making this public as
``gangmap.joining.locate_points``; until then this small vectorised
point-in-polygon keeps planning free of the joining package's private names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..geography import WORK_CRS
from ..table import AreaTable


def locate_points(x, y, areas: AreaTable) -> pd.Series:
    """Area code of each point (x, y in British National Grid metres); NA outside every area.

    A point on a shared edge goes to the first area in table order.
    """
    import geopandas as gpd

    frame = areas.frame
    if frame.crs is not None and str(frame.crs) != WORK_CRS:
        frame = frame.to_crs(WORK_CRS)
    code = areas.geography.code
    x = np.asarray(x, dtype=float)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, np.asarray(y, dtype=float)), crs=frame.crs,
                           index=np.arange(len(x)))
    polys = gpd.GeoDataFrame({code: frame[code].astype(str).to_numpy()}, geometry=frame.geometry.to_numpy(),
                             crs=frame.crs)
    hit = gpd.sjoin(pts, polys, how="left", predicate="intersects")
    hit = hit.sort_values("index_right", kind="stable")
    hit = hit[~hit.index.duplicated(keep="first")].sort_index()
    return pd.Series(hit[code].to_numpy(), dtype="string")
