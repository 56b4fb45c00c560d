"""Reading a CSV or XLSX file into a frame of text, and explaining what is wrong with it.

Why not just ``pandas.read_csv``? Analysts' files break it in ways that
pandas either hides or reports as something else:

* a title above the header (``Reports by ward``, ``Produced 01/04/2018``, a
  blank line) was reported as a repeated header or an unquoted comma; here the
  header is found (the first row naming known columns, or the first row with
  two or more cells under single-cell title lines) and the lines above it are
  skipped with a note;
* empty columns at the right (``ward_code,count,,,`` from Excel) are dropped
  with a note, not taken for shifted values; but rows with an extra field
  that the other rows do not have (a trailing comma on some rows, an extra
  comma that pushes values into an unnamed column) are an error naming
  their lines, since their values may sit under the wrong columns;
* a stray double quote swallows the rest of the file into one value; here it is
  a one-line error naming the line;
* Mac CR-only line ends, UTF-16 "Unicode text" (tab separated), cp1252 lines
  and decomposed accents are read (see :mod:`gangmap.io.text`);
* a workbook with several sheets is read only with ``sheet=``, and the error
  lists the sheets.

Every value stays text (``""`` becomes missing); the readers parse numbers,
codes and months themselves so they can name the row of a bad value. Row 1 is
the first row under the header.

Examples
--------
>>> t = load_table_text("Reports by ward\\n\\nward_code,count,,\\nE05000001,3,,\\n", "x.csv")
>>> list(t.frame.columns), t.frame["count"].tolist()
(['ward_code', 'count'], ['3'])
>>> t.notes[0]
'lines 1, 2 above the header (line 3) look like a title and were skipped'
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .columns import columns_text, is_known_column
from .text import clean_text, decode_bytes, describe_lines, normalise

__all__ = ["Table", "load_table", "load_table_text", "read_table", "TEXT_SUFFIXES", "EXCEL_SUFFIXES"]

#: File names read as Excel workbooks; every other name is read as text.
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: Names whose text may be tab separated (Excel's "Unicode text" is always UTF-16 and tab separated).
TEXT_SUFFIXES = (".tsv", ".tab", ".txt")
_HEADER_SEARCH = 30  # rows searched for the header under a title
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Table:
    """A table read from one file (or given as a DataFrame), every value text.

    Attributes
    ----------
    frame : DataFrame
        One row per data row (blank lines kept as empty rows, so row numbers
        stay those of the file), values text or missing.
    source : str
        The file (``"book.xlsx[Data]"`` for a sheet), or ``"<DataFrame>"``.
    notes : tuple of str
        What was done to read it (encoding fallbacks, title lines skipped,
        empty columns dropped).
    """

    frame: pd.DataFrame
    source: str
    notes: tuple[str, ...] = field(default=())


def read_table(path_or_df, *, what: str = "input", sheet=None) -> tuple[pd.DataFrame, str]:
    """Read a CSV/XLSX file (or take a DataFrame) as text; return ``(frame, source)``.

    Kept for callers that need only the frame; :func:`load_table` also
    returns the notes.
    """
    table = load_table(path_or_df, what=what, sheet=sheet)
    return table.frame, table.source


def load_table(path_or_df, *, what: str = "input", sheet=None) -> Table:
    """Read a CSV/XLSX file, or take a DataFrame or :class:`Table`, as a :class:`Table`.

    Parameters
    ----------
    path_or_df : str, Path, DataFrame or Table
        A CSV (any of the encodings of :mod:`gangmap.io.text`; tab separated
        when it is UTF-16 or named ``.tsv``/``.tab``/``.txt``) or an
        ``.xlsx``/``.xlsm`` workbook.
    what : str
        What the file should hold, for messages (``"reports"``).
    sheet : str or int, optional
        The worksheet (name, or 0-based position) of a workbook with more than
        one sheet holding data.

    Raises
    ------
    InputError
        A missing, empty, binary or malformed file, a header without data, a
        workbook whose sheet is not given or not found; the message names the
        file, the line and the fix.
    """
    if isinstance(path_or_df, Table):
        return path_or_df
    if isinstance(path_or_df, pd.DataFrame):
        return Table(path_or_df.reset_index(drop=True).copy(), "<DataFrame>")
    if type(path_or_df).__name__ == "Intake":
        raise InputError(f"{what} is already an Intake; pass it to gangmap.join directly.")
    if not isinstance(path_or_df, (str, Path)):
        raise InputError(f"{what} must be a file path or a DataFrame, not {type(path_or_df).__name__}.")
    path = Path(path_or_df)
    source = str(path)
    if not path.exists():
        raise InputError(f"{source}: file not found. Check the path.")
    if path.is_dir():
        raise InputError(f"{source}: is a folder; give the {what} file inside it.")
    if path.stat().st_size == 0:
        raise InputError(f"{source}: the file is empty. Export the {what} again with a header row.")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _load_workbook(path, source, what, sheet)
    if sheet is not None:
        raise InputError(f"{source}: sheet={sheet!r} was given but this is not an Excel workbook (.xlsx).")
    return load_table_text(path.read_bytes(), source, what=what, tabs=path.suffix.lower() in TEXT_SUFFIXES)


def load_table_text(data: bytes | str, source: str, *, what: str = "input", tabs: bool = False) -> Table:
    """A :class:`Table` from the bytes (or text) of a CSV file; ``tabs`` allows tab separation."""
    notes: tuple[str, ...] = ()
    if isinstance(data, str):
        text, tabs_ok = normalise(data), tabs
    else:
        decoded = decode_bytes(data, source, what)
        text, notes = decoded.text, decoded.notes
        tabs_ok = tabs or decoded.encoding in ("utf-16", "utf-32")
    if not text.strip():
        raise InputError(f"{source}: the file has no header row or data (only blank lines). Export the {what} "
                         "again with a header row.")
    if _HTML.match(text):
        raise InputError(f"{source}: this is an HTML (web) page, not a table: often a server's error page or a "
                         f"sign-in page saved in place of the download. Download the {what} again (open the "
                         "link in a browser to see what it says), or export it as CSV.")
    delimiter = "\t" if tabs_ok and _tab_separated(text) else ","
    rows, spans = _parse(text, source, delimiter)
    return _from_rows(rows, spans, source, what, notes, quoted_check=(text, delimiter))


#: The start of a web page saved under a table's name (an error or sign-in page).
_HTML = re.compile(r"\s*(?:<!doctype\s+html|<html[\s>]|<\?xml[^>]*>\s*<html)", re.IGNORECASE)


def _tab_separated(text: str) -> bool:
    first = next((line for line in _LINE_BREAK.split(text) if line.strip()), "")
    return first.count("\t") > first.count(",")


def _parse(text: str, source: str, delimiter: str) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """Records and the (first, last) physical line of each."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, spans, last = [], [], 0
    try:
        with gc_paused():
            for row in reader:
                rows.append(row)
                spans.append((last + 1, reader.line_num))
                last = reader.line_num
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):  # a stray quote swallowing more than 128 kB
            raise InputError(f"{source}: line {last + 1}: a double quote opens a value that runs on for more than "
                             f"{csv.field_size_limit():,} characters, probably a stray quote. Remove it, or close the "
                             "quote, and try again.") from None
        raise InputError(f"{source}: line {reader.line_num + 1}: not a well-formed CSV ({exc}). Check the delimiter "
                         "is a comma and quoted values are closed.") from None
    return rows, spans


@contextlib.contextmanager
def gc_paused():
    """Pause the garbage collector while many small lists are built (full collections made reading slow)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _from_rows(rows: list[list[str]], spans, source: str, what: str, notes=(), quoted_check=None) -> Table:
    """Header found, structure checked, frame built (shared by CSV and XLSX)."""
    notes = list(notes)
    end = len(rows)
    while end and not any(c.strip() for c in rows[end - 1]):  # trailing blank lines
        end -= 1
    rows, spans = rows[:end], spans[:end]
    if not rows:
        raise InputError(f"{source}: the file has no header row or data. Export the {what} again with a header row.")
    if quoted_check is not None:
        _check_delimiter(rows, source)
    h = find_header(rows)
    if h:
        notes.append(f"{describe_lines(range(spans[0][0], spans[h][0]))} above the header (line {spans[h][0]}) "
                     "look like a title and were skipped")
    header, body, body_spans = rows[h], rows[h + 1:], spans[h + 1:]
    if quoted_check is not None:
        _check_quotes(body, body_spans, len(header), source, *quoted_check)
    names, keep, more = _columns(header, body, body_spans, source)
    notes.extend(more)
    if not body:
        raise InputError(f"{source}: the file has a header ({columns_text(names)}) but no data rows. Export the "
                         f"{what} again with its rows; a {what} file with nothing to count is not read as zeros.")
    with gc_paused():
        cells = _matrix(body, keep, len(header))
    cells[cells == ""] = None
    return Table(pd.DataFrame(cells, columns=names, dtype="string"), source, tuple(notes))


def _matrix(body: list[list[str]], keep: list[int], width: int) -> np.ndarray:
    """The kept columns of the rows as a 2-D object array (short rows padded with "")."""
    if keep == list(range(width)) and all(len(r) == width for r in body):
        return np.array(body, dtype=object).reshape(len(body), width)
    return np.array([[r[j] if j < len(r) else "" for j in keep] for r in body], dtype=object).reshape(
        len(body), len(keep))


def find_header(rows: list[list[str]]) -> int:
    """Index of the header row: 0 unless title lines sit above it.

    The first non-blank row is the header when it has two or more cells and
    names a known column. Otherwise the header is the first row (of the first
    30) naming two or more known columns (``ward_code``, ``Month``, ``WD24CD``
    ...): the rows above it are a title, even one with a comma or a word such
    as "Reports". Failing that, it is the first row with two or more cells
    under single-cell (title) rows, or the first row.
    """
    width = [sum(1 for c in r if c.strip()) for r in rows[:_HEADER_SEARCH]]
    known = [sum(1 for c in r if is_known_column(clean_text(c))) for r in rows[:_HEADER_SEARCH]]
    first = next((i for i, w in enumerate(width) if w), 0)
    if known[first] and width[first] >= 2:
        return first
    for i in range(first + 1, len(width)):
        if known[i] >= 2:
            return i
    if width[first] >= 2:
        return first
    wide = next((i for i, w in enumerate(width) if w >= 2), None)
    return first if wide is None else wide


def _check_delimiter(rows: list[list[str]], source: str) -> None:
    """Most rows one cell holding ';', tab or '|': the file is not comma separated."""
    cells = [[c for c in r if c.strip()] for r in rows[:_HEADER_SEARCH]]
    cells = [c for c in cells if c]
    other = [c[0] for c in cells if len(c) == 1 and any(d in c[0] for d in ";\t|")]
    if cells and len(other) * 2 >= len(cells):
        raise InputError(f"{source}: only one column found ({clean_text(other[0])[:60]!r}); the file seems to use "
                         "';', tab or '|' as delimiter. Save it as comma-separated CSV.")


def _columns(header, body, spans, source) -> tuple[list[str], list[int], list[str]]:
    """Column names kept, their positions, and notes; unnamed empty columns dropped."""
    names = [clean_text(c) for c in header]
    used = [any(j < len(r) and r[j].strip() for r in body) for j in range(len(names))]
    for r, (line, _) in zip(body, spans):
        if len(r) > len(names) and any(c.strip() for c in r[len(names):]):
            raise InputError(f"{source}: line {line} has {len(r)} fields but the header has {len(names)}: a value "
                             "probably contains an unquoted comma, which shifts the values after it. Put such values "
                             'in double quotes (e.g. "Rushden, East") and try again.')
    _check_shifted(names, body, spans, source)
    keep: list[int] = []
    out: list[str] = []
    notes: list[str] = []
    keep, out, notes = [], [], []
    empty = [j + 1 for j, (n, u) in enumerate(zip(names, used)) if not n and not u]
    for j, (n, u) in enumerate(zip(names, used)):
        if n:
            keep.append(j)
            out.append(n)
        elif u:
            keep.append(j)
            out.append(f"column {j + 1}")
            notes.append(f"column {j + 1} has values but no name in the header; it is called 'column {j + 1}'")
    if empty:
        notes.append(f"{len(empty)} empty column(s) without a name (position {', '.join(map(str, empty[:10]))}) "
                     "were ignored")
    dups = sorted({n for n in out if out.count(n) > 1})
    if dups:
        raise InputError(f"{source}: the header repeats column(s) {dups}; give each column its own name.")
    return out, keep, notes


def _shifted_lines(names: list[str], body, spans) -> list[int]:
    """Lines whose values are probably shifted by an extra empty field (see :func:`_check_shifted`)."""
    n = len(names)
    exact = any(len(r) == n for r in body)
    unnamed = [j for j, name in enumerate(names) if not name]
    partly = [j for j in unnamed if any(j < len(r) and r[j].strip() for r in body)
              and any(j >= len(r) or not r[j].strip() for r in body)]
    lines = []
    for r, (line, _) in zip(body, spans):
        longer = exact and len(r) > n and any(c.strip() for c in r)
        into_unnamed = any(j < len(r) and r[j].strip() for j in partly) and any(
            not r[j].strip() for j in range(min(len(r), n)) if names[j])
        if longer or into_unnamed:
            lines.append(line)
    return lines


def _check_shifted(names: list[str], body, spans, source: str) -> None:
    """Refuse rows shifted by an extra empty field, naming their lines.

    ``E05100002,,Bar,4`` under ``ward_code,name,count`` (an extra comma) puts
    every value after it one column to the right. When the field pushed out
    at the end is empty (a trailing comma on some rows only, or an empty
    column the header does not name), pandas and the first release read the
    row silently with its values under the wrong columns (a place name as the
    crime type). Such rows are: rows longer than the header (only empty
    fields beyond it) in a file where other rows have the header's length,
    and rows with a value in a column the header does not name, which other
    rows leave empty, while a named field of theirs is empty. Excel's padding
    (every row ending in the same empty fields) is not refused.

    Raises
    ------
    InputError
        Naming the first lines and the fix.
    """
    lines = _shifted_lines(names, body, spans)
    if lines:
        shown = ", ".join(map(str, lines[:8])) + (f" and {len(lines) - 8} more" if len(lines) > 8 else "")
        raise InputError(f"{source}: line(s) {shown} have an extra field (an extra or trailing comma) that the other "
                         "lines and the header do not have, so their values may sit under the wrong columns. "
                         "Remove the extra comma on those lines (or name the column in the header), and try again.")


def _check_quotes(body, spans, ncols: int, source: str, text: str, delimiter: str) -> None:
    """A value over several lines that swallows whole rows (or the file's end) is a stray quote."""
    lines = None
    for row, (first, last) in zip(body, spans):
        if first == last:
            continue
        tails = [part for value in row if "\n" in value or "\r" in value for part in _LINE_BREAK.split(value)[1:]]
        rowlike = ncols >= 2 and any(t.count(delimiter) >= ncols - 1 for t in tails)
        if lines is None:
            lines = _LINE_BREAK.split(text)
        unclosed = sum(line.count('"') for line in lines[first - 1:last]) % 2 == 1
        if rowlike or unclosed:
            end = "the end of the file" if unclosed else f"line {last}"
            raise InputError(f"{source}: line {first}: a double quote opens a value that runs to {end} "
                             f"({last - first + 1} lines), probably a stray quote. Remove it, or close the quote, "
                             "and try again.")
    tail = text.rstrip("\r\n")
    final = tail[max(tail.rfind("\n"), tail.rfind("\r")) + 1:]
    if body and spans[-1][0] == spans[-1][1] and final.count('"') % 2 == 1:
        raise InputError(f"{source}: line {spans[-1][0]}: a double quote opens a value that is never closed, "
                         "probably a stray quote. Remove it, or close the quote, and try again.")


# ---------------------------------------------------------------------------- workbooks
def _load_workbook(path: Path, source: str, what: str, sheet) -> Table:
    try:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors for a damaged file
        msg = str(exc).strip().split("\n")[0][:200]
        raise InputError(f"{source}: cannot read as an Excel workbook ({type(exc).__name__}: {msg}). Save it as "
                         "CSV (UTF-8) and try again.") from None
    try:
        name, rows = _sheet_rows(book, source, sheet, what)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{source}: cannot read the workbook's cells ({type(exc).__name__}). Save it as CSV "
                         "(UTF-8) and try again.") from None
    finally:
        book.close()
    label = f"{source}[{name}]" if len(book.sheetnames) > 1 else source
    if not rows:
        raise InputError(f"{label}: the sheet is empty. Export the {what} again with a header row.")
    spans = [(i, i) for i in range(1, len(rows) + 1)]
    return _from_rows(rows, spans, label, what)


def _sheet_rows(book, source: str, sheet, what: str = "input") -> tuple[str, list[list[str]]]:
    from .options import pass_hint  # the keyword and its command-line flag

    names = list(book.sheetnames)
    if sheet is not None:
        chosen = names[sheet] if isinstance(sheet, int) and -len(names) <= sheet < len(names) else sheet
        if chosen not in names:
            raise InputError(f"{source}: no sheet {sheet!r}; the workbook's sheets are "
                             f"{', '.join(map(repr, names))}. Pass {pass_hint(what, 'sheet', 'NAME')} with one of "
                             "them.")
        return chosen, _cells(book[chosen])
    filled = {}
    for name in names:
        rows = _cells(book[name])
        if rows:
            filled[name] = rows
    if len(filled) > 1:
        shown = ", ".join(f"{n!r} ({len(r)} rows)" for n, r in filled.items())
        raise InputError(f"{source}: the workbook has {len(filled)} sheets with data: {shown}. Pass "
                         f"{pass_hint(what, 'sheet', 'NAME')} to say which to read.")
    return next(iter(filled.items()), (names[0] if names else "", []))


def _cells(ws) -> list[list[str]]:
    rows = [[cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    while rows and not any(rows[-1]):
        rows.pop()
    return rows


def cell_text(value) -> str:
    """One Excel cell as text: whole numbers without ``.0``, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d") if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return normalise(value) if isinstance(value, str) else str(value)
