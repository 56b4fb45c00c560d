"""Reports that account for every input row of a join, in the words of the areas' geography.

For each input, :class:`SourceReport` holds how many rows were matched to an
area, unmatched (a code or name that fits no area, an ambiguous name, a URN
or LSOA the bridge does not know), outside (coordinates outside every area),
rejected (a value or code that could not be used) and filtered (left out on
purpose by a category or period filter): ``matched + unmatched + outside +
rejected + filtered == rows_read``. The counts the rows hold add up the same
way: ``total + not_placed_total + filtered_total == total_read``, where
``not_placed_total`` covers the unmatched, outside *and* rejected rows (a row
rejected for a blank code still held its count), and the rows whose count
itself could not be read are said as such (``rejected_no_count``), never
taken as 0. :meth:`SourceReport.accounting` lists every reason with its rows
and total.

A row that is not placed is never a zero: a join with unmatched or rejected
rows fails (:class:`NotPlacedError`) unless the caller allows it, and then
:attr:`JoinReport.not_placed` is the one line ("12 rows (total 30) not
placed") that every output built from the table carries in its footer.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import InputError
from ..geography import WARD, Geography

__all__ = ["SourceReport", "JoinReport", "NotPlacedError", "REASON_PREFIXES", "AMBIGUOUS", "LSOA_UNKNOWN",
           "URN_UNKNOWN", "SCHOOL_OUTSIDE"]

#: Why an unmatched row matched no area, as its ``closest`` starts (the rest is detail: candidates, the fix).
AMBIGUOUS = "ambiguous:"
LSOA_UNKNOWN = "LSOA not in the bridge"
URN_UNKNOWN = "URN not in schools file"
SCHOOL_OUTSIDE = "school outside every "
#: Unmatched hints that are reasons, not candidate names.
REASON_PREFIXES = (AMBIGUOUS, LSOA_UNKNOWN, URN_UNKNOWN, SCHOOL_OUTSIDE)
_SHOW = 15


def _frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def _unmatched_frame() -> pd.DataFrame:
    return _frame({"row": "int64", "value": "object", "closest": "object", "count": "float64"})


def _outside_frame() -> pd.DataFrame:
    return _frame({"row": "int64", "count": "float64"})


def _rejected_frame() -> pd.DataFrame:
    return _frame({"row": "int64", "reason": "object", "count": "float64"})


#: Unmatched reasons (the start of ``closest``) and the words the accounting gives them.
_UNMATCHED_WHY = ((AMBIGUOUS, "name two {plural} share"), (LSOA_UNKNOWN, LSOA_UNKNOWN),
                  (URN_UNKNOWN, URN_UNKNOWN), (SCHOOL_OUTSIDE, SCHOOL_OUTSIDE + "{label}"))


def _plural(n: int, word: str = "row") -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _hint(closest: str) -> str:
    if not closest:
        return ""
    if closest.startswith(REASON_PREFIXES):
        return f" -> {closest}"
    return f" -> did you mean {closest}?"


@dataclass
class SourceReport:
    """How the rows of one input were placed on the areas.

    ``unmatched_rows`` has ``row`` (1-based data row), ``value`` (the code,
    name, URN or LSOA given), ``closest`` (candidates, or the reason) and
    ``count``; ``outside_rows`` has ``row`` and ``count``; ``rejected_rows``
    has ``row``, ``reason`` and ``count`` (NaN where it could not be read).
    ``hint`` says what is probably wrong when most coordinates fall outside
    every area. ``agreement`` compares the LSOA path with the point path when
    the rows could be placed both ways (they carry an LSOA code and
    coordinates, and an LSOA bridge was given or the areas are LSOAs).
    :meth:`accounting` gives every row and its count under one reason.

    The counts (``unmatched``, ``outside``, ``rejected``) are always
    complete. The row listings are bounded, so that a join of any size keeps
    them in little memory: the first ``LIST_ROWS`` (1,000) rows of each
    unmatched value, of the outside rows and of each rejected reason, and at
    most ``LIST_TOTAL`` (100,000) rows for each of the three (see
    :mod:`gangmap.joining.tally`). :meth:`unmatched_values` and
    :attr:`rejected_summary` count every row per value and per reason.
    ``missing_periods`` are the months the reader found unpublished (no data,
    never zero).
    """

    kind: str
    source: str
    key: str
    rows_read: int
    geography: Geography = WARD
    matched: int = 0
    total: float = 0
    unmatched_rows: pd.DataFrame = field(default_factory=_unmatched_frame)
    outside_rows: pd.DataFrame = field(default_factory=_outside_frame)
    rejected_rows: pd.DataFrame = field(default_factory=_rejected_frame)
    filtered: int = 0
    notes: list[str] = field(default_factory=list)
    hint: str | None = None
    agreement: Any = None
    #: What is probably wrong with the unmatched values (codes of another boundary vintage): said when the join stops.
    advice: str | None = None
    unmatched_count: int | None = None
    outside_count: int | None = None
    rejected_count: int | None = None
    not_placed_sum: float | None = None
    outside_sum: float | None = None
    unmatched_summary: pd.DataFrame | None = None
    rejected_summary: pd.DataFrame | None = None
    missing_periods: tuple[str, ...] = ()
    filtered_total: float = 0.0

    @property
    def unmatched(self) -> int:
        """Rows whose code, name, school or LSOA matched no area (or two: ambiguous)."""
        return len(self.unmatched_rows) if self.unmatched_count is None else self.unmatched_count

    @property
    def outside(self) -> int:
        """Rows whose coordinates fall outside every area."""
        return len(self.outside_rows) if self.outside_count is None else self.outside_count

    @property
    def rejected(self) -> int:
        """Rows that could not be read (bad count, blank code, no coordinates...)."""
        return len(self.rejected_rows) if self.rejected_count is None else self.rejected_count

    @property
    def balanced(self) -> bool:
        """True when every row read is accounted for exactly once."""
        return self.matched + self.unmatched + self.outside + self.rejected + self.filtered == self.rows_read

    @property
    def not_placed_rows(self) -> int:
        """Rows kept by the filters that are on no area: unmatched, outside or rejected."""
        return self.unmatched + self.outside + self.rejected

    @property
    def rejected_total(self) -> float:
        """Total count of the rejected rows, where their count could be read."""
        if self.rejected_summary is not None and "total" in self.rejected_summary:
            return float(self.rejected_summary["total"].sum())
        rows = self.rejected_rows
        return float(rows["count"].sum()) if "count" in rows else 0.0

    @property
    def rejected_no_count(self) -> int:
        """Rejected rows whose count could not be read (a bad count, or the reader gave none)."""
        if self.rejected_summary is not None and "no_count" in self.rejected_summary:
            return int(self.rejected_summary["no_count"].sum())
        rows = self.rejected_rows
        listed = int(rows["count"].isna().sum()) if "count" in rows else len(rows)
        return listed + self.rejected - len(rows)

    @property
    def not_placed_total(self) -> float:
        """Total count of the rows not placed: unmatched, outside and rejected (counts that could be read)."""
        if self.not_placed_sum is not None:
            return self.not_placed_sum + self.rejected_total
        return float(self.unmatched_rows["count"].sum() + self.outside_rows["count"].sum()) + self.rejected_total

    @property
    def outside_total(self) -> float:
        """Total count of the rows whose coordinates fall outside every area."""
        return float(self.outside_rows["count"].sum()) if self.outside_sum is None else self.outside_sum

    @property
    def total_read(self) -> float:
        """Total count of every row read whose count could be read: placed, not placed or filtered."""
        return self.total + self.not_placed_total + self.filtered_total

    @property
    def not_placed(self) -> str:
        """``"N rows (total X) not placed"``, or ``""`` when every row kept is on an area.

        When some of those rows had no count that could be read, the line says
        how many (their count is unknown, not 0).
        """
        if not self.not_placed_rows:
            return ""
        text = f"{_plural(self.not_placed_rows)} (total {self.not_placed_total:,.0f}) not placed"
        if self.rejected_no_count:
            text += f", {self.rejected_no_count:,} with no readable count"
        return text

    @property
    def blocking(self) -> bool:
        """True when the join must fail unless allowed: unmatched or rejected rows, or most
        coordinates outside every area (``hint``)."""
        return bool(self.unmatched or self.rejected or self.hint)

    def unmatched_values(self) -> pd.DataFrame:
        """One row per distinct unmatched value: ``value``, ``rows``, ``total``, ``closest``, ``first_rows``."""
        if self.unmatched_summary is not None:
            return self.unmatched_summary
        um = self.unmatched_rows
        if um.empty:
            return pd.DataFrame(columns=["value", "rows", "total", "closest", "first_rows"])
        g = um.groupby("value", sort=True, dropna=False)
        out = pd.DataFrame({"rows": g.size(), "total": g["count"].sum(), "closest": g["closest"].first(),
                            "first_rows": g["row"].apply(lambda r: ", ".join(map(str, r.head(5))))})
        return out.reset_index().sort_values(["rows", "value"], ascending=[False, True], kind="stable")

    def accounting(self) -> pd.DataFrame:
        """Every row read under one status and reason, with its rows and the total of its counts.

        Columns ``status`` (``placed``, ``not placed``, ``filtered``),
        ``reason``, ``rows``, ``total`` and ``no_count`` (rows whose count could
        not be read: their count is unknown, not 0). ``rows`` adds up to
        ``rows_read`` and ``total`` to :attr:`total_read`.
        """
        geo = self.geography
        out = [("placed", f"on a {geo.label}", self.matched, self.total, 0)]
        um = self.unmatched_values()
        if len(um):
            why = [_unmatched_reason(str(c or ""), self.key, geo) for c in um["closest"]]
            g = pd.DataFrame({"why": why, "rows": um["rows"], "total": um["total"]}).groupby("why", sort=False).sum()
            out += [("not placed", w, int(r), float(t), 0) for w, r, t in zip(g.index, g["rows"], g["total"])]
        if self.outside:
            out.append(("not placed", f"coordinates outside every {geo.label}", self.outside, self.outside_total, 0))
        rej = self._rejected_by_reason()
        out += [("not placed", f"rejected: {r}", int(n), float(t), int(u))
                for r, n, t, u in zip(rej["reason"], rej["rows"], rej["total"], rej["no_count"])]
        if self.filtered:
            out.append(("filtered", "left out by the category/period filter", self.filtered, self.filtered_total, 0))
        return pd.DataFrame(out, columns=["status", "reason", "rows", "total", "no_count"])

    def _rejected_by_reason(self) -> pd.DataFrame:
        summary = self.rejected_summary
        if summary is not None and {"total", "no_count"} <= set(summary.columns):
            return summary
        from .tally import reason_kind, rejected_counts

        rows = self.rejected_rows
        frame = pd.DataFrame({"reason": reason_kind(rows["reason"]).to_numpy(), "count": rejected_counts(rows)})
        g = frame.groupby("reason", sort=False)["count"]
        return pd.DataFrame({"reason": g.size().index, "rows": g.size().to_numpy(),
                             "total": g.sum(min_count=0).to_numpy(), "no_count": (g.size() - g.count()).to_numpy()})

    def summary(self) -> str:
        """A plain-text account of every row of this input, and of the counts they hold."""
        geo = self.geography
        no_count = f"; {self.rejected_no_count:,} with no readable count" if self.rejected_no_count else ""
        unmatched_total = self.not_placed_total - self.outside_total - self.rejected_total
        lines = [f"{self.kind} ({self.source}): {self.rows_read:,} rows read, by {self.key}",
                 f"  matched   {self.matched:>8,}   (total count {self.total:,.0f})",
                 f"  unmatched {self.unmatched:>8,}   (total count {unmatched_total:,.0f})",
                 f"  outside   {self.outside:>8,}   (total count {self.outside_total:,.0f}; "
                 f"coordinates outside every {geo.label})",
                 f"  rejected  {self.rejected:>8,}   (total count {self.rejected_total:,.0f}{no_count})"]
        if self.filtered:
            lines.append(f"  filtered  {self.filtered:>8,}   (total count {self.filtered_total:,.0f}; "
                         "left out by category/period filter)")
        left_out = f" + filtered {self.filtered_total:,.0f}" if self.filtered else ""
        lines.append(f"  counts read {self.total_read:,.0f} = placed {self.total:,.0f} + not placed "
                     f"{self.not_placed_total:,.0f}{left_out}")
        if not self.balanced:  # pragma: no cover - guarded by tests
            lines.append("  WARNING: rows do not add up; please report this as a bug")
        if self.not_placed:
            lines.append(f"  not placed: {self.not_placed}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        lines += self._unmatched_lines() + self._rejected_lines()
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _unmatched_lines(self) -> list[str]:
        if not self.unmatched:
            return []
        values = self.unmatched_values()
        lines = [f"  unmatched values (closest {self.geography.label} names/codes):"]
        for _, v in values.head(_SHOW).iterrows():
            lines.append(f"    {v['value']!s} ({_plural(int(v['rows']))}){_hint(str(v['closest'] or ''))}")
        if len(values) > _SHOW:
            lines.append(f"    ... and {len(values) - _SHOW} more values (see report.unmatched_rows)")
        return lines

    def _rejected_lines(self) -> list[str]:
        if not self.rejected:
            return []
        lines = ["  rejected rows:"]
        for r, why in zip(self.rejected_rows["row"].head(10), self.rejected_rows["reason"].head(10)):
            lines.append(f"    row {r}: {why}")
        if self.rejected > 10:
            lines.append(f"    ... and {self.rejected - 10} more (see report.rejected_rows, report.rejected_summary)")
        return lines

    def problems(self, limit: int = 10) -> list[str]:
        """Lines naming what was not placed: each unmatched value (rows, total, candidates), rejected rows."""
        out = []
        for _, v in self.unmatched_values().head(limit).iterrows():
            out.append(f"unmatched {v['value']!r}: {_plural(int(v['rows']))} (row {v['first_rows']}"
                       f"{' ...' if v['rows'] > 5 else ''}), total {v['total']:,.0f}{_hint(str(v['closest'] or ''))}")
        if self.unmatched_values().shape[0] > limit:
            out.append(f"... and {self.unmatched_values().shape[0] - limit} more unmatched values")
        for r, why in zip(self.rejected_rows["row"].head(limit), self.rejected_rows["reason"].head(limit)):
            out.append(f"rejected row {r}: {why}")
        if self.rejected > limit:
            out.append(f"... and {self.rejected - limit} more rejected rows")
        if self.hint:
            out.append(f"{_plural(self.outside)} outside every {self.geography.label}: {self.hint}")
        return out

    def html(self) -> str:
        """This input as HTML: the unmatched values and rejected rows as tables, and the notes."""
        e = html.escape
        parts = [f"<h4>{e(self.kind)} <small>({e(self.source)}, by {e(self.key)})</small></h4>"]
        if self.not_placed:
            parts.append(f"<p><b>Not placed:</b> {e(self.not_placed)}</p>")
        if self.hint:
            parts.append(f"<p><b>Hint:</b> {e(self.hint)}</p>")
        if self.unmatched:
            vals = self.unmatched_values().rename(columns={"first_rows": "first rows"})
            parts.append("<p>Unmatched values</p>" + vals.head(50).to_html(index=False, border=0, escape=True))
        if self.rejected:
            parts.append("<p>Rejected rows</p>" + self.rejected_rows.head(50).to_html(index=False, border=0,
                                                                                      escape=True))
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in self.notes) + "</ul>")
        return "".join(parts)


def _unmatched_reason(closest: str, key: str, geo: Geography) -> str:
    """The accounting's words for why an unmatched value matched no area."""
    for prefix, words in _UNMATCHED_WHY:
        if closest.startswith(prefix):
            return words.format(plural=geo.plural, label=geo.label)
    return f"{key} matches no {geo.label}"


class NotPlacedError(InputError):
    """A join left rows on no area (unmatched, ambiguous, rejected) and that was not allowed.

    ``error.report`` is the :class:`JoinReport`, with every row listed.
    """

    def __init__(self, message: str, report: JoinReport):
        super().__init__(message)
        self.report = report


_COUNTS = ("rows_read", "matched", "unmatched", "outside", "rejected", "filtered", "unmatched_rows",
           "outside_rows", "rejected_rows", "balanced", "total", "hint", "agreement", "rejected_summary",
           "missing_periods", "not_placed_total", "rejected_total", "rejected_no_count", "outside_total",
           "filtered_total", "total_read", "accounting")


@dataclass
class JoinReport:
    """What a join did with every input row.

    ``report.sections`` maps ``"reports"``, ``"referrals"`` and
    ``"population"`` to a :class:`SourceReport`. The attributes
    ``rows_read``, ``matched``, ``unmatched``, ``outside``, ``rejected`` ...
    are those of the first section (normally the reports).
    """

    areas: int
    geography: Geography = WARD
    sections: dict[str, SourceReport] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def wards(self) -> int:
        """The number of areas (the name from when every join was onto wards)."""
        return self.areas

    def _first(self) -> SourceReport:
        if not self.sections:
            raise AttributeError("no inputs were joined")
        return next(iter(self.sections.values()))

    def __getattr__(self, name):
        if name in _COUNTS:
            return getattr(self._first(), name)
        raise AttributeError(name)

    @property
    def not_placed(self) -> str:
        """One line for footers: ``"12 rows (total 30) not placed"`` per input that has any, or ``""``."""
        parts = [(k, s.not_placed) for k, s in self.sections.items() if s.not_placed]
        if len(parts) == 1 and parts[0][0] == next(iter(self.sections)):
            return parts[0][1]
        return "; ".join(f"{k}: {text}" for k, text in parts)

    @property
    def balanced(self) -> bool:
        return all(s.balanced for s in self.sections.values()) if self.sections else True

    def summary(self) -> str:
        """A plain-text account of every input row, for the console or a notebook."""
        lines = [self.geography.count_of(self.areas)] + [s.summary() for s in self.sections.values()]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def __str__(self) -> str:
        return self.summary()

    def check(self, allow_unmatched: bool = False) -> JoinReport:
        """Raise :class:`NotPlacedError` when rows were not placed and that is not allowed."""
        blocking = {k: s for k, s in self.sections.items() if s.blocking}
        if allow_unmatched or not blocking:
            return self
        raise NotPlacedError(self._failure(blocking), self)

    def _failure(self, blocking: dict[str, SourceReport]) -> str:
        lines = []
        for kind, s in blocking.items():
            lines.append(f"{s.source}: {s.not_placed} ({kind} rows on no {self.geography.label} of "
                         f"{self.geography.count_of(self.areas)}):")
            lines += [f"  {p}" for p in s.problems()]
            lines += [f"  likely cause: {s.advice}"] if s.advice else []
        shared = any(AMBIGUOUS in p for s in blocking.values() for p in s.problems())
        which = f" (a {self.geography.parent_label} column resolves names two areas share)" if shared else ""
        lines.append(f"Fix these values{which}, or pass "
                     "allow_unmatched=True (CLI --allow-unmatched) to go on: outputs then carry the line "
                     "'N rows (total X) not placed'. error.report lists every row.")
        return "\n".join(lines)

    def counts_table(self) -> pd.DataFrame:
        """Rows per status for each input (one row per input)."""
        rows = []
        for kind, s in self.sections.items():
            rows.append({"input": kind, "source": s.source, "by": s.key, "rows read": s.rows_read,
                         "matched": s.matched, "unmatched": s.unmatched, "outside": s.outside,
                         "rejected": s.rejected, "filtered": s.filtered, "total count": s.total,
                         "not placed total": s.not_placed_total, "filtered total": s.filtered_total,
                         "balanced": s.balanced})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:  # notebooks (issue 13: tables, not <pre> text)
        e = html.escape
        head = f"<div><b>JoinReport</b>: {e(self.geography.count_of(self.areas))}"
        if self.not_placed:
            head += f"; <b>not placed</b>: {e(self.not_placed)}"
        body = self.counts_table().to_html(index=False, border=0, escape=True) if self.sections else \
            "<p>no inputs were joined</p>"
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        return head + body + "".join(s.html() for s in self.sections.values()) + \
            (f"<ul>{notes}</ul>" if notes else "") + "</div>"
