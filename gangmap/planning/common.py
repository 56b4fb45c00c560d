"""Helpers the planning modules share: argument checks, months, lineage and the way out through make_safe.

Why a module of its own: targets, hubs and evaluation each check tables,
parse months and publish tables in the same way, and the house rules forbid
importing another module's private names. Nothing here is re-exported by
:mod:`gangmap.planning`; it is the subpackage's plumbing. What planning
shares with the measures (``some`` for messages, ``MONTH_RE``, the check of
series frames) has its one home upstream, in :mod:`gangmap.measures`, and
is imported from there.

Lineage
-------
Every result table is an :class:`gangmap.table.AreaTable` (or a plain frame
with the roles passed explicitly, for tables that are not one row per area,
such as the 2x2 of a difference in differences). The count columns a result
was computed from travel in its schema; :func:`publish` hands the table to
:func:`gangmap.disclosure.make_safe` with those roles, so a figure computed
from a suppressed count is suppressed too. The policy publishes a derived
figure only through its recipe (worked out again from the published values):
the planning recipes live in :mod:`.publishing`, :mod:`.ranking`,
:mod:`.hub_tables` and :mod:`.evaluation`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, GangmapError, InputError, SchemaError
from ..geography import Geography
from ..measures.checks import some
from ..measures.series import MONTH_RE
from ..table import AreaTable, as_table, from_frame

__all__ = ["MONTH_RE", "some", "number_or_nan", "article", "pct", "area_table", "read_area_table", "need_values",
           "as_codes", "sources_of", "identifier_columns", "result_table", "month", "months", "publish"]


def number_or_nan(value: Any) -> float:
    """``value`` as a float; NaN for anything that is not a number (text, None, True/False).

    Argument checks compare the result (``not number_or_nan(x) > 0``), so a
    bad value fails the check and gets the check's own message instead of a
    bare ``ValueError`` from ``float("lots")``.
    """
    if isinstance(value, (bool, np.bool_)):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def article(word: str) -> str:
    """``"a ward"``, ``"an LSOA"``, ``"an output area"``: the indefinite article for an area word.

    Examples
    --------
    >>> article("ward"), article("LSOA"), article("output area"), article("MSOA")
    ('a ward', 'an LSOA', 'an output area', 'an MSOA')
    """
    first = word[:1]
    vowel = first.lower() in "aeiou" or (word.split(" ")[0].isupper() and first in "AEFHILMNORSX")
    return f"{'an' if vowel else 'a'} {word}"


def pct(x: float) -> str:
    """``0.613 -> "61%"``."""
    return f"{100 * x:.0f}%"


def area_table(obj: Any, func: str) -> AreaTable:
    """``obj`` as an AreaTable (a plain frame gets no roles), with an error that names the function.

    Raises :class:`InputError` for something that is not a table, and for a
    frame whose area code column cannot be found.
    """
    if isinstance(obj, AreaTable):
        return obj
    if not isinstance(obj, pd.DataFrame):
        raise InputError(f"planning.{func}: expected an area table (an AreaTable or a DataFrame with one row per "
                         f"area), got {type(obj).__name__}. Pass the table from gangmap.join().")
    try:
        return as_table(obj)
    except SchemaError as exc:
        raise InputError(f"planning.{func}: {exc}") from None


def read_area_table(areas: Any, func: str) -> AreaTable:
    """The areas a planning function places things on: a table as it is, anything else read as boundaries.

    An AreaTable, or a frame with a known geography's code column, is taken
    as the area table; a path (or boundaries with ONS column names) is read
    with :func:`gangmap.io.read_areas`. Errors name ``planning.{func}``.
    """
    from ..geography import detect_geography

    if isinstance(areas, AreaTable) or (isinstance(areas, pd.DataFrame) and detect_geography(areas.columns)):
        return area_table(areas, func)
    from ..io import read_areas

    return area_table(read_areas(areas), func)


def need_values(table: AreaTable, measure: str, func: str) -> np.ndarray:
    """The need measure as floats (NaN allowed, negative not)."""
    if measure not in table:
        hint = ""
        if measure == "need_index":
            hint = (" Compute it first: table = measures.need_index(table) (after measures.rate for "
                    "reports and referrals), or pass measure='reports' for a rate-free measure.")
        raise InputError(f"planning.{func}: measure column {measure!r} not found; the table has columns "
                         f"{some(table.columns, 25)}.{hint}")
    try:
        v = pd.to_numeric(table[measure], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise InputError(f"planning.{func}: measure column {measure!r} is not numeric. Pass a numeric "
                         "column (a count, a rate or an index).") from None
    neg = np.flatnonzero(np.nan_to_num(v, nan=0.0) < 0)
    if len(neg):
        geo = table.geography
        raise InputError(f"planning.{func}: measure {measure!r} is negative for {geo.label}(s) "
                         f"{some(table.codes.iloc[neg])}; coverage shares need values of 0 or more. Use a count, "
                         "rate or 0-100 index (measures.need_index).")
    return v


def as_codes(targets: Any) -> frozenset:
    """Area codes from a :class:`Targets`, one code or an iterable of codes."""
    codes = getattr(targets, "codes", None)
    if isinstance(codes, frozenset):
        return codes
    if targets is None:
        return frozenset()
    if isinstance(targets, str):
        return frozenset([targets])
    return frozenset(str(t) for t in targets)


def sources_of(table: AreaTable, column: str) -> tuple[str, ...] | None:
    """The raw counts behind ``column`` (None when its role is not declared: lineage unknown)."""
    return table.schema.sources_of(column)


def identifier_columns(table: AreaTable) -> list[str]:
    """The geography's code, name, parent code and parent name columns present in the table."""
    return [c for c in table.geography.identifiers if c in table]


def result_table(frame: pd.DataFrame, geography: Geography, *, sources: tuple[str, ...] | None,
                 derived: Sequence[str], context: Sequence[str] = (), counts: Sequence[str] = ()) -> AreaTable:
    """An AreaTable of results: ``derived`` columns computed from the counts ``sources``.

    ``sources=None`` means the lineage of the input is not declared: the
    new columns stay undeclared, so :func:`publish` refuses them with a
    message that says how to declare the input's roles.
    """
    frame = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    present = [c for c in (sources or ()) if c in frame.columns]
    counts = [c for c in dict.fromkeys([*counts, *present]) if c in frame.columns]
    context = [c for c in context if c in frame.columns and c not in counts]
    new = [c for c in derived if c in frame.columns and c not in counts]
    derived_map = {c: present for c in new} if sources is not None and present else {}
    if sources is not None and not present:  # computed from public columns only
        context = [*context, *new]
    return from_frame(frame, counts=counts, derived=derived_map, context=context, geography=geography)


def month(value: Any, what: str, source: str) -> str:
    """A month as ``YYYY-MM`` (accepts TOML dates and ``YYYY-MM-DD``)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    s = str(value).strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", s):
        s = s[:7]
    if not MONTH_RE.match(s):
        raise ConfigError(f"{source}: {what} {value!r} is not a month; write it as YYYY-MM, e.g. "
                          "launch = \"2018-03\".")
    return s


def months(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, as ``YYYY-MM``."""
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def publish(table: AreaTable | pd.DataFrame, *, policy: Any = "nhs", keep: Sequence[str] = (),
            counts: Sequence[str] = (), derived: Mapping[str, Sequence[str]] | None = None,
            context: Sequence[str] = (), period: str | None = None, what: str = "table", **options: Any):
    """Pass a planning table through :func:`gangmap.disclosure.make_safe`: the only way anything leaves.

    An AreaTable carries its own roles (counts, derived lineage, public
    context); a plain frame (a 2x2 table, a monthly series) passes them as
    ``counts``, ``derived`` and ``context``. ``keep`` names more columns to
    let through (text such as names and statuses). Totals are for the
    county only (``hierarchy=()``) unless ``hierarchy`` is given.
    """
    from ..disclosure import make_safe

    if isinstance(table, AreaTable):
        frame = table.to_frame()
        counts = [c for c in table.counts if c in frame.columns]
        derived = {c: list(s) for c, s in table.derived.items() if c in frame.columns}
        context = [c for c in table.context if c in frame.columns]
    else:
        frame = table
        counts = [c for c in counts if c in frame.columns]
        derived = {c: list(s) for c, s in (derived or {}).items() if c in frame.columns}
        context = [c for c in context if c in frame.columns]
    if not counts:
        raise GangmapError(
            f"the {what} has no raw count column to make safe: the counts its values were computed from are not "
            "in it, or their roles are not declared. Declare them on the input table first, e.g. "
            "gangmap.table.from_frame(df, counts=['reports', 'referrals'], derived={'need_index': ['reports', "
            "'referrals']}), or make the area table itself safe instead.")
    keep = [k for k in dict.fromkeys(keep) if k in frame.columns and k not in counts and k not in derived]
    options.setdefault("hierarchy", ())
    if period is not None:
        options.setdefault("period", period)
    if isinstance(table, AreaTable):
        return make_safe(table, policy=policy, keep=[*context, *keep], **options)
    return make_safe(frame, counts, policy=policy, derived=derived, context=context, keep=keep, **options)
