"""Tests for gangmap.disclosure: policies, make_safe, secondary suppression, audit."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gangmap.disclosure import (
    POLICIES,
    UNSAFE_STAMP,
    Policy,
    SafeTable,
    audit,
    get_policy,
    is_safe,
    make_safe,
    require_safe,
)
from gangmap.errors import ConfigError, DisclosureError
from gangmap.table import from_frame

# --------------------------------------------------------------------------- fixtures

#: The worked example in the module docstring and the README.
EXAMPLE = pd.DataFrame({
    "ward_code": ["W1", "W2", "W3", "W4", "W5", "W6"],
    "ward_name": ["Abbey", "Brook", "Castle", "Dale", "Elm", "Ford"],
    "lad_code": ["D1", "D1", "D1", "D2", "D2", "D2"],
    "lad_name": ["Northdale", "Northdale", "Northdale", "Southmere", "Southmere", "Southmere"],
    "reports": [0, 3, 25, 8, 12, 8],
})


def nhs_round(x: int) -> int:
    """Independent statement of the nhs rule for a shown value (0 stays 0)."""
    return 0 if x == 0 else int(math.floor(x / 5 + 0.5)) * 5


def raw_totals(table: pd.DataFrame, column: str) -> dict[tuple[str, str], float]:
    """Raw district and county sums, computed independently of the module."""
    out = {}
    for code, grp in table.groupby("lad_code", sort=False):
        out[("district", code)] = grp[column].sum(min_count=1)
    out[("county", "")] = table[column].sum(min_count=1)
    return out


def totals_lookup(safe: SafeTable, column: str) -> dict[tuple[str, str], tuple[float, bool]]:
    t = safe.totals
    return {(lv, cd): (v, s) for lv, cd, v, s in
            zip(t["level"], t["code"], t[column], t[f"{column}_suppressed"])}


# --------------------------------------------------------------------------- strategies
COUNT = st.one_of(st.just(0), st.just(0), st.integers(1, 9), st.integers(1, 9), st.integers(10, 80))


@st.composite
def ward_tables(draw, nodata: bool = False, two: bool = True):
    """Random county: 2-5 districts of 1-12 wards, many 0s and 1-9s."""
    n_d = draw(st.integers(2, 5))
    sizes = draw(st.lists(st.integers(1, 12), min_size=n_d, max_size=n_d))
    n = sum(sizes)
    value = st.one_of(COUNT, st.just(None)) if nodata else COUNT
    reports = draw(st.lists(value, min_size=n, max_size=n))
    rows = []
    i = 0
    for d, size in enumerate(sizes):
        for w in range(size):
            rows.append({"ward_code": f"E05{d:02d}{w:04d}", "ward_name": f"Ward {chr(65 + d)}{chr(97 + w)}",
                         "lad_code": f"E07{d:06d}", "lad_name": f"District {chr(65 + d)}",
                         "reports": np.nan if reports[i] is None else reports[i]})
            i += 1
    t = pd.DataFrame(rows)
    if two:
        t["referrals"] = draw(st.lists(COUNT, min_size=n, max_size=n))
    return t


POLICY_CHOICES = st.sampled_from([("nhs", {}), ("threshold", {}), ("threshold", {"k": 5}),
                                  ("threshold", {"k": 3})])
def fast(n: int):
    """Settings for the property tests: n examples, no deadline (keeps the file well under 30 s)."""
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --------------------------------------------------------------------------- worked examples
def test_worked_example_nhs():
    safe = make_safe(EXAMPLE, ["reports"], period="2018-03")
    assert safe.display["reports"].tolist() == ["0", "*", "25", "10", "10", "10"]
    assert safe.suppressed["reports"].tolist() == [False, True, False, False, False, False]
    f = safe.frame["reports"]
    assert f.iloc[1] != f.iloc[1]  # NaN where suppressed
    assert f.drop(index=1).tolist() == [0.0, 25.0, 10.0, 10.0, 10.0]
    # totals from raw (28, 28, 56) then rounded, not the sum of rounded wards (35, 30, 65)
    t = safe.totals
    assert t["level"].tolist() == ["district", "district", "county"]
    assert t["code"].tolist() == ["D1", "D2", ""]
    assert t["name"].tolist() == ["Northdale", "Southmere", "All areas"]
    assert t["reports"].tolist() == [30.0, 30.0, 55.0]
    assert not t["reports_suppressed"].any()
    assert safe.policy.label == "1–7 (suppressed)"


def test_worked_example_threshold():
    safe = make_safe(EXAMPLE, ["reports"], policy="threshold")
    # W2=3, W4=8, W6=8 are primary; W3=25 hidden so W2 is not 28-0-25.
    assert safe.display["reports"].tolist() == ["0", "*", "*", "*", "12", "*"]
    assert safe.totals["reports"].tolist() == [28.0, 28.0, 56.0]
    assert safe.policy.label == "1–9 (suppressed)"
    a = audit(safe)
    assert not a["recoverable"].any()
    w2 = a.set_index("code").loc["W2"]
    assert (w2["low"], w2["high"]) == (1.0, 27.0)


def test_worked_example_threshold_across_levels():
    # D1's total (3) is small. Shown D2 and D3 and the county would give it away, so D2 is
    # hidden too; D2 = 20 + 15 would then give itself away, so its smaller ward goes as well.
    t = pd.DataFrame({"ward_code": ["A1", "A2", "B1", "B2", "C1", "C2"],
                      "lad_code": ["D1", "D1", "D2", "D2", "D3", "D3"],
                      "reports": [3, 0, 20, 15, 30, 12]})
    safe = make_safe(t, ["reports"], policy="threshold")
    assert safe.display["reports"].tolist() == ["*", "0", "20", "*", "30", "12"]
    assert safe.totals["reports_suppressed"].tolist() == [True, True, False, False]
    assert safe.totals["reports"].tolist()[2:] == [42.0, 80.0]
    assert not audit(safe)["recoverable"].any()


def test_single_nonzero_ward_among_zeros_is_protected():
    # A hidden ward whose siblings are all 0 equals its district total: both must be hidden,
    # and the district total then needs protecting at county level.
    t = pd.DataFrame({"ward_code": ["A1", "A2", "B1", "B2"], "lad_code": ["D1", "D1", "D2", "D2"],
                      "reports": [4, 0, 30, 25]})
    safe = make_safe(t, ["reports"], policy="threshold")
    assert safe.display["reports"].tolist()[:2] == ["*", "0"]
    assert safe.totals.set_index("code").loc["D1", "reports_suppressed"]
    assert not audit(safe)["recoverable"].any()
    assert not audit(safe, raw=t).query("primary")["recoverable"].any()


def test_nhs_rounding_alone_can_leak_and_is_fixed():
    # 8 + 8 + 1 = 17, shown 10, 10, * and total 15: the * can only be 1 (15+2-8-8).
    t = pd.DataFrame({"ward_code": ["A1", "A2", "A3"], "lad_code": ["D1"] * 3, "reports": [8, 8, 1]})
    safe = make_safe(t, ["reports"])
    assert safe.suppressed["reports"].sum() == 2  # one more ward hidden
    assert safe.totals["reports"].tolist() == [15.0, 15.0]
    assert not audit(safe)["recoverable"].any()


def test_audit_finds_recoverable_cells_without_secondary():
    t = pd.DataFrame({"ward_code": ["W1", "W2", "W3"], "lad_code": ["D1"] * 3, "reports": [3, 12, 30]})
    naive = make_safe(t, ["reports"], policy="threshold", secondary=False, allow_unsafe=True)
    a = audit(naive)
    assert a["code"].tolist() == ["W1"]
    assert a["recoverable"].tolist() == [True]
    assert (a["low"].iloc[0], a["high"].iloc[0]) == (3.0, 3.0)
    assert UNSAFE_STAMP in naive.provenance.marking
    safe = make_safe(t, ["reports"], policy="threshold")
    assert safe.display["reports"].tolist() == ["*", "*", "30"]
    assert not audit(safe)["recoverable"].any()


def test_insider_two_small_cells_with_known_sum_are_protected():
    # 9 + 9 = 18: a reader who takes both * as 1-9 would know both. Something else must go.
    t = pd.DataFrame({"ward_code": ["W1", "W2", "W3"], "lad_code": ["D1"] * 3, "reports": [9, 9, 40]})
    safe = make_safe(t, ["reports"], policy="threshold")
    assert safe.suppressed["reports"].tolist() == [True, True, True]
    a = audit(safe, raw=t)
    assert not a["recoverable"].any()


def test_unavoidable_cells_are_reported():
    # k=3: wards 1, 1 and a district total of 2, all hidden; knowing both are 1-2 pins them.
    t = pd.DataFrame({"ward_code": ["A1", "A2", "A3", "B1"], "lad_code": ["D1"] * 3 + ["D2"],
                      "reports": [1, 1, 0, 40]})
    safe = make_safe(t, ["reports"], policy="threshold", k=3)
    assert not audit(safe)["recoverable"].any()
    a = audit(safe, raw=t)
    bad = a[a["recoverable"] & a["primary"]]
    assert set(bad["code"]) == {"A1", "A2", "D1"}
    assert bad["unavoidable"].all()
    # Hidden only to protect them, D2 and B1 (40) are pinned for this reader, which tells
    # nothing small; for a reader of the published table nothing is pinned (checked above).
    assert set(a.loc[a["recoverable"] & ~a["primary"], "code"]) == {"D2", "B1"}


def test_policy_none_needs_allow_unsafe_and_is_stamped():
    with pytest.raises(DisclosureError, match="allow_unsafe=True"):
        make_safe(EXAMPLE, ["reports"], policy="none")
    safe = make_safe(EXAMPLE, ["reports"], policy="none", allow_unsafe=True, marking="OFFICIAL")
    assert safe.display["reports"].tolist() == ["0", "3", "25", "8", "12", "8"]
    assert not safe.suppressed.to_numpy().any()
    assert safe.totals["reports"].tolist() == [28.0, 28.0, 56.0]
    assert safe.provenance.marking == f"{UNSAFE_STAMP} · OFFICIAL"
    assert safe.provenance.stamp == UNSAFE_STAMP
    assert UNSAFE_STAMP in safe.provenance.footer()
    assert "UNSUPPRESSED" in safe.policy.describe()


def test_threshold_secondary_false_needs_allow_unsafe():
    with pytest.raises(DisclosureError, match="allow_unsafe"):
        make_safe(EXAMPLE, ["reports"], policy="threshold", secondary=False)


def test_suppress_zero_option():
    safe = make_safe(EXAMPLE, ["reports"], policy="threshold", suppress_zero=True)
    assert safe.suppressed["reports"].iloc[0]
    assert safe.policy.label == "0–9 (suppressed)"
    assert not audit(safe)["recoverable"].any()
    assert "0 stays 0" not in safe.policy.summary


# --------------------------------------------------------------------------- policies
def test_policies_and_labels():
    assert set(POLICIES) == {"nhs", "threshold", "none"}
    assert get_policy("nhs") is POLICIES["nhs"]
    assert get_policy("threshold", k=5).label == "1–4 (suppressed)"
    assert get_policy("nhs").summary == "0 stays 0; 1–7 suppressed; others rounded to 5"
    nhs = get_policy("nhs")
    assert [nhs.shown_value(v) for v in (0, 1, 7, 8, 9, 10, 12, 13, 17, 18)] == \
        [0, None, None, 10, 10, 10, 10, 15, 15, 20]
    assert nhs.band(10) == (8, 12) and nhs.band(15) == (13, 17) and nhs.band(0) == (0, 0)
    for name in POLICIES:
        text = get_policy(name).describe()
        assert len(text) > 100 and "\n" not in text


def test_get_policy_errors():
    with pytest.raises(ConfigError, match="unknown disclosure policy 'nsh'.*nhs, threshold, none"):
        get_policy("nsh")
    with pytest.raises(ConfigError, match="policy 'nhs' has no option 'k'.*threshold"):
        get_policy("nhs", k=5)
    with pytest.raises(ConfigError, match="at least 3"):
        get_policy("threshold", k=2)
    with pytest.raises(ConfigError, match="marker"):
        get_policy("threshold", marker="")
    with pytest.raises(ConfigError, match="must look different"):
        get_policy("nhs", marker="x", nodata_text="x")
    with pytest.raises(ConfigError):
        make_safe(EXAMPLE, ["reports"], policy="bogus")


def test_get_policy_from_policy_object():
    p = get_policy("threshold", k=6)
    q = get_policy(p, marker="~")
    assert isinstance(q, Policy) and q.min_shown == 6 and q.marker == "~"
    safe = make_safe(EXAMPLE, ["reports"], policy=q)
    assert "~" in safe.display["reports"].tolist()


# --------------------------------------------------------------------------- allow-list, errors
def test_allow_list_drops_unlisted_columns():
    t = EXAMPLE.assign(**{"Crime ID": ["x1", "x2", "x3", "x4", "x5", "x6"], "lon": 0.5, "lat": 51.0,
                          "notes": "free text", "population": [1000.0] * 6})
    safe = make_safe(t, ["reports"])
    assert list(safe.frame.columns) == ["ward_code", "ward_name", "lad_code", "lad_name", "reports"]
    assert set(safe.dropped) == {"Crime ID", "lon", "lat", "notes", "population"}
    # A plain frame has no roles: population is published only once it is declared public.
    with pytest.raises(DisclosureError, match="keep lists 'population', whose role is not declared"):
        make_safe(t, ["reports"], keep=["population"])
    safe = make_safe(t, ["reports"], context=["population"])  # keep defaults to the context columns
    assert "population" in safe.frame.columns and "lon" not in safe.frame.columns
    assert safe.display["population"].tolist()[0] == "1,000"
    assert "population" not in safe.columns  # not a value column
    assert safe.context == ("population",)
    assert list(make_safe(t, ["reports"], context=["population"], keep=[]).frame.columns)[-1] == "reports"


def test_geodataframe_keeps_geometry_and_crs():
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import box

    g = gpd.GeoDataFrame(EXAMPLE.assign(lon=1.0), geometry=[box(i, 0, i + 1, 1) for i in range(6)],
                         crs="EPSG:27700")
    safe = make_safe(g, ["reports"])
    assert isinstance(safe.frame, gpd.GeoDataFrame)
    assert safe.frame.crs.to_epsg() == 27700
    assert "geometry" in safe.frame.columns and "lon" not in safe.frame.columns
    assert "geometry" not in safe.display.columns


def test_missing_count_column_is_named():
    with pytest.raises(DisclosureError, match=r"count column 'report' is not in the table; its columns "
                                              r"are: ward_code, ward_name, lad_code, lad_name, reports"):
        make_safe(EXAMPLE, ["report"])


@pytest.mark.parametrize("bad, why", [(-1, "negative"), (2.5, "not a whole number")])
def test_bad_count_values_name_column_and_row(bad, why):
    t = EXAMPLE.copy()
    t["referrals"] = [1.0, 2.0, bad, 0.0, 0.0, 0.0]
    with pytest.raises(DisclosureError, match=rf"'referrals' has {bad:g} in row 2 \(ward W3\).*{why}"):
        make_safe(t, ["reports", "referrals"])


def test_text_in_count_column_is_named():
    t = EXAMPLE.assign(reports=["0", "3", "many", "8", "12", "8"])
    with pytest.raises(DisclosureError, match=r"'reports' holds 'many' in row 2 \(ward W3\)"):
        make_safe(t, ["reports"])


def test_other_input_errors():
    with pytest.raises(DisclosureError, match="keep column 'pop'"):
        make_safe(EXAMPLE, ["reports"], keep=["pop"])
    with pytest.raises(DisclosureError, match="at least one raw count column"):
        make_safe(EXAMPLE, [])
    with pytest.raises(DisclosureError, match="DataFrame"):
        make_safe(EXAMPLE.to_dict(), ["reports"])
    t = EXAMPLE.assign(lad_code=["D1", None, "D1", "D2", "D2", "D2"])
    with pytest.raises(DisclosureError, match=r"hierarchy column 'lad_code' is empty in row 1"):
        make_safe(t, ["reports"])


def test_derived_with_source_not_in_counts_is_refused():
    t = EXAMPLE.assign(referrals=[0, 1, 2, 3, 4, 5], referrals_rate=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    with pytest.raises(DisclosureError, match="'referrals_rate' is computed from 'referrals'.*add"):
        make_safe(t, ["reports"], derived={"referrals_rate": ["referrals"]})
    # Declared in the table's schema it is dropped instead (never exported raw) ...
    table = from_frame(t, counts=["reports", "referrals"], derived={"referrals_rate": ["referrals"]})
    safe = make_safe(table, ["reports"])
    assert "referrals_rate" not in safe.frame.columns and "referrals_rate" in safe.dropped
    # ... and cannot be smuggled out through keep.
    with pytest.raises(DisclosureError, match="keep lists 'referrals_rate'"):
        make_safe(table, ["reports"], keep=["referrals_rate"])
    with pytest.raises(DisclosureError, match="keep lists 'referrals', which is a raw count"):
        make_safe(table, ["reports"], keep=["referrals"])


def test_require_safe_and_is_safe():
    with pytest.raises(DisclosureError) as err:
        require_safe(EXAMPLE, "a CSV")
    assert str(err.value) == ("Exporting a CSV needs a SafeTable: call "
                              "gangmap.disclosure.make_safe(table, counts=[...]) first")
    safe = make_safe(EXAMPLE, ["reports"])
    assert require_safe(safe, "a CSV") is safe
    assert is_safe(safe) and not is_safe(EXAMPLE)
    with pytest.raises(DisclosureError, match="only be made by"):
        SafeTable(*(getattr(safe, f.name) for f in dataclasses.fields(SafeTable) if f.name != "_maker"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        safe.frame = EXAMPLE  # type: ignore[misc]


def test_provenance_and_footer():
    safe = make_safe(EXAMPLE, ["reports"], period="2018-03")
    p = safe.provenance
    assert p.policy == "nhs" and p.period == "2018-03" and p.marking == "OFFICIAL-SENSITIVE"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p.generated)
    assert p.version  # "0.1.0" or "0+unknown" while the package is assembled
    assert re.fullmatch(
        r"Data: 2018-03 · Disclosure: nhs \(0 stays 0; 1–7 suppressed; others rounded to 5\) · "
        r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC · gangmap \S+ · OFFICIAL-SENSITIVE", p.footer())


def test_source_date_epoch_fixes_the_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795255200")
    safe = make_safe(EXAMPLE, ["reports"])
    assert safe.provenance.generated == "2026-11-21T10:00:00Z"
    assert "Generated 2026-11-21 10:00 UTC" in safe.provenance.footer()


def test_nodata_is_neither_zero_nor_suppressed():
    t = EXAMPLE.assign(reports=[0, 3, np.nan, 8, np.nan, 8])
    safe = make_safe(t, ["reports"])
    assert safe.nodata["reports"].tolist() == [False, False, True, False, True, False]
    assert not (safe.nodata["reports"] & safe.suppressed["reports"]).any()
    assert safe.display["reports"].tolist() == ["0", "*", "no data", "10", "no data", "10"]
    safe = make_safe(t.assign(reports=[np.nan] * 3 + [8, 8, 8]), ["reports"], nodata_text="")
    assert safe.display["reports"].tolist()[:3] == ["", "", ""]
    tot = safe.totals.set_index("code")
    assert np.isnan(tot.loc["D1", "reports"]) and not tot.loc["D1", "reports_suppressed"]
    assert tot.loc["D2", "reports"] == 25.0  # raw 24


def test_no_hierarchy_column_means_county_total_only():
    t = EXAMPLE.drop(columns=["lad_code", "lad_name"])
    safe = make_safe(t, ["reports"])
    assert safe.totals["level"].tolist() == ["county"]
    assert safe.totals["reports"].tolist() == [55.0]
    with pytest.raises(DisclosureError, match="hierarchy column 'msoa_code'"):
        make_safe(t, ["reports"], hierarchy=("msoa_code",))


def test_safe_table_holds_no_raw_values():
    # Raw suppressed values (1-7) and raw values that rounding changed must appear nowhere.
    t = pd.DataFrame({
        "ward_code": [f"E05{i:06d}" for i in range(8)],
        "lad_code": ["E07A"] * 4 + ["E07B"] * 4,
        "reports": [3, 41, 6, 23, 7, 4, 38, 52],
        "referrals": [2, 33, 0, 19, 44, 1, 27, 6],
    })
    t.attrs["secret"] = t["reports"].tolist()
    safe = make_safe(t, ["reports", "referrals"])
    forbidden = set()
    for c in ("reports", "referrals"):
        for v, shown in zip(t[c], safe.frame[c]):
            if v != shown:
                forbidden.add(float(v))
        for v in raw_totals(t, c).values():
            forbidden.add(float(v))
    shown = {float(v) for c in ("reports", "referrals")
             for v in [*safe.frame[c].dropna(), *safe.totals[c].dropna()]}
    forbidden -= shown  # a raw value that equals some other shown value is no leak
    # every raw value except the 0 differs from what is shown (rounded or hidden)
    assert forbidden == {3.0, 41.0, 6.0, 23.0, 7.0, 4.0, 38.0, 52.0, 2.0, 33.0, 19.0, 44.0, 1.0, 27.0,
                         73.0, 101.0, 174.0, 54.0, 78.0, 132.0}

    found = []

    def scan(obj, where, depth=0):
        if depth > 6:
            return
        if isinstance(obj, pd.DataFrame):
            scan(obj.attrs, where + ".attrs", depth + 1)
            for col in obj.columns:
                if col == "geometry":
                    continue
                for v in obj[col].tolist():
                    scan(v, f"{where}[{col}]", depth + 1)
        elif isinstance(obj, dict) or hasattr(obj, "items"):
            for k, v in obj.items():
                scan(k, where, depth + 1)
                scan(v, f"{where}.{k}", depth + 1)
        elif isinstance(obj, (list, tuple, set)):
            for v in obj:
                scan(v, where, depth + 1)
        elif isinstance(obj, str):
            try:
                x = float(obj.replace(",", ""))
            except ValueError:
                return
            if x in forbidden:
                found.append((where, obj))
        elif isinstance(obj, (int, float, np.integer, np.floating)) and not isinstance(obj, bool):
            if float(obj) in forbidden:
                found.append((where, obj))

    for name, value in vars(safe).items():
        if name in ("policy",):
            continue  # the rule's own constants (8, 5, 3 significant figures) are not data
        if dataclasses.is_dataclass(value):
            value = dataclasses.asdict(value)
        scan(value, name)
    assert found == []
    assert "secret" not in safe.frame.attrs


def rate_recipe(t):
    """An independent rate recipe: per 1,000 from whatever counts the table it is given holds."""
    return t["reports"] / t["population"] * 1000


def test_derived_columns_recomputed_from_safe_counts_and_suppressed():
    pop = [1000.0, 2000.0, 3000.0, 1500.0, 2500.0, 500.0]
    base = from_frame(EXAMPLE.assign(population=pop), counts=["reports"], context=["population"])
    t = base.with_columns({"reports_rate": EXAMPLE["reports"] / np.array(pop) * 1000}, sources=["reports"],
                          notes={"recipe": rate_recipe})
    t = t.with_columns({"reports_lisa": ["ns", "HH", "HH", "LL", "ns", "LL"]}, sources=["reports"])
    safe = make_safe(t)
    assert safe.columns == ["reports", "reports_rate"]
    assert safe.suppressed["reports_rate"].tolist() == safe.suppressed["reports"].tolist()
    # From the published counts (0, *, 25, 10, 10, 10), not the raw ones (8 / 1,500 would give 5.33:
    # times the public population, the raw count 8).
    assert safe.display["reports_rate"].tolist() == ["0", "*", "8.33", "6.67", "4.00", "20.0"]
    assert pd.isna(safe.frame["reports_rate"].iloc[1])
    assert safe.frame["reports_rate"].iloc[2] == 8.33
    assert dict(safe.derived) == {"reports_rate": ("reports",)}
    # A label with no recipe cannot be worked out from the published counts: withheld, with the reason.
    assert "reports_lisa" not in safe.frame.columns and "reports_lisa" in safe.dropped
    assert "no recipe" in safe.withheld["reports_lisa"]


# --------------------------------------------------------------------------- properties
@fast(60)
@given(t=ward_tables(), choice=POLICY_CHOICES)
def test_no_suppressed_cell_can_be_recovered(t, choice):
    name, opts = choice
    safe = make_safe(t, ["reports", "referrals"], policy=name, **opts)
    # A reader of the table, and one who also knows the exact count behind each shown ward.
    for a in (audit(safe), audit(safe, raw=t, insider=False)):
        assert not a["recoverable"].any(), a[a["recoverable"]]
    # A reader of what is shown keeps at least min_range (3) possible values for every hidden cell.
    public = audit(safe)
    assert (public["values"] >= safe.policy.min_range).all(), public[public["values"] < 3]
    # One who also knows which hidden cells are the small ones: only unavoidable cases.
    insider = audit(safe, raw=t)
    bad = insider[insider["recoverable"] & insider["primary"]]
    assert bad["unavoidable"].all(), bad
    # The audit's ranges always contain the truth.
    truth = {}
    for c in ("reports", "referrals"):
        truth.update({(c, "ward", code): v for code, v in zip(t["ward_code"], t[c])})
        truth.update({(c, *k): v for k, v in raw_totals(t, c).items()})
    for a in (audit(safe), insider):
        for r in a.itertuples():
            x = truth[(r.column, r.level, r.code)]
            assert r.low <= x <= r.high


@fast(12)
@given(t=ward_tables(two=False), choice=POLICY_CHOICES)
def test_audit_exact_agrees_with_linear_programme(t, choice):
    pytest.importorskip("scipy")
    name, opts = choice
    safe = make_safe(t, ["reports"], policy=name, **opts)
    for kwargs in ({}, {"raw": t}):
        exact = audit(safe, **kwargs)
        lp = audit(safe, method="lp", **kwargs)
        pd.testing.assert_frame_equal(exact, lp)


@fast(40)
@given(t=ward_tables(nodata=True))
def test_nhs_rounding_zeros_and_totals(t):
    safe = make_safe(t, ["reports", "referrals"])
    for c in ("reports", "referrals"):
        raw = t[c].to_numpy(dtype=float)
        shown = safe.frame[c].to_numpy(dtype=float)
        sup = safe.suppressed[c].to_numpy()
        nod = safe.nodata[c].to_numpy()
        assert (nod == np.isnan(raw)).all()
        assert not (sup & nod).any()
        for x, s, hidden in zip(raw, shown, sup):
            if np.isnan(x):
                assert np.isnan(s) and not hidden
            elif x == 0:
                assert s == 0 and not hidden  # zeros stay zeros
            elif x <= 7:
                assert hidden
            elif not hidden:
                assert abs(s - x) <= 2 and s % 5 == 0 and s >= 10 and s == nhs_round(int(x))
        looked = totals_lookup(safe, c)
        for key, x in raw_totals(t, c).items():
            s, hidden = looked[key]
            if np.isnan(x):
                assert np.isnan(s) and not hidden
            elif x == 0:
                assert s == 0 and not hidden
            elif x <= 7:
                assert hidden
            elif not hidden:
                assert s == nhs_round(int(x)), (key, x, s)  # from the raw sum, not summed rounded values
                assert abs(s - x) <= 2


@fast(40)
@given(t=ward_tables(), k=st.sampled_from([3, 5, 10]))
def test_threshold_shows_exact_values_and_hides_small_ones(t, k):
    safe = make_safe(t, ["reports", "referrals"], policy="threshold", k=k)
    for c in ("reports", "referrals"):
        for x, s, hidden, text in zip(t[c], safe.frame[c], safe.suppressed[c], safe.display[c]):
            if x == 0:
                assert s == 0 and not hidden
            elif x < k:
                assert hidden
            if not hidden:
                assert s == x and text == f"{int(x):,}"
            else:
                assert np.isnan(s) and text == "*"
        looked = totals_lookup(safe, c)
        for key, x in raw_totals(t, c).items():
            s, hidden = looked[key]
            if 0 < x < k:
                assert hidden
            if not hidden:
                assert s == x


@fast(30)
@given(t=ward_tables(), choice=POLICY_CHOICES, data=st.data())
def test_derived_suppressed_exactly_where_a_source_is(t, choice, data):
    name, opts = choice
    n = len(t)
    t["population"] = data.draw(st.lists(st.floats(100, 20000), min_size=n, max_size=n))
    table = from_frame(t, counts=["reports", "referrals"], context=["population"])
    table = table.with_columns({"reports_rate": t["reports"] / t["population"] * 1000}, sources=["reports"],
                               notes={"recipe": rate_recipe})
    table = table.with_columns({"need_index": t["reports"] * 0.3 + t["referrals"] * 0.7},
                               sources=["reports", "referrals"],
                               notes={"recipe": lambda p: p["reports"] * 0.3 + p["referrals"] * 0.7})
    table = table.with_columns({"reports_gi": np.where(t["reports"] > 20, "hot", "ns")}, sources=["reports"],
                               notes={"recipe": lambda p: np.where(p["reports"] > 20, "hot", "ns")})
    safe = make_safe(table, policy=name, **opts)
    sup = safe.suppressed
    assert (sup["reports_rate"] == sup["reports"]).all()
    assert (sup["reports_gi"] == sup["reports"]).all()
    assert (sup["need_index"] == (sup["reports"] | sup["referrals"])).all()
    # Every shown derived value is the same function of the *published* counts (an independent
    # recomputation from safe.frame), so it tells a reader nothing the counts do not.
    published = safe.frame
    expected = {"reports_rate": published["reports"] / published["population"] * 1000,
                "need_index": published["reports"] * 0.3 + published["referrals"] * 0.7}
    for col in ("reports_rate", "need_index"):
        vals = safe.frame[col].to_numpy(dtype=float)
        assert (np.isnan(vals) == sup[col].to_numpy()).all()
        shown = ~sup[col].to_numpy()
        np.testing.assert_allclose(vals[shown], expected[col].to_numpy()[shown], rtol=5e-3)
    gi = np.where(published["reports"] > 20, "hot", "ns")
    shown = ~sup["reports_gi"].to_numpy()
    assert safe.frame["reports_gi"][shown].tolist() == gi[shown].tolist()
    assert safe.frame["reports_gi"].isna().tolist() == sup["reports_gi"].tolist()
    assert ((safe.display["need_index"] == "*") == sup["need_index"]).all()
    # population passes through unchanged; nothing else sneaks in
    assert safe.frame["population"].tolist() == t["population"].tolist()
    assert set(safe.frame.columns) == {"ward_code", "ward_name", "lad_code", "lad_name", "reports",
                                       "referrals", "population", "reports_rate", "need_index",
                                       "reports_gi"}


def test_two_level_hierarchy_and_nullable_counts():
    rows = []
    vals = iter([15, 0, 1, 4, 1, 15, 30, 9, 2, 2, 40, 12, 5, 5, 5, 5, 0, 0, 0, 3, 20, 22, 1, 0])
    for r in range(2):
        for d in range(3):
            for w in range(4):
                rows.append((f"W{r}{d}{w}", f"L{r}{d}", f"R{r}", f"Region {r}", next(vals)))
    t = pd.DataFrame(rows, columns=["ward_code", "lad_code", "region_code", "region_name", "reports"])
    t["reports"] = t["reports"].astype("Int64")
    t.loc[1, "reports"] = pd.NA
    safe = make_safe(t, "reports", policy="threshold", hierarchy=("region_code", "lad_code"))
    assert safe.totals["level"].tolist() == ["region"] * 2 + ["district"] * 6 + ["county"]
    assert safe.totals["name"].tolist()[:2] == ["Region 0", "Region 1"]
    assert "region_name" in safe.frame.columns
    assert safe.nodata["reports"].iloc[1] and not safe.suppressed["reports"].iloc[1]
    assert not audit(safe)["recoverable"].any()
    a = audit(safe, raw=t)
    assert not (a["recoverable"] & a["primary"] & ~a["unavoidable"]).any()
    assert safe.frame["reports"].dtype == float
    with pytest.raises(DisclosureError, match="must nest"):
        make_safe(t.assign(lad_code="X"), "reports", hierarchy=("region_code", "lad_code"))


def test_keep_refuses_a_raw_count_recorded_by_join():
    import gangmap

    p = gangmap.demo.paths()
    table, _ = gangmap.join(p["wards"], reports=p["reports"], referrals=p["referrals"], schools=p["schools"])
    with pytest.raises(DisclosureError, match="referrals"):
        make_safe(table, ["reports"], keep=["referrals"])


def test_whole_number_derived_columns_display_as_integers():
    t = pd.DataFrame({"ward_code": [f"E0500000{i}" for i in range(4)], "lad_code": "E07000001",
                      "reports": [20, 30, 40, 1234]})
    rank = pd.array([4, 3, 2, 1234], dtype="int64")
    table = from_frame(t, counts=["reports"]).with_columns({"rank": rank}, sources=["reports"],
                                                          notes={"recipe": lambda p: rank})
    safe = make_safe(table)
    assert safe.display["rank"].tolist() == ["4", "3", "2", "1,234"]


def test_pattern_hides_the_same_cells_in_a_subset_table():
    """Two files made under threshold from the same wards must not hide different cells."""
    t = pd.DataFrame({"ward_code": ["W1", "W2", "W3", "W4", "W5", "W6"],
                      "lad_code": ["D1", "D1", "D1", "D2", "D2", "D2"], "reports": [0, 3, 25, 8, 12, 8]})
    full = make_safe(t, ["reports"], policy="threshold")
    assert full.display["reports"].tolist()[2] == "*"  # W3 hidden to protect W2
    subset = t.iloc[[2, 4]]  # a ranked list with W3 and W5
    alone = make_safe(subset, ["reports"], policy="threshold", hierarchy=())
    assert alone.display["reports"].tolist()[0] == "25"  # shown on its own: W2 = 28 - 0 - 25
    with_pattern = make_safe(subset, ["reports"], policy="threshold", hierarchy=(), pattern=full)
    assert with_pattern.display["reports"].tolist()[0] == "*"
    assert not audit(with_pattern)["recoverable"].any()
