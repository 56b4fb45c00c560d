"""Suppression patterns: cells that must be hidden because another output hides them.

Two files made from the same counts must hide the same cells, or one can be
taken from the other (a ranked list that shows a ward the full table hides
to protect its neighbour gives the neighbour away). A :class:`Pattern` names
cells by count column and area code (and, for linked tables of the same
areas, by total), so that :func:`~gangmap.disclosure.make_safe` can hide
them before its own secondary suppression, and so that the linked check
(:mod:`gangmap.disclosure.linked`) can carry a pattern across filtered maps
and periods.

Examples
--------
>>> p = Pattern.from_cells({"reports": ["E05000001"]})
>>> p.union(Pattern.from_cells({"reports": ["E05000002"]}, totals={"reports": [("district", "E07000001")]}))
Pattern(areas={'reports': ['E05000001', 'E05000002']}, totals={'reports': [('district', 'E07000001')]})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Pattern", "as_pattern"]


def _frozen(mapping: Mapping[str, Iterable] | None) -> Mapping[str, frozenset]:
    return MappingProxyType({str(k): frozenset(v) for k, v in (mapping or {}).items() if v})


@dataclass(frozen=True)
class Pattern:
    """Cells to hide, per count column: area codes, and totals as ``(level, code)``."""

    areas: Mapping[str, frozenset] = field(default_factory=dict)
    totals: Mapping[str, frozenset] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "areas", _frozen(self.areas))
        object.__setattr__(self, "totals", _frozen(self.totals))

    @classmethod
    def from_cells(cls, areas: Mapping[str, Iterable] | None = None,
                   totals: Mapping[str, Iterable[tuple[str, Any]]] | None = None) -> Pattern:
        """A pattern from ``{column: area codes}`` and ``{column: [(level, code), ...]}``."""
        return cls(areas or {}, {k: {(str(a), b) for a, b in v} for k, v in (totals or {}).items()})

    @classmethod
    def of(cls, safe: Any, *, totals: bool = False) -> Pattern:
        """The cells a SafeTable hides (its hidden totals too with ``totals=True``)."""
        areas = {c: set(safe.codes[safe.suppressed[c].to_numpy()].astype(str)) for c in safe.counts}
        tots: dict[str, set] = {}
        if totals:
            t = safe.totals
            for c in safe.counts:
                hidden = t[f"{c}_suppressed"].to_numpy(dtype=bool)
                tots[c] = {(str(lv), cd) for lv, cd in zip(t["level"][hidden], t["code"][hidden])}
        return cls(areas, tots)

    def union(self, other: Pattern) -> Pattern:
        keys_a = set(self.areas) | set(other.areas)
        keys_t = set(self.totals) | set(other.totals)
        return Pattern({k: self.areas.get(k, frozenset()) | other.areas.get(k, frozenset()) for k in keys_a},
                       {k: self.totals.get(k, frozenset()) | other.totals.get(k, frozenset()) for k in keys_t})

    def __bool__(self) -> bool:
        return bool(self.areas) or bool(self.totals)

    def __len__(self) -> int:
        return sum(len(v) for v in self.areas.values()) + sum(len(v) for v in self.totals.values())

    def __repr__(self) -> str:
        a = {k: sorted(v) for k, v in sorted(self.areas.items())}
        t = {k: sorted(v) for k, v in sorted(self.totals.items())}
        return f"Pattern(areas={a}, totals={t})"

    def forced(self, tree: Any, column: str) -> list[bool] | None:
        """One flag per node of ``tree``: hide it because the pattern does."""
        areas = self.areas.get(column, frozenset())
        totals = self.totals.get(column, frozenset())
        if not areas and not totals:
            return None
        out = [(str(tree.level[v]), tree.code[v]) in totals for v in range(tree.first_ward)]
        out += [str(tree.code[v]) in areas for v in range(tree.first_ward, tree.n)]
        return out


def as_pattern(obj: Any) -> Pattern | None:
    """A Pattern from None, a Pattern, a SafeTable or ``{column: area codes}``.

    A SafeTable gives every cell it hides, its hidden district and county
    totals included: ``pattern=safe`` promises that no cell ``safe`` hides is
    shown by the new table. With the areas alone, a total hidden by the linked
    check (to protect another view) came back in every table remade from the
    same counts (the time layers, the planning tables). For a table of only
    some of the areas this is conservative: its parent totals hide too.
    """
    from ..errors import DisclosureError
    from .safetable import SafeTable

    if obj is None or isinstance(obj, Pattern):
        return obj
    if isinstance(obj, SafeTable):
        return Pattern.of(obj, totals=True)
    if isinstance(obj, Mapping):
        return Pattern.from_cells({k: [str(x) for x in v] for k, v in obj.items()})
    raise DisclosureError("pattern= must be a SafeTable (the table the other outputs were made from), a "
                          "gangmap.disclosure.Pattern, or {count column: [area codes to hide]}.")
