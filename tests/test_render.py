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
    assert list(a.columns) == ["screenshot_id", "post_index", "depth", "author", "timestamp", "text",
                               "reactions", "thread_id", "bank_post"]
    assert a.groupby("screenshot_id")["post_index"].apply(lambda s: list(s) == list(range(1, len(s) + 1))).all()
    assert (a["text"].str.contains("{") == False).all()  # noqa: E712  placeholders filled
    c = render.write_screenshots(tmp_path / "c", members, threads, seed=6, n_pages=6)
    assert not a.equals(c) or (tmp_path / "c" / "WITI-001.png").read_bytes() != (tmp_path / "a" / "WITI-001.png").read_bytes()


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
