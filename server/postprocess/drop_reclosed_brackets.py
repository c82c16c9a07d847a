"""Rule: do not close brackets that the text after the cursor already closes.

`print(` + suggestion `"hi")` with `)` after the cursor would leave `print("hi"))`. Brackets inside
string literals are not told apart; at worst a closer stays.
"""

from __future__ import annotations

from server.postprocess.context import EditContext

PAIRS = {")": "(", "]": "[", "}": "{"}
OPENERS = set(PAIRS.values())


def _trailing_outer_closers(body: str) -> str:
    """The closers ending `body` that close brackets opened before it (`x))` -> `))`)."""
    opened: list[str] = []
    outer: set[int] = set()
    for index, char in enumerate(body):
        if char in OPENERS:
            opened.append(char)
        elif char in PAIRS:
            if opened and opened[-1] == PAIRS[char]:
                opened.pop()
            else:
                outer.add(index)
    start = len(body)
    while start - 1 in outer:
        start -= 1
    return body[start:]


def drop_reclosed_brackets(text: str, ctx: EditContext) -> str:
    body = text.rstrip()
    closers = _trailing_outer_closers(body)
    following = ctx.rest_of_line.lstrip()
    if closers and following.startswith(closers):
        return body[: -len(closers)]
    return text
