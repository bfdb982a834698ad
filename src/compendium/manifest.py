"""Checksum manifests in ``sha256sum`` format.

A manifest lists ``<sha256>  <path>`` for every file under a root, paths relative to the root in POSIX form,
sorted. ``data/raw/MANIFEST.sha256`` is checked before any stage runs; ``data/derived/MANIFEST.sha256`` is what
``compendium verify`` compares a fresh run against. Hidden files (``.name``) are never listed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

MANIFEST_NAME = "MANIFEST.sha256"


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def list_files(root: str | Path, exclude: tuple[str, ...] = (MANIFEST_NAME,)) -> list[str]:
    """Relative POSIX paths of the files under ``root``, sorted, without hidden files or ``exclude``."""
    root = Path(root)
    out = []
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        if rel.as_posix() in exclude:
            continue
        out.append(rel.as_posix())
    return sorted(out)


def compute(root: str | Path, exclude: tuple[str, ...] = (MANIFEST_NAME,)) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root``."""
    root = Path(root)
    return {rel: sha256_file(root / rel) for rel in list_files(root, exclude)}


def format_manifest(entries: dict[str, str]) -> str:
    return "".join(f"{digest}  {rel}\n" for rel, digest in sorted(entries.items()))


def write(root: str | Path, name: str = MANIFEST_NAME) -> Path:
    """Write ``root/name`` listing every other file under ``root``."""
    root = Path(root)
    path = root / name
    path.write_text(format_manifest(compute(root, exclude=(name,))), encoding="utf-8", newline="\n")
    return path


def read(path: str | Path) -> dict[str, str]:
    """Parse a manifest; a malformed line is an :class:`InputError` naming the line."""
    path = Path(path)
    if not path.is_file():
        raise InputError("manifest not found", path)
    entries: dict[str, str] = {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not rel:
            raise InputError("not a sha256sum line ('<64 hex digits>  <path>')", path, i)
        entries[rel.lstrip("*")] = digest
    return entries


@dataclass
class Comparison:
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.extra)

    def lines(self) -> list[str]:
        return (
            [f"changed: {p}" for p in self.changed]
            + [f"missing: {p}" for p in self.missing]
            + [f"extra:   {p}" for p in self.extra]
        )


def compare(expected: dict[str, str], actual: dict[str, str]) -> Comparison:
    return Comparison(
        changed=sorted(p for p in expected if p in actual and expected[p] != actual[p]),
        missing=sorted(p for p in expected if p not in actual),
        extra=sorted(p for p in actual if p not in expected),
    )


def check_raw(raw: str | Path, optional_prefix: str = "private/") -> None:
    """Check a raw-data tree against its manifest before any stage runs.

    Files under ``optional_prefix`` may be absent (a reviewer without the identifiable material can still rerun the
    stages downstream of the screenshots); everything else must be present and unchanged, and no unlisted file may
    appear. Raises :class:`InputError` naming the first problem file.
    """
    raw = Path(raw)
    if not raw.is_dir():
        raise InputError("raw data folder not found", raw)
    mpath = raw / MANIFEST_NAME
    expected = read(mpath)
    actual = compute(raw)
    cmp = compare(expected, actual)
    missing = [p for p in cmp.missing if not p.startswith(optional_prefix)]
    if cmp.changed:
        raise InputError(
            f"checksum differs from {MANIFEST_NAME} (raw data must not change; if you changed it on "
            f"purpose, in a copy, rewrite the manifest: compendium manifest {raw})",
            raw / cmp.changed[0],
        )
    if missing:
        raise InputError(
            f"listed in {MANIFEST_NAME} but missing (if you removed it on purpose: compendium manifest {raw})",
            raw / missing[0],
        )
    if cmp.extra:
        raise InputError(
            f"not listed in {MANIFEST_NAME} (if you added it on purpose: compendium manifest {raw})", raw / cmp.extra[0]
        )
