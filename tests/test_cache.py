"""A cache that knows what each stage reads (issue 8, item 8), and stages that fail say where to look (item 7).

- Every raw file is covered: changing it changes the fingerprint of exactly the stages that declare it.
- What a stage really opens is recorded while it runs (compendium.reads); a read outside its declaration, or a
  write into raw, fails the stage. Every full run in tests/test_pipeline.py is therefore also a check that the
  declarations cover every file every stage opens.
- Installed versions of what a stage imports are part of its stamp.
- Changing a file reruns the stages that read it and what is downstream, and skips the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from compendium import manifest, reads, runner

from conftest import DERIVED, RAW, ROOT, compendium


def _digest(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _ctx(raw, derived, reports):
    return runner.Context(ROOT, raw, derived, reports, ROOT / ".cache", {}, quiet=True)


def _fingerprints(ctx):
    return {s.name: runner.fingerprint(ctx, s, runner.stage_parameters(ctx, s)) for s in runner.STAGES}


def test_every_raw_file_is_in_the_fingerprint_of_exactly_the_stages_that_declare_it(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    ctx = _ctx(raw, DERIVED, tmp_path / "reports")
    base = _fingerprints(ctx)
    files = sorted(p for p in raw.rglob("*") if p.is_file())
    assert len(files) > 60
    covered = set()
    for f in files:
        rel = f.relative_to(raw).as_posix()
        data = f.read_bytes()
        f.write_bytes(data + b"\n")
        try:
            changed = {n for n, fp in _fingerprints(ctx).items() if fp != base[n]}
        finally:
            f.write_bytes(data)
        declaring = {s.name for s in runner.STAGES if f in runner._raw_files(raw, s.raw_inputs)}
        assert changed == declaring, rel
        covered |= changed and {rel}
    # what no stage reads: the raw folder's README (provenance for people) and nothing else
    assert {f.relative_to(raw).as_posix() for f in files} - covered == {"README.md"}


def test_the_report_declares_the_guide_the_transcripts_and_the_raw_manifest():
    report = next(s for s in runner.STAGES if s.name == "report")
    for pattern in ("interview_guide.md", "transcripts/*", "fieldnotes/*", "MANIFEST.sha256", "study.yml"):
        assert pattern in report.raw_inputs


def test_the_read_log_records_reads_writes_and_imports(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_text("x")
    (tmp_path / "outside.txt").write_text("y")
    log = tmp_path / "reads.log"
    code = (
        "import compendium, json, pathlib, os\n"
        f"open({str(root / 'a.txt')!r}).read()\n"
        f"open({str(tmp_path / 'outside.txt')!r}).read()\n"
        f"open({str(root / 'b.txt')!r}, 'w').write('z')\n"
        "import csv\n"
    )
    env = {**os.environ, reads.ENV_LOG: str(log), reads.ENV_ROOTS: str(root)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    rec = reads.parse(log, [root], [])
    assert rec.raw_read == {"a.txt"} and rec.raw_written == {"b.txt"}
    assert {"csv", "json", "compendium"} <= rec.modules
    assert "outside.txt" not in log.read_text()


def test_nothing_is_recorded_outside_a_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in (reads.ENV_LOG, reads.ENV_ROOTS)}
    out = subprocess.run(
        [sys.executable, "-c", "import sys, compendium; print(len(sys.audit.__doc__ or ''))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.returncode == 0 and not reads._installed


def test_dependency_versions_are_part_of_the_stamp(tmp_path):
    from importlib import metadata

    stamp = tmp_path / "s.json"
    deps = reads.distributions({"pandas", "yaml", "json", "compendium"})
    assert deps == {"PyYAML": metadata.version("PyYAML"), "pandas": metadata.version("pandas")}
    stamp.write_text(json.dumps({"fingerprint": "f", "dependencies": deps}))
    assert runner._stamp_matches(stamp, "f")
    assert not runner._stamp_matches(stamp, "g")
    stamp.write_text(json.dumps({"fingerprint": "f", "dependencies": {**deps, "pandas": "0.0.1"}}))
    assert not runner._stamp_matches(stamp, "f")  # pandas "upgraded": the stage reruns
    stamp.write_text("an old plain-text stamp\n")
    assert not runner._stamp_matches(stamp, "f")


# --------------------------------------------------------------------------- stages that misbehave


def _project_with(tmp_path, notebook, extra_code):
    """A copy of the notebooks in which ``notebook`` ends with ``extra_code``: a stand-in for a bug."""
    proj = tmp_path / "proj"
    shutil.copytree(ROOT / "notebooks", proj / "notebooks")
    p = proj / "notebooks" / notebook
    nb = json.loads(p.read_text(encoding="utf-8"))
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "planted",
            "metadata": {},
            "outputs": [],
            "source": extra_code,
        }
    )
    p.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    shutil.copytree(DERIVED, tmp_path / "derived")
    return proj, raw


def _run_themes(proj, raw, tmp_path):
    return compendium(
        "run",
        "--raw",
        raw,
        "--derived",
        tmp_path / "derived",
        "--reports",
        tmp_path / "reports",
        "--only",
        "themes",
        cwd=proj,
    )


def test_a_failing_stage_keeps_its_executed_notebook_and_says_where(tmp_path):
    proj, raw = _project_with(tmp_path, "04_themes.ipynb", "raise RuntimeError('planted bug')")
    before = _digest(tmp_path / "derived")
    r = _run_themes(proj, raw, tmp_path)
    assert r.returncode == 1, r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert "stage 'themes' failed" in line and "RuntimeError: planted bug" in line and "Traceback" not in r.stderr
    kept = tmp_path / "reports" / "failed" / "04_themes.ipynb"
    assert kept.is_file() and str(kept) in line
    assert "planted bug" in kept.read_text() and (kept.with_suffix(".html")).is_file()
    assert _digest(tmp_path / "derived") == before
    assert not list(tmp_path.glob(".staging-*")) and not list((tmp_path / "reports").glob(".staging-*"))


def test_a_stage_reading_an_undeclared_file_fails(tmp_path):
    proj, raw = _project_with(
        tmp_path, "04_themes.ipynb", "open(Path(raw_dir) / 'interview_guide.md', encoding='utf-8').read()"
    )
    before = _digest(tmp_path / "derived")
    r = _run_themes(proj, raw, tmp_path)
    assert r.returncode == 1
    assert "stage 'themes' read raw interview_guide.md" in r.stderr and "declared inputs" in r.stderr
    assert _digest(tmp_path / "derived") == before


def test_a_stage_writing_into_raw_fails(tmp_path):
    proj, raw = _project_with(tmp_path, "04_themes.ipynb", "(Path(raw_dir) / 'codebook.yml').open('a').close()")
    r = _run_themes(proj, raw, tmp_path)
    assert r.returncode == 1 and "wrote into the raw folder (codebook.yml)" in r.stderr


# --------------------------------------------------------------------------- reruns, end to end

NOT_SCREENSHOTS = [s for s in runner.STAGE_NAMES if s != "screenshots"]


@pytest.fixture(scope="module")
def primed(tmp_path_factory):
    """A raw copy, the committed derived outputs and stamps of a run of every stage but the screenshots."""
    tmp = tmp_path_factory.mktemp("rerun")
    shutil.copytree(RAW, tmp / "raw")
    shutil.copytree(DERIVED, tmp / "derived")
    r = _run(tmp)
    assert r.returncode == 0, r.stderr
    return tmp


def _run(tmp):
    return compendium(
        "run",
        "--raw",
        tmp / "raw",
        "--derived",
        tmp / "derived",
        "--reports",
        tmp / "reports",
        "--only",
        *NOT_SCREENSHOTS,
    )


def _ran(stdout):
    return {line.split()[0] for line in stdout.splitlines() if " ran in " in line}


def _downstream(names):
    out = set(names)
    grew = True
    while grew:
        grew = False
        for s in runner.STAGES:
            if s.name not in out and runner.upstream(s, runner.STAGES) & out:
                out.add(s.name)
                grew = True
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    "target,edit,readers",
    [
        (
            "interview_guide.md",
            lambda t: t + "\n## 9. A section added after the pilot\n\n- Anything else?\n",
            {"report"},
        ),
        (
            "transcripts/P03.txt",
            lambda t: t.replace("duration_min:", "duration_min: 1", 1),
            {"transcripts", "coding", "report"},
        ),
        (
            "study.yml",
            lambda t: t.replace('observation_end: "2023-06-30"', 'observation_end: "2023-06-29"'),
            {"coding", "report"},
        ),  # coding reads study.yml for the project date of witi.qdpx
    ],
)
def test_changing_a_file_reruns_its_readers_and_downstream_only(primed, target, edit, readers):
    raw = primed / "raw"
    p = raw / target
    old = p.read_text(encoding="utf-8")
    new = edit(old)
    assert new != old
    p.write_text(new, encoding="utf-8")
    manifest.write(raw)
    try:
        r = _run(primed)
        assert r.returncode == 0, r.stderr
        ran = _ran(r.stdout)
        assert readers <= ran, (ran, r.stdout)
        assert ran <= _downstream(readers), (ran, r.stdout)
        again = _run(primed)
        assert _ran(again.stdout) == set(), again.stdout
    finally:
        p.write_text(old, encoding="utf-8")
        manifest.write(raw)
        assert _run(primed).returncode == 0


def test_the_report_answers_from_the_current_guide(primed):
    """The stale-COREQ case of the issue: a new guide section changes the checklist on the next plain run."""
    raw = primed / "raw"
    p = raw / "interview_guide.md"
    old = p.read_text(encoding="utf-8")
    sections = sum(1 for line in old.splitlines() if line.startswith("## "))
    p.write_text(old + "\n## Added section\n\n- A question\n", encoding="utf-8")
    manifest.write(raw)
    try:
        r = _run(primed)
        assert r.returncode == 0 and _ran(r.stdout) == {"report"}, r.stdout
        coreq = (primed / "derived" / "checklists" / "coreq.md").read_text(encoding="utf-8")
        assert f"({sections + 1} sections)" in coreq
    finally:
        p.write_text(old, encoding="utf-8")
        manifest.write(raw)
        assert _run(primed).returncode == 0


def test_input_checks_are_remembered_until_an_input_changes(tmp_path, monkeypatch):
    from compendium import validate

    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    ctx = _ctx(raw, DERIVED, tmp_path / "reports")
    calls = []
    real = validate.validate_raw
    monkeypatch.setattr(validate, "validate_raw", lambda *a: calls.append(a) or real(*a))
    gate = runner.make_gate(ctx)
    stages = [s for s in runner.STAGES if s.name in ("coding", "report")]
    runner.check_inputs(ctx, stages, gate)
    runner.check_inputs(ctx, stages, gate)
    assert len(calls) == 1
    p = raw / "interview_guide.md"
    p.write_text(p.read_text() + "\nReach me at someone@example.com\n")
    with pytest.raises(Exception, match="email"):
        runner.check_inputs(ctx, stages, gate)  # a changed input is checked again, and fails
    p.write_text(p.read_text().replace("someone@example.com", "the study team"))
    runner.check_inputs(ctx, stages, gate)
    runner.check_inputs(ctx, stages[:1], gate)  # another selection is another check
    assert len(calls) == 3
    ctx.force = True
    runner.check_inputs(ctx, stages, gate)
    assert len(calls) == 4
