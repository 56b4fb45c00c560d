"""Strip notebooks of outputs before they are committed.

Notebooks run on real data hold real data in their outputs (maps embed ward
values, tables print counts, widget state keeps what the widgets last showed,
papermill's injected cell names private files). The repository stores the
notebooks without any of that::

    python tools/nbstrip.py notebooks/*.ipynb          # strip in place
    python tools/nbstrip.py --check notebooks/*.ipynb  # exit 1 if any would change

What is removed
---------------
* every code cell's ``outputs`` and ``execution_count``;
* cells tagged ``injected-parameters`` (added by papermill; they hold the
  paths and values a run was given);
* volatile cell metadata: :data:`VOLATILE_CELL_METADATA` (timings,
  collapsed/scrolled state, papermill's per-cell records) and
  ``jupyter.outputs_hidden``;
* volatile notebook metadata: :data:`VOLATILE_NOTEBOOK_METADATA` (widget
  state, papermill's record of the run, signature, ``language_info``).

Sources, cell ids, tags (``parameters`` included), markdown attachments and
the ``kernelspec`` are kept. The file is written with nbformat's own layout,
so stripping twice changes nothing.

``make strip-notebooks`` runs it on ``notebooks/*.ipynb`` and the pre-commit
hook installed by ``make hooks`` (``.githooks/pre-commit``) runs it on every
staged notebook.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

__all__ = ["VOLATILE_CELL_METADATA", "VOLATILE_NOTEBOOK_METADATA", "strip", "strip_text", "strip_file", "main"]

#: Cell metadata keys that record a run or the UI state, not the notebook's content.
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled", "papermill",
                          "heading_collapsed", "hidden")
#: Notebook metadata keys that record a run, widget state or the interpreter.
VOLATILE_NOTEBOOK_METADATA = ("widgets", "papermill", "signature", "language_info", "toc", "varInspector")
#: Tag papermill gives the cell it injects with a run's parameters.
INJECTED_TAG = "injected-parameters"


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip ``nb`` in place (see the module docs) and return it."""
    for key in VOLATILE_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    nb.cells = [c for c in nb.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        meta = cell.setdefault("metadata", nbformat.NotebookNode())
        for key in VOLATILE_CELL_METADATA:
            meta.pop(key, None)
        jup = meta.get("jupyter")
        if isinstance(jup, dict):
            jup.pop("outputs_hidden", None)
            if not jup:
                meta.pop("jupyter")
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def strip_text(text: str, source: str = "notebook") -> str:
    """Return the stripped notebook JSON for the notebook JSON ``text``."""
    try:
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    except Exception as exc:  # nbformat raises several kinds (JSON, NotJSONError, validation)
        raise ValueError(f"{source}: not a Jupyter notebook ({exc.__class__.__name__}: {exc}).") from None
    if nb.get("nbformat") != 4:
        raise ValueError(f"{source}: nbformat {nb.get('nbformat')} is not supported; open and save it "
                         "in JupyterLab to upgrade it to version 4.")
    return nbformat.writes(strip(nb)) + "\n"


def strip_file(path: str | Path, *, check: bool = False) -> bool:
    """Strip the notebook at ``path`` in place; return True if it changed (or would, with ``check``)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new = strip_text(text, str(path))
    if new == text:
        return False
    if not check:
        path.write_text(new, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/nbstrip.py",
        description="Remove outputs, execution counts, papermill's injected parameters and volatile "
                    "metadata from Jupyter notebooks, in place.")
    parser.add_argument("files", nargs="*", metavar="FILE", help="notebooks (.ipynb) to strip")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if any notebook would be changed")
    args = parser.parse_args(argv)
    changed, failed = [], False
    for name in args.files:
        try:
            if strip_file(name, check=args.check):
                changed.append(name)
        except (OSError, ValueError) as exc:
            print(f"nbstrip: error: {exc}", file=sys.stderr)
            failed = True
    for name in changed:
        print(f"{'would strip' if args.check else 'stripped'} {name}")
    if failed:
        return 2
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
