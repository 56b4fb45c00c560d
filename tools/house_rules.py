"""Check the house rules of the gangmap package (run by the tests; handy on one folder too).

    python tools/house_rules.py [PATH ...]     # default: gangmap/

Rules:

* no function or method whose code (signature and body, without the docstring) is longer than
  ``MAX_LINES`` lines;
* no import of another module's private names (``from .x import _y``);
* no lineage or count bookkeeping in ``DataFrame.attrs`` (``.attrs[`` / ``.attrs.get(``);
* no attributes stuck onto libpysal weights (``w.gangmap_...``).

Exit status 1 and one line per breach, naming the file, the line and the rule.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

MAX_LINES = 80
ROOT = Path(__file__).resolve().parents[1]


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def check_file(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    out = []
    for fn in _functions(tree):
        length = (fn.end_lineno or fn.lineno) - fn.lineno + 1
        body = fn.body
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            length -= (body[0].end_lineno or body[0].lineno) - body[0].lineno + 1
        if length > MAX_LINES:
            out.append(f"{rel}:{fn.lineno}: function {fn.name} is {length} lines (at most {MAX_LINES})")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None and (node.level or
                                                                             node.module.startswith("gangmap")):
            private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            if private:
                out.append(f"{rel}:{node.lineno}: imports private name(s) {private} from {node.module}")
    for i, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        bookkeeping = r"\.attrs\s*(\[|\.get\(|\.update\(|\.setdefault\()|\.attrs\s*=\s*\{[^}]"
        if re.search(bookkeeping, code):
            out.append(f"{rel}:{i}: uses DataFrame.attrs for bookkeeping (use the AreaTable schema)")
        if re.search(r"\bw\w*\.gangmap_\w+", code):
            out.append(f"{rel}:{i}: stores gangmap data on a weights object (use measures.Weights)")
    return out


def check(paths) -> list[str]:
    out: list[str] = []
    for p in paths:
        p = Path(p)
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            out.extend(check_file(f.resolve()))
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    problems = check(args or [ROOT / "gangmap"])
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
