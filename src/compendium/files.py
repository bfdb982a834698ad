"""Reading the text files people write (transcripts, codebooks, coding files): UTF-8, with one clear error."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError


def read_text(path: str | Path, what: str = "file") -> str:
    """Decode ``path`` as UTF-8 (a leading byte-order mark is dropped).

    A missing file or undecodable bytes raise :class:`InputError` naming the file, the line and the offending
    byte, so the person who wrote the file can find it.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found", path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})", path, line) from None
    return text[1:] if text.startswith("\ufeff") else text
