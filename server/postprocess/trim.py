"""Rule: no trailing whitespace on any line and no trailing blank lines (leading text stays)."""

from __future__ import annotations

from server.postprocess.context import EditContext


def trim(text: str, ctx: EditContext) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return "\n".join(lines)
