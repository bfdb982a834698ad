"""The colophon: what produced these results (after rrtools' colophon).

Records the Python version, the exact versions of the packages the analysis depends on, the compendium's version
and the raw corpus's checksum manifest digest, and nothing about the machine or its user: no paths, host names,
user names or dates, so the colophon is itself reproducible byte for byte.
"""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd

from . import __version__
from .manifest import MANIFEST_NAME

PACKAGES = ("pandas", "numpy", "spacy", "spacy-lookups-data", "matplotlib", "networkx", "scikit-learn",
            "krippendorff", "rapidocr-onnxruntime", "openvino", "rapidfuzz", "pillow", "papermill", "nbconvert",
            "pyyaml")


def package_versions(packages=PACKAGES) -> pd.DataFrame:
    rows = []
    for name in packages:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        rows.append({"package": name, "version": version})
    return pd.DataFrame(rows)


def colophon(raw: str | Path) -> pd.DataFrame:
    """Rows ``item, value``: compendium and Python versions, packages, digest of the raw manifest."""
    raw = Path(raw)
    mpath = raw / MANIFEST_NAME
    digest = hashlib.sha256(mpath.read_bytes()).hexdigest() if mpath.is_file() else "no manifest"
    rows = [{"item": "compendium", "value": __version__},
            {"item": "python", "value": platform.python_version()},
            {"item": "raw MANIFEST.sha256 (sha256)", "value": digest}]
    rows += [{"item": r.package, "value": r.version} for r in package_versions().itertuples()]
    return pd.DataFrame(rows)
