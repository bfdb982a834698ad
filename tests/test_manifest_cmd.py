"""`compendium manifest DIR`: rewrite a raw copy's manifest after an edit; the committed raw data is refused."""

from __future__ import annotations

import shutil

from compendium import manifest
from conftest import RAW, compendium, one_line_exit_2


def test_an_edited_copy_is_refused_naming_the_command_then_runs_after_it(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    guide = raw / "interview_guide.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n## 9. Anything else?\n", encoding="utf-8")
    r = compendium("run", "--raw", raw, "--derived", tmp_path / "d", "--reports", tmp_path / "r", "--only", "report")
    one_line_exit_2(r, "interview_guide.md", "checksum differs", f"compendium manifest {raw}")
    r = compendium("manifest", raw)
    assert r.returncode == 0 and "files)" in r.stdout, r.stdout + r.stderr
    manifest.check_raw(raw)  # the manifest now matches the edited copy
    listed = manifest.read(raw / manifest.MANIFEST_NAME)
    assert listed["interview_guide.md"] == manifest.sha256_file(guide)


def test_added_and_removed_files_name_the_command(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "fieldnotes" / "FN-2099-01-01.md").write_text("x\n", encoding="utf-8")
    r = compendium("run", "--raw", raw, "--derived", tmp_path / "d", "--only", "report")
    one_line_exit_2(r, "not listed", "compendium manifest")


def test_the_committed_raw_data_and_non_raw_folders_are_refused(tmp_path):
    before = (RAW / manifest.MANIFEST_NAME).read_bytes()
    one_line_exit_2(compendium("manifest", "data/raw"), "committed raw data", "edit a copy")
    assert (RAW / manifest.MANIFEST_NAME).read_bytes() == before
    one_line_exit_2(compendium("manifest", tmp_path), "not a raw data folder")
    one_line_exit_2(compendium("manifest", tmp_path / "nope"), "raw data folder not found")
