"""The study facts (``study.yml``, SPEC 4), read once and checked against a schema.

``study.yml`` holds what the data cannot say: title, design, setting, dates, team and reflexivity, sampling,
ethics ... The report and the COREQ/SRQR checklists (:mod:`compendium.checklists`) quote it. A key the checklists
look up and do not find is answered "not reported"; a key present with the wrong shape (a ``team`` that is not a
list, a ``design`` that is text, ``repeat_interviews: no`` read by YAML as *false*) would silently be "not
reported" too, so :func:`load_study` refuses it.

The schema is ``schemas/study.schema.json`` (JSON Schema 2020-12): the sections SPEC 4 names are required
(``title``, ``design``, ``setting``, ``dates``, ``team``, ``reflexivity``, ``sampling``, ``ethics``); every key the
checklists read is typed; ``synthetic: true`` needs a ``synthetic_notice``; other keys may be added.

Errors are one :class:`~compendium.errors.InputError` naming ``study.yml`` and the line: for YAML that does not
parse, the line of the problem; for a schema error, the key path (``team[1].role``) and the line of that key. A
value is never quoted back (study facts can name people).
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from pathlib import Path

import yaml

from . import files
from .errors import InputError

FILE_NAME = "study.yml"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "study.schema.json"


@functools.lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON schema of ``study.yml``."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema

    cls = jsonschema.validators.validator_for(schema())
    return cls(schema())


def _parse(text: str, path: Path):
    """``(data, node)``: the YAML document and its node tree (for the line of each key)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or getattr(e, "context", None) or "cannot be parsed"
        raise InputError(f"not valid YAML ({problem})", path, None if mark is None else mark.line + 1) from None
    finally:
        loader.dispose()
    return data, node


def _duplicate_keys(node, path: Path, where: str = "") -> None:
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            name = f"{where}.{key}" if where else str(key)
            if key is not None:
                if key in seen:
                    raise InputError(f"key '{name}' appears twice", path, k.start_mark.line + 1)
                seen.add(key)
            _duplicate_keys(v, path, name)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _duplicate_keys(v, path, f"{where}[{i}]")


def _dates_to_text(value):
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_to_text(v) for v in value]
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return value


def key_path(parts) -> str:
    """``["team", 1, "role"]`` -> ``team[1].role``."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _node_at(node, parts):
    """``(node, line)`` of the value at ``parts``; the line is that of its key (or list item)."""
    line = None if node is None else node.start_mark.line + 1
    for p in parts:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(p):
                    node, line = v, k.start_mark.line + 1
                    break
            else:
                return None, line
        elif isinstance(node, yaml.SequenceNode) and isinstance(p, int) and p < len(node.value):
            node = node.value[p]
            line = node.start_mark.line + 1
        else:
            return None, line
    return node, line


_TYPES = {
    "string": "text",
    "object": "a mapping (key: value)",
    "array": "a list",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "null": "empty",
}


# what a YAML value is, in words (bool before int: True is an int in Python)
_KINDS = (
    (bool, "true/false"),
    (str, "text"),
    (dict, "a mapping"),
    (list, "a list"),
    (int, "a whole number"),
    (float, "a number"),
    (type(None), "empty"),
)


def _kind(value) -> str:
    return next((word for t, word in _KINDS if isinstance(value, t)), type(value).__name__)


def _expected(sub: dict) -> str:
    if "x-expected" in sub:
        return sub["x-expected"]
    if "anyOf" in sub or "oneOf" in sub:
        return " or ".join(_expected(s) for s in sub.get("anyOf", sub.get("oneOf")))
    types = sub.get("type")
    if types is None:
        return "of another form"
    types = [types] if isinstance(types, str) else [t for t in types if t != "null"]
    return " or ".join(_TYPES.get(t, t) for t in types)


def _message(err) -> tuple[str, list]:
    """The error's message (never its value) and the key path it is about."""
    parts = list(err.absolute_path)
    where = key_path(parts)
    v = err.validator
    if v == "required":
        missing = next(
            (k for k in err.validator_value if not isinstance(err.instance, dict) or k not in err.instance),
            err.validator_value[0],
        )
        full = key_path(parts + [missing])
        why = " (synthetic is true)" if missing == "synthetic_notice" else ""
        return f"missing required key '{full}'{why}", parts
    if v in ("anyOf", "oneOf"):
        # the value has the type of one branch (a list) but breaks that branch's rule (an empty list): say that
        inner = [e for e in err.context if e.validator != "type"]
        if inner:
            return _message(min(inner, key=lambda e: len(list(e.absolute_path))))
    if v in ("type", "anyOf", "oneOf"):
        return f"'{where}' must be {_expected(err.schema)}, not {_kind(err.instance)}", parts
    if v == "minLength":
        return f"'{where}' is empty", parts
    if v == "minItems":
        return f"'{where}' must list at least {err.validator_value}", parts
    if v == "maxItems":
        return f"'{where}' must list at most {err.validator_value}", parts
    if v == "minimum":
        return f"'{where}' must be at least {err.validator_value}", parts
    if v == "pattern":
        return f"'{where}' must be {_expected(err.schema)}", parts
    return f"'{where or 'study facts'}' does not match the schema ({v})", parts


def validate(data, node=None, path: str | Path = FILE_NAME) -> None:
    """Check ``data`` (the parsed ``study.yml``) against the schema; the first error, in file order, is raised."""
    path = Path(path)
    errors = []
    for err in _validator().iter_errors(data):
        msg, parts = _message(err)
        _, line = _node_at(node, parts)
        if err.validator == "required" and not parts:
            line = None
        errors.append((line or 0, -len(parts), msg))
    if errors:
        line, _, msg = min(errors)
        raise InputError(msg, path, line or None)


def load_study(path: str | Path) -> dict:
    """Read ``study.yml`` (strict UTF-8 text), parse it and check it against the schema; dates become ISO text.

    Raises :class:`InputError` naming the file (and line) for a missing file, a binary file, a control
    character, YAML that does not parse, a key given twice, a document that is not a mapping, and every schema
    error (a missing required key, a value of the wrong type, an empty required text ...).
    """
    path = Path(path)
    text = files.read_text(path, "study description (study.yml)")
    data, node = _parse(text, path)
    if data is None:
        raise InputError(
            "empty file: expected the study facts (title, design, setting, dates, team, reflexivity, sampling, ethics)",
            path,
        )
    if not isinstance(data, dict):
        raise InputError(
            f"expected a mapping of study facts (key: value), found {_kind(data)}", path, node.start_mark.line + 1
        )
    _duplicate_keys(node, path)
    data = _dates_to_text(data)
    validate(data, node, path)
    return data
