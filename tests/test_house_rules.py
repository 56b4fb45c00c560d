"""The house rules hold across the package: short functions, no private imports, no attrs bookkeeping."""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import house_rules  # noqa: E402  (tools/house_rules.py: a developer tool, not part of the package)


def test_package_keeps_the_house_rules():
    problems = house_rules.check([REPO / "gangmap"])
    assert problems == [], "\n".join(problems)


def test_the_checker_catches_each_rule(tmp_path):
    bad = tmp_path / "bad.py"
    body = "\n".join(f"    x{i} = {i}" for i in range(85))
    bad.write_text(f"from .other import _private\n\ndef long():\n{body}\n\n"
                   "def f(df, w):\n    df.attrs['gangmap_derived'] = {}\n    w.gangmap_islands = []\n",
                   encoding="utf-8")
    found = "\n".join(house_rules.check([bad]))
    assert "function long is 86 lines" in found and "private name(s) ['_private']" in found
    assert "DataFrame.attrs" in found and "weights object" in found


def test_no_wall_clock_assertion_in_any_test():
    timed = re.compile(r"assert\s+\(?\s*(seconds|elapsed|wall|duration|took|runtime)\w*\s*<")
    hits = [f"{p.name}:{i}" for p in (REPO / "tests").glob("*.py")
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if timed.search(line)]
    assert hits == [], f"timings belong in benchmarks/: {hits}"
