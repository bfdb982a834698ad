"""Import of REFI-QDA projects made elsewhere, and export of what researchers expect (issue 12).

Each malformed structure is refused with one line naming the .qdpx, the line of project.qde and the element, exit 2,
and nothing written; the committed corpus's export round-trips byte for byte, pictures, cases and all.
"""

from __future__ import annotations

import shutil
import zipfile
from collections import Counter
from xml.etree import ElementTree as ET

import pandas as pd
import pytest

from compendium import codebook as cbmod
from compendium import qdpx, qdpx_import
from compendium.errors import InputError
from compendium.tables import read_csv
from conftest import DERIVED, RAW, compendium, one_line_exit_2

NS = qdpx.NS
U = "11111111-1111-1111-1111-111111111111"
C1 = "22222222-2222-2222-2222-222222222222"
C2 = "33333333-3333-3333-3333-333333333333"
S1 = "44444444-4444-4444-4444-444444444444"


def tags(root) -> Counter:
    return Counter(el.tag.split("}")[1] for el in root.iter())


def project(tmp_path, body: str, name: str = "p.qdpx", members: dict | None = None, head: str = "") -> object:
    qde = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="p" {head}>\n'
        f'<Users><User guid="{U}" name="Ann"/></Users>\n{body}\n</Project>\n'
    )
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", qde)
        for k, v in (members or {}).items():
            zf.writestr(k, v)
    return path


CODES = (
    f'<CodeBook><Codes>\n<Code guid="{C1}" name="Peer help" isCodable="true">\n'
    f'<Code guid="{C2}" name="Late night" isCodable="true"/>\n</Code>\n</Codes></CodeBook>'
)


def text_source(selection: str, text_member: bool = True) -> str:
    return (
        f'<Sources>\n<TextSource guid="{S1}" name="int1.txt" plainTextPath="internal://{S1}.txt">\n'
        f"{selection}\n</TextSource>\n</Sources>"
    )


def selection(attrs: str, coding: str | None = None) -> str:
    coding = (
        coding
        if coding is not None
        else (
            f'<Coding guid="66666666-6666-6666-6666-666666666666" creatingUser="{U}">'
            f'<CodeRef targetGUID="{C2}"/></Coding>'
        )
    )
    return f'<PlainTextSelection guid="55555555-5555-5555-5555-555555555555" {attrs}>{coding}</PlainTextSelection>'


SOURCE_TEXT = {f"sources/{S1}.txt": "Late night questions 🫀 are the best ones.\n"}


# --------------------------------------------------------------------------- malformed structures


@pytest.mark.parametrize(
    "body, members, needles",
    [
        ("", None, ["no codes", "nothing to import"]),
        ("<CodeBook><Codes/></CodeBook>", None, ["line 4", "<Codes>", "no codes"]),
        (
            CODES + text_source(selection('startPosition="x1" endPosition="4"')),
            SOURCE_TEXT,
            ["line 10", "<PlainTextSelection", "startPosition", "x1"],
        ),
        (CODES + text_source(selection('endPosition="4"')), SOURCE_TEXT, ["<PlainTextSelection", "startPosition"]),
        (CODES + text_source(selection("")), SOURCE_TEXT, ["<PlainTextSelection", "startPosition"]),
        (CODES + text_source(selection('startPosition="5" endPosition="2"')), SOURCE_TEXT, ["5..2", "not a range"]),
        (
            CODES + text_source(selection('startPosition="0" endPosition="400"')),
            SOURCE_TEXT,
            ["past the end", "42 characters"],
        ),
        (
            CODES
            + text_source(
                selection(
                    'startPosition="0" endPosition="4"',
                    f'<Coding guid="66666666-6666-6666-6666-666666666666" creatingUser="{U}">'
                    f'<CodeRef targetGUID="99999999-9999-9999-9999-999999999999"/></Coding>',
                )
            ),
            SOURCE_TEXT,
            ["<CodeRef", "unknown code GUID"],
        ),
        (
            CODES
            + text_source(
                selection(
                    'startPosition="0" endPosition="4"',
                    f'<Coding guid="66666666-6666-6666-6666-666666666666" creatingUser="{U}"/>',
                )
            ),
            SOURCE_TEXT,
            ["<Coding", "without a CodeRef"],
        ),
        (f'<CodeBook><Codes><Code guid="{C1}" isCodable="true"/></Codes></CodeBook>', None, ["<Code", "name"]),
        (
            f'<CodeBook><Codes><Code guid="{C1}" name="a" isCodable="true"/><Code guid="{C1}" name="b" '
            'isCodable="true"/></Codes></CodeBook>',
            None,
            ["used by two codes"],
        ),
    ],
)
def test_malformed_structures_one_line_exit_2_nothing_written(tmp_path, body, members, needles):
    path = project(tmp_path, body, members=members)
    out = tmp_path / "out"
    with pytest.raises(InputError) as e:
        qdpx_import.read(path)
    assert str(path) in str(e.value) and "project.qde line" in str(e.value)
    r = compendium("import", "qdpx", path, "--out", out)
    one_line_exit_2(r, str(path), *needles)
    assert not out.exists()


def test_foreign_project_facts_not_invented(tmp_path):
    head = 'origin="MAXQDA 24" creationDateTime="2024-02-01T10:00:00Z" modifiedDateTime="2024-03-05T08:30:00Z"'
    path = project(
        tmp_path, CODES + text_source(selection('startPosition="0" endPosition="10"')), members=SOURCE_TEXT, head=head
    )
    got = qdpx_import.read(path)
    codes = got.codebook.codes.set_index("id")
    assert set(codes["origin"]) == {"unknown"}
    assert codes.loc["Late-night", "definition"] == "not given in p.qdpx"
    hist = got.codebook.history.iloc[0]
    assert hist["date"] == "2024-03-05" and "MAXQDA 24" in hist["change"]
    # the source named int1.txt is int1; the selection's text is what the offsets say
    assert got.codings["source_id"].tolist() == ["int1"]
    assert got.sources[["source_id", "rule", "matched"]].values.tolist() == [["int1", "name", "no raw given"]]


def test_no_dates_in_file_means_unknown(tmp_path):
    got = qdpx_import.read(project(tmp_path, CODES))
    assert got.codebook.history.iloc[0]["date"] == "unknown"


def test_sources_matched_to_raw_ids(tmp_path):
    """A project re-exported by another tool names sources FN-2023-01-09.txt: its codings line up with the
    compendium's FN-2023-01-09; a source the raw folder does not hold is listed."""
    raw = tmp_path / "raw"
    (raw / "fieldnotes").mkdir(parents=True)
    (raw / "transcripts").mkdir()
    (raw / "fieldnotes" / "FN-2023-01-09.md").write_text("x\n")
    (raw / "transcripts" / "P01.txt").write_text("x\n")
    body = CODES + (
        f'<Sources><TextSource guid="{S1}" name="FN-2023-01-09.txt" plainTextPath="internal://{S1}.txt">'
        + selection('startPosition="0" endPosition="4"')
        + "</TextSource>"
        '<TextSource guid="77777777-7777-7777-7777-777777777777" plainTextPath="p01.TXT"/>'
        '<TextSource guid="88888888-8888-8888-8888-888888888888" name="Notes from the pub.docx"/>'
        '<TextSource guid="99999999-9999-9999-9999-999999999999" name="66653866-6334-3535-3435-366637306566"/>'
        "</Sources>"
    )
    got = qdpx_import.read(project(tmp_path, body, members=SOURCE_TEXT), raw)
    table = got.sources.set_index("guid")
    assert table.loc[S1, ["source_id", "matched"]].tolist() == ["FN-2023-01-09", "yes"]
    assert table.loc["77777777-7777-7777-7777-777777777777", ["source_id", "rule", "matched"]].tolist() == [
        "P01",
        "path",
        "yes",
    ]
    assert table.loc["88888888-8888-8888-8888-888888888888", ["source_id", "matched"]].tolist() == [
        "Notes from the pub",
        "no",
    ]
    assert table.loc["99999999-9999-9999-9999-999999999999", "rule"] == "guid"
    assert got.codings["source_id"].tolist() == ["FN-2023-01-09"]
    assert len(got.warnings) == 2
    assert any("Notes from the pub matches no transcript" in w for w in got.warnings)
    assert any("no readable name" in w and "line" in w for w in got.warnings)


def test_repeated_names_get_path_ids():
    codes = [
        {"name": "programming", "guid": "a1b2c3d4-0000-0000-0000-000000000000", "path": ["rq1", "competencies"]},
        {"name": "programming", "guid": "e5f6a7b8-0000-0000-0000-000000000000", "path": ["rq1", "framings"]},
        {"name": "x y", "guid": "11111111-0000-0000-0000-000000000000", "path": ["a"]},
        {"name": "x y", "guid": "22222222-0000-0000-0000-000000000000", "path": ["a"]},
        {"name": "T1: Engagement", "guid": "33333333-0000-0000-0000-000000000000", "path": []},
    ]
    qdpx_import.code_ids(codes)
    assert [c["id"] for c in codes] == [
        "rq1.competencies.programming",
        "rq1.framings.programming",
        "a.x-y~11111111",
        "a.x-y~22222222",
        "T1",
    ]
    assert [c["label"] for c in codes][:2] == ["programming", "programming"]


# --------------------------------------------------------------------------- the committed corpus's export


@pytest.fixture(scope="module")
def witi(tmp_path_factory):
    path = tmp_path_factory.mktemp("witi") / "witi.qdpx"
    return qdpx.export_from_folders(RAW, DERIVED, path)


def test_export_holds_pictures_cases_and_validates(witi):
    with zipfile.ZipFile(witi) as zf:
        qde = zf.read("project.qde")
        names = zf.namelist()
    qdpx.validate(qde)
    root = ET.fromstring(qde)
    t = tags(root)
    posts = pd.read_csv(DERIVED / "posts.csv", dtype=str, keep_default_na=False)
    pages = sorted(set(posts["screenshot_id"]))
    assert t["PictureSource"] == len(pages) == 35
    q = {"q": NS}
    # every coded post is one region of its page, inside the image
    raw_codings = pd.concat(
        [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((RAW / "coding").glob("*.csv"))]
    )
    post_codings = raw_codings[raw_codings["source_id"].str.contains("#")]
    assert t["PictureSelection"] == len(post_codings)
    from PIL import Image

    for src in root.iterfind("q:Sources/q:PictureSource", q):
        member = src.get("path").replace("internal://", "sources/")
        assert member in names
        with zipfile.ZipFile(witi) as zf, Image.open(zf.open(member)) as im:
            w, h = im.size
            assert zf.read(member) == (DERIVED / "redacted" / f"{src.get('name')}.png").read_bytes()
        for sel in src.iterfind("q:PictureSelection", q):
            x0, y0, x1, y1 = (int(sel.get(a)) for a in ("firstX", "firstY", "secondX", "secondY"))
            assert 0 <= x0 < x1 <= w + 12 and 0 <= y0 < y1 <= h + 12, sel.get("name")
            assert sel.get("name").split("#")[0] == src.get("name")
        assert src.find("q:TextDescription", q) is not None
    # cases with variables for the 14 participants
    people = pd.read_csv(RAW / "participants.csv", dtype=str)
    cases = root.findall("q:Cases/q:Case", q)
    assert [c.get("name") for c in cases] == people["pseudonym"].tolist() and len(cases) == 14
    variables = {v.get("name"): v.get("typeOfVariable") for v in root.iterfind("q:Variables/q:Variable", q)}
    assert variables == {
        "year_of_study": "Integer",
        "witi_role": "Text",
        "gender": "Text",
        "joined_witi": "Integer",
        "interview_mode": "Text",
    }
    assert all(len(c.findall("q:VariableValue", q)) == 5 for c in cases)
    users = {u.get("id"): u.get("name") for u in root.iterfind("q:Users/q:User", q)}
    assert users == {"A": "Coder A", "B": "Coder B"}
    assert root.get("creationDateTime") == "2023-07-28T00:00:00Z"  # study.yml's last date, not the clock


def test_export_import_export_is_byte_identical(witi, tmp_path):
    out = tmp_path / "imported"
    written = qdpx.import_(witi, out, raw=RAW)
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    for f in (raw / "coding").glob("*.csv"):
        f.unlink()
    shutil.copy(written["codebook"], raw / "codebook.yml")
    shutil.copy(written["participants"], raw / "participants.csv")
    for coder in ("A", "B"):
        shutil.copy(written[coder], raw / "coding" / f"{coder}.csv")
    again = qdpx.export_from_folders(raw, DERIVED, tmp_path / "again.qdpx")
    assert again.read_bytes() == witi.read_bytes()
    assert cbmod.load(written["codebook"]) == cbmod.load(RAW / "codebook.yml")
    sources = read_csv(written["sources"], dtype=str)
    assert set(sources[sources.kind == "TextSource"]["matched"]) == {"yes"}
    assert (sources.kind == "PictureSource").sum() == 35


def test_themes_as_codes_round_trip(tmp_path):
    a = qdpx.export_from_folders(RAW, DERIVED, tmp_path / "t.qdpx", pages="text", themes_as_codes=True)
    root = ET.fromstring(zipfile.ZipFile(a).read("project.qde"))
    top = root.findall(f"{{{NS}}}CodeBook/{{{NS}}}Codes/{{{NS}}}Code")
    assert [c.get("name").split(":")[0] for c in top] == ["T1", "T2", "T3"]
    assert tags(root)["PictureSource"] == 0
    got = qdpx_import.read(a, RAW)
    assert got.codebook == cbmod.load(RAW / "codebook.yml")


# --------------------------------------------------------------------------- offsets in code points


def test_emoji_and_astral_characters_keep_offsets(tmp_path):
    """REFI-QDA positions count Unicode code points: an emoji (U+1FAC0), a CJK extension-B character (U+20000) and
    a combining accent each count as what a Python str counts, through export and import."""
    text = "P01: 🫀 heart 𠀀 then café́ and 👩‍⚕️ doctor\n"
    start = text.index("heart")
    end = text.index("doctor") + len("doctor")
    cb = cbmod.loads((RAW / "codebook.yml").read_text(encoding="utf-8"))
    cid = cb.code_ids[0]
    codings = pd.DataFrame(
        [{"coder": "A", "source_id": "P01", "start": start, "end": end, "code_id": cid, "memo": "🫀"}]
    )
    path = qdpx.export(tmp_path / "e.qdpx", cb, {"P01": text}, codings)
    with zipfile.ZipFile(path) as zf:
        root = ET.fromstring(zf.read("project.qde"))
        src = root.find(f".//{{{NS}}}TextSource")
        stored = zf.read(src.get("plainTextPath").replace("internal://", "sources/")).decode("utf-8")
    sel = src.find(f"{{{NS}}}PlainTextSelection")
    s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
    assert stored == text and stored[s:e] == text[start:end]
    assert (s, e) == (start, end) and len(text.encode("utf-16-le")) // 2 > len(text)  # UTF-16 would differ
    got = qdpx_import.read(path)
    row = got.codings.iloc[0]
    assert (int(row["start"]), int(row["end"]), row["memo"]) == (start, end, "🫀")


# --------------------------------------------------------------------------- real projects, and qc on ours


@pytest.fixture(scope="module")
def samples():
    from qc_tool import qc_samples

    return qc_samples()


def _xml_codes(path):
    root = ET.fromstring(zipfile.ZipFile(path).read("project.qde"))
    out = []

    def walk(el, parent):
        out.append((el.get("guid"), el.get("name"), parent))
        for child in el.findall(f"{{{NS}}}Code"):
            walk(child, el.get("guid"))

    for el in root.findall(f"{{{NS}}}CodeBook/{{{NS}}}Codes/{{{NS}}}Code"):
        walk(el, None)
    return root, out


def test_nvivo_sample_imports_every_code_with_its_hierarchy(samples, tmp_path):
    path = samples["nvivo"]
    root, xml_codes = _xml_codes(path)
    r = compendium("import", "qdpx", path, "--out", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    book = cbmod.load(tmp_path / "out" / "codebook.yml")
    assert len(xml_codes) == 262 and len({n for _, n, _ in xml_codes}) == 252
    assert len(book.codes) == 262 and book.codes["id"].is_unique
    # the hierarchy: each code's parent is the code it sits in, by GUID
    got = qdpx_import.read(path)
    # without a recorded order the import keeps the tree's order, so ids line up with the XML's codes
    by_guid = dict(zip([g for g, _, _ in xml_codes], got.codebook.codes["id"]))
    parent_of = dict(zip(got.codebook.codes["id"], got.codebook.codes["parent"]))
    for g, name, parent in xml_codes:
        assert parent_of[by_guid[g]] == (by_guid[parent] if parent else "")
    labels = Counter(book.codes["label"])
    assert labels["programming"] == 2
    assert set(book.codes["origin"]) == {"unknown"}
    assert book.history.iloc[0]["date"] == "2024-09-15"  # the project's modifiedDateTime
    assert "NVivo for Mac 15.0.0" in book.history.iloc[0]["change"]
    # its codings: the sample has none (its two sources hold one newline each); nothing is invented
    assert len(root.findall(f".//{{{NS}}}Coding")) == 0 == len(got.codings)
    assert list(got.sources["rule"]) == ["guid", "guid"]  # NVivo names sources with GUID-like strings
    assert r.stderr.count("no readable name") == 2


def test_qc_demo_imports_its_codings_under_readable_source_ids(samples, tmp_path):
    path = samples["demo"]
    root = ET.fromstring(zipfile.ZipFile(path).read("project.qde"))
    selections = root.findall(f".//{{{NS}}}PlainTextSelection")
    got = qdpx_import.read(path)
    want = {
        (s.get("startPosition"), s.get("endPosition"), c.find(f"{{{NS}}}CodeRef").get("targetGUID"))
        for s in selections
        for c in s.findall(f"{{{NS}}}Coding")
    }
    assert len(got.codings) == len(want) == 205
    assert set(got.codings["source_id"]) == {"board_2017"}
    assert list(got.sources["source_id"]) == ["board_2017", "admin-1"] and set(got.sources["rule"]) == {"path"}
    assert set(got.codings["coder"]) == {"cp"}
    # each coding's offsets still point into its source's text, counted in code points
    text = zipfile.ZipFile(path).read("sources/board_2017.txt").decode("utf-8").replace("\r\n", "\n")
    assert all(0 <= s < e <= len(text) for s, e in zip(got.codings["start"], got.codings["end"]))
    r = compendium("import", "qdpx", path, "--out", tmp_path / "out", "--raw", RAW)
    assert r.returncode == 0 and "board_2017 matches no transcript" in r.stderr
    assert read_csv(tmp_path / "out" / "coding" / "cp.csv", dtype=str).shape[0] == 205


def test_qc_imports_the_text_export_with_every_coding_on_its_line(tmp_path):
    from qc_tool import qc_codebook, qc_codings, qc_import, require_qc

    require_qc()
    path = qdpx.export_from_folders(RAW, DERIVED, tmp_path / "witi-text.qdpx", pages="text", themes_as_codes=True)
    r = qc_import(path, tmp_path / "qc")
    assert r.returncode == 0, r.stderr[-2000:]
    root = ET.fromstring(zipfile.ZipFile(path).read("project.qde"))
    code_name = {c.get("guid"): c.get("name") for c in root.iter(f"{{{NS}}}Code")}
    user_name = {u.get("guid"): u.get("name") for u in root.iter(f"{{{NS}}}User")}
    want = set()
    for src in root.iter(f"{{{NS}}}TextSource"):
        for sel in src.findall(f"{{{NS}}}PlainTextSelection"):
            line = int(sel.get("name").split()[0].split(":")[1])
            for c in sel.findall(f"{{{NS}}}Coding"):
                want.add(
                    (
                        src.get("name") + ".txt",
                        line,
                        code_name[c.find(f"{{{NS}}}CodeRef").get("targetGUID")],
                        user_name[c.get("creatingUser")],
                    )
                )
    got = {(c["document"], c["line"], c["code"], c["coder"]) for c in qc_codings(tmp_path / "qc")}
    assert got == want and len(want) > 1000
    names = qc_codebook(tmp_path / "qc")
    assert {
        "T1: Engagement in a connective space",
        "T2: Decentralization of knowledge and authority",
        "T3: Co-production of knowledge as a community",
    } <= set(names)  # the themes survive as codes


def test_qc_cannot_read_picture_sources(witi, tmp_path):
    """qc 1.7.8 crashes on any source without plainTextPath (its reader formats source['name'] on an XML element):
    the default export, with pictures, is for NVivo, ATLAS.ti, MAXQDA and QualCoder; qc gets --pages text."""
    from qc_tool import qc_import, require_qc

    require_qc()
    r = qc_import(witi, tmp_path / "qc")
    assert r.returncode != 0 and "element indices must be integers" in r.stderr


def test_emoji_offsets_survive_qc(tmp_path):
    from qc_tool import qc_codings, qc_import, require_qc

    require_qc()
    text = "Interviewer: 🫀?\nP01: the 𠀀 heart 👩‍⚕️ pumps\nInterviewer: and café́ 🫁 lungs?\nP01: they breathe\n"
    cb = cbmod.loads((RAW / "codebook.yml").read_text(encoding="utf-8"))
    cid = cb.code_ids[0]
    spans = [
        (text.index("heart"), text.index("pumps") + 5),
        (text.index("🫁"), text.index("lungs") + 5),
        (text.index("breathe"), len(text) - 1),
    ]
    codings = pd.DataFrame(
        [{"coder": "A", "source_id": "P01", "start": s, "end": e, "code_id": cid, "memo": ""} for s, e in spans]
    )
    path = qdpx.export(tmp_path / "e.qdpx", cb, {"P01": text}, codings)
    r = qc_import(path, tmp_path / "qc")
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "qc" / "corpus" / "P01.txt").read_text(encoding="utf-8") == text
    lines = sorted(c["line"] for c in qc_codings(tmp_path / "qc"))
    assert lines == [text.count("\n", 0, s) for s, _ in spans] == [1, 2, 3]
    back = qdpx_import.read(path)
    assert list(zip(back.codings["start"], back.codings["end"])) == spans
