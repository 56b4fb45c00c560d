"""Planning: where should the campaign go next, where should the next hubs go, and is it working?

Three questions planners ask of the joined, measured area table, one module each:

* :mod:`.targets`: :func:`read_targets`, :func:`coverage`, :func:`rank_untargeted`,
  :func:`recommend` and :func:`weight_sensitivity`, with rank intervals from
  resampling the counts (:mod:`.uncertainty`), so the text says which choices are
  robust and which are coin-flips;
* :mod:`.hubs`: :func:`plan_hubs` sites new hubs with hub capacity inside the model
  (a capacitated maximal covering location problem, :mod:`.covering`), headlines the
  need actually served and keeps the greedy comparison; :func:`school_need`,
  :func:`read_hubs`;
* :mod:`.evaluation`: :func:`evaluate` (a series frame or an AreaCube) and
  :func:`evaluate_reports` (from a reports file): a Poisson event study with area
  and month effects and area-clustered intervals (:mod:`.fepoisson`), a pre-trend
  test, placebo launches and a plain-language verdict; the first release's simple
  :func:`did` and :func:`did_chart` are kept.

Every function takes an :class:`gangmap.table.AreaTable` (or a plain frame via
``as_table``) and uses the words of its geography ("recommended next LSOAs" on an
LSOA table). Results are typed classes whose tables carry declared roles, and whose
``.safe(...)`` passes them through :func:`gangmap.disclosure.make_safe`: the only way
anything reaches a file.

Published figures come from published values (issue 12). The results keep the
analyst's decisions and figures on the raw counts; what ``.safe()`` publishes is
worked out again from the published table through a recipe per figure
(:mod:`.publishing`): the recommendation and the sensitivity ranking re-run their
rule on the need index of the published counts and list only areas whose counts
are shown (:mod:`.ranking`), hub tables add up published demand
(:mod:`.hub_tables`), and the 2x2 ratios use the published totals. Files quote
``published_message(safe)``, never the raw ``message``.

Examples
--------
>>> import gangmap
>>> from gangmap import measures, planning
>>> p = gangmap.demo.paths()  # doctest: +SKIP
>>> table, _ = gangmap.join(p["wards"], reports=p["reports"], referrals=p["referrals"],
...                         schools=p["schools"], population=p["population"])  # doctest: +SKIP
>>> table = measures.need_index(measures.rate(measures.rate(table, "reports", "population"),
...                                           "referrals", "population"))  # doctest: +SKIP
>>> targets = planning.read_targets(p["campaign"], table)  # doctest: +SKIP
>>> print(planning.recommend(table, targets, k=4).message)  # doctest: +SKIP
>>> print(planning.evaluate_reports(p["reports"], targets, areas=table).verdict)  # doctest: +SKIP
"""

from __future__ import annotations

from .evaluation import (  # noqa: F401
    CAVEAT,
    CampaignEffect,
    DiD,
    Estimate,
    did,
    did_chart,
    did_table_safe,
    evaluate,
    evaluate_reports,
)
from .hubs import Gap, GreedyResult, HubPlan, SchoolNeed, plan_hubs, read_hubs, school_need  # noqa: F401
from .series import series_from_reports  # noqa: F401
from .targets import (  # noqa: F401
    CAMPAIGN_KEYS,
    Recommendation,
    Sensitivity,
    Targets,
    coverage,
    rank_untargeted,
    read_targets,
    recommend,
    weight_sensitivity,
)
from .uncertainty import RankUncertainty  # noqa: F401

__all__ = [
    "CAMPAIGN_KEYS", "Targets", "read_targets", "coverage", "rank_untargeted", "Recommendation", "recommend",
    "Sensitivity", "weight_sensitivity", "RankUncertainty",
    "SchoolNeed", "school_need", "Gap", "GreedyResult", "HubPlan", "plan_hubs", "read_hubs",
    "CAVEAT", "Estimate", "CampaignEffect", "evaluate", "evaluate_reports", "series_from_reports",
    "DiD", "did", "did_chart", "did_table_safe",
]
