"""Import a REFI-QDA project (``.qdpx``) made by NVivo, ATLAS.ti, MAXQDA, QualCoder, qc or this compendium.

``compendium import qdpx FILE --out DIR [--raw RAW]`` reads the project (safely: :mod:`compendium.qdpx_archive`
refuses hostile archives and XML) and writes into ``DIR``:

- ``codebook.yml``: the project's codes with their hierarchy, themes and history;
- ``coding/<coder>.csv``: one coding file per user (SPEC 4 columns);
- ``participants.csv``: the project's ``Cases`` with one column per ``Variable`` (when it has cases);
- ``sources.csv``: how every source of the project was named here (``guid, kind, name, source_id, rule,
  matched, selections, imported``), so that a user can see which sources lined up with the compendium's.

Everything is checked before anything is written: a file with a problem gets one line (the ``.qdpx``, the line
of ``project.qde`` and the element) and nothing in ``DIR`` changes. Things that are not errors but that a user
should know (a source that matched nothing, a picture region that a coding file cannot hold) are returned as
warnings, one line each.

**Nothing is invented.** What the file does not say is recorded as unknown:

- a code's ``origin`` is ``unknown`` unless the code's description says ``Origin: deductive|inductive`` (as this
  compendium's export writes); its ``definition`` is the description, or ``not given in <file>``;
- the history has one entry dated from the project's own ``modifiedDateTime`` (else ``creationDateTime``, else
  ``unknown``), naming the file and the software in ``origin``, unless the project carries this compendium's
  history;
- indicators (retrieval patterns, not facts about the data) default to the code's name, as the codebook needs one.

**Code ids** (:func:`code_ids`). A name of the form ``ID: label`` (this compendium's export) keeps ``ID``.
Otherwise the id is the name made safe (letters, digits, ``_ . -``; other runs become ``-``). NVivo allows one
name under several parents (``programming`` under ``competencies`` and under ``framings``), so when two codes
would get the same id, each of them gets the ids of its parents' path joined with ``.``
(``competencies.programming``), and if the paths are also equal, ``~`` and the first 8 characters of its GUID.
The name is kept as the code's ``label``. The rule depends only on the file, so it is stable.

**Source ids** (:func:`source_id`), first that applies: a selection whose name ends with a post id
(``WITI-007#3``, or ``line:4 WITI-007#3``) belongs to that post; the source's ``name`` without a document extension (``FN-2023-01-09.txt`` ->
``FN-2023-01-09``); the file name of ``plainTextPath``/``path`` without extension, unless it is a GUID
(``internal://<guid>.txt``); the GUID itself, reported as unreadable. NVivo names sources with GUID-like
strings; those count as unreadable too. With ``--raw`` the ids are matched to the compendium's transcripts and
field notes (exactly, then ignoring case); unmatched sources are listed as warnings and in ``sources.csv``.

**Offsets** are REFI-QDA's: Unicode code points of the source's plain text, which is what Python's ``str``
indexes, so an emoji counts one. Positions past the end of the source's text (when the archive holds it) are an
error.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from compendium import codebook as codebook_mod
from compendium import qdpx, qdpx_archive
from compendium.coding import COLUMNS as CODING_COLUMNS
from compendium.coding import sort_naturally
from compendium.qdpx_archive import q
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
)
GUID_RE = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
SELECTION_OF = {"TextSource": "PlainTextSelection", "PictureSource": "PictureSelection"}
SOURCE_KINDS = ("TextSource", "PictureSource", "PDFSource", "AudioSource", "VideoSource")
VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue")
SOURCES_COLUMNS = ["guid", "kind", "name", "source_id", "rule", "matched", "selections", "imported"]
NO_DEFINITION = "not given in {file}"


@dataclass
class Imported:
    """What an import found, before anything is written."""

    codebook: codebook_mod.Codebook
    codings: pd.DataFrame
    sources: pd.DataFrame
    participants: pd.DataFrame | None
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- names and ids


def safe_id(name: str) -> str:
    """A name made safe as an id: letters, digits, ``_ . -``; other runs become ``-``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name or "").strip("-.") or "code"


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
            c["id"] = f"{c['id']}~{c['guid'].strip('{}')[:8].lower()}"


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
    return (el.get("guid") or "").strip("{}").lower(), "guid"


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


# --------------------------------------------------------------------------- reading


def _users(project) -> dict[str, str]:
    users = {}
    users_el = project.root.find(q("Users"))
    for u in users_el.findall(q("User")) if users_el is not None else []:
        gid = project.attr(u, "guid", required=True)
        users[gid] = (u.get("id") or u.get("name") or f"user-{gid.strip('{}')[:8]}").strip()
    return users


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
            theme_of.setdefault(project.attr(m, "targetGUID", required=True), tid)
    return themes, theme_of


def _codes(project, file_name: str, theme_of: dict[str, str], themes: dict[str, dict]):
    book = project.root.find(q("CodeBook"))
    codes_el = book.find(q("Codes")) if book is not None else None
    top = codes_el.findall(q("Code")) if codes_el is not None else []
    if not top:
        raise project.error(
            "the project has no codes (no <CodeBook><Codes><Code>): nothing to import",
            next(el for el in (codes_el, book, project.root) if el is not None),
        )
    found: list[dict] = []
    theme_codes: dict[str, dict] = {}

    def walk(el, path: list[str], parent: dict | None, theme: str | None):
        name = project.attr(el, "name", required=True)
        gid = project.attr(el, "guid", required=True)
        desc = el.find(q("Description"))
        text = desc.text if desc is not None and desc.text else ""
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
    code_ids(found)
    code_of: dict[str, str] = {}
    for c in found:
        if c["guid"] in code_of:
            raise project.error(f"code GUID {c['guid']} is used by two codes", c["el"])
        code_of[c["guid"]] = c["id"]
    codes = []
    for c in found:
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
        codes.append({k: v for k, v in entry.items() if v != "" or k == "parent"})
    return codes, code_of, theme_codes


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


def _selections(
    project, src, kind: str, sid: str, users: dict[str, str], code_of: dict[str, str], text_length: int | None, warn
) -> list[dict]:
    rows = []
    tag = SELECTION_OF[kind]
    for sel in src.findall(q(tag)):  # a picture's TextDescription carries no codings of its own here
        post_id = qdpx.post_of_selection((sel.get("name") or "").strip())
        post = post_id is not None
        memo_el = sel.find(q("Description"))
        memo = (memo_el.text or "") if memo_el is not None else ""
        if kind == "TextSource":
            start = project.attr_int(sel, "startPosition")
            end = project.attr_int(sel, "endPosition")
            if start < 0 or end < start:
                raise project.error(f"selection positions {start}..{end} are not a range", sel)
            if text_length is not None and end > text_length:
                raise project.error(
                    f"selection ends at {end}, past the end of its source ({text_length} "
                    "characters, counted in Unicode code points)",
                    sel,
                )
        else:
            for a in ("firstX", "firstY", "secondX", "secondY"):
                project.attr_int(sel, a)
            start = end = None
            if not post:
                warn(
                    project.error(
                        f"picture region of source {sid} skipped: a coding file holds text "
                        "offsets or post ids, not regions",
                        sel,
                    ).format()
                )
                continue
        codings = sel.findall(q("Coding"))
        for cod in codings:
            refs = cod.findall(q("CodeRef"))
            if not refs:
                raise project.error("a Coding without a CodeRef", cod)
            user = cod.get("creatingUser") or sel.get("creatingUser")
            coder = users.get(user) if user else None
            if coder is None:
                coder = "unknown"
                warn(project.error("coding without a known user: coder 'unknown'", cod).format())
            for ref in refs:
                target = project.attr(ref, "targetGUID", required=True)
                if target not in code_of:
                    raise project.error(f"CodeRef to an unknown code GUID {target}", ref)
                rows.append(
                    {
                        "coder": coder,
                        "source_id": post_id if post else sid,
                        "start": None if post else start,
                        "end": None if post else end,
                        "code_id": code_of[target],
                        "memo": memo,
                    }
                )
    return rows


def _source_text(project, src) -> str | None:
    content = src.find(q("PlainTextContent"))
    if content is not None:
        return content.text or ""
    member = _member_of(src.get("plainTextPath"))
    return project.text(member) if member else None


def _sources(project, users, code_of, known: set[str] | None, warn):
    sources_el = project.root.find(q("Sources"))
    rows, table = [], []
    seen: dict[str, str] = {}
    for src in list(sources_el) if sources_el is not None else []:
        kind = src.tag.rsplit("}", 1)[-1]
        if kind not in SOURCE_KINDS:
            continue
        gid = project.attr(src, "guid", required=True)
        sid, rule = source_id(src, kind)
        matched = "no raw given"
        if known is not None:
            exact = sid if sid in known else next((k for k in known if k.lower() == sid.lower()), None)
            matched = "yes" if exact else "no"
            if exact:
                sid = exact
        if rule == "guid":
            warn(project.error(f"source has no readable name: imported under its GUID {sid}", src).format())
        elif matched == "no" and kind == "TextSource":
            warn(project.error(f"source {sid} matches no transcript or field note in the raw folder", src).format())
        if sid in seen and seen[sid] != gid:
            raise project.error(f"two sources would both be named {sid}", src)
        seen[sid] = gid
        selections, imported = 0, []
        if kind in SELECTION_OF:
            text = _source_text(project, src) if kind == "TextSource" else None
            imported = _selections(
                project, src, kind, sid, users, code_of, len(text) if text is not None else None, warn
            )
            selections = len(src.findall(q(SELECTION_OF[kind])))
        elif any(child.tag.endswith("Selection") for child in src):
            warn(
                project.error(
                    f"{kind} {sid}: its selections are skipped (coding files hold text offsets or post ids)", src
                ).format()
            )
        rows += imported
        table.append(
            {
                "guid": gid,
                "kind": kind,
                "name": src.get("name") or "",
                "source_id": sid,
                "rule": rule,
                "matched": matched,
                "selections": selections,
                "imported": len(imported),
            }
        )
    return rows, pd.DataFrame(table, columns=SOURCES_COLUMNS)


def _value(project, vv) -> str:
    for tag in VALUE_TAGS:
        el = vv.find(q(tag))
        if el is not None:
            return (el.text or "").strip()
    return ""


def _participants(project) -> pd.DataFrame | None:
    cases = project.root.find(q("Cases"))
    if cases is None:
        return None
    variables = {}
    vars_el = project.root.find(q("Variables"))
    for v in vars_el.findall(q("Variable")) if vars_el is not None else []:
        variables[project.attr(v, "guid", required=True)] = project.attr(v, "name", required=True)
    rows = []
    for case in cases.findall(q("Case")):
        gid = project.attr(case, "guid", required=True)
        row = {"pseudonym": (case.get("name") or gid).strip()}
        for vv in case.findall(q("VariableValue")):
            ref = vv.find(q("VariableRef"))
            if ref is None:
                raise project.error("a VariableValue without a VariableRef", vv)
            target = project.attr(ref, "targetGUID", required=True)
            if target not in variables:
                raise project.error(f"VariableRef to an unknown variable GUID {target}", ref)
            row[variables[target]] = _value(project, vv)
        rows.append(row)
    columns = ["pseudonym", *[v for v in variables.values() if v != "pseudonym"]]
    return pd.DataFrame(rows, columns=columns).fillna("")


def read(path: str | Path, raw: str | Path | None = None) -> Imported:
    """Read a ``.qdpx`` into an :class:`Imported` (nothing is written). ``raw``: a raw data folder whose
    transcripts and field notes the sources are matched to."""
    path = Path(path)
    project = qdpx_archive.read(path)
    warnings: list[str] = []
    warn = warnings.append
    known = None
    if raw is not None:
        raw = Path(raw)
        known = {
            p.stem
            for d in ("transcripts", "fieldnotes")
            for p in sorted((raw / d).glob("*"))
            if p.is_file() and p.suffix in (".txt", ".md")
        }
    users = _users(project)
    themes, theme_of = _themes_from_sets(project)
    codes, code_of, theme_codes = _codes(project, path.name, theme_of, themes)
    for c in codes:
        if c["theme"] not in themes:
            label = "Codes without a theme" if c["theme"] == "UNTHEMED" else c["theme"]
            themes[c["theme"]] = {"id": c["theme"], "label": label, "definition": label}
    version, history = _history(project, path.name, codes)
    book = codebook_mod.parse(
        {"version": version, "themes": list(themes.values()), "codes": codes, "history": history}, f"{path} (codebook)"
    )
    rows, sources = _sources(project, users, code_of, known, warn)
    df = pd.DataFrame(rows, columns=CODING_COLUMNS).drop_duplicates(
        subset=["coder", "source_id", "start", "end", "code_id"]
    )
    df["start"] = df["start"].astype("Int64")
    df["end"] = df["end"].astype("Int64")
    return Imported(book, df, sources, _participants(project), warnings)


def write(imported: Imported, out_dir: str | Path) -> dict[str, Path]:
    """Write what :func:`read` found into ``out_dir``; returns ``{"codebook": path, coder: path, ...}``."""
    out_dir = Path(out_dir)
    written = {"codebook": codebook_mod.dump(imported.codebook, out_dir / "codebook.yml")}
    for coder, g in imported.codings.groupby("coder"):
        g = sort_naturally(g, ["source_id", "start", "end", "code_id"])
        written[str(coder)] = write_csv(g, out_dir / "coding" / f"{safe_id(str(coder))}.csv")
    if imported.participants is not None:
        written["participants"] = write_csv(imported.participants, out_dir / "participants.csv")
    written["sources"] = write_csv(imported.sources, out_dir / "sources.csv")
    return written


def import_project(
    path: str | Path,
    out_dir: str | Path,
    raw: str | Path | None = None,
) -> tuple[dict[str, Path], list[str]]:
    """Read and write; ``(written files, warnings)``."""
    imported = read(path, raw)
    return write(imported, out_dir), imported.warnings
