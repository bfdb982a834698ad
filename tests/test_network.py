"""Tests for compendium.network: reply interactions, member metrics, graph summary."""

from __future__ import annotations

import pandas as pd
import pytest

from compendium import network
from compendium.tables import write_csv

ANON = "Anonymous member"


@pytest.fixture
def posts():
    rows = [
        # index, depth, parent index, author, text
        (1, 0, None, "P01", "What is the Krebs cycle for?"),
        (2, 1, 1, "M20", "This is how cells make energy."),
        (3, 2, 2, "P01", "Thanks, and this is the mnemonic I use"),
        (4, 1, 1, "P02", "Also see the pinned table"),
        (5, 0, None, ANON, "Is it ok to ask basic stuff here?"),
        (6, 1, 5, "P02", "Yes of course"),
        (7, 1, None, "M21", "reply whose parent is on an earlier page"),
        (8, 0, None, "P02", "What is the best way to revise renal"),
        (9, 1, 8, "P02", "answering myself: spaced repetition"),
        (10, 0, None, "M22", "Exam timetable is out."),
        (11, 1, 10, ANON, "ok thanks"),
    ]
    return pd.DataFrame(
        [
            {
                "post_id": f"WITI-001#{i}",
                "screenshot_id": "WITI-001",
                "post_index": i,
                "depth": d,
                "parent_post_id": "" if p is None else f"WITI-001#{p}",
                "thread_id": "",
                "author": a,
                "text": t,
            }
            for i, d, p, a, t in rows
        ]
    )


ACTS = {
    1: "question",
    2: "answer",
    3: "elaboration",
    4: "elaboration",
    5: "question",
    6: "answer",
    7: "answer",
    8: "question",
    9: "answer",
    10: "other",
    11: "thanks",
}


@pytest.fixture
def acts():
    return pd.DataFrame({"post_id": [f"WITI-001#{i}" for i in ACTS], "act": list(ACTS.values())})


def test_interactions(posts, acts):
    it = network.interactions(posts, acts)
    assert list(it.columns) == network.INTERACTION_COLUMNS
    assert it["post_id"].tolist() == ["WITI-001#2", "WITI-001#3", "WITI-001#4", "WITI-001#9"]
    assert list(zip(it["source"], it["target"])) == [("M20", "P01"), ("P01", "M20"), ("P02", "P01"), ("P02", "P02")]
    assert it["self_reply"].tolist() == [False, False, False, True]
    assert it["depth"].tolist() == [1, 2, 1, 1]
    assert it["act"].tolist() == ["answer", "elaboration", "elaboration", "answer"]


def test_interactions_classify_when_no_acts_are_given(posts):
    it = network.interactions(posts)
    assert set(it["act"]) <= {"answer", "elaboration", "question", "thanks", "other"}


def test_thanks_are_kept_as_interactions_but_are_not_ties(posts, acts):
    thanked = acts.assign(act=acts["act"].where(acts["post_id"] != "WITI-001#3", "thanks"))
    it = network.interactions(posts, thanked)
    assert "WITI-001#3" in set(it["post_id"])  # kept, with its act
    assert ("P01", "M20") not in network.graph(it).edges  # but no tie
    m = network.metrics(it, posts, thanked).set_index("member")
    assert m.loc["P01", "answers"] == 0 and m.loc["P01", "thanks"] == 1
    assert m.loc["P01", "role"] == "asker"  # thanking does not make a teacher


def test_metrics(posts, acts):
    it = network.interactions(posts, acts)
    m = network.metrics(it, posts, acts)
    assert list(m.columns) == network.METRIC_COLUMNS
    assert m["member"].tolist() == ["M20", "M21", "M22", "P01", "P02"]  # no anonymous
    m = m.set_index("member")
    assert m.loc["P01"].to_dict() == {
        "posts": 2,
        "questions": 1,
        "answers": 1,
        "thanks": 0,
        "in_degree": 2,
        "out_degree": 1,
        "weighted_in": 2,
        "weighted_out": 1,
        "weighted_degree": 3,
        "betweenness": pytest.approx(1 / 12),
        "role": "both",
    }
    # P02: a question (#8), answers #4 and #6 (to an anonymous asker); the self-reply #9 is no answer
    assert m.loc["P02", "questions"] == 1 and m.loc["P02", "answers"] == 2
    assert m.loc["P02", "role"] == "both"
    assert m.loc["P02", "in_degree"] == 0  # self-reply is not an edge
    assert m.loc["M20", "role"] == "answerer"
    assert m.loc["M21", "role"] == "answerer" and m.loc["M21", "weighted_degree"] == 0
    assert m.loc["M22", "role"] == "other"
    assert m.loc[["M20", "M21", "M22", "P02"], "betweenness"].tolist() == [0, 0, 0, 0]


def test_summary(posts, acts):
    it = network.interactions(posts, acts)
    s = network.summary(it, network.metrics(it, posts, acts)).iloc[0]
    assert s["members"] == 5 and s["ties"] == 3 and s["answers"] == 3
    assert s["density"] == pytest.approx(3 / 20)
    assert s["reciprocity"] == pytest.approx(2 / 3)
    assert (s["askers"], s["answerers"], s["both"]) == (2, 4, 2)
    assert s["share_both"] == pytest.approx(0.5)
    assert s["share_answerers_who_ask"] == pytest.approx(0.5)


def test_empty_graph():
    posts = pd.DataFrame(
        [
            {
                "post_id": "WITI-002#1",
                "depth": 0,
                "parent_post_id": "",
                "thread_id": "",
                "author": "P05",
                "text": "What is this?",
            }
        ]
    )
    it = network.interactions(posts)
    assert it.empty
    m = network.metrics(it, posts)
    assert m.loc[0, "role"] == "asker"
    s = network.summary(it, m).iloc[0]
    assert s["members"] == 1 and pd.isna(s["density"]) and pd.isna(s["reciprocity"])


def test_deterministic_bytes(posts, acts, tmp_path):
    it = network.interactions(posts, acts)
    a = write_csv(network.metrics(it, posts, acts), tmp_path / "a.csv").read_bytes()
    shuffled = posts.sample(frac=1, random_state=5)
    it2 = network.interactions(shuffled, acts)
    b = write_csv(network.metrics(it2, shuffled, acts), tmp_path / "b.csv").read_bytes()
    assert a == b
    assert write_csv(it, tmp_path / "c.csv").read_bytes() == write_csv(it2, tmp_path / "d.csv").read_bytes()


def test_self_reply_flag_read_back_from_csv(posts, acts, tmp_path):
    from compendium.tables import read_csv

    it = network.interactions(posts, acts)
    back = read_csv(write_csv(it, tmp_path / "i.csv"), dtype=str)  # "True"/"False" as text
    m = network.metrics(back, posts, acts)
    pd.testing.assert_frame_equal(m, network.metrics(it, posts, acts))
    pd.testing.assert_frame_equal(network.summary(back, m), network.summary(it, m))
