"""Synthetic phone screenshots of WITI pages, drawn in the SPEC 4 visual grammar.

A page is a portrait phone capture: an optional title bar (``WITI · What is, this is``), then post
blocks top to bottom. A block is a header line ``Display Name [@handle] [Admin] · TIME``, wrapped body
lines and a footer ``♥ N [· N replies]``; replies are indented one fixed step per depth level.

The renderer is used by ``compendium synth`` (to make the committed synthetic screenshots) and by the
tests (to make screenshots in fonts, sizes and themes the synthetic corpus never used). Output is
byte-identical for the same seed: fonts default to matplotlib's bundled DejaVu Sans, PNGs are written
without metadata, and every random choice comes from ``random.Random(seed)``.

Three functions matter:

- :func:`paginate` flattens the thread bank into visual posts and cuts them into pages by pixel height;
- :func:`draw_page` draws one page with a :class:`Style`;
- :func:`write_screenshots` writes ``WITI-001.png`` .. and returns the rows of ``transcribed.csv``.

What real phones add, for tests (all off by default, so the committed corpus is unchanged): the phone's chrome
(``Style.status_bar``, ``back_bar``, ``nav_bar``, ``reply_box``; :func:`layout_regions` and :func:`chrome_boxes`
say where each is drawn), headers without the `` · `` (``Style.separator=False``), an OLED ``black`` and a
``tinted`` theme, and the capture's own degradation (:func:`capture_bytes`: JPEG quality, blur, resampling).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from compendium.errors import InputError

TITLE = "WITI · What is, this is"
PINNED_LABEL = "Pinned post"
ANONYMOUS = "Anonymous member"
HEART = "♥"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

THEMES = {
    "light": {
        "bg": (255, 255, 255),
        "text": (28, 30, 33),
        "muted": (96, 99, 104),
        "accent": (24, 100, 200),
        "title_text": (255, 255, 255),
        "badge_bg": (225, 236, 252),
        "badge_text": (24, 90, 180),
        "avatar": (200, 208, 220),
        "rule": (228, 230, 235),
    },
    "dark": {
        "bg": (24, 25, 26),
        "text": (228, 230, 235),
        "muted": (176, 179, 184),
        "accent": (45, 136, 255),
        "title_text": (255, 255, 255),
        "badge_bg": (38, 58, 90),
        "badge_text": (170, 205, 255),
        "avatar": (70, 74, 80),
        "rule": (58, 59, 60),
    },
    "warm": {
        "bg": (251, 243, 228),
        "text": (59, 47, 47),
        "muted": (110, 94, 80),
        "accent": (160, 82, 45),
        "title_text": (255, 250, 240),
        "badge_bg": (240, 220, 190),
        "badge_text": (130, 60, 30),
        "avatar": (222, 200, 170),
        "rule": (232, 218, 196),
    },
    # OLED dark mode: a pure black background
    "black": {
        "bg": (0, 0, 0),
        "text": (232, 232, 236),
        "muted": (152, 152, 158),
        "accent": (10, 132, 255),
        "title_text": (255, 255, 255),
        "badge_bg": (28, 44, 72),
        "badge_text": (160, 200, 255),
        "avatar": (50, 52, 56),
        "rule": (38, 38, 40),
    },
    # a light coloured background (pale blue), as some apps and accessibility settings show
    "tinted": {
        "bg": (232, 242, 252),
        "text": (20, 36, 56),
        "muted": (78, 96, 118),
        "accent": (30, 96, 170),
        "title_text": (255, 255, 255),
        "badge_bg": (202, 222, 246),
        "badge_text": (20, 80, 160),
        "avatar": (188, 208, 232),
        "rule": (208, 222, 240),
    },
}

#: Colours of the phone's own chrome (status bar, title bar, navigation bar, reply box) in each theme: ``bar`` is
#: the bars' background, ``icon`` and ``icon_muted`` their shapes and labels, ``field_bg``, ``field_outline`` and
#: ``placeholder`` the reply box. A theme without an entry gets chrome derived from its own colours.
CHROME = {
    "light": {
        "bar": (246, 247, 249),
        "icon": (28, 30, 33),
        "icon_muted": (138, 141, 146),
        "field_bg": (240, 242, 245),
        "field_outline": (204, 207, 212),
        "placeholder": (134, 137, 142),
    },
    "dark": {
        "bar": (36, 37, 38),
        "icon": (228, 230, 235),
        "icon_muted": (128, 131, 136),
        "field_bg": (50, 51, 52),
        "field_outline": (78, 80, 84),
        "placeholder": (150, 153, 158),
    },
    "warm": {
        "bar": (245, 233, 212),
        "icon": (59, 47, 47),
        "icon_muted": (150, 130, 110),
        "field_bg": (255, 250, 240),
        "field_outline": (220, 202, 176),
        "placeholder": (140, 122, 104),
    },
    "black": {
        "bar": (0, 0, 0),
        "icon": (236, 236, 240),
        "icon_muted": (112, 112, 118),
        "field_bg": (28, 28, 30),
        "field_outline": (58, 58, 62),
        "placeholder": (142, 142, 147),
    },
    "tinted": {
        "bar": (216, 232, 248),
        "icon": (20, 36, 56),
        "icon_muted": (112, 132, 158),
        "field_bg": (246, 250, 255),
        "field_outline": (176, 198, 224),
        "placeholder": (108, 126, 150),
    },
}
#: The kinds of phone chrome :func:`layout_regions` reports, top to bottom.
CHROME_KINDS = ("status", "title", "reply", "nav")
NAV_LABELS = ("Home", "Groups", "Notifications", "Menu")
REPLY_PLACEHOLDER = "Write a reply…"


def _mpl_font(name: str) -> str:
    import matplotlib

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name)


@dataclass(frozen=True)
class Style:
    """How a page looks. Every length is in pixels at the page's own width."""

    font_regular: str = field(default_factory=lambda: _mpl_font("DejaVuSans.ttf"))
    font_bold: str = field(default_factory=lambda: _mpl_font("DejaVuSans-Bold.ttf"))
    font_size: int = 34
    width: int = 1080
    aspect: float = 19.5 / 9  # phone portrait: height = width * aspect (grows if content is taller)
    margin: int = 44  # left and right margin (symmetric)
    indent: int = 72  # indentation step per depth level
    theme: str = "light"
    line_spacing: float = 1.42
    block_gap: float = 1.1  # space between post blocks, in font sizes
    avatar: bool = True  # a plain circle left of the header (no letters)
    separator: bool = True  # the `` · `` between a header's name part and its time (False: a space)
    # Phone chrome, all off by default (the committed corpus has none); sizes follow font_size and width.
    status_bar: bool = False  # clock, signal bars, wifi, battery with a percentage, at the very top
    back_bar: bool = False  # a title bar under it: a back chevron and a title (chrome_title)
    nav_bar: bool = False  # a bottom navigation bar fixed at the bottom: icons with labels
    reply_box: bool = False  # a rounded "Write a reply…" field under the last post
    chrome_title: str | None = None  # the back bar's title (None: TITLE); a page's "chrome_title" overrides it
    clock: str | None = None  # the status bar's clock (None: the page's capture time, HH:MM)
    battery: int = 87  # the status bar's battery percentage
    nav_labels: tuple = NAV_LABELS  # the navigation bar's items (icons by label: Home, Groups, ...)
    heart_font: str | None = None  # draw the footer's heart in this font (a phone's fallback for a font without
    # the glyph); None: in font_regular, whatever it has

    def colours(self) -> dict:
        if self.theme not in THEMES:
            raise ValueError(f"unknown theme {self.theme!r}; choose from {sorted(THEMES)}")
        return THEMES[self.theme]

    def chrome_colours(self) -> dict:
        c = self.colours()
        return CHROME.get(self.theme) or {
            "bar": c["bg"],
            "icon": c["text"],
            "icon_muted": c["muted"],
            "field_bg": c["bg"],
            "field_outline": c["rule"],
            "placeholder": c["muted"],
        }

    def chrome_kinds(self) -> tuple[str, ...]:
        """The chrome this style draws, of :data:`CHROME_KINDS`."""
        on = {"status": self.status_bar, "title": self.back_bar, "reply": self.reply_box, "nav": self.nav_bar}
        return tuple(k for k in CHROME_KINDS if on[k])


# --------------------------------------------------------------------------------------------------
# Bank -> visual posts -> pages
# --------------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(first|handle|name):([A-Za-z0-9_]+)\}")


def first_name(member: dict) -> str:
    """The form a member is called by in text: the first alias, else the first word of the name."""
    aliases = member.get("aliases") or []
    return str(aliases[0]) if aliases else str(member["display_name"]).split()[0]


def fill_mentions(text: str, members: dict) -> str:
    """Replace ``{first:m21}``, ``{handle:m21}`` and ``{name:m21}`` with the member's forms."""

    def sub(m: re.Match) -> str:
        kind, key = m.group(1), m.group(2)
        if key not in members:
            raise InputError(f"placeholder {m.group(0)} names an unknown member {key!r}")
        mem = members[key]
        if kind == "first":
            return first_name(mem)
        if kind == "handle":
            return str(mem["handle"])
        return str(mem["display_name"])

    return " ".join(_PLACEHOLDER.sub(sub, str(text)).split())


def _parse_dt(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.strptime(str(value).strip(), "%Y-%m-%d %H:%M")


def format_time(when: dt.datetime, capture: dt.datetime, absolute: bool = False) -> str:
    """The timestamp as a phone shows it at ``capture`` time: ``2h``, ``3d``, ``12 Mar`` or full."""
    if absolute:
        return f"{when.day} {MONTHS[when.month - 1]} {when.year}, {when:%H:%M}"
    delta = capture - when
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(1, int(delta.total_seconds() // 60))}m"
    if hours < 24:
        return f"{int(hours)}h"
    if delta.days < 7:
        return f"{delta.days}d"
    if when.year == capture.year:
        return f"{when.day} {MONTHS[when.month - 1]}"
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}, {when:%H:%M}"


def flatten(threads: list, members: dict | list) -> list[dict]:
    """All posts of the bank in reading order (depth first), as visual-post dicts without layout."""
    if isinstance(members, list):
        members = {m["key"]: m for m in members}
    out: list[dict] = []

    def walk(post: dict, thread: dict, depth: int, path: str, parent_path: str | None) -> None:
        author = post.get("author", "anonymous")
        if author == "anonymous":
            name, handle, admin = ANONYMOUS, None, False
        else:
            if author not in members:
                raise InputError(f"thread {thread.get('id')}: post {path} has unknown author {author!r}")
            mem = members[author]
            name, handle, admin = str(mem["display_name"]), str(mem["handle"]), bool(mem.get("admin"))
        replies = post.get("replies") or []
        out.append(
            {
                "thread_id": str(thread["id"]),
                "bank_post": path,
                "bank_parent": parent_path,
                "pinned": bool(thread.get("pinned")),
                "depth": depth,
                "author_key": author,
                "display_name": name,
                "handle": handle,
                "admin": admin,
                "datetime": _parse_dt(post.get("datetime") or f"{thread['date']} 12:00"),
                "text": fill_mentions(post.get("text", ""), members),
                "reactions": int(post.get("reactions") or 0),
                "replies": len(replies),
                "act": str(post.get("act") or ""),
            }
        )
        for i, reply in enumerate(replies, 1):
            walk(reply, thread, min(depth + 1, 2), f"{path}.{i}", path)

    for thread in threads:
        for i, post in enumerate(thread.get("posts") or [], 1):
            walk(post, thread, 0, str(i), None)
    return out


def _fonts(style: Style, scale: float = 1.0):
    size = max(8, round(style.font_size * scale))
    return (ImageFont.truetype(style.font_regular, size), ImageFont.truetype(style.font_bold, size))


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap by pixel width; a word longer than the line is broken by characters."""
    lines: list[str] = []
    cur = ""
    for word in text.split():
        cand = word if not cur else cur + " " + word
        if font.getlength(cand) <= max_width:
            cur = cand
            continue
        if cur:
            lines.append(cur)
        cur = ""
        while font.getlength(word) > max_width:
            cut = len(word)
            while cut > 1 and font.getlength(word[:cut]) > max_width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        cur = word
    if cur or not lines:
        lines.append(cur)
    return lines


def _post_height(post: dict, style: Style, fonts) -> int:
    regular, _ = fonts
    lh = style.font_size * style.line_spacing
    x = style.margin + post["depth"] * style.indent + _text_offset(style)
    n_lines = len(wrap(post["text"], regular, style.width - style.margin - x))
    return round(lh * (2 + n_lines) + style.font_size * style.block_gap) + (round(lh) if post.get("show_pinned") else 0)


def _text_offset(style: Style) -> int:
    return round(style.font_size * 1.5) if style.avatar else 0


def _title_height(style: Style) -> int:
    return round(style.font_size * 2.6)


def _status_height(style: Style) -> int:
    return round(style.font_size * 1.6) if style.status_bar else 0


def _back_height(style: Style) -> int:
    return round(style.font_size * 2.4) if style.back_bar else 0


def _nav_height(style: Style) -> int:
    return round(style.font_size * 3.0) if style.nav_bar else 0


def _reply_height(style: Style) -> int:
    return round(style.font_size * 2.0) if style.reply_box else 0


def _chrome_height(style: Style) -> int:
    """The height the chrome takes from a page's posts (0 without chrome)."""
    reply = _reply_height(style)
    return (
        _status_height(style)
        + _back_height(style)
        + _nav_height(style)
        + reply
        + (round(style.font_size * 0.6) if reply else 0)
    )


def page_height(style: Style) -> int:
    return round(style.width * style.aspect)


def paginate(
    threads: list, members: dict | list, n_pages: int = 35, seed: int = 0, style: Style | None = None
) -> list[dict]:
    """Cut the bank into ``n_pages`` pages of visual posts, by pixel height.

    Each page is a dict: ``posts`` (visual posts in reading order, each with ``depth``, ``thread_id``,
    ``bank_post`` and ``parent`` = index of the parent on the same page or ``None``), ``title_bar``,
    ``capture`` (the capture time) and ``absolute_times``. Pages run on through the bank in order, so a
    page may start with a reply whose parent is on the previous page. If the bank holds more than the
    pages can show, the rest is left out; if it holds too few posts for ``n_pages`` pages, ValueError.
    """
    style = style or Style()
    rng = random.Random(seed)
    posts = flatten(threads, members)
    if len(posts) < n_pages:
        raise ValueError(f"the bank has {len(posts)} posts, too few for {n_pages} pages")
    fonts = _fonts(style)
    for p in posts:
        p["show_pinned"] = p["pinned"] and p["depth"] == 0 and p["bank_post"] == "1"
        p["height"] = _post_height(p, style, fonts)
        p["show_handle"] = p["handle"] is not None and rng.random() < 0.3
    full = page_height(style) - style.margin - _title_height(style) - _chrome_height(style)

    def cut(frac: float, rng_state) -> list[list[int]]:
        r = random.Random(rng_state)
        cap = full * frac
        pages: list[list[int]] = []
        cur: list[int] = []
        used = 0.0
        for i, p in enumerate(posts):
            new_thread = p["depth"] == 0 and p["bank_post"] == "1"
            rest = sum(q["height"] for q in posts[i : i + 12] if q["thread_id"] == p["thread_id"])
            if cur and (
                used + p["height"] > cap
                or (new_thread and used > 0.55 * cap and used + rest > cap and r.random() < 0.7)
            ):
                pages.append(cur)
                cur, used = [], 0.0
            cur.append(i)
            used += p["height"]
        if cur:
            pages.append(cur)
        return pages

    state = rng.random()
    chosen = None
    for frac in [1 - k * 0.025 for k in range(0, 37)]:
        pages = cut(frac, state)
        if len(pages) >= n_pages:
            chosen = pages[:n_pages]
            break
    if chosen is None:  # one post per page at most
        chosen = [[i] for i in range(n_pages)]
    out = []
    for idxs in chosen:
        page_posts = [dict(posts[i]) for i in idxs]
        by_path = {(p["thread_id"], p["bank_post"]): k for k, p in enumerate(page_posts)}
        for p in page_posts:
            p["parent"] = by_path.get((p["thread_id"], p["bank_parent"])) if p["bank_parent"] else None
        latest = max(p["datetime"] for p in page_posts)
        offset = rng.choice([rng.uniform(0.2, 20), rng.uniform(25, 150), rng.uniform(200, 1500)])
        capture = (latest + dt.timedelta(hours=offset)).replace(second=0, microsecond=0)
        first = page_posts[0]
        out.append(
            {
                "posts": page_posts,
                "title_bar": first["depth"] == 0 and first["bank_post"] == "1" and rng.random() < 0.75,
                "capture": capture,
                "absolute_times": rng.random() < 0.15,
            }
        )
    return out


# --------------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------------


def header_parts(post: dict, capture: dt.datetime, absolute: bool) -> tuple[str, str | None, str | None, str]:
    handle = "@" + post["handle"] if post.get("show_handle") and post.get("handle") else None
    badge = "Admin" if post.get("admin") else None
    return post["display_name"], handle, badge, format_time(post["datetime"], capture, absolute)


def footer_text(post: dict) -> str:
    s = f"{HEART} {post['reactions']}"
    if post["replies"]:
        s += f" · {post['replies']} {'reply' if post['replies'] == 1 else 'replies'}"
    return s


def layout_page(page: dict, style: Style) -> tuple[int, list[dict], list[dict]]:
    """Positions of everything on a page: (height, draw items, rendered posts). Items carry what a reader
    sees; an item of the phone's chrome also carries ``chrome`` (its kind, of :data:`CHROME_KINDS`)."""
    height, items, rendered, _ = _layout(page, style)
    return height, items, rendered


def layout_regions(page: dict, style: Style | None = None) -> list[dict]:
    """The regions of a page, top to bottom: ``{"kind", "box"}`` with ``box = (x0, y0, x1, y1)`` in pixels
    (x1, y1 exclusive). Kinds: the chrome (``status``, ``title``, ``reply``, ``nav``), the group's own title
    bar (``banner``) and each post (``post``, with ``index``, 1-based, and ``depth``): what the drawing of each
    element stays inside."""
    style = style or Style()
    return _layout(page, style)[3]


def chrome_boxes(page: dict, style: Style | None = None) -> dict[str, tuple[int, int, int, int]]:
    """``{kind: box}`` of the chrome drawn on a page (empty for the default style)."""
    return {r["kind"]: r["box"] for r in layout_regions(page, style) if r["kind"] in CHROME_KINDS}


def _ibox(x0, y0, x1, y1) -> tuple[int, int, int, int]:
    return (int(x0 // 1), int(y0 // 1), int(-(-x1 // 1)), int(-(-y1 // 1)))


def _bar(x0: int, y0: int, x1: int, y1: int, fill) -> dict:
    """A filled rectangle covering pixels x0..x1-1, y0..y1-1 (PIL draws both corners inclusive)."""
    return {"kind": "rect", "box": (x0, y0, x1 - 1, y1 - 1), "fill": fill}


def _status_bar(page: dict, style: Style, top: int) -> list[dict]:
    """Clock at the left; signal bars, wifi, battery percentage and battery icon at the right."""
    fs, w, m = style.font_size, style.width, style.margin
    cc = style.chrome_colours()
    h = _status_height(style)
    cy = top + h / 2
    bold = _fonts(style, 0.78)[1]
    small = _fonts(style, 0.66)[0]
    capture = page.get("capture")
    clock = style.clock or (f"{capture:%H:%M}" if isinstance(capture, dt.datetime) else "21:14")
    icon, muted = cc["icon"], cc["icon_muted"]
    stroke = max(1, round(fs * 0.06))
    items = [
        _bar(0, top, w, top + h, cc["bar"]),
        {"kind": "text", "xy": (m, cy), "text": clock, "font": bold, "fill": icon, "anchor": "lm"},
    ]
    x = w - m
    # battery: outlined body, a nub at the right, the charge as a filled bar inside
    nub, bw, bh = fs * 0.09, fs * 1.15, fs * 0.56
    items.append({"kind": "rect", "box": (x - nub, cy - bh * 0.22, x, cy + bh * 0.22), "fill": muted})
    x0, x1 = x - nub - bw, x - nub - fs * 0.03
    items.append(
        {
            "kind": "rect",
            "box": (x0, cy - bh / 2, x1, cy + bh / 2),
            "fill": None,
            "outline": muted,
            "width": stroke,
            "radius": max(1, round(bh * 0.28)),
        }
    )
    inset = stroke + max(1, round(fs * 0.04))
    level = max(0, min(100, int(style.battery))) / 100
    fill = (52, 199, 89) if level > 0.2 else (255, 59, 48)
    if style.theme not in ("dark", "black"):
        fill = icon if level > 0.2 else fill
    items.append(
        {
            "kind": "rect",
            "box": (x0 + inset, cy - bh / 2 + inset, x0 + inset + (x1 - x0 - 2 * inset) * level, cy + bh / 2 - inset),
            "fill": fill,
            "radius": max(1, round(bh * 0.12)),
        }
    )
    x = x0 - fs * 0.22
    pct = f"{int(style.battery)}%"
    items.append({"kind": "text", "xy": (x, cy), "text": pct, "font": small, "fill": icon, "anchor": "rm"})
    x -= small.getlength(pct) + fs * 0.45
    # wifi: three arcs and a dot fanning upwards from one point
    r = fs * 0.52
    wx, wy = x - r, cy + r * 0.5
    for k, frac in enumerate((1.0, 0.68)):
        rr = r * frac
        items.append(
            {
                "kind": "arc",
                "box": (wx - rr, wy - rr, wx + rr, wy + rr),
                "start": 225,
                "end": 315,
                "fill": icon,
                "width": max(1, round(fs * 0.09)),
            }
        )
    rr = r * 0.34
    items.append(
        {"kind": "pieslice", "box": (wx - rr, wy - rr, wx + rr, wy + rr), "start": 225, "end": 315, "fill": icon}
    )
    x = wx - r - fs * 0.4
    # signal: four bars rising to the right, the last one not reached
    bar, gap = fs * 0.13, fs * 0.07
    base = cy + fs * 0.28
    for k in range(3, -1, -1):
        bx1 = x - (3 - k) * (bar + gap)
        bh_k = fs * (0.18 + 0.13 * k)
        items.append(
            {
                "kind": "rect",
                "box": (bx1 - bar, base - bh_k, bx1, base),
                "fill": icon if k < 3 else muted,
                "radius": max(1, round(bar * 0.3)),
            }
        )
    return items


def _back_bar(page: dict, style: Style, top: int) -> list[dict]:
    """A back chevron, the title (truncated with an ellipsis to fit) and a "more" icon."""
    fs, w, m = style.font_size, style.width, style.margin
    cc, c = style.chrome_colours(), style.colours()
    h = _back_height(style)
    cy = top + h / 2
    bold = _fonts(style, 0.95)[1]
    cw, ch = fs * 0.3, fs * 0.5
    items = [
        _bar(0, top, w, top + h, cc["bar"]),
        _bar(0, top + h - max(1, round(fs / 24)), w, top + h, c["rule"]),
        {
            "kind": "line",
            "points": [(m + cw, cy - ch), (m, cy), (m + cw, cy + ch)],
            "fill": c["accent"],
            "width": max(2, round(fs * 0.11)),
        },
    ]
    dot = fs * 0.085
    dx = w - m - dot
    for k in range(3):
        x = dx - k * dot * 3.2
        items.append({"kind": "ellipse", "box": (x - dot, cy - dot, x + dot, cy + dot), "fill": cc["icon"]})
    title = page.get("chrome_title") or style.chrome_title or TITLE
    tx = m + cw + fs * 0.8
    room = dx - dot * 8 - fs * 0.6 - tx
    if bold.getlength(title) > room:
        while title and bold.getlength(title + "…") > room:
            title = title[:-1]
        title = title.rstrip() + "…"
    items.append({"kind": "text", "xy": (tx, cy), "text": title, "font": bold, "fill": cc["icon"], "anchor": "lm"})
    return items


def _reply_box(style: Style, y: float) -> list[dict]:
    fs, w, m = style.font_size, style.width, style.margin
    cc, c = style.chrome_colours(), style.colours()
    h = _reply_height(style)
    cy = y + h / 2
    regular = _fonts(style, 0.88)[0]
    items = [
        {
            "kind": "rect",
            "box": (m, y, w - m - 1, y + h),
            "fill": cc["field_bg"],
            "outline": cc["field_outline"],
            "width": max(1, round(fs / 17)),
            "radius": round(h / 2),
        },
        {
            "kind": "text",
            "xy": (m + h * 0.55, cy),
            "text": REPLY_PLACEHOLDER,
            "font": regular,
            "fill": cc["placeholder"],
            "anchor": "lm",
        },
    ]
    sx, sz = w - m - h * 0.6, fs * 0.4  # a paper-plane send icon
    items.append(
        {
            "kind": "polygon",
            "fill": c["accent"],
            "points": [
                (sx - sz * 0.75, cy - sz * 0.8),
                (sx + sz * 0.85, cy),
                (sx - sz * 0.75, cy + sz * 0.8),
                (sx - sz * 0.4, cy),
            ],
        }
    )
    return items


def _nav_icon(label: str, cx: float, cy: float, s: float, fill, stroke: int) -> list[dict]:
    """A simple shape for a navigation item, ``s`` pixels across."""
    h = s / 2
    key = label.lower()
    if key.startswith("home"):
        return [
            {
                "kind": "polygon",
                "fill": fill,
                "points": [
                    (cx - h, cy - s * 0.02),
                    (cx, cy - h),
                    (cx + h, cy - s * 0.02),
                    (cx + h * 0.72, cy - s * 0.02),
                    (cx + h * 0.72, cy + h),
                    (cx - h * 0.72, cy + h),
                    (cx - h * 0.72, cy - s * 0.02),
                ],
            }
        ]
    if key.startswith("group") or key.startswith("friend"):
        out = []
        for ox, sc in ((-s * 0.2, 0.85), (s * 0.2, 1.0)):
            hr = s * 0.16 * sc
            hx, hy = cx + ox, cy - s * 0.18
            out.append({"kind": "ellipse", "box": (hx - hr, hy - hr, hx + hr, hy + hr), "fill": fill})
            br = s * 0.3 * sc
            out.append(
                {
                    "kind": "pieslice",
                    "box": (hx - br, cy + h - br, hx + br, cy + h + br),
                    "start": 180,
                    "end": 360,
                    "fill": fill,
                }
            )
        return out
    if key.startswith("notif") or key.startswith("alert"):
        bell = [
            (cx - h * 0.7, cy - h * 0.3),
            (cx + h * 0.7, cy - h * 0.3),
            (cx + h * 0.95, cy + h * 0.55),
            (cx - h * 0.95, cy + h * 0.55),
        ]
        return [
            {
                "kind": "pieslice",
                "box": (cx - h * 0.7, cy - h, cx + h * 0.7, cy + h * 0.4),
                "start": 180,
                "end": 360,
                "fill": fill,
            },
            {"kind": "polygon", "fill": fill, "points": bell},
            {"kind": "ellipse", "box": (cx - h * 0.22, cy + h * 0.6, cx + h * 0.22, cy + h), "fill": fill},
        ]
    if key.startswith("menu"):
        t = max(2, round(s * 0.11))
        return [
            {
                "kind": "rect",
                "box": (cx - h * 0.85, cy + dy - t / 2, cx + h * 0.85, cy + dy + t / 2),
                "fill": fill,
                "radius": max(1, t // 2),
            }
            for dy in (-h * 0.6, 0, h * 0.6)
        ]
    return [
        {
            "kind": "ellipse",
            "box": (cx - h * 0.8, cy - h * 0.8, cx + h * 0.8, cy + h * 0.8),
            "fill": None,
            "outline": fill,
            "width": stroke,
        }
    ]


def _nav_bar(style: Style, top: int) -> list[dict]:
    fs, w = style.font_size, style.width
    cc, c = style.chrome_colours(), style.colours()
    h = _nav_height(style)
    labels = list(style.nav_labels) or list(NAV_LABELS)
    small = _fonts(style, 0.56)[0]
    items = [_bar(0, top, w, top + h, cc["bar"]), _bar(0, top, w, top + max(1, round(fs / 24)), c["rule"])]
    slot = w / len(labels)
    for k, label in enumerate(labels):
        cx = slot * (k + 0.5)
        colour = c["accent"] if k == 0 else cc["icon_muted"]
        items += _nav_icon(label, cx, top + h * 0.38, fs * 0.74, colour, max(1, round(fs * 0.08)))
        items.append(
            {"kind": "text", "xy": (cx, top + h * 0.78), "text": label, "font": small, "fill": colour, "anchor": "mm"}
        )
    return items


def _tag(items: list[dict], kind: str) -> list[dict]:
    for it in items:
        it["chrome"] = kind
    return items


def _layout(page: dict, style: Style):
    regular, bold = _fonts(style)
    small_regular, small_bold = _fonts(style, 0.82)
    c = style.colours()
    lh = style.font_size * style.line_spacing
    items: list[dict] = []
    regions: list[dict] = []
    top = 0
    if style.status_bar:
        items += _tag(_status_bar(page, style, top), "status")
        regions.append({"kind": "status", "box": (0, top, style.width, top + _status_height(style))})
        top += _status_height(style)
    if style.back_bar:
        items += _tag(_back_bar(page, style, top), "title")
        regions.append({"kind": "title", "box": (0, top, style.width, top + _back_height(style))})
        top += _back_height(style)
    y = top + style.margin * 0.6
    if page.get("title_bar"):
        th = _title_height(style)
        items.append({"kind": "rect", "box": (0, top, style.width, top + th), "fill": c["accent"]})
        items.append(
            {
                "kind": "text",
                "xy": (style.margin, top + th / 2),
                "text": TITLE,
                "font": bold,
                "fill": c["title_text"],
                "anchor": "lm",
            }
        )
        regions.append({"kind": "banner", "box": (0, top, style.width, top + th)})
        y = top + th + style.margin * 0.6
    sep = " · " if style.separator else " "
    rendered = []
    for k, post in enumerate(page["posts"]):
        x = style.margin + post["depth"] * style.indent
        tx = x + _text_offset(style)
        y_start = y
        if post.get("show_pinned"):
            items.append(
                {
                    "kind": "text",
                    "xy": (tx, y + lh / 2),
                    "text": PINNED_LABEL,
                    "font": small_bold,
                    "fill": c["muted"],
                    "anchor": "lm",
                }
            )
            y += lh
        name, handle, badge, when = header_parts(post, page["capture"], page.get("absolute_times", False))
        room = style.width - style.margin - tx

        def header_width(handle_, when_):
            w = bold.getlength(name) + regular.getlength(f"{sep}{when_}")
            if handle_:
                w += regular.getlength(" " + handle_)
            if badge:
                w += regular.getlength("  ") + small_bold.getlength(badge) + style.font_size * 0.6
            return w

        if header_width(handle, when) > room:  # like a phone app: drop the handle, then the year
            handle = None
            if header_width(None, when) > room:
                when = format_time(post["datetime"], post["datetime"] + dt.timedelta(days=8))
        cy = y + lh / 2
        if style.avatar:
            r = style.font_size * 0.55
            items.append({"kind": "ellipse", "box": (x, cy - r, x + 2 * r, cy + r), "fill": c["avatar"]})
        hx = tx
        items.append({"kind": "text", "xy": (hx, cy), "text": name, "font": bold, "fill": c["text"], "anchor": "lm"})
        hx += bold.getlength(name)
        if handle:
            hx += regular.getlength(" ")
            items.append(
                {"kind": "text", "xy": (hx, cy), "text": handle, "font": regular, "fill": c["muted"], "anchor": "lm"}
            )
            hx += regular.getlength(handle)
        if badge:
            hx += regular.getlength("  ")
            bw = small_bold.getlength(badge) + style.font_size * 0.6
            bh = style.font_size * 1.05
            items.append(
                {
                    "kind": "rect",
                    "box": (hx, cy - bh / 2, hx + bw, cy + bh / 2),
                    "fill": c["badge_bg"],
                    "radius": round(bh / 3),
                }
            )
            items.append(
                {
                    "kind": "text",
                    "xy": (hx + bw / 2, cy),
                    "text": badge,
                    "font": small_bold,
                    "fill": c["badge_text"],
                    "anchor": "mm",
                }
            )
            hx += bw
        items.append(
            {
                "kind": "text",
                "xy": (hx, cy),
                "text": f"{sep}{when}",
                "font": regular,
                "fill": c["muted"],
                "anchor": "lm",
            }
        )
        y += lh
        lines = wrap(post["text"], regular, style.width - style.margin - tx)
        for line in lines:
            items.append(
                {
                    "kind": "text",
                    "xy": (tx, y + lh / 2),
                    "text": line,
                    "font": regular,
                    "fill": c["text"],
                    "anchor": "lm",
                }
            )
            y += lh
        footer = footer_text(post)
        if style.heart_font and footer.startswith(HEART):
            heart = ImageFont.truetype(style.heart_font, regular.size)
            items.append(
                {
                    "kind": "text",
                    "xy": (tx, y + lh / 2),
                    "text": HEART,
                    "font": heart,
                    "fill": c["muted"],
                    "anchor": "lm",
                }
            )
            items.append(
                {
                    "kind": "text",
                    "xy": (tx + heart.getlength(HEART), y + lh / 2),
                    "text": footer[len(HEART) :],
                    "font": regular,
                    "fill": c["muted"],
                    "anchor": "lm",
                }
            )
        else:
            items.append(
                {
                    "kind": "text",
                    "xy": (tx, y + lh / 2),
                    "text": footer,
                    "font": regular,
                    "fill": c["muted"],
                    "anchor": "lm",
                }
            )
        regions.append(
            {
                "kind": "post",
                "index": k + 1,
                "depth": post["depth"],
                "box": _ibox(x, y_start, style.width - style.margin, y + lh),
            }
        )
        y += lh + style.font_size * style.block_gap
        rendered.append(
            {
                "index": k + 1,
                "depth": post["depth"],
                "author": name,
                "timestamp": when,
                "text": " ".join(lines),
                "reactions": post["reactions"],
            }
        )
    if style.reply_box:
        rh = _reply_height(style)
        items += _tag(_reply_box(style, y), "reply")
        regions.append({"kind": "reply", "box": _ibox(style.margin, y, style.width - style.margin, y + rh + 1)})
        y += rh + round(style.font_size * 0.6)
    if style.nav_bar:
        nh = _nav_height(style)
        height = max(page_height(style), round(y + style.margin) + nh)
        items += _tag(_nav_bar(style, height - nh), "nav")
        regions.append({"kind": "nav", "box": (0, height - nh, style.width, height)})
    else:
        height = max(page_height(style), round(y + style.margin))
    return height, items, rendered, regions


def draw_items(img: Image.Image, items: list[dict]) -> Image.Image:
    """Draw layout items (of :func:`layout_page`) onto ``img``, in order; returns ``img``."""
    d = ImageDraw.Draw(img)
    for it in items:
        kind = it["kind"]
        if kind == "rect":
            box = [round(v) for v in it["box"]]
            if "outline" in it:
                d.rounded_rectangle(
                    box, radius=it.get("radius") or 0, fill=it["fill"], outline=it["outline"], width=it["width"]
                )
            elif it.get("radius"):
                d.rounded_rectangle(box, radius=it["radius"], fill=it["fill"])
            else:
                d.rectangle(box, fill=it["fill"])
        elif kind == "ellipse":
            if "outline" in it:
                d.ellipse([round(v) for v in it["box"]], fill=it["fill"], outline=it["outline"], width=it["width"])
            else:
                d.ellipse([round(v) for v in it["box"]], fill=it["fill"])
        elif kind == "polygon":
            d.polygon([(round(x), round(y)) for x, y in it["points"]], fill=it["fill"])
        elif kind == "line":
            d.line([(round(x), round(y)) for x, y in it["points"]], fill=it["fill"], width=it["width"], joint="curve")
        elif kind == "arc":
            d.arc([round(v) for v in it["box"]], it["start"], it["end"], fill=it["fill"], width=it["width"])
        elif kind == "pieslice":
            d.pieslice([round(v) for v in it["box"]], it["start"], it["end"], fill=it["fill"])
        else:
            d.text(
                (round(it["xy"][0]), round(it["xy"][1])),
                it["text"],
                font=it["font"],
                fill=it["fill"],
                anchor=it["anchor"],
            )
    return img


def draw_page(page: dict, style: Style | None = None) -> Image.Image:
    """Draw one page (from :func:`paginate`) as an RGB image."""
    style = style or Style()
    c = style.colours()
    height, items, _ = layout_page(page, style)
    img = Image.new("RGB", (style.width, height), c["bg"])
    return draw_items(img, items)


def transcribe_page(page: dict, style: Style | None = None) -> list[dict]:
    """What a careful human transcriber would write down for the page (rows of ``transcribed.csv``): the posts
    only, never the chrome."""
    style = style or Style()
    _, _, rendered = layout_page(page, style)
    for row, post in zip(rendered, page["posts"]):
        row["thread_id"] = post["thread_id"]
        row["bank_post"] = post["bank_post"]
        row["act"] = post.get("act", "")
    return rendered


def png_bytes(img: Image.Image) -> bytes:
    """PNG without metadata (no dates, no software tag): same pixels, same bytes."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def degrade(img: Image.Image, blur: float | None = None, resample: float | None = None) -> Image.Image:
    """What a capture goes through on its way to a researcher, deterministically: ``resample`` scales the image
    down by that factor (e.g. 0.8, bilinear) and back up to its size (bicubic), as a messaging app's
    re-compression does; ``blur`` is a Gaussian blur of that radius in pixels. Returns a new RGB image."""
    out = img.convert("RGB")
    if resample:
        if not 0.1 <= resample < 1:
            raise ValueError(f"resample factor {resample!r} must be in [0.1, 1)")
        w, h = out.size
        small = out.resize((max(1, round(w * resample)), max(1, round(h * resample))), Image.Resampling.BILINEAR)
        out = small.resize((w, h), Image.Resampling.BICUBIC)
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    return out


def capture_bytes(
    img: Image.Image,
    fmt: str = "png",
    quality: int | None = None,
    blur: float | None = None,
    resample: float | None = None,
) -> bytes:
    """The bytes of a capture of ``img``: :func:`degrade` (``blur``, ``resample``), then PNG (:func:`png_bytes`)
    or baseline JPEG (``fmt`` "jpeg"/"jpg", ``quality`` 1-95, default 80; 4:2:0 chroma subsampling as phones
    save them; no EXIF or other metadata). The same image and settings give the same bytes."""
    out = degrade(img, blur=blur, resample=resample)
    kind = fmt.lower().lstrip(".")
    if kind == "png":
        if quality is not None:
            raise ValueError("quality is for JPEG only")
        return png_bytes(out)
    if kind not in ("jpeg", "jpg"):
        raise ValueError(f"unknown capture format {fmt!r}; choose png or jpeg")
    q = 80 if quality is None else int(quality)
    if not 1 <= q <= 95:
        raise ValueError(f"JPEG quality {quality!r} must be in 1..95")
    buf = io.BytesIO()
    out.save(buf, format="JPEG", quality=q, subsampling="4:2:0", optimize=False, progressive=False)
    return buf.getvalue()


def write_screenshots(
    out_dir,
    members,
    threads,
    seed: int = 0,
    n_pages: int = 35,
    style: Style | None = None,
    styles: list[Style] | None = None,
) -> pd.DataFrame:
    """Write ``WITI-001.png`` .. into ``out_dir``; return the transcription rows.

    Columns: ``screenshot_id, post_index, depth, author, timestamp, text, reactions, act`` (transcribed.csv;
    ``act`` the bank's hand-assigned reply act, :mod:`compendium.acts`) plus ``thread_id, bank_post`` (where the post comes from in the bank; drop before writing). Pages
    alternate between light and dark themes by a seeded choice unless ``style`` or ``styles`` is given.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = paginate(threads, members, n_pages=n_pages, seed=seed, style=style)
    rng = random.Random(f"{seed}-themes")
    rows = []
    for i, page in enumerate(pages, 1):
        if styles:
            st = styles[(i - 1) % len(styles)]
        elif style is not None:
            st = style
        else:
            st = replace(Style(), theme="dark" if rng.random() < 0.3 else "light")
        sid = f"WITI-{i:03d}"
        (out_dir / f"{sid}.png").write_bytes(png_bytes(draw_page(page, st)))
        for row in transcribe_page(page, st):
            rows.append(
                {
                    "screenshot_id": sid,
                    "post_index": row["index"],
                    "depth": row["depth"],
                    "author": row["author"],
                    "timestamp": row["timestamp"],
                    "text": row["text"],
                    "reactions": row["reactions"],
                    "act": row["act"],
                    "thread_id": row["thread_id"],
                    "bank_post": row["bank_post"],
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
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
        ],
    )


# --------------------------------------------------------------------------------------------------
# A small self-contained bank in the synthdata schema, for tests and "try this" experiments
# --------------------------------------------------------------------------------------------------

_DEMO_NAMES = [
    ("Lim Jia Hui", "jiahui.lim", ["Jia Hui", "JH"]),
    ("Rachel Tan", "rach.tan", ["Rachel"]),
    ("Muhammad Irfan", "irfan_m", ["Irfan"]),
    ("Priya Nair", "priya.n", ["Priya"]),
    ("Ong Wei Jie", "weijie.ong", ["Wei Jie"]),
    ("Siti Nurhaliza", "siti.nh", ["Siti"]),
    ("Daniel Koh", "dankoh", ["Daniel", "Dan"]),
    ("Chua Xin Yi", "xinyi_c", ["Xin Yi"]),
    ("Arjun Menon", "arjun.m", ["Arjun"]),
    ("Tan Kai Wen", "kaiwen.t", ["Kai Wen", "KW"]),
    ("Nur Aisyah", "aisyah.n", ["Aisyah"]),
    ("Gabriel Lee", "gab.lee", ["Gabriel", "Gab"]),
    ("Wong Shu Min", "shumin.w", ["Shu Min"]),
    ("Harish Kumar", "harishk", ["Harish"]),
    ("Teo Zhi Hao", "zhihao.teo", ["Zhi Hao"]),
    ("Farah Aziz", "farah.a", ["Farah"]),
]
_DEMO_Q = [
    "What is the difference between nephritic and nephrotic syndrome ah? Always mix them up during tutorials.",
    "Can someone explain why we give IV fluids before the CT in suspected pancreatitis?",
    "Anyone has a good mnemonic for the cranial nerve foramina? Exam in 2 weeks and I am panicking.",
    "Stupid question but what is the normal anion gap range we use here?",
    "For the OSCE station on chest pain, do we need to ask about cocaine use? My tutor said yes but the guide never mention.",
    "Why does hyperkalaemia give peaked T waves? Looking for the physiology not just the fact.",
]
_DEMO_A = [
    "This is how I remember it: nephritic is blood and hypertension, nephrotic is protein and oedema.",
    "Agree with {first:m02} but add that nephrotic gives hyperlipidaemia also, quite commonly tested.",
    "Not exactly, the CT is to look for complications, fluids are for the third spacing. Check the RCSI guideline.",
    "Standing Room Only: superior orbital fissure carries III, IV, V1 and VI. Got from my senior last year.",
    "@{handle:m05} I uploaded the table here: [File] cranial_nerves_summary.pdf",
    "Normal is about 8 to 12 mmol/L without potassium. Our lab report uses 10 to 20 with potassium, so careful.",
    "Yes must ask lah, the examiners look for recreational drugs in young patients with chest pain.",
    "Faster repolarisation because potassium conductance goes up, so the T wave becomes tall and narrow.",
    "Thanks {first:m07}! This makes sense now, will add it to my notes.",
    "Can confirm, {name:m09} taught us the same thing during the ward round last week.",
]


def demo_bank(n_threads: int = 40, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """A small (members, threads) bank in the synthdata schema: for tests and exercises only."""
    rng = random.Random(seed)
    members = []
    for i, (name, handle, aliases) in enumerate(_DEMO_NAMES, 1):
        members.append(
            {
                "key": f"m{i:02d}",
                "pseudonym": f"P{i:02d}" if i <= 14 else f"M{i:02d}",
                "display_name": name,
                "handle": handle,
                "aliases": aliases,
                "year_of_study": 1 + i % 5,
                "admin": i in (2, 6, 12),
            }
        )
    keys = [m["key"] for m in members]
    threads = []
    day = dt.datetime(2023, 1, 9, 20, 0)
    for t in range(1, n_threads + 1):
        day += dt.timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 600))
        when = day

        def post(depth: int, question: bool) -> dict:
            nonlocal when
            when += dt.timedelta(minutes=rng.randint(3, 300))
            text = rng.choice(_DEMO_Q if question else _DEMO_A)
            p = {
                "author": "anonymous" if question and rng.random() < 0.25 else rng.choice(keys),
                "datetime": when.strftime("%Y-%m-%d %H:%M"),
                "text": text,
                "reactions": rng.randint(0, 60),
                "codes": [],
            }
            if depth < 2:
                n = rng.choice([0, 0, 1, 1, 2, 3]) if depth == 0 else rng.choice([0, 0, 0, 1, 2])
                p["replies"] = [post(depth + 1, False) for _ in range(n)]
            return p

        threads.append(
            {"id": f"t{t:02d}", "date": day.strftime("%Y-%m-%d"), "pinned": t % 9 == 1, "posts": [post(0, True)]}
        )
    return members, threads
