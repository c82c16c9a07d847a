"""Post-processing: the raw model text becomes the suggestion through an ordered list of rules.

Each rule is a pure function `(text, EditContext) -> text` in a module named after it, with
golden cases in tests/golden/<rule>.toml (whole documents, the cursor and the suggestion marked).
The order matters: cut to the scope first, then drop what is repeated or already in the
document, then tidy, then decide whether anything useful is left.
"""

from __future__ import annotations

from collections.abc import Callable

from server.postprocess.context import EditContext
from server.postprocess.drop_babble import drop_babble
from server.postprocess.drop_following_lines import drop_following_lines
from server.postprocess.drop_reclosed_brackets import drop_reclosed_brackets
from server.postprocess.drop_repeated_lines import drop_repeated_lines
from server.postprocess.drop_rest_of_line import drop_rest_of_line
from server.postprocess.drop_trivial import drop_trivial
from server.postprocess.keep_first_line import keep_first_line
from server.postprocess.limit_scope import limit_scope
from server.postprocess.trim import trim

Rule = Callable[[str, EditContext], str]

PIPELINE: tuple[Rule, ...] = (
    keep_first_line,
    limit_scope,
    drop_repeated_lines,
    drop_following_lines,
    drop_rest_of_line,
    drop_reclosed_brackets,
    trim,
    drop_babble,
    drop_trivial,
)


def postprocess(text: str, ctx: EditContext) -> str:
    for rule in PIPELINE:
        text = rule(text, ctx)
    return text


__all__ = ["PIPELINE", "EditContext", "Rule", "postprocess"]
