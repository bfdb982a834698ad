"""COREQ and SRQR checklists (issue 11): every item is answered from a named source or marked for the authors;
no answer repeats another or glues two sources together; the count is of answered items; COREQ 8 agrees with
the field notes."""

from __future__ import annotations

import copy
import json
import re
import shutil

import pandas as pd
import pytest

from compendium import checklists, codebook, corpus, report
from conftest import DERIVED, RAW, ROOT

MARK = checklists.MARK
ALL_ITEMS = [(name, it) for name, items in checklists.CHECKLISTS.items() for it in items]
IDS = [f"{name}-{it.number:02d}" for name, it in ALL_ITEMS]
SUMMARY_RE = re.compile(
    r"^(\w+): (\d+) of (\d+) items answered from the data; (\d+) for the authors"
    r"(?: \(items? ([\d, ]+)\))?$"
)

REFLEXIVE = (
    "Researcher 1 had used a similar group as a student and expected it to be supportive, so she kept a "
    "reflexive log and noted, in each field note, where her reading of an interaction was coloured by that "
    "experience."
)


def _facts(raw, derived=DERIVED):
    t = report.load_tables(derived)
    book = codebook.load(raw / "codebook.yml")
    participants = corpus.load_participants(raw)
    srcs = corpus.source_dates(corpus.transcripts.load_sources(raw))
    n_sources = srcs["source_type"].value_counts().to_dict()
    n_sources["screenshot"] = t["posts"]["screenshot_id"].nunique()
    claims = pd.read_csv(derived / "tables" / "claims.csv", dtype=str, keep_default_na=False)
    return report.facts(raw, t, participants, book.codes, corpus.coder_sources(raw), n_sources, claims=claims)


@pytest.fixture(scope="module")
def committed():
    """The committed corpus: its study facts and the facts computed from raw and derived data."""
    return report.load_study(RAW), _facts(RAW)


def _minimal_study(**extra) -> dict:
    """The sections study.yml requires, and little else."""
    study = {
        "title": "A qualitative interview study of peer teaching",
        "design": {"approach": "Interview study"},
        "setting": "One medical school.",
        "dates": {},
        "sampling": {"method": "Purposive"},
        "team": [{"role": "Researcher 1 (interviewer)", "credentials": "PhD"}],
        "reflexivity": "We are outsiders to the group.",
        "ethics": {"board": "[IRB]"},
    }
    study.update(extra)
    return study


def _notes(n: int, flagged: list[str]) -> dict:
    return {
        "n": n,
        "dates": ["2023-01-01", "2023-02-01"],
        "reflexive": [[i, "I am inclined to read this kindly because of my own experience."] for i in flagged],
    }


def _answers(study, facts):
    return {(name, it.number): checklists.answer(it, study, facts) for name, it in ALL_ITEMS}


# ---- every item --------------------------------------------------------------------------------------------


def test_the_guidelines_have_their_items():
    assert [it.number for it in checklists.COREQ] == list(range(1, 33))
    assert [it.number for it in checklists.SRQR] == list(range(1, 22))
    for items in checklists.CHECKLISTS.values():
        assert len({it.topic for it in items}) == len(items)
        assert all(it.question and it.question != it.topic for it in items)
    srqr = {it.number: it.topic for it in checklists.SRQR}
    assert srqr[15] == "Techniques to enhance trustworthiness" and srqr[16] == "Synthesis and interpretation"
    assert srqr[18].startswith("Integration with prior work")


@pytest.mark.parametrize("name,item", ALL_ITEMS, ids=IDS)
def test_each_item_names_its_source_or_is_marked_for_the_authors(committed, name, item):
    study, facts = committed
    a = checklists.answer(item, study, facts)
    assert a.text.strip()
    if a.for_authors:
        assert re.search(rf"{MARK}: \S", a.text), a.text
    else:
        assert MARK not in a.text
    if a.parts:
        assert a.sources, a.text
    else:
        assert a.for_authors and a.source == "-"
    for src in a.sources:  # each one name, never two glued together
        assert checklists.SOURCE_PATTERN.fullmatch(src), src
    assert a.source == ("; ".join(a.sources) or "-")
    # each part is a punctuated sentence, so two sources' texts never run into each other
    for s in a.sentences:
        assert re.search(r"[.!?][\"')\]]*$", s), s
    assert a.text.startswith(" ".join(a.sentences))


@pytest.mark.parametrize("name,item", ALL_ITEMS, ids=IDS)
def test_each_item_is_answered_or_marked_on_a_minimal_study(name, item):
    a = checklists.answer(item, _minimal_study(), {})
    assert a.text.strip() and (a.sources or MARK in a.text)
    for src in a.sources:
        assert checklists.SOURCE_PATTERN.fullmatch(src), src


def test_no_two_answers_are_the_same(committed):
    for study, facts in (committed, (_minimal_study(), {})):
        texts = [a.text for a in _answers(study, facts).values()]
        dupes = {t for t in texts if texts.count(t) > 1}
        assert not dupes, dupes


def test_no_answer_repeats_a_sentence_of_another_in_the_same_checklist(committed):
    study, facts = committed
    for name, items in checklists.CHECKLISTS.items():
        seen: dict[str, int] = {}
        for it in items:
            for s in checklists.answer(it, study, facts).sentences:
                assert seen.setdefault(s, it.number) == it.number, (name, it.number, seen[s], s)


def test_the_old_repeats_are_gone(committed):
    study, facts = committed
    a = _answers(study, facts)
    assert a["COREQ", 7].text != a["COREQ", 11].text
    assert a["COREQ", 30].text != a["COREQ", 31].text
    assert a["SRQR", 16].text != a["COREQ", 31].text


def test_source_names_glued_together_are_not_one_source():
    ok = [
        "study.yml `team[*].credentials`",
        "saturation.csv",
        "tables/claims.md",
        "fieldnotes/*.md",
        "transcripts/*.txt (front matter)",
        "fig3_saturation",
        "coding/*.csv",
        "MANIFEST.sha256",
    ]
    for s in ok:
        assert checklists.SOURCE_PATTERN.fullmatch(s), s
    for glued in (
        "study.yml `sampling.saturation` saturation.csv",
        "saturation.csv fig3_saturation",
        "computed from the data",
        "study.yml `a`, study.yml `b`",
    ):
        assert not checklists.SOURCE_PATTERN.fullmatch(glued), glued


def test_two_sources_are_punctuated_apart():
    """The old COREQ 20 read '... written within 24 hours 12 dated observation field notes'."""
    study = _minimal_study(data_collection={"interviews": {"field_notes": "Notes written within 24 hours"}})
    a = checklists.answer(checklists.COREQ[19], study, {"fieldnotes": _notes(12, [])})
    assert "within 24 hours. Observation: fieldnotes/ holds 12" in a.text
    assert a.source == "study.yml `data_collection.interviews.field_notes`; fieldnotes/*.md"


# ---- the count ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("study_facts", ["committed", "minimal", "funded"])
def test_the_count_is_of_answered_items(committed, study_facts):
    funded = (dict(copy.deepcopy(committed[0]), funding="A teaching grant"), committed[1])
    study, facts = {"committed": committed, "minimal": (_minimal_study(), {}), "funded": funded}[study_facts]
    for name, items in checklists.CHECKLISTS.items():
        line = checklists.summary(name, items, study, facts)
        m = SUMMARY_RE.match(line)
        assert m, line
        marked = [it.number for it in items if MARK in checklists.answer(it, study, facts).text]
        assert m.group(1) == name and int(m.group(3)) == len(items)
        assert int(m.group(2)) == len(items) - len(marked) and int(m.group(4)) == len(marked)
        assert [int(x) for x in (m.group(5) or "").split(",") if x.strip()] == marked
        md = checklists.render(name, items, study, facts)
        assert f"**{line}.**" in md
        rows = [r for r in md.splitlines() if re.match(r"\| \d+ \|", r)]
        assert len(rows) == len(items)
        assert sum(MARK in r for r in rows) == len(marked)


def test_adding_funding_moves_srqr_21_to_the_answered(committed):
    study, facts = committed
    before = checklists.for_authors(checklists.SRQR, study, facts)
    funded = dict(copy.deepcopy(study), funding="Fictitious teaching grant; the funder had no role in the study")
    after = checklists.for_authors(checklists.SRQR, funded, facts)
    assert 21 in before and 21 not in after and len(after) == len(before) - 1
    a = checklists.answer(checklists.SRQR[20], funded, facts)
    assert a.source == "study.yml `funding`" and "Fictitious teaching grant" in a.text


def test_the_report_writes_and_shows_both_checklists(tmp_path, committed):
    study, facts = committed
    paths = report.write_checklists(study, facts, tmp_path)
    assert [p.name for p in paths] == ["coreq.md", "srqr.md"]
    for p, (name, items) in zip(paths, checklists.CHECKLISTS.items()):
        md = p.read_text(encoding="utf-8")
        assert checklists.summary(name, items, study, facts) in md
        for it in items:
            row = next(r for r in md.splitlines() if r.startswith(f"| {it.number} |"))
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
            assert len(cells) == 4 and it.topic in cells[1] and cells[2] and cells[3], row
    nb = json.loads((ROOT / "notebooks" / "06_report.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c.get("id") == "nb06-08")
    code = "".join(cell["source"])
    assert "checklists.summary(" in code and "checklists.CHECKLISTS" in code and "display(Markdown(" in code


# ---- items that must answer their own question -------------------------------------------------------------


def test_srqr_15_says_what_was_done_for_trustworthiness(committed):
    study, facts = committed
    a = checklists.answer(checklists.SRQR[14], study, facts)
    for src in ("reliability.csv", "codebook.yml", "tables/claims.md"):
        assert src in a.sources, a.sources
    assert "kappa" in a.text and "Audit trail" in a.text and "counterfactual" in a.text
    assert f"{facts['reliability']['kappa']:.2f}" in a.text


def test_srqr_16_gives_the_findings(committed):
    study, facts = committed
    a = checklists.answer(checklists.SRQR[15], study, facts)
    for t in facts["themes"]:
        assert t["label"] in a.text
    for c in facts["claims"]:
        if c["finding"] not in {t["id"] for t in facts["themes"]}:
            assert f"{c['claim']} ({c['verdict']})" in a.text


def test_srqr_18_is_for_the_authors_unless_the_study_discusses_prior_work(committed):
    study, facts = committed
    assert checklists.answer(checklists.SRQR[17], study, facts).for_authors
    a = checklists.answer(checklists.SRQR[17], dict(study, discussion="Extends relational transfer to peers."), facts)
    assert not a.for_authors and a.source == "study.yml `discussion`"


def test_srqr_20_and_21_carry_the_marker_when_not_given():
    for it in checklists.SRQR[19:21]:
        a = checklists.answer(it, _minimal_study(), {})
        assert a.text.startswith(f"{MARK}: ") and a.source == "-"


def test_placeholders_are_not_answers():
    a = checklists.answer(checklists.SRQR[8], _minimal_study(), {})
    assert a.for_authors and "[IRB]" not in a.text and "holds a placeholder" in a.text
    study = _minimal_study(ethics={"board": "Fictitious IRB", "approval": "REF-1", "consent": "Written"})
    assert not checklists.answer(checklists.SRQR[8], study, {}).for_authors


def test_coreq_21_compares_the_stated_durations_with_the_transcripts():
    item = checklists.COREQ[20]
    facts = {"interviews": {"n": 2, "participants": 2, "durations": [41, 62], "dates": None, "interviewers": 1}}
    same = _minimal_study(data_collection={"interviews": {"duration_range_min": [41, 62]}})
    other = _minimal_study(data_collection={"interviews": {"duration_range_min": [30, 45]}})
    assert not checklists.answer(item, same, facts).for_authors
    a = checklists.answer(item, other, facts)
    assert a.for_authors and "41-62 minutes" in a.text and "30-45" in a.text


def test_coreq_12_compares_the_stated_sample_size():
    item = checklists.COREQ[11]
    facts = {"participants": {"n": 14, "years": {1: 14}}}
    assert not checklists.answer(item, _minimal_study(sampling={"sample_size": 14}), facts).for_authors
    assert checklists.answer(item, _minimal_study(sampling={"sample_size": 12}), facts).for_authors


# ---- COREQ 8 and the field notes ---------------------------------------------------------------------------


def test_reflexive_sentences_are_first_person_flags_of_bias():
    note = (
        "# Field note\n\n## Observed interactions\n\n"
        'P05 posted: "I am inclined to think my own answer is wrong."\n'
        "\n## Analytic reflection\n\nThe thread builds an answer. I am inclined to read this as exemplary because "
        'of my own student experience. P05 wrote "my own experience says so" later.\n'
    )
    assert checklists.reflexive_sentences(note) == [
        "I am inclined to read this as exemplary because of my own student experience."
    ]
    assert checklists.reflexive_sentences("## Analytic reflection\n\nThe group regulates itself. I should ask.\n") == []
    assert checklists.reflexive_sentences("No headings. My background may colour how I read it.\n")
    assert checklists.claims_every_note(REFLEXIVE)
    assert not checklists.claims_every_note("She kept a reflexive log alongside some field notes.")


def test_coreq_8_counts_the_notes_that_flag_a_bias(committed):
    study, facts = committed
    notes = sorted((RAW / "fieldnotes").glob("*.md"))
    flagged = [p.stem for p in notes if checklists.reflexive_sentences(p.read_text(encoding="utf-8"))]
    assert facts["fieldnotes"]["n"] == len(notes)
    assert [i for i, _ in facts["fieldnotes"]["reflexive"]] == flagged
    a = checklists.answer(checklists.COREQ[7], study, facts)
    if flagged:
        assert f"{len(flagged)} of {len(notes)} field notes flag" in a.text
        assert all(i in a.text for i in flagged[:3])
    else:
        assert f"None of the {len(notes)} field notes flags" in a.text
    claim = [s for s in checklists._sentences(study["reflexivity"]) if checklists.claims_every_note(s)]
    if claim and len(flagged) < len(notes):
        # the study facts say "in each field note"; the notes do not bear it out: not repeated, marked
        assert not any(claim[0] in s for s in a.sentences)
        assert a.for_authors and "each field note" in a.text.split(MARK, 1)[1]
        srqr6 = checklists.answer(checklists.SRQR[5], study, facts)
        assert claim[0] not in srqr6.text and "is left out" in srqr6.text


@pytest.mark.parametrize("flagged,marked", [([], True), (["FN-1"], True), (["FN-1", "FN-2"], False)])
def test_coreq_8_agrees_with_the_notes(flagged, marked):
    study = _minimal_study(reflexivity="We were outsiders. " + REFLEXIVE)
    a = checklists.answer(checklists.COREQ[7], study, {"fieldnotes": _notes(2, flagged)})
    assert a.for_authors is marked
    assert (REFLEXIVE in a.text) is (not marked)  # the claim is only repeated when every note bears it out
    assert ("None of the 2" if not flagged else f"{len(flagged)} of 2 field notes flag") in a.text
    s6 = checklists.answer(checklists.SRQR[5], study, {"fieldnotes": _notes(2, flagged)})
    assert s6.text.startswith("We were outsiders.") and (REFLEXIVE in s6.text) is (not marked)


def test_a_planted_reflexive_note_changes_coreq_8(tmp_path, committed):
    study, facts = committed
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw, ignore=shutil.ignore_patterns("private"))
    (raw / "fieldnotes" / "FN-2023-06-29.md").write_text(
        "# Field note 2023-06-29\n\nSession: 20:00-21:00. Observer: Researcher 1.\n\n## Observed interactions\n\n"
        "A member asked about a drug dose and two others answered.\n\n## Analytic reflection\n\nMy own experience as "
        "a student may colour how I read this thread; I expected the answers to be kind.\n",
        encoding="utf-8",
    )
    planted = _facts(raw)
    before, after = facts["fieldnotes"], planted["fieldnotes"]
    assert after["n"] == before["n"] + 1
    assert len(after["reflexive"]) == len(before["reflexive"]) + 1
    assert after["reflexive"][-1][0] == "FN-2023-06-29"
    old = checklists.answer(checklists.COREQ[7], study, facts).text
    new = checklists.answer(checklists.COREQ[7], study, planted).text
    assert new != old
    assert f"{len(after['reflexive'])} of {after['n']} field notes flag" in new
    if len(before["reflexive"]) < 3:  # the answer quotes the first three
        assert "FN-2023-06-29" in new
