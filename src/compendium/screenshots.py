"""The screenshots stage: private screenshots + roster -> de-identified posts, threads, OCR quality.

    process(screenshot_dir, roster_path, out_dir, transcribed_path=None, engine="rapidocr", jobs=1,
            cache_dir=None) -> {"posts", "threads", "ocr_quality", "review", "post_quality"}

Steps: find the screenshots (:func:`find_screenshots`: every PNG or JPEG, ids from ``screenshots.csv`` or the file
names) and validate each (headers first, then each page's pixels as it is read: a bad file stops the run, named in the error, before anything is written) -> OCR (in parallel over ``jobs`` processes, cached by image hash; a page without a readable post
stops the run) -> layout (posts on each page; one indentation model for the corpus; threads across pages) ->
pseudonyms (authors and mentions -> roster pseudonyms; unknown names masked and listed for review) -> redaction
(solid boxes over names, handles and mentions) -> tables. With a hand transcription (``transcribed.csv``) the
OCR is scored per screenshot: character error rate of post text, author and depth accuracy, posts expected and
found; and per post (``post_quality``, returned, not written).

Written into ``out_dir``: ``posts.csv``, ``threads.csv``, ``ocr_quality.csv`` (if a transcription is given) and
``redacted/ID.png`` (always PNG, pixels only: a JPEG's EXIF metadata is not copied). The ``review`` table is returned, not written: it is about identifiable material (its
``original`` column is masked to initials unless ``show_originals``).

Provenance: :func:`worst_posts` picks the worst-read posts and :func:`crop_post` cuts a post's region (from the
``boxes`` column) out of its **redacted** screenshot, so a notebook can show where a quote comes from without
showing anyone's name.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
from collections import deque
from dataclasses import dataclass
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from rapidfuzz.distance import Levenshtein

from compendium import deid, layout, ocr, progress, pseudonyms, redact, reread
from compendium.errors import InputError
from compendium.files import read_text
from compendium.tables import write_csv

POST_COLUMNS = [
    "post_id",
    "screenshot_id",
    "post_index",
    "depth",
    "parent_post_id",
    "thread_id",
    "author",
    "badge",
    "timestamp",
    "text",
    "reactions",
    "replies",
    "ocr_confidence",
    "boxes",
]
THREAD_COLUMNS = [
    "thread_id",
    "root_post_id",
    "screenshot_ids",
    "n_posts",
    "n_replies",
    "max_depth",
    "n_authors",
    "reactions",
]
QUALITY_COLUMNS = [
    "screenshot_id",
    "posts_expected",
    "posts_found",
    "cer",
    "author_accuracy",
    "depth_accuracy",
    "chrome_lines",
    "unassigned_lines",
]
LINE_COLUMNS = ["screenshot_id", "line", "x0", "y0", "x1", "y1", "role", "kind", "post_id", "chars", "ocr_confidence"]
REVIEW_COLUMNS = ["post_id", "field", "masked", "original"]
POST_QUALITY_COLUMNS = ["post_id", "screenshot_id", "post_index", "found", "cer", "author_ok", "depth_ok"]
TRANSCRIBED_COLUMNS = ["screenshot_id", "post_index", "depth", "author", "timestamp", "text", "reactions"]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SCREENSHOTS_CSV = "screenshots.csv"
#: What a screenshot id may hold: it names the page in posts.csv (``ID#3`` is its third post) and the redacted
#: image (``redacted/ID.png``), so no spaces, no ``#`` and no path separators.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


@dataclass(frozen=True)
class Screenshot:
    screenshot_id: str
    path: Path


def _natural(name: str):
    """Sort key in which runs of digits count as numbers: IMG_998 before IMG_2041."""
    return [(0, int(t), t) if t.isdigit() else (1, 0, t.lower()) for t in re.findall(r"\d+|\D+", name)]


def id_from_stem(stem: str) -> str:
    """The screenshot id of a file without a ``screenshots.csv`` row: its stem, with every run of characters other
    than letters, digits, ``.``, ``_`` and ``-`` replaced by ``-`` (``Screenshot 2023-03-12 at 21.14`` ->
    ``Screenshot-2023-03-12-at-21.14``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")


def find_screenshots(screenshot_dir) -> list[Screenshot]:
    """The screenshots of a study, in reading order, each with its id.

    Images are every ``*.png``, ``*.jpg`` and ``*.jpeg`` (any case) in the folder. With a ``screenshots.csv``
    (``file, screenshot_id[, captured_at]``), each image must have a row, the ids are taken from it, and its rows
    give the reading order; without one, the id is :func:`id_from_stem` of the file name and the order is the
    file names' natural order (``IMG_998`` before ``IMG_2041``; the committed ``WITI-001.png`` .. in order).
    An id must be unique and match :data:`SAFE_ID`: one line naming the file (and row) otherwise, exit 2.
    """
    d = Path(screenshot_dir)
    if not d.is_dir():
        raise InputError("screenshot directory not found", d)
    images = {p.name: p for p in d.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}
    index = d / SCREENSHOTS_CSV
    shots: list[Screenshot] = []
    seen: dict[str, str] = {}

    def add(sid: str, path: Path, where, line=None) -> None:
        if not SAFE_ID.match(sid):
            raise InputError(
                f"screenshot id '{sid}' of {path.name} is not usable (letters, digits, '.', '_', '-'; "
                "at most 80; give it an id in screenshots.csv)",
                where,
                line,
            )
        key = sid.lower()
        if key in seen:
            raise InputError(f"screenshot id '{sid}' of {path.name} is also the id of {seen[key]}", where, line)
        seen[key] = path.name
        shots.append(Screenshot(sid, path))

    if index.is_file():
        from .files import read_csv_records

        header, hline, records = read_csv_records(index, "screenshots index (screenshots.csv)")
        if header is None or not {"file", "screenshot_id"} <= set(header):
            raise InputError("expected the columns file, screenshot_id (and optionally captured_at)", index, hline)
        col = {c: header.index(c) for c in ("file", "screenshot_id")}
        for line, fields in records:
            fields = [f.strip() for f in fields] + [""] * (len(header) - len(fields))
            name, sid = fields[col["file"]], fields[col["screenshot_id"]]
            if name not in images:
                raise InputError(f"no image file '{name}' in {d.name}/", index, line)
            add(sid, images.pop(name), index, line)
        if images:
            raise InputError(f"{sorted(images, key=_natural)[0]} has no row in {SCREENSHOTS_CSV}", index)
    else:
        for name in sorted(images, key=_natural):
            add(id_from_stem(Path(name).stem), images[name], images[name])
    if not shots:
        raise InputError("no screenshots (*.png, *.jpg or *.jpeg)", d)
    return shots


def list_screenshots(screenshot_dir) -> list[Path]:
    """The image files of :func:`find_screenshots`, in reading order."""
    return [s.path for s in find_screenshots(screenshot_dir)]


def check_image(path) -> int:
    """Validate one screenshot before any OCR: readable, a PNG, not too large, not truncated, not blank. Returns
    its width.

    InputError names the file and the reason (empty file, not a PNG, too large - more than
    :data:`compendium.ocr.MAX_PIXELS`, checked from the header before decoding: a decompression bomb -, corrupt
    or truncated, too small, blank).
    """
    return int(load_page(path)[0].shape[1])


def load_page(path) -> tuple:
    """The screenshot decoded and validated (:func:`check_image`): ``(RGB array, file bytes)``."""
    arr, data = ocr.load_image(path)
    if not ocr.has_ink(arr):
        raise InputError("blank image: nothing is drawn on it, so there is no post to read", path)
    return arr, data


def _ocr_one(args) -> tuple[str, pd.DataFrame, int]:
    """Validate one page (:func:`check_image`, on the pixels it decodes once) and read it."""
    path, engine, cache_dir = args
    arr, data = load_page(path)
    words = ocr.read_words(path, engine=engine, cache_dir=cache_dir, loaded=(arr, data))
    return str(path), words, int(arr.shape[1])


def iter_read(files: list[Path], engine: str = "rapidocr", jobs: int = 1, cache_dir=None, pool=None):
    """OCR every file, yielding ``(path, words, width)`` in file order.

    Every file's header is checked first (:func:`compendium.ocr.check_header`: not an image, empty, a
    decompression bomb), so such a file stops the run before any OCR, named in the error; each page is then
    validated as it is read (:func:`check_image`: corrupt, truncated, blank), and a bad one stops the run when
    its turn comes, before anything is written. OCR runs over ``jobs`` processes (or the given ``pool``);
    results come back in file order, and a consumer that stops early (a page without a readable post) leaves
    the rest unread (at most ``2 * jobs`` pages are in flight).
    """
    files = [Path(f) for f in files]
    args = [(str(f), engine, None if cache_dir is None else str(cache_dir)) for f in files]
    ocr.check_engine(engine)
    for f in files:
        ocr.check_header(f)
    if pool is None and (jobs <= 1 or len(files) == 1):
        for a in args:
            page = _ocr_one(a)
            progress.step("OCR", len(files))  # a bar on the runner's terminal (compendium.progress)
            yield page
        return
    own = pool is None
    pool = pool or ProcessPoolExecutor(max_workers=min(jobs, len(files)))
    try:
        # a window of 2 x jobs pages in flight keeps every worker busy although results are taken in
        # order, and bounds what is read in vain after a bad page (an executor starts what it is given)
        pending, todo = deque(), iter(args)
        for a in itertools.islice(todo, 2 * jobs):
            pending.append(pool.submit(_ocr_one, a))
        while pending:
            # yield before refilling: a consumer that stops here leaves at most 2 x jobs pages read
            page = pending.popleft().result()
            progress.step("OCR", len(files))
            yield page
            for a in itertools.islice(todo, 1):
                pending.append(pool.submit(_ocr_one, a))
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)


def read_all(files: list[Path], engine: str = "rapidocr", jobs: int = 1, cache_dir=None):
    """OCR every file; returns [(path, words, width)] in file order. Validates files first."""
    return list(iter_read(files, engine=engine, jobs=jobs, cache_dir=cache_dir))


def parse_pages(
    results, ids: dict[str, str] | None = None, is_member=None, lines: dict | None = None, on_page=None
) -> list[tuple[str, list[dict]]]:
    """``(path, words, width)`` of each page, in order -> ``[(screenshot_id, posts)]``, with corpus depths.

    ``is_member`` (is this a roster member's name?) is a cue for headers whose separator was not read
    (:func:`compendium.layout.read_page`); ``lines``, when given, is filled with each page's OCR lines and their
    roles (``{screenshot_id: lines}``); ``on_page(screenshot_id, path, words, posts, lines)``, when given, is called as
    each page is parsed (the stage starts its redaction there). A page in which no post can be read (no ``Name · TIME`` header) is an
    InputError naming the file: it is either not a WITI page or unreadable, and a researcher must look at it.
    Stops at the first such page.
    """
    pages = []
    for path, words, width in results:
        posts, page_lines = layout.read_page(words, width, is_member)
        if not posts:
            n = int(words["text"].astype(str).str.strip().astype(bool).sum()) if len(words) else 0
            raise InputError(
                f"no readable post in screenshot (OCR read {n} line(s) of text but no 'Name · TIME' post header)", path
            )
        sid = (ids or {}).get(str(path), Path(path).stem)
        pages.append((sid, posts))
        if lines is not None:
            lines[sid] = page_lines
        if on_page is not None:
            on_page(sid, path, words, posts, page_lines)
    layout.assign_depths([p for _, p in pages])
    return pages


def line_table(page_lines: dict) -> pd.DataFrame:
    """Every OCR line of every page with its role (``ocr_lines.csv``): ``screenshot_id, line`` (1-based, reading
    order), its box, ``role`` (header, body, footer, label, chrome, unassigned), ``kind`` (of chrome: status,
    title, nav, reply), ``post_id`` (the post that owns it, else empty), ``chars`` and ``ocr_confidence``.

    No text: a line no post owns (a title bar, an unassigned line) may hold a name the roster does not know, so
    its text is never written; notebook 01 shows such lines as crops of the redacted image."""
    rows = []
    for sid, lines in page_lines.items():
        for k, ln in enumerate(lines, 1):
            rows.append(
                {
                    "screenshot_id": sid,
                    "line": k,
                    "x0": int(ln["x0"]),
                    "y0": int(ln["y0"]),
                    "x1": int(ln["x1"]),
                    "y1": int(ln["y1"]),
                    "role": ln["role"],
                    "kind": ln["kind"],
                    "post_id": f"{sid}#{ln['post_index']}" if ln["post_index"] else "",
                    "chars": len(ln["text"]),
                    "ocr_confidence": round(float(ln["conf"]), 3),
                }
            )
    return pd.DataFrame(rows, columns=LINE_COLUMNS)


def count_lines(quality: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """``ocr_quality`` with each page's ``chrome_lines`` and ``unassigned_lines`` (from :func:`line_table`)."""
    q = quality.copy()
    for col, role in (("chrome_lines", "chrome"), ("unassigned_lines", "unassigned")):
        n = lines[lines["role"] == role].groupby("screenshot_id").size()
        q[col] = q["screenshot_id"].map(n).fillna(0).astype(int)
    return q[QUALITY_COLUMNS]


def unassigned(lines: pd.DataFrame) -> pd.DataFrame:
    """The lines no post owns and no chrome rule explains: what a researcher should look at."""
    return lines[lines["role"] == "unassigned"].reset_index(drop=True)


def _mask(s: str) -> str:
    return " ".join(w[0] + "*" * (len(w) - 1) for w in str(s).split())


def _header_name_end(parts: list[dict]) -> int:
    text = " ".join(layout.normalise(p["text"]) for p in parts)
    left = layout.header_left(text)
    for b in layout.BADGES:
        mm = re.search(rf"[\W_]*{b}[\W_]*$", left, flags=re.IGNORECASE)
        if mm:
            left = left[: mm.start()]
    return len(left.rstrip())


def gate_boxes(words: pd.DataFrame, gate, lines: list[dict] | None = None) -> list[list[int]]:
    """Boxes of every identifier the de-identification gate finds on any OCR line of a page (roster names,
    aliases and handles, OCR-folded; e-mails, phones, ...), whether or not a parsed post owns the line: a title
    bar, a reply box or a line the layout could not place is redacted too."""
    boxes = []
    for line in layout.group_lines(words) if lines is None else lines:
        text = " ".join(layout.normalise(p["text"]) for p in line["parts"])
        spans = [(a, b) for a, b, _kind in gate.spans(text)]
        if spans:
            boxes += redact.part_spans(line["parts"], spans)
    return boxes


def page_boxes(posts: list[dict], words: pd.DataFrame, roster, gate, lines: list[dict] | None = None) -> list:
    """What to redact on one page: the names, handles and mentions of its posts (:func:`identifier_boxes`) and
    whatever the gate finds on any of its lines (:func:`gate_boxes`; ``lines``: the page's grouped lines, when
    the caller has them)."""
    return [b for p in posts for b in identifier_boxes(p, roster)] + gate_boxes(words, gate, lines)


def identifier_boxes(post: dict, roster) -> list[list[int]]:
    """Boxes of the author's name and handle in the header and of mentions in the body (of a post as
    :func:`compendium.layout.read_page` parsed it)."""
    boxes = []
    author = post.get("author_raw", post["author"])
    if author and pseudonyms.match_author(author, roster)[0] != pseudonyms.ANONYMOUS:
        boxes += redact.part_spans(post["header_parts"], [(0, _header_name_end(post["header_parts"]))])
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
        boxes += redact.part_spans(ln["parts"], local)
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
            dist += Levenshtein.distance(layout.normalise(g["text_raw"]), ref_text)
            auth += pseudonyms.match_author(r.author, roster)[0] == g["author"]
            dep += int(r.depth) == int(g["depth"])
        n = len(exp)
        rows.append(
            {
                "screenshot_id": sid,
                "posts_expected": n,
                "posts_found": len(got),
                "cer": round(dist / ref, 6) if ref else 0.0,
                "author_accuracy": round(auth / n, 6),
                "depth_accuracy": round(dep / n, 6),
            }
        )
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)


def summarise_quality(quality: pd.DataFrame, transcribed: pd.DataFrame | None = None) -> dict:
    """Corpus-level figures for the SPEC 6 bars (post-weighted author/depth accuracy)."""
    n = quality["posts_expected"].astype(int)
    out = {
        "screenshots": len(quality),
        "count_exact": round(
            float((quality["posts_expected"].astype(int) == quality["posts_found"].astype(int)).mean()), 6
        ),
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


def tabulate(pages: list[tuple[str, list[dict]]], roster, show_originals: bool = False) -> dict:
    """Parsed pages -> posts (pseudonymised; ``text_raw`` kept for scoring, never written), threads and the
    review list."""
    stream, thread_rows = layout.link_threads(pages)
    review = []
    rows = []
    for p in stream:
        p["author_raw"] = p["author"]
        pseudo, _ = pseudonyms.match_author(p["author"], roster)
        if pseudo == pseudonyms.UNKNOWN:
            review.append(
                {
                    "post_id": p["post_id"],
                    "field": "author",
                    "masked": pseudo,
                    "original": p["author"] if show_originals else _mask(p["author"]),
                }
            )
        text, items = pseudonyms.pseudonymise_text(p["text"], roster)
        for it in items:
            review.append(
                {
                    "post_id": p["post_id"],
                    "field": "mention",
                    "masked": it["masked"],
                    "original": it["original"] if show_originals else _mask(it["original"]),
                }
            )
        rows.append(
            {
                "post_id": p["post_id"],
                "screenshot_id": p["screenshot_id"],
                "post_index": p["post_index"],
                "depth": p["depth"],
                "parent_post_id": p["parent_post_id"],
                "thread_id": p["thread_id"],
                "author": pseudo,
                "badge": p["badge"],
                "timestamp": p["timestamp"],
                "text": text,
                "reactions": "" if p["reactions"] is None else int(p["reactions"]),
                "replies": int(p["replies"]),
                "ocr_confidence": round(float(p["confidence"]), 6),
                "boxes": json.dumps(p["boxes"], separators=(",", ":")),
                "text_raw": p["text"],
            }
        )
    return {
        "posts": pd.DataFrame(rows, columns=POST_COLUMNS + ["text_raw"]),
        "threads": pd.DataFrame(thread_rows, columns=THREAD_COLUMNS),
        "review": pd.DataFrame(review, columns=REVIEW_COLUMNS),
    }


def _redact_one(task) -> list[dict]:
    """Redact one page, then read it again (:func:`compendium.reread.redact_and_check`): the gate's hits."""
    return reread.redact_and_check(*task)


def read_transcribed(path) -> pd.DataFrame:
    """The hand transcription (``transcribed.csv``), read as strict UTF-8 text (binary files and control
    characters refused, see :mod:`compendium.files`); a CSV that does not parse is named, with the line."""
    text = read_text(path, "transcription (transcribed.csv)")
    try:
        transcribed = pd.read_csv(io.StringIO(text), keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError("empty file: expected the header " + ",".join(TRANSCRIBED_COLUMNS), path, 1) from None
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(f"not a valid CSV file ({str(exc).strip()})", path, int(m.group(1)) if m else None) from None
    missing = [c for c in TRANSCRIBED_COLUMNS if c not in transcribed.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path, 1)
    return transcribed


def process(
    screenshot_dir,
    roster_path,
    out_dir,
    transcribed_path=None,
    engine: str = "rapidocr",
    jobs: int = 1,
    cache_dir=None,
    show_originals: bool = False,
    allow_path=None,
    reread_mode: str = "boxes",
) -> dict[str, pd.DataFrame]:
    """Run the screenshots stage; see the module docstring. ``allow_path`` is the corpus's reviewed allow-list
    (``deid_allow.yml``), honoured by the redaction of what the gate finds on any line (:func:`gate_boxes`).
    ``reread_mode`` is what the redaction check re-reads (:mod:`compendium.reread`: ``boxes`` or ``page``).

    Returns ``posts``, ``threads``, ``ocr_quality``, ``ocr_lines``, ``review`` and ``post_quality`` (per post:
    character error rate, author and depth right; empty without a transcription). ``posts``, ``threads``,
    ``ocr_quality``, ``ocr_lines``, ``act_labels`` and ``post_quality`` (as ``ocr_post_quality.csv``) are
    written, with the redacted images. If a fresh OCR of a redacted image
    still reads an identifier, InputError names the page and nothing is written (redacted images already
    written are removed).
    """
    if reread_mode not in reread.MODES:
        raise InputError(f"unknown value {reread_mode!r}; choose from {', '.join(reread.MODES)}", "parameter reread")
    shots = find_screenshots(screenshot_dir)
    files = [s.path for s in shots]
    ids = {str(s.path): s.screenshot_id for s in shots}
    roster_table = deid.load_roster(roster_path)  # read once: the pseudonyms and the gate share it
    roster = pseudonyms.roster_from_frame(roster_table, str(roster_path))
    transcribed = read_transcribed(transcribed_path) if transcribed_path is not None else None
    page_lines: dict[str, list] = {}

    def is_member(name: str) -> bool:
        return pseudonyms.match_author(name, roster)[0] != pseudonyms.UNKNOWN

    allow = deid.load_allow(allow_path) if allow_path is not None and Path(allow_path).is_file() else None
    gate = deid.Gate(roster_table, allow)
    out_dir = Path(out_dir)
    by_path = {str(s.path): s for s in shots}
    checks: list = []  # (screenshot, hits or a future of them), in page order
    parallel = jobs > 1 and len(files) > 1
    try:
        with contextlib.ExitStack() as stack:
            pool = ProcessPoolExecutor(max_workers=min(jobs, len(files))) if parallel else None
            if pool is not None:  # one pool for the OCR, the redaction and its check (models loaded once a worker)
                stack.callback(pool.shutdown, wait=True, cancel_futures=True)

            def redact_page(sid, path, words, posts, lines):
                """Redact a page as soon as it is parsed, while the workers read the next ones."""
                shot = by_path[str(path)]
                task = (
                    shot.path,
                    page_boxes(posts, words, roster, gate, lines),
                    reread.redacted_path(out_dir, sid),
                    gate,
                    engine,
                    reread_mode,
                    cache_dir,
                )
                checks.append((shot, pool.submit(_redact_one, task) if pool is not None else _redact_one(task)))

            results = stack.enter_context(
                contextlib.closing(iter_read(files, engine=engine, jobs=jobs, cache_dir=cache_dir, pool=pool))
            )
            pages = parse_pages(results, ids, is_member=is_member, lines=page_lines, on_page=redact_page)
            tab = tabulate(pages, roster, show_originals=show_originals)
            found = [(shot, h if isinstance(h, list) else h.result()) for shot, h in checks]
        for shot, hits in found:
            if hits:
                raise InputError(reread.describe(shot.screenshot_id, hits), shot.path)
    except BaseException:
        for shot, _ in checks:  # a redacted image of a failed run is not left behind: it may not be safe
            reread.redacted_path(out_dir, shot.screenshot_id).unlink(missing_ok=True)
        raise
    posts = tab["posts"]
    lines = line_table(page_lines)
    if transcribed is not None:
        quality = score(posts, transcribed, roster)
        post_quality = score_posts(posts, transcribed, roster)
    else:
        quality = unscored(posts)
        post_quality = pd.DataFrame(columns=POST_QUALITY_COLUMNS)
    quality = count_lines(quality, lines)
    labels = act_labels(transcribed, transcribed_path)
    posts = posts.drop(columns=["text_raw"])
    write_csv(posts, out_dir / "posts.csv")
    write_csv(labels, out_dir / ACT_LABELS)
    write_csv(post_quality, out_dir / POST_QUALITY)
    write_csv(tab["threads"], out_dir / "threads.csv")
    write_csv(quality, out_dir / "ocr_quality.csv")
    write_csv(lines, out_dir / "ocr_lines.csv")
    return {
        "posts": posts,
        "threads": tab["threads"],
        "ocr_quality": quality,
        "ocr_lines": lines,
        "review": tab["review"],
        "post_quality": post_quality,
        "act_labels": labels,
    }


ACT_LABELS = "act_labels.csv"
# ocr_post_quality.csv: per transcribed post, whether the OCR found it and read it exactly (cer 0: the text in
# posts.csv is then the hand-checked text, pseudonymised) - numbers only, so downstream stages can tell verified
# quotes from OCR ones without the private folder. Header only without a transcription.
POST_QUALITY = "ocr_post_quality.csv"
ACT_LABEL_COLUMNS = ["post_id", "act"]


def act_labels(transcribed: pd.DataFrame | None, path=None) -> pd.DataFrame:
    """``act_labels.csv``: the hand-assigned act of each transcribed post (``post_id, act``; no text, no name),
    from the optional ``act`` column of ``transcribed.csv``, so that the information-flow stage can measure its
    rule-based classifier (:mod:`compendium.acts`) without the private folder. Posts are named as the OCR names
    them (``screenshot_id#post_index``), the alignment the OCR is scored by. Empty (header only) without the
    column; an act outside :data:`compendium.acts.ACTS` is bad input, named by row."""
    from .acts import ACTS

    if transcribed is None or "act" not in transcribed.columns:
        return pd.DataFrame(columns=ACT_LABEL_COLUMNS)
    rows = []
    for i, r in enumerate(transcribed.itertuples(index=False), 2):
        act = str(r.act).strip().lower()
        if not act:
            continue
        if act not in ACTS:
            raise InputError(f"unknown act {r.act!r} (choose from {', '.join(ACTS)}, or leave it empty)", path, i)
        rows.append((str(r.screenshot_id), int(r.post_index), act))
    return pd.DataFrame(
        [{"post_id": f"{sid}#{idx}", "act": act} for sid, idx, act in sorted(rows)], columns=ACT_LABEL_COLUMNS
    )


# --------------------------------------------------------------------------------------------------
# Provenance: the worst-read posts and where they are on the (redacted) screenshot
# --------------------------------------------------------------------------------------------------


def score_posts(posts: pd.DataFrame, transcribed: pd.DataFrame, roster) -> pd.DataFrame:
    """Per transcribed post: ``post_id, screenshot_id, post_index, found, cer, author_ok, depth_ok``.

    Needs ``text_raw`` (the text as read, before pseudonymisation: what the transcription holds); a post
    that was not found has ``cer`` 1. Only numbers come out, never the text.
    """
    got = posts.set_index(["screenshot_id", "post_index"])
    rows = []
    for r in transcribed.sort_values(["screenshot_id", "post_index"], kind="mergesort").itertuples(index=False):
        key = (r.screenshot_id, int(r.post_index))
        ref = layout.normalise(r.text)
        row = {
            "post_id": f"{r.screenshot_id}#{int(r.post_index)}",
            "screenshot_id": r.screenshot_id,
            "post_index": int(r.post_index),
            "found": key in got.index,
            "cer": 1.0,
            "author_ok": False,
            "depth_ok": False,
        }
        if row["found"]:
            g = got.loc[key]
            row["cer"] = round(Levenshtein.distance(layout.normalise(g["text_raw"]), ref) / max(1, len(ref)), 6)
            row["author_ok"] = pseudonyms.match_author(r.author, roster)[0] == g["author"]
            row["depth_ok"] = int(r.depth) == int(g["depth"])
        rows.append(row)
    return pd.DataFrame(rows, columns=POST_QUALITY_COLUMNS)


def unscored(posts: pd.DataFrame) -> pd.DataFrame:
    """``ocr_quality`` of a study without a hand transcription (a real study may have none): per screenshot the
    posts found, and empty cells where a measure needs the transcription (nothing is guessed)."""
    found = posts.groupby("screenshot_id", sort=True).size()
    q = pd.DataFrame({"screenshot_id": found.index, "posts_found": found.values.astype(int)})
    for c in QUALITY_COLUMNS:
        if c not in q:
            q[c] = float("nan")
    return q[QUALITY_COLUMNS]


def is_scored(quality: pd.DataFrame) -> bool:
    """True when ``ocr_quality`` was measured against a hand transcription."""
    return bool(len(quality)) and pd.to_numeric(quality["cer"], errors="coerce").notna().any()


def worst_page(quality: pd.DataFrame, posts: pd.DataFrame) -> str:
    """The screenshot to look at first: the highest character error rate against the transcription, or, without
    one, the lowest mean OCR confidence of its posts (ties: the first id)."""
    if is_scored(quality):
        q = quality.assign(cer=pd.to_numeric(quality["cer"], errors="coerce"))
        return str(q.sort_values(["cer", "screenshot_id"], ascending=[False, True]).screenshot_id.iloc[0])
    conf = posts.groupby("screenshot_id", sort=True)["ocr_confidence"].mean()
    return str(conf.sort_values(kind="mergesort").index[0])


def worst_posts(posts: pd.DataFrame, post_quality: pd.DataFrame | None = None, n: int = 5) -> pd.DataFrame:
    """The ``n`` worst-read posts: by character error rate against the transcription when there is one
    (then wrong author or depth, then lowest OCR confidence), else by lowest OCR confidence.

    Columns: ``post_id, screenshot_id, cer`` (empty without a transcription), ``author_ok, depth_ok,
    ocr_confidence, author, text, boxes`` (de-identified, from ``posts``).
    """
    p = posts.copy()
    if post_quality is not None and len(post_quality):
        q = post_quality[post_quality["found"].astype(bool)][["post_id", "cer", "author_ok", "depth_ok"]]
        p = p.merge(q, on="post_id", how="left")
        p["cer"] = p["cer"].astype(float)
        for c in ("author_ok", "depth_ok"):
            p[c] = p[c].astype("boolean")
        p["_wrong"] = (~p["author_ok"].fillna(True)).astype(int) + (~p["depth_ok"].fillna(True)).astype(int)
        p = p.sort_values(
            ["cer", "_wrong", "ocr_confidence", "post_id"],
            ascending=[False, False, True, True],
            kind="mergesort",
            na_position="last",
        )
    else:
        p["cer"], p["author_ok"], p["depth_ok"] = float("nan"), pd.NA, pd.NA
        p = p.sort_values(["ocr_confidence", "post_id"], kind="mergesort")
    cols = ["post_id", "screenshot_id", "cer", "author_ok", "depth_ok", "ocr_confidence", "author", "text", "boxes"]
    return p[cols].head(n).reset_index(drop=True)


def post_box(boxes, pad: int = 12) -> tuple[int, int, int, int]:
    """The box around a post's line boxes (the ``boxes`` column: JSON or a list), padded."""
    bs = json.loads(boxes) if isinstance(boxes, str) else list(boxes)
    if not bs:
        raise InputError("post has no boxes", "posts.csv")
    x0 = min(b[0] for b in bs) - pad
    y0 = min(b[1] for b in bs) - pad
    x1 = max(b[2] for b in bs) + pad
    y1 = max(b[3] for b in bs) + pad
    return max(0, int(x0)), max(0, int(y0)), int(x1), int(y1)


def crop_post(post, redacted_dir, pad: int = 12):
    """The region of a post on its **redacted** screenshot, as a PIL image.

    ``post`` is a row of ``posts.csv`` (``screenshot_id`` and ``boxes``). ``redacted_dir`` is the stage's
    ``redacted/`` folder: crops are never taken from the private originals, so what a notebook shows (and
    a report keeps) has every identifier filled.
    """
    return crop_box(post["screenshot_id"], post_box(post["boxes"], pad), redacted_dir)


def crop_line(line, redacted_dir, pad: int = 12):
    """The region of one OCR line (a row of ``ocr_lines.csv``) on its **redacted** screenshot (see :func:`crop_post`)."""
    box = (max(0, int(line["x0"]) - pad), max(0, int(line["y0"]) - pad), int(line["x1"]) + pad, int(line["y1"]) + pad)
    return crop_box(line["screenshot_id"], box, redacted_dir)


def crop_box(screenshot_id: str, box, redacted_dir):
    """``box`` (x0, y0, x1, y1) cut out of ``redacted_dir/ID.png``; only the stage's redacted/ folder is accepted."""
    from PIL import Image

    redacted_dir = Path(redacted_dir)
    if redacted_dir.name != "redacted":
        raise InputError(
            "crops are taken from the stage's redacted/ folder only, never from the private screenshots", redacted_dir
        )
    path = redacted_dir / f"{screenshot_id}.png"
    if not path.is_file():
        raise InputError("redacted screenshot not found (run the screenshots stage first)", path)
    x0, y0, x1, y1 = box
    with Image.open(path) as im:
        return im.crop((x0, y0, min(x1, im.width), min(y1, im.height))).convert("RGB")
