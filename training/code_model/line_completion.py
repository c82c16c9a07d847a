"""Line-completion cases cut from whole held-out files, as the editor asks, and their scores.

A case is the editor's view at one cursor: the prefix is everything in the file before the
cursor, the target the rest of that line (what the user was about to type), the suffix
everything after the line (starting with its newline). Two cursor kinds:

- `statement`: at the start of a statement inside a function body, after its indentation (the
  CodeXGLUE line-completion setting; never inside a docstring or a multi-line expression);
- `midline`: inside such a line, at a boundary between two Python tokens, the part before it
  typed.

Cases are a fixed function of the files, the kind and the seed: every model is scored on the same
ones. Scores: exact match (whitespace-insensitive) and edit similarity, each with its standard
error, so a one-point change is not mistaken for progress.
"""

from __future__ import annotations

import ast
import difflib
import io
import math
import random
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass

CURSOR_KINDS = ("statement", "midline")
CODE_TOKENS = (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING)


@dataclass(frozen=True)
class LineCase:
    prefix: str  # the file up to the cursor
    target: str  # the rest of the line, without its newline
    suffix: str  # everything after the line, starting with its newline


def statement_lines(source: str) -> list[int]:
    """0-based numbers of the lines inside function bodies where a statement starts."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for statement in ast.walk(node):
            if (
                isinstance(statement, ast.stmt)
                and statement is not node
                and not is_docstring(statement)
            ):
                lines.add(statement.lineno - 1)
    return sorted(lines)


def is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def token_boundaries(source: str, lines: Sequence[int]) -> list[tuple[int, int]]:
    """(line, column) of every code token that starts inside one of `lines` after its first token
    and ends on that line, so the cursor sits between two tokens with code left to type."""
    wanted = set(lines)
    first_seen: set[int] = set()
    boundaries = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    for token in tokens:
        line = token.start[0] - 1
        if line not in wanted or token.type not in CODE_TOKENS:
            continue
        if line not in first_seen:
            first_seen.add(line)  # the statement start itself belongs to the other kind
            continue
        boundaries.append((line, token.start[1]))
    return boundaries


def cursor_positions(source: str, kind: str) -> list[tuple[int, int]]:
    """(line, column) of every cursor of `kind` in a file."""
    lines = statement_lines(source)
    if kind == "statement":
        text_lines = source.split("\n")
        return [(n, len(text_lines[n]) - len(text_lines[n].lstrip())) for n in lines]
    return token_boundaries(source, lines)


def cut_case(source: str, line: int, column: int) -> LineCase:
    """The case at (line, column): the file before the cursor, the rest of the line, the rest."""
    lines = source.split("\n")
    before = "".join(f"{text}\n" for text in lines[:line])
    return LineCase(
        prefix=before + lines[line][:column],
        target=lines[line][column:].rstrip(),
        suffix="\n" + "\n".join(lines[line + 1 :]),
    )


def sample_cursors(
    sources: Sequence[str], count: int, kind: str, seed: int = 0
) -> list[tuple[int, int, int]]:
    """(file index, line, column) of `count` cursors of `kind` (fewer if the files hold fewer),
    drawn uniformly from all cursors of all files with a seeded generator: a file contributes as
    it would to a day of editing. Only cursors with code left to type on their line."""
    positions = [
        (index, line, column)
        for index, source in enumerate(sources)
        for line, column in cursor_positions(source, kind)
    ]
    chosen = random.Random(seed).sample(positions, min(count, len(positions)))
    return [
        (index, line, column)
        for index, line, column in sorted(chosen)
        if cut_case(sources[index], line, column).target.strip()
    ]


def build_cases(sources: Sequence[str], count: int, kind: str, seed: int = 0) -> list[LineCase]:
    """The cases at `sample_cursors`: the same for every model and every harness."""
    return [
        cut_case(sources[index], line, column)
        for index, line, column in sample_cursors(sources, count, kind, seed)
    ]


def first_line(text: str) -> str:
    return text.split("\n", 1)[0]


def exact_match(prediction: str, target: str) -> bool:
    """Equal up to whitespace, as CodeXGLUE compares (whitespace-split tokens)."""
    return prediction.split() == target.split()


def edit_similarity(prediction: str, target: str) -> float:
    """0-100, fuzzywuzzy's `ratio` (difflib's matching-blocks similarity) as CodeXGLUE uses."""
    return 100.0 * difflib.SequenceMatcher(None, prediction.strip(), target.strip()).ratio()


@dataclass(frozen=True)
class Scores:
    cases: int
    exact_match: float  # %
    exact_match_se: float
    edit_similarity: float  # 0-100
    edit_similarity_se: float

    @classmethod
    def of(cls, predictions: Sequence[str], cases: Sequence[LineCase]) -> Scores:
        matches = [
            100.0 * exact_match(p, c.target) for p, c in zip(predictions, cases, strict=True)
        ]
        similarities = [
            edit_similarity(p, c.target) for p, c in zip(predictions, cases, strict=True)
        ]
        return cls(len(cases), mean(matches), standard_error(matches), mean(similarities),
                   standard_error(similarities))  # fmt: skip


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def standard_error(values: Sequence[float]) -> float:
    """The standard error of the mean (sample standard deviation / sqrt(n))."""
    n = len(values)
    if n < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1) / n)


def constant_baseline(cases: Sequence[LineCase]) -> str:
    """The most frequent target among `cases` (cut from training files: no test leakage)."""
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.target.strip()] = counts.get(case.target.strip(), 0) + 1
    return max(sorted(counts), key=counts.__getitem__, default="")
