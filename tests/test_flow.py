"""Information flow as evidence (compendium.flow): measures by hand on small communities, the fast path against
the readable definitions (networkx), the randomisation's invariants, the counterfactual's size, latency."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from compendium import flow


def posts_and_acts(rows):
    """rows: (post index, thread, depth, parent index, author, act, timestamp)."""
    posts = pd.DataFrame(
        [
            {
                "post_id": f"S#{i}",
                "screenshot_id": "S",
                "thread_id": t,
                "depth": d,
                "parent_post_id": "" if p is None else f"S#{p}",
                "author": a,
                "text": "x",
                "timestamp": ts,
            }
            for i, t, d, p, a, _act, ts in rows
        ]
    )
    acts = pd.DataFrame({"post_id": [f"S#{r[0]}" for r in rows], "act": [r[5] for r in rows]})
    return posts, acts


ROWS = [
    (1, "T1", 0, None, "A", "question", "5h"),
    (2, "T1", 1, 1, "B", "answer", "4h"),
    (3, "T1", 1, 1, "C", "elaboration", "2h"),
    (4, "T1", 2, 2, "A", "thanks", "1h"),
    (5, "T1", 1, 1, "D", "answer", "30m"),
    (6, "T2", 0, None, "B", "question", "3d"),
    (7, "T2", 1, 6, "A", "answer", "2d"),
    (8, "T2", 1, 6, "B", "answer", "2d"),  # answering oneself: not an answer row
    (9, "T3", 0, None, "Anonymous member", "question", "1h"),
    (10, "T3", 1, 9, "B", "answer", "1h"),  # an answer given, to nobody the network names
]
YEARS = pd.DataFrame({"pseudonym": ["A", "B", "C"], "year_of_study": ["1", "3", "2"]})


@pytest.fixture
def community():
    posts, acts = posts_and_acts(ROWS)
    return flow.community(posts, acts, YEARS)


def test_community_keeps_answer_type_acts_only(community):
    a = community.answers
    assert a["post_id"].tolist() == ["S#2", "S#3", "S#5", "S#7", "S#10"]
    assert a["asker"].tolist() == ["A", "A", "A", "B", ""]
    assert community.members == ("A", "B", "C", "D")
    assert community.questions["asker"].tolist() == ["A", "B", ""]  # the anonymous question counts, unnamed


def test_measures_by_hand(community):
    m = {k: v for k, (v, _n, _u) in flow.measures(community).items()}
    # ties B->A, C->A, D->A, A->B; in-degrees A3 B1 C0 D0: (0+2+3+3)/9; out-degrees 1,1,1,1: 0
    assert m["freeman_in"] == pytest.approx(8 / 9) and m["freeman_out"] == 0
    # answers given A1 B2 C1 D1 (B's answer to the anonymous asker counts)
    assert m["top10_share"] == pytest.approx(2 / 5)
    assert m["gini_answers"] == pytest.approx(
        sum(abs(x - y) for x in (1, 2, 1, 1) for y in (1, 2, 1, 1)) / (2 * 16 * 5 / 4)
    )
    assert m["share_both"] == pytest.approx(2 / 4)  # A and B of A, B, C, D
    assert m["answers_by_askers"] == pytest.approx(3 / 5)  # A's 1 and B's 2
    # answers to questions between known years: B(3)->A(1) no, C(2)->A(1) no, A(1)->B(3) yes; D unknown
    v, n, unknown = flow.measures(community)["share_same_or_lower_year"]
    assert (v, n, unknown) == (pytest.approx(1 / 3), 3, 1)
    assert m["share_threads_built"] == pytest.approx(1 / 3)  # T1 has B, C, D; T2 one; T3 one
    v, n, unknown = flow.measures(community)["latency_median_hours"]
    assert (n, unknown) == (4, 1) and v == pytest.approx(np.median([1, 3, 4.5, 1 - 1]))


def test_the_fast_path_equals_the_definitions(community):
    rng = np.random.default_rng(3)
    for _ in range(30):
        a, q = flow.centralised(community, rng)
        slow = {k: v for k, (v, _n, _u) in flow.measures(community, a, q).items() if k != "latency_median_hours"}
        e = flow._encode(community, a, q)
        fast = flow._fast(e, e.answerer, e.asker, e.question_asker)
        assert fast.keys() == slow.keys()
        for k in slow:
            assert fast[k] == pytest.approx(slow[k], nan_ok=True), k


def test_freeman_against_networkx_degree_centrality():
    g = nx.gnp_random_graph(12, 0.3, seed=5, directed=True)
    n = len(g)
    for direction, cent in (("in", nx.in_degree_centrality(g)), ("out", nx.out_degree_centrality(g))):
        c = np.array(list(cent.values())) * (n - 1)  # networkx normalises by n - 1
        expected = (c.max() - c).sum() / ((n - 1) ** 2)
        degrees = np.array([d for _, d in (g.in_degree() if direction == "in" else g.out_degree())])
        assert flow._freeman(degrees) == pytest.approx(expected)


def test_randomisation_keeps_every_count_and_never_self_answers():
    rng = np.random.default_rng(0)
    answerer = rng.integers(0, 10, size=200)
    asker = (answerer + rng.integers(1, 10, size=200)) % 10
    for _ in range(20):
        who = flow.randomise(answerer, asker, rng)
        assert sorted(who.tolist()) == sorted(answerer.tolist())  # each member's answers given
        assert (who != asker).all()  # no one answers their own post
    assert (flow.randomise(answerer, asker, rng) != answerer).any()  # it does move answers


def test_the_counterfactual_has_the_same_size_and_its_tutors_answer(community):
    rng = np.random.default_rng(1)
    a, q = flow.centralised(community, rng)
    assert len(a) == len(community.answers) and len(q) == len(community.questions)
    assert (a["answerer"] != a["asker"]).all()
    assert set(a["answerer"]) <= set(community.members)


def test_tutors_are_the_seniors_where_years_are_known():
    rng = np.random.default_rng(0)
    assert flow.tutors_for(["A", "B", "C", "D"], rng, {"A": 1, "B": 5, "C": 4}) == ["B", "C"]


def test_evidence_table(community):
    ev = flow.evidence(community, draws=50, counterfactual_draws=20).set_index("measure")
    assert list(ev.index) == list(flow.MEASURES)
    # how many answers each member gives is fixed by the randomisation: no interval to speak of
    assert not ev.loc["top10_share", "random_informative"] and not ev.loc["gini_answers", "random_informative"]
    assert ev.loc["latency_median_hours", "reads"] == "no reference"
    assert math.isnan(ev.loc["latency_median_hours", "centralised"])


@pytest.mark.parametrize(
    "parent, reply, hours",
    [
        (("2h", "S"), ("35m", "S"), 2 - 35 / 60),
        (("2h", "S"), ("1h", "T"), math.nan),  # different captures
        (("3d", "S"), ("1d", "S"), math.nan),  # days: not precise to the hour
        (("12 Mar 2023, 21:14", "S"), ("13 Mar 2023, 01:14", "T"), 4.0),
        (("12 Mar", "S"), ("12 Mar", "S"), math.nan),
    ],
)
def test_latency_only_where_both_times_allow_it(parent, reply, hours):
    got = flow.latency_hours(
        {"timestamp": parent[0], "screenshot_id": parent[1]}, {"timestamp": reply[0], "screenshot_id": reply[1]}
    )
    assert got == pytest.approx(hours, nan_ok=True)


def test_hand_labels_replace_the_rules_acts_and_can_change_a_reading():
    """acts.with_labels puts each hand label in place of the rules' act; flow.sensitivity sets the two evidences
    side by side. Planted: the rules read B's two answers as thanks, so B gives nothing and only A answers; with
    the hand labels B answers too, and the share of answers given by members who also ask moves."""
    from compendium import acts as acts_mod

    posts, rules = posts_and_acts(ROWS)
    rules.loc[rules["post_id"].isin(["S#2", "S#10"]), "act"] = "thanks"
    rules["rule"] = "social"
    labels = pd.DataFrame({"post_id": ["S#2", "S#10", "S#99"], "act": ["answer", "answer", "answer"]})
    hand = acts_mod.with_labels(rules, labels)
    assert list(hand.loc[hand["post_id"].isin(["S#2", "S#10"]), "act"]) == ["answer", "answer"]
    assert set(hand.loc[hand["post_id"].isin(["S#2", "S#10"]), "rule"]) == {acts_mod.HAND_RULE}
    assert len(hand) == len(rules) and (hand.drop(index=[1, 9]) == rules.drop(index=[1, 9])).all().all()
    ev_rules = flow.evidence(flow.community(posts, rules, YEARS), draws=50, counterfactual_draws=20)
    ev_hand = flow.evidence(flow.community(posts, hand, YEARS), draws=50, counterfactual_draws=20)
    table = flow.sensitivity(ev_rules, ev_hand, 3).set_index("measure")
    assert list(table.columns) == flow.SENSITIVITY_COLUMNS[1:] and list(table.index) == list(flow.MEASURES)
    assert table.loc["answers_by_askers", "observed"] != table.loc["answers_by_askers", "observed_hand"]
    assert (table["same_reading"] == (table["reads"] == table["reads_hand"])).all()
    assert set(table["hand_labelled"]) == {3}


def test_without_hand_labels_the_sensitivity_is_not_measured(community):
    from compendium import acts as acts_mod

    posts, rules = posts_and_acts(ROWS)
    assert acts_mod.with_labels(rules, pd.DataFrame(columns=["post_id", "act"])).equals(rules)
    ev = flow.evidence(community, draws=20, counterfactual_draws=10)
    empty = flow.sensitivity(ev, ev.iloc[0:0], 0)
    assert empty.empty and list(empty.columns) == flow.SENSITIVITY_COLUMNS
    for none in (None, pd.DataFrame(columns=["post_id", "act"])):
        hand = flow.evidence_with_labels(posts, rules, none, YEARS)
        assert hand.empty and list(hand.columns) == flow.EVIDENCE_COLUMNS


def test_evidence_with_labels_is_the_evidence_of_the_relabelled_community():
    from compendium import acts as acts_mod

    posts, rules = posts_and_acts(ROWS)
    labels = pd.DataFrame({"post_id": ["S#2"], "act": ["thanks"]})
    got = flow.evidence_with_labels(posts, rules, labels, YEARS, draws=30)
    want = flow.evidence(flow.community(posts, acts_mod.with_labels(rules, labels), YEARS), draws=30)
    pd.testing.assert_frame_equal(got, want)
