"""Published rankings: the recommendation, the weight sensitivity and the ranked list, from published values.

Why: a ranked list of areas is a derived figure of their counts. Listed in
the order of the raw values, a hidden area between two shown ones has its
value bounded by theirs; ranked by a need index scaled over every area, the
hidden ones included, it pins hidden counts (issue 12). So the published
tables of :func:`gangmap.planning.recommend`, :func:`weight_sensitivity` and
:func:`rank_untargeted` are not the analyst's tables with cells blanked:
every figure in them is worked out again from the published table alone.

* **need** is the measure recomputed on the published counts (the disclosure
  policy does it with :func:`gangmap.measures.recompute`: rates from the
  rounded counts, a need index scaled over the shown areas only);
* the **rule** (the greedy choice, the top ``k``, the weight scenarios) is
  re-run on those published values; an area whose count is hidden has no
  published need and is never a candidate, so it is never listed;
* **rank intervals and shares** come from resampling the *published* counts
  (Poisson, the same seed), and the shares are rounded down to 10%, so a
  share's label (robust at 90% or more, coin-flip under 70%) is the same
  read from the shown share or the unrounded one
  (:func:`.publishing.coarse_share`);
* the list is cut from the published table with
  :meth:`gangmap.disclosure.SafeTable.ranked`: only rows whose figure is
  shown, ordered by published values (ties by area code), no totals.

The analyst's results on the raw counts are left as they were, so the
published list can differ from them at the margins (a coin-flip choice, an
area whose counts are too small to publish); the published message says that
it is worked out from the published figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import GangmapError, InputError, SchemaError
from ..table import AreaTable
from .publishing import (
    Computed,
    area_inputs,
    coarse_share,
    measure_columns,
    ordinal_rank,
    published_values,
    recipe,
    whole,
    with_recipes,
)
from .selection import Selection, select
from .uncertainty import ROBUST, CannotResample, RankUncertainty, index_draws, rank_rows, resample_selection, robustness

__all__ = ["RecommendSpec", "recommendation_table", "SensitivitySpec", "sensitivity_table", "ranking_recipes",
           "RANKED_BY"]

#: The published column a ranked planning table is ordered by (ascending), per kind of table.
RANKED_BY = {"recommendation": "rank", "contiguous": "step", "sensitivity": "base_rank", "ranking": "rank"}

_FROM_PUBLISHED = ("It reads only the published table (rounded counts, hidden and no-data counts left out, the "
                   "public population), the published measure and the rule's public settings, so it is a "
                   "function of what the table already shows and cannot carry a finer count.")


def _by_code(frame: pd.DataFrame, code: str, codes: pd.Series, column: str, dtype: Any = float) -> Any:
    """``frame[column]`` (rows keyed by ``code``) aligned with ``codes``; missing rows NaN (None for text)."""
    s = pd.Series(frame[column].astype(object).to_numpy(), index=frame[code].astype(str).to_numpy())
    s = s.reindex(codes.astype(str).to_numpy())
    if dtype is object:
        return s.where(s.notna(), None).to_numpy()
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


# =========================================================================== the recommendation
@dataclass(frozen=True)
class RecommendSpec:
    """What :func:`gangmap.planning.recommend` needs to run its rule again on published values.

    Every field is public: the area table's layout, the targets (through
    ``selection.targeted``), the population, the neighbours and the settings.
    """

    source: AreaTable
    measure: str
    selection: Selection
    draws: int
    seed: int
    components: Mapping | None
    contiguous: bool
    budget: bool


_REC_WHY = {
    "need": "The measure worked out again from the published counts (a need index scaled over the shown areas).",
    "need_per_1000": "The published need per 1,000 of the public population.",
    "share": "The published need as a share of the published need of every shown area.",
    "coverage_after": "Coverage of the published need by the targets and every listed area up to this one.",
    "rank": "Rank of the published need (per person under a budget) among the shown candidates.",
    "step": "The step at which the rule, re-run on the published need, takes the area.",
    "rank_lo": "Lower end of the 95% interval of the rank over resamples of the published counts.",
    "rank_hi": "Upper end of the 95% interval of the rank over resamples of the published counts.",
    "chosen_share": "Share of resamples of the published counts in which the rule takes the area, rounded down to "
                    "10%.",
    "robustness": "robust (90% or more) / likely / coin-flip (under 70%), from the published share (rounded "
                  "down, so the same as from the unrounded share).",
    "touches": "The targeted or listed areas it borders (public boundaries), from the published choice.",
    "reason": "Why the rule, re-run on the published need, takes it.",
}


def _recommend_published(spec: RecommendSpec, pub: AreaTable) -> pd.DataFrame:
    """The greedy rule of :mod:`.selection` re-run on the published need (every recommendation column)."""
    n = len(pub)
    v = published_values(pub, spec.measure)
    sel0 = spec.selection
    total = float(np.nansum(v))
    out = pd.DataFrame({c: np.full(n, np.nan) for c in ("need", "need_per_1000", "share", "coverage_after", "rank",
                                                         "step", "rank_lo", "rank_hi", "chosen_share")})
    out["robustness"] = out["touches"] = out["reason"] = pd.Series([None] * n, dtype=object)
    if not total > 0:
        return out
    sel = replace(sel0, candidates=~sel0.targeted & np.isfinite(v),
                  before=float(np.nansum(v[sel0.targeted]) / total))
    picks = select(sel, v)
    rows = [p.row for p in picks]
    if not rows:
        return out
    out.loc[rows, "need"] = v[rows]
    if sel.population is not None:
        out.loc[rows, "need_per_1000"] = v[rows] / sel.population[rows] * 1000
    out.loc[rows, "share"] = v[rows] / total
    out.loc[rows, "coverage_after"] = sel.before + np.cumsum(v[rows] / total)
    out.loc[rows, "rank"] = rank_rows(sel.scores(v))[0][rows]
    out.loc[rows, "step"] = np.arange(1, len(rows) + 1)
    out.loc[rows, "touches"] = [p.touches for p in picks]
    out.loc[rows, "reason"] = [p.reason for p in picks]
    if spec.draws:
        _resampled_choice(spec, pub, sel, rows, out)
    return out


def _resampled_choice(spec: RecommendSpec, pub: AreaTable, sel: Selection, rows: list, out: pd.DataFrame) -> None:
    """Rank intervals and shares of the rule re-run on resamples of the published counts."""
    unc = resample_selection(pub, spec.measure, sel, draws=spec.draws, seed=spec.seed, components=spec.components,
                             notes=[])
    if unc is None:
        return
    lo, hi = unc.interval()
    share = coarse_share(unc.chosen_share()[rows])
    out.loc[rows, "rank_lo"], out.loc[rows, "rank_hi"] = lo[rows], hi[rows]
    out.loc[rows, "chosen_share"] = share
    out.loc[rows, "robustness"] = [robustness(s) for s in share]


def _recommend_raw(rec: Any, spec: RecommendSpec, columns: Sequence[str]) -> dict[str, Any]:
    """The analyst's values of the recommendation, one per area (what an unsafe policy passes through)."""
    src = spec.source
    code = src.geography.code
    frame = rec.areas.frame.assign(step=rec.areas["order"]) if "order" in rec.areas else rec.areas.frame
    if "rank" not in frame:
        v = pd.to_numeric(src[spec.measure], errors="coerce").to_numpy(dtype=float)
        ranks = pd.Series(rank_rows(spec.selection.scores(v))[0], index=src.codes.astype(str).to_numpy())
        frame = frame.assign(rank=frame[code].astype(str).map(ranks).to_numpy())
    out: dict[str, Any] = {}
    for c in columns:
        if c in ("robustness", "touches", "reason"):
            out[c] = _by_code(frame, code, src.codes, c, object)
        elif c in ("rank", "step", "rank_lo", "rank_hi"):
            out[c] = whole(_by_code(frame, code, src.codes, c))
        else:
            out[c] = _by_code(frame, code, src.codes, c)
    return out


def recommendation_table(rec: Any, spec: RecommendSpec) -> AreaTable:
    """Every area, with the recommendation's columns (analyst's values) and recipes that work them out again.

    The disclosure policy publishes the recipes' values: the rule re-run on the
    published need (see the module docstring). Rows not chosen there are
    empty and are left out by :meth:`SafeTable.ranked`.
    """
    src = spec.source
    base = area_inputs(src, measure_columns(src, spec.measure))
    cols = ["need"] + (["need_per_1000"] if spec.budget else []) + ["share", "coverage_after", "rank"]
    cols += ["step"] if spec.contiguous else []
    cols += ["rank_lo", "rank_hi", "chosen_share", "robustness"] if "chosen_share" in rec.areas else []
    cols += ["touches"] if spec.contiguous else []
    cols += ["reason"]
    raw = _recommend_raw(rec, spec, cols)
    keys = [*base.counts, *base.context, spec.measure]
    computed = Computed(lambda pub: _recommend_published(spec, pub), keys)
    recipes = {c: recipe(computed, c, f"{_REC_WHY[c]} {_FROM_PUBLISHED}") for c in cols}
    return with_recipes(base, raw, recipes, sources=base.schema.expand([spec.measure]))


# =========================================================================== weight sensitivity
@dataclass(frozen=True)
class SensitivitySpec:
    """What :func:`gangmap.planning.weight_sensitivity` needs to rank again on published values (all public)."""

    source: AreaTable
    components: Mapping[str, float]
    delta: float
    k: int
    method: str
    eligible: np.ndarray
    draws: int
    seed: int


def _published_index(pub: AreaTable, weights: Mapping[str, float], method: str) -> np.ndarray:
    """The need index with ``weights`` on the published components (scaled over the shown areas only)."""
    from ..measures import need_index

    code = pub.geography.code
    frame = pd.DataFrame({code: pub.codes.astype(str).to_numpy(),
                          **{c: published_values(pub, c) for c in weights}})
    try:
        out = need_index(frame, dict(weights), method=method, name="_gm_published")
    except InputError:  # no area has every component published
        return np.full(len(pub), np.nan)
    return np.asarray(out["_gm_published"], dtype=float)


def _ranks(idx: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    return rank_rows(np.where(eligible & np.isfinite(idx), idx, -np.inf))[0]


def _sensitivity_published(spec: SensitivitySpec, pub: AreaTable) -> pd.DataFrame:
    """Ranks at the base weights, under each ±delta scenario and over resamples, all from published values."""
    comps, k = dict(spec.components), spec.k
    idx = _published_index(pub, comps, spec.method)
    base = _ranks(idx, spec.eligible)
    scen = []
    for comp in comps:
        for sign in (+1, -1):
            scen.append(_ranks(_published_index(pub, {**comps, comp: comps[comp] * (1 + sign * spec.delta)},
                                                spec.method), spec.eligible))
    R = np.vstack(scen)
    ok = np.isfinite(base)
    allr = np.vstack([base[None, :], R])
    out = pd.DataFrame({"need": np.where(ok, idx, np.nan), "base_rank": base,
                        "best_rank": np.where(ok, np.where(np.isfinite(allr), allr, np.inf).min(axis=0), np.nan),
                        "worst_rank": np.where(ok, np.where(np.isfinite(allr), allr, -np.inf).max(axis=0), np.nan)})
    out["rank_spread"] = out["worst_rank"] - out["best_rank"]
    runs = (np.nan_to_num(R, nan=np.inf) <= k).sum(axis=0)
    out["top_k_runs"] = np.where(ok, runs, np.nan)
    top = ok & (base <= k)
    out["in_top_k"] = pd.Series(np.where(ok, top, None), dtype=object)
    out["stable"] = pd.Series(np.where(ok, top & (runs == len(R)), None), dtype=object)
    unc = _published_draws(spec, pub, ok)
    if unc is not None:
        lo, hi = unc.interval()
        share = coarse_share(unc.top_share(k))
        out["rank_lo"], out["rank_hi"] = np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)
        out["top_k_share"] = np.where(ok, share, np.nan)
        out["robust"] = pd.Series(np.where(ok, top & (runs == len(R)) & (share >= ROBUST), None), dtype=object)
    return out


def _published_draws(spec: SensitivitySpec, pub: AreaTable, ok: np.ndarray) -> RankUncertainty | None:
    if not spec.draws:
        return None
    try:
        values = index_draws(pub, spec.components, method=spec.method, draws=spec.draws, seed=spec.seed)
    except (CannotResample, SchemaError, InputError):
        return None
    ranks = rank_rows(np.where(spec.eligible[None, :] & ok[None, :] & np.isfinite(values), values, -np.inf))
    return RankUncertainty(codes=tuple(pub.codes.astype(str)), base_rank=np.full(len(pub), np.nan), ranks=ranks,
                           chosen=None, draws=spec.draws, seed=spec.seed)


_SENS_WHY = {
    "need": "The need index at the base weights on the published components (scaled over the shown areas).",
    "base_rank": "Rank of the published need among the shown candidates.",
    "best_rank": "Best rank over the base and every ±delta weight scenario, on published values.",
    "worst_rank": "Worst rank over the base and every ±delta weight scenario, on published values.",
    "rank_spread": "worst_rank - best_rank.",
    "top_k_runs": "Weight scenarios with the area in the top k, on published values.",
    "in_top_k": "In the top k at the base weights, on published values.",
    "stable": "In the top k at the base weights and in every scenario, on published values.",
    "rank_lo": "Lower end of the 95% rank interval over resamples of the published counts.",
    "rank_hi": "Upper end of the 95% rank interval over resamples of the published counts.",
    "top_k_share": "Share of resamples of the published counts with the area in the top k, rounded down to 10%.",
    "robust": "stable, and in the top k in at least 90% of the resamples (published share).",
}


def sensitivity_table(sens: Any, spec: SensitivitySpec) -> AreaTable:
    """Every area, with the sensitivity columns (analyst's values) and recipes that rank again on published values."""
    src = spec.source
    chain: list[str] = []
    for c in spec.components:
        chain += [x for x in measure_columns(src, c) if x not in chain]
    base = area_inputs(src, [c for c in src.columns if c in chain])
    cols = [c for c in _SENS_WHY if c in sens.areas]
    frame = sens.areas.frame
    code = src.geography.code
    raw: dict[str, Any] = {}
    for c in cols:
        if c in ("in_top_k", "stable", "robust"):
            raw[c] = _by_code(frame, code, src.codes, c, object)
        elif c in ("need", "top_k_share"):
            raw[c] = _by_code(frame, code, src.codes, c)
        else:
            raw[c] = whole(_by_code(frame, code, src.codes, c))
    computed = Computed(lambda pub: _sensitivity_published(spec, pub), [*base.counts, *base.context, *spec.components])
    recipes = {c: recipe(computed, c, f"{_SENS_WHY[c]} {_FROM_PUBLISHED}") for c in cols}
    return with_recipes(base, raw, recipes, sources=base.schema.expand(list(spec.components)))


# =========================================================================== the ranked list
def _coverage_withheld(published: AreaTable) -> pd.Series:
    """coverage_if_added is not published: it needs the need of the targeted areas, which a ranked list of the
    untargeted ones does not hold. Publish ``planning.recommend(...).safe()`` for coverage."""
    raise GangmapError("coverage_if_added needs the need of the targeted areas, which this list does not hold; "
                       "publish planning.recommend(...).safe() for coverage")


def _ranking_published(measure: str, pub: AreaTable) -> pd.DataFrame:
    v = published_values(pub, measure)
    total = float(np.nansum(v))
    return pd.DataFrame({"rank": ordinal_rank(v, pub.codes.astype(str).tolist()), "need": v,
                         "share": v / total if total > 0 else np.full(len(v), np.nan)})


def ranking_recipes(measure: str, keys: Sequence[str]) -> dict[str, Any]:
    """Recipes of the columns of :func:`gangmap.planning.rank_untargeted`, over the listed areas only.

    ``need`` is the published measure (recomputed by the disclosure policy over
    the listed areas' published counts), ``rank`` its rank among the shown
    rows (ties by code), ``share`` its share of the listed areas' published
    need; ``coverage_if_added`` is withheld.
    """
    computed = Computed(lambda pub: _ranking_published(measure, pub), [*keys, measure])
    why = {"rank": "Rank of the published need among the shown listed areas (ties by code).",
           "need": "The published measure.",
           "share": "The published need as a share of the published need of the shown listed areas."}
    out: dict[str, Any] = {c: recipe(computed, c, f"{w} {_FROM_PUBLISHED}") for c, w in why.items()}
    out["coverage_if_added"] = _coverage_withheld
    return out
