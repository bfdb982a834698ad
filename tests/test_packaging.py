import json
import re

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import jsonschema
import pytest
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
                if not p.startswith("-"):
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
    assert cff["license"] == ["MIT", "CC-BY-4.0"]  # code, and text, figures and synthetic data
    ref = cff["preferred-citation"]
    # the journal's record of the DOI (Perspect Med Educ 2025;14(1):725-735), not a title made up from the study
    assert ref["title"] == "Decentralized and Dynamic: The Sociomaterial Flow of Peer-Led Learning in Digital Spaces"
    assert [a["family-names"] for a in ref["authors"]] == ["Han", "Meng", "Peng", "Cleland"]
    assert (ref["volume"], ref["issue"], ref["start"], ref["end"], ref["year"]) == (14, "1", 725, 735, 2025)


def test_licences_split():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    cc = (ROOT / "LICENSE-CC-BY-4.0.md").read_text()
    assert "Attribution 4.0" in cc and "synthetic data" in cc


def test_layout():
    for p in [
        "notebooks",
        "data/raw",
        "data/derived",
        "src/compendium",
        "environment.yml",
        "tests",
        "CITATION.cff",
        "README.md",
        "pyproject.toml",
        "Makefile",
        ".ci/run",
        ".github/workflows/ci.yml",
    ]:
        assert (ROOT / p).exists(), p
    readme = (ROOT / "README.md").read_text()
    assert "make reproduce" in readme and "make test" in readme and "synthetic" in readme.lower()


def test_environment_pip_step_reads_the_constraints_and_keeps_headless_opencv():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip[0] == "-c constraints.txt"  # indirect dependencies pinned as in make reproduce
    assert "opencv-python-headless==" + _pins()["opencv-python-headless"] in pip
    post = (ROOT / "postBuild").read_text()
    assert "uninstall --yes opencv-python" in post and (ROOT / "postBuild").stat().st_mode & 0o111


@pytest.mark.slow
def test_environment_pip_step_resolves_to_the_pins(tmp_path):
    """pip resolves environment.yml's pip step (as conda runs it, from the file's folder) to exactly the versions
    of constraints.txt: nothing left unpinned."""
    import json
    import subprocess
    import sys

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = [p for p in next(d["pip"] for d in env["dependencies"] if isinstance(d, dict)) if p != "-e ."]
    req = ROOT / ".cache" / "environment-pip.txt"
    req.parent.mkdir(exist_ok=True)
    req.write_text(
        "\n".join(p.replace("-c constraints.txt", f"-c {ROOT / 'constraints.txt'}") for p in pip) + f"\n{ROOT}\n"
    )
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(tmp_path / "report.json"),
            "-r",
            str(req),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    resolved = {
        _norm(i["metadata"]["name"]): i["metadata"]["version"]
        for i in json.loads((tmp_path / "report.json").read_text())["install"]
    }
    pins = _pins()
    resolved.pop(_norm(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]), None)
    assert {k: v for k, v in resolved.items() if pins.get(k) != v} == {}
