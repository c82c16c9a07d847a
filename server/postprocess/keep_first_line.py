"""Rule: in single-line mode keep only the first line that has content."""

from __future__ import annotations

from server.postprocess.context import EditContext


def keep_first_line(text: str, ctx: EditContext) -> str:
    """Cut at the first newline after some content; a leading newline (after `def f():`) stays."""
    if ctx.multiline:
        return text
    content = len(text) - len(text.lstrip())
    end = text.find("\n", content)
    return text if end < 0 else text[:end]
