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
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from compendium.errors import InputError

TITLE = "WITI · What is, this is"
PINNED_LABEL = "Pinned post"
ANONYMOUS = "Anonymous member"
HEART = "♥"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

THEMES = {
    "light": {"bg": (255, 255, 255), "text": (28, 30, 33), "muted": (96, 99, 104), "accent": (24, 100, 200),
              "title_text": (255, 255, 255), "badge_bg": (225, 236, 252), "badge_text": (24, 90, 180),
              "avatar": (200, 208, 220), "rule": (228, 230, 235)},
    "dark": {"bg": (24, 25, 26), "text": (228, 230, 235), "muted": (176, 179, 184), "accent": (45, 136, 255),
             "title_text": (255, 255, 255), "badge_bg": (38, 58, 90), "badge_text": (170, 205, 255),
             "avatar": (70, 74, 80), "rule": (58, 59, 60)},
    "warm": {"bg": (251, 243, 228), "text": (59, 47, 47), "muted": (110, 94, 80), "accent": (160, 82, 45),
             "title_text": (255, 250, 240), "badge_bg": (240, 220, 190), "badge_text": (130, 60, 30),
             "avatar": (222, 200, 170), "rule": (232, 218, 196)},
}


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
    aspect: float = 19.5 / 9          # phone portrait: height = width * aspect (grows if content is taller)
    margin: int = 44                  # left and right margin (symmetric)
    indent: int = 72                  # indentation step per depth level
    theme: str = "light"
    line_spacing: float = 1.42
    block_gap: float = 1.1            # space between post blocks, in font sizes
    avatar: bool = True               # a plain circle left of the header (no letters)

    def colours(self) -> dict:
        if self.theme not in THEMES:
            raise ValueError(f"unknown theme {self.theme!r}; choose from {sorted(THEMES)}")
        return THEMES[self.theme]


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
        out.append({
            "thread_id": str(thread["id"]), "bank_post": path, "bank_parent": parent_path,
            "pinned": bool(thread.get("pinned")), "depth": depth, "author_key": author,
            "display_name": name, "handle": handle, "admin": admin,
            "datetime": _parse_dt(post.get("datetime") or f"{thread['date']} 12:00"),
            "text": fill_mentions(post.get("text", ""), members),
            "reactions": int(post.get("reactions") or 0), "replies": len(replies),
        })
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
    return round(lh * (2 + n_lines) + style.font_size * style.block_gap) + (
        round(lh) if post.get("show_pinned") else 0)


def _text_offset(style: Style) -> int:
    return round(style.font_size * 1.5) if style.avatar else 0


def _title_height(style: Style) -> int:
    return round(style.font_size * 2.6)


def page_height(style: Style) -> int:
    return round(style.width * style.aspect)


def paginate(threads: list, members: dict | list, n_pages: int = 35, seed: int = 0,
             style: Style | None = None) -> list[dict]:
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
    full = page_height(style) - style.margin - _title_height(style)

    def cut(frac: float, rng_state) -> list[list[int]]:
        r = random.Random(rng_state)
        cap = full * frac
        pages: list[list[int]] = []
        cur: list[int] = []
        used = 0.0
        for i, p in enumerate(posts):
            new_thread = p["depth"] == 0 and p["bank_post"] == "1"
            rest = sum(q["height"] for q in posts[i:i + 12] if q["thread_id"] == p["thread_id"])
            if cur and (used + p["height"] > cap or (
                    new_thread and used > 0.55 * cap and used + rest > cap and r.random() < 0.7)):
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
        out.append({
            "posts": page_posts,
            "title_bar": first["depth"] == 0 and first["bank_post"] == "1" and rng.random() < 0.75,
            "capture": capture,
            "absolute_times": rng.random() < 0.15,
        })
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


def layout_page(page: dict, style: Style) -> tuple[int, list[dict]]:
    """Positions of everything on a page: (height, draw items). Items carry what a reader sees."""
    regular, bold = _fonts(style)
    small_regular, small_bold = _fonts(style, 0.82)
    c = style.colours()
    lh = style.font_size * style.line_spacing
    items: list[dict] = []
    y = style.margin * 0.6
    if page.get("title_bar"):
        th = _title_height(style)
        items.append({"kind": "rect", "box": (0, 0, style.width, th), "fill": c["accent"]})
        items.append({"kind": "text", "xy": (style.margin, th / 2), "text": TITLE, "font": bold,
                      "fill": c["title_text"], "anchor": "lm"})
        y = th + style.margin * 0.6
    rendered = []
    for k, post in enumerate(page["posts"]):
        x = style.margin + post["depth"] * style.indent
        tx = x + _text_offset(style)
        if post.get("show_pinned"):
            items.append({"kind": "text", "xy": (tx, y + lh / 2), "text": PINNED_LABEL, "font": small_bold,
                          "fill": c["muted"], "anchor": "lm"})
            y += lh
        name, handle, badge, when = header_parts(post, page["capture"], page.get("absolute_times", False))
        room = style.width - style.margin - tx

        def header_width(handle_, when_):
            w = bold.getlength(name) + regular.getlength(f" · {when_}")
            if handle_:
                w += regular.getlength(" " + handle_)
            if badge:
                w += regular.getlength("  ") + small_bold.getlength(badge) + style.font_size * 0.6
            return w

        if header_width(handle, when) > room:      # like a phone app: drop the handle, then the year
            handle = None
            if header_width(None, when) > room:
                when = format_time(post["datetime"], post["datetime"] + dt.timedelta(days=8))
        cy = y + lh / 2
        if style.avatar:
            r = style.font_size * 0.55
            items.append({"kind": "ellipse", "box": (x, cy - r, x + 2 * r, cy + r), "fill": c["avatar"]})
        hx = tx
        items.append({"kind": "text", "xy": (hx, cy), "text": name, "font": bold, "fill": c["text"],
                      "anchor": "lm"})
        hx += bold.getlength(name)
        if handle:
            hx += regular.getlength(" ")
            items.append({"kind": "text", "xy": (hx, cy), "text": handle, "font": regular, "fill": c["muted"],
                          "anchor": "lm"})
            hx += regular.getlength(handle)
        if badge:
            hx += regular.getlength("  ")
            bw = small_bold.getlength(badge) + style.font_size * 0.6
            bh = style.font_size * 1.05
            items.append({"kind": "rect", "box": (hx, cy - bh / 2, hx + bw, cy + bh / 2), "fill": c["badge_bg"],
                          "radius": round(bh / 3)})
            items.append({"kind": "text", "xy": (hx + bw / 2, cy), "text": badge, "font": small_bold,
                          "fill": c["badge_text"], "anchor": "mm"})
            hx += bw
        items.append({"kind": "text", "xy": (hx, cy), "text": f" · {when}", "font": regular, "fill": c["muted"],
                      "anchor": "lm"})
        y += lh
        lines = wrap(post["text"], regular, style.width - style.margin - tx)
        for line in lines:
            items.append({"kind": "text", "xy": (tx, y + lh / 2), "text": line, "font": regular,
                          "fill": c["text"], "anchor": "lm"})
            y += lh
        items.append({"kind": "text", "xy": (tx, y + lh / 2), "text": footer_text(post), "font": regular,
                      "fill": c["muted"], "anchor": "lm"})
        y += lh + style.font_size * style.block_gap
        rendered.append({"index": k + 1, "depth": post["depth"], "author": name, "timestamp": when,
                         "text": " ".join(lines), "reactions": post["reactions"]})
    height = max(page_height(style), round(y + style.margin))
    return height, items, rendered


def draw_page(page: dict, style: Style | None = None) -> Image.Image:
    """Draw one page (from :func:`paginate`) as an RGB image."""
    style = style or Style()
    c = style.colours()
    height, items, _ = layout_page(page, style)
    img = Image.new("RGB", (style.width, height), c["bg"])
    d = ImageDraw.Draw(img)
    for it in items:
        if it["kind"] == "rect":
            if it.get("radius"):
                d.rounded_rectangle([round(v) for v in it["box"]], radius=it["radius"], fill=it["fill"])
            else:
                d.rectangle([round(v) for v in it["box"]], fill=it["fill"])
        elif it["kind"] == "ellipse":
            d.ellipse([round(v) for v in it["box"]], fill=it["fill"])
        else:
            d.text((round(it["xy"][0]), round(it["xy"][1])), it["text"], font=it["font"], fill=it["fill"],
                   anchor=it["anchor"])
    return img


def transcribe_page(page: dict, style: Style | None = None) -> list[dict]:
    """What a careful human transcriber would write down for the page (rows of ``transcribed.csv``)."""
    style = style or Style()
    _, _, rendered = layout_page(page, style)
    for row, post in zip(rendered, page["posts"]):
        row["thread_id"] = post["thread_id"]
        row["bank_post"] = post["bank_post"]
    return rendered


def png_bytes(img: Image.Image) -> bytes:
    """PNG without metadata (no dates, no software tag): same pixels, same bytes."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def write_screenshots(out_dir, members, threads, seed: int = 0, n_pages: int = 35,
                      style: Style | None = None, styles: list[Style] | None = None) -> pd.DataFrame:
    """Write ``WITI-001.png`` .. into ``out_dir``; return the transcription rows.

    Columns: ``screenshot_id, post_index, depth, author, timestamp, text, reactions`` (transcribed.csv)
    plus ``thread_id, bank_post`` (where the post comes from in the bank; drop before writing). Pages
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
            rows.append({"screenshot_id": sid, "post_index": row["index"], "depth": row["depth"],
                         "author": row["author"], "timestamp": row["timestamp"], "text": row["text"],
                         "reactions": row["reactions"], "thread_id": row["thread_id"],
                         "bank_post": row["bank_post"]})
    return pd.DataFrame(rows, columns=["screenshot_id", "post_index", "depth", "author", "timestamp", "text",
                                       "reactions", "thread_id", "bank_post"])


# --------------------------------------------------------------------------------------------------
# A small self-contained bank in the synthdata schema, for tests and "try this" experiments
# --------------------------------------------------------------------------------------------------

_DEMO_NAMES = [
    ("Lim Jia Hui", "jiahui.lim", ["Jia Hui", "JH"]), ("Rachel Tan", "rach.tan", ["Rachel"]),
    ("Muhammad Irfan", "irfan_m", ["Irfan"]), ("Priya Nair", "priya.n", ["Priya"]),
    ("Ong Wei Jie", "weijie.ong", ["Wei Jie"]), ("Siti Nurhaliza", "siti.nh", ["Siti"]),
    ("Daniel Koh", "dankoh", ["Daniel", "Dan"]), ("Chua Xin Yi", "xinyi_c", ["Xin Yi"]),
    ("Arjun Menon", "arjun.m", ["Arjun"]), ("Tan Kai Wen", "kaiwen.t", ["Kai Wen", "KW"]),
    ("Nur Aisyah", "aisyah.n", ["Aisyah"]), ("Gabriel Lee", "gab.lee", ["Gabriel", "Gab"]),
    ("Wong Shu Min", "shumin.w", ["Shu Min"]), ("Harish Kumar", "harishk", ["Harish"]),
    ("Teo Zhi Hao", "zhihao.teo", ["Zhi Hao"]), ("Farah Aziz", "farah.a", ["Farah"]),
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
        members.append({"key": f"m{i:02d}", "pseudonym": f"P{i:02d}" if i <= 14 else f"M{i:02d}",
                        "display_name": name, "handle": handle, "aliases": aliases,
                        "year_of_study": 1 + i % 5, "admin": i in (2, 6, 12)})
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
            p = {"author": "anonymous" if question and rng.random() < 0.25 else rng.choice(keys),
                 "datetime": when.strftime("%Y-%m-%d %H:%M"), "text": text,
                 "reactions": rng.randint(0, 60), "codes": []}
            if depth < 2:
                n = rng.choice([0, 0, 1, 1, 2, 3]) if depth == 0 else rng.choice([0, 0, 0, 1, 2])
                p["replies"] = [post(depth + 1, False) for _ in range(n)]
            return p

        threads.append({"id": f"t{t:02d}", "date": day.strftime("%Y-%m-%d"), "pinned": t % 9 == 1,
                        "posts": [post(0, True)]})
    return members, threads
