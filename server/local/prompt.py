"""The local model's prompt: prefix (and suffix for a FIM model) as token ids within the budget.

How much of the text fits, and where it is cut, is server/prompt_budget.py's rule (shared with
the remote engines); here the text becomes tokens. The last token boundary is healed (healing.py).

A FIM model gets the FIM layout only when there is a suffix to give it. Without one the prompt is
the prefix alone, a plain continuation (half the training documents are plain text): a FIM prompt
with an empty suffix says "the file ends here", and the model then opens a docstring or writes
nothing (stage 1 of models/default/README.md, held-out edit similarity at a statement start 25.4
that way against 28.2 with the prefix alone; mid-line 15.7 and 29.9).

Repository context (`context`, server/snippets.py's `format_context`, for a model trained with
it) goes before the prefix, inside `<fim_prefix>` for a FIM prompt, as in training. It comes on
top of the prefix's budget, within the window, and is tokenised together with the prefix, which
then starts at a line start, as a training window does, so the tokens at the seam are the ones
the model was trained on. While a line is typed the context and the prefix's start stay the same
(coarse cuts), so the key/value cache of the previous prompt is reused.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from server.fim import FimTokenIds
from server.local.healing import HealingIndex
from server.prompt_budget import FIM_TOKENS, coarse_cut, cut_prefix, suffix_share

# Generous characters per token, to cut a huge document before tokenising it.
MAX_CHARS_PER_TOKEN = 8
# Characters per token tried, in turn, when cutting the prefix that follows repository context:
# each gives a cut that stays put while the user types, the first that fits is taken.
CONTEXT_CUTS = (MAX_CHARS_PER_TOKEN, 5, 4, 3, 2, 1)


@dataclass(frozen=True)
class Prompt:
    ids: list[int]
    healed: str  # text backed off the prefix's end; the generation must begin with it


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
        # The context is the same for many requests in a row (server/retrieval.py keeps it):
        # its length is counted once, not three times a request.
        self.token_count = functools.lru_cache(maxsize=4)(lambda text: len(encode(text)))
        self._healing = healing
        self._fim = fim
        self._start_id = start_id

    def _prefix_ids(self, prefix: str, budget: int, context: str = "") -> list[int]:
        """The prefix's end within `budget` tokens, after `context` (whose tokens come on top)."""
        if context:
            limit = budget + self.token_count(context)
            for chars_per_token in CONTEXT_CUTS:
                ids = self._encode(context + cut_prefix(prefix, budget * chars_per_token))
                if len(ids) <= limit:
                    return ids
            return self._encode(context) + self._prefix_ids(prefix, budget)
        ids = self._encode(cut_prefix(prefix, budget * MAX_CHARS_PER_TOKEN))
        return ids[coarse_cut(len(ids), budget) :]

    def _suffix_ids(self, suffix: str, budget: int) -> list[int]:
        return self._encode(suffix[: budget * MAX_CHARS_PER_TOKEN])[:budget]

    def _heal(self, ids: list[int], heal: bool) -> tuple[list[int], str]:
        return self._healing.back_off(ids) if heal else (ids, "")

    def build(
        self,
        prefix: str,
        suffix: str,
        budget: int,
        heal: bool = True,
        context: str = "",
        room: int | None = None,
    ) -> Prompt:
        """A prompt of at most `budget` tokens (`heal=False`: the prompt as plainly tokenised),
        and `context` before the prefix, the whole within `room` tokens."""
        if context and room is not None:
            budget = min(budget, room - self.token_count(context))
        if self._fim is None or not suffix:
            ids, healed = self._heal(self._prefix_ids(prefix, budget, context), heal)
            return Prompt(ids or [self._start_id], healed)
        budget -= FIM_TOKENS
        suffix_ids = self._suffix_ids(suffix, suffix_share(budget))
        prefix_budget = budget - len(suffix_ids)
        prefix_ids, healed = self._heal(self._prefix_ids(prefix, prefix_budget, context), heal)
        fim = self._fim
        return Prompt([fim.prefix, *prefix_ids, fim.suffix, *suffix_ids, fim.middle], healed)
