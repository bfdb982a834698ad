"""The conventions pre-commit enforces (.pre-commit-config.yaml), checked in every test run without pre-commit itself:
ruff's lint and format rules on the Python files, and notebooks committed without outputs (nbstripout)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT

BIN = Path(sys.executable).parent


def _run(*args):
    return subprocess.run([str(a) for a in args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_is_clean():
    r = _run(BIN / "ruff", "check", ".")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


def test_ruff_format_is_clean():
    r = _run(BIN / "ruff", "format", "--check", ".")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


def test_notebooks_are_committed_without_outputs(tmp_path):
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        copy = tmp_path / nb.name
        shutil.copy(nb, copy)
        r = _run(BIN / "nbstripout", "--keep-id", copy)
        assert r.returncode == 0, r.stderr
        assert copy.read_bytes() == nb.read_bytes(), f"{nb.name}: nbstripout would change it"


def test_pre_commit_hooks_use_the_pinned_tools():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    pins = dict(
        line.strip().split("==")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    assert set(hooks) == {"ruff", "ruff-format", "nbstripout"}
    for h in hooks.values():
        for dep in h["additional_dependencies"]:
            name, version = dep.split("==")
            assert pins[name] == version, dep
