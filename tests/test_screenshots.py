"""End to end: render -> OCR -> layout -> pseudonyms -> posts.csv, redaction, quality, variant styles.

OCR is slow-ish (about a second a page), so these tests render few pages.
"""

import json
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest


from compendium import ocr, pseudonyms, render, screenshots  # noqa: E402
from compendium.errors import InputError  # noqa: E402
from compendium.tables import write_csv  # noqa: E402


def make_corpus(root: Path, n_pages=5, seed=4, styles=None):
    members, threads = render.demo_bank(n_threads=20, seed=seed)
    shots = root / "screenshots"
    rows = render.write_screenshots(shots, members, threads, seed=seed, n_pages=n_pages, styles=styles)
    write_csv(rows.drop(columns=["thread_id", "bank_post"]), shots / "transcribed.csv")
    pseudonyms.write_roster(members, root / "roster.csv")
    return members, rows


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("shots")
    members, rows = make_corpus(root)
    res = screenshots.process(root / "screenshots", root / "roster.csv", root / "derived",
                              transcribed_path=root / "screenshots" / "transcribed.csv", jobs=2,
                              cache_dir=root / "cache")
    return root, members, rows, res


def test_outputs_and_columns(run):
    root, _, rows, res = run
    for name in ["posts.csv", "threads.csv", "ocr_quality.csv"]:
        assert (root / "derived" / name).exists()
    assert sorted(p.name for p in (root / "derived" / "redacted").glob("*.png")) == \
        [f"WITI-{i:03d}.png" for i in range(1, 6)]
    posts = pd.read_csv(root / "derived" / "posts.csv", keep_default_na=False)
    assert list(posts.columns) == screenshots.POST_COLUMNS
    assert posts["post_id"].str.fullmatch(r"WITI-\d{3}#\d+").all()
    assert all(isinstance(b, list) and len(b[0]) == 4 for b in posts["boxes"].map(json.loads))
    assert set(posts["author"]) <= {m["pseudonym"] for m in run[1]} | {"Anonymous member"}
    assert len(res["threads"]) >= 1


def test_quality_bars(run):
    _, _, rows, res = run
    q = res["ocr_quality"]
    summary = screenshots.summarise_quality(q, rows)
    assert summary["count_exact"] >= 0.95
    assert summary["author_accuracy"] >= 0.98
    assert summary["depth_accuracy"] >= 0.95
    assert summary["cer"] <= 0.02


def test_no_identifier_in_derived_or_redacted(run):
    root, members, _, _ = run
    roster = pseudonyms.roster_from_members(members)
    idents = [i for i in roster.identifiers() if len(i) >= 3]
    text = (root / "derived" / "posts.csv").read_text(encoding="utf-8")
    text += (root / "derived" / "threads.csv").read_text(encoding="utf-8")
    for ident in idents:
        assert not re.search(rf"(?<!\w){re.escape(ident)}(?!\w)", text, flags=re.IGNORECASE), ident
    ocr_text = " ".join(" ".join(ocr.read_words(p)["text"])
                        for p in sorted((root / "derived" / "redacted").glob("*.png")))
    for ident in idents:
        assert not re.search(rf"(?<!\w){re.escape(ident)}(?!\w)", ocr_text, flags=re.IGNORECASE), ident


def test_rerun_is_identical_and_cached(run, monkeypatch):
    root, _, _, _ = run
    monkeypatch.setattr(ocr, "_run_rapidocr", lambda arr: (_ for _ in ()).throw(AssertionError("no OCR")))
    screenshots.process(root / "screenshots", root / "roster.csv", root / "again",
                        transcribed_path=root / "screenshots" / "transcribed.csv", jobs=1, cache_dir=root / "cache")
    for name in ["posts.csv", "threads.csv", "ocr_quality.csv", "redacted/WITI-003.png"]:
        assert (root / "again" / name).read_bytes() == (root / "derived" / name).read_bytes(), name


def test_blank_screenshot_is_an_error(tmp_path):
    from PIL import Image

    shots = tmp_path / "s"
    shots.mkdir()
    (shots / "WITI-001.png").write_bytes(render.png_bytes(Image.new("RGB", (1080, 2340), "white")))
    members, _ = render.demo_bank(n_threads=2)
    pseudonyms.write_roster(members, tmp_path / "roster.csv")
    with pytest.raises(InputError, match="WITI-001.png.*no readable post"):
        screenshots.process(shots, tmp_path / "roster.csv", tmp_path / "out")


def test_corrupt_screenshot_is_an_error(tmp_path):
    shots = tmp_path / "s"
    shots.mkdir()
    (shots / "WITI-001.png").write_bytes(b"\x89PNG\r\n\x1a\nrubbish")
    members, _ = render.demo_bank(n_threads=2)
    pseudonyms.write_roster(members, tmp_path / "roster.csv")
    with pytest.raises(InputError, match="WITI-001.png"):
        screenshots.process(shots, tmp_path / "roster.csv", tmp_path / "out")


FONTS = {
    "liberation": ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
                   "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    "freesans": ("/usr/share/fonts/truetype/freefont/FreeSans.ttf",
                 "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf"),
    "opensans": ("/usr/share/fonts/truetype/open-sans/OpenSans-Regular.ttf",
                 "/usr/share/fonts/truetype/open-sans/OpenSans-Bold.ttf"),
    "roboto": ("/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Regular.ttf",
               "/usr/share/fonts/truetype/roboto/unhinted/RobotoTTF/Roboto-Bold.ttf"),
}


@pytest.mark.parametrize("font, width, size, indent, theme", [
    ("liberation", 750, 26, 44, "light"),
    ("freesans", 1300, 40, 110, "dark"),
    ("opensans", 1080, 32, 60, "warm"),
    ("roboto", 900, 30, 84, "dark"),
])
def test_unseen_styles(tmp_path, font, width, size, indent, theme):
    regular, bold = FONTS[font]
    if not (Path(regular).exists() and Path(bold).exists()):
        pytest.skip(f"font {font} not installed (apt-get install fonts-liberation fonts-freefont-ttf "
                    "fonts-open-sans fonts-roboto-unhinted)")
    style = replace(render.Style(), font_regular=regular, font_bold=bold, width=width, font_size=size,
                    indent=indent, margin=round(width * 0.04), theme=theme)
    _, rows = make_corpus(tmp_path, n_pages=3, seed=7, styles=[style])
    res = screenshots.process(tmp_path / "screenshots", tmp_path / "roster.csv", tmp_path / "out",
                              transcribed_path=tmp_path / "screenshots" / "transcribed.csv", jobs=2)
    summary = screenshots.summarise_quality(res["ocr_quality"], rows)
    assert summary["count_exact"] == 1.0, res["ocr_quality"]
    assert summary["author_accuracy"] >= 0.98, res["ocr_quality"]
    assert summary["depth_accuracy"] >= 0.95, res["ocr_quality"]
    assert summary["cer"] <= 0.02, res["ocr_quality"]
