"""End to end: render -> OCR -> layout -> pseudonyms -> posts.csv, redaction, quality, variant styles.

OCR is slow-ish (about a second a page), so these tests render few pages.
"""

import json
import re
from pathlib import Path

import pandas as pd
import pytest


from compendium import deid, ocr, pseudonyms, render, screenshots  # noqa: E402
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
    res = screenshots.process(
        root / "screenshots",
        root / "roster.csv",
        root / "derived",
        transcribed_path=root / "screenshots" / "transcribed.csv",
        jobs=2,
        cache_dir=root / "cache",
    )
    return root, members, rows, res


def test_outputs_and_columns(run):
    root, _, rows, res = run
    for name in ["posts.csv", "threads.csv", "ocr_quality.csv"]:
        assert (root / "derived" / name).exists()
    assert sorted(p.name for p in (root / "derived" / "redacted").glob("*.png")) == [
        f"WITI-{i:03d}.png" for i in range(1, 6)
    ]
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
    ocr_text = " ".join(
        " ".join(ocr.read_words(p)["text"]) for p in sorted((root / "derived" / "redacted").glob("*.png"))
    )
    for ident in idents:
        assert not re.search(rf"(?<!\w){re.escape(ident)}(?!\w)", ocr_text, flags=re.IGNORECASE), ident


def test_rerun_is_identical_and_cached(run, monkeypatch):
    root, _, _, _ = run
    monkeypatch.setattr(ocr, "_run_rapidocr", lambda arr: (_ for _ in ()).throw(AssertionError("no OCR")))
    screenshots.process(
        root / "screenshots",
        root / "roster.csv",
        root / "again",
        transcribed_path=root / "screenshots" / "transcribed.csv",
        jobs=1,
        cache_dir=root / "cache",
    )
    for name in ["posts.csv", "threads.csv", "ocr_quality.csv", "redacted/WITI-003.png"]:
        assert (root / "again" / name).read_bytes() == (root / "derived" / name).read_bytes(), name


def test_blank_screenshot_is_an_error(tmp_path):
    from PIL import Image

    shots = tmp_path / "s"
    shots.mkdir()
    (shots / "WITI-001.png").write_bytes(render.png_bytes(Image.new("RGB", (1080, 2340), "white")))
    members, _ = render.demo_bank(n_threads=2)
    pseudonyms.write_roster(members, tmp_path / "roster.csv")
    with pytest.raises(InputError, match="WITI-001.png: blank image"):
        screenshots.process(shots, tmp_path / "roster.csv", tmp_path / "out")


def test_corrupt_screenshot_is_an_error(tmp_path):
    shots = tmp_path / "s"
    shots.mkdir()
    (shots / "WITI-001.png").write_bytes(b"\x89PNG\r\n\x1a\nrubbish")
    members, _ = render.demo_bank(n_threads=2)
    pseudonyms.write_roster(members, tmp_path / "roster.csv")
    with pytest.raises(InputError, match="WITI-001.png"):
        screenshots.process(shots, tmp_path / "roster.csv", tmp_path / "out")


def test_post_quality_and_worst_posts(run):
    _, _, rows, res = run
    pq = res["post_quality"]
    assert list(pq.columns) == screenshots.POST_QUALITY_COLUMNS
    assert len(pq) == len(rows) and pq["found"].all()
    assert ((pq["cer"] >= 0) & (pq["cer"] <= 1)).all()
    worst = screenshots.worst_posts(res["posts"], pq, n=3)
    assert len(worst) == 3 and "text_raw" not in worst.columns
    assert list(worst["cer"]) == sorted(pq["cer"], reverse=True)[:3]
    by_conf = screenshots.worst_posts(res["posts"], n=2)
    assert list(by_conf["ocr_confidence"]) == sorted(res["posts"]["ocr_confidence"])[:2]


def test_crops_come_from_the_redacted_images(run):
    from PIL import Image

    root, _, _, res = run
    posts = res["posts"]
    red = root / "derived" / "redacted"
    for _, post in posts.head(4).iterrows():
        crop = screenshots.crop_post(post, red)
        x0, y0, x1, y1 = screenshots.post_box(post["boxes"])
        with Image.open(red / f"{post['screenshot_id']}.png") as im:
            expected = im.convert("RGB").crop((x0, y0, min(x1, im.width), min(y1, im.height)))
        assert crop.size == expected.size and crop.tobytes() == expected.tobytes()
    with pytest.raises(InputError, match="redacted"):
        screenshots.crop_post(posts.iloc[0], root / "private" / "screenshots")
    with pytest.raises(InputError, match="not found"):
        screenshots.crop_post(posts.iloc[0], root / "nowhere" / "redacted")


def test_page_without_posts_stops_the_run_early(run, tmp_path):
    """The bad page is named, and pages after it are not read (two workers: at most four pages ever read)."""
    from PIL import Image, ImageDraw, ImageFont

    root, _, _, _ = run
    shots = tmp_path / "s"
    shots.mkdir()
    for i in range(2, 9):  # seven good pages: the fixture's four, then copies with one pixel changed
        page = Image.open(root / "screenshots" / f"WITI-{2 + (i - 2) % 4:03d}.png").convert("RGB")
        page.putpixel((0, 0), (i, i, i))
        (shots / f"WITI-{i:03d}.png").write_bytes(render.png_bytes(page))
    img = Image.new("RGB", (1080, 2340), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(render.Style().font_regular, 40)
    for k, text in enumerate(["Settings", "Wi-Fi", "Bluetooth", "Display and brightness"]):
        d.text((60, 120 + 110 * k), text, fill=(20, 20, 20), font=font)
    (shots / "WITI-001.png").write_bytes(render.png_bytes(img))
    with pytest.raises(InputError, match=r"WITI-001.png: no readable post in screenshot \(OCR read \d+ line"):
        screenshots.process(shots, root / "roster.csv", tmp_path / "out", jobs=2, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.json"))) <= 4  # of 8 pages
    assert not (tmp_path / "out").exists()


def test_author_missing_from_the_roster_is_masked_listed_and_redacted(run, tmp_path):
    """A member who is not on the roster is never passed through: their posts get ``[unknown member]``, each
    is listed for review (masked to initials), and their name is boxed out of the redacted screenshot."""
    root, members, rows, _ = run
    counts = rows[rows["author"] != render.ANONYMOUS].groupby("author").size().sort_values(kind="mergesort")
    name = counts.index[-1]  # the display name with the most posts
    gone = next(m for m in members if m["display_name"] == name)
    pseudonyms.write_roster([m for m in members if m is not gone], tmp_path / "roster.csv")
    res = screenshots.process(
        root / "screenshots", tmp_path / "roster.csv", tmp_path / "out", jobs=1, cache_dir=root / "cache"
    )  # the fixture's OCR cache: no OCR here
    posts = res["posts"]
    theirs = rows[rows["author"] == name][["screenshot_id", "post_index"]]
    got = posts.merge(theirs, on=["screenshot_id", "post_index"])
    assert len(got) == len(theirs) >= 1 and (got["author"] == pseudonyms.UNKNOWN).all()
    assert gone["pseudonym"] not in set(posts["author"])
    review = res["review"][res["review"]["field"] == "author"]
    assert sorted(review["post_id"]) == sorted(got["post_id"])
    assert (review["original"] == screenshots._mask(name)).all() and name not in review["original"].tolist()
    written = (tmp_path / "out" / "posts.csv").read_text(encoding="utf-8")
    assert not deid.whole_word_pattern([name, gone["handle"]]).search(written)
    page = theirs["screenshot_id"].iloc[0]
    read = " ".join(ocr.read_words(tmp_path / "out" / "redacted" / f"{page}.png")["text"])
    assert not deid.whole_word_pattern([name], at=False).search(read), read
