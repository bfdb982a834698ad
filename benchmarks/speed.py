"""Speed and memory benchmark of `compendium run` (SPEC 6), measured in one run so numbers compare as ratios.

    .venv/bin/python benchmarks/speed.py [--scale 10] [--jobs 2]

Measures, each in a fresh temporary folder:
  cold     `compendium run` with empty derived, reports and OCR cache (the 60 s bar)
  rerun    the same command again with nothing changed (the 3 s bar)
  scaled   a cold run of a `compendium synth --scale K` corpus (the 10x-of-cold bar), unless --scale 1
and the peak resident memory of the whole process tree (runner + kernels + OCR workers; the 2 GB bar),
sampled every 0.1 s with psutil. Prints a Markdown table. Machines are shared and noisy: never turn these into
timed tests.
"""

from __future__ import annotations

import argparse
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


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(seconds, peak MiB of the process tree, exit status)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
                peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, err = proc.communicate()
    stop.set()
    th.join()
    if proc.returncode:
        sys.stderr.write(err.decode(errors="replace"))
    return time.perf_counter() - t0, peak / 2**20, proc.returncode


def run_args(raw: Path, tmp: Path, jobs: int) -> list[str]:
    return [EXE, "run", "--raw", str(raw), "--derived", str(tmp / "derived"), "--reports", str(tmp / "reports"),
            "--cache", str(tmp / "cache"), "--jobs", str(jobs)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=psutil.cpu_count() or 1)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="witi-bench-") as t:
        tmp = Path(t)
        cold = measure(run_args(ROOT / "data" / "raw", tmp / "cold", args.jobs))
        rows.append(("cold run (default corpus)", cold, "<= 60 s"))
        rerun = measure(run_args(ROOT / "data" / "raw", tmp / "cold", args.jobs))
        rows.append(("rerun, nothing changed", rerun, "<= 3 s"))
        if args.scale > 1:
            raw = tmp / f"raw-x{args.scale}"
            subprocess.run([EXE, "synth", "--out", str(raw), "--scale", str(args.scale)], check=True,
                           stdout=subprocess.DEVNULL)
            scaled = measure(run_args(raw, tmp / "scaled", args.jobs))
            rows.append((f"cold run, --scale {args.scale} corpus", scaled, f"<= {args.scale}x cold"))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"jobs={args.jobs}, cores={psutil.cpu_count()}, python {sys.version.split()[0]}\n")
    print("| measurement | seconds | x cold | peak memory (MiB) | bar | exit |")
    print("|---|---|---|---|---|---|")
    for name, (sec, mib, rc), bar in rows:
        print(f"| {name} | {sec:.1f} | {sec / cold[0]:.2f} | {mib:.0f} | {bar} | {rc} |")
    return 0 if all(r[1][2] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
