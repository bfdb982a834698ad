"""Fill identifier boxes in a screenshot with solid boxes and write the PNG deterministically.

OCR gives one box per text line (or per run of text). Where only part of a line identifies someone
(a name mentioned in a sentence), the horizontal position of characters ``[start, end)`` inside the
line box is estimated from character offsets (proportional to the number of characters), then padded
by about a character on each side, so that small estimation errors still cover the whole name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from compendium.render import png_bytes


def span_box(box, text: str, start: int, end: int, pad_chars: float = 1.0) -> list[int]:
    """Estimate the box of characters ``text[start:end]`` inside the line box ``[x0, y0, x1, y1]``."""
    x0, y0, x1, y1 = box
    n = max(1, len(text))
    cw = (x1 - x0) / n
    a = x0 + cw * (start - pad_chars)
    b = x0 + cw * (end + pad_chars)
    return [int(max(x0 - cw, a)), int(y0), int(min(x1 + cw, b)) + 1, int(y1)]


def fill_colour(img: Image.Image) -> tuple[int, int, int]:
    """Black on light captures, light grey on dark ones (the box must stand out from the background)."""
    arr = np.asarray(img.convert("L"))
    return (0, 0, 0) if float(np.median(arr)) >= 128 else (200, 200, 200)


def redact_image(image_path, boxes, out_path) -> Path:
    """Write a copy of ``image_path`` with every box ``[x0, y0, x1, y1]`` filled solid, to ``out_path``."""
    from .ocr import upright

    with Image.open(image_path) as im:
        img = upright(im).convert("RGB")   # the pixels only: a JPEG's EXIF (camera, place, time) is not copied
    colour = fill_colour(img)
    d = ImageDraw.Draw(img)
    for x0, y0, x1, y1 in sorted(tuple(int(v) for v in b) for b in boxes):
        pad = max(2, (y1 - y0) // 8)
        d.rectangle([max(0, x0 - pad), max(0, y0 - pad), min(img.width - 1, x1 + pad),
                     min(img.height - 1, y1 + pad)], fill=colour)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(png_bytes(img))
    return out_path
