"""Reporting checklists: COREQ (Tong, Sainsbury & Craig 2007; 32 items) and SRQR (O'Brien et al. 2014; 21 items).

Every item is answered from a named source or marked for the authors, never filled with words that merely sound
like an answer:

- an answer is made of *parts*; each part is one sentence taken from one source: a ``study.yml`` key (what the
  data cannot say: the team, the ethics board, the sampling plan ...), a raw file (``participants.csv``, the
  transcripts' front matter, ``fieldnotes/*.md``, ``interview_guide.md``, ``codebook.yml``, ``coding/*.csv``), a
  derived file (``saturation.csv``, ``reliability.csv``, ``tables/claims.md`` ...) or a figure
  (``fig3_saturation``). The sentences are punctuated and the sources listed, so two sources are never glued;
- what no source answers is marked ``AUTHORS TO COMPLETE: <what is needed>``, and so is a statement in
  ``study.yml`` that the data contradict (the interviewer's bias "noted in each field note" when the notes do not
  say so; durations that are not those of the transcripts): the checklist says what the data show and leaves the
  correction to the authors. An item with such a mark counts as *for the authors*, even when part of it is
  answered;
- the answer answers the item's own question (:attr:`Item.question`, the guideline's wording), and no two
  answers are the same text.

The facts computed from the data are built by :func:`compendium.report.facts`; this module only reads them. They
are a plain ``dict`` (every key optional: a missing fact leaves its part out, or marks the item for the authors):

``participants``  ``{n, years: {year: n}, roles: {role: n}, genders: {g: n}, joined: [first, last], modes: {m: n}}``
``interviews``    ``{n, participants, dates: [first, last], durations: [min ...], interviewers}``
``guide``         ``{sections, questions, probes, told: [sentences about the study's purpose or the team]}``
``fieldnotes``    ``{n, dates: [first, last], reflexive: [[note id, sentence], ...]}`` (see :func:`reflexive_sentences`)
``screenshots``   ``{n, posts, members, anonymous_posts, cer}``
``segments``      ``{n, kinds: {kind: n}}``
``saturation``    ``{n, last_new_order, last_new_source, last_new_codes: [...], tail}``
``coders``        ``{coder: sources coded}``
``reliability``   ``{units, codes, kappa, alpha, alpha_low, alpha_high, lowest: [code, kappa]}``
``codebook``      ``{version, codes, deductive, inductive, subcodes, themes, rounds: [[round, date, version], ...],
                  double_coded}``
``themes``        ``[{id, label, n_codes, n_units, n_participants, kinds: [...]}, ...]``
``minor_codes``   ``[[code, label, units, participants], ...]`` (the least applied codes)
``quotes``        ``{n, themes: {theme: n}, kinds: {kind: n}, participants, identified}``
``claims``        ``[{finding, claim, verdict, reference}, ...]`` (``tables/claims.csv``)
``manifest``      number of files listed in the raw ``MANIFEST.sha256``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

MARK = "AUTHORS TO COMPLETE"

CITATIONS = {
    "COREQ": "Tong A, Sainsbury P, Craig J. Consolidated criteria for reporting qualitative research (COREQ): a "
    "32-item checklist for interviews and focus groups. Int J Qual Health Care. 2007;19(6):349-357.",
    "SRQR": "O'Brien BC, Harris IB, Beckman TJ, Reed DA, Cook DA. Standards for reporting qualitative research: "
    "a synthesis of recommendations. Acad Med. 2014;89(9):1245-1251.",
}

# A source named in the Source column: a study.yml key, a file (raw or derived, with an optional glob or folder),
# or a figure. Two names glued together do not match it.
SOURCE_PATTERN = re.compile(
    r"study\.yml `[A-Za-z_][\w.\[\]*]*`"
    r"|(?:[\w*-]+/)*[\w*.-]+\.(?:csv|md|yml|txt|sha256|png|qdpx)(?: \(front matter\))?"
    r"|fig\d+_[a-z_]+"
)


# --------------------------------------------------------------------------------------------------------------
# reading study.yml


def lookup(study: dict, path: str) -> Any:
    """``team[0].role`` / ``team[*].gender`` / ``a.b`` in a nested dict; ``None`` if absent."""
    cur: Any = study
    for part in path.split("."):
        key, _, idx = part.partition("[")
        if key:
            if not isinstance(cur, dict) or key not in cur:
                return None
            cur = cur[key]
        if idx:
            idx = idx.rstrip("]")
            if not isinstance(cur, list):
                return None
            if idx == "*":
                return cur  # handled by the caller with the rest of the path
            cur = cur[int(idx)] if int(idx) < len(cur) else None
    return cur


def _flatten(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        items = [t for t in (_flatten(v) for v in value) if t]
        whole = all(re.search(r"[.!?][\"')]*$", t) for t in items)  # whole sentences (questions) stand apart
        return (" " if whole else "; ").join(items)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in value.items())
    return " ".join(str(value).split())


_PLACEHOLDER = re.compile(r"^\[[^\]]*\]$")


def is_placeholder(text: str) -> bool:
    """``[Institutional Review Board]``: a value that only holds the place of one."""
    return bool(_PLACEHOLDER.match(text.strip()))


def _label(role: str) -> str:
    """``Researcher 1 (interviewer and observer)`` -> ``Researcher 1``."""
    return role.split(" (")[0].strip()


def interviewers(study: dict) -> list[dict]:
    """Team members whose role names them as interviewer."""
    team = study.get("team") if isinstance(study.get("team"), list) else []
    return [m for m in team if isinstance(m, dict) and re.search(r"interview", str(m.get("role", "")), re.I)]


def _sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'(\[])", text) if s]


def _names(sentence: str, label: str) -> bool:
    return bool(label) and re.search(rf"(?<!\w){re.escape(label)}(?![\w])", sentence) is not None


# --------------------------------------------------------------------------------------------------------------
# field notes: where does the observer flag their own bias?

_REFLECTION_HEADING = re.compile(r"reflect|reflexiv|memo|interpret|comment", re.I)
_QUOTED = re.compile(r"\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d")
_FIRST_PERSON = re.compile(r"\bI\b|\b[Mm]y\b|\b[Mm]e\b|\b[Mm]yself\b")
_BIAS = re.compile(
    r"\b(?:bias(?:es|ed)?|prejudice[sd]?|colou?r(?:s|ed|ing)? (?:my|the|how)|my own|"
    r"my (?:\w+ )?(?:experience|background|expectations?|assumptions?|presuppositions?|position(?:ality)?|"
    r"sympath(?:y|ies)|preconceptions?)|(?:am|was|feel|felt) (?:inclined|predisposed|tempted)|"
    r"I (?:had )?(?:expected|assumed)|moved by)\b",
    re.I,
)


def reflexive_sentences(text: str) -> list[str]:
    """Sentences of a field note in which the observer flags their own bias, expectation or experience.

    Read: the sections under a heading about reflection (``## Analytic reflection``, ``## Memo`` ...) when the note
    has one, else the whole note; quoted speech (``"..."``) is not the observer's and is ignored. A sentence counts
    when it is in the first person and names a bias, the observer's own experience, background, expectations or
    assumptions, an inclination to read something a certain way, or being moved by what she saw. The rule is
    deliberately plain, so that an author can check each hit (the checklist quotes them)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == "---":  # front matter
        end = next((i for i, ln in enumerate(lines[1:], 1) if ln.strip() == "---"), 0)
        lines = lines[end + 1 :]
    sections: list[tuple[str, list[str]]] = [("", [])]
    for ln in lines:
        if ln.lstrip().startswith("#"):
            sections.append((ln, []))
        else:
            sections[-1][1].append(ln)
    chosen = [body for head, body in sections if head and _REFLECTION_HEADING.search(head)]
    if not chosen:
        chosen = [body for _, body in sections]
    out = []
    for body in chosen:
        for s in _sentences(" ".join(body)):
            bare = _QUOTED.sub('""', s)
            if _FIRST_PERSON.search(bare) and _BIAS.search(bare):
                out.append(s)
    return out


_EVERY_NOTE = re.compile(
    r"\b(?:each|every|all(?: (?:the|of the|her|his|our|my))?)\s+(?:of (?:the|her|his|our|my) )?"
    r"(?:observation )?field[- ]?notes?\b",
    re.I,
)


def claims_every_note(sentence: str) -> bool:
    """Does the sentence say that something was done in each (every, all) field note?"""
    return bool(_EVERY_NOTE.search(sentence))


# --------------------------------------------------------------------------------------------------------------
# answers


@dataclass
class Answer:
    """An item's answer: sentences, each with its source(s), and what the authors must complete."""

    parts: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)

    @property
    def for_authors(self) -> bool:
        return bool(self.todo) or not self.parts

    @property
    def sentences(self) -> list[str]:
        return [_sentence(t) for t, _ in self.parts]

    @property
    def text(self) -> str:
        out = self.sentences
        if self.todo or not self.parts:
            need = "; ".join(t.strip().rstrip(".;") for t in self.todo) or "this item"
            out.append(f"{MARK}: {need}.")
        return " ".join(out)

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(s for _, srcs in self.parts for s in srcs))

    @property
    def source(self) -> str:
        return "; ".join(self.sources) or "-"


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    if re.match(r"[a-z]+(?=[\s,;:])", text):  # a word, not a file name such as codebook.yml
        text = text[0].upper() + text[1:]
    return text if re.search(r"[.!?][\"')\]]*$", text) else text + "."


class _Build:
    """Collects an answer's parts; the item functions below call it."""

    def __init__(self, study: dict, facts: dict):
        self.study, self.facts, self.a = study, facts, Answer()

    def value(self, key: str) -> str:
        v = _flatten(lookup(self.study, key))
        return "" if is_placeholder(v) else v

    def key(self, key: str, label: str | None = None, need: str | None = None) -> str:
        """The value of a study.yml key as one part; if absent and ``need`` is given, mark it for the authors."""
        v = self.value(key)
        if v:
            self.part(f"{label}: {v}" if label else v, f"study.yml `{key}`")
        elif need:
            raw = _flatten(lookup(self.study, key))
            self.todo(f"{need} (study.yml `{key}` {'holds a placeholder' if raw else 'is not given'})")
        return v

    def team(self, fld: str, need: str) -> None:
        team = [m for m in (self.study.get("team") or []) if isinstance(m, dict)]
        have = [(m.get("role", "?"), _flatten(m.get(fld))) for m in team]
        given = [f"{_label(str(r))}: {v}" for r, v in have if v and not is_placeholder(v)]
        if given:
            self.part("; ".join(given), f"study.yml `team[*].{fld}`")
        missing = [_label(str(r)) for r, v in have if not v or is_placeholder(v)]
        if missing or not team:
            who = ", ".join(missing) if missing else "the research team"
            self.todo(f"{need} of {who} (study.yml `team[*].{fld}`)")

    def part(self, text: str, *sources: str) -> None:
        self.a.parts.append((text, tuple(sources)))

    def todo(self, need: str) -> None:
        self.a.todo.append(need)

    def f(self, name: str, default: Any = None) -> Any:
        v = self.facts.get(name)
        return default if v is None else v


def _counts(d: dict, sep: str = " ") -> str:
    return ", ".join(f"{k}{sep}{v}" for k, v in d.items())


def _range(pair) -> str:
    a, b = pair
    return str(a) if a == b else f"{a} to {b}"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%" if x < 0.1 else f"{x * 100:.0f}%"


# ---- COREQ -----------------------------------------------------------------------------------------------------


def _coreq1(b: _Build) -> None:
    who = interviewers(b.study)
    if who:
        b.part("The interviews were conducted by " + "; ".join(str(m["role"]) for m in who), "study.yml `team[*].role`")
    else:
        b.todo("which team member conducted the interviews (a `team` role naming the interviewer)")
    iv = b.f("interviews")
    if iv and iv.get("interviewers"):
        b.part(
            f"The front matter of the {iv['n']} transcripts names {iv['interviewers']} interviewer"
            f"{'s' if iv['interviewers'] != 1 else ''}",
            "transcripts/*.txt (front matter)",
        )


def _coreq8(b: _Build) -> None:
    notes = b.f("fieldnotes")
    labels = [_label(str(m["role"])) for m in interviewers(b.study)]
    refl = b.value("reflexivity")
    flagged = len(notes["reflexive"]) if notes else 0
    kept, wrong = [], []
    for s in _sentences(refl) if refl else []:
        if any(_names(s, lab) for lab in labels):
            (wrong if notes and claims_every_note(s) and flagged < notes["n"] else kept).append(s)
    if kept:
        b.part("About the interviewer: " + " ".join(kept), "study.yml `reflexivity`")
    if notes:
        if flagged:
            shown = "; ".join(f'{i} ("{s}")' for i, s in notes["reflexive"][:3])
            more = f" and {flagged - 3} more" if flagged > 3 else ""
            b.part(
                f"{flagged} of {notes['n']} field notes flag, in the first person, where the observer's own "
                f"experience or expectations may colour the reading: {shown}{more}",
                "fieldnotes/*.md",
            )
        else:
            b.part(
                f"None of the {notes['n']} field notes flags, in the first person, where the observer's own "
                "experience or expectations may colour the reading",
                "fieldnotes/*.md",
            )
    if wrong:
        b.todo(
            f"study.yml `reflexivity` says that {labels[0]} noted their bias in each field note, but "
            f"{'only ' + str(flagged) if flagged else 'none'} of the {notes['n']} notes "
            f"{'does' if flagged == 1 else 'do'}: correct the statement or the notes, and restate the "
            "interviewer's assumptions (that sentence is left out here)"
        )
    elif not kept:
        b.todo(
            "the interviewer's assumptions, biases and interests in the research topic (study.yml "
            "`reflexivity` says nothing about the interviewer by name)"
        )


def _coreq7(b: _Build) -> None:
    g = b.f("guide")
    told = (g or {}).get("told") or []
    if told:
        b.part(
            "What the interview guide's preamble has the interviewer tell each participant about the study and "
            "the team: " + " ".join(f'"{s}"' for s in told),
            "interview_guide.md",
        )
    else:
        b.todo("what participants knew about the interviewer: personal goals and reasons for doing the research")


def _coreq9(b: _Build) -> None:
    b.key("design.approach", "Orientation", need="the methodological orientation (e.g. ethnography)")
    b.key("design.framework", "Theory")
    b.key("design.analysis", "Analysis")


def _coreq12(b: _Build) -> None:
    p = b.f("participants")
    if not p:
        b.key("sampling.sample_size", "Interviewees", need="the number of participants")
        return
    said = lookup(b.study, "sampling.sample_size")
    b.part(f"{p['n']} interviewees, one row each in participants.csv", "participants.csv")
    if said is not None and int(said) != p["n"]:
        b.todo(f"study.yml `sampling.sample_size` says {said}, participants.csv lists {p['n']}: correct one")
    s = b.f("screenshots")
    if s and s.get("posts"):
        b.part(
            f"The {s['n']} screenshots hold {s['posts']} posts by {s['members']} pseudonymised members"
            + (f' and {s["anonymous_posts"]} posts by "Anonymous member"' if s.get("anonymous_posts") else ""),
            "posts.csv",
        )


def _coreq14(b: _Build) -> None:
    b.key("data_collection.interviews.mode", "Interviews", need="where the interviews took place")
    p = b.f("participants")
    if p and p.get("modes"):
        b.part("Mode by interviewee: " + _counts(p["modes"], ": "), "participants.csv")


def _coreq16(b: _Build) -> None:
    p = b.f("participants")
    if not p:
        b.todo("the characteristics of the sample (participants.csv is not available)")
        return
    bits = [f"{p['n']} interviewees; year of study " + _counts({f"Y{k}": v for k, v in p["years"].items()}, ": ")]
    if p.get("roles"):
        bits.append("role in the group (a member may hold several) " + _counts(p["roles"], ": "))
    if p.get("genders"):
        bits.append("gender " + _counts(p["genders"], ": "))
    if p.get("joined"):
        bits.append(f"joined the group {_range(p['joined'])}")
    b.part("; ".join(bits), "participants.csv")
    iv = b.f("interviews")
    if iv and iv.get("dates"):
        b.part(f"Interviewed {_range(iv['dates'])}", "transcripts/*.txt (front matter)")


def _coreq17(b: _Build) -> None:
    g = b.f("guide")
    if not g:
        b.todo("the interview guide (interview_guide.md is not in the raw folder)")
        return
    b.part(
        f"The authors provide interview_guide.md ({g['sections']} sections), {g['questions']} numbered questions"
        f" and {g['probes']} sets of probes, in the raw folder",
        "interview_guide.md",
    )
    where = next(
        (
            k
            for k in (
                "data_collection.interviews.guide",
                "data_collection.interviews.mode",
                "data_collection.interviews.pilot",
            )
            if re.search(r"\bpilot", b.value(k), re.I)
        ),
        None,
    )
    if where:
        b.part("Pilot testing: the study facts describe the guide as piloted", f"study.yml `{where}`")
    else:
        b.todo("whether the guide was pilot tested")


def _coreq18(b: _Build) -> None:
    b.key("data_collection.interviews.repeat_interviews", "Repeat interviews", need="whether interviews were repeated")
    iv = b.f("interviews")
    if iv:
        each = "one each" if iv["n"] == iv["participants"] else f"{iv['n'] - iv['participants']} repeat(s)"
        b.part(
            f"There are {iv['n']} transcripts from {iv['participants']} participants, {each}",
            "transcripts/*.txt (front matter)",
        )


def _coreq20(b: _Build) -> None:
    b.key(
        "data_collection.interviews.field_notes",
        "After interviews",
        need="whether field notes were made during or after the interviews",
    )
    n = b.f("fieldnotes")
    if n:
        b.part(f"Observation: fieldnotes/ holds {n['n']} dated field notes, {_range(n['dates'])}", "fieldnotes/*.md")
        said = lookup(b.study, "data_collection.observation.field_notes")
        if said is not None and int(said) != n["n"]:
            b.todo(f"study.yml `data_collection.observation.field_notes` says {said}, fieldnotes/ holds {n['n']}")


def _coreq21(b: _Build) -> None:
    iv = b.f("interviews")
    d = (iv or {}).get("durations") or []
    said = lookup(b.study, "data_collection.interviews.duration_range_min")
    if d:
        b.part(
            f"{min(d)}-{max(d)} minutes, mean {sum(d) / len(d):.0f}, from the front matter of {len(d)} of "
            f"{iv['n']} transcripts",
            "transcripts/*.txt (front matter)",
        )
        if isinstance(said, list) and len(said) == 2 and [min(d), max(d)] != list(said):
            b.todo(
                f"study.yml `data_collection.interviews.duration_range_min` says {said[0]}-{said[1]} minutes, "
                f"the transcripts {min(d)}-{max(d)}: correct one"
            )
    elif isinstance(said, list) and len(said) == 2:
        b.part(f"{said[0]}-{said[1]} minutes", "study.yml `data_collection.interviews.duration_range_min`")
    else:
        b.todo("the duration of the interviews (`duration_min` in the transcripts' front matter)")


def _coreq22(b: _Build) -> None:
    b.key("sampling.saturation", "Discussed", need="whether and how data saturation was judged")
    s = b.f("saturation")
    if s:
        if s["tail"]:
            b.part(
                f"In saturation.csv the last new code ({', '.join(s['last_new_codes'])}) came with interview "
                f"{s['last_new_order']} ({s['last_new_source']}); the {s['tail']} interviews after it added none",
                "saturation.csv",
                "fig3_saturation",
            )
        else:
            b.part(
                f"In saturation.csv the last of the {s['n']} interviews still added new codes",
                "saturation.csv",
                "fig3_saturation",
            )
        if s.get("stopping"):
            b.part(
                f"By Guest, Namey and Chen's measure (2020; on the {s.get('basis') or 'coding'}), {s['stopping']}",
                "saturation.csv",
            )


def _coreq24(b: _Build) -> None:
    coders = b.f("coders")
    if not coders:
        b.key("analysis.number_of_coders", "Coders", need="the number of coders")
        return
    b.part(
        f"{len(coders)} coder{'s' if len(coders) != 1 else ''} in the coding files: "
        + ", ".join(f"{c} coded {n} sources" for c, n in coders.items()),
        "coding/*.csv",
    )
    rel = b.f("reliability")
    if rel:
        b.part(f"{rel['units']} units were coded by both", "reliability.csv")
    said = lookup(b.study, "analysis.number_of_coders")
    if said is not None and int(said) != len(coders):
        b.todo(f"study.yml `analysis.number_of_coders` says {said}, the coding files name {len(coders)}")


def _coreq25(b: _Build) -> None:
    c = b.f("codebook")
    if not c:
        b.key("analysis.coding_tree", need="a description of the coding tree")
        return
    b.part(
        f"codebook.yml (version {c['version']}) describes the tree: {c['codes']} codes ({c['deductive']} deductive, "
        f"{c['inductive']} inductive; {c['subcodes']} of them sub-codes of another) in {c['themes']} themes, each "
        "code with a definition and rules for inclusion and exclusion",
        "codebook.yml",
    )
    b.part("Each code's units, sources and interviewees are counted", "code_frequencies.csv", "fig2_code_frequencies")


def _coreq26(b: _Build) -> None:
    b.key("analysis.derivation_of_themes", "Derivation", need="whether themes were identified in advance or derived")
    c = b.f("codebook")
    if c and c.get("rounds"):
        r = c["rounds"]
        b.part(
            f"The codebook history records {len(r)} analytic rounds, {r[0][1]} to {r[-1][1]} (versions "
            f"{r[0][2]} to {r[-1][2]}), each with what changed and why",
            "codebook.yml",
        )


def _coreq29(b: _Build) -> None:
    q = b.f("quotes")
    if not q:
        b.todo("the quotations presented and how each is identified")
        return
    ided = "each" if q["identified"] == q["n"] else f"{q['identified']} of them"
    b.part(
        f"{q['n']} exemplar passages ({_counts(q['themes'], ': ')}), {ided} identified by its unit id (the "
        f"participant or source, and the segment); the interview quotes come from {q['participants']} different "
        "participants",
        "theme_quotes.csv",
    )


def _coreq30(b: _Build) -> None:
    cl = b.f("claims")
    if not cl:
        b.todo("how the data presented bear out the findings (tables/claims.md is not available)")
        return
    verdicts: dict[str, int] = {}
    for r in cl:
        verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
    b.part(
        f"tables/claims.md sets each of the {len(cl)} findings against the measure the data hold and a reference "
        f"(a counterfactual, a null model or a threshold), with what would have contradicted it; verdicts: "
        + _counts(verdicts, ": "),
        "tables/claims.md",
    )


def _coreq31(b: _Build) -> None:
    th = b.f("themes")
    if not th:
        b.todo("the major themes")
        return
    n = (b.f("participants") or {}).get("n")
    b.part(
        f"{len(th)} themes, each with its codes, units and interviewees: "
        + "; ".join(
            f"{t['id']} {t['label']} ({t['n_codes']} codes, {t['n_units']} units, {t['n_participants']}"
            f"{' of ' + str(n) if n else ''} interviewees)"
            for t in th
        ),
        "themes.csv",
        "tables/table2_themes.csv",
        "fig1_theme_prevalence",
    )


def _coreq32(b: _Build) -> None:
    m = b.f("minor_codes")
    n = (b.f("participants") or {}).get("n")
    if m:
        b.part(
            "The least applied codes: "
            + "; ".join(
                f"{c} {label} ({u} units, {p}{' of ' + str(n) if n else ''} interviewees)" for c, label, u, p in m
            ),
            "code_frequencies.csv",
        )
    b.todo(
        "a description of diverse and negative cases and a discussion of the minor themes (the data show which "
        "codes are minor, not what they mean)"
    )


# ---- SRQR ------------------------------------------------------------------------------------------------------

_APPROACH = re.compile(
    r"qualitative|ethnograph\w*|grounded theory|phenomenolog\w*|case study|narrative|interview\w*|"
    r"focus group\w*|observation",
    re.I,
)


def _srqr1(b: _Build) -> None:
    t = b.key("title", need="the title")
    if t:
        named = list(dict.fromkeys(m.lower() for m in _APPROACH.findall(t)))
        b.part(
            f"The title names its approach or method ({', '.join(named)})"
            if named
            else "The title names neither a qualitative approach nor a method of data collection",
            "study.yml `title`",
        )


def _srqr2(b: _Build) -> None:
    if not b.key("abstract", "Abstract"):
        ref = (
            " (study.yml has only `reference.description`, the published article's design)"
            if b.value("reference.description")
            else ""
        )
        b.todo(f"a structured abstract: background, purpose, methods, results and conclusions{ref}")


def _srqr3(b: _Build) -> None:
    if not (b.key("problem", "Problem") or b.key("background", "Background")):
        b.todo(
            "the problem or phenomenon studied and its significance, with the theory and empirical work it "
            "builds on (study.yml has research questions and a framework, not a problem statement)"
        )


def _srqr4(b: _Build) -> None:
    b.key("purpose", "Purpose")
    b.key("design.research_questions", "Research questions", need="the purpose and research questions")


def _srqr5(b: _Build) -> None:
    b.key("design.approach", "Approach", need="the qualitative approach")
    b.key("design.paradigm", "Paradigm", need="the research paradigm")
    b.key("design.framework", "Guiding theory")


def _srqr6(b: _Build) -> None:
    refl = b.value("reflexivity")
    if not refl:
        b.todo("the researchers' characteristics, assumptions and reflexivity (study.yml `reflexivity`)")
        return
    notes = b.f("fieldnotes")
    flagged = len(notes["reflexive"]) if notes else 0
    kept, wrong = [], []
    for s in _sentences(refl):
        (wrong if notes and claims_every_note(s) and flagged < notes["n"] else kept).append(s)
    b.part(" ".join(kept), "study.yml `reflexivity`")
    if wrong:
        b.part(
            f"A sentence of study.yml `reflexivity` saying that a bias was noted in each field note is left out: "
            f"{flagged} of the {notes['n']} field notes flag one (COREQ item 8)",
            "fieldnotes/*.md",
        )


def _srqr8(b: _Build) -> None:
    b.key("sampling.method", "Participants", need="how and why participants were selected")
    b.key("sampling.saturation", "When to stop")
    if not b.key("data_collection.screenshots.selection", "Screenshots"):
        b.todo(
            "how and why the screenshots and observed interactions were selected "
            "(study.yml `data_collection.screenshots.selection` is not given)"
        )


def _srqr9(b: _Build) -> None:
    b.key("ethics.board", "Review board", need="the ethics review board")
    b.key("ethics.approval", "Approval", need="the approval reference")
    b.key("ethics.consent", "Consent", need="how consent was obtained")
    if b.value("ethics.data_protection"):
        b.part("Confidentiality and data security: item 13", "study.yml `ethics.data_protection`")


def _srqr10(b: _Build) -> None:
    d = b.study.get("dates") if isinstance(b.study.get("dates"), dict) else {}
    n, iv, s = b.f("fieldnotes"), b.f("interviews"), b.f("screenshots")
    if not b.key("data_collection.observation.description", "Observation"):
        b.todo("how the online observation was done")
    if d.get("observation_start") and d.get("observation_end"):
        b.part(f"Observation from {d['observation_start']} to {d['observation_end']}", "study.yml `dates`")
    if n:
        b.part(f"Observation field notes are dated {_range(n['dates'])}", "fieldnotes/*.md")
        if d.get("observation_start") and not (
            str(d["observation_start"]) <= n["dates"][0] and n["dates"][1] <= str(d.get("observation_end", "9999"))
        ):
            b.todo("the field notes fall outside the observation dates in study.yml `dates`")
    if d.get("interviews_start") and d.get("interviews_end"):
        b.part(f"Interviews from {d['interviews_start']} to {d['interviews_end']}", "study.yml `dates`")
    if iv and iv.get("dates"):
        b.part(
            f"The {iv['n']} semi-structured interviews are dated {_range(iv['dates'])}",
            "transcripts/*.txt (front matter)",
        )
        if d.get("interviews_start") and not (
            str(d["interviews_start"]) <= iv["dates"][0] and iv["dates"][1] <= str(d.get("interviews_end", "9999"))
        ):
            b.todo("the transcripts' dates fall outside the interview dates in study.yml `dates`")
    if s:
        b.part(f"{s['n']} screenshots of the group's pages were collected", "posts.csv")
    c = b.f("codebook")
    if c and c.get("rounds"):
        r = c["rounds"]
        b.part(f"Analysis ran alongside collection, in {len(r)} rounds from {r[0][1]} to {r[-1][1]}", "codebook.yml")


def _srqr11(b: _Build) -> None:
    g = b.f("guide")
    if g:
        b.part(
            f"Instrument: a semi-structured interview guide of {g['questions']} questions in {g['sections']} sections",
            "interview_guide.md",
        )
    else:
        b.todo("the interview guide or other instruments")
    b.key("data_collection.interviews.recording", "Recording", need="the recording devices")
    b.key("data_collection.screenshots.description", "Screenshots")


def _srqr12(b: _Build) -> None:
    p, n, s, seg = b.f("participants"), b.f("fieldnotes"), b.f("screenshots"), b.f("segments")
    if p:
        b.part(f"{p['n']} interviewees of years {min(p['years'])} to {max(p['years'])}", "participants.csv")
    if n:
        b.part(f"{n['n']} dated observation field notes", "fieldnotes/*.md")
    if s:
        b.part(f"{s['n']} screenshots holding {s['posts']} posts", "posts.csv")
    if seg:
        names = {"interview": "interview", "fieldnote": "field-note"}
        b.part(
            "Units of analysis: "
            + " and ".join(f"{v} {names.get(k, k)} segments" for k, v in seg["kinds"].items())
            + (", and each post as one unit" if s else ""),
            "segments.csv",
        )
    if not (p or n or s):
        b.todo("the number and characteristics of participants, documents or events")


def _srqr13(b: _Build) -> None:
    b.key(
        "ethics.data_protection",
        "Data management and de-identification",
        need="how data were stored, secured and de-identified",
    )
    b.key("analysis.unit_of_analysis", "Units")
    s = b.f("screenshots")
    if s and s.get("cer") is not None:
        b.part(
            f"The screenshots were read by OCR and checked against a hand transcription: mean character error "
            f"{_pct(s['cer'])}",
            "ocr_quality.csv",
        )
    if b.f("coders"):
        b.part("Each coder's applications (coding/*.csv) are merged into a consensus table", "coding.csv")
    if b.f("manifest"):
        b.part(
            f"Integrity: every run first checks the {b.f('manifest')} raw files against their checksums",
            "MANIFEST.sha256",
        )


def _srqr14(b: _Build) -> None:
    b.key("design.analysis", "Approach", need="how the analysis was done")
    coders = b.f("coders")
    if coders:
        b.part(f"Coded by {len(coders)} coders ({', '.join(coders)}), each in a file of their own", "coding/*.csv")
    c = b.f("codebook")
    if c:
        b.part(f"Themes: {c['codes']} codes grouped into {c['themes']} themes", "codebook.yml")
    else:
        b.key("analysis.derivation_of_themes", "Themes")


def _srqr15(b: _Build) -> None:
    listed = lookup(b.study, "trustworthiness")
    if listed:
        n = len(listed) if isinstance(listed, list) else 1
        b.part(f"study.yml lists {n} techniques; what the data show of them follows", "study.yml `trustworthiness`")
    rel = b.f("reliability")
    if rel:
        low = f"; lowest per code {rel['lowest'][0]} (kappa {rel['lowest'][1]:.2f})" if rel.get("lowest") else ""
        b.part(
            f"Double coding: {rel['units']} units coded by two coders, pooled Cohen's kappa {rel['kappa']:.2f}, "
            f"Krippendorff's alpha {rel['alpha']:.2f} (95% interval {rel['alpha_low']:.2f}-"
            f"{rel['alpha_high']:.2f}){low}",
            "reliability.csv",
            "fig4_reliability",
        )
    c = b.f("codebook")
    if c and c.get("rounds"):
        r = c["rounds"]
        b.part(
            f"Audit trail: the codebook history records {len(r)} rounds ({r[0][1]} to {r[-1][1]})"
            + (f", {c['double_coded']} sources double-coded" if c.get("double_coded") else ""),
            "codebook.yml",
        )
    th = b.f("themes")
    if th and all(t.get("kinds") for t in th):
        kinds = sorted({k for t in th for k in t["kinds"]})
        least = min(len(t["kinds"]) for t in th)
        span = f"all {len(kinds)}" if least == len(kinds) else f"at least {least} of the {len(kinds)}"
        b.part(f"Triangulation: every theme is coded in {span} kinds of source ({', '.join(kinds)})", "coding.csv")
    if b.f("claims"):
        b.part(
            "Disconfirmation: tables/claims.md sets each finding against a counterfactual or null model and "
            "states what would have contradicted it",
            "tables/claims.md",
        )
    n = b.f("fieldnotes")
    if n:
        b.part(f"Prolonged engagement: field notes from {_range(n['dates'])}", "fieldnotes/*.md")
    if b.value("analysis.participant_checking"):
        b.part(
            "Member checking is reported by the authors, not recorded in the data",
            "study.yml `analysis.participant_checking`",
        )
    if not b.a.parts:
        b.todo("the techniques used to enhance trustworthiness (member checking, audit trail, triangulation ...)")


def _srqr16(b: _Build) -> None:
    th, cl = b.f("themes"), b.f("claims")
    if th:
        b.part(f"{len(th)} themes: " + "; ".join(f"{t['id']} {t['label']}" for t in th), "themes.csv")
    ids = {t["id"] for t in th or []}
    rest = [r for r in cl or [] if r["finding"] not in ids]
    if rest:
        b.part(
            "Findings and the verdict of the data: " + "; ".join(f"{r['claim']} ({r['verdict']})" for r in rest),
            "tables/claims.md",
        )
    if not b.a.parts:
        b.todo("the main findings: themes, interpretations and inferences")


def _srqr17(b: _Build) -> None:
    q, cl = b.f("quotes"), b.f("claims")
    if q:
        b.part(
            f"{q['n']} passages substantiate the themes: " + ", ".join(f"{v} {k}" for k, v in q["kinds"].items()),
            "theme_quotes.csv",
        )
    if cl:
        b.part("Each finding in tables/claims.md lists the quotes and the figure it rests on", "tables/claims.md")
    if not b.a.parts:
        b.todo("the evidence (quotes, field notes, excerpts) that substantiates the findings")


def _srqr18(b: _Build) -> None:
    if not b.key("discussion", "Discussion"):
        b.todo(
            "how the findings connect to, support, elaborate on or challenge earlier work, their scope of "
            "application and the study's contribution (add `discussion` to study.yml)"
        )


def _srqr19(b: _Build) -> None:
    b.key("limitations", need="the limitations of the study")
    if b.f("claims"):
        b.part("Each finding's own caveat is stated beside it", "tables/claims.md")


def _srqr20(b: _Build) -> None:
    b.key("conflicts_of_interest", need="potential conflicts of interest and how they were managed")


def _srqr21(b: _Build) -> None:
    b.key("funding", need="sources of funding and the funders' role in the study")


def _keys(*spec: tuple[str, str | None]) -> Callable[[_Build], None]:
    """An item answered by study.yml keys: ``(key, need)``; a key with ``need`` is required."""

    def build(b: _Build) -> None:
        for key, need in spec:
            b.key(key, need=need)

    return build


def _team(fld: str, need: str) -> Callable[[_Build], None]:
    return lambda b: b.team(fld, need)


# --------------------------------------------------------------------------------------------------------------
# the items


@dataclass(frozen=True)
class Item:
    number: int
    domain: str
    topic: str
    question: str  # the guideline's own wording
    build: Callable[[_Build], None] = field(repr=False, compare=False)


_R, _D, _A = "Research team and reflexivity", "Study design", "Analysis and findings"

COREQ: list[Item] = [
    Item(1, _R, "Interviewer/facilitator", "Which author/s conducted the interview or focus group?", _coreq1),
    Item(
        2,
        _R,
        "Credentials",
        "What were the researcher's credentials? E.g. PhD, MD",
        _team("credentials", "the credentials"),
    ),
    Item(
        3,
        _R,
        "Occupation",
        "What was their occupation at the time of the study?",
        _team("occupation", "the occupation"),
    ),
    Item(4, _R, "Gender", "Was the researcher male or female?", _team("gender", "the gender")),
    Item(
        5,
        _R,
        "Experience and training",
        "What experience or training did the researcher have?",
        _team("experience", "the experience and training"),
    ),
    Item(
        6,
        _R,
        "Relationship established",
        "Was a relationship established prior to study commencement?",
        _team("relationship_with_participants", "the relationship with participants"),
    ),
    Item(
        7,
        _R,
        "Participant knowledge of the interviewer",
        "What did the participants know about the researcher? e.g. personal goals, reasons for doing the research",
        _coreq7,
    ),
    Item(
        8,
        _R,
        "Interviewer characteristics",
        "What characteristics were reported about the interviewer/facilitator? "
        "e.g. Bias, assumptions, reasons and interests in the research topic",
        _coreq8,
    ),
    Item(
        9,
        _D,
        "Methodological orientation and theory",
        "What methodological orientation was stated to underpin the "
        "study? e.g. grounded theory, discourse analysis, ethnography, phenomenology, content analysis",
        _coreq9,
    ),
    Item(
        10,
        _D,
        "Sampling",
        "How were participants selected? e.g. purposive, convenience, consecutive, snowball",
        _keys(("sampling.method", "how participants were selected")),
    ),
    Item(
        11,
        _D,
        "Method of approach",
        "How were participants approached? e.g. face-to-face, telephone, mail, email",
        _keys(("sampling.approach_to_participants", "how participants were approached")),
    ),
    Item(12, _D, "Sample size", "How many participants were in the study?", _coreq12),
    Item(
        13,
        _D,
        "Non-participation",
        "How many people refused to participate or dropped out? Reasons?",
        _keys(("sampling.non_participation", "how many refused or dropped out, and why")),
    ),
    Item(14, _D, "Setting of data collection", "Where was the data collected? e.g. home, clinic, workplace", _coreq14),
    Item(
        15,
        _D,
        "Presence of non-participants",
        "Was anyone else present besides the participants and researchers?",
        _keys(("data_collection.present_at_interviews", "who else was present at the interviews")),
    ),
    Item(
        16,
        _D,
        "Description of sample",
        "What are the important characteristics of the sample? e.g. demographic data, date",
        _coreq16,
    ),
    Item(
        17,
        _D,
        "Interview guide",
        "Were questions, prompts, guides provided by the authors? Was it pilot tested?",
        _coreq17,
    ),
    Item(18, _D, "Repeat interviews", "Were repeat interviews carried out? If yes, how many?", _coreq18),
    Item(
        19,
        _D,
        "Audio/visual recording",
        "Did the research use audio or visual recording to collect the data?",
        _keys(("data_collection.interviews.recording", "whether the interviews were recorded")),
    ),
    Item(20, _D, "Field notes", "Were field notes made during and/or after the interview or focus group?", _coreq20),
    Item(21, _D, "Duration", "What was the duration of the interviews or focus group?", _coreq21),
    Item(22, _D, "Data saturation", "Was data saturation discussed?", _coreq22),
    Item(
        23,
        _D,
        "Transcripts returned",
        "Were transcripts returned to participants for comment and/or correction?",
        _keys(("data_collection.interviews.transcripts_returned", "whether transcripts were returned")),
    ),
    Item(24, _A, "Number of data coders", "How many data coders coded the data?", _coreq24),
    Item(25, _A, "Description of the coding tree", "Did authors provide a description of the coding tree?", _coreq25),
    Item(26, _A, "Derivation of themes", "Were themes identified in advance or derived from the data?", _coreq26),
    Item(
        27,
        _A,
        "Software",
        "What software, if applicable, was used to manage the data?",
        _keys(("analysis.software", "the software used to manage the data")),
    ),
    Item(
        28,
        _A,
        "Participant checking",
        "Did participants provide feedback on the findings?",
        _keys(("analysis.participant_checking", "whether participants gave feedback on the findings")),
    ),
    Item(
        29,
        _A,
        "Quotations presented",
        "Were participant quotations presented to illustrate the themes/findings? "
        "Was each quotation identified? e.g. participant number",
        _coreq29,
    ),
    Item(
        30,
        _A,
        "Data and findings consistent",
        "Was there consistency between the data presented and the findings?",
        _coreq30,
    ),
    Item(31, _A, "Clarity of major themes", "Were major themes clearly presented in the findings?", _coreq31),
    Item(
        32,
        _A,
        "Clarity of minor themes",
        "Is there a description of diverse cases or discussion of minor themes?",
        _coreq32,
    ),
]

_T, _I, _M, _F, _X, _O = ("Title and abstract", "Introduction", "Methods", "Results/findings", "Discussion", "Other")

SRQR: list[Item] = [
    Item(
        1,
        _T,
        "Title",
        "Concise description of the nature and topic of the study; identifying the study as "
        "qualitative or indicating the approach (e.g., ethnography, grounded theory) or data collection methods "
        "(e.g., interview, focus group) is recommended",
        _srqr1,
    ),
    Item(
        2,
        _T,
        "Abstract",
        "Summary of key elements of the study using the abstract format of the intended "
        "publication; typically includes background, purpose, methods, results, and conclusions",
        _srqr2,
    ),
    Item(
        3,
        _I,
        "Problem formulation",
        "Description and significance of the problem/phenomenon studied; review of "
        "relevant theory and empirical work; problem statement",
        _srqr3,
    ),
    Item(4, _I, "Purpose or research question", "Purpose of the study and specific objectives or questions", _srqr4),
    Item(
        5,
        _M,
        "Qualitative approach and research paradigm",
        "Qualitative approach (e.g., ethnography, grounded "
        "theory, case study, phenomenology, narrative research) and guiding theory if appropriate; identifying the "
        "research paradigm (e.g., postpositivist, constructivist/interpretivist) is also recommended; rationale",
        _srqr5,
    ),
    Item(
        6,
        _M,
        "Researcher characteristics and reflexivity",
        "Researchers' characteristics that may influence the "
        "research, including personal attributes, qualifications/experience, relationship with participants, "
        "assumptions, and/or presuppositions; potential or actual interaction between researchers' characteristics "
        "and the research questions, approach, methods, results, and/or transferability",
        _srqr6,
    ),
    Item(
        7,
        _M,
        "Context",
        "Setting/site and salient contextual factors; rationale",
        _keys(("setting", "the setting and its salient contextual factors")),
    ),
    Item(
        8,
        _M,
        "Sampling strategy",
        "How and why research participants, documents, or events were selected; "
        "criteria for deciding when no further sampling was necessary (e.g., sampling saturation); rationale",
        _srqr8,
    ),
    Item(
        9,
        _M,
        "Ethical issues pertaining to human subjects",
        "Documentation of approval by an appropriate ethics "
        "review board and participant consent, or explanation for lack thereof; other confidentiality and data "
        "security issues",
        _srqr9,
    ),
    Item(
        10,
        _M,
        "Data collection methods",
        "Types of data collected; details of data collection procedures "
        "including (as appropriate) start and stop dates of data collection and analysis, iterative process, "
        "triangulation of sources/methods, and modification of procedures in response to evolving study findings; "
        "rationale",
        _srqr10,
    ),
    Item(
        11,
        _M,
        "Data collection instruments and technologies",
        "Description of instruments (e.g., interview "
        "guides, questionnaires) and devices (e.g., audio recorders) used for data collection; if/how the "
        "instrument(s) changed over the course of the study",
        _srqr11,
    ),
    Item(
        12,
        _M,
        "Units of study",
        "Number and relevant characteristics of participants, documents, or events "
        "included in the study; level of participation (could be reported in results)",
        _srqr12,
    ),
    Item(
        13,
        _M,
        "Data processing",
        "Methods for processing data prior to and during analysis, including "
        "transcription, data entry, data management and security, verification of data integrity, data coding, and "
        "anonymization/de-identification of excerpts",
        _srqr13,
    ),
    Item(
        14,
        _M,
        "Data analysis",
        "Process by which inferences, themes, etc., were identified and developed, "
        "including the researchers involved in data analysis; usually references a specific paradigm or approach; "
        "rationale",
        _srqr14,
    ),
    Item(
        15,
        _M,
        "Techniques to enhance trustworthiness",
        "Techniques to enhance trustworthiness and credibility of "
        "data analysis (e.g., member checking, audit trail, triangulation); rationale",
        _srqr15,
    ),
    Item(
        16,
        _F,
        "Synthesis and interpretation",
        "Main findings (e.g., interpretations, inferences, and themes); "
        "might include development of a theory or model, or integration with prior research or theory",
        _srqr16,
    ),
    Item(
        17,
        _F,
        "Links to empirical data",
        "Evidence (e.g., quotes, field notes, text excerpts, photographs) to substantiate analytic findings",
        _srqr17,
    ),
    Item(
        18,
        _X,
        "Integration with prior work, implications, transferability, and contribution(s) to the field",
        "Short summary of main findings; explanation of how findings and conclusions connect to, support, elaborate "
        "on, or challenge conclusions of earlier scholarship; discussion of scope of application/generalizability; "
        "identification of unique contribution(s) to scholarship in a discipline or field",
        _srqr18,
    ),
    Item(19, _X, "Limitations", "Trustworthiness and limitations of findings", _srqr19),
    Item(
        20,
        _O,
        "Conflicts of interest",
        "Potential sources of influence or perceived influence on study conduct "
        "and conclusions; how these were managed",
        _srqr20,
    ),
    Item(
        21,
        _O,
        "Funding",
        "Sources of funding and other support; role of funders in data collection, interpretation, and reporting",
        _srqr21,
    ),
]

CHECKLISTS = {"COREQ": COREQ, "SRQR": SRQR}


def answer(item: Item, study: dict, facts: dict) -> Answer:
    """The answer to one item from the study facts and the facts computed from the data."""
    b = _Build(study or {}, facts or {})
    item.build(b)
    return b.a


def answers(items: list[Item], study: dict, facts: dict) -> dict[int, Answer]:
    return {it.number: answer(it, study, facts) for it in items}


def for_authors(items: list[Item], study: dict, facts: dict) -> list[int]:
    """Item numbers marked ``AUTHORS TO COMPLETE``."""
    return [n for n, a in answers(items, study, facts).items() if a.for_authors]


not_reported = for_authors  # the name of earlier versions


def summary(name: str, items: list[Item], study: dict, facts: dict) -> str:
    """``COREQ: 30 of 32 items answered from the data; 2 for the authors (items 8, 32)``."""
    todo = for_authors(items, study, facts)
    done = len(items) - len(todo)
    tail = f" (item{'s' if len(todo) != 1 else ''} {', '.join(map(str, todo))})" if todo else ""
    return f"{name}: {done} of {len(items)} items answered from the data; {len(todo)} for the authors{tail}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(name: str, items: list[Item], study: dict, facts: dict) -> str:
    """The checklist in Markdown: the count of answered items, then each item with its number, topic and question,
    the answer, and its source."""
    lines = [f"# {name} checklist", ""]
    if study.get("synthetic"):
        lines += [
            (
                "> **Synthetic corpus.** These answers describe the fictitious study of the compendium's "
                "synthetic corpus, not the published study."
            ),
            "",
        ]
    lines += [
        f"**{summary(name, items, study, facts)}.**",
        "",
        (
            f"Items and their wording: {CITATIONS.get(name, name)} Each answer is taken from the source named "
            f"beside it (a `study.yml` key, a raw or derived file, a figure); what no source answers, or what "
            f"the data contradict, is marked `{MARK}`."
        ),
        "",
    ]
    domain = None
    res = answers(items, study, facts)
    for it in items:
        if it.domain != domain:
            lines += ["", f"## {it.domain}", "", "| # | Item | Answer | Source |", "|---|---|---|---|"]
            domain = it.domain
        a = res[it.number]
        lines.append(
            f"| {it.number} | **{_cell(it.topic)}**: *{_cell(it.question)}* | {_cell(a.text)} | {_cell(a.source)} |"
        )
    return "\n".join(lines).strip() + "\n"
