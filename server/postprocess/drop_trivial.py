"""Rule: nothing worth showing becomes the empty suggestion.

Trivial means whitespace only, or punctuation alone with no bracket or quote (a lone `,` or `:`);
a lone `)` that closes the call under the cursor is useful and stays.
"""

from __future__ import annotations

from server.postprocess.context import EditContext

MEANINGFUL_PUNCTUATION = set("()[]{}'\"")


def drop_trivial(text: str, ctx: EditContext) -> str:
    content = text.strip()
    if not content:
        return ""
    if not any(char.isalnum() or char in MEANINGFUL_PUNCTUATION for char in content):
        return ""
    return text
