"""Output folders are checked before anything runs: raw data are never written (issue 8, item 6)."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from conftest import RAW, compendium, one_line_exit_2


def _digest(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def raw(tmp_path):
    dst = tmp_path / "study" / "raw"
    shutil.copytree(RAW, dst)
    return dst


def _run(raw, derived, reports, *extra):
    return compendium("run", "--raw", raw, "--derived", derived, "--reports", reports, "--only", "themes", *extra)


@pytest.mark.parametrize("where", ["derived", "reports", "cache"])
def test_an_output_folder_inside_raw_is_refused(raw, tmp_path, where):
    inside = raw / "out"
    folders = {"derived": tmp_path / "d", "reports": tmp_path / "r"}
    extra = []
    if where == "cache":
        extra = ["--cache", inside]
    else:
        folders[where] = inside
    before = _digest(raw)
    one_line_exit_2(_run(raw, folders["derived"], folders["reports"], *extra), f"--{where} lies inside the raw folder")
    assert _digest(raw) == before and not inside.exists()


def test_the_raw_folder_itself_is_not_an_output(raw, tmp_path):
    one_line_exit_2(_run(raw, raw, tmp_path / "r"), "--derived lies inside the raw folder")


def test_raw_inside_derived_is_refused(raw, tmp_path):
    one_line_exit_2(_run(raw, raw.parent, tmp_path / "r"), "the raw folder lies inside --derived")


@pytest.mark.parametrize("where", ["derived", "reports", "cache"])
def test_an_output_that_is_a_file_is_refused(raw, tmp_path, where):
    f = tmp_path / "a-file"
    f.write_text("not a folder\n")
    folders = {"derived": tmp_path / "d", "reports": tmp_path / "r"}
    extra = ["--cache", f] if where == "cache" else []
    if where != "cache":
        folders[where] = f
    one_line_exit_2(_run(raw, folders["derived"], folders["reports"], *extra), f"--{where} names a file")
    assert f.read_text() == "not a folder\n"


def test_derived_and_reports_must_be_separate(raw, tmp_path):
    one_line_exit_2(_run(raw, tmp_path / "d", tmp_path / "d"), "separate folders")
    one_line_exit_2(_run(raw, tmp_path / "d", tmp_path / "d" / "reports"), "separate folders")
