"""Planning: campaign targeting, hub rollout and campaign evaluation."""

from __future__ import annotations

from .core import (  # noqa: F401
    CAMPAIGN_KEYS,
    DiD,
    Gap,
    GreedyResult,
    HubPlan,
    Recommendation,
    Sensitivity,
    Targets,
    coverage,
    did,
    did_chart,
    did_table_safe,
    plan_hubs,
    rank_untargeted,
    read_hubs,
    read_targets,
    recommend,
    school_need,
    weight_sensitivity,
)
