"""Validate the campaign evaluation: do its 95% intervals cover the true effect 95% of the time?

    python benchmarks/validate_campaign_effect.py [--reps 2000] [--seed 20180301]

Simulates panels of monthly counts shaped like the demo county (60 areas, 26
of them targeted, 24 months, launch after 12) with a known campaign effect
(a rate ratio of 1.35) under three kinds of counts:

* ``poisson``: independent Poisson counts around area and month effects;
* ``overdispersed``: negative binomial counts (variance mu + mu^2 / 1.5);
* ``clustered``: Poisson counts around a mean with random area levels, random
  area trends and an AR(1) shock within each area (correlation 0.6 month to
  month), so an area's months are correlated.

For each it prints the share of replications whose 95% interval holds the
true effect, for the headline estimator of ``gangmap.planning.evaluate``
(Poisson regression with area and month effects, area-clustered jackknife
intervals; ``gangmap.planning.fepoisson``) and, for contrast, for the first
release's 2x2 difference in differences with its Poisson interval. The
headline's coverage must lie within 0.92-0.98 in every scenario (PASS/FAIL;
with 2,000 replications the Monte Carlo standard error is about 0.005).
Exit status 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

TRUE_RATIO = 1.35
SCENARIOS = ("poisson", "overdispersed", "clustered")
LOW, HIGH = 0.92, 0.98


def panel(rng: np.random.Generator, kind: str, *, areas: int = 60, targeted: int = 26, months: int = 24,
          launch: int = 12, ratio: float = TRUE_RATIO) -> tuple[np.ndarray, np.ndarray]:
    """One simulated panel: counts (areas x months) and the targeted-after-launch indicator."""
    g = np.zeros(areas, dtype=bool)
    g[:targeted] = True
    D = (g[:, None] & (np.arange(months) >= launch)[None, :]).astype(float)
    eta = rng.normal(math.log(3.0), 0.7, areas)[:, None] + 0.15 * np.sin(2 * np.pi * np.arange(months) / 12)[None, :]
    eta = eta + math.log(ratio) * D
    if kind == "clustered":
        u = np.zeros((areas, months))
        u[:, 0] = rng.normal(0, 0.35 / math.sqrt(1 - 0.6 ** 2), areas)
        for t in range(1, months):
            u[:, t] = 0.6 * u[:, t - 1] + rng.normal(0, 0.35, areas)
        eta = eta + u + rng.normal(0, 0.02, areas)[:, None] * (np.arange(months) - months / 2)[None, :]
    mu = np.exp(eta)
    if kind == "overdispersed":
        mu = rng.gamma(1.5, mu / 1.5)  # Poisson-gamma mixture: negative binomial counts
    elif kind not in ("poisson", "clustered"):
        raise ValueError(f"unknown scenario {kind!r}")
    return rng.poisson(mu).astype(float), D


def naive_2x2_covers(Y: np.ndarray, D: np.ndarray, ratio: float = TRUE_RATIO) -> bool:
    """The first release's interval: 2x2 sums, Poisson variance of the log ratio."""
    g = D.any(axis=1)
    post = D.any(axis=0)
    a, b = Y[g][:, ~post].sum(), Y[g][:, post].sum()
    c, d = Y[~g][:, ~post].sum(), Y[~g][:, post].sum()
    est = math.log((b / a) / (d / c))
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return abs(est - math.log(ratio)) <= 1.959964 * se


def coverage(kind: str, reps: int, seed: int) -> tuple[float, float]:
    """Coverage of the headline interval and of the naive 2x2 interval over ``reps`` panels."""
    from gangmap.planning import fepoisson

    rng = np.random.default_rng([seed, SCENARIOS.index(kind)])
    robust = naive = 0
    for _ in range(reps):
        Y, D = panel(rng, kind)
        fit = fepoisson.fit(Y, D[:, :, None])
        lo, hi = fit.ci(0, 0.95)
        robust += lo <= math.log(TRUE_RATIO) <= hi
        naive += naive_2x2_covers(Y, D)
    return robust / reps, naive / reps


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20180301)
    args = ap.parse_args(argv)
    print(f"95% interval coverage of a rate ratio of {TRUE_RATIO} ({args.reps} panels per scenario: 60 areas, "
          "26 targeted, 24 months)")
    print(f"{'scenario':<15}{'robust (headline)':>19}{'naive 2x2':>11}  verdict (robust within {LOW}-{HIGH})")
    ok = True
    for kind in SCENARIOS:
        rob, nai = coverage(kind, args.reps, args.seed)
        passed = LOW <= rob <= HIGH
        ok &= passed
        print(f"{kind:<15}{rob:>19.3f}{nai:>11.3f}  {'PASS' if passed else 'FAIL'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
