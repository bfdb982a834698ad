"""Import of projects in the shapes other REFI-QDA tools write (the audit of ``compendium import qdpx``).

Each test builds a small ``.qdpx`` the way the tool writes it: NVivo on Windows (``Sources/``, CRLF text, a CRLF
counted as two positions, cases that are also nodes), QualCoder (CRLF files for MAXQDA with a line end counted as
one), ATLAS.ti (the ``.qde`` named after the project, upper-case GUIDs), MAXQDA (cases without a name, whole-document
codings, PDFs with a text representation, one document name in two groups), merged projects (two users of one name).
"""

from __future__ import annotations

import zipfile
from html import escape

import pytest

from compendium import codebook as cbmod
from compendium import qdpx_import
from compendium.errors import InputError
from compendium.tables import read_csv
from conftest import compendium, one_line_exit_2

NS = "urn:QDA-XML:project:1.0"
UA = "aaaaaaaa-0000-4000-8000-000000000001"
UB = "bbbbbbbb-0000-4000-8000-000000000002"
K1 = "c0000000-0000-4000-8000-000000000001"  # code "Analogy"
K2 = "c0000000-0000-4000-8000-000000000002"  # code "Late-night help"
S1 = "d0000000-0000-4000-8000-000000000001"
S2 = "d0000000-0000-4000-8000-000000000002"
CASE1 = "e0000000-0000-4000-8000-000000000001"
CASE2 = "e0000000-0000-4000-8000-000000000002"

TEXT = (
    "Interviewer: How did you first use the page?\n"
    "P01: A senior posted a question at midnight and everyone piled in.\n"
    "Interviewer: What happened next?\n"
    "P01: Someone drew a silly analogy with a subway map \U0001f687 and it clicked.\n"
    "P01: After that we correct each other, politely, with sources.\n"
)
QUOTES = ["everyone piled in", "drew a silly analogy", "subway map \U0001f687", "with sources."]

_n = iter(range(10_000, 99_999))


def g() -> str:
    """A fresh GUID for selections and codings."""
    return f"f0000000-0000-4000-8000-0000000{next(_n):05d}"


def positions(text: str, quote: str, crlf_as: int = 1) -> tuple[int, int]:
    """Start and end of ``quote`` in the LF ``text``, counted as a tool does: a line end as one position (QualCoder
    for MAXQDA, ATLAS.ti) or, the text being stored with CRLF, as two (NVivo on Windows)."""
    s = text.index(quote)
    e = s + len(quote)
    if crlf_as == 2:
        return s + text.count("\n", 0, s), e + text.count("\n", 0, e)
    return s, e


def coding(code: str = K1, user: str = UA) -> str:
    return f'<Coding guid="{g()}" creatingUser="{user}"><CodeRef targetGUID="{code}"/></Coding>'


def sel(start: int, end: int, code: str = K1, user: str = UA, name: str = "") -> str:
    named = f' name="{escape(name)}"' if name else ""
    return (
        f'<PlainTextSelection guid="{g()}"{named} startPosition="{start}" endPosition="{end}" '
        f'creatingUser="{user}">{coding(code, user)}</PlainTextSelection>'
    )


def text_source(guid: str, name: str, inner: str = "", path: str | None = None) -> str:
    path = path or f"internal://{guid}.txt"
    return f'<TextSource guid="{guid}" name="{name}" plainTextPath="{path}">{inner}</TextSource>'


CODEBOOK = (
    f'<CodeBook><Codes><Code guid="{K1}" name="Analogy" isCodable="true"/>'
    f'<Code guid="{K2}" name="Late-night help" isCodable="true"/></Codes></CodeBook>'
)


def build(
    tmp_path,
    body: str,
    members: dict[str, str | bytes] | None = None,
    *,
    users: tuple[tuple[str, str], ...] = ((UA, "Coder A"), (UB, "Coder B")),
    codebook: str = CODEBOOK,
    qde_name: str = "project.qde",
    origin: str = "Generic",
    name: str = "p.qdpx",
):
    users_xml = "".join(f'<User guid="{u}" name="{escape(n)}"/>' for u, n in users)
    qde = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="pilot" origin="{origin}">\n'
        f"<Users>{users_xml}</Users>\n{codebook}\n{body}\n</Project>\n"
    )
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(qde_name, qde)
        for k, v in (members or {}).items():
            zf.writestr(k, v)
    return path


def quoted(got, text: str = TEXT) -> list[str]:
    """The text at every imported coding's offsets, in order of the quotes."""
    return sorted((text[int(s) : int(e)] for s, e in zip(got.codings["start"], got.codings["end"])), key=str)


def source_row(got, guid: str) -> dict:
    return got.sources.set_index("guid").loc[guid].to_dict()


# --------------------------------------------------------------------------- 1. CRLF positions


def crlf_project(tmp_path, crlf_as: int, folder: str = "Sources", quotes=QUOTES):
    sels = "".join(sel(*positions(TEXT, quote, crlf_as)) for quote in quotes)
    members = {f"{folder}/{S1}.txt": TEXT.replace("\n", "\r\n").encode()}
    return build(tmp_path, f"<Sources>{text_source(S1, 'P01', sels)}</Sources>", members, origin="NVivo 14")


def test_nvivo_windows_crlf_counted_as_two_maps_to_lf_offsets(tmp_path):
    """NVivo on Windows: the text in ``Sources/`` (capital S) with CRLF line ends, positions counting a CRLF as two
    characters; the last selection ends on the last line (past the end of the LF text: it must not be refused)."""
    got = qdpx_import.read(crlf_project(tmp_path, crlf_as=2))
    assert quoted(got) == sorted(QUOTES, key=str)
    row = source_row(got, S1)
    assert row["line_ends"] == "crlf-as-2" and row["imported"] == 4
    assert not [w for w in got.warnings if "CRLF" in w]


def test_qualcoder_crlf_counted_as_one_maps_unchanged(tmp_path):
    """QualCoder's export for MAXQDA (and ATLAS.ti): CRLF files, positions counting a line end as one."""
    got = qdpx_import.read(crlf_project(tmp_path, crlf_as=1, folder="sources"))
    assert quoted(got) == sorted(QUOTES, key=str)
    assert source_row(got, S1)["line_ends"] == "crlf-as-1"


def test_lf_text_records_lf(tmp_path):
    sels = sel(*positions(TEXT, "everyone piled in"))
    got = qdpx_import.read(
        build(tmp_path, f"<Sources>{text_source(S1, 'P01', sels)}</Sources>", {f"sources/{S1}.txt": TEXT})
    )
    assert quoted(got) == ["everyone piled in"] and source_row(got, S1)["line_ends"] == "lf"


def test_crlf_selections_before_any_line_end_fit_either(tmp_path):
    got = qdpx_import.read(crlf_project(tmp_path, crlf_as=2, quotes=["How did you"]))
    assert quoted(got) == ["How did you"] and source_row(got, S1)["line_ends"] == "crlf-either"


def test_crlf_ambiguous_conventions_warn_once(tmp_path):
    """Selections that fall on word boundaries under both readings: the import says so, once per source."""
    text = "a\nb c d e\n"
    stored = text.replace("\n", "\r\n")
    # raw 4..5 is "c" counting a CRLF as one and " " counting it as two: both on word boundaries
    body = f"<Sources>{text_source(S1, 'P01', sel(4, 5) + sel(6, 7))}</Sources>"
    got = qdpx_import.read(build(tmp_path, body, {f"sources/{S1}.txt": stored}))
    warned = [w for w in got.warnings if "CRLF" in w]
    assert len(warned) == 1 and "P01" in warned[0] and "ambiguous" in warned[0]
    assert source_row(got, S1)["line_ends"] == "crlf-as-1"  # a tie: one per line end, as most tools count


def test_crlf_past_the_end_under_both_readings_is_refused(tmp_path):
    stored = "a b\r\nc d\r\n"  # 10 characters as stored, 8 with LF line ends
    body = f"<Sources>{text_source(S1, 'P01', sel(2, 11))}</Sources>"
    path = build(tmp_path, body, {f"sources/{S1}.txt": stored})
    with pytest.raises(InputError, match="past the end of its source") as e:
        qdpx_import.read(path)
    assert str(path) in str(e.value) and "<PlainTextSelection" in str(e.value)


def test_crlf_inline_text_with_carriage_return_entities(tmp_path):
    """PlainTextContent keeps a CR only as ``&#13;``; such text is read as stored too."""
    stored = TEXT.replace("\n", "&#13;\n")
    sels = "".join(sel(*positions(TEXT, q, 2)) for q in QUOTES)
    body = (
        f'<Sources><TextSource guid="{S1}" name="P01.docx"><PlainTextContent>{stored}</PlainTextContent>'
        f"{sels}</TextSource></Sources>"
    )
    got = qdpx_import.read(build(tmp_path, body))
    assert quoted(got) == sorted(QUOTES, key=str) and source_row(got, S1)["line_ends"] == "crlf-as-2"


def test_crlf_word_boundary_score():
    text = "one two\nthree"
    assert qdpx_import.boundary_score(text, [(0, 3), (4, 7)]) == 1.0
    assert qdpx_import.boundary_score(text, [(1, 3)]) == 0.5
    assert qdpx_import.lf_position(3, [1]) == 2 and qdpx_import.lf_position(2, [1]) == 1


# --------------------------------------------------------------------------- 2. NVivo case nodes


def nvivo_cases_project(tmp_path, case_names=("P01", "P02"), source_refs: bool = True):
    """Cases that are also nodes (same GUID, NVivo writes them braced and upper case in one place), under a
    non-codable node "Cases", and each interview coded as a whole at its case node."""
    nodes = (
        f'<Code guid="{g()}" name="Cases" isCodable="false">'
        f'<Code guid="{{{CASE1.upper()}}}" name="P01" isCodable="true"/>'
        f'<Code guid="{CASE2}" name="P02" isCodable="true"/></Code>'
    )
    codebook = CODEBOOK.replace("</Codes>", nodes + "</Codes>")
    cases = "".join(
        f'<Case guid="{c}"{f" name={chr(34)}{n}{chr(34)}" if n else ""}>'
        + (f'<SourceRef targetGUID="{s}"/>' if source_refs else "")
        + "</Case>"
        for c, n, s in zip((CASE1, CASE2), case_names, (S1, S2))
    )
    texts = {S1: TEXT, S2: "P02: The hearts tell me whether an answer is trusted.\n"}
    sources = "".join(
        text_source(
            s,
            name,
            sel(0, len(t), code=c) + (sel(*positions(TEXT, "everyone piled in"), code=K2) if s == S1 else ""),
        )
        for s, name, t, c in zip((S1, S2), ("P01", "P02"), texts.values(), (CASE1, CASE2))
    )
    members = {f"Sources/{s}.txt": t for s, t in texts.items()}
    return build(tmp_path, f"<Cases>{cases}</Cases><Sources>{sources}</Sources>", members, codebook=codebook)


def test_nvivo_case_nodes_are_cases_not_codes(tmp_path):
    got = qdpx_import.read(nvivo_cases_project(tmp_path))
    assert list(got.codebook.codes["label"]) == ["Analogy", "Late-night help"]
    assert list(got.codings["code_id"]) == ["Late-night-help"]
    assert got.participants["pseudonym"].tolist() == ["P01", "P02"]


def test_nvivo_case_without_name_is_named_by_its_node(tmp_path):
    got = qdpx_import.read(nvivo_cases_project(tmp_path, case_names=("", ""), source_refs=False))
    assert got.participants["pseudonym"].tolist() == ["P01", "P02"]


# --------------------------------------------------------------------------- 3. the .qde's name


def test_atlasti_qde_named_after_the_project_is_read(tmp_path):
    body = f"<Sources>{text_source(S1, 'P01.txt', sel(*positions(TEXT, 'drew a silly analogy')))}</Sources>"
    path = build(tmp_path, body, {f"sources/{S1}.txt": TEXT}, qde_name="WITI pilot.qde", origin="ATLAS.ti 23")
    got = qdpx_import.read(path)
    assert quoted(got) == ["drew a silly analogy"]


def test_two_qde_files_are_refused_naming_them(tmp_path):
    path = build(tmp_path, "", qde_name="WITI pilot.qde")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("backup.qde", zf.read("WITI pilot.qde"))
    r = compendium("import", "qdpx", path, "--out", tmp_path / "out")
    one_line_exit_2(r, str(path), "WITI pilot.qde", "backup.qde")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- 4. cases without a name (MAXQDA)


def test_maxqda_unnamed_cases_take_the_name_of_their_source(tmp_path):
    variables = f'<Variables><Variable guid="{g()}" name="year_of_study" typeOfVariable="Integer"/></Variables>'
    var_guid = variables.split('"')[1]

    def case(guid, refs, year):
        return (
            f'<Case guid="{guid}"><VariableValue><VariableRef targetGUID="{var_guid}"/>'
            f"<IntegerValue>{year}</IntegerValue></VariableValue>"
            + "".join(f'<SourceRef targetGUID="{r}"/>' for r in refs)
            + "</Case>"
        )

    cases = f"<Cases>{case(CASE1, [S1], 3)}{case(CASE2, [S1, S2], 5)}</Cases>"
    sources = f"<Sources>{text_source(S1, 'P01.txt')}{text_source(S2, 'P02.docx')}</Sources>"
    got = qdpx_import.read(build(tmp_path, variables + cases + sources))
    assert got.participants.to_dict("records") == [
        {"pseudonym": "P01", "year_of_study": "3"},
        {"pseudonym": CASE2, "year_of_study": "5"},
    ]
    warned = [w for w in got.warnings if "case" in w.lower()]
    assert len(warned) == 1 and CASE2 in warned[0] and "2 sources" in warned[0]


# --------------------------------------------------------------------------- 5. codings that cannot be imported


def test_pdf_with_a_text_representation_is_imported_as_text(tmp_path):
    """QualCoder and MAXQDA: a PDFSource whose Representation (its plain text) holds the selections."""
    rep = g()
    body = (
        f'<Sources><PDFSource guid="{S2}" name="P02.pdf" path="internal://{S2}.pdf">'
        f'<Representation guid="{rep}" name="P02.pdf" plainTextPath="internal://{rep}.txt">'
        f"{sel(*positions(TEXT, 'drew a silly analogy'))}</Representation></PDFSource></Sources>"
    )
    members = {f"sources/{S2}.pdf": b"%PDF-1.4\n", f"sources/{rep}.txt": "\ufeff" + TEXT}
    got = qdpx_import.read(build(tmp_path, body, members))
    assert quoted(got) == ["drew a silly analogy"] and set(got.codings["source_id"]) == {"P02"}
    assert source_row(got, S2)["imported"] == 1 and source_row(got, S2)["not_imported"] == 0


def test_codings_that_cannot_be_imported_are_counted_and_warned_once_per_kind(tmp_path):
    sync_a, sync_b, tr = g(), g(), g()
    audio = g()

    def region() -> str:
        return f'<PictureSelection guid="{g()}" firstX="0" firstY="0" secondX="5" secondY="5">{coding()}</PictureSelection>'

    body = (
        "<Sources>"
        f'<PictureSource guid="{S1}" name="photo.png" path="internal://{S1}.png">{region()}{region()}'
        "</PictureSource>"
        f'<PDFSource guid="{S2}" name="scan.pdf" path="internal://{S2}.pdf"><PDFSelection guid="{g()}" page="1" '
        f'firstX="0" firstY="0" secondX="5" secondY="5">{coding()}</PDFSelection></PDFSource>'
        f'<AudioSource guid="{audio}" name="P03.m4a" path="internal://{audio}.m4a">'
        f'<Transcript guid="{tr}" name="P03.txt" plainTextPath="internal://{tr}.txt">'
        f'<SyncPoint guid="{sync_a}" position="0" timeStamp="0"/><SyncPoint guid="{sync_b}" position="4" '
        f'timeStamp="900"/><TranscriptSelection guid="{g()}" fromSyncPoint="{sync_a}" toSyncPoint="{sync_b}">'
        f"{coding()}</TranscriptSelection></Transcript>"
        f'<AudioSelection guid="{g()}" begin="0" end="900">{coding()}{coding(K2)}</AudioSelection></AudioSource>'
        "</Sources>"
    )
    got = qdpx_import.read(build(tmp_path, body, {f"sources/{tr}.txt": "P03: yes\n"}))
    assert len(got.codings) == 0
    counts = got.sources.set_index("guid")["not_imported"].to_dict()
    assert counts == {S1: 2, S2: 1, audio: 3}
    kinds = got.sources.set_index("guid")["not_imported_kind"].to_dict()
    assert kinds[audio] == "AudioSelection 2; TranscriptSelection 1"
    warned = [w for w in got.warnings if "not imported" in w]
    assert len(warned) == 4, warned  # picture regions, PDF regions, audio segments, transcript selections
    assert any("2 codings of picture regions" in w and "photo" in w for w in warned)


def test_whole_document_coding_covers_the_whole_text(tmp_path):
    """MAXQDA and NVivo: a Coding directly under a TextSource codes the whole document."""
    stored = TEXT.replace("\n", "\r\n")
    body = f"<Sources>{text_source(S1, 'P01.txt', coding(K2, UB))}</Sources>"
    got = qdpx_import.read(build(tmp_path, body, {f"sources/{S1}.txt": stored}))
    assert got.codings[["coder", "start", "end", "code_id"]].values.tolist() == [
        ["Coder B", 0, len(TEXT), "Late-night-help"]
    ]


def test_selections_of_a_text_not_in_the_archive_are_imported_with_a_warning(tmp_path):
    """Positions that cannot be checked (the text member is missing) are kept as written, and the import says so;
    a whole-document coding cannot be placed without the text and is counted as not imported."""
    body = f"<Sources>{text_source(S1, 'P01', sel(3, 9) + coding(K2))}</Sources>"
    got = qdpx_import.read(build(tmp_path, body))
    assert got.codings[["start", "end"]].values.tolist() == [[3, 9]]
    row = source_row(got, S1)
    assert row["line_ends"] == "" and row["not_imported"] == 1 and row["not_imported_kind"] == "TextSource 1"
    assert any("not in the archive" in w and "unchecked" in w for w in got.warnings)
    assert any("1 coding of whole documents whose text is not in the archive" in w for w in got.warnings)


# --------------------------------------------------------------------------- 6. coders


def two_users_project(tmp_path, names):
    sels = sel(*positions(TEXT, "everyone piled in"), user=UA) + sel(*positions(TEXT, "drew a silly"), user=UB)
    body = f"<Sources>{text_source(S1, 'P01', sels)}</Sources>"
    return build(tmp_path, body, {f"sources/{S1}.txt": TEXT}, users=((UA, names[0]), (UB, names[1])))


@pytest.mark.parametrize(
    "names, coders, files",
    [
        # a merged project's two users of one name: two coders
        (("Admin", "Admin"), ["Admin~aaaaaaaa", "Admin~bbbbbbbb"], ["Admin-aaaaaaaa.csv", "Admin-bbbbbbbb.csv"]),
        # two names, one file name (and on Windows and macOS case does not tell files apart): two files
        (("Coder A", "Coder-A"), ["Coder A", "Coder-A"], ["Coder-A-aaaaaaaa.csv", "Coder-A-bbbbbbbb.csv"]),
        (("ann", "Ann"), ["Ann", "ann"], ["Ann-bbbbbbbb.csv", "ann-aaaaaaaa.csv"]),
    ],
)
def test_users_whose_coding_files_would_clash_stay_apart(tmp_path, names, coders, files):
    got = qdpx_import.read(two_users_project(tmp_path, names))
    assert sorted(set(got.codings["coder"])) == coders
    assert len([w for w in got.warnings if "users are named" in w or "one coding file" in w]) == 1
    written = qdpx_import.write(got, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out" / "coding").iterdir()) == files
    assert len(written) == 2 + 2  # codebook, sources and one file per coder
    for coder in coders:
        assert set(read_csv(written[coder], dtype=str)["coder"]) == {coder}


def test_cli_counts_the_coding_files_it_writes(tmp_path):
    """A coder named like one of the import's own files is still one coding file in the summary."""
    path = two_users_project(tmp_path, ("codebook", "Admin"))
    r = compendium("import", "qdpx", path, "--out", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in (tmp_path / "out" / "coding").iterdir())
    assert files == ["Admin.csv", "codebook.csv"] and "2 coding file(s)" in r.stdout


# --------------------------------------------------------------------------- 7. the output folder


def simple_project(tmp_path, names=("Coder A", "Coder B")):
    return two_users_project(tmp_path, names)


@pytest.mark.parametrize("where", ["out", "out/coding"])
def test_out_or_its_coding_folder_being_a_file_is_one_line(tmp_path, where):
    (tmp_path / "out").mkdir() if where != "out" else None
    (tmp_path / where).write_text("not a folder\n")
    r = compendium("import", "qdpx", simple_project(tmp_path), "--out", tmp_path / "out")
    line = one_line_exit_2(r, str(tmp_path / where), "not a folder")
    assert "internal error" not in line
    assert (tmp_path / where).read_text() == "not a folder\n"


def test_out_under_a_file_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("x\n")
    r = compendium("import", "qdpx", simple_project(tmp_path), "--out", tmp_path / "afile" / "sub" / "out")
    one_line_exit_2(r, str(tmp_path / "afile"), "is not a folder")


def test_a_second_import_replaces_the_first_ones_files_and_keeps_others(tmp_path):
    out = tmp_path / "out"
    qdpx_import.write(qdpx_import.read(simple_project(tmp_path, ("Admin", "Coder B"))), out)
    (out / "notes.md").write_text("mine\n")
    (out / "coding" / "README.txt").write_text("mine\n")
    (out / "participants.csv").write_text("pseudonym\nP09\n")  # as an earlier import with cases left it
    qdpx_import.write(qdpx_import.read(simple_project(tmp_path, ("Coder A", "Coder B"))), out)
    assert sorted(p.name for p in (out / "coding").iterdir()) == ["Coder-A.csv", "Coder-B.csv", "README.txt"]
    assert (out / "notes.md").read_text() == "mine\n" and not (out / "participants.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_a_failed_write_leaves_out_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "out"
    got = qdpx_import.read(simple_project(tmp_path))
    qdpx_import.write(got, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(df, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(qdpx_import, "write_csv", broken)
    with pytest.raises(InputError, match="No space left on device"):
        qdpx_import.write(got, out)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------- smaller items


def test_guids_compare_without_case_or_braces(tmp_path):
    codebook = CODEBOOK.replace(f'"{K1}"', f'"{{{K1.upper()}}}"', 1)
    sels = sel(*positions(TEXT, "drew a silly analogy"), user=UA.upper())
    body = f"<Sources>{text_source(S1, 'P01', sels)}</Sources>"
    got = qdpx_import.read(build(tmp_path, body, {f"sources/{S1}.txt": TEXT}, codebook=codebook))
    assert got.codings[["coder", "code_id"]].values.tolist() == [["Coder A", "Analogy"]]


def test_duplicate_source_names_are_told_apart(tmp_path):
    """MAXQDA: one document name in two document groups. The first keeps the name, the other gets its GUID."""
    sels = sel(*positions(TEXT, "drew a silly analogy"))
    body = f"<Sources>{text_source(S1, 'P01.txt', sels)}{text_source(S2, 'P01.txt')}</Sources>"
    got = qdpx_import.read(build(tmp_path, body, {f"sources/{S1}.txt": TEXT, f"sources/{S2}.txt": "P01: yes\n"}))
    assert got.sources["source_id"].tolist() == ["P01", "P01~d0000000"]
    assert got.codings["source_id"].tolist() == ["P01"]
    assert len([w for w in got.warnings if "both named P01" in w]) == 1


def test_code_ids_keep_letters_beyond_ascii():
    assert qdpx_import.safe_id("Ärger") == "Arger"
    assert qdpx_import.safe_id("café au lait") == "cafe-au-lait"
    assert qdpx_import.safe_id("学习 支持") == "学习-支持"
    assert qdpx_import.safe_id("!!!") == "code"


def test_import_of_a_tools_project_loads_as_a_codebook(tmp_path):
    out = tmp_path / "out"
    qdpx_import.write(qdpx_import.read(crlf_project(tmp_path, crlf_as=2)), out)
    book = cbmod.load(out / "codebook.yml")
    assert list(book.codes["id"]) == ["Analogy", "Late-night-help"]
    sources = read_csv(out / "sources.csv", dtype=str)
    assert sources["line_ends"].tolist() == ["crlf-as-2"]
