import json
import re
try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import jsonschema
import yaml

from conftest import ROOT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[_norm(name)] = version.split(";")[0].strip()
    return pins


def test_environment_yml_agrees_with_pyproject_and_pins():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {_norm(re.split(r"[<>=!~ \[;]", d)[0]) for d in deps}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, {}
    for d in env["dependencies"]:
        if isinstance(d, dict):
            for p in d["pip"]:
                if not p.startswith("-e"):
                    n, _, v = p.partition("==")
                    pip[_norm(n)] = v
        else:
            n, _, v = d.partition("=")
            conda[_norm(n)] = v
    env_names = (set(conda) | set(pip)) - {"python", "pip", "opencv-python-headless"}
    assert env_names == names
    pins = _pins()
    for name, version in {**conda, **pip}.items():
        if name in pins:
            assert version == pins[name], name
    for name in names:
        assert name in pins, f"{name} is not pinned in constraints.txt"


def test_citation_cff_is_valid_and_prefers_the_study():
    schema = json.loads((ROOT / "tests" / "data" / "cff-schema-1.2.0.json").read_text())
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    jsonschema.validate(cff, schema)
    assert cff["preferred-citation"]["doi"] == "10.5334/pme.2107"
    assert "SYNTHETIC" in cff["message"] and cff["type"] == "software"


def test_licences_split():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    cc = (ROOT / "LICENSE-CC-BY-4.0.md").read_text()
    assert "Attribution 4.0" in cc and "synthetic data" in cc


def test_layout():
    for p in ["notebooks", "data/raw", "data/derived", "src/compendium", "environment.yml", "tests", "CITATION.cff",
              "README.md", "pyproject.toml", "Makefile", ".ci/run", ".github/workflows/ci.yml"]:
        assert (ROOT / p).exists(), p
    readme = (ROOT / "README.md").read_text()
    assert "make reproduce" in readme and "make test" in readme and "synthetic" in readme.lower()
