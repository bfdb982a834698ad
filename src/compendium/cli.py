"""The ``compendium`` command.

Bad input (a missing folder, a changed raw file, an unknown stage, a malformed parameter, a corrupt image, an
unknown code ...) prints one line ``compendium: FILE[:LINE]: what is wrong`` and exits with status 2; a bug in a
stage exits with status 1. ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import InputError

EPILOG = "Stages: screenshots, transcripts, coding, themes, information_flow, report."


def _paths(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--raw",
        default=None,
        help="raw data folder (default: data/raw inside the compendium folder; required elsewhere)",
    )
    p.add_argument(
        "--derived",
        default=None,
        help="derived data folder (default: data/derived inside the compendium folder; required elsewhere)",
    )
    p.add_argument(
        "--reports",
        default=None,
        help="executed notebooks and HTML (default: reports inside the compendium folder, else DERIVED/../reports)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="parallel workers: OCR processes, and independent stages side by side (default: 1)",
    )
    p.add_argument(
        "--cache",
        default=None,
        metavar="DIR",
        help="cache folder for OCR results (default: .cache in the compendium folder, or "
        "DERIVED/../.cache when run from another folder)",
    )
    p.add_argument(
        "--project",
        default=None,
        metavar="DIR",
        help="the compendium folder holding notebooks/ (default: the one at or above the current "
        "folder, else the one the installed package came from)",
    )
    p.add_argument(
        "-p",
        dest="params",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a notebook parameter (repeatable), e.g. -p ocr_engine=rapidocr",
    )


def build_parser() -> argparse.ArgumentParser:
    # --debug is accepted before or after the command; SUPPRESS keeps a subcommand from resetting it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    parser = argparse.ArgumentParser(
        prog="compendium",
        parents=[common],
        description="Reproducible research compendium for the WITI digital ethnography (ships a SYNTHETIC corpus).",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"compendium {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "run",
        parents=[common],
        help="execute the notebooks in order with papermill",
        description="Execute the pipeline's notebooks in order, skipping stages whose inputs did not change.",
        epilog=EPILOG,
    )
    _paths(p)
    p.add_argument("--only", nargs="+", metavar="STAGE", help="run only these stages")
    p.add_argument("--force", action="store_true", help="rerun stages even if their inputs did not change")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")

    p = sub.add_parser(
        "verify",
        parents=[common],
        help="rerun into a temporary folder and compare with data/derived/MANIFEST.sha256",
        description="Rerun the whole pipeline into a temporary folder and compare every file with "
        "data/derived/MANIFEST.sha256; exit 1 on any difference.",
    )
    _paths(p)
    p.add_argument("--quiet", action="store_true", help="print only the differences")

    p = sub.add_parser(
        "init",
        parents=[common],
        help="write the skeleton of a new study's raw data folder",
        description="Write DIR/raw: a small FICTITIOUS template study (study facts, interview guide, "
        "two participants and their transcripts, a field note, a codebook, two coders' "
        "coding, a private roster and screenshot) with its MANIFEST.sha256, ready to "
        "run with: compendium run --raw DIR/raw --derived DIR/derived. Replace each file "
        "with your study's (DIR/raw/README.md says what each is), then rewrite the "
        "manifest with: compendium manifest DIR/raw.",
    )
    p.add_argument("dir", help="the new study's folder (must be absent or empty)")

    p = sub.add_parser(
        "synth",
        parents=[common],
        help="write a complete synthetic data/raw tree",
        description="Write a complete synthetic raw-data tree. The defaults reproduce the committed "
        "data/raw byte for byte.",
    )
    p.add_argument("--out", required=True, help="folder to write (must be empty or absent)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the committed corpus's)")
    p.add_argument("--scale", type=int, default=1, metavar="K", help="K times the default corpus (default: 1)")
    p.add_argument(
        "--scenario",
        choices=("default", "centralised"),
        default="default",
        help="centralised: the same design as a tutor-led community, where three senior members give "
        "almost every answer (to check that the evidence can say so); default: the committed corpus",
    )

    p = sub.add_parser("deid", parents=[common], help="de-identification tools")
    dsub = p.add_subparsers(dest="deid_command", metavar="SUBCOMMAND")
    s = dsub.add_parser(
        "scan",
        parents=[common],
        help="list file:line of every identifier found (exit 1 if any)",
        description="Scan files or folders for roster identifiers (display names, handles, "
        "aliases) and identifier patterns (e-mail, phone, NRIC/FIN, matriculation "
        "number, profile URL, @handle), whatever their case, Unicode form or "
        "spacing. Prints file:line: kind 'X***' (masked) and exits 1 if anything is "
        "found; a roster that cannot be read is an error (exit 2). See docs/deid.md.",
    )
    s.add_argument("paths", nargs="+", metavar="PATH")
    who = s.add_mutually_exclusive_group()
    who.add_argument(
        "--roster",
        default=None,
        metavar="FILE",
        help=f"roster.csv (default: {DEID_ROSTER} under the current folder; it must be readable)",
    )
    who.add_argument(
        "--no-roster",
        action="store_true",
        help="scan for identifier patterns only: names, handles and aliases are not checked",
    )
    s.add_argument(
        "--allow",
        default=None,
        metavar="FILE",
        help=f"allow-list of reviewed false positives, each with a reason (default: {DEID_ALLOW}, if present)",
    )

    p = sub.add_parser(
        "manifest",
        parents=[common],
        help="rewrite a raw folder's MANIFEST.sha256 after an edit",
        description="Rewrite DIR/MANIFEST.sha256 from the files now in DIR (sha256sum format, sorted). "
        "For a copy of the raw data that you changed on purpose; the committed data/raw "
        "is refused.",
    )
    p.add_argument("dir", help="the raw folder (the one holding MANIFEST.sha256)")
    p.add_argument("--force", action="store_true", help="also rewrite the committed data/raw manifest")

    p = sub.add_parser("export", parents=[common], help="export a REFI-QDA project")
    esub = p.add_subparsers(dest="export_format", metavar="FORMAT")
    e = esub.add_parser(
        "qdpx",
        parents=[common],
        help="write a REFI-QDA .qdpx project",
        description="Write the sources, codebook and every coder's codings as a REFI-QDA "
        "project (NVivo, ATLAS.ti, MAXQDA, QualCoder).",
    )
    e.add_argument("file")
    e.add_argument("--raw", default="data/raw")
    e.add_argument("--derived", default="data/derived")
    e.add_argument(
        "--pages",
        choices=("picture", "text"),
        default="picture",
        help="screenshot pages as redacted pictures with a region per coded post (default), or as text "
        "built from their posts, for tools that read text only (qc)",
    )
    e.add_argument(
        "--themes-as-codes",
        action="store_true",
        help="also write each theme as a top-level code holding its codes (for tools that drop sets)",
    )

    p = sub.add_parser("import", parents=[common], help="import a REFI-QDA project")
    isub = p.add_subparsers(dest="import_format", metavar="FORMAT")
    i = isub.add_parser(
        "qdpx",
        parents=[common],
        help="read a .qdpx into codebook.yml and coding CSVs",
        description="Read a REFI-QDA project (NVivo, ATLAS.ti, MAXQDA, QualCoder, qc): writes "
        "codebook.yml, one coding CSV per user, participants.csv (cases) and sources.csv "
        "(how each source was named). Nothing is written when the file has a problem.",
    )
    i.add_argument("file")
    i.add_argument("--out", required=True)
    i.add_argument(
        "--raw", default=None, help="a raw data folder: match the project's sources to its transcripts and field notes"
    )
    return parser


def _context(args, force: bool = False):
    """The run's folders. The notebooks come from ``--project``, else the compendium folder at or above the
    current folder, else the installed package's (:func:`compendium.runner.find_project`). Inside the compendium
    folder ``--raw``, ``--derived`` and ``--reports`` default to data/raw, data/derived and reports there, as
    always; from another folder ``--raw`` and ``--derived`` must be given (the defaults would point into the
    compendium's committed data), and the reports and cache go beside the derived folder."""
    from . import runner

    cwd = Path.cwd()
    project = runner.find_project(cwd, project=getattr(args, "project", None), installed=True)
    inside = cwd.resolve().is_relative_to(project)
    if inside:
        args.raw = args.raw if args.raw is not None else "data/raw"
        args.derived = args.derived if args.derived is not None else "data/derived"
        args.reports = args.reports if args.reports is not None else "reports"
    else:
        missing = [flag for flag, value in (("--raw", args.raw), ("--derived", args.derived)) if value is None]
        if missing:
            raise InputError(
                f"{' and '.join(missing)} required when run outside the compendium folder "
                f"({project}): pass e.g. --raw DIR/raw --derived DIR/derived (reports and cache go "
                "beside DERIVED)",
                missing[0],
            )
    raw = (cwd / args.raw).resolve()
    if not raw.is_dir():
        raise InputError("raw data folder not found", args.raw)
    if args.jobs < 1:
        raise InputError(f"--jobs must be at least 1, not {args.jobs}", "--jobs")
    derived = (cwd / args.derived).resolve()
    reports = (cwd / args.reports).resolve() if args.reports is not None else derived.parent / "reports"
    if args.cache:
        cache = (cwd / args.cache).resolve()
    else:
        cache = (project / ".cache").resolve() if inside else derived.parent / ".cache"
    return runner.Context(
        project=project,
        raw=raw,
        derived=derived,
        reports=reports,
        cache=cache,
        parameters=runner.parse_parameters(args.params),
        jobs=args.jobs,
        force=force or getattr(args, "force", False),
        quiet=getattr(args, "quiet", False),
    )


def cmd_run(args) -> int:
    from . import runner

    ctx = _context(args)
    runner.select_stages(args.only)
    runner.run(ctx, args.only)
    return 0


def cmd_verify(args) -> int:
    from . import manifest, runner

    ctx = _context(args, force=True)
    if not (ctx.derived / manifest.MANIFEST_NAME).is_file():
        raise InputError("no manifest to verify against", ctx.derived / manifest.MANIFEST_NAME)
    cmp = runner.verify(ctx)
    for line in cmp.lines():
        print(line)
    if cmp.ok:
        print(f"verify: OK, every file in {args.derived} reproduced byte for byte")
        return 0
    print(f"verify: {len(cmp.lines())} difference(s) from {args.derived}/{manifest.MANIFEST_NAME}", file=sys.stderr)
    return 1


def cmd_init(args) -> int:
    from . import study_init

    raw = study_init.init(args.dir)
    print(
        f"init: wrote a fictitious template study to {raw} (replace its files with your study's, see "
        f"{raw / 'README.md'}); run it with: compendium run --raw {raw} --derived {Path(args.dir) / 'derived'}"
    )
    return 0


def cmd_synth(args) -> int:
    from . import synth

    out = Path(args.out)
    if args.scale < 1:
        raise InputError(f"--scale must be at least 1, not {args.scale}", "--scale")
    synth.write_corpus(
        out, seed=synth.DEFAULT_SEED if args.seed is None else args.seed, scale=args.scale, scenario=args.scenario
    )
    print(f"synth: wrote a synthetic corpus to {out}")
    return 0


DEID_ROSTER = "data/raw/private/roster.csv"
DEID_ALLOW = "data/raw/deid_allow.yml"


def cmd_deid(args) -> int:
    from . import deid

    if args.deid_command != "scan":
        raise InputError("usage: compendium deid scan PATH ...", "deid")
    if args.no_roster:
        roster = None
    else:
        roster = Path(args.roster or DEID_ROSTER)
        if not roster.is_file():
            what = "roster not found" if not roster.exists() else "roster is not a file"
            raise InputError(f"{what}: pass --roster FILE, or --no-roster to scan for patterns only", roster)
    allow = Path(args.allow or DEID_ALLOW)
    if args.allow and not allow.is_file():
        raise InputError("allow-list not found", allow)
    gate = deid.load_gate(roster, allow if allow.is_file() else None)
    only = " (patterns only)" if not gate.has_roster else ""
    if not gate.has_roster:
        why = "--no-roster" if args.no_roster else f"no members in {roster}"
        print(f"deid: patterns only ({why}): display names, handles and aliases are not checked", file=sys.stderr)
    hits = gate.scan_paths(args.paths)
    for h in hits:
        print(h.format())
    if hits:
        print(f"deid: {len(hits)} identifier(s) found{only}", file=sys.stderr)
        return 1
    print(f"deid: no identifiers found{only}")
    return 0


def cmd_export(args) -> int:
    from . import qdpx

    if args.export_format != "qdpx":
        raise InputError("usage: compendium export qdpx FILE", "export")
    import os
    import tempfile

    from . import deid

    dest, raw = Path(args.file), Path(args.raw)
    if not raw.is_dir():
        raise InputError("raw data folder not found", args.raw)
    if raw.resolve() in dest.resolve().parents:
        raise InputError("the project would be written inside the raw folder; raw data are read only", dest)
    if dest.is_dir():
        raise InputError("names a folder; give the .qdpx file to write", dest)
    gate = deid.corpus_gate(raw, say=lambda note: print(f"export: note: {note}", file=sys.stderr))
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".qdpx", dir=dest.parent)
    os.close(fd)
    try:
        qdpx.export_from_folders(
            raw, Path(args.derived), Path(tmp), pages=args.pages, themes_as_codes=args.themes_as_codes
        )
        deid.gate_or_raise(gate, [Path(tmp)], labels={Path(tmp): str(dest)})
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"export: wrote {args.file}")
    return 0


def cmd_import(args) -> int:
    from . import qdpx_import

    if args.import_format != "qdpx":
        raise InputError("usage: compendium import qdpx FILE --out DIR", "import")
    src = Path(args.file)
    if not src.is_file():
        raise InputError("no such file", src)
    if args.raw is not None and not Path(args.raw).is_dir():
        raise InputError("raw data folder not found", args.raw)
    imported = qdpx_import.read(src, args.raw)
    for w in imported.warnings:
        print(f"import: warning: {w}", file=sys.stderr)
    written = qdpx_import.write(imported, Path(args.out))
    n_coders = len(written) - 2 - (imported.participants is not None)
    print(
        f"import: wrote codebook.yml ({len(imported.codebook.codes)} codes), {n_coders} coding file(s) "
        f"({len(imported.codings)} codings), "
        + (f"participants.csv ({len(imported.participants)} cases), " if imported.participants is not None else "")
        + f"sources.csv ({len(imported.sources)} sources) to {args.out}"
    )
    return 0


def cmd_manifest(args) -> int:
    from . import manifest

    raw = Path(args.dir)
    if not raw.is_dir():
        raise InputError("raw data folder not found", raw)
    if not (raw / manifest.MANIFEST_NAME).is_file() and not (raw / "study.yml").is_file():
        raise InputError(f"neither {manifest.MANIFEST_NAME} nor study.yml here: not a raw data folder", raw)
    try:
        from .runner import find_project

        committed = (find_project(Path.cwd()) / "data" / "raw").resolve()
    except InputError:
        committed = None
    if committed is not None and raw.resolve() == committed and not args.force:
        raise InputError(
            "this is the committed raw data, which must not change; edit a copy "
            "(cp -r data/raw /tmp/raw) and rewrite that copy's manifest (or pass --force)",
            raw,
        )
    path = manifest.write(raw)
    n = len(manifest.read(path))
    print(f"manifest: wrote {path} ({n} files)")
    return 0


COMMANDS = {
    "run": cmd_run,
    "verify": cmd_verify,
    "synth": cmd_synth,
    "deid": cmd_deid,
    "export": cmd_export,
    "import": cmd_import,
    "manifest": cmd_manifest,
    "init": cmd_init,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.debug = getattr(args, "debug", False)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except InputError as e:
        if args.debug:
            raise
        print(f"compendium: {e.format()}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug, not bad input
        from .runner import StageFailed

        if args.debug:
            raise
        if isinstance(e, StageFailed):
            print(f"compendium: {e}", file=sys.stderr)
        else:
            print(
                f"compendium: internal error: {type(e).__name__}: {e} (rerun with --debug for the traceback)",
                file=sys.stderr,
            )
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
