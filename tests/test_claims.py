"""The claims table (compendium.claims): verdicts follow the evidence, a planted association is found and an
absent one is not, and a missing measure says "not measured" rather than a verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compendium import claims

THEMES = pd.DataFrame(
    {
        "theme": ["T1", "T2"],
        "label": ["One", "Two"],
        "n_units": [4, 2],
        "n_sources": [3, 1],
        "n_participants": [3, 1],
        "share_participants": [0.75, 0.25],
    }
)
CODE_THEME = {"AGENCY": "T1", "AFF-PIN": "T1", "EXPLAIN": "T2"}
QUOTES = pd.DataFrame({"theme": ["T1"], "unit_id": ["P01:0001"], "codes": ["AGENCY;AFF-PIN"], "text": ["x"]})
KINDS = {"P01": "interview", "P02": "interview", "FN-1": "fieldnote", "S1": "screenshot"}


def coding(rows):
    return pd.DataFrame(rows, columns=["unit_id", "source_id", "code_id"])


CODING = coding(
    [
        ("P01:0001", "P01", "AGENCY"),
        ("P01:0001", "P01", "AFF-PIN"),
        ("P02:0001", "P02", "AGENCY"),
        ("FN-1:0001", "FN-1", "AFF-PIN"),
        ("S1#1", "S1", "EXPLAIN"),
        ("S1#2", "S1", "EXPLAIN"),
    ]
)


def evidence(reads: dict[str, str]):
    rows = []
    for m in (
        "freeman_out",
        "top10_share",
        "gini_answers",
        "share_both",
        "answers_by_askers",
        "share_same_or_lower_year",
        "share_threads_built",
    ):
        rows.append(
            {
                "measure": m,
                "observed": 0.3,
                "n": 10,
                "unknown": 0,
                "centralised": 0.6,
                "centralised_low": 0.5,
                "centralised_high": 0.7,
                "random_low": 0.2,
                "random_high": 0.4,
                "random_informative": True,
                "reads": reads.get(m, "unlike tutor-led"),
            }
        )
    return pd.DataFrame(rows)


def table(ev):
    return claims.claims(THEMES, CODING, CODE_THEME, QUOTES, 4, ev, KINDS).set_index("finding")


def test_every_finding_of_the_article_has_a_row_with_evidence_and_caveat():
    t = table(evidence({}))
    assert list(t.index) == ["T1", "T2", "symmetry", "decentralised", "fluid roles"]
    assert t["verdict"].isin(claims.VERDICTS).all()
    assert (t["evidence"].str.len() > 0).all() and (t["caveat"].str.len() > 0).all()
    assert (t["would_contradict"].str.len() > 0).all()


def test_a_theme_in_few_participants_or_one_kind_of_source_is_not_supported():
    t = table(evidence({}))
    assert t.loc["T1", "verdict"] == "supported"  # 3 of 4 participants, interviews and field notes, 2 codes
    assert t.loc["T2", "verdict"] == "not supported"  # 1 of 4, screenshots only, one code
    assert "screenshot 1" in t.loc["T2", "evidence"]


@pytest.mark.parametrize(
    "reads, decentralised, fluid",
    [
        ({}, "supported", "supported"),
        ({"share_threads_built": "like tutor-led"}, "partly supported", "supported"),
        ({"top10_share": "like tutor-led"}, "not supported", "not supported"),
        ({"answers_by_askers": "like tutor-led"}, "supported", "not supported"),
        (
            {
                m: "like tutor-led"
                for m in ("freeman_out", "top10_share", "gini_answers", "answers_by_askers", "share_threads_built")
            },
            "not supported",
            "not supported",
        ),
    ],
)
def test_verdicts_follow_how_the_measures_read_against_the_counterfactual(reads, decentralised, fluid):
    t = table(evidence(reads))
    assert (t.loc["decentralised", "verdict"], t.loc["fluid roles", "verdict"]) == (decentralised, fluid)


def test_a_missing_measure_is_not_measured_not_a_verdict():
    ev = evidence({})
    t = table(ev[~ev["measure"].isin(["gini_answers", "answers_by_askers"])])
    assert t.loc["decentralised", "verdict"] == "not measured"
    assert t.loc["fluid roles", "verdict"] == "not measured"


def _random_coding(rng, n_units, planted):
    rows = []
    for u in range(n_units):
        a = rng.random() < 0.3
        b = (a and rng.random() < 0.9) if planted else rng.random() < 0.3
        for code, on in (("AGENCY", a), ("AFF-PIN", b), ("EXPLAIN", True)):
            if on:
                rows.append((f"U{u}", "P01", code))
    return coding(rows)


def test_the_symmetry_null_finds_a_planted_association_and_no_absent_one():
    rng = np.random.default_rng(0)
    obs, lo, hi, _ = claims.cooccurrence_null(_random_coding(rng, 300, planted=True), claims.AGENCY_CODES)
    assert obs > hi
    obs, lo, hi, _ = claims.cooccurrence_null(_random_coding(rng, 300, planted=False), claims.AGENCY_CODES)
    assert lo <= obs <= hi
    # even a strong association is only "partly supported": co-occurrence has no direction
    strong = _random_coding(rng, 300, planted=True)
    t = claims.claims(THEMES, strong, CODE_THEME, QUOTES, 4, evidence({}), KINDS).set_index("finding")
    assert t.loc["symmetry", "verdict"] == "partly supported"


def test_markdown_says_synthetic_and_lists_each_verdict():
    t = claims.claims(THEMES, CODING, CODE_THEME, QUOTES, 4, evidence({}), KINDS, synthetic=True)
    md = claims.to_markdown(t, synthetic=True)
    assert md.count("**Verdict:**") == len(t) and "Synthetic corpus" in md


def test_source_kinds_from_segments_and_posts():
    seg = pd.DataFrame({"source_id": ["P01", "notes-week-3"], "source_type": ["interview", "fieldnote"]})
    posts = pd.DataFrame({"screenshot_id": ["IMG_2041"]})
    assert claims.source_kinds(seg, posts) == {
        "P01": "interview",
        "notes-week-3": "fieldnote",
        "IMG_2041": "screenshot",
    }


def test_the_flow_caveats_say_whether_the_verdict_survives_the_hand_labels():
    ev, acts_q = evidence({}), pd.DataFrame({"act": ["macro"], "f1": [0.8], "support": [210]})

    def with_hand(hand):
        return claims.claims(
            THEMES, CODING, CODE_THEME, QUOTES, 4, ev, KINDS, act_quality=acts_q, evidence_hand=hand
        ).set_index("finding")

    same = with_hand(evidence({}))
    assert (
        "hand-assigned acts of 210 posts in place of the rules' it reads the same"
        in same.loc["decentralised", "caveat"]
    )
    assert "reads the same" in same.loc["fluid roles", "caveat"]
    moved = with_hand(evidence({"top10_share": "like tutor-led"}))
    assert "it would read 'not supported'" in moved.loc["decentralised", "caveat"]
    assert "it would read 'not supported'" in moved.loc["fluid roles", "caveat"]
    assert moved.loc["decentralised", "verdict"] == "supported"  # the verdict is the rules'; the caveat says more
    none = claims.claims(THEMES, CODING, CODE_THEME, QUOTES, 4, ev, KINDS).set_index("finding")
    assert "not measured" in none.loc["decentralised", "caveat"]
