"""The runner's schedule: which stage waits for which, and stages side by side under --jobs.

The stages themselves are replaced by a fake that records when each starts and ends, so these tests check the
schedule alone (the whole pipeline with --jobs 2 is run for real in tests/test_pipeline.py).
"""

from __future__ import annotations

import threading
import time

import pytest

from compendium import progress, runner
from compendium.errors import InputError


def test_upstream_follows_the_files_each_stage_reads():
    up = {s.name: runner.upstream(s, runner.STAGES) for s in runner.STAGES}
    assert up["screenshots"] == set() and up["transcripts"] == set()
    assert up["coding"] == {"screenshots", "transcripts"}
    assert up["themes"] == {"screenshots", "transcripts", "coding"}
    assert up["information_flow"] == {"screenshots"}
    assert up["report"] == set(runner.STAGE_NAMES) - {"report"}
    # a stage not selected is not waited for: its committed outputs are read as they are
    assert runner.upstream(runner.STAGES[2], runner.STAGES[2:]) == set()


class FakeStages:
    """Stands in for run_stage: each stage sleeps a little; the log says when each started and ended."""

    def __init__(self, seconds=None, fail=None, steps=None):
        self.seconds = seconds or {}
        self.fail = fail
        self.steps = steps or {}  # stage -> (steps written at once, of a total), as the OCR writes pages read
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, ctx, stage, gate, warm=None, plan=None, staging=None):
        with self.lock:
            self.events.append(("start", stage.name))
        if stage.name in self.steps:
            assert staging is not None, "a pooled stage gets its staging folders from the scheduler"
            done, total = self.steps[stage.name]
            for _ in range(done):
                with open(staging.env[progress.ENV], "a") as f:
                    f.write(f"OCR\t{total}\tpages\n")
        time.sleep(self.seconds.get(stage.name, 0.05))
        if staging is not None:
            staging.remove()
        with self.lock:
            self.events.append(("end", stage.name))
        if warm is not None:  # as run_stage: a kernel handed over is shut when the stage ends
            warm.discard()
        if stage.name == self.fail:
            raise InputError("planted failure", stage.name)
        return "ran"

    def index(self, kind, name):
        return self.events.index((kind, name))


class FakeWarm:
    """Stands in for a prestarted kernel: records that it was made and discarded."""

    def __init__(self, log, name):
        self.log, self.name = log, name
        log.append(("prestart", name))

    def discard(self):
        self.log.append(("discard", self.name))


@pytest.fixture(autouse=True)
def planned(monkeypatch):
    """Every stage is planned to run (no fingerprints here), and prestarts are recorded, not real kernels."""
    log: list[tuple[str, str]] = []
    skip: set[str] = set()

    def plan(ctx, stage):
        return runner.Plan({}, "", "skipped" if stage.name in skip else None)

    monkeypatch.setattr(runner, "plan_stage", plan)
    monkeypatch.setattr(runner, "prestart", lambda ctx, stage: FakeWarm(log, stage.name))
    return log, skip


def _ctx(tmp_path, jobs):
    return runner.Context(
        tmp_path,
        tmp_path / "raw",
        tmp_path / "derived",
        tmp_path / "reports",
        tmp_path / "cache",
        {},
        jobs=jobs,
        quiet=True,
    )


def test_one_job_runs_the_stages_one_after_another_in_order(tmp_path, monkeypatch):
    fake = FakeStages()
    monkeypatch.setattr(runner, "run_stage", fake)
    out = runner.run_stages(_ctx(tmp_path, 1), list(runner.STAGES), gate=None)
    assert list(out) == list(runner.STAGE_NAMES) and set(out.values()) == {"ran"}
    assert fake.events == [(k, n) for n in runner.STAGE_NAMES for k in ("start", "end")]


def test_two_jobs_run_independent_stages_side_by_side_and_respect_the_dag(tmp_path, monkeypatch):
    fake = FakeStages(seconds={"screenshots": 0.4, "coding": 0.3})
    monkeypatch.setattr(runner, "run_stage", fake)
    out = runner.run_stages(_ctx(tmp_path, 2), list(runner.STAGES), gate=None)
    assert list(out) == list(runner.STAGE_NAMES)  # results in pipeline order whatever the finishing order
    i = fake.index
    assert i("start", "transcripts") < i("end", "screenshots")  # side by side
    assert i("start", "information_flow") < i("end", "coding")  # side by side
    for stage in runner.STAGES:
        for dep in runner.upstream(stage, runner.STAGES):
            assert i("end", dep) < i("start", stage.name), (dep, stage.name)
    assert i("end", "screenshots") < i("start", "coding") < i("start", "information_flow")  # ready: in order


def test_a_failure_lets_the_running_stage_finish_and_starts_nothing_downstream(tmp_path, monkeypatch):
    fake = FakeStages(seconds={"screenshots": 0.4, "transcripts": 0.05}, fail="transcripts")
    monkeypatch.setattr(runner, "run_stage", fake)
    with pytest.raises(InputError, match="planted failure"):
        runner.run_stages(_ctx(tmp_path, 2), list(runner.STAGES), gate=None)
    started = {n for k, n in fake.events if k == "start"}
    assert started == {"screenshots", "transcripts"}
    assert ("end", "screenshots") in fake.events  # not abandoned half-way


def test_a_waiting_stage_gets_its_kernel_started_on_a_core_left_idle(tmp_path, monkeypatch, planned):
    log, _ = planned
    fake = FakeStages(seconds={"screenshots": 0.3, "transcripts": 0.05, "coding": 0.3, "themes": 0.2})
    monkeypatch.setattr(runner, "run_stage", fake)
    runner.run_stages(_ctx(tmp_path, 2), list(runner.STAGES), gate=None)
    prestarted = [n for k, n in log if k == "prestart"]
    # not beside the screenshots (their OCR pool takes both cores), nor beside two running stages: themes is
    # started while coding runs alone, the report while the themes run; each once, and shut after use
    assert prestarted == ["themes", "report"]
    assert sorted(prestarted) == sorted(n for k, n in log if k == "discard")


def test_a_pooled_stage_frees_a_core_for_a_kernel_when_fewer_pages_are_left_than_workers(
    tmp_path, monkeypatch, planned
):
    log, _ = planned
    fake = FakeStages(seconds={"screenshots": 0.8, "transcripts": 0.05}, steps={"screenshots": (34, 35)})
    monkeypatch.setattr(runner, "run_stage", fake)
    runner.run_stages(_ctx(tmp_path, 2), list(runner.STAGES), gate=None)
    prestarted = [n for k, n in log if k == "prestart"]
    # one page left of 35 on two workers: one core is idle, and the coding's kernel is warmed on it (one only,
    # beside the pool), before the screenshots end
    assert prestarted[0] == "coding"
    assert ("end", "screenshots") in fake.events
    assert sorted(prestarted) == sorted(n for k, n in log if k == "discard")
    assert not list(tmp_path.glob(".staging-*"))  # the pooled stage's staging folders are removed


def test_a_pooled_stage_with_pages_for_every_worker_leaves_no_core_idle(tmp_path, monkeypatch, planned):
    log, _ = planned
    fake = FakeStages(seconds={"screenshots": 0.6, "transcripts": 0.05}, steps={"screenshots": (10, 35)})
    monkeypatch.setattr(runner, "run_stage", fake)
    runner.run_stages(_ctx(tmp_path, 2), list(runner.STAGES), gate=None)
    assert "coding" not in [n for k, n in log if k == "prestart"]


def test_cores_in_use_and_the_candidates_two_steps_ahead(tmp_path):
    shots, coding = runner.STAGES[0], runner.STAGES[2]
    f = tmp_path / "progress"
    tally = progress.Tally(f)
    assert runner.cores_in_use(coding, 2) == 1 and runner.cores_in_use(shots, 2, tally) == 2  # nothing read yet
    f.write_text("OCR\t3\tpages\n" * 2)
    assert runner.cores_in_use(shots, 2, tally) == 1 and runner.cores_in_use(shots, 4, progress.Tally(f)) == 1
    f.write_text("OCR\t3\tpages\n" * 3)
    assert runner.cores_in_use(shots, 2, progress.Tally(f)) == 1  # all read: the kernel goes on, on one core
    needs = {s.name: runner.upstream(s, runner.STAGES) for s in runner.STAGES}
    pending = list(runner.STAGES[2:])
    names = [
        s.name
        for s in runner.prestart_candidates(
            pending, {"coding"}, {"screenshots", "transcripts", "information_flow"}, needs
        )
    ]
    assert names == ["themes", "report"]
    names = [s.name for s in runner.prestart_candidates(pending, {"screenshots"}, {"transcripts"}, needs)]
    assert names == ["coding", "themes", "information_flow", "report"]


def test_with_one_job_no_kernel_is_prestarted(tmp_path, monkeypatch, planned):
    log, _ = planned
    monkeypatch.setattr(runner, "run_stage", FakeStages())
    runner.run_stages(_ctx(tmp_path, 1), list(runner.STAGES), gate=None)
    assert log == []


def test_a_skipped_stage_takes_no_thread_and_its_prestarted_kernel_is_shut(tmp_path, monkeypatch, planned):
    log, skip = planned
    skip.update({"screenshots", "transcripts", "coding"})
    fake = FakeStages(seconds={"information_flow": 0.3})
    monkeypatch.setattr(runner, "run_stage", fake)
    out = runner.run_stages(_ctx(tmp_path, 2), list(runner.STAGES), gate=None)
    assert [out[n] for n in ("screenshots", "transcripts", "coding")] == ["skipped"] * 3
    started = {n for k, n in fake.events if k == "start"}
    assert started == {"information_flow", "themes", "report"}


def test_nothing_is_prestarted_when_every_stage_is_skipped(tmp_path, monkeypatch, planned):
    log, skip = planned
    skip.update(runner.STAGE_NAMES)
    fake = FakeStages()
    monkeypatch.setattr(runner, "run_stage", fake)
    out = runner.run_stages(_ctx(tmp_path, 2), list(runner.STAGES), gate=None)
    assert set(out.values()) == {"skipped"} and fake.events == [] and log == []


def test_prestarted_kernels_are_shut_after_a_failure(tmp_path, monkeypatch, planned):
    log, _ = planned
    fake = FakeStages(seconds={"coding": 0.3, "information_flow": 0.05}, fail="coding")
    monkeypatch.setattr(runner, "run_stage", fake)
    with pytest.raises(InputError):
        runner.run_stages(_ctx(tmp_path, 2), list(runner.STAGES), gate=None)
    # waiting for coding, which failed (the report two steps behind it)
    assert [n for k, n in log if k == "prestart"] == ["themes", "report"]
    assert [n for k, n in log if k == "discard"] == ["themes", "report"]
    assert "themes" not in {n for k, n in fake.events}


def test_the_report_stage_declares_exactly_the_tables_the_report_loads():
    from compendium import report

    stage = next(s for s in runner.STAGES if s.name == "report")
    assert tuple(stage.derived_inputs) == report.TABLES
    flow_stage = next(s for s in runner.STAGES if s.name == "information_flow")
    assert "flow_evidence_hand.csv" in flow_stage.outputs and "flow_evidence_hand.csv" in report.TABLES
