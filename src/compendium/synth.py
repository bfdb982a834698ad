"""Write the synthetic WITI corpus: a complete ``data/raw`` tree of the study's design.

Everything in it is fictitious. The text material (transcripts, field notes, codebook, study facts, members and
the thread bank the screenshots are drawn from) was authored for this compendium and lives in ``synthdata/``;
this module assembles it, renders the screenshots, turns coder A's quoted codings into character offsets, derives
coder B's double coding, and writes the checksum manifest. The same ``seed`` and ``scale`` always give the same
bytes: ``compendium synth --out DIR`` with the defaults reproduces the committed ``data/raw``.

Coder B double-codes a seeded ~1/3 of the sources. Their disagreement with coder A is *systematic*, as between
real coders, not noise:

- B lumps two affordance codes under their parent (``AFF-NOTIF`` and ``AFF-FILE`` -> ``AFF``);
- B finds ``SYMM`` (symmetry) too abstract to code at utterance level and applies it only half the time;
- B reads some verification talk as peer authority (``VERIFY`` -> ``PEER-AUTH``);
- B sees role fluidity in much explaining (adds ``ROLE-FLUID`` beside ``EXPLAIN``) and anxiety where A saw safety
  (adds ``ANXIETY`` beside ``SAFE``);
- B codes whole sentences where A coded a phrase, so B's codes sometimes reach a neighbouring sentence;
- and, being human, B misses a few applications (7%, seeded).

``scale`` K > 1 (for benchmarks) repeats the authored material K times under new pseudonyms and ids, and draws
35*K screenshots: it measures speed, not analysis.
"""

from __future__ import annotations

import copy
import random
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from . import manifest, render, transcripts
from .errors import InputError
from .tables import write_csv

DEFAULT_SEED = 2107
DATA = Path(__file__).parent / "synthdata"
N_SCREENSHOTS = 35
N_PARTICIPANTS = 14
CODING_COLUMNS = ["coder", "source_id", "start", "end", "code_id", "memo"]
B_SHARE = {"interview": 5, "fieldnote": 4, "screenshot": 12}  # sources coder B double-codes (of 14, 10+, 35)


def _load_yaml(path: Path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _renumber(pseudonym: str, k: int) -> str:
    return f"P{int(pseudonym[1:]) + N_PARTICIPANTS * k:02d}"


def _scaled_transcript(text: str, pseudonym: str, k: int) -> str:
    if k == 0:
        return text
    new = _renumber(pseudonym, k)
    text = re.sub(rf"(?m)^participant:\s*{pseudonym}\s*$", f"participant: {new}", text)
    return re.sub(rf"(?m)^{pseudonym}:", f"{new}:", text)


def _quote_offsets(text: str, quote: str, where: str) -> tuple[int, int]:
    i = text.find(quote)
    if i < 0 or text.find(quote, i + 1) >= 0:
        raise InputError(
            "coded quote must occur exactly once "
            + ("(not found)" if i < 0 else "(found twice)")
            + f": {quote[:40]!r}",
            where,
        )
    return i, i + len(quote)


def roster_frame(members: list[dict]) -> pd.DataFrame:
    rows = [
        {
            "pseudonym": m["pseudonym"],
            "display_name": m["display_name"],
            "handle": m["handle"],
            "aliases": ";".join(m.get("aliases") or []),
        }
        for m in members
    ]
    return pd.DataFrame(rows, columns=["pseudonym", "display_name", "handle", "aliases"])


def _scaled_threads(threads: list[dict], scale: int) -> list[dict]:
    out = []
    for k in range(scale):
        for t in threads:
            t2 = copy.deepcopy(t)
            if k:
                t2["id"] = f"{t['id']}-r{k + 1}"
            out.append(t2)
    return out


def _post_codes(threads: list[dict]) -> dict[tuple[str, str], list[str]]:
    """``{(thread_id, bank_post path): [codes]}`` matching :func:`render.flatten`'s paths."""
    out = {}

    def walk(post, tid, path):
        out[(tid, path)] = list(post.get("codes") or [])
        for i, r in enumerate(post.get("replies") or [], 1):
            walk(r, tid, f"{path}.{i}")

    for t in threads:
        for i, p in enumerate(t.get("posts") or [], 1):
            walk(p, str(t["id"]), str(i))
    return out


def coder_a(
    texts: dict[str, str], sidecars: dict[str, list[dict]], post_rows: pd.DataFrame, post_codes: dict
) -> pd.DataFrame:
    rows = []
    for sid in sorted(sidecars):
        for entry in sidecars[sid]:
            start, end = _quote_offsets(texts[sid], entry["quote"], f"synthdata sidecar of {sid}")
            for code in entry["codes"]:
                rows.append(
                    {
                        "coder": "A",
                        "source_id": sid,
                        "start": start,
                        "end": end,
                        "code_id": code,
                        "memo": entry.get("memo", "") or "",
                    }
                )
    for r in post_rows.itertuples():
        for code in post_codes.get((r.thread_id, r.bank_post), []):
            rows.append(
                {
                    "coder": "A",
                    "source_id": f"{r.screenshot_id}#{r.post_index}",
                    "start": "",
                    "end": "",
                    "code_id": code,
                    "memo": "",
                }
            )
    return pd.DataFrame(rows, columns=CODING_COLUMNS)


def _sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to whole sentences within its line (coder B marks whole sentences)."""
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", end)
    le = len(text) if le < 0 else le
    m = re.match(r"(Interviewer|I|P\d{2,3})[ \t]*:[ \t]*", text[ls:le])
    ls += m.end() if m else 0
    before = [b.end() for b in re.finditer(r"[.?!][\])]?\s+", text[ls:start])]
    s = ls + before[-1] if before else ls
    after = re.search(r"[.?!][\])]?(?=\s|$)", text[end - 1 : le]) if end > ls else None
    e = end - 1 + after.end() if after else le
    return min(s, start), max(e, end)


def coder_b(a: pd.DataFrame, texts: dict[str, str], source_types: dict[str, str], seed: int) -> pd.DataFrame:
    """Coder B's double coding of a seeded share of the sources, with systematic disagreement (module doc)."""
    rng = random.Random(f"{seed}-coder-b")
    chosen: set[str] = set()
    for kind, n in B_SHARE.items():
        pool = sorted(s for s, t in source_types.items() if t == kind)
        k = max(1, round(len(pool) * n / {"interview": 14, "fieldnote": 10, "screenshot": 35}[kind]))
        chosen.update(rng.sample(pool, min(k, len(pool))))
    rows = []
    for r in a.itertuples():
        base = r.source_id.split("#")[0]
        if base not in chosen:
            continue
        if rng.random() < 0.07:
            continue  # missed
        code, memo = r.code_id, ""
        if code in ("AFF-NOTIF", "AFF-FILE"):
            code, memo = "AFF", "coded at the level of affordances"
        elif code == "SYMM" and rng.random() < 0.5:
            continue
        elif code == "VERIFY" and rng.random() < 0.4:
            code = "PEER-AUTH"
        start, end = r.start, r.end
        if r.start != "":
            start, end = _sentence_span(texts[r.source_id], int(r.start), int(r.end))
        rows.append({"coder": "B", "source_id": r.source_id, "start": start, "end": end, "code_id": code, "memo": memo})
        if r.code_id == "EXPLAIN" and rng.random() < 0.5:
            rows.append(
                {
                    "coder": "B",
                    "source_id": r.source_id,
                    "start": start,
                    "end": end,
                    "code_id": "ROLE-FLUID",
                    "memo": "explaining as a shift of role",
                }
            )
        if r.code_id == "SAFE" and rng.random() < 0.3:
            rows.append(
                {
                    "coder": "B",
                    "source_id": r.source_id,
                    "start": start,
                    "end": end,
                    "code_id": "ANXIETY",
                    "memo": "reads the fear behind the safety",
                }
            )
    df = pd.DataFrame(rows, columns=CODING_COLUMNS)
    return df.drop_duplicates(subset=["source_id", "start", "end", "code_id"], keep="first")


def first_pass(
    a: pd.DataFrame, history: list[dict], dates: dict[str, str], plan: dict, source_types: dict[str, str]
) -> dict[int, pd.DataFrame]:
    """Coder A's first pass of every source, by round (``{round: coding rows}``): the round that first lists the
    source in its ``sources`` codes it with the codes that existed then (``synthdata/first_pass.yml``). Within a
    round, interviews are coded in date order, and an inductive code exists from the source where it was first
    noted; field notes and screenshots get the codes of their round's end. Sources no round lists are left out."""
    first_round: dict[str, int] = {}
    for entry in history:
        for sid in entry.get("sources") or []:
            first_round.setdefault(str(sid), int(entry["round"]))
    noted = {str(k): str(v) for k, v in (plan.get("first_noted") or {}).items()}
    renamed = {str(k): str(v) for k, v in (plan.get("before_round_3") or {}).items()}
    added_in = {str(c): int(e["round"]) for e in history for c in (e.get("codes_added") or [])}
    order = sorted(first_round, key=lambda s: (first_round[s], dates.get(s, "9999"), s))
    position = {s: i for i, s in enumerate(order)}
    out: dict[int, list[dict]] = {}
    for r in a.itertuples(index=False):
        sid = str(r.source_id).split("#")[0]
        if sid not in first_round:
            continue
        rnd = first_round[sid]
        code = r.code_id
        if code in noted and noted[code] in position:
            is_interview = source_types.get(sid) == "interview"
            if is_interview and position[sid] < position[noted[code]]:
                continue
            if not is_interview and first_round[noted[code]] > rnd:
                continue
        elif added_in.get(code, 1) > rnd:
            continue
        if rnd < 3:
            code = renamed.get(code, code)
        out.setdefault(rnd, []).append({**r._asdict(), "code_id": code})
    return {k: _sort_coding(pd.DataFrame(v, columns=CODING_COLUMNS)).drop_duplicates() for k, v in sorted(out.items())}


def _sort_coding(df: pd.DataFrame) -> pd.DataFrame:
    key = df.assign(
        _s=pd.to_numeric(df["start"], errors="coerce").fillna(-1),
        _p=df["source_id"].str.extract(r"#(\d+)$")[0].astype(float).fillna(0),
        _b=df["source_id"].str.split("#").str[0],
    )
    key = key.sort_values(["_b", "_p", "_s", "end", "code_id"], kind="mergesort")
    return key[CODING_COLUMNS].reset_index(drop=True)


SCENARIOS = ("default", "centralised")
TUTORS = 3  # members who answer in the centralised scenario
TUTOR_ANSWERS = 0.95


def centralise(threads: list[dict], members: list[dict], participants: pd.DataFrame, seed: int) -> list[dict]:
    """The **centralised** scenario: the same threads, texts and acts, but a tutor-led community. The
    :data:`TUTORS` most senior participants (highest year of study; ties by pseudonym) are the tutors; every
    answer-type reply (act ``answer`` or ``elaboration``) is written by a tutor with probability
    :data:`TUTOR_ANSWERS` (never one answering their own post), and every other post a tutor wrote (a question,
    a thanks, a remark) is given to a learner: tutors only answer. Learners' other posts keep their authors. Seeded: the same seed, the same
    corpus. For testing that the evidence and the claims table say "centralised" when the community is."""
    rng = random.Random(f"{seed}-centralised")
    years = dict(zip(participants["pseudonym"], pd.to_numeric(participants["year_of_study"])))
    keys = {m["pseudonym"]: m["key"] for m in members}
    tutors = [keys[p] for p, _ in sorted(years.items(), key=lambda kv: (-kv[1], kv[0])) if p in keys][:TUTORS]
    learners = sorted(m["key"] for m in members if m["key"] not in tutors)
    out = copy.deepcopy(threads)

    def walk(post: dict, parent_author: str | None) -> None:
        answer = parent_author is not None and post.get("act") in ("answer", "elaboration")
        if answer and rng.random() < TUTOR_ANSWERS:
            post["author"] = rng.choice([t for t in tutors if t != parent_author])
        elif not answer and post.get("author") in tutors:
            post["author"] = rng.choice([m for m in learners if m != parent_author])  # tutors only answer
        for reply in post.get("replies") or []:
            walk(reply, post.get("author"))

    for thread in out:
        for post in thread.get("posts") or []:
            walk(post, None)
    return out


def build(out: Path, seed: int = DEFAULT_SEED, scale: int = 1, scenario: str = "default") -> None:
    """Write the corpus into an existing empty folder ``out``; ``scenario`` "centralised" writes the tutor-led
    variant (:func:`centralise`)."""
    if scenario not in SCENARIOS:
        raise InputError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}", "--scenario")
    for name in ("README.md", "study.yml", "interview_guide.md", "codebook.yml"):
        shutil.copyfile(DATA / name, out / name)
    participants = pd.read_csv(DATA / "participants.csv", dtype=str, keep_default_na=False)
    parts = []
    for k in range(scale):
        p = participants.copy()
        p["pseudonym"] = [_renumber(x, k) for x in p["pseudonym"]]
        parts.append(p)
    write_csv(pd.concat(parts, ignore_index=True), out / "participants.csv")

    texts: dict[str, str] = {}
    sidecars: dict[str, list[dict]] = {}
    types: dict[str, str] = {}
    (out / "transcripts").mkdir()
    (out / "fieldnotes").mkdir()
    for k in range(scale):
        for src in sorted((DATA / "transcripts").glob("P*.txt")):
            text = _scaled_transcript(src.read_text(encoding="utf-8"), src.stem, k)
            sid = _renumber(src.stem, k)
            (out / "transcripts" / f"{sid}.txt").write_text(text, encoding="utf-8", newline="\n")
            texts[sid], types[sid] = text, "interview"
            sidecars[sid] = _load_yaml(src.with_suffix(".codes.yml")) or []
        for src in sorted((DATA / "fieldnotes").glob("FN-*.md")):
            sid = src.stem if k == 0 else f"{src.stem}-r{k + 1}"
            text = src.read_text(encoding="utf-8")
            (out / "fieldnotes" / f"{sid}.md").write_text(text, encoding="utf-8", newline="\n")
            texts[sid], types[sid] = text, "fieldnote"
            sidecars[sid] = _load_yaml(DATA / "fieldnotes" / f"{src.stem}.codes.yml") or []

    members = _load_yaml(DATA / "members.yml")["members"]
    threads = _scaled_threads(_load_yaml(DATA / "threads.yml")["threads"], scale)
    if scenario == "centralised":
        threads = centralise(threads, members, participants, seed)
    private = out / "private"
    (private / "screenshots").mkdir(parents=True)
    write_csv(roster_frame(members), private / "roster.csv")
    rows = render.write_screenshots(private / "screenshots", members, threads, seed=seed, n_pages=N_SCREENSHOTS * scale)
    write_csv(rows.drop(columns=["thread_id", "bank_post"]), private / "screenshots" / "transcribed.csv")
    for sid in rows["screenshot_id"].unique():
        types[sid] = "screenshot"

    a = coder_a(texts, sidecars, rows, _post_codes(threads))
    b = coder_b(a, texts, types, seed)
    (out / "coding").mkdir()
    write_csv(_sort_coding(a), out / "coding" / "A.csv")
    write_csv(_sort_coding(b), out / "coding" / "B.csv")
    history = _load_yaml(DATA / "codebook.yml")["history"]
    dates = {sid: str(transcripts.front_matter(texts[sid], sid)[0].get("date", "")) for sid in texts}
    rounds = first_pass(a, history, dates, _load_yaml(DATA / "first_pass.yml"), types)
    (out / "coding" / "rounds").mkdir()
    for rnd, rows in rounds.items():
        write_csv(rows, out / "coding" / "rounds" / f"{rnd}-A.csv")
    manifest.write(out)


def write_corpus(out: str | Path, seed: int = DEFAULT_SEED, scale: int = 1, scenario: str = "default") -> Path:
    """Write a complete synthetic raw tree to ``out`` (absent or empty), atomically."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError("output folder exists and is not empty", out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".synth-", dir=parent))
    try:
        build(tmp, seed=seed, scale=scale, scenario=scenario)
        if out.exists():
            out.rmdir()
        tmp.replace(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out
