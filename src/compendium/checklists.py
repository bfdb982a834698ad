"""Reporting checklists (COREQ, 32 items; SRQR, 21 items) filled from ``study.yml`` and the pipeline's outputs.

Each item is answered with a study fact (from ``study.yml``) or a fact computed from the data (counts of
participants, coders, codes, themes ...), and says where it comes from, so a reviewer can check it. An item the
study facts do not answer is marked "not reported" rather than invented.
"""

from __future__ import annotations

from typing import Any

# (number, domain, topic, key path(s) in study.yml or "computed:<name>")
COREQ: list[tuple[int, str, str, tuple[str, ...]]] = [
    (1, "Research team and reflexivity", "Interviewer/facilitator", ("team[0].role",)),
    (2, "Research team and reflexivity", "Credentials", ("team[*].credentials",)),
    (3, "Research team and reflexivity", "Occupation", ("team[*].occupation",)),
    (4, "Research team and reflexivity", "Gender", ("team[*].gender",)),
    (5, "Research team and reflexivity", "Experience and training", ("team[*].experience",)),
    (6, "Research team and reflexivity", "Relationship established", ("team[0].relationship_with_participants",)),
    (7, "Research team and reflexivity", "Participant knowledge of the interviewer", ("sampling.approach_to_participants",)),
    (8, "Research team and reflexivity", "Interviewer characteristics", ("reflexivity",)),
    (9, "Study design", "Methodological orientation and theory", ("design.approach", "design.analysis", "design.framework")),
    (10, "Study design", "Sampling", ("sampling.method",)),
    (11, "Study design", "Method of approach", ("sampling.approach_to_participants",)),
    (12, "Study design", "Sample size", ("computed:participants",)),
    (13, "Study design", "Non-participation", ("sampling.non_participation",)),
    (14, "Study design", "Setting of data collection", ("data_collection.interviews.mode",)),
    (15, "Study design", "Presence of non-participants", ("data_collection.present_at_interviews",)),
    (16, "Study design", "Description of sample", ("computed:sample",)),
    (17, "Study design", "Interview guide", ("computed:guide",)),
    (18, "Study design", "Repeat interviews", ("data_collection.interviews.repeat_interviews",)),
    (19, "Study design", "Audio/visual recording", ("data_collection.interviews.recording",)),
    (20, "Study design", "Field notes", ("data_collection.interviews.field_notes", "computed:fieldnotes")),
    (21, "Study design", "Duration", ("computed:duration",)),
    (22, "Study design", "Data saturation", ("sampling.saturation", "computed:saturation")),
    (23, "Study design", "Transcripts returned", ("data_collection.interviews.transcripts_returned",)),
    (24, "Analysis and findings", "Number of data coders", ("computed:coders",)),
    (25, "Analysis and findings", "Description of the coding tree", ("analysis.coding_tree", "computed:codes")),
    (26, "Analysis and findings", "Derivation of themes", ("analysis.derivation_of_themes",)),
    (27, "Analysis and findings", "Software", ("analysis.software",)),
    (28, "Analysis and findings", "Participant checking", ("analysis.participant_checking",)),
    (29, "Analysis and findings", "Quotations presented", ("computed:quotes",)),
    (30, "Analysis and findings", "Data and findings consistent", ("computed:themes",)),
    (31, "Analysis and findings", "Clarity of major themes", ("computed:themes",)),
    (32, "Analysis and findings", "Clarity of minor themes", ("computed:codes",)),
]

SRQR: list[tuple[int, str, str, tuple[str, ...]]] = [
    (1, "Title and abstract", "Title", ("title",)),
    (2, "Title and abstract", "Abstract", ("reference.description",)),
    (3, "Introduction", "Problem formulation", ("design.research_questions",)),
    (4, "Introduction", "Purpose or research question", ("design.research_questions",)),
    (5, "Methods", "Qualitative approach and research paradigm", ("design.approach", "design.paradigm")),
    (6, "Methods", "Researcher characteristics and reflexivity", ("reflexivity",)),
    (7, "Methods", "Context", ("setting",)),
    (8, "Methods", "Sampling strategy", ("sampling.method", "sampling.saturation")),
    (9, "Methods", "Ethical issues pertaining to human subjects", ("ethics.board", "ethics.consent", "ethics.data_protection")),
    (10, "Methods", "Data collection methods", ("data_collection.observation.description", "data_collection.interviews.mode")),
    (11, "Methods", "Data collection instruments and technologies", ("computed:guide", "data_collection.interviews.recording")),
    (12, "Methods", "Units of study", ("computed:sample", "computed:sources")),
    (13, "Methods", "Data processing", ("ethics.data_protection", "analysis.software")),
    (14, "Methods", "Data analysis", ("design.analysis", "analysis.derivation_of_themes", "computed:coders")),
    (15, "Methods", "Techniques to enhance trustworthiness", ("trustworthiness",)),
    (16, "Results/findings", "Synthesis and interpretation", ("computed:themes",)),
    (17, "Results/findings", "Links to empirical data", ("computed:quotes",)),
    (18, "Discussion", "Integration with prior work, implications, transferability", ("design.framework",)),
    (19, "Discussion", "Limitations", ("limitations",)),
    (20, "Other", "Conflicts of interest", ("conflicts_of_interest",)),
    (21, "Other", "Funding", ("funding",)),
]


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
        return "; ".join(_flatten(v) for v in value if v is not None)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in value.items())
    return " ".join(str(value).split())


def answer(study: dict, computed: dict[str, str], keys: tuple[str, ...]) -> tuple[str, str]:
    parts, where = [], []
    for key in keys:
        if key.startswith("computed:"):
            name = key.split(":", 1)[1]
            if computed.get(name):
                parts.append(computed[name])
                where.append("computed from the data")
            continue
        if "[*]." in key:
            head, tail = key.split("[*].", 1)
            items = lookup(study, head) or []
            vals = [f"{i.get('role', '')}: {_flatten(i.get(tail))}" for i in items if isinstance(i, dict)]
            val = "; ".join(vals)
        else:
            val = _flatten(lookup(study, key))
        if val:
            parts.append(val)
            where.append(f"study.yml `{key}`")
    if not parts:
        return "not reported", "-"
    return " ".join(parts), ", ".join(dict.fromkeys(where))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(name: str, items, study: dict, computed: dict[str, str]) -> str:
    """A Markdown checklist: item, topic, how this compendium reports it, and where."""
    lines = [f"# {name} checklist", ""]
    if study.get("synthetic"):
        lines += ["> **Synthetic corpus.** These answers describe the fictitious study of the compendium's synthetic "
                  "corpus, not the published study.", ""]
    domain = None
    for number, dom, topic, keys in items:
        if dom != domain:
            lines += ["", f"## {dom}", "", "| # | Item | Reported | Source |", "|---|---|---|---|"]
            domain = dom
        text, where = answer(study, computed, keys)
        lines.append(f"| {number} | {_cell(topic)} | {_cell(text)} | {_cell(where)} |")
    return "\n".join(lines).strip() + "\n"


def not_reported(items, study: dict, computed: dict[str, str]) -> list[int]:
    """Item numbers the study facts and the data do not answer."""
    return [n for n, _, _, keys in items if answer(study, computed, keys)[0] == "not reported"]
