"""From a longest match to a copy candidate: the search over packed token keys, what followed a
place (the rest of its line, or the next line at a statement start), the enclosing function
(for the `function` scope) and the ranking of the places found.

Pure functions over one document's lines and keys; `ProjectIndex.lookup` (index.py) runs them
over every document it may read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from server.project.lexer import KEY_BYTES

SCOPES = ("function", "file", "tab", "workspace")  # nearest first


@dataclass(frozen=True)
class Candidate:
    """One continuation proposed by the copy engine."""

    text: str  # to insert at the cursor: the rest of the line (and `extra_lines` more)
    tokens: int  # match length in lexer tokens (a partly typed word counts as one)
    scope: str  # one of SCOPES: where the best place lies
    uri: str  # where the text came from
    line: int  # 0-based line of that text in `uri`
    count: int  # how many places found proposed this same text


@dataclass
class Place:
    tokens: int
    rank: int  # position in SCOPES
    distance: int  # lines from the cursor, for places in the current document
    uri: str
    line: int
    text: str


_HEADER = re.compile(
    r"(?:async\s+)?def\s|(?:export\s+)?(?:async\s+)?function\b|func\s|fun\s|sub\s"
    r"|(?:pub(?:\([\w:]+\))?\s+)?(?:async\s+)?fn\s"
)
_NOT_A_FUNCTION = ("if", "for", "while", "switch", "else", "try", "catch", "do", "}", "with")
_SCAN_LINES = 5000  # how far to look for the enclosing function, up and down


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _is_header(stripped: str) -> bool:
    if _HEADER.match(stripped):
        return True
    return (
        "(" in stripped
        and stripped.rstrip().endswith("{")
        and not stripped.startswith(_NOT_A_FUNCTION)
    )


def enclosing_function(lines: list[str], line: int, indent: int) -> tuple[int, int] | None:
    """[first, end) lines of the function around `line` (by indentation), or None at top level.

    `indent`: the cursor line's indentation. A heuristic for every language: a function header
    is a less indented line above that starts with def/function/fn/func/..., or a C-like
    signature ending with `{`; the function ends before the next line indented no deeper than
    its header (a closing brace at that depth belongs to it).
    """
    if indent == 0:
        return None
    current = indent
    header = -1
    for i in range(line - 1, max(-1, line - _SCAN_LINES), -1):
        stripped = lines[i].lstrip(" \t")
        if not stripped.strip():
            continue
        depth = len(lines[i]) - len(stripped)
        if depth < current:
            if _is_header(stripped):
                header = i
                break
            current = depth
            if current == 0:
                return None
    if header < 0:
        return None
    depth = indent_of(lines[header])
    end = min(len(lines), line + _SCAN_LINES)
    for j in range(line + 1, end):
        stripped = lines[j].lstrip(" \t")
        if stripped.strip() and len(lines[j]) - len(stripped) <= depth:
            return header, j + 1 if stripped[0] in "}])" else j
    return header, end


def find_places(flat: bytes, query: bytes, least: int, cap: int) -> list[tuple[int, int]]:
    """(end byte, match length in tokens) of the places in `flat` matching the query's suffix.

    Only places whose last `least` tokens match. One pass: when more than `cap` places match,
    the pattern doubles (every longer match is among the places of a shorter pattern): the
    places so far are filtered and the scan goes on with the longer pattern. Past `cap` places
    with the whole query as the pattern, the rest are left out.
    """
    total = len(query) // KEY_BYTES
    length = least
    pattern = query[-length * KEY_BYTES :]
    ends: list[int] = []
    found = flat.find(pattern)
    while found >= 0:
        if found % KEY_BYTES:  # not on a token boundary: a chance overlap of two keys
            found = flat.find(pattern, found + 1)
            continue
        end = found + len(pattern)
        ends.append(end)
        if len(ends) > cap:
            if length >= total:
                ends.pop()
                break
            length = min(2 * length, total)
            pattern = query[-length * KEY_BYTES :]
            size = len(pattern)
            ends = [e for e in ends if e >= size and flat[e - size : e] == pattern]
            found = flat.find(pattern, max(0, end - size + KEY_BYTES))
        else:
            found = flat.find(pattern, found + KEY_BYTES)
    return [(end, _extend(flat, query, end, length)) for end in ends]


def _extend(flat: bytes, query: bytes, end: int, known: int) -> int:
    """The match length at `end`, knowing that `known` tokens match: bisection on slices."""
    q = len(query)
    low, high = known, min(q, end) // KEY_BYTES
    while low < high:
        mid = (low + high + 1) // 2
        if (
            flat[end - mid * KEY_BYTES : end - low * KEY_BYTES]
            == query[q - mid * KEY_BYTES : q - low * KEY_BYTES]
        ):
            low = mid
        else:
            high = mid - 1
    return low


def continuation(
    lines: Iterator[str],
    column: int,
    typed_space: str,
    partial: str,
    indent_step: int | None = None,
) -> tuple[str, int, str] | None:
    """(text, lines skipped, indentation of the text's line) after a place, or None.

    `lines` starts with the place's line, `column` is where its last matched token ends. The
    user has typed `typed_space` then `partial` after their last token. At a statement start
    `indent_step` is set: the user's indentation minus the line above's. The place's last token
    is then a NEWLINE, the text is the next non-blank line, and its indentation must step the
    same way (a line that followed a block's end is no answer inside a block).
    """
    line = next(lines, "")
    rest = line[column:]
    skipped = 0
    line_start = indent_step is not None
    if line_start:
        for following in lines:
            skipped += 1
            if following.strip():
                rest = following
                break
        else:
            return None
        if indent_of(rest) - indent_of(line) != indent_step:
            return None
    space = rest[: indent_of(rest)]
    word = rest[len(space) :]
    if not word.startswith(partial):
        return None
    if partial:
        text = word[len(partial) :]
    elif line_start:
        text = word  # its indentation is the user's, checked above
    elif space.startswith(typed_space):
        text = space[len(typed_space) :] + word
    else:
        text = word if typed_space else rest
    return text.rstrip(), skipped, space


def with_lines(text: str, lines: Iterator[str], count: int, space: str, indent: str) -> str:
    """`text` and the next `count` lines, re-indented from the place's indentation to ours."""
    out = [text]
    shift = len(indent) - len(space)
    char = (indent or space or " ")[0]
    for following in lines:
        if len(out) > count:
            break
        depth = indent_of(following)
        if following.strip():
            following = char * max(0, depth + shift) + following[depth:]
        out.append(following.rstrip())
    return "\n".join(out)


def rank_places(places: list[Place]) -> list[Candidate]:
    """One candidate per distinct text, from its best place; the best candidates first."""
    best: dict[str, Place] = {}
    count: Counter[str] = Counter()
    for place in places:
        count[place.text] += 1
        held = best.get(place.text)
        if held is None or (-place.tokens, place.rank, place.distance) < (
            -held.tokens,
            held.rank,
            held.distance,
        ):
            best[place.text] = place
    ordered = sorted(best.values(), key=lambda p: (-p.tokens, p.rank, -count[p.text], p.distance))
    return [
        Candidate(p.text, p.tokens, SCOPES[p.rank], p.uri, p.line, count[p.text]) for p in ordered
    ]
