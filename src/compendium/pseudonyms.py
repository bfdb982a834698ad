"""Roster pseudonyms: authors and mentions -> ``P01`` .. / ``M15`` .., tolerant of OCR errors.

``roster.csv`` (private) has ``pseudonym, display_name, handle, aliases`` (aliases ";"-separated: first
names, nicknames). Every form of every member (display name, handle, each alias, first word of the
display name) is replaced, whole word and case-insensitive; forms of five letters or more also match
approximately (normalised similarity >= 0.84, ``rapidfuzz.fuzz.ratio``), so an OCR reading like ``lrfan`` or ``Rachei`` is still caught.
What cannot be matched is never passed through: an ``@`` mention or author that is not on the roster
becomes ``[unknown member]`` and is listed for review.

Similarity is rapidfuzz's ``fuzz.ratio``: 2 x the longest common subsequence over the summed lengths, the
measure difflib's ``SequenceMatcher.ratio`` approximates, computed exactly and in C.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from compendium.deid import whole_word_pattern

UNKNOWN = "[unknown member]"
ANONYMOUS = "Anonymous member"
FUZZY_MIN_LEN = 5
FUZZY_RATIO = 0.84
AUTHOR_RATIO = 0.8

# A word, with inner dots, hyphens and apostrophes ("jiahui.lim", "Wen-Jie", "O'Neil"), but not a possessive "'s",
# which stays outside the token so that "Darren's point" becomes "P02's point", not "P02 point".
_TOKEN = re.compile(r"\w(?:(?:[\w.\-]|['\u2019](?![sS]\b))*\w)?", re.UNICODE)
_MENTION = re.compile(r"@\s?(\w(?:[\w.\-]*\w)?)")
_PSEUDO = re.compile(r"^[PM]\d{2,}$")


def _norm(s: str) -> str:
    return " ".join(re.sub(r"[^\w.\s\-']", " ", str(s).lower()).split())


@dataclass
class Roster:
    members: list[dict]
    path: str = "roster.csv"
    forms: dict = field(default_factory=dict)  # n_tokens -> list[(form tokens tuple, pseudonym)]

    def __post_init__(self):
        forms: dict[tuple, str] = {}
        for m in self.members:
            cands = [m["display_name"], m["handle"], *m["aliases"]]
            words = str(m["display_name"]).split()
            if words:
                cands.append(words[0])
            for c in cands:
                toks = tuple(_TOKEN.findall(str(c).lower()))
                if toks:
                    forms.setdefault(toks, m["pseudonym"])
        self.forms = {}
        for toks, pseudo in sorted(forms.items(), key=lambda kv: (-len(kv[0]), kv[0])):
            self.forms.setdefault(len(toks), []).append((toks, pseudo))
        self.by_name = {_norm(m["display_name"]): m["pseudonym"] for m in self.members}
        self.by_handle = {str(m["handle"]).lower(): m["pseudonym"] for m in self.members}
        # for _match_forms: exact lookup, fuzzy candidates with their OCR-folded form, and a memo of fuzzy
        # lookups (the same words recur in every post)
        self._exact_forms = {toks: pseudo for n in self.forms for toks, pseudo in self.forms[n]}
        self._fuzzy_forms = {
            n: [(" ".join(t), _canon(" ".join(t)), p) for t, p in fs if len(" ".join(t)) >= FUZZY_MIN_LEN]
            for n, fs in self.forms.items()
        }
        self._fuzzy_memo: dict = {}

    @property
    def pseudonyms(self) -> list[str]:
        return [m["pseudonym"] for m in self.members]

    def identifiers(self) -> list[str]:
        """Every identifying form on the roster (for de-identification checks)."""
        out = []
        for m in self.members:
            out += [m["display_name"], m["handle"], *m["aliases"]]
        return sorted(set(out))


def load_roster(path) -> Roster:
    """Read ``roster.csv`` through the de-identification gate's own reader (:func:`compendium.deid.load_roster`),
    so the screenshots stage and the gate accept and refuse the same rosters: InputError naming the file and row
    for missing columns, empty or duplicate pseudonyms, empty display names and duplicate handles."""
    from .deid import load_roster as read_roster

    return roster_from_frame(read_roster(path), str(Path(path)))


def roster_from_frame(df, source: str = "roster.csv") -> Roster:
    """A Roster from the validated table :func:`compendium.deid.load_roster` returns."""
    members = [
        {
            "pseudonym": r.pseudonym.strip(),
            "display_name": r.display_name.strip(),
            "handle": r.handle.strip().lstrip("@").lstrip("\uff20"),
            "aliases": [a.strip() for a in (r.aliases or "").split(";") if a.strip()],
        }
        for r in df.itertuples()
    ]
    return Roster(members, source)


def roster_from_members(members: list[dict]) -> Roster:
    """A Roster from synthdata ``members`` entries (key, pseudonym, display_name, handle, aliases)."""
    return Roster(
        [
            {
                "pseudonym": m["pseudonym"],
                "display_name": m["display_name"],
                "handle": m["handle"],
                "aliases": list(m.get("aliases") or []),
            }
            for m in members
        ]
    )


_CONFUSABLE = str.maketrans({"l": "i", "1": "i", "|": "i", "!": "i", "0": "o"})


def _canon(s: str) -> str:
    """Fold characters OCR confuses (l/1/I, 0/O, rn/m) so that ``lrfan`` equals ``irfan``."""
    return s.lower().replace("rn", "m").translate(_CONFUSABLE)


def _similar(a: str, b: str, canon_a: str | None = None, canon_b: str | None = None) -> float:
    if (canon_a if canon_a is not None else _canon(a)) == (canon_b if canon_b is not None else _canon(b)):
        return 1.0
    if abs(len(a) - len(b)) > 2:
        return 0.0
    return fuzz.ratio(a, b, score_cutoff=100 * FUZZY_RATIO) / 100


def match_author(author: str, roster: Roster) -> tuple[str, float]:
    """(pseudonym, score) for an author as read; ``[unknown member]`` with score 0 if none is close."""
    a = _norm(author)
    if not a:
        return UNKNOWN, 0.0
    if fuzz.ratio(a, ANONYMOUS.lower()) / 100 >= AUTHOR_RATIO:
        return ANONYMOUS, 1.0
    if a in roster.by_name:
        return roster.by_name[a], 1.0
    squashed = a.replace(" ", "")
    best, score = UNKNOWN, 0.0
    for name, pseudo in roster.by_name.items():
        r = fuzz.ratio(squashed, name.replace(" ", "")) / 100
        if r > score:
            best, score = pseudo, r
    return (best, round(score, 4)) if score >= AUTHOR_RATIO else (UNKNOWN, 0.0)


def match_handle(handle: str, roster: Roster) -> str | None:
    h = str(handle).lower().lstrip("@")
    if h in roster.by_handle:
        return roster.by_handle[h]
    best, score = None, 0.0
    for cand, pseudo in roster.by_handle.items():
        r = fuzz.ratio(h, cand) / 100
        if r > score:
            best, score = pseudo, r
    if score >= 0.8:
        return best
    # "@Rachel": a first name or alias used as a mention
    toks = tuple(_TOKEN.findall(h))
    for toks_f, pseudo in roster.forms.get(len(toks), []):
        if toks_f == toks or (len(h) >= FUZZY_MIN_LEN and _similar(" ".join(toks), " ".join(toks_f)) >= FUZZY_RATIO):
            return pseudo
    return None


def _match_forms(tokens: list[str], roster: Roster) -> tuple[int, str] | None:
    """Longest roster form starting at tokens[0]: (n_tokens, pseudonym)."""
    for n in sorted(roster.forms, reverse=True):
        if n > len(tokens):
            continue
        window = tuple(t.lower() for t in tokens[:n])
        pseudo = roster._exact_forms.get(window)
        if pseudo is not None:
            return n, pseudo
        joined = " ".join(window)
        if len(joined) >= FUZZY_MIN_LEN:
            key = (n, joined)
            if key not in roster._fuzzy_memo:
                cj = _canon(joined)
                roster._fuzzy_memo[key] = next(
                    (p for form, cf, p in roster._fuzzy_forms[n] if _similar(joined, form, cj, cf) >= FUZZY_RATIO), None
                )
            if roster._fuzzy_memo[key] is not None:
                return n, roster._fuzzy_memo[key]
    return None


def _exact_pattern(roster: Roster) -> tuple[re.Pattern | None, dict[str, str]]:
    """A whole-word regex over every roster form, for forms glued to punctuation ("first.Vikram", "Deepa's")
    that the token pass cannot see. Cached on the roster."""
    cached = getattr(roster, "_exact", None)
    if cached is not None:
        return cached
    forms = {" ".join(toks): pseudo for n in roster.forms for toks, pseudo in roster.forms[n]}
    rx = whole_word_pattern(forms, at=False)
    roster._exact = (rx, forms)
    return roster._exact


def _exact_spans(text: str, roster: Roster) -> list[tuple[int, int, str]]:
    rx, forms = _exact_pattern(roster)
    if rx is None:
        return []
    return [(m.start(), m.end(), forms[" ".join(m.group(0).lower().split())]) for m in rx.finditer(text)]


def pseudonymise_text(text: str, roster: Roster) -> tuple[str, list[dict]]:
    """Replace mentions in ``text``; returns (new text, review items for masked unknown mentions).

    ``@handle`` -> ``@P05``; names, first names and aliases (whole word, case-insensitive, fuzzy for
    forms of five or more letters) -> ``P05``; an unknown ``@Name`` -> ``@[unknown member]``.
    """
    review: list[dict] = []

    def sub_mention(m: re.Match) -> str:
        pseudo = match_handle(m.group(1), roster)
        if pseudo:
            return "@" + pseudo
        review.append({"kind": "mention", "original": m.group(0), "masked": "@" + UNKNOWN})
        return "@" + UNKNOWN

    text = _MENTION.sub(sub_mention, str(text))
    spans = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]
    out, pos, i = [], 0, 0
    while i < len(spans):
        start, end, tok = spans[i]
        if _PSEUDO.match(tok) or tok == "unknown" and text[start - 1 : start] == "[":
            i += 1
            continue
        hit = _match_forms([s[2] for s in spans[i : i + 4]], roster)
        if hit:
            n, pseudo = hit
            out.append(text[pos:start])
            out.append(pseudo)
            pos = spans[i + n - 1][1]
            i += n
        else:
            i += 1
    out.append(text[pos:])
    text = "".join(out)
    for start, end, pseudo in reversed(_exact_spans(text, roster)):
        text = text[:start] + pseudo + text[end:]
    return text, review


def identifier_spans(text: str, roster: Roster) -> list[tuple[int, int]]:
    """Character spans ``[start, end)`` in ``text`` that identify a member or look like one
    (``@`` mentions, roster forms incl. fuzzy matches): what a redaction must cover."""
    spans = [(m.start(), m.end()) for m in _MENTION.finditer(str(text))]
    spans += [(a, b) for a, b, _ in _exact_spans(str(text), roster)]
    toks = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(str(text))]
    i = 0
    while i < len(toks):
        hit = _match_forms([t[2] for t in toks[i : i + 4]], roster)
        if hit:
            spans.append((toks[i][0], toks[i + hit[0] - 1][1]))
            i += hit[0]
        else:
            i += 1
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def write_roster(members: list[dict], path) -> Path:
    """Write ``roster.csv`` from synthdata ``members`` (aliases joined with ";"), sorted by pseudonym."""
    import pandas as pd

    from compendium.tables import write_csv

    rows = [
        {
            "pseudonym": m["pseudonym"],
            "display_name": m["display_name"],
            "handle": m["handle"],
            "aliases": ";".join(m.get("aliases") or []),
        }
        for m in members
    ]
    df = pd.DataFrame(rows, columns=["pseudonym", "display_name", "handle", "aliases"])
    return write_csv(df.sort_values("pseudonym", kind="mergesort"), path)
