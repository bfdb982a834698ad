"""Units of analysis: transcripts and field notes cut into segments with spaCy.

The default pipeline is ``spacy.blank("en")`` with the rule-based ``sentencizer`` and the ``lookup`` lemmatizer
from ``spacy-lookups-data``: it installs from PyPI and downloads nothing. A trained pipeline (for example
``en_core_web_sm``) may be named instead when it is installed; nothing requires one.

Units (``unit=``):

- ``"sentence"`` (default): each line of a turn split into sentences;
- ``"line"``: each line of a turn (a paragraph in a field note);
- ``"turn"``: the whole speaker turn.

Every segment keeps ``start``/``end`` offsets into the source's normalised text, so
``source.text[start:end] == segment text`` always holds.
"""

from __future__ import annotations

import functools
import re

import pandas as pd

from .errors import InputError
from .transcripts import Source

UNITS = ("sentence", "line", "turn")
SEGMENT_COLUMNS = [
    "segment_id",
    "source_id",
    "source_type",
    "turn",
    "speaker",
    "speaker_role",
    "participant",
    "year_of_study",
    "witi_role",
    "start",
    "end",
    "n_words",
    "text",
]


@functools.lru_cache(maxsize=4)
def make_nlp(model: str | None = None):
    """The spaCy pipeline: blank English + sentencizer + lookup lemmas, or a named installed pipeline."""
    import spacy

    if model:
        try:
            nlp = spacy.load(model)
        except OSError:
            raise InputError(
                f"spaCy pipeline '{model}' is not installed (leave spacy_model empty for the "
                "default blank English pipeline)",
                "parameter spacy_model",
            ) from None
        if not (nlp.has_pipe("parser") or nlp.has_pipe("senter") or nlp.has_pipe("sentencizer")):
            nlp.add_pipe("sentencizer")
        return nlp
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def lemmatize(texts: list[str], model: str | None = None) -> list[list[tuple[str, str]]]:
    """``[(token_lower, lemma_lower), ...]`` for each text (punctuation and spaces dropped)."""
    nlp = make_nlp(model)
    out = []
    for doc in nlp.pipe([t.lower() for t in texts]):
        out.append([(t.lower_, (t.lemma_ or t.text).lower()) for t in doc if not (t.is_punct or t.is_space)])
    return out


def _spans(text: str, base: int, unit: str, nlp) -> list[tuple[int, int]]:
    """Offsets (absolute) of the units inside one turn's text starting at ``base``."""
    if unit == "turn":
        return [(base, base + len(text))] if text.strip() else []
    spans = []
    for m in re.finditer(r"[^\n]+", text):
        line = m.group(0)
        lstart = base + m.start()
        if not line.strip():
            continue
        if unit == "line":
            s = len(line) - len(line.lstrip())
            spans.append((lstart + s, lstart + len(line.rstrip())))
            continue
        starts = whole_units(line, [sent.start_char for sent in nlp(line).sents])
        for a, b in zip(starts, starts[1:] + [len(line)]):
            raw = line[a:b]
            s = len(raw) - len(raw.lstrip())
            e = len(raw.rstrip())
            if e > s:
                spans.append((lstart + a + s, lstart + a + e))
    return spans


BRACKETS = re.compile(r"\[[^\[\]\n]*\]")
# A transcriber's annotation opens in lower case ([laughs], [pause], [inaudible 00:12:31]); a de-identification
# placeholder opens with a capital ([Lecturer A], [Friend 1]) and is a word of the sentence it stands in.
ANNOTATION = re.compile(r"\[[a-z]")


def whole_units(line: str, starts: list[int]) -> list[int]:
    """Sentence starts within ``line`` (the first is the line's start) moved so that no unit begins or ends
    inside square brackets: an annotation (``[laughs]`` after a sentence's full stop) stays with the sentence it
    follows, a placeholder (``[Lecturer A] said ...``) opens the sentence it stands in. (spaCy's sentencizer
    cuts after the ``[`` that follows a full stop, inside the brackets.) Unbalanced brackets are text."""
    spans = [(m.start(), m.end()) for m in BRACKETS.finditer(line)]
    out: list[int] = []
    for b in sorted(set(starts)):
        for i, j in spans:
            annotation = bool(ANNOTATION.match(line, i))
            if i < b < j:  # the sentencizer cut inside: after an annotation, before a placeholder
                b = j if annotation else i
            elif b == i and out and annotation:
                b = j
        while b < len(line) and line[b].isspace():
            b += 1
        if b < len(line) and (not out or b > out[-1]):
            out.append(b)
    if not out or out[0] != 0:
        out.insert(0, 0)
    return out


def segment(
    sources: list[Source], participants: pd.DataFrame | None = None, unit: str = "sentence", model: str | None = None
) -> pd.DataFrame:
    """One row per unit of analysis across all sources (columns :data:`SEGMENT_COLUMNS`)."""
    if unit not in UNITS:
        raise InputError(f"unit must be one of {', '.join(UNITS)}, not '{unit}'", "parameter unit")
    nlp = make_nlp(model)
    attrs = {}
    if participants is not None and len(participants):
        if "pseudonym" not in participants.columns:
            raise InputError(
                "participants table has no 'pseudonym' column (read it with compendium.participants.load_participants)",
                "participants.csv",
                1,
            )
        attrs = participants.set_index("pseudonym").to_dict("index")
    rows = []
    for src in sources:
        participant = src.meta.get("participant", "") if src.source_type == "interview" else ""
        pa = attrs.get(participant, {})
        n = 0
        for turn in src.turns:
            if turn.speaker == "Interviewer":
                role = "interviewer"
            elif turn.speaker == "Observer":
                role = "observer"
            else:
                role = "participant"
            for start, end in _spans(src.turn_text(turn), turn.start, unit, nlp):
                n += 1
                text = src.text[start:end]
                rows.append(
                    {
                        "segment_id": f"{src.source_id}:{n:04d}",
                        "source_id": src.source_id,
                        "source_type": src.source_type,
                        "turn": turn.index + 1,
                        "speaker": turn.speaker,
                        "speaker_role": role,
                        "participant": participant,
                        "year_of_study": str(pa.get("year_of_study", "")) if role == "participant" else "",
                        "witi_role": str(pa.get("witi_role", "")) if role == "participant" else "",
                        "start": start,
                        "end": end,
                        "n_words": len(text.split()),
                        "text": text,
                    }
                )
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)


def check_offsets(segments: pd.DataFrame, sources: list[Source]) -> None:
    """Raise if any segment's text differs from ``source.text[start:end]`` (the offset contract)."""
    texts = {s.source_id: s.text for s in sources}
    for row in segments.itertuples():
        if texts[row.source_id][int(row.start) : int(row.end)] != row.text:
            raise AssertionError(f"offset mismatch in {row.segment_id}")
