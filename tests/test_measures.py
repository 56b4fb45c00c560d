"""Tests for gangmap.measures: rates and intervals, smoothing, weights, hotspots,
need index and funnel plots.

Reference numbers come from three places, each named where it is used:
published Poisson interval values (OHID Fingertips conventions), esda's own
test suite / docstrings on the libpysal ``sids2`` and ``stl`` examples, and
hand calculations written out in comments.
"""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from gangmap import measures
from gangmap.errors import GangmapError, InputError
from gangmap.measures.inference import bh_threshold
from gangmap.table import AreaTable, from_frame

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


def _grid(n: int = 6, values=None, detached_value=None, detached_at=(-3000, 0)):
    """n x n grid of 1 km squares (EPSG:27700), optionally one detached square."""
    geoms = [
        box(i % n * 1000, i // n * 1000, i % n * 1000 + 1000, i // n * 1000 + 1000)
        for i in range(n * n)
    ]
    codes = [f"E05{i:06d}" for i in range(n * n)]
    if values is None:
        values = [1] * (n * n)
    values = list(values)
    if detached_value is not None:
        x, y = detached_at
        geoms.append(box(x, y, x + 1000, y + 1000))
        codes.append("E05999999")
        values.append(detached_value)
    return gpd.GeoDataFrame(
        {
            "ward_code": codes,
            "ward_name": [f"Ward {c[-3:]}" for c in codes],
            "lad_code": "E07000999",
            "lad_name": "Testshire",
            "reports": values,
            "population": 1000.0,
        },
        geometry=geoms,
        crs=27700,
    )


def _table(df, counts=(), context=(), derived=None) -> AreaTable:
    """``df`` as an AreaTable with the roles given (an ``area_code`` from the index when it has no code)."""
    if not any(c.endswith("_code") for c in df.columns):
        df = df.assign(area_code=[f"A{i}" for i in range(len(df))])
    return from_frame(df, counts=list(counts), context=list(context), derived=derived)


def _libpysal_example(name: str) -> str:
    libpysal = pytest.importorskip("libpysal")
    try:
        return libpysal.examples.get_path(name)
    except Exception as exc:  # pragma: no cover - depends on the install
        pytest.skip(f"libpysal example file {name!r} is not bundled with this install ({exc})")


@pytest.fixture(scope="module")
def stl():
    """libpysal's St Louis homicide example with its own GAL weights.

    Returns (table, w) with ``ward_code`` set to the GAL ids ("1" .. "78").
    """
    libpysal = pytest.importorskip("libpysal")
    table = pd.read_csv(_libpysal_example("stl_hom.csv"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.io.open(_libpysal_example("stl.gal")).read()
    table["ward_code"] = [str(i) for i in range(1, len(table) + 1)]
    assert list(w.id_order) == table["ward_code"].tolist()
    return table, w


@pytest.fixture(scope="module")
def sids():
    libpysal = pytest.importorskip("libpysal")
    return libpysal.io.open(_libpysal_example("sids2.dbf")).to_df()


# ---------------------------------------------------------------------------
# Poisson intervals and rates
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "observed, lo, hi",
    [
        (65, 50.1632, 82.8491),  # Byar's method (>= 10 events)
        (3, 0.6187, 8.7673),  # exact Poisson (< 10 events)
        (0, 0.0, 3.6889),  # exact Poisson, zero events
    ],
)
def test_poisson_ci_reference_values(observed, lo, hi):
    got_lo, got_hi = measures.poisson_ci(observed, 0.95)
    assert round(got_lo, 4) == lo
    assert round(got_hi, 4) == hi


def test_poisson_ci_switches_from_exact_to_byar_at_ten():
    from scipy import stats

    # 9 events: exact, chi2(0.025, 18)/2 and chi2(0.975, 20)/2
    lo9, hi9 = measures.poisson_ci(9)
    assert lo9 == pytest.approx(stats.chi2.ppf(0.025, 18) / 2, rel=1e-12)
    assert hi9 == pytest.approx(stats.chi2.ppf(0.975, 20) / 2, rel=1e-12)
    # 10 events: Byar, written out
    z = stats.norm.ppf(0.975)
    lo10, hi10 = measures.poisson_ci(10)
    assert lo10 == pytest.approx(10 * (1 - 1 / 90 - z / (3 * np.sqrt(10))) ** 3, rel=1e-12)
    assert hi10 == pytest.approx(11 * (1 - 1 / 99 + z / (3 * np.sqrt(11))) ** 3, rel=1e-12)
    # and they differ from the exact limits at 10
    assert lo10 != pytest.approx(stats.chi2.ppf(0.025, 20) / 2, rel=1e-6)


def test_poisson_ci_vectorised_and_998_wider():
    obs = np.array([0, 3, 9, 10, 65, 1000])
    lo95, hi95 = measures.poisson_ci(obs, 0.95)
    lo998, hi998 = measures.poisson_ci(obs, 0.998)
    assert lo95.shape == obs.shape
    assert np.all(lo998 <= lo95) and np.all(hi998 > hi95)
    assert [round(v, 4) for v in (lo95[4], hi95[4])] == [50.1632, 82.8491]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=5000), st.sampled_from([0.9, 0.95, 0.99, 0.998]))
def test_poisson_ci_properties(observed, level):
    lo, hi = measures.poisson_ci(observed, level)
    assert 0 <= lo <= observed <= hi
    lo1, hi1 = measures.poisson_ci(observed + 1, level)
    assert lo1 > lo and hi1 > hi  # limits increase with the count


@pytest.mark.parametrize("level", [0, 1, 95, -0.5, float("nan")])
def test_poisson_ci_rejects_bad_level(level):
    with pytest.raises(GangmapError, match="level"):
        measures.poisson_ci(3, level)


def test_rate_columns_values_and_lineage():
    t = pd.DataFrame(
        {
            "ward_code": ["E05000001", "E05000002", "E05000003"],
            "reports": [3, 65, 0],
            "referrals": [1, 2, 3],
            "something_else": [0.1, 0.2, 0.3],
            "population": [1000.0, 10000.0, 500.0],
        }
    )
    t.attrs["gangmap_derived"] = {"something_else": ["referrals"]}
    before = t.copy(deep=True)
    attrs_before = copy.deepcopy(t.attrs)
    out = measures.rate(t, "reports", "population")
    # input untouched (values, columns and attrs); a plain frame gives a plain frame, no lineage
    pd.testing.assert_frame_equal(t, before)
    assert t.attrs == attrs_before
    assert out.attrs == {} and not isinstance(out, AreaTable)
    cols = ["reports_rate", "reports_rate_lo95", "reports_rate_hi95", "reports_rate_lo998", "reports_rate_hi998"]
    assert all(c in out.columns for c in cols)
    assert out["reports_rate"].tolist() == [3.0, 6.5, 0.0]
    # 3 events in 1,000 people: exact limits per 1,000 = count limits
    assert round(out.loc[0, "reports_rate_lo95"], 4) == 0.6187
    assert round(out.loc[0, "reports_rate_hi95"], 4) == 8.7673
    # 65 in 10,000 per 1,000: Byar limits / 10
    assert round(out.loc[1, "reports_rate_lo95"] * 10, 4) == 50.1632
    assert round(out.loc[1, "reports_rate_hi95"] * 10, 4) == 82.8491
    # 0 events in 500: upper 3.6889 / 500 * 1000
    assert out.loc[2, "reports_rate_hi95"] == pytest.approx(3.6889 * 2, abs=1e-3)
    assert (out["reports_rate_lo998"] <= out["reports_rate_lo95"]).all()
    # an AreaTable gives an AreaTable: the same values, the lineage in the schema, the old roles kept
    table = from_frame(t, counts=["reports", "referrals"], derived={"something_else": ["referrals"]},
                       context=["population"])
    res = measures.rate(table, "reports", "population")
    assert isinstance(res, AreaTable) and "reports_rate" not in table
    pd.testing.assert_frame_equal(res.frame[cols], out[cols])
    assert res.schema.derived["something_else"] == ("referrals",)
    for c in cols:
        assert res.schema.derived[c] == ("reports",)
        assert res.schema.notes[c]["measure"] == "rate" and res.schema.notes[c]["base"] == "reports"


def test_rate_per_and_name():
    t = pd.DataFrame({"ward_code": ["A"], "referrals": [4], "pop": [2000]})
    out = measures.rate(t, "referrals", "pop", per=100_000, name="ref_r")
    assert out.loc[0, "ref_r"] == pytest.approx(200.0)
    assert "ref_r_hi998" in out.columns and "referrals_rate" not in out.columns
    res = measures.rate(_table(t, counts=["referrals"], context=["pop"]), "referrals", "pop", per=100_000,
                        name="ref_r")
    assert res.schema.derived["ref_r_lo95"] == ("referrals",)
    assert res.schema.notes["ref_r"]["per"] == 100_000 and res.schema.notes["ref_r"]["name"] == "ref_r"


def test_rate_zero_population_error_lists_wards():
    t = pd.DataFrame(
        {
            "ward_code": ["E05000001", "E05000002", "E05000003", "E05000004"],
            "reports": [1, 2, 3, 4],
            "population": [100.0, 0.0, np.nan, 50.0],
        }
    )
    with pytest.raises(InputError) as err:
        measures.rate(t, "reports", "population")
    msg = str(err.value)
    assert "E05000002" in msg and "E05000003" in msg and "E05000001" not in msg
    assert "'population'" in msg and "on_zero='exclude'" in msg


def test_rate_zero_population_exclude():
    t = pd.DataFrame(
        {
            "ward_code": ["E05000001", "E05000002", "E05000003"],
            "reports": [1, 2, 3],
            "population": [100.0, 0.0, 50.0],
        }
    )
    out = measures.rate(_table(t, ["reports"], ["population"]), "reports", "population", on_zero="exclude")
    assert np.isnan(out["reports_rate"].iloc[1]) and np.isnan(out["reports_rate_hi998"].iloc[1])
    assert out["reports_rate"].iloc[2] == pytest.approx(60.0)
    assert out.schema.notes["reports_rate"]["excluded"] == ["E05000002"]


@pytest.mark.parametrize(
    "counts, fragment",
    [
        ([1, -2, 3], "negative"),
        ([1, np.nan, 3], "missing"),
        ([1, 2.5, 3], "non-whole"),
    ],
)
def test_rate_bad_counts_name_column_and_ward(counts, fragment):
    t = pd.DataFrame({"ward_code": ["W1", "W2", "W3"], "reports": counts, "population": [10.0] * 3})
    with pytest.raises(InputError) as err:
        measures.rate(t, "reports", "population")
    assert fragment in str(err.value) and "W2" in str(err.value) and "'reports'" in str(err.value)


def test_missing_column_names_it():
    t = pd.DataFrame({"ward_code": ["W1"], "reports": [1], "population": [10.0]})
    with pytest.raises(InputError, match="'referrals' not found"):
        measures.rate(t, "referrals", "population")


# ---------------------------------------------------------------------------
# smoothing against esda's published reference values
# ---------------------------------------------------------------------------


def test_excess_risk_matches_esda_reference(sids):
    # esda/tests/test_smoothing.py, TestSRate.er (SID74 / BIR74 on sids2)
    out = measures.excess_risk(sids, "SID74", "BIR74")
    np.testing.assert_allclose(
        out["SID74_excess"].to_numpy()[:5],
        [0.453433, 0.000000, 0.775871, 0.973810, 3.133190],
        rtol=1e-5,  # esda's tolerance (libpysal.common.RTOL); its 3.133190 is 3.1331885
    )
    lineage = measures.excess_risk(_table(sids, ["SID74"], ["BIR74"]), "SID74", "BIR74")
    assert lineage.schema.derived["SID74_excess"] == ("SID74",)


def test_eb_global_matches_esda_reference_sids(sids):
    # esda/tests/test_smoothing.py, TestSRate.eb (Empirical_Bayes on SID74 / BIR74)
    out = measures.eb_global(_table(sids, ["SID74"], ["BIR74"]), "SID74", "BIR74", per=1)
    np.testing.assert_allclose(
        out["SID74_eb"].to_numpy()[:5],
        [0.0016973, 0.0017054, 0.0017731, 0.0020129, 0.0035349],
        rtol=1e-4,
    )
    assert out.schema.notes["SID74_eb"]["clamped"] is False


def test_eb_global_matches_esda_reference_stl(stl):
    # esda.smoothing.Empirical_Bayes docstring: stl_hom.csv columns 11 and 14
    # (HC7984 homicides, PO7984 population).
    table, _ = stl
    out = measures.eb_global(table, "HC7984", "PO7984", per=1)
    expected = [
        2.36718950e-05, 4.54539167e-05, 4.78114019e-05, 2.76907146e-05, 6.58989323e-05,
        3.66494122e-05, 5.79952721e-05, 2.03064590e-05, 3.31152999e-05, 3.02748380e-05,
    ]
    np.testing.assert_allclose(out["HC7984_eb"].to_numpy()[:10], expected, rtol=1e-7)
    # and the whole vector agrees with esda itself (variance is positive here)
    from esda.smoothing import Empirical_Bayes

    np.testing.assert_allclose(
        out["HC7984_eb"].to_numpy(), Empirical_Bayes(table["HC7984"], table["PO7984"]).r.ravel(), rtol=1e-10
    )
    # per=1000 only scales
    out1000 = measures.eb_global(table, "HC7984", "PO7984")
    np.testing.assert_allclose(out1000["HC7984_eb"], out["HC7984_eb"] * 1000, rtol=1e-12)


def test_eb_spatial_matches_esda_reference_and_leaves_w_alone(stl):
    # esda/tests/test_smoothing.py, TestSRate.s_ebr10 (Spatial_Empirical_Bayes on
    # stl HC7984 / PO7984 with stl.gal)
    table, w = stl
    w = copy.deepcopy(w)
    w.transform = "r"  # caller's choice; esda would overwrite it
    neighbours_before = copy.deepcopy(dict(w.neighbors))
    weights_before = copy.deepcopy(dict(w.weights))
    out = measures.eb_spatial(_table(table, ["HC7984"], ["PO7984"]), "HC7984", "PO7984", w=w, per=1)
    expected = [
        4.01485749e-05, 3.62437513e-05, 4.93034844e-05, 5.09387329e-05, 3.72735210e-05,
        3.69333797e-05, 5.40245456e-05, 2.99806055e-05, 3.73034109e-05, 3.47270722e-05,
    ]
    np.testing.assert_allclose(out["HC7984_seb"].to_numpy()[:10], expected, rtol=1e-7)
    assert w.transform == "R"
    assert dict(w.neighbors) == neighbours_before and dict(w.weights) == weights_before
    # whole vector equals esda's (run on a private copy, since esda mutates w)
    from esda.smoothing import Spatial_Empirical_Bayes

    esda_r = Spatial_Empirical_Bayes(table["HC7984"], table["PO7984"], copy.deepcopy(w)).r.ravel()
    np.testing.assert_allclose(out["HC7984_seb"].to_numpy(), esda_r, rtol=1e-10)
    assert out.schema.derived["HC7984_seb"] == ("HC7984",)


def test_eb_global_negative_variance_is_clamped():
    # Three wards of 1,000 people with 4, 5 and 6 events.
    #   crude rates r = 0.004, 0.005, 0.006; overall m = 15 / 3000 = 0.005
    #   s^2 = sum(P (r - m)^2) / sum(P) = (1000 * 1e-6 + 0 + 1000 * 1e-6) / 3000 = 6.667e-7
    #   A = s^2 - m / mean(P) = 6.667e-7 - 0.005 / 1000 = -4.333e-6  (< 0)
    # Unclamped (esda): C = A / (A + m / P) = -4.333e-6 / 0.667e-6 = -6.5, so
    #   EB = C r + (1 - C) m = -6.5 * 0.004 + 7.5 * 0.005 = 0.0115 -> 11.5 per 1,000,
    #   and -1.5 per 1,000 for the third ward (a negative rate).
    # Clamped (GeoDa): A = 0, C = 0, every ward gets m = 5 per 1,000.
    t = pd.DataFrame({"ward_code": ["A", "B", "C"], "reports": [4, 5, 6], "population": [1000.0] * 3})
    out = measures.eb_global(_table(t, ["reports"], ["population"]), "reports", "population")
    np.testing.assert_allclose(out["reports_eb"], [5.0, 5.0, 5.0], rtol=1e-12)
    note = out.schema.notes["reports_eb"]
    assert note["clamped"] is True
    assert note["between_variance"] == pytest.approx(-4.3333e-6, rel=1e-4)
    from esda.smoothing import Empirical_Bayes

    unclamped = Empirical_Bayes(t["reports"], t["population"]).r.ravel() * 1000
    np.testing.assert_allclose(unclamped, [11.5, 5.0, -1.5], rtol=1e-9)


def test_eb_global_shrinks_small_wards_more():
    # hand-checked in the docstring example: A = 8.3459e-6 > 0
    t = pd.DataFrame({"reports": [0, 10, 40], "population": [500.0, 5000.0, 5000.0]})
    out = measures.eb_global(t, "reports", "population")
    np.testing.assert_allclose(out["reports_eb"], [2.5379, 2.2835, 7.6678], atol=1e-3)


def test_eb_spatial_default_weights_and_exclude():
    g = _grid(3, values=[1, 5, 9, 1, 5, 9, 1, 5, 9])
    g.loc[4, "population"] = 0.0
    with pytest.raises(InputError, match="E05000004"):
        measures.eb_spatial(g, "reports", "population")
    out = measures.eb_spatial(_table(g, ["reports"], ["population"]), "reports", "population", on_zero="exclude")
    assert np.isnan(out["reports_seb"].iloc[4])
    assert np.isfinite(out["reports_seb"].drop(index=4)).all()
    assert out.schema.notes["reports_seb"]["excluded"] == ["E05000004"]


# ---------------------------------------------------------------------------
# weights and islands
# ---------------------------------------------------------------------------


def test_weights_kinds():
    g = _grid(4)
    q, r = measures.weights(g, "queen"), measures.weights(g, "rook")
    assert q.cardinalities["E05000005"] == 8 and r.cardinalities["E05000005"] == 4
    assert list(q.id_order) == g["ward_code"].tolist()
    k = measures.weights(g, "knn", k=3)
    assert set(k.cardinalities.values()) == {3}
    d = measures.weights(g, "distance", threshold=1001)
    assert d.cardinalities["E05000005"] == 4  # centroids 1 km apart
    with pytest.raises(GangmapError, match="threshold"):
        measures.weights(g, "distance")
    with pytest.raises(GangmapError, match="kind"):
        measures.weights(g, "bishop")


def test_weights_knn_refuses_degrees():
    g = _grid(3).to_crs(4326)
    with pytest.raises(InputError, match="to_crs"):
        measures.weights(g, "knn", k=2)


def test_weights_duplicate_codes():
    g = _grid(2)
    g.loc[1, "ward_code"] = g.loc[0, "ward_code"]
    with pytest.raises(InputError, match="duplicated"):
        measures.weights(g)


def test_weights_islands_nearest_and_exclude():
    g = _grid(4, detached_value=1)
    w = measures.weights(g)
    assert isinstance(w, measures.Weights) and w.kind == "queen"
    assert w.islands == ("E05999999",)
    assert w.islands_policy == "nearest"
    # the detached square at x = -3000..-2000 is nearest to the square at 0..1000
    assert w.neighbors["E05999999"] == ["E05000000"]
    assert "E05999999" in w.neighbors["E05000000"]
    assert w.w.islands == [] and w.unconnected == ()  # libpysal: nobody is left without a neighbour
    we = measures.weights(g, islands="exclude")
    assert we.islands == ("E05999999",) and we.w.islands == ["E05999999"] and we.unconnected == ("E05999999",)
    # nothing is stuck on the libpysal object
    assert not [a for a in vars(w.w) if a.startswith("gangmap")]


def _island_case():
    """6 x 6 grid, a 2 x 2 block of 50s in one corner, ward 0 the unique maximum,
    and a detached square (value 80) whose nearest ward is ward 0."""
    vals = [50 if (i % 6 < 2 and i // 6 < 2) else 1 for i in range(36)]
    vals[0] = 90
    return _grid(6, values=vals, detached_value=80)


def test_island_never_significant_by_default_and_reported():
    g = _table(_island_case(), ["reports"], ["population"])
    for fn, col in ((measures.local_moran, "reports_lisa"), (measures.getis_ord, "reports_gi")):
        for alternative in ("two-sided", "directed"):
            out = fn(g, "reports", alternative=alternative)
            assert out[col].iloc[-1] == "island"
            assert np.isnan(out[col + "_p"].iloc[-1])
            assert out.schema.notes[col]["islands"] == ["E05999999"]
            assert out.schema.notes[col]["reported_as_island"] == ["E05999999"]
            # the corner block is still found
            assert (out[col].iloc[:36] != "ns").sum() >= 3
    # with islands excluded from the weights it is also labelled, and takes no part
    out = measures.local_moran(g, "reports", w=measures.weights(g, islands="exclude"))
    assert out["reports_lisa"].iloc[-1] == "island"
    # the guard matters: tested as an ordinary ward, the joined island comes out HH
    # (its only neighbour is the unique maximum: directed p = 1/37-ish < 0.05)
    tested = measures.local_moran(g, "reports", alternative="directed", test_islands=True)
    assert tested["reports_lisa"].iloc[-1] == "HH"


def test_local_moran_does_not_mutate_weights_or_global_rng():
    g = _grid(5, values=np.arange(25) % 7)
    weights = measures.weights(g)
    w = weights.w
    w.transform = "b"
    nb, wt = copy.deepcopy(dict(w.neighbors)), copy.deepcopy(dict(w.weights))
    np.random.seed(7)
    state = np.random.get_state()
    for supplied in (weights, w):  # a Weights and a plain libpysal W
        measures.local_moran(g, "reports", w=supplied, permutations=199)
        measures.getis_ord(g, "reports", w=supplied, permutations=199, fdr=True)
        measures.eb_spatial(g, "reports", "population", w=supplied)
    assert w.transform == "B"
    assert dict(w.neighbors) == nb and dict(w.weights) == wt
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2] == after[2]


def test_weights_mismatch_is_explained():
    g = _grid(3)
    w = measures.weights(_grid(2))
    with pytest.raises(InputError, match="do not match"):
        measures.local_moran(g, "reports", w=w)


def test_weights_in_other_order_are_aligned():
    vals = [9, 9, 1, 9, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]
    g = _grid(4, values=vals)
    w = measures.weights(g)
    shuffled = g.iloc[::-1].reset_index(drop=True)
    a = measures.local_moran(g, "reports", w=w)
    b = measures.local_moran(shuffled, "reports", w=w)
    b = b.set_index("ward_code").loc[a["ward_code"]]
    np.testing.assert_array_equal(a["reports_lisa"].to_numpy(), b["reports_lisa"].to_numpy())


# ---------------------------------------------------------------------------
# hotspots
# ---------------------------------------------------------------------------


def test_local_moran_matches_esda_directed(stl):
    """Through gangmap's API with alternative='directed', continuous data (no ties):
    the p-values equal esda's p_sim for the same seed, and labels follow esda's q."""
    import esda

    table, w = stl
    out = measures.local_moran(table, "HR8893", w=w, seed=42, alternative="directed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = esda.Moran_Local(table["HR8893"].to_numpy(), copy.deepcopy(w), permutations=999, seed=42)
    np.testing.assert_allclose(out["HR8893_lisa_p"].to_numpy(), lm.p_sim)
    quad = np.array(["", "HH", "LH", "LL", "HL"])
    expected = np.where(lm.p_sim <= 0.05, quad[lm.q], "ns")
    np.testing.assert_array_equal(out["HR8893_lisa"].to_numpy().astype(str), expected)
    assert set(expected) >= {"HH", "ns"}
    # two-sided p is exactly twice the directed one (capped at 1)
    two = measures.local_moran(table, "HR8893", w=w, seed=42)
    np.testing.assert_allclose(two["HR8893_lisa_p"], np.minimum(1, 2 * lm.p_sim))


def test_getis_ord_matches_esda_gi_star(stl):
    import esda
    from libpysal.weights import fill_diagonal

    table, w = stl
    out = measures.getis_ord(table, "HR8893", w=w, seed=3, alternative="directed")
    wb = copy.deepcopy(w)
    wb.transform = "b"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gi = esda.G_Local(
            table["HR8893"].to_numpy(), fill_diagonal(wb, 1), transform="B", star=True,
            permutations=999, seed=3, n_jobs=1,
        )
    np.testing.assert_allclose(out["HR8893_gi_z"].to_numpy(), gi.Zs, rtol=1e-10)
    np.testing.assert_allclose(out["HR8893_gi_p"].to_numpy(), gi.p_sim)
    sig = gi.p_sim <= 0.05
    assert (out["HR8893_gi"].to_numpy()[sig & (gi.Zs > 0)] == "hot").all()
    assert (out["HR8893_gi"].to_numpy()[sig & (gi.Zs < 0)] == "cold").all()
    assert (out["HR8893_gi"].to_numpy()[~sig] == "ns").all()
    assert {"hot", "cold"} <= set(out["HR8893_gi"])


def test_ties_with_zeros_are_not_significant():
    # A hot 2 x 2 block of 9s in a 6 x 6 grid of 1s; the far corner (ward 35, three
    # neighbours) sits among 1s only, so its Gi* is the smallest possible value.
    # esda's folded p_sim puts it at p = 0.001 ("cold"): every simulation is >= it.
    # Counting ties in both tails: p_ge = 1, and p_le = P(no 9 among the 3 wards
    # drawn from the other 35) = C(31,3) / C(35,3) = 4495 / 6545 = 0.687.
    import esda

    vals = [9 if (i % 6 < 2 and i // 6 < 2) else 1 for i in range(36)]
    g = _grid(6, values=vals)
    directed = measures.getis_ord(g, "reports", alternative="directed")
    assert directed.loc[35, "reports_gi"] == "ns"
    assert directed.loc[35, "reports_gi_p"] == pytest.approx(4495 / 6545, abs=0.04)
    two = measures.getis_ord(g, "reports")
    assert two.loc[35, "reports_gi"] == "ns" and two.loc[35, "reports_gi_p"] == 1.0
    for out in (directed, two):
        assert out.loc[0, "reports_gi"] == "hot"
        assert (out["reports_gi"] == "cold").sum() == 0
    # what esda alone would say about ward 35
    wb = measures.weights(g).w
    from libpysal.weights import fill_diagonal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gi = esda.G_Local(
            g["reports"].to_numpy(), fill_diagonal(wb, 1), transform="B", star=True,
            permutations=999, seed=1, n_jobs=1,
        )
    assert gi.p_sim[35] == pytest.approx(0.001)


def test_hotspots_seed_reproducible_and_seed_matters():
    rng = np.random.default_rng(0)
    g = _table(_grid(8, values=rng.poisson(5, 64)), ["reports"], ["population"])
    for fn, col in ((measures.local_moran, "reports_lisa_p"), (measures.getis_ord, "reports_gi_p")):
        a = fn(g, "reports", seed=11)
        b = fn(g, "reports", seed=11)
        c = fn(g, "reports", seed=12)
        np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())
        assert not np.array_equal(a[col].to_numpy(), c[col].to_numpy())
        assert a.schema.notes[col.rsplit("_", 1)[0]]["seed"] == 11


def test_fdr_never_more_significant_than_alpha():
    rng = np.random.default_rng(1)
    vals = rng.poisson(3, 100)
    vals[:30] += 12  # a large cluster along the bottom rows
    g = _table(_grid(10, values=vals), ["reports"], ["population"])
    for fn, col in ((measures.local_moran, "reports_lisa"), (measures.getis_ord, "reports_gi")):
        plain = fn(g, "reports")
        fdr = fn(g, "reports", fdr=True)
        n_plain = (plain[col] != "ns").sum()
        n_fdr = (fdr[col] != "ns").sum()
        assert n_plain > 0
        assert n_fdr <= n_plain
        assert fdr.schema.notes[col]["p_threshold"] <= 0.05
        # every FDR-significant ward is also significant at plain alpha
        assert set(fdr.index[fdr[col] != "ns"]) <= set(plain.index[plain[col] != "ns"])


def test_fdr_removes_noise_findings():
    # Pure Poisson noise: testing 100 wards at alpha = 0.05 finds "hotspots" by
    # chance (3 here for this seed); Benjamini-Hochberg finds none.
    rng = np.random.default_rng(1)
    g = _table(_grid(10, values=rng.poisson(5, 100)), ["reports"], ["population"])
    for fn, col in ((measures.local_moran, "reports_lisa"), (measures.getis_ord, "reports_gi")):
        plain = fn(g, "reports")
        fdr = fn(g, "reports", fdr=True)
        assert (plain[col] != "ns").sum() > 0
        assert (fdr[col] != "ns").sum() == 0
        assert fdr.schema.notes[col]["p_threshold"] == 0.0


def test_bh_threshold_hand_example():
    # p sorted: .001 .008 .039 .041 .042 .06 .074 .205; alpha .05, n = 8
    # critical k * .05 / 8: .00625 .0125 .01875 .025 .03125 .0375 .04375 .05
    # largest k with p_(k) <= crit: k = 2 (0.008 <= 0.0125) -> threshold 0.008
    p = np.array([0.041, 0.001, 0.06, 0.008, 0.205, 0.039, 0.042, 0.074])
    assert bh_threshold(p, 0.05) == pytest.approx(0.008)
    assert bh_threshold(np.array([0.5, 0.9]), 0.05) == 0.0


def test_hotspot_outputs_record_sources_chain():
    g = _table(_grid(4, values=[1, 2, 3, 4] * 4), ["reports"], ["population"])
    r = measures.rate(g, "reports", "population")
    out = measures.getis_ord(measures.local_moran(r, "reports_rate"), "reports_rate")
    d = out.schema.derived
    assert d["reports_rate_lisa"] == ("reports",) and d["reports_rate_gi_z"] == ("reports",)
    assert out.schema.notes["reports_rate_lisa"]["base"] == "reports_rate"
    assert set(out["reports_rate_lisa"]) <= set(measures.LISA_LABELS)
    assert set(out["reports_rate_gi"]) <= set(measures.GI_LABELS)


def test_hotspot_input_errors():
    g = _grid(3)
    g.loc[2, "reports"] = np.nan
    with pytest.raises(InputError, match="E05000002"):
        measures.local_moran(g, "reports")
    g = _grid(3, values=[1, -1, 2, 3, 4, 5, 6, 7, 8])
    with pytest.raises(InputError, match="negative"):
        measures.getis_ord(g, "reports")
    with pytest.raises(GangmapError, match="alpha"):
        measures.local_moran(_grid(3), "reports", permutations=99, alpha=0.001)


# ---------------------------------------------------------------------------
# need index
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["minmax", "zscore", "rank"])
def test_need_index_contributions_sum_and_range(method):
    rng = np.random.default_rng(2)
    g = _grid(5, values=rng.poisson(4, 25))
    g["referrals"] = rng.poisson(2, 25)
    g["population"] = rng.integers(800, 3000, 25).astype(float)
    g = _table(g, ["reports", "referrals"], ["population"])
    t = measures.rate(measures.rate(g, "reports", "population"), "referrals", "population")
    out = measures.need_index(t, method=method)
    comps = [f"need_index_{c}" for c in measures.DEFAULT_INDEX_WEIGHTS]
    np.testing.assert_allclose(out[comps].sum(axis=1), out["need_index"], atol=1e-9)
    assert out["need_index"].min() >= -1e-9 and out["need_index"].max() <= 100 + 1e-9
    if method == "zscore":
        assert out["need_index"].min() == pytest.approx(0) and out["need_index"].max() == pytest.approx(100)
    assert sorted(out.schema.derived["need_index"]) == ["referrals", "reports"]
    # contributions carry the union too (conservative: the zscore baseline ward
    # depends on every component)
    assert sorted(out.schema.derived["need_index_reports"]) == ["referrals", "reports"]


def test_need_index_hand_checked_minmax():
    # a: 0, 5, 10 -> 0, .5, 1; b: 1, 3, 2 -> 0, 1, .5; weights 3:1 -> .75, .25
    # index = 100 (.75 a + .25 b) = 0, 62.5, 87.5
    t = pd.DataFrame({"a": [0.0, 5.0, 10.0], "b": [1.0, 3.0, 2.0]})
    out = measures.need_index(t, {"a": 3, "b": 1})
    np.testing.assert_allclose(out["need_index"], [0, 62.5, 87.5])
    np.testing.assert_allclose(out["need_index_b"], [0, 25, 12.5])
    assert measures.need_index(_table(t, ["a", "b"]), {"a": 3, "b": 1}).schema.derived["need_index"] == ("a", "b")
    # rank: a ranks 0, .5, 1; b ranks 0, 1, .5 -> same here
    np.testing.assert_allclose(measures.need_index(t, {"a": 3, "b": 1}, method="rank")["need_index"], [0, 62.5, 87.5])


def test_need_index_missing_columns_and_nan():
    t = pd.DataFrame({"ward_code": ["A", "B", "C"], "reports": [1, 2, 3]})
    with pytest.raises(InputError, match="measures.rate"):
        measures.need_index(t)
    t["x"] = [1.0, np.nan, 3.0]
    out = measures.need_index(_table(t, ["reports"], ["x"]), {"reports": 1, "x": 1})
    assert np.isnan(out["need_index"].iloc[1])
    assert out.schema.notes["need_index"]["excluded"] == ["B"]
    with pytest.raises(GangmapError, match="weight"):
        measures.need_index(t, {"reports": -1})


# ---------------------------------------------------------------------------
# funnel plots
# ---------------------------------------------------------------------------


def _funnel_table():
    return pd.DataFrame(
        {
            "ward_code": [f"W{i}" for i in range(8)],
            "ward_name": list("ABCDEFGH"),
            "reports": [10, 12, 9, 11, 10, 13, 2, 30],
            "population": [1000.0] * 8,
        }
    )


def _tails(k: int, mu: float) -> tuple[float, float]:
    """P(Y <= k) and P(Y >= k) for Y ~ Poisson(mu), by summing the pmf (no scipy)."""
    pmf, terms = math.exp(-mu), []
    for j in range(0, k + 400):
        terms.append(pmf)
        pmf *= mu / (j + 1)
    return math.fsum(terms[: k + 1]), 1.0 - math.fsum(terms[:k])


def _brute_label(k: int, mu: float) -> str:
    low, high = _tails(k, mu)
    for p, name in ((0.001, "99.8%"), (0.025, "95%")):
        if low < p:
            return f"below {name}"
        if high < p:
            return f"above {name}"
    return "within"


def test_funnel_labels_exact_poisson():
    # mean = 97 / 8000 -> expected 12.125 per ward. Exact Poisson, pmf summed by hand:
    #   P(Y <= 2) = e^-12.125 (1 + 12.125 + 73.5) = 4.7e-4 < 0.001 -> 2 is below 99.8%
    #   P(Y >= 30) < 0.001 -> 30 is above 99.8%; 9..13 are within.
    out = measures.funnel(_funnel_table(), "reports", "population")
    assert out["reports_funnel"].tolist() == ["within"] * 6 + ["below 99.8%", "above 99.8%"]
    assert out["reports_funnel"].tolist() == [_brute_label(k, 12.125) for k in _funnel_table()["reports"]]
    assert set(out["reports_funnel"]) <= set(measures.FUNNEL_LABELS)
    lineage = measures.funnel(_table(_funnel_table(), ["reports"], ["population"]), "reports", "population")
    assert lineage.schema.derived["reports_funnel"] == ("reports",)


def test_funnel_labels_95_band():
    # 14 wards of 1,000: total 191 -> expected 191 / 14 = 13.643 each.
    # 5 -> below 95% only, 24 -> above 95% only, 2 and 40 -> beyond 99.8% (exact tails by hand).
    t = pd.DataFrame({"reports": [12] * 10 + [5, 24, 2, 40], "population": [1000.0] * 14})
    out = measures.funnel(t, "reports", "population")
    assert out["reports_funnel"].tolist()[-5:] == ["within", "below 95%", "above 95%", "below 99.8%", "above 99.8%"]
    assert out["reports_funnel"].tolist() == [_brute_label(k, 191 / 14) for k in t["reports"]]
    # the rate intervals keep the Fingertips convention (Byar from 10 events)
    lo95, hi95 = measures.poisson_ci(191 / 14, 0.95)
    lo998, hi998 = measures.poisson_ci(191 / 14, 0.998)
    assert [round(v, 3) for v in (lo95, hi95, lo998, hi998)] == [7.385, 23.042, 4.945, 29.403]


def test_funnel_limits_shape():
    lim = measures.funnel_limits(_funnel_table(), "reports", "population", points=50)
    assert len(lim) == 50
    assert np.allclose(lim["mean"], 12.125)
    assert (lim["lo998"] <= lim["lo95"]).all() and (lim["lo95"] <= lim["mean"]).all()
    assert (lim["mean"] <= lim["hi95"]).all() and (lim["hi95"] <= lim["hi998"]).all()
    # the funnel narrows as population grows
    assert lim["hi998"].iloc[-1] < lim["hi998"].iloc[0]


def test_funnel_plot_figure_and_png(tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    open_before = plt.get_fignums()
    t = _funnel_table()
    before = t.copy()
    fig = measures.funnel_plot(t, "reports", "population", title="Test")
    assert isinstance(fig, Figure)
    assert not list(tmp_path.iterdir())  # pure: writes nothing
    assert sorted(x.get_text() for x in fig.axes[0].texts) == ["G", "H"]
    assert fig.axes[0].get_title() == "Test"
    fig95 = measures.funnel_plot(t, "reports", "population", label_outside=0.95)
    assert {x.get_text() for x in fig95.axes[0].texts} >= {"G", "H"}
    assert plt.get_fignums() == open_before  # no pyplot state touched
    pd.testing.assert_frame_equal(t, before)
    with pytest.raises(InputError, match="'name'"):
        measures.funnel_plot(t, "reports", "population", label="name")


# ---------------------------------------------------------------------------
# real data: Northamptonshire wards and police.uk crimes, March 2018
# ---------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_northamptonshire_hotspots():
    wards_path = DATA / "boundaries" / "northamptonshire_wards_2013.geojson"
    police_path = DATA / "police" / "2018-03-northamptonshire-street.csv"
    if not (wards_path.exists() and police_path.exists()):
        pytest.skip(f"real reference data not found under {DATA} (../shared/data beside the repo)")
    wards = gpd.read_file(wards_path)
    assert wards.crs.to_epsg() == 4326
    wards = wards.rename(
        columns={"WD13CD": "ward_code", "WD13NM": "ward_name", "LAD13CD": "lad_code", "LAD13NM": "lad_name"}
    ).to_crs(27700)
    assert len(wards) == 146
    crimes = pd.read_csv(police_path)
    points = gpd.GeoDataFrame(
        crimes, geometry=gpd.points_from_xy(crimes["Longitude"], crimes["Latitude"]), crs=4326
    ).to_crs(27700)
    joined = gpd.sjoin(points, wards[["ward_code", "geometry"]], how="inner", predicate="within")
    for crime_type, col in (("Drugs", "drugs"), ("Possession of weapons", "weapons")):
        per_ward = joined[joined["Crime type"] == crime_type].groupby("ward_code").size()
        wards[col] = wards["ward_code"].map(per_ward).fillna(0).astype(int)
    assert wards["drugs"].sum() == 124 and wards["weapons"].sum() == 56  # all inside the county

    w = measures.weights(wards)
    assert w.n == 146
    for col in ("drugs", "weapons"):
        lisa = measures.local_moran(from_frame(wards, counts=["drugs", "weapons"]), col, w=w, seed=2018)
        gi = measures.getis_ord(lisa, col, w=w, seed=2018)
        assert gi.schema.derived[f"{col}_gi"] == (col,) and gi.schema.derived[f"{col}_lisa"] == (col,)
        gi = gi.frame
        assert len(gi) == 146 and gi["ward_code"].tolist() == wards["ward_code"].tolist()
        assert set(gi[f"{col}_lisa"]) <= set(measures.LISA_LABELS)
        assert set(gi[f"{col}_gi"]) <= set(measures.GI_LABELS)
        p = gi[f"{col}_lisa_p"].dropna()
        assert ((p > 0) & (p <= 1)).all()
        # Northampton town centre: drugs offences cluster there
        if col == "drugs":
            assert (gi[f"{col}_gi"] == "hot").sum() >= 1
            hot_districts = set(gi.loc[gi[f"{col}_gi"] == "hot", "lad_name"])
            assert "Northampton" in hot_districts
        again = measures.getis_ord(measures.local_moran(wards, col, w=w, seed=2018), col, w=w, seed=2018)
        pd.testing.assert_series_equal(gi[f"{col}_lisa"], again[f"{col}_lisa"])
        pd.testing.assert_series_equal(gi[f"{col}_gi_p"], again[f"{col}_gi_p"])
        assert "geometry" in gi.columns and gi.crs.to_epsg() == 27700


def test_funnel_from_safe_table_leaves_out_suppressed_wards_but_keeps_the_county_rate():
    import gangmap
    from gangmap.disclosure import make_safe

    p = gangmap.demo.paths()
    t, _ = gangmap.join(p["wards"], reports=p["reports"], population=p["population"], category="Weapons concern")
    safe = make_safe(t, ["reports"], keep=["population"])
    fig = measures.funnel_plot(safe, "reports", "population")
    ax = fig.axes[0]
    drawn = sum(len(c.get_offsets()) for c in ax.collections)
    hidden = int(safe.suppressed["reports"].sum())
    assert hidden > 0 and drawn == len(t) - hidden
    assert any(f"{hidden} wards with a suppressed count" in x.get_text() for x in ax.texts)
    # Centre line: the county's safe total over all children, not the mean of the wards drawn.
    county = float(safe.totals.loc[safe.totals["level"] == "county", "reports"].iloc[0])
    centre = ax.lines[0].get_ydata()[0]
    assert centre == pytest.approx(county / t["population"].sum() * 1000, rel=1e-9)
    with pytest.raises(GangmapError, match="keep="):
        measures.funnel_plot(make_safe(t.to_frame().drop(columns="population"), ["reports"]), "reports",
                             "population")
