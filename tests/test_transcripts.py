import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium import segments, transcripts
from compendium.errors import InputError

from conftest import RAW


def test_every_source_parses_and_offsets_round_trip():
    sources = transcripts.load_sources(RAW)
    assert sum(s.source_type == "interview" for s in sources) == 14
    assert sum(s.source_type == "fieldnote" for s in sources) >= 8
    segs = segments.segment(sources)
    segments.check_offsets(segs, sources)
    texts = {s.source_id: s.text for s in sources}
    for row in segs.itertuples():
        assert texts[row.source_id][row.start : row.end] == row.text
    assert set(segs.speaker_role) == {"interviewer", "participant", "observer"}


def test_front_matter_bom_crlf_and_continuations():
    raw = (
        "\ufeff---\r\nparticipant: P01\r\ndate: 2023-03-01\r\n---\r\nInterviewer: Hi. How are you?\r\n"
        "P01: Um, fine [laughs]. Really.\r\nmore text [Friend 1] here.\r\nI: ok\r\n"
    )
    text = transcripts.normalise(raw)
    src = transcripts.parse_transcript(text, "P01")
    assert src.meta == {"participant": "P01", "date": "2023-03-01"}
    assert [t.speaker for t in src.turns] == ["Interviewer", "P01", "Interviewer"]
    assert src.turn_text(src.turns[1]) == "Um, fine [laughs]. Really.\nmore text [Friend 1] here."
    assert src.turns[1].line == 6


def test_speaker_label_inside_a_line_is_not_a_turn():
    src = transcripts.parse_transcript("P02: I said Interviewer: no\nInterviewer: ok\n", "P02")
    assert len(src.turns) == 2 and "Interviewer: no" in src.turn_text(src.turns[0])


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"P01: caf\xe9 ok\n", "not UTF-8"),
        (b"just some words\nwithout speakers\n", "text before the first speaker"),
        (b"---\nparticipant: P01\n---\n\n", "no speaker turns"),
        (b"P01: hi\nP02: who am I\n", "neither the interviewer nor the participant"),
    ],
)
def test_bad_transcripts_name_file_and_reason(tmp_path, content, message):
    p = tmp_path / "P01.txt"
    p.write_bytes(content)
    with pytest.raises(InputError) as e:
        transcripts.load_transcript(p)
    assert message in str(e.value) and "P01.txt" in str(e.value)


line_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\r\n\x1c\x1d\x1e\x85\u2028\u2029\x0b\x0c"
    ),
    max_size=300,
)


# lines that hold a speaker label *inside* them ("... and then P07: said") must stay in their turn
line_or_label = st.one_of(
    line_text,
    st.builds(lambda a, lab, b: f"{a} {lab}: {b}", line_text, st.sampled_from(["Interviewer", "I", "P07"]), line_text),
)


@settings(max_examples=80, deadline=None)
@given(
    turns=st.lists(
        st.tuples(st.sampled_from(["Interviewer", "I", "P07"]), st.lists(line_or_label, min_size=1, max_size=4)),
        min_size=1,
        max_size=8,
    ),
    bom=st.booleans(),
    crlf=st.booleans(),
)
def test_offsets_round_trip_on_generated_transcripts(turns, bom, crlf):
    lines = []
    for speaker, body in turns:
        first, *rest = body
        # a continuation line must not itself look like a turn
        rest = [("x " + r) if transcripts.SPEAKER_RE.match(r) else r for r in rest]
        lines.append(f"{speaker}: {first}")
        lines.extend(rest)
    raw = ("\ufeff" if bom else "") + ("\r\n" if crlf else "\n").join(lines)
    text = transcripts.normalise(raw)
    src = transcripts.parse_transcript(text, "P07")
    assert len(src.turns) == len(turns)
    segs = segments.segment([src], unit="sentence")
    segments.check_offsets(segs, [src])
    for unit in ("line", "turn"):
        segments.check_offsets(segments.segment([src], unit=unit), [src])


def test_very_long_turn_and_empty_turns():
    long_line = " ".join(f"Sentence number {i} is here." for i in range(6000))  # ~170k characters
    text = f"Interviewer:\nP01: {long_line}\nmore\nInterviewer:   \nP01: end.\n"
    src = transcripts.parse_transcript(text, "P01")
    assert [t.speaker for t in src.turns] == ["Interviewer", "P01", "Interviewer", "P01"]
    assert src.turn_text(src.turns[0]) == "" and src.turn_text(src.turns[2]) == ""
    segs = segments.segment([src])
    segments.check_offsets(segs, [src])
    assert len(segs) == 6000 + 2


def test_field_note_paragraphs_have_offsets():
    text = "# Field note 2023-01-09\n\nFirst paragraph\ncontinues here.\n\n## Reflection\nSecond one.\n"
    src = transcripts.parse_fieldnote(text, "FN-2023-01-09")
    assert src.meta["date"] == "2023-01-09"
    assert [src.turn_text(t) for t in src.turns] == ["First paragraph\ncontinues here.", "Second one."]
