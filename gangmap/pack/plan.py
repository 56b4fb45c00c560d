"""The ``[planning]`` section of a pack: targeting, hub rollout and the campaign evaluation.

The planner's calls are the notebooks' calls (:mod:`gangmap.planning`); this
module only runs them on the pack's measured table and cube, makes their
tables safe with the suppression pattern of the pack's summary (so no two
files hide different cells of the same counts), and offers their map layers
and the words for the index page. A statement is printed on the index only
when every count it quotes is shown under the pack's policy.

The campaign evaluation is the one step the data may not support (too few
months either side of the launch, a group with no counts, a fit that does not
converge: :func:`gangmap.planning.evaluate` raises ``InputError``). A pack is
then built without it and its index says so, in words that quote no count;
the full reason goes to the person building the pack as a warning.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from .config import PackConfig

__all__ = ["PackPlan", "plan_pack"]


@dataclass
class PackPlan:
    """Planning results of a pack: safe tables, chart, layers and index text."""

    targets: Any
    areas: Any
    recommendation: Any
    sensitivity: Any | None
    hubs: Any | None
    effect: Any | None
    tables: dict[str, Any] = field(default_factory=dict)
    chart: Any = None
    chart_safe: Any = None
    #: Why the campaign evaluation was not run (published on the index: quotes no count), or None.
    skipped: str | None = None

    def layers(self, overlays) -> list:
        """Map layers for the overlays a map asks for (campaign, recommended, hubs)."""
        from .. import maps

        # The published list (re-run on published need), never the analyst's raw picks.
        out = maps.campaign_layers(self.areas, targets=self.targets if "campaign" in overlays else None,
                                   recommendation=self.tables["recommendation"] if "recommended" in overlays else None)
        if "hubs" in overlays and self.hubs is not None:
            out += maps.hub_layers(self.hubs, safe_opts=self.tables.get("_opts", {}))
        return out

    def statements(self) -> list[tuple[str, str]]:
        """(heading, sentence) pairs for the index page."""
        parts = [("Campaign targeting", self.recommendation.published_message(self.tables["recommendation"]))]
        if self.sensitivity is not None:
            parts.append(("Weight sensitivity", self.sensitivity.published_message(self.tables["sensitivity"])))
        if self.hubs is not None:
            parts.append(("Hub rollout", self.hubs.published_message(self.tables["hubs"])))
        if self.effect is not None:
            text = self.effect.published_message(self.tables["campaign_effect"])
            parts.append(("Is the campaign working?", text or "Not shown: the counts it rests on are too small to "
                                                              "publish the estimate."))
        elif self.skipped:
            parts.append(("Is the campaign working?", self.skipped))
        return parts


def plan_pack(cfg: PackConfig, table: Any, cube: Any, inputs: Any, safe_opts: dict, summary: Any) -> PackPlan:
    """Run the planner on the pack's measured unfiltered table (see the module docstring)."""
    from .. import planning

    spec = cfg.planning
    assert spec is not None
    targets = planning.read_targets(spec.campaign, table)
    rec = planning.recommend(table, targets, spec.measure, k=spec.recommend,
                             population_budget=spec.population_budget, contiguous=spec.contiguous)
    sens = planning.weight_sensitivity(table, k=spec.recommend or 10, targets=targets) \
        if spec.measure == "need_index" else None
    effect, skipped = _evaluate(cube, targets)
    hubs = None
    if spec.pilot_hub is not None and inputs.schools is not None:
        existing = planning.read_hubs(spec.pilot_hub)
        demand = inputs.referrals or planning.school_need(inputs.schools, table, spec.measure)
        hubs = planning.plan_hubs(inputs.schools, demand, existing_urns=existing, p=spec.new_hubs,
                                  radius_m=spec.hub_radius_m, capacity=spec.hub_capacity, area=table)
    plan = PackPlan(targets, table, rec, sens, hubs, effect, skipped=skipped)
    plan.tables = _safe_tables(plan, safe_opts, summary)
    return plan


#: The index's words when the evaluation could not be run (the reason itself may quote counts).
NOT_EVALUATED = ("Not evaluated: the monthly counts of this pack cannot support the campaign evaluation (too few "
                 "months either side of the launch, a group with no counts, or a model that could not be fitted). "
                 "The reason was reported when the pack was built.")


def _evaluate(cube: Any, targets: Any) -> tuple[Any, str | None]:
    """The campaign evaluation, or ``(None, why not)`` when the data cannot support it (see the module docstring)."""
    from .. import planning

    launch = getattr(targets, "launch", None)
    if not launch:
        return None, None
    if len(cube.periods()) < 4:
        return None, NOT_EVALUATED
    try:
        return planning.evaluate(cube, targets, launch), None
    except InputError as exc:
        warnings.warn(f"pack: the campaign evaluation was skipped: {exc}", stacklevel=2)
        return None, NOT_EVALUATED


def _safe_tables(plan: PackPlan, safe_opts: dict, summary: Any) -> dict[str, Any]:
    """The planner's tables made safe; area tables hide at least what the summary hides."""
    area_opts = dict(safe_opts, pattern=summary)
    out: dict[str, Any] = {"_opts": safe_opts, "recommendation": plan.recommendation.safe(**area_opts)}
    if plan.sensitivity is not None:
        out["sensitivity"] = plan.sensitivity.safe(**area_opts)
    if plan.hubs is not None:
        out["hubs"] = plan.hubs.safe(**safe_opts)
    if plan.effect is not None:
        from .. import planning

        out["campaign_effect"] = plan.effect.result_safe(**safe_opts)
        monthly = plan.effect.monthly_safe(**safe_opts)
        plan.chart, plan.chart_safe = planning.did_chart(plan.effect, monthly), monthly
    return out
