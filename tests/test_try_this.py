"""Every "Try this" suggestion of notebooks 01-06 runs as written, on copies, and never changes ``data/derived``.

Each test finds its command (or cell edit) in the notebook's text (:func:`written`), runs it with ``/tmp/`` moved
into pytest's temporary folder, and checks that its effect shows: a number, a table or a figure that differs from
the committed ``data/derived``. Runs start from a copy of ``data/derived`` and use ``--only`` with the stages the
suggestion affects, so the file takes a few minutes. After every test, and at the end, every file of
``data/derived`` still has the hash it had at the start, and the hashes its ``MANIFEST.sha256`` lists.

Suggestions that only ask the reader to look or to think, and have nothing to run (no test):

- 01 "Look at the worst-read posts above: is the page dark-theme? Is the error in a name, a number or
  punctuation?" (its command, ``-p n_worst=10``, is tested);
- 03 "Open ``witi.qdpx`` in QualCoder and compare its coding stripes with the consensus table" (another program);
- 03 "Why does percent agreement fall while kappa changes much less?", 04 "Would you choose the same passages for a
  paper?", 05 "Between which shares does the community stop reading unlike tutor-led?", 06 "Which other
  ``study.yml`` key would you edit the same way?": questions about the outputs of tested commands.

The spaCy suggestion of notebook 02 runs only where ``en_core_web_sm`` is installed (nothing is downloaded), the
Tesseract one only where ``tesseract`` is on the PATH (its OCR is cached in ``.cache``, like RapidOCR's).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import re
import shlex
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import DERIVED, RAW, ROOT, compendium

# About 5 minutes of pipeline runs: kept out of `make test` (the CI budget) and run by `make test-try-this` and
# the workflow's try-this job.
pytestmark = [pytest.mark.slow, pytest.mark.tryit]

NOTEBOOKS = ROOT / "notebooks"


# ------------------------------------------------------------------------------------------------ helpers


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _manifest_entries() -> dict[str, str]:
    out = {}
    for line in (DERIVED / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, _, path = line.partition("  ")
            out[path] = digest
    return out


@pytest.fixture(scope="module", autouse=True)
def committed_derived_untouched():
    """Fresh hashes of every committed derived file, before and after the whole module (and MANIFEST.sha256)."""
    before = _hashes(DERIVED)
    assert {k: v for k, v in before.items() if k != "MANIFEST.sha256"} == _manifest_entries(), (
        "data/derived differs from its MANIFEST.sha256 before the suggestions ran"
    )
    yield before
    after = _hashes(DERIVED)
    assert after == before, sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert {k: v for k, v in after.items() if k != "MANIFEST.sha256"} == _manifest_entries()


@pytest.fixture(autouse=True)
def each_test_leaves_derived_alone(committed_derived_untouched):
    yield
    now = _hashes(DERIVED)
    changed = sorted(
        k for k in now.keys() | committed_derived_untouched.keys() if now.get(k) != committed_derived_untouched.get(k)
    )
    assert not changed, f"data/derived changed: {changed[:5]}"
    assert not (ROOT / "data" / "derived" / ".staging").exists()


def _try_this_text(notebook: str) -> str:
    """The text of a notebook's "Try this" cells, whitespace collapsed (a command may wrap in the source)."""
    nb = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))
    text = " ".join(
        "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown" and "Try this" in "".join(c["source"])
    )
    return re.sub(r"\s+", " ", text)


def written(notebook: str, snippet: str) -> str:
    """``snippet`` as the notebook's "Try this" text has it (fails if the text says something else)."""
    assert re.sub(r"\s+", " ", snippet) in _try_this_text(notebook), f"{notebook} no longer suggests: {snippet}"
    return snippet


def run_written(notebook: str, command: str, tmp: Path, ok: bool = True):
    """Run a ``compendium ...`` command of a notebook's text, its ``/tmp/`` paths moved into ``tmp``."""
    written(notebook, command)
    args = shlex.split(command.replace("/tmp/", f"{tmp}/"))
    assert args[0] == "compendium"
    r = compendium(*args[1:])
    if ok:
        assert r.returncode == 0, (command, r.stdout[-3000:], r.stderr[-3000:])
    return r


def cp_derived(notebook: str, tmp: Path, name: str) -> Path:
    """``cp -r data/derived /tmp/NAME`` as the text says it."""
    written(notebook, f"cp -r data/derived /tmp/{name}")
    dest = tmp / name
    shutil.copytree(DERIVED, dest)
    return dest


def cp_raw(notebook: str, tmp: Path, name: str) -> Path:
    written(notebook, f"cp -r data/raw /tmp/{name}")
    dest = tmp / name
    shutil.copytree(RAW, dest)
    return dest


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def by(path: Path, key: str) -> dict[str, dict]:
    return {r[key]: r for r in rows(path)}


def cell_outputs(executed: Path, cell_id: str) -> list[dict]:
    nb = json.loads(executed.read_text(encoding="utf-8"))
    return next(c for c in nb["cells"] if c.get("id") == cell_id)["outputs"]


def stream_text(outputs) -> str:
    return "".join("".join(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")


# ------------------------------------------------------------------------------------------------ 01 screenshots

NB1 = "01_screenshots.ipynb"


def test_01_n_worst_shows_ten_posts(tmp_path):
    run_written(
        NB1,
        "compendium run --derived /tmp/worst-derived --reports /tmp/worst-reports --only screenshots -p n_worst=10",
        tmp_path,
    )
    outputs = cell_outputs(tmp_path / "worst-reports" / NB1, "nb01-provenance")
    crops = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(crops) == 10  # the committed default shows 3
    assert (tmp_path / "worst-reports" / "01_screenshots.html").is_file()
    assert (tmp_path / "worst-derived" / "posts.csv").read_bytes() == (DERIVED / "posts.csv").read_bytes()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_01_tesseract_changes_the_error_rate(tmp_path):
    written(NB1, "sudo apt-get install tesseract-ocr")
    run_written(
        NB1,
        "compendium run --derived /tmp/tess-derived --reports /tmp/tess-reports --only screenshots "
        "-p ocr_engine=tesseract",
        tmp_path,
    )
    tess = by(tmp_path / "tess-derived" / "ocr_quality.csv", "screenshot_id")
    rapid = by(DERIVED / "ocr_quality.csv", "screenshot_id")
    assert tess.keys() == rapid.keys()
    assert [tess[k]["cer"] for k in sorted(tess)] != [rapid[k]["cer"] for k in sorted(rapid)]


def test_01_two_workers_read_the_same_posts(tmp_path):
    # the --jobs 1 run of the suggestion is the test above's (default cache); this is the second, timed, run
    written(
        NB1,
        "compendium run --derived /tmp/jobs-derived --reports /tmp/jobs-reports --cache /tmp/jobs-cache-1 "
        "--only screenshots --jobs 1",
    )
    r = run_written(
        NB1,
        "compendium run --derived /tmp/jobs-derived --reports /tmp/jobs-reports --cache "
        "/tmp/jobs-cache-2 --only screenshots --jobs 2 --force",
        tmp_path,
    )
    assert re.search(r"screenshots\s+ran in [\d.]+ s", r.stdout), r.stdout
    assert any((tmp_path / "jobs-cache-2" / "ocr").iterdir())  # it really read the pages (an empty cache)
    for name in ("posts.csv", "threads.csv", "ocr_quality.csv"):
        assert (tmp_path / "jobs-derived" / name).read_bytes() == (DERIVED / name).read_bytes(), name


def test_01_roster_alias_disappears_from_posts(tmp_path):
    written(
        NB1,
        "`grep QTC data/derived/posts.csv` shows a post that calls the QTc formula by its inventor's name "
        "(the word after `This is`)",
    )
    qtc = [ln for ln in (DERIVED / "posts.csv").read_text(encoding="utf-8").splitlines() if "QTC" in ln]
    assert len(qtc) == 1
    name = re.search(r"This is ([A-Z][a-z]+)", qtc[0]).group(1)
    assert (DERIVED / "posts.csv").read_text(encoding="utf-8").count(name) >= 2  # "so does the reply"
    # the notebook must not spell it: with the name on the copy's roster, the gate would stop on its own text
    assert name.lower() not in (NOTEBOOKS / NB1).read_text(encoding="utf-8").lower()
    raw = cp_raw(NB1, tmp_path, "alias-raw")
    written(NB1, "add `;` and that name at the end of the `M15` line")
    roster = raw / "private" / "roster.csv"
    lines = roster.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(i for i, ln in enumerate(lines) if ln.startswith("M15,"))
    body = lines[i].rstrip("\r\n")
    lines[i] = body + ";" + name + lines[i][len(body) :]
    roster.write_text("".join(lines), encoding="utf-8")
    before = compendium(
        "run",
        "--raw",
        raw,
        "--derived",
        tmp_path / "alias-derived",
        "--reports",
        tmp_path / "alias-reports",
        "--only",
        "screenshots",
    )
    assert before.returncode == 2 and f"compendium manifest {raw}" in before.stderr  # why the text says so
    run_written(NB1, "compendium manifest /tmp/alias-raw", tmp_path)
    run_written(
        NB1,
        "compendium run --raw /tmp/alias-raw --derived /tmp/alias-derived --reports /tmp/alias-reports "
        "--only screenshots",
        tmp_path,
    )
    posts = (tmp_path / "alias-derived" / "posts.csv").read_text(encoding="utf-8")
    assert name not in posts
    written(NB1, "shows `This is M15` where the name was")
    assert "This is M15" in [ln for ln in posts.splitlines() if "QTC" in ln][0]
    redacted = tmp_path / "alias-derived" / "redacted"
    assert any((redacted / p.name).read_bytes() != p.read_bytes() for p in (DERIVED / "redacted").glob("*.png"))


def test_01_whole_page_reread_finds_nothing(tmp_path):
    r = run_written(
        NB1,
        "compendium run --derived /tmp/page-derived --reports /tmp/page-reports --only screenshots -p reread=page",
        tmp_path,
    )
    assert re.search(r"screenshots\s+ran in", r.stdout), r.stdout
    assert (tmp_path / "page-derived" / "posts.csv").read_bytes() == (DERIVED / "posts.csv").read_bytes()


# ------------------------------------------------------------------------------------------------ 02 transcripts

NB2 = "02_transcripts.ipynb"


def test_02_turns_change_units_and_agreement(tmp_path):
    derived = cp_derived(NB2, tmp_path, "turn-derived")
    run_written(
        NB2,
        "compendium run --derived /tmp/turn-derived --reports /tmp/turn-reports --only transcripts coding -p unit=turn",
        tmp_path,
    )
    assert 0 < len(rows(derived / "segments.csv")) < len(rows(DERIVED / "segments.csv"))
    turn, sentence = (
        by(derived / "reliability.csv", "code_id")["ALL"],
        by(DERIVED / "reliability.csv", "code_id")["ALL"],
    )
    assert int(turn["n_units"]) < int(sentence["n_units"])
    assert turn["kappa"] != sentence["kappa"]


def test_02_planted_email_is_found(tmp_path):
    import subprocess

    copy_cmd = written(NB2, "cp data/raw/transcripts/P01.txt /tmp/my_copy.txt")
    echo = written(NB2, 'echo "Interviewer: you can write to me at tan.ah.kow@""123.example" >> /tmp/my_copy.txt')
    copy = tmp_path / "my_copy.txt"
    for command in (copy_cmd, echo):
        subprocess.run(["bash", "-c", command.replace("/tmp/", f"{tmp_path}/")], cwd=ROOT, check=True)
    assert copy.read_text(encoding="utf-8").endswith("tan.ah.kow@" + "123.example\n")
    r = run_written(NB2, "compendium deid scan /tmp/my_copy.txt", tmp_path, ok=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    n = len(copy.read_text(encoding="utf-8").splitlines())
    found = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert found == [f"{copy}:{n}: email 't***'"] or (len(found) == 1 and f"my_copy.txt:{n}: email" in found[0]), found


@pytest.mark.skipif(importlib.util.find_spec("en_core_web_sm") is None, reason="en_core_web_sm is not installed")
def test_02_trained_pipeline_cuts_other_sentences(tmp_path):
    run_written(
        NB2,
        "compendium run --derived /tmp/sm-derived --reports /tmp/sm-reports --only transcripts "
        "-p spacy_model=en_core_web_sm",
        tmp_path,
    )
    assert (tmp_path / "sm-derived" / "segments.csv").read_bytes() != (DERIVED / "segments.csv").read_bytes()


# ------------------------------------------------------------------------------------------------ 03 coding

NB3 = "03_coding.ipynb"
NB4 = "04_themes.ipynb"


def test_03_and_04_intersection_shrinks_themes(tmp_path):
    # the same suggestion in notebook 3 ("which themes lose most") and notebook 4 ("which theme is most sensitive")
    derived = cp_derived(NB3, tmp_path, "inter-derived")
    written(NB4, "cp -r data/derived /tmp/inter-derived")
    command = (
        "compendium run --derived /tmp/inter-derived --reports /tmp/inter-reports --only coding themes "
        "-p consensus_rule=intersection"
    )
    written(NB4, command)
    run_written(NB3, command, tmp_path)
    union, inter = by(DERIVED / "themes.csv", "theme"), by(derived / "themes.csv", "theme")
    assert union.keys() == inter.keys()
    for t in union:
        assert int(inter[t]["n_units"]) < int(union[t]["n_units"]), t
    assert len(rows(derived / "coding.csv")) < len(rows(DERIVED / "coding.csv"))


def test_03_coded_universe_lowers_percent_agreement(tmp_path):
    derived = cp_derived(NB3, tmp_path, "coded-derived")
    run_written(
        NB3,
        "compendium run --derived /tmp/coded-derived --reports /tmp/coded-reports --only coding "
        "-p reliability_universe=coded",
        tmp_path,
    )
    coded, sources = (
        by(derived / "reliability.csv", "code_id")["ALL"],
        by(DERIVED / "reliability.csv", "code_id")["ALL"],
    )
    assert float(coded["percent_agreement"]) < float(sources["percent_agreement"])
    drop_pa = float(sources["percent_agreement"]) - float(coded["percent_agreement"])
    drop_kappa = abs(float(sources["kappa"]) - float(coded["kappa"])) * 100
    assert drop_kappa < drop_pa  # "kappa changes much less" (both in percentage points)


def test_03_text_export_has_themes_as_codes_and_no_pictures(tmp_path):
    run_written(NB3, "compendium export qdpx /tmp/witi-text.qdpx --pages text --themes-as-codes", tmp_path)
    with zipfile.ZipFile(tmp_path / "witi-text.qdpx") as zf:
        project = zf.read("project.qde").decode("utf-8")
    with zipfile.ZipFile(DERIVED / "witi.qdpx") as zf:
        committed = zf.read("project.qde").decode("utf-8")
    assert "<PictureSource" in committed and "<PictureSource" not in project
    assert project.count("<Code ") > committed.count("<Code ")  # the three themes are codes too
    assert 'name="T1: Engagement in a connective space"' in project  # a theme, as a code


def test_03_planted_contradiction_in_the_record(tmp_path):
    from compendium import corpus, coding, record

    written(NB3, 'book.history.at[1, "sources"] = book.history.at[1, "sources"] + ["P05"]')
    book, sources, _posts, _segs, _codings = corpus.load_all(RAW, DERIVED)
    rel = corpus.table(DERIVED, "reliability.csv")

    def check():
        return record.check(
            book, sources, corpus.coding_files(RAW), rel, RAW / "codebook.yml", coding.first_pass_files(RAW)
        )

    before = [str(f) for f in check()]
    book.history.at[1, "sources"] = book.history.at[1, "sources"] + ["P05"]
    new = [str(f) for f in check() if str(f) not in before]
    assert new, "the planted source raised no finding"
    assert any("P05" in f and "codebook.yml" in f for f in new), new


def test_03_saturation_base_and_run(tmp_path):
    derived = cp_derived(NB3, tmp_path, "sat-derived")
    run_written(
        NB3,
        "compendium run --derived /tmp/sat-derived --reports /tmp/sat-reports --only coding "
        "-p saturation_base=3 -p saturation_run=3",
        tmp_path,
    )
    assert (derived / "saturation.csv").read_bytes() != (DERIVED / "saturation.csv").read_bytes()
    assert (tmp_path / "sat-reports" / "03_coding.html").is_file()
    printed = stream_text(cell_outputs(tmp_path / "sat-reports" / NB3, "nb03-14"))
    assert printed.strip(), "the stopping point is not printed"


# ------------------------------------------------------------------------------------------------ 04 themes


def test_04_second_post_crop(tmp_path):
    from compendium import screenshots

    written(NB4, "change `post_quotes.iloc[0]` to `post_quotes.iloc[1]`")
    quotes = rows(DERIVED / "theme_quotes.csv")
    post_quotes = [q for q in quotes if q["source_type"] == "post"]
    assert len(post_quotes) >= 2
    crops = [
        screenshots.crop_box(q["screenshot_id"], json.loads(q["box"]), DERIVED / "redacted") for q in post_quotes[:2]
    ]
    assert crops[1].size[0] > 0 and (crops[0].size != crops[1].size or crops[0].tobytes() != crops[1].tobytes())


def test_04_interview_quote_from_the_raw_transcript(tmp_path):
    import pandas as pd

    from compendium import corpus, transcripts

    written(NB4, "from compendium import transcripts; src = {s.source_id: s for s in transcripts.load_sources(raw)}")
    written(NB4, 'q = quotes[quotes["text_source"] == "transcript"].iloc[0]')
    written(NB4, 'src[q["source_id"]].text[int(q["start"]):int(q["end"])] == q["text"]')
    raw = RAW
    quotes = corpus.table(DERIVED, "theme_quotes.csv")
    assert isinstance(quotes, pd.DataFrame)
    src = {s.source_id: s for s in transcripts.load_sources(raw)}
    q = quotes[quotes["text_source"] == "transcript"].iloc[0]
    assert src[q["source_id"]].text[int(q["start"]) : int(q["end"])] == q["text"]


def run_edited(notebook: str, edits: dict[str, str], tmp: Path) -> Path:
    """Run a notebook by hand (papermill, in notebooks/ as JupyterLab would) after editing its parameters cell as the
    text says; ``out_dir`` is pointed into ``tmp`` (the notebook's default is ../scratch/derived, in the work tree).
    Returns the folder it wrote into."""
    import papermill

    nb = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    src = "".join(cell["source"])
    out = tmp / "out"
    edits = {**edits, 'out_dir: str = "../scratch/derived"': f'out_dir: str = "{out}"'}
    for old, new in edits.items():
        assert src.count(old) == 1, old
        src = src.replace(old, new)
    cell["source"] = src
    edited = tmp / notebook
    edited.write_text(json.dumps(nb), encoding="utf-8")
    papermill.execute_notebook(
        str(edited), str(tmp / f"executed-{notebook}"), cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False
    )
    return out


def test_04_twelve_quotes_per_theme(tmp_path):
    old = written(NB4, "`quotes_per_theme: int = 5`").strip("`")
    new = written(NB4, "`quotes_per_theme: int = 12`").strip("`")
    out = run_edited(NB4, {old: new}, tmp_path)

    def count(path):
        return {t: sum(q["theme"] == t for q in rows(path)) for t in {q["theme"] for q in rows(path)}}

    five, twelve = count(DERIVED / "theme_quotes.csv"), count(out / "theme_quotes.csv")
    assert five.keys() == twelve.keys()
    assert max(five.values()) == 5 and max(twelve.values()) == 12


def test_04_long_quotes_only(tmp_path):
    derived = cp_derived(NB4, tmp_path, "long-derived")
    run_written(
        NB4,
        "compendium run --derived /tmp/long-derived --reports /tmp/long-reports --only themes -p min_quote_chars=200",
        tmp_path,
    )
    long = rows(derived / "theme_quotes.csv")
    assert long and all(len(q["text"]) >= 200 for q in long)
    assert any(len(q["text"]) < 200 for q in rows(DERIVED / "theme_quotes.csv"))
    assert (tmp_path / "long-reports" / "04_themes.html").is_file()


# ------------------------------------------------------------------------------------------------ 05 flow

NB5 = "05_information_flow.ipynb"


def test_05_tutor_led_scenario_reads_like_tutor_led(tmp_path):
    run_written(NB5, "compendium synth --out /tmp/tut --scenario centralised", tmp_path)
    run_written(
        NB5,
        "compendium run --raw /tmp/tut --derived /tmp/tut-derived --reports /tmp/tut-reports --only "
        "screenshots information_flow",
        tmp_path,
    )
    tut = by(tmp_path / "tut-derived" / "flow_evidence.csv", "measure")
    ours = by(DERIVED / "flow_evidence.csv", "measure")
    for m in ("freeman_out", "top10_share", "gini_answers"):
        assert ours[m]["reads"] == "unlike tutor-led" and tut[m]["reads"] == "like tutor-led", m


def test_05_fewer_draws_move_the_random_interval(tmp_path):
    derived = cp_derived(NB5, tmp_path, "draws-derived")
    run_written(
        NB5,
        "compendium run --derived /tmp/draws-derived --reports /tmp/draws-reports --only information_flow -p draws=100",
        tmp_path,
    )
    few, many = by(derived / "flow_evidence.csv", "measure"), by(DERIVED / "flow_evidence.csv", "measure")
    moved = [
        m
        for m in many
        if (few[m]["random_low"], few[m]["random_high"]) != (many[m]["random_low"], many[m]["random_high"])
    ]
    assert moved
    assert all(few[m]["observed"] == many[m]["observed"] for m in many)


def test_05_tutor_share_of_the_reference(tmp_path, monkeypatch):
    from compendium import acts, corpus, flow

    written(NB5, "in a new cell run `flow.TUTOR_ANSWERS = 0.3`")
    written(NB5, "`flow.TUTOR_ANSWERS = 0.9`")
    written(NB5, "`flow.TUTOR_ANSWERS = 0.6`")
    assert flow.TUTOR_ANSWERS == 0.6
    posts = corpus.table(DERIVED, "posts.csv")
    community = flow.community(posts, acts.classify(posts), corpus.load_participants(RAW))

    def reads():
        e = flow.evidence(community, seed=flow.SEED, draws=flow.RANDOM_DRAWS)
        return dict(zip(e["measure"], e["reads"]))

    default = reads()
    assert default == {r["measure"]: r["reads"] for r in rows(DERIVED / "flow_evidence.csv")}
    monkeypatch.setattr(flow, "TUTOR_ANSWERS", 0.3)
    low = reads()
    for m in ("freeman_out", "gini_answers"):
        assert default[m] == "unlike tutor-led" and low[m] == "like tutor-led", m
    monkeypatch.setattr(flow, "TUTOR_ANSWERS", 0.9)
    high = reads()
    for m in ("share_both", "share_threads_built"):
        assert default[m] == "like tutor-led" and high[m] == "unlike tutor-led", m


# ------------------------------------------------------------------------------------------------ 06 report

NB6 = "06_report.ipynb"


def _item(checklist: Path, number: int) -> str:
    return next(ln for ln in checklist.read_text(encoding="utf-8").splitlines() if ln.startswith(f"| {number} |"))


def test_06_reflexive_sentence_in_a_field_note(tmp_path):
    raw = cp_raw(NB6, tmp_path, "fn-raw")
    derived = cp_derived(NB6, tmp_path, "fn-derived")
    sentence = "My own experience as a student may colour how I read this thread."
    written(NB6, f'echo "{sentence}" >> /tmp/fn-raw/fieldnotes/FN-2023-01-23.md')
    with open(raw / "fieldnotes" / "FN-2023-01-23.md", "a", encoding="utf-8") as f:  # echo's line
        f.write(sentence + "\n")
    run_written(NB6, "compendium manifest /tmp/fn-raw", tmp_path)
    run_written(
        NB6,
        "compendium run --raw /tmp/fn-raw --derived /tmp/fn-derived --reports /tmp/fn-reports --only report",
        tmp_path,
    )
    written(NB6, "now counts 5 of 12 field notes instead of 4")
    before, after = _item(DERIVED / "checklists" / "coreq.md", 8), _item(derived / "checklists" / "coreq.md", 8)
    assert "4 of 12 field notes flag" in before
    assert "5 of 12 field notes flag" in after and "FN-2023-01-23" in after


def test_06_funding_and_conflicts_in_study_yml(tmp_path):
    raw = cp_raw(NB6, tmp_path, "study-raw")
    derived = cp_derived(NB6, tmp_path, "study-derived")
    added = [
        written(NB6, 'conflicts_of_interest: "None declared (synthetic corpus)"'),
        written(NB6, 'funding: "None: the synthetic corpus was written without funding"'),
    ]
    study = raw / "study.yml"
    text = study.read_text(encoding="utf-8")
    study.write_text(text + ("" if text.endswith("\n") else "\n") + "\n".join(added) + "\n", encoding="utf-8")
    stopped = compendium(
        "run", "--raw", raw, "--derived", derived, "--reports", tmp_path / "study-reports", "--only", "report"
    )
    assert stopped.returncode == 2 and f"compendium manifest {raw}" in stopped.stderr
    run_written(NB6, "compendium manifest /tmp/study-raw", tmp_path)
    run_written(
        NB6,
        "compendium run --raw /tmp/study-raw --derived /tmp/study-derived --reports /tmp/study-reports --only report",
        tmp_path,
    )
    for n in (20, 21):
        assert "AUTHORS TO COMPLETE" in _item(DERIVED / "checklists" / "srqr.md", n), n
        assert "AUTHORS TO COMPLETE" not in _item(derived / "checklists" / "srqr.md", n), n
    assert "None declared (synthetic corpus)" in _item(derived / "checklists" / "srqr.md", 20)
    html = (tmp_path / "study-reports" / "06_report.html").read_text(encoding="utf-8")
    assert "SRQR" in html
