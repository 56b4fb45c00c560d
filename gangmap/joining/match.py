"""Matching rows to areas by code or by name, and choosing rows by category or period.

Names are compared after :func:`normalise_name`, which folds what differs
between two spellings of one place name as analysts meet them: Unicode form
(decomposed text, as macOS writes it, equals composed text), accents
("Bryn-côch" is "Bryn-coch"), case, apostrophes, "&" and "and", "St", "St."
and "Saint", punctuation and spaces. So "St. Crispin & Kingsthorpe" matches
"Saint Crispin and Kingsthorpe". A name held by two areas (two "Abbey" wards
in different districts, or "St Mary's" and "Saint Marys" that fold to one
key) is *ambiguous*: it is resolved by a district (parent) column when the
rows have one, and otherwise left unmatched with every candidate named,
never guessed. A name written as gangmap's maps show a shared name,
"Castle (Northampton)", is matched in that district.

Matching works on the distinct values of a column, not row by row, and the
closest candidates (for the report) are looked up once per distinct value
that matched nothing.
"""

from __future__ import annotations

import difflib
import unicodedata

import numpy as np
import pandas as pd

from ..errors import InputError
from ..geography import Geography, normalise_codes
from ..table import MONTH_RE
from .report import AMBIGUOUS

__all__ = ["NAME_WORDS", "normalise_name", "normalise_names", "match_codes", "match_names", "filter_rows",
           "check_filter", "closest", "looks_like_month"]


#: Whole words read as one word when names are matched (after case and punctuation are folded).
NAME_WORDS = {"st": "saint", "&": "and"}


def normalise_name(name) -> str:
    """Normalise an area name for matching: Unicode form, accents, case, '&'/'and', 'St'/'Saint', punctuation.

    Examples
    --------
    >>> normalise_name("  St. Crispin & Kingsthorpe ")
    'saint crispin and kingsthorpe'
    >>> normalise_name("Bryn-côch") == normalise_name("BRYN COCH")
    True
    """
    return normalise_names(pd.Series([name])).iloc[0]


def _fold(text: str) -> str:
    """Compatibility-decomposed (NFKD) with the combining marks (accents) taken off."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def normalise_names(values: pd.Series) -> pd.Series:
    """:func:`normalise_name` for a whole column at once (NA stays NA); each distinct value folded once."""
    s = values.astype("string")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    u = pd.Series([_fold(str(v)) for v in uniques], dtype="string").str.casefold()
    u = u.str.replace(r"['’`‘]", "", regex=True).str.replace("&", " & ", regex=False)
    u = u.str.replace(r"[^\w&]+", " ", regex=True).str.strip()
    u = u.map(lambda v: " ".join(NAME_WORDS.get(w, w) for w in v.split()), na_action="ignore").astype("string")
    table = pd.array([*u.to_numpy(dtype=object), pd.NA], dtype="string")
    return pd.Series(table[np.where(codes < 0, len(uniques), codes)], index=values.index, dtype="string")


def closest(value: str, candidates: list[str], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The candidates closest to ``value`` (difflib ratio at least ``cutoff``), best first."""
    return difflib.get_close_matches(str(value), candidates, n=n, cutoff=cutoff)


def match_codes(values: pd.Series, codes: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Positions in ``codes`` of each value (-1 where none) and, for those, the closest codes.

    Codes are compared trimmed and upper-cased (:func:`~gangmap.geography.normalise_codes`).
    """
    key = normalise_codes(codes)
    lookup = pd.Series(np.arange(len(key)), index=key.to_numpy())
    lookup = lookup[~lookup.index.duplicated()]
    given = normalise_codes(values)
    pos = given.map(lookup).fillna(-1).astype("int64").to_numpy().copy()
    why = pd.Series("", index=values.index, dtype="object")
    missing = given[pos < 0].dropna().unique()
    hints = {v: ", ".join(closest(v, list(key), cutoff=0.7)) for v in missing}
    why[pos < 0] = given[pos < 0].map(hints).fillna("").to_numpy()
    return pos, why


def _candidates(areas: pd.DataFrame, geo: Geography) -> pd.DataFrame:
    names = areas[geo.name] if geo.name in areas else areas[geo.code]
    out = pd.DataFrame({"n": normalise_names(names).to_numpy(), "i": np.arange(len(areas)),
                        "label": names.astype("string").to_numpy()})
    parent = areas[geo.parent_name] if geo.parent_name in areas else None
    out["parent"] = parent.astype("string").to_numpy() if parent is not None else pd.NA
    for col, src in (("pn", geo.parent_name), ("pc", geo.parent_code)):
        out[col] = normalise_names(areas[src]).to_numpy() if src in areas else pd.NA
    return out


def match_names(names: pd.Series, areas: pd.DataFrame, geo: Geography,
                districts: pd.Series | None = None) -> tuple[np.ndarray, pd.Series]:
    """Positions in ``areas`` of each name (-1 where none), and why each unmatched one failed.

    ``districts`` (parent names or codes, one per row) resolve names that two
    areas share. The reason is ``"ambiguous: A (X), A (Y); ..."`` for a shared
    name, else the closest names.
    """
    cand = _candidates(areas, geo)
    per_name = cand.groupby("n").size()
    given = normalise_names(names).reset_index(drop=True)
    unique = cand[cand["n"].map(per_name) == 1].set_index("n")["i"]
    pos = given.map(unique).fillna(-1).astype("int64").to_numpy()
    shared = (given.map(per_name).fillna(0) > 1).to_numpy()
    if districts is not None and shared.any():
        pos = _by_district(pos, shared, given, normalise_names(districts).reset_index(drop=True), cand)
    pos = _district_in_brackets(pos, names, cand, per_name)
    why = pd.Series("", index=range(len(given)), dtype="object")
    if (pos < 0).any():
        why[pos < 0] = _reasons(given[pos < 0], names.reset_index(drop=True)[pos < 0], cand, per_name, geo,
                                districts is not None)
    why.index = names.index
    return pos, why


def _by_district(pos, shared, given, district, cand) -> np.ndarray:
    rows = pd.DataFrame({"r": np.flatnonzero(shared), "n": given[shared].to_numpy(),
                         "d": district[shared].to_numpy()})
    m = rows.merge(cand, on="n")
    m = m[(m["d"] == m["pn"]).fillna(False) | (m["d"] == m["pc"]).fillna(False)]
    one = m.groupby("r").filter(lambda g: len(g) == 1) if len(m) else m
    pos = pos.copy()
    pos[one["r"].to_numpy()] = one["i"].to_numpy()
    return pos


def _district_in_brackets(pos, names: pd.Series, cand, per_name) -> np.ndarray:
    """'Castle (Northampton)', as gangmap's maps show a name two areas share: the bracket is the district.

    Only rows still unmatched are tried, and only where the bracket names the
    district (parent name or code) of an area of that name, so a ward whose
    own name holds brackets, or a wrong district, is never guessed.
    """
    parts = names.reset_index(drop=True).astype("string").str.extract(r"^(.*\S)\s*\(([^()]+)\)\s*$")
    todo = (pos < 0) & parts[0].notna().to_numpy()
    if not todo.any() or cand["pn"].isna().all() and cand["pc"].isna().all():
        return pos
    given = normalise_names(parts[0])
    todo &= (given.map(per_name).fillna(0) > 0).to_numpy()
    return _by_district(pos, todo, given, normalise_names(parts[1]), cand) if todo.any() else pos


def _reasons(given: pd.Series, raw: pd.Series, cand, per_name, geo: Geography, has_district: bool) -> np.ndarray:
    """One reason per distinct unmatched name, spread back over the rows."""
    out = {}
    names = list(per_name.index)
    for n in given.dropna().unique():
        if per_name.get(n, 0) > 1:
            which = cand[cand["n"] == n]
            listed = ", ".join(f"{a} ({p})" for a, p in zip(which["label"], which["parent"].fillna("?")))
            fix = (f"the {geo.parent_label} given does not tell them apart" if has_district
                   else f"add a {geo.parent_label} column")
            out[n] = f"{AMBIGUOUS} {listed}; {fix}"
        else:
            hits = closest(n, names)
            out[n] = ", ".join(cand.loc[cand["n"] == h, "label"].iloc[0] for h in hits)
    return given.map(out).fillna("").to_numpy()


def filter_rows(data: pd.DataFrame, column: str, wanted, *, strict: bool, source: str,
                notes: list[str] | None = None) -> pd.Series:
    """Rows of ``data`` whose ``column`` is one of ``wanted`` (case-insensitive); all rows for None.

    With ``strict`` (the reports) a filter that cannot apply is an
    :class:`InputError` (it would silently map everything): no such column,
    or a wanted value absent. Otherwise (referrals) it is a note appended to
    ``notes``, and a missing column keeps every row.
    """
    notes = notes if notes is not None else []
    if wanted is None:
        return pd.Series(True, index=data.index)
    if column not in data:
        if strict:
            raise InputError(f"{source}: cannot filter by {column}: the input has no {column} "
                             "column. Remove the filter or add the column.")
        notes.append(f"no {column} column, so the {column} filter was not applied to this input")
        return pd.Series(True, index=data.index)
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    have = data[column].astype("string")
    keep = have.str.casefold().isin({str(w).casefold() for w in wanted}).fillna(False).astype(bool)
    check_filter(column, wanted, have.dropna().unique().tolist(), strict=strict, source=source, notes=notes)
    return keep


def check_filter(column: str, wanted, available, *, strict: bool, source: str, notes: list[str]) -> None:
    """Raise (``strict``) or note when a wanted value is not among ``available``."""
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    present = {str(a).casefold() for a in available}
    missing = [w for w in wanted if str(w).casefold() not in present]
    if not missing:
        return
    avail = sorted(map(str, available))
    msg = f"{column} {missing} not found. Available: {avail[:30]}{' ...' if len(avail) > 30 else ''}"
    if strict:
        raise InputError(f"{source}: {msg}.")
    notes.append(msg)


def looks_like_month(values: pd.Series) -> pd.Series:
    """True where a value is a ``YYYY-MM`` month."""
    return values.astype("string").str.match(MONTH_RE.pattern).fillna(False).astype(bool)

