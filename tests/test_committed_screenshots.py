"""Issue 3's "done when" on the committed corpus: the SPEC 6 bars, and no identifier in a fresh OCR of the
redacted screenshots that a paper may show.

``data/derived/ocr_quality.csv`` is what the screenshots stage measured against the hand-checked transcription;
tests/test_pipeline.py proves a cold run reproduces it byte for byte, so the bars are checked on the committed
table here. The redacted images are read again with the default OCR engine (no cache, so nothing of the stage's
own reading is reused) and every line goes through the same de-identification gate the pipeline uses, which
matches display names, handles and aliases whole-word, case-insensitively and tolerant of OCR misreadings.
"""

from __future__ import annotations

import pandas as pd
import pytest

from compendium import deid, screenshots
from compendium.tables import read_csv

from conftest import DERIVED, RAW

pytestmark = pytest.mark.slow

ROSTER = RAW / "private" / "roster.csv"
TRANSCRIBED = RAW / "private" / "screenshots" / "transcribed.csv"


def test_committed_corpus_meets_spec6():
    quality = read_csv(DERIVED / "ocr_quality.csv")
    transcribed = read_csv(TRANSCRIBED, dtype=str)
    assert len(quality) == 35 and quality["posts_expected"].sum() == len(transcribed) == 210
    s = screenshots.summarise_quality(quality, transcribed)
    assert s["cer"] <= 0.02, s
    assert s["author_accuracy"] >= 0.98, s
    assert s["depth_accuracy"] >= 0.95, s
    assert s["count_exact"] >= 0.95, s


def test_committed_posts_agree_with_the_quality_table():
    """The counts in ocr_quality.csv are the posts in posts.csv (the table is not stale)."""
    posts = read_csv(DERIVED / "posts.csv")
    quality = read_csv(DERIVED / "ocr_quality.csv").set_index("screenshot_id")
    found = posts.groupby("screenshot_id").size()
    pd.testing.assert_series_equal(found.sort_index(), quality["posts_found"].sort_index(), check_names=False)


def test_fresh_ocr_of_the_redacted_images_finds_no_identifier():
    gate = deid.load_gate(ROSTER)
    files = sorted((DERIVED / "redacted").glob("WITI-*.png"))
    assert len(files) == 35
    hits, lines = [], 0
    for path, words, _ in screenshots.iter_read(files, jobs=2, cache_dir=None):
        text = "\n".join(words.sort_values(["y0", "x0"])["text"].astype(str))
        lines += len(words)
        hits += [h for h in gate.scan_text(text, path) if h.kind == "roster identifier"]
    assert lines > 35 * 10, "the redacted images should still be readable"
    assert not hits, [h.format() for h in hits]


def test_the_gate_would_see_a_name_left_on_a_redacted_image(tmp_path):
    """The check above can fail: a redacted page with one display name drawn back on is caught."""
    from PIL import Image, ImageDraw, ImageFont

    from compendium import render

    name = deid.load_roster(ROSTER)["display_name"].iloc[0]
    page = Image.open(DERIVED / "redacted" / "WITI-001.png").convert("RGB")
    d = ImageDraw.Draw(page)
    d.text((60, page.height - 120), f"thanks {name} for this", fill=(20, 20, 20),
           font=ImageFont.truetype(render.Style().font_regular, 40))
    planted = tmp_path / "WITI-001.png"
    planted.write_bytes(render.png_bytes(page))
    (_, words, _), = screenshots.iter_read([planted], cache_dir=None)
    hits = deid.load_gate(ROSTER).scan_text("\n".join(words["text"].astype(str)), str(planted))
    assert any(h.kind == "roster identifier" for h in hits), list(words["text"])
