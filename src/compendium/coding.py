"""Coding files: loading, units of analysis, consensus, frequencies, saturation, retrieval audit.

A *coding file* (``data/raw/coding/<coder>.csv``, SPEC section 4) lists code applications::

    coder,source_id,start,end,code_id,memo
    A,P03,1204,1391,SAFE,asks 'stupid' questions only anonymously
    A,WITI-007#3,,,AFF-REACT,hearts as a vote

``source_id`` is a transcript or field-note id with character offsets ``[start, end)`` into the
source's normalised text (BOM removed, CRLF -> LF), or a post id ``WITI-007#3`` (screenshot id,
``#``, 1-based post index) with empty offsets, meaning the whole post.

Coders mark spans freely; the analysis counts **units of analysis**: the segments of
``segments.csv`` (sentences or turns of interviews and field notes) and the posts of
``posts.csv``. :func:`units` maps every application onto the units it overlaps, so that two
coders who marked slightly different spans of the same sentence agree on that unit.

Sources and documents. For reliability and saturation a *source* is the document a coder works
through: an interview transcript, a field note, or a screenshot page (``WITI-007``) for posts.

Data frames used here:

``codings`` (from :func:`load`)
    coder, source_id, start, end, code_id, memo (start/end nullable integers).
``unit_table`` (from :func:`unit_table`)
    unit_id, unit_type (segment|post), source_id, source_type (interview|fieldnote|post),
    speaker, speaker_role, participant, text.
``coded units`` (from :func:`units`)
    coder, unit_id, source_id, code_id: one row per coder, unit and code.
``consensus`` (from :func:`consensus`)
    unit_id, source_id, code_id, coders, agreement.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from compendium.codebook import Codebook
from compendium import files
from compendium.errors import InputError

COLUMNS = ["coder", "source_id", "start", "end", "code_id", "memo"]
POST_ID = re.compile(r"^(?P<screenshot>[A-Za-z][A-Za-z0-9_-]*-\d+)#(?P<index>[1-9]\d*)$")
ANONYMOUS = {"", "anonymous", "anonymous member"}

Lemmatizer = Callable[[list[str]], list[list[tuple[str, str]]]]


# --------------------------------------------------------------------------- helpers


def natural_key(value) -> tuple:
    """Sort key that orders ``WITI-007#3`` before ``WITI-007#12`` and ``P3`` before ``P10``."""
    parts = re.split(r"(\d+)", str(value))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def sort_naturally(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Sort rows by ``columns`` with :func:`natural_key`; reset the index."""
    if df.empty:
        return df.reset_index(drop=True)
    keys = [df[c].map(natural_key) for c in columns]
    order = sorted(range(len(df)), key=lambda i: tuple(k.iat[i] for k in keys))
    return df.iloc[order].reset_index(drop=True)


def document_of(source_id: str) -> str:
    """The document a source id belongs to: the screenshot for a post id, else itself."""
    m = POST_ID.match(str(source_id))
    return m.group("screenshot") if m else str(source_id)


def is_post_id(source_id: str) -> bool:
    return POST_ID.match(str(source_id)) is not None


# --------------------------------------------------------------------------- loading


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and ``(line number, fields)`` records of a CSV file (line = first line of record)."""
    header, _line, records = files.read_csv_records(path, "coding file")
    if header is None:
        raise InputError("empty file: expected the header " + ",".join(COLUMNS), path, 1)
    return header, records


def _offset(value: str, name: str, path, line) -> int:
    try:
        return int(value)
    except ValueError:
        raise InputError(f"{name} offset {value!r} is not an integer", path, line) from None


def read_file(path: str | Path) -> list[tuple[int, dict[str, str]]]:
    """The code applications of one coding file, checked for structure only: ``[(line, record)]``.

    Checks, each failing with an :class:`InputError` naming ``file:line``: the file is UTF-8 text (not binary,
    no control character); the header has the columns ``coder, source_id, start, end, code_id, memo`` (any
    order, extra columns ignored); there is at least one row (a header alone is "no code applications"); no
    row has more fields than the header; every row has a coder. ``record`` has the six columns, stripped of
    surrounding spaces except ``memo``.
    """
    path = Path(path)
    header, records = _read_rows(path)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; expected header " + ",".join(COLUMNS), path, 1)
    if not records:
        raise InputError("no code applications (header only)", path, 1)
    idx = {c: header.index(c) for c in COLUMNS}
    out = []
    for line, fields in records:
        fields = fields + [""] * (len(header) - len(fields))
        if len(fields) > len(header):
            raise InputError(f"{len(fields)} fields, header has {len(header)}", path, line)
        rec = {c: fields[i].strip() for c, i in idx.items()}
        rec["memo"] = fields[idx["memo"]]
        if not rec["coder"]:
            raise InputError("empty coder", path, line)
        out.append((line, rec))
    return out


def check_coders(coders: Iterable[str], where: str | Path, need: int = 2) -> None:
    """Reliability and consensus need two coders: an :class:`InputError` naming ``where`` (the coding folder)
    when the coding files name fewer."""
    found = sorted(set(coders), key=natural_key)
    if len(found) < need:
        raise InputError(
            f"reliability needs two coders; the coding files name {len(found)} "
            f"({', '.join(found) or 'none'}): one file per coder, each row naming its coder",
            where,
        )


def load(
    paths: str | Path | Iterable[str | Path],
    codebook: Codebook,
    source_lengths: Mapping[str, int],
    post_ids: Iterable[str] | None,
) -> pd.DataFrame:
    """Load and validate coding files; one row per code application.

    Checks, each failing with an :class:`InputError` naming ``file:line``: the structure of each file
    (:func:`read_file`: columns, at least one row, field counts, a coder on every row); the code is in the
    codebook; the source is a known transcript or field note (``source_lengths``: id -> length of its
    normalised text) or a known post (``post_ids``); transcript offsets are integers with
    ``0 <= start < end <= length``; post rows have empty offsets. Exact duplicate rows are kept once.
    ``post_ids`` None accepts any well-formed post id (raw files checked before the posts are read).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    codes = set(codebook.code_ids)
    posts = None if post_ids is None else set(post_ids)
    rows = []
    for path in sorted((Path(p) for p in paths), key=lambda p: natural_key(p.name)):
        for line, rec in read_file(path):
            if rec["code_id"] not in codes:
                raise InputError(f"unknown code '{rec['code_id']}'", path, line)
            sid = rec["source_id"]
            if is_post_id(sid):
                if posts is not None and sid not in posts:
                    raise InputError(f"unknown source '{sid}' (no such post)", path, line)
                if rec["start"] or rec["end"]:
                    raise InputError(f"post '{sid}': offsets must be empty (a post is coded as a whole)", path, line)
                start = end = None
            elif sid in source_lengths:
                if not rec["start"] or not rec["end"]:
                    raise InputError(f"source '{sid}': start and end offsets are required", path, line)
                start = _offset(rec["start"], "start", path, line)
                end = _offset(rec["end"], "end", path, line)
                length = int(source_lengths[sid])
                if not 0 <= start < end <= length:
                    raise InputError(
                        f"bad offsets [{start}, {end}) for source '{sid}' of "
                        f"length {length} (need 0 <= start < end <= length)",
                        path,
                        line,
                    )
            else:
                raise InputError(f"unknown source '{sid}'", path, line)
            rows.append(
                {
                    "coder": rec["coder"],
                    "source_id": sid,
                    "start": start,
                    "end": end,
                    "code_id": rec["code_id"],
                    "memo": rec["memo"],
                }
            )
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["start"] = df["start"].astype("Int64")
    df["end"] = df["end"].astype("Int64")
    df = df.drop_duplicates().reset_index(drop=True)
    return sort_naturally(df, ["coder", "source_id", "start", "end", "code_id"])


# --------------------------------------------------------------------------- units of analysis


def unit_table(segments: pd.DataFrame, posts: pd.DataFrame | None = None) -> pd.DataFrame:
    """All units of analysis: segments and posts, with their source and speaker.

    ``participant`` is the interview participant a unit belongs to (segments.csv's
    ``participant``) and, for a post, its author when the author is one of those participants
    (the interviewees' pseudonyms are shared across data sources); otherwise empty. Counts of
    participants therefore count interviewees, not all forum members.
    """
    seg = segments.fillna("")
    out = pd.DataFrame(
        {
            "unit_id": seg["segment_id"].astype(str),
            "unit_type": "segment",
            "source_id": seg["source_id"].astype(str),
            "source_type": seg["source_type"].astype(str) if "source_type" in seg else "interview",
            "speaker": seg["speaker"].astype(str) if "speaker" in seg else "",
            "speaker_role": seg["speaker_role"].astype(str) if "speaker_role" in seg else "",
            "participant": seg["participant"].astype(str) if "participant" in seg else "",
            "text": seg["text"].astype(str) if "text" in seg else "",
        }
    )
    frames = [out]
    if posts is not None and len(posts):
        p = posts.fillna("")
        interviewees = set(out["participant"]) - {""}
        authors = p["author"].astype(str)
        frames.append(
            pd.DataFrame(
                {
                    "unit_id": p["post_id"].astype(str),
                    "unit_type": "post",
                    "source_id": p["post_id"].astype(str).map(document_of),
                    "source_type": "post",
                    "speaker": authors,
                    "speaker_role": "member",
                    "participant": authors.where(authors.isin(interviewees), ""),
                    "text": p["text"].astype(str),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    return sort_naturally(table, ["unit_id"])


def units(
    codings: pd.DataFrame, segments: pd.DataFrame, posts: pd.DataFrame | None = None, min_overlap: int = 1
) -> pd.DataFrame:
    """Map code applications onto units of analysis: one row per (coder, unit_id, code_id).

    A span coding counts for every segment of the same source that it overlaps by at least
    ``min_overlap`` characters. A post coding is its own unit. Applications that fall on no
    unit (e.g. a span inside an unsegmented header) are dropped. ``source_id`` in the result is
    the document (transcript, field note or screenshot page).
    """
    cols = ["coder", "unit_id", "source_id", "code_id"]
    seg = segments[["segment_id", "source_id", "start", "end"]].copy()
    seg["start"] = seg["start"].astype(int)
    seg["end"] = seg["end"].astype(int)
    by_source = {sid: g.sort_values("start") for sid, g in seg.groupby("source_id", sort=False)}
    post_set = set(posts["post_id"].astype(str)) if posts is not None and len(posts) else set()
    rows = []
    for rec in codings.itertuples(index=False):
        sid = str(rec.source_id)
        if is_post_id(sid):
            if posts is None or sid in post_set:
                rows.append((rec.coder, sid, document_of(sid), rec.code_id))
            continue
        g = by_source.get(sid)
        if g is None:
            continue
        s, e = int(rec.start), int(rec.end)
        overlap = np.minimum(g["end"].to_numpy(), e) - np.maximum(g["start"].to_numpy(), s)
        for unit_id in g["segment_id"].to_numpy()[overlap >= min_overlap]:
            rows.append((rec.coder, str(unit_id), sid, rec.code_id))
    out = pd.DataFrame(rows, columns=cols).drop_duplicates()
    return sort_naturally(out, ["coder", "unit_id", "code_id"])


# --------------------------------------------------------------------------- consensus

RULES = ("union", "intersection", "lead")


def coverage(coded_units: pd.DataFrame) -> dict[str, list[str]]:
    """``{source_id: sorted coders who coded it}`` (a coder coded a source if they applied any code)."""
    cov = coded_units.groupby("source_id")["coder"].agg(lambda s: sorted(set(s)))
    return {k: cov[k] for k in sorted(cov.index, key=natural_key)}


def consensus(coded_units: pd.DataFrame, lead: str = "A", rule: str = "union") -> pd.DataFrame:
    """Combine coders into one consensus coding, with an ``agreement`` column.

    ``agreement`` says who applied the code to the unit: ``both`` (every coder who coded that
    source applied it), ``only_<coder>`` (in a double-coded source, just that coder; with more
    than two coders the names are joined by ``_``), or ``single`` (the source was coded by one
    coder only, so agreement cannot be judged). ``coders`` lists them, ``;``-separated.

    Rules, applied to double-coded sources (single-coded sources always keep their codes):

    ``union``
        keep a code if any coder applied it: the inclusive reading used before a consensus
        meeting, so that nothing a coder saw is lost (the default).
    ``intersection``
        keep only codes every coder applied (``both``): the conservative reading.
    ``lead``
        keep the lead coder's codes (``lead``, default ``A``), as when the lead resolves
        disagreements; sources the lead did not code keep the other coder's codes.
    """
    if rule not in RULES:
        raise InputError(f"consensus rule must be one of {', '.join(RULES)}, not {rule!r}", "parameter consensus_rule")
    cols = ["unit_id", "source_id", "code_id", "coders", "agreement"]
    if coded_units.empty:
        return pd.DataFrame(columns=cols)
    cov = coverage(coded_units)
    grouped = (
        coded_units.groupby(["unit_id", "source_id", "code_id"])["coder"].agg(lambda s: sorted(set(s))).reset_index()
    )
    rows = []
    for rec in grouped.itertuples(index=False):
        source_coders = cov[rec.source_id]
        coders = rec.coder
        if len(source_coders) == 1:
            agreement = "single"
        elif set(coders) == set(source_coders):
            agreement = "both"
        else:
            agreement = "only_" + "_".join(coders)
        keep = True
        if len(source_coders) > 1:
            if rule == "intersection":
                keep = agreement == "both"
            elif rule == "lead" and lead in source_coders:
                keep = lead in coders
        if keep:
            rows.append((rec.unit_id, rec.source_id, rec.code_id, ";".join(coders), agreement))
    out = pd.DataFrame(rows, columns=cols)
    return sort_naturally(out, ["unit_id", "code_id"])


# --------------------------------------------------------------------------- frequencies


def frequencies(consensus_df: pd.DataFrame, codebook: Codebook, unit_tab: pd.DataFrame) -> pd.DataFrame:
    """code_frequencies: per code (codebook order) the units, sources and participants coded.

    ``unit_tab`` is :func:`unit_table`. Codes never applied are listed with zeros.
    ``n_participants`` counts distinct interview participants (see :func:`unit_table`).
    """
    merged = consensus_df[["unit_id", "code_id"]].merge(
        unit_tab[["unit_id", "source_id", "participant"]], on="unit_id", how="left"
    )
    rows = []
    for code in codebook.codes.itertuples(index=False):
        g = merged[merged["code_id"] == code.id]
        rows.append(
            {
                "code_id": code.id,
                "label": code.label,
                "theme": code.theme,
                "origin": code.origin,
                "n_units": int(g["unit_id"].nunique()),
                "n_sources": int(g["source_id"].dropna().nunique()),
                "n_participants": int(g.loc[g["participant"].fillna("") != "", "participant"].nunique()),
            }
        )
    return pd.DataFrame(rows, columns=["code_id", "label", "theme", "origin", "n_units", "n_sources", "n_participants"])


# --------------------------------------------------------------------------- saturation

SATURATION_COLUMNS = [
    "order",
    "source_id",
    "date",
    "coded_in_round",
    "n_codes",
    "new_codes",
    "new_code_ids",
    "cumulative_codes",
    "cumulative_share",
    "in_base",
    "run_new_codes",
    "new_information",
    "saturation",
    "basis",
]
FIRST_PASS_DIR = ("coding", "rounds")


def first_pass_files(raw) -> list[Path]:
    """``coding/rounds/<round>-<coder>.csv``: each round's first-pass coding (optional)."""
    folder = Path(raw).joinpath(*FIRST_PASS_DIR)
    return sorted(folder.glob("*.csv"), key=lambda p: natural_key(p.name)) if folder.is_dir() else []


def read_first_pass(files: list[Path], book) -> pd.DataFrame:
    """The first-pass coding of every round: ``round, coder, source_id, code_id`` (post ids as their screenshot's
    id: the source). The round is the number the file name starts with (``2-A.csv``). A code must be in the
    codebook or named in its history (added, merged or split there: the first pass uses the codes of its time);
    codes merged later are counted under the code they were merged into."""
    history_codes: set[str] = set()
    merged: dict[str, str] = {}
    for _, r in book.history.iterrows():
        for key in ("codes_added", "codes_retired"):
            history_codes.update(r.get(key) or [] if isinstance(r.get(key), list) else [])
        for entry in r.get("codes_merged") if isinstance(r.get("codes_merged"), list) else []:
            old, _, new = (x.strip() for x in entry.partition("->"))
            merged[old] = new
            history_codes.add(old)
    known = set(book.code_ids) | history_codes
    rows = []
    for path in files:
        m = re.match(r"(\d+)", path.name)
        if not m:
            raise InputError("a first-pass coding file is named <round>-<coder>.csv (e.g. 2-A.csv)", path)
        for line, rec in read_file(path):
            if rec["code_id"] not in known:
                raise InputError(
                    f"unknown code '{rec['code_id']}' (not in the codebook nor in its history)", path, line
                )
            rows.append(
                {
                    "round": int(m.group(1)),
                    "coder": rec["coder"],
                    "source_id": rec["source_id"].split("#")[0],
                    "code_id": merged.get(rec["code_id"], rec["code_id"]),
                }
            )
    return pd.DataFrame(rows, columns=["round", "coder", "source_id", "code_id"])


def saturation(
    consensus_df: pd.DataFrame,
    sources: pd.DataFrame,
    first_pass: pd.DataFrame | None = None,
    base: int = 4,
    run: int = 2,
    threshold: float = 0.05,
) -> pd.DataFrame:
    """Code saturation as Guest, Namey & Chen (2020, PLoS ONE 15(5):e0232076) measure it.

    Sources (``sources``: ``source_id, date``, e.g. the interviews) are taken in the order they were **coded**:
    with ``first_pass`` (:func:`read_first_pass`), by the round that first coded them, then date, and each
    counts the codes of its first pass; without it, in date order with the final (consensus) coding, which shows
    the final recode rather than the emergence of codes, and ``basis`` says so. Per source: codes, codes not seen
    before, the cumulative count. The first ``base`` sources are the **base**; after it, a **run** of ``run``
    sources adds ``run_new_codes``, and ``new_information`` = those / the number of codes in the base. The first
    source at which ``new_information`` is at most ``threshold`` is the **stopping point** (``saturation``
    True): saturation is reached there, and later sources are still listed. Code saturation only: whether the
    meaning is understood is a judgement the counts cannot make.
    """
    if base < 1 or run < 1 or not 0 <= threshold <= 1:
        raise InputError("saturation needs base >= 1, run >= 1 and 0 <= threshold <= 1", "parameters")
    src = sources[["source_id", "date"]].astype(str).drop_duplicates("source_id")
    ids = set(src["source_id"])
    if first_pass is not None and len(first_pass) and (set(first_pass["source_id"]) & ids):
        fp = first_pass[first_pass["source_id"].isin(ids)]
        first = fp.groupby("source_id")["round"].min()
        fp = fp[fp["round"] == fp["source_id"].map(first)]
        codes_by_source = fp.groupby("source_id")["code_id"].agg(set).to_dict()
        src = src[src["source_id"].isin(first.index)]
        src = src.assign(rnd=src["source_id"].map(first).astype(int), key=src["source_id"].map(natural_key))
        src = src.sort_values(["rnd", "date", "key"], kind="stable")
        basis = "first-pass coding, in the order the rounds coded the sources"
    else:
        codes_by_source = consensus_df.groupby("source_id")["code_id"].agg(set).to_dict()
        src = src.assign(rnd=np.nan, key=src["source_id"].map(natural_key)).sort_values(["date", "key"], kind="stable")
        basis = "final coding in date order (no first-pass files): the final recode, not the emergence of codes"
    seen: set[str] = set()
    rows, new_per = [], []
    for i, rec in enumerate(src.itertuples(index=False), start=1):
        codes = codes_by_source.get(rec.source_id, set())
        new = sorted(codes - seen, key=natural_key)
        seen |= codes
        new_per.append(len(new))
        rows.append(
            {
                "order": i,
                "source_id": rec.source_id,
                "date": rec.date,
                "coded_in_round": "" if pd.isna(rec.rnd) else int(rec.rnd),
                "n_codes": len(codes),
                "new_codes": len(new),
                "new_code_ids": ";".join(new),
                "cumulative_codes": len(seen),
                "in_base": i <= base,
                "run_new_codes": np.nan,
                "new_information": np.nan,
                "saturation": False,
                "basis": basis,
            }
        )
    base_codes = rows[min(base, len(rows)) - 1]["cumulative_codes"] if rows else 0
    reached = False
    for i in range(base + run, len(rows) + 1):
        added = sum(new_per[i - run : i])
        row = rows[i - 1]
        row["run_new_codes"] = added
        row["new_information"] = added / base_codes if base_codes else np.nan
        if not reached and base_codes and added / base_codes <= threshold:
            row["saturation"] = reached = True
    out = pd.DataFrame(rows, columns=SATURATION_COLUMNS)
    total = len(seen)
    out["cumulative_share"] = out["cumulative_codes"] / total if total else np.nan
    return out


def stopping_point(sat: pd.DataFrame) -> str:
    """One line on where saturation was reached (or not) in a :func:`saturation` table."""
    if sat.empty:
        return "no sources"
    hit = sat[sat["saturation"].astype(str).str.lower() == "true"]
    if not len(hit):
        return f"saturation not reached within {len(sat)} sources"
    r = hit.iloc[0]
    return (
        f"saturation reached at source {int(float(r['order']))} of {len(sat)} ({r['source_id']}): the last run added "
        f"{int(float(r['run_new_codes']))} new code(s), {float(r['new_information']) * 100:.1f}% of the base's codes"
    )


# --------------------------------------------------------------------------- retrieval audit


def compile_indicator(pattern: str) -> list[tuple[str, bool]]:
    """``"ask* question"`` -> ``[("ask", True), ("question", False)]`` (word, is_prefix)."""
    words = []
    for w in pattern.lower().split():
        words.append((w[:-1], True) if w.endswith("*") else (w, False))
    return words


def _word_matches(token: str, lemma: str, word: str, prefix: bool) -> bool:
    if prefix:
        return token.startswith(word) or lemma.startswith(word)
    return token == word or lemma == word


def match_indicator(tokens: list[tuple[str, str]], pattern: list[tuple[str, bool]]) -> bool:
    """Whether the token sequence contains the (possibly multi-word) pattern."""
    n = len(pattern)
    if n == 0:
        return False
    for i in range(len(tokens) - n + 1):
        if all(_word_matches(tokens[i + j][0], tokens[i + j][1], *pattern[j]) for j in range(n)):
            return True
    return False


class _TokenIndex:
    """Inverted index ``token or lemma -> {(segment, position)}`` for fast indicator matching."""

    def __init__(self, tokenised: list[list[tuple[str, str]]]):
        index: dict[str, set[tuple[int, int]]] = {}
        for si, toks in enumerate(tokenised):
            for pi, (tok, lemma) in enumerate(toks):
                index.setdefault(tok, set()).add((si, pi))
                index.setdefault(lemma, set()).add((si, pi))
        self.index = index
        self.vocab = sorted(index)
        self._cache: dict[tuple[str, bool], set[tuple[int, int]]] = {}

    def positions(self, word: str, prefix: bool) -> set[tuple[int, int]]:
        key = (word, prefix)
        if key not in self._cache:
            if not prefix:
                found = self.index.get(word, set())
            else:
                found = set()
                for v in self.vocab[bisect.bisect_left(self.vocab, word) :]:
                    if not v.startswith(word):
                        break
                    found |= self.index[v]
            self._cache[key] = found
        return self._cache[key]

    def segments_matching(self, pattern: list[tuple[str, bool]]) -> set[int]:
        """Segments containing the pattern; same result as :func:`match_indicator` per segment."""
        if not pattern:
            return set()
        hits = self.positions(*pattern[0])
        for j, (word, prefix) in enumerate(pattern[1:], start=1):
            following = self.positions(word, prefix)
            hits = {(s, p) for s, p in hits if (s, p + j) in following}
        return {s for s, _ in hits}


def retrieval_audit(
    codebook: Codebook, segments: pd.DataFrame, consensus_df: pd.DataFrame, lemmatize: Lemmatizer
) -> pd.DataFrame:
    """How well each code's indicators retrieve the units coders coded with it.

    An indicator hit is a segment whose tokens (or their lemmas) match any of the code's
    indicator patterns: a word matches a token or its lemma exactly, ``word*`` matches by
    prefix, several words match consecutive tokens. ``hits`` = segments hit, ``coded`` =
    segments with the code in the consensus, ``hits_coded`` = both; ``precision`` =
    hits_coded / hits and ``recall`` = hits_coded / coded (empty when undefined). Low
    precision shows indicators too broad for keyword retrieval; low recall shows how much of a
    code's meaning no keyword finds - the reason interpretive coding is done by people.
    """
    seg_ids = segments["segment_id"].astype(str).tolist()
    texts = segments["text"].fillna("").astype(str).tolist()
    tokenised = lemmatize(texts) if texts else []
    coded_by_code = (
        consensus_df[consensus_df["unit_id"].isin(set(seg_ids))].groupby("code_id")["unit_id"].agg(set).to_dict()
    )
    index = _TokenIndex(tokenised)
    rows = []
    for code in codebook.codes.itertuples(index=False):
        patterns = [compile_indicator(p) for p in code.indicators]
        hits = {seg_ids[i] for pat in patterns for i in index.segments_matching(pat)}
        coded = coded_by_code.get(code.id, set())
        both = len(hits & coded)
        rows.append(
            {
                "code_id": code.id,
                "label": code.label,
                "n_indicators": len(patterns),
                "hits": len(hits),
                "coded": len(coded),
                "hits_coded": both,
                "precision": both / len(hits) if hits else np.nan,
                "recall": both / len(coded) if coded else np.nan,
            }
        )
    return pd.DataFrame(
        rows, columns=["code_id", "label", "n_indicators", "hits", "coded", "hits_coded", "precision", "recall"]
    )
