"""qc (the ``qualitative-coding`` tool, pinned at 1.7.8) as a second, independent REFI-QDA implementation.

qc lives in its own virtual environment, ``.venv-qc/`` (``make qc-env``; pins in ``tests/qc-constraints.txt``),
because its pins clash with the compendium's (it needs rich<14 and xmlschema<4). Nothing here imports qc: it is
run as a command, and what it stores is read back with the standard library.

- ``qc_samples()``: the two real ``.qdpx`` files shipped in the qualitative-coding 1.7.8 wheel, one made by NVivo
  (``qualitative_coding/refi_qda/nvivo_project.qdpx``), one by qc (``qualitative_coding/demo.qdpx``), copied to
  ``.cache/qc-samples/`` and checked byte for byte against pinned SHA-256 sums.
- ``qc_import(qdpx, workdir)``: ``qc init --import`` into an empty folder.
- ``qc_codings(workdir)`` / ``qc_codebook(workdir)``: what that import stored.
- ``qc_available()`` / ``require_qc()``: skip without ``.venv-qc`` (fail in CI, like the fonts and Tesseract).

What qc 1.7.8's importer does (refi_qda/reader.py), which tests of our exports must allow for:
- it needs a ``name`` attribute on every ``TextSource`` (the schema makes it optional): without one it stops with
  ``KeyError: 'name'`` -- so qc cannot import its own ``demo.qdpx``, written by qc 1.3.2 without names;
- a source without ``plainTextPath`` (``PictureSource``, ``PDFSource``, ...) crashes it with
  ``TypeError: element indices must be integers`` (it formats ``source['name']`` on an XML element), after the
  sources before it were already stored: exit 1 and a half-made project;
- it takes a selection's line from its ``name="line:N"`` (N counted from 0), as qc's exporter writes it; without
  that it maps every ``startPosition`` to line 0 (its ``line_positions`` walks characters, not lines);
- it keeps one coded line per (document, coder, line, code): codings that repeat one collapse into one.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

from conftest import ROOT
from test_ocr_variants import _missing  # the one skip-or-fail switch on WITI_REQUIRE_SYSTEM_PACKAGES

QC_VERSION = "1.7.8"
QC_WHEEL = f"qualitative_coding-{QC_VERSION}-py3-none-any.whl"
QC_WHEEL_SHA256 = "cc618ffb4d7c9dd72113cd627aa918ac91c409958928464bee7c4cf4a75b74fb"

QC_VENV = ROOT / ".venv-qc"
QC_PYTHON = QC_VENV / "bin" / "python"
QC_EXE = QC_VENV / "bin" / "qc"
WHEEL_DIR = ROOT / ".cache" / "qc-wheel"
SAMPLES_DIR = ROOT / ".cache" / "qc-samples"

# key -> (path inside the wheel, SHA-256 of that file as the 1.7.8 wheel ships it)
QC_SAMPLES = {
    "nvivo": (
        "qualitative_coding/refi_qda/nvivo_project.qdpx",
        "fed15f78985574bc39902d08f656f0182c5603facbdb2bdbba01069e19220cab",
    ),
    "demo": ("qualitative_coding/demo.qdpx", "c046e52f987bca36db2eddb8ea3e6ebef6ea6a92188ffd03f347dea25a56414c"),
}

QC_TIMEOUT = 300  # seconds for one qc command


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def qc_available() -> bool:
    """True when ``make qc-env`` has installed qc into ``.venv-qc``."""
    return QC_EXE.is_file() and os.access(QC_EXE, os.X_OK)


def require_qc() -> None:
    """Call first in a test that runs qc: skips without ``.venv-qc``, fails instead in CI."""
    if not qc_available():
        if not (3, 11) <= sys.version_info[:2] <= (3, 13):
            import pytest

            pytest.skip(f"qc {QC_VERSION} supports Python 3.11-3.13 only")
        _missing(f"qc {QC_VERSION} is not installed in {QC_VENV.name}/: run `make qc-env`")


def _installed_files() -> dict[str, Path] | None:
    """The samples inside ``.venv-qc``'s installed qualitative-coding, or None when it has none."""
    if not QC_PYTHON.is_file():
        return None
    code = (
        "import importlib.metadata as m, sys\n"
        "d = m.distribution('qualitative-coding')\n"
        "print(d.version)\n"
        "for p in sys.argv[1:]: print(d.locate_file(p))\n"
    )
    r = subprocess.run(
        [str(QC_PYTHON), "-c", code, *(p for p, _ in QC_SAMPLES.values())],
        capture_output=True,
        text=True,
        timeout=QC_TIMEOUT,
        check=False,
    )
    if r.returncode != 0:
        raise RuntimeError(f"{QC_PYTHON} cannot locate qualitative-coding (rerun `make qc-env`):\n{r.stderr[-2000:]}")
    version, *paths = r.stdout.splitlines()
    if version != QC_VERSION:
        raise RuntimeError(f"{QC_VENV.name} has qualitative-coding {version}, not {QC_VERSION}: rerun `make qc-env`")
    return {key: Path(p) for key, p in zip(QC_SAMPLES, paths)}


def qc_wheel() -> Path:
    """The qualitative-coding 1.7.8 wheel in ``.cache/qc-wheel/`` (``pip download`` once), its SHA-256 checked."""
    wheel = WHEEL_DIR / QC_WHEEL
    if not wheel.is_file():
        python = str(QC_PYTHON) if QC_PYTHON.is_file() else sys.executable
        WHEEL_DIR.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "--disable-pip-version-check",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                f"qualitative-coding=={QC_VERSION}",
                "-d",
                str(WHEEL_DIR),
            ],
            capture_output=True,
            text=True,
            timeout=QC_TIMEOUT,
            check=False,
        )
        if r.returncode != 0 or not wheel.is_file():
            raise RuntimeError(f"pip download qualitative-coding=={QC_VERSION} failed:\n{r.stderr[-2000:]}")
    got = _sha256(wheel)
    if got != QC_WHEEL_SHA256:
        raise RuntimeError(f"{wheel}: SHA-256 {got}, expected {QC_WHEEL_SHA256}")
    return wheel


def _copy_checked(read_bytes, dest: Path, expected: str) -> None:
    data = read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise RuntimeError(f"{dest.name}: SHA-256 {got}, expected {expected} (qualitative-coding {QC_VERSION})")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dest)


def qc_samples() -> dict[str, Path]:
    """``{"nvivo": path, "demo": path}``: stable copies in ``.cache/qc-samples/`` of the two ``.qdpx`` files of
    the qualitative-coding 1.7.8 wheel. Taken from ``.venv-qc``'s installed package, or, without ``.venv-qc``,
    from the wheel itself (``pip download``, SHA-256 checked); every file is checked against its pinned SHA-256,
    and any mismatch raises."""
    out = {key: SAMPLES_DIR / Path(inner).name for key, (inner, _) in QC_SAMPLES.items()}
    stale = [key for key, dest in out.items() if not dest.is_file() or _sha256(dest) != QC_SAMPLES[key][1]]
    if not stale:
        return out
    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    installed = _installed_files()
    if installed is not None:
        for key in stale:
            _copy_checked(installed[key].read_bytes, out[key], QC_SAMPLES[key][1])
    else:
        with zipfile.ZipFile(qc_wheel()) as zf:
            for key in stale:
                inner, sha = QC_SAMPLES[key]
                _copy_checked(lambda inner=inner: zf.read(inner), out[key], sha)
    return out


def qc_import(qdpx: Path, workdir: Path) -> subprocess.CompletedProcess:
    """Run ``qc init --import QDPX`` in ``workdir`` (made if missing; it must be empty, as qc requires), with
    ``PYTHONBREAKPOINT=0`` (qc 1.7.8's reader calls ``breakpoint()``). Returns the CompletedProcess (text)."""
    require_qc()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if any(workdir.iterdir()):
        raise ValueError(f"{workdir} is not empty: qc imports only into an empty folder")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "QC_SETTINGS")}
    env["PYTHONBREAKPOINT"] = "0"
    return subprocess.run(
        [str(QC_EXE), "init", "--import", str(Path(qdpx).resolve())],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=QC_TIMEOUT,
        check=False,
    )


def _settings(workdir: Path) -> dict:
    path = Path(workdir) / "settings.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no qc project here (did `qc init --import` succeed?)")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def qc_codings(workdir: Path) -> list[dict]:
    """The codings qc stored in its SQLite database (``settings.yaml``: ``database``), one per coded line:
    ``{"document": file name in qc's corpus/, "line": 0-based line, "code": code name, "coder": coder name}``,
    sorted. qc names a document after the TextSource's ``name`` with the plain text's suffix."""
    workdir = Path(workdir)
    db = workdir / _settings(workdir)["database"]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT DISTINCT cl.id, di.document_id, cl.line, cl.code_id, cl.coder_id FROM coded_line cl"
            " JOIN coded_line_location_association a ON a.coded_line_id = cl.id"
            " JOIN location l ON l.id = a.location_id"
            " JOIN document_index di ON di.id = l.document_index_id"
        ).fetchall()
        n = con.execute("SELECT count(*) FROM coded_line").fetchone()[0]
    finally:
        con.close()
    if len(rows) != n:
        raise RuntimeError(f"{db}: {n} coded lines but {len(rows)} tied to exactly one document")
    return sorted(
        ({"document": d, "line": line, "code": code, "coder": coder} for _, d, line, code, coder in rows),
        key=lambda c: (c["document"], c["line"], c["code"], c["coder"]),
    )


def qc_codebook(workdir: Path) -> list[str]:
    """The code names of qc's codebook YAML (``settings.yaml``: ``codebook``), depth first in file order; a name
    that stands under two parents appears twice."""
    workdir = Path(workdir)
    tree = yaml.safe_load((workdir / _settings(workdir)["codebook"]).read_text(encoding="utf-8")) or []
    names: list[str] = []

    def walk(nodes) -> None:
        for node in nodes:
            if isinstance(node, dict):
                for name, children in node.items():
                    names.append(str(name))
                    walk(children or [])
            else:
                names.append(str(node))

    walk(tree)
    return names
