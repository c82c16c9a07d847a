"""Counters for `nanopilot.status`: requests, latency percentiles, cache hits, acceptances, and
which source won each answer."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


@dataclass
class ServerStats:
    requests: int = 0
    answered: int = 0
    cancelled: int = 0
    lru_hits: int = 0
    typing_hits: int = 0
    accepted: int = 0
    reused_tokens: int = 0
    prompt_tokens: int = 0
    generations: int = 0  # requests that ran the model to the end
    new_tokens: int = 0
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=2000))
    # who won each fresh answer: model, copy:<scope> or nothing (server/choice.py)
    sources: Counter = field(default_factory=Counter)

    def record_generation(self, prompt_tokens: int, reused_tokens: int, new_tokens: int) -> None:
        """A request that ran the model to the end."""
        self.prompt_tokens += prompt_tokens
        self.reused_tokens += reused_tokens
        self.generations += 1
        self.new_tokens += new_tokens

    def record(self, milliseconds: float) -> None:
        self.answered += 1
        self.latencies_ms.append(milliseconds)

    def summary(self) -> dict:
        latencies = list(self.latencies_ms)
        hits = self.lru_hits + self.typing_hits
        return {
            "requests": self.requests,
            "answered": self.answered,
            "cancelled": self.cancelled,
            "accepted": self.accepted,
            "latencyMsP50": percentile(latencies, 0.50),
            "latencyMsP95": percentile(latencies, 0.95),
            "cacheHitRate": hits / self.answered if self.answered else 0.0,
            "lruHits": self.lru_hits,
            "typingThroughHits": self.typing_hits,
            "kvReuseRate": self.reused_tokens / self.prompt_tokens if self.prompt_tokens else 0.0,
            "meanNewTokens": self.new_tokens / self.generations if self.generations else 0.0,
            "sources": dict(self.sources),
        }
