"""Permutation inference and false discovery rate, shared by every hotspot measure.

Why its own module? Local Moran, Gi* and the per-period Gi* of the emerging
hotspot analysis all decide "significant or not" the same way, and two
subtleties must be handled once:

* **Ties.** A pseudo p-value counts the simulated statistics at least as
  extreme as the observed one. esda folds the count, so an area whose
  statistic ties with the bulk of its reference distribution (zeros all
  around) looks extreme (p = 0.001). :func:`pseudo_p` counts ties in both
  tails, so it does not.
* **The permutation floor.** With ``P`` permutations no p-value can be below
  ``1/(P+1)`` (directed) or ``2/(P+1)`` (two-sided). Benjamini-Hochberg
  compares the k-th smallest p-value with ``k alpha / m``; when the floor is
  above ``alpha / m`` an area can pass only in the company of enough other
  areas stuck at the floor, so the *number of ties at the floor*, an artefact
  of ``P``, decides significance (with 999 permutations six real wards
  passed at p = 0.002 and none with 9,999). :func:`refine_floor` re-tests
  the areas at the floor with enough permutations to put the floor below
  ``alpha / m`` (up to a cap) and :func:`floor_binds` says when even that
  was not enough, so the caller warns.

The extra permutations are drawn here with numpy (conditional randomisation:
the area keeps its value, its neighbours are drawn without replacement from
the other areas), seeded from the caller's seed, so results repeat.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import GangmapError
from .checks import PermutationFloorWarning

__all__ = ["bh_threshold", "pseudo_p", "check_hotspot_args", "smallest_p", "floor_binds", "needed_permutations",
           "refine_floor", "sample_without_replacement", "QuietRandom", "Significance", "significance", "decide",
           "lag_simulator", "MAX_PERMUTATIONS"]

#: Most permutations :func:`refine_floor` will draw for an area at the floor.
MAX_PERMUTATIONS = 99_999


def bh_threshold(p: np.ndarray, alpha: float) -> float:
    """Benjamini-Hochberg: the largest p-value cut-off controlling the FDR at ``alpha``
    (0.0 when nothing can be declared significant)."""
    p = np.sort(np.asarray(p, dtype=float))
    n = len(p)
    if n == 0:
        return 0.0
    ok = np.nonzero(p <= alpha * np.arange(1, n + 1) / n)[0]
    return float(p[ok[-1]]) if len(ok) else 0.0


def pseudo_p(observed: np.ndarray, sims: np.ndarray, alternative: str) -> tuple[np.ndarray, np.ndarray]:
    """Permutation pseudo p-values with ties counted in both tails.

    ``sims`` is (n, permutations). ``p_ge = (#sim >= obs + 1) / (P + 1)`` and
    ``p_le = (#sim <= obs + 1) / (P + 1)``; "directed" is ``min(p_ge, p_le)``
    (GeoDa's one-sided p in the direction of the data), "two-sided" is twice
    that (capped at 1). Returns the p-values and whether each observation is
    in the upper tail (``p_ge <= p_le``).
    """
    obs = np.asarray(observed, dtype=float)[:, None]
    sims = np.asarray(sims, dtype=float)
    scale = np.maximum(np.abs(obs), np.abs(sims).mean(axis=1, keepdims=True))
    tol = 1e-9 * np.where(scale > 0, scale, 1.0)
    perms = sims.shape[1]
    p_ge = ((sims >= obs - tol).sum(axis=1) + 1.0) / (perms + 1.0)
    p_le = ((sims <= obs + tol).sum(axis=1) + 1.0) / (perms + 1.0)
    p = np.minimum(p_ge, p_le)
    if alternative == "two-sided":
        p = np.minimum(1.0, 2.0 * p)
    return p, p_ge <= p_le


def smallest_p(permutations: int, alternative: str) -> float:
    """The permutation floor: the smallest pseudo p-value ``permutations`` can give."""
    return (2.0 if alternative == "two-sided" else 1.0) / (int(permutations) + 1)


def needed_permutations(m: int, alpha: float, alternative: str) -> int:
    """Fewest permutations whose floor is at most ``alpha / m`` (rounded up to end in 999)."""
    k = 2.0 if alternative == "two-sided" else 1.0
    need = math.ceil(k * m / alpha) - 1
    return int(math.ceil((need + 1) / 1000.0) * 1000 - 1)


def check_hotspot_args(alpha: float, permutations: int, alternative: str, func: str) -> None:
    if alternative not in ("two-sided", "directed"):
        raise GangmapError(f"measures.{func}: alternative={alternative!r} is not one of 'two-sided', 'directed'.")
    if not (0.0 < float(alpha) < 1.0):
        raise GangmapError(f"measures.{func}: alpha={alpha!r} must be between 0 and 1, e.g. 0.05.")
    if int(permutations) < 99:
        raise GangmapError(f"measures.{func}: permutations={permutations!r} is too few for a pseudo p-value; "
                           "use 999 (the default) or at least 99.")
    floor = smallest_p(permutations, alternative)
    if float(alpha) < floor:
        raise GangmapError(f"measures.{func}: alpha={alpha} is below the smallest possible pseudo p-value "
                           f"{floor:.4g} with {permutations} permutations; raise permutations.")


def floor_binds(p: np.ndarray, perms: np.ndarray, tested: np.ndarray, alpha: float, alternative: str) -> bool:
    """Whether an area sits at its permutation floor while that floor is above ``alpha / m``
    (m = number of areas tested): then ties at the floor, not the data, decide the FDR."""
    m = int(tested.sum())
    if m == 0:
        return False
    floors = np.array([smallest_p(k, alternative) for k in perms[tested]])
    at = np.isclose(p[tested], floors, rtol=1e-9, atol=0)
    return bool(np.any(at & (floors > alpha / m)))


def sample_without_replacement(rng: np.random.Generator, n: int, k: int, size: int) -> np.ndarray:
    """``size`` rows of ``k`` distinct integers from ``range(n)`` (rows drawn independently).

    Draws with replacement and redraws the rows that repeat an integer, which
    is exact (each row is uniform over k-subsets in random order) and fast
    when ``k`` is small, as neighbour counts are.
    """
    if k > n:
        raise GangmapError(f"cannot draw {k} distinct neighbours from {n} areas.")
    if k == 0:
        return np.zeros((size, 0), dtype=np.int64)
    out = rng.integers(0, n, size=(size, k))
    while True:
        srt = np.sort(out, axis=1)
        bad = np.nonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1))[0]
        if len(bad) == 0:
            return out
        out[bad] = rng.integers(0, n, size=(len(bad), k))


def refine_floor(p: np.ndarray, upper: np.ndarray, perms: np.ndarray, tested: np.ndarray, *, alpha: float,
                 alternative: str, simulate: Callable[[int, int, np.random.Generator], tuple[float, np.ndarray]],
                 seed: int | None, max_permutations: int = MAX_PERMUTATIONS, chunk: int = 20_000) -> list[int]:
    """Re-test, with more permutations, every tested area sitting at a floor above ``alpha / m``.

    ``simulate(i, count, rng)`` returns area ``i``'s observed statistic and
    ``count`` simulated ones. ``p``, ``upper`` and ``perms`` (permutations
    used per area) are updated in place. Returns the row positions re-tested.
    """
    m = int(tested.sum())
    target = min(needed_permutations(m, alpha, alternative), int(max_permutations))
    done: list[int] = []
    rng = np.random.default_rng(None if seed is None else [int(seed), 7919])
    while floor_binds(p, perms, tested, alpha, alternative):
        floors = np.array([smallest_p(k, alternative) for k in perms])
        todo = np.nonzero(tested & np.isclose(p, floors, rtol=1e-9, atol=0) & (floors > alpha / m)
                          & (perms < target))[0]
        if len(todo) == 0:
            break
        for i in todo:
            sims, obs = [], 0.0
            for start in range(0, target, chunk):
                obs, s = simulate(int(i), min(chunk, target - start), rng)
                sims.append(s)
            pi, ui = pseudo_p(np.array([obs]), np.concatenate(sims)[None, :], alternative)
            p[i], upper[i], perms[i] = pi[0], ui[0], target
            done.append(int(i))
    return done


@dataclass(frozen=True)
class Significance:
    """Which areas are significant, at what p cut-off, and how the floor was handled."""

    significant: np.ndarray
    threshold: float
    refined: tuple = ()
    floor_binding: bool = False


def significance(p: np.ndarray, tested: np.ndarray, alpha: float, fdr: bool) -> tuple[np.ndarray, float]:
    """Significant areas among ``tested`` at ``alpha`` (Benjamini-Hochberg when ``fdr``)."""
    thr = bh_threshold(p[tested], alpha) if fdr else float(alpha)
    return tested & (p <= thr), thr


def decide(p: np.ndarray, upper: np.ndarray, perms: np.ndarray, tested: np.ndarray, *, alpha: float, fdr: bool,
           alternative: str, simulate: Callable | None, seed: int | None, max_permutations: int,
           what: str) -> Significance:
    """Significance with the permutation floor handled (see the module notes); warns if it still binds."""
    refined: list[int] = []
    if fdr and simulate is not None:
        refined = refine_floor(p, upper, perms, tested, alpha=alpha, alternative=alternative, simulate=simulate,
                               seed=seed, max_permutations=max_permutations)
    binding = bool(fdr and floor_binds(p, perms, tested, alpha, alternative))
    if binding:
        most = int(perms[tested].max())
        warnings.warn(f"{what}: some areas sit at the smallest p-value {most:,} permutations can give, "
                      f"which is above alpha/m = {alpha / max(int(tested.sum()), 1):.2g}; whether they pass the "
                      "false discovery rate depends on how many share that floor, not on the data. Raise "
                      "max_permutations, test fewer areas, or read these labels as unresolved.",
                      PermutationFloorWarning, stacklevel=3)
    sig, thr = significance(p, tested, alpha, fdr)
    return Significance(sig, thr, tuple(refined), binding)


class QuietRandom:
    """Keep numpy's global random state as it was (esda reseeds it) and silence esda's chatter."""

    def __enter__(self) -> None:
        self._state = np.random.get_state()
        self._warn = warnings.catch_warnings()
        self._warn.__enter__()
        warnings.filterwarnings("ignore", message=".*alternative hypothesis.*")
        warnings.filterwarnings("ignore", message=".*island.*")
        warnings.filterwarnings("ignore", message=".*not fully connected.*")

    def __exit__(self, *exc: Any) -> None:
        self._warn.__exit__(*exc)
        np.random.set_state(self._state)


def lag_simulator(values: np.ndarray, neighbours: Sequence[np.ndarray], weights: Sequence[np.ndarray],
                  statistic: Callable[[int, np.ndarray], np.ndarray]):
    """A ``simulate(i, count, rng)`` for :func:`refine_floor`: area ``i`` keeps its value, its
    neighbours' values are drawn without replacement from the other areas, and
    ``statistic(i, lags)`` turns weighted neighbour sums into the statistic."""
    n = len(values)

    def simulate(i: int, count: int, rng: np.random.Generator) -> tuple[float, np.ndarray]:
        others = np.delete(np.arange(n), i)
        idx = others[sample_without_replacement(rng, n - 1, len(neighbours[i]), count)]
        lags = values[idx] @ weights[i] if len(neighbours[i]) else np.zeros(count)
        observed = float(statistic(i, np.array([values[neighbours[i]] @ weights[i]]))[0])
        return observed, statistic(i, lags)

    return simulate

