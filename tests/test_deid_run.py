"""Planting identifiers in the raw de-identified sources stops `compendium run` (issue 4)."""

import hashlib
import shutil

import pytest

from compendium import manifest

from conftest import DERIVED, RAW, compendium

KINDS = {
    "display name": None,
    "alias": None,
    "handle": None,
    "email": "kelly.w@example.com",
    "phone": "+65 9123 4567",
    "nric": "S1234567D",
    "matric": "A0123456X",
}


def _roster_values():
    line = (RAW / "private" / "roster.csv").read_text().splitlines()[5].split(",")
    return {"display name": line[1], "handle": "@" + line[2], "alias": line[3].split(";")[0]}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deidrun")
    shutil.copytree(RAW, tmp / "raw-clean")
    shutil.copytree(DERIVED, tmp / "derived")
    return tmp


def _tree_digest(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


CASES = [
    (kind, where, target)
    for i, kind in enumerate(KINDS)
    for j, where in enumerate(["start", "middle", "end"])
    for target in [("transcripts/P04.txt" if (i + j) % 2 == 0 else "fieldnotes/FN-2023-03-20.md")]
]


@pytest.mark.parametrize("kind,where,target", CASES, ids=[f"{k}-{w}-{t.split('/')[0]}" for k, w, t in CASES])
def test_planted_identifier_stops_the_run(workspace, tmp_path, kind, where, target):
    value = KINDS[kind] or _roster_values()[kind]
    raw = tmp_path / "raw"
    shutil.copytree(workspace / "raw-clean", raw)
    path = raw / target
    lines = path.read_text().split("\n")
    n = next(i for i, line in enumerate(lines) if len(line.split()) > 8 and i > 6)
    words = lines[n].split(" ")
    if where == "start":
        words.insert(0, value)
    elif where == "middle":
        words.insert(len(words) // 2, value)
    else:
        words.append(value)
    lines[n] = " ".join(words)
    path.write_text("\n".join(lines))
    manifest.write(raw)
    before = _tree_digest(workspace / "derived")
    r = compendium(
        "run",
        "--raw",
        raw,
        "--derived",
        workspace / "derived",
        "--reports",
        tmp_path / "reports",
        "--only",
        "transcripts",
        "coding",
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    err = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and f"{target}:{n + 1}:" in err[0], err
    assert value not in r.stderr and value not in r.stdout
    assert _tree_digest(workspace / "derived") == before


@pytest.mark.parametrize(
    "content,needle",
    [
        (b"", "empty"),
        (b"\xff\xfe P04: bad bytes\n", "not UTF-8"),
        (b"no speaker here\njust text\n", "text before the first speaker"),
        (b"---\nparticipant: P04\n---\n\n", "no speaker turns"),
    ],
)
def test_bad_transcript_stops_the_run(workspace, tmp_path, content, needle):
    raw = tmp_path / "raw"
    shutil.copytree(workspace / "raw-clean", raw)
    (raw / "transcripts" / "P04.txt").write_bytes(content)
    manifest.write(raw)
    before = _tree_digest(workspace / "derived")
    r = compendium(
        "run",
        "--raw",
        raw,
        "--derived",
        workspace / "derived",
        "--reports",
        tmp_path / "reports",
        "--only",
        "transcripts",
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    err = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and "P04.txt" in err[0] and needle in err[0], err
    assert _tree_digest(workspace / "derived") == before


def test_identifier_reaching_an_output_stops_the_stage(workspace, tmp_path):
    """The gate also reads what a stage writes: a name smuggled into an upstream table never reaches the quotes."""
    import pandas as pd

    derived = tmp_path / "derived"
    shutil.copytree(workspace / "derived", derived)
    quotes = pd.read_csv(derived / "theme_quotes.csv", keep_default_na=False)
    segs = pd.read_csv(derived / "segments.csv", keep_default_na=False)
    name = _roster_values()["display name"]
    unit = quotes["unit_id"].iloc[0]
    segs.loc[segs["segment_id"] == unit, "text"] = segs.loc[segs["segment_id"] == unit, "text"] + f" {name}"
    segs.to_csv(derived / "segments.csv", index=False, lineterminator="\n")
    before = _tree_digest(derived)
    r = compendium(
        "run",
        "--raw",
        workspace / "raw-clean",
        "--derived",
        derived,
        "--reports",
        tmp_path / "reports",
        "--only",
        "themes",
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "roster identifier" in r.stderr and "derived/" in r.stderr and name not in r.stderr
    assert _tree_digest(derived) == before
