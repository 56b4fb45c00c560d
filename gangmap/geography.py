"""Area geographies: which columns name an area, how its codes look, what to call it.

This module is the one home for the constants every stage shares:

* the coordinate reference systems (:data:`WORK_CRS` for computing,
  :data:`MAP_CRS` for web maps),
* the GSS code pattern and what each entity prefix means (:data:`GSS_RE`,
  :data:`GSS_ENTITIES`),
* the canonical identifier columns of each geography (:class:`Geography`,
  :data:`GEOGRAPHIES`).

Wards are the default, but police, councils and the ONS publish by LSOA,
MSOA, output area and police neighbourhood too. Every stage reads the column
names and the words it prints ("ward", "LSOA", "neighbourhood") from the
table's :class:`Geography`, so the same join, measures, disclosure and maps
work for any polygon layer with a code and a name.

Examples
--------
>>> g = get_geography("lsoa")
>>> g.code, g.name, g.label, g.plural
('lsoa_code', 'lsoa_name', 'LSOA', 'LSOAs')
>>> g.title
'LSOA'
>>> get_geography("ward").title
'Ward'
>>> g.bad_codes(["E01026949", "E05005926", "x"])
['E05005926', 'x']
>>> custom("beat", code="beat_id").bad_codes(["N12", "Q7"])  # non-GSS codes, accepted
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .errors import ConfigError

__all__ = [
    "WORK_CRS",
    "MAP_CRS",
    "GSS_RE",
    "GSS_ENTITIES",
    "Geography",
    "GEOGRAPHIES",
    "WARD",
    "get_geography",
    "detect_geography",
    "custom",
    "entity_of",
    "normalise_codes",
]

#: CRS used for every computation inside gangmap: British National Grid, metres.
WORK_CRS = "EPSG:27700"
#: CRS of web maps (longitude/latitude).
MAP_CRS = "EPSG:4326"

#: A GSS code: a country letter, two digits of entity type, six digits (E05012345).
GSS_RE = re.compile(r"^[ENSWK]\d{8}$")

#: What the first three characters of a GSS code name (entity prefix -> kind).
GSS_ENTITIES: Mapping[str, str] = MappingProxyType({
    "E00": "oa", "W00": "oa", "S00": "oa",
    "E01": "lsoa", "W01": "lsoa", "S01": "datazone",
    "E02": "msoa", "W02": "msoa", "S02": "intermediate zone",
    "E04": "parish", "W04": "parish",
    "E05": "ward", "W05": "ward", "S13": "ward", "N08": "ward",
    "E06": "district", "E07": "district", "E08": "district", "E09": "district", "W06": "district",
    "S12": "district", "N09": "district",
    "E10": "county", "E11": "county",
    "E12": "region", "E92": "region", "W92": "region", "S92": "region", "N92": "region",
    "K02": "region", "K03": "region", "K04": "region",
    "E14": "constituency", "W07": "constituency", "S14": "constituency", "N06": "constituency",
    "E23": "police", "W15": "police",
})


@dataclass(frozen=True)
class Geography:
    """One kind of area: its canonical columns, its code rules and its words.

    Attributes
    ----------
    level : str
        Key in :data:`GEOGRAPHIES` (``"ward"``, ``"lsoa"``, ...).
    label, plural : str
        Words on maps, legends and reports: ``"ward"``/``"wards"``,
        ``"LSOA"``/``"LSOAs"``.
    code, name : str
        Canonical code and name columns of a table of these areas.
    prefixes : tuple of str
        GSS entity prefixes a code must start with; empty for any.
    gss : bool
        Whether codes must be GSS codes (a letter and 8 digits). Police
        neighbourhoods and custom layers have their own codes.
    ons_code, ons_name : str
        Regular expressions (case-insensitive) for the column names ONS files
        use for the code and name in any vintage (``WD13CD``, ``LSOA21NM``).
    parent_code, parent_name, parent_label : str
        Columns and word for the level above (districts by default), used for
        outlines and for the totals of the disclosure policy.
    """

    level: str
    label: str
    plural: str
    code: str
    name: str
    prefixes: tuple[str, ...] = ()
    gss: bool = True
    ons_code: str = r"^$"
    ons_name: str = r"^$"
    parent_code: str = "lad_code"
    parent_name: str = "lad_name"
    parent_label: str = "district"
    aliases: tuple[str, ...] = field(default=(), compare=False)

    @property
    def title(self) -> str:
        """The label with a capital first letter, for headings: ``"Ward"``, ``"LSOA"``."""
        return self.label[:1].upper() + self.label[1:]

    @property
    def identifiers(self) -> tuple[str, str, str, str]:
        """Code, name, parent code and parent name columns, in that order."""
        return (self.code, self.name, self.parent_code, self.parent_name)

    def bad_codes(self, codes: Iterable) -> list:
        """The codes that do not look like codes of this geography (in input order).

        Without ``gss`` any non-blank text is a good code.
        """
        bad = []
        for c in codes:
            text = "" if c is None else str(c).strip()
            if not text or text.lower() in ("nan", "<na>"):
                bad.append(c)
            elif self.gss and (not GSS_RE.match(text.upper())
                               or (self.prefixes and text[:3].upper() not in self.prefixes)):
                bad.append(c)
        return bad

    def describe_codes(self) -> str:
        """What a good code looks like, for error messages."""
        if not self.gss:
            return f"any non-blank {self.label} code"
        if self.prefixes:
            return (f"GSS {self.label} codes: 9 characters starting {', '.join(self.prefixes)} "
                    f"(e.g. {self.prefixes[0]}012345)")
        return "GSS codes: a letter and 8 digits (e.g. E05012345)"

    def count_of(self, n: int) -> str:
        """``"146 wards"``, ``"1 LSOA"``."""
        return f"{n:,} {self.label if n == 1 else self.plural}"


WARD = Geography("ward", "ward", "wards", "ward_code", "ward_name", ("E05", "W05", "S13", "N08"),
                 ons_code=r"^wd\d{2}cd$", ons_name=r"^wd\d{2}nm$")

#: The geographies gangmap knows by name. Any other polygon layer: :func:`custom`.
GEOGRAPHIES: Mapping[str, Geography] = MappingProxyType({
    "ward": WARD,
    "lsoa": Geography("lsoa", "LSOA", "LSOAs", "lsoa_code", "lsoa_name", ("E01", "W01"),
                      ons_code=r"^lsoa\d{2}cd$", ons_name=r"^lsoa\d{2}nm$"),
    "msoa": Geography("msoa", "MSOA", "MSOAs", "msoa_code", "msoa_name", ("E02", "W02"),
                      ons_code=r"^msoa\d{2}cd$", ons_name=r"^msoa\d{2}nm$"),
    "oa": Geography("oa", "output area", "output areas", "oa_code", "oa_name", ("E00", "W00"),
                    ons_code=r"^oa\d{2}cd$", ons_name=r"^oa\d{2}nm$"),
    "neighbourhood": Geography("neighbourhood", "neighbourhood", "neighbourhoods", "neighbourhood_code",
                               "neighbourhood_name", gss=False,
                               ons_code=r"^(neighbourhood|nbhd)_?(id|code)$", ons_name=r"^(neighbourhood|nbhd)_?name$",
                               aliases=("neighborhood", "police neighbourhood")),
    "area": Geography("area", "area", "areas", "area_code", "area_name", gss=False,
                      ons_code=r"^area_?(id|code)$", ons_name=r"^area_?name$"),
})


def _level_words(geographies: Mapping[str, Geography]) -> Mapping[str, str]:
    """Every word a level goes by (its key, label, plural and aliases, each also with an 's') -> its key."""
    words: dict[str, str] = {}
    for key, geo in geographies.items():
        for word in (key, geo.label, geo.plural, *geo.aliases):
            word = word.strip().lower()
            for form in (word, word if word.endswith("s") else word + "s"):
                words.setdefault(form, key)
    return MappingProxyType(words)


#: Level names accepted by :func:`get_geography`, derived from :data:`GEOGRAPHIES` (one home for the words).
_ALIASES = _level_words(GEOGRAPHIES)


def get_geography(level: str | Geography = "ward", *, gss: bool | None = None) -> Geography:
    """The :class:`Geography` for a level name (``"ward"``, ``"lsoa"``, ...).

    Parameters
    ----------
    level : str or Geography
        A key of :data:`GEOGRAPHIES` (case-insensitive, plurals accepted),
        or a Geography, returned as is.
    gss : bool, optional
        ``False`` accepts codes that are not GSS codes (the user says so).

    Raises
    ------
    ConfigError
        Unknown level; the message lists the known ones and :func:`custom`.
    """
    if isinstance(level, Geography):
        geo = level
    else:
        key = str(level).strip().lower()
        key = _ALIASES.get(key, key)
        if key not in GEOGRAPHIES:
            raise ConfigError(f"unknown geography {level!r}; use one of {', '.join(GEOGRAPHIES)}, or "
                              "gangmap.geography.custom('beat', code='BEAT_ID') for another polygon layer.")
        geo = GEOGRAPHIES[key]
    if gss is not None and gss != geo.gss:
        geo = replace(geo, gss=bool(gss))
    return geo


def custom(level: str, *, label: str | None = None, plural: str | None = None, code: str | None = None,
           name: str | None = None, gss: bool = False, prefixes: Iterable[str] = (),
           parent_code: str = "lad_code", parent_name: str = "lad_name",
           parent_label: str = "district") -> Geography:
    """A geography of your own (beats, school catchments, ...): any polygon layer with a code.

    Columns default to ``f"{level}_code"`` and ``f"{level}_name"``.
    """
    level = str(level).strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_ ]*", level):
        raise ConfigError(f"geography name {level!r} must be a word such as 'beat' or 'catchment'.")
    key = level.lower().replace(" ", "_")
    label = label or level
    return Geography(key, label, plural or f"{label}s", code or f"{key}_code", name or f"{key}_name",
                     tuple(p.upper() for p in prefixes), gss=gss, parent_code=parent_code,
                     parent_name=parent_name, parent_label=parent_label)


def detect_geography(columns: Iterable) -> Geography | None:
    """The known geography whose canonical code column is among ``columns``, or None.

    Examples
    --------
    >>> detect_geography(["lsoa_code", "reports"]).level
    'lsoa'
    >>> detect_geography(["x", "y"]) is None
    True
    """
    cols = set(map(str, columns))
    for geo in GEOGRAPHIES.values():
        if geo.code in cols:
            return geo
    return None


def entity_of(code: str) -> str | None:
    """What a GSS code names (``"ward"``, ``"lsoa"``, ``"district"`` ...), or None if not GSS.

    Examples
    --------
    >>> entity_of("E01026949"), entity_of("E05005926"), entity_of("banana")
    ('lsoa', 'ward', None)
    """
    text = str(code).strip().upper()
    if not GSS_RE.match(text):
        return None
    return GSS_ENTITIES.get(text[:3], "other")


def normalise_codes(values):
    """Area codes as gangmap compares them: text, trimmed, upper case; missing stays missing.

    The one rule for matching codes, used by the join (code keys, LSOA
    bridges, schools' ward codes) and by :meth:`gangmap.table.AreaTable.merge`,
    so that ``" e05000001"`` finds ``E05000001`` wherever codes meet.

    Examples
    --------
    >>> normalise_codes([" e05000001", "E05000002 ", None]).tolist()
    ['E05000001', 'E05000002', <NA>]
    """
    import pandas as pd

    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype="object")
    return series.astype("string").str.strip().str.upper()
