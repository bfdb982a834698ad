"""Bad input to the screenshots stage, through the command line as a user meets it.

Each test copies ``data/raw`` and ``data/derived`` to a temporary folder, breaks one thing in the raw copy,
rewrites its MANIFEST.sha256 (so that the manifest check passes and the stage itself must find the fault), runs
``compendium run --only screenshots`` and checks: exit status 2, exactly one line on stderr that names the file and
the reason, no traceback, and the derived folder byte for byte as it was (no partial output).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from compendium import manifest, render

from conftest import DERIVED, RAW, compendium, one_line_exit_2

SHOTS = Path("private") / "screenshots"


def _digest_tree(root: Path) -> dict:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def derived_digest():
    return _digest_tree(DERIVED)


@pytest.fixture
def corpus(tmp_path, full_run):
    """(raw copy, derived copy, run): break the raw copy, then call run(*extra_args) -> CompletedProcess.

    The run starts from a copy of the shared full run's OCR cache (conftest ``full_run``): the pages left intact
    are read from it, so the stage reaches the broken one in seconds instead of reading every page before it
    afresh; the broken page is new to the cache (its bytes changed) and is read as a user's would be."""
    raw, derived = tmp_path / "raw", tmp_path / "derived"
    shutil.copytree(RAW, raw)
    shutil.copytree(DERIVED, derived)
    shutil.copytree(full_run[0] / "cache", tmp_path / "cache")

    def run(*extra, env=None):
        manifest.write(raw)
        args = [
            "run",
            "--raw",
            raw,
            "--derived",
            derived,
            "--reports",
            tmp_path / "reports",
            "--cache",
            tmp_path / "cache",
            "--only",
            "screenshots",
            *extra,
        ]
        if env is None:
            return compendium(*args)
        exe = shutil.which("compendium", path=str(Path(sys.executable).parent))
        return subprocess.run(
            [exe, *map(str, args)], capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1]
        )

    return raw, derived, run


def _untouched(tmp_path: Path, derived: Path, digest: dict) -> None:
    assert _digest_tree(derived) == digest
    leftovers = [p.name for p in tmp_path.rglob(".staging-*")] + [p.name for p in tmp_path.rglob(".old-*")]
    assert not leftovers, leftovers


def test_truncated_png(corpus, tmp_path, derived_digest):
    raw, derived, run = corpus
    p = raw / SHOTS / "WITI-012.png"
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    one_line_exit_2(run(), str(raw / SHOTS / "WITI-012.png"), "truncated")
    _untouched(tmp_path, derived, derived_digest)


def test_corrupt_png(corpus, tmp_path, derived_digest):
    raw, derived, run = corpus
    p = raw / SHOTS / "WITI-020.png"
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(64)  # a damaged compressed block, same length
    p.write_bytes(bytes(data))
    one_line_exit_2(run(), str(raw / SHOTS / "WITI-020.png"), "corrupt")
    _untouched(tmp_path, derived, derived_digest)


def test_not_a_png(corpus, tmp_path, derived_digest):
    raw, derived, run = corpus
    (raw / SHOTS / "WITI-005.png").write_bytes(b"GIF89a\x01\x00\x01\x00 this is not a PNG")
    one_line_exit_2(run(), str(raw / SHOTS / "WITI-005.png"), "not a PNG")
    _untouched(tmp_path, derived, derived_digest)


def test_empty_file(corpus, tmp_path, derived_digest):
    raw, derived, run = corpus
    (raw / SHOTS / "WITI-030.png").write_bytes(b"")
    one_line_exit_2(run(), str(raw / SHOTS / "WITI-030.png"), "empty image file")
    _untouched(tmp_path, derived, derived_digest)


def test_blank_image(corpus, tmp_path, derived_digest):
    raw, derived, run = corpus
    (raw / SHOTS / "WITI-035.png").write_bytes(render.png_bytes(Image.new("RGB", (1080, 2340), (24, 25, 26))))
    one_line_exit_2(run(), str(raw / SHOTS / "WITI-035.png"), "blank image")
    _untouched(tmp_path, derived, derived_digest)


def test_tiny_image(corpus, tmp_path, derived_digest):
    raw, derived, run = corpus
    (raw / SHOTS / "WITI-002.png").write_bytes(render.png_bytes(Image.new("RGB", (1, 1), "white")))
    one_line_exit_2(run(), str(raw / SHOTS / "WITI-002.png"), "too small")
    _untouched(tmp_path, derived, derived_digest)


def _settings_page() -> Image.Image:
    """A phone capture of something else: readable text, but no post (no ``Name · TIME`` header)."""
    img = Image.new("RGB", (1080, 2340), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(render.Style().font_regular, 40)
    for k, text in enumerate(
        [
            "Settings",
            "Wi-Fi",
            "Bluetooth",
            "Display and brightness",
            "Sounds and vibration",
            "Notifications",
            "Battery and device care",
        ]
    ):
        d.text((60, 120 + 110 * k), text, fill=(20, 20, 20), font=font)
    return img


def test_screenshot_without_a_readable_post(corpus, tmp_path, derived_digest):
    raw, derived, run = corpus
    (raw / SHOTS / "WITI-001.png").write_bytes(render.png_bytes(_settings_page()))
    one_line_exit_2(run(), str(raw / SHOTS / "WITI-001.png"), "no readable post")
    _untouched(tmp_path, derived, derived_digest)


def test_roster_with_a_duplicate_pseudonym(corpus, tmp_path, derived_digest):
    raw, derived, run = corpus
    roster = raw / "private" / "roster.csv"
    lines = roster.read_text(encoding="utf-8").splitlines(keepends=True)
    first = lines[1].split(",")[0]
    lines[5] = first + lines[5][lines[5].index(",") :]
    roster.write_text("".join(lines), encoding="utf-8")
    line = one_line_exit_2(run(), f"{roster}:6", "duplicate pseudonym", first)
    # the error names the row, never the person on it
    assert lines[5].split(",")[1] not in line
    _untouched(tmp_path, derived, derived_digest)


def test_unknown_ocr_engine(corpus, tmp_path, derived_digest):
    _, derived, run = corpus
    one_line_exit_2(
        run("-p", "ocr_engine=nonesuch"), "ocr_engine", "must be one of rapidocr, tesseract, not 'nonesuch'"
    )
    _untouched(tmp_path, derived, derived_digest)


def test_tesseract_not_installed_says_how_to_install_it(corpus, tmp_path, derived_digest):
    _, derived, run = corpus
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # the venv, without /usr/bin's tesseract
    one_line_exit_2(
        run("-p", "ocr_engine=tesseract", env=env), "ocr_engine", "not installed", "apt-get install tesseract-ocr"
    )
    _untouched(tmp_path, derived, derived_digest)
