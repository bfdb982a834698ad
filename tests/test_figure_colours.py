"""Colour-vision safety of the figures' categorical colours, and the provenance stamp on every figure.

Every categorical colour the figures use comes from :data:`compendium.figures.PALETTE`; each pair of palette
colours must stay at least :data:`MIN_DELTA_E` apart (CAM02-UCS delta-E) in normal vision and under simulated
deuteranopia and protanopia (Machado et al. 2009 at severity 100, as colorspacious implements it).
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest

colorspacious = pytest.importorskip("colorspacious")

from compendium import figures, provenance  # noqa: E402

MIN_DELTA_E = 20.0
VISIONS = {"normal": None, "deuteranopia": "deuteranomaly", "protanopia": "protanomaly"}


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)]) / 255


def _seen(hex_colour: str, cvd: str | None) -> np.ndarray:
    rgb = _rgb(hex_colour)
    if cvd is None:
        return rgb
    sim = {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100}
    return np.clip(colorspacious.cspace_convert(rgb, sim, "sRGB1"), 0, 1)


def delta_e(a: str, b: str, cvd: str | None) -> float:
    return float(colorspacious.deltaE(_seen(a, cvd), _seen(b, cvd), input_space="sRGB1", uniform_space="CAM02-UCS"))


PAIRS = list(itertools.combinations(figures.PALETTE.items(), 2))


@pytest.mark.parametrize("vision", list(VISIONS))
@pytest.mark.parametrize("pair", PAIRS, ids=[f"{a[0]}|{b[0]}" for a, b in PAIRS])
def test_palette_pairs_stay_apart(pair, vision):
    (name_a, a), (name_b, b) = pair
    d = delta_e(a, b, VISIONS[vision])
    assert d >= MIN_DELTA_E, f"{name_a} {a} and {name_b} {b}: delta-E {d:.1f} under {vision}"


def test_every_categorical_colour_is_from_the_palette():
    palette = {c.lower() for c in figures.PALETTE.values()}
    used = {
        **{f"theme {k}": v for k, v in figures.THEME_COLOURS.items()},
        **{f"role {k}": v for k, v in figures.ROLE_COLOURS.items()},
        "kappa": figures.KAPPA_COLOUR,
        "alpha": figures.ALPHA_COLOUR,
        "fallback": figures.FALLBACK_COLOUR,
    }
    assert {k: v for k, v in used.items() if v.lower() not in palette} == {}
    for mapping in (figures.THEME_COLOURS, figures.ROLE_COLOURS):  # no two categories share a colour
        assert len(set(mapping.values())) == len(mapping)
    assert figures.KAPPA_COLOUR != figures.ALPHA_COLOUR


def test_old_network_roles_were_not_safe():
    """The regression this guards against: fig5's former 'both' and 'answerer' colours under protanopia."""
    assert delta_e("#7570b3", "#e7298a", "protanomaly") < MIN_DELTA_E


def test_no_figure_source_hardcodes_another_categorical_colour():
    """Hex colours in figures.py are palette colours or neutral greys (equal R, G, B) or the footer's red."""
    import inspect

    text = inspect.getsource(figures)
    allowed = {c.lower() for c in figures.PALETTE.values()} | {figures.NOTE_COLOUR.lower()}
    for colour in set(re.findall(r"#[0-9a-fA-F]{6}\b", text)):
        c = colour.lower()
        assert c in allowed or c[1:3] == c[3:5] == c[5:7], colour


# --------------------------------------------------------------------------- the stamp on every figure


def _tables():
    themes = pd.DataFrame(
        [
            {
                "theme": "T1",
                "label": "Engagement",
                "n_codes": 1,
                "n_units": 4,
                "n_sources": 2,
                "n_participants": 2,
                "share_participants": 0.5,
            }
        ]
    )
    freq = pd.DataFrame(
        [{"code_id": "AFF", "label": "Affordances", "theme": "T1", "n_units": 4, "n_sources": 2, "n_participants": 2}]
    )
    sat = pd.DataFrame({"source_id": ["P01", "P02"], "cumulative_codes": [1, 1], "new_codes": [1, 0]})
    rel = pd.DataFrame(
        [
            {"code_id": "AFF", "kappa": 0.7, "alpha": 0.69, "alpha_low": 0.5, "alpha_high": 0.8},
            {"code_id": "ALL", "kappa": 0.7, "alpha": 0.69, "alpha_low": 0.5, "alpha_high": 0.8},
        ]
    )
    it = pd.DataFrame([{"source": "P01", "target": "P02", "act": "answer", "self_reply": False}])
    met = pd.DataFrame({"member": ["P01", "P02"], "answers": [1, 0], "role": ["answerer", "asker"]})
    co = pd.DataFrame([{"code_a": "AFF", "code_b": "EXAM", "jaccard": 0.2}])
    return {
        "fig1_theme_prevalence": lambda: figures.theme_prevalence(themes, freq),
        "fig2_code_frequencies": lambda: figures.code_frequencies(freq),
        "fig3_saturation": lambda: figures.saturation(sat),
        "fig4_reliability": lambda: figures.reliability(rel),
        "fig5_network": lambda: figures.network(it, met),
        "fig6_cooccurrence": lambda: figures.cooccurrence(co, ["AFF", "EXAM"]),
    }


def _raw(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "MANIFEST.sha256").write_text("0" * 64 + "  study.yml\n", encoding="utf-8")
    return raw


@pytest.mark.parametrize("name", list(_tables()))
def test_every_figure_carries_the_stamp(tmp_path, name):
    figures.setup()
    raw = _raw(tmp_path)
    stamp = provenance.figure_stamp(raw, "1.3")
    digest = provenance.manifest_digest(raw)
    assert len(digest) == 64 and f"sha256 {digest[:12]} " in stamp and "codebook 1.3" in stamp
    assert f"compendium {provenance.__version__}" in stamp
    fig = _tables()[name]()
    png, svg = figures.save(fig, tmp_path / "out", name, figures.SYNTHETIC_NOTE, stamp)
    assert figures.footer_texts(fig) == [figures.SYNTHETIC_NOTE, stamp]
    text = svg.read_text(encoding="utf-8")
    assert "codebook 1.3" in text and digest[:12] in text and "Synthetic corpus" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stamp_without_note_or_manifest(tmp_path):
    stamp = provenance.figure_stamp(tmp_path, None)
    assert stamp == f"codebook unversioned \u00b7 no raw manifest \u00b7 compendium {provenance.__version__}"
    figures.setup()
    fig = figures.saturation(pd.DataFrame({"source_id": ["P01"], "cumulative_codes": [1], "new_codes": [1]}))
    svg = figures.save(fig, tmp_path, "fig3", None, stamp)[1].read_text(encoding="utf-8")
    assert "Synthetic corpus" not in svg and "no raw manifest" in svg
