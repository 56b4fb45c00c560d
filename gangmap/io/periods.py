"""Months in every format analysts' files hold, read as ``YYYY-MM`` or refused by row.

Why so many formats? The same month reaches gangmap as ``2018-03`` (police.uk),
``Mar-18`` (that file re-saved by Excel), ``01/03/2018`` (Excel in a UK
locale), ``43160`` (an Excel date in a cell formatted as a number),
``2018-03-01 00:00:00`` (a workbook date) and ``March 2018`` (typed). The first
release turned ``Mar-18`` into ``0001-03`` and ``2018`` into ``2018-01``.

Read (case and spacing ignored):

============================  =========================================
``2018-03``, ``2018/03``      ISO year-month (also ``2018M03``, ``201803``)
``2018-03-01`` (+ time)       ISO date (the day is checked)
``01/03/2018``, ``1.3.18``    day/month/year, UK order; 2-digit years
``03/2018``                   month/year
``Mar-18``, ``Mar 2018``      month name (short or long) and year
``March 2018``, ``2018 Mar``
``1-Mar-18``, ``1 March 2018``
``43160``                     Excel serial date (days since 1899-12-30)
============================  =========================================

Two-digit years are 2000-2068 for ``00``-``68`` and 1969-1999 otherwise
(Python's rule). Years outside 1950-2099 are refused.

Refused with the row and value (never guessed): a quarter (``Q1 2018``,
``2018 Q1``; gangmap counts by month, so give the months), a bare year
(``2018``), a financial year (``2018/19``, ``FY 2018-19``, and so also
``2002/03``: write March 2002 as ``2002-03``), a day and month without a year
(``18-Mar``), an impossible date (``2018-02-30``), and anything else. A
column in which no value at all is a month is an error.

Day first or month first? ``01/03/2018`` is March in the UK and January in
the US, so the order is decided over the whole column, never value by value:
a value like ``15/03/2018`` shows day first, one like ``03/15/2018`` month
first (a column showing both is an error). A column where no value shows it
is read day first (the UK order) with a note saying so, except when its
second number never changes while the first does (``3/1/2018``,
``4/1/2018``, ``12/1/2018``: US month starts, or three days of January?),
which is an error. ``dayfirst=`` (command line ``--day-first`` /
``--month-first``) says which. A blank month keeps its row in totals, in no
month, with a note.

Examples
--------
>>> import pandas as pd
>>> bad = []
>>> parse_periods(pd.Series(["Mar-18", "March 2018", "43160", "01/03/2018", "Q1 2018"]), "month",
...               pd.Series([1, 2, 3, 4, 5]), bad, "x.csv").tolist()
['2018-03', '2018-03', '2018-03', '2018-03', <NA>]
>>> bad
[(5, "month is 'Q1 2018': a quarter, not a month; give the month (e.g. 2018-01) of each row")]
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from ..errors import InputError
from .options import pass_hint

__all__ = ["parse_period", "parse_periods", "date_order", "MONTHS"]

#: Month names and abbreviations (lower case) -> month number.
MONTHS = {name: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
     ("nov", "november"), ("dec", "december")], start=1) for name in names}
_MON = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
_Y = r"(\d{4}|\d{2})"
_TIME = r"(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:am|pm)?)?"
_EXCEL_EPOCH = dt.date(1899, 12, 30)

# (pattern, order of the groups): y = year, m = month number, b = month name, d = day.
_FORMATS = [
    (re.compile(r"^(\d{4})[-/.](\d{1,2})$"), "ym"),
    (re.compile(r"^(\d{4})m(\d{1,2})$"), "ym"),
    (re.compile(r"^(\d{4})(\d{2})$"), "ym"),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + "$"), "ymd"),
    (re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-]" + _Y + _TIME + "$"), "dmy"),
    (re.compile(r"^(\d{1,2})[/.\-](\d{4})$"), "my"),
    (re.compile("^" + _MON + r"\.?[\s\-/.,']*" + _Y + "$"), "by"),
    (re.compile(r"^(\d{4})[\s\-/.]*" + _MON + r"\.?$"), "yb"),
    (re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s\-/.]*" + _MON + r"\.?[\s\-/.,']*" + _Y + _TIME + "$"), "dby"),
    (re.compile("^" + _MON + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$"), "bdy"),
]
_REFUSED = [
    (re.compile(r"^(q[1-4]\b.*|.*\bq[1-4]|.*\bquarter\b.*|[1-4](st|nd|rd|th) quarter.*)$"),
     "a quarter, not a month; give the month (e.g. 2018-01) of each row"),
    (re.compile(r"^(fy\s*)?\d{4}\s*[/-]\s*\d{2}(\d{2})?$"),
     "a financial year, not a month; give the month of each row"),
    (re.compile(r"^(fy\s*)?\d{4}$"), "a year, not a month; give the month (e.g. 2018-03) of each row"),
    (re.compile(r"^(\d{1,2}[\s\-/.]*" + _MON + "|" + _MON + r"[\s\-/.]*\d{1,2}(st|nd|rd|th)?)$"),
     "a day and month without a year; format the column as mmm-yy or yyyy-mm"),
]


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        y += 2000 if y <= 68 else 1900
    return y


def _month(parts: dict) -> str | None:
    """``YYYY-MM`` from the parts, or None if impossible."""
    y = _year(parts["y"])
    m = MONTHS[parts["b"]] if "b" in parts else int(parts["m"])
    if not (1950 <= y <= 2099 and 1 <= m <= 12):
        return None
    if "d" in parts:
        try:
            dt.date(y, m, int(parts["d"]))
        except ValueError:
            return None
    return f"{y:04d}-{m:02d}"


def _serial(text: str) -> str | None:
    """An Excel serial date (a number of days between 1927 and 2173) as ``YYYY-MM``."""
    if not re.fullmatch(r"\d{5}(\.\d+)?", text):
        return None
    days = float(text)
    if not 10_000 <= days < 100_000:
        return None
    d = _EXCEL_EPOCH + dt.timedelta(days=int(days))
    return f"{d.year:04d}-{d.month:02d}" if 1950 <= d.year <= 2099 else None


def _financial_year(text: str) -> bool:
    """``2018/19``, ``FY 2018-19``, ``2018/2019``: the second year follows the first."""
    hit = re.fullmatch(r"(fy\s*)?(\d{4})\s*([/-])\s*(\d{2}|\d{4})", text)
    if hit is None:
        return False
    if hit.group(3) == "-" and not hit.group(1) and len(hit.group(4)) == 2:
        return hit.group(1) is not None  # 2011-12 is ISO December 2011; FY 2011-12 says so
    first, second = int(hit.group(2)), int(hit.group(4))
    return second in ((first + 1) % 100, first + 1)


def parse_period(value, *, dayfirst: bool = True) -> tuple[str | None, str | None]:
    """``(YYYY-MM, None)`` for a month, ``(None, why)`` for anything else (see the module docstring).

    ``dayfirst=False`` reads a/b/yyyy dates month first (US order); which
    order a column uses is decided over the whole column by
    :func:`parse_periods`, never value by value.

    Examples
    --------
    >>> parse_period("Mar-18"), parse_period("2018")
    (('2018-03', None), (None, 'a year, not a month; give the month (e.g. 2018-03) of each row'))
    >>> parse_period("3/1/2018")[0], parse_period("3/1/2018", dayfirst=False)[0]
    ('2018-01', '2018-03')
    """
    text = re.sub(r"\s+", " ", str(value).strip().lower())
    if _financial_year(text):
        return None, _REFUSED[1][1]
    for pattern, order in _FORMATS:
        hit = pattern.match(text)
        if hit:
            order = "mdy" if order == "dmy" and not dayfirst else order
            month = _month(dict(zip(order, hit.groups())))
            return (month, None) if month else (None, "not a possible date")
    serial = _serial(text)
    if serial:
        return serial, None
    for pattern, why in _REFUSED:
        if pattern.match(text):
            return None, why
    return None, "not a month gangmap can read; write it as YYYY-MM (e.g. 2018-03)"


def _pairs(s: pd.Series, rows: pd.Series) -> list[tuple[int, str, int, int]]:
    """``(row, value, first, second)`` of every a/b/yyyy value of the column (first row of each value)."""
    out = []
    for v in s.dropna().unique():
        hit = _FORMATS[4][0].match(re.sub(r"\s+", " ", str(v).lower()))
        if hit is not None:
            i = int((s == v).fillna(False).to_numpy().argmax())
            out.append((int(rows.iloc[i]), str(v), int(hit.group(1)), int(hit.group(2))))
    return sorted(out)


def _month_starts(pairs) -> bool:
    """Whether ambiguous a/b/yyyy values look like US month starts: the second number never changes, the first does.

    ``3/1/2018``, ``4/1/2018``, ``12/1/2018`` read day first are three days of
    January; read month first they are the first of March, April and December,
    which is how a US spreadsheet writes "the month". A day-first column of
    several months changes its second number; one of a single month has days
    above 12 as soon as it covers two weeks.
    """
    firsts, seconds = {a for _, _, a, _ in pairs}, {b for _, _, _, b in pairs}
    return len(seconds) == 1 and len(firsts) > 1


def date_order(s: pd.Series, rows: pd.Series, column: str, source: str, kind: str,
               dayfirst: bool | None) -> tuple[bool, str | None]:
    """Day first or month first for the a/b/yyyy dates of a column, decided over the whole column.

    A value whose first number is above 12 (``15/03/2018``) shows day first; one
    whose second number is above 12 (``03/15/2018``) shows month first. With
    no such value the UK order (day first) is used and a note says so, unless
    the values look like US month starts (:func:`_month_starts`). ``dayfirst``
    given by the user decides. Returns ``(dayfirst, note)``.

    Raises
    ------
    InputError
        Values show both orders, or the column looks like US month starts.
    """
    pairs = _pairs(s, rows)
    if dayfirst is not None or not pairs:
        return (True if dayfirst is None else dayfirst), None
    day = next((p for p in pairs if p[2] > 12), None)
    month = next((p for p in pairs if p[3] > 12), None)
    how = (f"pass {pass_hint(kind, 'dayfirst', True)} or {pass_hint(kind, 'dayfirst', False)}, or write the months "
           "as YYYY-MM (2018-03)")
    if day and month:
        raise InputError(f"{source}: column {column!r} mixes date orders: row {day[0]}: {day[1]!r} is day/month/year "
                         f"but row {month[0]}: {month[1]!r} is month/day/year. Fix the column (one order) and try "
                         "again, or write the months as YYYY-MM.")
    if month:
        return False, (f"column {column!r}: dates read month first (month/day/year), as row {month[0]}: "
                       f"{month[1]!r} shows")
    if day:
        return True, None
    if _month_starts(pairs):
        shown = ", ".join(f"row {r}: {v!r}" for r, v, _, _ in pairs[:4])
        raise InputError(f"{source}: column {column!r} holds dates whose second number never changes while the first "
                         f"does ({shown}): month/day/year (US) dates of the first of each month, or days of one "
                         f"month? No value shows which. Say which: {how}.")
    month_first = pass_hint(kind, "dayfirst", False)
    return True, (f"column {column!r}: dates such as {pairs[0][1]!r} read day first (day/month/year, the UK "
                  f"order), as no value shows the order; if they are month first (US), pass {month_first}")


def parse_periods(values: pd.Series, column: str, rows: pd.Series, bad: list, source: str, *,
                  kind: str = "reports", dayfirst: bool | None = None, notes: list | None = None) -> pd.Series:
    """Months (``YYYY-MM``) of a column; blank stays missing, refused values go to ``bad`` with their row.

    The order of a/b/yyyy dates is decided over the whole column
    (:func:`date_order`). A blank month is kept (the row still counts in
    totals) but belongs to no month, so a note in ``notes`` names how many
    rows and the first of them: a period filter or a time series leaves them
    out, and says so.

    Raises
    ------
    InputError
        The column mixes date orders or looks like US month starts, or no
        value in it is a month.
    """
    s = values.astype("string").str.strip()
    s = s.mask(s == "", pd.NA)
    first, note = date_order(s, rows, column, source, kind, dayfirst)
    parsed = {v: parse_period(v, dayfirst=first) for v in s.dropna().unique()}
    if parsed and not any(m for m, _ in parsed.values()):
        i = int(s.notna().to_numpy().argmax())
        raise InputError(f"{source}: row {int(rows.iloc[i])}: {column} is {s.iloc[i]!r}: "
                         f"{parsed[s.iloc[i]][1]}. No value of {column!r} is a month; fix the column, or pass "
                         f"{pass_hint(kind, 'period', 'COLUMN')} to read the months from another column.")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    table = np.array([*(parsed[u][0] for u in uniques), None], dtype=object)
    months = pd.Series(table[codes], index=s.index, dtype="string")
    refused = s.notna() & months.isna()
    for r, v in zip(rows[refused.to_numpy()], s[refused.to_numpy()]):
        bad.append((int(r), f"{column} is {v!r}: {parsed[v][1]}"))
    if notes is not None:
        notes.extend([note] if note else [])
        blank = rows[s.isna().to_numpy()]
        if len(blank):
            shown = ", ".join(map(str, blank.head(5))) + (" ..." if len(blank) > 5 else "")
            notes.append(f"{len(blank):,} row(s) with a blank {column} (rows {shown}): counted in totals but in no "
                         "month, so a period filter or a time series leaves them out; fill in their month to "
                         "count them there")
    return months
