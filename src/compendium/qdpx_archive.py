"""Read a REFI-QDA ``.qdpx`` file safely: hostile or broken files get one clear error.

A ``.qdpx`` file is a zip archive holding ``project.qde`` (XML in the namespace
``urn:QDA-XML:project:1.0``; ATLAS.ti names it after the project, so the one ``.qde`` at the top
level is read, whatever its name) and the sources (``sources/...``; NVivo writes ``Sources/``,
so :meth:`Project.find` ignores case). Such files come from other
people's software and other people's computers, so this module treats them as hostile until
checked. Whatever is wrong, the caller gets one :class:`~compendium.errors.InputError` that
names the ``.qdpx`` file, the member or the line of ``project.qde``, and what is wrong (the
command line prints it as one line and exits 2) -- never a traceback, a hang or an exhausted
machine.

Threats, and what stops them
----------------------------

**Zip bombs.** Deflate can squeeze a long run of the same byte about 1000:1, so a 2 MB
archive can hold a ``project.qde`` that inflates to 2 GiB (and nested or overlapping
entries go further). Three layers stop this, and the first two act *before* anything is
inflated, from the sizes the archive's central directory claims:

- ``MAX_QDE_BYTES`` / ``MAX_MEMBER_BYTES`` (64 MiB each): a member claiming to inflate to more
  is refused.
- ``MAX_RATIO`` (200:1): a member claiming to inflate to more than 200 times its compressed
  size is refused. Real project files and texts compress 3:1 to 20:1; only padding or an
  attack reaches 200:1. The ratio is checked only when the compressed size exceeds
  ``RATIO_FLOOR`` (4 KiB): below that a member inflates to at most about 4 MiB whatever its
  ratio (deflate cannot do better than about 1032:1), which is harmless, and small members
  legitimately have high ratios (1 KiB of spaces deflates to about 10 bytes).
- The headers can lie: an attacker can write a small ``file_size`` for a member that really
  inflates to gigabytes. Python's :mod:`zipfile` never hands out more than the claimed size
  (it stops there and then fails the CRC check), and a deflated member cannot be much smaller
  than its compressed data, so headers that do not add up (``compress_size`` well above
  ``file_size``) are refused before reading. As a last line, data are read in 1 MiB chunks and
  reading stops as soon as the running total exceeds the cap, whatever the headers said; data
  that end before the claimed size are refused too.
- Overlapping entries (several directory entries sharing the same compressed bytes, the trick
  of "non-recursive" zip bombs) and duplicate names (which different readers resolve
  differently) are refused.

**Huge directories.** ``MAX_MEMBERS`` (100 000) entries at most. The count (and the size of
the central directory, at most 256 bytes per allowed entry) is read from the archive's end
record *before* :mod:`zipfile` builds an object per entry, and checked again afterwards
(the end record can lie too; the directory is then no bigger than the file itself).

**Encrypted or unusual members.** Encrypted members are refused (we have no password and
would only fail later); only the "stored" and "deflate" methods are accepted (others, such as
bzip2 or LZMA, decompress in unbounded steps).

**XML attacks.** ``project.qde`` is parsed with :mod:`xml.parsers.expat` directly:

- *Entity expansion* ("billion laughs": ten entities each expanding to ten copies of the
  previous one make a few hundred bytes expand to gigabytes): any entity declaration, in
  the internal or an external DTD subset, is refused when expat reports it, before any
  expansion. REFI-QDA files never declare entities.
- *External entities* (``<!ENTITY x SYSTEM "file:///etc/passwd">``, which would read local
  files or fetch URLs): external entities and parameter entities are never loaded, and a
  reference to an entity that could not be resolved is refused (rather than silently
  dropped).
- *Many or deeply nested elements*: each element costs about 200 bytes of memory, so 64 MiB
  of ``<a/>`` would cost 3 GB; at most ``MAX_ELEMENTS`` (1 000 000) elements and
  ``MAX_DEPTH`` (256) levels of nesting (deeper trees would break recursive code later).
- Broken XML is reported as ``project.qde line N: not well-formed XML (...)``; a root other
  than ``Project`` in the REFI-QDA namespace is refused as soon as its start tag is seen.

Using it
--------

``project = read(path)`` returns a :class:`Project`: ``project.root`` is the ``Project``
element (an ordinary :class:`xml.etree.ElementTree.Element` tree, text and whitespace exactly
as in the file), ``project.line(el)`` the line of an element's start tag, ``project.error(
message, el)`` an :class:`InputError` pointing at that element, ``project.text(name)`` a
member as text. The archive stays open for :meth:`Project.member`; :meth:`Project.close` (or
``with read(path) as project:``) closes it, and so does garbage collection.
"""

from __future__ import annotations

import io
import itertools
import re
import struct
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.parsers import expat

from compendium.errors import InputError

NS = "urn:QDA-XML:project:1.0"
MAX_QDE_BYTES = 64 * 1024 * 1024  # inflated size cap of project.qde
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # inflated size cap of any other member that is read
MAX_RATIO = 200  # cap on inflated / compressed size of a member ...
RATIO_FLOOR = 4 * 1024  # ... checked only when the compressed size exceeds this
MAX_MEMBERS = 100_000  # cap on the number of entries in the archive
MAX_ELEMENTS = 1_000_000  # cap on the number of XML elements in project.qde
MAX_DEPTH = 256  # cap on the nesting depth of XML elements in project.qde
CHUNK = 1024 * 1024  # members are inflated this many bytes at a time

_DIRECTORY_BYTES_PER_MEMBER = 256  # central directory may hold MAX_MEMBERS * this many bytes
_ENCRYPTED = 0x01 | 0x40  # general-purpose flag bits: encrypted, strongly encrypted
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# What zipfile and zlib raise on damaged archives (InputError is a ValueError: never raised
# inside a try that catches these).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    OverflowError,
    struct.error,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)
_INT = re.compile(r"[ \t\r\n]*[-+]?[0-9]+[ \t\r\n]*")


def q(tag: str) -> str:
    """``tag`` in the REFI-QDA namespace, as ElementTree names it: ``{urn:...}tag``."""
    return f"{{{NS}}}{tag}"


# -- sizes and labels in messages ------------------------------------------------------------


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.4g} KiB"
    return f"{n / (1024 * 1024):.4g} MiB"


def _short(value: str, limit: int = 60) -> str:
    """``value`` on one line and at most ``limit`` characters."""
    if not value.isprintable():
        value = repr(value)[1:-1]
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _named(member: str) -> str:
    """A member name fit for a one-line message (names can hold any character)."""
    return _short(member, 200)


def _label(el: ET.Element) -> str:
    """``<Tag name="...">``: the tag without namespace and its name (or guid) attribute."""
    tag = el.tag.rpartition("}")[2]
    for key in ("name", "guid"):
        value = el.get(key)
        if value is not None:
            return f'<{tag} {key}="{_short(value)}">'
    return f"<{tag}>"


def _why(exc: BaseException) -> str:
    if isinstance(exc, EOFError) and not str(exc):
        return "unexpected end of data"
    return str(exc) or type(exc).__name__


# -- the archive -----------------------------------------------------------------------------


def _end_record(path: Path) -> tuple[int, int] | None:
    """(entries, central directory bytes) claimed by the end record, or None if not found."""
    with open(path, "rb") as f:
        size = f.seek(0, io.SEEK_END)
        start = max(0, size - (22 + 0xFFFF))  # the end record is followed by <= 64 KiB comment
        f.seek(start)
        tail = f.read()
        pos = tail.rfind(b"PK\x05\x06")
        if pos < 0 or len(tail) - pos < 22:
            return None
        entries, cd_bytes = struct.unpack("<4s4H2LH", tail[pos : pos + 22])[4:6]
        locator = tail[max(0, pos - 20) : pos]
        if (entries == 0xFFFF or cd_bytes == 0xFFFFFFFF) and locator[:4] == b"PK\x06\x07":
            offset = struct.unpack("<4sLQL", locator)[2]  # of the zip64 end record
            if offset < size:
                f.seek(offset)
                record = f.read(56)
                if len(record) == 56 and record[:4] == b"PK\x06\x06":
                    entries, cd_bytes = struct.unpack("<4sQ2H2L4Q", record)[7:9]
    return entries, cd_bytes


def _check_end_record(path: Path) -> None:
    claimed = _end_record(path)
    if claimed is None:
        return  # zipfile will say what is wrong
    entries, cd_bytes = claimed
    if entries > MAX_MEMBERS:
        raise InputError(
            f"archive has {entries} entries, more than the cap of {MAX_MEMBERS}; refused before reading its directory",
            path,
        )
    cd_cap = MAX_MEMBERS * _DIRECTORY_BYTES_PER_MEMBER
    if cd_bytes > cd_cap:
        raise InputError(
            f"archive directory is {_size(cd_bytes)}, more than the cap of {_size(cd_cap)}; refused before reading it",
            path,
        )


def _open(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise InputError("file not found", path)
    if not path.is_file():
        raise InputError("not a QDPX file (not a regular file)", path)
    try:
        _check_end_record(path)
        return zipfile.ZipFile(path)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or _why(exc)})", path) from None
    except _ZIP_ERRORS as exc:
        raise InputError(f"not a QDPX file: not a zip archive, or truncated ({_why(exc)})", path) from None


def _check_entries(infos: list[zipfile.ZipInfo], path: Path) -> None:
    """Too many entries, duplicate names, encryption: refuse the whole archive."""
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"archive has {len(infos)} entries, more than the cap of {MAX_MEMBERS}", path)
    seen = set()
    for info in infos:
        if info.filename in seen:
            raise InputError(
                f"archive has two entries named {_named(info.filename)}; refused "
                "(readers would disagree on which one is meant)",
                path,
            )
        seen.add(info.filename)
        if info.flag_bits & _ENCRYPTED:
            raise InputError(f"{_named(info.filename)} is encrypted; encrypted archives are not supported", path)


def _check_overlap(infos: list[zipfile.ZipInfo], path: Path) -> None:
    """Refuse entries whose data overlap (shared compressed bytes make zip bombs)."""
    # A local header is at least 30 bytes plus the name: a lower bound for where data end.
    spans = sorted(
        (i.header_offset, i.header_offset + 30 + len(i.filename) + i.compress_size, i.filename) for i in infos
    )
    for (_, end, first), (start, _, second) in itertools.pairwise(spans):
        if end > start:
            raise InputError(
                f"entries {_named(first)} and {_named(second)} overlap in the "
                "archive; refused (overlapping entries are a way to build zip "
                "bombs)",
                path,
            )


def _find_qde(names: list[str], path: Path) -> str:
    """The one ``.qde`` at the top level: ``project.qde`` as the standard names it, or whatever the tool called it
    (ATLAS.ti names it after the project). Two or more are refused, naming them."""
    found = [n for n in names if "/" not in n and "\\" not in n and n.lower().endswith(".qde")]
    if len(found) == 1:
        return found[0]
    if found:
        listed = ", ".join(_named(n) for n in sorted(found))
        raise InputError(
            f"archive has {len(found)} .qde files at the top level ({listed}); a QDPX holds one project", path
        )
    nested = [n for n in names if re.split(r"[/\\]", n)[-1].lower().endswith(".qde")]
    hint = f" (found {_named(nested[0])}; it must be at the top level)" if nested else ""
    raise InputError(f"not a QDPX file: no project.qde at the top level of the archive{hint}", path)


def normalise_line_ends(text: str) -> str:
    """``text`` with CRLF and lone CR as LF (what coding offsets count in, SPEC 4)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -- reading a member within the caps --------------------------------------------------------


def _preflight(info: zipfile.ZipInfo, cap: int, path: Path) -> None:
    """Refuse from the directory entry alone, before inflating anything."""
    name, size, packed = _named(info.filename), info.file_size, info.compress_size
    if info.compress_type not in _METHODS:
        raise InputError(
            f"{name} uses compression method {info.compress_type} (only stored and deflate are accepted)", path
        )
    if size > cap:
        raise InputError(
            f"{name} inflates to {_size(size)} according to the archive, more "
            f"than the {_size(cap)} cap; refused before reading",
            path,
        )
    # Deflate never grows data by more than a few percent (an eighth at the very worst).
    too_big = packed != size if info.compress_type == zipfile.ZIP_STORED else (packed > size + size // 4 + 1024)
    if too_big:
        raise InputError(
            f"{name}: the archive's headers do not add up ({_size(packed)} "
            f"compressed said to inflate to only {_size(size)}); refused before "
            "reading",
            path,
        )
    if packed > RATIO_FLOOR and size > MAX_RATIO * packed:
        raise InputError(
            f"{name} has a compression ratio of {size // packed}:1 ({_size(size)} "
            f"from {_size(packed)}), more than the {MAX_RATIO}:1 cap; refused "
            "before reading",
            path,
        )


def _chunks(stream, name: str, cap: int, claimed: int, path: Path):
    """Yield ``stream``'s bytes CHUNK at a time; stop once more than ``cap`` have come."""
    total = 0
    while True:
        try:
            chunk = stream.read(CHUNK)
        except _ZIP_ERRORS as exc:
            raise InputError(f"{name} cannot be read: the archive is damaged ({_why(exc)})", path) from None
        if not chunk:
            break
        total += len(chunk)
        if total > cap:
            raise InputError(
                f"{name} inflates to more than the {_size(cap)} cap (the archive "
                f"claimed {_size(claimed)}); refused while reading",
                path,
            )
        yield chunk
    if total != claimed:  # the data ended early (and the CRC was made to match)
        raise InputError(
            f"{name} cannot be read: the archive is damaged (it inflates to "
            f"{total} bytes but the archive claims {claimed})",
            path,
        )


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, path: Path):
    """Yield the inflated bytes of a member in chunks, within ``cap``."""
    _preflight(info, cap, path)
    try:
        stream = zf.open(info)
    except _ZIP_ERRORS as exc:
        raise InputError(
            f"{_named(info.filename)} cannot be read: the archive is damaged ({_why(exc)})", path
        ) from None
    with stream:
        yield from _chunks(stream, _named(info.filename), cap, info.file_size, path)


# -- parsing project.qde ---------------------------------------------------------------------


def _clark(name: str) -> str:
    """expat's ``ns}tag`` (with namespace_separator="}") as ElementTree's ``{ns}tag``."""
    return "{" + name if "}" in name else name


def _wrong_root(tag: str) -> str:
    ns, _, local = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
    where = f"in namespace {ns}" if ns else "in no namespace"
    return f"root element is <{local}> {where}; expected <Project> in namespace {NS}"


class _QdeParser:
    """Build an ElementTree from expat events, noting each element's line; refuse entities."""

    def __init__(self, path: Path, name: str):
        self.path, self.name = path, name
        self.builder = ET.TreeBuilder()
        self.lines: dict[int, int] = {}
        self.elements: list[ET.Element] = []  # keeps every element alive: ids stay valid
        self.depth = 0
        p = self.parser = expat.ParserCreate(namespace_separator="}")
        p.buffer_text = True
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self.builder.data
        p.EntityDeclHandler = self._entity_declared
        p.UnparsedEntityDeclHandler = lambda entity, *_: self._entity_declared(entity)
        p.ExternalEntityRefHandler = self._external_entity
        p.SkippedEntityHandler = self._entity_skipped

    def fail(self, message: str, line: int | None = None) -> InputError:
        line = self.parser.CurrentLineNumber if line is None else line
        return InputError(f"{self.name} line {line}: {message}", self.path)

    def parse(self, chunks) -> ET.Element:
        try:
            for chunk in chunks:
                self.parser.Parse(chunk, False)
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise self.fail(f"not well-formed XML ({expat.ErrorString(exc.code)})", exc.lineno) from None
        return self.builder.close()

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"elements nested more than {MAX_DEPTH} deep")
        if len(self.elements) >= MAX_ELEMENTS:
            raise self.fail(f"more than {MAX_ELEMENTS} elements")
        tag = _clark(tag)
        if not self.elements and tag != q("Project"):
            raise self.fail(_wrong_root(tag))
        el = self.builder.start(tag, {_clark(k): v for k, v in attrs.items()})
        self.lines[id(el)] = self.parser.CurrentLineNumber
        self.elements.append(el)

    def _end(self, tag: str) -> None:
        self.depth -= 1
        self.builder.end(_clark(tag))

    def _entity_declared(self, entity: str, is_parameter: bool = False, *_) -> None:
        decl = f"<!ENTITY {'% ' if is_parameter else ''}{_short(entity)} ...>"
        raise self.fail(f"entity declarations are not allowed ({decl})")

    def _external_entity(self, context, base, system_id, public_id) -> int:
        raise self.fail(f"external entities are not allowed ({_short(str(system_id))})")

    def _entity_skipped(self, entity: str, is_parameter: bool) -> None:
        ref = f"%{entity};" if is_parameter else f"&{entity};"
        raise self.fail(f"reference to undeclared entity {_short(ref)}")


# -- the project -----------------------------------------------------------------------------


class Project:
    """A checked ``.qdpx``: its ``Project`` element, its member names, and helpers."""

    def __init__(self, path: Path, zf: zipfile.ZipFile, qde: str, parsed: _QdeParser, root: ET.Element):
        self.path = path
        self.root = root
        self.names = zf.namelist()
        self._zip = zf
        self._qde = qde
        self._infos = {info.filename: info for info in zf.infolist()}
        self._folded: dict[str, list[str]] = {}
        for n in self.names:
            self._folded.setdefault(n.casefold(), []).append(n)
        self._lines = parsed.lines
        self._elements = parsed.elements

    def line(self, el: ET.Element) -> int | None:
        """Line of ``el``'s start tag in project.qde (None for elements not read from it)."""
        return self._lines.get(id(el))

    def error(self, message: str, el: ET.Element | None = None) -> InputError:
        """``<path>: project.qde line N: <Tag name="...">: message`` as an InputError."""
        where = self._qde
        if el is not None:
            line = self.line(el)
            where += f" line {line}: {_label(el)}" if line is not None else f": {_label(el)}"
        return InputError(f"{where}: {message}", self.path)

    def member(self, name: str) -> bytes | None:
        """The inflated bytes of member ``name`` (within the caps), None if there is none."""
        if self._zip.fp is None:
            raise ValueError(f"{self.path} was closed")
        info = self._infos.get(name)
        if info is None:
            return None
        cap = MAX_QDE_BYTES if name == self._qde else MAX_MEMBER_BYTES
        buf = io.BytesIO()
        for chunk in _inflate(self._zip, info, cap, self.path):
            buf.write(chunk)
        return buf.getvalue()

    def find(self, name: str) -> str | None:
        """The member called ``name``, else the one member whose name equals it ignoring case (NVivo writes
        ``Sources/``, the standard ``sources/``); None if there is none. Two that differ only in case, neither
        exactly ``name``, are an error."""
        if name in self._infos:
            return name
        folded = self._folded.get(name.casefold(), [])
        if len(folded) > 1:
            raise InputError(
                f"archive has {len(folded)} members named {_named(name)} ignoring case "
                f"({', '.join(_named(n) for n in folded)}); which one is meant is unclear",
                self.path,
            )
        return folded[0] if folded else None

    def text(self, name: str, *, as_stored: bool = False) -> str | None:
        """Member ``name`` as UTF-8 text, BOM removed, line ends LF (``as_stored``: line ends as in the file);
        None if there is none."""
        data = self.member(name)
        if data is None:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InputError(
                f"{_named(name)} line {line}: not valid UTF-8 (byte {exc.start}: {exc.reason})", self.path
            ) from None
        text = text.removeprefix("\ufeff")
        return text if as_stored else normalise_line_ends(text)

    def attr(self, el: ET.Element, name: str, *, required: bool = False) -> str | None:
        """Attribute ``name`` of ``el``; a missing required one is an error."""
        value = el.get(name)
        if value is None and required:
            raise self.error(f"attribute {name} is missing", el)
        return value

    def attr_int(self, el: ET.Element, name: str, *, required: bool = True) -> int | None:
        """Integer attribute ``name`` of ``el``; missing (if required) or not an integer: error."""
        value = self.attr(el, name, required=required)
        if value is None:
            return None
        try:
            if _INT.fullmatch(value):
                return int(value)
        except ValueError:  # more digits than int() converts
            pass
        raise self.error(f'attribute {name}="{_short(value)}" is not an integer', el)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self):  # -> Project
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read(path: str | Path) -> Project:
    """Open, check and parse a ``.qdpx`` file; any problem is one :class:`InputError`."""
    path = Path(path)
    zf = _open(path)
    try:
        infos = zf.infolist()
        _check_entries(infos, path)
        _check_overlap(infos, path)
        qde = _find_qde(zf.namelist(), path)
        parsed = _QdeParser(path, qde)
        chunks = _inflate(zf, zf.getinfo(qde), MAX_QDE_BYTES, path)
        try:
            root = parsed.parse(chunks)
        finally:
            chunks.close()  # closes the member even when the parser stopped half-way
    except BaseException:
        zf.close()
        raise
    return Project(path, zf, qde, parsed, root)
