"""The commit stamp on the report's copies of the figures.

A figure committed under ``data/derived/figures`` cannot name the commit that contains it (the commit's hash
depends on the figure's bytes), so the committed figures carry what *can* be fixed in them: the codebook version,
the raw manifest and the compendium version (:mod:`compendium.figures`). The report site is not committed, so its
copies of the figures (``reports/figures/``) carry, in a band added under each, the commit of the code that ran
(:func:`compendium.provenance.git_commit`) beside the codebook version: a figure saved from the report, or pasted
into a slide, still says where it came from.

The band is added below the figure; nothing of the figure is redrawn or covered. PNG copies keep the stamp in a
text chunk too (``Stamp``), so :func:`stamp_of` reads it back and a copy is rewritten only when its source or its
stamp changed (a rerun with nothing changed rewrites nothing).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

STAMP_KEY = "Stamp"  # the PNG text chunk holding the stamp
BAND_COLOUR = (255, 255, 255, 255)
TEXT_COLOUR = (85, 85, 85, 255)  # #555: 7.5:1 on white


def stamp_text(commit: str, codebook_version: str | None, tree: str | None = None) -> str:
    """The stamp's one line: ``Report copy · commit <hash> · codebook <version>``, either said unknown when it is,
    and the commit marked when the working tree had uncommitted changes (``tree``, from
    :func:`compendium.provenance.working_tree`)."""
    from .provenance import NOT_A_CHECKOUT, TREE_CHANGED

    c = f"commit {commit}" if commit and commit != NOT_A_CHECKOUT else "commit unknown (not a git checkout)"
    if tree == TREE_CHANGED and commit != NOT_A_CHECKOUT:
        c += " + uncommitted changes"
    v = f"codebook {codebook_version}" if codebook_version else "codebook version unknown"
    return f"Report copy · {c} · {v}"


def _font(size: int):
    from matplotlib import font_manager
    from PIL import ImageFont

    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"), fallback_to_default=True)
    return ImageFont.truetype(path, size)


def stamp_png(src: Path, dst: Path, text: str) -> None:
    """``dst``: the PNG ``src`` with a white band below it holding ``text`` (and ``text`` in a ``Stamp`` chunk).
    The band's height and the type size follow the image's width, so the stamp reads at the size the report
    shows the figure."""
    from PIL import Image, ImageDraw
    from PIL.PngImagePlugin import PngInfo

    with Image.open(src) as im:
        im.load()
        base = im.convert("RGBA")
        dpi = im.info.get("dpi")
    size = max(11, round(base.width / 90))
    font = _font(size)
    band = round(size * 2.0)
    out = Image.new("RGBA", (base.width, base.height + band), BAND_COLOUR)
    out.paste(base, (0, 0))
    draw = ImageDraw.Draw(out)
    draw.text((round(size * 1.1), base.height + (band - size) // 2), text, font=font, fill=TEXT_COLOUR)
    info = PngInfo()
    info.add_text(STAMP_KEY, text)
    kwargs = {"pnginfo": info}
    if dpi:
        kwargs["dpi"] = dpi
    dst.parent.mkdir(parents=True, exist_ok=True)
    out.save(dst, format="PNG", optimize=False, **kwargs)


_ROOT_TAG = re.compile(r"<svg\b[^>]*>", re.S)
_LENGTH = re.compile(r"^\s*([0-9.]+)\s*([a-z%]*)\s*$")


def stamp_svg(src: Path, dst: Path, text: str) -> None:
    """``dst``: the SVG ``src`` made taller by a band holding ``text`` (a white rectangle and a ``<text>``
    element, with the stamp also in a ``<desc id="witi-stamp">``). Needs the root ``<svg>`` to give its height
    and a ``viewBox`` (matplotlib's always do); anything else is refused with a ValueError naming the file."""
    svg = Path(src).read_text(encoding="utf-8")
    m = _ROOT_TAG.search(svg)
    if m is None:
        raise ValueError(f"{src}: no <svg> root element")
    tag = m.group(0)
    vb = re.search(r'viewBox="([^"]+)"', tag)
    h = re.search(r'\sheight="([^"]+)"', tag)
    hm = _LENGTH.match(h.group(1)) if h else None
    if not (vb and hm):
        raise ValueError(f"{src}: the <svg> root gives no height and viewBox to add the stamp's band to")
    x0, y0, w, vh = (float(v) for v in vb.group(1).replace(",", " ").split())
    size = max(7.0, w / 90)
    band = size * 2.0
    height = float(hm.group(1))
    new_height = height * (vh + band) / vh
    new_tag = tag.replace(vb.group(0), f'viewBox="{_num(x0)} {_num(y0)} {_num(w)} {_num(vh + band)}"', 1)
    new_tag = new_tag.replace(h.group(0), f' height="{_num(new_height)}{hm.group(2)}"', 1)
    esc = html.escape(text)
    y = y0 + vh
    band_svg = (
        f'<desc id="witi-stamp">{esc}</desc>'
        f'<rect x="{_num(x0)}" y="{_num(y)}" width="{_num(w)}" height="{_num(band)}" fill="#ffffff"/>'
        f'<text x="{_num(x0 + size * 1.1)}" y="{_num(y + band / 2 + size * 0.35)}" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="{_num(size)}" fill="#555555">{esc}</text>\n'
    )
    end = svg.rfind("</svg>")
    out = svg[: m.start()] + new_tag + svg[m.end() : end] + band_svg + svg[end:]
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(out, encoding="utf-8")


def _num(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".")


def stamp_of(path: Path) -> str | None:
    """The stamp a copy carries (the PNG's ``Stamp`` chunk, or the SVG's ``witi-stamp`` description), or None."""
    path = Path(path)
    if not path.is_file():
        return None
    if path.suffix.lower() == ".png":
        from PIL import Image

        with Image.open(path) as im:
            return im.info.get(STAMP_KEY)
    m = re.search(r'<desc id="witi-stamp">([^<]*)</desc>', path.read_text(encoding="utf-8"))
    return html.unescape(m.group(1)) if m else None


def stamped_copy(src: Path, dst: Path, text: str) -> Path:
    """Write ``dst`` as a stamped copy of ``src`` (PNG or SVG) unless it already is one, with the same stamp and
    no older than its source; returns ``dst``."""
    src, dst = Path(src), Path(dst)
    if dst.is_file() and os.path.getmtime(dst) >= os.path.getmtime(src) and stamp_of(dst) == text:
        return dst
    if src.suffix.lower() == ".png":
        stamp_png(src, dst, text)
    elif src.suffix.lower() == ".svg":
        stamp_svg(src, dst, text)
    else:
        raise ValueError(f"{src}: only PNG and SVG figures are stamped")
    return dst
