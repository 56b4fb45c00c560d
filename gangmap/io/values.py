"""Numbers and keys in text cells: counts, coordinates, codes and names.

Why strict? A count read wrongly is worse than a count refused: the first
release read ``"3,5"`` as 35. The rules:

* a count is a whole number from 0 to a trillion (``"3"``, ``"3.0"``,
  ``"1e3"``); other values are rejected rows, each with its row number and
  value;
* thousands separators are read where they cannot be anything else:
  ``"1,234"`` and ``"12,345,678"`` (groups of exactly three digits after a
  first group of one to three digits that does not start with 0) and
  ``"1 234"`` (spaces, including no-break and thin spaces);
* a *decimal comma* (``"3,5"``, ``"0,75"``, ``"0,750"``, ``"1,2345"``: any
  comma not in such thousands) is an error for the whole file, naming the
  first row and value: a file written with decimal commas makes every
  ``"1,234"`` in it ambiguous (1.234 or 1234), so none of its numbers is
  guessed. Latitudes and longitudes never have thousands, so any comma in
  them is a decimal comma;
* a *thousands dot* is the same trap the other way round. In a count column
  (counts, population), a value with two or more dots in groups of three
  (``"1.000.000"``) is an error for the file; so is a value with one dot
  followed by exactly three digits (``"1.000"``, ``"12.000"``, ``"1.500"``:
  1 or 1000?) unless the column shows that its dot is a decimal point, that
  is, another value has a dot that cannot be a thousands dot (``"12.0"``,
  ``"0.000"``, ``"1234.000"``, ``"3.25"``). ``"12.0"`` is read as 12; a
  count that is not whole (``"1.5"``) is a rejected row.

Keys (codes, names, URNs) are cleaned text: NFC-normalised, control
characters removed, spaces trimmed; codes upper-cased.

Examples
--------
>>> import pandas as pd
>>> bad = []
>>> parse_counts(pd.Series(["3", "1,234", "2.5", None]), "count", pd.Series([1, 2, 3, 4]), bad, "x.csv").tolist()
[3.0, 1234.0, nan, nan]
>>> [r for r, _ in bad]
[3, 4]
>>> parse_counts(pd.Series(["3,5"]), "count", pd.Series([1]), [], "x.csv")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
gangmap.errors.InputError: x.csv: row 1: count is '3,5', a decimal comma (3.5?); counts must be whole ...
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import InputError
from .text import clean_series

__all__ = ["parse_counts", "parse_numbers", "key_values", "text_values", "check_decimal_commas",
           "check_thousands_dots", "MAX_COUNT"]

#: The largest count read (a trillion); larger values are rejected rows, not overflowed integers.
MAX_COUNT = 10**12
_THOUSANDS = re.compile(r"^[+]?[1-9]\d{0,2}(,\d{3})+$")
_SPACED = re.compile(r"^[+]?[1-9]\d{0,2}([ \u00a0\u202f\u2009]\d{3})+$")
_DOT_GROUPS = re.compile(r"^[+]?[1-9]\d{0,2}(\.\d{3})+$")  # 1.000 or 1.000.000: maybe thousands dots
_DOTS = re.compile(r"^[+]?[1-9]\d{0,2}(\.\d{3}){2,}$")  # 1.000.000: thousands dots for sure
_DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+$")


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def check_decimal_commas(values: pd.Series, column: str, rows: pd.Series, source: str, *,
                         thousands: bool = True, what: str = "counts must be whole numbers") -> None:
    """Raise :class:`InputError` at the first decimal comma in ``values`` (see the module docstring)."""
    s = _text(values)
    has_comma = s.str.contains(",", regex=False).fillna(False).to_numpy(dtype=bool)
    if not has_comma.any():
        return
    dec = s.str.match(_DECIMAL_COMMA).fillna(False).to_numpy(dtype=bool) & has_comma
    if thousands:
        dec &= ~s.str.match(_THOUSANDS).fillna(False).to_numpy(dtype=bool)
    if dec.any():
        i = int(dec.argmax())
        value = str(s.iloc[i])
        raise InputError(f"{source}: row {int(rows.iloc[i])}: {column} is {value!r}, a decimal comma "
                         f"({value.replace(',', '.')}?); {what}, so the file's numbers cannot be trusted "
                         "(is 1,234 a thousand?). Export it with whole numbers and no decimal commas, then try again."
                         if thousands else
                         f"{source}: row {int(rows.iloc[i])}: {column} is {value!r}, a decimal comma; write "
                         f"{value.replace(',', '.')} (a decimal point) and try again.")


def check_thousands_dots(values: pd.Series, column: str, rows: pd.Series, source: str) -> None:
    """Raise :class:`InputError` at the first count that may hold a thousands dot (see the module docstring).

    Only text is checked: numbers given as numbers (a DataFrame column of
    floats) carry no separator.
    """
    if pd.api.types.is_numeric_dtype(values.dtype):
        return
    s = _text(values.astype("object"))
    dotted = s.str.contains(".", regex=False).fillna(False).to_numpy(dtype=bool)
    if not dotted.any():
        return
    d, d_rows = s[dotted], rows[dotted]
    sure = d.str.match(_DOTS).fillna(False).to_numpy(dtype=bool)
    groups = d.str.match(_DOT_GROUPS).fillna(False).to_numpy(dtype=bool)
    decimal_point = bool((~groups).any())
    ambiguous = sure | (groups & ~decimal_point)
    if not ambiguous.any():
        return
    i = int(ambiguous.argmax())
    value = str(d.iloc[i])
    why = ("dots as thousands separators" if sure[i] else
           f"a thousands dot ({value.replace('.', '')}) or a decimal point ({float(value):g}): no other value of "
           "the column shows which")
    raise InputError(f"{source}: row {int(d_rows.iloc[i])}: {column} is {value!r}, with {why}; counts must be "
                     "whole numbers, so none of the column's dotted numbers can be trusted. Export the counts as "
                     "whole numbers without thousands separators (1000, not 1.000), then try again.")


def parse_numbers(values: pd.Series, column: str, rows: pd.Series, source: str, *,
                  thousands: bool = True, what: str = "numbers must use a decimal point") -> pd.Series:
    """Numbers (float, NaN when not a number), after the decimal-comma check; thousands read where unambiguous.

    Plain numbers are read at once; only the values that are not (a comma, a
    space inside, a word) go through the checks.
    """
    num = pd.to_numeric(values.astype("object"), errors="coerce").astype("float64")
    odd = (num.isna() & values.notna()).to_numpy()
    if not odd.any():
        return num
    rest, rest_rows = values[odd], rows[odd]
    check_decimal_commas(rest, column, rest_rows, source, thousands=thousands, what=what)
    s = _text(rest)
    if thousands:
        grouped = s.str.match(_THOUSANDS).fillna(False) | s.str.match(_SPACED).fillna(False)
        s = s.where(~grouped, s.str.replace(r"[,\s\u00a0\u202f\u2009]", "", regex=True))
    num[odd] = pd.to_numeric(s.astype("object"), errors="coerce").astype("float64").to_numpy()
    return num


def parse_counts(values: pd.Series, column: str, rows: pd.Series, bad: list, source: str) -> pd.Series:
    """Whole numbers from 0 to :data:`MAX_COUNT` (float, NaN where rejected); bad rows are added to ``bad``."""
    check_thousands_dots(values, column, rows, source)
    num = parse_numbers(values, column, rows, source, what="counts must be whole numbers")
    finite = num.notna() & np.isfinite(num.fillna(0))
    whole = num.where(finite, 0)
    ok = finite & (num >= 0) & (np.floor(whole) == whole)
    for r, v in zip(rows[~ok], values[~ok]):
        shown = "blank" if pd.isna(v) or str(v).strip() == "" else repr(v)
        bad.append((int(r), f"{column} is {shown}: counts must be whole numbers 0 or more"))
    huge = ok & (num > MAX_COUNT)
    for r, v in zip(rows[huge], values[huge]):
        bad.append((int(r), f"{column} is {str(v).strip()!r}: too large to be a count (more than {MAX_COUNT:,})"))
    return num.where(ok & ~huge)


def text_values(values: pd.Series) -> pd.Series:
    """Clean text (NFC, no control characters, trimmed); blank is missing."""
    return clean_series(values)


def key_values(values: pd.Series, column: str, rows: pd.Series, bad: list, *, upper: bool = False) -> pd.Series:
    """The clean values of a key column (code, name, URN); blank ones are added to ``bad``."""
    s = clean_series(values, upper=upper)
    for r in rows[s.isna().to_numpy()]:
        bad.append((int(r), f"{column} is blank"))
    return s
