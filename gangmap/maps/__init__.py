"""Offline interactive maps (HTML) and static map images."""

from __future__ import annotations

from . import classify, topology  # noqa: F401
from .core import (  # noqa: F401
    ATTRIBUTION_ONS,
    NO_DATA_LABEL,
    MapDocument,
    area_layer,
    attribution_for,
    campaign_layers,
    choropleth,
    district_outlines,
    encode,
    encode_geometries,
    explorer,
    hub_layers,
    layer_classes,
    make_map,
    outline_layer,
    points_layer,
)
