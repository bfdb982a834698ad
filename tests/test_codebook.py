"""Tests for compendium.codebook: loading, validation with line numbers, dump round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from compendium import codebook
from compendium.errors import InputError

GOOD = """\
version: "2"
themes:
  - id: T1
    label: Engagement in a connective space
    definition: How learners engage.
  - id: T2
    label: Decentralization of knowledge and authority
    definition: Who knows.
codes:
  - id: AFF
    label: Platform affordances
    theme: T1
    origin: deductive
    definition: What the platform lets people do.
    indicators: [platform, feature*]
  - id: AFF-ANON
    label: Anonymous posting lowers the cost of asking
    theme: T2
    parent: AFF
    origin: deductive
    definition: Anonymity.
    include: Asking anonymously.
    exclude: Lurking.
    example: "I posted it anon lah"
    indicators:
      - anonymous
      - anon*
      - "Without  my NAME"
  - id: SAFE
    label: Safety to ask "stupid" questions
    theme: T2
    origin: inductive
    definition: Safe to ask.
    indicators: [stupid question*]
history:
  - date: 2023-03-01
    change: first round
    why: deductive codes from relational transfer
  - date: 2023-05-10
    change: added SAFE
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "codebook.yml"
    p.write_text(text, encoding="utf-8")
    return p


def test_load_good(tmp_path):
    cb = codebook.load(write(tmp_path, GOOD))
    assert cb.version == "2"
    assert list(cb.themes.columns) == ["id", "label", "definition"]
    assert list(cb.codes.columns) == [
        "id",
        "label",
        "theme",
        "parent",
        "origin",
        "definition",
        "include",
        "exclude",
        "example",
        "indicators",
    ]
    assert cb.code_ids == ["AFF", "AFF-ANON", "SAFE"]
    anon = cb.codes.set_index("id").loc["AFF-ANON"]
    assert anon["parent"] == "AFF"
    assert anon["indicators"] == ["anonymous", "anon*", "without my name"]
    assert cb.codes.set_index("id").loc["AFF", "parent"] == ""
    assert cb.code_theme()["AFF-ANON"] == "T2"
    assert cb.children("AFF") == ["AFF-ANON"]
    assert list(cb.history.columns) == ["date", "change", "why"]
    assert cb.history["date"].tolist() == ["2023-03-01", "2023-05-10"]
    assert cb.history.loc[1, "why"] == ""


def test_bom_and_crlf(tmp_path):
    p = tmp_path / "codebook.yml"
    p.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    assert codebook.load(p).code_ids == ["AFF", "AFF-ANON", "SAFE"]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    "old,new,message,anchor",
    [
        (
            "    theme: T2\n    origin: inductive",
            "    theme: T9\n    origin: inductive",
            "unknown theme 'T9'",
            "theme: T9",
        ),
        ("    parent: AFF\n", "    parent: NOPE\n", "unknown parent 'NOPE'", "- id: AFF-ANON"),
        (
            "    origin: inductive",
            "    origin: grounded",
            "origin must be deductive, inductive or unknown",
            "origin: grounded",
        ),
        (
            "    indicators: [stupid question*]",
            "    indicators: []",
            "indicators must be a non-empty list",
            "indicators: []",
        ),
        (
            "    indicators: [stupid question*]",
            "    indicators: stupid",
            "indicators must be a non-empty list",
            "indicators: stupid",
        ),
        (
            "    indicators: [stupid question*]",
            "    indicators: [stupid, 3]",
            "indicators must be a non-empty list",
            "indicators: [stupid, 3]",
        ),
        (
            "    indicators: [stupid question*]",
            "    indicators: [st*pid]",
            "'*' is allowed only at the end",
            "indicators: [st*pid]",
        ),
        ("  - id: SAFE\n", "  - id: AFF\n", "duplicate code id 'AFF'", ("  - id: AFF", 2)),
        ("    definition: Safe to ask.\n", "", "code 'SAFE': missing 'definition'", "- id: SAFE"),
        ("  - id: T2\n", "  - id: T1\n", "duplicate theme id 'T1'", ("  - id: T1", 2)),
    ],
)
def test_errors_name_file_and_line(tmp_path, old, new, message, anchor):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    with pytest.raises(InputError) as err:
        codebook.load(write(tmp_path, text))
    e = err.value
    assert message in e.message
    assert e.path.endswith("codebook.yml")
    if isinstance(anchor, tuple):  # (exact line, nth occurrence)
        exact, nth = anchor
        expected = [i for i, line in enumerate(text.splitlines(), 1) if line == exact][nth - 1]
    else:
        expected = line_of(text, anchor)
    assert e.line == expected
    assert str(e).startswith(f"{e.path}:{expected}: ")


def test_parent_cycle(tmp_path):
    text = GOOD.replace(
        "    theme: T1\n    origin: deductive\n    definition: What",
        "    theme: T1\n    parent: AFF-ANON\n    origin: deductive\n    definition: What",
    )
    with pytest.raises(InputError, match="loops back"):
        codebook.load(write(tmp_path, text))


def test_missing_top_level_key(tmp_path):
    text = GOOD.split("history:")[0]
    with pytest.raises(InputError, match="missing top-level key 'history'") as err:
        codebook.load(write(tmp_path, text))
    assert err.value.line == 1


def test_yaml_syntax_error_has_line(tmp_path):
    text = GOOD.replace("    label: Platform affordances", "    label: [Platform affordances")
    with pytest.raises(InputError, match="not valid YAML") as err:
        codebook.load(write(tmp_path, text))
    assert err.value.line is not None


def test_not_found(tmp_path):
    with pytest.raises(InputError, match="not found"):
        codebook.load(tmp_path / "nope.yml")


def test_dump_round_trip(tmp_path):
    cb = codebook.load(write(tmp_path, GOOD))
    out = codebook.dump(cb, tmp_path / "out" / "codebook.yml")
    again = codebook.load(out)
    assert again == cb
    assert codebook.dumps(again) == codebook.dumps(cb)


def test_shipped_codebook_if_present():
    path = Path(__file__).parents[1] / "src" / "compendium" / "synthdata" / "codebook.yml"
    if not path.exists():
        pytest.skip("synthetic codebook not written yet")
    cb = codebook.load(path)
    assert set(cb.theme_ids) == {"T1", "T2", "T3"}
    assert len(cb.code_ids) >= 20
