"""``compendium init DIR`` and ``compendium run`` from a folder outside the compendium (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, compendium, one_line_exit_2

from compendium import manifest, study_init

OUTPUTS = ("posts.csv", "segments.csv", "coding.csv", "themes.csv", "MANIFEST.sha256")
FIGURES = (
    "fig1_theme_prevalence.png",
    "fig2_code_frequencies.png",
    "fig3_saturation.png",
    "fig4_reliability.png",
    "fig5_network.png",
    "fig6_cooccurrence.png",
)


@pytest.fixture
def outside(tmp_path) -> Path:
    """A working folder outside the repository (the user's own study)."""
    assert not tmp_path.resolve().is_relative_to(ROOT)
    return tmp_path


def test_template_is_shipped_as_package_data():
    names = {p.relative_to(study_init.TEMPLATE).as_posix() for p in study_init.TEMPLATE.rglob("*") if p.is_file()}
    assert {
        "README.md",
        "study.yml",
        "interview_guide.md",
        "participants.csv",
        "codebook.yml",
        "transcripts/P01.txt",
        "transcripts/P02.txt",
        "fieldnotes/FN-2024-01-10.md",
        "coding/A.csv",
        "coding/B.csv",
        "private/roster.csv",
        "private/screenshots/transcribed.csv",
        "private/screenshots/WITI-001.png",
    } <= names
    assert manifest.MANIFEST_NAME not in names  # init writes it, last
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"templates/**/*"' in pyproject


def test_init_writes_a_raw_tree_with_its_manifest(outside):
    r = compendium("init", outside / "study", cwd=outside)
    assert r.returncode == 0, r.stderr
    raw = outside / "study" / "raw"
    assert (raw / "README.md").read_text(encoding="utf-8").count("compendium manifest DIR/raw") == 1
    assert "fictitious template: replace with your study" in (raw / "README.md").read_text(encoding="utf-8").lower()
    manifest.check_raw(raw)  # every file listed, every checksum right
    assert set(manifest.read(raw / manifest.MANIFEST_NAME)) == set(manifest.list_files(raw))


def test_init_validates_and_passes_the_gate(outside):
    from compendium import deid, validate

    raw = study_init.init(outside / "study")
    validate.validate_raw(raw, validate.STAGE_NAMES)
    gate = deid.corpus_gate(raw)
    files = [
        p
        for p in raw.rglob("*")
        if p.is_file() and "private" not in p.relative_to(raw).parts and p.name != manifest.MANIFEST_NAME
    ]
    assert gate.scan_paths(files) == []


def test_init_refuses_a_non_empty_folder(outside):
    (outside / "study").mkdir()
    (outside / "study" / "notes.txt").write_text("mine\n")
    one_line_exit_2(compendium("init", outside / "study", cwd=outside), "study", "not empty")
    assert sorted(p.name for p in (outside / "study").iterdir()) == ["notes.txt"]


def test_init_into_an_empty_folder(outside):
    (outside / "study").mkdir()
    assert compendium("init", outside / "study", cwd=outside).returncode == 0
    assert (outside / "study" / "raw" / manifest.MANIFEST_NAME).is_file()


def test_run_outside_needs_raw_and_derived(outside):
    one_line_exit_2(compendium("run", cwd=outside), "--raw", "required", "outside the compendium folder")
    one_line_exit_2(compendium("run", "--raw", outside, cwd=outside), "--derived", "required")
    one_line_exit_2(compendium("verify", "--derived", outside, cwd=outside), "--raw", "required")


def test_run_with_a_project_that_has_no_notebooks(outside):
    one_line_exit_2(
        compendium("run", "--project", outside, "--raw", outside, "--derived", outside / "d", cwd=outside),
        "--project",
        "notebooks/",
    )


@pytest.mark.slow
def test_init_then_run_end_to_end_from_outside(outside):
    assert compendium("init", outside / "study", cwd=outside).returncode == 0
    r = compendium(
        "run",
        "--raw",
        outside / "study" / "raw",
        "--derived",
        outside / "study" / "derived",
        "--jobs",
        "2",
        cwd=outside,
    )
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    derived = outside / "study" / "derived"
    for name in OUTPUTS:
        assert (derived / name).is_file(), name
    for name in FIGURES:
        assert (derived / "figures" / name).is_file(), name
    # reports and cache beside the derived folder, nothing written into the repository's folders
    assert (outside / "study" / "reports" / "06_report.html").is_file()
    assert (outside / "study" / ".cache").is_dir()
    assert "raw=" in r.stdout and str(ROOT / "data") not in r.stdout
    # relative paths from the study's parent folder name the same folders (whether stages rerun depends on the
    # package's code, which may change between the two runs in a shared working tree, so it is not asserted)
    again = compendium("run", "--raw", "study/raw", "--derived", "study/derived", "--quiet", cwd=outside)
    assert again.returncode == 0, again.stderr
    assert not (outside / "reports").exists() and (outside / "study" / "reports" / ".stamps").is_dir()
