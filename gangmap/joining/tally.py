"""The running tally of one count input: placed rows counted as they come, in bounded memory.

Why a tally? A national year of police.uk data is tens of millions of rows.
Keeping every row (as the first join did) costs about 1.7 KB a row, so the
join keeps only what its results need, and adds each chunk of rows to it as
the chunk is placed:

* matched rows counted by (area, period, category): number of rows and total
  count (at most areas × periods × categories entries, whatever the rows);
* rows not placed (unmatched, outside every area) counted by (status, value,
  closest, period, category), so a filtered report still knows how many it
  leaves out;
* rejected rows counted by *reason* (the reason with its quoted values and the
  file/row prefix taken out: ``no usable coordinates (Longitude=…, Latitude=…)``),
  with the total of their counts where the reader could read one (a row
  rejected for a blank code still says how many reports it held: the reader
  gives it in the rejected rows' ``count`` column, NaN where the count itself
  is what could not be read), and how many had no count to read;
* a bounded listing of rows, in row order: the first :data:`LIST_ROWS` rows of
  each unmatched value, of the outside rows and of each rejected reason, and at
  most :data:`LIST_TOTAL` rows in all for each of the three. The counts are
  always complete; the listing says which rows, as far as it goes;
* the first :data:`HINT_SAMPLE` points with coordinates (for the hint that
  explains coordinates mostly outside every area) and the share outside;
* when rows were placed both by LSOA code and by point, how far the two agree
  (:class:`AgreementTally`).

Tallies merge: ``a.merge(b)`` is the tally of a's rows followed by b's, row
numbers of ``b`` shifted by the rows ``a`` read. The in-memory join is one
chunk; the streaming join adds chunks; the dask engine merges the tallies of
its partitions in order. All three give the same cube, exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .match import looks_like_month

__all__ = ["Tally", "AgreementTally", "reason_kind", "rejected_counts", "KEYS", "ODD_ROWS", "LIST_ROWS", "LIST_TOTAL",
           "HINT_SAMPLE"]

#: Rows listed (row numbers and values) for each unmatched value, for the outside rows and each rejected reason.
LIST_ROWS = 1000
#: Rows listed in all for each of unmatched, outside and rejected (the counts are always complete).
LIST_TOTAL = 100_000
#: Points with coordinates kept to explain coordinates mostly outside every area (the first ones, in row order).
HINT_SAMPLE = 20_000
#: Placed rows listed whose period is not a month (a blank, a quarter): a series names the first of them.
ODD_ROWS = 100
#: Tallied group rows kept before they are added up again (bounds memory between compactions).
_COMPACT = 2_000_000

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_PREFIX = re.compile(r"^.*? row \d+: ")
#: The columns rows are counted by besides their area (the cube's filters and series use the same).
KEYS = ("period", "category")
_GROUP_COLS = ["pos", "period", "category", "rows", "count"]
_UNPLACED_COLS = ["status", "value", "closest", "period", "category", "rows", "count"]
_LISTED_COLS = ["row", "status", "value", "closest", "count", "period", "category"]


def reason_kind(reasons: pd.Series) -> pd.Series:
    """Each rejection reason without its file/row prefix and with quoted values masked.

    >>> reason_kind(pd.Series(["a.csv row 3: Month is 'Q1 2018': a quarter"])).tolist()
    ['Month is …: a quarter']
    """
    s = reasons.astype("object").astype(str)
    return s.str.replace(_PREFIX, "", regex=True).str.replace(_QUOTED, "…", regex=True)


def rejected_counts(rejected: pd.DataFrame) -> np.ndarray:
    """The count each rejected row held (float; NaN where it could not be read, or the reader gave none).

    Readers give it in the rejected rows' ``count`` column; without that
    column every rejected row is one whose count is unknown, and is reported
    as such (never as 0).
    """
    if "count" not in rejected:
        return np.full(len(rejected), np.nan)
    return pd.to_numeric(rejected["count"], errors="coerce").to_numpy(dtype="float64")


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing) and the distinct values; cheap for categoricals."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype("int64"), values.cat.categories.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype("int64"), np.asarray(uniques, dtype=object)


@dataclass
class _Cells:
    """Matched rows and their total count per (area, period, category), as integer-coded arrays.

    Periods and categories are coded in the order first seen (missing is a
    value of its own), so the cells cost 32 bytes each whatever the text, and
    adding them up again is one ``np.unique`` on an integer key.
    """

    codes: dict = field(default_factory=lambda: {k: {} for k in KEYS})
    parts: list = field(default_factory=list)
    pending: int = 0

    def _coded(self, name: str, values) -> np.ndarray:
        table = self.codes[name]
        return np.array([table.setdefault(v, len(table)) for v in values], dtype="int64")

    def add(self, pos: np.ndarray, keys: dict[str, pd.Series], count: np.ndarray) -> None:
        coded = []
        for name in KEYS:
            if name in keys:
                codes, uniques = _codes(keys[name])
                glob = self._coded(name, [*uniques, None])
                coded.append(glob[np.where(codes < 0, len(uniques), codes)])
            else:
                coded.append(np.full(len(pos), self._coded(name, [None])[0], dtype="int64"))
        self._push(pos.astype("int64"), coded[0], coded[1], np.ones(len(pos), dtype="int64"), count)

    def _push(self, pos, p, c, rows, count) -> None:
        self.parts.append(self._sum(pos, p, c, rows, count))
        self.pending += len(self.parts[-1][0])
        if self.pending > _COMPACT:
            self.parts = [self._sum(*(np.concatenate(a) for a in zip(*self.parts)))]
            self.pending = len(self.parts[0][0])

    def _sum(self, pos, p, c, rows, count):
        n_p, n_c = max(len(self.codes["period"]), 1), max(len(self.codes["category"]), 1)
        key = (pos * n_p + p) * n_c + c
        uniq, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.ravel()
        return (uniq // (n_p * n_c), (uniq // n_c) % n_p, uniq % n_c,
                np.bincount(inverse, weights=rows, minlength=len(uniq)).astype("int64"),
                np.bincount(inverse, weights=count, minlength=len(uniq)))

    def merge(self, other: _Cells) -> None:
        remap = {name: np.append(self._coded(name, list(other.codes[name])), -1) for name in KEYS}
        for pos, p, c, rows, count in other.parts:
            self._push(pos, remap["period"][p], remap["category"][c], rows, count)

    def frame(self) -> pd.DataFrame:
        """``pos``, ``period``, ``category``, ``rows``, ``count``: one row per cell, sorted (missing last)."""
        if not self.parts:
            return _empty(_GROUP_COLS)
        pos, p, c, rows, count = self._sum(*(np.concatenate(a) for a in zip(*self.parts)))
        cols = {k: _categorical(list(self.codes[k]) or [None], code) for k, code in zip(KEYS, (p, c))}
        frame = pd.DataFrame({"pos": pos, **cols, "rows": rows, "count": count})
        return frame.sort_values(["pos", "period", "category"], na_position="last", kind="stable")


def _categorical(values: list, codes: np.ndarray) -> pd.Categorical:
    """``values[codes]`` as a categorical with sorted categories (missing: ``None`` among the values)."""
    names = pd.Index([v for v in values if v is not None], dtype=object)
    order = names.argsort()
    rank = np.empty(len(names), dtype="int64")
    rank[order] = np.arange(len(names))
    table = np.array([-1 if v is None else rank[names.get_loc(v)] for v in values], dtype="int64")
    return pd.Categorical.from_codes(table[codes], categories=names[order].astype(str))


def _sum_groups(frame: pd.DataFrame, by: list[str], sort: bool) -> pd.DataFrame:
    if frame.empty:
        return frame.reset_index(drop=True)
    g = frame.groupby(by, dropna=False, sort=sort)[["rows", "count"]].sum()
    return g.reset_index()


def _capped(frame: pd.DataFrame, key: list[str], used: dict, total_used: int) -> tuple[pd.DataFrame, int]:
    """The first rows of ``frame`` (in row order) that fit :data:`LIST_ROWS` per key and :data:`LIST_TOTAL` in all."""
    if frame.empty or total_used >= LIST_TOTAL:
        return frame.iloc[:0], total_used
    g = frame.groupby(key, dropna=False, sort=False)
    ids = g.ngroup().to_numpy()
    firsts = frame[key].astype("object").drop_duplicates()
    tuples = [tuple(None if pd.isna(v) else v for v in t) for t in firsts.itertuples(index=False)]
    seen = np.array([used.get(t, 0) for t in tuples], dtype="int64")
    keep = (seen[ids] + g.cumcount().to_numpy()) < LIST_ROWS
    keep &= np.cumsum(keep) <= LIST_TOTAL - total_used
    for t, n in zip(tuples, np.bincount(ids[keep], minlength=len(tuples))):
        if n:
            used[t] = used.get(t, 0) + int(n)
    return frame[keep], total_used + int(keep.sum())


@dataclass
class AgreementTally:
    """Rows placed both by LSOA code and by point: how many, how many in the same area, totals per area."""

    n_areas: int
    both: int = 0
    same: int = 0
    point: Any = None  # np.ndarray of n_areas totals once made
    lsoa: Any = None

    def __post_init__(self) -> None:
        self.point = np.zeros(self.n_areas) if self.point is None else self.point
        self.lsoa = np.zeros(self.n_areas) if self.lsoa is None else self.lsoa

    def add(self, point_pos: np.ndarray, lsoa_pos: np.ndarray, counts: np.ndarray) -> None:
        counts = np.asarray(counts, dtype="float64")
        both = (point_pos >= 0) & (lsoa_pos >= 0)
        self.both += int(both.sum())
        self.same += int((point_pos[both] == lsoa_pos[both]).sum())
        for arr, pos in ((self.point, point_pos), (self.lsoa, lsoa_pos)):
            ok = pos >= 0
            arr += np.bincount(pos[ok], weights=counts[ok], minlength=self.n_areas)

    def merge(self, other: AgreementTally) -> None:
        self.both += other.both
        self.same += other.same
        self.point = self.point + other.point
        self.lsoa = self.lsoa + other.lsoa


@dataclass
class Tally:
    """A mergeable, bounded summary of one count input's placed rows (see the module docstring)."""

    n_areas: int
    by: str = ""
    key: str = ""
    rows_read: int = 0
    has: set = field(default_factory=set)
    cells: _Cells = field(default_factory=_Cells)
    unplaced: list = field(default_factory=list)
    listed: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    reasons: dict = field(default_factory=dict)
    reason_totals: dict = field(default_factory=dict)
    reason_uncounted: dict = field(default_factory=dict)
    used: dict = field(default_factory=lambda: {"unplaced": {}, "rejected": {}})
    used_total: dict = field(default_factory=lambda: {"unplaced": 0, "rejected": 0})
    finite: int = 0
    finite_outside: int = 0
    sample: list = field(default_factory=list)
    sampled: int = 0
    agreement: AgreementTally | None = None
    notes: list = field(default_factory=list)
    source_notes: list = field(default_factory=list)
    odd_periods: list = field(default_factory=list)
    odd_listed: int = 0

    # ------------------------------------------------------------------ adding rows
    def add(self, data: pd.DataFrame, rejected: pd.DataFrame, rows_read: int, placement, *,
            point_pos: np.ndarray | None = None, lsoa_pos: np.ndarray | None = None) -> None:
        """Add one chunk: its kept rows (``data``, placed by ``placement``), rejected rows and rows read.

        Row numbers are those of this tally (the first row it ever read is 1).
        """
        self.by = self.by or placement.by
        self.key = self.key or placement.key
        self.has |= {k for k in KEYS if k in data}
        keys = {k: data[k] for k in KEYS if k in data}
        count = pd.to_numeric(data["count"]).to_numpy(dtype="float64")
        matched = placement.status == "matched"
        if matched.all():
            self.cells.add(placement.pos, keys, count)
        else:
            self.cells.add(placement.pos[matched], {k: v[matched] for k, v in keys.items()}, count[matched])
            self._add_unplaced(data, placement, ~matched, count)
        if "period" in data:
            self._add_odd_periods(data, matched)
        self._add_rejected(rejected)
        if placement.by == "point":
            self._add_hint(data, placement.status == "outside")
        if point_pos is not None and lsoa_pos is not None:
            self.agreement = self.agreement or AgreementTally(self.n_areas)
            self.agreement.add(point_pos, lsoa_pos, count)
        self.notes.extend(n for n in placement.notes if n not in self.notes)
        self.rows_read += rows_read

    def _add_unplaced(self, data: pd.DataFrame, placement, sel: np.ndarray, count: np.ndarray) -> None:
        rows = pd.DataFrame({"row": data["row"].to_numpy()[sel].astype("int64") + self.rows_read,
                             "status": placement.status[sel].astype(object),
                             "value": placement.value.to_numpy()[sel].astype(object),
                             "closest": placement.closest.to_numpy()[sel].astype(object),
                             "count": count[sel],
                             **{k: data[k].to_numpy()[sel].astype(object) for k in KEYS if k in data}})
        for k in KEYS:
            if k not in rows:
                rows[k] = None
        for c in ("value", "closest", "period", "category"):
            rows[c] = rows[c].astype("object").where(rows[c].notna(), None)
        self.unplaced.append(_sum_groups(rows.assign(rows=1)[_UNPLACED_COLS], _UNPLACED_COLS[:5], False))
        kept, self.used_total["unplaced"] = _capped(rows, ["status", "value"], self.used["unplaced"],
                                                    self.used_total["unplaced"])
        if len(kept):
            self.listed.append(kept[_LISTED_COLS])

    def _add_odd_periods(self, data: pd.DataFrame, matched: np.ndarray) -> None:
        """List the first placed rows whose period is not a month, so that a series can name them."""
        room = ODD_ROWS - self.odd_listed
        if room <= 0:
            return
        codes, uniques = _codes(data["period"])
        month = looks_like_month(pd.Series(uniques, dtype=object)).to_numpy(dtype=bool)
        odd = ~np.append(month, False)[np.where(codes < 0, len(uniques), codes)] & np.asarray(matched, dtype=bool)
        idx = np.flatnonzero(odd)[:room]
        if len(idx):
            category = data["category"].to_numpy()[idx].astype(object) if "category" in data else None
            self.odd_periods.append(pd.DataFrame({"row": data["row"].to_numpy()[idx].astype("int64") + self.rows_read,
                                                  "period": data["period"].to_numpy()[idx].astype(object),
                                                  "category": category}))
            self.odd_listed += len(idx)

    def _add_rejected(self, rejected: pd.DataFrame) -> None:
        if rejected is None or rejected.empty:
            return
        rej = pd.DataFrame({"row": rejected["row"].to_numpy().astype("int64") + self.rows_read,
                            "reason": rejected["reason"].to_numpy(dtype=object),
                            "count": rejected_counts(rejected)})
        rej["kind"] = reason_kind(rej["reason"]).to_numpy()
        g = rej.groupby("kind", sort=False)["count"]
        for kind, n, total, known in zip(g.size().index, g.size(), g.sum(min_count=0), g.count()):
            self.reasons[kind] = self.reasons.get(kind, 0) + int(n)
            self.reason_totals[kind] = self.reason_totals.get(kind, 0.0) + float(total)
            self.reason_uncounted[kind] = self.reason_uncounted.get(kind, 0) + int(n) - int(known)
        kept, self.used_total["rejected"] = _capped(rej, ["kind"], self.used["rejected"],
                                                    self.used_total["rejected"])
        if len(kept):
            self.rejected.append(kept[["row", "reason", "count", "kind"]])

    def _add_hint(self, data: pd.DataFrame, outside: np.ndarray) -> None:
        x, y = data["x"].to_numpy(dtype="float64"), data["y"].to_numpy(dtype="float64")
        ok = np.isfinite(x) & np.isfinite(y)
        self.finite += int(ok.sum())
        self.finite_outside += int((ok & outside).sum())
        room = HINT_SAMPLE - self.sampled
        if room > 0 and ok.any():
            idx = np.flatnonzero(ok)[:room]
            self.sample.append(np.column_stack([x[idx], y[idx]]))
            self.sampled += len(idx)

    # ------------------------------------------------------------------ merging
    def merge(self, other: Tally) -> Tally:
        """This tally followed by ``other`` (whose row numbers move on by the rows this one read)."""
        shift = self.rows_read
        self.by = self.by or other.by
        self.key = self.key or other.key
        self.has |= other.has
        self.cells.merge(other.cells)
        self.unplaced.extend(other.unplaced)
        for name, frames, key in (("unplaced", other.listed, ["status", "value"]),
                                  ("rejected", other.rejected, ["kind"])):
            for frame in frames:
                kept, self.used_total[name] = _capped(frame.assign(row=frame["row"] + shift), key, self.used[name],
                                                      self.used_total[name])
                if len(kept):
                    (self.listed if name == "unplaced" else self.rejected).append(kept)
        for mine, theirs in ((self.reasons, other.reasons), (self.reason_totals, other.reason_totals),
                             (self.reason_uncounted, other.reason_uncounted)):
            for kind, n in theirs.items():
                mine[kind] = mine.get(kind, 0) + n
        for frame in other.odd_periods:
            part = frame.head(max(ODD_ROWS - self.odd_listed, 0))
            if len(part):
                self.odd_periods.append(part.assign(row=part["row"] + shift))
                self.odd_listed += len(part)
        self.finite += other.finite
        self.finite_outside += other.finite_outside
        for block in other.sample:
            room = HINT_SAMPLE - self.sampled
            if room > 0:
                self.sample.append(block[:room])
                self.sampled += len(block[:room])
        if other.agreement is not None:
            if self.agreement is None:
                self.agreement = AgreementTally(self.n_areas)
            self.agreement.merge(other.agreement)
        self.notes.extend(n for n in other.notes if n not in self.notes)
        self.source_notes.extend(other.source_notes)
        self.rows_read += other.rows_read
        return self

    # ------------------------------------------------------------------ results
    def matched_groups(self) -> pd.DataFrame:
        """``pos``, ``period``, ``category`` (categoricals, NA where none), ``rows``, ``count``; sorted.

        Categoricals keep the cube small: a national LSOA cube has millions of cells.
        """
        frame = self.cells.frame().reset_index(drop=True)
        return frame.astype({"pos": "int64", "rows": "int64", "count": "float64"})[_GROUP_COLS]

    def unplaced_groups(self) -> pd.DataFrame:
        """``status``, ``value``, ``closest``, ``period``, ``category``, ``rows``, ``count``, by first appearance."""
        frame = pd.concat(self.unplaced, ignore_index=True) if self.unplaced else _empty(_UNPLACED_COLS)
        frame = _sum_groups(frame, _UNPLACED_COLS[:5], False)
        return frame.astype({"rows": "int64", "count": "float64"})[_UNPLACED_COLS]

    def listed_rows(self) -> pd.DataFrame:
        """The listed rows not placed (see :data:`LIST_ROWS`), in row order."""
        frame = pd.concat(self.listed, ignore_index=True) if self.listed else _empty(_LISTED_COLS)
        return frame.astype({"row": "int64", "count": "float64"}).reset_index(drop=True)

    def rejected_rows(self) -> pd.DataFrame:
        """The listed rejected rows (``row``, ``reason``, ``count``: NaN where unreadable), in row order."""
        if not self.rejected:
            return _empty(["row", "reason", "count"]).astype({"row": "int64", "count": "float64"})
        frame = pd.concat(self.rejected, ignore_index=True)
        return frame[["row", "reason", "count"]].astype({"row": "int64", "count": "float64"}).reset_index(drop=True)

    def rejected_reasons(self) -> pd.DataFrame:
        """Rejected rows per reason: ``reason``, ``rows``, ``total`` (of the counts read), ``no_count`` (rows
        whose count could not be read), ``first_rows`` (of the listing)."""
        listed = pd.concat(self.rejected, ignore_index=True) if self.rejected else _empty(["row", "kind"])
        first = listed.groupby("kind", sort=False)["row"].apply(lambda r: ", ".join(map(str, r.head(5))))
        kinds = list(self.reasons)
        out = pd.DataFrame({"reason": kinds, "rows": [self.reasons[k] for k in kinds],
                            "total": [float(self.reason_totals.get(k, 0.0)) for k in kinds],
                            "no_count": [int(self.reason_uncounted.get(k, 0)) for k in kinds]})
        out = out.astype({"rows": "int64", "total": "float64", "no_count": "int64"})
        out["first_rows"] = out["reason"].map(first).fillna("")
        return out.sort_values(["rows", "reason"], ascending=[False, True], kind="stable").reset_index(drop=True)

    def odd_period_rows(self) -> pd.DataFrame:
        """The listed placed rows whose period is not a month: ``row``, ``period``, ``category`` (row order)."""
        if not self.odd_periods:
            return _empty(["row", "period", "category"]).astype({"row": "int64"})
        return pd.concat(self.odd_periods, ignore_index=True)

    @property
    def rejected_count(self) -> int:
        return int(sum(self.reasons.values()))

    def hint_sample(self) -> tuple[np.ndarray, np.ndarray, float]:
        """The first points with coordinates (x, y) and the share of all such points outside every area."""
        pts = np.concatenate(self.sample) if self.sample else np.empty((0, 2))
        share = self.finite_outside / self.finite if self.finite else 0.0
        return pts[:, 0], pts[:, 1], share
