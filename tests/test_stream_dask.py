"""Issue 17 item 3: the streaming join on dask (a distributed LocalCluster) equals the in-process join.

Oracle: the in-process streaming join on the same files (itself equal to the in-memory join, see
test_stream_join.py): identical counts, identical JoinReport totals, listings and notes.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_stream_join import folder, grid, messy, same_reports  # noqa: F401  (fixtures)

from gangmap.errors import ConfigError
from gangmap.joining import build_cube, join

distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.mark.parametrize("category", [None, "Drugs"])
def test_dask_equals_in_process(client, grid, folder, category):  # noqa: F811
    root, _ = folder
    with distributed.get_task_stream(client) as stream:
        t1, r1 = join(grid, reports=root, chunksize=7, engine="dask", category=category, allow_unmatched=True)
    t2, r2 = join(grid, reports=root, chunksize=7, category=category, allow_unmatched=True)
    pd.testing.assert_frame_equal(t1.frame, t2.frame)
    assert t1.schema == t2.schema
    same_reports(r1, r2)
    ran = [t["key"] for t in stream.data if "_remote_tally" in str(t["key"])]
    assert len(ran) == 5  # one task per street file, on the cluster


def test_dask_series_and_missing_months(client, grid, folder):  # noqa: F811
    root, _ = folder
    c1, _ = build_cube(grid, reports=root, engine="dask", allow_unmatched=True)
    c2, _ = build_cube(grid, reports=root, allow_unmatched=True)
    pd.testing.assert_frame_equal(c1.series(), c2.series())
    assert c1.table().schema.missing_periods == ("2018-02", "2018-03")


def test_dask_with_files_read_again_whole(client, grid, tmp_path):  # noqa: F811
    paths = messy(tmp_path)
    files = [paths["quoted"], paths["half"].rename(tmp_path / "half" / "2018-06-testshire-street.csv")]
    files[1].write_bytes(files[1].read_bytes().replace(b"2018-05", b"2018-06"))
    t1, r1 = join(grid, reports=files, engine="dask", chunksize=4, allow_unmatched=True)
    t2, r2 = join(grid, reports=files, chunksize=4, allow_unmatched=True)
    pd.testing.assert_frame_equal(t1.frame, t2.frame)
    same_reports(r1, r2)


def test_unknown_engine(grid, folder):  # noqa: F811
    with pytest.raises(ConfigError, match="engine must be one of local, dask"):
        join(grid, reports=folder[0], engine="spark")
