"""One kind of error for bad input: it names the file, the line or row, and what is wrong.

The command line turns an :class:`InputError` into a single line on stderr and exit status 2
(no traceback unless ``--debug``). Library code raises it wherever input is at fault.
"""

from __future__ import annotations

from os import PathLike


class InputError(ValueError):
    """Bad input: a file (and line or row) and what is wrong with it."""

    def __init__(self, message: str, path: str | PathLike | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        return f"{where}{self.message}"
