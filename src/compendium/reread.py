"""The redaction check: the screenshots stage reads what it redacted again, and passes the text through the gate.

A redacted image is only safe if nobody can read a name in it, so the stage does not trust its own boxes: after
writing ``redacted/ID.png`` it reads the image again with the same OCR engine and hands the text to
:class:`compendium.deid.Gate`. One identifier read is one too many: the stage stops with a line naming the page,
and nothing is moved into place.

What is read again (``mode``, the notebook parameter ``reread``):

- ``boxes`` (the default): every place where the first reading found an identifier, measured on the capture's own
  pixels as the redactor measures it (:func:`regions`: the identifier's glyph run, widened by about two
  characters each side, neighbouring places on a line joined), read from the **redacted** image by the
  recogniser (:func:`compendium.ocr.read_regions`). This is where a box that is too small, misplaced, turned or
  missing leaves a name readable. Everywhere else the redacted page's pixels are the capture's own, whose first
  reading the gate has already passed.
- ``page``: a fresh OCR of the whole redacted page (detection and recognition), about as long as the first reading.

Because the places come from what the first reading *found*, not from what was filled, a run whose redaction is
switched off (or fills the wrong places) is stopped: the names are still there when those places are read again
(tests/test_reread.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from compendium import deid, layout, ocr, redact

MODES = ("boxes", "page")


def regions(boxes, measured) -> list[list[int]]:
    """Where to read again: for each redaction request, its box as measured on the capture's pixels (``measured``,
    :func:`compendium.redact.measure_boxes`) joined with the estimate from character counts (so that a measurement
    gone wrong cannot move the place away from the name), widened by about two characters (one line height) each
    side and a quarter of a line up and down; places that overlap on a line are joined."""
    out: list[list[int]] = []
    for b, (x0, y0, x1, y1) in zip(boxes, measured):
        if isinstance(b, redact.Span):
            ex0, ey0, ex1, ey1 = redact.span_box(b.line_box, b.text, b.start, b.end)
            if min(y1, ey1) > max(y0, ey0):  # the same line: one place
                x0, y0, x1, y1 = min(x0, ex0), min(y0, ey0), max(x1, ex1), max(y1, ey1)
        h = max(8, y1 - y0)
        r = [max(0, x0 - h), max(0, y0 - h // 4), x1 + h, y1 + h // 4]
        for o in out:
            same_line = min(o[3], r[3]) - max(o[1], r[1]) > 0.5 * min(o[3] - o[1], r[3] - r[1])
            if same_line and r[0] <= o[2] and o[0] <= r[2]:
                o[:] = [min(o[0], r[0]), min(o[1], r[1]), max(o[2], r[2]), max(o[3], r[3])]
                break
        else:
            out.append(r)
    return sorted(out, key=lambda b: (b[1], b[0]))


def hits(texts, gate: deid.Gate, where=None) -> list[dict]:
    """What the gate finds in each text read: ``[{y0, y1, kind, masked}]`` (the identifier itself never leaves);
    ``where`` gives each text's box on the page (for the message)."""
    out = []
    for k, text in enumerate(texts):
        text = layout.normalise(text)
        y0, y1 = (where[k][1], where[k][3]) if where is not None else (0, 0)
        for a, b, kind in gate.spans(text):
            out.append({"y0": int(y0), "y1": int(y1), "kind": kind, "masked": deid.mask(text[a:b])})
    return out


def page_array(path) -> np.ndarray:
    """The page at ``path`` as an RGB array, upright (a JPEG's EXIF orientation applied, as for OCR and redaction)."""
    with Image.open(path) as im:
        return np.asarray(ocr.upright(im).convert("RGB"))


def check_image(
    redacted, places, gate: deid.Gate, engine: str = "rapidocr", mode: str = "boxes", cache_dir=None
) -> list[dict]:
    """Read the redacted image again (``places``, from :func:`regions`, or the whole page) and return the gate's
    hits, each with the ``y0, y1`` of where it was read."""
    if mode not in MODES:
        raise ValueError(f"unknown re-read mode {mode!r}; choose from {', '.join(MODES)}")
    arr = page_array(redacted)
    if mode == "page":
        lines = layout.group_lines(ocr.read_words(arr, engine=engine, cache_dir=cache_dir))
        return hits(
            [" ".join(p["text"] for p in ln["parts"]) for ln in lines],
            gate,
            [(ln["x0"], ln["y0"], ln["x1"], ln["y1"]) for ln in lines],
        )
    return hits(ocr.read_regions(arr, places, engine), gate, places)


def redact_and_check(
    image_path, boxes, out_path, gate: deid.Gate, engine: str = "rapidocr", mode: str = "boxes", cache_dir=None
) -> list[dict]:
    """Redact one page (the boxes measured once on its pixels) and read the written image again: the gate's hits."""
    original = page_array(image_path)
    measured = redact.measure_boxes(original, boxes)
    redact.redact_image(original, sorted({tuple(b) for b in measured}), out_path)
    return check_image(out_path, regions(boxes, measured), gate, engine=engine, mode=mode, cache_dir=cache_dir)


def describe(screenshot_id: str, found: list[dict]) -> str:
    """One line for a page that failed the check."""
    kinds = sorted({h["kind"] for h in found})
    first = found[0]
    return (
        f"redaction check failed: a fresh OCR of redacted/{screenshot_id}.png still reads {len(found)} "
        f"identifier(s) ({', '.join(kinds)}; e.g. '{first['masked']}' at y={first['y0']}); no output was "
        "written"
    )


def redacted_path(out_dir, screenshot_id: str) -> Path:
    return Path(out_dir) / "redacted" / f"{screenshot_id}.png"
