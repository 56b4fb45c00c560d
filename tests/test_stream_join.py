"""Issue 17 item 1: the streaming join of police.uk files equals the in-memory join, row for row.

Oracles: the in-memory join of ``read_police`` on the same files (the reference reader, whole files);
a planted answer (every point drawn inside a known square ward); brute-force point-in-polygon.
"""

from __future__ import annotations

import csv
import io
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

import gangmap.joining.tally as tally_module
from gangmap.errors import ConfigError
from gangmap.io import POLICE_COLUMNS, read_police
from gangmap.io.stream import read_police_chunked
from gangmap.joining import build_cube, join
from gangmap.joining.tally import reason_kind

COLS, ROWS = 6, 5
N = COLS * ROWS
CODES = [f"E05300{i:03d}" for i in range(N)]
CATS = ["Drugs", "Robbery", "Anti-social behaviour", "Possession of weapons"]
X0, Y0, SIDE = 480_000, 250_000, 1000
TO_DEG = Transformer.from_crs(27700, 4326, always_xy=True)


@pytest.fixture(scope="module")
def grid():
    geoms = [shapely.box(X0 + SIDE * (i % COLS), Y0 + SIDE * (i // COLS), X0 + SIDE * (i % COLS + 1),
                         Y0 + SIDE * (i // COLS + 1)) for i in range(N)]
    return gpd.GeoDataFrame({"ward_code": CODES, "ward_name": [f"Ward {i}" for i in range(N)],
                             "lad_code": "E07000999", "lad_name": "Testshire"}, geometry=geoms, crs=27700)


def month_rows(month: str, n: int, seed: int) -> tuple[list[list[str]], np.ndarray]:
    """Rows in the published layout and the planted ward of each (N = outside every ward, -1 = no location)."""
    rng = np.random.default_rng(seed)
    ward = rng.integers(0, N + 1, size=n)
    ward[rng.random(n) < 0.08] = -1
    col, row = ward % COLS, ward // COLS
    x = np.where(ward == N, X0 - 30_000, X0 + SIDE * col + rng.uniform(20, SIDE - 20, n))
    y = np.where(ward == N, Y0, Y0 + SIDE * row + rng.uniform(20, SIDE - 20, n))
    lon, lat = TO_DEG.transform(x, y)
    cats = rng.choice(CATS, size=n)
    rows = []
    for i in range(n):
        has = ward[i] >= 0
        rows.append([f"id{seed}-{i}" if cats[i] != "Anti-social behaviour" else "", month, "Test Police",
                     "Test Police", f"{lon[i]:.6f}" if has else "", f"{lat[i]:.6f}" if has else "",
                     "On or near Somewhere" if has else "No Location", f"E0100{i % 7:04d}" if has else "",
                     "Somewhere 001A" if has else "", cats[i], "", ""])
    return rows, ward


def write_csv(rows, *, header=POLICE_COLUMNS, newline="\n") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


LAYOUT = [("2018-01", "testshire", 40), ("2018-01", "otherford", 25), ("2018-02", "testshire", 33),
          ("2018-04", "testshire", 51), ("2018-04", "otherford", 18)]  # 2018-03: nobody; 2018-02: no otherford


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("police")
    truth = []
    for k, (month, force, n) in enumerate(LAYOUT):
        rows, ward = month_rows(month, n, seed=k)
        (root / month).mkdir(exist_ok=True)
        (root / month / f"{month}-{force}-street.csv").write_bytes(write_csv(rows))
        truth.append(pd.DataFrame({"ward": ward, "category": [r[9] for r in rows], "period": month}))
    return root, pd.concat(truth, ignore_index=True)


def messy(root):
    """Files the fast reader must hand to the reference reader, each for its own reason."""
    rows, _ = month_rows("2018-05", 12, seed=99)
    out = {}
    quoted = [r[:] for r in rows]
    quoted[3][6] = "On or near Park, East"  # a quoted comma
    out["quoted"] = write_csv(quoted)
    data = write_csv(rows)
    lines = data.split(b"\n")
    out["cp1252"] = b"\n".join(lines[:4] + [lines[4].replace(b"Somewhere", b"Caf\xe9")] + lines[5:])
    out["blank line"] = b"\n".join(lines[:6] + [b""] + lines[6:])
    out["title"] = b"Crimes in Testshire\n" + data
    out["crlf"] = write_csv(rows, newline="\r\n")
    half = [r[:] for r in rows]
    half[2][4] = ""  # a latitude without a longitude
    half[5][1] = "Q1 2018"  # a quarter, refused by the reader
    half[6][9] = "  Drugs  "  # spaces are trimmed
    out["half"] = write_csv(half)
    paths = {}
    for name, data in out.items():
        d = root / name.replace(" ", "_")
        d.mkdir(exist_ok=True)
        paths[name] = d / "2018-05-testshire-street.csv"
        paths[name].write_bytes(data)
    return paths


def same_reports(a, b):
    for kind in a.sections:
        x, y = a.sections[kind], b.sections[kind]
        for attr in ("source", "key", "rows_read", "matched", "unmatched", "outside", "rejected", "filtered", "total",
                     "notes", "hint", "missing_periods", "not_placed", "balanced"):
            assert getattr(x, attr) == getattr(y, attr), attr
        for attr in ("unmatched_rows", "outside_rows", "rejected_rows", "rejected_summary"):
            pd.testing.assert_frame_equal(getattr(x, attr), getattr(y, attr), obj=attr)
        pd.testing.assert_frame_equal(x.unmatched_values(), y.unmatched_values())
    assert a.summary() == b.summary()


FILTERS = [(None, None), ("Drugs", None), (None, "2018-04"), (["Robbery", "drugs"], ["2018-01", "2018-02"])]


@pytest.mark.parametrize("category,period", FILTERS)
@pytest.mark.parametrize("chunksize", [7, 1000])
def test_streaming_equals_in_memory_and_the_planted_answer(grid, folder, chunksize, category, period):
    root, truth = folder
    t_stream, r_stream = join(grid, reports=root, chunksize=chunksize, category=category, period=period,
                              allow_unmatched=True)
    t_mem, r_mem = join(grid, reports=read_police(root), category=category, period=period, allow_unmatched=True)
    pd.testing.assert_frame_equal(t_stream.frame, t_mem.frame)
    assert t_stream.schema == t_mem.schema
    same_reports(r_stream, r_mem)
    sel = truth["ward"].between(0, N - 1)
    if category is not None:
        sel &= truth["category"].str.casefold().isin({c.casefold() for c in np.atleast_1d(category)})
    if period is not None:
        sel &= truth["period"].isin(np.atleast_1d(period))
    want = truth[sel].groupby("ward").size().reindex(range(N), fill_value=0)
    assert t_stream["reports"].tolist() == want.tolist()
    s = r_stream.sections["reports"]
    assert s.balanced and s.rows_read == len(truth) and s.rejected == int((truth["ward"] == -1).sum())


def test_every_row_in_one_bucket(grid, folder):
    root, truth = folder
    _, rep = join(grid, reports=root, chunksize=5, category="Drugs", allow_unmatched=True)
    s = rep.sections["reports"]
    drugs = truth["category"] == "Drugs"
    assert s.matched == int((drugs & truth["ward"].between(0, N - 1)).sum())
    assert s.outside == int((drugs & (truth["ward"] == N)).sum())
    assert s.rejected == int((truth["ward"] == -1).sum())  # rejected rows have no category to filter by
    assert s.filtered == int((~drugs & (truth["ward"] >= 0)).sum())
    assert s.matched + s.unmatched + s.outside + s.rejected + s.filtered == s.rows_read == len(truth)
    # Rejected reasons name the file and its own row, as read_police does.
    assert all("-street.csv row " in r and r.endswith("no usable coordinates (Longitude='', Latitude='')")
               for r in s.rejected_rows["reason"])


def test_missing_months_are_missing_never_zero(grid, folder):
    root, truth = folder
    cube, rep = build_cube(grid, reports=root, chunksize=9, allow_unmatched=True)
    table = cube.table()
    # 2018-03: no force published; 2018-02: otherford did not. Both are missing, never 0.
    assert table.schema.missing_periods == ("2018-02", "2018-03")
    assert rep.sections["reports"].missing_periods == ("2018-02", "2018-03")
    assert any(n.startswith("not published (no data, not zero): 2018-02 (otherford), 2018-03")
               for n in rep.sections["reports"].notes)
    series = cube.series()
    assert series.columns.tolist() == ["2018-01", "2018-02", "2018-03", "2018-04"]
    assert series[["2018-02", "2018-03"]].isna().all().all()
    want = truth[truth["ward"].between(0, N - 1)].groupby(["ward", "period"]).size().unstack(fill_value=0)
    for month in ("2018-01", "2018-04"):
        assert series[month].tolist() == want[month].reindex(range(N), fill_value=0).astype(float).tolist()
    mem, _ = build_cube(grid, reports=read_police(root), allow_unmatched=True)
    pd.testing.assert_frame_equal(series, mem.series())
    assert cube.table(period="2018-04").schema.missing_periods == ()
    assert cube.table(period=["2018-02", "2018-04"]).schema.missing_periods == ("2018-02", "2018-03")
    with pytest.raises(Exception, match=r"period \['2018-03'\] was not published by the source"):
        cube.table(period=["2018-03", "2018-04"])


def test_missing_months_asked_for_beyond_the_files(grid, folder):
    root, _ = folder
    files = sorted(root.rglob("*-street.csv"))
    cube, _ = build_cube(grid, reports=files, allow_unmatched=True)
    assert cube.table().schema.missing_periods == ("2018-02", "2018-03")


@pytest.mark.parametrize("case", ["quoted", "cp1252", "blank line", "title", "crlf", "half"])
def test_messy_files_read_exactly_as_the_reference_reader(tmp_path, grid, case):
    path = messy(tmp_path)[case]
    want = read_police(path)
    got = read_police_chunked(path, chunksize=4)
    pd.testing.assert_frame_equal(got.data, want.data.astype({c: "string" for c in ("category", "period",
                                                                                     "lsoa_code")}))
    pd.testing.assert_frame_equal(got.rejected, want.rejected.astype({"reason": "object"}))
    assert (got.rows_read, got.notes, got.source) == (want.rows_read, want.notes, want.source)
    t1, r1 = join(grid, reports=path, chunksize=4, allow_unmatched=True)
    t2, r2 = join(grid, reports=want, allow_unmatched=True)
    pd.testing.assert_frame_equal(t1.frame, t2.frame)
    same_reports(r1, r2)


def test_clean_file_takes_the_fast_reader(tmp_path, monkeypatch):
    """A published file never goes to the reference reader (which holds every cell as text)."""
    import gangmap.io.stream as stream

    rows, _ = month_rows("2018-05", 30, seed=5)
    path = tmp_path / "2018-05-testshire-street.csv"
    path.write_bytes(write_csv(rows))
    want = read_police(path)

    def refuse(member):
        raise AssertionError(f"{member.label} was read whole")

    monkeypatch.setattr(stream, "read_street_file", refuse)
    got = read_police_chunked(path, chunksize=7)
    pd.testing.assert_frame_equal(got.data, want.data.astype({c: "string" for c in ("category", "period",
                                                                                     "lsoa_code")}))
    pd.testing.assert_frame_equal(got.rejected, want.rejected.astype({"reason": "object"}))


def test_errors_of_the_reference_reader_are_kept(tmp_path, grid):
    rows, _ = month_rows("2018-05", 6, seed=3)
    bad = [r[:] for r in rows]
    bad[2][4] = "-0,85"  # a decimal comma: an error for the whole file
    path = tmp_path / "2018-05-testshire-street.csv"
    path.write_bytes(write_csv(bad))
    with pytest.raises(Exception, match="decimal comma") as streamed:
        join(grid, reports=path)
    with pytest.raises(Exception, match="decimal comma") as whole:
        read_police(path)
    assert str(streamed.value) == str(whole.value)
    path.write_bytes(write_csv([]))
    with pytest.raises(Exception, match="no data rows"):
        join(grid, reports=path)


def test_listings_are_bounded_and_counts_complete(grid, folder, monkeypatch):
    root, truth = folder
    monkeypatch.setattr(tally_module, "LIST_ROWS", 3)
    monkeypatch.setattr(tally_module, "LIST_TOTAL", 5)
    _, r_stream = join(grid, reports=root, chunksize=4, allow_unmatched=True)
    _, r_mem = join(grid, reports=read_police(root), allow_unmatched=True)
    same_reports(r_stream, r_mem)
    s = r_stream.sections["reports"]
    n_rej = int((truth["ward"] == -1).sum())
    assert s.rejected == n_rej > 5 and len(s.rejected_rows) == 3  # one reason: its first 3 rows
    assert s.rejected_summary["rows"].tolist() == [n_rej]
    full = read_police(root).rejected
    assert s.rejected_rows["row"].tolist() == full["row"].head(3).tolist()
    assert s.outside == int((truth["ward"] == N).sum()) > 3 and len(s.outside_rows) == 3


def test_reason_kind_masks_values_and_prefix():
    r = pd.Series(["a/b-street.csv row 12: no usable coordinates (Longitude='x', Latitude='')", "blank line"])
    assert reason_kind(r).tolist() == ["no usable coordinates (Longitude=…, Latitude=…)", "blank line"]


def test_chunksize_for_other_inputs_is_refused(grid):
    with pytest.raises(ConfigError, match="only data.police.uk street files"):
        join(grid, reports=pd.DataFrame({"ward_code": CODES[:1], "count": [1]}), chunksize=10)


def test_brute_force_point_in_polygon_on_chunk_edges(grid, folder):
    """Every located row against shapely.contains on its point (the planted truth is also checked above)."""
    root, _ = folder
    rows = read_police(root).data
    table, _ = join(grid, reports=root, chunksize=3, allow_unmatched=True)
    pts = shapely.points(rows["x"].to_numpy(), rows["y"].to_numpy())
    hits = np.array([next((i for i, g in enumerate(grid.geometry) if g.intersects(p)), -1) for p in pts])
    want = np.bincount(hits[hits >= 0], minlength=N)
    assert table["reports"].tolist() == want.tolist()


def test_zip_and_list_equal_folder(grid, folder, tmp_path):
    root, _ = folder
    z = tmp_path / "archive.zip"
    with zipfile.ZipFile(z, "w") as f:
        for p in sorted(root.rglob("*-street.csv")):
            f.write(p, p.relative_to(root).as_posix())
    a, ra = join(grid, reports=root, allow_unmatched=True)
    b, rb = join(grid, reports=z, chunksize=11, allow_unmatched=True)
    c, rc = join(grid, reports=sorted(root.rglob("*-street.csv")), chunksize=6, allow_unmatched=True)
    for t in (b, c):
        assert t["reports"].tolist() == a["reports"].tolist()
    for r in (rb, rc):
        assert r.rows_read == ra.rows_read and r.rejected == ra.rejected and r.outside == ra.outside

