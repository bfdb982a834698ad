"""The whole pipeline, run as a reviewer would: a full cold run, a rerun, verify, and a failing stage."""

import hashlib
import shutil

import pytest

from compendium import manifest, runner

from conftest import DERIVED, RAW, compendium

pytestmark = pytest.mark.slow


def test_full_cold_run_reproduces_committed_outputs_byte_for_byte(full_run):
    tmp, _ = full_run
    expected = manifest.read(DERIVED / manifest.MANIFEST_NAME)
    actual = manifest.compute(tmp / "derived")
    cmp = manifest.compare(expected, actual)
    assert cmp.ok, cmp.lines()
    assert (tmp / "derived" / "MANIFEST.sha256").read_bytes() == (DERIVED / "MANIFEST.sha256").read_bytes()


def test_outputs_exist_and_reports_are_written(full_run):
    tmp, _ = full_run
    d = tmp / "derived"
    # every file a stage declares (the runner moves exactly these into place), and the checklists' two files
    declared = [o for s in runner.STAGES for o in s.outputs if not o.endswith("/")]
    for name in [*declared, "checklists/coreq.md", "checklists/srqr.md"]:
        assert (d / name).is_file() and (d / name).stat().st_size > 0, name
    assert len(list((d / "redacted").glob("WITI-*.png"))) == 35
    assert len(list((d / "figures").glob("*.png"))) == len(list((d / "figures").glob("*.svg"))) >= 5
    for nb in ["01_screenshots", "02_transcripts", "03_coding", "04_themes", "05_information_flow", "06_report"]:
        assert (tmp / "reports" / f"{nb}.ipynb").is_file() and (tmp / "reports" / f"{nb}.html").is_file()
    html = (tmp / "reports" / "06_report.html").read_text()
    assert "Synthetic corpus" in html and str(tmp) not in html


def test_reports_carry_no_paths_user_or_host_names(full_run):
    import getpass
    import socket

    tmp, _ = full_run
    needles = {str(tmp), str(DERIVED.parents[1]), "/home/", "/root/", "/tmp/pytest"}
    host = socket.gethostname()
    if len(host) >= 4:
        needles.add(host)
    user = getpass.getuser()
    for p in sorted(q for q in (tmp / "reports").glob("*.*") if q.is_file()):
        text = p.read_text(encoding="utf-8")
        for n in needles:
            assert n not in text, (p.name, n)
        if len(user) >= 4 and user != "root":
            assert user not in text, p.name


def test_rerun_with_nothing_changed_skips_every_stage(full_run):
    tmp, _ = full_run
    r = compendium("run", "--derived", tmp / "derived", "--reports", tmp / "reports", "--cache", tmp / "cache")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("skipped (inputs unchanged)") == 6, r.stdout


def _digest_tree(root):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_failed_stage_leaves_last_good_outputs_untouched(full_run):
    tmp, _ = full_run
    before = _digest_tree(tmp / "derived")
    r = compendium(
        "run",
        "--derived",
        tmp / "derived",
        "--reports",
        tmp / "reports",
        "--cache",
        tmp / "cache",
        "--only",
        "coding",
        "-p",
        "consensus_rule=bogus",
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "consensus_rule" in r.stderr or "rule" in r.stderr
    assert _digest_tree(tmp / "derived") == before
    assert not [p for p in tmp.iterdir() if p.name.startswith(".staging")]


def test_planted_identifier_stops_the_run(full_run, tmp_path):
    tmp, _ = full_run
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    name = (raw / "private" / "roster.csv").read_text().splitlines()[1].split(",")[1]
    p = raw / "transcripts" / "P05.txt"
    lines = p.read_text().splitlines(keepends=True)
    lines[10] = lines[10].rstrip("\n") + f" and {name} said so\n"
    p.write_text("".join(lines))
    manifest.write(raw)
    shutil.copytree(tmp / "derived", tmp_path / "derived")
    before = _digest_tree(tmp_path / "derived")
    r = compendium(
        "run",
        "--raw",
        raw,
        "--derived",
        tmp_path / "derived",
        "--reports",
        tmp_path / "reports",
        "--cache",
        tmp / "cache",
        "--only",
        "transcripts",
    )
    assert r.returncode == 2, r.stderr
    assert "P05.txt:11" in r.stderr and name not in r.stderr
    assert _digest_tree(tmp_path / "derived") == before


def test_verify_passes_on_the_committed_outputs():
    r = compendium("verify", "--jobs", "2")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "verify: OK" in r.stdout
