"""The analytic record checked against the data (compendium.record): the committed history agrees with the
sources, the coding files and reliability.csv; each kind of contradiction, planted, is caught with file and line."""

from __future__ import annotations


import pytest

from compendium import codebook, corpus, record, transcripts
from compendium.tables import read_csv

from conftest import DERIVED, RAW


@pytest.fixture(scope="module")
def data():
    return (transcripts.load_sources(RAW), corpus.coding_files(RAW), read_csv(DERIVED / "reliability.csv"))


def findings(text, data, tmp_path, coding_files=None):
    path = tmp_path / "codebook.yml"
    path.write_text(text, encoding="utf-8")
    sources, files, rel = data
    return record.check(codebook.load(path), sources, coding_files or files, rel, path)


@pytest.fixture(scope="module")
def text():
    return (RAW / "codebook.yml").read_text(encoding="utf-8")


def test_the_committed_history_agrees_with_the_data(data):
    sources, files, rel = data
    book = codebook.load(RAW / "codebook.yml")
    assert {"sources", "double_coded", "codes_added", "lowest_agreement"} <= set(book.history.columns)
    assert record.check(book, sources, files, rel) == []


def _line_of(text, needle):
    return text[: text.index(needle)].count("\n") + 1


def test_a_source_coded_before_it_was_collected(text, data, tmp_path):
    planted = text.replace(
        'date: "2023-04-17"\n    coders: [A]\n    sources: [\n      P01, P02, P03, P04,',
        'date: "2023-04-17"\n    coders: [A]\n    sources: [\n      P01, P02, P03, P04, P05,',
    )
    assert planted != text
    got = findings(planted, data, tmp_path)
    assert len(got) == 1 and "P05" in got[0].message and "2023-04-24" in got[0].message
    assert got[0].line == _line_of(planted, 'date: "2023-04-17"') + 2  # the round's sources line


def test_a_double_coding_claim_the_coding_files_contradict(text, data, tmp_path):
    planted = text.replace("double_coded: [\n      P03,", "double_coded: [\n      P01, P03,")
    assert planted != text
    got = findings(planted, data, tmp_path)
    assert any("P01 was double-coded, but coder B applied no code in it" in f.message for f in got)
    unclaimed = text.replace("double_coded: [\n      P03, P04,", "double_coded: [\n      P03,")
    got = findings(unclaimed, data, tmp_path)
    assert any("both coders coded P04, but no round's double_coded lists it" in f.message for f in got)


def test_codes_added_twice_or_never_and_merged_codes_still_applied(text, data, tmp_path):
    twice = text.replace("codes_added: [ANXIETY, RECIPROCITY]", "codes_added: [ANXIETY, RECIPROCITY, EXAM]")
    assert any("code EXAM is added again" in f.message for f in findings(twice, data, tmp_path))
    never = text.replace("codes_added: [ANXIETY, RECIPROCITY]", "codes_added: [ANXIETY]")
    assert any("RECIPROCITY is in the codebook but no round" in f.message for f in findings(never, data, tmp_path))
    merged = text.replace(
        'codes_merged: ["HELP-SENIORS -> RECIPROCITY"]',
        'codes_merged: ["HELP-SENIORS -> RECIPROCITY", "LOCAL -> CONNECT"]',
    )
    got = findings(merged, data, tmp_path)
    hit = [f for f in got if "code LOCAL was merged in round 3 but is still applied" in f.message]
    assert hit and hit[0].path.endswith(".csv") and hit[0].line > 1


def test_a_code_used_in_sources_coded_only_before_it_existed(text, data, tmp_path):
    # round 4 no longer recodes the screenshots: the first twelve were coded in round 1 only, yet carry
    # codes that round 2 added
    planted = text.replace("      WITI-001, WITI-002, WITI-003,", "      ", 1)
    start = planted.index("  - round: 4")
    block = planted[start:]
    import re

    block = re.sub(r"WITI-0(0\d|1[0-2]),? ?", "", block, count=12)
    planted = planted[:start] + block
    got = findings(planted, data, tmp_path)
    assert any("before the code existed" in f.message for f in got)


def test_codes_declared_exclusive_applied_to_one_passage(text, data, tmp_path):
    planted = text.replace(
        "lowest_agreement: [AFF, AFF-NOTIF, AFF-FILE, SYMM]",
        'lowest_agreement: [AFF, AFF-NOTIF, AFF-FILE, SYMM]\n    exclusive: ["AGENCY / SYMM"]',
    )
    got = [f for f in findings(planted, data, tmp_path) if "mutually exclusive" in f.message]
    assert got and all(f.path.endswith(".csv") for f in got)
    assert all("AGENCY and SYMM" in f.message for f in got)


def test_prose_about_agreement_that_reliability_contradicts(text, data, tmp_path):
    planted = text.replace("lowest_agreement: [AFF, AFF-NOTIF, AFF-FILE, SYMM]", "lowest_agreement: [AFF, AGENCY]")
    got = findings(planted, data, tmp_path)
    assert len(got) == 1 and "AGENCY" in got[0].message and "above the median" in got[0].message


def test_a_structured_field_that_is_not_a_list_is_bad_input(text, tmp_path):
    from compendium.errors import InputError

    bad = text.replace("coders: [A, B]", "coders: A and B")
    path = tmp_path / "codebook.yml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError, match="history coders must be a list") as e:
        codebook.load(path)
    assert e.value.line == _line_of(bad, "coders: A and B")


def test_findings_read_as_file_line_message():
    assert str(record.Finding("codebook.yml", 12, "x")) == "codebook.yml:12: x"
    assert str(record.Finding("codebook.yml", None, "x")) == "codebook.yml: x"
    assert list(record.table([record.Finding("a", 1, "m")]).columns) == ["file", "line", "message"]
