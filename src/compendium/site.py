"""The report site: the six executed notebooks as linked HTML pages, and ``REPORTS/index.html`` that leads to them
and to the figures, tables, checklists and colophon in the derived folder.

Pages (:func:`write_page`, called by :func:`compendium.runner.finish_notebook` for each executed notebook):

- ``<title>`` is the notebook's first heading followed by `` · WITI compendium``;
- a navigation bar links the index, the previous and the next page, and all six pages;
- nothing is loaded from the network: the page is nbconvert's ``lab`` template without its MathJax, require.js,
  Mermaid and widget scripts (the notebooks use no LaTeX, diagrams or widgets), so it opens offline without a
  console error;
- pandas' row numbers are dropped from DataFrame tables: a table whose every body row starts with a bare integer
  row header under an empty corner cell has a default (row-number) index that is not data;
- the papermill ``injected-parameters`` cell becomes a small "Parameters of this run" table.

Folding rule. A code cell is *plumbing*, and its code is folded in a closed ``<details>`` (its output, if any, stays
visible), when it is

1. the notebook's ``parameters`` cell (the defaults; the values of the run are shown in the parameters box), or
2. imports only: every statement is an ``import`` or ``from ... import`` (a cell that *opens* with imports and
   goes on with other code is shown as two: its leading imports folded, the rest visible), or
3. file writing only: every statement is an import or a bare call whose function name starts with ``write``,
   ``to_``, ``save``, ``export`` or is ``mkdir`` (``tables.write_csv(df, out / "x.csv")``), and at least one is such a
   call.

Every other code cell (the analysis: it computes, prints or displays something) is shown as code.

Site (:func:`build`, called once by :func:`compendium.runner.run` after all stages): writes ``index.html`` and
refreshes every page's navigation bar so that pages not (yet) in the reports folder are named but not linked.

Paths. Every link is relative. When the derived folder lies under the reports folder's parent (the repository's
layout: ``reports/`` beside ``data/derived/``), the index links the derived files where they are
(``os.path.relpath``); otherwise (``--reports`` and ``--derived`` anywhere) it copies the figures, tables and
checklists it links into ``REPORTS/derived/`` and links those, so that no link climbs out of the tree and no
page names a machine path.
"""

from __future__ import annotations

import ast
import copy
import html
import os
import re
import shutil
from pathlib import Path

from . import stamp

SITE_NAME = "WITI compendium"
SYNTHETIC_NOTICE = "Synthetic corpus: these are not the WITI study's results."
NAV_CLASS = "witi-nav"
COPY_FOLDER = "derived"  # inside REPORTS, when the derived folder is not beside it

_NAV_RE = re.compile(r'<nav class="' + NAV_CLASS + r'".*?</nav>', re.S)
_WRITERS = ("write", "to_", "save", "export")


# ----------------------------------------------------------------------------------------------------- pages


def page_stems() -> list[str]:
    """The six pages' file stems, in pipeline order (``01_screenshots`` ...)."""
    from .runner import STAGES  # the runner imports this module lazily, so no import cycle at load time

    return [Path(s.notebook).stem for s in STAGES]


def present_pages(reports: Path, stems: list[str]) -> set[str]:
    """The pages of ``stems`` whose HTML is in the folder ``reports``: the ones the navigation links."""
    return {s for s in stems if (Path(reports) / f"{s}.html").is_file()}


def page_label(stem: str) -> str:
    """``05_information_flow`` -> ``5 · Information flow``: a short name for the navigation bar."""
    num, _, name = stem.partition("_")
    words = name.replace("_", " ")
    return f"{int(num)} · {words[:1].upper()}{words[1:]}" if num.isdigit() else words or stem


def first_heading(nb) -> str | None:
    """The text of the notebook's first Markdown heading; ``nb`` is a notebook node or the notebook's JSON as read
    (where a cell's source may be a list of lines)."""
    for cell in nb["cells"]:
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        for line in ("".join(source) if isinstance(source, list) else source).splitlines():
            m = re.match(r"\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m and m.group(1):
                return m.group(1)
    return None


def _call_name(node) -> str | None:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        f = node.value.func
        return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    return None


def _is_writer(name: str | None) -> bool:
    return bool(name) and (name.startswith(_WRITERS) or name == "mkdir")


def fold_kind(cell) -> str | None:
    """How the folding rule (module docstring) treats a code cell: ``"injected-parameters"``, ``"parameters"``,
    ``"imports"``, ``"writes"``, or None (shown)."""
    if cell.cell_type != "code":
        return None
    tags = cell.metadata.get("tags", [])
    if "injected-parameters" in tags:
        return "injected-parameters"
    if "parameters" in tags:
        return "parameters"
    try:
        body = ast.parse(cell.source).body
    except SyntaxError:
        return None
    if not body:
        return None
    imports = [isinstance(s, (ast.Import, ast.ImportFrom)) for s in body]
    if all(imports):
        return "imports"
    writes = [_is_writer(_call_name(s)) for s in body]
    if all(i or w for i, w in zip(imports, writes)) and any(writes):
        return "writes"
    return None


def split_imports(cell) -> list:
    """A code cell that opens with imports and goes on with other code -> [its leading imports (no outputs), the
    rest (with the outputs)]; any other cell -> [cell]."""
    if cell.cell_type != "code" or cell.metadata.get("tags"):
        return [cell]
    try:
        body = ast.parse(cell.source).body
    except SyntaxError:
        return [cell]
    k = 0
    while k < len(body) and isinstance(body[k], (ast.Import, ast.ImportFrom)):
        k += 1
    if k == 0 or k == len(body):
        return [cell]
    lines = cell.source.splitlines()
    cut = body[k - 1].end_lineno
    head, rest = "\n".join(lines[:cut]).strip("\n"), "\n".join(lines[cut:]).strip("\n")
    first = copy.deepcopy(cell)
    first.source, first.outputs = head, []
    first.metadata = {}
    if "id" in cell:
        first["id"] = f"{cell['id']}-imports"  # ids (and so HTML anchors) stay unique
    second = copy.deepcopy(cell)
    second.source = rest
    return [first, second]


FOLD_SUMMARY = {"parameters": "Parameter defaults (code)", "imports": "Imports (code)", "writes": "Writes files (code)"}


def parameters_table(source: str) -> str:
    """The injected-parameters cell as a small HTML table of name and value."""
    rows = []
    try:
        body = ast.parse(source).body
    except SyntaxError:
        body = []
    for s in body:
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            rows.append((s.targets[0].id, ast.get_source_segment(source, s.value) or ""))
    if not rows:
        rows = [("", source.strip())]
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td><code>{html.escape(v)}</code></td></tr>" for k, v in rows)
    return (
        f'<div class="witi-params"><table><caption>Parameters of this run</caption><tbody>{cells}</tbody></table></div>'
    )


_DF_TABLE = re.compile(r'<table[^>]*class="dataframe"[^>]*>.*?</table>', re.S)
_ROW_HEAD = re.compile(r"(<tr[^>]*>)\s*<th>\s*-?\d+\s*</th>")


def drop_row_numbers(fragment: str) -> str:
    """Drop pandas' default row numbers from the DataFrame tables in an HTML fragment (module docstring)."""

    def one(m):
        table = m.group(0)
        head, sep, body = table.partition("<tbody>")
        if not sep:
            return table
        head_rows = re.findall(r"<tr[^>]*>.*?</tr>", head, re.S)
        body_rows = re.findall(r"<tr[^>]*>.*?</tr>", body, re.S)
        if len(head_rows) != 1 or not body_rows or not re.match(r"<tr[^>]*>\s*<th>\s*</th>", head_rows[0]):
            return table
        if not all(_ROW_HEAD.match(r) for r in body_rows):
            return table
        head = head.replace(head_rows[0], re.sub(r"(<tr[^>]*>)\s*<th>\s*</th>", r"\1", head_rows[0], count=1))
        body = _ROW_HEAD.sub(r"\1", body)
        return head + sep + body

    return _DF_TABLE.sub(one, fragment)


def nav_html(
    stem: str, present: set[str] | None = None, stems: list[str] | None = None, prefix: str = "", index: bool = True
) -> str:
    """The navigation bar of page ``stem`` (or of the index, ``stem="index"``); pages not in ``present`` (all, when
    None) are named but not linked, and so is the index when ``index`` is False. ``prefix`` leads every link (``../``
    on a page kept in ``reports/failed/``)."""
    stems = stems or page_stems()

    def link(s, text, cls=""):
        c = f' class="{cls}"' if cls else ""
        if (s == "index" and not index) or (present is not None and s not in present and s != "index"):
            return f'<span{c} title="not in this reports folder">{html.escape(text)}</span>'
        return f'<a{c} href="{prefix}{s}.html">{html.escape(text)}</a>'

    i = stems.index(stem) if stem in stems else -1
    parts = [link("index", "Index", "witi-current" if stem == "index" else "")]
    prev_ = link(stems[i - 1], "← Previous") if i > 0 else '<span class="witi-off">← Previous</span>'
    next_ = (
        link(stems[i + 1], "Next →")
        if 0 <= i < len(stems) - 1
        else link(stems[0], "Start →")
        if i < 0
        else '<span class="witi-off">Next →</span>'
    )
    parts += [prev_, next_, "<span>|</span>"]
    parts += [link(s, page_label(s), "witi-current" if s == stem else "") for s in stems]
    return f'<nav class="{NAV_CLASS}">{" ".join(parts)}</nav>'


SITE_CSS = """
nav.witi-nav { position: sticky; top: 0; z-index: 10; background: #f5f5f5; border-bottom: 1px solid #ccc;
  padding: 6px 12px; font: 14px/1.6 system-ui, sans-serif; display: flex; flex-wrap: wrap; gap: 4px 12px; }
nav.witi-nav a { color: #0645ad; text-decoration: none; }
nav.witi-nav a:hover { text-decoration: underline; }
nav.witi-nav .witi-current { font-weight: bold; color: #000; }
nav.witi-nav .witi-off, nav.witi-nav span { color: #888; }
details.witi-fold > summary { cursor: pointer; color: #555; font: 13px system-ui, sans-serif; padding: 2px 0; }
div.witi-params table { border-collapse: collapse; font: 13px system-ui, sans-serif; margin: 4px 0; }
div.witi-params caption { text-align: left; font-weight: bold; padding-bottom: 2px; }
div.witi-params th, div.witi-params td { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
"""

# nbconvert's lab template without any remote script (MathJax, require.js, Mermaid, widgets), with the navigation
# bar, the parameters box and the folded plumbing cells.
TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}<link rel="icon" href="data:,">{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}<style type="text/css">{{ resources.witi_css }}</style>{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.witi_nav }}
{%- endblock body_header -%}
{%- block footer_js -%}{%- endblock footer_js -%}
{% block input_group -%}
{%- set kind = cell.metadata.get('witi_fold', '') -%}
{%- if kind == 'injected-parameters' -%}
{{ cell.metadata.get('witi_params', '') }}
{%- elif kind -%}
<details class="witi-fold"><summary>{{ cell.metadata.get('witi_summary', 'Code') }}</summary>
{{ super() }}
</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endblock input_group %}
"""


def page_html(nb, stem: str, nav: str | None = None) -> str:
    """The HTML page of an executed (scrubbed) notebook, with the navigation bar ``nav`` (default: the bar of a page
    of the site, :func:`nav_html`); ``nb`` itself is not changed."""
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    nb.cells = [part for cell in nb.cells for part in split_imports(cell)]
    heading = first_heading(nb) or page_label(stem)
    nb.metadata["title"] = f"{heading} · {SITE_NAME}"
    for cell in nb.cells:
        kind = fold_kind(cell)
        if kind:
            cell.metadata["witi_fold"] = kind
            cell.metadata["witi_summary"] = FOLD_SUMMARY.get(kind, "Code")
            if kind == "injected-parameters":
                cell.metadata["witi_params"] = parameters_table(cell.source)
                cell.outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if isinstance(data.get("text/html"), str) and 'class="dataframe"' in data["text/html"]:
                data["text/html"] = drop_row_numbers(data["text/html"])
    exporter = HTMLExporter(template_name="lab", raw_template=TEMPLATE)
    body, _ = exporter.from_notebook_node(nb, resources={"witi_nav": nav or nav_html(stem), "witi_css": SITE_CSS})
    return body


def write_page(nb, html_path: Path, site_root: Path | None = None) -> None:
    """Write ``nb``'s page (:func:`page_html`) at ``html_path``. ``site_root``: the reports folder when the page is
    kept elsewhere (``reports/failed/``): its links then lead up to the site's pages that exist there, and only
    to those (a failed first run has no index yet)."""
    html_path = Path(html_path)
    nav = None
    if site_root is not None:
        root = Path(site_root)
        stems = page_stems()
        prefix = Path(os.path.relpath(root.resolve(), html_path.parent.resolve())).as_posix() + "/"
        present = present_pages(root, stems)
        nav = nav_html(html_path.stem, present, stems, prefix=prefix, index=(root / "index.html").is_file())
    html_path.write_text(page_html(nb, html_path.stem, nav), encoding="utf-8")


# ------------------------------------------------------------------------------------------------------ index


def _study_title(raw: Path | None, reports: Path) -> str:
    if raw is not None and (Path(raw) / "study.yml").is_file():
        import yaml

        title = (yaml.safe_load((Path(raw) / "study.yml").read_text(encoding="utf-8")) or {}).get("title")
        if title:
            return " ".join(str(title).split())
    return "WITI: learning with and from each other (synthetic teaching corpus)"


def read_captions(path: Path) -> dict[str, str]:
    """``figures/captions.md`` (lines ``- **fig1_name**: caption``) -> ``{fig1_name: caption}``."""
    out = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"\s*[-*]\s+\*\*(.+?)\*\*:\s*(.*)", line)
            if m:
                out[m.group(1).strip()] = m.group(2).strip()
    return out


def _beside(reports: Path, derived: Path) -> bool:
    """The derived folder lies under the reports folder's parent (links to it stay inside the tree)."""
    parent = reports.resolve().parent
    return derived.resolve().is_relative_to(parent)


def _linker(reports: Path, derived: Path):
    """A function: a file in ``derived`` -> a relative URL from ``reports`` that reaches it (copying it into
    ``REPORTS/derived/`` when the derived folder is not beside the reports folder)."""
    reports, derived = Path(reports), Path(derived)
    beside = _beside(reports, derived)
    copies = reports / COPY_FOLDER
    if not beside and copies.is_dir():
        shutil.rmtree(copies)  # a fresh copy each time: nothing stale is linked

    def link(f: Path) -> str:
        rel = Path(f).resolve().relative_to(derived.resolve())
        if beside:
            target = Path(f)
        else:
            target = copies / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
        from urllib.parse import quote

        return quote(Path(os.path.relpath(target.resolve(), reports.resolve())).as_posix())

    return link


def _rel(target: Path, reports: Path) -> str:
    from urllib.parse import quote

    return quote(Path(os.path.relpath(Path(target).resolve(), Path(reports).resolve())).as_posix())


def _codebook_version(raw: Path | None) -> str | None:
    """The raw codebook's ``version`` (None when there is no raw folder or no readable version: the stamp then
    says it is unknown)."""
    if raw is None or not (Path(raw) / "codebook.yml").is_file():
        return None
    try:
        import yaml

        v = (yaml.safe_load((Path(raw) / "codebook.yml").read_text(encoding="utf-8")) or {}).get("version")
    except Exception:  # noqa: BLE001 - the run validated the codebook; an unreadable one here is just unknown
        return None
    return None if v in (None, "") else str(v)


FIGURE_COPIES = "figures"  # inside REPORTS: the stamped copies of the figures


def stamp_figures(reports: Path, derived: Path, stamp_line: str) -> dict[str, Path]:
    """Stamped copies of every PNG and SVG figure of ``DERIVED/figures`` in ``REPORTS/figures``
    (:mod:`compendium.stamp`), with copies of figures no longer derived removed; ``{file name: copy}``."""
    src_dir, dst_dir = Path(derived) / "figures", Path(reports) / FIGURE_COPIES
    sources = sorted(p for p in src_dir.iterdir() if p.suffix.lower() in (".png", ".svg")) if src_dir.is_dir() else []
    if dst_dir.is_dir():
        keep = {p.name for p in sources}
        for old in dst_dir.iterdir():
            if old.is_file() and old.name not in keep:
                old.unlink()
    return {p.name: stamp.stamped_copy(p, dst_dir / p.name, stamp_line) for p in sources}


def _markdown(text: str) -> str:
    """Markdown -> HTML with mistune (nbconvert's own Markdown library, without the 0.5 s of importing nbconvert on
    a run that changed nothing); raw HTML in the text is escaped, never passed through."""
    import mistune

    return mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])(text)


INDEX_CSS = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #222; }
main { max-width: 1100px; margin: 0 auto; padding: 8px 24px 48px; }
h1 { font-size: 1.7em; line-height: 1.25; }
.witi-synthetic { border: 3px solid #b00; background: #fff0f0; color: #800; font-weight: bold; font-size: 1.2em;
  padding: 12px 16px; margin: 16px 0; }
ol.witi-contents li { margin: 4px 0; }
.witi-gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 20px; }
.witi-gallery figure { margin: 0; border: 1px solid #ddd; padding: 8px; background: #fff; }
.witi-gallery img { width: 100%; height: auto; }
.witi-gallery figcaption { font-size: 13px; color: #333; }
.witi-stamp { font-size: 13px; color: #333; }
.witi-checklist table { border-collapse: collapse; font-size: 13px; }
.witi-checklist th, .witi-checklist td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }
.witi-checklist details > summary { cursor: pointer; font-weight: bold; }
"""


def index_html(reports: Path, derived: Path, raw: Path | None = None) -> str:
    """The site's index page."""
    import json

    reports, derived = Path(reports), Path(derived)
    stems = page_stems()
    present = present_pages(reports, stems)
    link = _linker(reports, derived)
    esc = html.escape
    title = _study_title(raw, reports)
    out = [
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f'<link rel="icon" href="data:,">\n<title>{esc(title)} · {SITE_NAME}</title>\n'
        f"<style>{SITE_CSS}{INDEX_CSS}</style>\n</head>\n<body>\n{nav_html('index', present, stems)}\n<main>\n",
        f'<h1 id="title">{esc(title)}</h1>\n',
        f'<p class="witi-synthetic" id="synthetic">{esc(SYNTHETIC_NOTICE)} The compendium runs on a generated, '
        "fictitious corpus; every figure, table and checklist answer below describes that corpus.</p>\n",
    ]

    out.append('<h2 id="contents">Contents</h2>\n<ol class="witi-contents">\n')
    for s in stems:
        nb_path = reports / f"{s}.ipynb"
        heading = None
        if nb_path.is_file():
            try:
                # plain JSON: importing nbformat costs over a second (jsonschema's format grammars) on a rerun
                heading = first_heading(json.loads(nb_path.read_text(encoding="utf-8")))
            except Exception:  # noqa: BLE001 - an unreadable notebook is still listed by its name
                heading = None
        text = esc(heading or page_label(s))
        out.append(
            f'<li><a href="{s}.html">{text}</a></li>\n'
            if s in present
            else f"<li>{text} <em>(not in this reports folder: run <code>compendium run</code>)</em></li>\n"
        )
    out.append(
        '<li><a href="#figures">Figures</a></li>\n<li><a href="#tables">Tables</a></li>\n'
        '<li><a href="#coreq">COREQ checklist</a></li>\n<li><a href="#srqr">SRQR checklist</a></li>\n'
        '<li><a href="#colophon">Colophon</a></li>\n</ol>\n'
    )

    out.append('<h2 id="figures">Figures</h2>\n')
    figures = sorted((derived / "figures").glob("*.png"))
    captions = read_captions(derived / "figures" / "captions.md")
    if figures:
        from .provenance import git_commit, working_tree

        stamp_line = stamp.stamp_text(git_commit(), _codebook_version(raw), working_tree())
        copies = stamp_figures(reports, derived, stamp_line)
        out.append(
            f'<p class="witi-stamp">Each figure below is the report\'s copy, stamped under it with the commit that ran '
            f"and the codebook version (<code>{esc(stamp_line)}</code>); the committed file under "
            "<code>data/derived/figures</code> carries the codebook version, the raw manifest and the compendium "
            "version, since a committed file cannot name its own commit.</p>\n"
        )
        out.append('<div class="witi-gallery">\n')
        for f in figures:
            url = _rel(copies[f.name], reports)
            svg = f.with_suffix(".svg")
            extra = f' (<a href="{_rel(copies[svg.name], reports)}">SVG</a>)' if svg.name in copies else ""
            extra += f', <a href="{link(f)}">committed file</a>'
            cap = captions.get(f.stem, "")
            out.append(
                f'<figure id="{esc(f.stem)}"><a href="{url}"><img src="{url}" alt="{esc(f.stem)}"></a>'
                f"<figcaption><strong>{esc(f.stem)}</strong>{extra}. {esc(cap)}</figcaption></figure>\n"
            )
        out.append("</div>\n")
    else:
        out.append("<p>No figures in the derived folder yet (the report stage writes them).</p>\n")

    out.append('<h2 id="tables">Tables</h2>\n')
    tables = sorted(p for p in (derived / "tables").glob("*") if p.is_file())
    if tables:
        out.append("<ul>\n" + "".join(f'<li><a href="{link(p)}">{esc(p.name)}</a></li>\n' for p in tables) + "</ul>\n")
    else:
        out.append("<p>No tables in the derived folder yet.</p>\n")

    for name in ("coreq", "srqr"):
        f = derived / "checklists" / f"{name}.md"
        out.append(f'<h2 id="{name}">{name.upper()} checklist</h2>\n')
        if f.is_file():
            out.append(
                f'<p>Source: <a href="{link(f)}">{esc(f.name)}</a></p>\n'
                f'<div class="witi-checklist">{_markdown(f.read_text(encoding="utf-8"))}</div>\n'
            )
        else:
            out.append("<p>Not written yet (the report stage writes it).</p>\n")

    out.append('<h2 id="colophon">Colophon</h2>\n')
    if "06_report" in present and 'id="Colophon"' in (reports / "06_report.html").read_text(encoding="utf-8"):
        out.append(
            "<p>The provenance of this run (software, versions and the raw data it read) is in the "
            '<a href="06_report.html#Colophon">colophon of the report notebook</a>.</p>\n'
        )
    else:
        out.append("<p>The report notebook, which holds the colophon, is not in this reports folder.</p>\n")
    if (derived / "MANIFEST.sha256").is_file():
        out.append(
            f'<p>Every derived file and its checksum: <a href="{link(derived / "MANIFEST.sha256")}">'
            "MANIFEST.sha256</a>.</p>\n"
        )
    out.append("</main>\n</body>\n</html>\n")
    return "".join(out)


def refresh_nav(reports: Path) -> None:
    """Rewrite the navigation bar of every page in ``reports`` so that only pages present there are linked."""
    stems = page_stems()
    present = present_pages(reports, stems)
    for s in sorted(present):
        p = reports / f"{s}.html"
        text = p.read_text(encoding="utf-8")
        new = _NAV_RE.sub(lambda _m, s=s: nav_html(s, present, stems), text, count=1)
        if new != text:
            p.write_text(new, encoding="utf-8")


def build(reports: Path, derived: Path, raw: Path | None = None) -> Path:
    """Write ``REPORTS/index.html`` and refresh the pages' navigation; returns the index's path."""
    reports = Path(reports)
    reports.mkdir(parents=True, exist_ok=True)
    refresh_nav(reports)
    index = reports / "index.html"
    index.write_text(index_html(reports, Path(derived), raw), encoding="utf-8")
    return index
