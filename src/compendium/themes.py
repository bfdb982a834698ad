"""Themes from codes: prevalence, exemplar quotes, code co-occurrence.

A theme in reflexive/abductive thematic analysis is a pattern of shared meaning the analyst
builds from codes; counts do not make a theme, but they show how widely a pattern runs through
the data (which participants, which sources) and keep the write-up honest. Exemplar quotes are
chosen by a documented, deterministic rule so that a reader can check they are not cherry-picked.

Inputs are the consensus coding (:func:`compendium.coding.consensus`), the codebook and the unit
table (:func:`compendium.coding.unit_table`).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from compendium.codebook import Codebook
from compendium.coding import natural_key, sort_naturally


def _with_units(consensus_df: pd.DataFrame, codebook: Codebook,
                unit_tab: pd.DataFrame) -> pd.DataFrame:
    theme_of = codebook.code_theme()
    df = consensus_df[["unit_id", "code_id"]].drop_duplicates().copy()
    df["theme"] = df["code_id"].map(theme_of)
    df = df.dropna(subset=["theme"])
    cols = [c for c in ("unit_id", "unit_type", "source_id", "source_type", "speaker",
                        "speaker_role", "participant", "text") if c in unit_tab.columns]
    return df.merge(unit_tab[cols], on="unit_id", how="left")


def prevalence(consensus_df: pd.DataFrame, codebook: Codebook,
               unit_tab: pd.DataFrame) -> pd.DataFrame:
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
        rows.append({
            "theme": theme.id,
            "label": theme.label,
            "n_codes": int((codebook.codes["theme"] == theme.id).sum()),
            "n_codes_applied": int(g["code_id"].nunique()),
            "n_units": int(g["unit_id"].nunique()),
            "n_sources": int(g["source_id"].dropna().nunique()),
            "n_participants": len(parts),
            "share_participants": len(parts) / len(all_participants) if all_participants
            else np.nan,
        })
    return pd.DataFrame(rows, columns=["theme", "label", "n_codes", "n_codes_applied", "n_units",
                                       "n_sources", "n_participants", "share_participants"])


def quotes(consensus_df: pd.DataFrame, codebook: Codebook, unit_tab: pd.DataFrame,
           per_theme: int = 5, min_chars: int = 40) -> pd.DataFrame:
    """theme_quotes.csv: up to ``per_theme`` exemplar units per theme, chosen deterministically.

    Candidates are units with a code of the theme, spoken by a participant or posted by a
    member (interviewer turns are not quotes) and at least ``min_chars`` long (falling back to
    shorter ones if too few). They are ranked by the number of distinct codes of the theme they
    carry (most first), then by length of text (longer first), then by unit id. Picking goes
    down the ranking taking one unit per speaker first, so quotes show the range of voices, then
    fills up with the rest. Columns: theme, rank, codes (``;``-separated codes of the theme on
    the unit), unit_id, source_id, source_type, speaker, participant, text.
    """
    df = _with_units(consensus_df, codebook, unit_tab)
    if "speaker_role" in df.columns:
        df = df[df["speaker_role"].fillna("") != "interviewer"]
    cols = ["theme", "rank", "codes", "unit_id", "source_id", "source_type", "speaker",
            "participant", "text"]
    rows = []
    for theme in codebook.themes.itertuples(index=False):
        g = df[df["theme"] == theme.id]
        if g.empty:
            continue
        agg = (g.groupby("unit_id")
               .agg(codes=("code_id", lambda s: ";".join(sorted(set(s), key=natural_key))),
                    n=("code_id", "nunique"),
                    source_id=("source_id", "first"), source_type=("source_type", "first"),
                    speaker=("speaker", "first"), participant=("participant", "first"),
                    text=("text", "first"))
               .reset_index())
        agg = agg.fillna("")
        agg["length"] = agg["text"].str.len()
        long_enough = agg[agg["length"] >= min_chars]
        if len(long_enough) >= per_theme:
            agg = long_enough
        agg = agg.assign(_k=agg["unit_id"].map(natural_key))
        agg = agg.sort_values(["n", "length", "_k"], ascending=[False, False, True],
                              kind="stable")
        chosen, speakers = [], set()
        for rec in agg.itertuples(index=False):
            if len(chosen) >= per_theme:
                break
            who = rec.speaker or rec.source_id
            if who not in speakers:
                chosen.append(rec)
                speakers.add(who)
        for rec in agg.itertuples(index=False):
            if len(chosen) >= per_theme:
                break
            if rec not in chosen:
                chosen.append(rec)
        for rank, rec in enumerate(chosen, start=1):
            rows.append({"theme": theme.id, "rank": rank, "codes": rec.codes,
                         "unit_id": rec.unit_id, "source_id": rec.source_id,
                         "source_type": rec.source_type, "speaker": rec.speaker,
                         "participant": rec.participant, "text": " ".join(rec.text.split())})
    return pd.DataFrame(rows, columns=cols)


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
    rows = [{"code_a": a, "code_b": b, "n_units": n,
             "jaccard": n / len(units_of[a] | units_of[b])}
            for (a, b), n in pair_counts.items()]
    out = pd.DataFrame(rows, columns=["code_a", "code_b", "n_units", "jaccard"])
    return sort_naturally(out, ["code_a", "code_b"])
