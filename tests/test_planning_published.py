"""Published planning tables carry nothing finer than the published counts (issue 12).

Oracles written here, apart from the code under test:

* **invariance**: every hidden raw count moved to either end of its published range (1 or 7 under
  ``nhs``) and every shown raw count to either end of its rounding interval (23 or 27 for a shown 25)
  leaves every published planning table unchanged, cell for cell, while the analyst's own results on
  the raw counts do change. A published figure that read a raw count would move with it.
* **independent recomputation**: the published need index is recomputed here by hand (rates of the
  rounded counts to 3 significant figures, min-max over the wards where every component is shown, as
  the policy publishes it), the greedy rule is re-run by hand on it, and every figure of the published
  recommendation, sensitivity, hub and difference-in-differences tables is checked against values read
  from published tables only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gangmap
from gangmap import demo, measures, planning
from gangmap.disclosure import get_policy, make_safe

WEIGHTS = {"reports_rate": 0.4, "referrals_rate": 0.4, "reports": 0.2}


def _sig3(x):
    return np.array([float(f"{v:.3g}") if np.isfinite(v) else np.nan for v in np.asarray(x, dtype=float)])


def _measured(joined):
    return measures.need_index(measures.rate(measures.rate(joined, "reports", "population"), "referrals",
                                             "population"))


@pytest.fixture(scope="module")
def joined():
    p = demo.paths()
    t, _ = gangmap.join(p["wards"], reports=p["reports"], referrals=p["referrals"], schools=p["schools"],
                        population=p["population"])
    return t


@pytest.fixture(scope="module")
def measured(joined):
    return _measured(joined)


@pytest.fixture(scope="module")
def targets(measured):
    return planning.read_targets(demo.paths()["campaign"], measured)


def _moved(values: np.ndarray, hidden: np.ndarray, shown: np.ndarray, end: str) -> np.ndarray:
    """Hidden counts to 1 or 7, shown non-zero counts to the low or high end of their rounding interval."""
    out = values.astype(float).copy()
    out[hidden] = 1 if end == "low" else 7
    nz = ~hidden & (shown > 0)
    out[nz] = shown[nz] + (-2 if end == "low" else 2)
    return out


def _perturbed(joined, end: str):
    safe = make_safe(joined, hierarchy=())
    frame = joined.frame.copy()
    for c in ("reports", "referrals"):
        hidden = safe.suppressed[c].to_numpy()
        frame[c] = _moved(frame[c].to_numpy(), hidden, safe.frame[c].to_numpy(dtype=float), end).astype(int)
    moved = gangmap.table.AreaTable(frame, joined.schema)
    again = make_safe(moved, hierarchy=())
    pol = get_policy("nhs")
    for c in ("reports", "referrals"):   # the precondition: the published counts are exactly the same
        assert (again.suppressed[c] == safe.suppressed[c]).all()
        assert again.frame[c].fillna(-1).tolist() == safe.frame[c].fillna(-1).tolist()
        shown = ~safe.suppressed[c].to_numpy()
        assert [pol.round(int(v)) for v in frame[c][shown]] == safe.frame[c][shown].astype(int).tolist()
    return moved


def _published(table, targets):
    rec = planning.recommend(table, targets, k=6)
    sens = planning.weight_sensitivity(table, k=6, targets=targets)
    ranked = make_safe(planning.rank_untargeted(table, targets), hierarchy=()).ranked(
        "rank", ascending=True, rank_column="order")
    grown = planning.recommend(table, targets, k=4, contiguous=True, draws=50)
    return {"recommendation": rec.safe(), "sensitivity": sens.safe(), "ranked": ranked, "contiguous": grown.safe(),
            "_raw": (rec, sens, grown)}


@pytest.fixture(scope="module")
def published(measured, targets):
    return _published(measured, targets)


@pytest.mark.parametrize("end", ["low", "high"])
def test_hidden_and_rounded_counts_moved_within_their_ranges_change_no_published_figure(joined, targets, published,
                                                                                       end):
    moved = _measured(_perturbed(joined, end))
    again = _published(moved, targets)
    for name in ("recommendation", "sensitivity", "ranked", "contiguous"):
        a, b = published[name], again[name]
        pd.testing.assert_frame_equal(a.display, b.display, obj=name)
        pd.testing.assert_frame_equal(a.suppressed, b.suppressed, obj=name)
        assert a.withheld == b.withheld
    # ... while the analyst's figures on the raw counts moved: the test would see a figure that read them
    (r0, s0, _), (r1, s1, _) = published["_raw"], again["_raw"]
    assert not np.allclose(r0.areas["need"], r1.areas.frame.set_index("ward_code").loc[r0.codes, "need"])
    assert not np.allclose(s0.areas["need"], s1.areas.frame.set_index("ward_code").loc[s0.areas["ward_code"], "need"])
    rp = planning.recommend(moved, targets, k=6)
    assert rp.published_message(again["recommendation"]) == r0.published_message(published["recommendation"])


def _hand_index(area) -> pd.Series:
    """The need index of the published counts, computed here: rates of the rounded counts to 3 s.f., min-max over
    the wards where every component is shown, weights 0.4/0.4/0.2, published to 3 s.f."""
    f = area.frame
    comp = pd.DataFrame({"reports_rate": _sig3(f["reports"] / f["population"] * 1000),
                         "referrals_rate": _sig3(f["referrals"] / f["population"] * 1000),
                         "reports": f["reports"].to_numpy(dtype=float)}, index=f["ward_code"])
    ok = comp.notna().all(axis=1)
    x = comp[ok]
    scaled = (x - x.min()) / (x.max() - x.min())
    index = 100 * sum(w * scaled[c] for c, w in WEIGHTS.items())
    return pd.Series(_sig3(index.reindex(comp.index)), index=comp.index)


def test_published_need_ranks_and_list_are_the_rule_on_published_values(measured, targets, published):
    area = make_safe(measured, hierarchy=())
    need = _hand_index(area)
    assert np.allclose(area.frame["need_index"], need.to_numpy(), equal_nan=True)
    hidden = set(area.codes[(area.suppressed["reports"] | area.suppressed["referrals"]).to_numpy()])
    assert len(hidden) == 16
    # the greedy rule by hand: untargeted wards with a published need, highest first (ties: table order)
    targeted = need.index.isin(list(targets.codes))
    cand = need[~targeted & need.notna()]
    top = cand.iloc[np.argsort(-cand.to_numpy(), kind="stable")][:6]
    rec = published["recommendation"]
    assert rec.codes.tolist() == top.index.tolist() and not set(rec.codes) & hidden
    assert rec.frame["need"].tolist() == top.tolist() and rec.frame["order"].tolist() == [1, 2, 3, 4, 5, 6]
    total = need.sum()
    before = need[targeted].sum() / total
    assert rec.frame["share"].to_numpy() == pytest.approx(_sig3(top / total))
    assert rec.frame["coverage_after"].to_numpy() == pytest.approx(_sig3(before + np.cumsum(top / total)))
    assert rec.frame["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert set(rec.frame["chosen_share"].round(6)) <= {round(0.1 * i, 6) for i in range(11)}   # to 10%
    assert ((rec.frame["rank_lo"] <= rec.frame["rank"]) & (rec.frame["rank"] <= rec.frame["rank_hi"])).all()
    assert rec.totals.empty                                          # a ranked table carries no totals
    # the sensitivity ranks every shown untargeted ward by the same published index, hidden wards left out
    sens = published["sensitivity"]
    assert sens.codes.tolist() == cand.iloc[np.argsort(-cand.to_numpy(), kind="stable")].index.tolist()
    assert sens.frame["need"].tolist() == cand.loc[sens.codes].tolist()
    assert sens.frame["base_rank"].tolist() == sens.frame["order"].tolist()
    assert {"in_top_k", "stable", "robust", "top_k_share"} <= set(sens.derived)
    assert sens.frame["in_top_k"].tolist() == [True] * 6 + [False] * (len(sens) - 6)


def test_the_list_follows_the_pattern_of_the_pack_summary(measured, targets):
    summary = make_safe(measured)              # the pack's summary (districts as the hierarchy)
    rec = planning.recommend(measured, targets, k=8)
    safe = rec.safe(pattern=summary)
    hidden = summary.suppressed["reports"] | summary.suppressed["referrals"]
    assert not set(safe.codes) & set(summary.codes[hidden.to_numpy()])
    assert not safe.suppressed.to_numpy().any()                      # every listed row shows every figure
    names = safe.frame["ward_name"].tolist()
    msg = rec.published_message(safe)
    assert msg.startswith(f"From the published figures, adding these 8 wards ({', '.join(names)}) lifts coverage")
    cov = safe.frame["coverage_after"]
    assert f"to about {100 * cov.iloc[-1]:.0f}%" in msg
    # an unsafe policy passes the analyst's own list and figures through (stamped)
    raw = rec.safe(policy="none", allow_unsafe=True)
    assert raw.codes.tolist() == rec.codes and raw.frame["need"].tolist() == _sig3(rec.areas["need"]).tolist()


def test_sensitivity_message_and_contiguous_steps_come_from_the_published_tables(measured, targets, published):
    sens = published["sensitivity"]
    s = published["_raw"][1]
    msg = s.published_message(sens)
    top = sens.frame[sens.frame["in_top_k"].eq(True)]
    assert msg.startswith(f"From the published figures, {int(top['stable'].eq(True).sum())} of the top 6 wards stay")
    for name, share in zip(top["ward_name"], top["top_k_share"]):
        assert f"{name} ({100 * share:.0f}%)" in msg
    grown = published["contiguous"]
    g = published["_raw"][2]
    assert grown.frame["step"].tolist() == grown.frame["order"].tolist() == [1, 2, 3, 4]
    w = measures.weights(measured)
    selected = set(targets.codes)
    for code in grown.codes:                                           # grows from the targets, step by step
        assert set(w.neighbors[code]) & selected
        selected.add(code)
    assert grown.frame["touches"].str.len().gt(0).all() and g.codes      # touches names public neighbours


# =========================================================================== hubs
def _school_referrals(p) -> pd.DataFrame:
    r = pd.read_csv(p["referrals"], dtype={"URN": str})
    return r.groupby("URN", as_index=False)["referrals"].sum()


def test_hub_need_served_adds_up_published_school_counts(measured):
    p = demo.paths()
    pilot = pd.read_csv(p["pilot_hub"], dtype=str)["URN"].tolist()
    plan = planning.plan_hubs(p["schools"], _school_referrals(p), existing_urns={"pilot": pilot}, p=2,
                              radius_m=6000, area=measured)
    schools = plan.schools_safe()
    pub = pd.Series(schools.frame["need"].to_numpy(dtype=float), index=schools.frame["urn"].astype(str))
    hubs = plan.safe()
    a = plan.assignment
    for _, row in hubs.frame.iterrows():
        served = a.loc[a["hub_urn"] == row["hub_urn"], "urn"].astype(str)
        assert row["need_served"] == np.nansum(pub.loc[served])         # published counts only
        assert row["schools_hidden"] == int(pub.loc[served].isna().sum())
        assert row["share_served"] == pytest.approx(np.nansum(pub.loc[served]) / np.nansum(pub), rel=5e-3)
    assert set(hubs.context) >= {"schools_served", "schools_hidden"} and set(hubs.counts) == {"need_in_reach",
                                                                                              "need_served"}
    assert hubs.frame["order"].tolist() == [0, 1, 2]
    msg = plan.published_message(hubs)
    assert f"about {100 * hubs.frame['share_served'].sum():.0f}% in all" in msg
    raw_share = f"{100 * plan.need_served / plan.need_total:.0f}%"
    assert raw_share in plan.message                                   # the analyst's headline, on raw counts


def test_hub_tables_do_not_move_with_hidden_school_counts():
    # Twelve schools, one existing hub given by its members and no capacity limit: every school in reach is
    # served whatever its count, so the plan itself cannot move, and nor may any published figure.
    rng = np.random.default_rng(12)
    xy = rng.uniform(0, 6000, size=(12, 2))
    s = pd.DataFrame({"URN": [str(400000 + i) for i in range(12)], "EstablishmentName": [f"S{i}" for i in range(12)],
                      "Easting": xy[:, 0] + 450_000, "Northing": xy[:, 1] + 250_000})
    base = np.array([3, 40, 5, 12, 2, 25, 7, 60, 1, 18, 4, 33])
    hidden = base <= 7
    shown = np.array([get_policy("nhs").round(int(v)) if not h else 0 for v, h in zip(base, hidden)])
    out = []
    for counts in (base, _moved(base, hidden, shown, "low"), _moved(base, hidden, shown, "high")):
        demand = pd.DataFrame({"URN": s["URN"], "referrals": counts.astype(int)})
        plan = planning.plan_hubs(s, demand, existing_urns={"pilot": s["URN"][:4].tolist()}, p=0, radius_m=4000,
                                  capacity=None)
        hub = plan.safe()
        out.append((hub.display, plan.schools_safe().display, plan.published_message(hub), plan.need_served))
    for other in out[1:]:
        pd.testing.assert_frame_equal(out[0][0], other[0])
        pd.testing.assert_frame_equal(out[0][1], other[1])
        assert out[0][2] == other[2]
    assert len({o[3] for o in out}) == 3                                # the raw need served did move


def test_hub_areas_use_the_published_need_index(measured):
    p = demo.paths()
    pilot = pd.read_csv(p["pilot_hub"], dtype=str)["URN"].tolist()
    need = planning.school_need(p["schools"], measured, "need_index")
    plan = planning.plan_hubs(p["schools"], need, existing_urns={"pilot": pilot}, p=1, radius_m=6000)
    area = make_safe(measured)
    pub = area.frame.set_index("ward_code")["need_index"]
    wards = plan.areas_safe()
    shown = ~wards.suppressed["need"].to_numpy()
    assert (wards.frame.loc[shown, "need"].to_numpy() == pub.loc[wards.frame.loc[shown, "ward_code"]].to_numpy()).all()
    hidden = set(area.codes[(area.suppressed["reports"] | area.suppressed["referrals"]).to_numpy()])
    assert set(wards.frame.loc[~shown, "ward_code"]) <= hidden                # hidden exactly with the area map
    hubs = plan.safe()
    a = plan.assignment
    for _, row in hubs.frame.iterrows():
        served = a.loc[a["hub_urn"] == row["hub_urn"], "ward_code"].astype(str)
        assert row["need_served"] == pytest.approx(np.nansum(pub.reindex(served)), rel=5e-3)


# =========================================================================== difference in differences
def test_did_figures_are_worked_out_from_the_published_counts(targets):
    d = planning.did(demo.paths()["reports"], targets)
    t = d.safe().frame.set_index("group")
    assert t["after_before"].to_numpy() == pytest.approx(_sig3(t["after"] / t["before"]))
    r = d.result_safe().frame.iloc[0]
    a, b, c, e = (r[k] for k in ("targeted_before", "targeted_after", "other_before", "other_after"))
    ratio = (b / a) / (e / c)
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / e)
    assert [r["rate_ratio"], r["ratio_lo"], r["ratio_hi"]] == pytest.approx(
        _sig3([ratio, ratio * np.exp(-1.959964 * se), ratio * np.exp(1.959964 * se)]))
    monthly = d.monthly_safe()
    fig = planning.did_chart(d, monthly)
    f = monthly.frame
    pre = (f["window"] == "before").to_numpy()
    for line, col in zip(fig.axes[0].get_lines()[:2], ("targeted", "other")):
        y = f[col].to_numpy(dtype=float)
        assert np.allclose(line.get_ydata(), 100 * y / np.nanmean(y[pre]), equal_nan=True)
    assert f"rate ratio {r['rate_ratio']:.3g}" in fig.axes[0].get_title()


def test_budget_list_is_the_rule_on_published_counts():
    df = pd.DataFrame({"ward_code": [f"E0500000{i}" for i in range(1, 6)], "ward_name": list("ABCDE"),
                       "reports": [52, 41, 29, 6, 0], "population": [5000, 1000, 1000, 100, 200]})
    t = gangmap.table.from_frame(df, counts=["reports"], context=["population"])
    rec = planning.recommend(t, [], "reports", population_budget=3000, draws=0)
    assert rec.codes == ["E05000004", "E05000002", "E05000003", "E05000005"]   # raw: D (6 in 100) first
    safe = rec.safe()
    # published: 52 -> 50, 41 -> 40, 29 -> 30, D's 6 hidden (never a candidate); per 1,000: B 40, C 30, A 10, E 0;
    # A (5,000 people) does not fit the budget after B and C
    assert safe.codes.tolist() == ["E05000002", "E05000003", "E05000005"]
    assert safe.frame["need_per_1000"].tolist() == [40, 30, 0]
    assert safe.frame["need"].tolist() == safe.frame["reports"].tolist() == [40, 30, 0]
    assert safe.frame["coverage_after"].tolist() == pytest.approx([40 / 120, 70 / 120, 70 / 120], rel=5e-3)
    assert safe.frame["rank"].tolist() == [1, 2, 4] and safe.frame["order"].tolist() == [1, 2, 3]
