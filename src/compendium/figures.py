"""Deterministic figures: the same tables always give the same PNG and SVG bytes.

matplotlib is set up once (:func:`setup`): the Agg backend, the DejaVu Sans font bundled with matplotlib, a fixed
SVG hash salt, text kept as text in SVG (so the de-identification gate can read it), and no dates or software
versions in file metadata. Every figure carries a footer saying when its data are synthetic.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

THEME_COLOURS = {"T1": "#1b9e77", "T2": "#d95f02", "T3": "#7570b3"}
ROLE_COLOURS = {"asker": "#66a61e", "answerer": "#e7298a", "both": "#7570b3", "other": "#999999"}
SYNTHETIC_NOTE = "Synthetic corpus: illustrative output of the compendium, not the study's results"


def setup() -> None:
    matplotlib.rcParams.update({
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "svg.hashsalt": "witi-compendium",
        "svg.fonttype": "none",
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "path.simplify": False,
    })


def _finish(fig, note: str | None) -> None:
    if note:
        fig.text(0.01, 0.005, note, fontsize=7, color="#a00000", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03 if note else 0, 1, 1))


def save(fig, out_dir: str | Path, name: str, note: str | None = SYNTHETIC_NOTE) -> list[Path]:
    """Write ``name.png`` and ``name.svg`` without dates, versions or random ids; close the figure."""
    _finish(fig, note)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
    fig.savefig(png, metadata={"Software": None})
    fig.savefig(svg, metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    plt.close(fig)
    return [png, svg]


def theme_prevalence(themes: pd.DataFrame):
    """Bars: share of interview participants and number of units per theme."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 2.6))
    labels = [f"{r.theme}  {r.label}" for r in themes.itertuples()]
    colours = [THEME_COLOURS.get(t, "#666666") for t in themes["theme"]]
    y = np.arange(len(themes))[::-1]
    axes[0].barh(y, themes["share_participants"].astype(float) * 100, color=colours)
    axes[0].set_yticks(y, labels)
    axes[0].set_xlabel("% of interview participants")
    axes[0].set_xlim(0, 100)
    axes[1].barh(y, themes["n_units"].astype(int), color=colours)
    axes[1].set_yticks(y, [""] * len(y))
    axes[1].set_xlabel("coded units (segments and posts)")
    fig.suptitle("Theme prevalence", fontsize=10)
    return fig


def code_frequencies(freq: pd.DataFrame):
    """Horizontal bars of coded units per code, grouped and coloured by theme."""
    freq = freq.sort_values(["theme", "n_units", "code_id"], ascending=[True, True, True]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(freq) + 1.2))
    y = np.arange(len(freq))
    ax.barh(y, freq["n_units"].astype(int), color=[THEME_COLOURS.get(t, "#666") for t in freq["theme"]])
    ax.set_yticks(y, [f"{c} ({t})" for c, t in zip(freq["code_id"], freq["theme"])], fontsize=7)
    ax.set_xlabel("coded units (consensus coding)")
    ax.set_title("Code frequencies by theme", fontsize=10)
    return fig


def saturation(sat: pd.DataFrame):
    """The saturation curve: cumulative distinct codes as sources are added in date order."""
    fig, ax = plt.subplots(figsize=(7, 3))
    x = np.arange(1, len(sat) + 1)
    ax.step(x, sat["cumulative_codes"].astype(int), where="mid", color="#333333")
    ax.bar(x, sat["new_codes"].astype(int), color="#bbbbbb", label="new codes in this source")
    ax.set_xticks(x, sat["source_id"], rotation=90, fontsize=6)
    ax.set_ylabel("distinct codes")
    ax.legend(loc="center right", frameon=False)
    ax.set_title("Code saturation across sources (date order)", fontsize=10)
    return fig


def reliability(rel: pd.DataFrame):
    """Dot plot of Cohen's kappa and Krippendorff's alpha per code."""
    rel = rel[rel["code_id"] != "ALL"].copy()
    rel["kappa_f"] = pd.to_numeric(rel["kappa"], errors="coerce")
    rel["alpha_f"] = pd.to_numeric(rel["alpha"], errors="coerce")
    rel = rel.sort_values(["kappa_f", "code_id"], na_position="first").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6, 0.2 * len(rel) + 1.2))
    y = np.arange(len(rel))
    ax.scatter(rel["kappa_f"], y, s=14, label="Cohen's kappa", color="#1b9e77")
    ax.scatter(rel["alpha_f"], y, s=14, marker="x", label="Krippendorff's alpha", color="#d95f02")
    ax.set_yticks(y, rel["code_id"], fontsize=7)
    ax.axvline(0.6, color="#cccccc", linewidth=0.8)
    ax.set_xlim(-0.2, 1.05)
    ax.legend(loc="lower right", frameon=False, fontsize=7)
    ax.set_title("Inter-coder agreement per code (double-coded sources)", fontsize=10)
    return fig


def network(interactions: pd.DataFrame, metrics: pd.DataFrame, seed: int = 2107):
    """Reply network: who answers whom; node size by weighted degree, colour by role."""
    if "self_reply" in interactions:
        interactions = interactions[~interactions["self_reply"].astype(str).str.lower().eq("true")]
    g = nx.DiGraph()
    for m in metrics.itertuples():
        g.add_node(m.member)
    for (s, t), n in interactions.groupby(["source", "target"]).size().items():
        g.add_edge(s, t, weight=int(n))
    nodes = sorted(g.nodes)
    pos = nx.spring_layout(g.subgraph(nodes), seed=seed, k=0.6, iterations=200)
    roles = dict(zip(metrics["member"], metrics["role"]))
    size = dict(zip(metrics["member"], metrics["weighted_degree"].astype(float)))
    fig, ax = plt.subplots(figsize=(7, 6))
    edges = sorted(g.edges(data="weight"))
    nx.draw_networkx_edges(g, pos, edgelist=[(s, t) for s, t, _ in edges], width=[0.4 + 0.4 * w for *_, w in edges],
                           alpha=0.5, arrowsize=6, ax=ax, node_size=[40 + 12 * size.get(n, 0) for n in nodes],
                           nodelist=nodes)
    nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_size=[40 + 12 * size.get(n, 0) for n in nodes],
                           node_color=[ROLE_COLOURS.get(roles.get(n, "other"), "#999") for n in nodes], ax=ax)
    nx.draw_networkx_labels(g, pos, labels={n: n for n in nodes}, font_size=6, ax=ax)
    for role, colour in ROLE_COLOURS.items():
        ax.scatter([], [], color=colour, label=role, s=20)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7, title="role in WITI threads",
              title_fontsize=7)
    ax.set_axis_off()
    ax.set_title("Who replies to whom (pseudonyms)", fontsize=10)
    return fig


def cooccurrence(co: pd.DataFrame, codes: list[str]):
    """Heat map of code co-occurrence (Jaccard) on coded units."""
    idx = {c: i for i, c in enumerate(codes)}
    mat = np.zeros((len(codes), len(codes)))
    for r in co.itertuples():
        if r.code_a in idx and r.code_b in idx:
            mat[idx[r.code_a], idx[r.code_b]] = mat[idx[r.code_b], idx[r.code_a]] = float(r.jaccard)
    fig, ax = plt.subplots(figsize=(7, 6))
    im = ax.imshow(mat, cmap="Blues", vmin=0, vmax=max(0.01, mat.max()), interpolation="nearest")
    ax.set_xticks(range(len(codes)), codes, rotation=90, fontsize=6)
    ax.set_yticks(range(len(codes)), codes, fontsize=6)
    fig.colorbar(im, ax=ax, fraction=0.04, label="Jaccard index")
    ax.set_title("Code co-occurrence on the same unit", fontsize=10)
    return fig
