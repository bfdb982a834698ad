import shutil

import pytest

from conftest import RAW, compendium, one_line_exit_2

COMMANDS = [["run"], ["verify"], ["synth"], ["deid"], ["deid", "scan"], ["export", "qdpx"], ["import", "qdpx"]]


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_every_command_has_help(cmd):
    r = compendium(*cmd, "--help")
    assert r.returncode == 0 and "usage:" in r.stdout


def test_missing_raw_folder(tmp_path):
    one_line_exit_2(compendium("run", "--raw", tmp_path / "nope"), "nope", "raw data folder not found")


def test_unknown_stage():
    one_line_exit_2(compendium("run", "--only", "coding", "bogus"), "unknown stage 'bogus'")


def test_malformed_parameter():
    one_line_exit_2(compendium("run", "-p", "no_equals_sign"), "malformed parameter")


def test_unknown_parameter():
    one_line_exit_2(compendium("run", "-p", "colour=blue"), "unknown parameter 'colour'")


@pytest.fixture
def raw_copy(tmp_path):
    dst = tmp_path / "raw"
    shutil.copytree(RAW, dst)
    return dst


def test_changed_raw_file_is_a_manifest_mismatch(raw_copy, tmp_path):
    p = raw_copy / "transcripts" / "P03.txt"
    p.write_text(p.read_text() + "\nP03: one more line\n")
    r = compendium("run", "--raw", raw_copy, "--derived", tmp_path / "d", "--reports", tmp_path / "r")
    one_line_exit_2(r, "P03.txt", "checksum differs")
    assert not (tmp_path / "d").exists()


def test_extra_raw_file(raw_copy, tmp_path):
    (raw_copy / "transcripts" / "P99.txt").write_text("P99: hi\n")
    r = compendium("run", "--raw", raw_copy, "--derived", tmp_path / "d", "--reports", tmp_path / "r")
    one_line_exit_2(r, "P99.txt", "not listed")


def test_debug_shows_traceback():
    r = compendium("--debug", "run", "--only", "bogus")
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_deid_scan_exit_codes(tmp_path):
    clean = tmp_path / "clean.txt"
    clean.write_text("[Friend 1] said P03 was right\n")
    dirty = tmp_path / "dirty.txt"
    dirty.write_text("line one\nmail me at someone@example.com\n")
    assert compendium("deid", "scan", clean).returncode == 0
    r = compendium("deid", "scan", dirty, clean)
    assert r.returncode == 1 and f"{dirty}:2: email" in r.stdout and "someone@" not in r.stdout


def test_a_raw_folder_without_private_says_the_gate_checks_patterns_only(raw_copy, tmp_path):
    import shutil as sh

    from conftest import DERIVED

    sh.rmtree(raw_copy / "private")
    from compendium import manifest

    manifest.write(raw_copy)
    sh.copytree(DERIVED, tmp_path / "d")
    r = compendium(
        "run", "--raw", raw_copy, "--derived", tmp_path / "d", "--reports", tmp_path / "r", "--only", "information_flow"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("patterns only") == 1 and "not members' names" in r.stdout


def test_every_selected_stage_is_gated_before_any_runs(raw_copy, tmp_path):
    """An identifier in a file only the last stage reads stops the run before the first stage writes anything."""
    import shutil as sh

    from compendium import manifest

    from conftest import DERIVED

    p = raw_copy / "study.yml"
    p.write_text(p.read_text() + "contact: someone@example.com\n")
    manifest.write(raw_copy)
    sh.copytree(DERIVED, tmp_path / "d")
    before = sorted((q.name, q.stat().st_mtime_ns) for q in (tmp_path / "d").rglob("*"))
    r = compendium(
        "run",
        "--raw",
        raw_copy,
        "--derived",
        tmp_path / "d",
        "--reports",
        tmp_path / "r",
        "--only",
        "transcripts",
        "report",
    )
    one_line_exit_2(r, "study.yml:", "email")
    assert "someone@" not in r.stderr and not (tmp_path / "r").exists()
    assert sorted((q.name, q.stat().st_mtime_ns) for q in (tmp_path / "d").rglob("*")) == before


def test_export_without_private_says_patterns_only_and_never_writes_into_raw(raw_copy, tmp_path):
    import shutil as sh

    from conftest import DERIVED

    sh.rmtree(raw_copy / "private")
    r = compendium("export", "qdpx", tmp_path / "out.qdpx", "--raw", raw_copy, "--derived", DERIVED)
    assert r.returncode == 0, r.stderr
    assert "patterns only" in r.stderr and (tmp_path / "out.qdpx").is_file()
    one_line_exit_2(
        compendium("export", "qdpx", raw_copy / "x.qdpx", "--raw", raw_copy, "--derived", DERIVED),
        "inside the raw folder",
    )
    assert not (raw_copy / "x.qdpx").exists()


def test_a_declared_raw_file_is_gated_whatever_its_suffix(raw_copy, tmp_path):
    from compendium import manifest

    (raw_copy / "fieldnotes" / "FN-2023-07-01.markdown").write_text("Observed: contact me at someone@example.com\n")
    manifest.write(raw_copy)
    r = compendium(
        "run", "--raw", raw_copy, "--derived", tmp_path / "d", "--reports", tmp_path / "r", "--only", "transcripts"
    )
    one_line_exit_2(r, "FN-2023-07-01.markdown:1:", "email")
