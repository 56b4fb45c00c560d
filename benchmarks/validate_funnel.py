"""Validation: how often does the funnel plot flag an area when nothing is going on?

Under a null with no real differences (every area's count is Poisson with the
same rate), a 95% funnel should flag about 2.5% of areas "below" and 2.5%
"above", and never more. This script simulates such nulls for bands of
expected counts and prints the share flagged by

* the exact Poisson limits of ``gangmap.measures.funnel`` (Spiegelhalter 2005,
  OHID Fingertips), and
* the first release's limits, reproduced here: the Poisson *confidence
  interval* of a count equal to the expected count (exact chi-square below 10,
  Byar's from 10), which labelled every zero-count ward "below 99.8%".

Usage::

    .venv/bin/python benchmarks/validate_funnel.py [--areas 150] [--reps 200] [--seed 2005]

A script, not a test: it prints and exits 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BANDS = [(0.3, 1.5), (1.5, 4.0), (4.0, 10.0), (10.0, 30.0), (30.0, 100.0)]


def old_labels(counts, expected):
    """The first release's funnel labels: poisson_ci at the expected count, compared with the count."""
    import numpy as np

    from gangmap.measures import poisson_ci

    lab = np.full(len(counts), "within", dtype=object)
    for level, name in ((0.95, "95%"), (0.998, "99.8%")):
        lo, hi = poisson_ci(expected, level)
        lab[counts < lo] = f"below {name}"
        lab[counts > hi] = f"above {name}"
    return lab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=150)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2005)
    args = parser.parse_args(argv)

    import numpy as np
    import pandas as pd

    from gangmap import measures

    rng = np.random.default_rng(args.seed)
    rate = 0.001
    print(f"Null funnel simulation: {args.areas} areas x {args.reps} maps per band, one true rate; the overall")
    print("rate is estimated from each map, as in use. Share of areas flagged (nominal: at most 2.5% per side")
    print("at 95%, 0.1% at 99.8%).")
    print()
    head = f"{'expected count':>16}{'below95 new':>13}{'below95 old':>13}{'above95 new':>13}{'above95 old':>13}" \
           f"{'b99.8 new':>11}{'b99.8 old':>11}"
    print(head)
    print("-" * len(head))
    for lo, hi in BANDS:
        pops = np.geomspace(lo / rate, hi / rate, args.areas)
        tally = {k: 0 for k in ("bn", "bo", "an", "ao", "b3n", "b3o")}
        for _ in range(args.reps):
            counts = rng.poisson(rate * pops)
            t = pd.DataFrame({"reports": counts, "population": pops})
            new = measures.funnel(t, "reports", "population")["reports_funnel"].to_numpy()
            old = old_labels(counts, counts.sum() / pops.sum() * pops)
            tally["bn"] += np.isin(new, ["below 95%", "below 99.8%"]).sum()
            tally["bo"] += np.isin(old, ["below 95%", "below 99.8%"]).sum()
            tally["an"] += np.isin(new, ["above 95%", "above 99.8%"]).sum()
            tally["ao"] += np.isin(old, ["above 95%", "above 99.8%"]).sum()
            tally["b3n"] += (new == "below 99.8%").sum()
            tally["b3o"] += (old == "below 99.8%").sum()
        n = args.areas * args.reps
        share = {k: 100.0 * v / n for k, v in tally.items()}
        print(f"{f'{lo:g}-{hi:g}':>16}{share['bn']:>12.2f}%{share['bo']:>12.2f}%{share['an']:>12.2f}%"
              f"{share['ao']:>12.2f}%{share['b3n']:>10.2f}%{share['b3o']:>10.2f}%")
    print()
    print("new: gangmap.measures.funnel (exact Poisson tails); old: the first release's limits.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
