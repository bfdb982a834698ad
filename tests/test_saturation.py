"""Code saturation as Guest, Namey & Chen (2020) measure it, on the first-pass coding in the order the rounds
coded the interviews (issue 11, build 1)."""

from __future__ import annotations

import pandas as pd
import pytest

from compendium import codebook, coding, corpus, record, transcripts
from compendium.errors import InputError

from conftest import DERIVED, RAW


def _sources(*ids):
    return pd.DataFrame({"source_id": list(ids), "date": [f"2023-01-{i + 1:02d}" for i in range(len(ids))]})


def _fp(rows):
    return pd.DataFrame(rows, columns=["round", "coder", "source_id", "code_id"])


def test_guest_measures_by_hand():
    # base of 4 interviews holds codes a..j (10); then runs of 2: P5+P6 add 1 (10% > 5%), P6+P7 add 0 -> stop at P7
    rows = (
        [(1, "A", "P1", c) for c in "abcd"]
        + [(1, "A", "P2", c) for c in "aefg"]
        + [(1, "A", "P3", c) for c in "hi"]
        + [(1, "A", "P4", c) for c in "aj"]
        + [(2, "A", "P5", "k"), (2, "A", "P6", "a"), (2, "A", "P7", "b"), (2, "A", "P8", "l")]
    )
    sat = coding.saturation(
        pd.DataFrame(columns=["source_id", "code_id"]),
        _sources("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"),
        _fp(rows),
    )
    assert sat["new_codes"].tolist() == [4, 3, 2, 1, 1, 0, 0, 1]
    assert sat["in_base"].tolist() == [True] * 4 + [False] * 4
    assert sat["run_new_codes"].fillna(-1).tolist() == [-1, -1, -1, -1, -1, 1, 0, 1]
    assert sat.loc[5, "new_information"] == pytest.approx(0.1)
    assert sat["saturation"].tolist() == [False] * 6 + [True, False]  # the first run at or under 5%
    assert "source 7 of 8 (P7)" in coding.stopping_point(sat)


def test_the_order_is_the_order_of_coding_not_of_interviewing():
    rows = [(2, "A", "P1", "a"), (3, "A", "P2", "b"), (2, "A", "P3", "c")]
    sat = coding.saturation(
        pd.DataFrame(columns=["source_id", "code_id"]), _sources("P1", "P2", "P3"), _fp(rows), base=1, run=1
    )
    assert sat["source_id"].tolist() == ["P1", "P3", "P2"] and sat["coded_in_round"].tolist() == [2, 2, 3]


def test_without_first_pass_files_the_basis_says_it_is_the_final_recode():
    cons = pd.DataFrame({"source_id": ["P1", "P2"], "code_id": ["a", "b"]})
    sat = coding.saturation(cons, _sources("P1", "P2"), None, base=1, run=1)
    assert sat["basis"].str.startswith("final coding").all()


def test_bad_parameters_are_bad_input():
    with pytest.raises(InputError):
        coding.saturation(pd.DataFrame(columns=["source_id", "code_id"]), _sources("P1"), None, base=0)


def test_the_committed_curve_is_not_front_loaded_and_is_what_the_rounds_imply():
    sat = pd.read_csv(DERIVED / "saturation.csv")
    assert sat["basis"].str.startswith("first-pass").all()
    total = sat["cumulative_codes"].iloc[-1]
    assert sat["new_codes"].iloc[0] < 0.7 * total
    # recompute from the raw first-pass files, independently: first round each interview appears in, then date
    book = codebook.load(RAW / "codebook.yml")
    fp = coding.read_first_pass(coding.first_pass_files(RAW), book)
    dates = corpus.source_dates(transcripts.load_sources(RAW))
    interviews = dates[dates.source_type == "interview"].set_index("source_id")["date"].astype(str)
    fp = fp[fp.source_id.isin(interviews.index)]
    first = fp.groupby("source_id")["round"].min()
    order = sorted(first.index, key=lambda s: (first[s], interviews[s], s))
    seen, new = set(), []
    for s in order:
        codes = set(fp[(fp.source_id == s) & (fp["round"] == first[s])].code_id)
        new.append(len(codes - seen))
        seen |= codes
    assert sat["source_id"].tolist() == order and sat["new_codes"].tolist() == new
    assert sat["saturation"].sum() == 1 and sat.loc[sat["saturation"], "order"].iloc[0] > 4


def test_a_first_pass_using_a_code_before_the_history_adds_it(tmp_path):
    book = codebook.load(RAW / "codebook.yml")
    planted = tmp_path / "1-A.csv"
    planted.write_text("coder,source_id,start,end,code_id,memo\nA,WITI-001#1,,,NORMS,\n", encoding="utf-8")
    got = record.check(
        book, transcripts.load_sources(RAW), corpus.coding_files(RAW), None, RAW / "codebook.yml", [planted]
    )
    assert [str(f) for f in got] == [
        f"{planted}:2: the round 1 first pass applies NORMS, which the history adds only in round 2"
    ]
    committed = record.check(
        book,
        transcripts.load_sources(RAW),
        corpus.coding_files(RAW),
        None,
        RAW / "codebook.yml",
        coding.first_pass_files(RAW),
    )
    assert committed == []


def test_a_bad_first_pass_file_is_bad_input_naming_file_and_line(tmp_path):
    book = codebook.load(RAW / "codebook.yml")
    unknown = tmp_path / "2-A.csv"
    unknown.write_text("coder,source_id,start,end,code_id,memo\nA,P01,0,5,NO-SUCH-CODE,\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown code 'NO-SUCH-CODE'") as e:
        coding.read_first_pass([unknown], book)
    assert e.value.path == str(unknown) and e.value.line == 2
    unnamed = tmp_path / "first.csv"
    unnamed.write_text("coder,source_id,start,end,code_id,memo\nA,P01,0,5,EXAM,\n", encoding="utf-8")
    with pytest.raises(InputError, match="named <round>-<coder>.csv"):
        coding.read_first_pass([unnamed], book)
    # a code of the codebook's past (merged later) is read, and counted under the code it became
    old = tmp_path / "2-B.csv"
    old.write_text("coder,source_id,start,end,code_id,memo\nB,P01,0,5,HELP-SENIORS,\n", encoding="utf-8")
    assert coding.read_first_pass([old], book)["code_id"].tolist() == ["RECIPROCITY"]
