"""Disclosure policies: which counts are hidden, how the others are rounded, how wide a hidden range must stay.

A policy is a plain, frozen value so that the same rule can be applied to
every table of a pack, printed in its footer and read back by the auditor
(:mod:`gangmap.disclosure.artefacts` parses :attr:`Policy.summary`).

``nhs`` (default)
    0 stays 0; 1–7 is suppressed; every other count is rounded half up to the
    nearest 5 (8 → 10, 12 → 10, 13 → 15).
``threshold`` (option ``k``, default 10)
    Counts 1..k-1 are suppressed; other counts are shown exactly, with
    secondary suppression.
``none``
    Nothing hidden; needs ``allow_unsafe=True`` and stamps every output.

Options shared by every policy: ``suppress_zero`` (zeros are disclosive and
hidden too, as ACRO does by default: use it for sensitive filters, where a
shown 0 next to a hidden cell tells which areas had at least one event),
``min_range`` (3: no hidden count may narrow to fewer than this many possible
values from what is shown), ``marker``, ``sig_figs`` and ``nodata_text``.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

__all__ = ["Policy", "POLICIES", "get_policy", "UNSAFE_STAMP", "DEFAULT_MIN_RANGE", "MIN_K", "MIN_RANGE_LIMITS"]

#: Stamp put on everything made with an unsafe policy.
UNSAFE_STAMP = "UNSUPPRESSED – INTERNAL ONLY"

#: By default no hidden count may narrow to fewer than this many possible values.
DEFAULT_MIN_RANGE = 3

#: The threshold policy's smallest ``k`` (counts 1..k-1 are hidden).
MIN_K = 3

#: ``min_range`` must lie in this range: fewer than 2 possible values is a count worked out.
MIN_RANGE_LIMITS = (2, 1000)


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
        Hide zeros too (counts 0..min_shown-1): zeros are disclosive.
    secondary : bool
        Hide more cells so suppressed ones cannot be worked out from totals.
    min_range : int
        A hidden count must keep at least this many possible values for a
        reader of everything shown (1 would allow a count to be worked out).
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
    min_range: int = DEFAULT_MIN_RANGE
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
    def floor(self) -> int:
        """The smallest value a reader must allow for a hidden cell (0 when zeros are hidden too)."""
        return 0 if self.suppress_zero else 1

    @property
    def primary_range(self) -> tuple[int, int]:
        """The raw values that are always suppressed, as ``(low, high)`` (empty if low > high)."""
        return (self.floor, self.min_shown - 1)

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
    def range_text(self) -> str:
        """The suppressed range as text: ``'1–7'``."""
        lo, hi = self.primary_range
        return f"{lo}–{hi}" if hi > lo else f"{lo}"

    @property
    def label(self) -> str:
        """Legend text for the suppressed class, e.g. ``'1–7 (suppressed)'``."""
        if self.primary_range[1] < self.primary_range[0]:
            return "suppressed"
        return f"{self.range_text()} (suppressed)"

    @property
    def summary(self) -> str:
        """A short description for footers, e.g. ``'0 stays 0; 1–7 suppressed; others rounded to 5'``."""
        if self.name == "none":
            return "no suppression"
        parts = [] if self.suppress_zero else ["0 stays 0"]
        parts.append(f"{self.range_text()} suppressed")
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
        zero = ("Counts of 0 are hidden too, so a hidden cell does not tell whether anything happened. "
                if self.suppress_zero else
                "Counts of 0 are shown as 0: knowing that no child was reported in a ward does "
                "not identify anyone. ")
        small = (f"Counts from {max(lo, 1)} to {hi} are hidden (shown as '{m}') because such "
                 "small numbers could identify a child. ")
        return zero + small + self._rest_text() + (
            "Rates and other figures are worked out from the published counts only, and hidden "
            "wherever a count they use is hidden.")

    def _rest_text(self) -> str:
        if self.rounding > 1:
            return (f"All other counts are rounded to the nearest {self.rounding} ("
                    f"{self.min_shown} shows as {self.round(self.min_shown)}), so a hidden count cannot "
                    "be worked out exactly by taking shown figures away from a total. District and "
                    "county totals are added up from the unrounded counts and then treated the "
                    "same way. Where a hidden count could still be narrowed to fewer than "
                    f"{self.min_range} possible values, another figure is hidden too. ")
        if not self.secondary:
            return ("All other counts are shown exactly. There is NO secondary suppression, so "
                    "some hidden counts can be worked out from the totals: internal use only. ")
        return ("All other counts are shown exactly. So that a hidden count cannot be worked "
                "out (or narrowed to fewer than "
                f"{self.min_range} possible values) by taking shown figures away from a district or county "
                "total, some other counts (the smallest that will do) are hidden as well (secondary "
                "suppression); totals are added up from the raw counts. ")


def _nhs() -> Policy:
    return Policy(name="nhs", min_shown=8, rounding=5)


#: The named policies. Use :func:`get_policy` to set options.
POLICIES: Mapping[str, Policy] = types.MappingProxyType({
    "nhs": _nhs(),
    "threshold": Policy(name="threshold", min_shown=10),
    "none": Policy(name="none", min_shown=1, secondary=False, stamp=UNSAFE_STAMP),
})

_COMMON_OPTIONS = ("marker", "sig_figs", "nodata_text", "suppress_zero", "min_range")
_OPTIONS = {
    "nhs": _COMMON_OPTIONS,
    "threshold": (*_COMMON_OPTIONS, "k", "secondary"),
    "none": ("marker", "sig_figs", "nodata_text"),
}


def _base(name_or_policy: str | Policy) -> Policy:
    if isinstance(name_or_policy, Policy):
        return name_or_policy
    if isinstance(name_or_policy, str):
        key = name_or_policy.strip().lower()
        if key not in POLICIES:
            raise ConfigError(f"unknown disclosure policy {name_or_policy!r}; choose one of "
                              f"{', '.join(POLICIES)} (default 'nhs').")
        return POLICIES[key]
    raise ConfigError(f"policy must be a name ({', '.join(POLICIES)}) or a Policy, "
                      f"not {type(name_or_policy).__name__}.")


def _whole(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def _option(key: str, value: Any) -> dict[str, Any]:
    """One checked option as a change to the Policy's fields."""
    if key == "k":
        if not _whole(value) or value < MIN_K:
            raise ConfigError(f"threshold k must be a whole number of at least 3 (counts 1..k-1 "
                              f"are hidden), got {value!r}.")
        return {"min_shown": int(value)}
    if key in ("suppress_zero", "secondary"):
        if not isinstance(value, (bool, np.bool_)):
            raise ConfigError(f"{key} must be True or False, got {value!r}.")
        return {key: bool(value)}
    if key == "min_range":
        if not _whole(value) or not MIN_RANGE_LIMITS[0] <= value <= MIN_RANGE_LIMITS[1]:
            raise ConfigError(f"min_range must be a whole number of at least 2 (3: a hidden count keeps at "
                              f"least 3 possible values), got {value!r}.")
        return {key: int(value)}
    if key == "marker":
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"marker must be a non-empty string such as '*', got {value!r}.")
        return {key: value}
    if key == "nodata_text":
        if not isinstance(value, str):
            raise ConfigError(f"nodata_text must be a string such as 'no data' or '', got {value!r}.")
        return {key: value}
    if value is not None and (not _whole(value) or not 1 <= value <= 15):
        raise ConfigError(f"sig_figs must be a whole number from 1 to 15, or None, got {value!r}.")
    return {key: None if value is None else int(value)}


def get_policy(name_or_policy: str | Policy = "nhs", **options: Any) -> Policy:
    """Return a :class:`Policy` by name, with options applied.

    Parameters
    ----------
    name_or_policy : str or Policy
        ``"nhs"``, ``"threshold"`` or ``"none"``, or a Policy to adjust.
    **options
        ``marker`` (default ``"*"``), ``sig_figs`` (3; None keeps derived
        figures unrounded), ``nodata_text`` (``"no data"``),
        ``suppress_zero`` (False: zeros are shown) and ``min_range`` (3);
        for ``threshold`` also ``k`` (10: counts 1..k-1 are hidden; at least
        3) and ``secondary`` (True; False makes the policy unsafe).

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
    >>> get_policy("nhs", suppress_zero=True).summary
    '0–7 suppressed; others rounded to 5'
    """
    base = _base(name_or_policy)
    if not options:
        return base
    allowed = _OPTIONS.get(base.name, _COMMON_OPTIONS)
    unknown = [k for k in options if k not in allowed]
    if unknown:
        hint = ""
        if base.name == "nhs" and any(k in ("k", "secondary") for k in unknown):
            hint = " The nhs rule is fixed; use policy='threshold' with k=... for a different threshold."
        raise ConfigError(f"policy {base.name!r} has no option {unknown[0]!r}; its options are "
                          f"{', '.join(allowed)}.{hint}")
    changes: dict[str, Any] = {}
    for key, value in options.items():
        changes.update(_option(key, value))
    policy = dataclasses.replace(base, **changes)
    if policy.name == "threshold":
        stamp = None if policy.secondary else f"{UNSAFE_STAMP} (primary suppression only)"
        policy = dataclasses.replace(policy, stamp=stamp)
    if policy.marker == policy.nodata_text:
        raise ConfigError(f"marker and nodata_text are both {policy.marker!r}; suppressed and "
                          "no-data cells must look different.")
    return policy
