"""Typed map layers, honest legends, words that follow the geography, and slide images with overlays.

No browser here: the oracles are recomputed in the test (class membership
from the printed labels, the suppressed range from the policy, overlay
colours counted in the PNG's pixels, outlines decoded back to polygons).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pytest
import shapely

import gangmap
from gangmap import maps
from gangmap.errors import DisclosureError, GangmapError
from gangmap.maps import topology
from gangmap.maps.classify import classify

SCHEMES = ["quantiles", "natural_breaks", "equal_interval"]


def grid(n=5, names=None, seed=0, lam=9.0):
    """n x n square 1 km wards in two districts, with Poisson counts (many small ones)."""
    cells = [shapely.box(480_000 + 1000 * i, 260_000 + 1000 * j, 481_000 + 1000 * i, 261_000 + 1000 * j)
             for j in range(n) for i in range(n)]
    k = len(cells)
    names = list(names or []) + [f"Ward {i}" for i in range(len(names or []), k)]
    g = gpd.GeoDataFrame({
        "ward_code": [f"E05{900001 + i}" for i in range(k)],
        "ward_name": names[:k],
        "lad_code": ["E07900001" if i % n < n // 2 else "E07900002" for i in range(k)],
        "lad_name": ["Northwold" if i % n < n // 2 else "Southmere" for i in range(k)],
        "geometry": cells}, crs=27700)
    g["reports"] = np.random.default_rng(seed).poisson(lam, k)
    return g


@pytest.fixture
def safe():
    return gangmap.make_safe(grid(), ["reports"])


def parse_range(label: str) -> tuple[float, float]:
    label = label.split(": ")[-1]  # box plot: "median–75th pct: 4.2–9.8"
    nums = [float(x.replace(",", "")) for x in re.findall(r"−?\d[\d,]*(?:\.\d+)?", label.replace("−", "-"))]
    return (nums[0], nums[-1])


# --------------------------------------------------------------------------- legends
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("scheme", SCHEMES)
def test_count_classes_never_overlap_the_suppressed_range(seed, scheme):
    """nhs: 0 shown, 1-7 hidden, others rounded to 5: no shown class reads "1-10" beside "1-7 (suppressed)"."""
    safe = gangmap.make_safe(grid(n=8, seed=seed, lam=[3, 6, 12][seed % 3]), ["reports"])
    lo_hidden, hi_hidden = safe.policy.primary_range
    for k in range(3, 8):
        layer = maps.area_layer(safe, "reports", scheme=scheme, k=k)
        cls = layer.classes
        ranges = [parse_range(lab) for lab in cls.labels]
        for lo, hi in ranges:  # every shown class lies wholly outside the hidden range
            assert hi < lo_hidden or lo > hi_hidden, (cls.labels, safe.policy.label)
        labels = [it.label for it in layer.legend.items]
        if (cls.assignment == maps.SUPPRESSED).any():
            assert safe.policy.label in labels
        assert "Counts rounded to the nearest 5." in layer.legend.note


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("scheme", SCHEMES + ["box_plot"])
def test_class_labels_hold_their_values_and_share_no_edge(seed, scheme):
    rng = np.random.default_rng(seed)
    v = np.round(rng.gamma(2.0, [0.7, 4.0, 40.0][seed % 3], 60), [3, 2, 1][seed % 3])
    v[rng.random(60) < 0.1] = np.nan
    for k in range(3, 8):
        cls = classify(v, scheme=scheme, k=k)
        ranges = [parse_range(lab) for lab in cls.labels]
        for i, (lo, hi) in enumerate(ranges):
            members = v[cls.assignment == i]
            assert len(members), "an empty class is shown"
            assert (members >= lo).all() and (members <= hi).all(), (cls.labels[i], members)
            if i:
                assert ranges[i - 1][1] < lo, f"edge shared: {cls.labels[i - 1]} / {cls.labels[i]}"
        assert (cls.assignment[np.isnan(v)] == maps.NO_DATA).all()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_asked_classes_are_given_or_the_legend_says_why(scheme):
    spread = np.arange(1, 41, dtype=float) ** 1.5
    few = np.array([0, 0, 5, 5, 5, 10, 10, 10, 10, 15] * 4, dtype=float)
    for k in range(3, 8):
        full = classify(spread, scheme=scheme, k=k)
        assert full.k == k and full.note is None, (k, full.labels, full.note)
        short = classify(few, scheme=scheme, k=k)
        if short.k < k:
            assert short.note and f"not the {k} asked for" in short.note, (k, short.labels)
        if k > 4:
            assert "4 different values" in short.note
    # In the map legend and in the explorer's note too.
    g = grid()
    g["reports"] = [0, 10, 10, 20, 20] * 5
    layer = maps.area_layer(gangmap.make_safe(g, ["reports"]), "reports", k=7)
    assert layer.classes.k < 7 and "not the 7 asked for" in layer.legend.note


def test_zero_is_its_own_class_for_counts():
    c = classify([0, 0, 0, 10, 15, 20, 40, 80, 160], k=4, zero_class=True)
    assert c.labels[0] == "0" and c.assignment[:3].tolist() == [0, 0, 0]
    assert all(parse_range(lab)[0] >= 10 for lab in c.labels[1:])
    assert c.k == 4


def test_layer_names_are_titles_never_raw_ids():
    from gangmap.table import from_frame

    g = grid()
    g["population"] = 1000
    t = gangmap.measures.ensure_all(from_frame(g, counts=["reports"], context=["population"]),
                                    ["reports_rate", "reports_lisa"])
    safe = gangmap.make_safe(t)
    doc = maps.choropleth(safe, ["reports_rate", "reports_lisa", "reports"], also=["reports"])
    names = [ly["name"] for ly in doc.data["layers"]]
    # Titles (their wording is the measures registry's to choose), never the raw ids.
    columns = ("reports_rate", "reports_lisa", "reports")
    titles = [maps.layer_title(c, safe) for c in columns]
    assert names[:3] == titles and len(set(titles)) == 3 and not set(titles) & set(columns)
    assert all("eports" in t for t in titles) and "1,000" in titles[0] and "Moran" in titles[1]
    for ly in doc.data["layers"]:
        assert "_" not in ly["name"] and "_" not in ly["legend"]["title"], ly["name"]
    assert doc.title == f"{titles[0]} by ward"
    # A name given by the caller wins.
    assert maps.area_layer(safe, "reports_rate", names={"reports_rate": "Rate"}).name == "Rate"


def test_derived_layers_say_why_a_value_is_hidden(safe):
    from gangmap.table import from_frame

    g = grid()
    g["population"] = 1000
    t = gangmap.measures.rate(from_frame(g, counts=["reports"], context=["population"]), "reports", "population")
    s = gangmap.make_safe(t)
    layer = maps.area_layer(s, "reports_rate")
    labels = [it.label for it in layer.legend.items if it.style == "hatch"]
    assert labels == ["suppressed (count 1–7)"]


# --------------------------------------------------------------------------- typed layers
def test_area_layer_checks_its_inputs(safe):
    layer = maps.area_layer(safe, "reports")
    with pytest.raises(GangmapError, match="areas but"):
        maps.AreaLayer(id="a", name="A", column="reports", codes=layer.codes[:-1], values=layer.values,
                       classes=layer.classes)
    bad = layer.classes.assignment.copy()
    bad[0] = 17
    from dataclasses import replace
    with pytest.raises(GangmapError, match="not one of its"):
        maps.AreaLayer(id="a", name="A", column="reports", codes=layer.codes, values=layer.values,
                       classes=replace(layer.classes, assignment=bad))
    with pytest.raises(GangmapError, match="layer id"):
        maps.AreaLayer(id="1 bad", name="A", column="reports", codes=layer.codes, values=layer.values,
                       classes=layer.classes)
    with pytest.raises(GangmapError, match="not a value column"):
        maps.area_layer(safe, "ward_name")
    with pytest.raises(DisclosureError):
        maps.area_layer(grid(), "reports")


def test_outline_and_point_layers_check_their_inputs():
    g = grid()
    with pytest.raises(GangmapError, match="no CRS"):
        maps.outline_layer(g.set_crs(None, allow_override=True), name="X")
    with pytest.raises(GangmapError, match="not a colour"):
        maps.outline_layer(g, name="X", color="red")
    with pytest.raises(GangmapError, match="need polygons"):
        maps.outline_layer(g.set_geometry(g.centroid), name="X")
    with pytest.raises(GangmapError, match="fill opacity"):
        maps.outline_layer(g, name="X", fill=2)
    with pytest.raises(GangmapError, match="labels for"):
        maps.OutlineLayer(id="o", name="O", geometry=g, labels=("a",))
    with pytest.raises(GangmapError, match="longitude/latitude"):
        maps.PointsLayer(id="p", name="P", lon=(480_000.0,), lat=(260_000.0,))
    with pytest.raises(GangmapError, match="colours for"):
        maps.PointsLayer(id="p", name="P", lon=(0.1,), lat=(52.0,), categories=("a", "b"), colors=("#000",))
    with pytest.raises(GangmapError, match="needs points"):
        maps.points_layer(g, name="P")


def test_make_map_refuses_dicts_duplicates_and_layers_of_another_table(safe):
    with pytest.raises(GangmapError, match="typed objects"):
        maps.make_map(safe, [{"id": "x", "kind": "area"}], title="T")
    with pytest.raises(GangmapError, match="share the id"):
        maps.make_map(safe, [maps.area_layer(safe, "reports"), maps.area_layer(safe, "reports")], title="T")
    other = gangmap.make_safe(grid(n=4), ["reports"])
    with pytest.raises(GangmapError, match="another table"):
        maps.make_map(safe, [maps.area_layer(other, "reports")], title="T")


def _rings_m(q, geoms) -> list:
    """Decode standalone (non-topo) polygons of a layer's JSON to EPSG:27700 shapely polygons."""
    tr = topology._fixed_to_work()
    out = []
    for g in geoms:
        polys = []
        for poly in g:
            rings = [topology.decode_arcs(q, [r])[0] for r in poly]
            rings = [np.column_stack(tr.transform(r[:, 0], r[:, 1])) for r in rings]
            polys.append(shapely.Polygon(rings[0], rings[1:]))
        out.append(shapely.MultiPolygon(polys))
    return out


def test_outline_json_round_trips_alone_and_on_a_map(safe):
    g = grid()
    blob = g.iloc[:7][["geometry"]].dissolve()
    ly = maps.outline_layer(blob, name="Campaign", color="#1b7837", dash="6 4")
    alone = ly.to_json()
    assert alone["kind"] == "outline" and "q" in alone and alone["dash"] == "6 4"
    back = _rings_m(alone["q"], alone["geoms"])[0]
    assert shapely.hausdorff_distance(back, blob.geometry.iloc[0]) < 1.0  # 1 m grid, no simplification
    enc = maps.encode(safe)
    on_map = ly.to_json(enc)
    assert "q" not in on_map
    back = _rings_m(enc.q, on_map["geoms"])[0]
    assert shapely.hausdorff_distance(back, blob.geometry.iloc[0]) < 2 * enc.quantum_m + 1
    json.dumps(alone)  # plain JSON


def test_district_outlines_from_arcs_or_dissolved(safe):
    d = maps.district_outlines(safe)
    enc = maps.encode(safe)
    topo = d.to_json(enc)
    assert topo["topo"] is True and sorted(topo["labels"]) == ["Northwold", "Southmere"]
    alone = d.to_json()
    assert alone["topo"] is False and sorted(alone["labels"]) == ["Northwold", "Southmere"]
    got = {lab: g for lab, g in zip(alone["labels"], _rings_m(alone["q"], alone["geoms"]))}
    frame = safe.frame
    for name, part in frame.groupby("lad_name"):
        truth = shapely.union_all(part.geometry.values)
        assert shapely.hausdorff_distance(got[name], truth) < 1.0
    assert [it.label for it in d.legend.items] == ["District boundary"]


def test_points_json_carries_names_only():
    g = grid()
    pts = gpd.GeoDataFrame({"name": g["ward_name"], "status": ["new", "existing"] * 12 + ["new"],
                            "secret": "need-4417"}, geometry=g.centroid, crs=27700)
    ly = maps.points_layer(pts, name="Hubs", label="name", category="status",
                           colors={"new": "#b2182b", "existing": "#2166ac"})
    data = ly.to_json()
    assert "need-4417" not in json.dumps(data)
    assert data["colors"] == ["#b2182b", "#2166ac"]
    assert [it["label"] for it in data["legend"]["items"]] == ["new", "existing"]
    lon, lat = pts.to_crs(4326).geometry.x.iloc[3], pts.to_crs(4326).geometry.y.iloc[3]
    assert data["points"][3][:3] == [round(lon, 6), round(lat, 6), 1] and data["points"][3][4] == "Ward 3"


# --------------------------------------------------------------------------- words follow the geography
def _lsoa_safe():
    g = grid().rename(columns={"ward_code": "lsoa_code", "ward_name": "lsoa_name"})
    g["lsoa_code"] = [f"E01{900001 + i}" for i in range(len(g))]
    safe = gangmap.make_safe(g, ["reports"])  # a plain frame: its geography is told by lsoa_code
    if "lsoa_code" not in safe.frame.columns:
        pytest.skip("make_safe does not keep lsoa_code yet: LSOA maps need the disclosure branch "
                    "(SafeTable.geography)")
    return safe


def test_lsoa_maps_say_lsoa():
    safe = _lsoa_safe()
    doc = maps.choropleth(safe, "reports")
    assert doc.data["geography"]["label"] == "LSOA" and doc.data["geography"]["a"] == "an LSOA"
    assert doc.title == f"{maps.layer_title('reports', safe)} by LSOA" and doc.title.startswith("Reports")
    assert 'aria-label="Map of LSOAs"' in doc.html
    assert doc.data["areas"]["codes"][0].startswith("E01")


def test_words_for_every_geography():
    from gangmap.geography import GEOGRAPHIES
    from gangmap.maps.naming import geography_words

    words = {k: geography_words(g)["a"] for k, g in GEOGRAPHIES.items()}
    assert words == {"ward": "a ward", "lsoa": "an LSOA", "msoa": "an MSOA", "oa": "an output area",
                     "neighbourhood": "a neighbourhood", "area": "an area"}


# --------------------------------------------------------------------------- static images, preview, files
def _colours(png) -> set:
    from PIL import Image

    img = Image.open(png).convert("RGB")
    return {c for _, c in img.getcolors(maxcolors=4_000_000)}


def _rgb(hexcol):
    return tuple(int(hexcol[i:i + 2], 16) for i in (1, 3, 5))


def test_slide_png_draws_the_same_overlays_as_the_html(safe, tmp_path):
    g = grid()
    pts = gpd.GeoDataFrame({"name": ["Hub A", "Hub B"], "status": ["existing", "new"]},
                           geometry=g.centroid.iloc[[6, 18]].values, crs=27700)
    layers = [maps.area_layer(safe, "reports", visible=True), maps.district_outlines(safe),
              maps.outline_layer(g.iloc[:3][["geometry"]].dissolve(), name="Current campaign areas",
                                 color="#1b7837", weight=3.5),
              maps.outline_layer(g.iloc[10:12], name="Recommended next wards", color="#762a83", dash="6 4",
                                 label="ward_name"),
              maps.points_layer(pts, name="Hubs", label="name", category="status", radius=8, visible=True,
                                colors={"existing": "#2166ac", "new": "#b2182b"})]
    doc = maps.make_map(safe, layers, title="Where next")
    png = doc.to_png(tmp_path / "slide.png")
    seen = _colours(png)
    for col in ("#1b7837", "#762a83", "#2166ac", "#b2182b"):
        assert _rgb(col) in seen, col
    # The overlays are what put those colours there: without them, none of them.
    bare = maps.map_png(safe, "reports", tmp_path / "bare.png")
    assert not {_rgb(c) for c in ("#1b7837", "#762a83", "#2166ac", "#b2182b")} & _colours(bare)
    # A hidden overlay is left out of the image as it is off in the HTML.
    hidden = maps.make_map(safe, [layers[0], maps.outline_layer(g.iloc[:3], name="Off", color="#1b7837",
                                                                visible=False)], title="T")
    assert _rgb("#1b7837") not in _colours(hidden.to_png(tmp_path / "hidden.png"))
    # export.map_png still works (moved to maps.static).
    assert gangmap.export.map_png(safe, "reports", tmp_path / "compat.png").exists()


def test_preview_svg_is_well_formed_and_drawn_from_the_data(safe):
    from gangmap.maps.preview import svg_preview

    doc = maps.choropleth(safe, "reports", title="<b>&</b>")
    svg = svg_preview(doc.data)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    paths = root.findall(f"{ns}path")
    assert len(paths) == len(safe.frame) + 1  # every area, then the district outlines
    layer = doc.data["layers"][0]
    fills = [p.get("fill") for p in paths[:len(safe.frame)]]
    want = [doc.data["styles"]["suppressed"] if c == maps.SUPPRESSED else layer["colors"][c] for c in layer["cls"]]
    assert fills == want
    html = doc._repr_html_()
    assert html.count("<iframe") == 1 and "gm-untrusted" in html and "data:image/svg+xml;base64," in html


def test_save_is_atomic_and_replaces(safe, tmp_path):
    doc = maps.choropleth(safe, "reports")
    target = tmp_path / "out" / "map.html"
    target.parent.mkdir()
    target.write_text("old")
    assert doc.save(target) == target
    assert target.read_text(encoding="utf-8") == doc.html
    assert [p.name for p in target.parent.iterdir()] == ["map.html"]  # no temporary file left


def test_explorer_says_why_fewer_classes(safe):
    pytest.importorskip("ipywidgets")
    g = grid()
    g["reports"] = [0, 10, 10, 20, 20] * 5
    w = maps.explorer({"All": gangmap.make_safe(g, ["reports"])}, ["reports"], k=7)
    out, note = w.children[2], w.children[3]
    assert "<iframe" in out.value
    assert "not the 7 asked for" in note.value
    classes = w.children[1].children[1]
    classes.value = 3
    assert note.value == ""
