"""REFI-QDA project exchange (``.qdpx``) with NVivo, ATLAS.ti, MAXQDA and QualCoder.

A QDPX file is a zip archive holding ``project.qde`` (XML in the namespace
``urn:QDA-XML:project:1.0``, schema ``Project-mrt2019.xsd`` of the Rotterdam Exchange Format
Initiative, www.qdasoftware.org) and a ``sources/`` folder with the plain-text sources, which the
XML refers to as ``internal://<guid>.txt``.

What is exported:

- ``Users``: one per coder (``id`` = coder id, ``name`` = display name).
- ``CodeBook``: codes nested by ``parent``; the code's name is ``ID: label``; its description is
  the definition followed by labelled lines ``Include:``, ``Exclude:``, ``Example:``,
  ``Indicators:`` (``;``-separated), ``Origin:``, ``Theme:`` that :func:`import_` reads back.
- ``Sources``: one ``TextSource`` per transcript or field note, and one per screenshot page
  built from the page's post texts (:func:`post_pages`); one ``PlainTextSelection`` per code
  application with a ``Coding`` (``creatingUser``, ``CodeRef``) and the memo as description.
  A selection made from a whole-post coding is named with the post id (``WITI-007#3``), so
  that import turns it back into a post coding.
- ``Sets``: one per theme, with the theme's codes as members (themes are not codes).
- ``Description``: the codebook version, the order of codes in ``codebook.yml`` and the history
  (YAML), for a lossless round trip.

The bytes are deterministic: GUIDs are UUID5s of stable names, the zip has fixed timestamps and
permissions, sorted entries and no compression (so that bytes do not depend on the zlib build).
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd
import yaml

from compendium import codebook as codebook_mod
from compendium.codebook import Codebook
from compendium.coding import COLUMNS as CODING_COLUMNS
from compendium.coding import is_post_id, natural_key, sort_naturally
from compendium.errors import InputError
from compendium.tables import write_csv

NS = "urn:QDA-XML:project:1.0"
SCHEMA = Path(__file__).parent / "schemas" / "Project-mrt2019.xsd"
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://doi.org/10.5334/pme.2107#witi-compendium")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
THEME_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
FIELDS = [("Include", "include"), ("Exclude", "exclude"), ("Example", "example"),
          ("Indicators", "indicators"), ("Origin", "origin"), ("Theme", "theme")]
_FIELD_LINE = re.compile(r"^(Include|Exclude|Example|Indicators|Origin|Theme): ?(.*)$")
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*): (.*)$", re.S)
_HISTORY_MARK = "Codebook history (YAML):"
_ORDER_MARK = "Code order in codebook.yml:"


def guid(kind: str, name: str) -> str:
    """A stable GUID for an object of ``kind`` named ``name``."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{name}"))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    # Elements are built with plain names under a root carrying xmlns=NS (ElementTree's
    # default_namespace option cannot serialise unqualified attributes).
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


# --------------------------------------------------------------------------- posts as pages

def post_pages(posts: pd.DataFrame) -> tuple[dict[str, str], dict[str, tuple[str, int, int]]]:
    """Text sources for screenshot pages built from post texts.

    Each post is one line ``<indent by depth>author: text``; returns ``({page_id: text},
    {post_id: (page_id, start, end)})`` where ``[start, end)`` is the post text on the page.
    """
    p = posts.fillna("").copy()
    p["depth"] = pd.to_numeric(p["depth"], errors="coerce").fillna(0).astype(int)
    p["post_index"] = pd.to_numeric(p["post_index"], errors="coerce").fillna(0).astype(int)
    texts, spans = {}, {}
    for page, g in p.groupby("screenshot_id"):
        parts, pos = [], 0
        for rec in g.sort_values("post_index").itertuples(index=False):
            prefix = "    " * rec.depth + f"{rec.author or 'Anonymous member'}: "
            body = " ".join(str(rec.text).split())
            spans[str(rec.post_id)] = (str(page), pos + len(prefix), pos + len(prefix) + len(body))
            line = prefix + body + "\n"
            parts.append(line)
            pos += len(line)
        texts[str(page)] = "".join(parts)
    return texts, spans


# --------------------------------------------------------------------------- export

def _description(code) -> str:
    lines = []
    for label, key in FIELDS:
        value = getattr(code, key)
        if key == "indicators":
            value = "; ".join(value)
        lines.append(f"{label}: {value}".rstrip())
    return (code.definition or "") + "\n\n" + "\n".join(lines)


def project_xml(codebook: Codebook, sources: Mapping[str, str], codings: pd.DataFrame,
                users: Mapping[str, str] | Iterable[str] | None = None,
                posts: pd.DataFrame | None = None, name: str = "WITI research compendium",
                ) -> tuple[bytes, dict[str, bytes]]:
    """``project.qde`` bytes and ``{zip path: bytes}`` of the source files."""
    codings = codings.copy()
    coders = sorted(set(codings["coder"]), key=natural_key)
    if users is None:
        users = {c: c for c in coders}
    elif not isinstance(users, Mapping):
        users = {u: u for u in users}
    users = dict(users)
    for c in coders:
        users.setdefault(c, c)

    texts = dict(sources)
    spans: dict[str, tuple[str, int, int]] = {}
    if posts is not None and len(posts):
        page_texts, spans = post_pages(posts)
        for page, text in page_texts.items():
            texts.setdefault(page, text)

    root = ET.Element("Project", {"xmlns": NS, "name": name,
                                  "origin": "WITI research compendium"})
    ordered_users = sorted(users, key=natural_key)
    if ordered_users:
        root.set("creatingUserGUID", guid("user", ordered_users[0]))
    el_users = _sub(root, "Users")
    for u in ordered_users:
        _sub(el_users, "User", guid=guid("user", u), name=users[u], id=u)

    # codebook, nested by parent
    theme_index = {t: i for i, t in enumerate(codebook.theme_ids)}
    el_codes = _sub(_sub(root, "CodeBook"), "Codes")
    code_rows = list(codebook.codes.itertuples(index=False))

    def add_code(parent_el, code):
        el = _sub(parent_el, "Code", guid=guid("code", code.id), name=f"{code.id}: {code.label}",
                  isCodable="true",
                  color=THEME_COLOURS[theme_index.get(code.theme, 0) % len(THEME_COLOURS)])
        _sub(el, "Description", _description(code))
        for child in code_rows:
            if child.parent == code.id:
                add_code(el, child)

    for code in code_rows:
        if not code.parent:
            add_code(el_codes, code)

    # sources and selections
    el_sources = _sub(root, "Sources")
    files: dict[str, bytes] = {}
    rows = []
    for rec in codings.itertuples(index=False):
        sid = str(rec.source_id)
        if is_post_id(sid):
            if sid not in spans:
                raise ValueError(f"coding of post {sid}: post not in posts")
            page, start, end = spans[sid]
            rows.append((page, start, end, rec.coder, rec.code_id, rec.memo, sid))
        else:
            if sid not in texts:
                raise ValueError(f"coding of source {sid}: no text given for it")
            rows.append((sid, int(rec.start), int(rec.end), rec.coder, rec.code_id, rec.memo,
                         None))
    sel = pd.DataFrame(rows, columns=["source", "start", "end", "coder", "code_id", "memo",
                                      "post_id"])
    by_source = {s: g for s, g in sel.groupby("source")}
    for sid in sorted(texts, key=natural_key):
        sguid = guid("source", sid)
        path = f"sources/{sguid}.txt"
        files[path] = texts[sid].encode("utf-8")
        el_src = _sub(el_sources, "TextSource", guid=sguid, name=sid,
                      plainTextPath=f"internal://{sguid}.txt")
        g = by_source.get(sid)
        if g is None:
            continue
        g = g.assign(_c=g["coder"].map(natural_key), _k=g["code_id"].map(natural_key))
        g = g.sort_values(["start", "end", "_c", "_k"], kind="stable")
        for r in g.itertuples(index=False):
            key = f"{r.coder}:{r.post_id or sid}:{r.start}:{r.end}:{r.code_id}"
            el_sel = _sub(el_src, "PlainTextSelection", guid=guid("selection", key),
                          name=r.post_id, startPosition=r.start, endPosition=r.end,
                          creatingUser=guid("user", r.coder))
            if isinstance(r.memo, str) and r.memo:
                _sub(el_sel, "Description", r.memo)
            el_cod = _sub(el_sel, "Coding", guid=guid("coding", key),
                          creatingUser=guid("user", r.coder))
            _sub(el_cod, "CodeRef", targetGUID=guid("code", r.code_id))

    # themes as sets
    el_sets = _sub(root, "Sets")
    for theme in codebook.themes.itertuples(index=False):
        el_set = _sub(el_sets, "Set", guid=guid("theme", theme.id),
                      name=f"{theme.id}: {theme.label}")
        _sub(el_set, "Description", theme.definition)
        for code in code_rows:
            if code.theme == theme.id:
                _sub(el_set, "MemberCode", targetGUID=guid("code", code.id))

    history = yaml.safe_dump(codebook.to_dict()["history"], sort_keys=False,
                             allow_unicode=True, width=100)
    order = " ".join(codebook.code_ids)
    _sub(root, "Description", f"{name}. Codebook version: {codebook.version}\n"
                              f"{_ORDER_MARK} {order}\n\n{_HISTORY_MARK}\n{history}")
    ET.indent(root, space="  ")
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml + b"\n", files


def export(path: str | Path, codebook: Codebook, sources: Mapping[str, str],
           codings: pd.DataFrame, users: Mapping[str, str] | Iterable[str] | None = None,
           posts: pd.DataFrame | None = None, name: str = "WITI research compendium") -> Path:
    """Write a ``.qdpx`` project; the same inputs always give the same bytes.

    ``sources``: ``{source_id: normalised text}`` of transcripts and field notes; ``codings``:
    coding-file rows (:func:`compendium.coding.load`); ``users``: ``{coder: display name}`` or
    coder ids (default: the coders in ``codings``); ``posts``: ``posts.csv`` rows, needed when
    ``codings`` has post codings (their pages become text sources).
    """
    xml, files = project_xml(codebook, sources, codings, users, posts, name)
    entries = {"project.qde": xml, **files}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for entry in sorted(entries):
            info = zipfile.ZipInfo(entry, date_time=ZIP_DATE)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            zf.writestr(info, entries[entry])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


def export_from_folders(raw: str | Path, derived: str | Path, path: str | Path,
                        name: str = "WITI research compendium") -> Path:
    """``compendium export qdpx FILE``: export a laid-out corpus (raw + derived folders).

    Sources are the normalised transcripts and field notes of ``raw`` and the screenshot pages
    built from ``derived/posts.csv`` (de-identified); codings are every coder's coding file.
    """
    from compendium import corpus

    book, sources, posts, _segments, codings = corpus.load_all(raw, derived, min_coders=1)
    return export(path, book, corpus.source_texts(sources), codings, posts=posts, name=name)


def validate(qde: bytes, schema: str | Path = SCHEMA) -> None:
    """Validate ``project.qde`` bytes against the REFI-QDA schema (needs ``xmlschema``)."""
    import xmlschema

    xmlschema.XMLSchema(str(schema)).validate(io.BytesIO(qde))


# --------------------------------------------------------------------------- import

def _parse_description(text: str) -> dict[str, str]:
    """Split a code description into definition and the labelled fields written by export."""
    text = text or ""
    out = {"definition": text.strip()}
    cut = text.rfind("\n\nInclude:")
    if cut < 0:
        return out
    out["definition"] = text[:cut].strip()
    current = None
    for line in text[cut + 2:].split("\n"):
        m = _FIELD_LINE.match(line)
        if m:
            current = dict(FIELDS)[m.group(1)]
            out[current] = m.group(2)
        elif current:
            out[current] += "\n" + line
    return {k: v.strip() for k, v in out.items()}


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "code"


def _split_name(name: str) -> tuple[str, str]:
    m = _NAME.match(name or "")
    return (m.group(1), m.group(2)) if m else (_slug(name), name)


def read_project(path: str | Path) -> ET.Element:
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            qde = zf.read("project.qde")
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except zipfile.BadZipFile:
        raise InputError("not a QDPX file (not a zip archive)", path) from None
    except KeyError:
        raise InputError("not a QDPX file (no project.qde in the archive)", path) from None
    try:
        root = ET.fromstring(qde)
    except ET.ParseError as exc:
        raise InputError(f"project.qde is not well-formed XML ({exc})", path,
                         exc.position[0]) from None
    if root.tag != _q("Project"):
        raise InputError(f"project.qde: root element must be Project in namespace {NS}", path)
    return root


def import_(path: str | Path, out_dir: str | Path) -> dict[str, Path]:
    """Read a ``.qdpx`` and write ``codebook.yml`` and one coding CSV per user into ``out_dir``.

    Round-trips :func:`export`. From other software: codes named ``ID: label`` keep their id
    (otherwise the name becomes the id); themes come from each code's ``Theme:`` line or its
    set; codes without a theme go to a theme ``UNTHEMED``; codes without indicators get their
    label as indicator and origin ``inductive``. Returns ``{"codebook": path, coder: path}``.
    """
    path = Path(path)
    root = read_project(path)
    out_dir = Path(out_dir)

    users = {}
    for u in root.iter(_q("User")):
        users[u.get("guid")] = u.get("id") or u.get("name") or u.get("guid")

    # sets -> themes
    themes: dict[str, dict] = {}
    set_theme_of: dict[str, str] = {}
    for s in root.iter(_q("Set")):
        tid, label = _split_name(s.get("name", ""))
        desc = s.find(_q("Description"))
        themes.setdefault(tid, {"id": tid, "label": label,
                                "definition": (desc.text or "").strip() if desc is not None
                                else label})
        for m in s.findall(_q("MemberCode")):
            set_theme_of[m.get("targetGUID")] = tid

    codes = []
    code_of: dict[str, str] = {}

    def walk(el: ET.Element, parent: str):
        cid, label = _split_name(el.get("name", ""))
        desc = el.find(_q("Description"))
        fields = _parse_description(desc.text if desc is not None else "")
        theme = fields.get("theme") or set_theme_of.get(el.get("guid")) or "UNTHEMED"
        indicators = [i.strip() for i in fields.get("indicators", "").split(";") if i.strip()]
        entry = {"id": cid, "label": label, "theme": theme, "parent": parent,
                 "origin": fields.get("origin") or "inductive",
                 "definition": fields.get("definition") or label,
                 "include": fields.get("include", ""), "exclude": fields.get("exclude", ""),
                 "example": fields.get("example", ""),
                 "indicators": indicators or [label.lower()]}
        codes.append({k: v for k, v in entry.items() if v != "" or k == "parent"})
        code_of[el.get("guid")] = cid
        for child in el.findall(_q("Code")):
            walk(child, cid)

    book = root.find(_q("CodeBook"))
    if book is not None:
        for el in book.find(_q("Codes")).findall(_q("Code")):
            walk(el, "")
    for c in codes:
        if c["theme"] not in themes:
            label = "Codes without a theme" if c["theme"] == "UNTHEMED" else c["theme"]
            themes[c["theme"]] = {"id": c["theme"], "label": label, "definition": label}

    version, history = "imported", []
    desc = root.find(_q("Description"))
    if desc is not None and desc.text:
        m = re.search(r"Codebook version: (.+)", desc.text)
        if m:
            version = m.group(1).strip()
        m = re.search(re.escape(_ORDER_MARK) + r" (.+)", desc.text)
        if m:
            rank = {cid: i for i, cid in enumerate(m.group(1).split())}
            codes.sort(key=lambda c: rank.get(c["id"], len(rank)))  # stable: unknown keep tree order
        if _HISTORY_MARK in desc.text:
            loaded = yaml.safe_load(desc.text.split(_HISTORY_MARK, 1)[1])
            if isinstance(loaded, list):
                history = loaded
    if not history:
        history = [{"date": "1970-01-01", "change": f"imported from {path.name}"}]
    cb = codebook_mod.parse({"version": version, "themes": list(themes.values()),
                             "codes": codes, "history": history}, "codebook.yml")

    rows = []
    for src in root.iter(_q("TextSource")):
        sid = src.get("name") or src.get("guid")
        for sel in src.findall(_q("PlainTextSelection")):
            memo_el = sel.find(_q("Description"))
            memo = (memo_el.text or "") if memo_el is not None else ""
            sel_name = sel.get("name") or ""
            post = is_post_id(sel_name)
            for cod in sel.findall(_q("Coding")):
                ref = cod.find(_q("CodeRef"))
                user = cod.get("creatingUser") or sel.get("creatingUser")
                rows.append({
                    "coder": users.get(user, user or "unknown"),
                    "source_id": sel_name if post else sid,
                    "start": None if post else int(sel.get("startPosition")),
                    "end": None if post else int(sel.get("endPosition")),
                    "code_id": code_of.get(ref.get("targetGUID") if ref is not None else None,
                                           "UNKNOWN"),
                    "memo": memo,
                })
    df = pd.DataFrame(rows, columns=CODING_COLUMNS)
    df["start"] = df["start"].astype("Int64")
    df["end"] = df["end"].astype("Int64")

    written = {"codebook": codebook_mod.dump(cb, out_dir / "codebook.yml")}
    for coder, g in df.groupby("coder"):
        g = sort_naturally(g, ["source_id", "start", "end", "code_id"])
        written[coder] = write_csv(g, out_dir / "coding" / f"{_slug(str(coder))}.csv")
    return written
