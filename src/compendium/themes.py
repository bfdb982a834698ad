"""Themes from codes: prevalence, exemplar quotes, code co-occurrence.

A theme in reflexive/abductive thematic analysis is a pattern of shared meaning the analyst
builds from codes; counts do not make a theme, but they show how widely a pattern runs through
the data (which participants, which sources) and keep the write-up honest. Exemplar quotes are
chosen by a documented, deterministic rule so that a reader can check they are not cherry-picked.

Inputs are the consensus coding (:func:`compendium.coding.consensus`), the codebook and the unit
table (:func:`compendium.coding.unit_table`); for traceable quotes also ``segments.csv`` (offsets),
``posts.csv`` (line boxes, text) and ``ocr_post_quality.csv`` (which posts the OCR read exactly).
"""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pandas as pd

from compendium import screenshots
from compendium.codebook import Codebook
from compendium.coding import document_of, natural_key, sort_naturally


def _with_units(consensus_df: pd.DataFrame, codebook: Codebook, unit_tab: pd.DataFrame) -> pd.DataFrame:
    theme_of = codebook.code_theme()
    df = consensus_df[["unit_id", "code_id"]].drop_duplicates().copy()
    df["theme"] = df["code_id"].map(theme_of)
    df = df.dropna(subset=["theme"])
    cols = [
        c
        for c in ("unit_id", "unit_type", "source_id", "source_type", "speaker", "speaker_role", "participant", "text")
        if c in unit_tab.columns
    ]
    return df.merge(unit_tab[cols], on="unit_id", how="left")


def prevalence(consensus_df: pd.DataFrame, codebook: Codebook, unit_tab: pd.DataFrame) -> pd.DataFrame:
    """themes.csv: per theme its codes and how far it runs through the data.

    Columns: theme, label, n_codes (codes in the codebook), n_codes_applied, n_units (units with
    any code of the theme), n_sources, n_participants (interview participants, see
    :func:`~compendium.coding.unit_table`), share_participants (of all participants in the
    unit table).
    """
    df = _with_units(consensus_df, codebook, unit_tab)
    all_participants = set(unit_tab["participant"].fillna("")) - {""}
    rows = []
    for theme in codebook.themes.itertuples(index=False):
        g = df[df["theme"] == theme.id]
        parts = set(g["participant"].fillna("")) - {""}
        rows.append(
            {
                "theme": theme.id,
                "label": theme.label,
                "n_codes": int((codebook.codes["theme"] == theme.id).sum()),
                "n_codes_applied": int(g["code_id"].nunique()),
                "n_units": int(g["unit_id"].nunique()),
                "n_sources": int(g["source_id"].dropna().nunique()),
                "n_participants": len(parts),
                "share_participants": len(parts) / len(all_participants) if all_participants else np.nan,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "theme",
            "label",
            "n_codes",
            "n_codes_applied",
            "n_units",
            "n_sources",
            "n_participants",
            "share_participants",
        ],
    )


QUOTE_COLUMNS = [
    "theme",
    "rank",
    "codes",
    "unit_id",
    "source_id",
    "source_type",
    "speaker",
    "participant",
    "text",
    "speaker_role",
    "text_source",
    "start",
    "end",
    "screenshot_id",
    "post_id",
    "box",
]

# Source kinds in order of preference: participants' own words, members' posts, the observer's field notes.
KIND_ORDER = {"interview": 0, "post": 1, "fieldnote": 2}
FIELDNOTE_FROM_ROUND = 2  # the field notes' one place comes at the end of the second round
MAX_FIELDNOTES = 1  # field-note passages per theme while anything else is eligible


def post_box(boxes) -> str:
    """The union of a post's line boxes (``posts.csv`` ``boxes``, JSON or a list) as ``"[x0, y0, x1, y1]"``:
    :func:`compendium.screenshots.post_box` without padding, so the box cuts the post out of
    ``redacted/<screenshot_id>.png`` exactly. Empty when there are no boxes."""
    bs = json.loads(boxes) if isinstance(boxes, str) and boxes.strip() else list(boxes or [])
    return json.dumps(list(screenshots.post_box(bs, pad=0))) if bs else ""


def verified_posts(post_quality: pd.DataFrame | None) -> set[str]:
    """Post ids the OCR read exactly: ``ocr_post_quality.csv`` rows with ``found`` true and ``cer`` 0.

    Without a hand-checked transcription (no private folder) the table is empty and no post is verified.
    """
    if post_quality is None or post_quality.empty:
        return set()
    found = post_quality["found"].astype(str).str.strip().str.lower() == "true"
    cer = pd.to_numeric(post_quality["cer"], errors="coerce")
    return set(post_quality.loc[found & (cer == 0), "post_id"].astype(str))


def _candidates(g: pd.DataFrame, per_theme: int, min_chars: int, verified: set[str]) -> pd.DataFrame:
    """A theme's eligible quotes, one row per unit, ranked within its source kind (see :func:`quotes`)."""
    agg = (
        g.groupby("unit_id")
        .agg(
            codes=("code_id", lambda s: ";".join(sorted(set(s), key=natural_key))),
            n=("code_id", "nunique"),
            source_id=("source_id", "first"),
            source_type=("source_type", "first"),
            speaker=("speaker", "first"),
            speaker_role=("speaker_role", "first"),
            participant=("participant", "first"),
            text=("text", "first"),
        )
        .reset_index()
        .fillna("")
    )
    agg["length"] = agg["text"].astype(str).str.len()
    long_enough = agg[agg["length"] >= min_chars]
    if len(long_enough) >= per_theme:
        agg = long_enough
    is_post = agg["source_type"] == "post"
    agg["verified"] = is_post & agg["unit_id"].isin(verified)
    if agg["verified"].any():  # never OCR-flagged post text when a verified post is eligible
        agg = agg[~is_post | agg["verified"]]
    agg = agg.assign(
        kind=agg["source_type"].map(KIND_ORDER).fillna(len(KIND_ORDER)).astype(int),
        voice=[p or s or src for p, s, src in zip(agg["participant"], agg["speaker"], agg["source_id"])],
        _k=agg["unit_id"].map(natural_key),
    )
    agg = agg.sort_values(["n", "length", "_k"], ascending=[False, False, True], kind="stable")
    return agg.reset_index(drop=True)


def pick(cands: pd.DataFrame, per_theme: int) -> list[int]:
    """Row positions of ``cands`` (from :func:`_candidates`, ranked within kind) in quote order.

    Greedy: each next quote is the candidate with the smallest key (field note beyond
    :data:`MAX_FIELDNOTES`, times its voice was quoted, its round, its kind, its rank within the kind). A kind's
    round is the number of quotes it already has; the field notes' round starts at
    :data:`FIELDNOTE_FROM_ROUND` - 1, so their one passage closes the second round.
    """
    fieldnote = KIND_ORDER["fieldnote"]
    kinds, voices = cands["kind"].tolist(), cands["voice"].tolist()
    left = list(range(len(cands)))  # already in rank order within each kind
    chosen: list[int] = []
    voice_uses: dict[str, int] = {}
    kind_uses: dict[int, int] = {}

    def key(i: int) -> tuple:
        k = kinds[i]
        rnd = kind_uses.get(k, 0) + (FIELDNOTE_FROM_ROUND - 1 if k == fieldnote else 0)
        return (k == fieldnote and kind_uses.get(k, 0) >= MAX_FIELDNOTES, voice_uses.get(voices[i], 0), rnd, k, i)

    while left and len(chosen) < per_theme:
        best = min(left, key=key)
        left.remove(best)
        chosen.append(best)
        voice_uses[voices[best]] = voice_uses.get(voices[best], 0) + 1
        kind_uses[kinds[best]] = kind_uses.get(kinds[best], 0) + 1
    return chosen


def quotes(
    consensus_df: pd.DataFrame,
    codebook: Codebook,
    unit_tab: pd.DataFrame,
    per_theme: int = 5,
    min_chars: int = 40,
    *,
    segments: pd.DataFrame | None = None,
    posts: pd.DataFrame | None = None,
    post_quality: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """theme_quotes.csv: up to ``per_theme`` exemplar units per theme, chosen by a stated, deterministic rule.

    **Candidates** are units with a code of the theme, in participants' words (interview turns of the
    interviewee; interviewer turns are never quotes), members' posts, or the observer's field notes, at least
    ``min_chars`` long (shorter ones are admitted when fewer than ``per_theme`` are long enough). When a post
    the OCR read exactly (``verified``, see :func:`verified_posts`) is among a theme's candidates, the theme's
    OCR-flagged posts are dropped: a quote never shows OCR errors when a clean post could carry the theme.

    **Ranking within a source kind**: most distinct codes of the theme on the unit first, then longer text,
    then unit id (natural order).

    **Picking** spreads quotes over voices and source kinds and prefers participants' words:

    1. a *voice* is the interviewee (their interview turns and their posts are one voice), else a post's
       author, else the observer (all field notes are one voice); no voice is quoted twice before every
       eligible voice of the theme has one quote;
    2. quotes are taken in rounds: participant words first, then a post; the field notes get one place, at the
       end of the second round (so with five quotes: participant, post, participant, post, field note);
       a kind with no candidates left gives its place to the next;
    3. at most one field-note passage per theme unless nothing else is eligible.

    The rule uses sort keys only (no randomness), so the same data give the same quotes in any row order.

    Columns: theme, rank, codes (``;``-separated codes of the theme on the unit), unit_id, source_id,
    source_type, speaker, participant, text, speaker_role (participant | observer | member), text_source,
    start, end, screenshot_id, post_id, box.

    ``text`` is reproduced exactly: for a transcript or field note it is the segment's text, which is
    ``normalised_source_text[start:end]`` (``start``/``end`` from ``segments``; ``text_source`` ``transcript``
    or ``fieldnote``); for a post it is ``posts.csv``'s text, ``text_source`` ``verified`` (the OCR read the
    post exactly, per ``post_quality``) or ``ocr`` (flagged: the text as the OCR read it, errors included).
    A post also carries ``screenshot_id``, ``post_id`` and ``box``, the union of its line boxes
    ``[x0, y0, x1, y1]`` on the (redacted) page. Without ``segments``/``posts``/``post_quality`` the
    offsets, boxes and verification are left empty (posts then count as ``ocr``).
    """
    df = _with_units(consensus_df, codebook, unit_tab)
    if "speaker_role" not in df.columns:
        df["speaker_role"] = ""
    df = df[df["speaker_role"].fillna("") != "interviewer"]
    verified = verified_posts(post_quality)
    offsets: dict[str, tuple[int, int]] = {}
    if segments is not None and len(segments):
        offsets = {
            str(s): (int(a), int(b)) for s, a, b in zip(segments["segment_id"], segments["start"], segments["end"])
        }
    post_rows: dict[str, dict] = {}
    if posts is not None and len(posts):
        post_rows = {str(r["post_id"]): r for r in posts.fillna("").to_dict("records")}
    rows = []
    for theme in codebook.themes.itertuples(index=False):
        g = df[df["theme"] == theme.id]
        if g.empty:
            continue
        cands = _candidates(g, per_theme, min_chars, verified)
        for rank, i in enumerate(pick(cands, per_theme), start=1):
            rec = cands.iloc[i]
            row = {
                "theme": theme.id,
                "rank": rank,
                "codes": rec["codes"],
                "unit_id": rec["unit_id"],
                "source_id": rec["source_id"],
                "source_type": rec["source_type"],
                "speaker": rec["speaker"],
                "participant": rec["participant"],
                "text": rec["text"],
                "speaker_role": rec["speaker_role"],
                "text_source": "",
                "start": "",
                "end": "",
                "screenshot_id": "",
                "post_id": "",
                "box": "",
            }
            if rec["source_type"] == "post":
                post = post_rows.get(rec["unit_id"], {})
                row.update(
                    text_source="verified" if rec["verified"] else "ocr",
                    screenshot_id=str(post.get("screenshot_id", "")) or document_of(rec["unit_id"]),
                    post_id=rec["unit_id"],
                    box=post_box(post.get("boxes", "")),
                )
                if post:
                    row["text"] = str(post["text"])
            else:
                row["text_source"] = "fieldnote" if rec["source_type"] == "fieldnote" else "transcript"
                if rec["unit_id"] in offsets:
                    row["start"], row["end"] = offsets[rec["unit_id"]]
            rows.append(row)
    return pd.DataFrame(rows, columns=QUOTE_COLUMNS)


def cooccurrence(consensus_df: pd.DataFrame) -> pd.DataFrame:
    """code_cooccurrence.csv: pairs of codes applied to the same unit, long format.

    One row per pair (code_a < code_b in natural order) that co-occurs on at least one unit:
    n_units (units carrying both) and jaccard (n_units / units carrying either). Sorted by
    code_a, code_b.
    """
    df = consensus_df[["unit_id", "code_id"]].drop_duplicates()
    units_of = df.groupby("code_id")["unit_id"].agg(set).to_dict()
    pair_counts: dict[tuple[str, str], int] = {}
    for _, codes in df.groupby("unit_id")["code_id"]:
        for a, b in combinations(sorted(set(codes), key=natural_key), 2):
            pair_counts[(a, b)] = pair_counts.get((a, b), 0) + 1
    rows = [
        {"code_a": a, "code_b": b, "n_units": n, "jaccard": n / len(units_of[a] | units_of[b])}
        for (a, b), n in pair_counts.items()
    ]
    out = pd.DataFrame(rows, columns=["code_a", "code_b", "n_units", "jaccard"])
    return sort_naturally(out, ["code_a", "code_b"])
