"""Test support: pages drawn by a renderer the project never used - HTML + CSS screenshotted by headless Chromium.

Every other test page (``phone_pages.py``, ``test_ocr_variants.py``, the committed corpus) comes out of the
project's own PIL renderer (:mod:`compendium.render`), so the layout reader may have learnt that renderer's
habits (its line spacing, its avatar size, its text offsets, FreeType's rasterisation). A real study's pages come
from a phone's browser or app engine. Here the same thread-bank content is written as HTML in the SPEC 4 grammar
and the browser lays it out and rasterises it: Chromium wraps the body lines, shapes the text (HarfBuzz, Skia,
font fallback for the heart and for Chinese words), and the capture is taken at a device scale factor of 2 or 3
like a phone's.

:data:`SPECS` holds 16 page designs; between them, in CSS only:

- eight system fonts (DejaVu Sans, Liberation Sans, Noto Sans, Lato, Cantarell, Open Sans, Roboto, FreeSans), at
  14-18 CSS px, viewports 360-430 CSS px wide at phone aspect ratios, device scale factor 2 or 3;
- light, dark and OLED-black themes; bold names, grey handles, timestamps and footers, a pill ``Admin`` badge;
- post layouts: plain; with a round avatar (36-44 CSS px, much larger than the project's) left of the header
  and body (``avatar="column"``); a small avatar inline with the name and the body under it (``"inline"``);
  avatars holding the author's initials (``"initials"``); every post on a rounded card (``cards``); a rule
  between threads (``rules``);
- phone chrome: status bar (clock, signal, wifi, battery with a percentage), an app bar with a back chevron and a
  title (once holding a roster member's display name, which must not survive redaction), a bottom navigation bar
  with icons and labels (fixed to the bottom of the viewport), a "Write a reply…" box under the last post;
- PNG, and three pages saved as JPEG quality 70 through PIL.

Truth: the posts are those :func:`phone_pages.pick_page` picks from the study's thread bank (so the mention
convention is the bank's: ``{first:KEY}`` the member's first alias, ``@{handle:KEY}`` the handle,
``{name:KEY}`` the display name, as :func:`compendium.render.fill_mentions` fills them), header parts as
:func:`compendium.render.header_parts` gives them. The browser is asked (a first pass with ``--dump-dom`` and a
small script) where every post ends and whether a header overflows its line: a header too wide loses its handle,
then its year (as the project's renderer and phone apps do), and posts that do not fit the viewport above the
reply box and navigation bar are dropped from the page, so ``transcribed.csv`` holds exactly the posts whose
blocks are fully visible. Body text is ``post["text"]`` (already whitespace-normalised): wrapping adds no
characters.

:func:`write_html_corpus` writes what :func:`phone_pages.write_phone_corpus` writes - ``root/screenshots/`` with
the images, ``screenshots.csv``, ``transcribed.csv``, and ``root/roster.csv`` - plus ``root/html/<id>.html`` (the
page sources, to look at) and ``root/pages.json`` (one record per page: id, file, design, posts). Needs the
``chromium`` binary (Debian's package); ``benchmarks/html_variants.py`` runs the stage on the set.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import html
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from compendium import pseudonyms, render, screenshots
from compendium.tables import write_csv

import phone_pages

CHROMIUM = os.environ.get("WITI_CHROMIUM", "chromium")
NAME_TITLE = phone_pages.NAME_TITLE

FAMILIES = {
    "dejavu": "DejaVu Sans",
    "liberation": "Liberation Sans",
    "noto": "Noto Sans",
    "lato": "Lato",
    "cantarell": "Cantarell",
    "opensans": "Open Sans",
    "roboto": "Roboto",
    "freesans": "FreeSans",
}

THEMES = {
    "light": {
        "bg": "#ffffff",
        "text": "#050505",
        "muted": "#65676b",
        "accent": "#1877f2",
        "banner_text": "#ffffff",
        "rule": "#e4e6eb",
        "avatar": "#ccd0d5",
        "bar": "#ffffff",
        "bar_line": "#dadde1",
        "card": "#f0f2f5",
        "badge_bg": "#e7f3ff",
        "badge_text": "#1877f2",
        "field": "#f0f2f5",
        "placeholder": "#8a8d91",
        "icon": "#65676b",
        "icon_on": "#1877f2",
        "light": 1,
    },
    "dark": {
        "bg": "#18191a",
        "text": "#e4e6eb",
        "muted": "#b0b3b8",
        "accent": "#2d88ff",
        "banner_text": "#ffffff",
        "rule": "#3e4042",
        "avatar": "#3a3b3c",
        "bar": "#242526",
        "bar_line": "#393a3b",
        "card": "#242526",
        "badge_bg": "#263951",
        "badge_text": "#4599ff",
        "field": "#3a3b3c",
        "placeholder": "#b0b3b8",
        "icon": "#b0b3b8",
        "icon_on": "#2d88ff",
        "light": 0,
    },
    "black": {
        "bg": "#000000",
        "text": "#f5f5f7",
        "muted": "#8e8e93",
        "accent": "#0a84ff",
        "banner_text": "#ffffff",
        "rule": "#262628",
        "avatar": "#2c2c2e",
        "bar": "#0c0c0d",
        "bar_line": "#1f1f21",
        "card": "#1c1c1e",
        "badge_bg": "#0a2b4d",
        "badge_text": "#64aaff",
        "field": "#1c1c1e",
        "placeholder": "#8e8e93",
        "icon": "#8e8e93",
        "icon_on": "#0a84ff",
        "light": 0,
    },
}

CHROME_KINDS = ("status", "title", "reply", "nav")
ALL_CHROME = "status,title,reply,nav"


@dataclass(frozen=True)
class HtmlSpec:
    font: str  # key of FAMILIES
    font_size: int  # CSS px, 14-18
    viewport: tuple[int, int]  # CSS px (width, height)
    dpr: int  # device scale factor, 2 or 3
    theme: str
    chrome: str = ""  # comma-separated CHROME_KINDS
    avatar: str = ""  # "", "column", "inline", "initials"
    avatar_colours: bool = False  # one pastel colour per author instead of the theme's grey
    indent: int = 28  # CSS px per depth level
    line_height: float = 1.38
    cards: bool = False
    rules: bool = False
    file: str = phone_pages.IOS_PNG
    quality: int | None = None  # JPEG quality (only for .jpg/.jpeg names)
    page: str = "any"  # mid, deep, admin, any (phone_pages.pick_page)
    title: str | None = None  # the app bar's text; NAME_TITLE: a roster member's display name

    @property
    def fmt(self) -> str:
        return "jpeg" if self.file.lower().endswith((".jpg", ".jpeg")) else "png"

    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in CHROME_KINDS if k in self.chrome.split(","))

    def describe(self) -> str:
        w, h = self.viewport
        parts = [
            f"{FAMILIES[self.font]} {self.font_size}px",
            f"{w}x{h}@{self.dpr}x",
            self.theme,
            "+".join(self.kinds()) or "no chrome",
            f"avatar {self.avatar}" if self.avatar else "no avatar",
            f"indent {self.indent}px",
        ]
        if self.cards:
            parts.append("cards")
        if self.rules:
            parts.append("rules")
        parts.append(f"jpeg q{self.quality}" if self.fmt == "jpeg" else "png")
        return ", ".join(parts)

    def render_style(self) -> render.Style:
        """A :class:`compendium.render.Style` of about this page's device-pixel metrics: only used to pick how
        many posts of the bank to offer the page (the browser's own layout decides which fit)."""
        w, h = self.viewport
        kinds = self.kinds()
        return render.Style(
            width=w * self.dpr,
            font_size=round(self.font_size * self.dpr),
            indent=self.indent * self.dpr,
            margin=14 * self.dpr,
            aspect=1.6 * h / w,  # offer more than fits: the browser's layout cuts the page
            line_spacing=self.line_height + 0.04,
            avatar=bool(self.avatar),
            status_bar="status" in kinds,
            back_bar="title" in kinds,
            reply_box="reply" in kinds,
            nav_bar="nav" in kinds,
        )


S = HtmlSpec
P = phone_pages
SPECS: list[HtmlSpec] = [
    S("dejavu", 16, (390, 844), 3, "light", "status,title,nav", "column", file=P.IOS_PNG),
    S("liberation", 15, (360, 800), 2, "dark", "", "", indent=24, file=P.ANDROID_PNG, page="mid"),
    S("noto", 17, (412, 915), 2, "black", "status,nav", "column", True, 32, file=P.WHATSAPP, quality=70, page="deep"),
    S("lato", 18, (430, 932), 3, "light", "title,reply", "inline", indent=30, file=P.IOS_PNG, page="admin"),
    S(
        "cantarell",
        14,
        (375, 812),
        3,
        "dark",
        ALL_CHROME,
        "column",
        True,
        26,
        file=P.MAC_PNG,
        page="mid",
        title=NAME_TITLE,
    ),
    S("opensans", 16, (414, 896), 2, "light", "", "", indent=20, cards=True, file=P.ANDROID_PNG, page="deep"),
    S("roboto", 15, (393, 852), 3, "black", "status", "column", indent=40, file=P.IOS_PNG, page="admin"),
    S("freesans", 17, (360, 780), 3, "light", "reply,nav", "", indent=24, file=P.TELEGRAM, quality=70),
    S("dejavu", 14, (428, 926), 3, "black", "title", "", indent=22, rules=True, file=P.IOS_PNG, page="deep"),
    S("liberation", 18, (390, 844), 3, "light", ALL_CHROME, "initials", True, 34, file=P.ANDROID_PNG, page="admin"),
    S("noto", 15, (384, 854), 2, "dark", "reply", "column", indent=28, cards=True, file=P.MAC_PNG),
    S("lato", 16, (360, 740), 2, "black", ALL_CHROME, "inline", indent=22, file=P.SAMSUNG, quality=70, page="mid"),
    S(
        "cantarell",
        17,
        (412, 892),
        2,
        "light",
        "status,title",
        "",
        indent=36,
        rules=True,
        file=P.ANDROID_PNG,
        page="deep",
    ),
    S("opensans", 14, (430, 932), 3, "dark", "nav", "column", True, 30, file=P.IOS_PNG, page="admin"),
    S("roboto", 18, (375, 812), 2, "light", "title,reply,nav", "column", indent=32, file=P.MAC_PNG, page="mid"),
    S("freesans", 16, (402, 874), 3, "dark", "status", "", indent=26, file=P.ANDROID_PNG),
]
del S, P


# --------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------


def _avatar_colour(name: str, theme: dict) -> str:
    h = (sum(ord(c) * 31**i for i, c in enumerate(name)) % 360) / 360
    r, g, b = colorsys.hls_to_rgb(h, 0.78 if theme["light"] else 0.32, 0.45)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _initials(name: str) -> str:
    words = [w for w in re.split(r"\s+", name) if w[:1].isalpha()]
    return "".join(w[0].upper() for w in words[:2]) or "?"


CSS = """
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body { background: var(--bg); color: var(--text); font-family: '{family}', sans-serif; font-size: {fs}px;
  line-height: {lh}; -webkit-text-size-adjust: none; }
.status { height: {status_h}px; display: flex; align-items: center; justify-content: space-between;
  padding: 0 18px 0 22px; font-size: {status_fs}px; font-weight: 600; background: var(--bar); color: var(--text);
  font-family: 'Roboto', 'DejaVu Sans', sans-serif; }
.status .right { display: flex; align-items: center; gap: 5px; }
.signal { display: flex; align-items: flex-end; gap: 1.5px; height: 11px; }
.signal i { display: block; width: 3px; background: var(--text); border-radius: 1px; }
.battery { width: 24px; height: 11px; border: 1.5px solid var(--text); border-radius: 3px; padding: 1px;
  position: relative; opacity: .9; }
.battery::after { content: ''; position: absolute; right: -4px; top: 3px; width: 2px; height: 4px;
  background: var(--text); border-radius: 0 1px 1px 0; }
.battery b { display: block; height: 100%; width: 82%; background: var(--text); border-radius: 1px; }
.appbar { height: {appbar_h}px; display: flex; align-items: center; gap: 14px; padding: 0 14px;
  background: var(--bar); border-bottom: 1px solid var(--bar-line); font-size: {appbar_fs}px; font-weight: 700;
  white-space: nowrap; overflow: hidden; }
.chev { flex: none; width: 11px; height: 11px; border-left: 2.5px solid var(--text); border-bottom: 2.5px solid
  var(--text); transform: rotate(45deg); margin-left: 4px; }
.appbar .dots { margin-left: auto; display: flex; gap: 3px; }
.appbar .dots i { width: 4px; height: 4px; border-radius: 50%; background: var(--text); display: block; }
.banner { background: var(--accent); color: var(--banner-text); font-weight: 700; padding: 13px 14px;
  font-size: {banner_fs}px; }
.feed { padding: 12px 14px 8px; }
.post { display: flex; gap: 10px; margin-bottom: {gap}px; }
.post.card { background: var(--card); border-radius: 10px; padding: 10px 12px; }
.thread-rule { border: 0; border-top: 1px solid var(--rule); margin: 0 0 {gap}px; }
.avatar { flex: none; width: {av}px; height: {av}px; border-radius: 50%; background: var(--avatar);
  display: flex; align-items: center; justify-content: center; font-weight: 700; font-size: {av_fs}px;
  color: var(--text); }
.avatar.small { width: {av_small}px; height: {av_small}px; display: inline-block; vertical-align: middle;
  margin-right: 8px; position: relative; top: -1px; }
.content { flex: 1; min-width: 0; }
.pinned { color: var(--muted); font-size: .82em; font-weight: 700; }
.head { white-space: nowrap; overflow: hidden; }
.name { font-weight: 700; }
.handle, .time { color: var(--muted); }
.badge { display: inline-block; font-size: .78em; font-weight: 700; line-height: 1.35; background: var(--badge-bg);
  color: var(--badge-text); border-radius: 6px; padding: 0 6px; margin-left: 6px; vertical-align: 1px; }
.body { overflow-wrap: anywhere; margin: 1px 0 2px; }
.foot { color: var(--muted); font-size: .92em; }
.replybox { margin: 2px 14px 14px; height: {reply_h}px; border-radius: {reply_r}px; background: var(--field);
  border: 1px solid var(--bar-line); display: flex; align-items: center; padding: 0 16px; color: var(--placeholder);
  font-size: {reply_fs}px; }
.nav { position: fixed; left: 0; right: 0; bottom: 0; height: {nav_h}px; background: var(--bar);
  border-top: 1px solid var(--bar-line); display: flex; justify-content: space-around; align-items: center;
  font-size: 11px; color: var(--icon); font-family: 'Roboto', 'DejaVu Sans', sans-serif; }
.nav div { display: flex; flex-direction: column; align-items: center; gap: 3px; }
.nav div.on { color: var(--icon-on); }
.nav svg { width: 22px; height: 22px; }
"""

NAV_ICONS = {
    "Home": '<path d="M3 11 12 3l9 8v10h-6v-6H9v6H3z" fill="currentColor"/>',
    "Groups": '<circle cx="8" cy="8" r="3.5" fill="currentColor"/><circle cx="16.5" cy="9" r="3" fill="currentColor"/>'
    '<path d="M1.5 20c0-4 3-6.5 6.5-6.5s6.5 2.5 6.5 6.5zM14 20c.2-2.5-.6-4.4-1.8-5.7 1-.6 2.6-1 4.3-1 3.3 0 5.5 '
    '2.2 5.5 6.7z" fill="currentColor"/>',
    "Notifications": '<path d="M12 3a6 6 0 0 0-6 6v4l-2 4h16l-2-4V9a6 6 0 0 0-6-6zM9.5 19a2.5 2.5 0 0 0 5 0z" '
    'fill="currentColor"/>',
    "Menu": '<path d="M4 6h16M4 12h16M4 18h16" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/>',
}


def _status_bar(clock: str) -> str:
    bars = "".join(f'<i style="height:{h}px"></i>' for h in (4, 6, 8, 11))
    wifi = (
        '<svg width="15" height="11" viewBox="0 0 15 11"><path d="M7.5 11 0 3.2a10.8 10.8 0 0 1 15 0z" '
        'fill="currentColor"/></svg>'
    )
    return (
        f'<div class="status"><span>{html.escape(clock)}</span><span class="right">'
        f'<span class="signal">{bars}</span>{wifi}<span>87%</span><span class="battery"><b></b></span></span></div>'
    )


def _app_bar(title: str) -> str:
    return (
        f'<div class="appbar"><span class="chev"></span><span>{html.escape(title)}</span>'
        '<span class="dots"><i></i><i></i><i></i></span></div>'
    )


def _nav_bar() -> str:
    items = []
    for k, label in enumerate(render.NAV_LABELS):
        items.append(
            f'<div class="{"on" if k == 1 else ""}"><svg viewBox="0 0 24 24">{NAV_ICONS[label]}</svg>'
            f"<span>{label}</span></div>"
        )
    return f'<div class="nav">{"".join(items)}</div>'


def _post_html(k: int, post: dict, head: dict, spec: HtmlSpec, theme: dict) -> str:
    name = post["display_name"]
    colour = _avatar_colour(name, theme) if spec.avatar_colours else theme["avatar"]
    av_big = spec.avatar in ("column", "initials")
    text = _initials(name) if spec.avatar == "initials" else ""
    avatar = f'<div class="avatar" style="background:{colour}">{html.escape(text)}</div>' if av_big else ""
    small = f'<span class="avatar small" style="background:{colour}"></span>' if spec.avatar == "inline" else ""
    parts = [f'<span class="name">{html.escape(name)}</span>']
    if head["handle"]:
        parts.append(f' <span class="handle">{html.escape(head["handle"])}</span>')
    if head["badge"]:
        parts.append(f'<span class="badge">{html.escape(head["badge"])}</span>')
    parts.append(f'<span class="time"> · {html.escape(head["when"])}</span>')
    pinned = f'<div class="pinned">{render.PINNED_LABEL}</div>' if post.get("show_pinned") else ""
    footer = html.escape(render.footer_text(post))
    cls = "post card" if spec.cards else "post"
    return (
        f'<div class="{cls}" id="p{k}" style="margin-left:{post["depth"] * spec.indent}px">{avatar}'
        f'<div class="content">{pinned}<div class="head" id="h{k}">{small}{"".join(parts)}</div>'
        f'<div class="body">{html.escape(post["text"])}</div><div class="foot">{footer}</div></div></div>'
    )


MEASURE = """<script>
(function () {
  var out = {posts: [], heads: []};
  document.querySelectorAll('.post').forEach(function (p) { out.posts.push(p.getBoundingClientRect().bottom); });
  document.querySelectorAll('.head').forEach(function (h) { out.heads.push(h.scrollWidth > h.clientWidth + 0.5); });
  var r = document.querySelector('.replybox'), n = document.querySelector('.nav');
  out.reply = r ? r.getBoundingClientRect().height + 16 : 0;
  out.nav = n ? n.getBoundingClientRect().height : 0;
  out.width = document.body.getBoundingClientRect().width;
  var m = document.createElement('pre'); m.id = 'measure'; m.style.display = 'none';
  m.textContent = JSON.stringify(out); document.body.appendChild(m);
})();
</script>"""


def page_html(page: dict, heads: list[dict], spec: HtmlSpec, measure: bool = False) -> str:
    """The HTML of one page: ``page`` from :func:`phone_pages.pick_page` (``chrome_title`` optional), ``heads``
    the header parts shown (``handle``, ``badge``, ``when``) per post."""
    theme = THEMES[spec.theme]
    fs = spec.font_size
    av = round(fs * 2.5)
    css = CSS
    for key, val in {
        "family": FAMILIES[spec.font],
        "fs": fs,
        "lh": spec.line_height,
        "status_h": 28,
        "status_fs": 14,
        "appbar_h": 52,
        "appbar_fs": round(fs * 1.12),
        "banner_fs": round(fs * 1.05),
        "gap": round(fs * 1.1),
        "av": av,
        "av_fs": round(av * 0.38),
        "av_small": round(fs * 1.25),
        "reply_h": round(fs * 2.5),
        "reply_r": round(fs * 1.25),
        "reply_fs": fs,
        "nav_h": 58,
    }.items():
        css = css.replace("{" + key + "}", str(val))
    colours = ";".join(f"--{k.replace('_', '-')}:{v}" for k, v in theme.items() if k != "light")
    kinds = spec.kinds()
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<meta name='viewport' content='width={spec.viewport[0]}'>",
        f"<style>:root{{{colours}}}{css}</style></head><body>",
    ]
    if "status" in kinds:
        out.append(_status_bar(f"{page['capture']:%H:%M}"))
    if "title" in kinds:
        out.append(_app_bar(page.get("chrome_title") or render.TITLE))
    if page.get("title_bar"):
        out.append(f'<div class="banner">{html.escape(render.TITLE)}</div>')
    out.append('<div class="feed">')
    for k, (post, head) in enumerate(zip(page["posts"], heads)):
        if spec.rules and k and post["depth"] == 0:
            out.append('<hr class="thread-rule">')
        out.append(_post_html(k, post, head, spec, theme))
    out.append("</div>")
    if "reply" in kinds:
        out.append(f'<div class="replybox">{html.escape(render.REPLY_PLACEHOLDER)}</div>')
    if "nav" in kinds:
        out.append(_nav_bar())
    if measure:  # --dump-dom ignores --window-size (it lays out at 500 px): pin the width, the height is known
        out.append(f"<style>html{{width:{spec.viewport[0]}px}}</style>{MEASURE}")
    out.append("</body></html>\n")
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------------------------------


def _chromium(args: list[str], html_path: Path, spec: HtmlSpec, profile: Path, timeout: float = 60) -> str:
    w, h = spec.viewport
    cmd = [
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        f"--window-size={w},{h}",
        f"--force-device-scale-factor={spec.dpr}",
        *args,
        html_path.resolve().as_uri(),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"chromium failed ({res.returncode}) on {html_path}: {res.stderr[-800:]}")
    return res.stdout


def measure(page: dict, heads: list[dict], spec: HtmlSpec, work: Path, profile: Path) -> dict:
    src = work / "measure.html"
    src.write_text(page_html(page, heads, spec, measure=True), encoding="utf-8")
    dom = _chromium(["--dump-dom"], src, spec, profile)
    m = re.search(r'<pre id="measure"[^>]*>(.*?)</pre>', dom, re.S)
    if not m:
        raise RuntimeError("chromium returned no measurement")
    return json.loads(html.unescape(m.group(1)))


def screenshot(html_path: Path, out_png: Path, spec: HtmlSpec, profile: Path) -> None:
    _chromium([f"--screenshot={out_png}"], html_path, spec, profile)
    from PIL import Image

    with Image.open(out_png) as im:
        want = (spec.viewport[0] * spec.dpr, spec.viewport[1] * spec.dpr)
        if im.size != want:
            raise RuntimeError(f"chromium wrote {im.size}, expected {want}")


def fit_page(page: dict, spec: HtmlSpec, work: Path, profile: Path) -> tuple[dict, list[dict]]:
    """Shorten headers that overflow (handle first, then the year) and drop the posts that are not fully visible
    above the reply box and the navigation bar: (page, header parts), as the browser lays them out."""
    page = dict(page)
    heads = []
    for post in page["posts"]:
        _, handle, badge, when = render.header_parts(post, page["capture"], page.get("absolute_times", False))
        heads.append({"handle": handle, "badge": badge, "when": when})
    for _ in range(6):
        m = measure(page, heads, spec, work, profile)
        changed = False
        for k, over in enumerate(m["heads"]):
            if not over:
                continue
            changed = True
            post = page["posts"][k]
            if heads[k]["handle"]:
                heads[k]["handle"] = None
            else:
                short = render.format_time(post["datetime"], post["datetime"] + dt.timedelta(days=8))
                if len(short) < len(heads[k]["when"]):  # "12 Mar 2023, 21:14" -> "12 Mar"
                    heads[k]["when"] = short
                elif k:  # a header that never fits one line (long name + badge, deep, large text): the page
                    # ends above it, as the grammar has one header line
                    page["posts"], heads = page["posts"][:k], heads[:k]
                    break
                else:
                    raise RuntimeError("the first post's header does not fit one line")
        if abs(m["width"] - spec.viewport[0]) > 0.5:
            raise RuntimeError(f"measured at {m['width']} CSS px, not {spec.viewport[0]}")
        limit = spec.viewport[1] - m["nav"] - m["reply"]
        keep = min(len(page["posts"]), sum(1 for b in m["posts"] if b <= limit))
        if keep < len(page["posts"]):
            keep = max(1, keep)
            page["posts"] = page["posts"][:keep]
            heads = heads[:keep]
            changed = True
        if not changed:
            return page, heads
    raise RuntimeError("page layout did not settle")


# --------------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------------


def require_chromium() -> str:
    path = shutil.which(CHROMIUM)
    if not path:
        raise RuntimeError(f"{CHROMIUM!r} not found (apt-get install chromium)")
    return path


def write_html_corpus(root, n_pages: int = len(SPECS), seed: int = 11, bank=None) -> list[str]:
    """Render ``n_pages`` pages (:data:`SPECS` in turn) with headless Chromium into ``root`` as a study's
    screenshots: ``root/screenshots/`` (images, ``screenshots.csv``, ``transcribed.csv``), ``root/roster.csv``,
    plus ``root/html/<id>.html`` and ``root/pages.json``. Returns the page ids, in order."""
    require_chromium()
    members, threads = bank or phone_pages.load_bank()
    root = Path(root)
    shots = root / "screenshots"
    srcs = root / "html"
    shots.mkdir(parents=True, exist_ok=True)
    srcs.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    named = [m for m in members if not m.get("admin")]
    rows, index, meta = [], [], []
    with tempfile.TemporaryDirectory(prefix="html-pages-") as tmp:
        work = Path(tmp)
        profile = work / "profile"
        for j in range(n_pages):
            spec = SPECS[j % len(SPECS)]
            page = dict(phone_pages.pick_page(threads, members, spec.render_style(), spec.page, j, seed))
            if spec.title:
                page["chrome_title"] = spec.title.format(name=rng.choice(named)["display_name"])
            offered = len(page["posts"])
            page, heads = fit_page(page, spec, work, profile)
            capture = page["capture"] + dt.timedelta(seconds=(7 * j + 3) % 60)
            name = spec.file.format(n=3101 + 4 * j + (j * j) % 3, d=capture, k=j + 1)
            sid = screenshots.id_from_stem(Path(name).stem)
            src = srcs / f"{sid}.html"
            src.write_text(page_html(page, heads, spec), encoding="utf-8")
            png = work / "shot.png"
            screenshot(src, png, spec, profile)
            if spec.fmt == "jpeg":
                from PIL import Image

                with Image.open(png) as im:
                    im.convert("RGB").save(shots / name, format="JPEG", quality=spec.quality)
            else:
                shutil.copyfile(png, shots / name)
            index.append({"file": name, "screenshot_id": sid, "captured_at": f"{capture:%Y-%m-%d %H:%M:%S}"})
            for k, (post, head) in enumerate(zip(page["posts"], heads), 1):
                rows.append(
                    {
                        "screenshot_id": sid,
                        "post_index": k,
                        "depth": post["depth"],
                        "author": post["display_name"],
                        "timestamp": head["when"],
                        "text": post["text"],
                        "reactions": post["reactions"],
                    }
                )
            meta.append(
                {
                    "screenshot_id": sid,
                    "file": name,
                    "html": f"html/{sid}.html",
                    "design": spec.describe(),
                    "font": spec.font,
                    "font_size": spec.font_size,
                    "viewport": list(spec.viewport),
                    "dpr": spec.dpr,
                    "theme": spec.theme,
                    "chrome": ",".join(spec.kinds()),
                    "avatar": spec.avatar,
                    "cards": spec.cards,
                    "rules": spec.rules,
                    "indent_css": spec.indent,
                    "jpeg_quality": spec.quality,
                    "kind": spec.page,
                    "title": (page.get("chrome_title") or render.TITLE) if "title" in spec.kinds() else "",
                    "title_has_roster_name": bool(spec.title),
                    "banner": bool(page.get("title_bar")),
                    "posts": len(page["posts"]),
                    "posts_offered": offered,
                    "starts_mid_thread": page["posts"][0]["depth"] > 0,
                    "max_depth": max(p["depth"] for p in page["posts"]),
                    "admin": any(p.get("admin") for p in page["posts"]),
                    "pinned": any(p.get("show_pinned") for p in page["posts"]),
                }
            )
    ids = [m["screenshot_id"] for m in meta]
    if len({i.lower() for i in ids}) != len(ids):
        raise RuntimeError(f"two pages got the same id: {ids}")
    write_csv(
        pd.DataFrame(index, columns=["file", "screenshot_id", "captured_at"]), shots / screenshots.SCREENSHOTS_CSV
    )
    write_csv(pd.DataFrame(rows, columns=screenshots.TRANSCRIBED_COLUMNS), shots / "transcribed.csv")
    pseudonyms.write_roster(members, root / "roster.csv")
    (root / "pages.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return ids
