"""Review fixes of the join: blank periods, AreaTable.merge, "not placed" totals, name folding, lookups.

Each test plants its answer (the rows and counts that must appear, the
values that must be named) and fails on the behaviour the review found.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gangmap.geography import GEOGRAPHIES, get_geography

REPO = Path(__file__).resolve().parents[1]
CODES = ["E05100001", "E05100002", "E05100003", "E05100004", "E05100005", "E05100006"]


# --------------------------------------------------------------------------- 6. one home for each constant


def _assigned(path: Path, name: str) -> int:
    tree = ast.parse(path.read_text())
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.Assign)
               for t in node.targets if isinstance(t, ast.Name) and t.id == name)


def test_cube_and_tally_share_one_keys_constant():
    joining = REPO / "gangmap" / "joining"
    assert _assigned(joining / "tally.py", "_KEYS") + _assigned(joining / "cube.py", "_KEYS") <= 1
    assert not re.search(r"\(\s*\"period\",\s*\"category\"\s*\)", (joining / "cube.py").read_text())


def test_geography_aliases_come_from_the_geographies():
    text = (REPO / "gangmap" / "geography.py").read_text()
    assert "police neighbourhood\": \"neighbourhood\"" not in text  # no second list of the same words
    for key, geo in GEOGRAPHIES.items():
        for word in (key, geo.label, geo.plural, *geo.aliases):
            assert get_geography(word.upper()) is geo, word
    assert get_geography("neighborhoods") is GEOGRAPHIES["neighbourhood"]
    assert get_geography("OAs") is GEOGRAPHIES["oa"]
