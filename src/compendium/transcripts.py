"""Parse interview transcripts and field notes (SPEC 4) into turns with stable character offsets.

Offsets are the contract that coders' files and the REFI-QDA export depend on. They count Unicode code points
(Python ``str`` indices) into the source's *normalised* text: the file decoded as UTF-8, a leading byte-order mark
removed, and every CRLF (and lone CR) turned into LF. Nothing else is changed, so ``normalised[start:end]`` is
always the text a segment shows.

Transcript format::

    ---                      optional YAML front matter
    participant: P03
    date: 2023-04-02
    ---
    Interviewer: So how did you join?
    P03: Um, a senior added me [laughs]
    and this line continues P03's turn.

A turn starts at the beginning of a line with ``SPEAKER:``, where SPEAKER is ``Interviewer`` (or ``I``) or the
participant's pseudonym; lines without a speaker continue the turn. Square brackets (annotations, placeholders)
are kept as they are.

Field notes are Markdown: a ``# Field note YYYY-MM-DD`` heading, then paragraphs separated by blank lines; each
paragraph is one turn of the observer.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import files
from .errors import InputError

INTERVIEWER_LABELS = ("Interviewer", "I")
PSEUDONYM_RE = re.compile(r"^P\d{2,3}$")
SPEAKER_RE = re.compile(r"^(Interviewer|I|P\d{2,3})[ \t]*:[ \t]*")
FRONT_MATTER_RE = re.compile(r"\A---\n(.*?\n)---[ \t]*(\n|\Z)", re.S)
FIELDNOTE_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass
class Turn:
    index: int
    speaker: str  # "Interviewer", a pseudonym, or "Observer"
    start: int  # offset of the first character of the turn's text (after the label)
    end: int  # offset one past its last character (trailing whitespace excluded)
    line: int  # 1-based line number where the turn starts


@dataclass
class Source:
    source_id: str
    source_type: str  # "interview" | "fieldnote"
    text: str  # normalised text
    meta: dict = field(default_factory=dict)
    turns: list[Turn] = field(default_factory=list)

    def turn_text(self, turn: Turn) -> str:
        return self.text[turn.start : turn.end]


def normalise(text: str) -> str:
    """Drop a leading BOM and turn CRLF / CR line endings into LF."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | Path) -> str:
    """Read a source file as UTF-8 and normalise it; undecodable bytes are an :class:`InputError`."""
    return normalise(files.read_text(path, "source"))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    return starts


def front_matter(text: str, path) -> tuple[dict, int]:
    """A source's optional YAML front matter (``---`` ... ``---``) and where its body starts."""
    m = FRONT_MATTER_RE.match(text)
    if not m:
        return {}, 0
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", 0) + 2
        raise InputError(f"front matter is not valid YAML ({getattr(e, 'problem', e)})", path, line) from None
    if not isinstance(meta, dict):
        raise InputError("front matter must be a YAML mapping", path, 2)
    meta = {k: (v.isoformat() if isinstance(v, (_dt.date, _dt.datetime)) else v) for k, v in meta.items()}
    return meta, m.end()


def _rstrip_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def parse_transcript(text: str, source_id: str, path: str | Path | None = None) -> Source:
    """Parse normalised transcript text into a :class:`Source` with speaker turns."""
    path = path if path is not None else source_id
    if not text.strip():
        raise InputError("transcript is empty", path)
    meta, body_start = front_matter(text, path)
    participant = str(meta.get("participant") or source_id)
    starts = _line_starts(text)
    turns: list[Turn] = []
    current: dict | None = None
    for lineno, ls in enumerate(starts, start=1):
        if ls < body_start:
            continue
        le = text.find("\n", ls)
        le = len(text) if le == -1 else le
        line = text[ls:le]
        m = SPEAKER_RE.match(line)
        if m:
            label = m.group(1)
            if label not in INTERVIEWER_LABELS and label != participant:
                from .participants import mask  # a front matter's participant is shown masked unless a pseudonym

                raise InputError(
                    f"speaker '{label}' is neither the interviewer nor the participant {mask(participant)}",
                    path,
                    lineno,
                )
            if current:
                turns.append(
                    Turn(
                        len(turns),
                        current["speaker"],
                        current["start"],
                        _rstrip_end(text, current["start"], current["end"]),
                        current["line"],
                    )
                )
            speaker = "Interviewer" if label in INTERVIEWER_LABELS else label
            current = {"speaker": speaker, "start": ls + m.end(), "end": le, "line": lineno}
        elif line.strip():
            if current is None:
                raise InputError(
                    "text before the first speaker turn (a turn starts with "
                    "'Interviewer:' or the participant's pseudonym and a colon)",
                    path,
                    lineno,
                )
            current["end"] = le
    if current:
        turns.append(
            Turn(
                len(turns),
                current["speaker"],
                current["start"],
                _rstrip_end(text, current["start"], current["end"]),
                current["line"],
            )
        )
    if not turns:
        raise InputError(
            "no speaker turns found (a turn starts with 'Interviewer:' or the participant's "
            "pseudonym and a colon at the beginning of a line)",
            path,
        )
    meta.setdefault("participant", participant)
    return Source(source_id, "interview", text, meta, turns)


def parse_fieldnote(text: str, source_id: str, path: str | Path | None = None) -> Source:
    """Parse a Markdown field note: each non-heading paragraph is one turn of the observer."""
    path = path if path is not None else source_id
    if not text.strip():
        raise InputError("field note is empty", path)
    meta, body_start = front_matter(text, path)
    m = FIELDNOTE_DATE_RE.search(source_id) or FIELDNOTE_DATE_RE.search(text[:200])
    if m and "date" not in meta:
        meta["date"] = m.group(1)
    turns: list[Turn] = []
    for pm in re.finditer(r"(?:[^\n]*\S[^\n]*(?:\n|\Z))+", text[body_start:]):
        start = body_start + pm.start()
        end = _rstrip_end(text, start, body_start + pm.end())
        para = text[start:end]
        if para.lstrip().startswith("#"):
            # a heading line; a paragraph may continue after it
            nl = para.find("\n")
            if nl == -1:
                continue
            start += nl + 1
            while start < end and text[start].isspace():
                start += 1
            if start >= end:
                continue
        line = text.count("\n", 0, start) + 1
        turns.append(Turn(len(turns), "Observer", start, end, line))
    if not turns:
        raise InputError("field note has no paragraphs of observation", path)
    return Source(source_id, "fieldnote", text, meta, turns)


def load_transcript(path: str | Path) -> Source:
    path = Path(path)
    return parse_transcript(read_text(path), path.stem, path)


def load_fieldnote(path: str | Path) -> Source:
    path = Path(path)
    return parse_fieldnote(read_text(path), path.stem, path)


def load_sources(raw: str | Path) -> list[Source]:
    """All transcripts (``transcripts/*.txt``) and field notes (``fieldnotes/*.md``) under a raw folder, sorted."""
    raw = Path(raw)
    tdir, fdir = raw / "transcripts", raw / "fieldnotes"
    if not tdir.is_dir():
        raise InputError("transcripts folder not found", tdir)
    sources = [load_transcript(p) for p in sorted(tdir.glob("*.txt"))]
    if not sources:
        raise InputError("no transcripts (*.txt) found", tdir)
    if fdir.is_dir():
        sources += [load_fieldnote(p) for p in sorted(fdir.glob("*.md"))]
    return sources
