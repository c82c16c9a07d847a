"""Post-processing: the raw model text becomes the suggestion through an ordered list of rules.

Each rule is a pure function `(text, EditContext) -> text` in a module of its own, with golden
cases in tests/test_postprocess.py. The order matters: cut to the scope first, then drop what is
repeated or already in the document, then tidy, then decide whether anything useful is left.
"""

from __future__ import annotations

from collections.abc import Callable

from server.postprocess.closing_brackets import drop_reclosed_brackets
from server.postprocess.context import EditContext
from server.postprocess.repeated_lines import drop_repeated_lines
from server.postprocess.scope import limit_scope
from server.postprocess.single_line import keep_first_line
from server.postprocess.suffix_overlap import drop_suffix_overlap
from server.postprocess.trim import trim
from server.postprocess.trivial import drop_trivial

Rule = Callable[[str, EditContext], str]

PIPELINE: tuple[Rule, ...] = (
    keep_first_line,
    limit_scope,
    drop_repeated_lines,
    drop_suffix_overlap,
    drop_reclosed_brackets,
    trim,
    drop_trivial,
)


def postprocess(text: str, ctx: EditContext) -> str:
    for rule in PIPELINE:
        text = rule(text, ctx)
    return text


__all__ = ["PIPELINE", "EditContext", "Rule", "postprocess"]
