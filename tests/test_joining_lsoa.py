"""Issue 17 item 2: police.uk rows placed by their LSOA code, compared with their points (real data).

March 2018 Northamptonshire police.uk file, 2011 LSOA boundaries, 2013 wards (../shared/data).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import gangmap
from gangmap import io as intake
from gangmap.errors import InputError
from gangmap.geography import custom
from gangmap.joining import bridge_lsoas, join, place
from gangmap.table import from_frame

pytestmark = pytest.mark.realdata

WARDS = "boundaries/northamptonshire_wards_2013.geojson"
LSOAS = "boundaries/northamptonshire_lsoa_2011.geojson"
POLICE = "police/2018-03-northamptonshire-street.csv"


@pytest.fixture(scope="module")
def real():
    from pathlib import Path
    data = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not data.is_dir():
        pytest.skip("../shared/data not present: real Northamptonshire data is only beside the repo")
    wards = gangmap.read_wards(data / WARDS)
    police = intake.read_police_csv(data / POLICE)
    return {"data": data, "wards": wards, "police": police, "lsoa": data / LSOAS}


def test_lsoa_path_against_point_path_on_wards(real):
    t_pt, r_pt = join(real["wards"], reports=real["police"])
    t_ls, r_ls = join(real["wards"], reports=real["police"], lsoa=real["lsoa"], by="lsoa")
    sec = r_ls.sections["reports"]
    assert sec.key == "lsoa_code" and sec.balanced
    # The same 6,335 rows are placed both ways; the 35 cross-border rows are outside either way.
    assert t_pt["reports"].sum() == t_ls["reports"].sum() == 6335
    assert r_pt.outside == sec.outside == 35 and sec.unmatched == 0
    a = sec.agreement
    assert a.per_area["point"].tolist() == t_pt["reports"].tolist()
    assert a.per_area["lsoa"].tolist() == t_ls["reports"].tolist()
    # Independent recomputation of the row-level agreement through place().
    rows_pt, _ = place(real["police"], real["wards"])
    rows_ls, _ = place(real["police"], real["wards"], lsoa=real["lsoa"], by="lsoa")
    both = rows_pt["ward_code"].notna() & rows_ls["ward_code"].notna()
    same = float((rows_pt.loc[both, "ward_code"] == rows_ls.loc[both, "ward_code"]).mean())
    assert a.rows == int(both.sum()) == 6335
    assert a.same == pytest.approx(same) and 0.86 <= a.same <= 0.91  # measured 0.884: 2011 LSOAs straddle 2013 wards
    assert a.correlation == pytest.approx(np.corrcoef(t_pt["reports"], t_ls["reports"])[0, 1])
    assert a.correlation > 0.97  # measured 0.984
    moved = np.abs(t_pt["reports"].to_numpy() - t_ls["reports"].to_numpy()).sum() / 2 / 6335
    assert a.moved == pytest.approx(moved) and a.moved < 0.10  # measured 6.6%
    assert "88." in sec.summary() and "in the same ward" in sec.summary()


def test_lsoa_path_onto_districts_where_lsoas_nest(real):
    """LSOAs nest in districts: there the LSOA path and the point path all but coincide."""
    w = real["wards"]
    d = w.frame.dissolve("lad_code", as_index=False)[["lad_code", "lad_name", "geometry"]]
    d = d.rename(columns={"lad_code": "district_code", "lad_name": "district_name"})
    areas = from_frame(d, geography=custom("district", gss=True, parent_code="county_code",
                                           parent_name="county_name"))
    table, rep = join(areas, reports=real["police"], lsoa=real["lsoa"], by="lsoa")
    assert table["reports"].sum() == 6335 and rep.geography.plural == "districts"
    assert rep.agreement.same > 0.995 and rep.agreement.correlation > 0.999
    assert "outside every district" in rep.summary() and rep.summary().startswith("7 districts")


def test_police_rows_onto_lsoa_areas_by_code_and_by_point(real):
    lsoas = gpd.read_file(real["lsoa"]).to_crs(27700).rename(columns={
        "LSOA11CD": "lsoa_code", "LSOA11NM": "lsoa_name", "LAD11CD": "lad_code", "LAD11NM": "lad_name"})
    areas = from_frame(lsoas, geography="lsoa")
    by_code, rep = join(areas, reports=real["police"], by="lsoa")  # direct: the areas are LSOAs
    by_point, rep_pt = join(areas, reports=real["police"])
    assert by_code["reports"].sum() == by_point["reports"].sum() == 6335
    direct = real["police"].data.groupby("lsoa_code").size()
    assert by_code["reports"].tolist() == direct.reindex(by_code["lsoa_code"], fill_value=0).tolist()
    assert rep.agreement.same > 0.95  # measured 0.970 (police.uk points are snapped to map points)
    assert rep.summary().startswith("422 LSOAs") and "outside every LSOA" in rep_pt.summary()
    assert by_code.geography.label == "LSOA" and by_code.schema.counts == ("reports",)


def test_a_lookup_table_gives_the_same_as_the_boundaries(real):
    lookup, _ = bridge_lsoas(real["lsoa"], real["wards"])
    t1, _ = join(real["wards"], reports=real["police"], lsoa=real["lsoa"], by="lsoa")
    t2, r2 = join(real["wards"], reports=real["police"], lsoa=lookup, by="lsoa")
    ons = pd.DataFrame({"LSOA11CD": lookup["lsoa_code"], "WD13CD": lookup["ward_code"]})
    t3, r3 = join(real["wards"], reports=real["police"], lsoa=ons, by="lsoa")
    assert t1["reports"].tolist() == t2["reports"].tolist() == t3["reports"].tolist()
    assert any("lookup table" in n for n in r3.sections["reports"].notes)


def test_lsoa_path_needs_a_bridge(real):
    with pytest.raises(InputError, match="lsoa="):
        join(real["wards"], reports=real["police"], by="lsoa")
