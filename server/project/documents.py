"""Token storage for the two kinds of document the index holds.

Both keep their tokens' keys packed in one byte string (`flat`, 8 bytes a token), so the longest
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

from server.project.lexer import KEY_BYTES, NEWLINE_KEY, lex_line, lex_line_keys

_CHUNK = 4096  # characters compared at a time when diffing an old text against a new one


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix, comparing in chunks (C-speed)."""
    n = min(len(a), len(b))
    i = 0
    while i < n:
        j = min(i + _CHUNK, n)
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
    while i < limit:
        j = min(i + _CHUNK, limit)
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
        self.text = text
        self.lines = text.split("\n")
        lexed = [lex_line_keys(line) for line in self.lines]
        self.keys: list[bytes] = [k for k, _ in lexed]
        self.ends: list[tuple[int, ...]] = [e for _, e in lexed]
        self._flat: bytes | None = None
        self._cumulative: list[int] | None = None

    def update(self, text: str) -> None:
        """The document's new full text: relex only the lines that changed."""
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
        lines = text[line_start:line_end].split("\n")
        lexed = [lex_line_keys(line) for line in lines]
        self.lines[first : last + 1] = lines
        self.keys[first : last + 1] = [k for k, _ in lexed]
        self.ends[first : last + 1] = [e for _, e in lexed]
        self.text = text
        self._flat = None
        self._cumulative = None

    @property
    def flat(self) -> bytes:
        if self._flat is None:
            self._flat = b"".join(self.keys)
        return self._flat

    @property
    def token_count(self) -> int:
        return len(self.flat) // KEY_BYTES

    def site(self, token: int) -> tuple[int, int, Iterator[str]]:
        """(line, column where the token ends, the lines from that one on).

        A NEWLINE token ends at its line's length.
        """
        if self._cumulative is None:
            self._cumulative = list(accumulate(len(k) // KEY_BYTES for k in self.keys))
        line = bisect_right(self._cumulative, token)
        before = self._cumulative[line - 1] if line else 0
        return line, self.ends[line][token - before], islice(self.lines, line, None)

    def memory_estimate(self) -> int:
        """Bytes, roughly: the text twice (whole and in lines), keys twice, ends, per-line cost."""
        tokens = len(self.flat) // KEY_BYTES
        return 2 * len(self.text) + 24 * tokens + 160 * len(self.lines)


class FileDocument:
    """A workspace file: its text, packed keys and each token's end offset."""

    scope = "workspace"

    def __init__(self, uri: str, text: str, language: str | None = None) -> None:
        self.uri = uri
        self.language = language
        self.text = text
        keys = array("q")
        ends = array("I")
        offset = 0
        for line in text.split("\n"):
            texts, columns = lex_line(line)
            if texts:
                keys.extend(map(hash, texts))
                keys.append(NEWLINE_KEY)
                ends.extend(offset + c for c in columns)
                ends.append(offset + len(line))
            offset += len(line) + 1
        self.flat = keys.tobytes()
        self._ends = ends

    @property
    def token_count(self) -> int:
        return len(self._ends)

    def site(self, token: int) -> tuple[int, int, Iterator[str]]:
        """As `OpenDocument.site`."""
        end = self._ends[token]
        line_start = self.text.rfind("\n", 0, end) + 1
        line = self.text.count("\n", 0, line_start)
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
        return len(self.text) + 60 + len(self.flat) + 4 * len(self._ends) + 200
