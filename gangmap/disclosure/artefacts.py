"""Read back every published byte of a pack: the tables a reader of the files actually has.

The auditor (:func:`gangmap.disclosure.audit_pack`) must see what a reader
sees, not what the code meant to write, so it parses the files themselves:

* CSV: ``#`` lines are the provenance header; the rest is one table. The
  disclosure rule of a CSV travels in its CSVW sidecar
  (``<file>.csv-metadata.json``, UTF-8 JSON: the footer is its ``dc:source``),
  read with the CSV so the rule a reader sees is the rule it was made under.
* XLSX: every sheet, every cell (openpyxl), one table per sheet whose first
  row is its header (the ``about`` sheet is text).
* HTML maps: the JSON in ``<script type="application/json" id="gm-data">``:
  the area codes (the first list named ``codes``) and every list of one
  value per area inside the layers (``values`` and the tooltip ``extra``
  lists); the column is the layer's ``column`` key, else its ``id``
  without the ``area-`` prefix, else its ``name``.
* Other HTML (the index page): every ``<table>`` (header row, then rows) and
  the whole text.
* JSON and other text files: their UTF-8 text, for scanning only.
* PNG and anything else: the bytes as text, for scanning only (the pixels
  of a static map show the same classes as its HTML map).

Each table is returned as text cells exactly as published (``"1,250"``,
``"*"``, ``"34.6"``); making numbers of them is the auditor's business.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

__all__ = ["PublishedTable", "Artefact", "read_artefact", "read_pack", "FOOTER_RE"]

#: The provenance footer's disclosure part: ``Disclosure: nhs (0 stays 0; 1–7 suppressed; others rounded to 5)``.
FOOTER_RE = re.compile(r"Disclosure: (\w+)(?: \(([^)]*)\))?")
_GM_DATA = re.compile(r'<script type="application/json" id="gm-data">(.*?)</script>', re.S)


@dataclass
class PublishedTable:
    """One table as published: ``columns`` maps a column name to its cells (text), row by row.

    ``codes``: the area code of each row when the table is keyed by area
    (maps); ``None`` when the codes are one of the columns (or absent).
    """

    source: str
    columns: dict[str, list[Any]]
    codes: list[str] | None = None

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


@dataclass
class Artefact:
    """One published file: its tables, its text and the disclosure footer it carries."""

    path: Path
    kind: str
    tables: list[PublishedTable] = field(default_factory=list)
    text: str = ""
    problems: list[str] = field(default_factory=list)
    #: One artefact per period of a time map in this file (named ``<map>:<period>.html``): each
    #: period shows its own counts, so each is its own family for the auditor.
    periods: list[Artefact] = field(default_factory=list)
    #: The provenance footer published beside the file (a CSV's sidecar ``dc:source``), if any.
    footer: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def disclosure(self) -> tuple[str, str] | None:
        """``(policy name, summary)`` from the provenance footer (in the file or its sidecar), if any."""
        m = FOOTER_RE.search(self.footer) if self.footer else None
        m = m or FOOTER_RE.search(self.text)
        return (m.group(1), m.group(2) or "") if m else None


# --------------------------------------------------------------------------- formats
def _read_csv(path: Path) -> Artefact:
    text = path.read_text(encoding="utf-8", errors="replace")
    body = [line for line in text.splitlines() if not line.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(body))))
    art = Artefact(path, "csv", text=text)
    _read_sidecar(art)
    if rows:
        art.tables.append(_table(f"{path.name}", rows[0], rows[1:]))
    return art


def _read_sidecar(art: Artefact) -> None:
    """The footer in the CSV's metadata sidecar (written by :func:`gangmap.export.to_csv`), as UTF-8."""
    from ..export import metadata_path

    side = metadata_path(art.path)
    if not side.is_file():
        return
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        art.problems.append(f"its metadata sidecar {side.name} is not UTF-8 JSON ({exc})")
        return
    source = meta.get("dc:source") if isinstance(meta, dict) else None
    if isinstance(source, str):
        art.footer = source


def _table(source: str, header: list, rows: list[list]) -> PublishedTable:
    names = [str(h) if h is not None else f"column {i + 1}" for i, h in enumerate(header)]
    cols: dict[str, list] = {n: [] for n in names}
    for row in rows:
        if not any(v not in (None, "") for v in row):
            continue
        for i, n in enumerate(names):
            cols[n].append(row[i] if i < len(row) else None)
    return PublishedTable(source, cols)


def _read_xlsx(path: Path) -> Artefact:
    import openpyxl

    art = Artefact(path, "xlsx")
    wb = openpyxl.load_workbook(path, read_only=False, data_only=True)
    texts = []
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        texts += [str(v) for r in rows for v in r if v is not None]
        for part in (ws.oddHeader.center.text, ws.oddFooter.center.text):
            if part:
                texts.append(part)
        if len(rows) > 1 and ws.title.lower() != "about":
            art.tables.append(_table(f"{path.name}:{ws.title}", rows[0], rows[1:]))
    art.text = "\n".join(texts)
    return art


class _Tables(HTMLParser):
    """Every <table> of a page as rows of cell text, and the page's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.text: list[str] = []
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th") and self._cell is not None and self._stack and self._stack[-1]:
            self._stack[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _layer_column(layer: dict) -> str:
    if layer.get("column"):
        return str(layer["column"])
    ident = str(layer.get("id", ""))
    if ident.startswith("area-"):
        return ident[len("area-"):]
    return str(layer.get("name") or ident)


def _codes(data: Any) -> list[str] | None:
    """The first list called ``codes`` in the JSON (the areas, in the order every value list follows)."""
    if isinstance(data, dict):
        if isinstance(data.get("codes"), list):
            return [str(c) for c in data["codes"]]
        for v in data.values():
            found = _codes(v)
            if found is not None:
                return found
    elif isinstance(data, list):
        for v in data:
            found = _codes(v) if isinstance(v, (dict, list)) else None
            if found is not None:
                return found
    return None


def _names_for(data: Any, codes: list[str] | None) -> list[str] | None:
    """The list called ``names`` beside the codes (same length), if any."""
    if not codes or not isinstance(data, dict):
        return None
    for v in data.values():
        if isinstance(v, dict) and isinstance(v.get("codes"), list) and isinstance(v.get("names"), list) \
                and len(v["names"]) == len(codes):
            return [str(x) for x in v["names"]]
    return None


def _value_lists(layer: dict, n: int) -> dict[str, list]:
    out: dict[str, list] = {}
    if isinstance(layer.get("values"), list) and len(layer["values"]) == n:
        out[_layer_column(layer)] = layer["values"]
    for extra in layer.get("extra", []) or []:
        if isinstance(extra, dict) and isinstance(extra.get("values"), list) and len(extra["values"]) == n:
            out[_layer_column(extra)] = extra["values"]
    return out


def _period_artefacts(path: Path, text: str, layer: dict, codes: list[str]) -> list[Artefact]:
    """A time layer's values, period by period, each as an artefact ``<map>:<period>.html``."""
    out = []
    values = layer.get("values") or []
    for i, period in enumerate(layer["periods"]):
        one = {"column": layer.get("column"), "id": layer.get("id"),
               "values": values[i] if i < len(values) else None,
               "extra": [{"name": x.get("name"), "column": x.get("column"), "values": x["values"][i]}
                         for x in layer.get("extra", []) or [] if isinstance(x, dict)
                         and isinstance(x.get("values"), list) and i < len(x["values"])]}
        cols = _value_lists(one, len(codes))
        if cols:
            fake = path.with_name(f"{path.stem}:{period}{path.suffix}")
            out.append(Artefact(fake, "html-map", [PublishedTable(f"{fake.name}:{layer.get('id')}", cols, codes)],
                                text=text))
    return out


def _read_html(path: Path) -> Artefact:
    raw = path.read_text(encoding="utf-8", errors="replace")
    parser = _Tables()
    parser.feed(raw)
    art = Artefact(path, "html", text=html.unescape(" ".join(parser.text)))
    m = _GM_DATA.search(raw)
    if m:
        art.kind = "html-map"
        try:
            data = json.loads(m.group(1))
        except json.JSONDecodeError as exc:
            art.problems.append(f"the map's embedded data is not valid JSON ({exc})")
            data = {}
        codes = _codes(data)
        art.text += "\n" + m.group(1)
        names = _names_for(data, codes)
        if codes and names:
            art.tables.append(PublishedTable(f"{path.name}:areas", {"name": names}, codes))
        if codes:
            for layer in data.get("layers", []) if isinstance(data, dict) else []:
                if isinstance(layer, dict) and isinstance(layer.get("periods"), list):
                    art.periods += _period_artefacts(path, art.text, layer, codes)
                elif isinstance(layer, dict) and (cols := _value_lists(layer, len(codes))):
                    art.tables.append(PublishedTable(f"{path.name}:{layer.get('id', 'layer')}", cols, codes))
        else:
            art.problems.append("the map's embedded data names no area codes")
    for i, rows in enumerate(parser.tables, 1):
        if len(rows) > 1:
            art.tables.append(_table(f"{path.name}:table {i}", rows[0], rows[1:]))
    return art


def read_artefact(path: str | Path) -> Artefact:
    """Read one published file (CSV, XLSX, HTML map, HTML page; anything else as bytes for scanning)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".html", ".htm"):
        return _read_html(path)
    data = path.read_bytes()
    try:  # JSON sidecars and other text are UTF-8; only binary files (PNG) are read byte for byte
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return Artefact(path, suffix.lstrip(".") or "file", text=text)


def read_pack(folder_or_files: str | Path | list) -> list[Artefact]:
    """Every file of a pack folder (sorted), or the files given, read back."""
    if isinstance(folder_or_files, (str, Path)) and Path(folder_or_files).is_dir():
        files = sorted(p for p in Path(folder_or_files).rglob("*") if p.is_file())
    elif isinstance(folder_or_files, (str, Path)):
        files = [Path(folder_or_files)]
    else:
        files = [Path(p) for p in folder_or_files]
    out = []
    for p in files:
        art = read_artefact(p)
        out += [art, *art.periods]
    return out
