"""The registry of measures: layer names, ensure/ensure_all/available/title, recompute (issues 11, 12)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from gangmap import measures
from gangmap.errors import ConfigError, InputError
from gangmap.measures import registry
from gangmap.table import AreaTable, from_frame


def _grid(n=6, geography="ward", seed=1):
    rng = np.random.default_rng(seed)
    prefix = {"ward": "E05", "lsoa": "E01"}[geography]
    g = gpd.GeoDataFrame({
        f"{geography}_code": [f"{prefix}{i:06d}" for i in range(n * n)],
        f"{geography}_name": [f"Area {i}" for i in range(n * n)],
        "reports": rng.poisson(6, n * n),
        "referrals": rng.poisson(3, n * n),
        "population": rng.integers(600, 2500, n * n).astype(float),
    }, geometry=[box(i % n, i // n, i % n + 1, i // n + 1) for i in range(n * n)], crs=27700)
    g.loc[: n + 2, "reports"] += 9  # a corner cluster
    return from_frame(g, counts=["reports", "referrals"], context=["population"])


@pytest.fixture(scope="module")
def table():
    return _grid()


SPELLED_OUT = [
    "reports", "reports_rate", "reports_eb", "reports_excess", "reports_seb", "reports_funnel",
    "reports_lisa", "reports_gi", "reports_rate_lisa", "reports_rate_gi", "reports_eb_lisa", "reports_eb_gi",
    "reports_excess_lisa", "reports_excess_gi", "reports_seb_lisa", "reports_seb_gi",
    "referrals", "referrals_rate", "referrals_eb", "referrals_excess", "referrals_seb", "referrals_funnel",
    "referrals_lisa", "referrals_gi", "referrals_rate_lisa", "referrals_rate_gi", "referrals_eb_lisa",
    "referrals_eb_gi", "referrals_excess_lisa", "referrals_excess_gi", "referrals_seb_lisa", "referrals_seb_gi",
    "need_index",
]


def test_the_registry_declares_every_measure():
    r = measures.REGISTRY
    assert set(r) == {"rate", "eb", "seb", "excess", "funnel", "lisa", "gi", "trend", "ehsa", "need_index"}
    assert r["rate"].suffix == "_rate" and r["rate"].needs == ("population",)
    assert r["seb"].needs == ("population", "weights") and r["ehsa"].needs == ("series", "weights")
    assert r["need_index"].suffix is None and "rate" in r["need_index"].needs
    assert {m for m, v in r.items() if v.categorical} == {"funnel", "lisa", "gi", "trend", "ehsa"}
    assert r["rate"].columns("reports") == ["reports_rate", "reports_rate_lo95", "reports_rate_hi95",
                                            "reports_rate_lo998", "reports_rate_hi998"]
    assert measures.is_categorical("reports_rate_lisa") and not measures.is_categorical("reports_seb")
    assert measures.categories("reports_gi") == measures.GI_LABELS
    assert measures.categories("referrals_ehsa") == measures.EHSA_LABELS


def test_available_lists_exactly_the_valid_layers(table):
    assert sorted(measures.available(table)) == sorted(SPELLED_OUT)
    no_geo = from_frame(pd.DataFrame(table.frame.drop(columns="geometry")), counts=["reports", "referrals"],
                        context=["population"])
    assert sorted(measures.available(no_geo)) == sorted(n for n in SPELLED_OUT if "_seb" not in n and
                                                        "_lisa" not in n and "_gi" not in n)
    no_pop = from_frame(table.frame.drop(columns="population"), counts=["reports"])
    assert measures.available(no_pop) == ["reports", "reports_lisa", "reports_gi"]
    series = {"reports": pd.DataFrame()}
    assert {"reports_trend", "reports_ehsa"} <= set(measures.available(table, series=series))
    assert "referrals_trend" not in measures.available(table, series=series)


def test_every_available_layer_is_computed_declared_and_noted(table):
    out = measures.ensure_all(table, SPELLED_OUT, permutations=199)
    assert isinstance(out, AreaTable) and out.schema.skipped == ()
    new = [c for c in out.columns if c not in table.columns]
    assert {n for n in SPELLED_OUT if n not in table.columns} <= set(new)
    for c in new:
        assert out.schema.role(c) == "derived", c
        note = out.schema.notes[c]
        assert note["measure"] in measures.REGISTRY and "base" in note, c
        m = measures.REGISTRY[note["measure"]]
        if m.base != "none":
            assert c.startswith(m.layer(note["base"])), c
    assert out.schema.derived["reports_eb_gi"] == ("reports",)
    assert out.schema.derived["referrals_rate_lisa_p"] == ("referrals",)
    assert sorted(out.schema.derived["need_index"]) == ["referrals", "reports"]
    for layer in SPELLED_OUT:
        if measures.is_categorical(layer):
            assert set(out[layer].dropna()) <= set(measures.categories(layer)), layer
    # ensure is idempotent and leaves what is there alone
    again = measures.ensure(out, "reports_rate_lisa")
    assert again is out


def test_plain_frames_stay_plain(table):
    frame = table.frame.copy()
    out = measures.ensure(frame, "reports_eb_lisa", permutations=99)
    assert isinstance(out, gpd.GeoDataFrame) and not isinstance(out, AreaTable)
    assert out.attrs == {} and "reports_eb" in out and "reports_eb_lisa" in out
    # a plain frame has no roles: any numeric column may be a base
    sids = pd.DataFrame({"SID74": [1, 2, 3], "BIR74": [100.0, 200.0, 300.0]})
    assert measures.ensure(sids, "SID74_rate", population="BIR74")["SID74_rate"].tolist() == [10.0] * 3


def test_unknown_and_missing_layers(table):
    with pytest.raises(ConfigError, match="unknown layer 'reports_ratee'") as err:
        measures.ensure(table, "reports_ratee")
    assert "reports_rate" in str(err.value) and "need_index" in str(err.value)
    for bad in ("reports_funnel_lisa", "need_index_gi", "population_rate", "reports_lisa_gi"):
        with pytest.raises(ConfigError, match="unknown layer"):
            measures.ensure(table, bad)
    only_reports = from_frame(table.frame.drop(columns="referrals"), counts=["reports"], context=["population"])
    with pytest.raises(measures.MissingInput, match="'referrals'"):
        measures.ensure(only_reports, "referrals_rate")
    with pytest.raises(measures.MissingInput, match="series"):
        measures.ensure(table, "reports_ehsa")


def test_ensure_all_skips_what_the_table_cannot_make_and_records_it(table):
    no_pop = from_frame(table.frame.drop(columns=["population", "referrals"]), counts=["reports"])
    names = ["reports", "reports_rate", "reports_gi", "referrals_rate", "need_index", "reports_trend"]
    out = measures.ensure_all(no_pop, names, missing="skip", permutations=99)
    assert out.schema.skipped == ("reports_rate", "referrals_rate", "need_index", "reports_trend")
    assert "reports_gi" in out and "reports_rate" not in out
    with pytest.raises(measures.MissingInput, match="population"):
        measures.ensure_all(no_pop, names)
    with pytest.raises(ConfigError, match="unknown layer"):
        measures.ensure_all(no_pop, ["reports_gi", "nonsense"], missing="skip")
    with pytest.warns(UserWarning, match="reports_rate"):
        measures.ensure_all(no_pop.frame, ["reports_rate"], missing="skip")


def test_weights_are_built_once_for_many_layers(table, monkeypatch):
    calls = []
    real = registry.weights
    monkeypatch.setattr(registry, "weights", lambda t, *a, **k: calls.append(1) or real(t, *a, **k))
    measures.ensure_all(table, ["reports_lisa", "reports_gi", "reports_seb", "referrals_rate_gi"], permutations=99)
    assert len(calls) == 1


def test_titles_follow_the_geography_labels_and_notes():
    t = _grid(4, "lsoa").with_schema(labels={"population": "children aged 10–17"}, periods=("2018-01", "2018-06"))
    assert measures.title("reports", t) == "Reports (count)"
    assert measures.title("reports_rate", t) == "Reports per 1,000 children aged 10–17"
    assert measures.title("referrals_seb", t).endswith("smoothed with neighbouring LSOAs (spatial empirical Bayes)")
    assert measures.title("reports_rate_lisa", t) == \
        "Hotspots: local Moran clusters of reports per 1,000 children aged 10–17"
    assert measures.title("reports_ehsa", t) == "Emerging hot spots of reports by LSOA, 2018-01 to 2018-06"
    assert measures.title("need_index", t) == "Need index (0–100)"
    per = measures.rate(t, "reports", "population", per=100_000)
    assert measures.title("reports_rate", per) == "Reports per 100,000 children aged 10–17"
    assert measures.title("reports_eb", _grid(3)) == "Reports per 1,000 people, smoothed (empirical Bayes)"
    labelled = _grid(3).with_schema(labels={"reports": "Weapons concerns (count)"})
    assert measures.title("reports_gi", labelled) == "Hotspots: Getis-Ord Gi* of weapons concerns (count)"


LAYERS = ["reports_rate", "reports_eb", "reports_seb", "reports_excess", "reports_funnel", "reports_lisa",
          "reports_gi", "reports_rate_gi", "need_index"]


@pytest.fixture(scope="module")
def computed(table):
    return measures.ensure_all(table, LAYERS, permutations=199)


@pytest.mark.parametrize("layer", LAYERS)
def test_recompute_on_unchanged_values_gives_the_same_columns(computed, layer):
    again = measures.recompute(computed, layer)
    cols = [c for c in computed.columns if computed.schema.notes.get(c) == computed.schema.notes[layer]]
    pd.testing.assert_frame_equal(pd.DataFrame(again.frame[cols]), pd.DataFrame(computed.frame[cols]))
    assert again.schema.notes[layer]["measure"] == computed.schema.notes[layer]["measure"]


@pytest.mark.parametrize("layer", LAYERS)
def test_recompute_never_reads_hidden_areas(computed, layer):
    """Suppressed (NaN) counts give NaN outputs there, and the shown values do not depend on the hidden
    counts at all: any other hidden values give the same published figures."""
    hidden = np.zeros(len(computed), bool)
    hidden[[0, 7, 20, 33]] = True
    rng = np.random.default_rng(4)
    results = []
    for trial in range(3):
        frame = computed.frame.copy()
        if trial == 0:
            frame.loc[hidden, ["reports", "referrals"]] = np.nan  # suppressed
        else:
            frame.loc[hidden, "reports"] = rng.integers(0, 60, hidden.sum())  # anything at all
            frame.loc[hidden, "referrals"] = rng.integers(0, 60, hidden.sum())
        t = AreaTable(frame, computed.schema)
        for base in ("reports_rate", "referrals_rate") if layer in ("need_index", "reports_rate_gi") else ():
            t = measures.recompute(t, base, exclude=hidden)
        results.append(measures.recompute(t, layer, exclude=None if trial == 0 else hidden))
    cols = [c for c in results[0].columns if results[0].schema.notes.get(c, {}).get("measure") ==
            computed.schema.notes[layer]["measure"] and c.startswith(layer if layer != "need_index" else "need")]
    for c in cols:
        first = results[0][c]
        assert first[hidden].isna().all(), c
        for other in results[1:]:
            pd.testing.assert_series_equal(first[~hidden], other[c][~hidden], check_names=False)


def test_recompute_pools_only_shown_areas(computed):
    """Global EB over the shown areas equals global EB computed on a table of the shown areas alone."""
    hidden = np.zeros(len(computed), bool)
    hidden[[1, 2, 3, 30]] = True
    frame = computed.frame.copy()
    frame.loc[hidden, "reports"] = np.nan
    again = measures.recompute(AreaTable(frame, computed.schema), "reports_eb")
    shown = computed.frame.loc[~hidden, ["ward_code", "reports", "population"]]
    alone = measures.eb_global(pd.DataFrame(shown), "reports", "population")
    np.testing.assert_allclose(again["reports_eb"][~hidden], alone["reports_eb"], rtol=1e-12)
    # and rates from rounded (safe) counts are the rounded count over the population
    frame = computed.frame.copy()
    frame["reports"] = (frame["reports"] / 5).round() * 5
    rounded = measures.recompute(AreaTable(frame, computed.schema), "reports_rate_hi95")
    np.testing.assert_allclose(rounded["reports_rate"], frame["reports"] / frame["population"] * 1000)


def test_recompute_needs_a_recipe(table):
    with pytest.raises(ConfigError, match="no measure recipe"):
        measures.recompute(table, "reports")
    with pytest.raises(ConfigError, match="AreaTable"):
        measures.recompute(table.frame, "reports_rate")


def test_recompute_all_runs_every_recipe_inputs_first(computed):
    hidden = np.zeros(len(computed), bool)
    hidden[[5, 6, 12]] = True
    frame = computed.frame.copy()
    frame.loc[hidden, ["reports", "referrals"]] = np.nan
    frame["reports"] = (frame["reports"] / 5).round() * 5  # safe, rounded counts
    safe = AreaTable(frame, computed.schema)
    everything = measures.recompute_all(safe)
    by_hand = safe
    for col in ("reports_rate", "referrals_rate", "reports_eb", "reports_seb", "reports_excess", "reports_funnel",
                "reports_lisa", "reports_gi", "reports_rate_gi", "need_index"):
        by_hand = measures.recompute(by_hand, col)
    derived = [c for c in computed.columns if computed.schema.role(c) == "derived"]
    pd.testing.assert_frame_equal(pd.DataFrame(everything.frame[derived]), pd.DataFrame(by_hand.frame[derived]))
    assert everything["need_index"][hidden].isna().all() and everything["reports_rate_gi"][hidden].isna().all()
    np.testing.assert_allclose(everything["reports_rate"][~hidden],
                               (frame["reports"] / frame["population"] * 1000)[~hidden])


def test_ensure_leaves_out_areas_with_no_data_instead_of_reading_zero(table):
    frame = table.frame.copy()
    frame["reports"] = frame["reports"].astype(float)
    frame.loc[[3, 4], "reports"] = np.nan  # no data for two areas
    t = AreaTable(frame, table.schema)
    out = measures.ensure_all(t, ["reports_eb", "reports_gi", "reports_rate_lisa"], permutations=99)
    for col in ("reports_eb", "reports_rate", "reports_gi", "reports_rate_lisa"):
        assert out[col].iloc[[3, 4]].isna().all(), col
    shown = measures.eb_global(pd.DataFrame(frame.drop(index=[3, 4])), "reports", "population")
    np.testing.assert_allclose(out["reports_eb"].drop(index=[3, 4]), shown["reports_eb"])
    with pytest.raises(InputError, match="missing"):
        measures.eb_global(t, "reports", "population")  # called directly, a gap is an error to fix
