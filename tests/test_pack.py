"""Map-pack helpers and the notebook-facing conveniences."""

from __future__ import annotations

import pandas as pd
import pytest

import gangmap
from gangmap import pack, planning
from gangmap.errors import ConfigError, InputError


@pytest.fixture(scope="module")
def demo():
    p = gangmap.demo.paths()
    table, _ = gangmap.join(p["wards"], reports=p["reports"], referrals=p["referrals"], schools=p["schools"],
                            population=p["population"])
    return p, table


def test_ensure_all_skips_what_needs_a_missing_population(demo):
    p, _ = demo
    table, _ = gangmap.join(p["wards"], reports=p["reports"])
    with pytest.raises(ConfigError, match="population"):
        pack.ensure_all(table, ["reports_rate"])
    out = pack.ensure_all(table, ["reports_rate", "reports_lisa", "need_index"], missing="skip")
    assert "reports_lisa" in out and "reports_rate" not in out
    assert out.attrs["gangmap_skipped"] == ["reports_rate", "need_index"]


def test_safe_table_available_and_funnels(demo):
    _, table = demo
    table = pack.ensure_all(table, ["reports_rate"])
    safe = pack.safe_table(table)
    assert safe.counts == ("reports", "referrals") and "population" in safe.frame
    assert safe.provenance.period == "2017-03 to 2019-02"
    assert pack.available(safe, ["need_index", "reports_rate", "reports"]) == ["reports_rate", "reports"]
    assert len(pack.funnels(safe).figures) == 2
    no_pop = pack.safe_table(table.drop(columns=["population"]))
    f = pack.funnels(no_pop)
    assert f.figures == [] and "population" in f.note


def test_read_hubs_and_points(demo):
    p, _ = demo
    hubs = planning.read_hubs(p["pilot_hub"])
    assert list(hubs) == ["Castleford East pilot"] and len(hubs["Castleford East pilot"]) == 47
    with pytest.raises(InputError, match="URN"):
        planning.read_hubs(pd.DataFrame({"school": ["x"]}))
    pts = gangmap.intake.read_schools(p["schools"]).to_points()
    assert len(pts) == 146 and pts.crs.to_epsg() == 27700 and "x" not in pts


def test_load_config_from_a_dict(demo, tmp_path):
    p, _ = demo
    cfg = pack.load_config({"inputs": {"wards": str(p["wards"]), "reports": str(p["reports"])},
                            "maps": [{"file": "m", "layers": ["reports"]}]}, base=tmp_path)
    files = pack.build_pack(cfg, tmp_path / "out")
    assert (tmp_path / "out" / "m.html").exists() and files[0].name == "index.html"
    with pytest.raises(ConfigError, match="no such file"):
        pack.load_config({"inputs": {"wards": "nope.geojson", "reports": "r.csv"}, "maps": []}, base=tmp_path)
    with pytest.raises(ConfigError, match="unknown overlays"):
        pack.load_config({"inputs": {"wards": str(p["wards"]), "reports": str(p["reports"])},
                          "maps": [{"file": "m", "layers": ["reports"], "overlays": ["basemap"]}]})


def test_explorer_redraws_on_every_control(demo):
    pytest.importorskip("ipywidgets")
    _, table = demo
    table = pack.ensure_all(table, ["reports_rate"])
    safe = pack.safe_table(table)
    w = gangmap.maps.explorer({"All": safe}, ["reports_rate", "reports", "not_a_column"], names=pack.NAMES)
    measure, scheme = w.children[0].children[1], w.children[1].children[0]
    out = w.children[2]
    assert [v for _, v in measure.options] == ["reports_rate", "reports"]
    first = out.value
    assert "<iframe" in first and "srcdoc" in first
    measure.value = "reports"
    assert out.value != first
    before = out.value
    scheme.value = "equal_interval"
    assert out.value != before
    with pytest.raises(gangmap.errors.DisclosureError):
        gangmap.maps.explorer({"All": table}, ["reports"])


def test_demo_maps_carry_the_fictional_attribution(demo):
    _, table = demo
    doc = gangmap.maps.choropleth(pack.safe_table(table), "reports")
    assert gangmap.demo.ATTRIBUTION in doc.html and "Crown copyright" not in doc.html
