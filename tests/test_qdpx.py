"""Tests for compendium.qdpx: schema-valid, deterministic export and a lossless round trip."""

from __future__ import annotations

import zipfile
from xml.etree import ElementTree as ET

import pandas as pd
import pytest

from compendium import codebook as cbmod
from compendium import coding, qdpx
from compendium.errors import InputError
from compendium.tables import read_csv

CODEBOOK = """\
version: "3"
themes:
  - id: T1
    label: Engagement in a connective space
    definition: How learners engage with and through the platform.
  - id: T2
    label: Decentralization of knowledge and authority
    definition: Who holds knowledge & who may correct it.
codes:
  - id: AFF
    label: Platform affordances
    theme: T1
    origin: deductive
    definition: |-
      What the platform lets people do.
      Second line of the definition.
    indicators: [platform, feature*]
  - id: SAFE
    label: Safety to ask "stupid" questions
    theme: T2
    origin: inductive
    definition: Safe to ask.
    indicators: [stupid question*]
  - id: AFF-ANON
    label: Anonymous posting lowers the cost of asking
    theme: T2
    parent: AFF
    origin: deductive
    definition: Anonymity <and> its uses.
    include: Asking anonymously.
    exclude: Lurking.
    example: "I posted it anon lah, 很 paiseh"
    indicators: [anonymous*, "without my name"]
history:
  - date: 2023-03-01
    change: first round
    why: deductive codes from relational transfer
  - date: 2023-05-10
    change: added SAFE
"""

TEXTS = {
    "P01": "Interviewer: What is WITI?\nP01: I ask stupid questions anonymously. 很好!\n",
    "FN-2023-02-01": "Observed a heart storm.\n",
}


@pytest.fixture
def cb(tmp_path):
    p = tmp_path / "codebook.yml"
    p.write_text(CODEBOOK, encoding="utf-8")
    return cbmod.load(p)


@pytest.fixture
def posts():
    return pd.DataFrame(
        [
            {
                "post_id": "WITI-001#1",
                "screenshot_id": "WITI-001",
                "post_index": 1,
                "depth": 0,
                "author": "P01",
                "text": "What is the  Krebs cycle for?",
            },
            {
                "post_id": "WITI-001#2",
                "screenshot_id": "WITI-001",
                "post_index": 2,
                "depth": 1,
                "author": "M20",
                "text": "This is how cells make energy.",
            },
            {
                "post_id": "WITI-002#1",
                "screenshot_id": "WITI-002",
                "post_index": 1,
                "depth": 0,
                "author": "Anonymous member",
                "text": "Is it stupid to ask?",
            },
        ]
    )


@pytest.fixture
def codings():
    t = TEXTS["P01"]
    s = t.index("I ask")
    e = t.index("很好") + 2
    rows = [
        ("A", "P01", s, e, "SAFE", 'memo with <xml> & "quotes"\nand a newline'),
        ("A", "P01", s, e, "AFF-ANON", ""),
        ("B", "P01", s + 2, e, "SAFE", ""),
        ("A", "FN-2023-02-01", 0, 8, "AFF", "fieldnote"),
        ("B", "WITI-002#1", None, None, "SAFE", "whole post"),
        ("A", "WITI-001#2", None, None, "AFF", ""),
    ]
    df = pd.DataFrame(rows, columns=coding.COLUMNS)
    df["start"] = df["start"].astype("Int64")
    df["end"] = df["end"].astype("Int64")
    return df


@pytest.fixture
def exported(tmp_path, cb, codings, posts):
    return qdpx.export(tmp_path / "witi.qdpx", cb, TEXTS, codings, users={"A": "Coder A", "B": "Coder B"}, posts=posts)


NS = {"q": qdpx.NS}


def read_qde(path):
    with zipfile.ZipFile(path) as zf:
        return zf.read("project.qde"), zf


def test_zip_layout_and_determinism(exported, tmp_path, cb, codings, posts):
    with zipfile.ZipFile(exported) as zf:
        names = zf.namelist()
        infos = zf.infolist()
        assert names[0] == "project.qde"
        assert names == sorted(names)
        assert all(n.startswith("sources/") and n.endswith(".txt") for n in names[1:])
        assert len(names) == 1 + 4  # P01, FN, WITI-001, WITI-002
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
    again = qdpx.export(
        tmp_path / "again.qdpx",
        cb,
        TEXTS,
        codings.sample(frac=1, random_state=4),
        users={"B": "Coder B", "A": "Coder A"},
        posts=posts,
    )
    assert again.read_bytes() == exported.read_bytes()


def test_validates_against_refi_schema(exported):
    pytest.importorskip("xmlschema")
    qde, _ = read_qde(exported)
    qdpx.validate(qde)  # raises on any violation


def test_schema_rejects_broken_project(exported):
    xmlschema = pytest.importorskip("xmlschema")
    qde, _ = read_qde(exported)
    broken = qde.replace(b'isCodable="true"', b'isCodable="maybe"', 1)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        qdpx.validate(broken)


def test_structure(exported, codings):
    qde, _ = read_qde(exported)
    root = ET.fromstring(qde)
    assert root.tag == f"{{{qdpx.NS}}}Project"
    assert qde.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<Project xmlns=\"urn:QDA")
    users = root.findall("q:Users/q:User", NS)
    assert [(u.get("id"), u.get("name")) for u in users] == [("A", "Coder A"), ("B", "Coder B")]
    top = root.findall("q:CodeBook/q:Codes/q:Code", NS)
    assert [c.get("name") for c in top] == ["AFF: Platform affordances", 'SAFE: Safety to ask "stupid" questions']
    child = top[0].find("q:Code", NS)
    assert child.get("name").startswith("AFF-ANON: ")
    desc = child.find("q:Description", NS).text
    assert "Indicators: anonymous*; without my name" in desc and "Theme: T2" in desc
    sources = root.findall("q:Sources/q:TextSource", NS)
    assert [s.get("name") for s in sources] == ["FN-2023-02-01", "P01", "WITI-001", "WITI-002"]
    sels = root.findall(".//q:PlainTextSelection", NS)
    assert len(sels) == len(codings)
    for s in sels:
        coding_el = s.find("q:Coding", NS)
        assert coding_el.get("creatingUser") == s.get("creatingUser")
        assert coding_el.find("q:CodeRef", NS).get("targetGUID")
    sets = root.findall("q:Sets/q:Set", NS)
    assert [s.get("name") for s in sets] == [
        "T1: Engagement in a connective space",
        "T2: Decentralization of knowledge and authority",
    ]
    assert len(sets[1].findall("q:MemberCode", NS)) == 2
    guids = [e.get("guid") for e in root.iter() if e.get("guid")]
    assert len(guids) == len(set(guids))


def test_selection_offsets_point_at_text(exported, posts):
    qde, _ = read_qde(exported)
    root = ET.fromstring(qde)
    with zipfile.ZipFile(exported) as zf:
        for src in root.findall("q:Sources/q:TextSource", NS):
            path = src.get("plainTextPath").replace("internal://", "sources/")
            text = zf.read(path).decode("utf-8")
            if src.get("name") in TEXTS:
                assert text == TEXTS[src.get("name")]
            for sel in src.findall("q:PlainTextSelection", NS):
                s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
                assert sel.get("name").split()[0] == f"line:{text.count(chr(10), 0, s)}"  # qc's line, from 0
                post_id = qdpx.post_of_selection(sel.get("name"))
                if post_id:  # whole post: the span is the post's text
                    post = posts.set_index("post_id").loc[post_id]
                    assert text[s:e] == " ".join(post["text"].split())
                else:
                    assert 0 <= s < e <= len(text)


def test_round_trip(exported, tmp_path, cb, codings):
    out = tmp_path / "imported"
    written = qdpx.import_(exported, out)
    assert set(written) == {"codebook", "A", "B", "sources"}
    again = cbmod.load(written["codebook"])
    assert again == cb
    for coder in ("A", "B"):
        got = read_csv(written[coder], dtype=str)
        want = codings[codings["coder"] == coder].copy()
        want = coding.sort_naturally(want, ["source_id", "start", "end", "code_id"])
        want = want.astype(str).replace("<NA>", "")
        assert got.to_dict("records") == want.to_dict("records")
    # and the imported coding files load against the imported codebook
    posts_ids = {"WITI-001#1", "WITI-001#2", "WITI-002#1"}
    loaded = coding.load([written["A"], written["B"]], again, {k: len(v) for k, v in TEXTS.items()}, posts_ids)
    assert len(loaded) == len(codings)


def test_foreign_project_import(tmp_path):
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{qdpx.NS}" name="other">
  <Users><User guid="11111111-1111-1111-1111-111111111111" name="Ann"/></Users>
  <CodeBook><Codes>
    <Code guid="22222222-2222-2222-2222-222222222222" name="Peer help" isCodable="true">
      <Code guid="33333333-3333-3333-3333-333333333333" name="Late night" isCodable="true"/>
    </Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="44444444-4444-4444-4444-444444444444" name="int1" plainTextPath="internal://x.txt">
      <PlainTextSelection guid="55555555-5555-5555-5555-555555555555" startPosition="0" endPosition="4">
        <Coding guid="66666666-6666-6666-6666-666666666666" creatingUser="11111111-1111-1111-1111-111111111111">
          <CodeRef targetGUID="33333333-3333-3333-3333-333333333333"/>
        </Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>"""
    path = tmp_path / "other.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde)
    written = qdpx.import_(path, tmp_path / "out")
    cb = cbmod.load(written["codebook"])
    codes = cb.codes.set_index("id")
    assert codes.loc["Late-night", "parent"] == "Peer-help"
    assert codes.loc["Late-night", "theme"] == "UNTHEMED"
    assert codes.loc["Late-night", "indicators"] == ["late night"]
    rows = read_csv(written["Ann"], dtype=str).to_dict("records")
    assert rows == [
        {"coder": "Ann", "source_id": "int1", "start": "0", "end": "4", "code_id": "Late-night", "memo": ""}
    ]


def test_import_errors(tmp_path):
    bad = tmp_path / "bad.qdpx"
    bad.write_text("not a zip")
    with pytest.raises(InputError, match="not a zip"):
        qdpx.import_(bad, tmp_path / "o")
    nozip = tmp_path / "empty.qdpx"
    with zipfile.ZipFile(nozip, "w") as zf:
        zf.writestr("other.xml", "<a/>")
    with pytest.raises(InputError, match="no project.qde"):
        qdpx.import_(nozip, tmp_path / "o")
    wrong = tmp_path / "wrong.qdpx"
    with zipfile.ZipFile(wrong, "w") as zf:
        zf.writestr("project.qde", "<Project/>")
    with pytest.raises(InputError, match="namespace"):
        qdpx.import_(wrong, tmp_path / "o")


def test_post_coding_needs_posts(tmp_path, cb, codings):
    with pytest.raises(ValueError, match="post"):
        qdpx.export(tmp_path / "x.qdpx", cb, TEXTS, codings)
