"""The screenshots stage checks its own redaction (issue 9, Build 4): a fresh OCR of each redacted image, through
the de-identification gate. These tests switch the redactor off (or make it miss) and prove the check stops the
stage, with one line naming the page and nothing left behind; and they compare the two re-read modes."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from compendium import deid, ocr, redact, reread, screenshots
from compendium.errors import InputError
from compendium.render import png_bytes

from conftest import RAW

pytestmark = pytest.mark.slow

ROSTER = RAW / "private" / "roster.csv"
SHOTS = RAW / "private" / "screenshots"
PAGES = ("WITI-003", "WITI-006", "WITI-022")  # names in headers, first names and handles in the text, dark theme


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One OCR cache for the module: the pages are read once, each test's re-read is fresh (never cached)."""
    return tmp_path_factory.mktemp("ocr-cache")


@pytest.fixture()
def shots(tmp_path):
    d = tmp_path / "shots"
    d.mkdir()
    for sid in PAGES:
        shutil.copyfile(SHOTS / f"{sid}.png", d / f"{sid}.png")
    return d


def _copy_only(image, boxes, out_path):
    """A redactor switched off: the page is written as it is."""
    img = Image.fromarray(image) if isinstance(image, np.ndarray) else Image.open(image).convert("RGB")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(png_bytes(img))
    return out_path


_REDACT = redact.redact_image


def _headers_only(image_path, boxes, out_path):
    """A redactor that fills only the first box it is given (a careless one): names in the text stay."""
    return _REDACT(image_path, boxes[:1], out_path)


@pytest.mark.parametrize("mode", reread.MODES)
@pytest.mark.parametrize("redactor", [_copy_only, _headers_only])
def test_the_check_stops_a_stage_whose_redaction_fails(tmp_path, shots, cache, monkeypatch, mode, redactor):
    monkeypatch.setattr(redact, "redact_image", redactor)
    out = tmp_path / "out"
    with pytest.raises(InputError) as exc:
        screenshots.process(shots, ROSTER, out, cache_dir=cache, jobs=1, reread_mode=mode)
    msg = str(exc.value)
    assert "redaction check failed" in msg and "WITI-003" in msg, msg
    assert "identifier" in msg
    for name in deid.load_roster(ROSTER)["display_name"]:
        assert name not in msg and name.split()[0] not in msg.split("'")[1:2]
    assert not list(out.rglob("*.png")), "a redacted image that failed the check must not stay"
    assert not (out / "posts.csv").exists()


def test_the_check_passes_a_good_redaction_in_both_modes(tmp_path, shots, cache):
    for mode in reread.MODES:
        out = tmp_path / mode
        res = screenshots.process(shots, ROSTER, out, cache_dir=cache, jobs=1, reread_mode=mode)
        assert sorted(p.stem for p in (out / "redacted").glob("*.png")) == list(PAGES)
        assert len(res["posts"]) > 10


def test_the_places_read_again_hold_every_identifier_found(shots, cache):
    """The places the check reads again cover every identifier the gate found in the first reading, and on the
    unredacted capture each of them reads as an identifier: the check looks where a name would be."""
    gate = deid.load_gate(ROSTER)
    for path, words, _ in screenshots.iter_read(sorted(shots.glob("*.png")), cache_dir=cache):
        boxes = screenshots.gate_boxes(words, gate)
        assert boxes, path
        original = reread.page_array(path)
        places = reread.regions(boxes, redact.measure_boxes(original, boxes))
        for b, m in zip(boxes, redact.measure_boxes(original, boxes)):
            assert any(p[0] <= m[0] and m[2] <= p[2] and p[1] <= m[1] and m[3] <= p[3] for p in places), (path, m)
        found = reread.hits(ocr.read_regions(original, places), gate, places)
        assert len({(h["y0"], h["y1"]) for h in found}) >= 0.9 * len(places), (path, found, places)


def test_places_join_on_a_line_and_widen():
    boxes = [[100, 100, 200, 140], [230, 102, 300, 138], [100, 600, 160, 640]]
    places = reread.regions(boxes, boxes)
    assert places == [[60, 90, 336, 150], [60, 590, 200, 650]]  # each widened by its own line height


def test_tesseract_reads_the_places_too(shots, cache):
    """With the optional engine the check reads the same places with Tesseract (one line per place): on the
    unredacted capture it finds the names there, on the redacted one nothing."""
    import test_ocr_variants as tv

    tv.require_tesseract()
    gate = deid.load_gate(ROSTER)
    ((path, words, _),) = screenshots.iter_read([shots / "WITI-003.png"], cache_dir=cache)
    boxes = screenshots.gate_boxes(words, gate)
    original = reread.page_array(path)
    measured = redact.measure_boxes(original, boxes)
    places = reread.regions(boxes, measured)
    found = reread.hits(ocr.read_regions(original, places, engine="tesseract"), gate, places)
    assert len(found) >= 0.8 * len(places), (found, places)
    out = redact.redact_image(original, sorted({tuple(b) for b in measured}), shots.parent / "red.png")
    assert not reread.check_image(out, places, gate, engine="tesseract")
