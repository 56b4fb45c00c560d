"""SafeTable and make_safe: the only way a table becomes something an exporter accepts.

:func:`make_safe` reads the column roles (from the :class:`~gangmap.table.AreaTable`
schema, or only from its arguments for a plain frame), hides and rounds the
counts under the policy with secondary suppression over the tree of sums
(:mod:`~gangmap.disclosure.secondary`), works every derived figure out again
from the published counts (:mod:`~gangmap.disclosure.derived`), and returns a
:class:`SafeTable` that holds no raw value. A SafeTable carries the geography,
the roles and the periods, so maps and exports use the right columns and
words without looking anywhere else.
"""

from __future__ import annotations

import hashlib
import html
import re
import types
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DisclosureError
from ..geography import WARD, Geography
from ..table import AreaTable, Schema
from .derived import Published, publish_derived
from .formatting import fmt_count, fmt_number, fmt_plain
from .pattern import Pattern, as_pattern
from .policy import UNSAFE_STAMP, Policy, get_policy
from .provenance import Provenance, now, version
from .roles import Columns, count_values, resolve
from .secondary import Protector
from .tree import Tree

__all__ = ["SafeTable", "make_safe", "is_safe", "require_safe"]

#: Set only while make_safe (or a SafeTable method) builds a SafeTable: the only way one comes to be.
_MINTING: ContextVar[bool] = ContextVar("gangmap_safetable_minting", default=False)


@dataclass(frozen=True, repr=False, eq=False)
class SafeTable:
    """A table of areas after the disclosure policy: the only thing exporters accept.

    Made by :func:`make_safe`; holds no raw counts.

    Attributes
    ----------
    frame : DataFrame or GeoDataFrame
        Identifiers, geometry (if any), the safe value columns and the public
        context columns only. Suppressed and no-data cells are NaN (counts
        are float).
    suppressed : DataFrame of bool
        One column per safe value column; True only where suppressed.
    nodata : DataFrame of bool
        True where the input had no data (NaN); never also suppressed.
    display : DataFrame of str
        Identifier, value and context columns as text: the marker where
        suppressed, ``policy.nodata_text`` where no data.
    totals : DataFrame
        One row per parent area (district) and a county row (``level``,
        ``code``, ``name``), then per count column the safe total and
        ``<column>_suppressed``.
    policy : Policy
    provenance : Provenance
    counts : tuple of str
        The count columns.
    derived : mapping
        ``{derived column: (source counts, ...)}``.
    hierarchy : tuple of str
        The grouping columns the totals are for (coarsest first).
    dropped : tuple of str
        Input columns left out (not published).
    geography : Geography
        The kind of area (columns and words for maps and reports).
    context : tuple of str
        Public columns published unchanged (a population).
    periods, categories : tuple of str
        What the counts cover (from the table's schema).
    labels : mapping
        Display names of columns.
    withheld : mapping
        ``{derived column: why}`` for derived figures that could not be
        worked out from the published counts and were left out.
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
    geography: Geography = WARD
    context: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    withheld: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Direct construction and dataclasses.replace(safe, frame=raw) both come through here outside
        # make_safe: refused. The seal lets exporters notice a frame edited in place afterwards.
        if not _MINTING.get():
            raise DisclosureError("a SafeTable can only be made by gangmap.disclosure.make_safe("
                                  "table, counts=[...]); it cannot be built or copied with other values "
                                  "(dataclasses.replace included).")
        object.__setattr__(self, "_seal", _seal_of(self))

    @property
    def intact(self) -> bool:
        """True while the published values are those make_safe produced (nothing edited in place)."""
        return getattr(self, "_seal", None) == _seal_of(self)

    def __reduce__(self):
        """Pickle and deep copy (joblib, multiprocessing, notebook caches) keep the seal: a changed copy is refused."""
        values = {f: getattr(self, f) for f in self.__dataclass_fields__}
        proxies = [f for f, v in values.items() if isinstance(v, types.MappingProxyType)]  # read-only views
        values.update({f: dict(values[f]) for f in proxies})
        return _unpickle, (values, proxies, getattr(self, "_seal", None))

    # ------------------------------------------------------------------ reading
    @property
    def columns(self) -> list[str]:
        """The safe value columns: counts, then derived columns."""
        return list(self.suppressed.columns)

    @property
    def identifiers(self) -> list[str]:
        """Identifier columns present (code, name, parent code and name, hierarchy)."""
        value = set(self.columns) | set(self.context) | {"geometry"}
        return [c for c in self.frame.columns if c not in value]

    @property
    def codes(self) -> pd.Series:
        """The area codes, in row order (row numbers for a table whose rows are not areas)."""
        if self.geography.code in self.frame.columns:
            return self.frame[self.geography.code]
        return pd.Series([str(i) for i in range(len(self.frame))], index=self.frame.index)

    @property
    def roles(self) -> dict[str, list[str]]:
        """Published columns by role: ``identifier``, ``count``, ``derived``, ``context``."""
        return {"identifier": self.identifiers, "count": list(self.counts),
                "derived": [c for c in self.columns if c in self.derived], "context": list(self.context)}

    def label(self, column: str) -> str:
        """Display name of a column (its label, else the column name)."""
        return self.labels.get(column, column)

    def to_table(self) -> AreaTable:
        """The safe values as an :class:`~gangmap.table.AreaTable` (roles kept; values already safe)."""
        schema = Schema(geography=self.geography, counts=self.counts, derived=dict(self.derived),
                        context=self.context, labels={k: v for k, v in self.labels.items() if k in self.frame},
                        periods=self.periods, categories=self.categories)
        return AreaTable(self.frame.copy(), schema)

    def __len__(self) -> int:
        return len(self.frame)

    def ranked(self, by: str, *, ascending: bool = False, top: int | None = None,
               rank_column: str = "rank") -> SafeTable:
        """The rows where ``by`` is shown, in order, with their rank among the shown rows only.

        Ranked tables never list hidden rows: their position in the order
        would bound the hidden value between its neighbours'. The rank is
        worked out from the published values, so it tells nothing more. The
        result carries no totals (they belong to the full table).
        """
        if by not in self.suppressed:
            raise DisclosureError(f"{by!r} is not a value column of this SafeTable; value columns are "
                                  f"{self.columns}.")
        if rank_column in self.frame.columns:
            raise DisclosureError(f"the table already has a column {rank_column!r}; pass rank_column=.")
        shown = ~(self.suppressed[by] | self.nodata[by]).to_numpy()
        order = self.frame[by][shown].astype(float).sort_values(ascending=ascending, kind="stable").index
        order = order[:top] if top is not None else order
        rank = pd.Series(np.arange(1, len(order) + 1), index=order, dtype="int64")
        return _subset(self, order, rank_column, rank)

    # ------------------------------------------------------------------ showing
    def __repr__(self) -> str:
        n = int(self.suppressed.to_numpy().sum())
        return (f"<SafeTable {self.geography.count_of(len(self.frame))}, columns={self.columns}, "
                f"policy={self.policy.name!r}, {n} cells suppressed>")

    def _repr_html_(self) -> str:
        e = html.escape
        n = int(self.suppressed.to_numpy().sum())
        roles = "".join(f"<tr><th style='text-align:left'>{e(r)}</th><td style='text-align:left'>"
                        f"{e(', '.join(c))}</td></tr>" for r, c in self.roles.items() if c)
        withheld = "".join(f"<li>{e(k)}: {e(v)}</li>" for k, v in self.withheld.items())
        head = self.display.head(10).rename(columns=lambda c: self.label(c))
        return (f"<div><b>SafeTable</b>: {e(self.geography.count_of(len(self)))}, "
                f"{n} cells suppressed · {e(self.provenance.footer())}<table>{roles}</table>"
                + (f"<p>Withheld:</p><ul>{withheld}</ul>" if withheld else "")
                + f"{head.to_html(max_cols=12, border=0)}</div>")


def _subset(safe: SafeTable, index: pd.Index, rank_column: str, rank: pd.Series) -> SafeTable:
    frame = safe.frame.loc[index].copy()
    frame.insert(0, rank_column, rank.loc[index].to_numpy())
    display = safe.display.loc[index].copy()
    display.insert(0, rank_column, [fmt_count(v) for v in rank.loc[index]])
    ctx = (*safe.context, rank_column)
    return _mint(frame=frame, suppressed=safe.suppressed.loc[index], nodata=safe.nodata.loc[index],
                 display=display, totals=safe.totals.iloc[:0], policy=safe.policy, provenance=safe.provenance,
                 counts=safe.counts, derived=safe.derived, hierarchy=safe.hierarchy, dropped=safe.dropped,
                 geography=safe.geography, context=ctx, periods=safe.periods, categories=safe.categories,
                 labels=safe.labels, withheld=safe.withheld)


def _mint(**fields: Any) -> SafeTable:
    """Build a SafeTable: only make_safe and SafeTable's own methods call this."""
    token = _MINTING.set(True)
    try:
        return SafeTable(**fields)
    finally:
        _MINTING.reset(token)


def _unpickle(values: dict, proxies: list[str], seal: str | None) -> SafeTable:
    values.update({f: types.MappingProxyType(values[f]) for f in proxies})
    safe = _mint(**values)
    if safe._seal != seal:  # type: ignore[attr-defined]
        raise DisclosureError("this pickled SafeTable's values were changed after make_safe, so they are no longer "
                              "the safe ones. Make it again with gangmap.disclosure.make_safe(...).")
    return safe


def _seal_of(safe: SafeTable) -> str:
    """A digest of every published value (frame without geometry, display, flags, totals)."""
    h = hashlib.sha256()
    geometry = [c for c in safe.frame.columns if c == "geometry" or str(safe.frame[c].dtype) == "geometry"]
    for part in (pd.DataFrame(safe.frame.drop(columns=geometry)), safe.display, safe.suppressed, safe.nodata,
                 safe.totals):
        h.update(repr((list(map(str, part.columns)), list(map(str, part.index)))).encode())
        if len(part.columns):
            h.update(pd.util.hash_pandas_object(part.astype(object), index=False).to_numpy().tobytes())
    return h.hexdigest()


def is_safe(obj: Any) -> bool:
    """True if ``obj`` is a :class:`SafeTable` made by make_safe and not edited since.

    Examples
    --------
    >>> is_safe(pd.DataFrame({"reports": [1]}))
    False
    """
    return isinstance(obj, SafeTable) and obj.intact


def require_safe(obj: Any, what: str = "a table") -> SafeTable:
    """Return ``obj`` if it is a SafeTable, else raise :class:`DisclosureError`.

    Exporters call this first.

    Examples
    --------
    >>> require_safe(pd.DataFrame(), "a CSV")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gangmap.errors.DisclosureError: Exporting a CSV needs a SafeTable: call gangmap.disclosure.make_safe(...) first
    """
    if not isinstance(obj, SafeTable):
        raise DisclosureError(f"Exporting {what} needs a SafeTable: call "
                              "gangmap.disclosure.make_safe(table, counts=[...]) first")
    if not obj.intact:
        raise DisclosureError(f"Exporting {what}: this SafeTable's values were changed after make_safe "
                              "(its frame, display or flags were edited in place), so they are no longer the "
                              "safe ones. Change the input table and call gangmap.disclosure.make_safe(...) again.")
    return obj


# --------------------------------------------------------------------------- make_safe, step by step
@dataclass
class _Counts:
    """The safe counts of every count column: area values and flags, total values and flags."""

    shown: dict[str, np.ndarray] = field(default_factory=dict)
    hidden: dict[str, np.ndarray] = field(default_factory=dict)
    nodata: dict[str, np.ndarray] = field(default_factory=dict)
    totals: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def _checked_policy(policy: str | Policy, allow_unsafe: bool, options: Mapping[str, Any]) -> Policy:
    pol = get_policy(policy, **options)
    if not pol.safe and not allow_unsafe:
        raise DisclosureError(
            f"policy {pol.name!r}{' with secondary=False' if pol.name == 'threshold' else ''} leaves small counts "
            "that could identify a child visible or recoverable. If this output is for internal use "
            "only, pass allow_unsafe=True (it will be stamped "
            f"'{UNSAFE_STAMP}'); otherwise use policy='nhs' or 'threshold'.")
    return pol


def _safe_counts(cols: Columns, tree: Tree, pol: Policy, pattern: Pattern | None) -> _Counts:
    out = _Counts()
    frame = cols.table.frame
    for c in cols.counts:
        node_raw = tree.raw(count_values(frame, c, cols.geography))
        forced = pattern.forced(tree, c) if pattern is not None else None
        supp = np.asarray(Protector(tree, node_raw, pol, forced).run(), dtype=bool)
        present = ~np.isnan(node_raw)
        vals = np.full(tree.n, np.nan)
        show = present & ~supp
        vals[show] = [float(pol.round(int(x))) for x in node_raw[show]]
        flags = present & supp
        w = slice(tree.first_ward, tree.n)
        out.shown[c], out.hidden[c], out.nodata[c] = vals[w], flags[w], ~present[w]
        out.totals[c] = (vals[: tree.first_ward], flags[: tree.first_ward])
    return out


def _display(cols: Columns, frame: pd.DataFrame, counts: _Counts, derived: Published, pol: Policy) -> pd.DataFrame:
    disp: dict[str, list[str]] = {}
    for col in frame.columns:
        if col == cols.geometry:
            continue
        if col in cols.counts:
            disp[col] = [pol.marker if s else pol.nodata_text if np.isnan(v) else fmt_count(v)
                         for v, s in zip(frame[col].to_numpy(), counts.hidden[col])]
        elif col in derived.values:
            numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])
            disp[col] = [pol.marker if s else pol.nodata_text if nd else fmt_count(v) if col in derived.whole
                         else fmt_number(v, pol.sig_figs) if numeric else str(v)
                         for v, s, nd in zip(frame[col].tolist(), derived.suppressed[col], derived.nodata[col])]
        else:
            disp[col] = fmt_plain(frame[col], pol.nodata_text)
    return pd.DataFrame(disp, index=frame.index, dtype=object)


def _totals(tree: Tree, cols: Columns, counts: _Counts) -> pd.DataFrame:
    order = list(range(1, tree.first_ward)) + [0]
    tot: dict[str, list] = {"level": [tree.level[v] for v in order], "code": [tree.code[v] for v in order],
                            "name": [tree.name[v] for v in order]}
    for c in cols.counts:
        vals, flags = counts.totals[c]
        tot[c] = [float(vals[v]) for v in order]
        tot[f"{c}_suppressed"] = [bool(flags[v]) for v in order]
    return pd.DataFrame(tot)


def _frame(cols: Columns, counts: _Counts, derived: Published) -> pd.DataFrame:
    ordered = [c for c in cols.ordered if c not in derived.withheld]
    frame = cols.table.frame[ordered].copy()
    frame.attrs = dict()  # a SafeTable carries nothing in attrs
    for c in cols.counts:
        frame[c] = counts.shown[c]
    for c, values in derived.values.items():
        frame[c] = values.to_numpy()
    return frame


def _provenance(cols: Columns, pol: Policy, period: Any, marking: str | None) -> Provenance:
    if period is None and cols.table.schema.periods:
        period = cols.table.schema.period_label
    mark = marking or ""
    if pol.stamp:
        mark = f"{pol.stamp} · {mark}" if mark else pol.stamp
    notes = cols.table.schema.notes
    lost = [_not_placed(c, str(notes[c]["not_placed"]), pol) for c in cols.counts if notes.get(c, {}).get("not_placed")]
    return Provenance(period=None if period is None else str(period), policy=pol.name, generated=now(),
                      version=version(), marking=mark, summary=pol.summary, stamp=pol.stamp,
                      not_placed="; ".join(lost) or None, area=cols.geography.label)


_NOT_PLACED_TOTAL = re.compile(r"\(total ([\d,]+)\)")


def _not_placed(column: str, note: str, pol: Policy) -> str:
    """What a published footer says of the rows of ``column`` that the join could not place.

    How many rows, and their total, are small counts too ("2 rows (total 3)"
    tells of 3 reports outside every area): the total is published only as
    the rule would publish a count of that size (hidden below the floor,
    rounded as the counts are) and the number of rows never. An unsafe
    policy keeps the join's exact words (its outputs are internal only); a
    note without a total (a filtered view of a pack) gives no number. The
    analyst's JoinReport keeps the exact figures.
    """
    if not pol.safe:
        return f"{column} {note}"
    found = _NOT_PLACED_TOTAL.search(note)
    if found is None:
        return f"some {column}"
    shown = pol.shown_value(int(found.group(1).replace(",", "")))
    if shown is None:
        return f"some {column} (too few to publish)"
    if shown and pol.rounding > 1:
        return f"about {shown:,} {column} (rounded to {pol.rounding})"
    return f"{shown:,} {column}"


def make_safe(
    table: AreaTable | pd.DataFrame,
    counts: Sequence[str] | str | None = None,
    *,
    policy: str | Policy = "nhs",
    derived: Mapping[str, Sequence[str]] | None = None,
    context: Sequence[str] | str | None = None,
    keep: Sequence[str] | str | None = None,
    hierarchy: Sequence[str] | str | None = None,
    period: Any = None,
    marking: str = "OFFICIAL-SENSITIVE",
    allow_unsafe: bool = False,
    pattern: SafeTable | Pattern | Mapping[str, Sequence[str]] | None = None,
    **policy_options: Any,
) -> SafeTable:
    """Apply a disclosure policy to a table of areas; the result is the only thing that can be exported.

    Parameters
    ----------
    table : AreaTable, DataFrame or GeoDataFrame
        One row per area. With an :class:`~gangmap.table.AreaTable` the
        counts, derived lineage and context come from its schema (the
        arguments below add to them). With a plain frame they come *only*
        from the arguments: pandas keeps no roles (``attrs`` are ignored).
        Identifiers (the geography's code, name, parent code and name) and
        the geometry of a GeoDataFrame are kept.
    counts : list of str, optional
        The raw count columns (whole numbers ≥ 0; empty/NaN means no data,
        which stays "no data": neither zero nor suppressed). Default: the
        table's declared counts.
    policy : str or Policy
        ``"nhs"`` (default), ``"threshold"`` or ``"none"``; see :data:`POLICIES`.
    derived : dict, optional
        ``{derived column: [source count columns]}`` for rates, smoothed
        rates, indices, cluster labels... declared here (or in the schema).
        A derived figure is worked out again from the published counts
        (:mod:`gangmap.disclosure.derived`), hidden where any of its sources
        is hidden in that row, and shown to ``sig_figs`` significant
        figures; one that cannot be worked out again is withheld.
    context : list of str, optional
        Public columns (a population from the ONS, an area) declared here.
    keep : list of str, optional
        The public columns to publish unchanged. Default: the declared
        context columns present. A column whose role is not declared is
        refused (a rate kept next to a public population gives the count back).
    hierarchy : sequence of str, optional
        Grouping columns for totals, coarsest first. Default: the
        geography's parent column (``lad_code``) when present, else the
        county total only (``()``).
    period : str, optional
        The period the data covers, for the provenance footer (default:
        from the table's schema).
    marking : str
        Protective marking printed on every output.
    allow_unsafe : bool
        Must be True to use an unsafe policy (``none``, or ``threshold`` with
        ``secondary=False``).
    pattern : SafeTable, Pattern or dict, optional
        Cells to hide because another output hides them: a SafeTable of the
        same areas (its hidden area cells and hidden totals), a :class:`Pattern`, or
        ``{count column: [area codes]}``. They are hidden before secondary
        suppression, so files made from subsets of the areas (a ranked list,
        a planning table) hide the same cells and cannot be combined.
    **policy_options
        Passed to :func:`get_policy`, e.g. ``k=5`` for ``threshold``,
        ``suppress_zero=True`` (zeros are disclosive), ``min_range=3``.

    Returns
    -------
    SafeTable

    Raises
    ------
    DisclosureError
        A column is missing, holds something other than counts, or is kept
        without a declared role; or an unsafe policy without ``allow_unsafe=True``.
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
    >>> make_safe(t, ["reports"], keep=["lon"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gangmap.errors.DisclosureError: keep lists 'lon', whose role is not declared, ...
    """
    pol = _checked_policy(policy, allow_unsafe, policy_options)
    cols = resolve(table, counts, derived=derived, context=context, keep=keep, hierarchy=hierarchy)
    tree = Tree(cols.table.frame, cols.hierarchy, cols.geography)
    safe_counts = _safe_counts(cols, tree, pol, as_pattern(pattern))
    published = publish_derived(cols, safe_counts.shown, safe_counts.hidden, pol)
    frame = _frame(cols, safe_counts, published)
    values = [c for c in cols.values if c not in published.withheld]
    flags = {**safe_counts.hidden, **published.suppressed}
    nodata = {**safe_counts.nodata, **published.nodata}
    schema = cols.table.schema
    return _mint(
        frame=frame, suppressed=pd.DataFrame({c: flags[c] for c in values}, index=frame.index),
        nodata=pd.DataFrame({c: nodata[c] for c in values}, index=frame.index),
        display=_display(cols, frame, safe_counts, published, pol), totals=_totals(tree, cols, safe_counts),
        policy=pol, provenance=_provenance(cols, pol, period, marking), counts=cols.counts,
        derived=types.MappingProxyType({c: s for c, s in cols.derived.items() if c in values}),
        hierarchy=cols.hierarchy, dropped=tuple(dict.fromkeys((*published.withheld, *cols.dropped))),
        geography=cols.geography, context=cols.context, periods=schema.periods, categories=schema.categories,
        labels=types.MappingProxyType({k: v for k, v in schema.labels.items() if k in frame.columns}),
        withheld=types.MappingProxyType(dict(published.withheld)))
