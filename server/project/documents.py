"""Token storage for the two kinds of document the index holds.

Both keep their tokens' keys packed in one byte string (`flat`, 4 bytes a token), so the longest
match is found with `bytes.find`, at memory speed, instead of a Python loop over tokens.

- `OpenDocument`: a buffer being edited. It is kept as lines, each with its tokens, so a
  `didChange` relexes only the lines that changed: the changed span is found by comparing the old
  and new text in chunks, which is C-speed, and the line lists are spliced.
- `FileDocument`: a workspace file, written rarely. It is compact (the text, the packed keys and
  one 4-byte end offset a token) because there may be thousands.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate, islice

from server.project.lexer import KEY_BYTES, NEWLINE_KEY, key_of, lex_line, lex_line_keys

_CHUNK = 1024  # characters first compared when diffing texts; doubles with each equal chunk


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix, comparing in chunks (C-speed)."""
    n = min(len(a), len(b))
    i = 0
    chunk = _CHUNK
    while i < n:
        j = min(i + chunk, n)
        chunk *= 2
        if a[i:j] != b[i:j]:
            lo, hi = i, j  # a[:lo] == b[:lo], a[:hi] != b[:hi]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if a[lo:mid] == b[lo:mid]:
                    lo = mid
                else:
                    hi = mid
            return lo
        i = j
    return n


def common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the longest common suffix, at most `limit`."""
    la, lb = len(a), len(b)
    i = 0
    chunk = _CHUNK
    while i < limit:
        j = min(i + chunk, limit)
        chunk *= 2
        if a[la - j : la - i] != b[lb - j : lb - i]:
            lo, hi = i, j
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
                    lo = mid
                else:
                    hi = mid
            return lo
        i = j
    return limit


class OpenDocument:
    """An open buffer: lines, each line's packed keys and token end columns."""

    scope = "tab"

    def __init__(self, uri: str, text: str, language: str | None = None) -> None:
        self.uri = uri
        self.language = language
        self._text: str | None = text  # None after an `edit`: joined again only when asked
        self.lines = text.split("\n")
        lexed = [lex_line_keys(line) for line in self.lines]
        self.keys: list[bytes] = [k for k, _ in lexed]
        self.ends: list[tuple[int, ...]] = [e for _, e in lexed]
        self.counts: list[int] = [len(e) for e in self.ends]  # tokens per line
        self.flat = bytearray(b"".join(self.keys))
        self._cumulative: list[int] | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "\n".join(self.lines)
        return self._text

    def update(self, text: str) -> None:
        """The document's new full text: relex only the lines that changed.

        Finding them costs a few passes over the text at memory speed (about 1 ms for a
        10,000-line file); `edit` with the LSP's incremental change costs nothing of the sort.
        """
        old = self.text
        if text == old:
            return
        start = common_prefix(old, text)
        same_end = common_suffix(old, text, min(len(old), len(text)) - start)
        first = old.count("\n", 0, start)
        last = first + old.count("\n", start, len(old) - same_end)
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", len(text) - same_end)
        if line_end < 0:
            line_end = len(text)
        self._replace(first, last, text[line_start:line_end].split("\n"))
        self._text = text

    def edit(self, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """Replace the text between two (line, column) positions (an LSP incremental change).

        Columns count code points. Positions past the end are clamped, as editors expect.
        """
        last_line = len(self.lines) - 1
        first = min(max(start[0], 0), last_line)
        last = min(max(end[0], first), last_line)
        head = self.lines[first][: max(start[1], 0)] if start[0] <= last_line else self.lines[first]
        tail = self.lines[last][max(end[1], 0) :] if end[0] <= last_line else ""
        self._replace(first, last, (head + text + tail).split("\n"))
        self._text = None

    def _replace(self, first: int, last: int, lines: list[str]) -> None:
        """Lines first..last (inclusive) become `lines`, relexed."""
        lexed = [lex_line_keys(line) for line in lines]
        keys = [k for k, _ in lexed]
        ends = [e for _, e in lexed]
        # The flat keys: splice the changed lines' bytes (sum over a list slice is C-speed).
        flat_start = KEY_BYTES * sum(self.counts[:first])
        flat_end = flat_start + KEY_BYTES * sum(self.counts[first : last + 1])
        self.flat[flat_start:flat_end] = b"".join(keys)
        self.lines[first : last + 1] = lines
        self.keys[first : last + 1] = keys
        self.ends[first : last + 1] = ends
        self.counts[first : last + 1] = [len(e) for e in ends]
        self._cumulative = None

    @property
    def token_count(self) -> int:
        return len(self.flat) // KEY_BYTES

    def site(self, token: int) -> tuple[int, int, Iterator[str]]:
        """(line, column where the token ends, the lines from that one on).

        A NEWLINE token ends at its line's length.
        """
        if self._cumulative is None:
            self._cumulative = list(accumulate(self.counts))
        line = bisect_right(self._cumulative, token)
        before = self._cumulative[line - 1] if line else 0
        return line, self.ends[line][token - before], islice(self.lines, line, None)

    def memory_estimate(self) -> int:
        """Bytes, roughly: the text twice (whole and in lines), keys twice, ends, per-line cost."""
        tokens = len(self.flat) // KEY_BYTES
        chars = sum(map(len, self.lines))
        return 2 * chars + 3 * KEY_BYTES * tokens + 160 * len(self.lines)


class FileDocument:
    """A workspace file: its text, packed keys and each token's end offset."""

    scope = "workspace"

    def __init__(self, uri: str, text: str, language: str | None = None) -> None:
        self.uri = uri
        self.path = ""  # its real path, set by the index: the same file may be open in a tab
        self.language = language
        self.text = text
        keys = array("I")
        ends = array("I")
        starts = array("I")  # each line's offset, to find a token's line by bisection
        offset = 0
        for line in text.split("\n"):
            starts.append(offset)
            texts, columns = lex_line(line)
            if texts:
                keys.extend(map(key_of, texts))
                keys.append(NEWLINE_KEY)
                ends.extend(offset + c for c in columns)
                ends.append(offset + len(line))
            offset += len(line) + 1
        self.flat = keys.tobytes()
        self._ends = ends
        self._line_starts = starts
        self.token_count = len(ends)

    def site(self, token: int) -> tuple[int, int, Iterator[str]]:
        """As `OpenDocument.site`."""
        end = self._ends[token]
        line = bisect_right(self._line_starts, end) - 1
        line_start = self._line_starts[line]
        return line, end - line_start, self._lines_from(line_start)

    def _lines_from(self, start: int) -> Iterator[str]:
        while True:
            end = self.text.find("\n", start)
            if end < 0:
                yield self.text[start:]
                return
            yield self.text[start:end]
            start = end + 1

    def memory_estimate(self) -> int:
        return (
            len(self.text) + 60 + len(self.flat) + 4 * (len(self._ends) + len(self._line_starts))
        ) + 200
