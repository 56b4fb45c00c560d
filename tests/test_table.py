"""gangmap.table: the AreaTable model. Roles travel with the table and are never inferred from pandas attrs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gangmap.errors import SchemaError
from gangmap.geography import GEOGRAPHIES, custom, get_geography
from gangmap.table import Schema, as_table, from_frame


def _frame():
    return pd.DataFrame({"ward_code": ["E05000001", "E05000002", "E05000003"], "ward_name": ["A", "B", "C"],
                         "lad_code": ["E07000001"] * 3, "lad_name": ["D"] * 3,
                         "reports": [3, 12, 0], "referrals": [1, 0, 9], "population": [1500, 2000, 900]})


def _table():
    return from_frame(_frame(), counts=["reports", "referrals"], context=["population"])


def test_roles_are_declared_and_reported():
    t = _table()
    assert t.schema.role("ward_code") == "identifier"
    assert t.schema.role("reports") == "count"
    assert t.schema.role("population") == "context"
    assert t.schema.role("nothing") is None
    assert t.describe_roles()["count"] == ["reports", "referrals"]
    assert "counts: reports, referrals" in repr(t)


def test_with_columns_expands_sources_to_counts_through_chains():
    t = _table().with_columns({"reports_rate": [2.0, 6.0, 0.0]}, sources=["reports", "population"])
    t = t.with_columns({"reports_rate_lisa": ["HH", "ns", "ns"]}, sources=["reports_rate"])
    t = t.with_columns({"idx": [1.0, 2.0, 3.0]}, sources=["reports_rate", "referrals"])
    assert t.schema.derived["reports_rate"] == ("reports",)
    assert t.schema.derived["reports_rate_lisa"] == ("reports",)
    assert t.schema.derived["idx"] == ("reports", "referrals")


def test_a_column_computed_only_from_public_columns_is_context():
    t = _table().with_columns({"density": [1.0, 2.0, 3.0]}, sources=["population"])
    assert t.schema.role("density") == "context"


def test_computing_from_an_undeclared_column_is_refused():
    frame = _frame().assign(mystery=[1, 2, 3])
    t = from_frame(frame, counts=["reports"])
    with pytest.raises(SchemaError, match="'mystery', whose role is not declared.*declare"):
        t.with_columns({"m2": [1, 2, 3]}, sources=["mystery"])


def test_pandas_merge_and_concat_lose_the_roles_so_nothing_is_trusted():
    t = _table().with_columns({"reports_rate": [2.0, 6.0, 0.0]}, sources=["reports"])
    merged = t.frame.merge(pd.DataFrame({"ward_code": ["E05000001"], "x": [5]}), on="ward_code", how="left")
    again = from_frame(merged)
    assert again.schema.role("reports_rate") is None and again.schema.counts == ()
    stacked = pd.concat([t.frame.iloc[:1], t.frame.iloc[1:]])
    assert from_frame(stacked).schema.derived == {}


def test_table_merge_keeps_every_area_order_and_role():
    t = _table().with_columns({"reports_rate": [2.0, 6.0, 0.0]}, sources=["reports"])
    extra = pd.DataFrame({"ward_code": ["E05000003", "E05000001"], "schools": [4, 1], "flag": ["y", "n"]})
    m = t.merge(extra, context=["schools"])
    assert m.codes.tolist() == t.codes.tolist()
    assert m["schools"].tolist()[0] == 1 and np.isnan(m["schools"].tolist()[1])
    assert m.schema.derived["reports_rate"] == ("reports",)
    assert m.schema.role("schools") == "context" and m.schema.role("flag") is None


def test_table_merge_refuses_duplicate_keys_and_overwrites():
    t = _table()
    with pytest.raises(SchemaError, match="one row per ward"):
        t.merge(pd.DataFrame({"ward_code": ["E05000001", "E05000001"], "x": [1, 2]}))
    with pytest.raises(SchemaError, match="overwrite"):
        t.merge(pd.DataFrame({"ward_code": ["E05000001"], "reports": [99]}))


def test_declare_derived_from_derived_and_unknown_sources():
    frame = _frame().assign(rate=[1.0, 2.0, 3.0], smooth=[1.0, 1.5, 2.0])
    t = from_frame(frame, counts=["reports"], derived={"smooth": ["rate"], "rate": ["reports"]})
    assert t.schema.derived["smooth"] == ("reports",)
    with pytest.raises(SchemaError, match="'population', whose role is not declared"):
        from_frame(frame, counts=["reports"], derived={"rate": ["population"]})


def test_one_role_per_column_and_identifiers_are_not_values():
    with pytest.raises(SchemaError, match="both count and context"):
        from_frame(_frame(), counts=["reports"], context=["reports"])
    with pytest.raises(SchemaError, match="identifier"):
        from_frame(_frame(), counts=["ward_name"])
    with pytest.raises(SchemaError, match="identifier"):
        _table().with_columns({"ward_code": ["x", "y", "z"]})


def test_one_row_per_area():
    frame = pd.concat([_frame(), _frame().iloc[:1]])
    with pytest.raises(SchemaError, match="more than once"):
        from_frame(frame)
    blank = _frame()
    blank.loc[1, "ward_code"] = None
    with pytest.raises(SchemaError, match="no ward code"):
        from_frame(blank)


def test_geography_detected_or_given():
    lsoa = pd.DataFrame({"lsoa_code": ["E01000001"], "n": [3]})
    assert from_frame(lsoa).geography.label == "LSOA"
    beats = pd.DataFrame({"beat_code": ["B1", "B2"], "n": [3, 4]})
    with pytest.raises(SchemaError, match="geography="):
        from_frame(beats)
    t = from_frame(beats, geography=custom("beat"), counts=["n"])
    assert t.geography.count_of(2) == "2 beats"


def test_attrs_are_ignored():
    frame = _frame()
    frame.attrs["gangmap_derived"] = {"population": ["reports"]}
    frame.attrs["gangmap_counts"] = ["reports"]
    t = from_frame(frame)
    assert t.schema.counts == () and t.schema.derived == {}


def test_rows_by_mask_or_codes_and_frame_access():
    t = _table()
    assert t.rows([True, False, True]).codes.tolist() == ["E05000001", "E05000003"]
    assert t.rows(["E05000002"]).codes.tolist() == ["E05000002"]
    assert "reports" in t and len(t) == 3 and t["reports"].sum() == 15
    assert t.to_frame().attrs == {}


def test_geometry_and_crs():
    g = gpd.GeoDataFrame(_frame(), geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)], crs=27700)
    t = as_table(g)
    assert t.has_geometry and t.crs.to_epsg() == 27700 and len(t.geometry) == 3
    with pytest.raises(SchemaError, match="no geometry"):
        _ = _table().geometry


def test_schema_is_immutable():
    s = Schema(counts=["a"], derived={"b": ["a"]})
    assert s.counts == ("a",) and s.derived["b"] == ("a",)
    with pytest.raises(TypeError):
        s.derived["c"] = ("a",)  # type: ignore[index]


def test_every_known_geography_has_distinct_columns():
    codes = [g.code for g in GEOGRAPHIES.values()]
    assert len(set(codes)) == len(codes)
    assert get_geography("LSOAs").level == "lsoa"
    assert get_geography("ward", gss=False).bad_codes(["N1"]) == []


def test_labels_survive_declaring_roles():
    t = from_frame(_frame(), counts=["reports"], context=["population"],
                   labels={"population": "children aged 10–17"})
    assert t.schema.label("population") == "children aged 10–17"
