"""The participants table (``participants.csv``, SPEC 4): read once, validated at the edge.

``participants.csv`` describes the interviewees, one row each, by pseudonym::

    pseudonym,year_of_study,witi_role,gender,joined_witi,interview_mode
    P01,2,asker;answerer,female,2021,Zoom

Required columns (the pipeline uses them): ``pseudonym`` (``P`` and two or three digits: ``P01`` .. ``P14``,
unique), ``year_of_study`` (a whole number from 1 to 6) and ``witi_role`` (one or more of ``asker``,
``answerer``, ``admin``, ``lurker``, ``;``-separated: Table 1 of the report counts exactly these). Optional
columns are kept as they are; ``joined_witi``, when given, is a year. Other columns may be added.

Every problem is an :class:`~compendium.errors.InputError` naming the file and the CSV line of the row. A cell
is never quoted back raw in a message (a free-text cell could hold an identifier): the column is named and the
value, if shown at all, is masked to its first character (``'J***'``), except pseudonyms and small numbers,
which cannot identify anyone.

:func:`check_transcripts` checks that every interview's participant (front matter ``participant``, or the file
name) has a row here, so segments never go out with blank attributes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from . import files
from .errors import InputError

FILE_NAME = "participants.csv"
REQUIRED = ("pseudonym", "year_of_study", "witi_role")
OPTIONAL = ("gender", "joined_witi", "interview_mode")
ROLES = ("asker", "answerer", "admin", "lurker")
YEARS = (1, 6)  # year_of_study: 1 to 6 (MBBS programmes run five or six years)
JOINED = (1990, 2100)
PSEUDONYM_RE = re.compile(r"^P\d{2,3}$")
_SAFE = re.compile(r"^(P\d{2,3}|\d{1,4})$")


def mask(value, quote: bool = True) -> str:
    """A cell value as an error message may show it: pseudonyms and numbers of up to four digits as they are,
    anything else as its first character and ``***`` (``''`` for an empty cell); quoted unless ``quote=False``."""
    from .deid import mask as mask_identifier

    value = str(value).strip()
    shown = value if _SAFE.match(value) else (mask_identifier(value) if value else "")
    return f"'{shown}'" if quote else shown


def _records(path: Path, what: str) -> tuple[list[str], int, list[tuple[int, list[str]]]]:
    """Header, its line and ``(line, fields)`` of each non-blank record of a CSV file (line = first line of the
    record; blank lines are skipped)."""
    header, header_line, records = files.read_csv_records(path, what)
    if header is None:
        raise InputError("empty file: expected a header with the columns " + ",".join(REQUIRED + OPTIONAL), path, 1)
    return header, header_line, records


def load_participants(path: str | Path) -> pd.DataFrame:
    """Read and validate ``participants.csv``; one row per participant, in file order.

    Columns are the file's (header names stripped); cells are text with surrounding spaces removed, except
    ``year_of_study`` (int) and ``joined_witi`` (int, when every row gives it). Raises :class:`InputError` naming
    the file and line for: a binary file, bytes that are not UTF-8, a control character; no header; a missing
    required column or a column named twice; no rows; a row with more fields than the header; an empty required
    value; a pseudonym not of the form ``P01``; a duplicate pseudonym; a year of study that is not a whole number
    from 1 to 6; an unknown role in WITI; a ``joined_witi`` that is not a year.
    """
    path = Path(path)
    header, hline, records = _records(path, "participants table (participants.csv)")
    seen_cols: set[str] = set()
    for name in header:
        if name in seen_cols:
            raise InputError(f"column '{name}' appears twice in the header", path, hline)
        seen_cols.add(name)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the header needs "
            + ", ".join(REQUIRED)
            + " (and may have "
            + ", ".join(OPTIONAL)
            + ")",
            path,
            hline,
        )
    if not records:
        raise InputError("no participants (header only)", path, hline)
    rows = []
    first_line: dict[str, int] = {}
    for line, fields in records:
        if len(fields) > len(header):
            raise InputError(f"{len(fields)} fields, the header has {len(header)}", path, line)
        fields = [f.strip() for f in fields] + [""] * (len(header) - len(fields))
        rec = dict(zip(header, fields))
        for col in REQUIRED:
            if not rec[col]:
                raise InputError(f"empty {col} (a required value)", path, line)
        pid = rec["pseudonym"]
        if not PSEUDONYM_RE.match(pid):
            raise InputError(f"pseudonym {mask(pid)} is not of the form P01 (P and two or three digits)", path, line)
        if pid in first_line:
            raise InputError(f"duplicate pseudonym '{pid}' (first on line {first_line[pid]})", path, line)
        first_line[pid] = line
        year = rec["year_of_study"]
        if not (year.isascii() and year.isdigit() and YEARS[0] <= int(year) <= YEARS[1]):
            raise InputError(
                f"year_of_study {mask(year)} of {pid} is not a whole number from {YEARS[0]} to {YEARS[1]}", path, line
            )
        roles = [r.strip() for r in rec["witi_role"].split(";")]
        for r in roles:
            if r not in ROLES:
                what = "an empty role" if not r else f"role {mask(r)}"
                raise InputError(
                    f"witi_role of {pid}: {what} is not one of {', '.join(ROLES)} (several are separated by ';')",
                    path,
                    line,
                )
        joined = rec.get("joined_witi", "")
        if joined and not (joined.isascii() and joined.isdigit() and JOINED[0] <= int(joined) <= JOINED[1]):
            raise InputError(f"joined_witi {mask(joined)} of {pid} is not a year", path, line)
        rows.append(rec)
    df = pd.DataFrame(rows, columns=header)
    df["year_of_study"] = df["year_of_study"].astype(int)
    if "joined_witi" in df and (df["joined_witi"] != "").all():
        df["joined_witi"] = df["joined_witi"].astype(int)
    return df


def _participant_line(path: Path) -> int | None:
    """The line of ``participant:`` in a transcript's front matter, if it has one."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return None
    m = re.match(r"\A---\r?\n(.*?)^---", text, re.S | re.M)
    if not m:
        return None
    k = re.search(r"(?m)^participant[ \t]*:", m.group(1))
    return None if k is None else text.count("\n", 0, m.start(1) + k.start()) + 1


def check_transcripts(
    participants: pd.DataFrame, sources, raw: str | Path, participants_path: str | Path | None = None
) -> None:
    """Every interview's participant has a row in ``participants.csv``.

    ``sources`` are :func:`compendium.transcripts.load_sources` (or ``load_transcript``) results; the
    participant of an interview is its front matter's ``participant`` or else its file name. The error names
    the transcript (``transcripts/P14.txt``, at the front matter's ``participant`` line when there is one).
    """
    raw = Path(raw)
    name = Path(participants_path).name if participants_path else FILE_NAME
    known = set(participants["pseudonym"].astype(str)) if "pseudonym" in participants else set()
    for src in sources:
        if src.source_type != "interview":
            continue
        pid = str(src.meta.get("participant") or src.source_id)
        if pid not in known:
            path = raw / "transcripts" / f"{src.source_id}.txt"
            raise InputError(f"participant {mask(pid, quote=False)} is not in {name}", path, _participant_line(path))


def load(raw: str | Path, sources=None) -> pd.DataFrame:
    """``raw/participants.csv`` validated (:func:`load_participants`); with ``sources``, also checked to hold
    every interview's participant (:func:`check_transcripts`)."""
    raw = Path(raw)
    table = load_participants(raw / FILE_NAME)
    if sources is not None:
        check_transcripts(table, sources, raw)
    return table
