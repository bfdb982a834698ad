"""Kernels started ahead of their stage (compendium.kernels): a warm kernel makes a stage faster, never different."""

from __future__ import annotations

import json

import nbformat
import papermill
import pytest

from compendium import kernels, runner


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(path))
    return path


def test_preload_code_is_the_notebooks_top_level_imports_once_each(tmp_path):
    nb = _notebook(
        tmp_path / "a.ipynb",
        "from __future__ import annotations\nimport json\nfrom pathlib import Path as P\nx = 1",
        "%matplotlib inline\nimport os",  # not Python: skipped whole
        "import json\ndef f():\n    import csv\n    return csv\nimport math, sys",
    )
    assert kernels.preload_code(nb).splitlines() == ["import json", "from pathlib import Path as P", "import math, sys"]


def test_every_pipeline_notebook_preloads_the_package(tmp_path):
    for stage in runner.STAGES:
        code = kernels.preload_code(runner.find_project() / "notebooks" / stage.notebook)
        assert "compendium" in code, stage.notebook
        compile(code, stage.notebook, "exec")


def _run(tmp_path, nb, km=None):
    out = tmp_path / ("warm.ipynb" if km else "cold.ipynb")
    papermill.execute_notebook(
        str(nb),
        str(out),
        kernel_name="python3",
        progress_bar=False,
        km=km,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    return nbformat.read(str(out), as_version=4)


def _cells(nb):
    return [(c.execution_count, json.dumps(c.outputs, sort_keys=True)) for c in nb.cells]


def test_a_notebook_run_in_a_warm_kernel_reads_as_in_a_fresh_one(tmp_path):
    nb = _notebook(
        tmp_path / "a.ipynb",
        "import json, sys\nprint(sorted(k for k in globals() if k[0] != '_'))",
        "import os\nprint(os.path.basename(os.getcwd()), len(In))",
        "json.dumps([1])",
    )
    cold = _run(tmp_path, nb)
    warm = kernels.WarmKernel(
        runner._quiet_kernel_manager(), tmp_path, kernels.preload_code(nb), runner.KERNEL_ARGUMENTS
    )
    km = warm.take()
    assert km is not None and km.has_kernel
    try:
        hot = _run(tmp_path, nb, km)
    finally:
        warm.close()
    assert not km.has_kernel
    assert _cells(hot) == _cells(cold)  # same counts from 1, same names defined, same history, same outputs
    assert [c.execution_count for c in hot.cells] == [1, 2, 3]


@pytest.mark.parametrize("code", ["import no_such_module_here", "raise SystemExit(3)"])
def test_a_failed_warm_up_is_thrown_away(tmp_path, code):
    warm = kernels.WarmKernel(runner._quiet_kernel_manager(), tmp_path, code, runner.KERNEL_ARGUMENTS)
    assert warm.take() is None  # the stage then starts a fresh kernel
    warm.close()
