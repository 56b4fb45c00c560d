"""build_cube: every input placed once; tables, reports and series for any filter, against planted answers."""

from __future__ import annotations

import importlib
import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gangmap.joining import NotPlacedError, build_cube, join

join_module = importlib.import_module("gangmap.joining.joins")

COLS, ROWS = 5, 4
N = COLS * ROWS
CODES = [f"E05200{i:03d}" for i in range(1, N + 1)]
CATS = ["Drugs", "Robbery", "Weapons"]
MONTHS = ["2018-01", "2018-02", "2018-03", "2018-05", "2018-06"]  # 2018-04: the source published nothing


@pytest.fixture(scope="module")
def grid():
    """20 square wards (5 x 4 km), two districts, in EPSG:27700; one name shared across the districts."""
    geoms = [shapely.box(500_000 + 1000 * (i % COLS), 200_000 + 1000 * (i // COLS),
                         501_000 + 1000 * (i % COLS), 201_000 + 1000 * (i // COLS)) for i in range(N)]
    names = [f"Ward {i}" for i in range(N)]
    names[3] = names[15] = "Abbey"
    lads = [("E07000301", "West") if i % COLS < 3 else ("E07000302", "East") for i in range(N)]
    return gpd.GeoDataFrame({"ward_code": CODES, "ward_name": names, "lad_code": [c for c, _ in lads],
                             "lad_name": [n for _, n in lads]}, geometry=geoms, crs=27700)


@pytest.fixture(scope="module")
def planted():
    """3,000 point records with a known area (N = outside), category and month."""
    rng = np.random.default_rng(11)
    n = 3000
    area = rng.integers(0, N + 1, size=n)
    col, row = area % COLS, area // COLS
    inside = area < N
    x = np.where(inside, 500_000 + 1000 * col + rng.uniform(5, 995, n), 450_000.0)
    y = np.where(inside, 200_000 + 1000 * row + rng.uniform(5, 995, n), 150_000.0)
    cat = rng.choice(CATS, size=n, p=[0.5, 0.3, 0.2])
    month = rng.choice(MONTHS, size=n)
    df = pd.DataFrame({"easting": x, "northing": y, "category": cat, "period": month})
    truth = pd.DataFrame({"area": area, "category": cat, "period": month, "count": 1})
    return df, truth


def expected(truth: pd.DataFrame, category=None, period=None) -> np.ndarray:
    t = truth[truth["area"] < N]
    if category is not None:
        want = {c.casefold() for c in ([category] if isinstance(category, str) else category)}
        t = t[t["category"].str.casefold().isin(want)]
    if period is not None:
        t = t[t["period"].isin([period] if isinstance(period, str) else period)]
    return t.groupby("area")["count"].sum().reindex(range(N), fill_value=0).to_numpy()


FILTERS = [(c, p) for c, p in itertools.product(
    [None, "Drugs", "robbery", ["Drugs", "Weapons"], CATS],
    [None, "2018-03", ["2018-01", "2018-06"], MONTHS])]


@pytest.fixture(scope="module")
def cube(grid, planted):
    df, _ = planted
    return build_cube(grid, reports=df, allow_unmatched=True)


@pytest.mark.parametrize("category,period", FILTERS)
def test_cube_table_matches_planted_answer_and_join(grid, planted, cube, category, period):
    df, truth = planted
    c, _ = cube
    table = c.table(category=category, period=period)
    assert table["reports"].tolist() == expected(truth, category, period).tolist()
    joined, rep = join(grid, reports=df, category=category, period=period)
    pd.testing.assert_frame_equal(table.frame, joined.frame)
    assert table.schema == joined.schema
    crep = c.report(category=category, period=period)
    a, b = crep.sections["reports"], rep.sections["reports"]
    for attr in ("rows_read", "matched", "unmatched", "outside", "rejected", "filtered", "total", "notes", "hint"):
        assert getattr(a, attr) == getattr(b, attr), attr
    pd.testing.assert_frame_equal(a.outside_rows, b.outside_rows)
    # Every row in one bucket; the filtered ones are exactly those outside the filter.
    sel = np.ones(len(truth), dtype=bool)
    if category is not None:
        sel &= truth["category"].str.casefold().isin({x.casefold() for x in np.atleast_1d(category)}).to_numpy()
    if period is not None:
        sel &= truth["period"].isin(np.atleast_1d(period)).to_numpy()
    assert a.filtered == int((~sel).sum()) and a.balanced
    assert a.outside == int((sel & (truth["area"] == N).to_numpy()).sum())
    assert set(table.schema.periods) == set(truth.loc[sel & (truth["area"] < N).to_numpy(), "period"])


def test_table_report_and_series_never_read_or_place_again(grid, planted, monkeypatch):
    df, _ = planted
    calls = {"assign": 0, "intake": 0}
    real_assign, real_intake = join_module.place_rows, join_module.as_intake

    def counting_assign(*a, **k):
        calls["assign"] += 1
        return real_assign(*a, **k)

    def counting_intake(*a, **k):
        calls["intake"] += 1
        return real_intake(*a, **k)

    monkeypatch.setattr(join_module, "place_rows", counting_assign)
    monkeypatch.setattr(join_module, "as_intake", counting_intake)
    c, _ = build_cube(grid, reports=df, allow_unmatched=True)
    assert calls == {"assign": 1, "intake": 1}
    for cat, per in FILTERS:
        c.table(category=cat, period=per)
        c.report(category=cat, period=per)
    c.series()
    c.series(category="Drugs", freq="Q")
    assert calls == {"assign": 1, "intake": 1}


def test_cube_fails_on_unplaced_rows_unless_allowed(grid, planted):
    df, _ = planted
    with pytest.raises(NotPlacedError, match="easting and northing swapped"):
        build_cube(grid, reports=df.assign(easting=df["northing"], northing=df["easting"]))


def test_unknown_category_is_an_error_from_the_cube_too(cube):
    c, _ = cube
    with pytest.raises(Exception, match=r"category \['Arson'\] not found"):
        c.table(category="Arson")


# --------------------------------------------------------------------------- series


def independent_series(truth, category=None) -> pd.DataFrame:
    t = truth[truth["area"] < N]
    if category is not None:
        t = t[t["category"] == category]
    months = pd.period_range("2018-01", "2018-06", freq="M").strftime("%Y-%m")
    pivot = t.pivot_table(index="area", columns="period", values="count", aggfunc="sum", fill_value=0)
    pivot = pivot.reindex(index=range(N), columns=months, fill_value=0).astype("float64")
    pivot.index = pd.Index(CODES, name="ward_code")
    pivot.columns.name = "period"
    pivot["2018-04"] = np.nan  # no row of any kind that month: not published
    return pivot


@pytest.mark.parametrize("category", [None, "Drugs", "Weapons"])
def test_monthly_series_against_an_independent_groupby(cube, planted, category):
    c, _ = cube
    _, truth = planted
    got = c.series("reports", category=category)
    want = independent_series(truth, category)
    pd.testing.assert_frame_equal(got, want)
    assert got.columns.tolist() == sorted(got.columns)
    assert got["2018-04"].isna().all() and not got.drop(columns="2018-04").isna().any().any()


def test_covered_month_is_zero_not_nan(cube, planted):
    c, _ = cube
    _, truth = planted
    got = c.series(covered_periods=["2018-04"])
    assert (got["2018-04"] == 0).all()
    want = independent_series(truth).fillna(0.0)
    pd.testing.assert_frame_equal(got, want)
    # Covered months beyond the data extend the span with zeros.
    longer = c.series(covered_periods=["2018-08"])
    assert longer.columns[-1] == "2018-08" and (longer["2018-08"] == 0).all() and longer["2018-07"].isna().all()


def test_quarterly_series(cube, planted):
    c, _ = cube
    _, truth = planted
    months = independent_series(truth)
    q = c.series(freq="Q")
    assert q.columns.tolist() == ["2018-Q1", "2018-Q2"]
    np.testing.assert_allclose(q["2018-Q1"], months[["2018-01", "2018-02", "2018-03"]].sum(axis=1))
    assert q["2018-Q2"].isna().all()  # April not published
    q2 = c.series(freq="Q", covered_periods=["2018-04"])
    np.testing.assert_allclose(q2["2018-Q2"], months[["2018-05", "2018-06"]].sum(axis=1))


def test_series_index_follows_the_table_order(grid, planted):
    df, truth = planted
    order = np.random.default_rng(5).permutation(N)
    c, _ = build_cube(grid.iloc[order], reports=df, allow_unmatched=True)
    s = c.series()
    assert s.index.tolist() == [CODES[i] for i in order]
    assert s.index.tolist() == c.table()["ward_code"].tolist()
    pd.testing.assert_frame_equal(s, independent_series(truth).loc[[CODES[i] for i in order]])


def test_series_needs_months(grid):
    c, _ = build_cube(grid, reports=pd.DataFrame({"ward_code": CODES[:2], "count": [1, 2]}))
    with pytest.raises(Exception, match="no period"):
        c.series()
    # A quarter is refused by the reader (gangmap.io.periods): that row is rejected, so the join fails...
    odd = pd.DataFrame({"ward_code": CODES[:2], "period": ["2018-03", "Q1 2018"], "count": [1, 2]})
    with pytest.raises(NotPlacedError, match=r"rejected row 2: period is 'Q1 2018': a quarter"):
        build_cube(grid, reports=odd)
    # ... unless allowed: then the series holds the one month read, and the rejected row is reported.
    c2, rep = build_cube(grid, reports=odd, allow_unmatched=True)
    assert rep.rejected == 1 and rep.matched == 1 and rep.balanced
    s = c2.series()
    assert s.columns.tolist() == ["2018-03"] and s.loc[CODES[0], "2018-03"] == 1 and s["2018-03"].sum() == 1


def test_referrals_filter_is_a_note_and_counts_by_name_with_district(grid):
    refs = pd.DataFrame({"ward_name": ["Abbey", "Abbey", "ward 0"], "district": ["West", "East", "West"],
                         "referrals": [1, 2, 4]})
    reports = pd.DataFrame({"ward_code": CODES[:3], "category": CATS, "count": [1, 1, 1]})
    c, _ = build_cube(grid, reports=reports, referrals=refs)
    t = c.table(category="Drugs")
    want = np.zeros(N, dtype=int)
    want[[15, 3, 0]] = [1, 2, 4]  # ward 15 is in West, ward 3 in East
    assert t["referrals"].tolist() == want.tolist() and t["reports"].sum() == 1
    assert any("category filter was not applied" in n for n in c.report(category="Drugs").sections["referrals"].notes)
