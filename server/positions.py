"""LSP columns to string indices and back: columns count code units.

LSP counts a line's characters in UTF-16 code units unless client and server agreed on another
encoding, so a character outside the Basic Multilingual Plane (most emoji) counts 2. Positions
past the end of a line are clamped, never an error: clients send them. (Lines are
server/line_document.py's.)
"""

from __future__ import annotations


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
