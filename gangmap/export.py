"""Export: write safe tables to CSV and XLSX, and stamp figures as PNG.

Every writer takes a :class:`~gangmap.disclosure.SafeTable` (or a figure plus
the SafeTable it was drawn from) and refuses anything else with a
:class:`~gangmap.errors.DisclosureError`. Only the allow-listed columns of
the SafeTable are written, suppressed cells show the policy's marker, and
every file carries the provenance footer and protective marking.

Cells that a spreadsheet would run as a formula (text starting with ``=``,
``+``, ``-``, ``@``) are written with a leading apostrophe.

Every file is written atomically (a temporary file beside the target,
renamed into place), so a reader never sees half a file. Static map images
live in :mod:`gangmap.maps.static` (``export.map_png`` and
``export.map_figure`` still work and forward there).

Examples
--------
>>> from gangmap import export
>>> export.write_table(safe, "out/wards.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from .disclosure import SafeTable, require_safe
from .errors import GangmapError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

try:  # gangmap.outputs (atomic files, one-line disk errors) where the package has it
    from .outputs import atomic_path, write_text
except ImportError:  # pragma: no cover - until gangmap.outputs is merged: the same contract, minimal
    @contextlib.contextmanager
    def atomic_path(target: str | Path) -> Iterator[Path]:
        """Yield a temporary path beside ``target``; rename it onto ``target`` if the block succeeds."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
        try:
            yield Path(tmp)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def write_text(target: str | Path, text: str, encoding: str = "utf-8") -> Path:
        """Write ``text`` to ``target`` atomically."""
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding=encoding)
        return Path(target)


def _defuse(v):
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        try:
            float(v.replace(",", ""))
            return v  # a plain negative number
        except ValueError:
            return "'" + v
    return v


def table_for_export(safe: SafeTable) -> pd.DataFrame:
    """The rows exactly as they are written: identifiers and display values, no geometry."""
    require_safe(safe, "a table")
    return safe.display.drop(columns=["geometry"], errors="ignore").map(_defuse)


def _provenance_lines(safe: SafeTable) -> list[str]:
    prov = safe.provenance
    return [prov.marking, prov.footer(), safe.policy.describe()]


def to_csv(safe: SafeTable, path: str | Path) -> Path:
    """Write the safe table as CSV, with the provenance as ``#`` lines at the top.

    Read it back with ``pandas.read_csv(path, comment="#")``.
    """
    require_safe(safe, "a CSV file")
    head = "".join(f"# {line}\n" for line in _provenance_lines(safe))
    body = table_for_export(safe).to_csv(index=False, lineterminator="\n")
    return write_text(Path(path), head + body)


def _sheet_name(safe: SafeTable) -> str:
    """The data sheet is named for the areas: "wards", "LSOAs", "neighbourhoods"."""
    from .geography import WARD, Geography, detect_geography

    geo = getattr(safe, "geography", None)
    if not isinstance(geo, Geography):
        geo = detect_geography(safe.frame.columns) or WARD
    return geo.plural[:31]


def to_xlsx(safe: SafeTable, path: str | Path) -> Path:
    """Write the safe table, the safe totals and an 'About' sheet to an Excel workbook."""
    require_safe(safe, "an XLSX file")
    path = Path(path)
    about = pd.DataFrame({"About this file": _provenance_lines(safe)})
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xw:
        table_for_export(safe).to_excel(xw, sheet_name=_sheet_name(safe), index=False)
        totals = getattr(safe, "totals_display", None)
        if totals is None:
            totals = safe.totals
        if totals is not None and len(totals):
            totals.map(_defuse).to_excel(xw, sheet_name="totals", index=False)
        about.to_excel(xw, sheet_name="about", index=False)
        for ws in xw.book.worksheets:
            ws.oddHeader.center.text = safe.provenance.marking
            ws.oddFooter.center.text = safe.provenance.footer()[:250]
    return path


def write_table(safe: SafeTable, path: str | Path) -> Path:
    """Write ``safe`` as CSV or XLSX, chosen by the file's extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return to_csv(safe, path)
    if suffix in (".xlsx", ".xlsm"):
        return to_xlsx(safe, path)
    raise GangmapError(f"{path}: unknown table format {suffix!r}; use .csv or .xlsx.")


def to_png(fig, safe: SafeTable, path: str | Path, *, dpi: int = 150, provenance=None) -> Path:
    """Save a matplotlib figure drawn from ``safe`` as PNG, stamped with marking and footer.

    ``provenance`` (default ``safe.provenance``): the footer of a figure drawn
    from several tables of the same areas (periods: see
    :func:`gangmap.maps.small_multiples`).
    """
    require_safe(safe, "a PNG image")
    path = Path(path)
    prov = provenance or safe.provenance
    fig.text(0.5, 0.995, prov.marking, ha="center", va="top", fontsize=8, weight="bold")
    fig.text(0.5, 0.005, prov.footer(), ha="center", va="bottom", fontsize=6, wrap=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", metadata={"Software": f"gangmap {prov.version}"})
    return path


def funnel_png(safe: SafeTable, count: str, population: str = "population", path: str | Path = "funnel.png",
               **options) -> Path:
    """Save a funnel plot of ``count`` per population, drawn from safe values only, as PNG.

    Wards whose count is suppressed are left out (the figure says how many);
    the others are drawn at their safe counts. ``options`` go to
    :func:`gangmap.measures.funnel_plot`.

    Examples
    --------
    >>> safe = make_safe(table, counts=["reports"], keep=["population"])  # doctest: +SKIP
    >>> funnel_png(safe, "reports", path="out/funnel.png")  # doctest: +SKIP
    """
    from .measures import funnel_plot

    require_safe(safe, "a funnel plot")
    return to_png(funnel_plot(safe, count, population, **options), safe, path)


def __getattr__(name: str):
    """``export.map_png`` and ``export.map_figure`` moved to :mod:`gangmap.maps.static`; they still work."""
    if name in ("map_png", "map_figure"):
        from .maps import static

        return getattr(static, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
