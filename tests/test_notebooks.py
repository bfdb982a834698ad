import json

import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_six_notebooks_in_order():
    assert [p.name for p in NOTEBOOKS] == [
        "01_screenshots.ipynb",
        "02_transcripts.ipynb",
        "03_coding.ipynb",
        "04_themes.ipynb",
        "05_information_flow.ipynb",
        "06_report.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_shape(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one parameters cell"
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "from compendium import" in code
    for c in cells:
        if c["cell_type"] == "code":
            assert c["outputs"] == [] and c["execution_count"] is None, "committed without outputs"
    md = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "Synthetic corpus" in md and "Try this" in md
    # the package does the work: no function or class definitions in notebooks
    assert "\ndef " not in "\n" + code and "\nclass " not in "\n" + code
