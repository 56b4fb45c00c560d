"""Risk measures over an area table: rates, smoothing, weights, hotspots, need index, funnels."""

from __future__ import annotations

from .core import (  # noqa: F401
    DEFAULT_SEED,
    DEFAULT_INDEX_WEIGHTS,
    LISA_LABELS,
    GI_LABELS,
    FUNNEL_LABELS,
    derived_sources,
    poisson_ci,
    rate,
    excess_risk,
    eb_global,
    eb_spatial,
    weights,
    local_moran,
    getis_ord,
    need_index,
    funnel_limits,
    funnel,
    funnel_plot,
)
