"""The screenshots stage on 24 pages drawn as real phones capture them (tests/phone_pages.py).

    .venv/bin/python benchmarks/phone_variants.py                  # 24 pages, default engine, 2 processes
    .venv/bin/python benchmarks/phone_variants.py --engine tesseract --pages 12 --keep /tmp/phones

The pages mix eight fonts, five themes, widths 720-1440 px, the phone's chrome (status bar, title bar with a back
chevron, reply box, bottom navigation bar; one title bar holds a roster member's name), headers without their
separator, JPEG at quality 60-85, blur and resampling, under real-phone file names (IMG_2041.PNG, Screenshot
2023-03-12 at 21.14.05.jpg, ...). The set is written into a temporary folder (or ``--keep DIR``) and run through
:func:`compendium.screenshots.process` as a study's screenshots would be. Prints a Markdown table: one row per
page (what it is; posts expected and found; character error rate; author and depth accuracy; identifiers found
in a fresh OCR of its redacted image), and the totals (CER pooled: summed edit distance over summed length).

If the stage refuses a page (``InputError``, e.g. a page without a readable post header), the page is reported
with the reason, set aside, and the stage is run again on the rest (OCR is cached, so a rerun is cheap); a page
set aside counts as unread in the first total row.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import phone_pages  # noqa: E402

from compendium import deid, ocr, screenshots  # noqa: E402
from compendium.errors import InputError  # noqa: E402
from compendium.tables import read_csv, write_csv  # noqa: E402


def run_stage(root: Path, truth: pd.DataFrame, engine: str, jobs: int):
    """Run the stage on ``root/screenshots``; a page it refuses is set aside and the rest run again.
    Returns (result or None, {screenshot_id: reason})."""
    src = root / "screenshots"
    work = root / "run"
    cache = root / "ocr-cache"
    refused: dict[str, str] = {}
    by_file = dict(zip(truth["file"], truth["screenshot_id"]))
    index = read_csv(src / screenshots.SCREENSHOTS_CSV, dtype=str)
    transcribed = screenshots.read_transcribed(src / "transcribed.csv")
    while True:
        if work.exists():
            shutil.rmtree(work)
        shots = work / "screenshots"
        shots.mkdir(parents=True)
        keep = index[~index["screenshot_id"].isin(refused)]
        if keep.empty:
            return None, refused
        for name in keep["file"]:
            shutil.copyfile(src / name, shots / name)
        write_csv(keep, shots / screenshots.SCREENSHOTS_CSV)
        write_csv(transcribed[transcribed["screenshot_id"].isin(keep["screenshot_id"])], shots / "transcribed.csv")
        try:
            res = screenshots.process(
                shots,
                root / "roster.csv",
                work / "out",
                transcribed_path=shots / "transcribed.csv",
                engine=engine,
                jobs=jobs,
                cache_dir=cache,
            )
            return res, refused
        except InputError as exc:
            name = Path(exc.path).name if exc.path else None
            sid = by_file.get(name)
            if sid is None or sid in refused:
                refused["(run)"] = exc.format()
                return None, refused
            refused[sid] = exc.message


def identifier_hits(redacted: Path, gate, engine: str) -> tuple[int, int]:
    """(identifiers, lines) in a fresh OCR (no cache) of one redacted image, line by line through the gate."""
    words = ocr.read_words(redacted, engine=engine)
    hits = sum(len(gate.spans(str(t))) for t in words["text"])
    return hits, len(words)


def redaction_hits(res, root: Path, engine: str) -> dict[str, tuple[int, int]]:
    """``{screenshot_id: (identifiers, lines)}``: every redacted page of a run of :func:`run_stage` read afresh."""
    if res is None:
        return {}
    gate = deid.Gate(deid.load_roster(root / "roster.csv"))
    redacted = root / "run" / "out" / "redacted"
    return {
        sid: identifier_hits(redacted / f"{sid}.png", gate, engine)
        for sid in res["ocr_quality"]["screenshot_id"]
        if (redacted / f"{sid}.png").is_file()
    }


def work_root(keep: str | None, prefix: str):
    """``(root, tmp)``: the folder to write the set into (``keep``, which must be new or empty; else a temporary
    one, ``tmp`` to clean up), or ``(None, None)`` when ``keep`` is not empty."""
    if keep:
        root = Path(keep)
        if root.exists() and any(root.iterdir()):
            print(f"{root} exists and is not empty")
            return None, None
        return root, None
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    return Path(tmp.name), tmp


def print_totals(q: pd.DataFrame, transcribed: pd.DataFrame, truth: pd.DataFrame, refused: dict, hits: dict) -> int:
    """Print the total row (and, when pages were refused, the total counting them as unread); returns the
    identifiers left in the re-read."""
    total_hits = sum(h for h, _ in hits.values())
    pages_hit = sum(1 for h, _ in hits.values() if h)
    label = "total" if not refused else f"total, {len(q)} pages run"
    print(total_row(label, q, transcribed, f"{total_hits} on {pages_hit} page(s)"))
    if refused:
        # the pages set aside, as unread: every post not found
        extra = pd.DataFrame(
            [
                {
                    "screenshot_id": sid,
                    "posts_found": 0,
                    "cer": 1.0,
                    "author_accuracy": 0.0,
                    "depth_accuracy": 0.0,
                    "posts_expected": int((transcribed["screenshot_id"] == sid).sum()),
                }
                for sid in refused
                if sid in set(truth["screenshot_id"])
            ]
        )
        allq = pd.concat([q, extra], ignore_index=True)
        print(total_row(f"total, all {len(allq)} pages (refused = unread)", allq, transcribed, ""))
    return total_hits


def total_row(label: str, q: pd.DataFrame, transcribed: pd.DataFrame, hits: str) -> str:
    """A total row: CER pooled (summed edit distance / summed length), authors and depths post-weighted."""
    s = screenshots.summarise_quality(q, transcribed[transcribed["screenshot_id"].isin(q["screenshot_id"])])
    exact = round(s["count_exact"] * len(q))
    return (
        f"| **{label}** | | | | | | | | {int(q['posts_expected'].sum())} / {int(q['posts_found'].sum())}, "
        f"count exact {exact}/{len(q)} | {s['cer']:.2%} | {s['author_accuracy']:.1%} | "
        f"{s['depth_accuracy']:.1%} | {hits} |"
    )


def yes(v) -> str:
    return "yes" if v else "no"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=24)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--engine", default="rapidocr")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", default=None, help="write the set into this (new) folder and keep it")
    args = ap.parse_args(argv)

    missing = phone_pages.missing_fonts(args.pages)
    if missing:
        print(f"fonts not installed: {', '.join(missing)} (apt-get install {phone_pages.tv.FONT_PACKAGES})")
        return 2
    root, tmp = work_root(args.keep, "phone-variants-")
    if root is None:
        return 2
    try:
        t0 = time.perf_counter()
        transcribed, truth = phone_pages.write_phone_corpus(root, n_pages=args.pages, seed=args.seed)
        t1 = time.perf_counter()
        res, refused = run_stage(root, truth, args.engine, args.jobs)
        t2 = time.perf_counter()
        print(
            f"{len(truth)} pages, {len(transcribed)} posts; engine {args.engine}; drawn in {t1 - t0:.1f} s, "
            f"stage {t2 - t1:.1f} s\n"
        )
        for sid, why in refused.items():
            print(f"- refused by the stage: {sid}: {why}")
        if refused:
            print()
        quality = res["ocr_quality"].set_index("screenshot_id") if res is not None else pd.DataFrame()
        hits = redaction_hits(res, root, args.engine)

        print(
            "| id | font | width | theme | chrome | jpeg q | blur / resample | separator | posts expected / found "
            "| CER | author right | depth right | identifiers left (lines read) |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for t in truth.itertuples(index=False):
            chrome = (t.chrome.replace(",", "+") or "none") + (" (name in title)" if t.title_has_roster_name else "")
            degrade = ", ".join(
                x
                for x in (
                    f"blur {t.blur:g}" if pd.notna(t.blur) and t.blur else "",
                    f"x{t.resample:g}" if pd.notna(t.resample) and t.resample else "",
                )
                if x
            )
            q = f"{int(t.jpeg_quality)}" if pd.notna(t.jpeg_quality) else "png"
            head = (
                f"| {t.screenshot_id} | {t.font} {t.font_size}px | {t.width} | {t.theme} | {chrome} | {q} | "
                f"{degrade or '-'} | {yes(t.separator)} |"
            )
            if t.screenshot_id in refused:
                print(f"{head} {t.posts} / refused | {refused[t.screenshot_id]} | | | |")
                continue
            if t.screenshot_id not in quality.index:
                print(f"{head} {t.posts} / - | not run | | | |")
                continue
            r = quality.loc[t.screenshot_id]
            h, n = hits.get(t.screenshot_id, (0, 0))
            print(
                f"{head} {int(r['posts_expected'])} / {int(r['posts_found'])} | {float(r['cer']):.2%} | "
                f"{float(r['author_accuracy']):.0%} | {float(r['depth_accuracy']):.0%} | {h} ({n}) |"
            )
        if res is not None:
            print_totals(res["ocr_quality"], transcribed, truth, refused, hits)
        if args.keep:
            (root / "truth.json").write_text(
                json.dumps(truth.to_dict("records"), indent=1, default=str) + "\n", encoding="utf-8"
            )
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
