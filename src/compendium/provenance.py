"""The colophon and the figures' provenance stamp: what produced these results (after rrtools' colophon).

The colophon records the Python version, the exact versions of the packages the analysis depends on, the
compendium's version, the codebook's version and the full sha256 of the raw corpus's checksum manifest, and
nothing about the machine or its user: no paths, host names, user names or dates. It is shown in the report
notebook (06) and so in its HTML under ``reports/``, which is not committed; it is not written to
``data/derived``. Only there, with ``commit=True``, does it also name the git commit of the code
(:func:`git_commit`): a committed derived file cannot name the commit that contains it, and would stop being
reproducible byte for byte from any later commit.

:func:`figure_stamp` is the short, commit-free provenance line every figure carries (:func:`compendium.figures.save`).
"""

from __future__ import annotations

import hashlib
import platform
import re
from importlib import metadata
from pathlib import Path

import pandas as pd

from . import __version__
from .manifest import MANIFEST_NAME

PACKAGES = (
    "pandas",
    "numpy",
    "spacy",
    "spacy-lookups-data",
    "matplotlib",
    "networkx",
    "scikit-learn",
    "krippendorff",
    "rapidocr-onnxruntime",
    "openvino",
    "rapidfuzz",
    "pillow",
    "papermill",
    "nbconvert",
    "pyyaml",
)


def package_versions(packages=PACKAGES) -> pd.DataFrame:
    rows = []
    for name in packages:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        rows.append({"package": name, "version": version})
    return pd.DataFrame(rows)


STAMP_DIGITS = 12  # hex digits of the raw manifest's sha256 in a figure's stamp
NOT_A_CHECKOUT = "not a git checkout"


def manifest_digest(raw: str | Path) -> str | None:
    """sha256 (64 hex digits) of ``raw/MANIFEST.sha256``, which pins every raw file; None without a manifest."""
    mpath = Path(raw) / MANIFEST_NAME
    return hashlib.sha256(mpath.read_bytes()).hexdigest() if mpath.is_file() else None


def figure_stamp(raw: str | Path, codebook_version: str | None) -> str:
    """The provenance line of every figure: codebook version, raw manifest id, compendium version.

    The manifest id is the first :data:`STAMP_DIGITS` hex digits of :func:`manifest_digest`. No commit, date or
    machine detail, so the figures stay reproducible byte for byte (see :mod:`compendium.figures`).
    """
    digest = manifest_digest(raw)
    manifest = f"raw manifest sha256 {digest[:STAMP_DIGITS]}" if digest else "no raw manifest"
    codebook = f"codebook {codebook_version}" if codebook_version not in (None, "") else "codebook unversioned"
    return f"{codebook} \u00b7 {manifest} \u00b7 compendium {__version__}"


def _git_dir(start: Path) -> Path | None:
    """The git directory of the checkout holding ``start`` (``.git`` folder, or the one a ``.git`` file names)."""
    for folder in (start, *start.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            m = re.match(r"gitdir:\s*(.+)", dot.read_text(encoding="utf-8").strip())
            if m:
                target = Path(m.group(1))
                return target if target.is_absolute() else (folder / target).resolve()
    return None


def git_commit(start: str | Path | None = None) -> str:
    """The commit checked out (what ``git rev-parse HEAD`` prints) in the checkout holding ``start`` (default: this
    package's source, i.e. the code that ran), or :data:`NOT_A_CHECKOUT`.

    Read from the git directory's ``HEAD``, loose refs and ``packed-refs`` without running git, so it works
    where git is not installed; uncommitted changes in the working tree are not reported.
    """
    git = _git_dir(Path(start if start is not None else __file__).resolve())
    if git is None or not (git / "HEAD").is_file():
        return NOT_A_CHECKOUT
    common = git
    if (git / "commondir").is_file():  # a linked worktree keeps its refs in the main git directory
        common = (git / (git / "commondir").read_text(encoding="utf-8").strip()).resolve()
    head = (git / "HEAD").read_text(encoding="utf-8").strip()
    for _ in range(5):  # a symbolic ref may name another symbolic ref
        if re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", head):
            return head
        m = re.fullmatch(r"ref:\s*(\S+)", head)
        if not m:
            break
        ref = m.group(1)
        loose = next((d / ref for d in (git, common) if (d / ref).is_file()), None)
        if loose is not None:
            head = loose.read_text(encoding="utf-8").strip()
            continue
        packed = common / "packed-refs"
        lines = packed.read_text(encoding="utf-8").splitlines() if packed.is_file() else []
        head = next(
            (ln.split()[0] for ln in lines if ln.strip().endswith(" " + ref) and not ln.startswith(("#", "^"))), ""
        )
    return NOT_A_CHECKOUT


TREE_CLEAN, TREE_CHANGED, TREE_UNKNOWN = "clean", "uncommitted changes", "not known (git not installed)"


def working_tree(start: str | Path | None = None) -> str:
    """Whether the checkout holding ``start`` (default: this package's source) has uncommitted changes to files
    git tracks (:data:`TREE_CLEAN`, :data:`TREE_CHANGED`), so that a commit named in the report is not taken for
    the whole of the code that ran; :data:`TREE_UNKNOWN` without a ``git`` command, :data:`NOT_A_CHECKOUT`
    outside a checkout."""
    import shutil
    import subprocess

    here = Path(start if start is not None else __file__).resolve()
    git = _git_dir(here)
    if git is None:
        return NOT_A_CHECKOUT
    exe = shutil.which("git")
    if exe is None:
        return TREE_UNKNOWN
    folder = next(f for f in (here, *here.parents) if (f / ".git").exists())
    try:
        out = subprocess.run(
            [exe, "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return TREE_UNKNOWN
    if out.returncode != 0:
        return TREE_UNKNOWN
    return TREE_CHANGED if out.stdout.strip() else TREE_CLEAN


def colophon(raw: str | Path, codebook_version: str | None = None, commit: bool = False) -> pd.DataFrame:
    """Rows ``item, value``: compendium, codebook and Python versions, the full sha256 of the raw manifest,
    packages; with ``commit`` (only for the uncommitted HTML report) first the git commit (:func:`git_commit`) and
    whether the working tree had uncommitted changes (:func:`working_tree`)."""
    digest = manifest_digest(raw) or "no manifest"
    rows = (
        [{"item": "git commit", "value": git_commit()}, {"item": "working tree", "value": working_tree()}]
        if commit
        else []
    )
    rows += [{"item": "compendium", "value": __version__}]
    if codebook_version is not None:
        rows.append({"item": "codebook", "value": str(codebook_version)})
    rows += [
        {"item": "python", "value": platform.python_version()},
        {"item": "raw MANIFEST.sha256 (sha256)", "value": digest},
    ]
    rows += [{"item": r.package, "value": r.version} for r in package_versions().itertuples()]
    return pd.DataFrame(rows)
