"""Tests for compendium.figures: deterministic bytes, fig1's bars, fig5's ties and legend, the captions."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from matplotlib.legend import Legend
from matplotlib.patches import FancyArrowPatch

from compendium import figures

FIGURE_NAMES = [
    "fig1_theme_prevalence",
    "fig2_code_frequencies",
    "fig3_saturation",
    "fig4_reliability",
    "fig5_network",
    "fig6_cooccurrence",
]


@pytest.fixture(autouse=True)
def _setup():
    figures.setup()


@pytest.fixture
def themes():
    return pd.DataFrame(
        [
            {
                "theme": "T1",
                "label": "Engagement in a connective space",
                "n_codes": 3,
                "n_codes_applied": 3,
                "n_units": 40,
                "n_sources": 9,
                "n_participants": 4,
                "share_participants": 0.8,
            },
            {
                "theme": "T2",
                "label": "Decentralization of knowledge and authority",
                "n_codes": 2,
                "n_codes_applied": 1,
                "n_units": 12,
                "n_sources": 5,
                "n_participants": 3,
                "share_participants": 0.6,
            },
        ]
    )


@pytest.fixture
def freq():
    return pd.DataFrame(
        [
            {
                "code_id": "AFF",
                "label": "Platform affordances",
                "theme": "T1",
                "origin": "deductive",
                "n_units": 20,
                "n_sources": 6,
                "n_participants": 4,
            },
            {
                "code_id": "LURK",
                "label": "Lurking and legitimate peripheral participation",
                "theme": "T1",
                "origin": "inductive",
                "n_units": 3,
                "n_sources": 2,
                "n_participants": 1,
            },
            {
                "code_id": "EXAM",
                "label": "Exam-driven timing and use",
                "theme": "T1",
                "origin": "inductive",
                "n_units": 25,
                "n_sources": 7,
                "n_participants": 3,
            },
            {
                "code_id": "SAFE",
                "label": 'Safety to ask "stupid" questions',
                "theme": "T2",
                "origin": "inductive",
                "n_units": 12,
                "n_sources": 5,
                "n_participants": 3,
            },
            {
                "code_id": "NORMS",
                "label": "Community norms and self-regulation",
                "theme": "T2",
                "origin": "inductive",
                "n_units": 0,
                "n_sources": 0,
                "n_participants": 0,
            },
        ]
    )


@pytest.fixture
def interactions():
    # self_reply as read back from CSV: text
    rows = [
        ("M20", "P06", "answer", "False"),
        ("M20", "P06", "elaboration", "False"),
        ("P12", "M20", "thanks", "False"),
        ("P11", "P06", "answer", "False"),
        ("P06", "P11", "question", "False"),
        ("P06", "P06", "answer", "True"),
        ("M21", "P12", "other", "False"),
        ("P11", "M20", "Answer ", "False"),
    ]
    return pd.DataFrame(
        [
            {"source": s, "target": t, "act": a, "self_reply": f, "post_id": f"WITI-001#{i + 2}"}
            for i, (s, t, a, f) in enumerate(rows)
        ]
    )


@pytest.fixture
def metrics():
    # nobody is an "asker" or "other": the legend must not list them
    rows = [
        ("M20", 1, 3, "both"),
        ("P06", 2, 0, "both"),
        ("P11", 0, 2, "answerer"),
        ("P12", 1, 1, "both"),
        ("M21", 0, 1, "answerer"),
    ]
    return pd.DataFrame(
        [
            {"member": m, "posts": q + a, "questions": q, "answers": a, "weighted_degree": q + a, "role": r}
            for m, q, a, r in rows
        ]
    )


def _drawn_ties(fig) -> list[str]:
    return sorted(
        p.get_gid()
        for ax in fig.axes
        for p in ax.patches
        if isinstance(p, FancyArrowPatch) and (p.get_gid() or "").startswith("tie-")
    )


def _legend_texts(fig) -> list[str]:
    legends = [c for ax in fig.axes for c in ax.get_children() if isinstance(c, Legend)]
    return [t.get_text() for leg in legends for t in leg.get_texts()]


def _bytes(paths):
    return {p.suffix: p.read_bytes() for p in paths}


# --------------------------------------------------------------------------- answer ties


def test_answer_ties_keep_answer_acts_only(interactions):
    ties = figures.answer_ties(interactions)
    assert list(ties.columns) == ["source", "target", "answers"]
    assert list(ties.itertuples(index=False, name=None)) == [("M20", "P06", 2), ("P11", "M20", 1), ("P11", "P06", 1)]


def test_answer_ties_without_act_column_count_every_reply(interactions):
    ties = figures.answer_ties(interactions.drop(columns=["act"]))
    assert dict(zip(zip(ties["source"], ties["target"]), ties["answers"])) == {
        ("M20", "P06"): 2,
        ("M21", "P12"): 1,
        ("P06", "P11"): 1,
        ("P11", "M20"): 1,
        ("P11", "P06"): 1,
        ("P12", "M20"): 1,
    }


def test_answer_ties_self_reply_as_bool_or_text(interactions):
    as_bool = interactions.assign(self_reply=interactions["self_reply"].eq("True"))
    assert figures.answer_ties(as_bool).equals(figures.answer_ties(interactions))
    assert "P06" not in set(figures.answer_ties(interactions.drop(columns=["self_reply"]))["source"])


def test_answer_ties_empty():
    empty = pd.DataFrame(columns=["source", "target", "act", "self_reply"])
    assert figures.answer_ties(empty).empty


# --------------------------------------------------------------------------- fig5 network


def test_network_draws_only_answer_ties(interactions, metrics):
    fig = figures.network(interactions, metrics)
    assert _drawn_ties(fig) == ["tie-M20-P06", "tie-P11-M20", "tie-P11-P06"]
    fig.clf()


def test_network_without_answers_draws_no_edge(interactions, metrics):
    fig = figures.network(interactions.assign(act="thanks"), metrics)
    assert _drawn_ties(fig) == []
    assert not any(
        "answers on the tie" in leg.get_title().get_text()
        for ax in fig.axes
        for leg in ax.get_children()
        if isinstance(leg, Legend)
    )


def test_network_legend_lists_only_roles_present(interactions, metrics):
    texts = _legend_texts(figures.network(interactions, metrics))
    roles = [t for t in texts if re.fullmatch(r"[a-z]+ \(\d+\)", t)]
    assert roles == ["both (3)", "answerer (2)"]
    assert "3 answers" in texts  # node size reference: the most answers given


def test_network_labels_every_member(interactions, metrics):
    fig = figures.network(interactions, metrics)
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert set(metrics["member"]) <= labels


def test_network_star(metrics):
    """A centralised network: three tutors answer (almost) everybody; still one label and node per member."""
    tutors = ["P01", "P02", "P03"]
    others = [f"M{i:02d}" for i in range(10, 50)]
    rows = [
        {"source": tutors[i % 3], "target": m, "act": "answer", "self_reply": False}
        for i, m in enumerate(others)
        for _ in range(1 + i % 4)
    ]
    rows.append({"source": "M10", "target": "P01", "act": "thanks", "self_reply": False})
    it = pd.DataFrame(rows)
    met = pd.DataFrame(
        {
            "member": tutors + others,
            "questions": [0] * 3 + [1] * len(others),
            "answers": [14, 13, 13] + [0] * len(others),
            "weighted_degree": 0,
            "role": ["answerer"] * 3 + ["asker"] * len(others),
        }
    )
    fig = figures.network(it, met)
    assert len(_drawn_ties(fig)) == len(others)
    assert [t for t in _legend_texts(fig) if "(" in t] == ["answerer (3)", f"asker ({len(others)})"]
    assert set(met["member"]) <= {t.get_text() for t in fig.axes[0].texts}


# --------------------------------------------------------------------------- fig1 prevalence


def test_theme_prevalence_a_bar_per_code_in_each_panel(themes, freq):
    fig = figures.theme_prevalence(themes, freq)
    panels = [ax for ax in fig.axes if ax.patches]
    assert len(panels) == 3
    for ax, col in zip(panels, ["n_units", "n_sources", "n_participants"]):
        bars = {p.get_gid(): p.get_width() for p in ax.patches if (p.get_gid() or "").startswith(col)}
        assert bars == {f"{col}-{c}": float(v) for c, v in zip(freq["code_id"], freq[col])}


def test_theme_prevalence_participants_axis(themes, freq):
    # recovered from themes: 4 / 0.8 = 3 / 0.6 = 5 participants
    assert figures.participants_total(themes) == 5
    assert figures.theme_prevalence(themes, freq).axes[2].get_xlim()[1] == 5
    assert figures.theme_prevalence(themes, freq, n_participants=9).axes[2].get_xlim()[1] == 9
    assert figures.participants_total(themes.assign(share_participants=[0.8, 0.5])) is None


def test_prevalence_rows_order(themes, freq):
    rows = figures.prevalence_rows(themes, freq)
    assert rows["key"].tolist() == ["T1", "EXAM", "AFF", "LURK", "", "T2", "SAFE", "NORMS"]
    assert rows.loc[rows["key"] == "T1", "n_units"].item() == 40


def test_theme_prevalence_labels_short_enough(themes, freq):
    fig = figures.theme_prevalence(themes, freq.assign(label="a very long label " * 8))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert all(len(t) <= figures.LABEL_CHARS for t in labels if t and not t.startswith("T"))


# --------------------------------------------------------------------------- determinism, captions


def test_saves_are_byte_identical(tmp_path, themes, freq, interactions, metrics):
    for make, name in [
        (lambda: figures.theme_prevalence(themes, freq), "fig1"),
        (lambda: figures.network(interactions, metrics), "fig5"),
    ]:
        first = _bytes(figures.save(make(), tmp_path / "a", name))
        second = _bytes(figures.save(make(), tmp_path / "b", name))
        assert set(first) == {".png", ".svg"}
        assert first == second, name
        svg = first[".svg"].decode()
        assert "<text" in svg  # text kept as text
        assert "Synthetic corpus" in svg


def test_network_svg_keeps_labels_as_text(tmp_path, interactions, metrics):
    svg = figures.save(figures.network(interactions, metrics), tmp_path, "fig5")[1].read_text()
    for member in metrics["member"]:
        assert f">{member}<" in svg, member  # a text element the de-identification gate can read


def test_captions_cover_every_figure():
    assert set(figures.CAPTIONS) == set(FIGURE_NAMES)
    for name, text in figures.CAPTIONS.items():
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
        assert 2 <= len(sentences) <= 3, name
        assert not re.search(r"\d", text.replace("fig", "")), name  # describes the figure, no numbers


# --------------------------------------------------------------------------- legibility, footer, fig4


def _all_figures(themes, freq, interactions, metrics):
    rel = pd.DataFrame(
        [
            {"code_id": c, "kappa": k, "alpha": k - 0.01, "alpha_low": k - 0.2, "alpha_high": k + 0.1}
            for c, k in (("AFF", 0.9), ("SAFE", 0.5), ("NORMS", 0.0))
        ]
    )
    sat = pd.DataFrame(
        {"source_id": [f"P{i:02d}" for i in range(1, 15)], "cumulative_codes": range(1, 15), "new_codes": [1] * 14}
    )
    co = pd.DataFrame([{"code_a": "AFF", "code_b": "SAFE", "jaccard": 0.3}])
    return {
        "fig1_theme_prevalence": figures.theme_prevalence(themes, freq),
        "fig2_code_frequencies": figures.code_frequencies(freq),
        "fig3_saturation": figures.saturation(sat),
        "fig4_reliability": figures.reliability(rel),
        "fig5_network": figures.network(interactions, metrics),
        "fig6_cooccurrence": figures.cooccurrence(co, list(freq["code_id"])),
    }


def test_every_text_legible_at_report_width(tmp_path, themes, freq, interactions, metrics):
    """Shown DISPLAY_WIDTH_PX wide in the HTML report, no text (footer included) is under MIN_DISPLAY_PX."""
    for name, fig in _all_figures(themes, freq, interactions, metrics).items():
        png, _ = figures.save(fig, tmp_path, name, figures.SYNTHETIC_NOTE, "codebook 1.3 \u00b7 stamp")
        assert figures.smallest_text_px(fig) >= figures.MIN_DISPLAY_PX, name
        from PIL import Image

        width_px = Image.open(png).size[0]
        import matplotlib

        # the PNG is the figure's width times the save dpi; shown 640 px wide, 1 pt is 640 / (72 * width) px
        assert width_px == round(fig.get_figwidth() * matplotlib.rcParams["savefig.dpi"]), name


def test_footer_inside_canvas_and_below_axes(tmp_path, themes, freq, interactions, metrics):
    for name, fig in _all_figures(themes, freq, interactions, metrics).items():
        figures.save(fig, tmp_path, name, figures.SYNTHETIC_NOTE, "codebook 1.3 \u00b7 stamp")
        renderer = fig.canvas.get_renderer()
        footer = [t.get_window_extent(renderer) for t in fig.texts if (t.get_gid() or "").startswith("footer")]
        assert len(footer) == 2, name
        top = max(b.y1 for b in footer)
        assert all(b.x0 >= 0 and b.y0 >= 0 and b.x1 <= fig.bbox.width for b in footer), name
        for ax in fig.axes:
            if ax.get_visible():
                assert ax.get_tightbbox(renderer).y0 >= top - 1, (name, ax)


def test_reliability_axis_label_dodge_and_reference(themes, freq, interactions, metrics):
    fig = _all_figures(themes, freq, interactions, metrics)["fig4_reliability"]
    ax = fig.axes[0]
    assert "agreement" in ax.get_xlabel()
    kappa = next(c for c in ax.collections if c.get_gid() == "kappa").get_offsets()
    alpha = next(c for c in ax.collections if c.get_gid() == "alpha").get_offsets()
    assert (kappa[:, 1] - alpha[:, 1] >= 0.3).all()  # the two markers of a code sit on different heights
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    reference = [t for t in texts if t.startswith(f"{figures.REFERENCE_LEVEL}:")]
    assert reference and "not a pass mark" in reference[0] and "substantial" in reference[0]


# --------------------------------------------------------------------------- provenance: stamp, commit, colophon


def test_git_commit_reads_head_without_git(tmp_path):
    from compendium import provenance

    assert provenance.git_commit(tmp_path) == provenance.NOT_A_CHECKOUT
    sha = "0123456789abcdef0123456789abcdef01234567"
    git = tmp_path / "repo" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{sha} refs/heads/main\n")
    (tmp_path / "repo" / "src").mkdir()
    assert provenance.git_commit(tmp_path / "repo" / "src") == sha
    (git / "refs" / "heads" / "main").write_text(sha.replace("0", "f") + "\n")
    assert provenance.git_commit(tmp_path / "repo") == sha.replace("0", "f")
    (git / "HEAD").write_text(sha + "\n")  # detached
    assert provenance.git_commit(tmp_path / "repo") == sha


def test_colophon_full_manifest_hash_and_commit_only_on_request(tmp_path):
    from compendium import provenance

    (tmp_path / "MANIFEST.sha256").write_text("x\n")
    plain = provenance.colophon(tmp_path, codebook_version="1.3")
    values = dict(zip(plain["item"], plain["value"]))
    assert len(values["raw MANIFEST.sha256 (sha256)"]) == 64 and values["codebook"] == "1.3"
    assert "git commit" not in values
    with_commit = provenance.colophon(tmp_path, commit=True)
    assert with_commit["item"].iloc[0] == "git commit"
