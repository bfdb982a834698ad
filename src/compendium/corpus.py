"""Load a laid-out corpus (SPEC 4 raw folder, SPEC 5 derived folder) into the objects the analysis uses.

The notebooks, the ``export qdpx`` command and the tests all load coding data the same way: through here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import codebook as codebook_mod
from . import coding, transcripts
from .errors import InputError
from .tables import read_csv


def table(folder: str | Path, name: str) -> pd.DataFrame:
    """A derived table by file name, with a clear error when the upstream stage has not produced it."""
    path = Path(folder) / name
    if not path.is_file():
        raise InputError("derived table missing (run the upstream stage first)", path)
    return read_csv(path)


def coding_files(raw: str | Path) -> list[Path]:
    files = sorted((Path(raw) / "coding").glob("*.csv"))
    if not files:
        raise InputError("no coding files (*.csv)", Path(raw) / "coding")
    return files


def source_texts(sources: list[transcripts.Source]) -> dict[str, str]:
    return {s.source_id: s.text for s in sources}


def source_dates(sources: list[transcripts.Source]) -> pd.DataFrame:
    """``source_id, date, source_type`` of every transcript and field note (for the saturation curve)."""
    return pd.DataFrame([{"source_id": s.source_id, "date": str(s.meta.get("date", "")),
                          "source_type": s.source_type} for s in sources])


def load_coding(raw: str | Path, sources: list[transcripts.Source], posts: pd.DataFrame,
                book: codebook_mod.Codebook) -> pd.DataFrame:
    """Every coder's code applications, validated against the codebook, the sources and the posts."""
    lengths = {s.source_id: len(s.text) for s in sources}
    return coding.load(coding_files(raw), book, lengths, set(posts["post_id"]))


def load_all(raw: str | Path, derived: str | Path):
    """``(codebook, sources, posts, segments, codings)`` of a raw and a derived folder."""
    raw = Path(raw)
    book = codebook_mod.load(raw / "codebook.yml")
    sources = transcripts.load_sources(raw)
    posts = table(derived, "posts.csv")
    segments = table(derived, "segments.csv")
    return book, sources, posts, segments, load_coding(raw, sources, posts, book)
