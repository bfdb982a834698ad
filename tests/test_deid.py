import pandas as pd
import pytest

from compendium import deid

from conftest import RAW

ROSTER = pd.DataFrame(
    [
        {"pseudonym": "P01", "display_name": "Lim Jia Hui", "handle": "jiahui.lim", "aliases": "Jia Hui;JH"},
        {"pseudonym": "M15", "display_name": "Vikram Nair", "handle": "vik_n", "aliases": "Vik"},
    ]
)


@pytest.mark.parametrize(
    "planted,kind",
    [
        ("Lim Jia Hui", "roster identifier"),
        ("jia hui", "roster identifier"),
        ("@jiahui.lim", "roster identifier"),
        ("Vik", "roster identifier"),
        ("someone@example.com", "email"),
        ("+65 9123 4567", "phone"),
        ("91234567", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("S1234567D", "nric"),
        ("A0123456X", "matric"),
        ("facebook.com/some.person", "url"),
        ("@stranger_99", "handle"),
    ],
)
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_planted_identifiers_are_found_and_masked(planted, kind, where):
    line = {"start": f"{planted} said hello", "middle": f"so then {planted} said", "end": f"thanks {planted}"}[where]
    hits = deid.Gate(ROSTER).scan_text("first line\n" + line + "\n", "x.txt")
    assert hits, (planted, where)
    assert hits[0].line == 2 and hits[0].kind == kind
    assert planted not in hits[0].format() and hits[0].masked.endswith("***")


@pytest.mark.parametrize(
    "clean",
    [
        "[Friend 1] told P01 and @P07 about it",
        "Vikramaditya is not a member",
        "a JHS style answer",
        "score 12/20, 2023-03-04, 21:14",
        "the loop of Henle",
    ],
)
def test_placeholders_pseudonyms_and_ordinary_text_pass(clean):
    assert deid.Gate(ROSTER).scan_text(clean) == []


def test_committed_raw_interviews_and_notes_are_clean():
    gate = deid.Gate(deid.load_roster(RAW / "private" / "roster.csv"))
    assert gate.scan_paths([RAW / "transcripts", RAW / "fieldnotes", RAW / "coding"]) == []


def test_duplicate_pseudonym_in_roster(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text("pseudonym,display_name,handle,aliases\nP01,A B,ab,\nP01,C D,cd,\n")
    with pytest.raises(Exception) as e:
        deid.load_roster(p)
    assert "roster.csv:3" in str(e.value) and "duplicate pseudonym" in str(e.value)


def test_qdpx_members_are_scanned(tmp_path):
    import zipfile

    p = tmp_path / "project.qdpx"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("project.qde", '<Project guid="88394875-23fd-5a45-a0f4-1346c1ffb318"/>\n')
        zf.writestr("sources/a.txt", "fine line\nthen Vikram Nair spoke\n")
    hits = deid.Gate(ROSTER).scan_paths([p])
    assert [(h.path, h.line, h.kind) for h in hits] == [(f"{p}!sources/a.txt", 2, "roster identifier")]


def test_guids_and_checksums_are_not_phone_numbers():
    text = 'guid="88394875-23fd-5a45-a0f4-1346c1ffb318"\n' + "9" * 64 + "  posts.csv\n"
    assert deid.Gate(ROSTER).scan_text(text) == []


@pytest.mark.parametrize("text", ["kappa 0.91234567", "id=cell-91234567", "x,91234567", "81234567.5 units"])
def test_numbers_inside_ids_and_decimals_are_not_phones(text):
    assert [h for h in deid.Gate(ROSTER).scan_text(text) if h.kind == "phone"] == []


@pytest.mark.parametrize("misread", ["Vikrarn Nair", "vikram nair", "VIKRAM NAIR", "Lirn Jia Hui", "jiahui.1im"])
def test_roster_matching_survives_ocr_misreadings(misread):
    hits = deid.Gate(ROSTER).scan_text(f"posted by {misread} yesterday")
    assert hits and {h.kind for h in hits} == {"roster identifier"}


def test_allow_list_needs_reasons_and_suppresses_only_its_value(tmp_path):
    p = tmp_path / "deid_allow.yml"
    p.write_text(
        "allow:\n  - value: Vik\n    reason: a ward abbreviation in these notes, reviewed\n"
        "  - value: someone@example.com\n    kind: email\n    reason: documentation example address\n"
    )
    gate = deid.Gate(ROSTER, deid.load_allow(p))
    assert gate.scan_text("Vik and someone@example.com") == []
    assert [h.kind for h in gate.scan_text("Vikram Nair")] == ["roster identifier"]
    p.write_text("allow:\n  - value: Vik\n    reason: ok\n  - value: JH\n")
    with pytest.raises(Exception) as e:
        deid.load_allow(p)
    assert "deid_allow.yml:4" in str(e.value) and "reason" in str(e.value)


# ------------------------------------------------------------------------------------------------ issue 8

from pathlib import Path  # noqa: E402

from compendium.errors import InputError  # noqa: E402

from conftest import DERIVED, compendium, one_line_exit_2  # noqa: E402

ROSTER_CSV = RAW / "private" / "roster.csv"


@pytest.fixture(scope="module")
def corpus_gate():
    return deid.load_gate(ROSTER_CSV)


@pytest.mark.parametrize(
    "text,skeleton",
    [
        ("Zoë", "zoe"),
        ("Isabél", "isabel"),
        ("Zoe\u0308", "zoe"),
        ("M\u0430rcus", "marcus"),
        ("ＭＡＲＣＵＳ", "marcus"),
        ("Jia\u200bHui", "jiahui"),
        ("Jia\u00adHui", "jiahui"),
        ("\ufeffJia\u2060Hui", "jiahui"),
        ("Jia\u00a0Hui", "jia hui"),
        ("Jia\u3000Hui", "jia hui"),
        ("Jia\u2013Hui", "jia-hui"),
        ("9123\u22124567", "9123-4567"),
        ("＠vik", "@vik"),
        ("１２３", "123"),
        ("ﬁne", "fine"),
        ("Straße", "strasse"),
        ("加油 Marcus", "加油 marcus"),
    ],
)
def test_skeleton_folds_unicode_case_and_look_alikes(text, skeleton):
    assert deid.fold(text) == skeleton
    assert deid.skeleton(text).text == skeleton


def test_skeleton_maps_every_position_back_to_the_original():
    text = "a\u200b\u200bZ\u00f6e\u0308 \uff2a\n\u0430b"
    sk = deid.skeleton(text)
    assert sk.text == "azoe j\nab"
    for i, ch in enumerate(sk.text):
        o = sk.origin(i)
        assert deid.fold(text[o]) in (ch, "") or deid.fold(text[o : o + 2]).startswith(ch), (i, ch, o)
    assert text[sk.origin(sk.text.index("j"))] == "\uff2a" and text[sk.origin(sk.text.index("\n") + 1)] == "\u0430"


def test_confusables_table_is_the_unicode_one_and_deterministic():
    table = deid._confusables()
    assert len(table) > 1000 and table["\u0430"] == "a" and table["\u041c"] == "M" and table["\u0131"] == "i"
    assert all(len(v) == 1 and v.isascii() and v.isalnum() for v in table.values())
    deid._confusables.cache_clear()
    assert deid._confusables() == table


@pytest.mark.parametrize(
    "text,line",
    [
        ("a\nb Lim Jia\nHui c", 2),
        ("a\nb Lim\u00a0Jia-\nHui c", 2),
        ("x\n\nJia-Hui", 3),
        ("Vik-\nram", 1),
        ("1\n2\nJ i a h u i!", 3),
        ("1\nJ.i.a.h.u.i", 2),
        ("1\n2\n3\nj\u200bia h\u200dui", 4),
        ("\n\n\nZo\u00eb said", 4),
        ("1\na J.i.a.H.u.i", 2),
        ("J i a h u i s", 1),
    ],
)
def test_names_split_hyphenated_or_spaced_are_found_on_their_first_line(text, line):
    hits = (
        deid.Gate(ROSTER).scan_text(text, "x.txt")
        if "Zo" not in text
        else deid.load_gate(ROSTER_CSV).scan_text(text, "x.txt")
    )
    assert [(h.line, h.kind) for h in hits] == [(line, "roster identifier")]


@pytest.mark.parametrize(
    "joined", ["vikramnair is one word", "ask vikram_nair", "LimJiaHui", "jiahui_lim", "darren-koh"]
)
def test_names_and_handles_joined_or_with_another_separator_are_found(joined):
    hits = deid.load_gate(ROSTER_CSV).scan_text(joined)
    assert [h.kind for h in hits] == ["roster identifier"], joined


def test_a_joined_name_that_is_an_english_word_is_not_an_identifier():
    assert "wanting" not in deid.joined_forms(["Wan Ting", "Jia Hui"]) and "JiaHui" in deid.joined_forms(["Jia Hui"])
    assert deid.load_gate(ROSTER_CSV).scan_text("I was wanting more examples") == []


@pytest.mark.parametrize(
    "clean",
    [
        "Vikramaditya",
        "Jia Huizhen",
        "Lim Jiahuiyi",
        "Vi k",
        "V i k r a m a d i t y a",
        "J i a h u i x y",
    ],
)
def test_whole_words_only(clean):
    hits = deid.Gate(ROSTER).scan_text(clean)
    assert hits == [], [h.format() for h in hits]


@pytest.mark.parametrize(
    "planted,kind",
    [
        ("t1234567j", "nric"),
        ("f1234567n", "nric"),
        ("a0123456x", "matric"),
        ("U1234567B", "matric"),
        ("x at gmail dot com", "email"),
        ("x [at] gmail [dot] com", "email"),
        ("x(at)gmail.com", "email"),
        ("x @ gmail . com", "email"),
        ("x＠gmail.com", "email"),
        ("x at gmail.com", "email"),
        ("x{at}u.nus.edu", "email"),
        ("65-91234567", "phone"),
        ("9123.4567", "phone"),
        ("9123\u20134567", "phone"),
        ("9123-4567", "phone"),
        ("+65\u00a09123\u00a04567", "phone"),
        ("(+65) 9123-4567", "phone"),
        ("6591234567", "phone"),
        ("wa.me/6591234567", "url"),
        ("instagr.am/some.one", "url"),
        ("fb.me/someone", "url"),
        ("t.me/someone", "url"),
        ("linkedin.com/in/some-one", "url"),
        ("github.com/someone", "url"),
        ("https://www.instagram.com/x_y", "url"),
        ("tiktok.com/@someone", "url"),
        ("x.com/someone", "url"),
        ("twitter.com/someone", "url"),
        ("＠stranger_99", "handle"),
    ],
)
def test_patterns_in_every_common_form(planted, kind):
    hits = deid.Gate().scan_text(f"first\nsee {planted} now", "x.txt")
    assert kind in {h.kind for h in hits} and {h.line for h in hits} == {2}, [h.format() for h in hits]
    assert all(planted not in h.format() for h in hits)


@pytest.mark.parametrize(
    "clean",
    [
        "Starling forces",
        "Guyton's textbook",
        "Cushing syndrome",
        "the Parkland formula",
        "dropbox.com/s/abc",
        "see reddit.com/r/medicine",
        "kappa 0.91234567",
        "at 21:14",
        "on 2023-03-12",
        "12 Mar 2023, 21:14",
        "88394875-23fd-5a45-a0f4-1346c1ffb318",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "P07",
        "@P07 answered",
        "M21 and @M21",
        "[Friend 1]",
        "[Lecturer A] said",
        "look at gmail later",
        "we met at the ward dot",
        "thanks @P07. Great answer",
        "I was at home. Then I slept",
        "look at wikipedia.org",
        "page 9123",
        "n = 8123 of 9000",
        "version 1.3",
        "score 12/20",
        "Kelly said so",
        "ask kelly_w later",
    ],
)
def test_ordinary_text_is_not_an_identifier(corpus_gate, clean):
    assert corpus_gate.scan_text(f"x\n{clean}\n", "x.txt") == []


def test_only_a_first_name_or_handle_on_no_roster_passes():
    gate = deid.Gate(ROSTER)
    assert gate.scan_text("Kelly and kelly_w said so") == []  # on no roster: passes
    assert [h.kind for h in gate.scan_text("thanks @kelly_w")] == ["handle"]  # an @handle never does


def test_a_phone_number_may_start_a_csv_cell():
    gate = deid.Gate()
    assert [h.kind for h in gate.scan_text("P01,3,91234567\n", "participants.csv")] == ["phone"]
    assert gate.scan_text("x,91234567", "notes.txt") == []  # a decimal comma in running text


def test_the_committed_corpus_has_no_hit_and_no_allow_list(corpus_gate):
    assert not (RAW / "deid_allow.yml").exists()
    raw = [p for p in RAW.iterdir() if p.name != "private"]
    assert [h.format() for h in corpus_gate.scan_paths(raw, RAW)] == []
    assert [h.format() for h in corpus_gate.scan_paths([DERIVED], DERIVED)] == []


def test_raw_files_are_scanned_in_full_script_and_style_included():
    gate = deid.Gate(ROSTER)
    text = "line 1\n<script>\nvar a = 1;\nVikram Nair\n</script>\n<style>@media x { }</style>\n"
    for name in ("P01.txt", "FN.md", "A.csv", "codebook.yml", "study.yaml", "x.json"):
        hits = gate.scan_text(text, name)
        assert [(h.line, h.kind) for h in hits] == [(4, "roster identifier"), (6, "handle")], name


def test_generated_html_skips_script_and_style_only():
    gate = deid.Gate(ROSTER)
    html = (
        "<html><head><style>\n@media print { .x {} }\n</style>\n<script>\nvar who = 'Vikram Nair';\n"
        "</script>\n</head><body>\n<p>fine</p>\n<p title='Vik&#114;am Nair'>x</p>\n"
        "<p>Vik<b>ram</b> Nair and\nJia</p><p>Hui</p>\n"
        '<img src="data:image/png;base64,QEBAQFZpa3JhbSBOYWly">\n<p>kelly&#64;example.com</p>\n</body></html>\n'
    )
    hits = [(h.line, h.kind) for h in gate.scan_text(html, "report.html")]
    assert hits == [(9, "roster identifier"), (10, "roster identifier"), (11, "roster identifier"), (13, "email")]


def test_notebook_sources_outputs_and_html_are_scanned_images_are_not():
    import json

    gate = deid.Gate(ROSTER)
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "said Jia\n", "Hui\n"]},
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "source": ["x = 1\n", "print(x)"],
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": ["ok\n", "+65 9123 4567\n"]},
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {
                            "image/png": "QEBAViKRAM+NAIR+" + "A" * 300 + "\n",
                            "text/plain": ["<Figure>"],
                            "text/html": [
                                "<style>@media x {}</style>\n",
                                "<table><td>Vikram</td><td>Nair</td>\n",
                                "</table>",
                            ],
                        },
                    },
                ],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(nb, indent=1, ensure_ascii=False)
    lines = text.split("\n")
    hits = [(h.line, h.kind) for h in gate.scan_text(text, "02_transcripts.ipynb")]
    expect = [
        (next(i for i, ln in enumerate(lines, 1) if needle in ln), kind)
        for needle, kind in [
            ("said Jia", "roster identifier"),
            ("+65 9123", "phone"),
            ("<td>Vikram", "roster identifier"),
        ]
    ]
    assert hits == expect
    assert gate.scan_text(text, "nb.txt")  # as plain text the same bytes are not parsed


def test_refi_qda_guids_are_ids_but_names_in_attributes_and_text_are_not():
    gate = deid.Gate(ROSTER)
    qde = (
        '<?xml version="1.0"?>\n<Project guid="88394875-23fd-5a45-a0f4-1346c1ffb318" name="x">\n'
        '<PlainTextSelection guid="dc00c4e8-46fb-5fc0-984d-553fbe314edb" startPosition="6027" endPosition="6145"/>\n'
        '<Code guid="01402318-9bb3-51df-9f8d-e0a0a92e6a4b" name="Vik&#114;am Nair"/>\n'
        "<Description>quoted: Lim Jia Hui</Description>\n</Project>\n"
    )
    assert [(h.line, h.kind) for h in gate.scan_text(qde, "w.qdpx!project.qde")] == [
        (4, "roster identifier"),
        (5, "roster identifier"),
    ]


def test_svg_text_is_scanned_path_geometry_is_not():
    gate = deid.Gate(ROSTER)
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg">\n<path d="M 6123 4567 L 9123 4567 z"/>\n'
        '<!-- Vikram Nair -->\n<text x="1" y="2">Jia Hui</text>\n</svg>\n'
    )
    assert [(h.line, h.kind) for h in gate.scan_text(svg, "fig.svg")] == [
        (3, "roster identifier"),
        (4, "roster identifier"),
    ]


def test_a_binary_file_is_said_to_be_binary(tmp_path):
    p = tmp_path / "A.csv"
    p.write_bytes(b"coder,source_id\n\x00\x01\x02@jiahui\x00")
    with pytest.raises(InputError) as e:
        deid.Gate(ROSTER).scan_paths([tmp_path], tmp_path)
    assert str(e.value).startswith("A.csv: binary file")


def test_load_gate_contract(tmp_path):
    gate = deid.load_gate(None, tmp_path / "absent.yml")
    assert not gate.has_roster and gate.scan_text("Lim Jia Hui") == []
    assert deid.load_gate(ROSTER_CSV).has_roster
    with pytest.raises(InputError) as e:
        deid.load_gate(tmp_path / "private" / "roster.csv")
    assert "roster.csv" in str(e.value) and "not found" in str(e.value)
    with pytest.raises(AttributeError):
        deid.load_gate(ROSTER_CSV).has_roster = False


@pytest.mark.parametrize(
    "rows,line,needle",
    [
        ("P01,Lim Jia Hui,jiahui.lim,\nP02, ,koh,\n", 3, "empty display_name"),
        ("P01,Lim Jia Hui,jiahui.lim,\nP02,Koh Wen,wen,\nP03,Tan Ah Kow,Jiahui.Lim,\n", 4, "duplicate handle 'J***'"),
        ("P01,Lim Jia Hui,jiahui.lim,\nP01,Koh Wen,wen,\n", 3, "duplicate pseudonym 'P01'"),
        ("P01,Lim Jia Hui,jiahui.lim,\n,Koh Wen,wen,\n", 3, "empty pseudonym"),
        ("P01,Lim Jia Hui,jiahui.lim\n", 2, "expected 4 fields"),
    ],
)
def test_roster_validation_names_file_and_row_never_the_person(tmp_path, rows, line, needle):
    p = tmp_path / "roster.csv"
    p.write_text("pseudonym,display_name,handle,aliases\n" + rows)
    with pytest.raises(InputError) as e:
        deid.load_roster(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}:{line}: ") and needle in msg, msg
    for secret in ("Lim Jia Hui", "Koh Wen", "Tan Ah Kow", "jiahui", "Jiahui"):
        assert secret not in msg


def test_deid_scan_without_a_readable_roster_fails(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("Lim Jia Hui wrote to kelly@example.com\n")
    r = compendium("deid", "scan", f, cwd=tmp_path)  # the default roster is not here
    one_line_exit_2(r, "data/raw/private/roster.csv", "--roster FILE", "--no-roster")
    r = compendium("deid", "scan", "--roster", tmp_path / "nope.csv", f, cwd=tmp_path)
    one_line_exit_2(r, "nope.csv", "roster not found")
    r = compendium("deid", "scan", "--no-roster", f, cwd=tmp_path)
    assert r.returncode == 1 and "patterns only" in r.stderr
    assert r.stdout.splitlines() == [f"{f}:1: email 'k***'"]
    r = compendium("deid", "scan", "--roster", ROSTER_CSV, f, cwd=tmp_path)
    assert r.returncode == 1 and [ln.split(": ", 1)[1] for ln in r.stdout.splitlines()] == [
        "roster identifier 'L***'",
        "email 'k***'",
    ]
    assert "patterns only" not in r.stderr


def test_deid_scan_from_the_project_folder_uses_the_default_roster():
    r = compendium("deid", "scan", Path("data") / "raw" / "transcripts")
    assert r.returncode == 0 and "no identifiers found" in r.stdout and "patterns only" not in r.stdout + r.stderr


@pytest.mark.parametrize(
    "text,kind",
    [
        ("call 9 1 2 3 4 5 6 7 tonight", "phone"),
        ("9-1-2-3-4-5-6-7", "phone"),
        ("S 1234567 D", "nric"),
        ("s-1234567-d", "nric"),
        ("A 0123456 X", "matric"),
        ("my id is E0123456", "matric"),
    ],
)
def test_spaced_numbers_and_student_ids(text, kind):
    assert [h.kind for h in deid.Gate().scan_text(text)] == [kind]


@pytest.mark.parametrize(
    "clean", ["1 2 3 4 5 6 7 8", "the 9 a.m. class", "score 9 of 10", "e123456", "2e1234567", "S1234567", "units 6 1 2"]
)
def test_spaced_digits_and_ids_that_are_not_identifiers(clean):
    assert deid.Gate().scan_text(clean) == [], clean
