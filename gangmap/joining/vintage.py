"""What unmatched codes look like: another geography, another vintage, or not codes at all.

A JoinReport that only says "52 unmatched" leaves the analyst guessing. The
codes themselves say a lot: ``E01...`` are LSOAs, ``E02...`` MSOAs,
``E05...`` wards, and an LSOA code above the last one issued in 2011 must be a
2021 LSOA. :func:`detect_vintage` classifies the unmatched codes by their GSS
prefix and turns the most common kind into one line of advice for the report
("41 of 52 codes look like LSOA 2011 codes (E01...); bridge them ...").

Examples
--------
>>> detect_vintage(["E01026949", "E01026950", "E05005926"]).message  # doctest: +ELLIPSIS
'2 of 3 codes look like LSOA 2011 codes (E01...); ...'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ..geography import GSS_ENTITIES, GSS_RE, normalise_codes
from ..table import AreaTable

__all__ = ["VintageGuess", "detect_vintage", "LAST_2011", "GSS_RE"]

#: Highest LSOA / MSOA / OA codes of the 2011 census geography; higher codes were issued for 2021.
LAST_2011 = {"E01": 33768, "W01": 1958, "E02": 6934, "W02": 423}

# kind -> (label, advice)
_KINDS = {
    "lsoa11": ("LSOA 2011 codes (E01...)",
               "bridge them to wards with LSOA 2011 boundaries (gangmap.joining.lsoa_to_ward) or an ONS "
               "LSOA-to-ward lookup"),
    "lsoa21": ("LSOA 2021 codes (E01...)",
               "bridge them to wards with LSOA 2021 boundaries (gangmap.joining.lsoa_to_ward) or an ONS "
               "LSOA-to-ward lookup"),
    "datazone": ("Scottish data zone codes (S01...)",
                 "bridge them to wards with data zone boundaries (gangmap.joining.lsoa_to_ward)"),
    "msoa11": ("MSOA 2011 codes (E02...)",
               "MSOAs are larger than wards: spread them with gangmap.joining.interpolate_counts and MSOA "
               "boundaries, or map at MSOA level"),
    "msoa21": ("MSOA 2021 codes (E02...)",
               "MSOAs are larger than wards: spread them with gangmap.joining.interpolate_counts and MSOA "
               "boundaries, or map at MSOA level"),
    "oa": ("output area codes (E00...)",
           "aggregate them to wards with an ONS output-area-to-ward lookup"),
    "ward": ("ward codes from another vintage (e.g. 2013-era)",
             "use the boundaries of that year (gangmap fetch boundaries --year YYYY) or move the counts "
             "onto these wards with gangmap.joining.interpolate_counts"),
    "district": ("district or unitary authority codes (E06/E07/E08/E09)",
                 "these counts are per district, not per ward, so they cannot be placed on wards; ask "
                 "for ward-level (or LSOA-level) counts"),
    "county": ("county codes (E10)",
               "these counts are per county, far coarser than wards; ask for ward-level counts"),
    "region": ("region or country codes (E12/E92)",
               "these counts are per region or country; ask for ward-level counts"),
    "constituency": ("Westminster constituency codes (E14)",
                     "constituencies are not made of wards exactly; spread them with "
                     "gangmap.joining.interpolate_counts and constituency boundaries"),
    "police": ("police force area codes (E23)",
               "these counts are per police force area; ask for ward-level or LSOA-level counts"),
    "parish": ("civil parish codes (E04)",
               "aggregate them with an ONS parish-to-ward lookup, or interpolate with parish boundaries"),
    "other_gss": ("other GSS codes", "check which geography the codes belong to"),
    "not_gss": ("not GSS codes",
                "GSS codes are a letter and 8 digits such as E05012345; if these are ward names, give "
                "them as names (ward_name=)"),
}


@dataclass
class VintageGuess:
    """What a set of unmatched codes looks like.

    Attributes
    ----------
    kind : str
        ``lsoa11``, ``lsoa21``, ``datazone``, ``msoa11``, ``msoa21``, ``oa``, ``ward``,
        ``district``, ``county``, ``region``, ``constituency``, ``police``, ``parish``,
        ``other_gss`` or ``not_gss``: the most common kind.
    label : str
        Human description of that kind.
    count : int
        Distinct codes of that kind.
    total : int
        Distinct codes looked at.
    examples : list of str
        Up to three codes of that kind.
    breakdown : dict
        ``{kind: distinct codes}`` for every kind found.
    message : str
        One line for the JoinReport notes.
    """

    kind: str
    label: str
    count: int
    total: int
    examples: list[str]
    breakdown: dict[str, int]
    message: str

    def __str__(self) -> str:
        return self.message


def _classify(code: str) -> str:
    if not GSS_RE.match(code):
        return "not_gss"
    # "lsoa"/"msoa" get their census year (11 or 21) for the whole group in detect_vintage.
    kind = GSS_ENTITIES.get(code[:3], "other_gss")
    return kind if kind in _KINDS or kind in ("lsoa", "msoa") else "other_gss"


def _known_codes(areas, code_column: str | None) -> tuple[set[str], str, str | None]:
    """Codes of the areas, their level (``"ward"`` ...) and the column name to quote."""
    if areas is None:
        return set(), "ward", code_column
    if isinstance(areas, AreaTable):
        geo = areas.geography
        return set(normalise_codes(areas.codes)), geo.level, code_column
    cols = getattr(areas, "columns", None)
    if cols is not None:
        for level, col in (("ward", "ward_code"), ("lsoa", "lsoa_code"), ("msoa", "msoa_code"), ("oa", "oa_code")):
            if col in cols:
                return set(normalise_codes(areas[col])), level, code_column
        return set(), "ward", code_column
    return {str(c).upper() for c in areas}, "ward", code_column


def detect_vintage(codes, areas=None, *, code_column: str | None = None) -> VintageGuess | None:
    """Work out what codes that matched no area look like.

    Each distinct code is classified by its GSS prefix: ``E01``/``W01`` LSOA
    (2011, or 2021 when any code is above the last 2011 code E01033768 /
    W01001958), ``E02``/``W02`` MSOA, ``E00`` output area, ``E05``/``W05``/
    ``S13``/``N08`` ward codes, ``E06``/``E07``/``E08``/``E09`` district or
    unitary authority, ``E10`` county, ``E14`` constituency, ``E23`` police
    force area, and so on. Codes of the areas' own level that are not among
    the areas are "from another vintage" (older or newer, when the code
    ranges tell).

    Parameters
    ----------
    codes : iterable of str
        The unmatched codes (duplicates are counted once; blanks ignored).
    areas : AreaTable, GeoDataFrame or iterable of codes, optional
        The areas used. Their codes are not counted.
    code_column : str, optional
        The column the areas' codes were read from (``WD21CD``), quoted in
        the message ("older vintage than these WD21CD boundaries").

    Returns
    -------
    VintageGuess or None
        None when there is nothing to explain. ``.message`` is one line.

    Examples
    --------
    >>> g = detect_vintage(["E01026949", "E01026950", "E07000154", "E01026949"])
    >>> g.kind, g.count, g.total
    ('lsoa11', 2, 3)
    >>> print(g.message)  # doctest: +NORMALIZE_WHITESPACE
    2 of 3 codes look like LSOA 2011 codes (E01...); bridge them to wards with LSOA 2011 boundaries
    (gangmap.joining.lsoa_to_ward) or an ONS LSOA-to-ward lookup (also 1 district or unitary
    authority codes (E06/E07/E08/E09))
    >>> detect_vintage([]) is None
    True
    """
    if codes is None:
        return None
    values = pd.Series(list(codes), dtype="object").dropna().astype(str).str.strip().str.upper()
    values = values[values != ""].drop_duplicates()
    known, level, code_column = _known_codes(areas, code_column)
    values = values[~values.isin(known)]
    if values.empty:
        return None
    kinds = values.map(_classify)
    for kind in ("lsoa", "msoa"):  # census year: 2021 if any code was issued after 2011
        sel = kinds == kind
        if sel.any():
            newer = any(int(c[3:]) > LAST_2011.get(c[:3], 10**9) for c in values[sel])
            kinds[sel] = kind + ("21" if newer else "11")
    return _guess(values, kinds, known, level, code_column)


def _guess(values, kinds, known, level, code_column) -> VintageGuess:
    counts = kinds.value_counts()
    # Prefer a recognised kind over "not_gss"/"other_gss" only on a tie.
    order = sorted(counts.index, key=lambda k: (-counts[k], k in ("not_gss", "other_gss"), k))
    top = order[0]
    label, advice = _KINDS[top]
    examples = values[kinds == top].head(3).tolist()
    if top == "ward" and level == "ward":
        label = _vintage_label(values[kinds == top], known, code_column)
    elif top == "not_gss":
        advice = f"e.g. {', '.join(repr(e) for e in examples[:2])}: " + advice
    msg = f"{counts[top]} of {len(values)} codes look like {label}; {advice}"
    others = [f"{counts[k]} {_KINDS[k][0] if k != 'ward' else 'ward codes of another vintage'}"
              for k in order[1:]]
    if others:
        msg += " (also " + ", ".join(others[:3]) + (", ..." if len(others) > 3 else "") + ")"
    return VintageGuess(kind=top, label=label, count=int(counts[top]), total=len(values), examples=examples,
                        breakdown={k: int(v) for k, v in counts.items()}, message=msg)


def _vintage_label(codes: pd.Series, known: set[str], code_column: str | None) -> str:
    """Describe ward codes that are not in the boundaries: older or newer, if it can be told."""
    if not known:
        return _KINDS["ward"][0]
    this = f" than these {code_column} boundaries" if code_column and re.match(r"(?i)^wd\d\dcd$", code_column) \
        else " than these boundaries"
    nums_here = [int(c[3:]) for c in known if GSS_RE.match(c)]
    nums = [int(c[3:]) for c in codes]
    if nums_here and max(nums) < max(nums_here):
        return f"ward codes from an older vintage{this} (e.g. 2013-era)"
    if nums_here and min(nums) > max(nums_here):
        return f"ward codes from a newer vintage{this}"
    return _KINDS["ward"][0]
