"""Test support: 24 pages drawn as real phones capture them, from the study's thread bank.

The committed corpus is drawn in one font, at one width, with nothing of the phone around the page. Real captures
mix all of that. :data:`SPECS` holds 24 page designs that, between them, cover

- eight fonts (Lato, Noto Sans, Cantarell, DejaVu Sans, Liberation Sans, Roboto, Open Sans, FreeSans; Debian
  packages, see ``test_ocr_variants.FONT_PACKAGES``), widths from 720 to 1440 px with the font size (about 3.1%
  of the width), margins (4%) and indentation steps scaled with them;
- five themes (light, dark, warm, the OLED ``black`` and the pale-blue ``tinted``);
- the phone's chrome: a status bar (``status``), a title bar with a back chevron (``title``), a reply box under
  the last post (``reply``) and a bottom navigation bar (``nav``), alone, in pairs and all four; one title bar
  holds a roster member's display name (``"<Display Name>'s notes"``), which must not survive redaction;
- headers without their `` · `` separator; a footer heart drawn in a fallback font where the font has none;
- captures saved as JPEG (quality 60-85, about half the pages), blurred, or resampled as messaging apps do;
- pages that start mid-thread, hold replies to replies, or carry an admin badge;
- real-phone file names and formats: ``IMG_2041.PNG``, ``IMG_2062.JPG``, ``Screenshot 2023-03-12 at
  21.14.05.jpg``, ``Screenshot_20230312-211405.png``, ``Screenshot_20230312-211405_Facebook.jpg``,
  ``IMG-20230312-WA0007.jpeg``, ``photo_2023-03-12_21-14-05.jpg``; the format follows the extension.

:func:`write_phone_corpus` writes them as the screenshots stage reads a study: ``root/screenshots/`` with the
images, ``screenshots.csv`` (file, screenshot_id, captured_at: ids are the stems as
:func:`compendium.screenshots.id_from_stem` makes them) and ``transcribed.csv``, and ``root/roster.csv``.
``benchmarks/phone_variants.py`` runs the stage on them. Tests import this module as ``import phone_pages``
(tests/ is on ``sys.path``); the benchmark puts tests/ on ``sys.path`` first.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from compendium import pseudonyms, render, screenshots, synth
from compendium.tables import write_csv

import test_ocr_variants as tv

ALL_CHROME = "status,title,reply,nav"
NAME_TITLE = "{name}'s notes"
#: Where a font has no heart (Lato, Noto Sans, Cantarell, Roboto, Open Sans), a phone falls back to another font
#: for the footer's ``♥`` (or draws an icon): here DejaVu Sans, as matplotlib bundles it.
HEART_FONT = render.Style().font_regular


@functools.lru_cache(maxsize=None)
def has_heart(font_path: str) -> bool:
    from fontTools.ttLib import TTFont

    with TTFont(font_path, fontNumber=0, lazy=True) as f:
        return ord(render.HEART) in (f.getBestCmap() or {})


@dataclass(frozen=True)
class PageSpec:
    font: str
    width: int
    font_size: int
    indent: int
    theme: str
    chrome: str = ""  # comma-separated kinds of render.CHROME_KINDS
    file: str = "IMG_{n}.PNG"  # name template: {n} a gallery number, {d} the capture time, {k} a counter
    quality: int | None = None  # JPEG quality (only for .jpg/.jpeg names)
    blur: float | None = None  # Gaussian blur radius, px
    resample: float | None = None  # scaled down by this factor and back up
    separator: bool = True
    page: str = "any"  # which page of the bank: mid (starts mid-thread), deep, admin, any
    title: str | None = None  # the title bar's text (NAME_TITLE: a roster member's display name)
    avatar: bool = True

    @property
    def fmt(self) -> str:
        return "jpeg" if self.file.lower().endswith((".jpg", ".jpeg")) else "png"

    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in render.CHROME_KINDS if k in self.chrome.split(","))

    def style(self) -> render.Style:
        regular, bold = tv.FONTS[self.font]
        kinds = self.kinds()
        return replace(
            render.Style(),
            font_regular=regular,
            font_bold=bold,
            width=self.width,
            font_size=self.font_size,
            indent=self.indent,
            margin=round(self.width * 0.04),
            theme=self.theme,
            avatar=self.avatar,
            separator=self.separator,
            status_bar="status" in kinds,
            back_bar="title" in kinds,
            reply_box="reply" in kinds,
            nav_bar="nav" in kinds,
            heart_font=None if has_heart(regular) else HEART_FONT,
        )

    def describe(self) -> str:
        parts = [
            f"{self.font} {self.width}/{self.font_size}/{self.indent}",
            self.theme,
            "+".join(self.kinds()) or "no chrome",
            f"jpeg q{self.quality}" if self.fmt == "jpeg" else "png",
        ]
        if self.blur:
            parts.append(f"blur {self.blur:g}")
        if self.resample:
            parts.append(f"resampled x{self.resample:g}")
        if not self.separator:
            parts.append("no separator")
        if not self.avatar:
            parts.append("no avatar")
        return ", ".join(parts)


IOS_PNG, IOS_JPG, IOS_JPEG = "IMG_{n}.PNG", "IMG_{n}.JPG", "IMG_{n}.JPEG"
MAC_PNG, MAC_JPG = "Screenshot {d:%Y-%m-%d} at {d:%H.%M.%S}.png", "Screenshot {d:%Y-%m-%d} at {d:%H.%M.%S}.jpg"
ANDROID_PNG, ANDROID_JPG = "Screenshot_{d:%Y%m%d-%H%M%S}.png", "Screenshot_{d:%Y%m%d-%H%M%S}.jpg"
SAMSUNG = "Screenshot_{d:%Y%m%d-%H%M%S}_Facebook.jpg"
WHATSAPP = "IMG-{d:%Y%m%d}-WA{k:04d}.jpeg"
TELEGRAM = "photo_{d:%Y-%m-%d_%H-%M-%S}.jpg"

S = PageSpec
SPECS: list[PageSpec] = [
    S("lato", 1080, 34, 64, "light", ALL_CHROME, IOS_PNG, page="mid"),
    S("noto", 720, 22, 44, "dark", "status,nav", WHATSAPP, quality=72, page="deep"),
    S("cantarell", 1440, 46, 96, "tinted", "title", ANDROID_PNG, blur=0.8, separator=False, page="admin"),
    S("dejavu", 1170, 37, 70, "black", ALL_CHROME, MAC_JPG, quality=80, title=NAME_TITLE),
    S("liberation", 828, 27, 52, "warm", "reply", TELEGRAM, quality=65, resample=0.8, page="mid"),
    S("roboto", 1080, 33, 60, "dark", "status,title", ANDROID_PNG, resample=0.75, separator=False, page="deep"),
    S("opensans", 1284, 40, 80, "light", "reply,nav", IOS_JPG, quality=85, page="admin"),
    S("freesans", 750, 24, 46, "black", "", IOS_PNG, page="mid"),
    S("lato", 1300, 41, 84, "tinted", ALL_CHROME, SAMSUNG, quality=60, blur=1.0, page="deep"),
    S("noto", 900, 28, 56, "light", "title,reply", MAC_PNG, separator=False),
    S("cantarell", 720, 23, 40, "warm", "status", WHATSAPP, quality=76, page="admin"),
    S("dejavu", 1440, 45, 100, "dark", "nav", ANDROID_PNG, blur=0.7, resample=0.85, page="mid"),
    S("liberation", 1242, 38, 72, "black", ALL_CHROME, IOS_PNG, page="deep"),
    S("roboto", 750, 24, 48, "tinted", "status,reply", TELEGRAM, quality=70, separator=False, page="admin"),
    S("opensans", 1080, 32, 58, "dark", "title,nav", SAMSUNG, quality=82, resample=0.8, page="mid"),
    S("freesans", 1170, 36, 66, "warm", ALL_CHROME, MAC_PNG, blur=0.6),
    S("lato", 828, 26, 50, "black", "reply,nav", IOS_JPEG, quality=68, page="admin"),
    S("noto", 1284, 40, 76, "tinted", "status,title", IOS_PNG, resample=0.9, separator=False, page="mid"),
    S("cantarell", 1000, 31, 60, "light", ALL_CHROME, WHATSAPP, quality=78, page="deep"),
    S("dejavu", 720, 22, 42, "light", "", ANDROID_PNG, separator=False, page="admin"),
    S("liberation", 1080, 33, 62, "dark", "status,nav", MAC_JPG, quality=62, blur=0.9, page="deep"),
    S("roboto", 1440, 44, 90, "light", "title,reply,nav", IOS_PNG),
    S("opensans", 900, 28, 54, "black", "status", SAMSUNG, quality=84, resample=0.75, page="deep"),
    S("freesans", 1125, 35, 68, "tinted", "title", ANDROID_JPG, quality=74, page="mid"),
]
del S

TRUTH_COLUMNS = [
    "screenshot_id",
    "file",
    "format",
    "font",
    "width",
    "font_size",
    "indent",
    "theme",
    "chrome",
    "chrome_boxes",
    "title",
    "title_has_roster_name",
    "jpeg_quality",
    "blur",
    "resample",
    "separator",
    "avatar",
    "page",
    "posts",
    "starts_mid_thread",
    "max_depth",
    "admin",
    "style",
]


def load_bank():
    """The study's own thread bank: (members, threads), as synth draws the committed corpus from it."""
    members = synth._load_yaml(synth.DATA / "members.yml")["members"]
    threads = synth._load_yaml(synth.DATA / "threads.yml")["threads"]
    return members, threads


def fonts_used(n_pages: int = len(SPECS)) -> list[str]:
    return sorted({SPECS[j % len(SPECS)].font for j in range(n_pages)})


def missing_fonts(n_pages: int = len(SPECS)) -> list[str]:
    return [f for f in fonts_used(n_pages) if not all(Path(p).exists() for p in tv.FONTS[f])]


def require_fonts(n_pages: int = len(SPECS)) -> None:
    """Skip (fail in CI) when a font the set uses is not installed (``test_ocr_variants.FONT_PACKAGES``)."""
    tv.require_fonts(*fonts_used(n_pages))


_KINDS = {
    "mid": lambda p: p["posts"][0]["depth"] > 0,
    "deep": lambda p: max(q["depth"] for q in p["posts"]) >= 2,
    "admin": lambda p: any(q.get("admin") for q in p["posts"]),
    "any": lambda p: True,
}


WINDOW = 10  # threads paginated at a time: a window of the bank, not all of it, keeps drawing 24 pages fast


def pick_page(threads, members, style: render.Style, kind: str, j: int, seed: int) -> dict:
    """A page of the ``kind`` (mid, deep, admin, any) from a window of the bank paginated with ``style``: the
    window moves on with ``j`` and, if it has no such page, until one has."""
    n = max(1, len(threads) - WINDOW)
    start = (31 * seed + 11 * j) % n
    fallback = None
    for step in range(n):
        off = (start + 5 * step) % n
        window = threads[off : off + WINDOW]
        try:
            pages = render.paginate(window, members, n_pages=5, seed=seed * 100 + j + step, style=style)
        except ValueError:  # too few posts in this window for five pages
            continue
        fallback = fallback or pages[0]
        cands = [p for p in pages if _KINDS[kind](p)]
        if cands:
            return cands[(j + step) % len(cands)]
    if fallback is None:
        raise RuntimeError("the bank is too small for a page")
    return fallback


def file_name(spec: PageSpec, j: int, capture: dt.datetime) -> str:
    return spec.file.format(n=2041 + 3 * j + (j * j) % 5, d=capture, k=j + 1)


def write_phone_corpus(root, bank=None, n_pages: int = 24, seed: int = 7):
    """Draw ``n_pages`` pages (:data:`SPECS` in turn) into ``root/screenshots`` as a study's screenshots.

    Writes the images, ``screenshots.csv``, ``transcribed.csv`` (columns
    :data:`compendium.screenshots.TRANSCRIBED_COLUMNS`, keyed by the screenshot ids) and ``root/roster.csv``.
    Returns ``(transcribed, truth)``: the transcription frame and one row per page (:data:`TRUTH_COLUMNS`: the
    id, file and format, the style, the chrome kinds and ``{kind: [x0, y0, x1, y1]}`` boxes as JSON, the title
    bar's text, the capture's JPEG quality, blur and resampling, and what the page holds). Deterministic for
    the same seed.
    """
    missing = missing_fonts(n_pages)
    if missing:
        raise RuntimeError(f"font(s) {', '.join(missing)} not installed (apt-get install {tv.FONT_PACKAGES})")
    members, threads = bank or load_bank()
    root = Path(root)
    shots = root / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    named = [m for m in members if not m.get("admin")]
    rows, truth, index = [], [], []
    for j in range(n_pages):
        spec = SPECS[j % len(SPECS)]
        style = spec.style()
        page = dict(pick_page(threads, members, style, spec.page, j, seed))
        if spec.title:
            page["chrome_title"] = spec.title.format(name=rng.choice(named)["display_name"])
        capture = page["capture"] + dt.timedelta(seconds=(7 * j + 3) % 60)
        name = file_name(spec, j, capture)
        sid = screenshots.id_from_stem(Path(name).stem)
        img = render.draw_page(page, style)
        (shots / name).write_bytes(
            render.capture_bytes(img, fmt=spec.fmt, quality=spec.quality, blur=spec.blur, resample=spec.resample)
        )
        index.append({"file": name, "screenshot_id": sid, "captured_at": f"{capture:%Y-%m-%d %H:%M:%S}"})
        for r in render.transcribe_page(page, style):
            rows.append(
                {
                    "screenshot_id": sid,
                    "post_index": r["index"],
                    "depth": r["depth"],
                    "author": r["author"],
                    "timestamp": r["timestamp"],
                    "text": r["text"],
                    "reactions": r["reactions"],
                }
            )
        boxes = render.chrome_boxes(page, style)
        truth.append(
            {
                "screenshot_id": sid,
                "file": name,
                "format": spec.fmt,
                "font": spec.font,
                "width": spec.width,
                "font_size": spec.font_size,
                "indent": spec.indent,
                "theme": spec.theme,
                "chrome": ",".join(spec.kinds()),
                "chrome_boxes": json.dumps({k: list(v) for k, v in boxes.items()}, separators=(",", ":")),
                "title": (page.get("chrome_title") or render.TITLE) if style.back_bar else "",
                "title_has_roster_name": bool(spec.title),
                "jpeg_quality": spec.quality,
                "blur": spec.blur,
                "resample": spec.resample,
                "separator": spec.separator,
                "avatar": spec.avatar,
                "page": spec.page,
                "posts": len(page["posts"]),
                "starts_mid_thread": page["posts"][0]["depth"] > 0,
                "max_depth": max(q["depth"] for q in page["posts"]),
                "admin": any(q.get("admin") for q in page["posts"]),
                "style": spec.describe(),
            }
        )
    ids = [t["screenshot_id"] for t in truth]
    if len({i.lower() for i in ids}) != len(ids):
        raise RuntimeError(f"two pages got the same id: {ids}")
    write_csv(
        pd.DataFrame(index, columns=["file", "screenshot_id", "captured_at"]), shots / screenshots.SCREENSHOTS_CSV
    )
    transcribed = pd.DataFrame(rows, columns=screenshots.TRANSCRIBED_COLUMNS)
    write_csv(transcribed, shots / "transcribed.csv")
    pseudonyms.write_roster(members, root / "roster.csv")
    return transcribed, pd.DataFrame(truth, columns=TRUTH_COLUMNS)
