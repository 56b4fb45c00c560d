"""Maps: offline interactive choropleths (one HTML file), notebook display and slide images.

Modules, by concern:

* :mod:`~gangmap.maps.classify`: class breaks, colours and the class codes
  of suppressed and no-data values (their one home);
* :mod:`~gangmap.maps.topology`: shared, simplified, quantised arcs with a
  measured deviation;
* :mod:`~gangmap.maps.layers`: typed layers (:class:`AreaLayer`,
  :class:`OutlineLayer`, :class:`DistrictOutlines`, :class:`PointsLayer`)
  that check their inputs and serialise the viewer's JSON;
* :mod:`~gangmap.maps.timemap`: maps with time (:func:`time_map`: a slider
  and play button over periods, one legend) and :func:`small_multiples` PNGs;
* :mod:`~gangmap.maps.packing`: the compact text of the geometry;
* :mod:`~gangmap.maps.geometry`: geometry for the viewer: overlays as quantised rings on the
  areas' grid, label points;
* :mod:`~gangmap.maps.overlays`: campaign and hub layers from the planner;
* :mod:`~gangmap.maps.document`: the HTML page (:func:`make_map`,
  :func:`choropleth`, :func:`area_layers`, :class:`MapDocument`) and its notebook display;
* :mod:`~gangmap.maps.static`: PNG images from the same layers;
* :mod:`~gangmap.maps.preview`: the static SVG preview a notebook shows
  until (or unless) the interactive map runs;
* :mod:`~gangmap.maps.explorer`: the ipywidgets explorer;
* :mod:`~gangmap.maps.naming`: the words for the areas (ward, LSOA ...) and layer titles.

Every word a map shows about its areas follows the table's geography.
matplotlib, mapclassify and ipywidgets load only when they are used.
"""

from __future__ import annotations

from . import classify, packing, topology
from .classify import CLASS_CODES, NO_DATA, NO_DATA_LABEL, SUPPRESSED, Classes
from .document import MapDocument, area_layers, choropleth, json_for_html, make_map
from .explorer import explorer
from .geometry import ATTRIBUTION_ONS, attribution_for, encode, encode_geometries
from .layers import (
    AreaLayer,
    DistrictOutlines,
    Layer,
    Legend,
    LegendItem,
    OutlineLayer,
    PointsLayer,
    area_layer,
    district_outlines,
    layer_classes,
    outline_layer,
    points_layer,
)
from .naming import geography_of, layer_title
from .overlays import campaign_layers, hub_layers
from .static import document_figure, document_png, map_figure, map_png
from .timemap import TimeLayer, period_provenance, small_multiples, time_layer, time_map
from .topology import Encoded

__all__ = [
    "classify", "packing", "topology",
    "CLASS_CODES", "SUPPRESSED", "NO_DATA", "NO_DATA_LABEL", "Classes",
    "MapDocument", "make_map", "choropleth", "area_layers", "json_for_html",
    "explorer",
    "ATTRIBUTION_ONS", "attribution_for", "encode", "encode_geometries", "Encoded",
    "Layer", "AreaLayer", "OutlineLayer", "DistrictOutlines", "PointsLayer", "Legend", "LegendItem",
    "area_layer", "outline_layer", "points_layer", "district_outlines", "layer_classes",
    "geography_of", "layer_title",
    "campaign_layers", "hub_layers",
    "map_figure", "map_png", "document_figure", "document_png",
    "TimeLayer", "time_layer", "time_map", "small_multiples", "period_provenance",
]
