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
