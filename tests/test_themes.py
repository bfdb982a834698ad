"""Tests for compendium.themes: prevalence, exemplar quotes, co-occurrence."""

from __future__ import annotations

import pandas as pd
import pytest

from compendium import codebook as cbmod
from compendium import themes
from compendium.tables import write_csv

CODEBOOK = """\
version: "1"
themes:
  - {id: T1, label: Engagement in a connective space, definition: d1}
  - {id: T2, label: Decentralization of knowledge and authority, definition: d2}
  - {id: T3, label: Co-production of knowledge as a community, definition: d3}
codes:
  - {id: AFF, label: Affordances, theme: T1, origin: deductive, definition: d, indicators: [a]}
  - {id: LURK, label: Lurking, theme: T1, origin: inductive, definition: d, indicators: [l]}
  - {id: SAFE, label: Safety, theme: T2, origin: inductive, definition: d, indicators: [s]}
  - {id: ROLE-FLUID, label: Fluid roles, theme: T2, origin: inductive, definition: d,
     indicators: [r]}
  - {id: BUILD, label: Building, theme: T3, origin: inductive, definition: d, indicators: [b]}
history:
  - {date: 2023-01-01, change: c}
"""

LONG = "x" * 50


@pytest.fixture
def cb(tmp_path):
    p = tmp_path / "codebook.yml"
    p.write_text(CODEBOOK)
    return cbmod.load(p)


@pytest.fixture
def unit_tab():
    rows = [
        # unit_id, source, type, speaker, role, participant, text
        ("P01:0001", "P01", "interview", "Interviewer", "interviewer", "P01", "Q? " + LONG),
        ("P01:0002", "P01", "interview", "P01", "participant", "P01", "one " + LONG),
        ("P01:0003", "P01", "interview", "P01", "participant", "P01", "two " + LONG + "yy"),
        ("P02:0001", "P02", "interview", "P02", "participant", "P02", "three " + LONG),
        ("P03:0001", "P03", "interview", "P03", "participant", "P03", "short"),
        ("WITI-001#2", "WITI-001", "post", "M20", "member", "", "post  text\n" + LONG),
        ("WITI-001#10", "WITI-001", "post", "P02", "member", "P02", "ten " + LONG),
    ]
    return pd.DataFrame(
        rows, columns=["unit_id", "source_id", "source_type", "speaker", "speaker_role", "participant", "text"]
    )


@pytest.fixture
def cons():
    pairs = [
        ("P01:0001", "AFF"),  # interviewer: never a quote
        ("P01:0002", "AFF"),
        ("P01:0002", "LURK"),
        ("P01:0003", "AFF"),
        ("P01:0003", "SAFE"),
        ("P02:0001", "SAFE"),
        ("P02:0001", "ROLE-FLUID"),
        ("P02:0001", "AFF"),
        ("P03:0001", "ROLE-FLUID"),
        ("WITI-001#2", "AFF"),
        ("WITI-001#2", "LURK"),
        ("WITI-001#10", "SAFE"),
    ]
    return pd.DataFrame(
        [
            {
                "unit_id": u,
                "source_id": u.split(":")[0].split("#")[0],
                "code_id": c,
                "coders": "A;B",
                "agreement": "both",
            }
            for u, c in pairs
        ]
    )


def test_prevalence(cb, cons, unit_tab):
    p = themes.prevalence(cons, cb, unit_tab).set_index("theme")
    assert list(p.index) == ["T1", "T2", "T3"]
    t1 = p.loc["T1"]
    assert t1["label"] == "Engagement in a connective space"
    assert (t1["n_codes"], t1["n_codes_applied"]) == (2, 2)
    assert t1["n_units"] == 5  # P01:0001-3, P02:0001, WITI-001#2
    assert t1["n_sources"] == 3  # P01, P02, WITI-001
    assert t1["n_participants"] == 2  # P01, P02
    assert t1["share_participants"] == pytest.approx(2 / 3)
    t2 = p.loc["T2"]
    assert (t2["n_units"], t2["n_participants"]) == (4, 3)  # P01:0003, P02:0001, P03, #10
    assert t2["share_participants"] == 1.0
    t3 = p.loc["T3"]
    assert (t3["n_codes"], t3["n_codes_applied"], t3["n_units"]) == (1, 0, 0)


def test_quotes_rule(cb, cons, unit_tab):
    q = themes.quotes(cons, cb, unit_tab, per_theme=3)
    assert list(q.columns) == themes.QUOTE_COLUMNS
    assert list(q.columns)[:9] == [
        "theme",
        "rank",
        "codes",
        "unit_id",
        "source_id",
        "source_type",
        "speaker",
        "participant",
        "text",
    ]
    t1 = q[q["theme"] == "T1"]
    # candidates (no interviewer): P01:0002 (2 codes), WITI-001#2 (2), P01:0003 (1), P02:0001 (1)
    # participants' words lead, then a post, then the next participant (themes.quotes' rule); one per voice
    # first: P01:0002 (P01), WITI-001#2 (M20), P02:0001 (P02; P01:0003 is P01 again)
    assert t1["unit_id"].tolist() == ["P01:0002", "WITI-001#2", "P02:0001"]
    assert t1["rank"].tolist() == [1, 2, 3]
    assert t1.iloc[0]["codes"] == "AFF;LURK"
    t2 = q[q["theme"] == "T2"]
    # P03:0001 is too short (< 40 chars) while there are enough long ones
    assert t2["unit_id"].tolist() == ["P02:0001", "P01:0003", "WITI-001#10"]
    assert t2.iloc[0]["codes"] == "ROLE-FLUID;SAFE"
    assert q[q["theme"] == "T3"].empty


def test_quotes_fill_after_one_per_speaker(cb, cons, unit_tab):
    q = themes.quotes(cons, cb, unit_tab, per_theme=10)
    t1 = q[q["theme"] == "T1"]["unit_id"].tolist()
    assert t1 == ["P01:0002", "WITI-001#2", "P02:0001", "P01:0003"]
    t2 = q[q["theme"] == "T2"]["unit_id"].tolist()
    assert "P03:0001" in t2  # short quotes admitted when too few long ones


def test_quotes_deterministic(cb, cons, unit_tab, tmp_path):
    a = write_csv(themes.quotes(cons, cb, unit_tab), tmp_path / "a.csv").read_bytes()
    b = write_csv(
        themes.quotes(cons.sample(frac=1, random_state=1), cb, unit_tab.sample(frac=1, random_state=2)),
        tmp_path / "b.csv",
    ).read_bytes()
    assert a == b


def test_cooccurrence(cons):
    c = themes.cooccurrence(cons)
    assert list(c.columns) == ["code_a", "code_b", "n_units", "jaccard"]
    rows = {(r.code_a, r.code_b): (r.n_units, r.jaccard) for r in c.itertuples()}
    # AFF on 5 units, LURK on 2 (both with AFF): jaccard = 2/5
    assert rows[("AFF", "LURK")] == (2, pytest.approx(2 / 5))
    # AFF & SAFE: P01:0003, P02:0001; union = 5 + 3 - 2 = 6
    assert rows[("AFF", "SAFE")] == (2, pytest.approx(2 / 6))
    # ROLE-FLUID & SAFE: P02:0001; ROLE-FLUID on 2, SAFE on 3 -> union 4
    assert rows[("ROLE-FLUID", "SAFE")] == (1, pytest.approx(1 / 4))
    assert ("LURK", "SAFE") not in rows
    assert all(a < b for a, b in rows)  # natural order, each pair once
    assert list(rows) == sorted(rows)


def test_cooccurrence_empty():
    empty = pd.DataFrame(columns=["unit_id", "code_id"])
    assert themes.cooccurrence(empty).empty
