"""Which columns make_safe publishes, and in what role: decided from declared roles, never guessed.

Protection must not rest on anything pandas can drop on the way. The roles
come from the :class:`~gangmap.table.AreaTable` schema, or, for a plain
DataFrame, only from the arguments of :func:`~gangmap.disclosure.make_safe`:

* **counts** are made safe by the policy;
* **derived** columns (computed from counts) are published only when all of
  their source counts are, recomputed from the safe counts
  (:mod:`gangmap.disclosure.derived`);
* **context** columns (public figures such as a population) pass unchanged;
* identifiers and geometry pass unchanged;
* anything else is dropped, and asking to ``keep`` an undeclared column that
  holds numbers (or True/False, or text that reads as a number) is refused:
  a rate kept next to a public population gives the count back
  (rate × population = count), even where the count itself is hidden.
  Undeclared text with no number in it (names, statuses) may be kept; text
  with a digit or a number word ("3 referrals", "twelve") is refused, naming
  the row, since it could carry a count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DisclosureError, GangmapError
from ..geography import Geography, custom, detect_geography
from ..table import AreaTable, from_frame
from .tree import name_column

__all__ = ["Columns", "resolve", "count_values", "row_label", "names"]


def names(items: Iterable[str] | str | None) -> list[str]:
    """A list of unique column names from a name, a list or None."""
    if items is None:
        return []
    if isinstance(items, str):
        return [items]
    return list(dict.fromkeys(str(i) for i in items))


def row_label(frame: pd.DataFrame, pos: int, geography: Geography) -> str:
    """``"row 2 (ward W3)"``: how errors name a row."""
    label = f"row {frame.index[pos]!r}"
    if geography.code in frame and geography.code != ROW_KEY:
        label += f" ({geography.label} {frame[geography.code].iloc[pos]})"
    return label


def _columns_text(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    return ", ".join(cols) if len(cols) <= 40 else ", ".join(cols[:40]) + ", ..."


def require_columns(frame: pd.DataFrame, cols: Iterable[str], what: str, fix: str) -> None:
    """Raise a DisclosureError naming the first of ``cols`` missing from ``frame``."""
    for c in cols:
        if c not in frame.columns:
            raise DisclosureError(f"{what} column {c!r} is not in the table; its columns are: "
                                  f"{_columns_text(frame)}. {fix}")


def count_values(frame: pd.DataFrame, column: str, geography: Geography) -> np.ndarray:
    """The raw counts of ``column`` as floats (NaN = no data), checked to be whole numbers of 0 or more."""
    s = frame[column]
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
                                  f"{row_label(frame, pos, geography)}; counts must be whole numbers of 0 or "
                                  "more (leave a cell empty for no data).")
        vals = num.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(vals) & (np.isinf(vals) | (vals < 0) | (vals != np.floor(vals)))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        v = vals[pos]
        why = "is negative" if v < 0 else "is not a whole number"
        raise DisclosureError(f"count column {column!r} has {v:g} in {row_label(frame, pos, geography)}, which "
                              f"{why}; counts must be whole numbers of 0 or more (leave a cell empty for no "
                              "data). Check this is a raw count, not a rate.")
    return vals


@dataclass(frozen=True)
class Columns:
    """What make_safe publishes from one table, by role."""

    table: AreaTable
    counts: tuple[str, ...]
    derived: Mapping[str, tuple[str, ...]]
    context: tuple[str, ...]
    identifiers: tuple[str, ...]
    geometry: str | None
    hierarchy: tuple[str, ...]
    dropped: tuple[str, ...]

    @property
    def geography(self) -> Geography:
        return self.table.geography

    @property
    def values(self) -> list[str]:
        """The columns made safe: counts, then derived columns."""
        return [*self.counts, *(c for c in self.derived if c not in self.counts)]

    @property
    def ordered(self) -> list[str]:
        """Every published column, in the input's order."""
        allowed = {*self.identifiers, *self.values, *self.context, *([self.geometry] if self.geometry else [])}
        return [c for c in self.table.frame.columns if c in allowed]


def _declared(table: Any, counts: list[str], derived: Mapping | None, context: list[str]) -> AreaTable:
    """The input as an AreaTable whose roles are declared (schema, then arguments)."""
    if isinstance(table, AreaTable):
        frame = table.frame
    elif isinstance(table, pd.DataFrame):
        frame = table
    else:
        raise DisclosureError(f"make_safe needs an AreaTable or a DataFrame/GeoDataFrame of areas, not "
                              f"{type(table).__name__}.")
    require_columns(frame, counts, "count", "Pass counts=[...] with the names of the raw count columns.")
    if derived is not None and not isinstance(derived, Mapping):
        raise DisclosureError("derived must be a dict {derived column: [source count columns]}.")
    derived = {str(k): names(v) for k, v in (derived or {}).items()}
    require_columns(frame, derived, "derived", "Pass derived={column: [source counts]} for columns of this table.")
    require_columns(frame, context, "context", "Pass context=[...] with public columns of this table.")
    if isinstance(table, AreaTable):
        schema = table.schema
        new_counts = [c for c in counts if schema.role(c) is None]
        wrong = [c for c in counts if schema.role(c) not in (None, "count")]
        if wrong:
            raise DisclosureError(f"counts lists {wrong[0]!r}, which the table declares "
                                  f"{schema.role(wrong[0])}; only raw counts can be made safe as counts.")
        known = set(schema.counts) | set(new_counts)
    else:
        new_counts, known = counts, set(counts)
    _check_derived_sources(derived, known, counts)
    try:
        if isinstance(table, AreaTable):
            return table.declare(counts=new_counts, derived=derived, context=context)
        if detect_geography(table.columns) is None:
            return _rows_table(table, new_counts, derived, context)
        return from_frame(table, counts=new_counts, derived=derived, context=context)
    except DisclosureError:
        raise
    except GangmapError as exc:
        raise DisclosureError(f"make_safe: {exc}") from None


#: The key column of a table whose rows are not areas (hubs, periods): added inside, never published.
ROW_KEY = "__row__"
ROWS = custom("row", code=ROW_KEY, name="__row_name__", parent_code="__no_parent__",
              parent_name="__no_parent_name__", parent_label="group")


def _rows_table(frame: pd.DataFrame, counts, derived, context) -> AreaTable:
    """A frame whose rows are not areas (one row per hub, per period): keyed by row position.

    The disclosure rule is the same (its totals are the county total only,
    unless a hierarchy is given); the key is internal and never published.
    """
    if ROW_KEY in frame.columns:
        raise DisclosureError(f"the table has a column named {ROW_KEY!r}, which gangmap reserves; rename it.")
    keyed = frame.copy()
    keyed[ROW_KEY] = [str(i) for i in range(len(frame))]
    return from_frame(keyed, counts=counts, derived=derived, context=context, geography=ROWS)


def _check_derived_sources(derived: Mapping[str, list[str]], known: set[str], counts: list[str]) -> None:
    for col, srcs in derived.items():
        missing = [s for s in srcs if s not in known and s not in derived]
        if not srcs or missing:
            what = f"{missing[0]!r}, which is not" if missing else "no column, which is not"
            raise DisclosureError(
                f"derived column {col!r} is computed from {what} among counts={counts}; "
                f"add {missing[0] if missing else 'its source'!r} to counts= so it is made safe too "
                "(or leave the derived column out).")


def _undeclared_message(k: str, geography: Geography) -> str:
    return (f"keep lists {k!r}, whose role is not declared, so gangmap cannot tell whether it carries a "
            f"count. Kept as it is, a figure computed from a count gives the count back even where the "
            f"count is hidden (a rate times the {geography.label}'s public population is the count). "
            f"Declare it: context=[{k!r}] if it is a public figure (a population, an area), "
            f"derived={{{k!r}: ['COUNT', ...]}} if it was computed from counts (it is then made safe with "
            "them), or build the table with gangmap.table.from_frame(df, counts=..., derived=..., "
            "context=...).")


def _check_keep(table: AreaTable, keep: list[str], counts: tuple[str, ...],
                published: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The context columns to publish; refuses any keep column that could carry a count."""
    schema = table.schema
    out = []
    for k in keep:
        role = schema.role(k)
        if role in ("identifier", "geometry") or k in published:
            continue
        if role == "count":
            if k not in counts:
                raise DisclosureError(f"keep lists {k!r}, which is a raw count; put it in counts= so it is "
                                      "made safe.")
            continue
        if role == "derived":
            missing = [s for s in schema.derived[k] if s not in counts]
            raise DisclosureError(f"keep lists {k!r}, but it is computed from {missing[0]!r}, which is not among "
                                  f"counts={list(counts)}; add {missing[0]!r} to counts= instead of keeping it "
                                  "raw.")
        if role is None:
            if k == _geometry_column(table.frame):
                continue
            _check_words(table.frame, k, table.geography)
        out.append(k)
    return out


_UNITS = ("zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
          "sixteen|seventeen|eighteen|nineteen")
_TENS = "twenty|thirty|forty|fourty|fifty|sixty|seventy|eighty|ninety"
_ORDINALS = ("first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
             "fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth|fortieth|"
             "fiftieth|sixtieth|seventieth|eightieth|ninetieth|hundredth|thousandth")
#: Number words a count can be written in ("twelve", "twenty-one", "twentyone", "sevens", "sevenfold",
#: "third", "twice", "dozens"), whole words only: "tenant" and "secondary" are not numbers.
_NUMBER_WORDS = re.compile(
    rf"\b(?:(?:{_TENS})[-\s]?(?:{_UNITS})|(?:{_UNITS}|{_TENS}|hundred|thousand|million|billion|dozen)(?:s|fold)?|"
    rf"once|twice|thrice|couple|triple|double|{_ORDINALS})\b", re.IGNORECASE)
#: A Roman numeral of a small number in capitals, standing alone ("VII", "XII"; not "CC" or "MD").
_ROMAN = re.compile(r"(?<![A-Za-z])(?=[MDCLXVI]*[IVX])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"
                    r"(?![A-Za-z])")
#: Single letters spelled apart ("s e v e n", "s-e-v-e-n", "s.e.v.e.n"): read as the word they spell.
_SPELLED = re.compile(r"(?<![A-Za-z])[A-Za-z](?:[\s\-._·]+[A-Za-z](?![A-Za-z])){2,}")


def _plain(text: str) -> str:
    """The text as a reader sees it: NFKC (full-width letters), no invisible format characters (zero-width
    space, soft hyphen), letters spelled apart joined up."""
    import unicodedata

    text = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    return _SPELLED.sub(lambda m: re.sub(r"[^A-Za-z]", "", m.group(0)), text)


def _look_alike(text: str) -> str | None:
    """A word mixing Latin letters with Cyrillic or Greek ones (which can look Latin: 'sеven')."""
    import unicodedata

    for word in re.findall(r"\w+", text):
        scripts = {unicodedata.name(ch, "").split(" ")[0] for ch in word if ch.isalpha()}
        if "LATIN" in scripts and scripts & {"CYRILLIC", "GREEK"}:
            return word
    return None


def _number_in(text: str) -> str | None:
    """Why ``text`` can carry a number (a digit, a number word, a Roman numeral, True/False), or None.

    It reads the text as a person would see it (:func:`_plain`), so invisible
    characters, full-width or look-alike letters and spelled-apart letters
    do not hide a number word. This guards against a count slipping out by
    accident; it cannot stop an analyst who means to encode one in words.
    """
    plain = _plain(text)
    digit = next((ch for ch in text + plain if ch.isnumeric()), None)  # as written ("½"), else as read
    if digit is not None:
        return f"the digit {digit!r}"
    word = _NUMBER_WORDS.search(plain)
    if word:
        return f"the number word {word.group(0)!r}"
    roman = next((m.group(0) for m in _ROMAN.finditer(plain) if m.group(0) not in ("", "I")), None)  # "I": a pronoun
    if roman:
        return f"the Roman numeral {roman!r}"
    mixed = _look_alike(plain)
    if mixed:
        return f"the word {mixed!r}, whose letters mix scripts (a look-alike letter can hide a number word)"
    if plain.strip().lower() in ("true", "false"):
        return "True/False"
    return None


def _check_words(frame: pd.DataFrame, k: str, geography: Geography) -> None:
    """Refuse an undeclared kept column unless every value is words with no number in them.

    Numbers and True/False could carry a count, and so can text: "3
    referrals" or "twelve" in a kept column would publish a count that the
    policy hides. Only names, statuses and labels with no digit (of any
    script) and no number word pass; anything else must be declared.
    """
    s = frame[k]
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        raise DisclosureError(_undeclared_message(k, geography))
    for pos, v in enumerate(s.tolist()):
        if v is None or (not isinstance(v, str) and pd.isna(v) is True):
            continue
        why = _number_in(str(v))
        if why is not None:
            raise DisclosureError(
                f"keep lists {k!r}, whose role is not declared, and {row_label(frame, pos, geography)} holds "
                f"{str(v)[:60]!r}, with {why} in it: a count written in a kept text column would be published "
                f"unhidden. Kept text must be words with no number. Fix the column (take the numbers out, or "
                f"leave {k!r} out of keep=), or declare it: context=[{k!r}] only if it is a public figure, "
                f"derived={{{k!r}: ['COUNT', ...]}} if it was computed from counts.")


def _geometry_column(frame: pd.DataFrame) -> str | None:
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover
        return None
    if isinstance(frame, gpd.GeoDataFrame):
        try:
            return str(frame.geometry.name)
        except AttributeError:  # a GeoDataFrame without an active geometry column
            return None
    return None


def _hierarchy(table: AreaTable, hierarchy: Sequence[str] | str | None) -> tuple[str, ...]:
    geo, frame = table.geography, table.frame
    if hierarchy is None:
        hierarchy = (geo.parent_code,) if geo.parent_code in frame.columns else ()
    hierarchy = (hierarchy,) if isinstance(hierarchy, str) else tuple(hierarchy)
    require_columns(frame, hierarchy, "hierarchy",
                    f"Pass hierarchy=({geo.parent_code!r},) or () for the county total only.")
    for h in hierarchy:
        miss = frame[h].isna().to_numpy()
        if miss.any():
            pos = int(np.flatnonzero(miss)[0])
            raise DisclosureError(f"hierarchy column {h!r} is empty in {row_label(frame, pos, geo)}; every "
                                  f"{geo.label} needs a {geo.parent_label} code for the totals. Fill it in, or "
                                  "pass hierarchy=().")
    return hierarchy


def resolve(table: Any, counts: Sequence[str] | str | None = None, *, derived: Mapping | None = None,
            context: Sequence[str] | str | None = None, keep: Sequence[str] | str | None = None,
            hierarchy: Sequence[str] | str | None = None) -> Columns:
    """Decide, from declared roles only, which columns make_safe publishes and how."""
    counts_l, context_l = names(counts), names(context)
    t = _declared(table, counts_l, derived, context_l)
    schema = t.schema
    final = tuple(counts_l) if counts is not None else schema.counts
    if not final:
        raise DisclosureError("make_safe needs at least one raw count column: "
                              "make_safe(table, counts=['reports', ...]) (an AreaTable from gangmap.join "
                              "names its counts itself).")
    published = {c: s for c, s in schema.derived.items() if all(x in final for x in s)}
    keep_l = names(keep) if keep is not None else [c for c in schema.context if c in t.frame.columns]
    require_columns(t.frame, keep_l, "keep", "Pass keep=[...] with columns of this table, or leave it out.")
    kept = _check_keep(t, keep_l, final, published)
    hier = _hierarchy(t, hierarchy)
    geo = t.geography
    idents = [c for c in geo.identifiers if c in t.frame.columns and c != ROW_KEY]
    for h in hier:
        nc = name_column(h, t.frame, geo)
        idents += [h] + ([nc] if nc else [])
    cols = Columns(t, tuple(final), published, tuple(kept), tuple(dict.fromkeys(idents)),
                   _geometry_column(t.frame), hier, ())
    shown = set(cols.ordered)
    dropped = tuple(str(c) for c in t.frame.columns if c not in shown and c != ROW_KEY)
    return Columns(t, cols.counts, cols.derived, cols.context, cols.identifiers, cols.geometry, hier, dropped)
