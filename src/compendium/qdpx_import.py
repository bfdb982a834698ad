"""Import a REFI-QDA project (``.qdpx``) made by NVivo, ATLAS.ti, MAXQDA, QualCoder, qc or this compendium.

``compendium import qdpx FILE --out DIR [--raw RAW]`` reads the project (safely: :mod:`compendium.qdpx_archive`
refuses hostile archives and XML) and writes into ``DIR``:

- ``codebook.yml``: the project's codes with their hierarchy, themes and history;
- ``coding/<coder>.csv``: one coding file per user (SPEC 4 columns);
- ``participants.csv``: the project's ``Cases`` with one column per ``Variable`` (when it has cases);
- ``sources.csv``: how every source of the project was named and read here (``guid, kind, name, source_id, rule,
  matched, line_ends, selections, imported, not_imported, not_imported_kind``), so that a user can see which
  sources lined up with the compendium's, how their positions were counted and what could not be imported.

Everything is checked before anything is written: a file with a problem gets one line (the ``.qdpx``, the line
of its ``.qde`` and the element) and nothing in ``DIR`` changes. The files are written into a temporary folder
beside ``DIR`` and moved into place when all are written; the files an import writes (``codebook.yml``,
``participants.csv``, ``sources.csv``, ``coding/*.csv``) that an earlier import left in ``DIR`` are replaced as a
whole, so no coding file of an earlier import stays behind; other files in ``DIR`` are left alone. Things that
are not errors but that a user should know (a source that matched nothing, codings that a coding file cannot
hold) are returned as warnings, one line each.

**Nothing is invented.** What the file does not say is recorded as unknown:

- a code's ``origin`` is ``unknown`` unless the code's description says ``Origin: deductive|inductive`` (as this
  compendium's export writes); its ``definition`` is the description, or ``not given in <file>``;
- the history has one entry dated from the project's own ``modifiedDateTime`` (else ``creationDateTime``, else
  ``unknown``), naming the file and the software in ``origin``, unless the project carries this compendium's
  history;
- indicators (retrieval patterns, not facts about the data) default to the code's name, as the codebook needs one.

**GUIDs** are compared ignoring case and braces (``{A1B2...}`` is ``a1b2...``).

**Code ids** (:func:`code_ids`). A name of the form ``ID: label`` (this compendium's export) keeps ``ID``.
Otherwise the id is the name made safe (:func:`safe_id`: accents dropped, ``Ärger`` -> ``Arger``; letters and
digits of any script, ``_ . -``; other runs become ``-``). NVivo allows one name under several parents
(``programming`` under ``competencies`` and under ``framings``), so when two codes would get the same id, each of
them gets the ids of its parents' path joined with ``.`` (``competencies.programming``), and if the paths are also
equal, ``~`` and the first 8 characters of its GUID. The name is kept as the code's ``label``. The rule depends
only on the file, so it is stable. NVivo also writes each case as a code with the case's GUID (under a node
such as ``Cases``) and codes each interview at it: such codes (and nodes holding nothing but them) are cases, not
codes; their codings say which sources belong to the case.

**Source ids** (:func:`source_id`), first that applies: a selection whose name ends with a post id
(``WITI-007#3``, or ``line:4 WITI-007#3``) belongs to that post; the source's ``name`` without a document extension
(``FN-2023-01-09.txt`` -> ``FN-2023-01-09``); the file name of ``plainTextPath``/``path`` without extension, unless
it is a GUID (``internal://<guid>.txt``); the GUID itself, reported as unreadable. NVivo names sources with
GUID-like strings; those count as unreadable too. Two sources of one name (MAXQDA allows one in each document
group): the first keeps it, each other gets ``~`` and 8 characters of its GUID, with a warning. With ``--raw`` the
ids are matched to the compendium's transcripts and field notes (exactly, then ignoring case); unmatched sources
are listed as warnings and in ``sources.csv``.

**Coders** are the users' ``id`` (this compendium's export) or ``name``. Users of one name (a merged project's two
``Admin``) each get ``~`` and 8 characters of their GUID (``Admin~0402e04d``); coders whose coding files would be
one (names equal once made safe, ignoring case: ``Coder A`` and ``Coder-A``) keep their names and get the GUID in
the file name (``Coder-A-0402e04d.csv``); each with a warning, so that nobody's codings are merged or overwritten.

**Offsets** are REFI-QDA's: Unicode code points of the source's plain text, which is what Python's ``str``
indexes, so an emoji counts one. A text stored with CRLF line ends is ambiguous: NVivo on Windows counts a CRLF
as two positions, QualCoder (for MAXQDA), ATLAS.ti and MAXQDA as one. For such a source the selections are read
both ways (:func:`read_line_ends`) and the reading under which no selection runs past the end and more of their
boundaries fall between words (a coder selects words and sentences) is taken; ``sources.csv`` says which
(``line_ends``: ``lf``, ``crlf-as-1``, ``crlf-as-2``, or ``crlf-either`` when both give the same offsets), and a
warning says when the two readings score within ``CRLF_MARGIN``. Offsets are then into the LF text, as SPEC 4
wants. A selection past the end under every reading is an error. A ``Coding`` directly under a text source codes
the whole document, ``[0, len)``. A PDF's text ``Representation`` is read as the PDF's text.

**What is not imported** (picture regions that are not posts, PDF regions, audio and video segments, transcript
selections of a recording, whole pictures or recordings) is counted per source in ``sources.csv``
(``not_imported``, ``not_imported_kind``: the element the codings sit in, with a count) and reported in one
warning per kind; nothing is dropped silently.
"""

from __future__ import annotations

import bisect
import os
import re
import shutil
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from compendium import codebook as codebook_mod
from compendium import qdpx, qdpx_archive
from compendium.coding import COLUMNS as CODING_COLUMNS
from compendium.coding import natural_key, sort_naturally
from compendium.errors import InputError
from compendium.qdpx_archive import normalise_line_ends, q
from compendium.tables import write_csv

DOCUMENT_EXTENSIONS = (
    ".txt",
    ".docx",
    ".doc",
    ".rtf",
    ".odt",
    ".pdf",
    ".md",
    ".html",
    ".htm",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".tif",
    ".tiff",
    ".m4a",
    ".mp3",
    ".wav",
    ".mp4",
    ".mov",
)
GUID_RE = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
SOURCE_KINDS = ("TextSource", "PictureSource", "PDFSource", "AudioSource", "VideoSource")
VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue")
SOURCES_COLUMNS = [
    "guid",
    "kind",
    "name",
    "source_id",
    "rule",
    "matched",
    "line_ends",
    "selections",
    "imported",
    "not_imported",
    "not_imported_kind",
]
NO_DEFINITION = "not given in {file}"
CRLF_MARGIN = 0.1  # two readings of CRLF positions scoring closer than this are reported as ambiguous
# what a coding file cannot hold, by the element a Coding sits in
NOT_IMPORTED = {
    "PictureSelection": "picture regions",
    "PDFSelection": "PDF regions",
    "AudioSelection": "audio segments",
    "VideoSelection": "video segments",
    "TranscriptSelection": "transcript selections",
    "PlainTextSelection": "text selections outside a source's text",
    "TextSource": "whole documents whose text is not in the archive",
    "Representation": "whole PDFs whose text is not in the archive",
    "PictureSource": "whole pictures",
    "PDFSource": "whole PDFs without a text representation",
    "AudioSource": "whole recordings",
    "VideoSource": "whole videos",
}
OUT_FILES = ("codebook.yml", "participants.csv", "sources.csv")  # with coding/*.csv: what an import writes
_RESERVED_KEYS = ("codebook", "participants", "sources")


@dataclass
class Imported:
    """What an import found, before anything is written."""

    codebook: codebook_mod.Codebook
    codings: pd.DataFrame
    sources: pd.DataFrame
    participants: pd.DataFrame | None
    warnings: list[str] = field(default_factory=list)
    coder_files: dict[str, str] = field(default_factory=dict)  # coder -> its coding file's name


# --------------------------------------------------------------------------- names and ids


def norm_guid(value: str | None) -> str:
    """A GUID as compared here: no braces or surrounding space, lower case."""
    return (value or "").strip().strip("{}").lower()


def safe_id(name: str, default: str = "code") -> str:
    """A name made safe as an id: accents dropped (``Ärger`` -> ``Arger``), letters and digits of any script and
    ``_ . -`` kept, other runs become ``-``."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", name or "") if not unicodedata.combining(ch))
    kept = "".join(ch if ch in "_.-" or unicodedata.category(ch)[0] in "LNM" else " " for ch in bare)
    return re.sub(r"\s+", "-", unicodedata.normalize("NFC", kept).strip()).strip("-.") or default


def code_ids(codes: list[dict]) -> None:
    """Give each code (dicts with ``name``, ``guid``, ``path``: names of its ancestors) a unique ``id`` in place,
    by the rule of the module docstring."""
    for c in codes:
        own = qdpx.split_name(c["name"])
        c["id"], c["label"] = own if own else (safe_id(c["name"]), c["name"])
    clash = Counter(c["id"] for c in codes)
    for c in codes:
        if clash[c["id"]] > 1:
            c["id"] = ".".join(safe_id(n) for n in [*c["path"], c["name"]])
    clash = Counter(c["id"] for c in codes)
    for c in codes:
        if clash[c["id"]] > 1:
            c["id"] = f"{c['id']}~{norm_guid(c['guid'])[:8]}"


def _tell_apart(entries: list[tuple[str, str]], key: Callable[[str], str]) -> dict[str, str]:
    """``{guid: name}`` for ``(guid, name)`` pairs, each name whose ``key`` clashes with another's given ``~`` and 8
    characters of its GUID (the whole GUID if that still clashes)."""
    clash = Counter(key(n) for _, n in entries)
    out = {g: (f"{n}~{g[:8]}" if clash[key(n)] > 1 else n) for g, n in entries}
    clash = Counter(key(n) for n in out.values())
    return {g: (f"{n}~{g}" if clash[key(out[g])] > 1 else out[g]) for g, n in entries}


def coder_names(users: list[tuple[str, str]]) -> dict[str, str]:
    """``{guid: coder}`` for users ``(guid, name)``: users of one name get ``~`` and the start of their GUID."""
    return _tell_apart(users, lambda name: name)


def coder_files(coders: list[tuple[str, str]]) -> dict[str, str]:
    """``{coder: file name}`` for coders ``(guid, coder)``: coders whose files would be one (names equal once made
    safe, ignoring case, as on Windows and macOS) get ``-`` and the start of their GUID in the file name."""
    stems = _tell_apart(coders, lambda coder: safe_id(coder, "coder").casefold())
    return {coder: f"{safe_id(stems[gid], 'coder')}.csv" for gid, coder in coders}


def _stem(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if base.startswith("internal:"):
        base = base.split(":", 1)[1].lstrip("/")
    low = base.lower()
    for ext in DOCUMENT_EXTENSIONS:
        if low.endswith(ext) and len(base) > len(ext):
            return base[: -len(ext)]
    return base


def source_id(el, kind: str) -> tuple[str, str]:
    """``(id, rule)`` of a source element: see the module docstring. ``rule`` is ``name``, ``path`` or
    ``guid`` (unreadable)."""
    name = (el.get("name") or "").strip()
    if name and not GUID_RE.match(_stem(name)):
        return _stem(name), "name"
    for attr in ("plainTextPath", "path", "richTextPath"):
        value = (el.get(attr) or "").strip()
        if value and not GUID_RE.match(_stem(value)):
            return _stem(value), "path"
    return norm_guid(el.get("guid")), "guid"


def _member_of(value: str | None) -> str | None:
    """The archive member a source path names: ``internal://x.txt`` and relative paths live under ``sources/``."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("internal://"):
        return "sources/" + value[len("internal://") :]
    if "://" in value or value.startswith("/"):
        return None  # an absolute or external path: not in the archive
    return "sources/" + value


def _listed(items: list[str], limit: int = 5) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# --------------------------------------------------------------------------- line ends (pure)


@dataclass(frozen=True)
class LineEnds:
    """How a source's selections were read: ``convention`` (``lf``, ``crlf-as-1``, ``crlf-as-2``,
    ``crlf-either``), the ``spans`` as offsets into the LF text, the word-boundary ``scores`` of the two readings
    (when both fit and differ), whether they are ``ambiguous``, and ``past_end``: the index of a span past the end
    under every reading (None when all fit)."""

    convention: str
    spans: list[tuple[int, int]]
    scores: tuple[float, float] | None = None
    ambiguous: bool = False
    past_end: int | None = None


def crlf_pairs(stored: str) -> list[int]:
    """Where each CRLF of ``stored`` starts."""
    return [m.start() for m in re.finditer("\r\n", stored)]


def lf_position(pos: int, pairs: list[int]) -> int:
    """A position counting each CRLF as two (``pairs``: where they start) as a position in the LF text; one
    between CR and LF falls before the line end."""
    return pos - bisect.bisect_left(pairs, pos)


def at_word_boundary(text: str, i: int) -> bool:
    """True unless position ``i`` splits a run of letters or digits."""
    return i <= 0 or i >= len(text) or not (text[i - 1].isalnum() and text[i].isalnum())


def boundary_score(text: str, spans: list[tuple[int, int]]) -> float:
    """The share of the spans' starts and ends that fall on word boundaries of ``text``."""
    points = [p for span in spans for p in span]
    return sum(at_word_boundary(text, p) for p in points) / len(points) if points else 1.0


def _past(spans: list[tuple[int, int]], length: int) -> int | None:
    return next((i for i, (_, end) in enumerate(spans) if end > length), None)


def read_line_ends(stored: str, spans: list[tuple[int, int]]) -> LineEnds:
    """Read ``spans`` (positions as a tool wrote them) against a text ``stored`` as in the archive (BOM removed):
    see the module docstring. A tie goes to one position per line end, as most tools count."""
    text = normalise_line_ends(stored)
    pairs = crlf_pairs(stored)
    if not pairs:
        return LineEnds("lf", spans, past_end=_past(spans, len(text)))
    past = _past(spans, len(stored))
    if past is not None:
        return LineEnds("crlf-as-2", spans, past_end=past)
    as_two = [(lf_position(s, pairs), lf_position(e, pairs)) for s, e in spans]
    if _past(spans, len(text)) is not None:
        return LineEnds("crlf-as-2", as_two)
    if as_two == spans:
        return LineEnds("crlf-either", spans)
    one, two = boundary_score(text, spans), boundary_score(text, as_two)
    ambiguous = abs(one - two) < CRLF_MARGIN
    if two > one:
        return LineEnds("crlf-as-2", as_two, (one, two), ambiguous)
    return LineEnds("crlf-as-1", spans, (one, two), ambiguous)


# --------------------------------------------------------------------------- reading


@dataclass
class _Context:
    """What reading the sources needs and collects."""

    project: qdpx_archive.Project
    users: dict[str, str]  # user GUID -> coder
    code_of: dict[str, str]  # code GUID -> code id
    case_nodes: set[str]  # GUIDs of codes that are cases
    warn: Callable[[str], None]
    unknown: str = "unknown"  # the coder of codings without a known user
    members: dict[str, list[str]] = field(default_factory=dict)  # case GUID -> GUIDs of sources coded at it
    handled: set[int] = field(default_factory=set)  # ids of the Coding elements read


def _users(project) -> list[tuple[str, str]]:
    users = []
    users_el = project.root.find(q("Users"))
    for u in users_el.findall(q("User")) if users_el is not None else []:
        gid = norm_guid(project.attr(u, "guid", required=True))
        users.append((gid, (u.get("id") or u.get("name") or "").strip() or f"user-{gid[:8]}"))
    return users


def _unknown_coder(coders) -> str:
    """The coder of codings without a known user: ``unknown``, unless a user is called so."""
    return "unknown" if "unknown" not in set(coders) else "unknown~no-user"


def _coders(project, warn) -> tuple[dict[str, str], dict[str, str]]:
    """``({user GUID: coder}, {coder: coding file name})``, with a warning for each set of users told apart."""
    users = _users(project)
    coders = coder_names(users)
    files = coder_files([(gid, coders[gid]) for gid, _ in users] + [("", _unknown_coder(coders.values()))])
    by_name: dict[str, list[str]] = {}
    by_file: dict[str, list[str]] = {}
    for gid, name in users:
        by_name.setdefault(name, []).append(gid)
        by_file.setdefault(safe_id(coders[gid], "coder").casefold(), []).append(gid)
    for name, gids in by_name.items():
        if len(gids) > 1:
            told = " and ".join(coders[g] for g in gids)
            warn(InputError(f"{len(gids)} users are named {name!r}: imported as coders {told}", project.path).format())
    for gids in by_file.values():
        if len(gids) > 1:
            names = " and ".join(repr(coders[g]) for g in gids)
            told = " and ".join(files[coders[g]] for g in gids)
            warn(InputError(f"coders {names} would share one coding file: written as {told}", project.path).format())
    return coders, files


def _themes_from_sets(project) -> tuple[dict[str, dict], dict[str, str]]:
    themes: dict[str, dict] = {}
    theme_of: dict[str, str] = {}
    sets = project.root.find(q("Sets"))
    for s in sets.findall(q("Set")) if sets is not None else []:
        members = s.findall(q("MemberCode"))
        if not members:
            continue  # a set of sources or notes is not a theme
        name = project.attr(s, "name", required=True)
        own = qdpx.split_name(name)
        tid, label = own if own else (safe_id(name), name)
        desc = s.find(q("Description"))
        themes.setdefault(
            tid,
            {
                "id": tid,
                "label": label,
                "definition": (desc.text or "").strip() if desc is not None and desc.text else label,
            },
        )
        for m in members:
            theme_of.setdefault(norm_guid(project.attr(m, "targetGUID", required=True)), tid)
    return themes, theme_of


def _case_guids(project) -> set[str]:
    cases = project.root.find(q("Cases"))
    return {norm_guid(c.get("guid")) for c in cases.findall(q("Case"))} if cases is not None else set()


def case_nodes(top: list, case_guids: set[str], referenced: set[str]) -> set[str]:
    """GUIDs of the codes that are cases (NVivo): a code with a case's GUID, or one holding only such codes that
    no coding refers to (a node like ``Cases``)."""
    found: set[str] = set()

    def visit(el) -> bool:
        children = [visit(child) for child in el.findall(q("Code"))]
        gid = norm_guid(el.get("guid"))
        is_case = gid in case_guids or (bool(children) and all(children) and gid not in referenced)
        if is_case:
            found.add(gid)
        return is_case

    for el in top:
        visit(el)
    return found


def _codes(project, file_name: str, theme_of: dict[str, str], themes: dict[str, dict], case_guids: set[str]):
    book = project.root.find(q("CodeBook"))
    codes_el = book.find(q("Codes")) if book is not None else None
    top = codes_el.findall(q("Code")) if codes_el is not None else []
    if not top:
        raise project.error(
            "the project has no codes (no <CodeBook><Codes><Code>): nothing to import",
            next(el for el in (codes_el, book, project.root) if el is not None),
        )
    referenced = {norm_guid(r.get("targetGUID")) for r in project.root.iter(q("CodeRef"))}
    cases = case_nodes(top, case_guids, referenced)
    found: list[dict] = []
    theme_codes: dict[str, dict] = {}
    case_names: dict[str, str] = {}

    def walk(el, path: list[str], parent: dict | None, theme: str | None):
        name = project.attr(el, "name", required=True)
        gid = norm_guid(project.attr(el, "guid", required=True))
        desc = el.find(q("Description"))
        text = desc.text if desc is not None and desc.text else ""
        if gid in cases:  # a case, not a code: its children (if any are codes) belong to its parent
            case_names[gid] = name.strip()
            for child in el.findall(q("Code")):
                walk(child, path, parent, theme)
            return
        if text.startswith(qdpx.THEME_CODE_MARK):
            own = qdpx.split_name(name)
            tid, label = own if own else (safe_id(name), name)
            definition = text[len(qdpx.THEME_CODE_MARK) :].strip() or label
            theme_codes[gid] = themes.setdefault(tid, {"id": tid, "label": label, "definition": definition})
            for child in el.findall(q("Code")):
                walk(child, path, None, tid)
            return
        entry = {
            "el": el,
            "name": name,
            "guid": gid,
            "path": list(path),
            "parent": parent,
            "fields": qdpx.parse_description(text),
            "theme": theme,
        }
        found.append(entry)
        for child in el.findall(q("Code")):
            walk(child, [*path, name], entry, theme)

    for el in top:
        walk(el, [], None, None)
    if not found:
        raise project.error("the project's codes are all cases: no codes to import", codes_el)
    code_ids(found)
    code_of: dict[str, str] = {}
    for c in found:
        if c["guid"] in code_of:
            raise project.error(f"code GUID {c['guid']} is used by two codes", c["el"])
        code_of[c["guid"]] = c["id"]
    codes = [_code_entry(c, theme_of, file_name) for c in found]
    return codes, code_of, theme_codes, case_names


def _code_entry(c: dict, theme_of: dict[str, str], file_name: str) -> dict:
    f = c["fields"]
    theme = f.get("theme") or theme_of.get(c["guid"]) or c["theme"] or "UNTHEMED"
    label = c["label"]
    indicators = [i.strip() for i in f.get("indicators", "").split(";") if i.strip()]
    if not indicators:
        indicators = [" ".join(label.replace("*", " ").split()).lower() or c["id"].lower()]
    origin = f.get("origin") if f.get("origin") in codebook_mod.ORIGINS else "unknown"
    entry = {
        "id": c["id"],
        "label": label,
        "theme": theme,
        "parent": c["parent"]["id"] if c["parent"] else "",
        "origin": origin,
        "definition": f.get("definition") or NO_DEFINITION.format(file=file_name),
        "include": f.get("include", ""),
        "exclude": f.get("exclude", ""),
        "example": f.get("example", ""),
        "indicators": indicators,
    }
    return {k: v for k, v in entry.items() if v != "" or k == "parent"}


def _history(project, file_name: str, codes: list[dict]) -> tuple[str, list]:
    version, history = "imported", []
    desc = project.root.find(q("Description"))
    text = desc.text if desc is not None and desc.text else ""
    m = re.search(r"Codebook version: (.+)", text)
    if m:
        version = m.group(1).strip()
    m = re.search(re.escape(qdpx.ORDER_MARK) + r" (.+)", text)
    if m:
        rank = {cid: i for i, cid in enumerate(m.group(1).split())}
        codes.sort(key=lambda c: rank.get(c["id"], len(rank)))  # stable: unknown ones keep tree order
    if qdpx.HISTORY_MARK in text:
        try:
            loaded = yaml.safe_load(text.split(qdpx.HISTORY_MARK, 1)[1])
        except yaml.YAMLError:
            raise project.error("the codebook history in the project's Description is not valid YAML", desc) from None
        if isinstance(loaded, list):
            history = loaded
    if not history:
        when = project.root.get("modifiedDateTime") or project.root.get("creationDateTime") or ""
        date = when[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", when) else "unknown"
        made_by = project.root.get("origin") or "software not named in the file"
        history = [
            {
                "date": date,
                "change": f"imported from {file_name} ({made_by})",
                "why": "codes and codings made in another tool; origin and definitions as the file gives them",
            }
        ]
    return version, history


def _memo(sel) -> str:
    memo_el = sel.find(q("Description"))
    return (memo_el.text or "") if memo_el is not None else ""


def _coder(ctx: _Context, cod, sel) -> str:
    user = cod.get("creatingUser") or (sel.get("creatingUser") if sel is not None else None)
    coder = ctx.users.get(norm_guid(user)) if user else None
    if coder is None:
        ctx.warn(ctx.project.error(f"coding without a known user: coder {ctx.unknown!r}", cod).format())
        return ctx.unknown
    return coder


def _coded(ctx: _Context, cod, sel, source_guid: str, where: tuple[str, int | None, int | None], memo: str):
    """The coding file rows of one ``Coding`` at ``where`` (source id, start, end); a coding at a case's node
    records that the source belongs to the case instead."""
    project = ctx.project
    refs = cod.findall(q("CodeRef"))
    if not refs:
        raise project.error("a Coding without a CodeRef", cod)
    ctx.handled.add(id(cod))
    rows = []
    for ref in refs:
        target = norm_guid(project.attr(ref, "targetGUID", required=True))
        if target in ctx.case_nodes:
            ctx.members.setdefault(target, []).append(source_guid)
            continue
        if target not in ctx.code_of:
            raise project.error(f"CodeRef to an unknown code GUID {ref.get('targetGUID')}", ref)
        sid, start, end = where
        coder = _coder(ctx, cod, sel)
        rows.append(
            {"coder": coder, "source_id": sid, "start": start, "end": end, "code_id": ctx.code_of[target], "memo": memo}
        )
    return rows


def _spans(project, sels) -> list[tuple[int, int]]:
    spans = []
    for sel in sels:
        start = project.attr_int(sel, "startPosition")
        end = project.attr_int(sel, "endPosition")
        if start < 0 or end < start:
            raise project.error(f"selection positions {start}..{end} are not a range", sel)
        spans.append((start, end))
    return spans


def _past_end_error(project, sel, end: int, stored: str):
    text = normalise_line_ends(stored)
    if "\r\n" not in stored:
        counted = f"{len(text)} characters, counted in Unicode code points"
    else:
        counted = f"{len(stored)} characters counting a CRLF as two, {len(text)} counting it as one"
    return project.error(f"selection ends at {end}, past the end of its source ({counted})", sel)


def _read_text_spans(ctx: _Context, holder, sid: str, stored: str | None, sels) -> tuple[str, list, int | None]:
    """``(line_ends, spans into the LF text, length of the LF text)`` of ``holder``'s selections."""
    project = ctx.project
    spans = _spans(project, sels)
    if stored is None:
        if sels:
            ctx.warn(
                project.error(
                    f"the text of source {sid} is not in the archive: its {len(sels)} selection(s) are imported "
                    "with their positions unchecked",
                    holder,
                ).format()
            )
        return "", spans, None
    reading = read_line_ends(stored, spans)
    if reading.past_end is not None:
        raise _past_end_error(project, sels[reading.past_end], spans[reading.past_end][1], stored)
    if reading.ambiguous:
        one, two = reading.scores
        ctx.warn(
            project.error(
                f"source {sid}: its text has CRLF line ends and its selections fall between words about as often "
                f"counting a CRLF as one position ({one:.0%}) as counting it as two ({two:.0%}): ambiguous; "
                f"read as {reading.convention}, check a few of its codings",
                holder,
            ).format()
        )
    return reading.convention, reading.spans, len(normalise_line_ends(stored))


def _text_rows(ctx: _Context, holder, source_guid: str, sid: str, whole: list) -> tuple[list[dict], str]:
    """Rows of the ``PlainTextSelection``s of ``holder`` (a text source or a PDF's representation) and of the
    ``whole`` codings (a Coding directly under the source: the whole text); and the source's ``line_ends``."""
    sels = holder.findall(q("PlainTextSelection"))
    stored = _source_text(ctx.project, holder)
    line_ends, spans, length = _read_text_spans(ctx, holder, sid, stored, sels)
    rows = []
    for sel, (start, end) in zip(sels, spans):
        post = qdpx.post_of_selection((sel.get("name") or "").strip())
        where = (post, None, None) if post else (sid, start, end)
        for cod in sel.findall(q("Coding")):
            rows += _coded(ctx, cod, sel, source_guid, where, _memo(sel))
    if length is not None:  # without the text, a whole-document coding cannot be placed
        for cod in whole:
            rows += _coded(ctx, cod, None, source_guid, (sid, 0, length), "")
    return rows, line_ends


def _picture_rows(ctx: _Context, src, source_guid: str) -> list[dict]:
    """Rows of the picture's selections that are posts (``WITI-007#3``); other regions are not imported."""
    rows = []
    for sel in src.findall(q("PictureSelection")):
        for a in ("firstX", "firstY", "secondX", "secondY"):
            ctx.project.attr_int(sel, a)
        post = qdpx.post_of_selection((sel.get("name") or "").strip())
        if post is None:
            continue
        for cod in sel.findall(q("Coding")):
            rows += _coded(ctx, cod, sel, source_guid, (post, None, None), _memo(sel))
    return rows


def _source_text(project, el) -> str | None:
    """The source's text as stored (BOM removed, line ends as in the file), None when the archive lacks it."""
    content = el.find(q("PlainTextContent"))
    if content is not None:
        return (content.text or "").removeprefix("\ufeff")
    member = _member_of(el.get("plainTextPath"))
    found = project.find(member) if member else None
    return project.text(found, as_stored=True) if found else None


def _not_imported(src, handled: set[int]) -> Counter:
    """``{element holding the Coding: count}`` of the codings under ``src`` that were not read."""
    counts: Counter = Counter()
    for parent in src.iter():
        for child in parent:
            if child.tag == q("Coding") and id(child) not in handled:
                counts[parent.tag.rsplit("}", 1)[-1]] += 1
    return counts


def _source_rows(ctx: _Context, src, kind: str, gid: str, sid: str) -> tuple[list[dict], str]:
    if kind == "TextSource":
        return _text_rows(ctx, src, gid, sid, src.findall(q("Coding")))
    if kind == "PDFSource":
        rep = src.find(q("Representation"))
        if rep is not None:
            return _text_rows(ctx, rep, gid, sid, rep.findall(q("Coding")) + src.findall(q("Coding")))
    if kind == "PictureSource":
        return _picture_rows(ctx, src, gid), ""
    return [], ""


def _named_sources(project, known: set[str] | None, warn) -> list[dict]:
    """Every source with its id, rule and whether it matched the raw folder; ids made unique."""
    sources_el = project.root.find(q("Sources"))
    found = []
    for src in list(sources_el) if sources_el is not None else []:
        kind = src.tag.rsplit("}", 1)[-1]
        if kind not in SOURCE_KINDS:
            continue
        gid = norm_guid(project.attr(src, "guid", required=True))
        sid, rule = source_id(src, kind)
        matched = "no raw given"
        if known is not None:
            exact = sid if sid in known else next((k for k in sorted(known) if k.lower() == sid.lower()), None)
            matched = "yes" if exact else "no"
            sid = exact or sid
        found.append({"el": src, "kind": kind, "guid": gid, "source_id": sid, "rule": rule, "matched": matched})
    first: dict[str, dict] = {}
    for s in found:
        earlier = first.setdefault(s["source_id"], s)
        if earlier is not s and earlier["guid"] != s["guid"]:
            new = f"{s['source_id']}~{s['guid'][:8]}"
            warn(
                project.error(
                    f"two sources are both named {s['source_id']} (the other on line {project.line(earlier['el'])}):"
                    f" this one is imported as {new}",
                    s["el"],
                ).format()
            )
            s["source_id"] = new
            s["matched"] = "no" if known is not None else s["matched"]
    return found


def _unimported_warnings(project, by_kind: dict[str, list], warn) -> None:
    for tag in sorted(by_kind):
        n = sum(count for count, _ in by_kind[tag])
        sids = sorted({sid for _, sid in by_kind[tag]}, key=natural_key)
        what = NOT_IMPORTED.get(tag, f"{tag} elements")
        warn(
            InputError(
                f"{n} coding{'s' if n != 1 else ''} of {what} not imported (a coding file holds text offsets or "
                f"post ids): source{'s' if len(sids) != 1 else ''} {_listed(sids)}; see sources.csv",
                project.path,
            ).format()
        )


def _sources(ctx: _Context, known: set[str] | None):
    project, warn = ctx.project, ctx.warn
    rows, table = [], []
    by_kind: dict[str, list] = {}
    named = {}  # GUID -> the source's id and rule, for naming cases
    for s in _named_sources(project, known, warn):
        named[s["guid"]] = s
        src, kind, sid = s["el"], s["kind"], s["source_id"]
        if s["rule"] == "guid":
            warn(project.error(f"source has no readable name: imported under its GUID {sid}", src).format())
        elif s["matched"] == "no" and kind == "TextSource":
            warn(project.error(f"source {sid} matches no transcript or field note in the raw folder", src).format())
        imported, line_ends = _source_rows(ctx, src, kind, s["guid"], sid)
        skipped = _not_imported(src, ctx.handled)
        for tag, count in skipped.items():
            by_kind.setdefault(tag, []).append((count, sid))
        rows += imported
        table.append(
            {
                "guid": src.get("guid"),
                "kind": kind,
                "name": src.get("name") or "",
                "source_id": sid,
                "rule": s["rule"],
                "matched": s["matched"],
                "line_ends": line_ends,
                "selections": sum(1 for el in src.iter() if el.tag.endswith("Selection")),
                "imported": len(imported),
                "not_imported": sum(skipped.values()),
                "not_imported_kind": "; ".join(f"{tag} {skipped[tag]}" for tag in sorted(skipped)),
            }
        )
    _unimported_warnings(project, by_kind, warn)
    return rows, pd.DataFrame(table, columns=SOURCES_COLUMNS), named


def _value(project, vv) -> str:
    for tag in VALUE_TAGS:
        el = vv.find(q(tag))
        if el is not None:
            return (el.text or "").strip()
    return ""


def _case_name(project, case, gid: str, case_names: dict, members: dict, sources: dict, warn) -> str:
    """A case's pseudonym: its name, else its NVivo node's name, else the name of the one source it refers to
    (MAXQDA writes document variables as cases without a name), else its GUID with a warning."""
    name = (case.get("name") or "").strip() or case_names.get(gid, "")
    if name:
        return name
    refs = [norm_guid(r.get("targetGUID")) for r in case.findall(q("SourceRef"))] + members.get(gid, [])
    refs = list(dict.fromkeys(refs))
    named = [sources[r] for r in refs if r in sources and sources[r]["rule"] != "guid"]
    if len(refs) == 1 and len(named) == 1:
        return named[0]["source_id"]
    why = (
        "refers to no source"
        if not refs
        else f"refers to {len(refs)} sources"
        if len(refs) > 1
        else "refers to a source without a readable name"
    )
    warn(project.error(f"case {gid} has no name and {why}: its pseudonym is its GUID", case).format())
    return gid


def _participants(project, case_names: dict, members: dict, sources: dict, warn) -> pd.DataFrame | None:
    cases = project.root.find(q("Cases"))
    if cases is None:
        return None
    variables = {}
    vars_el = project.root.find(q("Variables"))
    for v in vars_el.findall(q("Variable")) if vars_el is not None else []:
        variables[norm_guid(project.attr(v, "guid", required=True))] = project.attr(v, "name", required=True)
    rows = []
    for case in cases.findall(q("Case")):
        gid = norm_guid(project.attr(case, "guid", required=True))
        row = {"pseudonym": _case_name(project, case, gid, case_names, members, sources, warn)}
        for vv in case.findall(q("VariableValue")):
            ref = vv.find(q("VariableRef"))
            if ref is None:
                raise project.error("a VariableValue without a VariableRef", vv)
            target = project.attr(ref, "targetGUID", required=True)
            if norm_guid(target) not in variables:
                raise project.error(f"VariableRef to an unknown variable GUID {target}", ref)
            row[variables[norm_guid(target)]] = _value(project, vv)
        rows.append(row)
    columns = ["pseudonym", *[v for v in variables.values() if v != "pseudonym"]]
    return pd.DataFrame(rows, columns=columns).fillna("")


def _known_sources(raw: str | Path | None) -> set[str] | None:
    if raw is None:
        return None
    raw = Path(raw)
    return {
        p.stem
        for d in ("transcripts", "fieldnotes")
        for p in sorted((raw / d).glob("*"))
        if p.is_file() and p.suffix in (".txt", ".md")
    }


def read(path: str | Path, raw: str | Path | None = None) -> Imported:
    """Read a ``.qdpx`` into an :class:`Imported` (nothing is written). ``raw``: a raw data folder whose
    transcripts and field notes the sources are matched to."""
    path = Path(path)
    project = qdpx_archive.read(path)
    warnings: list[str] = []
    warn = warnings.append
    users, files = _coders(project, warn)
    themes, theme_of = _themes_from_sets(project)
    codes, code_of, _theme_codes, case_names = _codes(project, path.name, theme_of, themes, _case_guids(project))
    for c in codes:
        if c["theme"] not in themes:
            label = "Codes without a theme" if c["theme"] == "UNTHEMED" else c["theme"]
            themes[c["theme"]] = {"id": c["theme"], "label": label, "definition": label}
    version, history = _history(project, path.name, codes)
    book = codebook_mod.parse(
        {"version": version, "themes": list(themes.values()), "codes": codes, "history": history}, f"{path} (codebook)"
    )
    ctx = _Context(project, users, code_of, set(case_names), warn, _unknown_coder(users.values()))
    rows, sources, by_guid = _sources(ctx, _known_sources(raw))
    df = pd.DataFrame(rows, columns=CODING_COLUMNS).drop_duplicates(
        subset=["coder", "source_id", "start", "end", "code_id"]
    )
    df["start"] = df["start"].astype("Int64")
    df["end"] = df["end"].astype("Int64")
    participants = _participants(project, case_names, ctx.members, by_guid, warn)
    return Imported(book, df, sources, participants, warnings, files)


# --------------------------------------------------------------------------- writing


def _check_out(out_dir: Path) -> None:
    """``--out``, its ``coding`` folder and the folders above it must be folders (or not exist yet)."""
    for where, what in ((out_dir, "--out"), (out_dir / "coding", "the folder the coding files go into")):
        if where.exists() and not where.is_dir():
            raise InputError(f"exists and is not a folder ({what}); nothing was written", where)
    above = next((p for p in out_dir.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise InputError(f"is not a folder, so --out {out_dir} cannot be made in it; nothing was written", above)


def _file_names(imported: Imported) -> dict[str, str]:
    """Each coder's coding file: as :func:`read` named it, else its name made safe; one file per coder."""
    files, taken = {}, set()
    for coder in sorted(set(imported.codings["coder"]), key=natural_key):
        base = imported.coder_files.get(coder, f"{safe_id(coder, 'coder')}.csv").removesuffix(".csv")
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.casefold())
        files[coder] = f"{name}.csv"
    return files


def _write_files(imported: Imported, folder: Path) -> dict[str, Path]:
    """Write the import into ``folder``; ``{key: path relative to folder}`` (a coder's key is the coder, or
    ``coding/<file>`` for a coder named like one of the other keys)."""
    written = {"codebook": codebook_mod.dump(imported.codebook, folder / "codebook.yml")}
    files = _file_names(imported)
    for coder, g in imported.codings.groupby("coder"):
        g = sort_naturally(g, ["source_id", "start", "end", "code_id"])
        key = str(coder)
        if key in _RESERVED_KEYS or key.startswith("coding/"):
            key = f"coding/{files[coder]}"
        written[key] = write_csv(g, folder / "coding" / files[coder])
    if imported.participants is not None:
        written["participants"] = write_csv(imported.participants, folder / "participants.csv")
    written["sources"] = write_csv(imported.sources, folder / "sources.csv")
    return {key: p.relative_to(folder) for key, p in written.items()}


def _earlier_import(out_dir: Path) -> list[Path]:
    """The files of ``out_dir`` that an import writes (relative paths): they are replaced as a whole."""
    found = [Path(f) for f in OUT_FILES if (out_dir / f).is_file()]
    coding = out_dir / "coding"
    if coding.is_dir():
        found += [p.relative_to(out_dir) for p in sorted(coding.glob("*.csv")) if p.is_file()]
    return found


def _move(files: list[Path], src: Path, dst: Path, done: list[Path]) -> None:
    for rel in files:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(src / rel, dst / rel)
        done.append(rel)


def _put_in_place(new: Path, out_dir: Path, old: Path, files: list[Path]) -> None:
    """Move the finished import from ``new`` to ``out_dir``; an earlier import's files go to ``old`` first, and
    come back if anything fails."""
    if not out_dir.exists():
        os.rename(new, out_dir)
        return
    stale, moved_old, moved_new = _earlier_import(out_dir), [], []
    try:
        _move(stale, out_dir, old, moved_old)
        _move(files, new, out_dir, moved_new)
    except OSError:
        for rel in moved_new:
            (out_dir / rel).unlink(missing_ok=True)
        _move(moved_old, old, out_dir, [])
        raise


def write(imported: Imported, out_dir: str | Path) -> dict[str, Path]:
    """Write what :func:`read` found into ``out_dir``, through a temporary folder beside it; returns ``{"codebook":
    path, coder: path, ..., "participants": path, "sources": path}``, one entry per file written."""
    out_dir = Path(out_dir)
    _check_out(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.import-", dir=out_dir.parent))
    except OSError as exc:
        raise InputError(f"cannot write the import here ({exc.strerror or exc})", out_dir) from None
    try:
        staged = _write_files(imported, tmp / "new")
        _put_in_place(tmp / "new", out_dir, tmp / "old", list(staged.values()))
    except OSError as exc:
        raise InputError(f"cannot write the import ({exc.strerror or exc})", out_dir) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {key: out_dir / rel for key, rel in staged.items()}


def import_project(
    path: str | Path,
    out_dir: str | Path,
    raw: str | Path | None = None,
) -> tuple[dict[str, Path], list[str]]:
    """Read and write; ``(written files, warnings)``."""
    imported = read(path, raw)
    return write(imported, out_dir), imported.warnings
