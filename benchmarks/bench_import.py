"""Start-up time: ``import gangmap`` and ``gangmap --version`` against ``import geopandas``.

Each command runs in a fresh interpreter, ``--repeat`` times, alternating so that a loaded machine
slows every peer alike; the table prints medians and the ratio to ``import geopandas`` measured in
the same run. The target (issue 11) is a ratio of at most 1.5 for ``import gangmap``.

    python benchmarks/bench_import.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

GANGMAP = str(Path(sys.executable).with_name("gangmap"))
PEERS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import geopandas": [sys.executable, "-c", "import geopandas"],
    "import gangmap": [sys.executable, "-c", "import gangmap"],
    "import gangmap; gangmap.join": [sys.executable, "-c", "import gangmap; gangmap.join"],
    "gangmap --version": [GANGMAP, "--version"],
}
TARGET = 1.5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    times: dict[str, list[float]] = {k: [] for k in PEERS}
    for _ in range(args.repeat):
        for label, cmd in PEERS.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times[label].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["import geopandas"]
    print(f"{'command':<32}{'median s':>10}{'x geopandas':>13}")
    for label, m in med.items():
        print(f"{label:<32}{m:>10.3f}{m / base:>13.2f}")
    ratio = med["import gangmap"] / base
    print(f"\nimport gangmap / import geopandas = {ratio:.2f} (target <= {TARGET}): "
          f"{'met' if ratio <= TARGET else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
