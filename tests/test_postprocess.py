"""Golden cases for each post-processing rule and for the whole pipeline.

The cases live in tests/golden/<rule>.toml (pipeline.toml for `postprocess`): whole documents
with the suggestion between `├` and `┤` at the cursor, the model's raw text and the expected one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from server.postprocess import PIPELINE, EditContext, postprocess
from server.postprocess.limit_scope import block_end

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI (the dev extra installs it)
    import tomli as tomllib

GOLDEN = Path(__file__).parent / "golden"
OPEN, CLOSE = "├", "┤"
RULES = {rule.__name__: rule for rule in PIPELINE}


def split(document: str) -> tuple[str, str, str]:
    """(text before the suggestion, the suggestion, text after it)."""
    prefix, rest = document.split(OPEN)
    text, suffix = rest.split(CLOSE)
    return prefix, text, suffix


def golden_cases() -> list:
    cases = []
    for path in sorted(GOLDEN.glob("*.toml")):
        for number, case in enumerate(tomllib.loads(path.read_text(encoding="utf-8"))["case"]):
            cases.append(pytest.param(path.stem, case, id=f"{path.stem}-{number}"))
    return cases


@pytest.mark.parametrize(("name", "case"), golden_cases())
def test_golden(name, case):
    prefix, raw, suffix = split(case["raw"])
    expected_prefix, expected, expected_suffix = split(case["expected"])
    assert (expected_prefix, expected_suffix) == (prefix, suffix)  # only the suggestion changes
    ctx = EditContext(prefix, suffix, case["multiline"])
    rule = postprocess if name == "pipeline" else RULES[name]
    assert rule(raw, ctx) == expected


def test_every_rule_has_golden_cases():
    assert {path.stem for path in GOLDEN.glob("*.toml")} == {*RULES, "pipeline"}


def test_block_end_waits_for_the_indentation_of_a_line_being_written():
    ctx = EditContext("def f():\n    ", "", multiline=True)
    assert block_end("x = 1\n", ctx) is None
    assert block_end("x = 1\n  ", ctx) is None  # could still become an indented line
    assert block_end("x = 1\nd", ctx) == len("x = 1")
