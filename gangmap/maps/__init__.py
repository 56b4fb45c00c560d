"""Offline interactive maps (HTML) and static map images."""

from __future__ import annotations

from .core import (  # noqa: F401
    ATTRIBUTION_ONS,
    NO_DATA_LABEL,
    encode_geometries,
    layer_classes,
    area_layer,
    points_layer,
    outline_layer,
    MapDocument,
    encode,
    attribution_for,
    make_map,
    campaign_layers,
    hub_layers,
    explorer,
    district_outlines,
    choropleth,
)
from . import classify, topology  # noqa: F401
