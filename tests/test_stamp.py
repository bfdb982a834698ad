"""The commit stamp on the report's copies of the figures (compendium.stamp, compendium.site.stamp_figures): the
band is added below the figure and covers nothing of it, the stamp reads back from PNG and SVG, a copy is
rewritten only when its source or stamp changed, the committed figures are never touched, and the working tree's
state is told (provenance.working_tree) against a real git checkout."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from compendium import provenance, site, stamp

from conftest import DERIVED

FIG = DERIVED / "figures"
TEXT = "Report copy · commit 0123456789abcdef0123456789abcdef01234567 · codebook 1.3"


def test_png_copy_keeps_the_figure_and_adds_a_band_holding_the_stamp(tmp_path):
    src = FIG / "fig4_reliability.png"
    dst = tmp_path / "fig.png"
    stamp.stamp_png(src, dst, TEXT)
    with Image.open(src) as a, Image.open(dst) as b:
        a_px, b_px = np.asarray(a.convert("RGBA")), np.asarray(b.convert("RGBA"))
        assert b.width == a.width and b.height > a.height
        assert b.info.get("dpi") == a.info.get("dpi")
    assert (b_px[: a_px.shape[0]] == a_px).all()  # nothing of the figure is covered or redrawn
    band = b_px[a_px.shape[0] :, :, :3].min(axis=2)
    assert (band < 128).sum() > 200  # the text is drawn (dark pixels in the band)
    assert stamp.stamp_of(dst) == TEXT
    assert stamp.stamp_of(src) is None  # the committed figure carries no commit


def test_svg_copy_is_valid_svg_taller_by_the_band_with_the_stamp(tmp_path):
    src = FIG / "fig5_network.svg"
    dst = tmp_path / "fig.svg"
    stamp.stamp_svg(src, dst, TEXT + " <&>")
    root = ET.parse(dst).getroot()  # still well-formed XML, the text escaped
    old = ET.parse(src).getroot()
    vb_old = [float(v) for v in old.get("viewBox").split()]
    vb_new = [float(v) for v in root.get("viewBox").split()]
    assert vb_new[:3] == vb_old[:3] and vb_new[3] > vb_old[3]
    assert float(root.get("height").rstrip("pt")) > float(old.get("height").rstrip("pt"))
    ns = "{http://www.w3.org/2000/svg}"
    assert any(t.text == TEXT + " <&>" for t in root.iter(f"{ns}text"))
    assert stamp.stamp_of(dst) == TEXT + " <&>"


def test_an_svg_without_a_viewbox_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / "other-tool.svg"
    bad.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>')
    with pytest.raises(ValueError, match="other-tool.svg"):
        stamp.stamp_svg(bad, tmp_path / "out.svg", TEXT)


def test_a_copy_is_rewritten_only_when_its_source_or_stamp_changes(tmp_path):
    src = tmp_path / "f.png"
    shutil.copyfile(FIG / "fig3_saturation.png", src)
    dst = tmp_path / "copies" / "f.png"
    stamp.stamped_copy(src, dst, TEXT)
    os.utime(dst, (1_000_000_000, 2_000_000_000))
    before = dst.stat().st_mtime
    stamp.stamped_copy(src, dst, TEXT)
    assert dst.stat().st_mtime == before  # same stamp, source not newer: untouched
    stamp.stamped_copy(src, dst, TEXT.replace("1.3", "1.4"))
    assert stamp.stamp_of(dst).endswith("codebook 1.4")


def test_stamp_text_says_what_is_unknown():
    assert "commit unknown" in stamp.stamp_text(provenance.NOT_A_CHECKOUT, "1.3")
    assert "codebook version unknown" in stamp.stamp_text("a" * 40, None)
    assert stamp.stamp_text("a" * 40, "2", provenance.TREE_CHANGED).endswith("+ uncommitted changes · codebook 2")
    assert "uncommitted" not in stamp.stamp_text("a" * 40, "2", provenance.TREE_CLEAN)


def test_site_stamps_every_figure_copy_and_leaves_the_committed_ones_alone(tmp_path):
    derived = tmp_path / "derived"
    shutil.copytree(FIG, derived / "figures")
    (derived / "figures" / "stale_old.png").unlink(missing_ok=True)
    reports = tmp_path / "reports"
    (reports / site.FIGURE_COPIES).mkdir(parents=True)
    (reports / site.FIGURE_COPIES / "fig9_gone.png").write_bytes(b"stale")
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (derived / "figures").iterdir()}
    copies = site.stamp_figures(reports, derived, TEXT)
    figures = {p.name for p in (derived / "figures").iterdir() if p.suffix in (".png", ".svg")}
    assert set(copies) == figures and len(figures) >= 10
    assert all(stamp.stamp_of(c) == TEXT for c in copies.values())
    assert not (reports / site.FIGURE_COPIES / "fig9_gone.png").exists()  # no stale copy is left to be linked
    assert digest == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (derived / "figures").iterdir()}


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_working_tree_state_from_a_real_checkout(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}

    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)

    git("init", "-q")
    (repo / "code.py").write_text("x = 1\n")
    git("add", "code.py")
    git("commit", "-qm", "one")
    assert provenance.working_tree(repo / "code.py") == provenance.TREE_CLEAN
    (repo / "untracked.txt").write_text("not the code\n")
    assert provenance.working_tree(repo) == provenance.TREE_CLEAN  # untracked files are not the code that ran
    (repo / "code.py").write_text("x = 2\n")
    assert provenance.working_tree(repo / "code.py") == provenance.TREE_CHANGED
    assert provenance.working_tree(tmp_path / "elsewhere") == provenance.NOT_A_CHECKOUT
