"""Progress (compendium.progress): bars on a terminal only; the kernel side writes nothing without its variable."""

from __future__ import annotations

import csv
import fcntl
import io
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import pytest
from conftest import ROOT, compendium

from compendium import progress

# --- the kernel side -------------------------------------------------------------------------------------------


def test_step_without_the_variable_does_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    progress.step("OCR", 3)
    assert list(tmp_path.iterdir()) == []


def test_step_appends_one_line_per_step(tmp_path, monkeypatch):
    path = tmp_path / "p"
    monkeypatch.setenv(progress.ENV, str(path))
    for _ in range(3):
        progress.step("OCR", 3)
    assert path.read_text(encoding="utf-8").splitlines() == ["OCR\t3\tpages"] * 3


def test_step_never_fails_the_caller(tmp_path, monkeypatch):
    monkeypatch.setenv(progress.ENV, str(tmp_path / "no-such-folder" / "p"))
    progress.step("OCR", 3)  # no error


# --- the runner side -------------------------------------------------------------------------------------------


def test_tally_counts_what_was_appended(tmp_path):
    path = tmp_path / "p"
    tally = progress.Tally(path)
    assert tally.poll() == {}  # no file yet
    path.write_bytes(b"OCR\t5\tpages\nOCR\t5\tpages\n")
    assert tally.poll() == {"OCR": (2, 5, "pages")}
    with open(path, "ab") as f:
        f.write(b"OCR\t5\tpages\nOC")  # half a line: not counted yet
    assert tally.poll() == {"OCR": (3, 5, "pages")}
    with open(path, "ab") as f:
        f.write(b"R\t5\tpages\nnonsense\nredact\t2\n")
    assert tally.poll() == {"OCR": (4, 5, "pages"), "redact": (1, 2, "pages")}


def test_wanted_only_on_a_terminal_and_not_quiet():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert progress.wanted(False, Tty())
    assert not progress.wanted(True, Tty())
    assert not progress.wanted(False, io.StringIO())


def test_without_a_display_echo_prints_and_hooks_do_nothing(tmp_path, capsys):
    assert not progress.active()
    progress.stage_started("screenshots")
    with progress.watch(tmp_path / "p"):
        progress.echo("  screenshots       ran in 1.0 s")
    progress.stage_finished("screenshots")
    assert capsys.readouterr().out == "  screenshots       ran in 1.0 s\n"


def test_display_draws_the_steps_a_file_reports(tmp_path, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(progress, "POLL_SECONDS", 0.01)
    path = tmp_path / "p"
    monkeypatch.setenv(progress.ENV, str(path))
    with progress.terminal(2, enabled=progress.wanted(False)):
        assert progress.active()
        progress.stage_started("screenshots")
        with progress.watch(path):
            for _ in range(3):
                progress.step("OCR", 3)
                time.sleep(0.03)
        progress.echo("  screenshots       ran in 1.0 s")
        progress.stage_finished("screenshots")
    assert not progress.active()
    text = out.getvalue()
    assert "OCR 3/3 pages" in text and "stages 0/2 done, running: screenshots" in text
    assert "stages 1/2 done" in text and "  screenshots       ran in 1.0 s\n" in text


def test_a_terminal_of_no_size_still_gets_bars():
    """A pseudo-terminal whose size was never set says 0 x 0; tqdm would draw nothing at that size."""
    leader, follower = pty.openpty()
    try:
        stream = io.TextIOWrapper(os.fdopen(os.dup(follower), "wb", buffering=0), write_through=True)
        assert progress.wanted(False, stream)
        display = progress.Display(2, stream)
        display.started("coding")
        display.finished("coding")
        display.close()
        stream.close()
        shown, deadline = b"", time.monotonic() + 10  # a pseudo-terminal passes bytes on asynchronously
        while b"stages 1/2 done, running: coding" not in shown and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                shown += os.read(leader, 65536)
        assert b"stages 1/2 done, running: coding" in shown, shown
    finally:
        os.close(leader)
        os.close(follower)


# --- end to end: `compendium run` on a terminal and through a pipe ---------------------------------------------

KEEP = ("WITI-001", "WITI-002", "WITI-003")


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    """A synthetic corpus cut down to three screenshots (and their transcription), with its manifest rewritten."""
    raw = tmp_path_factory.mktemp("progress") / "raw"
    r = compendium("synth", "--out", raw)
    assert r.returncode == 0, r.stderr
    shots = raw / "private" / "screenshots"
    for p in shots.iterdir():
        if p.suffix.lower() in (".png", ".jpg", ".jpeg") and p.stem not in KEEP:
            p.unlink()
    transcribed = shots / "transcribed.csv"
    if transcribed.is_file():
        with open(transcribed, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        with open(transcribed, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows([rows[0]] + [row for row in rows[1:] if row[0] in KEEP])
    r = compendium("manifest", raw)
    assert r.returncode == 0, r.stderr
    return raw


def _run_args(raw: Path, out: Path) -> list[str]:
    exe = shutil.which("compendium", path=str(Path(sys.executable).parent)) or "compendium"
    return [
        exe,
        "run",
        "--only",
        "screenshots",
        "--force",
        "--raw",
        str(raw),
        "--derived",
        str(out / "derived"),
        "--reports",
        str(out / "reports"),
        "--cache",
        str(out / "cache"),
    ]


def _run_on_a_terminal(args: list[str], timeout: float = 300, columns: int = 100) -> tuple[int, str]:
    """Run with standard output on a pseudo-terminal ``columns`` wide (0: its size never set); returns the exit
    status and everything written to it (and, if it failed, its standard error)."""
    leader, follower = pty.openpty()
    if columns:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    chunks, deadline = [], time.monotonic() + timeout
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=follower, stderr=errors)
        os.close(follower)
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([leader], [], [], 0.5)
                if ready:
                    try:
                        data = os.read(leader, 65536)
                    except OSError:  # EIO: the child closed the terminal
                        break
                    if not data:
                        break
                    chunks.append(data)
                elif proc.poll() is not None:
                    break
        finally:
            os.close(leader)
        rc = proc.wait(timeout=60)
        errors.seek(0)
        err = errors.read().decode("utf-8", "replace")
    return rc, b"".join(chunks).decode("utf-8", "replace") + (f"\n[stderr]\n{err}" if rc else "")


@pytest.mark.slow
def test_bars_on_a_terminal_plain_lines_in_a_pipe(small_corpus, tmp_path):
    rc, shown = _run_on_a_terminal(_run_args(small_corpus, tmp_path / "tty"))
    assert rc == 0, shown[-3000:]
    assert "OCR 3/3 pages |" in shown and "\rOCR " in shown, shown[-3000:]
    assert "stages 0/1 done, running: screenshots" in shown, shown[-3000:]
    assert "  screenshots       ran in " in shown

    piped = subprocess.run(
        _run_args(small_corpus, tmp_path / "pipe"), cwd=ROOT, capture_output=True, check=False, stdin=subprocess.DEVNULL
    )  # bytes: text mode would turn a carriage return into \n
    out, err = piped.stdout.decode("utf-8"), piped.stderr.decode("utf-8")
    assert piped.returncode == 0, out[-3000:] + err[-3000:]
    assert "\r" not in out and "\r" not in err and "\x1b" not in out
    assert "OCR" not in out + err and "stages" not in out and "pages" not in out
    lines = out.splitlines()
    assert lines[1:] == ["  screenshots       started", lines[2]] and lines[2].startswith("  screenshots       ran in ")

    # the same outputs either way: progress is never written into a derived file or an executed notebook
    manifests = [(tmp_path / where / "derived" / "MANIFEST.sha256").read_bytes() for where in ("tty", "pipe")]
    assert manifests[0] == manifests[1]
    for where in ("tty", "pipe"):
        nb = (tmp_path / where / "reports" / "01_screenshots.ipynb").read_text(encoding="utf-8")
        assert "OCR 3/3" not in nb and progress.ENV not in nb
    assert not list((tmp_path / "tty").rglob(progress.FILE_NAME))
