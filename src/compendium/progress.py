"""Progress of a ``compendium run``: bars on a terminal, plain lines everywhere else.

The rule
    Bars (:mod:`tqdm`) are drawn only when standard output is a terminal and the run is not ``--quiet``: one
    line for the stages (how many of those selected are done, which are running) and, while the screenshots
    stage reads its pages, one for the OCR (``OCR 12/35 pages``). Anywhere else (CI logs, a pipe, a file,
    ``--quiet``) there are no bars and no carriage returns: the runner prints its plain one-line-per-step log
    (a ``started`` line when a stage starts, the ``ran in`` / ``skipped`` / ``kept`` lines as before). The
    per-stage lines are printed in both cases; on a terminal the bars are cleared when the run ends.

Progress never enters a notebook's output or any derived file, so outputs stay byte for byte the same with or
without a terminal.

Two ends, one file
    The OCR runs inside a notebook's Jupyter kernel, out of the runner's sight. So the runner names a file in
    the kernel's environment (:data:`ENV`), and the kernel side (:func:`step`, called once per finished page
    by :func:`compendium.screenshots.iter_read`) appends one line to it per step: ``LABEL<TAB>TOTAL<TAB>UNIT``.
    Without the variable (a notebook opened in JupyterLab, the tests) :func:`step` does nothing. The runner
    side (:func:`watch`) polls the file from a thread (:class:`Tally` counts the lines) and drives a bar.

Runner side, in :mod:`compendium.runner`: :func:`terminal` around the stages of a run makes the display active
(or not, by the rule above); :func:`echo` prints a log line (through :func:`tqdm.tqdm.write` while bars are
shown, so they are not garbled); :func:`stage_started` / :func:`stage_finished` move the stages bar;
:func:`watch` around a stage's kernel shows its steps. With no active display these are plain prints or
no-ops.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

ENV = "COMPENDIUM_PROGRESS"
FILE_NAME = ".progress"  # in the stage's workspace (compendium.runner.make_staging)
POLL_SECONDS = 0.2


# --- the kernel side -------------------------------------------------------------------------------------------


def step(label: str, total: int, unit: str = "pages") -> None:
    """One step of ``total`` (one page read) is finished: append a line to the file :data:`ENV` names. Does
    nothing when the variable is unset, and never fails the caller (progress is a convenience)."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = f"{_clean(label)}\t{int(total)}\t{_clean(unit)}\n".encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)  # one write of one short line with O_APPEND: whole lines, even from two writers
        finally:
            os.close(fd)
    except OSError:
        pass


def _clean(text: str) -> str:
    return " ".join(str(text).split()) or "?"


# --- the runner side -------------------------------------------------------------------------------------------


class Tally:
    """Counts the steps in a progress file, reading only what was appended since the last :meth:`poll`."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        self.offset = 0
        self.rest = b""
        self.counts: dict[str, list] = {}  # label -> [done, total, unit], in the order labels first appear

    def poll(self) -> dict[str, tuple[int, int, str]]:
        """``{label: (done, total, unit)}`` so far; a missing file counts nothing."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            data = b""
        self.offset += len(data)
        *lines, self.rest = (self.rest + data).split(b"\n")
        for raw in lines:
            parts = raw.decode("utf-8", "replace").split("\t")
            if len(parts) < 2 or not parts[1].strip().isdigit():
                continue
            label, total = parts[0], int(parts[1])
            unit = parts[2] if len(parts) > 2 and parts[2] else "pages"
            c = self.counts.setdefault(label, [0, total, unit])
            c[0] += 1
            c[1], c[2] = max(total, c[0]), unit
        return {k: (v[0], v[1], v[2]) for k, v in self.counts.items()}


def wanted(quiet: bool, stream=None) -> bool:
    """Bars or not, by the rule in the module docstring: ``stream`` (standard output) is a terminal and not
    ``quiet``."""
    stream = sys.stdout if stream is None else stream
    if quiet:
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


STAGES_FORMAT = "{desc} {n_fmt}/{total_fmt} done{postfix}"
STEPS_FORMAT = "{desc} {n_fmt}/{total_fmt} {unit} |{bar:24}| {elapsed}<{remaining}"


class Display:
    """The bars of one run on a terminal: the stages bar, and one bar per label a watched stage reports."""

    def __init__(self, n_stages: int, stream=None) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self.stream = sys.stdout if stream is None else stream
        self.lock = threading.RLock()
        self.running: list[str] = []
        self.width = _sized(self.stream)
        self.stages = tqdm(
            total=n_stages,
            desc="stages",
            bar_format=STAGES_FORMAT,
            file=self.stream,
            leave=False,
            mininterval=0,
            **self.width,
        )

    def _show_running(self) -> None:
        # tqdm puts ", " before a postfix: "stages 2/6 done, running: coding, information_flow"
        self.stages.set_postfix_str(f"running: {', '.join(self.running)}" if self.running else "", refresh=True)

    def started(self, name: str) -> None:
        with self.lock:
            if name not in self.running:
                self.running.append(name)
            self._show_running()

    def finished(self, name: str) -> None:
        with self.lock:
            if name in self.running:
                self.running.remove(name)
            self.stages.update(1)
            self._show_running()

    def write(self, msg: str) -> None:
        with self.lock:
            self._tqdm.write(msg, file=self.stream)
            self.stream.flush()

    def bar(self, label: str, total: int, unit: str):
        with self.lock:
            return self._tqdm(
                total=total,
                desc=label,
                unit=unit,
                bar_format=STEPS_FORMAT,
                file=self.stream,
                leave=False,
                mininterval=0,
                **self.width,
            )

    def close(self) -> None:
        with self.lock:
            self.stages.close()


def _sized(stream) -> dict:
    """tqdm's size arguments: follow the terminal's size, unless it reports none (a pseudo-terminal whose size was
    never set says 0 x 0, and tqdm would then draw nothing, or hide every bar as below the last row): 80 x 24."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        size = os.terminal_size((0, 0))
    out: dict = {"dynamic_ncols": True} if size.columns > 0 else {"ncols": 80}
    if size.lines <= 0:
        out["nrows"] = 24
    return out


_active: Display | None = None


@contextlib.contextmanager
def terminal(n_stages: int, enabled: bool):
    """Make a :class:`Display` of ``n_stages`` stages the active one for the block, if ``enabled`` (see
    :func:`wanted`); yields it, or None."""
    global _active
    if not enabled or _active is not None:  # a nested run (none today) shares the outer display
        yield _active if enabled else None
        return
    _active = Display(n_stages)
    try:
        yield _active
    finally:
        display, _active = _active, None
        display.close()


def active() -> bool:
    return _active is not None


def echo(msg: str) -> None:
    """Print a log line: above the bars when they are shown, else a plain print."""
    display = _active
    if display is not None:
        display.write(msg)
    else:
        print(msg, flush=True)


def stage_started(name: str) -> None:
    if _active is not None:
        _active.started(name)


def stage_finished(name: str) -> None:
    if _active is not None:
        _active.finished(name)


class _Watcher:
    """Polls a progress file from a thread and moves one bar per label in it."""

    def __init__(self, display: Display, path) -> None:
        self.display, self.tally = display, Tally(path)
        self.bars: dict = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="compendium-progress", daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(POLL_SECONDS):
            self.update()

    def update(self) -> None:
        for label, (done, total, unit) in self.tally.poll().items():
            bar = self.bars.get(label)
            if bar is None:
                bar = self.bars[label] = self.display.bar(label, total, unit)
            with self.display.lock:
                if bar.total != total:
                    bar.total = total
                if done > bar.n:
                    bar.n = done
                    bar.refresh()  # drawn now, once

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.update()  # the last steps, shown before the bars go
        with self.display.lock:
            for bar in self.bars.values():
                bar.close()


@contextlib.contextmanager
def watch(path):
    """While the block runs, show the steps a kernel appends to ``path`` (a file named by :data:`ENV` in its
    environment) as bars; with no active display, nothing."""
    display = _active
    if display is None or not path:
        yield
        return
    watcher = _Watcher(display, path)
    watcher.thread.start()
    try:
        yield
    finally:
        watcher.close()
