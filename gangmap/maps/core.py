"""Maps: interactive choropleths as one self-contained, offline HTML file.

The HTML carries Leaflet (from the ``xstatic-leaflet`` package), its CSS and
images, gangmap's small viewer script and the data, all inline. It makes no
network request when opened, so it works from an email attachment on a
laptop with no internet. A Content-Security-Policy forbids every request and
every script but the page's own, so even a name crafted to run script cannot.

Only a :class:`~gangmap.disclosure.SafeTable` can be mapped: class breaks,
legends and tooltips are built from the safe values, and the embedded data
holds only the ward names, codes and safe values shown.

Examples
--------
>>> import gangmap
>>> table, report = gangmap.join(p["wards"], reports=p["reports"], population=p["population"])  # doctest: +SKIP
>>> safe = gangmap.make_safe(table, counts=["reports"])  # doctest: +SKIP
>>> m = gangmap.maps.choropleth(safe, "reports", title="Reports by ward")  # doctest: +SKIP
>>> m.save("reports.html")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..disclosure import SafeTable, require_safe
from ..errors import GangmapError
from ..io.boundaries import MAP_CRS
from .classify import NO_DATA_COLOR, SUPPRESSED_COLOR, Classes, categorical, classify
from .topology import Encoded, encode_coverage, group_outlines

ATTRIBUTION_ONS = ("Contains OS data © Crown copyright and database right; "
                   "contains ONS data, Open Government Licence v3.0")
NO_DATA_LABEL = "No data"


# --------------------------------------------------------------------------- assets
@lru_cache(maxsize=1)
def _leaflet() -> tuple[str, str]:
    """Leaflet's JS and CSS from xstatic-leaflet, with the CSS images inlined."""
    import xstatic.pkg.leaflet as xl

    base = Path(xl.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(m):
        img = base / m.group(1)
        return f"url(data:image/png;base64,{base64.b64encode(img.read_bytes()).decode()})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)
    js = js.replace("//# sourceMappingURL=leaflet.js.map", "")
    return js, css


@lru_cache(maxsize=1)
def _own_assets() -> tuple[str, str]:
    pkg = resources.files("gangmap.maps") / "assets"
    return (pkg / "gangmap.js").read_text(encoding="utf-8"), (pkg / "gangmap.css").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- geometry
def _encode_ring(coords: np.ndarray, q) -> list[int]:
    xy = np.rint((coords - [q["x0"], q["y0"]]) / q["s"]).astype(np.int64)
    keep = np.r_[True, np.any(np.diff(xy, axis=0) != 0, axis=1)]  # drop repeats after rounding
    xy = xy[keep]
    d = np.diff(xy, axis=0, prepend=[[0, 0]])
    return d.ravel().tolist()


def encode_geometries(geoms, q) -> list:
    """Encode polygons as lists of polygons of rings of delta-encoded integers."""
    out = []
    for g in geoms:
        polys = []
        for part in shapely.get_parts(g):
            if part.geom_type != "Polygon" or part.is_empty:
                continue
            rings = [part.exterior, *part.interiors]
            polys.append([_encode_ring(np.asarray(r.coords)[:-1, :2], q) for r in rings])
        out.append(polys)
    return out


# --------------------------------------------------------------------------- layers
def _legend_extra(safe: SafeTable, column: str, cls) -> list[dict]:
    items = []
    if (cls.assignment == -1).any():
        items.append({"color": SUPPRESSED_COLOR, "label": safe.policy.label, "style": "hatch"})
    if (cls.assignment == -2).any():
        items.append({"color": NO_DATA_COLOR, "label": NO_DATA_LABEL})
    return items


def layer_classes(safe: SafeTable, column: str, *, scheme: str = "quantiles", k: int = 5, bins=None,
                  palette: str | None = None) -> Classes:
    """Classes of one safe column: the same for the HTML map and the PNG image.

    Numeric columns are classified with mapclassify from the safe values only;
    text columns (hotspot labels) get fixed categorical colours.
    """
    require_safe(safe, "a map layer")
    frame = safe.frame
    if column not in frame.columns or column in ("geometry", "ward_code", "ward_name", "lad_code", "lad_name"):
        raise GangmapError(f"column {column!r} is not a value column of the SafeTable; value columns "
                           f"are {safe.columns}. Pass it to make_safe (counts=, derived= or keep=) first.")
    sup = safe.suppressed[column].to_numpy() if column in safe.suppressed else np.zeros(len(frame), bool)
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values):
        pal = palette or ("RdBu_r" if column.endswith("_excess") else "YlOrRd")
        return classify(values.to_numpy(dtype=float), scheme=scheme, k=k, bins=bins, palette=pal, suppressed=sup)
    return categorical(values, suppressed=sup)


def _display(safe: SafeTable, column: str) -> list[str]:
    if column in safe.display:
        return [str(v) for v in safe.display[column].tolist()]
    return ["" if pd.isna(v) else str(v) for v in safe.frame[column].tolist()]


def area_layer(safe: SafeTable, column: str, *, name: str | None = None, scheme: str = "quantiles",
               k: int = 5, bins=None, palette: str | None = None, also=(), visible: bool = False,
               note: str | None = None, names: dict | None = None) -> dict:
    """A choropleth layer of one safe column (numeric, or categorical labels).

    Parameters
    ----------
    safe : SafeTable
    column : str
        A value column of ``safe``.
    name : str, optional
        Layer and legend title (default: the column name).
    scheme, k, bins, palette
        Passed to :func:`gangmap.classify.classify`. Categorical columns
        (strings such as hotspot labels) get fixed colours.
    also : sequence of str
        Further safe columns shown in the tooltip.
    names : dict, optional
        Display names for the ``also`` columns.
    """
    cls = layer_classes(safe, column, scheme=scheme, k=k, bins=bins, palette=palette)
    title = name or column
    items = [{"color": c, "label": lab} for c, lab in zip(cls.colors, cls.labels)]
    layer = {
        "id": f"area-{column}", "kind": "area", "name": title, "visible": visible,
        "values": _display(safe, column),
        "cls": cls.assignment.tolist(), "colors": cls.colors,
        "legend": {"title": title, "items": items + _legend_extra(safe, column, cls), "note": note},
        "scheme": cls.scheme, "bins": list(cls.bins),
    }
    extra = [a for a in also if a != column]
    if extra:
        layer["extra"] = [{"name": (names or {}).get(a, a), "values": _display(safe, a)} for a in extra]
    return layer


def points_layer(points: gpd.GeoDataFrame, *, name: str, label: str | None = None, category: str | None = None,
                 colors: dict | None = None, color: str = "#333333", radius: float = 5, visible: bool = False,
                 layer_id: str | None = None) -> dict:
    """Circle markers (schools, hubs): no icon fonts, labels as text.

    Only the ``label`` and ``category`` columns reach the page. Do not pass
    counts here: show sensitive values through an area layer of a SafeTable.
    """
    g = points.to_crs(MAP_CRS)
    g = g[~(g.geometry.isna() | g.geometry.is_empty)]
    cats = [str(c) for c in g[category]] if category else ["_"] * len(g)
    order = list(dict.fromkeys(cats))
    palette = colors or {}
    default = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
    cols = [palette.get(c, color if not category else default[i % len(default)]) for i, c in enumerate(order)]
    labels = [str(v) for v in g[label]] if label else [None] * len(g)
    pts = [[round(p.x, 6), round(p.y, 6), order.index(c), radius] + ([lab] if lab is not None else [])
           for p, c, lab in zip(g.geometry, cats, labels)]
    items = [{"color": c, "label": name if o == "_" else o, "style": "dot"} for o, c in zip(order, cols)]
    return {"id": layer_id or "points-" + re.sub(r"\W+", "-", name.lower()), "kind": "points", "name": name,
            "visible": visible, "points": pts, "colors": cols, "legend": {"title": name, "items": items}}


def outline_layer(gdf: gpd.GeoDataFrame, q, *, name: str, label: str | None = None, color: str = "#000",
                  weight: float = 2.0, dash: str | None = None, fill: float = 0.0, visible: bool = True,
                  layer_id: str | None = None, item: str | None = None) -> dict:
    """Outlines (districts, campaign areas, catchments) with optional labels."""
    g = gdf.to_crs(MAP_CRS)
    return {"id": layer_id or "outline-" + re.sub(r"\W+", "-", name.lower()), "kind": "outline",
            "name": name, "visible": visible, "geoms": encode_geometries(g.geometry, q),
            "labels": [str(v) for v in g[label]] if label else None,
            "color": color, "weight": weight, "dash": dash, "fill": fill,
            "legend": {"title": name, "items": [{"color": color, "label": item or name, "style": "line"}]}}


@dataclass
class MapDocument:
    """A finished map: a complete HTML page.

    Use :meth:`save` to write it, or display it in JupyterLab (it renders in a
    sandboxed frame).
    """

    html: str = field(repr=False)
    title: str = ""
    layers: list[str] = field(default_factory=list)

    def save(self, path: str | Path) -> Path:
        """Write the HTML file; return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        return path

    @property
    def size(self) -> int:
        """Size of the HTML in bytes."""
        return len(self.html.encode("utf-8"))

    def _repr_html_(self) -> str:
        return (f'<iframe sandbox="allow-scripts" title="{html.escape(self.title)}" '
                f'style="width:100%;height:560px;border:1px solid #ddd" srcdoc="{html.escape(self.html)}">'
                "</iframe>")


def _json_for_html(obj) -> str:
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    # Nothing in a data block may close the script element or open a comment.
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _sha(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def encode(safe: SafeTable, **options) -> Encoded:
    """Encode the wards of ``safe`` as shared, simplified, quantised arcs (see :mod:`gangmap.topology`).

    The deviation from the true boundaries is measured, not assumed:
    ``encode(safe).hausdorff_max_m``.
    """
    require_safe(safe, "a map")
    frame = safe.frame
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry is None:
        raise GangmapError("the SafeTable has no geometry; make it from the joined ward table "
                           "(a GeoDataFrame), not a plain DataFrame.")
    return encode_coverage(frame.geometry, repair=False, **options)


def attribution_for(safe: SafeTable) -> str:
    """The data attribution for a map: the fictional-demo note for demo wards, else ONS/OS."""
    from ..demo import ATTRIBUTION, is_fictional

    return ATTRIBUTION if is_fictional(safe.frame["ward_code"]) else ATTRIBUTION_ONS


def make_map(safe: SafeTable, layers: list[dict], *, title: str, subtitle: str = "",
             tiles: str | None = None, attribution: str | None = None,
             topology: Encoded | None = None) -> MapDocument:
    """Assemble layers over the wards of ``safe`` into one offline HTML page.

    Parameters
    ----------
    safe : SafeTable
        Supplies the ward polygons, names, codes, the footer and marking.
    layers : list of dict
        From :func:`area_layer`, :func:`outline_layer`, :func:`points_layer`
        and :func:`district_outlines`.
    title, subtitle : str
        Shown above the map and printed.
    tiles : str, optional
        URL template of an online basemap (``https://.../{z}/{x}/{y}.png``).
        Off by default; when the network is unreachable the map stays usable
        on a plain background.
    attribution : str, optional
        Data attribution printed in the footer (default: :func:`attribution_for`).
    topology : Encoded, optional
        The wards already encoded by :func:`encode` (its ``q`` must be the
        one the outline layers were encoded with).
    """
    enc = topology if topology is not None else encode(safe)
    attribution = attribution or attribution_for(safe)
    frame = safe.frame
    prov = safe.provenance
    data = {
        "q": enc.q,
        "arcs": enc.arcs,
        "wards": {"codes": frame["ward_code"].astype(str).tolist(),
                  "names": frame["ward_name"].astype(str).tolist(),
                  "districts": frame["lad_name"].astype(str).tolist() if "lad_name" in frame else None,
                  "geoms": enc.geoms},
        "layers": layers,
        "suppressed_color": SUPPRESSED_COLOR, "nodata_color": NO_DATA_COLOR,
        "attribution": attribution,
        "tiles": {"url": tiles} if tiles else None,
    }
    leaflet_js, leaflet_css = _leaflet()
    own_js, own_css = _own_assets()
    img_src = "data:"
    if tiles:
        m = re.match(r"^(https://[A-Za-z0-9.-]+(?::\d+)?)/", tiles)
        if not m:
            raise GangmapError(f"tiles must be an https:// URL template, got {tiles!r}.")
        img_src += " " + m.group(1)
    csp = (f"default-src 'none'; script-src {_sha(leaflet_js)} {_sha(own_js)}; "
           f"style-src 'unsafe-inline'; img-src {img_src}; base-uri 'none'; form-action 'none'")
    marking = prov.marking
    unsafe = "UNSUPPRESSED" in marking.upper()
    e = html.escape
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{e(csp)}\">"
        f"<meta name=\"generator\" content=\"gangmap {e(prov.version)}\">"
        f"<title>{e(title)}</title>"
        f"<style>{leaflet_css}</style><style>{own_css}</style></head><body>"
        f"<div class=\"gm-marking{' gm-unsafe' if unsafe else ''}\">{e(marking)}</div>"
        f"<header class=\"gm-header\"><h1 class=\"gm-title\">{e(title)}</h1>"
        f"<p class=\"gm-subtitle\">{e(subtitle)}</p></header>"
        "<noscript><p>This map needs JavaScript. The summary table in the map pack shows the same "
        "values.</p></noscript>"
        "<div id=\"gm-map\" role=\"application\" aria-label=\"Ward map\"></div>"
        f"<footer class=\"gm-footer\">{e(prov.footer())}<br>{e(attribution)}</footer>"
        f"<div class=\"gm-marking{' gm-unsafe' if unsafe else ''}\">{e(marking)}</div>"
        f"<script type=\"application/json\" id=\"gm-data\">{_json_for_html(data)}</script>"
        f"<script>{leaflet_js}</script><script>{own_js}</script>"
        "</body></html>\n"
    )
    return MapDocument(page, title, [ly["name"] for ly in layers])


def campaign_layers(wards: gpd.GeoDataFrame, q, *, targets=None, recommendation=None) -> list[dict]:
    """Outlines of the current campaign areas and the recommended next wards.

    ``targets`` is a :class:`gangmap.planning.Targets`, ``recommendation`` a
    :class:`gangmap.planning.Recommendation`; ``q`` is the map's quantiser
    (``encode(safe).q``). Only ward outlines and names reach the map.
    """
    out = []
    if targets is not None:
        current = wards[targets.mask(wards)]
        if len(current):
            out.append(outline_layer(current.dissolve(), q, name="Current campaign areas", color="#1b7837",
                                     weight=3.5, visible=True, layer_id="outline-campaign"))
    if recommendation is not None and len(recommendation.codes):
        nxt = wards[wards["ward_code"].isin(recommendation.codes)]
        out.append(outline_layer(nxt, q, name="Recommended next wards", color="#762a83", weight=3, dash="6 4",
                                 visible=True, layer_id="outline-recommended", label="ward_name"))
    return out


def hub_layers(plan, q, *, safe_opts: dict | None = None) -> list[dict]:
    """Hub catchments, hubs (existing and new) and uncovered high-need schools.

    ``plan`` is a :class:`gangmap.planning.HubPlan`. Points carry names only,
    never need or referral counts. An uncovered school is shown only when its
    need is shown in the plan's safe school table (``plan.schools_safe``,
    made with ``safe_opts``), so being on the list never narrows down a
    suppressed count; the list is in name order, not in order of need.
    """
    out = [outline_layer(plan.catchments, q, name="Hub catchments", color="#2166ac", weight=2, fill=0.08,
                         visible=True, layer_id="outline-catchments")]
    pts = plan.hubs.assign(label=plan.hubs["hub_name"] + ": " + plan.hubs["school_name"])
    out.append(points_layer(pts, name="Hubs", label="label", category="status", radius=8, visible=True,
                            layer_id="points-hubs", colors={"existing": "#2166ac", "new": "#b2182b"}))
    uncovered = plan.uncovered
    if len(uncovered):
        try:
            schools = plan.schools_safe(**(safe_opts or {}))
        except GangmapError:  # need cannot be made safe per school: show no school list at all
            uncovered = uncovered.iloc[0:0]
        else:
            shown = schools.frame.loc[~schools.suppressed["need"].to_numpy(), "urn"].astype(str) \
                if "need" in schools.suppressed else schools.frame["urn"].iloc[0:0]
            uncovered = uncovered[uncovered["urn"].astype(str).isin(set(shown))]
    if len(uncovered):
        out.append(points_layer(uncovered.sort_values("school_name"), name="Uncovered high-need schools",
                                label="school_name", color="#e08214", radius=5, visible=True,
                                layer_id="points-uncovered"))
    return out


def explorer(tables, measures, *, schemes=("quantiles", "natural_breaks", "equal_interval", "box_plot"),
             k: int = 5, names: dict | None = None, also=(), title: str = ""):
    """An ipywidgets control that redraws a choropleth: measure, category, scheme and classes.

    Parameters
    ----------
    tables : dict of {label: SafeTable}
        One safe table per category choice (e.g. ``{"All": safe, "Weapons concern": safe_w}``).
    measures : sequence of str
        Value columns to offer; those missing from a table are not offered for it.
    schemes, k, names, also, title
        Classification schemes offered, initial number of classes, display
        names, tooltip columns and title.

    Returns
    -------
    ipywidgets.VBox
        Redraws live (no Output widget), so it also runs unattended in tests.

    Examples
    --------
    >>> maps.explorer({"All": safe}, ["reports_rate", "reports"])  # doctest: +SKIP
    """
    import ipywidgets as widgets

    if not tables:
        raise GangmapError("explorer needs at least one SafeTable, e.g. {'All': safe}.")
    for label, safe in tables.items():
        require_safe(safe, f"the explorer ({label})")
    names = names or {}

    def offered(label):
        return [(names.get(m, m), m) for m in measures if m in tables[label].frame.columns]

    first = next(iter(tables))
    if not offered(first):
        raise GangmapError(f"none of {list(measures)} is a value column of the {first!r} table.")
    category = widgets.Dropdown(options=list(tables), value=first, description="Category")
    measure = widgets.Dropdown(options=offered(first), description="Measure")
    scheme = widgets.Dropdown(options=list(schemes), value=schemes[0], description="Scheme")
    classes = widgets.IntSlider(value=k, min=3, max=7, description="Classes")
    out = widgets.HTML()

    def draw(*_):
        opts = offered(category.value)
        if measure.value not in [v for _, v in opts]:
            measure.options = opts
        safe = tables[category.value]
        doc = choropleth(safe, measure.value, scheme=scheme.value, k=classes.value, names=names,
                         also=[a for a in also if a in safe.frame.columns],
                         title=title or names.get(measure.value, measure.value), subtitle=str(category.value))
        out.value = doc._repr_html_()

    for w in (category, measure, scheme, classes):
        w.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([category, measure]), widgets.HBox([scheme, classes]), out])


def district_outlines(safe: SafeTable, topology: Encoded, *, visible: bool = True) -> dict:
    """District outlines built from the wards' own arcs (no extra points), labelled with names."""
    frame = safe.frame
    codes = frame["lad_code"].astype(str).tolist()
    keys, geoms = group_outlines(topology, codes)
    names = dict(zip(codes, frame["lad_name"].astype(str)))
    return {"id": "outline-districts", "kind": "outline", "name": "District boundaries", "visible": visible,
            "topo": True, "geoms": geoms, "labels": [names[k] for k in keys], "color": "#333", "weight": 2.2,
            "dash": None, "fill": 0.0,
            "legend": {"title": "District boundaries",
                       "items": [{"color": "#333", "label": "District boundary", "style": "line"}]}}


def choropleth(safe: SafeTable, column: str | list[str], *, title: str | None = None,
               subtitle: str = "", scheme: str = "quantiles", k: int = 5, bins=None,
               palette: str | None = None, names: dict | None = None, also=(),
               tiles: str | None = None, attribution: str | None = None) -> MapDocument:
    """One-call choropleth: one or more safe columns as switchable layers, with district outlines.

    Examples
    --------
    >>> m = choropleth(safe, "reports", title="Reports by ward")  # doctest: +SKIP
    >>> m.save("out/reports.html")  # doctest: +SKIP
    """
    require_safe(safe, "a map")
    columns = [column] if isinstance(column, str) else list(column)
    names = names or {}
    enc = encode(safe)
    layers = [area_layer(safe, c, name=names.get(c, c), scheme=scheme, k=k, bins=bins, palette=palette,
                         also=also, names=names, visible=(i == 0)) for i, c in enumerate(columns)]
    layers.append(district_outlines(safe, enc))
    return make_map(safe, layers, title=title or names.get(columns[0], columns[0]), subtitle=subtitle,
                    tiles=tiles, attribution=attribution, topology=enc)
