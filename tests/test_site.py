"""The report site (compendium.site) opened in a real browser: headless Chromium loads every page offline without
a console error, and every relative link, anchor and image resolves; no page names a machine path.

The site is the one a full cold run of the committed corpus writes (the session fixture ``full_run`` of
conftest.py, shared with tests/test_pipeline.py, so the pipeline runs once for both): hence ``slow``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from compendium import site

from conftest import DERIVED, ROOT
from test_ocr_variants import _missing  # the one skip-or-fail switch on WITI_REQUIRE_SYSTEM_PACKAGES

pytestmark = pytest.mark.slow

CHROMIUM = ("chromium", "chromium-browser")
# A notebook's "Try this" may suggest a file such as /tmp/witi-text.qdpx: that is advice, not the machine's path.
# What must not appear: this checkout, the test's folders, the runner's workspace and staging folders, homes.
MACHINE_PATHS = (str(ROOT), "/work/", "/home/", "/root/", "/tmp/pytest", "/tmp/compendium-", ".staging-")


def chromium() -> str:
    for name in CHROMIUM:
        exe = shutil.which(name)
        if exe:
            return exe
    _missing("chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def built(full_run, tmp_path_factory) -> Path:
    """The site of the shared full cold run (conftest ``full_run``), copied so that the tests can write beside it."""
    run_dir, _ = full_run
    tmp = tmp_path_factory.mktemp("site")
    for name in ("derived", "reports"):  # side by side, as the run wrote them: the pages link ../derived/...
        shutil.copytree(run_dir / name, tmp / name)
    return tmp / "reports"


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.loads = set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for key in ("src", "href"):
            if a.get(key) and tag in ("img", "script", "link", "iframe", "source", "video", "audio"):
                self.loads.append((tag, a[key]))
                if tag == "img":
                    self.links.append(a[key])


def parse(text: str) -> Page:
    p = Page()
    p.feed(text)
    return p


def open_headless(exe: str, page: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            exe,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            *extra,
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def pages(reports: Path) -> list[Path]:
    return [reports / "index.html"] + [reports / f"{s}.html" for s in site.page_stems()]


def test_every_page_exists_with_its_title_and_navigation(built):
    for p in pages(built):
        assert p.is_file(), p.name
        text = p.read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", text, re.S).group(1)
        assert title.endswith(" · WITI compendium") and title != "Notebook", (p.name, title)
        assert f'<nav class="{site.NAV_CLASS}">' in text, p.name
    assert "<title>3 · Coding: codebook, two coders, reliability and consensus · WITI compendium</title>" in (
        built / "03_coding.html"
    ).read_text(encoding="utf-8")


def test_pages_fold_plumbing_and_show_the_run_parameters(built):
    for s in site.page_stems():
        text = (built / f"{s}.html").read_text(encoding="utf-8")
        assert "Parameters of this run" in text, s
        assert "# Parameters" not in text, s  # the injected cell is not shown as code
        assert "<summary>Parameter defaults (code)</summary>" in text, s
        assert "<summary>Imports (code)</summary>" in text, s
    report = re.sub(r"<[^>]+>", "", (built / "03_coding.html").read_text(encoding="utf-8"))
    assert "rel = reliability.reliability(" in report  # analysis code stays visible


def test_index_has_notice_contents_figures_tables_and_checklists(built):
    text = (built / "index.html").read_text(encoding="utf-8")
    assert "Learning with and from each other" in text
    assert "these are not the WITI study&#x27;s results" in text or "these are not the WITI study's results" in text
    doc = parse(text)
    for s in site.page_stems():
        assert f"{s}.html" in doc.links, s
    imgs = [src for tag, src in doc.loads if tag == "img"]
    assert len(imgs) == len(list((DERIVED / "figures").glob("*.png"))) >= 5
    captions = site.read_captions(DERIVED / "figures" / "captions.md")
    assert captions and all(c[:60] in text.replace("&#x27;", "'") for c in captions.values())
    for t in (DERIVED / "tables").iterdir():
        assert any(unquote(link).endswith(f"tables/{t.name}") for link in doc.links), t.name
    assert {"coreq", "srqr", "colophon"} <= doc.ids
    assert "COREQ: 31 of 32 items" in text and "<table>" in text  # the checklists rendered, not linked only


def test_every_figure_in_the_gallery_carries_the_commit_and_the_codebook_version(built):
    from compendium import provenance, stamp

    doc = parse((built / "index.html").read_text(encoding="utf-8"))
    imgs = [unquote(src) for tag, src in doc.loads if tag == "img"]
    commit = provenance.git_commit()
    assert imgs and all(src.startswith(f"{site.FIGURE_COPIES}/") for src in imgs)
    for src in imgs:
        for copy in (built / src, (built / src).with_suffix(".svg")):
            text = stamp.stamp_of(copy)
            assert text and f"commit {commit}" in text and "codebook 1.3" in text, (copy.name, text)


def test_no_request_leaves_the_machine_and_no_machine_path(built):
    for p in pages(built):
        text = p.read_text(encoding="utf-8")
        for tag, url in parse(text).loads:
            assert not re.match(r"(?i)(https?:)?//", url), (p.name, tag, url)
        assert "mathjax" not in text.lower() and "require.min.js" not in text, p.name
        for needle in (*MACHINE_PATHS, str(built.parent)):
            assert needle not in text, (p.name, needle)


def test_links_anchors_and_images_resolve(built):
    ids: dict[Path, set] = {}

    def ids_of(path: Path) -> set:
        if path not in ids:
            ids[path] = parse(path.read_text(encoding="utf-8")).ids if path.suffix == ".html" else set()
        return ids[path]

    broken = []
    for p in pages(built):
        for link in parse(p.read_text(encoding="utf-8")).links:
            u = urlsplit(link)
            if u.scheme or u.netloc:  # remote links to read (not loaded) and data: URIs
                continue
            target = (p.parent / unquote(u.path)).resolve() if u.path else p.resolve()
            if not target.exists():
                broken.append((p.name, link))
            elif u.fragment and not {u.fragment, unquote(u.fragment)} & ids_of(target):
                broken.append((p.name, link, "anchor"))
            elif built.parent.resolve() not in target.parents:  # the site and the derived folder beside it
                broken.append((p.name, link, "outside the site and its derived folder"))
    assert not broken, broken[:20]


def test_links_to_a_derived_folder_beside_the_reports_stay_relative(tmp_path):
    derived, reports = tmp_path / "data" / "derived", tmp_path / "reports"
    (derived / "figures").mkdir(parents=True)
    (derived / "figures" / "fig1_x.png").write_bytes(b"png")
    reports.mkdir()
    link = site._linker(reports, derived)
    assert link(derived / "figures" / "fig1_x.png") == "../data/derived/figures/fig1_x.png"
    assert not (reports / site.COPY_FOLDER).exists()


def test_every_page_loads_in_chromium_without_console_errors(built):
    exe = chromium()
    for p in pages(built):
        r = open_headless(exe, p, "--dump-dom")
        assert r.returncode == 0, (p.name, r.stderr[-2000:])
        assert "</nav>" in r.stdout and "<main" in r.stdout, p.name
        console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line or "net::ERR" in line]
        assert not console, (p.name, console[:5])


def test_screenshot_of_the_index(built):
    exe = chromium()
    out = Path(os.environ.get("WITI_ARTIFACTS") or ROOT / "reports")
    out.mkdir(parents=True, exist_ok=True)
    shot = out / "site-index.png"
    if shot.exists():
        shot.unlink()
    r = open_headless(exe, built / "index.html", f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars")
    assert r.returncode == 0, r.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 20_000


def test_a_failed_stages_page_links_up_to_the_pages_that_exist(built, tmp_path):
    """A page kept in reports/failed/ (runner._keep_failed) leads up to the site's pages, and only to those that
    exist: a failed first run has no index and no later pages yet."""
    from compendium import runner

    reports = tmp_path / "reports"
    (reports / runner.FAILED).mkdir(parents=True)
    shutil.copy(built / "01_screenshots.html", reports)  # the one page an earlier run left
    dest = reports / runner.FAILED / "03_coding.ipynb"
    shutil.copy(built / "03_coding.ipynb", dest)
    runner.finish_notebook(dest, site_root=reports)
    page = dest.with_suffix(".html")
    links = [u for u in parse(page.read_text(encoding="utf-8")).links if not urlsplit(u).scheme]
    nav = [u for u in links if u.endswith(".html")]
    assert "../01_screenshots.html" in nav
    assert not any(u.endswith("index.html") for u in nav)  # no index yet: named, not linked
    for u in nav:
        assert (page.parent / unquote(urlsplit(u).path)).is_file(), u
