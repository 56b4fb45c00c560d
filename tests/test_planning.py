"""Tests for gangmap.planning: campaign targeting, hub rollout (MCLP) and the difference in differences.

The demo county (Wyvernshire) has planted answers (see gangmap.demo): the Kingsford wards are
high need and outside every current target, and the campaign raised reporting 1.35x in targeted
wards from 2018-03. Hub tests check objective values, never site lists, since several optima
can exist; small instances are checked against brute-force enumeration.
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

import gangmap
from gangmap import demo, export, measures, planning
from gangmap.disclosure import SafeTable, make_safe
from gangmap.errors import ConfigError, GangmapError, InputError
from gangmap.table import AreaTable, from_frame


def declared(t) -> AreaTable:
    """The measured table with its roles declared.

    The measures return AreaTables with declared roles once the table model reaches them; until then (a
    plain frame) the roles are declared here, as an analyst would with from_frame.
    """
    if isinstance(t, AreaTable):
        return t
    counts = [c for c in ("reports", "referrals") if c in t]
    derived = {c: [k] for c in t.columns for k in counts if c.startswith(k + "_")}
    derived.update({c: counts for c in t.columns if c.startswith("need_index")})
    return from_frame(t, counts=counts, derived=derived, context=[c for c in ("population",) if c in t])


def safe_of(table: AreaTable, **options):
    """make_safe of an AreaTable, whichever make_safe signature is installed (roles come from the schema)."""
    import inspect

    if "context" in inspect.signature(make_safe).parameters:
        return make_safe(table, **options)
    return make_safe(table.to_frame(), list(table.counts), derived={k: list(v) for k, v in table.derived.items()},
                     keep=[*table.context, *options.pop("keep", [])], **options)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def demo_table():
    p = demo.paths()
    t, _ = gangmap.join(p["wards"], reports=p["reports"], referrals=p["referrals"], schools=p["schools"],
                        population=p["population"])
    t = measures.rate(t, "reports", "population")
    t = measures.rate(t, "referrals", "population")
    return declared(measures.need_index(t))


@pytest.fixture(scope="module")
def demo_targets(demo_table):
    return planning.read_targets(demo.paths()["campaign"], demo_table)


@pytest.fixture(scope="module")
def kingsford(demo_table):
    return set(demo_table.frame.loc[demo_table["ward_name"].isin(demo.HOTSPOT_KINGSFORD), "ward_code"])


def _grid(n=5, need=None):
    """n x n grid of 1 km wards, codes E0520xxxx, row-major from the south-west."""
    g = gpd.GeoDataFrame({"ward_code": [f"E0520{i:04d}" for i in range(n * n)],
                          "ward_name": [f"W{i}" for i in range(n * n)],
                          "lad_code": ["E07000001"] * (n * n), "lad_name": ["Grid"] * (n * n)},
                         geometry=[box(i % n * 1000, i // n * 1000, i % n * 1000 + 1000, i // n * 1000 + 1000)
                                   for i in range(n * n)], crs=27700)
    g["reports"] = need if need is not None else np.arange(n * n)
    return g


# =========================================================================== targets
def test_read_targets_demo_campaign(demo_table, demo_targets):
    t = demo_targets
    wellmere = set(demo_table.frame.loc[demo_table["lad_name"] == "Wellmere", "ward_code"])
    named = set(demo_table.frame.loc[demo_table["ward_name"].isin(demo.TARGET_WARDS_CASTLEFORD_EAST
                                                            + demo.TARGET_WARDS_RUSHBY), "ward_code"])
    assert t.codes == wellmere | named
    assert len(t.codes) == 26
    assert sorted(t.codes)[:3] == ["E05900005", "E05900012", "E05900016"]
    assert t.launch == "2018-03" and t.name == "Demo campaign (launched 2018-03)"
    assert not (t.codes & set(demo_table.frame.loc[demo_table["ward_name"].isin(demo.HOTSPOT_KINGSFORD), "ward_code"]))
    assert t.mask(demo_table).sum() == 26
    assert set(t.matched["kind"]) == {"district", "ward name"}


def test_read_targets_matching_rules(square_wards):
    wards = gangmap.read_wards(square_wards)
    # punctuation/case/&, district by code, ward code, ambiguous name disambiguated by district
    t = planning.read_targets({"campaign": {"ward_names": ["st crispin and KINGSTHORPE", "Abbey (Southmere)"],
                                            "districts": [], "ward_codes": ["e05100003"], "launch": "2018-03-15"}},
                              wards)
    assert t.codes == {"E05100001", "E05100004", "E05100003"}
    assert t.launch == "2018-03"
    t2 = planning.read_targets({"districts": ["e07000202"]}, wards)  # a bare campaign table, district by code
    assert t2.codes == {"E05100004", "E05100005", "E05100006"}


def test_read_targets_from_toml_file(tmp_path, square_wards):
    f = tmp_path / "campaign.toml"
    f.write_text('[campaign]\nname = "Test"\nlaunch = 2018-03-01\ndistricts = ["Northwold"]\n')
    t = planning.read_targets(f, square_wards)
    assert t.codes == {"E05100001", "E05100002", "E05100003"} and t.launch == "2018-03" and t.name == "Test"


@pytest.mark.parametrize("config, fragment", [
    ({"campaign": {"ward_names": ["Castel"]}}, "'Castel' is not a ward name (closest: Castle"),
    ({"campaign": {"ward_names": ["Abbey"]}}, "more than one district"),
    ({"campaign": {"districts": ["Northwald"]}}, "closest: Northwold"),
    ({"campaign": {"ward_codes": ["E05100009"]}}, "is not a ward code"),
    ({"campaign": {"ward_name": ["Castle"]}}, "did you mean 'ward_names'"),
    ({"campaign": {"ward_names": ["Castle"], "launch": "March 2018"}}, "write it as YYYY-MM"),
    ({"campaign": {"ward_names": []}}, "selects no ward"),
    ({"other": 1}, "no [campaign] table"),
    ({"campaign": {"ward_names": "Castle", "districts": [3.5]}}, "every entry must be a string"),
])
def test_read_targets_errors_name_the_problem(config, fragment, square_wards):
    with pytest.raises(ConfigError) as exc:
        planning.read_targets(config, square_wards)
    assert fragment in str(exc.value)


def test_read_targets_lists_every_problem_and_file_errors(tmp_path, square_wards):
    with pytest.raises(ConfigError, match="2 problems") as exc:
        planning.read_targets({"ward_names": ["Castel", "Delaprey"]}, square_wards)
    assert "Delapre" in str(exc.value)
    with pytest.raises(ConfigError, match="not found"):
        planning.read_targets(tmp_path / "missing.toml", square_wards)
    bad = tmp_path / "bad.toml"
    bad.write_text("[campaign\nward_names = [Castle]\n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        planning.read_targets(bad, square_wards)


# =========================================================================== coverage and ranking
def test_coverage_and_rank_small():
    t = pd.DataFrame({"ward_code": ["A", "B", "C", "D"], "reports": [10, 30, 20, 40]})
    assert planning.coverage(t, ["D"], "reports") == pytest.approx(0.4)
    r = planning.rank_untargeted(t, ["D"], "reports")
    assert r["ward_code"].tolist() == ["B", "C", "A"]
    assert r["coverage_if_added"].tolist() == pytest.approx([0.7, 0.9, 1.0])
    assert r.schema.role("coverage_if_added") is None  # a plain frame: lineage unknown, so nothing is trusted
    r = planning.rank_untargeted(from_frame(t, counts=["reports"]), ["D"], "reports")
    assert r.schema.derived["coverage_if_added"] == ("reports",) and r.schema.role("rank") == "derived"
    with pytest.raises(InputError, match="measure column 'need_index' not found.*need_index\\(table\\)"):
        planning.coverage(t, ["D"])
    with pytest.raises(InputError, match="negative for ward"):
        planning.coverage(t.assign(reports=[1, -1, 0, 0]), ["D"], "reports")


def test_demo_planted_hotspot_is_recommended(demo_table, demo_targets, kingsford, tmp_path):
    before = planning.coverage(demo_table, demo_targets)
    ranked = planning.rank_untargeted(demo_table, demo_targets)
    top6 = set(ranked["ward_code"].head(6))
    assert len(top6 & kingsford) >= 3
    rec = planning.recommend(demo_table, demo_targets, k=6)
    assert len(set(rec.codes) & kingsford) >= 3
    assert rec.before == pytest.approx(before)
    assert rec.before < rec.after
    assert rec.after == pytest.approx(planning.coverage(demo_table, set(demo_targets.codes) | set(rec.codes)))
    assert rec.message.startswith("adding these 6 wards lifts coverage of need_index from ")
    assert f"{100 * rec.before:.0f}% to {100 * rec.after:.0f}%" in rec.message
    assert rec.counts == ("reports", "referrals")
    # disclosure: the table names its counts and derived columns, and goes out through make_safe only
    safe = rec.safe()
    assert isinstance(safe, SafeTable) and set(safe.counts) == {"reports", "referrals"}
    assert {"need", "need_index"} <= set(safe.derived)
    # Running shares once let a suppressed ward be worked out from its neighbours in the list. They are now
    # published from the published need index (scaled over the shown wards), and a ward whose counts are hidden is
    # never listed, so they are kept: share = need / the published need of every shown ward.
    area = safe_of(demo_table, hierarchy=())
    shown_need = area.frame.set_index("ward_code")["need_index"]
    assert not set(safe.codes) & set(area.codes[area.suppressed["referrals"] | area.suppressed["reports"]])
    assert safe.frame["need"].tolist() == shown_need.loc[safe.codes].tolist()
    assert safe.frame["share"].to_numpy() == pytest.approx(safe.frame["need"] / shown_need.sum(), rel=5e-3)
    assert safe.totals.empty and safe.frame["order"].tolist() == list(range(1, len(safe) + 1))
    out = export.write_table(safe, tmp_path / "next_wards.csv")
    back = pd.read_csv(out, comment="#")
    # the planted hotspot is clear enough that the list worked out from the published figures is the analyst's
    assert back["ward_name"].tolist() == rec.areas["ward_name"].tolist()
    assert isinstance(ranked, AreaTable) and ranked.schema.derived["rank"] == ("reports", "referrals")
    # A ranked list keeps the raw order of its rows, so it is published as a ranked table (rows whose need is
    # hidden left out, the rest ranked by published values); coverage_if_added needs the targeted wards: withheld.
    listed = safe_of(ranked, hierarchy=()).ranked("rank", ascending=True, rank_column="order")
    assert "coverage_if_added" in listed.withheld and listed.frame["rank"].tolist() == listed.frame["order"].tolist()
    export.write_table(listed, tmp_path / "ranked.xlsx")


def test_recommend_contiguous_on_demo_grows_from_targets(demo_table, demo_targets, kingsford):
    rec = planning.recommend(demo_table, demo_targets, k=6, contiguous=True, jump=math.inf)
    assert len(set(rec.codes) & kingsford) >= 3
    w = measures.weights(demo_table.frame)
    selected = set(demo_targets.codes)
    for code in rec.codes:  # every addition borders what was selected before it
        assert set(w.neighbors[code]) & selected
        selected.add(code)
    assert (rec.areas["touches"] != "").all()


def _connected(codes: set, neighbours: dict) -> bool:
    start = next(iter(codes))
    seen, todo = {start}, [start]
    while todo:
        c = todo.pop()
        for n in neighbours[c]:
            if n in codes and n not in seen:
                seen.add(n)
                todo.append(n)
    return seen == codes


def test_recommend_contiguous_on_grid():
    # 5x5 grid; target = the south-west corner; a strong hotspot in the north-east corner and a
    # gentle gradient elsewhere. Plain greedy jumps to the far corner; contiguous growth does not.
    need = np.array([(i % 5 + i // 5) for i in range(25)], dtype=float)
    need[24] = 100.0
    need[18] = need[23] = 30.0  # the hotspot's neighbours
    g = _grid(5, need)
    target = ["E05200000"]
    plain = planning.recommend(g, target, "reports", k=4)
    assert plain.codes[0] == "E05200024"
    w = measures.weights(g)
    nb = {k: set(v) for k, v in w.neighbors.items()}
    strict = planning.recommend(g, target, "reports", k=3, contiguous=True, jump=math.inf)
    assert strict.codes == ["E05200006", "E05200012", "E05200018"]  # up the diagonal (queen contiguity)
    longer = planning.recommend(g, target, "reports", k=8, contiguous=True, jump=math.inf)
    assert _connected(set(longer.codes) | set(target), nb)
    assert longer.areas["reason"].eq("borders the current areas").all()
    assert "strictly contiguous" in longer.rule
    # with the default jump (1.5x), the hotspot (100 vs at most 2 on the frontier) starts a new area,
    # and the next picks grow round it (30 next to it beats 2-3 next to the corner by 10x)
    jumpy = planning.recommend(g, target, "reports", k=3, contiguous=True)
    assert jumpy.codes[0] == "E05200024" and jumpy.areas["reason"].iloc[0].startswith("new area")
    assert set(jumpy.codes[1:]) == {"E05200018", "E05200023"}
    assert jumpy.areas["touches"].iloc[1] == "W24"
    # no targets at all: seed at the best ward, then grow
    seeded = planning.recommend(g, [], "reports", k=3, contiguous=True, jump=math.inf)
    assert seeded.codes[0] == "E05200024" and _connected(set(seeded.codes), nb)
    with pytest.raises(InputError, match="needs ward boundaries"):
        planning.recommend(pd.DataFrame(g.drop(columns="geometry")), target, "reports", contiguous=True)


def test_recommend_population_budget():
    t = pd.DataFrame({"ward_code": list("ABCDE"), "reports": [50, 40, 30, 20, 0],
                      "population": [5000, 1000, 1000, 500, 100]})
    # need per person: A 0.01, B 0.04, C 0.03, D 0.04, E 0 -> B, D (ties by order), C; A does not fit
    rec = planning.recommend(t, [], "reports", population_budget=3000)
    assert rec.codes == ["B", "D", "C", "E"]
    assert rec.areas["population"].sum() <= 3000
    assert planning.recommend(t, [], "reports", population_budget=3000, k=2).codes == ["B", "D"]
    with pytest.raises(InputError, match="population column 'pop'"):
        planning.recommend(t, [], "reports", population_budget=10, population="pop")
    with pytest.raises(GangmapError, match="k=0"):
        planning.recommend(t, [], "reports", k=0)
    for budget in ("lots", True, float("nan"), 0, -5):      # not a number, or not above 0: the check says so
        with pytest.raises(InputError, match=r"population_budget=.* must be a number of people above 0"):
            planning.recommend(t, [], "reports", population_budget=budget)
    with pytest.raises(GangmapError, match=r"jump='far' must be 1 or more"):
        planning.recommend(t, [], "reports", jump="far")
    everything = planning.recommend(t, list("ABCDE"), "reports")
    assert everything.codes == [] and "stays at 100%" in everything.message


def test_derived_need_is_suppressed_with_its_count(tmp_path):
    df = pd.DataFrame({"ward_code": ["E05000001", "E05000002", "E05000003"], "reports": [40, 3, 25],
                       "population": [1000, 1000, 1000]})
    # A rate declared by hand records no recipe, so it cannot be worked out from the published counts: the
    # recommendation refuses to publish it and says why (fail closed).
    by_hand = declared(measures.rate(df, "reports", "population"))
    with pytest.raises(GangmapError, match="'reports_rate' could not be worked out from the published counts"):
        planning.recommend(by_hand, [], "reports_rate", k=3).safe()
    t = measures.rate(from_frame(df, counts=["reports"], context=["population"]), "reports", "population")
    rec = planning.recommend(t, [], "reports_rate", k=3)
    assert "E05000002" in rec.codes                      # the analyst's list (raw counts) has all three
    safe = rec.safe()
    # The published list is stricter than hiding the row's figures ("*"): a ward whose count is hidden has no
    # published need, so it is not listed at all (its place in the list would bound its rate).
    assert safe.codes.tolist() == ["E05000001", "E05000003"]
    assert safe.frame["reports"].tolist() == [40, 25] and safe.frame["reports_rate"].tolist() == [40, 25]
    assert safe.frame["need"].tolist() == [40, 25]       # the rate of the published counts
    # when the measure is the raw count itself, `need` is exported only as the published (rounded) count
    t2 = t.with_columns({"reports": [42, 3, 24]}, role="count")
    raw = planning.recommend(t2, [], "reports", k=3)
    rs = raw.safe()
    assert rs.frame["need"].tolist() == rs.frame["reports"].tolist() == [40, 25]
    export.write_table(safe, tmp_path / "rec.csv")


# =========================================================================== weight sensitivity
def test_weight_sensitivity_demo(demo_table, demo_targets, kingsford, tmp_path):
    s = planning.weight_sensitivity(demo_table, k=6, targets=demo_targets)
    assert len(s.scenarios) == 2 * len(measures.DEFAULT_INDEX_WEIGHTS)
    w = s.areas.frame
    assert not (set(w["ward_code"]) & set(demo_targets.codes))  # only untargeted wards ranked
    stable = set(w.loc[w["stable"], "ward_code"])
    assert kingsford <= stable  # the planted hotspot survives every ±25% weight change
    assert (w["best_rank"] <= w["base_rank"]).all()
    assert (w["base_rank"] <= w["worst_rank"]).all()
    assert s.scenarios["top_k_kept"].between(0, 6).all()
    assert "of the top 6 wards stay in the top 6" in s.message
    export.write_table(s.safe(), tmp_path / "sensitivity.csv")
    with pytest.raises(GangmapError, match="delta"):
        planning.weight_sensitivity(demo_table, delta=1.5)


# =========================================================================== difference in differences
def test_did_demo_detects_planted_uplift(demo_targets, tmp_path):
    p = demo.paths()
    d = planning.did(p["reports"], demo_targets)
    assert d.launch == "2018-03"
    assert d.before == ("2017-03", "2018-02") and d.after == ("2018-03", "2019-02")
    assert d.lo > 1.0 and d.lo <= 1.35 <= d.hi
    assert 1.2 < d.ratio < 1.5
    tb = d.table.frame.set_index("group")
    reports = pd.read_csv(p["reports"])
    assert tb[["before", "after"]].to_numpy().sum() == reports["count"].sum()
    a, b = tb.loc["targeted", ["before", "after"]]
    c, e = tb.loc["other", ["before", "after"]]
    assert d.ratio == pytest.approx((b / a) / (e / c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / e)
    assert d.lo == pytest.approx(d.ratio * math.exp(-1.959964 * se), rel=1e-5)
    assert "success" in d.caveat or "working" in d.caveat
    for word in ("regression to the mean", "spill-over", "same time"):
        assert word.lower() in d.caveat.lower()
    assert d.monthly["targeted"].sum() == a + b and len(d.monthly) == 24
    # every output through make_safe: the 2x2 (as the brief asks), the one-row result, the monthly series
    s22 = planning.did_table_safe(d)
    assert s22.counts == ("before", "after") and "after_before" in s22.derived
    export.write_table(s22, tmp_path / "did.csv")
    assert "targeted" in (tmp_path / "did.csv").read_text()
    export.write_table(d.result_safe(), tmp_path / "did_result.csv")
    direct = make_safe(d.table.to_frame(), counts=["before", "after"], keep=["group"], hierarchy=())
    assert direct.totals["level"].tolist() == ["county"]
    monthly = d.monthly_safe()
    fig = planning.did_chart(d, monthly)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg)
    png = export.to_png(fig, monthly, tmp_path / "did.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    export.to_png(planning.did_chart(d), s22, tmp_path / "did_2x2.png")  # stamped with the 2x2 provenance


def test_did_by_hand_windows_and_errors():
    codes = ["E05000001", "E05000002"]
    months = ["2018-01", "2018-02", "2018-03", "2018-04", "2018-05"]
    rows = []
    for m in months:
        after = m >= "2018-03"
        rows.append((codes[0], m, 200 if after else 100))
        rows.append((codes[1], m, 100))
    r = pd.DataFrame(rows, columns=["ward_code", "period", "count"])
    d = planning.did(r, [codes[0]], launch="2018-03")
    # 2 months before, 3 after -> equal windows of 2 months: 2018-01..02 vs 2018-03..04
    assert d.before == ("2018-01", "2018-02") and d.after == ("2018-03", "2018-04")
    assert d.ratio == pytest.approx(2.0) and any("trimmed" in n for n in d.notes)
    d2 = planning.did(r, [codes[0]], launch="2018-03", before=("2018-01", "2018-02"), after=("2018-03", "2018-05"))
    assert d2.ratio == pytest.approx(2.0) and d2.table["after"].tolist() == [600, 300]
    with pytest.raises(ConfigError, match="no launch month"):
        planning.did(r, [codes[0]])
    with pytest.raises(InputError, match="no reports in targeted before"):
        planning.did(r.assign(count=np.where((r["ward_code"] == codes[0]) & (r["period"] < "2018-03"), 0,
                                             r["count"])), [codes[0]], launch="2018-03")
    with pytest.raises(InputError, match="no period"):
        planning.did(r.drop(columns="period"), [codes[0]], launch="2018-03")
    named = pd.DataFrame({"ward_name": ["Castle"], "period": ["2018-01"], "count": [1]})
    with pytest.raises(InputError, match="pass wards="):
        planning.did(named, [codes[0]], launch="2018-03")
    with pytest.raises(ConfigError, match="overlap"):
        planning.did(r, [codes[0]], launch="2018-03", before=("2018-01", "2018-03"), after=("2018-03", "2018-04"))


def test_did_chart_hides_what_the_policy_hides(tmp_path):
    codes = ["E05000001", "E05000002"]
    rows = [(codes[0], m, 3 if m >= "2018-03" else 2) for m in ("2018-01", "2018-02", "2018-03", "2018-04")]
    rows += [(codes[1], m, 40) for m in ("2018-01", "2018-02", "2018-03", "2018-04")]
    d = planning.did(pd.DataFrame(rows, columns=["ward_code", "period", "count"]), [codes[0]], launch="2018-03")
    monthly = d.monthly_safe()
    assert monthly.suppressed["targeted"].all()      # 2-3 a month: hidden
    assert monthly.display["targeted"].eq("*").all()
    fig = planning.did_chart(d, monthly)
    assert "not shown" in fig.axes[0].get_title()      # T_before = 4 is suppressed, so is the ratio
    line = fig.axes[0].get_lines()[0]
    assert np.isnan(line.get_ydata()).all()
    assert planning.did_table_safe(d).display.set_index("group").loc["targeted", "before"] == "*"
    export.to_png(fig, monthly, tmp_path / "small.png")
    with pytest.raises(GangmapError, match="monthly_safe"):
        planning.did_chart(d, planning.did_table_safe(d))


def test_did_places_reports_by_name_with_wards(square_wards):
    wards = gangmap.read_wards(square_wards)
    rows = [("Castle", m, 20 if m >= "2018-03" else 10) for m in ("2018-01", "2018-02", "2018-03", "2018-04")]
    rows += [("Delapre", m, 10) for m in ("2018-01", "2018-02", "2018-03", "2018-04")]
    r = pd.DataFrame(rows, columns=["ward_name", "period", "count"])
    d = planning.did(r, ["E05100003"], launch="2018-03", wards=wards)
    assert d.ratio == pytest.approx(2.0)
    assert d.table["areas"].tolist() == [1, 5]


# =========================================================================== hubs: exactness
def _schools(xy, prefix=100000):
    xy = np.asarray(xy, dtype=float)
    return pd.DataFrame({"URN": [str(prefix + i) for i in range(len(xy))], "EstablishmentName":
                         [f"School {i}" for i in range(len(xy))],
                         "Easting": xy[:, 0] + 400_000, "Northing": xy[:, 1] + 200_000})


def _brute(xy, need, radius, fixed, p, candidates):
    D = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    A = D <= radius
    best = -1.0
    free = [c for c in candidates if c not in fixed]
    for combo in itertools.combinations(free, p):
        cols = list(fixed) + list(combo)
        best = max(best, float(need[A[:, cols].any(axis=1)].sum()))
    return best


def test_mclp_greedy_and_brute_force_agree_on_random_instances():
    rng = np.random.default_rng(20180301)
    gaps = []
    for trial in range(14):
        n = int(rng.integers(8, 11))
        xy = rng.uniform(0, 10_000, size=(n, 2)).round()
        need = rng.integers(0, 20, size=n).astype(float)
        radius = float(rng.uniform(1_500, 4_000))
        fixed = [0] if trial % 2 else []
        p = 2
        s = _schools(xy)
        demand = pd.Series(need, index=s["URN"])
        plan = planning.plan_hubs(s, demand, existing_urns=[s["URN"][i] for i in fixed], p=p, radius_m=radius,
                                  capacity=None)
        opt = _brute(xy, need, radius, fixed, p, range(n))
        assert plan.objective == opt  # MCLP is exact
        assert plan.need_after == opt
        assert plan.greedy.need <= opt + 1e-9
        assert plan.gap.absolute == pytest.approx(opt - plan.greedy.need)
        assert plan.gap.percent == pytest.approx(100 * (opt - plan.greedy.need) / opt if opt else 0.0)
        assert plan.need_before == _brute(xy, need, radius, fixed, 0, range(n))
        # marginal gains add up from the existing coverage to the optimum
        assert plan.need_before + plan.marginal["gain"].sum() == pytest.approx(opt)
        assert len(plan.new_sites) == p and len(plan.greedy.sites) == p
        gaps.append(plan.gap.absolute)
    assert min(gaps) >= 0


def test_greedy_trap_has_a_reported_gap():
    # Three candidate sites on a line (no demand of their own): X in the middle covers 4 schools,
    # Y and Z cover 3 each. Greedy takes X then one more (5); the optimum is Y + Z (6).
    pts = [(0, 0), (2000, 0), (4000, 0),                        # Y, X, Z (candidates)
           (1000, 300), (970, -300), (3000, 300), (3030, -300),  # covered by X and one of Y/Z
           (-500, 0), (4500, 0)]                                 # covered by Y only / Z only
    s = _schools(pts)
    need = pd.Series([0, 0, 0, 1, 1, 1, 1, 1, 1], index=s["URN"])
    plan = planning.plan_hubs(s, need, p=2, radius_m=1080, candidates=s["URN"][:3].tolist(), capacity=None)
    assert plan.objective == 6 and plan.greedy.need == 5
    assert plan.greedy.sites[0] == s["URN"][1]
    assert plan.gap.absolute == 1 and plan.gap.percent == pytest.approx(100 / 6)
    assert sorted(plan.new_sites) == sorted(s["URN"][[0, 2]])
    assert "gap 1" in plan.message


def test_capacity_assignment_nearest_first_and_existing_group():
    # one existing hub given by its member schools (sited at the medoid), capacity 3
    pts = [(0, 0), (100, 0), (200, 0),            # members of the existing hub
           (5000, 0),                              # far member: covered because it is a member
           (300, 0), (400, 0), (450, 0)]           # in reach of the medoid, not members
    s = _schools(pts)
    need = pd.Series([1, 1, 1, 1, 5, 5, 5], index=s["URN"])
    members = s["URN"][:4].tolist()
    plan = planning.plan_hubs(s, need, existing_urns={"pilot": members}, p=0, radius_m=1000, capacity=3)
    assert plan.sites["hub_urn"].tolist() == [s["URN"][1]]  # the medoid of the members
    assert plan.sites["hub_name"].tolist() == ["pilot"] and plan.sites["members"].tolist() == [4]
    a = plan.assignment.set_index("urn")
    assert a.loc[s["URN"][3], "hubs_in_reach"] == 1      # the far member counts as covered
    assert plan.need_before == plan.need_after == 19
    served = a[a["status"] == "served"]
    assert len(served) == 3 and set(served.index) <= set(members)  # members are assigned first
    assert set(plan.over_capacity["urn"]) == set(s["URN"][3:])
    assert plan.need_served == 3
    # uncapacitated: everything in reach is served
    free = planning.plan_hubs(s, need, existing_urns={"pilot": members}, p=0, radius_m=1000, capacity=None)
    assert free.need_served == 19 and free.over_capacity.empty


def test_plan_hubs_errors(tmp_path):
    s = _schools([(0, 0), (1000, 0)])
    need = pd.Series([1, 2], index=s["URN"])
    with pytest.raises(InputError, match="existing hub URN\\(s\\) 999 are not in the schools"):
        planning.plan_hubs(s, need, existing_urns=["999"], p=1, radius_m=500)
    with pytest.raises(GangmapError, match="p=-1"):
        planning.plan_hubs(s, need, p=-1, radius_m=500)
    with pytest.raises(GangmapError, match="radius_m"):
        planning.plan_hubs(s, need, p=1, radius_m=0)
    with pytest.raises(GangmapError, match="more candidate sites"):
        planning.plan_hubs(s, need, p=3, radius_m=500)
    home = pd.DataFrame({"ward_code": ["E05000001"], "referrals": [3]})
    with pytest.raises(InputError, match="school_need"):
        planning.plan_hubs(s, home, p=1, radius_m=500)


# =========================================================================== hubs: the demo
def _dist_to_kingsford(demo_table, schools, urn):
    kg = demo_table.frame[demo_table["ward_name"].isin(demo.HOTSPOT_KINGSFORD)].geometry.union_all()
    row = schools.set_index("URN").loc[urn]
    return shapely.Point(row["Easting"], row["Northing"]).distance(kg)


def test_demo_next_hub_lands_near_kingsford(demo_table, kingsford, tmp_path):
    p = demo.paths()
    schools = pd.read_csv(p["schools"], dtype={"URN": str})
    pilot = pd.read_csv(p["pilot_hub"], dtype=str)["URN"].tolist()
    assert len(pilot) == 47
    plan = planning.plan_hubs(p["schools"], p["referrals"], existing_urns={"Castleford East pilot": pilot},
                              p=1, radius_m=6000, area=demo_table)
    assert plan.need_label == "referrals" and plan.need_is_count
    assert plan.need_total == pd.read_csv(p["referrals"])["referrals"].sum()
    # the objective equals brute force over every school as the new site
    xy = schools[["Easting", "Northing"]].to_numpy(float)
    a = plan.assignment.set_index("urn")
    need = a.loc[schools["URN"], "need"].to_numpy(float)
    D = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    site = plan.sites.loc[plan.sites["status"] == "existing", "hub_urn"].item()
    i_site = schools.index[schools["URN"] == site][0]
    covered0 = (D[:, i_site] <= 6000) | schools["URN"].isin(pilot).to_numpy()
    gains = np.array([need[~covered0 & (D[:, j] <= 6000)].sum() for j in range(len(schools))])
    assert plan.need_before == need[covered0].sum()
    assert plan.objective == plan.need_before + gains.max()
    # every optimal new site (not just the one CBC returned) is in or near the Kingsford cluster
    best = schools["URN"][gains == gains.max()]
    dists = [_dist_to_kingsford(demo_table, schools, u) for u in best]
    assert max(dists) <= 5000, dict(zip(best, dists))
    assert _dist_to_kingsford(demo_table, schools, plan.new_sites[0]) <= 5000
    served_k = a[a["ward_code"].isin(kingsford) & (a["status"] == "served")]
    assert len(served_k) >= 3  # the new hub reaches the hotspot's schools
    assert plan.gap.absolute == 0  # p=1: greedy is optimal
    # capacity holds, map layers are in British National Grid
    assert plan.assignment.groupby("hub_urn").size().max() <= 47
    assert plan.hubs.crs.to_epsg() == 27700 and len(plan.hubs) == 2 and len(plan.catchments) == 2
    assert plan.catchments.geometry.within(demo_table.geometry.union_all().buffer(1)).all()
    assert len(plan.uncovered) == len(plan.uncovered_high_need)
    assert (plan.uncovered_high_need["need"] > plan.high_need_threshold).all()
    # three new hubs: greedy falls short of the optimum on the demo, and the gap is reported
    plan3 = planning.plan_hubs(p["schools"], p["referrals"], existing_urns={"Castleford East pilot": pilot},
                               p=3, radius_m=6000)
    assert plan3.objective >= plan3.greedy.need
    assert plan3.gap.absolute == plan3.objective - plan3.greedy.need
    gains = plan3.marginal["gain"].to_numpy()
    assert (np.diff(gains) <= 0).all() and plan3.need_before + gains.sum() == plan3.objective
    assert plan3.sites["status"].tolist() == ["existing", "new", "new", "new"]
    # outputs through make_safe
    export.write_table(plan.safe(), tmp_path / "hubs.csv")
    export.write_table(plan.schools_safe(), tmp_path / "hub_schools.xlsx")
    wsafe = plan.areas_safe()
    assert wsafe.counts == ("need",)
    assert plan.areas_table()["need"].sum() == plan.need_total
    export.write_table(wsafe, tmp_path / "hub_wards.csv")
    text = (tmp_path / "hubs.csv").read_text()
    assert "Castleford East pilot" in text and "new hub 1" in text


def test_demo_hub_with_ward_need_index(demo_table, tmp_path):
    p = demo.paths()
    pilot = pd.read_csv(p["pilot_hub"], dtype=str)["URN"].tolist()
    need = planning.school_need(p["schools"], demo_table, "need_index")
    assert need.sources == ("reports", "referrals") and need.measure == "need_index"
    plan = planning.plan_hubs(p["schools"], need, existing_urns={"pilot": pilot}, p=1, radius_m=6000)
    schools = pd.read_csv(p["schools"], dtype={"URN": str})
    assert _dist_to_kingsford(demo_table, schools, plan.new_sites[0]) <= 5000
    assert not plan.need_is_count and plan.need_sources == ("reports", "referrals")
    # a school repeats its ward's counts, so per-school values go out per ward instead
    with pytest.raises(GangmapError, match="areas_safe"):
        plan.schools_safe()
    wt = plan.areas_table()
    assert wt["ward_code"].is_unique and wt["schools"].sum() == len(plan.assignment)
    safe = plan.areas_safe()
    assert set(safe.counts) == {"reports", "referrals"} and "need" in safe.derived
    ref = demo_table.frame.set_index("ward_code").loc[wt["ward_code"], "referrals"].to_numpy()
    assert (wt["referrals"].to_numpy() == ref).all()
    export.write_table(safe, tmp_path / "wards_need.csv")
    hub_safe = plan.safe()
    assert set(hub_safe.counts) == {"schools_in_reach", "schools_served"}
    export.write_table(hub_safe, tmp_path / "hubs_need.csv")


# =========================================================================== real data
@pytest.mark.realdata
def test_real_northamptonshire_campaign_coverage(shared_data, tmp_path):
    wards = shared_data / "boundaries" / "northamptonshire_wards_2013.geojson"
    police = shared_data / "police" / "2018-03-northamptonshire-street.csv"
    table, report = gangmap.join(wards, reports=police, category=["Drugs", "Possession of weapons", "Robbery"])
    assert report.balanced and table["reports"].sum() == report.total
    table = declared(table)
    rushden = table.frame.loc[table["ward_name"].str.startswith("Rushden"), "ward_name"].tolist()
    assert len(rushden) == 5
    targets = planning.read_targets({"campaign": {"name": "#gangsruinlives", "launch": "2018-03",
                                                  "districts": ["E07000156"], "ward_names": rushden}}, table)
    wellingborough = set(table.frame.loc[table["lad_code"] == "E07000156", "ward_code"])
    assert wellingborough < targets.codes and len(targets.codes) == len(wellingborough) + 5
    before = planning.coverage(table, targets, "reports")
    assert 0 < before < 1
    rec = planning.recommend(table, targets, "reports", k=8)
    assert len(rec.codes) == 8 and rec.after > rec.before == pytest.approx(before)
    assert not set(rec.codes) & targets.codes
    grown = planning.recommend(table, targets, "reports", k=8, contiguous=True)
    assert len(grown.codes) == 8
    export.write_table(rec.safe(), tmp_path / "real_next.csv")
    export.write_table(grown.safe(policy="threshold"), tmp_path / "real_next_grown.csv")
