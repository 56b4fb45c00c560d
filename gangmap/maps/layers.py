"""Typed map layers: what a map shows, checked when made, serialised for the viewer.

The first release passed layers to the viewer as plain dicts, with class
codes shared as magic numbers: a misspelt key, a layer made from another
table or a colour the viewer cannot parse only showed up as a blank or wrong
map in the meeting. Each layer is now a small frozen class (one per kind, as
lonboard does) that checks its inputs when it is made and serialises the
viewer's JSON with :meth:`Layer.to_json`:

* :class:`AreaLayer` colours the areas by one safe column (its classes come
  from :mod:`gangmap.maps.classify`, shared with the PNG images);
* :class:`OutlineLayer` draws outlines (campaign areas, catchments);
* :class:`DistrictOutlines` draws the parent areas (districts), built from
  the areas' own arcs so they coincide exactly with the area borders;
* :class:`PointsLayer` draws circle markers (schools, hubs).

The same objects feed the HTML viewer (:func:`gangmap.maps.make_map`) and
the static images (:mod:`gangmap.maps.static`), so a slide shows what the
interactive map shows.

Examples
--------
>>> layer = area_layer(safe, "reports")  # doctest: +SKIP
>>> layer.to_json()["kind"]  # doctest: +SKIP
'area'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..disclosure import SafeTable, require_safe
from ..errors import GangmapError
from ..geography import MAP_CRS
from .classify import (
    NO_DATA,
    NO_DATA_COLOR,
    NO_DATA_LABEL,
    SUPPRESSED,
    SUPPRESSED_COLOR,
    Classes,
    categorical,
    classify,
)
from .geometry import encode_geometries, own_quantiser
from .naming import area_columns, geography_of, layer_title
from .packing import pack_geoms
from .topology import Encoded, group_outlines

__all__ = ["LegendItem", "Legend", "Layer", "AreaLayer", "OutlineLayer", "DistrictOutlines", "PointsLayer",
           "area_layer", "outline_layer", "points_layer", "district_outlines", "layer_classes", "classes_of",
           "class_legend", "check_value_column", "check_published", "suppressed_of", "value_columns", "display_values",
           "check_color"]

_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_DASH = re.compile(r"^\d+(?:\.\d+)?(?:[ ,]+\d+(?:\.\d+)?)*$")
#: Legend swatch styles the viewer and the static renderer draw.
STYLES = (None, "hatch", "line", "dot")
#: Marker colours of point categories without a colour of their own.
POINT_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")


def check_color(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _COLOR.match(value):
        raise GangmapError(f"{what}: {value!r} is not a colour; use a hex colour such as '#1b7837'.")
    return value


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "layer"


# --------------------------------------------------------------------------- legends
@dataclass(frozen=True)
class LegendItem:
    """One legend row: a swatch (fill, ``"hatch"``, ``"line"`` or ``"dot"``) and its text."""

    color: str
    label: str
    style: str | None = None

    def __post_init__(self) -> None:
        check_color(self.color, f"legend item {self.label!r}")
        if self.style not in STYLES:
            raise GangmapError(f"legend item {self.label!r}: style {self.style!r} is not one of {STYLES}.")
        object.__setattr__(self, "label", str(self.label))

    def to_json(self) -> dict:
        out = {"color": self.color, "label": self.label}
        if self.style:
            out["style"] = self.style
        return out


@dataclass(frozen=True)
class Legend:
    """A layer's legend block: title, rows and an optional note (rounding, fewer classes ...)."""

    title: str
    items: tuple[LegendItem, ...] = ()
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        if not all(isinstance(i, LegendItem) for i in self.items):
            raise GangmapError(f"legend {self.title!r}: items must be LegendItem objects.")

    def to_json(self) -> dict:
        return {"title": str(self.title), "items": [i.to_json() for i in self.items], "note": self.note}


# --------------------------------------------------------------------------- base
@dataclass(frozen=True, kw_only=True, eq=False)
class Layer:
    """What every layer has: an id (unique in a map), a name (the layer control) and a legend."""

    kind: ClassVar[str] = "layer"
    id: str
    name: str
    visible: bool = True
    legend: Legend | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise GangmapError(f"layer id {self.id!r} must start with a letter and hold only letters, digits, "
                               "'-' and '_' (e.g. 'outline-campaign').")
        if not isinstance(self.name, str) or not self.name.strip():
            raise GangmapError(f"layer {self.id!r} needs a name (shown in the layer control and legend).")
        object.__setattr__(self, "visible", bool(self.visible))
        if self.legend is None:
            object.__setattr__(self, "legend", self.default_legend())
        elif not isinstance(self.legend, Legend):
            raise GangmapError(f"layer {self.id!r}: legend must be a maps.Legend.")

    def default_legend(self) -> Legend:
        return Legend(self.name)

    def check_against(self, safe: SafeTable) -> None:
        """Refuse a layer whose figures are not published by its SafeTable(s); layers without counts pass."""

    def to_json(self, topology: Encoded | None = None) -> dict:
        """The layer as the viewer reads it (``topology``: the map's encoding, for shared quantisation)."""
        assert self.legend is not None
        return {"id": self.id, "kind": self.kind, "name": self.name, "visible": self.visible,
                "legend": self.legend.to_json(), **self._payload(topology)}

    def _payload(self, topology: Encoded | None) -> dict:  # pragma: no cover - every kind overrides it
        raise NotImplementedError


# --------------------------------------------------------------------------- areas
@dataclass(frozen=True, kw_only=True, eq=False)
class AreaLayer(Layer):
    """A choropleth of one safe column: a class and a display text per area.

    Make it with :func:`area_layer` (or :meth:`from_safe`). ``codes`` are the
    areas in map order: :func:`gangmap.maps.make_map` refuses a layer made
    from another table.
    """

    kind: ClassVar[str] = "area"
    column: str
    codes: tuple[str, ...]
    values: tuple[str, ...]
    classes: Classes
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()
    visible: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "codes", tuple(map(str, self.codes)))
        object.__setattr__(self, "values", tuple(map(str, self.values)))
        object.__setattr__(self, "extra", tuple((str(n), tuple(map(str, v))) for n, v in self.extra))
        n, cls = len(self.codes), self.classes
        if not isinstance(cls, Classes):
            raise GangmapError(f"layer {self.name!r}: classes must come from maps.classify.")
        sizes = {"values": len(self.values), "classes": len(cls.assignment),
                 **{f"tooltip {nm!r}": len(v) for nm, v in self.extra}}
        wrong = {k: v for k, v in sizes.items() if v != n}
        if wrong:
            raise GangmapError(f"layer {self.name!r} has {n} areas but {wrong}; every list needs one entry "
                               "per area, in the table's order.")
        a = np.asarray(cls.assignment)
        bad = ~(((a >= 0) & (a < cls.k)) | (a == SUPPRESSED) | (a == NO_DATA))
        if bad.any():
            raise GangmapError(f"layer {self.name!r}: class {int(a[bad][0])} of area {self.codes[int(bad.argmax())]} "
                               f"is not one of its {cls.k} classes, suppressed ({SUPPRESSED}) or no data ({NO_DATA}).")
        if len(cls.labels) != cls.k:
            raise GangmapError(f"layer {self.name!r}: {len(cls.labels)} labels for {cls.k} colours.")
        for c in cls.colors:
            check_color(c, f"layer {self.name!r}")

    @classmethod
    def from_safe(cls, safe: SafeTable, column: str, **options) -> AreaLayer:
        """The layer of ``column`` of a SafeTable (see :func:`area_layer` for the options)."""
        return area_layer(safe, column, **options)

    def check_against(self, safe: SafeTable) -> None:
        """The values, tooltips and hidden classes must be ``safe``'s own (see :func:`check_published`)."""
        check_published(self.name, safe, self.column, self.values, [v for _, v in self.extra],
                        self.classes.assignment)

    def _payload(self, topology: Encoded | None) -> dict:
        out = {"column": self.column, "values": list(self.values),
               "cls": [int(c) for c in self.classes.assignment], "colors": list(self.classes.colors),
               "scheme": self.classes.scheme, "bins": list(self.classes.bins)}
        if self.extra:
            out["extra"] = [{"name": nm, "values": list(v)} for nm, v in self.extra]
        return out


def check_published(name: str, safe: SafeTable, column: str, values, tooltips, assignment) -> None:
    """Refuse figures for a map page that ``safe`` does not publish.

    A layer is a plain dataclass: ``dataclasses.replace(layer, values=raw)``
    or ``AreaLayer(values=raw)`` could otherwise put any text on the page
    after the SafeTable was checked. So the page takes a layer only if its
    shown values are ``safe``'s published texts of its column, each tooltip
    is the published texts of some column of ``safe``, and its suppressed
    class falls exactly on the cells ``safe`` hides.
    """
    require_safe(safe, "a map layer")
    published = {c: tuple(display_values(safe, c)) for c in value_columns(safe)}  # once, however many tooltips
    why = None
    if published.get(column) != tuple(values):
        why = f"its values are not the published values of {column!r}"
    elif not {tuple(v) for v in tooltips} <= set(published.values()):
        why = "a tooltip shows values that are not a published column"
    elif not np.array_equal(np.asarray(assignment) == SUPPRESSED, suppressed_of(safe, column)):
        why = "its grey (suppressed) class is not on the cells the SafeTable hides"
    if why:
        raise GangmapError(f"layer {name!r}: {why}, so the page could show a figure the SafeTable does not "
                           "publish. Make the layer with maps.area_layer(safe, column) (or maps.time_layer) "
                           "from the SafeTable itself, and do not edit it afterwards.")


def value_columns(safe: SafeTable) -> list[str]:
    ids = {c for c in area_columns(safe) if c} | set(geography_of(safe).identifiers) | {"geometry"}
    return [c for c in safe.frame.columns if c not in ids]


def layer_classes(safe: SafeTable, column: str, *, scheme: str = "quantiles", k: int = 5, bins=None,
                  palette: str | None = None) -> Classes:
    """Classes of one safe column: the same for the HTML map, the PNG image and the preview.

    Numeric columns are classified with mapclassify from the safe values only
    (a count column whose policy shows 0 but hides small counts gets a class
    of its own for 0); text columns (hotspot labels) get fixed categorical colours.
    """
    require_safe(safe, "a map layer")
    check_value_column(safe, column)
    return classes_of(safe, column, safe.frame[column], suppressed_of(safe, column), scheme=scheme, k=k, bins=bins,
                      palette=palette)


def check_value_column(safe: SafeTable, column: str) -> None:
    """Refuse a column that is not a safe value column of ``safe`` (an identifier, or not published)."""
    if column not in value_columns(safe):
        raise GangmapError(f"column {column!r} is not a value column of the SafeTable; value columns "
                           f"are {safe.columns}. Pass it to make_safe (counts=, derived= or keep=) first.")


def suppressed_of(safe: SafeTable, column: str) -> np.ndarray:
    """True where ``column`` is suppressed in ``safe``."""
    return safe.suppressed[column].to_numpy() if column in safe.suppressed else np.zeros(len(safe.frame), bool)


def classes_of(safe: SafeTable, column: str, values, suppressed, *, scheme: str = "quantiles", k: int = 5, bins=None,
               palette: str | None = None) -> Classes:
    """Classes of ``values`` of ``column`` under ``safe``'s policy (values may span several tables: periods)."""
    values = pd.Series(values) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_numeric_dtype(values):
        pal = palette or ("RdBu_r" if column.endswith("_excess") else "YlOrRd")
        lo, hi = safe.policy.primary_range
        zero = column in safe.counts and lo >= 1 and hi >= lo
        return classify(values.to_numpy(dtype=float), scheme=scheme, k=k, bins=bins, palette=pal,
                        suppressed=suppressed, zero_class=zero)
    return categorical(values, suppressed=suppressed)


def display_values(safe: SafeTable, column: str) -> list[str]:
    if column in safe.display:
        return [str(v) for v in safe.display[column].tolist()]
    return ["" if pd.isna(v) else str(v) for v in safe.frame[column].tolist()]


def suppressed_label(safe: SafeTable, column: str) -> str:
    pol = safe.policy
    if column in safe.counts:
        return pol.label
    lo, hi = pol.primary_range
    return f"suppressed (count {lo}–{hi})" if hi > lo else f"suppressed (count {hi})" if hi == lo else "suppressed"


def legend_note(safe: SafeTable, column: str, cls: Classes, note: str | None) -> str | None:
    pol = safe.policy
    parts = [note] if note else []
    if column in safe.counts and pol.rounding > 1 and cls.k:
        parts.append(f"Counts rounded to the nearest {pol.rounding}.")
    if (cls.assignment == SUPPRESSED).any() and pol.secondary:
        parts.append("Grey also hides a few larger counts, so that no total gives a small one away.")
    if cls.note:
        parts.append(cls.note)
    return " ".join(parts) or None


def area_layer(safe: SafeTable, column: str, *, name: str | None = None, scheme: str = "quantiles",
               k: int = 5, bins=None, palette: str | None = None, also=(), visible: bool = False,
               note: str | None = None, names: dict | None = None, layer_id: str | None = None) -> AreaLayer:
    """A choropleth layer of one safe column (numeric, or categorical labels).

    Parameters
    ----------
    safe : SafeTable
    column : str
        A value column of ``safe``.
    name : str, optional
        Layer and legend title (default: ``names[column]``, else the measure's
        title, never the raw column id).
    scheme, k, bins, palette
        Passed to :func:`gangmap.maps.classify.classify`. Categorical columns
        (strings such as hotspot labels) get fixed colours.
    also : sequence of str
        Further safe columns shown in the tooltip.
    names : dict, optional
        Display names of columns.
    note : str, optional
        A line under the legend.
    """
    cls = layer_classes(safe, column, scheme=scheme, k=k, bins=bins, palette=palette)
    title = name or layer_title(column, safe, names)
    extra = tuple((layer_title(a, safe, names), tuple(display_values(safe, a))) for a in also
                  if a != column and a in safe.frame.columns)
    code = area_columns(safe)[0]
    return AreaLayer(id=layer_id or f"area-{column}", name=title, visible=visible, column=column,
                     codes=tuple(safe.frame[code].astype(str)), values=tuple(display_values(safe, column)),
                     classes=cls, extra=extra,
                     legend=class_legend(safe, column, cls, title, note))


def class_legend(safe: SafeTable, column: str, cls: Classes, title: str, note: str | None = None) -> Legend:
    """The legend of classes ``cls`` of ``column``: the classes, then suppressed and no data where used."""
    items = [LegendItem(c, lab) for c, lab in zip(cls.colors, cls.labels)]
    if (cls.assignment == SUPPRESSED).any():
        items.append(LegendItem(SUPPRESSED_COLOR, suppressed_label(safe, column), "hatch"))
    if (cls.assignment == NO_DATA).any():
        items.append(LegendItem(NO_DATA_COLOR, NO_DATA_LABEL))
    return Legend(title, tuple(items), legend_note(safe, column, cls, note))


# --------------------------------------------------------------------------- outlines
def _polygons(geometry, what: str):
    """A GeoSeries of polygons with a CRS, from a GeoSeries or GeoDataFrame."""
    import geopandas as gpd

    if isinstance(geometry, gpd.GeoDataFrame):
        geometry = geometry.geometry
    if not isinstance(geometry, gpd.GeoSeries):
        raise GangmapError(f"{what}: geometry must be a GeoDataFrame or GeoSeries, not {type(geometry).__name__}.")
    if geometry.crs is None:
        raise GangmapError(f"{what}: the geometry has no CRS; set it (gdf.set_crs(27700)) before mapping.")
    kinds = set(geometry[~(geometry.isna() | geometry.is_empty)].geom_type)
    if kinds - {"Polygon", "MultiPolygon"}:
        raise GangmapError(f"{what}: outlines need polygons, got {sorted(kinds)}; use maps.points_layer for points.")
    return geometry.reset_index(drop=True)


@dataclass(frozen=True, kw_only=True, eq=False)
class OutlineLayer(Layer):
    """Outlines (campaign areas, catchments) with optional permanent labels, one per polygon."""

    kind: ClassVar[str] = "outline"
    geometry: Any
    labels: tuple[str, ...] | None = None
    color: str = "#000000"
    weight: float = 2.0
    dash: str | None = None
    fill: float = 0.0
    item: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "geometry", _polygons(self.geometry, f"layer {self.name!r}"))
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(map(str, self.labels)))
            if len(self.labels) != len(self.geometry):
                raise GangmapError(f"layer {self.name!r}: {len(self.labels)} labels for {len(self.geometry)} outlines.")
        check_color(self.color, f"layer {self.name!r}")
        if not (isinstance(self.weight, (int, float)) and math.isfinite(self.weight) and self.weight > 0):
            raise GangmapError(f"layer {self.name!r}: line weight must be a positive number, got {self.weight!r}.")
        if not (isinstance(self.fill, (int, float)) and 0 <= self.fill <= 1):
            raise GangmapError(f"layer {self.name!r}: fill opacity must be from 0 to 1, got {self.fill!r}.")
        if self.dash is not None and not _DASH.match(str(self.dash)):
            raise GangmapError(f"layer {self.name!r}: dash {self.dash!r} must be lengths such as '6 4'.")
        super().__post_init__()

    def default_legend(self) -> Legend:
        return Legend(self.name, (LegendItem(self.color, self.item or self.name, "line"),))

    def outlines(self):
        """``(GeoSeries, labels or None)``: what is drawn, in the layer's CRS (for static images)."""
        return self.geometry, self.labels

    def _style(self) -> dict:
        return {"color": self.color, "weight": float(self.weight), "dash": self.dash, "fill": float(self.fill)}

    def _payload(self, topology: Encoded | None) -> dict:
        geoms, labels = self.outlines()
        g = geoms.to_crs(MAP_CRS).values
        q = topology.q if topology is not None else own_quantiser(g)
        out = {"topo": False, "geoms": encode_geometries(g, q), "labels": list(labels) if labels else None,
               **self._style()}
        if topology is None:
            out["q"] = q
        return out


@dataclass(frozen=True, kw_only=True, eq=False)
class DistrictOutlines(OutlineLayer):
    """The parent areas (districts) of a map's areas, labelled with their names.

    Built from the areas' own arcs when serialised with the map's encoding
    (no extra points; the outlines coincide exactly with the area borders),
    or from dissolved polygons otherwise (standalone JSON, static images).
    """

    groups: tuple[str, ...] = ()
    group_names: tuple[str, ...] = ()
    color: str = "#333333"
    weight: float = 2.2

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(map(str, self.groups)))
        object.__setattr__(self, "group_names", tuple(map(str, self.group_names or self.groups)))
        super().__post_init__()
        if not (len(self.groups) == len(self.group_names) == len(self.geometry)):
            raise GangmapError(f"layer {self.name!r}: {len(self.groups)} group codes and {len(self.group_names)} "
                               f"names for {len(self.geometry)} areas.")

    @classmethod
    def from_safe(cls, safe: SafeTable, *, visible: bool = True) -> DistrictOutlines:
        require_safe(safe, "a map layer")
        geo = geography_of(safe)
        code, _, parent, parent_name = area_columns(safe)
        frame = safe.frame
        if parent is None:
            raise GangmapError(f"the SafeTable has no {geo.parent_code!r} column, so the {geo.plural} cannot be "
                               f"grouped into {geo.parent_label}s; leave the {geo.parent_label} outlines out.")
        words = geo.parent_label[:1].upper() + geo.parent_label[1:]
        return cls(id="outline-districts", name=f"{words} boundaries", visible=visible, geometry=frame.geometry,
                   groups=tuple(frame[parent].astype(str)),
                   group_names=tuple(frame[parent_name or parent].astype(str)), item=f"{words} boundary")

    def outlines(self):
        import geopandas as gpd

        g = gpd.GeoDataFrame({"key": self.groups, "label": self.group_names}, geometry=self.geometry.values,
                             crs=self.geometry.crs)
        d = g.dissolve(by="key", sort=False, aggfunc="first")
        return d.geometry.reset_index(drop=True), tuple(d["label"])

    def _payload(self, topology: Encoded | None) -> dict:
        if topology is None or len(topology.geoms) != len(self.groups):
            return super()._payload(None)
        keys, geoms = group_outlines(topology, self.groups)
        names = dict(zip(self.groups, self.group_names))
        return {"topo": True, "geoms": pack_geoms(geoms), "labels": [names[k] for k in keys], **self._style()}


def outline_layer(gdf, q=None, *, name: str, label: str | None = None, color: str = "#000000",
                  weight: float = 2.0, dash: str | None = None, fill: float = 0.0, visible: bool = True,
                  layer_id: str | None = None, item: str | None = None) -> OutlineLayer:
    """Outlines (districts, campaign areas, catchments) with optional labels from column ``label``.

    ``q`` is accepted for compatibility and ignored: a layer is encoded on the
    quantisation of the map it is put on.
    """
    labels = tuple(gdf[label].astype(str)) if label else None
    return OutlineLayer(id=layer_id or f"outline-{_slug(name)}", name=name, visible=visible, geometry=gdf,
                        labels=labels, color=color, weight=weight, dash=dash, fill=fill, item=item)


def district_outlines(safe: SafeTable, topology: Encoded | None = None, *, visible: bool = True) -> DistrictOutlines:
    """District (parent area) outlines of ``safe``, labelled with their names.

    ``topology`` is accepted for compatibility; the outlines are built from
    the arcs of the map they are put on.
    """
    return DistrictOutlines.from_safe(safe, visible=visible)


# --------------------------------------------------------------------------- points
@dataclass(frozen=True, kw_only=True, eq=False)
class PointsLayer(Layer):
    """Circle markers (schools, hubs): longitude/latitude, a category each, optional hover labels.

    Only names reach the page: show sensitive values through an
    :class:`AreaLayer` of a SafeTable, never here.
    """

    kind: ClassVar[str] = "points"
    lon: tuple[float, ...]
    lat: tuple[float, ...]
    category: tuple[int, ...] = ()
    categories: tuple[str, ...] = ("_",)
    colors: tuple[str, ...] = ("#333333",)
    labels: tuple[str, ...] | None = None
    radius: float = 5.0

    def __post_init__(self) -> None:
        lon, lat = tuple(float(v) for v in self.lon), tuple(float(v) for v in self.lat)
        cat = tuple(int(c) for c in self.category) or (0,) * len(lon)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "category", cat)
        object.__setattr__(self, "categories", tuple(map(str, self.categories)))
        object.__setattr__(self, "colors", tuple(self.colors))
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(map(str, self.labels)))
        self._check()
        super().__post_init__()

    def _check(self) -> None:
        n, what = len(self.lon), f"layer {self.name!r}"
        lists = {"latitudes": len(self.lat), "categories": len(self.category),
                 **({"labels": len(self.labels)} if self.labels is not None else {})}
        wrong = {k: v for k, v in lists.items() if v != n}
        if wrong:
            raise GangmapError(f"{what}: {n} points but {wrong}.")
        if not all(-180 <= x <= 180 for x in self.lon) or not all(-90 <= y <= 90 for y in self.lat):
            raise GangmapError(f"{what}: points must be longitude/latitude (EPSG:4326); use points_layer(gdf) "
                               "to convert a GeoDataFrame.")
        if len(self.colors) != len(self.categories):
            raise GangmapError(f"{what}: {len(self.colors)} colours for {len(self.categories)} categories.")
        if any(not 0 <= c < len(self.categories) for c in self.category):
            raise GangmapError(f"{what}: a point's category is not one of {len(self.categories)}.")
        for c in self.colors:
            check_color(c, what)
        if not (isinstance(self.radius, (int, float)) and 0 < self.radius < 100):
            raise GangmapError(f"{what}: radius must be a number of pixels from 0 to 100, got {self.radius!r}.")

    def default_legend(self) -> Legend:
        return Legend(self.name, tuple(LegendItem(c, self.name if o == "_" else o, "dot")
                                       for o, c in zip(self.categories, self.colors)))

    def points(self):
        """The points as a GeoDataFrame (EPSG:4326) with ``category`` and ``label`` (for static images)."""
        import geopandas as gpd

        return gpd.GeoDataFrame({"category": list(self.category), "label": list(self.labels or [""] * len(self.lon))},
                                geometry=gpd.points_from_xy(self.lon, self.lat), crs=MAP_CRS)

    def _payload(self, topology: Encoded | None) -> dict:
        labels = self.labels or [None] * len(self.lon)
        pts = [[round(x, 6), round(y, 6), c, self.radius] + ([lab] if lab is not None else [])
               for x, y, c, lab in zip(self.lon, self.lat, self.category, labels)]
        return {"points": pts, "colors": list(self.colors)}


def points_layer(points, *, name: str, label: str | None = None, category: str | None = None,
                 colors: dict | None = None, color: str = "#333333", radius: float = 5, visible: bool = False,
                 layer_id: str | None = None) -> PointsLayer:
    """Circle markers from a GeoDataFrame of points (schools, hubs): no icon fonts, labels as text.

    Only the ``label`` and ``category`` columns reach the page. Do not pass
    counts here: show sensitive values through an area layer of a SafeTable.
    """
    import geopandas as gpd

    if not isinstance(points, gpd.GeoDataFrame) or points.crs is None:
        raise GangmapError(f"layer {name!r}: points must be a GeoDataFrame with a CRS.")
    g = points.to_crs(MAP_CRS)
    g = g[~(g.geometry.isna() | g.geometry.is_empty)]
    if len(g) and set(g.geom_type) - {"Point"}:
        raise GangmapError(f"layer {name!r}: points_layer needs points, got {sorted(set(g.geom_type))}.")
    cats = [str(c) for c in g[category]] if category else ["_"] * len(g)
    order = list(dict.fromkeys(cats)) or ["_"]
    palette = colors or {}
    cols = [palette.get(c, color if not category else POINT_COLORS[i % len(POINT_COLORS)])
            for i, c in enumerate(order)]
    index = {c: i for i, c in enumerate(order)}
    return PointsLayer(id=layer_id or f"points-{_slug(name)}", name=name, visible=visible,
                       lon=tuple(g.geometry.x), lat=tuple(g.geometry.y), category=tuple(index[c] for c in cats),
                       categories=tuple(order), colors=tuple(cols),
                       labels=tuple(g[label].astype(str)) if label else None, radius=radius)
