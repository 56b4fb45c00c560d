"""Column roles: which column of an input holds the area code, the count, the month ...

Why here? Every reader (reports, referrals, population, schools, police.uk)
and the header detection of :mod:`gangmap.io.tables` ask the same question,
"is this column a code, a name, a count?", and the answer must not depend on
the reader. Names are compared without case, spaces, underscores or hyphens
(``"Ward Code"`` = ``"ward_code"`` = ``"WARD-CODE"``), and ONS column names of
any vintage are recognised from the :class:`~gangmap.geography.Geography`
(``WD13CD`` ... ``WD25CD``, ``LSOA11CD``, ``MSOA21NM``).

The code and name roles follow the geography: for LSOAs the code column is
``lsoa_code``, ``LSOA code`` (police.uk), ``LSOA11CD`` ...; for wards
``ward_code``, ``Ward``, ``WD24CD`` or the GIAS ``AdministrativeWard (code)``.

Examples
--------
>>> find_column(["Ward Code", "Reports"], "count")
'Reports'
>>> find_column(["Ward", "Total"], "count"), find_column(["LSOA code", "Count of Crime ID"], "count")
('Total', 'Count of Crime ID')
>>> from gangmap.geography import get_geography
>>> code_column(["LSOA code", "n"], get_geography("lsoa"))
'LSOA code'
>>> code_column(["LSOA11CD", "LSOA11NM"], get_geography("lsoa")), name_column(["LSOA11NM"], get_geography("lsoa"))
('LSOA11CD', 'LSOA11NM')
>>> is_known_column("WD24CD"), is_known_column("Crime type"), is_known_column("Reports by ward")
(True, True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import InputError, where
from ..geography import GEOGRAPHIES, WARD, Geography

__all__ = ["ALIASES", "COUNT_PATTERN", "norm_column", "find_column", "code_column", "name_column", "parent_columns",
           "is_known_column"]

#: Recognised column names, normalised (see :func:`norm_column`), by role.
ALIASES: dict[str, tuple[str, ...]] = {
    "ward_code": ("wardcode", "ward", "wdcd", "administrativeward(code)"),
    "ward_name": ("wardname", "wdnm", "administrativeward(name)", "administrativeward"),
    "lsoa_code": ("lsoacode", "lsoa", "lsoa11cd", "lsoa21cd"),
    "lsoa_name": ("lsoaname",),
    "msoa_code": ("msoacode", "msoa"),
    "msoa_name": ("msoaname",),
    "oa_code": ("oacode", "outputarea", "outputareacode", "oa"),
    "oa_name": ("oaname",),
    "lad_code": ("ladcode", "districtcode", "localauthoritycode", "lacode"),
    "lad_name": ("ladname", "district", "districtname", "localauthority", "localauthorityname"),
    "count": ("count", "reports", "n", "value", "referrals", "number", "total", "incidents", "crimes", "cases",
              "frequency", "freq"),
    "category": ("category", "crimetype", "concern", "concerntype", "type"),
    "period": ("period", "month", "date"),
    "lat": ("latitude", "lat"),
    "lon": ("longitude", "lon", "lng", "long"),
    "easting": ("easting", "x", "eastings"),
    "northing": ("northing", "y", "northings"),
    "urn": ("urn", "schoolurn"),
    "population": ("population", "pop", "children", "population1017", "children1017"),
    "school_name": ("establishmentname", "schoolname", "name"),
}
_PARENT = {"lad_code": re.compile(r"^(lad|lau1|ltla|utla)\d{2}cd$"),
           "lad_name": re.compile(r"^(lad|lau1|ltla|utla)\d{2}nm$")}
#: Count columns named by what they count: ``Count of Crime ID`` (an Excel pivot), ``Number of reports``,
#: ``Sum of count``, ``report_count``, ``Incident total`` (names normalised by :func:`norm_column`).
COUNT_PATTERN = re.compile(r"^((countof|numberof|noof|no\.of|sumof|totalof).+|.+(count|total))$")
# Other column names that mark a header row (police.uk and GIAS extracts).
_OTHER_KNOWN = ("crimeid", "reportedby", "fallswithin", "location", "lastoutcomecategory", "context",
                "typeofestablishment(name)", "phaseofeducation(name)", "hub", "school")


def norm_column(name) -> str:
    """A column name without case, spaces, underscores or hyphens: ``"Ward Code"`` -> ``"wardcode"``."""
    return re.sub(r"[\s_\-]", "", str(name)).lower()


def _given(columns, given: str, source: str | None) -> str:
    if given not in columns:
        raise InputError(f"{where(source)}column {given!r} not found; columns are: "
                         f"{', '.join(map(str, columns))}.")
    return given


def _by_pattern(columns, pattern: re.Pattern) -> str | None:
    """The matching column of the newest vintage (highest two digits), or None."""
    hits = [c for c in columns if pattern.match(norm_column(c))]
    hits.sort(key=lambda c: re.sub(r"\D", "", str(c)), reverse=True)
    return hits[0] if hits else None


def find_column(columns, role: str, given: str | None = None, source: str | None = None):
    """The column in ``columns`` that plays ``role`` (a key of :data:`ALIASES`), or None.

    ``given`` overrides detection and must be a column (else :class:`InputError`).
    """
    columns = list(columns)
    if given is not None:
        return _given(columns, given, source)
    if role in columns:
        return role
    normed: dict[str, str] = {}
    for c in columns:
        normed.setdefault(norm_column(c), c)
    for alias in ALIASES.get(role, ()):
        if alias in normed:
            return normed[alias]
    geo = _geography_of_role(role)
    if geo is not None:
        pattern = geo.ons_code if role == geo.code else geo.ons_name
        return _by_pattern(columns, re.compile(pattern, re.I))
    if role in _PARENT:
        return _by_pattern(columns, _PARENT[role])
    if role == "count":
        return next((c for c in columns if COUNT_PATTERN.match(norm_column(c))), None)
    return None


def _geography_of_role(role: str) -> Geography | None:
    for geo in GEOGRAPHIES.values():
        if role in (geo.code, geo.name):
            return geo
    return None


def _geo_column(columns, geo: Geography, which: str, given, source) -> str | None:
    columns = list(columns)
    if given is not None:
        return _given(columns, given, source)
    canonical = geo.code if which == "code" else geo.name
    if canonical in columns:
        return canonical
    ons = _by_pattern(columns, re.compile(geo.ons_code if which == "code" else geo.ons_name, re.I))
    if ons is not None:  # WD21CD before a column merely called "Ward" (which often holds names)
        return ons
    normed: dict[str, str] = {}
    for c in columns:
        normed.setdefault(norm_column(c), c)
    aliases = ALIASES.get(canonical, ()) or (norm_column(canonical), norm_column(f"{geo.label} {which}"))
    for alias in aliases:
        if alias in normed:
            return normed[alias]
    return None


def code_column(columns, geography: Geography = WARD, given: str | None = None,
                source: str | None = None) -> str | None:
    """The column holding the codes of ``geography`` (canonical, alias or ONS of any vintage), or None."""
    return _geo_column(columns, geography, "code", given, source)


def name_column(columns, geography: Geography = WARD, given: str | None = None,
                source: str | None = None) -> str | None:
    """The column holding the names of ``geography``, or None."""
    return _geo_column(columns, geography, "name", given, source)


def parent_columns(columns, geography: Geography = WARD) -> tuple[str | None, str | None]:
    """The parent (district) code and name columns, each or both None."""
    code = geography.parent_code if geography.parent_code in list(columns) else find_column(columns, "lad_code")
    name = geography.parent_name if geography.parent_name in list(columns) else find_column(columns, "lad_name")
    return code, name


def _known_patterns() -> tuple[re.Pattern, ...]:
    pats = [re.compile(g.ons_code, re.I) for g in GEOGRAPHIES.values()]
    pats += [re.compile(g.ons_name, re.I) for g in GEOGRAPHIES.values()]
    return (*pats, *_PARENT.values(), COUNT_PATTERN)


_KNOWN = frozenset(a for names in ALIASES.values() for a in names) | frozenset(_OTHER_KNOWN) | frozenset(
    norm_column(c) for g in GEOGRAPHIES.values() for c in g.identifiers)
_KNOWN_PATTERNS = _known_patterns()


def is_known_column(name) -> bool:
    """Whether ``name`` is a column name some reader recognises (used to find the header row)."""
    n = norm_column(name)
    return bool(n) and (n in _KNOWN or any(p.match(n) for p in _KNOWN_PATTERNS))


def columns_text(columns: Iterable) -> str:
    """Columns for an error message: ``"Area, Cases"`` or ``"(none)"``."""
    cols = [str(c) for c in columns]
    if not cols:
        return "(none)"
    return ", ".join(cols) if len(cols) <= 30 else ", ".join(cols[:30]) + ", ..."
