"""Planning: campaign targeting, hub rollout and campaign evaluation."""

from __future__ import annotations

from .core import (  # noqa: F401
    CAMPAIGN_KEYS,
    Targets,
    read_targets,
    coverage,
    rank_untargeted,
    Recommendation,
    recommend,
    Sensitivity,
    weight_sensitivity,
    Gap,
    GreedyResult,
    HubPlan,
    school_need,
    plan_hubs,
    DiD,
    did,
    did_table_safe,
    did_chart,
    read_hubs,
)
