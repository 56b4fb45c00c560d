"""Map packs: every map, image and table for a meeting, from one TOML config.

``gangmap pack CONFIG --out DIR`` (or :func:`build_pack`) reads a config
(:mod:`~gangmap.pack.config`), reads and joins the inputs once, measures each
filtered view of the counts, makes them safe together, runs the planner, and
writes one offline HTML map and slide PNG per ``[[maps]]`` entry, funnel
plots, safe summary tables and an ``index.html``; then it reads the whole
pack back as an attacker would before swapping it into ``DIR``.

Modules: :mod:`.config` (the format), :mod:`.views` (inputs read once, views
cut from one cube), :mod:`.plan` (the planner's part), :mod:`.draw` (one map
entry), :mod:`.page` (the index), :mod:`.build` (the recipe).
"""

from __future__ import annotations

from .build import PackResult, build_demo, build_pack
from .config import OVERLAYS, MapSpec, PackConfig, PlanningSpec, load_config
from .page import CAVEATS, METHODS
from .time import add_time_layers, published_series
from .views import ALL, View, links_of, views_of

__all__ = ["build_pack", "build_demo", "PackResult", "load_config", "PackConfig", "MapSpec", "PlanningSpec",
           "OVERLAYS", "METHODS", "CAVEATS", "ALL", "View", "views_of", "links_of", "add_time_layers",
           "published_series"]
