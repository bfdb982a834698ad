"""The de-identification gate: one module, used on inputs, on every stage's outputs, and by ``deid scan``.

Two kinds of identifier are looked for:

- **roster identifiers**: every display name, handle and alias in ``private/roster.csv`` (whole word,
  case-insensitive; a handle also with its ``@``);
- **identifier patterns**: e-mail addresses, phone numbers (Singapore and international), NRIC/FIN numbers,
  student matriculation numbers, personal profile URLs and ``@handles``.

A hit is reported as ``file:line: kind 'X***'`` with the identifier masked, so that the report itself leaks
nothing. Bracketed de-identification placeholders (``[Friend 1]``) and pseudonyms (``P03``, ``M21``) are not
identifiers.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import InputError

ARCHIVE_SUFFIXES = {".qdpx", ".zip"}
TEXT_SUFFIXES = {".csv", ".md", ".txt", ".yml", ".yaml", ".json", ".ipynb", ".html", ".svg", ".qde", ".xml",
                 ".tex", ".cff"}

PATTERNS: dict[str, re.Pattern] = {
    "email": re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"),
    # Singapore numbers (+65, 8 digits from 6/8/9) and international ones; not digits inside a decimal number,
    # an id or a hash ("0.91234567", "cell-91234567")
    "phone": re.compile(r"(?<![\w+.,=-])(?:\+65[ -]?[689]\d{3}[ -]?\d{4}|[689]\d{3}[ -]\d{4}|[689]\d{7}"
                        r"|\+(?:[1-9]\d{0,2})[ -]?\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4})(?![\w]|[.,]\d)"),
    "nric": re.compile(r"(?<![\w])[STFGM]\d{7}[A-Z](?![\w])"),
    "matric": re.compile(r"(?<![\w])[AU]\d{7}[A-Z](?![\w])"),
    "url": re.compile(r"(?i)(?:https?://)?(?:www\.)?(?:facebook|fb|instagram|twitter|x|tiktok|linkedin|t)"
                      r"\.(?:com|me)/[A-Za-z0-9_.-]+"),
    # an @handle, but not a pseudonym written as a mention (@P07, @M21)
    "handle": re.compile(r"(?<![\w@.])@(?![A-Z]\d{2,3}(?![\w]))[A-Za-z][A-Za-z0-9_.]{2,}(?<![.])"),
}

# Long base64 runs (embedded images in HTML and notebooks), <style>/<script> blocks, GUIDs and checksums are not
# text a person reads;
# they are blanked before scanning (keeping line numbers) so that CSS "@media" or image bytes are not reported.
_BLANKABLE = [
    re.compile(r"<style\b.*?</style>", re.S | re.I),
    re.compile(r"<script\b.*?</script>", re.S | re.I),
    re.compile(r"[A-Za-z0-9+/=]{120,}"),
    re.compile(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),  # GUIDs (REFI-QDA)
    re.compile(r"(?i)\b[0-9a-f]{32,}\b"),  # checksums
]


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    kind: str
    masked: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} '{self.masked}'"


def mask(value: str) -> str:
    """Keep the first character, hide the rest: ``'J***'``."""
    value = value.strip()
    return (value[:1] + "***") if value else "***"


def load_roster(path: str | Path) -> pd.DataFrame:
    """Read ``roster.csv`` (pseudonym, display_name, handle, aliases), checking columns and unique pseudonyms."""
    path = Path(path)
    if not path.is_file():
        raise InputError("roster not found", path)
    from .tables import read_csv

    try:
        df = read_csv(path, dtype=str)
    except Exception as e:  # pandas parser errors name no file
        raise InputError(f"cannot read roster ({e})", path) from None
    need = ["pseudonym", "display_name", "handle", "aliases"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path, 1)
    dup = df["pseudonym"].duplicated(keep="first")
    if dup.any():
        i = int(dup.idxmax())
        raise InputError(f"duplicate pseudonym '{df.loc[i, 'pseudonym']}'", path, i + 2)
    return df


def roster_identifiers(roster: pd.DataFrame) -> list[tuple[str, str]]:
    """``(kind, identifier)`` pairs: display names, handles (with and without ``@``) and aliases."""
    out: set[tuple[str, str]] = set()
    for row in roster.itertuples():
        if str(row.display_name).strip():
            out.add(("name", str(row.display_name).strip()))
        handle = str(row.handle).strip().lstrip("@")
        if handle:
            out.add(("handle", handle))
        for alias in str(row.aliases).split(";"):
            if alias.strip():
                out.add(("alias", alias.strip()))
    return sorted(out, key=lambda kv: (-len(kv[1]), kv[1].lower(), kv[0]))


def ocr_fold(text: str) -> str:
    """Fold the characters OCR confuses, so that a misread name still matches: ``rn``->``m``, ``vv``->``w``,
    ``0``->``o``, ``1``/``|``/capital ``I``->``l``, ``5``->``s``; then lower case. Applied to both the text and the
    roster, it keeps exact matches and adds the usual misreadings ("Vikrarn", "lvan") without fuzzy guessing."""
    text = text.replace("I", "l").lower()
    return text.replace("rn", "m").replace("vv", "w").translate(_FOLD)


_FOLD = str.maketrans({"0": "o", "1": "l", "|": "l", "5": "s"})


def whole_word_pattern(forms, at: bool = True) -> re.Pattern | None:
    """A case-insensitive regex matching any of ``forms`` as whole words (longest first; inner spaces match any
    white space), optionally after an ``@`` when ``at``. Shared by the gate and by :mod:`compendium.pseudonyms`."""
    forms = sorted(set(forms), key=lambda f: (-len(f), f))
    if not forms:
        return None
    alts = [r"\s+".join(re.escape(part) for part in f.split()) for f in forms]
    return re.compile(r"(?i)(?<![\w])" + ("@?" if at else "") + "(?:" + "|".join(alts) + r")(?![\w])")


def roster_pattern(roster: pd.DataFrame, fold: bool = True) -> re.Pattern | None:
    """One whole-word regex over every roster identifier (longest first), matched against :func:`ocr_fold`-ed
    text when ``fold`` (the default), else case-insensitively."""
    return whole_word_pattern(ocr_fold(i) if fold else i for _, i in roster_identifiers(roster))


@dataclass(frozen=True)
class Allowed:
    value: str
    reason: str
    kind: str = ""


def load_allow(path: str | Path) -> list[Allowed]:
    """Read an allow-list of reviewed false positives (YAML)::

        allow:
          - value: "Starling"
            kind: roster identifier        # optional: only hits of this kind are allowed
            reason: "Starling forces (physiology), not a member"

    Every entry needs a ``value`` and a ``reason``; a missing one is an :class:`InputError` naming the line.
    """
    import yaml

    path = Path(path)
    from .files import read_text

    try:
        node = yaml.compose(read_text(path, "allow-list"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(f"not valid YAML ({getattr(e, 'problem', e)})", path,
                         mark.line + 1 if mark else None) from None
    if node is None:
        return []
    data = yaml.safe_load(read_text(path, "allow-list")) or {}
    entries = data.get("allow") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InputError("expected a mapping with an 'allow' list", path, 1)
    allow_node = next(v for k, v in node.value if k.value == "allow")
    out = []
    for entry, enode in zip(entries, allow_node.value):
        line = enode.start_mark.line + 1
        if not isinstance(entry, dict) or not str(entry.get("value") or "").strip():
            raise InputError("allow-list entry needs a 'value'", path, line)
        if not str(entry.get("reason") or "").strip():
            raise InputError(f"allow-list entry '{mask(str(entry['value']))}' needs a 'reason' (why it is not an "
                             "identifier)", path, line)
        out.append(Allowed(str(entry["value"]).strip(), str(entry["reason"]).strip(), str(entry.get("kind") or "")))
    return out


class Gate:
    """Scans text for identifiers. Build once per roster; reuse for every file."""

    def __init__(self, roster: pd.DataFrame | None = None, allow=None):
        have = roster is not None and len(roster)
        self.roster_re = roster_pattern(roster) if have else None  # on OCR-folded text
        self.roster_exact = roster_pattern(roster, fold=False) if have else None  # case-insensitive, as written
        self.allow: dict[str, set[str]] = {}
        for a in allow or []:
            value, kind = (a.value, a.kind) if isinstance(a, Allowed) else (str(a), "")
            self.allow.setdefault(ocr_fold(value).lstrip("@"), set()).add(kind)

    def _allowed(self, value: str, kind: str) -> bool:
        kinds = self.allow.get(ocr_fold(value).lstrip("@"))
        return kinds is not None and ("" in kinds or kind in kinds)

    def scan_text(self, text: str, path: str = "<text>") -> list[Hit]:
        for rx in _BLANKABLE:
            text = rx.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        hits: list[Hit] = []
        for lineno, line in enumerate(text.split("\n"), start=1):
            if self.roster_re is not None:
                # the same identifier found both ways is one hit
                found = {ocr_fold(m.group(0)): m.group(0) for m in self.roster_exact.finditer(line)}
                for m in self.roster_re.finditer(ocr_fold(line)):
                    found.setdefault(m.group(0), m.group(0))
                for value in found.values():
                    if not self._allowed(value, "roster identifier"):
                        hits.append(Hit(path, lineno, "roster identifier", mask(value)))
            for kind, rx in PATTERNS.items():
                for m in rx.finditer(line):
                    if not self._allowed(m.group(0), kind):
                        hits.append(Hit(path, lineno, kind, mask(m.group(0))))
        return hits

    def scan_file(self, path: str | Path, display: str | None = None) -> list[Hit]:
        """Scan one file; a REFI-QDA project (or zip) is scanned member by member (``file.qdpx!member:line``)."""
        path = Path(path)
        shown = display or str(path)
        if path.suffix.lower() in ARCHIVE_SUFFIXES and zipfile.is_zipfile(path):
            hits: list[Hit] = []
            with zipfile.ZipFile(path) as zf:
                for name in sorted(zf.namelist()):
                    if Path(name).suffix.lower() in TEXT_SUFFIXES:
                        text = zf.read(name).decode("utf-8", errors="replace")
                        hits += self.scan_text(text, f"{shown}!{name}")
            return hits
        text = path.read_bytes().decode("utf-8", errors="replace")
        return self.scan_text(text, shown)

    def scan_paths(self, paths, relative_to: str | Path | None = None) -> list[Hit]:
        """Scan files and folders (recursively; text files only)."""
        hits: list[Hit] = []
        for p in paths:
            p = Path(p)
            if not p.exists():
                raise InputError("no such file or folder", p)
            files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
            for f in files:
                if f.suffix.lower() not in TEXT_SUFFIXES | ARCHIVE_SUFFIXES and p.is_dir():
                    continue
                shown = str(f.relative_to(relative_to)) if relative_to else str(f)
                hits += self.scan_file(f, shown)
        return hits


def load_gate(roster: str | Path | None, allow: str | Path | None = None) -> Gate:
    """The gate for a corpus: its roster and its allow-list, each used when the file exists."""
    roster, allow = (Path(p) if p else None for p in (roster, allow))
    return Gate(load_roster(roster) if roster and roster.is_file() else None,
                load_allow(allow) if allow and allow.is_file() else None)


def gate_or_raise(gate: Gate, paths, relative_to=None, labels: dict | None = None) -> None:
    """Raise :class:`InputError` on the first identifier found (file:line: kind, masked).

    Each path is shown relative to ``relative_to`` (default: itself, for a folder), prefixed with
    ``labels[path]`` when given (for example the folder a staged output is going to).
    """
    hits = []
    for p in paths:
        root = Path(relative_to) if relative_to is not None else (Path(p) if Path(p).is_dir() else None)
        found = gate.scan_paths([p], root)
        label = (labels or {}).get(p)
        if label:
            found = [Hit(f"{label}/{h.path}", h.line, h.kind, h.masked) for h in found]
        hits += found
    if hits:
        h = hits[0]
        more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
        raise InputError(f"{h.kind} '{h.masked}' found: de-identification gate stopped the run{more}", h.path,
                         h.line)
