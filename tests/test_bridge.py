"""gangmap.bridge: what unmatched codes look like, LSOA -> ward bridges, areal interpolation."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gangmap
from gangmap import io as intake
from gangmap.errors import ConfigError, InputError
from gangmap.joining import place
from gangmap.joining.bridge import BridgeWarning, apply_bridge, detect_vintage, interpolate_counts, lsoa_to_ward

#: South-west corner of the conftest square wards (EPSG:27700); ward i is the 1 km square i.
X0, Y0 = 480_000, 260_000
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def wards(square_wards):
    """Six 1 km square wards (conftest), canonical columns."""
    return gangmap.read_wards(square_wards)


@pytest.fixture
def codes(wards):
    """Their ward codes, in order (ward 1 is the south-west square)."""
    return wards["ward_code"].tolist()


# --------------------------------------------------------------------- detect_vintage

def test_detect_lsoa_2011_codes():
    codes = [f"E0102{6949 + i}" for i in range(41)] + [f"E05{i:06d}" for i in range(11)] + ["E01026949"]
    g = detect_vintage(codes)
    assert (g.kind, g.count, g.total) == ("lsoa11", 41, 52)
    assert g.message.startswith("41 of 52 codes look like LSOA 2011 codes (E01...); ")
    assert "LSOA-to-ward lookup" in g.message and "lsoa_to_ward" in g.message
    assert "11 ward codes of another vintage" in g.message
    assert g.breakdown == {"lsoa11": 41, "ward": 11} and "\n" not in g.message
    assert str(g) == g.message


@pytest.mark.parametrize("codes,kind,words", [
    (["E01035001", "E01000002"], "lsoa21", "LSOA 2021"),
    (["W01000010"], "lsoa11", "LSOA 2011"),
    (["E02001234", "E02006000"], "msoa11", "MSOA 2011"),
    (["E02006990"], "msoa21", "MSOA 2021"),
    (["E00123456"], "oa", "output area"),
    (["E06000061", "E06000062", "E07000154"], "district", "district or unitary"),
    (["E10000021"], "county", "county"),
    (["E23000022"], "police", "police force area"),
    (["E14000860"], "constituency", "constituency"),
    (["Abbey", "Castle"], "not_gss", "not GSS codes"),
    ([" e01026949 ", "E01026949"], "lsoa11", "1 of 1 codes"),
])
def test_detect_kinds(codes, kind, words):
    g = detect_vintage(codes)
    assert g.kind == kind and words in g.message and "\n" not in g.message


def test_detect_ward_codes_of_another_vintage(wards, codes):
    assert detect_vintage(codes, wards) is None  # all in the boundaries: nothing to explain
    assert detect_vintage([]) is None and detect_vintage(None) is None and detect_vintage(["", None]) is None
    old = detect_vintage(["E05005926", "E05005927", codes[0]], wards, code_column="WD21CD")
    assert (old.kind, old.count, old.total) == ("ward", 2, 2)
    assert "older vintage than these WD21CD boundaries (e.g. 2013-era)" in old.message
    assert "gangmap fetch boundaries --year" in old.message and "interpolate_counts" in old.message
    new = detect_vintage(["E05200001"], wards, code_column="WD21CD")
    assert "newer vintage than these WD21CD boundaries" in new.message
    assert "e.g. 2013-era" in detect_vintage(["E05005926"]).message  # no boundaries to compare with


def test_detect_vintage_on_a_join_report(wards, codes):
    """The hook the lead wires into join: unmatched values -> one note."""
    reports = pd.DataFrame({"ward_code": ["E01026949", "E01026950", "E01026950", codes[1]],
                            "count": [1, 2, 3, 4]})
    _, report = gangmap.join(wards, reports=reports, allow_unmatched=True)
    unmatched = report.sections["reports"].unmatched_rows["value"]
    g = detect_vintage(unmatched, wards)
    assert g.message.startswith("2 of 2 codes look like LSOA 2011 codes")


# --------------------------------------------------------------------- lsoa_to_ward (synthetic)

def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture
def lsoas():
    """A nests in ward 1; B covers ward 2 and 300 m of ward 3; C lies outside every ward."""
    return gpd.GeoDataFrame({"LSOA11CD": ["E01000001", "E01000002", "E01000003"],
                             "LSOA11NM": ["A", "B", "C"]},
                            geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2300, 1000),
                                      box(9000, 9000, 9500, 9500)], crs=27700).to_crs(4326)


def test_centroid_bridge_and_straddle_report(lsoas, wards, codes):
    lookup, rep = lsoa_to_ward(lsoas, wards)
    assert lookup.to_dict("list") == {"lsoa_code": ["E01000001", "E01000002"],
                                      "ward_code": [codes[0], codes[1]], "weight": [1.0, 1.0]}
    assert (rep.method, rep.lsoas, rep.assigned, rep.unassigned) == ("centroid", 3, 2, ["E01000003"])
    assert rep.straddling == 1 and rep.over_10pct == 1
    assert rep.max_outside == pytest.approx(300 / 1300, abs=1e-4)
    assert rep.median_outside == pytest.approx(300 / 1300 / 2, abs=1e-4)
    text = rep.summary()
    assert "1 unassigned (E01000003)" in text and "> 10%: 1" in text and "max 23.1%" in text
    assert any("outside every ward" in n for n in rep.notes)


def test_area_bridge_splits_by_area(lsoas, wards, codes):
    lookup, rep = lsoa_to_ward(lsoas, wards, method="area")
    b = lookup[lookup["lsoa_code"] == "E01000002"].set_index("ward_code")["weight"]
    assert b[codes[1]] == pytest.approx(1000 / 1300, abs=1e-4)
    assert b[codes[2]] == pytest.approx(300 / 1300, abs=1e-4)
    assert rep.split == 1 and lookup.groupby("lsoa_code")["weight"].sum().tolist() == pytest.approx([1, 1])


def test_population_bridge(lsoas, wards, codes):
    pts = gpd.GeoDataFrame({"population": [10, 10, 30, 99]},
                           geometry=shapely.points([[X0 + 1200, Y0 + 500], [X0 + 1800, Y0 + 500],
                                                    [X0 + 2200, Y0 + 500], [X0 + 50_000, Y0]]), crs=27700)
    lookup, rep = lsoa_to_ward(lsoas, wards, method="population", population=pts)
    b = lookup[lookup["lsoa_code"] == "E01000002"].set_index("ward_code")["weight"]
    assert b.to_dict() == pytest.approx({codes[1]: 0.4, codes[2]: 0.6})
    # A has no population inside: placed by its representative point, and said so.
    assert lookup[lookup["lsoa_code"] == "E01000001"]["ward_code"].tolist() == [codes[0]]
    assert any("no population" in n for n in rep.notes) and any("99" in n for n in rep.notes)
    # Points that carry their LSOA code are used by code; polygons (output areas) by their point.
    oas = gpd.GeoDataFrame({"LSOA11CD": ["E01000002", "E01000002"], "pop": [1, 3]},
                           geometry=[box(1000, 0, 1500, 1000), box(2000, 0, 2300, 1000)], crs=27700)
    lookup2, _ = lsoa_to_ward(lsoas, wards, method="population", population=oas)
    b2 = lookup2[lookup2["lsoa_code"] == "E01000002"].set_index("ward_code")["weight"]
    assert b2.to_dict() == pytest.approx({codes[1]: 0.25, codes[2]: 0.75})
    with pytest.raises(ConfigError, match="single population figure per LSOA"):
        lsoa_to_ward(lsoas, wards, method="population",
                     population=pd.DataFrame({"LSOA11CD": ["E01000001"], "population": [1500]}))
    with pytest.raises(ConfigError, match="needs population="):
        lsoa_to_ward(lsoas, wards, method="population")


def test_lookup_table_bridge(lsoas, wards, codes):
    table = pd.DataFrame({"LSOA11CD": ["E01000001", "E01000002", "E01000003"],
                          "WD21CD": [codes[0], codes[2], "E05999999"]})
    lookup, rep = lsoa_to_ward(lsoas, wards, lookup=table)
    assert lookup["ward_code"].tolist() == [codes[0], codes[2]]
    assert rep.method == "lookup" and rep.unknown_wards == ["E05999999"] and rep.unassigned == ["E01000003"]
    # B is assigned to ward 3 although most of it is in ward 2: the report shows the poor fit.
    fit = rep.fit.set_index("lsoa_code")["share_outside"]
    assert fit["E01000002"] == pytest.approx(1000 / 1300, abs=1e-4) and fit["E01000001"] == pytest.approx(0, abs=1e-4)
    lookup2, rep2 = lsoa_to_ward(None, wards, lookup=table)
    assert len(lookup2) == 2 and rep2.fit.empty
    weighted = pd.DataFrame({"lsoa11cd": ["E01000002", "E01000002"],
                             "ward_code": codes[1:3], "weight": [3, 1]})
    lookup3, rep3 = lsoa_to_ward(None, wards, lookup=weighted)
    assert lookup3["weight"].tolist() == [0.75, 0.25] and rep3.split == 1
    with pytest.raises(InputError, match="no weight column"):
        lsoa_to_ward(None, wards, lookup=weighted.drop(columns="weight"))


def test_lsoa_to_ward_errors(lsoas, wards):
    # A column of LSOA codes is found by its values whatever its name; no such column is an error.
    assert lsoa_to_ward(lsoas.rename(columns={"LSOA11CD": "id"}), wards)[1].assigned == 2
    no_codes = lsoas.rename(columns={"LSOA11CD": "id"}).assign(id=lsoas["LSOA11NM"])
    with pytest.raises(InputError, match="no LSOA code column"):
        lsoa_to_ward(no_codes, wards)
    assert lsoa_to_ward(lsoas.rename(columns={"LSOA11CD": "id"}), wards, lsoa_code="id")[1].assigned == 2
    with pytest.raises(InputError, match="no CRS"):
        lsoa_to_ward(lsoas.set_crs(None, allow_override=True), wards)
    with pytest.raises(ConfigError, match="method must be"):
        lsoa_to_ward(lsoas, wards, method="nearest")


# --------------------------------------------------------------------- apply_bridge

LOOKUP = pd.DataFrame({"lsoa_code": ["E01000001", "E01000002", "E01000002"],
                       "ward_code": ["E05000001", "E05000001", "E05000002"], "weight": [1.0, 2 / 3, 1 / 3]})


def test_apply_bridge_conserves_totals():
    out = apply_bridge(pd.Series({"E01000001": 3, "E01000002": 4}), LOOKUP).frame
    assert out["count"].sum() == pytest.approx(7)
    assert out.set_index("ward_code")["count"].to_dict() == pytest.approx({"E05000001": 3 + 8 / 3,
                                                                           "E05000002": 4 / 3})
    whole = apply_bridge(pd.DataFrame({"LSOA code": ["e01000001", "E01000002"], "n": [3, 4]}), LOOKUP,
                         integer=True).frame
    assert whole["n"].tolist() == [6, 1] and whole["n"].dtype == "int64"
    # Rows without a count column count one each (a police.uk file as published).
    rows = pd.DataFrame({"LSOA code": ["E01000001"] * 5 + ["E01000002"] * 3, "Crime type": "Drugs"})
    assert apply_bridge(rows, LOOKUP, integer=True).frame["count"].sum() == 8


def test_apply_bridge_reports_unmatched_lsoas():
    counts = pd.DataFrame({"lsoa_code": ["E01000001", "E01009999"], "reports": [5, 2],
                           "referrals": [1, 1]})
    with pytest.warns(BridgeWarning, match="1 LSOA code.*not in the lookup.*reports 2 of 7"):
        out = apply_bridge(counts, LOOKUP, columns=["reports", "referrals"])
    t = out.totals["reports"]
    assert t == {"in": 7.0, "out": 5.0, "unmatched": 2.0}
    assert out.unmatched["lsoa_code"].tolist() == ["E01009999"]
    with pytest.raises(InputError, match="negative"):
        apply_bridge(pd.DataFrame({"lsoa_code": ["E01000001"], "count": [-1]}), LOOKUP)
    with pytest.raises(ConfigError, match="weight"):
        apply_bridge(pd.Series({"E01000001": 1}), LOOKUP.drop(columns="weight"))


# --------------------------------------------------------------------- interpolate_counts

def grid(codes, boxes, **cols):
    return gpd.GeoDataFrame({"ward_code": codes, **cols}, geometry=[box(*b) for b in boxes], crs=27700)


def test_interpolate_exact_case():
    src = grid(["S1", "S2"], [(0, 0, 2000, 1000), (0, 1000, 2000, 2000)], n=[10, 6], m=[1.0, 0.0])
    tgt = grid(["T1", "T2"], [(0, 0, 500, 2000), (500, 0, 2000, 2000)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = interpolate_counts(src, tgt, ["n", "m"])
        out = res.frame
        # Another CRS is converted to EPSG:27700; the round trip costs only rounding.
        again = interpolate_counts(src.to_crs(4326), tgt.to_crs(4326), "n").frame
    assert again["n"].tolist() == pytest.approx([4.0, 12.0], rel=1e-5)
    assert out["ward_code"].tolist() == ["T1", "T2"]
    assert out["n"].tolist() == pytest.approx([4.0, 12.0], abs=1e-6)
    assert out["m"].tolist() == pytest.approx([0.25, 0.75], abs=1e-6)
    assert res.uncovered_share == pytest.approx(0, abs=1e-9) and res.uncovered.empty
    assert res.totals["n"]["source"] == 16 and res.totals["n"]["target"] == pytest.approx(16)


def test_interpolate_partial_cover_reports_and_renormalises():
    src = grid(["S1", "S2"], [(0, 0, 2000, 1000), (0, 1000, 2000, 2000)], n=[10, 6])
    tgt = grid(["T1"], [(0, 0, 1500, 2000)])
    with pytest.warns(BridgeWarning, match="25.00% of the source area.*4.0 of 16 n"):
        res = interpolate_counts(src, tgt, "n")
    assert res.frame["n"].tolist() == pytest.approx([12.0])
    assert res.uncovered_share == pytest.approx(0.25)
    assert res.uncovered["share_uncovered"].tolist() == pytest.approx([0.25, 0.25])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = interpolate_counts(src, tgt, "n", renormalise=True).frame
    assert full["n"].tolist() == pytest.approx([16.0])


def test_interpolate_errors():
    src = grid(["S1", "S1"], [(0, 0, 1, 1), (1, 1, 2, 2)], n=[1, 2])
    tgt = grid(["T1"], [(0, 0, 2, 2)])
    with pytest.raises(InputError, match="duplicate source codes"):
        interpolate_counts(src, tgt, "n")
    with pytest.raises(InputError, match=r"count column\(s\) \['x'\]"):
        interpolate_counts(src.iloc[:1], tgt, "x")
    with pytest.raises(InputError, match="no 'WD24CD' column"):
        interpolate_counts(src.iloc[:1], tgt, "n", target_code="WD24CD")


# --------------------------------------------------------------------- real data

@pytest.fixture(scope="module")
def real():
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data not present: real Northamptonshire data is only beside the repo")
    b = SHARED_DATA / "boundaries"
    wards = gangmap.read_wards(b / "northamptonshire_wards_2013.geojson")
    lsoas = gpd.read_file(b / "northamptonshire_lsoa_2011.geojson")
    police = intake.read_police_csv(SHARED_DATA / "police" / "2018-03-northamptonshire-street.csv")
    placed, rep = place(police, wards)
    return {"wards": wards, "lsoas": lsoas, "police": police, "placed": placed, "report": rep}


@pytest.mark.realdata
def test_real_lsoa_path_agrees_with_point_path(real):
    """March 2018 police.uk rows: through their LSOA code, and through their coordinates."""
    wards, placed = real["wards"], real["placed"]
    lookup, rep = lsoa_to_ward(real["lsoas"], wards)
    assert (rep.lsoas, rep.assigned) == (422, 422)
    # 2011 LSOAs do not nest in these wards (several districts were re-warded after 2011).
    assert 150 <= rep.straddling <= 230 and 80 <= rep.over_10pct <= 130
    assert rep.median_outside < 0.02 and rep.max_outside > 0.5

    by_point = placed.loc[placed["status"] == "matched"].groupby("ward_code").size()
    rows = placed.rename(columns={"lsoa_code": "LSOA code"})[["LSOA code"]]
    with pytest.warns(BridgeWarning, match="29 LSOA code"):
        by_lsoa = apply_bridge(rows, lookup, integer=True).frame.set_index("ward_code")["count"]
    # The same 6,335 rows are placed both ways (35 are outside the county either way).
    assert by_lsoa.sum() == by_point.sum() == real["report"].matched == 6335

    lsoa_ward = placed["lsoa_code"].map(dict(zip(lookup["lsoa_code"], lookup["ward_code"])))
    both = placed["ward_code"].notna() & lsoa_ward.notna()
    same = float((placed.loc[both, "ward_code"] == lsoa_ward[both]).mean())
    assert 0.85 <= same <= 0.92  # measured 0.884

    cmp = pd.DataFrame({"point": by_point, "lsoa": by_lsoa}).reindex(wards["ward_code"]).fillna(0)
    assert cmp.corr().iloc[0, 1] > 0.97  # measured 0.984
    moved = (cmp["lsoa"] - cmp["point"]).abs().sum() / 2
    assert moved / cmp["point"].sum() < 0.10  # measured 6.6% of rows change ward in the totals

    area_lookup, area_rep = lsoa_to_ward(real["lsoas"], wards, method="area")
    assert area_rep.split > 100
    with pytest.warns(BridgeWarning):
        by_area = apply_bridge(rows, area_lookup).frame.set_index("ward_code")["count"]
    assert by_area.sum() == pytest.approx(6335)
    cmp["area"] = by_area.reindex(cmp.index).fillna(0)
    assert cmp.corr(method="spearman").loc["point", "area"] > 0.97


@pytest.mark.realdata
def test_real_unmatched_lsoa_codes_are_recognised(real):
    codes = real["police"].data["lsoa_code"].drop_duplicates()
    _, report = gangmap.join(real["wards"], reports=pd.DataFrame({"ward_code": codes}), allow_unmatched=True)
    g = detect_vintage(report.sections["reports"].unmatched_rows["value"], real["wards"])
    assert g.kind == "lsoa11" and g.count == g.total == codes.nunique()


@pytest.mark.realdata
def test_real_interpolation_conserves_totals(real):
    wards = real["wards"].frame  # read_wards gives an AreaTable; interpolation takes its frame
    counts = real["placed"].loc[real["placed"]["status"] == "matched"].groupby("ward_code").size()
    src = wards.assign(reports=wards["ward_code"].map(counts).fillna(0).astype(int))
    total = int(src["reports"].sum())

    # Old wards -> the seven districts they make up: exact, every ward fully covered.
    districts = gangmap.io.boundaries.districts(wards)
    res = interpolate_counts(src, districts, "reports", target_code="lad_code")
    out = res.frame
    assert out["reports"].sum() == pytest.approx(total, rel=1e-9)
    direct = src.groupby("lad_code")["reports"].sum()
    assert out.set_index("lad_code")["reports"].to_dict() == pytest.approx(direct.to_dict(), rel=1e-6)
    assert res.uncovered_share < 1e-9

    # Old wards -> a synthetic re-division: 4 km squares covering the county.
    x0, y0, x1, y1 = wards.total_bounds
    xs, ys = np.arange(x0 - 1, x1 + 4000, 4000), np.arange(y0 - 1, y1 + 4000, 4000)
    cells = [shapely.box(x, y, x + 4000, y + 4000) for x in xs for y in ys]
    new = gpd.GeoDataFrame({"ward_code": [f"N{i:05d}" for i in range(len(cells))]}, geometry=cells,
                           crs=27700)
    out2 = interpolate_counts(src, new, "reports").frame
    assert out2["reports"].sum() == pytest.approx(total, rel=1e-9)
    assert (out2["reports"] > 0).sum() > 100
