"""Reuse of the model's key/value cache from one request to the next.

A causal transformer's keys and values for token i depend only on tokens 0..i. Consecutive
completion requests share almost all of their prompt (the user typed a character or two), so we
keep the cache of the last sequence the model ran over, find the longest common token prefix
with the new prompt, crop the cache to it, and run only the tokens after it. Prefill, which
dominates latency on a CPU, shrinks from the whole prompt to a few tokens. Only the last
position's logits are computed (`logits_to_keep=1`): the others would be thrown away.
"""

from __future__ import annotations

import inspect

import torch


def common_prefix_length(a: list[int], b: list[int]) -> int:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


class PrefixKVCache:
    """The model plus the key/values of the last token sequence it ran over. Not thread-safe."""

    name = "huggingface"

    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        self._model = model
        self._device = device
        parameters = inspect.signature(model.forward).parameters
        # transformers 5 renamed `past_key_values` to `cache`; support both.
        self._cache_argument = "cache" if "cache" in parameters else "past_key_values"
        self._extra = {"logits_to_keep": 1} if "logits_to_keep" in parameters else {}
        self.ids: list[int] = []
        self._cache = None

    def reset(self) -> None:
        self.ids = []
        self._cache = None

    def prefill(self, prompt: list[int]) -> tuple[torch.Tensor, int]:
        """Run the prompt, reusing what is cached. Returns the next-token logits and how many
        prompt tokens were reused."""
        # At least one token must run to get logits for the next position.
        reused = min(common_prefix_length(self.ids, prompt), len(prompt) - 1)
        if reused == 0:
            self.reset()
        elif reused < len(self.ids):
            self._cache.crop(reused - len(self.ids))  # a negative count: remove that many
            self.ids = self.ids[:reused]
        return self._run(prompt[reused:]), reused

    def step(self, token: int) -> torch.Tensor:
        """Run one more token; the logits for the one after it."""
        return self._run([token])

    def extend(self, ids: list[int]) -> torch.Tensor:
        """Run `ids` after the cache in one pass; the logits after each (len(ids), vocab)."""
        return self._run(ids, every=True)

    @torch.inference_mode()
    def _run(self, ids: list[int], every: bool = False) -> torch.Tensor:
        input_ids = torch.tensor([ids], dtype=torch.long, device=self._device)
        try:
            output = self._model(
                input_ids=input_ids,
                use_cache=True,
                **{self._cache_argument: self._cache},
                **({} if every else self._extra),
            )
        except BaseException:
            self.reset()  # the cache may be half updated
            raise
        self._cache = getattr(output, self._cache_argument)
        self.ids.extend(ids)
        return output.logits[0].float() if every else output.logits[0, -1].float()
