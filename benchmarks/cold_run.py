"""Time a cold ``compendium run`` of the committed corpus, and a rerun with nothing changed (SPEC 6 speed).

    .venv/bin/python benchmarks/cold_run.py              # --jobs 2, as on the 2-core reference machine
    .venv/bin/python benchmarks/cold_run.py --jobs 1 --only screenshots

Runs into a temporary folder with an empty OCR cache (cold), prints each stage's time as the runner reports it,
the total wall time, the rerun's wall time, and the machine's load average before and after: a number measured
while something else was running says so. The targets are 60 s cold and 3 s for the rerun on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str]) -> tuple[float, str]:
    exe = shutil.which("compendium", path=str(Path(sys.executable).parent)) or "compendium"
    t0 = time.perf_counter()
    r = subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"cold_run: compendium {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    return wall, r.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", nargs="+", default=None, metavar="STAGE")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="witi-bench-") as tmp:
        common = ["run", "--derived", f"{tmp}/derived", "--reports", f"{tmp}/reports", "--cache", f"{tmp}/cache",
                  "--jobs", str(args.jobs)] + (["--only", *args.only] if args.only else [])
        load0 = os.getloadavg()[0]
        cold, out = _run(common)
        load1 = os.getloadavg()[0]
        rerun, _ = _run(common)
    print(f"cold `compendium run --jobs {args.jobs}`{' --only ' + ' '.join(args.only) if args.only else ''}; "
          f"{os.cpu_count()} cores; 1-minute load average {load0:.1f} before, {load1:.1f} after\n")
    print("| step | seconds |")
    print("|---|---|")
    for name, secs in re.findall(r"^\s+(\w+)\s+ran in ([\d.]+) s", out, flags=re.M):
        print(f"| stage {name} | {float(secs):.1f} |")
    print(f"| **cold run, wall time** | **{cold:.1f}** |")
    print(f"| rerun with nothing changed | {rerun:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
