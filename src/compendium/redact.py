"""Fill identifier boxes in a screenshot with solid boxes and write the PNG deterministically.

OCR gives one box per text line (or per run of text). Where only part of a line identifies someone (a name
mentioned in a sentence), :func:`part_spans` does not guess where the characters are: it returns a
:class:`Span` request (the OCR box, its text and the character range ``[start, end)``), and
:func:`redact_image`, which has the pixels, measures the box of those characters on the image
(:func:`measure_span`):

1. **Ink.** Inside the OCR box (a few pixels wider), a pixel is ink when it differs from the local background
   (the median colour there) by more than a threshold set from the contrast of the text and the noise of the
   background (light and dark themes, JPEG noise). The line's rows are the run of ink rows around the OCR box
   (ascenders and descenders included).
2. **Glyphs and words.** The column ink profile splits into glyph clusters (runs of ink columns). The word gaps
   are the widest gaps when as many as the text has spaces stand clearly apart from the gaps between letters
   (also trying the places where OCR drops a space: ``Name· 2h``); otherwise the clusters are assigned to the
   words in order by dynamic programming (each word as wide as a stand-in sans-serif font draws it, the gaps
   between words wide), and a word gap beside the span must look like one. Word widths must be plausible.
3. **Characters.** The span's first and last words are those ink words. A boundary inside a word (``Name's``,
   ``@handle,``, ``Name.``) is a gap between glyph clusters: the one the glyphs count to (one cluster per
   character; each mark of glued punctuation its own), else the one nearest to where the stand-in font's
   widths put it; a letter glued to a full stop or comma is told from it by shape (its ink reaches up to the
   x-height).
4. **Fallback.** When the ink does not agree with the text, the range is estimated from the stand-in font's
   widths over the ink extent of the box, padded by about a character, and clipped at the word gaps next to it
   (more of the identifier's word rather than less, never a neighbouring word).

The box is the measured glyph run plus a pad of about a tenth of the line height, never more than half the gap
to the neighbouring glyph, and the line's ink rows plus a small pad. A request whose OCR box holds no ink gets
the old estimate from character counts (:func:`span_box`), padded. Plain ``[x0, y0, x1, y1]`` boxes are filled
as given.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from compendium.render import png_bytes


@dataclass(frozen=True)
class Span:
    """A request to redact characters ``text[start:end]`` of the OCR box ``line_box`` (``(x0, y0, x1, y1)``
    with ``text`` the box's normalised text): measured on the image by :func:`measure_span`."""

    line_box: tuple[float, float, float, float]
    text: str
    start: int
    end: int


def span_box(box, text: str, start: int, end: int, pad_chars: float = 1.0) -> list[int]:
    """Estimate the box of characters ``text[start:end]`` inside the line box ``[x0, y0, x1, y1]`` from character
    counts alone (what is done when the image shows no ink there)."""
    x0, y0, x1, y1 = box
    n = max(1, len(text))
    cw = (x1 - x0) / n
    a = x0 + cw * (start - pad_chars)
    b = x0 + cw * (end + pad_chars)
    return [int(max(x0 - cw, a)), int(y0), int(min(x1 + cw, b)) + 1, int(y1)]


def part_spans(parts: list[dict], spans: list[tuple[int, int]]) -> list[Span]:
    """Requests (:class:`Span`) to redact character spans ``[(start, end)]`` of the text made by joining the OCR
    boxes ``parts`` (dicts with ``text, x0, y0, x1, y1``) with single spaces: one per box a span touches."""
    from .layout import normalise

    out, pos = [], 0
    for part in parts:
        t = normalise(part["text"])
        a0, a1 = pos, pos + len(t)
        for s, e in spans:
            lo, hi = max(s, a0), min(e, a1)
            if lo < hi:
                box = tuple(float(part[k]) for k in ("x0", "y0", "x1", "y1"))
                out.append(Span(box, t, lo - a0, hi - a0))
        pos = a1 + 1
    return out


# --------------------------------------------------------------------------------------------------
# Measuring a span on the image
# --------------------------------------------------------------------------------------------------


def _mpl_font_path(name: str) -> str | None:
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return None
    p = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    return str(p) if p.is_file() else None


@lru_cache(maxsize=2)
def _width_font():
    """A sans-serif font whose advance widths stand in for the screenshot's (DejaVu Sans, bundled with
    matplotlib); None when it cannot be loaded (then every character counts alike)."""
    from PIL import ImageFont

    path = _mpl_font_path("DejaVuSans.ttf")
    try:
        return ImageFont.truetype(path, 100) if path else None
    except OSError:  # pragma: no cover
        return None


@lru_cache(maxsize=4096)
def _ink_fractions(text: str) -> tuple[float, ...]:
    """For ``k = 0 .. len(text)``, where the boundary before character ``k`` lies, as a fraction of the ink
    extent of ``text`` drawn in the stand-in font (0 = left edge of the first glyph, 1 = right edge of the
    last). Between two characters it is the middle of the gap between their glyphs."""
    n = len(text)
    font = _width_font()
    if font is None or n == 0 or not text.strip():
        return tuple(k / max(1, n) for k in range(n + 1))
    l_ink, _, r_ink, _ = font.getbbox(text, anchor="ls")
    width = max(1e-6, r_ink - l_ink)
    out = [0.0]
    for k in range(1, n):
        adv = font.getlength(text[:k])
        left = text[:k].rstrip()
        right = text[k:].lstrip()
        right_edge = font.getbbox(left, anchor="ls")[2] if left else adv
        left_edge = (font.getlength(text[: n - len(right)]) + font.getbbox(right, anchor="ls")[0]) if right else adv
        out.append(min(1.0, max(0.0, ((right_edge + left_edge) / 2 - l_ink) / width)))
    out.append(1.0)
    return tuple(out)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, end)]`` of the runs of True in a 1-D boolean array."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(d[::2], d[1::2])]


def _kth(cum: np.ndarray, k: int) -> int:
    """The ``k``-th smallest value (0-based) of integer data given the cumulative histogram ``cum``."""
    return int(np.searchsorted(cum, k + 1))


def percentile_u8(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) of integer data in 0..255, read off its histogram: the
    same float, bit for bit (numpy's own interpolation formula), without sorting."""
    cum = np.bincount(values.ravel(), minlength=256).cumsum()
    n = int(cum[-1])
    idx = q / 100 * (n - 1)
    lo = int(np.floor(idx))
    a, b = np.float64(_kth(cum, lo)), np.float64(_kth(cum, min(lo + 1, n - 1)))
    t = np.float64(idx - lo)
    diff = b - a
    return float(b - diff * (1 - t) if t >= 0.5 else a + diff * t)


def ink_mask(region: np.ndarray) -> np.ndarray:
    """Pixels of ``region`` (H x W x 3, uint8) that are ink: they differ from the background (the median colour)
    by more than a threshold set between the background noise and the contrast of the text."""
    from .ocr import background

    g = region[..., :3].astype(np.int16)
    if g.size == 0:
        return np.zeros(region.shape[:2], dtype=bool)
    bg = background(region)  # = np.median of each channel
    dist = np.abs(g - bg).max(axis=2)
    d8 = np.minimum(np.ceil(dist), 255).astype(np.uint8)  # for the histogram; exact where dist is whole
    whole = bool(np.all(d8 == dist))
    contrast = percentile_u8(d8, 99.5) if whole else float(np.percentile(dist, 99.5))
    noise = percentile_u8(d8, 60) if whole else float(np.percentile(dist, 60))  # most pixels: background
    thr = max(0.3 * contrast, noise + 16.0, 24.0)
    return dist > thr


@dataclass
class _Line:
    top: int  # page rows of the line's ink [top, bottom)
    bottom: int
    clusters: list  # glyph clusters [(x0, x1)) in page columns, left to right
    height: int  # ink height of the line
    x0: int = 0  # page column of index 0 of ``low``
    low: np.ndarray | None = None  # per column: 1 where the ink stays low in the x-height band (a full stop,
    # a comma), 0 where it reaches up (a letter), -1 where there is none
    heights: list | None = None  # ink height of each cluster (rows it covers), as ``clusters``

    def low_at(self, x: int) -> bool | None:
        """Is the ink of page column ``x`` low (punctuation on the baseline)? None where there is none."""
        i = x - self.x0
        if self.low is None or not 0 <= i < len(self.low) or self.low[i] < 0:
            return None
        return bool(self.low[i])


def _measure_line(arr: np.ndarray, box) -> _Line | None:
    """The ink of the line in the OCR box ``box`` of the page ``arr``: its rows and glyph clusters."""
    H, W = arr.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    h = max(1.0, y1 - y0)
    my, mx = max(3, round(0.35 * h)), max(2, round(0.1 * h))
    X0, X1 = max(0, int(np.floor(x0)) - mx), min(W, int(np.ceil(x1)) + mx)
    Y0, Y1 = max(0, int(np.floor(y0)) - my), min(H, int(np.ceil(y1)) + my)
    if X1 - X0 < 2 or Y1 - Y0 < 2:
        return None
    ink = ink_mask(arr[Y0:Y1, X0:X1])
    rows = ink.sum(axis=1) >= 1
    runs = _runs(rows)
    if not runs:
        return None
    # merge runs split by small row gaps (the dot of an i, a line of x-height letters): not the next line
    tol = max(2, round(0.12 * h))
    merged = [list(runs[0])]
    for a, b in runs[1:]:
        if a - merged[-1][1] <= tol:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    by0, by1 = y0 - Y0, y1 - Y0
    best = max(merged, key=lambda r: (min(r[1], by1) - max(r[0], by0), -(r[0])))
    if min(best[1], by1) - max(best[0], by0) <= 0.25 * h:
        return None
    # a line touching the next one (a descender on an ascender) must not carry the box into it
    top = max(best[0], int(np.floor(by0 - 0.2 * h)))
    bottom = min(best[1], int(np.ceil(by1 + 0.2 * h)))
    band = ink[top:bottom]
    cols = band.any(axis=0)
    clusters = [(a + X0, b + X0) for a, b in _runs(cols)]
    # only glyphs that reach into the OCR box (or to within a pixel or two: a box may cut a thin last glyph)
    # belong to it; a margin's worth of a neighbour's ink does not
    tol_x = mx / 2
    clusters = [(a, b) for a, b in clusters if b > x0 - tol_x and a < x1 + tol_x]
    if not clusters:
        return None
    # where each column's ink starts and ends: most columns are letters standing on the baseline with their
    # tops at the x-height (or above), so the medians give the x-height band
    idx = np.flatnonzero(cols)
    tops = np.argmax(band, axis=0)
    bottoms = band.shape[0] - 1 - np.argmax(band[::-1], axis=0)
    x_top, base = float(np.median(tops[idx])), float(np.median(bottoms[idx]))
    low = np.full(band.shape[1], -1, dtype=np.int8)
    if base - x_top >= 4:
        low[idx] = (tops[idx] > x_top + 0.6 * (base - x_top)).astype(np.int8)
    heights = []
    for a, b in clusters:
        rows_in = np.flatnonzero(band[:, a - X0 : b - X0].any(axis=1))
        heights.append(int(rows_in[-1] - rows_in[0] + 1) if len(rows_in) else 0)
    return _Line(top + Y0, bottom + Y0, clusters, bottom - top, X0, low, heights)


SEPARATOR_SIZE = 0.3  # a separator glyph (the middle dot of a header) is at most this share of the line's height
# wide and high


def separator_clusters(line: _Line) -> list[tuple[int, int]]:
    """Glyph clusters that look like a separator standing between two words (``Name · 2h``): small both ways
    (:data:`SEPARATOR_SIZE` of the line's ink height) and set apart from the ink on both sides by a word gap.
    OCR sometimes drops such a dot from the text; the ink still has it."""
    cl, h = line.clusters, line.height
    heights = line.heights or [h] * len(cl)
    gap = max(3.0, 0.15 * h)
    out = []
    for i in range(1, len(cl) - 1):
        (a, b), hh = cl[i], heights[i]
        if b - a <= SEPARATOR_SIZE * h and hh <= SEPARATOR_SIZE * h:
            if a - cl[i - 1][1] >= gap and cl[i + 1][0] - b >= gap:
                out.append(cl[i])
    return out


def _word_runs(clusters: list, n_words: int, height: int) -> list[list[tuple[int, int]]] | None:
    """Split glyph clusters into ``n_words`` word runs at the ``n_words - 1`` widest gaps, if those gaps stand
    clearly apart from the gaps between letters; else None."""
    k = n_words - 1
    if k == 0:
        return [clusters]
    gaps = [(clusters[i + 1][0] - clusters[i][1], i) for i in range(len(clusters) - 1)]
    if len(gaps) < k:
        return None
    order = sorted(gaps, key=lambda g: (-g[0], g[1]))
    word_min = order[k - 1][0]
    letter_max = order[k][0] if len(order) > k else 0
    if word_min < max(3, 0.12 * height) or word_min < 1.35 * letter_max or word_min - letter_max < 2:
        return None
    cut = sorted(i for _, i in order[:k])
    words, s = [], 0
    for i in cut:
        words.append(clusters[s : i + 1])
        s = i + 1
    words.append(clusters[s:])
    return words


def _word_gap_threshold(clusters: list, height: int) -> float:
    """A gap at least this wide separates words (used when the ink and the text disagree): the largest jump in
    the sorted gap widths above a floor of about a seventh of the ink height."""
    gaps = sorted(clusters[i + 1][0] - clusters[i][1] for i in range(len(clusters) - 1))
    floor = max(3.0, 0.15 * height)
    cands = [g for g in gaps if g >= floor]
    if not cands:
        return float("inf")
    lower = [g for g in gaps if g < floor]
    seq = ([max(lower)] if lower else []) + cands
    best, thr = 0.0, float(cands[0])
    for a, b in pairwise(seq):
        ratio = b / max(1.0, a)
        if ratio > best:
            best, thr = ratio, float(b)
    return thr


_TWO_MARKS = set('"“”„')  # drawn as two strokes with a gap between them
_GLUED_TAIL = re.compile(r"(?:[^\w\s]|['’](?:s|d)\b)+", re.IGNORECASE)  # "," "." "!?" "'s" "’d" ")."
_GLUED_HEAD = re.compile(r"[^\w\s@]+")  # "(" '"' "“"


def _marks(s: str) -> int:
    """Glyph clusters punctuation (and an ``'s``) makes: one per character, two for a double quote."""
    return sum(2 if ch in _TWO_MARKS else 1 for ch in s)


_LOW_MARKS = set(".,")  # punctuation that sits on the baseline


def _last_high(line: _Line, lo: int, hi: int) -> int | None:
    """The last page column in ``[lo, hi)`` whose ink reaches up to the x-height (a letter, not a full stop or a
    comma), or None."""
    for x in range(hi - 1, lo - 1, -1):
        if line.low_at(x) is False:
            return x
    return None


def _split_in_word(word: list, text: str, k: int, side: str, line: _Line | None = None) -> tuple[float, float]:
    """Where the boundary before character ``k`` of the word ``text`` lies among the glyph clusters ``word``:
    ``(edge, room)``. ``side`` is ``"end"`` (the identifier ends there: edge = right edge of its last glyph) or
    ``"start"`` (it starts there: edge = left edge of its first glyph); ``room`` is how far the box may be
    padded beyond the edge without touching the other glyphs.

    The boundary is a gap between clusters: the one the glyphs count to when they can be counted (one cluster
    per character, or punctuation glued to the word: each mark its own cluster), if it is near where the
    stand-in font's widths put it; else the gap nearest to that estimate."""
    L, R = word[0][0], word[-1][1]
    low_tail = line is not None and line.low is not None and bool(text[k:]) and set(text[k:]) <= _LOW_MARKS
    est = L + _ink_fractions(text)[k] * (R - L)
    cw = (R - L) / max(1, len(text))
    gaps = [(word[i][1], word[i + 1][0]) for i in range(len(word) - 1)]  # gap i: after cluster i
    counted = set()
    if len(word) == len(text):
        counted.add(k - 1)
    if side == "end" and _GLUED_TAIL.fullmatch(text[k:]):
        counted.add(len(word) - 1 - _marks(text[k:]))
    if side == "start" and _GLUED_HEAD.fullmatch(text[:k]):
        counted.add(_marks(text[:k]) - 1)
    counted = {i for i in counted if 0 <= i < len(gaps)}
    choice = None
    if len(counted) == 1:
        i = counted.pop()
        if abs(sum(gaps[i]) / 2 - est) <= max(3.0, 0.6 * cw):
            choice = gaps[i]
    if choice is None and gaps:
        d, g = min((abs((g0 + g1) / 2 - est), (g0, g1)) for g0, g1 in gaps)
        if d <= max(2.0, 0.6 * cw):
            choice = g
    if choice is not None:
        g0, g1 = choice
        # the glyphs beyond the gap must be no wider than the characters there would be; wider, a letter of the
        # identifier is glued to them (a thin "l" to a comma in a small font): cut inside, by the font's widths
        scale = (R - L) / max(1e-6, _text_width(text))
        if side == "end":
            if low_tail:
                # a letter glued to the full stop or comma beyond the gap reaches up: it is the identifier's
                x = _last_high(line, g1, R)
                if x is not None:
                    return (float(x + 1), 4.0)
            rest = R - g1
            want = _text_width(text[k:]) * scale
            if rest > 1.6 * want + 2:
                return (max(g0, R - want - 1), 0.0)
            return (g0, g1 - g0)
        rest = g0 - L
        want = _text_width(text[:k]) * scale
        if rest > 1.6 * want + 2:
            return (min(g1, L + want + 1), 0.0)
        return (g1, g1 - g0)
    # no glyph gap near: the glyphs touch there
    if side == "end" and low_tail:
        x = _last_high(line, L, R)
        if x is not None and x + 1 >= est - cw:
            return (float(x + 1), 4.0)
    # cover a third of a character more of the identifier
    return (est + cw / 3, 0.0) if side == "end" else (est - cw / 3, 0.0)


def _pad_room(gap: float, pad: int) -> int:
    """Pad into a gap of ``gap`` columns by at most half of it (the other half is the neighbour's)."""
    return int(max(0, min(pad, gap // 2)))


def measure_span(arr: np.ndarray, span: Span) -> list[int] | None:
    """The box ``[x0, y0, x1, y1]`` (inclusive pixel bounds) of ``span``'s characters, measured on the page
    ``arr`` (H x W x 3); None when the OCR box holds no ink (then :func:`span_box` is used)."""
    text, start, end = span.text, max(0, span.start), min(len(span.text), span.end)
    while start < end and text[start] == " ":
        start += 1
    while end > start and text[end - 1] == " ":
        end -= 1
    if start >= end:
        return None
    line = _measure_line(arr, span.line_box)
    if line is None:
        return None
    clusters, h = line.clusters, line.height
    pad = max(2, round(0.1 * h))
    vpad = max(2, round(0.06 * h))
    if start == 0 and end == len(text):  # the whole box: its ink, padded
        return [clusters[0][0] - pad, line.top - vpad, clusters[-1][1] - 1 + pad, line.bottom - 1 + vpad]
    match = _match_words(clusters, text, h, separator_clusters(line))
    if match is not None:
        bounds, runs, weak = match
        words_text = [text[a:b] for a, b in bounds]
        wa = next(i for i, (a, b) in enumerate(bounds) if a <= start < b)
        wb = next(i for i, (a, b) in enumerate(bounds) if a < end <= b)
        if wa - 1 in weak or wb in weak:  # the words around the span are not clearly apart
            match = None
    if match is not None:
        ra, rb = runs[wa], runs[wb]
        # left edge
        if start == bounds[wa][0]:
            left = ra[0][0]
            # room up to the nearest ink on the left (a separator the text lost is ink too)
            before = [c[1] for c in clusters if c[1] <= left]
            lroom = left - max(before) if before else 2 * pad + 1
        else:
            left, lroom = _split_in_word(ra, words_text[wa], start - bounds[wa][0], "start", line)
        if end == bounds[wb][1]:
            right = rb[-1][1]
            after = [c[0] for c in clusters if c[0] >= right]
            rroom = min(after) - right if after else 2 * pad + 1
        else:
            right, rroom = _split_in_word(rb, words_text[wb], end - bounds[wb][0], "end", line)
        x0 = left - _pad_room(lroom, pad)
        x1 = right - 1 + _pad_room(rroom, pad)
    else:
        x0, x1 = _fallback(clusters, text, start, end, h, pad)
    return [int(np.floor(x0)), line.top - vpad, int(np.ceil(x1)), line.bottom - 1 + vpad]


#: where OCR often drops a space that the image shows (``Name· 2h``, ``·3 Jan``, ``too,Thanks``): a word may be
#: split there when the ink has more words than the text has spaces
_SEPARATORS = "·•|"


def _optional_breaks(text: str) -> list[int]:
    out = []
    for i in range(1, len(text)):
        a, b = text[i - 1], text[i]
        if a == " " or b == " ":
            continue
        if (
            a in _SEPARATORS
            or b in _SEPARATORS
            or (a in ",;:!?)" and b.isalnum())
            or (a == "." and b.isupper())
            or (a.isalnum() and b == "(")
        ):
            out.append(i)
    return out


def _segments(text: str, extra=()) -> list[tuple[int, int]]:
    """Character ranges of the words of ``text`` (split at spaces and at the positions ``extra``)."""
    cuts = sorted(set(extra))
    out, p = [], 0
    for w in text.split(" "):
        a = p
        for c in cuts:
            if p < c < p + len(w):
                out.append((a, c))
                a = c
        out.append((a, p + len(w)))
        p += len(w) + 1
    return out


def _match_words(clusters: list, text: str, h: int, separators=()):
    """``(words, runs, weak)``: the text's words ``[(start, end)]``, the ink word runs they are and the word gaps
    not to be trusted (indices ``i``: between word ``i`` and ``i + 1``), when the two agree; else None.

    Words are split at spaces; if the ink does not agree, also at one or two of the places where OCR drops a
    space (:data:`_SEPARATORS`, after ``,;:!?``), the best-fitting choice by word widths; failing that, the
    clusters are assigned to the words by :func:`_align_words`."""
    from itertools import combinations

    base = _segments(text)
    if any(a == b for a, b in base):
        return None
    runs = _word_runs(clusters, len(base), h)
    if runs is not None and _plausible(runs, [text[a:b] for a, b in base]):
        return base, runs, set()
    if separators and not any(ch in text for ch in _SEPARATORS):  # the text lost a dot the ink shows
        dots = set(separators)
        kept = [c for c in clusters if c not in dots]
        runs = _word_runs(kept, len(base), h)
        if runs is not None and _plausible(runs, [text[a:b] for a, b in base]):
            return base, runs, set()
    opt = _optional_breaks(text)
    best = None
    for k in (1, 2):
        for extra in combinations(opt, k) if len(opt) <= 12 else ():
            segs = _segments(text, extra)
            runs = _word_runs(clusters, len(segs), h)
            if runs is None:
                continue
            words = [text[a:b] for a, b in segs]
            if not _plausible(runs, words):
                continue
            cost = _misfit(runs, words)
            if best is None or cost < best[0]:
                best = (cost, segs, runs)
        if best is not None:
            return best[1], best[2], set()
    return _align_words(clusters, text, base, h)


def _predicted(text: str, segs: list[tuple[int, int]]) -> list[tuple[float, float]]:
    """Ink extent ``(left, right)`` of each word ``segs`` of ``text`` drawn in the stand-in font (font units)."""
    font = _width_font()
    out = []
    for a, b in segs:
        if font is None:
            out.append((float(a), float(b)))
            continue
        adv = font.getlength(text[:a])
        l_ink, _, r_ink, _ = font.getbbox(text[a:b], anchor="ls")
        out.append((adv + l_ink, adv + r_ink))
    return out


def _align_words(clusters: list, text: str, segs: list[tuple[int, int]], h: int):
    """Assign the glyph clusters to the words ``segs`` in order (dynamic programming) when the gap widths alone
    do not say which gaps are the spaces: each word's ink should be as wide as the stand-in font draws it and
    about where it puts it, and the gaps between words should be wide. Returns ``(segs, runs)`` if every word
    comes out plausibly wide and the words of the line stand apart, else None."""
    n, m = len(segs), len(clusters)
    if n < 2 or m < n or m > 400:
        return None
    pred = _predicted(text, segs)
    L, R = clusters[0][0], clusters[-1][1]
    span = pred[-1][1] - pred[0][0]
    if span <= 0:
        return None
    scale = (R - L) / span
    want_w = np.array([(b - a) * scale for a, b in pred])
    want_x = np.array([L + (a - pred[0][0]) * scale for a, _ in pred])
    lefts = np.array([c[0] for c in clusters], dtype=float)
    rights = np.array([c[1] for c in clusters], dtype=float)
    gaps = np.append(lefts[1:] - rights[:-1], 0.0)  # gap after cluster k
    gamma, delta = 2.0, 0.25
    inf = float("inf")
    f = np.full((n, m), inf)
    back = np.zeros((n, m), dtype=int)
    for k in range(m):
        f[0, k] = abs(rights[k] - lefts[0] - want_w[0]) + delta * abs(lefts[0] - want_x[0])
    for i in range(1, n):
        for k in range(i, m - (n - 1 - i)):
            j = np.arange(i, k + 1)  # the word takes clusters j..k
            prev = f[i - 1, j - 1] - gamma * gaps[j - 1]
            cost = prev + np.abs(rights[k] - lefts[j] - want_w[i]) + delta * np.abs(lefts[j] - want_x[i])
            t = int(np.argmin(cost))
            f[i, k], back[i, k] = cost[t], int(j[t])
    if not np.isfinite(f[n - 1, m - 1]):
        return None
    starts, k = [0] * n, m - 1
    for i in range(n - 1, 0, -1):
        starts[i] = back[i, k]
        k = starts[i] - 1
    runs = [clusters[starts[i] : (starts[i + 1] if i + 1 < n else m)] for i in range(n)]
    words = [text[a:b] for a, b in segs]
    if not _plausible(runs, words):
        return None
    # a chosen word gap is trusted when it looks like one: wide, and not narrower than the letter gaps of the
    # words beside it (the span's own word gaps must be trusted, see measure_span)
    floor = max(3.0, 0.12 * h)
    weak = set()
    for i in range(n - 1):
        g = runs[i + 1][0][0] - runs[i][-1][1]
        inner = [c2[0] - c1[1] for r in (runs[i], runs[i + 1]) for c1, c2 in pairwise(r)]
        if g < floor or (inner and g < 0.8 * max(inner)):
            weak.add(i)
    return segs, runs, weak


def _misfit(runs: list, words: list[str]) -> float:
    """How far the ink word widths are from the words' widths in the stand-in font (shares of the total)."""
    ink = [r[-1][1] - r[0][0] for r in runs]
    est = [_text_width(w) for w in words]
    ti, te = sum(ink), math.fsum(est)
    return math.fsum(abs(i / ti - e / te) for i, e in zip(ink, est))


def _plausible(runs: list, words: list[str]) -> bool:
    """Do the ink word runs have about the widths the words would have (so the mapping is not off by one)?"""
    total_ink = sum(r[-1][1] - r[0][0] for r in runs)
    est = [_text_width(w) for w in words]
    total_est = math.fsum(est)
    if total_ink <= 0 or total_est <= 0:
        return False
    for r, e, w in zip(runs, est, words):
        got = (r[-1][1] - r[0][0]) / total_ink
        want = e / total_est
        if len(w) >= 2 and not (0.55 * want - 0.02 <= got <= 1.8 * want + 0.02):
            return False
    return True


@lru_cache(maxsize=4096)
def _text_width(text: str) -> float:
    font = _width_font()
    if font is None:
        return float(len(text))
    l_ink, _, r_ink, _ = font.getbbox(text, anchor="ls")
    return max(1.0, float(r_ink - l_ink))


def _fallback(clusters: list, text: str, start: int, end: int, h: int, pad: int) -> tuple[float, float]:
    """Range of ``text[start:end]`` from the stand-in font's widths over the ink extent, padded by about a
    character and clipped at the word gaps next to it."""
    L, R = clusters[0][0], clusters[-1][1]
    f = _ink_fractions(text)
    cw = (R - L) / max(1, len(text))
    a = L + f[start] * (R - L) if start else L
    b = L + f[end] * (R - L) if end < len(text) else R
    a, b = a - cw, b + cw
    thr = _word_gap_threshold(clusters, h)
    gaps = [
        (clusters[i][1], clusters[i + 1][0])
        for i in range(len(clusters) - 1)
        if clusters[i + 1][0] - clusters[i][1] >= thr
    ]
    if start == 0 or text[start - 1] == " ":
        # the identifier starts a word: do not reach back over a word gap into the previous word
        near = [(g0, g1) for g0, g1 in gaps if a - cw <= g1 and g0 <= a + 2 * cw]
        if near:
            g0, g1 = max(near, key=lambda g: g[1])
            if g1 <= b:
                a = max(a, g1 - _pad_room(g1 - g0, pad))
    if end == len(text) or text[end] == " ":
        near = [(g0, g1) for g0, g1 in gaps if b - 2 * cw <= g1 and g0 <= b + cw]
        if near:
            g0, g1 = min(near, key=lambda g: g[0])
            if g0 >= a:
                b = min(b, g0 - 1 + _pad_room(g1 - g0, pad))
    return max(L - pad, a), min(R - 1 + pad, b)


# --------------------------------------------------------------------------------------------------
# Filling
# --------------------------------------------------------------------------------------------------


def fill_colour(img: Image.Image) -> tuple[int, int, int]:
    """Black on light captures, light grey on dark ones (the box must stand out from the background)."""
    arr = np.asarray(img.convert("L"))
    return (0, 0, 0) if float(np.median(arr)) >= 128 else (200, 200, 200)


def measure_boxes(arr: np.ndarray, boxes) -> list[list[int]]:
    """Each request as a box ``[x0, y0, x1, y1]`` (inclusive pixel bounds), in the order given: a :class:`Span`
    measured on the page ``arr`` (the unredacted pixels), a plain box as given."""
    out = []
    for b in boxes:
        if isinstance(b, Span):
            box = measure_span(arr, b)
            if box is None:  # no ink where OCR read the text: the estimate from character counts, padded
                x0, y0, x1, y1 = span_box(b.line_box, b.text, b.start, b.end)
                p = max(2, (y1 - y0) // 8)
                box = [x0 - p, y0 - p, x1 + p, y1 + p]
        else:
            box = b
        out.append([int(v) for v in box[:4]])
    return out


def resolve_boxes(arr: np.ndarray, boxes) -> list[list[int]]:
    """:func:`measure_boxes`, sorted, duplicates dropped: the boxes to fill."""
    return [list(b) for b in sorted({tuple(b) for b in measure_boxes(arr, boxes)})]


def redact_image(image, boxes, out_path) -> Path:
    """Write a copy of ``image`` (a path, or the page as an upright RGB array) with every request in ``boxes``
    filled solid, to ``out_path``.

    ``boxes`` holds :class:`Span` requests (measured on this image's pixels, :func:`measure_span`) or plain
    boxes ``[x0, y0, x1, y1]`` (filled as given, bounds included)."""
    from .ocr import upright

    if isinstance(image, np.ndarray):
        img = Image.fromarray(np.ascontiguousarray(image[..., :3]), "RGB")
    else:
        with Image.open(image) as im:
            img = upright(im).convert("RGB")  # the pixels only: a JPEG's EXIF (camera, place, time) is not copied
    colour = fill_colour(img)
    resolved = resolve_boxes(np.asarray(img), boxes)
    d = ImageDraw.Draw(img)
    for x0, y0, x1, y1 in resolved:
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(img.width - 1, x1), min(img.height - 1, y1)
        if x0 <= x1 and y0 <= y1:
            d.rectangle([x0, y0, x1, y1], fill=colour)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(png_bytes(img))
    return out_path
