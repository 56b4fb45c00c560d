"""The streaming join: police.uk files placed chunk by chunk, in bounded memory, here or on a dask cluster.

Why? A join that holds every row grows by about 1.7 KB a row, so years of
national police.uk data do not fit on one machine. Here each street file is
read in chunks (:mod:`gangmap.io.stream`: only the five columns needed, each
distinct month, crime type and LSOA code parsed once, coordinates reprojected
on whole arrays), each chunk is placed against the areas' spatial index (built
once per set of areas, :mod:`.locate`) and added to a
:class:`~gangmap.joining.tally.Tally`, then dropped. Memory stays that of one
chunk plus the tally (areas × periods × categories, and bounded listings),
whatever the number of rows. The cube, the tables and the JoinReport are
exactly those of the in-memory join of :func:`gangmap.io.read_police` on the
same files (the tests check it, on clean and on messy files).

Running on dask
---------------
``engine="dask"`` runs the same per-file join as dask tasks, one per street
file, and merges their tallies pairwise in file order (a tree of merge
tasks), so row numbers, listings and counts are the same as in-process. dask is imported only then. Locally,
without a cluster, dask's threaded scheduler is used. On a cluster::

    pip install "dask[distributed]"        # on the client and every worker, with gangmap
    dask scheduler                         # on one machine
    dask worker tcp://SCHEDULER:8786       # on each worker machine

    from dask.distributed import Client
    import gangmap
    client = Client("tcp://SCHEDULER:8786")   # every dask computation now runs there
    table, report = gangmap.join(areas, reports="/shared/police/", engine="dask")

The workers must see the police files at the same path (a shared or network
file system, or the same folder copied to each). The areas travel to each
worker once (as a GeoDataFrame and its geography), and each worker builds its
spatial index once. Each task holds one chunk of one file plus its tally, so a
worker needs about 300 MB per thread beside the areas. Nothing but the
tallies (counts by area, period and category, and the bounded listings of rows
not placed) comes back to the client; record-level rows never leave the
workers.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from ..errors import ConfigError
from ..geography import Geography
from ..io.stream import RESTART, PoliceStream, open_police
from ..table import AreaTable, Schema
from .cube import KindCube
from .place import Bridge, place_rows
from .tally import Tally

__all__ = ["stream_kind", "file_tally", "ENGINES"]

#: Where the streaming join runs: here, or as dask tasks (one per street file).
ENGINES = ("local", "dask")


def file_tally(stream: PoliceStream, index: int, areas: AreaTable, bridge: Bridge | None, by: str | None) -> Tally:
    """The tally of one street file (``stream.files[index]``), its rows numbered from 1."""
    tally = Tally(len(areas))
    for chunk in stream.chunks(stream.files[index]):
        if chunk is RESTART:  # the file is read again whole by the reference reader
            tally = Tally(len(areas))
            continue
        placement, point_pos, lsoa_pos = place_rows(chunk, areas, bridge=bridge, by=by)
        tally.add(chunk.data, chunk.rejected, chunk.rows_read, placement, point_pos=point_pos, lsoa_pos=lsoa_pos)
        tally.source_notes.extend(chunk.notes)
    return tally


def _remote_tally(stream: PoliceStream, index: int, frame: gpd.GeoDataFrame, geography: Geography,
                  bridge: Bridge | None, by: str | None) -> Tally:
    """:func:`file_tally` on a worker: the areas come as their frame and geography (a Schema does not pickle)."""
    return file_tally(stream, index, AreaTable(frame, Schema(geography=geography)), bridge, by)


def _merged(a: Tally, b: Tally) -> Tally:
    return a.merge(b)


def _dask_tally(stream: PoliceStream, areas: AreaTable, bridge: Bridge | None, by: str | None) -> Tally:
    """One task per file, then their tallies merged pairwise in file order (a tree: no node holds them all)."""
    try:
        import dask
    except ImportError:
        raise ConfigError('engine="dask" needs dask: pip install "dask[distributed]", or use engine="local".') \
            from None
    frame = dask.delayed(areas.frame, pure=True)
    shared = [dask.delayed(x, pure=True) for x in (stream, areas.geography, bridge)]
    level = [dask.delayed(_remote_tally, pure=True)(shared[0], i, frame, shared[1], shared[2], by)
             for i in range(len(stream.files))]
    while len(level) > 1:
        pairs = [dask.delayed(_merged, pure=True)(a, b) for a, b in zip(level[0::2], level[1::2])]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    (total,) = dask.compute(level[0])
    return total


def stream_kind(obj, areas: AreaTable, *, kind: str = "reports", bridge: Bridge | None = None,
                by: str | None = None, chunksize: int | None = None, engine: str = "local") -> KindCube:
    """Read, place and count police.uk street files (a file, folder, glob, zip or list) in chunks.

    The result is the :class:`~gangmap.joining.cube.KindCube` that
    ``KindCube.build`` gives for ``read_police(obj)``, exactly.
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}.")
    # placed by LSOA code, a crime without coordinates but with its code is kept (the reader needs to know)
    stream = open_police(obj, chunksize=chunksize, by="lsoa" if by == "lsoa" else None)
    if engine == "dask":
        total = _dask_tally(stream, areas, bridge, by)
    else:  # each file's tally is merged as soon as it is made
        total = file_tally(stream, 0, areas, bridge, by)
        for i in range(1, len(stream.files)):
            total.merge(file_tally(stream, i, areas, bridge, by))
    key = total.key or "point"
    return KindCube.from_tally(total, areas, kind=kind, source=stream.source, key=key,
                               notes=stream.notes(total.source_notes), missing_periods=stream.missing_periods)


def is_streamable(obj, kind: str) -> bool:
    """Whether an input is read by the streaming join: police.uk street files given by path, for the reports."""
    from ..io.stream import is_police_source

    return kind == "reports" and not isinstance(obj, pd.DataFrame) and is_police_source(obj)
