"""Static maps (PNG) for slides and reports, drawn from the same typed layers as the HTML map.

A slide whose title promises "campaign areas and recommended wards" must
show them. So the static renderer takes the very layer objects the
interactive map is made of (:mod:`gangmap.maps.layers`): the area layer's
classes and colours, outlines (districts, campaign areas, recommended areas,
hub catchments) with their labels, and points (hubs, schools), and it builds
the legend from their legends. :meth:`MapDocument.to_png
<gangmap.maps.MapDocument.to_png>` draws a finished map's visible layers.

matplotlib is imported only when a figure is drawn.

Examples
--------
>>> doc = maps.make_map(safe, layers, title="Where next?")  # doctest: +SKIP
>>> doc.to_png("out/where_next.png")  # the same overlays as the HTML  # doctest: +SKIP
>>> maps.map_png(safe, "reports", "out/reports.png", layers=maps.campaign_layers(table, targets=t))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..disclosure import SafeTable, require_safe
from ..errors import GangmapError
from ..figures import literal_text
from .classify import SUPPRESSED
from .layers import AreaLayer, DistrictOutlines, Layer, OutlineLayer, PointsLayer, area_layer, district_outlines
from .naming import area_columns, geography_of

__all__ = ["render", "map_figure", "map_png", "document_figure", "document_png", "multiples_figure"]

_HATCH = "////"
#: Width of one panel of small multiples (inches).
_PANEL_IN = 2.6



def _wrapped(title: str, width: int = 34) -> str:
    """A legend title on lines short enough to stay inside a slide (legends sit beside the map)."""
    import textwrap

    return "\n".join(textwrap.wrap(title, width)) or title

def _draw_areas(ax, frame, area: AreaLayer | None) -> None:
    if area is None:
        frame.plot(ax=ax, color="#ffffff", edgecolor="#555555", linewidth=0.3)
        return
    cls = area.classes
    frame.plot(ax=ax, color=[cls.color_of(int(i)) for i in cls.assignment], edgecolor="#555555", linewidth=0.3)
    sup = cls.assignment == SUPPRESSED
    if sup.any():
        frame[sup].plot(ax=ax, facecolor="none", edgecolor="#777777", linewidth=0.3, hatch=_HATCH)


def _halo():
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=2.2, foreground="#ffffff")]


def _draw_outlines(ax, ly: OutlineLayer, crs, *, labels: bool = True) -> None:
    geoms, names = ly.outlines()
    names = names if labels else None
    g = geoms.to_crs(crs)
    if not len(g):
        return
    if ly.fill > 0:
        g.plot(ax=ax, facecolor=ly.color, alpha=ly.fill, edgecolor="none", zorder=3)
    g.boundary.plot(ax=ax, color=ly.color, linewidth=ly.weight * 0.55, linestyle="--" if ly.dash else "-", zorder=4)
    for geom, text in zip(g, names or ()):
        if geom is None or geom.is_empty or not text:
            continue
        p = geom.representative_point()
        ax.text(p.x, p.y, text, fontsize=6, ha="center", va="center", color="#222222", zorder=6,
                path_effects=_halo())


def _draw_points(ax, ly: PointsLayer, crs) -> None:
    pts = ly.points().to_crs(crs)
    if not len(pts):
        return
    ax.scatter(pts.geometry.x, pts.geometry.y, s=(ly.radius * 1.3) ** 2, c=[ly.colors[c] for c in pts["category"]],
               edgecolors="#222222", linewidths=0.6, zorder=7)


def _handles(area: AreaLayer | None, overlays: Sequence[Layer]) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    out: list = []
    if area is not None and area.legend is not None:
        for it in area.legend.items:
            out.append(Patch(facecolor=it.color, edgecolor="#777777", label=it.label,
                             hatch=_HATCH if it.style == "hatch" else None))
    for ly in overlays:
        assert ly.legend is not None
        for it in ly.legend.items:
            label = it.label
            if it.style == "dot" and len(ly.legend.items) > 1:  # categories of one layer: "Hubs: new"
                label = f"{ly.legend.title}: {it.label}"
            if it.style == "line":
                dashed = isinstance(ly, OutlineLayer) and bool(ly.dash)
                out.append(Line2D([0], [0], color=it.color, lw=2, linestyle="--" if dashed else "-", label=label))
            elif it.style == "dot":
                out.append(Line2D([0], [0], marker="o", color="none", markerfacecolor=it.color,
                                  markeredgecolor="#222222", markersize=7, label=label))
            else:
                out.append(Patch(facecolor=it.color, edgecolor="#777777", label=label))
    return out


@literal_text
def render(safe: SafeTable, area: AreaLayer | None, overlays: Sequence[Layer] = (), *, title: str,
           figsize=(10.0, 7.0)):
    """A matplotlib Figure of ``safe``'s areas coloured by ``area``, with ``overlays`` drawn on top.

    The legend (beside the map, never over it) lists the area classes, the
    suppressed and no-data classes, then every overlay's legend items.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    require_safe(safe, "a map image")
    frame = safe.frame
    if area is not None and list(area.codes) != frame[area_columns(safe)[0]].astype(str).tolist():
        raise GangmapError(f"layer {area.name!r} was made from another table; make it from this SafeTable.")
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.05, 0.68, 0.86))
    _draw_areas(ax, frame, area)
    for ly in overlays:
        if isinstance(ly, OutlineLayer):
            _draw_outlines(ax, ly, frame.crs)
        elif isinstance(ly, PointsLayer):
            _draw_points(ax, ly, frame.crs)
    minx, miny, maxx, maxy = frame.total_bounds
    pad = 0.02 * max(maxx - minx, maxy - miny, 1.0)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles = _handles(area, overlays)
    if handles:
        fig.legend(handles=handles, loc="center left", bbox_to_anchor=(0.70, 0.5), fontsize=7, title_fontsize=8,
                   title=_wrapped(area.name) if area is not None else None, frameon=True)
    notes = [ly.legend.note for ly in ([area] if area is not None else []) + list(overlays)
             if ly.legend is not None and ly.legend.note]
    if notes:
        fig.text(0.02, 0.035, " ".join(notes), fontsize=7, color="#7a4b00", ha="left", va="bottom", wrap=True)
    fig.suptitle(title, fontsize=11, y=0.965)
    return fig


def map_figure(safe: SafeTable, column: str | None = None, *, layers: Sequence[Layer] = (), title: str | None = None,
               scheme: str = "quantiles", k: int = 5, bins=None, palette: str | None = None,
               legend_title: str | None = None, figsize=(10.0, 7.0), districts: bool = True):
    """A static map of one safe column with the map's classes and colours, and any overlay layers.

    Parameters
    ----------
    safe : SafeTable
    column : str, optional
        The column to colour the areas by (else the first :class:`AreaLayer` in ``layers``).
    layers : sequence of Layer
        Overlays (outlines, points) and optionally the area layer, as made for the HTML map.
    districts : bool
        Add the district outlines unless ``layers`` has them already.
    """
    require_safe(safe, "a map image")
    area = next((ly for ly in layers if isinstance(ly, AreaLayer)), None)
    if column is not None:
        area = area_layer(safe, column, name=legend_title, scheme=scheme, k=k, bins=bins, palette=palette)
    overlays = [ly for ly in layers if not isinstance(ly, AreaLayer)]
    if districts and area_columns(safe)[2] and not any(isinstance(ly, DistrictOutlines) for ly in overlays):
        overlays.insert(0, district_outlines(safe))
    geo = geography_of(safe)
    default = f"{area.name} by {geo.label}" if area is not None else geo.plural[:1].upper() + geo.plural[1:]
    return render(safe, area, overlays, title=title or default, figsize=figsize)


def map_png(safe: SafeTable, column: str | None, path: str | Path, *, dpi: int = 150, **options) -> Path:
    """Save :func:`map_figure` as PNG (for slide decks), stamped with marking and provenance."""
    from ..export import to_png

    return to_png(map_figure(safe, column, **options), safe, path, dpi=dpi)


def document_figure(doc, *, figsize=(10.0, 7.0)):
    """The static image of a :class:`~gangmap.maps.MapDocument`: its shown area layer and visible overlays.

    A map with time is drawn at the period it shows first (its title says which).
    """
    if doc.safe is None:
        raise GangmapError("this MapDocument keeps no table to draw from; make it with maps.make_map.")
    areas = [ly for ly in doc.items if hasattr(ly, "codes")]
    area = next((ly for ly in areas if ly.visible), areas[0] if areas else None)
    title = doc.title
    if area is not None and not isinstance(area, AreaLayer):  # a TimeLayer: its first shown period
        title = f"{doc.title}: {area.periods[area.start]}"
        area = area.at()
    overlays = [ly for ly in doc.items if not hasattr(ly, "codes") and ly.visible]
    return render(doc.safe, area, overlays, title=title, figsize=figsize)


def document_png(doc, path: str | Path, *, dpi: int = 150, **options) -> Path:
    """Save :func:`document_figure` as PNG, stamped with marking and provenance."""
    from ..export import to_png

    return to_png(document_figure(doc, **options), doc.safe, path, dpi=dpi, provenance=doc.provenance)


@literal_text
def multiples_figure(safe: SafeTable, layer, overlays: Sequence[Layer] = (), *, title: str, ncols: int,
                     figsize=None):
    """Small multiples: one panel per period of a :class:`~gangmap.maps.TimeLayer`, one legend beside them.

    Every panel uses the layer's one set of classes and colours; ``overlays``
    (district outlines) are drawn on every panel.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    require_safe(safe, "a map image")
    frame = safe.frame
    nrows = -(-len(layer.periods) // ncols)
    minx, miny, maxx, maxy = frame.total_bounds
    pad = 0.02 * max(maxx - minx, maxy - miny, 1.0)
    # Layout in inches: panels shaped like the area, a title line above each, the legend beside them.
    panel_w = _PANEL_IN
    panel_h = panel_w * min(max((maxy - miny + 2 * pad) / max(maxx - minx + 2 * pad, 1.0), 0.4), 2.5)
    head, top, foot, legend_w = 0.3, 0.7, 0.6, 2.4
    left = 0.15
    fig_w, fig_h = left + ncols * panel_w + legend_w, nrows * (panel_h + head) + top + foot
    fig = Figure(figsize=figsize or (fig_w, fig_h))
    FigureCanvasAgg(fig)
    fig_w, fig_h = fig.get_size_inches()
    for p, period in enumerate(layer.periods):
        r, c = divmod(p, ncols)
        y = fig_h - top - (r + 1) * (panel_h + head)
        ax = fig.add_axes(((left + c * panel_w) / fig_w, y / fig_h, panel_w * 0.96 / fig_w, panel_h / fig_h))
        _draw_areas(ax, frame, layer.at(p))
        for ly in overlays:
            if isinstance(ly, OutlineLayer):
                _draw_outlines(ax, ly, frame.crs, labels=False)  # names would crowd a small panel
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(period, fontsize=9)
    width = (left + ncols * panel_w) / fig_w
    fig.legend(handles=_handles(layer.at(), []), loc="center left", bbox_to_anchor=(width + 0.01, 0.5), fontsize=7,
               title=_wrapped(layer.name), title_fontsize=8, frameon=True)
    if layer.legend is not None and layer.legend.note:
        fig.text(0.02, 0.3 / fig_h, layer.legend.note, fontsize=7, color="#7a4b00", ha="left", va="bottom",
                 wrap=True)
    fig.suptitle(title, fontsize=11, y=1 - 0.35 / fig_h)
    return fig
