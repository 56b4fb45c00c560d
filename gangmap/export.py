"""Export: write safe tables to CSV and XLSX, and figures to PNG.

Every writer takes a :class:`~gangmap.disclosure.SafeTable` (or a figure plus
the SafeTable it was drawn from) and refuses anything else with a
:class:`~gangmap.errors.DisclosureError`. Only the allow-listed columns of
the SafeTable are written, suppressed cells show the policy's marker, and
every file carries the provenance footer and protective marking.

Cells that a spreadsheet would run as a formula (text starting with ``=``,
``+``, ``-``, ``@``) are written with a leading apostrophe.

Examples
--------
>>> from gangmap import export
>>> export.write_table(safe, "out/wards.csv")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .disclosure import SafeTable, require_safe
from .errors import GangmapError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = "".join(f"# {line}\n" for line in _provenance_lines(safe))
    body = table_for_export(safe).to_csv(index=False, lineterminator="\n")
    path.write_text(head + body, encoding="utf-8")
    return path


def to_xlsx(safe: SafeTable, path: str | Path) -> Path:
    """Write the safe table, the safe totals and an 'About' sheet to an Excel workbook."""
    require_safe(safe, "an XLSX file")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    about = pd.DataFrame({"About this file": _provenance_lines(safe)})
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        table_for_export(safe).to_excel(xw, sheet_name="wards", index=False)
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


def to_png(fig, safe: SafeTable, path: str | Path, *, dpi: int = 150) -> Path:
    """Save a matplotlib figure drawn from ``safe`` as PNG, stamped with marking and footer."""
    require_safe(safe, "a PNG image")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prov = safe.provenance
    fig.text(0.5, 0.995, prov.marking, ha="center", va="top", fontsize=8, weight="bold")
    fig.text(0.5, 0.005, prov.footer(), ha="center", va="bottom", fontsize=6, wrap=True)
    fig.savefig(path, dpi=dpi, metadata={"Software": f"gangmap {prov.version}"})
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


def map_figure(safe: SafeTable, column: str, *, title: str | None = None, scheme: str = "quantiles",
               k: int = 5, bins=None, palette: str | None = None, legend_title: str | None = None,
               figsize=(8.0, 7.0)):
    """A static choropleth of one safe column (matplotlib Figure), with the map's classes and colours."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from .maps import NO_DATA_LABEL, layer_classes
    from .maps.classify import NO_DATA, NO_DATA_COLOR, SUPPRESSED, SUPPRESSED_COLOR

    require_safe(safe, "a map image")
    frame = safe.frame
    cls = layer_classes(safe, column, scheme=scheme, k=k, bins=bins, palette=palette)
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.06, 0.96, 0.86))
    colors = [cls.color_of(int(i)) for i in cls.assignment]
    frame.plot(ax=ax, color=colors, edgecolor="#555555", linewidth=0.3)
    sup = cls.assignment == SUPPRESSED
    if sup.any():
        frame[sup].plot(ax=ax, facecolor=SUPPRESSED_COLOR, edgecolor="#777777", linewidth=0.3, hatch="////")
    if "lad_code" in frame:
        frame.dissolve(by="lad_code").boundary.plot(ax=ax, color="#222222", linewidth=1.0)
    ax.set_axis_off()
    ax.set_aspect("equal")
    handles = [Patch(facecolor=c, edgecolor="#555555", label=lab) for c, lab in zip(cls.colors, cls.labels)]
    if sup.any():
        handles.append(Patch(facecolor=SUPPRESSED_COLOR, edgecolor="#777777", hatch="////", label=safe.policy.label))
    if (cls.assignment == NO_DATA).any():
        handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="#555555", label=NO_DATA_LABEL))
    ax.legend(handles=handles, title=legend_title or column, loc="lower right", fontsize=7, title_fontsize=8,
              frameon=True)
    fig.suptitle(title or column, fontsize=11, y=0.965)
    return fig


def map_png(safe: SafeTable, column: str, path: str | Path, **options) -> Path:
    """Save a static PNG of one map layer (for slide decks), with marking and provenance."""
    return to_png(map_figure(safe, column, **options), safe, path)
