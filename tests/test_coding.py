"""Tests for compendium.coding: loading coding files, units, consensus, counts, audit."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from compendium import codebook as cbmod
from compendium import coding
from compendium.errors import InputError
from compendium.tables import read_csv, write_csv

CODEBOOK = """\
version: "1"
themes:
  - {id: T1, label: Engagement in a connective space, definition: d1}
  - {id: T2, label: Decentralization of knowledge and authority, definition: d2}
codes:
  - {id: AFF, label: Platform affordances, theme: T1, origin: deductive, definition: x,
     indicators: [platform]}
  - {id: AFF-REACT, label: Reactions, theme: T1, parent: AFF, origin: deductive, definition: x,
     indicators: [heart*, "so many like*"]}
  - {id: AFF-ANON, label: Anonymous posting, theme: T2, parent: AFF, origin: deductive,
     definition: x, indicators: [anonymous*, anon]}
  - {id: SAFE, label: Safety to ask, theme: T2, origin: inductive, definition: x,
     indicators: [stupid question]}
  - {id: ARCHIVE, label: Archive, theme: T1, origin: inductive, definition: x,
     indicators: [search]}
history:
  - {date: 2023-03-01, change: first}
"""

# Two interviews and a field note; segments are sentences/turns.
TEXTS = {
    "P01": (
        "Interviewer: What is WITI to you?\nP01: I ask stupid questions anonymously. The hearts tell me who is right.\n"
    ),
    "P02": ("Interviewer: And you?\nP02: So many likes on a good answer. I search the old posts before exams.\n"),
    "FN-2023-02-01": "Observed a heart storm under an anonymous question.\n",
}
SEGMENTS_SPEC = [  # (segment_id, source, substring, speaker, role, participant, date)
    ("P01:0001", "P01", "What is WITI to you?", "Interviewer", "interviewer", "P01"),
    ("P01:0002", "P01", "I ask stupid questions anonymously.", "P01", "participant", "P01"),
    ("P01:0003", "P01", "The hearts tell me who is right.", "P01", "participant", "P01"),
    ("P02:0001", "P02", "And you?", "Interviewer", "interviewer", "P02"),
    ("P02:0002", "P02", "So many likes on a good answer.", "P02", "participant", "P02"),
    ("P02:0003", "P02", "I search the old posts before exams.", "P02", "participant", "P02"),
    (
        "FN-2023-02-01:0001",
        "FN-2023-02-01",
        "Observed a heart storm under an anonymous question.",
        "observer",
        "observer",
        "",
    ),
]


def make_segments() -> pd.DataFrame:
    rows = []
    for sid, src, sub, speaker, role, part in SEGMENTS_SPEC:
        start = TEXTS[src].index(sub)
        rows.append(
            {
                "segment_id": sid,
                "source_id": src,
                "source_type": "fieldnote" if src.startswith("FN") else "interview",
                "turn": 1,
                "speaker": speaker,
                "speaker_role": role,
                "participant": part,
                "start": start,
                "end": start + len(sub),
                "text": sub,
            }
        )
    return pd.DataFrame(rows)


def make_posts() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "post_id": "WITI-001#1",
                "screenshot_id": "WITI-001",
                "post_index": 1,
                "depth": 0,
                "parent_post_id": "",
                "thread_id": "WITI-001#1",
                "author": "P01",
                "text": "What is the Krebs cycle for?",
            },
            {
                "post_id": "WITI-001#2",
                "screenshot_id": "WITI-001",
                "post_index": 2,
                "depth": 1,
                "parent_post_id": "WITI-001#1",
                "thread_id": "WITI-001#1",
                "author": "M20",
                "text": "This is how cells make energy.",
            },
            {
                "post_id": "WITI-001#10",
                "screenshot_id": "WITI-001",
                "post_index": 10,
                "depth": 0,
                "parent_post_id": "",
                "thread_id": "WITI-001#10",
                "author": "Anonymous member",
                "text": "Is it stupid to ask?",
            },
        ]
    )


LENGTHS = {k: len(v) for k, v in TEXTS.items()}


def span(src: str, sub: str) -> tuple[int, int]:
    s = TEXTS[src].index(sub)
    return s, s + len(sub)


@pytest.fixture
def cb(tmp_path):
    p = tmp_path / "codebook.yml"
    p.write_text(CODEBOOK, encoding="utf-8")
    return cbmod.load(p)


def write_coding(path: Path, rows: list[tuple]) -> Path:
    lines = ["coder,source_id,start,end,code_id,memo"]
    for r in rows:
        lines.append(",".join("" if v is None else str(v) for v in r))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def coding_rows() -> tuple[list, list]:
    a0, a1 = span("P01", "I ask stupid questions anonymously.")
    h0, h1 = span("P01", "The hearts tell me who is right.")
    l0, l1 = span("P02", "So many likes on a good answer.")
    s0, s1 = span("P02", "I search the old posts before exams.")
    f0, f1 = span("FN-2023-02-01", "heart storm")
    rows_a = [
        ("A", "P01", a0, a1, "SAFE", "asks only anonymously"),
        ("A", "P01", a0 + 6, a1, "AFF-ANON", ""),  # part of the sentence
        ("A", "P01", h0, h1, "AFF-REACT", ""),
        ("A", "P02", l0, l1, "AFF-REACT", ""),
        ("A", "P02", s0, s1, "ARCHIVE", ""),
        ("A", "FN-2023-02-01", f0, f1, "AFF-REACT", "field note"),
        ("A", "WITI-001#10", None, None, "SAFE", ""),
    ]
    rows_b = [
        ("B", "P01", a0, h1, "SAFE", "spans two sentences"),  # covers P01:0002 and P01:0003
        ("B", "P01", a0, a1, "AFF-ANON", ""),
        ("B", "P02", l0, l1, "AFF-REACT", ""),
        ("B", "WITI-001#2", None, None, "ARCHIVE", ""),
    ]
    return rows_a, rows_b


@pytest.fixture
def files(tmp_path):
    ra, rb = coding_rows()
    return [write_coding(tmp_path / "A.csv", ra), write_coding(tmp_path / "B.csv", rb)]


POST_IDS = {"WITI-001#1", "WITI-001#2", "WITI-001#10"}


# ----------------------------------------------------------------------------- load


def test_load(cb, files):
    df = coding.load(files, cb, LENGTHS, POST_IDS)
    assert list(df.columns) == coding.COLUMNS
    assert len(df) == 11
    assert str(df["start"].dtype) == "Int64"
    post = df[df["source_id"] == "WITI-001#10"].iloc[0]
    assert pd.isna(post["start"]) and pd.isna(post["end"])
    assert df.loc[0, "memo"] == "" or isinstance(df.loc[0, "memo"], str)
    # deterministic order: coder, then source in natural order
    assert df["coder"].tolist() == ["A"] * 7 + ["B"] * 4


def test_load_single_path_and_duplicates(cb, tmp_path):
    ra, _ = coding_rows()
    p = write_coding(tmp_path / "A.csv", ra + ra[:2])
    assert len(coding.load(p, cb, LENGTHS, POST_IDS)) == 7


def test_load_crlf_bom_and_quoted_memo(cb, tmp_path):
    s, e = span("P01", "The hearts tell me who is right.")
    text = (
        "coder,source_id,start,end,code_id,memo\r\n"
        f'A,P01,{s},{e},AFF-REACT,"a memo, with comma\r\nand a newline"\r\n'
        f"A,P01,{s},{e},BAD,\r\n"
    )
    p = tmp_path / "A.csv"
    p.write_bytes(b"\xef\xbb\xbf" + text.encode())
    with pytest.raises(InputError) as err:
        coding.load(p, cb, LENGTHS, POST_IDS)
    assert err.value.line == 4  # the memo spans lines 2-3
    assert str(err.value) == f"{p}:4: unknown code 'BAD'"


@pytest.mark.parametrize(
    "row,message",
    [
        (("A", "P01", 0, 5, "NOPE", ""), "unknown code 'NOPE'"),
        (("A", "P99", 0, 5, "SAFE", ""), "unknown source 'P99'"),
        (("A", "WITI-009#1", None, None, "SAFE", ""), "unknown source 'WITI-009#1'"),
        (("A", "P01", 5, 5, "SAFE", ""), "bad offsets [5, 5)"),
        (("A", "P01", 10, 5, "SAFE", ""), "bad offsets"),
        (("A", "P01", -1, 5, "SAFE", ""), "bad offsets"),
        (("A", "P01", 0, LENGTHS["P01"] + 1, "SAFE", ""), "bad offsets"),
        (("A", "P01", "x", 5, "SAFE", ""), "start offset 'x' is not an integer"),
        (("A", "P01", None, None, "SAFE", ""), "start and end offsets are required"),
        (("A", "WITI-001#1", 0, 3, "SAFE", ""), "offsets must be empty"),
        (("", "P01", 0, 5, "SAFE", ""), "empty coder"),
    ],
)
def test_load_errors_name_file_and_row(cb, tmp_path, row, message):
    ra, _ = coding_rows()
    p = write_coding(tmp_path / "A.csv", ra[:2] + [row])
    with pytest.raises(InputError) as err:
        coding.load([p], cb, LENGTHS, POST_IDS)
    assert message in err.value.message
    assert err.value.path == str(p)
    assert err.value.line == 4  # header is line 1, two good rows


def test_load_bad_header(cb, tmp_path):
    p = tmp_path / "A.csv"
    p.write_text("coder,source,start,end,code_id,memo\nA,P01,0,5,SAFE,\n")
    with pytest.raises(InputError, match="missing column.*source_id") as err:
        coding.load(p, cb, LENGTHS, POST_IDS)
    assert err.value.line == 1


def test_load_empty_file(cb, tmp_path):
    p = tmp_path / "A.csv"
    p.write_text("")
    with pytest.raises(InputError, match="empty file"):
        coding.load(p, cb, LENGTHS, POST_IDS)


# ----------------------------------------------------------------------------- units


@pytest.fixture
def loaded(cb, files):
    codings = coding.load(files, cb, LENGTHS, POST_IDS)
    segs = make_segments()
    posts = make_posts()
    return codings, segs, posts


def test_unit_table():
    ut = coding.unit_table(make_segments(), make_posts())
    assert len(ut) == 10
    posts = ut[ut["unit_type"] == "post"].set_index("unit_id")
    assert posts.loc["WITI-001#1", "source_id"] == "WITI-001"
    assert posts.loc["WITI-001#1", "participant"] == "P01"  # author is an interviewee
    assert posts.loc["WITI-001#2", "participant"] == ""  # M20 is not
    # natural order: #2 before #10
    ids = ut["unit_id"].tolist()
    assert ids.index("WITI-001#2") < ids.index("WITI-001#10")


def test_units_overlap_mapping(loaded):
    codings, segs, posts = loaded
    u = coding.units(codings, segs, posts)
    assert list(u.columns) == ["coder", "unit_id", "source_id", "code_id"]
    b_safe = set(u[(u["coder"] == "B") & (u["code_id"] == "SAFE")]["unit_id"])
    assert b_safe == {"P01:0002", "P01:0003"}
    a_anon = set(u[(u["coder"] == "A") & (u["code_id"] == "AFF-ANON")]["unit_id"])
    assert a_anon == {"P01:0002"}
    post = u[u["unit_id"] == "WITI-001#10"].iloc[0]
    assert post["source_id"] == "WITI-001" and post["code_id"] == "SAFE"
    assert not u.duplicated(["coder", "unit_id", "code_id"]).any()
    # a larger min_overlap drops the 1-sentence spill-over... here both overlaps are full
    assert len(coding.units(codings, segs, posts, min_overlap=1000)) == 2  # posts only


def test_units_no_overlap_dropped(cb):
    segs = make_segments()
    codings = pd.DataFrame([{"coder": "A", "source_id": "P01", "start": 0, "end": 5, "code_id": "SAFE", "memo": ""}])
    # [0, 5) is "Inter" of "Interviewer:", before the first segment starts
    assert coding.units(codings, segs).empty


# ----------------------------------------------------------------------------- consensus


@pytest.fixture
def coded(loaded):
    codings, segs, posts = loaded
    return coding.units(codings, segs, posts)


def as_set(df):
    return set(zip(df["unit_id"], df["code_id"], df["agreement"]))


def test_consensus_union(coded):
    c = coding.consensus(coded, rule="union")
    assert list(c.columns) == ["unit_id", "source_id", "code_id", "coders", "agreement"]
    s = as_set(c)
    assert ("P01:0002", "SAFE", "both") in s
    assert ("P01:0002", "AFF-ANON", "both") in s
    assert ("P01:0003", "SAFE", "only_B") in s
    assert ("P01:0003", "AFF-REACT", "only_A") in s
    assert ("P02:0002", "AFF-REACT", "both") in s
    assert ("P02:0003", "ARCHIVE", "only_A") in s
    # field note coded by A only -> single; page WITI-001 coded by both -> only_*
    assert ("FN-2023-02-01:0001", "AFF-REACT", "single") in s
    assert ("WITI-001#10", "SAFE", "only_A") in s
    assert ("WITI-001#2", "ARCHIVE", "only_B") in s
    assert len(c) == 9


def test_consensus_intersection_and_lead(coded):
    inter = as_set(coding.consensus(coded, rule="intersection"))
    assert {a for *_, a in inter} == {"both", "single"}
    assert ("FN-2023-02-01:0001", "AFF-REACT", "single") in inter
    assert len(inter) == 4
    lead_a = coding.consensus(coded, lead="A", rule="lead")
    assert not (lead_a["agreement"] == "only_B").any()
    assert len(lead_a) == 7
    lead_b = coding.consensus(coded, lead="B", rule="lead")
    assert set(lead_b["agreement"]) == {"both", "only_B", "single"}


def test_consensus_bad_rule(coded):
    with pytest.raises(ValueError):
        coding.consensus(coded, rule="majority")


def test_consensus_deterministic(coded):
    shuffled = coded.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(coding.consensus(coded), coding.consensus(shuffled))


# ----------------------------------------------------------------------------- frequencies


def test_frequencies(cb, coded):
    c = coding.consensus(coded)
    ut = coding.unit_table(make_segments(), make_posts())
    f = coding.frequencies(c, cb, ut).set_index("code_id")
    assert list(f.index) == cb.code_ids
    assert f.loc["AFF-REACT", "n_units"] == 3  # P01:0003, P02:0002, FN
    assert f.loc["AFF-REACT", "n_sources"] == 3
    assert f.loc["AFF-REACT", "n_participants"] == 2  # P01, P02 (field note has none)
    assert f.loc["SAFE", "n_units"] == 3  # P01:0002, P01:0003, WITI-001#10
    assert f.loc["SAFE", "n_participants"] == 1  # anonymous post is nobody
    assert f.loc["AFF", "n_units"] == 0
    assert f.loc["SAFE", "label"] == "Safety to ask"


def test_frequencies_csv_bytes_stable(cb, coded, tmp_path):
    c = coding.consensus(coded)
    ut = coding.unit_table(make_segments(), make_posts())
    p1 = write_csv(coding.frequencies(c, cb, ut), tmp_path / "a.csv")
    p2 = write_csv(coding.frequencies(c, cb, ut), tmp_path / "b.csv")
    assert p1.read_bytes() == p2.read_bytes()
    assert read_csv(p1).columns.tolist()[:3] == ["code_id", "label", "theme"]


# ----------------------------------------------------------------------------- saturation


def test_saturation():
    cons = pd.DataFrame(
        {
            "unit_id": ["x"] * 7,
            "code_id": ["A", "B", "B", "C", "A", "D", "A"],
            "source_id": ["P02", "P02", "P01", "P01", "P03", "P03", "P10"],
        }
    )
    sources = pd.DataFrame(
        {"source_id": ["P01", "P02", "P03", "P10"], "date": ["2023-03-05", "2023-03-01", "2023-04-01", "2023-04-01"]}
    )
    s = coding.saturation(cons, sources)
    assert s["source_id"].tolist() == ["P02", "P01", "P03", "P10"]
    assert s["new_codes"].tolist() == [2, 1, 1, 0]
    assert s["cumulative_codes"].tolist() == [2, 3, 4, 4]
    assert s["new_code_ids"].tolist() == ["A;B", "C", "D", ""]
    assert s["cumulative_share"].tolist() == [0.5, 0.75, 1.0, 1.0]
    assert s["order"].tolist() == [1, 2, 3, 4]


# ----------------------------------------------------------------------------- retrieval audit


@pytest.fixture(scope="module")
def lemmatize():
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()

    def run(texts):
        return [[(t.lower_, t.lemma_.lower()) for t in doc] for doc in nlp.pipe(texts)]

    return run


def test_indicator_matching():
    toks = [("so", "so"), ("many", "many"), ("likes", "like"), ("!", "!")]
    assert coding.match_indicator(toks, coding.compile_indicator("so many like*"))
    assert coding.match_indicator(toks, coding.compile_indicator("like"))  # lemma
    assert coding.match_indicator(toks, coding.compile_indicator("likes"))  # token
    assert not coding.match_indicator(toks, coding.compile_indicator("many so"))
    assert not coding.match_indicator(toks, coding.compile_indicator("lik"))
    assert coding.match_indicator(toks, coding.compile_indicator("lik*"))
    assert not coding.match_indicator([], coding.compile_indicator("so"))


def test_retrieval_audit(cb, coded, lemmatize):
    c = coding.consensus(coded)
    a = coding.retrieval_audit(cb, make_segments(), c, lemmatize).set_index("code_id")
    assert list(a.columns) == ["label", "n_indicators", "hits", "coded", "hits_coded", "precision", "recall"]
    # heart*: "hearts" (P01:0003), "heart storm" (FN); "so many like*": P02:0002
    r = a.loc["AFF-REACT"]
    assert (r["hits"], r["coded"], r["hits_coded"]) == (3, 3, 3)
    assert r["precision"] == 1.0 and r["recall"] == 1.0
    # "stupid question" matches the lemma of "stupid questions" (P01:0002); coded on 2 units
    s = a.loc["SAFE"]
    assert (s["hits"], s["coded"], s["hits_coded"]) == (1, 2, 1)  # post unit not a segment
    assert s["recall"] == 0.5
    # anonymous*: P01:0002 ("anonymously") and the field note; coded only on P01:0002
    an = a.loc["AFF-ANON"]
    assert (an["hits"], an["coded"], an["hits_coded"]) == (2, 1, 1)
    assert an["precision"] == 0.5
    # AFF: no hits, never coded -> undefined precision and recall
    assert a.loc["AFF", "hits"] == 0 and math.isnan(a.loc["AFF", "precision"])
    assert math.isnan(a.loc["AFF", "recall"])


def test_natural_key():
    ids = ["WITI-010#1", "WITI-002#10", "WITI-002#2", "P10", "P9"]
    assert sorted(ids, key=coding.natural_key) == ["P9", "P10", "WITI-002#2", "WITI-002#10", "WITI-010#1"]
    assert coding.document_of("WITI-002#10") == "WITI-002"
    assert coding.document_of("P03") == "P03"


def test_index_matches_naive_matcher():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    words = st.sampled_from(["a", "ab", "abc", "b", "ba", "c"])
    token = st.tuples(words, words)
    segment = st.lists(token, max_size=8)
    pattern = st.lists(st.tuples(st.sampled_from(["a", "ab", "b", "c"]), st.booleans()), min_size=1, max_size=3)

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(st.lists(segment, max_size=6), pattern)
    def check(tokenised, pat):
        index = coding._TokenIndex(tokenised)
        naive = {i for i, toks in enumerate(tokenised) if coding.match_indicator(toks, pat)}
        assert index.segments_matching(pat) == naive

    check()
