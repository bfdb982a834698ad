"""The analytic record checked against the data: does the codebook's history agree with what was collected and
coded?

A codebook's ``history`` is the audit trail of an abductive analysis: when each round happened, who coded what,
which codes were added, merged or split and why. A reviewer reads it as evidence, so it must agree with the data
it describes. Each round may carry structured fields beside its prose (:data:`compendium.codebook.HISTORY_LIST_KEYS`):

``coders``, ``sources``
    who coded in the round and which sources they coded;
``double_coded``
    the sources both coders coded independently in the round;
``codes_added``, ``codes_merged`` (``"OLD -> NEW"``), ``codes_split``, ``codes_retired``
    what changed in the codebook;
``lowest_agreement``
    the codes the round says the coders agreed on least;
``exclusive``
    codes the round declared mutually exclusive (``"AGENCY / SYMM"``).

:func:`check` compares them with the sources' dates, the coding files and ``reliability.csv``, and returns one
:class:`Finding` (file, line, what is wrong) per contradiction:

- a round that codes (or double-codes) a source collected after the round's date;
- a code added in a round that an earlier round's ``sources`` were coded with, or that an earlier round's
  first-pass coding (``coding/rounds/``) applies, or a code that no round added (only when the history records
  additions at all), or a merged or retired code still applied;
- a ``double_coded`` claim that the coding files contradict: a claimed source that one of the coders never
  coded, or a source both coders coded that no round claims;
- codes declared exclusive applied to one passage by one coder;
- a ``lowest_agreement`` code that ``reliability.csv`` places in the better-agreeing half of the codes.

Findings are warnings for the analyst, listed in notebook 3; they do not stop the run (a history is prose
written by people, and the data are what they are). The committed corpus has none (tests).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import coding as coding_mod
from .codebook import Codebook


@dataclass(frozen=True)
class Finding:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


def _list(value) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _date(value) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def source_dates(sources) -> dict[str, _dt.date]:
    """``{source_id: date}`` from the transcripts' and field notes' front matter (``date``)."""
    out = {}
    for s in sources:
        d = _date(s.meta.get("date", ""))
        if d is not None:
            out[s.source_id] = d
    return out


def applications(coding_files: list[Path]) -> pd.DataFrame:
    """Every code application of the coding files with where it is: ``file, line, coder, source_id, start, end,
    code_id`` (``source_id`` of a post is its screenshot's, ``WITI-007#3`` -> ``WITI-007``: the source)."""
    rows = []
    for path in coding_files:
        for line, rec in coding_mod.read_file(path):
            rows.append(
                {
                    "file": str(path),
                    "line": line,
                    "coder": rec["coder"],
                    "source_id": rec["source_id"],
                    "start": rec.get("start", ""),
                    "end": rec.get("end", ""),
                    "code_id": rec["code_id"],
                }
            )
    return pd.DataFrame(rows, columns=["file", "line", "coder", "source_id", "start", "end", "code_id"])


def _round_number(r: dict, i: int) -> int:
    try:
        return int(r.get("round", i + 1))
    except (TypeError, ValueError):
        return i + 1


def _base(source_id: str) -> str:
    return str(source_id).split("#")[0]


def check(
    book: Codebook,
    sources,
    coding_files: list[Path],
    reliability: pd.DataFrame | None = None,
    codebook_path: str | Path | None = None,
    first_pass_files: list[Path] | None = None,
) -> list[Finding]:
    """The contradictions between the history and the data (module docstring), in file order. With
    ``first_pass_files`` (``coding/rounds/<round>-<coder>.csv``), also a first pass that uses a code the history
    adds only in a later round."""
    path = str(codebook_path or book.path or "codebook.yml")
    dates = source_dates(sources)
    apps = applications(coding_files)
    apps["source"] = apps["source_id"].map(_base)
    lines = book.history_lines or [{} for _ in range(len(book.history))]
    findings: list[Finding] = []
    rounds = book.history.to_dict("records")

    def at(i: int, key: str) -> int | None:
        kl = lines[i] if i < len(lines) else {}
        return kl.get(key, kl.get(""))

    # 1. sources coded before they were collected
    for i, r in enumerate(rounds):
        when = _date(r.get("date", ""))
        if when is None:
            continue
        for key in ("sources", "double_coded"):
            late = [s for s in _list(r.get(key)) if s in dates and dates[s] > when]
            for s in late:
                findings.append(
                    Finding(
                        path,
                        at(i, key),
                        f"round {_round_number(r, i)} ({when}) lists {s} in "
                        f"{key}, but {s} is dated {dates[s]}: it had not been collected yet",
                    )
                )

    # 2. codes added, merged, retired
    added_in: dict[str, int] = {}
    for i, r in enumerate(rounds):
        for code in _list(r.get("codes_added")):
            if code in added_in:
                findings.append(
                    Finding(
                        path,
                        at(i, "codes_added"),
                        f"code {code} is added again in round "
                        f"{_round_number(r, i)} (first added in round "
                        f"{_round_number(rounds[added_in[code]], added_in[code])})",
                    )
                )
            else:
                added_in[code] = i
    if added_in:
        for code in book.code_ids:
            if code not in added_in:
                findings.append(
                    Finding(path, None, f"code {code} is in the codebook but no round of the history adds it")
                )
    for code, i in added_in.items():
        for j, r in enumerate(rounds[:i]):
            coded_then = set(_list(r.get("sources")))
            if not coded_then:
                continue
            # a source coded only in rounds before the code existed, yet carrying the code, would need a recode
            later = {s for k in range(i, len(rounds)) for s in _list(rounds[k].get("sources"))}
            used = set(apps.loc[apps["code_id"] == code, "source"]) & (coded_then - later)
            for s in sorted(used):
                findings.append(
                    Finding(
                        path,
                        at(i, "codes_added"),
                        f"code {code} is added in round "
                        f"{_round_number(rounds[i], i)}, but {s} carries it and was coded only in "
                        f"round {_round_number(r, j)}, before the code existed",
                    )
                )
    gone = {}
    for i, r in enumerate(rounds):
        for entry in _list(r.get("codes_merged")):
            old = entry.split("->")[0].strip()
            gone[old] = (i, "codes_merged")
        for code in _list(r.get("codes_retired")):
            gone[code] = (i, "codes_retired")
    for code, (i, key) in gone.items():
        hit = apps[apps["code_id"] == code]
        if len(hit):
            first = hit.iloc[0]
            findings.append(
                Finding(
                    first["file"],
                    int(first["line"]),
                    f"code {code} was {key.split('_')[1]} in round {_round_number(rounds[i], i)} but is still applied",
                )
            )

    for fpath in first_pass_files or []:
        m = re.match(r"(\d+)", Path(fpath).name)
        if not m:
            continue
        rnd = int(m.group(1))
        for line, rec in coding_mod.read_file(fpath):
            i = added_in.get(rec["code_id"])
            if i is not None and _round_number(rounds[i], i) > rnd:
                findings.append(
                    Finding(
                        str(fpath),
                        line,
                        f"the round {rnd} first pass applies {rec['code_id']}, "
                        f"which the history adds only in round {_round_number(rounds[i], i)}",
                    )
                )

    # 3. double coding as claimed vs as the coding files have it
    claims = [(i, r) for i, r in enumerate(rounds) if _list(r.get("double_coded"))]
    if claims:
        claimed = {s for _, r in claims for s in _list(r.get("double_coded"))}
        coders = sorted(set(apps["coder"]))
        by_coder = {c: set(apps.loc[apps["coder"] == c, "source"]) for c in coders}
        both = set.intersection(*by_coder.values()) if len(by_coder) >= 2 else set()
        for i, r in claims:
            for s in _list(r.get("double_coded")):
                missing = [c for c in coders if s not in by_coder[c]]
                if missing:
                    findings.append(
                        Finding(
                            path,
                            at(i, "double_coded"),
                            f"round {_round_number(r, i)} says {s} "
                            f"was double-coded, but coder {', '.join(missing)} applied no code in it",
                        )
                    )
        for s in sorted(both - claimed, key=coding_mod.natural_key):
            i, r = claims[-1]
            findings.append(
                Finding(path, at(i, "double_coded"), f"both coders coded {s}, but no round's double_coded lists it")
            )

    # 4. exclusive codes on one passage
    for i, r in enumerate(rounds):
        for pair in _list(r.get("exclusive")):
            a, _, b = (x.strip() for x in pair.partition("/"))
            if not b:
                continue
            for coder, g in apps.groupby("coder", sort=True):
                units = {}
                for rec in g.itertuples(index=False):
                    if rec.code_id in (a, b):
                        units.setdefault((rec.source_id, str(rec.start), str(rec.end)), {})[rec.code_id] = rec
                for key, got in sorted(units.items(), key=lambda kv: int(next(iter(kv[1].values())).line)):
                    if a in got and b in got:
                        rec = got[b]
                        findings.append(
                            Finding(
                                rec.file,
                                int(rec.line),
                                f"coder {coder} applies {a} and {b} to the "
                                f"same passage of {key[0]}, which round {_round_number(r, i)} "
                                "declared mutually exclusive",
                            )
                        )

    # 5. the codes the prose says agreed least
    if reliability is not None and len(reliability):
        rel = reliability[reliability["code_id"] != "ALL"].copy()
        rel["kappa"] = pd.to_numeric(rel["kappa"], errors="coerce")
        rel = rel.dropna(subset=["kappa"])
        if len(rel):
            median = float(rel["kappa"].median())
            kappa = dict(zip(rel["code_id"], rel["kappa"]))
            for i, r in enumerate(rounds):
                for code in _list(r.get("lowest_agreement")):
                    if code in kappa and kappa[code] > median:
                        findings.append(
                            Finding(
                                path,
                                at(i, "lowest_agreement"),
                                f"round {_round_number(r, i)} says "
                                f"agreement was lowest for {code}, but reliability.csv has its kappa "
                                f"at {kappa[code]:.2f}, above the median of the codes "
                                f"({median:.2f})",
                            )
                        )
    return findings


def table(findings: list[Finding]) -> pd.DataFrame:
    """The findings as a table: ``file, line, message``."""
    return pd.DataFrame(
        [{"file": f.path, "line": f.line, "message": f.message} for f in findings], columns=["file", "line", "message"]
    )
