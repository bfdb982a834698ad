"""The redaction check: a fresh OCR of each redacted screenshot, its text passed through the de-identification gate.

A redacted image is only safe if nobody can read a name in it, so the screenshots stage does not trust its own
boxes: after writing ``redacted/ID.png`` it reads the image again with the same OCR engine (a new detection of the
text lines and a new recognition of each) and hands every line it reads to :class:`compendium.deid.Gate`. One
identifier read is one too many: the stage stops with a line naming the page, and no output is moved into place.

What is re-read. Redaction changes pixels only inside its boxes, so a full-page re-read would spend most of its
time reading lines whose pixels are the capture's own, whose first reading the gate has already passed. The check
re-reads every **band** of the redacted page that held an identifier in the first reading or that a box touched
(:func:`bands`: the full width of the page, from half a line above to half a line below each box's line, bands
that overlap merged), stacked into one image (:func:`collage`) and read with a fresh detection and recognition: this is where a box that is too small, misplaced or
missing leaves something readable. Where no identifier was found and no box was drawn the bytes are those of the
capture, and the first reading of them is what the check would find again. ``mode="page"`` (the notebook
parameter ``reread=page``) re-reads whole pages instead; tests/test_reread.py compares the two on committed pages.

Because the bands come from what the first reading found, not from what was filled, a run whose redaction is
switched off (or fills nothing) is stopped: the names are still there when the bands are read again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from compendium import deid, layout, ocr

MODES = ("bands", "page")


def line_box(box) -> tuple[int, int, int, int]:
    """The OCR line a redaction request belongs to: ``line_box`` of a span request (see :mod:`compendium.redact`),
    else the box itself (``[x0, y0, x1, y1]``)."""
    b = getattr(box, "line_box", None)
    if b is None and isinstance(box, dict):
        b = box.get("line_box")
    b = box if b is None else b
    return tuple(int(v) for v in b[:4])


def bands(boxes, height: int) -> list[tuple[int, int]]:
    """Horizontal bands ``(y0, y1)`` of a page to re-read: each box's line, half a line up and down, merged."""
    spans = []
    for b in boxes:
        _, y0, _, y1 = line_box(b)
        pad = max(4, (y1 - y0) // 2 + 2)
        spans.append((max(0, y0 - pad), min(height, y1 + pad)))
    merged: list[list[int]] = []
    for y0, y1 in sorted(spans):
        if merged and y0 <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], y1)
        else:
            merged.append([y0, y1])
    return [(a, b) for a, b in merged if b - a >= 8]


def read_lines(arr: np.ndarray, engine: str = "rapidocr", cache_dir=None) -> list[dict]:
    """An OCR of an RGB array: its lines (``layout.group_lines``). With ``cache_dir`` the reading is cached by the
    array's bytes like any other (the same pixels read the same; the gate is applied afresh to it every time)."""
    return layout.group_lines(ocr.read_words(np.ascontiguousarray(arr), engine=engine, cache_dir=cache_dir))


def hits(lines: list[dict], gate: deid.Gate) -> list[dict]:
    """What the gate finds on each line: ``[{y0, y1, kind, masked}]`` (the identifier itself never leaves)."""
    out = []
    for ln in lines:
        text = " ".join(layout.normalise(p["text"]) for p in ln["parts"])
        for a, b, kind in gate.spans(text):
            out.append({"y0": int(ln["y0"]), "y1": int(ln["y1"]), "kind": kind, "masked": deid.mask(text[a:b])})
    return out


def collage(arr: np.ndarray, spans: list[tuple[int, int]]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The bands of a page stacked into one image, a blank gap (the page's background colour) between them, padded
    at the bottom to at least the page's width, so that the OCR engine reads it as it reads a page (its text
    detector scales an image by its shorter side). Returns the image and ``(collage_y, page_y)`` of each band."""
    bg = np.array([ocr.median_u8(p) for p in ocr._planes(arr)], dtype=np.uint8)
    gap = 24
    parts, where, y = [], [], 0
    for y0, y1 in spans:
        parts += [arr[y0:y1], np.broadcast_to(bg, (gap, arr.shape[1], 3))]
        where.append((y, y0))
        y += (y1 - y0) + gap
    if y < arr.shape[1]:
        parts.append(np.broadcast_to(bg, (arr.shape[1] - y, arr.shape[1], 3)))
    return np.ascontiguousarray(np.concatenate(parts)), where


def _page_y(y: int, where: list[tuple[int, int]]) -> int:
    cy, py = max(((c, p) for c, p in where if c <= y), default=(0, 0))
    return py + (y - cy)


def check_image(path, boxes, gate: deid.Gate, engine: str = "rapidocr", mode: str = "bands",
                cache_dir=None) -> list[dict]:
    """Re-read the redacted image at ``path`` (its bands, or the whole page) and return the gate's hits, each
    with the ``y0, y1`` of its line on the page."""
    if mode not in MODES:
        raise ValueError(f"unknown re-read mode {mode!r}; choose from {', '.join(MODES)}")
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"))
    if mode == "page":
        return hits(read_lines(arr, engine, cache_dir), gate)
    spans = bands(boxes, arr.shape[0])
    if not spans:
        return []
    img, where = collage(arr, spans)
    found = hits(read_lines(img, engine, cache_dir), gate)
    for h in found:
        h["y0"], h["y1"] = _page_y(h["y0"], where), _page_y(h["y1"], where)
    return found


def describe(screenshot_id: str, found: list[dict]) -> str:
    """One line for a page that failed the check."""
    kinds = sorted({h["kind"] for h in found})
    first = found[0]
    return (f"redaction check failed: a fresh OCR of redacted/{screenshot_id}.png still reads {len(found)} "
            f"identifier(s) ({', '.join(kinds)}; e.g. '{first['masked']}' at y={first['y0']}); no output was "
            "written")


def redacted_path(out_dir, screenshot_id: str) -> Path:
    return Path(out_dir) / "redacted" / f"{screenshot_id}.png"
