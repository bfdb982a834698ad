"""tests/qc_tool.py: qc 1.7.8's sample projects as fixtures, and qc's own importer run on them.

The numbers asserted here are what qc 1.7.8 does with its own files, observed once and pinned: the demo project
(written by qc 1.3.2) holds 205 Coding elements in 158 PlainTextSelections of one TextSource, coded by one coder,
and qc stores them as 205 coded lines; its codebook has 262 codes with 252 distinct names.
"""

from __future__ import annotations

import collections
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

import qc_tool
from qc_tool import qc_codebook, qc_codings, qc_import, qc_samples

NS = "{urn:QDA-XML:project:1.0}"


def _qde(qdpx: Path) -> ET.Element:
    with zipfile.ZipFile(qdpx) as zf:
        return ET.fromstring(zf.read("project.qde"))


def _with_source_names(src: Path, dest: Path) -> Path:
    """A copy of ``src`` whose TextSources all carry ``name`` (the plain text's file stem), which qc 1.7.8's
    importer needs; every other byte of project.qde and every other member stay as they were."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "project.qde":
                text, n = re.subn(
                    r'<TextSource (?![^>]*\bname=)([^>]*?)plainTextPath="(?:internal://)?([^"/]+?)\.txt"',
                    r'<TextSource name="\2" \1plainTextPath="\2.txt"',
                    data.decode("utf-8"),
                )
                assert n == len(_qde(src).findall(f"{NS}Sources/{NS}TextSource")), n
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return dest


@pytest.fixture(scope="module")
def samples() -> dict[str, Path]:
    return qc_samples()


# --- the samples --------------------------------------------------------------------------------------------


def test_samples_are_the_two_qdpx_files_of_the_wheel(samples):
    assert set(samples) == {"nvivo", "demo"}
    for key, path in samples.items():
        assert path.parent == qc_tool.SAMPLES_DIR and path.is_file()
        assert qc_tool._sha256(path) == qc_tool.QC_SAMPLES[key][1]
        assert zipfile.is_zipfile(path)
        with zipfile.ZipFile(path) as zf:
            assert "project.qde" in zf.namelist()
            assert zf.testzip() is None
        assert _qde(path).tag == f"{NS}Project"
    assert _qde(samples["nvivo"]).get("origin") == "NVivo for Mac 15.0.0"
    assert _qde(samples["demo"]).get("origin") == "qc 1.3.2"


def test_samples_match_the_pinned_wheel_byte_for_byte(samples):
    wheel = qc_tool.qc_wheel()  # pip download once into .cache/qc-wheel, SHA-256 checked
    assert qc_tool._sha256(wheel) == qc_tool.QC_WHEEL_SHA256
    with zipfile.ZipFile(wheel) as zf:
        for key, (inner, _) in qc_tool.QC_SAMPLES.items():
            assert zf.read(inner) == samples[key].read_bytes(), key


def test_a_tampered_cached_sample_is_replaced(samples):
    demo = samples["demo"]
    good = demo.read_bytes()
    demo.write_bytes(good[:-1])
    assert qc_samples()["demo"].read_bytes() == good


def test_the_demo_project_holds_what_the_brief_says(samples):
    root = _qde(samples["demo"])
    count = collections.Counter(e.tag.removeprefix(NS) for e in root.iter())
    assert (count["Coding"], count["PlainTextSelection"], count["TextSource"], count["Code"]) == (205, 158, 2, 262)
    assert [s.get("name") for s in root.iter(f"{NS}TextSource")] == [None, None]  # hence qc's KeyError below


def test_the_nvivo_project_holds_codes_and_two_sources_but_no_codings(samples):
    root = _qde(samples["nvivo"])
    count = collections.Counter(e.tag.removeprefix(NS) for e in root.iter())
    assert (count["Code"], count["User"], count["TextSource"]) == (262, 2, 2)
    assert count["PlainTextSelection"] == count["Coding"] == 0


# --- the helpers that need no qc ----------------------------------------------------------------------------


def test_without_qc_env_tests_skip_locally_and_fail_in_ci(tmp_path, monkeypatch):
    monkeypatch.setattr(qc_tool, "QC_EXE", tmp_path / "no-such-qc")
    assert not qc_tool.qc_available()
    monkeypatch.delenv("WITI_REQUIRE_SYSTEM_PACKAGES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="make qc-env"):
        qc_tool.require_qc()
    monkeypatch.setenv("WITI_REQUIRE_SYSTEM_PACKAGES", "1")
    with pytest.raises(pytest.fail.Exception, match="make qc-env"):
        qc_tool.require_qc()


# --- qc's importer on its own samples -----------------------------------------------------------------------


def test_qc_is_the_pinned_version():
    qc_tool.require_qc()
    assert qc_tool.qc_available()
    assert qc_tool._installed_files() is not None  # raises unless .venv-qc holds qualitative-coding 1.7.8


def test_qc_import_wants_an_empty_folder(samples, tmp_path):
    qc_tool.require_qc()
    (tmp_path / "stray.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        qc_import(samples["demo"], tmp_path)


def test_qc_cannot_import_its_own_demo_as_shipped(samples, tmp_path):
    """qc 1.7.8 needs TextSource/@name, which the schema makes optional and qc 1.3.2 did not write."""
    r = qc_import(samples["demo"], tmp_path / "qc")
    assert r.returncode == 1, (r.stdout[-2000:], r.stderr[-2000:])
    assert r.stderr.rstrip().endswith("KeyError: 'name'"), r.stderr[-2000:]


@pytest.fixture(scope="module")
def demo_import(samples, tmp_path_factory):
    qc_tool.require_qc()
    base = tmp_path_factory.mktemp("qc-demo")
    qdpx = _with_source_names(samples["demo"], base / "demo-named.qdpx")
    work = base / "qc"
    return qdpx, work, qc_import(qdpx, work)


def test_qc_imports_the_demo_once_its_sources_are_named(demo_import):
    _, work, r = demo_import
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    for p in (
        "settings.yaml",
        "codebook.yaml",
        "qualitative_coding.sqlite3",
        "corpus/board_2017.txt",
        "corpus/admin-1.txt",
        "source/project.qde",
        "source/import/board_2017.txt",
        "memos",
    ):
        assert (work / p).exists(), p


def test_qc_stores_every_demo_coding_on_its_line(demo_import):
    qdpx, work, r = demo_import
    assert r.returncode == 0, r.stderr[-2000:]
    codings = qc_codings(work)
    assert len(codings) == 205
    assert {c["coder"] for c in codings} == {"cp"}
    assert {c["document"] for c in codings} == {"board_2017.txt"}
    assert len({c["line"] for c in codings}) == 158
    # the same (line, code) pairs as the project.qde's selections ("line:N", 0-based) and CodeRefs
    root = _qde(qdpx)
    names = {c.get("guid"): c.get("name") for c in root.iter(f"{NS}Code")}
    expected = collections.Counter(
        (int(sel.get("name").removeprefix("line:")), names[ref.get("targetGUID")])
        for sel in root.iter(f"{NS}PlainTextSelection")
        for ref in sel.iter(f"{NS}CodeRef")
    )
    assert collections.Counter((c["line"], c["code"]) for c in codings) == expected
    # line N of qc's corpus copy starts at the selection's startPosition
    text = (work / "corpus" / "board_2017.txt").read_text(encoding="utf-8")
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    for sel in root.iter(f"{NS}PlainTextSelection"):
        assert starts[int(sel.get("name").removeprefix("line:"))] == int(sel.get("startPosition"))


def test_qc_codebook_is_the_demo_codebook(demo_import):
    qdpx, work, r = demo_import
    assert r.returncode == 0, r.stderr[-2000:]
    codebook = qc_codebook(work)
    xml_names = [c.get("name") for c in _qde(qdpx).iter(f"{NS}Code")]  # document order = depth first
    assert codebook == xml_names
    assert (len(codebook), len(set(codebook))) == (262, 252)
    assert codebook[:3] == ["rq1_definition", "competencies", "programming"]
    assert {c["code"] for c in qc_codings(work)} <= set(codebook)


def test_qc_on_the_nvivo_project_is_recorded(samples, tmp_path):
    """Whatever qc does with NVivo's file is qc's business: recorded (pytest -s shows it), not asserted."""
    work = tmp_path / "qc"
    r = qc_import(samples["nvivo"], work)
    summary = f"qc init --import nvivo_project.qdpx: exit {r.returncode}"
    if r.returncode == 0:
        summary += f", {len(qc_codings(work))} codings, {len(qc_codebook(work))} codebook entries"
        summary += f", corpus {sorted(p.name for p in (work / 'corpus').iterdir())}"
    else:
        summary += f"\n{r.stderr[-1500:]}"
    print(summary)
