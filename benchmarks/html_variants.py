"""The screenshots stage on pages drawn by a renderer the project never used: HTML + CSS in headless Chromium
(tests/html_pages.py).

    .venv/bin/python benchmarks/html_variants.py                      # 16 pages, default engine, 2 processes
    .venv/bin/python benchmarks/html_variants.py --keep /tmp/html_corpus --detail

Every other benchmark page comes out of the project's own PIL renderer; these are laid out and rasterised by the
browser (eight system fonts at 14-18 CSS px, viewports 360-430 CSS px at device scale 2 or 3, light/dark/black,
avatars of several kinds, cards, rules between threads, phone chrome, three JPEGs at quality 70). The set is
written into a temporary folder (or ``--keep DIR``) and run through :func:`compendium.screenshots.process` exactly
as ``benchmarks/phone_variants.py`` runs it (its ``run_stage``: a page the stage refuses - no readable header, or
an identifier still read in its redacted image - is set aside and the rest run again), and scored with the
stage's own scoring. Prints a Markdown table, one row per page and the totals (CER pooled), against the SPEC 6
bars.

``--detail`` also prints, for every page that misses a bar, what was expected and what the stage's layout reader
made of the page, post by post (author, depth, text as read, before pseudonymisation), with the lines it set
aside as chrome or left unassigned. It parses the OCR again from the stage's cache with the stage's own
functions (:func:`compendium.screenshots.parse_pages`, ``tabulate``, ``score_posts``), so pages the stage refused
are shown too. That output holds the (fictitious) roster's names: it is for a developer's terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import html_pages  # noqa: E402
import phone_variants  # noqa: E402  (run_stage, identifier_hits, total_row)

from compendium import deid, pseudonyms, screenshots  # noqa: E402

BARS = {"cer": 0.02, "author": 0.98, "depth": 0.95, "count_exact": 0.95}


def short(text: str, n: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def diagnose(root: Path, meta: list[dict], transcribed: pd.DataFrame, engine: str, flagged: set[str]) -> None:
    """Post by post, for the ``flagged`` pages: expected vs what the layout reader made of the OCR (cached)."""
    shots = root / "screenshots"
    files = {m["screenshot_id"]: shots / m["file"] for m in meta}
    roster = pseudonyms.roster_from_frame(deid.load_roster(root / "roster.csv"), str(root / "roster.csv"))

    def is_member(name: str) -> bool:
        return pseudonyms.match_author(name, roster)[0] != pseudonyms.UNKNOWN

    order = [m["screenshot_id"] for m in meta]
    results = screenshots.read_all([files[s] for s in order], engine=engine, cache_dir=root / "ocr-cache")
    ids = {str(files[s]): s for s in order}
    lines: dict = {}
    pages = screenshots.parse_pages(results, ids, is_member=is_member, lines=lines)
    tab = screenshots.tabulate(pages, roster)
    pq = screenshots.score_posts(tab["posts"], transcribed, roster).set_index(["screenshot_id", "post_index"])
    parsed = dict(pages)
    for m in meta:
        sid = m["screenshot_id"]
        if sid not in flagged:
            continue
        print(f"\n#### {sid} ({m['design']})\n\n- image: {shots / m['file']}\n- html: {root / m['html']}")
        exp = transcribed[transcribed["screenshot_id"] == sid].sort_values("post_index")
        got = {p["post_index"]: p for p in parsed.get(sid, [])}
        print(f"- posts expected {len(exp)}, found {len(got)}")
        for r in exp.itertuples(index=False):
            k = int(r.post_index)
            q = pq.loc[(sid, k)]
            ok = q["found"] and q["cer"] == 0 and q["author_ok"] and q["depth_ok"]
            if ok:
                continue
            print(f"  - post {k}: expected depth {r.depth}, author {r.author!r}, text {short(r.text)!r}")
            if k not in got:
                print("    found: nothing")
                continue
            g = got[k]
            print(
                f"    found: depth {g['depth']}, author {g['author']!r}, timestamp {g['timestamp']!r}, "
                f"cer {q['cer']:.1%}, author {'ok' if q['author_ok'] else 'WRONG'}, "
                f"depth {'ok' if q['depth_ok'] else 'WRONG'}, x_left {g['x_left']:.3f}\n"
                f"    text:  {short(g['text'], 200)!r}"
            )
        for k in sorted(set(got) - set(int(i) for i in exp["post_index"])):
            g = got[k]
            print(f"  - extra post {k}: depth {g['depth']}, author {g['author']!r}, text {short(g['text'])!r}")
        odd = [ln for ln in lines.get(sid, []) if ln["role"] in ("chrome", "unassigned")]
        for ln in odd:
            print(
                f"  - {ln['role']}{'/' + ln['kind'] if ln['kind'] else ''} line at y {int(ln['y0'])}: "
                f"{short(ln['text'], 80)!r}"
            )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=len(html_pages.SPECS))
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--engine", default="rapidocr")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", default=None, help="write the set into this (new) folder and keep it")
    ap.add_argument("--detail", action="store_true", help="post by post, for every page that misses a bar")
    args = ap.parse_args(argv)

    try:
        html_pages.require_chromium()
    except RuntimeError as exc:
        print(exc)
        return 2
    root, tmp = phone_variants.work_root(args.keep, "html-variants-")
    if root is None:
        return 2
    try:
        t0 = time.perf_counter()
        html_pages.write_html_corpus(root, n_pages=args.pages, seed=args.seed)
        meta = json.loads((root / "pages.json").read_text(encoding="utf-8"))
        truth = pd.DataFrame(meta)
        transcribed = screenshots.read_transcribed(root / "screenshots" / "transcribed.csv")
        t1 = time.perf_counter()
        res, refused = phone_variants.run_stage(root, truth, args.engine, args.jobs)
        t2 = time.perf_counter()
        print(
            f"{len(truth)} pages, {len(transcribed)} posts; engine {args.engine}; rendered by Chromium in "
            f"{t1 - t0:.1f} s, stage {t2 - t1:.1f} s\n"
        )
        for sid, why in refused.items():
            print(f"- refused by the stage: {sid}: {why}")
        if refused:
            print()
        quality = res["ocr_quality"].set_index("screenshot_id") if res is not None else pd.DataFrame()
        hits = phone_variants.redaction_hits(res, root, args.engine)

        print(
            "| id | font | viewport | theme | chrome | posts drawn as | format | page | posts expected / found "
            "| CER | author right | depth right | identifiers left (lines read) |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        flagged: set[str] = set()
        for t in meta:
            sid = t["screenshot_id"]
            chrome = (t["chrome"].replace(",", "+") or "none") + (
                " (name in title)" if t["title_has_roster_name"] else ""
            )
            drawn = ", ".join(
                x
                for x in (
                    f"avatar {t['avatar']}" if t["avatar"] else "no avatar",
                    "cards" if t["cards"] else "",
                    "rules" if t["rules"] else "",
                    f"indent {t['indent_css']}px",
                    "banner" if t["banner"] else "",
                    "pinned" if t["pinned"] else "",
                )
                if x
            )
            fmt = f"jpeg q{t['jpeg_quality']}" if t["jpeg_quality"] else "png"
            kind = ", ".join(
                x
                for x in (
                    "mid-thread" if t["starts_mid_thread"] else "",
                    f"depth {t['max_depth']}",
                    "admin" if t["admin"] else "",
                )
                if x
            )
            w, h = t["viewport"]
            head = (
                f"| {sid} | {html_pages.FAMILIES[t['font']]} {t['font_size']}px | {w}x{h} @{t['dpr']}x | "
                f"{t['theme']} | {chrome} | {drawn} | {fmt} | {kind} |"
            )
            if sid in refused:
                flagged.add(sid)
                print(f"{head} {t['posts']} / refused | {refused[sid]} | | | |")
                continue
            if sid not in quality.index:
                flagged.add(sid)
                print(f"{head} {t['posts']} / - | not run | | | |")
                continue
            r = quality.loc[sid]
            h_, n = hits.get(sid, (0, 0))
            if (
                int(r["posts_expected"]) != int(r["posts_found"])
                or float(r["cer"]) > BARS["cer"]
                or float(r["author_accuracy"]) < 1
                or float(r["depth_accuracy"]) < 1
                or h_
            ):
                flagged.add(sid)
            print(
                f"{head} {int(r['posts_expected'])} / {int(r['posts_found'])} | {float(r['cer']):.2%} | "
                f"{float(r['author_accuracy']):.0%} | {float(r['depth_accuracy']):.0%} | {h_} ({n}) |"
            )
        if res is not None:
            q = res["ocr_quality"]
            total_hits = phone_variants.print_totals(q, transcribed, truth, refused, hits)
            s = screenshots.summarise_quality(q, transcribed[transcribed["screenshot_id"].isin(q["screenshot_id"])])
            print(
                f"\nSPEC 6 bars on the {len(q)} page(s) run: CER {s['cer']:.2%} (<= 2%: "
                f"{'pass' if s['cer'] <= BARS['cer'] else 'FAIL'}), author {s['author_accuracy']:.1%} (>= 98%: "
                f"{'pass' if s['author_accuracy'] >= BARS['author'] else 'FAIL'}), depth {s['depth_accuracy']:.1%} "
                f"(>= 95%: {'pass' if s['depth_accuracy'] >= BARS['depth'] else 'FAIL'}), count exact "
                f"{s['count_exact']:.1%} of pages (>= 95%: {'pass' if s['count_exact'] >= BARS['count_exact'] else 'FAIL'}), "
                f"identifiers in the re-read {total_hits} (0: {'pass' if total_hits == 0 else 'FAIL'}); "
                f"pages refused: {len(refused)}"
            )
        if args.detail and flagged:
            print("\n### Pages that miss a bar")
            diagnose(root, meta, transcribed, args.engine, flagged)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
