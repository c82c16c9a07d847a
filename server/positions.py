"""LSP positions to string offsets: lines split at \\n, \\r\\n or \\r; columns in code units.

LSP counts a line's characters in UTF-16 code units unless client and server agreed on another
encoding, so a character outside the Basic Multilingual Plane (most emoji) counts 2. Positions
past the end of a line or of the document are clamped, never an error: clients send them.
"""

from __future__ import annotations

import re

LINE_BREAK = re.compile(r"\r\n|\r|\n")


def code_units(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8"))
    if encoding == "utf-32":
        return 1
    return 2 if ord(char) > 0xFFFF else 1


def column_to_index(line: str, column: int, encoding: str = "utf-16") -> int:
    """The index in `line` of the code unit column `column` (clamped to the line's end)."""
    units = 0
    for index, char in enumerate(line):
        if units >= column:
            return index
        units += code_units(char, encoding)
    return len(line)


def index_to_column(line: str, index: int, encoding: str = "utf-16") -> int:
    return sum(code_units(char, encoding) for char in line[:index])


def line_start(text: str, line: int) -> tuple[int, int] | None:
    """The offset where `line` starts and where it ends (before its break); None past the end."""
    start = 0
    for _ in range(line):
        match = LINE_BREAK.search(text, start)
        if match is None:
            return None
        start = match.end()
    match = LINE_BREAK.search(text, start)
    return start, (match.start() if match else len(text))


def offset_at(text: str, line: int, column: int, encoding: str = "utf-16") -> int:
    """The string offset of an LSP position in `text`."""
    if line < 0:
        return 0
    bounds = line_start(text, line)
    if bounds is None:
        return len(text)
    start, end = bounds
    return start + column_to_index(text[start:end], max(column, 0), encoding)
