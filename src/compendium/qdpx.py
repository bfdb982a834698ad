"""REFI-QDA project exchange (``.qdpx``) with NVivo, ATLAS.ti, MAXQDA, QualCoder and qc: the export.

A QDPX file is a zip archive holding ``project.qde`` (XML in the namespace ``urn:QDA-XML:project:1.0``, schema
``Project-mrt2019.xsd`` of the Rotterdam Exchange Format Initiative, www.qdasoftware.org) and a ``sources/``
folder with the source files, which the XML refers to as ``internal://<guid>.<ext>``. Reading one is
:mod:`compendium.qdpx_import` (and :mod:`compendium.qdpx_archive` for hostile files); docs/qdpx.md has the
details.

What is exported (:func:`export`):

- ``Users``: one per coder, ``id`` the coder id, ``name`` its display name (``Coder A``).
- ``CodeBook``: codes nested by ``parent``; the code's name is ``ID: label``; its description is the definition
  followed by labelled lines ``Include:``, ``Exclude:``, ``Example:``, ``Indicators:`` (``;``-separated),
  ``Origin:``, ``Theme:`` that the import reads back. With ``themes_as_codes`` each theme is also a top-level,
  non-codable code holding its codes, so that tools that drop ``Sets`` (qc, QualCoder) keep the themes.
- ``Variables`` and ``Cases``: one case per participant (``participants.csv``), each column a variable (Integer
  when every value is a whole number, else Text), the case linked to the participant's interview.
- ``Sources``: one ``TextSource`` per transcript or field note with one ``PlainTextSelection`` per code
  application (memo as description). Screenshot pages, with ``pages="picture"`` (the default): the **redacted**
  screenshot as a ``PictureSource``, each post coding a ``PictureSelection`` over the post's region (from the
  ``boxes`` of ``posts.csv``), and the text of the page's posts as the picture's ``TextDescription`` so that it can
  be searched. The picture *replaces* the text page as the place of the codings, so that no tool counts a post
  coding twice; pages without a redacted image, and every page with ``pages="text"`` (for tools that read text
  only, qc), are ``TextSource`` pages built from the posts' text (:func:`post_pages`). A text selection is named
  ``line:N`` (the line it starts on, from 0: qc places codings by it), followed by the post id (``WITI-007#3``) when
  it comes from a whole-post coding, so that import turns it back into a post coding; a picture selection is
  named with the post id.
- ``Sets``: one per theme, with the theme's codes as members.
- ``Description``: the codebook version, the order of codes in ``codebook.yml`` and the history (YAML), for a
  lossless round trip.

Offsets are counted in Unicode code points (REFI-QDA's rule, and what a Python ``str`` indexes): an emoji is one.

The bytes are deterministic: GUIDs are UUID5s of stable names, dates come from ``study.yml`` (never the clock),
the zip has fixed timestamps and permissions, sorted entries and no compression (so that bytes do not depend on
the zlib build).
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

from compendium.codebook import Codebook
from compendium.coding import is_post_id, natural_key

NS = "urn:QDA-XML:project:1.0"
SCHEMA = Path(__file__).parent / "schemas" / "Project-mrt2019.xsd"
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://doi.org/10.5334/pme.2107#witi-compendium")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
THEME_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
FIELDS = [
    ("Include", "include"),
    ("Exclude", "exclude"),
    ("Example", "example"),
    ("Indicators", "indicators"),
    ("Origin", "origin"),
    ("Theme", "theme"),
]
_FIELD_LINE = re.compile(r"^(Include|Exclude|Example|Indicators|Origin|Theme): ?(.*)$")
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*): (.*)$", re.S)
HISTORY_MARK = "Codebook history (YAML):"
ORDER_MARK = "Code order in codebook.yml:"
THEME_CODE_MARK = "Theme (a REFI-QDA Set, also written as a code for tools that drop sets):"
PAGES = ("picture", "text")


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


def display_name(coder: str) -> str:
    """A coder's display name in the project: ``Coder A`` for coder id ``A``."""
    return f"Coder {coder}"


def _stamp(date: str | None) -> str | None:
    """``YYYY-MM-DD`` -> the xsd:dateTime REFI-QDA wants (midnight UTC); ``None`` stays ``None``."""
    return f"{str(date)[:10]}T00:00:00Z" if date else None


def _variables(participants: pd.DataFrame) -> list[tuple[str, str]]:
    """``[(column, typeOfVariable)]`` of the participants table's columns other than ``pseudonym``: Integer when
    every non-empty value is a whole number, else Text."""
    out = []
    for col in participants.columns:
        if col == "pseudonym":
            continue
        values = [str(v).strip() for v in participants[col] if str(v).strip() not in ("", "nan", "<NA>")]
        kind = "Integer" if values and all(re.fullmatch(r"-?\d+", v) for v in values) else "Text"
        out.append((col, kind))
    return out


def _add_cases(root: ET.Element, participants: pd.DataFrame, texts: Mapping[str, str]) -> None:
    variables = _variables(participants)
    el_vars = _sub(root, "Variables")
    for col, kind in variables:
        _sub(el_vars, "Variable", guid=guid("variable", col), name=col, typeOfVariable=kind)
    el_cases = _sub(root, "Cases")
    for rec in participants.to_dict("records"):
        pid = str(rec["pseudonym"]).strip()
        el_case = _sub(el_cases, "Case", guid=guid("case", pid), name=pid)
        for col, kind in variables:
            value = str(rec.get(col, "")).strip()
            if value in ("", "nan", "<NA>"):
                continue
            el_vv = _sub(el_case, "VariableValue")
            _sub(el_vv, "VariableRef", targetGUID=guid("variable", col))
            _sub(el_vv, f"{kind}Value", value)
        if pid in texts:
            _sub(el_case, "SourceRef", targetGUID=guid("source", pid))
    if not len(participants):
        root.remove(el_vars)
        root.remove(el_cases)


def selection_name(text: str | None, start: int | None, post_id: str | None) -> str | None:
    """A selection's name: ``line:N`` (N counted from 0: the line of the text where it starts, qc's convention,
    without which qc puts every coding on line 0), then the post id of a whole-post coding; ``None`` if neither."""
    parts = [] if text is None or start is None else [f"line:{text.count(chr(10), 0, start)}"]
    if post_id:
        parts.append(post_id)
    return " ".join(parts) or None


def post_of_selection(name: str | None) -> str | None:
    """The post id a selection's name carries (its last word), else ``None``."""
    last = (name or "").split(" ")[-1]
    return last if is_post_id(last) else None


def _selection(parent: ET.Element, tag: str, r, created: str | None, text: str | None = None, **where) -> None:
    key = f"{r.coder}:{r.post_id or r.source}:{r.start}:{r.end}:{r.code_id}"
    name = selection_name(text, r.start if tag == "PlainTextSelection" else None, r.post_id)
    el_sel = _sub(
        parent,
        tag,
        guid=guid("selection", key),
        name=name,
        **where,
        creatingUser=guid("user", r.coder),
        creationDateTime=created,
    )
    if isinstance(r.memo, str) and r.memo:
        _sub(el_sel, "Description", r.memo)
    el_cod = _sub(
        el_sel, "Coding", guid=guid("coding", key), creatingUser=guid("user", r.coder), creationDateTime=created
    )
    _sub(el_cod, "CodeRef", targetGUID=guid("code", r.code_id))


def _sorted_selections(g: pd.DataFrame) -> pd.DataFrame:
    g = g.assign(
        _c=g["coder"].map(natural_key), _k=g["code_id"].map(natural_key), _p=g["post_id"].fillna("").map(natural_key)
    )
    return g.sort_values(["start", "end", "_p", "_c", "_k"], kind="stable")


def project_xml(
    codebook: Codebook,
    sources: Mapping[str, str],
    codings: pd.DataFrame,
    users: Mapping[str, str] | Iterable[str] | None = None,
    posts: pd.DataFrame | None = None,
    name: str = "WITI research compendium",
    participants: pd.DataFrame | None = None,
    pictures: Mapping[str, bytes] | None = None,
    created: str | None = None,
    pages: str = "picture",
    themes_as_codes: bool = False,
) -> tuple[bytes, dict[str, bytes]]:
    """``project.qde`` bytes and ``{zip path: bytes}`` of the source files (see :func:`export`)."""
    if pages not in PAGES:
        raise ValueError(f"pages must be one of {', '.join(PAGES)}, not {pages!r}")
    codings = codings.copy()
    created = _stamp(created)
    coders = sorted(set(codings["coder"]), key=natural_key)
    if users is None:
        users = {c: display_name(c) for c in coders}
    elif not isinstance(users, Mapping):
        users = {u: display_name(u) for u in users}
    users = dict(users)
    for c in coders:
        users.setdefault(c, display_name(c))
    pictures = dict(pictures or {}) if pages == "picture" else {}

    texts = dict(sources)
    spans: dict[str, tuple[str, int, int]] = {}
    page_texts: dict[str, str] = {}
    regions: dict[str, tuple[int, int, int, int]] = {}
    if posts is not None and len(posts):
        page_texts, spans = post_pages(posts)
        for page, text in page_texts.items():
            if page not in pictures:
                texts.setdefault(page, text)
        if pictures:
            from compendium.screenshots import post_box

            for rec in posts.itertuples(index=False):
                if str(rec.screenshot_id) in pictures:
                    regions[str(rec.post_id)] = post_box(rec.boxes)

    root = ET.Element("Project", {"xmlns": NS, "name": name, "origin": "WITI research compendium"})
    if created:
        root.set("creationDateTime", created)
        root.set("modifiedDateTime", created)
    ordered_users = sorted(users, key=natural_key)
    if ordered_users:
        root.set("creatingUserGUID", guid("user", ordered_users[0]))
    el_users = _sub(root, "Users")
    for u in ordered_users:
        _sub(el_users, "User", guid=guid("user", u), name=users[u], id=u)

    # codebook, nested by parent; with themes_as_codes each theme is a top-level code holding its codes
    theme_index = {t: i for i, t in enumerate(codebook.theme_ids)}
    el_codes = _sub(_sub(root, "CodeBook"), "Codes")
    code_rows = list(codebook.codes.itertuples(index=False))

    def colour(theme: str) -> str:
        return THEME_COLOURS[theme_index.get(theme, 0) % len(THEME_COLOURS)]

    def add_code(parent_el, code):
        el = _sub(
            parent_el,
            "Code",
            guid=guid("code", code.id),
            name=f"{code.id}: {code.label}",
            isCodable="true",
            color=colour(code.theme),
        )
        _sub(el, "Description", _description(code))
        for child in code_rows:
            if child.parent == code.id:
                add_code(el, child)

    if themes_as_codes:
        for theme in codebook.themes.itertuples(index=False):
            el_theme = _sub(
                el_codes,
                "Code",
                guid=guid("theme-code", theme.id),
                name=f"{theme.id}: {theme.label}",
                isCodable="false",
                color=colour(theme.id),
            )
            _sub(el_theme, "Description", f"{THEME_CODE_MARK} {theme.definition}")
            for code in code_rows:
                if not code.parent and code.theme == theme.id:
                    add_code(el_theme, code)
    for code in code_rows:
        if not code.parent and not (themes_as_codes and code.theme in theme_index):
            add_code(el_codes, code)

    if participants is not None:
        _add_cases(root, participants, texts)

    # selections
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
            rows.append((sid, int(rec.start), int(rec.end), rec.coder, rec.code_id, rec.memo, None))
    sel = pd.DataFrame(rows, columns=["source", "start", "end", "coder", "code_id", "memo", "post_id"])
    by_source = {s: g for s, g in sel.groupby("source")}

    el_sources = _sub(root, "Sources")
    files: dict[str, bytes] = {}
    for sid in sorted(set(texts) | set(pictures), key=natural_key):
        sguid = guid("source", sid)
        g = by_source.get(sid)
        if sid in pictures:
            files[f"sources/{sguid}.png"] = pictures[sid]
            el_src = _sub(
                el_sources,
                "PictureSource",
                guid=sguid,
                name=sid,
                path=f"internal://{sguid}.png",
                creationDateTime=created,
            )
            _sub(el_src, "Description", f"Redacted screenshot {sid}; each coded post is a region of it.")
            if sid in page_texts:
                tguid = guid("page-text", sid)
                files[f"sources/{tguid}.txt"] = page_texts[sid].encode("utf-8")
                _sub(
                    el_src,
                    "TextDescription",
                    guid=tguid,
                    name=f"{sid} (text of its posts)",
                    plainTextPath=f"internal://{tguid}.txt",
                    creationDateTime=created,
                )
            for r in _sorted_selections(g).itertuples(index=False) if g is not None else ():
                x0, y0, x1, y1 = regions[r.post_id]
                _selection(el_src, "PictureSelection", r, created, firstX=x0, firstY=y0, secondX=x1, secondY=y1)
            continue
        files[f"sources/{sguid}.txt"] = texts[sid].encode("utf-8")
        el_src = _sub(
            el_sources,
            "TextSource",
            guid=sguid,
            name=sid,
            plainTextPath=f"internal://{sguid}.txt",
            creationDateTime=created,
        )
        for r in _sorted_selections(g).itertuples(index=False) if g is not None else ():
            _selection(el_src, "PlainTextSelection", r, created, texts[sid], startPosition=r.start, endPosition=r.end)

    # themes as sets
    el_sets = _sub(root, "Sets")
    for theme in codebook.themes.itertuples(index=False):
        el_set = _sub(el_sets, "Set", guid=guid("theme", theme.id), name=f"{theme.id}: {theme.label}")
        _sub(el_set, "Description", theme.definition)
        for code in code_rows:
            if code.theme == theme.id:
                _sub(el_set, "MemberCode", targetGUID=guid("code", code.id))

    history = yaml.safe_dump(codebook.to_dict()["history"], sort_keys=False, allow_unicode=True, width=100)
    order = " ".join(codebook.code_ids)
    _sub(
        root,
        "Description",
        f"{name}. Codebook version: {codebook.version}\n{ORDER_MARK} {order}\n\n{HISTORY_MARK}\n{history}",
    )
    ET.indent(root, space="  ")
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml + b"\n", files


def export(
    path: str | Path,
    codebook: Codebook,
    sources: Mapping[str, str],
    codings: pd.DataFrame,
    **options,
) -> Path:
    """Write a ``.qdpx`` project; the same inputs always give the same bytes.

    ``sources``: ``{source_id: normalised text}`` of transcripts and field notes; ``codings``: coding-file rows
    (:func:`compendium.coding.load`); ``options``, the keyword arguments of :func:`project_xml`: ``users``: ``{coder: display name}`` or coder ids (default: the coders in
    ``codings``, shown as ``Coder A``); ``posts``: ``posts.csv`` rows, needed when ``codings`` has post codings;
    ``participants``: the participants table (cases and variables); ``pictures``: ``{screenshot_id: PNG bytes}``
    of the redacted screenshots; ``created``: the project's date (``YYYY-MM-DD``, never the clock);
    ``pages``: ``picture`` (a page with a picture is a ``PictureSource``, coded posts are regions of it) or
    ``text`` (every page is a ``TextSource`` built from its posts' text, for tools that read only text);
    ``themes_as_codes``: also write each theme as a top-level, non-codable code holding its codes.
    """
    xml, files = project_xml(codebook, sources, codings, **options)
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


def project_date(raw: str | Path) -> str | None:
    """The project's date: the latest date under ``dates`` in ``study.yml`` (``None`` without one)."""
    study = Path(raw) / "study.yml"
    if not study.is_file():
        return None
    data = yaml.safe_load(study.read_text(encoding="utf-8")) or {}
    dates = [str(v)[:10] for v in (data.get("dates") or {}).values() if re.match(r"^\d{4}-\d{2}-\d{2}", str(v))]
    return max(dates) if dates else None


def export_from_folders(
    raw: str | Path,
    derived: str | Path,
    path: str | Path,
    name: str = "WITI research compendium",
    pages: str = "picture",
    themes_as_codes: bool = False,
) -> Path:
    """``compendium export qdpx FILE``: export a laid-out corpus (raw + derived folders).

    Sources are the normalised transcripts and field notes of ``raw`` and the screenshot pages: the redacted
    images of ``derived/redacted/`` as picture sources (``pages="picture"``), or text built from
    ``derived/posts.csv``; cases from ``raw/participants.csv``; codings are every coder's coding file.
    """
    from compendium import corpus, participants

    raw, derived = Path(raw), Path(derived)
    book, sources, posts, _segments, codings = corpus.load_all(raw, derived, min_coders=1)
    people = (
        participants.load_participants(raw / participants.FILE_NAME)
        if (raw / participants.FILE_NAME).is_file()
        else None
    )
    pictures = {}
    if pages == "picture" and len(posts):
        for page in sorted(set(posts["screenshot_id"].astype(str)), key=natural_key):
            png = derived / "redacted" / f"{page}.png"
            if png.is_file():
                pictures[page] = png.read_bytes()
    return export(
        path,
        book,
        corpus.source_texts(sources),
        codings,
        posts=posts,
        name=name,
        participants=people,
        pictures=pictures,
        created=project_date(raw),
        pages=pages,
        themes_as_codes=themes_as_codes,
    )


def validate(qde: bytes, schema: str | Path = SCHEMA) -> None:
    """Validate ``project.qde`` bytes against the REFI-QDA schema (needs ``xmlschema``)."""
    import xmlschema

    xmlschema.XMLSchema(str(schema)).validate(io.BytesIO(qde))


# --------------------------------------------------------------------------- import


def parse_description(text: str) -> dict[str, str]:
    """Split a code description into definition and the labelled fields written by export."""
    text = text or ""
    out = {"definition": text.strip()}
    cut = text.rfind("\n\nInclude:")
    if cut < 0:
        return out
    out["definition"] = text[:cut].strip()
    current = None
    for line in text[cut + 2 :].split("\n"):
        m = _FIELD_LINE.match(line)
        if m:
            current = dict(FIELDS)[m.group(1)]
            out[current] = m.group(2)
        elif current:
            out[current] += "\n" + line
    return {k: v.strip() for k, v in out.items()}


def split_name(name: str) -> tuple[str, str] | None:
    """``(id, label)`` of a name written as ``ID: label`` (this compendium's export), else ``None``."""
    m = _NAME.match(name or "")
    return (m.group(1), m.group(2)) if m else None


def import_(path: str | Path, out_dir: str | Path, raw: str | Path | None = None) -> dict[str, Path]:
    """Read a ``.qdpx`` and write ``codebook.yml``, one coding CSV per user, ``participants.csv`` (cases) and
    ``sources.csv`` into ``out_dir`` (:mod:`compendium.qdpx_import`). Returns ``{"codebook": path, coder: path,
    ...}``."""
    from compendium import qdpx_import

    written, _warnings = qdpx_import.import_project(path, out_dir, raw)
    return written
