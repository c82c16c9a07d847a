"""Choosing the next token from the model's logits: greedy, or temperature + nucleus (top_p)."""

from __future__ import annotations

import torch

from training.model import filter_logits


def sample_token(
    logits: torch.Tensor,
    temperature: float,
    top_p: float,
    generator: torch.Generator | None = None,
) -> int:
    """Temperature 0 is greedy. Otherwise sample from the smallest set of most likely tokens
    whose probabilities add up to `top_p` (the same filter SimpleGPT.generate uses)."""
    if temperature <= 0:
        return int(torch.argmax(logits))
    nucleus = filter_logits(logits.float()[None] / temperature, top_k=None, top_p=top_p)
    probs = torch.softmax(nucleus, dim=-1)[0]
    return int(torch.multinomial(probs, 1, generator=generator))


def restrict(logits: torch.Tensor, allowed: tuple[int, ...]) -> torch.Tensor:
    """Logits where only the `allowed` ids can be chosen."""
    masked = torch.full_like(logits, float("-inf"))
    index = torch.tensor(allowed, device=logits.device)
    masked[index] = logits[index]
    return masked
