"""Kernels started ahead of their stage, so that a stage waiting for its upstream stages starts at once.

Starting a Jupyter kernel and importing what a notebook imports (pandas, matplotlib, spaCy, the package) takes
two to four seconds a stage; on the pipeline's critical path (screenshots, coding, themes, report) that is a tenth
of a cold run. While a stage waits for its upstream stages the runner starts its kernel in the stage's own
workspace and environment (:mod:`compendium.reads` records what it imports, as it would) and runs, silently and
outside the notebook's history and namespace, the notebook's own top-level ``import`` statements
(:func:`preload_code`). The
stage then executes its notebook in that kernel (papermill's ``km=``), exactly as in a fresh one: execution
counts start at 1, outputs are the same, nothing else is run. A warm-up that fails in any way is thrown away and
the stage starts a fresh kernel, so a warm kernel can make a stage faster, never different.
"""

from __future__ import annotations

import ast
import asyncio
import json
import threading
from pathlib import Path

START_TIMEOUT = 60  # seconds; as papermill's default start_timeout
PRELOAD_TIMEOUT = 120


def preload_code(notebook: str | Path) -> str:
    """The top-level ``import`` and ``from ... import`` statements of a notebook's code cells, in order, one per
    line, each once. Cells that are not plain Python (magics, shell escapes) are skipped."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    lines: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not (
                isinstance(node, ast.ImportFrom) and node.module == "__future__"
            ):
                line = ast.unparse(node)
                if line not in lines:
                    lines.append(line)
    return "\n".join(lines)


class WarmKernel:
    """A kernel being started (in a thread of its own) and loaded with ``code``; :meth:`take` hands its kernel
    manager to the stage, :meth:`close` shuts it down if nobody took it."""

    def __init__(self, manager_class, cwd: str | Path, code: str, extra_arguments: list[str]):
        self._km = None
        self._taken = False
        self._thread = threading.Thread(
            target=self._start,
            args=(manager_class, str(cwd), code, list(extra_arguments)),
            name="warm-kernel",
            daemon=True,
        )
        self._thread.start()

    def _start(self, manager_class, cwd: str, code: str, extra_arguments: list[str]) -> None:
        async def start():
            km = manager_class(kernel_name="python3")
            await km.start_kernel(cwd=cwd, extra_arguments=extra_arguments)
            kc = km.client()
            try:
                kc.start_channels()
                await kc.wait_for_ready(timeout=START_TIMEOUT)
                if code:
                    # in a namespace of its own: the modules are loaded, but no name is bound before the
                    # notebook's own cell binds it (a notebook using a name too early fails as in a fresh kernel)
                    reply = await kc.execute_interactive(
                        f"exec({code!r}, {{}})",
                        silent=True,
                        store_history=False,
                        allow_stdin=False,
                        timeout=PRELOAD_TIMEOUT,
                    )
                    if reply["content"].get("status") != "ok":
                        raise RuntimeError("the preload failed")
            except BaseException:
                await km.shutdown_kernel(now=True)
                raise
            finally:
                kc.stop_channels()
            return km

        try:
            self._km = asyncio.run(start())
        except Exception:  # noqa: BLE001 - a warm kernel is an optimisation: the stage starts its own instead
            self._km = None

    def take(self):
        """The started kernel's manager, or None when the warm-up failed (the stage then starts a fresh one)."""
        self._thread.join()
        self._taken = True
        return self._km

    def close(self) -> None:
        """Shut the kernel down (whether or not it was taken and used)."""
        self._thread.join()
        km, self._km = self._km, None
        if km is not None and km.has_kernel:
            try:
                asyncio.run(km.shutdown_kernel(now=True))
            except Exception:  # noqa: BLE001 - the process is gone or going; nothing the user can act on
                pass
