"""Risk measures over an area table: rates, smoothing, weights, hotspots, need index, funnels."""

from __future__ import annotations

from .core import (  # noqa: F401
    DEFAULT_INDEX_WEIGHTS,
    DEFAULT_SEED,
    FUNNEL_LABELS,
    GI_LABELS,
    LISA_LABELS,
    derived_sources,
    eb_global,
    eb_spatial,
    excess_risk,
    funnel,
    funnel_limits,
    funnel_plot,
    getis_ord,
    local_moran,
    need_index,
    poisson_ci,
    rate,
    weights,
)
