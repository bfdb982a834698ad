"""Deterministic table I/O: the same data frame always gives the same bytes.

Every CSV the pipeline writes goes through :func:`write_csv`, so that ordering, line endings and
number formatting are stable and ``data/derived/`` can be verified byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FLOAT_FORMAT = "%.6f"


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV with ``\\n`` line endings, no index, floats to 6 decimals."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n", float_format=FLOAT_FORMAT, encoding="utf-8")
    return path


def read_csv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv` (or by a person) keeping empty cells as ``""``.

    Columns are typed by pandas (a column with an empty cell stays text); pass ``dtype=str`` for all text.
    """
    kwargs.setdefault("keep_default_na", False)
    return pd.read_csv(path, encoding="utf-8-sig", **kwargs)


def to_markdown(df: pd.DataFrame, floatfmt: str = "{:.3f}") -> str:
    """A GitHub-flavoured Markdown table (no extra dependency), numbers formatted stably."""

    def cell(v) -> str:
        if isinstance(v, float):
            return "" if v != v else floatfmt.format(v)
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body]) + "\n"
