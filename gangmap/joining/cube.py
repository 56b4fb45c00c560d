"""The area cube: every input read and placed once, then counted by area × period × category.

A map pack draws the same inputs many times: all reports, each category,
each month, a time series per area. Reading and placing the rows again for
every view is most of the work, so :func:`build_cube` reads and places each
input once and keeps

* the matched rows aggregated to (area, period, category): number of rows and
  total count;
* the rows that were not placed (unmatched, outside every area) counted by
  status, value, period and category, so that a filtered report still counts
  exactly the rows it left out, and a bounded listing of them;
* the rejected rows counted by reason, a bounded listing, and the notes.

It is made from a :class:`~gangmap.joining.tally.Tally`, which the in-memory
join fills in one go and the streaming join chunk by chunk (see
:mod:`.tally` for the listing bounds).

:meth:`AreaCube.table` and :meth:`AreaCube.report` then give, for any
category/period filter, the same table and report as :func:`gangmap.join`
with that filter (rows outside the filter are counted as filtered), without
touching the input again; :meth:`AreaCube.series` gives monthly or quarterly
series frames.

Months with no data
-------------------
A series frame has a column for every month from the input's first month to
its last. A month in that span for which the input has *no row at all* (of
any category, placed or not) is taken as not published: its column is NaN,
never 0, unless the caller says the source covered it
(``covered_periods=["2018-05"]``: then it is 0 wherever nothing was placed).
A month the input has rows for is published: an area without rows that month
is 0, except a month the reader found missing for some source
(``Intake.missing_periods``: police.uk months for which a force published no
file): gangmap cannot tell which areas that force covers, so the month is NaN
for every area, listed in ``schema.missing_periods`` and in the series' span
even beyond the first or last month read. A quarter is the sum of its three months, and NaN unless all three are
published (a quarter only partly inside the input's span is NaN).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..geography import Geography
from ..io import Intake
from ..table import AreaTable, quarter_of
from .agreement import path_agreement
from .hints import outside_hint
from .match import check_filter, looks_like_month
from .place import Placement
from .report import SourceReport
from .tally import KEYS, Tally
from .vintage import detect_vintage

__all__ = ["KindCube", "month_span"]


def _wanted(values) -> list[str] | None:
    if values is None:
        return None
    return [values] if isinstance(values, str) else [str(v) for v in values]


def month_span(months) -> list[str]:
    """Every month (``YYYY-MM``) from the first to the last of ``months``, in order."""
    months = sorted(set(months))
    if not months:
        return []
    return pd.period_range(months[0], months[-1], freq="M").strftime("%Y-%m").tolist()


@dataclass
class KindCube:
    """One count input (reports or referrals) placed and aggregated (see the module docstring)."""

    kind: str
    source: str
    key: str
    rows_read: int
    geography: Geography
    n_areas: int
    groups: pd.DataFrame
    unplaced: pd.DataFrame
    listed: pd.DataFrame
    rejected: pd.DataFrame
    reasons: pd.DataFrame
    has: tuple[str, ...]
    available: dict[str, list[str]]
    published: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    hint: str | None = None
    agreement: object = None
    missing_periods: tuple[str, ...] = ()
    odd_periods: pd.DataFrame | None = None
    #: What is probably wrong with the unmatched codes (another boundary vintage), for the stopping error too.
    advice: str | None = None

    @property
    def strict(self) -> bool:
        """A filter that cannot apply is an error for the reports, a note for the referrals."""
        return self.kind == "reports"

    @property
    def rejected_count(self) -> int:
        return int(self.reasons["rows"].sum()) if len(self.reasons) else 0

    @classmethod
    def build(cls, intake: Intake, areas: AreaTable, placement: Placement, *, point_pos=None,
              lsoa_pos=None) -> KindCube:
        """Aggregate the placed rows of ``intake`` (see :func:`gangmap.joining.place.assign`): one chunk."""
        tally = Tally(len(areas))
        tally.add(intake.data, intake.rejected, intake.rows_read, placement, point_pos=point_pos, lsoa_pos=lsoa_pos)
        return cls.from_tally(tally, areas, kind=intake.kind, source=intake.source, key=placement.key,
                              notes=intake.notes, missing_periods=intake.missing_periods)

    @classmethod
    def from_tally(cls, tally: Tally, areas: AreaTable, *, kind: str, source: str, key: str, notes=(),
                   missing_periods=()) -> KindCube:
        """The cube of a finished :class:`~gangmap.joining.tally.Tally` (every chunk added, or merged)."""
        groups, unplaced = tally.matched_groups(), tally.unplaced_groups()
        has = tuple(k for k in KEYS if k in tally.has)
        available = {k: sorted(_distinct(groups[k]) | _distinct(unplaced[k])) for k in has}
        published = tuple(sorted(p for p in available.get("period", []) if _is_month(p)))
        missing = tuple(sorted(set(missing_periods)))
        published = tuple(p for p in published if p not in missing)
        notes = [*notes, *tally.notes, *_duplicate_note(groups, tally.by, areas, has)]
        advice = None
        if tally.by == "code" and (unplaced["status"] == "unmatched").any():
            guess = detect_vintage(pd.Series(unplaced.loc[unplaced["status"] == "unmatched", "value"].unique()),
                                   areas)
            if guess is not None:
                notes.append(guess.message)
                advice = guess.message
        hint = agreement = None
        if tally.by == "point":
            x, y, share = tally.hint_sample()
            hint = outside_hint(areas, x, y, share)
        if tally.agreement is not None:
            agreement = path_agreement(areas, tally.agreement)
            notes.append(agreement.summary())
        return cls(kind, source, key, tally.rows_read, areas.geography, len(areas), groups, unplaced,
                   tally.listed_rows(), tally.rejected_rows(), tally.rejected_reasons(), has, available, published,
                   notes, hint, agreement, missing, tally.odd_period_rows(), advice=advice)

    # ------------------------------------------------------------------ filters
    def validate(self, category=None, period=None) -> list[str]:
        """Check a filter against the input: raise for the reports, notes for the referrals."""
        notes: list[str] = []
        for column, wanted in (("category", _wanted(category)), ("period", _wanted(period))):
            if wanted is None:
                continue
            if column not in self.has:
                if self.strict:
                    raise InputError(f"{self.source}: cannot filter by {column}: the input has no {column} "
                                     "column. Remove the filter or add the column.")
                notes.append(f"no {column} column, so the {column} filter was not applied to this input")
                continue
            unpublished = [w for w in wanted if column == "period" and w in self.missing_periods
                           and w not in self.available.get("period", [])]
            if unpublished and self.strict:
                raise InputError(f"{self.source}: period {unpublished} was not published by the source (no data, "
                                 f"not zero); choose among {', '.join(self.published)}.")
            check_filter(column, wanted, self.available[column], strict=self.strict, source=self.source,
                         notes=notes)
        return notes

    def keep(self, frame: pd.DataFrame, category=None, period=None) -> np.ndarray:
        """Rows of ``frame`` (groups or unplaced rows) inside the filter."""
        keep = np.ones(len(frame), dtype=bool)
        for column, wanted in (("category", _wanted(category)), ("period", _wanted(period))):
            if wanted is None or column not in self.has:
                continue
            keep &= _isin(frame[column], {w.casefold() for w in wanted})
        return keep

    # ------------------------------------------------------------------ results
    def sums(self, category=None, period=None) -> np.ndarray:
        """Total count per area (row position), for the filter."""
        g = self.groups[self.keep(self.groups, category, period)]
        return np.bincount(g["pos"].to_numpy(), weights=g["count"].to_numpy(dtype="float64"), minlength=self.n_areas)

    def periods(self, category=None, period=None) -> list[str]:
        """Periods of the matched rows inside the filter."""
        g = self.groups[self.keep(self.groups, category, period)]
        return sorted(_distinct(g["period"])) if "period" in g else []

    def report(self, category=None, period=None) -> SourceReport:
        """The :class:`SourceReport` of this input under the filter."""
        notes = self.validate(category, period)
        g_keep = self.keep(self.groups, category, period)
        u_keep = self.keep(self.unplaced, category, period)
        kept = self.unplaced[u_keep]
        um = kept[kept["status"] == "unmatched"]
        out = kept[kept["status"] == "outside"]
        listed = self.listed[self.keep(self.listed, category, period)]
        listed_um = listed[listed["status"] == "unmatched"]
        matched_rows = int(self.groups.loc[g_keep, "rows"].sum())
        rep = SourceReport(kind=self.kind, source=self.source, key=self.key, rows_read=self.rows_read,
                           geography=self.geography, matched=matched_rows,
                           total=float(self.groups.loc[g_keep, "count"].sum()),
                           unmatched_rows=listed_um[["row", "value", "closest", "count"]].reset_index(drop=True),
                           outside_rows=listed.loc[listed["status"] == "outside", ["row", "count"]]
                           .reset_index(drop=True),
                           rejected_rows=self.rejected.reset_index(drop=True),
                           filtered=int(self.groups.loc[~g_keep, "rows"].sum()
                                        + self.unplaced.loc[~u_keep, "rows"].sum()),
                           filtered_total=float(self.groups.loc[~g_keep, "count"].sum()
                                                + self.unplaced.loc[~u_keep, "count"].sum()),
                           notes=self.notes + notes, agreement=self.agreement,
                           unmatched_count=int(um["rows"].sum()), outside_count=int(out["rows"].sum()),
                           rejected_count=self.rejected_count,
                           not_placed_sum=float(um["count"].sum() + out["count"].sum()),
                           outside_sum=float(out["count"].sum()),
                           unmatched_summary=_unmatched_summary(um, listed_um), rejected_summary=self.reasons.copy(),
                           missing_periods=self.missing_periods, advice=self.advice if len(um) else None)
        if self.hint and rep.outside > matched_rows:
            rep.hint = self.hint
        return rep

    def series(self, category=None, freq: str = "M", covered=()) -> pd.DataFrame:
        """Counts per area (rows, by position) and period (columns); see the module docstring."""
        if "period" not in self.has:
            raise InputError(f"{self.source}: the {self.kind} have no period/month column, so no time series can "
                             "be made. Add a period column (YYYY-MM).")
        self.validate(category, None)
        g = self.groups[self.keep(self.groups, category, None)]
        months = g["period"].astype(object)
        bad = months.isna().to_numpy() | ~_isin(months, {m for m in set(months.dropna()) if _is_month(m)}, fold=False)
        if bad.any():
            raise self._odd_periods_error(g, bad, category)
        published = set(self.published) | {str(c) for c in covered}
        span = month_span(published | set(self.missing_periods))
        col = pd.Index(span).get_indexer(months.to_numpy())
        values = np.zeros((self.n_areas, len(span)))
        np.add.at(values, (g["pos"].to_numpy(), col), g["count"].to_numpy(dtype="float64"))
        frame = pd.DataFrame(values, columns=pd.Index(span, name="period"))
        frame.loc[:, [m not in published for m in span]] = np.nan
        return frame if freq == "M" else _quarters(frame)

    def _odd_periods_error(self, g: pd.DataFrame, bad: np.ndarray, category) -> InputError:
        """Placed rows without a month cannot go in a series: say how many, which values, the first rows."""
        n = int(g.loc[bad, "rows"].sum())
        shown = sorted(set(g["period"].astype(object)[bad].fillna("(blank)").astype(str)))[:5]
        listed = self.odd_periods if self.odd_periods is not None else pd.DataFrame({"row": []})
        if len(listed):
            listed = listed[self.keep(listed, category, None)]
        rows = listed["row"].head(5).astype(int).tolist()
        where = f"; {'row' if len(rows) == 1 else 'rows'} {', '.join(map(str, rows))}{' ...' if n > len(rows) else ''}"
        return InputError(f"{self.source}: {n:,} placed {'row has' if n == 1 else 'rows have'} a period that is not "
                          f"a month (e.g. {shown}{where if rows else ''}); fix the period column of those rows "
                          "(YYYY-MM), or leave them out of the input, to make a time series.")


def _isin(values: pd.Series, wanted: set, fold: bool = True) -> np.ndarray:
    """Which values (case-folded) are in ``wanted``, testing each distinct value once (cheap on categoricals)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    hit = [(str(u).casefold() if fold else u) in wanted for u in uniques]
    return np.append(np.array(hit, dtype=bool), False)[np.where(codes < 0, len(uniques), codes)]


def _is_month(value) -> bool:
    return bool(looks_like_month(pd.Series([value])).all())


def _distinct(values: pd.Series) -> set[str]:
    return {str(v) for v in pd.unique(values.dropna())}


def _unmatched_summary(um: pd.DataFrame, listed: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct unmatched value: ``value``, ``rows``, ``total``, ``closest``, ``first_rows``."""
    if um.empty:
        return pd.DataFrame(columns=["value", "rows", "total", "closest", "first_rows"])
    g = um.groupby("value", sort=True, dropna=False)
    first = listed.groupby("value", sort=False, dropna=False)["row"].apply(lambda r: ", ".join(map(str, r.head(5))))
    out = pd.DataFrame({"rows": g["rows"].sum(), "total": g["count"].sum(), "closest": g["closest"].first()})
    out = out.reset_index()
    out["first_rows"] = out["value"].map(first).fillna("")
    return out.sort_values(["rows", "value"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _duplicate_note(groups: pd.DataFrame, by: str, areas: AreaTable, has) -> list[str]:
    """Counts by code or name with two rows for one area (same period and category) are summed, and said so."""
    if by not in ("code", "name") or groups.empty:
        return []
    dup = groups[groups["rows"] > 1]
    if dup.empty:
        return []
    geo = areas.geography
    codes = areas.codes.to_numpy()[np.unique(dup["pos"].to_numpy())]
    same = " and ".join(has) if has else ""
    verb = "appears" if len(codes) == 1 else "appear"
    return [f"{geo.count_of(len(codes))} {verb} in more than one row{' with the same ' + same if same else ''} "
            f"({', '.join(map(str, codes[:5]))}{' ...' if len(codes) > 5 else ''}): their counts were summed"]


def _quarters(frame: pd.DataFrame) -> pd.DataFrame:
    """Monthly columns summed to quarters ``YYYY-Qn``; NaN unless all three months have data."""
    if frame.shape[1] == 0:
        return frame
    first = pd.Period(frame.columns[0], "M").asfreq("Q").asfreq("M", "start")
    last = pd.Period(frame.columns[-1], "M").asfreq("Q").asfreq("M", "end")
    full = frame.reindex(columns=pd.period_range(first, last, freq="M").strftime("%Y-%m"))
    quarter = [quarter_of(m) for m in full.columns]
    out = full.T.groupby(quarter, sort=True).sum(min_count=3).T
    out.columns.name = "period"
    return out
