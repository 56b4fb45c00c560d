"""Risk measures over an area table: rates, smoothing, weights, hotspots, need index, funnels, time.

Every measure is a pure function over a table and the *names* of its
columns, so the same function works for ``reports``, ``referrals`` or any
other count, and for wards, LSOAs or any other geography:

* given an :class:`~gangmap.table.AreaTable` it returns a new AreaTable with
  the new columns declared *derived* (their sources expanded to raw counts
  through the schema, so the disclosure policy hides a derived value wherever
  its count is hidden) and a note per column,
  ``{"measure": NAME, "base": COLUMN, ...settings}``, from which
  :func:`recompute` can re-run it on other (e.g. safe, rounded) values;
* given a plain (Geo)DataFrame it returns a plain copy with the new columns
  (no lineage, no attrs);
* it never changes its input, and bad input raises
  :class:`~gangmap.errors.InputError` naming the column, the areas and the fix.

The modules, by concern:

========================  =====================================================
:mod:`.checks`            input checks, result assembly (shared)
:mod:`.rates`             :func:`rate`, :func:`poisson_ci`
:mod:`.smoothing`         :func:`excess_risk`, :func:`eb_global`, :func:`eb_spatial`
:mod:`.weights`           :class:`Weights`, :func:`weights`
:mod:`.inference`         permutation p-values, FDR, the permutation floor
:mod:`.hotspots`          :func:`local_moran`, :func:`getis_ord`
:mod:`.need`              :func:`need_index`
:mod:`.funnel`            :func:`funnel`, :func:`funnel_limits`, :func:`funnel_plot`
:mod:`.series`            series frames: quarters, rates, trends, county chart
:mod:`.ehsa`              :func:`emerging_hotspots`, :func:`space_time_cube`
:mod:`.registry`          :data:`REGISTRY`, :func:`ensure`, :func:`available`, ...
========================  =====================================================

Only scipy.stats loads with this package; esda, libpysal and matplotlib load
inside the functions that need them.
"""

from __future__ import annotations

from .checks import PermutationFloorWarning, derived_sources
from .ehsa import EHSA_LABELS, SpaceTimeCube, classify_ehsa, emerging_hotspots, space_time_cube
from .funnel import FUNNEL_LABELS, funnel, funnel_limits, funnel_plot, poisson_limits
from .hotspots import DEFAULT_SEED, GI_LABELS, LISA_LABELS, getis_ord, local_moran
from .need import DEFAULT_INDEX_WEIGHTS, need_index
from .rates import poisson_ci, rate
from .registry import (
    REGISTRY,
    Measure,
    MissingInput,
    available,
    categories,
    ensure,
    ensure_all,
    is_categorical,
    recompute,
    recompute_all,
    title,
)
from .series import (
    TREND_LABELS,
    CountyTrend,
    MannKendall,
    PoissonTrend,
    area_trend,
    county_series,
    county_trend,
    mann_kendall,
    poisson_trend,
    published_totals,
    sens_slope,
    series_rates,
    to_quarters,
    trend,
    trend_chart,
)
from .smoothing import eb_global, eb_spatial, excess_risk
from .weights import Weights, as_weights, weights

__all__ = [
    # rates and smoothing
    "rate", "poisson_ci", "excess_risk", "eb_global", "eb_spatial",
    # weights and hotspots
    "Weights", "weights", "as_weights", "local_moran", "getis_ord", "DEFAULT_SEED", "LISA_LABELS", "GI_LABELS",
    "PermutationFloorWarning",
    # need index and funnels
    "need_index", "DEFAULT_INDEX_WEIGHTS", "funnel", "funnel_limits", "funnel_plot", "poisson_limits",
    "FUNNEL_LABELS",
    # time
    "to_quarters", "series_rates", "county_series", "mann_kendall", "sens_slope", "poisson_trend", "trend",
    "county_trend", "trend_chart", "published_totals", "area_trend", "MannKendall", "PoissonTrend",
    "CountyTrend", "TREND_LABELS",
    "emerging_hotspots", "space_time_cube", "classify_ehsa", "SpaceTimeCube", "EHSA_LABELS",
    # registry
    "REGISTRY", "Measure", "MissingInput", "ensure", "ensure_all", "available", "title", "recompute", "recompute_all",
    "is_categorical", "categories", "derived_sources",
]
