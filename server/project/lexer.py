"""Lexer tokens with their columns, for longest-match lookup in any language.

One regular expression serves every language, line by line, and Python too. Two reasons, both
measured (benchmarks/project_index.py, docs/project-index.md):

- Speed. `tokenize` is pure Python in 3.10 and 3.11: 247 ms for a 10,000-line file against this
  lexer's 80 ms, measured, and it lexes the whole file, while an edit relexes one line here.
- Locality. A line's tokens depend only on that line, so a `didChange` relexes the changed lines
  and nothing else, and the query (the cursor's line prefix) lexes exactly like the indexed text.
  `tokenize` needs the whole file and breaks on incomplete code, which is the usual state of a
  buffer being typed in.

What this costs: a string that spans lines (a docstring) is lexed as the words and punctuation
inside it, not as one token; comments too. Both are harmless to matching (the same text lexes the
same way everywhere) and let the copy engine complete docstrings and comments as well.

A token's identity is a 32-bit key, the low bits of its text's hash (valid within one process,
which is all an index lives for). 32 bits, not 64: half the memory and half the bytes to search,
and a false match would need several consecutive keys to collide.

Each non-blank line ends with one NEWLINE token, so blank lines and indentation never break a
match, while line ends still count.
"""

from __future__ import annotations

import re
from array import array

# Order matters: strings (with their prefixes) before identifiers, longer operators before
# shorter ones. A string must close on its line; an unclosed quote is a punctuation token.
_TOKEN = re.compile(
    r"""
    [rRbBuUfF]{0,2}(?:\"\"\"|'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`\n]*`)
    | \d[\w.]*
    | \.\d[\w.]*
    | [^\W\d]\w*
    | \*\*=|//=|>>=|<<=|\.\.\.|->|=>|:=|===|!==|==|!=|<=|>=|\+=|-=|\*=|/=|%=|&=|\|=|\^=
    | \*\*|//|<<|>>|&&|\|\||::|\+\+|--
    | [^\s\w]
    """,
    re.VERBOSE,
)
_WORD = re.compile(r"\w+\Z")

_MASK = 0xFFFFFFFF
NEWLINE_KEY = hash("\n") & _MASK
KEY_BYTES = 4  # one key, packed (array type "I")


def key_of(text: str) -> int:
    """A token's key."""
    return hash(text) & _MASK


def lex_line(line: str) -> tuple[list[str], list[int]]:
    """The tokens of one line (without its newline) and the column where each ends."""
    texts: list[str] = []
    ends: list[int] = []
    for match in _TOKEN.finditer(line):
        texts.append(match.group())
        ends.append(match.end())
    return texts, ends


def pack_keys(texts: list[str], newline: bool) -> bytes:
    """The packed keys of a line's tokens, with the NEWLINE token's key after them if asked."""
    keys = array("I", [hash(text) & _MASK for text in texts])
    if newline:
        keys.append(NEWLINE_KEY)
    return keys.tobytes()


def lex_line_keys(line: str) -> tuple[bytes, tuple[int, ...]]:
    """(packed keys, column ends) of one line; a non-blank line ends with the NEWLINE token.

    The NEWLINE token's column is the line's length.
    """
    texts, ends = lex_line(line)
    if not texts:
        return b"", ()
    ends.append(len(line))
    return pack_keys(texts, newline=True), tuple(ends)


def split_partial(line_prefix: str) -> tuple[list[str], list[int], str]:
    """The line prefix before the cursor as (complete tokens, their ends, partial word).

    A word that touches the cursor may be unfinished (`self.na|`): it is not matched as a token
    but as the beginning of the token that followed at the matched place.
    """
    texts, ends = lex_line(line_prefix)
    partial = ""
    if texts and ends[-1] == len(line_prefix) and _WORD.match(texts[-1]):
        partial = texts.pop()
        ends.pop()
    return texts, ends, partial
