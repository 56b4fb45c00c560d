"""Overlays from the planner: campaign areas, recommended next areas, hubs and their catchments.

They are ordinary typed layers (:mod:`gangmap.maps.layers`), so the HTML map
and the slide image draw the same ones. Only outlines, names and places
reach the map: never need scores or referral counts (those are shown only
through an area layer of a SafeTable).
"""

from __future__ import annotations

from ..errors import GangmapError
from ..table import AreaTable
from .layers import Layer, outline_layer, points_layer
from .naming import geography_of

__all__ = ["campaign_layers", "hub_layers"]


def _frame(areas):
    """The GeoDataFrame of an AreaTable, SafeTable or GeoDataFrame."""
    if isinstance(areas, AreaTable):
        return areas.frame
    return getattr(areas, "frame", areas)


def campaign_layers(areas, q=None, *, targets=None, recommendation=None) -> list[Layer]:
    """Outlines of the current campaign areas and the recommended next areas.

    Parameters
    ----------
    areas : AreaTable, SafeTable or GeoDataFrame
        The areas (with geometry and the geography's code and name columns).
    q : ignored
        Accepted for compatibility: layers are encoded on the map's own grid.
    targets : gangmap.planning.Targets, optional
    recommendation : gangmap.planning.Recommendation, optional
    """
    geo = geography_of(areas)
    frame = _frame(areas)
    out: list[Layer] = []
    if targets is not None:
        current = frame[targets.mask(frame).to_numpy()]
        if len(current):
            out.append(outline_layer(current[["geometry"]].dissolve(), name="Current campaign areas",
                                     color="#1b7837", weight=3.5, visible=True, layer_id="outline-campaign"))
    if recommendation is not None and len(recommendation.codes):
        nxt = frame[frame[geo.code].astype(str).isin(set(map(str, recommendation.codes)))]
        label = geo.name if geo.name in nxt.columns else geo.code
        out.append(outline_layer(nxt, name=f"Recommended next {geo.plural}", color="#762a83", weight=3,
                                 dash="6 4", visible=True, layer_id="outline-recommended", label=label))
    return out


def hub_layers(plan, q=None, *, safe_opts: dict | None = None) -> list[Layer]:
    """Hub catchments, hubs (existing and new) and uncovered high-need schools.

    ``plan`` is a :class:`gangmap.planning.HubPlan`. Points carry names only,
    never need or referral counts. An uncovered school is shown only when its
    need is shown in the plan's safe school table (``plan.schools_safe``,
    made with ``safe_opts``), so being on the list never narrows down a
    suppressed count; the list is in name order, not in order of need.
    ``q`` is accepted for compatibility and ignored.
    """
    out: list[Layer] = [outline_layer(plan.catchments, name="Hub catchments", color="#2166ac", weight=2,
                                      fill=0.08, visible=True, layer_id="outline-catchments")]
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
