"""From OCR line boxes to posts, and from posts on pages to threads.

Only what a reader of the screenshot can see is used (the OCR boxes and the page width), never the
renderer's own records. The visual grammar (SPEC 4) is read as a small state machine over the OCR lines
(:func:`read_page`), in which every line gets a role (:data:`LINE_ROLES`):

    [chrome: status, title/back bar] ( [Pinned post] header  body-line+  footer  [chrome: reply box] )* [chrome: nav]

- a **header** is recognised from several cues, not one glyph: it starts a block, begins with a name (name-like
  words, or a roster member's name when the caller gives a test), may carry ``@handle`` and a badge, and ends
  with a time (``2h``, ``3d``, ``12 Mar``, ``12 Mar 2023, 21:14``); the separator ``·`` is optional where a
  header may start (top of the page, after a footer); OCR may drop spaces or read ``·`` as ``.``;
- a **footer** is a reaction count, optionally ``· N replies``; the heart is often misread or lost;
- **chrome** (status bar, title/back bar, reply box, navigation bar) is recognised by its text and its place
  (:func:`chrome_kind`) and set aside; text that fits nowhere is **unassigned**, listed, never dropped;
- **depth** comes from the left edge of a post's lines: the distinct left edges are clustered, the
  smallest gap between clusters is the indentation step, and depth = (edge - base) / step. Edges are
  measured relative to the page width so that a corpus captured at several widths still clusters.
  :func:`assign_depths` fits base and step over all pages of a corpus (a page that holds replies
  only has no depth-0 post to anchor it) and falls back to the page alone when the fit is poor.
"""

from __future__ import annotations

import math
import re
import unicodedata
from statistics import median

import pandas as pd
from rapidfuzz import fuzz

BADGES = ["Admin", "Moderator"]
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_D = r"[\dlIiO|]"  # OCR reads 1 as l, I, i or |, and 0 as O
_TIME = (
    rf"(?P<time>{_D}{{1,2}}\s?[mhd]|{_D}{{1,2}}\s?(?:{MONTHS})"
    rf"(?:\s?{_D}{{4}}(?:\s?[,.]?\s?{_D}{{1,2}}\s?[:.]\s?{_D}{{2}})?)?)"
)
_DIGITS = str.maketrans("lIiO|", "11101")
HEADER_RE = re.compile(rf"^(?P<left>.*?\S)\s*[·•.,:\-*«»~‘']\s*{_TIME}\s*$")  # OCR reads · as . , : - * « » ~ ‘ '
FOOTER_RE = re.compile(
    r"^\s*(?:[^\w\s]{1,2}|[VYvy])?\s*(?P<reactions>[\dlIO|]{1,5})\s*"
    r"(?:[·•.,:\-*]?\s*(?P<replies>[\dlIO|]{1,4})\s*(?:rep[l1I]?(?:y|ies|les|i?es)))?\s*$"
)
_HEADER_NO_SEP = re.compile(rf"^(?P<left>.*?[A-Za-z)\]])\s+{_TIME}\s*$")
PINNED = "pinned post"


def normalise(text: str) -> str:
    """NFKC (full-width punctuation -> ASCII) and single spaces."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).split())


_AMBIGUOUS_LOWER = set("scovwxzil")  # lower-case letters that look like their capitals (or like I)


def _fix_token(token: str) -> str:
    m = re.fullmatch(r"([\[(\"'‘“]*)(.*?)([\]),.;:!?\"'’”]*)", token)
    pre, tok, post = m.groups()
    letters = [c for c in tok if c.isalpha()]
    if len(letters) >= 2 and tok.isalnum():
        if any(c.isupper() for c in letters[1:]) and all(c.isupper() or c in _AMBIGUOUS_LOWER for c in letters):
            up = "".join(c.upper() for c in tok)
            tok = up.replace("L", "I") if "l" in tok and "L" not in tok else up
        elif re.fullmatch(r"[IVX][IVXl]*", tok) and "l" in tok and tok != "Ill":  # roman: Vll -> VII
            tok = tok.replace("l", "I")
    if re.fullmatch(r"Y[l|I]", tok):  # year of study: Yl -> Y1
        tok = "Y1"
    elif tok in ("l", "i", "|"):  # the pronoun
        tok = "I"
    elif re.fullmatch(r"l['’](m|ll|ve|d)", tok):
        tok = "I" + tok[1:]
    elif re.fullmatch(r"[a-z]*0[a-z]*", tok) and any(c.isalpha() for c in tok):  # s0 -> so
        tok = tok.replace("0", "o")
    return pre + tok + post


def fix_text(text: str) -> str:
    """Undo systematic OCR slips in body text: case of ambiguous letters in capitalised tokens
    (``OsCE``, ``WiTl``), ``l``/``I``/``1`` in roman numerals, ``Yl``, the pronoun ``l``, ``s0``, and
    spaces lost after punctuation (``answer.One`` -> ``answer. One``)."""
    text = re.sub(r"(?<=[a-z0-9\)])([.!?])(?=[A-Z\[])", r"\1 ", text)
    text = re.sub(r"(?<=[A-Za-z0-9\)])([,;:])(?=[A-Za-z\[])", r"\1 ", text)
    return re.sub(r"[^\s]+", lambda m: _fix_token(m.group(0)), text)


# --------------------------------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------------------------------


def group_lines(words: pd.DataFrame) -> list[dict]:
    """Merge OCR boxes that sit on the same visual line (vertical overlap), left to right."""
    boxes = [dict(r) for r in words.to_dict("records") if str(r["text"]).strip()]
    boxes.sort(key=lambda b: ((b["y0"] + b["y1"]) / 2, b["x0"]))
    lines: list[dict] = []
    for b in boxes:
        cy = (b["y0"] + b["y1"]) / 2
        for line in reversed(lines[-3:]):
            h = min(b["y1"] - b["y0"], line["y1"] - line["y0"])
            overlap = min(b["y1"], line["y1"]) - max(b["y0"], line["y0"])
            if overlap > 0.5 * h and line["y0"] <= cy <= line["y1"]:
                line["parts"].append(b)
                line["y0"], line["y1"] = min(line["y0"], b["y0"]), max(line["y1"], b["y1"])
                break
        else:
            lines.append({"parts": [b], "y0": b["y0"], "y1": b["y1"]})
    for line in lines:
        line["parts"].sort(key=lambda b: b["x0"])
        line["x0"] = min(b["x0"] for b in line["parts"])
        line["x1"] = max(b["x1"] for b in line["parts"])
        line["text"] = normalise(" ".join(str(b["text"]) for b in line["parts"]))
        line["conf"] = math.fsum(float(b["conf"]) * len(str(b["text"])) for b in line["parts"]) / max(
            1, sum(len(str(b["text"])) for b in line["parts"])
        )
    lines.sort(key=lambda ln: (ln["y0"], ln["x0"]))
    return lines


def header_left(text: str) -> str:
    """What stands before a header's time (name, handle, badge, and the separator's leftovers), with or without
    the separator (``Name · 2h``, ``Name 2h``: OCR drops the small dot); the whole text when no time ends it."""
    m = HEADER_RE.match(text) or _HEADER_NO_SEP.match(text)
    return m.group("left") if m else text


def parse_header(text: str) -> dict | None:
    """``Name [@handle] [badge] · TIME`` -> parts, or None if the line is not a header."""
    m = HEADER_RE.match(text)
    if not m:
        return None
    left, when = m.group("left").strip(), m.group("time")
    sep = text[m.end("left") : m.start("time")]
    if (
        not re.search(r"\d", when)
        and "·" not in sep
        and "•" not in sep
        and not (sep[:1].isspace() and sep[-1:].isspace())
    ):
        return None  # "@jiahui.lim": a handle's last part, not a time whose digits all misread
    badge = ""
    for b in BADGES:
        mm = re.search(rf"[\W_]*{b}[\W_]*$", left, flags=re.IGNORECASE)
        if mm:
            badge, left = b, left[: mm.start()].strip()
            break
    handle = ""
    mm = re.search(r"\s*@\s?([\w.\-]+)(?:\s+(\S{1,5}))?\s*$", left)
    if mm:
        handle, left = mm.group(1), left[: mm.start()].strip()
        if mm.group(2) and not badge:  # a badge the OCR misread (a pill is hard to read)
            badge = max(BADGES, key=lambda b: fuzz.ratio(b.lower(), mm.group(2).lower()))
    left = re.sub(r"[^\w)\]]+$", "", left).strip()
    if not left or not re.search(r"[A-Za-z]", left):
        return None
    return {"author": left, "handle": handle, "badge": badge, "timestamp": _clean_time(when)}


def parse_header_lenient(text: str) -> dict | None:
    """A line where a header must be (right after a footer) whose separator or time did not read: split
    at the last separator, else before a time at the end (the small ``·`` is easily lost), else take the
    whole line as the name."""
    m = re.match(r"^(?P<left>.*?\S)\s*[·•]\s*(?P<time>\S.*)$", text) or _HEADER_NO_SEP.match(text)
    left, when = (m.group("left"), m.group("time")) if m else (text, "")
    head = parse_header(f"{left} · 1h")
    if head is None:
        return None
    head["timestamp"] = _clean_time(when)
    return head


def header_tail(text: str) -> dict | None:
    """The second line of a header that wrapped on a narrow screen: only ``[@handle] [badge] · TIME`` (the name
    stayed on the line above). None when the line holds anything else."""
    if len(text) > 40:
        return None
    tail = parse_header(f"Name {text.strip()}")
    return tail if tail is not None and tail["author"] == "Name" and tail["timestamp"] else None


def _clean_time(t: str) -> str:
    t = re.sub(r"\s+", "", t)
    t = t[:2].translate(_DIGITS) + t[2:] if not re.match(rf"^{_D}{{1,2}}(?:{MONTHS})", t) else t
    m = re.match(rf"^({_D}{{1,2}})({MONTHS})(.*)$", t)
    if m:
        t = m.group(1).translate(_DIGITS) + m.group(2) + m.group(3).translate(_DIGITS)
    m = re.match(rf"^(\d{{1,2}})({MONTHS})(?:(\d{{4}})(?:[,.]?(\d{{1,2}})[:.](\d{{2}}))?)?$", t)
    if m:
        day, mon, year, hh, mi = m.groups()
        return f"{day} {mon}" + (f" {year}" if year else "") + (f", {int(hh):02d}:{mi}" if hh else "")
    return t


def parse_footer(text: str) -> dict | None:
    m = FOOTER_RE.match(text)
    if not m:
        return None
    reactions = m.group("reactions").translate(_DIGITS)
    replies = (m.group("replies") or "0").translate(_DIGITS)
    if not reactions.isdigit() or not replies.isdigit() or not re.search(r"\d", m.group("reactions")):
        return None
    return {"reactions": int(reactions), "replies": int(replies)}


def _is_pinned(text: str) -> bool:
    return fuzz.ratio(text.lower(), PINNED) > 80


# --------------------------------------------------------------------------------------------------
# Cues: a name, phone chrome
# --------------------------------------------------------------------------------------------------

#: Lower-case words a display name may hold (``bin``, ``de``, ``a/l``) and the platform's own label for an
#: anonymous post (``Anonymous member``).
NAME_PARTICLES = frozenset(
    "bin binti binte bte bt b. a/l a/p s/o d/o de da do dos du van von der den del della "
    "la le al el ibni member".split()
)


def name_like(text: str) -> bool:
    """A run that looks like a display name: one to six words, the first capitalised, the others capitalised or
    name particles (``bin``, ``de``, ``a/l``); letters, apostrophes, dots and hyphens only."""
    words = str(text).split()
    if not 1 <= len(words) <= 6 or not words[0][:1].isupper():
        return False
    for w in words:
        core = w.strip("()[]")
        if core.lower() in NAME_PARTICLES:
            continue
        if not core[:1].isupper() or not all(c.isalpha() or c in "'’.-" for c in core):
            return False
    return True


_CLOCK = re.compile(r"(?<![\d:])(?:[01]?\d|2[0-3])\s?[:.]\s?[0-5]\d(?![\d:])")
_BATTERY = re.compile(r"\d{1,3}\s?%")
#: What a reply or comment box says before anything is typed in it (read whole), and how such a prompt may begin
#: when it names the member replied to (``Reply to Marcus…``).
REPLY_PROMPTS = (
    "write a reply",
    "write a comment",
    "write a public comment",
    "add a comment",
    "add a reply",
    "reply",
    "comment",
    "write something",
    "type a message",
    "message",
)
REPLY_OPENINGS = (
    "reply to ",
    "replying to ",
    "write a reply",
    "write a comment",
    "comment as ",
    "add a comment",
    "write a public comment",
    "write something",
    "type a message",
)
#: Labels of a bottom navigation (tab) bar.
NAV_LABELS = frozenset(
    "home groups group notifications notification alerts menu chats chat profile settings explore "
    "search watch marketplace friends feed messages inbox more reels video videos communities "
    "community create activity discover".split()
)


def _letters(text: str) -> str:
    return "".join(c for c in text if c.isalpha())


def is_status_bar(text: str) -> bool:
    """A phone's status bar: a clock (``21:14``) or a battery level (``87%``) with little else (signal, wifi and
    battery icons read as a few stray characters, ``LTE``, ``5G``)."""
    t = str(text)
    return bool(_CLOCK.search(t) or _BATTERY.search(t)) and len(_letters(t)) <= 6 and len(t) <= 40


def is_reply_box(text: str, opening: bool = False) -> bool:
    """An empty reply or comment field: its placeholder text (``Write a reply…``) read whole, or, with ``opening``
    (outside a post's body, where a sentence cannot be), a short line that begins like one (``Reply to Marcus…``).

    Without ``opening`` (inside a post's body, where a wrapped sentence may end in a line ``comments``) only a
    capitalised prompt of several words counts."""
    t = " ".join(re.sub(r"[^a-z ]+", " ", str(text).lower()).split())
    if not t or len(t) > 48:
        return False
    prompts = REPLY_PROMPTS if opening else [p for p in REPLY_PROMPTS if " " in p]
    if max(fuzz.ratio(t, p) for p in prompts) >= (85 if opening else 90):
        return opening or str(text).strip()[:1].isupper()
    return opening and any(
        t.startswith(o.strip()) and (len(t) == len(o.strip()) or o.endswith(" ")) for o in REPLY_OPENINGS
    )


def _is_label(part: str) -> bool:
    return re.sub(r"[^a-z]", "", part.lower()) in NAV_LABELS


def is_nav_bar(line: dict, width: int) -> bool:
    """A bottom navigation bar: most of its texts are tab labels (``Home Groups Notifications Menu``, also when the
    OCR splits a label, ``No t i fic ations``), or three or more short texts spread across the width with wide
    gaps between them (labels under icons)."""
    parts = line["parts"]
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", line["text"])]
    if len(words) >= 2 and sum(w in NAV_LABELS for w in words) >= 0.6 * len(words):
        return True
    if len(parts) >= 2 and sum(_is_label(str(p["text"])) for p in parts) >= 0.6 * len(parts):
        return True
    if len(parts) >= 3 and line["x1"] - line["x0"] > 0.6 * width:
        h = line["y1"] - line["y0"]
        gaps = [b["x0"] - a["x1"] for a, b in zip(parts, parts[1:])]
        return min(gaps) > 1.5 * h and all(len(str(p["text"]).replace(" ", "")) <= 16 for p in parts)
    return False


def _icons(line: dict) -> bool:
    """A row of icons read as text: every part one or two characters (``三``, ``“ 三``)."""
    return all(len(str(p["text"]).replace(" ", "")) <= 2 for p in line["parts"])


def chrome_kind(line: dict, width: int, where: str) -> str:
    """The kind of phone chrome a line is (``status``, ``nav``, ``reply``), or "" when it is none of them.

    ``where`` is the line's place in the page's grammar: ``"top"`` (above the first post), ``"between"`` (after
    a post's footer) or ``"body"`` (inside a post, where only an unmistakable reply box or navigation bar counts).
    """
    text = line["text"]
    if where == "top" and is_status_bar(text):
        return "status"
    if is_reply_box(text, opening=where != "body"):
        return "reply"
    if is_nav_bar(line, width):
        return "nav"
    if where == "between" and is_status_bar(text):
        return "status"
    return ""


# --------------------------------------------------------------------------------------------------
# Posts on one page
# --------------------------------------------------------------------------------------------------


def _no_separator_header(lines: list[dict], i: int, expect: bool, is_member) -> dict | None:
    """``Name [@handle] [badge] TIME`` whose separator was not read (or not drawn): the part before the time is a
    roster member's name (when ``is_member`` is given), or name-like where a header may start (``expect``), and
    the line starts at the left edge of the block below it."""
    m = _HEADER_NO_SEP.match(lines[i]["text"])
    if not m:
        return None
    nxt = lines[i + 1] if i + 1 < len(lines) else None
    if nxt is not None and lines[i]["x0"] > nxt["x0"] + 0.5 * (nxt["y1"] - nxt["y0"]):
        return None
    head = parse_header(f"{m.group('left')} · {m.group('time')}")
    if head and ((is_member is not None and is_member(head["author"])) or (expect and name_like(head["author"]))):
        return head
    return None


def _loose_header(lines: list[dict], i: int, expect: bool, after_footer: bool, is_member) -> dict | None:
    """A header whose separator (or time) the OCR did not read, from the other cues.

    - without the separator: :func:`_no_separator_header`;
    - right after a footer (where only a header can follow), a line whose time did not read at all: the whole line
      is name-like (or a member's name) and it starts a block: body lines, then a footer before any other
      header. (Not at the top of the page, where a title bar of capitalised words may stand.)
    """
    head = _no_separator_header(lines, i, expect, is_member)
    if head or not after_footer or i + 1 >= len(lines):
        return head
    nxt = lines[i + 1]
    if parse_footer(nxt["text"]) or _is_header(lines, i + 1, is_member):
        return None
    head = parse_header_lenient(lines[i]["text"])
    if head is None or not ((is_member is not None and is_member(head["author"])) or name_like(head["author"])):
        return None
    for k in range(i + 1, len(lines)):  # a block: body lines, then a footer before any other header
        if _is_header(lines, k, is_member):
            return None
        if parse_footer(lines[k]["text"]):
            return head
    return None


def _is_header(lines: list[dict], k: int, is_member) -> bool:
    return bool(parse_header(lines[k]["text"]) or _no_separator_header(lines, k, True, is_member))


LINE_ROLES = ("header", "body", "footer", "label", "chrome", "unassigned")


def parse_page(words: pd.DataFrame, width: int, is_member=None) -> list[dict]:
    """OCR boxes of one page -> posts in reading order, with page-local depths (see :func:`read_page`)."""
    return read_page(words, width, is_member)[0]


def read_page(words: pd.DataFrame, width: int, is_member=None) -> tuple[list[dict], list[dict]]:
    """OCR boxes of one page -> ``(posts, lines)``: posts in reading order, and every OCR line with its role.

    The grammar (SPEC 4) read from several cues, never from one glyph:

    - a **header** starts a block: ``Name [@handle] [badge] · TIME``; without its separator where a header may
      start (top of the page, after a footer) when the name is name-like, or anywhere when ``is_member`` (a
      callable: is this a roster member's name?) says so; with no readable time right after a footer when a
      block follows (:func:`_loose_header`);
    - a **footer** ``♥ N [· N replies]`` ends it; the lines between are its **body**; ``Pinned post`` is a
      **label** of the post below;
    - **chrome** is set aside by its text and shape: a status bar (clock, battery) or a title/back bar above the
      first post, a reply box (``Write a reply…``) or a bottom navigation bar (tab labels spread across the width)
      after a post (:func:`chrome_kind`);
    - anything else is **unassigned**: text above the first post that is not a title, or between a footer and the
      next header. It is listed, never silently dropped.

    Each post: ``post_index, depth, author, handle, badge, timestamp, text, reactions, replies, confidence, boxes``
    (line boxes ``[x0, y0, x1, y1]``), ``header_parts`` (OCR boxes of the header, for redaction), ``body_lines``,
    ``x_left`` (left edge / page width). Each line: ``x0, y0, x1, y1, text, conf, parts, role`` (one of
    :data:`LINE_ROLES`), ``kind`` (chrome: ``status``, ``title``, ``nav``, ``reply``) and ``post_index`` (0 when
    no post owns it).
    """
    lines = group_lines(words)
    for ln in lines:
        ln.update(role="unassigned", kind="", post_index=0)
    posts: list[dict] = []
    cur: dict | None = None
    label: list[dict] = []
    expect = True  # a header may start here (top of the page, after a footer)
    titles = 0
    for i, line in enumerate(lines):
        text = line["text"]
        if cur is not None and cur["state"] == "header" and not cur["body"] and not cur["timestamp"]:
            tail = header_tail(text)
            if tail is not None:  # the header wrapped: its handle, badge and time on the next line
                cur["handle"] = cur["handle"] or tail["handle"]
                cur["badge"] = cur["badge"] or tail["badge"]
                cur["timestamp"] = tail["timestamp"]
                cur["header_more"].append(line)
                line.update(role="header", post_index=len(posts))
                continue
        if _is_pinned(text):
            line["role"] = "label"
            label.append(line)
            continue
        head = parse_header(text) or _loose_header(lines, i, expect, cur is not None and expect, is_member)
        if head:
            cur = {
                **head,
                "state": "header",
                "header": line,
                "header_more": [],
                "body": [],
                "footer": None,
                "reactions": None,
                "replies": 0,
            }
            posts.append(cur)
            for ln in label + [line]:
                ln["post_index"] = len(posts)
            line["role"], label, expect = "header", [], False
            continue
        label = []
        if cur is None:  # above the first post: status bar, title/back bar, or a post cut at the top
            kind = chrome_kind(line, width, "top")
            if not kind and titles < 2 and not parse_footer(text):
                kind, titles = "title", titles + 1
            line.update(role="chrome" if kind else "unassigned", kind=kind)
            continue
        foot = parse_footer(text)
        if foot and cur["body"] and cur["footer"] is None:
            cur.update(foot)
            cur["footer"] = line
            cur["state"] = "footer"
            line.update(role="footer", post_index=len(posts))
            expect = True
            continue
        if cur["state"] == "footer":  # after a footer: a reply box, a navigation bar, or stray text
            kind = chrome_kind(line, width, "between")
            line.update(role="chrome" if kind else "unassigned", kind=kind)
            continue
        kind = chrome_kind(line, width, "body")
        if kind:
            line.update(role="chrome", kind=kind)
            continue
        cur["body"].append(line)
        line.update(role="body", post_index=len(posts))
    navs = [ln for ln in lines if ln["kind"] == "nav"]
    for ln in lines:  # the icons above (or below) a navigation bar's labels belong to the bar
        if (
            ln["role"] == "unassigned"
            and _icons(ln)
            and any(
                abs((ln["y0"] + ln["y1"]) - (n["y0"] + n["y1"])) / 2 < 2.5 * max(n["y1"] - n["y0"], 1) for n in navs
            )
        ):
            ln.update(role="chrome", kind="nav")
    out = []
    for i, p in enumerate(posts, 1):
        lines_ = [p["header"], *p["header_more"]] + p["body"] + ([p["footer"]] if p["footer"] else [])
        lefts = sorted(ln["x0"] for ln in lines_)
        confs = [ln["conf"] for ln in lines_]
        out.append(
            {
                "post_index": i,
                "depth": 0,
                "author": p["author"],
                "handle": p["handle"],
                "badge": p["badge"],
                "timestamp": p["timestamp"],
                "text": fix_text(" ".join(ln["text"] for ln in p["body"])),
                "reactions": p["reactions"],
                "replies": p["replies"],
                # the mean of 2-decimal line confidences (ocr.CONF_DECIMALS), summed exactly (math.fsum)
                "confidence": round(math.fsum(confs) / len(confs), 3),
                "boxes": [[int(ln["x0"]), int(ln["y0"]), int(ln["x1"]), int(ln["y1"])] for ln in lines_],
                "header_parts": p["header"]["parts"],
                "body_lines": [{"text": ln["text"], "parts": ln["parts"]} for ln in p["body"]],
                "x_left": median(lefts) / width,
                "line_height": median(ln["y1"] - ln["y0"] for ln in lines_) / width,
            }
        )
    _depths_local(out)
    return out, lines


def _clusters(xs: list[float], tol: float) -> list[float]:
    xs = sorted(xs)
    groups: list[list[float]] = []
    for x in xs:
        if groups and x - groups[-1][-1] <= tol:
            groups[-1].append(x)
        else:
            groups.append([x])
    return [median(g) for g in groups]


def _tolerance(posts: list[dict]) -> float:
    return 0.45 * median(p["line_height"] for p in posts) if posts else 0.01


MAX_DEPTH = 2  # the grammar's deepest level (SPEC 4: 0 post, 1 reply, 2 reply to a reply)
FIT = 0.34  # an edge within this share of a step of a level sits on it
STEP_AGREEMENT = 0.2  # a page's own step agrees with the corpus's within this share (of a whole multiple)


def _page_step(posts: list[dict], tol: float) -> float | None:
    """The smallest gap between a page's clusters of post edges (None when the page shows one level)."""
    cs = _clusters([p["x_left"] for p in posts], tol)
    gaps = [b - a for a, b in zip(cs, cs[1:]) if b - a > tol]
    return min(gaps) if gaps else None


def _agrees(own: float | None, step: float) -> bool:
    """A page's own step is the corpus's step or a whole multiple of it (a page may skip a level)."""
    if own is None:
        return True
    k = round(own / step)
    return 1 <= k <= MAX_DEPTH and abs(own - k * step) <= STEP_AGREEMENT * k * step


def _depths_local(posts: list[dict], step: float | None = None) -> None:
    """Depths from the page alone: its leftmost cluster of edges is depth 0 and the smallest gap is the step.
    Where that gives a level deeper than :data:`MAX_DEPTH` although the page shows no more clusters than the
    grammar has levels, the indentation is not uniform (apps draw smaller avatars beside replies than beside
    posts, so a reply's text moves by less than a reply to a reply's): the clusters' order is the depth."""
    if not posts:
        return
    cs = _clusters([p["x_left"] for p in posts], _tolerance(posts))
    gaps = [b - a for a, b in zip(cs, cs[1:])]
    step = min(gaps) if gaps else step
    depth = [0 if not step else max(0, round((p["x_left"] - cs[0]) / step)) for p in posts]
    if depth and max(depth) > MAX_DEPTH and len(cs) <= MAX_DEPTH + 1:
        rank = {c: k for k, c in enumerate(cs)}
        depth = [rank[min(cs, key=lambda c, x=p["x_left"]: abs(c - x))] for p in posts]
    for p, d in zip(posts, depth):
        p["depth"] = d


def assign_depths(pages: list[list[dict]]) -> dict:
    """Fit one indentation model (base, step; fractions of page width) over all pages and set depths.

    Base is the leftmost cluster of post edges in the corpus; step is the median of the smallest
    cluster gap of each page that shows two or more levels. A page keeps its page-local depths
    (:func:`_depths_local`) when the model does not fit it: an edge more than :data:`FIT` of a step off a level,
    a level deeper than the grammar's :data:`MAX_DEPTH` (the page's text starts further right than the corpus's
    base, as it does beside an avatar, so every post would be pushed a level or two down), or a step of its own
    that is no whole multiple of the corpus's (another app's or another view's indentation). Returns the model.
    """
    allposts = [p for page in pages for p in page]
    if not allposts:
        return {"base": None, "step": None}
    tol = _tolerance(allposts)
    base = min(_clusters([p["x_left"] for p in allposts], tol))
    steps = []
    for page in pages:
        own = _page_step(page, _tolerance(page) if page else tol)
        if own:
            steps.append(own)
    step = median(steps) if steps else None
    for page in pages:
        if not page or not step:
            continue
        units = [(p["x_left"] - base) / step for p in page]
        fits = all(abs(u - round(u)) < FIT and u > -FIT for u in units)
        if fits and max(round(u) for u in units) <= MAX_DEPTH and _agrees(_page_step(page, _tolerance(page)), step):
            for p, u in zip(page, units):
                p["depth"] = max(0, round(u))
        else:
            _depths_local(page, step)
    return {"base": base, "step": step}


# --------------------------------------------------------------------------------------------------
# Threads across pages
# --------------------------------------------------------------------------------------------------


def link_threads(pages: list[tuple[str, list[dict]]]) -> tuple[list[dict], list[dict]]:
    """Parents and threads over pages given in order as ``(screenshot_id, posts)``.

    Within the stream of posts (pages in order), the parent of a post at depth d is the nearest
    earlier post at depth d-1, provided no post at a lower depth lies between (else unknown). A page
    that starts with replies links them to the previous page only when the thread visibly continues:
    the previous page ends at depth >= d-1. A depth-0 post starts a new thread; replies whose root
    cannot be known start a thread of their own with an empty root.

    Sets ``post_id``, ``parent_post_id`` ("" when unknown) and ``thread_id`` (``T001`` ..) on each post
    and returns (posts, threads rows).
    """
    stream: list[dict] = []
    threads: list[dict] = []
    current = None
    for sid, posts in pages:
        prev_end = stream[-1]["depth"] if stream else None
        for k, p in enumerate(posts):
            p["screenshot_id"] = sid
            p["post_id"] = f"{sid}#{p['post_index']}"
            parent = None
            d = p["depth"]
            if d > 0:
                on_page = posts[:k]
                cand = None
                for q in reversed(on_page):
                    if q["depth"] < d:
                        cand = q if q["depth"] == d - 1 else None
                        break
                else:
                    # nothing lower on this page before p: look back across the page break
                    if prev_end is not None and prev_end >= d - 1 and all(q["depth"] >= d for q in on_page):
                        for q in reversed(stream):
                            if q["depth"] < d:
                                cand = q if q["depth"] == d - 1 else None
                                break
                parent = cand
            if d == 0 or parent is None and (current is None or not _continues(p, posts[:k], current, prev_end)):
                current = {
                    "thread_id": f"T{len(threads) + 1:03d}",
                    "root_post_id": p["post_id"] if d == 0 else "",
                    "posts": [],
                }
                threads.append(current)
            p["parent_post_id"] = parent["post_id"] if parent is not None else ""
            p["thread_id"] = parent["thread_id"] if parent is not None else current["thread_id"]
            if parent is not None and parent["thread_id"] != current["thread_id"]:
                current = next(t for t in threads if t["thread_id"] == parent["thread_id"])
            current["posts"].append(p)
            stream.append(p)
    rows = []
    for t in threads:
        ps = t["posts"]
        rows.append(
            {
                "thread_id": t["thread_id"],
                "root_post_id": t["root_post_id"],
                "screenshot_ids": ";".join(dict.fromkeys(p["screenshot_id"] for p in ps)),
                "n_posts": len(ps),
                "n_replies": sum(1 for p in ps if p["depth"] > 0),
                "max_depth": max(p["depth"] for p in ps),
                "n_authors": len({p.get("author", "") for p in ps}),
                "reactions": sum(int(p["reactions"] or 0) for p in ps),
            }
        )
    return stream, rows


def _continues(p: dict, before_on_page: list[dict], current: dict, prev_end) -> bool:
    """A reply without a known parent still belongs to the current thread if it is not cut off."""
    if before_on_page:
        return True  # same page, no depth-0 in between (else current would have changed)
    return prev_end is not None and prev_end >= p["depth"] - 1
