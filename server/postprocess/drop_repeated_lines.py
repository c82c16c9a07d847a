"""Rule: stop at a line that repeats the line before it (small models loop)."""

from __future__ import annotations

from server.postprocess.context import EditContext


def drop_repeated_lines(text: str, ctx: EditContext) -> str:
    """Cut before the first non-blank line equal to its predecessor (indentation included).

    The cursor's line counts with its prefix, and the line above the cursor is a predecessor too.
    """
    above = ctx.prefix[: len(ctx.prefix) - len(ctx.line_prefix)].rstrip("\n").rsplit("\n", 1)[-1]
    lines = (ctx.line_prefix + text).split("\n")
    previous = above.rstrip()
    offset = -len(ctx.line_prefix)  # offset in `text` of the current line's start
    for line in lines:
        if line.strip() and line.rstrip() == previous:
            return text[: max(offset - 1, 0)]
        previous = line.rstrip()
        offset += len(line) + 1
    return text
