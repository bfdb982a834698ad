"""The de-identification gate tried as an adversary would (issue 8).

Every kind of identifier (display name, alias, handle, e-mail, phone, NRIC/FIN, matriculation number, profile URL)
is planted with every trick (zero-width characters, Cyrillic look-alikes, accents, full-width forms, no-break
spaces and dashes as separators, line-break splits, hyphenation, case, obfuscated e-mails, phone separators,
``wa.me``, short URL domains, ``<script>``/``<style>`` wrappers, letter spacing) into every raw file a stage reads.

Two levels:

(a) every plant in every raw file: :meth:`Gate.scan_file` finds it on the right line, masked; a sample through
    ``compendium deid scan`` of every plant (one subprocess, exit 1);
(b) every plant in one raw file each (all files and kinds covered): :func:`compendium.runner.run` in-process stops
    with an :class:`InputError` naming ``raw/FILE:LINE``, the value masked, the derived folder unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from compendium import deid, manifest, runner
from compendium.errors import InputError

from conftest import DERIVED, RAW, ROOT, compendium

ROSTER = RAW / "private" / "roster.csv"
_MEMBERS = {r.pseudonym: r for r in deid.load_roster(ROSTER).itertuples()}


def _member(pseudonym: str):
    return _MEMBERS[pseudonym]


def _name(p):
    return _member(p).display_name


def _alias(p, k=0):
    return _member(p).aliases.split(";")[k]


def _handle(p):
    return _member(p).handle


# ---------------------------------------------------------------------------------------------------- tricks

_CYRILLIC = dict(zip("aceopxyijsABCEHKMOPTXIJS", "асеорхуіјѕАВСЕНКМОРТХІЈЅ"))
_ACUTE = dict(zip("aeiouAEIOU", "áéíóúÁÉÍÓÚ"))
_DIAERESIS = dict(zip("aeiouAEIOU", "äëïöüÄËÏÖÜ"))


def _inside(v: str, ch: str) -> str:
    """``ch`` in the middle of every word of ``v``."""
    return " ".join(w[: len(w) // 2] + ch + w[len(w) // 2 :] for w in v.split(" "))


def _cyrillic_one(v):
    i = next(i for i, c in enumerate(v) if c in _CYRILLIC)
    return v[:i] + _CYRILLIC[v[i]] + v[i + 1 :]


def _cyrillic_all(v):
    return "".join(_CYRILLIC.get(c, c) for c in v)


def _accents(v):
    return "".join(_ACUTE.get(c, c) if i % 2 else _DIAERESIS.get(c, c) for i, c in enumerate(v))


def _decomposed(v):  # "e" + COMBINING ACUTE ACCENT
    return "".join(c + "\u0301" if c in "aeiou" else c for c in v)


def _fullwidth(v):
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in v)


def _parts(sep):
    return lambda v: sep.join(v.split(" "))


def _hyphenated(v):  # a hyphenated line break inside the (first) word: "Vik-\nram"
    words = v.split(" ")
    w = words[0]
    words[0] = w[: len(w) // 2] + "-\n" + w[len(w) // 2 :]
    return " ".join(words)


def _spaced(sep):
    return lambda v: sep.join(c for c in v if c != " ")


TRICKS = {
    "plain": lambda v: v,
    "lower": str.lower,
    "upper": str.upper,
    "zwsp": lambda v: _inside(v, "\u200b"),
    "zwnj": lambda v: _inside(v, "\u200c"),
    "zwj": lambda v: _inside(v, "\u200d"),
    "word-joiner": lambda v: _inside(v, "\u2060"),
    "soft-hyphen": lambda v: _inside(v, "\u00ad"),
    "bom": lambda v: _inside(v, "\ufeff"),
    "cyrillic-one": _cyrillic_one,
    "cyrillic-all": _cyrillic_all,
    "accents": _accents,
    "decomposed-accents": _decomposed,
    "fullwidth": _fullwidth,
    "nbsp": _parts("\u00a0"),
    "narrow-nbsp": _parts("\u202f"),
    "ideographic-space": _parts("\u3000"),
    "tab": _parts("\t"),
    "hyphen": _parts("-"),
    "en-dash": _parts("\u2013"),
    "nb-hyphen": _parts("\u2011"),
    "line-break": _parts("\n"),
    "hyphenated-break": _parts("-\n"),
    "hyphenated-word": _hyphenated,
    "letter-spaced": _spaced(" "),
    "letter-dotted": _spaced("."),
    "underscore": _parts("_"),
    "dotted-parts": _parts("."),
    "joined": _parts(""),
    "joined-camel": lambda v: "".join(w[:1].upper() + w[1:] for w in v.split(" ")),
    "script": lambda v: f"<script>var who = '{v}';</script>",
    "style": lambda v: f"<style>/* {v} */ .x {{}}</style>",
}


@dataclass(frozen=True)
class Plant:
    kind: str  # what it is
    trick: str  # how it is disguised
    text: str  # what is planted
    core: str  # the identifier itself, which no message may show

    @property
    def id(self):
        return f"{self.kind}-{self.trick}"


def _plants() -> list[Plant]:
    out: list[Plant] = []
    names = ["P01", "P06", "M21", "M30", "P14", "M33", "P11"]
    name_tricks = [
        "plain",
        "lower",
        "upper",
        "zwsp",
        "zwnj",
        "zwj",
        "word-joiner",
        "soft-hyphen",
        "bom",
        "cyrillic-one",
        "cyrillic-all",
        "accents",
        "decomposed-accents",
        "fullwidth",
        "nbsp",
        "narrow-nbsp",
        "ideographic-space",
        "tab",
        "hyphen",
        "en-dash",
        "nb-hyphen",
        "line-break",
        "hyphenated-break",
        "hyphenated-word",
        "letter-spaced",
        "script",
        "style",
        "underscore",
        "dotted-parts",
        "joined",
        "joined-camel",
    ]
    for i, trick in enumerate(name_tricks):
        v = _name(names[i % len(names)])
        out.append(Plant("display name", trick, TRICKS[trick](v), v))
    aliases = [
        ("P01", 0),
        ("P01", 1),
        ("P06", 0),
        ("P14", 0),
        ("M21", 0),
        ("M30", 0),
        ("M21", 1),
        ("M33", 1),
        ("M30", 1),
        ("P09", 0),
        ("P07", 0),
    ]
    alias_tricks = [
        ("plain", 0),
        ("lower", 2),
        ("upper", 3),
        ("zwsp", 1),
        ("soft-hyphen", 5),
        ("cyrillic-one", 2),
        ("accents", 4),
        ("accents", 5),
        ("decomposed-accents", 4),
        ("fullwidth", 8),
        ("nbsp", 6),
        ("line-break", 0),
        ("hyphen", 7),
        ("hyphenated-break", 6),
        ("hyphenated-word", 3),
        ("letter-spaced", 1),
        ("letter-dotted", 2),
        ("letter-spaced", 9),
        ("script", 10),
        ("style", 4),
    ]
    seen = set()
    for trick, k in alias_tricks:
        v = _alias(*aliases[k])
        text = TRICKS[trick](v)
        name = trick if trick not in seen else f"{trick}-{k}"
        seen.add(trick)
        if trick == "accents" and k == 4:
            text = v[:-1] + "ë"  # "Zoë"
        if trick == "accents" and k == 5:
            text = v[:-2] + "él"  # "Isabél"
        out.append(Plant("alias", name, text, v))
    handles = ["P01", "P06", "P14", "M21", "M30"]
    handle_tricks = [
        ("plain", lambda h: h),
        ("at", lambda h: "@" + h),
        ("upper", lambda h: "@" + h.upper()),
        ("zwsp", lambda h: _inside(h, "\u200b")),
        ("cyrillic-one", _cyrillic_one),
        ("cyrillic-all", lambda h: "@" + _cyrillic_all(h)),
        ("fullwidth-at", lambda h: "\uff20" + h),
        ("fullwidth", lambda h: _fullwidth("@" + h)),
        ("soft-hyphen", lambda h: _inside(h, "\u00ad")),
        ("script", TRICKS["script"]),
        ("style", lambda h: TRICKS["style"]("@" + h)),
        ("underscore", lambda h: re.sub(r"[._-]", "_", h)),
        ("no-separator", lambda h: re.sub(r"[._-]", "", h)),
        ("hyphen", lambda h: "@" + re.sub(r"[._-]", "-", h)),
    ]
    for i, (trick, f) in enumerate(handle_tricks):
        v = _handle(handles[i % len(handles)])
        out.append(Plant("handle", trick, f(v), v))
    email = "kelly.w@example.com"
    for trick, text in [
        ("plain", email),
        ("upper", email.upper()),
        ("at-dot-words", "kelly.w at gmail dot com"),
        ("at-dot-words-upper", "kelly.w AT gmail DOT com"),
        ("brackets", "kelly.w [at] gmail [dot] com"),
        ("parentheses", "kelly.w(at)gmail.com"),
        ("parentheses-spaced", "kelly.w (at) gmail (dot) com"),
        ("braces", "kelly.w{at}u.nus.edu"),
        ("spaced", "kelly.w @ gmail . com"),
        ("fullwidth-at", "kelly.w\uff20gmail.com"),
        ("fullwidth", _fullwidth("kelly@gmail.com")),
        ("zwsp", "kelly.w@gmail\u200b.com"),
        ("cyrillic-one", "k\u0435lly.w@gmail.com"),
        ("at-gmail-com", "kelly.w at gmail.com"),
        ("script", TRICKS["script"](email)),
        ("style", TRICKS["style"](email)),
    ]:
        out.append(Plant("email", trick, text, email))
    for trick, text in [
        ("plus65-spaces", "+65 9123 4567"),
        ("plus65-nbsp", "+65\u00a09123\u00a04567"),
        ("plain", "91234567"),
        ("space", "9123 4567"),
        ("hyphen", "9123-4567"),
        ("dot", "9123.4567"),
        ("en-dash", "9123\u20134567"),
        ("narrow-nbsp", "6123\u202f4567"),
        ("65-hyphen", "65-91234567"),
        ("65-none", "6591234567"),
        ("parenthesised", "(+65) 9123-4567"),
        ("plus65-hyphens", "+65-8123-4567"),
        ("wa.me", "wa.me/6591234567"),
        ("wa.me-https", "https://wa.me/6581234567"),
        ("fullwidth", _fullwidth("9123 4567")),
        ("zwsp", "9123\u200b4567"),
        ("international", "+44 20 7946 0958"),
        ("digit-by-digit", "9 1 2 3 4 5 6 7"),
        ("digit-hyphens", "8-1-2-3-4-5-6-7"),
        ("script", TRICKS["script"]("91234567")),
        ("style", TRICKS["style"]("+65 9123 4567")),
    ]:
        out.append(Plant("phone", trick, text, re.sub(r"\D", "", text)[-8:]))
    for trick, text in [
        ("plain", "S1234567D"),
        ("lower", "t1234567j"),
        ("fin", "F2345678N"),
        ("fin-lower", "g3456789k"),
        ("m-fin", "M4567890L"),
        ("fullwidth", _fullwidth("S1234567D")),
        ("zwsp", "S123\u200b4567D"),
        ("cyrillic", "\u04051234567D"),
        ("script", TRICKS["script"]("S1234567D")),
        ("spaced", "S 1234567 D"),
        ("hyphens", "t-1234567-j"),
        ("style", TRICKS["style"]("T7654321A")),
    ]:
        out.append(Plant("nric", trick, text, re.sub(r"\D", "", _fullwidth_back(text))))
    for trick, text in [
        ("plain", "A0123456X"),
        ("lower", "a0123456x"),
        ("u", "U1234567B"),
        ("fullwidth", _fullwidth("A0123456X")),
        ("cyrillic", "\u04100123456\u0425"),
        ("soft-hyphen", "A0123\u00ad456X"),
        ("spaced", "A 0123456 X"),
        ("nusnet", "E0123456"),
        ("script", TRICKS["script"]("A0123456X")),
    ]:
        out.append(Plant("matric", trick, text, re.sub(r"\D", "", _fullwidth_back(text))))
    for trick, text in [
        ("facebook", "facebook.com/kelly.w"),
        ("facebook-https", "https://www.facebook.com/kelly.w"),
        ("facebook-mobile", "https://m.facebook.com/kelly.w"),
        ("fb.me", "fb.me/kelly.w"),
        ("fb.com", "fb.com/kelly.w"),
        ("instagram", "instagram.com/kelly.w"),
        ("instagr.am", "instagr.am/kelly.w"),
        ("t.me", "t.me/kellyw"),
        ("linkedin", "linkedin.com/in/kelly-w"),
        ("github", "github.com/kellyw"),
        ("tiktok", "tiktok.com/@kelly.w"),
        ("x.com", "x.com/kellyw"),
        ("twitter", "twitter.com/kellyw"),
        ("upper", "FACEBOOK.COM/KELLY.W"),
        ("cyrillic", "f\u0430\u0441\u0435book.com/kelly.w"),
        ("fullwidth", _fullwidth("instagram.com") + "/kelly.w"),
        ("zwsp", "instagram.com\u200b/kelly.w"),
        ("script", TRICKS["script"]("https://fb.me/kelly.w")),
        ("style", TRICKS["style"]("t.me/kellyw")),
    ]:
        out.append(Plant("url", trick, text, "kelly.w" if "kelly.w" in text else "kellyw"))
    return out


def _fullwidth_back(v):
    return "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c for c in v)


PLANTS = _plants()
KINDS = ("display name", "alias", "handle", "email", "phone", "nric", "matric", "url")
EXPECTED_KIND = {
    "display name": "roster identifier",
    "alias": "roster identifier",
    "handle": "roster identifier",
    "email": "email",
    "phone": "phone",
    "nric": "nric",
    "matric": "matric",
    "url": "url",
}


# --------------------------------------------------------------------------------------------------- targets


def _line_plant(n: int, skip_prefix: str = r"", indent_breaks: bool = False):
    """Plant into line ``n`` (0-based) of a text file, at the start (after ``skip_prefix``), middle or end."""

    def plant(text: str, value: str, where: str) -> tuple[str, int]:
        lines = text.split("\n")
        line = lines[n]
        head = re.match(skip_prefix, line).end() if skip_prefix else 0
        if indent_breaks:  # a YAML block scalar: continuation lines keep the indentation
            value = value.replace("\n", "\n" + " " * head)
        if where == "start":
            lines[n] = line[:head] + value + " " + line[head:]
        elif where == "end":
            lines[n] = line + " " + value
        else:
            cut = line.index(" ", (head + len(line)) // 2)
            lines[n] = line[:cut] + " " + value + line[cut:]
        return "\n".join(lines), n + 1

    return plant


def _csv_plant(column: str, row: int):
    """Plant into a cell of a CSV file (written back with proper quoting); the line is the row's first line."""

    def plant(text: str, value: str, where: str) -> tuple[str, int]:
        rows = list(csv.reader(io.StringIO(text, newline="")))
        j = rows[0].index(column)
        cell = rows[row][j]
        cut = cell.find(" ", len(cell) // 2)
        cut = cut if cut > 0 else len(cell)
        rows[row][j] = {"start": f"{value} {cell}", "end": f"{cell} {value}"}.get(
            where, f"{cell[:cut]} {value}{cell[cut:]}"
        )
        before = io.StringIO()
        csv.writer(before, lineterminator="\n").writerows(rows[:row])
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        return out.getvalue(), before.getvalue().count("\n") + 1

    return plant


def _yaml_valid(text: str) -> None:
    yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


#: every raw file a stage reads: (path under raw, how to plant, a stage that reads it, a structure check)
TARGETS = {
    "transcripts/P04.txt": (_line_plant(7, r"P04: "), ["transcripts"], None),
    "fieldnotes/FN-2023-03-20.md": (_line_plant(6), ["transcripts"], None),
    "coding/A.csv": (_csv_plant("memo", 5), ["coding"], None),
    "codebook.yml": (_line_plant(11, r" +", indent_breaks=True), ["coding"], _yaml_valid),
    "study.yml": (_line_plant(7, r" +", indent_breaks=True), ["report"], _yaml_valid),
    "participants.csv": (_csv_plant("interview_mode", 4), ["transcripts"], None),
    "interview_guide.md": (_line_plant(6), ["report"], None),
}
WHERE = ("start", "middle", "end")
_CLEAN = {rel: (RAW / rel).read_text(encoding="utf-8") for rel in TARGETS}


def _planted(rel: str, plant: Plant, where: str) -> tuple[str, int]:
    put, _, check = TARGETS[rel]
    text, line = put(_CLEAN[rel], plant.text, where)
    if check:
        check(text)
    return text, line


@pytest.fixture(scope="module")
def gate():
    return deid.load_gate(ROSTER)


def test_the_plants_cover_every_kind_and_trick():
    assert len(PLANTS) >= 100
    assert {p.kind for p in PLANTS} == set(KINDS)
    assert len({p.id for p in PLANTS}) == len(PLANTS)
    used = {p.trick for p in PLANTS}
    for trick in (
        "zwsp",
        "cyrillic-one",
        "accents",
        "fullwidth",
        "nbsp",
        "en-dash",
        "line-break",
        "hyphenated-break",
        "lower",
        "brackets",
        "at-dot-words",
        "dot",
        "wa.me",
        "instagr.am",
        "fb.me",
        "t.me",
        "script",
        "style",
        "letter-spaced",
    ):
        assert trick in used, trick


def test_the_clean_targets_have_no_hit(gate):
    for rel in TARGETS:
        assert gate.scan_file(RAW / rel, rel) == [], rel


def _check_hits(hits, plant: Plant, rel: str, line: int) -> None:
    shown = [h.format() for h in hits]
    assert hits, f"{plant.id} {plant.text!r} not found in {rel}"
    assert {h.line for h in hits} == {line}, (plant.id, rel, line, shown)
    assert EXPECTED_KIND[plant.kind] in {h.kind for h in hits}, (plant.id, shown)
    for s in shown:
        assert re.fullmatch(rf"{re.escape(rel)}:{line}: [a-z ]+ '.\*\*\*'", s), s
        assert plant.core not in s and plant.text not in s, s


@pytest.mark.parametrize("plant", PLANTS, ids=[p.id for p in PLANTS])
def test_every_plant_is_found_in_every_raw_file(gate, plant, tmp_path):
    i = PLANTS.index(plant)
    for k, rel in enumerate(TARGETS):
        text, line = _planted(rel, plant, WHERE[(i + k) % 3])
        path = tmp_path / rel.replace("/", "__")
        path.write_text(text, encoding="utf-8")
        _check_hits(gate.scan_file(path, rel), plant, rel, line)
        # and the same text, scanned as text (no file), gives the same hits
        assert gate.scan_text(text, rel) == gate.scan_file(path, rel)


# Every plant, through the command a user runs.


def test_deid_scan_catches_every_plant(tmp_path):
    """Every plant, each in one of the raw files (rotating), scanned by one ``compendium deid scan`` call."""
    files, expect = [], {}
    for k, plant in enumerate(PLANTS):
        rel = list(TARGETS)[k % len(TARGETS)]
        text, line = _planted(rel, plant, WHERE[k % 3])
        path = tmp_path / f"{k:03d}" / rel
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        files.append(path)
        expect[path] = (line, plant)
    r = compendium("deid", "scan", "--roster", ROSTER, *files, cwd=tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    for path, (line, plant) in expect.items():
        assert f"{path}:{line}: " in r.stdout, (plant.id, r.stdout)
        assert plant.core not in r.stdout + r.stderr and plant.text not in r.stdout + r.stderr
    assert f"{len(r.stdout.splitlines())} identifier(s) found" in r.stderr


# ---------------------------------------------------------------------------------- (b) the pipeline, in-process


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A copy of the raw folder (the roster, not the screenshots: no selected stage reads them) and of the
    derived folder, with the digest of the latter."""
    tmp = tmp_path_factory.mktemp("adversary")
    shutil.copytree(RAW, tmp / "raw-clean", ignore=shutil.ignore_patterns("screenshots"))
    manifest.write(tmp / "raw-clean")
    shutil.copytree(DERIVED, tmp / "derived")
    return tmp, _digest(tmp / "derived")


def _assignments():
    """Each plant into one raw file, rotating within each kind, so that every kind reaches every file."""
    seen: dict[str, int] = {}
    out = []
    for plant in PLANTS:
        k = seen.get(plant.kind, 0)
        seen[plant.kind] = k + 1
        rel = list(TARGETS)[(k + KINDS.index(plant.kind)) % len(TARGETS)]
        out.append((plant, rel, WHERE[k % 3]))
    return out


ASSIGNED = _assignments()


def test_every_kind_reaches_every_raw_file_in_the_pipeline():
    assert {(p.kind, rel) for p, rel, _ in ASSIGNED} == {(k, rel) for k in KINDS for rel in TARGETS}


@pytest.mark.parametrize("plant,rel,where", ASSIGNED, ids=[f"{p.id}@{rel.split('/')[-1]}" for p, rel, _ in ASSIGNED])
def test_planted_identifier_stops_the_run(corpus, plant, rel, where, tmp_path):
    tmp, before = corpus
    raw = tmp_path / "raw"
    shutil.copytree(tmp / "raw-clean", raw)
    text, line = _planted(rel, plant, where)
    (raw / rel).write_text(text, encoding="utf-8")
    manifest.write(raw)
    _, stages, _ = TARGETS[rel]
    ctx = runner.Context(
        project=ROOT,
        raw=raw,
        derived=tmp / "derived",
        reports=tmp_path / "reports",
        cache=tmp / "cache",
        parameters={},
        quiet=True,
    )
    with pytest.raises(InputError) as e:
        runner.run(ctx, stages)
    msg = str(e.value)
    assert msg.startswith(f"raw/{rel}:{line}: "), (plant.id, msg)
    assert "de-identification gate" in msg and re.search(r"'.\*\*\*'", msg), msg
    assert plant.core not in msg and plant.text not in msg, msg
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").glob("*.ipynb"))
    assert _digest(tmp / "derived") == before
