"""Run every benchmark and print their tables (`make bench`). Needs ../shared/data."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("bench_import.py", "bench_maps.py", "bench_hotspots.py"):
    print(f"\n=== {script} ===", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]], check=False)
