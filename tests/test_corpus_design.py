"""The synthetic corpus adds up (issue 11, build 7): interviews hold as many words as people say in their stated
duration, transcript time stamps fall inside the interview, and the field notes follow the schedule study.yml
states."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from compendium import transcripts

from conftest import RAW

SOURCES = transcripts.load_sources(RAW)
INTERVIEWS = [s for s in SOURCES if s.source_type == "interview"]


@pytest.mark.parametrize("src", INTERVIEWS, ids=[s.source_id for s in INTERVIEWS])
def test_words_per_minute_of_speech(src):
    words = sum(len(src.turn_text(t).split()) for t in src.turns)
    wpm = words / int(src.meta["duration_min"])
    assert 110 <= wpm <= 170, f"{src.source_id}: {words} words in {src.meta['duration_min']} min = {wpm:.0f}/min"


@pytest.mark.parametrize("src", INTERVIEWS, ids=[s.source_id for s in INTERVIEWS])
def test_time_stamps_fall_inside_the_interview(src):
    for h, m, s in re.findall(r"\[inaudible (\d\d):(\d\d):(\d\d)\]", src.text):
        assert int(h) * 60 + int(m) + int(s) / 60 <= int(src.meta["duration_min"]), src.source_id


def test_field_notes_follow_the_stated_schedule():
    study = yaml.safe_load((RAW / "study.yml").read_text(encoding="utf-8"))
    text = str(study)
    stated = re.search(r"(\d+) sessions", text)
    assert stated, "study.yml states how many observation sessions there were"
    notes = sorted(str(s.meta["date"]) for s in SOURCES if s.source_type == "fieldnote")
    assert len(notes) == int(stated.group(1))
    days = [(dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days for a, b in zip(notes, notes[1:])]
    assert "two to three weeks" in text and all(13 <= d <= 21 for d in days), days
