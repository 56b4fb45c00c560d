"""A SafeTable cannot be forged: only make_safe makes one, and exporters notice one edited afterwards."""

from __future__ import annotations

import copy
import dataclasses

import pandas as pd
import pytest

from gangmap import maps
from gangmap.disclosure import SafeTable, is_safe, make_safe, require_safe
from gangmap.errors import DisclosureError
from gangmap.export import to_csv

RAW = pd.DataFrame({"ward_code": ["W1", "W2", "W3", "W4"], "lad_code": ["D1"] * 4,
                    "reports": [3, 20, 40, 12]})


def _safe():
    safe = make_safe(RAW, ["reports"])
    assert safe.display["reports"].tolist()[0] == "*"
    return safe


def test_dataclasses_replace_with_a_raw_frame_is_refused():
    safe = _safe()
    with pytest.raises(DisclosureError, match="only be made by gangmap.disclosure.make_safe"):
        dataclasses.replace(safe, frame=RAW.copy())
    with pytest.raises(DisclosureError, match="only be made by"):
        dataclasses.replace(safe)  # even an unchanged copy: replace never makes a SafeTable


def test_direct_construction_is_refused_with_any_arguments():
    safe = _safe()
    fields = {f.name: getattr(safe, f.name) for f in dataclasses.fields(SafeTable)}
    with pytest.raises(DisclosureError, match="only be made by"):
        SafeTable(**fields)
    with pytest.raises(DisclosureError, match="only be made by"):
        SafeTable(**{**fields, "frame": RAW.copy()})
    # The old private token is gone: no keyword opens the door.
    with pytest.raises(TypeError):
        SafeTable(**fields, _maker=object())


@pytest.mark.parametrize("edit", [
    lambda s: s.frame.__setitem__("reports", RAW["reports"].astype(float)),   # raw counts back in the frame
    lambda s: s.display.__setitem__("reports", RAW["reports"].astype(str)),   # or in the text
    lambda s: s.suppressed.__setitem__("reports", False),                      # or the flags cleared
    lambda s: object.__setattr__(s, "frame", RAW.copy()),                      # or the frozen field swapped
])
def test_exporters_refuse_a_safetable_edited_after_make_safe(tmp_path, edit):
    safe = _safe()
    edit(safe)
    assert not is_safe(safe)
    with pytest.raises(DisclosureError, match="changed after make_safe"):
        require_safe(safe, "a CSV file")
    with pytest.raises(DisclosureError, match="changed after make_safe"):
        to_csv(safe, tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_make_safe_outputs_still_work_everywhere(tmp_path, demo_paths):
    safe = _safe()
    assert is_safe(safe) and require_safe(safe) is safe
    ranked = safe.ranked("reports")
    assert is_safe(ranked) and ranked.frame["rank"].tolist() == [1, 2, 3]
    assert is_safe(copy.copy(safe))      # an unchanged copy still holds the same safe values
    text = to_csv(safe, tmp_path / "s.csv").read_text(encoding="utf-8")
    assert "ward_code" in text
    import gangmap

    table, _ = gangmap.join(demo_paths["wards"], reports=RAW.rename(columns={"reports": "count"}).assign(
        ward_code=["E05900001", "E05900002", "E05900003", "E05900004"]))
    demo = make_safe(table)
    assert "<html" in maps.choropleth(demo, "reports").html.lower()


def test_a_safetable_pickles_and_deep_copies_but_a_changed_pickle_is_refused():
    """joblib, multiprocessing and notebook caches pickle: that must work, and must not be a way to forge."""
    import copy
    import pickle

    import pandas as pd

    from gangmap.disclosure import is_safe, make_safe
    from gangmap.disclosure import safetable as st

    safe = make_safe(pd.DataFrame({"ward_code": ["W1", "W2", "W3", "W4"], "lad_code": ["D1"] * 4,
                                   "reports": [7, 30, 40, 25]}), ["reports"])
    back = pickle.loads(pickle.dumps(safe))
    assert is_safe(back) and back.display.equals(safe.display) and dict(back.labels) == dict(safe.labels)
    assert is_safe(copy.deepcopy(safe))
    fn, (values, proxies, seal) = safe.__reduce__()
    values["frame"] = values["frame"].assign(reports=[7, 30, 40, 25])  # the raw counts back in
    with pytest.raises(DisclosureError, match="changed after make_safe"):
        st._unpickle(values, proxies, seal)
