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
(``18-Mar``), an impossible date (``2018-02-30``), and anything else. A column
where some date can only be month/day/year (``03/15/2018``) is an error for
the whole column, because then ``03/01/2018`` cannot be read safely either;
so is a column in which no value at all is a month.

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

__all__ = ["parse_period", "parse_periods", "MONTHS"]

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


def parse_period(value) -> tuple[str | None, str | None]:
    """``(YYYY-MM, None)`` for a month, ``(None, why)`` for anything else (see the module docstring).

    Examples
    --------
    >>> parse_period("Mar-18"), parse_period("2018")
    (('2018-03', None), (None, 'a year, not a month; give the month (e.g. 2018-03) of each row'))
    """
    text = re.sub(r"\s+", " ", str(value).strip().lower())
    if _financial_year(text):
        return None, _REFUSED[1][1]
    for pattern, order in _FORMATS:
        hit = pattern.match(text)
        if hit:
            month = _month(dict(zip(order, hit.groups())))
            return (month, None) if month else (None, "not a possible date")
    serial = _serial(text)
    if serial:
        return serial, None
    for pattern, why in _REFUSED:
        if pattern.match(text):
            return None, why
    return None, "not a month gangmap can read; write it as YYYY-MM (e.g. 2018-03)"


def _us_order(text: str) -> bool:
    """``03/15/2018``: month first, because the second number cannot be a month."""
    hit = _FORMATS[4][0].match(text)
    return hit is not None and int(hit.group(1)) <= 12 < int(hit.group(2)) <= 31


def parse_periods(values: pd.Series, column: str, rows: pd.Series, bad: list, source: str) -> pd.Series:
    """Months (``YYYY-MM``) of a column; blank stays missing, refused values go to ``bad`` with their row.

    Raises
    ------
    InputError
        The column holds month/day/year dates, or no value in it is a month.
    """
    s = values.astype("string").str.strip()
    s = s.mask(s == "", pd.NA)
    parsed = {v: parse_period(v) for v in s.dropna().unique()}
    us = [v for v in parsed if _us_order(re.sub(r"\s+", " ", str(v).lower()))]
    if us:
        i = int((s == us[0]).fillna(False).to_numpy().argmax())
        raise InputError(f"{source}: row {int(rows.iloc[i])}: {column} is {us[0]!r}, a month/day/year (US) date, so "
                         f"no date of this column can be read safely. Write the months as YYYY-MM, or dates "
                         "day/month/year, and try again.")
    if parsed and not any(m for m, _ in parsed.values()):
        i = int(s.notna().to_numpy().argmax())
        raise InputError(f"{source}: row {int(rows.iloc[i])}: {column} is {s.iloc[i]!r}: "
                         f"{parsed[s.iloc[i]][1]}. No value of {column!r} is a month; fix the column, or pass "
                         "period= another column.")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    table = np.array([*(parsed[u][0] for u in uniques), None], dtype=object)
    months = pd.Series(table[codes], index=s.index, dtype="string")
    refused = s.notna() & months.isna()
    for r, v in zip(rows[refused.to_numpy()], s[refused.to_numpy()]):
        bad.append((int(r), f"{column} is {v!r}: {parsed[v][1]}"))
    return months
