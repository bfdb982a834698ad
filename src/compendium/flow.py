"""Information flow as evidence: each measure of who answers whom set beside two references of the same size.

The study's finding that knowledge sharing in WITI is *decentralised* and that teacher and learner roles are
*fluid* is a claim about a pattern. A number alone ("12 members both ask and answer") cannot support it: it must
be set against what the number would have been in a community that is *not* like that. Here every measure is
computed three ways (:func:`evidence`):

``observed``
    on the community's answer-type replies (acts ``answer`` and ``elaboration``, :mod:`compendium.acts`);
``centralised``
    on a **tutor-led counterfactual** of the same size (:func:`centralised`): the same members, the same questions
    and the same number of answers to each, but a few tutors (:data:`TUTOR_SHARE` of the members, at least two)
    give each answer with probability :data:`TUTOR_ANSWERS` (the mildest tutor-led community: see there), and
    tutors ask nothing. What the measure reads in a
    community where the claim is false. Median and 95% interval over :data:`COUNTERFACTUAL_DRAWS` seeded draws.
``random``
    under a **degree-preserving randomisation** (:func:`randomise`): answerers are swapped between answers, two at
    a time, as in a double edge swap on the bipartite graph of members and the posts they answer, so that every
    member gives as many answers as observed and every post receives as many; a swap that would make someone
    answer their own post is refused. 1,000 seeded draws, 95% interval. What the measure reads by chance *given
    how active each member is*.

A measure that the randomisation keeps fixed by construction (anything computed from how many answers each
member gives: the concentration measures) has an interval of zero width there: the evidence table says so
(``random_informative`` false), and that measure is judged against the counterfactual only. Latency is a
property of time, not of who answers whom: neither reference changes it, and none is reported.

Measures (:data:`MEASURES`): Freeman degree centralisation of the answer network, in and out; the share of
answers given by the most active 10% of members; the Gini coefficient of answers given; the share of members who
both ask and answer (thanks are not answers), and the share of answers given by members who also ask; the share of answers to a question given by a member of the same or
a lower year than the asker (where both are interview participants: how many are unknown is counted); the median
reply latency in hours (where both timestamps allow it); and the share of question threads in which three or
more members give answer-type replies.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from . import concentration
from .acts import ANSWER_ACTS
from .corpus import posts_frame
from .network import is_anonymous

SEED = 2107
RANDOM_DRAWS = 1000
COUNTERFACTUAL_DRAWS = 200
TUTOR_SHARE = 0.08  # of the members, at least MIN_TUTORS
MIN_TUTORS = 2
# Probability that an answer in the counterfactual comes from a tutor. Deliberately the *mildest* community one
# would still call tutor-led (tutors give most answers, three in five): a value that reads "unlike tutor-led"
# against it is unlike any more tutor-led community too, and a corpus where tutors give almost every answer
# reads "like tutor-led" (tests/test_flow.py, the centralised scenario).
TUTOR_ANSWERS = 0.6
TOP_FRACTION = 0.1
BUILDERS = 3  # members giving answer-type replies in one thread for it to count as built together

# measure -> (label, which direction reads as decentralised/collaborative/fluid: "lower" or "higher"; "" where a
# tutor-led community predicts nothing: tutors answering everyone spreads answers *received* evenly, so in-degree
# centralisation is low there too, and latency is a matter of time, not of who answers)
MEASURES: dict[str, tuple[str, str]] = {
    "freeman_in": ("Freeman degree centralisation of answers received (in)", ""),
    "freeman_out": ("Freeman degree centralisation of answers given (out)", "lower"),
    "top10_share": ("share of answers given by the most active 10% of members", "lower"),
    "gini_answers": ("Gini coefficient of answers given per member", "lower"),
    "share_both": ("share of active members who both ask and answer", "higher"),
    "answers_by_askers": ("share of answers given by members who also ask questions", "higher"),
    "share_same_or_lower_year": (
        "share of answers to questions given by a member of the same or a lower year",
        "higher",
    ),
    "latency_median_hours": ("median reply latency of answers, hours", ""),
    "share_threads_built": (f"share of question threads where {BUILDERS}+ members give answer-type replies", "higher"),
}
EVIDENCE_COLUMNS = [
    "measure",
    "label",
    "observed",
    "n",
    "unknown",
    "centralised",
    "centralised_low",
    "centralised_high",
    "random_low",
    "random_high",
    "random_informative",
    "reads",
]
ANSWER_COLUMNS = ["post_id", "answerer", "asker", "thread_id", "answered_post_id", "act"]


@dataclass(frozen=True)
class Community:
    """What the measures read: answer-type replies (one row each), who asked (member per question post), every
    member, each member's year of study where known, and each answer's latency in hours where known."""

    answers: pd.DataFrame  # ANSWER_COLUMNS
    questions: pd.DataFrame  # post_id, asker, thread_id
    members: tuple[str, ...]
    years: dict
    latency: pd.Series  # hours, indexed by answer post_id; NaN where unknown


def community(posts: pd.DataFrame, acts: pd.DataFrame, participants: pd.DataFrame | None = None) -> Community:
    """The community's answers and questions from ``posts.csv`` and the acts (``post_id, act``). Answers by
    anonymous members or to oneself give no answer row; an answer to an anonymous post or to a post not captured
    is kept with an empty ``asker`` (it counts as an answer given, but is no tie between members)."""
    p = posts_frame(posts)
    act = dict(zip(acts["post_id"].astype(str), acts["act"].astype(str)))
    author = dict(zip(p["post_id"], p["author"]))
    named = p[~p["author"].map(is_anonymous)]
    members = tuple(sorted(set(named["author"]) - {""}))
    rows, lat = [], {}
    for r in p.itertuples(index=False):
        if act.get(r.post_id) not in ANSWER_ACTS or r.depth == 0 or is_anonymous(r.author):
            continue
        target = author.get(r.parent_post_id, "")  # a parent not captured: an answer given, to nobody we know
        if target == r.author:
            continue
        target = "" if is_anonymous(target) else target  # an answer given, to nobody the network can name
        rows.append(
            {
                "post_id": r.post_id,
                "answerer": r.author,
                "asker": target,
                "thread_id": r.thread_id,
                "answered_post_id": r.parent_post_id,
                "act": act[r.post_id],
            }
        )
    answers = pd.DataFrame(rows, columns=ANSWER_COLUMNS)
    by_id = p.set_index("post_id")
    for r in answers.itertuples(index=False):
        known = r.answered_post_id in by_id.index
        lat[r.post_id] = latency_hours(by_id.loc[r.answered_post_id], by_id.loc[r.post_id]) if known else math.nan
    q = p[p["post_id"].map(act).eq("question")]
    # an anonymous question is a question (its thread counts), asked by nobody the network can name
    questions = pd.DataFrame(
        {
            "post_id": q["post_id"],
            "asker": ["" if is_anonymous(x) else x for x in q["author"]],
            "thread_id": q["thread_id"],
        }
    )
    years = {}
    if participants is not None and len(participants):
        for r in participants.itertuples(index=False):
            y = pd.to_numeric(getattr(r, "year_of_study", None), errors="coerce")
            if not pd.isna(y):
                years[str(r.pseudonym)] = int(y)
    return Community(answers, questions.reset_index(drop=True), members, years, pd.Series(lat, dtype=float))


_RELATIVE = re.compile(r"^\s*(\d+)\s*(m|min|h|hr|d|w)\s*$", re.I)
_ABSOLUTE = re.compile(r"^\s*(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{4}),?\s+(\d{1,2}):(\d{2})\s*$")
_HOURS = {"m": 1 / 60, "min": 1 / 60, "h": 1.0, "hr": 1.0}


def latency_hours(parent, reply) -> float:
    """Hours from a post to its reply when both times are precise to the hour or better: both relative ("2h",
    "35m") on the same screenshot, or both absolute with a clock time ("12 Mar 2023, 21:14"). Otherwise (days,
    dates without a time, different captures) NaN: unknown, never guessed."""
    a, b = str(parent["timestamp"]), str(reply["timestamp"])
    ra, rb = _RELATIVE.match(a), _RELATIVE.match(b)
    if ra and rb:
        ua, ub = ra.group(2).lower(), rb.group(2).lower()
        if ua in _HOURS and ub in _HOURS and parent["screenshot_id"] == reply["screenshot_id"]:
            return max(0.0, int(ra.group(1)) * _HOURS[ua] - int(rb.group(1)) * _HOURS[ub])
        return math.nan
    aa, ab = _ABSOLUTE.match(a), _ABSOLUTE.match(b)
    if aa and ab:
        try:
            ta = pd.Timestamp(f"{aa.group(1)} {aa.group(2)} {aa.group(3)} {aa.group(4)}:{aa.group(5)}")
            tb = pd.Timestamp(f"{ab.group(1)} {ab.group(2)} {ab.group(3)} {ab.group(4)}:{ab.group(5)}")
        except ValueError:
            return math.nan
        return max(0.0, (tb - ta).total_seconds() / 3600)
    return math.nan


def answer_graph(answers: pd.DataFrame, members) -> nx.DiGraph:
    """Directed graph answerer -> asker (distinct pairs between named members), every member a node."""
    g = nx.DiGraph()
    g.add_nodes_from(members)
    named = answers[answers["asker"].astype(str).ne("")]
    g.add_edges_from(zip(named["answerer"], named["asker"]))
    return g


@dataclass(frozen=True)
class _Arrays:
    """A community as integer arrays (members numbered in ``Community.members`` order; -1: no member), so that
    thousands of draws are measured quickly. :func:`measures` is the readable definition; the tests check that
    both give the same values."""

    n: int
    answerer: np.ndarray
    asker: np.ndarray
    thread: np.ndarray
    to_question: np.ndarray
    question_asker: np.ndarray
    question_threads: int
    in_question_thread: np.ndarray
    years: np.ndarray


def _encode(c: Community, answers: pd.DataFrame, questions: pd.DataFrame) -> _Arrays:
    index = {m: i for i, m in enumerate(c.members)}
    threads = {t: i for i, t in enumerate(sorted(set(answers["thread_id"]) | set(questions["thread_id"])))}
    qthreads = set(questions["thread_id"]) - {""}
    return _Arrays(
        n=len(c.members),
        answerer=np.array([index.get(m, -1) for m in answers["answerer"]], dtype=np.int64),
        asker=np.array([index.get(m, -1) for m in answers["asker"]], dtype=np.int64),
        thread=np.array([threads[t] for t in answers["thread_id"]], dtype=np.int64),
        to_question=answers["answered_post_id"].isin(set(questions["post_id"])).to_numpy(),
        question_asker=np.array([index.get(m, -1) for m in questions["asker"]], dtype=np.int64),
        question_threads=len(qthreads),
        in_question_thread=answers["thread_id"].isin(qthreads).to_numpy(),
        years=np.array([c.years.get(m, np.nan) for m in c.members], dtype=float),
    )


def _freeman(degrees: np.ndarray) -> float:
    n = degrees.size
    return float((degrees.max() - degrees).sum() / ((n - 1) ** 2)) if n >= 2 else math.nan


def _fast(e: _Arrays, answerer: np.ndarray, asker: np.ndarray, question_asker: np.ndarray) -> dict[str, float]:
    """The measures of :func:`measures` (all but latency) on arrays."""
    n = e.n
    tie = (asker >= 0) & (answerer != asker)
    pairs = np.unique(answerer[tie] * n + asker[tie])
    out_deg = np.bincount(pairs // n, minlength=n)
    in_deg = np.bincount(pairs % n, minlength=n)
    given = np.bincount(answerer, minlength=n)
    askers = set(np.unique(question_asker[question_asker >= 0]).tolist())
    answerers = set(np.unique(answerer).tolist())
    active = askers | answerers
    q = e.to_question & (asker >= 0)
    ya, yq = e.years[answerer[q]], e.years[asker[q]]
    known = ~(np.isnan(ya) | np.isnan(yq))
    built = np.unique(e.thread[e.in_question_thread] * n + answerer[e.in_question_thread]) // n
    per_thread = np.bincount(built) if built.size else np.zeros(0, dtype=np.int64)
    return {
        "freeman_in": _freeman(in_deg),
        "freeman_out": _freeman(out_deg),
        "top10_share": concentration.top_share(given, TOP_FRACTION),
        "gini_answers": concentration.gini(given),
        "share_both": len(askers & answerers) / len(active) if active else math.nan,
        "answers_by_askers": (float(given[sorted(askers)].sum() / given.sum()) if given.sum() else math.nan),
        "share_same_or_lower_year": float((ya[known] <= yq[known]).mean()) if known.any() else math.nan,
        "share_threads_built": (
            float((per_thread >= BUILDERS).sum() / e.question_threads) if e.question_threads else math.nan
        ),
    }


def _answers_given(answers: pd.DataFrame, members) -> list[int]:
    counts = answers["answerer"].value_counts()
    return [int(counts.get(m, 0)) for m in members]


def measures(
    c: Community, answers: pd.DataFrame | None = None, questions: pd.DataFrame | None = None
) -> dict[str, tuple[float, int, int]]:
    """``{measure: (value, n, unknown)}`` on the community, or on ``answers``/``questions`` put in its place (a
    counterfactual). ``n`` is what the value is computed over, ``unknown`` what had to be left out (years or
    times not known). The readable definition of every measure (draws use :func:`_fast`, tested equal)."""
    a = c.answers if answers is None else answers
    q = c.questions if questions is None else questions
    g = answer_graph(a, c.members)
    given = _answers_given(a, c.members)
    askers, answerers = set(q["asker"]) - {""}, set(a["answerer"])
    active = askers | answerers
    out = {
        "freeman_in": (concentration.freeman_centralisation(g, "in"), len(g), 0),
        "freeman_out": (concentration.freeman_centralisation(g, "out"), len(g), 0),
        "top10_share": (concentration.top_share(given, TOP_FRACTION), len(given), 0),
        "gini_answers": (concentration.gini(given), len(given), 0),
        "share_both": (len(askers & answerers) / len(active) if active else math.nan, len(active), 0),
        "answers_by_askers": (float(a["answerer"].isin(askers).mean()) if len(a) else math.nan, len(a), 0),
    }
    to_q = a[a["answered_post_id"].isin(set(q["post_id"])) & a["asker"].astype(str).ne("")]
    ya, yq = to_q["answerer"].map(c.years), to_q["asker"].map(c.years)
    known = ya.notna() & yq.notna()
    out["share_same_or_lower_year"] = (
        float((ya[known] <= yq[known]).mean()) if known.any() else math.nan,
        int(known.sum()),
        int((~known).sum()),
    )
    lat = c.latency.reindex(a["post_id"]) if answers is None else pd.Series(dtype=float)
    lat_known = lat.dropna()
    out["latency_median_hours"] = (
        float(lat_known.median()) if len(lat_known) else math.nan,
        len(lat_known),
        int(lat.isna().sum()),
    )
    qthreads = set(q["thread_id"]) - {""}
    builders = a[a["thread_id"].isin(qthreads)].groupby("thread_id")["answerer"].nunique()
    out["share_threads_built"] = (
        float((builders >= BUILDERS).sum() / len(qthreads)) if qthreads else math.nan,
        len(qthreads),
        0,
    )
    return out


def tutors_for(members, rng: np.random.Generator, years: dict | None = None) -> list[str]:
    """The counterfactual's tutors: :data:`TUTOR_SHARE` of the members (at least :data:`MIN_TUTORS`), the most
    senior first where years of study are known (a tutor-led community is taught by its seniors), the rest
    drawn at random."""
    k = min(len(members), max(MIN_TUTORS, round(TUTOR_SHARE * len(members))))
    years = years or {}
    order = sorted(members, key=lambda m: (-years.get(m, -1), rng.random()))
    return sorted(order[:k])


def centralised(c: Community, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One draw of the tutor-led counterfactual (module docstring): (answers, questions) of the same size."""
    members = list(c.members)
    tutors = set(tutors_for(members, rng, c.years))
    learners = [m for m in members if m not in tutors] or members
    q = c.questions.copy()
    q["asker"] = [m if m not in tutors else learners[int(rng.integers(len(learners)))] for m in q["asker"]]
    asker_of = dict(zip(q["post_id"], q["asker"]))
    a = c.answers.copy()
    a["asker"] = [asker_of.get(pid, who) for pid, who in zip(a["answered_post_id"], a["asker"])]
    tutor_list = sorted(tutors)
    new = []
    for target in a["asker"]:
        pool = tutor_list if rng.random() < TUTOR_ANSWERS else learners
        pool = [m for m in pool if m != target] or [m for m in members if m != target]
        new.append(pool[int(rng.integers(len(pool)))])
    a["answerer"] = new
    return a, q


def randomise(
    answerer: np.ndarray, asker: np.ndarray, rng: np.random.Generator, swaps: int | None = None
) -> np.ndarray:
    """One degree-preserving draw: ``swaps`` (default ten per answer) double swaps of answerers between two
    answers, each refused when it would make a member answer their own post. Every member keeps the number of
    answers they give and every post the number it receives. Returns the new answerer of each answer."""
    who = answerer.copy()
    n = len(who)
    if n < 2:
        return who
    swaps = 10 * n if swaps is None else swaps
    for i, j in rng.integers(0, n, size=(swaps, 2)):
        if i != j and who[i] != asker[j] and who[j] != asker[i]:
            who[i], who[j] = who[j], who[i]
    return who


def _interval(values: list[float]) -> tuple[float, float]:
    v = np.array([x for x in values if not math.isnan(x)], dtype=float)
    if not len(v):
        return math.nan, math.nan
    return float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))


def evidence(
    c: Community, seed: int = SEED, draws: int = RANDOM_DRAWS, counterfactual_draws: int = COUNTERFACTUAL_DRAWS
) -> pd.DataFrame:
    """flow_evidence.csv: per measure the observed value, the centralised counterfactual (median, 95% interval)
    and the randomisation's 95% interval, and how the observed value reads against them (:func:`reads`)."""
    observed = measures(c)
    rng = np.random.default_rng(seed)
    cf: dict[str, list[float]] = {m: [] for m in MEASURES}
    for _ in range(counterfactual_draws):
        a, q = centralised(c, rng)
        e = _encode(c, a, q)
        for m, v in _fast(e, e.answerer, e.asker, e.question_asker).items():
            cf[m].append(v)
    rnd: dict[str, list[float]] = {m: [] for m in MEASURES}
    e = _encode(c, c.answers, c.questions)
    rng = np.random.default_rng(seed + 1)
    for _ in range(draws):
        for m, v in _fast(e, randomise(e.answerer, e.asker, rng), e.asker, e.question_asker).items():
            rnd[m].append(v)
    rows = []
    for m, (label, direction) in MEASURES.items():
        value, n, unknown = observed[m]
        cf_vals = [x for x in cf.get(m, []) if not math.isnan(x)]
        lo, hi = _interval(cf_vals) if cf_vals else (math.nan, math.nan)
        rlo, rhi = _interval(rnd.get(m, []))
        fixed = not math.isnan(rlo) and rhi - rlo <= 1e-12 and abs(rlo - value) <= 1e-12
        row = {
            "measure": m,
            "label": label,
            "observed": value,
            "n": n,
            "unknown": unknown,
            "centralised": float(np.median(cf_vals)) if cf_vals else math.nan,
            "centralised_low": lo,
            "centralised_high": hi,
            "random_low": rlo,
            "random_high": rhi,
            "random_informative": not (math.isnan(rlo) or fixed),
        }
        row["reads"] = reads(row, direction)
        rows.append(row)
    return pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)


def evidence_with_labels(
    posts: pd.DataFrame,
    classified: pd.DataFrame,
    labels: pd.DataFrame | None,
    participants: pd.DataFrame | None = None,
    seed: int = SEED,
    draws: int = RANDOM_DRAWS,
) -> pd.DataFrame:
    """``flow_evidence_hand.csv``: :func:`evidence` of the community built with the hand-assigned act in place of
    the rules' on every labelled post (:func:`compendium.acts.with_labels`), with the same seeds; an empty table
    (with its columns) when there are no hand labels, so that :func:`sensitivity` says *not measured*."""
    from .acts import with_labels

    if labels is None or labels.empty:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    return evidence(community(posts, with_labels(classified, labels), participants), seed=seed, draws=draws)


SENSITIVITY_COLUMNS = ["measure", "observed", "observed_hand", "reads", "reads_hand", "same_reading", "hand_labelled"]


def sensitivity(evidence_rules: pd.DataFrame, evidence_hand: pd.DataFrame, hand_labelled: int) -> pd.DataFrame:
    """Each measure as the rules' acts give it (``evidence_rules``, ``flow_evidence.csv``) beside the same measure
    with the hand-assigned acts in their place (``evidence_hand``, ``flow_evidence_hand.csv``: :func:`evidence` of
    the community built from :func:`compendium.acts.with_labels`, ``hand_labelled`` posts), each read against its
    own counterfactual and randomisation. A reading that changes is a finding that hangs on the classifier's
    errors. Without hand labels the table is empty (with its columns): the sensitivity is then not measured."""
    if not hand_labelled or evidence_hand is None or evidence_hand.empty:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    hand = evidence_hand.set_index("measure")
    rows = []
    for r in evidence_rules.itertuples(index=False):
        h = hand.loc[r.measure]
        rows.append(
            {
                "measure": r.measure,
                "observed": r.observed,
                "observed_hand": h["observed"],
                "reads": r.reads,
                "reads_hand": h["reads"],
                "same_reading": r.reads == h["reads"],
                "hand_labelled": int(hand_labelled),
            }
        )
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


def reads(row: dict, direction: str) -> str:
    """How an observed value reads against the counterfactual: 'unlike tutor-led' (outside its interval on the
    decentralised side), 'like tutor-led' (inside it or beyond it), 'no reference' (the counterfactual predicts
    nothing for it) or 'unknown' (a value could not be computed)."""
    v, lo, hi = row["observed"], row["centralised_low"], row["centralised_high"]
    if not direction:
        return "no reference"
    if any(math.isnan(x) for x in (v, lo, hi)):
        return "unknown"
    beyond = v < lo if direction == "lower" else v > hi
    return "unlike tutor-led" if beyond else "like tutor-led"
