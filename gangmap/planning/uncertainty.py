"""Rank uncertainty: how much a ranking of areas moves when the counts behind it move.

Why: a need index built from a few reports per area ranks areas whose counts
differ by chance. "6 of 6 stable under weight changes" says nothing about
that; resampling the counts does. An independent check of the demo found its
6th-ranked ward in the top 6 in only 61% of resamples.

Method (a parametric bootstrap)
-------------------------------
* Every raw count behind the measure is redrawn, independently per area,
  from a Poisson distribution whose mean is the observed count (``draws``
  times, from ``seed``). A missing count (no data) stays missing. A count of
  0 always redraws as 0: the plug-in bootstrap cannot know how far a zero
  could rise, so intervals for areas with zero counts are too narrow.
* The measure is recomputed from the redrawn counts:

  - a count column: the redrawn count;
  - a rate (a derived column with one source count whose schema note says
    ``measure="rate"``, or named ``*_rate`` without a note): the rate scales
    with its count (``rate * draw / count``), since the denominator is public;
  - a need index (note ``measure="need_index"``, or the column
    ``need_index``): its components are redrawn as above and the index is
    recomputed with :func:`gangmap.measures.need_index`, with the weights and
    method of its note (else ``components`` and min-max);
  - anything else (smoothed rates, hotspot labels) cannot be redrawn this
    way: the caller gets a note instead of intervals.
* The same rule (a top-k ranking, or the full greedy rule of
  :func:`gangmap.planning.recommend`) is re-run on every draw. A choice is
  **robust** when it is made in at least 90% of the draws
  (:data:`ROBUST`), a **coin-flip** below 70% (:data:`COIN_FLIP`), and
  **likely** between.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..table import AreaTable

#: Resamples of the counts behind a ranking, by default.
DEFAULT_DRAWS = 200
#: Seed of the resampling, so the same inputs give the same intervals every run.
DEFAULT_SEED = 20180301
#: A choice made in at least this share of the resamples is "robust".
ROBUST = 0.9
#: A choice made in less than this share of the resamples is a "coin-flip".
COIN_FLIP = 0.7


class CannotResample(InputError):
    """The measure cannot be recomputed from redrawn counts (see the module docstring)."""


def robustness(share: float) -> str:
    """``"robust"`` (>= 90%), ``"likely"`` or ``"coin-flip"`` (< 70%)."""
    if not np.isfinite(share):
        return ""
    return "robust" if share >= ROBUST else "coin-flip" if share < COIN_FLIP else "likely"


def _values(table: AreaTable, column: str) -> np.ndarray:
    return pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)


def count_draws(table: AreaTable, counts: Sequence[str], draws: int, seed: int) -> dict[str, np.ndarray]:
    """``{count column: (draws, areas) array}`` of Poisson redraws (NaN stays NaN)."""
    rng = np.random.default_rng(seed)
    out = {}
    for c in sorted(set(counts)):
        lam = _values(table, c)
        ok = np.isfinite(lam) & (lam >= 0)
        d = rng.poisson(np.where(ok, lam, 0.0), size=(draws, len(lam))).astype(float)
        out[c] = np.where(ok, d, np.nan)
    return out


def _index_draws(table, column, note, cache, components, draws) -> np.ndarray:
    from ..measures import DEFAULT_INDEX_WEIGHTS

    weights = dict(note.get("weights") or note.get("components") or components or DEFAULT_INDEX_WEIGHTS)
    missing = [c for c in weights if c not in table]
    if missing:
        raise CannotResample(f"the components {missing} of {column!r} are not in the table; pass components=")
    return _index_from(table, weights, note.get("method", "minmax"), cache, draws)


def _index_from(table: AreaTable, weights: Mapping, method: str, cache: dict, draws: int) -> np.ndarray:
    from ..measures import need_index

    comp = {c: column_draws(table, c, cache, components=None, draws=draws) for c in weights}
    out = np.empty((draws, len(table)))
    code = table.geography.code
    for d in range(draws):
        frame = pd.DataFrame({code: table.codes.to_numpy(), **{c: comp[c][d] for c in weights}})
        out[d] = np.asarray(need_index(frame, weights, method=method, name="_gm_draw")["_gm_draw"], dtype=float)
    return out


def column_draws(table: AreaTable, column: str, cache: dict, *, components: Mapping | None, draws: int) -> np.ndarray:
    """``(draws, areas)`` values of ``column`` recomputed from the redrawn counts in ``cache``."""
    schema = table.schema
    role = schema.role(column)
    if role == "count":
        return cache[column]
    if role is None:
        raise CannotResample(f"the role of {column!r} is not declared, so the counts behind it are unknown "
                             "(declare them: gangmap.table.from_frame(df, counts=..., derived=...))")
    if role != "derived":  # public context: no sampling error
        return np.tile(_values(table, column), (draws, 1))
    note = dict(schema.notes.get(column, {}))
    kind = note.get("measure")
    if kind == "need_index" or (kind is None and (column == "need_index" or components)):
        return _index_draws(table, column, note, cache, components, draws)
    srcs = schema.derived[column]
    if len(srcs) == 1 and (kind == "rate" or (kind is None and column.endswith("_rate"))):
        base, cnt = _values(table, column), _values(table, srcs[0])
        per_event = np.where(cnt > 0, base / np.where(cnt > 0, cnt, 1.0), 0.0)
        return cache[srcs[0]] * np.where(np.isfinite(base), per_event, np.nan)
    raise CannotResample(f"{column!r} ({kind or 'a derived column'}) cannot be recomputed from redrawn counts; "
                         "rank intervals need a count, a rate or a need index")


def measure_draws(table: AreaTable, measure: str, *, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
                  components: Mapping | None = None) -> np.ndarray:
    """``(draws, areas)`` values of ``measure`` recomputed from Poisson redraws of its counts.

    Raises :class:`CannotResample` when the measure's counts are unknown or it
    is not a count, a rate or a need index.
    """
    srcs = table.schema.sources_of(measure)
    if srcs is None:
        raise CannotResample(f"the role of {measure!r} is not declared, so the counts behind it are unknown "
                             "(declare them: gangmap.table.from_frame(df, counts=..., derived=...))")
    cache = count_draws(table, srcs, draws, seed)
    return column_draws(table, measure, cache, components=components, draws=draws)


def index_draws(table: AreaTable, weights: Mapping[str, float], *, method: str = "minmax",
                draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> np.ndarray:
    """``(draws, areas)`` need index with ``weights``, recomputed from Poisson redraws of its counts."""
    srcs = table.schema.expand(list(weights), what="the need index")
    return _index_from(table, weights, method, count_draws(table, srcs, draws, seed), draws)


def rank_rows(scores: np.ndarray) -> np.ndarray:
    """Ranks (1 = highest, ties share the better rank) of each row of ``scores``; NaN where -inf/NaN."""
    from scipy.stats import rankdata

    s = np.atleast_2d(np.asarray(scores, dtype=float))
    ok = np.isfinite(s)
    r = rankdata(np.where(ok, -s, np.inf), axis=1, method="min").astype(float)
    return np.where(ok, r, np.nan)


def _whole(a: np.ndarray):
    """Ranks as whole numbers (NA where an area was never ranked)."""
    return pd.array([int(x) if np.isfinite(x) else pd.NA for x in a], dtype="Int64")


@dataclass(frozen=True)
class RankUncertainty:
    """Ranks of the areas over resamples of the counts (see the module docstring).

    Attributes
    ----------
    codes : tuple of str
        Area codes, in table order (every area; ineligible ones have NaN ranks).
    base_rank : ndarray
        Rank from the observed counts.
    ranks : ndarray
        ``(draws, areas)`` ranks over the draws.
    chosen : ndarray or None
        ``(draws, areas)``: chosen by the rule in that draw.
    draws, seed : int
    model : str
        ``"poisson"``: the parametric bootstrap used.
    """

    codes: tuple
    base_rank: np.ndarray
    ranks: np.ndarray
    chosen: np.ndarray | None
    draws: int
    seed: int
    model: str = "poisson"

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper rank of the central ``level`` share of the draws (NaN for unranked areas)."""
        a = (1 - level) / 2
        with warnings.catch_warnings():  # areas never ranked (targeted, no value): NaN, not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            lo = np.nanquantile(self.ranks, a, axis=0, method="lower")
            hi = np.nanquantile(self.ranks, 1 - a, axis=0, method="higher")
        return lo, hi

    def top_share(self, k: int) -> np.ndarray:
        """Share of the draws in which each area ranks in the top ``k``."""
        return (np.nan_to_num(self.ranks, nan=np.inf) <= k).mean(axis=0)

    def chosen_share(self) -> np.ndarray:
        """Share of the draws in which the rule chose each area (top-k share without a rule)."""
        if self.chosen is None:
            raise InputError("these rank draws were made without a selection rule; use top_share(k).")
        return self.chosen.mean(axis=0)

    def for_rows(self, rows: Sequence[int], *, k: int) -> pd.DataFrame:
        """``rank``, ``rank_lo``, ``rank_hi``, ``chosen_share`` and ``robustness`` of ``rows``, in that order."""
        rows = list(rows)
        lo, hi = self.interval()
        share = self.chosen_share() if self.chosen is not None else self.top_share(k)
        return pd.DataFrame({"rank": _whole(self.base_rank[rows]), "rank_lo": _whole(lo[rows]),
                             "rank_hi": _whole(hi[rows]),
                             "chosen_share": share[rows],
                             "robustness": [robustness(s) for s in share[rows]]})

    def contenders(self, exclude: Sequence[int], *, k: int, min_share: float = 0.2) -> list[tuple[int, float]]:
        """Rows not in ``exclude`` chosen (or in the top k) in at least ``min_share`` of the draws, most first."""
        share = self.chosen_share() if self.chosen is not None else self.top_share(k)
        rows = [i for i in np.argsort(-share, kind="stable") if i not in set(exclude) and share[i] >= min_share]
        return [(int(i), float(share[i])) for i in rows]


def describe_choices(names: Sequence[str], shares: Sequence[float], draws: int,
                     contenders: Sequence[tuple[str, float]] = (), *, what: str = "chosen") -> str:
    """Which choices are robust, likely or coin-flips, in words.

    Examples
    --------
    >>> for part in describe_choices(["A", "B", "C"], [1.0, 0.8, 0.61], 200, [("D", 0.3)]).split("; "):
    ...     print(part)
    over 200 resamples of the counts, robust (chosen in at least 90%): A (100%)
    likely: B (80%)
    coin-flips (chosen in under 70%): C (61%)
    next closest: D (30%)
    """
    shares = np.asarray(shares, dtype=float)
    groups: dict[str, list[str]] = {"robust": [], "likely": [], "coin-flip": []}
    for n, s in zip(names, shares):
        groups[robustness(s) or "coin-flip"].append(f"{n} ({100 * s:.0f}%)")
    parts = []
    if groups["robust"]:
        parts.append(f"robust ({what} in at least {100 * ROBUST:.0f}%): {', '.join(groups['robust'])}")
    if groups["likely"]:
        parts.append(f"likely: {', '.join(groups['likely'])}")
    if groups["coin-flip"]:
        parts.append(f"coin-flips ({what} in under {100 * COIN_FLIP:.0f}%): {', '.join(groups['coin-flip'])}")
    text = f"over {draws} resamples of the counts, " + "; ".join(parts)
    if contenders:
        text += "; next closest: " + ", ".join(f"{n} ({100 * s:.0f}%)" for n, s in contenders)
    return text


def resample_selection(table: AreaTable, measure: str, sel: Any, *, draws: int, seed: int,
                       components: Mapping | None, notes: list) -> RankUncertainty | None:
    """Re-run the greedy rule of :mod:`.selection` on ``draws`` redraws of the counts.

    Returns None (with a note saying why) when the measure cannot be redrawn.
    """
    from .selection import select

    try:
        values = measure_draws(table, measure, draws=draws, seed=seed, components=components)
    except CannotResample as exc:
        notes.append(f"no rank intervals: {exc}")
        return None
    n = len(table)
    chosen = np.zeros((draws, n), dtype=bool)
    scores = np.empty((draws, n))
    for d in range(draws):
        scores[d] = sel.scores(values[d])
        picked = [p.row for p in select(sel, values[d], explain=False)]
        chosen[d, picked] = True
    base = rank_rows(sel.scores(pd.to_numeric(table[measure], errors="coerce").to_numpy(dtype=float)))[0]
    return RankUncertainty(codes=tuple(table.codes.astype(str)), base_rank=base, ranks=rank_rows(scores),
                           chosen=chosen, draws=int(draws), seed=int(seed))


def resample_ranks(table: AreaTable, measure: str, eligible: np.ndarray, *, draws: int, seed: int,
                   components: Mapping | None = None) -> RankUncertainty:
    """Ranks of the ``eligible`` areas by ``measure`` over ``draws`` redraws of the counts (no rule)."""
    values = measure_draws(table, measure, draws=draws, seed=seed, components=components)
    scores = np.where(eligible[None, :], values, -np.inf)
    base_vals = np.where(eligible, pd.to_numeric(table[measure], errors="coerce").to_numpy(dtype=float), -np.inf)
    return RankUncertainty(codes=tuple(table.codes.astype(str)), base_rank=rank_rows(base_vals)[0],
                           ranks=rank_rows(scores), chosen=None, draws=int(draws), seed=int(seed))
