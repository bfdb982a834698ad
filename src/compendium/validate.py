"""Every raw input checked at the edge, before any stage runs (SPEC 3: one line, file and row, exit 2, nothing
written).

:func:`validate_raw` runs, up front, the checks of every raw file that the given stages read, with the same
loaders the notebooks use, and raises the first :class:`~compendium.errors.InputError`:

=================  =====================================================================================
stage              raw files checked
=================  =====================================================================================
screenshots        ``private/screenshots/*.png`` headers (a PNG; not above :data:`compendium.ocr.MAX_PIXELS`:
                   a decompression bomb is said as such), ``transcribed.csv``
transcripts        ``transcripts/*``, ``fieldnotes/*``, ``participants.csv`` (and a row for every interview)
coding             ``codebook.yml``, ``coding/*.csv`` (structure, codes, sources and offsets; two coders),
                   ``transcripts/*``, ``fieldnotes/*``
themes             ``codebook.yml``
information_flow   (derived tables only)
report             ``study.yml`` (schema), ``codebook.yml``, ``participants.csv``, ``coding/*.csv``,
                   ``transcripts/*``, ``fieldnotes/*``, ``interview_guide.md``
any                ``private/roster.csv`` when present (the de-identification gate of every stage reads it)
=================  =====================================================================================

Text files are read strictly (:mod:`compendium.files`): a binary file is said to be binary, a NUL byte or
another control character is named by line and column. What needs a derived table (that a coded post exists in
``posts.csv``) is left to the stage. On the committed corpus the whole check takes well under a second.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

STAGE_NAMES = ("screenshots", "transcripts", "coding", "themes", "information_flow", "report")


class _Raw:
    """The raw folder's files, each loaded (and so checked) at most once."""

    def __init__(self, raw: Path):
        self.raw = raw
        self._cache: dict = {}

    def _once(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def sources(self):
        from . import transcripts

        return self._once("sources", lambda: transcripts.load_sources(self.raw))

    def codebook(self):
        from . import codebook

        return self._once("codebook", lambda: codebook.load(self.raw / "codebook.yml"))

    def participants(self):
        from . import participants

        def load():
            table = participants.load_participants(self.raw / participants.FILE_NAME)
            participants.check_transcripts(table, self.sources(), self.raw)
            return table

        return self._once("participants", load)

    def coding(self):
        from . import coding, corpus

        def load():
            lengths = {s.source_id: len(s.text) for s in self.sources()}
            codings = coding.load(corpus.coding_files(self.raw), self.codebook(), lengths, None)
            coding.check_coders(codings["coder"], self.raw / "coding")
            return codings

        return self._once("coding", load)

    def study(self):
        from . import study

        return self._once("study", lambda: study.load_study(self.raw / study.FILE_NAME))

    def guide(self):
        from . import files

        path = self.raw / "interview_guide.md"
        what = "guide (interview_guide.md)"
        return self._once("guide", lambda: files.read_text(path, what) if path.is_file() else None)

    def roster(self):
        from . import pseudonyms

        path = self.raw / "private" / "roster.csv"
        return self._once("roster", lambda: pseudonyms.load_roster(path) if path.is_file() else None)

    def screenshots(self):
        from . import ocr, screenshots

        def check():
            d = self.raw / "private" / "screenshots"
            if not d.is_dir() or not any(p.suffix.lower() in screenshots.IMAGE_SUFFIXES for p in d.iterdir()):
                return None  # the runner keeps the earlier outputs, or says the stage cannot run
            for f in screenshots.list_screenshots(d):
                ocr.check_header(f)
            transcribed = d / "transcribed.csv"
            if transcribed.is_file():
                screenshots.read_transcribed(transcribed)
            return True

        return self._once("screenshots", check)


CHECKS = {
    "screenshots": ("roster", "screenshots"),
    "transcripts": ("roster", "sources", "participants"),
    "coding": ("roster", "codebook", "sources", "coding"),
    "themes": ("roster", "codebook"),
    "information_flow": ("roster",),
    "report": ("roster", "study", "codebook", "sources", "participants", "coding", "guide"),
}


def validate_raw(raw: str | Path, stage_names) -> None:
    """Check every raw file the stages ``stage_names`` read; raise the first :class:`InputError`.

    Checks run in pipeline order of the stages, each file once. Call it before any stage runs, after the raw
    manifest check, so that bad input stops the run with one line and nothing written.
    """
    raw = Path(raw)
    unknown = [s for s in stage_names if s not in CHECKS]
    if unknown:
        raise InputError(f"unknown stage '{unknown[0]}' (stages: {', '.join(STAGE_NAMES)})", "--only")
    files = _Raw(raw)
    for stage in STAGE_NAMES:
        if stage in stage_names:
            for check in CHECKS[stage]:
                getattr(files, check)()
