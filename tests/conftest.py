"""Shared fixtures: the project root and the committed corpus."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
DERIVED = ROOT / "data" / "derived"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def compendium(*args, cwd=ROOT, check=False):
    """Run the ``compendium`` command as a user would; returns the CompletedProcess."""
    exe = shutil.which("compendium", path=str(Path(sys.executable).parent)) or "compendium"
    return subprocess.run([exe, *map(str, args)], cwd=cwd, capture_output=True, text=True, check=check)


def one_line_exit_2(r, *needles) -> str:
    """Bad input as the user meets it: exit 2, one line on stderr holding every needle, no traceback."""
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="session")
def full_run(tmp_path_factory):
    """One full cold run of the committed corpus (empty derived, reports and OCR cache), shared by the tests that
    need executed outputs: ``(folder, CompletedProcess)``; the folder holds ``derived/``, ``reports/``, ``cache/``.
    Tests must not change what is in it."""
    tmp = tmp_path_factory.mktemp("run")
    r = compendium(
        "run", "--derived", tmp / "derived", "--reports", tmp / "reports", "--cache", tmp / "cache", "--jobs", "2"
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return tmp, r
