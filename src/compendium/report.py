"""The report stage: figures, tables and reporting checklists from the derived tables.

Everything is computed from ``data/derived`` and the study facts; nothing is typed in. The facts quoted in the
COREQ and SRQR checklists (sample size, coders, durations, saturation ...) are computed here from the data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import checklists, claims as claims_mod, figures, files, study as study_mod, transcripts
from .tables import read_csv, to_markdown, write_csv

TABLES = ("posts.csv", "threads.csv", "ocr_quality.csv", "segments.csv", "coding.csv", "reliability.csv",
          "code_frequencies.csv", "saturation.csv", "retrieval_audit.csv", "themes.csv", "theme_quotes.csv",
          "code_cooccurrence.csv", "interactions.csv", "network_metrics.csv", "flow_evidence.csv", "act_quality.csv")


def load_study(raw: str | Path) -> dict:
    """``raw/study.yml``, validated against its schema (:func:`compendium.study.load_study`)."""
    return study_mod.load_study(Path(raw) / study_mod.FILE_NAME)


def guide_sections(raw: str | Path) -> int:
    """Sections (``## `` headings) of ``raw/interview_guide.md``; 0 when there is no guide."""
    guide = Path(raw) / "interview_guide.md"
    if not guide.is_file():
        return 0
    text = files.read_text(guide, "guide (interview_guide.md)")
    return sum(1 for line in text.splitlines() if line.startswith("## "))


def load_tables(derived: str | Path) -> dict[str, pd.DataFrame]:
    return {name[:-4]: read_csv(Path(derived) / name) for name in TABLES}


def note_for(study: dict) -> str | None:
    return figures.SYNTHETIC_NOTE if study.get("synthetic") else None


def make_figures(t: dict[str, pd.DataFrame], codes: list[str], out: Path, note: str | None) -> list[Path]:
    figures.setup()
    written = []
    written += figures.save(figures.theme_prevalence(t["themes"], t["code_frequencies"]), out,
                            "fig1_theme_prevalence", note)
    written += figures.save(figures.code_frequencies(t["code_frequencies"]), out, "fig2_code_frequencies", note)
    written += figures.save(figures.saturation(t["saturation"]), out, "fig3_saturation", note)
    written += figures.save(figures.reliability(t["reliability"]), out, "fig4_reliability", note)
    written += figures.save(figures.network(t["interactions"], t["network_metrics"]), out, "fig5_network", note)
    written += figures.save(figures.cooccurrence(t["code_cooccurrence"], codes), out, "fig6_cooccurrence", note)
    captions = ["# Figures", ""] + [f"- **{name}**: {text}" for name, text in figures.CAPTIONS.items()]
    (out / "captions.md").write_text("\n".join(captions) + "\n", encoding="utf-8", newline="\n")
    return written + [out / "captions.md"]


def write_claims(t: dict[str, pd.DataFrame], book, participants: pd.DataFrame, out: Path,
                 synthetic: bool = False) -> pd.DataFrame:
    """``tables/claims.csv`` and ``tables/claims.md`` (:mod:`compendium.claims`)."""
    out.mkdir(parents=True, exist_ok=True)
    code_theme = dict(zip(book.codes["id"], book.codes["theme"]))
    table = claims_mod.claims(t["themes"], t["coding"], code_theme, t["theme_quotes"], len(participants),
                              t["flow_evidence"], claims_mod.source_kinds(t["segments"], t["posts"]),
                              t.get("act_quality"), t.get("ocr_quality"), synthetic=synthetic)
    write_csv(table, out / "claims.csv")
    (out / "claims.md").write_text(claims_mod.to_markdown(table, synthetic), encoding="utf-8", newline="\n")
    return table


def participants_table(participants: pd.DataFrame) -> pd.DataFrame:
    """Table 1: interviewees by year of study and role in WITI (a role may be one of several)."""
    rows = []
    for year, g in participants.groupby("year_of_study", sort=True):
        roles = g["witi_role"].astype(str).str.split(";").explode().value_counts()
        rows.append({"year_of_study": year, "participants": len(g),
                     **{f"role_{r}": int(roles.get(r, 0)) for r in ("asker", "answerer", "admin", "lurker")}})
    return pd.DataFrame(rows)


def themes_table(themes: pd.DataFrame, quotes: pd.DataFrame) -> pd.DataFrame:
    """Table 2: each theme with its prevalence and its first exemplar passage."""
    first = quotes.drop_duplicates("theme").set_index("theme")
    rows = []
    for r in themes.itertuples():
        q = first.loc[r.theme] if r.theme in first.index else None
        rows.append({"theme": f"{r.theme} {r.label}", "codes": r.n_codes, "units": r.n_units,
                     "participants": f"{r.n_participants} ({float(r.share_participants) * 100:.0f}%)",
                     "exemplar": "" if q is None else f"\"{q['text']}\" [{q['unit_id']}]"})
    return pd.DataFrame(rows)


def facts(raw: Path, t: dict[str, pd.DataFrame], participants: pd.DataFrame, codebook_codes: pd.DataFrame,
          coders: dict[str, int], n_sources: dict[str, int]) -> dict[str, str]:
    """Facts for the checklists, computed from the data (see :mod:`compendium.checklists`)."""
    sources = transcripts.load_sources(raw)
    durations = [int(s.meta["duration_min"]) for s in sources
                 if s.source_type == "interview" and str(s.meta.get("duration_min", "")).isdigit()]
    sections = guide_sections(raw)
    sat = t["saturation"]
    tail = 0
    for n in reversed(sat["new_codes"].astype(int).tolist()):
        if n:
            break
        tail += 1
    rel = t["reliability"]
    pooled = rel[rel["code_id"] == "ALL"]
    kappa = f"{float(pooled['kappa'].iloc[0]):.2f}" if len(pooled) and str(pooled["kappa"].iloc[0]) else "n/a"
    years = participants["year_of_study"].astype(str).value_counts().sort_index()
    themes = t["themes"]
    quotes = t["theme_quotes"]
    coder_text = "; ".join(f"coder {c}: {n} sources" for c, n in sorted(coders.items()))
    return {
        "participants": f"{len(participants)} interviewees (participants.csv)",
        "sample": (f"{len(participants)} interviewees, years of study "
                   + ", ".join(f"Y{y}: {n}" for y, n in years.items()) + "; roles in WITI in participants.csv"),
        "guide": f"interview_guide.md ({sections} sections), shipped with the data",
        "fieldnotes": f"{n_sources.get('fieldnote', 0)} dated observation field notes (fieldnotes/)",
        "duration": (f"{min(durations)}-{max(durations)} minutes (mean {sum(durations) / len(durations):.0f}), "
                     "from the transcripts' front matter") if durations else "",
        "saturation": f"saturation.csv: the last {tail} interviews added no new codes",
        "coders": f"{len(coders)} coders ({coder_text}); pooled Cohen's kappa {kappa} (reliability.csv)",
        "codes": (f"{len(codebook_codes)} codes ({(codebook_codes['origin'] == 'deductive').sum()} deductive, "
                  f"{(codebook_codes['origin'] == 'inductive').sum()} inductive) in {len(themes)} themes "
                  "(codebook.yml, code_frequencies.csv)"),
        "quotes": f"{len(quotes)} exemplar passages, each identified by unit id (theme_quotes.csv)",
        "themes": "; ".join(f"{r.theme} {r.label}: {r.n_participants} of {len(participants)} interviewees, "
                            f"{r.n_units} units" for r in themes.itertuples()),
        "sources": ", ".join(f"{n} {k}s" for k, n in sorted(n_sources.items())),
    }


def write_tables(t: dict[str, pd.DataFrame], participants: pd.DataFrame, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    t1 = participants_table(participants)
    t2 = themes_table(t["themes"], t["theme_quotes"])
    rel = t["reliability"][[c for c in ("code_id", "n_units", "percent_agreement", "kappa", "alpha", "alpha_low",
                                        "alpha_high", "note") if c in t["reliability"].columns]]
    paths = [write_csv(t1, out / "table1_participants.csv"), write_csv(t2, out / "table2_themes.csv"),
             write_csv(rel, out / "table3_reliability.csv")]
    md = ["# Tables", ""]
    for title, df in (("Table 1. Interview participants by year of study and role in WITI", t1),
                      ("Table 2. Themes, prevalence and an exemplar passage", t2),
                      ("Table 3. Inter-coder agreement per code", rel)):
        md += [f"## {title}", "", to_markdown(df)]
    (out / "tables.md").write_text("\n".join(md), encoding="utf-8", newline="\n")
    return paths + [out / "tables.md"]


def write_checklists(study: dict, computed: dict[str, str], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    coreq = out / "coreq.md"
    srqr = out / "srqr.md"
    coreq.write_text(checklists.render("COREQ", checklists.COREQ, study, computed), encoding="utf-8", newline="\n")
    srqr.write_text(checklists.render("SRQR", checklists.SRQR, study, computed), encoding="utf-8", newline="\n")
    return [coreq, srqr]
