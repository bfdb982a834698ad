"""Identifier forms a second adversary planted (session 8) that the gate used to let through, each written the
way a careless transcriber, a chat export or a web page would: Markdown emphasis, digits and underscores beside a
name, camelCase and hashtags, middle dots, uneven letter spacing, HTML entities and percent-encoding, small
capitals, leetspeak, a right-to-left override, other orders and initials of a name, titles, plurals; e-mail,
phone, NRIC/FIN, matriculation and profile-URL forms; escapes in YAML. Each is planted in a sentence and must be
found, masked, on its line; the ordinary text beside each kind must stay clean, and a reviewed phrase in the
allow-list ("Hari Raya") allows the alias inside it and nowhere else.

The roster is the committed one; names are built from it, never written out here."""

from __future__ import annotations

import pytest

from compendium import deid

from conftest import RAW

ROSTER = RAW / "private" / "roster.csv"
_R = {r.pseudonym: r for r in deid.load_roster(ROSTER).itertuples()}


def _parts(p):
    return _R[p].display_name.split()


def _alias(p, k=0):
    return _R[p].aliases.split(";")[k]


A = next(a for r in _R.values() for a in r.aliases.split(";") if " " not in a and len(a) >= 5)  # a one-word alias
FIRST, LAST = _parts("P01")[0], _parts("P01")[-1]  # the first and last parts of a three-part display name


def _spaced(word, seps):
    return "".join(c + (seps[i % len(seps)] if i < len(word) - 1 else "") for i, c in enumerate(word))


def _cap(w):
    return w[:1].upper() + w[1:].lower()


NAME_FORMS = {
    "markdown italic": f"_{A}_",
    "markdown bold": f"__{A}__",
    "bold inside the word": f"{A[:2]}**{A[2:]}**",
    "digits after": f"{A}2023",
    "underscores around": f"xX_{A}_Xx",
    "camelCase with digits": f"{_cap(FIRST)}{_cap(LAST)}92",
    "hashtag": f"#team{_cap(A)}",
    "middle dots": "·".join(_parts("P01")),
    "line break inside": f"{A[:3]}\n{A[3:]}",
    "uneven letter spacing": _spaced(A, ["-", " ", ".", " "]),
    "double spaces": _spaced(A, [" ", "  "]),
    "HTML entity": f"{A[0]}&#{ord(A[1])};{A[2:]}",
    "no-break space entity": "&nbsp;".join(_parts("P01")[1:]) if len(_parts("P01")) > 2 else f"{FIRST}&nbsp;{LAST}",
    "percent-encoded": "%20".join(_parts("P01")),
    "small capitals": A[0].upper()
    + "".join(
        {
            "a": "ᴀ",
            "r": "ʀ",
            "c": "ᴄ",
            "u": "ᴜ",
            "s": "ꜱ",
            "m": "ᴍ",
            "n": "ɴ",
            "i": "ɪ",
            "e": "ᴇ",
            "h": "ʜ",
            "k": "ᴋ",
        }.get(c, c)
        for c in A[1:].lower()
    ),
    "leet": A.replace("e", "3").replace("i", "1").replace("a", "4") if any(c in A for c in "eia") else A + "5",
    "trade mark": f"{A}™",
    "emoji inside": f"{A[:3]}🙂{A[3:]}",
    "right-to-left override": "\u202e" + A[::-1] + "\u202c",
    "surname first": f"{LAST} {FIRST}",
    "initial and surname": f"{FIRST[0]}. {LAST}",
    "title and surname": f"Mr {LAST}",
    "plural without apostrophe": f"the two {A}s",
}

PATTERN_FORMS = {
    "e-mail [at] [.]": "kelly.w [at] gmail [.] com",
    "e-mail [@]": "kelly.w[@]gmail.com",
    "e-mail -at- -dot-": "kelly.w -at- gmail -dot- com",
    "e-mail ideographic stop": "kelly.w@gmail。com",
    "e-mail percent-encoded": "mailto:kelly.w%40gmail.com",
    "e-mail bare at, long domain": "kelly.tan at sph.nus.edu.sg",
    "e-mail double at": "kelly.w@@gmail.com",
    "e-mail host without ending": "kelly.w AT gmail",
    "phone 4-2-2": "9123 45 67",
    "phone pairs": "91 23 45 67",
    "phone 1-3-4": "9 123 4567",
    "phone spaced dash": "9123 - 4567",
    "phone slash": "9123/4567",
    "phone brackets": "+65 (9123) 4567",
    "phone line break": "9123\n4567",
    "phone spaced digits": "9 1 2 3  4 5 6 7",
    "phone l for 1": "+65 9l23 4567",
    "phone India": "+91 98765 43210",
    "phone Malaysia": "012-345 6789",
    "phone Arabic-Indic digits": "٩١٢٣٤٥٦٧",
    "phone spelled": "nine one two three four five six seven",
    "NRIC grouped": "S123 4567D",
    "NRIC dots": "S.1234567.D",
    "NRIC line break": "S1234567\nD",
    "matric O for 0": "AO123456X",
    "matric grouped": "A0123 456X",
    "NUSNET dash": "E-0123456",
    "URL subdomain": "sg.linkedin.com/in/kelly-w",
    "URL mobile site": "mbasic.facebook.com/kelly.w",
    "URL YouTube channel": "youtube.com/c/kellyw",
    "URL defanged": "facebook[.]com/kelly.w",
    "URL dot word": "instagram dot com/kelly.w",
    "URL reddit user": "reddit.com/u/kellyw",
    "URL linktree": "linktr.ee/kellyw",
    "URL Bluesky": "bsky.app/profile/kellyw.bsky.social",
    "handle leading underscore": "@_kelly.w_",
    "handle double at": "@@kelly_w",
    "handle after a site's name": "IG @ kelly_w",
}


@pytest.fixture(scope="module")
def gate():
    return deid.load_gate(ROSTER)


@pytest.mark.parametrize("form", sorted(NAME_FORMS))
def test_name_forms_are_found_on_their_line(gate, form):
    text = f"field note\nI think {NAME_FORMS[form]} posted it first.\nend\n"
    hits = gate.scan_text(text, "note.md")
    assert [(h.line, h.kind) for h in hits][:1] == [(2, "roster identifier")], (form, NAME_FORMS[form])
    assert all("*" in h.masked for h in hits)


@pytest.mark.parametrize("form", sorted(PATTERN_FORMS))
def test_pattern_forms_are_found(gate, form):
    hits = gate.scan_text(f"x\nreach me on {PATTERN_FORMS[form]} tonight\n", "note.txt")
    assert hits and hits[0].line == 2 and hits[0].kind != "roster identifier", (form, hits)


@pytest.mark.parametrize(
    "clean",
    [
        "36 38 40 42 degrees",
        "weeks 8 9 10 11 12",
        "meet @2pm",
        "see you @ lunch",
        "we met at nus.edu.sg today",
        "look at gmail later",
        "a JHS style answer",
        "the marks were fair",
        "Screenshot_20230312-211405.png",
        "see reddit.com/r/medicine",
        "pH 7.52, pCO2 48, HCO3 38",
        "Na 135, K 4.5, Cl 98",
        "e.g. i.e. etc.",
        "i.e. a b c",
    ],
)
def test_ordinary_text_stays_clean(gate, clean):
    assert gate.scan_text(f"{clean}\n", "x.txt") == []


def test_yaml_escapes_and_front_matter_are_read_as_their_reader_reads_them(gate):
    esc = "".join(f"\\x{ord(c):02X}" if k == 0 else c for k, c in enumerate(A))
    yml = f'a: plain\nb: "note by {esc}"\nc: "\\u{ord(A[0]):04x}{A[1:]}"\n'
    assert [h.line for h in gate.scan_text(yml, "study.yml")] == [2, 3]
    front = f'---\ninterviewer: "{esc}"\n---\nI: hello\n'
    assert [h.line for h in gate.scan_text(front, "P01.txt")] == [2]
    broken = f'a: "no incentives {A[:3]}\\\n    {A[3:]} and more"\n'
    assert gate.scan_text(broken, "study.yml"), "an escaped line break inside a name"


def test_an_allowed_phrase_allows_the_alias_inside_it_only():
    roster = deid.load_roster(ROSTER)
    phrase = f"{A} Raya"
    allowed = deid.Gate(roster, [deid.Allowed(phrase, "a public holiday, not the member")])
    assert allowed.scan_text(f"over {phrase.upper()} we met\n") == []
    assert allowed.scan_text(f"{A} said so\n"), "the alias outside the phrase is still a hit"
    assert deid.Gate(roster).scan_text(f"over {phrase} we met\n"), "without the entry the phrase is a hit"


def test_roster_variants_cover_orders_initials_titles_and_plurals():
    forms = deid.name_variants(["Kwek Pei Shan"])
    assert {"Shan Pei", "Pei Kwek", "K Shan", "mr Kwek", "mdm Shan"} <= set(forms)
    assert "Marks" not in deid.plural_forms(["Mark"]) and "Bens" in deid.plural_forms(["Ben"])
    assert deid.plural_forms(["JH"]) == []
