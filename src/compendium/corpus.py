"""Load a laid-out corpus (SPEC 4 raw folder, SPEC 5 derived folder) into the objects the analysis uses.

The notebooks, the ``export qdpx`` command and the tests all load coding data and the participants table the
same way: through here (each raw file through its validating loader, see :mod:`compendium.validate`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import codebook as codebook_mod
from . import coding, participants as participants_mod, transcripts
from .errors import InputError
from .tables import read_csv


def table(folder: str | Path, name: str) -> pd.DataFrame:
    """A derived table by file name, with a clear error when the upstream stage has not produced it."""
    path = Path(folder) / name
    if not path.is_file():
        raise InputError("derived table missing (run the upstream stage first)", path)
    return read_csv(path)


POST_TEXT_COLUMNS = ("parent_post_id", "thread_id", "author", "text", "timestamp", "screenshot_id")


def posts_frame(posts: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``posts.csv`` as the analyses read it, however it was read: text columns as strings (empty where
    missing, absent columns added empty), ``depth`` an integer (0 where unreadable), ``post_id`` a string."""
    p = posts.copy()
    for col in POST_TEXT_COLUMNS:
        p[col] = p[col].fillna("").astype(str) if col in p.columns else ""
    p["depth"] = pd.to_numeric(p["depth"], errors="coerce").fillna(0).astype(int)
    p["post_id"] = p["post_id"].astype(str)
    return p


def coding_files(raw: str | Path) -> list[Path]:
    files = sorted((Path(raw) / "coding").glob("*.csv"))
    if not files:
        raise InputError("no coding files (*.csv)", Path(raw) / "coding")
    return files


def load_participants(raw: str | Path, sources: list[transcripts.Source] | None = None) -> pd.DataFrame:
    """``raw/participants.csv`` validated (:func:`compendium.participants.load_participants`); with ``sources``,
    also checked to have a row for every interview's participant."""
    return participants_mod.load(raw, sources)


def coder_sources(raw: str | Path) -> dict[str, int]:
    """``{coder: number of documents coded}`` over the coding files (a post counts as its screenshot page), for
    the report's checklists; the files are read with their structural checks (:func:`compendium.coding.read_file`).
    """
    docs: dict[str, set[str]] = {}
    for f in coding_files(raw):
        for _, rec in coding.read_file(f):
            docs.setdefault(rec["coder"], set()).add(rec["source_id"].split("#")[0])
    return {c: len(d) for c, d in sorted(docs.items())}


def source_texts(sources: list[transcripts.Source]) -> dict[str, str]:
    return {s.source_id: s.text for s in sources}


def source_dates(sources: list[transcripts.Source]) -> pd.DataFrame:
    """``source_id, date, source_type`` of every transcript and field note (for the saturation curve)."""
    return pd.DataFrame(
        [{"source_id": s.source_id, "date": str(s.meta.get("date", "")), "source_type": s.source_type} for s in sources]
    )


def load_coding(
    raw: str | Path,
    sources: list[transcripts.Source],
    posts: pd.DataFrame,
    book: codebook_mod.Codebook,
    min_coders: int = 2,
) -> pd.DataFrame:
    """Every coder's code applications, validated against the codebook, the sources and the posts; the files
    must name at least ``min_coders`` coders (reliability needs two; pass 1 to read a single coder's work)."""
    lengths = {s.source_id: len(s.text) for s in sources}
    codings = coding.load(coding_files(raw), book, lengths, set(posts["post_id"]))
    coding.check_coders(codings["coder"], Path(raw) / "coding", need=min_coders)
    return codings


def load_all(raw: str | Path, derived: str | Path, min_coders: int = 2):
    """``(codebook, sources, posts, segments, codings)`` of a raw and a derived folder (the coding files naming at
    least ``min_coders`` coders, see :func:`load_coding`)."""
    raw = Path(raw)
    book = codebook_mod.load(raw / "codebook.yml")
    sources = transcripts.load_sources(raw)
    posts = table(derived, "posts.csv")
    segments = table(derived, "segments.csv")
    return book, sources, posts, segments, load_coding(raw, sources, posts, book, min_coders=min_coders)
