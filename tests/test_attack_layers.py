"""Attack: a map layer is forged after the SafeTable check, and make_map publishes the raw counts.

``make_map(safe, layers)`` checks that ``safe`` is a SafeTable made by
make_safe, and that each area layer has the map's area codes in order. It does
not check that a layer's values are the SafeTable's: an :class:`AreaLayer` is a
plain frozen dataclass, so ``dataclasses.replace(area_layer(safe, "reports"),
values=raw)`` (or ``AreaLayer(...)`` built directly, both public names) puts
any text into the page. This is the hole just closed for SafeTable itself
("SafeTable cannot be forged with dataclasses.replace"), one step later.

The tests plant a ward whose raw count is 3 (hidden as ``*``) and read the
page's embedded data back: the safe behaviour is that make_map refuses a
layer whose values, tooltips or classes are not those of the SafeTable it was
made from (or that such a layer cannot be made).
"""

from __future__ import annotations

import dataclasses
import json
import re

import geopandas as gpd
import pytest

import gangmap
from gangmap import maps
from gangmap.disclosure import make_safe
from gangmap.errors import GangmapError


@pytest.fixture(scope="module")
def planted():
    """The demo wards with a planted raw count of 3 in the first ward (hidden under nhs), 20+ elsewhere."""
    wards = gpd.read_file(gangmap.demo.paths()["wards"])
    raw = [3] + [20 + i for i in range(len(wards) - 1)]
    table = wards.assign(reports=raw)
    safe = make_safe(table, ["reports"])
    assert safe.display["reports"].iloc[0] == "*"
    return safe, raw


def _embedded(doc) -> dict:
    found = re.search(r'<script type="application/json" id="gm-data">(.*?)</script>', doc.html, re.S)
    assert found, "no embedded map data"
    return json.loads(found.group(1))


def _published_first_value(doc) -> str:
    data = _embedded(doc)
    layer = next(ly for ly in data["layers"] if ly["kind"] == "area")
    return layer["values"][0]


def _refused_or_safe(safe, raw, layer, how: str, tmp_path):
    try:
        doc = maps.make_map(safe, [layer], title="forged")
    except GangmapError:
        return  # the safe behaviour: the forged layer is refused
    shown = _published_first_value(doc)
    if shown != "*":
        doc.save(tmp_path / "forged.html")
        pytest.fail(f"{how}: the map page publishes {shown!r} for ward {safe.codes.iloc[0]} where the SafeTable "
                    f"hides it ('*'); raw count {raw[0]}, recovered {shown} from forged.html's embedded data")


def test_a_layer_remade_with_dataclasses_replace_is_refused(planted, tmp_path):
    safe, raw = planted
    forged = dataclasses.replace(maps.area_layer(safe, "reports"), values=tuple(map(str, raw)))
    _refused_or_safe(safe, raw, forged, "dataclasses.replace(area_layer(safe, 'reports'), values=raw)", tmp_path)


def test_a_tooltip_added_with_dataclasses_replace_is_refused(planted, tmp_path):
    safe, raw = planted
    layer = maps.area_layer(safe, "reports")
    forged = dataclasses.replace(layer, extra=(("Reports (exact)", tuple(map(str, raw))),))
    try:
        doc = maps.make_map(safe, [forged], title="forged")
    except GangmapError:
        return
    tip = next(ly for ly in _embedded(doc)["layers"] if ly["kind"] == "area")["extra"][0]["values"][0]
    assert tip == "*", (f"a tooltip added with dataclasses.replace publishes {tip!r} for the hidden ward; raw "
                        f"count {raw[0]}, recovered {tip}")


def test_an_area_layer_built_directly_from_raw_values_is_refused(planted, tmp_path):
    safe, raw = planted
    classes = maps.layer_classes(safe, "reports")
    forged = maps.AreaLayer(id="area-reports", name="Reports (count)", column="reports",
                            codes=tuple(safe.codes.astype(str)), values=tuple(map(str, raw)), classes=classes)
    _refused_or_safe(safe, raw, forged, "maps.AreaLayer(values=raw) built directly", tmp_path)


def test_the_legitimate_layer_still_works(planted):
    # Control: the layer made by area_layer is accepted and hides the planted count.
    safe, _ = planted
    doc = maps.make_map(safe, [maps.area_layer(safe, "reports")], title="safe")
    assert _published_first_value(doc) == "*"


def test_a_time_layer_remade_with_dataclasses_replace_is_refused(planted):
    """The same forgery on the period slider: each period is checked against its own SafeTable."""
    safe, raw = planted
    layer = maps.time_layer({"2018-01": safe, "2018-02": safe}, "reports")
    doc = maps.make_map(safe, [layer], title="ok")  # the layer as made is accepted
    assert next(ly for ly in _embedded(doc)["layers"] if ly["kind"] == "time")["values"][0][0] == "*"
    forged = dataclasses.replace(layer, values=(tuple(map(str, raw)), layer.values[1]))
    with pytest.raises(GangmapError, match="not the published values"):
        maps.make_map(safe, [forged], title="forged")
    with pytest.raises(GangmapError, match="needs the SafeTable of each"):
        maps.make_map(safe, [dataclasses.replace(layer, sources=())], title="forged")
