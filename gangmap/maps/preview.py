"""A static SVG preview of a map, drawn from the same data the viewer reads.

JupyterLab strips frames and scripts from outputs it does not trust (a
notebook run by papermill, or opened from elsewhere), so an interactive map
shows nothing there. Images survive, so the notebook output carries this
preview under a note that says why the map is not interactive. It is drawn
from the map's own JSON (the areas, the visible area layer's classes, the
visible outlines and points), so it can show nothing the map does not.
"""

from __future__ import annotations

import base64
import html
import math
import textwrap

import numpy as np

from .packing import read_arcs, read_geoms
from .topology import decode, decode_arcs

__all__ = ["svg_preview", "preview_img", "MAX_PREVIEW_AREAS"]

#: Larger maps get the note without a preview (it would double the output's size for little use).
MAX_PREVIEW_AREAS = 3000
_MAP_W, _LEGEND_W, _MAX_H = 560.0, 220.0, 520.0


def _project(lonlat: np.ndarray, lat0: float) -> np.ndarray:
    return np.column_stack([lonlat[:, 0] * math.cos(math.radians(lat0)), -lonlat[:, 1]])


def _area_rings(data: dict) -> list[list[np.ndarray]]:
    q, arcs, geoms = data["q"], read_arcs(data.get("arcs")), read_geoms(data["areas"]["geoms"])
    dec = decode_arcs(q, arcs)
    return [[r for poly in decode(q, arcs, g, dec) for r in poly] for g in geoms]


def _overlay_rings(data: dict, ly: dict) -> list[np.ndarray]:
    q = ly.get("q") or data["q"]
    if ly.get("topo"):
        arcs = read_arcs(data.get("arcs"))
        dec = decode_arcs(q, arcs)
        return [r for g in read_geoms(ly["geoms"]) for poly in decode(q, arcs, g, dec) for r in poly]
    return [decode_arcs(q, [r])[0] for g in ly["geoms"] for poly in g for r in poly]


def _path(rings, tr) -> str:
    """SVG path data on whole pixels, repeated points dropped (a preview needs no finer detail)."""
    parts = []
    for r in rings:
        if len(r) < 3:
            continue
        xy = np.rint(tr(r)).astype(int)
        keep = np.r_[True, np.any(np.diff(xy, axis=0) != 0, axis=1)]
        xy = xy[keep]
        if len(xy) < 3:
            continue
        parts.append("M" + "L".join(f"{x},{y}" for x, y in xy) + "Z")
    return "".join(parts)


def _legend(blocks: list[dict], x0: float) -> list[str]:
    e = html.escape
    out, y = [], 16.0
    for legend in blocks:
        out.append(f'<text x="{x0:.0f}" y="{y:.0f}" font-weight="bold">{e(str(legend["title"])[:40])}</text>')
        y += 15
        for it in legend["items"]:
            style = it.get("style")
            if style == "line":
                out.append(f'<line x1="{x0:.0f}" y1="{y - 4:.0f}" x2="{x0 + 16:.0f}" y2="{y - 4:.0f}" '
                           f'stroke="{e(it["color"])}" stroke-width="3"/>')
            elif style == "dot":
                out.append(f'<circle cx="{x0 + 8:.0f}" cy="{y - 4:.0f}" r="5" fill="{e(it["color"])}" stroke="#222"/>')
            else:
                out.append(f'<rect x="{x0:.0f}" y="{y - 10:.0f}" width="16" height="11" fill="{e(it["color"])}" '
                           'stroke="#777"/>')
            out.append(f'<text x="{x0 + 22:.0f}" y="{y:.0f}">{e(str(it["label"])[:34])}</text>')
            y += 14
        for line in textwrap.wrap(str(legend.get("note") or ""), 40)[:4]:
            out.append(f'<text x="{x0:.0f}" y="{y:.0f}" font-size="9" fill="#7a4b00">{e(line)}</text>')
            y += 11
        y += 8
    return out


def _fills(data: dict, area: dict | None) -> list[str]:
    codes, styles = data["codes"], data["styles"]
    n = len(data["areas"]["codes"])
    if area is None:
        return ["#ffffff"] * n
    return [styles["suppressed"] if c == codes["suppressed"] else styles["nodata"] if c == codes["nodata"]
            else area["colors"][c] for c in area["cls"]]


def svg_preview(data: dict) -> str | None:
    """The map as an SVG document (areas, visible outlines and points, legend), or None for a big map."""
    n = len(data["areas"]["codes"])
    if not n or n > MAX_PREVIEW_AREAS:
        return None
    rings = _area_rings(data)
    pts = np.concatenate([r for rr in rings for r in rr]) if any(rings) else np.zeros((0, 2))
    if not len(pts):
        return None
    lat0 = float(np.mean(pts[:, 1]))
    xy = _project(pts, lat0)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    scale = min(_MAP_W / span[0], _MAX_H / span[1])
    height = max(span[1] * scale, 200.0)

    def tr(r):
        return (_project(np.asarray(r), lat0) - lo) * scale + 4

    layers = data["layers"]
    kinds = ("area", "time")
    area = next((ly for ly in layers if ly["kind"] in kinds and ly["visible"]),
                next((ly for ly in layers if ly["kind"] in kinds), None))
    if area is not None and area["kind"] == "time":  # a map with time: the period it shows first
        area = {**area, "cls": area["cls"][area["start"]],
                "legend": {**area["legend"], "title": f'{area["legend"]["title"]}: {area["periods"][area["start"]]}'}}
    shown = [ly for ly in layers if ly["kind"] not in kinds and ly["visible"]]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_MAP_W + _LEGEND_W + 8:.0f}" height="{height + 8:.0f}" '
           f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="#ffffff"/>']
    for r, fill in zip(rings, _fills(data, area)):
        out.append(f'<path d="{_path(r, tr)}" fill="{html.escape(fill)}" stroke="#555" stroke-width="0.4"/>')
    for ly in shown:
        if ly["kind"] == "outline":
            dash = f' stroke-dasharray="{html.escape(ly["dash"])}"' if ly.get("dash") else ""
            out.append(f'<path d="{_path(_overlay_rings(data, ly), tr)}" fill="none" '
                       f'stroke="{html.escape(ly["color"])}" '
                       f'stroke-width="{min(float(ly.get("weight", 2)), 3):.1f}"{dash}/>')
        elif ly["kind"] == "points":
            for p in ly["points"]:
                (x, y), = tr([[p[0], p[1]]])
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{min(float(p[3]), 6):.1f}" '
                           f'fill="{html.escape(ly["colors"][p[2]])}" stroke="#222" stroke-width="0.6"/>')
    blocks = [ly["legend"] for ly in ([area] if area else []) + shown if ly.get("legend")]
    out += _legend(blocks, _MAP_W + 16)
    out.append("</svg>")
    return "".join(out)


def preview_img(data: dict | None) -> str:
    """An ``<img>`` of :func:`svg_preview` (a data URI: it survives JupyterLab's sanitiser), or ``""``."""
    svg = svg_preview(data) if data else None
    if svg is None:
        return ""
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="gm-preview" alt="Static preview of the map" style="max-width:100%" src="{uri}">'
