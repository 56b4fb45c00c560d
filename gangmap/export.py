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

import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .disclosure import SafeTable, require_safe
from .errors import GangmapError
from .figures import literal_text
from .outputs import atomic_path, write_text

#: Text a spreadsheet would run as a formula starts with one of these.
_FORMULA_START = ("=", "+", "-", "@")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BREAKS = re.compile(r"[\r\n\t\u2028\u2029\x85]+")


def clean_text(value: str) -> str:
    """Text fit for any cell: NFC, no control characters, no line breaks (which could start a new row)."""
    text = unicodedata.normalize("NFC", value)
    return _CONTROL.sub("", _BREAKS.sub(" ", text)).strip()


def defuse(value):
    """A cell value that no spreadsheet runs as a formula and no reader mistakes for structure.

    Text is cleaned (:func:`clean_text`); text starting with ``=``, ``+``,
    ``-`` or ``@`` that is not a plain number gets a leading apostrophe, as
    OWASP recommends against CSV injection. Numbers pass through.
    """
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    if text.startswith(_FORMULA_START):
        try:
            float(text.replace(",", ""))
            return text  # a plain negative number
        except ValueError:
            return "'" + text
    return text


def table_for_export(safe: SafeTable) -> pd.DataFrame:
    """The rows as a person reads them: identifiers and display values (the marker where hidden), no geometry."""
    require_safe(safe, "a table")
    return safe.display.drop(columns=["geometry"], errors="ignore").map(defuse)


def _cell_values(safe: SafeTable) -> pd.DataFrame:
    """The rows as they are written to files: shown numbers as numbers, text (and markers) defused."""
    out = table_for_export(safe)
    for col in out.columns:
        series = safe.frame[col] if col in safe.frame else None
        if series is None or not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        hidden = np.zeros(len(out), dtype=bool)
        if col in safe.suppressed:
            hidden = safe.suppressed[col].to_numpy() | safe.nodata[col].to_numpy()
        values = safe.frame[col].to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(values) & (values == np.round(values))
        cells = [out[col].iloc[i] if hidden[i] or not np.isfinite(values[i])
                 else int(values[i]) if whole[i] else float(values[i]) for i in range(len(values))]
        out[col] = pd.Series(cells, index=out.index, dtype=object)
    return out


def provenance_lines(safe: SafeTable) -> list[str]:
    """Marking, footer and the policy in words: what every file says about itself (defused)."""
    prov = safe.provenance
    return [defuse(x) for x in (prov.marking, prov.footer(), safe.policy.describe())]


def _metadata(safe: SafeTable, csv_name: str, frame: pd.DataFrame) -> dict:
    """CSVW-style metadata: marking, provenance, policy, and what the markers in the cells mean."""
    pol, prov = safe.policy, safe.provenance
    columns = []
    for col in frame.columns:
        numeric = col in safe.frame and pd.api.types.is_numeric_dtype(safe.frame[col]) and \
            not pd.api.types.is_bool_dtype(safe.frame[col])
        columns.append({"name": str(col), "titles": str(col), "datatype": "number" if numeric else "string"})
    return {"@context": "http://www.w3.org/ns/csvw", "url": csv_name,
            "dc:title": defuse(csv_name), "dc:rights": defuse(prov.marking),
            "dc:description": defuse(pol.describe()), "dc:source": defuse(prov.footer()),
            "prov:generatedAtTime": prov.generated, "gangmap:policy": pol.name,
            "null": [pol.marker, pol.nodata_text],
            "gangmap:marker": {pol.marker: f"hidden by the disclosure policy ({pol.label})",
                               pol.nodata_text: "no data"},
            "tableSchema": {"columns": columns}}


def metadata_path(path: str | Path) -> Path:
    """The sidecar of a CSV file: ``wards.csv`` -> ``wards.csv-metadata.json`` (the CSVW convention)."""
    path = Path(path)
    return path.with_name(path.name + "-metadata.json")


def to_csv(safe: SafeTable, path: str | Path) -> Path:
    """Write the safe table as a tidy CSV: the header is line 1, one row per area.

    Shown numbers are plain numbers; hidden cells hold the policy's marker
    (``*``) and cells with no data its no-data text. The marking, provenance
    and policy travel in a CSVW-style sidecar, ``<file>.csv-metadata.json``,
    so ``pandas.read_csv(path)``, R and Excel read the file with defaults.
    Unsuppressed data (policy ``none``) also carry the stamp in a first
    ``marking`` column of every row.
    """
    require_safe(safe, "a CSV file")
    path = Path(path)
    frame = _cell_values(safe)
    if safe.provenance.stamp:  # unsuppressed data: the stamp goes in every row, where no sidecar can be lost
        frame.insert(0, "marking", defuse(safe.provenance.marking))
    write_text(metadata_path(path), json.dumps(_metadata(safe, path.name, frame), indent=1, ensure_ascii=False))
    return write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def _sheet_name(safe: SafeTable) -> str:
    """The data sheet is named for the areas: "wards", "LSOAs", "neighbourhoods"."""
    from .geography import WARD, Geography, detect_geography

    geo = getattr(safe, "geography", None)
    if not isinstance(geo, Geography):
        geo = detect_geography(safe.frame.columns) or WARD
    return geo.plural[:31]


def _totals_frame(safe: SafeTable) -> pd.DataFrame:
    """The published totals: numbers where shown, the marker where hidden."""
    t = safe.totals.copy()
    for col in safe.counts:
        if col in t and f"{col}_suppressed" in t:
            hidden = t[f"{col}_suppressed"].to_numpy(dtype=bool)
            t[col] = [safe.policy.marker if h else (int(v) if np.isfinite(v) else safe.policy.nodata_text)
                      for h, v in zip(hidden, t[col].to_numpy(dtype=float))]
            t = t.drop(columns=f"{col}_suppressed")
    return t.map(defuse)


def to_xlsx(safe: SafeTable, path: str | Path) -> Path:
    """Write the safe table (numbers as numbers), the safe totals and an 'About' sheet to a workbook.

    The workbook is built in a temporary file and renamed into place only when
    complete, so a crash never leaves a workbook without its marking or About sheet.
    """
    require_safe(safe, "an XLSX file")
    path = Path(path)
    about = pd.DataFrame({"About this file": provenance_lines(safe)})
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            _cell_values(safe).to_excel(xw, sheet_name=_sheet_name(safe), index=False)
            if safe.totals is not None and len(safe.totals):
                _totals_frame(safe).to_excel(xw, sheet_name="totals", index=False)
            about.to_excel(xw, sheet_name="about", index=False)
            for ws in xw.book.worksheets:
                ws.oddHeader.center.text = provenance_lines(safe)[0][:250]
                ws.oddFooter.center.text = provenance_lines(safe)[1][:250]
    return path


def write_table(safe: SafeTable, path: str | Path) -> Path:
    """Write ``safe`` as CSV (with its metadata sidecar) or XLSX, chosen by the file's extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return to_csv(safe, path)
    if suffix in (".xlsx", ".xlsm"):
        return to_xlsx(safe, path)
    raise GangmapError(f"{path}: unknown table format {suffix!r}; use .csv or .xlsx.")


@literal_text
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
