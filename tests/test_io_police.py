"""gangmap.io.read_police: data.police.uk street CSVs from a file, a folder, a glob or the archive zip (issue 15.5)."""

from __future__ import annotations

import csv
import functools
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from gangmap.errors import InputError
from gangmap.io import POLICE_COLUMNS, read_police
from gangmap.io.police import force_slug, month_range, parse_street_name

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "police" / "2018-03-northamptonshire-street.csv"
SECRETS = ("Secret Street", "private words", "deadbeefcafe")


@functools.lru_cache(maxsize=1)
def real_rows() -> pd.DataFrame:
    return pd.read_csv(REAL, dtype=str, keep_default_na=False)


def sample_rows(n: int, month: str, seed: int) -> list[list[str]]:
    """Rows in the published layout: sampled from the real March 2018 file when present, else made up."""
    if REAL.exists():
        real = real_rows().sample(n, random_state=seed)
        rows = real[POLICE_COLUMNS].to_numpy().tolist()
    else:
        rows = [[f"id{seed}{i}", month, "Northamptonshire Police", "Northamptonshire Police", f"{-0.9 + i / 1000:.6f}",
                 f"{52.2 + i / 1000:.6f}", "On or near Park", "E01027001", "Northampton 001A",
                 ["Drugs", "Robbery", "Anti-social behaviour"][i % 3], "", ""] for i in range(n)]
    for i, r in enumerate(rows):
        r[1] = month
        if i == 0:  # one row with record-level detail that must never leave the Intake
            r[0], r[6], r[11] = SECRETS[2] * 4, f"On or near {SECRETS[0]}", SECRETS[1]
        if i == 1:  # one row without a location, as published
            r[4] = r[5] = r[7] = r[8] = ""
            r[6] = "No Location"
    return rows


def street_csv(month: str, force: str, n: int = 12, seed: int = 0) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(POLICE_COLUMNS)
    w.writerows(sample_rows(n, month, seed))
    return buf.getvalue().encode("utf-8")


LAYOUT = [("2018-02", "northamptonshire", 10), ("2018-03", "northamptonshire", 12), ("2018-03", "leicestershire", 7),
          ("2018-05", "northamptonshire", 9), ("2018-05", "leicestershire", 5)]


def archive(tmp_path) -> Path:
    """A data.police.uk archive zip: YYYY-MM/ folders of street, outcomes and stop-and-search files."""
    path = tmp_path / "latest.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, (month, force, n) in enumerate(LAYOUT):
            z.writestr(f"{month}/{month}-{force}-street.csv", street_csv(month, force, n, seed=k))
            z.writestr(f"{month}/{month}-{force}-outcomes.csv", b"Crime ID,Month,Outcome type\nx,y,z\n")
            z.writestr(f"{month}/{month}-{force}-stop-and-search.csv", b"Type,Date\nPerson search,2018\n")
    return path


@pytest.fixture
def zpath(tmp_path):
    (tmp_path / "z").mkdir()
    return archive(tmp_path / "z")


def expected_rows(selection) -> int:
    return sum(n for month, force, n in LAYOUT if (month, force) in selection)


def test_archive_zip_read_directly(zpath):
    r = read_police(zpath)
    assert (r.kind, r.key) == ("reports", "point")
    assert r.rows_read == expected_rows({(m, f) for m, f, _ in LAYOUT})
    assert len(r.data) + len(r.rejected) == r.rows_read
    assert len(r.rejected) == len(LAYOUT)  # the 'No Location' row of each file
    assert r.data["row"].is_unique and set(r.data["row"]) | set(r.rejected["row"]) == set(range(1, r.rows_read + 1))
    assert sorted(r.data.columns) == sorted(["row", "count", "category", "period", "x", "y", "lsoa_code"])
    assert r.periods == ["2018-02", "2018-03", "2018-05"]
    # Inside the span read: Leicestershire has no 2018-02 file, and neither force has 2018-04.
    assert r.missing_periods == ("2018-02", "2018-04")
    assert r.notes[-1] == "not published (no data, not zero): 2018-02 (leicestershire), 2018-04"
    assert all("-street.csv row 2: no usable coordinates" in why for why in r.rejected["reason"])


def test_record_level_detail_never_leaves(zpath):
    r = read_police(zpath)
    text = r.data.to_csv() + r.rejected.to_csv() + repr(r) + " ".join(r.notes)
    for secret in SECRETS:
        assert secret not in text
    for column in ("Crime ID", "Location", "Context", "LSOA name", "Last outcome category", "Reported by"):
        assert column not in r.data.columns


def test_force_and_month_filters(zpath):
    r = read_police(zpath, force="Northamptonshire Police", months=["2018-03", "Mar-18", "2018-05"])
    assert r.rows_read == expected_rows({("2018-03", "northamptonshire"), ("2018-05", "northamptonshire")})
    assert r.periods == ["2018-03", "2018-05"] and r.missing_periods == ()
    r = read_police(zpath, force=["leicestershire"], month_from="2018-02", month_to="2018-05")
    assert r.rows_read == expected_rows({("2018-03", "leicestershire"), ("2018-05", "leicestershire")})
    assert r.missing_periods == ("2018-02", "2018-04")


def test_missing_months_per_force_when_several(zpath):
    r = read_police(zpath, month_from="2018-02", month_to="2018-03")
    assert r.missing_periods == ("2018-02",) and "2018-02 (leicestershire)" in r.notes[-1]


def test_unknown_force_lists_the_forces(zpath):
    with pytest.raises(InputError,
                       match=r"force\(s\) \['kent'\]; the forces here are leicestershire, northamptonshire"):
        read_police(zpath, force="Kent Police")


def test_no_month_asked_for_is_there(zpath):
    with pytest.raises(InputError, match="no street files for the force"):
        read_police(zpath, months="2019-01")


def test_folder_glob_and_list_read_like_the_zip(tmp_path, zpath):
    root = tmp_path / "unpacked"
    with zipfile.ZipFile(zpath) as z:
        z.extractall(root)
    want = read_police(zpath).data
    for source in (root, str(root / "**" / "*-street.csv"), sorted(root.rglob("*-street.csv"))):
        got = read_police(source).data
        pd.testing.assert_frame_equal(got, want)


def test_same_force_month_twice_is_an_error(tmp_path, zpath):
    root = tmp_path / "z"  # holds latest.zip; add the unpacked copy beside it
    with zipfile.ZipFile(zpath) as z:
        z.extractall(root / "unpacked")
    with pytest.raises(InputError, match="given twice.*counted twice"):
        read_police(root)


def test_single_csv_and_renamed_file(tmp_path):
    path = tmp_path / "2018-03-northamptonshire-street.csv"
    path.write_bytes(street_csv("2018-03", "northamptonshire", 6))
    r = read_police(path)
    assert r.rows_read == 6 and r.source == str(path) and r.missing_periods == ()
    wrong = tmp_path / "2018-04-northamptonshire-street.csv"
    wrong.write_bytes(path.read_bytes())
    with pytest.raises(InputError, match="named for 2018-04 but holds Month '2018-03'"):
        read_police(wrong)


def test_filters_need_the_published_file_names(tmp_path):
    path = tmp_path / "march crimes.csv"
    path.write_bytes(street_csv("2018-03", "northamptonshire", 4))
    assert read_police(path).rows_read == 4  # read whole: fine
    with pytest.raises(InputError, match=r"march crimes.csv: the force and month cannot be told from this file name"):
        read_police(path, months="2018-03")


def test_not_police_data(tmp_path):
    (tmp_path / "2018-03-x-street.csv").write_text("ward_code,count\nE05000001,3\n")
    with pytest.raises(InputError, match="not a data.police.uk street-level CSV"):
        read_police(tmp_path / "2018-03-x-street.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no data.police.uk street-level CSV"):
        read_police(tmp_path / "empty")
    with pytest.raises(InputError, match="no file matches"):
        read_police(str(tmp_path / "nothing" / "*.csv"))
    with pytest.raises(InputError, match="not found"):
        read_police(tmp_path / "nope.zip")


def test_names():
    assert parse_street_name("2018-03/2018-03-avon-and-somerset-street.csv") == ("2018-03", "avon-and-somerset")
    assert parse_street_name("2018-03/2018-03-avon-and-somerset-outcomes.csv") is None
    assert force_slug("Metropolitan Police Service") == "metropolitan"
    assert force_slug("Devon & Cornwall Police") == "devon-cornwall"
    assert month_range("2017-11", "2018-02") == ["2017-11", "2017-12", "2018-01", "2018-02"]


@pytest.mark.realdata
def test_real_march_2018_file(shared_data):
    path = shared_data / "police" / "2018-03-northamptonshire-street.csv"
    r = read_police(path)
    raw = pd.read_csv(path, dtype=str)
    assert r.rows_read == len(raw) == 6370
    located = raw["Longitude"].notna() & raw["Latitude"].notna()
    assert len(r.data) == int(located.sum()) and len(r.rejected) == int((~located).sum())
    assert r.data["category"].value_counts().to_dict() == raw.loc[located, "Crime type"].value_counts().to_dict()
    assert r.periods == ["2018-03"]
    assert r.data["lsoa_code"].tolist() == raw.loc[located, "LSOA code"].tolist()
