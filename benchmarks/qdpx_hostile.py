"""Time and peak memory of `compendium import qdpx` refusing hostile and broken projects (issue 12: each within
2 s and under 200 MB), measured here rather than in timed tests because the machines are shared and noisy.

    .venv/bin/python benchmarks/qdpx_hostile.py

Each file is imported by a fresh `compendium` process; its wall time and its own peak resident size (from
``os.wait4``, which reports that one child) are printed with its exit status and the one line it wrote.
The files are built with the archive builders of tests/test_qdpx_archive.py (a 2 GiB bomb in ~2 MB, with an
honest and a lying header) and the structures of tests/test_qdpx_import.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import test_qdpx_archive as ta  # noqa: E402
import test_qdpx_import as ti  # noqa: E402

EXE = str(Path(sys.executable).parent / "compendium")


def bomb(tmp: Path, claimed=None) -> Path:
    crc, spaces = zlib.crc32(ta.HEAD), b" " * ta.MiB
    for _ in range(2048):
        crc = zlib.crc32(spaces, crc)
    size = len(ta.HEAD) + 2048 * ta.MiB
    qde = ta.entry("project.qde", raw=ta.bomb_stream(2048), size=size if claimed is None else claimed, crc=crc)
    name = "bomb-honest.qdpx" if claimed is None else "bomb-lying.qdpx"
    return ta.write(tmp, ta.raw_zip([qde]), name)


def files(tmp: Path) -> dict[str, Path]:
    sel = ti.selection
    src = ti.text_source
    cases = {
        "zip bomb, honest header (2 MB -> 2 GiB)": bomb(tmp),
        "zip bomb, header claiming 1,000 bytes": bomb(tmp, claimed=1000),
        "no <Codes>": ti.project(tmp, "<CodeBook/>", "nocodes.qdpx"),
        "startPosition not an integer": ti.project(
            tmp, ti.CODES + src(sel('startPosition="x1" endPosition="4"')), "badint.qdpx", ti.SOURCE_TEXT
        ),
        "selection without positions": ti.project(tmp, ti.CODES + src(sel("")), "nopos.qdpx", ti.SOURCE_TEXT),
        "positions past the source's end": ti.project(
            tmp, ti.CODES + src(sel('startPosition="0" endPosition="400"')), "past.qdpx", ti.SOURCE_TEXT
        ),
    }
    billion = (
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + f']><Project xmlns="{ti.NS}" name="x">&i;</Project>'
    )
    cases["entity expansion (billion laughs)"] = ta.qdpx(tmp, {"project.qde": billion}, "laughs.qdpx")
    return cases


def main() -> None:
    print(f"python {sys.version.split()[0]}; 1-minute load average {os.getloadavg()[0]:.1f} before")
    print("| file | exit | seconds | peak RSS (MiB) | message |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for label, path in files(tmp).items():
            t0 = time.perf_counter()
            p = subprocess.Popen(
                [EXE, "import", "qdpx", str(path), "--out", str(tmp / "out")],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            _, status, usage = os.wait4(p.pid, 0)
            seconds = time.perf_counter() - t0
            err = p.stderr.read().strip().replace(str(tmp) + "/", "")
            code = os.waitstatus_to_exitcode(status)
            print(f"| {label} | {code} | {seconds:.2f} | {usage.ru_maxrss / 1024:.0f} | {err[:110]} |")
            assert not (tmp / "out").exists(), "something was written"
    print(f"1-minute load average {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
