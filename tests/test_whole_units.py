"""Units of analysis are whole: no segment begins or ends inside square brackets, annotations stay with the
sentence they follow, placeholders with the sentence they stand in (issue 11, build 3)."""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium import segments, transcripts

from conftest import DERIVED, RAW

ANNOTATIONS = ["[laughs]", "[pause]", "[inaudible 00:12:31]", "[crosstalk]", "[sighs]"]
PLACEHOLDERS = ["[Lecturer A]", "[Friend 1]", "[Hospital X]", "[Senior 2]"]


def inside_brackets(text: str, pos: int) -> bool:
    """Whether ``pos`` (a cut between characters) falls strictly inside a [...] span of ``text``."""
    return any(m.start() < pos < m.end() for m in re.finditer(r"\[[^\[\]\n]*\]", text))


def balanced(text: str) -> bool:
    return re.sub(r"\[[^\[\]\n]*\]", "", text).count("[") == 0 and re.sub(r"\[[^\[\]\n]*\]", "", text).count("]") == 0


word = st.sampled_from(
    [
        "so",
        "I",
        "think",
        "the",
        "hearts",
        "matter",
        "lah",
        "really",
        "we",
        "asked",
        "seniors",
        "ECG",
        "renal",
        "and",
        "then",
        "ok",
    ]
)
sentence = st.lists(word, min_size=1, max_size=8).map(lambda ws: " ".join(ws))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            sentence.map(lambda s: s[0].upper() + s[1:] + "."),
            sentence.map(lambda s: s[0].upper() + s[1:] + "?"),
            st.sampled_from(ANNOTATIONS),
            st.sampled_from(PLACEHOLDERS),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_no_unit_of_a_generated_turn_begins_or_ends_inside_brackets(pieces):
    line = " ".join(pieces)
    nlp = segments.make_nlp()
    spans = segments._spans(line, 0, "sentence", nlp)
    assert spans, line
    for s, e in spans:
        assert not inside_brackets(line, s) and not inside_brackets(line, e), (line, line[s:e])
        assert balanced(line[s:e]), (line, line[s:e])
    # nothing is lost: the units cover every non-space character, in order, without overlap
    covered = "".join(line[s:e] for s, e in spans)
    assert covered.replace(" ", "") == line.replace(" ", "")
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_an_annotation_stays_with_the_sentence_it_follows_and_a_placeholder_opens_its_own():
    line = "It was a rite of passage lah. [laughs] At first [Lecturer A] said no. [Friend 1] disagreed. [pause]"
    units = [line[s:e] for s, e in segments._spans(line, 0, "sentence", segments.make_nlp())]
    assert units == [
        "It was a rite of passage lah. [laughs]",
        "At first [Lecturer A] said no.",
        "[Friend 1] disagreed. [pause]",
    ]


def test_no_committed_segment_begins_or_ends_inside_brackets():
    seg = pd.read_csv(DERIVED / "segments.csv", dtype=str, keep_default_na=False)
    texts = {s.source_id: s.text for s in transcripts.load_sources(RAW)}
    bad = [
        r.segment_id
        for r in seg.itertuples()
        if inside_brackets(texts[r.source_id], int(r.start))
        or inside_brackets(texts[r.source_id], int(r.end))
        or not balanced(r.text)
    ]
    assert bad == []
    assert not seg["text"].str.rstrip().str.endswith("[").any()
    assert not seg["text"].str.match(r"^[^\[]*\]").any()
