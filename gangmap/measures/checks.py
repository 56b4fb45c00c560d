"""Input checks and result assembly shared by every measure.

Why a module of its own? Every measure validates its inputs the same way
(a column that is missing, not numeric, negative or fractional is named in
the error, with the codes of the areas involved and the fix) and hands its
result back the same way: an :class:`~gangmap.table.AreaTable` gets the new
columns declared *derived* (their sources expanded to raw counts through the
schema) with a note saying how they were made; a plain (Geo)DataFrame gets a
plain copy with the new columns and nothing else (no lineage, no attrs).
Keeping both rules here means no measure can forget one.

The words in messages follow the table's geography (``ward``, ``LSOA`` ...):
for an AreaTable its :class:`~gangmap.geography.Geography`, for a plain frame
the geography whose canonical code column it has (else plain "area", with the
index labels as ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import GangmapError, InputError
from ..geography import GEOGRAPHIES, Geography, detect_geography
from ..table import AreaTable

__all__ = ["Subject", "subject", "some", "check_per", "check_choice", "PermutationFloorWarning",
           "derived_sources"]


class PermutationFloorWarning(UserWarning):
    """The smallest attainable permutation p-value still decides significance (see hotspots)."""


def some(items: Iterable, limit: int = 10) -> str:
    """``"a, b, c"``, or the first ``limit`` and how many more: a readable list for error messages.

    The one home of this helper: :mod:`gangmap.planning` imports it too.
    """
    items = [str(i) for i in items]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" ... and {len(items) - limit} more"


def check_per(per: Any, func: str) -> float:
    """A positive rate multiplier (1,000 by default everywhere)."""
    try:
        value = float(per)
    except (TypeError, ValueError):
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise GangmapError(f"measures.{func}: per={per!r} must be a positive number, e.g. 1000.")
    return value


def check_choice(value: Any, choices: Sequence[str], name: str, func: str) -> str:
    if value not in choices:
        raise GangmapError(f"measures.{func}: {name}={value!r} is not one of {', '.join(map(repr, choices))}.")
    return value


@dataclass(frozen=True)
class Subject:
    """The table a measure works on: its frame, its roles (if any) and its words.

    ``table`` is None for a plain frame, whose result is then a plain frame.
    """

    frame: pd.DataFrame
    table: AreaTable | None
    geography: Geography
    func: str

    # ------------------------------------------------------------------ ids and words
    @property
    def has_codes(self) -> bool:
        return self.geography.code in self.frame.columns

    @property
    def ids(self) -> list:
        """Area codes in row order (the index labels when the frame has no code column)."""
        if self.has_codes:
            return self.frame[self.geography.code].tolist()
        return self.frame.index.tolist()

    def areas(self, codes: Sequence) -> str:
        """``"2 wards: A, B"`` for messages."""
        return f"{self.geography.count_of(len(codes))}: {some(codes)}"

    def codes_where(self, mask: np.ndarray) -> list:
        return [c for c, m in zip(self.ids, mask) if m]

    # ------------------------------------------------------------------ checks
    def require(self, columns: Iterable[str]) -> None:
        if len(self.frame) == 0:
            raise InputError(f"measures.{self.func}: the table has no rows. Pass at least one "
                             f"{self.geography.label}.")
        for col in columns:
            if col not in self.frame.columns:
                raise InputError(f"measures.{self.func}: column {col!r} not found. The table has columns "
                                 f"{some(list(self.frame.columns), 20)}. Pass the name of one of them.")

    def numeric(self, col: str) -> np.ndarray:
        try:
            return pd.to_numeric(self.frame[col], errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            bad = [c for c, v in zip(self.ids, self.frame[col])
                   if pd.notna(v) and pd.isna(pd.to_numeric(v, errors="coerce"))]
            raise InputError(f"measures.{self.func}: column {col!r} is not numeric ({self.areas(bad)}). "
                             f"Convert it to numbers first, e.g. pd.to_numeric(df[{col!r}]).") from exc

    def counts(self, col: str, *, whole: bool = True, skip: np.ndarray | None = None) -> np.ndarray:
        """Validated event counts: finite, not negative and (by default) whole.

        Rows in ``skip`` (left out by the caller) are not checked.
        """
        values = self.numeric(col)
        use = np.ones(len(values), bool) if skip is None else ~skip
        missing = self.codes_where(use & ~np.isfinite(values))
        if missing:
            raise InputError(f"measures.{self.func}: count column {col!r} is missing for {self.areas(missing)}. "
                             f"An area with no events should have count 0: fill with df[{col!r}].fillna(0); "
                             "an area whose count is hidden or unknown should be left out with exclude=.")
        negative = self.codes_where(use & (values < 0))
        if negative:
            raise InputError(f"measures.{self.func}: count column {col!r} is negative for {self.areas(negative)}. "
                             f"Counts must be 0 or more: check how {col!r} was built.")
        if whole:
            fractional = self.codes_where(use & np.isfinite(values) & (values != np.floor(values)))
            if fractional:
                raise InputError(f"measures.{self.func}: count column {col!r} has non-whole values for "
                                 f"{self.areas(fractional)}. Poisson methods need whole event counts: pass "
                                 "the raw count column, not a rate or an estimate.")
        return values

    def population(self, col: str, on_zero: str, *, skip: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, list]:
        """Population values, a mask of usable areas and the codes of unusable ones."""
        check_choice(on_zero, ("raise", "exclude"), "on_zero", self.func)
        values = self.numeric(col)
        use = np.ones(len(values), bool) if skip is None else ~skip
        ok = np.isfinite(values) & (values > 0) & use
        bad = self.codes_where(use & ~ok)
        if bad and on_zero == "raise":
            raise InputError(f"measures.{self.func}: population column {col!r} is zero, negative or missing for "
                             f"{self.areas(bad)}. A rate needs a population above zero: fix the population "
                             "table for these areas, or pass on_zero='exclude' to leave them out (their values "
                             "become NaN and they are listed in the column's notes).")
        if not ok.any():
            raise InputError(f"measures.{self.func}: no {self.geography.label} has a population above zero in "
                             f"column {col!r}. Check that the population table was joined "
                             "(gangmap.join(..., population=...)).")
        return values, ok, bad

    def mask(self, exclude: Any) -> np.ndarray:
        """``exclude`` (None, a boolean mask in row order, or area codes) as a boolean mask."""
        n = len(self.frame)
        if exclude is None:
            return np.zeros(n, bool)
        values = exclude.to_numpy() if isinstance(exclude, (pd.Series, pd.Index)) else np.asarray(list(exclude),
                                                                                                    dtype=object)
        if len(values) == n and all(isinstance(v, (bool, np.bool_)) for v in values):
            return values.astype(bool)
        codes = set(map(str, values))
        unknown = sorted(codes - set(map(str, self.ids)))
        if unknown:
            raise InputError(f"measures.{self.func}: exclude= names {self.areas(unknown)} that are not in the "
                             f"table; pass codes from {self.geography.code!r} or a boolean mask in row order.")
        return np.array([str(c) in codes for c in self.ids], dtype=bool)

    # ------------------------------------------------------------------ results
    def finish(self, new: Mapping[str, Any], sources: Iterable[str], notes: Mapping[str, Any] | None = None):
        """The result: an AreaTable with ``new`` declared derived from ``sources`` and ``notes``
        recorded for each new column, or a plain copy of a plain frame with the new columns."""
        if self.table is not None:
            return self.table.with_columns(dict(new), sources=list(dict.fromkeys(sources)),
                                           notes=dict(notes) if notes is not None else None)
        out = self.frame.copy()
        out.attrs.clear()  # a plain frame carries no lineage: pandas attrs are never trusted
        for col, values in new.items():
            out[col] = values
        return out


def subject(obj: Any, func: str) -> Subject:
    """The :class:`Subject` for an AreaTable or a plain (Geo)DataFrame (anything else: InputError)."""
    if isinstance(obj, AreaTable):
        return Subject(obj.frame, obj, obj.geography, func)
    if isinstance(obj, pd.DataFrame):
        geo = detect_geography(obj.columns) or GEOGRAPHIES["area"]
        return Subject(obj, None, geo, func)
    raise InputError(f"measures.{func}: expected an AreaTable or a pandas/geopandas DataFrame with one row per "
                     f"area, got {type(obj).__name__}. Pass the table from gangmap.join().")


def derived_sources(obj: Any, column: str) -> list[str]:
    """The raw count columns ``column`` was computed from, read from the schema.

    For an :class:`~gangmap.table.AreaTable` this is the expanded lineage
    (a count is its own source, a public column has none); a plain frame
    carries no lineage, so ``column`` itself is returned.

    Examples
    --------
    >>> import pandas as pd
    >>> from gangmap import measures
    >>> from gangmap.table import from_frame
    >>> t = from_frame(pd.DataFrame({"ward_code": ["E05000001"], "reports": [3], "population": [1500]}),
    ...                counts=["reports"], context=["population"])
    >>> measures.derived_sources(measures.rate(t, "reports", "population"), "reports_rate")
    ['reports']
    """
    if isinstance(obj, AreaTable):
        return list(obj.schema.expand([column], what=repr(column)))
    return [column]
