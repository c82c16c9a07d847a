"""The generation loop: prompt in, raw continuation out (before post-processing).

One token at a time on top of `PrefixKVCache`, with healing constraints for the first tokens,
temperature / top_p sampling, stop tokens, a stop rule on the text, a loop detector, and a
cancellation check
between tokens so that a superseded request gives the model back quickly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from server.healing import MAX_HEALED_TOKENS, HealingIndex, still_pending
from server.kv_cache import PrefixKVCache
from server.prompt import Prompt
from server.repetition import repeated_tail
from server.sampling import restrict, sample_token


class Cancelled(Exception):
    """The request was cancelled or superseded while generating."""


@dataclass(frozen=True)
class GenerationSettings:
    temperature: float = 0.2
    top_p: float = 0.95
    max_new_tokens: int = 48
    multiline: bool = False  # False: stop at the end of the first line
    context_tokens: int | None = None  # prompt budget; None: as much as the model's window allows
    # Give a FIM model the code after the cursor. Post-processing always sees it either way.
    use_suffix: bool = True


@dataclass(frozen=True)
class Generated:
    text: str  # the continuation after the healed text
    prompt_tokens: int
    reused_tokens: int  # prompt tokens whose key/values came from the previous request
    new_tokens: int


class TokenGenerator:
    def __init__(
        self,
        kv_cache: PrefixKVCache,
        decode: Callable[[list[int]], str],
        token_texts: list[str],
        healing: HealingIndex,
        stop_ids: frozenset[int],
    ) -> None:
        self._kv = kv_cache
        self._decode = decode
        self._token_texts = token_texts
        self._healing = healing
        self._stop_ids = stop_ids

    def run(
        self,
        prompt: Prompt,
        settings: GenerationSettings,
        should_stop: Callable[[str], bool],
        cancelled: Callable[[], bool] | None = None,
        generator: torch.Generator | None = None,
    ) -> Generated:
        if cancelled and cancelled():
            raise Cancelled
        logits, reused = self._kv.prefill(prompt.ids)
        pending = prompt.healed
        output: list[int] = []
        text = ""
        limit = settings.max_new_tokens + (MAX_HEALED_TOKENS if prompt.healed else 0)
        for _ in range(limit):
            if cancelled and cancelled():
                raise Cancelled
            if pending:
                allowed = self._healing.allowed(pending)
                if not allowed:  # a vocabulary that cannot spell the healed text
                    break
                logits = restrict(logits, allowed)
            token = sample_token(logits, settings.temperature, settings.top_p, generator)
            if token in self._stop_ids:
                break
            output.append(token)
            pending = still_pending(pending, self._token_texts[token])
            if not pending:
                looping = repeated_tail(output)
                if looping:
                    del output[-looping:]
                text = self._decode(output)[len(prompt.healed) :]
                if looping or should_stop(text):
                    break
            logits = self._kv.step(token)
        return Generated(text, len(prompt.ids), reused, len(output))
