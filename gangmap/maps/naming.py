"""Words on maps: which areas these are ("ward", "LSOA") and what each layer is called.

A map of LSOAs that says "Find a ward…" misleads the reader, and a layer
called ``reports_lisa`` means nothing in a meeting. Every word a map shows
about its areas comes from the table's :class:`~gangmap.geography.Geography`
(:func:`geography_of`), and every layer title from the measures registry when
it knows the column (:func:`layer_title`), else from a plain reading of the
column's suffix. No map shows a raw column id.

Examples
--------
>>> from gangmap.geography import get_geography
>>> article("LSOA"), article("ward"), article("output area"), article("neighbourhood")
('an LSOA', 'a ward', 'an output area', 'a neighbourhood')
>>> plain_title("reports_lisa"), plain_title("referrals_rate"), plain_title("need_index")
('Reports: hotspot clusters (local Moran)', 'Referrals per 1,000', 'Need index')
"""

from __future__ import annotations

from ..geography import WARD, Geography, detect_geography

__all__ = ["geography_of", "article", "layer_title", "plain_title", "area_columns", "geography_words"]

#: Readings of the measure suffixes, used when the measures registry does not know a column.
_SUFFIXES = (
    ("_rate_lo95", "{}: rate, lower 95% limit"),
    ("_rate_hi95", "{}: rate, upper 95% limit"),
    ("_rate", "{} per 1,000"),
    ("_seb", "{}: spatially smoothed rate"),
    ("_eb", "{}: smoothed rate (empirical Bayes)"),
    ("_excess", "{}: excess risk (observed / expected)"),
    ("_lisa", "{}: hotspot clusters (local Moran)"),
    ("_gi", "{}: hot and cold spots (Gi*)"),
)

# Letters whose names start with a vowel sound, for initialisms ("an LSOA", "an MSOA", "an OA").
_VOWEL_LETTERS = set("AEFHILMNORSX")


def geography_of(safe) -> Geography:
    """The geography of a SafeTable (or AreaTable): its own, else told by its code column, else wards."""
    geo = getattr(safe, "geography", None)
    if isinstance(geo, Geography):
        return geo
    frame = safe if hasattr(safe, "columns") and hasattr(safe, "iloc") else getattr(safe, "frame", None)
    found = detect_geography(frame.columns) if frame is not None else None
    return found or WARD


def area_columns(safe) -> tuple[str, str | None, str | None, str | None]:
    """``(code, name, parent_code, parent_name)`` columns present in the table (None where absent)."""
    geo = geography_of(safe)
    cols = set(safe.frame.columns)
    return (geo.code, geo.name if geo.name in cols else None,
            geo.parent_code if geo.parent_code in cols else None,
            geo.parent_name if geo.parent_name in cols else None)


def article(label: str) -> str:
    """``"a ward"``, ``"an LSOA"``: the label with its indefinite article."""
    word = label.split()[0] if label.split() else label
    if word.isupper() and len(word) > 1:
        vowel = word[0] in _VOWEL_LETTERS
    else:
        vowel = word[:1].lower() in "aeiou"
    return f"{'an' if vowel else 'a'} {label}"


def geography_words(geo: Geography) -> dict:
    """The words the viewer shows about the areas (sent in the map's data)."""
    return {"label": geo.label, "plural": geo.plural, "title": geo.title, "a": article(geo.label),
            "parent": geo.parent_label, "parent_title": geo.parent_label[:1].upper() + geo.parent_label[1:]}


def plain_title(column: str) -> str:
    """A readable title from a column name alone (``reports_rate`` -> ``Reports per 1,000``)."""
    for suffix, pattern in _SUFFIXES:
        if column.endswith(suffix) and len(column) > len(suffix):
            return pattern.format(plain_title(column[: -len(suffix)]))
    text = column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def layer_title(column: str, table=None, names: dict | None = None) -> str:
    """The title of a layer: ``names[column]``, else the measures registry's title, else :func:`plain_title`."""
    if names and names.get(column):
        return str(names[column])
    try:
        from .. import measures

        title = getattr(measures, "title", None)
        if title is not None and table is not None:
            found = title(column, table)
            if found and found != column:
                return str(found)
    except Exception:  # a title is a nicety: any failure falls back to the plain reading
        pass
    return plain_title(column)
