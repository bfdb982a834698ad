"""The de-identification gate: one module, used on inputs, on every stage's outputs, and by ``deid scan``.

Two kinds of identifier are looked for:

- **roster identifiers**: every display name, handle and alias in ``private/roster.csv`` (whole word, whatever its
  case, Unicode form or spacing; a handle also with its ``@``);
- **identifier patterns**: e-mail addresses (also written ``x at gmail dot com``, ``x [at] gmail [dot] com``),
  phone numbers (Singapore and international, any common separator, ``wa.me/`` links), NRIC/FIN numbers,
  student matriculation numbers, personal profile URLs and ``@handles``.

Matching is done on a **skeleton** of the text (:func:`skeleton`), built in one place: NFKC, invisible characters
removed, every Unicode space and dash mapped to ``' '`` and ``'-'``, accents dropped, confusable letters folded
with the Unicode TR39 table (``confusable_homoglyphs``' ``confusables.json``), lower case; roster names are also
matched after :func:`ocr_fold`. Every skeleton position maps back to the original text, so that a hit is reported
as ``file:line: kind 'X***'`` on the line of its first character, with the identifier masked.

Whole files are scanned (a name split over a line break is still a name). Raw inputs and tables are scanned in
full; only generated formats are parsed: ``.html`` (the content of ``<script>`` and ``<style>`` is not text a
reader sees), ``.ipynb`` (JSON strings are decoded, ``image/*`` payloads skipped, ``text/html`` outputs parsed as
HTML), ``.svg`` (path geometry skipped) and REFI-QDA ``.qde`` XML (GUIDs inside attribute values skipped).
Bracketed de-identification placeholders (``[Friend 1]``) and pseudonyms (``P03``, ``M21``, ``@P07``) are not
identifiers. See ``docs/deid.md``.
"""

from __future__ import annotations

import functools
import html
import html.entities
import json
import re
import unicodedata
import zipfile
from bisect import bisect_right
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from .errors import InputError

ARCHIVE_SUFFIXES = {".qdpx", ".zip"}
TEXT_SUFFIXES = {
    ".csv",
    ".md",
    ".txt",
    ".yml",
    ".yaml",
    ".json",
    ".ipynb",
    ".html",
    ".svg",
    ".qde",
    ".xml",
    ".tex",
    ".cff",
}

# --------------------------------------------------------------------------------------------------------------
# Identifier patterns. They are matched on the skeleton (lower case, Unicode folded), never on the raw text.

_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|io|co|me|ai|app|dev|sg|my|id|ph|th|vn|in|cn|hk|tw|jp|kr|au|nz|uk|us|"
    "ca|de|fr|nl|ie|es|it|ch|se|no|dk|fi|be|at|pt|br|mx|ru|za|ae|sa|pk|bd|lk|mail|email"
)
_KNOWN_TLD = re.compile(rf"(?:{_TLDS})\Z")
#: first labels of mail domains that make a bare "x at gmail.com" an address rather than a sentence
_MAIL_HOSTS = {
    "gmail",
    "googlemail",
    "yahoo",
    "ymail",
    "rocketmail",
    "hotmail",
    "outlook",
    "live",
    "msn",
    "icloud",
    "me",
    "mac",
    "aol",
    "proton",
    "protonmail",
    "pm",
    "gmx",
    "zoho",
    "yandex",
    "mail",
    "qq",
    "163",
    "126",
    "singnet",
    "pacific",
    "starhub",
    "u",
    "e",
}
_AT_TOKEN = re.compile(r"\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*|\s*-\s*at\s*-\s*|\s*@+\s*|\s+at\s+")
_LOCAL_TAIL = re.compile(r"[a-z0-9._%+-]{1,64}\Z")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DOT_TOKEN = re.compile(
    r"\.(?=[a-z0-9])|\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s*-\s*dot\s*-\s*|\s+dot\s+|\s+\.\s*|\.\s+"
)
_NOT_AFTER_EMAIL = re.compile(r"[\w-]")

_PHONE_BODY = (
    r"(?:(?:\(\s*\+?\s*65\s*\)|\+\s?65|65)[ .-]?[689]\d{3}[ .-]?\d{4}"
    r"|[689]\d{3}[ .-]?\d{4}"
    r"|[689](?:[ .-]\d){7}"
    r"|\+[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)|\d{1,4})[ .-]?\d{3,4}[ .-]?\d{3,4})"
    r"(?!\w|[.,:/-]\w)"
)

PATTERNS: dict[str, re.Pattern] = {
    # the plain form; obfuscated ones ("x at gmail dot com", "x [at] gmail [dot] com") are found by _emails
    "email": re.compile(r"(?<![\w.+-])[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?![\w-])"),
    # Singapore numbers (+65 / 65 / (+65), 8 digits from 6/8/9, separated by space, '-', '.' or nothing) and
    # international ones; not digits inside a decimal number, an id, a GUID or a hash ("0.91234567",
    # "cell-91234567", "88394875-23fd-...")
    "phone": re.compile(r"(?<![\w+.,=-])" + _PHONE_BODY),
    "nric": re.compile(r"(?<![\w])[stfgm][ -]?\d{7}[ -]?[a-z](?![\w])"),
    # matriculation numbers (A0123456X, U1234567B) and NUSNET-style student ids (E0123456)
    "matric": re.compile(r"(?<![\w])(?:[au][ -]?\d{7}[ -]?[a-z]|e\d{7})(?![\w])"),
    # personal profile URLs, with a left boundary: "reddit.com/user/x" is not "t.com/...", "dropbox.com" not "x.com"
    "url": re.compile(
        r"(?<![\w.@-])(?:https?://)?(?:www\.|m\.|mobile\.|web\.)?"
        r"(?:facebook\.com|fb\.com|fb\.me|m\.me|instagram\.com|instagr\.am|twitter\.com|x\.com"
        r"|tiktok\.com|linkedin\.com/(?:in|pub)|github\.com|t\.me|telegram\.me|wa\.me|threads\.net"
        r"|snapchat\.com/add|youtube\.com(?=/@))"
        r"/@?[a-z0-9_%][a-z0-9_.%-]*"
    ),
    # an @handle, but not a pseudonym written as a mention (@P07, @M21); also "@_kelly.w_", "@@kelly", "@2kelly"
    # (a digit first only before four letters, so that "@2pm" is a time), and "IG @ kelly_w" after a site's name
    "handle": re.compile(
        r"(?<![\w@.])@+(?![a-z]\d{2,3}(?![\w]))(?:_*[a-z]|\d(?=[a-z]{4}))[a-z0-9_.]{2,}(?<![.])"
        r"|(?<![a-z])(?:ig|insta|instagram|tele|telegram|tg|twitter|tiktok|threads)\s*:?\s*@\s+[a-z_][a-z0-9_.]{2,}(?<![.])"
    ),
}
# In a CSV file a comma is a cell separator, not a decimal comma: a phone number may start a cell.
_PHONE_CSV = re.compile(r"(?<![\w+.=-])" + _PHONE_BODY)
_PATTERN_ORDER = ("email", "phone", "nric", "matric", "url", "handle")

_GUID = re.compile(r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    kind: str
    masked: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} '{self.masked}'"


def mask(value: str) -> str:
    """Keep the first character, hide the rest: ``'J***'``."""
    value = value.strip()
    return (value[:1] + "***") if value else "***"


# --------------------------------------------------------------------------------------------------------------
# Text layers: a text derived from another by replacements, each position mapped back to the one before.


class _Layer:
    """A text and, unless it is the original, the map of each of its positions to its parent's."""

    __slots__ = ("text", "parent", "_new", "_old", "_ident")

    def __init__(self, text: str, parent: "_Layer | None" = None, new=(), old=(), ident=()):
        self.text, self.parent = text, parent
        self._new, self._old, self._ident = new, old, ident

    def to_parent(self, i: int) -> int:
        k = bisect_right(self._new, i) - 1
        if k < 0:
            return 0
        return self._old[k] + (i - self._new[k]) if self._ident[k] else self._old[k]

    def origin(self, i: int) -> int:
        """The position in the original text of position ``i`` of this text."""
        layer = self
        while layer.parent is not None:
            i = layer.to_parent(i)
            layer = layer.parent
        return i


class _Builder:
    """Builds a child layer of ``parent`` from replacements given in order of position."""

    def __init__(self, parent: _Layer):
        self.parent, self.src = parent, parent.text
        self.pieces: list[str] = []
        self.new: list[int] = []
        self.old: list[int] = []
        self.ident: list[bool] = []
        self.pos = 0  # next unread position of the parent text
        self.out = 0  # length written so far
        self.changed = False

    def keep_to(self, end: int) -> None:
        if end > self.pos:
            self.new.append(self.out)
            self.old.append(self.pos)
            self.ident.append(True)
            self.pieces.append(self.src[self.pos : end])
            self.out += end - self.pos
            self.pos = end

    def replace(self, start: int, end: int, repl: str) -> None:
        self.keep_to(start)
        self.new.append(self.out)
        self.old.append(start)
        self.ident.append(False)
        self.pieces.append(repl)
        self.out += len(repl)
        self.pos = max(end, start)
        self.changed = True

    def finish(self) -> _Layer:
        if not self.changed:
            return self.parent
        self.keep_to(len(self.src))
        return _Layer("".join(self.pieces), self.parent, self.new, self.old, self.ident)


# --------------------------------------------------------------------------------------------------------------
# Normalisation: the skeleton.

_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u180e", "\u034f"}  # fillers not in category Cf
_LINE_BREAKS = {"\u2028", "\u2029", "\x85"}
_EXTRA_DASHES = {"\u2212", "\u2043", "\u02d7", "\u2796", "\ufe63", "\uff0d", "\u2e3a", "\u2e3b"}
_EXTRA_SPACES = {"\u2800"}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# a middle dot between name parts ("Lim·Jia·Hui"), an ideographic or halfwidth full stop in an address ("gmail。com")
_DOTS = {"\u00b7", "\u2022", "\u2027", "\u2219", "\u22c5", "\u30fb", "\uff65", "\u3002", "\uff61", "\ufe52"}
_LATIN_NAME = re.compile(r"LATIN (?:SMALL |CAPITAL )?LETTER (?:SMALL CAPITAL |SMALL |CAPITAL )?([A-Z])(?: WITH .*)?")


def _latin_letter(c: str) -> str | None:
    """The plain letter a Latin letter that neither NFKC nor the confusables table folds stands for, read from its
    Unicode name: small capitals ("LATIN LETTER SMALL CAPITAL M" -> "m"), letters with hooks or strokes."""
    m = _LATIN_NAME.fullmatch(unicodedata.name(c, ""))
    return m.group(1).lower() if m else None


@functools.lru_cache(maxsize=1)
def _confusables() -> dict[str, str]:
    """Non-ASCII character -> the single ASCII letter or digit it is confusable with (Unicode TR39
    ``confusables.txt`` as bundled by ``confusable_homoglyphs``). Built once; ties are broken by a fixed order
    (letters before digits, then code point) so the table never depends on file order."""
    import confusable_homoglyphs

    data = json.loads(Path(confusable_homoglyphs.__file__).with_name("confusables.json").read_text("utf-8"))
    marks = "\u200e\u200f"
    cands: dict[str, set[str]] = {}
    for key, entries in data.items():
        k = key.strip(marks)
        for e in entries:
            t = str(e.get("c", "")).strip(marks)
            if len(k) != 1 or len(t) != 1:
                continue
            if not k.isascii() and t.isascii() and t.isalnum():
                cands.setdefault(k, set()).add(t)
            elif k.isascii() and k.isalnum() and not t.isascii():
                cands.setdefault(t, set()).add(k)
    return {c: min(ts, key=lambda t: (t.isdigit(), t)) for c, ts in sorted(cands.items())}


_FOLDED: dict[str, str] = {}


def _fold_char(c: str) -> str:
    """One non-ASCII character in skeleton form (case kept): '' for invisible ones, ' ' for a space, '-' for a
    dash, else NFKC, accents dropped, confusables folded."""
    r = _FOLDED.get(c)
    if r is not None:
        return r
    cat = unicodedata.category(c)
    if c in _LINE_BREAKS or cat in ("Zl", "Zp"):
        r = "\n"
    elif cat == "Cf" or c in _INVISIBLE:
        r = ""
    elif cat == "Zs" or c in _EXTRA_SPACES:
        r = " "
    elif cat == "Pd" or c in _EXTRA_DASHES:
        r = "-"
    elif cat == "Nd" and unicodedata.decimal(c, None) is not None:
        r = str(unicodedata.decimal(c))  # Arabic-Indic, Devanagari, fullwidth ... digits
    elif c in _DOTS:
        r = "."
    else:
        table = None
        out = []
        for ch in unicodedata.normalize("NFKC", c):
            if ch.isascii():
                out.append(ch)
                continue
            for x in unicodedata.normalize("NFKD", ch):
                sub = unicodedata.category(x)
                if x.isascii():
                    out.append(x)
                elif sub in ("Mn", "Me", "Cf"):  # accents and other combining marks; format characters
                    continue
                elif sub == "Pd":
                    out.append("-")
                elif sub == "Zs":
                    out.append(" ")
                else:
                    if table is None:
                        table = _confusables()
                    out.append(table.get(x) or _latin_letter(x) or x)
        r = "".join(out)
        if r.casefold() != r.lower() or len(r.lower()) != len(r):
            r = r.casefold()  # full case folding ("ß" -> "ss"); .lower() stays length-preserving on the skeleton
    _FOLDED[c] = r
    return r


def _norm_layer(layer: _Layer) -> _Layer:
    text = layer.text
    if text.isascii():
        return layer
    b = _Builder(layer)
    for m in _NON_ASCII.finditer(text):
        c = m.group()
        r = _fold_char(c)
        if r != c:
            b.replace(m.start(), m.end(), r)
    return b.finish()


_OCR_PAIRS = re.compile(r"rn|vv")
_FOLD = str.maketrans({"0": "o", "1": "l", "|": "l", "5": "s"})


class Skeleton:
    """The matching form of a text: ``text`` (Unicode folded, lower case) and ``ocr`` (also OCR folded, see
    :func:`ocr_fold`), each position mapping back to the original text with :meth:`origin` / :meth:`ocr_origin`.
    """

    def __init__(self, text: "str | _Layer"):
        layer = text if isinstance(text, _Layer) else _Layer(text)
        self._norm = _norm_layer(layer)
        self.cased = self._norm.text  # folded, case kept
        self.text = self.cased.lower()  # same length, same map
        if len(self.text) != len(self.cased):  # pragma: no cover - _fold_char keeps lower() length-preserving
            raise AssertionError("lower() changed the skeleton's length")
        self._ocr: _Layer | None = None

    @property
    def ocr(self) -> str:
        return self._ocr_layer().text

    def _ocr_layer(self) -> _Layer:
        if self._ocr is None:
            # ocr_fold, position by position: the one-to-one folds first (they make no "rn" or "vv" and undo
            # none), then the pairs, whose positions map back to this skeleton's
            base = _Layer(self.cased.replace("I", "l").lower().translate(_FOLD))
            b = _Builder(base)
            for m in _OCR_PAIRS.finditer(base.text):
                b.replace(m.start(), m.end(), "m" if m.group() == "rn" else "w")
            self._ocr = b.finish()
        return self._ocr

    def origin(self, i: int) -> int:
        """Original position of position ``i`` of :attr:`text`."""
        return self._norm.origin(i)

    def ocr_to_text(self, i: int) -> int:
        """Position in :attr:`text` of position ``i`` of :attr:`ocr`."""
        layer = self._ocr_layer()
        return layer.origin(i)

    def ocr_origin(self, i: int) -> int:
        return self.origin(self.ocr_to_text(i))


def skeleton(text: str) -> Skeleton:
    """The skeleton of ``text`` with its map back to the original (see :class:`Skeleton`)."""
    return Skeleton(text)


def fold(text: str) -> str:
    """The skeleton text alone: what roster identifiers and allow-list values are compared as."""
    return Skeleton(text).text


# --------------------------------------------------------------------------------------------------------------
# Generated formats: what a reader sees in them, mapped back to the file's lines.

_INLINE_TAGS = {
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "cite",
    "code",
    "data",
    "dfn",
    "em",
    "font",
    "i",
    "kbd",
    "mark",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
    "u",
    "var",
    "wbr",
}
_SKIP_ELEMENTS = {"script", "style"}


def _join_values(vals) -> str:
    """Attribute values as text: apart from each other (no phone number from ``start="6027" end="6145"``)."""
    return " ; ".join(["", *vals, ""]) if vals else " "


class _HTMLEvents(HTMLParser):
    """Records each parser event with its offset; an event runs to the next one's offset."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.events: list[tuple[int, str, object]] = []
        self.skip: str | None = None

    def _at(self) -> int:
        line, col = self.getpos()
        return self.starts[line - 1] + col

    def _tag(self, tag, attrs):
        vals = [v for k, v in attrs if v and not v.lstrip()[:5].lower() == "data:"]
        if tag in _INLINE_TAGS and all(k == "class" for k, v in attrs if v):
            repl = ""
        else:
            repl = _join_values(vals)
        self.events.append((self._at(), "repl", repl))

    def handle_starttag(self, tag, attrs):
        self._tag(tag, attrs)
        if tag in _SKIP_ELEMENTS:
            self.skip = tag

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, attrs)

    def handle_endtag(self, tag):
        self.events.append((self._at(), "repl", "" if tag in _INLINE_TAGS else " "))
        if tag == self.skip:
            self.skip = None

    def handle_data(self, data):
        self.events.append((self._at(), "repl", "") if self.skip else (self._at(), "keep", None))

    def handle_entityref(self, name):
        self.events.append((self._at(), "repl", "" if self.skip else html.unescape(f"&{name};")))

    def handle_charref(self, name):
        self.events.append((self._at(), "repl", "" if self.skip else html.unescape(f"&#{name};")))

    def handle_comment(self, data):
        self.events.append((self._at(), "comment", None))

    def handle_decl(self, decl):
        self.events.append((self._at(), "repl", " "))

    def handle_pi(self, data):
        self.events.append((self._at(), "repl", " "))

    def unknown_decl(self, data):
        self.events.append((self._at(), "repl", " "))


def _html_edits(b: _Builder, start: int, end: int) -> None:
    """Add to ``b`` the edits that turn the HTML in ``b.src[start:end]`` into the text a reader sees: tags become
    their attribute values (not ``data:`` URIs), entities their characters; ``<script>``/``<style>`` content
    goes."""
    src = b.src[start:end]
    p = _HTMLEvents(src)
    p.feed(src)
    p.close()
    ev = p.events
    for k, (s, kind, repl) in enumerate(ev):
        e = ev[k + 1][0] if k + 1 < len(ev) else len(src)
        if e <= s or kind == "keep":
            continue
        if kind == "comment":  # keep the comment's text, on its own lines
            b.replace(start + s, start + s + 4, " ")
            if src.endswith("-->", s, e):
                b.replace(start + e - 3, start + e, " ")
            continue
        b.replace(start + s, start + e, repl)


def _html_layer(layer: _Layer) -> _Layer:
    b = _Builder(layer)
    _html_edits(b, 0, len(layer.text))
    return b.finish()


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+', re.S)
_JSON_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\.", re.S)


def _skipped_payload(key) -> bool:
    return isinstance(key, str) and key.startswith("image/") and not key.startswith("image/svg")


def _ipynb_layer(layer: _Layer) -> _Layer:
    """A notebook's JSON as the strings it holds (decoded, a list of source lines joined), ``image/*`` payloads
    skipped; then the ``text/html`` outputs parsed as HTML."""
    text = layer.text
    b = _Builder(layer)
    stack: list[list] = []  # [is_object, key, expecting_key, key of an array's context]
    chain = None  # the array whose previous item was a kept string
    html_ranges: list[list[int]] = []
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        top = stack[-1] if stack else None
        if tok in "{[":
            ctx = (top[1] if top[0] else top[3]) if top else None
            stack.append([True, None, True, None] if tok == "{" else [False, None, False, ctx])
            chain = None
            continue
        if tok in "}]":
            if stack:
                stack.pop()
            chain = None
            continue
        if tok == ":":
            if top and top[0]:
                top[2] = False
            chain = None
            continue
        if tok == ",":
            if top and top[0]:
                top[2] = True
            continue
        is_key = bool(top and top[0] and top[2])
        ctx = None if top is None else (top[1] if top[0] else top[3])
        if tok[0] == '"':
            value = None
            if is_key:
                try:
                    top[1] = json.loads(tok)
                except ValueError:
                    top[1] = tok[1:-1]
            elif _skipped_payload(ctx):
                chain = None
                continue
            join = top is not None and not top[0] and chain is top
            s, e = m.start(), m.end()
            b.replace(b.pos, s + 1, "" if join else "\n")
            begin = b.out
            for esc in _JSON_ESCAPE.finditer(text, s + 1, e - 1):
                try:
                    value = json.loads('"' + esc.group() + '"')
                except ValueError:
                    value = esc.group()[1:]
                b.replace(esc.start(), esc.end(), value)
            b.keep_to(e - 1)
            if ctx == "text/html" and not is_key:
                if join and html_ranges and html_ranges[-1][1] == begin:
                    html_ranges[-1][1] = b.out
                else:
                    html_ranges.append([begin, b.out])
            chain = top if (top is not None and not top[0] and not is_key) else None
        else:  # numbers, true, false, null: kept as words
            b.replace(b.pos, m.start(), "\n")
            b.keep_to(m.end())
            chain = None
    b.replace(b.pos, len(text), "")
    out = b.finish()
    if html_ranges:
        h = _Builder(out)
        for start, end in html_ranges:
            _html_edits(h, start, end)
        out = h.finish()
    return out


_MARKUP = re.compile(
    r"<!--(?P<comment>.*?)-->|<!\[CDATA\[(?P<cdata>.*?)\]\]>|<[?!][^>]*>"
    r"|<(?P<tag>/?[A-Za-z_][\w:.-]*)(?P<attrs>(?:\"[^\"]*\"|'[^']*'|[^'\">])*)>"
    r"|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);",
    re.S,
)
_ATTR = re.compile(r"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_SVG_GEOMETRY = {"d", "points", "transform", "viewbox"}


def _markup_layer(layer: _Layer, fmt: str) -> _Layer:
    """SVG and XML (REFI-QDA ``.qde``): element text and attribute values, entities decoded; not SVG path
    geometry, not the GUIDs that REFI-QDA uses as machine ids."""
    text = layer.text
    b = _Builder(layer)
    for m in _MARKUP.finditer(text):
        s, e = m.span()
        if m.group("comment") is not None:
            b.replace(s, s + 4, " ")
            b.replace(e - 3, e, " ")
        elif m.group("cdata") is not None:
            b.replace(s, s + 9, " ")
            b.replace(e - 3, e, " ")
        elif m.group("tag") is not None:
            vals = []
            for a in _ATTR.finditer(m.group("attrs")):
                name = a.group(1).lower().rpartition(":")[2]
                value = html.unescape(a.group(2) if a.group(2) is not None else a.group(3))
                if fmt == "svg" and name in _SVG_GEOMETRY:
                    continue
                if fmt != "svg":
                    value = _GUID.sub(" ", value)
                if value.strip():
                    vals.append(value)
            b.replace(s, e, _join_values(vals))
        elif text.startswith("<", s):
            b.replace(s, e, " ")
        else:
            b.replace(s, e, html.unescape(m.group()))
    return b.finish()


def _format_of(path: str) -> str:
    name = str(path).rsplit("!", 1)[-1].lower()
    for suffix, fmt in (
        (".html", "html"),
        (".htm", "html"),
        (".ipynb", "ipynb"),
        (".svg", "svg"),
        (".qde", "qde"),
        (".xml", "xml"),
        (".csv", "csv"),
        (".yml", "yaml"),
        (".yaml", "yaml"),
        (".json", "json"),
    ):
        if name.endswith(suffix):
            return fmt
    return "text"


def _parse(text: str, fmt: str) -> _Layer:
    root = _Layer(text)
    if fmt == "html":
        return _decoded_layer(_html_layer(root))
    if fmt == "ipynb":
        return _decoded_layer(_ipynb_layer(root))
    if fmt in ("svg", "xml", "qde"):
        return _decoded_layer(_markup_layer(root, fmt))
    if fmt in ("yaml", "json") or (fmt == "text" and text.startswith("---")):
        root = _escapes_layer(root, fmt)
    return _decoded_layer(_bidi_layer(root))


# A double-quoted YAML or JSON string holds escapes that its reader decodes ("\x4Darcus", "\u0042ella" are
# "Marcus", "Bella"): decoded before matching, in YAML and JSON files and in a text file's front matter.
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*\\(?:[^"\\]|\\.)*)"', re.S)


def _escapes_layer(layer: _Layer, fmt: str) -> _Layer:
    text = layer.text
    if "\\" not in text:
        return layer
    end = len(text)
    if fmt == "text":  # front matter only: up to the closing '---' line
        close = re.search(r"\n---[ \t]*(?:\n|$)", text[3:])
        end = close.end() + 3 if close else 0
    b = _Builder(layer)
    for m in _QUOTED.finditer(text, 0, end):
        try:
            import yaml

            value = json.loads(m.group()) if fmt == "json" else yaml.safe_load(m.group())
        except Exception:  # noqa: BLE001 - not a string its reader decodes: matched as written
            continue
        if isinstance(value, str) and value != m.group(1):
            b.replace(m.start(1), m.end(1), value)
    return b.finish()


_OVERRIDE = re.compile("\u202e([^\u202c\n]*)")


def _bidi_layer(layer: _Layer) -> _Layer:
    """Text inside a right-to-left override (U+202E ... U+202C or the line's end) is shown reversed: ``\u202esucraM``
    reads "Marcus" on screen, so it is matched in the order a reader sees."""
    if "\u202e" not in layer.text:
        return layer
    b = _Builder(layer)
    for m in _OVERRIDE.finditer(layer.text):
        if m.group(1):
            b.replace(m.start(1), m.end(1), m.group(1)[::-1])
    return b.finish()


# A character written as an HTML entity ("M&#97;rcus", "Pei&nbsp;Shan") or percent-encoded ("Kwek%20Pei",
# "kelly.w%40gmail.com") is the character a browser or a mail client shows: decoded before anything is matched.
_ESCAPED = re.compile(r"&#(\d{1,7});?|&#[xX]([0-9a-fA-F]{1,6});?|&([a-zA-Z][a-zA-Z0-9]{1,31};)|(?:%[0-9a-fA-F]{2})+")


def _decode_one(m: re.Match) -> str | None:
    if m.group(1) or m.group(2):
        n = int(m.group(1) or m.group(2), 10 if m.group(1) else 16)
        return chr(n) if 0 < n < 0x110000 and not 0xD800 <= n < 0xE000 else None
    if m.group(3):
        return html.entities.html5.get(m.group(3))
    try:
        return bytes.fromhex(m.group().replace("%", "")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decoded_layer(layer: _Layer) -> _Layer:
    text = layer.text
    if "&" not in text and "%" not in text:
        return layer
    b = _Builder(layer)
    for m in _ESCAPED.finditer(text):
        r = _decode_one(m)
        if r is not None and r != m.group():
            b.replace(m.start(), m.end(), r)
    return b.finish()


# --------------------------------------------------------------------------------------------------------------
# Roster.


def load_roster(path: str | Path) -> pd.DataFrame:
    """Read ``roster.csv`` (pseudonym, display_name, handle, aliases), checking its columns, that every row has a
    pseudonym and a display name, and that pseudonyms and handles are unique. An error names the file and the
    row's line and never prints a person's name (it is masked)."""
    from .files import read_csv_records

    path = Path(path)
    if not path.is_file():
        raise InputError("roster not found" if not path.exists() else "roster is not a file", path)
    try:
        header, hline, records = read_csv_records(path, "roster (CSV)")
    except OSError as e:
        raise InputError(f"cannot read roster ({e.strerror or e})", path) from None
    if header is None:
        raise InputError("empty roster (expected a header: pseudonym,display_name,handle,aliases)", path, 1)
    rows, lines = [r for _, r in records], [line for line, _ in records]
    need = ["pseudonym", "display_name", "handle", "aliases"]
    missing = [c for c in need if c not in header]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path, hline)
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            raise InputError(f"expected {len(header)} fields, found {len(row)}", path, line)
    df = pd.DataFrame(rows, columns=header, dtype=str)
    seen_pseudo: dict[str, int] = {}
    seen_handle: dict[str, int] = {}
    for i, line in enumerate(lines):
        pseudo = df.at[i, "pseudonym"].strip()
        if not pseudo:
            raise InputError("empty pseudonym", path, line)
        if pseudo in seen_pseudo:
            raise InputError(f"duplicate pseudonym '{pseudo}' (also on line {seen_pseudo[pseudo]})", path, line)
        seen_pseudo[pseudo] = line
        if not df.at[i, "display_name"].strip():
            raise InputError(
                f"empty display_name for {pseudo} (every member needs the name they post under)", path, line
            )
        handle = df.at[i, "handle"].strip()
        key = fold(handle.lstrip("@").lstrip("\uff20"))
        if key:
            if key in seen_handle:
                raise InputError(
                    f"duplicate handle '{mask(handle)}' for {pseudo} (also on line {seen_handle[key]})", path, line
                )
            seen_handle[key] = line
    df.attrs["lines"] = lines
    return df


_ENGLISH: frozenset | None = None


def english_words() -> frozenset:
    """English word forms (the keys and lemmas of spaCy's English lemma lookup table, shipped with
    ``spacy-lookups-data``): a joined name that is an English word ("Wan Ting" -> "wanting") is not looked for."""
    global _ENGLISH
    if _ENGLISH is None:
        import gzip
        import json
        import os

        import spacy_lookups_data

        path = os.path.join(os.path.dirname(spacy_lookups_data.__file__), "data", "en_lemma_lookup.json.gz")
        with gzip.open(path, "rt", encoding="utf-8") as f:
            table = json.load(f)
        _ENGLISH = frozenset(w.lower() for w in (*table.keys(), *table.values()))
    return _ENGLISH


def joined_forms(identifiers) -> list[str]:
    """A multi-part name written as one word: "Wen Jie" -> "wenjie", "Lim Jia Hui" -> "limjiahui" (four letters or
    more, and not an English word, so "Wan Ting" does not make "wanting" an identifier)."""
    out = set()
    for ident in identifiers:
        parts = re.split(r"[\s\-]+", ident.strip())
        if len(parts) < 2:
            continue
        joined = "".join(parts)
        if len(joined) >= 4 and fold(joined) not in english_words():
            out.add(joined)
    return sorted(out - set(identifiers))


def roster_identifiers(roster: pd.DataFrame) -> list[tuple[str, str]]:
    """``(kind, identifier)`` pairs: display names, handles (with and without ``@``) and aliases."""
    out: set[tuple[str, str]] = set()
    for row in roster.itertuples():
        if str(row.display_name).strip():
            out.add(("name", str(row.display_name).strip()))
        handle = str(row.handle).strip().lstrip("@")
        if handle:
            out.add(("handle", handle))
        for alias in str(row.aliases).split(";"):
            if alias.strip():
                out.add(("alias", alias.strip()))
    return sorted(out, key=lambda kv: (-len(kv[1]), kv[1].lower(), kv[0]))


def ocr_fold(text: str) -> str:
    """Fold the characters OCR confuses, so that a misread name still matches: ``rn``->``m``, ``vv``->``w``,
    ``0``->``o``, ``1``/``|``/capital ``I``->``l``, ``5``->``s``; then lower case. Applied to both the text and the
    roster, it keeps exact matches and adds the usual misreadings ("Vikrarn", "lvan") without fuzzy guessing."""
    text = text.replace("I", "l").lower()
    return text.replace("rn", "m").replace("vv", "w").translate(_FOLD)


def whole_word_pattern(forms, at: bool = True) -> re.Pattern | None:
    """A case-insensitive regex matching any of ``forms`` as whole words (longest first; inner spaces match any
    white space), optionally after an ``@`` when ``at``. Shared by the gate and by :mod:`compendium.pseudonyms`."""
    forms = sorted(set(forms), key=lambda f: (-len(f), f))
    if not forms:
        return None
    alts = [r"\s+".join(re.escape(part) for part in f.split()) for f in forms]
    return re.compile(r"(?i)(?<![\w])" + ("@?" if at else "") + "(?:" + "|".join(alts) + r")(?![\w])")


# Between the parts of a name: white space (line breaks included), a hyphen, an underscore or a dot, "Jia Hui",
# "Jia-Hui", "Jia-\nHui", "Jia_Hui", "jia.hui".
_SEP = r"(?:\s*[-_.,/|+~*]\s*|\s+)"
# Inside a handle, where it has a '.', '_' or '-': any of them, a space or nothing ("darren.koh", "darren_koh",
# "darren koh", "darrenkoh").
_HANDLE_SEP = r"[-_.\s]?"
# Inside a part, between two letters: a hyphen, possibly at a line break ("Vik-\nram").
_HY = r"(?:-\s*|\n[ \t]*)?"
_WORD = "a-z0-9_"
# letters of one word set apart by spaces or punctuation, evenly or not ("M a r c u s", "M-a r.c u s", "(m)(a)(r)")
_SPACED_SEP = r"(?:[ \t]{1,3}|[ \t]*[.\-_*/+|~()\[\]]{1,2}[ \t]*)"
_SPACED = re.compile(rf"(?<![a-z0-9])[a-z](?:{_SPACED_SEP}[a-z]){{2,}}(?![a-z0-9])")
_SPACED_MIN = 3


def _units(form: str) -> list[str]:
    units: list[str] = []
    for k, part in enumerate(form.split()):
        if k:
            units.append(_SEP)
        prev = ""
        for ch in part:
            if ch in "._-" and prev.isalnum():
                units.append(_HANDLE_SEP)
                prev = ch
                continue
            if prev.isalnum() and ch.isalnum():
                units.append(_HY)
            units.append(re.escape(ch))
            prev = ch
    return units


def _trie_regex(forms) -> str:
    """An alternation of ``forms`` factored as a trie (shared prefixes matched once)."""
    trie: dict = {}
    for form in forms:
        node = trie
        for u in _units(form):
            node = node.setdefault(u, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = [u + emit(child) for u, child in sorted(node.items()) if u != ""]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:
            return f"(?:{body})?"
        return body

    return emit(trie)


def _identifier_regex(forms) -> re.Pattern | None:
    """Whole-word matches of ``forms``, where a word ends at anything but a letter: a digit or an underscore is a
    boundary ("Vikram2023", "marcus_teo_92", "_Marcus_" as Markdown writes emphasis)."""
    return _compiled_identifiers(tuple(sorted({f for f in forms if f.strip()})))


@functools.lru_cache(maxsize=16)
def _compiled_identifiers(forms: tuple[str, ...]) -> re.Pattern | None:
    """The compiled alternation of ``forms``, kept per process: a roster's regex takes a third of a second to
    compile, and a run or a test builds the same gate many times."""
    if not forms:
        return None
    return re.compile(rf"(?<![a-z])@?(?:{_trie_regex(forms)})(?![a-z])")


TITLES = ("mr", "mrs", "ms", "mdm", "miss", "dr", "prof")


def name_variants(names) -> list[str]:
    """Other ways a display name is written: any two of its parts in either order ("Shan Pei", "Teo Marcus",
    "Nur Aisyah"), one part after the initial of another ("M. Teo", "M Teo") or after a title ("Mr Teo",
    "Mdm Rahman"). Parts of one letter are left out."""
    out: set[str] = set()
    for name in names:
        parts = [p for p in re.split(r"[\s\-]+", str(name).strip()) if len(p) >= 2]
        for a in parts:
            for b in parts:
                if a is b:
                    continue
                out.add(f"{a} {b}")
                if len(b) >= 3:
                    out.add(f"{a[0]} {b}")
        for b in parts:
            if len(b) >= 3:
                out.update(f"{t} {b}" for t in TITLES)
    return sorted(out)


def plural_forms(forms) -> list[str]:
    """A name with a plural or possessive ``s`` and no apostrophe ("Vikrams", "the two Bens"), unless that is an
    English word ("Marks"). Names of three letters or more only, not initials."""
    english = english_words()
    out = set()
    for f in forms:
        # names of three letters or more, not initials ("JH" + "s" is not a plural of anyone)
        if len(re.sub(r"[^A-Za-z]", "", f)) >= 3 and f[-1].isalpha() and any(c.islower() for c in f):
            for suffix in ("s", "es"):
                if fold(f + suffix).replace(" ", "") not in english:
                    out.add(f + suffix)
    return sorted(out)


# Views of a skeleton in which more of a name shows. CamelCase and hashtags ("MarcusTeo92", "#teamVikram",
# "KohWenJie") are split where a lower-case letter meets a capital; emphasis marks and symbols inside a word
# ("Mar**cus**", "Mar🙂cus") are dropped.
_SPLIT = re.compile(
    r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])[*~`^]+|[*~`^]+(?=[A-Za-z])|(?<=[A-Za-z])[^\x00-\x7f](?=[A-Za-z])"
)
# Digits and symbols standing for letters inside a word ("Sh3rmaine", "Pr1yanka", "Marcu$"); "1" may be an i or an l.
_LEET_RUN = re.compile(
    r"(?<=[a-z])[0134579$@!|]+(?=[a-z])|(?<=[a-z]{2})[0134579$!|]+(?![a-z0-9])|(?<![a-z0-9@])[0134579$!|]+(?=[a-z]{2})"
)
_LEET = (str.maketrans("0134579$@!|", "oieastgsail"), str.maketrans("0134579$@!|", "oleastgsall"))


def _split_view(cased: str) -> _Layer | None:
    if not _SPLIT.search(cased):
        return None
    b = _Builder(_Layer(cased))
    for m in _SPLIT.finditer(cased):
        b.replace(m.start(), m.end(), " " if m.start() == m.end() else "")
    layer = b.finish()
    return _Layer(layer.text.lower(), layer.parent, layer._new, layer._old, layer._ident)


def _leet_views(text: str) -> tuple[list, list[str]]:
    """The leet runs of ``text`` and the text with them read as letters (one view per reading of "1")."""
    runs = list(_LEET_RUN.finditer(text))
    if not runs:
        return [], []
    out = []
    for table in _LEET:
        chars = list(text)
        for m in runs:
            chars[m.start() : m.end()] = m.group().translate(table)
        out.append("".join(chars))
    return runs, out


def _windows(positions, n: int, pad: int = 64) -> list[tuple[int, int]]:
    """Merged ranges of ``pad`` characters either side of ``positions`` (sorted), clipped to ``[0, n]``: where a
    view differs from the skeleton, the only places a match of its own can be."""
    out: list[list[int]] = []
    for p in sorted(positions):
        a, b = max(0, p - pad), min(n, p + pad)
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _allow_key(value: str) -> str:
    return " ".join(re.sub(r"[\s\-]+", " ", ocr_fold(fold(value))).split()).lstrip("@")


# --------------------------------------------------------------------------------------------------------------
# Allow-list.


@dataclass(frozen=True)
class Allowed:
    value: str
    reason: str
    kind: str = ""


def load_allow(path: str | Path) -> list[Allowed]:
    """Read an allow-list of reviewed false positives (YAML)::

        allow:
          - value: "Starling"
            kind: roster identifier        # optional: only hits of this kind are allowed
            reason: "Starling forces (physiology), not a member"

    Every entry needs a ``value`` and a ``reason``; a missing one is an :class:`InputError` naming the line.
    """
    import yaml

    path = Path(path)
    from .files import read_text

    try:
        node = yaml.compose(read_text(path, "allow-list"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(
            f"not valid YAML ({getattr(e, 'problem', e)})", path, mark.line + 1 if mark else None
        ) from None
    if node is None:
        return []
    data = yaml.safe_load(read_text(path, "allow-list")) or {}
    entries = data.get("allow") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InputError("expected a mapping with an 'allow' list", path, 1)
    allow_node = next(v for k, v in node.value if k.value == "allow")
    out = []
    for entry, enode in zip(entries, allow_node.value):
        line = enode.start_mark.line + 1
        if not isinstance(entry, dict) or not str(entry.get("value") or "").strip():
            raise InputError("allow-list entry needs a 'value'", path, line)
        if not str(entry.get("reason") or "").strip():
            raise InputError(
                f"allow-list entry '{mask(str(entry['value']))}' needs a 'reason' (why it is not an identifier)",
                path,
                line,
            )
        out.append(Allowed(str(entry["value"]).strip(), str(entry["reason"]).strip(), str(entry.get("kind") or "")))
    return out


# --------------------------------------------------------------------------------------------------------------
# The gate.


def _emails(text: str):
    """Spans of e-mail addresses in a skeleton, plain or obfuscated: ``x@y.com``, ``x @ y . com``,
    ``x [at] y [dot] com``, ``x(at)y.com``, ``x at y dot com``. A bare word "at" needs a "dot" word or a mail host
    ("x at gmail.com"); any spaced or worded form needs a known top-level domain, so that "look at gmail later",
    "at home. Then" or "thanks @P07. Great" are sentences, not addresses."""
    if "@" not in text and "at" not in text:
        return
    for a in _AT_TOKEN.finditer(text):
        s, e = a.span()
        tok = a.group()
        local = _LOCAL_TAIL.search(text, max(0, s - 64), s)
        if local is None:
            continue
        lstart = local.start()
        if lstart == s - 64:  # longer than any local part: not an address
            continue
        while lstart < s and text[lstart] == ".":
            lstart += 1
        if lstart >= s:
            continue
        bare = tok.strip() == "at"
        spaced_at = tok != "@" and "@" in tok
        first = _LABEL.match(text, e)
        if first is None:
            continue
        labels, dots = [first], []
        while len(labels) < 8:
            d = _DOT_TOKEN.match(text, labels[-1].end())
            if d is None:
                break
            nxt = _LABEL.match(text, d.end())
            if nxt is None:
                break
            dots.append(d.group())
            labels.append(nxt)
        for k in range(len(labels) - 1, 0, -1):
            tld = labels[k].group()
            end = labels[k].end()
            if not tld.isalpha() or not 2 <= len(tld) <= 24:
                continue
            if end < len(text) and _NOT_AFTER_EMAIL.match(text, end):
                continue
            plain_dots = all(d == "." for d in dots[:k])
            if not bare and not spaced_at and plain_dots:
                yield lstart, end
                break
            if not _KNOWN_TLD.match(tld):
                continue
            addressy = bool(re.search(r"[._\d]", text[lstart:s]))  # "kelly.tan", "kw92"; not "met"
            if bare and not (
                any("dot" in d for d in dots[:k]) or first.group() in _MAIL_HOSTS or (k >= 2 and addressy)
            ):
                continue  # "kelly.tan at sph.nus.edu.sg"; not "we met at nus.edu.sg" or "at home. Then"
            yield lstart, end
            break
        else:
            # "kelly.w AT gmail": a mail host and no domain ending, from a local part that looks like an address
            host = first.group()
            if host in _MAIL_HOSTS and len(host) > 2 and re.search(r"[._\d]", text[lstart:s]):
                if not (first.end() < len(text) and _NOT_AFTER_EMAIL.match(text, first.end())):
                    yield lstart, first.end()


# Phone numbers written any way a person writes them: grouped by spaces, dashes, dots, slashes or brackets, evenly
# or not, over a line break, with an "l" or "O" typed for a digit, or spelled out. A run of digits and separators is
# read as a number and judged by its digits and its grouping (:func:`_phone_number`).
_PHONE_RUN = re.compile(
    r"(?<![\w+.,=/-])(?P<plus>\+\s?)?(?:\(\s*\+?\s*\d{1,3}\s*\)\s*)?[\dlo|](?:[ \t\n./()-]{0,3}[\dlo|]){6,16}"
    r"(?![\w]|[.,:/-]\w)"
)
_PHONE_DIGIT = str.maketrans("lo|", "101")
_DIGIT_WORDS = "zero|oh|one|two|three|four|five|six|seven|eight|nine"
_SPELLED = re.compile(rf"(?<![a-z])(?:(?:{_DIGIT_WORDS})[\s,-]+){{6,}}(?:{_DIGIT_WORDS})(?![a-z])")
_DIGIT_OF = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())} | {"oh": "0"}


_MOBILE_GROUPS = ([4, 2, 2], [2, 2, 2, 2], [1, 3, 4], [2, 3, 3], [3, 3, 2], [1] * 8)


def _phone_number(run: str, plus: bool) -> bool:
    digits = re.sub(r"[^\dlo|]", "", run).translate(_PHONE_DIGIT)
    typed = sum(c.isdigit() for c in run)
    if typed < 7 or len(digits) - typed > 2:
        return False  # mostly letters: a word, not a number
    groups = [len(g) for g in re.split(r"[ \t\n./()-]+", run.strip("+ ")) if g]
    if plus or digits.startswith("65") and len(digits) == 10 and digits[2] in "3689":
        return 8 <= len(digits) <= 15
    if len(digits) == 8 and digits[0] in "3689":
        # 91234567, 9123 4567 as numbers are written; the other groupings people use ("9123 45 67", "91 23 45 67",
        # "9 123 4567", "9 1 2 3 4 5 6 7") only for mobile numbers (8, 9), so that "36 38 40 42" stays a list of
        # temperatures and "weeks 8 9 10 11 12" a list of weeks
        return groups in ([8], [4, 4]) or digits[0] in "89" and groups in _MOBILE_GROUPS
    if digits[0] == "0" and 10 <= len(digits) <= 11:
        return len(groups) >= 2 and min(groups) >= 3  # 012-345 6789 (Malaysia), 0xx xxx xxxx
    return False


def _phones(text: str):
    """Spans of phone numbers :data:`PATTERNS`' regex does not read (see :data:`_PHONE_RUN`)."""
    for m in _PHONE_RUN.finditer(text):
        if _phone_number(m.group(), bool(m.group("plus"))):
            yield m.start(), m.end()
    for m in _SPELLED.finditer(text):
        digits = "".join(_DIGIT_OF[w] for w in re.findall(rf"{_DIGIT_WORDS}", m.group()))
        if _phone_number(digits, False):
            yield m.start(), m.end()


# NRIC/FIN and matriculation numbers with their digits grouped or set apart ("S123 4567D", "S.1234567.D",
# "A0123 456X", "E-0123456"), an "O" typed for a zero.
_ID_SEP = r"[ \t\n.\-/]{0,2}"
_ID_DIGITS = rf"(?:[\do]{_ID_SEP}){{6}}[\do]"
_SPACED_IDS = {
    "nric": re.compile(rf"(?<![a-z0-9])[stfgm]{_ID_SEP}{_ID_DIGITS}{_ID_SEP}[a-z](?![a-z0-9])"),
    "matric": re.compile(
        rf"(?<![a-z0-9])(?:[au]{_ID_SEP}{_ID_DIGITS}{_ID_SEP}[a-z]|e{_ID_SEP}{_ID_DIGITS})(?![a-z0-9])"
    ),
}


def _spaced_ids(text: str, kind: str):
    for m in _SPACED_IDS[kind].finditer(text):
        if sum(c.isdigit() for c in m.group()) >= 5:
            yield m.start(), m.end()


# Personal profile URLs on more sites and subdomains ("sg.linkedin.com/in/x", "mbasic.facebook.com/x"), also
# "defanged" ("facebook[.]com/x", "instagram dot com/x").
_PROFILE_URL = re.compile(
    r"(?<![\w@-])(?:https?://)?(?:[a-z0-9-]+\.){0,3}"
    r"(?:facebook\.com|fb\.com|instagram\.com|twitter\.com|x\.com|tiktok\.com|threads\.net|github\.com"
    r"|linkedin\.com/(?:in|pub)|youtube\.com/(?:c|channel|user|@)|reddit\.com/(?:u|user)|linktr\.ee|tumblr\.com"
    r"|bsky\.app/profile|t\.me|telegram\.(?:me|dog)|wa\.me|snapchat\.com/add|medium\.com/@?|substack\.com/@"
    r"|pinterest\.com|vk\.com|weibo\.com|xiaohongshu\.com/user/profile|line\.me/ti/p|discord\.com/users)"
    r"/@?[a-z0-9_%][a-z0-9_.%-]*"
    r"|(?<![\w@-])[a-z0-9-]+\.(?:tumblr\.com|substack\.com)"
)
_DEFANG = re.compile(r"\s*[\[(]\s*(?:\.|dot)\s*[\])]\s*|\s+dot\s+(?=[a-z]{2,}\b)")


def _profile_urls(text: str):
    if "/" not in text and "tumblr" not in text and "substack" not in text:
        return
    b = _Builder(_Layer(text))
    for m in _DEFANG.finditer(text):
        b.replace(m.start(), m.end(), ".")
    view = b.finish()  # the text itself when nothing is defanged
    for m in _PROFILE_URL.finditer(view.text):
        yield view.origin(m.start()), view.origin(m.end() - 1) + 1


class Gate:
    """Scans text for identifiers. Build once per roster; reuse for every file (thread-safe)."""

    def __init__(self, roster: pd.DataFrame | None = None, allow=None):
        have = roster is not None and len(roster) > 0
        self._has_roster = bool(have)
        pairs = roster_identifiers(roster) if have else []
        ids = [i for _, i in pairs]
        ids += joined_forms(ids)
        sks = [Skeleton(i) for i in ids]
        # written forms (other orders, initials, titles, plurals) are looked for as written, not as OCR misreads
        written = name_variants(i for k, i in pairs if k == "name") + plural_forms(i for k, i in pairs if k != "handle")
        exact = {sk.text for sk in sks} | {fold(f) for f in written}
        self.roster_exact = _identifier_regex(exact)  # on Skeleton.text
        self.roster_re = _identifier_regex(ocr_fold(sk.cased) for sk in sks)  # on Skeleton.ocr
        compact = sorted(
            {c for c in (re.sub(r"[^a-z0-9]", "", f) for f in exact) if len(c) >= _SPACED_MIN},
            key=lambda c: (-len(c), c),
        )
        self._compact = re.compile("|".join(map(re.escape, compact))) if compact else None
        self.allow: dict[str, set[str]] = {}
        phrases: dict[str, set[str]] = {}
        for a in allow or []:
            value, kind = (a.value, a.kind) if isinstance(a, Allowed) else (str(a), "")
            self.allow.setdefault(_allow_key(value), set()).add(kind)
            if len(fold(value).split()) > 1 or "'" in value:
                phrases.setdefault(fold(value), set()).add(kind)
        # an allowed phrase ("Hari Raya", "Benedict's test", "Marcus Gunn pupil") allows a hit inside it, and
        # only there: the same alias elsewhere is still a hit
        self._phrases = [
            (re.compile(r"(?<![a-z])" + r"\s+".join(map(re.escape, key.split())) + r"(?![a-z])"), kinds)
            for key, kinds in sorted(phrases.items())
        ]

    @property
    def has_roster(self) -> bool:
        """True when roster identifiers are checked; False for a patterns-only gate."""
        return self._has_roster

    def _allowed(self, value: str, kind: str) -> bool:
        if not self.allow:
            return False
        kinds = self.allow.get(_allow_key(value))
        return kinds is not None and ("" in kinds or kind in kinds)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, kind)`` of every identifier in plain ``text``, as offsets into ``text`` itself (what a
        redaction of an OCR line must cover), in order of position."""
        sk, found = self._find(text, "text")
        out = set()
        for (o, kind), (pos, value, end) in found.items():
            last = min(max(pos, end - 1), len(sk.text) - 1)
            out.add((o, sk.origin(last) + 1, kind))
        return sorted(out)

    def scan_text(self, text: str, path: str = "<text>", fmt: str | None = None) -> list[Hit]:
        """Every identifier in ``text`` (the content of ``path``), as hits in order of position. ``fmt`` ("text",
        "csv", "html", "ipynb", "svg", "qde", "xml") defaults to what ``path``'s suffix says."""
        fmt = _format_of(path) if fmt is None else fmt
        sk, found = self._find(text, fmt)
        if not found:
            return []
        return self._hits(text, path, sk, found)

    def _find(self, text: str, fmt: str):
        """The skeleton of ``text`` and ``{(original start, kind): (skeleton position, value)}`` of its hits."""
        sk = Skeleton(_parse(text, fmt))
        t = sk.text
        # (original start, kind) -> (text position, value, text end)
        found: dict[tuple[int, str], tuple[int, str, int]] = {}
        allowed_spans = [(m.start(), m.end(), kinds) for rx, kinds in self._phrases for m in rx.finditer(t)]

        def add(kind: str, pos: int, value: str, orig: int | None = None, end: int | None = None) -> None:
            if self._allowed(value, kind):
                return
            stop = pos + len(value) if end is None else end
            if any(a <= pos and stop <= b and ("" in kinds or kind in kinds) for a, b, kinds in allowed_spans):
                return
            o = sk.origin(pos) if orig is None else orig
            found.setdefault((o, kind), (pos, value, stop))

        if self.roster_exact is not None:
            kind = "roster identifier"
            for m in self.roster_exact.finditer(t):
                add(kind, m.start(), m.group())
            split = _split_view(sk.cased)
            if split is not None:  # only around what the view changed: the rest reads as the skeleton does
                changed = [n for n, same in zip(split._new, split._ident) if not same]
                for a, b in _windows(changed, len(split.text)):
                    for m in self.roster_exact.finditer(split.text, a, b):
                        p, e = split.origin(m.start()), split.origin(m.end() - 1) + 1
                        add(kind, p, t[p:e], end=e)
            runs, views = _leet_views(t)
            for a, b in _windows([m.start() for m in runs], len(t)):
                for view in views:
                    for m in self.roster_exact.finditer(view, a, b):
                        add(kind, m.start(), t[m.start() : m.end()])
            ocr = sk.ocr
            for m in self.roster_re.finditer(ocr):
                p = sk.ocr_to_text(m.start())
                add(kind, p, t[p : sk.ocr_to_text(m.end() - 1) + 1], sk.origin(p))
            if self._compact is not None:
                for m in _SPACED.finditer(t):
                    # a whole word spelled out, "J i a h u i", "J.i.a.h.u.i"; also beside a one-letter word that
                    # the same spacing swallows ("a J i a h u i", "J i a h u i s")
                    run = re.sub(r"[^a-z]", "", m.group())
                    for cut in ((0, len(run)), (1, len(run)), (0, len(run) - 1)):
                        c = self._compact.fullmatch(run, *cut)
                        if c:
                            second = re.search(r"[^a-z]+", m.group()).end()  # where the second letter is
                            add(kind, m.start() + (second if cut[0] else 0), c.group(), end=m.end())
                            break
        for s, e in _emails(t):
            add("email", s, t[s:e])
        for s, e in _phones(t):
            add("phone", s, t[s:e])
        for kind in ("nric", "matric"):
            for s, e in _spaced_ids(t, kind):
                add(kind, s, t[s:e])
        for s, e in _profile_urls(t):
            add("url", s, t[s:e])
        for kind in _PATTERN_ORDER[1:]:
            rx = _PHONE_CSV if (kind == "phone" and fmt == "csv") else PATTERNS[kind]
            for m in rx.finditer(t):
                add(kind, m.start(), m.group())
        return sk, found

    @staticmethod
    def _hits(text: str, path: str, sk, found) -> list[Hit]:
        root = text
        newlines = [m.start() for m in re.finditer("\n", root)]
        order = {k: i for i, k in enumerate(("roster identifier",) + _PATTERN_ORDER)}
        hits = []
        for (o, kind), (pos, value, _end) in sorted(found.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))):
            first = sk.cased[pos : pos + 1]
            if not first.strip():
                first = value.strip()[:1]
            hits.append(Hit(path, bisect_right(newlines, o - 1) + 1 if newlines else 1, kind, mask(first)))
        return hits

    def scan_file(self, path: str | Path, display: str | None = None) -> list[Hit]:
        """Scan one file; a REFI-QDA project (or zip) is scanned member by member (``file.qdpx!member:line``).
        A binary or non-UTF-8 file is an :class:`InputError` saying so."""
        from .files import decode_text

        path = Path(path)
        shown = display or str(path)
        if path.suffix.lower() in ARCHIVE_SUFFIXES and zipfile.is_zipfile(path):
            hits: list[Hit] = []
            with zipfile.ZipFile(path) as zf:
                for name in sorted(zf.namelist()):
                    if Path(name).suffix.lower() in TEXT_SUFFIXES:
                        where = f"{shown}!{name}"
                        text = decode_text(zf.read(name), where, "text file", control_ok=True)
                        hits += self.scan_text(text, where)
            return hits
        try:
            data = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read ({e.strerror or e})", shown) from None
        return self.scan_text(decode_text(data, shown, "text file", control_ok=True), shown)

    def scan_paths(self, paths, relative_to: str | Path | None = None) -> list[Hit]:
        """Scan files and folders (recursively; text files only)."""
        hits: list[Hit] = []
        for p in paths:
            p = Path(p)
            if not p.exists():
                raise InputError("no such file or folder", p)
            files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
            for f in files:
                if f.suffix.lower() not in TEXT_SUFFIXES | ARCHIVE_SUFFIXES and p.is_dir():
                    continue
                shown = str(f.relative_to(relative_to)) if relative_to else str(f)
                hits += self.scan_file(f, shown)
        return hits


def load_gate(roster: str | Path | None, allow: str | Path | None = None) -> Gate:
    """The gate for a corpus. ``roster`` None: patterns only (no roster identifiers); a roster path that cannot be
    read is an :class:`InputError` naming it. The allow-list is used when the file exists."""
    allow = Path(allow) if allow else None
    return Gate(
        load_roster(roster) if roster is not None else None, load_allow(allow) if allow and allow.is_file() else None
    )


ROSTER_PATH = "private/roster.csv"  # a corpus's roster, relative to its raw folder
ALLOW_NAME = "deid_allow.yml"  # its reviewed allow-list
PATTERNS_ONLY = (
    "the de-identification gate checks identifier patterns only (e-mail, phone, NRIC/FIN, "
    "matriculation numbers, profile URLs, @handles), not members' names"
)


def corpus_gate_files(raw: str | Path, roster: str | Path | None = None) -> tuple[Path, Path]:
    """``(roster, allow-list)`` of a raw folder: ``roster`` when given, else ``RAW/private/roster.csv``."""
    return (Path(roster) if roster else Path(raw) / ROSTER_PATH), Path(raw) / ALLOW_NAME


def corpus_gate(raw: str | Path, roster: str | Path | None = None, say=None) -> Gate:
    """The gate of a corpus: its roster (a given ``roster`` must be readable; the default one may be absent, as
    in a raw folder shared without ``private/``: then only patterns are checked and ``say`` is told so) and its
    allow-list when present."""
    roster_path, allow = corpus_gate_files(raw, roster)
    if roster is None and not roster_path.exists():
        if say is not None:
            say(f"no {ROSTER_PATH} in the raw folder: {PATTERNS_ONLY}")
        roster_path = None
    return load_gate(roster_path, allow if allow.is_file() else None)


def gate_or_raise(gate: Gate, paths, relative_to=None, labels: dict | None = None) -> None:
    """Raise :class:`InputError` on the first identifier found (file:line: kind, masked).

    Each path is shown relative to ``relative_to`` (default: itself, for a folder), prefixed with
    ``labels[path]`` when given (for example the folder a staged output is going to).
    """
    hits = []
    for p in paths:
        root = Path(relative_to) if relative_to is not None else (Path(p) if Path(p).is_dir() else None)
        label = (labels or {}).get(p)
        try:
            found = gate.scan_paths([p], root)
        except InputError as e:
            if label and e.path is not None and not Path(e.path).is_absolute():
                raise InputError(e.message, f"{label}/{e.path}", e.line) from None
            raise
        if label:
            found = [Hit(f"{label}/{h.path}", h.line, h.kind, h.masked) for h in found]
        hits += found
    if hits:
        h = hits[0]
        more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
        raise InputError(f"{h.kind} '{h.masked}' found: de-identification gate stopped the run{more}", h.path, h.line)
