"""The report stage: figures, tables and reporting checklists from the derived tables.

Everything is computed from ``data/derived`` and the study facts; nothing is typed in. The facts quoted in the
COREQ and SRQR checklists (sample size, coders, durations, saturation ...) are computed here from the data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import checklists, claims as claims_mod, coding, figures, files, study as study_mod, transcripts
from .report_tables import TABLES
from .tables import read_csv, to_markdown, write_csv


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
    """The figures' synthetic-corpus line when ``study.yml`` says ``synthetic: true`` (the explicit signal, which
    the schema ties to a ``synthetic_notice``), else None."""
    return figures.SYNTHETIC_NOTE if study.get("synthetic") else None


def make_figures(
    t: dict[str, pd.DataFrame], codes: list[str], out: Path, note: str | None, stamp: str | None = None
) -> list[Path]:
    """Write fig1 .. fig6 (PNG and SVG) and ``captions.md`` into ``out``; each figure's footer is ``note`` (see
    :func:`note_for`) above ``stamp`` (:func:`compendium.provenance.figure_stamp`)."""
    figures.setup()
    written = []
    written += figures.save(
        figures.theme_prevalence(t["themes"], t["code_frequencies"]), out, "fig1_theme_prevalence", note, stamp
    )
    written += figures.save(figures.code_frequencies(t["code_frequencies"]), out, "fig2_code_frequencies", note, stamp)
    written += figures.save(figures.saturation(t["saturation"]), out, "fig3_saturation", note, stamp)
    written += figures.save(figures.reliability(t["reliability"]), out, "fig4_reliability", note, stamp)
    written += figures.save(figures.network(t["interactions"], t["network_metrics"]), out, "fig5_network", note, stamp)
    written += figures.save(figures.cooccurrence(t["code_cooccurrence"], codes), out, "fig6_cooccurrence", note, stamp)
    captions = ["# Figures", ""] + [f"- **{name}**: {text}" for name, text in figures.CAPTIONS.items()]
    (out / "captions.md").write_text("\n".join(captions) + "\n", encoding="utf-8", newline="\n")
    return written + [out / "captions.md"]


def write_claims(
    t: dict[str, pd.DataFrame], book, participants: pd.DataFrame, out: Path, synthetic: bool = False
) -> pd.DataFrame:
    """``tables/claims.csv`` and ``tables/claims.md`` (:mod:`compendium.claims`)."""
    out.mkdir(parents=True, exist_ok=True)
    code_theme = dict(zip(book.codes["id"], book.codes["theme"]))
    table = claims_mod.claims(
        t["themes"],
        t["coding"],
        code_theme,
        t["theme_quotes"],
        len(participants),
        t["flow_evidence"],
        claims_mod.source_kinds(t["segments"], t["posts"]),
        t.get("act_quality"),
        t.get("ocr_quality"),
        synthetic=synthetic,
        evidence_hand=t.get("flow_evidence_hand"),
    )
    write_csv(table, out / "claims.csv")
    (out / "claims.md").write_text(claims_mod.to_markdown(table, synthetic), encoding="utf-8", newline="\n")
    return table


def participants_table(participants: pd.DataFrame) -> pd.DataFrame:
    """Table 1: interviewees by year of study and role in WITI (a role may be one of several)."""
    rows = []
    for year, g in participants.groupby("year_of_study", sort=True):
        roles = g["witi_role"].astype(str).str.split(";").explode().value_counts()
        rows.append(
            {
                "year_of_study": year,
                "participants": len(g),
                **{f"role_{r}": int(roles.get(r, 0)) for r in ("asker", "answerer", "admin", "lurker")},
            }
        )
    return pd.DataFrame(rows)


def themes_table(themes: pd.DataFrame, quotes: pd.DataFrame) -> pd.DataFrame:
    """Table 2: each theme with its prevalence and its first exemplar passage."""
    first = quotes.drop_duplicates("theme").set_index("theme")
    rows = []
    for r in themes.itertuples():
        q = first.loc[r.theme] if r.theme in first.index else None
        rows.append(
            {
                "theme": f"{r.theme} {r.label}",
                "codes": r.n_codes,
                "units": r.n_units,
                "participants": f"{r.n_participants} ({float(r.share_participants) * 100:.0f}%)",
                "exemplar": "" if q is None else f'"{q["text"]}" [{q["unit_id"]}]',
            }
        )
    return pd.DataFrame(rows)


def _guide_facts(raw: Path) -> dict | None:
    """Sections, numbered questions and probes of ``interview_guide.md``, and the sentences in which the
    interviewer tells participants about the study's purpose or the research team (for COREQ 7)."""
    import re

    guide = Path(raw) / "interview_guide.md"
    if not guide.is_file():
        return None
    text = files.read_text(guide, "guide (interview_guide.md)")
    lines = text.splitlines()
    body = " ".join(
        ln.strip().lstrip("-*> ").replace("**", "")
        for ln in lines
        if ln.strip() and not ln.startswith("#") and not ln.lstrip().startswith(">")
    )
    told = [
        s
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'(\[])", " ".join(body.split()))
        if re.search(r"\bpurpose\b|\bresearch team\b|\bthe researchers?\b", s, re.I)
    ]
    return {
        "sections": sum(1 for ln in lines if ln.startswith("## ")),
        "questions": sum(1 for ln in lines if re.match(r"\s*\d+\.\s", ln)),
        "probes": sum(1 for ln in lines if re.match(r"\s*[-*]\s*Probes?:", ln)),
        "told": told[:3],
    }


def _dates(values) -> list[str] | None:
    vals = sorted(str(v) for v in values if str(v or "").strip())
    return [vals[0], vals[-1]] if vals else None


def _participant_facts(participants: pd.DataFrame) -> dict:
    out: dict = {"n": len(participants)}
    years = participants["year_of_study"].astype(int).value_counts()
    out["years"] = {int(y): int(years[y]) for y in sorted(years.index)}
    roles = participants["witi_role"].astype(str).str.split(";").explode().str.strip().value_counts()
    out["roles"] = {r: int(roles[r]) for r in sorted(roles.index, key=lambda r: (-roles[r], r))}
    for col, key in (("gender", "genders"), ("interview_mode", "modes")):
        if col in participants.columns:
            vc = participants[col].dropna().astype(str).value_counts()
            out[key] = {v: int(vc[v]) for v in sorted(vc.index, key=lambda v: (-vc[v], v))}
    if "joined_witi" in participants.columns and participants["joined_witi"].notna().any():
        joined = participants["joined_witi"].dropna().astype(int)
        out["joined"] = [int(joined.min()), int(joined.max())]
    return out


def _theme_kinds(t: dict[str, pd.DataFrame], codebook_codes: pd.DataFrame) -> dict[str, list[str]]:
    """``{theme: sorted kinds of source (interview, fieldnote, screenshot) in which one of its codes is applied}``."""
    kinds = claims_mod.source_kinds(t["segments"], t["posts"])
    code_theme = dict(zip(codebook_codes["id"].astype(str), codebook_codes["theme"].astype(str)))
    out: dict[str, set] = {}
    for src, code in zip(t["coding"]["source_id"].astype(str), t["coding"]["code_id"].astype(str)):
        kind = kinds.get(src.split("#")[0]) or kinds.get(src)
        if kind and code in code_theme:
            out.setdefault(code_theme[code], set()).add(kind)
    return {k: sorted(v) for k, v in out.items()}


def _codebook_facts(raw: Path, codes: pd.DataFrame) -> dict:
    from . import codebook as codebook_mod

    book = codebook_mod.load(Path(raw) / "codebook.yml")
    hist = book.history
    rounds = [
        [int(r["round"]) if str(r.get("round", "")).isdigit() else i + 1, str(r["date"]), str(r.get("version", ""))]
        for i, r in enumerate(hist.to_dict("records"))
    ]
    double = set()
    if "double_coded" in hist.columns:
        for v in hist["double_coded"]:
            if isinstance(v, (list, tuple)):
                double.update(map(str, v))
    parent = (
        codes["parent"].fillna("").astype(str).str.strip() if "parent" in codes.columns else pd.Series([], dtype=str)
    )
    return {
        "version": str(book.version),
        "codes": len(codes),
        "deductive": int((codes["origin"] == "deductive").sum()),
        "inductive": int((codes["origin"] == "inductive").sum()),
        "subcodes": int((parent != "").sum()),
        "themes": len(book.themes),
        "rounds": rounds,
        "double_coded": len(double),
    }


def facts(
    raw: Path,
    t: dict[str, pd.DataFrame],
    participants: pd.DataFrame,
    codebook_codes: pd.DataFrame,
    coders: dict[str, int],
    n_sources: dict[str, int],
    claims: pd.DataFrame | None = None,
) -> dict:
    """Facts for the checklists, computed from the raw and derived data (the keys are listed in
    :mod:`compendium.checklists`); ``claims`` is the claims table (:func:`write_claims`)."""
    raw = Path(raw)
    sources = transcripts.load_sources(raw)
    interviews = [s for s in sources if s.source_type == "interview"]
    notes = [s for s in sources if s.source_type == "fieldnote"]
    durations = [int(s.meta["duration_min"]) for s in interviews if str(s.meta.get("duration_min", "")).isdigit()]
    who = {str(s.meta["interviewer"]) for s in interviews if str(s.meta.get("interviewer") or "").strip()}
    out: dict = {
        "participants": _participant_facts(participants),
        "interviews": {
            "n": len(interviews),
            "participants": len({str(s.meta.get("participant") or s.source_id) for s in interviews}),
            "dates": _dates(s.meta.get("date") for s in interviews),
            "durations": durations,
            "interviewers": len(who),
        },
        "coders": {str(c): int(n) for c, n in sorted(coders.items())},
    }
    guide = _guide_facts(raw)
    if guide:
        out["guide"] = guide
    if notes:
        reflexive = []
        for s in notes:
            hits = checklists.reflexive_sentences(s.text)
            if hits:
                reflexive.append([s.source_id, hits[0]])
        out["fieldnotes"] = {
            "n": len(notes),
            "dates": _dates(s.meta.get("date") for s in notes),
            "reflexive": reflexive,
        }
    posts = t["posts"]
    if len(posts):
        authors = posts["author"].fillna("").astype(str)
        anon = authors.str.contains("anonymous", case=False)
        shot = {
            "n": int(n_sources.get("screenshot", posts["screenshot_id"].nunique())),
            "posts": len(posts),
            "members": int(authors[~anon & (authors != "")].nunique()),
            "anonymous_posts": int(anon.sum()),
        }
        ocr = t.get("ocr_quality")
        if ocr is not None and len(ocr) and "cer" in ocr.columns:
            shot["cer"] = round(float(pd.to_numeric(ocr["cer"], errors="coerce").mean()), 6)
        out["screenshots"] = shot
    seg = t["segments"]
    kinds = seg["source_type"].astype(str).value_counts()
    out["segments"] = {"n": len(seg), "kinds": {k: int(kinds[k]) for k in sorted(kinds.index)}}
    sat = t["saturation"]
    if len(sat):
        new = sat["new_codes"].astype(int).tolist()
        last = max((i for i, n in enumerate(new) if n), default=None)
        if last is not None:
            ids = str(sat["new_code_ids"].iloc[last]) if "new_code_ids" in sat.columns else ""
            out["saturation"] = {
                "n": len(new),
                "last_new_order": int(sat["order"].iloc[last]),
                "last_new_source": str(sat["source_id"].iloc[last]),
                "last_new_codes": [c for c in ids.split(";") if c and c != "nan"],
                "tail": len(new) - 1 - last,
            }
            if "saturation" in sat.columns:
                out["saturation"]["stopping"] = coding.stopping_point(sat)
                out["saturation"]["basis"] = str(sat["basis"].iloc[0]) if "basis" in sat.columns else ""
    rel = t["reliability"]
    pooled = rel[rel["code_id"].astype(str) == "ALL"]
    if len(pooled):
        r = pooled.iloc[0]
        per = rel[rel["code_id"].astype(str) != "ALL"].copy()
        per["kappa"] = pd.to_numeric(per["kappa"], errors="coerce")
        per = per.dropna(subset=["kappa"]).sort_values(["kappa", "code_id"])
        out["reliability"] = {
            "units": int(per["n_units"].max()) if len(per) else int(r["n_units"]),
            "codes": len(per),
            "kappa": float(r["kappa"]),
            "alpha": float(r["alpha"]),
            "alpha_low": float(r["alpha_low"]),
            "alpha_high": float(r["alpha_high"]),
            "lowest": ([str(per["code_id"].iloc[0]), float(per["kappa"].iloc[0])] if len(per) else None),
        }
    out["codebook"] = _codebook_facts(raw, codebook_codes)
    themes = t["themes"]
    tk = _theme_kinds(t, codebook_codes)
    out["themes"] = [
        {
            "id": str(r.theme),
            "label": str(r.label),
            "n_codes": int(r.n_codes),
            "n_units": int(r.n_units),
            "n_participants": int(r.n_participants),
            "kinds": tk.get(str(r.theme), []),
        }
        for r in themes.itertuples()
    ]
    freq = t["code_frequencies"].sort_values(["n_units", "code_id"]).head(3)
    out["minor_codes"] = [
        [str(r.code_id), str(r.label), int(r.n_units), int(r.n_participants)] for r in freq.itertuples()
    ]
    q = t["theme_quotes"]
    if len(q):
        qk = q["source_type"].astype(str).replace({"post": "screenshot"}).value_counts()
        names = {
            "interview": "interview excerpts",
            "fieldnote": "field-note excerpts",
            "screenshot": "screenshot posts",
        }
        who_q = q.loc[q["source_type"].astype(str) == "interview", "participant"].dropna().astype(str)
        out["quotes"] = {
            "n": len(q),
            "themes": {str(k): int(v) for k, v in q.groupby("theme", sort=True).size().items()},
            "kinds": {names.get(k, k): int(qk[k]) for k in sorted(qk.index)},
            "participants": int(who_q[who_q != ""].nunique()),
            "identified": int(q["unit_id"].fillna("").astype(str).str.strip().ne("").sum()),
        }
    if claims is not None and len(claims):
        out["claims"] = [
            {"finding": str(r.finding), "claim": str(r.claim), "verdict": str(r.verdict), "reference": str(r.reference)}
            for r in claims.itertuples()
        ]
    manifest = raw / "MANIFEST.sha256"
    if manifest.is_file():
        out["manifest"] = sum(1 for ln in manifest.read_text(encoding="utf-8").splitlines() if ln.strip())
    return out


def write_tables(t: dict[str, pd.DataFrame], participants: pd.DataFrame, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    t1 = participants_table(participants)
    t2 = themes_table(t["themes"], t["theme_quotes"])
    rel = t["reliability"][
        [
            c
            for c in ("code_id", "n_units", "percent_agreement", "kappa", "alpha", "alpha_low", "alpha_high", "note")
            if c in t["reliability"].columns
        ]
    ]
    paths = [
        write_csv(t1, out / "table1_participants.csv"),
        write_csv(t2, out / "table2_themes.csv"),
        write_csv(rel, out / "table3_reliability.csv"),
    ]
    md = ["# Tables", ""]
    for title, df in (
        ("Table 1. Interview participants by year of study and role in WITI", t1),
        ("Table 2. Themes, prevalence and an exemplar passage", t2),
        ("Table 3. Inter-coder agreement per code", rel),
    ):
        md += [f"## {title}", "", to_markdown(df)]
    (out / "tables.md").write_text("\n".join(md), encoding="utf-8", newline="\n")
    return paths + [out / "tables.md"]


def write_checklists(study: dict, computed: dict, out: Path) -> list[Path]:
    """``checklists/coreq.md`` and ``checklists/srqr.md`` (:mod:`compendium.checklists`) from the study facts and
    the facts computed by :func:`facts`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, items in checklists.CHECKLISTS.items():
        path = out / f"{name.lower()}.md"
        path.write_text(checklists.render(name, items, study, computed), encoding="utf-8", newline="\n")
        paths.append(path)
    return paths
