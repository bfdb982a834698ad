"""Load and validate ``codebook.yml``: themes, codes and the history of analytic rounds.

The codebook is the analytic instrument of a thematic analysis. In an *abductive* analysis it
holds two kinds of code side by side: **deductive** codes taken from the theoretical framework
(here relational transfer and sociomaterial theory) and **inductive** codes that grew out of the
data. Its ``history`` records each analytic round, so that the movement between data and theory
is on record.

Format (SPEC section 4)::

    version: "3"
    themes:
      - id: T1
        label: Engagement in a connective space
        definition: ...
    codes:
      - id: AFF-REACT
        label: Reactions as signals of quality/agreement
        theme: T1
        parent: AFF            # optional: id of the parent code
        origin: deductive      # or inductive; unknown for codes imported from a tool that does not say
        definition: ...
        include: ...           # optional
        exclude: ...           # optional
        example: ...           # optional
        indicators: [heart*, react*, "so many likes"]
    history:
      - date: 2023-04-02
        change: ...            # any further keys are kept as columns
        why: ...

Required keys: ``version``, ``themes``, ``codes``, ``history``; per theme ``id``, ``label``,
``definition``; per code ``id``, ``label``, ``theme``, ``origin``, ``definition``,
``indicators``; per history entry ``date``. ``parent``, ``include``, ``exclude`` and
``example`` may be omitted (they become empty strings). Unknown keys are ignored.

Indicators are the word or lemma patterns used for computer-assisted retrieval
(:func:`compendium.coding.retrieval_audit`): lower-case words, a trailing ``*`` for a prefix,
several words for a phrase. They are lower-cased and whitespace-normalised on load.

Every error is an :class:`~compendium.errors.InputError` naming the file and the line of the
offending entry, e.g. ``codebook.yml:57: code 'SAFE': unknown theme 'T4'``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from compendium import files
from compendium.errors import InputError

ORIGINS = ("deductive", "inductive", "unknown")  # unknown: imported from a project that does not say
THEME_KEYS = ("id", "label", "definition")
CODE_KEYS = ("id", "label", "theme", "parent", "origin", "definition", "include", "exclude", "example", "indicators")
CODE_REQUIRED = ("id", "label", "theme", "origin", "definition", "indicators")
CODE_OPTIONAL = ("parent", "include", "exclude", "example")

# Structured fields of a history round, each a list of strings (codes_merged entries read "OLD -> NEW"), so that
# the record can be checked against the data (compendium.record): who coded, which sources, which were coded by
# both coders, what changed, which codes the round says agreed least, which codes it declared exclusive.
HISTORY_LIST_KEYS = (
    "coders",
    "sources",
    "double_coded",
    "codes_added",
    "codes_merged",
    "codes_split",
    "codes_retired",
    "lowest_agreement",
    "exclusive",
)
_LINE = "__line__"
_KEYLINES = "__keylines__"


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records, for every mapping, the line of its start and of each key."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping[_LINE] = node.start_mark.line + 1
        mapping[_KEYLINES] = {
            key_node.value: value_node.start_mark.line + 1
            for key_node, value_node in node.value
            if isinstance(key_node, yaml.ScalarNode)
        }
        return mapping


@dataclass(eq=False)
class Codebook:
    """A validated codebook. Data frames keep the order of the file."""

    version: str
    themes: pd.DataFrame  # id, label, definition
    codes: pd.DataFrame  # id, label, theme, parent, origin, definition, include, exclude, example, indicators
    history: pd.DataFrame  # date, then the other keys of the entries (HISTORY_LIST_KEYS as lists)
    path: str | None = field(default=None, compare=False)
    history_lines: list = field(default_factory=list, compare=False)  # per round: {key: line in the file}

    def __eq__(self, other) -> bool:
        return isinstance(other, Codebook) and self.to_dict() == other.to_dict()

    @property
    def code_ids(self) -> list[str]:
        return list(self.codes["id"])

    @property
    def theme_ids(self) -> list[str]:
        return list(self.themes["id"])

    def code_theme(self) -> dict[str, str]:
        """``{code_id: theme_id}``."""
        return dict(zip(self.codes["id"], self.codes["theme"]))

    def code_label(self) -> dict[str, str]:
        return dict(zip(self.codes["id"], self.codes["label"]))

    def theme_label(self) -> dict[str, str]:
        return dict(zip(self.themes["id"], self.themes["label"]))

    def children(self, code_id: str) -> list[str]:
        """Direct children of a code, in codebook order."""
        return list(self.codes.loc[self.codes["parent"] == code_id, "id"])

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the ``codebook.yml`` layout (for :func:`dump`)."""
        codes = []
        for row in self.codes.to_dict("records"):
            entry = {k: row[k] for k in CODE_KEYS if k in CODE_REQUIRED or row[k] not in ("", None)}
            entry["indicators"] = list(row["indicators"])
            codes.append(entry)
        return {
            "version": self.version,
            "themes": [{k: row[k] for k in THEME_KEYS} for row in self.themes.to_dict("records")],
            "codes": codes,
            "history": [{k: v for k, v in row.items() if v != ""} for row in self.history.to_dict("records")],
        }


def _fail(message: str, path, line: int | None):
    raise InputError(message, path, line)


def _text(value, what: str, path, line) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        _fail(f"{what} must be text, not a {'mapping' if isinstance(value, dict) else 'list'}", path, line)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value).strip()


def _normalise_indicator(text: str) -> str:
    return " ".join(text.lower().split())


def parse(data: Any, path: str | Path | None = "codebook.yml") -> Codebook:
    """Validate already-loaded YAML data (with ``__line__`` marks when available)."""
    if not isinstance(data, dict):
        _fail("a codebook must be a mapping with version, themes, codes and history", path, 1)
    top_line = data.get(_LINE, 1)
    keylines = data.get(_KEYLINES, {})
    for key in ("version", "themes", "codes", "history"):
        if key not in data:
            _fail(f"missing top-level key '{key}'", path, top_line)
    version = _text(data["version"], "version", path, keylines.get("version", top_line))
    if not version:
        _fail("version must not be empty", path, keylines.get("version", top_line))

    def entries(key: str) -> list:
        value = data[key]
        if not isinstance(value, list) or (key != "history" and not value):
            _fail(f"'{key}' must be a non-empty list", path, keylines.get(key, top_line))
        for i, entry in enumerate(value):
            if not isinstance(entry, dict):
                _fail(f"{key} entry {i + 1} must be a mapping", path, keylines.get(key, top_line))
        return value

    # themes
    themes = []
    seen: dict[str, int] = {}
    for entry in entries("themes"):
        line = entry.get(_LINE)
        kl = entry.get(_KEYLINES, {})
        for key in THEME_KEYS:
            if key not in entry or entry[key] in (None, ""):
                _fail(f"theme {entry.get('id', '?')!s}: missing '{key}'", path, line)
        row = {k: _text(entry[k], f"theme {k}", path, kl.get(k, line)) for k in THEME_KEYS}
        if row["id"] in seen:
            _fail(f"duplicate theme id '{row['id']}' (first on line {seen[row['id']]})", path, line)
        seen[row["id"]] = line
        themes.append(row)
    theme_ids = {t["id"] for t in themes}

    # codes
    codes = []
    code_lines: dict[str, int] = {}
    for entry in entries("codes"):
        line = entry.get(_LINE)
        kl = entry.get(_KEYLINES, {})
        cid = entry.get("id")
        name = f"code '{cid}'" if cid not in (None, "") else "code"
        for key in CODE_REQUIRED:
            if key not in entry or entry[key] in (None, ""):
                _fail(f"{name}: missing '{key}'", path, line)
        row: dict[str, Any] = {}
        for key in CODE_KEYS:
            if key == "indicators":
                continue
            row[key] = _text(entry.get(key), f"{name}: {key}", path, kl.get(key, line))
        if row["id"] in code_lines:
            _fail(f"duplicate code id '{row['id']}' (first on line {code_lines[row['id']]})", path, line)
        if row["theme"] not in theme_ids:
            _fail(f"{name}: unknown theme '{row['theme']}'", path, kl.get("theme", line))
        if row["origin"] not in ORIGINS:
            _fail(
                f"{name}: origin must be deductive, inductive or unknown, not '{row['origin']}'",
                path,
                kl.get("origin", line),
            )
        indicators = entry["indicators"]
        iline = kl.get("indicators", line)
        if not isinstance(indicators, list) or not indicators:
            _fail(f"{name}: indicators must be a non-empty list of strings", path, iline)
        clean = []
        for ind in indicators:
            if not isinstance(ind, str) or not ind.strip():
                _fail(f"{name}: indicators must be a non-empty list of strings (found {ind!r})", path, iline)
            norm = _normalise_indicator(ind)
            if norm.strip("*") == "" or "*" in norm.replace("* ", " ").rstrip("*"):
                _fail(f"{name}: indicator {ind!r}: '*' is allowed only at the end of a word", path, iline)
            clean.append(norm)
        row["indicators"] = clean
        code_lines[row["id"]] = line
        codes.append(row)

    parent_of = {c["id"]: c["parent"] for c in codes}
    for c in codes:
        line = code_lines[c["id"]]
        if c["parent"] and c["parent"] not in parent_of:
            _fail(f"code '{c['id']}': unknown parent '{c['parent']}'", path, line)
        # cycles (including a code that is its own parent)
        seen_chain = {c["id"]}
        p = c["parent"]
        while p:
            if p in seen_chain:
                _fail(f"code '{c['id']}': parent chain loops back through '{p}'", path, line)
            seen_chain.add(p)
            p = parent_of.get(p, "")

    # history
    history = []
    history_lines: list[dict] = []
    for entry in entries("history"):
        line = entry.get(_LINE)
        kl = entry.get(_KEYLINES, {})
        if entry.get("date") in (None, ""):
            _fail("history entry: missing 'date'", path, line)
        row = {}
        for key, value in entry.items():
            if key in (_LINE, _KEYLINES):
                continue
            if str(key) in HISTORY_LIST_KEYS:
                if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
                    _fail(f"history {key} must be a list of codes or sources", path, kl.get(key, line))
                row[str(key)] = [str(v).strip() for v in value]
                continue
            row[str(key)] = _text(value, f"history {key}", path, kl.get(key, line))
        history.append(row)
        history_lines.append({"": line, **{str(k): v for k, v in kl.items()}})
    hist_cols = ["date"]
    for row in history:
        hist_cols += [k for k in row if k not in hist_cols]
    history_df = pd.DataFrame([{k: r.get(k, "") for k in hist_cols} for r in history], columns=hist_cols)

    return Codebook(
        version=version,
        themes=pd.DataFrame(themes, columns=list(THEME_KEYS)),
        codes=pd.DataFrame(codes, columns=list(CODE_KEYS)),
        history=history_df,
        path=None if path is None else str(path),
        history_lines=history_lines,
    )


def loads(text: str, path: str | Path | None = "codebook.yml") -> Codebook:
    """Parse and validate codebook YAML text; errors name ``path``."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"not valid YAML: {exc.problem or exc}", path, line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path) from None
    return parse(data, path)


def load(path: str | Path) -> Codebook:
    """Load and validate ``codebook.yml``."""
    path = Path(path)
    return loads(files.read_text(path, "codebook"), path)


def dumps(codebook: Codebook) -> str:
    """The codebook as YAML text in the ``codebook.yml`` layout (stable key order)."""
    return yaml.safe_dump(codebook.to_dict(), sort_keys=False, allow_unicode=True, width=100)


def dump(codebook: Codebook, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(codebook), encoding="utf-8", newline="\n")
    return path
