"""Rule: a multi-line suggestion ends where the cursor's block ends.

That is the first line indented less than the block (a dedent), or a pair of blank lines. The same
test tells the generation loop when to stop early (`block_end` on the partial text).
"""

from __future__ import annotations

from server.postprocess.context import EditContext, indentation


def block_end(text: str, ctx: EditContext) -> int | None:
    """Where the cursor's block ends inside `text`, or None while it has not ended.

    Line 0 continues the cursor's line and never ends the block. A last line still being written
    counts only once it has content (its indentation is known then).
    """
    lines = text.split("\n")
    start = len(lines[0]) + 1  # offset of line 1
    for number in range(1, len(lines)):
        line = lines[number]
        if line.strip():
            if indentation(line) < ctx.block_indent:
                return start - 1
        elif number >= 2 and number < len(lines) - 1 and not lines[number - 1].strip():
            return start - len(lines[number - 1]) - 2
        start += len(line) + 1
    return None


def limit_scope(text: str, ctx: EditContext) -> str:
    if not ctx.multiline:
        return text
    end = block_end(text, ctx)
    return text if end is None else text[:end]
