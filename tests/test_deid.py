import pandas as pd
import pytest

from compendium import deid

from conftest import RAW

ROSTER = pd.DataFrame([{"pseudonym": "P01", "display_name": "Lim Jia Hui", "handle": "jiahui.lim",
                        "aliases": "Jia Hui;JH"},
                       {"pseudonym": "M15", "display_name": "Vikram Nair", "handle": "vik_n", "aliases": "Vik"}])


@pytest.mark.parametrize("planted,kind", [
    ("Lim Jia Hui", "roster identifier"), ("jia hui", "roster identifier"), ("@jiahui.lim", "roster identifier"),
    ("Vik", "roster identifier"), ("someone@example.com", "email"), ("+65 9123 4567", "phone"),
    ("91234567", "phone"), ("+44 20 7946 0958", "phone"), ("S1234567D", "nric"), ("A0123456X", "matric"),
    ("facebook.com/some.person", "url"), ("@stranger_99", "handle"),
])
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_planted_identifiers_are_found_and_masked(planted, kind, where):
    line = {"start": f"{planted} said hello", "middle": f"so then {planted} said", "end": f"thanks {planted}"}[where]
    hits = deid.Gate(ROSTER).scan_text("first line\n" + line + "\n", "x.txt")
    assert hits, (planted, where)
    assert hits[0].line == 2 and hits[0].kind == kind
    assert planted not in hits[0].format() and hits[0].masked.endswith("***")


@pytest.mark.parametrize("clean", [
    "[Friend 1] told P01 and @P07 about it", "Vikramaditya is not a member", "a JHS style answer",
    "score 12/20, 2023-03-04, 21:14", "the loop of Henle",
])
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
    p.write_text("allow:\n  - value: Vik\n    reason: a ward abbreviation in these notes, reviewed\n"
                 "  - value: someone@example.com\n    kind: email\n    reason: documentation example address\n")
    gate = deid.Gate(ROSTER, deid.load_allow(p))
    assert gate.scan_text("Vik and someone@example.com") == []
    assert [h.kind for h in gate.scan_text("Vikram Nair")] == ["roster identifier"]
    p.write_text("allow:\n  - value: Vik\n    reason: ok\n  - value: JH\n")
    with pytest.raises(Exception) as e:
        deid.load_allow(p)
    assert "deid_allow.yml:4" in str(e.value) and "reason" in str(e.value)
