"""The claims table: each finding of the article beside the evidence the derived data hold, what would have
contradicted it, and the caveat.

A qualitative finding is an interpretation; a compendium cannot prove it. What it can do is show which traces
bear on it, set each against what it would have read if the finding were false, and say plainly when the data
do not support it. Every row is computed from ``data/derived`` (nothing typed in), and its ``verdict`` is one of
:data:`VERDICTS`: the same code on a tutor-led corpus (``compendium synth --scenario centralised``) says
"not supported" for decentralisation and fluid roles.

Findings (:func:`claims`):

- the three themes (T1-T3): present across participants and kinds of source, carried by more than one code;
- learners shaping the platform and practices patterned by its affordances (symmetry): learner-agency codes
  and affordance codes on the same unit, beside a permutation null; co-occurrence has no direction, so the
  symmetry itself is at most *partly* shown;
- decentralised, collaborative, self-regulated knowledge sharing: concentration and collaboration measures of
  ``flow_evidence.csv`` beside the tutor-led counterfactual; self-regulation from correction codes, descriptive;
- fluid, non-exclusive teacher and learner roles: members who both ask and answer, beside the counterfactual.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

VERDICTS = ("supported", "partly supported", "not supported", "not measured")
CLAIM_COLUMNS = [
    "finding",
    "claim",
    "evidence",
    "reference",
    "verdict",
    "would_contradict",
    "figure",
    "quotes",
    "caveat",
]
AGENCY_CODES = ("AGENCY", "SYMM")
SEED = 2107
NULL_DRAWS = 1000
MIN_SHARE_PARTICIPANTS = 0.5


def source_kinds(segments: pd.DataFrame, posts: pd.DataFrame) -> dict[str, str]:
    """``{source_id: kind}``: interview or fieldnote (``segments.csv``'s ``source_type``), screenshot for a page."""
    kinds = dict(zip(segments["source_id"].astype(str), segments["source_type"].astype(str)))
    kinds.update({str(s): "screenshot" for s in posts["screenshot_id"]})
    return kinds


def _f(x, digits: int = 2) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(v) else f"{v:.{digits}f}"


def theme_rows(
    themes: pd.DataFrame,
    coding: pd.DataFrame,
    code_theme: dict[str, str],
    quotes: pd.DataFrame,
    n_participants: int,
    kinds: dict[str, str],
) -> list[dict]:
    """One row per theme: units, sources by kind, participants, codes carrying it, exemplar quote ids."""
    c = coding.assign(
        theme=coding["code_id"].map(code_theme), kind=coding["source_id"].astype(str).map(kinds).fillna("other")
    )
    rows = []
    for r in themes.itertuples(index=False):
        mine = c[c["theme"] == r.theme]
        kinds = mine.groupby("kind")["source_id"].nunique().to_dict()
        per_code = mine.groupby("code_id").size()
        top_share = float(per_code.max() / per_code.sum()) if len(per_code) else math.nan
        share = int(r.n_participants) / n_participants if n_participants else math.nan
        ok = not math.isnan(share) and share >= MIN_SHARE_PARTICIPANTS and len(kinds) >= 2 and len(per_code) >= 2
        q = quotes[quotes["theme"] == r.theme]["unit_id"].astype(str).head(3).tolist()
        rows.append(
            {
                "finding": r.theme,
                "claim": f"{r.theme} {r.label}",
                "evidence": (
                    f"{int(r.n_units)} coded units in {int(r.n_sources)} sources ("
                    + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
                    + f"); {int(r.n_participants)} of {n_participants} interviewees; {len(per_code)} codes, "
                    f"the largest carrying {_f(top_share * 100, 0)}% of its units"
                ),
                "reference": (
                    f"present for at least {MIN_SHARE_PARTICIPANTS:.0%} of interviewees, in two or more kinds of "
                    "source, carried by more than one code"
                ),
                "verdict": "supported" if ok else "not supported",
                "would_contradict": "the theme's codes applied for few interviewees, in one kind of source, or by one code",
                "figure": "fig1_theme_prevalence",
                "quotes": "; ".join(q),
                "caveat": (
                    "prevalence shows that a theme was coded, not that it is true; themes are constructed by the "
                    "analysts (codebook history)"
                ),
            }
        )
    return rows


def cooccurrence_null(
    coding: pd.DataFrame, a_codes, b_prefix: str = "AFF", seed: int = SEED, draws: int = NULL_DRAWS
) -> tuple[int, float, float, int]:
    """Units carrying a code of ``a_codes`` and a code starting with ``b_prefix``: observed count, and the 95%
    interval when each code's units are redrawn at random among all coded units (each code keeps its number of
    units). Returns (observed, low, high, units)."""
    units = sorted(set(coding["unit_id"].astype(str)))
    index = {u: i for i, u in enumerate(units)}
    codes = sorted(set(coding["code_id"]))
    mat = {code: np.zeros(len(units), dtype=bool) for code in codes}
    for u, code in zip(coding["unit_id"].astype(str), coding["code_id"]):
        mat[code][index[u]] = True
    a = [c for c in codes if c in set(a_codes)]
    b = [c for c in codes if c.startswith(b_prefix) and c not in a]
    if not a or not b or not units:
        return 0, math.nan, math.nan, len(units)

    def count(cols: dict) -> int:
        return int((np.any([cols[c] for c in a], axis=0) & np.any([cols[c] for c in b], axis=0)).sum())

    observed = count(mat)
    rng = np.random.default_rng(seed)
    null = [count({c: rng.permutation(mat[c]) for c in a + b}) for _ in range(draws)]
    return observed, float(np.percentile(null, 2.5)), float(np.percentile(null, 97.5)), len(units)


def _ev(evidence: pd.DataFrame, measure: str) -> dict:
    row = evidence[evidence["measure"] == measure]
    return row.iloc[0].to_dict() if len(row) else {}


def _against(e: dict) -> str:
    if not e:
        return "n/a"
    txt = f"{_f(e.get('observed'))} (tutor-led {_f(e.get('centralised_low'))}-{_f(e.get('centralised_high'))}"
    if str(e.get("random_informative")).lower() == "true":
        txt += f"; chance {_f(e.get('random_low'))}-{_f(e.get('random_high'))}"
    return txt + ")"


def _unlike(e: dict) -> bool:
    return bool(e) and e.get("reads") == "unlike tutor-led"


def claims(
    themes: pd.DataFrame,
    coding: pd.DataFrame,
    code_theme: dict[str, str],
    quotes: pd.DataFrame,
    n_participants: int,
    evidence: pd.DataFrame,
    kinds: dict[str, str],
    act_quality: pd.DataFrame | None = None,
    ocr_quality: pd.DataFrame | None = None,
    synthetic: bool = False,
    evidence_hand: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The claims table (module docstring), computed from the derived tables; ``kinds`` is
    :func:`source_kinds`. ``evidence_hand`` is ``flow_evidence_hand.csv`` (the flow evidence with the hand-assigned
    acts in place of the rules'): the flow findings' caveats then say whether their verdicts hang on the
    classifier's errors."""
    hand_labelled = 0
    rows = theme_rows(themes, coding, code_theme, quotes, n_participants, kinds)
    base = "Synthetic corpus: the table shows the method, not the study's results. " if synthetic else ""
    macro = math.nan
    if act_quality is not None and len(act_quality):
        m = act_quality[act_quality["act"] == "macro"]
        macro = float(m["f1"].iloc[0]) if len(m) else math.nan
        hand_labelled = int(m["support"].iloc[0]) if len(m) else 0
    cer = math.nan
    if ocr_quality is not None and len(ocr_quality) and "cer" in ocr_quality:
        cer = float(pd.to_numeric(ocr_quality["cer"], errors="coerce").mean())
    flow_caveat = (
        base + f"A sample of screenshots read by OCR (mean character error {_f(cer * 100, 1)}%); "
        f"reply acts from rules (macro-F1 {_f(macro)} against hand labels, in-sample)"
    )

    obs, lo, hi, n_units = cooccurrence_null(coding, AGENCY_CODES)
    sym_q = (
        quotes[
            quotes["codes"].astype(str).str.contains("AGENCY|SYMM") & quotes["codes"].astype(str).str.contains("AFF")
        ]["unit_id"]
        .astype(str)
        .head(3)
        .tolist()
    )
    above = not math.isnan(hi) and obs > hi
    rows.append(
        {
            "finding": "symmetry",
            "claim": "learners shape the use of the platform and their practices are patterned by its affordances",
            "evidence": f"{obs} of {n_units} coded units carry a learner-agency code ({', '.join(AGENCY_CODES)}) and an "
            "affordance code (AFF*)",
            "reference": f"units expected by chance: {_f(lo, 0)}-{_f(hi, 0)} (each code's units redrawn, {NULL_DRAWS} draws)",
            "verdict": "partly supported" if above else "not supported",
            "would_contradict": "agency and affordance codes meeting no more often than chance",
            "figure": "fig6_cooccurrence",
            "quotes": "; ".join(sym_q),
            "caveat": base
            + (
                "Co-occurrence has no direction: it shows the two are discussed together, not that "
                "each shapes the other; the symmetry rests on the analysts' reading of the quotes"
            ),
        }
    )

    conc = [_ev(evidence, m) for m in CONCENTRATION]
    built = _ev(evidence, "share_threads_built")
    verdict = decentral_verdict(evidence)
    hand_note = _hand_note(decentral_verdict, verdict, evidence_hand, hand_labelled)
    corrections = int(coding["code_id"].isin(["CORRECT", "NORMS", "MODERATE"]).sum())
    rows.append(
        {
            "finding": "decentralised",
            "claim": "knowledge sharing is decentralised, collaborative and self-regulated",
            "evidence": (
                f"answers given: Freeman out-centralisation {_against(conc[0])}, top 10% share "
                f"{_against(conc[1])}, Gini {_against(conc[2])}; threads built by 3+ members "
                f"{_against(built)}; self-regulation: {corrections} units coded CORRECT, NORMS or MODERATE "
                "(descriptive, no reference)"
            ),
            "reference": (
                "a tutor-led community of the same size (a few seniors give three in five answers; chance: "
                "answerers swapped between answers, each member's count kept)"
            ),
            "verdict": verdict,
            "would_contradict": "concentration inside the tutor-led range; few threads built by several members",
            "figure": "fig5_network",
            "quotes": "",
            "caveat": flow_caveat + hand_note,
        }
    )

    both = _ev(evidence, "share_both")
    by_askers = _ev(evidence, "answers_by_askers")
    year = _ev(evidence, "share_same_or_lower_year")
    rows.append(
        {
            "finding": "fluid roles",
            "claim": "the roles of teacher and learner are fluid and non-exclusive",
            "evidence": (
                f"share of answers given by members who also ask {_against(by_askers)}; share of active "
                f"members who both ask and answer (thanks excluded) {_against(both)}; top 10% share of "
                f"answers {_against(conc[1])}; answers to questions from the same or a lower year "
                f"{_f(year.get('observed'))} ({int(year.get('n', 0) or 0)} known, "
                f"{int(year.get('unknown', 0) or 0)} unknown)"
            ),
            "reference": "a tutor-led community in which tutors answer and do not ask",
            # A headcount of members who "both" ask and answer is reached by one question and one answer (or one
            # misread post), and a mild tutor-led community has many such learners too. Roles are fluid when the
            # answering itself comes from members who also ask, and is not reserved to a few.
            "verdict": roles_verdict(evidence),
            "would_contradict": (
                "answers coming from members who never ask, or from a few members only (both in the tutor-led range)"
            ),
            "figure": "fig5_network",
            "quotes": "",
            "caveat": flow_caveat
            + _hand_note(roles_verdict, roles_verdict(evidence), evidence_hand, hand_labelled)
            + "; years are known only for interviewed members",
        }
    )
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


CONCENTRATION = ("freeman_out", "top10_share", "gini_answers")


def decentral_verdict(evidence: pd.DataFrame) -> str:
    """Decentralised and collaborative: every concentration measure unlike the tutor-led counterfactual, and
    threads built by three or more members more often than there (``partly`` without the second)."""
    conc = [_ev(evidence, m) for m in CONCENTRATION]
    built = _ev(evidence, "share_threads_built")
    if not all(conc) or not built:
        return "not measured"
    decentral = all(_unlike(e) for e in conc)
    if decentral and _unlike(built):
        return "supported"
    if decentral:
        return "partly supported"  # answers are spread, but threads are not built by several members
    return "not supported"  # answers concentrated as in a tutor-led community, whatever else holds


def roles_verdict(evidence: pd.DataFrame) -> str:
    """Fluid roles: the answering comes from members who also ask, and is not reserved to a few (both unlike the
    tutor-led counterfactual). A headcount of members who "both" ask and answer is reached by one question and
    one answer (or one misread post), and a mild tutor-led community has many such learners too."""
    by_askers, top = _ev(evidence, "answers_by_askers"), _ev(evidence, "top10_share")
    if not by_askers or not top:
        return "not measured"
    return "supported" if _unlike(by_askers) and _unlike(top) else "not supported"


def _hand_note(verdict_of, verdict: str, evidence_hand: pd.DataFrame | None, hand_labelled: int) -> str:
    """The caveat's words on the classifier: the verdict with the hand-assigned acts in place of the rules'."""
    if evidence_hand is None or evidence_hand.empty or not hand_labelled:
        return "; no hand-assigned acts: how far the verdict hangs on the classifier's errors is not measured"
    hand = verdict_of(evidence_hand)
    if hand == verdict:
        return f"; with the hand-assigned acts of {hand_labelled} posts in place of the rules' it reads the same"
    return f"; with the hand-assigned acts of {hand_labelled} posts in place of the rules' it would read {hand!r}"


def to_markdown(table: pd.DataFrame, synthetic: bool = False) -> str:
    """``claims.md``: one section per finding (a wide table does not read)."""
    lines = ["# Claims and the evidence for them", ""]
    if synthetic:
        lines += [
            "> **Synthetic corpus.** Computed from the compendium's fictitious data: it shows how each "
            "finding is checked, not whether the study's findings hold.",
            "",
        ]
    for r in table.itertuples(index=False):
        lines += [
            f"## {r.claim}",
            "",
            f"- **Verdict:** {r.verdict}",
            f"- **Evidence:** {r.evidence}",
            f"- **Against:** {r.reference}",
            f"- **Would have contradicted it:** {r.would_contradict}",
            f"- **Figure:** {r.figure}" + (f"; **quotes:** {r.quotes}" if r.quotes else ""),
            f"- **Caveat:** {r.caveat}",
            "",
        ]
    return "\n".join(lines)
