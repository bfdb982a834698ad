"""Notebook parameters: declared, typed and checked before any stage runs.

Each notebook's ``parameters`` cell declares its parameters the way papermill reads them, one per line, with a
type annotation, a default and a comment::

    quotes_per_theme: int = 5          # [1..50] exemplar passages per theme
    consensus_rule: str = "union"      # [union|intersection|lead] how coders' codes are combined
    lead_coder: str = "A"              # [coder] the coder whose reading resolves disagreements

The type (``int``, ``float``, ``bool``, ``str``) is the annotation; the bracket at the start of the comment, when
there is one, says which values are allowed:

- ``[a|b|c]``: one of these words;
- ``[1..50]``, ``[1..]``, ``[..10]``, ``[0.0..1.0]``: a number in this range (ends included);
- ``[coder]``: a coder named in the ``coder`` column of the raw ``coding/*.csv`` files;
- ``[spacy pipeline]``: empty, or the name of an installed spaCy pipeline package (nothing is downloaded).

``compendium run -p NAME=VALUE`` values are checked against these declarations (:func:`check`) before any stage
runs: an unknown name, a wrong type, a value out of range or not among the choices is one line naming the
parameter, and exit status 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

TYPES = ("int", "float", "bool", "str")
_TAG = re.compile(r"^\s*\[([^\]]*)\]\s*")
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)?\s*\.\.\s*(-?\d+(?:\.\d+)?)?\s*$")
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    kind: str = ""  # "coder" or "spacy pipeline": checked against the corpus or the installation

    def allowed(self) -> str:
        """The allowed values, as the user reads them in an error message."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.minimum is not None or self.maximum is not None:
            lo = "" if self.minimum is None else _num(self.minimum)
            hi = "" if self.maximum is None else _num(self.maximum)
            if lo and hi:
                return f"from {lo} to {hi}"
            return f"at least {lo}" if lo else f"at most {hi}"
        return self.kind or self.type


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def parse_declaration(name: str, type_name: str, default: str, help_text: str, where: str) -> Parameter:
    """One parameter from papermill's description of it; a declaration the runner cannot check is a bug in the
    notebook, reported as an :class:`InputError` naming it."""
    type_name = (type_name or "").strip()
    if type_name not in TYPES:
        raise InputError(f"parameter '{name}' has no type annotation ({', '.join(TYPES)})", where)
    help_text = help_text or ""
    m = _TAG.match(help_text)
    choices: tuple[str, ...] = ()
    lo = hi = None
    kind = ""
    if m:
        tag = m.group(1).strip()
        help_text = help_text[m.end() :]
        rng = _RANGE.match(tag)
        if rng and type_name in ("int", "float"):
            lo = float(rng.group(1)) if rng.group(1) else None
            hi = float(rng.group(2)) if rng.group(2) else None
        elif tag in ("coder", "spacy pipeline"):
            kind = tag
        elif "|" in tag:
            choices = tuple(c.strip() for c in tag.split("|"))
        else:
            raise InputError(f"parameter '{name}': cannot read the allowed values '[{tag}]'", where)
    return Parameter(name, type_name, default, help_text.strip(), choices, lo, hi, kind)


def parameters_cell(notebook: str | Path) -> str:
    """The source of a notebook's ``parameters``-tagged cell ("" when it has none)."""
    import json

    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if "parameters" in (cell.get("metadata", {}).get("tags") or []):
            src = cell.get("source", "")
            return "".join(src) if isinstance(src, list) else src
    return ""


def read_cell(source: str) -> dict[str, dict]:
    """``{name: {"name", "inferred_type_name", "default", "help"}}`` of a parameters cell, read the way papermill's
    ``inspect_notebook`` reads it (``name: type = default  # help``), without importing papermill (which takes
    a second: a rerun with nothing to do checks parameters too). tests/test_parameters.py checks they agree."""
    import ast
    import io
    import tokenize

    comments: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string[1:].strip()
        tree = ast.parse(source)
    except (SyntaxError, tokenize.TokenError) as e:
        raise InputError(f"the parameters cell is not valid Python ({e})") from None
    out = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, type_name = node.target.id, ast.unparse(node.annotation)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, type_name = node.targets[0].id, "None"
        else:
            continue
        default = ast.get_source_segment(source, node.value) if node.value is not None else ""
        out[name] = {
            "name": name,
            "inferred_type_name": type_name,
            "default": default,
            "help": comments.get(node.end_lineno, ""),
        }
    return out


def declared(notebook: str | Path) -> dict[str, Parameter]:
    """The parameters a notebook declares in its ``parameters`` cell (see :func:`read_cell`)."""
    out = {}
    for name, d in read_cell(parameters_cell(notebook)).items():
        out[name] = parse_declaration(name, d["inferred_type_name"], d["default"], d["help"], Path(notebook).name)
    return out


def coerce(p: Parameter, value):
    """``value`` (text from ``-p``, or already typed) as ``p``'s type, checked against its allowed values."""
    where = f"-p {p.name}"
    text = str(value).strip() if not isinstance(value, bool) else ("true" if value else "false")
    if p.type == "bool":
        if isinstance(value, bool):
            out = value
        elif text.lower() in _TRUE | _FALSE:
            out = text.lower() in _TRUE
        else:
            raise InputError(f"parameter '{p.name}' must be true or false, not '{text}'", where)
    elif p.type == "int":
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", text):
            raise InputError(f"parameter '{p.name}' must be a whole number ({p.allowed()}), not '{text}'", where)
        out = int(text)
    elif p.type == "float":
        try:
            out = float(text)
        except ValueError:
            raise InputError(f"parameter '{p.name}' must be a number ({p.allowed()}), not '{text}'", where) from None
        if out != out or out in (float("inf"), float("-inf")):
            raise InputError(f"parameter '{p.name}' must be a finite number, not '{text}'", where)
    else:
        out = "" if value is None else str(value)
    if p.minimum is not None and out < p.minimum or p.maximum is not None and out > p.maximum:
        raise InputError(f"parameter '{p.name}' must be {p.allowed()}, not {text}", where)
    if p.choices and out not in p.choices:
        raise InputError(f"parameter '{p.name}' must be {p.allowed()}, not '{text}'", where)
    return out


def coders(raw: str | Path) -> list[str]:
    """The coders named in the raw coding files (``coder`` column), sorted."""
    from .files import read_csv_records

    found: set[str] = set()
    for f in sorted((Path(raw) / "coding").glob("*.csv")):
        header, _line, records = read_csv_records(f, "coding file")
        if header and "coder" in header:
            k = header.index("coder")
            found.update(fields[k].strip() for _, fields in records if k < len(fields))
    return sorted(c for c in found if c)


def check_kind(p: Parameter, value, raw: str | Path) -> None:
    """The checks that need the corpus or the installation: ``[coder]`` and ``[spacy pipeline]``."""
    where = f"-p {p.name}"
    if p.kind == "coder":
        known = coders(raw)
        if value not in known:
            raise InputError(
                f"parameter '{p.name}' must be a coder of the coding files ({', '.join(known) or 'none'}"
                f"), not '{value}'",
                where,
            )
    elif p.kind == "spacy pipeline" and value:
        import importlib.util

        if not re.fullmatch(r"[A-Za-z0-9_]+", str(value)) or importlib.util.find_spec(str(value)) is None:
            raise InputError(
                f"parameter '{p.name}': spaCy pipeline '{value}' is not installed (install its "
                "package, or leave it empty for the blank English pipeline)",
                where,
            )


def check(
    given: dict, notebooks: dict[str, dict[str, Parameter]], raw: str | Path, reserved: tuple[str, ...] = ()
) -> dict:
    """``given`` (``{name: text}`` from ``-p``) typed and checked against every notebook that declares each name.

    ``notebooks`` is ``{notebook name: declared(...)}``; ``reserved`` are names the runner sets itself (paths).
    Returns the typed values. Raises :class:`InputError` (one line naming the parameter) on the first problem."""
    usable = sorted({n for d in notebooks.values() for n in d} - set(reserved))
    out = {}
    for name, value in given.items():
        decls = [d[name] for d in notebooks.values() if name in d]
        if not decls or name in reserved:
            raise InputError(f"unknown parameter '{name}' (notebook parameters: {', '.join(usable)})", "-p")
        typed = None
        for p in decls:  # a name declared by several notebooks must satisfy each declaration
            typed = coerce(p, value)
            check_kind(p, typed, raw)
        out[name] = typed
    return out
