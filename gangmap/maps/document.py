"""The map document: one self-contained, offline HTML page, and how it shows in a notebook.

The HTML carries Leaflet (from the ``xstatic-leaflet`` package), its CSS and
images, gangmap's small viewer script and the data, all inline. It makes no
network request when opened, so it works from an email attachment on a
laptop with no internet. A Content-Security-Policy forbids every request and
every script but the page's own, so even a name crafted to run script cannot.

Only a :class:`~gangmap.disclosure.SafeTable` can be mapped: class breaks,
legends and tooltips are built from the safe values, and the embedded data
holds only the area names, codes and safe values shown.

In JupyterLab a document shows in a sandboxed frame. A notebook whose
outputs are not trusted (papermill runs, notebooks from someone else) may
not run the frame at all: the output then says so, with a static preview
drawn from the same data, instead of an empty space.

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

import pandas as pd

from ..disclosure import SafeTable, require_safe
from ..errors import GangmapError
from . import packing
from .classify import CLASS_CODES, NO_DATA_COLOR, SUPPRESSED_COLOR
from .geometry import attribution_for, encode, label_points
from .layers import AreaLayer, Layer, area_layer, district_outlines
from .naming import area_columns, geography_of, geography_words, layer_title
from .topology import Encoded

__all__ = ["MapDocument", "make_map", "choropleth", "json_for_html", "IFRAME_HEIGHT", "CANVAS_ABOVE", "RENDERERS",
           "VIEWER_STYLE"]

#: Height (px) of a map in a notebook output.
IFRAME_HEIGHT = 560
#: Maps of more areas than this are drawn by the viewer's own canvas renderer (one path per class,
#: hover by point in polygon) instead of one SVG element per area.
CANVAS_ABOVE = 3000
RENDERERS = ("auto", "svg", "canvas")
#: How the viewer draws: every number the viewer uses for drawing, sizing and timing (none in the script).
VIEWER_STYLE = {
    "map": {"zoom_snap": 0.25, "tile_max_zoom": 18},
    "area": {"color": "#555555", "weight": 0.6, "fill_opacity": 0.85, "empty_opacity": 0.6},
    "suppressed": {"color": "#888888", "weight": 0.9, "dash": "3"},
    "hover": {"color": "#000000", "weight": 2.5},
    "marked": {"color": "#000000", "weight": 4},
    "point": {"color": "#222222", "weight": 1, "fill_opacity": 0.9},
    "label": {"char_width": 5.5, "min_height": 12},           # px: when an area is wide enough for its name
    "search": {"max_zoom": 14, "padding": 20, "list_matches": 6},
    "fit": {"min_box": 60, "dock_share": 2.5, "dock_gap": 16, "edge": 8, "fold_below": 300},  # px
    # canvas: margin (share of the view), px between drawn points, areas or arcs per canvas path
    "canvas": {"padding": 0.1, "min_px": 0.5, "chunk": 16},
    "fallback_bounds": [[49.9, -6.4], [55.8, 1.8]],           # England, when a map has no areas
    "hint_ms": 1500, "refresh_ms": 30, "settle_ms": 250,
}


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


def json_for_html(obj) -> str:
    """JSON that is safe inside ``<script type="application/json">``: nothing can close the element."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _sha(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


# --------------------------------------------------------------------------- the document
@dataclass
class MapDocument:
    """A finished map: a complete HTML page, and the typed layers it was made from.

    Use :meth:`save` to write it, :meth:`to_png` for a slide image with the
    same layers, or display it in JupyterLab (a sandboxed frame).
    """

    html: str = field(repr=False)
    title: str = ""
    layers: list[str] = field(default_factory=list)
    safe: SafeTable | None = field(default=None, repr=False, compare=False)
    items: tuple[Layer, ...] = field(default=(), repr=False, compare=False)
    data: dict | None = field(default=None, repr=False, compare=False)
    provenance: object = field(default=None, repr=False, compare=False)

    def save(self, path: str | Path) -> Path:
        """Write the HTML file atomically (a reader never sees half of it); return its path."""
        from ..export import write_text

        return write_text(Path(path), self.html)

    @property
    def size(self) -> int:
        """Size of the HTML in bytes."""
        return len(self.html.encode("utf-8"))

    def figure(self, **options):
        """A matplotlib Figure with the same area layer and visible overlays (see :mod:`gangmap.maps.static`)."""
        from .static import document_figure

        return document_figure(self, **options)

    def to_png(self, path: str | Path, *, dpi: int = 150, **options) -> Path:
        """Save the static image of this map (same layers, marking and footer) as PNG."""
        from .static import document_png

        return document_png(self, path, dpi=dpi, **options)

    def iframe(self, *, height: int = IFRAME_HEIGHT, preview: bool = True) -> str:
        """The map in a sandboxed frame, over a note (and a static preview) for outputs that cannot run it.

        The frame covers the note. Where the frame is stripped (JupyterLab
        does so for untrusted outputs) the note and the preview show instead.
        """
        from .preview import preview_img

        e = html.escape
        img = preview_img(self.data) if preview and self.data else ""
        note = (f'<div class="gm-untrusted" style="padding:6px 10px;font:13px/1.4 sans-serif;background:#fff8e1;'
                f'border:1px solid #e0c36b;color:#5d4200"><b>{e(self.title or "Map")}:</b> the interactive map '
                "cannot run here because this output is not trusted (a notebook run by papermill, or opened "
                "from elsewhere). Run the cell again, or trust the notebook (File menu or command palette: "
                f"&quot;Trust Notebook&quot;).{' Static preview:' if img else ''}</div>{img}")
        return (f'<div class="gm-output" style="position:relative;width:100%;height:{int(height)}px;overflow:hidden">'
                f'{note}<iframe sandbox="allow-scripts" title="{e(self.title)}" style="position:absolute;top:0;'
                'left:0;width:100%;height:100%;border:1px solid #ddd;box-sizing:border-box;background:#fff" '
                f'srcdoc="{e(self.html)}"></iframe></div>')

    def _repr_html_(self) -> str:
        return self.iframe()


def _check_layers(layers, codes: list[str]) -> list[Layer]:
    out = list(layers)
    for ly in out:
        if isinstance(ly, dict):
            raise GangmapError("map layers are typed objects now, not dicts: make them with maps.area_layer, "
                               "maps.outline_layer, maps.points_layer or maps.district_outlines.")
        if not isinstance(ly, Layer):
            raise GangmapError(f"{type(ly).__name__} is not a map layer; use maps.area_layer, maps.outline_layer, "
                               "maps.points_layer or maps.district_outlines.")
    ids = [ly.id for ly in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise GangmapError(f"two layers share the id {dup[0]!r}; give each layer its own layer_id.")
    for ly in out:
        if getattr(ly, "codes", None) is not None and list(ly.codes) != codes:
            raise GangmapError(f"layer {ly.name!r} was made from another table ({len(ly.codes)} areas, not this "
                               f"map's {len(codes)} in the same order); make every area layer from the SafeTable "
                               "the map is made from.")
    return out


def _csp(leaflet_js: str, own_js: str, tiles: str | None) -> str:
    img_src = "data:"
    if tiles:
        m = re.match(r"^https://((?:\{s\}\.)?[A-Za-z0-9.-]+(?::\d+)?)/", tiles)
        if not m:
            raise GangmapError(f"tiles must be an https:// URL template such as "
                               f"'https://{{s}}.tile.example.org/{{z}}/{{x}}/{{y}}.png', got {tiles!r}.")
        img_src += " https://" + m.group(1).replace("{s}.", "*.")  # Leaflet's subdomains: one wildcard source
    return (f"default-src 'none'; script-src {_sha(leaflet_js)} {_sha(own_js)}; "
            f"style-src 'unsafe-inline'; img-src {img_src}; base-uri 'none'; form-action 'none'")


def _parents(frame, column: str | None) -> dict | None:
    """The parent area of each area, as distinct names and an index per area (a name once, not per area)."""
    if column is None:
        return None
    codes, names = pd.factorize(frame[column].astype(str))
    return {"names": names.tolist(), "of": codes.tolist()}


def _renderer(renderer: str, n: int) -> str:
    if renderer not in RENDERERS:
        raise GangmapError(f"renderer {renderer!r}: use one of {RENDERERS}.")
    return ("canvas" if n > CANVAS_ABOVE else "svg") if renderer == "auto" else renderer


def _data(safe: SafeTable, layers: list[Layer], enc: Encoded, *, attribution: str, tiles: str | None,
          labels: bool, renderer: str = "auto") -> dict:
    geo = geography_of(safe)
    code, name, _, parent_name = area_columns(safe)
    frame = safe.frame
    return {
        "version": 3,
        "geography": geography_words(geo),
        "codes": dict(CLASS_CODES),
        "styles": {"suppressed": SUPPRESSED_COLOR, "nodata": NO_DATA_COLOR},
        "style": VIEWER_STYLE,
        "packing": packing.spec(),
        "q": enc.q,
        "arcs": packing.pack_arcs(enc.arcs),
        "areas": {"codes": frame[code].astype(str).tolist(),
                  "names": frame[name or code].astype(str).tolist(),
                  "parents": _parents(frame, parent_name),
                  "geoms": packing.pack_geoms(enc.geoms),
                  "label_at": label_points(safe, enc.q)},
        "layers": [ly.to_json(enc) for ly in layers],
        "attribution": attribution,
        "tiles": {"url": tiles} if tiles else None,
        "options": {"labels": bool(labels), "renderer": _renderer(renderer, len(frame))},
    }


def _page(safe: SafeTable, data: dict, *, title: str, subtitle: str, attribution: str, tiles: str | None,
          provenance=None) -> str:
    """The HTML page; ``provenance`` (default: the table's) gives the footer and the marking."""
    leaflet_js, leaflet_css = _leaflet()
    own_js, own_css = _own_assets()
    prov = provenance or safe.provenance
    geo = geography_of(safe)
    marking = prov.marking
    unsafe = " gm-unsafe" if "UNSUPPRESSED" in marking.upper() else ""
    e = html.escape
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{e(_csp(leaflet_js, own_js, tiles))}\">"
        f"<meta name=\"generator\" content=\"gangmap {e(prov.version)}\">"
        f"<title>{e(title)}</title>"
        f"<style>{leaflet_css}</style><style>{own_css}</style></head><body>"
        f"<div class=\"gm-marking{unsafe}\">{e(marking)}</div>"
        f"<header class=\"gm-header\"><h1 class=\"gm-title\">{e(title)}</h1>"
        f"<p class=\"gm-subtitle\">{e(subtitle)}</p><p class=\"gm-period\" id=\"gm-period\"></p></header>"
        "<noscript><p>This map needs JavaScript. The summary table in the map pack shows the same "
        "values.</p></noscript>"
        f"<div id=\"gm-map\" role=\"application\" aria-label=\"Map of {e(geo.plural)}\"></div>"
        f"<footer class=\"gm-footer\">{e(prov.footer())}<br>{e(attribution)}</footer>"
        f"<div class=\"gm-marking{unsafe}\">{e(marking)}</div>"
        f"<script type=\"application/json\" id=\"gm-data\">{json_for_html(data)}</script>"
        f"<script>{leaflet_js}</script><script>{own_js}</script>"
        "</body></html>\n"
    )


def make_map(safe: SafeTable, layers, *, title: str, subtitle: str = "", tiles: str | None = None,
             attribution: str | None = None, topology: Encoded | None = None, labels: bool = False,
             renderer: str = "auto", provenance=None) -> MapDocument:
    """Assemble typed layers over the areas of ``safe`` into one offline HTML page.

    Parameters
    ----------
    safe : SafeTable
        Supplies the area polygons, names, codes, the footer and marking.
    layers : list of Layer
        From :func:`~gangmap.maps.area_layer`, :func:`~gangmap.maps.outline_layer`,
        :func:`~gangmap.maps.points_layer`, :func:`~gangmap.maps.district_outlines`,
        :func:`~gangmap.maps.campaign_layers` and :func:`~gangmap.maps.hub_layers`.
    title, subtitle : str
        Shown above the map and printed.
    tiles : str, optional
        URL template of an online basemap (``https://.../{z}/{x}/{y}.png``).
        Off by default; when the network is unreachable the map stays usable
        on a plain background.
    attribution : str, optional
        Data attribution printed in the footer (default: :func:`~gangmap.maps.attribution_for`).
    topology : Encoded, optional
        The areas already encoded by :func:`~gangmap.maps.encode` (to share one
        encoding between several maps of the same areas).
    labels : bool
        Show the area names on the map from the start (the layer control
        turns them on and off).
    renderer : {"auto", "svg", "canvas"}
        How the viewer draws the areas: one SVG element per area, or its own
        canvas renderer (one path per class; the area under the mouse found
        by point in polygon), for maps of many areas. ``"auto"``: canvas above
        :data:`CANVAS_ABOVE` areas.
    provenance : Provenance, optional
        The footer and marking of a map made of several tables of the same
        areas (periods: :func:`~gangmap.maps.time_map`); default the table's.
    """
    require_safe(safe, "a map")
    enc = topology if topology is not None else encode(safe)
    code = area_columns(safe)[0]
    checked = _check_layers(layers, safe.frame[code].astype(str).tolist())
    for ly in checked:
        ly.check_against(safe)
    if len(enc.geoms) != len(safe.frame):
        raise GangmapError(f"the topology has {len(enc.geoms)} areas but the SafeTable {len(safe.frame)}; "
                           "encode this SafeTable (maps.encode(safe)).")
    attribution = attribution or attribution_for(safe)
    data = _data(safe, checked, enc, attribution=attribution, tiles=tiles, labels=labels, renderer=renderer)
    page = _page(safe, data, title=title, subtitle=subtitle, attribution=attribution, tiles=tiles,
                 provenance=provenance)
    return MapDocument(page, title, [ly.name for ly in checked], safe=safe, items=tuple(checked), data=data,
                       provenance=provenance)


def area_layers(safe: SafeTable, columns: str | list[str], *, missing: str = "raise", names: dict | None = None,
                **options) -> list[AreaLayer]:
    """One switchable :class:`AreaLayer` per column (the first visible), each column once, titled for a reader.

    With ``missing="skip"`` columns the SafeTable does not publish are left
    out; a column asked for twice (a notebook's chosen measure may be
    ``reports`` itself) is one layer. ``options`` go to :func:`area_layer`.
    """
    if missing not in ("raise", "skip"):
        raise GangmapError(f"missing must be 'raise' or 'skip', not {missing!r}.")
    wanted = list(dict.fromkeys([columns] if isinstance(columns, str) else columns))
    if missing == "skip":
        wanted = [c for c in wanted if c in safe.columns]
    if not wanted:
        raise GangmapError("a map needs at least one column to show (none of those asked for is published).")
    return [area_layer(safe, c, name=layer_title(c, safe, names), names=names, visible=(i == 0), **options)
            for i, c in enumerate(wanted)]


def choropleth(safe: SafeTable, column: str | list[str], *, title: str | None = None,
               subtitle: str = "", scheme: str = "quantiles", k: int = 5, bins=None,
               palette: str | None = None, names: dict | None = None, also=(),
               tiles: str | None = None, attribution: str | None = None, labels: bool = False,
               missing: str = "raise", renderer: str = "auto") -> MapDocument:
    """One-call choropleth: one or more safe columns as switchable layers, with district outlines.

    Layer names come from ``names``, else the measures' titles (never a raw
    column id); the default title is the first layer's "by ward" (or "by LSOA" ...).
    With ``missing="skip"`` columns the SafeTable does not publish (an input
    was missing, or the policy withheld them) are left out instead of raising,
    so a notebook can ask for every layer it would like.

    Examples
    --------
    >>> m = choropleth(safe, "reports", title="Reports by ward")  # doctest: +SKIP
    >>> m.save("out/reports.html")  # doctest: +SKIP

    ``renderer``: see :func:`make_map` (maps of more than :data:`CANVAS_ABOVE`
    areas are drawn by the viewer's canvas renderer). For a map over several
    periods, see :func:`gangmap.maps.time_map`.
    """
    require_safe(safe, "a map")
    enc = encode(safe)
    layers: list[Layer] = list(area_layers(safe, column, missing=missing, scheme=scheme, k=k, bins=bins,
                                           palette=palette, also=also, names=names))
    if area_columns(safe)[2] is not None:
        layers.append(district_outlines(safe))
    geo = geography_of(safe)
    return make_map(safe, layers, title=title or f"{layers[0].name} by {geo.label}", subtitle=subtitle,
                    tiles=tiles, attribution=attribution, topology=enc, labels=labels, renderer=renderer)

