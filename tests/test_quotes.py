"""Traceable quotes (issue 11): every exemplar in theme_quotes.csv points back to its source, and the quote rule
spreads quotes over voices and source kinds, participants' words first."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import DERIVED, RAW
from PIL import Image

from compendium import codebook as cbmod
from compendium import themes, transcripts
from compendium.tables import read_csv, write_csv

NEW_COLUMNS = ["speaker_role", "text_source", "start", "end", "screenshot_id", "post_id", "box"]
MIN_CHARS = 40  # notebook 04's default min_quote_chars, with which the committed table was written


# --------------------------------------------------------------------------- the committed table


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return read_csv(DERIVED / "theme_quotes.csv", dtype=str)


@pytest.fixture(scope="module")
def posts() -> pd.DataFrame:
    return read_csv(DERIVED / "posts.csv", dtype=str).set_index("post_id")


@pytest.fixture(scope="module")
def verified() -> set[str]:
    return themes.verified_posts(read_csv(DERIVED / "ocr_post_quality.csv"))


def test_committed_columns(committed):
    assert list(committed.columns) == themes.QUOTE_COLUMNS
    assert set(NEW_COLUMNS) <= set(committed.columns)
    assert set(committed["text_source"]) <= {"transcript", "fieldnote", "verified", "ocr"}
    assert set(committed["speaker_role"]) <= {"participant", "observer", "member"}  # never the interviewer
    assert len(committed)


def test_committed_spoken_quotes_reproduce_from_raw_by_offsets(committed):
    texts = {s.source_id: s.text for s in transcripts.load_sources(RAW)}
    spoken = committed[committed["text_source"].isin(["transcript", "fieldnote"])]
    assert len(spoken)
    for q in spoken.itertuples():
        kind = {"interview": "transcript", "fieldnote": "fieldnote"}[q.source_type]
        assert q.text_source == kind, q.unit_id
        assert q.start != "" and q.end != "", q.unit_id
        assert texts[q.source_id][int(q.start) : int(q.end)] == q.text, q.unit_id
        assert q.screenshot_id == q.post_id == q.box == "", q.unit_id


def test_committed_post_quotes_have_box_screenshot_and_posts_text(committed, posts):
    pq = committed[committed["source_type"] == "post"]
    assert len(pq)
    for q in pq.itertuples():
        assert q.text_source in ("verified", "ocr"), q.unit_id
        assert q.post_id == q.unit_id and q.post_id in posts.index, q.unit_id
        post = posts.loc[q.post_id]
        assert q.screenshot_id == post["screenshot_id"] != ""
        assert q.text == post["text"], q.unit_id
        assert q.start == q.end == "", q.unit_id
        x0, y0, x1, y1 = json.loads(q.box)
        lines = json.loads(post["boxes"])
        assert (x0, y0, x1, y1) == (
            min(b[0] for b in lines),
            min(b[1] for b in lines),
            max(b[2] for b in lines),
            max(b[3] for b in lines),
        )
        with Image.open(DERIVED / "redacted" / f"{q.screenshot_id}.png") as page:  # same coordinates
            assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height, q.unit_id


def test_committed_post_text_source_follows_ocr_quality(committed, verified):
    pq = committed[committed["source_type"] == "post"]
    for q in pq.itertuples():
        assert q.text_source == ("verified" if q.post_id in verified else "ocr"), q.unit_id


def test_committed_no_ocr_quote_when_a_verified_post_was_eligible(committed, posts, verified):
    book = cbmod.load(RAW / "codebook.yml")
    theme_of = book.code_theme()
    coding = read_csv(DERIVED / "coding.csv", dtype=str)
    coding = coding[coding["unit_id"].isin(posts.index)].assign(theme=lambda d: d["code_id"].map(theme_of))
    for theme, g in committed.groupby("theme"):
        if not (g["text_source"] == "ocr").any():
            continue
        units = set(coding.loc[coding["theme"] == theme, "unit_id"])
        eligible = {u for u in units if u in verified and len(posts.loc[u, "text"]) >= MIN_CHARS}
        assert not eligible, (theme, sorted(eligible)[:3])


def test_committed_quotes_lead_with_participants_and_spread(committed):
    for theme, g in committed.groupby("theme"):
        g = g.sort_values("rank", key=lambda s: s.astype(int))
        assert g.iloc[0]["speaker_role"] == "participant", theme  # Table 2's exemplar: their own words
        assert (g["source_type"] == "fieldnote").sum() <= 1, theme
        voices = [p or s for p, s in zip(g["participant"], g["speaker"])]
        assert len(voices) == len(set(voices)), theme  # plenty of voices: none twice


# --------------------------------------------------------------------------- the rule, on a hand-built corpus

CODEBOOK = """\
version: "1"
themes:
  - {id: T1, label: One, definition: d1}
  - {id: T2, label: Two, definition: d2}
codes:
  - {id: A, label: A, theme: T1, origin: inductive, definition: d, indicators: [a]}
  - {id: B, label: B, theme: T1, origin: inductive, definition: d, indicators: [b]}
  - {id: C, label: C, theme: T1, origin: inductive, definition: d, indicators: [c]}
  - {id: X, label: X, theme: T2, origin: inductive, definition: d, indicators: [x]}
history:
  - {date: 2023-01-01, change: c}
"""

W = "w" * 50


@pytest.fixture
def cb():
    return cbmod.loads(CODEBOOK)


def _corpus(units):
    """units: (unit_id, source_type, speaker, role, participant, text, codes) -> consensus, unit table."""
    ut = pd.DataFrame(
        [
            {
                "unit_id": u,
                "source_id": u.split(":")[0].split("#")[0],
                "source_type": t,
                "speaker": s,
                "speaker_role": r,
                "participant": p,
                "text": x,
            }
            for u, t, s, r, p, x, _ in units
        ]
    )
    cons = pd.DataFrame(
        [
            {
                "unit_id": u,
                "source_id": u.split(":")[0].split("#")[0],
                "code_id": c,
                "coders": "A;B",
                "agreement": "both",
            }
            for u, *_, codes in units
            for c in codes
        ]
    )
    return cons, ut


def ids(q, theme="T1"):
    return q[q["theme"] == theme]["unit_id"].tolist()


def test_rule_quotes_every_participant_before_repeating_one(cb):
    cons, ut = _corpus(
        [
            ("P01:0001", "interview", "P01", "participant", "P01", "a " + W, "ABC"),
            ("P01:0002", "interview", "P01", "participant", "P01", "b " + W, "ABC"),
            ("P01:0003", "interview", "P01", "participant", "P01", "c " + W, "AB"),
            ("P02:0001", "interview", "P02", "participant", "P02", "d " + W, "A"),
            ("P03:0001", "interview", "P03", "participant", "P03", "e " + W, "A"),
        ]
    )
    q = themes.quotes(cons, cb, ut, per_theme=4)
    # P01's three passages carry more codes, but P02 and P03 come before P01's second
    assert ids(q) == ["P01:0001", "P02:0001", "P03:0001", "P01:0002"]


def test_rule_prefers_participants_and_spreads_over_kinds(cb):
    many = "ABC"
    cons, ut = _corpus(
        [
            # the observer's notes carry the most codes and the most text: still not first
            ("FN-1:0001", "fieldnote", "Observer", "observer", "", "f1 " + W * 3, many),
            ("FN-2:0001", "fieldnote", "Observer", "observer", "", "f2 " + W * 3, many),
            ("P01:0001", "interview", "Interviewer", "interviewer", "P01", "question " + W * 4, many),
            ("P01:0002", "interview", "P01", "participant", "P01", "p1 " + W, "A"),
            ("P02:0001", "interview", "P02", "participant", "P02", "p2 " + W, "AB"),
            ("P03:0001", "interview", "P03", "participant", "P03", "p3 " + W, "A"),
            ("WITI-001#1", "post", "M20", "member", "", "m20 " + W, "AB"),
            ("WITI-001#2", "post", "M21", "member", "", "m21 " + W, "A"),
            ("WITI-002#1", "post", "P01", "member", "P01", "p01 post " + W, "ABC"),  # P01's voice too
        ]
    )
    q = themes.quotes(cons, cb, ut, per_theme=5)
    # participant, post, participant, post, field note; the interviewee P01's post counts as P01's voice
    assert ids(q) == ["P02:0001", "WITI-002#1", "P03:0001", "WITI-001#1", "FN-1:0001"]
    assert q["speaker_role"].tolist() == ["participant", "member", "participant", "member", "observer"]
    assert q["text_source"].tolist() == ["transcript", "ocr", "transcript", "ocr", "fieldnote"]
    # more places: every voice once (P01 is already quoted by their post), then at most one field note
    # until nothing else is left
    q = themes.quotes(cons, cb, ut, per_theme=8)
    assert ids(q)[5:] == ["WITI-001#2", "P01:0002", "FN-2:0001"]
    assert "P01:0001" not in ids(q)  # the interviewer is never quoted
    q = themes.quotes(cons, cb, ut, per_theme=3)
    assert (q["source_type"] == "fieldnote").sum() == 0


def test_rule_field_notes_when_nothing_else(cb):
    cons, ut = _corpus(
        [
            ("FN-1:0001", "fieldnote", "Observer", "observer", "", "f1 " + W, "A"),
            ("FN-2:0001", "fieldnote", "Observer", "observer", "", "f2 " + W, "AB"),
            ("P01:0001", "interview", "P01", "participant", "P01", "p1 " + W, "A"),
        ]
    )
    q = themes.quotes(cons, cb, ut, per_theme=5)
    assert ids(q) == ["P01:0001", "FN-2:0001", "FN-1:0001"]


def test_rule_never_ocr_text_when_a_verified_post_is_eligible(cb):
    cons, ut = _corpus(
        [
            ("WITI-001#1", "post", "M20", "member", "", "ocr err0r " + W * 2, "ABC"),
            ("WITI-001#2", "post", "M21", "member", "", "clean " + W, "A"),
            ("WITI-002#1", "post", "M22", "member", "", "also clean " + W, "X"),
        ]
    )
    quality = pd.DataFrame(
        {"post_id": ["WITI-001#1", "WITI-001#2", "WITI-002#1"], "found": [True, True, False], "cer": [0.02, 0.0, 0.0]}
    )
    q = themes.quotes(cons, cb, ut, per_theme=5, post_quality=quality)
    assert ids(q) == ["WITI-001#2"]  # the flagged post is dropped though it ranks higher
    assert q[q["theme"] == "T1"]["text_source"].tolist() == ["verified"]
    # no verified post for T2 (not found by the OCR): the OCR text is the quote, flagged
    assert q[q["theme"] == "T2"]["text_source"].tolist() == ["ocr"]


def test_quotes_carry_offsets_and_post_boxes(cb):
    cons, ut = _corpus(
        [
            ("P01:0002", "interview", "P01", "participant", "P01", "p1 " + W, "A"),
            ("WITI-003#2", "post", "M20", "member", "", "m20  " + W, "B"),
        ]
    )
    segments = pd.DataFrame({"segment_id": ["P01:0002"], "start": [120], "end": [173]})
    posts = pd.DataFrame(
        {
            "post_id": ["WITI-003#2"],
            "screenshot_id": ["WITI-003"],
            "text": ["m20  " + W],
            "boxes": ["[[166,589,519,634],[168,641,1028,681],[164,777,381,831]]"],
        }
    )
    quality = pd.DataFrame({"post_id": ["WITI-003#2"], "found": [True], "cer": [0.0]})
    q = themes.quotes(cons, cb, ut, segments=segments, posts=posts, post_quality=quality).set_index("unit_id")
    assert (q.loc["P01:0002", "start"], q.loc["P01:0002", "end"]) == (120, 173)
    assert q.loc["P01:0002", "text_source"] == "transcript"
    post = q.loc["WITI-003#2"]
    assert (post["screenshot_id"], post["post_id"], post["box"]) == ("WITI-003", "WITI-003#2", "[164, 589, 1028, 831]")
    assert post["text"] == "m20  " + W  # exactly posts.csv's text, spaces and all
    assert (post["text_source"], post["start"], post["end"]) == ("verified", "", "")


def test_quotes_deterministic_in_any_row_order(cb, tmp_path):
    cons, ut = _corpus(
        [
            (
                f"P{i:02d}:{j:04d}",
                "interview",
                f"P{i:02d}",
                "participant",
                f"P{i:02d}",
                f"{i}{j} " + W,
                "AB"[: 1 + j % 2],
            )
            for i in range(1, 5)
            for j in range(1, 4)
        ]
        + [(f"WITI-00{i}#1", "post", f"M{i}", "member", "", f"post {i} " + W, "A") for i in range(1, 4)]
        + [("FN-1:0001", "fieldnote", "Observer", "observer", "", "fn " + W, "ABC")]
    )
    a = write_csv(themes.quotes(cons, cb, ut, per_theme=9), tmp_path / "a.csv").read_bytes()
    b = write_csv(
        themes.quotes(cons.sample(frac=1, random_state=3), cb, ut.sample(frac=1, random_state=4), per_theme=9),
        tmp_path / "b.csv",
    ).read_bytes()
    assert a == b
