"""One ``[[maps]]`` entry of a pack: its offline HTML map, slide PNG and funnel plots.

The HTML and the PNG are drawn from the same typed layers (areas, district
outlines, campaign and hub overlays, schools), so the slide shows what the
map's title promises. Titles come from the config's ``names``, else the
measures registry (which knows the geography and the population's label).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .config import MapSpec, PackConfig
from .page import Card

__all__ = ["draw_map", "title_of"]


def title_of(column: str, table: Any, names: dict | None = None) -> str:
    """Display title of a column for ``table`` (config names first)."""
    from ..maps import layer_title

    if column in (table.geography.name, table.geography.parent_name):
        return table.geography.title if column == table.geography.name else table.geography.parent_label.title()
    return layer_title(column, table, names)


def _layers(cfg: PackConfig, spec: MapSpec, safe: Any, table: Any, plan: Any, inputs: Any) -> list:
    from .. import maps

    names = {c: title_of(c, table, spec.names) for c in (*spec.layers, *safe.counts)}
    layers: list = [maps.area_layer(safe, c, name=names[c], scheme=spec.scheme, k=spec.classes, bins=spec.bins,
                                    also=[x for x in safe.counts if x != c], names=names, visible=(i == 0))
                    for i, c in enumerate(spec.layers)]
    if "districts" in spec.overlays:
        layers.append(maps.district_outlines(safe))
    wanted = [o for o in ("campaign", "recommended", "hubs") if o in spec.overlays]
    if wanted and plan is None:
        raise ConfigError(f"{cfg.path}: map {spec.file!r}: overlays {wanted} need a [planning] section.")
    if plan is not None:
        layers += plan.layers(spec.overlays)
    if "schools" in spec.overlays and inputs.schools is not None:
        layers.append(maps.points_layer(inputs.schools.to_points(), name="Schools", label="school_name", radius=3.5))
    return layers


def draw_map(out, cfg: PackConfig, spec: MapSpec, safe: Any, table: Any, encoded: Any, plan: Any,
             inputs: Any) -> tuple[Card, list[Path]]:
    """Write the map, its PNG and its funnel plots; return the index card and the files."""
    from .. import maps
    from ..export import funnel_png

    missing = [c for c in spec.layers if c not in safe.columns]
    if missing:
        raise ConfigError(f"{cfg.path}: map {spec.file!r}: layer(s) {missing} cannot be published (their counts are "
                          f"hidden or their inputs missing); published layers are {safe.columns}.")
    layers = _layers(cfg, spec, safe, table, plan, inputs)
    title = spec.title or title_of(spec.layers[0], table, spec.names)
    subtitle = spec.subtitle or " · ".join(filter(None, [", ".join(spec.category or ()), safe.provenance.period]))
    doc = maps.make_map(safe, layers, title=title, subtitle=subtitle, topology=encoded,
                        attribution=cfg.attribution, labels="labels" in spec.overlays)
    files = [doc.save(out.path(f"{spec.file}.html")), doc.to_png(out.path(f"{spec.file}.png"))]
    if "population" in safe.frame.columns:
        for c in [c for c in safe.counts if any(layer.startswith(c) for layer in spec.layers)]:
            files.append(funnel_png(safe, c, "population", out.path(f"{spec.file}_funnel_{c}.png"),
                                    title=f"{title_of(c, table, spec.names)}: funnel plot"))
    card = Card(title=title, subtitle=subtitle, html_file=f"{spec.file}.html", png=files[1], size=doc.size)
    return card, files


def draw_time_map(out, cfg: PackConfig, spec: MapSpec, safes: dict, table: Any) -> tuple[Card, list[Path]]:
    """A map with a period slider (one legend for every period) and its small multiples for slides.

    ``safes`` maps each period's label to its SafeTable, made safe together
    with the rest of the pack (the pattern carries across periods).
    """
    from .. import maps

    column = spec.layers[0]
    missing = [label for label, s in safes.items() if column not in s.columns]
    if missing:
        raise ConfigError(f"{cfg.path}: time map {spec.file!r}: {column!r} cannot be published for {missing[:3]} "
                          "(its counts are hidden or its inputs missing).")
    title = spec.title or f"{title_of(column, table, spec.names)} by period"
    first, last = next(iter(safes)), list(safes)[-1]
    subtitle = spec.subtitle or " · ".join(filter(None, [", ".join(spec.category or ()), f"{first} to {last}"]))
    doc = maps.time_map(safes, column, title=title, subtitle=subtitle, scheme=spec.scheme, k=spec.classes,
                        bins=spec.bins, attribution=cfg.attribution)
    html_file = doc.save(out.path(f"{spec.file}.html"))
    png = maps.small_multiples(safes, column, out.path(f"{spec.file}.png"), title=title, scheme=spec.scheme,
                               k=spec.classes, bins=spec.bins)
    return Card(title=title, subtitle=subtitle, html_file=f"{spec.file}.html", png=png, size=doc.size), \
        [html_file, png]


def trend_png(out, safes: dict, column: str, table: Any, *, launch: str | None = None) -> Path:
    """The county trend chart drawn from the published county totals of each period (never raw sums)."""
    from .. import maps, measures
    from ..export import to_png

    series = measures.published_totals(safes, column)
    fig = measures.trend_chart(series, title=f"{title_of(column, table)}: county total per period", launch=launch)
    return to_png(fig, safes[list(safes)[-1]], out.path("trend.png"), provenance=maps.period_provenance(safes))
