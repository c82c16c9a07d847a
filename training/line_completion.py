"""Line-completion cases in the CodeXGLUE style, cut from held-out functions, and their scores.

A case puts the cursor at the start of one line of a function body, after its indentation, as a
developer would stand before typing the next statement. The model sees everything before the
cursor (and, if it is a FIM model, everything after the line) and must write the rest of that
line. Lines are statement starts found with `ast`, so the cursor never sits inside a docstring
or halfway through a multi-line expression. Cases are a fixed function of the functions and the
seed: every model is scored on the same ones.
"""

from __future__ import annotations

import ast
import difflib
import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LineCase:
    prefix: str  # the function up to the cursor (ends with the line's indentation)
    target: str  # the rest of the line, without its newline
    suffix: str  # everything after the line, starting with its newline


def statement_lines(function: str) -> list[int]:
    """0-based numbers of the lines inside function bodies where a statement starts."""
    try:
        tree = ast.parse(function)
    except SyntaxError:
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
        and (isinstance(statement.value.value, str))
    )


def cut_case(function: str, line_number: int) -> LineCase:
    lines = function.split("\n")
    line = lines[line_number]
    indent = len(line) - len(line.lstrip())
    before = "".join(f"{text}\n" for text in lines[:line_number])
    return LineCase(
        prefix=before + line[:indent],
        target=line[indent:].rstrip(),
        suffix="\n" + "\n".join(lines[line_number + 1 :]),
    )


def build_cases(functions: Sequence[str], count: int, seed: int = 0) -> list[LineCase]:
    """Up to `count` cases, at most one per function, from a seeded shuffle of the functions."""
    rng = random.Random(seed)
    order = list(range(len(functions)))
    rng.shuffle(order)
    cases = []
    for index in order:
        candidates = statement_lines(functions[index])
        if candidates:
            cases.append(cut_case(functions[index], rng.choice(candidates)))
        if len(cases) == count:
            break
    return cases


def first_line(text: str) -> str:
    return text.split("\n", 1)[0]


def exact_match(prediction: str, target: str) -> bool:
    """Equal up to whitespace, as CodeXGLUE compares (whitespace-split tokens)."""
    return prediction.split() == target.split()


def edit_similarity(prediction: str, target: str) -> float:
    """0-100, fuzzywuzzy's `ratio` (difflib's matching-blocks similarity) as CodeXGLUE uses."""
    return 100.0 * difflib.SequenceMatcher(None, prediction.strip(), target.strip()).ratio()
