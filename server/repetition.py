"""Stop a loop: small models fall into repeating the same few tokens (`x, x, x, x, ...`).

A tail that repeats a short pattern three times in a row is cut back to its first occurrence, and
generation stops there instead of running to `maxNewTokens`.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_PERIOD = 8
REPEATS = 3


def repeated_tail(ids: Sequence[int]) -> int:
    """How many tokens at the end of `ids` repeat a pattern already there (0 when none)."""
    for period in range(1, MAX_PERIOD + 1):
        span = period * REPEATS
        if len(ids) < span:
            break
        tail = ids[-span:]
        if all(tail[i] == tail[i % period] for i in range(span)):
            return span - period
    return 0
