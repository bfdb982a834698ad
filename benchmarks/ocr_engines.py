"""Compare OCR engines on the committed screenshots: accuracy against transcribed.csv and seconds per screenshot.

    .venv/bin/python benchmarks/ocr_engines.py                  # all readers, all 35 screenshots (about 4 minutes)
    .venv/bin/python benchmarks/ocr_engines.py --readers rapidocr tesseract --limit 10
    .venv/bin/python benchmarks/ocr_engines.py --variants --readers rapidocr tesseract   # unseen fonts and sizes

Readers:

- ``rapidocr``: the stage's default engine as it is now (:func:`compendium.ocr.read_words`, engine ``rapidocr``:
  the models run by OpenVINO);
- ``rapidocr-onnxruntime``: the same pipeline with the models run by ONNX Runtime, RapidOCR's own runtime (what
  the stage ran before; kept here to measure what OpenVINO buys);
- ``rapidocr-stock``: RapidOCR's own pipeline and runtime (full-resolution detection, no space restoration), which
  is what the stage ran before detection was scaled to the text size; kept here to measure what that change bought;
- ``tesseract``: Tesseract 5 through :func:`compendium.ocr.read_words` (``apt-get install tesseract-ocr``).

Each screenshot is read by every reader in turn (interleaved, one process, one thread each, no cache), so that the
readers share whatever else the machine is doing: compare the seconds as ratios within one run, not across runs
or machines. Accuracy uses the stage's own layout, pseudonym and scoring code (the SPEC 6 bars). Prints the
Markdown table that docs/ocr.md shows. With ``--variants`` the readers are scored instead on the pages that
tests/test_ocr_variants.py draws in fonts, widths, indentation steps and themes the corpus never used (three pages
per variant; needs Debian's font packages), one row per variant and reader.
"""

from __future__ import annotations

import argparse
from importlib import metadata
import platform
import sys
import time
from pathlib import Path

import pandas as pd

from compendium import ocr, pseudonyms, screenshots

ROOT = Path(__file__).resolve().parents[1]


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=ocr.COLUMNS).sort_values(["y0", "x0"], kind="mergesort").reset_index(drop=True)


def onnxruntime_rapidocr(path) -> pd.DataFrame:
    """The stage's pipeline with RapidOCR's own runtime (ONNX Runtime) in place of OpenVINO."""
    return _frame(ocr._run_rapidocr(ocr.preprocess(ocr.load_image(path)[0]), runtime="onnxruntime"))


def stock_rapidocr(path) -> pd.DataFrame:
    """The previous RapidOCR path: the library's own pipeline on the preprocessed capture, plus the stage's
    second pass for short texts the detector misses."""
    arr = ocr.preprocess(ocr.load_image(path)[0])
    eng = ocr._rapidocr("onnxruntime")
    result, _ = eng(arr)
    rows = [ocr.box_row(box, text, conf) for box, text, conf in result or []]
    rows += ocr.read_missed_bands(eng, arr, ocr._ink_bands(arr), rows)
    return _frame(rows)


READERS = {
    "rapidocr": (lambda p: ocr.read_words(p, engine="rapidocr"), "rapidocr"),
    "rapidocr-onnxruntime": (onnxruntime_rapidocr, "rapidocr"),
    "rapidocr-stock": (stock_rapidocr, "rapidocr"),
    "tesseract": (lambda p: ocr.read_words(p, engine="tesseract"), "tesseract"),
}


def read(files, readers):
    """Every file by every reader, interleaved: ({reader: [(path, words, width)]}, {reader: seconds})."""
    for name in readers:
        ocr.check_engine(READERS[name][1])
        READERS[name][0](files[0])  # load the models before timing
    results = {r: [] for r in readers}
    seconds = {r: 0.0 for r in readers}
    for f in files:
        width = screenshots.check_image(f)
        for r in readers:
            t0 = time.perf_counter()
            words = READERS[r][0](f)
            seconds[r] += time.perf_counter() - t0
            results[r].append((str(f), words, width))
    return results, seconds


def summary(results, roster, transcribed) -> dict:
    pages = screenshots.parse_pages(results)
    tab = screenshots.tabulate(pages, roster)
    q = screenshots.score(tab["posts"], transcribed, roster)
    s = screenshots.summarise_quality(q, transcribed)
    s["exact"] = f"{round(s['count_exact'] * len(q))}/{len(q)}"
    return s


def variants(readers) -> int:
    import tempfile

    sys.path.insert(0, str(ROOT / "tests"))
    import test_ocr_variants as tv

    members = tv.synth._load_yaml(tv.synth.DATA / "members.yml")["members"]
    threads = tv.synth._load_yaml(tv.synth.DATA / "threads.yml")["threads"]
    print(
        "| variant (font, width px, font px, indent px, theme) | reader | CER | author right | depth right | "
        "post count exact | s / screenshot |"
    )
    print("|---|---|---|---|---|---|---|")
    for k, (name, spec) in enumerate(tv.VARIANTS.items()):
        if not all(Path(p).exists() for p in tv.FONTS[spec[0]]):
            print(f"| {name} | | font not installed ({tv.FONT_PACKAGES}) | | | | |")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            transcribed = tv.render_corpus(Path(tmp), (members, threads), [tv.make_style(*spec)], k=k)
            roster = pseudonyms.load_roster(Path(tmp) / "roster.csv")
            files = screenshots.list_screenshots(Path(tmp) / "screenshots")
            results, seconds = read(files, readers)
            label = f"{spec[0]}, {spec[1]}, {spec[2]}, {spec[3]}, {spec[4]}" + ("" if spec[5] else ", no avatar")
            for r in readers:
                s = summary(results[r], roster, transcribed)
                print(
                    f"| {label} | {r} | {s['cer']:.2%} | {s['author_accuracy']:.1%} | {s['depth_accuracy']:.1%} "
                    f"| {s['exact']} | {seconds[r] / len(files):.2f} |",
                    flush=True,
                )
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", default=str(ROOT / "data" / "raw"))
    ap.add_argument("--readers", nargs="+", default=list(READERS), choices=list(READERS))
    ap.add_argument("--limit", type=int, default=None, help="only the first N screenshots")
    ap.add_argument("--variants", action="store_true", help="score unseen styles instead of the corpus")
    args = ap.parse_args(argv)
    if args.variants:
        return variants(args.readers)

    private = Path(args.raw) / "private"
    files = screenshots.list_screenshots(private / "screenshots")[: args.limit]
    roster = pseudonyms.load_roster(private / "roster.csv")
    transcribed = screenshots.read_transcribed(private / "screenshots" / "transcribed.csv")
    transcribed = transcribed[transcribed["screenshot_id"].isin([f.stem for f in files])]
    results, seconds = read(files, args.readers)

    print(
        f"{len(files)} screenshots; {platform.machine()}, Python {platform.python_version()}; one process, "
        "one thread, readers interleaved\n"
    )
    print(
        "| reader | version | CER | author right | depth right | post count exact | s / screenshot | time vs rapidocr |"
    )
    print("|---|---|---|---|---|---|---|---|")
    base = seconds.get("rapidocr")
    for r in args.readers:
        n = len(files)
        ratio = f"{seconds[r] / base:.2f}x" if base else ""
        version = ocr.engine_version(READERS[r][1])
        if r in ("rapidocr-onnxruntime", "rapidocr-stock"):
            version = version.split("+")[0] + f"+onnxruntime-{metadata.version('onnxruntime')}"
        try:
            s = summary(results[r], roster, transcribed)
        except Exception as exc:  # a page without posts: report it, do not stop the comparison
            print(f"| {r} | {version} | failed: {exc} | | | | {seconds[r] / n:.2f} | {ratio} |")
            continue
        print(
            f"| {r} | {version} | {s['cer']:.2%} | {s['author_accuracy']:.1%} | {s['depth_accuracy']:.1%} | "
            f"{s['exact']} | {seconds[r] / n:.2f} | {ratio} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
