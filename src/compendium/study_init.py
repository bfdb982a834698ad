"""``compendium init DIR``: the skeleton of a new study's raw tree, ready to run.

Copies the fictitious template study shipped with the package (``templates/study/``: study facts, interview
guide, two participants with their transcripts, one field note, a codebook, two coders' coding, the private
roster and one screenshot with its transcription) into ``DIR/raw/`` and writes ``DIR/raw/MANIFEST.sha256`` last,
so that ``compendium run --raw DIR/raw --derived DIR/derived`` runs end to end at once. The templates are plain
files (the screenshot was rendered once by :mod:`compendium.render`); nothing is generated here.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from . import manifest
from .errors import InputError

TEMPLATE = Path(__file__).parent / "templates" / "study"


def init(dest: str | Path) -> Path:
    """Write ``dest/raw`` from the template; ``dest`` must be absent or an empty folder. Returns the raw folder.
    Written into a temporary folder beside ``dest`` and moved into place, so a failure leaves nothing behind."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise InputError("exists and is not a folder: choose a new folder for the study", dest)
    if dest.is_dir() and any(dest.iterdir()):
        raise InputError("folder exists and is not empty: choose a new or empty folder for the study", dest)
    if not (TEMPLATE / "study.yml").is_file():
        raise InputError("the study template is missing from the installed package (reinstall compendium)", TEMPLATE)
    parent = dest.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".init-", dir=parent))
    try:
        raw = tmp / "raw"
        shutil.copytree(TEMPLATE, raw, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        manifest.write(raw)
        if dest.exists():
            dest.rmdir()
        tmp.replace(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest / "raw"
