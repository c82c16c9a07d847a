"""Open documents kept as lists of lines, so that a keystroke costs the lines it touches.

pygls' TextDocument keeps one string: each incremental change rebuilds it in a Python loop over
every line, and each position it converts splits the whole text again. In a 10,000-line file that
was 2 ms a keystroke and 5 ms a request (benchmarks/latency.py --workspace). Here the lines (with
their breaks: \\n, \\r\\n or \\r, the LSP's three) are what is kept; an edit splices the lines it
spans, and the whole text is joined only when something asks for it.

Each edit is also kept, in code points, for the project index (`take_edits`), which follows the
document by the same ranges instead of comparing whole texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types
from pygls.workspace import TextDocument

from server.positions import column_to_index

LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
LONE_CR = re.compile(r"\r(?!\n)")


def split_lines(text: str) -> list[str]:
    """The lines of `text` with their breaks; a text that ends in a break has an empty last line
    (the LSP counts it: the cursor can stand there)."""
    lines = LINE.findall(text)
    if not lines or lines[-1][-1] in "\r\n":
        lines.append("")
    return lines


def body(line: str) -> str:
    """The line without its break."""
    return line.rstrip("\r\n")


@dataclass(frozen=True)
class Edit:
    """One change in code points: (line, column) to (line, column) became `text`."""

    start: tuple[int, int]
    end: tuple[int, int]
    text: str


class LineDocument(TextDocument):
    """A pygls TextDocument whose text is a list of lines (see the module's docstring)."""

    def __init__(
        self, uri: str, source: str, version: int | None, language_id: str | None, encoding: str
    ) -> None:
        super().__init__(uri, "", version, language_id)
        self.encoding = encoding  # the position encoding agreed with the client
        self._set(source)
        self._edits: list[Edit] = []
        # The project index, given this text on didOpen, can follow the edits by their ranges:
        # its lines, split at \n alone, are these lines unless a lone \r breaks one.
        self._index_follows = LONE_CR.search(source) is None

    def _set(self, source: str) -> None:
        self._lines = split_lines(source)
        self._source = source

    @property
    def source(self) -> str:
        if self._source is None:
            self._source = "".join(self._lines)
        return self._source

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(self._lines)

    def line_count(self) -> int:
        return len(self._lines)

    def apply_change(self, change: types.TextDocumentContentChangeEvent) -> None:
        if isinstance(change, types.TextDocumentContentChangePartial):
            self._edits.append(self._edit(change.range, change.text))
        else:
            self._set(change.text)
            self._index_follows = False  # no range to follow: the index takes the whole text

    def _point(self, position: types.Position) -> tuple[int, int]:
        """(line, column in code points), clamped into the document."""
        if position.line >= len(self._lines):
            return len(self._lines) - 1, len(body(self._lines[-1]))
        line = max(position.line, 0)
        text = body(self._lines[line])
        return line, column_to_index(text, max(position.character, 0), self.encoding)

    def _edit(self, span: types.Range, text: str) -> Edit:
        start, end = sorted((self._point(span.start), self._point(span.end)))
        head = self._lines[start[0]][: start[1]]
        tail = self._lines[end[0]][end[1] :]  # with the line's break
        replaced = LINE.findall(head + text + tail)
        # Only the document's last line has no break: an edit that reaches it ends the same way.
        if end[0] == len(self._lines) - 1 and (not replaced or replaced[-1][-1] in "\r\n"):
            replaced.append("")
        self._lines[start[0] : end[0] + 1] = replaced
        self._source = None
        if "\r" in text and LONE_CR.search(head + text + tail):
            self._index_follows = False
        return Edit(start, end, text)

    def take_edits(self) -> list[Edit] | None:
        """The edits since the last call, for the project index; None when the index must take
        the whole text instead (after a full change, or while a lone \\r breaks a line)."""
        edits, self._edits = self._edits, []
        if self._index_follows:
            return edits
        self._index_follows = LONE_CR.search(self.source) is None  # in step again from here
        return None

    def split(self, line: int, column: int) -> tuple[str, str]:
        """The text before and after an LSP position (clamped into the document)."""
        row, index = self._point(types.Position(line, column))
        current = self._lines[row]
        before = "".join(self._lines[:row]) + current[:index]
        after = current[index:] + "".join(self._lines[row + 1 :])
        return before, after
