"""Notebook parameters are declared with types and allowed values, and `-p` is checked before any stage runs."""

from __future__ import annotations

import pytest

from compendium import parameters, runner
from compendium.errors import InputError

from conftest import RAW, ROOT, compendium, one_line_exit_2

NOTEBOOKS = {s.notebook: parameters.declared(ROOT / "notebooks" / s.notebook) for s in runner.STAGES}


def test_every_notebook_parameter_has_a_type_papermill_shows():
    import papermill

    for s in runner.STAGES:
        for name, d in papermill.inspect_notebook(str(ROOT / "notebooks" / s.notebook)).items():
            assert d["inferred_type_name"] in parameters.TYPES, (s.notebook, name, d)
            assert d["help"], (s.notebook, name)


def test_the_package_reads_parameters_cells_as_papermill_does():
    import papermill

    for s in runner.STAGES:
        nb = ROOT / "notebooks" / s.notebook
        assert parameters.read_cell(parameters.parameters_cell(nb)) == papermill.inspect_notebook(str(nb))
    cell = 'a: int = 3  # [1..] x\nb = "q"\nc: float = 0.5\n'
    assert parameters.read_cell(cell) == {
        "a": {"name": "a", "inferred_type_name": "int", "default": "3", "help": "[1..] x"},
        "b": {"name": "b", "inferred_type_name": "None", "default": '"q"', "help": ""},
        "c": {"name": "c", "inferred_type_name": "float", "default": "0.5", "help": ""},
    }


def test_every_default_satisfies_its_own_declaration():
    import ast

    for nb, decls in NOTEBOOKS.items():
        for p in decls.values():
            default = ast.literal_eval(p.default)
            assert parameters.coerce(p, default) == default, (nb, p.name)
            if p.kind:
                parameters.check_kind(p, default, RAW)


def test_declarations_are_read():
    p = parameters.parse_declaration("k", "int", "5", "[1..50] how many", "nb")
    assert (p.minimum, p.maximum, p.help) == (1, 50, "how many")
    p = parameters.parse_declaration("r", "str", '"a"', "[a|b | c] rule", "nb")
    assert p.choices == ("a", "b", "c")
    assert parameters.parse_declaration("c", "str", '"A"', "[coder] who", "nb").kind == "coder"
    with pytest.raises(InputError, match="no type annotation"):
        parameters.parse_declaration("x", "None", "1", "", "nb")
    with pytest.raises(InputError, match="cannot read the allowed values"):
        parameters.parse_declaration("x", "str", '"a"', "[whatever] x", "nb")


@pytest.mark.parametrize(
    "name,value,typed",
    [
        ("quotes_per_theme", "3", 3),
        ("min_quote_chars", "0", 0),
        ("consensus_rule", "lead", "lead"),
        ("lead_coder", "B", "B"),
        ("unit", "turn", "turn"),
        ("spacy_model", "", ""),
        ("jobs", "2", 2),
    ],
)
def test_good_values_are_typed(name, value, typed):
    out = parameters.check({name: value}, NOTEBOOKS, RAW, reserved=runner.PATH_PARAMETERS)
    assert out == {name: typed} and type(out[name]) is type(typed)


@pytest.mark.parametrize(
    "name,value,needle",
    [
        ("quotes_per_theme", "abc", "must be a whole number"),
        ("quotes_per_theme", "-1", "from 1 to 50"),
        ("quotes_per_theme", "2.5", "must be a whole number"),
        ("quotes_per_theme", "true", "must be a whole number"),
        ("min_quote_chars", "-5", "from 0 to 2000"),
        ("jobs", "0", "at least 1"),
        ("n_worst", "x", "whole number"),
        ("consensus_rule", "majority", "one of union, intersection, lead"),
        ("unit", "paragraph", "one of sentence, line, turn"),
        ("reliability_universe", "all", "one of sources, coded"),
        ("ocr_engine", "easyocr", "one of rapidocr, tesseract"),
        ("lead_coder", "Z", "a coder of the coding files (A, B)"),
        ("spacy_model", "en_core_web_zz", "is not installed"),
        ("spacy_model", "../../etc", "is not installed"),
        ("raw_dir", "/etc", "unknown parameter"),
        ("colour", "blue", "unknown parameter"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(name, value, needle):
    with pytest.raises(InputError) as e:
        parameters.check({name: value}, NOTEBOOKS, RAW, reserved=runner.PATH_PARAMETERS)
    assert needle in str(e.value) and (name in str(e.value))


@pytest.mark.parametrize(
    "param,needle",
    [
        ("quotes_per_theme=abc", "quotes_per_theme"),
        ("quotes_per_theme=-1", "from 1 to 50"),
        ("quotes_per_theme=2.5", "whole number"),
        ("lead_coder=Z", "lead_coder"),
        ("jobs=0", "at least 1"),
    ],
)
def test_compendium_run_refuses_a_bad_parameter_before_any_stage(tmp_path, param, needle):
    r = compendium(
        "run", "--derived", tmp_path / "d", "--reports", tmp_path / "r", "-p", param, "-p", "consensus_rule=lead"
    )
    one_line_exit_2(r, needle, "-p")
    assert not (tmp_path / "d").exists() and not (tmp_path / "r").exists()
