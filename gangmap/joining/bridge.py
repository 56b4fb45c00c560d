"""Bridges between geographies, in one place: LSOAs to any areas, old polygons to new, and what codes are.

Counts often arrive on another geography than the areas in use: police.uk
rows carry an LSOA code, a partner sends counts by 2013 wards while the map
uses 2024 wards. The pieces live in modules by concern and are gathered here:

* :func:`detect_vintage` (:mod:`.vintage`) recognises what unmatched codes look
  like, so a report can say "41 of 52 codes look like LSOA 2011 codes";
* :func:`bridge_lsoas` / :func:`lsoa_to_ward` and :func:`apply_bridge`
  (:mod:`.lsoa`) build an LSOA lookup and move counts through it;
* :func:`interpolate_counts` (:mod:`.interpolate`) moves counts between any
  two sets of polygons by area.

All areas are measured in EPSG:27700 (British National Grid, metres).
"""

from __future__ import annotations

from .interpolate import Interpolation, interpolate_counts
from .lsoa import BridgedCounts, BridgeReport, BridgeWarning, apply_bridge, bridge_lsoas, lsoa_to_ward
from .vintage import GSS_RE, LAST_2011, VintageGuess, detect_vintage

__all__ = ["VintageGuess", "detect_vintage", "BridgeReport", "BridgeWarning", "BridgedCounts", "bridge_lsoas",
           "lsoa_to_ward", "apply_bridge", "Interpolation", "interpolate_counts", "GSS_RE", "LAST_2011"]
