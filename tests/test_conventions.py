"""The conventions pre-commit enforces (.pre-commit-config.yaml), checked in every test run without pre-commit itself:
ruff's lint and format rules on the Python files, and notebooks committed without outputs (nbstripout)."""

from __future__ import annotations

import json
import re
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


# A file path the docs or notebooks name in backticks, or a relative Markdown link.
_REFERENCE = re.compile(
    r"`((?:docs|benchmarks|src/compendium|notebooks|tests|\.ci|data/raw|data/derived)/[\w./-]+)`"
    r"|\]\(((?!https?:|#|mailto:)[^)\s]+)\)"
)


def _prose():
    for p in [*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), ROOT / "data/raw/README.md"]:
        yield p, p.read_text(encoding="utf-8")
    for p in sorted(ROOT.glob("notebooks/*.ipynb")):
        cells = json.loads(p.read_text(encoding="utf-8"))["cells"]
        yield p, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_every_file_the_docs_and_notebooks_name_exists():
    """Notebook 5 once sent students to a `docs/acts.md` that was never written. Optional files a study may add
    (the de-identification allow-list) are named by the package and do not have to exist."""
    from compendium import deid

    optional = {f"data/raw/{deid.ALLOW_NAME}"}
    missing = []
    for path, text in _prose():
        for m in _REFERENCE.finditer(text):
            ref = (m.group(1) or m.group(2)).split("#")[0]
            if not ref or ref in optional:
                continue
            base = ROOT if m.group(1) else path.parent
            if not (base / ref).exists() and not (ROOT / ref).exists():
                missing.append(f"{path.relative_to(ROOT)}: {ref}")
    assert missing == []
