"""The measures package's layout (issue 11): modules by concern, a curated API, light imports, house rules."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

from gangmap import measures

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "gangmap" / "measures"
HEAVY = ("esda", "libpysal", "matplotlib", "mapclassify", "spopt", "pulp", "openpyxl", "ipywidgets", "playwright")


def test_importing_measures_loads_no_heavy_library():
    # load gangmap.measures under a bare parent package, so only this subpackage's imports count
    code = f"""
import sys, types
pkg = types.ModuleType("gangmap"); pkg.__path__ = [{str(ROOT / 'gangmap')!r}]
sys.modules["gangmap"] = pkg
import gangmap.measures
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_house_rules_hold_for_measures():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        house_rules = importlib.import_module("house_rules")
    finally:
        sys.path.remove(str(ROOT / "tools"))
    assert house_rules.check([PKG]) == []


def test_every_module_says_why_and_the_api_is_curated():
    modules = sorted(p for p in PKG.glob("*.py"))
    assert {p.stem for p in modules} >= {"checks", "rates", "smoothing", "weights", "inference", "hotspots", "need",
                                         "funnel", "series", "ehsa", "registry"}
    assert not (PKG / "core.py").exists()
    for p in modules:
        assert ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))), f"{p.name} has no module docstring"
    for name in measures.__all__:
        assert hasattr(measures, name), name
    assert not [n for n in measures.__all__ if n.startswith("_")]
