"""Run the pipeline: six papermill-parameterised notebooks, each a stage of a small DAG.

For each stage the runner

1. fingerprints its inputs (the notebook, the parameters, the ``compendium`` package, the raw files and the upstream
   derived files it reads) and skips it when the fingerprint matches the last successful run;
2. executes the notebook with papermill into a *staging* folder beside ``data/derived``;
3. passes everything the stage wrote, and the executed notebook and its HTML, through the de-identification gate;
4. only then moves the outputs into place: a failed stage leaves the last good outputs untouched.

Stages wait only for the stages whose files they read (:func:`upstream`); with ``--jobs`` above 1 independent
stages run side by side (:func:`run_stages`). At the end ``data/derived/MANIFEST.sha256`` lists every derived
file. ``verify`` reruns everything into a temporary folder and compares that manifest with the committed one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import deid, kernels, manifest, parameters, progress, reads, validate
from .errors import InputError
from .report_tables import TABLES as REPORT_TABLES


@dataclass(frozen=True)
class Stage:
    name: str
    notebook: str
    raw_inputs: tuple[str, ...]  # glob patterns relative to the raw folder
    derived_inputs: tuple[str, ...]  # files relative to the derived folder, written by upstream stages
    outputs: tuple[str, ...]  # files, or folders ending in "/", relative to the derived folder
    needs_private: bool = False
    all_cores: bool = False  # it runs its own pool of ``jobs`` workers (the OCR): it keeps every core busy


STAGES: tuple[Stage, ...] = (
    Stage(
        "screenshots",
        "01_screenshots.ipynb",
        ("private/roster.csv", "private/screenshots/*", "deid_allow.yml"),
        (),
        (
            "posts.csv",
            "threads.csv",
            "ocr_quality.csv",
            "ocr_lines.csv",
            "act_labels.csv",
            "ocr_post_quality.csv",
            "redacted/",
        ),
        needs_private=True,
        all_cores=True,
    ),
    Stage(
        "transcripts",
        "02_transcripts.ipynb",
        ("transcripts/*", "fieldnotes/*", "participants.csv", "private/roster.csv"),
        (),
        ("segments.csv",),
    ),
    Stage(
        "coding",
        "03_coding.ipynb",
        (
            "codebook.yml",
            "coding/*",
            "coding/rounds/*",
            "transcripts/*",
            "fieldnotes/*",
            "participants.csv",
            "study.yml",
        ),
        ("segments.csv", "posts.csv", "redacted/"),
        ("coding.csv", "reliability.csv", "code_frequencies.csv", "saturation.csv", "retrieval_audit.csv", "witi.qdpx"),
    ),
    Stage(
        "themes",
        "04_themes.ipynb",
        ("codebook.yml",),
        ("coding.csv", "segments.csv", "posts.csv", "ocr_post_quality.csv", "redacted/"),
        ("themes.csv", "theme_quotes.csv", "code_cooccurrence.csv"),
    ),
    Stage(
        "information_flow",
        "05_information_flow.ipynb",
        ("participants.csv",),
        ("posts.csv", "threads.csv", "act_labels.csv"),
        (
            "interactions.csv",
            "network_metrics.csv",
            "flow_evidence.csv",
            "flow_evidence_hand.csv",
            "act_quality.csv",
            "act_confusion.csv",
        ),
    ),
    Stage(
        "report",
        "06_report.ipynb",
        (
            "study.yml",
            "codebook.yml",
            "participants.csv",
            "coding/*",
            "interview_guide.md",
            "transcripts/*",
            "fieldnotes/*",
            "MANIFEST.sha256",
        ),
        REPORT_TABLES,
        ("figures/", "tables/", "checklists/"),
    ),
)
STAGE_NAMES = tuple(s.name for s in STAGES)
PRIVATE_SCREENSHOTS = "private/screenshots/*"  # without them the screenshots stage keeps its earlier outputs
PATH_PARAMETERS = ("raw_dir", "derived_dir", "out_dir", "cache_dir")


def find_project(start: str | Path | None = None, project: str | Path | None = None, installed: bool = False) -> Path:
    """The compendium folder, the one holding ``notebooks/01_screenshots.ipynb``: ``project`` when given (an
    error if it holds no notebooks), else the nearest such folder at or above ``start`` (the current folder),
    else, with ``installed``, the folder the installed package came from (an editable or source install:
    ``src/compendium/`` two levels below it), so that ``compendium run`` works from any folder."""

    def holds(p: Path) -> bool:
        return (p / "notebooks" / STAGES[0].notebook).is_file()

    if project is not None:
        p = Path(project).expanduser().resolve()
        if not holds(p):
            raise InputError(
                f"no notebooks/{STAGES[0].notebook} here: --project must name the compendium folder "
                "(the one holding notebooks/)",
                project,
            )
        return p
    here = Path(start or os.getcwd()).resolve()
    for p in (here, *here.parents):
        if holds(p):
            return p
    if installed:
        from . import __file__ as package_init

        p = Path(package_init).resolve().parents[2]
        if holds(p):
            return p
        raise InputError(
            "notebooks not found (not inside a compendium folder, and the installed package has none): "
            "pass --project DIR (the folder holding notebooks/)",
            here,
        )
    raise InputError("not inside a compendium folder (no notebooks/01_screenshots.ipynb here or above)", here)


def parse_parameters(items: list[str] | None) -> dict:
    """``["NAME=VALUE", ...]`` -> ``{NAME: "VALUE"}``; values stay text until :func:`check_parameters` reads them
    by the type each notebook declares (:mod:`compendium.parameters`)."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise InputError(f"malformed parameter '{item}': expected NAME=VALUE with NAME a Python identifier", "-p")
        out[name] = value.strip()
    return out


def _package_digest() -> str:
    h = hashlib.sha256()
    pkg = Path(__file__).parent
    for p in sorted(pkg.rglob("*.py")):
        h.update(p.relative_to(pkg).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _raw_files(raw: Path, patterns) -> list[Path]:
    files: set[Path] = set()
    for pat in patterns:
        files.update(p for p in raw.glob(pat) if p.is_file())
    return sorted(files)


@dataclass
class Context:
    project: Path
    raw: Path
    derived: Path
    reports: Path
    cache: Path
    parameters: dict
    jobs: int = 1
    force: bool = False
    quiet: bool = False
    roster: Path | None = None

    @property
    def notebooks(self) -> Path:
        return self.project / "notebooks"

    def log(self, msg: str) -> None:
        if not self.quiet:
            progress.echo(msg)  # a plain print, or above the bars on a terminal (compendium.progress)


# Notebooks run in a temporary workspace of symbolic links, so that the paths they are given (and that the
# executed notebooks and reports show) are short relative names, never a machine's absolute paths.
WORKSPACE = {"raw_dir": "raw", "derived_dir": "derived", "out_dir": "out", "cache_dir": "cache"}


def stage_parameters(ctx: Context, stage: Stage) -> dict:
    known = parameters.declared(ctx.notebooks / stage.notebook)
    params = {**WORKSPACE, "jobs": ctx.jobs}
    params.update(ctx.parameters)
    return {k: v for k, v in params.items() if k in known}


def _workspace(ctx: Context, staging: Path) -> Path:
    ws = Path(tempfile.mkdtemp(prefix="compendium-ws-"))
    targets = {"raw": ctx.raw, "derived": ctx.derived, "out": staging, "cache": ctx.cache}
    ctx.cache.mkdir(parents=True, exist_ok=True)
    for name, target in targets.items():
        (ws / name).symlink_to(Path(target).resolve(), target_is_directory=True)
    return ws


def fingerprint(ctx: Context, stage: Stage, params: dict) -> str:
    h = hashlib.sha256()
    h.update((ctx.notebooks / stage.notebook).read_bytes())
    stable = {k: v for k, v in params.items() if k not in ("out_dir", "jobs", "cache_dir")}
    h.update(json.dumps(stable, sort_keys=True).encode())
    h.update(_package_digest().encode())
    for f in _raw_files(ctx.raw, stage.raw_inputs):
        h.update(f.relative_to(ctx.raw).as_posix().encode())
        h.update(manifest.sha256_file(f).encode())
    for rel in stage.derived_inputs:
        h.update(rel.encode())
        if rel.endswith("/"):  # a folder: every file in it, by name and content
            folder = ctx.derived / rel.rstrip("/")
            for f in sorted(folder.rglob("*")) if folder.is_dir() else []:
                if f.is_file():
                    h.update(f.relative_to(folder).as_posix().encode())
                    h.update(manifest.sha256_file(f).encode())
            continue
        f = ctx.derived / rel
        h.update(manifest.sha256_file(f).encode() if f.is_file() else b"absent")
    return h.hexdigest()


def _outputs_present(root: Path, stage: Stage) -> bool:
    return all((root / o.rstrip("/")).exists() for o in stage.outputs)


def scrub_notebook(nb) -> None:
    """Remove absolute paths and run times that papermill records, so reports say nothing of the machine."""
    pm = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path", "start_time", "end_time", "duration", "environment_variables"):
        pm.pop(key, None)
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives it a random id
        cpm = cell.metadata.get("papermill", {})
        for key in ("start_time", "end_time", "duration"):
            cpm.pop(key, None)
        cell.metadata.get("execution", {}).clear()


def _quiet_kernel_manager(extra_env: dict | None = None):
    """A kernel manager whose kernels' stderr goes nowhere (their log lines, and libzmq's, are not the user's)
    and whose environment carries ``extra_env`` (the stage's read log, :mod:`compendium.reads`)."""
    import subprocess

    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw["stderr"] = subprocess.DEVNULL
            if extra_env:
                kw["env"] = {**(kw.get("env") or os.environ), **extra_env}
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def _execute(
    ctx: Context, stage: Stage, params: dict, out_nb: Path, cwd: Path, env: dict | None = None, km=None
) -> None:
    import papermill

    try:
        # The kernel starts in the workspace (nbclient's resources path), not through papermill's cwd=, which
        # changes the whole process's working directory and so cannot serve two stages running side by side.
        papermill.execute_notebook(
            str(ctx.notebooks / stage.notebook),
            str(out_nb),
            parameters=params,
            resources={"metadata": {"path": str(cwd)}},
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            report_mode=False,
            extra_arguments=KERNEL_ARGUMENTS,
            kernel_manager_class=_quiet_kernel_manager(env),
            km=km,
        )
    except papermill.PapermillExecutionError as e:
        if e.ename == "InputError":
            raise InputError(_user_paths(ctx, e.evalue)) from None
        kept = _keep_failed(ctx, out_nb)
        raise StageFailed(f"stage '{stage.name}' failed in cell {e.exec_count}: {e.ename}: {e.evalue}{kept}") from None
    except Exception as e:  # the kernel died, a timeout, a notebook papermill cannot read ...
        kept = _keep_failed(ctx, out_nb)
        raise StageFailed(f"stage '{stage.name}' failed: {type(e).__name__}: {e}{kept}") from None
    finish_notebook(out_nb)


def finish_notebook(path: Path, site_root: Path | None = None) -> None:
    """Scrub an executed notebook of machine paths and run times (:func:`scrub_notebook`), in place, and write its
    HTML beside it: a page of the report site (:func:`compendium.site.write_page`; ``site_root`` for a page kept
    outside the site's folder)."""
    import nbformat

    from . import site

    nb = nbformat.read(str(path), as_version=4)
    scrub_notebook(nb)
    nbformat.write(nb, str(path))
    site.write_page(nb, path.with_suffix(".html"), site_root)


FAILED = "failed"


def _keep_failed(ctx: Context, out_nb: Path) -> str:
    """Keep the executed notebook of a failed stage as ``REPORTS/failed/NAME.ipynb`` (and its HTML) so the user can
    open it at the failing cell; returns the words that say where it is."""
    if not out_nb.is_file():
        return " (no executed notebook was written)"
    dest = ctx.reports / FAILED / out_nb.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out_nb, dest)
    try:
        finish_notebook(dest, site_root=ctx.reports)
    except Exception:  # noqa: BLE001 - the .ipynb is what matters; the HTML is a convenience
        pass
    return f" (the executed notebook is kept: {_shown(dest)}: open it to see the failing cell and its traceback)"


def _shown(path: Path) -> str:
    """A path as short as the user can use it: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _user_paths(ctx: Context, message: str) -> str:
    """A notebook's error names files by their workspace path (``raw/...``); name them as the user knows them."""
    roots = {"raw": ctx.raw, "derived": ctx.derived, "out": ctx.derived}
    head, sep, rest = message.partition("/")
    return f"{roots[head]}/{rest}" if sep and head in roots else message


class StageFailed(RuntimeError):
    """A notebook failed for a reason other than bad input (a bug): exit status 1."""


def _move_into_place(src_root: Path, dst_root: Path, rel: str) -> None:
    src, dst = src_root / rel.rstrip("/"), dst_root / rel.rstrip("/")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_dir() and not dst.is_symlink():
        trash = dst.with_name(f".old-{dst.name}-{os.getpid()}")
        os.replace(dst, trash)
        os.replace(src, dst)
        shutil.rmtree(trash)
    else:
        os.replace(src, dst)


def _stamp_matches(stamp: Path, fp: str) -> bool:
    """The last successful run had this fingerprint, and every installed distribution the stage imported then
    is at the same version now (:mod:`compendium.reads`)."""
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("fingerprint") != fp:
        return False
    from importlib import metadata

    for dist, version in (data.get("dependencies") or {}).items():
        try:
            if metadata.version(dist) != version:
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


def check_reads(ctx: Context, stage: Stage, rec: reads.Record) -> None:
    """A stage may read only what it declares (else its cache key would miss a file) and never write raw data."""
    if rec.raw_written:
        raise StageFailed(
            f"stage '{stage.name}' wrote into the raw folder ({sorted(rec.raw_written)[0]}); raw data are read only"
        )
    declared = {f.relative_to(ctx.raw).as_posix() for f in _raw_files(ctx.raw, stage.raw_inputs)}
    undeclared = sorted(f"raw {r}" for r in rec.raw_read - declared if (ctx.raw / r).is_file())
    folders = tuple(d for d in stage.derived_inputs if d.endswith("/"))
    undeclared += sorted(
        f"derived {d}"
        for d in rec.derived_read - set(stage.derived_inputs)
        if (ctx.derived / d).is_file() and not d.startswith(folders)
    )
    if undeclared:
        raise StageFailed(
            f"stage '{stage.name}' read {', '.join(undeclared)}, which its declared inputs "
            "(compendium.runner.STAGES) leave out: its cache would not notice a change there"
        )


@dataclass
class Staging:
    """Where one run of a stage writes: derived outputs, executed notebook and HTML, and the workspace of links the
    kernel starts in; with the environment that makes the kernel record what it reads."""

    derived: Path
    reports: Path
    workspace: Path
    env: dict
    raw_roots: list  # where the kernel's raw reads are recorded from (reads.parse)
    derived_roots: list

    def remove(self) -> None:
        shutil.rmtree(self.workspace, ignore_errors=True)  # removes the links, not what they point to
        shutil.rmtree(self.derived, ignore_errors=True)
        shutil.rmtree(self.reports, ignore_errors=True)


def make_staging(ctx: Context, stage: Stage) -> Staging:
    ctx.derived.mkdir(parents=True, exist_ok=True)
    ctx.reports.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{stage.name}-", dir=ctx.derived.parent))
    rstaging = Path(tempfile.mkdtemp(prefix=f".staging-{stage.name}-", dir=ctx.reports))
    ws = _workspace(ctx, staging)
    log = rstaging / ".reads.log"
    raw_roots, derived_roots = [ws / "raw", ctx.raw.resolve()], [ws / "derived", ctx.derived.resolve()]
    env = {
        reads.ENV_LOG: str(log),
        reads.ENV_ROOTS: os.pathsep.join(map(str, raw_roots + derived_roots)),
        progress.ENV: str(ws / progress.FILE_NAME),
    }  # pages read, for a bar on a terminal: never an output
    return Staging(staging, rstaging, ws, env, raw_roots, derived_roots)


@dataclass
class Prestarted:
    """A stage's staging folders and a kernel started in them ahead of the stage (:mod:`compendium.kernels`)."""

    staging: Staging
    kernel: kernels.WarmKernel

    def discard(self) -> None:
        self.kernel.close()
        self.staging.remove()


def prestart(ctx: Context, stage: Stage) -> Prestarted:
    """Start ``stage``'s kernel now, in its own staging folders, loaded with its notebook's imports."""
    staging = make_staging(ctx, stage)
    kernel = kernels.WarmKernel(
        _quiet_kernel_manager(staging.env),
        staging.workspace,
        kernels.preload_code(ctx.notebooks / stage.notebook),
        KERNEL_ARGUMENTS,
    )
    return Prestarted(staging, kernel)


def _stamp_path(ctx: Context, stage: Stage) -> Path:
    """Where the fingerprint and dependency versions of the stage's last successful run are kept."""
    return ctx.reports / ".stamps" / f"{stage.name}.json"


@dataclass(frozen=True)
class Plan:
    """What :func:`plan_stage` decided: the stage's parameters and fingerprint, and ``verdict`` 'skipped' or
    'unavailable' when it need not run (None: it runs)."""

    params: dict
    fingerprint: str
    verdict: str | None = None


def plan_stage(ctx: Context, stage: Stage) -> Plan:
    """Whether ``stage`` must run: its inputs exist, and its fingerprint differs from the last successful run's.
    Called once its upstream stages have finished."""
    if stage.needs_private and not _raw_files(ctx.raw, (PRIVATE_SCREENSHOTS,)):
        if _outputs_present(ctx.derived, stage):
            ctx.log(f"  {stage.name:<17} kept (no private screenshots here; using the de-identified tables)")
            progress.stage_finished(stage.name)
            return Plan({}, "", "unavailable")
        raise InputError(
            f"stage '{stage.name}' needs the private screenshots and there are no earlier outputs", ctx.raw / "private"
        )
    for rel in stage.derived_inputs:
        there = (ctx.derived / rel.rstrip("/")).is_dir() if rel.endswith("/") else (ctx.derived / rel).is_file()
        if not there:
            raise InputError(f"input of stage '{stage.name}' missing (run the upstream stage first)", ctx.derived / rel)
    params = stage_parameters(ctx, stage)
    fp = fingerprint(ctx, stage, params)
    if (
        not ctx.force
        and _stamp_matches(_stamp_path(ctx, stage), fp)
        and (ctx.reports / stage.notebook).is_file()
        and _outputs_present(ctx.derived, stage)
    ):
        ctx.log(f"  {stage.name:<17} skipped (inputs unchanged)")
        progress.stage_finished(stage.name)
        return Plan(params, fp, "skipped")
    return Plan(params, fp)


def run_stage(
    ctx: Context,
    stage: Stage,
    gate: deid.Gate,
    warm: Prestarted | None = None,
    plan: Plan | None = None,
    staging: Staging | None = None,
) -> str:
    """Run one stage; returns 'ran', 'skipped' or 'unavailable'. ``plan`` is :func:`plan_stage`'s, made now if not
    given; ``warm``, a kernel started for the stage ahead of time (:func:`prestart`), is used if the stage runs and
    shut down in any case; ``staging``, folders made for it ahead (so the scheduler can follow its progress file),
    are used when no kernel was, and removed in any case."""
    try:
        plan = plan or plan_stage(ctx, stage)
        return plan.verdict or _execute_stage(ctx, stage, gate, plan, warm, staging)
    finally:
        if warm is not None:
            warm.discard()
        if staging is not None:
            staging.remove()


def _execute_stage(
    ctx: Context, stage: Stage, gate: deid.Gate, plan: Plan, warm: Prestarted | None, staging: Staging | None = None
) -> str:
    stamp = _stamp_path(ctx, stage)
    stamp_dir = stamp.parent
    params, fp = plan.params, plan.fingerprint
    st = warm.staging if warm is not None else staging or make_staging(ctx, stage)
    staging, rstaging, ws = st.derived, st.reports, st.workspace
    log = Path(st.env[reads.ENV_LOG])
    t0 = time.perf_counter()
    if progress.active():
        progress.stage_started(stage.name)
    else:  # no bars: one plain line, so a log shows what runs during a long stage
        ctx.log(f"  {stage.name:<17} started")
    try:
        tmp_nb = rstaging / stage.notebook
        with progress.watch(st.env[progress.ENV]):
            _execute(ctx, stage, params, tmp_nb, ws, st.env, km=warm.kernel.take() if warm is not None else None)
        rec = reads.parse(log, st.raw_roots, st.derived_roots)
        check_reads(ctx, stage, rec)
        missing = [o for o in stage.outputs if not (staging / o.rstrip("/")).exists()]
        if missing:
            raise StageFailed(f"stage '{stage.name}' did not write {', '.join(missing)}")
        log.unlink()
        deid.gate_or_raise(gate, [staging, rstaging], labels={staging: ctx.derived.name, rstaging: ctx.reports.name})
        for o in stage.outputs:
            _move_into_place(staging, ctx.derived, o)
        for name in (stage.notebook, Path(stage.notebook).with_suffix(".html").name):
            _move_into_place(rstaging, ctx.reports, name)
            (ctx.reports / FAILED / name).unlink(missing_ok=True)  # a failure of an earlier run is stale now
        stamp_dir.mkdir(parents=True, exist_ok=True)
        (stamp_dir / f"{stage.name}.sha256").unlink(missing_ok=True)  # the stamp of earlier versions
        stamp.write_text(
            json.dumps({"fingerprint": fp, "dependencies": reads.distributions(rec.modules)}, indent=1, sort_keys=True)
            + "\n",
            encoding="utf-8",
        )
    finally:
        st.remove()
    ctx.log(f"  {stage.name:<17} ran in {time.perf_counter() - t0:.1f} s")
    progress.stage_finished(stage.name)
    return "ran"


def select_stages(only: list[str] | None) -> list[Stage]:
    if not only:
        return list(STAGES)
    unknown = [s for s in only if s not in STAGE_NAMES]
    if unknown:
        raise InputError(f"unknown stage '{unknown[0]}' (stages: {', '.join(STAGE_NAMES)})", "--only")
    return [s for s in STAGES if s.name in only]


def check_parameters(ctx: Context) -> None:
    """Type and check every ``-p`` value against the notebooks' declarations (:mod:`compendium.parameters`), before
    any stage runs; ``ctx.parameters`` then holds the typed values."""
    declared = {s.notebook: parameters.declared(ctx.notebooks / s.notebook) for s in STAGES}
    ctx.parameters = parameters.check(ctx.parameters, declared, ctx.raw, reserved=PATH_PARAMETERS)


def check_paths(ctx: Context) -> None:
    """The output folders are folders, and neither lies inside the raw folder nor holds it: raw data are never
    written (a derived folder inside raw would also break the raw manifest on every later run)."""
    raw = ctx.raw.resolve()
    outs = (("--derived", ctx.derived), ("--reports", ctx.reports), ("--cache", ctx.cache))
    for flag, path in outs:
        if path.exists() and not path.is_dir():
            raise InputError(f"{flag} names a file, not a folder", path)
        p = path.resolve()
        if p == raw or raw in p.parents:
            raise InputError(
                f"{flag} lies inside the raw folder {ctx.raw}; raw data are read only: choose a folder outside it", path
            )
        if p in raw.parents:
            raise InputError(f"the raw folder lies inside {flag}; choose a {flag[2:]} folder beside it", path)
    derived, reports = ctx.derived.resolve(), ctx.reports.resolve()
    if derived == reports or derived in reports.parents or reports in derived.parents:
        raise InputError("--derived and --reports must be separate folders (neither inside the other)", ctx.reports)


def make_gate(ctx: Context) -> deid.Gate:
    """The de-identification gate for this corpus (:func:`compendium.deid.corpus_gate`); a run without a roster
    says so."""
    return deid.corpus_gate(ctx.raw, ctx.roster, say=lambda note: ctx.log(f"compendium run: note: {note}"))


def gate_files(ctx: Context, stages) -> list[Path]:
    """The de-identified raw files ``stages`` read (everything outside ``private/``): what the gate checks."""
    files: set[Path] = set()
    for stage in stages:
        # every declared file, whatever its suffix: a reader that one day opens "P15.text" must not bypass the gate
        files.update(f for f in _raw_files(ctx.raw, stage.raw_inputs) if f.relative_to(ctx.raw).parts[0] != "private")
    return sorted(files)


def gate_inputs(ctx: Context, stages, gate: deid.Gate) -> None:
    """Check every de-identified raw input of ``stages`` before any of them runs."""
    files = gate_files(ctx, stages)
    if files:
        deid.gate_or_raise(gate, files, relative_to=ctx.raw, labels={f: ctx.raw.name for f in files})


def _inputs_key(ctx: Context, stages) -> str:
    """What the input checks depend on: the package's code, the selected stages, and every raw file (the roster
    and the allow-list included) that any of them reads."""
    h = hashlib.sha256(_package_digest().encode())
    h.update(json.dumps(sorted(s.name for s in stages)).encode())
    files = set(_raw_files(ctx.raw, [p for s in stages for p in s.raw_inputs]))
    files.update(f for f in deid.corpus_gate_files(ctx.raw, ctx.roster) if f.is_file())
    for f in sorted(files):
        h.update(str(f.relative_to(ctx.raw) if f.is_relative_to(ctx.raw) else f).encode())
        h.update(manifest.sha256_file(f).encode())
    return h.hexdigest()


def check_inputs(ctx: Context, stages, gate: deid.Gate) -> None:
    """The de-identification gate (:func:`gate_inputs`) and the raw inputs' validation
    (:func:`compendium.validate.validate_raw`) over everything ``stages`` read, before any of them runs. Both are
    pure functions of the files and the code, so a pass is remembered (``REPORTS/.stamps/inputs.sha256``) and not
    repeated while nothing they depend on has changed (a rerun with nothing to do stays quick)."""
    stamp = ctx.reports / ".stamps" / "inputs.sha256"
    key = _inputs_key(ctx, stages)
    if not ctx.force and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == key:
        return
    gate_inputs(ctx, stages, gate)
    validate.validate_raw(ctx.raw, [s.name for s in stages])
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(key + "\n", encoding="utf-8")


_WRITER = {o.rstrip("/"): s.name for s in STAGES for o in s.outputs}  # derived file or folder -> its stage


def upstream(stage: Stage, stages) -> set[str]:
    """Names of the stages among ``stages`` that write a file ``stage`` reads: it starts after they finish."""
    names = {s.name for s in stages}
    return {_WRITER[d.rstrip("/")] for d in stage.derived_inputs if _WRITER.get(d.rstrip("/")) in names}


def run_stages(ctx: Context, stages: list[Stage], gate: deid.Gate) -> dict[str, str]:
    """Run ``stages`` as the DAG allows. With ``ctx.jobs`` 1, one after another in pipeline order; with more,
    up to ``ctx.jobs`` stages side by side (the transcripts while the screenshots are read, the information flow
    beside the coding), each starting, in pipeline order, once its upstream stages have finished. After a
    failure no stage starts; those running finish (each is all or nothing) and the first error is raised."""
    if ctx.jobs <= 1 or len(stages) <= 1:
        return {s.name: run_stage(ctx, s, gate) for s in stages}
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    needs = {s.name: upstream(s, stages) for s in stages}
    pending, running, results, error = list(stages), {}, {}, None
    warm: dict[str, Prestarted] = {}
    tallies: dict[str, progress.Tally] = {}  # stage -> its progress file, for stages with a pool of their own
    workers = min(ctx.jobs, len(stages))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stage") as pool:
            while pending or running:
                # Stages whose upstream has finished are planned here (a skip is decided at once, without a
                # thread or a kernel) and those that must run are started, in pipeline order, as slots allow.
                ready = [s for s in pending if needs[s.name] <= results.keys()] if error is None else []
                while ready and len(running) < workers:
                    s = ready.pop(0)
                    pending.remove(s)
                    try:
                        plan = plan_stage(ctx, s)
                    except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others finish
                        error = error or exc
                        ready = []
                        continue
                    if plan.verdict:
                        results[s.name] = plan.verdict
                        if s.name in warm:
                            warm.pop(s.name).discard()
                        ready = [t for t in pending if needs[t.name] <= results.keys()]
                        continue
                    kernel, staging = warm.pop(s.name, None), None
                    if s.all_cores and kernel is None:  # its pages read tell when cores fall idle
                        staging = make_staging(ctx, s)
                        tallies[s.name] = progress.Tally(staging.env[progress.ENV])
                    running[pool.submit(run_stage, ctx, s, gate, kernel, plan, staging)] = s
                if not running:
                    if pending and error is None and any(needs[t.name] <= results.keys() for t in pending):
                        continue
                    break
                if error is None:
                    _prestart_next(ctx, pending, running, needs, results, warm, tallies)
                # a stage with a pool of its own frees cores as its last pages are read: look again soon
                watching = error is None and any(s.all_cores for s in running.values())
                finished, _ = wait(running, timeout=POLL_SECONDS if watching else None, return_when=FIRST_COMPLETED)
                for fut in sorted(finished, key=lambda f: STAGE_NAMES.index(running[f].name)):
                    s = running.pop(fut)
                    try:
                        results[s.name] = fut.result()
                    except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others finish
                        error = error or exc
    finally:
        for w in warm.values():
            w.discard()
    if error is not None:
        raise error
    return {s.name: results[s.name] for s in stages}


PRESTARTED_AT_ONCE = 2  # each warm kernel holds a few hundred MB
PRESTARTED_BESIDE_POOL = 1  # ... and a pool of OCR workers holds most of the memory while it runs
POLL_SECONDS = 0.25  # how often the scheduler looks at a pooled stage's progress


def cores_in_use(stage: Stage, jobs: int, tally: progress.Tally | None = None) -> int:
    """The cores a running stage keeps busy: one, or for a stage with its own pool of ``jobs`` workers (the OCR)
    all of them until fewer steps (pages) are left than workers, then one per step left (at least one: the
    kernel itself goes on after the last page)."""
    if not stage.all_cores:
        return 1
    counts = tally.poll() if tally is not None else {}
    if not counts:
        return jobs
    left = sum(total - done for done, total, _ in counts.values())
    return max(1, min(jobs, left))


def prestart_candidates(pending, running_names: set[str], done: set[str], needs: dict) -> list:
    """The pending stages, in pipeline order, that wait only for stages now running, done or themselves
    candidates, and for at least one that is not done (a stage that waits for nothing is started, not warmed):
    the next stages the run will start. Two steps ahead is allowed (the report, while the themes' kernel is
    warmed and the coding still runs), so each kernel has its imports loaded by the time its stage starts."""
    out: list = []
    near = set(running_names) | set(done)
    for s in pending:
        if needs[s.name] <= near and needs[s.name] - set(done):
            out.append(s)
            near.add(s.name)
    return out


def _prestart_next(ctx: Context, pending, running, needs, results, warm: dict, tallies: dict | None = None) -> None:
    """Start, ahead of time, the kernels of the next stages (:func:`prestart_candidates`) so that each starts the
    moment its upstream finishes (:mod:`compendium.kernels`); but only while a core is idle (:func:`cores_in_use`):
    a kernel started beside busy stages would only slow them down. At most :data:`PRESTARTED_AT_ONCE` warm
    kernels, :data:`PRESTARTED_BESIDE_POOL` while a pooled stage runs. Nothing is started when no stage runs."""
    tallies = tallies or {}
    if not running:
        return
    busy = sum(cores_in_use(s, ctx.jobs, tallies.get(s.name)) for s in running.values())
    if busy >= ctx.jobs:
        return
    limit = PRESTARTED_BESIDE_POOL if any(s.all_cores for s in running.values()) else PRESTARTED_AT_ONCE
    names = {s.name for s in running.values()}
    for s in prestart_candidates(pending, names, set(results), needs):
        if len(warm) >= limit:
            return
        if s.name not in warm:
            warm[s.name] = prestart(ctx, s)


def run(ctx: Context, only: list[str] | None = None) -> dict[str, str]:
    """Run the selected stages (see :func:`run_stages`); returns ``{stage: 'ran'|'skipped'|'unavailable'}``."""
    stages = select_stages(only)
    if not (ctx.raw / manifest.MANIFEST_NAME).is_file() and ctx.raw.is_dir():
        raise InputError(
            f"{manifest.MANIFEST_NAME} missing: raw data are checked against it before any stage runs", ctx.raw
        )
    check_paths(ctx)
    manifest.check_raw(ctx.raw)
    check_parameters(ctx)
    gate = make_gate(ctx)
    check_inputs(ctx, stages, gate)
    ctx.log(f"compendium run: raw={ctx.raw} derived={ctx.derived} reports={ctx.reports}")
    with progress.terminal(len(stages), enabled=progress.wanted(ctx.quiet)):  # bars on a terminal only
        results = run_stages(ctx, stages, gate)
    if any(v == "ran" for v in results.values()) or not (ctx.derived / manifest.MANIFEST_NAME).is_file():
        manifest.write(ctx.derived)
    from . import site

    site.build(ctx.reports, ctx.derived, ctx.raw)  # REPORTS/index.html, and the pages' navigation
    return results


def verify(ctx: Context) -> manifest.Comparison:
    """Rerun every stage into a temporary folder and compare with ``derived/MANIFEST.sha256``."""
    expected = manifest.read(ctx.derived / manifest.MANIFEST_NAME)
    with tempfile.TemporaryDirectory(prefix="compendium-verify-") as tmp:
        tmp = Path(tmp)
        fresh = Context(
            ctx.project,
            ctx.raw,
            tmp / "derived",
            tmp / "reports",
            ctx.cache,
            dict(ctx.parameters),
            jobs=ctx.jobs,
            force=True,
            quiet=ctx.quiet,
            roster=ctx.roster,
        )
        if not _raw_files(ctx.raw, (PRIVATE_SCREENSHOTS,)):
            # Without the private screenshots the first stage cannot rerun: start from its committed outputs.
            fresh.derived.mkdir(parents=True)
            for o in STAGES[0].outputs:
                src = ctx.derived / o.rstrip("/")
                if src.is_dir():
                    shutil.copytree(src, fresh.derived / o.rstrip("/"))
                elif src.is_file():
                    shutil.copy2(src, fresh.derived / o)
        run(fresh)
        actual = manifest.compute(fresh.derived)
    return manifest.compare(expected, actual)
