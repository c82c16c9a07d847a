"""Rule: no trailing whitespace on any line, no trailing blank lines, and no second space.

Leading text stays, except spaces that would follow a space the user already typed (`x = ` +
` 1` would give `x =  1`).
"""

from __future__ import annotations

from server.postprocess.context import EditContext


def trim(text: str, ctx: EditContext) -> str:
    if ctx.line_prefix.endswith((" ", "\t")) and ctx.line_prefix.strip():
        text = text.lstrip(" \t")
    lines = [line.rstrip() for line in text.split("\n")]
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return "\n".join(lines)
