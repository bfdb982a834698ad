"""What a stage actually read: every file it opened and every package it imported, recorded while it runs.

A stage's cache key (:func:`compendium.runner.fingerprint`) is only as good as its list of declared inputs. So
that the list cannot silently fall behind the code, the kernel that executes a stage's notebook records, through a
Python audit hook (:pep:`578`), every file it opens under the folders the runner names and every top-level module
it imports. The runner reads the record after the stage ran and

- fails the stage (a bug in the declaration, exit 1) when it read a raw or derived file that is not among its
  declared inputs, or wrote anything into the raw folder;
- keeps the versions of the installed distributions the stage imported in its stamp, so that upgrading pandas or
  spaCy reruns the stages that use them, and only those.

The hook is installed when :mod:`compendium` is imported in a process whose environment names a log file
(:data:`ENV_LOG`); worker processes inherit the environment and record too. Outside a ``compendium run`` (in
JupyterLab, in tests) nothing is recorded.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ENV_LOG = "COMPENDIUM_READS_LOG"
ENV_ROOTS = "COMPENDIUM_READS_ROOTS"

_installed = False


def install(log: str, roots: list[str]) -> None:
    """Record, into ``log``, files opened under any of ``roots`` (``R``/``W`` lines) and modules (``M`` lines)."""
    global _installed
    if _installed:
        return
    _installed = True
    roots = tuple(os.path.join(os.path.abspath(r), "") for r in roots if r)
    seen: set[str] = set()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    write, abspath, fspath = os.write, os.path.abspath, os.fspath
    access = os.O_ACCMODE

    def emit(line: str) -> None:
        if line not in seen:
            seen.add(line)
            write(fd, (line + "\n").encode("utf-8", "surrogateescape"))

    for name in list(sys.modules):
        emit("M " + name.partition(".")[0])

    def hook(event: str, args) -> None:
        if event == "open":
            path, mode, flags = args
            if path is None or isinstance(path, int):
                return
            try:
                p = abspath(fspath(path))
            except (TypeError, ValueError):
                return
            if not p.startswith(roots):
                return
            if mode is not None:
                writing = any(c in mode for c in "wax+")
            else:
                writing = (flags & access) != os.O_RDONLY or bool(flags & (os.O_CREAT | os.O_TRUNC))
            emit(("W " if writing else "R ") + p)
        elif event == "import":
            emit("M " + args[0].partition(".")[0])

    sys.addaudithook(hook)


def install_from_env() -> None:
    """Install the hook when this process runs a stage for ``compendium run`` (see :data:`ENV_LOG`)."""
    log = os.environ.get(ENV_LOG)
    if log:
        install(log, os.environ.get(ENV_ROOTS, "").split(os.pathsep))


@dataclass
class Record:
    """What one stage did, as paths relative to the raw and derived folders."""

    raw_read: set[str] = field(default_factory=set)
    derived_read: set[str] = field(default_factory=set)
    raw_written: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)


def parse(log: Path, raw_roots: list[Path], derived_roots: list[Path]) -> Record:
    """Read a log written by :func:`install`; ``*_roots`` are the names a folder was opened under (the
    workspace's link and the folder itself)."""
    rec = Record()
    if not log.is_file():
        return rec

    def rel(p: str, roots) -> str | None:
        for r in roots:
            r = os.path.join(os.path.abspath(r), "")
            if p.startswith(r):
                return p[len(r) :].replace(os.sep, "/")
        return None

    for line in log.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        kind, _, value = line.partition(" ")
        if kind == "M":
            rec.modules.add(value)
            continue
        r = rel(value, raw_roots)
        if r is not None:
            (rec.raw_written if kind == "W" else rec.raw_read).add(r)
        elif kind == "R":
            d = rel(value, derived_roots)
            if d is not None:
                rec.derived_read.add(d)
    return rec


def distributions(modules) -> dict[str, str]:
    """``{distribution: version}`` of the installed distributions that provide ``modules`` (top-level names).

    The standard library and the compendium package itself (whose source is in the fingerprint) are left out."""
    from importlib import metadata

    mapping = _packages_distributions()
    out: dict[str, str] = {}
    for m in modules:
        for dist in mapping.get(m, ()):
            if dist.lower().replace("_", "-") in ("witi-compendium",):
                continue
            try:
                out[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
    return dict(sorted(out.items()))


_PD_CACHE: dict | None = None


def _packages_distributions() -> dict:
    global _PD_CACHE
    if _PD_CACHE is None:
        from importlib import metadata

        _PD_CACHE = metadata.packages_distributions()
    return _PD_CACHE
