"""Protection never rests on DataFrame.attrs: roles come from the AreaTable schema or the arguments.

Regression tests for issue 11: on the demo, a rate kept through a pandas
``merge`` / ``concat`` / column assignment used to reach the output with its
lineage lost, and rate x population gave every hidden count back. Every
published value is checked against the raw counts by an attacker written
here (rate x population, every number in the row), not by the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gangmap
from gangmap import measures
from gangmap.disclosure import SafeTable, audit, make_safe
from gangmap.errors import DisclosureError
from gangmap.geography import custom
from gangmap.table import AreaTable, from_frame

RATE_COLUMNS = ["reports_rate", "reports_rate_lo95", "reports_rate_hi95", "reports_rate_lo998", "reports_rate_hi998"]


def frame_of(t) -> pd.DataFrame:
    return t.frame if isinstance(t, AreaTable) else t


@pytest.fixture(scope="module")
def weapons():
    """The issue's repro: the demo joined for one category, with rates."""
    p = gangmap.demo.paths()
    table, _ = gangmap.join(p["wards"], reports=p["reports"], population=p["population"],
                            category="Weapons concern")
    table = measures.rate(table, "reports", "population")
    raw = frame_of(table)[["ward_code", "reports", "population"]].reset_index(drop=True)
    return table, raw


def extra_for(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"ward_code": frame["ward_code"], "target": np.arange(len(frame)) % 2})


def poisson_bounds(c: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson limits, and Byar's from 10 events (the Fingertips convention), written here."""
    from scipy import stats

    a, z = 1 - level, stats.norm.ppf(1 - (1 - level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(c > 0, stats.chi2.ppf(a / 2, 2 * c) / 2, 0.0)
        hi = stats.chi2.ppf(1 - a / 2, 2 * c + 2) / 2
        byar_lo = c * (1 - 1 / (9 * c) - z / (3 * np.sqrt(c))) ** 3
        byar_hi = (c + 1) * (1 - 1 / (9 * (c + 1)) + z / (3 * np.sqrt(c + 1))) ** 3
    return np.where(c >= 10, byar_lo, lo), np.where(c >= 10, byar_hi, hi), lo, hi


def recoverable_by_rate(safe: SafeTable, raw: pd.DataFrame) -> list[str]:
    """Wards whose raw count (hidden or rounded away) the issue's attacks give back.

    rate x population / 1,000, and each interval bound inverted (the count whose bound, per 1,000
    of the public population, is nearest the published one), exact and Byar.
    """
    out = []
    frame = safe.frame.reset_index(drop=True)
    pop = raw["population"].to_numpy(dtype=float)
    cands = np.arange(0, 2000, dtype=float)
    for i, (code, x) in enumerate(zip(raw["ward_code"], raw["reports"])):
        if frame.loc[i, "reports"] == x:
            continue  # nothing to recover: the exact count is published
        guesses = []
        if "reports_rate" in frame and np.isfinite(frame.loc[i, "reports_rate"]):
            guesses.append(round(frame.loc[i, "reports_rate"] * pop[i] / 1000))
        for col in RATE_COLUMNS[1:]:
            if col in frame and np.isfinite(frame.loc[i, col]):
                level = 0.95 if col.endswith("95") else 0.998
                for k, bound in enumerate(poisson_bounds(cands, level)):
                    if (k % 2 == 0) == ("_lo" in col):
                        guesses.append(cands[np.nanargmin(np.abs(bound / pop[i] * 1000 - frame.loc[i, col]))])
        if x in guesses:
            out.append(code)
    return out


def test_merge_repro_is_refused_and_nothing_recoverable(weapons):
    table, raw = weapons
    merged = frame_of(table).merge(extra_for(frame_of(table)), on="ward_code")
    with pytest.raises(DisclosureError, match=r"keep lists 'reports_rate', whose role is not declared.*"
                                              r"population.*context=\[.*derived=.*from_frame"):
        make_safe(merged, ["reports"], keep=["reports_rate", "population"])
    # Kept out, nothing derived gets through; declared, the rate is made safe with its count.
    safe = make_safe(merged, ["reports"], context=["population"])
    assert not set(RATE_COLUMNS) & set(safe.frame.columns)
    assert recoverable_by_rate(safe, raw) == []
    declared = from_frame(merged, counts=["reports"], context=["population"],
                          derived={c: ["reports"] for c in RATE_COLUMNS})
    safe = make_safe(declared)
    assert safe.suppressed["reports"].sum() >= 10  # the demo's weapons map hides many wards
    assert recoverable_by_rate(safe, raw) == []
    assert (audit(safe)["values"] >= 3).all()


def test_concat_and_column_assignment_variants_are_refused(weapons):
    table, raw = weapons
    frame = frame_of(table)
    joined = pd.concat([frame.reset_index(drop=True), extra_for(frame).drop(columns="ward_code")], axis=1)
    with pytest.raises(DisclosureError, match="keep lists 'reports_rate'"):
        make_safe(joined, ["reports"], keep=["reports_rate", "population"])
    stacked = pd.concat([frame, frame.iloc[:0]])  # concat of two tables of the same areas
    with pytest.raises(DisclosureError, match="keep lists 'reports_rate_hi95'"):
        make_safe(stacked, ["reports"], context=["population"], keep=["population", "reports_rate_hi95"])
    assigned = frame.copy()
    assigned["risk"] = assigned["reports_rate"] * 2
    with pytest.raises(DisclosureError, match="keep lists 'risk', whose role is not declared"):
        make_safe(assigned, ["reports"], context=["population"], keep=["population", "risk"])
    safe = make_safe(assigned, ["reports"], context=["population"])
    assert "risk" in safe.dropped and "risk" not in safe.frame.columns
    assert recoverable_by_rate(safe, raw) == []


def test_column_assigned_into_an_area_table_frame_is_not_trusted():
    t = from_frame(pd.DataFrame({"ward_code": ["W1", "W2", "W3"], "lad_code": ["D1"] * 3,
                                 "reports": [3, 20, 40], "population": [900.0, 1000.0, 1100.0]}),
                   counts=["reports"], context=["population"])
    t.frame["reports_rate"] = t.frame["reports"] / t.frame["population"] * 1000  # behind the schema's back
    with pytest.raises(DisclosureError, match="keep lists 'reports_rate', whose role is not declared"):
        make_safe(t, keep=["population", "reports_rate"])
    safe = make_safe(t)
    assert "reports_rate" not in safe.frame.columns and "reports_rate" in safe.dropped


def test_attrs_are_ignored():
    df = pd.DataFrame({"ward_code": ["W1", "W2", "W3"], "lad_code": ["D1"] * 3, "reports": [3, 20, 40],
                       "population": [900.0, 1000.0, 1100.0]})
    df["reports_rate"] = df["reports"] / df["population"] * 1000
    df.attrs["gangmap_derived"] = {"reports_rate": ["reports"]}
    df.attrs["gangmap_counts"] = ["reports"]
    safe = make_safe(df, ["reports"], context=["population"])
    assert "reports_rate" not in safe.frame.columns  # lineage in attrs is not a declaration
    with pytest.raises(DisclosureError, match="make_safe needs at least one raw count column"):
        make_safe(df)


def fake_recompute(table: AreaTable, column: str):
    """A stand-in for gangmap.measures.recompute: the rate family from the published table's counts."""
    from scipy import stats

    note = table.schema.notes[column]
    assert note["measure"] == "rate"
    count = table[note["base"]].to_numpy(dtype=float)
    per = note.get("per", 1000)
    pop = table[note["population"]].to_numpy(dtype=float)
    suffix = column[len(f"{note['base']}_rate"):]
    if suffix == "":
        return count / pop * per
    level = {"95": 0.95, "998": 0.998}[suffix[3:]]
    a = 1 - level
    with np.errstate(invalid="ignore"):
        if suffix.startswith("_lo"):
            bound = np.where(count > 0, stats.chi2.ppf(a / 2, 2 * count) / 2, 0.0)
        else:
            bound = stats.chi2.ppf(1 - a / 2, 2 * count + 2) / 2
    return np.where(np.isnan(count), np.nan, bound / pop * per)


def test_declared_rates_are_recomputed_through_measures_recompute(monkeypatch, weapons):
    _, raw = weapons
    monkeypatch.setattr(measures, "recompute", fake_recompute, raising=False)
    base = from_frame(raw, counts=["reports"], context=["population"])
    rates = {c: fake_recompute_raw(raw, c) for c in RATE_COLUMNS}
    t = base
    for c, values in rates.items():
        t = t.with_columns({c: values}, sources=["reports"],
                           notes={"measure": "rate", "base": "reports", "population": "population", "per": 1000})
    safe = make_safe(t)
    assert list(safe.withheld) == []
    shown = ~safe.suppressed["reports"].to_numpy()
    published = safe.frame["reports"].to_numpy()[shown]
    pop = raw["population"].to_numpy()[shown]
    back = safe.frame["reports_rate"].to_numpy()[shown] * pop / 1000
    # rate x population gives the published (rounded) count back, never the raw one.
    assert np.abs(back - published).max() < 0.5 * 5
    np.testing.assert_allclose(back, published, rtol=5e-3)
    assert recoverable_by_rate(safe, raw) == []
    # The interval bounds are those of the published count (an independent Poisson interval).
    lo = safe.frame["reports_rate_lo95"].to_numpy()[shown]
    from scipy import stats
    expected = np.where(published > 0, stats.chi2.ppf(0.025, 2 * published) / 2, 0) / pop * 1000
    np.testing.assert_allclose(lo, expected, rtol=5e-3)


def fake_recompute_raw(raw: pd.DataFrame, column: str) -> np.ndarray:
    t = from_frame(raw, counts=["reports"], context=["population"])
    t = t.with_columns({column: np.zeros(len(raw))}, sources=["reports"],
                       notes={"measure": "rate", "base": "reports", "population": "population", "per": 1000})
    return fake_recompute(t, column)


def test_a_failing_recipe_withholds_the_figure():
    t = from_frame(pd.DataFrame({"ward_code": ["W1", "W2"], "reports": [3, 20]}), counts=["reports"])
    t = t.with_columns({"score": [1.0, 2.0]}, sources=["reports"], notes={"recipe": lambda p: p["missing"]})
    safe = make_safe(t)
    assert "score" not in safe.frame.columns and "KeyError" in safe.withheld["score"]


def test_a_recipe_never_sees_raw_values():
    seen = {}

    def recipe(p):
        seen["frame"] = p.frame.copy()
        return p["reports"] * 2

    df = pd.DataFrame({"ward_code": ["W1", "W2", "W3"], "lad_code": ["D1"] * 3, "reports": [3, 23, 41],
                       "referrals": [5, 6, 7], "secret": [1, 2, 3], "population": [10.0, 20.0, 30.0]})
    t = from_frame(df, counts=["reports", "referrals"], context=["population"])
    t = t.with_columns({"double": df["reports"] * 2}, sources=["reports"], notes={"recipe": recipe})
    safe = make_safe(t, ["reports"])
    f = seen["frame"]
    assert "secret" not in f.columns                        # undeclared: left out
    assert f["referrals"].isna().all()                       # a count not published: NaN
    assert np.isnan(f["reports"].iloc[0]) and f["reports"].tolist()[1:] == [25.0, 40.0]  # published values
    assert safe.frame["double"].tolist()[1:] == [50.0, 80.0]


def test_ranked_tables_drop_hidden_rows():
    df = pd.DataFrame({"ward_code": [f"W{i}" for i in range(6)], "lad_code": ["D1"] * 3 + ["D2"] * 3,
                       "reports": [3, 40, 22, 0, 9, 31]})
    safe = make_safe(df, ["reports"])
    top = safe.ranked("reports")
    hidden = set(safe.codes[safe.suppressed["reports"]])
    assert hidden and not hidden & set(top.codes)
    assert top.frame["rank"].tolist() == list(range(1, len(top) + 1))
    shown = top.frame["reports"].tolist()
    assert shown == sorted(shown, reverse=True)
    assert top.display["rank"].tolist()[0] == "1"
    assert len(safe.ranked("reports", top=2)) == 2
    with pytest.raises(DisclosureError, match="not a value column"):
        safe.ranked("population")


def test_other_geographies_and_hierarchy_from_the_geography():
    lsoa = pd.DataFrame({"lsoa_code": [f"E0100000{i}" for i in range(4)], "lsoa_name": list("abcd"),
                         "lad_code": ["E07000001"] * 4, "reports": [2, 30, 25, 40]})
    safe = make_safe(lsoa, ["reports"])
    assert safe.geography.label == "LSOA" and safe.hierarchy == ("lad_code",)
    assert repr(safe).startswith("<SafeTable 4 LSOAs")
    assert audit(safe)["level"].tolist()[0] == "lsoa"
    beat = custom("beat", code="beat_id", parent_code="sector_code", parent_name="sector_name",
                  parent_label="sector")
    df = pd.DataFrame({"beat_id": ["B1", "B2", "B3", "B4"], "sector_code": ["S1", "S1", "S2", "S2"],
                       "sector_name": ["North", "North", "South", "South"], "reports": [3, 30, 20, 12]})
    safe = make_safe(from_frame(df, counts=["reports"], geography=beat))
    assert safe.hierarchy == ("sector_code",)
    assert safe.totals["level"].tolist() == ["sector", "sector", "county"]
    assert safe.totals["name"].tolist()[:2] == ["North", "South"]
    assert "sector_name" in safe.identifiers
    html = safe._repr_html_()
    assert "<table" in html and "4 beats" in html and "*" in html


def test_the_attacker_finds_the_old_leak(weapons):
    """The first release published rates of raw counts beside rounded counts: the attacker must see it."""
    from types import SimpleNamespace

    _, raw = weapons
    safe = make_safe(raw, ["reports"], context=["population"])
    leaky = safe.frame.copy()
    leaky["reports_rate"] = (raw["reports"] / raw["population"] * 1000).map(lambda v: float(f"{v:.3g}")).to_numpy()
    lo95 = poisson_bounds(raw["reports"].to_numpy(dtype=float), 0.95)[0] / raw["population"].to_numpy() * 1000
    changed = (safe.frame["reports"].to_numpy() != raw["reports"].to_numpy())
    assert changed.sum() > 20
    found = recoverable_by_rate(SimpleNamespace(frame=leaky), raw)
    assert len(found) == changed.sum()  # every hidden or rounded count, from the rate alone
    only_bound = leaky.drop(columns="reports_rate").assign(reports_rate_lo95=[float(f"{v:.3g}") for v in lo95])
    assert len(recoverable_by_rate(SimpleNamespace(frame=only_bound), raw)) > 0.8 * changed.sum()


def test_a_ranked_table_audits_without_the_full_tables_totals():
    df = pd.DataFrame({"ward_code": [f"W{i}" for i in range(6)], "lad_code": ["D1"] * 3 + ["D2"] * 3,
                       "reports": [3, 40, 22, 0, 9, 31]})
    top = make_safe(df, ["reports"], policy="threshold").ranked("reports")
    assert top.totals.empty
    assert audit(top).empty  # nothing hidden in a ranked table
    from gangmap.disclosure import check_linked, same
    full = make_safe(df, ["reports"], policy="threshold")
    assert check_linked({"full": full, "top": top}, [same("full", "top")]).ok


def test_tables_whose_rows_are_not_areas():
    hubs = pd.DataFrame({"hub_urn": ["190045", "190046", "190047"], "hub_name": ["A", "B", "C"],
                         "schools_in_reach": [47, 12, 30], "need_in_reach": [240, 5, 61]})
    safe = make_safe(hubs, ["need_in_reach"], context=["hub_urn", "hub_name", "schools_in_reach"])
    assert list(safe.frame.columns) == ["hub_urn", "hub_name", "schools_in_reach", "need_in_reach"]
    assert safe.display["need_in_reach"].tolist() == ["240", "*", "60"]  # the rounded total keeps 5 at 1-11
    assert "__row__" not in safe.display.columns and "__row__" not in safe.dropped
    assert safe.totals["level"].tolist() == ["county"]
    assert (audit(safe)["values"] >= 3).all()
    with pytest.raises(DisclosureError, match=r"keep lists 'schools_in_reach', whose role is not declared"):
        make_safe(hubs, ["need_in_reach"], keep=["schools_in_reach"])
    with pytest.raises(DisclosureError, match=r"'need_in_reach' has 2.5 in row 1, which"):
        make_safe(hubs.assign(need_in_reach=[1, 2.5, 3]), ["need_in_reach"])


def test_keep_lets_words_through_but_no_number():
    df = pd.DataFrame({"ward_code": ["W1", "W2", "W3"], "reports": [3, 20, 40],
                       "status": ["targeted", "next", None], "share": ["12", "4.5%", "n/a"],
                       "flag": [True, False, True], "note": ["1,234", "x", "y"]})
    safe = make_safe(df, ["reports"], keep=["status"])
    assert safe.display["status"].tolist() == ["targeted", "next", ""]
    for col in ("share", "flag", "note"):
        with pytest.raises(DisclosureError, match=f"keep lists '{col}', whose role is not declared"):
            make_safe(df, ["reports"], keep=[col])
