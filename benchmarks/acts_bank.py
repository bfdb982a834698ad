"""How well the reply-act rules (compendium.acts) do on posts they were not written on.

    .venv/bin/python benchmarks/acts_bank.py

The rules were written while reading the 210 posts the committed screenshots show, so the macro-F1 the pipeline
reports (data/derived/act_quality.csv) is *in-sample*. The synthetic thread bank holds more posts than the pages
show; every one carries a hand-assigned act. This script classifies the whole bank from its clean text (no OCR)
and reports the macro-F1 on the posts on the pages and on those that are not: the second is the honest estimate
of how the rules do on new material. Mentions are written as pseudonyms, as the pipeline's posts.csv has them.

A third set, ``benchmarks/data/acts_fresh.csv`` (26 threads, 118 posts), was written and labelled from the written
definitions by an annotator who had seen neither the rules nor the bank, *after* the rules' first revision and
before their last, and is never used to change them: the estimate that has not been looked into.

A second, independent labelling pass of the whole bank (``synthdata/acts_second_coder.csv``, made from the same
written definitions without seeing the first labels or the rules) gives the ceiling: how far two readers agree
(Cohen's kappa and macro-F1 between them).
"""

from __future__ import annotations

from pathlib import Path

import re

import pandas as pd
import yaml
from sklearn.metrics import cohen_kappa_score, f1_score

from compendium import acts, render
from compendium.synth import DATA

ROOT = Path(__file__).resolve().parents[1]
FRESH = Path(__file__).resolve().parent / "data" / "acts_fresh.csv"


def bank() -> pd.DataFrame:
    members = yaml.safe_load((DATA / "members.yml").read_text(encoding="utf-8"))["members"]
    threads = yaml.safe_load((DATA / "threads.yml").read_text(encoding="utf-8"))["threads"]
    shown = set(
        pd.read_csv(ROOT / "data/raw/private/screenshots/transcribed.csv", dtype=str, keep_default_na=False)["text"]
    )
    pseudonym = {m["key"]: m["pseudonym"] for m in members}
    raw: dict[str, str] = {}

    def walk(post, tid, path):
        raw[f"{tid}/{path}"] = post.get("text", "")
        for i, r in enumerate(post.get("replies") or [], 1):
            walk(r, tid, f"{path}.{i}")

    for t in threads:
        for i, post in enumerate(t.get("posts") or [], 1):
            walk(post, str(t["id"]), str(i))
    rows = []
    for f in render.flatten(threads, members):
        pid = f"{f['thread_id']}/{f['bank_post']}"
        text = re.sub(r"@?\{(?:first|handle|name):(\w+)\}", lambda m: pseudonym.get(m.group(1), "P00"), raw[pid])
        rows.append(
            {
                "post_id": pid,
                "thread_id": f["thread_id"],
                "depth": f["depth"],
                "author": f["author_key"],
                "text": text,
                "label": f["act"],
                "parent_post_id": f"{f['thread_id']}/{f['bank_parent']}" if f["bank_parent"] else "",
                "on_pages": f["text"] in shown,
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    b = bank()
    predicted = acts.classify(b).set_index("post_id")["act"]
    print("| posts | n | macro-F1 | " + " | ".join(f"F1 {a}" for a in acts.ACTS) + " |")
    print("|---|---|---|" + "---|" * len(acts.ACTS))
    for name, sub in (
        ("on the pages (in-sample)", b[b.on_pages]),
        ("not on the pages (read while revising the rules)", b[~b.on_pages]),
        ("whole bank", b),
    ):
        scores, _ = acts.evaluate(predicted[sub["post_id"]], sub.set_index("post_id")["label"])
        f1 = dict(zip(scores["act"], scores["f1"]))
        print(f"| {name} | {len(sub)} | {f1['macro']:.3f} | " + " | ".join(f"{f1[a]:.2f}" for a in acts.ACTS) + " |")
    fresh = pd.read_csv(FRESH, dtype=str, keep_default_na=False).astype({"depth": int})
    scores, _ = acts.evaluate(acts.classify(fresh).set_index("post_id")["act"], fresh.set_index("post_id")["label"])
    f1 = dict(zip(scores["act"], scores["f1"]))
    print(
        f"| fresh set (never looked into) | {len(fresh)} | {f1['macro']:.3f} | "
        + " | ".join(f"{f1[a]:.2f}" for a in acts.ACTS)
        + " |"
    )
    second = pd.read_csv(DATA / "acts_second_coder.csv").set_index("path")["act"]
    b["second"] = b["post_id"].map(second)
    print()
    print("| posts | n | kappa, coder 1 vs 2 | macro-F1, coder 2 vs 1 | macro-F1, rules vs coder 2 |")
    print("|---|---|---|---|---|")
    for name, sub in (("on the pages", b[b.on_pages]), ("not on the pages", b[~b.on_pages]), ("whole bank", b)):
        print(
            f"| {name} | {len(sub)} | {cohen_kappa_score(sub['label'], sub['second']):.3f} | "
            f"{f1_score(sub['label'], sub['second'], average='macro'):.3f} | "
            f"{f1_score(sub['second'], predicted[sub['post_id']], average='macro'):.3f} |"
        )


if __name__ == "__main__":
    main()
