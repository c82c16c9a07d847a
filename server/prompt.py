"""The prompt: prefix (and suffix for a FIM model) as token ids that fit the context window.

Truncation keeps the text nearest the cursor: the end of the prefix and the start of the suffix.
It drops in coarse steps (a quarter of the budget at a time) rather than exactly what overflows,
so that while the user types, consecutive prompts keep the same start and the key/value cache
of the previous prompt stays reusable (see kv_cache.py). The last token boundary is healed
(healing.py).

A FIM model gets the FIM layout only when there is a suffix to give it. Without one the prompt is
the prefix alone, a plain continuation (half the training documents are plain text): a FIM prompt
with an empty suffix says "the file ends here", and the model then opens a docstring or writes
nothing (held-out edit similarity at a statement start 25.4 that way, 28.2 with the prefix alone;
mid-line 15.7 and 29.9).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.fim import FimTokenIds
from server.healing import HealingIndex

# Generous characters per token, to cut a huge document before tokenising it.
MAX_CHARS_PER_TOKEN = 8
# For a FIM model: the share of the prompt budget the suffix may take, and a cap. In the
# prefix-suffix-middle order every keystroke changes the prefix, so the suffix after it is run
# again on each request: a short suffix (the next few lines) keeps that cheap.
SUFFIX_SHARE = 0.25
MAX_SUFFIX_TOKENS = 64


@dataclass(frozen=True)
class Prompt:
    ids: list[int]
    healed: str  # text backed off the prefix's end; the generation must begin with it


def coarse_cut(length: int, keep: int) -> int:
    """How many items to drop from the start so at most `keep` remain, rounded up to keep // 4."""
    excess = length - keep
    if excess <= 0:
        return 0
    step = max(keep // 4, 1)
    return -(-excess // step) * step


class PromptBuilder:
    def __init__(
        self,
        encode,
        healing: HealingIndex,
        fim: FimTokenIds | None,
        start_id: int,
    ) -> None:
        """`encode(text) -> ids` must treat special-token names in the text as plain text."""
        self._encode = encode
        self._healing = healing
        self._fim = fim
        self._start_id = start_id

    def _prefix_ids(self, prefix: str, budget: int) -> list[int]:
        start = coarse_cut(len(prefix), budget * MAX_CHARS_PER_TOKEN)
        if start:
            line_start = prefix.find("\n", start)
            start = line_start + 1 if line_start >= 0 else start
        ids = self._encode(prefix[start:])
        return ids[coarse_cut(len(ids), budget) :]

    def _suffix_ids(self, suffix: str, budget: int) -> list[int]:
        return self._encode(suffix[: budget * MAX_CHARS_PER_TOKEN])[:budget]

    def _heal(self, ids: list[int], heal: bool) -> tuple[list[int], str]:
        return self._healing.back_off(ids) if heal else (ids, "")

    def build(self, prefix: str, suffix: str, budget: int, heal: bool = True) -> Prompt:
        """A prompt of at most `budget` tokens (`heal=False`: the prompt as plainly tokenised)."""
        if self._fim is None or not suffix:
            ids, healed = self._heal(self._prefix_ids(prefix, budget), heal)
            return Prompt(ids or [self._start_id], healed)
        budget -= 3  # the three FIM tokens
        suffix_budget = min(int(budget * SUFFIX_SHARE), MAX_SUFFIX_TOKENS)
        suffix_ids = self._suffix_ids(suffix, suffix_budget)
        prefix_ids, healed = self._heal(self._prefix_ids(prefix, budget - len(suffix_ids)), heal)
        fim = self._fim
        return Prompt([fim.prefix, *prefix_ids, fim.suffix, *suffix_ids, fim.middle], healed)
