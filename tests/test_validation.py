"""Every raw input validated at the edge (issue 8, item 4): one line naming the file (and row or line), exit 2.

Three levels, cheapest first:

- the loaders themselves (``participants.load_participants``, ``study.load_study``, ``coding.read_file``,
  ``ocr.load_image`` ...): ``pytest.raises(InputError)`` with the message, the file and the line;
- :func:`compendium.validate.validate_raw`, which runs those loaders for the stages asked for, before any stage;
- ``compendium run --only STAGE`` on a broken copy of the committed corpus, as a user meets it: one line on
  stderr, exit 2, no traceback, derived unchanged. The participants.csv cases are skipped until the runner calls
  ``validate_raw`` or notebook 02 reads the table with ``corpus.load_participants`` (it reads it with the plain
  table reader today).
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import struct
import time
import zlib
from pathlib import Path

import pandas as pd
import pytest

from compendium import coding, manifest, ocr, participants, runner, screenshots, study, transcripts, validate
from compendium.errors import InputError

from conftest import DERIVED, RAW, compendium, one_line_exit_2

ROOT = RAW.parents[1]

HEADER = "pseudonym,year_of_study,witi_role,gender,joined_witi,interview_mode\n"


# --------------------------------------------------------------------------- helpers


def _digest(root: Path) -> dict:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A copy of the committed raw folder (without the screenshots, which few tests need) and of derived."""
    tmp = tmp_path_factory.mktemp("validation")
    shutil.copytree(RAW, tmp / "raw", ignore=shutil.ignore_patterns("*.png"))
    shutil.copytree(DERIVED, tmp / "derived")
    return tmp


@pytest.fixture
def raw(clean, tmp_path):
    """A fresh raw copy to break (screenshots left out)."""
    shutil.copytree(clean / "raw", tmp_path / "raw")
    return tmp_path / "raw"


@pytest.fixture
def run(clean, tmp_path):
    """run(raw, stage) -> CompletedProcess, after rewriting raw's manifest; asserts derived was left alone."""
    derived = tmp_path / "derived"
    shutil.copytree(clean / "derived", derived)
    before = _digest(derived)

    def go(raw_dir: Path, *stages):
        manifest.write(raw_dir)
        raw_before = _digest(raw_dir)
        r = compendium(
            "run",
            "--raw",
            raw_dir,
            "--derived",
            derived,
            "--reports",
            tmp_path / "reports",
            "--cache",
            tmp_path / "cache",
            "--only",
            *stages,
        )
        assert _digest(raw_dir) == raw_before
        return r

    yield go
    assert _digest(derived) == before
    assert not list(tmp_path.rglob(".staging-*"))


def _where(path: Path, raw: Path, line: int | None) -> str:
    """``raw/FILE:LINE: `` as an error line names it (the raw folder's own name, so both the user's path and the
    gate's ``raw/...`` label match)."""
    name = f"{raw.name}/{path.relative_to(raw).as_posix()}"
    return f"{name}:{line}: " if line else f"{name}: "


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _late_line(lines: list[str]) -> int:
    """Index of the first long line past the first 8 KiB (where a NUL byte is no longer sniffed as binary)."""
    offset = 0
    for i, line in enumerate(lines):
        if offset > 8192 and len(line) > 20:
            return i
        offset += len(line.encode())
    raise AssertionError("file shorter than 8 KiB")


def _participants_raising(path: Path, text: str) -> InputError:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        participants.load_participants(path)
    assert err.value.path == str(path)
    return err.value


@functools.lru_cache(maxsize=8)
def _png(width: int, height: int, bit_depth: int = 1, colour_type: int = 0) -> bytes:
    """A valid PNG of ``width x height`` pixels, all zero: a few kilobytes that decode to width*height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes((width * bit_depth + 7) // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    if colour_type == 3:
        out += chunk(b"PLTE", bytes(3 * 256))
    return out + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# --------------------------------------------------------------------------- participants.csv: the loader


def test_committed_participants_load_as_the_plain_reader_did():
    from compendium import tables

    df = participants.load_participants(RAW / "participants.csv")
    assert df.equals(tables.read_csv(RAW / "participants.csv"))
    assert list(df["pseudonym"]) == [f"P{i:02d}" for i in range(1, 15)]


def test_participants_without_pseudonym_column(tmp_path):
    text = (RAW / "participants.csv").read_text().replace("pseudonym,", "id,", 1)
    e = _participants_raising(tmp_path / "participants.csv", text)
    assert e.line == 1 and "missing column(s) pseudonym" in e.message


def test_participants_without_year_of_study(tmp_path):
    df = pd.read_csv(RAW / "participants.csv", dtype=str).drop(columns="year_of_study")
    e = _participants_raising(tmp_path / "participants.csv", df.to_csv(index=False))
    assert e.line == 1 and "missing column(s) year_of_study" in e.message


def test_participants_duplicate(tmp_path):
    lines = _lines(RAW / "participants.csv")
    lines[6] = "P02" + lines[6][3:]
    e = _participants_raising(tmp_path / "participants.csv", "".join(lines))
    assert (e.line, e.message) == (7, "duplicate pseudonym 'P02' (first on line 3)")


@pytest.mark.parametrize(
    "text,line,needle",
    [
        ("", 1, "empty file"),
        ("\n\n", 1, "empty file"),
        (HEADER, 1, "no participants (header only)"),
        (HEADER + "P01,2,asker,female,2021,Zoom,extra\n", 2, "7 fields, the header has 6"),
        (HEADER + "P01,,asker,female,2021,Zoom\n", 2, "empty year_of_study"),
        (HEADER + "P01,2,,female,2021,Zoom\n", 2, "empty witi_role"),
        (HEADER + "P01,2,asker\n,3,asker\n", 3, "empty pseudonym"),
        (
            HEADER + "P01,2,asker,female,2021,Zoom\n\nP02,9,asker,male,2020,Zoom\n",
            4,
            "year_of_study '9' of P02 is not a whole number from 1 to 6",
        ),
        (HEADER + "P01,Y2,asker,female,2021,Zoom\n", 2, "year_of_study 'Y***' of P01"),
        (HEADER + "P01,2.5,asker,female,2021,Zoom\n", 2, "year_of_study '2***' of P01"),
        (HEADER + "P01,2,asker;teacher,female,2021,Zoom\n", 2, "role 't***' is not one of asker, answerer"),
        (HEADER + "P01,2,asker;,female,2021,Zoom\n", 2, "an empty role"),
        (HEADER + "P01,2,asker,female,last year,Zoom\n", 2, "joined_witi 'l***' of P01 is not a year"),
        (HEADER + "Kelly Tan,2,asker,female,2021,Zoom\n", 2, "pseudonym 'K***' is not of the form P01"),
        ("pseudonym,pseudonym,year_of_study,witi_role\n", 1, "column 'pseudonym' appears twice"),
        (HEADER + 'P01,2,"asker,female,2021,Zoom\n', 2, "not a valid CSV file"),
    ],
)
def test_participants_bad_rows(tmp_path, text, line, needle):
    e = _participants_raising(tmp_path / "participants.csv", text)
    assert needle in e.message, e.message
    assert e.line == line
    assert "Kelly" not in e.message and "teacher" not in e.message and "last year" not in e.message


def test_participants_binary_and_control_characters(tmp_path):
    p = tmp_path / "participants.csv"
    p.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(200))  # a spreadsheet (zip) renamed .csv
    with pytest.raises(InputError, match="binary file, not UTF-8 text"):
        participants.load_participants(p)
    p.write_bytes((HEADER + "P01,2,asker,fe\x0bmale,2021,Zoom\n").encode())
    with pytest.raises(InputError, match="control character U\\+000B at column 15") as err:
        participants.load_participants(p)
    assert err.value.line == 2


def test_participants_optional_columns_and_spaces(tmp_path):
    p = tmp_path / "participants.csv"
    p.write_text(
        "\ufeffpseudonym, year_of_study ,witi_role,notes\r\nP01, 2 ,lurker; asker,\r\n\r\nP120,6,admin,x\r\n",
        encoding="utf-8",
    )
    df = participants.load_participants(p)
    assert list(df.columns) == ["pseudonym", "year_of_study", "witi_role", "notes"]
    assert df["year_of_study"].tolist() == [2, 6] and df.loc[0, "witi_role"] == "lurker; asker"


def test_every_transcript_participant_is_in_participants_csv(raw):
    lines = _lines(raw / "participants.csv")
    (raw / "participants.csv").write_text("".join(lines[:-1]), encoding="utf-8")  # P14 is the last row
    table = participants.load_participants(raw / "participants.csv")
    with pytest.raises(InputError) as err:
        participants.check_transcripts(table, transcripts.load_sources(raw), raw)
    assert str(err.value) == f"{raw / 'transcripts' / 'P14.txt'}:2: participant P14 is not in participants.csv"
    # without front matter the file name is the participant
    p = raw / "transcripts" / "P14.txt"
    p.write_text(p.read_text().split("---\n", 2)[2])
    with pytest.raises(InputError, match="participant P14 is not in participants.csv") as err:
        participants.load(raw, transcripts.load_sources(raw))
    assert err.value.line is None


def test_mask_shows_pseudonyms_and_small_numbers_only():
    assert participants.mask("P07") == "'P07'"
    assert participants.mask("2019") == "'2019'"
    assert participants.mask("91234567") == "'9***'"
    assert participants.mask("Zoë Tan", quote=False) == "Z***"
    assert participants.mask("  ") == "''"


# --------------------------------------------------------------------------- study.yml: the loader


def test_committed_study_loads_unchanged():
    import yaml

    assert study.load_study(RAW / "study.yml") == yaml.safe_load((RAW / "study.yml").read_text())


def _study_raising(tmp_path: Path, text: str) -> InputError:
    p = tmp_path / "study.yml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        study.load_study(p)
    assert err.value.path == str(p)
    return err.value


def test_study_not_yaml(tmp_path):
    e = _study_raising(tmp_path, "title: WITI\ndesign: [unclosed\nsetting: x\n")
    assert e.line == 3 and e.message.startswith("not valid YAML (")


@pytest.mark.parametrize(
    "edit,line,message",
    [
        (("title: >-", "heading: >-"), None, "missing required key 'title'"),
        (
            ('  - role: "Researcher 2 (second coder)"', '  - name: "Researcher 2 (second coder)"'),
            55,
            "missing required key 'team[1].role'",
        ),
        (("team:\n  - role:", "team: Researcher 1\nold_team:\n  - role:"), 48, "'team' must be a list, not text"),
        (("design:\n", "design: abductive\ndesign_notes:\n"), 27, "'design' must be a mapping (key: value), not text"),
        (
            ('repeat_interviews: "None"', "repeat_interviews: no"),
            104,
            "'data_collection.interviews.repeat_interviews' must be text, not true/false",
        ),
        (
            ("  sample_size: 14", "  sample_size: fourteen"),
            87,
            "'sampling.sample_size' must be a whole number, not text",
        ),
        (
            ('observation_start: "2023-01-09"', "observation_start: January"),
            44,
            "'dates.observation_start' must be a date (YYYY-MM-DD or YYYY-MM)",
        ),
        (("synthetic_notice: >-", "notice: >-"), None, "missing required key 'synthetic_notice' (synthetic is true)"),
        (
            ("  research_questions:\n", "  research_questions: []\n  old_questions:\n"),
            32,
            "'design.research_questions' must list at least 1",
        ),
    ],
)
def test_study_schema_errors_name_the_key_and_its_line(tmp_path, edit, line, message):
    text = (RAW / "study.yml").read_text()
    assert edit[0] in text
    e = _study_raising(tmp_path, text.replace(edit[0], edit[1], 1))
    assert (e.line, e.message) == (line, message)


def test_study_other_shapes(tmp_path):
    assert "empty file" in _study_raising(tmp_path, "# nothing\n").message
    e = _study_raising(tmp_path, "- title\n- design\n")
    assert (e.line, e.message) == (1, "expected a mapping of study facts (key: value), found a list")
    text = (RAW / "study.yml").read_text()
    e = _study_raising(tmp_path, text + "title: again\n")
    assert e.message == "key 'title' appears twice" and e.line == text.count("\n") + 1
    assert "binary file" in _study_raising(tmp_path, "title: x\x00\n").message
    # an unquoted date is a date: kept, as text
    d = tmp_path / "ok.yml"
    d.write_text(text.replace('observation_start: "2023-01-09"', "observation_start: 2023-01-09"))
    assert study.load_study(d)["dates"]["observation_start"] == "2023-01-09"


def test_report_reads_study_and_guide_through_the_validating_readers(raw):
    from compendium import report

    assert report.load_study(raw)["synthetic"] is True
    assert report.guide_sections(raw) == sum(
        1 for ln in (RAW / "interview_guide.md").read_text().splitlines() if ln.startswith("## ")
    )
    (raw / "interview_guide.md").write_bytes(b"# Guide\n## One\nask \x1b[1m this\n")
    with pytest.raises(InputError, match="control character U\\+001B at column 5") as err:
        report.guide_sections(raw)
    assert err.value.line == 3


# --------------------------------------------------------------------------- coding files: the loaders


def test_coding_header_only(raw):
    (raw / "coding" / "B.csv").write_text("coder,source_id,start,end,code_id,memo\n")
    with pytest.raises(InputError) as err:
        coding.read_file(raw / "coding" / "B.csv")
    assert str(err.value) == f"{raw / 'coding' / 'B.csv'}:1: no code applications (header only)"


def test_fewer_than_two_coders_names_the_coding_folder(raw):
    b = raw / "coding" / "B.csv"
    b.write_text(b.read_text().replace("\nB,", "\nA,"))
    with pytest.raises(InputError) as err:
        validate.validate_raw(raw, ["coding"])
    assert err.value.path == str(raw / "coding")
    assert "reliability needs two coders; the coding files name 1 (A)" in err.value.message
    with pytest.raises(InputError):
        coding.check_coders([], raw / "coding")


def test_binary_coding_file_is_said_to_be_binary(raw):
    shutil.copyfile(RAW / "private" / "screenshots" / "WITI-001.png", raw / "coding" / "B.csv")
    with pytest.raises(InputError, match="binary file, not UTF-8 text") as err:
        coding.read_file(raw / "coding" / "B.csv")
    assert err.value.path == str(raw / "coding" / "B.csv")


def test_report_coder_counts_match_the_notebook_formula():
    from compendium import corpus, tables

    expected = {}
    for f in corpus.coding_files(RAW):
        c = tables.read_csv(f, dtype=str)
        for coder, g in c.groupby("coder"):
            expected[coder] = g["source_id"].str.split("#").str[0].nunique()
    assert corpus.coder_sources(RAW) == expected


# --------------------------------------------------------------------------- control characters and NUL bytes


def test_nul_byte_in_a_transcript_is_refused_by_line_and_column(raw):
    p = raw / "transcripts" / "P04.txt"
    lines = _lines(p)
    n = _late_line(lines)
    lines[n] = lines[n][:10] + "\x00" + lines[n][10:]
    p.write_text("".join(lines))
    with pytest.raises(InputError) as err:
        transcripts.load_sources(raw)
    assert (err.value.path, err.value.line) == (str(p), n + 1)
    assert err.value.message.startswith("control character U+0000 at column 11")


def test_nul_byte_near_the_start_of_a_transcript_is_a_binary_file(raw):
    p = raw / "transcripts" / "P04.txt"
    lines = _lines(p)
    lines[8] = "\x00" + lines[8]
    p.write_text("".join(lines))
    with pytest.raises(InputError, match="binary file, not UTF-8 text") as err:
        transcripts.load_sources(raw)
    assert err.value.path == str(p)


# --------------------------------------------------------------------------- images


@pytest.mark.parametrize(
    "width,height,bits,colour",
    [(20000, 20000, 1, 0), (8000, 8000, 8, 3)],
    ids=["1-bit-400MP-above-Pillow-limit", "palette-64MP"],
)
def test_decompression_bomb_is_said_as_such(tmp_path, width, height, bits, colour):
    p = tmp_path / "WITI-001.png"
    p.write_bytes(_png(width, height, bits, colour))
    assert p.stat().st_size < 200_000
    t0 = time.perf_counter()
    for check in (ocr.load_image, screenshots.check_image, ocr.check_header):
        with pytest.raises(InputError) as err:
            check(p)
        assert str(err.value) == (
            f"{p}: image too large ({width} x {height} pixels, a decompression bomb?); "
            f"the limit is {ocr.MAX_PIXELS // 1_000_000} megapixels"
        )
    assert time.perf_counter() - t0 < 1.0  # said from the header: nothing decoded


def test_image_below_the_limit_still_opens(tmp_path):
    p = tmp_path / "WITI-001.png"
    p.write_bytes(_png(1080, 2340, 8, 0))
    assert ocr.load_image(p)[0].shape == (2340, 1080, 3)
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(8))
    with pytest.raises(InputError, match="no IHDR header"):
        ocr.load_image(p)


# --------------------------------------------------------------------------- validate_raw


def test_validate_raw_passes_quickly_on_the_committed_corpus():
    validate.validate_raw(RAW, list(runner.STAGE_NAMES))  # imports and file cache warmed
    t0 = time.perf_counter()
    validate.validate_raw(RAW, list(runner.STAGE_NAMES))
    assert time.perf_counter() - t0 < 1.0
    assert set(validate.CHECKS) == set(runner.STAGE_NAMES)


def _break(raw: Path, case: str) -> tuple[Path, int | None, str]:
    """Break ``raw`` as ``case`` says; returns (file named, line or None, needle of the message)."""
    pcsv = raw / "participants.csv"
    lines = _lines(pcsv)
    if case == "participants-no-pseudonym":
        pcsv.write_text("".join(["id" + lines[0][len("pseudonym") :], *lines[1:]]))
        return pcsv, 1, "missing column(s) pseudonym"
    if case == "participants-duplicate":
        lines[6] = "P02" + lines[6][3:]
        pcsv.write_text("".join(lines))
        return pcsv, 7, "duplicate pseudonym 'P02'"
    if case == "participants-empty":
        pcsv.write_text("")
        return pcsv, 1, "empty file"
    if case == "participants-no-year":
        pcsv.write_text(
            "".join(",".join(c for i, c in enumerate(ln.rstrip("\n").split(",")) if i != 1) + "\n" for ln in lines)
        )
        return pcsv, 1, "missing column(s) year_of_study"
    if case == "participants-no-P14":
        pcsv.write_text("".join(lines[:-1]))
        return raw / "transcripts" / "P14.txt", 2, "participant P14 is not in participants.csv"
    if case == "participants-bad-year":
        lines[3] = lines[3].replace(",1,", ",first,", 1)
        pcsv.write_text("".join(lines))
        return pcsv, 4, "year_of_study 'f***' of P03 is not a whole number"
    if case == "study-not-yaml":
        (raw / "study.yml").write_text("title: WITI\ndesign: [unclosed\nsetting: x\n")
        return raw / "study.yml", 3, "not valid YAML"
    if case == "study-missing-key":
        p = raw / "study.yml"
        p.write_text(p.read_text().replace("reflexivity: >-", "reflexive: >-"))
        return p, None, "missing required key 'reflexivity'"
    if case == "study-wrong-type":
        p = raw / "study.yml"
        p.write_text(p.read_text().replace("team:\n  - role:", "team: Researcher 1\nold_team:\n  - role:"))
        return p, 48, "'team' must be a list, not text"
    if case == "coding-header-only":
        (raw / "coding" / "B.csv").write_text("coder,source_id,start,end,code_id,memo\n")
        return raw / "coding" / "B.csv", 1, "no code applications (header only)"
    if case == "coding-binary":
        (raw / "coding" / "B.csv").write_bytes(_png(64, 64, 8, 0))
        return raw / "coding" / "B.csv", None, "binary file, not UTF-8 text"
    if case == "transcript-nul":
        p = raw / "transcripts" / "P04.txt"
        tl = _lines(p)
        n = _late_line(tl)
        tl[n] = tl[n][:5] + "\x00" + tl[n][5:]
        p.write_text("".join(tl))
        return p, n + 1, "control character U+0000 at column 6"
    if case == "fieldnote-control":
        p = raw / "fieldnotes" / "FN-2023-03-20.md"
        tl = _lines(p)
        tl[6] = tl[6][:3] + "\x0c" + tl[6][3:]  # a form feed pasted from a PDF
        p.write_text("".join(tl))
        return p, 7, "control character U+000C at column 4"
    if case == "guide-control":
        p = raw / "interview_guide.md"
        p.write_text(p.read_text() + "\x1b[0m\n")
        return p, p.read_text().count("\n"), "control character U+001B"
    raise AssertionError(case)


PARTICIPANT_READERS = {"transcripts", "report"}
SOURCE_READERS = {"transcripts", "coding", "report"}
CASES = {  # case -> the stages that read the broken file
    "participants-no-pseudonym": PARTICIPANT_READERS,
    "participants-duplicate": PARTICIPANT_READERS,
    "participants-empty": PARTICIPANT_READERS,
    "participants-no-year": PARTICIPANT_READERS,
    "participants-no-P14": PARTICIPANT_READERS,
    "participants-bad-year": PARTICIPANT_READERS,
    "study-not-yaml": {"report"},
    "study-missing-key": {"report"},
    "study-wrong-type": {"report"},
    "coding-header-only": {"coding", "report"},
    "coding-binary": {"coding", "report"},
    "transcript-nul": SOURCE_READERS,
    "fieldnote-control": SOURCE_READERS,
    "guide-control": {"report"},
}


@pytest.mark.parametrize("case", CASES)
def test_validate_raw_raises_the_first_problem(raw, case):
    path, line, needle = _break(raw, case)
    for stage in sorted(CASES[case]):
        with pytest.raises(InputError) as err:
            validate.validate_raw(raw, [stage])
        assert err.value.path == str(path), str(err.value)
        assert err.value.line == line, str(err.value)
        assert needle in err.value.message, str(err.value)
    # the stages that do not read the file are not stopped by it
    validate.validate_raw(raw, [s for s in runner.STAGE_NAMES if s not in CASES[case]])


def test_validate_raw_checks_screenshot_headers(clean, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(clean / "raw", raw)
    shots = raw / "private" / "screenshots"
    for name in ("WITI-001.png", "WITI-002.png"):
        shutil.copyfile(RAW / "private" / "screenshots" / name, shots / name)
    validate.validate_raw(raw, ["screenshots"])
    (shots / "WITI-002.png").write_bytes(_png(20000, 20000))
    with pytest.raises(InputError, match=r"image too large \(20000 x 20000 pixels, a decompression bomb\?\)"):
        validate.validate_raw(raw, ["screenshots"])


# --------------------------------------------------------------------------- compendium run, as a user meets it


@pytest.mark.parametrize(
    "case,stage",
    [
        ("study-not-yaml", "report"),
        ("study-wrong-type", "report"),
        ("coding-header-only", "coding"),
        ("coding-binary", "coding"),
        ("transcript-nul", "transcripts"),
        ("fieldnote-control", "transcripts"),
    ],
)
def test_run_stops_on_bad_input(raw, run, case, stage):
    """Caught by the stage's own loader (or the gate's strict reader) before the stage writes anything."""
    path, line, needle = _break(raw, case)
    one_line_exit_2(run(raw, stage), _where(path, raw, line), needle)


def test_run_stops_on_a_decompression_bomb(tmp_path, run):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    p = raw / "private" / "screenshots" / "WITI-003.png"
    p.write_bytes(_png(20000, 20000))
    one_line_exit_2(
        run(raw, "screenshots"), _where(p, raw, None), "image too large (20000 x 20000 pixels, a decompression bomb?)"
    )


@pytest.mark.parametrize(
    "case",
    [
        "participants-no-pseudonym",
        "participants-duplicate",
        "participants-empty",
        "participants-no-year",
        "participants-no-P14",
        "participants-bad-year",
    ],
)
def test_run_stops_on_a_bad_participants_table(raw, run, case):
    """Caught by the runner's up-front check (validate_raw) or the transcripts notebook's validating loader."""
    path, line, needle = _break(raw, case)
    r = run(raw, min(CASES[case], key=runner.STAGE_NAMES.index))
    one_line_exit_2(r, _where(path, raw, line), needle)


@pytest.mark.parametrize(
    "edit,line,needle",
    [
        (
            lambda rows: rows[:3] + [",".join([rows[3].split(",")[0], " "] + rows[3].split(",")[2:])] + rows[4:],
            4,
            "empty display_name",
        ),
        (
            lambda rows: rows + [rows[2].split(",")[0] + "x," + "Someone Else," + rows[2].split(",")[2] + ","],
            None,
            "duplicate handle",
        ),
    ],
)
def test_run_stops_on_a_bad_roster_whatever_the_stage(raw, run, edit, line, needle):
    """An empty display name or a duplicate handle is refused for every stage, not only the screenshots."""
    p = raw / "private" / "roster.csv"
    rows = p.read_text(encoding="utf-8").splitlines()
    p.write_text("\n".join(edit(rows)) + "\n", encoding="utf-8")
    r = run(raw, "information_flow")
    where = f"roster.csv:{line}: " if line else "roster.csv:"
    err = one_line_exit_2(r, where, needle)
    assert rows[3].split(",")[1] not in err and rows[2].split(",")[1] not in err
