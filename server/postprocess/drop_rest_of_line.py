"""Rule: drop the end of a suggestion that repeats the rest of the cursor's line.

`foo(` + `a, b)` with `, b)` after the cursor becomes `a`: the rest is there already.
"""

from __future__ import annotations

from server.postprocess.context import EditContext


def drop_rest_of_line(text: str, ctx: EditContext) -> str:
    rest = ctx.rest_of_line.strip()
    body = text.rstrip()
    if rest and body.endswith(rest) and len(body) > len(rest):
        return body[: -len(rest)]
    return text
