"""Golden cases for each post-processing rule and for the whole pipeline.

A case is a document with the cursor marked `█`, the raw model text, and the expected result.
"""

from __future__ import annotations

import pytest

from server.postprocess import PIPELINE, EditContext, postprocess
from server.postprocess.closing_brackets import drop_reclosed_brackets
from server.postprocess.repeated_lines import drop_repeated_lines
from server.postprocess.scope import block_end, limit_scope
from server.postprocess.single_line import keep_first_line
from server.postprocess.suffix_overlap import drop_suffix_overlap
from server.postprocess.trim import trim
from server.postprocess.trivial import drop_trivial

CURSOR = "█"


def context(document: str, multiline: bool = False) -> EditContext:
    prefix, suffix = document.split(CURSOR)
    return EditContext(prefix, suffix, multiline)


GOLDEN = [
    # (rule, document, multiline, raw, expected)
    (keep_first_line, "x = █\n", False, "1\ny = 2\n", "1"),
    (keep_first_line, "def f():█\n", False, "\n    return 1\n    x", "\n    return 1"),
    (keep_first_line, "x = █\n", True, "1\ny = 2", "1\ny = 2"),
    (
        limit_scope,
        "def f():█\n",
        True,
        "\n    a = 1\n    return a\ndef g():\n",
        "\n    a = 1\n    return a",
    ),
    (limit_scope, "def f():\n    █\n", True, "a = 1\n    b = 2\nx = 3", "a = 1\n    b = 2"),
    (limit_scope, "class A:\n    █", True, "x = 1\n\n\n    y = 2", "x = 1"),
    (limit_scope, "class A:\n    █", True, "x = 1\n\n    y = 2", "x = 1\n\n    y = 2"),
    (limit_scope, "if a:\n    █", False, "x = 1\ny = 2", "x = 1\ny = 2"),
    (drop_repeated_lines, "def f():\n    █", True, "x = 1\n    x = 1\n    x = 1", "x = 1"),
    (drop_repeated_lines, "    x = 1\n    █", True, "x = 1\n    y = 2", ""),
    (drop_repeated_lines, "    █", True, "a = 1\n    b = 2", "a = 1\n    b = 2"),
    (drop_repeated_lines, "    )\n█", True, ")", ")"),
    (drop_suffix_overlap, "foo(█, b)\n", False, "a, b)", "a"),
    (drop_suffix_overlap, "def f():\n    █\n    return x\n", True, "x = 1\n    return x", "x = 1"),
    (
        drop_suffix_overlap,
        "def f():\n    █\n    return y\n",
        True,
        "x = 1\n    return x",
        "x = 1\n    return x",
    ),
    (drop_suffix_overlap, "x = █\n", False, "1", "1"),
    (drop_reclosed_brackets, "print(█)\n", False, '"hi")', '"hi"'),
    (drop_reclosed_brackets, "f(g(█))\n", False, "x))", "x"),
    (drop_reclosed_brackets, "f(█)\n", False, "g(x)", "g(x)"),
    (drop_reclosed_brackets, "f(█\n", False, "x)", "x)"),
    (drop_reclosed_brackets, "f(█)\n", False, "x).strip()", "x).strip()"),
    (trim, "x = █", True, "1  \n  \n\n", "1"),
    (trim, "def f():█", True, "\n    return 1 \n", "\n    return 1"),
    (trim, "x = █", False, "  1", "1"),
    (trim, "    █", False, "  x = 1", "  x = 1"),
    (drop_trivial, "x = f(a█", False, "   ", ""),
    (drop_trivial, "x = f(a█", False, ",", ""),
    (drop_trivial, "x = f(a█", False, ")", ")"),
    (drop_trivial, "x = █", False, "0", "0"),
]


@pytest.mark.parametrize(("rule", "document", "multiline", "raw", "expected"), GOLDEN)
def test_rule_golden(rule, document, multiline, raw, expected):
    assert rule(raw, context(document, multiline)) == expected


def test_every_rule_has_golden_cases():
    assert {rule for rule, *_ in GOLDEN} == set(PIPELINE)


def test_block_end_waits_for_the_indentation_of_a_line_being_written():
    ctx = context("def f():\n    █", multiline=True)
    assert block_end("x = 1\n", ctx) is None
    assert block_end("x = 1\n  ", ctx) is None  # could still become an indented line
    assert block_end("x = 1\nd", ctx) == len("x = 1")


PIPELINE_GOLDEN = [
    ("def add(a, b):\n    █\n", True, "return a + b\n\ndef sub(a, b):\n", "return a + b"),
    ("print(█)\n", False, '"hello")\nprint("again")', '"hello"'),
    ("x = [1, 2, █]\n", False, "3]  ", "3"),
    ("while True:\n    █\n", True, "pass\n    pass\n    pass\n", "pass"),
    ("x = █", False, "\n\n", ""),
]


@pytest.mark.parametrize(("document", "multiline", "raw", "expected"), PIPELINE_GOLDEN)
def test_pipeline_golden(document, multiline, raw, expected):
    assert postprocess(raw, context(document, multiline)) == expected
