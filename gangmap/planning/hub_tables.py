"""Published hub tables: need served per hub added up from published demand only.

Why: a hub's need served is a sum of per-school referral counts. The raw sum,
even rounded, next to the schools' own published counts (or the same
referrals counted per ward on a map) is one more equation on the hidden
ones. So what :meth:`gangmap.planning.HubPlan.safe` publishes adds up only
what is published already:

* referrals per school (a count): each school's referrals as
  :meth:`HubPlan.schools_safe` publishes them (rounded; a hidden one counts
  for nothing and is counted in ``schools_hidden`` instead);
* an area measure mapped onto schools (:func:`gangmap.planning.school_need`):
  each school's area's *published* measure, the need index worked out again
  from the area table's published counts (scaled over the shown areas); a
  school in an area whose counts are hidden counts for nothing.

Hub identifiers (URN, name, the school's name) and the numbers of schools in
reach or served are public context: GIAS facts and the plan's own sites.
The sites and the assignment of schools to hubs are the plan itself,
published as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..table import AreaTable, from_frame
from .common import pct, publish
from .publishing import RECIPE, area_inputs, measure_columns, ordinal_rank, published_values, whole

__all__ = ["school_demand", "published_areas", "hub_table", "hub_message", "HUB_CONTEXT"]

#: Public columns of a published hub table (numbers of schools: facts of the plan's sites, not counts of events).
HUB_CONTEXT = ("schools_in_reach", "schools_served", "schools_over_capacity", "schools_hidden")

_WHY_SUM = ("Adds up the published need of the hub's schools (a school whose need is hidden counts for nothing), "
            "so it is a function of values already published and cannot carry a finer count.")


def published_areas(plan: Any, policy: Any, options: dict):
    """The plan's area table made safe with the measure worked out again from its published counts."""
    src = plan.need_table
    base = area_inputs(src, measure_columns(src, plan.need_measure))
    return publish(base, policy=policy, what=f"{src.geography.label} table of the hub demand",
                   **{"hierarchy": None, **options})


def school_demand(plan: Any, policy: Any, options: dict) -> pd.Series | None:
    """Published need of each school of the plan, by URN (NaN where hidden); None when it cannot be published.

    With count demand, the schools' published counts; with an area measure,
    the published measure of each school's area. A Series of need given
    without lineage cannot be published (None: the hub need is withheld).
    """
    urns = plan.assignment["urn"].astype(str)
    if plan.need_is_count:
        safe = plan.schools_safe(policy=policy, **options)
        by_urn = pd.Series(pd.to_numeric(safe.frame["need"], errors="coerce").to_numpy(dtype=float),
                           index=safe.frame["urn"].astype(str).to_numpy())
        return pd.Series(urns.map(by_urn).to_numpy(dtype=float), index=urns.to_numpy())
    if plan.need_table is None or plan.need_measure not in plan.need_table:
        return None
    safe = published_areas(plan, policy, options)
    values = pd.to_numeric(safe.frame[plan.need_measure], errors="coerce").to_numpy(dtype=float) \
        if plan.need_measure in safe.suppressed else np.full(len(safe), np.nan)
    by_area = pd.Series(values, index=safe.codes.astype(str).to_numpy())
    areas = plan.assignment[plan.geography.code].astype("string").fillna("(none)")
    return pd.Series(areas.map(by_area).to_numpy(dtype=float), index=urns.to_numpy())


def _sums(plan: Any, need: pd.Series) -> pd.DataFrame:
    """Per hub (in the order of ``plan.sites``): published need in reach and served, and served schools hidden."""
    a = plan.assignment
    values = need.reindex(a["urn"].astype(str).to_numpy()).to_numpy(dtype=float)
    rows = []
    for u in plan.sites["hub_urn"]:
        served = (a["hub_urn"] == u).fillna(False).to_numpy(dtype=bool)
        inreach = a["urn"].isin(plan.reach.get(u, set())).to_numpy()
        rows.append({"need_in_reach": float(np.nansum(values[inreach])),
                     "need_served": float(np.nansum(values[served])),
                     "schools_hidden": int((served & ~np.isfinite(values)).sum())})
    return pd.DataFrame(rows, columns=["need_in_reach", "need_served", "schools_hidden"])


def _order_recipe(status: np.ndarray, urns: list[str]):
    def published_order(published: AreaTable) -> pd.Series:
        """New hubs ranked by their published need served (ties by URN); existing hubs 0. A rank of published
        values among the shown hubs, so it tells nothing they do not."""
        v = published_values(published, "need_served")
        new = status == "new"
        r = ordinal_rank(np.where(new, v, np.nan), urns)
        return pd.Series(np.where(new, r, np.where(np.isfinite(v), 0.0, np.nan)), index=published.frame.index)

    return published_order


def _share_recipe(total: float):
    def published_share_served(published: AreaTable) -> pd.Series:
        """The hub's published need served as a share of the published need of every school. A ratio of
        published values, so it cannot carry a finer count than they do."""
        v = published_values(published, "need_served")
        return pd.Series(v / total if total > 0 else np.full(len(v), np.nan), index=published.frame.index)

    return published_share_served


def _fixed_recipe(values: np.ndarray, why: str):
    def published_sum(published: AreaTable) -> pd.Series:
        return pd.Series(values, index=published.frame.index)

    published_sum.__doc__ = why
    return published_sum


def hub_table(plan: Any, need: pd.Series | None) -> AreaTable:
    """One row per hub, ready for make_safe, with the need added up from published demand (``need``).

    Count demand: ``need_in_reach`` and ``need_served`` are the **counts** of
    the table (sums of published counts, so the policy leaves them as they
    are); an area measure: the numbers of schools are the counts (a hub with
    few schools has its need hidden) and the need is derived. ``order`` and
    ``share_served`` are derived with recipes on the published values.
    """
    from .hubs import HUB

    t = plan.table().to_frame()
    t.insert(2, "school_name", plan.sites["school_name"].astype(str).to_numpy())
    status = t["status"].astype(str).to_numpy()
    urns = t["hub_urn"].astype(str).tolist()
    if need is None:  # no published demand: the need columns have no recipe and are withheld
        schools = ["schools_in_reach", "schools_served"]
        return from_frame(t, counts=schools, derived={c: schools for c in ("need_in_reach", "need_served")},
                          context=["school_name", "schools_over_capacity"], geography=HUB).with_schema(notes={})
    sums = _sums(plan, need)
    total = float(np.nansum(need.to_numpy(dtype=float)))
    t["schools_hidden"] = sums["schools_hidden"].to_numpy()
    t["share_served"] = sums["need_served"] / total if total > 0 else np.nan
    notes: dict = {"order": {RECIPE: _order_recipe(status, urns)}, "share_served": {RECIPE: _share_recipe(total)}}
    if plan.need_is_count:
        for c in ("need_in_reach", "need_served"):
            t[c] = whole(sums[c].to_numpy())
        counts = ["need_in_reach", "need_served"]
        context = ["school_name", *HUB_CONTEXT]
    else:
        for c in ("need_in_reach", "need_served"):
            t[c] = sums[c].to_numpy()
            notes[c] = {RECIPE: _fixed_recipe(sums[c].to_numpy(), _WHY_SUM)}
        counts = ["schools_in_reach", "schools_served"]
        context = ["school_name", "schools_over_capacity", "schools_hidden"]
    t = t[[c for c in t.columns if c not in ("need_in_reach", "need_served", "share_served", "order")]
          + ["need_in_reach", "need_served", "share_served", "order"]]
    lineage = {c: counts for c in ("need_in_reach", "need_served", "share_served", "order") if c not in counts}
    table = from_frame(t, counts=counts, derived=lineage, context=context, geography=HUB)
    return table.with_schema(notes=notes)


def hub_message(plan: Any, safe: Any) -> str:
    """The headline of a hub plan in the figures of its published table (from :meth:`HubPlan.safe`)."""
    f = safe.frame
    label = plan.need_label
    if "share_served" not in safe.suppressed or bool(safe.suppressed["share_served"].any()) or \
            not np.isfinite(f["share_served"].to_numpy(dtype=float)).all():
        return (f"The {label} the hubs would serve is not shown: it cannot be worked out from published figures "
                "for every hub.")
    status = f["status"].astype(str)
    new, old = f[status == "new"], f[status == "existing"]
    names = ", ".join(f"{r['school_name']} ({r['hub_urn']})" for _, r in new.iterrows()) or "none"
    limit = f"at most {plan.capacity} schools per hub" if plan.capacity is not None else "no capacity limit"
    msg = (f"{len(new)} new hub(s) at {names} would serve about {pct(new['share_served'].sum())} of the {label}, "
           f"the existing hub(s) about {pct(old['share_served'].sum())}: about {pct(f['share_served'].sum())} in "
           f"all ({limit}, within {plan.radius_m / 1000:g} km). From published figures: a school whose {label} "
           "figure is not published counts for nothing.")
    if len(plan.over_capacity):
        msg += f" {len(plan.over_capacity)} school(s) in reach are not served: their hubs are full."
    return msg
