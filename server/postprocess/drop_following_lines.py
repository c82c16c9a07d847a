"""Rule: drop the end of a suggestion that repeats the lines already below the cursor."""

from __future__ import annotations

from server.postprocess.context import EditContext


def drop_following_lines(text: str, ctx: EditContext) -> str:
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
