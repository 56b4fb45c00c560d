"""Make ward tables safe to share: the one disclosure policy every export goes through.

The counts gangmap maps are about children at risk of gang involvement, so a
small number in a small area could identify a child. Nothing leaves gangmap
(CSV, spreadsheet, PNG, HTML map) unless it is a :class:`SafeTable`, and the
only way to make one is :func:`make_safe`::

    safe = make_safe(table, counts=["reports", "referrals"])     # policy "nhs"
    safe.frame      # only identifiers, geometry, safe values and `keep` columns
    safe.display    # strings for tables and tooltips ("*" where suppressed)
    safe.totals     # district and county totals, from raw values, made safe
    safe.provenance.footer()

Policies
--------
``nhs`` (default)
    0 stays 0; 1–7 is suppressed; every other count is rounded to the nearest
    5 (half up, so 8 → 10, 12 → 10, 13 → 15). District and county totals are
    added up from the *raw* counts, then made safe by the same rule.
``threshold`` (option ``k``, default 10)
    Counts 1..k-1 are suppressed; 0 stays 0 (option ``suppress_zero``); other
    counts are shown exactly. Secondary suppression (below) stops a suppressed
    count being worked out from the totals.
``none``
    Nothing is hidden. Needs ``allow_unsafe=True``; every output is stamped
    ``UNSUPPRESSED – INTERNAL ONLY``.

Worked examples
---------------
Two districts; the county total is 56 and the district totals 28 and 28.

>>> import pandas as pd
>>> t = pd.DataFrame({
...     "ward_code": ["W1", "W2", "W3", "W4", "W5", "W6"],
...     "lad_code":  ["D1", "D1", "D1", "D2", "D2", "D2"],
...     "reports":   [0, 3, 25, 8, 12, 8]})
>>> safe = make_safe(t, ["reports"])                        # nhs
>>> safe.display["reports"].tolist()
['0', '*', '25', '10', '10', '10']
>>> safe.totals[["level", "code", "reports"]]
      level code  reports
0  district   D1     30.0
1  district   D2     30.0
2    county          55.0

W2 (3) is suppressed. The totals are rounded from the raw sums (28 → 30,
56 → 55), not added up from rounded wards (which would give 35 and 65).
Rounding keeps W2 hidden: a shown 30 is 28–32 and a shown 25 is 23–27, so
from what is shown W2 could be anything from 1 to 6 (:func:`audit`):

>>> audit(safe)[["code", "low", "high", "recoverable"]]
  code  low  high  recoverable
0   W2  1.0   6.0        False

>>> safe = make_safe(t, ["reports"], policy="threshold")    # k=10
>>> safe.display["reports"].tolist()
['0', '*', '*', '*', '12', '*']
>>> safe.totals["reports"].tolist()
[28.0, 28.0, 56.0]

W2 (3), W4 (8) and W6 (8) are below 10 (primary suppression). In D1, W2 would
be 28 - 0 - 25 = 3, so W3 (the smallest other non-zero ward) is hidden too
(secondary suppression). In D2 two wards are hidden, but all we learn is
W4 + W6 = 16, which does not pin either one down.

>>> safe = make_safe(t, ["reports"], policy="none", allow_unsafe=True)
>>> safe.provenance.marking
'UNSUPPRESSED – INTERNAL ONLY · OFFICIAL-SENSITIVE'

Derived figures
---------------
Rates, smoothed rates, indices and cluster labels computed from counts are
listed in ``derived`` (or in ``table.attrs["gangmap_derived"]``, which the
measures in :mod:`gangmap.measures` fill in). A derived value is suppressed in
every row where any of its source counts is suppressed (primary or
secondary); elsewhere it is shown, rounded to 3 significant figures. Where a
derived value is shown its numerator is at least the threshold (8 for nhs,
k for threshold), so it does not disclose a small number.

Secondary suppression
---------------------
The wards, district totals and county total of one count column form a tree
(each total is the sum of its children). After the primary cells are
suppressed, gangmap works out, for each suppressed cell, the exact range of
values consistent with everything shown (an interval calculation that is
exact for a tree of sums: see :func:`audit`). While some suppressed cell's
range is a single value, it suppresses more: the smallest non-zero cell that
frees it among its siblings, its own children (the wards of a hidden
district) and its parent total; failing that a sibling total together with
one of its wards (a total whose wards are all shown is no use hidden alone);
then the same further away; the county total last. Zeros are never hidden
this way. Two readers are checked: one who sees only what is shown (no hidden
cell may be worked out), and a better-informed one who also knows which
hidden cells are the small ones (1–7, or 1..k-1) and the wards' unrounded
counts (rates next to public populations can give them away): no small cell
may be worked out by them either, unless even hiding every non-zero cell
could not prevent it (e.g. k=3 and a district of wards 1, 1, 0). Under
``nhs`` this is rarely needed (wards 8, 8 and 1 with a total of 17 shown as
15 would give the 1 away) but is done the same way.

Limitations: the check covers the totals in :attr:`SafeTable.totals` only. A
spatially smoothed value shown for a ward depends on its neighbours' counts,
so publishing it next to a suppressed neighbour leaks a little about it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, DisclosureError

__all__ = [
    "Policy",
    "POLICIES",
    "get_policy",
    "Provenance",
    "SafeTable",
    "make_safe",
    "is_safe",
    "require_safe",
    "audit",
    "UNSAFE_STAMP",
]

#: Stamp put on everything made with an unsafe policy.
UNSAFE_STAMP = "UNSUPPRESSED – INTERNAL ONLY"

#: Ward identifier columns kept in every SafeTable when present.
IDENTIFIERS = ("ward_code", "ward_name", "lad_code", "lad_name")

_INF = math.inf


# --------------------------------------------------------------------------- policies
@dataclass(frozen=True)
class Policy:
    """A disclosure rule: which counts are hidden, how the others are rounded.

    Use :func:`get_policy` (or pass a name to :func:`make_safe`) rather than
    building one directly.

    Attributes
    ----------
    name : str
        ``"nhs"``, ``"threshold"`` or ``"none"``.
    min_shown : int
        Smallest non-zero count that is shown: 1..min_shown-1 is suppressed.
    rounding : int
        Shown counts are rounded half up to a multiple of this (1: exact).
    suppress_zero : bool
        Hide zeros too (counts 0..min_shown-1).
    secondary : bool
        Hide more cells so suppressed ones cannot be worked out from totals.
    marker : str
        What a suppressed cell shows in :attr:`SafeTable.display`.
    sig_figs : int or None
        Significant figures for derived (non-count) numbers; None keeps them.
    nodata_text : str
        What a cell with no data shows in :attr:`SafeTable.display`.
    stamp : str or None
        Marking forced onto every output (unsafe policies only).

    Examples
    --------
    >>> p = get_policy("threshold", k=5)
    >>> p.label
    '1–4 (suppressed)'
    >>> [p.shown_value(v) for v in (0, 4, 5, 13)]
    [0, None, 5, 13]
    """

    name: str
    min_shown: int
    rounding: int = 1
    suppress_zero: bool = False
    secondary: bool = True
    marker: str = "*"
    sig_figs: int | None = 3
    nodata_text: str = "no data"
    stamp: str | None = None

    # -- rule -------------------------------------------------------------
    @property
    def safe(self) -> bool:
        """True unless the policy needs ``allow_unsafe=True``."""
        return self.stamp is None

    @property
    def primary_range(self) -> tuple[int, int]:
        """The raw values that are always suppressed, as ``(low, high)`` (empty if low > high)."""
        return (0 if self.suppress_zero else 1, self.min_shown - 1)

    def is_primary(self, raw: int) -> bool:
        """Whether a raw count is suppressed by the rule itself."""
        lo, hi = self.primary_range
        return lo <= raw <= hi

    def round(self, raw: int) -> int:
        """Round a raw count (that is not suppressed) for display: half up to ``rounding``."""
        r = self.rounding
        if r <= 1 or raw == 0:
            return int(raw)
        return max(int((raw + r // 2) // r * r), r)

    def shown_value(self, raw: int) -> int | None:
        """The value shown for a raw count on its own: None if suppressed, else rounded."""
        return None if self.is_primary(raw) else self.round(raw)

    def band(self, shown: float) -> tuple[int, int]:
        """The raw values that are shown as ``shown``: ``(low, high)``."""
        s = int(shown)
        if s == 0 or self.rounding <= 1:
            return (s, s)
        r = self.rounding
        lo, hi = s - r // 2, s + r - 1 - r // 2
        return (max(lo, self.min_shown), hi)

    # -- words ------------------------------------------------------------
    def _range_text(self) -> str:
        lo, hi = self.primary_range
        return f"{lo}–{hi}" if hi > lo else f"{lo}"

    @property
    def label(self) -> str:
        """Legend text for the suppressed class, e.g. ``'1–7 (suppressed)'``."""
        if self.primary_range[1] < self.primary_range[0]:
            return "suppressed"
        return f"{self._range_text()} (suppressed)"

    @property
    def summary(self) -> str:
        """A short description for footers, e.g. ``'0 stays 0; 1–7 suppressed; others rounded to 5'``."""
        if self.name == "none":
            return "no suppression"
        parts = [] if self.suppress_zero else ["0 stays 0"]
        parts.append(f"{self._range_text()} suppressed")
        if self.rounding > 1:
            parts.append(f"others rounded to {self.rounding}")
        elif self.secondary:
            parts.append("others exact, with secondary suppression")
        if not self.secondary:
            parts.append("no secondary suppression")
        return "; ".join(parts)

    def describe(self) -> str:
        """One paragraph saying what is shown and why (for READMEs and map footers).

        Examples
        --------
        >>> print(get_policy("nhs").describe())  # doctest: +ELLIPSIS
        Counts of 0 are shown as 0: ... Counts from 1 to 7 are hidden (shown as '*') ...
        """
        m = self.marker
        if self.name == "none":
            return (f"{UNSAFE_STAMP}. Every count is shown exactly as recorded: nothing is hidden "
                    "or rounded, so small numbers that could identify a child are visible. Use this "
                    "only inside the team that holds the raw data, and never publish or share it.")
        lo, hi = self.primary_range
        zero = ("Counts of 0 are hidden too. " if self.suppress_zero else
                "Counts of 0 are shown as 0: knowing that no child was reported in a ward does "
                "not identify anyone. ")
        small = (f"Counts from {max(lo, 1)} to {hi} are hidden (shown as '{m}') because such "
                 "small numbers could identify a child. ")
        if self.rounding > 1:
            rest = (f"All other counts are rounded to the nearest {self.rounding} ("
                    f"{self.min_shown} shows as {self.round(self.min_shown)}), so a hidden count cannot "
                    "be worked out exactly by taking shown figures away from a total. District and "
                    "county totals are added up from the unrounded counts and then treated the "
                    "same way. In the rare case where a hidden count could still be worked out, "
                    "another figure is hidden too. ")
        else:
            rest = ("All other counts are shown exactly. So that a hidden count cannot be worked "
                    "out by taking shown figures away from a district or county total, some other "
                    "counts (the smallest that will do) are hidden as well (secondary "
                    "suppression); totals are added up from the raw counts. ")
            if not self.secondary:
                rest = ("All other counts are shown exactly. There is NO secondary suppression, so "
                        "some hidden counts can be worked out from the totals: internal use only. ")
        derived = ("Rates and other figures worked out from a hidden count are hidden as well.")
        return zero + small + rest + derived


def _nhs() -> Policy:
    return Policy(name="nhs", min_shown=8, rounding=5)


#: The named policies. Use :func:`get_policy` to set options.
POLICIES: Mapping[str, Policy] = types.MappingProxyType({
    "nhs": _nhs(),
    "threshold": Policy(name="threshold", min_shown=10),
    "none": Policy(name="none", min_shown=1, secondary=False, stamp=UNSAFE_STAMP),
})

_COMMON_OPTIONS = ("marker", "sig_figs", "nodata_text")
_OPTIONS = {
    "nhs": _COMMON_OPTIONS,
    "threshold": (*_COMMON_OPTIONS, "k", "suppress_zero", "secondary"),
    "none": _COMMON_OPTIONS,
}


def get_policy(name_or_policy: str | Policy = "nhs", **options: Any) -> Policy:
    """Return a :class:`Policy` by name, with options applied.

    Parameters
    ----------
    name_or_policy : str or Policy
        ``"nhs"``, ``"threshold"`` or ``"none"``, or a Policy to adjust.
    **options
        ``marker`` (default ``"*"``), ``sig_figs`` (3; None keeps derived
        figures unrounded), ``nodata_text`` (``"no data"``); for
        ``threshold`` also ``k`` (10: counts 1..k-1 are hidden; at least 3),
        ``suppress_zero`` (False) and ``secondary`` (True; False makes the
        policy unsafe).

    Raises
    ------
    ConfigError
        Unknown policy name, unknown option or a bad option value.

    Examples
    --------
    >>> get_policy("threshold", k=5).min_shown
    5
    >>> get_policy("nhs").summary
    '0 stays 0; 1–7 suppressed; others rounded to 5'
    """
    if isinstance(name_or_policy, Policy):
        base = name_or_policy
    elif isinstance(name_or_policy, str):
        key = name_or_policy.strip().lower()
        if key not in POLICIES:
            raise ConfigError(f"unknown disclosure policy {name_or_policy!r}; choose one of "
                              f"{', '.join(POLICIES)} (default 'nhs').")
        base = POLICIES[key]
    else:
        raise ConfigError(f"policy must be a name ({', '.join(POLICIES)}) or a Policy, "
                          f"not {type(name_or_policy).__name__}.")
    if not options:
        return base
    allowed = _OPTIONS.get(base.name, _COMMON_OPTIONS)
    unknown = [k for k in options if k not in allowed]
    if unknown:
        hint = ""
        if base.name == "nhs" and any(k in ("k", "suppress_zero", "secondary") for k in unknown):
            hint = " The nhs rule is fixed; use policy='threshold' with k=... for a different threshold."
        raise ConfigError(f"policy {base.name!r} has no option {unknown[0]!r}; its options are "
                          f"{', '.join(allowed)}.{hint}")
    changes: dict[str, Any] = {}
    for key, value in options.items():
        if key == "k":
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 3:
                raise ConfigError(f"threshold k must be a whole number of at least 3 (counts 1..k-1 "
                                  f"are hidden), got {value!r}.")
            changes["min_shown"] = int(value)
        elif key in ("suppress_zero", "secondary"):
            if not isinstance(value, (bool, np.bool_)):
                raise ConfigError(f"{key} must be True or False, got {value!r}.")
            changes[key] = bool(value)
        elif key == "marker":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"marker must be a non-empty string such as '*', got {value!r}.")
            changes[key] = value
        elif key == "nodata_text":
            if not isinstance(value, str):
                raise ConfigError(f"nodata_text must be a string such as 'no data' or '', got {value!r}.")
            changes[key] = value
        elif key == "sig_figs":
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                      or not 1 <= value <= 15):
                raise ConfigError(f"sig_figs must be a whole number from 1 to 15, or None, got {value!r}.")
            changes[key] = None if value is None else int(value)
    policy = dataclasses.replace(base, **changes)
    if policy.name == "threshold":
        stamp = None if policy.secondary else f"{UNSAFE_STAMP} (primary suppression only)"
        policy = dataclasses.replace(policy, stamp=stamp)
    if policy.marker == policy.nodata_text:
        raise ConfigError(f"marker and nodata_text are both {policy.marker!r}; suppressed and "
                          "no-data cells must look different.")
    return policy


# --------------------------------------------------------------------------- provenance
def _version() -> str:
    try:
        from gangmap import __version__
    except Exception:  # pragma: no cover - package being assembled
        return "0+unknown"
    return str(__version__)


def _now() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        t = datetime.fromtimestamp(int(epoch), tz=UTC)
    else:
        t = datetime.now(UTC)
    return t.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Provenance:
    """Where a SafeTable came from: period, policy, time, version and marking.

    Examples
    --------
    >>> p = Provenance(period="2018-03", policy="nhs", generated="2026-11-21T10:00:00Z",
    ...                version="0.1.0", marking="OFFICIAL-SENSITIVE",
    ...                summary="0 stays 0; 1–7 suppressed; others rounded to 5")
    >>> p.footer()
    'Data: 2018-03 · Disclosure: nhs (0 stays 0; 1–7 suppressed; others rounded to 5) · Generated 2026-11-21 10:00 UTC · gangmap 0.1.0 · OFFICIAL-SENSITIVE'
    """

    period: str | None
    policy: str
    generated: str
    version: str
    marking: str
    summary: str = ""
    stamp: str | None = None

    def footer(self) -> str:
        """One line for map footers and table notes."""
        parts = []
        if self.period:
            parts.append(f"Data: {self.period}")
        parts.append(f"Disclosure: {self.policy}" + (f" ({self.summary})" if self.summary else ""))
        when = self.generated.replace("T", " ").rstrip("Z")
        parts.append(f"Generated {when[:16]} UTC")
        parts.append(f"gangmap {self.version}")
        if self.marking:
            parts.append(self.marking)
        return " · ".join(parts)


# --------------------------------------------------------------------------- SafeTable
_MAKER = object()


@dataclass(frozen=True, repr=False, eq=False)
class SafeTable:
    """A ward table after the disclosure policy: the only thing exporters accept.

    Made by :func:`make_safe`; holds no raw counts.

    Attributes
    ----------
    frame : DataFrame or GeoDataFrame
        Identifiers, geometry (if any), the safe value columns and ``keep``
        columns only. Suppressed and no-data cells are NaN (counts are float).
    suppressed : DataFrame of bool
        One column per safe value column; True only where suppressed.
    nodata : DataFrame of bool
        True where the input had no data (NaN); never also suppressed.
    display : DataFrame of str
        Identifier, value and keep columns as text: the marker where
        suppressed, ``policy.nodata_text`` where no data.
    totals : DataFrame
        One row per district and a county row (``level``, ``code``, ``name``),
        then per count column the safe total and ``<column>_suppressed``.
    policy : Policy
    provenance : Provenance
    counts : tuple of str
        The count columns.
    derived : mapping
        ``{derived column: (source counts, ...)}``.
    hierarchy : tuple of str
        The grouping columns the totals are for (coarsest first).
    dropped : tuple of str
        Input columns left out (not allow-listed).
    """

    frame: pd.DataFrame
    suppressed: pd.DataFrame
    nodata: pd.DataFrame
    display: pd.DataFrame
    totals: pd.DataFrame
    policy: Policy
    provenance: Provenance
    counts: tuple[str, ...]
    derived: Mapping[str, tuple[str, ...]]
    hierarchy: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    _maker: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._maker is not _MAKER:
            raise DisclosureError("a SafeTable can only be made by gangmap.disclosure.make_safe("
                                  "table, counts=[...]).")

    @property
    def columns(self) -> list[str]:
        """The safe value columns: counts, then derived columns."""
        return list(self.suppressed.columns)

    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        n = int(self.suppressed.to_numpy().sum())
        return (f"<SafeTable {len(self.frame)} rows, columns={self.columns}, policy={self.policy.name!r}, "
                f"{n} cells suppressed>")


def is_safe(obj: Any) -> bool:
    """True if ``obj`` is a :class:`SafeTable`.

    Examples
    --------
    >>> is_safe(pd.DataFrame({"reports": [1]}))
    False
    """
    return isinstance(obj, SafeTable)


def require_safe(obj: Any, what: str = "a table") -> SafeTable:
    """Return ``obj`` if it is a SafeTable, else raise :class:`DisclosureError`.

    Exporters call this first.

    Examples
    --------
    >>> require_safe(pd.DataFrame(), "a CSV")
    Traceback (most recent call last):
    ...
    gangmap.errors.DisclosureError: Exporting a CSV needs a SafeTable: call gangmap.disclosure.make_safe(table, counts=[...]) first
    """
    if not isinstance(obj, SafeTable):
        raise DisclosureError(f"Exporting {what} needs a SafeTable: call "
                              "gangmap.disclosure.make_safe(table, counts=[...]) first")
    return obj


# --------------------------------------------------------------------------- the tree of sums
class _Tree:
    """The county (node 0), the groups of each hierarchy level, then one node per ward.

    Nodes are numbered top-down, so every parent comes before its children.
    """

    def __init__(self, frame: pd.DataFrame, hierarchy: Sequence[str]):
        self.hierarchy = tuple(hierarchy)
        parent: list[int] = [-1]
        level: list[str] = ["county"]
        code: list[Any] = [""]
        name: list[Any] = ["All areas"]
        n_rows = len(frame)
        up = np.zeros(n_rows, dtype=int)  # node of each row at the previous level
        for h in self.hierarchy:
            name_col = _name_column(h, frame)
            codes = frame[h].tolist()
            names = frame[name_col].tolist() if name_col else [""] * n_rows
            index: dict[Any, int] = {}
            here = np.zeros(n_rows, dtype=int)
            for r in range(n_rows):
                key = codes[r]
                node = index.get(key)
                if node is None:
                    node = len(parent)
                    index[key] = node
                    parent.append(int(up[r]))
                    level.append(_level_name(h))
                    code.append(key)
                    name.append(names[r])
                elif parent[node] != up[r]:
                    raise DisclosureError(
                        f"{h} {key!r} sits in more than one group of the level above; the hierarchy "
                        f"{self.hierarchy} must nest, coarsest first.")
                here[r] = node
            up = here
        self.first_ward = len(parent)
        ward_codes = frame["ward_code"].tolist() if "ward_code" in frame else list(frame.index)
        ward_names = frame["ward_name"].tolist() if "ward_name" in frame else [""] * n_rows
        for r in range(n_rows):
            parent.append(int(up[r]))
            level.append("ward")
            code.append(ward_codes[r])
            name.append(ward_names[r])
        self.parent = parent
        self.level = level
        self.code = code
        self.name = name
        self.n = len(parent)
        self.children: list[list[int]] = [[] for _ in range(self.n)]
        for v in range(1, self.n):
            self.children[parent[v]].append(v)
        self.internal = [v for v in range(self.n) if self.children[v]]

    def raw(self, ward_values: np.ndarray) -> np.ndarray:
        """Node values from ward values (NaN = no data); a group with no data at all is NaN."""
        vals = np.full(self.n, np.nan)
        vals[self.first_ward:] = ward_values
        for v in range(self.first_ward - 1, -1, -1):
            ch = vals[self.children[v]]
            ch = ch[~np.isnan(ch)]
            vals[v] = ch.sum() if len(ch) else np.nan
        return vals


def _level_name(column: str) -> str:
    if column == "lad_code":
        return "district"
    return column[:-5] if column.endswith("_code") else column


def _name_column(column: str, frame: pd.DataFrame) -> str | None:
    if column.endswith("_code") and column[:-5] + "_name" in frame:
        return column[:-5] + "_name"
    return None


def _intervals(tree: _Tree, lo: list[float], hi: list[float]):
    """Exact range of each node given node domains ``[lo, hi]`` and the sums.

    For a tree of sums of integers with interval domains, one pass up and one
    pass down give the exact feasible range of every node (the constraint
    network is acyclic and a sum of integer intervals is an integer interval).

    Returns ``(F_lo, F_hi, B_lo, B_hi, O_lo, O_hi)``: feasible range, the range
    implied by the node's children (±inf for wards) and the range implied by
    everything outside its subtree.
    """
    n = tree.n
    children = tree.children
    u_lo = [0.0] * n
    u_hi = [0.0] * n
    b_lo = [-_INF] * n
    b_hi = [_INF] * n
    for v in range(n - 1, -1, -1):
        ch = children[v]
        if ch:
            s_lo = 0.0
            s_hi = 0.0
            for c in ch:
                s_lo += u_lo[c]
                s_hi += u_hi[c]
            b_lo[v] = s_lo
            b_hi[v] = s_hi
            u_lo[v] = max(lo[v], s_lo)
            u_hi[v] = min(hi[v], s_hi)
        else:
            u_lo[v] = lo[v]
            u_hi[v] = hi[v]
    o_lo = [-_INF] * n
    o_hi = [_INF] * n
    for p in tree.internal:  # top-down: parents are numbered first
        a_lo = max(o_lo[p], lo[p])
        a_hi = min(o_hi[p], hi[p])
        ch = children[p]
        s_lo = b_lo[p]
        fin_hi = 0.0
        n_inf = 0
        for c in ch:
            if u_hi[c] == _INF:
                n_inf += 1
            else:
                fin_hi += u_hi[c]
        for c in ch:
            if u_hi[c] == _INF:
                sib_hi = _INF if n_inf > 1 else fin_hi
            else:
                sib_hi = _INF if n_inf else fin_hi - u_hi[c]
            sib_lo = s_lo - u_lo[c]
            o_lo[c] = a_lo - sib_hi
            o_hi[c] = a_hi - sib_lo
    f_lo = [max(lo[v], b_lo[v], o_lo[v]) for v in range(n)]
    f_hi = [min(hi[v], b_hi[v], o_hi[v]) for v in range(n)]
    return f_lo, f_hi, b_lo, b_hi, o_lo, o_hi


def _width(a: float, b: float) -> float:
    return min(b - a, 1e9)


class _Protector:
    """Primary and secondary suppression of one count column over a tree."""

    def __init__(self, tree: _Tree, raw: np.ndarray, policy: Policy, forced=None):
        self.tree = tree
        self.policy = policy
        self.forced = [False] * tree.n if forced is None else [bool(f) for f in forced]
        self.present = ~np.isnan(raw)
        self.rawi = [int(x) if p else 0 for x, p in zip(raw, self.present)]
        self.primary = [bool(p) and policy.is_primary(x) for x, p in zip(self.rawi, self.present)]
        self.floor = 0 if policy.suppress_zero else 1
        # Domains of shown cells: wards exact (rates may give the unrounded count away),
        # totals by their rounding band. Absent (no data) nodes contribute exactly 0.
        self.shown_lo: list[float] = []
        self.shown_hi: list[float] = []
        for v in range(tree.n):
            x = self.rawi[v]
            if v >= tree.first_ward or not self.present[v]:
                self.shown_lo.append(float(x))
                self.shown_hi.append(float(x))
            else:
                a, b = policy.band(policy.round(x))
                self.shown_lo.append(float(a))
                self.shown_hi.append(float(b))

    def _domains(self, supp: Sequence[bool], insider: bool):
        lo = list(self.shown_lo)
        hi = list(self.shown_hi)
        p_lo, p_hi = self.policy.primary_range
        for v in range(self.tree.n):
            if supp[v]:
                if insider and self.primary[v]:
                    lo[v], hi[v] = float(p_lo), float(p_hi)
                else:
                    lo[v], hi[v] = float(self.floor), _INF
        return lo, hi

    def _set(self, lo, hi, v, insider):
        if insider and self.primary[v]:
            p_lo, p_hi = self.policy.primary_range
            lo[v], hi[v] = float(p_lo), float(p_hi)
        else:
            lo[v], hi[v] = float(self.floor), _INF

    def run(self) -> list[bool]:
        tree = self.tree
        supp = [p or f for p, f in zip(self.primary, self.forced)]
        if not self.policy.secondary or not any(supp):
            return supp
        n = tree.n
        # Two readers. "pub" sees only what is shown: no hidden cell may be pinned down for
        # them. "lite" (insider) also knows which hidden cells are small (the primary range)
        # and the exact shown ward counts: no primary cell may be pinned down for them
        # either, unless even hiding every non-zero cell could not stop it ("unavoidable").
        everything = [bool(self.present[v]) and (self.primary[v] or self.rawi[v] > 0) for v in range(n)]
        f_lo, f_hi, *_ = _intervals(tree, *self._domains(everything, True))
        unavoidable = [everything[v] and f_lo[v] >= f_hi[v] for v in range(n)]
        lite = self._domains(supp, True)
        pub = self._domains(supp, False)
        for _ in range(n + 1):
            li = _intervals(tree, *lite)
            pu = _intervals(tree, *pub)
            target = None
            for v in range(n):
                if supp[v] and (pu[0][v] >= pu[1][v] or (
                        self.primary[v] and not unavoidable[v] and li[0][v] >= li[1][v])):
                    target = v
                    break
            if target is None:
                return supp
            insider = self.primary[target] and not unavoidable[target]
            for u in self._choose(supp, target, lite if insider else pub, li if insider else pu, insider):
                supp[u] = True
                self._set(lite[0], lite[1], u, True)
                self._set(pub[0], pub[1], u, False)
        raise RuntimeError("secondary suppression did not settle; please report this.")  # pragma: no cover

    def _frees(self, dom, target, cells, insider) -> tuple[bool, float]:
        """Whether hiding ``cells`` un-pins ``target``, and how much room it leaves."""
        saved = [(dom[0][u], dom[1][u]) for u in cells]
        for u in cells:
            self._set(dom[0], dom[1], u, insider)
        res = _intervals(self.tree, *dom)
        for u, (a, b) in zip(cells, saved):
            dom[0][u], dom[1][u] = a, b
        return res[0][target] < res[1][target], self._progress(res, dom, target)

    def _choose(self, supp, target, dom, current, insider) -> list[int]:
        """The cell(s) to hide next so that ``target`` can no longer be worked out.

        In order: the smallest single cell nearby (a sibling, an own child or
        the parent total) that frees it; else a nearby total together with
        one of its children (a total whose parts are all shown is no use
        hidden alone); the same for cells further away; else the county
        total; else the cell that widens the target's range most; else the
        nearest smallest cell.
        """
        tree = self.tree
        cands = self._candidates(supp, target)
        if not cands:  # pragma: no cover - hiding every non-zero cell frees everything
            raise RuntimeError("secondary suppression found no cell to hide; please report this.")
        base = self._progress(current, dom, target)
        dist = self._distance
        near = [u for u in cands if u != 0 and dist(target, u) <= 1]
        far = [u for u in cands if u != 0 and dist(target, u) > 1]
        best_prog, best = base, None
        for group in (near, far):
            for u in group:
                freed, prog = self._frees(dom, target, [u], insider)
                if freed:
                    return [u]
                if prog > best_prog:
                    best_prog, best = prog, u
            for u in group:
                if not tree.children[u]:
                    continue
                kids = sorted((self.rawi[w], w) for w in tree.children[u]
                              if not supp[w] and self.present[w] and self.rawi[w] > 0)
                for _, w in kids:
                    if self._frees(dom, target, [u, w], insider)[0]:
                        return [u, w]
        if 0 in cands:
            freed, prog = self._frees(dom, target, [0], insider)
            if freed:
                return [0]
            if best is None and prog > best_prog:
                best = 0
        return [best if best is not None else cands[0]]

    @staticmethod
    def _progress(res, dom, v) -> float:
        f_lo, f_hi, b_lo, b_hi, o_lo, o_hi = res
        lo, hi = dom[0][v], dom[1][v]
        return (_width(max(lo, b_lo[v]), min(hi, b_hi[v]))
                + _width(max(lo, o_lo[v]), min(hi, o_hi[v])))

    def _distance(self, v: int, u: int) -> int:
        """0: sibling or child of v; 1: its parent; 2: anything else; 3: the county total."""
        tree = self.tree
        p = tree.parent[v]
        if u == 0:
            return 3
        if tree.parent[u] == v or (p >= 0 and tree.parent[u] == p):
            return 0
        return 1 if u == p else 2

    def _candidates(self, supp, v) -> list[int]:
        """Cells that may still be hidden (non-zero, shown), nearest and smallest first."""
        out = [(self._distance(v, u), self.rawi[u], u) for u in range(self.tree.n)
               if not supp[u] and self.present[u] and self.rawi[u] > 0]
        out.sort()
        return [u for _, _, u in out]


# --------------------------------------------------------------------------- make_safe
def _row_label(table: pd.DataFrame, pos: int) -> str:
    label = f"row {table.index[pos]!r}"
    if "ward_code" in table:
        label += f" (ward {table['ward_code'].iloc[pos]})"
    return label


def _columns_text(table: pd.DataFrame) -> str:
    cols = [str(c) for c in table.columns]
    return ", ".join(cols) if len(cols) <= 40 else ", ".join(cols[:40]) + ", ..."


def _require_columns(table: pd.DataFrame, names: Iterable[str], what: str, fix: str) -> None:
    for c in names:
        if c not in table.columns:
            raise DisclosureError(f"{what} column {c!r} is not in the table; its columns are: "
                                  f"{_columns_text(table)}. {fix}")


def _count_values(table: pd.DataFrame, column: str) -> np.ndarray:
    s = table[column]
    if pd.api.types.is_bool_dtype(s):
        raise DisclosureError(f"count column {column!r} holds True/False, not counts; "
                              "pass the column of whole-number counts.")
    if pd.api.types.is_numeric_dtype(s):
        vals = s.to_numpy(dtype=float, na_value=np.nan)
    else:
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna() & s.notna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise DisclosureError(f"count column {column!r} holds {s.iloc[pos]!r} in "
                                  f"{_row_label(table, pos)}; counts must be whole numbers of 0 or more "
                                  "(leave a cell empty for no data).")
        vals = num.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(vals) & (np.isinf(vals) | (vals < 0) | (vals != np.floor(vals)))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        v = vals[pos]
        why = "is negative" if v < 0 else "is not a whole number"
        raise DisclosureError(f"count column {column!r} has {v:g} in {_row_label(table, pos)}, which {why}; "
                              "counts must be whole numbers of 0 or more (leave a cell empty for no "
                              "data). Check this is a raw count, not a rate.")
    return vals


def _resolve_derived(table, counts, derived, keep):
    """Return ({derived: sources}, [dropped derived], {every source named}).

    Sources are expanded to count columns (a rate of a smoothed count is
    derived from the count).
    """
    explicit = derived is not None
    given = dict(derived) if explicit else dict(table.attrs.get("gangmap_derived", {}) or {})
    if not isinstance(given, Mapping):
        raise DisclosureError("derived must be a dict {derived column: [source count columns]}.")
    if explicit:
        _require_columns(table, given, "derived",
                         "Pass derived={column: [source counts]} for columns of this table.")
    out: dict[str, tuple[str, ...]] = {}
    dropped: list[str] = []

    def expand(col, seen=()):
        srcs = given.get(col)
        if srcs is None:
            return [col]
        if isinstance(srcs, str):
            srcs = [srcs]
        res = []
        for s in srcs:
            if s in counts:
                res.append(s)
            elif s in given and s not in seen and s != col:
                res.extend(expand(s, (*seen, col)))
            else:
                res.append(s)
        return res

    for col in given:
        if col in counts:
            continue
        if not explicit and col not in table.columns:
            continue
        srcs = list(dict.fromkeys(expand(col)))
        missing = [s for s in srcs if s not in counts]
        if not srcs or missing:
            if explicit:
                what = f"{missing[0]!r}, which is not" if missing else "no column, which is not"
                raise DisclosureError(
                    f"derived column {col!r} is computed from {what} among counts={list(counts)}; "
                    f"add {missing[0] if missing else 'its source'!r} to counts= so it is made safe too "
                    "(or leave the derived column out).")
            if col in keep:
                raise DisclosureError(
                    f"keep lists {col!r}, but it is computed from {missing[0]!r}, which is not among "
                    f"counts={list(counts)}; add {missing[0]!r} to counts= instead of keeping it raw.")
            dropped.append(col)
            continue
        out[col] = tuple(srcs)
    named = {x for v in given.values() for x in ([v] if isinstance(v, str) else v)}
    return out, dropped, named - set(given)


def _round_sig(values: np.ndarray, sig: int | None) -> np.ndarray:
    if sig is None:
        return values
    out = values.astype(float).copy()
    for i, v in enumerate(out):
        if np.isfinite(v) and v != 0:
            out[i] = float(f"{v:.{sig}g}")
    return out


def _fmt_count(v: float) -> str:
    return f"{int(v):,}"


def _fmt_number(v: Any, sig: int | None) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    v = float(v)
    if not np.isfinite(v):
        return str(v)
    if sig is not None and v != 0:
        v = float(f"{v:.{sig}g}")
        digits = max(0, sig - 1 - int(math.floor(math.log10(abs(v)))))
        return f"{v:,.{digits}f}"
    if v.is_integer():
        return f"{int(v):,}"
    return f"{v:,.6g}"


def _fmt_plain(s: pd.Series, nodata: str) -> list[str]:
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    out = []
    for v in s.tolist():
        if v is None or (not isinstance(v, str) and pd.isna(v) is True):
            out.append(nodata if numeric else "")
        elif numeric:
            out.append(_fmt_number(v, None))
        else:
            out.append(str(v))
    return out


def _forced(pattern, table: pd.DataFrame, column: str, tree) -> list | None:
    """Nodes to hide because ``pattern`` (another SafeTable of the same wards) hides them."""
    if pattern is None:
        return None
    if not isinstance(pattern, SafeTable):
        raise DisclosureError("pattern= must be a SafeTable (the ward table the other outputs were made from).")
    if column not in pattern.suppressed or "ward_code" not in table or "ward_code" not in pattern.frame:
        return None
    hidden = set(pattern.frame["ward_code"][pattern.suppressed[column].to_numpy()].astype(str))
    rows = table["ward_code"].astype(str).isin(hidden).to_numpy()
    return [False] * tree.first_ward + rows.tolist()


def make_safe(
    table: pd.DataFrame,
    counts: Sequence[str] | str,
    *,
    policy: str | Policy = "nhs",
    derived: Mapping[str, Sequence[str]] | None = None,
    keep: Sequence[str] | None = None,
    hierarchy: Sequence[str] = ("lad_code",),
    period: Any = None,
    marking: str = "OFFICIAL-SENSITIVE",
    allow_unsafe: bool = False,
    pattern: SafeTable | None = None,
    **policy_options: Any,
) -> SafeTable:
    """Apply a disclosure policy to a ward table; the result is the only thing that can be exported.

    Parameters
    ----------
    table : DataFrame or GeoDataFrame
        One row per ward; ``ward_code``, ``ward_name``, ``lad_code``,
        ``lad_name`` are kept when present, and ``geometry`` for a GeoDataFrame.
    counts : list of str
        The raw count columns (whole numbers ≥ 0; empty/NaN means no data,
        which stays "no data": it is neither zero nor suppressed).
    policy : str or Policy
        ``"nhs"`` (default), ``"threshold"`` or ``"none"``; see :data:`POLICIES`.
    derived : dict, optional
        ``{derived column: [source count columns]}`` for rates, smoothed
        rates, indices, cluster labels... A derived value is suppressed where
        any of its sources is suppressed in that row, and otherwise shown
        (numbers rounded to ``sig_figs`` significant figures). Default: the
        table's ``attrs["gangmap_derived"]``, for columns present whose
        sources are all in ``counts`` (others are dropped).
    keep : list of str, optional
        More columns to allow through unchanged, e.g. ``["population"]``.
        Everything not identifier, geometry, count, derived or keep is dropped.
    hierarchy : sequence of str
        Grouping columns for totals, coarsest first (default districts,
        ``lad_code``; ignored if the table has no ``lad_code``). Use ``()``
        for the county total only.
    period : str, optional
        The period the data covers, for the provenance footer.
    marking : str
        Protective marking printed on every output.
    allow_unsafe : bool
        Must be True to use an unsafe policy (``none``, or ``threshold`` with
        ``secondary=False``).
    pattern : SafeTable, optional
        Another SafeTable of the same wards (e.g. the full ward table of a map
        pack). Every ward cell it suppresses is suppressed here too, before
        secondary suppression, so that files made from subsets of the wards
        (a ranked list, a planning table) hide the same cells and cannot be
        combined to recover one.
    **policy_options
        Passed to :func:`get_policy`, e.g. ``k=5`` for ``threshold``.

    Returns
    -------
    SafeTable

    Raises
    ------
    DisclosureError
        A column is missing or holds something other than counts, or an
        unsafe policy without ``allow_unsafe=True``.
    ConfigError
        Unknown policy or option.

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": ["W1", "W2", "W3"], "lad_code": ["D1"] * 3,
    ...                   "reports": [0, 5, 41], "lon": [0.1, 0.2, 0.3]})
    >>> safe = make_safe(t, ["reports"])
    >>> safe.display["reports"].tolist(), list(safe.frame.columns)
    (['0', '*', '40'], ['ward_code', 'lad_code', 'reports'])
    >>> safe.totals["reports"].tolist()     # 46 -> 45 (district and county)
    [45.0, 45.0]
    """
    if not isinstance(table, pd.DataFrame):
        raise DisclosureError(f"make_safe needs a DataFrame or GeoDataFrame of wards, not "
                              f"{type(table).__name__}.")
    pol = get_policy(policy, **policy_options)
    if not pol.safe and not allow_unsafe:
        raise DisclosureError(
            f"policy {pol.name!r}{' with secondary=False' if pol.name == 'threshold' else ''} leaves small counts "
            "that could identify a child visible or recoverable. If this output is for internal use "
            "only, pass allow_unsafe=True (it will be stamped "
            f"'{UNSAFE_STAMP}'); otherwise use policy='nhs' or 'threshold'.")

    # ---- columns
    if isinstance(counts, str):
        counts = [counts]
    counts = list(dict.fromkeys(counts or []))
    if not counts:
        raise DisclosureError("make_safe needs at least one raw count column: "
                              "make_safe(table, counts=['reports', ...]).")
    _require_columns(table, counts, "count",
                     "Pass counts=[...] with the names of the raw count columns.")
    keep = [keep] if isinstance(keep, str) else list(dict.fromkeys(keep or []))
    _require_columns(table, keep, "keep", "Pass keep=[...] with columns of this table, or leave it out.")
    hierarchy = (hierarchy,) if isinstance(hierarchy, str) else tuple(hierarchy)
    if hierarchy == ("lad_code",) and "lad_code" not in table.columns:
        hierarchy = ()
    _require_columns(table, hierarchy, "hierarchy",
                     "Pass hierarchy=('lad_code',) or () for the county total only.")
    for h in hierarchy:
        miss = table[h].isna().to_numpy()
        if miss.any():
            pos = int(np.flatnonzero(miss)[0])
            raise DisclosureError(f"hierarchy column {h!r} is empty in {_row_label(table, pos)}; every ward "
                                  "needs a district code for the totals. Fill it in, or pass hierarchy=().")
    derived_map, dropped_derived, sources_known = _resolve_derived(table, counts, derived, keep)
    geom_col = None
    try:
        import geopandas as gpd
        if isinstance(table, gpd.GeoDataFrame) and table._geometry_column_name in table.columns:
            geom_col = table._geometry_column_name
    except ImportError:  # pragma: no cover
        pass
    raw_counts = set(table.attrs.get("gangmap_counts", [])) if isinstance(table.attrs, dict) else set()
    for k in keep:
        if k in counts or k in derived_map:
            continue
        if k in sources_known or k in raw_counts:
            raise DisclosureError(f"keep lists {k!r}, which is a raw count (derived figures are computed "
                                  "from it); put it in counts= so it is made safe.")
    idents = [c for c in IDENTIFIERS if c in table.columns]
    for h in hierarchy:
        idents.append(h)
        nc = _name_column(h, table)
        if nc:
            idents.append(nc)
    value_cols = counts + [c for c in derived_map if c not in counts]
    allowed = set(idents) | set(value_cols) | set(keep) | ({geom_col} if geom_col else set())
    ordered = [c for c in table.columns if c in allowed]
    dropped = tuple(str(c) for c in table.columns if c not in allowed)

    # ---- counts
    raw_by_col = {c: _count_values(table, c) for c in counts}
    tree = _Tree(table, hierarchy)
    sup = {}
    nod = {}
    shown = {}
    tot_rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for c in counts:
        node_raw = tree.raw(raw_by_col[c])
        supp = _Protector(tree, node_raw, pol, _forced(pattern, table, c, tree)).run()
        present = ~np.isnan(node_raw)
        vals = np.full(tree.n, np.nan)
        flags = np.zeros(tree.n, dtype=bool)
        for v in range(tree.n):
            if present[v]:
                if supp[v]:
                    flags[v] = True
                else:
                    vals[v] = float(pol.round(int(node_raw[v])))
        w = slice(tree.first_ward, tree.n)
        shown[c] = vals[w]
        sup[c] = flags[w]
        nod[c] = ~present[w]
        tot_rows[c] = (vals[: tree.first_ward], flags[: tree.first_ward])
    del raw_by_col

    frame = table[ordered].copy()
    frame.attrs = {}
    for c in counts:
        frame[c] = shown[c]
    whole: set[str] = set()  # derived integer columns (ranks, orders): shown as whole numbers
    for d, srcs in derived_map.items():
        mask = np.zeros(len(frame), dtype=bool)
        for s in srcs:
            mask |= sup[s]
        col = frame[d]
        if pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col):
            whole.add(d)
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            vals = col.to_numpy(dtype=float, na_value=np.nan)
            nod[d] = np.isnan(vals) & ~mask
            vals = np.where(mask, np.nan, vals)
            if pd.api.types.is_float_dtype(col):
                vals = _round_sig(vals, pol.sig_figs)
            frame[d] = vals
        else:
            nod[d] = col.isna().to_numpy() & ~mask
            frame[d] = col.mask(pd.Series(mask, index=col.index))
        sup[d] = mask
    frame.attrs = {"gangmap_derived": {d: list(s) for d, s in derived_map.items()}}

    suppressed = pd.DataFrame({c: sup[c] for c in value_cols}, index=frame.index)
    nodata = pd.DataFrame({c: nod[c] for c in value_cols}, index=frame.index)

    # ---- display
    disp: dict[str, list[str]] = {}
    for col in ordered:
        if col == geom_col:
            continue
        if col in counts:
            disp[col] = [pol.marker if s else pol.nodata_text if np.isnan(v) else _fmt_count(v)
                         for v, s in zip(frame[col].to_numpy(), sup[col])]
        elif col in derived_map:
            series = frame[col]
            numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
            texts = []
            for v, s, nd in zip(series.tolist(), sup[col], nod[col]):
                if s:
                    texts.append(pol.marker)
                elif nd:
                    texts.append(pol.nodata_text)
                elif col in whole:
                    texts.append(_fmt_count(v))
                else:
                    texts.append(_fmt_number(v, pol.sig_figs) if numeric else str(v))
            disp[col] = texts
        else:
            disp[col] = _fmt_plain(frame[col], pol.nodata_text)
    display = pd.DataFrame(disp, index=frame.index, dtype=object)

    # ---- totals (districts first, county last)
    order = list(range(1, tree.first_ward)) + [0]
    tot: dict[str, list] = {
        "level": [tree.level[v] for v in order],
        "code": [tree.code[v] for v in order],
        "name": [tree.name[v] for v in order],
    }
    for c in counts:
        vals, flags = tot_rows[c]
        tot[c] = [float(vals[v]) for v in order]
        tot[f"{c}_suppressed"] = [bool(flags[v]) for v in order]
    totals = pd.DataFrame(tot)

    mark = marking or ""
    if pol.stamp:
        mark = f"{pol.stamp} · {mark}" if mark else pol.stamp
    prov = Provenance(period=None if period is None else str(period), policy=pol.name, generated=_now(),
                      version=_version(), marking=mark, summary=pol.summary, stamp=pol.stamp)
    return SafeTable(frame=frame, suppressed=suppressed, nodata=nodata, display=display, totals=totals,
                     policy=pol, provenance=prov, counts=tuple(counts),
                     derived=types.MappingProxyType(dict(derived_map)), hierarchy=hierarchy,
                     dropped=tuple(dict.fromkeys((*dropped_derived, *dropped))), _maker=_MAKER)


# --------------------------------------------------------------------------- audit
def _audit_domains(safe: SafeTable, tree: _Tree, column: str, raw_nodes: np.ndarray | None,
                   insider: bool):
    pol = safe.policy
    n = tree.n
    w0 = tree.first_ward
    vals = np.full(n, np.nan)
    flags = np.zeros(n, dtype=bool)
    vals[w0:] = safe.frame[column].to_numpy(dtype=float, na_value=np.nan)
    flags[w0:] = safe.suppressed[column].to_numpy()
    index = {(lv, cd): i for i, (lv, cd) in enumerate(zip(safe.totals["level"], safe.totals["code"]))}
    for v in range(w0):
        row = index[(tree.level[v], tree.code[v])]
        vals[v] = safe.totals[column].iloc[row]
        flags[v] = bool(safe.totals[f"{column}_suppressed"].iloc[row])
    floor = 0 if pol.suppress_zero else 1
    p_lo, p_hi = pol.primary_range
    lo, hi = [0.0] * n, [0.0] * n
    for v in range(n):
        if flags[v]:
            if raw_nodes is not None and insider and pol.is_primary(int(raw_nodes[v])):
                lo[v], hi[v] = float(p_lo), float(p_hi)
            else:
                lo[v], hi[v] = float(floor), _INF
        elif np.isnan(vals[v]):
            lo[v] = hi[v] = 0.0  # no data: not part of any sum
        elif raw_nodes is not None and v >= w0:
            lo[v] = hi[v] = float(raw_nodes[v])  # the exact count behind a shown ward
        else:
            a, b = pol.band(vals[v])
            lo[v], hi[v] = float(a), float(b)
    return lo, hi, flags


def _lp_intervals(tree: _Tree, lo, hi, which) -> dict[int, tuple[float, float]]:
    from scipy.optimize import linprog

    n = tree.n
    rows = []
    for p in tree.internal:
        r = np.zeros(n)
        r[p] = 1.0
        r[tree.children[p]] = -1.0
        rows.append(r)
    a_eq = np.array(rows) if rows else None
    b_eq = np.zeros(len(rows)) if rows else None
    bounds = [(lo[v], None if hi[v] == _INF else hi[v]) for v in range(n)]
    out = {}
    for v in which:
        cost = np.zeros(n)
        cost[v] = 1.0
        res_min = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        res_max = linprog(-cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if res_min.status == 2:
            raise DisclosureError("the shown figures are inconsistent (no raw values fit them).")
        low = float(round(res_min.fun))
        high = _INF if res_max.status == 3 else float(round(-res_max.fun))
        out[v] = (low, high)
    return out


def audit(safe: SafeTable, *, raw: pd.DataFrame | None = None, insider: bool = True,
          method: str = "exact") -> pd.DataFrame:
    """For every suppressed cell, the range of raw values consistent with what is shown.

    A reader sees the shown ward values (under ``nhs`` each stands for a band
    of raw values: 10 means 8–12), the shown district and county totals
    (banded too), and knows a suppressed cell is at least 1 (0 with
    ``suppress_zero``). From these the reader can bound every suppressed cell;
    a cell whose range is a single value can be worked out ("recoverable").

    Parameters
    ----------
    safe : SafeTable
    raw : DataFrame, optional
        The table the SafeTable was made from. When given, the reader is
        assumed to know the exact count behind every shown ward (rates next
        to public populations can give it away under ``nhs``) and, with
        ``insider=True``, which hidden cells are the small ones (1–7 or
        1..k-1). Adds the columns ``primary`` (hidden because small, not to
        protect another cell) and ``unavoidable`` (the insider could work it
        out even if every non-zero cell were hidden).
    insider : bool
        With ``raw``: whether the reader knows which hidden cells are small.

    Notes
    -----
    :func:`make_safe` guarantees: no recoverable cell without ``raw``; none
    with ``raw`` and ``insider=False``; and with ``raw`` and ``insider=True``,
    no recoverable primary cell unless it is ``unavoidable``.
    method : {"exact", "lp"}
        ``"exact"``: interval reasoning over the tree of sums (exact, fast).
        ``"lp"``: a linear programme per cell with scipy (a cross-check; the
        constraint matrix of a hierarchy is totally unimodular, so its bounds
        are whole numbers and agree with ``"exact"``).

    Returns
    -------
    DataFrame
        One row per suppressed cell: ``column``, ``level`` (ward, district,
        county), ``code``, ``name``, ``low``, ``high`` (inf if unbounded),
        ``recoverable`` (and ``primary``, ``unavoidable`` when ``raw`` is given).

    Examples
    --------
    >>> t = pd.DataFrame({"ward_code": ["W1", "W2", "W3"], "lad_code": ["D1"] * 3,
    ...                   "reports": [3, 12, 30]})
    >>> a = audit(make_safe(t, ["reports"], policy="threshold"))
    >>> a[["code", "low", "high", "recoverable"]]
      code  low  high  recoverable
    0   W1  1.0  14.0        False
    1   W2  1.0  14.0        False
    """
    require_safe(safe, "an audit")
    if method not in ("exact", "lp"):
        raise ConfigError(f"method must be 'exact' or 'lp', got {method!r}.")
    tree = _Tree(safe.frame, safe.hierarchy)
    records = []
    for column in safe.counts:
        raw_nodes = None
        if raw is not None:
            if column not in raw.columns:
                raise DisclosureError(f"raw table has no column {column!r}; pass the table the "
                                      "SafeTable was made from.")
            if len(raw) != len(safe.frame):
                raise DisclosureError("raw table has a different number of rows from the SafeTable; "
                                      "pass the table it was made from.")
            raw_nodes = tree.raw(_count_values(raw, column))
        lo, hi, flags = _audit_domains(safe, tree, column, raw_nodes, insider)
        which = [v for v in range(tree.n) if flags[v]]
        if not which:
            continue
        if method == "lp":
            res = _lp_intervals(tree, lo, hi, which)
            f_lo = {v: res[v][0] for v in which}
            f_hi = {v: res[v][1] for v in which}
        else:
            a, b, *_ = _intervals(tree, lo, hi)
            f_lo = {v: a[v] for v in which}
            f_hi = {v: b[v] for v in which}
        unavoid = None
        if raw_nodes is not None:
            pol = safe.policy
            lo2, hi2 = list(lo), list(hi)
            p_lo, p_hi = pol.primary_range
            floor = 0 if pol.suppress_zero else 1
            for v in range(tree.n):
                x = raw_nodes[v]
                if np.isnan(x) or (x == 0 and not pol.is_primary(0)):
                    continue
                if pol.is_primary(int(x)):
                    lo2[v], hi2[v] = float(p_lo), float(p_hi)
                else:
                    lo2[v], hi2[v] = float(floor), _INF
            u_lo, u_hi, *_ = _intervals(tree, lo2, hi2)
            unavoid = {v: u_lo[v] >= u_hi[v] for v in which}
        for v in which:
            rec = {"column": column, "level": tree.level[v], "code": tree.code[v], "name": tree.name[v],
                   "low": float(f_lo[v]), "high": float(f_hi[v]), "recoverable": bool(f_lo[v] >= f_hi[v])}
            if unavoid is not None:
                rec["primary"] = bool(safe.policy.is_primary(int(raw_nodes[v])))
                rec["unavoidable"] = bool(unavoid[v])
            records.append(rec)
    cols = ["column", "level", "code", "name", "low", "high", "recoverable"]
    if raw is not None:
        cols += ["primary", "unavoidable"]
    return pd.DataFrame.from_records(records, columns=cols)
