"""Rule: babble is never shown.

A small model that has lost the thread repeats phrases rather than tokens, inside a docstring or
a comment as much as in code: `\"\"\"Return a bimal number of a bimal number of a bimal / a ...`.
The token loop's `repeated_tail` catches a tail that repeats itself back to back; this catches a
phrase that comes back with other words in between, whichever decoder or engine wrote it. Code
seldom repeats three words in a row three times (`x.a.b.c` and `y.a.b.c` repeat only two words
twice). The suggestion is cut before the line where the repetition is reached, so the good
lines of a block stay; babble in the first line drops it whole.
"""

from __future__ import annotations

import re
from collections import Counter

from server.postprocess.context import EditContext

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# (phrase length in words, how often it may occur before the text counts as babble)
LIMITS = ((3, 2), (4, 1))


def drop_babble(text: str, ctx: EditContext) -> str:
    lines = text.split("\n")
    for end in range(1, len(lines) + 1):
        if babbles("\n".join(lines[:end])):
            return "\n".join(lines[: end - 1])
    return text


def babbles(text: str) -> bool:
    """Whether a phrase of `text` comes back more often than LIMITS allow."""
    words = WORD.findall(text)
    for length, allowed in LIMITS:
        phrases = Counter(tuple(words[i : i + length]) for i in range(len(words) - length + 1))
        if phrases and max(phrases.values()) > allowed:
            return True
    return False
