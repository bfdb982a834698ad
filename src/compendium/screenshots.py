"""The screenshots stage: private screenshots + roster -> de-identified posts, threads, OCR quality.

    process(screenshot_dir, roster_path, out_dir, transcribed_path=None, engine="rapidocr", jobs=1,
            cache_dir=None) -> {"posts", "threads", "ocr_quality", "review"}

Steps: OCR every ``WITI-NNN.png`` (in parallel over ``jobs`` processes, cached by image hash) ->
layout (posts on each page; one indentation model for the corpus; threads across pages) ->
pseudonyms (authors and mentions -> roster pseudonyms; unknown names masked and listed for review)
-> redaction (solid boxes over names, handles and mentions) -> tables. With a hand transcription
(``transcribed.csv``) the OCR is scored per screenshot: character error rate of post text, author
and depth accuracy, posts expected and found.

Written into ``out_dir``: ``posts.csv``, ``threads.csv``, ``ocr_quality.csv`` (if a transcription is
given) and ``redacted/WITI-NNN.png``. The ``review`` table is returned, not written: it is about
identifiable material (its ``original`` column is masked to initials unless ``show_originals``).
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from compendium import layout, ocr, pseudonyms, redact
from compendium.errors import InputError
from compendium.tables import read_csv, write_csv

POST_COLUMNS = ["post_id", "screenshot_id", "post_index", "depth", "parent_post_id", "thread_id", "author",
                "badge", "timestamp", "text", "reactions", "replies", "ocr_confidence", "boxes"]
THREAD_COLUMNS = ["thread_id", "root_post_id", "screenshot_ids", "n_posts", "n_replies", "max_depth",
                  "n_authors", "reactions"]
QUALITY_COLUMNS = ["screenshot_id", "posts_expected", "posts_found", "cer", "author_accuracy",
                   "depth_accuracy"]
REVIEW_COLUMNS = ["post_id", "field", "masked", "original"]
TRANSCRIBED_COLUMNS = ["screenshot_id", "post_index", "depth", "author", "timestamp", "text", "reactions"]
_SID = re.compile(r"^WITI-\d{3,}$")


def list_screenshots(screenshot_dir) -> list[Path]:
    d = Path(screenshot_dir)
    if not d.is_dir():
        raise InputError("screenshot directory not found", d)
    files = sorted(p for p in d.glob("*.png") if _SID.match(p.stem))
    if not files:
        raise InputError("no screenshots named WITI-NNN.png", d)
    return files


def _ocr_one(args) -> tuple[str, pd.DataFrame, int]:
    path, engine, cache_dir = args
    words = ocr.read_words(path, engine=engine, cache_dir=cache_dir)
    from PIL import Image

    with Image.open(path) as im:
        width = im.width
    return str(path), words, width


def read_all(files: list[Path], engine: str = "rapidocr", jobs: int = 1, cache_dir=None):
    """OCR every file; returns [(path, words, width)] in file order. Validates files first."""
    for f in files:
        ocr.load_image(f)  # InputError early, naming the bad file
    args = [(str(f), engine, None if cache_dir is None else str(cache_dir)) for f in files]
    if jobs <= 1 or len(files) == 1:
        return [_ocr_one(a) for a in args]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_ocr_one, args, chunksize=1))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _mask(s: str) -> str:
    return " ".join(w[0] + "*" * (len(w) - 1) for w in str(s).split())


def _part_spans(parts: list[dict], spans: list[tuple[int, int]]) -> list[list[int]]:
    """Boxes covering character spans of the text made by joining ``parts`` with single spaces."""
    boxes, pos = [], 0
    for part in parts:
        t = layout.normalise(part["text"])
        a0, a1 = pos, pos + len(t)
        for s, e in spans:
            lo, hi = max(s, a0), min(e, a1)
            if lo < hi:
                boxes.append(redact.span_box([part["x0"], part["y0"], part["x1"], part["y1"]], t, lo - a0, hi - a0))
        pos = a1 + 1
    return boxes


def _header_name_end(parts: list[dict]) -> int:
    text = " ".join(layout.normalise(p["text"]) for p in parts)
    m = layout.HEADER_RE.match(text)
    left = m.group("left") if m else text
    for b in layout.BADGES:
        mm = re.search(rf"[\W_]*{b}[\W_]*$", left, flags=re.IGNORECASE)
        if mm:
            left = left[:mm.start()]
    return len(left.rstrip())


def identifier_boxes(post: dict, roster) -> list[list[int]]:
    """Boxes of the author's name and handle in the header and of mentions in the body."""
    boxes = []
    if post["author_raw"] and pseudonyms.match_author(post["author_raw"], roster)[0] != pseudonyms.ANONYMOUS:
        boxes += _part_spans(post["header_parts"], [(0, _header_name_end(post["header_parts"]))])
    lines = post["body_lines"]
    joined, offsets, pos = [], [], 0
    for ln in lines:
        t = " ".join(layout.normalise(p["text"]) for p in ln["parts"])
        joined.append(t)
        offsets.append(pos)
        pos += len(t) + 1
    spans = pseudonyms.identifier_spans(" ".join(joined), roster)
    for ln, off, t in zip(lines, offsets, joined):
        local = [(max(0, s - off), min(len(t), e - off)) for s, e in spans if s < off + len(t) and e > off]
        boxes += _part_spans(ln["parts"], local)
    return boxes


def score(posts: pd.DataFrame, transcribed: pd.DataFrame, roster) -> pd.DataFrame:
    """Per screenshot: posts expected/found, CER of post text, author and depth accuracy.

    Posts are aligned by ``post_index``. CER = summed edit distance / summed reference length (an
    expected post that was not found counts its whole length). Authors are compared after
    pseudonymisation of both sides; posts not found count as wrong.
    """
    rows = []
    for sid, exp in transcribed.groupby("screenshot_id", sort=True):
        got = posts[posts["screenshot_id"] == sid].set_index("post_index")
        dist = ref = auth = dep = 0
        for r in exp.itertuples(index=False):
            idx = int(r.post_index)
            ref_text = layout.normalise(r.text)
            ref += len(ref_text)
            if idx not in got.index:
                dist += len(ref_text)
                continue
            g = got.loc[idx]
            dist += edit_distance(layout.normalise(g["text_raw"]), ref_text)
            auth += pseudonyms.match_author(r.author, roster)[0] == g["author"]
            dep += int(r.depth) == int(g["depth"])
        n = len(exp)
        rows.append({"screenshot_id": sid, "posts_expected": n, "posts_found": len(got),
                     "cer": round(dist / ref, 6) if ref else 0.0,
                     "author_accuracy": round(auth / n, 6), "depth_accuracy": round(dep / n, 6)})
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)


def summarise_quality(quality: pd.DataFrame, transcribed: pd.DataFrame | None = None) -> dict:
    """Corpus-level figures for the SPEC 6 bars (post-weighted author/depth accuracy)."""
    n = quality["posts_expected"].astype(int)
    out = {
        "screenshots": len(quality),
        "count_exact": round(float((quality["posts_expected"].astype(int) == quality["posts_found"].astype(int)).mean()), 6),
        "author_accuracy": round(float((quality["author_accuracy"].astype(float) * n).sum() / n.sum()), 6),
        "depth_accuracy": round(float((quality["depth_accuracy"].astype(float) * n).sum() / n.sum()), 6),
    }
    if transcribed is not None:
        lens = transcribed.groupby("screenshot_id")["text"].apply(lambda s: sum(len(layout.normalise(t)) for t in s))
        q = quality.set_index("screenshot_id")
        lens = lens.reindex(q.index)
        out["cer"] = round(float((q["cer"].astype(float) * lens).sum() / lens.sum()), 6)
    else:
        out["cer_mean"] = round(float(quality["cer"].astype(float).mean()), 6)
    return out


def process(screenshot_dir, roster_path, out_dir, transcribed_path=None, engine: str = "rapidocr", jobs: int = 1,
            cache_dir=None, show_originals: bool = False) -> dict[str, pd.DataFrame]:
    """Run the screenshots stage; see the module docstring."""
    files = list_screenshots(screenshot_dir)
    roster = pseudonyms.load_roster(roster_path)
    transcribed = None
    if transcribed_path is not None:
        transcribed = read_csv(transcribed_path)
        missing = [c for c in TRANSCRIBED_COLUMNS if c not in transcribed.columns]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", transcribed_path, 1)
    results = read_all(files, engine=engine, jobs=jobs, cache_dir=cache_dir)

    pages = []
    for (path, words, width) in results:
        posts = layout.parse_page(words, width)
        if not posts:
            raise InputError("no readable post in screenshot", path)
        pages.append((Path(path).stem, posts))
    layout.assign_depths([p for _, p in pages])
    stream, thread_rows = layout.link_threads(pages)

    review = []
    rows = []
    redact_boxes: dict[str, list] = {}
    for p in stream:
        p["author_raw"] = p["author"]
        pseudo, _ = pseudonyms.match_author(p["author"], roster)
        if pseudo == pseudonyms.UNKNOWN:
            review.append({"post_id": p["post_id"], "field": "author", "masked": pseudo,
                           "original": p["author"] if show_originals else _mask(p["author"])})
        text, items = pseudonyms.pseudonymise_text(p["text"], roster)
        for it in items:
            review.append({"post_id": p["post_id"], "field": "mention", "masked": it["masked"],
                           "original": it["original"] if show_originals else _mask(it["original"])})
        redact_boxes.setdefault(p["screenshot_id"], []).extend(identifier_boxes(p, roster))
        rows.append({
            "post_id": p["post_id"], "screenshot_id": p["screenshot_id"], "post_index": p["post_index"],
            "depth": p["depth"], "parent_post_id": p["parent_post_id"], "thread_id": p["thread_id"],
            "author": pseudo, "badge": p["badge"], "timestamp": p["timestamp"], "text": text,
            "reactions": "" if p["reactions"] is None else int(p["reactions"]), "replies": int(p["replies"]),
            "ocr_confidence": round(float(p["confidence"]), 6),
            "boxes": json.dumps(p["boxes"], separators=(",", ":")), "text_raw": p["text"],
        })
    posts = pd.DataFrame(rows, columns=POST_COLUMNS + ["text_raw"])
    threads = pd.DataFrame(thread_rows, columns=THREAD_COLUMNS)
    quality = score(posts, transcribed, roster) if transcribed is not None else pd.DataFrame(columns=QUALITY_COLUMNS)
    review_df = pd.DataFrame(review, columns=REVIEW_COLUMNS)

    out_dir = Path(out_dir)
    for path, _, _ in results:
        sid = Path(path).stem
        redact.redact_image(path, redact_boxes.get(sid, []), out_dir / "redacted" / f"{sid}.png")
    posts = posts.drop(columns=["text_raw"])
    write_csv(posts, out_dir / "posts.csv")
    write_csv(threads, out_dir / "threads.csv")
    if transcribed is not None:
        write_csv(quality, out_dir / "ocr_quality.csv")
    return {"posts": posts, "threads": threads, "ocr_quality": quality, "review": review_df}
