"""The area table: one row per area, and a schema that says what every column is.

Why not a plain DataFrame? The disclosure policy must know which figures come
from which raw counts: a rate whose count is hidden must be hidden too, or
rate x public population gives the count back. In the first release that
rule lived in ``DataFrame.attrs``, which pandas documents as experimental and
which an ordinary ``merge`` or ``concat`` drops without a word. Here the roles
of the columns travel in a typed :class:`Schema` beside the frame, and every
stage takes and returns an :class:`AreaTable`. A plain frame that comes back
from pandas carries no roles, so nothing in it is trusted: :func:`from_frame`
(or ``make_safe(..., derived=..., context=...)``) declares them explicitly.

Roles
-----
identifier
    The geography's code, name, parent code and parent name columns.
geometry
    The polygons (EPSG:27700 when read by gangmap).
count
    Raw counts (reports, referrals): sensitive, made safe by the policy.
derived
    Computed from counts (rates, smoothed rates, hotspot labels, indices):
    ``{column: (source counts, ...)}``. Hidden wherever a source is hidden.
context
    Public figures that are not counts of the sensitive events, such as a
    population denominator from the ONS, or figures computed only from them.

Anything else is *undeclared*: kept in the frame for the analyst, never
published (the disclosure policy refuses to keep it until it is declared).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"ward_code": ["E05000001", "E05000002"], "reports": [3, 12],
...                    "population": [1500, 2000]})
>>> t = from_frame(df, counts=["reports"], context=["population"])
>>> t
<AreaTable 2 wards; counts: reports; context: population>
>>> t2 = t.with_columns({"reports_rate": [2.0, 6.0]}, sources=["reports"])
>>> t2.schema.derived["reports_rate"], t2.schema.role("reports_rate")
(('reports',), 'derived')
>>> merged = t2.frame.merge(pd.DataFrame({"ward_code": ["E05000001"], "x": [1]}), on="ward_code")
>>> from_frame(merged).schema.role("reports_rate") is None   # pandas dropped the roles: nothing trusted
True
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import pandas as pd

from .errors import SchemaError
from .geography import WARD, Geography, detect_geography, get_geography, normalise_codes

__all__ = ["Schema", "AreaTable", "from_frame", "as_table", "ROLES", "MONTH_RE", "quarter_of"]

#: A month as the schema's periods and every series frame write it: ``YYYY-MM`` (month 01-12).
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def quarter_of(month: str) -> str:
    """The calendar quarter (``YYYY-Qn``) of a month (``YYYY-MM``): ``quarter_of("2018-03") == "2018-Q1"``."""
    year, m = str(month).split("-")[:2]
    return f"{year}-Q{(int(m) - 1) // 3 + 1}"


#: The roles a column can have (besides none: undeclared).
ROLES = ("identifier", "geometry", "count", "derived", "context")


def _freeze(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


def _names(items: Iterable[str] | str | None) -> tuple[str, ...]:
    if items is None:
        return ()
    if isinstance(items, str):
        return (items,)
    return tuple(dict.fromkeys(str(i) for i in items))


@dataclass(frozen=True)
class Schema:
    """What the columns of an :class:`AreaTable` are, and where the data came from.

    Attributes
    ----------
    geography : Geography
        The kind of area (code, name and parent columns; the words on maps).
    counts : tuple of str
        Raw count columns.
    derived : mapping
        ``{column: (source count columns, ...)}``, always expanded to counts.
    context : tuple of str
        Public columns (population denominators, areas, flags).
    labels : mapping
        Display names of columns (``{"population": "children aged 10–17"}``).
    notes : mapping
        ``{column: {setting: value}}``: how each computed column was made
        (method, parameters, excluded areas, islands ...).
    sources : tuple of str
        The input files the table was built from.
    periods : tuple of str
        Months (``YYYY-MM``) the counts cover.
    missing_periods : tuple of str
        Months a source did not publish: no data, never zero.
    categories : tuple of str
        Categories kept by a filter (empty: every category).
    skipped : tuple of str
        Measures that were asked for but skipped for want of an input.
    repaired : tuple of str
        Area codes whose geometry was repaired when read.
    """

    geography: Geography = WARD
    counts: tuple[str, ...] = ()
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    context: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    notes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    missing_periods: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    repaired: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "derived", _freeze({str(k): _names(v) for k, v in self.derived.items()}))
        object.__setattr__(self, "labels", _freeze(self.labels))
        object.__setattr__(self, "notes", _freeze({k: _freeze(v) for k, v in self.notes.items()}))
        for name in ("counts", "context", "sources", "periods", "missing_periods", "categories", "skipped",
                     "repaired"):
            object.__setattr__(self, name, _names(getattr(self, name)))

    def role(self, column: str) -> str | None:
        """``"identifier"``, ``"geometry"``, ``"count"``, ``"derived"``, ``"context"`` or None (undeclared)."""
        if column in self.geography.identifiers:
            return "identifier"
        if column == "geometry":
            return "geometry"
        if column in self.counts:
            return "count"
        if column in self.derived:
            return "derived"
        if column in self.context:
            return "context"
        return None

    def sources_of(self, column: str) -> tuple[str, ...] | None:
        """The raw counts behind ``column``: itself for a count, the lineage of a derived
        column, ``()`` for a public column, None when undeclared (unknown)."""
        role = self.role(column)
        if role == "count":
            return (column,)
        if role == "derived":
            return self.derived[column]
        if role is None:
            return None
        return ()

    def expand(self, columns: Iterable[str], *, what: str = "a new column") -> tuple[str, ...]:
        """The raw counts behind all of ``columns`` (sources of sources, in order).

        Raises :class:`SchemaError` for an undeclared column: its lineage is
        unknown, so nothing computed from it could be published safely.
        """
        out: list[str] = []
        for c in _names(columns):
            srcs = self.sources_of(c)
            if srcs is None:
                raise SchemaError(
                    f"{what} is computed from {c!r}, whose role is not declared, so gangmap cannot tell "
                    f"whether it holds counts. Declare it: table.declare(context=[{c!r}]) if it is public "
                    f"(a population, an area), table.declare(counts=[{c!r}]) if it is a raw count, or "
                    f"table.declare(derived={{{c!r}: ['reports']}}) if it was computed from counts.")
            out.extend(srcs)
        return tuple(dict.fromkeys(out))

    @property
    def period_label(self) -> str:
        """``"2018-03"``, ``"2017-03 to 2019-02"`` or ``"period not given"``."""
        periods = sorted(self.periods)
        if not periods:
            return "period not given"
        return periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"

    def label(self, column: str) -> str:
        """Display name of a column (its label, else the column name)."""
        return self.labels.get(column, column)

    def without(self, columns: Iterable[str], *, keep_words: bool = False) -> Schema:
        """The schema with ``columns`` forgotten: no role, and (unless ``keep_words``) no label or note."""
        drop = set(columns)
        out = replace(self, counts=tuple(c for c in self.counts if c not in drop),
                      derived={k: v for k, v in self.derived.items() if k not in drop},
                      context=tuple(c for c in self.context if c not in drop))
        if keep_words:
            return out
        return replace(out, labels={k: v for k, v in self.labels.items() if k not in drop},
                       notes={k: v for k, v in self.notes.items() if k not in drop})


class AreaTable:
    """One row per area and a :class:`Schema` of column roles.

    Made by :func:`gangmap.read_areas` (boundaries only), :func:`gangmap.join`
    (with counts), the measures (with derived columns) or :func:`from_frame`
    (an analyst's own table). It reads like a frame for columns
    (``table["reports"]``, ``"reports" in table``, ``len(table)``); every
    change returns a new table (:meth:`with_columns`, :meth:`declare`,
    :meth:`merge`), so roles are never lost on the way.

    The frame is shared, not copied: treat :attr:`frame` as read-only. A frame
    changed in place, or any frame that came back from pandas, has no roles
    until it is declared again.
    """

    __slots__ = ("_frame", "_schema")

    def __init__(self, frame: pd.DataFrame, schema: Schema | None = None):
        if isinstance(frame, AreaTable):
            raise SchemaError("AreaTable(frame) needs a DataFrame; this is already an AreaTable.")
        if not isinstance(frame, pd.DataFrame):
            raise SchemaError(f"an AreaTable needs a DataFrame or GeoDataFrame, not {type(frame).__name__}.")
        schema = schema or Schema()
        _check(frame, schema)
        self._frame = frame
        self._schema = schema

    # ------------------------------------------------------------------ reading
    @property
    def frame(self) -> pd.DataFrame:
        """The (Geo)DataFrame: one row per area. Read-only by convention."""
        return self._frame

    @property
    def schema(self) -> Schema:
        return self._schema

    @property
    def geography(self) -> Geography:
        return self._schema.geography

    @property
    def counts(self) -> tuple[str, ...]:
        """Raw count columns present."""
        return self._schema.counts

    @property
    def derived(self) -> Mapping[str, tuple[str, ...]]:
        return self._schema.derived

    @property
    def context(self) -> tuple[str, ...]:
        return self._schema.context

    @property
    def periods(self) -> tuple[str, ...]:
        return self._schema.periods

    @property
    def codes(self) -> pd.Series:
        """The area codes, in row order."""
        return self._frame[self.geography.code]

    @property
    def names(self) -> pd.Series:
        """The area names (the codes where the geography has no names)."""
        g = self.geography
        return self._frame[g.name] if g.name in self._frame else self.codes

    @property
    def columns(self) -> pd.Index:
        return self._frame.columns

    @property
    def index(self) -> pd.Index:
        return self._frame.index

    @property
    def crs(self):
        """The CRS of the geometry (None for a table without geometry)."""
        return getattr(self._frame, "crs", None) if self.has_geometry else None

    @property
    def has_geometry(self) -> bool:
        import sys

        gpd = sys.modules.get("geopandas")  # a GeoDataFrame can only exist once geopandas is imported
        if gpd is None or not isinstance(self._frame, gpd.GeoDataFrame):
            return False
        return self._frame._geometry_column_name in self._frame.columns

    @property
    def geometry(self):
        if not self.has_geometry:
            raise SchemaError("this table has no geometry; join onto boundaries read with gangmap.read_areas.")
        return self._frame.geometry

    def __getitem__(self, key):
        return self._frame[key]

    def __contains__(self, column) -> bool:
        return column in self._frame.columns

    def __len__(self) -> int:
        return len(self._frame)

    def to_frame(self) -> pd.DataFrame:
        """A copy of the frame (no roles: pandas cannot carry them)."""
        out = self._frame.copy()
        out.attrs = {}
        return out

    def copy(self) -> AreaTable:
        return AreaTable(self._frame.copy(), self._schema)

    # ------------------------------------------------------------------ changing
    def with_columns(self, new: Mapping[str, Any], *, role: str = "derived", sources: Iterable[str] = (),
                     notes: Mapping[str, Any] | None = None, labels: Mapping[str, str] | None = None) -> AreaTable:
        """A new table with ``new`` columns added (or replaced) in ``role``.

        Parameters
        ----------
        new : mapping
            ``{column: values}`` (array-likes in row order, or Series on the
            same index).
        role : {"derived", "context", "count"}
            ``"derived"`` (default): computed from ``sources``, which may be
            counts, derived or public columns; they are expanded to raw counts.
            A column computed only from public columns is recorded as context.
        sources : iterable of str
            Columns the new ones were computed from (``role="derived"``).
        notes : mapping, optional
            How they were computed, recorded for each new column.
        labels : mapping, optional
            Display names of new columns.
        """
        if role not in ("derived", "context", "count"):
            raise SchemaError(f"role must be 'derived', 'context' or 'count', not {role!r}.")
        new = dict(new)
        names = list(new)
        reserved = [c for c in names if c in self.geography.identifiers or c == "geometry"]
        if reserved:
            raise SchemaError(f"{reserved[0]!r} is an identifier or geometry column and cannot be replaced.")
        schema = self._schema.without(names)
        if role == "derived":
            counts = self._schema.expand(sources, what=f"{', '.join(map(repr, names))}")
            role = "derived" if counts else "context"
        frame = self._frame.copy()
        for col, values in new.items():
            frame[col] = values.to_numpy() if isinstance(values, pd.Series) and not values.index.equals(
                frame.index) else values
        if role == "derived":
            schema = replace(schema, derived={**schema.derived, **{c: counts for c in names}})
        elif role == "context":
            schema = replace(schema, context=(*schema.context, *names))
        else:
            schema = replace(schema, counts=(*schema.counts, *names))
        if notes is not None:
            schema = replace(schema, notes={**schema.notes, **{c: dict(notes) for c in names}})
        if labels:
            schema = replace(schema, labels={**schema.labels, **labels})
        return AreaTable(frame, schema)

    def declare(self, *, counts: Iterable[str] | str = (), derived: Mapping[str, Iterable[str]] | None = None,
                context: Iterable[str] | str = ()) -> AreaTable:
        """A new table with the roles of existing columns declared (or re-declared).

        ``derived`` sources may name counts or other derived columns; they are
        expanded to raw counts (declared in the same call or before).
        """
        counts, context = _names(counts), _names(context)
        lineage: dict[str, tuple[str, ...]] = {str(k): _names(v) for k, v in (derived or {}).items()}
        every = [*counts, *context, *lineage]
        missing = [c for c in every if c not in self._frame.columns]
        if missing:
            raise SchemaError(f"cannot declare {missing[0]!r}: no such column. Columns are: "
                              f"{_columns_text(self._frame)}.")
        schema = self._schema.without(every, keep_words=True)  # a new role; the column's label and notes stay
        schema = replace(schema, counts=(*schema.counts, *counts), context=(*schema.context, *context))
        for col, srcs in lineage.items():
            unknown = [s for s in srcs if s not in lineage and schema.role(s) is None]
            if unknown:
                raise SchemaError(f"derived column {col!r} is computed from {unknown[0]!r}, whose role is not "
                                  f"declared; declare it too (counts=[{unknown[0]!r}] if it is a raw count).")
        resolved = _resolve_derived(schema, lineage)
        schema = replace(schema, derived={**schema.derived, **resolved})
        return AreaTable(self._frame, schema)

    def with_schema(self, **changes: Any) -> AreaTable:
        """A new table whose schema has ``changes`` (periods, labels, sources ...)."""
        return AreaTable(self._frame, replace(self._schema, **changes))

    def merge(self, other: pd.DataFrame, on: str | None = None, *, counts: Iterable[str] | str = (),
              derived: Mapping[str, Iterable[str]] | None = None,
              context: Iterable[str] | str = (), unmatched: str = "raise") -> AreaTable:
        """Add the columns of ``other`` by area code, keeping every area, its order and the roles.

        Codes are compared as the join compares them (trimmed, upper case:
        :func:`~gangmap.geography.normalise_codes`). ``other`` must have at
        most one row per area (else :class:`SchemaError`: a merge must never
        add or drop areas). A row of ``other`` whose code matches no area is
        never dropped silently: the merge raises :class:`SchemaError` listing
        those rows, unless ``unmatched="drop"``, which leaves them out and
        records how many and which in ``schema.notes[column]["merge"]`` of
        every new column. New columns are undeclared unless given in
        ``counts``, ``derived`` or ``context``.
        """
        if unmatched not in ("raise", "drop"):
            raise SchemaError(f"unmatched must be 'raise' or 'drop', not {unmatched!r}.")
        if isinstance(other, AreaTable):
            other = other.frame
        key = on or self.geography.code
        if key not in other.columns:
            raise SchemaError(f"merge needs the key column {key!r} in the other table; its columns are "
                              f"{_columns_text(other)}. Pass on='COLUMN'.")
        theirs = normalise_codes(other[key]).reset_index(drop=True)
        dup = theirs.duplicated(keep=False) & theirs.notna()
        if dup.any():
            raise SchemaError(f"the other table has {int(dup.sum())} rows sharing a {key!r} "
                              f"(e.g. {other[key].iloc[int(dup.to_numpy().argmax())]!r}, codes compared trimmed and "
                              f"in upper case); give one row per {self.geography.label} so no area is duplicated.")
        clash = [c for c in other.columns if c != key and c in self._frame.columns]
        if clash:
            raise SchemaError(f"merge would overwrite column(s) {clash}; rename them in the other table first.")
        ours = normalise_codes(self._frame[key])
        hit = theirs.isin(set(ours.dropna())).to_numpy()
        lost = _unmatched_rows(other[key], ~hit)
        if lost and unmatched == "raise":
            raise SchemaError(f"{_plural_rows(int((~hit).sum()))} of the other table match no {self.geography.label} "
                              f"of this table: {lost}. Fix their {key!r} values, or pass unmatched='drop' to leave "
                              "them out (recorded in schema.notes).")
        extra = other.drop(columns=key).reset_index(drop=True)[hit]
        extra.index = pd.Index(theirs[hit].to_numpy())
        frame = self._frame.copy()
        for col in extra.columns:
            frame[col] = ours.map(extra[col]).to_numpy()
        schema = self._schema
        if lost:
            text = (f"{_plural_rows(int((~hit).sum()))} of the other table matched no {self.geography.label} "
                    f"and {'was' if (~hit).sum() == 1 else 'were'} left out (unmatched='drop'): {lost}")
            schema = replace(schema, notes={**schema.notes, **{c: {**schema.notes.get(c, {}), "merge": text}
                                                                for c in extra.columns}})
        return AreaTable(frame, schema).declare(counts=counts, derived=derived, context=context)

    def rows(self, keep) -> AreaTable:
        """The table restricted to some areas: a boolean mask in row order, or a list of codes."""
        values = pd.Series(list(keep) if not isinstance(keep, pd.Series) else keep.to_numpy())
        mask = values.to_numpy(dtype=bool) if pd.api.types.is_bool_dtype(values) else \
            self.codes.isin(values.tolist()).to_numpy()
        if len(mask) != len(self):
            raise SchemaError(f"rows() got a mask of {len(mask)} values for {len(self)} rows.")
        return AreaTable(self._frame[mask], self._schema)

    # ------------------------------------------------------------------ showing
    def describe_roles(self) -> dict[str, list[str]]:
        """Every column by role (``"undeclared"`` for the rest)."""
        out: dict[str, list[str]] = {r: [] for r in (*ROLES, "undeclared")}
        for c in self._frame.columns:
            out[self._schema.role(c) or "undeclared"].append(str(c))
        return out

    def __repr__(self) -> str:
        roles = self.describe_roles()
        parts = [f"<AreaTable {self.geography.count_of(len(self))}"]
        if roles["count"]:
            parts.append("counts: " + ", ".join(roles["count"]))
        if roles["derived"]:
            parts.append("derived: " + ", ".join(roles["derived"]))
        if roles["context"]:
            parts.append("context: " + ", ".join(roles["context"]))
        if roles["undeclared"]:
            parts.append("undeclared: " + ", ".join(roles["undeclared"]))
        return "; ".join(parts) + ">"

    def _repr_html_(self) -> str:
        e = html.escape
        roles = self.describe_roles()
        rows = "".join(f"<tr><th style='text-align:left'>{e(r)}</th><td style='text-align:left'>"
                       f"{e(', '.join(cols))}</td></tr>" for r, cols in roles.items() if cols)
        head = self._frame.drop(columns="geometry", errors="ignore").head(10)
        return (f"<div><b>AreaTable</b>: {e(self.geography.count_of(len(self)))}, "
                f"{e(self._schema.period_label)}<table>{rows}</table>"
                f"{head.to_html(max_cols=12, border=0)}</div>")


# ---------------------------------------------------------------------- building
def _plural_rows(n: int) -> str:
    return f"{n:,} row{'' if n == 1 else 's'}"


def _unmatched_rows(keys: pd.Series, lost, limit: int = 10) -> str:
    """``"row 2 ('E05999999'), row 3 (blank)"`` for the rows of ``keys`` flagged in ``lost`` (1-based, first few)."""
    where = [i for i, flag in enumerate(lost) if flag]
    shown = []
    for i in where[:limit]:
        value = keys.iloc[i]
        blank = value is None or (not isinstance(value, str) and pd.isna(value)) or not str(value).strip()
        shown.append(f"row {i + 1} ({'blank' if blank else repr(value)})")
    return ", ".join(shown) + (f" and {len(where) - limit:,} more" if len(where) > limit else "")


def _columns_text(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    return ", ".join(cols) if len(cols) <= 30 else ", ".join(cols[:30]) + ", ..."


def _resolve_derived(schema: Schema, derived: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Expand the sources of each derived column to raw counts (derived may cite derived)."""
    out: dict[str, tuple[str, ...]] = {}

    def expand(col: str, seen: tuple[str, ...]) -> list[str]:
        res: list[str] = []
        for s in derived[col]:
            if s in derived and s not in seen and s != col:
                res.extend(expand(s, (*seen, col)))
            elif s in derived:
                raise SchemaError(f"derived columns {col!r} and {s!r} are computed from each other.")
            else:
                res.extend(schema.expand([s], what=repr(col)))
        return res

    for col in derived:
        out[col] = tuple(dict.fromkeys(expand(col, ())))
    return out


def _check(frame: pd.DataFrame, schema: Schema) -> None:
    geo = schema.geography
    if geo.code not in frame.columns:
        raise SchemaError(f"the table has no {geo.label} code column {geo.code!r}; its columns are "
                          f"{_columns_text(frame)}. Rename the code column, or pass geography= "
                          "(e.g. 'lsoa', or gangmap.geography.custom('beat', code='BEAT_ID')).")
    codes = frame[geo.code]
    blank = codes.isna() | (codes.astype("string").str.strip() == "")
    if blank.any():
        raise SchemaError(f"{int(blank.sum())} row(s) have no {geo.label} code in {geo.code!r} "
                          f"(first: row {int(blank.to_numpy().argmax()) + 1}); every row must be one area.")
    dup = codes.duplicated(keep=False)
    if dup.any():
        raise SchemaError(f"{geo.label} code(s) {sorted(set(map(str, codes[dup])))[:5]} appear more than once in "
                          f"{geo.code!r}; an area table has one row per {geo.label}. Aggregate first "
                          f"(df.groupby({geo.code!r}).sum()).")
    declared = [*schema.counts, *schema.derived, *schema.context]
    missing = [c for c in declared if c not in frame.columns]
    if missing:
        raise SchemaError(f"the schema declares column {missing[0]!r}, which is not in the frame.")
    seen: dict[str, str] = {}
    for role, cols in (("count", schema.counts), ("derived", schema.derived), ("context", schema.context)):
        for c in cols:
            if c in seen:
                raise SchemaError(f"column {c!r} is declared both {seen[c]} and {role}; give it one role.")
            if c in geo.identifiers or c == "geometry":
                raise SchemaError(f"column {c!r} is an identifier of the {geo.label}s and cannot be a {role}.")
            seen[c] = role
    for col, srcs in schema.derived.items():
        bad = [s for s in srcs if s not in schema.counts]
        if bad:
            raise SchemaError(f"derived column {col!r} names {bad[0]!r} as a source, which is not a count column "
                              "of this table.")


def from_frame(df: pd.DataFrame, *, counts: Iterable[str] | str = (),
               derived: Mapping[str, Iterable[str]] | None = None, context: Iterable[str] | str = (),
               geography: str | Geography | None = None, gss: bool | None = None,
               labels: Mapping[str, str] | None = None, periods: Iterable[str] = (),
               sources: Iterable[str] = ()) -> AreaTable:
    """An :class:`AreaTable` from an analyst's own frame, with every role declared explicitly.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per area. Its ``attrs`` are ignored: roles come only from
        the arguments.
    counts : list of str
        Raw count columns.
    derived : dict, optional
        ``{column: [source columns]}`` for columns computed from counts.
    context : list of str
        Public columns (population, area ...).
    geography : str or Geography, optional
        ``"ward"``, ``"lsoa"``, ... or a custom one. By default detected from
        the canonical code column (``ward_code``, ``lsoa_code`` ...).
    gss : bool, optional
        ``False`` accepts codes that are not GSS codes.

    Examples
    --------
    >>> import pandas as pd
    >>> t = from_frame(pd.DataFrame({"lsoa_code": ["E01000001"], "n": [4], "n_rate": [2.0]}),
    ...                counts=["n"], derived={"n_rate": ["n"]})
    >>> t.geography.label, dict(t.schema.derived)
    ('LSOA', {'n_rate': ('n',)})
    """
    if isinstance(df, AreaTable):
        table = df if geography is None else AreaTable(df.frame, replace(df.schema, geography=get_geography(
            geography, gss=gss)))
        return table.declare(counts=counts, derived=derived, context=context)
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"from_frame needs a DataFrame or GeoDataFrame, not {type(df).__name__}.")
    if geography is None:
        geo = detect_geography(df.columns)
        if geo is None:
            raise SchemaError(f"cannot tell which areas the rows are: no ward_code, lsoa_code, msoa_code, oa_code, "
                              f"neighbourhood_code or area_code column (columns: {_columns_text(df)}). Rename the "
                              "code column or pass geography= (e.g. geography='lsoa').")
        geo = get_geography(geo, gss=gss)
    else:
        geo = get_geography(geography, gss=gss)
    schema = Schema(geography=geo, labels=labels or {}, periods=tuple(periods), sources=tuple(sources))
    return AreaTable(df, schema).declare(counts=counts, derived=derived, context=context)


def as_table(obj: Any, *, geography: str | Geography | None = None) -> AreaTable:
    """``obj`` as an :class:`AreaTable`: an AreaTable as it is; a frame with no roles declared.

    Stages call this so they accept either; a plain frame's columns stay
    undeclared, so nothing computed from them can be published without
    :func:`from_frame` or the ``derived=``/``context=`` arguments of
    :func:`gangmap.make_safe`.
    """
    if isinstance(obj, AreaTable):
        return obj
    return from_frame(obj, geography=geography)
