"""Reading .qdpx files safely: every hostile or broken file is one InputError naming what is wrong.

Zip archives are written byte by byte here (:func:`raw_zip`) so that headers can lie. The
2 GiB bomb is built without deflating 2 GiB: after a full flush, zlib compresses the same
input to the same bytes, so the deflate stream of 2048 MiB of spaces is one 1 MiB piece
repeated 2048 times (about 2 MB).
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from compendium import qdpx_archive as qa
from compendium.errors import InputError

MiB = 1024 * 1024
NS = qa.NS
STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED


# -- writing archives ------------------------------------------------------------------------


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def entry(name: str, data: bytes = b"", *, method=DEFLATED, raw=None, size=None, crc=None, flags=0, at=None) -> dict:
    """One archive entry; ``raw``/``size``/``crc`` override what ``data`` gives (to lie)."""
    if raw is None:
        raw = data if method == STORED else deflate(data)
    return {
        "name": name.encode(),
        "raw": raw,
        "method": method,
        "flags": flags,
        "at": at,
        "size": len(data) if size is None else size,
        "crc": zlib.crc32(data) if crc is None else crc,
    }


def raw_zip(entries, *, claimed_entries=None, zip64_entries=None) -> bytes:
    """A zip archive, byte by byte. ``at=i``: the directory entry points at entry i's data."""
    out, directory, offsets = bytearray(), bytearray(), []
    for e in entries:
        offsets.append(len(out))
        out += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            e["flags"],
            e["method"],
            0,
            0x21,
            e["crc"],
            len(e["raw"]),
            e["size"],
            len(e["name"]),
            0,
        )
        out += e["name"] + e["raw"]
    start = len(out)
    for e, offset in zip(entries, offsets):
        offset = offset if e["at"] is None else offsets[e["at"]]
        directory += (
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                e["flags"],
                e["method"],
                0,
                0x21,
                e["crc"],
                len(e["raw"]),
                e["size"],
                len(e["name"]),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + e["name"]
        )
    out += directory
    count = len(entries) if claimed_entries is None else claimed_entries
    if zip64_entries is not None:
        record = len(out)
        out += struct.pack(
            "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, zip64_entries, zip64_entries, len(directory), start
        )
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, record, 1)
        count = 0xFFFF
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0)
    return bytes(out)


def qdpx(tmp_path, members: dict[str, bytes | str], name="p.qdpx"):
    """An ordinary (deflated) archive written by zipfile."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression=DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return path


def write(tmp_path, data: bytes, name="p.qdpx"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(path, *needles) -> str:
    """read(path) raises one InputError, on one line, naming the file and every needle."""
    with pytest.raises(InputError) as info:
        qa.read(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: "), msg
    assert "\n" not in msg, msg
    for needle in needles:
        assert needle in msg, msg
    return msg


def project_xml(body: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="Mini">{body}</Project>\n'


MINIMAL = project_xml("")


# -- a good project --------------------------------------------------------------------------

GOOD = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS}" name="Mini" origin="test">
  <Description>  two spaces
and a line  </Description>
  <Sources>
    <TextSource guid="g-p01" name="P01" plainTextPath="internal://p01.txt">
      <PlainTextSelection name="sel" startPosition="3" endPosition="12x" empty=""
          huge="{"9" * 5000}" signed=" -7 ">
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>
"""


@pytest.fixture
def good(tmp_path):
    path = qdpx(
        tmp_path,
        {
            "Project.qde": GOOD,  # the name is matched case-insensitively
            "sources/p01.txt": b"\xef\xbb\xbfline one\r\nline two\rline three\n",
            "sources/latin1.txt": b"ok\nfa\xe7ade\n",
        },
    )
    with qa.read(path) as project:
        yield project


def find(project, tag):
    return next(project.root.iter(qa.q(tag)))


def test_good_project_root_names_and_text(good):
    assert good.root.tag == qa.q("Project") == "{urn:QDA-XML:project:1.0}Project"
    assert good.root.get("name") == "Mini"
    assert good.names == ["Project.qde", "sources/p01.txt", "sources/latin1.txt"]
    assert find(good, "Description").text == "  two spaces\nand a line  "  # exactly as written
    assert find(good, "Description").tail == "\n  "


def test_line_of_nested_elements(good):
    assert good.line(good.root) == 2
    assert good.line(find(good, "Description")) == 3
    assert good.line(find(good, "TextSource")) == 6
    assert good.line(find(good, "PlainTextSelection")) == 7
    assert good.line(ET.Element("Elsewhere")) is None


def test_member_and_text(good):
    assert good.text("sources/p01.txt") == "line one\nline two\nline three\n"  # BOM, CRLF, CR
    assert good.member("sources/p01.txt").startswith(b"\xef\xbb\xbf")
    assert good.member("sources/absent.txt") is None
    assert good.text("sources/absent.txt") is None
    assert good.member("Project.qde") == GOOD.encode()


def test_text_that_is_not_utf8_names_member_and_line(good):
    with pytest.raises(InputError) as info:
        good.text("sources/latin1.txt")
    assert str(info.value) == (
        f"{good.path}: sources/latin1.txt line 2: not valid UTF-8 (byte 5: invalid continuation byte)"
    )


def test_error_names_element_line_and_name(good):
    sel = find(good, "PlainTextSelection")
    assert str(good.error("something is off", sel)) == (
        f'{good.path}: Project.qde line 7: <PlainTextSelection name="sel">: something is off'
    )
    assert str(good.error("no element")) == f"{good.path}: Project.qde: no element"
    assert str(good.error("made later", ET.Element(qa.q("Code")))) == (f"{good.path}: Project.qde: <Code>: made later")
    assert 'line 6: <TextSource name="P01">' in str(good.error("x", find(good, "TextSource")))


def test_error_label_uses_guid_and_shortens(good):
    el = ET.Element(qa.q("Code"), guid="g" * 100)
    assert f'<Code guid="{"g" * 59}…">' in str(good.error("x", el))
    el = ET.Element(qa.q("Code"), name="two\nlines")
    assert '<Code name="two\\nlines">' in str(good.error("x", el))


def test_attr_int(good):
    sel = find(good, "PlainTextSelection")
    assert good.attr_int(sel, "startPosition") == 3
    assert good.attr_int(sel, "signed") == -7
    assert good.attr_int(sel, "absent", required=False) is None
    where = f'{good.path}: Project.qde line 7: <PlainTextSelection name="sel">: '
    cases = {
        "endPosition": 'attribute endPosition="12x" is not an integer',
        "empty": 'attribute empty="" is not an integer',
        "absent": "attribute absent is missing",
        "huge": f'attribute huge="{"9" * 59}…" is not an integer',
    }
    for name, message in cases.items():
        with pytest.raises(InputError) as info:
            good.attr_int(sel, name)
        assert str(info.value) == where + message


def test_attr(good):
    source = find(good, "TextSource")
    assert good.attr(source, "plainTextPath") == "internal://p01.txt"
    assert good.attr(source, "absent") is None
    with pytest.raises(
        InputError,
        match=r'line 6: <TextSource name="P01">: attribute absent '
        r"is missing$",
    ):
        good.attr(source, "absent", required=True)


def test_minimal_project_in_a_hand_written_archive(tmp_path):
    path = write(tmp_path, raw_zip([entry("project.qde", MINIMAL.encode())]))
    project = qa.read(path)
    assert project.root.tag == qa.q("Project") and project.names == ["project.qde"]
    project.close()


# -- not a QDPX file -------------------------------------------------------------------------


def test_missing_file(tmp_path):
    refused(tmp_path / "nope.qdpx", "file not found")


def test_directory(tmp_path):
    refused(tmp_path, "not a QDPX file (not a regular file)")


def test_not_a_zip(tmp_path):
    refused(write(tmp_path, b"<Project/>\n"), "not a QDPX file: not a zip archive, or truncated")


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_zip(tmp_path, keep):
    data = qdpx(tmp_path, {"project.qde": MINIMAL, "sources/a.txt": "x" * 5000}).read_bytes()
    path = write(tmp_path, data[: int(len(data) * keep)], "cut.qdpx")
    refused(path, "not a zip archive, or truncated")


def test_bad_crc(tmp_path):
    path = write(tmp_path, raw_zip([entry("project.qde", MINIMAL.encode(), method=STORED, crc=12345)]))
    refused(path, "project.qde cannot be read: the archive is damaged (Bad CRC-32")


def test_deflate_data_cut_short(tmp_path):
    data = MINIMAL.encode() + b"<!-- padding -->" * 200
    path = write(tmp_path, raw_zip([entry("project.qde", data, raw=deflate(data)[:-20])]))
    refused(path, "project.qde cannot be read: the archive is damaged")


def test_deflate_data_ending_before_the_claimed_size(tmp_path):
    data = MINIMAL.encode()
    path = write(tmp_path, raw_zip([entry("project.qde", data, size=len(data) + 10)]))
    refused(
        path,
        "project.qde cannot be read: the archive is damaged (it inflates to "
        f"{len(data)} bytes but the archive claims {len(data) + 10})",
    )


def test_member_after_close(tmp_path):
    project = qa.read(qdpx(tmp_path, {"project.qde": MINIMAL, "sources/a.txt": "a"}))
    project.close()
    with pytest.raises(ValueError, match="was closed"):
        project.member("sources/a.txt")


def test_no_project_qde(tmp_path):
    refused(qdpx(tmp_path, {"sources/a.txt": "x"}), "not a QDPX file: no project.qde at the top level of the archive")


def test_project_qde_in_a_folder(tmp_path):
    refused(
        qdpx(tmp_path, {"Mini/project.qde": MINIMAL}),
        "no project.qde at the top level of the archive (found Mini/project.qde; it must be at the top level)",
    )


def test_two_project_qde(tmp_path):
    refused(
        qdpx(tmp_path, {"project.qde": MINIMAL, "PROJECT.QDE": MINIMAL}),
        "archive has 2 .qde files at the top level (PROJECT.QDE, project.qde); a QDPX holds one project",
    )


def test_the_one_qde_is_read_whatever_its_name(tmp_path):
    """ATLAS.ti names the .qde after the project; errors then name that member."""
    project = qa.read(qdpx(tmp_path, {"WITI pilot.qde": MINIMAL, "sources/a.txt": "a"}))
    assert project.root.tag == qa.q("Project")
    assert str(project.error("x", project.root)).split(": ", 1)[1].startswith("WITI pilot.qde line 2")


def test_a_project_qde_and_another_qde_are_refused(tmp_path):
    refused(
        qdpx(tmp_path, {"project.qde": MINIMAL, "WITI pilot.qde": MINIMAL, "Mini/old.qde": MINIMAL}),
        "archive has 2 .qde files at the top level (WITI pilot.qde, project.qde)",
    )


def test_members_are_found_ignoring_case(tmp_path):
    """NVivo writes Sources/ where the standard says sources/; an exact name wins, two that differ only in case
    (and neither exact) are refused."""
    project = qa.read(qdpx(tmp_path, {"project.qde": MINIMAL, "Sources/A.txt": "a\r\nb", "sources/x.txt": "1"}))
    assert project.find("sources/a.txt") == "Sources/A.txt" and project.find("sources/x.txt") == "sources/x.txt"
    assert project.find("sources/none.txt") is None
    assert project.text("Sources/A.txt") == "a\nb" and project.text("Sources/A.txt", as_stored=True) == "a\r\nb"
    twice = qa.read(qdpx(tmp_path, {"project.qde": MINIMAL, "Sources/a.txt": "1", "sources/A.txt": "2"}, "t.qdpx"))
    with pytest.raises(InputError, match="2 members named sources/a.TXT ignoring case"):
        twice.find("sources/a.TXT")


def test_duplicate_names(tmp_path):
    path = write(
        tmp_path,
        raw_zip(
            [entry("project.qde", MINIMAL.encode()), entry("sources/a.txt", b"one"), entry("sources/a.txt", b"two")]
        ),
    )
    refused(path, "archive has two entries named sources/a.txt")


def test_encrypted_member(tmp_path):
    # The flag bit is set in both headers; the data are not really encrypted (not needed:
    # the archive is refused from the flag).
    path = write(
        tmp_path, raw_zip([entry("project.qde", MINIMAL.encode()), entry("sources/a.txt", b"secret", flags=0x1)])
    )
    refused(path, "sources/a.txt is encrypted; encrypted archives are not supported")


def test_member_names_in_messages_stay_on_one_line(tmp_path):
    path = write(
        tmp_path, raw_zip([entry("project.qde", MINIMAL.encode()), entry("sources/evil\n.txt", b"x", flags=0x1)])
    )
    refused(path, "sources/evil\\n.txt is encrypted")


def test_unknown_compression_method(tmp_path):
    path = write(tmp_path, raw_zip([entry("project.qde", MINIMAL.encode(), method=99, raw=MINIMAL.encode())]))
    refused(path, "project.qde uses compression method 99 (only stored and deflate")


def test_overlapping_entries(tmp_path):
    path = write(
        tmp_path,
        raw_zip(
            [
                entry("project.qde", MINIMAL.encode()),
                entry("sources/a.txt", b"a" * 100),
                entry("sources/b.txt", b"a" * 100, at=1),
            ]
        ),
    )
    refused(path, "entries sources/a.txt and sources/b.txt overlap in the archive")


# -- too many entries ------------------------------------------------------------------------


def test_too_many_entries_claimed_by_zip64_end_record(tmp_path):
    path = write(tmp_path, raw_zip([entry("project.qde", MINIMAL.encode())], zip64_entries=100_001))
    refused(path, "archive has 100001 entries, more than the cap of 100000; refused before reading its directory")


def test_too_many_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(qa, "MAX_MEMBERS", 2)
    entries = [entry("project.qde", MINIMAL.encode()), entry("a", b"a"), entry("b", b"b")]
    refused(
        write(tmp_path, raw_zip(entries)),
        "archive has 3 entries, more than the cap of 2; refused before reading its directory",
    )
    # The end record lies (claims 1 entry): counted again once the directory is read.
    refused(write(tmp_path, raw_zip(entries, claimed_entries=1)), "archive has 3 entries, more than the cap of 2")


def test_directory_too_big_for_the_entry_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(qa, "MAX_MEMBERS", 2)  # directory cap: 2 * 256 bytes
    entries = [entry("project.qde", MINIMAL.encode()), entry("x" * 600, b"a")]
    refused(
        write(tmp_path, raw_zip(entries)),
        "archive directory is 703 bytes, more than the cap of 512 bytes; refused before",
    )
    # 703 = two directory entries of 46 bytes plus their names (11 and 600 bytes)


# -- zip bombs -------------------------------------------------------------------------------

HEAD = f'<?xml version="1.0"?>\n<Project xmlns="{NS}">'.encode()


def bomb_stream(mib: int) -> bytes:
    """Raw deflate stream of HEAD and ``mib`` MiB of spaces, made without deflating them all."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(HEAD) + c.flush(zlib.Z_FULL_FLUSH)
    piece = c.compress(b" " * MiB) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(b" " * MiB) + c.flush(zlib.Z_FULL_FLUSH)
    assert piece == again  # a full flush resets the compressor: each MiB deflates the same
    return head + piece * mib + c.flush(zlib.Z_FINISH)


def test_bomb_stream_inflates_to_what_it_claims():
    d = zlib.decompressobj(-15)
    assert d.decompress(bomb_stream(3)) == HEAD + b" " * (3 * MiB) and d.eof


@pytest.fixture(scope="module")
def bomb():
    """(deflate stream, size, crc) of a project.qde that inflates to 2 GiB (stream ~2 MB)."""
    crc, spaces = zlib.crc32(HEAD), b" " * MiB
    for _ in range(2048):
        crc = zlib.crc32(spaces, crc)
    stream = bomb_stream(2048)
    assert len(stream) < 3 * MiB
    return stream, len(HEAD) + 2048 * MiB, crc


def bomb_file(tmp_path, bomb, name="bomb.qdpx", claimed=None):
    stream, size, crc = bomb
    qde = entry("project.qde", raw=stream, size=size if claimed is None else claimed, crc=crc)
    return write(tmp_path, raw_zip([qde]), name)


def test_bomb_with_honest_header_refused_before_reading(tmp_path, bomb):
    refused(
        bomb_file(tmp_path, bomb),
        "project.qde inflates to 2048 MiB according to the archive, more than the 64 MiB cap; refused before reading",
    )


def test_bomb_claiming_small_size_refused_before_reading(tmp_path, bomb):
    # Local header and central directory both claim 1000 bytes; 2 MB of deflate data cannot
    # be that small.
    msg = refused(
        bomb_file(tmp_path, bomb, claimed=1000),
        "project.qde: the archive's headers do not add up (",
        " MiB compressed said to inflate to only 1000 bytes); refused before reading",
    )
    assert re.search(r"\(2\.\d+ MiB compressed", msg), msg  # the deflate data: about 2 MB


def test_bomb_claiming_size_at_the_cap_is_read_no_further(tmp_path, bomb):
    # The claim passes every check before reading (64 MiB, ratio 31:1); zipfile stops at the
    # claimed size, and the CRC (of the real 2 GiB) then fails.
    path = bomb_file(tmp_path, bomb, claimed=qa.MAX_QDE_BYTES)
    refused(path, "project.qde cannot be read: the archive is damaged (Bad CRC-32")


def test_streaming_cap_stops_bomb_if_header_checks_were_fooled(tmp_path, bomb, monkeypatch):
    monkeypatch.setattr(qa, "_preflight", lambda *args: None)
    refused(
        bomb_file(tmp_path, bomb),
        "project.qde inflates to more than the 64 MiB cap (the archive claimed 2048 MiB); refused while reading",
    )


def test_streaming_cap_on_an_endless_stream(tmp_path):
    class Endless:
        reads = 0

        def read(self, n):
            self.reads += 1
            return bytes(n)

    stream = Endless()
    with pytest.raises(InputError) as info:
        for _ in qa._chunks(stream, "sources/a.txt", 3 * MiB, 10, tmp_path / "p.qdpx"):
            pass
    assert str(info.value) == (
        f"{tmp_path / 'p.qdpx'}: sources/a.txt inflates to more than "
        "the 3 MiB cap (the archive claimed 10 bytes); refused while "
        "reading"
    )
    assert stream.reads == 4  # stopped with the first chunk past the cap


def test_member_over_its_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(qa, "MAX_MEMBER_BYTES", 1000)
    project = qa.read(qdpx(tmp_path, {"project.qde": MINIMAL, "sources/a.txt": "x" * 2000}))
    with pytest.raises(InputError) as info:
        project.member("sources/a.txt")
    assert str(info.value) == (
        f"{project.path}: sources/a.txt inflates to 1.953 KiB according "
        "to the archive, more than the 1000 bytes cap; refused before "
        "reading"
    )
    project.close()


def test_compression_ratio_cap(tmp_path):
    path = qdpx(
        tmp_path,
        {
            "project.qde": MINIMAL,
            "sources/spaces.txt": " " * (8 * MiB),
            "sources/small.txt": " " * 1024,
            "sources/1mib.txt": " " * MiB,
        },
    )
    with qa.read(path) as project:
        # Below RATIO_FLOOR of compressed data high ratios are fine: 1 KiB and 1 MiB of spaces.
        assert project.text("sources/small.txt") == " " * 1024
        assert project.text("sources/1mib.txt") == " " * MiB
        with pytest.raises(InputError) as info:
            project.member("sources/spaces.txt")
    msg = str(info.value)
    packed = zipfile.ZipFile(path).getinfo("sources/spaces.txt").compress_size  # about 8 KiB
    assert msg == (
        f"{path}: sources/spaces.txt has a compression ratio of "
        f"{8 * MiB // packed}:1 (8 MiB from {packed / 1024:.4g} KiB), more than the "
        "200:1 cap; refused before reading"
    )


# ru_maxrss survives exec: a child started by a big pytest process would report the parent's
# peak. So the test starts a small launcher, and the launcher the child that measures itself.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"
CHILD = """
import json, resource, sys
from compendium import qdpx_archive
from compendium.errors import InputError
messages = []
for path in sys.argv[1:]:
    try:
        qdpx_archive.read(path)
    except InputError as exc:
        messages.append(str(exc))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print(json.dumps({"rss_mb": rss / 1024, "messages": messages}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_bomb_refusal_stays_small(tmp_path, bomb):
    paths = [
        bomb_file(tmp_path, bomb, "honest.qdpx"),
        bomb_file(tmp_path, bomb, "lying.qdpx", claimed=1000),
        bomb_file(tmp_path, bomb, "at-cap.qdpx", claimed=qa.MAX_QDE_BYTES),
    ]  # inflates 64 MiB
    r = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c", CHILD, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [m.split(": ")[0] for m in out["messages"]] == list(map(str, paths))
    assert out["rss_mb"] < 200, out


# -- XML attacks and broken XML --------------------------------------------------------------

LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE Project [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Project xmlns="{NS}"><Description>&lol9;</Description></Project>
"""

DECLARED = "entity declarations are not allowed"
XXE = f'<!DOCTYPE Project [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n<Project xmlns="{NS}">'
EXTERNAL_DTD = '<!DOCTYPE Project SYSTEM "http://example.invalid/qde.dtd">\n'
XML_ATTACKS = {
    "billion laughs": (LAUGHS, f"project.qde line 3: {DECLARED} (<!ENTITY lol ...>)"),
    "external entity": (
        XXE + "<Description>&xxe;</Description></Project>",
        f"project.qde line 2: {DECLARED} (<!ENTITY xxe ...>)",
    ),
    "external parameter entity": (
        '<!DOCTYPE Project [<!ENTITY % pe SYSTEM "file:///etc/passwd"> %pe;]>\n<Project/>',
        f"project.qde line 1: {DECLARED} (<!ENTITY % pe ...>)",
    ),
    "entity from an external DTD": (
        EXTERNAL_DTD + f'<Project xmlns="{NS}">\n<Description>&xxe;</Description></Project>',
        "project.qde line 3: reference to undeclared entity &xxe;",
    ),
    "undefined entity": (project_xml("\n&nbsp;"), "project.qde line 3: not well-formed XML (undefined entity)"),
}


@pytest.mark.parametrize("case", XML_ATTACKS)
def test_xml_attacks(tmp_path, case):
    xml, message = XML_ATTACKS[case]
    assert refused(qdpx(tmp_path, {"project.qde": xml})).endswith(message)


def test_doctype_without_entities_is_fine(tmp_path):
    xml = f'<!DOCTYPE Project SYSTEM "qde.dtd">\n<Project xmlns="{NS}">x</Project>'
    assert qa.read(qdpx(tmp_path, {"project.qde": xml})).root.text == "x"


UNCLOSED = project_xml('\n  <Sources>\n    <TextSource name="a">\n  </Sources>\n')
NOT_WELL_FORMED = [
    (UNCLOSED, "line 5: not well-formed XML (mismatched tag)"),
    (
        project_xml('\n<Users>\n<User name="a" name="b"/>\n</Users>'),
        "line 4: not well-formed XML (duplicate attribute)",
    ),
    (MINIMAL + "<Project/>", "line 3: not well-formed XML (junk after document element)"),
    ("", "line 1: not well-formed XML (no element found)"),
    (project_xml("\n<x:Code/>"), "line 3: not well-formed XML (unbound prefix)"),
]


@pytest.mark.parametrize("xml, message", NOT_WELL_FORMED)
def test_not_well_formed(tmp_path, xml, message):
    assert refused(qdpx(tmp_path, {"project.qde": xml})).endswith(f"project.qde {message}")


EXPECTED = f"; expected <Project> in namespace {NS}"
WRONG_ROOTS = [
    (
        f'<?xml version="1.0"?>\n<Projekt xmlns="{NS}"/>',
        f"line 2: root element is <Projekt> in namespace {NS}{EXPECTED}",
    ),
    (
        '<Project xmlns="urn:QDA-XML:project:2.0"/>',
        f"line 1: root element is <Project> in namespace urn:QDA-XML:project:2.0{EXPECTED}",
    ),
    ("<Project/>", f"line 1: root element is <Project> in no namespace{EXPECTED}"),
]


@pytest.mark.parametrize("xml, message", WRONG_ROOTS)
def test_wrong_root(tmp_path, xml, message):
    assert refused(qdpx(tmp_path, {"project.qde": xml})).endswith(f"project.qde {message}")


def test_too_deep(tmp_path):
    xml = project_xml("\n" + "<Code>" * 300 + "</Code>" * 300)
    refused(qdpx(tmp_path, {"project.qde": xml}), f"project.qde line 3: elements nested more than {qa.MAX_DEPTH} deep")


def test_too_many_elements(tmp_path, monkeypatch):
    monkeypatch.setattr(qa, "MAX_ELEMENTS", 100)
    xml = project_xml("\n" + "<Code/>\n" * 200)
    refused(qdpx(tmp_path, {"project.qde": xml}), "project.qde line 102: more than 100 elements")


def test_namespaced_attributes_use_elementtree_names(tmp_path):
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    xml = f'<Project xmlns="{NS}" xmlns:xsi="{xsi}" xsi:schemaLocation="{NS} x.xsd" name="p"/>'
    root = qa.read(qdpx(tmp_path, {"project.qde": xml})).root
    assert root.attrib == {f"{{{xsi}}}schemaLocation": f"{NS} x.xsd", "name": "p"}
    assert ET.tostring(root) == ET.tostring(ET.fromstring(xml))


def test_same_tree_as_elementtree(good):
    assert ET.tostring(good.root) == ET.tostring(ET.fromstring(GOOD.encode()))


def test_read_accepts_str_path(tmp_path):
    path = qdpx(tmp_path, {"project.qde": MINIMAL})
    with qa.read(str(path)) as project:
        assert project.path == path


def test_archive_is_closed_after_a_refusal(tmp_path, monkeypatch):
    path = qdpx(tmp_path, {"project.qde": "<Project/>"})
    closed = []
    monkeypatch.setattr(zipfile.ZipFile, "close", lambda self: closed.append(self.filename))
    refused(path, "root element")
    assert closed == [str(path)]


def test_module_uses_only_the_standard_library():
    src = Path(qa.__file__).read_text(encoding="utf-8")
    imports = {line.split()[1].split(".")[0] for line in src.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {
        "__future__",
        "io",
        "itertools",
        "re",
        "struct",
        "zipfile",
        "zlib",
        "pathlib",
        "xml",
        "compendium",
    }, imports
