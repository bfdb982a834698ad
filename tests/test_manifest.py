import pytest

from compendium import manifest
from compendium.errors import InputError

from conftest import DERIVED, RAW


def test_committed_manifests_match_their_trees():
    for root in (RAW, DERIVED):
        expected = manifest.read(root / manifest.MANIFEST_NAME)
        assert manifest.compare(expected, manifest.compute(root)).ok, root


def test_manifest_format_is_sha256sum_sorted(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.txt").write_text("x")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".hidden").write_text("h")
    text = manifest.write(tmp_path).read_text()
    lines = text.splitlines()
    assert [line.split("  ")[1] for line in lines] == ["a.txt", "b/x.txt"]
    assert all(len(line.split("  ")[0]) == 64 for line in lines)


def test_check_raw_reports_changed_missing_extra(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "p.txt").write_text("p")
    manifest.write(tmp_path)
    manifest.check_raw(tmp_path)
    (tmp_path / "private" / "p.txt").unlink()
    manifest.check_raw(tmp_path)  # private material may be absent
    (tmp_path / "a.txt").write_text("changed")
    with pytest.raises(InputError, match="checksum differs"):
        manifest.check_raw(tmp_path)
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "new.txt").write_text("n")
    with pytest.raises(InputError, match="not listed"):
        manifest.check_raw(tmp_path)


def test_malformed_manifest_line(tmp_path):
    (tmp_path / "MANIFEST.sha256").write_text("nonsense\n")
    with pytest.raises(InputError) as e:
        manifest.read(tmp_path / "MANIFEST.sha256")
    assert "MANIFEST.sha256:1" in str(e.value)
