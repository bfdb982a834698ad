"""Speed and memory benchmark of `compendium run` (SPEC 6), measured in one run so numbers compare as ratios.

    .venv/bin/python benchmarks/speed.py [--scale 10] [--jobs 2]

Measures, each in a fresh temporary folder:
  cold     `compendium run` with empty derived, reports and OCR cache (the 60 s bar)
  rerun    the same command again with nothing changed (the 3 s bar)
  scaled   a cold run of a `compendium synth --scale K` corpus (the 10x-of-cold bar), unless --scale 1
and the peak memory of the whole process tree (runner + kernels + OCR workers; the 2 GB bar), sampled every
0.2 s with psutil as proportional set size (PSS: pages shared between processes are split among them, not
counted once per process as resident size would). Prints the machine's load average before and after (a number
measured while something else ran says so), each stage's time as the runner reports it, and a Markdown table.
Machines are shared and noisy: never turn these into timed tests.

    .venv/bin/python benchmarks/speed.py --scale 1 --only screenshots    # one stage, cold and rerun
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).parent / "compendium")


def _memory(p: psutil.Process) -> int:
    try:
        return p.memory_full_info().pss
    except (psutil.AccessDenied, AttributeError):  # no /proc/<pid>/smaps_rollup: fall back to resident size
        return p.memory_info().rss


def measure(cmd: list[str]) -> tuple[float, float, int, str]:
    """(seconds, peak MiB of the process tree, exit status, standard output)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                peak = max(peak, sum(_memory(p) for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    stop.set()
    th.join()
    if proc.returncode:
        sys.stderr.write(err.decode(errors="replace"))
    return time.perf_counter() - t0, peak / 2**20, proc.returncode, out.decode(errors="replace")


def run_args(raw: Path, tmp: Path, jobs: int, only=None) -> list[str]:
    return [
        EXE,
        "run",
        "--raw",
        str(raw),
        "--derived",
        str(tmp / "derived"),
        "--reports",
        str(tmp / "reports"),
        "--cache",
        str(tmp / "cache"),
        "--jobs",
        str(jobs),
    ] + (["--only", *only] if only else [])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=psutil.cpu_count() or 1)
    ap.add_argument("--only", nargs="+", default=None, metavar="STAGE", help="time these stages only")
    args = ap.parse_args()
    rows = []
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="witi-bench-") as t:
        tmp = Path(t)
        cold = measure(run_args(ROOT / "data" / "raw", tmp / "cold", args.jobs, args.only))
        rows.append(("cold run (default corpus)", cold, "<= 60 s"))
        rerun = measure(run_args(ROOT / "data" / "raw", tmp / "cold", args.jobs, args.only))
        rows.append(("rerun, nothing changed", rerun, "<= 3 s"))
        if args.scale > 1:
            raw = tmp / f"raw-x{args.scale}"
            subprocess.run(
                [EXE, "synth", "--out", str(raw), "--scale", str(args.scale)], check=True, stdout=subprocess.DEVNULL
            )
            scaled = measure(run_args(raw, tmp / "scaled", args.jobs, args.only))
            rows.append((f"cold run, --scale {args.scale} corpus", scaled, f"<= {args.scale}x cold"))
        shutil.rmtree(tmp, ignore_errors=True)
    load1 = os.getloadavg()[0]
    print(
        f"jobs={args.jobs}, cores={psutil.cpu_count()}, python {sys.version.split()[0]}"
        f"{', only ' + ' '.join(args.only) if args.only else ''}; "
        f"1-minute load average {load0:.1f} before, {load1:.1f} after\n"
    )
    print("| stage (cold run) | seconds |")
    print("|---|---|")
    for name, secs in re.findall(r"^\s+(\w+)\s+ran in ([\d.]+) s", cold[3], flags=re.M):
        print(f"| {name} | {float(secs):.1f} |")
    print("\n| measurement | seconds | x cold | peak memory, PSS (MiB) | bar | exit |")
    print("|---|---|---|---|---|---|")
    for name, (sec, mib, rc, _), bar in rows:
        print(f"| {name} | {sec:.1f} | {sec / cold[0]:.2f} | {mib:.0f} | {bar} | {rc} |")
    return 0 if all(r[1][2] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
