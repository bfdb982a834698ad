"""Renderer: pagination, drawing, determinism, transcription rows."""

import hashlib
from dataclasses import replace

import pytest


from compendium import render  # noqa: E402
from compendium.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def bank():
    return render.demo_bank(n_threads=40, seed=3)


def test_fill_mentions(bank):
    members, _ = bank
    by_key = {m["key"]: m for m in members}
    text = render.fill_mentions("Thanks {first:m01}! @{handle:m02} and {name:m03}", by_key)
    assert text == "Thanks Jia Hui! @rach.tan and Muhammad Irfan"
    with pytest.raises(InputError):
        render.fill_mentions("{first:m99}", by_key)


def test_format_time():
    import datetime as dt

    cap = dt.datetime(2023, 3, 12, 22, 0)
    assert render.format_time(dt.datetime(2023, 3, 12, 20, 0), cap) == "2h"
    assert render.format_time(dt.datetime(2023, 3, 9, 20, 0), cap) == "3d"
    assert render.format_time(dt.datetime(2023, 2, 1, 20, 0), cap) == "1 Feb"
    assert render.format_time(dt.datetime(2022, 12, 1, 9, 5), cap) == "1 Dec 2022, 09:05"
    assert render.format_time(dt.datetime(2023, 3, 12, 21, 14), cap, absolute=True) == "12 Mar 2023, 21:14"


def test_paginate_structure(bank):
    members, threads = bank
    pages = render.paginate(threads, members, n_pages=35, seed=1)
    assert len(pages) == 35
    mid = [p for p in pages if p["posts"][0]["depth"] > 0]
    assert len(mid) >= 3, "several pages must start mid-thread"
    for page in pages:
        for k, post in enumerate(page["posts"]):
            if post["parent"] is not None:
                parent = page["posts"][post["parent"]]
                assert post["parent"] < k and parent["depth"] == post["depth"] - 1
            elif post["depth"] > 0:
                assert k == 0 or all(q["depth"] > 0 for q in page["posts"][:k])
    # pages follow each other through the bank in reading order
    flat = [(p["thread_id"], p["bank_post"]) for page in pages for p in page["posts"]]
    assert len(flat) == len(set(flat))


def test_too_few_posts(bank):
    members, threads = bank
    with pytest.raises(ValueError):
        render.paginate(threads[:2], members, n_pages=35)


@pytest.mark.parametrize("theme", ["light", "dark", "warm"])
@pytest.mark.parametrize("width", [750, 1080, 1300])
def test_draw_page_sizes_and_themes(bank, theme, width):
    members, threads = bank
    page = render.paginate(threads, members, n_pages=35, seed=1)[0]
    img = render.draw_page(page, render.Style(theme=theme, width=width))
    assert img.width == width and img.height >= round(width * 19.5 / 9)
    bg = img.getpixel((1, img.height - 2))
    assert bg == render.THEMES[theme]["bg"]


def test_write_screenshots_deterministic(tmp_path, bank):
    members, threads = bank
    a = render.write_screenshots(tmp_path / "a", members, threads, seed=5, n_pages=6)
    b = render.write_screenshots(tmp_path / "b", members, threads, seed=5, n_pages=6)
    assert a.equals(b)
    for i in range(1, 7):
        fa, fb = tmp_path / "a" / f"WITI-{i:03d}.png", tmp_path / "b" / f"WITI-{i:03d}.png"
        assert hashlib.sha256(fa.read_bytes()).digest() == hashlib.sha256(fb.read_bytes()).digest()
        data = fa.read_bytes()
        assert b"tIME" not in data and b"tEXt" not in data and b"iTXt" not in data
    assert list(a.columns) == [
        "screenshot_id",
        "post_index",
        "depth",
        "author",
        "timestamp",
        "text",
        "reactions",
        "act",
        "thread_id",
        "bank_post",
    ]
    assert a.groupby("screenshot_id")["post_index"].apply(lambda s: list(s) == list(range(1, len(s) + 1))).all()
    assert (a["text"].str.contains("{") == False).all()  # noqa: E712  placeholders filled
    c = render.write_screenshots(tmp_path / "c", members, threads, seed=6, n_pages=6)
    assert (
        not a.equals(c)
        or (tmp_path / "c" / "WITI-001.png").read_bytes() != (tmp_path / "a" / "WITI-001.png").read_bytes()
    )


def test_anonymous_and_admin(bank):
    members, threads = bank
    posts = render.flatten(threads, members)
    assert any(p["display_name"] == "Anonymous member" and p["handle"] is None for p in posts)
    assert any(p["admin"] for p in posts)


def test_style_rejects_unknown_theme(bank):
    members, threads = bank
    page = render.paginate(threads, members, n_pages=35, seed=1)[0]
    with pytest.raises(ValueError):
        render.draw_page(page, replace(render.Style(), theme="neon"))


# --------------------------------------------------------------------------------------------------
# What real phones capture (issue 9): chrome, headers without a separator, more themes, degraded captures
# --------------------------------------------------------------------------------------------------

import io  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
from PIL import Image, ImageChops  # noqa: E402

from compendium import screenshots, synth  # noqa: E402

from conftest import RAW  # noqa: E402

ALL_CHROME = dict(status_bar=True, back_bar=True, nav_bar=True, reply_box=True)


@pytest.fixture(scope="module")
def study_bank():
    members = synth._load_yaml(synth.DATA / "members.yml")["members"]
    threads = synth._load_yaml(synth.DATA / "threads.yml")["threads"]
    return members, threads


def test_default_style_redraws_committed_pages(study_bank):
    """The new Style fields are all off by default: a light and a dark committed page redraw byte for byte, and
    their transcription rows are the committed ones."""
    members, threads = study_bank
    seed = synth.DEFAULT_SEED
    pages = render.paginate(threads, members, n_pages=synth.N_SCREENSHOTS, seed=seed)
    rng = random.Random(f"{seed}-themes")  # as render.write_screenshots picks the themes
    themes = ["dark" if rng.random() < 0.3 else "light" for _ in pages]
    picks = [0, themes.index("dark")]
    shots = RAW / "private" / "screenshots"
    committed = pd.read_csv(shots / "transcribed.csv", keep_default_na=False)
    for i in picks:
        style = replace(render.Style(), theme=themes[i])
        sid = f"WITI-{i + 1:03d}"
        assert render.png_bytes(render.draw_page(pages[i], style)) == (shots / f"{sid}.png").read_bytes(), sid
        rows = pd.DataFrame(render.transcribe_page(pages[i], style))
        want = committed[committed["screenshot_id"] == sid].reset_index(drop=True)
        assert rows["text"].tolist() == want["text"].tolist()
        assert rows["author"].tolist() == want["author"].tolist()
        assert rows["timestamp"].tolist() == want["timestamp"].astype(str).tolist()
        assert render.chrome_boxes(pages[i], style) == {}


def _page_with(pages, pred):
    return next(p for p in pages if pred(p))


def _ink_box(items, size, bg):
    img = render.draw_items(Image.new("RGB", size, bg), items)
    return ImageChops.difference(img, Image.new("RGB", size, bg)).getbbox()


def _inside(inner, outer) -> bool:
    return inner[0] >= outer[0] and inner[1] >= outer[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(
    "theme, width, size",
    [("light", 1080, 34), ("dark", 720, 22), ("black", 1440, 46), ("tinted", 900, 28), ("warm", 1300, 40)],
)
def test_chrome_drawn_inside_its_boxes_and_off_the_posts(bank, theme, width, size):
    members, threads = bank
    style = replace(
        render.Style(),
        theme=theme,
        width=width,
        font_size=size,
        margin=round(width * 0.04),
        indent=round(width * 0.06),
        **ALL_CHROME,
    )
    pages = render.paginate(threads, members, n_pages=35, seed=1, style=style)
    page = _page_with(pages, lambda p: p["title_bar"])  # the group's banner under the chrome, too
    height, items, _ = render.layout_page(page, style)
    regions = render.layout_regions(page, style)
    chrome = render.chrome_boxes(page, style)
    assert list(chrome) == list(render.CHROME_KINDS) == ["status", "title", "reply", "nav"]
    assert [r["kind"] for r in regions if r["kind"] in chrome] == ["status", "title", "reply", "nav"]
    posts = [r["box"] for r in regions if r["kind"] == "post"]
    banner = [r["box"] for r in regions if r["kind"] == "banner"]
    assert len(posts) == len(page["posts"]) and len(banner) == 1
    bg = style.colours()["bg"]
    size_ = (style.width, height)
    for kind, box in chrome.items():
        ink = _ink_box([it for it in items if it.get("chrome") == kind], size_, (1, 2, 3))
        assert ink is not None and _inside(ink, box), (kind, ink, box)
        for other in posts + banner:
            assert not _overlap(box, other), (kind, box, other)
    # the status bar is at the very top, the title bar under it, the reply box under the last post and the
    # navigation bar at the bottom of the capture
    assert chrome["status"][1] == 0 and chrome["title"][1] == chrome["status"][3]
    assert banner[0][1] >= chrome["title"][3] and posts[0][1] >= banner[0][3]
    assert chrome["reply"][1] >= posts[-1][3] and chrome["nav"][1] >= chrome["reply"][3]
    assert chrome["nav"][3] == height and chrome["nav"][2] == style.width
    # nothing but the chrome draws into the chrome's boxes
    rest = render.draw_items(Image.new("RGB", size_, bg), [it for it in items if "chrome" not in it])
    for kind, box in chrome.items():
        assert rest.crop(box).getextrema() == tuple((v, v) for v in bg), kind
    # the page drawn is what was laid out, at the phone's size
    img = render.draw_page(page, style)
    assert img.size == size_ and img.height >= round(width * 19.5 / 9)


def test_chrome_scales_with_font_size_and_width(bank):
    members, threads = bank
    boxes = {}
    for width, size in [(720, 22), (1440, 44)]:
        style = replace(render.Style(), width=width, font_size=size, margin=round(width * 0.04), **ALL_CHROME)
        page = render.paginate(threads, members, n_pages=35, seed=2, style=style)[3]
        boxes[width] = render.chrome_boxes(page, style)
    for kind in render.CHROME_KINDS:
        small, large = boxes[720][kind], boxes[1440][kind]
        hs, hl = small[3] - small[1], large[3] - large[1]
        ws, wl = small[2] - small[0], large[2] - large[0]
        assert 1.8 <= hl / hs <= 2.2 and 1.9 <= wl / ws <= 2.1, (kind, small, large)


def test_pagination_leaves_room_for_the_chrome(bank):
    """With chrome a page holds fewer posts but stays a phone's height (no page grows past it for the chrome)."""
    members, threads = bank
    plain = replace(render.Style(), width=1080)
    phone = replace(plain, **ALL_CHROME)
    a = render.paginate(threads, members, n_pages=12, seed=4, style=plain)
    b = render.paginate(threads, members, n_pages=12, seed=4, style=phone)
    assert sum(len(p["posts"]) for p in b) < sum(len(p["posts"]) for p in a)
    grown = [render.layout_page(p, phone)[0] > render.page_height(phone) for p in b]
    assert sum(grown) <= sum(render.layout_page(p, plain)[0] > render.page_height(plain) for p in a) + 1


def test_title_bar_text_is_configurable_per_page(bank):
    members, threads = bank
    style = replace(render.Style(), back_bar=True)
    page = render.paginate(threads, members, n_pages=35, seed=1, style=style)[0]

    def title(p, st):
        return [
            it["text"] for it in render.layout_page(p, st)[1] if it.get("chrome") == "title" and it["kind"] == "text"
        ]

    assert title(page, style) == [render.TITLE]
    assert title(page, replace(style, chrome_title="Revision group")) == ["Revision group"]
    named = dict(page, chrome_title="Marcus Teo's notes")
    assert title(named, replace(style, chrome_title="Revision group")) == ["Marcus Teo's notes"]
    long = dict(page, chrome_title="A very long title " * 8)
    (text,) = title(long, style)
    assert text.endswith("…") and len(text) < len(long["chrome_title"])


def test_chrome_texts_and_variants(bank):
    members, threads = bank
    page = render.paginate(threads, members, n_pages=35, seed=1)[2]
    for theme in ["light", "dark", "black", "tinted", "warm"]:
        style = replace(render.Style(), theme=theme, **ALL_CHROME, clock="21:14")
        items = render.layout_page(page, style)[1]
        texts = {it["chrome"]: [] for it in items if "chrome" in it}
        for it in items:
            if "chrome" in it and it["kind"] == "text":
                texts[it["chrome"]].append(it["text"])
        assert texts["status"] == ["21:14", "87%"]
        assert texts["nav"] == ["Home", "Groups", "Notifications", "Menu"]
        assert texts["reply"] == ["Write a reply…"]
        assert any(it["kind"] == "line" for it in items if it.get("chrome") == "title")  # the back chevron
        img = render.draw_page(page, style)
        bar = img.getpixel((2, 2))
        lum = sum(bar) / 3
        assert (lum < 60) if theme in ("dark", "black") else (lum > 200), (theme, bar)
        # the placeholder is muted: between the field's background and the body text
        cc, c = style.chrome_colours(), style.colours()
        ph, fb, tx = (sum(v) / 3 for v in (cc["placeholder"], cc["field_bg"], c["text"]))
        assert min(fb, tx) < ph < max(fb, tx)
    # the clock defaults to the page's capture time
    items = render.layout_page(page, replace(render.Style(), status_bar=True))[1]
    assert f"{page['capture']:%H:%M}" in [it.get("text") for it in items]


def test_header_without_separator(bank):
    members, threads = bank
    page = render.paginate(threads, members, n_pages=35, seed=1)[0]
    rows = render.transcribe_page(page)
    with_sep = [it["text"] for it in render.layout_page(page, render.Style())[1] if it["kind"] == "text"]
    without = [
        it["text"]
        for it in render.layout_page(page, replace(render.Style(), separator=False))[1]
        if it["kind"] == "text"
    ]
    times = [r["timestamp"] for r in rows]
    assert [t for t in with_sep if t in {f" · {w}" for w in times}] == [f" · {w}" for w in times]
    assert [t for t in without if t in {f" {w}" for w in times}] == [f" {w}" for w in times]
    assert not any(t.startswith(" · ") for t in without)  # the footers' "· N replies" stay
    assert any("·" in t for t in without if "repl" in t)


def test_transcription_unaffected_by_chrome_and_separator(bank):
    members, threads = bank
    pages = render.paginate(threads, members, n_pages=35, seed=1)
    phone = replace(render.Style(), separator=False, **ALL_CHROME)
    for page in pages[:6]:
        assert render.transcribe_page(page, phone) == render.transcribe_page(page, render.Style())


def test_black_and_tinted_themes(bank):
    assert render.THEMES["black"]["bg"] == (0, 0, 0)
    tinted = render.THEMES["tinted"]["bg"]
    assert min(tinted) > 200 and max(tinted) - min(tinted) >= 10  # light, and coloured (not grey)
    # the existing three are as they were
    assert render.THEMES["light"]["bg"] == (255, 255, 255) and render.THEMES["light"]["text"] == (28, 30, 33)
    assert render.THEMES["dark"]["bg"] == (24, 25, 26) and render.THEMES["warm"]["bg"] == (251, 243, 228)
    assert set(render.THEMES) >= {"light", "dark", "warm", "black", "tinted"}
    for theme in render.THEMES:
        assert set(render.THEMES[theme]) == set(render.THEMES["light"])
        assert set(render.Style(theme=theme).chrome_colours()) == set(render.CHROME["light"])
    members, threads = bank
    page = render.paginate(threads, members, n_pages=35, seed=1)[0]
    for theme in ("black", "tinted"):
        img = render.draw_page(page, render.Style(theme=theme))
        assert img.getpixel((1, img.height - 2)) == render.THEMES[theme]["bg"]
        # text contrasts with the background
        text, bg = render.THEMES[theme]["text"], render.THEMES[theme]["bg"]
        assert abs(sum(text) - sum(bg)) / 3 > 150


def test_capture_bytes_deterministic_and_without_metadata(bank):
    members, threads = bank
    page = render.paginate(threads, members, n_pages=35, seed=1)[0]
    img = render.draw_page(page, replace(render.Style(), width=750, font_size=24, **ALL_CHROME))
    a = render.capture_bytes(img, fmt="jpeg", quality=72)
    assert a == render.capture_bytes(img, fmt="jpeg", quality=72)
    assert a[:2] == b"\xff\xd8" and b"Exif" not in a and b"ICC_PROFILE" not in a
    assert a != render.capture_bytes(img, fmt="jpeg", quality=65)
    with Image.open(io.BytesIO(a)) as im:
        assert im.format == "JPEG" and im.size == img.size and not im.getexif()
    assert render.capture_bytes(img) == render.png_bytes(img)
    for kw in [dict(blur=0.8), dict(resample=0.8), dict(blur=0.6, resample=0.75, fmt="jpg", quality=80)]:
        b = render.capture_bytes(img, **kw)
        assert b == render.capture_bytes(img, **kw) and b != render.capture_bytes(
            img, fmt=kw.get("fmt", "png"), quality=kw.get("quality")
        )
        with Image.open(io.BytesIO(b)) as im:
            assert im.size == img.size
    degraded = render.degrade(img, resample=0.8)
    assert degraded.size == img.size and ImageChops.difference(degraded, img).getbbox() is not None
    with pytest.raises(ValueError):
        render.capture_bytes(img, fmt="gif")
    with pytest.raises(ValueError):
        render.capture_bytes(img, fmt="jpeg", quality=100)


# the 24-page mixed set of tests/phone_pages.py


@pytest.fixture(scope="module")
def phone_set(tmp_path_factory):
    import phone_pages

    phone_pages.require_fonts()
    root = tmp_path_factory.mktemp("phones")
    transcribed, truth = phone_pages.write_phone_corpus(root)
    return root, transcribed, truth


def test_phone_set_is_a_mix(phone_set):
    root, transcribed, truth = phone_set
    assert len(truth) == 24
    assert truth["font"].nunique() >= 4 and truth["theme"].nunique() >= 4
    assert {"black", "tinted"} <= set(truth["theme"])
    assert truth["width"].min() <= 800 and truth["width"].max() >= 1300
    kinds = [set(c.split(",")) - {""} for c in truth["chrome"]]
    for kind in render.CHROME_KINDS:
        assert sum(kind in k for k in kinds) >= 3, kind
    assert sum(k == set(render.CHROME_KINDS) for k in kinds) >= 2 and any(not k for k in kinds)
    assert set(truth["format"]) == {"png", "jpeg"} and 8 <= (truth["format"] == "jpeg").sum() <= 16
    q = truth["jpeg_quality"].dropna()
    assert q.between(60, 85).all() and q.nunique() >= 5
    assert (truth["blur"].fillna(0) > 0).sum() >= 3 and (truth["resample"].fillna(0) > 0).sum() >= 3
    assert (~truth["separator"]).sum() >= 3
    assert truth["starts_mid_thread"].sum() >= 3 and (truth["max_depth"] >= 2).sum() >= 3 and truth["admin"].sum() >= 3
    # a roster member's display name in a title bar
    members = pd.read_csv(root / "roster.csv", keep_default_na=False)
    titled = truth[truth["title_has_roster_name"]]
    assert len(titled) >= 1
    assert any(name in t for t in titled["title"] for name in members["display_name"])
    for t in truth.itertuples():
        boxes = json.loads(t.chrome_boxes)
        assert sorted(boxes) == sorted(set(t.chrome.split(",")) - {""})


def test_phone_set_files_read_as_a_study(phone_set):
    root, transcribed, truth = phone_set
    shots = root / "screenshots"
    found = screenshots.find_screenshots(shots)
    assert [s.screenshot_id for s in found] == list(truth["screenshot_id"])
    assert [s.path.name for s in found] == list(truth["file"])
    suffixes = {p.suffix for p in shots.iterdir() if p.suffix.lower() in screenshots.IMAGE_SUFFIXES}
    assert {".PNG", ".png", ".jpg", ".jpeg"} <= suffixes and any(s in suffixes for s in (".JPG", ".JPEG"))
    assert any(" " in n for n in truth["file"])  # "Screenshot 2023-03-12 at 21.14.05.jpg"
    for t in truth.itertuples():
        data = (shots / t.file).read_bytes()
        assert data[:2] == b"\xff\xd8" if t.format == "jpeg" else data[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"Exif" not in data[:4096]
        assert screenshots.id_from_stem(Path(t.file).stem) == t.screenshot_id  # the same ids without the csv
        with Image.open(shots / t.file) as im:
            assert im.width == t.width
    read = screenshots.read_transcribed(shots / "transcribed.csv")
    assert list(read.columns) == screenshots.TRANSCRIBED_COLUMNS
    assert read.groupby("screenshot_id").size().reindex(truth["screenshot_id"]).tolist() == truth["posts"].tolist()
    assert len(read) == len(transcribed)
    assert (root / "roster.csv").is_file()
