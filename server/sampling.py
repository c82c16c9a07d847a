"""Choosing the next token from the model's logits: greedy, or temperature + nucleus (top_p)."""

from __future__ import annotations

import torch


def sample_token(
    logits: torch.Tensor,
    temperature: float,
    top_p: float,
    generator: torch.Generator | None = None,
) -> int:
    """Temperature 0 is greedy. Otherwise sample from the smallest set of most likely tokens
    whose probabilities add up to `top_p`."""
    if temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs >= top_p
        sorted_probs[outside] = 0.0
        probs = torch.zeros_like(probs).scatter_(0, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=generator))


def restrict(logits: torch.Tensor, allowed: tuple[int, ...]) -> torch.Tensor:
    """Logits where only the `allowed` ids can be chosen."""
    masked = torch.full_like(logits, float("-inf"))
    index = torch.tensor(allowed, device=logits.device)
    masked[index] = logits[index]
    return masked
