"""Reading the text files people write (transcripts, codebooks, coding files): UTF-8, with one clear error.

Every reader of a raw text file goes through :func:`read_text` (or :func:`decode_text` for bytes that come
from elsewhere, such as a member of a zip archive), so that the same things are refused the same way everywhere:

- bytes that are not UTF-8 (the line and the offending byte are named);
- a **binary file** (an image, a spreadsheet, a zip renamed ``.csv``): NUL bytes, or many control characters, in
  the first 8 KiB. It is said to be binary, instead of being scanned, parsed or reported as something else;
- a stray **control character** (a NUL byte deep in a transcript, a form feed pasted from a PDF): named by
  line and column. Tab, line feed and carriage return are text. Generated files (executed notebooks hold ANSI
  colour codes in tracebacks) are read with ``control_ok=True``.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import InputError

#: C0 and C1 control characters other than tab, line feed and carriage return, and DEL.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
_SNIFF = 8192


def looks_binary(data: bytes) -> bool:
    """True for bytes that are not a text file: a NUL byte, or more than 10% control bytes, in the first 8 KiB."""
    head = data[:_SNIFF]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12))
    return bool(head) and controls > len(head) // 10


def decode_text(data: bytes, path: str | Path, what: str = "file", control_ok: bool = False) -> str:
    """Decode ``data`` (the content of ``path``) as UTF-8 text, dropping a leading byte-order mark.

    Raises :class:`InputError` naming ``path`` for a binary file, for bytes that are not UTF-8 (with the line and
    the byte) and, unless ``control_ok``, for a control character (with line and column).
    """
    if looks_binary(data):
        raise InputError(f"binary file, not UTF-8 text (expected a {what})", path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})", path, line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not control_ok:
        m = CONTROL.search(text)
        if m:
            line = text.count("\n", 0, m.start()) + 1
            col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
            raise InputError(
                f"control character U+{ord(m.group(0)):04X} at column {col} (not text; remove it)", path, line
            )
    return text


def read_text(path: str | Path, what: str = "file", control_ok: bool = False) -> str:
    """Read ``path`` as UTF-8 text (see :func:`decode_text`); a missing file is an :class:`InputError` too."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found", path) from None
    except IsADirectoryError:
        raise InputError(f"expected a {what}, found a folder", path) from None
    return decode_text(data, path, what, control_ok)


def read_csv_records(path: str | Path, what: str = "CSV file"):
    """The CSV files people write, read so that every problem can name its line.

    Returns ``(header, header_line, records)``: the header's cells (stripped; ``None`` for a file with no
    non-blank line), the line it is on, and ``(line, fields)`` for every non-blank record after it, ``line``
    being the record's first line (a quoted cell may span several). The text is read by :func:`read_text`
    (binary files, non-UTF-8 bytes and control characters refused); a record that is not valid CSV (an unclosed
    quote, ...) is an :class:`InputError` naming the line where it starts.
    """
    import csv
    import io

    text = read_text(path, what)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header, header_line, records, last = None, 1, [], 0
    try:
        for fields in reader:
            line, last = last + 1, reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            if header is None:
                header, header_line = [h.strip() for h in fields], line
            else:
                records.append((line, fields))
    except csv.Error as exc:
        raise InputError(f"not a valid CSV file ({exc})", path, last + 1) from None
    return header, header_line, records
