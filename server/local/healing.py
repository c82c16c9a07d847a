"""Token healing: repair the prompt's last token boundary before generating.

Byte-level BPE merges a newline with the indentation after it, and a space with the word after
it. Training text `"):\n    return"` is tokenised `"):" "\n   " " return"`, but a prompt that ends
at the cursor in `"):\n    "` becomes `"):" "\n  " "  "`: a split the model never saw, so it
guesses badly. Healing backs off the prompt's last token(s) and makes the model regenerate that
text itself: the first generated tokens must agree with the removed text, so the model picks the
tokenisation it knows ("\n   " then " return"). The removed text is cut off the result again.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache

MAX_HEALED_TOKENS = 3


class HealingIndex:
    """Which prompt tokens to back off, and which tokens may regenerate the removed text."""

    def __init__(self, token_texts: Sequence[str], special_ids: frozenset[int]) -> None:
        self._token_texts = token_texts
        self._special_ids = special_ids
        usable = [
            (text, token_id)
            for token_id, text in enumerate(token_texts)
            if text and token_id not in special_ids
        ]
        usable.sort()
        self._sorted_texts = [text for text, _ in usable]
        self._sorted_ids = [token_id for _, token_id in usable]
        self._ids_by_text: dict[str, list[int]] = {}
        for text, token_id in usable:
            self._ids_by_text.setdefault(text, []).append(token_id)
        self.allowed = lru_cache(maxsize=512)(self._allowed)

    def _starts_a_token(self, text: str) -> bool:
        """Some token begins with `text` (a longer token could cross this boundary)."""
        index = bisect_left(self._sorted_texts, text)
        return index < len(self._sorted_texts) and self._sorted_texts[index].startswith(text)

    def back_off(self, ids: Sequence[int]) -> tuple[list[int], str]:
        """Drop the last token, then the tokens before it while the boundary may be artificial:
        the earlier token plus the removed text still begins some token (`" re" "t"` is the
        start of `" return"`), or the earlier token is whitespace (split indentation).

        Returns the shorter prompt and the removed text. Only ASCII text is healed: a token that
        is a piece of a multi-byte character cannot be matched by text, so healing stops there.
        """
        kept = list(ids)
        removed = ""
        while kept and len(kept) > len(ids) - MAX_HEALED_TOKENS:
            last = kept[-1]
            text = self._token_texts[last]
            if last in self._special_ids or not text or not text.isascii():
                break
            if removed and not (text.isspace() or self._starts_a_token(text + removed)):
                break
            removed = text + removed
            kept.pop()
        return kept, removed

    def _allowed(self, pending: str) -> tuple[int, ...]:
        """Ids of tokens that start with `pending`, or are a proper start of it."""
        start = bisect_left(self._sorted_texts, pending)
        end = start
        while end < len(self._sorted_texts) and self._sorted_texts[end].startswith(pending):
            end += 1
        allowed = list(self._sorted_ids[start:end])
        for length in range(1, len(pending)):
            allowed += self._ids_by_text.get(pending[:length], [])
        return tuple(sorted(allowed))


def still_pending(pending: str, token_text: str) -> str:
    """What remains of the removed text after generating a token with `token_text`."""
    return pending[len(token_text) :] if pending.startswith(token_text) else ""
