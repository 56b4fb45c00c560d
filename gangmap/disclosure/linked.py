"""One check across many tables: the same areas, totals, filters and periods are one system.

A meeting gets the whole pack: the all-concerns map, a map per concern, a
map per period, each with its totals. Each table can be safe on its own and
the pack still give a hidden cell away: the all-concerns count of a ward
minus its per-concern counts, a year minus its months. Here every published
count of every table is an unknown with the domain a reader gets from it (a
shown 10 under ``nhs`` is 8–12; a hidden cell is at least 1, or 0 when zeros
are hidden), and every relation a reader knows is a linear constraint:

* within a table, each total is the sum of its areas (the tree of sums);
* across tables (:class:`Link`), per area and per total, the whole is the sum
  of its parts: the all-categories table and the per-category tables
  (:func:`categories`), the all-periods table and the per-period tables
  (:func:`periods`), or two tables of the same counts (:func:`same`). When
  the parts need not cover the whole (one category of many) the whole is at
  least their sum.

:func:`check_linked` solves the system (:mod:`gangmap.disclosure.lp`) and
requires, for every hidden cell, at least ``policy.min_range`` possible
values (3 by default) and, for every rounded cell, that it cannot be worked
out exactly. It also looks for group disclosure: an area where a reader can
tell that every count falls in one part (every report in the ward was a
weapons concern). :func:`protect_linked` makes the tables safe together:
where a range falls short it hides more, choosing first the same area in the
linked tables so that the pattern carries across filtered maps and periods,
and refuses (naming the tables that combine) when it cannot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DisclosureError
from ..table import AreaTable
from .lp import INF, System
from .pattern import Pattern
from .roles import count_values
from .safetable import SafeTable, make_safe, require_safe
from .tree import Tree

__all__ = ["Link", "categories", "periods", "same", "LinkedCheck", "check_linked", "protect_linked", "Linked"]


@dataclass(frozen=True)
class Link:
    """Tables of the same areas whose counts add up: ``whole`` = sum of ``parts``, per area and total.

    ``complete=False``: the parts need not cover the whole (one category of
    many), so the whole is at least their sum. ``columns``: the count columns
    related (default: every count column the tables share). ``groups``: look
    for group disclosure (every count of an area in one part); on for
    categories, off for periods (that every report of a ward fell in one
    year says when, not what).
    """

    whole: str
    parts: tuple[str, ...]
    complete: bool = True
    kind: str = "filter"
    columns: tuple[str, ...] | None = None
    groups: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.parts))
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(self.columns))

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.whole, *self.parts)


def categories(whole: str, parts: Sequence[str], *, complete: bool = False, columns=None) -> Link:
    """The all-categories table ``whole`` and per-category tables ``parts`` (complete: every category)."""
    return Link(whole, tuple(parts), complete, "categories", columns, groups=True)


def periods(whole: str, parts: Sequence[str], *, complete: bool = True, columns=None) -> Link:
    """The all-periods table ``whole`` and per-period tables ``parts`` (complete: every period)."""
    return Link(whole, tuple(parts), complete, "periods", columns)


def same(a: str, b: str, *, columns=None) -> Link:
    """Two tables of the same counts (a map and its spreadsheet; a subset of the areas)."""
    return Link(a, (b,), True, "same", columns)


# --------------------------------------------------------------------------- the system
@dataclass
class _Cell:
    table: str
    column: str
    level: str
    code: Any
    name: Any
    status: str  # "hidden", "rounded", "exact", "nodata"
    var: int
    area: bool


def _domain(safe: SafeTable, value: float, hidden: bool) -> tuple[str, float, float]:
    pol = safe.policy
    if hidden:
        return "hidden", float(pol.floor), INF
    if np.isnan(value):
        return "nodata", 0.0, 0.0
    a, b = pol.band(value)
    return ("rounded" if b > a else "exact"), float(a), float(b)


def _nodes(safe: SafeTable, column: str, tree: Tree):
    """(value, hidden, published) for every node: areas from the frame, totals from safe.totals.

    A total the SafeTable does not carry (a ranked subset carries none) is
    not published: it is an unknown with no domain of its own.
    """
    vals = np.full(tree.n, np.nan)
    flags = np.zeros(tree.n, dtype=bool)
    published = np.ones(tree.n, dtype=bool)
    vals[tree.first_ward:] = safe.frame[column].to_numpy(dtype=float, na_value=np.nan)
    flags[tree.first_ward:] = safe.suppressed[column].to_numpy()
    index = {(lv, cd): i for i, (lv, cd) in enumerate(zip(safe.totals["level"], safe.totals["code"]))}
    for v in range(tree.first_ward):
        row = index.get((tree.level[v], tree.code[v]))
        if row is None:
            published[v] = False
            continue
        vals[v] = safe.totals[column].iloc[row]
        flags[v] = bool(safe.totals[f"{column}_suppressed"].iloc[row])
    return vals, flags, published


def _add_table(system: System, cells: dict, key: str, safe: SafeTable) -> None:
    tree = Tree(safe.frame, safe.hierarchy, safe.geography)
    for column in safe.counts:
        vals, flags, published = _nodes(safe, column, tree)
        ids = []
        for v in range(tree.n):
            status, lo, hi = _domain(safe, vals[v], bool(flags[v])) if published[v] else ("unpublished", 0.0, INF)
            ident = (key, column, str(tree.level[v]) if v < tree.first_ward else "area", tree.code[v])
            var = system.add(ident, lo, hi)
            cells[ident] = _Cell(key, column, tree.level[v], tree.code[v], tree.name[v], status, var,
                                 v >= tree.first_ward)
            ids.append(var)
        for p in tree.internal:
            kids = [ids[c] for c in tree.children[p] if cells[system.keys[ids[c]]].status != "nodata"]
            system.sum_of(ids[p], kids)


def _add_link(system: System, cells: dict, link: Link, tables: Mapping[str, SafeTable]) -> None:
    missing = [t for t in link.tables if t not in tables]
    if missing:
        raise DisclosureError(f"a link names table {missing[0]!r}, which is not among the tables given "
                              f"({', '.join(tables)}).")
    shared = set(tables[link.whole].counts)
    for t in link.parts:
        shared &= set(tables[t].counts)
    columns = link.columns or tuple(c for c in tables[link.whole].counts if c in shared)
    area_sets = {t: frozenset(map(str, tables[t].codes)) for t in link.tables}
    same_areas = len(set(area_sets.values())) == 1
    for column in columns:
        for ident, cell in list(cells.items()):
            if cell.table != link.whole or cell.column != column or (not cell.area and not same_areas):
                continue
            parts = [(t, column, ident[2], ident[3]) for t in link.parts]
            if not all(p in cells for p in parts):
                continue
            system.sum_of(cell.var, [cells[p].var for p in parts], complete=link.complete)


def build_system(tables: Mapping[str, SafeTable], links: Iterable[Link] = ()) -> tuple[System, dict]:
    """The unknowns and constraints a reader of all ``tables`` has, and the cell each unknown is."""
    system, cells = System(), {}
    for key, safe in tables.items():
        require_safe(safe, f"the linked check (table {key!r})")
        _add_table(system, cells, key, safe)
    for link in links:
        _add_link(system, cells, link, tables)
    return system, cells


# --------------------------------------------------------------------------- the check
def _need(cell: _Cell, tables: Mapping[str, SafeTable], min_range: int | None, min_rounded: int) -> int:
    if cell.status == "hidden":
        return int(min_range or tables[cell.table].policy.min_range)
    if cell.status == "rounded":
        return min_rounded
    return 0


def _truth(raw: Mapping[str, Any] | None, tables: Mapping[str, SafeTable]) -> dict:
    """Raw node values per (table, column, level, code) when the raw tables are given."""
    if raw is None:
        return {}
    out = {}
    for key, safe in tables.items():
        if key not in raw:
            continue
        frame = raw[key].frame if isinstance(raw[key], AreaTable) else raw[key]
        tree = Tree(frame, safe.hierarchy, safe.geography)
        for column in safe.counts:
            vals = tree.raw(count_values(frame, column, safe.geography))
            for v in range(tree.n):
                level = str(tree.level[v]) if v < tree.first_ward else "area"
                out[(key, column, level, tree.code[v])] = vals[v]
    return out


@dataclass
class LinkedCheck:
    """What a reader of every linked table can work out: ranges per cell and group disclosures.

    Attributes
    ----------
    cells : DataFrame
        One row per hidden cell and per rounded cell: ``table``, ``column``,
        ``level``, ``code``, ``name``, ``status`` (hidden, rounded), ``low``,
        ``high``, ``values`` (possible values), ``need`` (the minimum) and
        ``ok``; ``truth`` when the raw tables were given.
    groups : DataFrame
        Group disclosures: ``whole``, ``part``, ``column``, ``level``,
        ``code``, ``name``: a reader can tell every count of the area in
        ``whole`` falls in ``part``.
    """

    cells: pd.DataFrame
    groups: pd.DataFrame
    tables: tuple[str, ...]
    links: tuple[Link, ...] = ()
    combine: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.cells["ok"].all()) and self.groups.empty

    @property
    def failures(self) -> pd.DataFrame:
        return self.cells[~self.cells["ok"]]

    def summary(self) -> str:
        """A few lines for people: what was checked and what falls short."""
        hidden = self.cells[self.cells["status"] == "hidden"]
        lines = [f"{len(self.tables)} tables, {len(self.links)} links: {len(hidden)} hidden cells, "
                 f"{int((self.cells['status'] == 'rounded').sum())} rounded cells checked."]
        if len(hidden):
            least = hidden["values"].min()
            lines.append(f"Narrowest hidden range: {int(least) if np.isfinite(least) else 'unbounded'} "
                         "possible values.")
        for r in self.failures.itertuples():
            lines.append(f"  {r.table} {r.column} {r.level} {r.code}: {r.low:g}–{r.high:g} "
                         f"({r.values:g} values, at least {r.need} needed)")
        for r in self.groups.itertuples():
            lines.append(f"  group disclosure: every {r.column} of {r.level} {r.code} in {r.whole!r} is in {r.part!r}")
        lines.append("OK" if self.ok else "NOT SAFE")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<LinkedCheck {'OK' if self.ok else 'NOT SAFE'}: {len(self.failures)} short ranges, " \
               f"{len(self.groups)} group disclosures>"

    def _repr_html_(self) -> str:
        import html

        worst = self.cells.sort_values(["ok", "values"], kind="stable").head(20)
        return (f"<pre>{html.escape(self.summary())}</pre>{worst.to_html(index=False, border=0)}"
                + (self.groups.to_html(index=False, border=0) if len(self.groups) else ""))


def _ranges(system: System, cells: dict, tables, min_range, min_rounded, truth, integer) -> pd.DataFrame:
    todo = [ident for ident, c in cells.items() if c.status in ("hidden", "rounded")]
    needs = {cells[i].var: _need(cells[i], tables, min_range, min_rounded) for i in todo}
    by_var = {cells[i].var: truth[i] for i in cells if i in truth}
    res = system.checked_ranges([cells[i].var for i in todo], needs,
                                truth=by_var if len(by_var) == len(cells) else None, integer=integer)
    rows = []
    for ident in todo:
        c = cells[ident]
        low, high = res[c.var]
        values = high - low + 1
        row = {"table": c.table, "column": c.column, "level": c.level, "code": c.code, "name": c.name,
               "status": c.status, "low": low, "high": high, "values": values, "need": needs[c.var],
               "ok": bool(values >= needs[c.var])}
        if truth:
            row["truth"] = truth.get(ident, np.nan)
        rows.append(row)
    cols = ["table", "column", "level", "code", "name", "status", "low", "high", "values", "need", "ok"]
    return pd.DataFrame(rows, columns=cols + (["truth"] if truth else []))


def _groups(system: System, cells: dict, links: Iterable[Link], integer: bool, truth: dict | None = None
            ) -> pd.DataFrame:
    """Areas where a reader can tell that every count of the whole lies in one part.

    With the true values, only areas where that is true need a solve (a
    reader cannot be sure of something false).
    """
    rows = []
    for link in (lk for lk in links if lk.groups):
        for ident, whole in cells.items():
            if whole.table != link.whole or whole.status == "nodata" or not whole.area:
                continue
            if link.columns is not None and ident[1] not in link.columns:
                continue  # a count the filter does not cut (referrals under a category) is in every part whole
            for part_key in link.parts:
                pid = (part_key, ident[1], ident[2], ident[3])
                part = cells.get(pid)
                if part is None or part.status == "nodata" or system.hi[part.var] < 1:
                    continue
                if system.lo[whole.var] > system.hi[part.var]:
                    continue  # the whole is surely bigger than this part
                if truth and (truth.get(ident, 0) != truth.get(pid, -1) or truth.get(pid, 0) < 1):
                    continue
                if _all_in_part(system, whole.var, part.var, integer):
                    rows.append({"whole": link.whole, "part": part_key, "column": ident[1], "level": whole.level,
                                 "code": whole.code, "name": whole.name})
    return pd.DataFrame(rows, columns=["whole", "part", "column", "level", "code", "name"])


def _all_in_part(system: System, whole: int, part: int, integer: bool) -> bool:
    """True if whole - part is surely 0 and the part surely at least 1."""
    if system.maximum({whole: 1.0, part: -1.0}, integer=integer) > 1e-6:
        return False
    return system.lo[part] >= 1 or -system.maximum({part: -1.0}, integer=integer) >= 1 - 1e-6


def _combining(system: System, cells: dict, failures: pd.DataFrame, tables, links, integer) -> dict:
    """For each short cell, the tables whose figures combine to narrow it (each needed)."""
    out = {}
    for r in failures.head(20).itertuples():
        involved = []
        for key in tables:
            if key == r.table:
                continue
            others = {k: v for k, v in tables.items() if k != key}
            kept = [lk for lk in links if key not in lk.tables]
            s2, c2 = build_system(others, kept)
            ident = (r.table, r.column, "area" if r.level == tables[r.table].geography.level else r.level, r.code)
            low, high = s2.ranges([c2[ident].var], integer=integer)[c2[ident].var]
            if high - low + 1 >= r.need:
                involved.append(key)
        out[(r.table, r.column, r.level, r.code)] = [r.table, *involved]
    return out


def check_linked(tables: Mapping[str, SafeTable], links: Iterable[Link] = (), *, min_range: int | None = None,
                 min_rounded: int = 2, raw: Mapping[str, Any] | None = None, integer: bool = False,
                 groups: bool = True) -> LinkedCheck:
    """Solve everything a reader of all ``tables`` knows, and check every hidden and rounded cell.

    Parameters
    ----------
    tables : mapping
        ``{name: SafeTable}``: every table published together (name them as
        the files or maps are named, so failures name the artefacts).
    links : iterable of Link
        How the tables relate (:func:`categories`, :func:`periods`, :func:`same`).
    min_range : int, optional
        Possible values every hidden cell must keep (default: each table's
        ``policy.min_range``, 3).
    min_rounded : int
        Possible values every rounded cell must keep (2: it cannot be worked out).
    raw : mapping, optional
        ``{name: raw table}``: adds the true value of each cell (``truth``).
    integer : bool
        Solve with integer programming (exact when the linear bound is not).
    groups : bool
        Look for group disclosure across the links.
    """
    tables = dict(tables)
    links = tuple(links)
    system, cells = build_system(tables, links)
    truth = _truth(raw, tables)
    ranges = _ranges(system, cells, tables, min_range, min_rounded, truth, integer)
    found = _groups(system, cells, links, integer, truth) if groups else pd.DataFrame(
        columns=["whole", "part", "column", "level", "code", "name"])
    check = LinkedCheck(ranges, found, tuple(tables), links)
    if not check.cells["ok"].all():
        check.combine = _combining(system, cells, check.failures, tables, links, integer)
    return check


# --------------------------------------------------------------------------- protection
class Linked:
    """Tables made safe together: ``safe`` by name, the final ``check``, and ``added``: the cells
    hidden beyond what each table hides on its own (a :class:`Pattern` per table)."""

    def __init__(self, safe: dict[str, SafeTable], added: dict[str, Pattern], links: tuple[Link, ...],
                 raw: Mapping[str, Any], min_rounded: int, integer: bool):
        self.safe, self.added, self.links = safe, added, links
        self._args = (raw, min_rounded, integer)
        self._check: LinkedCheck | None = None

    @property
    def check(self) -> LinkedCheck:
        """The full linked check of the final tables (exact ranges; computed when first asked for)."""
        if self._check is None:
            raw, min_rounded, integer = self._args
            self._check = check_linked(self.safe, self.links, min_rounded=min_rounded, raw=raw, integer=integer)
        return self._check

    def __getitem__(self, key: str) -> SafeTable:
        return self.safe[key]

    def __repr__(self) -> str:
        n = sum(len(p) for p in self.added.values())
        return f"<Linked {len(self.safe)} tables, {n} cells hidden to protect links>"


def _remake(raw: Mapping[str, Any], key: str, pattern: Pattern, options: Mapping[str, dict]) -> SafeTable:
    return make_safe(raw[key], pattern=pattern, **options[key])


def _candidates(system: System, cells: dict, target: tuple, truth: dict, protectable) -> list[tuple]:
    """Shown cells linked to ``target`` by a constraint, nearest first: same area elsewhere, then smallest."""
    var = cells[target].var
    by_var = {c.var: ident for ident, c in cells.items()}
    first, second = set(), set()
    rows_of: dict[int, list[int]] = {}
    for r, (coefs, _, _) in enumerate(system.rows):
        for v in coefs:
            rows_of.setdefault(v, []).append(r)
    for r in rows_of.get(var, []):
        first |= set(system.rows[r][0])
    for v in first:
        for r in rows_of.get(v, []):
            second |= set(system.rows[r][0])
    out = []
    for degree, group in ((0, first), (1, second - first)):
        for v in group:
            ident = by_var[v]
            if v == var or not protectable(ident):
                continue
            same_area = ident[3] == target[3] and ident[2] == target[2]
            out.append((degree, 0 if same_area else 1, truth.get(ident, 0.0), ident))
    out.sort(key=lambda t: (t[0], t[1], t[2], str(t[3])))
    return [t[3] for t in out]


def _try(system: System, cells: dict, target: tuple, cand: tuple, tables, need: int, integer: bool):
    """The target's number of possible values if ``cand`` were hidden too."""
    i = cells[cand].var
    saved = (system.lo[i], system.hi[i])
    system.lo[i], system.hi[i] = float(tables[cand[0]].policy.floor), INF
    low, high = system.ranges([cells[target].var], integer=integer)[cells[target].var]
    system.lo[i], system.hi[i] = saved
    return high - low + 1


def _choose(system, cells, target, truth, tables, need, integer, limit=40) -> tuple | None:
    def protectable(ident):
        c = cells[ident]
        return c.status in ("rounded", "exact") and truth.get(ident, 1.0) > 0

    best, best_values = None, -1.0
    for cand in _candidates(system, cells, target, truth, protectable)[:limit]:
        values = _try(system, cells, target, cand, tables, need, integer)
        if values >= need:
            return cand
        if values > best_values:
            best, best_values = cand, values
    return best


def _minus(a: Pattern, b: Pattern) -> Pattern:
    return Pattern({k: v - b.areas.get(k, frozenset()) for k, v in a.areas.items()},
                   {k: v - b.totals.get(k, frozenset()) for k, v in a.totals.items()})


def _hide(pattern: Pattern, ident: tuple) -> Pattern:
    key, column, level, code = ident
    if level == "area":
        return pattern.union(Pattern.from_cells({column: [str(code)]}))
    return pattern.union(Pattern.from_cells(totals={column: [(level, code)]}))


def _named(name: Any) -> str:
    return f" ({name})" if isinstance(name, str) and name.strip() else ""


def _short_message(check: LinkedCheck, row) -> str:
    # row["values"] and row["name"], not row.values and row.name: those are the Series' own attributes
    names = check.combine.get((row.table, row.column, row.level, row.code), [row.table])
    return (f"{row.column} of {row.level} {row.code}{_named(row['name'])} in {row.table!r} narrows to "
            f"{row.low:g}–{row.high:g} "
            f"({row['values']:g} possible values; at least {row.need} needed) when {', '.join(map(repr, names))} are "
            "read together, and hiding more cannot fix it. Publish fewer of these together, or coarser ones.")


def _round(system: System, cells: dict, safe, links, min_rounded, known_ok: set, truth: dict, integer: bool):
    """One pass of the check: the first short cell, or a group disclosure, or None (all wide enough)."""
    todo = [i for i, c in cells.items() if c.status in ("hidden", "rounded") and (i, c.status) not in known_ok]
    need = {cells[i].var: _need(cells[i], safe, None, min_rounded) for i in todo}
    by_var = {cells[i].var: truth[i] for i in cells if i in truth}
    proven = system.wide_enough(need, truth=by_var if len(by_var) == len(cells) else None)
    rest = [i for i in todo if cells[i].var not in proven]
    res = system.ranges([cells[i].var for i in rest], integer=integer, stop=need)
    known_ok |= {(i, cells[i].status) for i in todo if cells[i].var in proven}
    for i in rest:
        low, high = res[cells[i].var]
        if high - low + 1 >= need[cells[i].var]:
            known_ok.add((i, cells[i].status))
        else:
            return ("short", i, need[cells[i].var])
    groups = _groups(system, cells, links, integer, truth)
    if len(groups):
        g = groups.iloc[0]
        return ("group", (g["whole"], g["column"], "area", g["code"]), (g["part"], g["column"], "area", g["code"]))
    return None


def _choose_group(system: System, cells: dict, whole: tuple, part: tuple, truth: dict, tables, integer):
    """A shown, non-zero cell whose hiding stops a reader telling that ``whole`` lies all in ``part``.

    The part's cell first, then the whole's. When hiding one alone is not
    enough (its table's other figures still pin it), it is hidden anyway:
    the table's own secondary suppression then hides a partner, and the
    next round checks again.
    """
    usable = [c for c in (part, whole)
              if cells[c].status in ("rounded", "exact") and truth.get(c, 1.0) > 0]
    for cand in usable:
        c = cells[cand]
        saved = (system.lo[c.var], system.hi[c.var])
        system.lo[c.var], system.hi[c.var] = float(tables[cand[0]].policy.floor), INF
        still = _all_in_part(system, cells[whole].var, cells[part].var, integer)
        system.lo[c.var], system.hi[c.var] = saved
        if not still:
            return cand
    return usable[0] if usable else None


def protect_linked(tables: Mapping[str, AreaTable | pd.DataFrame], links: Iterable[Link] = (), *,
                   options: Mapping[str, Mapping[str, Any]] | None = None, min_rounded: int = 2,
                   integer: bool = False, max_rounds: int = 500, **make_safe_options: Any) -> Linked:
    """Make ``tables`` safe together: hide more until every linked range is wide enough, or refuse.

    Parameters
    ----------
    tables : mapping
        ``{name: raw AreaTable or frame}``, all of the same areas (or subsets).
    links : iterable of Link
        How they relate (:func:`categories`, :func:`periods`, :func:`same`).
    options : mapping, optional
        ``{name: {make_safe option: value}}`` for one table, e.g.
        ``{"weapons": {"suppress_zero": True}}`` (zeros disclosive under
        that filter).
    **make_safe_options
        For every table: ``policy``, ``counts``, ``k``, ``min_range`` ...

    Raises
    ------
    DisclosureError
        When no more hiding can protect a cell, or a group disclosure
        remains; the message names the tables that combine.
    """
    raw, links = dict(tables), tuple(links)
    opts = {k: {**make_safe_options, **(options or {}).get(k, {})} for k in raw}
    patterns = {k: Pattern() for k in raw}
    safe = {k: _remake(raw, k, patterns[k], opts) for k in raw}
    alone = {k: Pattern.of(v, totals=True) for k, v in safe.items()}
    known_ok: set = set()
    for _ in range(max_rounds):
        system, cells = build_system(safe, links)
        truth = _truth(raw, safe)
        found = _round(system, cells, safe, links, min_rounded, known_ok, truth, integer)
        if found is None:
            added = {k: _minus(Pattern.of(v, totals=True), alone[k]) for k, v in safe.items()}
            return Linked(safe, {k: p for k, p in added.items() if p}, links, raw, min_rounded, integer)
        if found[0] == "short":
            cand = _choose(system, cells, found[1], truth, safe, found[2], integer)
        else:
            cand = _choose_group(system, cells, found[1], found[2], truth, safe, integer)
        if cand is None:
            _refuse(check_linked(safe, links, min_rounded=min_rounded, raw=raw, integer=integer), found[1])
        key = cand[0]
        patterns[key] = _hide(patterns[key].union(Pattern.of(safe[key], totals=True)), cand)
        safe[key] = _remake(raw, key, patterns[key], opts)
    raise DisclosureError("the linked check did not settle; please report this.")  # pragma: no cover


def _refuse(check: LinkedCheck, target: tuple) -> None:
    fails = check.failures
    if len(fails):
        raise DisclosureError(_short_message(check, fails.iloc[0]))
    g = check.groups.iloc[0] if len(check.groups) else None
    if g is not None:
        raise DisclosureError(
            f"group disclosure: read together, {g['whole']!r} and {g['part']!r} show that every {g['column']} of "
            f"{g['level']} {g['code']}{_named(g['name'])} falls in {g['part']!r}, and hiding more cannot fix it. Make "
            f"zeros disclosive in the other parts (make_safe option suppress_zero=True) or publish fewer parts.")
    raise DisclosureError(f"cell {target} cannot be protected; please report this.")  # pragma: no cover
