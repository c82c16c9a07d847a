"""Rule: drop the end of a suggestion that repeats what already follows the cursor."""

from __future__ import annotations

from server.postprocess.context import EditContext


def _drop_repeated_following_lines(text: str, ctx: EditContext) -> str:
    """Cut at the first suggestion line from which on the lines match those below the cursor."""
    following = [line.rstrip() for line in ctx.following_lines if line.strip()]
    if not following:
        return text
    lines = text.split("\n")
    offset = len(lines[0]) + 1
    for number in range(1, len(lines)):
        rest = [line.rstrip() for line in lines[number:] if line.strip()]
        if rest and rest == following[: len(rest)]:
            return text[: offset - 1]
        offset += len(lines[number]) + 1
    return text


def _drop_rest_of_line(text: str, ctx: EditContext) -> str:
    """`foo(` + `a, b)` with `, b)` after the cursor becomes `a`: the rest is there already."""
    rest = ctx.rest_of_line.strip()
    body = text.rstrip()
    if rest and body.endswith(rest) and len(body) > len(rest):
        return body[: -len(rest)]
    return text


def drop_suffix_overlap(text: str, ctx: EditContext) -> str:
    return _drop_rest_of_line(_drop_repeated_following_lines(text, ctx), ctx)
