"""Deterministic figures: the same tables always give the same PNG and SVG bytes.

matplotlib is set up once (:func:`setup`): the Agg backend, the DejaVu Sans font bundled with matplotlib, a fixed
SVG hash salt, text kept as text in SVG (so the de-identification gate can read it), and no dates or software
versions in file metadata. Every figure has a caption in :data:`CAPTIONS` (what is shown, how to read it, what it
does not show; no results) and a footer (:func:`save`): a line saying the data are synthetic when ``study.yml``
says ``synthetic: true`` (:func:`compendium.report.note_for`), and a provenance stamp
(:func:`compendium.provenance.figure_stamp`): the codebook version, the first 12 hex digits of the sha256 of
``data/raw/MANIFEST.sha256`` (which pins every raw file) and the compendium's version.

Why the stamp names the raw manifest and not the git commit: the figures are committed derived files, and a file
cannot contain the hash of the commit that contains it (the hash depends on the file). Stamping the commit of the
run would also make the bytes depend on when they were made, so ``compendium verify`` could not reproduce them
byte for byte from a later commit. The commit is listed in the report's colophon instead, and stamped on the
report site's copies of the figures, which are not committed (:func:`compendium.provenance.colophon`,
:mod:`compendium.stamp`).

Legibility: the HTML report shows figures :data:`DISPLAY_WIDTH_PX` pixels wide, so a font of ``s`` points in a
figure ``w`` inches wide shows ``s * DISPLAY_WIDTH_PX / (72 * w)`` pixels high whatever the dpi; every text is
sized to at least :data:`MIN_DISPLAY_PX` at that width (:func:`display_px`, :func:`smallest_text_px`).

Colours: every categorical colour comes from :data:`PALETTE` (Okabe & Ito's colour-blind-safe set and a dark
grey), whose colours stay at least 20 CAM02-UCS delta-E apart in normal vision and under simulated deuteranopia
and protanopia (``tests/test_figure_colours.py``). Sequential scales (tie shades, the co-occurrence heat map) and
neutral greys are not categorical.

fig1 (:func:`theme_prevalence`) counts units, sources and participants per code under its theme; fig5
(:func:`network`) draws only answer-type replies (:func:`answer_ties`) as ties of the information-flow network.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from . import network as network_mod  # noqa: E402
from .coding import natural_key  # noqa: E402

# Okabe & Ito (2008) "Color Universal Design" colours and a dark grey: the only categorical colours used.
PALETTE: dict[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish green": "#009E73",
    "sky blue": "#56B4E9",
    "dark grey": "#555555",
}
THEME_COLOURS = {"T1": PALETTE["blue"], "T2": PALETTE["orange"], "T3": PALETTE["bluish green"]}
ROLE_COLOURS = {
    "both": PALETTE["blue"],
    "answerer": PALETTE["orange"],
    "asker": PALETTE["sky blue"],
    "other": PALETTE["dark grey"],
}
KAPPA_COLOUR, ALPHA_COLOUR = PALETTE["blue"], PALETTE["orange"]
FALLBACK_COLOUR = PALETTE["dark grey"]  # a theme or role not listed above
SYNTHETIC_NOTE = "Synthetic corpus: illustrative output of the compendium, not the study's results"
NOTE_COLOUR, STAMP_COLOUR = "#a00000", "#666666"
DISPLAY_WIDTH_PX = 640  # width at which the HTML report shows a figure
MIN_DISPLAY_PX = 8.0  # smallest text height (font size in pixels) allowed at that width

CAPTIONS: dict[str, str] = {
    "fig1_theme_prevalence": (
        "For each theme and each of its codes, three panels count the coded units, the sources (interviews, "
        "field notes, screenshots) and the interview participants in which the code was applied; codes are "
        "grouped and coloured by theme and ordered by coded units, and each theme's bold header row gives its "
        "total, which counts a unit, source or participant once however many of the theme's codes it carries, "
        "so it is not the sum of the bars. "
        "Bar lengths compare how much material each code rests on and how widely it is spread across sources "
        "and people; the participants axis ends at the number of interview participants. "
        "Counts show where codes were applied, not how salient, important or strongly felt a theme is."
    ),
    "fig2_code_frequencies": (
        "Coded units per code after consensus coding, one bar per code, grouped and coloured by theme. "
        "Longer bars mark codes applied to more segments and posts. "
        "The figure does not show how many sources or participants a code spans, nor what the coded passages say."
    ),
    "fig3_saturation": (
        "Sources in date order along the horizontal axis; the step line is the cumulative number of distinct "
        "codes applied so far and the grey bars are the codes first applied in each source. "
        "A flattening line means later sources added few new codes. "
        "It shows saturation of the codebook's codes only, not saturation of meaning, and the curve depends on "
        "the order in which sources are taken."
    ),
    "fig4_reliability": (
        "Agreement between two coders for each code on the double-coded sources: the kappa statistic as dots "
        "and the alpha statistic as crosses (both chance-corrected) with a shaded bar for alpha's bootstrap "
        "interval over units, codes ordered by kappa, with a light vertical line at a conventional reference "
        "level. Points further right mean the coders applied the code to the same units more consistently than "
        "chance; a wide bar means few units carry the code and the estimate is uncertain. "
        "Agreement is on units, not on span boundaries or interpretation, and sources coded by one coder are "
        "not included."
    ),
    "fig5_network": (
        "Who answers whom on WITI: each node is a member (pseudonym), coloured by role in the threads and sized "
        "by answers given, and each arrow runs from a replier to the member they answered, darker and wider "
        "with more answers on that tie; members without answer ties sit in a row below. "
        "Only answer and elaboration replies make ties; questions, thanks, other replies, self-replies and "
        "anonymous posts do not. "
        "Positions come from a seeded layout: distances and placement carry no meaning beyond the ties drawn, "
        "and the figure says nothing about the content or quality of answers."
    ),
    "fig6_cooccurrence": (
        "Heat map of code co-occurrence: each cell is the Jaccard index of two codes, the share of units "
        "carrying either code that carry both, darker for more overlap; the diagonal is left empty. "
        "Dark cells point to codes often applied to the same segment or post. "
        "Co-occurrence on a unit is not a causal or sequential link, and overlap across neighbouring units or "
        "whole sources is not shown."
    ),
}


def setup() -> None:
    matplotlib.rcParams.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "svg.hashsalt": "witi-compendium",
            "svg.fonttype": "none",
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "path.simplify": False,
        }
    )


def display_px(fig, fontsize: float) -> float:
    """Height in pixels of a ``fontsize``-point font in ``fig`` when the figure is shown DISPLAY_WIDTH_PX wide."""
    return float(fontsize) * DISPLAY_WIDTH_PX / (72 * fig.get_figwidth())


def legible_pt(width_in: float, px: float = MIN_DISPLAY_PX + 0.3) -> float:
    """The font size (points, to a tenth) that shows ``px`` pixels high in a figure ``width_in`` inches wide."""
    return float(np.ceil(px * 72 * width_in / DISPLAY_WIDTH_PX * 10) / 10)


def smallest_text_px(fig) -> float:
    """The smallest visible, non-empty text of ``fig`` in display pixels (see :func:`display_px`)."""
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min((display_px(fig, s) for s in sizes), default=float("inf"))


FOOTER_GID = "footer"


def _footer_lines(note: str | None, stamp: str | None) -> list[tuple[str, str]]:
    return [(text, colour) for text, colour in ((note, NOTE_COLOUR), (stamp, STAMP_COLOUR)) if text]


def _footer_size(fig) -> float:
    return max(6.0, legible_pt(fig.get_figwidth()))


def footer_height(fig, lines: int) -> float:
    """Share of the figure's height the footer takes with ``lines`` lines (kept free of axes by tight_layout)."""
    if not lines:
        return 0.0
    return (lines * 1.3 * _footer_size(fig) + 4) / 72 / fig.get_figheight()


def _finish(fig, note: str | None, stamp: str | None = None) -> None:
    """Lay the figure out above its footer, then write the footer lines at the bottom edge, left aligned."""
    lines = _footer_lines(note, stamp)
    size = _footer_size(fig)
    for i, (text, colour) in enumerate(reversed(lines)):
        y = (3 + i * 1.3 * size) / 72 / fig.get_figheight()
        fig.text(0.01, y, text, fontsize=size, color=colour, ha="left", va="bottom", gid=f"{FOOTER_GID}-{i}")
    fig.tight_layout(rect=(0, footer_height(fig, len(lines)), 1, 1))


def footer_texts(fig) -> list[str]:
    """The footer lines written on ``fig`` by :func:`save`, top to bottom."""
    found = [t for t in fig.texts if (t.get_gid() or "").startswith(FOOTER_GID)]
    return [t.get_text() for t in sorted(found, key=lambda t: -t.get_position()[1])]


def save(
    fig, out_dir: str | Path, name: str, note: str | None = SYNTHETIC_NOTE, stamp: str | None = None
) -> list[Path]:
    """Write ``name.png`` and ``name.svg`` without dates, versions or random ids; close the figure.

    The footer is ``note`` (the synthetic-corpus warning, or None) above ``stamp`` (the provenance stamp,
    :func:`compendium.provenance.figure_stamp`, or None), small and grey, below the axes.
    """
    _finish(fig, note, stamp)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
    fig.savefig(png, metadata={"Software": None})
    fig.savefig(svg, metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    plt.close(fig)
    return [png, svg]


PREVALENCE_PANELS = (
    ("n_units", "coded units"),
    ("n_sources", "sources (documents)"),
    ("n_participants", "interview participants"),
)
LABEL_CHARS = 52  # code id + short label on fig1's axis, at most


def _count_ticks(top: int) -> list[int]:
    """Integer ticks 0 .. ``top`` at a round step, ``top`` itself always a tick."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if top / s <= 7)
    ticks = list(range(0, top + 1, step))
    if top - ticks[-1] < 0.5 * step and ticks[-1] != top and len(ticks) > 1:
        ticks.pop()
    return sorted(set(ticks) | {top})


def _short(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:/-(")
    return (cut or text[: limit - 1]) + "\u2026"


def _text_on(colour: str) -> str:
    """White or near-black, whichever reads better on a bar of ``colour`` (WCAG relative luminance)."""
    rgb = np.array([int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]) / 255
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return "white" if float(lin @ [0.2126, 0.7152, 0.0722]) < 0.2 else "#111111"


def participants_total(themes: pd.DataFrame) -> int | None:
    """All interview participants, recovered from themes.csv (``n_participants / share_participants``).

    None when no theme has a positive share or the themes disagree.
    """
    if not {"n_participants", "share_participants"} <= set(themes.columns):
        return None
    n = pd.to_numeric(themes["n_participants"], errors="coerce")
    share = pd.to_numeric(themes["share_participants"], errors="coerce")
    ok = (share > 0) & n.notna()
    totals = {int(np.rint(a / b)) for a, b in zip(n[ok], share[ok])}
    return totals.pop() if len(totals) == 1 else None


def prevalence_rows(themes: pd.DataFrame, code_frequencies: pd.DataFrame) -> pd.DataFrame:
    """Rows of fig1, top to bottom: per theme a header row (the theme totals), then its codes by units.

    Columns: kind (theme, code or gap), theme, key, label, n_units, n_sources, n_participants.
    Themes come in the order of ``themes``; themes only named in ``code_frequencies`` follow, sorted.
    """
    freq = code_frequencies.copy()
    for col, _ in PREVALENCE_PANELS:
        freq[col] = pd.to_numeric(freq[col], errors="coerce").fillna(0).astype(int)
    theme_ids = [str(t) for t in themes["theme"]]
    theme_ids += sorted(set(freq["theme"].astype(str)) - set(theme_ids))
    by_theme = {str(r.theme): r for r in themes.itertuples(index=False)}
    rows = []
    for i, tid in enumerate(theme_ids):
        if i:
            rows.append({"kind": "gap", "theme": tid, "key": "", "label": ""})
        t = by_theme.get(tid)
        rows.append(
            {
                "kind": "theme",
                "theme": tid,
                "key": tid,
                "label": "" if t is None else str(t.label),
                **{col: (None if t is None else int(getattr(t, col))) for col, _ in PREVALENCE_PANELS},
            }
        )
        codes = freq[freq["theme"].astype(str) == tid]
        codes = codes.sort_values(["n_units", "code_id"], ascending=[False, True], kind="mergesort")
        rows += [
            {
                "kind": "code",
                "theme": tid,
                "key": str(c.code_id),
                "label": str(c.label),
                **{col: int(getattr(c, col)) for col, _ in PREVALENCE_PANELS},
            }
            for c in codes.itertuples(index=False)
        ]
    return pd.DataFrame(rows, columns=["kind", "theme", "key", "label", *(c for c, _ in PREVALENCE_PANELS)])


def theme_prevalence(themes: pd.DataFrame, code_frequencies: pd.DataFrame, n_participants: int | None = None):
    """Units, sources and participants per code, codes grouped under their theme (theme totals in the header rows).

    The participants panel runs from 0 to ``n_participants`` (default: recovered from ``themes``, see
    :func:`participants_total`; else the largest count shown).
    """
    rows = prevalence_rows(themes, code_frequencies)
    n_all = n_participants if n_participants is not None else participants_total(themes)
    y = np.arange(len(rows))[::-1].astype(float)
    width = 9.0
    small = legible_pt(width)
    fig, axes = plt.subplots(1, 3, figsize=(width, 0.24 * len(rows) + 1.6), sharey=True)
    codes = rows["kind"].eq("code").to_numpy()
    heads = rows["kind"].eq("theme").to_numpy()
    colours = [THEME_COLOURS.get(t, FALLBACK_COLOUR) for t in rows["theme"]]
    for ax, (col, title) in zip(axes, PREVALENCE_PANELS):
        values = rows[col].where(codes, 0).fillna(0).astype(int).to_numpy()
        shown = max([int(v) for v in rows[col].dropna()] + [1])
        top = max(n_all or 0, shown) if col == "n_participants" else max(int(values.max(initial=0)), 1) * 1.1
        bars = ax.barh(
            y[codes], values[codes], height=0.72, color=[c for c, k in zip(colours, codes) if k], label=f"codes: {col}"
        )
        for patch, key in zip(bars.patches, rows["key"][codes]):
            patch.set_gid(f"{col}-{key}")
        for yy, v, c in zip(y[codes], values[codes], [c for c, k in zip(colours, codes) if k]):
            inside = v >= 0.18 * top
            ax.text(
                v - 0.01 * top if inside else v + 0.01 * top,
                yy,
                str(v),
                va="center",
                ha="right" if inside else "left",
                fontsize=small,
                color=_text_on(c) if inside else "#333333",
            )
        for yy, r in zip(y[heads], rows[heads].itertuples(index=False)):
            total = getattr(r, col)
            if total is not None and pd.notna(total):
                ax.text(
                    0,
                    yy,
                    f"{r.theme}, any code: {int(total)}",
                    va="center",
                    ha="left",
                    fontsize=small,
                    fontweight="bold",
                    color="#222222",
                )
        ax.set_xlim(0, top)
        ax.set_title(title, fontsize=small + 1)
        ax.tick_params(axis="y", length=0)
        ax.tick_params(axis="x", labelsize=small)
        ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.spines["left"].set_visible(False)
    if n_all:
        axes[2].set_xlabel(f"participants with the code\n(axis: all {n_all} interviewed)", fontsize=small)
        axes[2].set_xticks(_count_ticks(int(axes[2].get_xlim()[1])))
    else:
        axes[2].set_xlabel("participants with the code", fontsize=small)
    axes[0].set_xlabel("units with the code", fontsize=small)
    axes[1].set_xlabel("interviews, field notes,\nscreenshots", fontsize=small)
    labels = [
        f"{r.key}  {_short(r.label, LABEL_CHARS - 2 - len(r.key))}"
        if r.kind == "code"
        else f"{r.key}  {r.label}"
        if r.kind == "theme"
        else ""
        for r in rows.itertuples()
    ]
    axes[0].set_yticks(y, labels, fontsize=small)
    for tick, r in zip(axes[0].get_yticklabels(), rows.itertuples()):
        if r.kind == "theme":
            tick.set_fontweight("bold")
            tick.set_color("#222222")
    axes[0].set_ylim(-0.7, len(rows) - 0.3)
    fig.suptitle("Theme and code prevalence: coded units, sources and participants", fontsize=small + 2.5)
    return fig


def code_frequencies(freq: pd.DataFrame):
    """Horizontal bars of coded units per code, grouped and coloured by theme."""
    freq = freq.sort_values(["theme", "n_units", "code_id"], ascending=[True, True, True]).reset_index(drop=True)
    width = 6.5
    small = legible_pt(width) + 0.5
    fig, ax = plt.subplots(figsize=(width, 0.22 * len(freq) + 1.4))
    y = np.arange(len(freq))
    ax.barh(y, freq["n_units"].astype(int), color=[THEME_COLOURS.get(t, FALLBACK_COLOUR) for t in freq["theme"]])
    ax.set_yticks(y, [f"{c} ({t})" for c, t in zip(freq["code_id"], freq["theme"])], fontsize=small)
    ax.tick_params(axis="x", labelsize=small + 1)
    ax.set_xlabel("coded units (consensus coding)", fontsize=small + 1.5)
    ax.set_title("Code frequencies by theme", fontsize=small + 3)
    return fig


def saturation(sat: pd.DataFrame):
    """The saturation curve: cumulative distinct codes as sources are added in date order."""
    width = 6.5
    small = legible_pt(width) + 0.5
    fig, ax = plt.subplots(figsize=(width, 3.4))
    x = np.arange(1, len(sat) + 1)
    ax.step(x, sat["cumulative_codes"].astype(int), where="mid", color="#333333", label="distinct codes so far")
    ax.bar(x, sat["new_codes"].astype(int), color="#bbbbbb", label="new codes in this source")
    ax.set_xticks(x, sat["source_id"], rotation=90, fontsize=small)
    ax.tick_params(axis="y", labelsize=small + 1)
    ax.set_ylabel("distinct codes", fontsize=small + 1.5)
    ax.set_xlabel("source (date order)", fontsize=small + 1.5)
    ax.legend(loc="center right", frameon=False, fontsize=small + 1)
    ax.set_title("Code saturation across sources (date order)", fontsize=small + 3)
    return fig


def reliability(rel: pd.DataFrame):
    """Dot plot of Cohen's kappa and Krippendorff's alpha per code, with alpha's bootstrap interval as a bar."""
    rel = rel[rel["code_id"] != "ALL"].copy()
    rel["kappa_f"] = pd.to_numeric(rel["kappa"], errors="coerce")
    rel["alpha_f"] = pd.to_numeric(rel["alpha"], errors="coerce")
    rel = rel.sort_values(["kappa_f", "code_id"], na_position="first").reset_index(drop=True)
    width = 6.0
    small = legible_pt(width) + 0.5
    fig, ax = plt.subplots(figsize=(width, 0.24 * len(rel) + 2.2))
    y = np.arange(len(rel))
    dodge = RELIABILITY_DODGE  # kappa a little above the code's row, alpha and its interval a little below
    if "alpha_low" in rel and "alpha_high" in rel:
        lo = pd.to_numeric(rel["alpha_low"], errors="coerce")
        hi = pd.to_numeric(rel["alpha_high"], errors="coerce")
        ok = lo.notna() & hi.notna()
        ax.hlines(
            y[ok.to_numpy()] - dodge,
            lo[ok],
            hi[ok],
            color=ALPHA_COLOUR,
            alpha=0.45,
            linewidth=2.2,
            label="alpha, 95% bootstrap interval",
            gid="alpha-interval",
        )
    ax.scatter(rel["kappa_f"], y + dodge, s=16, label="Cohen's kappa", color=KAPPA_COLOUR, gid="kappa")
    ax.scatter(
        rel["alpha_f"], y - dodge, s=18, marker="x", label="Krippendorff's alpha", color=ALPHA_COLOUR, gid="alpha"
    )
    ax.set_yticks(y, rel["code_id"], fontsize=small)
    ax.tick_params(axis="x", labelsize=small + 1)
    ax.axvline(
        REFERENCE_LEVEL,
        color="#999999",
        linewidth=0.9,
        linestyle="--",
        label=f'{REFERENCE_LEVEL}: conventional "substantial" level,\na prompt to discuss, not a pass mark',
    )
    ax.set_xlim(-0.2, 1.05)
    ax.set_ylim(-0.6, len(rel) - 0.4)
    ax.set_xlabel("agreement beyond chance (kappa, alpha; 0 = chance, 1 = perfect)", fontsize=small + 1)
    below = 0.62 / max(fig.get_figheight() - 1.9, 1.0)  # axes heights: below the tick labels and the x label
    ax.legend(loc="upper center", bbox_to_anchor=(0.42, -below), ncol=2, frameon=False, fontsize=small)
    ax.set_title("Inter-coder agreement per code (double-coded sources)", fontsize=small + 3)
    return fig


ROLE_ORDER = ("both", "answerer", "asker", "other")
REFERENCE_LEVEL = 0.6  # fig4's reference line: Landis & Koch's lower bound of "substantial" agreement
RELIABILITY_DODGE = 0.17  # rows; kappa drawn this far above a code's row, alpha this far below


def answer_ties(interactions: pd.DataFrame) -> pd.DataFrame:
    """Ties of the information-flow network: ``source`` (the replier) answered ``target`` ``answers`` times.
    Which rows are ties is :func:`compendium.network.answer_ties`'s rule (answer-type acts, no self-replies);
    rows sorted by source, target."""
    it = network_mod.answer_ties(interactions)[["source", "target"]].astype(str)
    counts = it.groupby(["source", "target"]).size()
    rows = sorted(
        ((s, t, int(n)) for (s, t), n in counts.items()), key=lambda r: (natural_key(r[0]), natural_key(r[1]))
    )
    return pd.DataFrame(rows, columns=["source", "target", "answers"])


def _layout(g: nx.Graph, seed: int) -> dict:
    """Positions in [0, 1]²: connected members by Kamada-Kawai (seeded spring start), isolates in rows below."""
    isolates = sorted((n for n in g if g.degree(n) == 0), key=natural_key)
    core = g.subgraph(n for n in g if g.degree(n) > 0)
    pos = {}
    if len(core):
        und = nx.Graph(core.to_undirected())
        nodes = sorted(und, key=natural_key)
        start = nx.spring_layout(und, seed=seed, iterations=200, weight=None)
        if nx.is_connected(und):
            raw = nx.kamada_kawai_layout(und, pos=start, weight=None)
        else:
            raw = nx.spring_layout(und, seed=seed, pos=start, k=1.6 / np.sqrt(len(und)), iterations=300, weight=None)
        xy = np.array([raw[n] for n in nodes], dtype=float)
        xy -= xy.min(axis=0)
        xy /= max(float(xy.max()), 1e-9)
        xy[:, 1] += 1 - xy[:, 1].max()
        pos = {n: (float(x), float(y)) for n, (x, y) in zip(nodes, xy)}
    per_row, below = 12, min((y for _, y in pos.values()), default=0.0) - 0.14
    for i, n in enumerate(isolates):
        row, col = divmod(i, per_row)
        pos[n] = ((col + 0.5) / per_row, below - 0.08 * row)
    return pos


def _node_area(answers, top: float) -> np.ndarray:
    """Marker area (points²) proportional to answers given, with a floor so every member shows."""
    return 30 + 620 * np.asarray(answers, dtype=float) / max(top, 1.0)


def _reference_values(top: int) -> list[int]:
    """Two or three round reference values up to ``top`` (always ``top`` itself) for a size legend."""
    if top <= 1:
        return [1]
    nice = [v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if v <= 0.6 * top] or [1]
    mid = min(nice, key=lambda v: (abs(v - top / 2), v))
    return sorted({1, mid, int(top)})


def _tie_style(top: int):
    """Shade and width of a tie with ``w`` answers, from light and thin (one answer) to dark and thick."""
    span = max(top - 1, 2)
    greys = plt.get_cmap("Greys")
    return (lambda w: greys(0.42 + 0.53 * (min(w, top) - 1) / span), lambda w: 0.6 + 2.6 * (min(w, top) - 1) / span)


def _separate(px: np.ndarray, radius: np.ndarray, box, gap: float, rounds: int = 200) -> np.ndarray:
    """Push overlapping discs (display pixels) apart, deterministically, keeping them inside ``box``."""
    px = px.copy()
    lo = np.array([box.x0, box.y0]) + radius[:, None]
    hi = np.array([box.x1, box.y1]) - radius[:, None]
    for _ in range(rounds):
        moved = False
        for i in range(len(px)):
            d = px[i] - px
            dist = np.hypot(d[:, 0], d[:, 1])
            need = radius[i] + radius + gap
            for j in np.flatnonzero((dist < need) & (np.arange(len(px)) > i)):
                u = d[j] / dist[j] if dist[j] > 1e-9 else np.array([1.0, 0.0])
                shift = (need[j] - dist[j]) / 2 * u
                px[i] += shift
                px[j] -= shift
                moved = True
        px = np.clip(px, lo, np.maximum(lo, hi))
        if not moved:
            break
    return px


def _place_labels(ax, pos: dict, nodes: list, radius_px: dict, edges: list, fontsize: float) -> None:
    """A label beside each node, at whichever of eight places overlaps other labels, nodes and ties least."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    pt = fig.dpi / 72
    centres = {n: ax.transData.transform(pos[n]) for n in nodes}
    frame = ax.get_window_extent(renderer)
    samples = np.array(
        [centres[s] + f * (centres[t] - centres[s]) for s, t in edges for f in np.linspace(0.05, 0.95, 19)]
    ).reshape(-1, 2)
    sides = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)]
    placed = []
    for n in sorted(nodes, key=lambda m: (-radius_px[m], natural_key(m))):
        probe = ax.text(0, 0, n, fontsize=fontsize)
        ext = probe.get_window_extent(renderer)
        probe.remove()
        w, h = ext.width + 2 * pt, ext.height
        best = None
        for k, (dx, dy) in enumerate(sides):
            reach = radius_px[n] + 1.5 * pt
            anchor = centres[n] + reach * np.array([dx, dy]) / np.hypot(dx, dy)
            cx, cy = anchor + np.array([dx * w / 2, dy * h / 2])
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            cost = 3 * math.fsum(_overlap(box, b) for b in placed)
            cost += 2 * math.fsum(
                _overlap(box, (c[0] - r, c[1] - r, c[0] + r, c[1] + r))
                for m, c, r in ((m, centres[m], radius_px[m]) for m in nodes)
                if m != n
            )
            if len(samples):
                inside = (
                    (samples[:, 0] > box[0])
                    & (samples[:, 0] < box[2])
                    & (samples[:, 1] > box[1])
                    & (samples[:, 1] < box[3])
                ).sum()
                cost += 0.04 * w * h * inside
            outside = box[0] < frame.x0 or box[2] > frame.x1 or box[1] < frame.y0 or box[3] > frame.y1
            cost += 10 * w * h * outside + k
            if best is None or cost < best[0]:
                best = (cost, box)
        box = best[1]
        placed.append(box)
        offset = (((box[0] + box[2]) / 2 - centres[n][0]) / pt, ((box[1] + box[3]) / 2 - centres[n][1]) / pt)
        ax.annotate(
            n,
            pos[n],
            xytext=offset,
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=fontsize,
            color="#111111",
            zorder=5,
            annotation_clip=False,
            bbox={"boxstyle": "square,pad=0.08", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        )


def _overlap(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return float(w * h) if w > 0 and h > 0 else 0.0


def _network_legends(
    lax, counts: dict, answer_refs: list[int], top_answers: int, tie_refs: list[int], style, fontsize: float = 8.0
):
    """Legends in the side panel: roles present (with counts), node size, tie shade and width (when any)."""
    shade, width = style
    role_handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=7,
            markeredgecolor="white",
            markerfacecolor=ROLE_COLOURS.get(r, FALLBACK_COLOUR),
            label=f"{r} ({k})",
        )
        for r, k in counts.items()
        if k
    ]
    size_handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=float(np.sqrt(a)),
            markeredgecolor="white",
            markerfacecolor="#bbbbbb",
            label=f"{v} answer{'s' * (v != 1)}",
        )
        for v, a in zip(answer_refs, _node_area(answer_refs, top_answers))
    ]
    tie_handles = [
        Line2D([], [], color=shade(w), linewidth=width(w), label=f"{w} answer{'s' * (w != 1)}") for w in tie_refs
    ]
    biggest = max([h.get_markersize() for h in size_handles] + [fontsize]) / fontsize  # in font sizes
    specs = [
        (role_handles, "role in WITI threads\n(members)", 1.0, 0.7),
        (size_handles, "node size:\nanswers given", 0.74, biggest + 0.2),
        (tie_handles, "tie (replier \u2192 asker):\nanswers on the tie", 0.36, 0.7),
    ]
    legends = []
    for handles, title, y, height in (spec for spec in specs if spec[0]):
        leg = Legend(
            lax,
            handles,
            [h.get_label() for h in handles],
            loc="upper left",
            bbox_to_anchor=(0, y),
            title=title,
            alignment="left",
            frameon=False,
            fontsize=fontsize,
            title_fontsize=fontsize,
            labelspacing=0.5,
            handleheight=height,
            borderpad=0.6,
            handlelength=max(2.2, biggest),
        )
        lax.add_artist(leg)
        legends.append(leg)
    return legends


def network(interactions: pd.DataFrame, metrics: pd.DataFrame, seed: int = 2107):
    """Information flow: who answers whom (answer-type acts only), node size by answers given, colour by role.

    Ties are :func:`answer_ties`; nodes are the members of ``metrics`` (and anyone on a tie), sized by their
    ``answers``, coloured by ``role``; members without answer ties sit in a row below the network.
    """
    ties = answer_ties(interactions)
    members = [str(m) for m in metrics["member"]]
    nodes = sorted(set(members) | set(ties["source"]) | set(ties["target"]), key=natural_key)
    roles = {n: "other" for n in nodes} | dict(zip(members, metrics["role"].astype(str)))
    if "answers" in metrics:
        given = dict(zip(members, pd.to_numeric(metrics["answers"], errors="coerce").fillna(0).astype(int)))
    else:
        given = ties.groupby("source")["answers"].sum().to_dict()
    answers = {n: int(given.get(n, 0)) for n in nodes}
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_weighted_edges_from(ties.itertuples(index=False, name=None))
    pos = _layout(g, seed)

    fig_width = 8.5
    small = legible_pt(fig_width)
    fig, (ax, lax) = plt.subplots(1, 2, figsize=(fig_width, 7.0), gridspec_kw={"width_ratios": [3.9, 1]})
    ax.set_axis_off()
    lax.set_axis_off()
    ys = [p[1] for p in pos.values()] or [0.0]
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(min(ys) - 0.05, max(ys) + 0.05)
    fig.suptitle("Who answers whom on WITI: answer and elaboration replies (pseudonyms)", fontsize=small + 2.5)
    fig.tight_layout(rect=(0, footer_height(fig, 2), 1, 1))  # room for the footer :func:`save` adds

    top_answers = max(answers.values(), default=0)
    area = dict(zip(nodes, _node_area([answers[n] for n in nodes], top_answers)))
    pt = fig.dpi / 72
    radius_px = {n: np.sqrt(area[n]) / 2 * pt for n in nodes}
    px = _separate(
        ax.transData.transform(np.array([pos[n] for n in nodes])),
        np.array([radius_px[n] for n in nodes]),
        ax.get_window_extent(fig.canvas.get_renderer()),
        gap=4 * pt,
    )
    pos = dict(zip(nodes, map(tuple, ax.transData.inverted().transform(px))))

    top_w = int(ties["answers"].max()) if len(ties) else 1
    shade, width = _tie_style(top_w)
    edges = list(zip(ties["source"], ties["target"]))
    weights = [int(w) for w in ties["answers"]]
    if edges:
        arrows = nx.draw_networkx_edges(
            g,
            pos,
            edgelist=edges,
            width=[width(w) for w in weights],
            edge_color=[shade(w) for w in weights],
            arrows=True,
            arrowstyle="-|>",
            arrowsize=7,
            connectionstyle="arc3,rad=0.12",
            ax=ax,
            nodelist=nodes,
            node_size=[area[n] for n in nodes],
            min_source_margin=0,
            min_target_margin=1,
        )
        for patch, (s, t) in zip(arrows, edges):
            patch.set_gid(f"tie-{s}-{t}")
    ax.scatter(
        [pos[n][0] for n in nodes],
        [pos[n][1] for n in nodes],
        s=[area[n] for n in nodes],
        c=[ROLE_COLOURS.get(roles[n], FALLBACK_COLOUR) for n in nodes],
        edgecolors="white",
        linewidths=0.8,
        zorder=3,
    )
    isolates = [n for n in nodes if g.degree(n) == 0]
    if isolates:
        ax.text(
            -0.04,
            max(pos[n][1] for n in isolates) + 0.055,
            "members without answer ties",
            fontsize=small,
            color="#555555",
            ha="left",
            va="center",
        )
    _place_labels(ax, pos, nodes, radius_px, edges, fontsize=small)

    counts = {r: sum(1 for n in nodes if roles[n] == r) for r in ROLE_ORDER}
    counts |= {r: sum(1 for n in nodes if roles[n] == r) for r in sorted(set(roles.values()) - set(ROLE_ORDER))}
    tie_refs = sorted({1, (top_w + 1) // 2, top_w}) if edges else []
    answer_refs = _reference_values(top_answers) if top_answers else []
    _network_legends(lax, counts, answer_refs, top_answers, tie_refs, (shade, width), fontsize=small)
    return fig


def cooccurrence(co: pd.DataFrame, codes: list[str]):
    """Heat map of code co-occurrence (Jaccard) on coded units."""
    idx = {c: i for i, c in enumerate(codes)}
    mat = np.zeros((len(codes), len(codes)))
    for r in co.itertuples():
        if r.code_a in idx and r.code_b in idx:
            mat[idx[r.code_a], idx[r.code_b]] = mat[idx[r.code_b], idx[r.code_a]] = float(r.jaccard)
    width = 6.5
    small = legible_pt(width)
    fig, ax = plt.subplots(figsize=(width, 6.4))
    im = ax.imshow(mat, cmap="Blues", vmin=0, vmax=max(0.01, mat.max()), interpolation="nearest")
    ax.set_xticks(range(len(codes)), codes, rotation=90, fontsize=small)
    ax.set_yticks(range(len(codes)), codes, fontsize=small)
    bar = fig.colorbar(im, ax=ax, fraction=0.04)
    bar.set_label("Jaccard index", fontsize=small + 1)
    bar.ax.tick_params(labelsize=small)
    ax.set_title("Code co-occurrence on the same unit", fontsize=small + 3)
    return fig
